/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface between the files of the local endpoint. api.c owns
 * libevhtp and turns each request into a struct api_req; the handlers in
 * api_health.c, api_metrics.c, api_debug.c and the Kubernetes read API
 * (api_kube.c, api_list.c, api_table.c, api_watch.c, with api_select.c,
 * api_text.c and api_stream.c) see libevhtp only through this header,
 * read the request through the api_req_* accessors and answer it once
 * with one of the api_reply_* functions before they return, or hand the
 * connection to a stream (api_stream.c) for a watch.
 */
#ifndef EDGESITE_API_INT_H
#define EDGESITE_API_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event_struct.h>

#include "core/ratelimit.h"

/* Between two log lines of dropped connections (per reason), cut streams. */
#define API_DROP_LOG_MS		1000
#define API_STREAM_LOG_MS	60000

struct bufferevent;
struct evbuffer;
struct evhtp;
struct api_conn;
struct api_reject;
struct api_metrics;
struct api_stream;
struct api_watch_hub;
struct api_peer;
struct api_peers;

/* Limits on what a client may send. */
#define API_MAX_BODY		(1024u * 1024)	/* request body */
#define API_MAX_URI		8192		/* path and query */
#define API_MAX_HEADERS		64		/* header lines per request */
#define API_MAX_HEADER_BYTES	(32u * 1024)	/* all header lines */
#define API_MAX_ARGS		32		/* query arguments looked at */
#define API_FD_SPARE		128		/* descriptors kept from clients */
#define API_TOKEN_MAX		4096		/* bearer token file */

/* The label for any path that is not one of the routes. */
#define API_LABEL_OTHER		"other"

/* Why a client connection was closed or refused, for logs and metrics. */
enum api_drop {
	API_DROP_REFUSED,	/* no slot, none to shed */
	API_DROP_SHED,		/* closed to make room for a probe */
	API_DROP_PEER,		/* over its address's share: 503 */
	API_DROP_FULL,		/* every general slot taken: 503 */
	API_DROP_HEADER,	/* request not whole within header-timeout */
	API_DROP_IDLE,		/* no next request within idle-timeout */
	API_DROP_MAX,
};

/* The metrics label of each reason (api.c). */
extern const char *const api_drop_label[API_DROP_MAX];

struct api {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct evhtp		*htp;
	char			*listen;	/* what we bound, for logs */
	size_t			 nconns;	/* on general slots */
	size_t			 nreserved;	/* on reserved slots */
	size_t			 fdcap;		/* what descriptors allow */
	TAILQ_HEAD(, api_conn)	 conns;		/* oldest first */
	TAILQ_HEAD(, api_conn)	 reserved;	/* oldest first */
	struct api_peers	*peers;
	struct event		 shed_ev;	/* back to the reserved slots */
	uint64_t		 drops[API_DROP_MAX];
	struct ratelimit	 drop_rl[API_DROP_MAX];	/* 1 line/s each */
	TAILQ_HEAD(, api_reject) rejects;
	TAILQ_HEAD(, api_stream) streams;
	size_t			 nstreams;
	uint64_t		 streamed_lists; /* too big to build */
	uint64_t		 stream_stalls;	/* cut off: read nothing */
	uint64_t		 stream_overflows; /* live data piled up */
	uint64_t		 lists_cut;	/* cut by a store error */
	struct ratelimit	 cut_rl;	/* 1 line a minute */
	struct api_metrics	*metrics;
	struct api_watch_hub	*hub;
	char			*token;		/* bearer token, or NULL */
	int			 remote;	/* listening beyond loopback */
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
/* A request header's value, or NULL. Valid until the handler returns. */
const char		*api_req_get_header(struct api_req *, const char *name);
/* The client, for logs ("127.0.0.1:4711"). */
const char		*api_req_peer(struct api_req *);

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
/* Adds a response header (both copied) to the answer still to come. */
void	 api_reply_header(struct api_req *, const char *key, const char *val);
/*
 * Answers the headers of a chunked reply and hands the connection over:
 * the caller owns the returned bufferevent (as api_stream_new takes it)
 * and the request is done. NULL when the connection cannot be taken (the
 * request was answered with a 500).
 */
struct bufferevent *api_reply_detach(struct api_req *, int code,
	    const char *ctype);

/* api_text.c: finding members in an object's JSON text, pure. */
struct api_span {
	const char	*p;	/* a value's text */
	size_t		 len;
};
/* Finds a dotted path of object members; 0, or -1 when absent. */
int	 api_text_find(const char *js, size_t len, const char *path,
	    struct api_span *out);
/* A string value unescaped, caller frees; NULL when not a string. */
char	*api_text_string(const struct api_span *);
/* Whether a value is exactly the string s. */
int	 api_text_equals(const struct api_span *, const char *s);
/* Writes metadata (an object's text) with resourceVersion rev. */
void	 api_text_write_meta(struct evbuffer *, const char *mp, size_t mlen,
	    uint64_t rev);
/* Writes an object with metadata.resourceVersion rev, else as it is. */
void	 api_text_write_object(struct evbuffer *, const char *js, size_t len,
	    uint64_t rev);

/* api_select.c: label and field selectors, pure. */
struct api_select;
typedef const char *(*api_select_get_cb)(const char *key, void *arg);
/* NULL with *errstr set when s is not a valid selector. */
struct api_select *api_select_labels(const char *s, const char **errstr);
struct api_select *api_select_fields(const char *s,
	    const char *const *fields, const char **errstr);
void	 api_select_free(struct api_select *);
int	 api_select_empty(const struct api_select *);
int	 api_select_match(const struct api_select *, api_select_get_cb,
	    void *arg);
const char *api_select_equal(const struct api_select *, const char *key);

/* api_peer.c: connections per client address, pure. */
#define API_PEER_KEY		17	/* family byte, 16 address bytes */
struct api_peers	*api_peers_new(void);
void			 api_peers_free(struct api_peers *);
/* The peer of key with one more connection; created at its first. */
struct api_peer		*api_peers_ref(struct api_peers *, const uint8_t *key);
/* One connection less; the peer is freed with its last. Accepts NULL. */
void			 api_peers_unref(struct api_peers *, struct api_peer *);
size_t			 api_peer_conns(const struct api_peer *);
/* Peers holding a connection. */
size_t			 api_peers_count(const struct api_peers *);

/* api_kube.c: the kinds served and the request for them. */
enum api_table_cols {
	API_TABLE_NAME,		/* NAME AGE */
	API_TABLE_POD,
	API_TABLE_NODE,
	API_TABLE_SERVICE,
	API_TABLE_CONFIGMAP,
	API_TABLE_SECRET,
	API_TABLE_ENDPOINTS,
	API_TABLE_LEASE,
	API_TABLE_EVENT,
};

struct api_kind {
	const char		*resource;	/* "pods" */
	const char		*singular;	/* "pod" */
	const char		*group;		/* "" for the core group */
	const char		*version;	/* "v1" */
	const char		*kind;		/* "Pod" */
	const char		*store;		/* store resource name */
	int			 namespaced;
	const char		*short_names;	/* comma list, or NULL */
	const char *const	*fields;	/* field selector names */
	enum api_table_cols	 table;
};

/* What a GET, LIST or WATCH asks for; filled from the path and query. */
struct api_query {
	const struct api_kind	*kind;
	char			*ns;		/* NULL: every namespace */
	char			*name;		/* GET one */
	char			*prefix;	/* store keys to scan */
	struct api_select	*labels;
	struct api_select	*fields;
	int			 watch;
	int			 table;		/* answer a meta.k8s.io Table */
	int			 rv_given;
	uint64_t		 rv;
	int64_t			 limit;		/* 0: no limit */
	const char		*cont;		/* continue token */
	int64_t			 timeout;	/* s; 0: the default */
	int			 bookmarks;
	int			 initial_end;	/* sendInitialEvents bookmark */
};

#define API_KUBE_VERSION_MAJOR	"1"
#define API_KUBE_VERSION_MINOR	"31"
#define API_KUBE_GIT_VERSION	"v1.31.0-edgesite"

/* Whether path belongs to the Kubernetes read API. */
int	 api_kube_path(const char *path);
void	 api_kube_serve(struct api_req *);
/* The kind whose objects are stored under key (o/<store>/...), or NULL. */
const struct api_kind *api_kube_kind_of(const char *key);
/* Frees what a query holds and zeroes it. */
void	 api_kube_query_clear(struct api_query *);
/* The kinds, for the watch hub's per-kind lists. */
extern const struct api_kind	api_kube_kinds[];
extern const size_t		api_kube_nkinds;
/* The "apiVersion" of a kind: "v1" or "group/version". */
void	 api_kube_api_version(const struct api_kind *, char *buf, size_t len);

/* api_list.c: GET and LIST from the store. */
/* The revision lists and watches are at: the store's, at least 1. */
uint64_t api_list_revision(struct api *);
void	 api_list_get(struct api_req *, struct api_query *);
void	 api_list_list(struct api_req *, struct api_query *);
/* Whether an object (its key and text) is one the query selects. */
int	 api_list_match(const struct api_query *, const char *key,
	    const char *js, size_t len);
/* The continue token of a page ending at key; caller frees. */
char	*api_list_token(uint64_t rev, const char *key);

/* api_page.c: a LIST's body from a store snapshot, as the client reads. */
/* Answers the LIST; takes q's contents, prefix and start (may be NULL). */
void	 api_page_serve(struct api_req *, struct api_query *q, char *prefix,
	    char *start, uint64_t rev);

/* api_table.c: the meta.k8s.io/v1 Table kubectl prints. */
/* Opens a Table: kind, apiVersion, column definitions, "rows":[. */
void	 api_table_open(struct evbuffer *, const struct api_kind *, int defs);
/* One row: the cells of an object and its metadata (first: no comma). */
void	 api_table_row(struct evbuffer *, const struct api_kind *,
	    const char *js, size_t len, uint64_t rev, time_t now, int first);
/* Closes the rows and writes metadata; cont may be NULL. */
void	 api_table_close(struct evbuffer *, uint64_t rev, const char *cont);

/* api_stream.c: a chunked reply that outlives its request. */
#define API_STREAM_LIMIT	(4u * 1024 * 1024)	/* default send buffer */
/* Told once when the peer goes, stalls or overflows; then unusable. */
typedef void (*api_stream_close_cb)(struct api_stream *, const char *why,
	    void *arg);
struct api_stream *api_stream_new(struct api *, struct bufferevent *,
	    const char *peer, size_t limit, api_stream_close_cb, void *arg);
/* Frames data in place as one chunk (length line, data, CRLF). */
void	 api_stream_frame(struct evbuffer *data);
/*
 * Queues one framed chunk. A live one shares data's bytes (data must not
 * change after, nor hold references itself), and over the send buffer
 * limit closes the stream instead: returns -1 and the close callback is
 * not called. Any other is copied into one allocation of its size.
 */
int	 api_stream_send(struct api_stream *, struct evbuffer *data, int live);
/* Sends the last chunk, then closes once it is written. */
void	 api_stream_end(struct api_stream *);
/*
 * Output produced from the store goes at the client's pace: the owner
 * queues chunks until api_stream_full, and pump is called again once the
 * client has read most of them. Cleared with a NULL pump; never called on
 * a stream that is ending or closed.
 */
#define API_STREAM_FILL		(32u * 1024)	/* produced ahead */
typedef void (*api_stream_pump_cb)(struct api_stream *, void *arg);
void	 api_stream_pump(struct api_stream *, api_stream_pump_cb, void *arg);
int	 api_stream_full(struct api_stream *);
/* Closes at once without the close callback; accepts NULL. */
void	 api_stream_close(struct api_stream *, const char *why);
/* Bytes waiting to be written. */
size_t	 api_stream_pending(struct api_stream *);
/* api_free: closes every stream still open. */
void	 api_stream_close_all(struct api *);

/* api_watch.c: watches and the fan-out of store changes. */
struct api_watch_hub *api_watch_hub_new(struct api *);
void	 api_watch_hub_free(struct api_watch_hub *);
/* Answers a watch request: takes q's contents. */
void	 api_watch_start(struct api_req *, struct api_query *);

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
