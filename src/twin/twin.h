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
struct kube;
struct twin;

/*
 * Starts the twin for node (NULL: the node name the configuration gives,
 * else the host name). kube may be NULL (standalone): the twin then works
 * from the store alone and sends nothing upstream. NULL with *errstr
 * (static storage) when the node name is unusable.
 */
struct twin	*twin_new(struct event_base *, const struct conf *,
		    struct store *, struct mqtt *, struct kube *,
		    const char *node, const char **errstr);
/* Unsubscribes and frees; accepts NULL. */
void		 twin_free(struct twin *);

#endif
