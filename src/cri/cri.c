/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRI client: typed runtime.v1 calls on top of cri_h2.c. This file
 * owns the calls (packing the request, a deadline each, the queue of calls
 * waiting for a connection, cancellation, decoding the reply with a size
 * limit, mapping gRPC and transport failures to enum cri_code, and the
 * completion on a later loop turn), the connection's place in /readyz, the
 * runtime version learnt by a Version call each time the connection comes
 * up, and the observers told of state changes (the pod room reconciles
 * after a runtime restart).
 *
 * Lifetimes: a call is on cri->calls from its start until its completion
 * runs or it is cancelled; its one event is first the deadline, then the
 * completion. A reference count on struct cri, held while a user callback
 * runs, lets a callback free the client: the memory goes after it returns.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/health.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "cri/cri.h"
#include "cri/cri_h2.h"

/* A request larger than this fails, a reply by default (kubelet's). */
#define CRI_MAX_MSG		(16u << 20)
#define CRI_MAX_OBSERVERS	8
#define CRI_MAX_PENDING		8

enum cri_method_id {
	CRI_M_VERSION,
	CRI_M_STATUS,
	CRI_M_RUN_POD_SANDBOX,
	CRI_M_STOP_POD_SANDBOX,
	CRI_M_REMOVE_POD_SANDBOX,
	CRI_M_POD_SANDBOX_STATUS,
	CRI_M_LIST_POD_SANDBOX,
	CRI_M_CREATE_CONTAINER,
	CRI_M_START_CONTAINER,
	CRI_M_STOP_CONTAINER,
	CRI_M_REMOVE_CONTAINER,
	CRI_M_LIST_CONTAINERS,
	CRI_M_CONTAINER_STATUS,
	CRI_M_EXEC_SYNC,
	CRI_M_PULL_IMAGE,
	CRI_M_IMAGE_STATUS,
	CRI_M_LIST_IMAGES,
	CRI_M_REMOVE_IMAGE,
};

/* One RPC: its path, how to decode the reply, which endpoint serves it. */
struct cri_method {
	const char				*name;
	const char				*path;
	const ProtobufCMessageDescriptor	*reply;
	int					 image;
};

#define RT(n, d) { #n, "/runtime.v1.RuntimeService/" #n, &(d), 0 }
#define IM(n, d) { #n, "/runtime.v1.ImageService/" #n, &(d), 1 }
static const struct cri_method cri_methods[] = {
	[CRI_M_VERSION] = RT(Version, runtime__v1__version_response__descriptor),
	[CRI_M_STATUS] = RT(Status, runtime__v1__status_response__descriptor),
	[CRI_M_RUN_POD_SANDBOX] = RT(RunPodSandbox,
	    runtime__v1__run_pod_sandbox_response__descriptor),
	[CRI_M_STOP_POD_SANDBOX] = RT(StopPodSandbox,
	    runtime__v1__stop_pod_sandbox_response__descriptor),
	[CRI_M_REMOVE_POD_SANDBOX] = RT(RemovePodSandbox,
	    runtime__v1__remove_pod_sandbox_response__descriptor),
	[CRI_M_POD_SANDBOX_STATUS] = RT(PodSandboxStatus,
	    runtime__v1__pod_sandbox_status_response__descriptor),
	[CRI_M_LIST_POD_SANDBOX] = RT(ListPodSandbox,
	    runtime__v1__list_pod_sandbox_response__descriptor),
	[CRI_M_CREATE_CONTAINER] = RT(CreateContainer,
	    runtime__v1__create_container_response__descriptor),
	[CRI_M_START_CONTAINER] = RT(StartContainer,
	    runtime__v1__start_container_response__descriptor),
	[CRI_M_STOP_CONTAINER] = RT(StopContainer,
	    runtime__v1__stop_container_response__descriptor),
	[CRI_M_REMOVE_CONTAINER] = RT(RemoveContainer,
	    runtime__v1__remove_container_response__descriptor),
	[CRI_M_LIST_CONTAINERS] = RT(ListContainers,
	    runtime__v1__list_containers_response__descriptor),
	[CRI_M_CONTAINER_STATUS] = RT(ContainerStatus,
	    runtime__v1__container_status_response__descriptor),
	[CRI_M_EXEC_SYNC] = RT(ExecSync,
	    runtime__v1__exec_sync_response__descriptor),
	[CRI_M_PULL_IMAGE] = IM(PullImage,
	    runtime__v1__pull_image_response__descriptor),
	[CRI_M_IMAGE_STATUS] = IM(ImageStatus,
	    runtime__v1__image_status_response__descriptor),
	[CRI_M_LIST_IMAGES] = IM(ListImages,
	    runtime__v1__list_images_response__descriptor),
	[CRI_M_REMOVE_IMAGE] = IM(RemoveImage,
	    runtime__v1__remove_image_response__descriptor),
};
#undef RT
#undef IM

static const char *const cri_state_names[] = {
	"disconnected", "connecting", "ready", "backoff",
};

static const char *const cri_code_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
	"DATA_LOSS", "UNAUTHENTICATED",
};

enum cri_call_state {
	CRI_CALL_QUEUED,	/* waiting for its connection */
	CRI_CALL_SENT,		/* a stream is open */
	CRI_CALL_DONE,		/* the completion is armed */
};

struct cri_conn;

struct cri_call {
	struct cri		*cri;
	struct cri_conn		*conn;
	const struct cri_method	*m;
	TAILQ_ENTRY(cri_call)	 entry;
	enum cri_call_state	 state;
	uint8_t			*req;
	size_t			 reqlen;
	uint64_t		 timeout_ms;
	uint64_t		 started;	/* monotonic ms */
	struct cri_h2_stream	*stream;
	struct event		*ev;		/* deadline, then completion */
	cri_cb			 cb;
	void			*arg;

	enum cri_code		 code;
	char			*message;
	int			 sent;
	ProtobufCMessage	*reply;
};

TAILQ_HEAD(cri_calls, cri_call);

/* A connection: the runtime endpoint, and the image one when different. */
struct cri_conn {
	struct cri		*cri;
	struct cri_h2		*h2;
	int			 image;
	enum cri_state		 state;
	struct cri_call		*version;	/* Version in flight */
	char			 why[256];	/* last failure */
};

struct cri_observer {
	cri_state_cb		 cb;
	void			*arg;
};

struct cri {
	struct event_base	*base;
	uint64_t		 timeout_ms;	/* runtime-request-timeout */
	uint64_t		 pull_ms;	/* image-pull-progress-deadline */
	uint64_t		 override_ms;	/* cri_set_timeout, or 0 */
	size_t			 max_msg;	/* largest reply */
	char			*endpoint;
	struct cri_conn		 rt;
	struct cri_conn		 im;		/* h2 NULL: image calls use rt */
	struct cri_calls	 calls;
	char			*version;	/* "containerd://1.6.20" */
	struct cri_observer	 obs[CRI_MAX_OBSERVERS];
	size_t			 nobs;
	enum cri_state		 pending[CRI_MAX_PENDING];
	size_t			 npending;
	struct event		*notify_ev;
	int			 refs;		/* user callbacks running */
	int			 dying;		/* cri_free was called */
};

static void	cri_conn_dispatch(struct cri_conn *);

const char *
cri_state_name(enum cri_state st)
{
	if ((size_t)st >= sizeof(cri_state_names) / sizeof(cri_state_names[0]))
		return "?";
	return cri_state_names[st];
}

const char *
cri_code_name(enum cri_code code)
{
	if ((size_t)code >= sizeof(cri_code_names) / sizeof(cri_code_names[0]))
		return "?";
	return cri_code_names[code];
}

enum cri_state
cri_state(struct cri *c)
{
	return c->rt.state;
}

const char *
cri_runtime_version(struct cri *c)
{
	return c->version;
}

void
cri_set_timeout(struct cri *c, int64_t ms)
{
	c->override_ms = ms > 0 ? (uint64_t)ms : 0;
}

void
cri_set_max_message(struct cri *c, size_t max)
{
	c->max_msg = max > 0 ? max : CRI_MAX_MSG;
	cri_h2_set_max_msg(c->rt.h2, c->max_msg);
	if (c->im.h2 != NULL)
		cri_h2_set_max_msg(c->im.h2, c->max_msg);
}

/* Frees the memory of the client once nothing uses it any more. */
static void
cri_destroy(struct cri *c)
{
	if (c->notify_ev != NULL)
		event_free(c->notify_ev);
	free(c->endpoint);
	free(c->version);
	free(c);
}

/* Frees a call that is off the list. */
static void
cri_call_free(struct cri_call *call)
{
	if (call->ev != NULL)
		event_free(call->ev);
	if (call->reply != NULL)
		protobuf_c_message_free_unpacked(call->reply, NULL);
	free(call->req);
	free(call->message);
	free(call);
}

/* libevent: runs the completion of a call, then frees it. */
static void
cri_call_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri_call		*call = arg;
	struct cri		*c = call->cri;
	struct cri_reply	 r;

	TAILQ_REMOVE(&c->calls, call, entry);
	memset(&r, 0, sizeof(r));
	r.code = call->code;
	r.message = call->message != NULL ? call->message : "";
	r.sent = call->sent;
	r.u.any = call->code == CRI_OK ? call->reply : NULL;
	log_trace(LOG_SUB_CRI, "cri: %s: %s%s%s after %llu ms", call->m->name,
	    cri_code_name(call->code), *r.message != '\0' ? ": " : "",
	    r.message, (unsigned long long)(clock_mono_ms() - call->started));
	c->refs++;
	call->cb(&r, call->arg);
	c->refs--;
	cri_call_free(call);
	if (c->dying && c->refs == 0)
		cri_destroy(c);
}

/* Ends a call with code and message; the callback runs on the next turn. */
static void
cri_call_finish(struct cri_call *call, enum cri_code code, const char *msg)
{
	if (call->state == CRI_CALL_DONE)
		return;
	if (call->stream != NULL) {
		cri_h2_cancel(call->stream);
		call->stream = NULL;
	}
	call->state = CRI_CALL_DONE;
	call->code = code;
	free(call->message);
	call->message = xstrdup(msg != NULL ? msg : "");
	if (code != CRI_OK && call->reply != NULL) {
		protobuf_c_message_free_unpacked(call->reply, NULL);
		call->reply = NULL;
	}
	event_del(call->ev);
	event_assign(call->ev, call->cri->base, -1, 0, cri_call_done_cb, call);
	clock_timer_add(call->ev, 0);
}

/* The code for a reply without grpc-status, from its HTTP status. */
static enum cri_code
cri_code_http(int status)
{
	switch (status) {
	case 400:
		return CRI_INTERNAL;
	case 401:
		return CRI_UNAUTHENTICATED;
	case 403:
		return CRI_PERMISSION_DENIED;
	case 404:
		return CRI_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return CRI_UNAVAILABLE;
	default:
		return CRI_UNKNOWN;
	}
}

/* Maps what the stream brought back to a code (and keeps the message). */
static enum cri_code
cri_call_code(struct cri_call *call, const struct cri_h2_reply *r)
{
	switch (r->error) {
	case CRI_H2_E_NONE:
		break;
	case CRI_H2_E_LOST:
	case CRI_H2_E_REFUSED:
		return CRI_UNAVAILABLE;
	case CRI_H2_E_RESET:
		return r->grpc_status >= 0 && r->grpc_status <= 16 ?
		    (enum cri_code)r->grpc_status : CRI_INTERNAL;
	case CRI_H2_E_PROTOCOL:
		return CRI_INTERNAL;
	case CRI_H2_E_TOO_LARGE:
		return CRI_RESOURCE_EXHAUSTED;
	}
	if (r->grpc_status > 16)
		return CRI_UNKNOWN;
	if (r->grpc_status >= 0)
		return (enum cri_code)r->grpc_status;
	if (r->http_status != 200)
		return cri_code_http(r->http_status);
	return CRI_INTERNAL;
}

/* cri_h2: the stream of a call ended; decode and finish (no h2 calls). */
static void
cri_call_stream_cb(struct cri_h2_stream *s, const struct cri_h2_reply *r,
    void *arg)
{
	struct cri_call	*call = arg;
	enum cri_code	 code;
	const char	*msg = r->grpc_message;
	char		 buf[128];

	call->stream = NULL;
	call->sent = r->sent;
	code = cri_call_code(call, r);
	if (code == CRI_OK && !r->has_data) {
		code = CRI_INTERNAL;
		msg = "no message in the reply";
	} else if (code == CRI_OK && (call->reply = protobuf_c_message_unpack(
	    call->m->reply, NULL, r->len, r->data)) == NULL) {
		code = CRI_INTERNAL;
		msg = "the reply does not decode";
	} else if (code != CRI_OK && r->error == CRI_H2_E_NONE &&
	    r->grpc_status < 0) {
		snprintf(buf, sizeof(buf), "no grpc-status (HTTP %d)",
		    r->http_status);
		msg = buf;
	}
	cri_call_finish(call, code, msg);
}

/* Opens the stream of a call on its READY connection. */
static void
cri_call_send(struct cri_call *call)
{
	uint64_t	left, spent;

	spent = clock_mono_ms() - call->started;
	left = call->timeout_ms > spent ? call->timeout_ms - spent : 1;
	call->stream = cri_h2_call(call->conn->h2, call->m->path, call->req,
	    call->reqlen, left, cri_call_stream_cb, call);
	if (call->stream == NULL) {
		cri_call_finish(call, CRI_UNAVAILABLE, "runtime not connected");
		return;
	}
	call->state = CRI_CALL_SENT;
	/* The request is in nghttp2's hands now. */
	free(call->req);
	call->req = NULL;
}

/* libevent: the deadline of a call passed. */
static void
cri_call_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri_call	*call = arg;
	char		 msg[96];

	call->sent = call->state == CRI_CALL_SENT;
	snprintf(msg, sizeof(msg), "no answer within %llu ms%s",
	    (unsigned long long)call->timeout_ms, call->sent ? "" :
	    " (never sent: runtime not connected)");
	cri_call_finish(call, CRI_DEADLINE_EXCEEDED, msg);
}

/* The deadline of a call of method m with request req. */
static uint64_t
cri_call_timeout(struct cri *c, enum cri_method_id id,
    const ProtobufCMessage *req)
{
	uint64_t	ms;
	int64_t		extra = 0;

	ms = c->override_ms != 0 ? c->override_ms : c->timeout_ms;
	if (id == CRI_M_PULL_IMAGE && c->override_ms == 0 && c->pull_ms > ms)
		ms = c->pull_ms;
	/* Their own timeout runs inside the runtime before it answers. */
	if (id == CRI_M_EXEC_SYNC)
		extra = ((const Runtime__V1__ExecSyncRequest *)req)->timeout;
	else if (id == CRI_M_STOP_CONTAINER)
		extra = ((const Runtime__V1__StopContainerRequest *)req)->timeout;
	if (extra > 0 && extra < 86400)
		ms += (uint64_t)extra * 1000;
	return ms;
}

/* The connection that serves method m. */
static struct cri_conn *
cri_conn_for(struct cri *c, const struct cri_method *m)
{
	return m->image && c->im.h2 != NULL ? &c->im : &c->rt;
}

/*
 * Starts a call: packs the request now (the caller keeps it), arms the
 * deadline, then sends, queues or fails it by the connection's state.
 */
static struct cri_call *
cri_call_start(struct cri *c, enum cri_method_id id,
    const ProtobufCMessage *req, cri_cb cb, void *arg)
{
	struct cri_call	*call;
	size_t		 len;

	call = xcalloc(1, sizeof(*call));
	call->cri = c;
	call->m = &cri_methods[id];
	call->conn = cri_conn_for(c, call->m);
	call->cb = cb;
	call->arg = arg;
	call->started = clock_mono_ms();
	call->timeout_ms = cri_call_timeout(c, id, req);
	call->state = CRI_CALL_QUEUED;
	if ((call->ev = evtimer_new(c->base, cri_call_deadline_cb, call)) ==
	    NULL)
		fatalx("cri: cannot create a timer");
	TAILQ_INSERT_TAIL(&c->calls, call, entry);
	len = protobuf_c_message_get_packed_size(req);
	if (len > CRI_MAX_MSG) {
		cri_call_finish(call, CRI_RESOURCE_EXHAUSTED,
		    "request over the size limit");
		return call;
	}
	call->req = xmalloc(len > 0 ? len : 1);
	call->reqlen = protobuf_c_message_pack(req, call->req);
	clock_timer_add(call->ev, call->timeout_ms);
	switch (call->conn->state) {
	case CRI_READY:
		cri_call_send(call);
		break;
	case CRI_CONNECTING:
		break;
	case CRI_BACKOFF:
	case CRI_DISCONNECTED:
		cri_call_finish(call, CRI_UNAVAILABLE, *call->conn->why !=
		    '\0' ? call->conn->why : "runtime not connected");
		break;
	}
	return call;
}

void
cri_call_cancel(struct cri_call *call)
{
	struct cri	*c;

	if (call == NULL)
		return;
	c = call->cri;
	if (call->stream != NULL)
		cri_h2_cancel(call->stream);
	TAILQ_REMOVE(&c->calls, call, entry);
	if (call->conn->version == call)
		call->conn->version = NULL;
	cri_call_free(call);
}

/* libevent: tells the observers of each state change, in order. */
static void
cri_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri		*c = arg;
	struct cri_observer	 obs[CRI_MAX_OBSERVERS];
	enum cri_state		 st;
	size_t			 i, n;

	c->refs++;
	while (c->npending > 0 && !c->dying) {
		st = c->pending[0];
		memmove(c->pending, c->pending + 1, --c->npending *
		    sizeof(c->pending[0]));
		/* A copy: observers may (un)watch from their callback. */
		n = c->nobs;
		memcpy(obs, c->obs, n * sizeof(obs[0]));
		for (i = 0; i < n && !c->dying; i++)
			obs[i].cb(st, obs[i].arg);
	}
	c->refs--;
	if (c->dying && c->refs == 0)
		cri_destroy(c);
}

/* Records the runtime connection's new state for /readyz and observers. */
static void
cri_conn_enter_state(struct cri_conn *conn, enum cri_state st,
    const char *why)
{
	struct cri	*c = conn->cri;
	char		 detail[300];

	if (conn->state == st)
		return;
	log_trace(LOG_SUB_CRI, "cri %s: %s -> %s (%s)", conn->image ?
	    "image" : "runtime", cri_state_names[conn->state],
	    cri_state_names[st], why);
	conn->state = st;
	if (conn->image)
		return;
	if (st == CRI_READY)
		health_set("cri", HEALTH_OK, c->version);
	else {
		snprintf(detail, sizeof(detail), "%s: %s", cri_state_names[st],
		    why);
		health_set("cri", HEALTH_DEGRADED, detail);
	}
	if (c->npending == CRI_MAX_PENDING)
		memmove(c->pending, c->pending + 1, --c->npending *
		    sizeof(c->pending[0]));
	c->pending[c->npending++] = st;
	clock_timer_add(c->notify_ev, 0);
}

/* Sends the calls that waited for this connection. */
static void
cri_conn_dispatch(struct cri_conn *conn)
{
	struct cri_call	*call;

	TAILQ_FOREACH(call, &conn->cri->calls, entry)
		if (call->conn == conn && call->state == CRI_CALL_QUEUED)
			cri_call_send(call);
}

/* Fails the calls that waited for this connection. */
static void
cri_conn_fail_queued(struct cri_conn *conn, const char *why)
{
	struct cri_call	*call;

	TAILQ_FOREACH(call, &conn->cri->calls, entry)
		if (call->conn == conn && call->state == CRI_CALL_QUEUED)
			cri_call_finish(call, CRI_UNAVAILABLE, why);
}

/* The answer to the Version asked when the connection came up. */
static void
cri_conn_version_cb(const struct cri_reply *r, void *arg)
{
	struct cri_conn				*conn = arg;
	struct cri				*c = conn->cri;
	const Runtime__V1__VersionResponse	*v = r->u.version;
	char					*s;

	conn->version = NULL;
	/* The connection went away meanwhile: the answer is stale. */
	if (cri_h2_state(conn->h2) != CRI_H2_READY)
		return;
	if (r->code != CRI_OK) {
		snprintf(conn->why, sizeof(conn->why), "Version: %s: %s",
		    cri_code_name(r->code), r->message);
		log_warnx("cri: %s is not usable (%s), connecting again",
		    c->endpoint, conn->why);
		cri_conn_fail_queued(conn, conn->why);
		cri_h2_reset(conn->h2, conn->why);
		return;
	}
	xasprintf(&s, "%s://%s", v->runtime_name, v->runtime_version);
	if (c->version == NULL || strcmp(c->version, s) != 0)
		log_info("cri: runtime %s %s (CRI %s) at %s", v->runtime_name,
		    v->runtime_version, v->runtime_api_version, c->endpoint);
	free(c->version);
	c->version = s;
	cri_conn_enter_state(conn, CRI_READY, "version known");
	cri_conn_dispatch(conn);
}

/* cri_h2: a connection changed state. */
static void
cri_conn_h2_cb(struct cri_h2 *h2, enum cri_h2_state st, const char *why,
    void *arg)
{
	struct cri_conn				*conn = arg;
	Runtime__V1__VersionRequest		 vreq =
	    RUNTIME__V1__VERSION_REQUEST__INIT;

	switch (st) {
	case CRI_H2_DISCONNECTED:
	case CRI_H2_BACKOFF:
		snprintf(conn->why, sizeof(conn->why), "%s", why);
		cri_conn_enter_state(conn, st == CRI_H2_BACKOFF ? CRI_BACKOFF :
		    CRI_DISCONNECTED, why);
		cri_conn_fail_queued(conn, why);
		break;
	case CRI_H2_CONNECTING:
		cri_conn_enter_state(conn, CRI_CONNECTING, why);
		break;
	case CRI_H2_READY:
		if (conn->image) {
			cri_conn_enter_state(conn, CRI_READY, why);
			cri_conn_dispatch(conn);
			break;
		}
		/* Ready for us once the runtime has said what it is. */
		vreq.version = (char *)"v1";
		conn->version = cri_call_start(conn->cri, CRI_M_VERSION,
		    &vreq.base, cri_conn_version_cb, conn);
		cri_call_send(conn->version);
		break;
	}
}

/* Checks a unix:// endpoint and returns its path (a new string), or NULL. */
static char *
cri_endpoint_path(const char *url, const char **errstr)
{
	struct sockaddr_un	sun;
	const char		*p;

	if (url == NULL || strncmp(url, "unix://", 7) != 0) {
		*errstr = "the runtime endpoint is not a unix:// URL";
		return NULL;
	}
	p = url + 7;
	if (*p != '/') {
		*errstr = "the runtime endpoint path is not absolute";
		return NULL;
	}
	if (strlen(p) >= sizeof(sun.sun_path)) {
		*errstr = "the runtime endpoint path is too long";
		return NULL;
	}
	return xstrdup(p);
}

/* Opens connection conn to url. */
static int
cri_conn_open(struct cri *c, struct cri_conn *conn, const char *url,
    int image, const char **errstr)
{
	char	*path, name[300];

	if ((path = cri_endpoint_path(url, errstr)) == NULL)
		return -1;
	conn->cri = c;
	conn->image = image;
	conn->state = CRI_CONNECTING;
	snprintf(name, sizeof(name), "cri %s", url);
	conn->h2 = cri_h2_new(c->base, path, name, c->max_msg,
	    cri_conn_h2_cb, conn);
	free(path);
	return 0;
}

struct cri *
cri_new(struct event_base *base, const struct conf *conf,
    const char **errstr)
{
	struct cri	*c;
	const char	*img = conf->remote_image_endpoint;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->timeout_ms = (uint64_t)conf->runtime_request_timeout_ms;
	c->pull_ms = (uint64_t)conf->image_pull_progress_deadline_ms;
	c->max_msg = CRI_MAX_MSG;
	c->endpoint = xstrdup(conf->remote_runtime_endpoint != NULL ?
	    conf->remote_runtime_endpoint : "");
	TAILQ_INIT(&c->calls);
	if ((c->notify_ev = evtimer_new(base, cri_notify_cb, c)) == NULL)
		fatalx("cri: cannot create a timer");
	if (cri_conn_open(c, &c->rt, c->endpoint, 0, errstr) == -1 ||
	    (img != NULL && *img != '\0' && strcmp(img, c->endpoint) != 0 &&
	    cri_conn_open(c, &c->im, img, 1, errstr) == -1)) {
		cri_free(c);
		return NULL;
	}
	health_set("cri", HEALTH_DEGRADED, "connecting");
	return c;
}

void
cri_free(struct cri *c)
{
	struct cri_call	*call;

	if (c == NULL || c->dying)
		return;
	c->dying = 1;
	/* Quietly: no stream reports to calls about to go. */
	cri_h2_free(c->rt.h2);
	cri_h2_free(c->im.h2);
	c->rt.h2 = c->im.h2 = NULL;
	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		call->stream = NULL;
		TAILQ_REMOVE(&c->calls, call, entry);
		cri_call_free(call);
	}
	health_remove("cri");
	if (c->refs == 0)
		cri_destroy(c);
}

void
cri_watch(struct cri *c, cri_state_cb cb, void *arg)
{
	if (c->nobs == CRI_MAX_OBSERVERS)
		fatalx("cri: too many observers");
	c->obs[c->nobs].cb = cb;
	c->obs[c->nobs].arg = arg;
	c->nobs++;
}

void
cri_unwatch(struct cri *c, cri_state_cb cb, void *arg)
{
	size_t	i;

	for (i = 0; i < c->nobs; i++) {
		if (c->obs[i].cb == cb && c->obs[i].arg == arg) {
			memmove(&c->obs[i], &c->obs[i + 1], (c->nobs - i - 1) *
			    sizeof(c->obs[0]));
			c->nobs--;
			return;
		}
	}
}

/* The typed calls: each names its method and passes the request on. */
#define CRI_CALL(fn, id, type)						\
struct cri_call *							\
fn(struct cri *c, const type *req, cri_cb cb, void *arg)		\
{									\
	return cri_call_start(c, id, &req->base, cb, arg);		\
}

CRI_CALL(cri_version, CRI_M_VERSION, Runtime__V1__VersionRequest)
CRI_CALL(cri_status, CRI_M_STATUS, Runtime__V1__StatusRequest)
CRI_CALL(cri_run_pod_sandbox, CRI_M_RUN_POD_SANDBOX,
    Runtime__V1__RunPodSandboxRequest)
CRI_CALL(cri_stop_pod_sandbox, CRI_M_STOP_POD_SANDBOX,
    Runtime__V1__StopPodSandboxRequest)
CRI_CALL(cri_remove_pod_sandbox, CRI_M_REMOVE_POD_SANDBOX,
    Runtime__V1__RemovePodSandboxRequest)
CRI_CALL(cri_pod_sandbox_status, CRI_M_POD_SANDBOX_STATUS,
    Runtime__V1__PodSandboxStatusRequest)
CRI_CALL(cri_list_pod_sandbox, CRI_M_LIST_POD_SANDBOX,
    Runtime__V1__ListPodSandboxRequest)
CRI_CALL(cri_create_container, CRI_M_CREATE_CONTAINER,
    Runtime__V1__CreateContainerRequest)
CRI_CALL(cri_start_container, CRI_M_START_CONTAINER,
    Runtime__V1__StartContainerRequest)
CRI_CALL(cri_stop_container, CRI_M_STOP_CONTAINER,
    Runtime__V1__StopContainerRequest)
CRI_CALL(cri_remove_container, CRI_M_REMOVE_CONTAINER,
    Runtime__V1__RemoveContainerRequest)
CRI_CALL(cri_list_containers, CRI_M_LIST_CONTAINERS,
    Runtime__V1__ListContainersRequest)
CRI_CALL(cri_container_status, CRI_M_CONTAINER_STATUS,
    Runtime__V1__ContainerStatusRequest)
CRI_CALL(cri_exec_sync, CRI_M_EXEC_SYNC, Runtime__V1__ExecSyncRequest)
CRI_CALL(cri_pull_image, CRI_M_PULL_IMAGE, Runtime__V1__PullImageRequest)
CRI_CALL(cri_image_status, CRI_M_IMAGE_STATUS,
    Runtime__V1__ImageStatusRequest)
CRI_CALL(cri_list_images, CRI_M_LIST_IMAGES, Runtime__V1__ListImagesRequest)
CRI_CALL(cri_remove_image, CRI_M_REMOVE_IMAGE,
    Runtime__V1__RemoveImageRequest)
