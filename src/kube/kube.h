/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kube room: joins a cluster. Registers the Node, reports its status,
 * renews its Lease, list+watches what the node may read into the store,
 * and sends the outbox (pod status, pod deletion, mirror pods, device
 * status) upstream. Start-up never waits for the apiserver; offline is a
 * normal state.
 */
#ifndef EDGESITE_KUBE_H
#define EDGESITE_KUBE_H

struct event_base;
struct conf;
struct store;
struct kube;

/*
 * Creates the kube room when a master or kubeconfig is configured and
 * starts connecting in the background. Returns NULL with *errstr NULL when
 * no cluster is configured (standalone), NULL with *errstr set when the
 * credentials are unusable (the daemon exits 1).
 */
struct kube	*kube_new(struct event_base *, const struct conf *,
		    struct store *, const char **errstr);
/* Stops every stream and timer and frees everything; accepts NULL. */
void		 kube_free(struct kube *);
/* The node name in use (node-name, hostname-override, or the hostname). */
const char	*kube_node_name(struct kube *);
/*
 * kube_device.c: queues a merge patch of a Device's status through the
 * outbox; status_json is the status object, rv the resourceVersion it was
 * computed from (the patch fails if the Device changed since) or NULL.
 * 0, or -1 when refused.
 */
int		 kube_device_status(struct kube *, const char *ns,
		    const char *name, const char *rv, const char *status_json);

#endif
