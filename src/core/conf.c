/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading: a file is parsed into a YAML document
 * (core/yamldoc.c) whose mappings are walked key by key; each dotted path
 * is matched against the option table and its value handed to the parsers
 * of conf_value.c. Every problem is collected as "file:line:col: message"
 * at the node's mark and the walk goes on, so one run reports them all.
 * This file also owns the struct conf lifetime, its formatting, reload
 * diffs, the JSON dump and the sample file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/conf.h"
#include "core/conf_value.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "core/yamldoc.h"

#define CONF_MAX_FILE	(1024 * 1024)
#define CONF_MAX_ERRORS	50
#define CONF_REDACTED	"<redacted>"

/* Where an option was set while loading one file. */
struct conf_seen {
	struct yamldoc_mark	 key;
	struct yamldoc_mark	 value;
	const char		*as;	/* the spelling used: path or alias */
};

/* The state of one load. */
struct conf_loader {
	const char		*name;
	struct conf		*c;
	struct yamldoc		*doc;
	struct conf_msgs	*errs;
	struct conf_msgs	*warns;
	struct conf_seen	*seen;	/* per table row */
	size_t			 nerr;
};

/* Appends text (now owned by the list) to a list, which may be NULL. */
static void
conf_msgs_push(struct conf_msgs *m, char *text)
{
	if (m == NULL) {
		free(text);
		return;
	}
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++].text = text;
}

/* Appends "name: message" for a problem with the whole file. */
static void __attribute__((format(printf, 3, 4)))
conf_msgs_file(struct conf_msgs *m, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *text;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("conf: out of memory");
	va_end(ap);
	xasprintf(&text, "%s: %s", name, msg);
	free(msg);
	conf_msgs_push(m, text);
}

/* Appends "name:line:col: message" to a list. */
static void
conf_msgs_at(struct conf_msgs *m, const char *name,
    struct yamldoc_mark mark, const char *fmt, va_list ap)
{
	char	*msg, *text;

	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("conf: out of memory");
	xasprintf(&text, "%s:%zu:%zu: %s", name, mark.line, mark.col, msg);
	free(msg);
	conf_msgs_push(m, text);
}

/* Records an error at a mark. */
static void __attribute__((format(printf, 3, 4)))
conf_error(struct conf_loader *l, struct yamldoc_mark mark, const char *fmt,
    ...)
{
	va_list	ap;

	if (l->nerr++ >= CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	conf_msgs_at(l->errs, l->name, mark, fmt, ap);
	va_end(ap);
	if (l->nerr == CONF_MAX_ERRORS)
		conf_msgs_file(l->errs, l->name, "too many errors, giving up");
}

/* Records a warning at a mark. */
static void __attribute__((format(printf, 3, 4)))
conf_warning(struct conf_loader *l, struct yamldoc_mark mark,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_msgs_at(l->warns, l->name, mark, fmt, ap);
	va_end(ap);
}

void
conf_msgs_clear(struct conf_msgs *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].text);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* The table row for an exact path or alias, or NULL. */
const struct conf_option *
conf_find(const char *path)
{
	const struct conf_option	*o;

	for (o = conf_table; o < conf_table + conf_table_len; o++)
		if (strcmp(o->path, path) == 0 ||
		    (o->alias != NULL && strcmp(o->alias, path) == 0))
			return o;
	return NULL;
}

/* Whether path is p itself or below it ("a.b" under "a"). */
static int
conf_under(const char *path, const char *p)
{
	size_t	len = strlen(p);

	return strncmp(path, p, len) == 0 &&
	    (path[len] == '\0' || path[len] == '.');
}

/* The row for a path, including ignored subtrees, or NULL. */
static const struct conf_option *
conf_match(const char *path)
{
	const struct conf_option	*o;

	if ((o = conf_find(path)) != NULL)
		return o;
	for (o = conf_table; o < conf_table + conf_table_len; o++)
		if ((o->flags & CONF_F_PREFIX) && conf_under(path, o->path))
			return o;
	return NULL;
}

/* Whether path is a section: some option lies strictly below it. */
static int
conf_section(const char *path)
{
	const struct conf_option	*o;
	size_t				 len = strlen(path);

	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		if (strlen(o->path) > len && conf_under(o->path, path))
			return 1;
		if (o->alias != NULL && strlen(o->alias) > len &&
		    conf_under(o->alias, path))
			return 1;
	}
	return 0;
}

/* The field of option o in c. */
static void *
conf_field(const struct conf *c, const struct conf_option *o)
{
	return (char *)c + o->off;
}

/* Replaces a string field. */
static void
conf_set_string(struct conf *c, const struct conf_option *o, char *s)
{
	char	**f = conf_field(c, o);

	if (o->flags & CONF_F_SECRET)
		xfree_secret(*f);
	else
		free(*f);
	*f = s;
}

/* Checks a non-empty string of a STRING, PATH or ADDR option. */
static int
conf_check_string(const struct conf_option *o, const char *s,
    const char **errstr)
{
	if (*s == '\0')
		return 0;
	if (o->type == CONF_T_PATH)
		return conf_value_path(s, errstr);
	if (o->type == CONF_T_ADDR)
		return conf_value_addr(s, errstr);
	return o->check != NULL ? o->check(s, errstr) : 0;
}

/* Parses s into option o of c; an empty s means the default. */
static int
conf_set(struct conf *c, const struct conf_option *o, const char *s,
    const char **errstr)
{
	char	*url, **list;
	int64_t	 v;
	int	 b;

	if (o->type == CONF_T_IGNORED)
		return 0;
	if (*s == '\0')
		s = o->def;
	switch (o->type) {
	case CONF_T_STRING:
	case CONF_T_PATH:
	case CONF_T_ADDR:
		if (conf_check_string(o, s, errstr) == -1)
			return -1;
		conf_set_string(c, o, xstrdup(s));
		return 0;
	case CONF_T_URL:
		if (*s == '\0')
			url = xstrdup("");
		else if (conf_value_url(s, o->enums, &url, errstr) == -1)
			return -1;
		conf_set_string(c, o, url);
		return 0;
	case CONF_T_URLLIST:
		if (conf_value_urllist(s, o->enums, &list, errstr) == -1)
			return -1;
		conf_value_urllist_free(*(char ***)conf_field(c, o));
		*(char ***)conf_field(c, o) = list;
		return 0;
	case CONF_T_INT:
		if (conf_value_int(s, o->min, o->max, &v, errstr) == -1)
			return -1;
		*(int64_t *)conf_field(c, o) = v;
		return 0;
	case CONF_T_DURATION:
		if (conf_value_duration(s, o->min, o->max, &v, errstr) == -1)
			return -1;
		*(int64_t *)conf_field(c, o) = v;
		return 0;
	case CONF_T_ENUM:
		if (conf_value_enum(s, o->enums, &v, errstr) == -1)
			return -1;
		*(int64_t *)conf_field(c, o) = v;
		return 0;
	case CONF_T_BOOL:
		if (conf_value_bool(s, &b, errstr) == -1)
			return -1;
		*(int *)conf_field(c, o) = b;
		return 0;
	case CONF_T_IGNORED:
		break;
	}
	return 0;
}

/* Values that follow from others once the file is read. */
static void
conf_finish(struct conf *c)
{
	const struct conf_option	*o;

	/* unless the file set it, the image endpoint is the runtime's */
	o = conf_find("edged.remote-image-endpoint");
	if (c->remote_image_endpoint[0] == '\0' || (o != NULL &&
	    conf_line(c, o) == 0)) {
		free(c->remote_image_endpoint);
		c->remote_image_endpoint = xstrdup(c->remote_runtime_endpoint);
	}
}

struct conf *
conf_defaults(void)
{
	const struct conf_option	*o;
	struct conf			*c;
	const char			*errstr;

	c = xcalloc(1, sizeof(*c));
	c->lines = xcalloc(conf_table_len, sizeof(*c->lines));
	for (o = conf_table; o < conf_table + conf_table_len; o++)
		if (conf_set(c, o, o->def, &errstr) == -1)
			fatalx("conf: default of %s: %s", o->path, errstr);
	conf_finish(c);
	return c;
}

void
conf_free(struct conf *c)
{
	const struct conf_option	*o;

	if (c == NULL)
		return;
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		switch (o->type) {
		case CONF_T_STRING:
		case CONF_T_URL:
		case CONF_T_ADDR:
		case CONF_T_PATH:
			conf_set_string(c, o, NULL);
			break;
		case CONF_T_URLLIST:
			conf_value_urllist_free(*(char ***)conf_field(c, o));
			break;
		default:
			break;
		}
	}
	free(c->lines);
	free(c);
}

unsigned int
conf_line(const struct conf *c, const struct conf_option *o)
{
	return c->lines[o - conf_table];
}

int
conf_parse_duration(const char *s, int64_t *ms, const char **errstr)
{
	return conf_value_duration(s, 0, INT64_MAX, ms, errstr);
}

/* What a value of option o should be, for "expected ..." messages. */
static const char *
conf_type_name(const struct conf_option *o)
{
	switch (o->type) {
	case CONF_T_INT:
		return "an integer";
	case CONF_T_BOOL:
		return "a boolean";
	case CONF_T_DURATION:
		return "a duration";
	case CONF_T_URL:
		return "a URL";
	case CONF_T_URLLIST:
		return "a URL or a list of URLs";
	case CONF_T_ADDR:
		return "a host:port address";
	case CONF_T_PATH:
		return "a path";
	default:
		return "a scalar";
	}
}

/* What a YAML node is, for "not ..." messages. */
static const char *
conf_node_name(const struct yamldoc_node *n)
{
	switch (yamldoc_type(n)) {
	case YAMLDOC_MAPPING:
		return "a mapping";
	case YAMLDOC_SEQUENCE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

/* Reports a bad value at node n, the value escaped and shortened. */
static void
conf_bad_value(struct conf_loader *l, const char *path,
    const struct yamldoc_node *n, const char *errstr)
{
	const char	*s;
	char		 buf[96];
	size_t		 len;

	s = yamldoc_scalar(n, &len);
	log_escape(s, len, buf, sizeof(buf));
	conf_error(l, yamldoc_mark(n), "%s: invalid value \"%s\": %s", path,
	    buf, errstr);
}

/* Sets a URL list from a YAML sequence, each item checked at its mark. */
static void
conf_walk_urls(struct conf_loader *l, const struct conf_option *o,
    const char *path, struct yamldoc_node *seq)
{
	struct yamldoc_node	 *n;
	const char		 *errstr;
	char			**v, *url;
	size_t			  i, k = 0;
	int			  rv = 0;

	v = xcalloc(1, sizeof(*v));
	for (i = 0; i < yamldoc_count(seq); i++) {
		n = yamldoc_item(l->doc, seq, i);
		if (yamldoc_type(n) != YAMLDOC_SCALAR) {
			conf_error(l, yamldoc_mark(n), "%s: expected a URL, "
			    "not %s", path, conf_node_name(n));
			rv = -1;
		} else if (conf_value_url(yamldoc_scalar(n, NULL), o->enums,
		    &url, &errstr) == -1) {
			conf_bad_value(l, path, n, errstr);
			rv = -1;
		} else {
			v = xreallocarray(v, k + 2, sizeof(*v));
			v[k++] = url;
			v[k] = NULL;
		}
	}
	if (rv == 0) {
		conf_value_urllist_free(*(char ***)conf_field(l->c, o));
		*(char ***)conf_field(l->c, o) = v;
	} else
		conf_value_urllist_free(v);
}

/* Sets option o from the value node of key. */
static void
conf_walk_option(struct conf_loader *l, const struct conf_option *o,
    const char *path, struct yamldoc_node *key, struct yamldoc_node *val)
{
	struct conf_seen	*seen = &l->seen[o - conf_table];
	const char		*errstr;

	if (seen->as != NULL) {
		conf_error(l, yamldoc_mark(key), "duplicate key \"%s\" (first "
		    "at line %zu as \"%s\")", path, seen->key.line, seen->as);
		return;
	}
	seen->as = o->alias != NULL && strcmp(path, o->alias) == 0 ?
	    o->alias : o->path;
	seen->key = yamldoc_mark(key);
	seen->value = yamldoc_mark(val);
	l->c->lines[o - conf_table] = seen->key.line;

	if (o->type == CONF_T_URLLIST && yamldoc_type(val) ==
	    YAMLDOC_SEQUENCE) {
		conf_walk_urls(l, o, path, val);
		return;
	}
	if (yamldoc_type(val) != YAMLDOC_SCALAR) {
		conf_error(l, seen->value, "%s: expected %s, not %s", path,
		    conf_type_name(o), conf_node_name(val));
		return;
	}
	if (conf_set(l->c, o, yamldoc_null(val) ? "" :
	    yamldoc_scalar(val, NULL), &errstr) == -1)
		conf_bad_value(l, path, val, errstr);
}

static void	conf_walk_mapping(struct conf_loader *, const char *,
		    struct yamldoc_node *);

/* Handles one key at its full path: an option, a section or an error. */
static void
conf_walk_key(struct conf_loader *l, const char *path,
    struct yamldoc_node *key, struct yamldoc_node *val)
{
	const struct conf_option	*o;

	if ((o = conf_match(path)) != NULL) {
		if (o->type == CONF_T_IGNORED)
			conf_warning(l, yamldoc_mark(key), "key \"%s\" is "
			    "ignored by edgesite", path);
		else
			conf_walk_option(l, o, path, key, val);
		return;
	}
	if (!conf_section(path)) {
		conf_error(l, yamldoc_mark(key), "unknown key \"%s\"", path);
		return;
	}
	if (yamldoc_type(val) == YAMLDOC_MAPPING)
		conf_walk_mapping(l, path, val);
	else if (!yamldoc_null(val))
		conf_error(l, yamldoc_mark(val), "%s: expected a mapping, not "
		    "%s", path, conf_node_name(val));
}

/* An earlier key (before pair i) of the same mapping with the same text. */
static struct yamldoc_node *
conf_walk_dup(struct conf_loader *l, struct yamldoc_node *map, size_t i,
    const char *key)
{
	struct yamldoc_node	*k;
	const char		*s;
	size_t			 j;

	for (j = 0; j < i; j++) {
		k = yamldoc_key(l->doc, map, j);
		if ((s = yamldoc_scalar(k, NULL)) != NULL &&
		    strcmp(s, key) == 0)
			return k;
	}
	return NULL;
}

/* Walks the pairs of a mapping found at prefix ("" at the top). */
static void
conf_walk_mapping(struct conf_loader *l, const char *prefix,
    struct yamldoc_node *map)
{
	struct yamldoc_node	*key, *val, *first;
	const char		*name;
	char			*path;
	size_t			 i;

	for (i = 0; i < yamldoc_count(map) && l->nerr < CONF_MAX_ERRORS;
	    i++) {
		key = yamldoc_key(l->doc, map, i);
		val = yamldoc_value(l->doc, map, i);
		if ((name = yamldoc_scalar(key, NULL)) == NULL) {
			conf_error(l, yamldoc_mark(key), "a key must be a "
			    "scalar, not %s", conf_node_name(key));
			continue;
		}
		if (*prefix != '\0')
			xasprintf(&path, "%s.%s", prefix, name);
		else
			path = xstrdup(name);
		if ((first = conf_walk_dup(l, map, i, name)) != NULL)
			conf_error(l, yamldoc_mark(key), "duplicate key \"%s\" "
			    "(first at line %zu)", path,
			    yamldoc_mark(first).line);
		else
			conf_walk_key(l, path, key, val);
		free(path);
	}
}

/* A TLS listener of the internal broker needs its certificate and key. */
static void
conf_check_mqtt_tls(struct conf_loader *l)
{
	const struct conf_option	*o;
	struct conf			*c = l->c;
	int				 ssl;

	ssl = strncmp(c->mqtt_internal_server, "ssl://", 6) == 0;
	if (c->mqtt_mode == CONF_MQTT_EXTERNAL ||
	    (!ssl && c->mqtt_tls_listen[0] == '\0') ||
	    (c->mqtt_tls_cert[0] != '\0' && c->mqtt_tls_key[0] != '\0'))
		return;
	o = conf_find(ssl ? "mqtt.internal-server" : "mqtt.tls-listen");
	if (l->seen[o - conf_table].as == NULL)
		return;
	conf_error(l, l->seen[o - conf_table].value, "%s needs mqtt.tls-cert "
	    "and mqtt.tls-key", o->path);
}

/* Checks that involve more than one option. */
static void
conf_check(struct conf_loader *l)
{
	const struct conf_option	*lo, *hi;
	struct conf			*c = l->c;
	struct yamldoc_mark		 mark;

	lo = conf_find("edged.image-gc-low-threshold");
	hi = conf_find("edged.image-gc-high-threshold");
	if (c->image_gc_low_threshold > c->image_gc_high_threshold) {
		mark = l->seen[lo - conf_table].as != NULL ?
		    l->seen[lo - conf_table].value :
		    l->seen[hi - conf_table].value;
		conf_error(l, mark, "%s (%" PRId64 ") is above %s (%" PRId64
		    ")", lo->path, c->image_gc_low_threshold, hi->path,
		    c->image_gc_high_threshold);
	}
	conf_check_mqtt_tls(l);
}

/* Reports a YAML syntax error with its mark and context. */
static void
conf_yaml_error(struct conf_loader *l, const struct yamldoc_error *e)
{
	if (e->reader) {
		conf_msgs_file(l->errs, l->name, "%s at byte %zu",
		    e->problem != NULL ? e->problem : "unreadable", e->offset);
		l->nerr++;
		return;
	}
	if (e->context != NULL)
		conf_error(l, e->at, "%s (%s at line %zu)",
		    e->problem != NULL ? e->problem : "not YAML", e->context,
		    e->context_line);
	else
		conf_error(l, e->at, "%s",
		    e->problem != NULL ? e->problem : "not YAML");
}

/* Walks the document's root: a mapping, or nothing at all. */
static void
conf_walk_root(struct conf_loader *l)
{
	struct yamldoc_node	*root;

	if ((root = yamldoc_root(l->doc)) == NULL || yamldoc_null(root))
		return;
	if (yamldoc_type(root) != YAMLDOC_MAPPING) {
		conf_error(l, yamldoc_mark(root), "top level is not a mapping");
		return;
	}
	conf_walk_mapping(l, "", root);
}

/* Parses the buffer and walks its (single) document. */
static void
conf_parse(struct conf_loader *l, const char *buf, size_t len)
{
	struct yamldoc_error	 e;
	struct yamldoc_node	*root;

	l->doc = yamldoc_new(buf, len);
	if (yamldoc_next(l->doc, &e) == -1)
		conf_yaml_error(l, &e);
	else {
		conf_walk_root(l);
		/* the next document replaces the one walked */
		if (yamldoc_next(l->doc, &e) == -1)
			conf_yaml_error(l, &e);
		else if ((root = yamldoc_root(l->doc)) != NULL)
			conf_error(l, yamldoc_mark(root), "more than one YAML "
			    "document");
	}
	yamldoc_free(l->doc);
	l->doc = NULL;
}

struct conf *
conf_load_buf(const char *name, const char *buf, size_t len,
    struct conf_msgs *errs, struct conf_msgs *warns)
{
	struct conf_loader	l;

	memset(&l, 0, sizeof(l));
	l.name = name;
	l.errs = errs;
	l.warns = warns;
	l.c = conf_defaults();
	if (len > CONF_MAX_FILE) {
		conf_msgs_file(errs, name, "larger than %d bytes",
		    CONF_MAX_FILE);
		conf_free(l.c);
		return NULL;
	}
	l.seen = xcalloc(conf_table_len, sizeof(*l.seen));
	conf_parse(&l, buf, len);
	if (l.nerr == 0)
		conf_check(&l);
	free(l.seen);
	if (l.nerr > 0) {
		conf_free(l.c);
		return NULL;
	}
	conf_finish(l.c);
	return l.c;
}

/* Reads at most CONF_MAX_FILE + 1 bytes of a file into a new buffer. */
static char *
conf_read(const char *path, size_t *len, struct conf_msgs *errs)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		conf_msgs_file(errs, path, "%s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_MAX_FILE + 1);
	n = fread(buf, 1, CONF_MAX_FILE + 1, fp);
	if (ferror(fp)) {
		conf_msgs_file(errs, path, "%s", strerror(errno));
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

struct conf *
conf_load(const char *path, struct conf_msgs *errs, struct conf_msgs *warns)
{
	struct conf	*c;
	char		*buf;
	size_t		 len;

	if (path == NULL)
		return conf_defaults();
	if ((buf = conf_read(path, &len, errs)) == NULL)
		return NULL;
	c = conf_load_buf(path, buf, len, errs, warns);
	free(buf);
	return c;
}

/* Formats an option's value; secrets in clear, for comparison. */
static char *
conf_format_raw(const struct conf *c, const struct conf_option *o)
{
	char		 buf[64], *s, *t, **v;
	const void	*f = conf_field(c, o);
	size_t		 i;

	switch (o->type) {
	case CONF_T_INT:
		xasprintf(&s, "%" PRId64, *(const int64_t *)f);
		return s;
	case CONF_T_DURATION:
		return xstrdup(conf_value_duration_fmt(*(const int64_t *)f,
		    buf, sizeof(buf)));
	case CONF_T_ENUM:
		return xstrdup(o->enums[*(const int64_t *)f]);
	case CONF_T_BOOL:
		return xstrdup(*(const int *)f ? "true" : "false");
	case CONF_T_URLLIST:
		s = xstrdup("");
		for (v = *(char **const *)f, i = 0; v[i] != NULL; i++) {
			xasprintf(&t, "%s%s%s", s, i > 0 ? "," : "", v[i]);
			free(s);
			s = t;
		}
		return s;
	case CONF_T_IGNORED:
		return xstrdup("");
	default:
		s = *(char *const *)f;
		return xstrdup(s != NULL ? s : "");
	}
}

char *
conf_format(const struct conf *c, const struct conf_option *o)
{
	if (o->flags & CONF_F_SECRET)
		return xstrdup(CONF_REDACTED);
	return conf_format_raw(c, o);
}

void
conf_diff(const struct conf *a, const struct conf *b, conf_diff_cb cb,
    void *arg)
{
	const struct conf_option	*o;
	char				*va, *vb, *fa, *fb;

	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		if (o->type == CONF_T_IGNORED)
			continue;
		va = conf_format_raw(a, o);
		vb = conf_format_raw(b, o);
		if (strcmp(va, vb) != 0) {
			fa = conf_format(a, o);
			fb = conf_format(b, o);
			cb(o, fa, fb, arg);
			free(fa);
			free(fb);
		}
		xfree_secret(va);
		xfree_secret(vb);
	}
}

/* The JSON form of one option's value. */
static cJSON *
conf_json_value(const struct conf *c, const struct conf_option *o)
{
	const void	 *f = conf_field(c, o);
	cJSON		 *j;
	char		**v, *s;

	if (o->flags & CONF_F_SECRET)
		return cJSON_CreateString(CONF_REDACTED);
	switch (o->type) {
	case CONF_T_INT:
		return cJSON_CreateNumber((double)*(const int64_t *)f);
	case CONF_T_BOOL:
		return cJSON_CreateBool(*(const int *)f);
	case CONF_T_URLLIST:
		j = cJSON_CreateArray();
		for (v = *(char **const *)f; *v != NULL; v++)
			cJSON_AddItemToArray(j, cJSON_CreateString(*v));
		return j;
	default:
		s = conf_format_raw(c, o);
		j = cJSON_CreateString(s);
		free(s);
		return j;
	}
}

char *
conf_dump_json(const struct conf *c)
{
	const struct conf_option	*o;
	cJSON				*obj;
	char				*s;

	obj = cJSON_CreateObject();
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		if (o->type == CONF_T_IGNORED)
			continue;
		cJSON_AddItemToObject(obj, o->path, conf_json_value(c, o));
	}
	s = cJSON_Print(obj);
	cJSON_Delete(obj);
	return s;
}

/* Length of the section part of a path ("a.b" of "a.b.c"). */
static size_t
conf_sample_section(const char *path)
{
	const char	*dot = strrchr(path, '.');

	return dot != NULL ? (size_t)(dot - path) : 0;
}

/* Opens the mappings of o's section that prev's section did not have. */
static void
conf_sample_open(FILE *fp, const char *prev, const char *path)
{
	size_t	plen = conf_sample_section(prev), len;
	size_t	i, start = 0, depth = 0;

	len = conf_sample_section(path);
	if (plen == len && strncmp(prev, path, len) == 0)
		return;
	/* Skip the components both sections share. */
	for (i = 0; i < len; i++) {
		if (path[i] != '.')
			continue;
		if (i > plen || strncmp(prev, path, i) != 0 ||
		    (prev[i] != '.' && prev[i] != '\0'))
			break;
		start = i + 1;
		depth++;
	}
	if (depth == 0)
		fputc('\n', fp);
	for (i = start; i <= len; i++) {
		if (i < len && path[i] != '.')
			continue;
		fprintf(fp, "%*s%.*s:\n", (int)depth * 2, "",
		    (int)(i - start), path + start);
		start = i + 1;
		depth++;
	}
}

/* Writes one option: its help as a comment, then its default. */
static void
conf_sample_option(FILE *fp, const struct conf_option *o)
{
	const char	*leaf = strrchr(o->path, '.') + 1;
	int		 indent = 0;
	const char	*p;
	int		 quote;

	for (p = o->path; *p != '\0'; p++)
		indent += *p == '.' ? 2 : 0;
	quote = o->type != CONF_T_INT && o->type != CONF_T_BOOL &&
	    o->type != CONF_T_DURATION && o->type != CONF_T_ENUM;
	fprintf(fp, "%*s# %s\n", indent, "", o->help);
	fprintf(fp, "%*s%s: %s%s%s\n", indent, "", leaf, quote ? "\"" : "",
	    o->def, quote ? "\"" : "");
}

void
conf_write_sample(FILE *fp)
{
	const struct conf_option	*o;
	const char			*prev = "";

	fprintf(fp, "# edgeSite.yaml: the configuration of edgesite(8); "
	    "see edgeSite.yaml(5).\n"
	    "# Every key is shown with its default. An empty file runs "
	    "standalone with\n"
	    "# all defaults. Every edged key may also be written under "
	    "controller.edged.\n"
	    "# Durations are a number of seconds or like 250ms, 10s, 5m, "
	    "1h, 1m30s.\n");
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		if (o->type == CONF_T_IGNORED)
			continue;
		conf_sample_open(fp, prev, o->path);
		conf_sample_option(fp, o);
		prev = o->path;
	}
	fprintf(fp, "\n# Keys of KubeEdge's EdgeSite that edgesite accepts "
	    "with a warning and\n# ignores:");
	for (o = conf_table; o < conf_table + conf_table_len; o++)
		if (o->type == CONF_T_IGNORED)
			fprintf(fp, "\n#   %s%s", o->path,
			    o->flags & CONF_F_PREFIX ? ".*" : "");
	fprintf(fp, "\n");
}
