/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event bus: what the device twin (and any other in-process user)
 * sees of MQTT, whichever broker a device is on. Mode 0 runs the embedded
 * broker alone, mode 2 the client of the external broker alone, mode 1
 * both, with a bridge: what a device publishes on one broker under the
 * event-bus topics (mqtt_bridge_topics) is published on the other, so
 * devices and mappers on either see each other. The bridge cannot loop:
 * the embedded broker does not show its own publishes to the tap, and the
 * client does not hand back the echo of its own. This file owns the bus
 * subscriptions and the health part "mqtt".
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/health.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/node.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_broker.h"
#include "mqtt/mqtt_client.h"
#include "mqtt/mqtt_topic.h"

/* Keep-alive with the external broker, in seconds. */
#define MQTT_KEEPALIVE		30
#define MQTT_HEALTH_MAX		512

/* The topics a device or mapper publishes that the bridge carries. */
static const char *const mqtt_bridge_topics[] = {
	"$hw/events/#",
	"$ke/events/#",
	"SYS/dis/upload_records",
	NULL
};

struct mqtt_sub {
	TAILQ_ENTRY(mqtt_sub)	 entry;
	struct mqtt		*m;
	char			*filter;
	mqtt_msg_cb		 cb;
	void			*arg;
	int			 dead;	/* unsubscribed while dispatching */
};
TAILQ_HEAD(mqtt_subs, mqtt_sub);

struct mqtt {
	const struct conf	*conf;
	int			 mode;		/* CONF_MQTT_* */
	struct mqtt_broker	*broker;	/* modes 0 and 1 */
	struct mqtt_client	*client;	/* modes 1 and 2 */
	struct mqtt_subs	 subs;
	int			 dispatching;	/* depth */
	int			 ndead;
	unsigned long long	 bridged;
};

/* Health part "mqtt": OK when every broker the mode has is usable. */
static void
mqtt_health(struct mqtt *m)
{
	char			 buf[MQTT_HEALTH_MAX];
	enum health_state	 st = HEALTH_OK;
	int			 n = 0;

	buf[0] = '\0';
	if (m->broker != NULL)
		n = snprintf(buf, sizeof(buf), "internal broker on %s",
		    m->conf->mqtt_internal_server);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	if (m->client != NULL) {
		if (!mqtt_client_connected(m->client))
			st = HEALTH_DEGRADED;
		snprintf(buf + n, sizeof(buf) - (size_t)n, "%sexternal broker "
		    "%s: %s%s%s", n > 0 ? "; " : "", m->conf->mqtt_server,
		    mqtt_client_state(m->client), st == HEALTH_OK ? "" : ": ",
		    st == HEALTH_OK ? "" : mqtt_client_why(m->client));
	}
	health_set("mqtt", st, buf);
}

/* Frees the subscriptions unsubscribed while a dispatch ran. */
static void
mqtt_sweep(struct mqtt *m)
{
	struct mqtt_sub	*s, *next;

	if (m->dispatching > 0 || m->ndead == 0)
		return;
	for (s = TAILQ_FIRST(&m->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (!s->dead)
			continue;
		TAILQ_REMOVE(&m->subs, s, entry);
		free(s->filter);
		free(s);
	}
	m->ndead = 0;
}

/* Hands a device's message to every bus subscription that matches. */
static void
mqtt_dispatch(struct mqtt *m, const struct mqtt_msg *msg)
{
	struct mqtt_sub	*s;

	m->dispatching++;
	TAILQ_FOREACH(s, &m->subs, entry) {
		if (!s->dead && mqtt_topic_match(s->filter, msg->topic))
			s->cb(msg, s->arg);
	}
	m->dispatching--;
	mqtt_sweep(m);
}

/* 1 when the bridge carries topic. */
static int
mqtt_bridged(const char *topic)
{
	size_t	i;

	for (i = 0; mqtt_bridge_topics[i] != NULL; i++)
		if (mqtt_topic_match(mqtt_bridge_topics[i], topic))
			return 1;
	return 0;
}

/* A device published on the embedded broker. */
static void
mqtt_tap_cb(const struct mqtt_msg *msg, void *arg)
{
	struct mqtt	*m = arg;

	if (m->client != NULL && mqtt_bridged(msg->topic) &&
	    mqtt_client_publish(m->client, msg->topic, msg->payload, msg->len,
	    msg->qos, msg->retain) == 0)
		m->bridged++;
	mqtt_dispatch(m, msg);
}

/* A device published on the external broker. */
static void
mqtt_external_msg_cb(const struct mqtt_msg *msg, void *arg)
{
	struct mqtt	*m = arg;

	if (m->broker != NULL && mqtt_bridged(msg->topic) &&
	    mqtt_broker_publish(m->broker, msg->topic, msg->payload, msg->len,
	    msg->qos, msg->retain) == 0)
		m->bridged++;
	mqtt_dispatch(m, msg);
}

static void
mqtt_external_state_cb(int up, const char *detail, void *arg)
{
	mqtt_health(arg);
}

/*
 * Starts the client of the external broker, whose client id is
 * edgesite-<node name>. -1 with *errstr.
 */
static int
mqtt_start_client(struct mqtt *m, struct event_base *base,
    const struct node_ident *node, const char **errstr)
{
	char	*id;
	size_t	 i;

	xasprintf(&id, "edgesite-%s", node->name);
	m->client = mqtt_client_new(base, m->conf->mqtt_server, id,
	    MQTT_KEEPALIVE, (size_t)m->conf->mqtt_session_queue_size,
	    mqtt_external_msg_cb, mqtt_external_state_cb, m, errstr);
	free(id);
	if (m->client == NULL)
		return -1;
	if (m->mode == CONF_MQTT_BOTH) {
		for (i = 0; mqtt_bridge_topics[i] != NULL; i++)
			mqtt_client_subscribe(m->client, mqtt_bridge_topics[i],
			    (int)m->conf->mqtt_qos);
	}
	log_info("mqtt: external broker %s%s", m->conf->mqtt_server,
	    m->mode == CONF_MQTT_BOTH ? ", bridged with the internal one" :
	    "");
	return 0;
}

struct mqtt *
mqtt_new(struct event_base *base, const struct conf *conf,
    struct store *store, const struct node_ident *node, const char **errstr)
{
	struct mqtt	*m;

	m = xcalloc(1, sizeof(*m));
	m->conf = conf;
	m->mode = (int)conf->mqtt_mode;
	TAILQ_INIT(&m->subs);
	if (m->mode != CONF_MQTT_EXTERNAL) {
		if ((m->broker = mqtt_broker_new(base, conf, store,
		    errstr)) == NULL)
			goto fail;
		mqtt_broker_set_tap(m->broker, mqtt_tap_cb, m);
	}
	if (m->mode != CONF_MQTT_INTERNAL &&
	    mqtt_start_client(m, base, node, errstr) == -1)
		goto fail;
	mqtt_health(m);
	return m;

fail:
	mqtt_free(m);
	return NULL;
}

void
mqtt_close_listeners(struct mqtt *m)
{
	if (m != NULL && m->broker != NULL)
		mqtt_broker_close_listeners(m->broker);
}

void
mqtt_free(struct mqtt *m)
{
	struct mqtt_sub	*s;

	if (m == NULL)
		return;
	mqtt_client_free(m->client);
	mqtt_broker_free(m->broker);
	while ((s = TAILQ_FIRST(&m->subs)) != NULL) {
		TAILQ_REMOVE(&m->subs, s, entry);
		free(s->filter);
		free(s);
	}
	health_remove("mqtt");
	free(m);
}

int
mqtt_publish(struct mqtt *m, const char *topic, const void *payload,
    size_t len, int qos, int retain)
{
	if (!mqtt_topic_name_valid(topic, strlen(topic)))
		return -1;
	log_trace(LOG_SUB_MQTT, "mqtt: publish on %s, %zu bytes", topic, len);
	if (m->broker != NULL)
		mqtt_broker_publish(m->broker, topic, payload, len, qos,
		    retain);
	/* Queued while the external broker is away. */
	if (m->client != NULL)
		mqtt_client_publish(m->client, topic, payload, len, qos,
		    retain);
	return 0;
}

struct mqtt_sub *
mqtt_subscribe(struct mqtt *m, const char *filter, mqtt_msg_cb cb,
    void *arg)
{
	struct mqtt_sub	*s;

	if (!mqtt_topic_filter_valid(filter, strlen(filter)))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->filter = xstrdup(filter);
	s->cb = cb;
	s->arg = arg;
	TAILQ_INSERT_TAIL(&m->subs, s, entry);
	if (m->client != NULL)
		mqtt_client_subscribe(m->client, filter,
		    (int)m->conf->mqtt_qos);
	return s;
}

void
mqtt_unsubscribe(struct mqtt_sub *s)
{
	struct mqtt	*m;

	if (s == NULL || s->dead)
		return;
	m = s->m;
	if (m->client != NULL)
		mqtt_client_unsubscribe(m->client, s->filter);
	s->dead = 1;
	m->ndead++;
	mqtt_sweep(m);
}

void
mqtt_dump(struct mqtt *m)
{
	struct mqtt_broker_stats	bs;
	struct mqtt_client_stats	cs;

	if (m->broker != NULL) {
		mqtt_broker_get_stats(m->broker, &bs);
		log_info("state: mqtt broker on %s: %llu clients, %llu "
		    "subscriptions, %llu retained, %llu in, %llu out, "
		    "%llu dropped", m->conf->mqtt_internal_server, bs.clients,
		    bs.subscriptions, bs.retained, bs.msgs_in, bs.msgs_out,
		    bs.dropped);
	}
	if (m->client != NULL) {
		mqtt_client_get_stats(m->client, &cs);
		log_info("state: mqtt external broker %s: %s, %llu sessions, "
		    "%llu in, %llu out, %llu dropped, %llu echoes, "
		    "%llu bridged",
		    m->conf->mqtt_server, mqtt_client_state(m->client),
		    cs.connects, cs.msgs_in, cs.msgs_out, cs.dropped, cs.echoes,
		    m->bridged);
	}
}

/* The embedded broker's families. */
static void
mqtt_metrics_broker(struct metrics_out *out, struct mqtt_broker *b)
{
	struct mqtt_broker_stats	st;

	mqtt_broker_get_stats(b, &st);
	metrics_gauge(out, "edgesite_mqtt_broker_clients",
	    "Clients connected to the embedded MQTT broker.", st.clients);
	metrics_gauge(out, "edgesite_mqtt_broker_subscriptions",
	    "Subscriptions held by the embedded MQTT broker.",
	    st.subscriptions);
	metrics_gauge(out, "edgesite_mqtt_broker_retained_messages",
	    "Retained messages of the embedded MQTT broker.", st.retained);
	metrics_counter(out, "edgesite_mqtt_broker_messages_received_total",
	    "Messages published to the embedded MQTT broker, by "
	    "clients and in-process.", st.msgs_in);
	metrics_counter(out, "edgesite_mqtt_broker_messages_sent_total",
	    "Messages the embedded MQTT broker sent to clients.", st.msgs_out);
	metrics_counter(out, "edgesite_mqtt_broker_messages_dropped_total",
	    "Messages the embedded MQTT broker dropped: queue full, "
	    "client too slow, or denied by the ACL.", st.dropped);
	metrics_counter(out, "edgesite_mqtt_broker_acks_held_total",
	    "PUBACKs and PUBRECs the embedded MQTT broker sent only once "
	    "the store had synced what they acknowledge.", st.acks_held);
	metrics_counter(out, "edgesite_mqtt_broker_acks_withheld_total",
	    "Connections closed without their PUBACK or PUBREC: the store "
	    "write failed.", st.acks_withheld);
}

/* The external broker client's families, and the bridge's. */
static void
mqtt_metrics_client(struct metrics_out *out, struct mqtt *m)
{
	struct mqtt_client_stats	st;

	mqtt_client_get_stats(m->client, &st);
	metrics_gauge(out, "edgesite_mqtt_client_connected",
	    "1 while the session with the external MQTT broker is up.",
	    (uint64_t)mqtt_client_connected(m->client));
	metrics_counter(out, "edgesite_mqtt_client_sessions_total",
	    "Sessions established with the external MQTT broker.",
	    st.connects);
	metrics_counter(out, "edgesite_mqtt_client_messages_received_total",
	    "Messages received from the external MQTT broker.", st.msgs_in);
	metrics_counter(out, "edgesite_mqtt_client_messages_sent_total",
	    "Messages sent to the external MQTT broker.", st.msgs_out);
	metrics_counter(out, "edgesite_mqtt_client_messages_dropped_total",
	    "Messages for the external MQTT broker dropped: queue full or "
	    "too large.", st.dropped);
	metrics_counter(out, "edgesite_mqtt_client_echoes_dropped_total",
	    "Own messages the external MQTT broker sent back, dropped.",
	    st.echoes);
	if (m->broker != NULL)
		metrics_counter(out, "edgesite_mqtt_bridged_messages_total",
		    "Messages the bridge carried between the embedded and "
		    "the external MQTT broker.", m->bridged);
}

/* /metrics: the families of the brokers the mode has (arg is the bus). */
void
mqtt_metrics(struct metrics_out *out, void *arg)
{
	struct mqtt	*m = arg;

	if (m->broker != NULL)
		mqtt_metrics_broker(out, m->broker);
	if (m->client != NULL)
		mqtt_metrics_client(out, m);
}
