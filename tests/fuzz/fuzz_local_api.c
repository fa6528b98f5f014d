/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of what clients and the store hand the local read
 * API's pure parsers: the input, split at its first NUL, is a label
 * selector and a field selector (the query a client sends) and an
 * object's JSON text (what the store holds). Both selectors are parsed
 * and matched against labels taken from the text; the text is scanned
 * for members and written back with a resourceVersion, which must leave
 * a valid document valid. Any crash, sanitizer report or abort() is a
 * bug. Build with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_local_api tests/fuzz/corpus/local_api.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/json.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_fields[] = {
	"metadata.name", "metadata.namespace", "spec.nodeName",
	"status.phase", NULL
};

/* A label or field looked up in the text, as api_list does. */
static const char *
fuzz_get_cb(const char *key, void *arg)
{
	struct api_span	*text = arg, sp;
	static char	*last;
	char		*path;

	free(last);
	last = NULL;
	path = malloc(strlen(key) + 17);
	if (path == NULL)
		abort();
	strcpy(path, "metadata.labels.");
	strcat(path, key);
	if (api_text_find(text->p, text->len, path, &sp) == 0 ||
	    api_text_find(text->p, text->len, key, &sp) == 0)
		last = api_text_string(&sp);
	free(path);
	return last;
}

/* The written object must parse when the original did. */
static void
fuzz_write(const char *js, size_t len)
{
	struct evbuffer	*out;
	const char	*errstr;
	cJSON		*in, *back;
	char		*buf;
	size_t		 n;

	if ((out = evbuffer_new()) == NULL)
		abort();
	api_text_write_object(out, js, len, 42);
	n = evbuffer_get_length(out);
	buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	evbuffer_remove(out, buf, n);
	in = json_parse(js, len, len, &errstr);
	if (in != NULL && cJSON_IsObject(in)) {
		back = json_parse(buf, n, n + 1, &errstr);
		if (back == NULL)
			abort();
		cJSON_Delete(back);
	}
	cJSON_Delete(in);
	free(buf);
	evbuffer_free(out);
}

/* Once before the first input: cJSON on xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_select	*labels, *fields;
	struct api_span		 text;
	const char		*errstr, *nul;
	char			*s, *f;
	size_t			 n;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return 0;
	n = (size_t)(nul - (const char *)data);
	s = strndup((const char *)data, n);
	f = strchr(s, '\t');
	if (f != NULL)
		*f++ = '\0';
	text.p = nul + 1;
	text.len = size - n - 1;
	labels = api_select_labels(s, &errstr);
	fields = f != NULL ? api_select_fields(f, fuzz_fields, &errstr) : NULL;
	api_select_match(labels, fuzz_get_cb, &text);
	api_select_match(fields, fuzz_get_cb, &text);
	api_select_equal(fields, "metadata.namespace");
	api_select_free(labels);
	api_select_free(fields);
	fuzz_write(text.p, text.len);
	fuzz_get_cb("", &text);
	free(s);
	return 0;
}
