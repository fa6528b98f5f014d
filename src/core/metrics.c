/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus text format writer the rooms write their counters
 * through (see metrics.h). It owns the list of families already written in
 * one exposition, so a family is never declared twice, and the reason of
 * the first thing it left out; the caller owns the buffer.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/metrics.h"
#include "core/xmalloc.h"

struct metrics_out {
	struct evbuffer		*b;
	const char		*room;		/* writing now, for the log */
	const char		*family;	/* open family (in seen) */
	enum metrics_type	 type;
	char			**seen;		/* families written */
	size_t			 nseen;
	uint64_t		 dropped;
	char			 why[256];	/* the first drop */
};

static const char *const metrics_type_names[] = {
	[METRICS_COUNTER] = "counter",
	[METRICS_GAUGE] = "gauge",
	[METRICS_HISTOGRAM] = "histogram",
};

/* A writer appending to b. */
struct metrics_out *
metrics_out_new(struct evbuffer *b)
{
	struct metrics_out	*out;

	out = xcalloc(1, sizeof(*out));
	out->b = b;
	out->room = "-";
	return out;
}

/* Frees the writer and its list of families; accepts NULL. */
void
metrics_out_free(struct metrics_out *out)
{
	size_t	i;

	if (out == NULL)
		return;
	for (i = 0; i < out->nseen; i++)
		free(out->seen[i]);
	free(out->seen);
	free(out);
}

void
metrics_out_room(struct metrics_out *out, const char *room)
{
	out->room = room;
}

uint64_t
metrics_out_dropped(const struct metrics_out *out)
{
	return out->dropped;
}

/* "" until something was dropped. */
const char *
metrics_out_why(const struct metrics_out *out)
{
	return out->why;
}

/* Counts one thing left out; the first one's reason is kept. */
static void __attribute__((format(printf, 2, 3)))
metrics_drop(struct metrics_out *out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (out->dropped++ > 0)
		return;
	n = snprintf(out->why, sizeof(out->why), "room %s: ", out->room);
	if (n < 0 || (size_t)n >= sizeof(out->why))
		return;
	va_start(ap, fmt);
	vsnprintf(out->why + n, sizeof(out->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*, or without the colons for a label name. */
static int
metrics_name_valid(const char *s, int label)
{
	const char	*p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	if (label && strncmp(s, "__", 2) == 0)
		return 0;	/* reserved for Prometheus itself */
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' ||
		    (*p == ':' && !label))
			continue;
		return 0;
	}
	return 1;
}

/* Writes s, escaping backslash, newline and, in a label value, '"'. */
static void
metrics_escape(struct evbuffer *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else if (*s == '"' && quote)
			evbuffer_add(b, "\\\"", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

int
metrics_family(struct metrics_out *out, const char *name,
    enum metrics_type type, const char *help)
{
	size_t	i;

	out->family = NULL;
	if (!metrics_name_valid(name, 0)) {
		metrics_drop(out, "bad family name");
		return -1;
	}
	for (i = 0; i < out->nseen; i++) {
		if (strcmp(out->seen[i], name) == 0) {
			metrics_drop(out, "family %s declared twice", name);
			return -1;
		}
	}
	out->seen = xreallocarray(out->seen, out->nseen + 1,
	    sizeof(*out->seen));
	out->seen[out->nseen] = xstrdup(name);
	out->family = out->seen[out->nseen++];
	out->type = type;
	evbuffer_add_printf(out->b, "# HELP %s ", name);
	metrics_escape(out->b, help, 0);
	evbuffer_add_printf(out->b, "\n# TYPE %s %s\n", name,
	    metrics_type_names[type]);
	return 0;
}

/* Whether a sample called name belongs to the open family. */
static int
metrics_sample_ok(struct metrics_out *out, const char *name)
{
	static const char *const hsuffix[] = { "_bucket", "_sum", "_count" };
	size_t			 flen, i;

	if (out->family == NULL) {
		metrics_drop(out, "sample %s outside a family",
		    name != NULL ? name : "(null)");
		return 0;
	}
	if (name != NULL && strcmp(name, out->family) == 0 &&
	    out->type != METRICS_HISTOGRAM)
		return 1;
	flen = strlen(out->family);
	if (name != NULL && out->type == METRICS_HISTOGRAM &&
	    strncmp(name, out->family, flen) == 0)
		for (i = 0; i < sizeof(hsuffix) / sizeof(hsuffix[0]); i++)
			if (strcmp(name + flen, hsuffix[i]) == 0)
				return 1;
	metrics_drop(out, "sample %s not of family %s",
	    name != NULL ? name : "(null)", out->family);
	return 0;
}

/* Writes name{labels} and the separating space; 0, or -1 on a bad label. */
static int
metrics_sample_head(struct metrics_out *out, const char *name,
    const char *const *labels)
{
	size_t	i;

	if (!metrics_sample_ok(out, name))
		return -1;
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		if (!metrics_name_valid(labels[i], 1) ||
		    labels[i + 1] == NULL) {
			metrics_drop(out, "sample %s: bad label", name);
			return -1;
		}
	}
	evbuffer_add(out->b, name, strlen(name));
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		evbuffer_add_printf(out->b, "%s%s=\"", i == 0 ? "{" : ",",
		    labels[i]);
		metrics_escape(out->b, labels[i + 1], 1);
		evbuffer_add(out->b, "\"", 1);
	}
	evbuffer_add(out->b, labels != NULL && labels[0] != NULL ? "} " : " ",
	    labels != NULL && labels[0] != NULL ? 2 : 1);
	return 0;
}

void
metrics_u64(struct metrics_out *out, const char *name,
    const char *const *labels, uint64_t v)
{
	if (metrics_sample_head(out, name, labels) == 0)
		evbuffer_add_printf(out->b, "%llu\n", (unsigned long long)v);
}

/* Floats as Go's strconv writes them for Prometheus: NaN, +Inf, -Inf. */
void
metrics_double(struct metrics_out *out, const char *name,
    const char *const *labels, double v)
{
	if (metrics_sample_head(out, name, labels) == -1)
		return;
	if (isnan(v))
		evbuffer_add_printf(out->b, "NaN\n");
	else if (isinf(v))
		evbuffer_add_printf(out->b, "%cInf\n", v > 0 ? '+' : '-');
	else
		evbuffer_add_printf(out->b, "%.15g\n", v);
}

void
metrics_counter(struct metrics_out *out, const char *name, const char *help,
    uint64_t v)
{
	if (metrics_family(out, name, METRICS_COUNTER, help) == 0)
		metrics_u64(out, name, NULL, v);
}

void
metrics_gauge(struct metrics_out *out, const char *name, const char *help,
    uint64_t v)
{
	if (metrics_family(out, name, METRICS_GAUGE, help) == 0)
		metrics_u64(out, name, NULL, v);
}

void
metrics_histogram(struct metrics_out *out, const double *bound,
    const uint64_t *bucket, size_t n, uint64_t count, double sum)
{
	const char	*le[] = { "le", NULL, NULL };
	char		 num[32], *name;
	size_t		 i;

	if (out->family == NULL || out->type != METRICS_HISTOGRAM) {
		metrics_drop(out, "histogram samples outside a histogram");
		return;
	}
	le[1] = num;
	xasprintf(&name, "%s_bucket", out->family);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%g", bound[i]);
		metrics_u64(out, name, le, bucket[i]);
	}
	metrics_u64(out, name, (const char *[]){ "le", "+Inf", NULL }, count);
	free(name);
	xasprintf(&name, "%s_sum", out->family);
	metrics_double(out, name, NULL, sum);
	free(name);
	xasprintf(&name, "%s_count", out->family);
	metrics_u64(out, name, NULL, count);
	free(name);
}
