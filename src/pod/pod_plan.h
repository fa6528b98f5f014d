/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod planner's interface: what it reads (struct pod_plan_in: the
 * desired pod, what the machine remembers of it, the last observation of
 * the runtime and the clock) and what it decides (struct pod_plan: an
 * ordered list of actions, a wake time and a status override). The
 * planner (pod_plan.c) does no I/O and keeps no state; the machine
 * (pod_sync.c) applies the notes and pod_run.c executes the rest.
 */
#ifndef EDGESITE_POD_PLAN_H
#define EDGESITE_POD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "pod/pod_int.h"

/* How long a failed volume setup waits before the next try. */
#define POD_PLAN_MOUNT_RETRY_MS	10000

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
	/* the last event told ("reason message"), not to repeat it */
	char			*last_event;
};

/* Kinds of action: runtime calls first, then local steps. */
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
	/* local steps, done before the calls in the order planned */
	POD_OP_SETUP_VOLUMES,	/* on failure the rest of the plan is dropped */
	POD_OP_EVENT,		/* with cname: remembered as its last event */
	POD_OP_SET_WAITING,	/* why cname waits (reason NULL: it does not) */
	POD_OP_BACKOFF,		/* cname's restart back-off */
	POD_OP_BEGIN_TERMINATION,
	/* the end of a machine (plan done), in this order */
	POD_OP_TEARDOWN,	/* remove the folder id, in steps */
	POD_OP_FORGET_STATUS,
	POD_OP_FINALIZE,	/* confirm the deletion upstream */
};

/* One decision of a plan. */
struct pod_action {
	enum pod_op_kind	 kind;
	char			*cname;		/* container name */
	char			*id;		/* container, sandbox or folder */
	uint32_t		 attempt;
	int64_t			 grace;		/* seconds: KILL, termination */
	int			 hook;		/* KILL: run preStop first */
	const char		*type;		/* EVENT: static string */
	const char		*reason;	/* EVENT, SET_WAITING: static */
	char			*field;		/* EVENT: fieldPath, or NULL */
	char			*message;	/* EVENT, SET_WAITING */
	/*
	 * BACKOFF: the back-off; BEGIN_TERMINATION: the deadline (monotonic
	 * ms); SETUP_VOLUMES: the wake if it fails (0: the mount retry)
	 */
	uint64_t		 ms;
	int64_t			 at_ns;		/* BACKOFF: the exit it counted */
	uint64_t		 waited_ms;	/* BACKOFF: waited, 0: at once */
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

/* What the planner reads; nothing of it is changed. */
struct pod_plan_in {
	const cJSON			*pod;		/* NULL: an orphan */
	const char			*uid;
	const char			*ns;
	const char			*name;
	const char			*state_dir;	/* pod folders under it */
	int				 is_static;
	int				 cluster;	/* from the apiserver */
	int				 stored;	/* the key holds it */
	int				 deleting;
	int				 invalid;
	const char			*invalid_msg;
	const char			*prior_phase;	/* last status */
	const struct pod_observed	*obs;
	const struct pod_ctr		*ctrs;		/* notes */
	size_t				 nctrs;
	int				 terminating;
	uint64_t			 term_deadline;	/* monotonic ms */
	uint64_t			 sandbox_until;	/* monotonic ms */
	uint64_t			 mount_retry;	/* monotonic ms */
	int64_t				 max_dead;	/* per container */
	uint64_t			 now_ms;	/* monotonic */
	int64_t				 now_ns;	/* wall clock */
};

/* pod_plan.c */
void	 pod_plan_compute(const struct pod_plan_in *, struct pod_plan *);
void	 pod_plan_clear(struct pod_plan *);
void	 pod_plan_drop(struct pod_plan *, size_t from);
struct pod_action *pod_plan_add(struct pod_plan *, enum pod_op_kind,
	    const char *cname, const char *id, uint32_t attempt,
	    int64_t grace);
size_t	 pod_plan_calls(const struct pod_plan *);
int	 pod_plan_is_call(enum pod_op_kind);
const char *pod_plan_op_name(enum pod_op_kind);

/* pod_gc.c: removals of dead containers and old sandboxes of a live pod. */
void	 pod_gc_plan(const struct pod_observed *, int64_t keep,
	    struct pod_plan *);

#endif
