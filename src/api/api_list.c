/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET and LIST of the read API, answered from the store. A GET reads one
 * key; a LIST scans the kind's keys (narrowed to one namespace when the
 * path or a metadata.namespace field selector names one), keeps the
 * objects the label and field selectors select, and pages with
 * limit/continue. Objects are written as the store holds them, their
 * metadata.resourceVersion set to the local revision that last wrote them
 * (api_text.c); the list's own resourceVersion is the store's revision, so
 * a watch resumes where a list ended. With an Accept of as=Table the
 * answer is a meta.k8s.io/v1 Table instead (api_table.c).
 *
 * A continue token is "<list revision>:<last key in hex>": the next page
 * starts after that key, and the list keeps the first page's revision
 * while the change log still reaches back to it (410 Expired after). The
 * page itself is written from a store snapshot as the client reads it
 * (api_page.c).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

/* Field values looked up for one object, freed after matching. */
#define API_LIST_MAX_FIELDS	8

/* One object being matched against a query. */
struct api_list_obj {
	const char	*key;
	const char	*js;
	size_t		 len;
	cJSON		*labels;
	int		 labels_read;
	char		*vals[API_LIST_MAX_FIELDS];
	size_t		 nvals;
};

/* The revision served for an object: frames before revisions say 1. */
static uint64_t
api_list_rev(uint64_t rev)
{
	return rev != 0 ? rev : 1;
}

/*
 * The store's revision, but never 0: clients take a list at "0" for "any
 * version" and would be sent everything again by the watch that follows.
 */
uint64_t
api_list_revision(struct api *api)
{
	return api_list_rev(store_revision(api->store));
}

/* The namespace and name parts of o/<store>/<ns>/<name>. */
static void
api_list_key_parts(const char *key, const char **ns, size_t *nslen,
    const char **name)
{
	const char	*p, *slash;

	*ns = "";
	*nslen = 0;
	*name = "";
	if ((p = strchr(key + 2, '/')) == NULL)
		return;
	p++;
	if ((slash = strchr(p, '/')) == NULL)
		return;
	*ns = p;
	*nslen = (size_t)(slash - p);
	*name = slash + 1;
}

/* A label's value, the labels parsed once per object. */
static const char *
api_list_label_cb(const char *key, void *arg)
{
	struct api_list_obj	*o = arg;
	struct api_span		 sp;
	const cJSON		*v;
	const char		*errstr;

	if (!o->labels_read) {
		o->labels_read = 1;
		if (api_text_find(o->js, o->len, "metadata.labels", &sp) == 0)
			o->labels = json_parse(sp.p, sp.len, sp.len, &errstr);
	}
	if (o->labels == NULL ||
	    (v = cJSON_GetObjectItemCaseSensitive(o->labels, key)) == NULL ||
	    !cJSON_IsString(v))
		return NULL;
	return v->valuestring;
}

/* A field's value ("" when absent, as the apiserver has it). */
static const char *
api_list_field_cb(const char *field, void *arg)
{
	struct api_list_obj	*o = arg;
	struct api_span		 sp;
	const char		*ns, *name;
	size_t			 nslen;
	char			*v = NULL;

	api_list_key_parts(o->key, &ns, &nslen, &name);
	if (strcmp(field, "metadata.name") == 0)
		return name;
	if (o->nvals == API_LIST_MAX_FIELDS)
		return "";
	if (strcmp(field, "metadata.namespace") == 0)
		v = xstrndup(ns, nslen);
	else if (api_text_find(o->js, o->len, field, &sp) == 0)
		v = api_text_string(&sp);
	if (v == NULL)
		return "";
	o->vals[o->nvals++] = v;
	return v;
}

/* Selectors against one object: fields first, they are cheaper. */
int
api_list_match(const struct api_query *q, const char *key, const char *js,
    size_t len)
{
	struct api_list_obj	o;
	size_t			i;
	int			ok;

	if (api_select_empty(q->fields) && api_select_empty(q->labels))
		return 1;
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.js = js;
	o.len = len;
	ok = api_select_match(q->fields, api_list_field_cb, &o) &&
	    api_select_match(q->labels, api_list_label_cb, &o);
	cJSON_Delete(o.labels);
	for (i = 0; i < o.nvals; i++)
		free(o.vals[i]);
	return ok;
}

/* Answers a 404 naming the object, as the apiserver words it. */
static void
api_list_not_found(struct api_req *req, const struct api_query *q)
{
	char	*msg;

	xasprintf(&msg, "%s \"%s\" not found", q->kind->resource, q->name);
	api_reply_status(req, 404, "NotFound", msg);
	free(msg);
}

/* GET of one object. */
void
api_list_get(struct api_req *req, struct api_query *q)
{
	struct api	*api = api_req_api(req);
	struct evbuffer	*out;
	char		*key, *js = NULL;
	size_t		 len;
	uint64_t	 rev;
	int		 rc;

	if (q->kind->namespaced && q->ns == NULL) {
		api_list_not_found(req, q);
		return;
	}
	key = store_key_object(q->kind->store, q->ns, q->name);
	rc = store_get_rev(api->store, key, &js, &len, &rev);
	if (rc == 1)
		api_list_not_found(req, q);
	else if (rc == -1)
		api_reply_status(req, 500, "InternalError", "cannot read the "
		    "store");
	else {
		if ((out = evbuffer_new()) == NULL)
			fatalx("api: out of memory");
		if (q->table) {
			api_table_open(out, q->kind, 1);
			api_table_row(out, q->kind, js, len, api_list_rev(rev),
			    time(NULL), 1);
			api_table_close(out, api_list_rev(rev), NULL);
		} else
			api_text_write_object(out, js, len, api_list_rev(rev));
		api_reply(req, 200, "application/json", out);
		evbuffer_free(out);
	}
	free(js);
	free(key);
}

/* Value of a hex digit, or -1. */
static int
api_list_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Reads a continue token into its revision and start key (caller frees);
 * -1 when it is not one of ours or not for this prefix.
 */
static int
api_list_token_read(const char *tok, const char *prefix, uint64_t *rev,
    char **start)
{
	const char	*colon, *p;
	char		*key, *ep;
	size_t		 n, i;
	int		 hi, lo;

	if ((colon = strchr(tok, ':')) == NULL || colon == tok)
		return -1;
	*rev = strtoull(tok, &ep, 10);
	if (ep != colon)
		return -1;
	p = colon + 1;
	if ((n = strlen(p)) % 2 != 0 || n == 0 || n > 2 * 1024)
		return -1;
	key = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = api_list_hex(p[2 * i])) == -1 ||
		    (lo = api_list_hex(p[2 * i + 1])) == -1 ||
		    (hi | lo) == 0) {
			free(key);
			return -1;
		}
		key[i] = (char)(hi << 4 | lo);
	}
	key[n / 2] = '\0';
	if (strncmp(key, prefix, strlen(prefix)) != 0) {
		free(key);
		return -1;
	}
	*start = key;
	return 0;
}

/* A continue token after key at revision rev; caller frees. */
char *
api_list_token(uint64_t rev, const char *key)
{
	char	*tok, *p;
	size_t	 n = strlen(key), i;

	xasprintf(&tok, "%" PRIu64 ":", rev);
	p = tok;
	tok = xmalloc(strlen(p) + 2 * n + 1);
	strcpy(tok, p);
	free(p);
	p = tok + strlen(tok);
	for (i = 0; i < n; i++)
		p += snprintf(p, 3, "%02x", (unsigned char)key[i]);
	return tok;
}

/*
 * The prefix to scan: a metadata.namespace field selector narrows a list
 * across namespaces to one.
 */
static char *
api_list_prefix(const struct api_query *q)
{
	const char	*ns;

	if (q->ns == NULL && q->kind->namespaced &&
	    (ns = api_select_equal(q->fields, "metadata.namespace")) != NULL &&
	    *ns != '\0' && strchr(ns, '/') == NULL)
		return store_key_objects(q->kind->store, ns);
	return xstrdup(q->prefix);
}

/* LIST: the token checked, then the page from a snapshot. */
void
api_list_list(struct api_req *req, struct api_query *q)
{
	struct api	*api = api_req_api(req);
	char		*prefix, *start = NULL;
	uint64_t	 rev;

	rev = api_list_revision(api);
	prefix = api_list_prefix(q);
	if (q->cont != NULL) {
		if (api_list_token_read(q->cont, prefix, &rev, &start) == -1) {
			api_reply_status(req, 400, "BadRequest", "invalid "
			    "continue token");
			free(prefix);
			return;
		}
		if (rev < store_log_first(api->store) ||
		    rev > api_list_revision(api)) {
			api_reply_status(req, 410, "Expired", "the provided "
			    "continue parameter is too old to display a "
			    "consistent list result; list again without it");
			free(start);
			free(prefix);
			return;
		}
	}
	api_page_serve(req, q, prefix, start, rev);
}
