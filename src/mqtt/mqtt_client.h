/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client of an external MQTT broker (libmosquitto, driven on our
 * loop): connects in the background without ever blocking the loop,
 * reconnects with back-off, restores its subscriptions on every new
 * session and hands each message it receives to one callback.
 */
#ifndef EDGESITE_MQTT_CLIENT_H
#define EDGESITE_MQTT_CLIENT_H

#include <stddef.h>

struct event_base;
struct mqtt_client;
struct mqtt_msg;

/* A message from the broker; valid only during the callback. */
typedef void (*mqtt_client_msg_cb)(const struct mqtt_msg *, void *arg);
/* A session came up (up 1), or an attempt or session failed (up 0, why). */
typedef void (*mqtt_client_state_cb)(int up, const char *detail, void *arg);

/*
 * Parses url ("tcp://host[:port]" or "ssl://host[:port]") and starts
 * connecting; up to queue messages published meanwhile wait for the
 * session. NULL with *errstr (static storage) when the URL is unusable;
 * a broker that cannot be reached is retried, never an error. The
 * callbacks run on the loop; neither may free the client.
 */
struct mqtt_client *mqtt_client_new(struct event_base *, const char *url,
		    const char *client_id, int keepalive, size_t queue,
		    mqtt_client_msg_cb, mqtt_client_state_cb, void *arg,
		    const char **errstr);
/* Disconnects and frees; accepts NULL. Not from inside a callback. */
void		 mqtt_client_free(struct mqtt_client *);
/*
 * Subscribes to a valid filter now and on every reconnect; counted, so
 * each mqtt_client_subscribe wants one mqtt_client_unsubscribe.
 */
void		 mqtt_client_subscribe(struct mqtt_client *,
		    const char *filter, int qos);
void		 mqtt_client_unsubscribe(struct mqtt_client *,
		    const char *filter);
/*
 * Publishes now, or when the next session is up (bounded queue, oldest
 * dropped first). 0, or -1 when the message is too large. A message this
 * client publishes is not handed back to it when one of its own
 * subscriptions matches.
 */
int		 mqtt_client_publish(struct mqtt_client *, const char *topic,
		    const void *payload, size_t len, int qos, int retain);
/* 1 when a session is up. */
int		 mqtt_client_connected(struct mqtt_client *);
/* The state name and, when down, why ("connection refused"). */
const char	*mqtt_client_state(struct mqtt_client *);
const char	*mqtt_client_why(struct mqtt_client *);

struct mqtt_client_stats {
	unsigned long long	connects;	/* sessions established */
	unsigned long long	msgs_in;
	unsigned long long	msgs_out;
	unsigned long long	dropped;	/* queue overflow, too large */
	unsigned long long	echoes;		/* own messages dropped */
};
void		 mqtt_client_get_stats(struct mqtt_client *,
		    struct mqtt_client_stats *);

#endif
