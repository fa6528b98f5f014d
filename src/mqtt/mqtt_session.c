/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sessions of the embedded broker, one per client id, online or not: the
 * subscriptions (mirrored in the broker's topic tree, with the session as
 * owner), the outgoing QoS 1 and 2 messages and the incoming QoS 2
 * packet identifiers awaiting PUBREL. Outgoing messages are queued
 * (at most mqtt.session-queue-size, beyond that they are dropped and
 * counted) and move in flight, at most mqtt.max-inflight at a time, while
 * the client is connected; an acknowledgement frees a slot. When a client
 * comes back, what was in flight is sent again (PUBLISH with DUP, or
 * PUBREL) in order, then the queue. A persistent session (clean session
 * 0) writes each change of its subscriptions and messages to the store
 * through mqtt_persist.c; QoS 0 messages are not queued for a client that
 * is offline.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_topic.h"

/* FNV-1a of a client id. */
static size_t
mqtt_session_hash(const char *id)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *id != '\0'; id++) {
		h ^= (unsigned char)*id;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Doubles the hash table when it is full. */
static void
mqtt_session_grow(struct mqtt_broker *b)
{
	struct mqtt_session	**old = b->sessions, *s, *next;
	size_t			  i, n = b->nbuckets, h;

	if (b->nsessions < n)
		return;
	b->nbuckets = n == 0 ? 64 : n * 2;
	b->sessions = xcalloc(b->nbuckets, sizeof(*b->sessions));
	for (i = 0; i < n; i++) {
		for (s = old[i]; s != NULL; s = next) {
			next = s->hnext;
			h = mqtt_session_hash(s->id) % b->nbuckets;
			s->hnext = b->sessions[h];
			b->sessions[h] = s;
		}
	}
	free(old);
}

struct mqtt_session *
mqtt_session_find(struct mqtt_broker *b, const char *id)
{
	struct mqtt_session	*s;

	if (b->nbuckets == 0)
		return NULL;
	for (s = b->sessions[mqtt_session_hash(id) % b->nbuckets]; s != NULL;
	    s = s->hnext)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

struct mqtt_session *
mqtt_session_new(struct mqtt_broker *b, const char *id, int clean)
{
	struct mqtt_session	*s;
	size_t			 h;

	s = xcalloc(1, sizeof(*s));
	s->broker = b;
	s->id = xstrdup(id);
	s->key = mqtt_persist_key(id);
	s->clean = clean;
	TAILQ_INIT(&s->inflight);
	TAILQ_INIT(&s->queue);
	mqtt_session_grow(b);
	h = mqtt_session_hash(id) % b->nbuckets;
	s->hnext = b->sessions[h];
	b->sessions[h] = s;
	b->nsessions++;
	return s;
}

/* Frees an outgoing message. */
static void
mqtt_session_out_free(struct mqtt_out *o)
{
	mqtt_bmsg_unref(o->msg);
	free(o);
}

/* Frees every message of a list; persist deletes them from the store. */
static void
mqtt_session_outq_free(struct mqtt_session *s, struct mqtt_outq *q,
    int persist)
{
	struct mqtt_out	*o;

	while ((o = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, o, entry);
		if (persist)
			mqtt_persist_out_del(s, o);
		mqtt_session_out_free(o);
	}
}

/* Unlinks s from the hash table. */
static void
mqtt_session_unlink(struct mqtt_session *s)
{
	struct mqtt_broker	 *b = s->broker;
	struct mqtt_session	**pp;

	pp = &b->sessions[mqtt_session_hash(s->id) % b->nbuckets];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			b->nsessions--;
			return;
		}
	}
}

void
mqtt_session_free(struct mqtt_session *s, int persist)
{
	struct mqtt_broker	*b = s->broker;
	size_t			 i;

	persist = persist && !s->clean;
	mqtt_session_unlink(s);
	for (i = 0; i < s->nsubs; i++) {
		mqtt_topic_tree_unsubscribe(b->tree, s->subs[i].filter, s);
		free(s->subs[i].filter);
	}
	mqtt_session_outq_free(s, &s->inflight, persist);
	mqtt_session_outq_free(s, &s->queue, persist);
	if (persist)
		mqtt_persist_session_del(s);
	free(s->subs);
	free(s->rel);
	free(s->id);
	free(s->key);
	free(s->username);
	free(s);
}

void
mqtt_session_free_all(struct mqtt_broker *b)
{
	struct mqtt_session	*s;
	size_t			 i;

	for (i = 0; i < b->nbuckets; i++)
		while ((s = b->sessions[i]) != NULL)
			mqtt_session_free(s, 0);
}

int
mqtt_session_subscribe(struct mqtt_session *s, const char *filter,
    uint8_t qos)
{
	size_t	i;

	mqtt_topic_tree_subscribe(s->broker->tree, filter, s, qos);
	for (i = 0; i < s->nsubs; i++) {
		if (strcmp(s->subs[i].filter, filter) == 0) {
			s->subs[i].qos = qos;
			return 0;
		}
	}
	s->subs = xreallocarray(s->subs, s->nsubs + 1, sizeof(*s->subs));
	s->subs[s->nsubs].filter = xstrdup(filter);
	s->subs[s->nsubs].qos = qos;
	s->nsubs++;
	return 1;
}

int
mqtt_session_unsubscribe(struct mqtt_session *s, const char *filter)
{
	size_t	i;

	for (i = 0; i < s->nsubs; i++) {
		if (strcmp(s->subs[i].filter, filter) != 0)
			continue;
		mqtt_topic_tree_unsubscribe(s->broker->tree, filter, s);
		free(s->subs[i].filter);
		s->subs[i] = s->subs[--s->nsubs];
		return 1;
	}
	return 0;
}

/* Whether packet identifier id is in flight. */
static int
mqtt_session_id_used(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_out	*o;

	TAILQ_FOREACH(o, &s->inflight, entry)
		if (o->id == id)
			return 1;
	return 0;
}

/* The next free packet identifier (1..65535). */
static uint16_t
mqtt_session_next_id(struct mqtt_session *s)
{
	do {
		if (++s->next_id == 0)
			s->next_id = 1;
	} while (mqtt_session_id_used(s, s->next_id));
	return s->next_id;
}

/* Sends an in-flight message: its PUBLISH, or its PUBREL. */
static void
mqtt_session_send(struct mqtt_session *s, struct mqtt_out *o)
{
	if (o->state == MQTT_OUT_PUBCOMP)
		mqtt_conn_send_ack(s->conn, MQTT_PUBREL, o->id);
	else
		mqtt_conn_send_publish(s->conn, o->msg, o->qos, o->retain,
		    o->sent, o->id);
	o->sent = 1;
}

/* Moves queued messages in flight while the client has room. */
static void
mqtt_session_pump(struct mqtt_session *s)
{
	struct mqtt_out	*o;

	/* Below 65535 in flight there is always a free packet id. */
	while (s->conn != NULL && s->ninflight < s->broker->max_inflight &&
	    s->ninflight < 65535 && (o = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, o, entry);
		s->nqueued--;
		o->id = mqtt_session_next_id(s);
		o->state = o->qos == 1 ? MQTT_OUT_PUBACK : MQTT_OUT_PUBREC;
		TAILQ_INSERT_TAIL(&s->inflight, o, entry);
		s->ninflight++;
		mqtt_session_send(s, o);
		if (!s->clean)
			mqtt_persist_out(s, o);
	}
}

struct mqtt_out *
mqtt_session_out_add(struct mqtt_session *s, struct mqtt_bmsg *m, uint8_t qos,
    int retain, enum mqtt_out_state st, uint16_t id, uint64_t seq)
{
	struct mqtt_out	*o;

	o = xcalloc(1, sizeof(*o));
	o->msg = mqtt_bmsg_ref(m);
	o->qos = qos;
	o->retain = retain;
	o->state = st;
	o->id = id;
	o->seq = seq;
	if (st == MQTT_OUT_QUEUED) {
		TAILQ_INSERT_TAIL(&s->queue, o, entry);
		s->nqueued++;
	} else {
		o->sent = 1;
		TAILQ_INSERT_TAIL(&s->inflight, o, entry);
		s->ninflight++;
	}
	return o;
}

void
mqtt_session_deliver(struct mqtt_session *s, struct mqtt_bmsg *m, uint8_t qos,
    int retain)
{
	struct mqtt_out	*o;
	char		 buf[96];

	if (qos == 0) {
		/* Not queued for a client that is away. */
		if (s->conn != NULL)
			mqtt_conn_send_publish(s->conn, m, 0, retain, 0, 0);
		return;
	}
	if (s->nqueued >= s->broker->queue_size) {
		s->broker->stats.dropped++;
		log_debug("mqtt session %s: queue full, dropping a message on "
		    "%s", log_escape(s->id, strlen(s->id), buf, sizeof(buf)),
		    m->topic);
		return;
	}
	o = mqtt_session_out_add(s, m, qos, retain, MQTT_OUT_QUEUED, 0, 0);
	if (!s->clean)
		mqtt_persist_out(s, o);
	mqtt_session_pump(s);
}

void
mqtt_session_resume(struct mqtt_session *s)
{
	struct mqtt_out	*o;

	TAILQ_FOREACH(o, &s->inflight, entry)
		mqtt_session_send(s, o);
	mqtt_session_pump(s);
}

/* The in-flight message with id in state st, or NULL. */
static struct mqtt_out *
mqtt_session_inflight(struct mqtt_session *s, uint16_t id,
    enum mqtt_out_state st)
{
	struct mqtt_out	*o;

	TAILQ_FOREACH(o, &s->inflight, entry)
		if (o->id == id && o->state == st)
			return o;
	return NULL;
}

/* An in-flight message is complete: free it, send more. */
static void
mqtt_session_done(struct mqtt_session *s, struct mqtt_out *o)
{
	TAILQ_REMOVE(&s->inflight, o, entry);
	s->ninflight--;
	if (!s->clean)
		mqtt_persist_out_del(s, o);
	mqtt_session_out_free(o);
	mqtt_session_pump(s);
}

void
mqtt_session_puback(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_out	*o;

	if ((o = mqtt_session_inflight(s, id, MQTT_OUT_PUBACK)) != NULL)
		mqtt_session_done(s, o);
}

void
mqtt_session_pubrec(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_out	*o;

	if ((o = mqtt_session_inflight(s, id, MQTT_OUT_PUBREC)) != NULL) {
		o->state = MQTT_OUT_PUBCOMP;
		if (!s->clean)
			mqtt_persist_out(s, o);
	}
	/* A repeated PUBREC gets its PUBREL again too. */
	mqtt_conn_send_ack(s->conn, MQTT_PUBREL, id);
}

void
mqtt_session_pubcomp(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_out	*o;

	if ((o = mqtt_session_inflight(s, id, MQTT_OUT_PUBCOMP)) != NULL)
		mqtt_session_done(s, o);
}

int
mqtt_session_rel_add(struct mqtt_session *s, uint16_t id)
{
	size_t	i;

	for (i = 0; i < s->nrel; i++)
		if (s->rel[i] == id)
			return 0;
	if (s->nrel == s->relsz) {
		s->relsz = s->relsz == 0 ? 8 : s->relsz * 2;
		s->rel = xreallocarray(s->rel, s->relsz, sizeof(*s->rel));
	}
	s->rel[s->nrel++] = id;
	return 1;
}

void
mqtt_session_rel_del(struct mqtt_session *s, uint16_t id)
{
	size_t	i;

	for (i = 0; i < s->nrel; i++) {
		if (s->rel[i] == id) {
			s->rel[i] = s->rel[--s->nrel];
			return;
		}
	}
}
