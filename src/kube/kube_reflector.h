/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reflectors: one list+watch of a resource (optionally one namespace, one
 * field selector) mirrored into the store under o/<resource>/..., with its
 * resume point under v/<resource>[/<scope>]. Also the configmaps and
 * secrets that local pods reference (kube_refs.c), each followed by a
 * per-object reflector as the Node authorizer allows.
 */
#ifndef EDGESITE_KUBE_REFLECTOR_H
#define EDGESITE_KUBE_REFLECTOR_H

struct kube;
struct kube_resource;
struct kube_reflector;
struct kube_refs;

/* Flags of kube_reflector_new. */
#define KUBE_REFLECTOR_OPTIONAL	0x1	/* the API may be absent or denied:
					   checked again every 5 min, quietly */
#define KUBE_REFLECTOR_GRAPH	0x2	/* access follows the Node authorizer's
					   graph, which may lag behind a new
					   pod: a 403 backs off as a failure
					   and is told only when it lasts */

/* Called after each state change of a reflector (for health details). */
typedef void (*kube_reflector_cb)(struct kube_reflector *, void *arg);

/*
 * Creates a reflector, not started. ns: one namespace or NULL for all (or
 * for a cluster-scoped resource). field_selector: e.g.
 * "spec.nodeName=node1", or NULL; "metadata.name=<name>" makes it a
 * per-object reflector whose relist touches only that object. cb may be
 * NULL; it never frees the reflector. The caller frees with
 * kube_reflector_free, never from inside cb.
 */
struct kube_reflector *kube_reflector_new(struct kube *,
		    const struct kube_resource *, const char *ns,
		    const char *field_selector, int flags, kube_reflector_cb cb,
		    void *arg);
/*
 * Starts it: a watch from the stored resume point when there is one, a
 * list otherwise. Also restarts a stopped reflector.
 */
void		 kube_reflector_start(struct kube_reflector *);
/* Stops every request and timer; the store keeps what it has. */
void		 kube_reflector_stop(struct kube_reflector *);
/* Retries now when waiting after a transport failure (back online). */
void		 kube_reflector_kick(struct kube_reflector *);
/*
 * Deletes, in one batch, the objects in the reflector's scope and its
 * resume point from the store (the last pod referencing it is gone).
 */
void		 kube_reflector_forget(struct kube_reflector *);
/* Stops and frees; accepts NULL. */
void		 kube_reflector_free(struct kube_reflector *);

/* "pods", "configmaps ns/name": the name used in logs. */
const char	*kube_reflector_name(struct kube_reflector *);
/*
 * The state for /readyz: "idle", "listing", "watching", "backoff",
 * "forbidden", "not served" or "stopped".
 */
const char	*kube_reflector_state(struct kube_reflector *);
/* 1 once a list or a resume point has been stored and it is watching. */
int		 kube_reflector_synced(struct kube_reflector *);

/*
 * kube_refs.c: follows the configmaps and secrets that pods in the store
 * reference, starting a per-object reflector for each while referenced.
 */
struct kube_refs *kube_refs_new(struct kube *);
void		 kube_refs_free(struct kube_refs *);
/* Retries every waiting reflector now (back online). */
void		 kube_refs_kick(struct kube_refs *);

#endif
