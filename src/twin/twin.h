/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device twin, as KubeEdge's edge core keeps it: the Devices bound to
 * this node (from the store), the desired and reported value of each of
 * their properties (kept in the store under t/), the $hw/events/... MQTT
 * topics devices and mappers use, and the Device status sent upstream.
 */
#ifndef EDGESITE_TWIN_H
#define EDGESITE_TWIN_H

struct event_base;
struct conf;
struct store;
struct mqtt;
struct node_ident;
struct metrics_out;
struct twin;

/*
 * Starts the twin for node (which must outlive it). Standalone
 * (!node->cluster) the twin works from the store alone and writes no
 * Device status for upstream. NULL with *errstr (static storage) when the
 * node name cannot be an MQTT topic level.
 */
struct twin	*twin_new(struct event_base *, const struct conf *,
		    struct store *, struct mqtt *, const struct node_ident *,
		    const char **errstr);
/* Unsubscribes and frees; accepts NULL. */
void		 twin_free(struct twin *);
/* The twin's counts for /metrics (a metrics_cb; arg is the twin). */
void		 twin_metrics(struct metrics_out *, void *arg);

#endif
