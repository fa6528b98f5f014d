/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readers that go at a client's pace: a snapshot shows the store as one
 * revision left it while writes go on, resumes after a key, and fails
 * once the store is closed; the change log read in steps tells the same
 * changes as read at once, stopping and resuming where the reader says.
 */
#include "config.h"

#include <sys/stat.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/xmalloc.h"
#include "store/store.h"
#include "unit.h"

static struct event_base	*base;
static char			 tmpdir[] = "/tmp/test_store_snap.XXXXXX";

/* What a scan or a log walk saw, one line per key. */
struct seen {
	char	 buf[4096];
	size_t	 n;
	size_t	 stop_every;	/* stop after every this many (0: never) */
	char	*last;		/* the last key told */
};

static struct store *
open_ok(const char *name)
{
	struct store	*s;
	const char	*errstr = NULL;
	char		*dir;

	xasprintf(&dir, "%s/%s", tmpdir, name);
	s = store_open(base, dir, &errstr);
	if (s == NULL)
		fprintf(stderr, "store_open %s: %s\n", dir, errstr);
	CHECK(s != NULL);
	free(dir);
	return s;
}

static int
put_str(struct store *s, const char *key, const char *val)
{
	return store_put(s, key, val, strlen(val));
}

static void
seen_add(struct seen *r, const char *key, const char *val, uint64_t rev)
{
	size_t	used = strlen(r->buf);

	snprintf(r->buf + used, sizeof(r->buf) - used, "%s=%s@%" PRIu64 "\n",
	    key, val, rev);
	r->n++;
	free(r->last);
	r->last = xstrdup(key);
}

static int
snap_cb(const char *key, const char *val, size_t len, uint64_t rev,
    void *arg)
{
	struct seen	*r = arg;

	CHECK(strlen(val) == len);
	seen_add(r, key, val, rev);
	return r->stop_every != 0 && r->n % r->stop_every == 0;
}

static int
step_cb(const struct store_change *ch, void *arg)
{
	struct seen	*r = arg;

	seen_add(r, ch->key, ch->val != NULL ? ch->val : ch->old != NULL ?
	    ch->old : "-", ch->revision);
	return r->stop_every != 0 && r->n % r->stop_every == 0;
}

static void
log_cb(const struct store_change *ch, void *arg)
{
	(void)step_cb(ch, arg);
}

static void
test_snapshot(void)
{
	struct store		*s;
	struct store_snap	*sn, *gone;
	struct seen		 r;
	size_t			 rounds = 0;

	s = open_ok("snap");
	CHECK(put_str(s, "o/pods/ns/a", "a1") == 0);		/* 1 */
	CHECK(put_str(s, "o/pods/ns/b", "b1") == 0);		/* 2 */
	CHECK(put_str(s, "o/pods/ns/c", "c1") == 0);		/* 3 */
	sn = store_snap_new(s);
	CHECK(store_snap_revision(sn) == 3);
	/* writes after the snapshot do not show in it */
	CHECK(put_str(s, "o/pods/ns/a", "a2") == 0);
	CHECK(store_delete(s, "o/pods/ns/b") == 0);
	CHECK(put_str(s, "o/pods/ns/bb", "new") == 0);
	memset(&r, 0, sizeof(r));
	CHECK(store_snap_scan(sn, "o/pods/", NULL, snap_cb, &r) == 0);
	CHECK_STR(r.buf, "o/pods/ns/a=a1@1\no/pods/ns/b=b1@2\n"
	    "o/pods/ns/c=c1@3\n");
	free(r.last);

	/* one at a time, resuming after the last key told */
	memset(&r, 0, sizeof(r));
	r.stop_every = 1;
	do {
		CHECK(store_snap_scan(sn, "o/pods/", r.last, snap_cb, &r) == 0);
		rounds++;
	} while (rounds < 10 && r.n == rounds);
	CHECK(rounds == 4);
	CHECK_STR(r.buf, "o/pods/ns/a=a1@1\no/pods/ns/b=b1@2\n"
	    "o/pods/ns/c=c1@3\n");
	free(r.last);
	store_snap_free(sn);
	store_snap_free(NULL);

	/* a snapshot held over the close no longer reads */
	gone = store_snap_new(s);
	store_close(s);
	memset(&r, 0, sizeof(r));
	CHECK(store_snap_scan(gone, "o/", NULL, snap_cb, &r) == -1);
	CHECK(r.n == 0);
	store_snap_free(gone);
}

static void
test_log_step(void)
{
	struct store		*s;
	struct store_batch	*b;
	struct seen		 all, r;
	char			*pos = NULL;
	int			 rc, rounds = 0;

	s = open_ok("step");
	CHECK(put_str(s, "o/pods/ns/a", "a1") == 0);		/* 1 */
	b = store_batch_new(s);					/* 2 */
	store_batch_put(b, "o/pods/ns/b", "b1", 2);
	store_batch_put(b, "o/pods/ns/c", "c1", 2);
	store_batch_put(b, "o/pods/ns/d", "d1", 2);
	CHECK(store_batch_commit(b) == 0);
	CHECK(put_str(s, "o/cms/ns/x", "x1") == 0);		/* 3 */
	CHECK(store_delete(s, "o/pods/ns/c") == 0);		/* 4 */
	CHECK(put_str(s, "o/pods/ns/e", "e1") == 0);		/* 5 */

	memset(&all, 0, sizeof(all));
	CHECK(store_log_scan(s, 1, "o/pods/", log_cb, &all) == 0);
	CHECK_STR(all.buf, "o/pods/ns/b=b1@2\no/pods/ns/d=d1@2\n"
	    "o/pods/ns/c=c1@4\no/pods/ns/e=e1@5\n");

	/* stopped after each change, even inside one batch: the same */
	memset(&r, 0, sizeof(r));
	r.stop_every = 1;
	while ((rc = store_log_step(s, 1, &pos, "o/pods/", step_cb, &r)) ==
	    1 && ++rounds < 10)
		CHECK(pos != NULL);
	CHECK(rc == 0);
	CHECK(rounds == 4);
	CHECK_STR(r.buf, all.buf);
	free(r.last);
	free(pos);
	pos = NULL;

	/* never stopped: to the end at once, the position untouched */
	memset(&r, 0, sizeof(r));
	CHECK(store_log_step(s, 4, &pos, "o/", step_cb, &r) == 0);
	CHECK(pos == NULL);
	CHECK_STR(r.buf, "o/pods/ns/e=e1@5\n");
	free(r.last);
	free(all.last);
	store_close(s);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	unit_init();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	base = event_base_new();
	test_snapshot();
	test_log_step();
	event_base_free(base);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
