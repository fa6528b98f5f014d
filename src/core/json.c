/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON helpers over cJSON. Parsing a peer's document is bounded: the size
 * is checked before cJSON sees a byte, and trailing garbage is refused.
 * Lookups walk dotted paths and return NULL (or an error) rather than crash
 * on a missing or mistyped member. json_init() points cJSON's allocator at
 * xmalloc, so every cJSON builder and printer aborts on out-of-memory like
 * the xmalloc family and callers never test their results for NULL; this
 * file never logs.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* 2^63 as a double: the first value past the int64 range. */
#define JSON_INT64_LIMIT	9223372036854775808.0

/* cJSON's allocator: xmalloc (which refuses 0 bytes, cJSON never asks). */
static void *
json_malloc_cb(size_t size)
{
	return xmalloc(size > 0 ? size : 1);
}

/*
 * With its own malloc cJSON grows print buffers by malloc, copy and free
 * instead of realloc; results stay free()-able as free is the free_fn.
 */
void
json_init(void)
{
	cJSON_Hooks	hooks = { json_malloc_cb, free };

	cJSON_InitHooks(&hooks);
}

/* JSON's insignificant whitespace. */
static int
json_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Size first, then cJSON, then whatever cJSON left unread. */
cJSON *
json_parse(const char *buf, size_t len, size_t max, const char **errstr)
{
	cJSON		*root;
	const char	*end = NULL;

	if (len > max) {
		*errstr = "document too large";
		return NULL;
	}
	if (len == 0) {
		*errstr = "empty document";
		return NULL;
	}
	/*
	 * cJSON's own trailing check wants a NUL inside the length; the input
	 * need not have one, so check the rest here instead.
	 */
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL) {
		*errstr = "not valid JSON";
		return NULL;
	}
	while (end < buf + len && json_is_space(*end))
		end++;
	if (end != buf + len) {
		cJSON_Delete(root);
		*errstr = "trailing data after the JSON document";
		return NULL;
	}
	return root;
}

/* Looks up one path step of len bytes in an object. */
static const cJSON *
json_member(const cJSON *obj, const char *name, size_t len)
{
	const cJSON	*c;

	if (!cJSON_IsObject(obj) || len == 0)
		return NULL;
	for (c = obj->child; c != NULL; c = c->next) {
		if (c->string != NULL && strlen(c->string) == len &&
		    memcmp(c->string, name, len) == 0)
			return c;
	}
	return NULL;
}

/* Walks one object member per dot-separated step. */
const cJSON *
json_get(const cJSON *obj, const char *path)
{
	const char	*dot;
	size_t		 len;

	if (obj == NULL || path == NULL)
		return NULL;
	while (*path != '\0') {
		dot = strchr(path, '.');
		len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if ((obj = json_member(obj, path, len)) == NULL)
			return NULL;
		if (dot == NULL)
			break;
		path = dot + 1;
		/* a trailing dot names an empty member, which never exists */
		if (*path == '\0')
			return NULL;
	}
	return obj;
}

/* The string at path; NULL for any other type. */
const char *
json_get_string(const cJSON *obj, const char *path)
{
	const cJSON	*v = json_get(obj, path);

	if (!cJSON_IsString(v))
		return NULL;
	return v->valuestring;
}

/* Accepts only finite integral numbers within int64. */
int
json_get_int(const cJSON *obj, const char *path, int64_t *v)
{
	const cJSON	*n = json_get(obj, path);
	double		 d;
	int64_t		 i;

	if (!cJSON_IsNumber(n))
		return -1;
	d = n->valuedouble;
	/* range first: converting an out-of-range double is undefined */
	if (!isfinite(d) || d >= JSON_INT64_LIMIT || d < -JSON_INT64_LIMIT)
		return -1;
	i = (int64_t)d;
	if ((double)i != d)
		return -1;
	*v = i;
	return 0;
}

/* true or false at path; def for anything else. */
int
json_get_bool(const cJSON *obj, const char *path, int def)
{
	const cJSON	*b = json_get(obj, path);

	if (cJSON_IsTrue(b))
		return 1;
	if (cJSON_IsFalse(b))
		return 0;
	return def;
}

/* Compact text; NULL only for a NULL tree. */
char *
json_print(const cJSON *obj)
{
	return cJSON_PrintUnformatted(obj);
}

/* cJSON escapes quotes, backslashes and control characters. */
char *
json_quote(const char *s)
{
	cJSON	*str;
	char	*out;

	str = cJSON_CreateString(s != NULL ? s : "");
	out = json_print(str);
	cJSON_Delete(str);
	return out;
}

/*
 * A 2xx code gives status "Success", anything else "Failure"; an empty
 * reason is left out, as the apiserver does.
 */
char *
json_status(int code, const char *reason, const char *message)
{
	cJSON	*st;
	char	*out;

	st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "kind", "Status");
	cJSON_AddStringToObject(st, "apiVersion", "v1");
	cJSON_AddObjectToObject(st, "metadata");
	cJSON_AddStringToObject(st, "status", code >= 200 && code < 300 ?
	    "Success" : "Failure");
	cJSON_AddStringToObject(st, "message", message != NULL ? message : "");
	if (reason != NULL && *reason != '\0')
		cJSON_AddStringToObject(st, "reason", reason);
	cJSON_AddNumberToObject(st, "code", code);
	out = json_print(st);
	cJSON_Delete(st);
	return out;
}
