/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox key family (store_outbox.h): the record format of x/<target>
 * and the builders of every upstream write a room asks for -- pod status,
 * pod deletion, mirror pod creation, Device status and core/v1 Events --
 * each added to the caller's batch so it commits with the local state it
 * comes from. The bodies are built here, at record time, and sent as
 * they are by the kube room. Names that become path segments must be DNS
 * subdomains (dnsname.h); anything else is refused before it reaches a
 * batch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/dnsname.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_outbox.h"

#define STORE_OUTBOX_DEVICE_API	"/apis/devices.kubeedge.io/v1alpha1"
#define STORE_OUTBOX_MERGE	"application/merge-patch+json"
#define STORE_OUTBOX_JSON	"application/json"

int
store_outbox_add(struct store_batch *b, const char *target,
    const char *method, const char *path, const char *content_type,
    const char *body)
{
	cJSON	*root;
	char	*key, *out;

	if (b == NULL || target == NULL || *target == '\0' ||
	    method == NULL || path == NULL)
		return -1;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "method", method);
	cJSON_AddStringToObject(root, "path", path);
	if (body != NULL) {
		if (content_type != NULL)
			cJSON_AddStringToObject(root, "contentType",
			    content_type);
		cJSON_AddStringToObject(root, "body", body);
	}
	out = json_print(root);
	cJSON_Delete(root);
	key = store_key_outbox(target);
	store_batch_put(b, key, out, strlen(out));
	free(key);
	free(out);
	return 0;
}

void
store_outbox_withdraw(struct store_batch *b, const char *target)
{
	char	*key;

	key = store_key_outbox(target);
	store_batch_delete(b, key);
	free(key);
}

/* A copy of the string member name of root, or NULL. */
static char *
store_outbox_dup(const cJSON *root, const char *name)
{
	const char	*s = json_get_string(root, name);

	return s != NULL ? xstrdup(s) : NULL;
}

int
store_outbox_parse(const char *val, size_t len, struct store_outbox_rec *rec,
    const char **errstr)
{
	cJSON	*root;

	memset(rec, 0, sizeof(*rec));
	if ((root = json_parse(val, len, STORE_MAX_VALUE, errstr)) == NULL)
		return -1;
	rec->method = store_outbox_dup(root, "method");
	rec->path = store_outbox_dup(root, "path");
	rec->body = store_outbox_dup(root, "body");
	if (rec->body != NULL)
		rec->content_type = store_outbox_dup(root, "contentType");
	cJSON_Delete(root);
	if (rec->method == NULL || rec->path == NULL) {
		store_outbox_rec_clear(rec);
		*errstr = "no method or path";
		return -1;
	}
	return 0;
}

void
store_outbox_rec_clear(struct store_outbox_rec *rec)
{
	free(rec->method);
	free(rec->path);
	free(rec->content_type);
	free(rec->body);
	memset(rec, 0, sizeof(*rec));
}

/* {"metadata":{member:value},"status":<status_json>} or NULL. */
static char *
store_outbox_status_patch(const char *member, const char *value,
    const char *status_json)
{
	cJSON		*root, *status;
	const char	*errstr;
	char		*body;

	status = json_parse(status_json, strlen(status_json),
	    JSON_MAX_DOCUMENT, &errstr);
	if (!cJSON_IsObject(status)) {
		cJSON_Delete(status);
		return NULL;
	}
	root = cJSON_CreateObject();
	if (value != NULL)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(root,
		    "metadata"), member, value);
	cJSON_AddItemToObject(root, "status", status);
	body = json_print(root);
	cJSON_Delete(root);
	return body;
}

/*
 * Adds the record of target <family>/<ns>/<name>/<what> to b, with path
 * (freed here) as its request path.
 */
static int
store_outbox_add_for(struct store_batch *b, const char *family,
    const char *ns, const char *name, const char *what, const char *method,
    char *path, const char *content_type, const char *body)
{
	char	*target;
	int	 rc;

	xasprintf(&target, "%s/%s/%s/%s", family, ns, name, what);
	rc = store_outbox_add(b, target, method, path, content_type, body);
	free(target);
	free(path);
	return rc;
}

int
store_outbox_pod_status(struct store_batch *b, const char *ns,
    const char *name, const char *uid, const char *status_json)
{
	char	*body, *path;
	int	 rc;

	if (!dnsname_subdomain(ns) || !dnsname_subdomain(name) ||
	    uid == NULL || *uid == '\0' || status_json == NULL)
		return -1;
	if ((body = store_outbox_status_patch("uid", uid, status_json)) ==
	    NULL)
		return -1;
	xasprintf(&path, "/api/v1/namespaces/%s/pods/%s/status", ns, name);
	rc = store_outbox_add_for(b, "pods", ns, name, "status", "PATCH", path,
	    STORE_OUTBOX_MERGE, body);
	free(body);
	return rc;
}

int
store_outbox_pod_delete(struct store_batch *b, const char *ns,
    const char *name, const char *uid)
{
	cJSON	*root;
	char	*body, *path;
	int	 rc;

	if (!dnsname_subdomain(ns) || !dnsname_subdomain(name) ||
	    uid == NULL || *uid == '\0')
		return -1;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "kind", "DeleteOptions");
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddNumberToObject(root, "gracePeriodSeconds", 0);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(root,
	    "preconditions"), "uid", uid);
	body = json_print(root);
	cJSON_Delete(root);
	xasprintf(&path, "/api/v1/namespaces/%s/pods/%s", ns, name);
	rc = store_outbox_add_for(b, "pods", ns, name, "delete", "DELETE",
	    path, STORE_OUTBOX_JSON, body);
	free(body);
	return rc;
}

int
store_outbox_mirror_create(struct store_batch *b, const char *ns,
    const char *name, const char *pod_json)
{
	char	*path;

	if (!dnsname_subdomain(ns) || !dnsname_subdomain(name) ||
	    pod_json == NULL)
		return -1;
	xasprintf(&path, "/api/v1/namespaces/%s/pods", ns);
	return store_outbox_add_for(b, "pods", ns, name, "mirror", "POST",
	    path, STORE_OUTBOX_JSON, pod_json);
}

int
store_outbox_device_status(struct store_batch *b, const char *ns,
    const char *name, const char *rv, const char *status_json)
{
	char	*body, *path;
	int	 rc;

	if (!dnsname_subdomain(ns) || !dnsname_subdomain(name) ||
	    status_json == NULL)
		return -1;
	/* The Device changed meanwhile: 409, and the twin sends anew. */
	if ((body = store_outbox_status_patch("resourceVersion", rv,
	    status_json)) == NULL)
		return -1;
	xasprintf(&path, STORE_OUTBOX_DEVICE_API
	    "/namespaces/%s/devices/%s/status", ns, name);
	rc = store_outbox_add_for(b, "devices", ns, name, "status", "PATCH",
	    path, STORE_OUTBOX_MERGE, body);
	free(body);
	return rc;
}

/* Adds member name to obj when s is set. */
static void
store_outbox_add_opt(cJSON *obj, const char *name, const char *s)
{
	if (s != NULL && *s != '\0')
		cJSON_AddStringToObject(obj, name, s);
}

/* The Event object named name. */
static char *
store_outbox_event_body(const char *name, const char *ns,
    const struct store_outbox_ref *ref, const char *host, const char *type,
    const char *reason, const char *message, const char *ts)
{
	cJSON	*root, *md, *io, *src;
	char	*out;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddStringToObject(root, "kind", "Event");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", ns);
	io = cJSON_AddObjectToObject(root, "involvedObject");
	store_outbox_add_opt(io, "apiVersion", ref->api_version);
	store_outbox_add_opt(io, "kind", ref->kind);
	store_outbox_add_opt(io, "namespace", ref->ns);
	store_outbox_add_opt(io, "name", ref->name);
	store_outbox_add_opt(io, "uid", ref->uid);
	store_outbox_add_opt(io, "fieldPath", ref->field_path);
	cJSON_AddStringToObject(root, "reason", reason);
	cJSON_AddStringToObject(root, "message", message);
	cJSON_AddStringToObject(root, "type", type);
	src = cJSON_AddObjectToObject(root, "source");
	cJSON_AddStringToObject(src, "component", "kubelet");
	cJSON_AddStringToObject(src, "host", host);
	cJSON_AddStringToObject(root, "firstTimestamp", ts);
	cJSON_AddStringToObject(root, "lastTimestamp", ts);
	cJSON_AddNumberToObject(root, "count", 1);
	cJSON_AddStringToObject(root, "reportingComponent", "kubelet");
	cJSON_AddStringToObject(root, "reportingInstance", host);
	out = json_print(root);
	cJSON_Delete(root);
	return out;
}

int
store_outbox_event(struct store_batch *b, const char *ns,
    const struct store_outbox_ref *ref, const char *host, const char *type,
    const char *reason, const char *message, const struct timespec *now)
{
	char	*name, *body, *path, *target, ts[64];
	int	 rc;

	if (!dnsname_subdomain(ns) || ref == NULL ||
	    !dnsname_subdomain(ref->name) || host == NULL ||
	    type == NULL || reason == NULL || message == NULL || now == NULL)
		return -1;
	xasprintf(&name, "%.200s.%llx", ref->name, (unsigned long long)
	    now->tv_sec * 1000000000ULL + (unsigned long long)now->tv_nsec);
	clock_rfc3339(now->tv_sec, ts, sizeof(ts));
	body = store_outbox_event_body(name, ns, ref, host, type, reason,
	    message, ts);
	xasprintf(&path, "/api/v1/namespaces/%s/events", ns);
	xasprintf(&target, STORE_OUTBOX_EVENTS "%s/%s", ns, name);
	rc = store_outbox_add(b, target, "POST", path, STORE_OUTBOX_JSON,
	    body);
	free(target);
	free(path);
	free(body);
	free(name);
	return rc;
}
