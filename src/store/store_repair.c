/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repair command (store_repair.h). The store is counted per key family
 * before the repair when it still opens, LevelDB's repair runs
 * (store_salvage) and its own account is echoed from store/LOG, values
 * that fail their check are deleted, and the store is counted again. The
 * resume points (v/) are deleted so that every reflector lists again:
 * what the apiserver owns comes back and what it no longer has goes. What
 * only this node had is reported family by family as kept or lost; what
 * could not be counted is said so, never left out.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_keys.h"
#include "store/store_lock.h"
#include "store/store_repair.h"
#include "store/store_wal.h"

/* Lines of LevelDB's repair log echoed at most. */
#define STORE_REPAIR_LOG_LINES	200

/* A key family as the report names it; node: only this node had it. */
struct store_repair_family {
	const char	*prefix;
	const char	*what;
	int		 node;
};

static const struct store_repair_family store_repair_families[] = {
	{ STORE_KEY_OBJECT, "objects (the relist restores them)", 0 },
	{ STORE_KEY_VERSION, "reflector resume points", 0 },
	{ STORE_KEY_STATIC, "static pods", 1 },
	{ STORE_KEY_POD_STATUS, "pod status", 1 },
	{ STORE_KEY_TWIN, "device twin state", 1 },
	{ STORE_KEY_OUTBOX, "outbox (upstream writes not yet sent)", 1 },
	{ STORE_KEY_MQTT_RETAIN, "retained MQTT messages", 1 },
	{ STORE_KEY_MQTT_SESSION, "MQTT persistent sessions", 1 },
	{ STORE_KEY_MQTT_MSG, "queued MQTT messages", 1 },
	{ STORE_KEY_LOG, "change log entries (restarted)", 0 },
};
#define STORE_REPAIR_NFAM \
	(sizeof(store_repair_families) / sizeof(store_repair_families[0]))

/* Keys per family (and the rest) of one count. */
struct store_repair_count {
	uint64_t	n[STORE_REPAIR_NFAM + 1];
	int		ok;		/* the count is complete */
	int		tell;		/* names the keys of no family */
};

/* The family of a key; STORE_REPAIR_NFAM for the rest. */
static size_t
store_repair_family_of(const char *key)
{
	size_t	i;

	for (i = 0; i < STORE_REPAIR_NFAM; i++)
		if (strncmp(key, store_repair_families[i].prefix,
		    strlen(store_repair_families[i].prefix)) == 0)
			break;
	return i;
}

static int
store_repair_count_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	struct store_repair_count	*c = arg;
	size_t				 f = store_repair_family_of(key);
	char				 ek[256];

	(void)val;
	(void)len;
	c->n[f]++;
	/* the store's own keys aside, a key of no family is damaged */
	if (c->tell && f == STORE_REPAIR_NFAM &&
	    strcmp(key, STORE_KEY_REVISION) != 0 &&
	    strcmp(key, STORE_KEY_LOG_FIRST) != 0)
		log_warnx("repair: %s: a key of no family, damaged or "
		    "unknown: left in place", log_escape(key, strlen(key), ek,
		    sizeof(ek)));
	return 0;
}

/* Counts an open store; a scan stopped by damage leaves c->ok 0. */
static void
store_repair_count(struct store *s, struct store_repair_count *c, int tell)
{
	memset(c, 0, sizeof(*c));
	c->tell = tell;
	c->ok = store_scan(s, "", store_repair_count_cb, c) == 0;
}

/* The store before: counted when it opens, else said why not. */
static void
store_repair_before(const char *dir, struct store_repair_count *c)
{
	struct store	*s;
	const char	*errstr;

	memset(c, 0, sizeof(*c));
	if ((s = store_open(NULL, dir, &errstr)) == NULL) {
		log_warnx("repair: before: %s", errstr);
		log_warnx("repair: before: the store does not open, so what it "
		    "held cannot be counted; LevelDB's account below says "
		    "what it dropped");
		return;
	}
	store_repair_count(s, c, 0);
	if (!c->ok)
		log_warnx("repair: before: the scan stopped at damage: what "
		    "lies past it cannot be counted");
	store_close(s);
}

/* Echoes LevelDB's account of the repair (store/LOG) without timestamps. */
static void
store_repair_echo(const char *dir)
{
	FILE	*f;
	char	*path, line[1024], *msg;
	size_t	 n = 0;

	xasprintf(&path, "%s/store/LOG", dir);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("repair: %s", path);
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL &&
	    n++ < STORE_REPAIR_LOG_LINES) {
		line[strcspn(line, "\n")] = '\0';
		/* "2026/12/07-23:34:00.123456 7f01 message" */
		msg = strchr(line, ' ');
		msg = msg != NULL ? strchr(msg + 1, ' ') : NULL;
		log_info("repair: leveldb: %s", msg != NULL ? msg + 1 : line);
	}
	fclose(f);
	free(path);
}

/* LevelDB's logs: *.log in file number order, as it wrote them. */
static int
store_repair_log_filter(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return len > 4 && strcmp(de->d_name + len - 4, ".log") == 0;
}

/*
 * Reads every log before LevelDB's repair archives them: the keys that
 * damaged records write, which the repair would bring back unverified.
 */
static struct store_wal *
store_repair_logs(const char *dir)
{
	struct store_wal	*w;
	struct dirent		**de;
	char			*dbdir, *path;
	int			 i, n;

	w = store_wal_new();
	xasprintf(&dbdir, "%s/store", dir);
	if ((n = scandir(dbdir, &de, store_repair_log_filter,
	    versionsort)) == -1) {
		log_warn("repair: %s", dbdir);
		free(dbdir);
		return w;
	}
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dbdir, de[i]->d_name);
		if (store_wal_read(w, path) == -1)
			log_warn("repair: %s: cannot be checked", path);
		free(path);
		free(de[i]);
	}
	free(de);
	free(dbdir);
	if (store_wal_damaged(w) > 0)
		log_warnx("repair: %zu records of LevelDB's log fail their "
		    "checksum (LevelDB's repair would keep them): the keys "
		    "they write are deleted", store_wal_damaged(w));
	if (store_wal_unnamed(w) > 0)
		log_warnx("repair: %zu of them could not be read to the end: "
		    "what else they wrote cannot be named",
		    store_wal_unnamed(w));
	return w;
}

/* A key a damaged log record wrote: deleted unless the store's own. */
static void
store_repair_suspect_cb(const char *key, size_t keylen, void *arg)
{
	struct store_batch	*b = arg;
	char			 ek[256];

	log_escape(key, keylen, ek, sizeof(ek));
	if (strlen(key) != keylen || strcmp(key, STORE_KEY_REVISION) == 0 ||
	    strcmp(key, STORE_KEY_LOG_FIRST) == 0 || strncmp(key,
	    STORE_KEY_LOG, strlen(STORE_KEY_LOG)) == 0) {
		log_warnx("repair: %s: written by a damaged log record, left "
		    "(the store's own, or not a key edgesite writes)", ek);
		return;
	}
	log_warnx("repair: %s: written by a damaged log record, deleted", ek);
	store_batch_delete(b, key);
}

/* Deletes the keys damaged log records wrote, in one batch. */
static int
store_repair_suspects(struct store *s, const struct store_wal *w)
{
	struct store_batch	*b;

	b = store_batch_new(s);
	store_wal_each(w, store_repair_suspect_cb, b);
	return store_batch_commit(b);
}

/* What the rebuild left behind: a damaged value, or damaged blocks. */
static void
store_repair_damaged_cb(const char *key, size_t keylen, const char *why,
    void *arg)
{
	uint64_t	*n = arg;
	char		 ek[256];

	if (key == NULL) {
		log_warnx("repair: blocks that fail their checksum were left "
		    "behind (%s): the entries in them cannot be named; the "
		    "counts below tell how many", why);
		return;
	}
	(*n)++;
	log_warnx("repair: %s: damaged value (%s), left behind",
	    log_escape(key, keylen, ek, sizeof(ek)), why);
}

/* Adds a delete of each resume point to the batch. */
static int
store_repair_version_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	(void)val;
	(void)len;
	store_batch_delete(arg, key);
	return 0;
}

/* Deletes every resume point in one batch: each reflector lists again. */
static int
store_repair_relist(struct store *s)
{
	struct store_batch	*b;

	b = store_batch_new(s);
	if (store_scan(s, STORE_KEY_VERSION, store_repair_version_cb,
	    b) == -1) {
		store_batch_free(b);
		return -1;
	}
	return store_batch_commit(b);
}

/* One line per family: before, after, and what that means. */
static void
store_repair_report(const struct store_repair_count *was,
    const struct store_repair_count *now)
{
	const struct store_repair_family	*f;
	size_t					 i;
	uint64_t				 b, a;

	for (i = 0; i <= STORE_REPAIR_NFAM; i++) {
		f = i < STORE_REPAIR_NFAM ? &store_repair_families[i] : NULL;
		b = was->n[i];
		a = now->n[i];
		if (!was->ok)
			log_info("repair: %s: %" PRIu64 " kept; how many there "
			    "were before cannot be counted%s", f != NULL ?
			    f->what : "other keys", a, f != NULL && f->node ?
			    " (only this node had them: any missing are lost)" :
			    "");
		else if (b > a && f != NULL && f->node)
			log_warnx("repair: %s: %" PRIu64 " of %" PRIu64 " lost "
			    "(only this node had them), %" PRIu64 " kept",
			    f->what, b - a, b, a);
		else if (b > a)
			log_warnx("repair: %s: %" PRIu64 " of %" PRIu64
			    " lost, %" PRIu64 " kept", f != NULL ? f->what :
			    "other keys", b - a, b, a);
		else
			log_info("repair: %s: %" PRIu64 " kept, none lost",
			    f != NULL ? f->what : "other keys", a);
	}
}

int
store_repair(const char *dir)
{
	struct store_repair_count	 was, now;
	struct store_wal		*w;
	struct store			*s;
	struct stat			 sb;
	const char			*errstr;
	char				*dbdir, *aside = NULL;
	uint64_t			 damaged = 0, rev = 0;
	size_t				 v;
	int				 fd, rc = -1;

	xasprintf(&dbdir, "%s/store", dir);
	if (stat(dbdir, &sb) == -1) {
		log_warnx("repair: %s: %s: nothing to repair", dbdir,
		    strerror(errno));
		free(dbdir);
		return -1;
	}
	log_info("repair: store in %s", dbdir);
	free(dbdir);
	/* each step takes the lock again; a running edgesite stops it here */
	if ((fd = store_lock_take(dir, &errstr)) == -1) {
		log_warnx("repair: %s", errstr);
		return -1;
	}
	store_lock_release(fd);
	store_repair_before(dir, &was);
	w = store_repair_logs(dir);
	if (store_salvage(dir, &errstr) == -1) {
		log_warnx("repair: %s", errstr);
		store_wal_free(w);
		return -1;
	}
	store_repair_echo(dir);
	if (store_salvage_values(dir, store_repair_damaged_cb, &damaged, &rev,
	    &aside, &errstr) == -1) {
		log_warnx("repair: %s", errstr);
		free(aside);
		store_wal_free(w);
		return -1;
	}
	log_info("repair: what reads clean was copied into a new store; the "
	    "old files are kept in %s (remove it once satisfied)", aside);
	free(aside);
	log_info("repair: %" PRIu64 " damaged values left behind; local "
	    "revision now %" PRIu64 ", the change log starts there (local API "
	    "readers list again)", damaged, rev);
	if ((s = store_open(NULL, dir, &errstr)) == NULL) {
		log_warnx("repair: after: %s", errstr);
		store_wal_free(w);
		return -1;
	}
	if (store_repair_suspects(s, w) == -1)
		log_warnx("repair: the keys of damaged log records could not "
		    "be deleted");
	store_wal_free(w);
	store_repair_count(s, &now, 1);
	if (!now.ok)
		log_warnx("repair: after: the scan failed: the store is still "
		    "damaged");
	else {
		store_repair_report(&was, &now);
		v = store_repair_family_of(STORE_KEY_VERSION);
		if (store_repair_relist(s) == 0) {
			log_info("repair: %" PRIu64 " resume points deleted: "
			    "every reflector lists again at the next start",
			    now.n[v]);
			rc = 0;
		}
	}
	store_close(s);
	log_info("repair: %s", rc == 0 ? "done" : "failed");
	return rc;
}
