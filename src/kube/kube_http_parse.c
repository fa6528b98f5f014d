/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The response parser of the apiserver client. A small state machine over
 * the input evbuffer: the status line and headers are taken a line at a
 * time (each line measured before it is copied), then the body is framed
 * by Content-Length, chunks or the end of the connection, inflated when
 * gzip, and routed either to the caller's body buffer (capped) or, for a
 * 200 stream, cut into lines (each capped before it grows; a longer line
 * is dropped up to its newline and told, so one oversized event does not
 * end the stream). Decoded bytes
 * pass through a fixed buffer, so a compressed bomb costs no more memory
 * than the cap allows.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include <zlib.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_http_parse.h"

/* Bytes moved from the input (and out of inflate) per step. */
#define KUBE_PARSE_IOBUF	16384

/* A header or chunk line was taken: go on. */
#define KUBE_PARSE_NEXT		2

static int	kube_parse_fail(struct kube_parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Records why the response is bad; returns ERROR. */
static int
kube_parse_fail(struct kube_parse *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return KUBE_PARSE_ERROR;
}

void
kube_parse_start(struct kube_parse *p, int head, struct evbuffer *body,
    size_t max_body, kube_parse_line_cb line_cb, size_t max_line, void *arg)
{
	kube_parse_clear(p);
	p->state = KUBE_PARSE_STATUS;
	p->status = 0;
	p->retry_after_ms = 0;
	p->keepalive = 0;
	p->got_bytes = 0;
	p->why[0] = '\0';
	p->head = head;
	p->body = body;
	p->max_body = max_body;
	p->line_cb = line_cb;
	p->max_line = max_line;
	p->arg = arg;
	p->nheaders = 0;
	p->chunked = p->has_length = p->gzip = p->zend = 0;
	p->remaining = 0;
	p->linelen = 0;
	p->skipping = 0;
	p->skipped = 0;
}

void
kube_parse_clear(struct kube_parse *p)
{
	if (p->zs != NULL) {
		inflateEnd(p->zs);
		free(p->zs);
		p->zs = NULL;
	}
	free(p->line);
	p->line = NULL;
	p->linelen = p->linecap = 0;
}

/* True when decoded bytes are cut into lines. */
static int
kube_parse_lines(struct kube_parse *p)
{
	return p->line_cb != NULL && p->status == 200;
}

/* Appends decoded body bytes within the cap. */
static int
kube_parse_sink_body(struct kube_parse *p, const char *d, size_t n)
{
	if (evbuffer_get_length(p->body) + n > p->max_body)
		return kube_parse_fail(p, "response body larger than %zu bytes",
		    p->max_body);
	evbuffer_add(p->body, d, n);
	return KUBE_PARSE_MORE;
}

/* Hands the line (or the news of a dropped one) to the callback. */
static int
kube_parse_deliver(struct kube_parse *p)
{
	size_t	len = p->linelen;

	p->linelen = 0;
	if (p->skipping) {
		p->skipping = 0;
		len = p->skipped;
		p->skipped = 0;
		if (p->line_cb(NULL, len, p->arg) == -1)
			return KUBE_PARSE_STOP;
		return KUBE_PARSE_MORE;
	}
	if (len > 0 && p->line[len - 1] == '\r')
		len--;
	if (len == 0)
		return KUBE_PARSE_MORE;
	p->line[len] = '\0';
	if (p->line_cb(p->line, len, p->arg) == -1)
		return KUBE_PARSE_STOP;
	return KUBE_PARSE_MORE;
}

/* Grows the line buffer to hold need bytes (need is within the cap). */
static void
kube_parse_line_grow(struct kube_parse *p, size_t need)
{
	size_t	cap;

	if (need <= p->linecap)
		return;
	cap = p->linecap < 4096 ? 4096 : p->linecap;
	while (cap < need)
		cap *= 2;
	if (cap > p->max_line + 1)
		cap = p->max_line + 1;
	p->line = xreallocarray(p->line, 1, cap);
	p->linecap = cap;
}

/* Starts dropping the line in progress: it is longer than the cap. */
static void
kube_parse_skip(struct kube_parse *p)
{
	p->skipping = 1;
	p->skipped = p->linelen;
	p->linelen = 0;
	/* The buffer grew to the cap: give it back. */
	free(p->line);
	p->line = NULL;
	p->linecap = 0;
}

/* Splits decoded stream bytes into lines, each checked before it grows. */
static int
kube_parse_sink_lines(struct kube_parse *p, const char *d, size_t n)
{
	const char	*nl;
	size_t		 take;
	int		 rv;

	while (n > 0) {
		nl = memchr(d, '\n', n);
		take = nl != NULL ? (size_t)(nl - d) : n;
		if (!p->skipping && p->linelen + take > p->max_line)
			kube_parse_skip(p);
		if (p->skipping)
			p->skipped += take;
		else {
			kube_parse_line_grow(p, p->linelen + take + 1);
			memcpy(p->line + p->linelen, d, take);
			p->linelen += take;
		}
		if (nl == NULL)
			break;
		d += take + 1;
		n -= take + 1;
		if ((rv = kube_parse_deliver(p)) != KUBE_PARSE_MORE)
			return rv;
	}
	return KUBE_PARSE_MORE;
}

/* Routes decoded bytes to the lines or the body. */
static int
kube_parse_sink(struct kube_parse *p, const char *d, size_t n)
{
	if (kube_parse_lines(p))
		return kube_parse_sink_lines(p, d, n);
	return kube_parse_sink_body(p, d, n);
}

/* Inflates gzip bytes through a fixed buffer into the sink. */
static int
kube_parse_inflate(struct kube_parse *p, const char *d, size_t n)
{
	char	out[KUBE_PARSE_IOBUF];
	size_t	got;
	int	zr, rv;

	p->zs->next_in = (Bytef *)(uintptr_t)d;
	p->zs->avail_in = (uInt)n;
	while (p->zs->avail_in > 0) {
		if (p->zend) {
			/* Another gzip member follows. */
			if (inflateReset(p->zs) != Z_OK)
				goto bad;
			p->zend = 0;
		}
		p->zs->next_out = (Bytef *)out;
		p->zs->avail_out = sizeof(out);
		zr = inflate(p->zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			goto bad;
		if (zr == Z_STREAM_END)
			p->zend = 1;
		got = sizeof(out) - p->zs->avail_out;
		if (got > 0 && (rv = kube_parse_sink(p, out, got)) !=
		    KUBE_PARSE_MORE)
			return rv;
		if (zr == Z_BUF_ERROR && got == 0)
			break;
	}
	return KUBE_PARSE_MORE;
bad:
	return kube_parse_fail(p, "bad gzip body: %s", p->zs->msg != NULL ?
	    p->zs->msg : "inflate failed");
}

/* Moves up to max body bytes from the input to the decoder. */
static int
kube_parse_body(struct kube_parse *p, struct evbuffer *in, uint64_t max,
    uint64_t *used)
{
	char	buf[KUBE_PARSE_IOBUF];
	size_t	n;
	int	rv;

	*used = 0;
	while (max > 0 && (n = evbuffer_get_length(in)) > 0) {
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (n > max)
			n = (size_t)max;
		evbuffer_remove(in, buf, n);
		max -= n;
		*used += n;
		if (p->gzip)
			rv = kube_parse_inflate(p, buf, n);
		else
			rv = kube_parse_sink(p, buf, n);
		if (rv != KUBE_PARSE_MORE)
			return rv;
	}
	return KUBE_PARSE_MORE;
}

/* Takes one line of at most max bytes into p->hline: DONE, MORE, ERROR. */
static int
kube_parse_line(struct kube_parse *p, struct evbuffer *in, size_t max,
    size_t *lenp)
{
	struct evbuffer_ptr	pos;
	size_t			eol;

	pos = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_CRLF);
	if (pos.pos < 0) {
		if (evbuffer_get_length(in) > max)
			return kube_parse_fail(p, "line longer than %zu bytes",
			    max);
		return KUBE_PARSE_MORE;
	}
	if ((size_t)pos.pos > max)
		return kube_parse_fail(p, "line longer than %zu bytes", max);
	evbuffer_remove(in, p->hline, (size_t)pos.pos);
	evbuffer_drain(in, eol);
	p->hline[pos.pos] = '\0';
	*lenp = (size_t)pos.pos;
	return KUBE_PARSE_DONE;
}

/* Parses "HTTP/1.x NNN reason". */
static int
kube_parse_status(struct kube_parse *p)
{
	const char	*l = p->hline;
	char		 esc[64];

	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ' || l[9] < '1' || l[9] > '9' ||
	    !isdigit((unsigned char)l[10]) || !isdigit((unsigned char)l[11]) ||
	    (l[12] != ' ' && l[12] != '\0'))
		return kube_parse_fail(p, "bad status line: %s",
		    log_escape(l, strlen(l), esc, sizeof(esc)));
	p->keepalive = l[7] == '1';
	p->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	p->state = KUBE_PARSE_HEADERS;
	return KUBE_PARSE_NEXT;
}

/* True when the comma-separated list v holds token t. */
static int
kube_parse_has_token(const char *v, const char *t)
{
	size_t	n, tl = strlen(t);

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == tl && strncasecmp(v, t, n) == 0)
			return 1;
		v += n;
	}
	return 0;
}

/* Parses a decimal of at most 18 digits; -1 when it is not one. */
static int
kube_parse_number(const char *v, uint64_t *out)
{
	size_t	n = strspn(v, "0123456789");

	if (n == 0 || n > 18 || v[n] != '\0')
		return -1;
	*out = strtoull(v, NULL, 10);
	return 0;
}

/* Applies the value of one header that matters to framing or retries. */
static int
kube_parse_header_value(struct kube_parse *p, const char *name,
    const char *v)
{
	uint64_t	n;

	if (strcasecmp(name, "Content-Length") == 0) {
		if (kube_parse_number(v, &n) == -1 ||
		    (p->has_length && n != p->remaining))
			return kube_parse_fail(p, "bad Content-Length");
		p->has_length = 1;
		p->remaining = n;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		if (!kube_parse_has_token(v, "chunked"))
			return kube_parse_fail(p, "unsupported "
			    "Transfer-Encoding");
		p->chunked = 1;
	} else if (strcasecmp(name, "Content-Encoding") == 0) {
		if (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "x-gzip") == 0)
			p->gzip = 1;
		else if (*v != '\0' && strcasecmp(v, "identity") != 0)
			return kube_parse_fail(p, "unsupported "
			    "Content-Encoding");
	} else if (strcasecmp(name, "Connection") == 0) {
		if (kube_parse_has_token(v, "close"))
			p->keepalive = 0;
		else if (kube_parse_has_token(v, "keep-alive"))
			p->keepalive = 1;
	} else if (strcasecmp(name, "Retry-After") == 0 &&
	    kube_parse_number(v, &n) == 0) {
		/* An HTTP-date is ignored: the caller's back-off applies. */
		if (n > KUBE_PARSE_MAX_RETRY_AFTER)
			n = KUBE_PARSE_MAX_RETRY_AFTER;
		p->retry_after_ms = n * 1000;
	}
	return KUBE_PARSE_NEXT;
}

/* Splits one header line into name and trimmed value. */
static int
kube_parse_header(struct kube_parse *p)
{
	char	*name = p->hline, *v, *e;

	if (++p->nheaders > KUBE_PARSE_MAX_HEADERS)
		return kube_parse_fail(p, "more than %d headers",
		    KUBE_PARSE_MAX_HEADERS);
	if ((v = strchr(name, ':')) == NULL || v == name)
		return kube_parse_fail(p, "bad header line");
	*v++ = '\0';
	v += strspn(v, " \t");
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	return kube_parse_header_value(p, name, v);
}

/* After the blank line: chooses how the body is framed. */
static int
kube_parse_headers_done(struct kube_parse *p)
{
	int	st = p->status;

	if (st < 200) {
		/* An interim answer: the real one follows. */
		p->state = KUBE_PARSE_STATUS;
		p->nheaders = 0;
		p->chunked = p->has_length = p->gzip = 0;
		p->retry_after_ms = 0;
		return KUBE_PARSE_NEXT;
	}
	if (p->head || st == 204 || st == 304) {
		p->state = KUBE_PARSE_COMPLETE;
		p->gzip = 0;
		return KUBE_PARSE_NEXT;
	}
	if (p->gzip) {
		p->zs = xcalloc(1, sizeof(*p->zs));
		if (inflateInit2(p->zs, 16 + MAX_WBITS) != Z_OK) {
			free(p->zs);
			p->zs = NULL;
			return kube_parse_fail(p, "cannot start inflate");
		}
	}
	if (p->chunked) {
		p->state = KUBE_PARSE_CHUNK_SIZE;
		if (p->has_length)
			p->keepalive = 0;
	} else if (p->has_length) {
		if (!kube_parse_lines(p) && p->remaining > p->max_body)
			return kube_parse_fail(p, "Content-Length larger than "
			    "%zu bytes", p->max_body);
		p->state = p->remaining > 0 ? KUBE_PARSE_BODY_LENGTH :
		    KUBE_PARSE_COMPLETE;
	} else {
		p->state = KUBE_PARSE_BODY_CLOSE;
		p->keepalive = 0;
	}
	return KUBE_PARSE_NEXT;
}

/* Parses "hex[;ext]" of a chunk, within the cap. */
static int
kube_parse_chunk_size(struct kube_parse *p)
{
	const char	*l = p->hline;
	size_t		 n = strspn(l, "0123456789abcdefABCDEF");

	if (n == 0 || n > 8 || (l[n] != '\0' && l[n] != ';' && l[n] != ' ' &&
	    l[n] != '\t'))
		return kube_parse_fail(p, "bad chunk size");
	p->remaining = strtoull(l, NULL, 16);
	if (p->remaining > p->max_body && !kube_parse_lines(p))
		return kube_parse_fail(p, "chunk larger than %zu bytes",
		    p->max_body);
	p->state = p->remaining == 0 ? KUBE_PARSE_TRAILERS :
	    KUBE_PARSE_CHUNK_DATA;
	return KUBE_PARSE_NEXT;
}

/* One step of the line-based states. */
static int
kube_parse_step_line(struct kube_parse *p, struct evbuffer *in)
{
	size_t	max, len = 0;
	int	rv;

	max = p->state == KUBE_PARSE_CHUNK_SIZE ||
	    p->state == KUBE_PARSE_CHUNK_END ? KUBE_PARSE_MAX_CHUNK_LINE :
	    KUBE_PARSE_MAX_HEADER_LINE;
	if ((rv = kube_parse_line(p, in, max, &len)) != KUBE_PARSE_DONE)
		return rv;
	switch (p->state) {
	case KUBE_PARSE_STATUS:
		return kube_parse_status(p);
	case KUBE_PARSE_HEADERS:
		if (len == 0)
			return kube_parse_headers_done(p);
		return kube_parse_header(p);
	case KUBE_PARSE_CHUNK_SIZE:
		return kube_parse_chunk_size(p);
	case KUBE_PARSE_CHUNK_END:
		if (len != 0)
			return kube_parse_fail(p, "chunk not followed by CRLF");
		p->state = KUBE_PARSE_CHUNK_SIZE;
		return KUBE_PARSE_NEXT;
	case KUBE_PARSE_TRAILERS:
		if (len == 0)
			p->state = KUBE_PARSE_COMPLETE;
		else if (++p->nheaders > KUBE_PARSE_MAX_HEADERS)
			return kube_parse_fail(p, "too many trailers");
		return KUBE_PARSE_NEXT;
	default:
		return kube_parse_fail(p, "parser state %d", p->state);
	}
}

/* The body ended: the gzip stream must be whole; flush a last line. */
static int
kube_parse_end(struct kube_parse *p)
{
	int	rv;

	if (p->gzip && !p->zend)
		return kube_parse_fail(p, "truncated gzip body");
	if (kube_parse_lines(p) && (p->linelen > 0 || p->skipping) &&
	    (rv = kube_parse_deliver(p)) != KUBE_PARSE_MORE)
		return rv;
	return KUBE_PARSE_DONE;
}

int
kube_parse_feed(struct kube_parse *p, struct evbuffer *in)
{
	uint64_t	used;
	int		rv;

	if (evbuffer_get_length(in) > 0)
		p->got_bytes = 1;
	for (;;) {
		switch (p->state) {
		case KUBE_PARSE_BODY_LENGTH:
		case KUBE_PARSE_CHUNK_DATA:
			rv = kube_parse_body(p, in, p->remaining, &used);
			p->remaining -= used;
			if (rv != KUBE_PARSE_MORE)
				return rv;
			if (p->remaining > 0)
				return KUBE_PARSE_MORE;
			p->state = p->state == KUBE_PARSE_CHUNK_DATA ?
			    KUBE_PARSE_CHUNK_END : KUBE_PARSE_COMPLETE;
			break;
		case KUBE_PARSE_BODY_CLOSE:
			return kube_parse_body(p, in, UINT64_MAX, &used);
		case KUBE_PARSE_COMPLETE:
			return kube_parse_end(p);
		default:
			if (evbuffer_get_length(in) == 0)
				return KUBE_PARSE_MORE;
			if ((rv = kube_parse_step_line(p, in)) !=
			    KUBE_PARSE_NEXT)
				return rv;
			break;
		}
	}
}

int
kube_parse_eof(struct kube_parse *p, struct evbuffer *in)
{
	int	rv;

	if ((rv = kube_parse_feed(p, in)) != KUBE_PARSE_MORE)
		return rv;
	if (p->state != KUBE_PARSE_BODY_CLOSE)
		return KUBE_PARSE_MORE;
	p->state = KUBE_PARSE_COMPLETE;
	p->keepalive = 0;
	return kube_parse_end(p);
}
