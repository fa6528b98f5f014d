/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A chunked HTTP reply that outlives its request: a watch of the read API.
 * api.c writes the response head and hands the connection's bufferevent
 * over; this file owns it from then on. A stream only writes: it sends
 * chunks that share their bytes with every other stream sending the same
 * event (evbuffer references, no copy per client), discards whatever the
 * client sends, and ends with the last chunk. Its memory is bounded: a
 * chunk that finds more than the send-buffer limit still unsent closes
 * the stream (the client lists again), and a client that reads nothing for
 * API_STREAM_STALL_SECS while data waits is cut off too.
 *
 * What the owner produces from the store (a watch's initial events, a
 * LIST's body) it produces at the client's pace: it fills the output up
 * to API_STREAM_FILL bytes (api_stream_full), and the stream calls its
 * pump again each time the client has read the output down to a quarter
 * of that. A client that never reads costs the fill plus one object.
 *
 * The stream is a state machine: open (chunks go out), ending (the last
 * chunk is queued, waiting for it to be written), closed (the bufferevent
 * is disabled; both are freed on a later loop turn, never from inside
 * one of the bufferevent's own callbacks).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "api/api_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Seconds the client may leave queued data unread before it is cut off. */
#define API_STREAM_STALL_SECS	60
/* Bytes of a client's request body or stray input read and dropped. */
#define API_STREAM_PEER_MAX	64
/*
 * The socket's send buffer: fixed, so the kernel does not grow it to the
 * megabytes loopback allows and take in what a client never reads.
 */
#define API_STREAM_SNDBUF	(64 * 1024)

enum api_stream_state {
	API_STREAM_OPEN,
	API_STREAM_ENDING,
	API_STREAM_CLOSED,
};

static const char *const api_stream_state_names[] = {
	"open", "ending", "closed",
};

enum api_stream_event {
	API_STREAM_EV_END,	/* the owner is done */
	API_STREAM_EV_DRAINED,	/* everything queued is written */
	API_STREAM_EV_GONE,	/* the client closed or the socket failed */
	API_STREAM_EV_STALLED,	/* no write progress for a long time */
	API_STREAM_EV_OVERFLOW,	/* a live chunk found the buffer full */
	API_STREAM_EV_CLOSE,	/* the owner closes it at once */
};

struct api_stream {
	struct api			*api;
	struct bufferevent		*bev;
	char				 peer[API_STREAM_PEER_MAX];
	size_t				 limit;
	enum api_stream_state		 state;
	api_stream_close_cb		 cb;
	void				*arg;
	api_stream_pump_cb		 pump;	/* NULL: nothing to produce */
	void				*pump_arg;
	struct event			 reap;
	TAILQ_ENTRY(api_stream)		 entry;
};

static void	api_stream_fsm(struct api_stream *, enum api_stream_event,
		    const char *);

/* Frees a closed stream on a later loop turn. */
static void
api_stream_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_stream	*st = arg;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&st->api->streams, st, entry);
	bufferevent_free(st->bev);
	free(st);
}

/*
 * Logs the change; entering closed stops the bufferevent, takes the
 * stream off the count and schedules its memory to go.
 */
static void
api_stream_enter(struct api_stream *st, enum api_stream_state next,
    const char *why)
{
	log_trace(LOG_SUB_API, "stream %s: %s -> %s (%s)", st->peer,
	    api_stream_state_names[st->state], api_stream_state_names[next],
	    why);
	st->state = next;
	if (next != API_STREAM_CLOSED)
		return;
	bufferevent_disable(st->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(st->bev, NULL, NULL, NULL, NULL);
	st->api->nstreams--;
	clock_timer_add(&st->reap, 0);
}

/*
 * Counts a client cut off for not reading, and logs it at most once a
 * minute with how many went unlogged.
 */
static void
api_stream_cut(struct api_stream *st, int overflow, const char *why)
{
	struct api	*api = st->api;
	uint64_t	 quiet;

	if (overflow)
		api->stream_overflows++;
	else
		api->stream_stalls++;
	if (!ratelimit_pass(&api->cut_rl, clock_mono_ms(), &quiet))
		return;
	log_warnx("api: %s: client reads too slowly (%s), disconnected; %"
	    PRIu64 " more since the last such line", st->peer, why,
	    quiet);
}

/* The one place a stream's state changes. */
static void
api_stream_fsm(struct api_stream *st, enum api_stream_event ev,
    const char *why)
{
	switch (st->state) {
	case API_STREAM_OPEN:
		switch (ev) {
		case API_STREAM_EV_END:
			evbuffer_add(bufferevent_get_output(st->bev),
			    "0\r\n\r\n", 5);
			api_stream_enter(st, API_STREAM_ENDING, why);
			break;
		case API_STREAM_EV_DRAINED:
			break;
		case API_STREAM_EV_STALLED:
			api_stream_cut(st, 0, why);
			/* FALLTHROUGH */
		case API_STREAM_EV_GONE:
			api_stream_enter(st, API_STREAM_CLOSED, why);
			/* last: the owner may not touch the stream again */
			st->cb(st, why, st->arg);
			break;
		case API_STREAM_EV_OVERFLOW:
			api_stream_cut(st, 1, why);
			/* FALLTHROUGH */
		case API_STREAM_EV_CLOSE:
			api_stream_enter(st, API_STREAM_CLOSED, why);
			break;
		}
		break;
	case API_STREAM_ENDING:
		if (ev == API_STREAM_EV_STALLED)
			api_stream_cut(st, 0, why);
		if (ev != API_STREAM_EV_END)
			api_stream_enter(st, API_STREAM_CLOSED, why);
		break;
	case API_STREAM_CLOSED:
		break;
	}
}

/* Whatever the client sends is read and dropped. */
static void
api_stream_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The output is written down to the low mark: produce more, if any. */
static void
api_stream_write_cb(struct bufferevent *bev, void *arg)
{
	struct api_stream	*st = arg;

	(void)bev;
	if (st->pump != NULL && st->state == API_STREAM_OPEN)
		st->pump(st, st->pump_arg);
	else if (evbuffer_get_length(bufferevent_get_output(st->bev)) == 0)
		api_stream_fsm(st, API_STREAM_EV_DRAINED, "written");
}

/* End of file, an error, or the write timeout. */
static void
api_stream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		api_stream_fsm(arg, API_STREAM_EV_STALLED, "client stalled");
	else if (what & BEV_EVENT_EOF)
		api_stream_fsm(arg, API_STREAM_EV_GONE, "client closed");
	else
		api_stream_fsm(arg, API_STREAM_EV_GONE, "connection failed");
}

/* Takes bev (from api_reply_detach) and counts the stream. */
struct api_stream *
api_stream_new(struct api *api, struct bufferevent *bev, const char *peer,
    size_t limit, api_stream_close_cb cb, void *arg)
{
	struct api_stream	*st;
	struct timeval		 stall = { API_STREAM_STALL_SECS, 0 };
	int			 sndbuf = API_STREAM_SNDBUF;

	st = xcalloc(1, sizeof(*st));
	st->api = api;
	st->bev = bev;
	snprintf(st->peer, sizeof(st->peer), "%s", peer);
	st->limit = limit;
	st->cb = cb;
	st->arg = arg;
	st->state = API_STREAM_OPEN;
	evtimer_assign(&st->reap, api->base, api_stream_reap_cb, st);
	TAILQ_INSERT_TAIL(&api->streams, st, entry);
	api->nstreams++;
	bufferevent_setcb(bev, api_stream_read_cb, api_stream_write_cb,
	    api_stream_event_cb, st);
	bufferevent_setwatermark(bev, EV_READ, 0, 4096);
	bufferevent_setwatermark(bev, EV_WRITE, API_STREAM_FILL / 4, 0);
	if (setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)) == -1)
		log_debug("api: %s: cannot size the send buffer: %s", peer,
		    strerror(errno));
	bufferevent_set_timeouts(bev, NULL, &stall);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return st;
}

/* Frames data as one chunk: its length in hex, the data, CRLF. */
void
api_stream_frame(struct evbuffer *data)
{
	char	head[32];

	snprintf(head, sizeof(head), "%zx\r\n", evbuffer_get_length(data));
	evbuffer_prepend(data, head, strlen(head));
	evbuffer_add(data, "\r\n", 2);
}

/* Frees a chunk copied by api_stream_copy once it is written. */
static void
api_stream_copy_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/*
 * Queues a copy of data in one allocation of its size: an evbuffer's own
 * chains round up to twice that, which a stream that waits on its client
 * would hold for as long as it waits.
 */
static int
api_stream_copy(struct evbuffer *out, struct evbuffer *data)
{
	size_t	 len = evbuffer_get_length(data);
	char	*p;

	if (len == 0)
		return 0;
	p = xmalloc(len);
	if (evbuffer_copyout(data, p, len) != (ev_ssize_t)len ||
	    evbuffer_add_reference(out, p, len, api_stream_copy_free,
	    NULL) == -1) {
		free(p);
		return -1;
	}
	return 0;
}

/*
 * Queues a framed chunk: a live one (shared with other streams) by
 * reference once it checked the limit, one of this stream's own as a
 * compact copy.
 */
int
api_stream_send(struct api_stream *st, struct evbuffer *data, int live)
{
	struct evbuffer	*out;
	char		 why[64];
	int		 rc;

	if (st->state != API_STREAM_OPEN)
		return -1;
	out = bufferevent_get_output(st->bev);
	if (live && evbuffer_get_length(out) > st->limit) {
		snprintf(why, sizeof(why), "over %zu unsent bytes", st->limit);
		api_stream_fsm(st, API_STREAM_EV_OVERFLOW, why);
		return -1;
	}
	rc = live ? evbuffer_add_buffer_reference(out, data) :
	    api_stream_copy(out, data);
	if (rc == -1) {
		api_stream_fsm(st, API_STREAM_EV_OVERFLOW, "cannot queue");
		return -1;
	}
	return 0;
}

/* Sets (or with NULL, clears) what produces more as the client reads. */
void
api_stream_pump(struct api_stream *st, api_stream_pump_cb pump, void *arg)
{
	st->pump = pump;
	st->pump_arg = arg;
}

/* Whether the owner should wait for the client before producing more. */
int
api_stream_full(struct api_stream *st)
{
	return st->state != API_STREAM_OPEN ||
	    evbuffer_get_length(bufferevent_get_output(st->bev)) >=
	    API_STREAM_FILL;
}

/* The last chunk; the stream closes once it is written. */
void
api_stream_end(struct api_stream *st)
{
	api_stream_fsm(st, API_STREAM_EV_END, "done");
}

/* Closes now, dropping what is unsent; no callback. */
void
api_stream_close(struct api_stream *st, const char *why)
{
	if (st != NULL)
		api_stream_fsm(st, API_STREAM_EV_CLOSE, why);
}

/* Bytes still to be written. */
size_t
api_stream_pending(struct api_stream *st)
{
	return evbuffer_get_length(bufferevent_get_output(st->bev));
}

/* At api_free: every stream goes now, reaped or not. */
void
api_stream_close_all(struct api *api)
{
	struct api_stream	*st;

	while ((st = TAILQ_FIRST(&api->streams)) != NULL) {
		/* an owner still producing (a LIST) lets go of its state */
		if (st->state == API_STREAM_OPEN)
			st->cb(st, "shutting down", st->arg);
		if (st->state != API_STREAM_CLOSED)
			api->nstreams--;
		evtimer_del(&st->reap);
		TAILQ_REMOVE(&api->streams, st, entry);
		bufferevent_free(st->bev);
		free(st);
	}
}
