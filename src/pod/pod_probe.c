/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probes (liveness, readiness, startup) and lifecycle hook handlers of a
 * container, none of which blocks the loop: exec runs through the
 * runtime's ExecSync, httpGet is a GET over a non-blocking connection to
 * the pod's address (success is a 2xx or 3xx status line), tcpSocket a
 * non-blocking connect. A probe waits initialDelaySeconds, then runs
 * every periodSeconds with timeoutSeconds per run, and changes its
 * verdict after successThreshold successes or failureThreshold failures
 * in a row, which it tells the pod's machine; each failed run is also an
 * Unhealthy event. A hook handler runs once and calls back.
 *
 * States: IDLE (waiting for the next run), RUNNING (a run in flight),
 * STOPPED. Events: TIMER, RESULT, STOP. A run's result is delivered on a
 * later loop turn than the callback that produced it, so the connection
 * is never freed inside its own callback.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_cri.h"
#include "pod/pod_sync.h"

#define POD_PROBE_MAX_RESPONSE	(10 * 1024)
#define POD_PROBE_MSG		256

enum pod_probe_state {
	POD_PROBE_IDLE,
	POD_PROBE_RUNNING,
	POD_PROBE_STOPPED,
};

static const char *const pod_probe_state_names[] = {
	"idle", "running", "stopped",
};

enum pod_probe_event {
	POD_PROBE_EV_TIMER,
	POD_PROBE_EV_RESULT,
	POD_PROBE_EV_STOP,
};

static const char *const pod_probe_event_names[] = {
	"timer", "result", "stop",
};

struct pod_probe {
	struct pod_sync		*ps;
	enum pod_probe_kind	 kind;
	char			*cname;
	char			*cid;
	char			*label;		/* "pod ns/name c liveness" */
	cJSON			*spec;		/* the probe or handler */
	cJSON			*ctr;		/* the container, for ports */
	enum pod_probe_state	 state;
	int			 enabled;
	int64_t			 delay, period, timeout;	/* seconds */
	int64_t			 succ_need, fail_need;
	int			 successes, failures;
	int			 verdict;	/* -1 unknown, 0 failed, 1 ok */
	struct event		*ev_timer;
	struct event		*ev_timeout;
	struct event		*ev_result;
	struct cri_call		*call;
	struct bufferevent	*bev;
	int			 http;		/* httpGet, else tcpSocket */
	int			 ok;		/* the last run */
	char			 msg[POD_PROBE_MSG];
	pod_probe_hook_cb	 hook_cb;
	void			*hook_arg;
};

static void	pod_probe_fsm(struct pod_probe *, enum pod_probe_event);

/* The name of a probe kind in logs and events. */
const char *
pod_probe_kind_name(enum pod_probe_kind k)
{
	switch (k) {
	case POD_PROBE_LIVENESS:
		return "liveness";
	case POD_PROBE_READINESS:
		return "readiness";
	case POD_PROBE_STARTUP:
		return "startup";
	case POD_PROBE_HOOK:
		break;
	}
	return "hook";
}

/* Logs a change of state (trace). */
static void
pod_probe_enter_state(struct pod_probe *p, enum pod_probe_state st,
    enum pod_probe_event ev)
{
	if (p->state == st)
		return;
	log_trace(LOG_SUB_CRI, "%s: %s -> %s (%s)", p->label,
	    pod_probe_state_names[p->state], pod_probe_state_names[st],
	    pod_probe_event_names[ev]);
	p->state = st;
}

/* A timer in seconds. */
static void
pod_probe_arm(struct event *ev, int64_t s)
{
	clock_timer_add(ev, s > 0 ? (uint64_t)s * 1000 : 0);
}

/* An integer member of the probe, within limits, else def. */
static int64_t
pod_probe_int(const cJSON *spec, const char *member, int64_t def,
    int64_t min)
{
	int64_t	v;

	if (json_get_int(spec, member, &v) == -1 || v < min || v > 86400)
		return def;
	return v;
}

/* Ends a run: the result is taken on a later loop turn. */
static void __attribute__((format(printf, 3, 4)))
pod_probe_result(struct pod_probe *p, int ok, const char *fmt, ...)
{
	va_list	ap;

	if (p->state != POD_PROBE_RUNNING)
		return;
	p->ok = ok;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	evtimer_del(p->ev_timeout);
	if (p->bev != NULL)
		bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	event_active(p->ev_result, EV_TIMEOUT, 0);
}

/* ExecSync answered. */
static void
pod_probe_exec_cb(const struct cri_reply *r, void *arg)
{
	struct pod_probe	*p = arg;
	const Runtime__V1__ExecSyncResponse *x = r->u.exec_sync;
	size_t			 n;
	char			 out[128], esc[POD_PROBE_MSG];

	p->call = NULL;
	if (r->code != CRI_OK) {
		pod_probe_result(p, 0, "%s", r->code == CRI_DEADLINE_EXCEEDED ?
		    "command timed out" : r->message);
		return;
	}
	n = x->stdout.len < sizeof(out) - 1 ? x->stdout.len : sizeof(out) - 1;
	if (n > 0)
		memcpy(out, x->stdout.data, n);
	else if ((n = x->stderr.len < sizeof(out) - 1 ? x->stderr.len :
	    sizeof(out) - 1) > 0)
		memcpy(out, x->stderr.data, n);
	out[n] = '\0';
	if (x->exit_code == 0)
		pod_probe_result(p, 1, "%s", "");
	else
		pod_probe_result(p, 0, "command exited %d: %s", x->exit_code,
		    log_escape(out, strlen(out), esc, sizeof(esc)));
}

/* exec: the command inside the container, through the runtime. */
static void
pod_probe_exec(struct pod_probe *p, const cJSON *exec)
{
	Runtime__V1__ExecSyncRequest	 req =
	    RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
	const cJSON			*it;
	char				**cmd;
	size_t				 n = 0;

	cmd = xcalloc((size_t)cJSON_GetArraySize(json_get(exec, "command")) +
	    1, sizeof(*cmd));
	cJSON_ArrayForEach(it, json_get(exec, "command"))
		if (cJSON_IsString(it))
			cmd[n++] = it->valuestring;
	req.container_id = p->cid;
	req.cmd = cmd;
	req.n_cmd = n;
	req.timeout = p->timeout;
	p->call = cri_exec_sync(pod_sync_room(p->ps)->cri, &req,
	    pod_probe_exec_cb, p);
	free(cmd);
}

/* A port: a number, or the name of one of the container's ports. */
static int
pod_probe_port(const struct pod_probe *p, const cJSON *port)
{
	const cJSON	*cp;
	const char	*n;
	int64_t		 v;

	if (cJSON_IsNumber(port) && port->valuedouble >= 1 &&
	    port->valuedouble <= 65535)
		return (int)port->valuedouble;
	if (!cJSON_IsString(port))
		return -1;
	if (isdigit((unsigned char)*port->valuestring))
		return atoi(port->valuestring);
	cJSON_ArrayForEach(cp, json_get(p->ctr, "ports")) {
		n = json_get_string(cp, "name");
		if (n != NULL && strcmp(n, port->valuestring) == 0 &&
		    json_get_int(cp, "containerPort", &v) == 0)
			return (int)v;
	}
	return -1;
}

/* The status line arrived (or enough of it): 2xx and 3xx succeed. */
static void
pod_probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct pod_probe	*p = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 n;
	int			 code;

	line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > POD_PROBE_MAX_RESPONSE)
			pod_probe_result(p, 0, "status line too long");
		return;
	}
	if (sscanf(line, "HTTP/%*d.%*d %d", &code) != 1)
		pod_probe_result(p, 0, "not an HTTP response");
	else if (code >= 200 && code < 400)
		pod_probe_result(p, 1, "%s", "");
	else
		pod_probe_result(p, 0, "HTTP probe failed with statuscode: "
		    "%d", code);
	free(line);
}

/* Connected (tcpSocket succeeds), or the connection failed. */
static void
pod_probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pod_probe	*p = arg;

	if (what & BEV_EVENT_CONNECTED) {
		if (!p->http)
			pod_probe_result(p, 1, "%s", "");
		return;
	}
	if (what & BEV_EVENT_EOF)
		pod_probe_result(p, 0, "connection closed before a response");
	else
		pod_probe_result(p, 0, "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/* The GET request, with the probe's headers. */
static void
pod_probe_request(struct pod_probe *p, const cJSON *get, const char *host,
    int port)
{
	struct evbuffer	*out = bufferevent_get_output(p->bev);
	const cJSON	*h;
	const char	*path = json_get_string(get, "path");
	const char	*name, *value;

	if (path == NULL || *path == '\0')
		path = "/";
	evbuffer_add_printf(out, "GET %s%s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "User-Agent: kube-probe/1.37\r\nAccept: */*\r\n"
	    "Connection: close\r\n", *path == '/' ? "" : "/", path, host,
	    port);
	cJSON_ArrayForEach(h, json_get(get, "httpHeaders")) {
		name = json_get_string(h, "name");
		value = json_get_string(h, "value");
		if (name != NULL && value != NULL && strpbrk(name,
		    "\r\n:") == NULL && strpbrk(value, "\r\n") == NULL)
			evbuffer_add_printf(out, "%s: %s\r\n", name, value);
	}
	evbuffer_add(out, "\r\n", 2);
}

/* httpGet or tcpSocket: a non-blocking connection to the pod. */
static void
pod_probe_connect(struct pod_probe *p, const cJSON *how, int http)
{
	struct sockaddr_storage	 ss;
	const char		*host, *scheme;
	int			 port, sslen = sizeof(ss);
	char			 addr[300];

	p->http = http;
	host = json_get_string(how, "host");
	if (host == NULL || *host == '\0')
		host = pod_sync_pod_ip(p->ps);
	if (host == NULL) {
		pod_probe_result(p, 0, "the pod has no IP address yet");
		return;
	}
	scheme = json_get_string(how, "scheme");
	if (http && scheme != NULL && strcmp(scheme, "HTTPS") == 0) {
		pod_probe_result(p, 0, "HTTPS probes are not supported");
		return;
	}
	if ((port = pod_probe_port(p, json_get(how, "port"))) < 1 ||
	    port > 65535) {
		pod_probe_result(p, 0, "bad port");
		return;
	}
	snprintf(addr, sizeof(addr), strchr(host, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", host, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) == -1) {
		pod_probe_result(p, 0, "bad address %s", addr);
		return;
	}
	p->bev = bufferevent_socket_new(pod_sync_room(p->ps)->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (p->bev == NULL) {
		pod_probe_result(p, 0, "cannot make a connection");
		return;
	}
	bufferevent_setcb(p->bev, pod_probe_read_cb, NULL, pod_probe_event_cb,
	    p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (http)
		pod_probe_request(p, how, host, port);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss,
	    sslen) == -1)
		pod_probe_result(p, 0, "connect to %s failed", addr);
}

/* Starts one run of the probe or handler. */
static void
pod_probe_run(struct pod_probe *p)
{
	const cJSON	*how;

	p->msg[0] = '\0';
	pod_probe_arm(p->ev_timeout, p->timeout);
	if ((how = json_get(p->spec, "exec")) != NULL)
		pod_probe_exec(p, how);
	else if ((how = json_get(p->spec, "httpGet")) != NULL)
		pod_probe_connect(p, how, 1);
	else if ((how = json_get(p->spec, "tcpSocket")) != NULL)
		pod_probe_connect(p, how, 0);
	else
		pod_probe_result(p, 0, "no supported handler (exec, httpGet, "
		    "tcpSocket)");
}

/* No answer within timeoutSeconds. */
static void
pod_probe_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pod_probe	*p = arg;

	pod_probe_result(p, 0, "timeout after %llds",
	    (long long)p->timeout);
}

/* The next run is due. */
static void
pod_probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_probe_fsm(arg, POD_PROBE_EV_TIMER);
}

/* A run ended: count it on this later loop turn. */
static void
pod_probe_result_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_probe_fsm(arg, POD_PROBE_EV_RESULT);
}

/* Frees a finished hook on a later loop turn than its callback. */
static void
pod_probe_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_probe_free(arg);
}

/* Ends a run's connection or call. */
static void
pod_probe_close(struct pod_probe *p)
{
	evtimer_del(p->ev_timeout);
	cri_call_cancel(p->call);
	p->call = NULL;
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
}

/* Counts a run and tells a changed verdict. */
static void
pod_probe_count(struct pod_probe *p)
{
	struct pod_sync	*ps = p->ps;
	char		*field;

	if (p->ok) {
		p->failures = 0;
		p->successes++;
	} else {
		p->successes = 0;
		p->failures++;
		xasprintf(&field, "spec.containers{%s}", p->cname);
		pod_sync_event(ps, "Warning", "Unhealthy", field, "%c%s probe "
		    "failed: %s", toupper((unsigned char)
		    pod_probe_kind_name(p->kind)[0]),
		    pod_probe_kind_name(p->kind) + 1, p->msg);
		free(field);
	}
	if (p->ok && p->successes >= p->succ_need && p->verdict != 1) {
		p->verdict = 1;
		if (p->kind != POD_PROBE_LIVENESS)
			pod_sync_probe_result(ps, p->cname, p->kind, 1, NULL);
	} else if (!p->ok && p->failures >= p->fail_need && p->verdict != 0) {
		p->verdict = 0;
		pod_sync_probe_result(ps, p->cname, p->kind, 0, p->msg);
	}
}

/* The machine of a probe. */
static void
pod_probe_fsm(struct pod_probe *p, enum pod_probe_event ev)
{
	switch (p->state) {
	case POD_PROBE_IDLE:
		if (ev == POD_PROBE_EV_TIMER) {
			pod_probe_enter_state(p, POD_PROBE_RUNNING, ev);
			pod_probe_run(p);
		} else if (ev == POD_PROBE_EV_STOP)
			pod_probe_enter_state(p, POD_PROBE_STOPPED, ev);
		break;
	case POD_PROBE_RUNNING:
		if (ev == POD_PROBE_EV_STOP) {
			pod_probe_close(p);
			pod_probe_enter_state(p, POD_PROBE_STOPPED, ev);
			break;
		}
		if (ev != POD_PROBE_EV_RESULT)
			break;
		pod_probe_close(p);
		if (p->kind == POD_PROBE_HOOK) {
			pod_probe_enter_state(p, POD_PROBE_STOPPED, ev);
			p->hook_cb(p->ok, p->msg, p->hook_arg);
			event_base_once(pod_sync_room(p->ps)->base, -1,
			    EV_TIMEOUT, pod_probe_reap_cb, p, NULL);
			break;
		}
		pod_probe_enter_state(p, POD_PROBE_IDLE, ev);
		pod_probe_count(p);
		/* a startup probe ends once it succeeded */
		if (p->kind == POD_PROBE_STARTUP && p->verdict == 1)
			pod_probe_enter_state(p, POD_PROBE_STOPPED, ev);
		else
			pod_probe_arm(p->ev_timer, p->period);
		break;
	case POD_PROBE_STOPPED:
		break;
	}
}

/* The common part of probes and hooks. */
static struct pod_probe *
pod_probe_alloc(struct pod_sync *ps, const char *cname, const char *cid,
    enum pod_probe_kind kind, const cJSON *spec, const cJSON *container)
{
	struct pod_probe	*p;
	struct event_base	*base = pod_sync_room(ps)->base;

	p = xcalloc(1, sizeof(*p));
	p->ps = ps;
	p->kind = kind;
	p->cname = xstrdup(cname);
	p->cid = xstrdup(cid);
	xasprintf(&p->label, "pod %s container %s %s", pod_sync_ns(ps), cname,
	    pod_probe_kind_name(kind));
	p->spec = cJSON_Duplicate(spec, 1);
	p->ctr = cJSON_Duplicate(container, 1);
	p->verdict = -1;
	if ((p->ev_timer = evtimer_new(base, pod_probe_timer_cb, p)) == NULL ||
	    (p->ev_timeout = evtimer_new(base, pod_probe_timeout_cb,
	    p)) == NULL || (p->ev_result = event_new(base, -1, 0,
	    pod_probe_result_cb, p)) == NULL)
		fatalx("pods: cannot create probe events");
	return p;
}

/* A probe with the API defaults: every 10 s, 1 s timeout, thresholds 1, 3. */
struct pod_probe *
pod_probe_new(struct pod_sync *ps, const char *cname, const char *cid,
    enum pod_probe_kind kind, const cJSON *spec, const cJSON *container)
{
	struct pod_probe	*p;

	p = pod_probe_alloc(ps, cname, cid, kind, spec, container);
	p->delay = pod_probe_int(spec, "initialDelaySeconds", 0, 0);
	p->period = pod_probe_int(spec, "periodSeconds", 10, 1);
	p->timeout = pod_probe_int(spec, "timeoutSeconds", 1, 1);
	p->succ_need = pod_probe_int(spec, "successThreshold", 1, 1);
	p->fail_need = pod_probe_int(spec, "failureThreshold", 3, 1);
	return p;
}

/* Starts the probe after its initial delay (once). */
void
pod_probe_enable(struct pod_probe *p)
{
	if (p == NULL || p->enabled)
		return;
	p->enabled = 1;
	pod_probe_arm(p->ev_timer, p->delay);
}

/* A handler run once, within timeout_s; NULL without a handler. */
struct pod_probe *
pod_probe_hook(struct pod_sync *ps, const char *cname, const char *cid,
    const cJSON *handler, const cJSON *container, int64_t timeout_s,
    pod_probe_hook_cb cb, void *arg)
{
	struct pod_probe	*p;

	if (handler == NULL)
		return NULL;
	p = pod_probe_alloc(ps, cname, cid, POD_PROBE_HOOK, handler,
	    container);
	p->timeout = timeout_s > 0 ? timeout_s : 1;
	p->hook_cb = cb;
	p->hook_arg = arg;
	p->enabled = 1;
	/* runs on the next loop turn: the caller is never called back inline */
	pod_probe_arm(p->ev_timer, 0);
	return p;
}

/* Stops any run in flight and frees the probe. */
void
pod_probe_free(struct pod_probe *p)
{
	if (p == NULL)
		return;
	pod_probe_close(p);
	event_free(p->ev_timer);
	event_free(p->ev_timeout);
	event_free(p->ev_result);
	cJSON_Delete(p->spec);
	cJSON_Delete(p->ctr);
	free(p->cname);
	free(p->cid);
	free(p->label);
	free(p);
}
