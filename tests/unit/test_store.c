/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: put/get/delete, batches, prefix scans and paging, the
 * revision, each value's revision and the change log, change delivery on
 * the loop, damaged values, the directory lock and the messages for
 * directories that cannot be opened, synced batches grouped per loop turn
 * and a failed write degrading the store until one succeeds.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/health.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_value.h"
#include "unit.h"

static struct event_base	*base;
static char			 tmpdir[] = "/tmp/test_store.XXXXXX";

/* A fresh state directory path under the test's temp dir. */
static char *
state_dir(const char *name)
{
	char	*dir;

	xasprintf(&dir, "%s/%s", tmpdir, name);
	return dir;
}

static struct store *
open_ok(const char *dir)
{
	struct store	*s;
	const char	*errstr = NULL;

	s = store_open(base, dir, &errstr);
	if (s == NULL)
		fprintf(stderr, "store_open %s: %s\n", dir, errstr);
	CHECK(s != NULL);
	return s;
}

/* The value at key as a string, or NULL; caller frees. */
static char *
get_str(struct store *s, const char *key)
{
	char	*val;
	size_t	 len;

	if (store_get(s, key, &val, &len) != 0)
		return NULL;
	CHECK(strlen(val) == len);
	return val;
}

/* Checks key holds want (NULL: absent). */
static void
check_val(struct store *s, const char *key, const char *want)
{
	char	*val = get_str(s, key);

	if (want == NULL)
		CHECK(val == NULL);
	else
		CHECK_STR(val, want);
	free(val);
}

static int
put_str(struct store *s, const char *key, const char *val)
{
	return store_put(s, key, val, strlen(val));
}

static void
test_put_get_delete(void)
{
	struct store		*s;
	struct store_stats	 st;
	char			*dir = state_dir("basic"), *val;
	size_t			 len = 99;

	s = open_ok(dir);
	CHECK_STR(store_dir(s), dir);
	CHECK(store_get(s, "o/pods/ns/a", &val, &len) == 1);
	CHECK(put_str(s, "o/pods/ns/a", "{\"a\":1}") == 0);
	check_val(s, "o/pods/ns/a", "{\"a\":1}");
	CHECK(put_str(s, "o/pods/ns/a", "{\"a\":2}") == 0);
	check_val(s, "o/pods/ns/a", "{\"a\":2}");
	/* empty values are values */
	CHECK(store_put(s, "v/pods", "", 0) == 0);
	CHECK(store_get(s, "v/pods", &val, &len) == 0);
	CHECK(len == 0 && val[0] == '\0');
	free(val);
	/* existence check without a copy */
	CHECK(store_get(s, "v/pods", NULL, NULL) == 0);
	CHECK(store_delete(s, "o/pods/ns/a") == 0);
	check_val(s, "o/pods/ns/a", NULL);
	/* deleting what is absent is no error */
	CHECK(store_delete(s, "o/pods/ns/none") == 0);
	/* the revision key belongs to the store */
	CHECK(put_str(s, STORE_KEY_REVISION, "7") == -1);
	CHECK(store_delete(s, STORE_KEY_REVISION) == -1);

	store_get_stats(s, &st);
	CHECK(st.puts == 3);
	CHECK(st.deletes == 2);
	CHECK(st.commits == 5);
	CHECK(st.gets >= 5);
	CHECK(st.errors == 2);
	CHECK(st.damaged == 0);
	CHECK(st.disk_bytes > 0);
	store_close(s);
	free(dir);
}

static void
test_max_value(void)
{
	struct store	*s;
	char		*dir = state_dir("max"), *big;

	s = open_ok(dir);
	big = xcalloc(1, STORE_MAX_VALUE + 1);
	memset(big, 'x', STORE_MAX_VALUE);
	CHECK(store_put(s, "o/pods/ns/big", big, STORE_MAX_VALUE + 1) == -1);
	check_val(s, "o/pods/ns/big", NULL);
	CHECK(store_revision(s) == 0);
	free(big);
	store_close(s);
	free(dir);
}

static void
test_batch(void)
{
	struct store		*s;
	struct store_batch	*b;
	char			*dir = state_dir("batch"), big[1];

	s = open_ok(dir);
	CHECK(put_str(s, "o/pods/ns/old", "old") == 0);
	CHECK(store_revision(s) == 1);

	b = store_batch_new(s);
	store_batch_put(b, "o/pods/ns/a", "A", 1);
	store_batch_put(b, "o/pods/ns/b", "B", 1);
	store_batch_delete(b, "o/pods/ns/old");
	/* a later op on the same key wins */
	store_batch_put(b, "o/pods/ns/a", "A2", 2);
	CHECK(store_batch_commit(b) == 0);
	CHECK(store_revision(s) == 2);
	check_val(s, "o/pods/ns/a", "A2");
	check_val(s, "o/pods/ns/b", "B");
	check_val(s, "o/pods/ns/old", NULL);

	/* one refused op fails the whole batch: nothing written */
	b = store_batch_new(s);
	store_batch_put(b, "o/pods/ns/c", "C", 1);
	store_batch_delete(b, "o/pods/ns/b");
	/* refused on its length alone, before a byte is read */
	store_batch_put(b, "o/pods/ns/d", big, (size_t)STORE_MAX_VALUE + 1);
	CHECK(store_batch_commit(b) == -1);
	check_val(s, "o/pods/ns/c", NULL);
	check_val(s, "o/pods/ns/b", "B");
	CHECK(store_revision(s) == 2);

	/* an empty batch changes nothing */
	CHECK(store_batch_commit(store_batch_new(s)) == 0);
	CHECK(store_revision(s) == 2);

	/* a discarded batch writes nothing */
	b = store_batch_new(s);
	store_batch_put(b, "o/pods/ns/e", "E", 1);
	store_batch_free(b);
	store_batch_free(NULL);
	check_val(s, "o/pods/ns/e", NULL);
	store_close(s);
	free(dir);
}

struct scan_rec {
	char	 keys[24][64];
	char	 vals[24][64];
	int	 n;
	int	 stop_after;	/* stop after this many (0: never) */
};

static int
scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct scan_rec	*r = arg;

	CHECK(strlen(val) == len);
	if (r->n < 24) {
		snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", key);
		snprintf(r->vals[r->n], sizeof(r->vals[0]), "%s", val);
	}
	r->n++;
	return r->stop_after != 0 && r->n >= r->stop_after;
}

/* Scans again from inside a scan; the outer key must survive it. */
static int
nested_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct store	*s = arg;
	struct scan_rec	 inner;
	char		 copy[64];

	CHECK(strlen(val) == len);
	snprintf(copy, sizeof(copy), "%s", key);
	memset(&inner, 0, sizeof(inner));
	CHECK(store_scan(s, "", scan_cb, &inner) == 0);
	CHECK(inner.n == 17);
	CHECK_STR(key, copy);
	return 0;
}

static void
test_scan(void)
{
	static const char	*keys[] = {
		"o/pod", "o/pods", "o/pods/b/z", "o/pods/a/x", "o/pods/b/y",
		"o/podsx/a/q", "o/pods0", "p",
	};
	struct store		*s;
	struct scan_rec		 r;
	char			*dir = state_dir("scan");
	size_t			 i;

	s = open_ok(dir);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(put_str(s, keys[i], keys[i]) == 0);

	/* key order, and only keys under the prefix */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan(s, "o/pods/", scan_cb, &r) == 0);
	CHECK(r.n == 3);
	CHECK_STR(r.keys[0], "o/pods/a/x");
	CHECK_STR(r.keys[1], "o/pods/b/y");
	CHECK_STR(r.keys[2], "o/pods/b/z");
	CHECK_STR(r.vals[2], "o/pods/b/z");

	/* a prefix without a slash matches the longer names too */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan(s, "o/pods", scan_cb, &r) == 0);
	CHECK(r.n == 6);
	CHECK_STR(r.keys[0], "o/pods");
	CHECK_STR(r.keys[4], "o/pods0");
	CHECK_STR(r.keys[5], "o/podsx/a/q");

	/* nothing under a prefix past every key, or between keys */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan(s, "q", scan_cb, &r) == 0);
	CHECK(r.n == 0);
	CHECK(store_scan(s, "o/pods/c", scan_cb, &r) == 0);
	CHECK(r.n == 0);

	/* the callback stops the scan */
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	CHECK(store_scan(s, "o/", scan_cb, &r) == 0);
	CHECK(r.n == 2);

	/*
	 * the empty prefix sees everything: the change log (one entry per
	 * object put), its start, the objects and the revision key
	 */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan(s, "", scan_cb, &r) == 0);
	CHECK(r.n == 17);
	CHECK_STR(r.keys[0], "c/00000000000000000001/000000");
	CHECK_STR(r.keys[7], "k");
	CHECK_STR(r.keys[15], "p");
	CHECK_STR(r.keys[16], "r");
	CHECK_STR(r.vals[16], "8");
	CHECK(store_scan(s, "o/pods/", nested_cb, s) == 0);
	store_close(s);
	free(dir);
}

static void
test_scan_from(void)
{
	struct store	*s;
	struct scan_rec	 r;
	char		*dir = state_dir("page"), key[64];
	char		 last[64] = "";
	int		 i, pages = 0, total = 0;

	s = open_ok(dir);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "o/pods/ns/p%02d", i);
		CHECK(put_str(s, key, key) == 0);
	}
	CHECK(put_str(s, "o/podsy/ns/p", "outside") == 0);
	CHECK(put_str(s, "o/configmaps/ns/c", "outside") == 0);

	/* pages of three, each resuming after the last key seen */
	do {
		memset(&r, 0, sizeof(r));
		r.stop_after = 3;
		CHECK(store_scan_from(s, "o/pods/", pages == 0 ? NULL : last,
		    scan_cb, &r) == 0);
		if (r.n > 0) {
			snprintf(key, sizeof(key), "o/pods/ns/p%02d", total);
			CHECK_STR(r.keys[0], key);
			snprintf(last, sizeof(last), "%s", r.keys[r.n - 1]);
		}
		total += r.n;
		pages++;
	} while (r.n == 3 && pages < 10);
	CHECK(total == 7);
	CHECK(pages == 3);

	/* a start that is not a key resumes at the next one */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan_from(s, "o/pods/", "o/pods/ns/p03x", scan_cb, &r) ==
	    0);
	CHECK(r.n == 3);
	CHECK_STR(r.keys[0], "o/pods/ns/p04");

	/* a start before the prefix begins at the prefix */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan_from(s, "o/pods/", "o/a", scan_cb, &r) == 0);
	CHECK(r.n == 7);

	/* a start past the prefix yields nothing */
	memset(&r, 0, sizeof(r));
	CHECK(store_scan_from(s, "o/pods/", "o/pods/zz", scan_cb, &r) == 0);
	CHECK(r.n == 0);
	CHECK(store_scan_from(s, "o/pods/", "o/pods/ns/p06", scan_cb, &r) ==
	    0);
	CHECK(r.n == 0);
	store_close(s);
	free(dir);
}

static void
test_revision_persists(void)
{
	struct store	*s;
	char		*dir = state_dir("rev");

	s = open_ok(dir);
	CHECK(store_revision(s) == 0);
	CHECK(put_str(s, "o/pods/ns/a", "1") == 0);
	CHECK(put_str(s, "o/pods/ns/b", "2") == 0);
	CHECK(store_delete(s, "o/pods/ns/a") == 0);
	CHECK(store_revision(s) == 3);
	check_val(s, STORE_KEY_REVISION, "3");
	store_close(s);

	s = open_ok(dir);
	CHECK(store_revision(s) == 3);
	check_val(s, "o/pods/ns/b", "2");
	check_val(s, "o/pods/ns/a", NULL);
	CHECK(put_str(s, "o/pods/ns/c", "3") == 0);
	CHECK(store_revision(s) == 4);
	store_close(s);

	s = open_ok(dir);
	CHECK(store_revision(s) == 4);
	store_close(s);
	store_close(NULL);
	free(dir);
}

struct sub_rec {
	char			 keys[16][64];
	char			 vals[16][64];
	uint64_t		 revs[16];
	int			 n;
	struct store		*s;
	struct store_sub	*sub;	/* this record's subscription */
	/* on the first change: */
	struct store_sub	*self;	/* unsubscribe this */
	struct store_sub	*victim; /* and this */
	struct sub_rec		*spawn;	/* subscribe this record */
	int			 commit; /* commit a change */
	int			 close;	/* close the store */
};

static int	sub_depth;

static void	sub_cb_record(const struct store_change *, struct sub_rec *);

static void
sub_cb(const struct store_change *ch, void *arg)
{
	struct sub_rec	*r = arg;

	CHECK(sub_depth == 0);
	sub_depth++;
	sub_cb_record(ch, r);
	sub_depth--;
}

/* Records a change, then does what the record asks on its first one. */
static void
sub_cb_record(const struct store_change *ch, struct sub_rec *r)
{
	if (r->n < 16) {
		snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", ch->key);
		snprintf(r->vals[r->n], sizeof(r->vals[0]), "%s",
		    ch->val != NULL ? ch->val : "(deleted)");
		r->revs[r->n] = ch->revision;
		if (ch->val != NULL)
			CHECK(strlen(ch->val) == ch->len);
	}
	if (r->n++ > 0)
		return;
	if (r->self != NULL)
		store_unsubscribe(r->self);
	if (r->victim != NULL)
		store_unsubscribe(r->victim);
	if (r->spawn != NULL)
		r->spawn->sub = store_subscribe(r->s, "o/", sub_cb, r->spawn);
	if (r->commit)
		CHECK(put_str(r->s, "o/pods/ns/fromcb", "cb") == 0);
	if (r->close)
		store_close(r->s);
}

static void
loop_once(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
test_subscribe(void)
{
	struct store		*s;
	struct store_batch	*b;
	struct sub_rec		 pods, all, cms;
	struct store_sub	*sp, *sa, *sc;
	char			*dir = state_dir("sub");

	memset(&pods, 0, sizeof(pods));
	memset(&all, 0, sizeof(all));
	memset(&cms, 0, sizeof(cms));
	s = open_ok(dir);
	CHECK(put_str(s, "o/pods/ns/before", "x") == 0);
	sp = store_subscribe(s, "o/pods/", sub_cb, &pods);
	sa = store_subscribe(s, "", sub_cb, &all);
	sc = store_subscribe(s, "o/configmaps/", sub_cb, &cms);
	/* the change committed before subscribing is not delivered */
	loop_once();
	CHECK(pods.n == 0 && all.n == 0);

	b = store_batch_new(s);
	store_batch_put(b, "o/pods/ns/a", "A", 1);
	store_batch_put(b, "o/secrets/ns/s", "S", 1);
	store_batch_delete(b, "o/pods/ns/before");
	CHECK(store_batch_commit(b) == 0);
	CHECK(put_str(s, "o/pods/ns/a", "A2") == 0);
	/* nothing is delivered from inside commit */
	CHECK(pods.n == 0 && all.n == 0);
	/* changing the store after commit does not change what is delivered */
	CHECK(put_str(s, "x/pods/ns/a", "outbox") == 0);
	loop_once();

	CHECK(pods.n == 3);
	CHECK_STR(pods.keys[0], "o/pods/ns/a");
	CHECK_STR(pods.vals[0], "A");
	CHECK(pods.revs[0] == 2);
	CHECK_STR(pods.keys[1], "o/pods/ns/before");
	CHECK_STR(pods.vals[1], "(deleted)");
	CHECK(pods.revs[1] == 2);
	CHECK_STR(pods.vals[2], "A2");
	CHECK(pods.revs[2] == 3);
	/* the empty prefix sees every change but never the revision key */
	CHECK(all.n == 5);
	CHECK_STR(all.keys[1], "o/secrets/ns/s");
	CHECK_STR(all.keys[4], "x/pods/ns/a");
	CHECK(all.revs[4] == 4);
	CHECK(cms.n == 0);

	/* nothing more on a later turn */
	loop_once();
	CHECK(pods.n == 3 && all.n == 5);

	store_unsubscribe(sp);
	store_unsubscribe(sa);
	store_unsubscribe(sc);
	store_unsubscribe(NULL);
	CHECK(put_str(s, "o/pods/ns/after", "x") == 0);
	loop_once();
	CHECK(pods.n == 3 && all.n == 5);
	store_close(s);
	free(dir);
}

static void
test_subscribe_from_callback(void)
{
	struct store		*s;
	struct store_batch	*b;
	struct sub_rec		 a, v, spawner, spawned, committer;
	char			*dir = state_dir("subcb");

	memset(&a, 0, sizeof(a));
	memset(&v, 0, sizeof(v));
	memset(&spawner, 0, sizeof(spawner));
	memset(&spawned, 0, sizeof(spawned));
	memset(&committer, 0, sizeof(committer));
	s = open_ok(dir);
	a.s = spawner.s = spawned.s = committer.s = s;
	/* a unsubscribes itself and v, which comes after it in the list */
	a.self = store_subscribe(s, "o/", sub_cb, &a);
	a.victim = store_subscribe(s, "o/", sub_cb, &v);
	spawner.spawn = &spawned;
	spawner.sub = store_subscribe(s, "o/", sub_cb, &spawner);
	committer.commit = 1;
	store_subscribe(s, "o/pods/ns/a", sub_cb, &committer);

	b = store_batch_new(s);
	store_batch_put(b, "o/pods/ns/a", "1", 1);
	store_batch_put(b, "o/pods/ns/b", "2", 1);
	CHECK(store_batch_commit(b) == 0);
	loop_once();
	CHECK(a.n == 1);
	CHECK(v.n == 0);
	CHECK(committer.n == 1);
	/*
	 * The commit made in a callback is delivered after the pass that made
	 * it (sub_cb checks nothing nests), on the loop's next iteration.
	 */
	CHECK(spawner.n == 3);
	CHECK(spawner.revs[1] == 1);
	CHECK(spawner.revs[2] == 2);
	CHECK_STR(spawner.keys[2], "o/pods/ns/fromcb");
	/* subscribed during revision 1: sees only what came after */
	CHECK(spawned.n == 1);
	CHECK_STR(spawned.keys[0], "o/pods/ns/fromcb");
	CHECK(spawned.revs[0] == 2);
	CHECK(a.n == 1 && v.n == 0);
	store_unsubscribe(spawner.sub);
	store_unsubscribe(spawned.sub);
	/* the committer subscription is freed by store_close */
	store_close(s);
	free(dir);
}

static void
test_close_with_pending(void)
{
	struct store	*s;
	struct sub_rec	 r, closer;
	char		*dir = state_dir("pending");

	memset(&r, 0, sizeof(r));
	s = open_ok(dir);
	store_subscribe(s, "o/", sub_cb, &r);
	CHECK(put_str(s, "o/pods/ns/a", "1") == 0);
	CHECK(put_str(s, "o/pods/ns/b", "2") == 0);
	/* dropped, not delivered, not leaked */
	store_close(s);
	loop_once();
	CHECK(r.n == 0);

	/* closing from inside a change callback is safe */
	memset(&closer, 0, sizeof(closer));
	s = open_ok(dir);
	closer.s = s;
	closer.close = 1;
	store_subscribe(s, "o/", sub_cb, &closer);
	CHECK(put_str(s, "o/pods/ns/c", "3") == 0);
	CHECK(put_str(s, "o/pods/ns/d", "4") == 0);
	loop_once();
	loop_once();
	CHECK(closer.n == 1);
	s = open_ok(dir);
	CHECK(store_revision(s) == 4);
	store_close(s);
	free(dir);
}

static void
test_damaged(void)
{
	struct store		*s;
	struct store_stats	 st;
	struct scan_rec		 r;
	char			*dir = state_dir("damaged"), *frame;
	const char		*payload, *why;
	size_t			 flen, plen;

	s = open_ok(dir);
	CHECK(put_str(s, "o/pods/ns/a", "good") == 0);
	/* an unframed value */
	CHECK(store_put_raw(s, "o/pods/ns/b", "{\"raw\":1}", 9) == 0);
	/* a framed value with one payload bit flipped */
	frame = store_value_frame("{\"x\":1}", 7, &flen);
	frame[STORE_VALUE_HDR + 3] ^= 0x01;
	CHECK(store_put_raw(s, "o/pods/ns/c", frame, flen) == 0);
	/* one framed value cut short */
	frame[STORE_VALUE_HDR + 3] ^= 0x01;
	CHECK(store_put_raw(s, "o/pods/ns/d", frame, flen - 2) == 0);
	/* and the same frame intact, which must read back */
	CHECK(store_put_raw(s, "o/pods/ns/e", frame, flen) == 0);
	free(frame);

	check_val(s, "o/pods/ns/b", NULL);
	check_val(s, "o/pods/ns/c", NULL);
	check_val(s, "o/pods/ns/d", NULL);
	check_val(s, "o/pods/ns/e", "{\"x\":1}");
	store_get_stats(s, &st);
	CHECK(st.damaged == 3);

	memset(&r, 0, sizeof(r));
	CHECK(store_scan(s, "o/pods/", scan_cb, &r) == 0);
	CHECK(r.n == 2);
	CHECK_STR(r.keys[0], "o/pods/ns/a");
	CHECK_STR(r.keys[1], "o/pods/ns/e");
	store_get_stats(s, &st);
	CHECK(st.damaged == 6);

	/*
	 * A damaged revision key refuses the store rather than guess. Planted
	 * with nothing left to sync, so closing does not rewrite it.
	 */
	store_close(s);
	s = open_ok(dir);
	CHECK(store_put_raw(s, STORE_KEY_REVISION, "12", 2) == 0);
	store_close(s);
	s = store_open(base, dir, &why);
	CHECK(s == NULL);
	if (s == NULL)
		CHECK(strstr(why, "revision key is damaged") != NULL);
	store_close(s);

	/* the frame checks themselves */
	CHECK(store_value_crc32c(0, "123456789", 9) == 0xe3069283);
	frame = store_value_frame("abc", 3, &flen);
	CHECK(flen == 3 + STORE_VALUE_OVERHEAD);
	CHECK(store_value_check(frame, flen, &payload, &plen, &why) == 0);
	CHECK(plen == 3 && strcmp(payload, "abc") == 0);
	frame[0] = 0;
	CHECK(store_value_check(frame, flen, &payload, &plen, &why) == -1);
	CHECK_STR(why, "bad magic byte");
	frame[0] = (char)STORE_VALUE_MAGIC;
	frame[1] = 9;
	CHECK(store_value_check(frame, flen, &payload, &plen, &why) == -1);
	frame[1] = STORE_VALUE_VERSION;
	frame[7] ^= 0x40;
	CHECK(store_value_check(frame, flen, &payload, &plen, &why) == -1);
	CHECK_STR(why, "checksum mismatch");
	CHECK(store_value_check(frame, 4, &payload, &plen, &why) == -1);
	free(frame);
	free(dir);
}

/* What a change log walk saw, as "type key value rev" lines. */
struct log_rec {
	char	buf[4096];
	size_t	n;
};

static void
log_cb(const struct store_change *ch, void *arg)
{
	struct log_rec	*r = arg;
	size_t		 used = strlen(r->buf);

	snprintf(r->buf + used, sizeof(r->buf) - used, "%c %s %s %" PRIu64
	    "\n", ch->type == STORE_CHANGE_ADDED ? 'A' :
	    ch->type == STORE_CHANGE_MODIFIED ? 'M' : 'D', ch->key,
	    ch->val != NULL ? ch->val : ch->old != NULL ? ch->old : "-",
	    ch->revision);
	r->n++;
}

/* Collects the change log after rev under prefix. */
static void
log_walk(struct store *s, uint64_t after, const char *prefix,
    struct log_rec *r)
{
	memset(r, 0, sizeof(*r));
	CHECK(store_log_scan(s, after, prefix, log_cb, r) == 0);
}

static int
scan_rev_cb(const char *key, const char *val, size_t len, uint64_t rev,
    void *arg)
{
	uint64_t	*revs = arg;

	(void)val;
	(void)len;
	if (strcmp(key, "o/pods/ns/a") == 0)
		revs[0] = rev;
	else
		revs[1] = rev;
	return 0;
}

static void
test_change_log(void)
{
	struct store		*s;
	struct store_batch	*b;
	struct log_rec		 r;
	struct sub_rec		 rec;
	struct store_sub	*sub;
	char			*dir = state_dir("log"), *val, key[32];
	size_t			 len;
	uint64_t		 rev, first, revs[2] = { 0, 0 };
	int			 i;

	s = open_ok(dir);
	first = store_log_first(s);
	CHECK(first == 0);
	CHECK(put_str(s, "o/pods/ns/a", "a1") == 0);		/* 1 */
	CHECK(put_str(s, "o/pods/ns/b", "b1") == 0);		/* 2 */
	CHECK(put_str(s, "o/pods/ns/a", "a2") == 0);		/* 3 */
	CHECK(store_delete(s, "o/pods/ns/b") == 0);		/* 4 */
	CHECK(store_delete(s, "o/pods/ns/never") == 0);		/* 5 */
	CHECK(put_str(s, "x/outbox", "not an object") == 0);	/* 6 */
	CHECK(put_str(s, "o/nodes//n1", "n1") == 0);		/* 7 */

	/* each value knows the revision that wrote it */
	CHECK(store_get_rev(s, "o/pods/ns/a", &val, &len, &rev) == 0);
	CHECK(rev == 3);
	CHECK_STR(val, "a2");
	free(val);
	CHECK(store_scan_rev(s, "o/", NULL, scan_rev_cb, revs) == 0);
	CHECK(revs[0] == 3 && revs[1] == 7);

	/* a superseded put is told once, at its last revision */
	log_walk(s, 0, "o/pods/", &r);
	CHECK_STR(r.buf, "M o/pods/ns/a a2 3\nD o/pods/ns/b b1 4\n");
	log_walk(s, 3, "o/", &r);
	CHECK_STR(r.buf, "D o/pods/ns/b b1 4\nA o/nodes//n1 n1 7\n");
	log_walk(s, 7, "o/", &r);
	CHECK(r.n == 0);
	/* others may not write the log or its start */
	CHECK(put_str(s, "c/00000000000000000001/000000", "x") == -1);
	CHECK(put_str(s, STORE_KEY_LOG_FIRST, "0") == -1);

	/* subscribers see added, modified and a deleted object's value */
	memset(&rec, 0, sizeof(rec));
	sub = store_subscribe(s, "o/", sub_cb, &rec);
	CHECK(store_delete(s, "o/nodes//n1") == 0);
	loop_once();
	CHECK(rec.n == 1);
	store_unsubscribe(sub);

	/* the log survives a restart */
	store_close(s);
	s = open_ok(dir);
	CHECK(store_log_first(s) == 0);
	log_walk(s, 4, "o/", &r);
	CHECK_STR(r.buf, "D o/nodes//n1 n1 8\n");

	/* past KEEP + SLACK revisions the oldest go */
	for (i = 0; i < STORE_LOG_KEEP + STORE_LOG_SLACK; i++) {
		snprintf(key, sizeof(key), "o/cms/ns/c%d", i % 7);
		b = store_batch_new(s);
		store_batch_put(b, key, "v", 1);
		CHECK(store_batch_commit(b) == 0);
	}
	rev = store_revision(s);
	first = store_log_first(s);
	CHECK(first > 0 && rev - first >= STORE_LOG_KEEP &&
	    rev - first <= STORE_LOG_KEEP + STORE_LOG_SLACK);
	log_walk(s, first, "o/cms/", &r);
	CHECK(r.n == 7);
	store_close(s);
	s = open_ok(dir);
	CHECK(store_log_first(s) == first);
	store_close(s);
	free(dir);
}

static void
test_lock(void)
{
	struct store	*s, *s2;
	const char	*errstr = NULL;
	char		*dir = state_dir("lock"), want[128];

	s = open_ok(dir);
	/* a second open file description conflicts even in this process */
	s2 = store_open(base, dir, &errstr);
	CHECK(s2 == NULL);
	snprintf(want, sizeof(want), "is in use by another edgesite (pid %ld)",
	    (long)getpid());
	if (s2 == NULL) {
		CHECK(strstr(errstr, want) != NULL);
		CHECK(strstr(errstr, dir) != NULL);
	}
	store_close(s2);
	/* the refused open left the first store working */
	CHECK(put_str(s, "o/pods/ns/a", "1") == 0);
	store_close(s);
	/* released on close */
	s = open_ok(dir);
	store_close(s);
	free(dir);
}

static void
test_unopenable(void)
{
	struct store	*s;
	const char	*errstr = NULL;
	char		*file = state_dir("plainfile"), *under, *cur;
	FILE		*f;

	f = fopen(file, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	/* a regular file where the directory should be */
	s = store_open(base, file, &errstr);
	CHECK(s == NULL);
	if (s == NULL)
		CHECK(strstr(errstr, "is not a directory") != NULL);
	/* a directory under a regular file cannot be created */
	xasprintf(&under, "%s/state", file);
	s = store_open(base, under, &errstr);
	CHECK(s == NULL);
	if (s == NULL) {
		CHECK(strstr(errstr, "cannot create state directory") != NULL);
		CHECK(strstr(errstr, "Not a directory") != NULL);
		CHECK(strstr(errstr, under) != NULL);
	}
	free(under);

	/* a missing parent */
	xasprintf(&under, "%s/none/state", tmpdir);
	s = store_open(base, under, &errstr);
	CHECK(s == NULL);
	if (s == NULL)
		CHECK(strstr(errstr, "No such file or directory") != NULL);
	free(under);

	/* LevelDB's own corruption report reaches the message */
	under = state_dir("corrupt");
	s = open_ok(under);
	store_close(s);
	xasprintf(&cur, "%s/store/CURRENT", under);
	f = fopen(cur, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("garbage", f);
		fclose(f);
	}
	s = store_open(base, under, &errstr);
	CHECK(s == NULL);
	if (s == NULL) {
		CHECK(strstr(errstr, "cannot open the store in") != NULL);
		CHECK(strstr(errstr, "Corruption") != NULL);
	}
	/* and the failed open released the lock */
	s = store_open(base, under, &errstr);
	CHECK(s == NULL && strstr(errstr, "in use") == NULL);
	free(cur);
	free(under);
	free(file);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* What the sync watch saw. */
struct sync_rec {
	int			 n;
	uint64_t		 synced;
	int			 failed;
	struct store_sync_watch	*self;	/* unwatched from the callback */
};

static void
sync_cb(uint64_t synced, int failed, void *arg)
{
	struct sync_rec	*r = arg;

	r->n++;
	r->synced = synced;
	r->failed = failed;
	if (r->self != NULL) {
		store_sync_unwatch(r->self);
		r->self = NULL;
	}
}

/* A batch of one put, committed synced; returns its revision. */
static uint64_t
put_sync(struct store *s, const char *key, const char *val)
{
	struct store_batch	*b;
	uint64_t		 rev;

	b = store_batch_new(s);
	store_batch_put(b, key, val, strlen(val));
	CHECK(store_batch_commit_sync(b, &rev) == 0);
	return rev;
}

static uint64_t
sync_count(struct store *s)
{
	struct store_stats	st;

	store_get_stats(s, &st);
	return st.syncs;
}

static void
test_sync_grouped(void)
{
	struct store		*s;
	struct sync_rec		 r, once;
	struct store_sync_watch	*w;
	uint64_t		 r1, r2, syncs;
	char			*dir = state_dir("sync");

	memset(&r, 0, sizeof(r));
	memset(&once, 0, sizeof(once));
	s = open_ok(dir);
	w = store_sync_watch(s, sync_cb, &r);
	once.self = store_sync_watch(s, sync_cb, &once);
	/* a plain commit asks for no sync */
	CHECK(put_str(s, "a", "1") == 0);
	loop_once();
	CHECK(r.n == 0 && store_synced(s) < store_revision(s));

	/* two synced batches of a turn: one sync, after the turn */
	syncs = sync_count(s);
	r1 = put_sync(s, "b", "2");
	r2 = put_sync(s, "c", "3");
	CHECK(r2 == r1 + 1 && r2 == store_revision(s));
	CHECK(store_synced(s) < r1 && r.n == 0);
	loop_once();
	CHECK(r.n == 1 && r.failed == 0 && r.synced == r2);
	CHECK(store_synced(s) == r2);
	CHECK(sync_count(s) == syncs + 1);
	/* unwatched from its own callback: told once */
	CHECK(once.n == 1 && once.self == NULL);

	/* store_sync_soon syncs what a plain commit wrote; nothing when synced */
	CHECK(put_str(s, "d", "4") == 0);
	store_sync_soon(s);
	loop_once();
	CHECK(r.n == 2 && r.synced == store_revision(s));
	store_sync_soon(s);
	loop_once();
	CHECK(r.n == 2 && once.n == 1);
	store_sync_unwatch(w);
	store_sync_unwatch(NULL);
	store_close(s);
	free(dir);
}

/* A write past RLIMIT_FSIZE fails (EFBIG) as a full disk would. */
static void
test_write_failed(void)
{
	struct store		*s;
	struct store_batch	*b;
	struct rlimit		 old, lim;
	struct stat		 sb;
	char			*dir = state_dir("full"), *big, *log = NULL;
	uint64_t		 rev, errs;
	size_t			 bigsz = 256 * 1024;

	s = open_ok(dir);
	CHECK(put_str(s, "a", "1") == 0);
	CHECK(!store_degraded(s));
	errs = store_write_errors(s);
	big = xmalloc(bigsz + 1);
	memset(big, 'x', bigsz);
	big[bigsz] = '\0';
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	b = store_batch_new(s);
	store_batch_put(b, "big", big, bigsz);
	CHECK(store_batch_commit_sync(b, &rev) == -1);
	CHECK(rev == 0);
	CHECK(store_degraded(s));
	CHECK(store_write_errors(s) == errs + 1);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	/* the failed value is absent; the next write succeeds and recovers */
	check_val(s, "big", NULL);
	CHECK(put_sync(s, "b", "2") > 0);
	CHECK(!store_degraded(s));
	loop_once();
	CHECK(store_synced(s) == store_revision(s));
	check_val(s, "b", "2");
	store_close(s);
	/* and it opens again */
	s = open_ok(dir);
	check_val(s, "b", "2");
	store_close(s);
	xasprintf(&log, "%s/store", dir);
	CHECK(stat(log, &sb) == 0);
	free(log);
	free(big);
	free(dir);
	signal(SIGXFSZ, SIG_DFL);
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
	test_put_get_delete();
	test_max_value();
	test_batch();
	test_scan();
	test_scan_from();
	test_revision_persists();
	test_subscribe();
	test_subscribe_from_callback();
	test_close_with_pending();
	test_damaged();
	test_change_log();
	test_lock();
	test_unopenable();
	test_sync_grouped();
	test_write_failed();
	event_base_free(base);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
