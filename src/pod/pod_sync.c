/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One state machine per pod: observe what the runtime has of the pod
 * (its sandboxes and containers, by the pod uid label), decide what to do
 * (pod_plan.c), do it (pod_run.c: runtime calls, several at once), then
 * observe again; when nothing is left to do, wait for a kick (the stored
 * pod or a referenced object changed, a relist saw the runtime change, a
 * probe changed its verdict) or a timer (a back-off ends, the periodic
 * resync). The planner only decides: the machine keeps the notes it
 * reads (per container: back-off, waiting reason, last event told; the
 * termination deadline, the mount retry) and applies the updates the plan
 * asks for. After each observation the pod's status is computed and,
 * when it changed, stored under p/<ns>/<name> together with, in cluster
 * mode, its outbox record (x/pods/<ns>/<name>/status) in one batch: both
 * or neither. Events the machine tells are outbox records too. A pod no
 * longer stored is terminated and removed: once nothing of it runs, its
 * folders are removed a few entries per loop turn (ENDING), then its
 * status is forgotten and, in a cluster, its deletion confirmed (one
 * batch); the machine ends in DONE and the room frees it on a later loop
 * turn.
 *
 * States: IDLE (nothing in flight), OBSERVING (lists and statuses in
 * flight), ACTING (runtime calls in flight), ENDING (folders being
 * removed), DONE. Events: KICK, TIMER, OBSERVED, OBSERVE_FAILED, ACTED,
 * CLEANED.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_cri.h"
#include "pod/pod_sync.h"
#include "store/store.h"
#include "store/store_outbox.h"

#define POD_SYNC_RESYNC_MS	20000
#define POD_SYNC_RETRY_MIN_MS	1000
#define POD_SYNC_RETRY_MAX_MS	30000
#define POD_SYNC_SANDBOX_MAX_MS	60000

static const char *const pod_sync_state_names[] = {
	"idle", "observing", "acting", "ending", "done",
};

static const char *const pod_sync_event_names[] = {
	"kick", "timer", "observed", "observe failed", "acted", "cleaned",
};

static void	pod_sync_fsm(struct pod_sync *, enum pod_sync_event);

/* Logs a change of state. */
static void
pod_sync_enter_state(struct pod_sync *ps, enum pod_sync_state st,
    enum pod_sync_event ev)
{
	if (ps->state == st)
		return;
	log_trace(LOG_SUB_CRI, "%s: %s -> %s (%s)", ps->label,
	    pod_sync_state_names[ps->state], pod_sync_state_names[st],
	    pod_sync_event_names[ev]);
	ps->state = st;
}

/* Arms the timer in ms (replacing any earlier arming). */
void
pod_sync_arm(struct pod_sync *ps, uint64_t ms)
{
	clock_timer_add(ps->ev_timer, ms);
}

/* A back-off ended, or the resync is due. */
static void
pod_sync_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_sync_fsm(arg, POD_SYNC_EV_TIMER);
}

/* A deferred kick. */
static void
pod_sync_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_sync_fsm(arg, POD_SYNC_EV_KICK);
}

/* Asks for an observation soon (coalesced). */
void
pod_sync_kick(struct pod_sync *ps)
{
	if (ps->state == POD_SYNC_DONE || ps->state == POD_SYNC_ENDING)
		return;
	/* on a later loop turn: kicks come from inside callbacks */
	event_active(ps->ev_kick, EV_TIMEOUT, 0);
}

/* The notes on container name, made on first use. */
struct pod_ctr *
pod_sync_ctr(struct pod_sync *ps, const char *name)
{
	struct pod_ctr	*c;
	size_t		 i;

	if (name == NULL)
		name = "";
	for (i = 0; i < ps->nctrs; i++)
		if (strcmp(ps->ctrs[i].name, name) == 0)
			return &ps->ctrs[i];
	ps->ctrs = xreallocarray(ps->ctrs, ps->nctrs + 1, sizeof(*ps->ctrs));
	c = &ps->ctrs[ps->nctrs++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	return c;
}

/* Stops the probes of a container's notes. */
void
pod_sync_ctr_probes_stop(struct pod_ctr *c)
{
	int	i;

	for (i = 0; i < 3; i++) {
		pod_probe_free(c->probe[i]);
		c->probe[i] = NULL;
	}
	free(c->probe_cid);
	c->probe_cid = NULL;
	c->ready = c->started = c->unhealthy = 0;
}

/* Sets why a container waits (NULL: it does not). */
void
pod_sync_ctr_wait(struct pod_ctr *c, const char *reason, const char *msg)
{
	free(c->reason);
	free(c->message);
	c->reason = reason != NULL ? xstrdup(reason) : NULL;
	c->message = msg != NULL ? xstrdup(msg) : NULL;
}

/* Frees the notes of every container. */
static void
pod_sync_ctrs_free(struct pod_sync *ps)
{
	size_t	i;

	for (i = 0; i < ps->nctrs; i++) {
		pod_sync_ctr_probes_stop(&ps->ctrs[i]);
		pod_sync_ctr_wait(&ps->ctrs[i], NULL, NULL);
		free(ps->ctrs[i].name);
		free(ps->ctrs[i].last_event);
	}
	free(ps->ctrs);
	ps->ctrs = NULL;
	ps->nctrs = 0;
}

/* Whether the stored object asks for the pod to go. */
int
pod_sync_deleting(const struct pod_sync *ps)
{
	return ps->pod == NULL || !ps->stored ||
	    json_get_string(ps->pod, "metadata.deletionTimestamp") != NULL;
}

/* The status key of the pod. */
static char *
pod_sync_status_key(const struct pod_sync *ps)
{
	return store_key_pod_status(ps->ns, ps->name);
}

/* The stored status of this uid, if any, to keep its times. */
static void
pod_sync_load_status(struct pod_sync *ps)
{
	const char	*errstr, *uid;
	cJSON		*root;
	char		*key, *val;
	size_t		 len;

	key = pod_sync_status_key(ps);
	if (store_get(ps->room->store, key, &val, &len) != 0) {
		free(key);
		return;
	}
	free(key);
	root = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	uid = json_get_string(root, "uid");
	if (uid != NULL && strcmp(uid, ps->uid) == 0 &&
	    cJSON_IsObject(json_get(root, "status")))
		ps->status = cJSON_DetachItemFromObjectCaseSensitive(root,
		    "status");
	cJSON_Delete(root);
}

/* Checks the spec once per version of the stored object. */
static void
pod_sync_validate(struct pod_sync *ps)
{
	ps->invalid = 0;
	ps->invalid_msg[0] = '\0';
	if (ps->pod == NULL)
		return;
	if (pod_spec_validate(ps->pod, ps->invalid_msg,
	    sizeof(ps->invalid_msg)) == -1) {
		ps->invalid = 1;
		log_warnx("%s: cannot run: %s", ps->label, ps->invalid_msg);
		pod_sync_event(ps, "Warning", "FailedValidation", NULL,
		    "Error validating pod: %s", ps->invalid_msg);
	}
}

/* A machine for a stored pod, or an orphan (pod NULL); it starts at once. */
struct pod_sync *
pod_sync_new(struct pod_room *room, const char *key, cJSON *pod,
    const char *uid, const char *ns, const char *name)
{
	struct pod_sync	*ps;

	ps = xcalloc(1, sizeof(*ps));
	ps->room = room;
	ps->uid = xstrdup(uid);
	ps->key = key != NULL ? xstrdup(key) : NULL;
	ps->ns = xstrdup(ns);
	ps->name = xstrdup(name);
	xasprintf(&ps->label, "pod %s/%s", ns, name);
	ps->is_static = key != NULL && strncmp(key, STORE_KEY_STATIC,
	    strlen(STORE_KEY_STATIC)) == 0;
	ps->pod = pod;
	ps->stored = pod != NULL;
	TAILQ_INIT(&ps->ops);
	backoff_init(&ps->retry, POD_SYNC_RETRY_MIN_MS, POD_SYNC_RETRY_MAX_MS,
	    POD_SYNC_RESYNC_MS);
	backoff_init(&ps->sandbox_retry, POD_SYNC_RETRY_MIN_MS,
	    POD_SYNC_SANDBOX_MAX_MS, POD_SYNC_SANDBOX_MAX_MS);
	if ((ps->ev_timer = evtimer_new(room->base, pod_sync_timer_cb,
	    ps)) == NULL || (ps->ev_kick = event_new(room->base, -1, 0,
	    pod_sync_kick_cb, ps)) == NULL)
		fatalx("pods: cannot create events");
	if (pod != NULL) {
		pod_sync_load_status(ps);
		log_info("%s: uid %s%s", ps->label, uid, ps->is_static ?
		    ", static" : "");
	}
	pod_sync_validate(ps);
	pod_sync_kick(ps);
	return ps;
}

/* Cancels the calls and probes in flight and frees the machine. */
void
pod_sync_free(struct pod_sync *ps)
{
	if (ps == NULL)
		return;
	pod_run_cancel_all(ps);
	pod_sync_ctrs_free(ps);
	event_free(ps->ev_timer);
	event_free(ps->ev_kick);
	if (ps->ev_step != NULL)
		event_free(ps->ev_step);
	pod_plan_clear(&ps->end);
	pod_observed_clear(&ps->obs);
	pod_observed_clear(&ps->next);
	cJSON_Delete(ps->pod);
	cJSON_Delete(ps->status);
	free(ps->fingerprint);
	free(ps->mount_err);
	free(ps->uid);
	free(ps->key);
	free(ps->ns);
	free(ps->name);
	free(ps->label);
	free(ps);
}

/* The stored object changed, or was deleted (pod NULL). */
void
pod_sync_update(struct pod_sync *ps, cJSON *pod)
{
	if (pod == NULL) {
		if (ps->stored && ps->state != POD_SYNC_DONE &&
		    ps->state != POD_SYNC_ENDING)
			log_info("%s: deleted, terminating", ps->label);
		ps->stored = 0;
		if (ps->state == POD_SYNC_DONE)
			pod_room_reap(ps->room);
		pod_sync_kick(ps);
		return;
	}
	ps->stored = 1;
	if (ps->state == POD_SYNC_DONE || ps->state == POD_SYNC_ENDING) {
		cJSON_Delete(pod);
		return;
	}
	cJSON_Delete(ps->pod);
	ps->pod = pod;
	pod_sync_validate(ps);
	pod_sync_kick(ps);
}

/* A configmap or secret of the namespace changed: retry what it blocked. */
void
pod_sync_refs_changed(struct pod_sync *ps)
{
	size_t	i;

	for (i = 0; i < ps->nctrs; i++)
		ps->ctrs[i].config_retry = 0;
	ps->mount_retry = 0;
	pod_sync_kick(ps);
}

/* A relist saw the runtime objects change: look again. */
void
pod_sync_relisted(struct pod_sync *ps, const char *fp)
{
	if (ps->fingerprint != NULL && strcmp(ps->fingerprint, fp) == 0)
		return;
	free(ps->fingerprint);
	ps->fingerprint = xstrdup(fp);
	pod_sync_kick(ps);
}

/* The object events are about: the pod, or its mirror for a static pod. */
static void
pod_sync_objref(struct pod_sync *ps, struct store_outbox_ref *ref,
    const char *fieldpath, char **mirror)
{
	memset(ref, 0, sizeof(*ref));
	ref->api_version = "v1";
	ref->kind = "Pod";
	ref->ns = ps->ns;
	ref->name = ps->name;
	ref->uid = ps->uid;
	ref->field_path = fieldpath;
	*mirror = NULL;
	if (ps->is_static && (*mirror = pod_static_mirror_uid(ps->room,
	    ps->ns, ps->name, ps->uid)) != NULL)
		ref->uid = *mirror;
}

/* Logs an event and, in a cluster, records it for upstream. */
void
pod_sync_event(struct pod_sync *ps, const char *type, const char *reason,
    const char *fieldpath, const char *fmt, ...)
{
	struct store_outbox_ref	 ref;
	struct store_batch	*b;
	struct timespec		 now;
	va_list			 ap;
	char			*msg, *mirror;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("pods: out of memory");
	va_end(ap);
	if (strcmp(type, "Warning") == 0)
		log_info("%s: %s: %s", ps->label, reason, msg);
	else
		log_debug("%s: %s: %s", ps->label, reason, msg);
	if (ps->room->cluster && ps->pod != NULL) {
		pod_sync_objref(ps, &ref, fieldpath, &mirror);
		clock_gettime(CLOCK_REALTIME, &now);
		b = store_batch_new(ps->room->store);
		if (store_outbox_event(b, ps->ns, &ref,
		    ps->room->node.node_name, type, reason, msg, &now) == -1)
			log_debug("%s: event %s not recorded: bad name",
			    ps->label, reason);
		store_batch_commit(b);
		free(mirror);
	}
	free(msg);
}

/* The first container of a list named name, or NULL. */
const cJSON *
pod_sync_container_spec(const struct pod_sync *ps, const char *name,
    int *init)
{
	return pod_spec_container(ps->pod, name, init);
}

/* The pod IP of the ready sandbox, or NULL. */
const char *
pod_sync_pod_ip(struct pod_sync *ps)
{
	const struct pod_sbinst	*sb = pod_observed_sandbox(&ps->obs);

	if (json_get_bool(ps->pod, "spec.hostNetwork", 0))
		return ps->room->node.host_ip;
	return sb != NULL ? sb->ip : NULL;
}

/* The context env and volumes resolve values in. */
void
pod_sync_ctx(struct pod_sync *ps, struct pod_ctx *x)
{
	const struct pod_sbinst	*sb = pod_observed_sandbox(&ps->obs);

	memset(x, 0, sizeof(*x));
	x->pod = ps->pod;
	x->node_name = ps->room->node.node_name;
	x->host_ip = ps->room->node.host_ip;
	x->pod_ip = pod_sync_pod_ip(ps);
	x->pod_ips = sb != NULL && !json_get_bool(ps->pod, "spec.hostNetwork",
	    0) ? &sb->ips : NULL;
	x->node_cpu_milli = ps->room->node.cpu_milli;
	x->node_mem = ps->room->node.mem_capacity;
	x->lookup = pod_room_lookup;
	x->arg = ps->room;
}

/* The uid status goes to upstream: the pod's, or its mirror's. */
static char *
pod_sync_upstream_uid(struct pod_sync *ps)
{
	if (!ps->is_static)
		return xstrdup(ps->uid);
	return pod_static_mirror_uid(ps->room, ps->ns, ps->name, ps->uid);
}

/*
 * Stores the status when it changed and, in a cluster, its outbox record
 * in the same batch.
 */
static void
pod_sync_status_put(struct pod_sync *ps, cJSON *st)
{
	struct store_batch	*b;
	const char		*was, *now;
	cJSON			*root;
	char			*key, *text, *stext, *uid;
	int			 queued = 1;

	stext = json_print(st);
	if (ps->status != NULL && !ps->status_dirty) {
		text = json_print(ps->status);
		if (strcmp(text, stext) == 0) {
			free(text);
			free(stext);
			cJSON_Delete(st);
			return;
		}
		free(text);
	}
	was = json_get_string(ps->status, "phase");
	now = json_get_string(st, "phase");
	if (was == NULL || now == NULL || strcmp(was, now) != 0)
		log_info("%s: phase %s", ps->label, now != NULL ? now : "?");
	log_debug("%s: status %s", ps->label, stext);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "uid", ps->uid);
	cJSON_AddItemReferenceToObject(root, "status", st);
	text = json_print(root);
	cJSON_Delete(root);
	key = pod_sync_status_key(ps);
	b = store_batch_new(ps->room->store);
	store_batch_put(b, key, text, strlen(text));
	free(key);
	free(text);
	if (ps->room->cluster && (uid = pod_sync_upstream_uid(ps)) != NULL) {
		/* refused (a bad name): tried again at the next sync */
		queued = store_outbox_pod_status(b, ps->ns, ps->name, uid,
		    stext) == 0;
		free(uid);
	}
	ps->status_dirty = store_batch_commit(b) == -1 || !queued;
	free(stext);
	cJSON_Delete(ps->status);
	ps->status = st;
}

/* The status of the pod from the last observation and the plan's notes. */
void
pod_sync_status(struct pod_sync *ps, const struct pod_plan *plan)
{
	struct pod_status_in	 in;
	struct pod_cinfo	*info;
	size_t			 i;

	/* a replaced or deleted pod no longer owns the status key */
	if (ps->pod == NULL || !ps->stored)
		return;
	info = xreallocarray(NULL, ps->nctrs + 1, sizeof(*info));
	for (i = 0; i < ps->nctrs; i++) {
		info[i].name = ps->ctrs[i].name;
		info[i].waiting_reason = ps->ctrs[i].reason;
		info[i].waiting_message = ps->ctrs[i].message;
		info[i].ready = ps->ctrs[i].ready;
		info[i].started = ps->ctrs[i].started;
	}
	memset(&in, 0, sizeof(in));
	in.pod = ps->pod;
	in.obs = &ps->obs;
	in.info = info;
	in.ninfo = ps->nctrs;
	in.host_ip = ps->room->node.host_ip;
	in.prev = ps->status;
	in.now = time(NULL);
	if (plan != NULL) {
		in.phase = plan->phase;
		in.reason = plan->reason;
		in.message = plan->message;
	}
	pod_sync_status_put(ps, pod_status_build(&in));
	free(info);
}

/* Adds the delete of the status key to b, unless a newer pod owns it. */
static void
pod_sync_status_forget(struct pod_sync *ps, struct store_batch *b)
{
	const char	*errstr, *uid;
	cJSON		*root;
	char		*key, *val;
	size_t		 len;

	key = pod_sync_status_key(ps);
	if (store_get(ps->room->store, key, &val, &len) == 0) {
		root = json_parse(val, len, STORE_MAX_VALUE, &errstr);
		uid = json_get_string(root, "uid");
		/* a newer pod of the same name may own it by now */
		if (uid != NULL && strcmp(uid, ps->uid) == 0)
			store_batch_delete(b, key);
		cJSON_Delete(root);
		free(val);
	}
	free(key);
}

/* Wall-clock nanoseconds now, for the times the runtime reports. */
static int64_t
pod_sync_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* What the planner reads: the pod, the notes, the observation, now. */
static void
pod_sync_plan_in(struct pod_sync *ps, struct pod_plan_in *in)
{
	memset(in, 0, sizeof(*in));
	in->pod = ps->pod;
	in->uid = ps->uid;
	in->ns = ps->ns;
	in->name = ps->name;
	in->state_dir = ps->room->node.state_dir;
	in->is_static = ps->is_static;
	in->cluster = ps->key != NULL && !ps->is_static;
	in->stored = ps->stored;
	in->deleting = pod_sync_deleting(ps);
	in->invalid = ps->invalid;
	in->invalid_msg = ps->invalid_msg;
	in->prior_phase = json_get_string(ps->status, "phase");
	in->obs = &ps->obs;
	in->ctrs = ps->ctrs;
	in->nctrs = ps->nctrs;
	in->terminating = ps->terminating;
	in->term_deadline = ps->term_deadline;
	in->sandbox_until = ps->sandbox_until;
	in->mount_retry = ps->mount_retry;
	in->max_dead = ps->room->conf->max_dead_containers;
	in->now_ms = clock_mono_ms();
	in->now_ns = pod_sync_now_ns();
}

/*
 * Logs a restart the planner allowed: the back-off it waited and the exit
 * it counted from, so that tests check the decision rather than when a
 * container happened to appear.
 */
static void
pod_sync_backoff_log(const struct pod_sync *ps, const struct pod_action *a)
{
	const struct pod_cinst	*prev;
	time_t			 t = (time_t)(a->at_ns / 1000000000);
	struct tm		 tm;
	char			 at[24];

	prev = pod_observed_latest(&ps->obs, a->cname, NULL);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S", &tm);
	if (a->waited_ms == 0)
		log_info("%s: container %s: starting attempt %u at once after "
		    "exit at %s.%03dZ", ps->label, a->cname, prev != NULL ?
		    prev->attempt + 1 : 0, at,
		    (int)(a->at_ns / 1000000 % 1000));
	else
		log_info("%s: container %s: starting attempt %u after back-off "
		    "%llus from exit at %s.%03dZ", ps->label, a->cname,
		    prev != NULL ? prev->attempt + 1 : 0,
		    (unsigned long long)(a->waited_ms / 1000), at,
		    (int)(a->at_ns / 1000000 % 1000));
}

/* Applies a note of the plan (or tells its event): the planner decided. */
void
pod_sync_note(struct pod_sync *ps, const struct pod_action *a)
{
	struct pod_ctr	*ctr;

	switch (a->kind) {
	case POD_OP_SET_WAITING:
		pod_sync_ctr_wait(pod_sync_ctr(ps, a->cname), a->reason,
		    a->message);
		break;
	case POD_OP_BACKOFF:
		pod_sync_backoff_log(ps, a);
		ctr = pod_sync_ctr(ps, a->cname);
		ctr->backoff_ms = a->ms;
		ctr->backoff_at_ns = a->at_ns;
		break;
	case POD_OP_BEGIN_TERMINATION:
		ps->terminating = 1;
		ps->term_deadline = a->ms;
		if (ps->obs.nc > 0 || ps->obs.nsb > 0)
			log_info("%s: terminating, grace period %llds",
			    ps->label, (long long)a->grace);
		break;
	case POD_OP_EVENT:
		if (a->cname != NULL) {
			ctr = pod_sync_ctr(ps, a->cname);
			free(ctr->last_event);
			xasprintf(&ctr->last_event, "%s %s", a->reason,
			    a->message);
		}
		pod_sync_event(ps, a->type, a->reason, a->field, "%s",
		    a->message);
		break;
	default:
		break;
	}
}

/*
 * Adds to b the confirmation upstream that a cluster pod being deleted has
 * terminated (a delete with grace period 0), in a cluster. 1 when added.
 */
static int
pod_sync_finalize(struct pod_sync *ps, struct store_batch *b)
{
	if (!ps->room->cluster)
		return 0;
	if (store_outbox_pod_delete(b, ps->ns, ps->name, ps->uid) == -1) {
		log_warnx("%s: its deletion cannot be confirmed upstream (bad "
		    "name or uid), skipped", ps->label);
		return 0;
	}
	return 1;
}

/* Nothing of the pod runs: its folders go (ENDING), the rest after. */
static void
pod_sync_ending(struct pod_sync *ps, struct pod_plan *plan)
{
	pod_plan_clear(&ps->end);
	ps->end = *plan;
	memset(plan, 0, sizeof(*plan));
	evtimer_del(ps->ev_timer);
	pod_sync_enter_state(ps, POD_SYNC_ENDING, POD_SYNC_EV_OBSERVED);
	pod_run_teardown(ps, &ps->end);
}

/* The folders are gone: forget the status and confirm in one batch, end. */
static void
pod_sync_ended(struct pod_sync *ps)
{
	struct store_batch	*b;
	size_t			 i;
	int			 confirm = 0;

	b = store_batch_new(ps->room->store);
	for (i = 0; i < ps->end.n; i++) {
		if (ps->end.v[i].kind == POD_OP_FORGET_STATUS)
			pod_sync_status_forget(ps, b);
		else if (ps->end.v[i].kind == POD_OP_FINALIZE)
			confirm |= pod_sync_finalize(ps, b);
	}
	if (store_batch_commit(b) == 0 && confirm)
		log_info("%s: terminated, confirming the deletion", ps->label);
	pod_plan_clear(&ps->end);
	log_info("%s: removed", ps->label);
	pod_sync_enter_state(ps, POD_SYNC_DONE, POD_SYNC_EV_CLEANED);
	pod_room_reap(ps->room);
}

/* Observation done: plan, apply the notes, then act, end or wait. */
static void
pod_sync_observed(struct pod_sync *ps)
{
	struct pod_plan_in	in;
	struct pod_plan		plan;
	uint64_t		wait;

	backoff_ok(&ps->retry);
	pod_sync_plan_in(ps, &in);
	pod_plan_compute(&in, &plan);
	pod_run_local(ps, &plan);
	pod_sync_probes(ps);
	if (plan.done) {
		pod_sync_ending(ps, &plan);
		return;
	}
	pod_sync_status(ps, &plan);
	if (pod_plan_calls(&plan) > 0) {
		pod_sync_enter_state(ps, POD_SYNC_ACTING,
		    POD_SYNC_EV_OBSERVED);
		pod_run_start(ps, &plan);
		pod_plan_clear(&plan);
		return;
	}
	wait = plan.wake_ms > 0 && plan.wake_ms < POD_SYNC_RESYNC_MS ?
	    plan.wake_ms : POD_SYNC_RESYNC_MS;
	pod_plan_clear(&plan);
	pod_sync_enter_state(ps, POD_SYNC_IDLE, POD_SYNC_EV_OBSERVED);
	pod_sync_arm(ps, wait);
	if (ps->kicked) {
		ps->kicked = 0;
		pod_sync_kick(ps);
	}
}

/* The machine. */
static void
pod_sync_fsm(struct pod_sync *ps, enum pod_sync_event ev)
{
	switch (ps->state) {
	case POD_SYNC_IDLE:
		if (ev != POD_SYNC_EV_KICK && ev != POD_SYNC_EV_TIMER)
			break;
		evtimer_del(ps->ev_timer);
		ps->kicked = 0;
		pod_sync_enter_state(ps, POD_SYNC_OBSERVING, ev);
		pod_run_observe(ps);
		break;
	case POD_SYNC_OBSERVING:
		if (ev == POD_SYNC_EV_KICK)
			ps->kicked = 1;
		else if (ev == POD_SYNC_EV_OBSERVED)
			pod_sync_observed(ps);
		else if (ev == POD_SYNC_EV_OBSERVE_FAILED) {
			pod_sync_enter_state(ps, POD_SYNC_IDLE, ev);
			pod_sync_arm(ps, backoff_next(&ps->retry));
		}
		break;
	case POD_SYNC_ACTING:
		if (ev == POD_SYNC_EV_KICK)
			ps->kicked = 1;
		else if (ev == POD_SYNC_EV_ACTED && ps->act_failed) {
			/* the runtime refused: not again at once */
			pod_sync_enter_state(ps, POD_SYNC_IDLE, ev);
			pod_sync_arm(ps, backoff_next(&ps->retry));
		} else if (ev == POD_SYNC_EV_ACTED) {
			ps->kicked = 0;
			pod_sync_enter_state(ps, POD_SYNC_OBSERVING, ev);
			pod_run_observe(ps);
		}
		break;
	case POD_SYNC_ENDING:
		if (ev == POD_SYNC_EV_CLEANED)
			pod_sync_ended(ps);
		break;
	case POD_SYNC_DONE:
		break;
	}
}

/* pod_run.c reports that all its calls (of one kind) are back. */
void
pod_sync_done(struct pod_sync *ps, enum pod_sync_event ev)
{
	pod_sync_fsm(ps, ev);
}

/* Probes follow the running instance of each regular container. */
void
pod_sync_probes(struct pod_sync *ps)
{
	static const char *const kinds[] = { "livenessProbe",
	    "readinessProbe", "startupProbe" };
	static const enum pod_probe_kind pk[] = { POD_PROBE_LIVENESS,
	    POD_PROBE_READINESS, POD_PROBE_STARTUP };
	const struct pod_cinst	*cur;
	struct pod_ctr		*ctr;
	const cJSON		*c, *p;
	int			 i;

	if (ps->invalid)
		return;
	cJSON_ArrayForEach(c, json_get(ps->pod, "spec.containers")) {
		ctr = pod_sync_ctr(ps, json_get_string(c, "name"));
		cur = pod_observed_latest(&ps->obs, ctr->name, NULL);
		if (cur == NULL || cur->state != POD_CSTATE_RUNNING ||
		    pod_sync_deleting(ps)) {
			if (ctr->probe_cid != NULL)
				pod_sync_ctr_probes_stop(ctr);
			continue;
		}
		if (ctr->probe_cid != NULL && strcmp(ctr->probe_cid,
		    cur->id) == 0)
			continue;
		pod_sync_ctr_probes_stop(ctr);
		ctr->probe_cid = xstrdup(cur->id);
		ctr->started = json_get(c, "startupProbe") == NULL;
		ctr->ready = ctr->started && json_get(c, "readinessProbe") ==
		    NULL;
		for (i = 0; i < 3; i++) {
			if ((p = json_get(c, kinds[i])) == NULL)
				continue;
			ctr->probe[i] = pod_probe_new(ps, ctr->name, cur->id,
			    pk[i], p, c);
			if (pk[i] != POD_PROBE_STARTUP && ctr->started)
				pod_probe_enable(ctr->probe[i]);
		}
		if (ctr->probe[2] != NULL)
			pod_probe_enable(ctr->probe[2]);
	}
}

/* A probe changed its verdict: note it, look again. */
void
pod_sync_probe_result(struct pod_sync *ps, const char *cname, int kind,
    int ok, const char *msg)
{
	struct pod_ctr	*ctr = pod_sync_ctr(ps, cname);
	int		 i;

	switch (kind) {
	case POD_PROBE_STARTUP:
		if (ok) {
			ctr->started = 1;
			if (ctr->probe[1] == NULL)
				ctr->ready = 1;
			for (i = 0; i < 2; i++)
				pod_probe_enable(ctr->probe[i]);
		} else
			ctr->unhealthy = 1;
		break;
	case POD_PROBE_READINESS:
		ctr->ready = ok;
		break;
	case POD_PROBE_LIVENESS:
		if (!ok)
			ctr->unhealthy = 1;
		break;
	default:
		break;
	}
	log_info("%s: container %s: %s probe %s%s%s", ps->label, cname,
	    pod_probe_kind_name(kind), ok ? "succeeded" : "failed",
	    msg != NULL && *msg != '\0' ? ": " : "", msg != NULL ? msg : "");
	pod_sync_kick(ps);
}

/* The state of the machine. */
enum pod_sync_state
pod_sync_state(struct pod_sync *ps)
{
	return ps->state;
}

/* The pod's uid. */
const char *
pod_sync_uid(struct pod_sync *ps)
{
	return ps->uid;
}

/* The store key while it still holds this pod, else NULL. */
const char *
pod_sync_key(struct pod_sync *ps)
{
	return ps->stored ? ps->key : NULL;
}

/* The pod's namespace. */
const char *
pod_sync_ns(struct pod_sync *ps)
{
	return ps->ns;
}

/* The stored pod while it is stored, else NULL. */
const cJSON *
pod_sync_pod(struct pod_sync *ps)
{
	return ps->stored ? ps->pod : NULL;
}

/* The room of the machine. */
struct pod_room *
pod_sync_room(struct pod_sync *ps)
{
	return ps->room;
}

/* One log line for SIGUSR1. */
void
pod_sync_dump(struct pod_sync *ps)
{
	const char	*phase = json_get_string(ps->status, "phase");

	log_info("state: %s: uid %s, %s, %s%s, %zu sandboxes, %zu "
	    "containers, %zu calls", ps->label, ps->uid,
	    pod_sync_state_names[ps->state], phase != NULL ? phase :
	    "no status",
	    pod_sync_deleting(ps) ? ", terminating" : "", ps->obs.nsb,
	    ps->obs.nc, ps->pending);
}
