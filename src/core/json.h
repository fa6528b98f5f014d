/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON helpers over cJSON, the one JSON tree used across edgesite. Parsing
 * from a peer is bounded; lookups never crash on a missing or mistyped
 * member.
 */
#ifndef EDGESITE_JSON_H
#define EDGESITE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define JSON_MAX_DOCUMENT	(16u * 1024 * 1024)

/*
 * Points cJSON's allocation at xmalloc, so out-of-memory aborts and no
 * caller checks a builder or printer for NULL. main(), the unit tests and
 * the fuzz harnesses call it first.
 */
void		 json_init(void);

/*
 * Parses len bytes (not necessarily NUL-terminated) into a tree the caller
 * frees with cJSON_Delete. NULL with *errstr set when the input is longer
 * than max, not JSON, or has trailing garbage.
 */
cJSON		*json_parse(const char *buf, size_t len, size_t max,
		    const char **errstr);
/* Member at a dotted path ("metadata.name"); NULL if any step is missing. */
const cJSON	*json_get(const cJSON *obj, const char *path);
/* String at path, or NULL when missing or not a string. */
const char	*json_get_string(const cJSON *obj, const char *path);
/* Integer at path into *v; -1 when missing, not a number or not integral. */
int		 json_get_int(const cJSON *obj, const char *path, int64_t *v);
/* Boolean at path; def when missing or not a boolean. */
int		 json_get_bool(const cJSON *obj, const char *path, int def);
/* Compact serialization; caller frees with free(). */
char		*json_print(const cJSON *obj);
/* Appends a JSON string literal for s (escaped, quoted) to a new string. */
char		*json_quote(const char *s);
/* A Kubernetes metav1.Status object for an error reply; caller frees. */
char		*json_status(int code, const char *reason, const char *message);

#endif
