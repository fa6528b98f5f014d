/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Static pod manifests: the libyaml adapter of the pod room (the only file
 * of the room that includes yaml.h). A manifest is one YAML or JSON
 * document; it becomes a cJSON tree the rest of the room reads like any
 * pod from the store. Plain scalars follow the YAML 1.2 core schema (null,
 * true/false, integers, floats); quoted and block scalars stay strings.
 * The file is untrusted: its size, the nesting depth and the number of
 * nodes (aliases can multiply them) are bounded, and every problem comes
 * back as "line:col: message" without logging.
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

#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"

#define POD_MANIFEST_MAX_DEPTH	64
#define POD_MANIFEST_MAX_NODES	200000

/* One conversion. */
struct pod_manifest {
	yaml_document_t	*doc;
	size_t		 nodes;
	char		*err;		/* errbuf */
	size_t		 errlen;
};

static cJSON	*pod_manifest_node(struct pod_manifest *, yaml_node_t *, int);

/* Sets the message, with a position when mark is given. */
static void __attribute__((format(printf, 3, 4)))
pod_manifest_error(struct pod_manifest *m, const yaml_mark_t *mark,
    const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (m->errlen == 0)
		return;
	if (mark != NULL)
		n = snprintf(m->err, m->errlen, "%zu:%zu: ", mark->line + 1,
		    mark->column + 1);
	if (n < 0 || (size_t)n >= m->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(m->err + n, m->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* YAML 1.2 core: null. */
static int
pod_manifest_is_null(const char *s)
{
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* YAML 1.2 core: booleans; -1 when s is not one. */
static int
pod_manifest_bool(const char *s)
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
pod_manifest_number(const char *s, double *d)
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
pod_manifest_scalar(yaml_node_t *n)
{
	const char	*s = (const char *)n->data.scalar.value;
	double		 d;
	int		 b;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(s);
	if (pod_manifest_is_null(s))
		return cJSON_CreateNull();
	if ((b = pod_manifest_bool(s)) != -1)
		return cJSON_CreateBool(b);
	if (pod_manifest_number(s, &d) == 0)
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

/* A mapping: scalar keys only, each once. */
static cJSON *
pod_manifest_mapping(struct pod_manifest *m, yaml_node_t *n, int depth)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *v;
	cJSON			*obj, *item;
	const char		*key;

	obj = cJSON_CreateObject();
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(m->doc, p->key);
		v = yaml_document_get_node(m->doc, p->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
			pod_manifest_error(m, k != NULL ? &k->start_mark :
			    &n->start_mark, "mapping key is not a scalar");
			goto fail;
		}
		key = (const char *)k->data.scalar.value;
		if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
			pod_manifest_error(m, &k->start_mark,
			    "duplicate key \"%.64s\"", key);
			goto fail;
		}
		if ((item = pod_manifest_node(m, v, depth + 1)) == NULL)
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
pod_manifest_sequence(struct pod_manifest *m, yaml_node_t *n, int depth)
{
	yaml_node_item_t	*it;
	yaml_node_t		*v;
	cJSON			*arr, *item;

	arr = cJSON_CreateArray();
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((v = yaml_document_get_node(m->doc, *it)) == NULL ||
		    (item = pod_manifest_node(m, v, depth + 1)) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, item);
	}
	return arr;
}

/* Any node, within the depth and node limits. */
static cJSON *
pod_manifest_node(struct pod_manifest *m, yaml_node_t *n, int depth)
{
	cJSON	*out = NULL;

	if (depth > POD_MANIFEST_MAX_DEPTH) {
		pod_manifest_error(m, &n->start_mark, "nested too deeply");
		return NULL;
	}
	if (++m->nodes > POD_MANIFEST_MAX_NODES) {
		pod_manifest_error(m, &n->start_mark, "too many nodes");
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		out = pod_manifest_scalar(n);
		break;
	case YAML_MAPPING_NODE:
		out = pod_manifest_mapping(m, n, depth);
		break;
	case YAML_SEQUENCE_NODE:
		out = pod_manifest_sequence(m, n, depth);
		break;
	case YAML_NO_NODE:
		out = cJSON_CreateNull();
		break;
	}
	return out;
}

/* Loads one document; 1 when there is none, -1 on a syntax error. */
static int
pod_manifest_load(struct pod_manifest *m, yaml_parser_t *p,
    yaml_document_t *doc)
{
	yaml_node_t	*root;

	if (!yaml_parser_load(p, doc)) {
		pod_manifest_error(m, &p->problem_mark, "%s",
		    p->problem != NULL ? p->problem : "YAML syntax error");
		return -1;
	}
	root = yaml_document_get_root_node(doc);
	/* "---" at the end starts a document holding only an empty scalar */
	if (root == NULL || (root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.length == 0 &&
	    root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
		yaml_document_delete(doc);
		return 1;
	}
	return 0;
}

/* Size first, then one document (a trailing "---" allowed). */
cJSON *
pod_manifest_parse(const char *buf, size_t len, char *errbuf, size_t errlen)
{
	struct pod_manifest	 m;
	yaml_parser_t		 p;
	yaml_document_t		 doc, next;
	cJSON			*root = NULL;
	int			 rc;

	memset(&m, 0, sizeof(m));
	m.err = errbuf;
	m.errlen = errlen;
	if (errlen > 0)
		errbuf[0] = '\0';
	if (len > POD_MANIFEST_MAX) {
		pod_manifest_error(&m, NULL, "larger than %u bytes",
		    POD_MANIFEST_MAX);
		return NULL;
	}
	if (!yaml_parser_initialize(&p))
		fatalx("pod manifest: cannot initialize the YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if ((rc = pod_manifest_load(&m, &p, &doc)) != 0) {
		if (rc == 1)
			pod_manifest_error(&m, NULL, "empty document");
		goto out;
	}
	m.doc = &doc;
	root = pod_manifest_node(&m, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	if (root == NULL)
		goto out;
	if ((rc = pod_manifest_load(&m, &p, &next)) != 1) {
		if (rc == 0) {
			yaml_document_delete(&next);
			pod_manifest_error(&m, NULL, "more than one document");
		}
		cJSON_Delete(root);
		root = NULL;
	}
out:
	yaml_parser_delete(&p);
	return root;
}
