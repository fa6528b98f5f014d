/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Object text: the local API answers with the JSON the store holds, not a
 * re-serialized tree, so a GET or LIST writes each object's bytes once. To
 * do that it must find members in the text (metadata, labels, a field
 * selector's value) and put the local resourceVersion in place of the
 * upstream one while copying. This file is that small scanner: it walks
 * objects member by member, skips values without building anything, and
 * never reads past the length it is given. It is pure: no logging, no
 * state; malformed text is "not found".
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/json.h"
#include "core/xmalloc.h"

/* Deepest nesting a skipped value may have. */
#define API_TEXT_MAX_DEPTH	512

/*
 * Whitespace as cJSON skips it (any control character or space), so the
 * scanner reads every text the store's JSON parser accepted.
 */
static int
api_text_is_ws(char c)
{
	return (unsigned char)c <= ' ';
}

/* Past whitespace. */
static const char *
api_text_ws(const char *p, const char *end)
{
	while (p < end && api_text_is_ws(*p))
		p++;
	return p;
}

/*
 * Past a string starting at its opening quote, or NULL. memchr finds each
 * candidate quote; one preceded by an odd run of backslashes is escaped.
 */
static const char *
api_text_skip_string(const char *p, const char *end)
{
	const char	*q, *b;

	for (p++; p < end; p = q + 1) {
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
	return NULL;
}

/* Past an object or array starting at its bracket, or NULL. */
static const char *
api_text_skip_nested(const char *p, const char *end)
{
	size_t	depth = 0;

	while (p < end) {
		switch (*p) {
		case '"':
			if ((p = api_text_skip_string(p, end)) == NULL)
				return NULL;
			continue;
		case '{':
		case '[':
			if (++depth > API_TEXT_MAX_DEPTH)
				return NULL;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return NULL;
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return NULL;
}

/* Past any value at p (after whitespace), or NULL. */
static const char *
api_text_skip_value(const char *p, const char *end)
{
	if ((p = api_text_ws(p, end)) == end)
		return NULL;
	if (*p == '"')
		return api_text_skip_string(p, end);
	if (*p == '{' || *p == '[')
		return api_text_skip_nested(p, end);
	/* number, true, false, null */
	while (p < end && *p != ',' && *p != '}' && *p != ']' &&
	    !api_text_is_ws(*p))
		p++;
	return p;
}

/*
 * Finds member name (len bytes) of the object at p; on success sets the
 * value's span. Keys are compared as written, escapes and all.
 */
static int
api_text_member(const char *p, const char *end, const char *name,
    size_t nlen, struct api_span *out)
{
	const char	*k, *kend, *v, *vend;

	p = api_text_ws(p, end);
	if (p == end || *p != '{')
		return -1;
	p = api_text_ws(p + 1, end);
	if (p < end && *p == '}')
		return -1;
	while (p < end) {
		if (*p != '"' || (kend = api_text_skip_string(p, end)) == NULL)
			return -1;
		k = p + 1;
		p = api_text_ws(kend, end);
		if (p == end || *p != ':')
			return -1;
		v = api_text_ws(p + 1, end);
		if ((vend = api_text_skip_value(v, end)) == NULL)
			return -1;
		if ((size_t)(kend - 1 - k) == nlen && memcmp(k, name,
		    nlen) == 0) {
			out->p = v;
			out->len = (size_t)(vend - v);
			return 0;
		}
		p = api_text_ws(vend, end);
		if (p < end && *p == ',')
			p = api_text_ws(p + 1, end);
		else
			return -1;
	}
	return -1;
}

/* Walks a dotted path of object members ("metadata.labels"). */
int
api_text_find(const char *js, size_t len, const char *path,
    struct api_span *out)
{
	struct api_span	 cur = { js, len };
	const char	*dot;
	size_t		 n;

	for (;;) {
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (api_text_member(cur.p, cur.p + cur.len, path, n, &cur) ==
		    -1)
			return -1;
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	*out = cur;
	return 0;
}

/*
 * The string at a span, unescaped, in a new string the caller frees;
 * NULL when the span is not a string.
 */
char *
api_text_string(const struct api_span *sp)
{
	const char	*errstr;
	cJSON		*v;
	char		*s = NULL;

	if (sp->len < 2 || sp->p[0] != '"')
		return NULL;
	/* plain strings, the common case, need no parser */
	if (memchr(sp->p, '\\', sp->len) == NULL)
		return xstrndup(sp->p + 1, sp->len - 2);
	if ((v = json_parse(sp->p, sp->len, sp->len, &errstr)) == NULL)
		return NULL;
	if (cJSON_IsString(v))
		s = xstrdup(v->valuestring);
	cJSON_Delete(v);
	return s;
}

/* Whether the span holds the string s exactly (no escapes in either). */
int
api_text_equals(const struct api_span *sp, const char *s)
{
	size_t	n = strlen(s);

	return sp->len == n + 2 && sp->p[0] == '"' && memcmp(sp->p + 1, s,
	    n) == 0 && sp->p[n + 1] == '"';
}

/* Whether an object's text has no members. */
static int
api_text_empty(const char *p, const char *end)
{
	p = api_text_ws(p + 1, end);
	return p < end && *p == '}';
}

/*
 * Writes the metadata object at mp (mlen bytes) with resourceVersion
 * rev: the member replaced where it is, or added first.
 */
void
api_text_write_meta(struct evbuffer *out, const char *mp, size_t mlen,
    uint64_t rev)
{
	struct api_span	 v;
	const char	*end = mp + mlen;

	if (api_text_member(mp, end, "resourceVersion", 15, &v) == 0) {
		evbuffer_add(out, mp, (size_t)(v.p - mp));
		evbuffer_add_printf(out, "\"%" PRIu64 "\"", rev);
		evbuffer_add(out, v.p + v.len, (size_t)(end - v.p - v.len));
		return;
	}
	mp = api_text_ws(mp, end);
	if (mp == end || *mp != '{') {
		evbuffer_add_printf(out, "{\"resourceVersion\":\"%" PRIu64
		    "\"}", rev);
		return;
	}
	evbuffer_add_printf(out, "{\"resourceVersion\":\"%" PRIu64 "\"%s",
	    rev, api_text_empty(mp, end) ? "" : ",");
	evbuffer_add(out, mp + 1, (size_t)(end - mp - 1));
}

/*
 * Writes an object with metadata.resourceVersion set to rev; everything
 * else is copied as it is.
 */
void
api_text_write_object(struct evbuffer *out, const char *js, size_t len,
    uint64_t rev)
{
	struct api_span	 m;
	const char	*p, *end = js + len;

	if (api_text_find(js, len, "metadata", &m) == 0 && m.len > 0 &&
	    m.p[0] == '{') {
		evbuffer_add(out, js, (size_t)(m.p - js));
		api_text_write_meta(out, m.p, m.len, rev);
		evbuffer_add(out, m.p + m.len, (size_t)(end - m.p - m.len));
		return;
	}
	p = api_text_ws(js, end);
	if (p == end || *p != '{') {
		/* not an object: the store holds only objects; copy it */
		evbuffer_add(out, js, len);
		return;
	}
	evbuffer_add_printf(out, "{\"metadata\":{\"resourceVersion\":\"%"
	    PRIu64 "\"}%s", rev, api_text_empty(p, end) ? "" : ",");
	evbuffer_add(out, p + 1, (size_t)(end - p - 1));
}
