/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The apiserver client: HTTP/1.1 over libevent bufferevents, TLS through
 * OpenSSL, with kubeconfig credentials, qps/burst, failover between
 * masters and Retry-After. Requests are either plain (the whole body is
 * delivered at the end) or streams (a watch: each newline-terminated line
 * delivered as it arrives). kube_http.c is the kube room's only user of
 * OpenSSL.
 */
#ifndef EDGESITE_KUBE_HTTP_H
#define EDGESITE_KUBE_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kube_auth;
struct kube_client;
struct kube_req;

/* Largest response body of a plain request, and largest watch line. */
#define KUBE_HTTP_MAX_BODY	(64u * 1024 * 1024)
#define KUBE_HTTP_MAX_LINE	(16u * 1024 * 1024)

/* Transport-level outcomes (negative) besides HTTP status codes. */
enum kube_http_err {
	KUBE_HTTP_ECONNECT = -1,	/* could not connect / TLS failed */
	KUBE_HTTP_EIO = -2,		/* connection lost mid-response */
	KUBE_HTTP_ETIMEOUT = -3,	/* no byte for the idle timeout */
	KUBE_HTTP_EPROTO = -4,		/* malformed or oversized response */
	KUBE_HTTP_ECANCEL = -5,		/* kube_req_cancel (callback not called) */
};

struct kube_resp {
	int		 status;	/* HTTP status, or a kube_http_err */
	const char	*body;		/* NUL-terminated, decompressed */
	size_t		 len;
	uint64_t	 retry_after_ms;	/* from Retry-After, 0 if none */
	const char	*errstr;	/* text for a transport error, or NULL */
};

/*
 * Completion of a request: runs exactly once, unless the request was
 * cancelled. The request and the response are freed after it returns;
 * do not cancel req from inside its own completion.
 */
typedef void (*kube_resp_cb)(struct kube_req *, const struct kube_resp *,
    void *arg);
/*
 * A stream line (without the newline); the buffer is valid for the call.
 * line NULL: a line longer than KUBE_HTTP_MAX_LINE, of len bytes, was
 * dropped unread and the stream goes on.
 */
typedef void (*kube_line_cb)(struct kube_req *, const char *line, size_t len,
    void *arg);

/*
 * Creates the client for the servers and credentials in auth (copied).
 * qps/burst limit request starts (watches count once). NULL with *errstr
 * when the TLS material is unusable (bad PEM, key not matching the cert).
 */
struct kube_client *kube_client_new(struct event_base *,
		    const struct kube_auth *, int qps, int burst,
		    const char **errstr);
/* Cancels every request (no callbacks) and frees the client. */
void		 kube_client_free(struct kube_client *);

/*
 * Starts a request: method "GET", "POST", "PUT", "PATCH", "DELETE"; path
 * with query ("/api/v1/nodes/n1"); body may be NULL; content_type is for
 * the body ("application/json", "application/merge-patch+json",
 * "application/strategic-merge-patch+json"). idle_ms: the connection is
 * dropped when silent that long (0: a default of 30 s). Never NULL; the
 * callback always runs later, never inside this call.
 */
struct kube_req	*kube_http_request(struct kube_client *, const char *method,
		    const char *path, const char *body, const char *content_type,
		    uint64_t idle_ms, kube_resp_cb, void *arg);
/*
 * Starts a stream (GET): line_cb for each line of a 200 response, then
 * done_cb once when it ends (status 200 and KUBE_HTTP_EIO-free end means
 * the server closed it normally). A non-200 answer calls done_cb with the
 * status and the body, and no line.
 */
struct kube_req	*kube_http_stream(struct kube_client *, const char *path,
		    uint64_t idle_ms, kube_line_cb, kube_resp_cb done_cb,
		    void *arg);
/* Cancels a request in flight; its callbacks are never called after. */
void		 kube_req_cancel(struct kube_req *);

/* The server URL in use now (for logs and /readyz). */
const char	*kube_client_server(struct kube_client *);
/* Moves to the next master (after failures); the next requests use it. */
void		 kube_client_failover(struct kube_client *);

#endif
