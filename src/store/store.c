/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: the LevelDB adapter (the only file that uses leveldb/c.h;
 * core/version.c includes it only to print the version).
 * It owns the database handle, the state directory lock, the local revision
 * counter, the change log and the change subscriptions, the syncs that
 * make acknowledged batches durable (one per loop turn) and the sync
 * watches, the free space kept for LevelDB and the reopen after a failed
 * write, and the snapshots read over many loop turns. Every write is a
 * batch that also carries the bumped revision, each value sealed with it,
 * and the batch's entries in the change log (store.h; its keys, and every
 * other family's, in store_keys.h); after a successful write the batch's
 * changes are queued and delivered to matching subscribers on a later
 * loop turn, never from inside the commit. Every
 * value is framed (store_value.c) and verified on read; a damaged value is
 * logged, counted and treated as absent. A known gap: LevelDB closes its
 * old log file without syncing it when it switches to a new one, so a
 * sync right after a switch does not cover the batches in the old log
 * until they are compacted into a table (HACKING.md, "Durability").
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <leveldb/c.h>

#include "core/clock.h"
#include "core/health.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_damage.h"
#include "store/store_lock.h"
#include "store/store_value.h"

/* LevelDB block cache: enough for a small node's working set. */
#define STORE_CACHE_SIZE	(8u * 1024 * 1024)
/*
 * Free space a write leaves on the store's filesystem: LevelDB's memtable
 * flush and compactions need it (edgesite.8, "Durability").
 */
#define STORE_RESERVE		(4u * 1024 * 1024)
/* Sub-directory of the state directory holding the LevelDB files. */
#define STORE_DB_DIR		"store"

/* One put (buf is the framed value) or delete (buf is NULL). */
struct store_op {
	char			*key;
	char			*buf;
	size_t			 buflen;
	enum store_change_type	 type;
	int			 logged;	/* goes in the change log */
	char			*old;		/* a deleted object's value */
	size_t			 oldlen;
};

struct store_batch {
	struct store	*s;
	struct store_op	*ops;
	size_t		 nops;
	size_t		 cap;
	int		 refused;	/* a put was refused */
};

/* A committed batch waiting for delivery to the subscribers. */
struct store_pending {
	uint64_t		 revision;
	struct store_op		*ops;
	size_t			 nops;
	TAILQ_ENTRY(store_pending) entry;
};
TAILQ_HEAD(store_pendings, store_pending);

struct store_sub {
	struct store		*s;
	char			*prefix;
	size_t			 plen;
	store_change_cb		 cb;
	void			*arg;
	uint64_t		 since;	/* sees only later revisions */
	int			 dead;
	TAILQ_ENTRY(store_sub)	 entry;
};
TAILQ_HEAD(store_subs, store_sub);

/* A read view of the store as one revision left it (store.h). */
struct store_snap {
	struct store			*s;	/* NULL once the store closed */
	const leveldb_snapshot_t	*snap;
	leveldb_readoptions_t		*ro;
	uint64_t			 revision;
	TAILQ_ENTRY(store_snap)		 entry;
};
TAILQ_HEAD(store_snaps, store_snap);

struct store_sync_watch {
	struct store		*s;
	store_synced_cb		 cb;
	void			*arg;
	int			 dead;
	TAILQ_ENTRY(store_sync_watch) entry;
};
TAILQ_HEAD(store_sync_watches, store_sync_watch);

struct store {
	struct event_base	*base;
	char			*dir;
	char			*dbdir;
	int			 lockfd;

	leveldb_t		*db;
	leveldb_options_t	*opts;
	leveldb_cache_t		*cache;
	leveldb_readoptions_t	*ropts;
	leveldb_writeoptions_t	*wopts;

	uint64_t		 revision;
	uint64_t		 synced;	/* revision made durable */
	int			 degraded;	/* the last write failed */
	int			 torn;		/* LevelDB failed a write */
	uint64_t		 failed_run;	/* failures since the last ok */
	uint64_t		 log_first;	/* change log complete after */
	int			 log_saved;	/* log_first is in the store */
	struct store_stats	 stats;
	struct store_damage	 damage;	/* found while running */

	struct event		*ev_notify;
	struct store_pendings	 pending;
	struct store_subs	 subs;
	struct store_snaps	 snaps;
	struct event		*ev_sync;
	struct store_sync_watches watches;
	int			 dispatching;
	int			 closed;	/* closed from a callback */
};

static char	store_err[2048];

static void	store_free(struct store *);
static void	store_notify_cb(evutil_socket_t, short, void *);
static void	store_snaps_release(struct store *);
static void	store_sync_cb(evutil_socket_t, short, void *);

/* Fills the static error buffer and points *errstr at it. */
static void __attribute__((format(printf, 2, 3)))
store_fail(const char **errstr, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(store_err, sizeof(store_err), fmt, ap);
	va_end(ap);
	*errstr = store_err;
}

/*
 * Logs a LevelDB error once, counts it and frees LevelDB's text; a
 * corruption is logged once per damaged file and degrades the store.
 */
static void
store_error(struct store *s, const char *what, const char *key, char *err)
{
	char	ek[256];

	s->stats.errors++;
	if (store_damage_is_corruption(err))
		store_damage_corruption(&s->damage, what, err);
	else if (key != NULL)
		log_warnx("store: %s %s: %s", what, log_escape(key,
		    strlen(key), ek, sizeof(ek)), err);
	else
		log_warnx("store: %s: %s", what, err);
	leveldb_free(err);
}

/* Frees the text of an error a read shrugs off, minding corruption. */
static void
store_error_aside(struct store *s, const char *what, char *err)
{
	if (store_damage_is_corruption(err)) {
		s->stats.errors++;
		store_damage_corruption(&s->damage, what, err);
	}
	leveldb_free(err);
}

/* Logs and counts a value that failed its check; the caller skips it. */
static void
store_damaged(struct store *s, const char *key, size_t keylen,
    const char *why)
{
	s->stats.damaged++;
	store_damage_value(&s->damage, key, keylen, why);
}

/* Creates the state directory (one level, mode 0700) if missing. */
static int
store_mkdir(const char *dir, const char **errstr)
{
	struct stat	sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		store_fail(errstr, "cannot create state directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) == -1) {
		store_fail(errstr, "state directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		store_fail(errstr, "state directory %s is not a directory",
		    dir);
		return -1;
	}
	return 0;
}

/* Parses the stored revision: decimal ASCII, nothing else. */
static int
store_revision_parse(const char *val, size_t len, uint64_t *rev)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (val[i] < '0' || val[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(val[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(val[i] - '0');
	}
	*rev = v;
	return 0;
}

/* Reads the revision key at open; a damaged one refuses the store. */
static int
store_revision_load(struct store *s, const char **errstr)
{
	const char	*why, *payload;
	char		*raw, *err = NULL;
	size_t		 rawlen, plen;
	int		 rc = -1;

	raw = leveldb_get(s->db, s->ropts, STORE_KEY_REVISION,
	    strlen(STORE_KEY_REVISION), &rawlen, &err);
	if (err != NULL) {
		store_fail(errstr, "cannot read the store in %s: %s", s->dbdir,
		    err);
		leveldb_free(err);
		return -1;
	}
	if (raw == NULL) {
		s->revision = 0;
		return 0;
	}
	if (store_value_check(raw, rawlen, &payload, &plen, &why) == -1)
		store_fail(errstr, "store in %s: revision key is damaged (%s)",
		    s->dbdir, why);
	else if (store_revision_parse(payload, plen, &s->revision) == -1)
		store_fail(errstr, "store in %s: revision key is damaged "
		    "(not a number)", s->dbdir);
	else
		rc = 0;
	leveldb_free(raw);
	return rc;
}

/*
 * Reads the change log's first revision; a store without one starts its
 * log at the current revision, written with the next commit.
 */
static int
store_log_load(struct store *s, const char **errstr)
{
	const char	*why, *payload;
	char		*raw, *err = NULL;
	size_t		 rawlen, plen;
	int		 rc = 0;

	raw = leveldb_get(s->db, s->ropts, STORE_KEY_LOG_FIRST,
	    strlen(STORE_KEY_LOG_FIRST), &rawlen, &err);
	if (err != NULL) {
		store_fail(errstr, "cannot read the store in %s: %s", s->dbdir,
		    err);
		leveldb_free(err);
		return -1;
	}
	s->log_first = s->revision;
	if (raw == NULL)
		return 0;
	if (store_value_check(raw, rawlen, &payload, &plen, &why) == -1 ||
	    store_revision_parse(payload, plen, &s->log_first) == -1 ||
	    s->log_first > s->revision) {
		/* the log is only an aid: restart it rather than refuse */
		log_warnx("store: change log start is damaged, restarting the "
		    "log at revision %" PRIu64, s->revision);
		s->log_first = s->revision;
	} else
		s->log_saved = 1;
	leveldb_free(raw);
	return rc;
}

/*
 * Whether the LevelDB directory is new: missing, or holding nothing but
 * what a failed first open leaves (its lock and info log). Only a new
 * directory may be created in: LevelDB, told to create over files it
 * cannot open (CURRENT lost), starts an empty database and deletes the old
 * tables as obsolete. 1 new, 0 holds data, -1 unreadable.
 */
static int
store_db_fresh(const char *dbdir, const char **errstr)
{
	DIR		*d;
	struct dirent	*de;
	int		 fresh = 1;

	if ((d = opendir(dbdir)) == NULL) {
		if (errno == ENOENT)
			return 1;
		store_fail(errstr, "cannot read %s: %s", dbdir,
		    strerror(errno));
		return -1;
	}
	while (fresh && (de = readdir(d)) != NULL)
		fresh = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "LOCK") == 0 ||
		    strcmp(de->d_name, "LOG") == 0 ||
		    strcmp(de->d_name, "LOG.old") == 0;
	closedir(d);
	return fresh;
}

/* The options every open uses: paranoid, checksums verified on reads. */
static void
store_db_options(struct store *s, int create)
{
	s->opts = leveldb_options_create();
	leveldb_options_set_create_if_missing(s->opts, create);
	leveldb_options_set_paranoid_checks(s->opts, 1);
	s->cache = leveldb_cache_create_lru(STORE_CACHE_SIZE);
	leveldb_options_set_cache(s->opts, s->cache);
	s->ropts = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(s->ropts, 1);
	s->wopts = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(s->wopts, 0);
}

/*
 * Opens LevelDB under s->dbdir, creating it only when the directory is
 * new. A store with data that does not open is left as it is, and the
 * message names the recovery.
 */
static int
store_db_open(struct store *s, const char **errstr)
{
	char	*err = NULL, *current;
	int	 fresh, lost;

	if ((fresh = store_db_fresh(s->dbdir, errstr)) == -1)
		return -1;
	store_db_options(s, fresh);
	s->db = leveldb_open(s->opts, s->dbdir, &err);
	if (s->db == NULL && fresh) {
		store_fail(errstr, "cannot create the store in %s: %s",
		    s->dbdir, err != NULL ? err : "unknown error");
		leveldb_free(err);
		return -1;
	}
	if (s->db == NULL) {
		/* LevelDB's text names the file and the cause, but for this */
		xasprintf(&current, "%s/CURRENT", s->dbdir);
		lost = access(current, F_OK) == -1 && errno == ENOENT;
		free(current);
		store_fail(errstr, "cannot open the store in %s: %s%s; its "
		    "files are left as they are: run edgesite --repair (with "
		    "the same -c) to recover what can be read", s->dbdir,
		    lost ? "CURRENT is missing: " : "",
		    err != NULL ? err : "unknown error");
		leveldb_free(err);
		return -1;
	}
	return 0;
}

/* Directory, lock, database, revision: each failure names its cause. */
struct store *
store_open(struct event_base *base, const char *dir, const char **errstr)
{
	struct store	*s;

	if (store_mkdir(dir, errstr) == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->dir = xstrdup(dir);
	xasprintf(&s->dbdir, "%s/%s", dir, STORE_DB_DIR);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->subs);
	TAILQ_INIT(&s->snaps);
	TAILQ_INIT(&s->watches);
	if ((s->lockfd = store_lock_take(dir, errstr)) == -1)
		goto fail;
	if (store_db_open(s, errstr) == -1)
		goto fail;
	if (store_revision_load(s, errstr) == -1)
		goto fail;
	if (store_log_load(s, errstr) == -1)
		goto fail;
	s->synced = s->revision;
	if (base != NULL) {
		s->ev_notify = evtimer_new(base, store_notify_cb, s);
		s->ev_sync = evtimer_new(base, store_sync_cb, s);
		if (s->ev_notify == NULL || s->ev_sync == NULL)
			fatalx("store: cannot create the notify event");
	}
	log_info("store: opened %s at revision %" PRIu64, s->dbdir,
	    s->revision);
	return s;

fail:
	store_free(s);
	return NULL;
}

/* Frees one list of ops with their keys and values. */
static void
store_ops_free(struct store_op *ops, size_t nops)
{
	size_t	i;

	for (i = 0; i < nops; i++) {
		free(ops[i].key);
		free(ops[i].buf);
		free(ops[i].old);
	}
	free(ops);
}

/* Frees a delivered or dropped batch of changes. */
static void
store_pending_free(struct store_pending *p)
{
	store_ops_free(p->ops, p->nops);
	free(p);
}

/* Frees a subscription already off the list. */
static void
store_sub_free(struct store_sub *sub)
{
	free(sub->prefix);
	free(sub);
}

/* Frees everything, closing the database if it is still open. */
static void
store_free(struct store *s)
{
	struct store_pending	*p;
	struct store_sub	*sub;
	struct store_sync_watch	*w;

	while ((w = TAILQ_FIRST(&s->watches)) != NULL) {
		TAILQ_REMOVE(&s->watches, w, entry);
		free(w);
	}
	while ((p = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, p, entry);
		store_pending_free(p);
	}
	while ((sub = TAILQ_FIRST(&s->subs)) != NULL) {
		TAILQ_REMOVE(&s->subs, sub, entry);
		store_sub_free(sub);
	}
	if (s->ev_notify != NULL)
		event_free(s->ev_notify);
	if (s->ev_sync != NULL)
		event_free(s->ev_sync);
	if (s->db != NULL)
		leveldb_close(s->db);
	if (s->opts != NULL)
		leveldb_options_destroy(s->opts);
	if (s->cache != NULL)
		leveldb_cache_destroy(s->cache);
	if (s->ropts != NULL)
		leveldb_readoptions_destroy(s->ropts);
	if (s->wopts != NULL)
		leveldb_writeoptions_destroy(s->wopts);
	store_lock_release(s->lockfd);
	store_damage_clear(&s->damage);
	free(s->dbdir);
	free(s->dir);
	free(s);
}

/*
 * A write failed or was refused (why: "no space" or "write failed"):
 * counted, and the store is degraded until one succeeds. Logged at the
 * first failure of a run; the rest of the run is counted and told with
 * the recovery (a disk stays full for a while).
 */
static void
store_write_degrade(struct store *s, const char *why, const char *what,
    const char *key, const char *msg)
{
	char	ek[256];

	s->stats.write_errors++;
	s->failed_run++;
	if (s->degraded) {
		log_debug("store: %s: %s", what, msg);
		return;
	}
	s->degraded = 1;
	/* damage outranks a full disk on /readyz: it lasts until a repair */
	if (!store_damage_found(&s->damage))
		health_set("store", HEALTH_DEGRADED, why);
	log_warnx("store: %s%s%s: %s", what, key != NULL ? " " : "",
	    key != NULL ? log_escape(key, strlen(key), ek, sizeof(ek)) : "",
	    msg);
	log_warnx("store: degraded (%s): writes fail, nothing they carry is "
	    "acknowledged; retrying as writes come", why);
}

/*
 * LevelDB failed a write: its log may end in a torn record, so the
 * database is reopened before the next write (store_write_ready).
 */
static void
store_write_failed(struct store *s, const char *what, const char *key,
    char *err)
{
	const char	*why;

	why = strstr(err, "No space") != NULL ||
	    strstr(err, "no space") != NULL ? "no space" : "write failed";
	s->stats.errors++;
	s->torn = 1;
	store_write_degrade(s, why, what, key, err);
	leveldb_free(err);
}

/*
 * Closes and opens LevelDB again: recovery takes a torn record at the
 * end of the log for the end, where a record written after it would be
 * skipped with it. -1 (logged) leaves the store without a database until
 * a later write tries again.
 */
static int
store_reopen(struct store *s)
{
	char	*err = NULL;

	/* a reader's snapshot does not outlive its database */
	store_snaps_release(s);
	if (s->db != NULL)
		leveldb_close(s->db);
	/* never a new database over the files of this one */
	leveldb_options_set_create_if_missing(s->opts, 0);
	s->db = leveldb_open(s->opts, s->dbdir, &err);
	if (s->db == NULL) {
		store_write_degrade(s, "write failed", "reopen", NULL,
		    err != NULL ? err : "unknown error");
		leveldb_free(err);
		return -1;
	}
	s->torn = 0;
	log_info("store: reopened %s after a failed write", s->dbdir);
	return 0;
}

/*
 * Whether a write of about need bytes may go to LevelDB: -1 (counted,
 * degraded "no space") when it would leave less than STORE_RESERVE free,
 * so LevelDB never meets a full disk in the middle of a log record or a
 * compaction (which it does not recover from while open); -1 too when
 * the reopen after a failed write fails.
 */
static int
store_write_ready(struct store *s, const char *what, size_t need)
{
	struct statvfs	sv;
	char		msg[128];

	if (statvfs(s->dbdir, &sv) == 0 && (uint64_t)sv.f_bavail *
	    sv.f_frsize < (uint64_t)STORE_RESERVE + need) {
		snprintf(msg, sizeof(msg), "refused: less than %u KiB would "
		    "be left free", (STORE_RESERVE + 1023) / 1024);
		store_write_degrade(s, "no space", what, NULL, msg);
		return -1;
	}
	if (s->torn || s->db == NULL)
		return store_reopen(s);
	return 0;
}

/* A write succeeded: the end of a degraded run. */
static void
store_write_ok(struct store *s)
{
	if (!s->degraded)
		return;
	s->degraded = 0;
	if (!store_damage_found(&s->damage))
		health_set("store", HEALTH_OK, s->dir);
	log_info("store: writes succeed again after %" PRIu64 " failed",
	    s->failed_run);
	s->failed_run = 0;
}

/*
 * Writes the revision again with sync on, so what the unsynced batches
 * wrote reaches the disk. 0, or -1 (logged, counted) when it did not.
 */
static int
store_sync(struct store *s)
{
	leveldb_writeoptions_t	*wo;
	char			 num[32], *buf, *err = NULL;
	size_t			 len;
	uint64_t		 rev = s->revision;

	if (s->synced == rev)
		return 0;
	if (store_write_ready(s, "sync", 64) == -1)
		return -1;
	snprintf(num, sizeof(num), "%" PRIu64, s->revision);
	buf = store_value_frame(num, strlen(num), &len);
	wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(wo, 1);
	leveldb_put(s->db, wo, STORE_KEY_REVISION, strlen(STORE_KEY_REVISION),
	    buf, len, &err);
	leveldb_writeoptions_destroy(wo);
	free(buf);
	s->stats.syncs++;
	if (err != NULL) {
		store_write_failed(s, "sync", NULL, err);
		return -1;
	}
	s->synced = rev;
	store_write_ok(s);
	return 0;
}

/* Syncs, closes LevelDB and frees, or defers the free to the dispatcher. */
void
store_close(struct store *s)
{
	if (s == NULL || s->closed)
		return;
	store_sync(s);
	store_snaps_release(s);
	if (s->db != NULL)
		leveldb_close(s->db);
	s->db = NULL;
	log_info("store: closed %s at revision %" PRIu64, s->dbdir,
	    s->revision);
	/* from inside a change callback: the dispatcher frees on return */
	if (s->dispatching) {
		s->closed = 1;
		return;
	}
	store_free(s);
}

/* Point lookup; only a verified payload leaves the store. */
int
store_get(struct store *s, const char *key, char **val, size_t *len)
{
	return store_get_rev(s, key, val, len, NULL);
}

/* Point lookup with the revision from the frame's header. */
int
store_get_rev(struct store *s, const char *key, char **val, size_t *len,
    uint64_t *rev)
{
	const char	*payload, *why;
	char		*raw, *err = NULL;
	size_t		 rawlen, plen;

	s->stats.gets++;
	if (s->db == NULL)
		return -1;	/* the reopen failed, logged */
	raw = leveldb_get(s->db, s->ropts, key, strlen(key), &rawlen, &err);
	if (err != NULL) {
		store_error(s, "get", key, err);
		return -1;
	}
	if (raw == NULL)
		return 1;
	if (store_value_check(raw, rawlen, &payload, &plen, &why) == -1) {
		store_damaged(s, key, strlen(key), why);
		leveldb_free(raw);
		return 1;
	}
	if (val != NULL) {
		*val = xmalloc(plen + 1);
		memcpy(*val, payload, plen + 1);
	}
	if (len != NULL)
		*len = plen;
	if (rev != NULL)
		*rev = store_value_revision(raw);
	leveldb_free(raw);
	return 0;
}

/* One put as its own batch, revision and notification included. */
int
store_put(struct store *s, const char *key, const void *val, size_t len)
{
	struct store_batch	*b;

	b = store_batch_new(s);
	store_batch_put(b, key, val, len);
	return store_batch_commit(b);
}

/* One delete as its own batch. */
int
store_delete(struct store *s, const char *key)
{
	struct store_batch	*b;

	b = store_batch_new(s);
	store_batch_delete(b, key);
	return store_batch_commit(b);
}

/* Tests only: bypasses framing, the revision and the subscribers. */
int
store_put_raw(struct store *s, const char *key, const void *buf, size_t len)
{
	char	*err = NULL;

	leveldb_put(s->db, s->wopts, key, strlen(key), buf, len, &err);
	if (err != NULL) {
		store_error(s, "raw put", key, err);
		return -1;
	}
	return 0;
}

/* An empty batch; the caller commits or frees it. */
struct store_batch *
store_batch_new(struct store *s)
{
	struct store_batch	*b;

	b = xcalloc(1, sizeof(*b));
	b->s = s;
	return b;
}

/* Appends an op, taking ownership of buf. */
static void
store_batch_add(struct store_batch *b, const char *key, char *buf,
    size_t buflen)
{
	struct store_op	*op;

	if (b->nops == b->cap) {
		b->cap = b->cap == 0 ? 4 : b->cap * 2;
		b->ops = xreallocarray(b->ops, b->cap, sizeof(*b->ops));
	}
	op = &b->ops[b->nops++];
	memset(op, 0, sizeof(*op));
	op->key = xstrdup(key);
	op->buf = buf;
	op->buflen = buflen;
}

/* The revision key and the change log belong to the store. */
static int
store_batch_key_ok(struct store_batch *b, const char *key)
{
	char	ek[256];

	if (strcmp(key, STORE_KEY_REVISION) != 0 &&
	    strcmp(key, STORE_KEY_LOG_FIRST) != 0 &&
	    strncmp(key, STORE_KEY_LOG, strlen(STORE_KEY_LOG)) != 0)
		return 1;
	log_warnx("store: write to reserved key %s refused", log_escape(key,
	    strlen(key), ek, sizeof(ek)));
	b->s->stats.errors++;
	b->refused = 1;
	return 0;
}

/* Queues a put; an oversized value fails the whole batch at commit. */
void
store_batch_put(struct store_batch *b, const char *key, const void *val,
    size_t len)
{
	char	ek[256], *buf;
	size_t	buflen;

	if (!store_batch_key_ok(b, key))
		return;
	if (len > STORE_MAX_VALUE) {
		log_warnx("store: put %s: value of %zu bytes is over the %u "
		    "byte limit, batch refused", log_escape(key, strlen(key),
		    ek, sizeof(ek)), len, STORE_MAX_VALUE);
		b->s->stats.errors++;
		b->refused = 1;
		return;
	}
	buf = store_value_alloc(val, len, &buflen);
	store_batch_add(b, key, buf, buflen);
}

/* Queues a delete. */
void
store_batch_delete(struct store_batch *b, const char *key)
{
	if (store_batch_key_ok(b, key))
		store_batch_add(b, key, NULL, 0);
}

/* Discards a batch and its copies of the values. */
void
store_batch_free(struct store_batch *b)
{
	if (b == NULL)
		return;
	store_ops_free(b->ops, b->nops);
	free(b);
}

/* Puts a small decimal number framed with revision rev. */
static void
store_batch_put_num(leveldb_writebatch_t *wb, const char *key, uint64_t v,
    uint64_t rev)
{
	char	num[32], *buf;
	size_t	len;

	snprintf(num, sizeof(num), "%" PRIu64, v);
	buf = store_value_alloc(num, strlen(num), &len);
	store_value_seal(buf, len, rev);
	leveldb_writebatch_put(wb, key, strlen(key), buf, len);
	free(buf);
}

/*
 * Tells added from modified, and keeps the value an object had for the
 * subscribers (a watch with a selector tells an object leaving it from
 * one changing in it) and, for a delete, the change log: one read per
 * object op. A delete of an object that is not there changes nothing and
 * is not logged.
 */
static void
store_batch_classify(struct store *s, struct store_op *op)
{
	const char	*payload, *why;
	char		*raw, *err = NULL;
	size_t		 rawlen, plen;

	op->type = op->buf != NULL ? STORE_CHANGE_MODIFIED :
	    STORE_CHANGE_DELETED;
	if (strncmp(op->key, STORE_LOG_SCOPE, strlen(STORE_LOG_SCOPE)) != 0 ||
	    strchr(op->key, '\n') != NULL)
		return;
	raw = leveldb_get(s->db, s->ropts, op->key, strlen(op->key), &rawlen,
	    &err);
	if (err != NULL) {
		/* log the change as if it were there; the read is an aid */
		store_error_aside(s, "read before write", err);
		op->logged = 1;
		return;
	}
	if (raw == NULL) {
		if (op->buf != NULL) {
			op->type = STORE_CHANGE_ADDED;
			op->logged = 1;
		}
		return;
	}
	op->logged = 1;
	if (store_value_check(raw, rawlen, &payload, &plen, &why) == 0) {
		op->old = xmalloc(plen + 1);
		memcpy(op->old, payload, plen + 1);
		op->oldlen = plen;
	}
	leveldb_free(raw);
}

/* Adds one change log entry: type, key, newline, a deleted value. */
static void
store_batch_log(leveldb_writebatch_t *wb, const struct store_op *op,
    uint64_t rev, size_t idx)
{
	char	*key, *payload, *buf;
	size_t	 klen = strlen(op->key), plen, len;

	plen = 1 + klen + 1 + (op->type == STORE_CHANGE_DELETED ? op->oldlen :
	    0);
	payload = xmalloc(plen);
	payload[0] = op->type == STORE_CHANGE_ADDED ? 'A' :
	    op->type == STORE_CHANGE_MODIFIED ? 'M' : 'D';
	memcpy(payload + 1, op->key, klen);
	payload[1 + klen] = '\n';
	if (op->type == STORE_CHANGE_DELETED && op->oldlen > 0)
		memcpy(payload + 2 + klen, op->old, op->oldlen);
	buf = store_value_alloc(payload, plen, &len);
	free(payload);
	if (buf == NULL)
		return;
	store_value_seal(buf, len, rev);
	key = store_key_log(rev, idx);
	leveldb_writebatch_put(wb, key, strlen(key), buf, len);
	free(key);
	free(buf);
}

/* The revision in a change log key, or 0 when it is not one. */
static uint64_t
store_log_key_rev(const char *k, size_t klen)
{
	size_t		plen = strlen(STORE_KEY_LOG);
	uint64_t	rev;

	if (klen < plen + STORE_KEY_LOG_REVLEN ||
	    memcmp(k, STORE_KEY_LOG, plen) != 0 ||
	    store_revision_parse(k + plen, STORE_KEY_LOG_REVLEN, &rev) == -1)
		return 0;
	return rev;
}

/*
 * Once the log holds STORE_LOG_SLACK revisions more than it keeps, drops
 * the oldest in the same batch and moves its first revision on.
 */
static void
store_batch_trim(struct store *s, leveldb_writebatch_t *wb, uint64_t rev)
{
	leveldb_iterator_t	*it;
	const char		*k;
	char			*err = NULL;
	size_t			 klen;
	uint64_t		 first, krev;

	if (rev - s->log_first <= STORE_LOG_KEEP + STORE_LOG_SLACK)
		return;
	first = rev - STORE_LOG_KEEP;
	it = leveldb_create_iterator(s->db, s->ropts);
	leveldb_iter_seek(it, STORE_KEY_LOG, strlen(STORE_KEY_LOG));
	for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if ((krev = store_log_key_rev(k, klen)) == 0 || krev > first)
			break;
		leveldb_writebatch_delete(wb, k, klen);
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err != NULL) {
		/* try again with the next commit */
		store_error_aside(s, "change log trim", err);
		return;
	}
	store_batch_put_num(wb, STORE_KEY_LOG_FIRST, first, rev);
	s->log_first = first;
	s->log_saved = 1;
}

/*
 * Builds the LevelDB batch: the ops in order, each value sealed with the
 * new revision, the change log entries, then the new revision.
 */
static leveldb_writebatch_t *
store_batch_build(struct store_batch *b, uint64_t rev)
{
	struct store		*s = b->s;
	leveldb_writebatch_t	*wb;
	struct store_op		*op;
	size_t			 i, nlog = 0;

	wb = leveldb_writebatch_create();
	for (i = 0; i < b->nops; i++) {
		op = &b->ops[i];
		store_batch_classify(s, op);
		if (op->buf != NULL) {
			store_value_seal(op->buf, op->buflen, rev);
			leveldb_writebatch_put(wb, op->key, strlen(op->key),
			    op->buf, op->buflen);
		} else
			leveldb_writebatch_delete(wb, op->key,
			    strlen(op->key));
		if (op->logged)
			store_batch_log(wb, op, rev, nlog++);
	}
	if (!s->log_saved)
		store_batch_put_num(wb, STORE_KEY_LOG_FIRST, s->log_first, rev);
	store_batch_trim(s, wb, rev);
	store_batch_put_num(wb, STORE_KEY_REVISION, rev, rev);
	return wb;
}

/*
 * Schedules delivery. A zero timeout rather than event_active: timers run
 * after the loop has polled, so a subscriber that commits from its callback
 * cannot keep the loop from everything else.
 */
static void
store_notify_arm(struct store *s)
{
	if (!evtimer_pending(s->ev_notify, NULL))
		clock_timer_add(s->ev_notify, 0);
}

/* Hands the committed ops to the delivery queue, leaving b empty. */
static void
store_batch_queue(struct store_batch *b, uint64_t rev)
{
	struct store		*s = b->s;
	struct store_pending	*p;

	if (s->ev_notify == NULL || TAILQ_EMPTY(&s->subs))
		return;
	p = xcalloc(1, sizeof(*p));
	p->revision = rev;
	p->ops = b->ops;
	p->nops = b->nops;
	b->ops = NULL;
	b->nops = b->cap = 0;
	TAILQ_INSERT_TAIL(&s->pending, p, entry);
	store_notify_arm(s);
}

/* About the bytes the batch adds to LevelDB's log. */
static size_t
store_batch_size(const struct store_batch *b)
{
	size_t	i, n = 0;

	for (i = 0; i < b->nops; i++)
		n += 2 * strlen(b->ops[i].key) + b->ops[i].buflen + 64;
	return n;
}

/* One atomic LevelDB write, then the changes queue for delivery. */
int
store_batch_commit(struct store_batch *b)
{
	struct store		*s = b->s;
	leveldb_writebatch_t	*wb;
	char			*err = NULL;
	size_t			 i;
	int			 rc = -1;

	if (b->refused)
		goto out;
	rc = 0;
	if (b->nops == 0)
		goto out;
	if (store_write_ready(s, "commit", store_batch_size(b)) == -1) {
		rc = -1;
		goto out;
	}
	wb = store_batch_build(b, s->revision + 1);
	leveldb_write(s->db, s->wopts, wb, &err);
	leveldb_writebatch_destroy(wb);
	if (err != NULL) {
		store_write_failed(s, "commit", b->ops[0].key, err);
		rc = -1;
		goto out;
	}
	store_write_ok(s);
	s->revision++;
	s->log_saved = 1;
	s->stats.commits++;
	for (i = 0; i < b->nops; i++) {
		if (b->ops[i].buf != NULL)
			s->stats.puts++;
		else
			s->stats.deletes++;
	}
	log_trace(LOG_SUB_STORE, "store: revision %" PRIu64 ": %zu changes, "
	    "first %s", s->revision, b->nops, b->ops[0].key);
	store_batch_queue(b, s->revision);
out:
	store_batch_free(b);
	return rc;
}

/*
 * store_batch_commit, and a sync due: the fsync'ed write on the next loop
 * turn covers every batch committed before it, so one per turn serves all
 * the synced batches of the turn.
 */
int
store_batch_commit_sync(struct store_batch *b, uint64_t *rev)
{
	struct store	*s = b->s;

	*rev = 0;
	if (store_batch_commit(b) == -1)
		return -1;
	*rev = s->revision;
	store_sync_soon(s);
	return 0;
}

/* Asks for the sync of the next loop turn if a batch is not synced. */
void
store_sync_soon(struct store *s)
{
	if (s->synced >= s->revision || s->ev_sync == NULL)
		return;
	if (!evtimer_pending(s->ev_sync, NULL))
		clock_timer_add(s->ev_sync, 0);
}

/* Frees the watches unwatched during a pass. */
static void
store_sync_reap(struct store *s)
{
	struct store_sync_watch	*w, *next;

	for (w = TAILQ_FIRST(&s->watches); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->dead) {
			TAILQ_REMOVE(&s->watches, w, entry);
			free(w);
		}
	}
}

/*
 * The sync event: one synced write, then every watch is told how far the
 * store is durable, or that the sync failed (what waited stays unsynced
 * until a later sync succeeds).
 */
static void
store_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store		*s = arg;
	struct store_sync_watch	*w;
	int			 failed;

	(void)fd;
	(void)what;
	failed = store_sync(s) == -1;
	log_trace(LOG_SUB_STORE, "store: sync to revision %" PRIu64 "%s",
	    s->revision, failed ? " failed" : "");
	s->dispatching = 1;
	TAILQ_FOREACH(w, &s->watches, entry) {
		if (!w->dead)
			w->cb(s->synced, failed, w->arg);
		if (s->closed)
			break;
	}
	s->dispatching = 0;
	if (s->closed) {
		store_free(s);
		return;
	}
	store_sync_reap(s);
}

/* The revision made durable. */
uint64_t
store_synced(struct store *s)
{
	return s->synced;
}

/* Failed writes (commits and syncs) since open. */
uint64_t
store_write_errors(struct store *s)
{
	return s->stats.write_errors;
}

/* 1 after a failed write until a write succeeds. */
int
store_degraded(struct store *s)
{
	return s->degraded;
}

struct store_sync_watch *
store_sync_watch(struct store *s, store_synced_cb cb, void *arg)
{
	struct store_sync_watch	*w;

	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&s->watches, w, entry);
	return w;
}

/* Ends a watch; from inside a watch callback too. Accepts NULL. */
void
store_sync_unwatch(struct store_sync_watch *w)
{
	struct store	*s;

	if (w == NULL)
		return;
	s = w->s;
	if (s->dispatching) {
		w->dead = 1;
		return;
	}
	TAILQ_REMOVE(&s->watches, w, entry);
	free(w);
}

/* Copies a LevelDB key into a growing NUL-terminated buffer. */
static const char *
store_key_copy(char **buf, size_t *cap, const char *key, size_t len)
{
	if (len + 1 > *cap) {
		*cap = len + 1 < 256 ? 256 : len + 1;
		free(*buf);
		*buf = xmalloc(*cap);
	}
	memcpy(*buf, key, len);
	(*buf)[len] = '\0';
	return *buf;
}

/* Either kind of scan callback, and a snapshot's read options. */
struct store_scan_fn {
	store_scan_cb		 cb;
	store_scan_rev_cb	 rcb;
	void			*arg;
	leveldb_readoptions_t	*ro;	/* NULL: the current state */
};

/* Walks keys under prefix from the iterator's position until cb stops. */
static void
store_scan_walk(struct store *s, leveldb_iterator_t *it, const char *prefix,
    const struct store_scan_fn *fn)
{
	const char	*k, *v, *payload, *why, *key;
	char		*keybuf = NULL;
	size_t		 klen, vlen, plen, keycap = 0;
	size_t		 preflen = strlen(prefix);

	for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		if (klen < preflen || memcmp(k, prefix, preflen) != 0)
			break;
		v = leveldb_iter_value(it, &vlen);
		if (store_value_check(v, vlen, &payload, &plen, &why) == -1) {
			store_damaged(s, k, klen, why);
			continue;
		}
		/* per walk, not per store: a callback may scan too */
		key = store_key_copy(&keybuf, &keycap, k, klen);
		if (fn->cb != NULL ? fn->cb(key, payload, plen, fn->arg) != 0 :
		    fn->rcb(key, payload, plen, store_value_revision(v),
		    fn->arg) != 0)
			break;
	}
	free(keybuf);
}

/* Seeks to the prefix, or just past start, and walks the prefix. */
static int
store_scan_fn(struct store *s, const char *prefix, const char *start,
    const struct store_scan_fn *fn)
{
	leveldb_iterator_t	*it;
	char			*err = NULL;
	size_t			 klen;
	const char		*k;

	s->stats.scans++;
	if (s->db == NULL)
		return -1;	/* the reopen failed, logged */
	it = leveldb_create_iterator(s->db, fn->ro != NULL ? fn->ro :
	    s->ropts);
	if (start != NULL && strcmp(start, prefix) >= 0) {
		/* begin after start: seek to it, step over an exact match */
		leveldb_iter_seek(it, start, strlen(start));
		if (leveldb_iter_valid(it)) {
			k = leveldb_iter_key(it, &klen);
			if (klen == strlen(start) &&
			    memcmp(k, start, klen) == 0)
				leveldb_iter_next(it);
		}
	} else
		leveldb_iter_seek(it, prefix, strlen(prefix));
	store_scan_walk(s, it, prefix, fn);
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err != NULL) {
		store_error(s, "scan", prefix, err);
		return -1;
	}
	return 0;
}

/* Keys under prefix after start. */
int
store_scan_from(struct store *s, const char *prefix, const char *start,
    store_scan_cb cb, void *arg)
{
	struct store_scan_fn	fn = { cb, NULL, arg, NULL };

	return store_scan_fn(s, prefix, start, &fn);
}

/* Keys under prefix after start, with the revision of each value. */
int
store_scan_rev(struct store *s, const char *prefix, const char *start,
    store_scan_rev_cb cb, void *arg)
{
	struct store_scan_fn	fn = { NULL, cb, arg, NULL };

	return store_scan_fn(s, prefix, start, &fn);
}

/* Every key under prefix. */
int
store_scan(struct store *s, const char *prefix, store_scan_cb cb, void *arg)
{
	return store_scan_from(s, prefix, NULL, cb, arg);
}

/* The revision of the last committed batch. */
uint64_t
store_revision(struct store *s)
{
	return s->revision;
}

/* The revision the change log is complete after. */
uint64_t
store_log_first(struct store *s)
{
	return s->log_first;
}

/* State of one store_log_scan. */
struct store_log_walk {
	struct store	*s;
	const char	*prefix;
	size_t		 plen;
	store_change_cb	 cb;
	store_log_step_cb step;		/* instead of cb: may stop */
	void		*arg;
	int		 failed;
	char		*pos;		/* where step stopped */
};

/* Tells one change; non-zero when a stepping walk stops after it. */
static int
store_log_tell(struct store_log_walk *w, const char *logkey,
    const struct store_change *ch)
{
	if (w->step == NULL) {
		w->cb(ch, w->arg);
		return 0;
	}
	if (w->step(ch, w->arg) == 0)
		return 0;
	w->pos = xstrdup(logkey);
	return 1;
}

/*
 * One log entry: a put is told only while the key still holds the value
 * that revision wrote; a delete with the value it removed.
 */
static int
store_log_entry_cb(const char *key, const char *val, size_t len,
    uint64_t rev, void *arg)
{
	struct store_log_walk	*w = arg;
	struct store_change	 ch;
	const char		*nl;
	char			*k, *cur = NULL;
	size_t			 klen, curlen;
	uint64_t		 currev;
	int			 rc, stop = 0;

	if (len < 2 || (nl = memchr(val, '\n', len)) == NULL ||
	    (klen = (size_t)(nl - val - 1)) < w->plen ||
	    memcmp(val + 1, w->prefix, w->plen) != 0)
		return 0;
	k = xmalloc(klen + 1);
	memcpy(k, val + 1, klen);
	k[klen] = '\0';
	memset(&ch, 0, sizeof(ch));
	ch.key = k;
	ch.revision = rev;
	if (val[0] == 'D') {
		ch.type = STORE_CHANGE_DELETED;
		ch.old = nl + 1;
		ch.oldlen = len - (size_t)(nl + 1 - val);
		stop = store_log_tell(w, key, &ch);
	} else {
		rc = store_get_rev(w->s, k, &cur, &curlen, &currev);
		if (rc == -1)
			w->failed = 1;
		else if (rc == 0 && currev == rev) {
			ch.type = val[0] == 'A' ? STORE_CHANGE_ADDED :
			    STORE_CHANGE_MODIFIED;
			ch.val = cur;
			ch.len = curlen;
			stop = store_log_tell(w, key, &ch);
		}
		free(cur);
	}
	free(k);
	return w->failed || stop;
}

/* Walks the log from the first entry after revision after. */
int
store_log_scan(struct store *s, uint64_t after, const char *prefix,
    store_change_cb cb, void *arg)
{
	struct store_log_walk	 w;
	char			*start;
	int			 rc = 0;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.prefix = prefix;
	w.plen = strlen(prefix);
	w.cb = cb;
	w.arg = arg;
	start = store_key_log_after(after);
	if (store_scan_rev(s, STORE_KEY_LOG, start, store_log_entry_cb,
	    &w) == -1 || w.failed)
		rc = -1;
	free(start);
	return rc;
}

/* The log in steps: resumes after *pos, stops where step says. */
int
store_log_step(struct store *s, uint64_t after, char **pos,
    const char *prefix, store_log_step_cb step, void *arg)
{
	struct store_log_walk	 w;
	char			*start;
	int			 rc;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.prefix = prefix;
	w.plen = strlen(prefix);
	w.step = step;
	w.arg = arg;
	start = store_key_log_after(after);
	rc = store_scan_rev(s, STORE_KEY_LOG, *pos != NULL ? *pos : start,
	    store_log_entry_cb, &w);
	free(start);
	if (rc == -1 || w.failed) {
		free(w.pos);
		return -1;
	}
	if (w.pos == NULL)
		return 0;
	free(*pos);
	*pos = w.pos;
	return 1;
}

/* New subscriptions see batches committed after they are made. */
struct store_sub *
store_subscribe(struct store *s, const char *prefix, store_change_cb cb,
    void *arg)
{
	struct store_sub	*sub;

	sub = xcalloc(1, sizeof(*sub));
	sub->s = s;
	sub->prefix = xstrdup(prefix);
	sub->plen = strlen(prefix);
	sub->cb = cb;
	sub->arg = arg;
	sub->since = s->revision;
	TAILQ_INSERT_TAIL(&s->subs, sub, entry);
	return sub;
}

/* Frees now, or marks dead when called during a dispatch pass. */
void
store_unsubscribe(struct store_sub *sub)
{
	struct store	*s;

	if (sub == NULL || sub->dead)
		return;
	s = sub->s;
	/* a dispatch pass may be walking the list: reap it afterwards */
	if (s->dispatching) {
		sub->dead = 1;
		return;
	}
	TAILQ_REMOVE(&s->subs, sub, entry);
	store_sub_free(sub);
}

/* Frees the subscriptions marked dead during a dispatch pass. */
static void
store_sub_reap(struct store *s)
{
	struct store_sub	*sub, *next;

	for (sub = TAILQ_FIRST(&s->subs); sub != NULL; sub = next) {
		next = TAILQ_NEXT(sub, entry);
		if (sub->dead) {
			TAILQ_REMOVE(&s->subs, sub, entry);
			store_sub_free(sub);
		}
	}
}

/* Delivers one committed batch; stops early if the store was closed. */
static void
store_pending_deliver(struct store *s, struct store_pending *p)
{
	struct store_change	 ch;
	struct store_sub	*sub;
	struct store_op		*op;
	size_t			 i;

	for (i = 0; i < p->nops; i++) {
		op = &p->ops[i];
		ch.key = op->key;
		ch.val = op->buf != NULL ? op->buf + STORE_VALUE_HDR : NULL;
		ch.len = op->buf != NULL ? op->buflen - STORE_VALUE_OVERHEAD :
		    0;
		ch.revision = p->revision;
		ch.type = op->type;
		ch.old = op->old;
		ch.oldlen = op->oldlen;
		TAILQ_FOREACH(sub, &s->subs, entry) {
			if (sub->dead || p->revision <= sub->since ||
			    strncmp(op->key, sub->prefix, sub->plen) != 0)
				continue;
			sub->cb(&ch, sub->arg);
			if (s->closed)
				return;
		}
	}
}

/*
 * The notify event: delivers the batches queued before this pass; batches
 * committed by the callbacks wait for the next loop turn.
 */
static void
store_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store		*s = arg;
	struct store_pending	*p, *last;
	int			 done = 0;

	(void)fd;
	(void)what;
	last = TAILQ_LAST(&s->pending, store_pendings);
	s->dispatching = 1;
	while (!done && !s->closed && (p = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, p, entry);
		done = p == last;
		store_pending_deliver(s, p);
		store_pending_free(p);
	}
	s->dispatching = 0;
	if (s->closed) {
		store_free(s);
		return;
	}
	store_sub_reap(s);
	if (!TAILQ_EMPTY(&s->pending))
		store_notify_arm(s);
}

/* Sums the sizes of the files LevelDB keeps in its directory. */
static uint64_t
store_disk_bytes(struct store *s)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	uint64_t	 total = 0;

	if ((d = opendir(s->dbdir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
	}
	closedir(d);
	return total;
}

/* Counters since open, and the size on disk measured now. */
void
store_get_stats(struct store *s, struct store_stats *st)
{
	*st = s->stats;
	st->disk_bytes = store_disk_bytes(s);
}

/* /metrics: the store's families (arg is the store). */
void
store_metrics(struct metrics_out *out, void *arg)
{
	struct store		*s = arg;
	struct store_stats	 st;
	const char		*name = "edgesite_store_operations_total";
	const char		*op[] = { "op", NULL, NULL };

	store_get_stats(s, &st);
	metrics_family(out, name, METRICS_COUNTER,
	    "Store operations by kind.");
	op[1] = "get";
	metrics_u64(out, name, op, st.gets);
	op[1] = "put";
	metrics_u64(out, name, op, st.puts);
	op[1] = "delete";
	metrics_u64(out, name, op, st.deletes);
	op[1] = "commit";
	metrics_u64(out, name, op, st.commits);
	op[1] = "scan";
	metrics_u64(out, name, op, st.scans);
	metrics_counter(out, "edgesite_store_errors_total",
	    "LevelDB errors met by the store.", st.errors);
	metrics_counter(out, "edgesite_store_write_errors_total",
	    "Failed writes (commits and syncs): nothing they carried was "
	    "acknowledged.", st.write_errors);
	metrics_counter(out, "edgesite_store_syncs_total",
	    "Synced writes making acknowledged batches durable.", st.syncs);
	metrics_gauge(out, "edgesite_store_degraded",
	    "1 while writes fail (until one succeeds).",
	    (uint64_t)s->degraded);
	metrics_counter(out, "edgesite_store_damaged_values_total",
	    "Stored values that failed their check.", st.damaged);
	metrics_counter(out, "edgesite_store_corruption_errors_total",
	    "LevelDB corruption errors met while running.",
	    s->damage.corruptions);
	metrics_gauge(out, "edgesite_store_damaged",
	    "1 once damage was found: until a restart after edgesite "
	    "--repair.", (uint64_t)store_damage_found(&s->damage));
	metrics_gauge(out, "edgesite_store_size_bytes",
	    "Approximate size of the store on disk in bytes.", st.disk_bytes);
	metrics_gauge(out, "edgesite_store_revision",
	    "Local revision of the store.", store_revision(s));
}

/* The state directory the store was opened on. */
const char *
store_dir(struct store *s)
{
	return s->dir;
}

/* A read view at the current revision; store_snap_free releases it. */
struct store_snap *
store_snap_new(struct store *s)
{
	struct store_snap	*sn;

	sn = xcalloc(1, sizeof(*sn));
	if ((sn->ro = leveldb_readoptions_create()) == NULL)
		fatalx("store: out of memory");
	/* as every other read: a damaged block is found, not passed on */
	leveldb_readoptions_set_verify_checksums(sn->ro, 1);
	sn->revision = s->revision;
	if (s->db == NULL)
		return sn;	/* the reopen failed: scans fail, logged */
	sn->s = s;
	sn->snap = leveldb_create_snapshot(s->db);
	leveldb_readoptions_set_snapshot(sn->ro, sn->snap);
	TAILQ_INSERT_TAIL(&s->snaps, sn, entry);
	return sn;
}

/* The revision the snapshot shows. */
uint64_t
store_snap_revision(const struct store_snap *sn)
{
	return sn->revision;
}

/* store_scan_rev on the snapshot; -1 once the store is closed. */
int
store_snap_scan(struct store_snap *sn, const char *prefix, const char *start,
    store_scan_rev_cb cb, void *arg)
{
	struct store_scan_fn	fn = { NULL, cb, arg, sn->ro };

	if (sn->s == NULL)
		return -1;
	return store_scan_fn(sn->s, prefix, start, &fn);
}

/* Gives LevelDB its snapshot back; the handle stays for its owner. */
static void
store_snap_release(struct store_snap *sn)
{
	if (sn->s == NULL)
		return;
	TAILQ_REMOVE(&sn->s->snaps, sn, entry);
	leveldb_release_snapshot(sn->s->db, sn->snap);
	sn->s = NULL;
}

/* At close: every snapshot still held goes before the database. */
static void
store_snaps_release(struct store *s)
{
	struct store_snap	*sn;

	while ((sn = TAILQ_FIRST(&s->snaps)) != NULL)
		store_snap_release(sn);
}

/* Accepts NULL. */
void
store_snap_free(struct store_snap *sn)
{
	if (sn == NULL)
		return;
	store_snap_release(sn);
	leveldb_readoptions_destroy(sn->ro);
	free(sn);
}

/* Runs LevelDB's repair on dir/store under the state directory's lock. */
int
store_salvage(const char *dir, const char **errstr)
{
	leveldb_options_t	*opts;
	char			*dbdir, *err = NULL;
	int			 lockfd, rc = 0;

	if ((lockfd = store_lock_take(dir, errstr)) == -1)
		return -1;
	xasprintf(&dbdir, "%s/%s", dir, STORE_DB_DIR);
	opts = leveldb_options_create();
	leveldb_repair_db(opts, dbdir, &err);
	leveldb_options_destroy(opts);
	if (err != NULL) {
		store_fail(errstr, "repair of %s failed: %s", dbdir, err);
		leveldb_free(err);
		rc = -1;
	}
	free(dbdir);
	store_lock_release(lockfd);
	return rc;
}

/* Writes and empties a copy batch; 0, or -1 with *errstr. */
static int
store_salvage_flush(leveldb_t *db, leveldb_writebatch_t *wb, int sync,
    const char *dbdir, const char **errstr)
{
	leveldb_writeoptions_t	*wo;
	char			*err = NULL;

	wo = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(wo, sync);
	leveldb_write(db, wo, wb, &err);
	leveldb_writeoptions_destroy(wo);
	leveldb_writebatch_clear(wb);
	if (err != NULL) {
		store_fail(errstr, "cannot write the new store in %s: %s",
		    dbdir, err);
		leveldb_free(err);
		return -1;
	}
	return 0;
}

/*
 * Copies every entry that reads clean from s into db: the iterator steps
 * over blocks that fail their checksum (the error is kept and told), a
 * value that fails its own check is told to cb and left behind. The
 * highest revision a value carries goes in *maxrev.
 */
static int
store_salvage_copy(struct store *s, leveldb_t *db, const char *newdir,
    uint64_t *maxrev, store_salvage_cb cb, void *arg, const char **errstr)
{
	leveldb_iterator_t	*it;
	leveldb_writebatch_t	*wb;
	const char		*k, *v, *payload, *why;
	char			*err = NULL;
	size_t			 klen, vlen, plen, n = 0;
	int			 rc = 0;

	wb = leveldb_writebatch_create();
	it = leveldb_create_iterator(s->db, s->ropts);
	for (leveldb_iter_seek_to_first(it); rc == 0 &&
	    leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &klen);
		v = leveldb_iter_value(it, &vlen);
		if (store_value_check(v, vlen, &payload, &plen, &why) == -1) {
			cb(k, klen, why, arg);
			continue;
		}
		if (store_value_revision(v) > *maxrev)
			*maxrev = store_value_revision(v);
		leveldb_writebatch_put(wb, k, klen, v, vlen);
		if (++n % 1000 == 0)
			rc = store_salvage_flush(db, wb, 0, newdir, errstr);
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err != NULL) {
		cb(NULL, 0, err, arg);
		leveldb_free(err);
	}
	if (rc == 0)
		rc = store_salvage_flush(db, wb, 0, newdir, errstr);
	leveldb_writebatch_destroy(wb);
	return rc;
}

/*
 * Into a new database: what reads clean, then the revision (past every
 * value's) and the change log's start, synced.
 */
static int
store_salvage_rebuild(struct store *s, const char *newdir,
    uint64_t *revision, store_salvage_cb cb, void *arg, const char **errstr)
{
	leveldb_options_t	*opts;
	leveldb_writebatch_t	*wb;
	leveldb_t		*db;
	char			*err = NULL;
	uint64_t		 rev = 0;
	int			 rc = -1;

	opts = leveldb_options_create();
	leveldb_options_set_create_if_missing(opts, 1);
	leveldb_options_set_error_if_exists(opts, 1);
	db = leveldb_open(opts, newdir, &err);
	leveldb_options_destroy(opts);
	if (db == NULL) {
		store_fail(errstr, "cannot create %s: %s (left from an earlier "
		    "repair? remove it)", newdir, err != NULL ? err :
		    "unknown error");
		leveldb_free(err);
		return -1;
	}
	if (store_salvage_copy(s, db, newdir, &rev, cb, arg, errstr) == 0) {
		rev++;
		wb = leveldb_writebatch_create();
		store_batch_put_num(wb, STORE_KEY_REVISION, rev, rev);
		store_batch_put_num(wb, STORE_KEY_LOG_FIRST, rev, rev);
		if (store_salvage_flush(db, wb, 1, newdir, errstr) == 0) {
			*revision = rev;
			rc = 0;
		}
		leveldb_writebatch_destroy(wb);
	}
	leveldb_close(db);
	return rc;
}

/*
 * After store_salvage: copies what reads clean into dir/store.new, then
 * moves the old files aside to dir/store.damaged-<time> and the copy in.
 */
int
store_salvage_values(const char *dir, store_salvage_cb cb, void *arg,
    uint64_t *revision, char **aside, const char **errstr)
{
	struct store	*s;
	char		*err = NULL, *newdir = NULL;
	int		 fd, rc = -1;

	s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(dir);
	xasprintf(&s->dbdir, "%s/%s", dir, STORE_DB_DIR);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->subs);
	if ((s->lockfd = store_lock_take(dir, errstr)) == -1)
		goto out;
	store_db_options(s, 0);
	if ((s->db = leveldb_open(s->opts, s->dbdir, &err)) == NULL) {
		store_fail(errstr, "cannot open the repaired store in %s: %s",
		    s->dbdir, err != NULL ? err : "unknown error");
		leveldb_free(err);
		goto out;
	}
	xasprintf(&newdir, "%s/%s.new", dir, STORE_DB_DIR);
	if (store_salvage_rebuild(s, newdir, revision, cb, arg, errstr) == -1)
		goto out;
	leveldb_close(s->db);
	s->db = NULL;
	xasprintf(aside, "%s/%s.damaged-%lld", dir, STORE_DB_DIR,
	    (long long)time(NULL));
	if (rename(s->dbdir, *aside) == -1) {
		store_fail(errstr, "cannot move %s aside: %s", s->dbdir,
		    strerror(errno));
		goto out;
	}
	if (rename(newdir, s->dbdir) == -1) {
		store_fail(errstr, "cannot move the rebuilt store into %s: %s",
		    s->dbdir, strerror(errno));
		/* never leave the place empty: a start would create there */
		(void)rename(*aside, s->dbdir);
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	free(newdir);
	store_free(s);
	return rc;
}
