/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of the kube room, shared by kube.c (wiring and the
 * connection state), kube_reflector.c (list+watch into the store),
 * kube_refs.c (the configmaps and secrets pods use), kube_node.c
 * (registration and status), kube_lease.c and kube_outbox.c. No file
 * outside src/kube/ includes it: other rooms see kube.h and the store.
 */
#ifndef EDGESITE_KUBE_INT_H
#define EDGESITE_KUBE_INT_H

#include <stdint.h>

#include "kube/kube.h"
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
struct node_ident;

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
	const char		*node_name;	/* the node_ident's */
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
	uint64_t		 skipped;	/* list items, watch events */
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
 * kube_outbox.c: sends the records of the x/ key family (one per
 * target, newer replaces older) when online, with back-off.
 */
struct kube_outbox *kube_outbox_new(struct kube *);
void	 kube_outbox_free(struct kube_outbox *);
/* Back online: send what waited for the apiserver now. */
void	 kube_outbox_kick(struct kube_outbox *);

/* The counters of kube_get_outbox_stats. */
void	 kube_outbox_get_stats(struct kube_outbox *,
	    struct kube_outbox_stats *);

/* kube_node.c: the Node's uid (the Lease's owner), NULL before registration. */
const char *kube_node_uid(struct kube_node *);

#endif
