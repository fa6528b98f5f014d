/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod room's side of CRI: builds the runtime's messages from a pod
 * (the sandbox config with its hostname, DNS, port mappings, labels,
 * cgroup parent and security context; a container config with its image,
 * command, environment, mounts, resources and security context), and
 * turns the runtime's answers (sandbox and container lists and statuses)
 * into the room's own observed state. Every runtime object carries the
 * labels a kubelet sets (io.kubernetes.pod.uid, .name, .namespace and
 * io.kubernetes.container.name) plus io.edgesite.state-dir naming the
 * edgesite that owns it, so a restart adopts what runs and two edgesites
 * sharing one runtime leave each other alone. Requests are built in an
 * arena freed in one go once the call has packed them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "pod/pod_cri.h"

/* A map entry as protobuf-c generates them for map<string, string>. */
struct pod_cri_kv {
	ProtobufCMessage	 base;
	char			*key;
	char			*value;
};

/* The paths a kubelet masks or makes read-only in unprivileged containers. */
static const char *const pod_cri_masked[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap",
};
static const char *const pod_cri_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	"/proc/sysrq-trigger",
};

/* Zeroed memory that lives until pod_cri_arena_free. */
void *
pod_cri_alloc(struct pod_cri_arena *a, size_t size)
{
	void	*p = xcalloc(1, size);

	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = p;
	return p;
}

/* A copy of s in the arena ("" for NULL). */
char *
pod_cri_strdup(struct pod_cri_arena *a, const char *s)
{
	size_t	 len = s != NULL ? strlen(s) : 0;
	char	*p = pod_cri_alloc(a, len + 1);

	if (len > 0)
		memcpy(p, s, len);
	return p;
}

/* Frees everything allocated in the arena. */
void
pod_cri_arena_free(struct pod_cri_arena *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* A message of descriptor d, initialized, in the arena. */
static void *
pod_cri_msg(struct pod_cri_arena *a, const ProtobufCMessageDescriptor *d)
{
	void	*m = pod_cri_alloc(a, d->sizeof_message);

	protobuf_c_message_init(d, m);
	return m;
}

/* A map<string, string> of entry type d from a list of pairs. */
void *
pod_cri_map(struct pod_cri_arena *a, const ProtobufCMessageDescriptor *d,
    const struct pod_envs *kv, size_t *n)
{
	struct pod_cri_kv	**v;
	size_t			  i;

	*n = kv->n;
	v = pod_cri_alloc(a, (kv->n + 1) * sizeof(*v));
	for (i = 0; i < kv->n; i++) {
		v[i] = pod_cri_msg(a, d);
		v[i]->key = pod_cri_strdup(a, kv->v[i].name);
		v[i]->value = pod_cri_strdup(a, kv->v[i].value);
	}
	return v;
}

/* A repeated string from a list. */
static char **
pod_cri_strv(struct pod_cri_arena *a, const struct pod_strv *l, size_t *n)
{
	char	**v;
	size_t	  i;

	*n = l->n;
	v = pod_cri_alloc(a, (l->n + 1) * sizeof(*v));
	for (i = 0; i < l->n; i++)
		v[i] = pod_cri_strdup(a, l->v[i]);
	return v;
}

/* A repeated string from a JSON array of strings. */
static char **
pod_cri_json_strv(struct pod_cri_arena *a, const cJSON *arr, size_t *n)
{
	const cJSON	*it;
	char		**v;

	*n = 0;
	v = pod_cri_alloc(a, ((size_t)cJSON_GetArraySize(arr) + 1) *
	    sizeof(*v));
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it))
			v[(*n)++] = pod_cri_strdup(a, it->valuestring);
	return v;
}

/* A repeated string from a constant table. */
static char **
pod_cri_table(struct pod_cri_arena *a, const char *const *t, size_t nt,
    size_t *n)
{
	char	**v;
	size_t	  i;

	*n = nt;
	v = pod_cri_alloc(a, (nt + 1) * sizeof(*v));
	for (i = 0; i < nt; i++)
		v[i] = pod_cri_strdup(a, t[i]);
	return v;
}

/* The labels that identify a pod's runtime objects. */
void
pod_cri_pod_labels(const struct pod_node *node, const cJSON *pod,
    struct pod_envs *l)
{
	const char	*ns = json_get_string(pod, "metadata.namespace");

	pod_envs_set(l, POD_LABEL_NAME, json_get_string(pod,
	    "metadata.name"));
	pod_envs_set(l, POD_LABEL_NAMESPACE, ns != NULL ? ns : "default");
	pod_envs_set(l, POD_LABEL_UID, json_get_string(pod, "metadata.uid"));
	pod_envs_set(l, POD_LABEL_OWNER, node->state_dir);
}

/* Copies a string-valued JSON object into a list of pairs. */
static void
pod_cri_json_map(const cJSON *obj, struct pod_envs *l)
{
	const cJSON	*m;

	cJSON_ArrayForEach(m, obj)
		if (cJSON_IsString(m) && m->string != NULL)
			pod_envs_set(l, m->string, m->valuestring);
}

/* An optional int64 wrapper from a securityContext member. */
static Runtime__V1__Int64Value *
pod_cri_int64(struct pod_cri_arena *a, const cJSON *sc, const cJSON *podsc,
    const char *member)
{
	Runtime__V1__Int64Value	*v;
	int64_t			 i;

	if (json_get_int(sc, member, &i) == -1 &&
	    json_get_int(podsc, member, &i) == -1)
		return NULL;
	v = pod_cri_msg(a, &runtime__v1__int64_value__descriptor);
	v->value = i;
	return v;
}

/* The namespaces: host network, PID and IPC, or the pod's own. */
static Runtime__V1__NamespaceOption *
pod_cri_namespaces(struct pod_cri_arena *a, const cJSON *pod)
{
	Runtime__V1__NamespaceOption	*ns;

	ns = pod_cri_msg(a, &runtime__v1__namespace_option__descriptor);
	ns->network = json_get_bool(pod, "spec.hostNetwork", 0) ?
	    RUNTIME__V1__NAMESPACE_MODE__NODE :
	    RUNTIME__V1__NAMESPACE_MODE__POD;
	if (json_get_bool(pod, "spec.hostPID", 0))
		ns->pid = RUNTIME__V1__NAMESPACE_MODE__NODE;
	else if (json_get_bool(pod, "spec.shareProcessNamespace", 0))
		ns->pid = RUNTIME__V1__NAMESPACE_MODE__POD;
	else
		ns->pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
	ns->ipc = json_get_bool(pod, "spec.hostIPC", 0) ?
	    RUNTIME__V1__NAMESPACE_MODE__NODE :
	    RUNTIME__V1__NAMESPACE_MODE__POD;
	return ns;
}

/* seccompProfile of a container or the pod; Unconfined when unset. */
static Runtime__V1__SecurityProfile *
pod_cri_seccomp(struct pod_cri_arena *a, const cJSON *sc, const cJSON *podsc)
{
	Runtime__V1__SecurityProfile	*p;
	const char			*type, *ref;

	p = pod_cri_msg(a, &runtime__v1__security_profile__descriptor);
	p->profile_type =
	    RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined;
	if ((type = json_get_string(sc, "seccompProfile.type")) == NULL) {
		type = json_get_string(podsc, "seccompProfile.type");
		sc = podsc;
	}
	if (type != NULL && strcmp(type, "RuntimeDefault") == 0)
		p->profile_type =
		    RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
	else if (type != NULL && strcmp(type, "Localhost") == 0 &&
	    (ref = json_get_string(sc, "seccompProfile.localhostProfile")) !=
	    NULL) {
		p->profile_type =
		    RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost;
		p->localhost_ref = pod_cri_strdup(a, ref);
	}
	return p;
}

/* supplementalGroups plus fsGroup, as a kubelet adds it. */
static int64_t *
pod_cri_groups(struct pod_cri_arena *a, const cJSON *podsc, size_t *n)
{
	const cJSON	*g;
	int64_t		*v, fs;

	*n = 0;
	v = pod_cri_alloc(a, ((size_t)cJSON_GetArraySize(json_get(podsc,
	    "supplementalGroups")) + 1) * sizeof(*v));
	cJSON_ArrayForEach(g, json_get(podsc, "supplementalGroups"))
		if (cJSON_IsNumber(g))
			v[(*n)++] = (int64_t)g->valuedouble;
	if (json_get_int(podsc, "fsGroup", &fs) == 0)
		v[(*n)++] = fs;
	return v;
}

/* Whether any container of the pod asks to be privileged. */
static int
pod_cri_any_privileged(const cJSON *pod)
{
	static const char *const lists[] = { "spec.initContainers",
	    "spec.containers" };
	const cJSON	*c;
	size_t		 i;

	for (i = 0; i < 2; i++)
		cJSON_ArrayForEach(c, json_get(pod, lists[i]))
			if (json_get_bool(c, "securityContext.privileged", 0))
				return 1;
	return 0;
}

/* The sandbox's Linux part: cgroup parent and security context. */
static Runtime__V1__LinuxPodSandboxConfig *
pod_cri_sandbox_linux(struct pod_cri_arena *a, const struct pod_node *node,
    const cJSON *pod)
{
	Runtime__V1__LinuxPodSandboxConfig	*lx;
	Runtime__V1__LinuxSandboxSecurityContext *sc;
	const cJSON				*podsc;
	char					*cg;

	podsc = json_get(pod, "spec.securityContext");
	lx = pod_cri_msg(a, &runtime__v1__linux_pod_sandbox_config__descriptor);
	cg = pod_spec_cgroup_parent(pod_spec_qos(pod), json_get_string(pod,
	    "metadata.uid"), node->conf->cgroup_driver == CONF_CGROUP_SYSTEMD);
	lx->cgroup_parent = pod_cri_strdup(a, cg);
	free(cg);
	sc = pod_cri_msg(a,
	    &runtime__v1__linux_sandbox_security_context__descriptor);
	sc->namespace_options = pod_cri_namespaces(a, pod);
	sc->run_as_user = pod_cri_int64(a, NULL, podsc, "runAsUser");
	sc->run_as_group = pod_cri_int64(a, NULL, podsc, "runAsGroup");
	sc->supplemental_groups = pod_cri_groups(a, podsc,
	    &sc->n_supplemental_groups);
	sc->privileged = pod_cri_any_privileged(pod);
	sc->seccomp = pod_cri_seccomp(a, NULL, podsc);
	lx->security_context = sc;
	return lx;
}

/* Whether a container port maps a host port; its numbers then. */
static int
pod_cri_host_port(const cJSON *p, int64_t *cport, int64_t *hport)
{
	return json_get_int(p, "hostPort", hport) == 0 && *hport > 0 &&
	    *hport <= 65535 && json_get_int(p, "containerPort", cport) == 0;
}

/* One port mapping. */
static Runtime__V1__PortMapping *
pod_cri_port(struct pod_cri_arena *a, const cJSON *p, int64_t cport,
    int64_t hport)
{
	Runtime__V1__PortMapping	*pm;
	const char			*proto;

	pm = pod_cri_msg(a, &runtime__v1__port_mapping__descriptor);
	proto = json_get_string(p, "protocol");
	if (proto != NULL && strcmp(proto, "UDP") == 0)
		pm->protocol = RUNTIME__V1__PROTOCOL__UDP;
	else if (proto != NULL && strcmp(proto, "SCTP") == 0)
		pm->protocol = RUNTIME__V1__PROTOCOL__SCTP;
	else
		pm->protocol = RUNTIME__V1__PROTOCOL__TCP;
	pm->container_port = (int32_t)cport;
	pm->host_port = (int32_t)hport;
	pm->host_ip = pod_cri_strdup(a, json_get_string(p, "hostIP"));
	return pm;
}

/* hostPort mappings of every container (none on the host network). */
static Runtime__V1__PortMapping **
pod_cri_ports(struct pod_cri_arena *a, const cJSON *pod, size_t *n)
{
	Runtime__V1__PortMapping	**v;
	const cJSON			 *c, *p;
	int64_t				  cport, hport;
	size_t				  count = 0;

	*n = 0;
	if (json_get_bool(pod, "spec.hostNetwork", 0))
		return NULL;
	cJSON_ArrayForEach(c, json_get(pod, "spec.containers"))
		cJSON_ArrayForEach(p, json_get(c, "ports"))
			if (pod_cri_host_port(p, &cport, &hport))
				count++;
	v = pod_cri_alloc(a, (count + 1) * sizeof(*v));
	cJSON_ArrayForEach(c, json_get(pod, "spec.containers"))
		cJSON_ArrayForEach(p, json_get(c, "ports"))
			if (pod_cri_host_port(p, &cport, &hport))
				v[(*n)++] = pod_cri_port(a, p, cport, hport);
	return v;
}

/* The pod's log directory: /var/log/pods/<ns>_<name>_<uid>. */
char *
pod_cri_log_dir(const cJSON *pod)
{
	const char	*ns = json_get_string(pod, "metadata.namespace");
	char		*d;

	xasprintf(&d, "%s/%s_%s_%s", POD_LOG_ROOT, ns != NULL ? ns :
	    "default", json_get_string(pod, "metadata.name"),
	    json_get_string(pod, "metadata.uid"));
	return d;
}

/*
 * The sandbox config of a pod at attempt. *dns_fallback is set when
 * ClusterFirst had no cluster DNS to use.
 */
Runtime__V1__PodSandboxConfig *
pod_cri_sandbox(struct pod_cri_arena *a, const struct pod_node *node,
    const cJSON *pod, uint32_t attempt, int *dns_fallback)
{
	Runtime__V1__PodSandboxConfig	*cfg;
	Runtime__V1__PodSandboxMetadata	*md;
	Runtime__V1__DNSConfig		*dns;
	struct pod_dns			 d;
	struct pod_envs			 l = { NULL, 0 };
	const char			*ns;
	char				*s;

	cfg = pod_cri_msg(a, &runtime__v1__pod_sandbox_config__descriptor);
	md = pod_cri_msg(a, &runtime__v1__pod_sandbox_metadata__descriptor);
	ns = json_get_string(pod, "metadata.namespace");
	md->name = pod_cri_strdup(a, json_get_string(pod, "metadata.name"));
	md->uid = pod_cri_strdup(a, json_get_string(pod, "metadata.uid"));
	md->namespace_ = pod_cri_strdup(a, ns != NULL ? ns : "default");
	md->attempt = attempt;
	cfg->metadata = md;
	s = pod_spec_hostname(pod);
	cfg->hostname = pod_cri_strdup(a, s);
	free(s);
	s = pod_cri_log_dir(pod);
	cfg->log_directory = pod_cri_strdup(a, s);
	free(s);
	pod_spec_dns(pod, node->conf->cluster_dns, node->conf->cluster_domain,
	    node->resolv, &d, dns_fallback);
	dns = pod_cri_msg(a, &runtime__v1__dnsconfig__descriptor);
	dns->servers = pod_cri_strv(a, &d.servers, &dns->n_servers);
	dns->searches = pod_cri_strv(a, &d.searches, &dns->n_searches);
	dns->options = pod_cri_strv(a, &d.options, &dns->n_options);
	pod_dns_clear(&d);
	cfg->dns_config = dns;
	cfg->port_mappings = pod_cri_ports(a, pod, &cfg->n_port_mappings);
	pod_cri_json_map(json_get(pod, "metadata.labels"), &l);
	pod_cri_pod_labels(node, pod, &l);
	cfg->labels = pod_cri_map(a,
	    &runtime__v1__pod_sandbox_config__labels_entry__descriptor, &l,
	    &cfg->n_labels);
	pod_envs_clear(&l);
	pod_cri_json_map(json_get(pod, "metadata.annotations"), &l);
	cfg->annotations = pod_cri_map(a,
	    &runtime__v1__pod_sandbox_config__annotations_entry__descriptor,
	    &l, &cfg->n_annotations);
	pod_envs_clear(&l);
	cfg->linux = pod_cri_sandbox_linux(a, node, pod);
	return cfg;
}

/* capabilities.add and .drop as the runtime takes them. */
static Runtime__V1__Capability *
pod_cri_caps(struct pod_cri_arena *a, const cJSON *sc)
{
	Runtime__V1__Capability	*caps;

	caps = pod_cri_msg(a, &runtime__v1__capability__descriptor);
	caps->add_capabilities = pod_cri_json_strv(a, json_get(sc,
	    "capabilities.add"), &caps->n_add_capabilities);
	caps->drop_capabilities = pod_cri_json_strv(a, json_get(sc,
	    "capabilities.drop"), &caps->n_drop_capabilities);
	return caps;
}

/* A container's security context, the pod's filling what it leaves. */
static Runtime__V1__LinuxContainerSecurityContext *
pod_cri_container_sc(struct pod_cri_arena *a, const cJSON *pod,
    const cJSON *c)
{
	Runtime__V1__LinuxContainerSecurityContext	*s;
	const cJSON					*sc, *podsc;

	sc = json_get(c, "securityContext");
	podsc = json_get(pod, "spec.securityContext");
	s = pod_cri_msg(a,
	    &runtime__v1__linux_container_security_context__descriptor);
	s->capabilities = pod_cri_caps(a, sc);
	s->privileged = json_get_bool(sc, "privileged", 0);
	s->namespace_options = pod_cri_namespaces(a, pod);
	s->run_as_user = pod_cri_int64(a, sc, podsc, "runAsUser");
	s->run_as_group = pod_cri_int64(a, sc, podsc, "runAsGroup");
	s->readonly_rootfs = json_get_bool(sc, "readOnlyRootFilesystem", 0);
	s->supplemental_groups = pod_cri_groups(a, podsc,
	    &s->n_supplemental_groups);
	s->no_new_privs = !json_get_bool(sc, "allowPrivilegeEscalation", 1);
	if (!s->privileged) {
		s->masked_paths = pod_cri_table(a, pod_cri_masked,
		    sizeof(pod_cri_masked) / sizeof(pod_cri_masked[0]),
		    &s->n_masked_paths);
		s->readonly_paths = pod_cri_table(a, pod_cri_readonly,
		    sizeof(pod_cri_readonly) / sizeof(pod_cri_readonly[0]),
		    &s->n_readonly_paths);
	}
	s->seccomp = pod_cri_seccomp(a, sc, podsc);
	return s;
}

/* Resources, as pod_spec computes them. */
static Runtime__V1__LinuxContainerResources *
pod_cri_resources(struct pod_cri_arena *a, const struct pod_node *node,
    const cJSON *pod, const cJSON *c)
{
	Runtime__V1__LinuxContainerResources	*r;
	struct pod_resources			 pr;

	pod_spec_linux_resources(c, pod_spec_qos(pod), node->mem_capacity,
	    &pr);
	r = pod_cri_msg(a, &runtime__v1__linux_container_resources__descriptor);
	r->cpu_period = pr.cpu_period;
	r->cpu_quota = pr.cpu_quota;
	r->cpu_shares = pr.cpu_shares;
	r->memory_limit_in_bytes = pr.memory_limit;
	r->oom_score_adj = pr.oom_score_adj;
	return r;
}

/* The environment as key/value pairs. */
static Runtime__V1__KeyValue **
pod_cri_envs(struct pod_cri_arena *a, const struct pod_envs *e, size_t *n)
{
	Runtime__V1__KeyValue	**v;
	size_t			  i;

	*n = e->n;
	v = pod_cri_alloc(a, (e->n + 1) * sizeof(*v));
	for (i = 0; i < e->n; i++) {
		v[i] = pod_cri_msg(a, &runtime__v1__key_value__descriptor);
		v[i]->key = pod_cri_strdup(a, e->v[i].name);
		v[i]->value.data = (uint8_t *)pod_cri_strdup(a, e->v[i].value);
		v[i]->value.len = strlen(e->v[i].value);
	}
	return v;
}

/* A mount propagation as the runtime names it. */
static Runtime__V1__MountPropagation
pod_cri_propagation(enum pod_propagation p)
{
	switch (p) {
	case POD_PROPAGATION_HOST_TO_CONTAINER:
		return RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER;
	case POD_PROPAGATION_BIDIRECTIONAL:
		return RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL;
	case POD_PROPAGATION_PRIVATE:
		break;
	}
	return RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE;
}

/* The mounts. */
static Runtime__V1__Mount **
pod_cri_mounts(struct pod_cri_arena *a, const struct pod_mounts *m,
    size_t *n)
{
	Runtime__V1__Mount	**v;
	size_t			  i;

	*n = m->n;
	v = pod_cri_alloc(a, (m->n + 1) * sizeof(*v));
	for (i = 0; i < m->n; i++) {
		v[i] = pod_cri_msg(a, &runtime__v1__mount__descriptor);
		v[i]->container_path = pod_cri_strdup(a, m->v[i].ctr);
		v[i]->host_path = pod_cri_strdup(a, m->v[i].host);
		v[i]->readonly = m->v[i].readonly;
		v[i]->propagation = pod_cri_propagation(m->v[i].propagation);
	}
	return v;
}

/* A repeated string of an expanded command or args. */
static char **
pod_cri_expanded(struct pod_cri_arena *a, const cJSON *list,
    const struct pod_envs *e, size_t *n)
{
	char	**tmp, **v;
	size_t	  i;

	tmp = pod_env_expand_list(list, e, n);
	v = pod_cri_alloc(a, (*n + 1) * sizeof(*v));
	for (i = 0; i < *n; i++) {
		v[i] = pod_cri_strdup(a, tmp[i]);
		free(tmp[i]);
	}
	free(tmp);
	return v;
}

/* Labels and annotations of a container. */
static void
pod_cri_container_meta(struct pod_cri_arena *a, const struct pod_node *node,
    const cJSON *pod, const cJSON *c, uint32_t attempt,
    Runtime__V1__ContainerConfig *cfg)
{
	struct pod_envs	 l = { NULL, 0 };
	const char	*tpath;
	char		 hash[17], buf[32];

	pod_cri_pod_labels(node, pod, &l);
	pod_envs_set(&l, POD_LABEL_CONTAINER, json_get_string(c, "name"));
	cfg->labels = pod_cri_map(a,
	    &runtime__v1__container_config__labels_entry__descriptor, &l,
	    &cfg->n_labels);
	pod_envs_clear(&l);
	pod_spec_container_hash(c, hash);
	pod_envs_set(&l, POD_ANN_HASH, hash);
	snprintf(buf, sizeof(buf), "%u", attempt);
	pod_envs_set(&l, POD_ANN_RESTARTS, buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)pod_spec_grace(pod));
	pod_envs_set(&l, POD_ANN_GRACE, buf);
	if ((tpath = json_get_string(c, "terminationMessagePath")) == NULL)
		tpath = "/dev/termination-log";
	pod_envs_set(&l, POD_ANN_TERMPATH, tpath);
	cfg->annotations = pod_cri_map(a,
	    &runtime__v1__container_config__annotations_entry__descriptor, &l,
	    &cfg->n_annotations);
	pod_envs_clear(&l);
}

/*
 * The config of container c at attempt, with its environment and mounts
 * already resolved (command and args expand $(VAR) with them).
 */
Runtime__V1__ContainerConfig *
pod_cri_container(struct pod_cri_arena *a, const struct pod_node *node,
    const cJSON *pod, const cJSON *c, uint32_t attempt,
    const struct pod_envs *env, const struct pod_mounts *m)
{
	Runtime__V1__ContainerConfig	*cfg;
	Runtime__V1__ContainerMetadata	*md;
	Runtime__V1__ImageSpec		*img;
	Runtime__V1__LinuxContainerConfig *lx;
	char				*s;
	const char			*name = json_get_string(c, "name");

	cfg = pod_cri_msg(a, &runtime__v1__container_config__descriptor);
	md = pod_cri_msg(a, &runtime__v1__container_metadata__descriptor);
	md->name = pod_cri_strdup(a, name);
	md->attempt = attempt;
	cfg->metadata = md;
	img = pod_cri_msg(a, &runtime__v1__image_spec__descriptor);
	img->image = pod_cri_strdup(a, json_get_string(c, "image"));
	img->user_specified_image = pod_cri_strdup(a, json_get_string(c,
	    "image"));
	cfg->image = img;
	cfg->command = pod_cri_expanded(a, json_get(c, "command"), env,
	    &cfg->n_command);
	cfg->args = pod_cri_expanded(a, json_get(c, "args"), env,
	    &cfg->n_args);
	cfg->working_dir = pod_cri_strdup(a, json_get_string(c,
	    "workingDir"));
	cfg->envs = pod_cri_envs(a, env, &cfg->n_envs);
	cfg->mounts = pod_cri_mounts(a, m, &cfg->n_mounts);
	pod_cri_container_meta(a, node, pod, c, attempt, cfg);
	xasprintf(&s, "%s/%u.log", name, attempt);
	cfg->log_path = pod_cri_strdup(a, s);
	free(s);
	cfg->stdin = json_get_bool(c, "stdin", 0);
	cfg->stdin_once = json_get_bool(c, "stdinOnce", 0);
	cfg->tty = json_get_bool(c, "tty", 0);
	lx = pod_cri_msg(a, &runtime__v1__linux_container_config__descriptor);
	lx->resources = pod_cri_resources(a, node, pod, c);
	lx->security_context = pod_cri_container_sc(a, pod, c);
	cfg->linux = lx;
	return cfg;
}

/* The value of key in a protobuf-c map, or NULL. */
const char *
pod_cri_get(void *const *entries, size_t n, const char *key)
{
	const struct pod_cri_kv	*const *kv = (const struct pod_cri_kv *const *)
				    entries;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (kv[i]->key != NULL && strcmp(kv[i]->key, key) == 0)
			return kv[i]->value;
	return NULL;
}

/* A label of a listed object, or def. */
#define pod_cri_label(labels, n, key, def)				\
	(pod_cri_get((void *const *)(labels), (n), (key)) != NULL ?	\
	pod_cri_get((void *const *)(labels), (n), (key)) : (def))

/* Our container state from the runtime's. */
static enum pod_cstate
pod_cri_cstate(Runtime__V1__ContainerState st)
{
	switch (st) {
	case RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED:
		return POD_CSTATE_CREATED;
	case RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING:
		return POD_CSTATE_RUNNING;
	case RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED:
		return POD_CSTATE_EXITED;
	default:
		break;
	}
	return POD_CSTATE_UNKNOWN;
}

/* A copy of s when set, else NULL. */
static char *
pod_cri_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

/* One listed sandbox into o. */
void
pod_cri_add_sandbox(struct pod_observed *o, const Runtime__V1__PodSandbox *s)
{
	struct pod_sbinst	*sb;

	o->sb = xreallocarray(o->sb, o->nsb + 1, sizeof(*o->sb));
	sb = &o->sb[o->nsb++];
	memset(sb, 0, sizeof(*sb));
	sb->id = xstrdup(s->id != NULL ? s->id : "");
	sb->attempt = s->metadata != NULL ? s->metadata->attempt : 0;
	sb->ready = s->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
	sb->created_ns = s->created_at;
	sb->pod_uid = xstrdup(pod_cri_label(s->labels, s->n_labels,
	    POD_LABEL_UID, ""));
	sb->pod_name = pod_cri_dup(pod_cri_label(s->labels, s->n_labels,
	    POD_LABEL_NAME, NULL));
	sb->pod_ns = pod_cri_dup(pod_cri_label(s->labels, s->n_labels,
	    POD_LABEL_NAMESPACE, NULL));
}

/* One listed container into o (its status comes separately). */
void
pod_cri_add_container(struct pod_observed *o, const Runtime__V1__Container *c)
{
	struct pod_cinst	*ci;
	const char		*name, *grace;
	char			*end;
	long long		 g;

	o->c = xreallocarray(o->c, o->nc + 1, sizeof(*o->c));
	ci = &o->c[o->nc++];
	memset(ci, 0, sizeof(*ci));
	ci->id = xstrdup(c->id != NULL ? c->id : "");
	ci->sandbox_id = xstrdup(c->pod_sandbox_id != NULL ?
	    c->pod_sandbox_id : "");
	name = pod_cri_get((void *const *)c->labels, c->n_labels,
	    POD_LABEL_CONTAINER);
	if (name == NULL && c->metadata != NULL)
		name = c->metadata->name;
	ci->name = xstrdup(name != NULL ? name : "");
	ci->attempt = c->metadata != NULL ? c->metadata->attempt : 0;
	ci->state = pod_cri_cstate(c->state);
	ci->created_ns = c->created_at;
	ci->image = pod_cri_dup(c->image != NULL ? c->image->image : NULL);
	ci->image_ref = pod_cri_dup(c->image_ref);
	ci->hash = pod_cri_dup(pod_cri_get((void *const *)c->annotations,
	    c->n_annotations, POD_ANN_HASH));
	ci->pod_uid = xstrdup(pod_cri_label(c->labels, c->n_labels,
	    POD_LABEL_UID, ""));
	grace = pod_cri_get((void *const *)c->annotations, c->n_annotations,
	    POD_ANN_GRACE);
	ci->grace_s = -1;
	if (grace != NULL && (g = strtoll(grace, &end, 10)) >= 0 &&
	    *end == '\0' && end != grace && g < 86400)
		ci->grace_s = g;
}

/* A container's status: times, exit code, reason and message. */
void
pod_cri_apply_status(struct pod_cinst *ci,
    const Runtime__V1__ContainerStatus *s)
{
	ci->state = pod_cri_cstate(s->state);
	ci->started_ns = s->started_at;
	ci->finished_ns = s->finished_at;
	ci->exit_code = s->exit_code;
	free(ci->reason);
	ci->reason = pod_cri_dup(s->reason);
	free(ci->message);
	ci->message = pod_cri_dup(s->message);
	if (s->image_ref != NULL && *s->image_ref != '\0') {
		free(ci->image_ref);
		ci->image_ref = xstrdup(s->image_ref);
	}
	ci->have_status = 1;
}

/* A sandbox's IPs from its status. */
void
pod_cri_apply_sandbox_status(struct pod_sbinst *sb,
    const Runtime__V1__PodSandboxStatus *s)
{
	size_t	i;

	free(sb->ip);
	sb->ip = NULL;
	pod_strv_clear(&sb->ips);
	if (s->network == NULL)
		return;
	sb->ip = pod_cri_dup(s->network->ip);
	if (sb->ip != NULL)
		pod_strv_add(&sb->ips, sb->ip);
	for (i = 0; i < s->network->n_additional_ips; i++)
		if (s->network->additional_ips[i]->ip != NULL &&
		    *s->network->additional_ips[i]->ip != '\0')
			pod_strv_add(&sb->ips,
			    s->network->additional_ips[i]->ip);
}
