/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local HTTP endpoint: the one file that uses libevhtp (core/version.c
 * includes evhtp.h only to print its version). It owns the libevhtp server
 * on the daemon's event_base (no evhtp threads), the client connections
 * and their limits, TLS and bearer-token checks when it listens beyond
 * loopback, and routes every request by path to a handler that sees only
 * api_int.h: a fixed route, or the Kubernetes read API (api_kube.c).
 * A handler that streams (a watch) takes the connection from libevhtp with
 * api_reply_detach; from then on api_stream.c owns it.
 *
 * libevhtp drops a connection without a word when its parser gives up (a
 * request line or header over 8 KiB, garbage, a body over the limit). We
 * hook the end of such a connection, take its bufferevent and answer with
 * a proper 4xx Status before a lingering close, so a client learns why.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <evhtp/evhtp.h>

#include "api/api.h"
#include "api/api_int.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define API_BACKLOG		1024	/* the kernel caps it at somaxconn */
#define API_LINGER_SECS		2		/* after an error reply */
#define API_LINGER_MAX		(4u * 1024 * 1024)	/* bytes discarded */
#define API_LABEL_KUBE		"kube"		/* metrics: the read API */
#define API_MAX_WRITE		(256u * 1024)	/* bytes per write call */
#define API_PEER_MAX		(INET6_ADDRSTRLEN + 16)
#define API_SHED_GRACE_MS	250	/* a new client's time to speak */

static const struct api_route {
	const char	*path;		/* also the metrics label */
	api_handler_cb	 cb;
} api_routes[] = {
	{ "/healthz",		api_health_healthz },
	{ "/livez",		api_health_livez },
	{ "/readyz",		api_health_readyz },
	{ "/metrics",		api_metrics_serve },
	{ "/debug/config",	api_debug_config },
	{ "/debug/store",	api_debug_store },
};

/* Where a connection is between requests, for its timer. */
enum api_conn_state {
	API_CONN_WAIT,		/* for a whole request: header-timeout */
	API_CONN_BUSY,		/* answering it: no timer of ours */
	API_CONN_IDLE,		/* for the next request: idle-timeout */
};

/* One client connection, for its limits and so api_free can end it. */
struct api_conn {
	struct api		*api;
	evhtp_connection_t	*c;
	struct event		 kick;		/* pipelined request waiting */
	struct event		 tmo;		/* header or idle timeout */
	enum api_conn_state	 state;
	struct api_peer		*peer;
	int			 reserved;	/* API_DROP_PEER, _FULL or 0 */
	uint64_t		 since;		/* accepted, ms */
	size_t			 nheaders;
	size_t			 header_bytes;
	int			 reject;	/* code to answer, or 0 */
	TAILQ_ENTRY(api_conn)	 entry;
};

/* A connection taken from libevhtp to answer an error and close. */
struct api_reject {
	struct api		*api;
	struct bufferevent	*bev;
	struct event		 ev;		/* linger timeout, then free */
	size_t			 discarded;
	int			 closing;
	TAILQ_ENTRY(api_reject)	 entry;
};

struct api_req {
	struct api		*api;
	evhtp_request_t		*r;
	enum api_method		 method;
	const char		*path;
	const char		*label;
	char			*qbuf;		/* decoded query, split in place */
	char			*args[API_MAX_ARGS][2];
	size_t			 nargs;
	int			 parsed;
	int			 replied;
	char			 peer[API_PEER_MAX];
};

static char	api_errbuf[256];

static const char *const api_drop_text[API_DROP_MAX] = {
	[API_DROP_REFUSED] = "no connection slot left, refused",
	[API_DROP_SHED] = "oldest waiting connection closed for a new one",
	[API_DROP_PEER] = "over its address's connection share, answered 503",
	[API_DROP_FULL] = "every connection slot taken, answered 503",
	[API_DROP_HEADER] = "no whole request within header-timeout, closed",
	[API_DROP_IDLE] = "no next request within idle-timeout, closed",
};

/* The metrics label of each reason. */
const char *const api_drop_label[API_DROP_MAX] = {
	[API_DROP_REFUSED] = "refused",
	[API_DROP_SHED] = "shed",
	[API_DROP_PEER] = "peer_limit",
	[API_DROP_FULL] = "full",
	[API_DROP_HEADER] = "header_timeout",
	[API_DROP_IDLE] = "idle_timeout",
};

static void	api_reject_close(struct api_reject *);

/* The standard reason phrase of an HTTP status code. */
const char *
api_code_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 410:
		return "Gone";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Unknown";
}

/* The Kubernetes StatusReason for an error code. */
static const char *
api_code_reason(int code)
{
	switch (code) {
	case 401:
		return "Unauthorized";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 413:
		return "RequestEntityTooLarge";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	}
	return "BadRequest";
}

/*
 * Parses "host:port" or "[v6]:port" with a numeric host ("localhost" is
 * 127.0.0.1). Returns 0, or -1 with *errstr set.
 */
static int
api_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
    const char **errstr)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN + 1];
	const char		*colon, *h = s, *end;
	size_t			 hlen;
	long			 port;
	char			*ep;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(s, ':')) == NULL) {
		*errstr = "no port";
		return -1;
	}
	end = colon;
	if (*s == '[') {
		h = s + 1;
		if (colon == s || colon[-1] != ']') {
			*errstr = "bad IPv6 address";
			return -1;
		}
		end = colon - 1;
	}
	if (end < h || (hlen = end - h) == 0 || hlen >= sizeof(host)) {
		*errstr = "bad host";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &ep, 10);
	if (colon[1] == '\0' || *ep != '\0' || errno != 0 || port < 1 ||
	    port > 65535) {
		*errstr = "bad port";
		return -1;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (*s != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	if (*s == '[')
		*errstr = "bad IPv6 address";
	else if (strchr(host, ':') != NULL)
		*errstr = "an IPv6 address goes in brackets: [::1]:port";
	else
		*errstr = "bad IPv4 address";
	return -1;
}

/*
 * How many clients the descriptors allow: all we may open but a spare,
 * after raising the soft limit to the hard one (watchers are many).
 */
static size_t
api_fd_cap(void)
{
	struct rlimit	rl;
	size_t		n = SIZE_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("api: cannot raise the descriptor limit: %s",
			    strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		if (rl.rlim_cur < 256)
			return 64;
		if (rl.rlim_cur - API_FD_SPARE < n)
			n = rl.rlim_cur - API_FD_SPARE;
	}
	return n;
}

/* The route for path, or NULL. */
static const struct api_route *
api_route_find(const char *path)
{
	size_t	i;

	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++)
		if (strcmp(api_routes[i].path, path) == 0)
			return &api_routes[i];
	return NULL;
}

/* The metrics label of a path: a route's own path, "kube" or "other". */
static const char *
api_route_label(const char *path)
{
	const struct api_route	*rt;

	if (path == NULL)
		return API_LABEL_OTHER;
	if ((rt = api_route_find(path)) != NULL)
		return rt->path;
	return api_kube_path(path) ? API_LABEL_KUBE : API_LABEL_OTHER;
}

/* Frees a reject on a later loop turn: never inside its own callback. */
static void
api_reject_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_reject	*rj = arg;

	(void)fd;
	(void)what;
	if (!rj->closing) {
		api_reject_close(rj);
		return;
	}
	TAILQ_REMOVE(&rj->api->rejects, rj, entry);
	bufferevent_free(rj->bev);
	free(rj);
}

/* Stops a reject's events and schedules its memory to go. */
static void
api_reject_close(struct api_reject *rj)
{
	if (rj->closing)
		return;
	rj->closing = 1;
	bufferevent_disable(rj->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(rj->bev, NULL, NULL, NULL, NULL);
	clock_timer_add(&rj->ev, 0);
}

/* Reads and drops what the client still sends, up to a limit. */
static void
api_reject_read_cb(struct bufferevent *bev, void *arg)
{
	struct api_reject	*rj = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);

	rj->discarded += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (rj->discarded > API_LINGER_MAX)
		api_reject_close(rj);
}

/* The answer is out: half-close so the client sees the end of it. */
static void
api_reject_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
}

/* End of file or an error: the client is done with us. */
static void
api_reject_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	api_reject_close(arg);
}

/*
 * Answers code on a bufferevent taken from libevhtp, then reads and drops
 * the rest of the request for a while (a lingering close: closing with
 * unread data would reset the connection and lose the answer).
 */
static void
api_reject_start(struct api *api, struct bufferevent *bev, int code,
    const char *why)
{
	struct api_reject	*rj;
	struct evbuffer		*out = bufferevent_get_output(bev);
	char			*st;

	rj = xcalloc(1, sizeof(*rj));
	rj->api = api;
	rj->bev = bev;
	evtimer_assign(&rj->ev, api->base, api_reject_timer_cb, rj);
	TAILQ_INSERT_TAIL(&api->rejects, rj, entry);

	st = json_status(code, api_code_reason(code), why);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", code, api_code_text(code),
	    strlen(st), st);
	free(st);
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_setcb(bev, api_reject_read_cb, api_reject_write_cb,
	    api_reject_event_cb, rj);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	clock_timer_add(&rj->ev, API_LINGER_SECS * 1000);
}

/* The client's address as text, for logs. */
static const char *
api_peer(evhtp_connection_t *c, char *buf, size_t len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)c->saddr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)c->saddr;
	char			 a[INET6_ADDRSTRLEN];

	if (c->saddr != NULL && c->saddr->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	else if (c->saddr != NULL && c->saddr->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	else
		snprintf(buf, len, "client");
	return buf;
}

/*
 * Counts a dropped or refused connection and logs it, at most once a
 * second for each reason with how many went unlogged since.
 */
static void
api_drop(struct api *api, enum api_drop why, evhtp_connection_t *c)
{
	uint64_t	quiet;
	char		peer[API_PEER_MAX];

	api->drops[why]++;
	if (!ratelimit_pass(&api->drop_rl[why], clock_mono_ms(), &quiet))
		return;
	api_peer(c, peer, sizeof(peer));
	if (why == API_DROP_IDLE)
		log_debug("api: %s: %s", peer, api_drop_text[why]);
	else if (why == API_DROP_HEADER)
		log_info("api: %s: %s (%llu more not logged)", peer,
		    api_drop_text[why], (unsigned long long)quiet);
	else
		log_warnx("api: %s: %s (%llu more not logged)", peer,
		    api_drop_text[why], (unsigned long long)quiet);
}

/* The address of a connection's client as a peer key. */
static void
api_peer_key(evhtp_connection_t *c, uint8_t key[API_PEER_KEY])
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)c->saddr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)c->saddr;

	memset(key, 0, API_PEER_KEY);
	if (c->saddr == NULL)
		return;
	key[0] = (uint8_t)c->saddr->sa_family;
	if (c->saddr->sa_family == AF_INET)
		memcpy(key + 1, &sin->sin_addr, sizeof(sin->sin_addr));
	else if (c->saddr->sa_family == AF_INET6)
		memcpy(key + 1, &sin6->sin6_addr, sizeof(sin6->sin6_addr));
}

/* Arms the connection's timer for state: a whole request, or the next. */
static void
api_conn_wait(struct api_conn *ac, enum api_conn_state state)
{
	const struct conf	*conf = ac->api->conf;

	ac->state = state;
	if (state == API_CONN_BUSY)
		evtimer_del(&ac->tmo);
	else
		clock_timer_add(&ac->tmo, (uint64_t)(state == API_CONN_WAIT ?
		    conf->api_header_timeout_ms : conf->api_idle_timeout_ms));
}

/* Too slow or idle too long: count, log and close (the fini hook frees). */
static void
api_conn_tmo_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn	*ac = arg;

	(void)fd;
	(void)what;
	api_drop(ac->api, ac->state == API_CONN_WAIT ? API_DROP_HEADER :
	    API_DROP_IDLE, ac->c);
	evhtp_connection_free(ac->c);
}

/* Unlinks a connection from its list, peer and slot count; frees it. */
static void
api_conn_forget(struct api_conn *ac)
{
	struct api	*api = ac->api;

	if (ac->reserved) {
		TAILQ_REMOVE(&api->reserved, ac, entry);
		api->nreserved--;
	} else {
		TAILQ_REMOVE(&api->conns, ac, entry);
		api->nconns--;
	}
	api_peers_unref(api->peers, ac->peer);
	evtimer_del(&ac->kick);
	evtimer_del(&ac->tmo);
	free(ac);
}

/*
 * Whether the client sent a probe's request line we have not read yet: a
 * probe's request may wait in the socket while a burst of new clients is
 * accepted before it is read. Once read it is ours: a whole request is
 * answered at once, and a slow one gets no protection from this.
 */
static int
api_conn_probe_pending(struct api_conn *ac)
{
	static const char *const probes[] = { "GET /healthz", "GET /livez",
	    "GET /readyz", "HEAD /healthz", "HEAD /livez", "HEAD /readyz" };
	evhtp_connection_t	*c = ac->c;
	char			 buf[16];
	ssize_t			 n;
	size_t			 i, len;

	if (c->bev == NULL)
		return 0;
	if ((n = evbuffer_copyout(bufferevent_get_input(c->bev), buf,
	    sizeof(buf))) <= 0)
		n = recv(bufferevent_getfd(c->bev), buf, sizeof(buf),
		    MSG_PEEK | MSG_DONTWAIT);
	for (i = 0; n > 0 && i < sizeof(probes) / sizeof(probes[0]); i++) {
		len = strlen(probes[i]);
		if ((size_t)n > len && memcmp(buf, probes[i], len) == 0 &&
		    (buf[len] == ' ' || buf[len] == '?'))
			return 1;
	}
	return 0;
}

/*
 * Whether a connection may be shed: idle after an answer, or waiting for
 * a request it started slowly or has not begun within API_SHED_GRACE_MS
 * (a probe speaks at once, even from a loaded machine).
 */
static int
api_conn_sheddable(struct api_conn *ac, uint64_t now)
{
	if (ac->state == API_CONN_BUSY || api_conn_probe_pending(ac))
		return 0;
	return ac->state == API_CONN_IDLE || ac->c->request != NULL ||
	    now - ac->since >= API_SHED_GRACE_MS;
}

/* The oldest connection from ac on that may be shed, or NULL. */
static struct api_conn *
api_conn_oldest_waiting(struct api_conn *ac)
{
	uint64_t	now = clock_mono_ms();

	for (; ac != NULL; ac = TAILQ_NEXT(ac, entry))
		if (api_conn_sheddable(ac, now))
			return ac;
	return NULL;
}

/*
 * Closes the oldest connection waiting for a request on a reserved slot,
 * or with anywhere set on a general one too, but never one answering or
 * with a probe's request unread. -1 when there is none.
 */
static int
api_conn_shed(struct api *api, int anywhere)
{
	struct api_conn	*ac;

	if ((ac = api_conn_oldest_waiting(TAILQ_FIRST(&api->reserved))) ==
	    NULL && (!anywhere || (ac = api_conn_oldest_waiting(
	    TAILQ_FIRST(&api->conns))) == NULL))
		return -1;
	api_drop(api, API_DROP_SHED, ac->c);
	evhtp_connection_free(ac->c);
	return 0;
}

/*
 * Back to reserved-connections on the reserved slots, oldest first. Runs
 * a loop turn after the accepts that went over, once the clients accepted
 * then had their request read: a probe among a burst of new connections
 * is answering by now and is kept, as is one yet to speak for a while.
 */
static void
api_conn_shed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api	*api = arg;

	(void)fd;
	(void)what;
	while (api->nreserved > (size_t)api->conf->api_reserved_conns) {
		if (api_conn_shed(api, 0) == -1) {
			/* new ones yet to speak: look again */
			clock_timer_add(&api->shed_ev, API_SHED_GRACE_MS / 5);
			break;
		}
	}
}

/* The general slots: the configured ones, as far as descriptors allow. */
static size_t
api_conn_limit(const struct api *api)
{
	size_t	max = (size_t)api->conf->api_max_conns;
	size_t	res = (size_t)api->conf->api_reserved_conns;

	if (api->fdcap < res + 16)
		return 16;
	if (api->fdcap - res < max)
		max = api->fdcap - res;
	return max;
}

/* Why libevhtp gave up on a connection, as an HTTP code and message. */
static int
api_conn_error(struct api_conn *ac, const char **why)
{
	evhtp_connection_t	*c = ac->c;
	evhtp_request_t		*r = c->request;

	if (ac->reject == 413 || (r != NULL &&
	    r->status == EVHTP_RES_DATA_TOO_LONG)) {
		*why = "request body too large";
		return 413;
	}
	if (ac->reject == 431) {
		*why = "request headers too large";
		return 431;
	}
	switch (htparser_get_error(c->parser)) {
	case htparse_error_none:
		return 0;
	case htparse_error_too_big:
		if (r == NULL || r->uri == NULL) {
			*why = "request line too long";
			return 414;
		}
		*why = "request header line too long";
		return 431;
	default:
		*why = "malformed request";
		return 400;
	}
}

/*
 * libevhtp is freeing the connection. When it does so because the request
 * was bad, take the bufferevent and answer before closing.
 */
static evhtp_res
api_conn_fini_cb(evhtp_connection_t *c, void *arg)
{
	struct api_conn		*ac = arg;
	struct api		*api = ac->api;
	struct bufferevent	*bev;
	const char		*why = NULL, *label = API_LABEL_OTHER;
	char			 peer[API_PEER_MAX];
	int			 code;

	code = api_conn_error(ac, &why);
	api_conn_forget(ac);
	if (code == 0 || c->bev == NULL)
		return EVHTP_RES_OK;
	if (c->request != NULL && c->request->uri != NULL &&
	    c->request->uri->path != NULL)
		label = api_route_label(c->request->uri->path->full);
	log_debug("api: %s: %s, answering %d", api_peer(c, peer,
	    sizeof(peer)), why, code);
	api_metrics_count(api, label, code);
	if ((bev = evhtp_connection_take_ownership(c)) != NULL)
		api_reject_start(api, bev, code, why);
	return EVHTP_RES_OK;
}

/* A new request on the connection: its header limits start afresh. */
static evhtp_res
api_headers_start_cb(evhtp_request_t *r, void *arg)
{
	struct api_conn	*ac = arg;

	(void)r;
	ac->nheaders = 0;
	ac->header_bytes = 0;
	if (ac->state == API_CONN_IDLE)
		api_conn_wait(ac, API_CONN_WAIT);
	return EVHTP_RES_OK;
}

/* Each header line counts against the limits before evhtp keeps more. */
static evhtp_res
api_header_cb(evhtp_request_t *r, evhtp_header_t *h, void *arg)
{
	struct api_conn	*ac = arg;

	(void)r;
	ac->nheaders++;
	ac->header_bytes += h->klen + h->vlen + 4;
	if (ac->nheaders > API_MAX_HEADERS ||
	    ac->header_bytes > API_MAX_HEADER_BYTES) {
		ac->reject = 431;
		return EVHTP_RES_ERROR;
	}
	return EVHTP_RES_OK;
}

/* Refuses a declared body over the limit before any of it is read. */
static evhtp_res
api_headers_cb(evhtp_request_t *r, evhtp_headers_t *hdrs, void *arg)
{
	struct api_conn	*ac = arg;

	(void)hdrs;
	if (htparser_get_content_length(r->conn->parser) > API_MAX_BODY) {
		ac->reject = 413;
		return EVHTP_RES_ERROR;
	}
	return EVHTP_RES_OK;
}

/*
 * Runs the parser over a pipelined request left in the input. libevhtp
 * 1.2.18 resets its parser after a keep-alive reply but only reads again
 * when more bytes come, so a request already buffered would wait forever.
 */
static void
api_conn_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn		*ac = arg;
	evhtp_connection_t	*c = ac->c;

	(void)fd;
	(void)what;
	if (c->request != NULL || c->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
		return;
	bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
}

/* Output drained: look for a pipelined request on the next loop turn. */
static evhtp_res
api_conn_write_cb(evhtp_connection_t *c, void *arg)
{
	struct api_conn	*ac = arg;

	/* the answer is out whole (not a chunk of it): wait for the next */
	if (ac->state == API_CONN_BUSY && (c->request == NULL ||
	    (c->request->flags & EVHTP_REQ_FLAG_FINISHED) != 0))
		api_conn_wait(ac, API_CONN_IDLE);
	if (c->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0)
		clock_timer_add(&ac->kick, 0);
	return EVHTP_RES_OK;
}

/*
 * Which slot a new client gets: a general one while its address is within
 * its share and one is free, else a reserved one (health probes only).
 * When those are taken too the oldest waiting one is closed on the next
 * loop turn (api_conn_shed_cb), at once when out of descriptors. 0, or -1
 * to refuse it.
 */
static int
api_conn_slot(struct api *api, struct api_peer *peer, int *reserved)
{
	const struct conf	*conf = api->conf;

	*reserved = 0;
	if (api_peer_conns(peer) > (size_t)conf->api_max_conns_peer)
		*reserved = API_DROP_PEER;
	else if (api->nconns + api->nstreams >= api_conn_limit(api))
		*reserved = API_DROP_FULL;
	else
		return 0;
	if (api->nreserved >= (size_t)conf->api_reserved_conns)
		clock_timer_add(&api->shed_ev, 0);
	/* Over the reserved slots for a turn, as far as descriptors allow. */
	if (api->nconns + api->nreserved + api->nstreams < api->fdcap ||
	    api_conn_shed(api, 1) == 0)
		return 0;
	return -1;
}

/* A new client: give it a slot or refuse it, hook its requests. */
static evhtp_res
api_accept_cb(evhtp_connection_t *c, void *arg)
{
	struct api	*api = arg;
	struct api_conn	*ac;
	struct api_peer	*peer;
	uint8_t		 key[API_PEER_KEY];
	int		 reserved;

	api_peer_key(c, key);
	peer = api_peers_ref(api->peers, key);
	if (api_conn_slot(api, peer, &reserved) == -1) {
		api_peers_unref(api->peers, peer);
		api_drop(api, API_DROP_REFUSED, c);
		return EVHTP_RES_ERROR;
	}
	ac = xcalloc(1, sizeof(*ac));
	ac->api = api;
	ac->c = c;
	ac->peer = peer;
	ac->reserved = reserved;
	ac->since = clock_mono_ms();
	evtimer_assign(&ac->kick, api->base, api_conn_kick_cb, ac);
	evtimer_assign(&ac->tmo, api->base, api_conn_tmo_cb, ac);
	/* a list is large: hand the kernel more than libevent's 16 KiB a turn */
	if (c->bev != NULL)
		bufferevent_set_max_single_write(c->bev, API_MAX_WRITE);
	if (reserved) {
		TAILQ_INSERT_TAIL(&api->reserved, ac, entry);
		api->nreserved++;
	} else {
		TAILQ_INSERT_TAIL(&api->conns, ac, entry);
		api->nconns++;
	}
	api_conn_wait(ac, API_CONN_WAIT);
	evhtp_connection_set_hook(c, evhtp_hook_on_connection_fini,
	    (evhtp_hook)api_conn_fini_cb, ac);
	evhtp_connection_set_hook(c, evhtp_hook_on_headers_start,
	    (evhtp_hook)api_headers_start_cb, ac);
	evhtp_connection_set_hook(c, evhtp_hook_on_header,
	    (evhtp_hook)api_header_cb, ac);
	evhtp_connection_set_hook(c, evhtp_hook_on_headers,
	    (evhtp_hook)api_headers_cb, ac);
	evhtp_connection_set_hook(c, evhtp_hook_on_write,
	    (evhtp_hook)api_conn_write_cb, ac);
	return EVHTP_RES_OK;
}

/* Value of a hex digit, or -1. */
static int
api_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %XX and '+' in place; a bad escape is kept as it is. */
static void
api_pct_decode(char *s)
{
	char	*o = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*o++ = ' ';
		else if (*s == '%' && (hi = api_hexval(s[1])) != -1 &&
		    (lo = api_hexval(s[2])) != -1 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* Splits the raw query into decoded key and value pairs, once. */
static void
api_req_parse_query(struct api_req *req)
{
	const char	*raw;
	char		*p, *pair, *eq;

	req->parsed = 1;
	if (req->r->uri == NULL || req->r->uri->query_raw == NULL)
		return;
	raw = (const char *)req->r->uri->query_raw;
	req->qbuf = xstrdup(raw);
	p = req->qbuf;
	while ((pair = strsep(&p, "&;")) != NULL &&
	    req->nargs < API_MAX_ARGS) {
		if (*pair == '\0')
			continue;
		if ((eq = strchr(pair, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = pair + strlen(pair);
		api_pct_decode(pair);
		api_pct_decode(eq);
		req->args[req->nargs][0] = pair;
		req->args[req->nargs][1] = eq;
		req->nargs++;
	}
}

/* The endpoint a request came to. */
struct api *
api_req_api(struct api_req *req)
{
	return req->api;
}

/* The request method, as far as we care. */
enum api_method
api_req_method(struct api_req *req)
{
	return req->method;
}

/* The path without the query, as sent (not decoded). */
const char *
api_req_path(struct api_req *req)
{
	return req->path;
}

/* A query argument, decoded; "" when without a value, NULL when absent. */
const char *
api_req_query(struct api_req *req, const char *key)
{
	size_t	i;

	if (!req->parsed)
		api_req_parse_query(req);
	for (i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i][0], key) == 0)
			return req->args[i][1];
	return NULL;
}

/* A request header, looked up without regard to case. */
const char *
api_req_get_header(struct api_req *req, const char *name)
{
	return evhtp_kv_find(req->r->headers_in, name);
}

/* The client's address, for logs. */
const char *
api_req_peer(struct api_req *req)
{
	if (req->peer[0] == '\0')
		api_peer(req->r->conn, req->peer, sizeof(req->peer));
	return req->peer;
}

/* Adds a response header (both strings copied). */
static void
api_req_header(struct api_req *req, const char *key, const char *val)
{
	evhtp_headers_add_header(req->r->headers_out,
	    evhtp_header_new(key, val, 1, 1));
}

/* Adds a response header to the answer to come. */
void
api_reply_header(struct api_req *req, const char *key, const char *val)
{
	api_req_header(req, key, val);
}

/* Sends the answer: headers, body (moved out of body), metrics, trace. */
void
api_reply(struct api_req *req, int code, const char *ctype,
    struct evbuffer *body)
{
	char	 buf[128];
	size_t	 len;

	if (req->replied) {
		log_warnx("api: %s: second reply dropped", req->label);
		return;
	}
	req->replied = 1;
	if (ctype != NULL)
		api_req_header(req, "Content-Type", ctype);
	if (body != NULL)
		evbuffer_add_buffer(req->r->buffer_out, body);
	if (req->method == API_METHOD_HEAD) {
		/* Tell the length a GET would have, and send no body. */
		len = evbuffer_get_length(req->r->buffer_out);
		evbuffer_drain(req->r->buffer_out, len);
		snprintf(buf, sizeof(buf), "%zu", len);
		api_req_header(req, "Content-Length", buf);
	}
	evhtp_send_reply(req->r, (evhtp_res)code);
	api_metrics_count(req->api, req->label, code);
	if (log_tracing(LOG_SUB_API)) {
		log_trace(LOG_SUB_API, "api: %s %s %d", req->method ==
		    API_METHOD_HEAD ? "HEAD" : req->method == API_METHOD_GET ?
		    "GET" : "other", log_escape(req->path, strlen(req->path),
		    buf, sizeof(buf)), code);
	}
}

/* Sends a string as the body. */
void
api_reply_text(struct api_req *req, int code, const char *ctype,
    const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evbuffer_add(b, text, strlen(text));
	api_reply(req, code, ctype, b);
	evbuffer_free(b);
}

/* Sends a Kubernetes Status object. */
void
api_reply_status(struct api_req *req, int code, const char *reason,
    const char *message)
{
	char	*st;

	st = json_status(code, reason, message);
	api_reply_text(req, code, "application/json", st);
	free(st);
}

/*
 * Writes the head of a chunked answer straight to the connection and
 * takes it from libevhtp, which drops its own state once this request
 * callback returns; the bufferevent is the caller's.
 */
struct bufferevent *
api_reply_detach(struct api_req *req, int code, const char *ctype)
{
	evhtp_connection_t	*c = evhtp_request_get_connection(req->r);
	struct bufferevent	*bev;

	struct api_conn		*ac;

	if (req->replied || c == NULL || c->bev == NULL ||
	    c->hooks == NULL || (ac = c->hooks->on_connection_fini_arg) ==
	    NULL) {
		if (!req->replied)
			api_reply_status(req, 500, "InternalError", "cannot "
			    "stream on this connection");
		return NULL;
	}
	/*
	 * Taking the bufferevent drops every hook, our fini hook too: forget
	 * the connection here. libevhtp frees its part when this request
	 * callback returns.
	 */
	api_conn_forget(ac);
	bev = evhtp_connection_take_ownership(c);
	req->replied = 1;
	bufferevent_set_timeouts(bev, NULL, NULL);
	evbuffer_add_printf(bufferevent_get_output(bev), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-cache, private\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n", code, api_code_text(code), ctype);
	api_metrics_count(req->api, req->label, code);
	log_trace(LOG_SUB_API, "api: %s: streaming %s", api_req_peer(req),
	    req->label);
	return bev;
}

/* Whether path is a health probe's, open to all and on reserved slots. */
static int
api_path_health(const char *path)
{
	return strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
	    strcmp(path, "/readyz") == 0;
}

/* Whether the connection's client is on a loopback address. */
static int
api_conn_local(evhtp_connection_t *c)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)c->saddr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)c->saddr;

	if (c->saddr == NULL)
		return 0;
	if (c->saddr->sa_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (c->saddr->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	return 0;
}

/* Compares without stopping at the first difference. */
static int
api_token_equal(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * Loopback clients need nothing; others a bearer token. Health paths are
 * open to all, as probes have no token.
 */
static int
api_req_allowed(struct api_req *req)
{
	const char	*auth;

	if (!req->api->remote || api_conn_local(req->r->conn) ||
	    api_path_health(req->path))
		return 1;
	auth = api_req_get_header(req, "Authorization");
	return auth != NULL && req->api->token != NULL &&
	    strncmp(auth, "Bearer ", 7) == 0 &&
	    api_token_equal(auth + 7, req->api->token);
}

/* Answers a path we do not serve. */
static void
api_reply_not_found(struct api_req *req)
{
	char	*msg, esc[256];

	xasprintf(&msg, "the server could not find the requested resource "
	    "%s", log_escape(req->path, strlen(req->path), esc, sizeof(esc)));
	api_reply_status(req, 404, "NotFound", msg);
	free(msg);
}

/* The method of a request as ours. */
static enum api_method
api_method_of(evhtp_request_t *r)
{
	switch (evhtp_request_get_method(r)) {
	case htp_method_GET:
		return API_METHOD_GET;
	case htp_method_HEAD:
		return API_METHOD_HEAD;
	default:
		return API_METHOD_OTHER;
	}
}

/*
 * A whole request came: the connection's timer stops while we answer. On
 * a reserved slot only a probe is answered, and the connection then
 * closes. 0 to go on, -1 when answered 503 here.
 */
static int
api_request_slot(struct api_req *req)
{
	evhtp_connection_t	*c = req->r->conn;
	struct api_conn		*ac;
	char			 buf[160];

	if (c == NULL || c->hooks == NULL ||
	    (ac = c->hooks->on_connection_fini_arg) == NULL)
		return 0;
	api_conn_wait(ac, API_CONN_BUSY);
	if (!ac->reserved)
		return 0;
	evhtp_request_set_keepalive(req->r, 0);
	if (api_path_health(req->path))
		return 0;
	api_drop(req->api, (enum api_drop)ac->reserved, c);
	api_req_header(req, "Retry-After", "1");
	snprintf(buf, sizeof(buf), "%s, try again later",
	    ac->reserved == API_DROP_PEER ? "too many connections from this "
	    "address" : "too many connections");
	api_reply_status(req, 503, "ServiceUnavailable", buf);
	return -1;
}

/* Every complete request: route by path, check the method, answer. */
/*
 * Whether the request is HTTP/1.0 or 1.1. libevhtp takes any "HTTP/d.d"
 * and writes the answer's status line with the request's version: for
 * another one, the answer is made HTTP/1.1.
 */
static int
api_version_ok(evhtp_request_t *r)
{
	htparser	*p = r->conn->parser;

	if (htparser_get_major(p) == 1 && htparser_get_minor(p) <= 1)
		return 1;
	htparser_set_major(p, 1);
	htparser_set_minor(p, 1);
	return 0;
}

static void
api_request_cb(evhtp_request_t *r, void *arg)
{
	struct api_req		 req;
	const struct api_route	*rt;
	const char		*raw;
	api_handler_cb		 cb;

	memset(&req, 0, sizeof(req));
	req.api = arg;
	req.r = r;
	req.method = api_method_of(r);
	req.path = "";
	req.label = API_LABEL_OTHER;
	if (r->uri != NULL && r->uri->path != NULL &&
	    r->uri->path->full != NULL)
		req.path = r->uri->path->full;
	if (api_request_slot(&req) == -1)
		goto out;
	raw = r->uri != NULL ? (const char *)r->uri->query_raw : NULL;
	if (!api_version_ok(r)) {
		log_debug("api: %s: not HTTP/1.0 or 1.1, answering 505",
		    api_req_peer(&req));
		api_reply_status(&req, 505, "HTTPVersionNotSupported",
		    "the server speaks HTTP/1.0 and HTTP/1.1");
		goto out;
	}
	if (strlen(req.path) + (raw != NULL ? strlen(raw) : 0) > API_MAX_URI) {
		api_reply_status(&req, 414, "BadRequest", "request URI too long");
		goto out;
	}
	if ((rt = api_route_find(req.path)) != NULL) {
		req.label = rt->path;
		cb = rt->cb;
	} else if (api_kube_path(req.path) && req.api->store != NULL) {
		req.label = API_LABEL_KUBE;
		cb = api_kube_serve;
	} else {
		api_reply_not_found(&req);
		goto out;
	}
	if (!api_req_allowed(&req)) {
		log_debug("api: %s: %s without a valid token, answering 401",
		    api_req_peer(&req), req.label);
		api_req_header(&req, "WWW-Authenticate", "Bearer");
		api_reply_status(&req, 401, "Unauthorized", "Unauthorized");
		goto out;
	}
	if (req.method == API_METHOD_OTHER) {
		api_req_header(&req, "Allow", "GET, HEAD");
		api_reply_status(&req, 405, "MethodNotAllowed",
		    "the server does not allow this method on the requested "
		    "resource");
		goto out;
	}
	cb(&req);
	if (!req.replied) {
		log_warnx("api: %s: handler gave no answer", req.label);
		api_reply_status(&req, 500, "InternalError", "no answer");
	}
out:
	free(req.qbuf);
}

/* Binds the listening socket; fills api_errbuf on failure. */
static int
api_bind(struct api *api, const char *addr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*why;

	if (api_parse_listen(addr, &ss, &sslen, &why) == -1) {
		snprintf(api_errbuf, sizeof(api_errbuf), "listen %s: %s",
		    addr, why);
		return -1;
	}
	errno = 0;
	if (evhtp_bind_sockaddr(api->htp, (struct sockaddr *)&ss, sslen,
	    API_BACKLOG) != 0) {
		snprintf(api_errbuf, sizeof(api_errbuf), "listen %s: %s",
		    addr, errno != 0 ? strerror(errno) : "cannot bind");
		return -1;
	}
	return 0;
}

/* Whether an address we listen on is loopback only. */
static int
api_addr_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/* Reads the bearer token: one line, whitespace around it dropped. */
static int
api_token_load(struct api *api, const char *path)
{
	char	buf[API_TOKEN_MAX + 2], *p, *e;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(api_errbuf, sizeof(api_errbuf), "token file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || (size_t)n > API_TOKEN_MAX) {
		snprintf(api_errbuf, sizeof(api_errbuf), "token file %s: %s",
		    path, n < 0 ? strerror(errno) : "longer than 4096 bytes");
		return -1;
	}
	buf[n] = '\0';
	for (p = buf; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';)
		p++;
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\n' || e[-1] == '\r');)
		*--e = '\0';
	if (*p == '\0' || strpbrk(p, " \t\r\n") != NULL) {
		snprintf(api_errbuf, sizeof(api_errbuf), "token file %s: %s",
		    path, *p == '\0' ? "empty" : "not one token");
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	api->token = xstrdup(p);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* TLS for the server from the certificate and key files. */
static int
api_tls(struct api *api, const struct conf *conf)
{
	evhtp_ssl_cfg_t	cfg;

	if (access(conf->api_tls_cert, R_OK) == -1 ||
	    access(conf->api_tls_key, R_OK) == -1) {
		snprintf(api_errbuf, sizeof(api_errbuf), "tls: %s: %s",
		    access(conf->api_tls_cert, R_OK) == -1 ?
		    conf->api_tls_cert : conf->api_tls_key, strerror(errno));
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.pemfile = conf->api_tls_cert;
	cfg.privfile = conf->api_tls_key;
	cfg.ssl_opts = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
	    SSL_OP_NO_TLSv1_1;
	cfg.scache_type = evhtp_ssl_scache_type_disabled;
	if (evhtp_ssl_init(api->htp, &cfg) == -1 || api->htp->ssl_ctx == NULL ||
	    SSL_CTX_check_private_key(api->htp->ssl_ctx) != 1) {
		snprintf(api_errbuf, sizeof(api_errbuf), "tls: cannot use "
		    "certificate %s with key %s", conf->api_tls_cert,
		    conf->api_tls_key);
		return -1;
	}
	return 0;
}

/*
 * Beyond loopback the API needs TLS and a token; on loopback TLS is
 * used when configured. Fills api_errbuf on failure.
 */
static int
api_secure(struct api *api, const struct conf *conf)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*why;
	int			 tls;

	if (api_parse_listen(conf->api_listen, &ss, &sslen, &why) == -1)
		return 0;	/* api_bind says why */
	api->remote = !api_addr_loopback(&ss);
	tls = conf->api_tls_cert != NULL && *conf->api_tls_cert != '\0' &&
	    conf->api_tls_key != NULL && *conf->api_tls_key != '\0';
	if (api->remote && (!tls || conf->api_token_file == NULL ||
	    *conf->api_token_file == '\0')) {
		snprintf(api_errbuf, sizeof(api_errbuf), "listen %s: beyond "
		    "loopback the local API needs TLS and bearer tokens: set "
		    "edgesite.tls-cert, edgesite.tls-key and "
		    "edgesite.token-file", conf->api_listen);
		return -1;
	}
	if (conf->api_token_file != NULL && *conf->api_token_file != '\0' &&
	    api_token_load(api, conf->api_token_file) == -1)
		return -1;
	if (tls && api_tls(api, conf) == -1)
		return -1;
	return 0;
}

/* Creates the server on base and binds conf->api_listen. */
struct api *
api_new(struct event_base *base, const struct conf *conf,
    struct store *store, const char **errstr)
{
	struct api	*api;
	struct timeval	 idle;
	int64_t		 ms;
	size_t		 i;

	api = xcalloc(1, sizeof(*api));
	api->base = base;
	api->conf = conf;
	api->store = store;
	api->fdcap = api_fd_cap();
	api->peers = api_peers_new();
	TAILQ_INIT(&api->conns);
	TAILQ_INIT(&api->reserved);
	evtimer_assign(&api->shed_ev, base, api_conn_shed_cb, api);
	TAILQ_INIT(&api->rejects);
	TAILQ_INIT(&api->streams);
	for (i = 0; i < API_DROP_MAX; i++)
		api->drop_rl[i].period_ms = API_DROP_LOG_MS;
	api->cut_rl.period_ms = API_STREAM_LOG_MS;
	if ((api->htp = evhtp_new(base, api)) == NULL) {
		*errstr = "cannot create the HTTP server";
		free(api);
		return NULL;
	}
	evhtp_set_bev_flags(api->htp, BEV_OPT_CLOSE_ON_FREE);
	/* answers go out whole: Nagle would hold a reply's tail for an ACK */
	evhtp_enable_flag(api->htp, EVHTP_FLAG_ENABLE_NODELAY);
	evhtp_set_max_body_size(api->htp, API_MAX_BODY + 1);
	/* a backstop: our own timers close slow and idle clients first */
	ms = conf->api_idle_timeout_ms > conf->api_header_timeout_ms ?
	    conf->api_idle_timeout_ms : conf->api_header_timeout_ms;
	idle.tv_sec = (time_t)(ms / 1000) + 1;
	idle.tv_usec = 0;
	evhtp_set_timeouts(api->htp, &idle, &idle);
	evhtp_set_post_accept_cb(api->htp, api_accept_cb, api);
	evhtp_set_gencb(api->htp, api_request_cb, api);
	api->metrics = api_metrics_new(api);
	if (store != NULL)
		api->hub = api_watch_hub_new(api);
	if (api_secure(api, conf) == -1 ||
	    api_bind(api, conf->api_listen) == -1) {
		*errstr = api_errbuf;
		api_free(api);
		return NULL;
	}
	api->listen = xstrdup(conf->api_listen);
	log_stderr_capture();
	log_debug("api: listening on %s, at most %zu clients and %lld for "
	    "probes", api->listen, api_conn_limit(api),
	    (long long)conf->api_reserved_conns);
	return api;
}

/* Closes the listening socket; open connections are served to the end. */
void
api_close_listeners(struct api *api)
{
	if (api == NULL || api->htp == NULL)
		return;
	evhtp_unbind_socket(api->htp);
}

/* Uses a reloaded config from now on; the address needs a restart. */
void
api_set_conf(struct api *api, const struct conf *conf)
{
	if (api != NULL)
		api->conf = conf;
}

/* Ends every connection and frees the server. */
void
api_free(struct api *api)
{
	struct api_conn		*ac;
	struct api_reject	*rj;

	if (api == NULL)
		return;
	/* The fini hook unlinks each connection as libevhtp frees it. */
	while ((ac = TAILQ_FIRST(&api->conns)) != NULL)
		evhtp_connection_free(ac->c);
	while ((ac = TAILQ_FIRST(&api->reserved)) != NULL)
		evhtp_connection_free(ac->c);
	api_watch_hub_free(api->hub);
	api_stream_close_all(api);
	while ((rj = TAILQ_FIRST(&api->rejects)) != NULL) {
		TAILQ_REMOVE(&api->rejects, rj, entry);
		evtimer_del(&rj->ev);
		bufferevent_free(rj->bev);
		free(rj);
	}
	if (api->htp != NULL) {
		evhtp_unbind_socket(api->htp);
		evhtp_free(api->htp);
	}
	evtimer_del(&api->shed_ev);
	api_metrics_free(api->metrics);
	api_peers_free(api->peers);
	xfree_secret(api->token);
	free(api->listen);
	free(api);
}
