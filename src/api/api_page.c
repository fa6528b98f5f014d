/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body of a LIST, produced from a store snapshot as the client reads
 * it. The snapshot is taken when the request arrives, so the page is the
 * store at one revision however slowly it goes out. A page with a limit
 * is counted first (the continue token comes before the items in JSON),
 * then written item by item: a body that fits in API_STREAM_FILL bytes is
 * answered whole (Content-Length, the connection kept), a larger one is
 * sent as a chunked stream (api_stream.c) that pumps the next items each
 * time the client has read most of the last, so a client that never reads
 * costs the fill plus one object, not the list. The bytes of the body are
 * the same either way.
 *
 * A page is owned by the request handler until it is handed to a stream,
 * then by the stream's callbacks: freed when the last item is queued, or
 * when the client goes, stalls or the endpoint shuts down.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

struct api_page {
	struct api		*api;
	struct api_query	 q;
	struct store_snap	*snap;
	char			*prefix;
	char			*pos;		/* the last key scanned */
	char			*end;		/* a limited page ends here */
	char			*tok;		/* continue token, or NULL */
	char			 peer[64];
	uint64_t		 rev;
	time_t			 now;
	size_t			 n;		/* items matched or written */
	struct evbuffer		*buf;		/* being filled */
	size_t			 budget;	/* bytes to fill it to */
	int			 stopped;	/* the scan stopped early */
};

/* The revision served for an object: frames before revisions say 1. */
static uint64_t
api_page_rev(uint64_t rev)
{
	return rev != 0 ? rev : 1;
}

/* Frees the page and gives its snapshot back; accepts NULL. */
static void
api_page_free(struct api_page *pg)
{
	if (pg == NULL)
		return;
	store_snap_free(pg->snap);
	api_kube_query_clear(&pg->q);
	free(pg->prefix);
	free(pg->pos);
	free(pg->end);
	free(pg->tok);
	free(pg);
}

/* Counting a limited page: its last key, and whether more follow. */
static int
api_page_count_cb(const char *key, const char *js, size_t len, uint64_t rev,
    void *arg)
{
	struct api_page	*pg = arg;

	(void)rev;
	if (!api_list_match(&pg->q, key, js, len))
		return 0;
	if (pg->n == (size_t)pg->q.limit) {
		pg->stopped = 1;
		return 1;
	}
	pg->n++;
	free(pg->end);
	pg->end = xstrdup(key);
	return 0;
}

/* A page with a limit: where it ends and its token; -1 on a store error. */
static int
api_page_count(struct api_page *pg)
{
	if (pg->q.limit <= 0)
		return 0;
	if (store_snap_scan(pg->snap, pg->prefix, pg->pos, api_page_count_cb,
	    pg) == -1)
		return -1;
	if (pg->stopped)
		pg->tok = api_list_token(pg->rev, pg->end);
	else {
		free(pg->end);
		pg->end = NULL;
	}
	pg->n = 0;
	pg->stopped = 0;
	return 0;
}

/* The list's head, up to its first item. */
static void
api_page_head(struct api_page *pg, struct evbuffer *out)
{
	char	apiv[128];

	if (pg->q.table) {
		api_table_open(out, pg->q.kind, 1);
		return;
	}
	api_kube_api_version(pg->q.kind, apiv, sizeof(apiv));
	evbuffer_add_printf(out, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\","
	    "\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"",
	    pg->q.kind->kind, apiv, pg->rev);
	if (pg->tok != NULL)
		evbuffer_add_printf(out, ",\"continue\":\"%s\"", pg->tok);
	evbuffer_add(out, "},\"items\":[", 11);
}

/* The list's tail, after its last item. */
static void
api_page_tail(struct api_page *pg, struct evbuffer *out)
{
	if (pg->q.table)
		api_table_close(out, pg->rev, pg->tok);
	else
		evbuffer_add(out, "]}", 2);
}

/* One stored object: written when selected, until the page or fill ends. */
static int
api_page_item_cb(const char *key, const char *js, size_t len, uint64_t rev,
    void *arg)
{
	struct api_page	*pg = arg;

	if (!api_list_match(&pg->q, key, js, len))
		return 0;
	if (pg->q.table)
		api_table_row(pg->buf, pg->q.kind, js, len, api_page_rev(rev),
		    pg->now, pg->n == 0);
	else {
		if (pg->n > 0)
			evbuffer_add(pg->buf, ",", 1);
		api_text_write_object(pg->buf, js, len, api_page_rev(rev));
	}
	pg->n++;
	if (pg->end != NULL && strcmp(key, pg->end) == 0)
		return 1;
	if (evbuffer_get_length(pg->buf) < pg->budget)
		return 0;
	free(pg->pos);
	pg->pos = xstrdup(key);
	pg->stopped = 1;
	return 1;
}

/*
 * Writes items into out until it holds budget bytes: 1 while some are
 * left, 0 when the tail is written too, -1 on a store error.
 */
static int
api_page_fill(struct api_page *pg, struct evbuffer *out, size_t budget)
{
	pg->buf = out;
	pg->budget = budget;
	pg->stopped = 0;
	if (store_snap_scan(pg->snap, pg->prefix, pg->pos, api_page_item_cb,
	    pg) == -1)
		return -1;
	if (pg->stopped)
		return 1;
	api_page_tail(pg, out);
	return 0;
}

/* The client read most of what was queued: the next items. */
static void
api_page_pump_cb(struct api_stream *st, void *arg)
{
	struct api_page	*pg = arg;
	struct evbuffer	*buf;
	size_t		 queued = api_stream_pending(st);
	int		 rc;

	if ((buf = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	/* up to the fill with what still waits, as a watch's replay goes */
	rc = api_page_fill(pg, buf, queued < API_STREAM_FILL ?
	    API_STREAM_FILL - queued : 1);
	if (rc == -1) {
		/* the head is out: all that is left is to cut the body short */
		/* the store logged its error */
		log_debug("api: list %s for %s: cannot read the store, body "
		    "cut short", pg->q.kind->resource, pg->peer);
		pg->api->lists_cut++;
		api_stream_close(st, "store error");
		api_page_free(pg);
	} else if (evbuffer_get_length(buf) > 0) {
		api_stream_frame(buf);
		api_stream_send(st, buf, 0);
	}
	evbuffer_free(buf);
	if (rc == 0) {
		api_stream_pump(st, NULL, NULL);
		api_stream_end(st);
		api_page_free(pg);
	}
}

/* The stream closed under the page: the client left, stalled or we stop. */
static void
api_page_stream_cb(struct api_stream *st, const char *why, void *arg)
{
	struct api_page	*pg = arg;

	(void)st;
	log_debug("api: list %s for %s: %s after %zu items",
	    pg->q.kind->resource, pg->peer, why, pg->n);
	api_page_free(pg);
}

/* The first fill did not hold the body: the rest goes as a stream. */
static void
api_page_stream(struct api_req *req, struct api_page *pg,
    struct evbuffer *first)
{
	struct api		*api = api_req_api(req);
	struct api_stream	*st;
	struct bufferevent	*bev;

	if ((bev = api_reply_detach(req, 200, "application/json")) == NULL) {
		api_page_free(pg);
		return;
	}
	api->streamed_lists++;
	st = api_stream_new(api, bev, pg->peer, API_STREAM_FILL,
	    api_page_stream_cb, pg);
	api_stream_frame(first);
	api_stream_send(st, first, 0);
	api_stream_pump(st, api_page_pump_cb, pg);
}

/* Answers a LIST of the keys under prefix after start (taking all). */
void
api_page_serve(struct api_req *req, struct api_query *q, char *prefix,
    char *start, uint64_t rev)
{
	struct api_page	*pg;
	struct evbuffer	*out;
	int		 rc;

	pg = xcalloc(1, sizeof(*pg));
	pg->api = api_req_api(req);
	pg->q = *q;
	pg->q.cont = NULL;
	memset(q, 0, sizeof(*q));
	pg->prefix = prefix;
	pg->pos = start;
	pg->rev = rev;
	pg->now = time(NULL);
	snprintf(pg->peer, sizeof(pg->peer), "%s", api_req_peer(req));
	pg->snap = store_snap_new(pg->api->store);
	if ((out = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	if ((rc = api_page_count(pg)) == 0) {
		api_page_head(pg, out);
		/* HEAD tells the whole length: no stream for it */
		rc = api_page_fill(pg, out, api_req_method(req) ==
		    API_METHOD_HEAD ? SIZE_MAX : API_STREAM_FILL);
	}
	if (rc == -1)
		api_reply_status(req, 500, "InternalError", "cannot read the "
		    "store");
	else if (rc == 0)
		api_reply(req, 200, "application/json", out);
	else {
		api_page_stream(req, pg, out);
		pg = NULL;
	}
	evbuffer_free(out);
	api_page_free(pg);
}
