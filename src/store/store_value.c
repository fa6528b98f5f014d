/*
 * Value framing: a ten-byte header with magic, format version, length and
 * a CRC-32C ahead of every payload, and a NUL after it. The store frames on
 * write and verifies on every read; nothing else in edgesite sees frames.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_value.h"

/* Reflected Castagnoli polynomial. */
#define STORE_VALUE_POLY	0x82f63b78u

static uint32_t	store_value_table[256];
static int	store_value_table_ready;

/* Fills the byte-at-a-time CRC table on first use. */
static void
store_value_table_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ STORE_VALUE_POLY : c >> 1;
		store_value_table[i] = c;
	}
	store_value_table_ready = 1;
}

/* CRC-32C with the usual pre- and post-inversion, so calls can chain. */
uint32_t
store_value_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;

	if (!store_value_table_ready)
		store_value_table_init();
	crc = ~crc;
	while (len-- > 0)
		crc = store_value_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
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

/* The checksum covers the header up to itself, then the payload. */
static uint32_t
store_value_sum(const unsigned char *hdr, const void *val, size_t len)
{
	uint32_t	crc;

	crc = store_value_crc32c(0, hdr, 6);
	return store_value_crc32c(crc, val, len);
}

/* Header, payload, NUL; the checksum is filled in last. */
char *
store_value_frame(const void *val, size_t len, size_t *framelen)
{
	unsigned char	*buf;

	/* callers refuse larger values first; this is an invariant */
	if (len > STORE_MAX_VALUE)
		return NULL;
	buf = xmalloc(len + STORE_VALUE_OVERHEAD);
	buf[0] = STORE_VALUE_MAGIC;
	buf[1] = STORE_VALUE_VERSION;
	store_value_put32(buf + 2, (uint32_t)len);
	if (len > 0)
		memcpy(buf + STORE_VALUE_HDR, val, len);
	buf[STORE_VALUE_HDR + len] = '\0';
	store_value_put32(buf + 6, store_value_sum(buf, buf + STORE_VALUE_HDR,
	    len));
	*framelen = len + STORE_VALUE_OVERHEAD;
	return (char *)buf;
}

/* Each field in turn; the reason names the first that is wrong. */
int
store_value_check(const char *buf, size_t len, const char **payload,
    size_t *plen, const char **why)
{
	const unsigned char	*p = (const unsigned char *)buf;
	size_t			 n;

	if (len < STORE_VALUE_OVERHEAD) {
		*why = "too short for a header";
		return -1;
	}
	if (p[0] != STORE_VALUE_MAGIC) {
		*why = "bad magic byte";
		return -1;
	}
	if (p[1] != STORE_VALUE_VERSION) {
		*why = "unknown format version";
		return -1;
	}
	n = store_value_get32(p + 2);
	if (n != len - STORE_VALUE_OVERHEAD) {
		*why = "length mismatch";
		return -1;
	}
	if (p[STORE_VALUE_HDR + n] != '\0') {
		*why = "missing terminator";
		return -1;
	}
	if (store_value_get32(p + 6) != store_value_sum(p, p +
	    STORE_VALUE_HDR, n)) {
		*why = "checksum mismatch";
		return -1;
	}
	*payload = buf + STORE_VALUE_HDR;
	*plen = n;
	return 0;
}
