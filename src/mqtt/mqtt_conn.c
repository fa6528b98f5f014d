/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection of the embedded broker, as a state machine:
 * handshaking (TLS only), waiting for CONNECT, active, closing (flushing a
 * refusal) and closed. The bufferevent callbacks only turn what happened
 * into events; reading frames and decodes the packets, each checked
 * against mqtt.max-packet-size before its bytes are gathered. A malformed
 * packet or a protocol violation closes this connection alone, with one
 * log line. CONNECT applies the client id rules, the login, takes over a
 * connection with the same id and attaches the session; DISCONNECT drops
 * the will, any other close publishes it.
 *
 * Lifetime: mqtt_conn_close() stops the events, detaches the session and
 * moves the connection to the broker's dead list; the memory and the
 * socket go on a later loop turn (mqtt_broker_reap), so a close from
 * inside a callback never frees what the callback still uses.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_packet.h"
#include "mqtt/mqtt_topic.h"
#include "store/store.h"

/* Payloads from this size on are sent by reference, not copied. */
#define MQTT_CONN_REF_MIN	4096

static const char *const mqtt_conn_state_names[] = {
	"handshaking", "waiting", "active", "closing", "closed",
};

static void	mqtt_conn_read_cb(struct bufferevent *, void *);
static void	mqtt_conn_write_cb(struct bufferevent *, void *);
static void	mqtt_conn_event_cb(struct bufferevent *, short, void *);

/* Sets the connection timer to fire in ms milliseconds. */
static void
mqtt_conn_timer(struct mqtt_conn *c, uint64_t ms)
{
	clock_timer_add(c->timer, ms);
}

/* Logs a state change and makes it. */
static void
mqtt_conn_enter(struct mqtt_conn *c, enum mqtt_conn_state st, const char *why)
{
	if (st == MQTT_CONN_ACTIVE || st == MQTT_CONN_CLOSED)
		log_info("%s: %s -> %s (%s)", c->name,
		    mqtt_conn_state_names[c->state], mqtt_conn_state_names[st],
		    why);
	else
		log_debug("%s: %s -> %s (%s)", c->name,
		    mqtt_conn_state_names[c->state], mqtt_conn_state_names[st],
		    why);
	c->state = st;
}

/* Publishes the will of a connection that ended without DISCONNECT. */
static void
mqtt_conn_will(struct mqtt_conn *c, const char *clientid)
{
	struct mqtt_broker	*b = c->broker;
	struct mqtt_bmsg	*will = c->will;

	c->will = NULL;
	if (will == NULL)
		return;
	if (mqtt_acl_check(b->acl, c->username, clientid, will->topic,
	    MQTT_ACL_WRITE)) {
		log_debug("%s: publishing the will on %s", c->name,
		    will->topic);
		mqtt_broker_route(b, will, 1);
	} else {
		log_info("%s: will on %s denied by the ACL", c->name,
		    will->topic);
		b->stats.dropped++;
	}
	mqtt_bmsg_unref(will);
}

/*
 * Stops the connection: events off, session detached (a clean one is
 * dropped), the will published if will is set. Freed on a later turn.
 */
static void
mqtt_conn_close(struct mqtt_conn *c, const char *why, int will)
{
	struct mqtt_broker	*b = c->broker;
	struct mqtt_session	*s = c->sess;
	char			*id = NULL;

	if (c->state == MQTT_CONN_CLOSED)
		return;
	mqtt_conn_enter(c, MQTT_CONN_CLOSED, why);
	mqtt_hold_drop(c);
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	TAILQ_REMOVE(&b->conns, c, entry);
	TAILQ_INSERT_TAIL(&b->dead, c, entry);
	mqtt_broker_reap(b);
	if (s != NULL) {
		id = xstrdup(s->id);
		c->sess = NULL;
		s->conn = NULL;
		if (s->clean)
			mqtt_session_free(s, 0);
	}
	if (will)
		mqtt_conn_will(c, id != NULL ? id : "");
	free(id);
}

/* Closes for a protocol violation, logging the reason once. */
static void
mqtt_conn_violation(struct mqtt_conn *c, const char *what)
{
	log_warnx("%s: %s, closing the connection", c->name, what);
	mqtt_conn_close(c, what, 1);
}

/* Writes a packet other than PUBLISH. */
static void
mqtt_conn_send(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	uint8_t	small[64], *buf = small;
	size_t	n;

	n = mqtt_packet_encode(p, small, sizeof(small));
	if (n > sizeof(small)) {
		buf = xmalloc(n);
		mqtt_packet_encode(p, buf, n);
	}
	if (n > 0)
		bufferevent_write(c->bev, buf, n);
	if (buf != small)
		free(buf);
}

void
mqtt_conn_send_ack(struct mqtt_conn *c, enum mqtt_packet_type type,
    uint16_t id)
{
	struct mqtt_packet	p;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.id = id;
	mqtt_conn_send(c, &p);
}

/* evbuffer: the reference to a payload is gone. */
static void
mqtt_conn_ref_done(const void *data, size_t len, void *arg)
{
	mqtt_bmsg_unref(arg);
}

int
mqtt_conn_send_publish(struct mqtt_conn *c, struct mqtt_bmsg *m, uint8_t qos,
    int retain, int dup, uint16_t id)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct mqtt_packet	 p;
	uint8_t			 small[256], *head = small;
	size_t			 n;

	if (qos == 0 && evbuffer_get_length(out) > c->broker->out_max) {
		c->broker->stats.dropped++;
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.type = MQTT_PUBLISH;
	p.id = id;
	p.publish.dup = dup;
	p.publish.qos = qos;
	p.publish.retain = retain;
	p.publish.topic.p = m->topic;
	p.publish.topic.len = strlen(m->topic);
	p.publish.len = m->len;
	n = mqtt_packet_encode_head(&p, small, sizeof(small));
	if (n > sizeof(small)) {
		head = xmalloc(n);
		mqtt_packet_encode_head(&p, head, n);
	}
	evbuffer_add(out, head, n);
	if (head != small)
		free(head);
	if (m->len >= MQTT_CONN_REF_MIN)
		evbuffer_add_reference(out, m->payload, m->len,
		    mqtt_conn_ref_done, mqtt_bmsg_ref(m));
	else
		evbuffer_add(out, m->payload, m->len);
	c->broker->stats.msgs_out++;
	return 0;
}

/* Answers CONNECT with a refusal and closes once it is written. */
static void
mqtt_conn_refuse(struct mqtt_conn *c, uint8_t rc, const char *why)
{
	struct mqtt_packet	p;

	memset(&p, 0, sizeof(p));
	p.type = MQTT_CONNACK;
	p.connack.rc = rc;
	mqtt_conn_send(c, &p);
	snprintf(c->why, sizeof(c->why), "refused: %s", why);
	log_info("%s: connection refused: %s", c->name, why);
	mqtt_conn_enter(c, MQTT_CONN_CLOSING, c->why);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, mqtt_conn_write_cb, mqtt_conn_event_cb,
	    c);
	mqtt_conn_timer(c, MQTT_CLOSING_TIMEOUT_MS);
}

/* The client id of CONNECT, or a generated one; NULL when refused. */
static char *
mqtt_conn_client_id(struct mqtt_conn *c, const struct mqtt_packet_connect *k)
{
	struct mqtt_broker	*b = c->broker;
	char			*id;

	if (k->client_id.len > 0)
		return xstrndup(k->client_id.p, k->client_id.len);
	if (!k->clean) {
		mqtt_conn_refuse(c, MQTT_CONNACK_BAD_ID, "empty client id "
		    "without clean session");
		return NULL;
	}
	/* Unique in this run; clean sessions are never stored. */
	do {
		xasprintf(&id, "auto-%" PRIx64 "-%" PRIu64, (uint64_t)getpid(),
		    ++b->next_auto);
		if (mqtt_session_find(b, id) == NULL)
			break;
		free(id);
	} while (1);
	return id;
}

/* Checks the login of CONNECT; 0, or -1 when refused. */
static int
mqtt_conn_login(struct mqtt_conn *c, const struct mqtt_packet_connect *k)
{
	int	rc;

	if (k->has_username)
		c->username = xstrndup(k->username.p, k->username.len);
	rc = mqtt_acl_login(c->broker->acl, c->username, k->has_password ?
	    k->password.p : NULL, k->password.len);
	if (rc == MQTT_CONNACK_ACCEPTED)
		return 0;
	mqtt_conn_refuse(c, (uint8_t)rc, rc == MQTT_CONNACK_BAD_LOGIN ?
	    "bad user name or password" : "not authorized");
	return -1;
}

/* Finds or makes the session of id; *present when an old one goes on. */
static struct mqtt_session *
mqtt_conn_session(struct mqtt_conn *c, const char *id, int clean,
    int *present)
{
	struct mqtt_broker	*b = c->broker;
	struct mqtt_session	*s;

	if ((s = mqtt_session_find(b, id)) != NULL && s->conn != NULL) {
		mqtt_conn_fsm(s->conn, MQTT_CONN_EV_TAKEOVER);
		/* A clean session went with its connection. */
		s = mqtt_session_find(b, id);
	}
	if (s != NULL && (clean || s->clean)) {
		mqtt_session_free(s, 1);
		s = NULL;
	}
	*present = s != NULL;
	if (s == NULL)
		s = mqtt_session_new(b, id, clean);
	return s;
}

/* CONNECT: version, client id, login, takeover, session, CONNACK. */
static void
mqtt_conn_connect(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	const struct mqtt_packet_connect	*k = &p->connect;
	struct mqtt_packet			 ack;
	struct mqtt_session			*s;
	char					*id, buf[96], why[160];
	int					 present;

	if (k->level != 4) {
		snprintf(why, sizeof(why), "protocol level %u", k->level);
		mqtt_conn_refuse(c, MQTT_CONNACK_BAD_PROTOCOL, why);
		return;
	}
	if ((id = mqtt_conn_client_id(c, k)) == NULL)
		return;
	if (mqtt_conn_login(c, k) == -1) {
		free(id);
		return;
	}
	s = mqtt_conn_session(c, id, k->clean, &present);
	s->conn = c;
	c->sess = s;
	free(s->username);
	s->username = c->username != NULL ? xstrdup(c->username) : NULL;
	if (!s->clean)
		mqtt_persist_session(s);
	if (k->will)
		c->will = mqtt_bmsg_new(k->will_topic.p, k->will_topic.len,
		    k->will_payload.p, k->will_payload.len, k->will_qos,
		    k->will_retain);
	c->keepalive = k->keepalive;
	snprintf(c->name, sizeof(c->name), "mqtt client %s",
	    log_escape(id, strlen(id), buf, sizeof(buf)));
	free(id);
	memset(&ack, 0, sizeof(ack));
	ack.type = MQTT_CONNACK;
	ack.connack.session_present = present;
	mqtt_conn_send(c, &ack);
	snprintf(why, sizeof(why), "from %s, %s session%s", c->peer,
	    k->clean ? "clean" : "persistent", present ? " resumed" : "");
	mqtt_conn_enter(c, MQTT_CONN_ACTIVE, why);
	if (c->keepalive > 0)
		mqtt_conn_timer(c, (uint64_t)c->keepalive * 1500);
	else
		evtimer_del(c->timer);
	mqtt_session_resume(s);
}

/*
 * Acknowledges a PUBLISH: at once, or once the store has synced what its
 * routing wrote (the broker's batch, or rev: 0 when no other room wrote)
 * and the acks before it are out.
 */
static void
mqtt_conn_ack(struct mqtt_conn *c, enum mqtt_packet_type type, uint16_t id,
    uint64_t rev)
{
	if (mqtt_hold_needed(c, rev))
		mqtt_hold_add(c, type, id, rev);
	else
		mqtt_conn_send_ack(c, type, id);
}

/* PUBLISH from the client: ACL, QoS 2 duplicates, routing, the ack. */
static void
mqtt_conn_publish(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	const struct mqtt_packet_publish	*m = &p->publish;
	struct mqtt_broker			*b = c->broker;
	struct mqtt_bmsg			*msg;
	char					 buf[96];
	uint64_t				 rev, failed;

	rev = b->store != NULL ? store_revision(b->store) : 0;
	failed = b->store != NULL ? store_write_errors(b->store) : 0;
	if (m->qos == 2 && !mqtt_session_rel_add(c->sess, p->id)) {
		/* A resend of one already routed: acknowledge again only. */
		mqtt_conn_ack(c, MQTT_PUBREC, p->id, 0);
		return;
	}
	msg = mqtt_bmsg_new(m->topic.p, m->topic.len, m->payload, m->len,
	    m->qos, m->retain);
	if (mqtt_acl_check(b->acl, c->username, c->sess->id, msg->topic,
	    MQTT_ACL_WRITE))
		mqtt_broker_route(b, msg, 1);
	else {
		log_debug("%s: publish to %s denied by the ACL", c->name,
		    log_escape(msg->topic, strlen(msg->topic), buf,
		    sizeof(buf)));
		b->stats.dropped++;
	}
	mqtt_bmsg_unref(msg);
	/* a room fed by the tap (the twin) may have committed, or failed */
	if (m->qos > 0 && b->store != NULL &&
	    store_write_errors(b->store) > failed) {
		mqtt_hold_refuse(c);
		return;
	}
	if (b->store != NULL && store_revision(b->store) > rev)
		rev = store_revision(b->store);
	else
		rev = 0;
	if (m->qos == 1)
		mqtt_conn_ack(c, MQTT_PUBACK, p->id, rev);
	else if (m->qos == 2)
		mqtt_conn_ack(c, MQTT_PUBREC, p->id, rev);
}

/* Sends a retained message to a new subscriber (ACL read checked). */
struct mqtt_conn_retained {
	struct mqtt_conn	*c;
	uint8_t			 qos;
};

static void
mqtt_conn_retained_cb(struct mqtt_bmsg *m, void *arg)
{
	struct mqtt_conn_retained	*r = arg;
	struct mqtt_session		*s = r->c->sess;
	struct mqtt_broker		*b = r->c->broker;

	if (mqtt_acl_active(b->acl) && !mqtt_acl_check(b->acl, s->username,
	    s->id, m->topic, MQTT_ACL_READ))
		return;
	mqtt_session_deliver(s, m, m->qos < r->qos ? m->qos : r->qos, 1);
}

/* SUBSCRIBE: ACL per filter, SUBACK, then the retained messages. */
static void
mqtt_conn_subscribe(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	struct mqtt_broker		*b = c->broker;
	struct mqtt_session		*s = c->sess;
	struct mqtt_packet		 ack;
	struct mqtt_conn_retained	 r;
	uint8_t				*codes;
	char				**filters, buf[96];
	size_t				 i;

	codes = xcalloc(p->ntopics, sizeof(*codes));
	filters = xcalloc(p->ntopics, sizeof(*filters));
	for (i = 0; i < p->ntopics; i++) {
		filters[i] = xstrndup(p->topics[i].filter.p,
		    p->topics[i].filter.len);
		if (!mqtt_acl_subscribe(b->acl, c->username, s->id,
		    filters[i])) {
			log_info("%s: subscription to %s denied by the ACL",
			    c->name, log_escape(filters[i], strlen(filters[i]),
			    buf, sizeof(buf)));
			codes[i] = MQTT_SUBACK_FAILURE;
			continue;
		}
		codes[i] = p->topics[i].qos;
		mqtt_session_subscribe(s, filters[i], codes[i]);
	}
	if (!s->clean)
		mqtt_persist_session(s);
	memset(&ack, 0, sizeof(ack));
	ack.type = MQTT_SUBACK;
	ack.id = p->id;
	ack.codes = codes;
	ack.ncodes = p->ntopics;
	/* The SUBACK goes before any retained message. */
	mqtt_conn_send(c, &ack);
	r.c = c;
	for (i = 0; i < p->ntopics; i++) {
		if (codes[i] != MQTT_SUBACK_FAILURE) {
			r.qos = codes[i];
			mqtt_broker_retained(b, filters[i],
			    mqtt_conn_retained_cb, &r);
		}
		free(filters[i]);
	}
	free(filters);
	free(codes);
}

/* UNSUBSCRIBE: drop each filter, then UNSUBACK. */
static void
mqtt_conn_unsubscribe(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	char	*filter;
	size_t	 i;

	for (i = 0; i < p->ntopics; i++) {
		filter = xstrndup(p->topics[i].filter.p,
		    p->topics[i].filter.len);
		mqtt_session_unsubscribe(c->sess, filter);
		free(filter);
	}
	if (!c->sess->clean)
		mqtt_persist_session(c->sess);
	mqtt_conn_send_ack(c, MQTT_UNSUBACK, p->id);
}

/* A packet of an active connection. */
static void
mqtt_conn_active_packet(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	char	why[64];

	switch (p->type) {
	case MQTT_PUBLISH:
		mqtt_conn_publish(c, p);
		break;
	case MQTT_PUBACK:
		mqtt_session_puback(c->sess, p->id);
		break;
	case MQTT_PUBREC:
		mqtt_session_pubrec(c->sess, p->id);
		break;
	case MQTT_PUBREL:
		mqtt_session_rel_del(c->sess, p->id);
		mqtt_conn_send_ack(c, MQTT_PUBCOMP, p->id);
		break;
	case MQTT_PUBCOMP:
		mqtt_session_pubcomp(c->sess, p->id);
		break;
	case MQTT_SUBSCRIBE:
		mqtt_conn_subscribe(c, p);
		break;
	case MQTT_UNSUBSCRIBE:
		mqtt_conn_unsubscribe(c, p);
		break;
	case MQTT_PINGREQ:
		mqtt_conn_send_ack(c, MQTT_PINGRESP, 0);
		break;
	case MQTT_DISCONNECT:
		mqtt_bmsg_unref(c->will);
		c->will = NULL;
		mqtt_conn_close(c, "disconnected by the client", 0);
		break;
	default:
		snprintf(why, sizeof(why), "unexpected %s from a client",
		    mqtt_packet_name(p->type));
		mqtt_conn_violation(c, why);
		break;
	}
}

/* One decoded packet, by state. */
static void
mqtt_conn_packet(struct mqtt_conn *c, const struct mqtt_packet *p)
{
	char	why[64];

	log_trace(LOG_SUB_MQTT, "%s: %s id %u", c->name,
	    mqtt_packet_name(p->type), p->id);
	if (c->state == MQTT_CONN_ACTIVE) {
		mqtt_conn_active_packet(c, p);
		return;
	}
	if (p->type != MQTT_CONNECT) {
		snprintf(why, sizeof(why), "%s before CONNECT",
		    mqtt_packet_name(p->type));
		mqtt_conn_violation(c, why);
		return;
	}
	mqtt_conn_connect(c, p);
}

/* Frames, decodes and handles every whole packet in the input. */
static void
mqtt_conn_read(struct mqtt_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct mqtt_packet	 p;
	uint8_t			 head[MQTT_PACKET_MAX_HEAD];
	const uint8_t		*buf;
	const char		*errstr;
	size_t			 n, total;
	char			 why[128];

	while (c->state == MQTT_CONN_WAITING || c->state == MQTT_CONN_ACTIVE) {
		n = evbuffer_copyout(in, head, sizeof(head));
		if (n == 0 || n == (size_t)-1)
			return;
		switch (mqtt_packet_frame(head, n, c->broker->max_packet,
		    &total, &errstr)) {
		case -1:
			snprintf(why, sizeof(why), "%s packet: %s",
			    mqtt_packet_name(head[0] >> 4), errstr);
			mqtt_conn_violation(c, why);
			return;
		case 0:
			return;
		}
		if (evbuffer_get_length(in) < total)
			return;
		buf = evbuffer_pullup(in, (ev_ssize_t)total);
		if (mqtt_packet_decode(buf, total, &p, &errstr) == -1) {
			snprintf(why, sizeof(why), "malformed %s packet: %s",
			    mqtt_packet_name(head[0] >> 4), errstr);
			mqtt_packet_clear(&p);
			mqtt_conn_violation(c, why);
			return;
		}
		mqtt_conn_packet(c, &p);
		mqtt_packet_clear(&p);
		evbuffer_drain(in, total);
	}
}

/* Bytes arrived: rearm the keep-alive, then read the packets. */
static void
mqtt_conn_readable(struct mqtt_conn *c)
{
	if (c->state == MQTT_CONN_ACTIVE && c->keepalive > 0)
		mqtt_conn_timer(c, (uint64_t)c->keepalive * 1500);
	mqtt_conn_read(c);
}

/*
 * The connection state machine.
 */
void
mqtt_conn_fsm(struct mqtt_conn *c, enum mqtt_conn_event ev)
{
	enum mqtt_conn_state	st = c->state;

	if (st == MQTT_CONN_CLOSED)
		return;
	switch (ev) {
	case MQTT_CONN_EV_HANDSHAKEN:
		if (st == MQTT_CONN_HANDSHAKING)
			mqtt_conn_enter(c, MQTT_CONN_WAITING, "tls established");
		break;
	case MQTT_CONN_EV_READ:
		if (st == MQTT_CONN_WAITING || st == MQTT_CONN_ACTIVE)
			mqtt_conn_readable(c);
		break;
	case MQTT_CONN_EV_DRAINED:
		if (st == MQTT_CONN_CLOSING)
			mqtt_conn_close(c, c->why, 0);
		break;
	case MQTT_CONN_EV_EOF:
		mqtt_conn_close(c, st == MQTT_CONN_CLOSING ? c->why :
		    "connection closed by the client", 1);
		break;
	case MQTT_CONN_EV_ERROR:
		mqtt_conn_close(c, c->why, 1);
		break;
	case MQTT_CONN_EV_TIMEOUT:
		if (st == MQTT_CONN_ACTIVE)
			mqtt_conn_close(c, "keep-alive expired", 1);
		else if (st == MQTT_CONN_CLOSING)
			mqtt_conn_close(c, c->why, 0);
		else
			mqtt_conn_close(c, "no CONNECT in time", 0);
		break;
	case MQTT_CONN_EV_TAKEOVER:
		mqtt_conn_close(c, "taken over by a new connection", 1);
		break;
	case MQTT_CONN_EV_SHUTDOWN:
		mqtt_conn_close(c, "broker shutting down", 0);
		break;
	case MQTT_CONN_EV_UNSYNCED:
		mqtt_conn_close(c, "store write failed, ack withheld", 1);
		break;
	}
}

/* libevent: bytes arrived. */
static void
mqtt_conn_read_cb(struct bufferevent *bev, void *arg)
{
	mqtt_conn_fsm(arg, MQTT_CONN_EV_READ);
}

/* libevent: the output buffer drained (set while closing only). */
static void
mqtt_conn_write_cb(struct bufferevent *bev, void *arg)
{
	mqtt_conn_fsm(arg, MQTT_CONN_EV_DRAINED);
}

/* libevent: TLS up, end of stream, or an error. */
static void
mqtt_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mqtt_conn	*c = arg;
	char			 err[200];

	if (what & BEV_EVENT_CONNECTED) {
		mqtt_conn_fsm(c, MQTT_CONN_EV_HANDSHAKEN);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		mqtt_conn_fsm(c, MQTT_CONN_EV_EOF);
		return;
	}
	if (c->tls)
		snprintf(c->why, sizeof(c->why), "%s", mqtt_tls_error(bev, err,
		    sizeof(err)));
	else
		snprintf(c->why, sizeof(c->why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	mqtt_conn_fsm(c, MQTT_CONN_EV_ERROR);
}

/* libevent: the connect, keep-alive or closing timer ran out. */
static void
mqtt_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	mqtt_conn_fsm(arg, MQTT_CONN_EV_TIMEOUT);
}

/* Formats the peer address of a new connection. */
static void
mqtt_conn_peer(struct mqtt_conn *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	char				 a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", a,
		    ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		evutil_inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", a,
		    ntohs(sin->sin_port));
	} else
		snprintf(c->peer, sizeof(c->peer), "?");
}

void
mqtt_conn_accept(struct mqtt_broker *b, int fd, const struct sockaddr *sa,
    int socklen, int tls)
{
	struct mqtt_conn	*c;
	int			 one = 1;

	c = xcalloc(1, sizeof(*c));
	c->broker = b;
	TAILQ_INIT(&c->holds);
	c->tls = tls;
	mqtt_conn_peer(c, sa);
	snprintf(c->name, sizeof(c->name), "mqtt client %s", c->peer);
	/* Small packets each way: latency beats coalescing. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if (tls)
		c->bev = mqtt_tls_bev(b->tls, b->base, fd);
	else
		c->bev = bufferevent_socket_new(b->base, fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		log_warnx("%s: cannot set up the connection", c->name);
		close(fd);
		free(c);
		return;
	}
	c->timer = evtimer_new(b->base, mqtt_conn_timer_cb, c);
	c->state = tls ? MQTT_CONN_HANDSHAKING : MQTT_CONN_WAITING;
	TAILQ_INSERT_TAIL(&b->conns, c, entry);
	bufferevent_setcb(c->bev, mqtt_conn_read_cb, NULL, mqtt_conn_event_cb,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	mqtt_conn_timer(c, MQTT_CONNECT_TIMEOUT_MS);
	log_debug("%s: accepted%s", c->name, tls ? " (TLS)" : "");
}

void
mqtt_conn_free(struct mqtt_conn *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c->username);
	mqtt_bmsg_unref(c->will);
	free(c);
}
