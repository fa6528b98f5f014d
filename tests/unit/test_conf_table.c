/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The option table against its documents: no path or alias twice, sane
 * rows, every key described in man/edgeSite.yaml.5 (and nothing else), and
 * conf/edgeSite.yaml setting every key to its default, byte for byte what
 * conf_write_sample writes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "unit.h"

/* Reads a whole file into a new string, NULL on failure. */
static char *
test_read(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = calloc(1, len + 1);
	if (fread(buf, 1, len, fp) != (size_t)len)
		buf[0] = '\0';
	fclose(fp);
	return buf;
}

/* The name a row has in the man page: its path, ".*" for a subtree. */
static void
test_man_name(const struct conf_option *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", o->path,
	    o->flags & CONF_F_PREFIX ? ".*" : "");
}

static void
test_unique(void)
{
	const struct conf_option	*a, *b;
	const char			*an[2], *bn[2];
	int				 i, k, dup = 0;

	for (a = conf_table; a < conf_table + conf_table_len; a++) {
		an[0] = a->path;
		an[1] = a->alias;
		for (b = a; b < conf_table + conf_table_len; b++) {
			bn[0] = b->path;
			bn[1] = b->alias;
			for (i = 0; i < 2; i++)
				for (k = 0; k < 2; k++) {
					if (a == b && i >= k)
						continue;
					if (an[i] != NULL && bn[k] != NULL &&
					    strcmp(an[i], bn[k]) == 0) {
						fprintf(stderr, "twice: %s\n",
						    an[i]);
						dup++;
					}
				}
		}
	}
	CHECK(dup == 0);
}

static void
test_rows(void)
{
	const struct conf_option	*o;
	struct conf			*c;

	CHECK(conf_table_len > 40);
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		CHECK(o->help != NULL && *o->help != '\0');
		CHECK(conf_find(o->path) == o);
		if (o->alias != NULL)
			CHECK(conf_find(o->alias) == o);
		if (o->type == CONF_T_IGNORED)
			continue;
		CHECK(strchr(o->path, '.') != NULL);
		CHECK(o->def != NULL);
		CHECK((o->flags & CONF_F_PREFIX) == 0);
		if (o->type == CONF_T_ENUM || o->type == CONF_T_URL ||
		    o->type == CONF_T_URLLIST)
			CHECK(o->enums != NULL);
		if (o->type == CONF_T_INT || o->type == CONF_T_DURATION)
			CHECK(o->min <= o->max);
	}
	/* every default parses (conf_defaults aborts otherwise) */
	c = conf_defaults();
	CHECK(c != NULL);
	conf_free(c);
}

/* Whether the man page has ".It Ic name" as a whole word. */
static const char *
test_man_item(const char *man, const char *name)
{
	const char	*p = man;
	size_t		 len = strlen(name);

	while ((p = strstr(p, "\n.It Ic ")) != NULL) {
		p += 8;
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ' ' || p[len] == '\n'))
			return p + len;
	}
	return NULL;
}

static void
test_man(void)
{
	const struct conf_option	*o;
	char				*man, name[256], *body, *end;
	const char			*p, *q;
	size_t				 n = 0, len;
	int				 found;

	man = test_read(unit_srcpath("man/edgeSite.yaml.5"));
	CHECK(man != NULL);
	if (man == NULL)
		return;
	/* every row is an item, and the item names its default */
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		test_man_name(o, name, sizeof(name));
		if ((p = test_man_item(man, name)) == NULL) {
			fprintf(stderr, "man page lacks %s\n", name);
			CHECK(0);
			continue;
		}
		n++;
		if (o->type == CONF_T_IGNORED || *o->def == '\0')
			continue;
		q = strstr(p, "\n.It ");
		end = strstr(p, "\n.El");
		len = q != NULL && q < end ? (size_t)(q - p) : (size_t)(end - p);
		body = strndup(p, len);
		if (strstr(body, o->def) == NULL)
			fprintf(stderr, "man page: %s lacks default %s\n",
			    o->path, o->def);
		CHECK(strstr(body, o->def) != NULL);
		free(body);
	}
	CHECK(n == conf_table_len);
	/* every item is a row */
	for (p = man; (p = strstr(p, "\n.It Ic ")) != NULL; ) {
		p += 8;
		len = strcspn(p, " \n");
		found = 0;
		for (o = conf_table; o < conf_table + conf_table_len; o++) {
			test_man_name(o, name, sizeof(name));
			if (strlen(name) == len && strncmp(name, p, len) == 0)
				found = 1;
		}
		if (!found)
			fprintf(stderr, "man page item %.*s is no option\n",
			    (int)len, p);
		CHECK(found);
	}
	free(man);
}

static void
test_diff_cb(const struct conf_option *o, const char *was, const char *now,
    void *arg)
{
	fprintf(stderr, "sample: %s is %s, default %s\n", o->path, now, was);
	(*(int *)arg)++;
}

static void
test_sample(void)
{
	const struct conf_option	*o;
	struct conf_msgs		 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf			*c, *d;
	char				*file, *gen = NULL;
	size_t				 len;
	FILE				*fp;
	int				 ndiff = 0;

	c = conf_load(unit_srcpath("conf/edgeSite.yaml"), &errs, &warns);
	CHECK(c != NULL && errs.n == 0 && warns.n == 0);
	conf_msgs_clear(&errs);
	conf_msgs_clear(&warns);
	if (c == NULL)
		return;
	/* every key is written, with its default */
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		if (o->type == CONF_T_IGNORED)
			continue;
		if (conf_line(c, o) == 0)
			fprintf(stderr, "sample lacks %s\n", o->path);
		CHECK(conf_line(c, o) != 0);
	}
	d = conf_defaults();
	conf_diff(d, c, test_diff_cb, &ndiff);
	CHECK(ndiff == 0);
	conf_free(d);
	conf_free(c);

	/* and it is what conf_write_sample writes */
	file = test_read(unit_srcpath("conf/edgeSite.yaml"));
	fp = open_memstream(&gen, &len);
	conf_write_sample(fp);
	fclose(fp);
	CHECK(file != NULL);
	if (file != NULL)
		CHECK(strcmp(file, gen) == 0);
	free(file);
	free(gen);
}

int
main(void)
{
	unit_init();
	test_unique();
	test_rows();
	test_man();
	test_sample();
	return unit_done();
}
