/*
 * Internal interface between the files of the local endpoint. api.c owns
 * libevhtp and turns each request into a struct api_req; the handlers in
 * api_health.c, api_metrics.c and api_debug.c see only this header, read
 * the request through the api_req_* accessors and answer it once with one
 * of the api_reply_* functions before they return.
 */
#ifndef EDGESITE_API_INT_H
#define EDGESITE_API_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct evhtp;
struct api_conn;
struct api_reject;
struct api_metrics;

/* Limits on what a client may send. */
#define API_MAX_BODY		(1024u * 1024)	/* request body */
#define API_MAX_URI		8192		/* path and query */
#define API_MAX_HEADERS		64		/* header lines per request */
#define API_MAX_HEADER_BYTES	(32u * 1024)	/* all header lines */
#define API_MAX_ARGS		32		/* query arguments looked at */
#define API_MAX_CONNS		4096		/* open client connections */
#define API_IDLE_TIMEOUT	60		/* s without a byte read */

/* The label for any path that is not one of the routes. */
#define API_LABEL_OTHER		"other"

struct api {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct evhtp		*htp;
	char			*listen;	/* what we bound, for logs */
	size_t			 nconns;
	size_t			 maxconns;
	int			 full;		/* refusing clients, logged */
	TAILQ_HEAD(, api_conn)	 conns;
	TAILQ_HEAD(, api_reject) rejects;
	struct api_metrics	*metrics;
};

enum api_method {
	API_METHOD_GET,
	API_METHOD_HEAD,
	API_METHOD_OTHER,
};

/* One request as the handlers see it; valid only during the handler. */
struct api_req;
typedef void (*api_handler_cb)(struct api_req *);

/* api.c: the request. */
struct api		*api_req_api(struct api_req *);
enum api_method		 api_req_method(struct api_req *);
const char		*api_req_path(struct api_req *);
/*
 * The percent-decoded value of query argument key: "" when given without a
 * value ("?verbose"), NULL when absent. Valid until the handler returns.
 */
const char		*api_req_query(struct api_req *, const char *key);

/* api.c: the answer; exactly one per request. */
/* Sends body (may be NULL); its contents are moved out, the caller frees it. */
void	 api_reply(struct api_req *, int code, const char *ctype,
	    struct evbuffer *body);
/* Sends a NUL-terminated string. */
void	 api_reply_text(struct api_req *, int code, const char *ctype,
	    const char *text);
/* Sends a Kubernetes Status object with reason and message. */
void	 api_reply_status(struct api_req *, int code, const char *reason,
	    const char *message);
/* The standard reason phrase of an HTTP status code. */
const char *api_code_text(int code);

/* api_health.c */
void	 api_health_healthz(struct api_req *);
void	 api_health_livez(struct api_req *);
void	 api_health_readyz(struct api_req *);

/* api_metrics.c */
struct api_metrics *api_metrics_new(struct api *);
void	 api_metrics_free(struct api_metrics *);
/* Counts one answered request; label is a static string. */
void	 api_metrics_count(struct api *, const char *label, int code);
void	 api_metrics_serve(struct api_req *);

/* api_debug.c */
#define API_DEBUG_STORE_MAX	10000	/* keys listed by /debug/store */
void	 api_debug_config(struct api_req *);
void	 api_debug_store(struct api_req *);

#endif
