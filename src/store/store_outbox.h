/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox key family (STORE_KEY_OUTBOX in store_keys.h): x/<target>
 * holds one upstream write as {"method","path","contentType","body"}, one
 * per target, a newer record replacing an older one. A room that wants something written upstream
 * adds the record to the same store_batch as the local state it comes
 * from, so both commit together or neither does; the kube room
 * (kube_outbox.c) subscribes to x/ and sends. Nothing else writes x/,
 * and nobody writes it when standalone (no one would send it).
 *
 * Targets: pods/<ns>/<name>/status, pods/<ns>/<name>/delete,
 * pods/<ns>/<name>/mirror, devices/<ns>/<name>/status and
 * events/<ns>/<event name> (each Event its own record).
 * Every builder returns 0, or -1 when a name is not a DNS name or an
 * argument is unusable (nothing is added; the caller logs).
 */
#ifndef EDGESITE_STORE_OUTBOX_H
#define EDGESITE_STORE_OUTBOX_H

#include <time.h>

struct store_batch;

/* Targets of Event records start with this. */
#define STORE_OUTBOX_EVENTS	"events/"

/* One record as stored; the strings are the caller's to free. */
struct store_outbox_rec {
	char	*method;
	char	*path;
	char	*content_type;	/* NULL when there is no body */
	char	*body;		/* may be NULL */
};

/* Adds the record for target to b; body and content_type may be NULL. */
int	store_outbox_add(struct store_batch *b, const char *target,
	    const char *method, const char *path, const char *content_type,
	    const char *body);
/* Adds the delete of x/<target> to b (the write is no longer wanted). */
void	store_outbox_withdraw(struct store_batch *b, const char *target);
/*
 * Parses a stored record into rec. 0, or -1 with *errstr (static) when it
 * is not JSON or lacks a method or a path.
 */
int	store_outbox_parse(const char *val, size_t len,
	    struct store_outbox_rec *rec, const char **errstr);
/* Frees the strings of a parsed record. */
void	store_outbox_rec_clear(struct store_outbox_rec *rec);

/*
 * Pod status: a merge patch of pods/<name>/status whose metadata.uid
 * makes it fail (409) when the pod was recreated meanwhile. status_json
 * is the status object as JSON text.
 */
int	store_outbox_pod_status(struct store_batch *b, const char *ns,
	    const char *name, const char *uid, const char *status_json);
/* Pod deletion with grace period 0 and a uid precondition, as a kubelet. */
int	store_outbox_pod_delete(struct store_batch *b, const char *ns,
	    const char *name, const char *uid);
/* Creation (POST) of a mirror pod; pod_json is the whole pod object. */
int	store_outbox_mirror_create(struct store_batch *b, const char *ns,
	    const char *name, const char *pod_json);
/*
 * Merge patch of a Device's status (devices.kubeedge.io v1alpha1); rv is
 * the resourceVersion it was computed from (the patch fails when the
 * Device changed since) or NULL.
 */
int	store_outbox_device_status(struct store_batch *b, const char *ns,
	    const char *name, const char *rv, const char *status_json);

/* The object an Event is about. */
struct store_outbox_ref {
	const char	*api_version;	/* "v1" */
	const char	*kind;		/* "Pod", "Node" */
	const char	*ns;		/* NULL or "" when cluster-scoped */
	const char	*name;
	const char	*uid;		/* may be NULL */
	const char	*field_path;	/* "spec.containers{app}", or NULL */
};
/*
 * A core/v1 Event in ns, from the kubelet on host, named as a kubelet
 * names it (<object>.<now in ns, hex>) and stamped with now, so a resend
 * after a crash meets 409 AlreadyExists instead of making a duplicate.
 * type is "Normal" or "Warning".
 */
int	store_outbox_event(struct store_batch *b, const char *ns,
	    const struct store_outbox_ref *ref, const char *host,
	    const char *type, const char *reason, const char *message,
	    const struct timespec *now);

#endif
