/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read API's pure parts: label and field selectors (parse, reject,
 * match) and the object text scanner that finds members and writes an
 * object with the local resourceVersion in place of the upstream one.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "unit.h"

/* Labels as key=value pairs, NULL-terminated. */
static const char *
labels_get(const char *key, void *arg)
{
	const char	**kv = arg;
	size_t		  i;

	for (i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], key) == 0)
			return kv[i + 1];
	return NULL;
}

/* Whether selector s parses and matches the labels. */
static int
lmatch(const char *s, const char **labels)
{
	struct api_select	*sel;
	const char		*errstr = NULL;
	int			 m;

	sel = api_select_labels(s, &errstr);
	if (sel == NULL) {
		fprintf(stderr, "selector \"%s\": %s\n", s, errstr);
		return -1;
	}
	m = api_select_match(sel, labels_get, labels);
	api_select_free(sel);
	return m;
}

/* Whether s is refused, with a message. */
static int
lbad(const char *s)
{
	struct api_select	*sel;
	const char		*errstr = NULL;

	sel = api_select_labels(s, &errstr);
	api_select_free(sel);
	return sel == NULL && errstr != NULL;
}

static void
test_labels(void)
{
	const char	*l[] = { "app", "web", "tier", "front",
	    "example.com/team", "a", "n", "7", NULL };
	const char	*none[] = { NULL };

	CHECK(lmatch("", l) == 1);
	CHECK(lmatch("app=web", l) == 1);
	CHECK(lmatch("app==web", l) == 1);
	CHECK(lmatch("app=db", l) == 0);
	CHECK(lmatch("app!=db", l) == 1);
	CHECK(lmatch("app!=web", l) == 0);
	CHECK(lmatch("missing!=x", l) == 1);
	CHECK(lmatch("app in (db, web)", l) == 1);
	CHECK(lmatch("app in (db)", l) == 0);
	CHECK(lmatch("app notin (db,cache)", l) == 1);
	CHECK(lmatch("app notin (web)", l) == 0);
	CHECK(lmatch("missing notin (web)", l) == 1);
	CHECK(lmatch("app", l) == 1);
	CHECK(lmatch("!app", l) == 0);
	CHECK(lmatch("!missing", l) == 1);
	CHECK(lmatch("missing", l) == 0);
	CHECK(lmatch(" app = web , tier in (front) ,!x", l) == 1);
	CHECK(lmatch("app=web,tier=back", l) == 0);
	CHECK(lmatch("example.com/team=a", l) == 1);
	CHECK(lmatch("n>5,n<8", l) == 1);
	CHECK(lmatch("n>7", l) == 0);
	CHECK(lmatch("app=", none) == 0);
	CHECK(lmatch("app!=", none) == 1);

	CHECK(lbad("app=web,"));
	CHECK(lbad(",app"));
	CHECK(lbad("app in web"));
	CHECK(lbad("app in (web"));
	CHECK(lbad("app=-bad"));
	CHECK(lbad("app=a b"));
	CHECK(lbad("!app=web"));
	CHECK(lbad("-app"));
	CHECK(lbad("Bad.Prefix/app=x"));
	CHECK(lbad("app>x"));
	CHECK(lbad("app~x"));
	CHECK(lbad("a=0123456789012345678901234567890123456789012345678901"
	    "234567890123"));
}

static const char *const fields[] = {
	"metadata.name", "metadata.namespace", "spec.nodeName",
	"status.phase", NULL
};

static void
test_fields(void)
{
	const char		*f[] = { "metadata.name", "p1",
	    "status.phase", "Running", "spec.nodeName", "a,b=c", NULL };
	struct api_select	*sel;
	const char		*errstr = NULL;

	sel = api_select_fields("status.phase=Running,metadata.name!=p2",
	    fields, &errstr);
	CHECK(sel != NULL);
	CHECK(api_select_match(sel, labels_get, f) == 1);
	CHECK_STR(api_select_equal(sel, "status.phase"), "Running");
	CHECK(api_select_equal(sel, "metadata.name") == NULL);
	api_select_free(sel);

	sel = api_select_fields("spec.nodeName==a\\,b\\=c", fields, &errstr);
	CHECK(sel != NULL && api_select_match(sel, labels_get, f) == 1);
	api_select_free(sel);

	sel = api_select_fields("status.phase=Pending", fields, &errstr);
	CHECK(sel != NULL && api_select_match(sel, labels_get, f) == 0);
	api_select_free(sel);

	sel = api_select_fields("spec.bogus=1", fields, &errstr);
	CHECK(sel == NULL);
	CHECK_STR(errstr, "field label not supported");
	CHECK(api_select_fields("status.phase", fields, &errstr) == NULL);
	CHECK(api_select_fields("status.phase=a,", fields, &errstr) == NULL);
	sel = api_select_fields("", fields, &errstr);
	CHECK(sel != NULL && api_select_empty(sel));
	api_select_free(sel);
}

/* Writes an object with rev and compares with want. */
static void
check_write(const char *js, uint64_t rev, const char *want)
{
	struct evbuffer	*b = evbuffer_new();
	char		*got;
	size_t		 n;

	api_text_write_object(b, js, strlen(js), rev);
	n = evbuffer_get_length(b);
	got = calloc(1, n + 1);
	evbuffer_remove(b, got, n);
	CHECK_STR(got, want);
	free(got);
	evbuffer_free(b);
}

static void
test_text(void)
{
	const char	*pod = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	    "\"labels\":{\"app\":\"w\\\"x\"},\"resourceVersion\":\"77\"},"
	    "\"spec\":{\"nodeName\":\"n1\",\"x\":[1,{\"y\":\"}\"}]},"
	    "\"status\":{\"phase\":\"Running\"}}";
	struct api_span	 sp;
	char		*s;
	const char	*t;

	CHECK(api_text_find(pod, strlen(pod), "spec.nodeName", &sp) == 0);
	CHECK(api_text_equals(&sp, "n1"));
	CHECK(api_text_find(pod, strlen(pod), "status.phase", &sp) == 0);
	s = api_text_string(&sp);
	CHECK_STR(s, "Running");
	free(s);
	CHECK(api_text_find(pod, strlen(pod), "metadata.labels", &sp) == 0);
	CHECK(sp.len == strlen("{\"app\":\"w\\\"x\"}"));
	CHECK(api_text_find(pod, strlen(pod), "metadata.labels.app", &sp) ==
	    0);
	s = api_text_string(&sp);
	CHECK_STR(s, "w\"x");
	free(s);
	CHECK(api_text_find(pod, strlen(pod), "spec.missing", &sp) == -1);
	CHECK(api_text_find(pod, strlen(pod), "kind.x", &sp) == -1);
	/* cut anywhere, nothing is found past the end and nothing breaks */
	CHECK(api_text_find(pod, 40, "status.phase", &sp) == -1);
	CHECK(api_text_find("{\"a\":\"x", 7, "a", &sp) == -1);
	CHECK(api_text_find("[1,2]", 5, "a", &sp) == -1);
	/* a string ending in an escaped backslash, then a quoted quote */
	t = "{\"a\":\"x\\\\\",\"b\":\"q\\\"\\\"\",\"c\":1}";
	CHECK(api_text_find(t, strlen(t), "c", &sp) == 0);
	CHECK(sp.len == 1 && sp.p[0] == '1');
	CHECK(api_text_find(t, strlen(t), "b", &sp) == 0 && sp.len == 7);

	check_write(pod, 9, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	    "\"labels\":{\"app\":\"w\\\"x\"},\"resourceVersion\":\"9\"},"
	    "\"spec\":{\"nodeName\":\"n1\",\"x\":[1,{\"y\":\"}\"}]},"
	    "\"status\":{\"phase\":\"Running\"}}");
	check_write("{\"metadata\":{\"name\":\"a\"}}", 3,
	    "{\"metadata\":{\"resourceVersion\":\"3\",\"name\":\"a\"}}");
	check_write("{\"metadata\":{}}", 3,
	    "{\"metadata\":{\"resourceVersion\":\"3\"}}");
	check_write("{\"kind\":\"X\"}", 4,
	    "{\"metadata\":{\"resourceVersion\":\"4\"},\"kind\":\"X\"}");
	check_write("{}", 4, "{\"metadata\":{\"resourceVersion\":\"4\"}}");
	check_write(" { \"metadata\" : { \"resourceVersion\" : 5 } } ", 6,
	    " { \"metadata\" : { \"resourceVersion\" : \"6\" } } ");
}

int
main(void)
{
	unit_init();
	test_labels();
	test_fields();
	test_text();
	return unit_done();
}
