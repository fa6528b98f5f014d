/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface between the files of the embedded broker:
 * mqtt_broker.c (the broker, listeners, messages, routing), mqtt_conn.c
 * (one client connection), mqtt_session.c (sessions, their subscriptions
 * and delivery queues), mqtt_persist.c (the store), mqtt_acl.c (users and
 * the ACL) and mqtt_tls.c (OpenSSL).
 */
#ifndef EDGESITE_MQTT_BROKER_INT_H
#define EDGESITE_MQTT_BROKER_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "core/ratelimit.h"
#include "mqtt/mqtt_broker.h"

/* Between two warnings of acknowledgements withheld (mqtt_hold.c). */
#define MQTT_HOLD_WARN_MS	10000
#include "mqtt/mqtt_packet.h"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;
struct sockaddr;
struct store_batch;
struct mqtt_acl;
struct mqtt_tls;
struct mqtt_topic_tree;

/* Limits and timeouts. */
#define MQTT_CONNECT_TIMEOUT_MS	10000	/* from accept to CONNECT */
#define MQTT_CLOSING_TIMEOUT_MS	2000	/* to flush a refusal */
#define MQTT_OUT_MIN		(1024u * 1024)	/* least output buffered for
						   a client before QoS 0 to
						   it is dropped */
#define MQTT_ID_MAX		256	/* generated client id length */

/* A message inside the broker, shared by reference. */
struct mqtt_bmsg {
	int		 refs;
	char		*topic;
	uint8_t		*payload;
	size_t		 len;
	uint8_t		 qos;
	int		 retain;
};

enum mqtt_out_state {
	MQTT_OUT_QUEUED,	/* not sent yet */
	MQTT_OUT_PUBACK,	/* QoS 1 sent, waiting for PUBACK */
	MQTT_OUT_PUBREC,	/* QoS 2 sent, waiting for PUBREC */
	MQTT_OUT_PUBCOMP,	/* PUBREL sent, waiting for PUBCOMP */
};

/* One QoS 1 or 2 message of a session, queued or in flight. */
struct mqtt_out {
	TAILQ_ENTRY(mqtt_out)	 entry;
	struct mqtt_bmsg	*msg;
	uint8_t			 qos;
	int			 retain;
	uint16_t		 id;
	enum mqtt_out_state	 state;
	int			 sent;		/* the next send is a DUP */
	uint64_t		 seq;		/* key in the store, 0: none */
};
TAILQ_HEAD(mqtt_outq, mqtt_out);

struct mqtt_session_sub {
	char		*filter;
	uint8_t		 qos;
};

/* The state of one client id, online or not. */
struct mqtt_session {
	struct mqtt_broker	*broker;
	struct mqtt_session	*hnext;		/* hash chain */
	char			*id;
	char			*key;		/* id escaped for store keys */
	char			*username;	/* of the last connection */
	int			 clean;
	struct mqtt_conn	*conn;		/* NULL while offline */
	struct mqtt_session_sub	*subs;
	size_t			 nsubs;
	struct mqtt_outq	 inflight;
	size_t			 ninflight;
	struct mqtt_outq	 queue;
	size_t			 nqueued;
	uint16_t		 next_id;
	uint16_t		*rel;		/* QoS 2 ids awaiting PUBREL */
	size_t			 nrel;
	size_t			 relsz;
	uint64_t		 match_gen;	/* routing: seen this round */
	uint8_t			 match_qos;
};

enum mqtt_conn_state {
	MQTT_CONN_HANDSHAKING,	/* TLS */
	MQTT_CONN_WAITING,	/* for CONNECT */
	MQTT_CONN_ACTIVE,
	MQTT_CONN_CLOSING,	/* flushing a last packet */
	MQTT_CONN_CLOSED,
};

enum mqtt_conn_event {
	MQTT_CONN_EV_HANDSHAKEN,	/* TLS is up */
	MQTT_CONN_EV_READ,		/* bytes arrived */
	MQTT_CONN_EV_DRAINED,		/* the output buffer is empty */
	MQTT_CONN_EV_EOF,		/* the client closed */
	MQTT_CONN_EV_ERROR,		/* socket or TLS error (conn->why) */
	MQTT_CONN_EV_TIMEOUT,		/* connect or keep-alive timer */
	MQTT_CONN_EV_TAKEOVER,		/* another CONNECT took the id */
	MQTT_CONN_EV_SHUTDOWN,		/* the broker is stopping */
	MQTT_CONN_EV_UNSYNCED,		/* what an ack waits for failed */
};

struct mqtt_hold;
TAILQ_HEAD(mqtt_holdq, mqtt_hold);

/* One client connection. */
struct mqtt_conn {
	struct mqtt_broker	*broker;
	TAILQ_ENTRY(mqtt_conn)	 entry;
	struct mqtt_holdq	 holds;		/* acks waiting for a sync */
	TAILQ_ENTRY(mqtt_conn)	 hold_entry;	/* on broker's holding */
	enum mqtt_conn_state	 state;
	char			 name[160];	/* for logs */
	char			 peer[64];
	struct bufferevent	*bev;
	struct event		*timer;
	struct mqtt_session	*sess;
	char			*username;
	struct mqtt_bmsg	*will;
	uint16_t		 keepalive;
	int			 tls;
	char			 why[256];
};
TAILQ_HEAD(mqtt_connq, mqtt_conn);

struct mqtt_broker {
	struct event_base	*base;
	struct store		*store;
	struct evconnlistener	*listeners[2];
	int			 ltls[2];
	char			*laddr[2];
	struct event		*resume_ev;	/* accepting again after EMFILE */
	struct mqtt_tls		*tls;
	struct mqtt_acl		*acl;
	struct mqtt_topic_tree	*tree;
	struct mqtt_connq	 conns;
	struct mqtt_connq	 dead;		/* closed, freed by reap_ev */
	struct event		*reap_ev;
	struct mqtt_session	**sessions;	/* hash by client id */
	size_t			 nsessions;
	size_t			 nbuckets;
	struct store_batch	*batch;		/* committed by commit_ev */
	struct event		*commit_ev;
	struct store_sync_watch	*sync_watch;
	struct mqtt_connq	 holding;	/* conns with held acks */
	struct ratelimit	 hold_rl;	/* warnings of withheld acks */
	uint64_t		 seq;		/* last message key used */
	uint64_t		 match_gen;
	struct mqtt_session	**matched;
	size_t			 nmatched;
	size_t			 matchedsz;
	size_t			 max_packet;
	size_t			 out_max;	/* see MQTT_OUT_MIN */
	size_t			 max_inflight;
	size_t			 queue_size;
	uint64_t		 next_auto;	/* generated client ids */
	mqtt_broker_tap_cb	 tap;
	void			*tap_arg;
	struct mqtt_broker_stats stats;
};

/* mqtt_broker.c */
struct mqtt_bmsg *mqtt_bmsg_new(const char *topic, size_t topiclen,
		    const void *payload, size_t len, uint8_t qos, int retain);
struct mqtt_bmsg *mqtt_bmsg_ref(struct mqtt_bmsg *);
void		 mqtt_bmsg_unref(struct mqtt_bmsg *);
/*
 * Routes a message: retains it if asked, shows it to the tap (from a
 * client), and delivers it to every matching session once, at the highest
 * QoS its subscriptions grant.
 */
void		 mqtt_broker_route(struct mqtt_broker *, struct mqtt_bmsg *,
		    int from_client);
/* Calls cb for each retained message matching filter. */
void		 mqtt_broker_retained(struct mqtt_broker *, const char *filter,
		    void (*cb)(struct mqtt_bmsg *, void *), void *arg);
/* Sets (or, with an empty payload, clears) a retained message. */
void		 mqtt_broker_retain(struct mqtt_broker *, struct mqtt_bmsg *,
		    int persist);
/* Schedules the free of closed connections on a later loop turn. */
void		 mqtt_broker_reap(struct mqtt_broker *);

/* mqtt_conn.c */
void		 mqtt_conn_accept(struct mqtt_broker *, int fd,
		    const struct sockaddr *, int socklen, int tls);
void		 mqtt_conn_fsm(struct mqtt_conn *, enum mqtt_conn_event);
void		 mqtt_conn_free(struct mqtt_conn *);
/* Sends a PUBLISH; 0, or -1 when QoS 0 was dropped (output full). */
int		 mqtt_conn_send_publish(struct mqtt_conn *, struct mqtt_bmsg *,
		    uint8_t qos, int retain, int dup, uint16_t id);
/* Sends PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK. */
void		 mqtt_conn_send_ack(struct mqtt_conn *, enum mqtt_packet_type,
		    uint16_t id);

/* mqtt_hold.c: acks withheld until the store has synced. */
int		 mqtt_hold_needed(struct mqtt_conn *, uint64_t rev);
void		 mqtt_hold_add(struct mqtt_conn *, enum mqtt_packet_type,
		    uint16_t id, uint64_t rev);
void		 mqtt_hold_drop(struct mqtt_conn *);
void		 mqtt_hold_refuse(struct mqtt_conn *);
void		 mqtt_hold_commit(struct mqtt_broker *, int failed,
		    uint64_t rev);
void		 mqtt_hold_synced_cb(uint64_t synced, int failed, void *arg);

/* mqtt_session.c */
struct mqtt_session *mqtt_session_find(struct mqtt_broker *, const char *id);
struct mqtt_session *mqtt_session_new(struct mqtt_broker *, const char *id,
		    int clean);
/* Removes the session, its subscriptions and (persist) its stored state. */
void		 mqtt_session_free(struct mqtt_session *, int persist);
void		 mqtt_session_free_all(struct mqtt_broker *);
/* Adds or replaces a subscription; 1 when it is new. */
int		 mqtt_session_subscribe(struct mqtt_session *,
		    const char *filter, uint8_t qos);
int		 mqtt_session_unsubscribe(struct mqtt_session *,
		    const char *filter);
/* Hands a message to the session at qos (already the granted one). */
void		 mqtt_session_deliver(struct mqtt_session *, struct mqtt_bmsg *,
		    uint8_t qos, int retain);
/* The client is back: resends what is in flight, then sends the queue. */
void		 mqtt_session_resume(struct mqtt_session *);
void		 mqtt_session_puback(struct mqtt_session *, uint16_t id);
void		 mqtt_session_pubrec(struct mqtt_session *, uint16_t id);
void		 mqtt_session_pubcomp(struct mqtt_session *, uint16_t id);
/* Incoming QoS 2: 1 when id is new (the message is to be routed). */
int		 mqtt_session_rel_add(struct mqtt_session *, uint16_t id);
void		 mqtt_session_rel_del(struct mqtt_session *, uint16_t id);
struct mqtt_out	*mqtt_session_out_add(struct mqtt_session *,
		    struct mqtt_bmsg *, uint8_t qos, int retain,
		    enum mqtt_out_state, uint16_t id, uint64_t seq);

/* mqtt_persist.c: the q/ keys of the store. */
void		 mqtt_persist_load(struct mqtt_broker *);
void		 mqtt_persist_retain(struct mqtt_broker *, struct mqtt_bmsg *);
void		 mqtt_persist_session(struct mqtt_session *);
void		 mqtt_persist_session_del(struct mqtt_session *);
void		 mqtt_persist_out(struct mqtt_session *, struct mqtt_out *);
void		 mqtt_persist_out_del(struct mqtt_session *, struct mqtt_out *);
/* Writes what is pending now (shutdown). */
void		 mqtt_persist_flush(struct mqtt_broker *);
/* The session's id escaped for a store key; caller frees. */
char		*mqtt_persist_key(const char *id);

/* mqtt_acl.c */
enum mqtt_acl_access {
	MQTT_ACL_READ = 1,
	MQTT_ACL_WRITE = 2,
};
/* NULL with *errstr (static) when a file cannot be read or is wrong. */
struct mqtt_acl	*mqtt_acl_new(const char *password_file, const char *acl_file,
		    int allow_anonymous, const char **errstr);
void		 mqtt_acl_free(struct mqtt_acl *);
/* A CONNACK code: accepted, bad user name or password, not authorized. */
int		 mqtt_acl_login(struct mqtt_acl *, const char *username,
		    const char *password, size_t passlen);
/* 1 when the client may publish to (write) or receive (read) topic. */
int		 mqtt_acl_check(struct mqtt_acl *, const char *username,
		    const char *clientid, const char *topic,
		    enum mqtt_acl_access);
/* 1 when the client may subscribe to filter. */
int		 mqtt_acl_subscribe(struct mqtt_acl *, const char *username,
		    const char *clientid, const char *filter);
/* 1 when reads need a check per message (an ACL file is loaded). */
int		 mqtt_acl_active(struct mqtt_acl *);

/* mqtt_tls.c: OpenSSL only here. */
struct mqtt_tls	*mqtt_tls_new(const char *cert, const char *key,
		    const char **errstr);
void		 mqtt_tls_free(struct mqtt_tls *);
/* A server-side TLS bufferevent on fd, or NULL (logged). */
struct bufferevent *mqtt_tls_bev(struct mqtt_tls *, struct event_base *,
		    int fd);
/* The TLS error of a failed connection, for the log. */
const char	*mqtt_tls_error(struct bufferevent *, char *buf, size_t len);
/*
 * Checks a password against a mosquitto_passwd hash ("$6$salt$hash" or
 * "$7$iterations$salt$hash"): 1 match, 0 no match, -1 unknown format.
 */
int		 mqtt_tls_password_check(const char *hash, const char *password,
		    size_t passlen);

#endif
