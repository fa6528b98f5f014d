/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC over HTTP/2 on a unix socket, the only file that uses nghttp2
 * (core/version.c includes it only to print its version).
 * A struct cri_h2 is one client connection with prior knowledge (the
 * connection preface is sent at once, no upgrade) on a bufferevent in the
 * one loop; each unary call is a stream carrying one length-prefixed gRPC
 * message each way, the status coming in the trailers (grpc-status,
 * grpc-message). nghttp2 does the framing, flow control and window
 * updates; this file feeds it bytes, checks every size the server
 * controls (the reply message against max_msg before allocating, the
 * headers of a stream, grpc-message) and turns stream closes into
 * replies.
 *
 * The connection is a state machine (disconnected, connecting, ready,
 * backoff): it is ready once the server's SETTINGS arrive; any failure
 * fails the streams in flight, drops the socket and connects again after a
 * capped back-off. Events reach the state machine only from libevent
 * callbacks, never from inside nghttp2, so the callbacks above may start
 * and cancel streams freely. It owns its streams: a cancelled stream stays
 * on the list, silent, until nghttp2 has closed it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <nghttp2/nghttp2.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "cri/cri_h2.h"

/* Waiting for the socket and the server's SETTINGS. */
#define CRI_H2_CONNECT_MS	5000
/* Reconnect back-off; a connection up for the stable period resets it. */
#define CRI_H2_BACKOFF_MIN_MS	200
#define CRI_H2_BACKOFF_MAX_MS	5000
#define CRI_H2_STABLE_MS	10000
/* Our receive windows: the stream and the whole connection. */
#define CRI_H2_STREAM_WINDOW	(1 << 20)
#define CRI_H2_CONN_WINDOW	(8 << 20)
/* Header bytes a stream may receive (names, values, 32 each). */
#define CRI_H2_MAX_HEADERS	(64 << 10)
#define CRI_H2_MAX_STREAMS	256
#define CRI_H2_GRPC_PREFIX	5

struct cri_h2_stream {
	struct cri_h2			*h2;
	TAILQ_ENTRY(cri_h2_stream)	 entry;
	int32_t				 id;
	int				 cancelled;
	int				 sent;
	uint8_t				*body;		/* prefix + message */
	size_t				 bodylen;
	size_t				 bodyoff;
	cri_h2_done_cb			 cb;
	void				*arg;

	int				 http_status;
	int				 grpc_status;
	char				 grpc_message[512];
	size_t				 hdrbytes;
	uint8_t				 prefix[CRI_H2_GRPC_PREFIX];
	size_t				 prefixlen;
	uint8_t				*data;
	size_t				 datalen;
	size_t				 datawant;
	int				 has_data;
	enum cri_h2_error		 error;
	char				 errtext[320];
};

TAILQ_HEAD(cri_h2_streams, cri_h2_stream);

enum cri_h2_event {
	CRI_H2_EV_START,	/* connect now (first time, or back-off over) */
	CRI_H2_EV_SETTINGS,	/* the server's SETTINGS arrived */
	CRI_H2_EV_LOST,		/* socket error, EOF, GOAWAY, bad frames (why) */
	CRI_H2_EV_TIMEOUT,	/* the timer ran out */
};

static const char *const cri_h2_state_names[] = {
	"disconnected", "connecting", "ready", "backoff",
};

static const char *const cri_h2_event_names[] = {
	"start", "settings", "lost", "timeout",
};

struct cri_h2 {
	struct event_base	*base;
	char			*path;
	char			*name;
	size_t			 max_msg;
	cri_h2_state_cb		 state_cb;
	void			*arg;
	enum cri_h2_state	 state;
	struct backoff		 bo;
	int			 failing;	/* a run of failed connects */
	struct event		*timer;		/* connect timeout, back-off */
	struct event		*later;		/* deferred events */
	enum cri_h2_event	 later_ev;
	char			 why[256];

	struct bufferevent	*bev;
	nghttp2_session		*session;
	int			 got_settings;
	int			 got_goaway;
	int			 failed;	/* nghttp2 or a write failed */
	struct cri_h2_streams	 streams;
};

static void	cri_h2_fsm(struct cri_h2 *, enum cri_h2_event);

const char *
cri_h2_state_name(enum cri_h2_state st)
{
	if ((size_t)st >= sizeof(cri_h2_state_names) /
	    sizeof(cri_h2_state_names[0]))
		return "?";
	return cri_h2_state_names[st];
}

enum cri_h2_state
cri_h2_state(struct cri_h2 *h2)
{
	return h2->state;
}

/*
 * Moves to a new state and tells the owner. Routine retries while the
 * runtime stays away are traced; the rest is logged at info.
 */
static void
cri_h2_enter_state(struct cri_h2 *h2, enum cri_h2_state st, const char *why)
{
	enum cri_h2_state	old = h2->state;

	if (old == st)
		return;
	if (h2->failing > 1 && (st == CRI_H2_CONNECTING ||
	    (old == CRI_H2_CONNECTING && st == CRI_H2_BACKOFF)))
		log_trace(LOG_SUB_CRI, "%s: %s -> %s (%s)", h2->name,
		    cri_h2_state_names[old], cri_h2_state_names[st], why);
	else
		log_info("%s: %s -> %s (%s)", h2->name,
		    cri_h2_state_names[old], cri_h2_state_names[st], why);
	h2->state = st;
	if (h2->state_cb != NULL)
		h2->state_cb(h2, st, why, h2->arg);
}

/* Arms the timer for ms. */
static void
cri_h2_timer(struct cri_h2 *h2, uint64_t ms)
{
	clock_timer_add(h2->timer, ms);
}

/* libevent: connect timeout or end of back-off. */
static void
cri_h2_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri_h2	*h2 = arg;

	cri_h2_fsm(h2, h2->state == CRI_H2_BACKOFF ? CRI_H2_EV_START :
	    CRI_H2_EV_TIMEOUT);
}

/* libevent: an event put off to a later loop turn. */
static void
cri_h2_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cri_h2	*h2 = arg;

	cri_h2_fsm(h2, h2->later_ev);
}

/* Delivers ev on the next loop turn (the first of several wins). */
static void
cri_h2_defer(struct cri_h2 *h2, enum cri_h2_event ev, const char *why)
{
	if (evtimer_pending(h2->later, NULL))
		return;
	if (why != NULL)
		snprintf(h2->why, sizeof(h2->why), "%s", why);
	h2->later_ev = ev;
	clock_timer_add(h2->later, 0);
}

/* Frees a stream already off the list. */
static void
cri_h2_stream_free(struct cri_h2_stream *s)
{
	free(s->body);
	free(s->data);
	free(s);
}

/* Fills reply r from stream s. */
static void
cri_h2_stream_reply(struct cri_h2_stream *s, struct cri_h2_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->error = s->error;
	r->sent = s->sent;
	r->http_status = s->http_status;
	r->grpc_status = s->grpc_status;
	r->grpc_message = s->error != CRI_H2_E_NONE ? s->errtext :
	    s->grpc_message;
	r->has_data = s->has_data && s->datalen == s->datawant;
	r->data = r->has_data ? s->data : NULL;
	r->len = r->has_data ? s->datalen : 0;
}

/* Ends stream s: removes it and, unless cancelled, reports it. */
static void
cri_h2_stream_end(struct cri_h2 *h2, struct cri_h2_stream *s)
{
	struct cri_h2_reply	r;

	TAILQ_REMOVE(&h2->streams, s, entry);
	if (!s->cancelled && s->cb != NULL) {
		cri_h2_stream_reply(s, &r);
		s->cb(s, &r, s->arg);
	}
	cri_h2_stream_free(s);
}

/* Marks stream s failed with error e and resets it. */
static void
cri_h2_stream_fail(struct cri_h2_stream *s, enum cri_h2_error e,
    const char *text)
{
	if (s->error != CRI_H2_E_NONE)
		return;
	s->error = e;
	snprintf(s->errtext, sizeof(s->errtext), "%s", text);
	nghttp2_submit_rst_stream(s->h2->session, NGHTTP2_FLAG_NONE, s->id,
	    e == CRI_H2_E_TOO_LARGE ? NGHTTP2_CANCEL : NGHTTP2_PROTOCOL_ERROR);
}

/* nghttp2: the stream that frame belongs to, or NULL. */
static struct cri_h2_stream *
cri_h2_stream_get(nghttp2_session *session, int32_t id)
{
	if (id <= 0)
		return NULL;
	return nghttp2_session_get_stream_user_data(session, id);
}

/*
 * Decodes grpc-message (percent-encoded) into s, truncated to fit, with
 * control characters made spaces so that the text is safe to log.
 */
static void
cri_h2_stream_message(struct cri_h2_stream *s, const uint8_t *v, size_t len)
{
	size_t	i, o = 0;
	char	hex[3];
	char	c;

	for (i = 0; i < len && o < sizeof(s->grpc_message) - 1; i++) {
		if (v[i] == '%' && i + 2 < len && isxdigit(v[i + 1]) &&
		    isxdigit(v[i + 2])) {
			hex[0] = (char)v[i + 1];
			hex[1] = (char)v[i + 2];
			hex[2] = '\0';
			c = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			c = (char)v[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		s->grpc_message[o++] = c;
	}
	s->grpc_message[o] = '\0';
}

/* Parses a small decimal number of at most 3 digits; -1 if it is not. */
static int
cri_h2_number(const uint8_t *v, size_t len)
{
	size_t	i;
	int	n = 0;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit(v[i]))
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

/* nghttp2: one header field of the response or the trailers. */
static int
cri_h2_header_cb(nghttp2_session *session, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct cri_h2_stream	*s;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    (s = cri_h2_stream_get(session, frame->hd.stream_id)) == NULL)
		return 0;
	s->hdrbytes += namelen + valuelen + 32;
	if (s->hdrbytes > CRI_H2_MAX_HEADERS) {
		cri_h2_stream_fail(s, CRI_H2_E_PROTOCOL,
		    "too many response headers");
		return 0;
	}
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		s->http_status = cri_h2_number(value, valuelen);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		s->grpc_status = cri_h2_number(value, valuelen);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		cri_h2_stream_message(s, value, valuelen);
	return 0;
}

/* Takes the 5-byte gRPC prefix in s->prefix: checks and allocates. */
static int
cri_h2_stream_prefix(struct cri_h2_stream *s)
{
	uint32_t	len;
	char		text[96];

	if (s->has_data) {
		cri_h2_stream_fail(s, CRI_H2_E_PROTOCOL,
		    "more than one message in a unary reply");
		return -1;
	}
	if (s->prefix[0] != 0) {
		cri_h2_stream_fail(s, CRI_H2_E_PROTOCOL,
		    "compressed reply (none was asked for)");
		return -1;
	}
	len = (uint32_t)s->prefix[1] << 24 | (uint32_t)s->prefix[2] << 16 |
	    (uint32_t)s->prefix[3] << 8 | (uint32_t)s->prefix[4];
	if (len > s->h2->max_msg) {
		snprintf(text, sizeof(text), "reply of %u bytes is over the "
		    "limit of %zu", len, s->h2->max_msg);
		cri_h2_stream_fail(s, CRI_H2_E_TOO_LARGE, text);
		return -1;
	}
	s->has_data = 1;
	s->datawant = len;
	s->datalen = 0;
	s->data = xmalloc(len > 0 ? len : 1);
	return 0;
}

/* nghttp2: a piece of a DATA frame: the gRPC prefix, then the message. */
static int
cri_h2_data_cb(nghttp2_session *session, uint8_t flags, int32_t id,
    const uint8_t *p, size_t len, void *arg)
{
	struct cri_h2_stream	*s;
	size_t			 n;

	if ((s = cri_h2_stream_get(session, id)) == NULL ||
	    s->error != CRI_H2_E_NONE)
		return 0;
	while (len > 0) {
		if (s->prefixlen < CRI_H2_GRPC_PREFIX) {
			n = CRI_H2_GRPC_PREFIX - s->prefixlen;
			n = n < len ? n : len;
			memcpy(s->prefix + s->prefixlen, p, n);
			s->prefixlen += n;
			if (s->prefixlen == CRI_H2_GRPC_PREFIX &&
			    cri_h2_stream_prefix(s) == -1)
				return 0;
		} else {
			n = s->datawant - s->datalen;
			n = n < len ? n : len;
			memcpy(s->data + s->datalen, p, n);
			s->datalen += n;
			/* A message is complete: what follows is another. */
			if (s->datalen == s->datawant)
				s->prefixlen = 0;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* nghttp2: a whole frame arrived. */
static int
cri_h2_frame_recv_cb(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct cri_h2	*h2 = arg;

	if (frame->hd.type == NGHTTP2_SETTINGS &&
	    (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0)
		h2->got_settings = 1;
	else if (frame->hd.type == NGHTTP2_GOAWAY)
		h2->got_goaway = 1;
	return 0;
}

/* nghttp2: a frame went out; the request headers mean it may be seen. */
static int
cri_h2_frame_send_cb(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct cri_h2_stream	*s;

	if (frame->hd.type == NGHTTP2_HEADERS &&
	    (s = cri_h2_stream_get(session, frame->hd.stream_id)) != NULL)
		s->sent = 1;
	return 0;
}

/* nghttp2: the stream closed (end, reset by either side, refused). */
static int
cri_h2_stream_close_cb(nghttp2_session *session, int32_t id,
    uint32_t code, void *arg)
{
	struct cri_h2		*h2 = arg;
	struct cri_h2_stream	*s;
	char			 text[96];

	if ((s = cri_h2_stream_get(session, id)) == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, id, NULL);
	if (s->error == CRI_H2_E_NONE && code != NGHTTP2_NO_ERROR) {
		if (code == NGHTTP2_REFUSED_STREAM) {
			s->error = CRI_H2_E_REFUSED;
			s->sent = 0;
		} else
			s->error = CRI_H2_E_RESET;
		snprintf(text, sizeof(text), "stream reset by the runtime: %s",
		    nghttp2_http2_strerror(code));
		snprintf(s->errtext, sizeof(s->errtext), "%s", text);
	}
	cri_h2_stream_end(h2, s);
	return 0;
}

/* nghttp2: the request body, the gRPC frame built in cri_h2_call. */
static ssize_t
cri_h2_body_cb(nghttp2_session *session, int32_t id, uint8_t *buf,
    size_t len, uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct cri_h2_stream	*s = src->ptr;
	size_t			 n;

	n = s->bodylen - s->bodyoff;
	n = n < len ? n : len;
	memcpy(buf, s->body + s->bodyoff, n);
	s->bodyoff += n;
	if (s->bodyoff == s->bodylen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Hands nghttp2's output to the bufferevent; -1 and h2->failed on error. */
static int
cri_h2_flush(struct cri_h2 *h2)
{
	const uint8_t	*data;
	ssize_t		 n;

	if (h2->session == NULL || h2->failed)
		return -1;
	while ((n = nghttp2_session_mem_send(h2->session, &data)) > 0) {
		if (bufferevent_write(h2->bev, data, (size_t)n) == -1) {
			n = NGHTTP2_ERR_CALLBACK_FAILURE;
			break;
		}
	}
	if (n < 0) {
		h2->failed = 1;
		snprintf(h2->why, sizeof(h2->why), "send: %s",
		    nghttp2_strerror((int)n));
		return -1;
	}
	return 0;
}

/* Feeds what arrived to nghttp2; -1 when the connection is broken. */
static int
cri_h2_recv(struct cri_h2 *h2)
{
	struct evbuffer		*in = bufferevent_get_input(h2->bev);
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		n = nghttp2_session_mem_recv(h2->session, v.iov_base,
		    v.iov_len);
		if (n < 0) {
			snprintf(h2->why, sizeof(h2->why), "bad data from the "
			    "runtime: %s", nghttp2_strerror((int)n));
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
	}
	if (cri_h2_flush(h2) == -1)
		return -1;
	if (h2->got_goaway) {
		snprintf(h2->why, sizeof(h2->why), "the runtime sent GOAWAY");
		return -1;
	}
	if (!nghttp2_session_want_read(h2->session) &&
	    !nghttp2_session_want_write(h2->session)) {
		snprintf(h2->why, sizeof(h2->why), "session ended");
		return -1;
	}
	return 0;
}

/* libevent: bytes arrived. */
static void
cri_h2_read_cb(struct bufferevent *bev, void *arg)
{
	struct cri_h2	*h2 = arg;

	if (cri_h2_recv(h2) == -1)
		cri_h2_fsm(h2, CRI_H2_EV_LOST);
	else if (h2->got_settings && h2->state == CRI_H2_CONNECTING)
		cri_h2_fsm(h2, CRI_H2_EV_SETTINGS);
}

/* libevent: end of stream or a socket error. */
static void
cri_h2_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cri_h2	*h2 = arg;

	if (what & BEV_EVENT_EOF)
		snprintf(h2->why, sizeof(h2->why), "closed by the runtime");
	else if (what & BEV_EVENT_ERROR)
		snprintf(h2->why, sizeof(h2->why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		return;
	cri_h2_fsm(h2, CRI_H2_EV_LOST);
}

/* Drops the socket and the session; streams fail (or vanish if quiet). */
static void
cri_h2_drop(struct cri_h2 *h2, int quiet)
{
	struct cri_h2_stream	*s;

	/* Deleting the session runs no callbacks; the list still has all. */
	if (h2->session != NULL)
		nghttp2_session_del(h2->session);
	h2->session = NULL;
	if (h2->bev != NULL)
		bufferevent_free(h2->bev);
	h2->bev = NULL;
	h2->got_settings = h2->got_goaway = h2->failed = 0;
	while ((s = TAILQ_FIRST(&h2->streams)) != NULL) {
		if (quiet)
			s->cancelled = 1;
		if (s->error == CRI_H2_E_NONE) {
			s->error = CRI_H2_E_LOST;
			snprintf(s->errtext, sizeof(s->errtext),
			    "connection to the runtime lost: %s", h2->why);
		}
		cri_h2_stream_end(h2, s);
	}
}

/* Builds the nghttp2 client session with our callbacks and settings. */
static int
cri_h2_session(struct cri_h2 *h2)
{
	nghttp2_session_callbacks	*cbs;
	nghttp2_option			*opt;
	nghttp2_settings_entry		 iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, CRI_H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, CRI_H2_MAX_HEADERS },
	};
	int				 rv;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		fatalx("%s: out of memory", h2->name);
	nghttp2_session_callbacks_set_on_header_callback(cbs,
	    cri_h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    cri_h2_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    cri_h2_frame_recv_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs,
	    cri_h2_frame_send_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    cri_h2_stream_close_cb);
	if (nghttp2_option_new(&opt) != 0)
		fatalx("%s: out of memory", h2->name);
	nghttp2_option_set_peer_max_concurrent_streams(opt, CRI_H2_MAX_STREAMS);
	rv = nghttp2_session_client_new2(&h2->session, cbs, h2, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0)
		return -1;
	if (nghttp2_submit_settings(h2->session, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0])) != 0 ||
	    nghttp2_session_set_local_window_size(h2->session,
	    NGHTTP2_FLAG_NONE, 0, CRI_H2_CONN_WINDOW) != 0)
		return -1;
	return 0;
}

/* Connects the socket and sends the preface; -1 with h2->why on failure. */
static int
cri_h2_connect(struct cri_h2 *h2)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* cri.c checked that the path fits. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", h2->path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(h2->why, sizeof(h2->why), "socket: %s",
		    strerror(errno));
		return -1;
	}
	/* A unix socket connects at once or fails at once. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(h2->why, sizeof(h2->why), "connect %s: %s", h2->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	h2->bev = bufferevent_socket_new(h2->base, fd, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (h2->bev == NULL) {
		close(fd);
		snprintf(h2->why, sizeof(h2->why), "cannot create a buffer");
		return -1;
	}
	bufferevent_setcb(h2->bev, cri_h2_read_cb, NULL, cri_h2_event_cb, h2);
	bufferevent_enable(h2->bev, EV_READ | EV_WRITE);
	if (cri_h2_session(h2) == -1) {
		snprintf(h2->why, sizeof(h2->why), "cannot start HTTP/2");
		return -1;
	}
	return cri_h2_flush(h2);
}

/* Fails everything in flight and waits before connecting again. */
static void
cri_h2_backoff(struct cri_h2 *h2, const char *why)
{
	uint64_t	ms;

	cri_h2_drop(h2, 0);
	evtimer_del(h2->later);
	h2->failing++;
	ms = backoff_next(&h2->bo);
	if (h2->failing == 1 || log_tracing(LOG_SUB_CRI))
		log_warnx("%s: %s, connecting again in %llu ms", h2->name, why,
		    (unsigned long long)ms);
	cri_h2_timer(h2, ms);
	cri_h2_enter_state(h2, CRI_H2_BACKOFF, why);
}

/* Starts connecting: the socket, the preface, then wait for SETTINGS. */
static void
cri_h2_start(struct cri_h2 *h2)
{
	if (cri_h2_connect(h2) == -1) {
		cri_h2_backoff(h2, h2->why);
		return;
	}
	cri_h2_timer(h2, CRI_H2_CONNECT_MS);
	cri_h2_enter_state(h2, CRI_H2_CONNECTING, "socket connected");
}

/* The state machine of the connection. */
static void
cri_h2_fsm(struct cri_h2 *h2, enum cri_h2_event ev)
{
	log_trace(LOG_SUB_CRI, "%s: event %s in %s", h2->name,
	    cri_h2_event_names[ev], cri_h2_state_names[h2->state]);
	switch (h2->state) {
	case CRI_H2_DISCONNECTED:
	case CRI_H2_BACKOFF:
		if (ev == CRI_H2_EV_START)
			cri_h2_start(h2);
		break;
	case CRI_H2_CONNECTING:
		if (ev == CRI_H2_EV_SETTINGS) {
			evtimer_del(h2->timer);
			backoff_ok(&h2->bo);
			h2->failing = 0;
			cri_h2_enter_state(h2, CRI_H2_READY,
			    "HTTP/2 settings received");
		} else if (ev == CRI_H2_EV_TIMEOUT)
			cri_h2_backoff(h2, "no HTTP/2 answer from the runtime");
		else if (ev == CRI_H2_EV_LOST)
			cri_h2_backoff(h2, h2->why);
		break;
	case CRI_H2_READY:
		if (ev == CRI_H2_EV_LOST)
			cri_h2_backoff(h2, h2->why);
		break;
	}
}

struct cri_h2 *
cri_h2_new(struct event_base *base, const char *path, const char *name,
    size_t max_msg, cri_h2_state_cb cb, void *arg)
{
	struct cri_h2	*h2;

	h2 = xcalloc(1, sizeof(*h2));
	h2->base = base;
	h2->path = xstrdup(path);
	h2->name = xstrdup(name);
	h2->max_msg = max_msg;
	h2->state_cb = cb;
	h2->arg = arg;
	h2->state = CRI_H2_DISCONNECTED;
	TAILQ_INIT(&h2->streams);
	backoff_init(&h2->bo, CRI_H2_BACKOFF_MIN_MS, CRI_H2_BACKOFF_MAX_MS,
	    CRI_H2_STABLE_MS);
	if ((h2->timer = evtimer_new(base, cri_h2_timer_cb, h2)) == NULL ||
	    (h2->later = evtimer_new(base, cri_h2_later_cb, h2)) == NULL)
		fatalx("%s: cannot create a timer", name);
	/* Connect on the first loop turn, so the owner sees every change. */
	cri_h2_defer(h2, CRI_H2_EV_START, NULL);
	return h2;
}

void
cri_h2_free(struct cri_h2 *h2)
{
	if (h2 == NULL)
		return;
	cri_h2_drop(h2, 1);
	if (h2->timer != NULL)
		event_free(h2->timer);
	if (h2->later != NULL)
		event_free(h2->later);
	free(h2->path);
	free(h2->name);
	free(h2);
}

void
cri_h2_set_max_msg(struct cri_h2 *h2, size_t max)
{
	h2->max_msg = max;
}

void
cri_h2_reset(struct cri_h2 *h2, const char *why)
{
	if (h2->state == CRI_H2_CONNECTING || h2->state == CRI_H2_READY)
		cri_h2_defer(h2, CRI_H2_EV_LOST, why);
}

/* The gRPC frame of a request: a 5-byte prefix (uncompressed, length). */
static void
cri_h2_stream_body(struct cri_h2_stream *s, const uint8_t *msg, size_t len)
{
	s->bodylen = CRI_H2_GRPC_PREFIX + len;
	s->body = xmalloc(s->bodylen);
	s->body[0] = 0;
	s->body[1] = (uint8_t)(len >> 24);
	s->body[2] = (uint8_t)(len >> 16);
	s->body[3] = (uint8_t)(len >> 8);
	s->body[4] = (uint8_t)len;
	if (len > 0)
		memcpy(s->body + CRI_H2_GRPC_PREFIX, msg, len);
}

/* Formats a grpc-timeout: at most 8 digits and a unit. */
static void
cri_h2_timeout(uint64_t ms, char *buf, size_t len)
{
	if (ms <= 99999999)
		snprintf(buf, len, "%llum", (unsigned long long)ms);
	else
		snprintf(buf, len, "%lluS", (unsigned long long)(ms / 1000 >
		    99999999 ? 99999999 : ms / 1000));
}

#define CRI_H2_NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, \
	strlen(v), NGHTTP2_NV_FLAG_NONE }

struct cri_h2_stream *
cri_h2_call(struct cri_h2 *h2, const char *path, const uint8_t *msg,
    size_t len, uint64_t timeout_ms, cri_h2_done_cb cb, void *arg)
{
	struct cri_h2_stream	*s;
	nghttp2_data_provider	 dp;
	nghttp2_nv		 nv[8];
	size_t			 nnv = 0;
	char			 ua[64], tmo[32];

	if (h2->state != CRI_H2_READY || h2->failed)
		return NULL;
	snprintf(ua, sizeof(ua), "edgesite/%s", version_string());
	cri_h2_timeout(timeout_ms, tmo, sizeof(tmo));
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV(":method", "POST");
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV(":scheme", "http");
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV(":path", path);
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV(":authority", "localhost");
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV("content-type", "application/grpc");
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV("te", "trailers");
	nv[nnv++] = (nghttp2_nv)CRI_H2_NV("user-agent", ua);
	if (timeout_ms != 0)
		nv[nnv++] = (nghttp2_nv)CRI_H2_NV("grpc-timeout", tmo);
	s = xcalloc(1, sizeof(*s));
	s->h2 = h2;
	s->cb = cb;
	s->arg = arg;
	s->http_status = 0;
	s->grpc_status = -1;
	cri_h2_stream_body(s, msg, len);
	dp.source.ptr = s;
	dp.read_callback = cri_h2_body_cb;
	s->id = nghttp2_submit_request(h2->session, NULL, nv, nnv, &dp, s);
	if (s->id < 0) {
		snprintf(h2->why, sizeof(h2->why), "cannot start a stream: %s",
		    nghttp2_strerror(s->id));
		cri_h2_stream_free(s);
		cri_h2_defer(h2, CRI_H2_EV_LOST, NULL);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&h2->streams, s, entry);
	if (cri_h2_flush(h2) == -1)
		cri_h2_defer(h2, CRI_H2_EV_LOST, NULL);
	return s;
}

void
cri_h2_cancel(struct cri_h2_stream *s)
{
	struct cri_h2	*h2 = s->h2;

	s->cancelled = 1;
	s->cb = NULL;
	if (h2->session == NULL)
		return;
	/* nghttp2 closes it after the RST goes out, then it is freed. */
	if (nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, s->id,
	    NGHTTP2_CANCEL) != 0 || cri_h2_flush(h2) == -1)
		cri_h2_defer(h2, CRI_H2_EV_LOST, NULL);
}
