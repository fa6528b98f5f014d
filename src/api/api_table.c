/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The meta.k8s.io/v1 Table the apiserver answers kubectl with (Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io): column definitions and
 * one row of cells per object, computed here the way the apiserver's
 * printers do for the kinds the site holds (pods: NAME READY STATUS
 * RESTARTS AGE and the wide columns; nodes: NAME STATUS ROLES AGE VERSION
 * and the wide ones; services; configmaps: DATA; secrets: TYPE DATA;
 * endpoints; leases; events), NAME and AGE otherwise. Each row carries the
 * object's metadata as a PartialObjectMetadata, which kubectl reads for
 * the namespace column and labels.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* One column: name, type, format, priority (1: only with -o wide). */
struct api_table_col {
	const char	*name;
	const char	*type;
	const char	*format;
	int		 priority;
	const char	*description;
};

#define COL(n, t, f, p, d)	{ n, t, f, p, d }
#define END			{ NULL, NULL, NULL, 0, NULL }

static const struct api_table_col api_table_name_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	END
};
static const struct api_table_col api_table_pod_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Ready", "string", "", 0, "The aggregate readiness state of this "
	    "pod for accepting traffic."),
	COL("Status", "string", "", 0, "The aggregate status of the "
	    "containers in this pod."),
	COL("Restarts", "string", "", 0, "The number of times the containers "
	    "in this pod have been restarted and when the last container in "
	    "this pod has restarted."),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	COL("IP", "string", "", 1, "IP address allocated to the pod."),
	COL("Node", "string", "", 1, "Name of the Node this pod is bound "
	    "to."),
	COL("Nominated Node", "string", "", 1, "Name of the node nominated "
	    "by the scheduler."),
	COL("Readiness Gates", "string", "", 1, "The readiness gates of the "
	    "pod."),
	END
};
static const struct api_table_col api_table_node_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique."),
	COL("Status", "string", "", 0, "The status of the node"),
	COL("Roles", "string", "", 0, "The roles of the node"),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	COL("Version", "string", "", 0, "Kubelet Version reported by the "
	    "node."),
	COL("Internal-IP", "string", "", 1, "List of addresses reachable to "
	    "the node."),
	COL("External-IP", "string", "", 1, "List of addresses reachable to "
	    "the node."),
	COL("OS-Image", "string", "", 1, "OS Image reported by the node."),
	COL("Kernel-Version", "string", "", 1, "Kernel Version reported by "
	    "the node."),
	COL("Container-Runtime", "string", "", 1, "Container Runtime "
	    "Version reported by the node."),
	END
};
static const struct api_table_col api_table_service_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Type", "string", "", 0, "type determines how the Service is "
	    "exposed."),
	COL("Cluster-IP", "string", "", 0, "clusterIP is the IP address of "
	    "the service."),
	COL("External-IP", "string", "", 0, "externalIPs and load balancer "
	    "addresses of the service."),
	COL("Port(s)", "string", "", 0, "The list of ports that are exposed "
	    "by this service."),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	COL("Selector", "string", "", 1, "Route service traffic to pods with "
	    "label keys and values matching this selector."),
	END
};
static const struct api_table_col api_table_configmap_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Data", "integer", "", 0, "Number of keys in the data."),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	END
};
static const struct api_table_col api_table_secret_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Type", "string", "", 0, "The type of the secret"),
	COL("Data", "integer", "", 0, "The number of entries in the data"),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	END
};
static const struct api_table_col api_table_endpoints_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Endpoints", "string", "", 0, "Endpoints of the service"),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	END
};
static const struct api_table_col api_table_lease_cols[] = {
	COL("Name", "string", "name", 0, "Name must be unique within a "
	    "namespace."),
	COL("Holder", "string", "", 0, "The holder of the lease."),
	COL("Age", "string", "", 0, "CreationTimestamp is a timestamp "
	    "representing the server time when this object was created."),
	END
};
static const struct api_table_col api_table_event_cols[] = {
	COL("Last Seen", "string", "", 0, "Time when this event was last "
	    "observed."),
	COL("Type", "string", "", 0, "Type of this event."),
	COL("Reason", "string", "", 0, "Why the action was taken."),
	COL("Object", "string", "", 0, "The object this event is about."),
	COL("Message", "string", "", 0, "A human-readable description of "
	    "the status of this operation."),
	COL("Name", "string", "name", 1, "Name must be unique within a "
	    "namespace."),
	END
};

/* The columns of each table type, by enum api_table_cols. */
static const struct api_table_col *const api_table_cols[] = {
	[API_TABLE_NAME] = api_table_name_cols,
	[API_TABLE_POD] = api_table_pod_cols,
	[API_TABLE_NODE] = api_table_node_cols,
	[API_TABLE_SERVICE] = api_table_service_cols,
	[API_TABLE_CONFIGMAP] = api_table_configmap_cols,
	[API_TABLE_SECRET] = api_table_secret_cols,
	[API_TABLE_ENDPOINTS] = api_table_endpoints_cols,
	[API_TABLE_LEASE] = api_table_lease_cols,
	[API_TABLE_EVENT] = api_table_event_cols,
};

/* Appends a string cell. */
static void
api_table_str(cJSON *cells, const char *s)
{
	cJSON_AddItemToArray(cells, cJSON_CreateString(s != NULL ? s : ""));
}

/* Appends an integer cell. */
static void
api_table_int(cJSON *cells, int64_t v)
{
	cJSON_AddItemToArray(cells, cJSON_CreateNumber((double)v));
}

/* Parses an RFC 3339 UTC time ("2026-11-26T23:03:20Z"); -1 if not one. */
static time_t
api_table_time(const char *s)
{
	struct tm	tm;
	const char	*end;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	return timegm(&tm);
}

/*
 * A duration as kubectl shows ages (HumanDuration): "45s", "3m20s",
 * "25m", "5h10m", "20h", "3d4h", "120d", "2y10d".
 */
static void
api_table_age(char *buf, size_t len, time_t then, time_t now)
{
	int64_t	s = (int64_t)(now - then), m, h, d;

	if (then == (time_t)-1) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	if (s < -1) {
		snprintf(buf, len, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	m = s / 60;
	h = m / 60;
	d = h / 24;
	if (s < 120)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (m < 10 && s % 60 != 0)
		snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", m, s % 60);
	else if (m < 3 * 60)
		snprintf(buf, len, "%" PRId64 "m", m);
	else if (h < 8 && m % 60 != 0)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%" PRId64 "h", h);
	else if (h < 8 * 24 && h % 24 != 0)
		snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", d, h % 24);
	else if (d < 2 * 365)
		snprintf(buf, len, "%" PRId64 "d", d);
	else if (d < 8 * 365 && d % 365 != 0)
		snprintf(buf, len, "%" PRId64 "y%" PRId64 "d", d / 365,
		    d % 365);
	else
		snprintf(buf, len, "%" PRId64 "y", d / 365);
}

/* The age cell of an object from its creationTimestamp. */
static void
api_table_age_cell(cJSON *cells, const cJSON *obj, time_t now)
{
	char	buf[32];

	api_table_age(buf, sizeof(buf), api_table_time(json_get_string(obj,
	    "metadata.creationTimestamp")), now);
	api_table_str(cells, buf);
}

/* Number of members of an object or items of an array at path. */
static int64_t
api_table_count(const cJSON *obj, const char *path)
{
	const cJSON	*v = json_get(obj, path);

	return v != NULL ? cJSON_GetArraySize(v) : 0;
}

/* The reason of a container state, as kubectl shows it; NULL if none. */
static const char *
api_table_state_reason(const cJSON *cs, char *buf, size_t len)
{
	const char	*r;
	int64_t		 n;

	if ((r = json_get_string(cs, "state.waiting.reason")) != NULL &&
	    *r != '\0')
		return r;
	if (json_get(cs, "state.terminated") == NULL)
		return NULL;
	if ((r = json_get_string(cs, "state.terminated.reason")) != NULL &&
	    *r != '\0')
		return r;
	if (json_get_int(cs, "state.terminated.signal", &n) == 0 && n != 0)
		snprintf(buf, len, "Signal:%" PRId64, n);
	else {
		n = 0;
		json_get_int(cs, "state.terminated.exitCode", &n);
		snprintf(buf, len, "ExitCode:%" PRId64, n);
	}
	return buf;
}

/* The STATUS of a pod, following kubectl's printPod in outline. */
static void
api_table_pod_status(const cJSON *pod, char *buf, size_t len)
{
	const cJSON	*cs, *list;
	const char	*r, *phase;
	char		 tmp[64];
	int		 i, n, init = 0;

	phase = json_get_string(pod, "status.phase");
	r = json_get_string(pod, "status.reason");
	snprintf(buf, len, "%s", r != NULL && *r != '\0' ? r :
	    phase != NULL ? phase : "Pending");
	list = json_get(pod, "status.initContainerStatuses");
	n = cJSON_GetArraySize(list);
	for (i = 0; i < n; i++) {
		cs = cJSON_GetArrayItem(list, i);
		if (json_get_bool(cs, "ready", 0))
			continue;
		if ((r = api_table_state_reason(cs, tmp, sizeof(tmp))) !=
		    NULL && strcmp(r, "Completed") != 0)
			snprintf(buf, len, "Init:%s", r);
		else
			snprintf(buf, len, "Init:%d/%d", i, n);
		init = 1;
		break;
	}
	list = json_get(pod, "status.containerStatuses");
	for (i = cJSON_GetArraySize(list) - 1; !init && i >= 0; i--) {
		cs = cJSON_GetArrayItem(list, i);
		if ((r = api_table_state_reason(cs, tmp, sizeof(tmp))) != NULL)
			snprintf(buf, len, "%s", r);
	}
	if (json_get(pod, "metadata.deletionTimestamp") != NULL)
		snprintf(buf, len, "Terminating");
}

/* A string at path, or "<none>" when missing or empty. */
static const char *
api_table_or_none(const cJSON *obj, const char *path)
{
	const char	*s = json_get_string(obj, path);

	return s != NULL && *s != '\0' ? s : "<none>";
}

/* Pod cells: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED GATES. */
static void
api_table_pod(cJSON *cells, const cJSON *pod, time_t now)
{
	const cJSON	*list, *cs;
	char		 buf[128];
	int64_t		 restarts = 0, n;
	int		 i, ready = 0, total;

	api_table_str(cells, json_get_string(pod, "metadata.name"));
	list = json_get(pod, "status.containerStatuses");
	total = cJSON_GetArraySize(json_get(pod, "spec.containers"));
	for (i = 0; i < cJSON_GetArraySize(list); i++) {
		cs = cJSON_GetArrayItem(list, i);
		ready += json_get_bool(cs, "ready", 0);
		if (json_get_int(cs, "restartCount", &n) == 0)
			restarts += n;
	}
	snprintf(buf, sizeof(buf), "%d/%d", ready, total);
	api_table_str(cells, buf);
	api_table_pod_status(pod, buf, sizeof(buf));
	api_table_str(cells, buf);
	api_table_int(cells, restarts);
	api_table_age_cell(cells, pod, now);
	api_table_str(cells, api_table_or_none(pod, "status.podIP"));
	api_table_str(cells, api_table_or_none(pod, "spec.nodeName"));
	api_table_str(cells, api_table_or_none(pod,
	    "status.nominatedNodeName"));
	api_table_str(cells, "<none>");
}

/* Ready, NotReady or Unknown, with SchedulingDisabled. */
static void
api_table_node_status(const cJSON *node, char *buf, size_t len)
{
	const cJSON	*conds, *c;
	const char	*st = "Unknown", *s;
	int		 i;

	conds = json_get(node, "status.conditions");
	for (i = 0; i < cJSON_GetArraySize(conds); i++) {
		c = cJSON_GetArrayItem(conds, i);
		s = json_get_string(c, "type");
		if (s == NULL || strcmp(s, "Ready") != 0)
			continue;
		s = json_get_string(c, "status");
		st = s != NULL && strcmp(s, "True") == 0 ? "Ready" :
		    s != NULL && strcmp(s, "False") == 0 ? "NotReady" :
		    "Unknown";
	}
	snprintf(buf, len, "%s%s", st, json_get_bool(node,
	    "spec.unschedulable", 0) ? ",SchedulingDisabled" : "");
}

/* The roles from node-role.kubernetes.io/<role> labels, comma joined. */
static void
api_table_node_roles(const cJSON *node, char *buf, size_t len)
{
	const cJSON	*labels, *l;
	const char	*pfx = "node-role.kubernetes.io/";
	size_t		 used = 0;

	buf[0] = '\0';
	labels = json_get(node, "metadata.labels");
	for (l = labels != NULL ? labels->child : NULL; l != NULL;
	    l = l->next) {
		if (l->string == NULL || strncmp(l->string, pfx,
		    strlen(pfx)) != 0 || l->string[strlen(pfx)] == '\0')
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used :
		    0, "%s%s", used > 0 ? "," : "", l->string + strlen(pfx));
		if (used >= len)
			break;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "<none>");
}

/* The first node address of a type, or "<none>". */
static const char *
api_table_node_addr(const cJSON *node, const char *type)
{
	const cJSON	*addrs, *a;
	const char	*t;
	int		 i;

	addrs = json_get(node, "status.addresses");
	for (i = 0; i < cJSON_GetArraySize(addrs); i++) {
		a = cJSON_GetArrayItem(addrs, i);
		if ((t = json_get_string(a, "type")) != NULL &&
		    strcmp(t, type) == 0)
			return api_table_or_none(a, "address");
	}
	return "<none>";
}

/* Node cells: NAME STATUS ROLES AGE VERSION and the wide ones. */
static void
api_table_node(cJSON *cells, const cJSON *node, time_t now)
{
	char	buf[256];

	api_table_str(cells, json_get_string(node, "metadata.name"));
	api_table_node_status(node, buf, sizeof(buf));
	api_table_str(cells, buf);
	api_table_node_roles(node, buf, sizeof(buf));
	api_table_str(cells, buf);
	api_table_age_cell(cells, node, now);
	api_table_str(cells, json_get_string(node,
	    "status.nodeInfo.kubeletVersion"));
	api_table_str(cells, api_table_node_addr(node, "InternalIP"));
	api_table_str(cells, api_table_node_addr(node, "ExternalIP"));
	api_table_str(cells, api_table_or_none(node,
	    "status.nodeInfo.osImage"));
	api_table_str(cells, api_table_or_none(node,
	    "status.nodeInfo.kernelVersion"));
	api_table_str(cells, api_table_or_none(node,
	    "status.nodeInfo.containerRuntimeVersion"));
}

/* Appends to a comma list in buf. */
static void
api_table_append(char *buf, size_t len, const char *s)
{
	size_t	used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "", s);
}

/* PORT(S): "80/TCP", "443:30443/TCP". */
static void
api_table_service_ports(const cJSON *svc, char *buf, size_t len)
{
	const cJSON	*ports, *p;
	const char	*proto;
	char		 one[64];
	int64_t		 port, node;
	int		 i;

	buf[0] = '\0';
	ports = json_get(svc, "spec.ports");
	for (i = 0; i < cJSON_GetArraySize(ports); i++) {
		p = cJSON_GetArrayItem(ports, i);
		if (json_get_int(p, "port", &port) == -1)
			continue;
		proto = json_get_string(p, "protocol");
		if (json_get_int(p, "nodePort", &node) == 0 && node != 0)
			snprintf(one, sizeof(one), "%" PRId64 ":%" PRId64 "/%s",
			    port, node, proto != NULL ? proto : "TCP");
		else
			snprintf(one, sizeof(one), "%" PRId64 "/%s", port,
			    proto != NULL ? proto : "TCP");
		api_table_append(buf, len, one);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "<none>");
}

/* EXTERNAL-IP: load balancer ingress and externalIPs, or "<none>". */
static void
api_table_service_external(const cJSON *svc, char *buf, size_t len)
{
	const cJSON	*l, *e;
	const char	*s;
	int		 i;

	buf[0] = '\0';
	l = json_get(svc, "status.loadBalancer.ingress");
	for (i = 0; i < cJSON_GetArraySize(l); i++) {
		e = cJSON_GetArrayItem(l, i);
		if ((s = json_get_string(e, "ip")) != NULL ||
		    (s = json_get_string(e, "hostname")) != NULL)
			api_table_append(buf, len, s);
	}
	l = json_get(svc, "spec.externalIPs");
	for (i = 0; i < cJSON_GetArraySize(l); i++)
		if (cJSON_IsString(e = cJSON_GetArrayItem(l, i)))
			api_table_append(buf, len, e->valuestring);
	if (buf[0] == '\0') {
		s = json_get_string(svc, "spec.type");
		snprintf(buf, len, "%s", s != NULL && strcmp(s,
		    "LoadBalancer") == 0 ? "<pending>" : "<none>");
	}
}

/* SELECTOR: "k=v,k2=v2" or "<none>". */
static void
api_table_service_selector(const cJSON *svc, char *buf, size_t len)
{
	const cJSON	*sel, *l;
	char		 one[256];

	buf[0] = '\0';
	sel = json_get(svc, "spec.selector");
	for (l = sel != NULL ? sel->child : NULL; l != NULL; l = l->next) {
		if (l->string == NULL || !cJSON_IsString(l))
			continue;
		snprintf(one, sizeof(one), "%s=%s", l->string, l->valuestring);
		api_table_append(buf, len, one);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "<none>");
}

/* Service cells: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR. */
static void
api_table_service(cJSON *cells, const cJSON *svc, time_t now)
{
	char	buf[1024];

	api_table_str(cells, json_get_string(svc, "metadata.name"));
	api_table_str(cells, json_get_string(svc, "spec.type"));
	api_table_str(cells, api_table_or_none(svc, "spec.clusterIP"));
	api_table_service_external(svc, buf, sizeof(buf));
	api_table_str(cells, buf);
	api_table_service_ports(svc, buf, sizeof(buf));
	api_table_str(cells, buf);
	api_table_age_cell(cells, svc, now);
	api_table_service_selector(svc, buf, sizeof(buf));
	api_table_str(cells, buf);
}

/* ENDPOINTS: "ip:port" of the ready addresses, at most three shown. */
static void
api_table_endpoints_list(const cJSON *ep, char *buf, size_t len)
{
	const cJSON	*subsets, *ss, *addrs, *ports;
	const char	*ip;
	char		 one[128];
	int64_t		 port;
	int		 i, j, k, shown = 0, total = 0;

	buf[0] = '\0';
	subsets = json_get(ep, "subsets");
	for (i = 0; i < cJSON_GetArraySize(subsets); i++) {
		ss = cJSON_GetArrayItem(subsets, i);
		addrs = json_get(ss, "addresses");
		ports = json_get(ss, "ports");
		for (j = 0; j < cJSON_GetArraySize(addrs); j++) {
			ip = json_get_string(cJSON_GetArrayItem(addrs, j),
			    "ip");
			for (k = 0; k < cJSON_GetArraySize(ports) || k == 0;
			    k++) {
				total++;
				if (shown == 3 || ip == NULL)
					continue;
				if (json_get_int(cJSON_GetArrayItem(ports, k),
				    "port", &port) == 0)
					snprintf(one, sizeof(one), "%s:%" PRId64,
					    ip, port);
				else
					snprintf(one, sizeof(one), "%s", ip);
				api_table_append(buf, len, one);
				shown++;
			}
		}
	}
	if (total > shown && shown > 0) {
		snprintf(one, sizeof(one), " + %d more...", total - shown);
		strncat(buf, one, len - strlen(buf) - 1);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "<none>");
}

/* The cells of one object for its kind's columns. */
static void
api_table_cells(cJSON *cells, const struct api_kind *k, const cJSON *obj,
    time_t now)
{
	char	buf[1024];

	switch (k->table) {
	case API_TABLE_POD:
		api_table_pod(cells, obj, now);
		return;
	case API_TABLE_NODE:
		api_table_node(cells, obj, now);
		return;
	case API_TABLE_SERVICE:
		api_table_service(cells, obj, now);
		return;
	case API_TABLE_EVENT:
		api_table_age(buf, sizeof(buf), api_table_time(json_get_string(
		    obj, "lastTimestamp")), now);
		api_table_str(cells, buf);
		api_table_str(cells, json_get_string(obj, "type"));
		api_table_str(cells, json_get_string(obj, "reason"));
		snprintf(buf, sizeof(buf), "%s/%s", json_get_string(obj,
		    "involvedObject.kind") != NULL ? json_get_string(obj,
		    "involvedObject.kind") : "", json_get_string(obj,
		    "involvedObject.name") != NULL ? json_get_string(obj,
		    "involvedObject.name") : "");
		api_table_str(cells, buf);
		api_table_str(cells, json_get_string(obj, "message"));
		api_table_str(cells, json_get_string(obj, "metadata.name"));
		return;
	default:
		break;
	}
	api_table_str(cells, json_get_string(obj, "metadata.name"));
	switch (k->table) {
	case API_TABLE_CONFIGMAP:
		api_table_int(cells, api_table_count(obj, "data") +
		    api_table_count(obj, "binaryData"));
		break;
	case API_TABLE_SECRET:
		api_table_str(cells, json_get_string(obj, "type"));
		api_table_int(cells, api_table_count(obj, "data"));
		break;
	case API_TABLE_ENDPOINTS:
		api_table_endpoints_list(obj, buf, sizeof(buf));
		api_table_str(cells, buf);
		break;
	case API_TABLE_LEASE:
		api_table_str(cells, api_table_or_none(obj,
		    "spec.holderIdentity"));
		break;
	default:
		break;
	}
	api_table_age_cell(cells, obj, now);
}

/* The column definitions of a kind, as JSON. */
static void
api_table_defs(struct evbuffer *out, const struct api_kind *k)
{
	const struct api_table_col	*c;
	char				*desc;

	evbuffer_add(out, "\"columnDefinitions\":[", 21);
	for (c = api_table_cols[k->table]; c->name != NULL; c++) {
		desc = json_quote(c->description);
		evbuffer_add_printf(out, "%s{\"name\":\"%s\",\"type\":\"%s\","
		    "\"format\":\"%s\",\"description\":%s,\"priority\":%d}",
		    c == api_table_cols[k->table] ? "" : ",", c->name, c->type,
		    c->format, desc, c->priority);
		free(desc);
	}
	evbuffer_add(out, "],", 2);
}

/* The head of a Table up to its rows. */
void
api_table_open(struct evbuffer *out, const struct api_kind *k, int defs)
{
	evbuffer_add_printf(out, "{\"kind\":\"Table\",\"apiVersion\":"
	    "\"meta.k8s.io/v1\",");
	if (defs)
		api_table_defs(out, k);
	else
		evbuffer_add(out, "\"columnDefinitions\":null,", 25);
	evbuffer_add(out, "\"rows\":[", 8);
}

/* One row: cells, then the object's metadata with its revision. */
void
api_table_row(struct evbuffer *out, const struct api_kind *k,
    const char *js, size_t len, uint64_t rev, time_t now, int first)
{
	struct api_span	 m;
	const char	*errstr;
	cJSON		*obj, *cells;
	char		*text;

	cells = cJSON_CreateArray();
	/* a damaged object still gets a row: its cells are empty strings */
	obj = json_parse(js, len, JSON_MAX_DOCUMENT, &errstr);
	api_table_cells(cells, k, obj, now);
	cJSON_Delete(obj);
	text = json_print(cells);
	cJSON_Delete(cells);
	evbuffer_add_printf(out, "%s{\"cells\":%s,\"object\":{\"kind\":"
	    "\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
	    "\"metadata\":", first ? "" : ",", text);
	free(text);
	if (api_text_find(js, len, "metadata", &m) == 0 && m.len > 0 &&
	    m.p[0] == '{')
		api_text_write_meta(out, m.p, m.len, rev);
	else
		api_text_write_meta(out, "{}", 2, rev);
	evbuffer_add(out, "}}", 2);
}

/* The end of the rows and the Table's metadata. */
void
api_table_close(struct evbuffer *out, uint64_t rev, const char *cont)
{
	evbuffer_add_printf(out, "],\"metadata\":{\"resourceVersion\":\"%"
	    PRIu64 "\"", rev);
	if (cont != NULL)
		evbuffer_add_printf(out, ",\"continue\":\"%s\"", cont);
	evbuffer_add(out, "}}", 2);
}
