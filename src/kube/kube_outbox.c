/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox sender: the consumer of the x/ key family (store_outbox.h).
 * Rooms add their upstream writes (pod status, pod deletion, mirror pods,
 * Device status, Events) to the store in the same batch as the state they
 * come from; this file scans x/ when it starts and subscribes to it for
 * new records, and never builds a body. Each target has at most one
 * request in flight. A 2xx answer, or a permanent failure (the object is
 * gone, a precondition failed, the write is invalid), deletes the record,
 * but only if the stored one is still the one sent (its revision): a
 * newer record that replaced it meanwhile is sent next. A 409 to an Event
 * means an earlier send got through before a crash: delivered. A 5xx or
 * 429 retries with back-off, obeying Retry-After (coming back online does
 * not cut that short); a transport failure waits for the apiserver,
 * probing it now and then with one entry. The outbox never rewrites a
 * record (its own write would wake its subscription): attempts are
 * counted in memory. Event records are bounded (KUBE_OUTBOX_MAX_EVENTS):
 * past it the oldest are deleted, logged and counted; no other record is
 * ever dropped. This file owns struct kube_outbox and its entries.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/xmalloc.h"
#include "kube/kube.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"
#include "store/store.h"
#include "store/store_outbox.h"

#define KUBE_OUTBOX_PREFIX	STORE_KEY_OUTBOX
/* Event records kept at most; older ones are deleted past it. */
#define KUBE_OUTBOX_MAX_EVENTS	1000
/* At most one log line per this many ms about dropped events. */
#define KUBE_OUTBOX_DROP_LOG_MS	10000
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
	uint64_t		 rev;		/* revision of the newest record seen */
	uint64_t		 sent_rev;	/* revision of the record sent */
	uint64_t		 attempts;	/* failed sends of this target */
	int			 is_event;
};
TAILQ_HEAD(kube_outbox_entries, kube_outbox_entry);

struct kube_outbox {
	struct kube			*k;
	struct kube_outbox_entries	 entries;
	size_t				 inflight;
	struct event			*probe;
	struct backoff			 probe_bo;
	struct event			*reap;
	struct store_sub		*sub;
	size_t				 nevents;	/* event entries not done */
	struct ratelimit		 drop_rl;	/* logs of dropped events */
	struct kube_outbox_stats	 stats;
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

/* A new queued entry for target, whose record has revision rev. */
static struct kube_outbox_entry *
kube_outbox_entry_new(struct kube_outbox *ob, const char *target,
    uint64_t rev)
{
	struct kube_outbox_entry	*e;

	e = xcalloc(1, sizeof(*e));
	e->ob = ob;
	e->target = xstrdup(target);
	e->key = store_key_outbox(target);
	e->state = KUBE_OUTBOX_QUEUED;
	e->rev = rev;
	e->is_event = strncmp(target, STORE_OUTBOX_EVENTS,
	    strlen(STORE_OUTBOX_EVENTS)) == 0;
	if (e->is_event)
		ob->nevents++;
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
	if (e->is_event && e->state != KUBE_OUTBOX_DONE)
		e->ob->nevents--;
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
	else if (s == 409 && e->is_event) {
		/* sent before a crash, or before its answer was lost */
		log_debug("outbox %s: already posted", e->target);
		ev = KUBE_OUTBOX_EV_OK;
	} else if (s == 400 || s == 404 || s == 405 || s == 409 || s == 410 ||
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
 * Reads the entry's record from the store and starts it. -1 when the
 * record is gone or unusable (a damaged one is deleted).
 */
static int
kube_outbox_entry_send(struct kube_outbox_entry *e)
{
	struct kube_outbox	*ob = e->ob;
	struct store_outbox_rec	 rec;
	const char		*errstr;
	char			*val;
	size_t			 len;
	uint64_t		 rev;
	int			 rc;

	if ((rc = store_get_rev(ob->k->store, e->key, &val, &len,
	    &rev)) != 0) {
		if (rc == -1)
			log_warnx("outbox %s: cannot read it, left for the "
			    "next start", e->target);
		return -1;
	}
	rc = store_outbox_parse(val, len, &rec, &errstr);
	free(val);
	if (rc == -1) {
		log_warnx("outbox %s: damaged record (%s), dropping",
		    e->target, errstr);
		ob->stats.damaged++;
		store_delete(ob->k->store, e->key);
		return -1;
	}
	free(e->method);
	e->method = rec.method;
	free(e->path);
	e->path = rec.path;
	e->sent_rev = e->rev = rev;
	e->req = kube_http_request(ob->k->client, rec.method, rec.path,
	    rec.body, rec.content_type, 0, kube_outbox_entry_done_cb, e);
	ob->inflight++;
	free(rec.content_type);
	free(rec.body);
	return 0;
}

/*
 * The store could not delete a delivered record: the entry stays and is
 * sent again after a back-off (the writes are idempotent: a PATCH of the
 * same status, a delete answered 404, an Event answered 409), so the
 * record in the store and the entry never part. The store logs and
 * counts the failure and shows it on /readyz.
 */
static void
kube_outbox_entry_undeleted(struct kube_outbox_entry *e)
{
	uint64_t	delay = backoff_next(&e->bo);

	e->attempts++;
	e->ob->stats.retries++;
	log_debug("outbox %s: delivered, but its record could not be "
	    "deleted; sending again in %llu ms", e->target,
	    (unsigned long long)delay);
	kube_outbox_enter_state(e, KUBE_OUTBOX_WAITING, "store write failed");
	clock_timer_add(e->timer, delay);
}

/*
 * The write was delivered or refused for good: delete it from the store,
 * unless a newer one replaced it meanwhile, which is then sent.
 */
static void
kube_outbox_entry_finish(struct kube_outbox_entry *e, const char *why)
{
	struct store	*st = e->ob->k->store;
	char		*val;
	size_t		 len;
	uint64_t	 rev;
	int		 rc;

	if ((rc = store_get_rev(st, e->key, &val, &len, &rev)) == 0) {
		free(val);
		if (rev != e->sent_rev) {
			e->rev = rev;
			e->attempts = 0;
			kube_outbox_enter_state(e, KUBE_OUTBOX_QUEUED,
			    "replaced");
			return;
		}
		if (store_delete(st, e->key) == -1) {
			kube_outbox_entry_undeleted(e);
			return;
		}
	}
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
	e->ob->stats.refused++;
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
	e->attempts++;
	e->ob->stats.retries++;
	log_warnx("outbox %s: %s %s: HTTP %d %s, attempt %" PRIu64
	    ", retrying in %llu ms", e->target, e->method, e->path,
	    e->resp->status, log_escape(e->resp->body, e->resp->len, esc,
	    sizeof(esc)), e->attempts, (unsigned long long)delay);
	kube_outbox_enter_state(e, KUBE_OUTBOX_WAITING, "retry");
	clock_timer_add(e->timer, delay);
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
			e->ob->stats.sent++;
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
			e->attempts++;
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
 * reachable, Events last so a backlog of them does not hold up a pod's
 * status; otherwise, with entries left and nothing in flight, arms the
 * probe with back-off.
 */
static void
kube_outbox_drain(struct kube_outbox *ob, int reachable)
{
	struct kube_outbox_entry	*e, *next;
	int				 queued = 0, events;

	if (reachable) {
		backoff_reset(&ob->probe_bo);
		for (events = 0; events < 2; events++) {
			for (e = TAILQ_FIRST(&ob->entries); e != NULL;
			    e = next) {
				next = TAILQ_NEXT(e, entry);
				if (e->state != KUBE_OUTBOX_QUEUED ||
				    e->is_event != events)
					continue;
				if (ob->inflight >= KUBE_OUTBOX_MAX_INFLIGHT)
					return;
				kube_outbox_entry_fsm(e, KUBE_OUTBOX_EV_SEND);
			}
		}
		return;
	}
	TAILQ_FOREACH(e, &ob->entries, entry) {
		if (e->state == KUBE_OUTBOX_QUEUED)
			queued = 1;
	}
	if (queued && ob->inflight == 0 && !evtimer_pending(ob->probe, NULL))
		clock_timer_add(ob->probe, backoff_next(&ob->probe_bo));
}

/* The oldest event entry not in flight, or NULL. */
static struct kube_outbox_entry *
kube_outbox_oldest_event(struct kube_outbox *ob)
{
	struct kube_outbox_entry	*e, *old = NULL;

	TAILQ_FOREACH(e, &ob->entries, entry) {
		if (e->is_event && (e->state == KUBE_OUTBOX_QUEUED ||
		    e->state == KUBE_OUTBOX_WAITING) &&
		    (old == NULL || e->rev < old->rev))
			old = e;
	}
	return old;
}

/* Logs dropped events, at most once every KUBE_OUTBOX_DROP_LOG_MS. */
static void
kube_outbox_log_drop(struct kube_outbox *ob, const char *target)
{
	uint64_t	quiet;

	if (!ratelimit_pass(&ob->drop_rl, clock_mono_ms(), &quiet))
		return;
	log_warnx("outbox: more than %d events waiting, dropped %" PRIu64
	    " of the oldest (last %s)", KUBE_OUTBOX_MAX_EVENTS,
	    quiet + 1, target);
}

/* Past KUBE_OUTBOX_MAX_EVENTS, the oldest event records go. */
static void
kube_outbox_bound_events(struct kube_outbox *ob)
{
	struct kube_outbox_entry	*e;

	while (ob->nevents > KUBE_OUTBOX_MAX_EVENTS &&
	    (e = kube_outbox_oldest_event(ob)) != NULL) {
		store_delete(ob->k->store, e->key);
		ob->stats.events_dropped++;
		kube_outbox_log_drop(ob, e->target);
		kube_outbox_entry_done(e, "too many events");
	}
}

/* A record for target, of revision rev, is in the store. */
static void
kube_outbox_record(struct kube_outbox *ob, const char *target, uint64_t rev)
{
	struct kube_outbox_entry	*e;

	if (*target == '\0')
		return;
	if ((e = kube_outbox_find(ob, target)) == NULL) {
		e = kube_outbox_entry_new(ob, target, rev);
		if (e->is_event)
			kube_outbox_bound_events(ob);
	} else if (rev > e->rev) {
		/* one in flight is compared with the store when it ends */
		e->rev = rev;
		e->attempts = 0;
	}
}

/* Scan of x/ at start: one queued entry per stored record. */
static int
kube_outbox_scan_cb(const char *key, const char *val, size_t len,
    uint64_t rev, void *arg)
{
	kube_outbox_record(arg, key + strlen(KUBE_OUTBOX_PREFIX), rev);
	return 0;
}

/*
 * A record was added, replaced or deleted (by a room, or by this file:
 * its own deletes find their entry done already).
 */
static void
kube_outbox_change_cb(const struct store_change *ch, void *arg)
{
	struct kube_outbox		*ob = arg;
	struct kube_outbox_entry	*e;
	const char			*target;

	target = ch->key + strlen(KUBE_OUTBOX_PREFIX);
	if (ch->type != STORE_CHANGE_DELETED) {
		log_trace(LOG_SUB_KUBE, "outbox %s: record at revision %"
		    PRIu64, target, ch->revision);
		kube_outbox_record(ob, target, ch->revision);
		kube_outbox_drain(ob, ob->k->online);
		return;
	}
	/* withdrawn: one in flight finds it gone when it ends */
	e = kube_outbox_find(ob, target);
	if (e != NULL && (e->state == KUBE_OUTBOX_QUEUED ||
	    e->state == KUBE_OUTBOX_WAITING))
		kube_outbox_entry_done(e, "withdrawn");
}

struct kube_outbox *
kube_outbox_new(struct kube *k)
{
	struct kube_outbox		*ob;
	struct kube_outbox_entry	*e;
	size_t				 n = 0;

	ob = xcalloc(1, sizeof(*ob));
	ob->drop_rl.period_ms = KUBE_OUTBOX_DROP_LOG_MS;
	ob->k = k;
	TAILQ_INIT(&ob->entries);
	ob->probe = evtimer_new(k->base, kube_outbox_probe_cb, ob);
	ob->reap = event_new(k->base, -1, 0, kube_outbox_reap_cb, ob);
	if (ob->probe == NULL || ob->reap == NULL)
		fatalx("outbox: cannot create events");
	backoff_init(&ob->probe_bo, KUBE_OUTBOX_PROBE_MIN_MS,
	    KUBE_OUTBOX_PROBE_MAX_MS, KUBE_OUTBOX_STABLE_MS);
	/* subscribed first: nothing committed after the scan is missed */
	ob->sub = store_subscribe(k->store, KUBE_OUTBOX_PREFIX,
	    kube_outbox_change_cb, ob);
	if (store_scan_rev(k->store, KUBE_OUTBOX_PREFIX, NULL,
	    kube_outbox_scan_cb, ob) == -1)
		log_warnx("outbox: cannot scan the store, older writes wait");
	TAILQ_FOREACH(e, &ob->entries, entry)
		if (e->state != KUBE_OUTBOX_DONE)
			n++;
	if (n > 0) {
		log_info("outbox: %zu writes kept from before", n);
		/* Try at once, on the loop: online or not, one probe tells. */
		clock_timer_add(ob->probe, 0);
	}
	return ob;
}

void
kube_outbox_free(struct kube_outbox *ob)
{
	struct kube_outbox_entry	*e;

	if (ob == NULL)
		return;
	store_unsubscribe(ob->sub);
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

/* The counters, and the entries waiting now. */
void
kube_outbox_get_stats(struct kube_outbox *ob, struct kube_outbox_stats *st)
{
	struct kube_outbox_entry	*e;

	*st = ob->stats;
	st->queued = 0;
	st->events = ob->nevents;
	TAILQ_FOREACH(e, &ob->entries, entry)
		if (e->state != KUBE_OUTBOX_DONE)
			st->queued++;
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

