/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the twin room: twin_topic.c names and parses the $hw/events/...
 * topics, twin_doc.c validates requests and builds payloads (pure code
 * over cJSON trees, no I/O, unit-tested), twin.c does the rest.
 *
 * A twin property is a JSON object in KubeEdge's MsgTwin form:
 *   {"expected":{"value":"..","metadata":{"timestamp":ms}},
 *    "actual":{"value":"..","metadata":{"timestamp":ms}},
 *    "optional":false, "metadata":{"type":"int"},
 *    "expected_version":{"cloud":n,"edge":n},
 *    "actual_version":{"cloud":n,"edge":n}}
 * A device's twin is an object of such properties keyed by name.
 */
#ifndef EDGESITE_TWIN_INT_H
#define EDGESITE_TWIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Largest request payload a device may send. */
#define TWIN_MAX_PAYLOAD	(64u * 1024)
/* Longest device id or property name (one topic level, one store key). */
#define TWIN_MAX_NAME		253

/* Result codes, as KubeEdge answers them. */
#define TWIN_CODE_BAD_REQUEST	400
#define TWIN_CODE_NOT_FOUND	404
#define TWIN_CODE_CONFLICT	409
#define TWIN_CODE_INTERNAL	500

enum twin_topic_kind {
	TWIN_TOPIC_NONE,
	/* $hw/events/node/<node>/membership/get */
	TWIN_TOPIC_MEMBERSHIP_GET,
	/* $hw/events/device/<id>/{twin/update,twin/get,state/update} */
	TWIN_TOPIC_TWIN_UPDATE,
	TWIN_TOPIC_TWIN_GET,
	TWIN_TOPIC_STATE_UPDATE,
};

/* twin_topic.c */
/*
 * What a topic asks; the node or device id it names is copied into id
 * (TWIN_MAX_NAME + 1 bytes). TWIN_TOPIC_NONE for anything else.
 */
enum twin_topic_kind twin_topic_parse(const char *topic, char *id,
	    size_t idlen);
/* The device topics' filters; NULL-terminated, static. */
const char *const *twin_topic_filters(void);
/* "$hw/events/node/<node>/membership/get" and the like; caller frees. */
char	*twin_topic_node(const char *node, const char *suffix);
/* "$hw/events/device/<id><suffix>"; caller frees. */
char	*twin_topic_device(const char *id, const char *suffix);
/* 1 for a usable device id or property name: one topic level and key. */
int	 twin_topic_name_ok(const char *s);

/* twin_doc.c: requests */
/*
 * Parses a device's request: bounded, a JSON object. NULL with *reason
 * (static) when it is not.
 */
cJSON	*twin_doc_parse(const void *buf, size_t len, const char **reason);
/* The request's event_id, or "". */
const char *twin_doc_event_id(const cJSON *req);
/*
 * Checks a twin update against the device's twin: "twin" an object of
 * objects; "actual" and "expected" objects with a string "value" of the
 * property's type; versions, when given, not older than the stored ones.
 * 0, or -1 with *code and *reason (static) and nothing to apply.
 */
int	 twin_doc_check_update(const cJSON *req, const cJSON *twin,
	    int *code, const char **reason);
/*
 * Applies a checked update to twin at time now (ms): values and their
 * timestamps, the edge versions bumped. Adds to result the properties as
 * they now are and to document {"last":..,"current":..} for each.
 */
void	 twin_doc_apply_update(const cJSON *req, cJSON *twin, int64_t now,
	    cJSON *result, cJSON *document);
/* 1 when value is valid for type ("int", "float", "boolean", ...). */
int	 twin_doc_value_ok(const char *type, const char *value);
/* 1 for a state a device may report: online, offline, unknown. */
int	 twin_doc_state_ok(const char *state);

/* twin_doc.c: properties */
/* A new property of type (NULL: "string"). */
cJSON	*twin_doc_prop_new(const char *type, int optional);
/*
 * Sets the expected value the cloud wants (NULL: none) at time now; the
 * cloud version is bumped. 1 when it changed, 0 when it was already so.
 */
int	 twin_doc_set_expected(cJSON *prop, const char *value, int64_t now);
/* Sets a property's value type (a known one): 1 when it changed. */
int	 twin_doc_set_type(cJSON *prop, const char *type);
/* The expected or actual value of a property, or NULL. */
const char *twin_doc_expected(const cJSON *prop);
const char *twin_doc_actual(const cJSON *prop);
/*
 * The delta of a twin: {name: expected value} for every property whose
 * expected value differs from its actual one; NULL when there is none.
 */
cJSON	*twin_doc_delta(const cJSON *twin);

/* twin_doc.c: messages, as new strings the caller frees */
/* {"event_id","timestamp","code","reason"}. */
char	*twin_doc_error(const char *event_id, int64_t now, int code,
	    const char *reason);
/* {"event_id","timestamp", key: item}; item is taken (may be NULL). */
char	*twin_doc_message(const char *event_id, int64_t now,
	    const char *key, cJSON *item);
/* {"event_id","timestamp","added_devices","removed_devices"}; taken. */
char	*twin_doc_membership(const char *event_id, int64_t now,
	    cJSON *added, cJSON *removed);
/* {"event_id","timestamp","twin": twin, "delta": delta}; delta taken. */
char	*twin_doc_delta_message(const char *event_id, int64_t now,
	    const cJSON *twin, cJSON *delta);

/* twin_doc.c: Kubernetes objects */
/* 1 when the Device's node selector picks node. */
int	 twin_doc_device_bound(const cJSON *device, const char *node);
/*
 * The type of property name: from the DeviceModel's spec.properties
 * (model may be NULL), else the desired value's metadata.type, else
 * "string". Static or pointing into the trees.
 */
const char *twin_doc_prop_type(const cJSON *device, const cJSON *model,
	    const char *name);
/* The desired value of property name in the Device's status, or NULL. */
const char *twin_doc_desired(const cJSON *device, const char *name);
/*
 * The Device status to send upstream: its twins with the cloud's desired
 * values kept and ours reported, and the device's state. NULL when the
 * Device already says all that. Caller frees.
 */
char	*twin_doc_status(const cJSON *device, const cJSON *twin,
	    const char *state, const char *last_online);
/* A random event id (UUID form) into buf of 37 bytes. */
void	 twin_doc_uuid(char *buf, size_t len);

#endif
