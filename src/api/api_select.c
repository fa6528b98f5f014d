/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label and field selectors of the Kubernetes list and watch API, as pure
 * parsers and a matcher. A label selector is a comma list of requirements:
 * "key", "!key", "key=v", "key==v", "key!=v", "key in (a,b)", "key notin
 * (a,b)", "key>n", "key<n", with keys and values checked as the apiserver
 * checks them. A field selector is a comma list of "field=v", "field==v"
 * or "field!=v" over the fields a kind supports ("\," "\=" "\\" escape in
 * values). Parsers never log: a bad selector returns NULL and a message.
 * Matching asks a lookup callback for each key, so the caller decides
 * where labels and fields come from.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/dnsname.h"
#include "core/xmalloc.h"

/* Longest selector we parse, and most requirements and values. */
#define API_SELECT_MAX_LEN	4096
#define API_SELECT_MAX_REQS	64
#define API_SELECT_MAX_VALUES	64
#define API_SELECT_NAME_MAX	63
#define API_SELECT_PREFIX_MAX	253

enum api_select_op {
	API_SELECT_EQ,
	API_SELECT_NE,
	API_SELECT_IN,
	API_SELECT_NOTIN,
	API_SELECT_EXISTS,
	API_SELECT_NOTEXISTS,
	API_SELECT_GT,
	API_SELECT_LT,
};

struct api_select_req {
	char			*key;
	enum api_select_op	 op;
	char			**values;
	size_t			 nvalues;
};

struct api_select {
	struct api_select_req	*reqs;
	size_t			 n;
};

/* One parse in progress. */
struct api_select_parse {
	const char	*p;
	const char	*err;
};

/* Frees a selector; accepts NULL. */
void
api_select_free(struct api_select *sel)
{
	size_t	i, j;

	if (sel == NULL)
		return;
	for (i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	free(sel);
}

/* A selector with no requirement matches everything. */
int
api_select_empty(const struct api_select *sel)
{
	return sel == NULL || sel->n == 0;
}

/* Alphanumeric, the first and last character of names and values. */
static int
api_select_alnum(char c)
{
	return isalnum((unsigned char)c);
}

/* A name or value: alnum at both ends, [-_.] allowed inside. */
static int
api_select_name_ok(const char *s, size_t max)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > max || !api_select_alnum(s[0]) ||
	    !api_select_alnum(s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!api_select_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return 0;
	return 1;
}

/* A key's prefix, the n bytes before its '/', is a DNS subdomain. */
static int
api_select_prefix_ok(const char *s, size_t n)
{
	char	prefix[API_SELECT_PREFIX_MAX + 1];

	if (n > API_SELECT_PREFIX_MAX)
		return 0;
	memcpy(prefix, s, n);
	prefix[n] = '\0';
	return dnsname_subdomain(prefix);
}

/* A label key: [prefix/]name. */
static int
api_select_key_ok(const char *key)
{
	const char	*slash = strchr(key, '/');

	if (slash == NULL)
		return api_select_name_ok(key, API_SELECT_NAME_MAX);
	return api_select_prefix_ok(key, (size_t)(slash - key)) &&
	    api_select_name_ok(slash + 1, API_SELECT_NAME_MAX);
}

/* A label value may also be empty. */
static int
api_select_value_ok(const char *v)
{
	return *v == '\0' || api_select_name_ok(v, API_SELECT_NAME_MAX);
}

static void
api_select_skip_ws(struct api_select_parse *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/* A word of label characters; NULL (and no error) when there is none. */
static char *
api_select_word(struct api_select_parse *ps)
{
	const char	*s;

	api_select_skip_ws(ps);
	s = ps->p;
	while (*ps->p != '\0' && (api_select_alnum(*ps->p) ||
	    strchr("-_./", *ps->p) != NULL))
		ps->p++;
	return xstrndup(s, (size_t)(ps->p - s));
}

/* Appends a value to a requirement. */
static int
api_select_add_value(struct api_select_req *r, char *v,
    struct api_select_parse *ps)
{
	if (r->nvalues == API_SELECT_MAX_VALUES) {
		free(v);
		ps->err = "too many values in a set";
		return -1;
	}
	r->values = xreallocarray(r->values, r->nvalues + 1,
	    sizeof(*r->values));
	r->values[r->nvalues++] = v;
	return 0;
}

/* "(a, b, c)" after in or notin. */
static int
api_select_set(struct api_select_parse *ps, struct api_select_req *r)
{
	char	*v;

	api_select_skip_ws(ps);
	if (*ps->p != '(') {
		ps->err = "expected '(' after in or notin";
		return -1;
	}
	ps->p++;
	for (;;) {
		v = api_select_word(ps);
		if (!api_select_value_ok(v)) {
			free(v);
			ps->err = "invalid label value in a set";
			return -1;
		}
		if (api_select_add_value(r, v, ps) == -1)
			return -1;
		api_select_skip_ws(ps);
		if (*ps->p == ')') {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',') {
			ps->err = "expected ',' or ')' in a set";
			return -1;
		}
		ps->p++;
	}
}

/* The operator after a key; EXISTS when the requirement ends there. */
static int
api_select_op(struct api_select_parse *ps, enum api_select_op *op)
{
	const char	*p;

	api_select_skip_ws(ps);
	p = ps->p;
	if (*p == '\0' || *p == ',') {
		*op = API_SELECT_EXISTS;
		return 0;
	}
	if (strncmp(p, "==", 2) == 0 || strncmp(p, "!=", 2) == 0) {
		*op = *p == '=' ? API_SELECT_EQ : API_SELECT_NE;
		ps->p += 2;
	} else if (*p == '=' || *p == '>' || *p == '<') {
		*op = *p == '=' ? API_SELECT_EQ : *p == '>' ? API_SELECT_GT :
		    API_SELECT_LT;
		ps->p++;
	} else if (strncmp(p, "in", 2) == 0 && (p[2] == ' ' || p[2] == '(')) {
		*op = API_SELECT_IN;
		ps->p += 2;
	} else if (strncmp(p, "notin", 5) == 0 && (p[5] == ' ' ||
	    p[5] == '(')) {
		*op = API_SELECT_NOTIN;
		ps->p += 5;
	} else {
		ps->err = "expected an operator (=, ==, !=, in, notin) after "
		    "the key";
		return -1;
	}
	return 0;
}

/* An integer for > and <. */
static int
api_select_int(const char *s, long long *v)
{
	char	*ep;

	errno = 0;
	*v = strtoll(s, &ep, 10);
	return *s != '\0' && *ep == '\0' && errno == 0 ? 0 : -1;
}

/* One label requirement into r. */
static int
api_select_label_req(struct api_select_parse *ps, struct api_select_req *r)
{
	long long	 n;
	int		 neg = 0;
	char		*v;

	api_select_skip_ws(ps);
	if (*ps->p == '!') {
		neg = 1;
		ps->p++;
	}
	r->key = api_select_word(ps);
	if (!api_select_key_ok(r->key)) {
		ps->err = *r->key == '\0' ? "a requirement has no key" :
		    "invalid label key";
		return -1;
	}
	if (api_select_op(ps, &r->op) == -1)
		return -1;
	if (neg) {
		if (r->op != API_SELECT_EXISTS) {
			ps->err = "'!' only goes before a key alone";
			return -1;
		}
		r->op = API_SELECT_NOTEXISTS;
		return 0;
	}
	if (r->op == API_SELECT_EXISTS)
		return 0;
	if (r->op == API_SELECT_IN || r->op == API_SELECT_NOTIN)
		return api_select_set(ps, r);
	v = api_select_word(ps);
	if (!api_select_value_ok(v)) {
		free(v);
		ps->err = "invalid label value";
		return -1;
	}
	if ((r->op == API_SELECT_GT || r->op == API_SELECT_LT) &&
	    api_select_int(v, &n) == -1) {
		free(v);
		ps->err = "> and < take an integer";
		return -1;
	}
	return api_select_add_value(r, v, ps);
}

/* Adds an empty requirement to sel. */
static struct api_select_req *
api_select_new_req(struct api_select *sel, struct api_select_parse *ps)
{
	struct api_select_req	*r;

	if (sel->n == API_SELECT_MAX_REQS) {
		ps->err = "too many requirements";
		return NULL;
	}
	sel->reqs = xreallocarray(sel->reqs, sel->n + 1, sizeof(*sel->reqs));
	r = &sel->reqs[sel->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Parses a label selector; "" selects everything. */
struct api_select *
api_select_labels(const char *s, const char **errstr)
{
	struct api_select	*sel;
	struct api_select_req	*r;
	struct api_select_parse	 ps = { s, NULL };

	if (strlen(s) > API_SELECT_MAX_LEN) {
		*errstr = "selector too long";
		return NULL;
	}
	sel = xcalloc(1, sizeof(*sel));
	api_select_skip_ws(&ps);
	while (*ps.p != '\0') {
		if ((r = api_select_new_req(sel, &ps)) == NULL ||
		    api_select_label_req(&ps, r) == -1)
			goto fail;
		api_select_skip_ws(&ps);
		if (*ps.p == ',')
			ps.p++;
		else if (*ps.p != '\0') {
			ps.err = "unexpected character after a requirement";
			goto fail;
		}
		api_select_skip_ws(&ps);
		if (*ps.p == '\0' && ps.p[-1] == ',') {
			ps.err = "a requirement has no key";
			goto fail;
		}
	}
	return sel;
fail:
	*errstr = ps.err;
	api_select_free(sel);
	return NULL;
}

/* One field term's part up to an unescaped stop character, unescaped. */
static char *
api_select_field_part(struct api_select_parse *ps, const char *stops)
{
	char	*out = xmalloc(strlen(ps->p) + 1), *o = out;

	while (*ps->p != '\0' && strchr(stops, *ps->p) == NULL) {
		if (*ps->p == '\\' && ps->p[1] != '\0' &&
		    strchr(",=\\", ps->p[1]) != NULL)
			ps->p++;
		*o++ = *ps->p++;
	}
	*o = '\0';
	return out;
}

/* Whether field is one of fields (NULL-terminated). */
static int
api_select_field_known(const char *field, const char *const *fields)
{
	size_t	i;

	for (i = 0; fields != NULL && fields[i] != NULL; i++)
		if (strcmp(fields[i], field) == 0)
			return 1;
	return 0;
}

/* One "field=v", "field==v" or "field!=v" term. */
static int
api_select_field_req(struct api_select_parse *ps, struct api_select_req *r,
    const char *const *fields)
{
	r->key = api_select_field_part(ps, "=!,");
	if (strncmp(ps->p, "!=", 2) == 0) {
		r->op = API_SELECT_NE;
		ps->p += 2;
	} else if (*ps->p == '=') {
		r->op = API_SELECT_EQ;
		ps->p += ps->p[1] == '=' ? 2 : 1;
	} else {
		ps->err = "a field term needs =, == or !=";
		return -1;
	}
	if (!api_select_field_known(r->key, fields)) {
		ps->err = "field label not supported";
		return -1;
	}
	return api_select_add_value(r, api_select_field_part(ps, ","), ps);
}

/* Parses a field selector over the fields given; "" selects everything. */
struct api_select *
api_select_fields(const char *s, const char *const *fields,
    const char **errstr)
{
	struct api_select	*sel;
	struct api_select_req	*r;
	struct api_select_parse	 ps = { s, NULL };

	if (strlen(s) > API_SELECT_MAX_LEN) {
		*errstr = "selector too long";
		return NULL;
	}
	sel = xcalloc(1, sizeof(*sel));
	while (*ps.p != '\0') {
		if ((r = api_select_new_req(sel, &ps)) == NULL ||
		    api_select_field_req(&ps, r, fields) == -1)
			goto fail;
		if (*ps.p == ',' && *++ps.p == '\0') {
			ps.err = "a field term is empty";
			goto fail;
		}
	}
	return sel;
fail:
	*errstr = ps.err;
	api_select_free(sel);
	return NULL;
}

/* Whether v is one of r's values. */
static int
api_select_in(const struct api_select_req *r, const char *v)
{
	size_t	i;

	for (i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return 1;
	return 0;
}

/* One requirement against the value found (NULL: absent). */
static int
api_select_req_match(const struct api_select_req *r, const char *v)
{
	long long	a, b;

	switch (r->op) {
	case API_SELECT_EXISTS:
		return v != NULL;
	case API_SELECT_NOTEXISTS:
		return v == NULL;
	case API_SELECT_EQ:
	case API_SELECT_IN:
		return v != NULL && api_select_in(r, v);
	case API_SELECT_NE:
	case API_SELECT_NOTIN:
		return v == NULL || !api_select_in(r, v);
	case API_SELECT_GT:
	case API_SELECT_LT:
		if (v == NULL || api_select_int(v, &a) == -1 ||
		    api_select_int(r->values[0], &b) == -1)
			return 0;
		return r->op == API_SELECT_GT ? a > b : a < b;
	}
	return 0;
}

/* Every requirement must hold; get returns a key's value or NULL. */
int
api_select_match(const struct api_select *sel, api_select_get_cb get,
    void *arg)
{
	size_t	i;

	for (i = 0; sel != NULL && i < sel->n; i++)
		if (!api_select_req_match(&sel->reqs[i], get(sel->reqs[i].key,
		    arg)))
			return 0;
	return 1;
}

/*
 * The value an equality term of sel requires of key, or NULL: lets a
 * list narrow its scan (metadata.namespace, metadata.name).
 */
const char *
api_select_equal(const struct api_select *sel, const char *key)
{
	size_t	i;

	for (i = 0; sel != NULL && i < sel->n; i++)
		if (sel->reqs[i].op == API_SELECT_EQ &&
		    strcmp(sel->reqs[i].key, key) == 0)
			return sel->reqs[i].values[0];
	return NULL;
}
