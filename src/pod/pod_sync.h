/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-pod machine as its parts see it: pod_sync.c (the machine, its
 * notes, status, probes' results), pod_run.c (the plan's execution:
 * runtime calls that observe and act, volume setup, folder removal in
 * steps), pod_probe.c (the probes a machine owns) and pod.c (the room
 * that kicks the machines). What to do next is decided by pod_plan.c, a
 * pure function of the pod, the notes, the last observation and the
 * clock, which sees only pod_plan.h (as pod_gc.c does).
 */
#ifndef EDGESITE_POD_SYNC_H
#define EDGESITE_POD_SYNC_H

#include <sys/queue.h>

#include <stdint.h>

#include "core/backoff.h"
#include "pod/pod_int.h"
#include "pod/pod_plan.h"

enum pod_sync_event {
	POD_SYNC_EV_KICK,		/* something changed */
	POD_SYNC_EV_TIMER,		/* a back-off ended, or the resync */
	POD_SYNC_EV_OBSERVED,		/* lists and statuses are in */
	POD_SYNC_EV_OBSERVE_FAILED,	/* the runtime did not answer */
	POD_SYNC_EV_ACTED,		/* every call of the plan is back */
	POD_SYNC_EV_CLEANED,		/* the folders of an ending pod are gone */
};

struct pod_op;

struct pod_sync {
	TAILQ_ENTRY(pod_sync)	 entry;		/* the room's list */
	struct pod_room		*room;
	char			*uid;
	char			*key;		/* store key, NULL: orphan */
	char			*ns;
	char			*name;
	char			*label;		/* "pod ns/name" for logs */
	int			 is_static;
	cJSON			*pod;		/* last stored, NULL: orphan */
	int			 stored;	/* the key still holds it */
	int			 invalid;
	char			 invalid_msg[256];
	enum pod_sync_state	 state;
	struct event		*ev_timer;
	struct event		*ev_kick;
	struct event		*ev_step;	/* folder removal, pod_run.c */
	int			 kicked;	/* a kick came while busy */
	struct backoff		 retry;		/* observation failures */
	struct backoff		 sandbox_retry;	/* RunPodSandbox failures */
	uint64_t		 sandbox_until;	/* monotonic ms */
	/* observation */
	struct pod_observed	 obs;		/* the last complete one */
	struct pod_observed	 next;		/* being gathered */
	int			 obs_failed;
	int			 act_failed;	/* a call of the round failed */
	size_t			 pending;	/* calls in flight */
	TAILQ_HEAD(, pod_op)	 ops;
	/* per container */
	struct pod_ctr		*ctrs;
	size_t			 nctrs;
	/* volumes */
	char			*mount_err;	/* last FailedMount told */
	uint64_t		 mount_retry;
	/* termination */
	int			 terminating;
	uint64_t		 term_deadline;	/* monotonic ms */
	struct pod_plan		 end;		/* ENDING: what is left */
	/* status */
	cJSON			*status;	/* last stored */
	int			 status_dirty;	/* store or outbox refused it */
	char			*fingerprint;	/* from the last relist */
	int			 dns_warned;
};

/* pod_sync.c */
void		 pod_sync_arm(struct pod_sync *, uint64_t ms);
void		 pod_sync_done(struct pod_sync *, enum pod_sync_event);
struct pod_ctr	*pod_sync_ctr(struct pod_sync *, const char *name);
void		 pod_sync_ctr_probes_stop(struct pod_ctr *);
void		 pod_sync_ctr_wait(struct pod_ctr *, const char *reason,
		    const char *msg);
int		 pod_sync_deleting(const struct pod_sync *);
const cJSON	*pod_sync_container_spec(const struct pod_sync *,
		    const char *name, int *init);
void		 pod_sync_ctx(struct pod_sync *, struct pod_ctx *);
void		 pod_sync_status(struct pod_sync *, const struct pod_plan *);
void		 pod_sync_probes(struct pod_sync *);
void		 pod_sync_refs_changed(struct pod_sync *);
void		 pod_sync_note(struct pod_sync *, const struct pod_action *);

/* pod_run.c */
void		 pod_run_observe(struct pod_sync *);
void		 pod_run_local(struct pod_sync *, struct pod_plan *);
void		 pod_run_start(struct pod_sync *, const struct pod_plan *);
void		 pod_run_teardown(struct pod_sync *, const struct pod_plan *);
void		 pod_run_cancel_all(struct pod_sync *);

#endif
