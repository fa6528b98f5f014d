/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reflector mirrors one Kubernetes collection into the store, as
 * client-go's reflector does for an informer. It lists in pages of 500 and
 * writes the whole list in one batch with the list's resourceVersion (the
 * resume point) and the deletion of what the store has in its scope but
 * the list no longer holds. Then it watches from that version and applies
 * each event together with the new resume point in one batch. A restart
 * resumes the watch from the stored resume point; only a 410 (the version
 * was compacted away) makes it list again. The reflector owns its objects
 * in the store (o/<resource>/<ns>/<name> within its scope) and its resume
 * point (v/<resource>[/<ns>[/<name>]]). The stream is a state machine:
 * idle, listing, watching, backoff, stopped.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"
#include "kube/kube_object.h"
#include "kube/kube_reflector.h"
#include "store/store.h"

#define KUBE_REFLECTOR_PAGE		500
#define KUBE_REFLECTOR_WATCH_MIN_S	240	/* timeoutSeconds, jittered */
#define KUBE_REFLECTOR_WATCH_MAX_S	360
#define KUBE_REFLECTOR_IDLE_EXTRA_MS	30000	/* idle timeout past it */
#define KUBE_REFLECTOR_LIST_IDLE_MS	60000
#define KUBE_REFLECTOR_BASE_MS		1000
#define KUBE_REFLECTOR_CAP_MS		30000
#define KUBE_REFLECTOR_STABLE_MS	60000
#define KUBE_REFLECTOR_DENIED_MS	60000
#define KUBE_REFLECTOR_ABSENT_MS	300000
#define KUBE_REFLECTOR_SHORT_MS		1000	/* a silent watch closed sooner failed */
#define KUBE_REFLECTOR_GRAPH_TELL	4	/* denials in a row before telling */

enum kube_reflector_state {
	KUBE_REFLECTOR_IDLE,
	KUBE_REFLECTOR_LISTING,
	KUBE_REFLECTOR_WATCHING,
	KUBE_REFLECTOR_BACKOFF,
	KUBE_REFLECTOR_STOPPED,
};

static const char *const kube_reflector_state_names[] = {
	"idle", "listing", "watching", "backoff", "stopped",
};

enum kube_reflector_event {
	KUBE_REFLECTOR_EV_NONE,
	KUBE_REFLECTOR_EV_START,
	KUBE_REFLECTOR_EV_LISTED,	/* the last page is stored */
	KUBE_REFLECTOR_EV_ENDED,	/* the server ended the watch */
	KUBE_REFLECTOR_EV_GONE,		/* 410: list again */
	KUBE_REFLECTOR_EV_FAILED,	/* transport, 5xx, 429, store */
	KUBE_REFLECTOR_EV_DENIED,	/* 401, 403 */
	KUBE_REFLECTOR_EV_ABSENT,	/* 404 */
	KUBE_REFLECTOR_EV_TIMER,
	KUBE_REFLECTOR_EV_KICK,
	KUBE_REFLECTOR_EV_STOP,
};

/* Why a reflector waits in BACKOFF. */
enum kube_reflector_wait {
	KUBE_REFLECTOR_WAIT_FAILED,
	KUBE_REFLECTOR_WAIT_DENIED,
	KUBE_REFLECTOR_WAIT_ABSENT,
};

struct kube_reflector {
	struct kube			*k;
	const struct kube_resource	*res;
	char				*ns;		/* or NULL */
	char				*selector;	/* or NULL */
	char				*only;		/* per-object: its name */
	char				*name;		/* for logs */
	char				*key_version;
	char				*scope;		/* store prefix or key */
	struct kube_object_scope	 keep;		/* what it keeps */
	int				 flags;
	kube_reflector_cb		 cb;
	void				*cb_arg;

	enum kube_reflector_state	 state;
	enum kube_reflector_wait	 wait;
	struct kube_req			*req;
	char				*rv;		/* resume point or NULL */
	int				 quiet;		/* repeated failure */
	int				 told;		/* denial/absence logged */
	unsigned int			 denials;	/* in a row */
	uint64_t			 retry_after_ms;
	int				 unreachable;	/* last failure: no answer */
	char				 why[256];

	/* The list in progress. */
	struct store_batch		*batch;
	char				*cont;
	char				*list_rv;
	char				**seen;
	size_t				 nseen;
	size_t				 seen_cap;

	/* The watch in progress. */
	uint64_t			 watch_start;
	uint64_t			 lines;
	enum kube_reflector_event	 pending;	/* from an ERROR line */

	struct backoff			 backoff;
	struct event			 ev_timer;
	struct event			 ev_defer;
};

static void	kube_reflector_fsm(struct kube_reflector *,
		    enum kube_reflector_event);
static void	kube_reflector_list_page(struct kube_reflector *);

/* Percent-encodes s for a query value; caller frees. */
static char *
kube_reflector_escape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			*out, *p;

	out = p = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		}
	}
	*p = '\0';
	return out;
}

/* Sets r->why from a format, escaping nothing: callers escape peer text. */
static void __attribute__((format(printf, 2, 3)))
kube_reflector_why(struct kube_reflector *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* Derives the scope, the store keys and the log name from the arguments. */
struct kube_reflector *
kube_reflector_new(struct kube *k, const struct kube_resource *res,
    const char *ns, const char *field_selector, int flags,
    kube_reflector_cb cb, void *arg)
{
	struct kube_reflector	*r;
	const char		*only = NULL;

	r = xcalloc(1, sizeof(*r));
	r->k = k;
	r->res = res;
	r->flags = flags;
	r->cb = cb;
	r->cb_arg = arg;
	if (ns != NULL && *ns != '\0')
		r->ns = xstrdup(ns);
	if (field_selector != NULL && *field_selector != '\0') {
		r->selector = xstrdup(field_selector);
		if (strncmp(field_selector, "metadata.name=", 14) == 0 &&
		    strchr(field_selector, ',') == NULL)
			only = field_selector + 14;
	}
	if (only != NULL) {
		r->only = xstrdup(only);
		r->scope = store_key_object(res->store_name, r->ns, only);
		r->key_version = store_key_version(res->store_name, r->ns,
		    only);
		xasprintf(&r->name, "%s %s%s%s", res->store_name,
		    r->ns != NULL ? r->ns : "", r->ns != NULL ? "/" : "", only);
	} else if (r->ns != NULL) {
		r->scope = store_key_objects(res->store_name, r->ns);
		r->key_version = store_key_version(res->store_name, r->ns,
		    NULL);
		xasprintf(&r->name, "%s in %s", res->store_name, r->ns);
	} else {
		r->scope = store_key_objects(res->store_name, NULL);
		r->key_version = store_key_version(res->store_name, NULL,
		    NULL);
		r->name = xstrdup(res->store_name);
	}
	r->keep.store_name = res->store_name;
	r->keep.namespaced = res->namespaced;
	r->keep.ns = r->ns;
	r->keep.only = r->only;
	backoff_init(&r->backoff, KUBE_REFLECTOR_BASE_MS,
	    KUBE_REFLECTOR_CAP_MS, KUBE_REFLECTOR_STABLE_MS);
	r->state = KUBE_REFLECTOR_IDLE;
	return r;
}

/* Drops the list in progress and its uncommitted batch. */
static void
kube_reflector_list_clear(struct kube_reflector *r)
{
	size_t	i;

	store_batch_free(r->batch);
	r->batch = NULL;
	free(r->cont);
	r->cont = NULL;
	free(r->list_rv);
	r->list_rv = NULL;
	for (i = 0; i < r->nseen; i++)
		free(r->seen[i]);
	free(r->seen);
	r->seen = NULL;
	r->nseen = r->seen_cap = 0;
}

/* Cancels the request and timers of the state being left. */
static void
kube_reflector_halt(struct kube_reflector *r)
{
	if (r->req != NULL) {
		kube_req_cancel(r->req);
		r->req = NULL;
	}
	if (event_initialized(&r->ev_timer))
		evtimer_del(&r->ev_timer);
	if (event_initialized(&r->ev_defer))
		event_del(&r->ev_defer);
	r->pending = KUBE_REFLECTOR_EV_NONE;
	kube_reflector_list_clear(r);
}

/* Path of the collection: /api/v1[/namespaces/ns]/pods. */
static char *
kube_reflector_base(struct kube_reflector *r)
{
	char	*path;

	if (r->ns != NULL)
		xasprintf(&path, "%s/namespaces/%s/%s", r->res->api_prefix,
		    r->ns, r->res->plural);
	else
		xasprintf(&path, "%s/%s", r->res->api_prefix, r->res->plural);
	return path;
}

/* "&fieldSelector=..." or "", for a query; caller frees. */
static char *
kube_reflector_selector_arg(struct kube_reflector *r)
{
	char	*enc, *arg;

	if (r->selector == NULL)
		return xstrdup("");
	enc = kube_reflector_escape(r->selector);
	xasprintf(&arg, "&fieldSelector=%s", enc);
	free(enc);
	return arg;
}

/* Sets r->why to label and the Status body's message, escaped. */
static void
kube_reflector_why_status(struct kube_reflector *r,
    const struct kube_resp *resp, const char *label)
{
	cJSON		*st;
	const char	*msg = NULL, *errstr;
	char		 buf[160];

	st = json_parse(resp->body, resp->len, KUBE_HTTP_MAX_BODY, &errstr);
	if (st != NULL)
		msg = json_get_string(st, "message");
	if (msg != NULL)
		kube_reflector_why(r, "%s: %s", label, log_escape(msg,
		    strlen(msg), buf, sizeof(buf)));
	else
		kube_reflector_why(r, "%s", label);
	cJSON_Delete(st);
}

/* Text of a transport failure. */
static const char *
kube_reflector_errname(int status)
{
	switch (status) {
	case KUBE_HTTP_ECONNECT:
		return "cannot connect";
	case KUBE_HTTP_EIO:
		return "connection lost";
	case KUBE_HTTP_ETIMEOUT:
		return "timed out";
	case KUBE_HTTP_EPROTO:
		return "bad response";
	default:
		break;
	}
	return "transport error";
}

/*
 * Turns a response into an event (NONE for a 200), sets the reason and
 * reports reachability: any HTTP answer below 500 means the apiserver is
 * there, a transport failure means it is not.
 */
static enum kube_reflector_event
kube_reflector_status(struct kube_reflector *r, const struct kube_resp *resp,
    const char *what)
{
	char	label[64];

	r->retry_after_ms = resp->retry_after_ms;
	r->unreachable = resp->status < 0;
	if (resp->status < 0) {
		kube_reflector_why(r, "%s: %s", what, resp->errstr != NULL ?
		    resp->errstr : kube_reflector_errname(resp->status));
		kube_set_online(r->k, 0, r->why);
		return KUBE_REFLECTOR_EV_FAILED;
	}
	if (resp->status < 500)
		kube_set_online(r->k, 1, NULL);
	if (resp->status == 200) {
		backoff_ok(&r->backoff);
		r->quiet = r->told = 0;
		r->denials = 0;
		return KUBE_REFLECTOR_EV_NONE;
	}
	if (resp->status == 410)
		snprintf(label, sizeof(label), "410 gone");
	else
		snprintf(label, sizeof(label), "%s %d", what, resp->status);
	kube_reflector_why_status(r, resp, label);
	switch (resp->status) {
	case 410:
		return KUBE_REFLECTOR_EV_GONE;
	case 401:
	case 403:
		return KUBE_REFLECTOR_EV_DENIED;
	case 404:
		return KUBE_REFLECTOR_EV_ABSENT;
	default:
		break;
	}
	return KUBE_REFLECTOR_EV_FAILED;
}

/* Remembers a listed key for the relist diff. */
static void
kube_reflector_seen_add(struct kube_reflector *r, char *key)
{
	if (r->nseen == r->seen_cap) {
		r->seen_cap = r->seen_cap == 0 ? 64 : r->seen_cap * 2;
		r->seen = xreallocarray(r->seen, r->seen_cap,
		    sizeof(*r->seen));
	}
	r->seen[r->nseen++] = key;
}

/* qsort and bsearch order of the listed keys. */
static int
kube_reflector_seen_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Stores one listed object in the list's batch, or logs and skips it. */
static void
kube_reflector_list_item(struct kube_reflector *r, cJSON *item,
    const char *kind, const char *apiv)
{
	struct kube_object_event	 ev;

	switch (kube_object_item(&r->keep, item, kind, apiv, STORE_MAX_VALUE,
	    &ev)) {
	case KUBE_OBJECT_SKIP:
		log_warnx("%s: list: skipping %s", r->name, ev.why);
		r->k->skipped++;
		break;
	case KUBE_OBJECT_PUT:
		store_batch_put(r->batch, ev.key, ev.text, ev.len);
		kube_reflector_seen_add(r, ev.key);
		ev.key = NULL;
		break;
	default:
		break;
	}
	kube_object_event_clear(&ev);
}

/*
 * Stores one page of a list into the batch; remembers the continue token
 * and the resourceVersion. -1 with r->why for a page that is not a list.
 */
static int
kube_reflector_list_store(struct kube_reflector *r, const char *body,
    size_t len)
{
	cJSON		*root, *items, *item;
	const char	*errstr, *rv, *cont, *listkind, *apiv;
	char		*kind = NULL;
	size_t		 kl;

	if ((root = json_parse(body, len, KUBE_HTTP_MAX_BODY,
	    &errstr)) == NULL) {
		kube_reflector_why(r, "list: %s", errstr);
		return -1;
	}
	rv = json_get_string(root, "metadata.resourceVersion");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (rv == NULL || *rv == '\0' || (items != NULL &&
	    !cJSON_IsArray(items) && !cJSON_IsNull(items))) {
		kube_reflector_why(r, "list: not a list");
		cJSON_Delete(root);
		return -1;
	}
	listkind = json_get_string(root, "kind");
	apiv = json_get_string(root, "apiVersion");
	if (listkind != NULL && (kl = strlen(listkind)) > 4 &&
	    strcmp(listkind + kl - 4, "List") == 0)
		kind = xstrndup(listkind, kl - 4);
	if (cJSON_IsArray(items)) {
		cJSON_ArrayForEach(item, items)
			kube_reflector_list_item(r, item, kind, apiv);
	}
	free(kind);
	free(r->list_rv);
	r->list_rv = xstrdup(rv);
	free(r->cont);
	r->cont = NULL;
	cont = json_get_string(root, "metadata.continue");
	if (cont != NULL && *cont != '\0')
		r->cont = xstrdup(cont);
	cJSON_Delete(root);
	return 0;
}

struct kube_reflector_diff {
	struct kube_reflector	*r;
	size_t			 deleted;
};

/* Relist diff: deletes a stored object in scope that the list lacks. */
static int
kube_reflector_diff_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	struct kube_reflector_diff	*d = arg;
	struct kube_reflector		*r = d->r;

	if (r->only != NULL && strcmp(key, r->scope) != 0)
		return 0;
	if (r->nseen > 0 && bsearch(&key, r->seen, r->nseen,
	    sizeof(*r->seen), kube_reflector_seen_cmp) != NULL)
		return 0;
	log_debug("%s: relist: %s is gone", r->name, key);
	store_batch_delete(r->batch, key);
	d->deleted++;
	return 0;
}

/*
 * Commits the whole list: its objects, the deletion of those gone and
 * the resume point, in one batch. -1 with r->why on a store failure.
 */
static int
kube_reflector_list_commit(struct kube_reflector *r)
{
	struct kube_reflector_diff	 d = { r, 0 };
	struct store_batch		*b;

	if (r->nseen > 0)
		qsort(r->seen, r->nseen, sizeof(*r->seen),
		    kube_reflector_seen_cmp);
	if (store_scan(r->k->store, r->scope, kube_reflector_diff_cb,
	    &d) == -1) {
		kube_reflector_why(r, "list: store scan failed");
		return -1;
	}
	store_batch_put(r->batch, r->key_version, r->list_rv,
	    strlen(r->list_rv));
	b = r->batch;
	r->batch = NULL;
	if (store_batch_commit(b) == -1) {
		kube_reflector_why(r, "list: store write failed");
		return -1;
	}
	log_info("%s: listed %zu objects, %zu gone, resourceVersion %s",
	    r->name, r->nseen, d.deleted, r->list_rv);
	free(r->rv);
	r->rv = r->list_rv;
	r->list_rv = NULL;
	return 0;
}

/* Completion of one list page: the next page, the commit, or a failure. */
static void
kube_reflector_list_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube_reflector		*r = arg;
	enum kube_reflector_event	 ev;

	r->req = NULL;
	if ((ev = kube_reflector_status(r, resp, "list")) !=
	    KUBE_REFLECTOR_EV_NONE) {
		kube_reflector_fsm(r, ev);
		return;
	}
	if (kube_reflector_list_store(r, resp->body, resp->len) == -1) {
		kube_reflector_fsm(r, KUBE_REFLECTOR_EV_FAILED);
		return;
	}
	if (r->cont != NULL) {
		kube_reflector_list_page(r);
		return;
	}
	if (kube_reflector_list_commit(r) == -1) {
		kube_reflector_fsm(r, KUBE_REFLECTOR_EV_FAILED);
		return;
	}
	kube_reflector_why(r, "listed at %s", r->rv);
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_LISTED);
}

/* Requests the next page of the list (the first when no continue token). */
static void
kube_reflector_list_page(struct kube_reflector *r)
{
	char	*base, *sel, *cont = NULL, *path;

	base = kube_reflector_base(r);
	sel = kube_reflector_selector_arg(r);
	if (r->cont != NULL)
		cont = kube_reflector_escape(r->cont);
	xasprintf(&path, "%s?limit=%d%s%s%s", base, KUBE_REFLECTOR_PAGE,
	    cont != NULL ? "&continue=" : "", cont != NULL ? cont : "", sel);
	log_trace(LOG_SUB_KUBE, "%s: GET %s", r->name, path);
	r->req = kube_http_request(r->k->client, "GET", path, NULL, NULL,
	    KUBE_REFLECTOR_LIST_IDLE_MS, kube_reflector_list_cb, r);
	free(path);
	free(cont);
	free(sel);
	free(base);
}

/* Entering LISTING: a fresh list from the first page. */
static void
kube_reflector_list_start(struct kube_reflector *r)
{
	kube_reflector_list_clear(r);
	r->batch = store_batch_new(r->k->store);
	kube_reflector_list_page(r);
}

/* Ends the watch on a later loop turn with ev (never inside a callback). */
static void
kube_reflector_watch_abort(struct kube_reflector *r,
    enum kube_reflector_event ev)
{
	r->pending = ev;
	event_active(&r->ev_defer, EV_TIMEOUT, 0);
}

/* A watch ERROR event: 410 lists again, anything else backs off. */
static void
kube_reflector_watch_error(struct kube_reflector *r,
    const struct kube_object_event *ev)
{
	const char	*msg = ev->message;
	char		 buf[160];

	kube_reflector_why(r, "watch error %lld: %s", (long long)ev->code,
	    log_escape(msg, strlen(msg), buf, sizeof(buf)));
	if (ev->code == 410) {
		kube_reflector_why(r, "410 gone: %s", log_escape(msg,
		    strlen(msg), buf, sizeof(buf)));
		kube_reflector_watch_abort(r, KUBE_REFLECTOR_EV_GONE);
	} else
		kube_reflector_watch_abort(r, KUBE_REFLECTOR_EV_FAILED);
}

/* Writes one batch: the change to key (val NULL: delete) and the rv. */
static int
kube_reflector_write(struct kube_reflector *r, const char *key,
    const char *val, size_t len, const char *rv)
{
	struct store_batch	*b;

	b = store_batch_new(r->k->store);
	if (key != NULL && val != NULL)
		store_batch_put(b, key, val, len);
	else if (key != NULL)
		store_batch_delete(b, key);
	store_batch_put(b, r->key_version, rv, strlen(rv));
	if (store_batch_commit(b) == -1) {
		kube_reflector_why(r, "watch: store write failed");
		kube_reflector_watch_abort(r, KUBE_REFLECTOR_EV_FAILED);
		return -1;
	}
	free(r->rv);
	r->rv = xstrdup(rv);
	return 0;
}

/* One watch line: {"type": ..., "object": {...}}; bad ones are skipped. */
static void
kube_reflector_watch_event(struct kube_reflector *r, const char *line,
    size_t len)
{
	struct kube_object_event	 ev;

	switch (kube_object_event(&r->keep, line, len, STORE_MAX_VALUE,
	    &ev)) {
	case KUBE_OBJECT_SKIP:
		log_warnx("%s: watch: skipping %s", r->name, ev.why);
		r->k->skipped++;
		break;
	case KUBE_OBJECT_IGNORE:
		break;
	case KUBE_OBJECT_PUT:
	case KUBE_OBJECT_DELETE:
		log_trace(LOG_SUB_KUBE, "%s: %s %s at %s", r->name, ev.type,
		    ev.key, ev.rv);
		kube_reflector_write(r, ev.key, ev.text, ev.len, ev.rv);
		break;
	case KUBE_OBJECT_BOOKMARK:
		log_trace(LOG_SUB_KUBE, "%s: bookmark at %s", r->name, ev.rv);
		kube_reflector_write(r, NULL, NULL, 0, ev.rv);
		break;
	case KUBE_OBJECT_ERROR:
		kube_reflector_watch_error(r, &ev);
		break;
	}
	kube_object_event_clear(&ev);
}

/*
 * A watch line; the first one also proves the apiserver is there. An
 * oversized one (line NULL) was dropped by the client: told and skipped.
 */
static void
kube_reflector_line_cb(struct kube_req *req, const char *line, size_t len,
    void *arg)
{
	struct kube_reflector	*r = arg;

	if (r->pending != KUBE_REFLECTOR_EV_NONE || len == 0)
		return;
	if (r->lines++ == 0) {
		backoff_ok(&r->backoff);
		r->quiet = r->told = 0;
		r->denials = 0;
		kube_set_online(r->k, 1, NULL);
	}
	if (line == NULL) {
		log_warnx("%s: watch: skipping an event of %zu bytes: larger "
		    "than %u bytes", r->name, len, KUBE_HTTP_MAX_LINE);
		r->k->skipped++;
	} else
		kube_reflector_watch_event(r, line, len);
}

/* End of a watch: again at once, or what the ERROR line or status says. */
static void
kube_reflector_watch_done_cb(struct kube_req *req,
    const struct kube_resp *resp, void *arg)
{
	struct kube_reflector		*r = arg;
	enum kube_reflector_event	 ev;

	r->req = NULL;
	if ((ev = r->pending) != KUBE_REFLECTOR_EV_NONE) {
		r->pending = KUBE_REFLECTOR_EV_NONE;
		event_del(&r->ev_defer);
		kube_reflector_fsm(r, ev);
		return;
	}
	if ((ev = kube_reflector_status(r, resp, "watch")) !=
	    KUBE_REFLECTOR_EV_NONE) {
		kube_reflector_fsm(r, ev);
		return;
	}
	if (r->lines == 0 && clock_mono_ms() - r->watch_start <
	    KUBE_REFLECTOR_SHORT_MS) {
		kube_reflector_why(r, "watch closed at once");
		kube_reflector_fsm(r, KUBE_REFLECTOR_EV_FAILED);
		return;
	}
	kube_reflector_why(r, "watch ended after %llu events",
	    (unsigned long long)r->lines);
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_ENDED);
}

/* An ERROR line or a store failure ended the watch. */
static void
kube_reflector_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_reflector		*r = arg;
	enum kube_reflector_event	 ev = r->pending;

	if (ev == KUBE_REFLECTOR_EV_NONE)
		return;
	r->pending = KUBE_REFLECTOR_EV_NONE;
	kube_reflector_fsm(r, ev);
}

/* Entering WATCHING: a watch from the resume point. */
static void
kube_reflector_watch_start(struct kube_reflector *r)
{
	char		*base, *sel, *rv, *path;
	unsigned int	 timeout;

	timeout = KUBE_REFLECTOR_WATCH_MIN_S + arc4random_uniform(
	    KUBE_REFLECTOR_WATCH_MAX_S - KUBE_REFLECTOR_WATCH_MIN_S + 1);
	base = kube_reflector_base(r);
	sel = kube_reflector_selector_arg(r);
	rv = kube_reflector_escape(r->rv);
	xasprintf(&path, "%s?watch=1&allowWatchBookmarks=true"
	    "&resourceVersion=%s&timeoutSeconds=%u%s", base, rv, timeout, sel);
	log_trace(LOG_SUB_KUBE, "%s: GET %s", r->name, path);
	r->lines = 0;
	r->pending = KUBE_REFLECTOR_EV_NONE;
	r->watch_start = clock_mono_ms();
	r->req = kube_http_stream(r->k->client, path, (uint64_t)timeout *
	    1000 + KUBE_REFLECTOR_IDLE_EXTRA_MS, kube_reflector_line_cb,
	    kube_reflector_watch_done_cb, r);
	free(path);
	free(rv);
	free(sel);
	free(base);
}

/* The back-off delay is over. */
static void
kube_reflector_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_reflector	*r = arg;

	kube_reflector_why(r, "retrying");
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_TIMER);
}

/* How long to wait before retrying, by why the reflector waits. */
static uint64_t
kube_reflector_delay(struct kube_reflector *r)
{
	uint64_t	d;

	switch (r->wait) {
	case KUBE_REFLECTOR_WAIT_DENIED:
		if (r->flags & KUBE_REFLECTOR_GRAPH)
			break;
		return (r->flags & KUBE_REFLECTOR_OPTIONAL) ?
		    KUBE_REFLECTOR_ABSENT_MS : KUBE_REFLECTOR_DENIED_MS;
	case KUBE_REFLECTOR_WAIT_ABSENT:
		if (r->flags & KUBE_REFLECTOR_OPTIONAL)
			return KUBE_REFLECTOR_ABSENT_MS;
		break;
	case KUBE_REFLECTOR_WAIT_FAILED:
		break;
	}
	/* Retry-After is obeyed, but retries are never over 30 s apart. */
	d = backoff_next(&r->backoff);
	if (r->retry_after_ms > d)
		d = r->retry_after_ms < KUBE_REFLECTOR_CAP_MS ?
		    r->retry_after_ms : KUBE_REFLECTOR_CAP_MS;
	return d;
}

/*
 * Logs and enters a state, starting what the state does: a list, a watch
 * or the retry timer. The only place r->state changes.
 */
static void
kube_reflector_enter(struct kube_reflector *r, enum kube_reflector_state st)
{
	enum kube_reflector_state	 old = r->state;
	uint64_t			 ms = 0;
	size_t				 n;

	kube_reflector_halt(r);
	if (st == KUBE_REFLECTOR_BACKOFF) {
		ms = kube_reflector_delay(r);
		n = strlen(r->why);
		snprintf(r->why + n, sizeof(r->why) - n, ", retrying in "
		    "%llu.%01llu s", (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000 / 100));
	}
	if (old == st || r->quiet)
		log_debug("%s: %s -> %s (%s)", r->name,
		    kube_reflector_state_names[old],
		    kube_reflector_state_names[st], r->why);
	else
		log_info("%s: %s -> %s (%s)", r->name,
		    kube_reflector_state_names[old],
		    kube_reflector_state_names[st], r->why);
	r->state = st;
	if (st == KUBE_REFLECTOR_LISTING || st == KUBE_REFLECTOR_WATCHING) {
		r->retry_after_ms = 0;
		r->unreachable = 0;
	}
	switch (st) {
	case KUBE_REFLECTOR_LISTING:
		kube_reflector_list_start(r);
		break;
	case KUBE_REFLECTOR_WATCHING:
		kube_reflector_watch_start(r);
		break;
	case KUBE_REFLECTOR_BACKOFF:
		/* Later failures in a row are logged at debug only. */
		r->quiet = 1;
		clock_timer_add(&r->ev_timer, ms);
		break;
	case KUBE_REFLECTOR_IDLE:
	case KUBE_REFLECTOR_STOPPED:
		break;
	}
	if (r->cb != NULL)
		r->cb(r, r->cb_arg);
}

/* A denial or absence is told once, until a request succeeds again. */
static void
kube_reflector_tell(struct kube_reflector *r, enum kube_reflector_event ev)
{
	if (r->told)
		return;
	if (ev == KUBE_REFLECTOR_EV_DENIED && (r->flags &
	    KUBE_REFLECTOR_GRAPH) && ++r->denials < KUBE_REFLECTOR_GRAPH_TELL)
		return;
	r->told = 1;
	if (ev == KUBE_REFLECTOR_EV_DENIED && (r->flags &
	    KUBE_REFLECTOR_GRAPH))
		log_warnx("%s: access denied (%s), retrying", r->name,
		    r->why);
	else if (ev == KUBE_REFLECTOR_EV_DENIED)
		log_warnx("%s: access denied (%s), retrying every %d s",
		    r->name, r->why, (r->flags & KUBE_REFLECTOR_OPTIONAL) ?
		    KUBE_REFLECTOR_ABSENT_MS / 1000 :
		    KUBE_REFLECTOR_DENIED_MS / 1000);
	else if (r->flags & KUBE_REFLECTOR_OPTIONAL)
		log_info("%s: not served by the apiserver, checking again "
		    "every %d s", r->name, KUBE_REFLECTOR_ABSENT_MS / 1000);
	else
		log_warnx("%s: not found (%s), retrying", r->name, r->why);
}

/* Enters BACKOFF for a failure of the request in flight. */
static void
kube_reflector_fail(struct kube_reflector *r, enum kube_reflector_event ev)
{
	switch (ev) {
	case KUBE_REFLECTOR_EV_DENIED:
		r->wait = KUBE_REFLECTOR_WAIT_DENIED;
		kube_reflector_tell(r, ev);
		break;
	case KUBE_REFLECTOR_EV_ABSENT:
		r->wait = KUBE_REFLECTOR_WAIT_ABSENT;
		kube_reflector_tell(r, ev);
		break;
	default:
		r->wait = KUBE_REFLECTOR_WAIT_FAILED;
		break;
	}
	kube_reflector_enter(r, KUBE_REFLECTOR_BACKOFF);
}

/* The state machine; callbacks turn what happened into an event. */
static void
kube_reflector_fsm(struct kube_reflector *r, enum kube_reflector_event ev)
{
	enum kube_reflector_state	next;

	next = r->rv != NULL ? KUBE_REFLECTOR_WATCHING :
	    KUBE_REFLECTOR_LISTING;
	if (ev == KUBE_REFLECTOR_EV_STOP) {
		if (r->state != KUBE_REFLECTOR_STOPPED)
			kube_reflector_enter(r, KUBE_REFLECTOR_STOPPED);
		return;
	}
	switch (r->state) {
	case KUBE_REFLECTOR_IDLE:
	case KUBE_REFLECTOR_STOPPED:
		if (ev == KUBE_REFLECTOR_EV_START)
			kube_reflector_enter(r, next);
		break;
	case KUBE_REFLECTOR_LISTING:
	case KUBE_REFLECTOR_WATCHING:
		switch (ev) {
		case KUBE_REFLECTOR_EV_LISTED:
		case KUBE_REFLECTOR_EV_ENDED:
			kube_reflector_enter(r, KUBE_REFLECTOR_WATCHING);
			break;
		case KUBE_REFLECTOR_EV_GONE:
			kube_reflector_enter(r, KUBE_REFLECTOR_LISTING);
			break;
		case KUBE_REFLECTOR_EV_FAILED:
		case KUBE_REFLECTOR_EV_DENIED:
		case KUBE_REFLECTOR_EV_ABSENT:
			kube_reflector_fail(r, ev);
			break;
		default:
			break;
		}
		break;
	case KUBE_REFLECTOR_BACKOFF:
		/* A kick ends only a wait for an unreachable apiserver. */
		if (ev == KUBE_REFLECTOR_EV_TIMER || (ev ==
		    KUBE_REFLECTOR_EV_KICK && r->wait ==
		    KUBE_REFLECTOR_WAIT_FAILED && r->unreachable))
			kube_reflector_enter(r, next);
		break;
	}
}

/* Reads the resume point once, then lets the state machine choose. */
void
kube_reflector_start(struct kube_reflector *r)
{
	char	*val = NULL;
	size_t	 len;

	if (!event_initialized(&r->ev_timer)) {
		evtimer_assign(&r->ev_timer, r->k->base,
		    kube_reflector_timer_cb, r);
		event_assign(&r->ev_defer, r->k->base, -1, 0,
		    kube_reflector_defer_cb, r);
	}
	if (r->rv == NULL && store_get(r->k->store, r->key_version, &val,
	    &len) == 0) {
		if (len > 0 && memchr(val, '\0', len) == NULL)
			r->rv = val;
		else
			free(val);
	}
	if (r->rv != NULL)
		kube_reflector_why(r, "resuming from resourceVersion %s",
		    r->rv);
	else
		kube_reflector_why(r, "no resume point");
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_START);
}

/* Stops requests and timers; objects and resume point stay stored. */
void
kube_reflector_stop(struct kube_reflector *r)
{
	kube_reflector_why(r, "stopped");
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_STOP);
}

/* Back online: a transport back-off ends now. */
void
kube_reflector_kick(struct kube_reflector *r)
{
	kube_reflector_why(r, "apiserver reachable");
	kube_reflector_fsm(r, KUBE_REFLECTOR_EV_KICK);
}

/* Collects the keys in the reflector's scope for kube_reflector_forget. */
static int
kube_reflector_forget_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	struct kube_reflector	*r = arg;

	if (r->only == NULL || strcmp(key, r->scope) == 0)
		store_batch_delete(r->batch, key);
	return 0;
}

/* Deletes the scope and the resume point in one batch, then stops. */
void
kube_reflector_forget(struct kube_reflector *r)
{
	struct store_batch	*b;

	kube_reflector_halt(r);
	r->batch = store_batch_new(r->k->store);
	if (store_scan(r->k->store, r->scope, kube_reflector_forget_cb,
	    r) == -1) {
		kube_reflector_list_clear(r);
		return;
	}
	store_batch_delete(r->batch, r->key_version);
	b = r->batch;
	r->batch = NULL;
	if (store_batch_commit(b) == 0)
		log_debug("%s: forgotten", r->name);
	free(r->rv);
	r->rv = NULL;
	if (r->state != KUBE_REFLECTOR_IDLE &&
	    r->state != KUBE_REFLECTOR_STOPPED) {
		kube_reflector_why(r, "forgotten");
		kube_reflector_fsm(r, KUBE_REFLECTOR_EV_STOP);
	}
}

/* Cancels quietly (no state log) and frees. */
void
kube_reflector_free(struct kube_reflector *r)
{
	if (r == NULL)
		return;
	kube_reflector_halt(r);
	free(r->rv);
	free(r->ns);
	free(r->selector);
	free(r->only);
	free(r->name);
	free(r->key_version);
	free(r->scope);
	free(r);
}

/* The log name, e.g. "configmaps default/app". */
const char *
kube_reflector_name(struct kube_reflector *r)
{
	return r->name;
}

/* A back-off is named by its cause. */
const char *
kube_reflector_state(struct kube_reflector *r)
{
	if (r->state == KUBE_REFLECTOR_BACKOFF) {
		if (r->wait == KUBE_REFLECTOR_WAIT_DENIED)
			return "forbidden";
		if (r->wait == KUBE_REFLECTOR_WAIT_ABSENT)
			return "not served";
	}
	return kube_reflector_state_names[r->state];
}

/* Has a resume point and watches from it. */
int
kube_reflector_synced(struct kube_reflector *r)
{
	return r->rv != NULL && r->state == KUBE_REFLECTOR_WATCHING;
}
