/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's Lease (coordination.k8s.io/v1, kube-node-lease/<node>), the
 * heartbeat the node lifecycle controller watches. Once the Node is
 * registered (its uid is the Lease's owner), the Lease is read, created
 * when missing, and renewed every 10 s by a PUT of the copy last read or
 * written, so the apiserver checks its resourceVersion; a conflict re-reads
 * it and tries again at once. This file owns struct kube_lease: its timer,
 * its one request in flight and that copy.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"

#define KUBE_LEASE_NS		"kube-node-lease"
#define KUBE_LEASE_DURATION_S	40
#define KUBE_LEASE_RENEW_MS	10000
/* Waiting for the Node to be registered. */
#define KUBE_LEASE_NODE_WAIT_MS	1000
/* Retries after a failure, as a kubelet's (at most 7 s). */
#define KUBE_LEASE_RETRY_MIN_MS	200
#define KUBE_LEASE_RETRY_MAX_MS	7000

enum kube_lease_state {
	KUBE_LEASE_WAITING,	/* timer armed: renew, retry, wait for Node */
	KUBE_LEASE_GETTING,
	KUBE_LEASE_CREATING,
	KUBE_LEASE_UPDATING,
};

static const char *const kube_lease_state_names[] = {
	"waiting", "getting", "creating", "updating",
};

enum kube_lease_event {
	KUBE_LEASE_EV_TIMER,
	KUBE_LEASE_EV_OK,
	KUBE_LEASE_EV_NOT_FOUND,
	KUBE_LEASE_EV_CONFLICT,
	KUBE_LEASE_EV_FAIL,
};

struct kube_lease {
	struct kube		*k;
	enum kube_lease_state	 state;
	struct event		*timer;
	struct kube_req		*req;
	const struct kube_resp	*resp;		/* during a completion only */
	struct backoff		 bo;
	int			 failed;	/* the last request failed */
	int			 unreachable;	/* ... without an HTTP answer */
	cJSON			*cur;		/* Lease last read or written */
};

static void	kube_lease_fsm(struct kube_lease *, enum kube_lease_event);

/* Moves to a new state; transitions other than renewals are logged. */
static void
kube_lease_enter_state(struct kube_lease *l, enum kube_lease_state state,
    const char *why)
{
	if (l->state != state)
		log_trace(LOG_SUB_KUBE, "lease %s: %s -> %s (%s)",
		    l->k->node_name, kube_lease_state_names[l->state],
		    kube_lease_state_names[state], why);
	l->state = state;
}

/* Waits ms in the waiting state. */
static void
kube_lease_wait(struct kube_lease *l, uint64_t ms, const char *why)
{
	kube_lease_enter_state(l, KUBE_LEASE_WAITING, why);
	clock_timer_add(l->timer, ms);
}

/* Timer: renew, retry, or look for the Node again. */
static void
kube_lease_timer_cb(int fd, short events, void *arg)
{
	kube_lease_fsm(arg, KUBE_LEASE_EV_TIMER);
}

/* Completion of any request: turns the answer into an event. */
static void
kube_lease_done_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube_lease	*l = arg;
	enum kube_lease_event	 ev;

	l->req = NULL;
	if (resp->status >= 200 && resp->status < 300)
		ev = KUBE_LEASE_EV_OK;
	else if (resp->status == 404)
		ev = KUBE_LEASE_EV_NOT_FOUND;
	else if (resp->status == 409)
		ev = KUBE_LEASE_EV_CONFLICT;
	else
		ev = KUBE_LEASE_EV_FAIL;
	l->resp = resp;
	kube_lease_fsm(l, ev);
	l->resp = NULL;
	kube_report_resp(l->k, "lease", resp);
}

/* RFC 3339 with microseconds, as a MicroTime: "2026-11-26T23:03:20.123456Z". */
static void
kube_lease_microtime(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", sec, ts.tv_nsec / 1000);
}

/* Replaces member name of obj with item. */
static void
kube_lease_set(cJSON *obj, const char *name, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	cJSON_AddItemToObject(obj, name, item);
}

/* Returns obj's member name, adding an empty object when missing. */
static cJSON *
kube_lease_object(cJSON *obj, const char *name)
{
	cJSON	*o;

	o = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (cJSON_IsObject(o))
		return o;
	o = cJSON_CreateObject();
	kube_lease_set(obj, name, o);
	return o;
}

/* Makes the Node the only owner of the Lease unless it already is. */
static void
kube_lease_set_owner(struct kube_lease *l, cJSON *md)
{
	const cJSON	*refs, *r;
	const char	*uid;
	cJSON		*a, *o;

	if ((uid = kube_node_uid(l->k->nodest)) == NULL)
		return;
	refs = cJSON_GetObjectItemCaseSensitive(md, "ownerReferences");
	cJSON_ArrayForEach(r, refs) {
		if (json_get_string(r, "kind") != NULL &&
		    strcmp(json_get_string(r, "kind"), "Node") == 0 &&
		    json_get_string(r, "uid") != NULL &&
		    strcmp(json_get_string(r, "uid"), uid) == 0)
			return;
	}
	a = cJSON_CreateArray();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Node");
	cJSON_AddStringToObject(o, "name", l->k->node_name);
	cJSON_AddStringToObject(o, "uid", uid);
	cJSON_AddItemToArray(a, o);
	kube_lease_set(md, "ownerReferences", a);
}

/* Sets holder, duration and renewTime (now) in the spec of lease. */
static void
kube_lease_renew_spec(struct kube_lease *l, cJSON *lease)
{
	cJSON	*spec;
	char	 ts[64];

	spec = kube_lease_object(lease, "spec");
	kube_lease_set(spec, "holderIdentity",
	    cJSON_CreateString(l->k->node_name));
	kube_lease_set(spec, "leaseDurationSeconds",
	    cJSON_CreateNumber(KUBE_LEASE_DURATION_S));
	kube_lease_microtime(ts, sizeof(ts));
	kube_lease_set(spec, "renewTime", cJSON_CreateString(ts));
}

/* Starts a request with the completion above. */
static void
kube_lease_request(struct kube_lease *l, const char *method,
    const char *path, const char *body, enum kube_lease_state state,
    const char *why)
{
	evtimer_del(l->timer);
	l->req = kube_http_request(l->k->client, method, path, body,
	    body != NULL ? "application/json" : NULL, 0, kube_lease_done_cb, l);
	kube_lease_enter_state(l, state, why);
}

/* Reads the Lease. */
static void
kube_lease_get(struct kube_lease *l, const char *why)
{
	char	*path;

	cJSON_Delete(l->cur);
	l->cur = NULL;
	xasprintf(&path, "/apis/coordination.k8s.io/v1/namespaces/"
	    KUBE_LEASE_NS "/leases/%s", l->k->node_name);
	kube_lease_request(l, "GET", path, NULL, KUBE_LEASE_GETTING, why);
	free(path);
}

/* Creates the Lease, owned by the Node. */
static void
kube_lease_create(struct kube_lease *l)
{
	cJSON	*lease, *md;
	char	*body;

	lease = cJSON_CreateObject();
	cJSON_AddStringToObject(lease, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(lease, "kind", "Lease");
	md = cJSON_AddObjectToObject(lease, "metadata");
	cJSON_AddStringToObject(md, "name", l->k->node_name);
	cJSON_AddStringToObject(md, "namespace", KUBE_LEASE_NS);
	kube_lease_set_owner(l, md);
	kube_lease_renew_spec(l, lease);
	body = json_print(lease);
	cJSON_Delete(lease);
	kube_lease_request(l, "POST", "/apis/coordination.k8s.io/v1/"
	    "namespaces/" KUBE_LEASE_NS "/leases", body, KUBE_LEASE_CREATING,
	    "not found, creating");
	free(body);
}

/* Renews the copy in hand with a PUT carrying its resourceVersion. */
static void
kube_lease_update(struct kube_lease *l, const char *why)
{
	char	*body, *path;

	kube_lease_set_owner(l, kube_lease_object(l->cur, "metadata"));
	kube_lease_renew_spec(l, l->cur);
	body = json_print(l->cur);
	xasprintf(&path, "/apis/coordination.k8s.io/v1/namespaces/"
	    KUBE_LEASE_NS "/leases/%s", l->k->node_name);
	kube_lease_request(l, "PUT", path, body, KUBE_LEASE_UPDATING, why);
	free(path);
	free(body);
}

/* Keeps the Lease of a 2xx answer; -1 when the body is not one. */
static int
kube_lease_keep(struct kube_lease *l)
{
	const char	*errstr;
	char		 esc[128];

	cJSON_Delete(l->cur);
	l->cur = json_parse(l->resp->body, l->resp->len, JSON_MAX_DOCUMENT,
	    &errstr);
	if (l->cur == NULL || json_get_string(l->cur,
	    "metadata.resourceVersion") == NULL) {
		log_warnx("lease %s: bad answer (%s): %s", l->k->node_name,
		    l->cur == NULL ? errstr : "no resourceVersion",
		    log_escape(l->resp->body, l->resp->len, esc, sizeof(esc)));
		cJSON_Delete(l->cur);
		l->cur = NULL;
		return -1;
	}
	return 0;
}

/* The Lease was written: renew it in 10 s. */
static void
kube_lease_renewed(struct kube_lease *l, const char *why)
{
	if (kube_lease_keep(l) == -1) {
		kube_lease_wait(l, backoff_next(&l->bo), "bad answer");
		return;
	}
	if (l->failed)
		log_info("lease %s: renewed again", l->k->node_name);
	else
		log_trace(LOG_SUB_KUBE, "lease %s: %s, resourceVersion %s",
		    l->k->node_name, why,
		    json_get_string(l->cur, "metadata.resourceVersion"));
	l->failed = 0;
	backoff_ok(&l->bo);
	kube_lease_wait(l, KUBE_LEASE_RENEW_MS, why);
}

/* A request failed: log it once per run of failures and retry. */
static void
kube_lease_failed(struct kube_lease *l, const char *what)
{
	uint64_t	delay;
	char		esc[256];

	/* Retry-After is obeyed up to the renewal period. */
	delay = backoff_next(&l->bo);
	if (l->resp->retry_after_ms > delay)
		delay = l->resp->retry_after_ms < KUBE_LEASE_RENEW_MS ?
		    l->resp->retry_after_ms : KUBE_LEASE_RENEW_MS;
	if (!l->failed) {
		if (l->resp->status > 0)
			log_warnx("lease %s: %s: HTTP %d %s, retrying",
			    l->k->node_name, what, l->resp->status,
			    log_escape(l->resp->body, l->resp->len, esc,
			    sizeof(esc)));
		else
			log_warnx("lease %s: %s: %s, retrying",
			    l->k->node_name, what, l->resp->errstr != NULL ?
			    l->resp->errstr : "transport error");
	}
	l->failed = 1;
	l->unreachable = l->resp->status < 0;
	kube_lease_wait(l, delay, what);
}

/* Timer: once the Node is known, renew the copy in hand or read it. */
static void
kube_lease_due(struct kube_lease *l)
{
	if (kube_node_uid(l->k->nodest) == NULL)
		kube_lease_wait(l, KUBE_LEASE_NODE_WAIT_MS,
		    "node not registered");
	else if (l->cur != NULL)
		kube_lease_update(l, "renew");
	else
		kube_lease_get(l, "read");
}

/* The state machine of the Lease. */
static void
kube_lease_fsm(struct kube_lease *l, enum kube_lease_event ev)
{
	switch (l->state) {
	case KUBE_LEASE_WAITING:
		if (ev == KUBE_LEASE_EV_TIMER)
			kube_lease_due(l);
		break;
	case KUBE_LEASE_GETTING:
		if (ev == KUBE_LEASE_EV_OK) {
			if (kube_lease_keep(l) == 0)
				kube_lease_update(l, "found");
			else
				kube_lease_wait(l, backoff_next(&l->bo),
				    "bad answer");
		} else if (ev == KUBE_LEASE_EV_NOT_FOUND)
			kube_lease_create(l);
		else if (ev != KUBE_LEASE_EV_TIMER)
			kube_lease_failed(l, "get");
		break;
	case KUBE_LEASE_CREATING:
		if (ev == KUBE_LEASE_EV_OK) {
			log_info("lease %s: created in " KUBE_LEASE_NS,
			    l->k->node_name);
			kube_lease_renewed(l, "created");
		}
		else if (ev == KUBE_LEASE_EV_CONFLICT)
			kube_lease_get(l, "created meanwhile");
		else if (ev != KUBE_LEASE_EV_TIMER)
			kube_lease_failed(l, "create");
		break;
	case KUBE_LEASE_UPDATING:
		if (ev == KUBE_LEASE_EV_OK)
			kube_lease_renewed(l, "renewed");
		else if (ev == KUBE_LEASE_EV_CONFLICT ||
		    ev == KUBE_LEASE_EV_NOT_FOUND)
			kube_lease_get(l, ev == KUBE_LEASE_EV_CONFLICT ?
			    "conflict, reading again" : "gone, reading again");
		else if (ev != KUBE_LEASE_EV_TIMER)
			kube_lease_failed(l, "renew");
		break;
	}
}

/*
 * Back online: a retry waiting after a transport failure goes now; one
 * waiting after an HTTP error keeps its back-off and Retry-After.
 */
void
kube_lease_kick(struct kube_lease *l)
{
	if (l == NULL || l->state != KUBE_LEASE_WAITING || !l->failed ||
	    !l->unreachable)
		return;
	evtimer_del(l->timer);
	backoff_reset(&l->bo);
	kube_lease_due(l);
}

struct kube_lease *
kube_lease_new(struct kube *k)
{
	struct kube_lease	*l;

	l = xcalloc(1, sizeof(*l));
	l->k = k;
	l->state = KUBE_LEASE_WAITING;
	if ((l->timer = evtimer_new(k->base, kube_lease_timer_cb, l)) == NULL)
		fatalx("lease: cannot create a timer");
	backoff_init(&l->bo, KUBE_LEASE_RETRY_MIN_MS, KUBE_LEASE_RETRY_MAX_MS,
	    KUBE_LEASE_RENEW_MS);
	kube_lease_wait(l, 0, "start");
	return l;
}

void
kube_lease_free(struct kube_lease *l)
{
	if (l == NULL)
		return;
	if (l->req != NULL)
		kube_req_cancel(l->req);
	if (l->timer != NULL)
		event_free(l->timer);
	cJSON_Delete(l->cur);
	free(l);
}
