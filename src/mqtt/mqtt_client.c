/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The external broker's client, and the one file that uses libmosquitto
 * (core/version.c includes mosquitto.h only to print its version).
 * libmosquitto runs without its threads: its socket is watched by two
 * events of our loop (read always, write while it has output queued) and a
 * one-second timer calls mosquitto_loop_misc for the keep-alive. Nothing
 * here blocks: evdns resolves the broker's name, so libmosquitto only ever
 * sees a numeric address, which mosquitto_connect_bind_async reaches with
 * a non-blocking socket; the CONNACK must come within
 * MQTT_CLIENT_CONNECT_MS or the attempt is given up. Each attempt gets a
 * new struct mosquitto, so abandoning one never needs the library's
 * cooperation; the old one is destroyed on a later loop turn, never inside
 * its own callback. The subscriptions are ours, a counted list sent again
 * on every (clean) session; what is published while no session is up waits
 * in a bounded queue (the oldest dropped first) and goes out when one is.
 * MQTT 3.1.1 has no
 * "no local" option, so what this client publishes on a topic its own
 * subscriptions match is remembered by a hash for a few seconds and not
 * handed back when the broker echoes it.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

#include <mosquitto.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_client.h"

/* Resolving, connecting and the CONNACK together. */
#define MQTT_CLIENT_CONNECT_MS		10000
#define MQTT_CLIENT_RETRY_MIN_MS	1000
#define MQTT_CLIENT_RETRY_MAX_MS	30000
#define MQTT_CLIENT_STABLE_MS		30000
#define MQTT_CLIENT_TICK_MS		1000
/* Packets handled per read event, so one busy broker cannot starve us. */
#define MQTT_CLIENT_READ_BURST		64
/* Own messages remembered to recognise their echo, and for how long. */
#define MQTT_CLIENT_ECHOES		256
#define MQTT_CLIENT_ECHO_MS		10000

enum mqtt_client_state {
	MQTT_CLIENT_WAITING,	/* back-off before the next attempt */
	MQTT_CLIENT_RESOLVING,	/* evdns looks the broker's name up */
	MQTT_CLIENT_CONNECTING,	/* connect, CONNECT sent, no CONNACK */
	MQTT_CLIENT_CONNECTED,	/* session up */
	MQTT_CLIENT_CLOSED,	/* being freed */
};

static const char *const mqtt_client_state_names[] = {
	"waiting", "resolving", "connecting", "connected", "closed",
};

enum mqtt_client_event {
	MQTT_CLIENT_EV_TIMER,		/* the state's timer fired */
	MQTT_CLIENT_EV_RESOLVED,	/* c->addr holds the address */
	MQTT_CLIENT_EV_FAILED,		/* resolving or connecting */
	MQTT_CLIENT_EV_CONNACK,		/* the broker accepted us */
	MQTT_CLIENT_EV_LOST,		/* refused, closed, socket error */
	MQTT_CLIENT_EV_CLOSE,
};

struct mqtt_client_sub {
	TAILQ_ENTRY(mqtt_client_sub)	 entry;
	char				*filter;
	int				 qos;
	unsigned int			 refs;
};
TAILQ_HEAD(mqtt_client_subs, mqtt_client_sub);

/* A message published while the session was down. */
struct mqtt_client_pending {
	TAILQ_ENTRY(mqtt_client_pending) entry;
	char				*topic;
	void				*payload;
	size_t				 len;
	int				 qos;
	int				 retain;
};
TAILQ_HEAD(mqtt_client_pendings, mqtt_client_pending);

struct mqtt_client_echo {
	uint64_t	hash;
	uint64_t	expires;	/* monotonic ms; 0 for a free slot */
};

struct mqtt_client {
	struct event_base		*base;
	struct evdns_base		*dns;
	struct evdns_getaddrinfo_request *dnsreq;
	struct mosquitto		*mosq;		/* this attempt */
	struct mosquitto		*dead;		/* ev_reap frees */
	char				*url;
	char				*host;
	int				 port;
	int				 tls;
	char				*client_id;
	int				 keepalive;
	char				 name[300];	/* for the log */
	char				 addr[INET6_ADDRSTRLEN];
	enum mqtt_client_state		 state;
	struct event			 ev_read;
	struct event			 ev_write;
	struct event			 ev_timer;
	struct event			 ev_reap;
	int				 io;		/* fd events set */
	struct backoff			 bo;
	char				*why;		/* last failure */
	int				 told;		/* failure logged */
	const char			*ev_why;	/* during an event */
	struct mqtt_client_subs		 subs;
	struct mqtt_client_pendings	 pending;
	size_t				 npending;
	size_t				 maxpending;
	struct mqtt_client_echo		 echoes[MQTT_CLIENT_ECHOES];
	size_t				 echo_next;
	mqtt_client_msg_cb		 msg_cb;
	mqtt_client_state_cb		 state_cb;
	void				*arg;
	struct mqtt_client_stats	 stats;
};

static void	mqtt_client_fsm(struct mqtt_client *, enum mqtt_client_event,
		    const char *why);

/* Logs a change of state: info when a session comes or goes. */
static void
mqtt_client_enter_state(struct mqtt_client *c, enum mqtt_client_state state,
    const char *why)
{
	if (c->state == state)
		return;
	if (state == MQTT_CLIENT_CONNECTED || c->state == MQTT_CLIENT_CONNECTED)
		log_info("%s: %s -> %s (%s)", c->name,
		    mqtt_client_state_names[c->state],
		    mqtt_client_state_names[state], why);
	else
		log_debug("%s: %s -> %s (%s)", c->name,
		    mqtt_client_state_names[c->state],
		    mqtt_client_state_names[state], why);
	c->state = state;
}

/* Arms the state's timer. */
static void
mqtt_client_arm(struct mqtt_client *c, uint64_t ms)
{
	clock_timer_add(&c->ev_timer, ms);
}

/* FNV-1a over the topic, a separator and the payload. */
static uint64_t
mqtt_client_hash(const char *topic, const void *payload, size_t len)
{
	const unsigned char	*p;
	uint64_t		 h = 14695981039346656037ULL;
	size_t			 i;

	for (p = (const unsigned char *)topic; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (p = payload, i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* 1 when one of our subscriptions matches topic. */
static int
mqtt_client_subscribed(struct mqtt_client *c, const char *topic)
{
	struct mqtt_client_sub	*s;
	bool			 match;

	TAILQ_FOREACH(s, &c->subs, entry) {
		if (mosquitto_topic_matches_sub(s->filter, topic,
		    &match) == MOSQ_ERR_SUCCESS && match)
			return 1;
	}
	return 0;
}

/* Remembers a message we publish whose echo the broker will send us. */
static void
mqtt_client_echo_add(struct mqtt_client *c, const char *topic,
    const void *payload, size_t len)
{
	struct mqtt_client_echo	*e;

	if (!mqtt_client_subscribed(c, topic))
		return;
	e = &c->echoes[c->echo_next];
	c->echo_next = (c->echo_next + 1) % MQTT_CLIENT_ECHOES;
	e->hash = mqtt_client_hash(topic, payload, len);
	e->expires = clock_mono_ms() + MQTT_CLIENT_ECHO_MS;
}

/* 1 (and forgotten) when a received message is the echo of our own. */
static int
mqtt_client_echo_take(struct mqtt_client *c, const char *topic,
    const void *payload, size_t len)
{
	uint64_t	h, now = clock_mono_ms();
	size_t		i;

	h = mqtt_client_hash(topic, payload, len);
	for (i = 0; i < MQTT_CLIENT_ECHOES; i++) {
		if (c->echoes[i].expires > now && c->echoes[i].hash == h) {
			c->echoes[i].expires = 0;
			return 1;
		}
	}
	return 0;
}

/* Watches the socket for writing while libmosquitto has output queued. */
static void
mqtt_client_want_write(struct mqtt_client *c)
{
	if (!c->io || c->mosq == NULL)
		return;
	if (mosquitto_want_write(c->mosq))
		event_add(&c->ev_write, NULL);
	else
		event_del(&c->ev_write);
}

/* Stops watching the attempt's socket (libmosquitto may have closed it). */
static void
mqtt_client_io_stop(struct mqtt_client *c)
{
	if (!c->io)
		return;
	event_del(&c->ev_read);
	event_del(&c->ev_write);
	c->io = 0;
}

/* Destroys abandoned attempts on a later loop turn than their callbacks. */
static void
mqtt_client_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt_client	*c = arg;

	if (c->dead != NULL) {
		mosquitto_destroy(c->dead);
		c->dead = NULL;
	}
}

/* Abandons the attempt: no more events, its object reaped later. */
static void
mqtt_client_drop(struct mqtt_client *c)
{
	mqtt_client_io_stop(c);
	if (c->mosq == NULL)
		return;
	if (c->dead != NULL)
		mosquitto_destroy(c->dead);	/* not in its callback */
	c->dead = c->mosq;
	c->mosq = NULL;
	event_active(&c->ev_reap, EV_TIMEOUT, 0);
}

static void
mqtt_client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt_client	*c = arg;

	if (c->mosq == NULL)
		return;
	/* Failures come back through the disconnect callback. */
	mosquitto_loop_read(c->mosq, MQTT_CLIENT_READ_BURST);
	mqtt_client_want_write(c);
}

static void
mqtt_client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt_client	*c = arg;

	if (c->mosq == NULL)
		return;
	mosquitto_loop_write(c->mosq, MQTT_CLIENT_READ_BURST);
	mqtt_client_want_write(c);
}

static void
mqtt_client_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	mqtt_client_fsm(arg, MQTT_CLIENT_EV_TIMER, "timer");
}

/* CONNACK, good or bad. */
static void
mqtt_client_on_connect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt_client	*c = arg;

	if (mosq != c->mosq)
		return;
	if (rc == 0)
		mqtt_client_fsm(c, MQTT_CLIENT_EV_CONNACK, "connack");
	else
		mqtt_client_fsm(c, MQTT_CLIENT_EV_LOST,
		    mosquitto_connack_string(rc));
}

/* The session ended: libmosquitto closed the socket already. */
static void
mqtt_client_on_disconnect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt_client	*c = arg;

	if (mosq != c->mosq)
		return;
	mqtt_client_fsm(c, MQTT_CLIENT_EV_LOST, rc == MOSQ_ERR_SUCCESS ?
	    "closed" : rc == MOSQ_ERR_KEEPALIVE ? "keep-alive timed out" :
	    rc == MOSQ_ERR_CONN_LOST ? "connection lost" :
	    mosquitto_strerror(rc));
}

/* A message from the broker: counted, echoes dropped, the rest passed on. */
static void
mqtt_client_on_message(struct mosquitto *mosq, void *arg,
    const struct mosquitto_message *m)
{
	struct mqtt_client	*c = arg;
	struct mqtt_msg		 msg;

	if (mosq != c->mosq || c->state != MQTT_CLIENT_CONNECTED ||
	    m->topic == NULL || m->payloadlen < 0)
		return;
	if (mqtt_client_echo_take(c, m->topic, m->payload,
	    (size_t)m->payloadlen)) {
		c->stats.echoes++;
		return;
	}
	c->stats.msgs_in++;
	memset(&msg, 0, sizeof(msg));
	msg.topic = m->topic;
	msg.payload = m->payload != NULL ? m->payload : "";
	msg.len = (size_t)m->payloadlen;
	msg.qos = m->qos;
	msg.retain = m->retain;
	log_trace(LOG_SUB_MQTT, "%s: message on %s, %zu bytes", c->name,
	    m->topic, msg.len);
	c->msg_cb(&msg, c->arg);
}

/* Takes the first address of a lookup into c->addr. */
static int
mqtt_client_take_addr(struct mqtt_client *c, const struct evutil_addrinfo *ai)
{
	const void	*a;

	if (ai->ai_family == AF_INET)
		a = &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
	else if (ai->ai_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	else
		return -1;
	if (evutil_inet_ntop(ai->ai_family, a, c->addr, sizeof(c->addr)) ==
	    NULL)
		return -1;
	return 0;
}

/* The end of a lookup (possibly before evdns_getaddrinfo returns). */
static void
mqtt_client_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct mqtt_client	*c = arg;
	char			 why[128];

	c->dnsreq = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0 || res == NULL || mqtt_client_take_addr(c, res) == -1) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host,
		    result != 0 ? evutil_gai_strerror(result) : "no address");
		mqtt_client_fsm(c, MQTT_CLIENT_EV_FAILED, why);
	} else
		mqtt_client_fsm(c, MQTT_CLIENT_EV_RESOLVED, "resolved");
	if (res != NULL)
		evutil_freeaddrinfo(res);
}

/* Looks the host up; a numeric address needs no lookup. */
static void
mqtt_client_resolve(struct mqtt_client *c)
{
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	unsigned char			 buf[sizeof(struct in6_addr)];

	if (evutil_inet_pton(AF_INET, c->host, buf) == 1 ||
	    evutil_inet_pton(AF_INET6, c->host, buf) == 1) {
		snprintf(c->addr, sizeof(c->addr), "%s", c->host);
		mqtt_client_fsm(c, MQTT_CLIENT_EV_RESOLVED, "numeric");
		return;
	}
	if (c->dns == NULL && (c->dns = evdns_base_new(c->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		mqtt_client_fsm(c, MQTT_CLIENT_EV_FAILED,
		    "cannot start the resolver");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	req = evdns_getaddrinfo(c->dns, c->host, NULL, &hints,
	    mqtt_client_resolved_cb, c);
	/* NULL when the callback already ran. */
	if (req != NULL)
		c->dnsreq = req;
}

/* Applies our callbacks and options to a new struct mosquitto. */
static struct mosquitto *
mqtt_client_mosq_new(struct mqtt_client *c, const char **why)
{
	struct mosquitto	*mosq;

	if ((mosq = mosquitto_new(c->client_id, true, c)) == NULL) {
		*why = "cannot create a libmosquitto client";
		return NULL;
	}
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(mosq, mqtt_client_on_connect);
	mosquitto_disconnect_callback_set(mosq, mqtt_client_on_disconnect);
	mosquitto_message_callback_set(mosq, mqtt_client_on_message);
	if (c->tls && (mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS,
	    1) != MOSQ_ERR_SUCCESS || mosquitto_tls_opts_set(mosq, 1, NULL,
	    NULL) != MOSQ_ERR_SUCCESS)) {
		mosquitto_destroy(mosq);
		*why = "cannot set up TLS";
		return NULL;
	}
	return mosq;
}

/*
 * Starts the non-blocking connect to c->addr and watches the socket. -1
 * with *why when the attempt failed at once (refused, unreachable).
 */
static int
mqtt_client_connect(struct mqtt_client *c, const char **why)
{
	int	rc, fd;

	if ((c->mosq = mqtt_client_mosq_new(c, why)) == NULL)
		return -1;
	errno = 0;
	rc = mosquitto_connect_bind_async(c->mosq, c->addr, c->port,
	    c->keepalive, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		*why = rc == MOSQ_ERR_ERRNO && errno != 0 ? strerror(errno) :
		    mosquitto_strerror(rc);
		return -1;
	}
	if ((fd = mosquitto_socket(c->mosq)) == -1) {
		*why = "no socket";
		return -1;
	}
	event_assign(&c->ev_read, c->base, fd, EV_READ | EV_PERSIST,
	    mqtt_client_read_cb, c);
	event_assign(&c->ev_write, c->base, fd, EV_WRITE | EV_PERSIST,
	    mqtt_client_write_cb, c);
	event_add(&c->ev_read, NULL);
	c->io = 1;
	mqtt_client_want_write(c);
	return 0;
}

/* Frees a pending message. */
static void
mqtt_client_pending_free(struct mqtt_client_pending *p)
{
	free(p->topic);
	free(p->payload);
	free(p);
}

/* Keeps a message for the next session; the oldest goes when full. */
static void
mqtt_client_pending_add(struct mqtt_client *c, const char *topic,
    const void *payload, size_t len, int qos, int retain)
{
	struct mqtt_client_pending	*p;

	if (c->maxpending == 0)
		return;
	if (c->npending == c->maxpending) {
		p = TAILQ_FIRST(&c->pending);
		TAILQ_REMOVE(&c->pending, p, entry);
		mqtt_client_pending_free(p);
		c->npending--;
		c->stats.dropped++;
	}
	p = xcalloc(1, sizeof(*p));
	p->topic = xstrdup(topic);
	p->payload = xmalloc(len > 0 ? len : 1);
	memcpy(p->payload, payload, len);
	p->len = len;
	p->qos = qos;
	p->retain = retain;
	TAILQ_INSERT_TAIL(&c->pending, p, entry);
	c->npending++;
}

/* Publishes what waited for the session, in order. */
static void
mqtt_client_pending_flush(struct mqtt_client *c)
{
	struct mqtt_client_pending	*p;

	while (c->state == MQTT_CLIENT_CONNECTED &&
	    (p = TAILQ_FIRST(&c->pending)) != NULL) {
		TAILQ_REMOVE(&c->pending, p, entry);
		c->npending--;
		mqtt_client_publish(c, p->topic, p->payload, p->len, p->qos,
		    p->retain);
		mqtt_client_pending_free(p);
	}
}

/* Sends every subscription again: a clean session starts with none. */
static void
mqtt_client_resubscribe(struct mqtt_client *c)
{
	struct mqtt_client_sub	*s;

	TAILQ_FOREACH(s, &c->subs, entry) {
		if (mosquitto_subscribe(c->mosq, NULL, s->filter, s->qos) !=
		    MOSQ_ERR_SUCCESS)
			log_warnx("%s: cannot subscribe to %s", c->name,
			    s->filter);
	}
	mqtt_client_want_write(c);
}

/* The attempt or session failed: back off and try again. */
static void
mqtt_client_fail(struct mqtt_client *c, const char *why)
{
	uint64_t	delay;
	int		was_up = c->state == MQTT_CLIENT_CONNECTED;

	if (c->dnsreq != NULL) {
		evdns_getaddrinfo_cancel(c->dnsreq);
		c->dnsreq = NULL;
	}
	mqtt_client_drop(c);
	free(c->why);
	c->why = xstrdup(why);
	delay = backoff_next(&c->bo);
	if (was_up || !c->told)
		log_warnx("%s: %s, retrying in %llu ms", c->name, why,
		    (unsigned long long)delay);
	c->told = 1;
	mqtt_client_enter_state(c, MQTT_CLIENT_WAITING, why);
	evtimer_del(&c->ev_timer);
	mqtt_client_arm(c, delay);
	c->state_cb(0, why, c->arg);
}

/* The state machine of the connection. */
static void
mqtt_client_fsm(struct mqtt_client *c, enum mqtt_client_event ev,
    const char *why)
{
	const char	*err;

	switch (c->state) {
	case MQTT_CLIENT_WAITING:
		if (ev != MQTT_CLIENT_EV_TIMER)
			break;
		mqtt_client_enter_state(c, MQTT_CLIENT_RESOLVING, why);
		mqtt_client_arm(c, MQTT_CLIENT_CONNECT_MS);
		mqtt_client_resolve(c);
		break;
	case MQTT_CLIENT_RESOLVING:
		if (ev == MQTT_CLIENT_EV_RESOLVED) {
			if (mqtt_client_connect(c, &err) == -1)
				mqtt_client_fail(c, err);
			else
				mqtt_client_enter_state(c,
				    MQTT_CLIENT_CONNECTING, c->addr);
		} else if (ev == MQTT_CLIENT_EV_FAILED)
			mqtt_client_fail(c, why);
		else if (ev == MQTT_CLIENT_EV_TIMER)
			mqtt_client_fail(c, "resolving timed out");
		break;
	case MQTT_CLIENT_CONNECTING:
		if (ev == MQTT_CLIENT_EV_CONNACK) {
			backoff_ok(&c->bo);
			c->told = 0;
			c->stats.connects++;
			mqtt_client_enter_state(c, MQTT_CLIENT_CONNECTED, why);
			evtimer_del(&c->ev_timer);
			mqtt_client_arm(c, MQTT_CLIENT_TICK_MS);
			mqtt_client_resubscribe(c);
			mqtt_client_pending_flush(c);
			c->state_cb(1, c->addr, c->arg);
		} else if (ev == MQTT_CLIENT_EV_LOST ||
		    ev == MQTT_CLIENT_EV_FAILED)
			mqtt_client_fail(c, why);
		else if (ev == MQTT_CLIENT_EV_TIMER)
			mqtt_client_fail(c, "no answer from the broker");
		break;
	case MQTT_CLIENT_CONNECTED:
		if (ev == MQTT_CLIENT_EV_TIMER) {
			/* Keep-alive: PINGREQ when due, loss if unanswered. */
			mosquitto_loop_misc(c->mosq);
			if (c->state == MQTT_CLIENT_CONNECTED) {
				mqtt_client_want_write(c);
				mqtt_client_arm(c, MQTT_CLIENT_TICK_MS);
			}
		} else if (ev == MQTT_CLIENT_EV_LOST)
			mqtt_client_fail(c, why);
		break;
	case MQTT_CLIENT_CLOSED:
		break;
	}
	if (ev == MQTT_CLIENT_EV_CLOSE && c->state != MQTT_CLIENT_CLOSED) {
		evtimer_del(&c->ev_timer);
		mqtt_client_enter_state(c, MQTT_CLIENT_CLOSED, why);
	}
}

/* Splits "tcp://host:port[/...]" into its parts. -1 when unusable. */
static int
mqtt_client_parse_url(struct mqtt_client *c, const char *url)
{
	const char	*p, *end;
	char		*portstr = NULL;
	long		 port;

	if (strncmp(url, "tcp://", 6) == 0)
		p = url + 6;
	else if (strncmp(url, "ssl://", 6) == 0) {
		p = url + 6;
		c->tls = 1;
	} else
		return -1;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return -1;
		c->host = xstrndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		c->host = xstrndup(p, (size_t)(end - p));
		p = end;
	}
	c->port = c->tls ? 8883 : 1883;
	if (*p == ':') {
		portstr = xstrndup(p + 1, strcspn(p + 1, "/"));
		port = strtol(portstr, NULL, 10);
		if (*portstr == '\0' || strspn(portstr, "0123456789") !=
		    strlen(portstr) || port < 1 || port > 65535) {
			free(portstr);
			return -1;
		}
		c->port = (int)port;
		free(portstr);
	}
	return *c->host != '\0' ? 0 : -1;
}

struct mqtt_client *
mqtt_client_new(struct event_base *base, const char *url,
    const char *client_id, int keepalive, size_t queue,
    mqtt_client_msg_cb msg_cb, mqtt_client_state_cb state_cb, void *arg,
    const char **errstr)
{
	static int		 lib_ready;
	struct mqtt_client	*c;

	if (!lib_ready) {
		if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS) {
			*errstr = "cannot initialise libmosquitto";
			return NULL;
		}
		lib_ready = 1;
	}
	c = xcalloc(1, sizeof(*c));
	if (mqtt_client_parse_url(c, url) == -1) {
		*errstr = "the broker URL is not tcp://host[:port] or "
		    "ssl://host[:port]";
		free(c->host);
		free(c);
		return NULL;
	}
	c->base = base;
	c->url = xstrdup(url);
	c->client_id = xstrdup(client_id);
	c->keepalive = keepalive;
	c->msg_cb = msg_cb;
	c->state_cb = state_cb;
	c->arg = arg;
	TAILQ_INIT(&c->subs);
	TAILQ_INIT(&c->pending);
	c->maxpending = queue;
	snprintf(c->name, sizeof(c->name), "mqtt external %s", url);
	evtimer_assign(&c->ev_timer, base, mqtt_client_timer_cb, c);
	event_assign(&c->ev_reap, base, -1, 0, mqtt_client_reap_cb, c);
	backoff_init(&c->bo, MQTT_CLIENT_RETRY_MIN_MS,
	    MQTT_CLIENT_RETRY_MAX_MS, MQTT_CLIENT_STABLE_MS);
	c->state = MQTT_CLIENT_WAITING;
	c->why = xstrdup("starting");
	/* The first attempt runs on the loop, so the caller is set up. */
	mqtt_client_arm(c, 0);
	return c;
}

void
mqtt_client_free(struct mqtt_client *c)
{
	struct mqtt_client_sub		*s;
	struct mqtt_client_pending	*p;
	int				 was_up;

	if (c == NULL)
		return;
	was_up = c->state == MQTT_CLIENT_CONNECTED;
	/* Closed first: what the library calls back now is ignored. */
	mqtt_client_fsm(c, MQTT_CLIENT_EV_CLOSE, "shutdown");
	if (was_up && c->mosq != NULL)
		mosquitto_disconnect(c->mosq);	/* best effort */
	if (c->dnsreq != NULL)
		evdns_getaddrinfo_cancel(c->dnsreq);
	mqtt_client_io_stop(c);
	if (c->mosq != NULL)
		mosquitto_destroy(c->mosq);
	if (c->dead != NULL)
		mosquitto_destroy(c->dead);
	event_del(&c->ev_reap);
	evtimer_del(&c->ev_timer);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	while ((s = TAILQ_FIRST(&c->subs)) != NULL) {
		TAILQ_REMOVE(&c->subs, s, entry);
		free(s->filter);
		free(s);
	}
	while ((p = TAILQ_FIRST(&c->pending)) != NULL) {
		TAILQ_REMOVE(&c->pending, p, entry);
		mqtt_client_pending_free(p);
	}
	free(c->why);
	free(c->client_id);
	free(c->host);
	free(c->url);
	free(c);
}

void
mqtt_client_subscribe(struct mqtt_client *c, const char *filter, int qos)
{
	struct mqtt_client_sub	*s;

	TAILQ_FOREACH(s, &c->subs, entry) {
		if (strcmp(s->filter, filter) == 0) {
			s->refs++;
			return;
		}
	}
	s = xcalloc(1, sizeof(*s));
	s->filter = xstrdup(filter);
	s->qos = qos;
	s->refs = 1;
	TAILQ_INSERT_TAIL(&c->subs, s, entry);
	if (c->state == MQTT_CLIENT_CONNECTED) {
		mosquitto_subscribe(c->mosq, NULL, filter, qos);
		mqtt_client_want_write(c);
	}
}

void
mqtt_client_unsubscribe(struct mqtt_client *c, const char *filter)
{
	struct mqtt_client_sub	*s;

	TAILQ_FOREACH(s, &c->subs, entry) {
		if (strcmp(s->filter, filter) == 0)
			break;
	}
	if (s == NULL || --s->refs > 0)
		return;
	TAILQ_REMOVE(&c->subs, s, entry);
	if (c->state == MQTT_CLIENT_CONNECTED) {
		mosquitto_unsubscribe(c->mosq, NULL, s->filter);
		mqtt_client_want_write(c);
	}
	free(s->filter);
	free(s);
}

int
mqtt_client_publish(struct mqtt_client *c, const char *topic,
    const void *payload, size_t len, int qos, int retain)
{
	int	rc;

	if (len > INT_MAX) {
		c->stats.dropped++;
		return -1;
	}
	if (c->state != MQTT_CLIENT_CONNECTED) {
		mqtt_client_pending_add(c, topic, payload, len, qos, retain);
		return 0;
	}
	rc = mosquitto_publish(c->mosq, NULL, topic, (int)len, payload, qos,
	    retain != 0);
	if (rc != MOSQ_ERR_SUCCESS) {
		/* A broken socket is noticed by the read event. */
		log_debug("%s: publish on %s: %s", c->name, topic,
		    mosquitto_strerror(rc));
		c->stats.dropped++;
		return -1;
	}
	c->stats.msgs_out++;
	mqtt_client_echo_add(c, topic, payload, len);
	mqtt_client_want_write(c);
	return 0;
}

int
mqtt_client_connected(struct mqtt_client *c)
{
	return c->state == MQTT_CLIENT_CONNECTED;
}

const char *
mqtt_client_state(struct mqtt_client *c)
{
	return mqtt_client_state_names[c->state];
}

const char *
mqtt_client_why(struct mqtt_client *c)
{
	return c->why;
}

void
mqtt_client_get_stats(struct mqtt_client *c, struct mqtt_client_stats *st)
{
	*st = c->stats;
}
