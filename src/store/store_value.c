/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value framing: a header with magic, format version, length, the
 * revision that wrote the value and a CRC-32C ahead of every payload, and
 * a NUL after it (layouts in store_value.h). The store frames on write
 * (sealing the header at commit, when the revision is known) and verifies
 * on every read, accepting the older version 1 frames too; nothing else in
 * edgesite sees frames.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_value.h"

/* Reflected Castagnoli polynomial. */
#define STORE_VALUE_POLY	0x82f63b78u

/* Slicing-by-8 tables: [k][b] is the CRC of byte b followed by k zeros. */
static uint32_t	store_value_table[8][256];
static int	store_value_table_ready;
static int	store_value_hw;		/* the CPU has crc32 (SSE 4.2) */

/* Fills the tables on first use. */
static void
store_value_table_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ STORE_VALUE_POLY : c >> 1;
		store_value_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			store_value_table[k][i] = (store_value_table[k - 1][i] >>
			    8) ^ store_value_table[0][store_value_table[k - 1][i] &
			    0xff];
#if defined(__x86_64__)
	store_value_hw = __builtin_cpu_supports("sse4.2");
#endif
	store_value_table_ready = 1;
}

/*
 * Eight bytes per step (slicing-by-8): every value is summed on every
 * read, so a list of many objects spends its time here otherwise.
 */
static uint32_t
store_value_crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	uint32_t	lo, hi;

	while (len >= 8) {
		lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = store_value_table[7][lo & 0xff] ^
		    store_value_table[6][(lo >> 8) & 0xff] ^
		    store_value_table[5][(lo >> 16) & 0xff] ^
		    store_value_table[4][lo >> 24] ^
		    store_value_table[3][hi & 0xff] ^
		    store_value_table[2][(hi >> 8) & 0xff] ^
		    store_value_table[1][(hi >> 16) & 0xff] ^
		    store_value_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = store_value_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
/* The same with the SSE 4.2 crc32 instruction, eight bytes at a time. */
static uint32_t __attribute__((target("sse4.2")))
store_value_crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t	c = crc, v;

	while (len >= 8) {
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

/* CRC-32C with the usual pre- and post-inversion, so calls can chain. */
uint32_t
store_value_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (!store_value_table_ready)
		store_value_table_init();
#if defined(__x86_64__)
	if (store_value_hw)
		return ~store_value_crc_hw(~crc, buf, len);
#endif
	return ~store_value_crc_soft(~crc, buf, len);
}

/* Stores v big-endian at p. */
static void
store_value_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Reads a big-endian 32-bit value at p. */
static uint32_t
store_value_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Stores v big-endian at p. */
static void
store_value_put64(unsigned char *p, uint64_t v)
{
	store_value_put32(p, (uint32_t)(v >> 32));
	store_value_put32(p + 4, (uint32_t)v);
}

/* Reads a big-endian 64-bit value at p. */
static uint64_t
store_value_get64(const unsigned char *p)
{
	return (uint64_t)store_value_get32(p) << 32 | store_value_get32(p + 4);
}

/* The checksum covers the header up to itself, then the payload. */
static uint32_t
store_value_sum(const unsigned char *hdr, size_t hlen, const void *val,
    size_t len)
{
	uint32_t	crc;

	crc = store_value_crc32c(0, hdr, hlen);
	return store_value_crc32c(crc, val, len);
}

/* Room for the header, the payload copied, the NUL; header left blank. */
char *
store_value_alloc(const void *val, size_t len, size_t *framelen)
{
	unsigned char	*buf;

	/* callers refuse larger values first; this is an invariant */
	if (len > STORE_MAX_VALUE)
		return NULL;
	buf = xcalloc(1, len + STORE_VALUE_OVERHEAD);
	if (len > 0)
		memcpy(buf + STORE_VALUE_HDR, val, len);
	buf[STORE_VALUE_HDR + len] = '\0';
	*framelen = len + STORE_VALUE_OVERHEAD;
	return (char *)buf;
}

/* Magic, version, length, revision, then the sum over all of them. */
void
store_value_seal(char *buf, size_t framelen, uint64_t rev)
{
	unsigned char	*p = (unsigned char *)buf;
	size_t		 len = framelen - STORE_VALUE_OVERHEAD;

	p[0] = STORE_VALUE_MAGIC;
	p[1] = STORE_VALUE_VERSION;
	store_value_put32(p + 2, (uint32_t)len);
	store_value_put64(p + 6, rev);
	store_value_put32(p + 14, store_value_sum(p, 14, p + STORE_VALUE_HDR,
	    len));
}

/* A sealed frame of revision 0. */
char *
store_value_frame(const void *val, size_t len, size_t *framelen)
{
	char	*buf;

	if ((buf = store_value_alloc(val, len, framelen)) == NULL)
		return NULL;
	store_value_seal(buf, *framelen, 0);
	return buf;
}

/* Each field in turn; the reason names the first that is wrong. */
int
store_value_check(const char *buf, size_t len, const char **payload,
    size_t *plen, const char **why)
{
	const unsigned char	*p = (const unsigned char *)buf;
	size_t			 n, hdr, sumat;

	if (len < STORE_VALUE_HDR_V1 + 1) {
		*why = "too short for a header";
		return -1;
	}
	if (p[0] != STORE_VALUE_MAGIC) {
		*why = "bad magic byte";
		return -1;
	}
	if (p[1] == 1) {
		hdr = STORE_VALUE_HDR_V1;
		sumat = 6;
	} else if (p[1] == STORE_VALUE_VERSION && len >= STORE_VALUE_OVERHEAD) {
		hdr = STORE_VALUE_HDR;
		sumat = 14;
	} else {
		*why = p[1] == STORE_VALUE_VERSION ? "too short for a header" :
		    "unknown format version";
		return -1;
	}
	n = store_value_get32(p + 2);
	if (n != len - hdr - 1) {
		*why = "length mismatch";
		return -1;
	}
	if (p[hdr + n] != '\0') {
		*why = "missing terminator";
		return -1;
	}
	if (store_value_get32(p + sumat) != store_value_sum(p, sumat, p + hdr,
	    n)) {
		*why = "checksum mismatch";
		return -1;
	}
	*payload = buf + hdr;
	*plen = n;
	return 0;
}

/* Version 1 frames predate revisions. */
uint64_t
store_value_revision(const char *buf)
{
	const unsigned char	*p = (const unsigned char *)buf;

	if (p[1] != STORE_VALUE_VERSION)
		return 0;
	return store_value_get64(p + 6);
}
