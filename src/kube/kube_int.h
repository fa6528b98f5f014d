/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of the kube room, shared by kube.c (wiring and the
 * connection state), kube_reflector.c (list+watch into the store),
 * kube_refs.c (the configmaps and secrets pods use), kube_node.c
 * (registration and status), kube_lease.c, kube_outbox.c and
 * kube_device.c. Still included from outside the room, until the store
 * is the only road upstream: edgesite.c, pod_plan.c, pod_static.c and
 * pod_sync.c.
 */
#ifndef EDGESITE_KUBE_INT_H
#define EDGESITE_KUBE_INT_H

#include <stdint.h>

#include "kube/kube_config.h"

struct event_base;
struct conf;
struct store;
struct kube_client;
struct kube_reflector;
struct kube_node;
struct kube_lease;
struct kube_outbox;
struct kube_resp;
struct kube_refs;

/* What a reflector watches. */
struct kube_resource {
	const char	*store_name;	/* "pods", "devices.devices.kubeedge.io" */
	const char	*api_prefix;	/* "/api/v1", "/apis/devices.kubeedge.io/v1alpha1" */
	const char	*plural;	/* "pods" */
	int		 namespaced;
};

struct kube {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct kube_auth	 auth;
	struct kube_client	*client;
	char			*node_name;
	int			 online;	/* last request reached the apiserver */
	char			*why;		/* why offline, or NULL */
	int			 told;		/* the disconnection was logged */
	struct kube_reflector	*pods;
	struct kube_reflector	*node;
	struct kube_reflector	*services;
	struct kube_reflector	*endpoints;
	struct kube_reflector	*devices;
	struct kube_reflector	*devicemodels;
	struct kube_node	*nodest;
	struct kube_lease	*lease;
	struct kube_outbox	*outbox;
	struct kube_refs	*refs;
};

/* kube.c: reachability, reported by every part after each request. */
void	 kube_set_online(struct kube *, int online, const char *why);
/* Reports one answer of part ("node", "lease") to kube_set_online. */
void	 kube_report_resp(struct kube *, const char *part,
	    const struct kube_resp *);

/*
 * kube_node.c: registers or adopts the Node, then sends its status when
 * something changed and at least every node-status-update-frequency.
 */
struct kube_node *kube_node_new(struct kube *);
void	 kube_node_free(struct kube_node *);
/* Back online: a retry waiting after a transport failure goes now. */
void	 kube_node_kick(struct kube_node *);
/* CRI reports the runtime version ("containerd://1.6.20"); may be NULL. */
void	 kube_node_set_runtime_version(struct kube_node *, const char *);

/* kube_lease.c: the node's Lease in kube-node-lease, renewed every 10 s. */
struct kube_lease *kube_lease_new(struct kube *);
void	 kube_lease_free(struct kube_lease *);
/* Back online: a renewal waiting after a failure goes now. */
void	 kube_lease_kick(struct kube_lease *);

/*
 * kube_outbox.c: durable upstream writes, one per target (x/<target> in
 * the store, newer replaces older), sent when online with back-off.
 */
struct kube_outbox *kube_outbox_new(struct kube *);
void	 kube_outbox_free(struct kube_outbox *);
/* Back online: send what waited for the apiserver now. */
void	 kube_outbox_kick(struct kube_outbox *);

/* kube_node.c: the Node's uid (the Lease's owner), NULL before registration. */
const char *kube_node_uid(struct kube_node *);

/*
 * kube_outbox.c: stores the write for target (x/<target>), replacing any
 * older one, then sends it when online. body may be NULL. 0, or -1 when
 * the store refused it.
 */
int	 kube_outbox_put(struct kube_outbox *, const char *target,
	    const char *method, const char *path, const char *content_type,
	    const char *body);
/*
 * Pod status: a merge patch of pods/<name>/status carrying metadata.uid as
 * a precondition; status_json is the status object as JSON text. 0 or -1.
 */
int	 kube_outbox_pod_status(struct kube_outbox *, const char *ns,
	    const char *name, const char *uid, const char *status_json);
/* Deletes the pod with grace period 0 and a uid precondition, via the outbox. */
int	 kube_pod_finalize(struct kube *, const char *ns, const char *name,
	    const char *uid);

/* The object an Event is about. */
struct kube_objref {
	const char	*api_version;	/* "v1" */
	const char	*kind;		/* "Pod", "Node" */
	const char	*ns;		/* NULL or "" when cluster-scoped */
	const char	*name;
	const char	*uid;		/* may be NULL */
	const char	*field_path;	/* "spec.containers{app}", or NULL */
};
/*
 * Posts a core/v1 Event in ns, best effort: dropped (-1) when offline,
 * never stored. type is "Normal" or "Warning".
 */
int	 kube_event_post(struct kube *, const char *ns,
	    const struct kube_objref *, const char *type, const char *reason,
	    const char *message);

#endif
