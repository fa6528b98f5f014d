/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of the apiserver client's HTTP/1.1 response parser
 * (kube_http_parse.c), fed the bytes a server sends. The first byte picks
 * the request (HEAD or not, a stream cut into lines or a plain body) and
 * the size of the pieces the rest arrives in, as reads split it; the
 * connection then closes. The body kept must stay under its limit, the
 * lines under theirs, never empty, without a newline and NUL-terminated
 * (a NUL inside is the server's and passes); an ERROR says why, a DONE
 * has a status. Any crash, sanitizer report or abort() is a bug. Build
 * with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_kube_http tests/fuzz/corpus/kube_http.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "kube/kube_http_parse.h"

#define FUZZ_MAX_BODY	4096
#define FUZZ_MAX_LINE	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Each line as the reflector gets it; stops when the first byte says. */
static int
fuzz_line_cb(const char *line, size_t len, void *arg)
{
	int	*stop_at = arg;

	if (len == 0)
		abort();
	if (line != NULL && (len > FUZZ_MAX_LINE || line[len] != '\0' ||
	    memchr(line, '\n', len) != NULL))
		abort();
	if (line == NULL && len <= FUZZ_MAX_LINE)
		abort();
	if (*stop_at > 0 && --*stop_at == 0)
		return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_parse	 p;
	struct evbuffer		*in, *body;
	size_t			 off, piece, n;
	int			 rv = KUBE_PARSE_MORE, stream, stop_at;

	if (size < 1)
		return 0;
	stream = data[0] & 1;
	stop_at = (data[0] >> 5) & 3;
	piece = ((data[0] >> 2) & 7) + 1;
	piece = piece == 8 ? size : piece * piece;
	in = evbuffer_new();
	body = evbuffer_new();
	memset(&p, 0, sizeof(p));
	kube_parse_start(&p, (data[0] & 2) != 0, body, FUZZ_MAX_BODY,
	    stream ? fuzz_line_cb : NULL, FUZZ_MAX_LINE, &stop_at);
	for (off = 1; off < size && rv == KUBE_PARSE_MORE; off += n) {
		n = size - off < piece ? size - off : piece;
		evbuffer_add(in, data + off, n);
		rv = kube_parse_feed(&p, in);
		if (evbuffer_get_length(body) > FUZZ_MAX_BODY)
			abort();
	}
	if (rv == KUBE_PARSE_MORE)
		rv = kube_parse_eof(&p, in);
	if (rv == KUBE_PARSE_ERROR && p.why[0] == '\0')
		abort();
	if (rv == KUBE_PARSE_DONE && (p.status < 100 || p.status > 999))
		abort();
	if (evbuffer_get_length(body) > FUZZ_MAX_BODY)
		abort();
	kube_parse_clear(&p);
	evbuffer_free(body);
	evbuffer_free(in);
	return 0;
}
