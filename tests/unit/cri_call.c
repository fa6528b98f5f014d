/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cri_call: runs a sequence of CRI calls through the cri room, for the
 * integration tests (tests/integration/test_70_cri.py). Operations are
 * separated by "--"; each prints one line "<op> <CODE> [details]" when it
 * ends (stdout, flushed), state changes print "state <name>". An id made
 * by run-sandbox or create is remembered and used when an operation names
 * none ("$sandbox", "$container" also name them). Exit 0 when every
 * operation ended as expected (OK, or the code given with expect=CODE),
 * 1 otherwise, 2 on bad usage.
 *
 *   version | status | wait-ready [ms] | sleep ms | timeout ms
 *   list-sandboxes (a line "sandbox id ready|notready ns/name uid" each)
 *   run-sandbox name= ns= uid= [port=host:ctr] [logdir=]
 *   sandbox-status [id] | stop-sandbox [id] | remove-sandbox [id]
 *   create image= name= [sandbox=] [cmd=a,b,c] | start|stop|remove [id]
 *   list-containers | container-status [id] | exec [id=] [t=s] cmd...
 *   pull image | image-status image | list-images | remove-image image
 *   many n op...  (n concurrent calls of op: version, list-containers,
 *                  list-sandboxes, list-images)
 *   cancel op...  (starts the call and cancels it at once)
 * Any operation takes expect=CODE.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/health.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "cri/cri.h"

#define CRI_CALL_MAX_ARGS	32

struct cri_call_op {
	char	*argv[CRI_CALL_MAX_ARGS];
	int	 argc;
};

struct cri_tool {
	struct event_base	*base;
	struct cri		*cri;
	struct cri_call_op	*ops;
	int			 nops;
	int			 cur;
	const char		*expect;
	struct event		*timer;
	int			 waiting_ready;
	int			 many_left;
	int			 many_ok;
	int			 many_fail;
	char			 sandbox[128];
	char			 container[128];
	char			*logdir;
	int			 rv;
	int			 done;
};

static void	cri_tool_next(struct cri_tool *);

static void
usage(void)
{
	fprintf(stderr, "usage: cri_call [-v] [-e unix://path] [-l logdir] "
	    "[-m max_msg] [-t ms]\n\top [args] [-- op [args]]...\n");
	exit(2);
}

/* The value of name=... among the arguments of op, or NULL. */
static const char *
cri_tool_arg(struct cri_call_op *op, const char *name)
{
	size_t	len = strlen(name);
	int	i;

	for (i = 1; i < op->argc; i++)
		if (strncmp(op->argv[i], name, len) == 0 &&
		    op->argv[i][len] == '=')
			return op->argv[i] + len + 1;
	return NULL;
}

/* The first positional argument (no '='), or NULL. */
static const char *
cri_tool_pos(struct cri_call_op *op, int n)
{
	int	i;

	for (i = 1; i < op->argc; i++)
		if (strchr(op->argv[i], '=') == NULL && n-- == 0)
			return op->argv[i];
	return NULL;
}

/* An id argument: given, "$sandbox", "$container", or the last made. */
static const char *
cri_tool_id(struct cri_tool *t, struct cri_call_op *op, const char *last)
{
	const char	*id;

	if ((id = cri_tool_arg(op, "id")) == NULL &&
	    (id = cri_tool_pos(op, 0)) == NULL)
		return last;
	if (strcmp(id, "$sandbox") == 0)
		return t->sandbox;
	if (strcmp(id, "$container") == 0)
		return t->container;
	return id;
}

/* Prints the end of the current operation and checks its code. */
static int
cri_tool_result(struct cri_tool *t, const struct cri_reply *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
cri_tool_result(struct cri_tool *t, const struct cri_reply *r,
    const char *fmt, ...)
{
	struct cri_call_op	*op = &t->ops[t->cur];
	const char		*want;
	va_list			 ap;

	want = cri_tool_arg(op, "expect");
	printf("%s %s", op->argv[0], cri_code_name(r->code));
	if (r->code != CRI_OK)
		printf(" sent=%d %s", r->sent, r->message);
	else if (fmt != NULL) {
		printf(" ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	if (strcmp(cri_code_name(r->code), want != NULL ? want : "OK") != 0)
		t->rv = 1;
	return r->code == CRI_OK;
}

/* Completion of most calls: print a summary, go on. */
static void
cri_tool_done_cb(const struct cri_reply *r, void *arg)
{
	struct cri_tool	*t = arg;
	const char	*name = t->ops[t->cur].argv[0];
	size_t		 i;

	if (r->code != CRI_OK) {
		cri_tool_result(t, r, NULL);
	} else if (strcmp(name, "version") == 0) {
		cri_tool_result(t, r, "%s://%s api=%s",
		    r->u.version->runtime_name, r->u.version->runtime_version,
		    r->u.version->runtime_api_version);
	} else if (strcmp(name, "status") == 0) {
		printf("status OK");
		for (i = 0; r->u.status->status != NULL &&
		    i < r->u.status->status->n_conditions; i++)
			printf(" %s=%d", r->u.status->status->conditions[i]->type,
			    r->u.status->status->conditions[i]->status);
		printf("\n");
	} else if (strcmp(name, "list-sandboxes") == 0) {
		for (i = 0; i < r->u.list_pod_sandbox->n_items; i++) {
			Runtime__V1__PodSandbox *p =
			    r->u.list_pod_sandbox->items[i];
			printf("sandbox %s %s %s/%s %s\n", p->id,
			    p->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY ?
			    "ready" : "notready", p->metadata != NULL ?
			    p->metadata->namespace_ : "?", p->metadata != NULL ?
			    p->metadata->name : "?", p->metadata != NULL &&
			    p->metadata->uid != NULL && p->metadata->uid[0] != '\0' ?
			    p->metadata->uid : "?");
		}
		cri_tool_result(t, r, "%zu", r->u.list_pod_sandbox->n_items);
	} else if (strcmp(name, "run-sandbox") == 0) {
		snprintf(t->sandbox, sizeof(t->sandbox), "%s",
		    r->u.run_pod_sandbox->pod_sandbox_id);
		cri_tool_result(t, r, "%s", t->sandbox);
	} else if (strcmp(name, "sandbox-status") == 0) {
		const Runtime__V1__PodSandboxStatus *s =
		    r->u.pod_sandbox_status->status;
		cri_tool_result(t, r, "%s ip=%s", s != NULL && s->state ==
		    RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY ? "ready" :
		    "notready", s != NULL && s->network != NULL ?
		    s->network->ip : "");
	} else if (strcmp(name, "create") == 0) {
		snprintf(t->container, sizeof(t->container), "%s",
		    r->u.create_container->container_id);
		cri_tool_result(t, r, "%s", t->container);
	} else if (strcmp(name, "list-containers") == 0) {
		for (i = 0; i < r->u.list_containers->n_containers; i++) {
			Runtime__V1__Container *c =
			    r->u.list_containers->containers[i];
			printf("container %s %d %s %s\n", c->id, c->state,
			    c->metadata != NULL ? c->metadata->name : "?",
			    c->pod_sandbox_id);
		}
		cri_tool_result(t, r, "%zu", r->u.list_containers->n_containers);
	} else if (strcmp(name, "container-status") == 0) {
		const Runtime__V1__ContainerStatus *s =
		    r->u.container_status->status;
		cri_tool_result(t, r, "state=%d exit=%d reason=%s",
		    s != NULL ? (int)s->state : -1, s != NULL ? s->exit_code : -1,
		    s != NULL ? s->reason : "");
	} else if (strcmp(name, "exec") == 0) {
		const Runtime__V1__ExecSyncResponse *e = r->u.exec_sync;
		char out[256];
		size_t len = e->stdout.len;

		/* One line: the trailing newline goes, others are escaped. */
		while (len > 0 && e->stdout.data[len - 1] == '\n')
			len--;
		cri_tool_result(t, r, "exit=%d stdout=%s", e->exit_code,
		    log_escape((const char *)e->stdout.data, len, out,
		    sizeof(out)));
	} else if (strcmp(name, "image-status") == 0) {
		const Runtime__V1__Image *im = r->u.image_status->image;
		cri_tool_result(t, r, "%s size=%llu", im != NULL ? im->id :
		    "absent", im != NULL ? (unsigned long long)im->size : 0);
	} else if (strcmp(name, "pull") == 0) {
		cri_tool_result(t, r, "%s", r->u.pull_image->image_ref);
	} else if (strcmp(name, "list-images") == 0) {
		for (i = 0; i < r->u.list_images->n_images; i++)
			printf("image %s %s\n", r->u.list_images->images[i]->id,
			    r->u.list_images->images[i]->n_repo_tags > 0 ?
			    r->u.list_images->images[i]->repo_tags[0] : "");
		cri_tool_result(t, r, "%zu", r->u.list_images->n_images);
	} else
		cri_tool_result(t, r, NULL);
	cri_tool_next(t);
}

/* Completion of one of many concurrent calls. */
static void
cri_tool_many_cb(const struct cri_reply *r, void *arg)
{
	struct cri_tool		*t = arg;
	struct cri_call_op	*op = &t->ops[t->cur];

	if (r->code == CRI_OK)
		t->many_ok++;
	else {
		t->many_fail++;
		if (t->many_fail == 1)
			printf("many-error %s %s\n", cri_code_name(r->code),
			    r->message);
	}
	if (--t->many_left > 0)
		return;
	printf("%s %s ok=%d fail=%d\n", op->argv[0], t->many_fail == 0 ?
	    "OK" : "FAILED", t->many_ok, t->many_fail);
	fflush(stdout);
	if (t->many_fail != 0)
		t->rv = 1;
	cri_tool_next(t);
}

/* Builds the labels a kubelet sets on a pod's objects. */
static Runtime__V1__PodSandboxConfig__LabelsEntry **
cri_tool_labels(const char *name, const char *ns, const char *uid,
    size_t *n)
{
	static Runtime__V1__PodSandboxConfig__LabelsEntry	 e[3];
	static Runtime__V1__PodSandboxConfig__LabelsEntry	*v[3];
	static const char *const keys[] = { "io.kubernetes.pod.name",
	    "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid" };
	const char	*vals[3] = { name, ns, uid };
	size_t		 i;

	for (i = 0; i < 3; i++) {
		runtime__v1__pod_sandbox_config__labels_entry__init(&e[i]);
		e[i].key = (char *)keys[i];
		e[i].value = (char *)vals[i];
		v[i] = &e[i];
	}
	*n = 3;
	return v;
}

/* The sandbox config of run-sandbox (static storage: one at a time). */
static Runtime__V1__PodSandboxConfig *
cri_tool_sandbox_config(struct cri_tool *t, struct cri_call_op *op)
{
	static Runtime__V1__PodSandboxConfig	 cfg;
	static Runtime__V1__PodSandboxMetadata	 md;
	static Runtime__V1__PortMapping		 pm, *pms[1];
	const char	*name, *ns, *uid, *port;

	name = (name = cri_tool_arg(op, "name")) != NULL ? name : "test";
	ns = (ns = cri_tool_arg(op, "ns")) != NULL ? ns : "default";
	uid = (uid = cri_tool_arg(op, "uid")) != NULL ? uid : "uid-1";
	runtime__v1__pod_sandbox_config__init(&cfg);
	runtime__v1__pod_sandbox_metadata__init(&md);
	md.name = (char *)name;
	md.namespace_ = (char *)ns;
	md.uid = (char *)uid;
	cfg.metadata = &md;
	cfg.hostname = (char *)name;
	cfg.log_directory = t->logdir;
	cfg.labels = cri_tool_labels(name, ns, uid, &cfg.n_labels);
	if ((port = cri_tool_arg(op, "port")) != NULL) {
		runtime__v1__port_mapping__init(&pm);
		pm.protocol = RUNTIME__V1__PROTOCOL__TCP;
		pm.host_port = atoi(port);
		pm.container_port = strchr(port, ':') != NULL ?
		    atoi(strchr(port, ':') + 1) : pm.host_port;
		pms[0] = &pm;
		cfg.port_mappings = pms;
		cfg.n_port_mappings = 1;
	}
	return &cfg;
}

/* Splits "a,b,c" into a NULL-terminated vector in static storage. */
static char **
cri_tool_split(const char *s, size_t *n)
{
	static char	*v[CRI_CALL_MAX_ARGS];
	static char	 buf[1024];
	char		*p, *save = NULL;

	*n = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (p = strtok_r(buf, ",", &save); p != NULL && *n <
	    CRI_CALL_MAX_ARGS - 1; p = strtok_r(NULL, ",", &save))
		v[(*n)++] = p;
	v[*n] = NULL;
	return v;
}

/* create: a container of image in the last sandbox. */
static struct cri_call *
cri_tool_create(struct cri_tool *t, struct cri_call_op *op, cri_cb cb)
{
	Runtime__V1__CreateContainerRequest	req =
	    RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
	Runtime__V1__ContainerConfig		cfg =
	    RUNTIME__V1__CONTAINER_CONFIG__INIT;
	Runtime__V1__ContainerMetadata		md =
	    RUNTIME__V1__CONTAINER_METADATA__INIT;
	Runtime__V1__ImageSpec			img =
	    RUNTIME__V1__IMAGE_SPEC__INIT;
	const char				*name, *cmd, *sb;
	char					 logpath[300];

	name = (name = cri_tool_arg(op, "name")) != NULL ? name : "c1";
	md.name = (char *)name;
	img.image = (char *)(cri_tool_arg(op, "image") != NULL ?
	    cri_tool_arg(op, "image") : "localhost/edgesite/busybox:latest");
	cfg.metadata = &md;
	cfg.image = &img;
	snprintf(logpath, sizeof(logpath), "%s.log", name);
	cfg.log_path = logpath;
	if ((cmd = cri_tool_arg(op, "cmd")) != NULL)
		cfg.command = cri_tool_split(cmd, &cfg.n_command);
	sb = cri_tool_arg(op, "sandbox");
	req.pod_sandbox_id = (char *)(sb != NULL && strcmp(sb, "$sandbox") !=
	    0 ? sb : t->sandbox);
	req.config = &cfg;
	req.sandbox_config = cri_tool_sandbox_config(t, op);
	return cri_create_container(t->cri, &req, cb, t);
}

/* exec: ExecSync of the positional words in a container. */
static struct cri_call *
cri_tool_exec(struct cri_tool *t, struct cri_call_op *op, cri_cb cb)
{
	Runtime__V1__ExecSyncRequest	 req =
	    RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
	char				*cmd[CRI_CALL_MAX_ARGS];
	const char			*id, *to, *p;
	int				 n = 0;

	id = cri_tool_arg(op, "id");
	req.container_id = (char *)(id != NULL && strcmp(id, "$container") !=
	    0 ? id : t->container);
	while ((p = cri_tool_pos(op, n)) != NULL)
		cmd[n++] = (char *)p;
	req.cmd = cmd;
	req.n_cmd = (size_t)n;
	if ((to = cri_tool_arg(op, "t")) != NULL)
		req.timeout = atoi(to);
	return cri_exec_sync(t->cri, &req, cb, t);
}

/* Image calls: the image named by the first positional argument. */
static struct cri_call *
cri_tool_image(struct cri_tool *t, struct cri_call_op *op, cri_cb cb)
{
	Runtime__V1__ImageSpec			spec =
	    RUNTIME__V1__IMAGE_SPEC__INIT;
	Runtime__V1__PullImageRequest		pull =
	    RUNTIME__V1__PULL_IMAGE_REQUEST__INIT;
	Runtime__V1__ImageStatusRequest		st =
	    RUNTIME__V1__IMAGE_STATUS_REQUEST__INIT;
	Runtime__V1__RemoveImageRequest		rm =
	    RUNTIME__V1__REMOVE_IMAGE_REQUEST__INIT;
	const char				*name = op->argv[0];

	spec.image = (char *)(cri_tool_pos(op, 0) != NULL ?
	    cri_tool_pos(op, 0) : "localhost/edgesite/busybox:latest");
	if (strcmp(name, "pull") == 0) {
		pull.image = &spec;
		return cri_pull_image(t->cri, &pull, cb, t);
	}
	if (strcmp(name, "image-status") == 0) {
		st.image = &spec;
		return cri_image_status(t->cri, &st, cb, t);
	}
	rm.image = &spec;
	return cri_remove_image(t->cri, &rm, cb, t);
}

/* Calls about one sandbox or container, by id. */
static struct cri_call *
cri_tool_by_id(struct cri_tool *t, struct cri_call_op *op, cri_cb cb)
{
	const char	*name = op->argv[0];
	char		*sb, *ct;

	sb = (char *)cri_tool_id(t, op, t->sandbox);
	ct = (char *)cri_tool_id(t, op, t->container);
	if (strcmp(name, "sandbox-status") == 0) {
		Runtime__V1__PodSandboxStatusRequest r =
		    RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
		r.pod_sandbox_id = sb;
		return cri_pod_sandbox_status(t->cri, &r, cb, t);
	} else if (strcmp(name, "stop-sandbox") == 0) {
		Runtime__V1__StopPodSandboxRequest r =
		    RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
		r.pod_sandbox_id = sb;
		return cri_stop_pod_sandbox(t->cri, &r, cb, t);
	} else if (strcmp(name, "remove-sandbox") == 0) {
		Runtime__V1__RemovePodSandboxRequest r =
		    RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
		r.pod_sandbox_id = sb;
		return cri_remove_pod_sandbox(t->cri, &r, cb, t);
	} else if (strcmp(name, "start") == 0) {
		Runtime__V1__StartContainerRequest r =
		    RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
		r.container_id = ct;
		return cri_start_container(t->cri, &r, cb, t);
	} else if (strcmp(name, "stop") == 0) {
		Runtime__V1__StopContainerRequest r =
		    RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
		r.container_id = ct;
		r.timeout = cri_tool_arg(op, "t") != NULL ?
		    atoi(cri_tool_arg(op, "t")) : 2;
		return cri_stop_container(t->cri, &r, cb, t);
	} else if (strcmp(name, "remove") == 0) {
		Runtime__V1__RemoveContainerRequest r =
		    RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;
		r.container_id = ct;
		return cri_remove_container(t->cri, &r, cb, t);
	} else if (strcmp(name, "container-status") == 0) {
		Runtime__V1__ContainerStatusRequest r =
		    RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
		r.container_id = ct;
		return cri_container_status(t->cri, &r, cb, t);
	}
	return NULL;
}

/* Starts the call an operation names; NULL when it is not a call. */
static struct cri_call *
cri_tool_call(struct cri_tool *t, struct cri_call_op *op, const char *name,
    cri_cb cb)
{
	if (strcmp(name, "version") == 0) {
		Runtime__V1__VersionRequest r =
		    RUNTIME__V1__VERSION_REQUEST__INIT;
		return cri_version(t->cri, &r, cb, t);
	} else if (strcmp(name, "status") == 0) {
		Runtime__V1__StatusRequest r = RUNTIME__V1__STATUS_REQUEST__INIT;
		return cri_status(t->cri, &r, cb, t);
	} else if (strcmp(name, "list-sandboxes") == 0) {
		Runtime__V1__ListPodSandboxRequest r =
		    RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;
		return cri_list_pod_sandbox(t->cri, &r, cb, t);
	} else if (strcmp(name, "list-containers") == 0) {
		Runtime__V1__ListContainersRequest r =
		    RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;
		return cri_list_containers(t->cri, &r, cb, t);
	} else if (strcmp(name, "list-images") == 0) {
		Runtime__V1__ListImagesRequest r =
		    RUNTIME__V1__LIST_IMAGES_REQUEST__INIT;
		return cri_list_images(t->cri, &r, cb, t);
	} else if (strcmp(name, "run-sandbox") == 0) {
		Runtime__V1__RunPodSandboxRequest r =
		    RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
		r.config = cri_tool_sandbox_config(t, op);
		return cri_run_pod_sandbox(t->cri, &r, cb, t);
	} else if (strcmp(name, "create") == 0)
		return cri_tool_create(t, op, cb);
	else if (strcmp(name, "exec") == 0)
		return cri_tool_exec(t, op, cb);
	else if (strcmp(name, "pull") == 0 || strcmp(name, "image-status") ==
	    0 || strcmp(name, "remove-image") == 0)
		return cri_tool_image(t, op, cb);
	return cri_tool_by_id(t, op, cb);
}

/* libevent: a sleep ended, or wait-ready gave up. */
static void
cri_tool_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri_tool	*t = arg;

	if (t->waiting_ready) {
		t->waiting_ready = 0;
		printf("wait-ready TIMEOUT %s\n", cri_state_name(cri_state(
		    t->cri)));
		t->rv = 1;
	} else
		printf("sleep OK\n");
	fflush(stdout);
	cri_tool_next(t);
}

/* cri: the connection changed state. */
static void
cri_tool_state_cb(enum cri_state st, void *arg)
{
	struct cri_tool	*t = arg;

	printf("state %s\n", cri_state_name(st));
	fflush(stdout);
	if (st == CRI_READY && t->waiting_ready) {
		t->waiting_ready = 0;
		evtimer_del(t->timer);
		printf("wait-ready OK %s\n", cri_runtime_version(t->cri));
		cri_tool_next(t);
	}
}

/* Arms the tool's timer. */
static void
cri_tool_timer(struct cri_tool *t, long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(t->timer, &tv);
}

/* The operations that are not one call. */
static int
cri_tool_local(struct cri_tool *t, struct cri_call_op *op)
{
	const char	*name = op->argv[0], *arg = cri_tool_pos(op, 0);
	int		 i, n;

	if (strcmp(name, "sleep") == 0) {
		cri_tool_timer(t, arg != NULL ? atol(arg) : 1000);
	} else if (strcmp(name, "timeout") == 0) {
		cri_set_timeout(t->cri, arg != NULL ? atol(arg) : 0);
		printf("timeout OK\n");
		cri_tool_next(t);
	} else if (strcmp(name, "wait-ready") == 0) {
		if (cri_state(t->cri) == CRI_READY) {
			printf("wait-ready OK %s\n", cri_runtime_version(t->cri));
			cri_tool_next(t);
			return 1;
		}
		t->waiting_ready = 1;
		cri_tool_timer(t, arg != NULL ? atol(arg) : 30000);
	} else if (strcmp(name, "many") == 0 && arg != NULL && op->argc > 2) {
		n = atoi(arg);
		t->many_left = n;
		t->many_ok = t->many_fail = 0;
		for (i = 0; i < n; i++)
			cri_tool_call(t, op, op->argv[2], cri_tool_many_cb);
	} else if (strcmp(name, "cancel") == 0 && op->argc > 1) {
		for (i = 0; i < 10; i++)
			cri_call_cancel(cri_tool_call(t, op, op->argv[1],
			    cri_tool_done_cb));
		printf("cancel OK\n");
		cri_tool_next(t);
	} else
		return 0;
	return 1;
}

/* Starts the next operation, or stops the loop after the last. */
static void
cri_tool_next(struct cri_tool *t)
{
	struct cri_call_op	*op;

	if (++t->cur >= t->nops) {
		t->done = 1;
		event_base_loopbreak(t->base);
		return;
	}
	op = &t->ops[t->cur];
	if (cri_tool_local(t, op))
		return;
	if (cri_tool_call(t, op, op->argv[0], cri_tool_done_cb) == NULL) {
		fprintf(stderr, "cri_call: unknown operation %s\n", op->argv[0]);
		exit(2);
	}
}

/* libevent: start the first operation once the loop runs. */
static void
cri_tool_start_cb(evutil_socket_t fd, short what, void *arg)
{
	cri_tool_next(arg);
}

/* Splits argv at "--" into operations. */
static void
cri_tool_parse(struct cri_tool *t, int argc, char **argv)
{
	int	i;

	t->ops = xcalloc((size_t)argc + 1, sizeof(*t->ops));
	t->nops = 0;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (t->ops[t->nops].argc > 0)
				t->nops++;
			continue;
		}
		if (t->ops[t->nops].argc == CRI_CALL_MAX_ARGS - 1)
			usage();
		t->ops[t->nops].argv[t->ops[t->nops].argc++] = argv[i];
	}
	if (t->ops[t->nops].argc > 0)
		t->nops++;
	if (t->nops == 0)
		usage();
}

int
main(int argc, char *argv[])
{
	struct cri_tool	 t;
	struct conf	*conf;
	const char	*errstr, *endpoint = NULL;
	int		 ch, verbose = 0;
	long		 timeout = 0, max_msg = 0;

	memset(&t, 0, sizeof(t));
	t.cur = -1;
	log_init(LOG_LEVEL_WARN, "cri_call");
	json_init();
	while ((ch = getopt(argc, argv, "+e:l:m:t:v")) != -1) {
		switch (ch) {
		case 'e':
			endpoint = optarg;
			break;
		case 'l':
			t.logdir = optarg;
			break;
		case 'm':
			max_msg = atol(optarg);
			break;
		case 't':
			timeout = atol(optarg);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	cri_tool_parse(&t, argc - optind, argv + optind);
	if (verbose) {
		log_setlevel(LOG_LEVEL_DEBUG);
		if (verbose > 1)
			log_settrace(LOG_SUB_CRI);
	}
	signal(SIGPIPE, SIG_IGN);
	conf = conf_defaults();
	if (endpoint != NULL) {
		free(conf->remote_runtime_endpoint);
		conf->remote_runtime_endpoint = xstrdup(endpoint);
		free(conf->remote_image_endpoint);
		conf->remote_image_endpoint = xstrdup(endpoint);
	}
	if ((t.base = event_base_new()) == NULL)
		fatalx("no event base");
	if ((t.cri = cri_new(t.base, conf, &errstr)) == NULL)
		fatalx("cri: %s", errstr);
	if (timeout > 0)
		cri_set_timeout(t.cri, timeout);
	if (max_msg > 0)
		cri_set_max_message(t.cri, (size_t)max_msg);
	cri_watch(t.cri, cri_tool_state_cb, &t);
	if ((t.timer = evtimer_new(t.base, cri_tool_timer_cb, &t)) == NULL)
		fatalx("no timer");
	event_base_once(t.base, -1, EV_TIMEOUT, cri_tool_start_cb, &t, NULL);
	while (!t.done && event_base_loop(t.base, EVLOOP_ONCE) != -1)
		clock_update();
	cri_free(t.cri);
	event_free(t.timer);
	event_base_free(t.base);
	conf_free(conf);
	free(t.ops);
	health_clear();
	return t.rv;
}
