/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded MQTT 3.1.1 broker on the loop: listeners, client sessions,
 * subscriptions, retained messages and persistent sessions (kept in the
 * store), ACL and authentication from the config.
 */
#ifndef EDGESITE_MQTT_BROKER_H
#define EDGESITE_MQTT_BROKER_H

#include <stddef.h>

struct event_base;
struct conf;
struct store;
struct mqtt_broker;
struct mqtt_msg;

/*
 * Called for every PUBLISH a client sends that the broker accepted (after
 * the ACL), once, before delivery to subscribers. The bus uses it to feed
 * the twin and the bridge.
 */
typedef void (*mqtt_broker_tap_cb)(const struct mqtt_msg *, void *arg);

/* Listens on conf->mqtt_internal_server. NULL with *errstr on failure. */
struct mqtt_broker *mqtt_broker_new(struct event_base *, const struct conf *,
		    struct store *, const char **errstr);
void		 mqtt_broker_set_tap(struct mqtt_broker *, mqtt_broker_tap_cb,
		    void *arg);
/*
 * Publishes as the broker itself (from the twin or the bridge): delivered
 * to matching subscribers, retained if asked; not passed to the tap.
 */
int		 mqtt_broker_publish(struct mqtt_broker *, const char *topic,
		    const void *payload, size_t len, int qos, int retain);
void		 mqtt_broker_close_listeners(struct mqtt_broker *);
void		 mqtt_broker_free(struct mqtt_broker *);
/* Counts for /metrics and the state dump. */
struct mqtt_broker_stats {
	unsigned long long	clients;
	unsigned long long	subscriptions;
	unsigned long long	retained;
	unsigned long long	msgs_in;
	unsigned long long	msgs_out;
	unsigned long long	dropped;
	unsigned long long	acks_held;	/* waited for a sync */
	unsigned long long	acks_withheld;	/* closed: write failed */
};
void		 mqtt_broker_get_stats(struct mqtt_broker *,
		    struct mqtt_broker_stats *);

#endif
