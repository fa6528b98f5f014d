/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes read API of the site: the apiserver's own paths, served
 * from the store, so kubectl and client libraries inside the site keep
 * working while the cloud is unreachable. This file owns the table of the
 * kinds served (which store resource holds each, its field selectors and
 * table columns), the discovery documents (/version, /api, /api/v1,
 * /apis, /apis/<group>[/<version>], the OpenAPI paths kubectl asks for),
 * and the routing of a resource path with its query into a struct
 * api_query for api_list.c (GET, LIST) or api_watch.c (WATCH). The API is
 * read-only: every other method is answered 405 by api.c.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store_keys.h"

#define API_KUBE_TIMEOUT_MAX	(24 * 3600)

static const char *const api_kube_meta_fields[] = {
	"metadata.name", "metadata.namespace", NULL
};
static const char *const api_kube_pod_fields[] = {
	"metadata.name", "metadata.namespace", "spec.nodeName",
	"status.phase", NULL
};

/* Every kind served, core group first; the order of discovery. */
const struct api_kind api_kube_kinds[] = {
	{ "pods", "pod", "", "v1", "Pod", "pods", 1, "po",
	  api_kube_pod_fields, API_TABLE_POD },
	{ "configmaps", "configmap", "", "v1", "ConfigMap", "configmaps", 1,
	  "cm", api_kube_meta_fields, API_TABLE_CONFIGMAP },
	{ "secrets", "secret", "", "v1", "Secret", "secrets", 1, NULL,
	  api_kube_meta_fields, API_TABLE_SECRET },
	{ "services", "service", "", "v1", "Service", "services", 1, "svc",
	  api_kube_meta_fields, API_TABLE_SERVICE },
	{ "endpoints", "endpoints", "", "v1", "Endpoints", "endpoints", 1,
	  "ep", api_kube_meta_fields, API_TABLE_ENDPOINTS },
	{ "nodes", "node", "", "v1", "Node", "nodes", 0, "no",
	  api_kube_meta_fields, API_TABLE_NODE },
	{ "events", "event", "", "v1", "Event", "events", 1, "ev",
	  api_kube_meta_fields, API_TABLE_EVENT },
	{ "leases", "lease", "coordination.k8s.io", "v1", "Lease",
	  "leases.coordination.k8s.io", 1, NULL, api_kube_meta_fields,
	  API_TABLE_LEASE },
	{ "endpointslices", "endpointslice", "discovery.k8s.io", "v1",
	  "EndpointSlice", "endpointslices.discovery.k8s.io", 1, NULL,
	  api_kube_meta_fields, API_TABLE_NAME },
	{ "devices", "device", "devices.kubeedge.io", "v1alpha1", "Device",
	  "devices.devices.kubeedge.io", 1, NULL, api_kube_meta_fields,
	  API_TABLE_NAME },
	{ "devicemodels", "devicemodel", "devices.kubeedge.io", "v1alpha1",
	  "DeviceModel", "devicemodels.devices.kubeedge.io", 1, NULL,
	  api_kube_meta_fields, API_TABLE_NAME },
};
const size_t api_kube_nkinds = sizeof(api_kube_kinds) /
    sizeof(api_kube_kinds[0]);

/* A path split at its slashes, at most this many parts. */
#define API_KUBE_MAX_PARTS	10

struct api_kube_path {
	char	*buf;
	char	*part[API_KUBE_MAX_PARTS];
	size_t	 n;
};

/* The apiVersion of a kind's objects. */
void
api_kube_api_version(const struct api_kind *k, char *buf, size_t len)
{
	if (*k->group == '\0')
		snprintf(buf, len, "%s", k->version);
	else
		snprintf(buf, len, "%s/%s", k->group, k->version);
}

/* The paths of the read API: discovery, OpenAPI and resources. */
int
api_kube_path(const char *path)
{
	return strcmp(path, "/version") == 0 || strcmp(path, "/api") == 0 ||
	    strncmp(path, "/api/", 5) == 0 || strcmp(path, "/apis") == 0 ||
	    strncmp(path, "/apis/", 6) == 0 ||
	    strncmp(path, "/openapi/", 9) == 0;
}

/* The kind of a store key o/<store>/<ns>/<name>. */
const struct api_kind *
api_kube_kind_of(const char *key)
{
	const char	*s, *slash;
	size_t		 i, n;

	if (strncmp(key, STORE_KEY_OBJECT, strlen(STORE_KEY_OBJECT)) != 0)
		return NULL;
	s = key + strlen(STORE_KEY_OBJECT);
	if ((slash = strchr(s, '/')) == NULL)
		return NULL;
	n = (size_t)(slash - s);
	for (i = 0; i < api_kube_nkinds; i++)
		if (strlen(api_kube_kinds[i].store) == n &&
		    memcmp(api_kube_kinds[i].store, s, n) == 0)
			return &api_kube_kinds[i];
	return NULL;
}

/* Sends a cJSON document and frees it. */
static void
api_kube_reply_json(struct api_req *req, cJSON *doc)
{
	char	*js;

	js = json_print(doc);
	cJSON_Delete(doc);
	api_reply_text(req, 200, "application/json", js);
	free(js);
}

/* Adds a string to an array. */
static void
api_kube_push(cJSON *arr, const char *s)
{
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

/* GET /version */
static void
api_kube_version(struct api_req *req)
{
	cJSON	*v;

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "major", API_KUBE_VERSION_MAJOR);
	cJSON_AddStringToObject(v, "minor", API_KUBE_VERSION_MINOR);
	cJSON_AddStringToObject(v, "gitVersion", API_KUBE_GIT_VERSION);
	cJSON_AddStringToObject(v, "gitCommit", "");
	cJSON_AddStringToObject(v, "gitTreeState", "clean");
	cJSON_AddStringToObject(v, "buildDate", "");
	cJSON_AddStringToObject(v, "goVersion", "");
	cJSON_AddStringToObject(v, "compiler", "edgesite");
	cJSON_AddStringToObject(v, "platform", "linux");
	api_kube_reply_json(req, v);
}

/* GET /api */
static void
api_kube_versions(struct api_req *req)
{
	cJSON	*v, *arr, *cidr, *addr;

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "kind", "APIVersions");
	arr = cJSON_AddArrayToObject(v, "versions");
	api_kube_push(arr, "v1");
	cidr = cJSON_AddArrayToObject(v, "serverAddressByClientCIDRs");
	addr = cJSON_CreateObject();
	cJSON_AddItemToArray(cidr, addr);
	cJSON_AddStringToObject(addr, "clientCIDR", "0.0.0.0/0");
	cJSON_AddStringToObject(addr, "serverAddress", req != NULL &&
	    api_req_api(req)->listen != NULL ? api_req_api(req)->listen : "");
	api_kube_reply_json(req, v);
}

/* One APIResource of a resource list. */
static cJSON *
api_kube_resource(const struct api_kind *k)
{
	cJSON	*r, *arr;
	char	*names, *p, *tok;

	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", k->resource);
	cJSON_AddStringToObject(r, "singularName", k->singular);
	cJSON_AddBoolToObject(r, "namespaced", k->namespaced);
	cJSON_AddStringToObject(r, "kind", k->kind);
	arr = cJSON_AddArrayToObject(r, "verbs");
	api_kube_push(arr, "get");
	api_kube_push(arr, "list");
	api_kube_push(arr, "watch");
	if (k->short_names != NULL) {
		arr = cJSON_AddArrayToObject(r, "shortNames");
		p = names = xstrdup(k->short_names);
		while ((tok = strsep(&p, ",")) != NULL)
			api_kube_push(arr, tok);
		free(names);
	}
	if (k->table == API_TABLE_POD || k->table == API_TABLE_SERVICE) {
		arr = cJSON_AddArrayToObject(r, "categories");
		api_kube_push(arr, "all");
	}
	return r;
}

/* GET /api/v1 or /apis/<group>/<version>: the resources of one version. */
static void
api_kube_resources(struct api_req *req, const char *group,
    const char *version)
{
	cJSON	*v, *arr, *r;
	char	 gv[128];
	size_t	 i;

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "kind", "APIResourceList");
	cJSON_AddStringToObject(v, "apiVersion", "v1");
	if (*group == '\0')
		snprintf(gv, sizeof(gv), "%s", version);
	else
		snprintf(gv, sizeof(gv), "%s/%s", group, version);
	cJSON_AddStringToObject(v, "groupVersion", gv);
	arr = cJSON_AddArrayToObject(v, "resources");
	for (i = 0; i < api_kube_nkinds; i++) {
		if (strcmp(api_kube_kinds[i].group, group) != 0 ||
		    strcmp(api_kube_kinds[i].version, version) != 0)
			continue;
		r = api_kube_resource(&api_kube_kinds[i]);
		cJSON_AddItemToArray(arr, r);
	}
	api_kube_reply_json(req, v);
}

/* One APIGroup: its name and its one version, preferred. */
static cJSON *
api_kube_group(const struct api_kind *k)
{
	cJSON	*g, *arr, *gv;
	char	 buf[128];
	int	 i;

	g = cJSON_CreateObject();
	cJSON_AddStringToObject(g, "name", k->group);
	arr = cJSON_AddArrayToObject(g, "versions");
	api_kube_api_version(k, buf, sizeof(buf));
	for (i = 0; i < 2; i++) {
		gv = cJSON_CreateObject();
		cJSON_AddStringToObject(gv, "groupVersion", buf);
		cJSON_AddStringToObject(gv, "version", k->version);
		if (i == 0)
			cJSON_AddItemToArray(arr, gv);
		else
			cJSON_AddItemToObject(g, "preferredVersion", gv);
	}
	return g;
}

/* The first kind of a group, or NULL when the group is not served. */
static const struct api_kind *
api_kube_group_kind(const char *group)
{
	size_t	i;

	for (i = 0; i < api_kube_nkinds; i++)
		if (*group != '\0' && strcmp(api_kube_kinds[i].group,
		    group) == 0)
			return &api_kube_kinds[i];
	return NULL;
}

/* GET /apis: every named group, once each. */
static void
api_kube_groups(struct api_req *req)
{
	cJSON			*v, *arr;
	const struct api_kind	*k;
	size_t			 i;

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "kind", "APIGroupList");
	cJSON_AddStringToObject(v, "apiVersion", "v1");
	arr = cJSON_AddArrayToObject(v, "groups");
	for (i = 0; i < api_kube_nkinds; i++) {
		k = &api_kube_kinds[i];
		if (*k->group == '\0' || api_kube_group_kind(k->group) != k)
			continue;
		cJSON_AddItemToArray(arr, api_kube_group(k));
	}
	api_kube_reply_json(req, v);
}

/* GET /apis/<group> */
static void
api_kube_group_doc(struct api_req *req, const struct api_kind *k)
{
	cJSON	*g;

	g = api_kube_group(k);
	cJSON_AddStringToObject(g, "kind", "APIGroup");
	cJSON_AddStringToObject(g, "apiVersion", "v1");
	api_kube_reply_json(req, g);
}

/*
 * The OpenAPI documents: kubectl get needs none, but asks for the v3
 * index in some commands; an empty index tells it there is no schema.
 */
static void
api_kube_openapi(struct api_req *req)
{
	if (strcmp(api_req_path(req), "/openapi/v3") == 0) {
		api_reply_text(req, 200, "application/json", "{\"paths\":{}}");
		return;
	}
	api_reply_status(req, 404, "NotFound", "the server does not serve "
	    "OpenAPI schemas");
}

/* Splits path at '/' (empty parts dropped); -1 when too many. */
static int
api_kube_split(const char *path, struct api_kube_path *kp)
{
	char	*p, *tok;

	memset(kp, 0, sizeof(*kp));
	p = kp->buf = xstrdup(path);
	while ((tok = strsep(&p, "/")) != NULL) {
		if (*tok == '\0')
			continue;
		if (kp->n == API_KUBE_MAX_PARTS)
			return -1;
		kp->part[kp->n++] = tok;
	}
	return 0;
}

/* The kind of group/version/resource, or NULL. */
static const struct api_kind *
api_kube_find(const char *group, const char *version, const char *resource)
{
	size_t	i;

	for (i = 0; i < api_kube_nkinds; i++)
		if (strcmp(api_kube_kinds[i].group, group) == 0 &&
		    strcmp(api_kube_kinds[i].version, version) == 0 &&
		    strcmp(api_kube_kinds[i].resource, resource) == 0)
			return &api_kube_kinds[i];
	return NULL;
}

/* Frees what a query holds. */
void
api_kube_query_clear(struct api_query *q)
{
	free(q->ns);
	free(q->name);
	free(q->prefix);
	api_select_free(q->labels);
	api_select_free(q->fields);
	memset(q, 0, sizeof(*q));
}

/* A non-negative decimal number of at most max. */
static int
api_kube_number(const char *s, int64_t max, int64_t *v)
{
	long long	 n;
	char		*ep;

	errno = 0;
	n = strtoll(s, &ep, 10);
	if (*s == '\0' || *ep != '\0' || errno != 0 || n < 0)
		return -1;
	*v = n > max ? max : n;
	return 0;
}

/* "true", "1" or "" as given by clients for a boolean parameter. */
static int
api_kube_bool(const char *s)
{
	return s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
	    *s == '\0');
}

/*
 * Reads the query string into q; on a bad one -1 with what was wrong in
 * *what and *why, for a 400.
 */
static int
api_kube_query_args(struct api_req *req, struct api_query *q,
    const char **what, const char **why)
{
	const char	*s, *accept;
	uint64_t	 rv;

	*what = "invalid request";
	if ((s = api_req_query(req, "labelSelector")) != NULL &&
	    (q->labels = api_select_labels(s, why)) == NULL) {
		*what = "unable to parse labelSelector";
		return -1;
	}
	if ((s = api_req_query(req, "fieldSelector")) != NULL &&
	    (q->fields = api_select_fields(s, q->kind->fields, why)) == NULL) {
		*what = "unable to parse fieldSelector";
		return -1;
	}
	if (api_kube_bool(api_req_query(req, "watch")))
		q->watch = 1;
	if ((s = api_req_query(req, "resourceVersion")) != NULL && *s != '\0') {
		if (api_kube_number(s, INT64_MAX, (int64_t *)&rv) == -1) {
			*why = "resourceVersion is not a number";
			return -1;
		}
		q->rv_given = rv != 0;
		q->rv = rv;
	}
	if ((s = api_req_query(req, "limit")) != NULL &&
	    api_kube_number(s, INT64_MAX, &q->limit) == -1) {
		*why = "limit is not a number";
		return -1;
	}
	if ((s = api_req_query(req, "timeoutSeconds")) != NULL &&
	    api_kube_number(s, API_KUBE_TIMEOUT_MAX, &q->timeout) == -1) {
		*why = "timeoutSeconds is not a number";
		return -1;
	}
	if ((s = api_req_query(req, "continue")) != NULL && *s != '\0')
		q->cont = s;
	q->bookmarks = api_kube_bool(api_req_query(req, "allowWatchBookmarks"));
	q->initial_end = api_kube_bool(api_req_query(req, "sendInitialEvents"));
	accept = api_req_get_header(req, "Accept");
	q->table = accept != NULL && strstr(accept, "as=Table") != NULL;
	return 0;
}

/*
 * Fills q from the parts after /api/v1 or /apis/<g>/<v>:
 * [watch/][namespaces/<ns>/]<resource>[/<name>]. 0, or the HTTP code to
 * answer with *why.
 */
static int
api_kube_query_path(struct api_kube_path *kp, size_t i, const char *group,
    const char *version, struct api_query *q, const char **why)
{
	const char	*ns = NULL;

	if (i < kp->n && strcmp(kp->part[i], "watch") == 0) {
		q->watch = 1;
		i++;
	}
	if (kp->n - i >= 3 && strcmp(kp->part[i], "namespaces") == 0) {
		ns = kp->part[i + 1];
		i += 2;
	}
	if (i >= kp->n || kp->n - i > 2 ||
	    (q->kind = api_kube_find(group, version, kp->part[i])) == NULL) {
		*why = "the server could not find the requested resource";
		return 404;
	}
	if ((ns != NULL && !q->kind->namespaced) ||
	    (ns != NULL && !dnsname_segment(ns)) ||
	    (kp->n - i == 2 && !dnsname_segment(kp->part[i + 1]))) {
		*why = "the server could not find the requested resource";
		return 404;
	}
	if (ns != NULL)
		q->ns = xstrdup(ns);
	if (kp->n - i == 2)
		q->name = xstrdup(kp->part[i + 1]);
	if (q->ns != NULL)
		q->prefix = store_key_objects(q->kind->store, q->ns);
	else if (!q->kind->namespaced)
		q->prefix = store_key_objects(q->kind->store, "");
	else
		q->prefix = store_key_objects(q->kind->store, NULL);
	return 0;
}

/* A resource request: parse, then GET, LIST or WATCH. */
static void
api_kube_objects(struct api_req *req, struct api_kube_path *kp, size_t i,
    const char *group, const char *version)
{
	struct api_query	 q;
	const char		*why = NULL, *what = NULL;
	char			*msg;
	int			 code;

	memset(&q, 0, sizeof(q));
	if ((code = api_kube_query_path(kp, i, group, version, &q,
	    &why)) != 0) {
		api_reply_status(req, code, "NotFound", why);
		goto out;
	}
	if (api_kube_query_args(req, &q, &what, &why) == -1) {
		xasprintf(&msg, "%s: %s", what, why);
		api_reply_status(req, 400, "BadRequest", msg);
		free(msg);
		goto out;
	}
	if (q.watch && q.name != NULL) {
		/* a watch of one object is a field selector on its name */
		api_reply_status(req, 400, "BadRequest", "watch a single "
		    "object with fieldSelector=metadata.name=<name>");
		goto out;
	}
	if (q.watch)
		api_watch_start(req, &q);
	else if (q.name != NULL)
		api_list_get(req, &q);
	else
		api_list_list(req, &q);
out:
	api_kube_query_clear(&q);
}

/* Routes /api... and /apis... by their parts. */
static void
api_kube_route(struct api_req *req, struct api_kube_path *kp)
{
	const struct api_kind	*k;

	if (strcmp(kp->part[0], "api") == 0) {
		if (kp->n == 1)
			api_kube_versions(req);
		else if (strcmp(kp->part[1], "v1") != 0)
			goto notfound;
		else if (kp->n == 2)
			api_kube_resources(req, "", "v1");
		else
			api_kube_objects(req, kp, 2, "", "v1");
		return;
	}
	if (kp->n == 1) {
		api_kube_groups(req);
		return;
	}
	if ((k = api_kube_group_kind(kp->part[1])) == NULL)
		goto notfound;
	if (kp->n == 2)
		api_kube_group_doc(req, k);
	else if (strcmp(kp->part[2], k->version) != 0)
		goto notfound;
	else if (kp->n == 3)
		api_kube_resources(req, k->group, k->version);
	else
		api_kube_objects(req, kp, 3, k->group, k->version);
	return;
notfound:
	api_reply_status(req, 404, "NotFound", "the server could not find "
	    "the requested resource");
}

/* Every request for a path of api_kube_path. */
void
api_kube_serve(struct api_req *req)
{
	struct api_kube_path	 kp;
	const char		*path = api_req_path(req);

	if (strcmp(path, "/version") == 0) {
		api_kube_version(req);
		return;
	}
	if (strncmp(path, "/openapi/", 9) == 0) {
		api_kube_openapi(req);
		return;
	}
	if (api_kube_split(path, &kp) == -1 || kp.n == 0)
		api_reply_status(req, 404, "NotFound", "the server could not "
		    "find the requested resource");
	else
		api_kube_route(req, &kp);
	free(kp.buf);
}
