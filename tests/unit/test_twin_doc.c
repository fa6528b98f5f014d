/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device twin's documents and topics: request checks (types, versions,
 * shapes), applying updates (values, versions, result and document),
 * deltas, desired values from the cloud, the answers' shapes, binding by
 * node selector, property types, the Device status sent upstream, and
 * topic parsing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "twin/twin_int.h"
#include "unit.h"

static cJSON *
parse(const char *s)
{
	const char	*reason;
	cJSON		*j;

	j = twin_doc_parse(s, strlen(s), &reason);
	if (j == NULL) {
		fprintf(stderr, "parse failed: %s: %s\n", reason, s);
		exit(1);
	}
	return j;
}

/* The check's code, or 0 when the update is accepted. */
static int
check(const char *req, const cJSON *twin, const char **reason)
{
	cJSON	*r = parse(req);
	int	 code = 0;

	if (twin_doc_check_update(r, twin, &code, reason) == 0)
		code = 0;
	cJSON_Delete(r);
	return code;
}

static void
test_parse(void)
{
	const char	*reason;
	char		*big;

	CHECK(twin_doc_parse("nope", 4, &reason) == NULL);
	CHECK_STR(reason, "payload is not JSON");
	CHECK(twin_doc_parse("[1]", 3, &reason) == NULL);
	CHECK_STR(reason, "payload is not a JSON object");
	CHECK(twin_doc_parse("{} x", 4, &reason) == NULL);
	big = calloc(1, TWIN_MAX_PAYLOAD + 2);
	memset(big, ' ', TWIN_MAX_PAYLOAD + 1);
	big[0] = '{';
	big[TWIN_MAX_PAYLOAD] = '}';
	CHECK(twin_doc_parse(big, TWIN_MAX_PAYLOAD + 1, &reason) == NULL);
	CHECK_STR(reason, "payload too large");
	free(big);
}

static void
test_values(void)
{
	CHECK(twin_doc_value_ok("int", "-42"));
	CHECK(!twin_doc_value_ok("int", "4.2"));
	CHECK(!twin_doc_value_ok("int", ""));
	CHECK(!twin_doc_value_ok("int", " 1"));
	CHECK(!twin_doc_value_ok("int", "99999999999999999999"));
	CHECK(twin_doc_value_ok("float", "1e3"));
	CHECK(!twin_doc_value_ok("float", "inf"));
	CHECK(!twin_doc_value_ok("double", "nan"));
	CHECK(twin_doc_value_ok("boolean", "false"));
	CHECK(!twin_doc_value_ok("boolean", "True"));
	CHECK(twin_doc_value_ok("string", ""));
	CHECK(!twin_doc_value_ok("color", "red"));
	CHECK(twin_doc_state_ok("online"));
	CHECK(!twin_doc_state_ok("Online"));
}

static void
test_check(void)
{
	const char	*reason;
	cJSON		*twin;

	twin = cJSON_CreateObject();
	cJSON_AddItemToObject(twin, "temp", twin_doc_prop_new("int", 0));
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"}}}}",
	    twin, &reason) == 0);
	/* Devices send event types as metadata.type. */
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"metadata\":{\"type\":\"Updated\"}}}}", twin, &reason) == 0);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":1}}}}",
	    twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(strstr(reason, "not a string") != NULL);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"x\"}}}}",
	    twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(strstr(reason, "temp") != NULL);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"metadata\":{\"type\":\"float\"}}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":{\"new\":{\"expected\":{\"value\":\"x\"},"
	    "\"metadata\":{\"type\":\"string\"}}}}", twin, &reason) == 0);
	CHECK(check("{\"twin\":{\"new\":{\"actual\":{\"value\":\"x\"},"
	    "\"metadata\":{\"type\":\"int\"}}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":{\"a/b\":{\"actual\":{\"value\":\"x\"}}}}",
	    twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":{}}", twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":[]}", twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(check("{}", twin, &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"optional\":\"yes\"}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	/* One bad property refuses the whole update. */
	CHECK(check("{\"twin\":{\"ok\":{\"actual\":{\"value\":\"1\"}},"
	    "\"temp\":{\"actual\":{\"value\":\"x\"}}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	/*
	 * A property given twice: each copy passes alone (a new int, then
	 * a string), but applied in order the string would land in the int.
	 */
	CHECK(check("{\"twin\":{\"n\":{\"actual\":{\"value\":\"1\"},"
	    "\"metadata\":{\"type\":\"int\"}},\"n\":{\"actual\":"
	    "{\"value\":\"x\"},\"metadata\":{\"type\":\"string\"}}}}", twin,
	    &reason) == TWIN_CODE_BAD_REQUEST);
	CHECK_STR(reason, "property n is given twice");
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"}},"
	    "\"temp\":{\"actual\":{\"value\":\"2\"}}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	CHECK_STR(reason, "property temp is given twice");
	cJSON_Delete(twin);
}

static void
test_versions(void)
{
	const char	*reason;
	cJSON		*twin, *req, *res, *doc;
	int64_t		 v = 0;

	twin = cJSON_CreateObject();
	cJSON_AddItemToObject(twin, "temp", twin_doc_prop_new("int", 0));
	req = parse("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"5\"}}}}");
	res = cJSON_CreateObject();
	doc = cJSON_CreateObject();
	twin_doc_apply_update(req, twin, 1000, res, doc);
	twin_doc_apply_update(req, twin, 2000, res, doc);
	cJSON_Delete(req);
	CHECK(json_get_int(twin, "temp.actual_version.edge", &v) == 0 &&
	    v == 2);
	CHECK(json_get_int(twin, "temp.actual.metadata.timestamp", &v) == 0 &&
	    v == 2000);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"actual_version\":{\"cloud\":0,\"edge\":1}}}}", twin, &reason) ==
	    TWIN_CODE_CONFLICT);
	CHECK(strstr(reason, "version conflict") != NULL);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"actual_version\":{\"cloud\":0,\"edge\":2}}}}", twin, &reason) ==
	    0);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"actual_version\":{\"cloud\":0}}}}", twin, &reason) ==
	    TWIN_CODE_BAD_REQUEST);
	CHECK(check("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"1\"},"
	    "\"actual_version\":{\"cloud\":-1,\"edge\":9}}}}", twin, &reason)
	    == TWIN_CODE_BAD_REQUEST);
	cJSON_Delete(res);
	cJSON_Delete(doc);
	cJSON_Delete(twin);
}

static void
test_apply_and_delta(void)
{
	cJSON		*twin, *req, *res, *doc, *delta, *p;
	char		*s;

	twin = cJSON_CreateObject();
	p = twin_doc_prop_new("int", 0);
	cJSON_AddItemToObject(twin, "temp", p);
	CHECK(twin_doc_delta(twin) == NULL);
	CHECK(twin_doc_set_expected(p, "25", 10) == 1);
	CHECK(twin_doc_set_expected(p, "25", 11) == 0);
	CHECK_STR(twin_doc_expected(p), "25");
	CHECK_STR(json_get_string(twin, "temp.metadata.type"), "int");
	delta = twin_doc_delta(twin);
	CHECK_STR(json_get_string(delta, "temp"), "25");
	cJSON_Delete(delta);

	req = parse("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"23\"}},"
	    "\"hum\":{\"actual\":{\"value\":\"40\"},\"optional\":true,"
	    "\"metadata\":{\"type\":\"int\"}}}}");
	res = cJSON_CreateObject();
	doc = cJSON_CreateObject();
	twin_doc_apply_update(req, twin, 99, res, doc);
	CHECK_STR(twin_doc_actual(json_get(twin, "temp")), "23");
	CHECK_STR(json_get_string(res, "hum.actual.value"), "40");
	CHECK(json_get_bool(res, "hum.optional", 0) == 1);
	CHECK_STR(json_get_string(res, "hum.metadata.type"), "int");
	CHECK(cJSON_IsNull(json_get(doc, "hum.last")));
	CHECK(json_get(doc, "temp.last.actual") == NULL);
	CHECK_STR(json_get_string(doc, "temp.current.actual.value"), "23");
	delta = twin_doc_delta(twin);
	CHECK_STR(json_get_string(delta, "temp"), "25");
	CHECK(json_get(delta, "hum") == NULL);
	s = twin_doc_delta_message("e", 5, twin, delta);
	CHECK(strstr(s, "\"delta\":{\"temp\":\"25\"}") != NULL);
	CHECK(strstr(s, "\"event_id\":\"e\",\"timestamp\":5") != NULL);
	free(s);
	cJSON_Delete(req);
	cJSON_Delete(res);
	cJSON_Delete(doc);

	/* The cloud takes its desired value away. */
	CHECK(twin_doc_set_expected(p, NULL, 12) == 1);
	CHECK(twin_doc_delta(twin) == NULL);
	cJSON_Delete(twin);
}

static void
test_messages(void)
{
	char	*s, a[40], b[40];

	s = twin_doc_error("id1", 7, 404, "no such device");
	CHECK_STR(s, "{\"event_id\":\"id1\",\"timestamp\":7,\"code\":404,"
	    "\"reason\":\"no such device\"}");
	free(s);
	s = twin_doc_message("", 8, "devices", cJSON_CreateArray());
	CHECK_STR(s, "{\"event_id\":\"\",\"timestamp\":8,\"devices\":[]}");
	free(s);
	s = twin_doc_membership("m", 9, cJSON_CreateArray(),
	    cJSON_CreateArray());
	CHECK_STR(s, "{\"event_id\":\"m\",\"timestamp\":9,"
	    "\"added_devices\":[],\"removed_devices\":[]}");
	free(s);
	twin_doc_uuid(a, sizeof(a));
	twin_doc_uuid(b, sizeof(b));
	CHECK(strlen(a) == 36 && a[14] == '4' && strcmp(a, b) != 0);
}

#define DEVICE(sel) "{\"metadata\":{\"name\":\"d\"},\"spec\":{" \
	"\"nodeSelector\":{\"nodeSelectorTerms\":[" sel "]}},"		\
	"\"status\":{\"twins\":[{\"propertyName\":\"temp\",\"desired\":" \
	"{\"value\":\"25\",\"metadata\":{\"type\":\"float\"}}},"	\
	"{\"propertyName\":\"sw\",\"reported\":{\"value\":\"on\"}}]}}"

static void
test_objects(void)
{
	cJSON	*d, *m, *p;

	d = parse(DEVICE("{\"matchExpressions\":[{\"key\":\"\","
	    "\"operator\":\"In\",\"values\":[\"a\",\"n1\"]}]}"));
	CHECK(twin_doc_device_bound(d, "n1"));
	CHECK(!twin_doc_device_bound(d, "n2"));
	CHECK_STR(twin_doc_desired(d, "temp"), "25");
	CHECK(twin_doc_desired(d, "sw") == NULL);
	CHECK_STR(twin_doc_prop_type(d, NULL, "temp"), "float");
	CHECK_STR(twin_doc_prop_type(d, NULL, "other"), "string");
	m = parse("{\"spec\":{\"properties\":[{\"name\":\"temp\",\"type\":"
	    "{\"int\":{\"accessMode\":\"ReadWrite\"}}}]}}");
	CHECK_STR(twin_doc_prop_type(d, m, "temp"), "int");
	p = twin_doc_prop_new(NULL, 0);
	CHECK_STR(json_get_string(p, "metadata.type"), "string");
	CHECK(twin_doc_set_type(p, "int") == 1);
	CHECK(twin_doc_set_type(p, "int") == 0);
	CHECK(twin_doc_set_type(p, "colour") == 0);
	CHECK_STR(json_get_string(p, "metadata.type"), "int");
	cJSON_Delete(p);
	cJSON_Delete(m);
	cJSON_Delete(d);

	d = parse(DEVICE("{\"matchExpressions\":[{\"key\":\"\","
	    "\"operator\":\"NotIn\",\"values\":[\"n1\"]}]}"));
	CHECK(!twin_doc_device_bound(d, "n1"));
	cJSON_Delete(d);
	d = parse(DEVICE("{},{\"matchFields\":[{\"key\":\"metadata.name\","
	    "\"operator\":\"In\",\"values\":[\"n1\"]}]}"));
	CHECK(twin_doc_device_bound(d, "n1"));
	cJSON_Delete(d);
	d = parse(DEVICE("{\"matchExpressions\":[{\"key\":\"zone\","
	    "\"operator\":\"In\",\"values\":[\"n1\"]}]}"));
	CHECK(!twin_doc_device_bound(d, "n1"));
	cJSON_Delete(d);
	d = parse("{\"spec\":{}}");
	CHECK(!twin_doc_device_bound(d, "n1"));
	cJSON_Delete(d);
}

static void
test_status(void)
{
	cJSON	*d, *twin, *req, *res, *doc, *st;
	char	*s;

	d = parse(DEVICE("{}"));
	twin = cJSON_CreateObject();
	cJSON_AddItemToObject(twin, "temp", twin_doc_prop_new("float", 0));
	/* Nothing reported yet: the Device already says it all. */
	CHECK(twin_doc_status(d, twin, NULL, NULL) == NULL);
	req = parse("{\"twin\":{\"temp\":{\"actual\":{\"value\":\"21.5\"}},"
	    "\"extra\":{\"actual\":{\"value\":\"x\"}}}}");
	res = cJSON_CreateObject();
	doc = cJSON_CreateObject();
	twin_doc_apply_update(req, twin, 1234, res, doc);
	s = twin_doc_status(d, twin, "online", "2026-01-01T00:00:00Z");
	CHECK(s != NULL);
	st = parse(s);
	CHECK(cJSON_GetArraySize(json_get(st, "twins")) == 3);
	/* The cloud's desired value is kept, ours reported beside it. */
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(st, "twins"), 0),
	    "desired.value"), "25");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(st, "twins"), 0),
	    "reported.value"), "21.5");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(st, "twins"), 0),
	    "reported.metadata.timestamp"), "1234");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(st, "twins"), 1),
	    "reported.value"), "on");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(st, "twins"), 2),
	    "propertyName"), "extra");
	CHECK_STR(json_get_string(st, "state"), "online");
	/* Once the Device says so, there is nothing to send. */
	cJSON_DeleteItemFromObject(d, "status");
	cJSON_AddItemToObject(d, "status", cJSON_Duplicate(st, 1));
	free(s);
	CHECK(twin_doc_status(d, twin, "online", "2026-01-01T00:00:00Z") ==
	    NULL);
	s = twin_doc_status(d, twin, "offline", "2026-01-01T00:00:00Z");
	CHECK(s != NULL);
	free(s);
	cJSON_Delete(st);
	cJSON_Delete(req);
	cJSON_Delete(res);
	cJSON_Delete(doc);
	cJSON_Delete(twin);
	cJSON_Delete(d);
}

static void
test_topics(void)
{
	char	 id[TWIN_MAX_NAME + 1], *t;

	CHECK(twin_topic_parse("$hw/events/node/n1/membership/get", id,
	    sizeof(id)) == TWIN_TOPIC_MEMBERSHIP_GET);
	CHECK_STR(id, "n1");
	CHECK(twin_topic_parse("$hw/events/device/d-1/twin/update", id,
	    sizeof(id)) == TWIN_TOPIC_TWIN_UPDATE);
	CHECK_STR(id, "d-1");
	CHECK(twin_topic_parse("$hw/events/device/d/twin/get", id,
	    sizeof(id)) == TWIN_TOPIC_TWIN_GET);
	CHECK(twin_topic_parse("$hw/events/device/d/state/update", id,
	    sizeof(id)) == TWIN_TOPIC_STATE_UPDATE);
	CHECK(twin_topic_parse("$hw/events/device/d/twin/update/result", id,
	    sizeof(id)) == TWIN_TOPIC_NONE);
	CHECK(twin_topic_parse("$hw/events/device//twin/get", id,
	    sizeof(id)) == TWIN_TOPIC_NONE);
	CHECK(twin_topic_parse("$hw/events/device/d", id, sizeof(id)) ==
	    TWIN_TOPIC_NONE);
	CHECK(twin_topic_parse("$hw/events/node/n1/membership/updated", id,
	    sizeof(id)) == TWIN_TOPIC_NONE);
	CHECK(twin_topic_parse("other/topic", id, sizeof(id)) ==
	    TWIN_TOPIC_NONE);
	CHECK(twin_topic_parse("$hw/events/device/d/twin/get", id, 1) ==
	    TWIN_TOPIC_NONE);
	CHECK(twin_topic_name_ok("temp"));
	CHECK(!twin_topic_name_ok(""));
	CHECK(!twin_topic_name_ok(".."));
	CHECK(!twin_topic_name_ok("a+"));
	CHECK(!twin_topic_name_ok("a\n"));
	t = twin_topic_device("d", "/twin/update/delta");
	CHECK_STR(t, "$hw/events/device/d/twin/update/delta");
	free(t);
	t = twin_topic_node("n", "/membership/updated");
	CHECK_STR(t, "$hw/events/node/n/membership/updated");
	free(t);
	CHECK(twin_topic_filters()[0] != NULL);
}

int
main(void)
{
	unit_init();
	test_parse();
	test_values();
	test_check();
	test_versions();
	test_apply_and_delta();
	test_messages();
	test_objects();
	test_status();
	test_topics();
	return unit_done();
}
