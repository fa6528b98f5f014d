/*
 * Internal interface of the pod room. pod.c owns the room (desired pods
 * from the store, the runtime's view, the resync timer); pod_sync.c runs
 * one state machine per pod; pod_probe.c the probes of its containers;
 * pod_gc.c removes what no pod owns; pod_static.c turns the manifest
 * folder into stored pods (pod_manifest.c is its libyaml adapter). The
 * pure parts -- pod_spec.c (what a spec means), pod_env.c (environment),
 * pod_volume.c (volume files and mounts) and pod_status.c (status from
 * what runs) -- take plain inputs so the unit tests can drive them.
 */
#ifndef EDGESITE_POD_INT_H
#define EDGESITE_POD_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/json.h"

/* Largest manifest file and stored pod accepted. */
#define POD_MANIFEST_MAX	(1024u * 1024)

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
int	 pod_spec_image_valid(const char *);
enum pod_pull pod_spec_pull_policy(const cJSON *c);
void	 pod_spec_fnv(const void *, size_t, char out[17]);
void	 pod_spec_container_hash(const cJSON *c, char out[17]);
char	*pod_spec_base64(const char *in, size_t *outlen);
int	 pod_spec_dns_label(const char *);
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
int	 pod_volume_teardown(const char *poddir);

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
	const cJSON			*prev;		/* last status, or NULL */
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

#endif
