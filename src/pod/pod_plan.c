/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a pod needs next, decided from the last observation as a kubelet's
 * computePodActions decides: one ready sandbox (a new one, at the next
 * attempt, when there is none), init containers one at a time in order,
 * then every container, each restarted per the restart policy with the
 * kubelet's back-off (10 s doubling to 5 min, reset after 10 min) and
 * killed when its liveness or startup probe failed or its spec changed.
 * A pod being deleted has its containers stopped within the grace period
 * (preStop hooks first), its sandbox stopped and removed, its folders
 * removed and, in a cluster, its deletion confirmed. A finished pod
 * (Succeeded or Failed) keeps its containers but loses its sandbox. The
 * plan also records why containers wait (CrashLoopBackOff,
 * ImagePullBackOff, ...) for the status.
 *
 * The planner is a pure function: it reads a struct pod_plan_in (the
 * stored pod, the machine's notes, the observation and the clock) and
 * writes a struct pod_plan. Every effect is an action in the plan: the
 * runtime calls, the volume setup, the events (told once per distinct
 * text, from the notes), the notes to update (waiting reasons, back-off,
 * the termination deadline) and the end of a machine (folders, status,
 * deletion confirmed). It does no I/O, reads no clock and keeps nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"
#include "pod/pod_plan.h"

#define POD_PLAN_BACKOFF_MIN_MS	10000
#define POD_PLAN_BACKOFF_MAX_MS	300000
/* A container that ran this long before it exited starts over. */
#define POD_PLAN_BACKOFF_RESET_NS	(600LL * 1000000000LL)
#define POD_PLAN_MIN_GRACE	2
#define POD_PLAN_FRESH_MS	2000

static const char *const pod_plan_op_names[] = {
	[POD_OP_LIST_SANDBOXES] = "list-sandboxes",
	[POD_OP_LIST_CONTAINERS] = "list-containers",
	[POD_OP_CONTAINER_STATUS] = "container-status",
	[POD_OP_SANDBOX_STATUS] = "sandbox-status",
	[POD_OP_RUN_SANDBOX] = "run-sandbox",
	[POD_OP_STOP_SANDBOX] = "stop-sandbox",
	[POD_OP_REMOVE_SANDBOX] = "remove-sandbox",
	[POD_OP_START] = "start",
	[POD_OP_RESTART] = "restart",
	[POD_OP_KILL] = "kill",
	[POD_OP_REMOVE] = "remove",
	[POD_OP_SETUP_VOLUMES] = "setup-volumes",
	[POD_OP_EVENT] = "event",
	[POD_OP_SET_WAITING] = "set-waiting",
	[POD_OP_BACKOFF] = "backoff",
	[POD_OP_BEGIN_TERMINATION] = "begin-termination",
	[POD_OP_TEARDOWN] = "teardown",
	[POD_OP_FORGET_STATUS] = "forget-status",
	[POD_OP_FINALIZE] = "finalize",
};

/* The name of an action kind, for logs and tests. */
const char *
pod_plan_op_name(enum pod_op_kind kind)
{
	if ((size_t)kind >= sizeof(pod_plan_op_names) /
	    sizeof(pod_plan_op_names[0]) || pod_plan_op_names[kind] == NULL)
		return "?";
	return pod_plan_op_names[kind];
}

/* Appends an action (strings copied); returns it for the extra fields. */
struct pod_action *
pod_plan_add(struct pod_plan *plan, enum pod_op_kind kind, const char *cname,
    const char *id, uint32_t attempt, int64_t grace)
{
	struct pod_action	*a;

	plan->v = xreallocarray(plan->v, plan->n + 1, sizeof(*plan->v));
	a = &plan->v[plan->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->cname = cname != NULL ? xstrdup(cname) : NULL;
	a->id = id != NULL ? xstrdup(id) : NULL;
	a->attempt = attempt;
	a->grace = grace;
	return a;
}

/* Drops the actions from index from on (a failed step ends the round). */
void
pod_plan_drop(struct pod_plan *plan, size_t from)
{
	size_t	i;

	for (i = from; i < plan->n; i++) {
		free(plan->v[i].cname);
		free(plan->v[i].id);
		free(plan->v[i].field);
		free(plan->v[i].message);
	}
	if (from < plan->n)
		plan->n = from;
}

/* Frees the actions of a plan. */
void
pod_plan_clear(struct pod_plan *plan)
{
	pod_plan_drop(plan, 0);
	free(plan->v);
	plan->v = NULL;
	plan->n = 0;
}

/* Whether an action is a runtime call (the machine waits for it). */
int
pod_plan_is_call(enum pod_op_kind kind)
{
	return kind < POD_OP_SETUP_VOLUMES;
}

/* How many runtime calls the plan makes. */
size_t
pod_plan_calls(const struct pod_plan *plan)
{
	size_t	i, n = 0;

	for (i = 0; i < plan->n; i++)
		if (pod_plan_is_call(plan->v[i].kind))
			n++;
	return n;
}

/* Asks to look again in ms at the latest. */
static void
pod_plan_wake(struct pod_plan *plan, uint64_t ms)
{
	if (ms == 0)
		ms = 1;
	if (plan->wake_ms == 0 || ms < plan->wake_ms)
		plan->wake_ms = ms;
}

/* The notes on container name; an empty note when there are none yet. */
static const struct pod_ctr *
pod_plan_note(const struct pod_plan_in *in, const char *name)
{
	static const struct pod_ctr	none;
	size_t				i;

	if (name == NULL)
		name = "";
	for (i = 0; i < in->nctrs; i++)
		if (strcmp(in->ctrs[i].name, name) == 0)
			return &in->ctrs[i];
	return &none;
}

/* An event about the pod (field NULL) or one of its parts. */
static void
pod_plan_event(struct pod_plan *plan, const char *cname, const char *type,
    const char *reason, const char *field, const char *msg)
{
	struct pod_action	*a;

	a = pod_plan_add(plan, POD_OP_EVENT, cname, NULL, 0, 0);
	a->type = type;
	a->reason = reason;
	a->field = field != NULL ? xstrdup(field) : NULL;
	a->message = xstrdup(msg);
}

/* An event about container name, unless it was the last one told. */
static void
pod_plan_event_once(const struct pod_plan_in *in, struct pod_plan *plan,
    const char *name, const char *type, const char *reason, const char *msg)
{
	const struct pod_ctr	*note = pod_plan_note(in, name);
	char			*field, *key;
	int			 same;

	xasprintf(&key, "%s %s", reason, msg);
	same = note->last_event != NULL && strcmp(note->last_event, key) == 0;
	free(key);
	if (same)
		return;
	xasprintf(&field, "spec.containers{%s}", name);
	pod_plan_event(plan, name, type, reason, field, msg);
	free(field);
}

/* Why container name waits (reason NULL: it does not). */
static void
pod_plan_wait(struct pod_plan *plan, const char *name, const char *reason,
    const char *msg)
{
	struct pod_action	*a;

	a = pod_plan_add(plan, POD_OP_SET_WAITING, name, NULL, 0, 0);
	a->reason = reason;
	a->message = msg != NULL ? xstrdup(msg) : NULL;
}

/* The grace of a pod's termination, or of an orphan's containers. */
static int64_t
pod_plan_grace(const struct pod_plan_in *in)
{
	size_t	i;

	if (in->pod != NULL)
		return pod_spec_grace(in->pod);
	for (i = 0; i < in->obs->nc; i++)
		if (in->obs->c[i].grace_s >= 0)
			return in->obs->c[i].grace_s;
	return 30;
}

/* Seconds of grace left before deadline, at least the kubelet's minimum. */
static int64_t
pod_plan_remaining(uint64_t deadline, uint64_t now)
{
	int64_t	left;

	left = deadline > now ? (int64_t)((deadline - now + 999) / 1000) : 0;
	return left < POD_PLAN_MIN_GRACE ? POD_PLAN_MIN_GRACE : left;
}

/* Whether a sandbox id is among the observed ones. */
static int
pod_plan_has_sandbox(const struct pod_observed *o, const char *id)
{
	size_t	i;

	for (i = 0; i < o->nsb; i++)
		if (strcmp(o->sb[i].id, id) == 0)
			return 1;
	return 0;
}

/*
 * The runtime has nothing left: the pod's folders go, its status is
 * forgotten and, for a cluster pod being deleted, the deletion confirmed.
 */
static void
pod_plan_end(const struct pod_plan_in *in, struct pod_plan *plan)
{
	char	*dir;

	xasprintf(&dir, "%s/pods/%s", in->state_dir, in->uid);
	pod_plan_add(plan, POD_OP_TEARDOWN, NULL, dir, 0, 0);
	free(dir);
	xasprintf(&dir, "%s/%s_%s_%s", POD_LOG_ROOT, in->ns, in->name,
	    in->uid);
	pod_plan_add(plan, POD_OP_TEARDOWN, NULL, dir, 0, 0);
	free(dir);
	pod_plan_add(plan, POD_OP_FORGET_STATUS, NULL, NULL, 0, 0);
	if (in->cluster && !in->is_static && in->stored && in->pod != NULL &&
	    json_get_string(in->pod, "metadata.deletionTimestamp") != NULL)
		pod_plan_add(plan, POD_OP_FINALIZE, NULL, NULL, 0, 0);
	plan->done = 1;
}

/* Kills every container not exited, preStop hooks first when removing. */
static void
pod_plan_kill_all(const struct pod_plan_in *in, struct pod_plan *plan,
    int64_t grace, int remove)
{
	const struct pod_cinst	*c;
	const cJSON		*spec;
	struct pod_action	*a;
	size_t			 i;

	for (i = 0; i < in->obs->nc; i++) {
		c = &in->obs->c[i];
		if (c->state == POD_CSTATE_EXITED)
			continue;
		a = pod_plan_add(plan, POD_OP_KILL, c->name, c->id,
		    c->attempt, grace);
		spec = pod_spec_container(in->pod, c->name, NULL);
		a->hook = remove && c->state == POD_CSTATE_RUNNING &&
		    json_get(spec, "lifecycle.preStop") != NULL;
	}
}

/*
 * Stops everything; with remove, removes it too and ends the machine.
 * Containers are stopped together within what is left of the grace
 * period, their preStop hooks first.
 */
static void
pod_plan_terminate(const struct pod_plan_in *in, struct pod_plan *plan,
    int remove)
{
	const struct pod_observed	*o = in->obs;
	struct pod_action		*a;
	uint64_t			 deadline = in->term_deadline;
	int64_t				 grace;
	size_t				 i;

	if (remove && !in->terminating) {
		grace = pod_plan_grace(in);
		deadline = in->now_ms + (uint64_t)grace * 1000;
		a = pod_plan_add(plan, POD_OP_BEGIN_TERMINATION, NULL, NULL, 0,
		    grace);
		a->ms = deadline;
	}
	grace = remove ? pod_plan_remaining(deadline, in->now_ms) :
	    pod_plan_grace(in);
	if (grace < POD_PLAN_MIN_GRACE)
		grace = POD_PLAN_MIN_GRACE;
	pod_plan_kill_all(in, plan, grace, remove);
	if (pod_plan_calls(plan) > 0)
		return;
	for (i = 0; i < o->nsb; i++)
		if (o->sb[i].ready)
			pod_plan_add(plan, POD_OP_STOP_SANDBOX, NULL,
			    o->sb[i].id, 0, 0);
	if (pod_plan_calls(plan) > 0 || !remove)
		return;
	for (i = 0; i < o->nsb; i++)
		pod_plan_add(plan, POD_OP_REMOVE_SANDBOX, NULL, o->sb[i].id,
		    0, 0);
	for (i = 0; i < o->nc; i++)
		if (!pod_plan_has_sandbox(o, o->c[i].sandbox_id))
			pod_plan_add(plan, POD_OP_REMOVE, o->c[i].name,
			    o->c[i].id, 0, 0);
	if (pod_plan_calls(plan) == 0)
		pod_plan_end(in, plan);
}

/* Whether the restart policy lets the pod finish, and it has. */
static int
pod_plan_finished(const struct pod_plan_in *in)
{
	const struct pod_cinst	*cur;
	const cJSON		*c;
	const char		*phase = in->prior_phase;
	enum pod_restart	 rp = pod_spec_restart(in->pod);
	int			 all = 1, ok = 1;

	if (phase != NULL && (strcmp(phase, "Succeeded") == 0 ||
	    strcmp(phase, "Failed") == 0))
		return 1;
	if (rp == POD_RESTART_ALWAYS)
		return 0;
	cJSON_ArrayForEach(c, json_get(in->pod, "spec.initContainers")) {
		cur = pod_observed_latest(in->obs, json_get_string(c, "name"),
		    NULL);
		if (rp == POD_RESTART_NEVER && cur != NULL &&
		    cur->state == POD_CSTATE_EXITED && cur->exit_code != 0)
			return 1;
	}
	cJSON_ArrayForEach(c, json_get(in->pod, "spec.containers")) {
		cur = pod_observed_latest(in->obs, json_get_string(c, "name"),
		    NULL);
		if (cur == NULL || cur->state != POD_CSTATE_EXITED)
			all = 0;
		else if (cur->exit_code != 0)
			ok = 0;
	}
	return all && (rp == POD_RESTART_NEVER || ok);
}

/*
 * The back-off of container name becomes ms, counting the exit at_ns; it
 * starts again now, having waited waited_ms (0: at once).
 */
static void
pod_plan_backoff_set(struct pod_plan *plan, const char *name, uint64_t ms,
    int64_t at_ns, uint64_t waited_ms)
{
	struct pod_action	*a;

	a = pod_plan_add(plan, POD_OP_BACKOFF, name, NULL, 0, 0);
	a->ms = ms;
	a->at_ns = at_ns;
	a->waited_ms = waited_ms;
}

/* Container name waits in CrashLoopBackOff for ms more. */
static void
pod_plan_crashloop(const struct pod_plan_in *in, struct pod_plan *plan,
    const char *name, uint64_t backoff_ms, uint64_t ms)
{
	char	*msg;

	xasprintf(&msg, "back-off %llus restarting failed container=%s "
	    "pod=%s_%s(%s)", (unsigned long long)(backoff_ms / 1000), name,
	    in->name, in->ns, in->uid);
	pod_plan_wait(plan, name, "CrashLoopBackOff", msg);
	free(msg);
	xasprintf(&msg, "Back-off restarting failed container %s in pod "
	    "%s_%s(%s)", name, in->name, in->ns, in->uid);
	pod_plan_event_once(in, plan, name, "Warning", "BackOff", msg);
	free(msg);
	pod_plan_wake(plan, ms);
}

/*
 * The kubelet's restart back-off for an exited instance: 1 when it may
 * start again now, 0 when it waits (CrashLoopBackOff, wake planned).
 */
static int
pod_plan_backoff(const struct pod_plan_in *in, struct pod_plan *plan,
    const char *name, const struct pod_cinst *cur)
{
	const struct pod_ctr	*note = pod_plan_note(in, name);
	int64_t			 now = in->now_ns, fin = cur->finished_ns;
	uint64_t		 elapsed, ms;

	if (fin <= 0)
		fin = now;
	if (note->backoff_ms == 0 || fin - note->backoff_at_ns >
	    POD_PLAN_BACKOFF_RESET_NS) {
		pod_plan_backoff_set(plan, name, POD_PLAN_BACKOFF_MIN_MS, fin,
		    0);
		return 1;
	}
	if (fin == note->backoff_at_ns)
		return 1;
	elapsed = now > fin ? (uint64_t)((now - fin) / 1000000) : 0;
	if (elapsed >= note->backoff_ms) {
		ms = note->backoff_ms * 2;
		if (ms > POD_PLAN_BACKOFF_MAX_MS)
			ms = POD_PLAN_BACKOFF_MAX_MS;
		pod_plan_backoff_set(plan, name, ms, fin, note->backoff_ms);
		return 1;
	}
	pod_plan_crashloop(in, plan, name, note->backoff_ms,
	    note->backoff_ms - elapsed);
	return 0;
}

/* Whether an image pull back-off holds container name (wake planned). */
static int
pod_plan_pull_wait(const struct pod_plan_in *in, struct pod_plan *plan,
    const char *name, const char *image)
{
	const struct pod_ctr	*note = pod_plan_note(in, name);
	uint64_t		 now = in->now_ms, fresh;
	char			*msg;

	if (now >= note->pull_until)
		return 0;
	/* a fresh ErrImagePull shows for a moment before the back-off */
	fresh = note->pull_until - note->pull_ms + POD_PLAN_FRESH_MS;
	xasprintf(&msg, "Back-off pulling image \"%s\"", image);
	if (note->reason == NULL || strcmp(note->reason, "ErrImagePull") != 0 ||
	    now >= fresh) {
		pod_plan_wait(plan, name, "ImagePullBackOff", msg);
		pod_plan_event_once(in, plan, name, "Normal", "BackOff", msg);
	} else
		pod_plan_wake(plan, fresh - now);
	free(msg);
	pod_plan_wake(plan, note->pull_until - now);
	return 1;
}

/*
 * A new instance of container c at attempt, unless its image name is
 * invalid or a pull or config error still waits.
 */
static void
pod_plan_start(const struct pod_plan_in *in, struct pod_plan *plan,
    const cJSON *c, uint32_t attempt)
{
	const char		*name = json_get_string(c, "name");
	const char		*image = json_get_string(c, "image");
	const struct pod_ctr	*note = pod_plan_note(in, name);
	char			*msg;

	if (in->now_ms < note->config_retry) {
		pod_plan_wake(plan, note->config_retry - in->now_ms);
		return;
	}
	if (!pod_spec_image_valid(image)) {
		xasprintf(&msg, "Failed to apply default image tag \"%s\": "
		    "couldn't parse image name \"%s\": invalid reference "
		    "format", image, image);
		pod_plan_wait(plan, name, "InvalidImageName", msg);
		pod_plan_event_once(in, plan, name, "Warning", "InspectFailed",
		    msg);
		free(msg);
		return;
	}
	if (pod_plan_pull_wait(in, plan, name, image))
		return;
	pod_plan_add(plan, POD_OP_START, name, NULL, attempt, 0);
}

/* Whether the policy restarts an instance that exited with code. */
static int
pod_plan_should_restart(const cJSON *pod, int32_t code)
{
	switch (pod_spec_restart(pod)) {
	case POD_RESTART_ALWAYS:
		return 1;
	case POD_RESTART_ONFAILURE:
		return code != 0;
	case POD_RESTART_NEVER:
		break;
	}
	return 0;
}

/* The newest instance of name in sandbox sbid, or NULL. */
static const struct pod_cinst *
pod_plan_latest_in(const struct pod_observed *o, const char *name,
    const char *sbid)
{
	const struct pod_cinst	*best = NULL, *c;
	size_t			 i;

	for (i = 0; i < o->nc; i++) {
		c = &o->c[i];
		if (strcmp(c->name, name) != 0 || strcmp(c->sandbox_id,
		    sbid) != 0)
			continue;
		if (best == NULL || c->attempt > best->attempt ||
		    (c->attempt == best->attempt &&
		    c->created_ns > best->created_ns))
			best = c;
	}
	return best;
}

/* The attempt of a new instance of name: one past the newest seen. */
static uint32_t
pod_plan_next_attempt(const struct pod_observed *o, const char *name)
{
	const struct pod_cinst	*all = pod_observed_latest(o, name, NULL);

	return all != NULL ? all->attempt + 1 : 0;
}

/*
 * The first instance of c in a sandbox. When an instance exited in an
 * earlier sandbox, the container's back-off still holds, as a kubelet's
 * does (keyed by the container, not the sandbox): a sandbox killed under a
 * crash loop must not start the container again at once.
 */
static void
pod_plan_first(const struct pod_plan_in *in, struct pod_plan *plan,
    const cJSON *c)
{
	const char		*name = json_get_string(c, "name");
	const struct pod_cinst	*prev;

	prev = pod_observed_latest(in->obs, name, NULL);
	if (prev != NULL && prev->state == POD_CSTATE_EXITED &&
	    prev->have_status && !pod_plan_backoff(in, plan, name, prev))
		return;
	pod_plan_start(in, plan, c, pod_plan_next_attempt(in->obs, name));
}

/* Init containers in order: 1 when all have succeeded in sandbox sb. */
static int
pod_plan_init(const struct pod_plan_in *in, struct pod_plan *plan,
    const struct pod_sbinst *sb)
{
	const struct pod_cinst	*cur;
	const cJSON		*c;
	const char		*name;

	cJSON_ArrayForEach(c, json_get(in->pod, "spec.initContainers")) {
		name = json_get_string(c, "name");
		cur = pod_plan_latest_in(in->obs, name, sb->id);
		if (cur == NULL) {
			pod_plan_first(in, plan, c);
			return 0;
		}
		if (cur->state == POD_CSTATE_CREATED) {
			pod_plan_add(plan, POD_OP_RESTART, name, cur->id,
			    cur->attempt, 0);
			return 0;
		}
		if (cur->state != POD_CSTATE_EXITED || !cur->have_status)
			return 0;
		if (cur->exit_code == 0)
			continue;
		if (pod_spec_restart(in->pod) != POD_RESTART_NEVER &&
		    pod_plan_backoff(in, plan, name, cur))
			pod_plan_start(in, plan, c, cur->attempt + 1);
		return 0;
	}
	return 1;
}

/* A running instance to kill: liveness failed or the spec changed. */
static void
pod_plan_running(const struct pod_plan_in *in, struct pod_plan *plan,
    const cJSON *c, const struct pod_cinst *cur)
{
	const char		*name = json_get_string(c, "name");
	const struct pod_ctr	*note = pod_plan_note(in, name);
	struct pod_action	*a;
	char			 hash[17], *msg;

	pod_spec_container_hash(c, hash);
	if (note->unhealthy && note->probe_cid != NULL &&
	    strcmp(note->probe_cid, cur->id) == 0)
		xasprintf(&msg, "Container %s failed %s probe, will be "
		    "restarted", name, note->started ? "liveness" : "startup");
	else if (cur->hash != NULL && strcmp(cur->hash, hash) != 0)
		xasprintf(&msg, "Container %s definition changed, will be "
		    "restarted", name);
	else
		return;
	pod_plan_event_once(in, plan, name, "Normal", "Killing", msg);
	free(msg);
	a = pod_plan_add(plan, POD_OP_KILL, name, cur->id, cur->attempt,
	    pod_spec_grace(in->pod));
	a->hook = json_get(c, "lifecycle.preStop") != NULL;
}

/* Every regular container in sandbox sb. */
static void
pod_plan_containers(const struct pod_plan_in *in, struct pod_plan *plan,
    const struct pod_sbinst *sb)
{
	const struct pod_cinst	*cur;
	const cJSON		*c;
	const char		*name;

	cJSON_ArrayForEach(c, json_get(in->pod, "spec.containers")) {
		name = json_get_string(c, "name");
		cur = pod_plan_latest_in(in->obs, name, sb->id);
		if (cur == NULL)
			pod_plan_first(in, plan, c);
		else if (cur->state == POD_CSTATE_CREATED)
			pod_plan_add(plan, POD_OP_RESTART, name, cur->id,
			    cur->attempt, 0);
		else if (cur->state == POD_CSTATE_RUNNING)
			pod_plan_running(in, plan, c, cur);
		else if (cur->state == POD_CSTATE_EXITED && cur->have_status &&
		    pod_plan_should_restart(in->pod, cur->exit_code) &&
		    pod_plan_backoff(in, plan, name, cur))
			pod_plan_start(in, plan, c, cur->attempt + 1);
	}
}

/*
 * Sets up (or refreshes) the volumes, unless a failure waits for its
 * retry: 0, or -1 when the rest of the round waits.
 */
static int
pod_plan_volumes(const struct pod_plan_in *in, struct pod_plan *plan)
{
	struct pod_action	*a;

	if (in->now_ms < in->mount_retry) {
		pod_plan_wake(plan, in->mount_retry - in->now_ms);
		return -1;
	}
	a = pod_plan_add(plan, POD_OP_SETUP_VOLUMES, NULL, NULL, 0, 0);
	a->ms = plan->wake_ms;
	return 0;
}

/* Clears waiting reasons no longer held by a pending retry. */
static void
pod_plan_reasons(const struct pod_plan_in *in, struct pod_plan *plan)
{
	const struct pod_ctr	*note;
	size_t			 i;

	for (i = 0; i < in->nctrs; i++) {
		note = &in->ctrs[i];
		if (note->reason == NULL || in->now_ms < note->config_retry ||
		    in->now_ms < note->pull_until)
			continue;
		pod_plan_wait(plan, note->name, NULL, NULL);
	}
}

/* No ready sandbox: once what runs elsewhere is stopped, make one. */
static void
pod_plan_sandbox(const struct pod_plan_in *in, struct pod_plan *plan)
{
	uint32_t	attempt = 0;
	size_t		i;

	if (pod_plan_calls(plan) > 0 || pod_plan_finished(in))
		return;
	if (in->now_ms < in->sandbox_until) {
		pod_plan_wake(plan, in->sandbox_until - in->now_ms);
		return;
	}
	if (pod_plan_volumes(in, plan) == -1)
		return;
	for (i = 0; i < in->obs->nsb; i++)
		if (in->obs->sb[i].attempt + 1 > attempt)
			attempt = in->obs->sb[i].attempt + 1;
	if (in->obs->nsb > 0)
		pod_plan_event(plan, NULL, "Normal", "SandboxChanged", NULL,
		    "Pod sandbox changed, it will be killed and re-created.");
	pod_plan_add(plan, POD_OP_RUN_SANDBOX, NULL, NULL, attempt, 0);
}

/* A pod to run: its sandbox, init containers, containers, then tidying. */
static void
pod_plan_run(const struct pod_plan_in *in, struct pod_plan *plan)
{
	const struct pod_observed	*o = in->obs;
	const struct pod_sbinst		*sb = pod_observed_sandbox(o);
	const struct pod_cinst		*c;
	size_t				 i;

	pod_plan_reasons(in, plan);
	for (i = 0; i < o->nsb; i++)
		if (o->sb[i].ready && &o->sb[i] != sb)
			pod_plan_add(plan, POD_OP_STOP_SANDBOX, NULL,
			    o->sb[i].id, 0, 0);
	for (i = 0; i < o->nc; i++) {
		c = &o->c[i];
		if (c->state != POD_CSTATE_EXITED && (sb == NULL ||
		    strcmp(c->sandbox_id, sb->id) != 0))
			pod_plan_add(plan, POD_OP_KILL, c->name, c->id,
			    c->attempt, pod_spec_grace(in->pod));
	}
	if (sb == NULL) {
		pod_plan_sandbox(in, plan);
		return;
	}
	if (pod_plan_volumes(in, plan) == -1)
		return;
	if (pod_plan_init(in, plan, sb))
		pod_plan_containers(in, plan, sb);
	if (pod_plan_calls(plan) == 0)
		pod_gc_plan(o, in->max_dead, plan);
}

/* Deleting, unable to run, finished, or running: what next. */
void
pod_plan_compute(const struct pod_plan_in *in, struct pod_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	if (in->deleting) {
		pod_plan_terminate(in, plan, 1);
		return;
	}
	if (in->invalid) {
		plan->phase = "Failed";
		plan->reason = "InvalidSpec";
		plan->message = in->invalid_msg;
		pod_plan_terminate(in, plan, 0);
		return;
	}
	if (pod_plan_finished(in)) {
		pod_plan_terminate(in, plan, 0);
		return;
	}
	pod_plan_run(in, plan);
}
