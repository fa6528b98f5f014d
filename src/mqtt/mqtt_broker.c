/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded MQTT 3.1.1 broker: owns the listeners (plain on
 * mqtt.internal-server, TLS on an ssl:// internal-server or on
 * mqtt.tls-listen), the connections (mqtt_conn.c), the sessions
 * (mqtt_session.c, kept in the store by mqtt_persist.c), the topic tree of
 * subscriptions and retained messages, and the users and ACL
 * (mqtt_acl.c). Everything runs on the one loop.
 *
 * Routing: a PUBLISH a client sends, after the ACL, becomes a shared,
 * reference-counted message; it is retained if asked, shown to the tap,
 * then matched against the tree. Every session with a matching filter is
 * collected once, at the highest QoS its filters grant (a generation
 * number marks the sessions seen this round), and gets the message at
 * min(message QoS, granted QoS).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_broker.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_topic.h"
#include "store/store.h"

/* Pause before accepting again when out of file descriptors. */
#define MQTT_BROKER_ACCEPT_PAUSE_MS	1000

static char	mqtt_broker_errbuf[512];

/*
 * Messages.
 */

/* A new message with one reference; copies topic and payload. */
struct mqtt_bmsg *
mqtt_bmsg_new(const char *topic, size_t topiclen, const void *payload,
    size_t len, uint8_t qos, int retain)
{
	struct mqtt_bmsg	*m;

	m = xcalloc(1, sizeof(*m));
	m->refs = 1;
	m->topic = xstrndup(topic, topiclen);
	m->payload = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(m->payload, payload, len);
	m->len = len;
	m->qos = qos;
	m->retain = retain;
	return m;
}

struct mqtt_bmsg *
mqtt_bmsg_ref(struct mqtt_bmsg *m)
{
	m->refs++;
	return m;
}

/* Drops a reference; the last one frees. Accepts NULL. */
void
mqtt_bmsg_unref(struct mqtt_bmsg *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	free(m->topic);
	free(m->payload);
	free(m);
}

/* The tree's retained-message destructor. */
static void
mqtt_broker_retained_free(void *m)
{
	mqtt_bmsg_unref(m);
}

/*
 * Routing.
 */

/* Topic tree callback: collects a session once, at its highest QoS. */
static void
mqtt_broker_match_cb(void *owner, uint8_t qos, void *arg)
{
	struct mqtt_broker	*b = arg;
	struct mqtt_session	*s = owner;

	if (s->match_gen == b->match_gen) {
		if (qos > s->match_qos)
			s->match_qos = qos;
		return;
	}
	s->match_gen = b->match_gen;
	s->match_qos = qos;
	if (b->nmatched == b->matchedsz) {
		b->matchedsz = b->matchedsz == 0 ? 16 : b->matchedsz * 2;
		b->matched = xreallocarray(b->matched, b->matchedsz,
		    sizeof(*b->matched));
	}
	b->matched[b->nmatched++] = s;
}

void
mqtt_broker_retain(struct mqtt_broker *b, struct mqtt_bmsg *m, int persist)
{
	struct mqtt_bmsg	*old;

	if (m->len == 0)
		old = mqtt_topic_tree_retain(b->tree, m->topic, NULL);
	else
		old = mqtt_topic_tree_retain(b->tree, m->topic,
		    mqtt_bmsg_ref(m));
	mqtt_bmsg_unref(old);
	if (persist)
		mqtt_persist_retain(b, m);
}

/* Shows a message to the tap as the bus sees messages. */
static void
mqtt_broker_tap(struct mqtt_broker *b, const struct mqtt_bmsg *m)
{
	struct mqtt_msg	msg;

	if (b->tap == NULL)
		return;
	msg.topic = m->topic;
	msg.payload = m->payload;
	msg.len = m->len;
	msg.qos = m->qos;
	msg.retain = m->retain;
	b->tap(&msg, b->tap_arg);
}

void
mqtt_broker_route(struct mqtt_broker *b, struct mqtt_bmsg *m, int from_client)
{
	struct mqtt_session	*s;
	size_t			 i, n;
	uint8_t			 qos;

	b->stats.msgs_in++;
	if (m->retain)
		mqtt_broker_retain(b, m, 1);
	if (from_client)
		mqtt_broker_tap(b, m);
	b->match_gen++;
	b->nmatched = 0;
	mqtt_topic_tree_match(b->tree, m->topic, mqtt_broker_match_cb, b);
	/* Delivery never frees a session, so the list stays valid. */
	n = b->nmatched;
	for (i = 0; i < n; i++) {
		s = b->matched[i];
		if (mqtt_acl_active(b->acl) && !mqtt_acl_check(b->acl,
		    s->username, s->id, m->topic, MQTT_ACL_READ))
			continue;
		qos = m->qos < s->match_qos ? m->qos : s->match_qos;
		mqtt_session_deliver(s, m, qos, 0);
	}
	log_trace(LOG_SUB_MQTT, "mqtt broker: %s of %zu bytes at QoS %u to "
	    "%zu sessions", m->topic, m->len, m->qos, n);
}

/* Adapts the tree's retained callback to messages. */
struct mqtt_broker_each {
	void	(*cb)(struct mqtt_bmsg *, void *);
	void	*arg;
};

static void
mqtt_broker_retained_cb(void *retained, void *arg)
{
	struct mqtt_broker_each	*e = arg;

	e->cb(retained, e->arg);
}

void
mqtt_broker_retained(struct mqtt_broker *b, const char *filter,
    void (*cb)(struct mqtt_bmsg *, void *), void *arg)
{
	struct mqtt_broker_each	e = { cb, arg };

	mqtt_topic_tree_retained(b->tree, filter, mqtt_broker_retained_cb, &e);
}

/*
 * Listeners.
 */

/* libevent: frees closed connections, a loop turn after their close. */
static void
mqtt_broker_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt_broker	*b = arg;
	struct mqtt_conn	*c;

	while ((c = TAILQ_FIRST(&b->dead)) != NULL) {
		TAILQ_REMOVE(&b->dead, c, entry);
		mqtt_conn_free(c);
	}
}

void
mqtt_broker_reap(struct mqtt_broker *b)
{
	event_active(b->reap_ev, EV_TIMEOUT, 0);
}

/* libevent: a client connected to a listener. */
static void
mqtt_broker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct mqtt_broker	*b = arg;

	mqtt_conn_accept(b, fd, sa, socklen, l == b->listeners[1] ||
	    (l == b->listeners[0] && b->ltls[0]));
}

/* libevent: accept failed; out of descriptors pauses the listeners. */
static void
mqtt_broker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct mqtt_broker	*b = arg;
	int			 err = EVUTIL_SOCKET_ERROR();
	size_t			 i;

	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_debug("mqtt broker: accept: %s",
		    evutil_socket_error_to_string(err));
		return;
	}
	log_warnx("mqtt broker: accept: %s, pausing for %d ms",
	    evutil_socket_error_to_string(err), MQTT_BROKER_ACCEPT_PAUSE_MS);
	for (i = 0; i < 2; i++)
		if (b->listeners[i] != NULL)
			evconnlistener_disable(b->listeners[i]);
	clock_timer_add(b->resume_ev, MQTT_BROKER_ACCEPT_PAUSE_MS);
}

/* libevent: accepting again after a pause. */
static void
mqtt_broker_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mqtt_broker	*b = arg;
	size_t			 i;

	for (i = 0; i < 2; i++)
		if (b->listeners[i] != NULL)
			evconnlistener_enable(b->listeners[i]);
}

/* Parses host:port ("localhost" is 127.0.0.1) into a socket address. */
static int
mqtt_broker_parse_addr(const char *s, struct sockaddr_storage *ss, int *len)
{
	char	buf[300];

	if (strncmp(s, "localhost:", 10) == 0) {
		snprintf(buf, sizeof(buf), "127.0.0.1%s", s + 9);
		s = buf;
	}
	*len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	return evutil_parse_sockaddr_port(s, (struct sockaddr *)ss, len);
}

/* Opens listener i on addr; fills the error buffer on failure. */
static int
mqtt_broker_listen(struct mqtt_broker *b, int i, const char *addr, int tls)
{
	struct sockaddr_storage	ss;
	int			len;

	if (mqtt_broker_parse_addr(addr, &ss, &len) == -1) {
		snprintf(mqtt_broker_errbuf, sizeof(mqtt_broker_errbuf),
		    "listen %s: not a numeric host:port", addr);
		return -1;
	}
	b->listeners[i] = evconnlistener_new_bind(b->base,
	    mqtt_broker_accept_cb, b, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 128,
	    (struct sockaddr *)&ss, len);
	if (b->listeners[i] == NULL) {
		snprintf(mqtt_broker_errbuf, sizeof(mqtt_broker_errbuf),
		    "listen %s: %s", addr, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(b->listeners[i],
	    mqtt_broker_accept_error_cb);
	b->laddr[i] = xstrdup(addr);
	b->ltls[i] = tls;
	log_info("mqtt broker: listening on %s%s", addr, tls ? " (TLS)" : "");
	return 0;
}

/* Opens the listeners the configuration asks for. */
static int
mqtt_broker_listeners(struct mqtt_broker *b, const struct conf *conf,
    const char **errstr)
{
	const char	*url = conf->mqtt_internal_server, *hp;
	int		 tls;

	tls = strncmp(url, "ssl://", 6) == 0;
	hp = strstr(url, "://");
	hp = hp != NULL ? hp + 3 : url;
	if ((tls || conf->mqtt_tls_listen[0] != '\0') && (b->tls =
	    mqtt_tls_new(conf->mqtt_tls_cert, conf->mqtt_tls_key,
	    errstr)) == NULL)
		return -1;
	if (mqtt_broker_listen(b, 0, hp, tls) == -1 ||
	    (conf->mqtt_tls_listen[0] != '\0' &&
	    mqtt_broker_listen(b, 1, conf->mqtt_tls_listen, 1) == -1)) {
		*errstr = mqtt_broker_errbuf;
		return -1;
	}
	return 0;
}

struct mqtt_broker *
mqtt_broker_new(struct event_base *base, const struct conf *conf,
    struct store *store, const char **errstr)
{
	struct mqtt_broker	*b;

	b = xcalloc(1, sizeof(*b));
	b->hold_rl.period_ms = MQTT_HOLD_WARN_MS;
	b->base = base;
	b->store = store;
	b->max_packet = (size_t)conf->mqtt_max_packet_size;
	/* Room for two of the largest packets, at least 1 MiB. */
	b->out_max = 2 * b->max_packet > MQTT_OUT_MIN ? 2 * b->max_packet :
	    MQTT_OUT_MIN;
	b->max_inflight = (size_t)conf->mqtt_max_inflight;
	b->queue_size = (size_t)conf->mqtt_session_queue_size;
	TAILQ_INIT(&b->conns);
	TAILQ_INIT(&b->dead);
	TAILQ_INIT(&b->holding);
	b->tree = mqtt_topic_tree_new();
	b->reap_ev = event_new(base, -1, 0, mqtt_broker_reap_cb, b);
	b->resume_ev = evtimer_new(base, mqtt_broker_resume_cb, b);
	if ((b->acl = mqtt_acl_new(conf->mqtt_password_file,
	    conf->mqtt_acl_file, conf->mqtt_allow_anonymous, errstr)) == NULL)
		goto fail;
	if (mqtt_broker_listeners(b, conf, errstr) == -1)
		goto fail;
	if (store != NULL) {
		mqtt_persist_load(b);
		b->sync_watch = store_sync_watch(store, mqtt_hold_synced_cb, b);
	}
	return b;
fail:
	mqtt_broker_free(b);
	return NULL;
}

void
mqtt_broker_set_tap(struct mqtt_broker *b, mqtt_broker_tap_cb cb, void *arg)
{
	b->tap = cb;
	b->tap_arg = arg;
}

int
mqtt_broker_publish(struct mqtt_broker *b, const char *topic,
    const void *payload, size_t len, int qos, int retain)
{
	struct mqtt_bmsg	*m;

	if (!mqtt_topic_name_valid(topic, strlen(topic)) || qos < 0 ||
	    qos > 2)
		return -1;
	m = mqtt_bmsg_new(topic, strlen(topic), payload, len, (uint8_t)qos,
	    retain != 0);
	mqtt_broker_route(b, m, 0);
	mqtt_bmsg_unref(m);
	return 0;
}

void
mqtt_broker_close_listeners(struct mqtt_broker *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (b->listeners[i] == NULL)
			continue;
		evconnlistener_free(b->listeners[i]);
		b->listeners[i] = NULL;
		log_info("mqtt broker: stopped listening on %s", b->laddr[i]);
	}
	if (b->resume_ev != NULL)
		evtimer_del(b->resume_ev);
}

void
mqtt_broker_free(struct mqtt_broker *b)
{
	struct mqtt_conn	*c;
	size_t			 i;

	if (b == NULL)
		return;
	mqtt_broker_close_listeners(b);
	while ((c = TAILQ_FIRST(&b->conns)) != NULL)
		mqtt_conn_fsm(c, MQTT_CONN_EV_SHUTDOWN);
	mqtt_broker_reap_cb(-1, 0, b);
	mqtt_persist_flush(b);
	store_sync_unwatch(b->sync_watch);
	mqtt_session_free_all(b);
	mqtt_topic_tree_free(b->tree, mqtt_broker_retained_free);
	for (i = 0; i < 2; i++)
		free(b->laddr[i]);
	if (b->reap_ev != NULL)
		event_free(b->reap_ev);
	if (b->resume_ev != NULL)
		event_free(b->resume_ev);
	if (b->commit_ev != NULL)
		event_free(b->commit_ev);
	mqtt_acl_free(b->acl);
	mqtt_tls_free(b->tls);
	free(b->sessions);
	free(b->matched);
	free(b);
}

void
mqtt_broker_get_stats(struct mqtt_broker *b, struct mqtt_broker_stats *st)
{
	struct mqtt_conn	*c;

	*st = b->stats;
	st->clients = 0;
	TAILQ_FOREACH(c, &b->conns, entry)
		if (c->state == MQTT_CONN_ACTIVE)
			st->clients++;
	st->subscriptions = mqtt_topic_tree_nsubs(b->tree);
	st->retained = mqtt_topic_tree_nretained(b->tree);
}
