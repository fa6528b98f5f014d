/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log reader of store_wal.h. A LevelDB log is a sequence of 32 KiB
 * blocks of records, each with a header: the masked CRC-32C of its type
 * and data (4 bytes, little-endian), its length (2), its type (1: whole,
 * 2: first, 3: middle, 4: last fragment of a logical record); fewer than
 * 7 bytes left in a block are padding. A logical record is a write batch:
 * sequence (8), count (4), then per entry a tag (1: put, 0: delete), the
 * key with a varint32 length and, for a put, the value likewise. The
 * layout is LevelDB's documented log format (doc/log_format.md) and
 * write_batch.cc.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "store/store_value.h"
#include "store/store_wal.h"

#define STORE_WAL_BLOCK		32768
#define STORE_WAL_HEADER	7
#define STORE_WAL_MASK_DELTA	0xa282ead8u
/* A log larger than this is not read whole (LevelDB's are ~4 MiB). */
#define STORE_WAL_MAX_FILE	(1024u * 1024 * 1024)

enum store_wal_type {
	STORE_WAL_ZERO = 0,
	STORE_WAL_FULL = 1,
	STORE_WAL_FIRST = 2,
	STORE_WAL_MIDDLE = 3,
	STORE_WAL_LAST = 4,
};

struct store_wal_key {
	char	*key;
	size_t	 len;
};

struct store_wal {
	struct store_wal_key	*keys;		/* the suspects */
	size_t			 nkeys;
	size_t			 cap;
	size_t			 damaged;
	size_t			 unnamed;
	unsigned char		*rec;		/* logical record being built */
	size_t			 reclen;
	size_t			 reccap;
	int			 inrec;		/* after a first fragment */
	int			 recbad;	/* a fragment of it is damaged */
};

struct store_wal *
store_wal_new(void)
{
	return xcalloc(1, sizeof(struct store_wal));
}

void
store_wal_free(struct store_wal *w)
{
	size_t	i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nkeys; i++)
		free(w->keys[i].key);
	free(w->keys);
	free(w->rec);
	free(w);
}

size_t
store_wal_damaged(const struct store_wal *w)
{
	return w->damaged;
}

size_t
store_wal_unnamed(const struct store_wal *w)
{
	return w->unnamed;
}

void
store_wal_each(const struct store_wal *w, store_wal_cb cb, void *arg)
{
	size_t	i;

	for (i = 0; i < w->nkeys; i++)
		cb(w->keys[i].key, w->keys[i].len, arg);
}

/* Index of a suspect key, or nkeys. */
static size_t
store_wal_find(const struct store_wal *w, const unsigned char *k, size_t len)
{
	size_t	i;

	for (i = 0; i < w->nkeys; i++)
		if (w->keys[i].len == len && memcmp(w->keys[i].key, k,
		    len) == 0)
			break;
	return i;
}

/* A damaged record writes k: it becomes a suspect. */
static void
store_wal_suspect(struct store_wal *w, const unsigned char *k, size_t len)
{
	if (store_wal_find(w, k, len) < w->nkeys)
		return;
	if (w->nkeys == STORE_WAL_MAX_SUSPECTS) {
		w->unnamed++;
		return;
	}
	if (w->nkeys == w->cap) {
		w->cap = w->cap == 0 ? 16 : w->cap * 2;
		w->keys = xreallocarray(w->keys, w->cap, sizeof(*w->keys));
	}
	w->keys[w->nkeys].key = xmalloc(len + 1);
	memcpy(w->keys[w->nkeys].key, k, len);
	w->keys[w->nkeys].key[len] = '\0';
	w->keys[w->nkeys++].len = len;
}

/* A sound record writes k again: what it holds now is not suspect. */
static void
store_wal_clear(struct store_wal *w, const unsigned char *k, size_t len)
{
	size_t	i = store_wal_find(w, k, len);

	if (i == w->nkeys)
		return;
	free(w->keys[i].key);
	w->keys[i] = w->keys[--w->nkeys];
}

/* Reads a varint32; 0, or -1 past the end or over 32 bits. */
static int
store_wal_varint(const unsigned char **p, const unsigned char *end,
    uint32_t *v)
{
	unsigned	shift;

	*v = 0;
	for (shift = 0; shift <= 28 && *p < end; shift += 7) {
		*v |= (uint32_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return 0;
	}
	return -1;
}

/* A length-prefixed slice; 0, or -1 when it runs past the end. */
static int
store_wal_slice(const unsigned char **p, const unsigned char *end,
    const unsigned char **s, size_t *len)
{
	uint32_t	n;

	if (store_wal_varint(p, end, &n) == -1 || n > (size_t)(end - *p))
		return -1;
	*s = *p;
	*len = n;
	*p += n;
	return 0;
}

/*
 * Walks the entries of a batch as LevelDB's repair would apply them: a
 * sound batch clears its keys, a damaged one makes them suspects. A
 * damaged batch that stops decoding counts as unnamed.
 */
static void
store_wal_batch(struct store_wal *w, const unsigned char *b, size_t len,
    int bad)
{
	const unsigned char	*p = b + 12, *end = b + len, *k, *v;
	size_t			 klen, vlen;
	uint32_t		 count, i;

	if (len < 12) {
		w->unnamed += bad;
		return;
	}
	count = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
	    (uint32_t)b[11] << 24;
	for (i = 0; i < count; i++) {
		if (p == end || *p > 1)
			break;
		if (*p++ == 1) {
			if (store_wal_slice(&p, end, &k, &klen) == -1 ||
			    store_wal_slice(&p, end, &v, &vlen) == -1)
				break;
		} else if (store_wal_slice(&p, end, &k, &klen) == -1)
			break;
		if (bad)
			store_wal_suspect(w, k, klen);
		else
			store_wal_clear(w, k, klen);
	}
	if (bad && (i < count || p != end))
		w->unnamed++;
}

/* Appends a fragment to the logical record being built. */
static void
store_wal_append(struct store_wal *w, const unsigned char *d, size_t len)
{
	if (w->reclen + len > w->reccap) {
		w->reccap = w->reclen + len > 2 * w->reccap ? w->reclen + len :
		    2 * w->reccap;
		w->rec = xreallocarray(w->rec, w->reccap, 1);
	}
	memcpy(w->rec + w->reclen, d, len);
	w->reclen += len;
}

/* Ends the logical record being built. */
static void
store_wal_finish(struct store_wal *w)
{
	if (w->recbad)
		w->damaged++;
	store_wal_batch(w, w->rec, w->reclen, w->recbad);
	w->reclen = 0;
	w->inrec = w->recbad = 0;
}

/* 1 when the header's checksum matches the type and data. */
static int
store_wal_sound(const unsigned char *h, const unsigned char *d, size_t len)
{
	uint32_t	want, crc;

	want = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 24;
	crc = store_value_crc32c(0, h + 6, 1);
	crc = store_value_crc32c(crc, d, len);
	return ((crc >> 15 | crc << 17) + STORE_WAL_MASK_DELTA) == want;
}

/* One physical record into the logical record being built. */
static void
store_wal_fragment(struct store_wal *w, int type, const unsigned char *d,
    size_t len, int sound)
{
	if (type == STORE_WAL_FULL || type == STORE_WAL_FIRST) {
		if (w->inrec)
			store_wal_finish(w);
		w->inrec = 1;
	} else if (!w->inrec) {
		/* a middle or last without its first: LevelDB drops it */
		if (!sound)
			w->damaged++;
		return;
	}
	w->recbad |= !sound;
	store_wal_append(w, d, len);
	if (type == STORE_WAL_FULL || type == STORE_WAL_LAST)
		store_wal_finish(w);
}

/* Walks the records of one block. */
static void
store_wal_block(struct store_wal *w, const unsigned char *b, size_t len)
{
	size_t		 off = 0, n;
	int		 type;

	while (len - off >= STORE_WAL_HEADER) {
		n = (size_t)b[off + 4] | (size_t)b[off + 5] << 8;
		type = b[off + 6];
		if (type == STORE_WAL_ZERO && n == 0)
			return;		/* preallocated, never written */
		if (n > len - off - STORE_WAL_HEADER) {
			/* a length past the block: the rest is lost */
			if (len == STORE_WAL_BLOCK) {
				w->damaged++;
				w->unnamed++;
				w->inrec = w->recbad = 0;
				w->reclen = 0;
			}
			return;
		}
		if (type < STORE_WAL_FULL || type > STORE_WAL_LAST) {
			w->damaged++;
			w->unnamed++;
		} else
			store_wal_fragment(w, type, b + off + STORE_WAL_HEADER,
			    n, store_wal_sound(b + off, b + off +
			    STORE_WAL_HEADER, n));
		off += STORE_WAL_HEADER + n;
	}
}

void
store_wal_scan(struct store_wal *w, const unsigned char *buf, size_t len)
{
	size_t	off;

	for (off = 0; off < len; off += STORE_WAL_BLOCK)
		store_wal_block(w, buf + off, len - off < STORE_WAL_BLOCK ?
		    len - off : STORE_WAL_BLOCK);
	/* a record cut off at the end: the writer died, not damage */
	w->reclen = 0;
	w->inrec = w->recbad = 0;
}

int
store_wal_read(struct store_wal *w, const char *path)
{
	unsigned char	*buf;
	size_t		 len = 0;
	ssize_t		 n;
	off_t		 size;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((size = lseek(fd, 0, SEEK_END)) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1 || (uint64_t)size >
	    STORE_WAL_MAX_FILE) {
		if (size != -1)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)size + 1);
	while (len < (size_t)size && (n = read(fd, buf + len,
	    (size_t)size - len)) > 0)
		len += (size_t)n;
	close(fd);
	store_wal_scan(w, buf, len);
	free(buf);
	return 0;
}
