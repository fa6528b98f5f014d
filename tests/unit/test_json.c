/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON helpers: bounded parsing (size before parse, no trailing garbage),
 * dotted paths, integer checks, metav1.Status and string quoting. Edge-case
 * documents live under tests/unit/data/json/.
 */
#include "config.h"

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/xmalloc.h"
#include "unit.h"

/* Reads a data file into a new buffer (not NUL-terminated on purpose). */
static char *
read_data(const char *name, size_t *len)
{
	char	 rel[256], *buf;
	FILE	*f;
	long	 n;

	snprintf(rel, sizeof(rel), "tests/unit/data/json/%s", name);
	if ((f = fopen(unit_srcpath(rel), "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", unit_srcpath(rel));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parses a data file; NULL and *errstr when refused. */
static cJSON *
parse_data(const char *name, const char **errstr)
{
	cJSON	*j;
	char	*buf;
	size_t	 len;

	buf = read_data(name, &len);
	j = json_parse(buf, len, JSON_MAX_DOCUMENT, errstr);
	free(buf);
	return j;
}

static void
test_parse(void)
{
	static const char	 text[] = "{\"a\":1}XYZ";
	cJSON			*j;
	const char		*errstr = NULL;
	char			*small;

	/* the length bounds the input: no NUL needed after it */
	j = json_parse(text, 7, 64, &errstr);
	CHECK(j != NULL);
	cJSON_Delete(j);
	/* but what follows within the length is garbage */
	j = json_parse(text, sizeof(text) - 1, 64, &errstr);
	CHECK(j == NULL);
	CHECK_STR(errstr, "trailing data after the JSON document");

	/*
	 * Over the limit is refused on the length alone: the pointer leads to
	 * an inaccessible page, so reading a single byte faults.
	 */
	small = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	CHECK(small != MAP_FAILED);
	errstr = NULL;
	CHECK(json_parse(small, (size_t)1 << 30, 16, &errstr) == NULL);
	CHECK_STR(errstr, "document too large");
	munmap(small, 4096);
	/* exactly the limit is fine */
	CHECK((j = json_parse("[1, 2]", 6, 6, &errstr)) != NULL);
	cJSON_Delete(j);
	CHECK(json_parse("[1, 2]", 6, 5, &errstr) == NULL);

	CHECK(json_parse("", 0, 16, &errstr) == NULL);
	CHECK(json_parse("{", 1, 16, &errstr) == NULL);
	CHECK_STR(errstr, "not valid JSON");
	CHECK(json_parse("nul", 3, 16, &errstr) == NULL);

	CHECK(parse_data("two-documents.json", &errstr) == NULL);
	CHECK_STR(errstr, "trailing data after the JSON document");
	CHECK(parse_data("trailing-nul.json", &errstr) == NULL);
	CHECK(parse_data("truncated.json", &errstr) == NULL);
	CHECK_STR(errstr, "not valid JSON");
	j = parse_data("trailing-space.json", &errstr);
	CHECK(j != NULL);
	cJSON_Delete(j);
}

/*
 * Every prefix of a document with escapes, numbers and nesting, each ending
 * right before an inaccessible page: a read past the length, by us or by
 * cJSON (which ASan does not instrument), faults.
 */
static void
test_parse_prefixes(void)
{
	static const char	 doc[] = "{\"s\":\"a\\u00e9\\n\\\"\","
	    "\"n\":[-1.5e+3,0,true,false,null],"
	    "\"o\":{\"k\":\"\\ud83d\\ude00\"}}";
	cJSON			*j;
	const char		*errstr;
	char			*page, *buf;
	size_t			 len, full = sizeof(doc) - 1;
	size_t			 pgsz = (size_t)sysconf(_SC_PAGESIZE);
	int			 parsed = 0;

	page = mmap(NULL, 2 * pgsz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED);
	if (page == MAP_FAILED)
		return;
	CHECK(mprotect(page + pgsz, pgsz, PROT_NONE) == 0);
	for (len = 1; len <= full; len++) {
		buf = page + pgsz - len;
		memcpy(buf, doc, len);
		errstr = NULL;
		j = json_parse(buf, len, full, &errstr);
		if (j != NULL)
			parsed++;
		else
			CHECK(errstr != NULL);
		cJSON_Delete(j);
	}
	/* only the whole document is a document */
	CHECK(parsed == 1);
	munmap(page, 2 * pgsz);
}

static void
test_paths(void)
{
	cJSON		*j;
	const char	*errstr = NULL;

	j = parse_data("pod.json", &errstr);
	CHECK(j != NULL);
	if (j == NULL)
		return;
	CHECK_STR(json_get_string(j, "metadata.name"), "web-0");
	CHECK_STR(json_get_string(j, "kind"), "Pod");
	CHECK_STR(json_get_string(j, "spec.nodeName"), "edge-1");
	CHECK_STR(json_get_string(j, "metadata.labels.app"), "web");
	CHECK(json_get(j, "") == j);
	CHECK(cJSON_IsArray(json_get(j, "spec.containers")));
	/* missing steps, mistyped steps and malformed paths */
	CHECK(json_get(j, "metadata.missing") == NULL);
	CHECK(json_get(j, "missing.name") == NULL);
	CHECK(json_get(j, "kind.name") == NULL);
	CHECK(json_get(j, "spec.containers.name") == NULL);
	CHECK(json_get(j, "metadata..name") == NULL);
	CHECK(json_get(j, ".metadata") == NULL);
	CHECK(json_get(j, "metadata.") == NULL);
	CHECK(json_get(NULL, "metadata") == NULL);
	/* a name with a dot in it cannot be reached by a path */
	CHECK(json_get(j, "metadata.labels.app.kubernetes.io/name") == NULL);
	/* wrong types */
	CHECK(json_get_string(j, "metadata.generation") == NULL);
	CHECK(json_get_string(j, "metadata") == NULL);
	CHECK(json_get_bool(j, "spec.hostNetwork", 1) == 0);
	CHECK(json_get_bool(j, "spec.nodeName", 7) == 7);
	CHECK(json_get_bool(j, "spec.missing", -1) == -1);
	cJSON_Delete(j);
}

static void
test_ints(void)
{
	static const char	 doc[] = "{\"a\":42,\"neg\":-7,\"half\":1.5,"
	    "\"exp\":1e3,\"str\":\"5\",\"big\":9223372036854775808,"
	    "\"min\":-9223372036854775808,\"small\":-9223372036854777856,"
	    "\"huge\":1e300,\"t\":true,\"p\":9007199254740992}";
	cJSON			*j;
	const char		*errstr = NULL;
	int64_t			 v;

	j = json_parse(doc, sizeof(doc) - 1, 1024, &errstr);
	CHECK(j != NULL);
	if (j == NULL)
		return;
	CHECK(json_get_int(j, "a", &v) == 0 && v == 42);
	CHECK(json_get_int(j, "neg", &v) == 0 && v == -7);
	CHECK(json_get_int(j, "exp", &v) == 0 && v == 1000);
	CHECK(json_get_int(j, "p", &v) == 0 && v == 9007199254740992LL);
	CHECK(json_get_int(j, "min", &v) == 0 && v == INT64_MIN);
	v = 99;
	CHECK(json_get_int(j, "half", &v) == -1);
	CHECK(v == 99);
	CHECK(json_get_int(j, "big", &v) == -1);
	CHECK(json_get_int(j, "small", &v) == -1);
	CHECK(json_get_int(j, "huge", &v) == -1);
	CHECK(json_get_int(j, "str", &v) == -1);
	CHECK(json_get_int(j, "t", &v) == -1);
	CHECK(json_get_int(j, "missing", &v) == -1);
	cJSON_Delete(j);

	j = parse_data("pod.json", &errstr);
	CHECK(json_get_int(j, "metadata.generation", &v) == 0 && v == 3);
	CHECK(json_get_int(j, "spec.activeDeadlineSeconds", &v) == -1);
	CHECK(json_get_int(j, "metadata.resourceVersion", &v) == -1);
	cJSON_Delete(j);
}

static void
test_status(void)
{
	cJSON		*j;
	const char	*errstr = NULL;
	char		*s;
	int64_t		 code;

	s = json_status(404, "NotFound", "pods \"web-0\" not found");
	j = json_parse(s, strlen(s), 1024, &errstr);
	CHECK(j != NULL);
	CHECK_STR(json_get_string(j, "kind"), "Status");
	CHECK_STR(json_get_string(j, "apiVersion"), "v1");
	CHECK(cJSON_IsObject(json_get(j, "metadata")));
	CHECK(cJSON_GetArraySize(json_get(j, "metadata")) == 0);
	CHECK_STR(json_get_string(j, "status"), "Failure");
	CHECK_STR(json_get_string(j, "message"), "pods \"web-0\" not found");
	CHECK_STR(json_get_string(j, "reason"), "NotFound");
	CHECK(json_get_int(j, "code", &code) == 0 && code == 404);
	cJSON_Delete(j);
	CHECK(strncmp(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	    "\"metadata\":{},\"status\":\"Failure\",", 64) == 0);
	free(s);

	/* no reason: left out, as the apiserver does */
	s = json_status(500, NULL, NULL);
	j = json_parse(s, strlen(s), 1024, &errstr);
	CHECK(j != NULL);
	CHECK(json_get(j, "reason") == NULL);
	CHECK_STR(json_get_string(j, "message"), "");
	CHECK(json_get_int(j, "code", &code) == 0 && code == 500);
	cJSON_Delete(j);
	free(s);

	s = json_status(200, "", "deleted");
	CHECK(strstr(s, "\"status\":\"Success\"") != NULL);
	free(s);
}

static void
test_quote(void)
{
	char	*q;

	q = json_quote("plain");
	CHECK_STR(q, "\"plain\"");
	free(q);
	q = json_quote("a\"b\\c\nd\te\x01/");
	CHECK_STR(q, "\"a\\\"b\\\\c\\nd\\te\\u0001/\"");
	free(q);
	q = json_quote("");
	CHECK_STR(q, "\"\"");
	free(q);
	q = json_quote(NULL);
	CHECK_STR(q, "\"\"");
	free(q);
	/* UTF-8 passes through */
	q = json_quote("caf\xc3\xa9");
	CHECK_STR(q, "\"caf\xc3\xa9\"");
	free(q);
}

static void
test_print(void)
{
	static const char	 doc[] = "{ \"a\" : [ 1 , true ] }";
	cJSON		*j;
	const char	*errstr = NULL;
	char		*s;

	j = json_parse(doc, sizeof(doc) - 1, 64, &errstr);
	CHECK(j != NULL);
	s = json_print(j);
	CHECK_STR(s, "{\"a\":[1,true]}");
	free(s);
	cJSON_Delete(j);
}

int
main(void)
{
	unit_init();
	test_parse();
	test_parse_prefixes();
	test_paths();
	test_ints();
	test_status();
	test_quote();
	test_print();
	return unit_done();
}
