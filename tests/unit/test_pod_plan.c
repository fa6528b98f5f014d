/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod planner, table-driven, modelled on what a kubelet's
 * computePodActions decides (kuberuntime_manager.go and its
 * TestComputePodActions): first start, init containers in order, restart
 * policies, crash and image pull back-off, spec changes, probe failures,
 * sandboxes gone, replaced or doubled, deletion with grace, the end of a
 * pod, static pods, adoption after a restart, finished pods, invalid
 * specs and orphans. Each case is a row: the pod, what runs, the notes the
 * machine keeps and the clock; then the exact actions, wake time and
 * status override the plan must hold.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/pod_plan.h"
#include "unit.h"

#define SEC		1000000000LL
#define NOW_MS		1000000ULL		/* monotonic */
#define NOW_NS		(100000LL * SEC)	/* wall clock */
#define STATE_DIR	"/var/lib/edgesite"

/* Pods, as the store holds them. */
#define META	"\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"," \
		"\"uid\":\"u1\"}"
#define DMETA	"\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"," \
		"\"uid\":\"u1\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"," \
		"\"deletionGracePeriodSeconds\":6}"
#define APP	"{\"name\":\"app\",\"image\":\"busybox\"}"
#define APP_PRESTOP "{\"name\":\"app\",\"image\":\"busybox\",\"lifecycle\":" \
		"{\"preStop\":{\"exec\":{\"command\":[\"true\"]}}}}"
#define POD(rp)	"{" META ",\"spec\":{\"restartPolicy\":\"" rp "\"," \
		"\"containers\":[" APP "]}}"
#define POD_ALWAYS	POD("Always")
#define POD_ONFAILURE	POD("OnFailure")
#define POD_NEVER	POD("Never")
#define POD_TWO(rp) "{" META ",\"spec\":{\"restartPolicy\":\"" rp "\"," \
		"\"containers\":[{\"name\":\"a\",\"image\":\"busybox\"}," \
		"{\"name\":\"b\",\"image\":\"busybox\"}]}}"
#define POD_INIT(rp) "{" META ",\"spec\":{\"restartPolicy\":\"" rp "\"," \
		"\"initContainers\":[{\"name\":\"i1\",\"image\":\"busybox\"}," \
		"{\"name\":\"i2\",\"image\":\"busybox\"}]," \
		"\"containers\":[" APP "]}}"
#define POD_PRESTOP "{" META ",\"spec\":{\"terminationGracePeriodSeconds\":" \
		"7,\"containers\":[" APP_PRESTOP "]}}"
#define POD_DELETED "{" DMETA ",\"spec\":{\"containers\":[" APP_PRESTOP "]}}"
#define POD_BADIMAGE "{" META ",\"spec\":{\"containers\":[{\"name\":" \
		"\"app\",\"image\":\"not a valid image\"}]}}"

/* An observed sandbox. */
struct tc_sb {
	const char	*id;
	uint32_t	 attempt;
	int		 ready;
};

/* An observed container instance; id is "<name>-<attempt>". */
struct tc_ctr {
	const char	*name;
	uint32_t	 attempt;
	char		 state;		/* c(reated) r(unning) x(exited) */
	int32_t		 code;
	const char	*sb;		/* NULL: "sb0" */
	int64_t		 fin_ago_s;	/* exited that long ago */
	const char	*hash;		/* NULL: not compared */
	int		 nostatus;	/* the exit is not known yet */
	int64_t		 grace_s;	/* its label, 0: none */
};

/* A note of the machine on a container; times relative to now. */
struct tc_note {
	const char	*name;
	uint64_t	 backoff_ms;
	int64_t		 backoff_ago_s;	/* the exit it counted */
	uint64_t	 pull_ms;
	int64_t		 pull_left_ms;
	int64_t		 config_left_ms;
	const char	*reason;
	const char	*last_event;
	const char	*probe_cid;
	int		 unhealthy;
	int		 started;
};

/* An expected action; ms is relative to now for BEGIN_TERMINATION. */
struct tc_op {
	enum pod_op_kind	 kind;
	const char		*cname;
	const char		*id;
	uint32_t		 attempt;
	int64_t			 grace;
	int			 hook;
	const char		*reason;	/* EVENT, SET_WAITING */
	uint64_t		 ms;		/* BACKOFF, BEGIN_TERMINATION */
	const char		*message;	/* NULL: not compared */
};

struct tc {
	const char	*title;
	const char	*pod;		/* NULL: an orphan */
	struct tc_sb	 sb[3];
	struct tc_ctr	 c[5];
	struct tc_note	 notes[2];
	int		 gone;		/* no longer stored */
	int		 cluster;
	int		 is_static;
	int		 invalid;
	const char	*prior_phase;
	int		 terminating;
	int64_t		 deadline_left_ms;
	int64_t		 sandbox_left_ms;
	int64_t		 mount_left_ms;
	struct tc_op	 want[8];
	uint64_t	 wake_ms;
	int		 done;
	const char	*phase;
};

#define SB0		{ "sb0", 0, 1 }
#define SB0_DEAD	{ "sb0", 0, 0 }
#define SB1		{ "sb1", 1, 1 }
#define SETUP		{ POD_OP_SETUP_VOLUMES }
#define START(n, a)	{ POD_OP_START, n, NULL, a }
#define BACKOFF(n, v)	{ POD_OP_BACKOFF, n, .ms = v }
#define WAITING(n, r)	{ POD_OP_SET_WAITING, n, .reason = r }
#define EVENT(n, r)	{ POD_OP_EVENT, n, .reason = r }
#define KILL(n, id, a, g, h) { POD_OP_KILL, n, id, a, g, h }
#define STOP_SB(id)	{ POD_OP_STOP_SANDBOX, NULL, id }
#define REMOVE_SB(id)	{ POD_OP_REMOVE_SANDBOX, NULL, id }
#define BEGIN(g)	{ POD_OP_BEGIN_TERMINATION, .grace = g, \
			    .ms = (uint64_t)(g) * 1000 }
#define TEARDOWN_POD	{ POD_OP_TEARDOWN, NULL, STATE_DIR "/pods/u1" }
#define TEARDOWN_LOGS	{ POD_OP_TEARDOWN, NULL, \
			    POD_LOG_ROOT "/default_web_u1" }
#define FORGET		{ POD_OP_FORGET_STATUS }
#define FINALIZE	{ POD_OP_FINALIZE }
#define CRASH_MSG	"Back-off restarting failed container app in pod " \
			"web_default(u1)"

static const struct tc cases[] = {
	/* first start */
	{ "first start: a new sandbox at attempt 0", POD_ALWAYS,
	  .want = { SETUP, { POD_OP_RUN_SANDBOX, NULL, NULL, 0 } } },
	{ "sandbox ready: every container starts at attempt 0",
	  POD_TWO("Always"), .sb = { SB0 },
	  .want = { SETUP, START("a", 0), START("b", 0) } },
	{ "everything runs: only the volumes are refreshed", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 0, 'r' } }, .want = { SETUP } },
	{ "Never, nothing ever created: the sandbox is made", POD_NEVER,
	  .want = { SETUP, { POD_OP_RUN_SANDBOX, NULL, NULL, 0 } } },
	/* init containers */
	{ "init: the first one starts alone", POD_INIT("Always"),
	  .sb = { SB0 }, .want = { SETUP, START("i1", 0) } },
	{ "init: the second starts after the first succeeded",
	  POD_INIT("Always"), .sb = { SB0 },
	  .c = { { "i1", 0, 'x', 0 } }, .want = { SETUP, START("i2", 0) } },
	{ "init: a running one holds the rest", POD_INIT("Always"),
	  .sb = { SB0 }, .c = { { "i1", 0, 'r' } }, .want = { SETUP } },
	{ "init: all succeeded, the containers start", POD_INIT("Always"),
	  .sb = { SB0 }, .c = { { "i1", 0, 'x', 0 }, { "i2", 0, 'x', 0 } },
	  .want = { SETUP, START("app", 0) } },
	{ "init: created but not started, it is started",
	  POD_INIT("Always"), .sb = { SB0 }, .c = { { "i1", 0, 'c' } },
	  .want = { SETUP, { POD_OP_RESTART, "i1", "i1-0", 0 } } },
	{ "init failed, Always: restarted after the first back-off",
	  POD_INIT("Always"), .sb = { SB0 },
	  .c = { { "i1", 0, 'x', 1, .fin_ago_s = 1 } },
	  .want = { SETUP, BACKOFF("i1", 10000), START("i1", 1) } },
	{ "init failed, OnFailure: restarted", POD_INIT("OnFailure"),
	  .sb = { SB0 }, .c = { { "i1", 0, 'x', 1, .fin_ago_s = 1 } },
	  .want = { SETUP, BACKOFF("i1", 10000), START("i1", 1) } },
	{ "init failed, Never: the pod failed, its sandbox stops",
	  POD_INIT("Never"), .sb = { SB0 }, .c = { { "i1", 0, 'x', 1 } },
	  .want = { STOP_SB("sb0") } },
	{ "init exited, status not known yet: nothing", POD_INIT("Always"),
	  .sb = { SB0 }, .c = { { "i1", 0, 'x', 1, .nostatus = 1 } },
	  .want = { SETUP } },
	/* restart policies */
	{ "Always, exit 0: restarted", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 0, 'x', 0, .fin_ago_s = 1 } },
	  .want = { SETUP, BACKOFF("app", 10000), START("app", 1) } },
	{ "Always, exit 1: restarted", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 0, 'x', 1, .fin_ago_s = 1 } },
	  .want = { SETUP, BACKOFF("app", 10000), START("app", 1) } },
	{ "OnFailure, exit 0: Succeeded, the sandbox stops", POD_ONFAILURE,
	  .sb = { SB0 }, .c = { { "app", 0, 'x', 0 } },
	  .want = { STOP_SB("sb0") } },
	{ "OnFailure, exit 1: restarted", POD_ONFAILURE, .sb = { SB0 },
	  .c = { { "app", 0, 'x', 1, .fin_ago_s = 1 } },
	  .want = { SETUP, BACKOFF("app", 10000), START("app", 1) } },
	{ "OnFailure, one succeeded, one runs: nothing",
	  POD_TWO("OnFailure"), .sb = { SB0 },
	  .c = { { "a", 0, 'x', 0 }, { "b", 0, 'r' } }, .want = { SETUP } },
	{ "Never, exit 0: finished, the sandbox stops", POD_NEVER,
	  .sb = { SB0 }, .c = { { "app", 0, 'x', 0 } },
	  .want = { STOP_SB("sb0") } },
	{ "Never, exit 1: finished, the sandbox stops", POD_NEVER,
	  .sb = { SB0 }, .c = { { "app", 0, 'x', 1 } },
	  .want = { STOP_SB("sb0") } },
	{ "Never, one failed, one runs: nothing restarted", POD_TWO("Never"),
	  .sb = { SB0 }, .c = { { "a", 0, 'x', 1 }, { "b", 0, 'r' } },
	  .want = { SETUP } },
	{ "Never, all exited, no ready sandbox: no new sandbox", POD_NEVER,
	  .sb = { SB0_DEAD }, .c = { { "app", 0, 'x', 0 } } },
	/* crash back-off */
	{ "back-off: within 10 s it waits, CrashLoopBackOff", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 1, 'x', 1, .fin_ago_s = 3 } },
	  .notes = { { "app", 10000, .backoff_ago_s = 30 } },
	  .want = { SETUP, { POD_OP_SET_WAITING, "app", .reason =
	  "CrashLoopBackOff", .message = "back-off 10s restarting failed "
	  "container=app pod=web_default(u1)" }, { POD_OP_EVENT, "app",
	  .reason = "BackOff", .message = CRASH_MSG } }, .wake_ms = 7000 },
	{ "back-off: after 10 s the restart doubles it to 20 s", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 1, 'x', 1, .fin_ago_s = 12 } },
	  .notes = { { "app", 10000, .backoff_ago_s = 30 } },
	  .want = { SETUP, BACKOFF("app", 20000), START("app", 2) } },
	{ "back-off: 20 s waits 20 s", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 2, 'x', 1, .fin_ago_s = 5 } },
	  .notes = { { "app", 20000, .backoff_ago_s = 40 } },
	  .want = { SETUP, WAITING("app", "CrashLoopBackOff"),
	  EVENT("app", "BackOff") }, .wake_ms = 15000 },
	{ "back-off: capped at 300 s", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 5, 'x', 1, .fin_ago_s = 170 } },
	  .notes = { { "app", 160000, .backoff_ago_s = 400 } },
	  .want = { SETUP, BACKOFF("app", 300000), START("app", 6) } },
	{ "back-off: at the cap it stays 300 s", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 6, 'x', 1, .fin_ago_s = 301 } },
	  .notes = { { "app", 300000, .backoff_ago_s = 500 } },
	  .want = { SETUP, BACKOFF("app", 300000), START("app", 7) } },
	{ "back-off: reset after 10 min of running", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 6, 'x', 1, .fin_ago_s = 1 } },
	  .notes = { { "app", 300000, .backoff_ago_s = 700 } },
	  .want = { SETUP, BACKOFF("app", 10000), START("app", 7) } },
	{ "back-off: an exit already counted restarts at once", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 1, 'x', 1, .fin_ago_s = 3 } },
	  .notes = { { "app", 10000, .backoff_ago_s = 3 } },
	  .want = { SETUP, START("app", 2) } },
	{ "back-off: its event is told once", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 1, 'x', 1, .fin_ago_s = 3 } },
	  .notes = { { "app", 10000, .backoff_ago_s = 30, .last_event =
	  "BackOff " CRASH_MSG } },
	  .want = { SETUP, WAITING("app", "CrashLoopBackOff") },
	  .wake_ms = 7000 },
	{ "back-off: a reason whose retry passed is cleared", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 1, 'r' } },
	  .notes = { { "app", 10000, .backoff_ago_s = 30, .reason =
	  "CrashLoopBackOff" } },
	  .want = { WAITING("app", NULL), SETUP } },
	/* image pull and config errors */
	{ "pull back-off: ImagePullBackOff until it ends", POD_ALWAYS,
	  .sb = { SB0 }, .notes = { { "app", .pull_ms = 10000,
	  .pull_left_ms = 6000, .reason = "ImagePullBackOff" } },
	  .want = { SETUP, WAITING("app", "ImagePullBackOff"),
	  { POD_OP_EVENT, "app", .reason = "BackOff", .message =
	  "Back-off pulling image \"busybox\"" } }, .wake_ms = 6000 },
	{ "pull back-off: a fresh ErrImagePull shows for 2 s", POD_ALWAYS,
	  .sb = { SB0 }, .notes = { { "app", .pull_ms = 10000,
	  .pull_left_ms = 9000, .reason = "ErrImagePull" } },
	  .want = { SETUP }, .wake_ms = 1000 },
	{ "pull back-off over: pulled again", POD_ALWAYS, .sb = { SB0 },
	  .notes = { { "app", .pull_ms = 10000, .pull_left_ms = -1,
	  .reason = "ImagePullBackOff" } },
	  .want = { WAITING("app", NULL), SETUP, START("app", 0) } },
	{ "invalid image name: InvalidImageName, never started",
	  POD_BADIMAGE, .sb = { SB0 },
	  .want = { SETUP, WAITING("app", "InvalidImageName"),
	  EVENT("app", "InspectFailed") } },
	{ "config error: waits for its retry", POD_ALWAYS, .sb = { SB0 },
	  .notes = { { "app", .config_left_ms = 4000, .reason =
	  "CreateContainerConfigError" } },
	  .want = { SETUP }, .wake_ms = 4000 },
	/* spec changes and probes */
	{ "spec changed (hash): killed, to be restarted", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 0, 'r', .hash = "0123456789abcdef" } },
	  .want = { SETUP, { POD_OP_EVENT, "app", .reason = "Killing",
	  .message = "Container app definition changed, will be restarted" },
	  KILL("app", "app-0", 0, 30, 0) } },
	{ "spec changed with a preStop hook: hook first, pod's grace",
	  POD_PRESTOP, .sb = { SB0 },
	  .c = { { "app", 0, 'r', .hash = "0123456789abcdef" } },
	  .want = { SETUP, EVENT("app", "Killing"),
	  KILL("app", "app-0", 0, 7, 1) } },
	{ "liveness failed: killed", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 0, 'r' } }, .notes = { { "app", .probe_cid =
	  "app-0", .unhealthy = 1, .started = 1 } },
	  .want = { SETUP, { POD_OP_EVENT, "app", .reason = "Killing",
	  .message = "Container app failed liveness probe, will be "
	  "restarted" }, KILL("app", "app-0", 0, 30, 0) } },
	{ "startup failed: killed", POD_ALWAYS, .sb = { SB0 },
	  .c = { { "app", 0, 'r' } }, .notes = { { "app", .probe_cid =
	  "app-0", .unhealthy = 1 } },
	  .want = { SETUP, { POD_OP_EVENT, "app", .reason = "Killing",
	  .message = "Container app failed startup probe, will be "
	  "restarted" }, KILL("app", "app-0", 0, 30, 0) } },
	{ "a failed probe of an older instance: nothing", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 1, 'r' } }, .notes = { { "app",
	  .probe_cid = "app-0", .unhealthy = 1, .started = 1 } },
	  .want = { SETUP } },
	/* sandboxes */
	{ "sandbox gone: a new one at the next attempt, SandboxChanged",
	  POD_ALWAYS, .sb = { SB0_DEAD }, .c = { { "app", 0, 'x', 137 } },
	  .want = { SETUP, EVENT(NULL, "SandboxChanged"),
	  { POD_OP_RUN_SANDBOX, NULL, NULL, 1 } } },
	{ "sandbox not ready, a container runs in it: killed first",
	  POD_ALWAYS, .sb = { SB0_DEAD }, .c = { { "app", 0, 'r' } },
	  .want = { KILL("app", "app-0", 0, 30, 0) } },
	{ "sandbox creation backing off: it waits", POD_ALWAYS,
	  .sandbox_left_ms = 5000, .wake_ms = 5000 },
	{ "two ready sandboxes: the older one is stopped", POD_ALWAYS,
	  .sb = { SB0, SB1 }, .c = { { "app", 1, 'r', .sb = "sb1" } },
	  .want = { STOP_SB("sb0"), SETUP } },
	{ "a container in an old sandbox: killed, started in the new one",
	  POD_ALWAYS, .sb = { SB0_DEAD, SB1 }, .c = { { "app", 0, 'r' } },
	  .want = { KILL("app", "app-0", 0, 30, 0), SETUP,
	  START("app", 1) } },
	{ "a crash loop's back-off outlives its sandbox: the new one waits",
	  POD_ALWAYS, .sb = { SB0_DEAD, SB1 },
	  .c = { { "app", 2, 'x', 1, .fin_ago_s = 5 } },
	  .notes = { { "app", 20000, .backoff_ago_s = 40 } },
	  .want = { SETUP, WAITING("app", "CrashLoopBackOff"),
	  EVENT("app", "BackOff") }, .wake_ms = 15000 },
	{ "... and starts in it at attempt 3 once the 20 s are over",
	  POD_ALWAYS, .sb = { SB0_DEAD, SB1 },
	  .c = { { "app", 2, 'x', 1, .fin_ago_s = 21 } },
	  .notes = { { "app", 20000, .backoff_ago_s = 40 } },
	  .want = { SETUP, BACKOFF("app", 40000), START("app", 3) } },
	{ "an old sandbox holding nothing current is removed", POD_ALWAYS,
	  .sb = { SB0_DEAD, SB1 }, .c = { { "app", 0, 'x', 0 },
	  { "app", 1, 'r', .sb = "sb1" } },
	  .want = { SETUP, REMOVE_SB("sb0") } },
	{ "dead instances beyond the limit are removed", POD_ALWAYS,
	  .sb = { SB0 }, .c = { { "app", 0, 'x', 1 }, { "app", 1, 'x', 1 },
	  { "app", 2, 'r' } },
	  .want = { SETUP, { POD_OP_REMOVE, "app", "app-0", 0 } } },
	{ "volumes failed: the round waits for the mount retry", POD_ALWAYS,
	  .sb = { SB0 }, .mount_left_ms = 3000, .wake_ms = 3000 },
	/* deletion */
	{ "deleted: preStop hook, grace from the deletion", POD_DELETED,
	  .cluster = 1, .sb = { SB0 }, .c = { { "app", 0, 'r' } },
	  .want = { BEGIN(6), KILL("app", "app-0", 0, 6, 1) } },
	{ "deleted: what is left of the grace", POD_DELETED, .cluster = 1,
	  .terminating = 1, .deadline_left_ms = 2500, .sb = { SB0 },
	  .c = { { "app", 0, 'r' } },
	  .want = { KILL("app", "app-0", 0, 3, 1) } },
	{ "deleted: past the deadline, the minimum 2 s", POD_DELETED,
	  .cluster = 1, .terminating = 1, .deadline_left_ms = -5000,
	  .sb = { SB0 }, .c = { { "app", 0, 'r' } },
	  .want = { KILL("app", "app-0", 0, 2, 1) } },
	{ "deleted: a created container is stopped without its hook",
	  POD_DELETED, .cluster = 1, .terminating = 1,
	  .deadline_left_ms = 6000, .sb = { SB0 }, .c = { { "app", 0, 'c' } },
	  .want = { KILL("app", "app-0", 0, 6, 0) } },
	{ "deleted: containers stopped, the sandbox stops", POD_DELETED,
	  .cluster = 1, .terminating = 1, .sb = { SB0 },
	  .c = { { "app", 0, 'x', 0 } }, .want = { STOP_SB("sb0") } },
	{ "deleted: sandbox stopped, it is removed", POD_DELETED,
	  .cluster = 1, .terminating = 1, .sb = { SB0_DEAD },
	  .c = { { "app", 0, 'x', 0 } }, .want = { REMOVE_SB("sb0") } },
	{ "deleted: a container of no sandbox is removed", POD_DELETED,
	  .cluster = 1, .terminating = 1,
	  .c = { { "app", 0, 'x', 0, .sb = "gone" } },
	  .want = { { POD_OP_REMOVE, "app", "app-0", 0 } } },
	{ "deleted, nothing runs: folders, status, deletion confirmed",
	  POD_DELETED, .cluster = 1,
	  .want = { BEGIN(6), TEARDOWN_POD, TEARDOWN_LOGS, FORGET,
	  FINALIZE }, .done = 1 },
	{ "gone from the store (no deletionTimestamp): not confirmed",
	  POD_ALWAYS, .cluster = 1, .gone = 1, .terminating = 1,
	  .want = { TEARDOWN_POD, TEARDOWN_LOGS, FORGET }, .done = 1 },
	{ "static pod removed: never confirmed upstream", POD_DELETED,
	  .is_static = 1, .terminating = 1,
	  .want = { TEARDOWN_POD, TEARDOWN_LOGS, FORGET }, .done = 1 },
	{ "static pod replaced (new uid): the old one stops in its grace",
	  POD_PRESTOP, .is_static = 1, .gone = 1, .sb = { SB0 },
	  .c = { { "app", 0, 'r' } },
	  .want = { BEGIN(7), KILL("app", "app-0", 0, 7, 1) } },
	/* adoption after a restart of edgesite */
	{ "adopted: instances at attempt 3, no notes: nothing restarted",
	  POD_ALWAYS, .sb = { { "sb0", 2, 1 } }, .c = { { "app", 3, 'r' } },
	  .want = { SETUP } },
	{ "adopted: an exited instance at attempt 3 starts attempt 4",
	  POD_ALWAYS, .sb = { { "sb0", 2, 1 } },
	  .c = { { "app", 3, 'x', 1, .fin_ago_s = 100 } },
	  .want = { SETUP, BACKOFF("app", 10000), START("app", 4) } },
	/* finished and invalid pods */
	{ "Succeeded: containers kept, the sandbox stops", POD_ALWAYS,
	  .prior_phase = "Succeeded", .sb = { SB0 },
	  .c = { { "app", 0, 'x', 0 } }, .want = { STOP_SB("sb0") } },
	{ "Failed, sandbox stopped: nothing more", POD_ALWAYS,
	  .prior_phase = "Failed", .sb = { SB0_DEAD },
	  .c = { { "app", 0, 'x', 1 } } },
	{ "invalid spec: Failed, InvalidSpec, what runs is stopped",
	  POD_ALWAYS, .invalid = 1, .sb = { SB0 },
	  .c = { { "app", 0, 'r' } },
	  .want = { KILL("app", "app-0", 0, 30, 0) }, .phase = "Failed" },
	{ "invalid spec, nothing runs: no calls", POD_ALWAYS, .invalid = 1,
	  .phase = "Failed" },
	/* orphans */
	{ "orphan: its containers stop within their own grace", NULL,
	  .sb = { SB0 }, .c = { { "app", 0, 'r', .grace_s = 12 } },
	  .want = { BEGIN(12), KILL("app", "app-0", 0, 12, 0) } },
	{ "orphan, nothing left: folders and status, no confirmation", NULL,
	  .terminating = 1,
	  .want = { TEARDOWN_POD, TEARDOWN_LOGS, FORGET }, .done = 1 },
};

/* Milliseconds relative to now, as a monotonic time (0 stays 0). */
static uint64_t
rel_ms(int64_t left)
{
	return left == 0 ? 0 : (uint64_t)((int64_t)NOW_MS + left);
}

/* The observation of a case. */
static void
build_obs(const struct tc *t, struct pod_observed *o)
{
	const struct tc_ctr	*c;
	struct pod_cinst	*ci;
	char			 id[64];
	size_t			 i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < 3 && t->sb[i].id != NULL; i++) {
		o->sb = realloc(o->sb, (o->nsb + 1) * sizeof(*o->sb));
		memset(&o->sb[o->nsb], 0, sizeof(*o->sb));
		o->sb[o->nsb].id = strdup(t->sb[i].id);
		o->sb[o->nsb].attempt = t->sb[i].attempt;
		o->sb[o->nsb].ready = t->sb[i].ready;
		o->sb[o->nsb].created_ns = (1000 + i) * SEC;
		o->nsb++;
	}
	for (i = 0; i < 5 && t->c[i].name != NULL; i++) {
		c = &t->c[i];
		o->c = realloc(o->c, (o->nc + 1) * sizeof(*o->c));
		ci = &o->c[o->nc++];
		memset(ci, 0, sizeof(*ci));
		snprintf(id, sizeof(id), "%s-%u", c->name, c->attempt);
		ci->id = strdup(id);
		ci->name = strdup(c->name);
		ci->sandbox_id = strdup(c->sb != NULL ? c->sb : "sb0");
		ci->attempt = c->attempt;
		ci->state = c->state == 'c' ? POD_CSTATE_CREATED :
		    c->state == 'r' ? POD_CSTATE_RUNNING : POD_CSTATE_EXITED;
		ci->exit_code = c->code;
		ci->created_ns = (2000 + c->attempt) * SEC;
		if (c->state == 'x')
			ci->finished_ns = NOW_NS - c->fin_ago_s * SEC -
			    (c->fin_ago_s == 0 ? 50 * SEC : 0);
		ci->hash = c->hash != NULL ? strdup(c->hash) : NULL;
		ci->grace_s = c->grace_s > 0 ? c->grace_s : -1;
		ci->have_status = !c->nostatus;
	}
}

/* The notes of a case. */
static size_t
build_notes(const struct tc *t, struct pod_ctr *n)
{
	const struct tc_note	*s;
	size_t			 i;

	for (i = 0; i < 2 && t->notes[i].name != NULL; i++) {
		s = &t->notes[i];
		memset(&n[i], 0, sizeof(n[i]));
		n[i].name = (char *)s->name;
		n[i].backoff_ms = s->backoff_ms;
		n[i].backoff_at_ns = NOW_NS - s->backoff_ago_s * SEC;
		n[i].pull_ms = s->pull_ms;
		n[i].pull_until = rel_ms(s->pull_left_ms);
		n[i].config_retry = rel_ms(s->config_left_ms);
		n[i].reason = (char *)s->reason;
		n[i].last_event = (char *)s->last_event;
		n[i].probe_cid = (char *)s->probe_cid;
		n[i].unhealthy = s->unhealthy;
		n[i].started = s->started;
	}
	return i;
}

/* Whether two strings are equal, NULL equal to NULL. */
static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether an action is what the row expects. */
static int
op_matches(const struct pod_action *a, const struct tc_op *w)
{
	uint64_t	ms = a->ms;

	if (a->kind != w->kind || !same(a->cname, w->cname) ||
	    !same(a->id, w->id) || a->attempt != w->attempt ||
	    a->grace != w->grace || a->hook != w->hook)
		return 0;
	if ((a->kind == POD_OP_EVENT || a->kind == POD_OP_SET_WAITING) &&
	    !same(a->reason, w->reason))
		return 0;
	if (w->message != NULL && !same(a->message, w->message))
		return 0;
	if (a->kind == POD_OP_BEGIN_TERMINATION)
		ms -= NOW_MS;
	return ms == w->ms;
}

/* Prints a plan, for a failing case. */
static void
print_plan(const struct pod_plan *p)
{
	const struct pod_action	*a;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		a = &p->v[i];
		fprintf(stderr, "    %s cname=%s id=%s attempt=%u grace=%lld "
		    "hook=%d reason=%s ms=%llu msg=%s\n",
		    pod_plan_op_name(a->kind), a->cname ? a->cname : "-",
		    a->id ? a->id : "-", a->attempt, (long long)a->grace,
		    a->hook, a->reason ? a->reason : "-",
		    (unsigned long long)a->ms, a->message ? a->message : "-");
	}
	fprintf(stderr, "    wake %llu done %d phase %s\n",
	    (unsigned long long)p->wake_ms, p->done,
	    p->phase ? p->phase : "-");
}

/* The planner's input for a row (pod parsed by the caller, or NULL). */
static void
build_in(const struct tc *t, const cJSON *pod, struct pod_observed *obs,
    struct pod_ctr *notes, struct pod_plan_in *in)
{
	build_obs(t, obs);
	memset(in, 0, sizeof(*in));
	in->pod = pod;
	in->uid = "u1";
	in->ns = "default";
	in->name = "web";
	in->state_dir = STATE_DIR;
	in->is_static = t->is_static;
	in->cluster = t->cluster;
	in->stored = pod != NULL && !t->gone;
	in->deleting = pod == NULL || t->gone || json_get_string(pod,
	    "metadata.deletionTimestamp") != NULL;
	in->invalid = t->invalid;
	in->invalid_msg = t->invalid ? "spec.containers[0].name: Required" :
	    "";
	in->prior_phase = t->prior_phase;
	in->obs = obs;
	in->ctrs = notes;
	in->nctrs = build_notes(t, notes);
	in->terminating = t->terminating;
	in->term_deadline = rel_ms(t->deadline_left_ms);
	in->sandbox_until = rel_ms(t->sandbox_left_ms);
	in->mount_retry = rel_ms(t->mount_left_ms);
	in->max_dead = 1;
	in->now_ms = NOW_MS;
	in->now_ns = NOW_NS;
}

/* Plans one row and compares. */
static void
run_case(const struct tc *t)
{
	struct pod_plan_in	 in;
	struct pod_observed	 obs;
	struct pod_ctr		 notes[2];
	struct pod_plan		 plan;
	cJSON			*pod = NULL;
	const char		*errstr;
	size_t			 nwant, i;
	int			 ok;

	if (t->pod != NULL)
		pod = json_parse(t->pod, strlen(t->pod), 1 << 20, &errstr);
	build_in(t, pod, &obs, notes, &in);
	pod_plan_compute(&in, &plan);
	for (nwant = 0; nwant < 8 && t->want[nwant].kind != 0; nwant++)
		;
	ok = plan.n == nwant && plan.wake_ms == t->wake_ms &&
	    plan.done == t->done && same(plan.phase, t->phase);
	for (i = 0; ok && i < nwant; i++)
		ok = op_matches(&plan.v[i], &t->want[i]);
	CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  case \"%s\": got\n", t->title);
		print_plan(&plan);
	}
	pod_plan_clear(&plan);
	pod_observed_clear(&obs);
	cJSON_Delete(pod);
}

/* The planner changes nothing it reads: planning twice plans the same. */
static void
test_pure(void)
{
	const struct tc		*t = NULL;
	struct pod_plan_in	 in;
	struct pod_observed	 obs;
	struct pod_ctr		 notes[2];
	struct pod_plan		 a, b;
	cJSON			*pod;
	const char		*errstr;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strncmp(cases[i].title, "back-off: within", 16) == 0)
			t = &cases[i];
	CHECK(t != NULL);
	if (t == NULL)
		return;
	pod = json_parse(t->pod, strlen(t->pod), 1 << 20, &errstr);
	build_in(t, pod, &obs, notes, &in);
	pod_plan_compute(&in, &a);
	pod_plan_compute(&in, &b);
	CHECK(a.n == b.n && a.n == 3 && a.wake_ms == b.wake_ms);
	for (i = 0; i < a.n && i < b.n; i++)
		CHECK(a.v[i].kind == b.v[i].kind);
	CHECK(notes[0].backoff_ms == 10000 && notes[0].last_event == NULL &&
	    notes[0].reason == NULL);
	CHECK(pod_plan_calls(&a) == 0);
	/* a failed step drops what follows it */
	pod_plan_drop(&a, 1);
	CHECK(a.n == 1 && a.v[0].kind == POD_OP_SETUP_VOLUMES);
	pod_plan_clear(&a);
	pod_plan_clear(&b);
	pod_observed_clear(&obs);
	cJSON_Delete(pod);
}

int
main(void)
{
	size_t	i, n = sizeof(cases) / sizeof(cases[0]);

	unit_init();
	CHECK(n >= 40);
	for (i = 0; i < n; i++)
		run_case(&cases[i]);
	test_pure();
	printf("%zu cases\n", n);
	return unit_done();
}
