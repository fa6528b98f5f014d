/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watch lines and list items taken apart for the store (kube_object.h):
 * identity checks (a DNS-segment name and namespace, the scope), the text
 * to store (without managedFields, with kind and apiVersion), the resume
 * point, and the exact reason for each skip, which the reflector logs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_object.h"
#include "store/store_keys.h"

/*
 * Checks an object's identity and returns its store key (caller frees).
 * NULL with *errstr for a malformed object, NULL with *errstr NULL for one
 * outside the scope.
 */
static char *
kube_object_key(const struct kube_object_scope *sc, const cJSON *obj,
    const char **errstr)
{
	const char	*name, *ns = NULL;

	*errstr = NULL;
	if (!cJSON_IsObject(obj)) {
		*errstr = "not an object";
		return NULL;
	}
	if (!cJSON_IsObject(json_get(obj, "metadata"))) {
		*errstr = "no metadata";
		return NULL;
	}
	name = json_get_string(obj, "metadata.name");
	if (!dnsname_segment(name)) {
		*errstr = "missing or bad metadata.name";
		return NULL;
	}
	if (sc->namespaced) {
		ns = json_get_string(obj, "metadata.namespace");
		if (!dnsname_segment(ns)) {
			*errstr = "missing or bad metadata.namespace";
			return NULL;
		}
		if (sc->ns != NULL && strcmp(ns, sc->ns) != 0)
			return NULL;
	}
	if (sc->only != NULL && strcmp(name, sc->only) != 0)
		return NULL;
	return store_key_object(sc->store_name, ns, name);
}

/* Names an object in a reason: "ns/name" escaped, or "?". */
static const char *
kube_object_name(const cJSON *obj, char *buf, size_t len)
{
	const char	*name, *ns;
	char		 tmp[300];

	name = json_get_string(obj, "metadata.name");
	ns = json_get_string(obj, "metadata.namespace");
	if (name == NULL)
		return "?";
	snprintf(tmp, sizeof(tmp), "%s%s%s", ns != NULL ? ns : "",
	    ns != NULL ? "/" : "", name);
	return log_escape(tmp, strlen(tmp), buf, len);
}

/*
 * Prepares an object for the store: drops metadata.managedFields (each
 * copy of it), fills kind and apiVersion when a list left them out.
 * Returns the JSON text (caller frees) or NULL when it is over max bytes.
 */
static char *
kube_object_text(cJSON *obj, const char *kind, const char *apiv,
    size_t max, size_t *len)
{
	cJSON	*md;
	char	*text;

	md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	/* every copy: a member given twice is kept twice by cJSON */
	while (cJSON_GetObjectItemCaseSensitive(md, "managedFields") != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
	if (kind != NULL && json_get(obj, "kind") == NULL)
		cJSON_AddStringToObject(obj, "kind", kind);
	if (apiv != NULL && json_get(obj, "apiVersion") == NULL)
		cJSON_AddStringToObject(obj, "apiVersion", apiv);
	text = json_print(obj);
	*len = strlen(text);
	if (*len > max) {
		free(text);
		return NULL;
	}
	return text;
}

/* SKIP with a reason. */
static enum kube_object_action __attribute__((format(printf, 2, 3)))
kube_object_skip(struct kube_object_event *ev, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ev->why, sizeof(ev->why), fmt, ap);
	va_end(ap);
	return ev->action = KUBE_OBJECT_SKIP;
}

/* ADDED, MODIFIED or DELETED: the key, the text, the resume point. */
static enum kube_object_action
kube_object_change(const struct kube_object_scope *sc, cJSON *obj,
    size_t max, struct kube_object_event *ev)
{
	const char	*errstr, *rv;
	char		 buf[300];

	if ((ev->key = kube_object_key(sc, obj, &errstr)) == NULL) {
		if (errstr == NULL)
			return ev->action = KUBE_OBJECT_IGNORE;
		return kube_object_skip(ev, "%s %s: %s", ev->type,
		    kube_object_name(obj, buf, sizeof(buf)), errstr);
	}
	rv = json_get_string(obj, "metadata.resourceVersion");
	if (rv == NULL || *rv == '\0')
		return kube_object_skip(ev, "%s %s: no resourceVersion",
		    ev->type, ev->key);
	ev->rv = xstrdup(rv);
	if (strcmp(ev->type, "DELETED") == 0)
		return ev->action = KUBE_OBJECT_DELETE;
	if ((ev->text = kube_object_text(obj, NULL, NULL, max,
	    &ev->len)) == NULL)
		return kube_object_skip(ev, "%s %s: larger than %zu bytes",
		    ev->type, ev->key, max);
	return ev->action = KUBE_OBJECT_PUT;
}

/* The event of a parsed line. */
static enum kube_object_action
kube_object_dispatch(const struct kube_object_scope *sc, cJSON *root,
    size_t max, struct kube_object_event *ev)
{
	static const char *const types[] = {
		"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR", NULL
	};
	const char	*type, *rv, *msg;
	cJSON		*obj;
	size_t		 i;

	type = json_get_string(root, "type");
	obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	if (type == NULL || !cJSON_IsObject(obj))
		return kube_object_skip(ev, "an event without type or object");
	for (i = 0; types[i] != NULL && strcmp(type, types[i]) != 0; i++)
		;
	if (types[i] == NULL)
		return kube_object_skip(ev, "an event of unknown type");
	ev->type = types[i];
	if (i < 3)
		return kube_object_change(sc, obj, max, ev);
	if (i == 3) {
		rv = json_get_string(obj, "metadata.resourceVersion");
		if (rv == NULL || *rv == '\0')
			return kube_object_skip(ev, "a bookmark without "
			    "resourceVersion");
		ev->rv = xstrdup(rv);
		return ev->action = KUBE_OBJECT_BOOKMARK;
	}
	if (json_get_int(obj, "code", &ev->code) == -1)
		ev->code = 0;
	msg = json_get_string(obj, "message");
	ev->message = xstrdup(msg != NULL ? msg : "");
	return ev->action = KUBE_OBJECT_ERROR;
}

enum kube_object_action
kube_object_event(const struct kube_object_scope *sc, const char *line,
    size_t len, size_t max_value, struct kube_object_event *ev)
{
	const char	*errstr;
	cJSON		*root;

	memset(ev, 0, sizeof(*ev));
	if ((root = json_parse(line, len, len, &errstr)) == NULL)
		return kube_object_skip(ev, "a line of %zu bytes: %s", len,
		    errstr);
	kube_object_dispatch(sc, root, max_value, ev);
	cJSON_Delete(root);
	return ev->action;
}

enum kube_object_action
kube_object_item(const struct kube_object_scope *sc, cJSON *item,
    const char *kind, const char *apiv, size_t max_value,
    struct kube_object_event *ev)
{
	const char	*errstr;
	char		 buf[300];

	memset(ev, 0, sizeof(*ev));
	if ((ev->key = kube_object_key(sc, item, &errstr)) == NULL) {
		if (errstr == NULL)
			return ev->action = KUBE_OBJECT_IGNORE;
		return kube_object_skip(ev, "object %s: %s",
		    kube_object_name(item, buf, sizeof(buf)), errstr);
	}
	if ((ev->text = kube_object_text(item, kind, apiv, max_value,
	    &ev->len)) == NULL)
		return kube_object_skip(ev, "%s: larger than %zu bytes",
		    ev->key, max_value);
	return ev->action = KUBE_OBJECT_PUT;
}

void
kube_object_event_clear(struct kube_object_event *ev)
{
	free(ev->key);
	free(ev->text);
	free(ev->rv);
	free(ev->message);
	memset(ev, 0, sizeof(*ev));
}
