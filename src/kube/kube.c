/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kube room's wiring: reads the credentials, creates the apiserver
 * client and every part that talks to it (the reflectors of the node's
 * pods, its Node, services, endpoint slices and devices; the configmaps
 * and secrets the pods reference; node status, the Lease and the outbox
 * sender), and tracks whether the apiserver is reachable, which every
 * part reports after each request. Coming back online kicks the outbox,
 * the node status, the Lease and the waiting reflectors. The node's name
 * and whether it is in a cluster come from main() (core/node.h). This
 * file owns struct kube (kube_int.h) and the last reason the apiserver was
 * unreachable. The health part "kube" tells /readyz the connection and
 * each reflector's state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/health.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/node.h"
#include "core/xmalloc.h"
#include "kube/kube.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"
#include "kube/kube_reflector.h"

#define KUBE_HEALTH_MAX		512

static const struct kube_resource kube_res_pods = {
	"pods", "/api/v1", "pods", 1
};
static const struct kube_resource kube_res_nodes = {
	"nodes", "/api/v1", "nodes", 0
};
static const struct kube_resource kube_res_services = {
	"services", "/api/v1", "services", 1
};
/*
 * The Node authorizer lets a node get one Endpoints object but list and
 * watch neither Endpoints nor EndpointSlices; slices are followed when an
 * administrator grants them to system:nodes, and checked again quietly
 * every few minutes otherwise.
 */
static const struct kube_resource kube_res_endpointslices = {
	"endpointslices.discovery.k8s.io", "/apis/discovery.k8s.io/v1",
	"endpointslices", 1
};
static const struct kube_resource kube_res_devices = {
	"devices.devices.kubeedge.io", "/apis/devices.kubeedge.io/v1alpha1",
	"devices", 1
};
static const struct kube_resource kube_res_devicemodels = {
	"devicemodels.devices.kubeedge.io",
	"/apis/devices.kubeedge.io/v1alpha1", "devicemodels", 1
};

/* Appends "name: state" of a reflector to a health detail. */
static void
kube_health_add(char *buf, size_t len, struct kube_reflector *r)
{
	size_t	n = strlen(buf);

	if (r == NULL || n >= len)
		return;
	snprintf(buf + n, len - n, "%s%s: %s", buf[n - 1] == ';' ? " " :
	    ", ", kube_reflector_name(r), kube_reflector_state(r));
}

/* Health part "kube": the connection, then each reflector's state. */
static void
kube_health(struct kube *k)
{
	char	buf[KUBE_HEALTH_MAX];

	if (!k->online) {
		snprintf(buf, sizeof(buf), "disconnected: %s",
		    k->why != NULL ? k->why : "connecting");
		health_set("kube", HEALTH_DEGRADED, buf);
		return;
	}
	snprintf(buf, sizeof(buf), "connected to %s;",
	    kube_client_server(k->client));
	kube_health_add(buf, sizeof(buf), k->pods);
	kube_health_add(buf, sizeof(buf), k->node);
	kube_health_add(buf, sizeof(buf), k->services);
	kube_health_add(buf, sizeof(buf), k->endpoints);
	kube_health_add(buf, sizeof(buf), k->devices);
	kube_health_add(buf, sizeof(buf), k->devicemodels);
	health_set("kube", HEALTH_OK, buf);
}

/* A reflector changed state: refresh the health detail. */
static void
kube_reflector_changed_cb(struct kube_reflector *r, void *arg)
{
	kube_health(arg);
}

/* Every reflector that waits after a transport failure retries now. */
static void
kube_kick_reflectors(struct kube *k)
{
	struct kube_reflector	*all[6];
	size_t			 i;

	all[0] = k->pods;
	all[1] = k->node;
	all[2] = k->services;
	all[3] = k->endpoints;
	all[4] = k->devices;
	all[5] = k->devicemodels;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] != NULL)
			kube_reflector_kick(all[i]);
	kube_refs_kick(k->refs);
}

/*
 * Every part reports here; only a change of reachability acts: coming
 * back kicks every part that waits after a failure.
 */
void
kube_set_online(struct kube *k, int online, const char *why)
{
	if (online) {
		if (k->online)
			return;
		k->online = 1;
		k->told = 0;
		log_info("kube: connected to %s", kube_client_server(k->client));
		kube_health(k);
		if (k->outbox != NULL)
			kube_outbox_kick(k->outbox);
		if (k->nodest != NULL)
			kube_node_kick(k->nodest);
		if (k->lease != NULL)
			kube_lease_kick(k->lease);
		kube_kick_reflectors(k);
		return;
	}
	if (why == NULL)
		why = "unreachable";
	if (k->online || !k->told)
		log_warnx("kube: disconnected from %s: %s, retrying in the "
		    "background", kube_client_server(k->client), why);
	k->online = 0;
	k->told = 1;
	free(k->why);
	k->why = xstrdup(why);
	kube_health(k);
}

/* Creates the reflectors of the room (not started). */
static void
kube_reflectors_new(struct kube *k)
{
	char	*sel;

	xasprintf(&sel, "spec.nodeName=%s", k->node_name);
	k->pods = kube_reflector_new(k, &kube_res_pods, NULL, sel, 0,
	    kube_reflector_changed_cb, k);
	free(sel);
	xasprintf(&sel, "metadata.name=%s", k->node_name);
	k->node = kube_reflector_new(k, &kube_res_nodes, NULL, sel, 0,
	    kube_reflector_changed_cb, k);
	free(sel);
	k->services = kube_reflector_new(k, &kube_res_services, NULL, NULL, 0,
	    kube_reflector_changed_cb, k);
	k->endpoints = kube_reflector_new(k, &kube_res_endpointslices, NULL,
	    NULL, KUBE_REFLECTOR_OPTIONAL, kube_reflector_changed_cb, k);
	k->devices = kube_reflector_new(k, &kube_res_devices, NULL, NULL,
	    KUBE_REFLECTOR_OPTIONAL, kube_reflector_changed_cb, k);
	k->devicemodels = kube_reflector_new(k, &kube_res_devicemodels, NULL,
	    NULL, KUBE_REFLECTOR_OPTIONAL, kube_reflector_changed_cb, k);
}

/* Standalone (NULL, *errstr NULL) unless a master or kubeconfig is set. */
struct kube *
kube_new(struct event_base *base, const struct conf *conf,
    struct store *store, const struct node_ident *node, const char **errstr)
{
	struct kube	*k;
	const char	*kubeconfig = conf->kube_kubeconfig;

	*errstr = NULL;
	if (!node->cluster)
		return NULL;
	if (kubeconfig != NULL && *kubeconfig == '\0')
		kubeconfig = NULL;
	k = xcalloc(1, sizeof(*k));
	k->base = base;
	k->conf = conf;
	k->store = store;
	k->node_name = node->name;
	if (kube_config_load(kubeconfig, conf->kube_master, &k->auth,
	    errstr) == -1)
		goto fail;
	if ((k->client = kube_client_new(base, &k->auth, (int)conf->kube_qps,
	    (int)conf->kube_burst, errstr)) == NULL)
		goto fail;
	log_info("kube: node %s, apiserver %s", k->node_name,
	    kube_client_server(k->client));
	kube_health(k);
	kube_reflectors_new(k);
	k->nodest = kube_node_new(k);
	k->lease = kube_lease_new(k);
	k->outbox = kube_outbox_new(k);
	kube_reflector_start(k->pods);
	kube_reflector_start(k->node);
	kube_reflector_start(k->services);
	kube_reflector_start(k->endpoints);
	kube_reflector_start(k->devices);
	kube_reflector_start(k->devicemodels);
	k->refs = kube_refs_new(k);
	return k;

fail:
	kube_free(k);
	return NULL;
}

/* Stops the followers first, then the parts, then the client. */
void
kube_free(struct kube *k)
{
	if (k == NULL)
		return;
	kube_refs_free(k->refs);
	kube_reflector_free(k->pods);
	kube_reflector_free(k->node);
	kube_reflector_free(k->services);
	kube_reflector_free(k->endpoints);
	kube_reflector_free(k->devices);
	kube_reflector_free(k->devicemodels);
	if (k->outbox != NULL)
		kube_outbox_free(k->outbox);
	if (k->lease != NULL)
		kube_lease_free(k->lease);
	if (k->nodest != NULL)
		kube_node_free(k->nodest);
	if (k->client != NULL)
		kube_client_free(k->client);
	kube_auth_clear(&k->auth);
	free(k->why);
	free(k);
}

void
kube_set_runtime_version(struct kube *k, const char *version)
{
	if (k != NULL && k->nodest != NULL)
		kube_node_set_runtime_version(k->nodest, version);
}

void
kube_get_outbox_stats(struct kube *k, struct kube_outbox_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (k != NULL && k->outbox != NULL)
		kube_outbox_get_stats(k->outbox, st);
}

/* /metrics: the outbox's counts and the skipped objects (arg: the room). */
void
kube_metrics(struct metrics_out *out, void *arg)
{
	struct kube_outbox_stats	st;

	kube_get_outbox_stats(arg, &st);
	metrics_gauge(out, "edgesite_kube_outbox_records",
	    "Outbox records waiting to be sent upstream or in flight.",
	    st.queued);
	metrics_gauge(out, "edgesite_kube_outbox_event_records",
	    "Event records among the outbox records waiting.", st.events);
	metrics_counter(out, "edgesite_kube_outbox_sent_total",
	    "Outbox records the apiserver accepted.", st.sent);
	metrics_counter(out, "edgesite_kube_outbox_refused_total",
	    "Outbox records dropped after a permanent failure: object gone, "
	    "precondition failed or write invalid.", st.refused);
	metrics_counter(out, "edgesite_kube_outbox_retries_total",
	    "Outbox sends answered 5xx or 429 and retried.", st.retries);
	metrics_counter(out, "edgesite_kube_outbox_events_dropped_total",
	    "Oldest Event records dropped over the outbox's bound.",
	    st.events_dropped);
	metrics_counter(out, "edgesite_kube_outbox_damaged_total",
	    "Unreadable outbox records dropped.", st.damaged);
	metrics_counter(out, "edgesite_kube_objects_skipped_total",
	    "List items and watch events from the apiserver skipped: "
	    "malformed, or over the value or line limit.",
	    arg != NULL ? ((struct kube *)arg)->skipped : 0);
}

void
kube_report_resp(struct kube *k, const char *part, const struct kube_resp *resp)
{
	char	why[256];

	if (resp->status > 0)
		snprintf(why, sizeof(why), "%s: HTTP %d", part, resp->status);
	else
		snprintf(why, sizeof(why), "%s: %s", part, resp->errstr != NULL ?
		    resp->errstr : "transport error");
	kube_set_online(k, resp->status > 0, why);
}
