/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the embedded broker keeps in the store, so retained messages and
 * persistent sessions survive a restart. Three key families, all under
 * q/ (for "queue"), built by store/store_keys.h:
 *
 *   q/retain/<topic>            a retained message: version 1, QoS, payload
 *   q/session/<id>              a persistent session (clean session 0):
 *                               JSON {"id", "username", "subs":
 *                               [{"filter", "qos"}]}
 *   q/msg/<id>/<seq, 20 digits> a QoS 1 or 2 message of that session,
 *                               queued or in flight: version 1, QoS,
 *                               retain, state (enum mqtt_out_state),
 *                               packet id (16 bits), topic length (16
 *                               bits), topic, payload
 *
 * <id> is the client id with '%', '/' and bytes outside printable ASCII
 * written as %XX, so one session's prefix never holds another's keys; the
 * JSON keeps the id itself. Sequence numbers grow across restarts, so a
 * session's messages load in the order they were queued. The incoming
 * QoS 2 identifiers awaiting PUBREL are not kept.
 *
 * Writes of one loop turn go in one batch, committed by an event that runs
 * after the callbacks of that turn.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_topic.h"
#include "store/store.h"

#define MQTT_PERSIST_VERSION	1
#define MQTT_PERSIST_MSG_HEAD	8	/* bytes before the topic */

/* Counts of a load, for its log line. */
struct mqtt_persist_counts {
	struct mqtt_broker	*b;
	struct mqtt_session	*s;
	size_t			 retained;
	size_t			 sessions;
	size_t			 msgs;
	size_t			 bad;
};

char *
mqtt_persist_key(const char *id)
{
	const unsigned char	*p = (const unsigned char *)id;
	char			*out, *o;

	out = o = xmalloc(strlen(id) * 3 + 1);
	for (; *p != '\0'; p++) {
		if (*p == '%' || *p == '/' || *p <= 0x20 || *p >= 0x7f)
			o += sprintf(o, "%%%02X", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

/* libevent: commits the writes of this loop turn. */
static void
mqtt_persist_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	mqtt_persist_flush(arg);
}

void
mqtt_persist_flush(struct mqtt_broker *b)
{
	struct store_batch	*batch = b->batch;
	uint64_t		 rev;
	int			 failed;

	if (batch == NULL)
		return;
	b->batch = NULL;
	/*
	 * Synced: the acks of this turn wait for it. The store logs a
	 * failure; the broker goes on from memory without those acks.
	 */
	failed = store_batch_commit_sync(batch, &rev) == -1;
	mqtt_hold_commit(b, failed, rev);
}

/* The batch of this loop turn, or NULL without a store. */
static struct store_batch *
mqtt_persist_batch(struct mqtt_broker *b)
{
	if (b->store == NULL)
		return NULL;
	if (b->batch == NULL) {
		b->batch = store_batch_new(b->store);
		if (b->commit_ev == NULL)
			b->commit_ev = event_new(b->base, -1, 0,
			    mqtt_persist_commit_cb, b);
		event_active(b->commit_ev, EV_TIMEOUT, 0);
	}
	return b->batch;
}

void
mqtt_persist_retain(struct mqtt_broker *b, struct mqtt_bmsg *m)
{
	struct store_batch	*batch;
	uint8_t			*val;
	char			*key;

	if ((batch = mqtt_persist_batch(b)) == NULL)
		return;
	key = store_key_mqtt_retain(m->topic);
	if (m->len == 0)
		store_batch_delete(batch, key);
	else {
		val = xmalloc(m->len + 2);
		val[0] = MQTT_PERSIST_VERSION;
		val[1] = m->qos;
		memcpy(val + 2, m->payload, m->len);
		store_batch_put(batch, key, val, m->len + 2);
		free(val);
	}
	free(key);
}

void
mqtt_persist_session(struct mqtt_session *s)
{
	struct store_batch	*batch;
	cJSON			*obj, *subs, *sub;
	char			*key, *val;
	size_t			 i;

	if ((batch = mqtt_persist_batch(s->broker)) == NULL)
		return;
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "id", s->id);
	if (s->username != NULL)
		cJSON_AddStringToObject(obj, "username", s->username);
	subs = cJSON_AddArrayToObject(obj, "subs");
	for (i = 0; i < s->nsubs; i++) {
		sub = cJSON_CreateObject();
		cJSON_AddStringToObject(sub, "filter", s->subs[i].filter);
		cJSON_AddNumberToObject(sub, "qos", s->subs[i].qos);
		cJSON_AddItemToArray(subs, sub);
	}
	val = json_print(obj);
	cJSON_Delete(obj);
	key = store_key_mqtt_session(s->key);
	store_batch_put(batch, key, val, strlen(val));
	free(key);
	free(val);
}

void
mqtt_persist_session_del(struct mqtt_session *s)
{
	struct store_batch	*batch;
	char			*key;

	if ((batch = mqtt_persist_batch(s->broker)) == NULL)
		return;
	key = store_key_mqtt_session(s->key);
	store_batch_delete(batch, key);
	free(key);
}

/* The key of a stored message; caller frees. */
static char *
mqtt_persist_msg_key(struct mqtt_session *s, uint64_t seq)
{
	return store_key_mqtt_msg(s->key, seq);
}

void
mqtt_persist_out(struct mqtt_session *s, struct mqtt_out *o)
{
	struct store_batch	*batch;
	struct mqtt_bmsg	*m = o->msg;
	uint8_t			*val;
	size_t			 tlen = strlen(m->topic), len;
	char			*key;

	if ((batch = mqtt_persist_batch(s->broker)) == NULL)
		return;
	if (o->seq == 0)
		o->seq = ++s->broker->seq;
	len = MQTT_PERSIST_MSG_HEAD + tlen + m->len;
	val = xmalloc(len);
	val[0] = MQTT_PERSIST_VERSION;
	val[1] = o->qos;
	val[2] = o->retain ? 1 : 0;
	val[3] = (uint8_t)o->state;
	val[4] = o->id >> 8;
	val[5] = o->id & 0xff;
	val[6] = (uint8_t)(tlen >> 8);
	val[7] = tlen & 0xff;
	memcpy(val + MQTT_PERSIST_MSG_HEAD, m->topic, tlen);
	memcpy(val + MQTT_PERSIST_MSG_HEAD + tlen, m->payload, m->len);
	key = mqtt_persist_msg_key(s, o->seq);
	store_batch_put(batch, key, val, len);
	free(key);
	free(val);
}

void
mqtt_persist_out_del(struct mqtt_session *s, struct mqtt_out *o)
{
	struct store_batch	*batch;
	char			*key;

	if (o->seq == 0 || (batch = mqtt_persist_batch(s->broker)) == NULL)
		return;
	key = mqtt_persist_msg_key(s, o->seq);
	store_batch_delete(batch, key);
	free(key);
}

/*
 * Loading.
 */

/* store_scan: one retained message. */
static int
mqtt_persist_load_retain(const char *key, const char *val, size_t len,
    void *arg)
{
	struct mqtt_persist_counts	*n = arg;
	const uint8_t			*v = (const uint8_t *)val;
	const char			*topic = key + strlen(STORE_KEY_MQTT_RETAIN);
	struct mqtt_bmsg		*m;

	if (len < 3 || v[0] != MQTT_PERSIST_VERSION || v[1] > 2 ||
	    !mqtt_topic_name_valid(topic, strlen(topic))) {
		n->bad++;
		return 0;
	}
	m = mqtt_bmsg_new(topic, strlen(topic), v + 2, len - 2, v[1], 1);
	mqtt_broker_retain(n->b, m, 0);
	mqtt_bmsg_unref(m);
	n->retained++;
	return 0;
}

/* Restores the subscriptions of a session from its JSON. */
static void
mqtt_persist_load_subs(struct mqtt_session *s, const cJSON *subs)
{
	const cJSON	*sub;
	const char	*filter;
	int64_t		 qos;

	cJSON_ArrayForEach(sub, subs) {
		filter = json_get_string(sub, "filter");
		if (filter == NULL || json_get_int(sub, "qos", &qos) == -1 ||
		    qos < 0 || qos > 2 ||
		    !mqtt_topic_filter_valid(filter, strlen(filter)))
			continue;
		mqtt_session_subscribe(s, filter, (uint8_t)qos);
	}
}

/* store_scan: one persistent session. */
static int
mqtt_persist_load_session(const char *key, const char *val, size_t len,
    void *arg)
{
	struct mqtt_persist_counts	*n = arg;
	struct mqtt_session		*s;
	const char			*id, *user, *errstr;
	cJSON				*obj;

	if ((obj = json_parse(val, len, len, &errstr)) == NULL ||
	    (id = json_get_string(obj, "id")) == NULL ||
	    mqtt_session_find(n->b, id) != NULL) {
		n->bad++;
		cJSON_Delete(obj);
		return 0;
	}
	s = mqtt_session_new(n->b, id, 0);
	if ((user = json_get_string(obj, "username")) != NULL)
		s->username = xstrdup(user);
	mqtt_persist_load_subs(s, json_get(obj, "subs"));
	cJSON_Delete(obj);
	n->sessions++;
	return 0;
}

/* store_scan: one message of the session n->s. */
static int
mqtt_persist_load_msg(const char *key, const char *val, size_t len, void *arg)
{
	struct mqtt_persist_counts	*n = arg;
	const uint8_t			*v = (const uint8_t *)val;
	struct mqtt_bmsg		*m;
	const char			*dig = strrchr(key, '/') + 1;
	uint64_t			 seq;
	size_t				 tlen;
	uint16_t			 id;

	seq = strtoull(dig, NULL, 10);
	if (len < MQTT_PERSIST_MSG_HEAD || v[0] != MQTT_PERSIST_VERSION ||
	    v[1] < 1 || v[1] > 2 || v[3] > MQTT_OUT_PUBCOMP || seq == 0 ||
	    (tlen = (size_t)(v[6] << 8 | v[7])) > len - MQTT_PERSIST_MSG_HEAD ||
	    !mqtt_topic_name_valid(val + MQTT_PERSIST_MSG_HEAD, tlen)) {
		n->bad++;
		return 0;
	}
	id = (uint16_t)(v[4] << 8 | v[5]);
	if (v[3] != MQTT_OUT_QUEUED && id == 0) {
		n->bad++;
		return 0;
	}
	m = mqtt_bmsg_new(val + MQTT_PERSIST_MSG_HEAD, tlen,
	    v + MQTT_PERSIST_MSG_HEAD + tlen, len - MQTT_PERSIST_MSG_HEAD - tlen,
	    v[1], v[2]);
	mqtt_session_out_add(n->s, m, v[1], v[2], (enum mqtt_out_state)v[3],
	    v[3] == MQTT_OUT_QUEUED ? 0 : id, seq);
	mqtt_bmsg_unref(m);
	if (seq > n->b->seq)
		n->b->seq = seq;
	n->msgs++;
	return 0;
}

void
mqtt_persist_load(struct mqtt_broker *b)
{
	struct mqtt_persist_counts	 n;
	struct mqtt_session		*s;
	char				*prefix;
	size_t				 i;

	memset(&n, 0, sizeof(n));
	n.b = b;
	store_scan(b->store, STORE_KEY_MQTT_RETAIN, mqtt_persist_load_retain,
	    &n);
	store_scan(b->store, STORE_KEY_MQTT_SESSION,
	    mqtt_persist_load_session, &n);
	for (i = 0; i < b->nbuckets; i++) {
		for (s = b->sessions[i]; s != NULL; s = s->hnext) {
			n.s = s;
			prefix = store_key_mqtt_msgs(s->key);
			store_scan(b->store, prefix, mqtt_persist_load_msg, &n);
			free(prefix);
		}
	}
	if (n.bad > 0)
		log_warnx("mqtt broker: %zu damaged records in the store "
		    "skipped", n.bad);
	log_info("mqtt broker: %zu retained messages, %zu persistent "
	    "sessions, %zu queued messages from the store", n.retained,
	    n.sessions, n.msgs);
}
