/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device twin's documents: checking what devices send (a bounded JSON
 * object; twin updates with string values of the property's type and
 * versions no older than ours), applying updates to a device's twin,
 * building the KubeEdge answers (results, documents, deltas, errors), and
 * reading what the twin needs from Device and DeviceModel objects (the
 * node selector, property types, desired values) and writing the Device
 * status back. Pure code over cJSON trees: no I/O, no logging; failures
 * come back as a code and a reason.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xmalloc.h"
#include "twin/twin_int.h"

/* Reasons that name a property are formatted here (one loop, no threads). */
static char	twin_doc_reason[512];

/* The value types a property may have, as KubeEdge names them. */
static const char *const twin_doc_types[] = {
	"string", "int", "float", "double", "boolean", "bytes", NULL
};

/* A member of obj by exact name, or NULL. */
static cJSON *
twin_doc_get(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* Replaces (or adds) member name of obj with item. */
static void
twin_doc_set(cJSON *obj, const char *name, cJSON *item)
{
	if (twin_doc_get(obj, name) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item);
	else
		cJSON_AddItemToObject(obj, name, item);
}

cJSON *
twin_doc_parse(const void *buf, size_t len, const char **reason)
{
	cJSON		*req;
	const char	*errstr;

	if (len > TWIN_MAX_PAYLOAD) {
		*reason = "payload too large";
		return NULL;
	}
	if ((req = json_parse(buf, len, TWIN_MAX_PAYLOAD, &errstr)) == NULL) {
		*reason = "payload is not JSON";
		return NULL;
	}
	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		*reason = "payload is not a JSON object";
		return NULL;
	}
	return req;
}

const char *
twin_doc_event_id(const cJSON *req)
{
	const char	*id = json_get_string(req, "event_id");

	return id != NULL ? id : "";
}

/* 1 when type is one we know. */
static int
twin_doc_type_known(const char *type)
{
	size_t	i;

	for (i = 0; twin_doc_types[i] != NULL; i++)
		if (strcmp(type, twin_doc_types[i]) == 0)
			return 1;
	return 0;
}

int
twin_doc_value_ok(const char *type, const char *value)
{
	char	*end;
	double	 d;

	if (strcmp(type, "string") == 0 || strcmp(type, "bytes") == 0)
		return 1;
	if (strcmp(type, "boolean") == 0)
		return strcmp(value, "true") == 0 ||
		    strcmp(value, "false") == 0;
	if (*value == '\0' || strchr(" \t\n", *value) != NULL)
		return 0;
	errno = 0;
	if (strcmp(type, "int") == 0) {
		(void)strtoll(value, &end, 10);
		return errno == 0 && *end == '\0';
	}
	if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
		d = strtod(value, &end);
		return errno == 0 && *end == '\0' && isfinite(d);
	}
	return 0;
}

int
twin_doc_state_ok(const char *state)
{
	return strcmp(state, "online") == 0 || strcmp(state, "offline") == 0 ||
	    strcmp(state, "unknown") == 0;
}

/* Fails a check: *code and a formatted *reason. Returns -1. */
static int __attribute__((format(printf, 3, 4)))
twin_doc_fail(int *code, const char **reason, const char *fmt, ...)
{
	va_list	ap;

	*code = TWIN_CODE_BAD_REQUEST;
	va_start(ap, fmt);
	vsnprintf(twin_doc_reason, sizeof(twin_doc_reason), fmt, ap);
	va_end(ap);
	*reason = twin_doc_reason;
	return -1;
}

/* The type a property update is checked against. NULL when it is bad. */
static const char *
twin_doc_update_type(const cJSON *p, const cJSON *stored)
{
	const cJSON	*md = twin_doc_get(p, "metadata");
	const char	*want = NULL, *have;

	if (md != NULL) {
		if (!cJSON_IsObject(md))
			return NULL;
		if (twin_doc_get(md, "type") != NULL &&
		    (want = json_get_string(md, "type")) == NULL)
			return NULL;
	}
	have = stored != NULL ? json_get_string(stored, "metadata.type") :
	    NULL;
	/* Devices also send event types here ("Updated"): not value types. */
	if (want != NULL && !twin_doc_type_known(want))
		want = NULL;
	if (have == NULL || !twin_doc_type_known(have))
		have = want != NULL ? want : "string";
	if (want != NULL && strcmp(want, have) != 0)
		return NULL;
	return have;
}

/* Checks "actual" or "expected" of property name. */
static int
twin_doc_check_value(const cJSON *p, const char *key, const char *name,
    const char *type, int *code, const char **reason)
{
	const cJSON	*v = twin_doc_get(p, key), *val;

	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return twin_doc_fail(code, reason, "%s of property %s is not "
		    "an object", key, name);
	val = twin_doc_get(v, "value");
	if (!cJSON_IsString(val))
		return twin_doc_fail(code, reason, "%s value of property %s "
		    "is not a string", key, name);
	if (!twin_doc_value_ok(type, val->valuestring))
		return twin_doc_fail(code, reason, "%s value of property %s "
		    "is not of type %s", key, name, type);
	return 0;
}

/* Checks a version object against the stored one: never older. */
static int
twin_doc_check_version(const cJSON *p, const cJSON *stored, const char *key,
    const char *name, int *code, const char **reason)
{
	const cJSON	*v = twin_doc_get(p, key), *have;
	int64_t		 cloud, edge, hc, he;

	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v) || json_get_int(v, "cloud", &cloud) == -1 ||
	    json_get_int(v, "edge", &edge) == -1 || cloud < 0 || edge < 0)
		return twin_doc_fail(code, reason, "%s of property %s is not "
		    "{\"cloud\":n,\"edge\":n}", key, name);
	if (stored == NULL || (have = twin_doc_get(stored, key)) == NULL)
		return 0;
	if (json_get_int(have, "cloud", &hc) == -1)
		hc = 0;
	if (json_get_int(have, "edge", &he) == -1)
		he = 0;
	if (cloud < hc || edge < he) {
		twin_doc_fail(code, reason, "version conflict on property %s: "
		    "%s is {cloud %lld, edge %lld}, not older", name, key,
		    (long long)hc, (long long)he);
		*code = TWIN_CODE_CONFLICT;
		return -1;
	}
	return 0;
}

/* Checks the update of one property. */
static int
twin_doc_check_prop(const cJSON *p, const cJSON *twin, int *code,
    const char **reason)
{
	const cJSON	*stored, *opt;
	const char	*name = p->string, *type;

	if (!twin_topic_name_ok(name))
		return twin_doc_fail(code, reason, "bad property name");
	if (!cJSON_IsObject(p))
		return twin_doc_fail(code, reason, "property %s is not an "
		    "object", name);
	stored = twin_doc_get(twin, name);
	if ((type = twin_doc_update_type(p, stored)) == NULL)
		return twin_doc_fail(code, reason, "metadata of property %s: "
		    "bad or different type", name);
	if (twin_doc_get(p, "actual") == NULL &&
	    twin_doc_get(p, "expected") == NULL)
		return twin_doc_fail(code, reason, "property %s has neither "
		    "actual nor expected", name);
	opt = twin_doc_get(p, "optional");
	if (opt != NULL && !cJSON_IsBool(opt))
		return twin_doc_fail(code, reason, "optional of property %s "
		    "is not a boolean", name);
	if (twin_doc_check_value(p, "actual", name, type, code, reason) ==
	    -1 || twin_doc_check_value(p, "expected", name, type, code,
	    reason) == -1)
		return -1;
	if (twin_doc_check_version(p, stored, "actual_version", name, code,
	    reason) == -1 || twin_doc_check_version(p, stored,
	    "expected_version", name, code, reason) == -1)
		return -1;
	return 0;
}

/*
 * 1 when a property before p in the update has p's name: each copy would
 * pass its checks against the stored twin alone, and applying them in
 * order would then give the first one's type to the second one's value.
 */
static int
twin_doc_dup_prop(const cJSON *tw, const cJSON *p)
{
	const cJSON	*q;

	for (q = tw->child; q != NULL && q != p; q = q->next) {
		if (strcmp(q->string, p->string) == 0)
			return 1;
	}
	return 0;
}

int
twin_doc_check_update(const cJSON *req, const cJSON *twin, int *code,
    const char **reason)
{
	const cJSON	*tw = twin_doc_get(req, "twin"), *p;

	if (!cJSON_IsObject(tw))
		return twin_doc_fail(code, reason, "twin is missing or not an "
		    "object");
	if (tw->child == NULL)
		return twin_doc_fail(code, reason, "twin has no property");
	cJSON_ArrayForEach(p, tw) {
		if (twin_doc_check_prop(p, twin, code, reason) == -1)
			return -1;
		if (twin_doc_dup_prop(tw, p))
			return twin_doc_fail(code, reason, "property %s is "
			    "given twice", p->string);
	}
	return 0;
}

/* {"value": value, "metadata": {"timestamp": now}}. */
static cJSON *
twin_doc_value_new(const char *value, int64_t now)
{
	cJSON	*v;

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "value", value);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(v, "metadata"),
	    "timestamp", (double)now);
	return v;
}

/* Adds one to the "cloud" or "edge" count of version object key. */
static void
twin_doc_bump(cJSON *prop, const char *key, const char *which)
{
	cJSON	*v = twin_doc_get(prop, key);
	int64_t	 n;

	if (!cJSON_IsObject(v)) {
		v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "cloud", 0);
		cJSON_AddNumberToObject(v, "edge", 0);
		twin_doc_set(prop, key, v);
	}
	if (json_get_int(v, which, &n) == -1)
		n = 0;
	twin_doc_set(v, which, cJSON_CreateNumber((double)(n + 1)));
}

cJSON *
twin_doc_prop_new(const char *type, int optional)
{
	cJSON	*p, *v;

	p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "optional", optional);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "metadata"),
	    "type", type != NULL ? type : "string");
	v = cJSON_AddObjectToObject(p, "expected_version");
	cJSON_AddNumberToObject(v, "cloud", 0);
	cJSON_AddNumberToObject(v, "edge", 0);
	v = cJSON_AddObjectToObject(p, "actual_version");
	cJSON_AddNumberToObject(v, "cloud", 0);
	cJSON_AddNumberToObject(v, "edge", 0);
	return p;
}

/* Applies one property of a checked update. */
static void
twin_doc_apply_prop(const cJSON *p, cJSON *twin, int64_t now, cJSON *result,
    cJSON *document)
{
	const char	*name = p->string, *type;
	const cJSON	*opt;
	cJSON		*prop, *doc, *last;

	prop = twin_doc_get(twin, name);
	last = prop != NULL ? cJSON_Duplicate(prop, 1) : cJSON_CreateNull();
	if (prop == NULL) {
		type = twin_doc_update_type(p, NULL);
		prop = twin_doc_prop_new(type, 0);
		cJSON_AddItemToObject(twin, name, prop);
	}
	opt = twin_doc_get(p, "optional");
	if (cJSON_IsBool(opt))
		twin_doc_set(prop, "optional", cJSON_CreateBool(
		    cJSON_IsTrue(opt)));
	if (twin_doc_get(p, "actual") != NULL) {
		twin_doc_set(prop, "actual", twin_doc_value_new(
		    json_get_string(p, "actual.value"), now));
		twin_doc_bump(prop, "actual_version", "edge");
	}
	if (twin_doc_get(p, "expected") != NULL) {
		twin_doc_set(prop, "expected", twin_doc_value_new(
		    json_get_string(p, "expected.value"), now));
		twin_doc_bump(prop, "expected_version", "edge");
	}
	cJSON_AddItemToObject(result, name, cJSON_Duplicate(prop, 1));
	doc = cJSON_AddObjectToObject(document, name);
	cJSON_AddItemToObject(doc, "last", last);
	cJSON_AddItemToObject(doc, "current", cJSON_Duplicate(prop, 1));
}

void
twin_doc_apply_update(const cJSON *req, cJSON *twin, int64_t now,
    cJSON *result, cJSON *document)
{
	const cJSON	*p;

	cJSON_ArrayForEach(p, twin_doc_get(req, "twin"))
		twin_doc_apply_prop(p, twin, now, result, document);
}

const char *
twin_doc_expected(const cJSON *prop)
{
	return json_get_string(prop, "expected.value");
}

const char *
twin_doc_actual(const cJSON *prop)
{
	return json_get_string(prop, "actual.value");
}

int
twin_doc_set_expected(cJSON *prop, const char *value, int64_t now)
{
	const char	*cur = twin_doc_expected(prop);

	if (cur == NULL && value == NULL)
		return 0;
	if (cur != NULL && value != NULL && strcmp(cur, value) == 0)
		return 0;
	if (value == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(prop, "expected");
	else
		twin_doc_set(prop, "expected", twin_doc_value_new(value, now));
	twin_doc_bump(prop, "expected_version", "cloud");
	return 1;
}

int
twin_doc_set_type(cJSON *prop, const char *type)
{
	cJSON		*md = twin_doc_get(prop, "metadata");
	const char	*have = json_get_string(prop, "metadata.type");

	if (!twin_doc_type_known(type) || (have != NULL &&
	    strcmp(have, type) == 0))
		return 0;
	if (!cJSON_IsObject(md)) {
		md = cJSON_CreateObject();
		twin_doc_set(prop, "metadata", md);
	}
	twin_doc_set(md, "type", cJSON_CreateString(type));
	return 1;
}

cJSON *
twin_doc_delta(const cJSON *twin)
{
	const cJSON	*p;
	const char	*e, *a;
	cJSON		*delta = NULL;

	cJSON_ArrayForEach(p, twin) {
		if ((e = twin_doc_expected(p)) == NULL)
			continue;
		a = twin_doc_actual(p);
		if (a != NULL && strcmp(a, e) == 0)
			continue;
		if (delta == NULL)
			delta = cJSON_CreateObject();
		cJSON_AddStringToObject(delta, p->string, e);
	}
	return delta;
}

/* {"event_id": id, "timestamp": now}. */
static cJSON *
twin_doc_head(const char *event_id, int64_t now)
{
	cJSON	*m;

	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "event_id", event_id != NULL ? event_id :
	    "");
	cJSON_AddNumberToObject(m, "timestamp", (double)now);
	return m;
}

/* Prints and frees m. */
static char *
twin_doc_print(cJSON *m)
{
	char	*out;

	out = json_print(m);
	cJSON_Delete(m);
	return out;
}

char *
twin_doc_error(const char *event_id, int64_t now, int code,
    const char *reason)
{
	cJSON	*m = twin_doc_head(event_id, now);

	cJSON_AddNumberToObject(m, "code", code);
	cJSON_AddStringToObject(m, "reason", reason);
	return twin_doc_print(m);
}

char *
twin_doc_message(const char *event_id, int64_t now, const char *key,
    cJSON *item)
{
	cJSON	*m = twin_doc_head(event_id, now);

	if (key != NULL)
		cJSON_AddItemToObject(m, key, item != NULL ? item :
		    cJSON_CreateObject());
	return twin_doc_print(m);
}

char *
twin_doc_membership(const char *event_id, int64_t now, cJSON *added,
    cJSON *removed)
{
	cJSON	*m = twin_doc_head(event_id, now);

	cJSON_AddItemToObject(m, "added_devices", added);
	cJSON_AddItemToObject(m, "removed_devices", removed);
	return twin_doc_print(m);
}

char *
twin_doc_delta_message(const char *event_id, int64_t now, const cJSON *twin,
    cJSON *delta)
{
	cJSON	*m = twin_doc_head(event_id, now);

	cJSON_AddItemToObject(m, "twin", cJSON_Duplicate(twin, 1));
	cJSON_AddItemToObject(m, "delta", delta);
	return twin_doc_print(m);
}

/* 1 when the string array values holds s. */
static int
twin_doc_array_has(const cJSON *values, const char *s)
{
	const cJSON	*v;

	cJSON_ArrayForEach(v, values) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return 1;
	}
	return 0;
}

/* 1 when every requirement of list (matchExpressions or matchFields) holds. */
static int
twin_doc_reqs_match(const cJSON *list, const char *node, int fields)
{
	const cJSON	*r;
	const char	*key, *op;

	cJSON_ArrayForEach(r, list) {
		key = json_get_string(r, "key");
		op = json_get_string(r, "operator");
		if (key == NULL || op == NULL || strcmp(op, "In") != 0)
			return 0;
		/* KubeEdge binds with an empty key; the hostname label too. */
		if (fields ? strcmp(key, "metadata.name") != 0 :
		    *key != '\0' && strcmp(key, "kubernetes.io/hostname") != 0)
			return 0;
		if (!twin_doc_array_has(twin_doc_get(r, "values"), node))
			return 0;
	}
	return 1;
}

int
twin_doc_device_bound(const cJSON *device, const char *node)
{
	const cJSON	*terms, *t, *exprs, *fields;

	terms = json_get(device, "spec.nodeSelector.nodeSelectorTerms");
	if (!cJSON_IsArray(terms))
		return 0;
	cJSON_ArrayForEach(t, terms) {
		exprs = twin_doc_get(t, "matchExpressions");
		fields = twin_doc_get(t, "matchFields");
		if (cJSON_GetArraySize(exprs) + cJSON_GetArraySize(fields) == 0)
			continue;
		if (twin_doc_reqs_match(exprs, node, 0) &&
		    twin_doc_reqs_match(fields, node, 1))
			return 1;
	}
	return 0;
}

/* The Device's status.twins entry of property name, or NULL. */
static const cJSON *
twin_doc_status_twin(const cJSON *device, const char *name)
{
	const cJSON	*t;
	const char	*n;

	cJSON_ArrayForEach(t, json_get(device, "status.twins")) {
		if ((n = json_get_string(t, "propertyName")) != NULL &&
		    strcmp(n, name) == 0)
			return t;
	}
	return NULL;
}

const char *
twin_doc_prop_type(const cJSON *device, const cJSON *model, const char *name)
{
	const cJSON	*props, *p, *type;
	const char	*n, *t;

	props = model != NULL ? json_get(model, "spec.properties") : NULL;
	cJSON_ArrayForEach(p, props) {
		if ((n = json_get_string(p, "name")) == NULL ||
		    strcmp(n, name) != 0)
			continue;
		type = twin_doc_get(p, "type");
		if (cJSON_IsObject(type) && type->child != NULL &&
		    twin_doc_type_known(type->child->string))
			return type->child->string;
	}
	t = json_get_string(twin_doc_status_twin(device, name),
	    "desired.metadata.type");
	return t != NULL && twin_doc_type_known(t) ? t : "string";
}

const char *
twin_doc_desired(const cJSON *device, const char *name)
{
	return json_get_string(twin_doc_status_twin(device, name),
	    "desired.value");
}

/* The reported value upstream: {"value", "metadata":{"timestamp","type"}}. */
static cJSON *
twin_doc_reported(const cJSON *prop)
{
	cJSON	*r, *md;
	double	 ts = 0;
	char	 buf[32];
	const cJSON *t = json_get(prop, "actual.metadata.timestamp");

	if (cJSON_IsNumber(t))
		ts = t->valuedouble;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "value", twin_doc_actual(prop));
	md = cJSON_AddObjectToObject(r, "metadata");
	snprintf(buf, sizeof(buf), "%.0f", ts);
	cJSON_AddStringToObject(md, "timestamp", buf);
	cJSON_AddStringToObject(md, "type", json_get_string(prop,
	    "metadata.type") != NULL ? json_get_string(prop, "metadata.type") :
	    "string");
	return r;
}

/* 1 when member key of the Device's status differs from want. */
static int
twin_doc_status_differs(const cJSON *device, const char *key,
    const char *want)
{
	const char	*have;
	char		 path[64];

	if (want == NULL)
		return 0;
	snprintf(path, sizeof(path), "status.%s", key);
	have = json_get_string(device, path);
	return have == NULL || strcmp(have, want) != 0;
}

char *
twin_doc_status(const cJSON *device, const cJSON *twin, const char *state,
    const char *last_online)
{
	const cJSON	*t, *p;
	const char	*n, *a, *r;
	cJSON		*status, *twins, *out;
	int		 changed;

	changed = twin_doc_status_differs(device, "state", state) ||
	    twin_doc_status_differs(device, "lastOnline", last_online);
	status = cJSON_CreateObject();
	twins = cJSON_AddArrayToObject(status, "twins");
	/* The cloud's entries first, desired values as they are. */
	cJSON_ArrayForEach(t, json_get(device, "status.twins")) {
		out = cJSON_Duplicate(t, 1);
		cJSON_AddItemToArray(twins, out);
		if ((n = json_get_string(t, "propertyName")) == NULL ||
		    (p = twin_doc_get(twin, n)) == NULL ||
		    (a = twin_doc_actual(p)) == NULL)
			continue;
		r = json_get_string(t, "reported.value");
		if (r == NULL || strcmp(r, a) != 0)
			changed = 1;
		twin_doc_set(out, "reported", twin_doc_reported(p));
	}
	/* Then what only the edge knows. */
	cJSON_ArrayForEach(p, twin) {
		if (twin_doc_actual(p) == NULL ||
		    twin_doc_status_twin(device, p->string) != NULL)
			continue;
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "propertyName", p->string);
		cJSON_AddItemToObject(out, "reported", twin_doc_reported(p));
		cJSON_AddItemToArray(twins, out);
		changed = 1;
	}
	if (state != NULL)
		cJSON_AddStringToObject(status, "state", state);
	if (last_online != NULL)
		cJSON_AddStringToObject(status, "lastOnline", last_online);
	if (!changed) {
		cJSON_Delete(status);
		return NULL;
	}
	return twin_doc_print(status);
}

void
twin_doc_uuid(char *buf, size_t len)
{
	unsigned char	b[16];

	arc4random_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
