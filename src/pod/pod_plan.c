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
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_int.h"
#include "pod/pod.h"
#include "pod/pod_cri.h"
#include "pod/pod_sync.h"

#define POD_PLAN_BACKOFF_MIN_MS	10000
#define POD_PLAN_BACKOFF_MAX_MS	300000
/* A container that ran this long before it exited starts over. */
#define POD_PLAN_BACKOFF_RESET_NS	(600LL * 1000000000LL)
#define POD_PLAN_MIN_GRACE	2
#define POD_PLAN_RETRY_MS	10000
#define POD_PLAN_FRESH_MS	2000

/* Appends an action (strings copied). */
void
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
}

/* Frees the actions of a plan. */
void
pod_plan_clear(struct pod_plan *plan)
{
	size_t	i;

	for (i = 0; i < plan->n; i++) {
		free(plan->v[i].cname);
		free(plan->v[i].id);
	}
	free(plan->v);
	plan->v = NULL;
	plan->n = 0;
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

/* Tells an event once per distinct text (per container). */
static void
pod_plan_event_once(struct pod_sync *ps, struct pod_ctr *ctr,
    const char *type, const char *reason, const char *msg)
{
	char	*field, *key;

	xasprintf(&key, "%s %s", reason, msg);
	if (ctr->last_event != NULL && strcmp(ctr->last_event, key) == 0) {
		free(key);
		return;
	}
	free(ctr->last_event);
	ctr->last_event = key;
	xasprintf(&field, "spec.containers{%s}", ctr->name);
	pod_sync_event(ps, type, reason, field, "%s", msg);
	free(field);
}

/* Wall-clock nanoseconds now. */
static int64_t
pod_plan_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The grace of a pod's termination, or of an orphan's containers. */
static int64_t
pod_plan_grace(const struct pod_sync *ps)
{
	size_t	i;

	if (ps->pod != NULL)
		return pod_spec_grace(ps->pod);
	for (i = 0; i < ps->obs.nc; i++)
		if (ps->obs.c[i].grace_s >= 0)
			return ps->obs.c[i].grace_s;
	return 30;
}

/* Seconds of grace left, at least the kubelet's minimum. */
static int64_t
pod_plan_remaining(const struct pod_sync *ps, uint64_t now)
{
	int64_t	left;

	left = ps->term_deadline > now ? (int64_t)((ps->term_deadline - now +
	    999) / 1000) : 0;
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

/* Removes the pod's folders and forgets it: the runtime has nothing left. */
static void
pod_plan_cleanup(struct pod_sync *ps)
{
	struct kube	*k = ps->room->kube;
	char		*dir;

	xasprintf(&dir, "%s/pods/%s", ps->room->node.state_dir, ps->uid);
	if (pod_volume_teardown(dir) == -1)
		log_warnx("%s: could not remove all of %s", ps->label, dir);
	free(dir);
	xasprintf(&dir, "%s/%s_%s_%s", POD_LOG_ROOT, ps->ns, ps->name,
	    ps->uid);
	pod_volume_teardown(dir);
	free(dir);
	pod_sync_status_forget(ps);
	if (!ps->finalized && !ps->is_static && ps->key != NULL &&
	    ps->stored && ps->pod != NULL && k != NULL &&
	    json_get_string(ps->pod, "metadata.deletionTimestamp") != NULL) {
		ps->finalized = 1;
		if (kube_pod_finalize(k, ps->ns, ps->name, ps->uid) == 0)
			log_info("%s: terminated, confirming the deletion",
			    ps->label);
	}
	log_info("%s: removed", ps->label);
}

/*
 * Stops everything; with remove, removes it too and ends the machine.
 * Containers are stopped together within what is left of the grace
 * period, their preStop hooks first.
 */
static void
pod_plan_terminate(struct pod_sync *ps, struct pod_plan *plan, int remove)
{
	const struct pod_cinst	*c;
	const cJSON		*spec;
	uint64_t		 now = clock_mono_ms();
	int64_t			 grace;
	size_t			 i, before;

	if (remove && !ps->terminating) {
		ps->terminating = 1;
		grace = pod_plan_grace(ps);
		ps->term_deadline = now + (uint64_t)grace * 1000;
		if (ps->obs.nc > 0 || ps->obs.nsb > 0)
			log_info("%s: terminating, grace period %llds",
			    ps->label, (long long)grace);
	}
	grace = remove ? pod_plan_remaining(ps, now) : pod_plan_grace(ps);
	if (grace < POD_PLAN_MIN_GRACE)
		grace = POD_PLAN_MIN_GRACE;
	for (i = 0; i < ps->obs.nc; i++) {
		c = &ps->obs.c[i];
		if (c->state == POD_CSTATE_EXITED)
			continue;
		pod_plan_add(plan, POD_OP_KILL, c->name, c->id, c->attempt,
		    grace);
		spec = pod_sync_container_spec(ps, c->name, NULL);
		plan->v[plan->n - 1].hook = remove && c->state ==
		    POD_CSTATE_RUNNING && json_get(spec,
		    "lifecycle.preStop") != NULL;
	}
	if (plan->n > 0)
		return;
	for (i = 0; i < ps->obs.nsb; i++)
		if (ps->obs.sb[i].ready)
			pod_plan_add(plan, POD_OP_STOP_SANDBOX, NULL,
			    ps->obs.sb[i].id, 0, 0);
	if (plan->n > 0 || !remove)
		return;
	before = plan->n;
	for (i = 0; i < ps->obs.nsb; i++)
		pod_plan_add(plan, POD_OP_REMOVE_SANDBOX, NULL,
		    ps->obs.sb[i].id, 0, 0);
	for (i = 0; i < ps->obs.nc; i++)
		if (!pod_plan_has_sandbox(&ps->obs, ps->obs.c[i].sandbox_id))
			pod_plan_add(plan, POD_OP_REMOVE, ps->obs.c[i].name,
			    ps->obs.c[i].id, 0, 0);
	if (plan->n > before)
		return;
	pod_plan_cleanup(ps);
	plan->done = 1;
}

/* Whether the restart policy lets the pod finish, and it has. */
static int
pod_plan_finished(const struct pod_sync *ps)
{
	const struct pod_cinst	*cur;
	const cJSON		*c;
	const char		*phase = json_get_string(ps->status, "phase");
	enum pod_restart	 rp = pod_spec_restart(ps->pod);
	int			 all = 1, ok = 1;

	if (phase != NULL && (strcmp(phase, "Succeeded") == 0 ||
	    strcmp(phase, "Failed") == 0))
		return 1;
	if (rp == POD_RESTART_ALWAYS)
		return 0;
	cJSON_ArrayForEach(c, json_get(ps->pod, "spec.initContainers")) {
		cur = pod_observed_latest(&ps->obs, json_get_string(c, "name"),
		    NULL);
		if (rp == POD_RESTART_NEVER && cur != NULL &&
		    cur->state == POD_CSTATE_EXITED && cur->exit_code != 0)
			return 1;
	}
	cJSON_ArrayForEach(c, json_get(ps->pod, "spec.containers")) {
		cur = pod_observed_latest(&ps->obs, json_get_string(c, "name"),
		    NULL);
		if (cur == NULL || cur->state != POD_CSTATE_EXITED)
			all = 0;
		else if (cur->exit_code != 0)
			ok = 0;
	}
	return all && (rp == POD_RESTART_NEVER || ok);
}

/* Wall-clock nanoseconds as RFC 3339 with milliseconds, for the log. */
static void
pod_plan_stamp(int64_t ns, char *buf, size_t len)
{
	time_t		t = (time_t)(ns / 1000000000);
	struct tm	tm;
	char		sec[24];

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", sec, (int)(ns / 1000000 % 1000));
}

/*
 * The kubelet's restart back-off for an exited instance: 1 when it may
 * start again now, 0 when it waits (CrashLoopBackOff, wake planned). A
 * decision to start is logged with the delay and the exit it counts from,
 * so that tests check the decision rather than when a container appeared.
 */
static int
pod_plan_backoff(struct pod_sync *ps, struct pod_ctr *ctr,
    const struct pod_cinst *cur, struct pod_plan *plan)
{
	int64_t		 now = pod_plan_now_ns(), fin = cur->finished_ns;
	uint64_t	 elapsed;
	char		*msg, at[40];

	if (fin <= 0)
		fin = now;
	pod_plan_stamp(fin, at, sizeof(at));
	if (ctr->backoff_ms == 0 || fin - ctr->backoff_at_ns >
	    POD_PLAN_BACKOFF_RESET_NS) {
		log_info("%s: container %s: starting attempt %u at once after "
		    "exit at %s", ps->label, ctr->name, cur->attempt + 1, at);
		ctr->backoff_ms = POD_PLAN_BACKOFF_MIN_MS;
		ctr->backoff_at_ns = fin;
		return 1;
	}
	if (fin == ctr->backoff_at_ns)
		return 1;
	elapsed = now > fin ? (uint64_t)((now - fin) / 1000000) : 0;
	if (elapsed >= ctr->backoff_ms) {
		log_info("%s: container %s: starting attempt %u after back-off "
		    "%llus from exit at %s", ps->label, ctr->name,
		    cur->attempt + 1,
		    (unsigned long long)(ctr->backoff_ms / 1000), at);
		ctr->backoff_at_ns = fin;
		ctr->backoff_ms *= 2;
		if (ctr->backoff_ms > POD_PLAN_BACKOFF_MAX_MS)
			ctr->backoff_ms = POD_PLAN_BACKOFF_MAX_MS;
		return 1;
	}
	xasprintf(&msg, "back-off %llus restarting failed container=%s "
	    "pod=%s_%s(%s)", (unsigned long long)(ctr->backoff_ms / 1000),
	    ctr->name, ps->name, ps->ns, ps->uid);
	pod_sync_ctr_wait(ctr, "CrashLoopBackOff", msg);
	free(msg);
	xasprintf(&msg, "Back-off restarting failed container %s in pod "
	    "%s_%s(%s)", ctr->name, ps->name, ps->ns, ps->uid);
	pod_plan_event_once(ps, ctr, "Warning", "BackOff", msg);
	free(msg);
	pod_plan_wake(plan, ctr->backoff_ms - elapsed);
	return 0;
}

/*
 * A new instance of container c at attempt, unless its image name is
 * invalid or a pull or config error still waits.
 */
static void
pod_plan_start(struct pod_sync *ps, const cJSON *c, uint32_t attempt,
    struct pod_plan *plan)
{
	struct pod_ctr	*ctr = pod_sync_ctr(ps, json_get_string(c, "name"));
	const char	*image = json_get_string(c, "image");
	uint64_t	 now = clock_mono_ms();
	char		*msg;

	if (now < ctr->config_retry) {
		pod_plan_wake(plan, ctr->config_retry - now);
		return;
	}
	if (!pod_spec_image_valid(image)) {
		xasprintf(&msg, "Failed to apply default image tag \"%s\": "
		    "couldn't parse image name \"%s\": invalid reference "
		    "format", image, image);
		pod_sync_ctr_wait(ctr, "InvalidImageName", msg);
		pod_plan_event_once(ps, ctr, "Warning", "InspectFailed", msg);
		free(msg);
		return;
	}
	if (now < ctr->pull_until) {
		xasprintf(&msg, "Back-off pulling image \"%s\"", image);
		if (ctr->reason == NULL || strcmp(ctr->reason,
		    "ErrImagePull") != 0 || now >= ctr->pull_until -
		    ctr->pull_ms + POD_PLAN_FRESH_MS) {
			pod_sync_ctr_wait(ctr, "ImagePullBackOff", msg);
			pod_plan_event_once(ps, ctr, "Normal", "BackOff", msg);
		} else
			pod_plan_wake(plan, ctr->pull_until - ctr->pull_ms +
			    POD_PLAN_FRESH_MS - now);
		free(msg);
		pod_plan_wake(plan, ctr->pull_until - now);
		return;
	}
	pod_plan_add(plan, POD_OP_START, ctr->name, NULL, attempt, 0);
}

/* Whether the policy restarts an instance that exited with code. */
static int
pod_plan_should_restart(const struct pod_sync *ps, int32_t code)
{
	switch (pod_spec_restart(ps->pod)) {
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
pod_plan_first(struct pod_sync *ps, const cJSON *c, struct pod_ctr *ctr,
    struct pod_plan *plan)
{
	const struct pod_cinst	*prev;

	prev = pod_observed_latest(&ps->obs, ctr->name, NULL);
	if (prev != NULL && prev->state == POD_CSTATE_EXITED &&
	    prev->have_status && !pod_plan_backoff(ps, ctr, prev, plan))
		return;
	pod_plan_start(ps, c, pod_plan_next_attempt(&ps->obs, ctr->name),
	    plan);
}

/* Init containers in order: 1 when all have succeeded in sandbox sb. */
static int
pod_plan_init(struct pod_sync *ps, const struct pod_sbinst *sb,
    struct pod_plan *plan)
{
	const struct pod_cinst	*cur;
	struct pod_ctr		*ctr;
	const cJSON		*c;
	const char		*name;

	cJSON_ArrayForEach(c, json_get(ps->pod, "spec.initContainers")) {
		name = json_get_string(c, "name");
		ctr = pod_sync_ctr(ps, name);
		cur = pod_plan_latest_in(&ps->obs, name, sb->id);
		if (cur == NULL) {
			pod_plan_first(ps, c, ctr, plan);
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
		if (pod_spec_restart(ps->pod) != POD_RESTART_NEVER &&
		    pod_plan_backoff(ps, ctr, cur, plan))
			pod_plan_start(ps, c, cur->attempt + 1, plan);
		return 0;
	}
	return 1;
}

/* A running instance to kill: liveness failed or the spec changed. */
static void
pod_plan_running(struct pod_sync *ps, const cJSON *c,
    const struct pod_cinst *cur, struct pod_plan *plan)
{
	struct pod_ctr	*ctr = pod_sync_ctr(ps, json_get_string(c, "name"));
	char		 hash[17], *msg;

	pod_spec_container_hash(c, hash);
	if (ctr->unhealthy && ctr->probe_cid != NULL &&
	    strcmp(ctr->probe_cid, cur->id) == 0)
		xasprintf(&msg, "Container %s failed %s probe, will be "
		    "restarted", ctr->name, ctr->started ? "liveness" :
		    "startup");
	else if (cur->hash != NULL && strcmp(cur->hash, hash) != 0)
		xasprintf(&msg, "Container %s definition changed, will be "
		    "restarted", ctr->name);
	else
		return;
	pod_plan_event_once(ps, ctr, "Normal", "Killing", msg);
	free(msg);
	pod_plan_add(plan, POD_OP_KILL, ctr->name, cur->id, cur->attempt,
	    pod_spec_grace(ps->pod));
	plan->v[plan->n - 1].hook = json_get(c, "lifecycle.preStop") != NULL;
}

/* Every regular container in sandbox sb. */
static void
pod_plan_containers(struct pod_sync *ps, const struct pod_sbinst *sb,
    struct pod_plan *plan)
{
	const struct pod_cinst	*cur;
	struct pod_ctr		*ctr;
	const cJSON		*c;
	const char		*name;

	cJSON_ArrayForEach(c, json_get(ps->pod, "spec.containers")) {
		name = json_get_string(c, "name");
		ctr = pod_sync_ctr(ps, name);
		cur = pod_plan_latest_in(&ps->obs, name, sb->id);
		if (cur == NULL)
			pod_plan_first(ps, c, ctr, plan);
		else if (cur->state == POD_CSTATE_CREATED)
			pod_plan_add(plan, POD_OP_RESTART, name, cur->id,
			    cur->attempt, 0);
		else if (cur->state == POD_CSTATE_RUNNING)
			pod_plan_running(ps, c, cur, plan);
		else if (cur->state == POD_CSTATE_EXITED && cur->have_status &&
		    pod_plan_should_restart(ps, cur->exit_code) &&
		    pod_plan_backoff(ps, ctr, cur, plan))
			pod_plan_start(ps, c, cur->attempt + 1, plan);
	}
}

/*
 * Sets up (or refreshes) the volumes; on failure tells FailedMount once
 * per message and retries later. 0 or -1.
 */
static int
pod_plan_volumes(struct pod_sync *ps, struct pod_plan *plan)
{
	struct pod_ctx	 x;
	uint64_t	 now = clock_mono_ms();
	char		*dir, err[1024];
	int		 rc;

	if (now < ps->mount_retry) {
		pod_plan_wake(plan, ps->mount_retry - now);
		return -1;
	}
	pod_sync_ctx(ps, &x);
	xasprintf(&dir, "%s/pods/%s", ps->room->node.state_dir, ps->uid);
	err[0] = '\0';
	rc = pod_volume_setup(&x, dir, err, sizeof(err));
	free(dir);
	if (rc == 0) {
		free(ps->mount_err);
		ps->mount_err = NULL;
		return 0;
	}
	if (ps->mount_err == NULL || strcmp(ps->mount_err, err) != 0) {
		free(ps->mount_err);
		ps->mount_err = xstrdup(err);
		pod_sync_event(ps, "Warning", "FailedMount", NULL, "%s", err);
	}
	ps->mount_retry = now + POD_PLAN_RETRY_MS;
	pod_plan_wake(plan, POD_PLAN_RETRY_MS);
	return -1;
}

/* Clears waiting reasons no longer held by a pending retry. */
static void
pod_plan_reasons(struct pod_sync *ps)
{
	uint64_t	now = clock_mono_ms();
	size_t		i;

	for (i = 0; i < ps->nctrs; i++) {
		if (now < ps->ctrs[i].config_retry ||
		    now < ps->ctrs[i].pull_until)
			continue;
		pod_sync_ctr_wait(&ps->ctrs[i], NULL, NULL);
	}
}

/* No ready sandbox: stop what runs elsewhere, then make one. */
static void
pod_plan_sandbox(struct pod_sync *ps, struct pod_plan *plan)
{
	uint64_t	now = clock_mono_ms();
	uint32_t	attempt = 0;
	size_t		i;

	if (plan->n > 0 || pod_plan_finished(ps))
		return;
	if (now < ps->sandbox_until) {
		pod_plan_wake(plan, ps->sandbox_until - now);
		return;
	}
	if (pod_plan_volumes(ps, plan) == -1)
		return;
	for (i = 0; i < ps->obs.nsb; i++)
		if (ps->obs.sb[i].attempt + 1 > attempt)
			attempt = ps->obs.sb[i].attempt + 1;
	if (ps->obs.nsb > 0)
		pod_sync_event(ps, "Normal", "SandboxChanged", NULL,
		    "Pod sandbox changed, it will be killed and re-created.");
	pod_plan_add(plan, POD_OP_RUN_SANDBOX, NULL, NULL, attempt, 0);
}

/* A pod to run: its sandbox, init containers, containers, then tidying. */
static void
pod_plan_run(struct pod_sync *ps, struct pod_plan *plan)
{
	const struct pod_sbinst	*sb = pod_observed_sandbox(&ps->obs);
	const struct pod_cinst	*c;
	size_t			 i;

	pod_plan_reasons(ps);
	for (i = 0; i < ps->obs.nsb; i++)
		if (ps->obs.sb[i].ready && &ps->obs.sb[i] != sb)
			pod_plan_add(plan, POD_OP_STOP_SANDBOX, NULL,
			    ps->obs.sb[i].id, 0, 0);
	for (i = 0; i < ps->obs.nc; i++) {
		c = &ps->obs.c[i];
		if (c->state != POD_CSTATE_EXITED && (sb == NULL ||
		    strcmp(c->sandbox_id, sb->id) != 0))
			pod_plan_add(plan, POD_OP_KILL, c->name, c->id,
			    c->attempt, pod_spec_grace(ps->pod));
	}
	if (sb == NULL) {
		pod_plan_sandbox(ps, plan);
		return;
	}
	if (pod_plan_volumes(ps, plan) == -1)
		return;
	if (pod_plan_init(ps, sb, plan))
		pod_plan_containers(ps, sb, plan);
	if (plan->n == 0)
		pod_gc_plan(ps, &ps->obs, plan);
}

/* Deleting, unable to run, finished, or running: what next. */
void
pod_plan_compute(struct pod_sync *ps, struct pod_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	if (pod_sync_deleting(ps)) {
		pod_plan_terminate(ps, plan, 1);
		return;
	}
	if (ps->invalid) {
		plan->phase = "Failed";
		plan->reason = "InvalidSpec";
		plan->message = ps->invalid_msg;
		pod_plan_terminate(ps, plan, 0);
		return;
	}
	if (pod_plan_finished(ps)) {
		pod_plan_terminate(ps, plan, 0);
		return;
	}
	pod_plan_run(ps, plan);
}
