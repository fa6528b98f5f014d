/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WATCH of the read API: chunked JSON lines of {"type", "object"} events,
 * as the apiserver streams them. A watch starts from a resourceVersion:
 * none (or 0) sends every selected object as ADDED first; a revision the
 * store's change log still reaches replays the changes since it (so a
 * client resumes where a list or an earlier watch ended, across an
 * edgesite restart too); an older one, or one from the future, gets an
 * ERROR event with a 410 Expired Status and the client lists again. Then
 * live changes follow until timeoutSeconds (else 30 to 60 minutes), with
 * BOOKMARK events when allowWatchBookmarks asks.
 *
 * The events before the live ones go at the client's pace (api_stream.c
 * pumps them): the ADDED objects from a store snapshot, then the change
 * log after the snapshot's revision (or after the client's) up to the
 * store's revision, each resumed where the client's reading stopped it.
 * Only then does the watch join its kind's live watches.
 *
 * The hub owns every watch and one store subscription to objects. Each
 * change is matched against the watches of its kind and serialized once
 * per format (JSON event, Table event) however many watches take it;
 * every matching watch queues a reference to those bytes in the same loop
 * turn. A watch whose client does not keep up is closed by its stream
 * (api_stream.c) instead of buffering without bound.
 *
 * A watch is a state machine: replay (the events before the live ones),
 * live (events flow), closed (its stream is ended or gone; freed on a
 * later loop turn).
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "api/api_int.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

/* The default timeout: from this many seconds to twice as many. */
#define API_WATCH_TIMEOUT_MIN	1800
/* Seconds between bookmarks when the client allows them. */
#define API_WATCH_BOOKMARK_SECS	60
#define API_WATCH_MAX_KINDS	32

enum api_watch_state {
	API_WATCH_REPLAY,
	API_WATCH_LIVE,
	API_WATCH_CLOSED,
};

static const char *const api_watch_state_names[] = {
	"replay", "live", "closed",
};

enum api_watch_event {
	API_WATCH_EV_START,	/* the replay is all queued */
	API_WATCH_EV_EXPIRED,	/* the resourceVersion is not kept */
	API_WATCH_EV_TIMEOUT,	/* timeoutSeconds passed */
	API_WATCH_EV_GONE,	/* the stream closed under us */
	API_WATCH_EV_OVERFLOW,	/* the stream refused a live event */
	API_WATCH_EV_SHUTDOWN,	/* the endpoint is going away */
};

struct api_watch {
	struct api_watch_hub	*hub;
	struct api_query	 q;
	struct api_stream	*st;
	char			 peer[64];
	enum api_watch_state	 state;
	uint64_t		 since;		/* replay covered up to here */
	struct store_snap	*snap;		/* the ADDED objects to go */
	char			*pos;		/* the last of them queued */
	char			*logpos;	/* the last log entry queued */
	uint64_t		 told;		/* its revision */
	int			 full;		/* a scan waits on the client */
	struct event		 timeout;
	struct event		 bookmark;
	TAILQ_ENTRY(api_watch)	 entry;
};
TAILQ_HEAD(api_watches, api_watch);

struct api_watch_hub {
	struct api		*api;
	struct store_sub	*sub;
	struct api_watches	 kinds[API_WATCH_MAX_KINDS];
	struct api_watches	 replaying;
	struct api_watches	 dead;
	struct event		 reap;
	size_t			 n;
	uint64_t		 rev;		/* changes up to here are out */
};

/*
 * One change being fanned out: its events, built on first need, by type
 * (a watch with a selector may see a modification as ADDED or DELETED)
 * and by format (JSON, Table).
 */
struct api_watch_fan {
	const struct store_change	*ch;
	const struct api_kind		*kind;
	struct evbuffer			*ev[3][2];
};

static void	api_watch_fsm(struct api_watch *, enum api_watch_event,
		    const char *);

/* The index of a kind in api_kube_kinds. */
static size_t
api_watch_kind_index(const struct api_kind *k)
{
	return (size_t)(k - api_kube_kinds);
}

/* The type of a change as a watch event names it. */
static const char *
api_watch_type(enum store_change_type t)
{
	switch (t) {
	case STORE_CHANGE_ADDED:
		return "ADDED";
	case STORE_CHANGE_DELETED:
		return "DELETED";
	default:
		return "MODIFIED";
	}
}

/*
 * A new event as a framed chunk: {"type":T,"object":O}\n where O is the
 * object (its revision set) or a one-row Table of it.
 */
static struct evbuffer *
api_watch_event(const struct api_kind *k, int table, const char *type,
    const char *js, size_t len, uint64_t rev)
{
	struct evbuffer	*ev;

	if ((ev = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evbuffer_add_printf(ev, "{\"type\":\"%s\",\"object\":", type);
	if (table) {
		api_table_open(ev, k, 1);
		api_table_row(ev, k, js, len, rev, time(NULL), 1);
		api_table_close(ev, rev, NULL);
	} else
		api_text_write_object(ev, js, len, rev);
	evbuffer_add(ev, "}\n", 2);
	api_stream_frame(ev);
	return ev;
}

/* Queues an event built for this watch alone (replay, bookmark, error). */
static int
api_watch_send_own(struct api_watch *w, struct evbuffer *ev)
{
	int	rc;

	rc = api_stream_send(w->st, ev, 0);
	evbuffer_free(ev);
	return rc;
}

/* A BOOKMARK at rev; initial marks the end of the initial events. */
static void
api_watch_bookmark_send(struct api_watch *w, uint64_t rev, int initial)
{
	struct evbuffer	*ev;
	char		 apiv[128];

	if ((ev = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	api_kube_api_version(w->q.kind, apiv, sizeof(apiv));
	evbuffer_add_printf(ev, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
	    "\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
	    "\"%" PRIu64 "\"%s}}}\n", w->q.kind->kind, apiv, rev, initial ?
	    ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
	api_stream_frame(ev);
	api_watch_send_own(w, ev);
}

/* The revision every change before has reached this watch by. */
static uint64_t
api_watch_rev(struct api_watch *w)
{
	return w->hub->rev > w->since ? w->hub->rev : w->since;
}

/* Frees the closed watches on a later loop turn. */
static void
api_watch_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_watch_hub	*hub = arg;
	struct api_watch	*w;

	(void)fd;
	(void)what;
	while ((w = TAILQ_FIRST(&hub->dead)) != NULL) {
		TAILQ_REMOVE(&hub->dead, w, entry);
		api_select_free(w->q.labels);
		api_select_free(w->q.fields);
		free(w->q.ns);
		free(w->q.name);
		free(w->q.prefix);
		free(w->pos);
		free(w->logpos);
		free(w);
	}
}

/*
 * Logs the change (at debug: watches come and go with their clients);
 * closed takes the watch off its kind and queues it to be freed.
 */
static void
api_watch_enter(struct api_watch *w, enum api_watch_state next,
    const char *why)
{
	struct api_watch_hub	*hub = w->hub;

	log_debug("watch %s %s: %s -> %s (%s)", w->q.kind->resource, w->peer,
	    api_watch_state_names[w->state], api_watch_state_names[next], why);
	if (w->state == API_WATCH_LIVE)
		TAILQ_REMOVE(&hub->kinds[api_watch_kind_index(w->q.kind)], w,
		    entry);
	if (w->state == API_WATCH_REPLAY) {
		TAILQ_REMOVE(&hub->replaying, w, entry);
		store_snap_free(w->snap);
		w->snap = NULL;
		if (w->st != NULL)
			api_stream_pump(w->st, NULL, NULL);
	}
	if (next == API_WATCH_LIVE)
		TAILQ_INSERT_TAIL(&hub->kinds[api_watch_kind_index(w->q.kind)],
		    w, entry);
	w->state = next;
	if (next != API_WATCH_CLOSED)
		return;
	evtimer_del(&w->timeout);
	evtimer_del(&w->bookmark);
	w->st = NULL;
	hub->n--;
	TAILQ_INSERT_TAIL(&hub->dead, w, entry);
	clock_timer_add(&hub->reap, 0);
}

/* The ERROR event of a resourceVersion the store no longer reaches. */
static void
api_watch_expired(struct api_watch *w)
{
	struct evbuffer	*ev;
	char		*msg, *st;

	xasprintf(&msg, "too old resource version: %" PRIu64 " (%" PRIu64 ")",
	    w->q.rv, store_log_first(w->hub->api->store) + 1);
	st = json_status(410, "Expired", msg);
	if ((ev = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evbuffer_add_printf(ev, "{\"type\":\"ERROR\",\"object\":%s}\n", st);
	api_stream_frame(ev);
	api_watch_send_own(w, ev);
	free(st);
	free(msg);
}

/* The one place a watch's state changes. */
static void
api_watch_fsm(struct api_watch *w, enum api_watch_event ev, const char *why)
{
	switch (w->state) {
	case API_WATCH_REPLAY:
		if (ev == API_WATCH_EV_START) {
			api_watch_enter(w, API_WATCH_LIVE, why);
			break;
		}
		if (ev == API_WATCH_EV_EXPIRED)
			api_watch_expired(w);
		if (ev != API_WATCH_EV_GONE)
			api_stream_end(w->st);
		api_watch_enter(w, API_WATCH_CLOSED, why);
		break;
	case API_WATCH_LIVE:
		switch (ev) {
		case API_WATCH_EV_START:
		case API_WATCH_EV_EXPIRED:
			break;
		case API_WATCH_EV_TIMEOUT:
			if (w->q.bookmarks)
				api_watch_bookmark_send(w, api_watch_rev(w), 0);
			api_stream_end(w->st);
			api_watch_enter(w, API_WATCH_CLOSED, why);
			break;
		case API_WATCH_EV_OVERFLOW:
			/* the stream logged it, rate-limited; the client lists */
			api_watch_enter(w, API_WATCH_CLOSED, why);
			break;
		case API_WATCH_EV_GONE:
			api_watch_enter(w, API_WATCH_CLOSED, why);
			break;
		case API_WATCH_EV_SHUTDOWN:
			api_stream_close(w->st, why);
			api_watch_enter(w, API_WATCH_CLOSED, why);
			break;
		}
		break;
	case API_WATCH_CLOSED:
		break;
	}
}

/* The stream closed under the watch: the client left or stalled. */
static void
api_watch_stream_cb(struct api_stream *st, const char *why, void *arg)
{
	(void)st;
	api_watch_fsm(arg, API_WATCH_EV_GONE, why);
}

static void
api_watch_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_watch_fsm(arg, API_WATCH_EV_TIMEOUT, "timeout");
}

/* A periodic bookmark, then the next. */
static void
api_watch_bookmark_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_watch	*w = arg;

	(void)fd;
	(void)what;
	/* while replaying, the hub's revision is ahead of what went out */
	if (w->state == API_WATCH_LIVE)
		api_watch_bookmark_send(w, api_watch_rev(w), 0);
	clock_timer_add(&w->bookmark, API_WATCH_BOOKMARK_SECS * 1000);
}

/* Whether a change is one the watch selects (a delete by its last value). */
static int
api_watch_selects(struct api_watch *w, const struct store_change *ch)
{
	const char	*js = ch->val != NULL ? ch->val : ch->old;
	size_t		 len = ch->val != NULL ? ch->len : ch->oldlen;

	if (strncmp(ch->key, w->q.prefix, strlen(w->q.prefix)) != 0)
		return 0;
	if (js == NULL) {
		js = "{}";
		len = 2;
	}
	return api_list_match(&w->q, ch->key, js, len);
}

/*
 * What a live change is to one watch, as the apiserver's watch cache has
 * it: a modification that takes an object into the selection is ADDED,
 * out of it DELETED (with the object as it was), within it MODIFIED.
 * -1 when the watch does not see the change at all.
 */
static int
api_watch_what(struct api_watch *w, const struct store_change *ch)
{
	int	now, was;

	if (strncmp(ch->key, w->q.prefix, strlen(w->q.prefix)) != 0)
		return -1;
	if (ch->type == STORE_CHANGE_DELETED || ch->val == NULL)
		return api_watch_selects(w, ch) ? STORE_CHANGE_DELETED : -1;
	now = api_list_match(&w->q, ch->key, ch->val, ch->len);
	if (ch->old == NULL || (api_select_empty(w->q.labels) &&
	    api_select_empty(w->q.fields)))
		return now ? (int)ch->type : -1;
	was = api_list_match(&w->q, ch->key, ch->old, ch->oldlen);
	if (now)
		return was ? STORE_CHANGE_MODIFIED : STORE_CHANGE_ADDED;
	return was ? STORE_CHANGE_DELETED : -1;
}

/* The shared event of a change as type, in the watch's format. */
static struct evbuffer *
api_watch_fan_event(struct api_watch_fan *fan, int type, int table)
{
	const struct store_change	*ch = fan->ch;
	struct evbuffer			**ev = &fan->ev[type][table != 0];
	const char			*js = ch->val;
	size_t				 len = ch->len;

	if (*ev == NULL) {
		/* a DELETED event carries the object as it was */
		if (type == STORE_CHANGE_DELETED && ch->old != NULL) {
			js = ch->old;
			len = ch->oldlen;
		}
		if (js == NULL) {
			js = "{}";
			len = 2;
		}
		*ev = api_watch_event(fan->kind, table, api_watch_type(type),
		    js, len, ch->revision);
	}
	return *ev;
}

/* The store subscription: every object change, on the loop. */
static void
api_watch_change_cb(const struct store_change *ch, void *arg)
{
	struct api_watch_hub	*hub = arg;
	struct api_watch_fan	 fan;
	struct api_watch	*w, *next;
	const struct api_kind	*k;
	int			 type, i;

	if (ch->revision > hub->rev)
		hub->rev = ch->revision;
	if ((k = api_kube_kind_of(ch->key)) == NULL)
		return;
	memset(&fan, 0, sizeof(fan));
	fan.ch = ch;
	fan.kind = k;
	for (w = TAILQ_FIRST(&hub->kinds[api_watch_kind_index(k)]); w != NULL;
	    w = next) {
		next = TAILQ_NEXT(w, entry);
		if (ch->revision <= w->since ||
		    (type = api_watch_what(w, ch)) == -1)
			continue;
		if (api_stream_send(w->st, api_watch_fan_event(&fan, type,
		    w->q.table), 1) == -1)
			api_watch_fsm(w, API_WATCH_EV_OVERFLOW, "send buffer "
			    "full");
	}
	for (i = 0; i < 6; i++)
		if (fan.ev[i / 2][i % 2] != NULL)
			evbuffer_free(fan.ev[i / 2][i % 2]);
}

/* Replay of a current object as ADDED; stops once the client lags. */
static int
api_watch_initial_cb(const char *key, const char *js, size_t len,
    uint64_t rev, void *arg)
{
	struct api_watch	*w = arg;

	if (!api_list_match(&w->q, key, js, len))
		return 0;
	api_watch_send_own(w, api_watch_event(w->q.kind, w->q.table, "ADDED",
	    js, len, rev != 0 ? rev : 1));
	if (!api_stream_full(w->st))
		return 0;
	free(w->pos);
	w->pos = xstrdup(key);
	w->full = 1;
	return 1;
}

/* Replay of one logged change; stops once the client lags. */
static int
api_watch_log_cb(const struct store_change *ch, void *arg)
{
	struct api_watch	*w = arg;

	if (!api_watch_selects(w, ch))
		return 0;
	api_watch_send_own(w, api_watch_event(w->q.kind, w->q.table,
	    api_watch_type(ch->type), ch->val != NULL ? ch->val : ch->old !=
	    NULL ? ch->old : "{}", ch->val != NULL ? ch->len : ch->old !=
	    NULL ? ch->oldlen : 2, ch->revision));
	w->told = ch->revision;
	return api_stream_full(w->st);
}

/*
 * The ADDED objects from the snapshot, as far as the client lets them go:
 * 1 while some are left, 0 when all are queued, -1 on a store error.
 */
static int
api_watch_replay_objects(struct api_watch *w)
{
	uint64_t	rev;

	w->full = 0;
	if (store_snap_scan(w->snap, w->q.prefix, w->pos,
	    api_watch_initial_cb, w) == -1)
		return -1;
	if (w->full)
		return 1;
	rev = store_snap_revision(w->snap);
	w->since = rev != 0 ? rev : 1;
	store_snap_free(w->snap);
	w->snap = NULL;
	if (w->q.initial_end && w->q.bookmarks)
		api_watch_bookmark_send(w, w->since, 1);
	return 0;
}

/*
 * The next part of the replay: 1 while the client holds it up, 0 when it
 * reached the store's revision, -1 when the change log no longer reaches
 * back to where it stands (expired) or the store failed.
 */
static int
api_watch_replay_step(struct api_watch *w)
{
	struct store	*store = w->hub->api->store;
	int		 rc;

	if (w->snap != NULL && (rc = api_watch_replay_objects(w)) != 0)
		return rc;
	if ((w->logpos != NULL ? w->told : w->since) < store_log_first(store))
		return -1;
	if ((rc = store_log_step(store, w->since, &w->logpos, w->q.prefix,
	    api_watch_log_cb, w)) != 0)
		return rc;
	w->since = api_list_revision(w->hub->api);
	return 0;
}

/* The client read most of what was queued: the replay goes on. */
static void
api_watch_pump_cb(struct api_stream *st, void *arg)
{
	struct api_watch	*w = arg;

	(void)st;
	switch (api_watch_replay_step(w)) {
	case -1:
		api_watch_fsm(w, API_WATCH_EV_EXPIRED, "resourceVersion not "
		    "kept");
		break;
	case 0:
		api_watch_fsm(w, API_WATCH_EV_START, "replayed");
		break;
	default:
		break;
	}
}

/*
 * Where the replay starts: a snapshot for the ADDED objects, or the
 * client's revision in the change log; -1 when that is not kept.
 */
static int
api_watch_replay_open(struct api_watch *w)
{
	struct store	*store = w->hub->api->store;
	uint64_t	 rev = api_list_revision(w->hub->api);

	if (!w->q.rv_given) {
		w->snap = store_snap_new(store);
		return 0;
	}
	if (w->q.rv < store_log_first(store) || w->q.rv > rev)
		return -1;
	w->since = w->q.rv;
	return 0;
}

/* Arms the timeout (jittered by default) and the bookmarks. */
static void
api_watch_timers(struct api_watch *w)
{
	struct api	*api = w->hub->api;
	uint64_t	 s;

	evtimer_assign(&w->timeout, api->base, api_watch_timeout_cb, w);
	evtimer_assign(&w->bookmark, api->base, api_watch_bookmark_cb, w);
	s = w->q.timeout > 0 ? (uint64_t)w->q.timeout : API_WATCH_TIMEOUT_MIN +
	    arc4random_uniform(API_WATCH_TIMEOUT_MIN);
	clock_timer_add(&w->timeout, s * 1000);
	if (w->q.bookmarks)
		clock_timer_add(&w->bookmark, API_WATCH_BOOKMARK_SECS * 1000);
}

/* Takes the connection, replays, then joins the kind's live watches. */
void
api_watch_start(struct api_req *req, struct api_query *q)
{
	struct api		*api = api_req_api(req);
	struct api_watch_hub	*hub = api->hub;
	struct api_watch	*w;
	struct bufferevent	*bev;
	size_t			 limit;

	if (hub == NULL || api_watch_kind_index(q->kind) >=
	    API_WATCH_MAX_KINDS) {
		api_reply_status(req, 503, "ServiceUnavailable", "watch is not "
		    "available");
		return;
	}
	if ((bev = api_reply_detach(req, 200, "application/json")) == NULL)
		return;
	limit = api->conf != NULL && api->conf->api_watch_buffer > 0 ?
	    (size_t)api->conf->api_watch_buffer : API_STREAM_LIMIT;
	w = xcalloc(1, sizeof(*w));
	w->hub = hub;
	w->q = *q;
	w->q.cont = NULL;
	memset(q, 0, sizeof(*q));
	w->state = API_WATCH_REPLAY;
	TAILQ_INSERT_TAIL(&hub->replaying, w, entry);
	snprintf(w->peer, sizeof(w->peer), "%s", api_req_peer(req));
	w->st = api_stream_new(api, bev, w->peer, limit, api_watch_stream_cb,
	    w);
	hub->n++;
	api_watch_timers(w);
	if (api_watch_replay_open(w) == -1) {
		api_watch_fsm(w, API_WATCH_EV_EXPIRED, "resourceVersion not "
		    "kept");
		return;
	}
	api_stream_pump(w->st, api_watch_pump_cb, w);
	api_watch_pump_cb(w->st, w);
}

/* One subscription for all watches. */
struct api_watch_hub *
api_watch_hub_new(struct api *api)
{
	struct api_watch_hub	*hub;
	size_t			 i;

	if (api_kube_nkinds > API_WATCH_MAX_KINDS)
		fatalx("api: more kinds than watch lists");
	hub = xcalloc(1, sizeof(*hub));
	hub->api = api;
	for (i = 0; i < API_WATCH_MAX_KINDS; i++)
		TAILQ_INIT(&hub->kinds[i]);
	TAILQ_INIT(&hub->replaying);
	TAILQ_INIT(&hub->dead);
	evtimer_assign(&hub->reap, api->base, api_watch_reap_cb, hub);
	hub->rev = store_revision(api->store);
	hub->sub = store_subscribe(api->store, STORE_LOG_SCOPE,
	    api_watch_change_cb, hub);
	return hub;
}

/* Ends every watch and frees the hub; accepts NULL. */
void
api_watch_hub_free(struct api_watch_hub *hub)
{
	struct api_watch	*w;
	size_t			 i;

	if (hub == NULL)
		return;
	for (i = 0; i < API_WATCH_MAX_KINDS; i++)
		while ((w = TAILQ_FIRST(&hub->kinds[i])) != NULL)
			api_watch_fsm(w, API_WATCH_EV_SHUTDOWN, "shutting "
			    "down");
	while ((w = TAILQ_FIRST(&hub->replaying)) != NULL)
		api_watch_fsm(w, API_WATCH_EV_SHUTDOWN, "shutting down");
	evtimer_del(&hub->reap);
	api_watch_reap_cb(-1, 0, hub);
	store_unsubscribe(hub->sub);
	free(hub);
}
