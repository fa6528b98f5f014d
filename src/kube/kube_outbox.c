/*
 * The durable outbox: upstream writes (pod status, pod deletion, device
 * status) are stored before they are sent, one per target under
 * x/<target> as {"method","path","contentType","body","attempts"}, a newer
 * write replacing an older one for the same target. Each target has at
 * most one request in flight. A 2xx answer, or a permanent failure (the
 * object is gone, a precondition failed, the write is invalid), deletes
 * the entry; a 5xx or 429 retries with back-off, obeying Retry-After
 * (coming back online does not cut that short); a transport failure waits
 * for the apiserver, probing it now and then with one entry. Entries
 * survive a restart: the outbox scans x/ when it starts.
 * This file owns struct kube_outbox and its entries; the store holds the
 * writes themselves. Events (kube_event_post) are best effort and bypass
 * the store.
 */
#include "config.h"

#include <sys/queue.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"
#include "store/store.h"

#define KUBE_OUTBOX_PREFIX	STORE_KEY_OUTBOX
/* Requests in flight at once, across targets. */
#define KUBE_OUTBOX_MAX_INFLIGHT	8
/* Retry of one entry after a 5xx or 429. */
#define KUBE_OUTBOX_RETRY_MIN_MS	1000
#define KUBE_OUTBOX_RETRY_MAX_MS	60000
/* Probing an apiserver that could not be reached. */
#define KUBE_OUTBOX_PROBE_MIN_MS	1000
#define KUBE_OUTBOX_PROBE_MAX_MS	30000
#define KUBE_OUTBOX_STABLE_MS		30000

enum kube_outbox_state {
	KUBE_OUTBOX_QUEUED,	/* waiting to be sent */
	KUBE_OUTBOX_SENDING,	/* one request in flight */
	KUBE_OUTBOX_WAITING,	/* back-off timer armed after a 5xx/429 */
	KUBE_OUTBOX_DONE,	/* delivered or dropped; freed by the reaper */
};

static const char *const kube_outbox_state_names[] = {
	"queued", "sending", "waiting", "done",
};

enum kube_outbox_event {
	KUBE_OUTBOX_EV_SEND,		/* drain or probe picked it */
	KUBE_OUTBOX_EV_OK,
	KUBE_OUTBOX_EV_PERMANENT,
	KUBE_OUTBOX_EV_RETRY,		/* 5xx, 429 and the like */
	KUBE_OUTBOX_EV_OFFLINE,		/* transport failure */
	KUBE_OUTBOX_EV_TIMER,
};

struct kube_outbox_entry {
	TAILQ_ENTRY(kube_outbox_entry) entry;
	struct kube_outbox	*ob;
	char			*target;
	char			*key;
	enum kube_outbox_state	 state;
	struct kube_req		*req;
	const struct kube_resp	*resp;		/* during a completion only */
	char			*method;	/* of the request in flight */
	char			*path;
	struct event		*timer;
	struct backoff		 bo;
	uint64_t		 gen;		/* bumped by every put */
	uint64_t		 sent_gen;	/* gen of the request sent */
};
TAILQ_HEAD(kube_outbox_entries, kube_outbox_entry);

struct kube_outbox {
	struct kube			*k;
	struct kube_outbox_entries	 entries;
	size_t				 inflight;
	struct event			*probe;
	struct backoff			 probe_bo;
	struct event			*reap;
};

static void	kube_outbox_entry_fsm(struct kube_outbox_entry *,
		    enum kube_outbox_event);
static void	kube_outbox_drain(struct kube_outbox *, int reachable);

/* Moves an entry to a new state, traced. */
static void
kube_outbox_enter_state(struct kube_outbox_entry *e,
    enum kube_outbox_state state, const char *why)
{
	if (e->state != state)
		log_trace(LOG_SUB_KUBE, "outbox %s: %s -> %s (%s)", e->target,
		    kube_outbox_state_names[e->state],
		    kube_outbox_state_names[state], why);
	e->state = state;
}

/* Arms ev for ms from now. */
static void
kube_outbox_arm(struct event *ev, uint64_t ms)
{
	clock_timer_add(ev, ms);
}

/* The entry's retry timer. */
static void
kube_outbox_entry_timer_cb(int fd, short events, void *arg)
{
	kube_outbox_entry_fsm(arg, KUBE_OUTBOX_EV_TIMER);
}

/* The entry for target, or NULL; done entries do not count. */
static struct kube_outbox_entry *
kube_outbox_find(struct kube_outbox *ob, const char *target)
{
	struct kube_outbox_entry	*e;

	TAILQ_FOREACH(e, &ob->entries, entry) {
		if (e->state != KUBE_OUTBOX_DONE &&
		    strcmp(e->target, target) == 0)
			return e;
	}
	return NULL;
}

/* A new queued entry for target. */
static struct kube_outbox_entry *
kube_outbox_entry_new(struct kube_outbox *ob, const char *target)
{
	struct kube_outbox_entry	*e;

	e = xcalloc(1, sizeof(*e));
	e->ob = ob;
	e->target = xstrdup(target);
	e->key = store_key_outbox(target);
	e->state = KUBE_OUTBOX_QUEUED;
	e->gen = 1;
	e->timer = evtimer_new(ob->k->base, kube_outbox_entry_timer_cb, e);
	if (e->timer == NULL)
		fatalx("outbox: cannot create a timer");
	backoff_init(&e->bo, KUBE_OUTBOX_RETRY_MIN_MS,
	    KUBE_OUTBOX_RETRY_MAX_MS, KUBE_OUTBOX_STABLE_MS);
	TAILQ_INSERT_TAIL(&ob->entries, e, entry);
	return e;
}

/* Frees an entry; its request, if any, is cancelled. */
static void
kube_outbox_entry_free(struct kube_outbox_entry *e)
{
	if (e->req != NULL)
		kube_req_cancel(e->req);
	if (e->timer != NULL)
		event_free(e->timer);
	free(e->method);
	free(e->path);
	free(e->key);
	free(e->target);
	free(e);
}

/* Reaper: frees done entries on a later loop turn than their completion. */
static void
kube_outbox_reap_cb(int fd, short events, void *arg)
{
	struct kube_outbox		*ob = arg;
	struct kube_outbox_entry	*e, *next;

	for (e = TAILQ_FIRST(&ob->entries); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		if (e->state != KUBE_OUTBOX_DONE)
			continue;
		TAILQ_REMOVE(&ob->entries, e, entry);
		kube_outbox_entry_free(e);
	}
}

/* Marks an entry done and has the reaper free it. */
static void
kube_outbox_entry_done(struct kube_outbox_entry *e, const char *why)
{
	evtimer_del(e->timer);
	kube_outbox_enter_state(e, KUBE_OUTBOX_DONE, why);
	event_active(e->ob->reap, EV_TIMEOUT, 0);
}

/* Completion of an entry's request: turns the answer into an event. */
static void
kube_outbox_entry_done_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube_outbox_entry	*e = arg;
	struct kube			*k = e->ob->k;
	enum kube_outbox_event		 ev;
	int				 s = resp->status;
	char				 why[256];

	e->req = NULL;
	e->ob->inflight--;
	if (s >= 200 && s < 300)
		ev = KUBE_OUTBOX_EV_OK;
	else if (s == 400 || s == 404 || s == 405 || s == 409 || s == 410 ||
	    s == 412 || s == 413 || s == 415 || s == 422)
		ev = KUBE_OUTBOX_EV_PERMANENT;
	else if (s > 0)
		ev = KUBE_OUTBOX_EV_RETRY;
	else
		ev = KUBE_OUTBOX_EV_OFFLINE;
	e->resp = resp;
	kube_outbox_entry_fsm(e, ev);
	e->resp = NULL;
	if (s > 0)
		snprintf(why, sizeof(why), "outbox: HTTP %d", s);
	else
		snprintf(why, sizeof(why), "outbox: %s", resp->errstr != NULL ?
		    resp->errstr : "transport error");
	kube_set_online(k, s > 0, why);
}

/*
 * Reads the entry's write from the store and starts it. -1 when the entry
 * is gone or unusable (it is then deleted).
 */
static int
kube_outbox_entry_send(struct kube_outbox_entry *e)
{
	struct kube_outbox	*ob = e->ob;
	cJSON			*root;
	const char		*method, *path, *ctype, *body, *errstr;
	char			*val;
	size_t			 len;

	if (store_get(ob->k->store, e->key, &val, &len) != 0)
		return -1;
	root = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	method = path = ctype = body = NULL;
	if (root != NULL) {
		method = json_get_string(root, "method");
		path = json_get_string(root, "path");
		ctype = json_get_string(root, "contentType");
		body = json_get_string(root, "body");
	}
	if (root == NULL || method == NULL || path == NULL) {
		log_warnx("outbox %s: damaged entry (%s), dropping", e->target,
		    root == NULL ? errstr : "no method or path");
		cJSON_Delete(root);
		store_delete(ob->k->store, e->key);
		return -1;
	}
	free(e->method);
	e->method = xstrdup(method);
	free(e->path);
	e->path = xstrdup(path);
	e->sent_gen = e->gen;
	e->req = kube_http_request(ob->k->client, method, path, body,
	    body != NULL ? ctype : NULL, 0, kube_outbox_entry_done_cb, e);
	ob->inflight++;
	cJSON_Delete(root);
	return 0;
}

/* Rewrites the stored entry with its attempts counted, unless replaced. */
static void
kube_outbox_count_attempt(struct kube_outbox_entry *e)
{
	struct store	*st = e->ob->k->store;
	cJSON		*root;
	const char	*errstr;
	char		*val, *out;
	size_t		 len;
	int64_t		 n;

	if (e->gen != e->sent_gen || store_get(st, e->key, &val, &len) != 0)
		return;
	root = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	if (root == NULL)
		return;
	if (json_get_int(root, "attempts", &n) == -1)
		n = 0;
	cJSON_DeleteItemFromObjectCaseSensitive(root, "attempts");
	cJSON_AddNumberToObject(root, "attempts", (double)(n + 1));
	out = json_print(root);
	cJSON_Delete(root);
	store_put(st, e->key, out, strlen(out));
	free(out);
}

/*
 * The write was delivered or refused for good: delete it from the store,
 * unless a newer one replaced it meanwhile, which is then sent.
 */
static void
kube_outbox_entry_finish(struct kube_outbox_entry *e, const char *why)
{
	if (e->gen != e->sent_gen) {
		kube_outbox_enter_state(e, KUBE_OUTBOX_QUEUED, "replaced");
		return;
	}
	store_delete(e->ob->k->store, e->key);
	kube_outbox_entry_done(e, why);
}

/* Logs a permanent failure, once: the entry is dropped after it. */
static void
kube_outbox_log_permanent(struct kube_outbox_entry *e)
{
	char	esc[256];

	/* Deleting what is already gone is what was wanted. */
	if (e->resp->status == 404 && strcmp(e->method, "DELETE") == 0) {
		log_debug("outbox %s: already deleted", e->target);
		return;
	}
	log_warnx("outbox %s: %s %s failed for good: HTTP %d %s, dropping",
	    e->target, e->method, e->path, e->resp->status,
	    log_escape(e->resp->body, e->resp->len, esc, sizeof(esc)));
}

/* A 5xx or 429: retry this entry later, obeying Retry-After. */
static void
kube_outbox_entry_backoff(struct kube_outbox_entry *e)
{
	uint64_t	delay;
	char		esc[128];

	/* Retry-After is obeyed up to the back-off's cap. */
	delay = backoff_next(&e->bo);
	if (e->resp->retry_after_ms > delay)
		delay = e->resp->retry_after_ms < KUBE_OUTBOX_RETRY_MAX_MS ?
		    e->resp->retry_after_ms : KUBE_OUTBOX_RETRY_MAX_MS;
	log_warnx("outbox %s: %s %s: HTTP %d %s, retrying in %llu ms",
	    e->target, e->method, e->path, e->resp->status,
	    log_escape(e->resp->body, e->resp->len, esc, sizeof(esc)),
	    (unsigned long long)delay);
	kube_outbox_count_attempt(e);
	kube_outbox_enter_state(e, KUBE_OUTBOX_WAITING, "retry");
	kube_outbox_arm(e->timer, delay);
}

/* The state machine of one entry. */
static void
kube_outbox_entry_fsm(struct kube_outbox_entry *e, enum kube_outbox_event ev)
{
	switch (e->state) {
	case KUBE_OUTBOX_QUEUED:
		if (ev != KUBE_OUTBOX_EV_SEND)
			break;
		if (kube_outbox_entry_send(e) == -1)
			kube_outbox_entry_done(e, "gone");
		else
			kube_outbox_enter_state(e, KUBE_OUTBOX_SENDING, "send");
		break;
	case KUBE_OUTBOX_SENDING:
		switch (ev) {
		case KUBE_OUTBOX_EV_OK:
			backoff_ok(&e->bo);
			kube_outbox_entry_finish(e, "delivered");
			break;
		case KUBE_OUTBOX_EV_PERMANENT:
			kube_outbox_log_permanent(e);
			kube_outbox_entry_finish(e, "refused");
			break;
		case KUBE_OUTBOX_EV_RETRY:
			kube_outbox_entry_backoff(e);
			break;
		case KUBE_OUTBOX_EV_OFFLINE:
			kube_outbox_count_attempt(e);
			kube_outbox_enter_state(e, KUBE_OUTBOX_QUEUED,
			    "offline");
			break;
		default:
			break;
		}
		break;
	case KUBE_OUTBOX_WAITING:
		/*
		 * The apiserver answered this one with a 5xx or 429: coming
		 * back online does not cut its back-off or Retry-After.
		 */
		if (ev == KUBE_OUTBOX_EV_TIMER)
			kube_outbox_enter_state(e, KUBE_OUTBOX_QUEUED, "timer");
		break;
	case KUBE_OUTBOX_DONE:
		break;
	}
	/* Whatever finished or was queued may let the next one go. */
	if (ev == KUBE_OUTBOX_EV_OFFLINE)
		kube_outbox_drain(e->ob, 0);
	else if (ev == KUBE_OUTBOX_EV_TIMER)
		kube_outbox_drain(e->ob, e->ob->k->online);
	else if (ev != KUBE_OUTBOX_EV_SEND)
		kube_outbox_drain(e->ob, 1);
}

/* Probe: send all queued, or one entry to learn if the apiserver is back. */
static void
kube_outbox_probe_cb(int fd, short events, void *arg)
{
	struct kube_outbox		*ob = arg;
	struct kube_outbox_entry	*e;

	if (ob->k->online) {
		kube_outbox_drain(ob, 1);
		return;
	}
	TAILQ_FOREACH(e, &ob->entries, entry) {
		if (e->state == KUBE_OUTBOX_QUEUED) {
			kube_outbox_entry_fsm(e, KUBE_OUTBOX_EV_SEND);
			break;
		}
	}
	/* Nothing went (all gone): the probe is re-armed if need be. */
	if (ob->inflight == 0)
		kube_outbox_drain(ob, 0);
}

/*
 * Sends queued entries, up to the in-flight limit, when the apiserver is
 * reachable; otherwise, with entries left and nothing in flight, arms the
 * probe with back-off.
 */
static void
kube_outbox_drain(struct kube_outbox *ob, int reachable)
{
	struct kube_outbox_entry	*e, *next;
	int				 queued = 0;

	if (reachable) {
		backoff_reset(&ob->probe_bo);
		for (e = TAILQ_FIRST(&ob->entries); e != NULL; e = next) {
			next = TAILQ_NEXT(e, entry);
			if (e->state != KUBE_OUTBOX_QUEUED)
				continue;
			if (ob->inflight >= KUBE_OUTBOX_MAX_INFLIGHT)
				return;
			kube_outbox_entry_fsm(e, KUBE_OUTBOX_EV_SEND);
		}
		return;
	}
	TAILQ_FOREACH(e, &ob->entries, entry) {
		if (e->state == KUBE_OUTBOX_QUEUED)
			queued = 1;
	}
	if (queued && ob->inflight == 0 && !evtimer_pending(ob->probe, NULL))
		kube_outbox_arm(ob->probe, backoff_next(&ob->probe_bo));
}

/* Scan of x/ at start: one queued entry per stored write. */
static int
kube_outbox_scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct kube_outbox	*ob = arg;
	const char		*target = key + strlen(KUBE_OUTBOX_PREFIX);

	if (*target != '\0' && kube_outbox_find(ob, target) == NULL)
		kube_outbox_entry_new(ob, target);
	return 0;
}

struct kube_outbox *
kube_outbox_new(struct kube *k)
{
	struct kube_outbox		*ob;
	struct kube_outbox_entry	*e;
	size_t				 n = 0;

	ob = xcalloc(1, sizeof(*ob));
	ob->k = k;
	TAILQ_INIT(&ob->entries);
	ob->probe = evtimer_new(k->base, kube_outbox_probe_cb, ob);
	ob->reap = event_new(k->base, -1, 0, kube_outbox_reap_cb, ob);
	if (ob->probe == NULL || ob->reap == NULL)
		fatalx("outbox: cannot create events");
	backoff_init(&ob->probe_bo, KUBE_OUTBOX_PROBE_MIN_MS,
	    KUBE_OUTBOX_PROBE_MAX_MS, KUBE_OUTBOX_STABLE_MS);
	if (store_scan(k->store, KUBE_OUTBOX_PREFIX, kube_outbox_scan_cb,
	    ob) == -1)
		log_warnx("outbox: cannot scan the store, older writes wait");
	TAILQ_FOREACH(e, &ob->entries, entry)
		n++;
	if (n > 0) {
		log_info("outbox: %zu writes kept from before", n);
		/* Try at once, on the loop: online or not, one probe tells. */
		kube_outbox_arm(ob->probe, 0);
	}
	return ob;
}

void
kube_outbox_free(struct kube_outbox *ob)
{
	struct kube_outbox_entry	*e;

	if (ob == NULL)
		return;
	while ((e = TAILQ_FIRST(&ob->entries)) != NULL) {
		TAILQ_REMOVE(&ob->entries, e, entry);
		kube_outbox_entry_free(e);
	}
	if (ob->probe != NULL)
		event_free(ob->probe);
	if (ob->reap != NULL)
		event_free(ob->reap);
	free(ob);
}

/*
 * Back online: every entry queued while the apiserver was unreachable goes
 * now; one waiting after a 5xx or 429 keeps its back-off.
 */
void
kube_outbox_kick(struct kube_outbox *ob)
{
	if (ob == NULL)
		return;
	evtimer_del(ob->probe);
	kube_outbox_drain(ob, 1);
}

int
kube_outbox_put(struct kube_outbox *ob, const char *target,
    const char *method, const char *path, const char *content_type,
    const char *body)
{
	struct kube_outbox_entry	*e;
	cJSON				*root;
	char				*key, *out;
	int				 rc;

	if (ob == NULL || target == NULL || *target == '\0' ||
	    method == NULL || path == NULL)
		return -1;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "method", method);
	cJSON_AddStringToObject(root, "path", path);
	if (content_type != NULL)
		cJSON_AddStringToObject(root, "contentType", content_type);
	if (body != NULL)
		cJSON_AddStringToObject(root, "body", body);
	cJSON_AddNumberToObject(root, "attempts", 0);
	out = json_print(root);
	cJSON_Delete(root);
	key = store_key_outbox(target);
	rc = store_put(ob->k->store, key, out, strlen(out));
	free(key);
	free(out);
	if (rc == -1)
		return -1;

	if ((e = kube_outbox_find(ob, target)) == NULL)
		e = kube_outbox_entry_new(ob, target);
	else
		e->gen++;
	log_trace(LOG_SUB_KUBE, "outbox %s: %s %s stored", target, method,
	    path);
	if (e->state == KUBE_OUTBOX_QUEUED)
		kube_outbox_drain(ob, ob->k->online);
	return 0;
}

/* A namespace or name as a path segment: a DNS subdomain. */
static int
kube_outbox_name_ok(const char *s)
{
	return dnsname_subdomain(s);
}

int
kube_outbox_pod_status(struct kube_outbox *ob, const char *ns,
    const char *name, const char *uid, const char *status_json)
{
	cJSON		*root, *status;
	const char	*errstr;
	char		*body, *path, *target;
	int		 rc;

	if (!kube_outbox_name_ok(ns) || !kube_outbox_name_ok(name) ||
	    uid == NULL || status_json == NULL)
		return -1;
	status = json_parse(status_json, strlen(status_json),
	    JSON_MAX_DOCUMENT, &errstr);
	if (!cJSON_IsObject(status)) {
		log_warnx("outbox: status of pod %s/%s is not an object: %s",
		    ns, name, status == NULL ? errstr : "wrong type");
		cJSON_Delete(status);
		return -1;
	}
	root = cJSON_CreateObject();
	/* The uid makes the patch fail (409) if the pod was recreated. */
	cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "metadata"),
	    "uid", uid);
	cJSON_AddItemToObject(root, "status", status);
	body = json_print(root);
	cJSON_Delete(root);
	xasprintf(&path, "/api/v1/namespaces/%s/pods/%s/status", ns, name);
	xasprintf(&target, "pods/%s/%s/status", ns, name);
	rc = kube_outbox_put(ob, target, "PATCH", path,
	    "application/merge-patch+json", body);
	free(target);
	free(path);
	free(body);
	return rc;
}

int
kube_pod_finalize(struct kube *k, const char *ns, const char *name,
    const char *uid)
{
	cJSON	*root;
	char	*body, *path, *target;
	int	 rc;

	if (!kube_outbox_name_ok(ns) || !kube_outbox_name_ok(name) ||
	    uid == NULL)
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
	xasprintf(&target, "pods/%s/%s/delete", ns, name);
	rc = kube_outbox_put(k->outbox, target, "DELETE", path,
	    "application/json", body);
	free(target);
	free(path);
	free(body);
	return rc;
}

/* Completion of an Event post: nothing to retry. */
static void
kube_outbox_event_done_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube	*k = arg;

	if (resp->status < 200 || resp->status >= 300)
		log_debug("event: not posted: %d %s", resp->status,
		    resp->errstr != NULL ? resp->errstr : "");
	kube_set_online(k, resp->status > 0, "event");
}

/* Adds member name to obj when s is set. */
static void
kube_outbox_add_opt(cJSON *obj, const char *name, const char *s)
{
	if (s != NULL && *s != '\0')
		cJSON_AddStringToObject(obj, name, s);
}

/* The Event object, named as a kubelet names them (<object>.<hex ns>). */
static char *
kube_outbox_event_body(struct kube *k, const char *ns,
    const struct kube_objref *ref, const char *type, const char *reason,
    const char *message)
{
	struct timespec	 now;
	cJSON		*root, *md, *io, *src;
	char		*name, *out, ts[64];

	clock_gettime(CLOCK_REALTIME, &now);
	xasprintf(&name, "%.200s.%llx", ref->name, (unsigned long long)
	    now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
	clock_rfc3339(now.tv_sec, ts, sizeof(ts));
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddStringToObject(root, "kind", "Event");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", ns);
	io = cJSON_AddObjectToObject(root, "involvedObject");
	kube_outbox_add_opt(io, "apiVersion", ref->api_version);
	kube_outbox_add_opt(io, "kind", ref->kind);
	kube_outbox_add_opt(io, "namespace", ref->ns);
	kube_outbox_add_opt(io, "name", ref->name);
	kube_outbox_add_opt(io, "uid", ref->uid);
	kube_outbox_add_opt(io, "fieldPath", ref->field_path);
	cJSON_AddStringToObject(root, "reason", reason);
	cJSON_AddStringToObject(root, "message", message);
	cJSON_AddStringToObject(root, "type", type);
	src = cJSON_AddObjectToObject(root, "source");
	cJSON_AddStringToObject(src, "component", "kubelet");
	cJSON_AddStringToObject(src, "host", k->node_name);
	cJSON_AddStringToObject(root, "firstTimestamp", ts);
	cJSON_AddStringToObject(root, "lastTimestamp", ts);
	cJSON_AddNumberToObject(root, "count", 1);
	cJSON_AddStringToObject(root, "reportingComponent", "kubelet");
	cJSON_AddStringToObject(root, "reportingInstance", k->node_name);
	out = json_print(root);
	cJSON_Delete(root);
	free(name);
	return out;
}

int
kube_event_post(struct kube *k, const char *ns, const struct kube_objref *ref,
    const char *type, const char *reason, const char *message)
{
	char	*body, *path;

	if (!k->online || !kube_outbox_name_ok(ns) || ref == NULL ||
	    ref->name == NULL || reason == NULL || message == NULL ||
	    type == NULL)
		return -1;
	body = kube_outbox_event_body(k, ns, ref, type, reason, message);
	xasprintf(&path, "/api/v1/namespaces/%s/events", ns);
	kube_http_request(k->client, "POST", path, body, "application/json", 0,
	    kube_outbox_event_done_cb, k);
	free(path);
	free(body);
	return 0;
}
