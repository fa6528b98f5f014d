/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of what a device sends the twin: the input is a twin
 * update payload, checked against a twin of known properties and, when
 * accepted, applied; the twin must then give a delta, a status for a
 * Device and messages that are JSON again. The same bytes go through the
 * topic parser as a topic. Any crash, sanitizer report or abort() is a
 * bug. Build with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_twin_doc tests/fuzz/corpus/twin_doc.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "twin/twin_int.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_device[] =
    "{\"metadata\":{\"name\":\"d\"},\"status\":{\"twins\":["
    "{\"propertyName\":\"temp\",\"desired\":{\"value\":\"25\"}},"
    "{\"propertyName\":\"on\",\"reported\":{\"value\":\"true\"}}]}}";

/* A twin with one property of each kind a device meets. */
static cJSON *
fuzz_twin(void)
{
	cJSON	*twin, *p;

	twin = cJSON_CreateObject();
	p = twin_doc_prop_new("int", 0);
	twin_doc_set_expected(p, "25", 1);
	cJSON_AddItemToObject(twin, "temp", p);
	cJSON_AddItemToObject(twin, "on", twin_doc_prop_new("boolean", 1));
	cJSON_AddItemToObject(twin, "ratio", twin_doc_prop_new("float", 0));
	return twin;
}

/* Whatever the twin builds must parse as a JSON object again. */
static void
fuzz_reparse(char *s)
{
	const char	*reason;
	cJSON		*j;

	if (s == NULL)
		return;
	if ((j = twin_doc_parse(s, strlen(s), &reason)) == NULL &&
	    strlen(s) <= TWIN_MAX_PAYLOAD)
		abort();
	cJSON_Delete(j);
	free(s);
}

static void
fuzz_update(const cJSON *req)
{
	const char	*reason;
	cJSON		*twin, *res, *doc, *dev, *delta;
	int		 code;

	twin = fuzz_twin();
	if (twin_doc_check_update(req, twin, &code, &reason) == -1) {
		if (reason == NULL || (code != TWIN_CODE_BAD_REQUEST &&
		    code != TWIN_CODE_CONFLICT))
			abort();
		fuzz_reparse(twin_doc_error(twin_doc_event_id(req), 1, code,
		    reason));
		cJSON_Delete(twin);
		return;
	}
	res = cJSON_CreateObject();
	doc = cJSON_CreateObject();
	twin_doc_apply_update(req, twin, 2, res, doc);
	/* An accepted update is accepted again against its own result. */
	if (twin_doc_check_update(req, twin, &code, &reason) == -1 &&
	    code != TWIN_CODE_CONFLICT)
		abort();
	fuzz_reparse(twin_doc_message(twin_doc_event_id(req), 2, "twin",
	    res));
	fuzz_reparse(twin_doc_message("", 2, "twin", doc));
	if ((delta = twin_doc_delta(twin)) != NULL)
		fuzz_reparse(twin_doc_delta_message("", 2, twin, delta));
	dev = json_parse(fuzz_device, strlen(fuzz_device), JSON_MAX_DOCUMENT,
	    &reason);
	fuzz_reparse(twin_doc_status(dev, twin, "online", NULL));
	cJSON_Delete(dev);
	cJSON_Delete(twin);
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
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*reason;
	cJSON		*req;
	char		*topic, id[TWIN_MAX_NAME + 1];

	if ((req = twin_doc_parse(data, len, &reason)) != NULL) {
		fuzz_update(req);
		(void)twin_doc_state_ok(json_get_string(req, "state") != NULL ?
		    json_get_string(req, "state") : "");
		cJSON_Delete(req);
	}
	if ((topic = malloc(len + 1)) == NULL)
		abort();
	memcpy(topic, data, len);
	topic[len] = '\0';
	(void)twin_topic_parse(topic, id, sizeof(id));
	free(topic);
	return 0;
}
