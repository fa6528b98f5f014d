/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LevelDB's write-ahead logs read on our own for the repair. LevelDB's
 * repair replays a log without verifying its records' checksums, so the
 * writes of a damaged record would come back as if whole, under keys that
 * may themselves be damaged. This reader verifies every record and keeps
 * the keys the damaged ones write that no later sound record writes
 * again: the repair deletes them and names each.
 */
#ifndef EDGESITE_STORE_WAL_H
#define EDGESITE_STORE_WAL_H

#include <stddef.h>

struct store_wal;

/* Suspect keys held at most; more are counted as unnamed. */
#define STORE_WAL_MAX_SUSPECTS	100000

struct store_wal	*store_wal_new(void);
void			 store_wal_free(struct store_wal *);
/*
 * Reads one log file; call in the order LevelDB wrote them (by file
 * number). 0, or -1 with errno when the file cannot be read.
 */
int			 store_wal_read(struct store_wal *, const char *path);
/*
 * Reads a log held in memory (tests). Each damaged record counts; its
 * keys join the suspects when they can be decoded.
 */
void			 store_wal_scan(struct store_wal *, const unsigned char *,
			    size_t);
/* Damaged records met, and how many of them had keys that could not all
 * be named. */
size_t			 store_wal_damaged(const struct store_wal *);
size_t			 store_wal_unnamed(const struct store_wal *);
/* Calls cb for each suspect key. */
typedef void (*store_wal_cb)(const char *key, size_t keylen, void *arg);
void			 store_wal_each(const struct store_wal *, store_wal_cb,
			    void *arg);

#endif
