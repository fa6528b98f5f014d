/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cri room: a gRPC client of the container runtime (containerd) over
 * HTTP/2 on its unix socket, in the one loop. One connection carries many
 * concurrent calls; each call has a deadline and can be cancelled. The
 * connection reconnects with back-off when the runtime goes away; calls in
 * flight then fail with CRI_UNAVAILABLE and the owner of pods reconciles
 * once the state is CRI_READY again (cri_watch).
 *
 * Messages are the protobuf-c structs generated from src/cri/api.proto
 * (package runtime.v1, e.g. Runtime__V1__RunPodSandboxRequest); callers
 * build requests with the generated __init() functions and plain C memory.
 *
 * Ownership:
 * - A request is serialized before the call function returns: the caller
 *   keeps ownership and may free or reuse it at once.
 * - A reply and everything it points to belong to the cri room and are
 *   valid only while the callback runs; copy what must outlive it.
 * - A struct cri_call belongs to the cri room; the handle is valid until
 *   the callback starts or cri_call_cancel() returns, whichever comes first.
 *
 * Callbacks: every call that returns a handle completes exactly once, on a
 * later loop turn (never inside the call function), unless cancelled first;
 * after cri_call_cancel() returns the callback never runs. Inside a
 * callback the caller may start new calls, cancel other calls, and even
 * cri_free() the client (the remaining calls are then dropped silently).
 */
#ifndef EDGESITE_CRI_H
#define EDGESITE_CRI_H

#include <stddef.h>
#include <stdint.h>

#include "cri/api.pb-c.h"

struct event_base;
struct conf;
struct cri;
struct cri_call;

/* The connection to the runtime. */
enum cri_state {
	CRI_DISCONNECTED = 0,	/* not started, or stopped */
	CRI_CONNECTING,		/* socket connecting, HTTP/2 preface sent */
	CRI_READY,		/* calls flow */
	CRI_BACKOFF,		/* lost or refused, waiting to retry */
};

/*
 * How a call ended: the gRPC status codes (same numbers), which also name
 * the failures found locally: the deadline (CRI_DEADLINE_EXCEEDED), no
 * connection or connection lost (CRI_UNAVAILABLE), a reply over the size
 * limit (CRI_RESOURCE_EXHAUSTED), a reply that does not decode or a broken
 * stream (CRI_INTERNAL).
 */
enum cri_code {
	CRI_OK = 0,
	CRI_CANCELLED = 1,
	CRI_UNKNOWN = 2,
	CRI_INVALID_ARGUMENT = 3,
	CRI_DEADLINE_EXCEEDED = 4,
	CRI_NOT_FOUND = 5,
	CRI_ALREADY_EXISTS = 6,
	CRI_PERMISSION_DENIED = 7,
	CRI_RESOURCE_EXHAUSTED = 8,
	CRI_FAILED_PRECONDITION = 9,
	CRI_ABORTED = 10,
	CRI_OUT_OF_RANGE = 11,
	CRI_UNIMPLEMENTED = 12,
	CRI_INTERNAL = 13,
	CRI_UNAVAILABLE = 14,
	CRI_DATA_LOSS = 15,
	CRI_UNAUTHENTICATED = 16,
};

/*
 * The outcome handed to a callback. On CRI_OK the member of u named after
 * the call points to the decoded response (never NULL); on an error every
 * member is NULL. message is the runtime's grpc-message (decoded, control
 * characters made spaces, at most 511 bytes) or our own text, never NULL
 * ("" on success). sent is 1 when the request may
 * have reached the runtime (so a failed RunPodSandbox may still have
 * created something: list and adopt before retrying).
 */
struct cri_reply {
	enum cri_code	 code;
	const char	*message;
	int		 sent;
	union {
		const void					*any;
		const Runtime__V1__VersionResponse		*version;
		const Runtime__V1__StatusResponse		*status;
		const Runtime__V1__RunPodSandboxResponse	*run_pod_sandbox;
		const Runtime__V1__StopPodSandboxResponse	*stop_pod_sandbox;
		const Runtime__V1__RemovePodSandboxResponse	*remove_pod_sandbox;
		const Runtime__V1__PodSandboxStatusResponse	*pod_sandbox_status;
		const Runtime__V1__ListPodSandboxResponse	*list_pod_sandbox;
		const Runtime__V1__CreateContainerResponse	*create_container;
		const Runtime__V1__StartContainerResponse	*start_container;
		const Runtime__V1__StopContainerResponse	*stop_container;
		const Runtime__V1__RemoveContainerResponse	*remove_container;
		const Runtime__V1__ListContainersResponse	*list_containers;
		const Runtime__V1__ContainerStatusResponse	*container_status;
		const Runtime__V1__ExecSyncResponse		*exec_sync;
		const Runtime__V1__PullImageResponse		*pull_image;
		const Runtime__V1__ImageStatusResponse		*image_status;
		const Runtime__V1__ListImagesResponse		*list_images;
		const Runtime__V1__RemoveImageResponse		*remove_image;
	} u;
};

/* Completion of one call; runs exactly once unless cancelled first. */
typedef void (*cri_cb)(const struct cri_reply *, void *arg);
/* The connection changed state (see cri_watch). */
typedef void (*cri_state_cb)(enum cri_state, void *arg);

/*
 * Creates the client for conf's remote-runtime-endpoint (and
 * remote-image-endpoint when set and different: image calls then use a
 * second connection) and starts connecting in the background. The default
 * deadline of a call is runtime-request-timeout; PullImage uses
 * image-pull-progress-deadline when that is longer. Returns NULL with
 * *errstr set when the endpoint is unusable (not a unix:// URL, path too
 * long). The health part "cri" follows the connection.
 */
struct cri	*cri_new(struct event_base *, const struct conf *,
		    const char **errstr);
/*
 * Closes the connections and frees everything; calls still in flight are
 * dropped without their callbacks. Accepts NULL. May be called from inside
 * a cri callback; the memory is then released on a later loop turn.
 */
void		 cri_free(struct cri *);

/* The connection state (of the runtime endpoint). */
enum cri_state	 cri_state(struct cri *);
/* A state's name: "disconnected", "connecting", "ready", "backoff". */
const char	*cri_state_name(enum cri_state);
/* A code's name as gRPC spells it, e.g. "DEADLINE_EXCEEDED". */
const char	*cri_code_name(enum cri_code);
/*
 * Adds an observer of state changes (the pod room reconciles on CRI_READY,
 * the daemon passes the runtime version to the kube room). Each time the
 * connection comes up the client first asks Version, then reports
 * CRI_READY. Observers run in the order added, on a later loop turn than
 * the cause, and may start calls.
 */
void		 cri_watch(struct cri *, cri_state_cb, void *arg);
/* Removes the observer added with the same cb and arg; safe in a callback. */
void		 cri_unwatch(struct cri *, cri_state_cb, void *arg);
/*
 * "containerd://1.6.20" (runtime_name "://" runtime_version) from the last
 * Version answer, or NULL before the first; valid until the next loop turn
 * that reconnects, copy it to keep it.
 */
const char	*cri_runtime_version(struct cri *);

/*
 * Sets the deadline of calls started from now on, in milliseconds; 0
 * restores the configured default. Tests and the pod room's long
 * operations (StopContainer with a grace period) use it: the deadline of
 * StopContainer and ExecSync is extended by their own timeout field
 * anyway.
 */
void		 cri_set_timeout(struct cri *, int64_t ms);

/*
 * Sets the largest reply accepted, in bytes (default 16 MiB, as a
 * kubelet's); a bigger one fails its call with CRI_RESOURCE_EXHAUSTED
 * before anything is allocated for it. 0 restores the default.
 */
void		 cri_set_max_message(struct cri *, size_t);

/*
 * Cancels a call: it is removed and its stream reset (RST_STREAM CANCEL);
 * its callback never runs. Accepts NULL. Must not be called on a call
 * whose callback has started.
 */
void		 cri_call_cancel(struct cri_call *);

/*
 * The calls. Each returns a handle, never NULL. A call started while the
 * client is connecting waits for the connection (within its deadline); one
 * started in CRI_BACKOFF or CRI_DISCONNECTED fails with CRI_UNAVAILABLE on
 * the next loop turn: retry when the state callback reports CRI_READY.
 */
struct cri_call	*cri_version(struct cri *,
		    const Runtime__V1__VersionRequest *, cri_cb, void *);
struct cri_call	*cri_status(struct cri *,
		    const Runtime__V1__StatusRequest *, cri_cb, void *);
struct cri_call	*cri_run_pod_sandbox(struct cri *,
		    const Runtime__V1__RunPodSandboxRequest *, cri_cb, void *);
struct cri_call	*cri_stop_pod_sandbox(struct cri *,
		    const Runtime__V1__StopPodSandboxRequest *, cri_cb, void *);
struct cri_call	*cri_remove_pod_sandbox(struct cri *,
		    const Runtime__V1__RemovePodSandboxRequest *, cri_cb,
		    void *);
struct cri_call	*cri_pod_sandbox_status(struct cri *,
		    const Runtime__V1__PodSandboxStatusRequest *, cri_cb,
		    void *);
struct cri_call	*cri_list_pod_sandbox(struct cri *,
		    const Runtime__V1__ListPodSandboxRequest *, cri_cb, void *);
struct cri_call	*cri_create_container(struct cri *,
		    const Runtime__V1__CreateContainerRequest *, cri_cb, void *);
struct cri_call	*cri_start_container(struct cri *,
		    const Runtime__V1__StartContainerRequest *, cri_cb, void *);
struct cri_call	*cri_stop_container(struct cri *,
		    const Runtime__V1__StopContainerRequest *, cri_cb, void *);
struct cri_call	*cri_remove_container(struct cri *,
		    const Runtime__V1__RemoveContainerRequest *, cri_cb, void *);
struct cri_call	*cri_list_containers(struct cri *,
		    const Runtime__V1__ListContainersRequest *, cri_cb, void *);
struct cri_call	*cri_container_status(struct cri *,
		    const Runtime__V1__ContainerStatusRequest *, cri_cb, void *);
struct cri_call	*cri_exec_sync(struct cri *,
		    const Runtime__V1__ExecSyncRequest *, cri_cb, void *);
struct cri_call	*cri_pull_image(struct cri *,
		    const Runtime__V1__PullImageRequest *, cri_cb, void *);
struct cri_call	*cri_image_status(struct cri *,
		    const Runtime__V1__ImageStatusRequest *, cri_cb, void *);
struct cri_call	*cri_list_images(struct cri *,
		    const Runtime__V1__ListImagesRequest *, cri_cb, void *);
struct cri_call	*cri_remove_image(struct cri *,
		    const Runtime__V1__RemoveImageRequest *, cri_cb, void *);

#endif
