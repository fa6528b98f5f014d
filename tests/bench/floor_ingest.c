/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor_ingest: the machine's floor for bench_kube_ingest.py, the least
 * work that ingesting apiserver answers into LevelDB can cost: it parses
 * the very JSON edgesite was sent (saved to files by the script) with
 * cJSON, drops metadata.managedFields and prints each object back as
 * edgesite does, and writes it to a fresh LevelDB (no sync, as edgesite):
 * a list as one batch of every object plus the resume point, a watch as
 * one batch per event. No framing, no checksums, no change log, no
 * network. It reads its input into memory first and times only the work.
 *
 *   floor_ingest list DBDIR PAGE.json ...	one page per file, in order
 *   floor_ingest watch DBDIR EVENTS		one watch event per line
 *
 * Prints "objects N seconds S maxrss_kib K". Built by the script:
 *   cc -O2 floor_ingest.c $(pkg-config --cflags --libs libcjson) -lleveldb
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <leveldb/c.h>

/* One input file, read whole. */
struct input {
	char	*data;
	size_t	 len;
};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exits with a message. */
static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "floor_ingest: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	exit(1);
}

/* Reads path whole, NUL-terminated. */
static struct input
slurp(const char *path)
{
	struct input	 in;
	FILE		*f;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		die("cannot open", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	in.len = (size_t)n;
	if ((in.data = malloc(in.len + 1)) == NULL)
		die("out of memory", NULL);
	if (fread(in.data, 1, in.len, f) != in.len)
		die("cannot read", path);
	in.data[in.len] = '\0';
	fclose(f);
	return in;
}

/* A string member of obj.metadata, or NULL. */
static const char *
meta(const cJSON *obj, const char *name)
{
	const cJSON	*md, *v;

	md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	v = cJSON_GetObjectItemCaseSensitive(md, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Adds the object to the batch as edgesite would store it; returns 1, or
 * 0 when it has no name.
 */
static int
put_object(leveldb_writebatch_t *b, const char *resource, cJSON *obj,
    const char *kind, const char *apiv)
{
	const char	*name, *ns;
	char		 key[600], *text;

	if ((name = meta(obj, "name")) == NULL)
		return 0;
	ns = meta(obj, "namespace");
	cJSON_DeleteItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "managedFields");
	if (kind != NULL && cJSON_GetObjectItemCaseSensitive(obj, "kind") == NULL)
		cJSON_AddStringToObject(obj, "kind", kind);
	if (apiv != NULL &&
	    cJSON_GetObjectItemCaseSensitive(obj, "apiVersion") == NULL)
		cJSON_AddStringToObject(obj, "apiVersion", apiv);
	if ((text = cJSON_PrintUnformatted(obj)) == NULL)
		die("out of memory", NULL);
	snprintf(key, sizeof(key), "o/%s/%s/%s", resource, ns ? ns : "", name);
	leveldb_writebatch_put(b, key, strlen(key), text, strlen(text));
	free(text);
	return 1;
}

/* Commits a batch; exits on error. */
static void
commit(leveldb_t *db, leveldb_writeoptions_t *wo, leveldb_writebatch_t *b)
{
	char	*err = NULL;

	leveldb_write(db, wo, b, &err);
	if (err != NULL)
		die("leveldb write", err);
}

/* The pages of a list: every object and the last resourceVersion. */
static long
ingest_list(leveldb_t *db, leveldb_writeoptions_t *wo, struct input *pages,
    int npages)
{
	leveldb_writebatch_t	*b = leveldb_writebatch_create();
	cJSON			*root, *item;
	const char		*rv = NULL, *lk;
	char			 kind[64], *lastrv = NULL;
	long			 n = 0;
	int			 i;

	for (i = 0; i < npages; i++) {
		root = cJSON_ParseWithLength(pages[i].data, pages[i].len);
		if (root == NULL)
			die("bad JSON in a page", NULL);
		kind[0] = '\0';
		lk = cJSON_GetStringValue(cJSON_GetObjectItem(root, "kind"));
		if (lk != NULL && strlen(lk) > 4 && strlen(lk) < sizeof(kind))
			snprintf(kind, sizeof(kind), "%.*s",
			    (int)(strlen(lk) - 4), lk);
		cJSON_ArrayForEach(item, cJSON_GetObjectItem(root, "items"))
			n += put_object(b, "services", item, kind,
			    cJSON_GetStringValue(cJSON_GetObjectItem(root,
			    "apiVersion")));
		rv = meta(root, "resourceVersion");
		free(lastrv);
		lastrv = rv != NULL ? strdup(rv) : NULL;
		cJSON_Delete(root);
	}
	if (lastrv != NULL)
		leveldb_writebatch_put(b, "v/services", 10, lastrv,
		    strlen(lastrv));
	commit(db, wo, b);
	leveldb_writebatch_destroy(b);
	free(lastrv);
	return n;
}

/* Watch events, one per line: one batch each, object and resume point. */
static long
ingest_watch(leveldb_t *db, leveldb_writeoptions_t *wo, struct input *in)
{
	leveldb_writebatch_t	*b;
	cJSON			*root, *obj;
	const char		*type, *rv, *line = in->data;
	size_t			 len;
	long			 n = 0;

	b = leveldb_writebatch_create();
	while (*line != '\0') {
		len = strcspn(line, "\n");
		root = cJSON_ParseWithLength(line, len);
		line += len;
		if (*line == '\n')
			line++;
		if (root == NULL)
			continue;
		type = cJSON_GetStringValue(cJSON_GetObjectItem(root, "type"));
		obj = cJSON_GetObjectItem(root, "object");
		rv = meta(obj, "resourceVersion");
		if (type != NULL && rv != NULL && (strcmp(type, "ADDED") == 0 ||
		    strcmp(type, "MODIFIED") == 0)) {
			leveldb_writebatch_clear(b);
			n += put_object(b, "services", obj, NULL, NULL);
			leveldb_writebatch_put(b, "v/services", 10, rv,
			    strlen(rv));
			commit(db, wo, b);
		}
		cJSON_Delete(root);
	}
	leveldb_writebatch_destroy(b);
	return n;
}

int
main(int argc, char *argv[])
{
	leveldb_options_t	*opts;
	leveldb_writeoptions_t	*wo;
	leveldb_t		*db;
	struct input		*in;
	struct rusage		 ru;
	char			*err = NULL;
	double			 t0, t1;
	long			 n;
	int			 i, nin;

	if (argc < 4 || (strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "watch") != 0))
		die("usage: floor_ingest list|watch DBDIR FILE ...", NULL);
	nin = argc - 3;
	if ((in = calloc((size_t)nin, sizeof(*in))) == NULL)
		die("out of memory", NULL);
	for (i = 0; i < nin; i++)
		in[i] = slurp(argv[3 + i]);
	opts = leveldb_options_create();
	leveldb_options_set_create_if_missing(opts, 1);
	if ((db = leveldb_open(opts, argv[2], &err)) == NULL)
		die("leveldb open", err);
	wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(wo, 0);

	t0 = now();
	if (strcmp(argv[1], "list") == 0)
		n = ingest_list(db, wo, in, nin);
	else
		n = ingest_watch(db, wo, &in[0]);
	t1 = now();

	leveldb_close(db);
	getrusage(RUSAGE_SELF, &ru);
	printf("objects %ld seconds %.6f maxrss_kib %ld\n", n, t1 - t0,
	    ru.ru_maxrss);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(opts);
	for (i = 0; i < nin; i++)
		free(in[i].data);
	free(in);
	return 0;
}
