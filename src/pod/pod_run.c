/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The execution of a pod's plan, and the runtime calls of its machine.
 * Observing lists the pod's sandboxes and containers by its uid label,
 * then asks the status of each container whose state is not known yet
 * (an exited instance never changes, so its status is asked once) and the
 * IPs of the ready sandbox. Acting first does the plan's local steps in
 * order (notes and events go to the machine; the volumes are set up, and
 * when that fails FailedMount is told once per message and the rest of
 * the plan is dropped until the mount retry), then runs the plan's calls
 * together: a sandbox is run, stopped or removed; a new container goes
 * through image status, pull (with the pod's registry credentials),
 * create and start; a container is killed (preStop hook, then stop within
 * the grace period) or removed. Each call is an op owned by the machine
 * and cancelled when the machine is freed; when the last op of a round is
 * back the machine is told (OBSERVED, OBSERVE_FAILED or ACTED). Outcomes
 * become events a kubelet would post. The folders of a pod that ended are
 * removed in steps, at most POD_RUN_STEP_ENTRIES entries per loop turn,
 * so a large emptyDir never holds the loop; the machine is told CLEANED
 * when they are gone.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_cri.h"
#include "pod/pod_sync.h"

#define POD_RUN_RETRY_MS	10000
#define POD_RUN_PULL_MIN_MS	10000
#define POD_RUN_PULL_MAX_MS	300000
/* Folder entries removed per loop turn. */
#define POD_RUN_STEP_ENTRIES	256

/* One call (or chain of calls) in flight. */
struct pod_op {
	TAILQ_ENTRY(pod_op)	 entry;
	struct pod_sync		*ps;
	enum pod_op_kind	 kind;
	struct cri_call		*call;
	struct pod_probe	*hook;
	struct pod_volume_rm	*rm;		/* TEARDOWN */
	size_t			 steps;		/* TEARDOWN: loop turns */
	char			*cname;
	char			*id;
	char			*sandbox;	/* START: the sandbox id */
	uint32_t		 attempt;
	int64_t			 grace;
	size_t			 idx;		/* statuses: index in next */
	uint64_t		 started;	/* monotonic ms */
};

static void	pod_run_create(struct pod_op *);
static void	pod_run_stop(struct pod_op *);
static void	pod_run_statuses(struct pod_sync *);

/* A new op of the machine. */
static struct pod_op *
pod_run_op(struct pod_sync *ps, enum pod_op_kind kind, const char *cname,
    const char *id)
{
	struct pod_op	*op;

	op = xcalloc(1, sizeof(*op));
	op->ps = ps;
	op->kind = kind;
	op->cname = cname != NULL ? xstrdup(cname) : NULL;
	op->id = id != NULL ? xstrdup(id) : NULL;
	op->started = clock_mono_ms();
	TAILQ_INSERT_TAIL(&ps->ops, op, entry);
	ps->pending++;
	return op;
}

/* Frees an op (its call already ended or was cancelled). */
static void
pod_run_op_free(struct pod_op *op)
{
	free(op->cname);
	free(op->id);
	free(op->sandbox);
	pod_volume_rm_free(op->rm);
	free(op);
}

/*
 * An op ended: the last of an observation's lists starts the statuses,
 * the last of the statuses or of an action round tells the machine.
 */
static void
pod_run_op_done(struct pod_op *op)
{
	struct pod_sync	*ps = op->ps;
	enum pod_op_kind kind = op->kind;

	TAILQ_REMOVE(&ps->ops, op, entry);
	pod_run_op_free(op);
	if (--ps->pending > 0)
		return;
	if (kind == POD_OP_LIST_SANDBOXES || kind == POD_OP_LIST_CONTAINERS) {
		if (ps->obs_failed)
			pod_sync_done(ps, POD_SYNC_EV_OBSERVE_FAILED);
		else
			pod_run_statuses(ps);
		return;
	}
	if (kind == POD_OP_CONTAINER_STATUS || kind == POD_OP_SANDBOX_STATUS) {
		pod_observed_clear(&ps->obs);
		ps->obs = ps->next;
		memset(&ps->next, 0, sizeof(ps->next));
		pod_sync_done(ps, POD_SYNC_EV_OBSERVED);
		return;
	}
	if (kind == POD_OP_TEARDOWN) {
		pod_sync_done(ps, POD_SYNC_EV_CLEANED);
		return;
	}
	pod_sync_done(ps, POD_SYNC_EV_ACTED);
}

/* Cancels every call in flight; their callbacks never run. */
void
pod_run_cancel_all(struct pod_sync *ps)
{
	struct pod_op	*op;

	if (ps->ev_step != NULL)
		evtimer_del(ps->ev_step);
	while ((op = TAILQ_FIRST(&ps->ops)) != NULL) {
		TAILQ_REMOVE(&ps->ops, op, entry);
		cri_call_cancel(op->call);
		pod_probe_free(op->hook);
		pod_run_op_free(op);
	}
	ps->pending = 0;
}

/* Logs a failed call once, quietly while the runtime is away. */
static void
pod_run_failed(struct pod_sync *ps, const char *what,
    const struct cri_reply *r)
{
	ps->act_failed = 1;
	if (r->code == CRI_UNAVAILABLE)
		log_debug("%s: %s: %s", ps->label, what, r->message);
	else
		log_warnx("%s: %s: %s: %s", ps->label, what,
		    cri_code_name(r->code), r->message);
}

/* ListPodSandbox of an observation. */
static void
pod_run_list_sb_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;
	size_t		 i;

	op->call = NULL;
	if (r->code != CRI_OK) {
		pod_run_failed(ps, "listing sandboxes", r);
		ps->obs_failed = 1;
	} else
		for (i = 0; i < r->u.list_pod_sandbox->n_items; i++)
			pod_cri_add_sandbox(&ps->next,
			    r->u.list_pod_sandbox->items[i]);
	pod_run_op_done(op);
}

/* ListContainers of an observation. */
static void
pod_run_list_ct_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;
	size_t		 i;

	op->call = NULL;
	if (r->code != CRI_OK) {
		pod_run_failed(ps, "listing containers", r);
		ps->obs_failed = 1;
	} else
		for (i = 0; i < r->u.list_containers->n_containers; i++)
			pod_cri_add_container(&ps->next,
			    r->u.list_containers->containers[i]);
	pod_run_op_done(op);
}

/* The label filter of the pod's objects: its uid and our ownership. */
static void
pod_run_labels(struct pod_sync *ps, struct pod_envs *l)
{
	memset(l, 0, sizeof(*l));
	pod_envs_set(l, POD_LABEL_UID, ps->uid);
	pod_envs_set(l, POD_LABEL_OWNER, ps->room->node.state_dir);
}

/* First half of an observation: the pod's sandboxes and containers. */
void
pod_run_observe(struct pod_sync *ps)
{
	Runtime__V1__ListPodSandboxRequest	 sreq =
	    RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;
	Runtime__V1__ListContainersRequest	 creq =
	    RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;
	Runtime__V1__PodSandboxFilter		 sf =
	    RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
	Runtime__V1__ContainerFilter		 cf =
	    RUNTIME__V1__CONTAINER_FILTER__INIT;
	struct pod_cri_arena			 a = { NULL, 0 };
	struct pod_envs				 l;
	struct pod_op				*op;

	pod_observed_clear(&ps->next);
	ps->obs_failed = 0;
	pod_run_labels(ps, &l);
	sf.label_selector = pod_cri_map(&a,
	    &runtime__v1__pod_sandbox_filter__label_selector_entry__descriptor,
	    &l, &sf.n_label_selector);
	cf.label_selector = pod_cri_map(&a,
	    &runtime__v1__container_filter__label_selector_entry__descriptor,
	    &l, &cf.n_label_selector);
	pod_envs_clear(&l);
	sreq.filter = &sf;
	creq.filter = &cf;
	op = pod_run_op(ps, POD_OP_LIST_SANDBOXES, NULL, NULL);
	op->call = cri_list_pod_sandbox(ps->room->cri, &sreq,
	    pod_run_list_sb_cb, op);
	op = pod_run_op(ps, POD_OP_LIST_CONTAINERS, NULL, NULL);
	op->call = cri_list_containers(ps->room->cri, &creq,
	    pod_run_list_ct_cb, op);
	pod_cri_arena_free(&a);
}

/* An exited instance's termination message, when it wrote one. */
static void
pod_run_termlog(struct pod_sync *ps, struct pod_cinst *c)
{
	char	*dir, *msg;

	if (c->state != POD_CSTATE_EXITED)
		return;
	xasprintf(&dir, "%s/pods/%s", ps->room->node.state_dir, ps->uid);
	if ((msg = pod_volume_termlog_read(dir, c->name, c->attempt)) != NULL) {
		free(c->message);
		c->message = msg;
	}
	free(dir);
}

/* ContainerStatus of an observation. */
static void
pod_run_cstatus_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;

	op->call = NULL;
	if (r->code == CRI_OK && r->u.container_status->status != NULL) {
		pod_cri_apply_status(&ps->next.c[op->idx],
		    r->u.container_status->status);
		pod_run_termlog(ps, &ps->next.c[op->idx]);
	} else if (r->code != CRI_OK && r->code != CRI_NOT_FOUND)
		pod_run_failed(ps, "container status", r);
	pod_run_op_done(op);
}

/* PodSandboxStatus of an observation. */
static void
pod_run_sbstatus_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;

	op->call = NULL;
	if (r->code == CRI_OK && r->u.pod_sandbox_status->status != NULL) {
		pod_cri_apply_sandbox_status(&ps->next.sb[op->idx],
		    r->u.pod_sandbox_status->status);
		ps->next.sb[op->idx].have_status = 1;
	} else if (r->code != CRI_OK && r->code != CRI_NOT_FOUND)
		pod_run_failed(ps, "sandbox status", r);
	pod_run_op_done(op);
}

/* Takes what the last observation knew of the same instance. */
static int
pod_run_cached(struct pod_sync *ps, struct pod_cinst *c)
{
	const struct pod_cinst	*o;
	size_t			 i;

	for (i = 0; i < ps->obs.nc; i++) {
		o = &ps->obs.c[i];
		if (strcmp(o->id, c->id) != 0 || o->state != c->state ||
		    !o->have_status)
			continue;
		c->started_ns = o->started_ns;
		c->finished_ns = o->finished_ns;
		c->exit_code = o->exit_code;
		c->reason = o->reason != NULL ? xstrdup(o->reason) : NULL;
		c->message = o->message != NULL ? xstrdup(o->message) : NULL;
		c->have_status = 1;
		return 1;
	}
	return 0;
}

/* Takes the IPs the last observation knew of the same sandbox. */
static int
pod_run_sb_cached(struct pod_sync *ps, struct pod_sbinst *sb)
{
	const struct pod_sbinst	*o;
	size_t			 i, j;

	for (i = 0; i < ps->obs.nsb; i++) {
		o = &ps->obs.sb[i];
		if (strcmp(o->id, sb->id) != 0 || !o->have_status)
			continue;
		sb->ip = o->ip != NULL ? xstrdup(o->ip) : NULL;
		for (j = 0; j < o->ips.n; j++)
			pod_strv_add(&sb->ips, o->ips.v[j]);
		sb->have_status = 1;
		return 1;
	}
	return 0;
}

/* Second half of an observation: the statuses not known yet. */
static void
pod_run_statuses(struct pod_sync *ps)
{
	Runtime__V1__ContainerStatusRequest	 creq =
	    RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
	Runtime__V1__PodSandboxStatusRequest	 sreq =
	    RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
	struct pod_op				*op;
	size_t					 i;

	for (i = 0; i < ps->next.nc; i++) {
		if (pod_run_cached(ps, &ps->next.c[i]))
			continue;
		op = pod_run_op(ps, POD_OP_CONTAINER_STATUS, NULL,
		    ps->next.c[i].id);
		op->idx = i;
		creq.container_id = op->id;
		op->call = cri_container_status(ps->room->cri, &creq,
		    pod_run_cstatus_cb, op);
	}
	for (i = 0; i < ps->next.nsb; i++) {
		if (!ps->next.sb[i].ready || pod_run_sb_cached(ps,
		    &ps->next.sb[i]))
			continue;
		op = pod_run_op(ps, POD_OP_SANDBOX_STATUS, NULL,
		    ps->next.sb[i].id);
		op->idx = i;
		sreq.pod_sandbox_id = op->id;
		op->call = cri_pod_sandbox_status(ps->room->cri, &sreq,
		    pod_run_sbstatus_cb, op);
	}
	if (ps->pending > 0)
		return;
	pod_observed_clear(&ps->obs);
	ps->obs = ps->next;
	memset(&ps->next, 0, sizeof(ps->next));
	pod_sync_done(ps, POD_SYNC_EV_OBSERVED);
}

/* RunPodSandbox answered. */
static void
pod_run_sandbox_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;

	op->call = NULL;
	if (r->code == CRI_OK) {
		log_info("%s: sandbox %.12s running (attempt %u)", ps->label,
		    r->u.run_pod_sandbox->pod_sandbox_id, op->attempt);
		backoff_ok(&ps->sandbox_retry);
		ps->sandbox_until = 0;
	} else {
		/* it may exist all the same: the next observation adopts it */
		pod_sync_event(ps, "Warning", "FailedCreatePodSandBox", NULL,
		    "Failed to create pod sandbox: %s", r->message);
		ps->sandbox_until = clock_mono_ms() +
		    backoff_next(&ps->sandbox_retry);
	}
	pod_run_op_done(op);
}

/* Makes a folder (and its parents) for the runtime to write in. */
static void
pod_run_mkdir(struct pod_sync *ps, const char *dir)
{
	if (pod_volume_mkdirs(dir, 0755) == -1)
		log_warn("%s: mkdir %s", ps->label, dir);
}

/* RunPodSandbox at the planned attempt. */
static void
pod_run_sandbox(struct pod_sync *ps, const struct pod_action *a)
{
	Runtime__V1__RunPodSandboxRequest	 req =
	    RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
	struct pod_cri_arena			 ar = { NULL, 0 };
	struct pod_op				*op;
	char					*dir;
	int					 fallback;

	dir = pod_cri_log_dir(ps->pod);
	pod_run_mkdir(ps, dir);
	free(dir);
	req.config = pod_cri_sandbox(&ar, &ps->room->node, ps->pod,
	    a->attempt, &fallback);
	if (fallback && !ps->dns_warned && json_get_string(ps->pod,
	    "spec.dnsPolicy") != NULL && strcmp(json_get_string(ps->pod,
	    "spec.dnsPolicy"), "Default") != 0) {
		ps->dns_warned = 1;
		pod_sync_event(ps, "Warning", "MissingClusterDNS", NULL,
		    "pod: \"%s_%s(%s)\". kubelet does not have ClusterDNS IP "
		    "configured and cannot create Pod using \"ClusterFirst\" "
		    "policy. Falling back to \"Default\" policy.", ps->name,
		    ps->ns, ps->uid);
	}
	op = pod_run_op(ps, POD_OP_RUN_SANDBOX, NULL, NULL);
	op->attempt = a->attempt;
	log_info("%s: creating sandbox (attempt %u)", ps->label, a->attempt);
	op->call = cri_run_pod_sandbox(ps->room->cri, &req, pod_run_sandbox_cb,
	    op);
	pod_cri_arena_free(&ar);
}

/* Any call whose outcome only needs a log line on failure. */
static void
pod_run_simple_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_sync	*ps = op->ps;
	static const char *const what[] = {
		[POD_OP_STOP_SANDBOX] = "stopping sandbox",
		[POD_OP_REMOVE_SANDBOX] = "removing sandbox",
		[POD_OP_REMOVE] = "removing container",
		[POD_OP_RESTART] = "starting container",
	};

	op->call = NULL;
	if (r->code != CRI_OK && r->code != CRI_NOT_FOUND)
		pod_run_failed(ps, what[op->kind], r);
	else if (op->kind == POD_OP_RESTART && r->code == CRI_OK)
		pod_sync_event(ps, "Normal", "Started", NULL,
		    "Started container %s", op->cname);
	pod_run_op_done(op);
}

/* StopPodSandbox, RemovePodSandbox, RemoveContainer or StartContainer. */
static void
pod_run_simple(struct pod_sync *ps, const struct pod_action *a)
{
	struct pod_op	*op;

	op = pod_run_op(ps, a->kind, a->cname, a->id);
	switch (a->kind) {
	case POD_OP_STOP_SANDBOX: {
		Runtime__V1__StopPodSandboxRequest req =
		    RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;

		req.pod_sandbox_id = op->id;
		log_info("%s: stopping sandbox %.12s", ps->label, op->id);
		op->call = cri_stop_pod_sandbox(ps->room->cri, &req,
		    pod_run_simple_cb, op);
		break;
	}
	case POD_OP_REMOVE_SANDBOX: {
		Runtime__V1__RemovePodSandboxRequest req =
		    RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;

		req.pod_sandbox_id = op->id;
		log_info("%s: removing sandbox %.12s", ps->label, op->id);
		op->call = cri_remove_pod_sandbox(ps->room->cri, &req,
		    pod_run_simple_cb, op);
		break;
	}
	case POD_OP_REMOVE: {
		Runtime__V1__RemoveContainerRequest req =
		    RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;

		req.container_id = op->id;
		log_debug("%s: removing container %s %.12s", ps->label,
		    op->cname, op->id);
		op->call = cri_remove_container(ps->room->cri, &req,
		    pod_run_simple_cb, op);
		break;
	}
	default: {
		Runtime__V1__StartContainerRequest req =
		    RUNTIME__V1__START_CONTAINER_REQUEST__INIT;

		req.container_id = op->id;
		log_info("%s: starting created container %s %.12s",
		    ps->label, op->cname, op->id);
		op->call = cri_start_container(ps->room->cri, &req,
		    pod_run_simple_cb, op);
		break;
	}
	}
}

/* The field path of a container in events. */
static char *
pod_run_field(const struct pod_op *op)
{
	char	*f;
	int	 init = 0;

	pod_sync_container_spec(op->ps, op->cname, &init);
	xasprintf(&f, "spec.%s{%s}", init ? "initContainers" : "containers",
	    op->cname);
	return f;
}

/* An event about the op's container. */
static void __attribute__((format(printf, 4, 5)))
pod_run_event(struct pod_op *op, const char *type, const char *reason,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *field;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("pods: out of memory");
	va_end(ap);
	field = pod_run_field(op);
	pod_sync_event(op->ps, type, reason, field, "%s", msg);
	free(field);
	free(msg);
}

/* A container could not be made: it waits with reason until a retry. */
static void
pod_run_config_error(struct pod_op *op, const char *reason, const char *msg)
{
	struct pod_ctr	*ctr = pod_sync_ctr(op->ps, op->cname);

	pod_sync_ctr_wait(ctr, reason, msg);
	ctr->config_retry = clock_mono_ms() + POD_RUN_RETRY_MS;
	pod_run_event(op, "Warning", "Failed", "Error: %s", msg);
}

/* StartContainer of a new instance answered. */
static void
pod_run_start_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;

	op->call = NULL;
	if (r->code == CRI_OK)
		pod_run_event(op, "Normal", "Started", "Started container %s",
		    op->cname);
	else
		pod_run_event(op, "Warning", "Failed", "Error: %s",
		    r->message);
	pod_run_op_done(op);
}

/* CreateContainer answered: start it. */
static void
pod_run_created_cb(const struct cri_reply *r, void *arg)
{
	Runtime__V1__StartContainerRequest	 req =
	    RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
	struct pod_op				*op = arg;

	op->call = NULL;
	if (r->code != CRI_OK) {
		pod_run_failed(op->ps, "creating container", r);
		pod_run_config_error(op, "CreateContainerError", r->message);
		pod_run_op_done(op);
		return;
	}
	pod_run_event(op, "Normal", "Created", "Created container %s",
	    op->cname);
	free(op->id);
	op->id = xstrdup(r->u.create_container->container_id);
	req.container_id = op->id;
	op->call = cri_start_container(op->ps->room->cri, &req,
	    pod_run_start_cb, op);
}

/* The environment and mounts of a new instance; -1 after telling why. */
static int
pod_run_prepare(struct pod_op *op, const cJSON *c, struct pod_envs *env,
    struct pod_mounts *m)
{
	struct pod_sync	*ps = op->ps;
	struct pod_ctx	 x;
	char		 err[512], *dir;
	int		 rc;

	pod_sync_ctx(ps, &x);
	if (pod_env_build(&x, c, env, err, sizeof(err)) == -1) {
		pod_run_config_error(op, "CreateContainerConfigError", err);
		return -1;
	}
	xasprintf(&dir, "%s/pods/%s", ps->room->node.state_dir, ps->uid);
	rc = pod_volume_mounts(&x, dir, c, env, m, err, sizeof(err));
	if (rc == 0 && (rc = pod_volume_termlog(dir, c, op->attempt, m, err,
	    sizeof(err))) == -1)
		pod_mounts_clear(m);
	free(dir);
	if (rc == -1) {
		pod_envs_clear(env);
		pod_run_config_error(op, "CreateContainerConfigError", err);
		return -1;
	}
	return 0;
}

/* CreateContainer of the op's container in its sandbox. */
static void
pod_run_create(struct pod_op *op)
{
	Runtime__V1__CreateContainerRequest	 req =
	    RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
	struct pod_sync				*ps = op->ps;
	struct pod_cri_arena			 ar = { NULL, 0 };
	struct pod_envs				 env;
	struct pod_mounts			 m;
	const cJSON				*c;
	char					*dir;
	int					 fallback;

	c = pod_sync_container_spec(ps, op->cname, NULL);
	if (c == NULL || pod_run_prepare(op, c, &env, &m) == -1) {
		pod_run_op_done(op);
		return;
	}
	dir = pod_cri_log_dir(ps->pod);
	pod_run_mkdir(ps, dir);
	free(dir);
	req.pod_sandbox_id = op->sandbox;
	req.config = pod_cri_container(&ar, &ps->room->node, ps->pod, c,
	    op->attempt, &env, &m);
	req.sandbox_config = pod_cri_sandbox(&ar, &ps->room->node, ps->pod, 0,
	    &fallback);
	log_info("%s: creating container %s (attempt %u)", ps->label,
	    op->cname, op->attempt);
	op->call = cri_create_container(ps->room->cri, &req,
	    pod_run_created_cb, op);
	pod_cri_arena_free(&ar);
	pod_envs_clear(&env);
	pod_mounts_clear(&m);
}

/* PullImage answered. */
static void
pod_run_pulled_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	struct pod_ctr	*ctr = pod_sync_ctr(op->ps, op->cname);
	const cJSON	*c = pod_sync_container_spec(op->ps, op->cname, NULL);
	const char	*image = json_get_string(c, "image");
	uint64_t	 now = clock_mono_ms();

	op->call = NULL;
	if (r->code != CRI_OK) {
		pod_run_event(op, "Warning", "Failed", "Failed to pull image "
		    "\"%s\": %s", image, r->message);
		pod_run_event(op, "Warning", "Failed", "Error: ErrImagePull");
		pod_sync_ctr_wait(ctr, "ErrImagePull", r->message);
		ctr->pull_ms = ctr->pull_ms == 0 ? POD_RUN_PULL_MIN_MS :
		    ctr->pull_ms * 2;
		if (ctr->pull_ms > POD_RUN_PULL_MAX_MS)
			ctr->pull_ms = POD_RUN_PULL_MAX_MS;
		ctr->pull_until = now + ctr->pull_ms;
		pod_run_op_done(op);
		return;
	}
	ctr->pull_ms = 0;
	ctr->pull_until = 0;
	pod_run_event(op, "Normal", "Pulled", "Successfully pulled image "
	    "\"%s\" in %.3fs", image, (double)(now - op->started) / 1000);
	pod_run_create(op);
}

/* PullImage with the pod's credentials for the registry, if any. */
static void
pod_run_pull(struct pod_op *op, const char *image)
{
	Runtime__V1__PullImageRequest	req =
	    RUNTIME__V1__PULL_IMAGE_REQUEST__INIT;
	Runtime__V1__ImageSpec		spec = RUNTIME__V1__IMAGE_SPEC__INIT;
	Runtime__V1__AuthConfig		auth = RUNTIME__V1__AUTH_CONFIG__INIT;
	struct pod_auth			a;
	struct pod_ctx			x;

	pod_run_event(op, "Normal", "Pulling", "Pulling image \"%s\"", image);
	op->started = clock_mono_ms();
	spec.image = (char *)image;
	req.image = &spec;
	pod_sync_ctx(op->ps, &x);
	if (pod_env_pull_auth(&x, image, &a) == 0) {
		auth.username = a.username;
		auth.password = a.password;
		auth.server_address = a.server;
		req.auth = &auth;
	}
	op->call = cri_pull_image(op->ps->room->cri, &req, pod_run_pulled_cb,
	    op);
	pod_auth_clear(&a);
}

/* ImageStatus answered: pull when missing (and allowed). */
static void
pod_run_image_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;
	const cJSON	*c = pod_sync_container_spec(op->ps, op->cname, NULL);
	const char	*image = json_get_string(c, "image");
	char		*msg;

	op->call = NULL;
	if (r->code == CRI_OK && r->u.image_status->image != NULL) {
		pod_run_event(op, "Normal", "Pulled", "Container image \"%s\" "
		    "already present on machine", image);
		pod_run_create(op);
		return;
	}
	if (r->code != CRI_OK) {
		pod_run_failed(op->ps, "image status", r);
		pod_run_op_done(op);
		return;
	}
	if (pod_spec_pull_policy(c) == POD_PULL_NEVER) {
		xasprintf(&msg, "Container image \"%s\" is not present with "
		    "pull policy of Never", image);
		pod_run_config_error(op, "ErrImageNeverPull", msg);
		free(msg);
		pod_run_op_done(op);
		return;
	}
	pod_run_pull(op, image);
}

/* A new instance: image status or pull, then create and start. */
static void
pod_run_new_container(struct pod_sync *ps, const struct pod_action *a)
{
	Runtime__V1__ImageStatusRequest	 req =
	    RUNTIME__V1__IMAGE_STATUS_REQUEST__INIT;
	Runtime__V1__ImageSpec		 spec = RUNTIME__V1__IMAGE_SPEC__INIT;
	const struct pod_sbinst		*sb = pod_observed_sandbox(&ps->obs);
	const cJSON			*c;
	struct pod_op			*op;

	c = pod_sync_container_spec(ps, a->cname, NULL);
	if (c == NULL || sb == NULL)
		return;
	op = pod_run_op(ps, POD_OP_START, a->cname, NULL);
	op->attempt = a->attempt;
	op->sandbox = xstrdup(sb->id);
	if (pod_spec_pull_policy(c) == POD_PULL_ALWAYS) {
		pod_run_pull(op, json_get_string(c, "image"));
		return;
	}
	spec.image = (char *)json_get_string(c, "image");
	req.image = &spec;
	op->call = cri_image_status(ps->room->cri, &req, pod_run_image_cb,
	    op);
}

/* StopContainer answered. */
static void
pod_run_stopped_cb(const struct cri_reply *r, void *arg)
{
	struct pod_op	*op = arg;

	op->call = NULL;
	if (r->code != CRI_OK && r->code != CRI_NOT_FOUND)
		pod_run_failed(op->ps, "stopping container", r);
	else
		log_info("%s: container %s %.12s stopped", op->ps->label,
		    op->cname, op->id);
	pod_run_op_done(op);
}

/* StopContainer within what is left of the grace period. */
static void
pod_run_stop(struct pod_op *op)
{
	Runtime__V1__StopContainerRequest	req =
	    RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
	uint64_t				spent;
	int64_t					grace = op->grace;

	spent = (clock_mono_ms() - op->started) / 1000;
	grace -= (int64_t)spent;
	if (grace < 2)
		grace = 2;
	req.container_id = op->id;
	req.timeout = grace;
	log_info("%s: stopping container %s %.12s, grace %llds",
	    op->ps->label, op->cname, op->id, (long long)grace);
	op->call = cri_stop_container(op->ps->room->cri, &req,
	    pod_run_stopped_cb, op);
}

/* The preStop hook finished (or failed): stop now. */
static void
pod_run_hook_cb(int ok, const char *msg, void *arg)
{
	struct pod_op	*op = arg;

	if (!ok)
		pod_run_event(op, "Warning", "FailedPreStopHook", "PreStopHook "
		    "failed: %s", msg != NULL ? msg : "");
	op->hook = NULL;
	pod_run_stop(op);
}

/* Kills a container: its preStop hook first when asked, then stop. */
static void
pod_run_kill(struct pod_sync *ps, const struct pod_action *a)
{
	const cJSON	*c = pod_sync_container_spec(ps, a->cname, NULL);
	struct pod_op	*op;

	op = pod_run_op(ps, POD_OP_KILL, a->cname, a->id);
	op->grace = a->grace;
	if (c != NULL)
		pod_run_event(op, "Normal", "Killing", "Stopping container %s",
		    a->cname);
	if (a->hook && c != NULL) {
		op->hook = pod_probe_hook(ps, a->cname, a->id, json_get(c,
		    "lifecycle.preStop"), c, a->grace, pod_run_hook_cb, op);
		if (op->hook != NULL)
			return;
	}
	pod_run_stop(op);
}

/* Starts every action of the plan at once. */
void
pod_run_start(struct pod_sync *ps, const struct pod_plan *plan)
{
	size_t	i;

	ps->act_failed = 0;
	/* every op of the round is made before any can complete */
	for (i = 0; i < plan->n; i++) {
		switch (plan->v[i].kind) {
		case POD_OP_RUN_SANDBOX:
			pod_run_sandbox(ps, &plan->v[i]);
			break;
		case POD_OP_START:
			pod_run_new_container(ps, &plan->v[i]);
			break;
		case POD_OP_KILL:
			pod_run_kill(ps, &plan->v[i]);
			break;
		case POD_OP_STOP_SANDBOX:
		case POD_OP_REMOVE_SANDBOX:
		case POD_OP_REMOVE:
		case POD_OP_RESTART:
			pod_run_simple(ps, &plan->v[i]);
			break;
		default:
			break;
		}
	}
	if (ps->pending == 0)
		pod_sync_done(ps, POD_SYNC_EV_ACTED);
}

/* Sets up (or refreshes) the pod's volumes; FailedMount once per text. */
static int
pod_run_volumes(struct pod_sync *ps)
{
	struct pod_ctx	 x;
	char		*dir, err[1024];
	int		 rc;

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
	ps->mount_retry = clock_mono_ms() + POD_PLAN_MOUNT_RETRY_MS;
	return -1;
}

/*
 * The plan's local steps, in order, before any call: notes and events go
 * to the machine, the volumes are set up. A failed setup drops the rest of
 * the plan; the machine looks again at the mount retry at the latest.
 */
void
pod_run_local(struct pod_sync *ps, struct pod_plan *plan)
{
	const struct pod_action	*a;
	size_t			 i;

	for (i = 0; i < plan->n; i++) {
		a = &plan->v[i];
		if (a->kind != POD_OP_SETUP_VOLUMES) {
			pod_sync_note(ps, a);
			continue;
		}
		if (pod_run_volumes(ps) == 0)
			continue;
		plan->wake_ms = a->ms > 0 && a->ms < POD_PLAN_MOUNT_RETRY_MS ?
		    a->ms : POD_PLAN_MOUNT_RETRY_MS;
		pod_plan_drop(plan, i + 1);
		return;
	}
}

/* Arms the next step of the folder removals (on a later loop turn). */
static void
pod_run_step_arm(struct pod_sync *ps)
{
	clock_timer_add(ps->ev_step, 0);
}

/* One step of the first folder removal; the next turn does more. */
static void
pod_run_step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pod_sync	*ps = arg;
	struct pod_op	*op, *next;
	int		 rc;

	TAILQ_FOREACH(op, &ps->ops, entry)
		if (op->kind == POD_OP_TEARDOWN)
			break;
	if (op == NULL) {
		/* the plan had no folder to remove */
		pod_sync_done(ps, POD_SYNC_EV_CLEANED);
		return;
	}
	op->steps++;
	if ((rc = pod_volume_rm_step(op->rm, POD_RUN_STEP_ENTRIES)) == 1) {
		pod_run_step_arm(ps);
		return;
	}
	if (rc == -1)
		log_warnx("%s: could not remove all of %s", ps->label, op->id);
	else
		log_debug("%s: removed %s in %zu steps", ps->label, op->id,
		    op->steps);
	for (next = TAILQ_NEXT(op, entry); next != NULL;
	    next = TAILQ_NEXT(next, entry))
		if (next->kind == POD_OP_TEARDOWN) {
			pod_run_step_arm(ps);
			break;
		}
	/* the last one tells the machine, which may end */
	pod_run_op_done(op);
}

/*
 * Removes the folders of the plan's TEARDOWN actions in steps, from the
 * next loop turn on; CLEANED follows when they are gone.
 */
void
pod_run_teardown(struct pod_sync *ps, const struct pod_plan *plan)
{
	struct pod_op	*op;
	size_t		 i;

	if (ps->ev_step == NULL && (ps->ev_step = evtimer_new(ps->room->base,
	    pod_run_step_cb, ps)) == NULL)
		fatalx("pods: cannot create events");
	for (i = 0; i < plan->n; i++) {
		if (plan->v[i].kind != POD_OP_TEARDOWN)
			continue;
		op = pod_run_op(ps, POD_OP_TEARDOWN, NULL, plan->v[i].id);
		op->rm = pod_volume_rm_new(op->id);
	}
	/* even with nothing to remove, CLEANED comes on a later turn */
	pod_run_step_arm(ps);
}
