/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libyaml adapter: the only file that includes yaml.h. It owns a
 * parser over a caller's buffer and the document loaded last, hands out
 * its nodes with their 1-based marks, turns libyaml's errors into a
 * struct yamldoc_error, and converts a node to a cJSON tree under limits
 * (the input is untrusted). Out-of-memory is fatal, as for xmalloc; the
 * file never logs.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "core/yamldoc.h"

#define YAMLDOC_MAX_DEPTH	64
#define YAMLDOC_MAX_NODES	200000

struct yamldoc {
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	int		 loaded;	/* doc holds a document */
};

/* A node is libyaml's, seen through an opaque type. */
struct yamldoc_node {
	yaml_node_t	 n;
};

/* One conversion to cJSON. */
struct yamldoc_conv {
	struct yamldoc	*d;
	size_t		 nodes;
	char		*err;
	size_t		 errlen;
};

static cJSON	*yamldoc_json_node(struct yamldoc_conv *,
		    const struct yamldoc_node *, int);

struct yamldoc *
yamldoc_new(const char *buf, size_t len)
{
	struct yamldoc	*d;

	d = xcalloc(1, sizeof(*d));
	if (!yaml_parser_initialize(&d->parser))
		fatalx("yaml: cannot initialize the parser");
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)buf,
	    len);
	return d;
}

/* libyaml's marks are 0-based. */
static struct yamldoc_mark
yamldoc_mark_of(yaml_mark_t m)
{
	struct yamldoc_mark	out = { m.line + 1, m.column + 1 };

	return out;
}

int
yamldoc_next(struct yamldoc *d, struct yamldoc_error *err)
{
	yaml_parser_t	*p = &d->parser;

	if (d->loaded) {
		yaml_document_delete(&d->doc);
		d->loaded = 0;
	}
	if (yaml_parser_load(p, &d->doc)) {
		d->loaded = 1;
		return 0;
	}
	if (p->error == YAML_MEMORY_ERROR)
		fatalx("yaml: out of memory");
	memset(err, 0, sizeof(*err));
	err->problem = p->problem;
	err->context = p->context;
	err->context_line = p->context_mark.line + 1;
	err->at = yamldoc_mark_of(p->problem_mark);
	err->reader = p->error == YAML_READER_ERROR;
	err->offset = p->problem_offset;
	return -1;
}

void
yamldoc_wipe(struct yamldoc *d)
{
	yaml_node_t	*n;

	if (!d->loaded)
		return;
	for (n = d->doc.nodes.start; n < d->doc.nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			explicit_bzero(n->data.scalar.value,
			    n->data.scalar.length);
}

void
yamldoc_free(struct yamldoc *d)
{
	if (d == NULL)
		return;
	if (d->loaded)
		yaml_document_delete(&d->doc);
	yaml_parser_delete(&d->parser);
	free(d);
}

const char *
yamldoc_version(void)
{
	return yaml_get_version_string();
}

struct yamldoc_node *
yamldoc_root(struct yamldoc *d)
{
	if (!d->loaded)
		return NULL;
	return (struct yamldoc_node *)yaml_document_get_root_node(&d->doc);
}

enum yamldoc_type
yamldoc_type(const struct yamldoc_node *n)
{
	switch (n->n.type) {
	case YAML_MAPPING_NODE:
		return YAMLDOC_MAPPING;
	case YAML_SEQUENCE_NODE:
		return YAMLDOC_SEQUENCE;
	default:
		return YAMLDOC_SCALAR;
	}
}

struct yamldoc_mark
yamldoc_mark(const struct yamldoc_node *n)
{
	return yamldoc_mark_of(n->n.start_mark);
}

const char *
yamldoc_scalar(const struct yamldoc_node *n, size_t *lenp)
{
	if (n->n.type != YAML_SCALAR_NODE)
		return NULL;
	if (lenp != NULL)
		*lenp = n->n.data.scalar.length;
	return (const char *)n->n.data.scalar.value;
}

int
yamldoc_plain(const struct yamldoc_node *n)
{
	return n->n.type == YAML_SCALAR_NODE &&
	    n->n.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int
yamldoc_null(const struct yamldoc_node *n)
{
	const char	*s;

	if (!yamldoc_plain(n))
		return 0;
	s = (const char *)n->n.data.scalar.value;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

size_t
yamldoc_count(const struct yamldoc_node *n)
{
	if (n->n.type == YAML_SEQUENCE_NODE)
		return (size_t)(n->n.data.sequence.items.top -
		    n->n.data.sequence.items.start);
	if (n->n.type == YAML_MAPPING_NODE)
		return (size_t)(n->n.data.mapping.pairs.top -
		    n->n.data.mapping.pairs.start);
	return 0;
}

/* A node by its index in the document, NULL for a dangling one. */
static struct yamldoc_node *
yamldoc_get(struct yamldoc *d, int index)
{
	return (struct yamldoc_node *)yaml_document_get_node(&d->doc, index);
}

struct yamldoc_node *
yamldoc_item(struct yamldoc *d, const struct yamldoc_node *seq, size_t i)
{
	if (seq->n.type != YAML_SEQUENCE_NODE || i >= yamldoc_count(seq))
		return NULL;
	return yamldoc_get(d, seq->n.data.sequence.items.start[i]);
}

struct yamldoc_node *
yamldoc_key(struct yamldoc *d, const struct yamldoc_node *map, size_t i)
{
	if (map->n.type != YAML_MAPPING_NODE || i >= yamldoc_count(map))
		return NULL;
	return yamldoc_get(d, map->n.data.mapping.pairs.start[i].key);
}

struct yamldoc_node *
yamldoc_value(struct yamldoc *d, const struct yamldoc_node *map, size_t i)
{
	if (map->n.type != YAML_MAPPING_NODE || i >= yamldoc_count(map))
		return NULL;
	return yamldoc_get(d, map->n.data.mapping.pairs.start[i].value);
}

/*
 * Conversion to cJSON.
 */

/* Sets the conversion's message, "line:col: " first. */
static void __attribute__((format(printf, 3, 4)))
yamldoc_conv_error(struct yamldoc_conv *cv, const struct yamldoc_node *at,
    const char *fmt, ...)
{
	struct yamldoc_mark	 m = yamldoc_mark(at);
	va_list			 ap;
	int			 n;

	if (cv->errlen == 0)
		return;
	n = snprintf(cv->err, cv->errlen, "%zu:%zu: ", m.line, m.col);
	if (n < 0 || (size_t)n >= cv->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(cv->err + n, cv->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* YAML 1.2 core: booleans; -1 when s is not one. */
static int
yamldoc_bool(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return 0;
	return -1;
}

/* YAML 1.2 core: a decimal, octal (0o) or hex (0x) integer or a float. */
static int
yamldoc_number(const char *s, double *d)
{
	const char	*p = s;
	char		*end;
	long long	 ll;
	int		 base = 10, neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		if (neg || p == s + 1)
			return -1;
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
	}
	if (!isdigit((unsigned char)*p) && !(base == 16 &&
	    isxdigit((unsigned char)*p)) && *p != '.')
		return -1;
	errno = 0;
	if (base != 10 || strpbrk(p, ".eE") == NULL) {
		ll = strtoll(p, &end, base);
		if (*end != '\0' || end == p || errno != 0)
			return -1;
		*d = neg ? -(double)ll : (double)ll;
		return 0;
	}
	*d = strtod(s, &end);
	if (*end != '\0' || end == s || errno != 0 || !isfinite(*d))
		return -1;
	return 0;
}

/* A scalar: plain ones are typed, quoted and block ones are strings. */
static cJSON *
yamldoc_json_scalar(const struct yamldoc_node *n)
{
	const char	*s = yamldoc_scalar(n, NULL);
	double		 d;
	int		 b;

	if (!yamldoc_plain(n))
		return cJSON_CreateString(s);
	if (yamldoc_null(n))
		return cJSON_CreateNull();
	if ((b = yamldoc_bool(s)) != -1)
		return cJSON_CreateBool(b);
	if (yamldoc_number(s, &d) == 0)
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

/* A mapping: scalar keys only, each once. */
static cJSON *
yamldoc_json_mapping(struct yamldoc_conv *cv, const struct yamldoc_node *n,
    int depth)
{
	struct yamldoc_node	*k, *v;
	cJSON			*obj, *item;
	const char		*key;
	size_t			 i;

	obj = cJSON_CreateObject();
	for (i = 0; i < yamldoc_count(n); i++) {
		k = yamldoc_key(cv->d, n, i);
		v = yamldoc_value(cv->d, n, i);
		if (k == NULL || v == NULL || k->n.type != YAML_SCALAR_NODE) {
			yamldoc_conv_error(cv, k != NULL ? k : n,
			    "mapping key is not a scalar");
			goto fail;
		}
		key = yamldoc_scalar(k, NULL);
		if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
			yamldoc_conv_error(cv, k, "duplicate key \"%.64s\"",
			    key);
			goto fail;
		}
		if ((item = yamldoc_json_node(cv, v, depth + 1)) == NULL)
			goto fail;
		cJSON_AddItemToObject(obj, key, item);
	}
	return obj;

fail:
	cJSON_Delete(obj);
	return NULL;
}

/* A sequence, item by item. */
static cJSON *
yamldoc_json_sequence(struct yamldoc_conv *cv, const struct yamldoc_node *n,
    int depth)
{
	struct yamldoc_node	*v;
	cJSON			*arr, *item;
	size_t			 i;

	arr = cJSON_CreateArray();
	for (i = 0; i < yamldoc_count(n); i++) {
		if ((v = yamldoc_item(cv->d, n, i)) == NULL ||
		    (item = yamldoc_json_node(cv, v, depth + 1)) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, item);
	}
	return arr;
}

/* Any node, within the depth and node limits. */
static cJSON *
yamldoc_json_node(struct yamldoc_conv *cv, const struct yamldoc_node *n,
    int depth)
{
	if (depth > YAMLDOC_MAX_DEPTH) {
		yamldoc_conv_error(cv, n, "nested too deeply");
		return NULL;
	}
	if (++cv->nodes > YAMLDOC_MAX_NODES) {
		yamldoc_conv_error(cv, n, "too many nodes");
		return NULL;
	}
	switch (n->n.type) {
	case YAML_SCALAR_NODE:
		return yamldoc_json_scalar(n);
	case YAML_MAPPING_NODE:
		return yamldoc_json_mapping(cv, n, depth);
	case YAML_SEQUENCE_NODE:
		return yamldoc_json_sequence(cv, n, depth);
	case YAML_NO_NODE:
		break;
	}
	return cJSON_CreateNull();
}

cJSON *
yamldoc_json(struct yamldoc *d, const struct yamldoc_node *n, char *err,
    size_t errlen)
{
	struct yamldoc_conv	cv;

	memset(&cv, 0, sizeof(cv));
	cv.d = d;
	cv.err = err;
	cv.errlen = errlen;
	return yamldoc_json_node(&cv, n, 0);
}
