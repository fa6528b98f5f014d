/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: LevelDB holding every object, resume point, outbox entry and
 * twin state (every key family and its builder in store/store_keys.h).
 * Writes go in batches; each committed batch bumps the local revision and,
 * on a later loop turn, tells the subscribers whose prefix matches. Every
 * value remembers the revision that wrote it, and the changes to objects
 * (o/ keys) are kept in a bounded change log so a reader can resume from a
 * past revision, across restarts too (the local API's resourceVersion and
 * watch). A write acknowledged to a peer is synced first
 * (store_batch_commit_sync); a reader that goes at its client's pace reads
 * a snapshot (store_snap_*) and the change log in steps (store_log_step).
 *
 * The change log: c/<revision, 20 digits>/<index in the batch, 6 digits>
 * holds one change per changed object key: 'A' (added), 'M' (modified) or
 * 'D' (deleted), the key, a newline, and for a delete the value the object
 * had. The key k holds the oldest revision the log is complete after:
 * every change of a later revision is in it. The log keeps the last
 * STORE_LOG_KEEP revisions; older entries go in batches of
 * STORE_LOG_SLACK.
 */
#ifndef EDGESITE_STORE_H
#define EDGESITE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_keys.h"

struct event_base;
struct metrics_out;
struct store;
struct store_batch;
struct store_sub;
struct store_sync_watch;

/* Largest value accepted by store_put and store_batch_put. */
#define STORE_MAX_VALUE	(32u * 1024 * 1024)

/* Prefix of the keys whose changes are logged: the objects. */
#define STORE_LOG_SCOPE		STORE_KEY_OBJECT
/* Revisions the change log keeps, and how far past that it may grow. */
#define STORE_LOG_KEEP		10000
#define STORE_LOG_SLACK		1000

/*
 * Opens (creating) the store under dir/store, taking dir/edgesite.lock so a
 * second edgesite on the same directory is refused. NULL on failure with a
 * message in *errstr (static storage, valid until the next call).
 */
struct store	*store_open(struct event_base *, const char *dir,
		    const char **errstr);
/*
 * The repair (store_repair.c drives it). store_salvage runs LevelDB's
 * repair on dir/store under the directory's lock, so that a store whose
 * CURRENT, manifest or log is damaged opens again; its account is in
 * dir/store/LOG until the next open. LevelDB's repair does not verify
 * checksums, so store_salvage_values then copies what reads clean (blocks
 * verified, each value checked) into a new database: each value left
 * behind is told to cb (key and why), damaged blocks whose entries cannot
 * be named as one call with a NULL key and LevelDB's text. The revision
 * moves past every value's and the change log restarts there
 * (*revision), so a reader resuming from before lists again. The old
 * files are kept in *aside (caller frees), the copy takes their place.
 * Both return 0, or -1 with a message in *errstr.
 */
typedef void (*store_salvage_cb)(const char *key, size_t keylen,
    const char *why, void *arg);
int		 store_salvage(const char *dir, const char **errstr);
int		 store_salvage_values(const char *dir, store_salvage_cb,
		    void *arg, uint64_t *revision, char **aside,
		    const char **errstr);
/* Flushes and closes; pending change callbacks are dropped. Accepts NULL. */
void		 store_close(struct store *);

/*
 * Reads key into a new buffer the caller frees (NUL-terminated, *len
 * excludes the NUL). Returns 0 when found, 1 when absent or damaged (a
 * damaged value is logged and counted), -1 on a LevelDB error.
 */
int		 store_get(struct store *, const char *key, char **val,
		    size_t *len);
/* store_get that also tells the revision that wrote the value. */
int		 store_get_rev(struct store *, const char *key, char **val,
		    size_t *len, uint64_t *rev);
/* A batch of one put; returns 0 or -1. */
int		 store_put(struct store *, const char *key, const void *val,
		    size_t len);
/* A batch of one delete; returns 0 or -1. */
int		 store_delete(struct store *, const char *key);

struct store_batch *store_batch_new(struct store *);
void		 store_batch_put(struct store_batch *, const char *key,
		    const void *val, size_t len);
void		 store_batch_delete(struct store_batch *, const char *key);
/*
 * Writes the batch atomically with the bumped revision and frees it. 0 on
 * success; -1 on failure (nothing written, logged once).
 */
int		 store_batch_commit(struct store_batch *);
/* Discards a batch not committed. Accepts NULL. */
void		 store_batch_free(struct store_batch *);

/*
 * Durability. store_batch_commit leaves its write in the kernel's cache:
 * it survives edgesite being killed, not a power loss. A write whose
 * result is acknowledged to a peer commits with store_batch_commit_sync:
 * written at once (readers see it) and made durable, with every batch
 * committed before it, by one fsync'ed write on the next loop turn, so
 * the synced batches of a turn share one sync. *rev is the batch's
 * revision (0 on failure): the peer may be told once store_synced()
 * reaches it; the sync watches are told after each sync.
 */
int		 store_batch_commit_sync(struct store_batch *, uint64_t *rev);
/*
 * Asks for the sync of the next loop turn if a batch is not synced yet:
 * for a caller that learns after the commit that a peer waits for it.
 */
void		 store_sync_soon(struct store *);
/* The revision made durable: every batch up to it survives a crash. */
uint64_t	 store_synced(struct store *);
/*
 * 1 after a failed write (commit or sync) until a write succeeds: the
 * store is then "degraded" on /readyz, with "no space" for a full disk.
 */
int		 store_degraded(struct store *);
/* Failed writes since open (a cheap store_get_stats().write_errors). */
uint64_t	 store_write_errors(struct store *);

/*
 * Told after each sync: synced is store_synced(), failed is 1 when this
 * sync failed (what waited for it is not durable; a later synced commit
 * tries again). Lives until store_sync_unwatch or store_close; it is safe
 * to unwatch from inside the callback.
 */

typedef void (*store_synced_cb)(uint64_t synced, int failed, void *arg);
struct store_sync_watch *store_sync_watch(struct store *, store_synced_cb,
		    void *arg);
/* Ends a watch. Accepts NULL. */
void		 store_sync_unwatch(struct store_sync_watch *);

/*
 * Calls cb for each key starting with prefix, in key order, with the
 * value verified (damaged values are skipped and counted). cb returns 0 to
 * go on, non-zero to stop. Returns 0, or -1 on a LevelDB error.
 */
typedef int (*store_scan_cb)(const char *key, const char *val, size_t len,
    void *arg);
int		 store_scan(struct store *, const char *prefix, store_scan_cb,
		    void *arg);
/* Like store_scan but starting after key start (for paging). */
int		 store_scan_from(struct store *, const char *prefix,
		    const char *start, store_scan_cb, void *arg);

/*
 * store_scan_from that also tells each value's revision; start may be
 * NULL.
 */
typedef int (*store_scan_rev_cb)(const char *key, const char *val,
    size_t len, uint64_t rev, void *arg);
int		 store_scan_rev(struct store *, const char *prefix,
		    const char *start, store_scan_rev_cb, void *arg);

/* The local revision: bumped by every committed batch, persistent. */
uint64_t	 store_revision(struct store *);

enum store_change_type {
	STORE_CHANGE_ADDED,
	STORE_CHANGE_MODIFIED,	/* also any put outside STORE_LOG_SCOPE */
	STORE_CHANGE_DELETED,
};

/*
 * One change as subscribers see it: val is NULL for a delete. For an
 * object (STORE_LOG_SCOPE) that was modified or deleted, old is the value
 * it had before (store_log_scan tells it for deletes only). The strings
 * are valid only during the callback.
 */
struct store_change {
	const char		*key;
	const char		*val;
	size_t			 len;
	uint64_t		 revision;	/* revision of the batch */
	enum store_change_type	 type;
	const char		*old;
	size_t			 oldlen;
};
typedef void (*store_change_cb)(const struct store_change *, void *arg);

/*
 * The revision the change log is complete after: store_log_scan can
 * resume from it or any later revision.
 */
uint64_t	 store_log_first(struct store *);
/*
 * Calls cb, in revision order, for the logged changes after revision
 * after to keys under prefix that still hold: a put is told with the
 * value the key has now when no later change replaced it (a later one is
 * told in its place), a delete with the value the object had. Returns 0,
 * or -1 on a LevelDB error.
 */
int		 store_log_scan(struct store *, uint64_t after,
		    const char *prefix, store_change_cb, void *arg);
/*
 * store_log_scan in steps, for a reader that goes at its client's pace:
 * resumes after the log entry *pos names (NULL: after revision after);
 * step returns non-zero to stop after the change it was told, and *pos
 * (caller frees) then names that entry. Returns 1 when stopped, 0 at the
 * end of the log, -1 on a LevelDB error.
 */
typedef int (*store_log_step_cb)(const struct store_change *, void *arg);
int		 store_log_step(struct store *, uint64_t after, char **pos,
		    const char *prefix, store_log_step_cb, void *arg);

/*
 * A snapshot: the store as the current revision left it, for a reader
 * that scans it over many loop turns while writes go on. The store keeps
 * the old values it shows until store_snap_free; scans of a snapshot
 * fail once the store is closed or reopens LevelDB after a failed write.
 * Owned by the caller.
 */
struct store_snap;
struct store_snap *store_snap_new(struct store *);
uint64_t	 store_snap_revision(const struct store_snap *);
/* store_scan_rev of the snapshot: 0, or -1 on an error. */
int		 store_snap_scan(struct store_snap *, const char *prefix,
		    const char *start, store_scan_rev_cb, void *arg);
/* Accepts NULL. */
void		 store_snap_free(struct store_snap *);

/*
 * Calls cb, on the loop after each commit, for every changed key under
 * prefix. The subscription lives until store_unsubscribe or store_close;
 * it is safe to unsubscribe (any subscription) from inside a callback.
 */
struct store_sub *store_subscribe(struct store *, const char *prefix,
		    store_change_cb, void *arg);
void		 store_unsubscribe(struct store_sub *);

struct store_stats {
	uint64_t	gets;
	uint64_t	puts;
	uint64_t	deletes;
	uint64_t	commits;
	uint64_t	scans;
	uint64_t	errors;
	uint64_t	write_errors;	/* failed commits and syncs */
	uint64_t	syncs;		/* fsync'ed writes */
	uint64_t	damaged;	/* values that failed their check */
	uint64_t	disk_bytes;	/* approximate size on disk */
};
void		 store_get_stats(struct store *, struct store_stats *);
/* /metrics: the store's families; arg is the store (core/metrics.h). */
void		 store_metrics(struct metrics_out *, void *arg);
const char	*store_dir(struct store *);

#endif
