/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key builders for the store's key families, all of which store_keys.h
 * declares with what they hold and who writes them. Every key and every
 * scanned or subscribed prefix is built here or from a macro there, so
 * the layout on disk lives in one place.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>

#include "core/xmalloc.h"
#include "store/store_keys.h"

/* Cluster-scoped objects have an empty namespace: o/nodes//node1. */
char *
store_key_object(const char *resource, const char *ns, const char *name)
{
	char	*key;

	xasprintf(&key, STORE_KEY_OBJECT "%s/%s/%s", resource,
	    ns != NULL ? ns : "", name);
	return key;
}

/* o/<resource>/, or o/<resource>/<ns>/ ("" for the cluster-scoped). */
char *
store_key_objects(const char *resource, const char *ns)
{
	char	*key;

	if (ns == NULL)
		xasprintf(&key, STORE_KEY_OBJECT "%s/", resource);
	else
		xasprintf(&key, STORE_KEY_OBJECT "%s/%s/", resource, ns);
	return key;
}

/* The resourceVersion a reflector resumes from, by its scope. */
char *
store_key_version(const char *resource, const char *ns, const char *name)
{
	char	*key;

	if (name != NULL)
		xasprintf(&key, STORE_KEY_VERSION "%s/%s/%s", resource,
		    ns != NULL ? ns : "", name);
	else if (ns != NULL)
		xasprintf(&key, STORE_KEY_VERSION "%s/%s", resource, ns);
	else
		xasprintf(&key, STORE_KEY_VERSION "%s", resource);
	return key;
}

/* A static pod as read from its manifest. */
char *
store_key_static_pod(const char *ns, const char *name)
{
	char	*key;

	xasprintf(&key, STORE_KEY_STATIC "%s/%s", ns, name);
	return key;
}

/* The status computed for a pod. */
char *
store_key_pod_status(const char *ns, const char *name)
{
	char	*key;

	xasprintf(&key, STORE_KEY_POD_STATUS "%s/%s", ns, name);
	return key;
}

/* Twin state of one device property, or the device's record (""). */
char *
store_key_twin(const char *device, const char *property)
{
	char	*key;

	xasprintf(&key, STORE_KEY_TWIN "%s/%s", device, property);
	return key;
}

/* One outbox entry per upstream target; a newer write replaces it. */
char *
store_key_outbox(const char *target)
{
	char	*key;

	xasprintf(&key, STORE_KEY_OUTBOX "%s", target);
	return key;
}

/* Fixed widths: the log sorts by revision, then by place in the batch. */
char *
store_key_log(uint64_t rev, size_t idx)
{
	char	*key;

	xasprintf(&key, STORE_KEY_LOG "%0*" PRIu64 "/%06zu",
	    STORE_KEY_LOG_REVLEN, rev, idx);
	return key;
}

/* '~' sorts after every digit: past each entry of rev, before rev + 1. */
char *
store_key_log_after(uint64_t rev)
{
	char	*key;

	xasprintf(&key, STORE_KEY_LOG "%0*" PRIu64 "/~",
	    STORE_KEY_LOG_REVLEN, rev);
	return key;
}

/* A retained message of the embedded broker, by its topic. */
char *
store_key_mqtt_retain(const char *topic)
{
	char	*key;

	xasprintf(&key, STORE_KEY_MQTT_RETAIN "%s", topic);
	return key;
}

/* A persistent session of the embedded broker, by its client key. */
char *
store_key_mqtt_session(const char *client)
{
	char	*key;

	xasprintf(&key, STORE_KEY_MQTT_SESSION "%s", client);
	return key;
}

/* A message queued for a session; seq keeps them in order. */
char *
store_key_mqtt_msg(const char *client, uint64_t seq)
{
	char	*key;

	xasprintf(&key, STORE_KEY_MQTT_MSG "%s/%020" PRIu64, client, seq);
	return key;
}

/* The prefix of one session's queued messages. */
char *
store_key_mqtt_msgs(const char *client)
{
	char	*key;

	xasprintf(&key, STORE_KEY_MQTT_MSG "%s/", client);
	return key;
}
