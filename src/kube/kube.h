/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kube room: joins a cluster. Registers the Node, reports its status,
 * renews its Lease, list+watches what the node may read into the store,
 * and sends the outbox upstream: the records other rooms put under x/ in
 * the store (store_outbox.h) with the state they come from. Other rooms
 * never call into this room to write upstream; the store is the road.
 * Start-up never waits for the apiserver; offline is a normal state.
 */
#ifndef EDGESITE_KUBE_H
#define EDGESITE_KUBE_H

#include <stdint.h>

struct event_base;
struct conf;
struct store;
struct kube;
struct metrics_out;
struct node_ident;

/*
 * Creates the kube room when the node is in a cluster (node->cluster: a
 * master or kubeconfig is configured) and starts connecting in the
 * background. Returns NULL with *errstr NULL when standalone, NULL with
 * *errstr set when the credentials are unusable (the daemon exits 1).
 * node must outlive the room.
 */
struct kube	*kube_new(struct event_base *, const struct conf *,
		    struct store *, const struct node_ident *node,
		    const char **errstr);
/* Stops every stream and timer and frees everything; accepts NULL. */
void		 kube_free(struct kube *);
/*
 * The container runtime's version ("containerd://1.7.0") for the Node's
 * status, once CRI tells it; NULL when unknown. Accepts a NULL kube.
 */
void		 kube_set_runtime_version(struct kube *, const char *);

/* What the outbox did since start, and what waits now. */
struct kube_outbox_stats {
	uint64_t	queued;		/* records waiting or in flight */
	uint64_t	events;		/* of which Events */
	uint64_t	sent;		/* delivered (2xx) */
	uint64_t	refused;	/* dropped after a permanent failure */
	uint64_t	retries;	/* 5xx/429 answers retried */
	uint64_t	events_dropped;	/* oldest Events over the bound */
	uint64_t	damaged;	/* unreadable records dropped */
};
/* Fills st; all zero when k is NULL (standalone). */
void		 kube_get_outbox_stats(struct kube *,
		    struct kube_outbox_stats *st);
/* /metrics: the outbox's counts; arg is the room (core/metrics.h). */
void		 kube_metrics(struct metrics_out *, void *arg);

#endif
