/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device twin. Devices (devices.kubeedge.io v1alpha1) whose node
 * selector picks this node are its members; the reflectors keep them, and
 * their DeviceModels, in the store. Every change of either runs one sync
 * on a later loop turn: members that appeared get a record and their twin
 * from the desired values, members that went lose theirs (and devices
 * hear of both on membership/updated), and a desired value the cloud
 * changed becomes the expected value and a delta. Devices talk on the
 * $hw/events/... topics (twin_topic.c): twin updates, twin gets, state
 * updates and membership gets, each answered on <topic>/result, with a
 * code and a reason when the request is bad (and nothing changed). What
 * devices report, and their state, goes upstream as the Device's status:
 * in a cluster, an outbox record (store_outbox.h) in the same batch as
 * the twin state it comes from, which the kube room sends.
 *
 * The store holds everything: t/<id>/ is a member's record
 * {"namespace","name","state","last_online"} and t/<id>/<property> one
 * property of its twin (twin_int.h), so nothing here can disagree with
 * it. This file owns struct twin and its subscriptions.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/node.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt.h"
#include "store/store.h"
#include "store/store_outbox.h"
#include "twin/twin.h"
#include "twin/twin_int.h"

#define TWIN_DEVICES	"devices.devices.kubeedge.io"
#define TWIN_MODELS	"devicemodels.devices.kubeedge.io"
#define TWIN_NSUBS	4

struct twin {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct mqtt		*mqtt;
	int			 cluster;	/* Device status goes upstream */
	const char		*node;		/* the node_ident's */
	struct mqtt_sub		*subs[TWIN_NSUBS];
	struct store_sub	*devices_sub;
	struct store_sub	*models_sub;
	struct event		 ev_sync;
	uint64_t		 refused;	/* requests answered an error */
};

/* A bound Device as a sync sees it. */
struct twin_dev {
	const char	*id;		/* its name */
	const char	*ns;
	cJSON		*obj;
};

/* Wall-clock milliseconds, for the payloads' timestamps. */
static int64_t
twin_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Publishes a payload we built (and frees it). */
static void
twin_publish(struct twin *t, const char *topic, char *payload)
{
	if (payload == NULL)
		return;
	log_trace(LOG_SUB_MQTT, "twin: %s %s", topic, payload);
	mqtt_publish(t->mqtt, topic, payload, strlen(payload),
	    (int)t->conf->mqtt_qos, t->conf->mqtt_retain);
	free(payload);
}

/* Answers a request on <topic>/result. */
static void
twin_answer(struct twin *t, const char *topic, char *payload)
{
	char	*result;

	xasprintf(&result, "%s/result", topic);
	twin_publish(t, result, payload);
	free(result);
}

/* Refuses a request: code and reason on <topic>/result, logged at debug. */
static void
twin_refuse(struct twin *t, const char *topic, const char *event_id,
    int code, const char *reason)
{
	char	esc[256];

	t->refused++;
	log_debug("twin: %s: refused (%d): %s", log_escape(topic,
	    strlen(topic), esc, sizeof(esc)), code, reason);
	twin_answer(t, topic, twin_doc_error(event_id, twin_now(), code,
	    reason));
}

/* Reads and parses the JSON value at key; NULL when absent or damaged. */
static cJSON *
twin_load(struct twin *t, const char *key, char **rv)
{
	cJSON		*obj;
	const char	*errstr;
	char		*val;
	size_t		 len;

	if (store_get(t->store, key, &val, &len) != 0)
		return NULL;
	obj = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	if (obj != NULL && rv != NULL) {
		free(*rv);
		*rv = json_get_string(obj, "metadata.resourceVersion") !=
		    NULL ? xstrdup(json_get_string(obj,
		    "metadata.resourceVersion")) : NULL;
	}
	return obj;
}

/* A member's record t/<id>/, or NULL when id is not a member. */
static cJSON *
twin_record(struct twin *t, const char *id)
{
	cJSON	*rec;
	char	*key;

	key = store_key_twin(id, "");
	rec = twin_load(t, key, NULL);
	free(key);
	if (rec != NULL && !cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		rec = NULL;
	}
	return rec;
}

struct twin_scan {
	cJSON		*twin;
	size_t		 skip;		/* length of t/<id>/ */
};

static int
twin_props_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct twin_scan	*s = arg;
	const char		*name = key + s->skip, *errstr;
	cJSON			*prop;

	if (*name == '\0')
		return 0;	/* the record */
	prop = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	if (cJSON_IsObject(prop))
		cJSON_AddItemToObject(s->twin, name, prop);
	else
		cJSON_Delete(prop);
	return 0;
}

/* The twin of member id: an object of its properties (maybe empty). */
static cJSON *
twin_props(struct twin *t, const char *id)
{
	struct twin_scan	 s;
	char			*prefix;

	prefix = store_key_twin(id, "");
	s.twin = cJSON_CreateObject();
	s.skip = strlen(prefix);
	store_scan(t->store, prefix, twin_props_cb, &s);
	free(prefix);
	return s.twin;
}

/* Puts member id's property into a batch. */
static void
twin_put_prop(struct store_batch *b, const char *id, const cJSON *prop)
{
	char	*key, *val;

	key = store_key_twin(id, prop->string);
	val = json_print(prop);
	store_batch_put(b, key, val, strlen(val));
	free(val);
	free(key);
}

/* Puts member id's record into a batch. */
static void
twin_put_record(struct store_batch *b, const char *id, const cJSON *rec)
{
	char	*key, *val;

	key = store_key_twin(id, "");
	val = json_print(rec);
	store_batch_put(b, key, val, strlen(val));
	free(val);
	free(key);
}

/* The Device object of a member, and its resourceVersion into *rv. */
static cJSON *
twin_device(struct twin *t, const cJSON *rec, char **rv)
{
	const char	*ns = json_get_string(rec, "namespace");
	const char	*name = json_get_string(rec, "name");
	cJSON		*obj;
	char		*key;

	if (ns == NULL || name == NULL)
		return NULL;
	key = store_key_object(TWIN_DEVICES, ns, name);
	obj = twin_load(t, key, rv);
	free(key);
	return obj;
}

/*
 * Adds the member's Device status to b, for upstream, when the Device does
 * not say yet what the twin (rec and twin, as b leaves them) knows.
 * Nothing when standalone.
 */
static void
twin_upstream(struct twin *t, struct store_batch *b, const char *id,
    const cJSON *rec, const cJSON *twin)
{
	cJSON	*obj;
	char	*rv = NULL, *status;

	if (!t->cluster || (obj = twin_device(t, rec, &rv)) == NULL)
		return;
	status = twin_doc_status(obj, twin, json_get_string(rec, "state"),
	    json_get_string(rec, "last_online"));
	if (status != NULL) {
		log_debug("twin: device %s: status queued upstream", id);
		if (store_outbox_device_status(b, json_get_string(rec,
		    "namespace"), json_get_string(rec, "name"), rv,
		    status) == -1)
			log_warnx("twin: device %s: its status cannot go "
			    "upstream (bad name or status), skipped", id);
	}
	free(status);
	free(rv);
	cJSON_Delete(obj);
}

/* A member as membership answers list it. */
static cJSON *
twin_member_json(const char *id, const cJSON *rec, const cJSON *obj,
    cJSON *twin)
{
	const cJSON	*l;
	cJSON		*d, *attrs, *a;
	const char	*s;

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "id", id);
	cJSON_AddStringToObject(d, "name", id);
	s = json_get_string(obj, "metadata.annotations.description");
	cJSON_AddStringToObject(d, "description", s != NULL ? s : "");
	s = json_get_string(rec, "state");
	cJSON_AddStringToObject(d, "state", s != NULL ? s : "unknown");
	s = json_get_string(rec, "last_online");
	cJSON_AddStringToObject(d, "last_online", s != NULL ? s : "");
	/* The Device's labels serve as its attributes. */
	attrs = cJSON_AddObjectToObject(d, "attributes");
	cJSON_ArrayForEach(l, json_get(obj, "metadata.labels")) {
		if (!cJSON_IsString(l))
			continue;
		a = cJSON_AddObjectToObject(attrs, l->string);
		cJSON_AddStringToObject(a, "value", l->valuestring);
		cJSON_AddBoolToObject(a, "optional", 0);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "metadata"),
		    "type", "string");
	}
	if (twin != NULL)
		cJSON_AddItemToObject(d, "twin", twin);
	return d;
}

/*
 * Sync.
 */

struct twin_sync {
	struct twin	*t;
	cJSON		*devices;	/* bound Device objects by id */
	cJSON		*members;	/* ids with a record: true */
};

/* Scan of the Devices: keeps those bound to this node, by id. */
static int
twin_sync_devices_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct twin_sync	*s = arg;
	cJSON			*obj;
	const char		*id, *errstr;

	obj = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	id = json_get_string(obj, "metadata.name");
	if (obj == NULL || id == NULL || !twin_topic_name_ok(id) ||
	    !twin_doc_device_bound(obj, s->t->node)) {
		cJSON_Delete(obj);
		return 0;
	}
	if (cJSON_GetObjectItemCaseSensitive(s->devices, id) != NULL) {
		log_warnx("twin: device %s: bound twice (namespace %s too), "
		    "ignoring the second", id, json_get_string(obj,
		    "metadata.namespace"));
		cJSON_Delete(obj);
		return 0;
	}
	cJSON_AddItemToObject(s->devices, id, obj);
	return 0;
}

/* Scan of t/: the members are the ids with a record (t/<id>/). */
static int
twin_sync_members_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct twin_sync	*s = arg;
	const char		*id = key + strlen(STORE_KEY_TWIN), *slash;
	char			*name;

	slash = strchr(id, '/');
	if (slash == NULL || slash[1] != '\0' || slash == id)
		return 0;
	name = xstrndup(id, (size_t)(slash - id));
	cJSON_AddTrueToObject(s->members, name);
	free(name);
	return 0;
}

/* The DeviceModel a Device names, or NULL. */
static cJSON *
twin_model(struct twin *t, const cJSON *obj)
{
	const char	*ns = json_get_string(obj, "metadata.namespace");
	const char	*name;
	cJSON		*model;
	char		*key;

	if ((name = json_get_string(obj, "spec.deviceModelRef.name")) == NULL)
		return NULL;
	key = store_key_object(TWIN_MODELS, ns != NULL ? ns : "", name);
	model = twin_load(t, key, NULL);
	free(key);
	return model;
}

/*
 * Brings a member's twin in line with its Device: the cloud's desired
 * values become expected values, properties of the model or the status
 * that the twin lacks are added. Changed properties go into the batch;
 * 1 when an expected value changed.
 */
static int
twin_sync_twin(struct twin *t, struct store_batch *b, const char *id,
    const cJSON *obj, cJSON *twin, int64_t now)
{
	const cJSON	*st, *model_prop;
	cJSON		*model, *prop;
	const char	*name;
	int		 changed = 0, dirty;

	model = twin_model(t, obj);
	cJSON_ArrayForEach(model_prop, json_get(model, "spec.properties")) {
		name = json_get_string(model_prop, "name");
		if (name == NULL || !twin_topic_name_ok(name))
			continue;
		/* The model's type wins, also when it came after the Device. */
		if ((prop = cJSON_GetObjectItemCaseSensitive(twin,
		    name)) != NULL) {
			if (twin_doc_set_type(prop, twin_doc_prop_type(obj,
			    model, name)))
				twin_put_prop(b, id, prop);
			continue;
		}
		prop = twin_doc_prop_new(twin_doc_prop_type(obj, model, name),
		    0);
		cJSON_AddItemToObject(twin, name, prop);
		twin_put_prop(b, id, prop);
	}
	cJSON_ArrayForEach(st, json_get(obj, "status.twins")) {
		name = json_get_string(st, "propertyName");
		if (name == NULL || !twin_topic_name_ok(name))
			continue;
		dirty = 0;
		if ((prop = cJSON_GetObjectItemCaseSensitive(twin,
		    name)) == NULL) {
			prop = twin_doc_prop_new(twin_doc_prop_type(obj, model,
			    name), 0);
			cJSON_AddItemToObject(twin, name, prop);
			dirty = 1;
		}
		if (twin_doc_desired(obj, name) != NULL &&
		    twin_doc_set_expected(prop, twin_doc_desired(obj, name),
		    now)) {
			changed = dirty = 1;
		}
		if (dirty)
			twin_put_prop(b, id, prop);
	}
	cJSON_Delete(model);
	return changed;
}

/* Deletes a member's record and twin. */
static void
twin_sync_remove(struct twin *t, struct store_batch *b, const char *id)
{
	cJSON		*twin, *p;
	char		*key;

	twin = twin_props(t, id);
	cJSON_ArrayForEach(p, twin) {
		key = store_key_twin(id, p->string);
		store_batch_delete(b, key);
		free(key);
	}
	cJSON_Delete(twin);
	key = store_key_twin(id, "");
	store_batch_delete(b, key);
	free(key);
}

/* Syncs one bound Device; new members go to added, deltas to deltas. */
static void
twin_sync_one(struct twin_sync *s, struct store_batch *b, const cJSON *obj,
    cJSON *added, cJSON *deltas, int64_t now)
{
	struct twin	*t = s->t;
	const char	*id = obj->string, *ns, *have;
	cJSON		*rec, *twin;
	int		 isnew, changed;

	ns = json_get_string(obj, "metadata.namespace");
	isnew = cJSON_GetObjectItemCaseSensitive(s->members, id) == NULL;
	if ((rec = isnew ? NULL : twin_record(t, id)) == NULL)
		rec = cJSON_CreateObject();
	have = json_get_string(rec, "namespace");
	if (isnew || have == NULL || strcmp(have, ns != NULL ? ns : "") != 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "namespace");
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "name");
		cJSON_AddStringToObject(rec, "namespace", ns != NULL ? ns : "");
		cJSON_AddStringToObject(rec, "name", id);
		twin_put_record(b, id, rec);
	}
	twin = twin_props(t, id);
	changed = twin_sync_twin(t, b, id, obj, twin, now);
	twin_upstream(t, b, id, rec, twin);
	if (isnew) {
		log_info("twin: device %s (namespace %s) joined", id, ns);
		cJSON_AddItemToArray(added, twin_member_json(id, rec, obj,
		    cJSON_Duplicate(twin, 1)));
	}
	if (changed && !isnew)
		cJSON_AddItemToObject(deltas, id, cJSON_Duplicate(twin, 1));
	cJSON_Delete(twin);
	cJSON_Delete(rec);
}

/* After a sync's commit: deltas and membership news. */
static void
twin_sync_tell(struct twin_sync *s, cJSON *added, cJSON *removed,
    cJSON *deltas, int64_t now)
{
	struct twin	*t = s->t;
	const cJSON	*d;
	cJSON		*delta;
	char		*topic, uuid[40];

	cJSON_ArrayForEach(d, deltas) {
		if ((delta = twin_doc_delta(d)) == NULL)
			continue;
		twin_doc_uuid(uuid, sizeof(uuid));
		topic = twin_topic_device(d->string, "/twin/update/delta");
		twin_publish(t, topic, twin_doc_delta_message(uuid, now, d,
		    delta));
		free(topic);
	}
	if (cJSON_GetArraySize(added) + cJSON_GetArraySize(removed) > 0) {
		twin_doc_uuid(uuid, sizeof(uuid));
		topic = twin_topic_node(t->node, "/membership/updated");
		twin_publish(t, topic, twin_doc_membership(uuid, now,
		    cJSON_Duplicate(added, 1), cJSON_Duplicate(removed, 1)));
		free(topic);
	}
}

/* The sync: members and twins in line with the Devices, in one batch. */
static void
twin_sync(struct twin *t)
{
	struct twin_sync	 s;
	struct store_batch	*b;
	const cJSON		*obj, *mem;
	cJSON			*added, *removed, *deltas, *r;
	char			*prefix;
	int64_t			 now = twin_now();

	s.t = t;
	s.devices = cJSON_CreateObject();
	s.members = cJSON_CreateObject();
	prefix = store_key_objects(TWIN_DEVICES, NULL);
	if (store_scan(t->store, prefix, twin_sync_devices_cb, &s) == -1 ||
	    store_scan(t->store, STORE_KEY_TWIN, twin_sync_members_cb,
	    &s) == -1) {
		log_warnx("twin: cannot read the store, sync skipped");
		goto out;
	}
	added = cJSON_CreateArray();
	removed = cJSON_CreateArray();
	deltas = cJSON_CreateObject();
	b = store_batch_new(t->store);
	cJSON_ArrayForEach(obj, s.devices)
		twin_sync_one(&s, b, obj, added, deltas, now);
	cJSON_ArrayForEach(mem, s.members) {
		if (cJSON_GetObjectItemCaseSensitive(s.devices,
		    mem->string) != NULL)
			continue;
		log_info("twin: device %s left", mem->string);
		twin_sync_remove(t, b, mem->string);
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "id", mem->string);
		cJSON_AddStringToObject(r, "name", mem->string);
		cJSON_AddItemToArray(removed, r);
	}
	if (store_batch_commit(b) == 0)
		twin_sync_tell(&s, added, removed, deltas, now);
	cJSON_Delete(added);
	cJSON_Delete(removed);
	cJSON_Delete(deltas);
out:
	free(prefix);
	cJSON_Delete(s.devices);
	cJSON_Delete(s.members);
}

/* A Device or DeviceModel changed: one sync on a later turn. */
static void
twin_store_cb(const struct store_change *ch, void *arg)
{
	struct twin	*t = arg;

	event_active(&t->ev_sync, EV_TIMEOUT, 0);
}

static void
twin_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	twin_sync(arg);
}

/*
 * Requests from devices.
 */

/* $hw/events/node/<node>/membership/get: every member with its twin. */
static void
twin_membership_get(struct twin *t, const char *topic, const cJSON *req)
{
	struct twin_sync	 s;
	const cJSON		*mem;
	cJSON			*list, *rec, *obj;

	s.t = t;
	s.members = cJSON_CreateObject();
	list = cJSON_CreateArray();
	store_scan(t->store, STORE_KEY_TWIN, twin_sync_members_cb, &s);
	cJSON_ArrayForEach(mem, s.members) {
		if ((rec = twin_record(t, mem->string)) == NULL)
			continue;
		obj = twin_device(t, rec, NULL);
		cJSON_AddItemToArray(list, twin_member_json(mem->string, rec,
		    obj, twin_props(t, mem->string)));
		cJSON_Delete(obj);
		cJSON_Delete(rec);
	}
	cJSON_Delete(s.members);
	twin_answer(t, topic, twin_doc_message(twin_doc_event_id(req),
	    twin_now(), "devices", list));
}

/* $hw/events/device/<id>/twin/get: the device's whole twin. */
static void
twin_get(struct twin *t, const char *topic, const char *id,
    const cJSON *req, cJSON *rec)
{
	twin_answer(t, topic, twin_doc_message(twin_doc_event_id(req),
	    twin_now(), "twin", twin_props(t, id)));
}

/*
 * $hw/events/device/<id>/twin/update: checked as a whole, applied in one
 * batch, then the result, the document and any delta, and upstream.
 */
static void
twin_update(struct twin *t, const char *topic, const char *id,
    const cJSON *req, cJSON *rec)
{
	struct store_batch	*b;
	const cJSON		*p;
	cJSON			*twin, *result, *document, *delta;
	const char		*reason, *event_id = twin_doc_event_id(req);
	char			*out;
	int64_t			 now = twin_now();
	int			 code;

	twin = twin_props(t, id);
	if (twin_doc_check_update(req, twin, &code, &reason) == -1) {
		twin_refuse(t, topic, event_id, code, reason);
		goto out;
	}
	result = cJSON_CreateObject();
	document = cJSON_CreateObject();
	twin_doc_apply_update(req, twin, now, result, document);
	b = store_batch_new(t->store);
	cJSON_ArrayForEach(p, result)
		twin_put_prop(b, id, cJSON_GetObjectItemCaseSensitive(twin,
		    p->string));
	twin_upstream(t, b, id, rec, twin);
	if (store_batch_commit(b) == -1) {
		twin_refuse(t, topic, event_id, TWIN_CODE_INTERNAL,
		    "cannot store the twin");
		cJSON_Delete(result);
		cJSON_Delete(document);
		goto out;
	}
	log_debug("twin: device %s: %d properties updated", id,
	    cJSON_GetArraySize(result));
	twin_answer(t, topic, twin_doc_message(event_id, now, "twin", result));
	out = twin_topic_device(id, "/twin/update/document");
	twin_publish(t, out, twin_doc_message(event_id, now, "twin",
	    document));
	free(out);
	if ((delta = twin_doc_delta(twin)) != NULL) {
		out = twin_topic_device(id, "/twin/update/delta");
		twin_publish(t, out, twin_doc_delta_message(event_id, now, twin,
		    delta));
		free(out);
	}
out:
	cJSON_Delete(twin);
}

/* $hw/events/device/<id>/state/update: online, offline or unknown. */
static void
twin_state_update(struct twin *t, const char *topic, const char *id,
    const cJSON *req, cJSON *rec)
{
	struct store_batch	*b;
	const char		*state, *event_id = twin_doc_event_id(req);
	cJSON			*dev, *twin;
	char			 when[64];

	state = json_get_string(req, "state");
	if (state == NULL || !twin_doc_state_ok(state)) {
		twin_refuse(t, topic, event_id, TWIN_CODE_BAD_REQUEST,
		    "state is not online, offline or unknown");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "state");
	cJSON_AddStringToObject(rec, "state", state);
	if (strcmp(state, "online") == 0) {
		clock_rfc3339(time(NULL), when, sizeof(when));
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "last_online");
		cJSON_AddStringToObject(rec, "last_online", when);
	}
	b = store_batch_new(t->store);
	twin_put_record(b, id, rec);
	twin = twin_props(t, id);
	twin_upstream(t, b, id, rec, twin);
	cJSON_Delete(twin);
	if (store_batch_commit(b) == -1) {
		twin_refuse(t, topic, event_id, TWIN_CODE_INTERNAL,
		    "cannot store the state");
		return;
	}
	log_debug("twin: device %s: %s", id, state);
	dev = cJSON_CreateObject();
	cJSON_AddStringToObject(dev, "id", id);
	cJSON_AddStringToObject(dev, "name", id);
	cJSON_AddStringToObject(dev, "state", state);
	cJSON_AddStringToObject(dev, "last_online", json_get_string(rec,
	    "last_online") != NULL ? json_get_string(rec, "last_online") : "");
	twin_answer(t, topic, twin_doc_message(event_id, twin_now(), "device",
	    dev));
}

/* A request on one of our topics: parsed, its device found, then served. */
static void
twin_msg_cb(const struct mqtt_msg *msg, void *arg)
{
	struct twin		*t = arg;
	enum twin_topic_kind	 kind;
	cJSON			*req, *rec = NULL;
	const char		*reason;
	char			 id[TWIN_MAX_NAME + 1];

	kind = twin_topic_parse(msg->topic, id, sizeof(id));
	if (kind == TWIN_TOPIC_NONE || (kind == TWIN_TOPIC_MEMBERSHIP_GET &&
	    strcmp(id, t->node) != 0))
		return;
	if ((req = twin_doc_parse(msg->payload, msg->len, &reason)) == NULL) {
		twin_refuse(t, msg->topic, "", TWIN_CODE_BAD_REQUEST, reason);
		return;
	}
	if (kind != TWIN_TOPIC_MEMBERSHIP_GET &&
	    (rec = twin_record(t, id)) == NULL) {
		twin_refuse(t, msg->topic, twin_doc_event_id(req),
		    TWIN_CODE_NOT_FOUND, "no such device on this node");
		cJSON_Delete(req);
		return;
	}
	switch (kind) {
	case TWIN_TOPIC_MEMBERSHIP_GET:
		twin_membership_get(t, msg->topic, req);
		break;
	case TWIN_TOPIC_TWIN_UPDATE:
		twin_update(t, msg->topic, id, req, rec);
		break;
	case TWIN_TOPIC_TWIN_GET:
		twin_get(t, msg->topic, id, req, rec);
		break;
	case TWIN_TOPIC_STATE_UPDATE:
		twin_state_update(t, msg->topic, id, req, rec);
		break;
	case TWIN_TOPIC_NONE:
		break;
	}
	cJSON_Delete(rec);
	cJSON_Delete(req);
}

struct twin *
twin_new(struct event_base *base, const struct conf *conf,
    struct store *store, struct mqtt *mqtt, const struct node_ident *node,
    const char **errstr)
{
	const char *const	*f;
	struct twin		*t;
	char			*prefix, *topic;
	size_t			 n = 0;

	t = xcalloc(1, sizeof(*t));
	t->base = base;
	t->conf = conf;
	t->store = store;
	t->mqtt = mqtt;
	t->cluster = node->cluster;
	t->node = node->name;
	event_assign(&t->ev_sync, base, -1, 0, twin_sync_cb, t);
	if (!twin_topic_name_ok(t->node)) {
		*errstr = "the node name cannot be an MQTT topic level";
		twin_free(t);
		return NULL;
	}
	topic = twin_topic_node(t->node, "/membership/get");
	t->subs[n++] = mqtt_subscribe(mqtt, topic, twin_msg_cb, t);
	free(topic);
	for (f = twin_topic_filters(); *f != NULL && n < TWIN_NSUBS; f++)
		t->subs[n++] = mqtt_subscribe(mqtt, *f, twin_msg_cb, t);
	prefix = store_key_objects(TWIN_DEVICES, NULL);
	t->devices_sub = store_subscribe(store, prefix, twin_store_cb, t);
	free(prefix);
	prefix = store_key_objects(TWIN_MODELS, NULL);
	t->models_sub = store_subscribe(store, prefix, twin_store_cb, t);
	free(prefix);
	/* The first sync runs on the loop: members may have changed offline. */
	event_active(&t->ev_sync, EV_TIMEOUT, 0);
	log_info("twin: node %s", t->node);
	return t;
}

void
twin_free(struct twin *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < TWIN_NSUBS; i++)
		mqtt_unsubscribe(t->subs[i]);
	store_unsubscribe(t->devices_sub);
	store_unsubscribe(t->models_sub);
	event_del(&t->ev_sync);
	free(t);
}

/* The twin's counts on /metrics; arg is the twin. */
void
twin_metrics(struct metrics_out *out, void *arg)
{
	struct twin	*t = arg;

	metrics_counter(out, "edgesite_twin_requests_refused_total",
	    "Device requests the twin refused, each answered with its error "
	    "on the result topic.", t->refused);
}
