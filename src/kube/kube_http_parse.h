/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 response parser of the apiserver client (kube_http.c):
 * status line, headers, body framing (Content-Length, chunked, until the
 * connection closes), gzip, and for a stream the split of a 200 body into
 * lines. It is fed from an evbuffer as bytes arrive and never logs; every
 * size the server controls is checked against a limit before anything
 * grows. Only kube_http_parse.c includes zlib.
 */
#ifndef EDGESITE_KUBE_HTTP_PARSE_H
#define EDGESITE_KUBE_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct z_stream_s;

/* Limits on the head of a response. */
#define KUBE_PARSE_MAX_HEADER_LINE	8192
#define KUBE_PARSE_MAX_HEADERS		128
#define KUBE_PARSE_MAX_CHUNK_LINE	256
#define KUBE_PARSE_MAX_RETRY_AFTER	86400	/* seconds */

/* What kube_parse_feed() and kube_parse_eof() return. */
#define KUBE_PARSE_MORE		0	/* wait for more bytes */
#define KUBE_PARSE_DONE		1	/* the response is complete */
#define KUBE_PARSE_ERROR	(-1)	/* malformed or oversized: see why */
#define KUBE_PARSE_STOP		(-2)	/* the line callback said stop */

/*
 * A stream line, NUL-terminated, without its newline (never empty). A
 * line longer than max_line is dropped up to its newline without being
 * kept, and told with line NULL and len its length. Returns 0 to go on,
 * -1 to stop: the parser then returns at once.
 */
typedef int (*kube_parse_line_cb)(const char *line, size_t len, void *arg);

enum kube_parse_state {
	KUBE_PARSE_STATUS,
	KUBE_PARSE_HEADERS,
	KUBE_PARSE_BODY_LENGTH,
	KUBE_PARSE_BODY_CLOSE,
	KUBE_PARSE_CHUNK_SIZE,
	KUBE_PARSE_CHUNK_DATA,
	KUBE_PARSE_CHUNK_END,
	KUBE_PARSE_TRAILERS,
	KUBE_PARSE_COMPLETE,
};

struct kube_parse {
	enum kube_parse_state	 state;
	int			 status;	/* HTTP status once known */
	uint64_t		 retry_after_ms;
	int			 keepalive;	/* connection may be reused */
	int			 got_bytes;	/* any byte of the answer seen */
	char			 why[256];	/* text of an ERROR */

	/* Set by kube_parse_start. */
	int			 head;		/* a HEAD request: no body */
	size_t			 max_body;
	struct evbuffer		*body;		/* the caller's */
	kube_parse_line_cb	 line_cb;	/* NULL: not a stream */
	void			*arg;

	int			 nheaders;
	int			 chunked;
	int			 has_length;
	int			 gzip;
	int			 zend;
	uint64_t		 remaining;
	struct z_stream_s	*zs;
	char			*line;
	size_t			 linelen;
	size_t			 linecap;
	size_t			 max_line;
	int			 skipping;	/* dropping an oversized line */
	size_t			 skipped;	/* its length so far */
	char			 hline[KUBE_PARSE_MAX_HEADER_LINE + 1];
};

/*
 * Prepares p for one response. The body (or a non-200 stream answer) is
 * appended to body up to max_body bytes; with line_cb, a 200 body is cut
 * into lines of at most max_line bytes instead.
 */
void	kube_parse_start(struct kube_parse *p, int head,
	    struct evbuffer *body, size_t max_body, kube_parse_line_cb line_cb,
	    size_t max_line, void *arg);
/* Consumes what it can of in. */
int	kube_parse_feed(struct kube_parse *p, struct evbuffer *in);
/* The connection closed: DONE when that ends the body, else ERROR. */
int	kube_parse_eof(struct kube_parse *p, struct evbuffer *in);
/* Frees the inflate state and the line buffer; p may be started again. */
void	kube_parse_clear(struct kube_parse *p);

#endif
