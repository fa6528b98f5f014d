/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pod_cri.c: the runtime's messages built from pods, and the runtime's
 * answers turned into the room's observed state. Requests live in an
 * arena the caller frees once the call has packed them.
 */
#ifndef EDGESITE_POD_CRI_H
#define EDGESITE_POD_CRI_H

#include "cri/cri.h"
#include "pod/pod_int.h"

struct pod_cri_arena {
	void	**v;
	size_t	  n;
};

void	*pod_cri_alloc(struct pod_cri_arena *, size_t);
char	*pod_cri_strdup(struct pod_cri_arena *, const char *);
void	 pod_cri_arena_free(struct pod_cri_arena *);
/* A map<string, string> with entries of descriptor d from the pairs. */
void	*pod_cri_map(struct pod_cri_arena *,
	    const ProtobufCMessageDescriptor *d, const struct pod_envs *,
	    size_t *n);

/* The labels identifying a pod's runtime objects, added to l. */
void	 pod_cri_pod_labels(const struct pod_node *, const cJSON *pod,
	    struct pod_envs *l);
/* /var/log/pods/<ns>_<name>_<uid>; caller frees. */
char	*pod_cri_log_dir(const cJSON *pod);
Runtime__V1__PodSandboxConfig *pod_cri_sandbox(struct pod_cri_arena *,
	    const struct pod_node *, const cJSON *pod, uint32_t attempt,
	    int *dns_fallback);
Runtime__V1__ContainerConfig *pod_cri_container(struct pod_cri_arena *,
	    const struct pod_node *, const cJSON *pod, const cJSON *c,
	    uint32_t attempt, const struct pod_envs *,
	    const struct pod_mounts *);

/* The value of key in a protobuf-c map<string, string>, or NULL. */
const char *pod_cri_get(void *const *entries, size_t n, const char *key);
void	 pod_cri_add_sandbox(struct pod_observed *,
	    const Runtime__V1__PodSandbox *);
void	 pod_cri_add_container(struct pod_observed *,
	    const Runtime__V1__Container *);
void	 pod_cri_apply_status(struct pod_cinst *,
	    const Runtime__V1__ContainerStatus *);
void	 pod_cri_apply_sandbox_status(struct pod_sbinst *,
	    const Runtime__V1__PodSandboxStatus *);

#endif
