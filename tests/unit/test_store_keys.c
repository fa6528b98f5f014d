/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's key builders (store_keys.h): every family's keys exactly as
 * existing state directories hold them, prefixes that cover their keys and
 * nothing else, and the order the change log relies on.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_keys.h"
#include "unit.h"

/* Checks a built key against the layout on disk and frees it. */
static void
is(char *key, const char *want)
{
	CHECK_STR(key, want);
	free(key);
}

/* 1 when prefix starts key (what a scan or subscription matches). */
static int
under(const char *key, const char *prefix)
{
	return strncmp(key, prefix, strlen(prefix)) == 0;
}

static void
test_layout(void)
{
	is(store_key_object("pods", "default", "web"), "o/pods/default/web");
	is(store_key_object("nodes", NULL, "edge1"), "o/nodes//edge1");
	is(store_key_object("nodes", "", "edge1"), "o/nodes//edge1");
	is(store_key_object("devices.devices.kubeedge.io", "ns", "m"),
	    "o/devices.devices.kubeedge.io/ns/m");
	is(store_key_objects("pods", NULL), "o/pods/");
	is(store_key_objects("pods", "kube-system"), "o/pods/kube-system/");
	is(store_key_objects("nodes", ""), "o/nodes//");
	is(store_key_version("pods", NULL, NULL), "v/pods");
	is(store_key_version("configmaps", "ns", NULL), "v/configmaps/ns");
	is(store_key_version("secrets", "ns", "s1"), "v/secrets/ns/s1");
	is(store_key_version("nodes", NULL, "edge1"), "v/nodes//edge1");
	is(store_key_static_pod("default", "nginx-edge1"),
	    "s/default/nginx-edge1");
	is(store_key_pod_status("default", "web"), "p/default/web");
	is(store_key_twin("meter-1", "temperature"), "t/meter-1/temperature");
	is(store_key_twin("meter-1", ""), "t/meter-1/");
	is(store_key_outbox("pods/default/web/status"),
	    "x/pods/default/web/status");
	is(store_key_log(42, 3), "c/00000000000000000042/000003");
	is(store_key_log_after(42), "c/00000000000000000042/~");
	is(store_key_mqtt_retain("a/b"), "q/retain/a/b");
	is(store_key_mqtt_session("dev%2F1"), "q/session/dev%2F1");
	is(store_key_mqtt_msg("dev", 7), "q/msg/dev/00000000000000000007");
	is(store_key_mqtt_msgs("dev"), "q/msg/dev/");
}

static void
test_constants(void)
{
	CHECK_STR(STORE_KEY_REVISION, "r");
	CHECK_STR(STORE_KEY_LOG_FIRST, "k");
	CHECK_STR(STORE_KEY_PODS, "o/pods/");
	CHECK_STR(STORE_KEY_OBJECTS_OF("configmaps"), "o/configmaps/");
	CHECK_STR(STORE_KEY_VERSIONS_OF("secrets"), "v/secrets/");
	CHECK_STR(STORE_KEY_STATIC, "s/");
	CHECK_STR(STORE_KEY_POD_STATUS, "p/");
	CHECK_STR(STORE_KEY_TWIN, "t/");
	CHECK_STR(STORE_KEY_OUTBOX, "x/");
}

/* Each family's prefix covers its keys, and no other family's. */
static void
test_prefixes(void)
{
	static const char *const fams[] = {
		STORE_KEY_LOG, STORE_KEY_OBJECT, STORE_KEY_VERSION,
		STORE_KEY_STATIC, STORE_KEY_POD_STATUS, STORE_KEY_TWIN,
		STORE_KEY_OUTBOX, STORE_KEY_MQTT_RETAIN,
		STORE_KEY_MQTT_SESSION, STORE_KEY_MQTT_MSG,
	};
	char	*keys[10], *p;
	size_t	 i, j, n = sizeof(fams) / sizeof(fams[0]);

	keys[0] = store_key_log(1, 0);
	keys[1] = store_key_object("pods", "ns", "a");
	keys[2] = store_key_version("pods", NULL, NULL);
	keys[3] = store_key_static_pod("ns", "a");
	keys[4] = store_key_pod_status("ns", "a");
	keys[5] = store_key_twin("d", "p");
	keys[6] = store_key_outbox("t");
	keys[7] = store_key_mqtt_retain("t");
	keys[8] = store_key_mqtt_session("c");
	keys[9] = store_key_mqtt_msg("c", 1);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			CHECK(under(keys[j], fams[i]) == (i == j));
	CHECK(!under(STORE_KEY_REVISION, STORE_KEY_OBJECT));
	/* one namespace's prefix holds none of a longer namespace's keys */
	p = store_key_objects("pods", "ns");
	CHECK(under(keys[1], p));
	free(keys[1]);
	keys[1] = store_key_object("pods", "ns2", "a");
	CHECK(!under(keys[1], p));
	free(p);
	/* a session's messages are not another session's */
	p = store_key_mqtt_msgs("c");
	CHECK(under(keys[9], p));
	free(keys[9]);
	keys[9] = store_key_mqtt_msg("cc", 1);
	CHECK(!under(keys[9], p));
	free(p);
	for (i = 0; i < n; i++)
		free(keys[i]);
}

/* The log sorts by revision, then by place; "after" sits between. */
static void
test_log_order(void)
{
	char	*a = store_key_log(9, 999999), *b = store_key_log_after(9);
	char	*c = store_key_log(10, 0), *d = store_key_log(9, 10);
	char	*e = store_key_log(9, 9);

	CHECK(strcmp(a, b) < 0);
	CHECK(strcmp(b, c) < 0);
	CHECK(strcmp(e, d) < 0);
	CHECK(strcmp(d, a) < 0);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	a = store_key_log(UINT64_MAX, 0);
	CHECK(strlen(a) == strlen(STORE_KEY_LOG) + STORE_KEY_LOG_REVLEN + 7);
	free(a);
}

/* kube_refs pairs an object with its reflector's resume point. */
static void
test_object_version_pair(void)
{
	char	*o = store_key_object("configmaps", "ns", "cm");
	char	*v = store_key_version("configmaps", "ns", "cm");

	CHECK(strlen(STORE_KEY_OBJECT) == strlen(STORE_KEY_VERSION));
	CHECK_STR(o + strlen(STORE_KEY_OBJECT), v + strlen(STORE_KEY_VERSION));
	CHECK(under(o, STORE_KEY_OBJECTS_OF("configmaps")));
	CHECK(under(v, STORE_KEY_VERSIONS_OF("configmaps")));
	free(o);
	free(v);
}

int
main(void)
{
	test_layout();
	test_constants();
	test_prefixes();
	test_log_order();
	test_object_version_pair();
	return unit_done();
}
