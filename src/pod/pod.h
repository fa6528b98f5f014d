/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod room: runs the pods of this node through CRI. Desired pods come
 * from the store -- the cluster's under o/pods/<ns>/<name> (mirror pods
 * excluded), static pods from the manifest folder under s/<ns>/<name>, a
 * family of their own so a relist of the cluster's pods never touches
 * them -- and what runs is asked of the runtime. Each pod has a state
 * machine that reconciles the two on every change, on every runtime
 * event seen by a relist each second, and on a periodic resync. The
 * status of each pod is stored under p/<ns>/<name> as
 * {"uid": ..., "status": {...}} and, in cluster mode, sent upstream
 * through the outbox (to the mirror pod for a static pod).
 */
#ifndef EDGESITE_POD_H
#define EDGESITE_POD_H

struct event_base;
struct conf;
struct store;
struct cri;
struct node_ident;
struct pod_room;

/*
 * Starts the room for node: reads the static pod folder into the store,
 * takes the stored pods as desired, and reconciles once the runtime is
 * ready. In a cluster (node->cluster) pod status, events, deletions and
 * mirror pods go upstream as outbox records written with the state they
 * come from (store_outbox.h); standalone nothing is recorded for upstream.
 * Never fails: a missing folder or runtime is waited for.
 */
struct pod_room	*pod_new(struct event_base *, const struct conf *,
		    struct store *, struct cri *, const struct node_ident *);
/* Stops every machine and timer; the pods keep running. Accepts NULL. */
void		 pod_free(struct pod_room *);
/* One log line per pod with its state (SIGUSR1). */
void		 pod_dump(struct pod_room *);

#endif
