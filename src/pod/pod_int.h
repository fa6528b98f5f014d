/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of the pod room. pod.c owns the room (desired pods
 * from the store, the runtime's view, the resync timer); pod_sync.c runs
 * one state machine per pod, which pod_plan.c (pure: pod_plan.h) tells
 * what to do and pod_run.c does; pod_probe.c the probes of its containers;
 * pod_gc.c removes what no pod owns; pod_static.c turns the manifest
 * folder into stored pods (pod_manifest.c reads one as YAML). The
 * pure parts -- pod_spec.c (what a spec means), pod_env.c (environment),
 * pod_volume.c (volume files and mounts) and pod_status.c (status from
 * what runs) -- take plain inputs so the unit tests can drive them.
 */
#ifndef EDGESITE_POD_INT_H
#define EDGESITE_POD_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/json.h"

/* Largest manifest file and stored pod accepted. */
#define POD_MANIFEST_MAX	(1024u * 1024)

/* The labels and annotations a kubelet puts on runtime objects. */
#define POD_LABEL_NAME		"io.kubernetes.pod.name"
#define POD_LABEL_NAMESPACE	"io.kubernetes.pod.namespace"
#define POD_LABEL_UID		"io.kubernetes.pod.uid"
#define POD_LABEL_CONTAINER	"io.kubernetes.container.name"
/* Ours: the state directory of the edgesite that owns the object. */
#define POD_LABEL_OWNER		"io.edgesite.state-dir"
#define POD_ANN_HASH		"io.kubernetes.container.hash"
#define POD_ANN_RESTARTS	"io.kubernetes.container.restartCount"
#define POD_ANN_TERMPATH	"io.kubernetes.container.terminationMessagePath"
#define POD_ANN_GRACE		"io.kubernetes.pod.terminationGracePeriod"
/* Annotations of static and mirror pods. */
#define POD_ANN_SOURCE		"kubernetes.io/config.source"
#define POD_ANN_CONFIG_HASH	"kubernetes.io/config.hash"
#define POD_ANN_SEEN		"kubernetes.io/config.seen"
#define POD_ANN_MIRROR		"kubernetes.io/config.mirror"

/* Where container logs go, as for a kubelet. */
#define POD_LOG_ROOT		"/var/log/pods"

/* A growing NULL-terminated list of strings. */
struct pod_strv {
	char	**v;
	size_t	  n;
};
void	 pod_strv_add(struct pod_strv *, const char *);
void	 pod_strv_clear(struct pod_strv *);

/* pod_manifest.c: YAML or JSON text into a tree; NULL with errbuf set. */
cJSON	*pod_manifest_parse(const char *buf, size_t len, char *errbuf,
	    size_t errlen);

/* pod_spec.c */
enum pod_qos {
	POD_QOS_GUARANTEED,
	POD_QOS_BURSTABLE,
	POD_QOS_BESTEFFORT,
};

enum pod_restart {
	POD_RESTART_ALWAYS,
	POD_RESTART_ONFAILURE,
	POD_RESTART_NEVER,
};

enum pod_pull {
	POD_PULL_ALWAYS,
	POD_PULL_IFNOTPRESENT,
	POD_PULL_NEVER,
};

/* A container's Linux resources (0: unset). */
struct pod_resources {
	int64_t	cpu_shares;
	int64_t	cpu_quota;
	int64_t	cpu_period;
	int64_t	memory_limit;
	int64_t	oom_score_adj;
};

struct pod_dns {
	struct pod_strv	servers;
	struct pod_strv	searches;
	struct pod_strv	options;
};

int	 pod_quantity_milli(const char *, int64_t *);
int	 pod_quantity_value(const char *, int64_t *);
int	 pod_spec_quantity(const cJSON *, int64_t *milli);
int64_t	 pod_spec_resource(const cJSON *c, const char *kind,
	    const char *res);
enum pod_qos pod_spec_qos(const cJSON *pod);
const char *pod_qos_name(enum pod_qos);
char	*pod_spec_cgroup_parent(enum pod_qos, const char *uid, int systemd);
void	 pod_spec_linux_resources(const cJSON *c, enum pod_qos,
	    int64_t mem_capacity, struct pod_resources *);
void	 pod_spec_dns(const cJSON *pod, const char *cluster_dns,
	    const char *domain, const char *resolv, struct pod_dns *,
	    int *fallback);
void	 pod_dns_clear(struct pod_dns *);
char	*pod_spec_hostname(const cJSON *pod);
enum pod_restart pod_spec_restart(const cJSON *pod);
int64_t	 pod_spec_grace(const cJSON *pod);
const cJSON *pod_spec_container(const cJSON *pod, const char *name,
	    int *init);
int	 pod_spec_image_valid(const char *);
enum pod_pull pod_spec_pull_policy(const cJSON *c);
void	 pod_spec_fnv(const void *, size_t, char out[17]);
void	 pod_spec_container_hash(const cJSON *c, char out[17]);
char	*pod_spec_base64(const char *in, size_t *outlen);
int	 pod_spec_validate(const cJSON *pod, char *err, size_t errlen);

/*
 * What env and volume values may read besides the pod: configmaps and
 * secrets through lookup (a tree the caller frees, or NULL when absent).
 */
typedef cJSON *(*pod_lookup_cb)(const char *resource, const char *ns,
    const char *name, void *arg);

struct pod_ctx {
	const cJSON		*pod;
	const char		*node_name;
	const char		*host_ip;
	const char		*pod_ip;	/* NULL before the sandbox */
	const struct pod_strv	*pod_ips;
	int64_t			 node_cpu_milli;	/* allocatable */
	int64_t			 node_mem;		/* bytes */
	pod_lookup_cb		 lookup;
	void			*arg;
};

/* pod_env.c */
struct pod_env {
	char	*name;
	char	*value;
};

struct pod_envs {
	struct pod_env	*v;
	size_t		 n;
};

void	 pod_envs_clear(struct pod_envs *);
const char *pod_envs_get(const struct pod_envs *, const char *);
void	 pod_envs_set(struct pod_envs *, const char *, const char *);
char	*pod_env_expand(const char *, const struct pod_envs *);
char	**pod_env_expand_list(const cJSON *list, const struct pod_envs *,
	    size_t *n);
int	 pod_env_valid_name(const char *);
int	 pod_env_field(const struct pod_ctx *, const char *path, char **out,
	    char *err, size_t errlen);
int	 pod_env_resource(const struct pod_ctx *, const cJSON *c,
	    const cJSON *ref, char **out, char *err, size_t errlen);
char	*pod_env_object_data(const cJSON *obj, int secret, const char *key,
	    size_t *len);
char	*pod_env_object_key(const cJSON *obj, int secret, const char *key);
int	 pod_env_build(const struct pod_ctx *, const cJSON *c,
	    struct pod_envs *, char *err, size_t errlen);

/* Registry credentials from imagePullSecrets. */
struct pod_auth {
	char	*server;	/* the key of the matching entry */
	char	*username;
	char	*password;
};
int	 pod_env_pull_auth(const struct pod_ctx *, const char *image,
	    struct pod_auth *);
void	 pod_auth_clear(struct pod_auth *);

/* pod_volume.c */
struct pod_file {
	char	*path;		/* relative, may have directories */
	char	*data;
	size_t	 len;
	mode_t	 mode;
};

enum pod_propagation {
	POD_PROPAGATION_PRIVATE,
	POD_PROPAGATION_HOST_TO_CONTAINER,
	POD_PROPAGATION_BIDIRECTIONAL,
};

struct pod_mount {
	char			*host;
	char			*ctr;
	int			 readonly;
	enum pod_propagation	 propagation;
};

struct pod_mounts {
	struct pod_mount	*v;
	size_t			 n;
};

int	 pod_volume_path_ok(const char *);
int	 pod_volume_mkdirs(const char *, mode_t);
int	 pod_volume_write_atomic(const char *dir, const struct pod_file *,
	    size_t n, gid_t gid, char *err, size_t errlen);
char	*pod_volume_dir(const char *poddir, const char *kind,
	    const char *name);
int	 pod_volume_setup(const struct pod_ctx *, const char *poddir,
	    char *err, size_t errlen);
int	 pod_volume_mounts(const struct pod_ctx *, const char *poddir,
	    const cJSON *c, const struct pod_envs *, struct pod_mounts *,
	    char *err, size_t errlen);
void	 pod_mounts_clear(struct pod_mounts *);
int	 pod_volume_termlog(const char *poddir, const cJSON *c,
	    uint32_t attempt, struct pod_mounts *, char *err, size_t errlen);
char	*pod_volume_termlog_read(const char *poddir, const char *cname,
	    uint32_t attempt);
int	 pod_volume_teardown(const char *poddir);
/* A folder removed in steps of at most max entries (1: more to do). */
struct pod_volume_rm;
struct pod_volume_rm *pod_volume_rm_new(const char *path);
int	 pod_volume_rm_step(struct pod_volume_rm *, size_t max);
void	 pod_volume_rm_free(struct pod_volume_rm *);

/* pod_status.c: what the runtime reports, in our own terms. */
enum pod_cstate {
	POD_CSTATE_CREATED,
	POD_CSTATE_RUNNING,
	POD_CSTATE_EXITED,
	POD_CSTATE_UNKNOWN,
};

/* One container instance (ListContainers plus ContainerStatus). */
struct pod_cinst {
	char		*id;
	char		*sandbox_id;
	char		*name;		/* io.kubernetes.container.name */
	uint32_t	 attempt;
	enum pod_cstate	 state;
	int64_t		 created_ns;
	int64_t		 started_ns;
	int64_t		 finished_ns;
	int32_t		 exit_code;
	char		*reason;
	char		*message;
	char		*image;
	char		*image_ref;
	char		*hash;		/* io.kubernetes.container.hash */
	char		*pod_uid;	/* io.kubernetes.pod.uid */
	int64_t		 grace_s;	/* its pod's grace period, or -1 */
	int		 have_status;	/* the times and exit are known */
};

/* One sandbox (ListPodSandbox plus PodSandboxStatus for the IP). */
struct pod_sbinst {
	char		*id;
	uint32_t	 attempt;
	int		 ready;
	int64_t		 created_ns;
	char		*ip;
	struct pod_strv	 ips;
	int		 have_status;	/* the IPs are known */
	char		*pod_uid;	/* the io.kubernetes.pod.* labels */
	char		*pod_name;
	char		*pod_ns;
};

struct pod_observed {
	struct pod_sbinst	*sb;
	size_t			 nsb;
	struct pod_cinst	*c;
	size_t			 nc;
};

/* What the sync machine knows of a container besides the runtime. */
struct pod_cinfo {
	const char	*name;
	const char	*waiting_reason;	/* CrashLoopBackOff, ... */
	const char	*waiting_message;
	int		 ready;			/* readiness */
	int		 started;		/* startup probe passed */
};

struct pod_status_in {
	const cJSON			*pod;
	const struct pod_observed	*obs;
	const struct pod_cinfo		*info;
	size_t				 ninfo;
	const char			*host_ip;
	const cJSON			*prev;		/* last one, or NULL */
	time_t				 now;
	const char			*phase;		/* override, or NULL */
	const char			*reason;
	const char			*message;
};

const struct pod_cinst *pod_observed_latest(const struct pod_observed *,
	    const char *name, const struct pod_cinst **prev);
const struct pod_sbinst *pod_observed_sandbox(const struct pod_observed *);
void	 pod_observed_clear(struct pod_observed *);
void	 pod_cinst_clear(struct pod_cinst *);
const struct pod_cinfo *pod_status_info(const struct pod_status_in *,
	    const char *name);
const char *pod_status_phase(const struct pod_status_in *);
cJSON	*pod_status_build(const struct pod_status_in *);

/* Facts about the node that pods see. */
struct pod_node {
	const struct conf	*conf;
	char			*node_name;
	char			*host_ip;
	const char		*state_dir;
	char			*resolv;	/* /etc/resolv.conf, or NULL */
	int64_t			 mem_capacity;	/* bytes */
	int64_t			 cpu_milli;
};

struct event;
struct event_base;
struct store;
struct store_sub;
struct cri;
struct cri_call;
struct pod_sync;
struct pod_static;
struct pod_probe;

/* pod.c: the room. */
struct pod_room {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct cri		*cri;
	int			 cluster;	/* upstream writes are recorded */
	struct pod_node		 node;
	int			 cri_ready;
	struct store_sub	*sub_cluster;
	struct store_sub	*sub_static;
	struct store_sub	*sub_cm;
	struct store_sub	*sub_secret;
	TAILQ_HEAD(, pod_sync)	 pods;
	struct event		*ev_relist;
	struct event		*ev_reap;
	struct cri_call		*call_sb;	/* relist in flight */
	struct cri_call		*call_ct;
	struct pod_observed	 relist;	/* what the relist gathers */
	int			 relist_failed;
	int			 relist_pending;	/* the lists to come */
	int			 relisted;	/* one relist completed */
	struct pod_static	*st;
};

/* The pod's machine by uid, or NULL. */
struct pod_sync *pod_room_find(struct pod_room *, const char *uid);
/* Arms the reaper: DONE machines are freed on a later loop turn. */
void	 pod_room_reap(struct pod_room *);
/* A configmap or secret of the store, parsed; NULL when absent. */
cJSON	*pod_room_lookup(const char *resource, const char *ns,
	    const char *name, void *arg);

/* pod_sync.c: one machine per pod. */
enum pod_sync_state {
	POD_SYNC_IDLE,		/* nothing in flight; a timer may be armed */
	POD_SYNC_OBSERVING,	/* listing what the runtime has of the pod */
	POD_SYNC_ACTING,	/* runtime calls in flight */
	POD_SYNC_ENDING,	/* nothing runs; its folders go, in steps */
	POD_SYNC_DONE,		/* removed; freed by the room */
};

/*
 * Creates the machine of a pod (pod is the stored object, kept; NULL for
 * an orphan known only from runtime labels, which is stopped and removed).
 */
struct pod_sync	*pod_sync_new(struct pod_room *, const char *key, cJSON *pod,
		    const char *uid, const char *ns, const char *name);
void		 pod_sync_free(struct pod_sync *);
/* The stored object changed (pod is kept) or was deleted (pod NULL). */
void		 pod_sync_update(struct pod_sync *, cJSON *pod);
/* Something changed: observe again soon. */
void		 pod_sync_kick(struct pod_sync *);
/* A relist saw this fingerprint of the pod's runtime objects. */
void		 pod_sync_relisted(struct pod_sync *, const char *fingerprint);
/* A probe's verdict on container cname changed. */
void		 pod_sync_probe_result(struct pod_sync *, const char *cname,
		    int kind, int ok, const char *msg);
/* Posts an event about the pod (when connected) and logs it. */
void		 pod_sync_event(struct pod_sync *, const char *type,
		    const char *reason, const char *fieldpath, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));
enum pod_sync_state pod_sync_state(struct pod_sync *);
const char	*pod_sync_uid(struct pod_sync *);
const char	*pod_sync_key(struct pod_sync *);
const char	*pod_sync_ns(struct pod_sync *);
const char	*pod_sync_pod_ip(struct pod_sync *);
const cJSON	*pod_sync_pod(struct pod_sync *);
struct pod_room	*pod_sync_room(struct pod_sync *);
void		 pod_sync_dump(struct pod_sync *);

/* pod_probe.c: probes and hook handlers. */
enum pod_probe_kind {
	POD_PROBE_LIVENESS,
	POD_PROBE_READINESS,
	POD_PROBE_STARTUP,
	POD_PROBE_HOOK,		/* one run of a lifecycle handler */
};

/* A hook finished: ok, with a message on failure. */
typedef void (*pod_probe_hook_cb)(int ok, const char *msg, void *arg);

/*
 * Starts a probe of kind (liveness, readiness, startup) on container cid
 * of the pod; spec is the container's probe object (copied).
 */
struct pod_probe *pod_probe_new(struct pod_sync *, const char *cname,
		    const char *cid, enum pod_probe_kind, const cJSON *spec,
		    const cJSON *container);
/* Runs a lifecycle handler once within timeout_s; cb runs once. */
struct pod_probe *pod_probe_hook(struct pod_sync *, const char *cname,
		    const char *cid, const cJSON *handler,
		    const cJSON *container, int64_t timeout_s,
		    pod_probe_hook_cb, void *arg);
/* Stops and frees a probe; its callbacks never run after. Accepts NULL. */
void		 pod_probe_free(struct pod_probe *);
/* Lets the startup-gated probes run (the startup probe succeeded). */
void		 pod_probe_enable(struct pod_probe *);
const char	*pod_probe_kind_name(enum pod_probe_kind);

/* pod_gc.c: what no pod needs any more (pod_gc_plan: pod_plan.h). */
/* Removes pod folders under the state dir that no machine owns. */
void		 pod_gc_dirs(struct pod_room *);

/* pod_static.c: the manifest folder into s/, and mirror pods. */
struct pod_static *pod_static_new(struct pod_room *);
void		 pod_static_free(struct pod_static *);
/* A mirror pod changed in o/pods/ (or its static pod did): check it. */
void		 pod_static_mirror_check(struct pod_static *, const char *ns,
		    const char *name);
/* The uid of the mirror pod of a static pod, or NULL (caller frees). */
char		*pod_static_mirror_uid(struct pod_room *, const char *ns,
		    const char *name, const char *static_uid);
/* Builds the stored static pod from a manifest tree; NULL with errbuf. */
cJSON		*pod_static_pod(cJSON *manifest, const char *node,
		    const char *path, char *err, size_t errlen);

#endif
