/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log reader of the repair (store_wal.h), on logs built here in
 * LevelDB's format: sound records clear their keys, damaged ones make
 * theirs suspect, fragments join, a record cut off at the end is the
 * writer dying and no damage.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_value.h"
#include "store/store_wal.h"
#include "unit.h"

#define BLOCK	32768

struct log {
	unsigned char	buf[3 * BLOCK];
	size_t		len;
};

/* A write batch putting (or, val NULL, deleting) one key. */
static size_t
batch(unsigned char *b, const char *key, const char *val)
{
	size_t	n = 12;

	memset(b, 0, 12);
	b[8] = 1;			/* count */
	b[n++] = val != NULL;
	b[n++] = (unsigned char)strlen(key);
	memcpy(b + n, key, strlen(key));
	n += strlen(key);
	if (val != NULL) {
		b[n++] = (unsigned char)strlen(val);
		memcpy(b + n, val, strlen(val));
		n += strlen(val);
	}
	return n;
}

/* Appends one physical record; sound 0 spoils its checksum. */
static void
record(struct log *l, int type, const unsigned char *d, size_t n, int sound)
{
	unsigned char	*h = l->buf + l->len, t = (unsigned char)type;
	uint32_t	 crc;

	crc = store_value_crc32c(0, &t, 1);
	crc = store_value_crc32c(crc, d, n);
	crc = ((crc >> 15 | crc << 17) + 0xa282ead8u) ^ (sound ? 0 : 1);
	h[0] = (unsigned char)crc;
	h[1] = (unsigned char)(crc >> 8);
	h[2] = (unsigned char)(crc >> 16);
	h[3] = (unsigned char)(crc >> 24);
	h[4] = (unsigned char)n;
	h[5] = (unsigned char)(n >> 8);
	h[6] = t;
	memcpy(h + 7, d, n);
	l->len += 7 + n;
}

static void
put(struct log *l, const char *key, const char *val, int sound)
{
	unsigned char	b[256];

	record(l, 1, b, batch(b, key, val), sound);
}

static int	 seen_n;
static char	 seen[8][32];

static void
seen_cb(const char *key, size_t len, void *arg)
{
	(void)arg;
	if (seen_n < 8 && len < 32)
		memcpy(seen[seen_n], key, len + 1);
	seen_n++;
}

static void
suspects(struct store_wal *w)
{
	seen_n = 0;
	store_wal_each(w, seen_cb, NULL);
}

static void
test_sound_and_damaged(void)
{
	struct log		*l = calloc(1, sizeof(*l));
	struct store_wal	*w = store_wal_new();

	put(l, "o/a", "1", 1);
	put(l, "o/b", "2", 0);
	put(l, "o/c", NULL, 0);
	put(l, "o/c", "3", 1);		/* a sound write clears it */
	store_wal_scan(w, l->buf, l->len);
	CHECK(store_wal_damaged(w) == 2);
	CHECK(store_wal_unnamed(w) == 0);
	suspects(w);
	CHECK(seen_n == 1);
	CHECK_STR(seen[0], "o/b");
	store_wal_free(w);
	free(l);
}

/* A record in three fragments, its middle one damaged. */
static void
test_fragments(void)
{
	struct log		*l = calloc(1, sizeof(*l));
	struct store_wal	*w = store_wal_new();
	unsigned char		 b[256];
	size_t			 n;

	put(l, "o/first", "1", 1);
	n = batch(b, "o/split", "value");
	record(l, 2, b, 5, 1);
	record(l, 3, b + 5, 10, 0);
	record(l, 4, b + 15, n - 15, 1);
	store_wal_scan(w, l->buf, l->len);
	CHECK(store_wal_damaged(w) == 1);
	suspects(w);
	CHECK(seen_n == 1);
	CHECK_STR(seen[0], "o/split");
	store_wal_free(w);
	free(l);
}

/* Cut off at the end, or preallocated zeros: no damage. */
static void
test_tail(void)
{
	struct log		*l = calloc(1, sizeof(*l));
	struct store_wal	*w = store_wal_new();

	put(l, "o/a", "1", 1);
	put(l, "o/b", "2", 1);
	store_wal_scan(w, l->buf, l->len - 3);
	CHECK(store_wal_damaged(w) == 0);
	store_wal_scan(w, l->buf, l->len + 100);	/* zeros after */
	CHECK(store_wal_damaged(w) == 0);
	suspects(w);
	CHECK(seen_n == 0);
	store_wal_free(w);
	free(l);
}

/* A damaged batch that does not decode to its end is counted unnamed. */
static void
test_unnamed(void)
{
	struct log		*l = calloc(1, sizeof(*l));
	struct store_wal	*w = store_wal_new();
	unsigned char		 b[256];
	size_t			 n;

	n = batch(b, "o/x", "1");
	b[8] = 3;			/* claims three entries */
	record(l, 1, b, n, 0);
	record(l, 1, b, 5, 0);		/* too short for a batch */
	store_wal_scan(w, l->buf, l->len);
	CHECK(store_wal_damaged(w) == 2);
	CHECK(store_wal_unnamed(w) == 2);
	suspects(w);
	CHECK(seen_n == 1);
	store_wal_free(w);
	free(l);
}

int
main(void)
{
	test_sound_and_damaged();
	test_fragments();
	test_tail();
	test_unnamed();
	return unit_done();
}
