/*
 * Value framing for the store: every value LevelDB holds carries a small
 * header (magic, format version, payload length, CRC-32C) and a trailing
 * NUL, so a damaged value is detected instead of trusted and a verified
 * payload can be handed out as a C string without copying.
 *
 *	offset 0	magic 0xe5
 *	offset 1	format version (1)
 *	offset 2..5	payload length, big-endian
 *	offset 6..9	CRC-32C of bytes 0..5 and the payload, big-endian
 *	offset 10..	payload, then one NUL byte
 */
#ifndef EDGESITE_STORE_VALUE_H
#define EDGESITE_STORE_VALUE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_VALUE_MAGIC	0xe5
#define STORE_VALUE_VERSION	1
#define STORE_VALUE_HDR		10
/* Bytes a framed value adds to its payload (header and NUL). */
#define STORE_VALUE_OVERHEAD	(STORE_VALUE_HDR + 1)

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start). */
uint32_t	 store_value_crc32c(uint32_t crc, const void *buf, size_t len);
/*
 * Frames len bytes (len <= STORE_MAX_VALUE) into a new buffer the caller
 * frees; *framelen gets its size. The payload is at STORE_VALUE_HDR.
 */
char		*store_value_frame(const void *val, size_t len,
		    size_t *framelen);
/*
 * Verifies a framed value; on success points *payload into buf (NUL-
 * terminated) and returns 0; -1 with *why set when it is damaged.
 */
int		 store_value_check(const char *buf, size_t len,
		    const char **payload, size_t *plen, const char **why);

/*
 * Tests only: writes buf under key as is, unframed and without a revision
 * bump, so a test can plant a damaged value. Defined in store.c.
 */
int		 store_put_raw(struct store *, const char *key,
		    const void *buf, size_t len);

#endif
