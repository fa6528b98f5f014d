/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod status from what the runtime reports: the phase, the conditions
 * (PodScheduled, Initialized, ContainersReady, Ready), one status per init
 * container and container (state and last state with reason, exit code
 * and times; ready; started; restart count; image and image ID; the
 * containerd:// ID), the pod and host IPs, the start time and the QoS
 * class, computed as a kubelet computes them. The input is the pod, the
 * observed sandboxes and container instances, and what the sync machine
 * knows besides (why a container waits, probe results); the previous
 * status keeps transition times and the start time stable. Pure functions:
 * pod_sync.c stores and sends the result.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"

/* The newest instance of container name and the one before it. */
const struct pod_cinst *
pod_observed_latest(const struct pod_observed *o, const char *name,
    const struct pod_cinst **prev)
{
	const struct pod_cinst	*best = NULL, *second = NULL, *c;
	size_t			 i;

	if (prev != NULL)
		*prev = NULL;
	if (name == NULL)
		return NULL;
	for (i = 0; i < o->nc; i++) {
		c = &o->c[i];
		if (c->name == NULL || strcmp(c->name, name) != 0)
			continue;
		if (best == NULL || c->attempt > best->attempt ||
		    (c->attempt == best->attempt &&
		    c->created_ns > best->created_ns)) {
			second = best;
			best = c;
		} else if (second == NULL || c->attempt > second->attempt ||
		    (c->attempt == second->attempt &&
		    c->created_ns > second->created_ns))
			second = c;
	}
	if (prev != NULL)
		*prev = second;
	return best;
}

/* The newest sandbox that is ready, or NULL. */
const struct pod_sbinst *
pod_observed_sandbox(const struct pod_observed *o)
{
	const struct pod_sbinst	*best = NULL;
	size_t			 i;

	for (i = 0; i < o->nsb; i++) {
		if (!o->sb[i].ready)
			continue;
		if (best == NULL || o->sb[i].attempt > best->attempt ||
		    (o->sb[i].attempt == best->attempt &&
		    o->sb[i].created_ns > best->created_ns))
			best = &o->sb[i];
	}
	return best;
}

/* Frees an observation (kept usable, empty). */
void
pod_observed_clear(struct pod_observed *o)
{
	size_t	i;

	for (i = 0; i < o->nsb; i++) {
		free(o->sb[i].id);
		free(o->sb[i].ip);
		pod_strv_clear(&o->sb[i].ips);
		free(o->sb[i].pod_uid);
		free(o->sb[i].pod_name);
		free(o->sb[i].pod_ns);
	}
	for (i = 0; i < o->nc; i++)
		pod_cinst_clear(&o->c[i]);
	free(o->sb);
	free(o->c);
	memset(o, 0, sizeof(*o));
}

/* Frees the strings of an instance and zeroes it. */
void
pod_cinst_clear(struct pod_cinst *c)
{
	free(c->id);
	free(c->sandbox_id);
	free(c->name);
	free(c->reason);
	free(c->message);
	free(c->image);
	free(c->image_ref);
	free(c->hash);
	free(c->pod_uid);
	memset(c, 0, sizeof(*c));
}

/* The sync machine's notes on container name, or NULL. */
const struct pod_cinfo *
pod_status_info(const struct pod_status_in *in, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < in->ninfo; i++)
		if (strcmp(in->info[i].name, name) == 0)
			return &in->info[i];
	return NULL;
}

/* Wall-clock nanoseconds as RFC 3339, into a JSON member. */
static void
pod_status_time(cJSON *obj, const char *name, int64_t ns)
{
	char	buf[64];

	if (ns <= 0) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	clock_rfc3339((time_t)(ns / 1000000000), buf, sizeof(buf));
	cJSON_AddStringToObject(obj, name, buf);
}

/* "containerd://<id>". */
static void
pod_status_cid(cJSON *obj, const char *member, const struct pod_cinst *c)
{
	char	*s;

	xasprintf(&s, "containerd://%s", c->id);
	cJSON_AddStringToObject(obj, member, s);
	free(s);
}

/* The reason of a terminated instance: the runtime's, else by exit code. */
static const char *
pod_status_exit_reason(const struct pod_cinst *c)
{
	if (c->reason != NULL && *c->reason != '\0')
		return c->reason;
	return c->exit_code == 0 ? "Completed" : "Error";
}

/* A "terminated" state object for an exited instance. */
static cJSON *
pod_status_terminated(const struct pod_cinst *c)
{
	cJSON	*st, *t;

	st = cJSON_CreateObject();
	t = cJSON_AddObjectToObject(st, "terminated");
	cJSON_AddNumberToObject(t, "exitCode", c->exit_code);
	cJSON_AddStringToObject(t, "reason", pod_status_exit_reason(c));
	if (c->message != NULL && *c->message != '\0')
		cJSON_AddStringToObject(t, "message", c->message);
	pod_status_time(t, "startedAt", c->started_ns);
	pod_status_time(t, "finishedAt", c->finished_ns);
	pod_status_cid(t, "containerID", c);
	return st;
}

/* A "waiting" state object. */
static cJSON *
pod_status_waiting(const char *reason, const char *message)
{
	cJSON	*st, *w;

	st = cJSON_CreateObject();
	w = cJSON_AddObjectToObject(st, "waiting");
	if (reason != NULL)
		cJSON_AddStringToObject(w, "reason", reason);
	if (message != NULL && *message != '\0')
		cJSON_AddStringToObject(w, "message", message);
	return st;
}

/* A "running" state object. */
static cJSON *
pod_status_running(const struct pod_cinst *c)
{
	cJSON	*st, *r;

	st = cJSON_CreateObject();
	r = cJSON_AddObjectToObject(st, "running");
	pod_status_time(r, "startedAt", c->started_ns > 0 ? c->started_ns :
	    c->created_ns);
	return st;
}

/*
 * The state of a container whose newest instance is cur (may be NULL):
 * waiting (with the sync machine's reason, or defwait), running or
 * terminated. An exited instance that will be restarted shows as waiting,
 * its exit as the last state; *last_is_cur says so.
 */
static cJSON *
pod_status_state(const struct pod_cinst *cur, const struct pod_cinfo *ci,
    const char *defwait, int *last_is_cur)
{
	*last_is_cur = 0;
	if (cur == NULL || cur->state == POD_CSTATE_CREATED ||
	    cur->state == POD_CSTATE_UNKNOWN)
		return pod_status_waiting(ci != NULL && ci->waiting_reason !=
		    NULL ? ci->waiting_reason : defwait, ci != NULL ?
		    ci->waiting_message : NULL);
	if (cur->state == POD_CSTATE_RUNNING)
		return pod_status_running(cur);
	if (ci != NULL && ci->waiting_reason != NULL) {
		*last_is_cur = 1;
		return pod_status_waiting(ci->waiting_reason,
		    ci->waiting_message);
	}
	return pod_status_terminated(cur);
}

/* One entry of containerStatuses or initContainerStatuses. */
static cJSON *
pod_status_container(const struct pod_status_in *in, const cJSON *spec,
    const char *defwait)
{
	const struct pod_cinst	*cur, *prev;
	const struct pod_cinfo	*ci;
	const char		*name = json_get_string(spec, "name");
	const char		*image = json_get_string(spec, "image");
	cJSON			*cs, *last;
	int			 last_is_cur, running;

	cur = pod_observed_latest(in->obs, name, &prev);
	ci = pod_status_info(in, name);
	cs = cJSON_CreateObject();
	cJSON_AddStringToObject(cs, "name", name != NULL ? name : "");
	cJSON_AddItemToObject(cs, "state", pod_status_state(cur, ci, defwait,
	    &last_is_cur));
	if (last_is_cur)
		last = pod_status_terminated(cur);
	else if (prev != NULL && prev->state == POD_CSTATE_EXITED)
		last = pod_status_terminated(prev);
	else
		last = cJSON_CreateObject();
	cJSON_AddItemToObject(cs, "lastState", last);
	running = cur != NULL && cur->state == POD_CSTATE_RUNNING;
	cJSON_AddBoolToObject(cs, "ready", running && ci != NULL && ci->ready);
	cJSON_AddNumberToObject(cs, "restartCount", cur != NULL ?
	    cur->attempt : 0);
	cJSON_AddStringToObject(cs, "image", image != NULL ? image : "");
	cJSON_AddStringToObject(cs, "imageID", cur != NULL &&
	    cur->image_ref != NULL ? cur->image_ref : "");
	if (cur != NULL)
		pod_status_cid(cs, "containerID", cur);
	cJSON_AddBoolToObject(cs, "started", running && (ci == NULL ||
	    ci->started));
	return cs;
}

/* Counts of the regular containers, as kubelet's getPhase sees them. */
struct pod_status_counts {
	int	running, waiting, stopped, succeeded, unknown;
	int	init_pending, init_failed;
};

/* Init containers: pending until each exited 0; failed on a bad exit. */
static void
pod_status_count_init(const struct pod_status_in *in,
    struct pod_status_counts *n)
{
	const struct pod_cinst	*cur;
	const struct pod_cinfo	*ci;
	const cJSON		*c;

	cJSON_ArrayForEach(c, json_get(in->pod, "spec.initContainers")) {
		cur = pod_observed_latest(in->obs, json_get_string(c, "name"),
		    NULL);
		ci = pod_status_info(in, json_get_string(c, "name"));
		if (cur == NULL || cur->state != POD_CSTATE_EXITED)
			n->init_pending++;
		else if (cur->exit_code != 0) {
			n->init_failed++;
			if (ci != NULL && ci->waiting_reason != NULL)
				n->init_pending++;
		}
	}
}

/* Regular containers by state. */
static void
pod_status_count(const struct pod_status_in *in, struct pod_status_counts *n)
{
	const struct pod_cinst	*cur, *prev;
	const struct pod_cinfo	*ci;
	const cJSON		*c;

	cJSON_ArrayForEach(c, json_get(in->pod, "spec.containers")) {
		cur = pod_observed_latest(in->obs, json_get_string(c, "name"),
		    &prev);
		ci = pod_status_info(in, json_get_string(c, "name"));
		if (cur == NULL)
			n->unknown++;
		else if (cur->state == POD_CSTATE_RUNNING)
			n->running++;
		else if (cur->state == POD_CSTATE_EXITED &&
		    (ci == NULL || ci->waiting_reason == NULL)) {
			n->stopped++;
			if (cur->exit_code == 0)
				n->succeeded++;
		} else if (cur->state == POD_CSTATE_EXITED)
			n->stopped++;	/* waiting to restart after an exit */
		else
			n->waiting++;
	}
}

/* The phase, as kubelet's getPhase. */
const char *
pod_status_phase(const struct pod_status_in *in)
{
	struct pod_status_counts	n;
	enum pod_restart		rp = pod_spec_restart(in->pod);

	memset(&n, 0, sizeof(n));
	pod_status_count_init(in, &n);
	pod_status_count(in, &n);
	if (n.init_failed > 0 && rp == POD_RESTART_NEVER)
		return "Failed";
	if (n.init_pending > 0 || n.init_failed > 0)
		return "Pending";
	if (n.waiting > 0)
		return "Pending";
	if (n.running > 0 && n.unknown == 0)
		return "Running";
	if (n.running == 0 && n.stopped > 0 && n.unknown == 0) {
		if (rp == POD_RESTART_ALWAYS)
			return "Running";
		if (n.stopped == n.succeeded)
			return "Succeeded";
		if (rp == POD_RESTART_NEVER)
			return "Failed";
		return "Running";
	}
	return "Pending";
}

/* The name of a container status ("" when the spec had none). */
static const char *
pod_status_name(const cJSON *cs)
{
	const char	*n = json_get_string(cs, "name");

	return n != NULL ? n : "";
}

/* A condition, keeping the previous transition time if unchanged. */
static void
pod_status_condition(const struct pod_status_in *in, cJSON *conds,
    const char *type, int ok, const char *reason, const char *message)
{
	const cJSON	*pc;
	const char	*was, *when = NULL;
	cJSON		*c;
	char		 now[64];

	cJSON_ArrayForEach(pc, json_get(in->prev, "conditions")) {
		if ((was = json_get_string(pc, "type")) == NULL ||
		    strcmp(was, type) != 0)
			continue;
		was = json_get_string(pc, "status");
		if (was != NULL && strcmp(was, ok ? "True" : "False") == 0)
			when = json_get_string(pc, "lastTransitionTime");
	}
	clock_rfc3339(in->now, now, sizeof(now));
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", ok ? "True" : "False");
	cJSON_AddNullToObject(c, "lastProbeTime");
	cJSON_AddStringToObject(c, "lastTransitionTime", when != NULL ? when :
	    now);
	if (!ok && reason != NULL)
		cJSON_AddStringToObject(c, "reason", reason);
	if (!ok && message != NULL)
		cJSON_AddStringToObject(c, "message", message);
	cJSON_AddItemToArray(conds, c);
}

/* "containers with <what> status: [a b]" for the names not ok, or NULL. */
static char *
pod_status_names(const cJSON *statuses, const char *flag, const char *what)
{
	const cJSON	*cs;
	char		*list = NULL, *tmp;

	cJSON_ArrayForEach(cs, statuses) {
		if (json_get_bool(cs, flag, 0))
			continue;
		xasprintf(&tmp, "%s%s%s", list != NULL ? list : "",
		    list != NULL ? " " : "", pod_status_name(cs));
		free(list);
		list = tmp;
	}
	if (list == NULL)
		return NULL;
	xasprintf(&tmp, "containers with %s status: [%s]", what, list);
	free(list);
	return tmp;
}

/* Whether an init container's status shows an exit 0. */
static int
pod_status_exited_ok(const cJSON *cs)
{
	int64_t	code;

	return json_get_int(cs, "state.terminated.exitCode", &code) == 0 &&
	    code == 0;
}

/* "containers with incomplete status: [a b]", or NULL when all exited 0. */
static char *
pod_status_init_msg(const cJSON *inits)
{
	const cJSON	*cs;
	char		*list = NULL, *tmp;

	cJSON_ArrayForEach(cs, inits) {
		if (pod_status_exited_ok(cs))
			continue;
		xasprintf(&tmp, "%s%s%s", list != NULL ? list : "",
		    list != NULL ? " " : "", pod_status_name(cs));
		free(list);
		list = tmp;
	}
	if (list == NULL)
		return NULL;
	xasprintf(&tmp, "containers with incomplete status: [%s]", list);
	free(list);
	return tmp;
}

/* The four conditions. */
static void
pod_status_conditions(const struct pod_status_in *in, cJSON *st,
    const char *phase)
{
	cJSON	*conds, *inits, *ctrs;
	char	*msg, *imsg = NULL;
	int	 initialized, ready, completed;

	inits = cJSON_GetObjectItemCaseSensitive(st, "initContainerStatuses");
	ctrs = cJSON_GetObjectItemCaseSensitive(st, "containerStatuses");
	conds = cJSON_AddArrayToObject(st, "conditions");
	imsg = pod_status_init_msg(inits);
	initialized = imsg == NULL || strcmp(phase, "Running") == 0 ||
	    strcmp(phase, "Succeeded") == 0;
	completed = strcmp(phase, "Succeeded") == 0 ||
	    strcmp(phase, "Failed") == 0;
	msg = pod_status_names(ctrs, "ready", "unready");
	ready = msg == NULL && !completed;
	pod_status_condition(in, conds, "PodReadyToStartContainers",
	    pod_observed_sandbox(in->obs) != NULL, NULL, NULL);
	pod_status_condition(in, conds, "Initialized", initialized,
	    "ContainersNotInitialized", imsg);
	pod_status_condition(in, conds, "Ready", ready, completed ?
	    "PodCompleted" : "ContainersNotReady", completed ? NULL : msg);
	pod_status_condition(in, conds, "ContainersReady", ready, completed ?
	    "PodCompleted" : "ContainersNotReady", completed ? NULL : msg);
	pod_status_condition(in, conds, "PodScheduled", 1, NULL, NULL);
	free(msg);
	free(imsg);
}

/* Adds a list of {"ip": ...}. */
static void
pod_status_ips(cJSON *st, const char *member, const char *first,
    const struct pod_strv *more)
{
	cJSON	*arr, *o;
	size_t	 i;

	arr = cJSON_AddArrayToObject(st, member);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ip", first);
	cJSON_AddItemToArray(arr, o);
	for (i = 0; more != NULL && i < more->n; i++) {
		if (strcmp(more->v[i], first) == 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ip", more->v[i]);
		cJSON_AddItemToArray(arr, o);
	}
}

/* podIP(s) from the ready sandbox (the host's on the host network). */
static void
pod_status_pod_ips(const struct pod_status_in *in, cJSON *st)
{
	const struct pod_sbinst	*sb = pod_observed_sandbox(in->obs);
	const char		*ip = NULL;
	const cJSON		*pip;

	if (json_get_bool(in->pod, "spec.hostNetwork", 0) && sb != NULL)
		ip = in->host_ip;
	else if (sb != NULL && sb->ip != NULL && *sb->ip != '\0')
		ip = sb->ip;
	if (ip == NULL) {
		/* a stopped sandbox: keep what the last status said */
		pip = json_get(in->prev, "podIP");
		if (cJSON_IsString(pip) && in->obs->nc > 0)
			ip = pip->valuestring;
	}
	if (ip == NULL || *ip == '\0')
		return;
	cJSON_AddStringToObject(st, "podIP", ip);
	pod_status_ips(st, "podIPs", ip, sb != NULL && ip == sb->ip ?
	    &sb->ips : NULL);
}

/* The status lists of one kind of container. */
static cJSON *
pod_status_list(const struct pod_status_in *in, const char *list,
    const char *defwait)
{
	const cJSON	*c;
	cJSON		*arr;

	arr = cJSON_CreateArray();
	cJSON_ArrayForEach(c, json_get(in->pod, list))
		cJSON_AddItemToArray(arr, pod_status_container(in, c,
		    defwait));
	return arr;
}

/*
 * The pod's status object; caller frees. A terminal phase in the previous
 * status stays (a pod never leaves Succeeded or Failed), and in->phase
 * (with reason and message) overrides the computed one.
 */
cJSON *
pod_status_build(const struct pod_status_in *in)
{
	const char	*phase, *prev_phase, *start;
	cJSON		*st;
	char		 now[64];
	int		 init_pending;

	phase = in->phase != NULL ? in->phase : pod_status_phase(in);
	prev_phase = json_get_string(in->prev, "phase");
	if (prev_phase != NULL && (strcmp(prev_phase, "Succeeded") == 0 ||
	    strcmp(prev_phase, "Failed") == 0))
		phase = prev_phase;
	st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "phase", phase);
	if (in->reason != NULL)
		cJSON_AddStringToObject(st, "reason", in->reason);
	if (in->message != NULL)
		cJSON_AddStringToObject(st, "message", in->message);
	init_pending = json_get(in->pod, "spec.initContainers") != NULL &&
	    cJSON_GetArraySize(json_get(in->pod, "spec.initContainers")) > 0;
	if (init_pending)
		cJSON_AddItemToObject(st, "initContainerStatuses",
		    pod_status_list(in, "spec.initContainers",
		    "PodInitializing"));
	cJSON_AddItemToObject(st, "containerStatuses", pod_status_list(in,
	    "spec.containers", strcmp(phase, "Pending") == 0 &&
	    init_pending && strcmp(pod_status_phase(in), "Pending") == 0 ?
	    "PodInitializing" : "ContainerCreating"));
	pod_status_conditions(in, st, phase);
	if (in->host_ip != NULL && *in->host_ip != '\0') {
		cJSON_AddStringToObject(st, "hostIP", in->host_ip);
		pod_status_ips(st, "hostIPs", in->host_ip, NULL);
	}
	pod_status_pod_ips(in, st);
	clock_rfc3339(in->now, now, sizeof(now));
	start = json_get_string(in->prev, "startTime");
	cJSON_AddStringToObject(st, "startTime", start != NULL ? start : now);
	cJSON_AddStringToObject(st, "qosClass", pod_qos_name(pod_spec_qos(
	    in->pod)));
	return st;
}
