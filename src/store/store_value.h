/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value framing for the store: every value LevelDB holds carries a small
 * header (magic, format version, payload length, the revision of the batch
 * that wrote it, CRC-32C) and a trailing NUL, so a damaged value is
 * detected instead of trusted, a verified payload can be handed out as a C
 * string without copying, and a reader learns when the value was written
 * (the local API's resourceVersion).
 *
 * Format version 2, written since the local API:
 *	offset 0	magic 0xe5
 *	offset 1	format version (2)
 *	offset 2..5	payload length, big-endian
 *	offset 6..13	revision of the committing batch, big-endian
 *	offset 14..17	CRC-32C of bytes 0..13 and the payload, big-endian
 *	offset 18..	payload, then one NUL byte
 *
 * Format version 1, still read (its values report revision 0):
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
#define STORE_VALUE_VERSION	2
#define STORE_VALUE_HDR		18
#define STORE_VALUE_HDR_V1	10
/* Bytes a framed value adds to its payload (header and NUL). */
#define STORE_VALUE_OVERHEAD	(STORE_VALUE_HDR + 1)

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start). */
uint32_t	 store_value_crc32c(uint32_t crc, const void *buf, size_t len);
/*
 * Frames len bytes (len <= STORE_MAX_VALUE) with revision 0 into a new
 * buffer the caller frees; *framelen gets its size. The payload is at
 * STORE_VALUE_HDR.
 */
char		*store_value_frame(const void *val, size_t len,
		    size_t *framelen);
/*
 * Copies len bytes into a new frame whose header is not yet written: the
 * commit seals it once the revision is known, so the payload is copied
 * and summed once. NULL when len is over STORE_MAX_VALUE.
 */
char		*store_value_alloc(const void *val, size_t len,
		    size_t *framelen);
/* Writes the header of a frame from store_value_alloc: revision, sum. */
void		 store_value_seal(char *buf, size_t framelen, uint64_t rev);
/*
 * Verifies a framed value of either version; on success points *payload
 * into buf (NUL-terminated) and returns 0; -1 with *why set when it is
 * damaged.
 */
int		 store_value_check(const char *buf, size_t len,
		    const char **payload, size_t *plen, const char **why);
/* The revision in a verified frame's header; 0 for version 1. */
uint64_t	 store_value_revision(const char *buf);

/*
 * Tests only: writes buf under key as is, unframed and without a revision
 * bump, so a test can plant a damaged value. Defined in store.c.
 */
int		 store_put_raw(struct store *, const char *key,
		    const void *buf, size_t len);

#endif
