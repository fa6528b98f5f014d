/*
 * The per-pod machine as its parts see it: pod_sync.c (the machine,
 * status, probes' results), pod_plan.c (what to do next, from the last
 * observation), pod_run.c (the runtime calls that observe and act) and
 * pod_gc.c (removals of what the pod no longer needs).
 */
#ifndef EDGESITE_POD_SYNC_H
#define EDGESITE_POD_SYNC_H

#include <sys/queue.h>

#include <stdint.h>

#include "core/backoff.h"
#include "pod/pod_int.h"

enum pod_sync_event {
	POD_SYNC_EV_KICK,		/* something changed */
	POD_SYNC_EV_TIMER,		/* a back-off ended, or the resync */
	POD_SYNC_EV_OBSERVED,		/* lists and statuses are in */
	POD_SYNC_EV_OBSERVE_FAILED,	/* the runtime did not answer */
	POD_SYNC_EV_ACTED,		/* every call of the plan is back */
};

/* What the machine knows of one container besides the runtime. */
struct pod_ctr {
	char			*name;
	/* restart back-off, as a kubelet's: 10 s doubling to 5 min */
	uint64_t		 backoff_ms;	/* 0: no restart yet */
	int64_t			 backoff_at_ns;	/* the exit it counted */
	/* image pull back-off */
	uint64_t		 pull_ms;
	uint64_t		 pull_until;	/* monotonic ms */
	/* a config or create error waits until then (monotonic ms) */
	uint64_t		 config_retry;
	/* why it waits, for the status; NULL when it does not */
	char			*reason;
	char			*message;
	/* probes of the running instance */
	char			*probe_cid;
	struct pod_probe	*probe[3];	/* liveness, readiness, start */
	int			 ready;
	int			 started;
	int			 unhealthy;	/* liveness or startup failed */
	/* the last event told, not to repeat it every pass */
	char			*last_event;
};

/* Kinds of runtime call (or chain of calls) the machine makes. */
enum pod_op_kind {
	POD_OP_LIST_SANDBOXES,
	POD_OP_LIST_CONTAINERS,
	POD_OP_CONTAINER_STATUS,
	POD_OP_SANDBOX_STATUS,
	POD_OP_RUN_SANDBOX,
	POD_OP_STOP_SANDBOX,
	POD_OP_REMOVE_SANDBOX,
	POD_OP_START,		/* image, create, start a new instance */
	POD_OP_RESTART,		/* start an instance created but not started */
	POD_OP_KILL,		/* preStop hook, then stop */
	POD_OP_REMOVE,		/* remove a container */
};

/* One decision of a plan. */
struct pod_action {
	enum pod_op_kind	 kind;
	char			*cname;		/* container name */
	char			*id;		/* container or sandbox id */
	uint32_t		 attempt;
	int64_t			 grace;		/* seconds, for KILL */
	int			 hook;		/* KILL: run preStop first */
};

/* What the plan decided. */
struct pod_plan {
	struct pod_action	*v;
	size_t			 n;
	uint64_t		 wake_ms;	/* look again in, 0: resync */
	int			 done;		/* nothing left: the end */
	const char		*phase;		/* status override, or NULL */
	const char		*reason;
	const char		*message;
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
	int			 finalized;
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
/*
 * The pod is gone from the runtime: forgets its status (p/) and, for a
 * cluster pod whose deletion the apiserver asked for, records the delete
 * with grace period 0 for upstream, in the same batch. Once per pod.
 */
void		 pod_sync_finalize(struct pod_sync *);
void		 pod_sync_probes(struct pod_sync *);
void		 pod_sync_refs_changed(struct pod_sync *);

/* pod_plan.c */
void		 pod_plan_compute(struct pod_sync *, struct pod_plan *);
void		 pod_plan_clear(struct pod_plan *);
void		 pod_plan_add(struct pod_plan *, enum pod_op_kind,
		    const char *cname, const char *id, uint32_t attempt,
		    int64_t grace);

/* pod_run.c */
void		 pod_run_observe(struct pod_sync *);
void		 pod_run_start(struct pod_sync *, const struct pod_plan *);
void		 pod_run_cancel_all(struct pod_sync *);

#endif
