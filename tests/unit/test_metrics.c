/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The /metrics writer: families and their samples in the text format,
 * escaping of label values and help text, histograms, special floats, and
 * what it leaves out (a family twice, a sample outside its family, bad
 * names and labels) without breaking the exposition.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/metrics.h"
#include "core/xmalloc.h"
#include "unit.h"

/* The text written so far, as a string the caller frees. */
static char *
text(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = xmalloc(len + 1);

	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	return s;
}

/* Runs fn on a fresh writer and checks the text and the drop count. */
static void
expect(void (*fn)(struct metrics_out *), const char *want, uint64_t drops)
{
	struct evbuffer		*b = evbuffer_new();
	struct metrics_out	*out = metrics_out_new(b);
	char			*got;

	fn(out);
	got = text(b);
	CHECK_STR(got, want);
	CHECK(metrics_out_dropped(out) == drops);
	if (drops == 0)
		CHECK_STR(metrics_out_why(out), "");
	free(got);
	metrics_out_free(out);
	evbuffer_free(b);
}

static void
w_counter(struct metrics_out *out)
{
	metrics_counter(out, "a_total", "Things done.", 42);
	metrics_gauge(out, "b", "Things now.", 0);
}

static void
w_labels(struct metrics_out *out)
{
	metrics_family(out, "ops_total", METRICS_COUNTER, "Ops by kind.");
	metrics_u64(out, "ops_total",
	    (const char *[]){ "op", "get", NULL }, 1);
	metrics_u64(out, "ops_total",
	    (const char *[]){ "op", "put", "code", "200", NULL }, UINT64_MAX);
}

static void
w_escape(struct metrics_out *out)
{
	metrics_family(out, "e", METRICS_GAUGE,
	    "Help with \\ and \"quotes\"\nand a second line.");
	metrics_u64(out, "e",
	    (const char *[]){ "v", "a\\b\"c\nd", NULL }, 1);
	metrics_u64(out, "e", (const char *[]){ "v", "", NULL }, 2);
}

static void
w_double(struct metrics_out *out)
{
	metrics_family(out, "d", METRICS_GAUGE, "Floats.");
	metrics_double(out, "d", (const char *[]){ "k", "1", NULL }, 0.25);
	metrics_double(out, "d", (const char *[]){ "k", "2", NULL }, 1e21);
	metrics_double(out, "d", (const char *[]){ "k", "3", NULL }, NAN);
	metrics_double(out, "d", (const char *[]){ "k", "4", NULL }, INFINITY);
	metrics_double(out, "d", (const char *[]){ "k", "5", NULL },
	    -INFINITY);
	metrics_double(out, "d", NULL, 1721000000.5);
}

static void
w_histogram(struct metrics_out *out)
{
	static const double	bound[] = { 0.001, 0.5, 1, 2.5 };
	static const uint64_t	bucket[] = { 1, 3, 3, 4 };

	metrics_family(out, "lag_seconds", METRICS_HISTOGRAM, "Lag.");
	metrics_histogram(out, bound, bucket, 4, 5, 12.75);
	metrics_u64(out, "lag_seconds", NULL, 1);	/* not a part of it */
}

static void
w_twice(struct metrics_out *out)
{
	metrics_gauge(out, "g", "First.", 1);
	CHECK(metrics_family(out, "g", METRICS_GAUGE, "Again.") == -1);
	metrics_u64(out, "g", NULL, 2);		/* its sample goes too */
	metrics_gauge(out, "h", "Next.", 3);
}

static void
w_outside(struct metrics_out *out)
{
	metrics_out_room(out, "twin");
	metrics_u64(out, "lost", NULL, 1);		/* no family yet */
	metrics_gauge(out, "a", "A.", 1);
	metrics_u64(out, "b", NULL, 2);			/* not a's */
	metrics_u64(out, "a_count", NULL, 3);		/* a is a gauge */
	metrics_histogram(out, NULL, NULL, 0, 0, 0);	/* not a histogram */
	metrics_u64(out, "a", NULL, 4);
}

static void
w_names(struct metrics_out *out)
{
	CHECK(metrics_family(out, "1x", METRICS_GAUGE, "Digit.") == -1);
	CHECK(metrics_family(out, "a-b", METRICS_GAUGE, "Dash.") == -1);
	CHECK(metrics_family(out, "", METRICS_GAUGE, "Empty.") == -1);
	CHECK(metrics_family(out, "ns:x_y", METRICS_GAUGE, "Colon.") == 0);
	metrics_u64(out, "ns:x_y", (const char *[]){ "a:b", "v", NULL }, 1);
	metrics_u64(out, "ns:x_y", (const char *[]){ "__x", "v", NULL }, 2);
	metrics_u64(out, "ns:x_y", (const char *[]){ "9", "v", NULL }, 3);
	metrics_u64(out, "ns:x_y", (const char *[]){ "_ok9", "v", NULL }, 4);
}

/* The reason of the first drop names the room and the family. */
static void
test_why(void)
{
	struct evbuffer		*b = evbuffer_new();
	struct metrics_out	*out = metrics_out_new(b);

	metrics_out_room(out, "pod");
	metrics_gauge(out, "x", "X.", 1);
	metrics_gauge(out, "x", "X.", 1);
	metrics_out_room(out, "cri");
	metrics_u64(out, "y", NULL, 1);
	CHECK(metrics_out_dropped(out) == 2);
	CHECK_STR(metrics_out_why(out), "room pod: family x declared twice");
	metrics_out_free(out);
	metrics_out_free(NULL);
	evbuffer_free(b);
}

int
main(void)
{
	expect(w_counter,
	    "# HELP a_total Things done.\n# TYPE a_total counter\n"
	    "a_total 42\n"
	    "# HELP b Things now.\n# TYPE b gauge\nb 0\n", 0);
	expect(w_labels,
	    "# HELP ops_total Ops by kind.\n# TYPE ops_total counter\n"
	    "ops_total{op=\"get\"} 1\n"
	    "ops_total{op=\"put\",code=\"200\"} 18446744073709551615\n", 0);
	expect(w_escape,
	    "# HELP e Help with \\\\ and \"quotes\"\\nand a second line.\n"
	    "# TYPE e gauge\n"
	    "e{v=\"a\\\\b\\\"c\\nd\"} 1\n"
	    "e{v=\"\"} 2\n", 0);
	expect(w_double,
	    "# HELP d Floats.\n# TYPE d gauge\n"
	    "d{k=\"1\"} 0.25\nd{k=\"2\"} 1e+21\nd{k=\"3\"} NaN\n"
	    "d{k=\"4\"} +Inf\nd{k=\"5\"} -Inf\nd 1721000000.5\n", 0);
	expect(w_histogram,
	    "# HELP lag_seconds Lag.\n# TYPE lag_seconds histogram\n"
	    "lag_seconds_bucket{le=\"0.001\"} 1\n"
	    "lag_seconds_bucket{le=\"0.5\"} 3\n"
	    "lag_seconds_bucket{le=\"1\"} 3\n"
	    "lag_seconds_bucket{le=\"2.5\"} 4\n"
	    "lag_seconds_bucket{le=\"+Inf\"} 5\n"
	    "lag_seconds_sum 12.75\nlag_seconds_count 5\n", 1);
	expect(w_twice,
	    "# HELP g First.\n# TYPE g gauge\ng 1\n"
	    "# HELP h Next.\n# TYPE h gauge\nh 3\n", 2);
	expect(w_outside,
	    "# HELP a A.\n# TYPE a gauge\na 1\na 4\n", 4);
	expect(w_names,
	    "# HELP ns:x_y Colon.\n# TYPE ns:x_y gauge\n"
	    "ns:x_y{_ok9=\"v\"} 4\n", 6);
	test_why();
	return unit_done();
}
