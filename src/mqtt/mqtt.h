/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MQTT event bus: the embedded broker (mqtt.mode 0 and 1), the
 * external broker through libmosquitto (mode 1 and 2), and in mode 1 the
 * bridge between them. In-process users (the device twin) publish and
 * subscribe here without caring which broker a device is on.
 */
#ifndef EDGESITE_MQTT_H
#define EDGESITE_MQTT_H

#include <stddef.h>

struct event_base;
struct conf;
struct metrics_out;
struct store;
struct node_ident;
struct mqtt;
struct mqtt_sub;

/* A message seen on the bus; valid only during the callback. */
struct mqtt_msg {
	const char	*topic;
	const void	*payload;
	size_t		 len;
	int		 qos;
	int		 retain;
};
typedef void (*mqtt_msg_cb)(const struct mqtt_msg *, void *arg);

/*
 * Starts the brokers and clients the mode asks for. NULL with *errstr set
 * (static storage) when the internal broker cannot listen; an external
 * broker that is down is not an error (it is retried with back-off).
 */
struct mqtt	*mqtt_new(struct event_base *, const struct conf *,
		    struct store *, const struct node_ident *,
		    const char **errstr);
/* Stops listeners (shutdown begins). */
void		 mqtt_close_listeners(struct mqtt *);
void		 mqtt_free(struct mqtt *);
/*
 * Publishes on the bus: to the embedded broker's subscribers and to the
 * external broker, whichever the mode has. 0, or -1 when the topic is not
 * a valid topic name.
 */
int		 mqtt_publish(struct mqtt *, const char *topic,
		    const void *payload, size_t len, int qos, int retain);
/*
 * Receives every message that devices publish on either broker matching
 * filter (MQTT wildcards). Safe to unsubscribe from inside the callback.
 */
struct mqtt_sub	*mqtt_subscribe(struct mqtt *, const char *filter,
		    mqtt_msg_cb, void *arg);
void		 mqtt_unsubscribe(struct mqtt_sub *);
/* SIGUSR1: one log line per broker and client with their counts. */
void		 mqtt_dump(struct mqtt *);
/* /metrics: each broker's counts; arg is the bus (core/metrics.h). */
void		 mqtt_metrics(struct metrics_out *, void *arg);

#endif
