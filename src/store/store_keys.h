/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every key family of the store, in one place: its prefix, what it holds,
 * who writes it, and the builder of its keys (store_keys.c). No other file
 * spells a prefix; rooms build keys and scan prefixes with what is here.
 * All keys are ASCII; the layout on disk must not change, or existing
 * state directories stop working.
 *
 * The store's own:
 *   r                           local revision (store.c)
 *   k                           revision the change log is complete after
 *   c/<rev:20>/<index:6>        change log of the o/ family (store.c)
 * Desired state and what edgesite learnt of it:
 *   o/<resource>/<ns>/<name>    objects as JSON; cluster-scoped objects
 *                               have an empty <ns> (kube reflectors)
 *   v/<resource>[/<ns>[/<name>]] resume point (resourceVersion) of the
 *                               reflector of that scope (kube reflectors)
 *   s/<ns>/<name>               static pods from the manifest folder
 *                               (pod_static.c)
 * State computed here:
 *   p/<ns>/<name>               pod status (pod_sync.c)
 *   t/<device>/                 a device's twin record; t/<device>/<prop>
 *                               one property's twin state (twin.c)
 *   x/<target>                  outbox: one upstream write per target,
 *                               written with the state it comes from
 *                               (records: store_outbox.c; sent by
 *                               kube_outbox.c)
 *   q/retain/<topic>            the embedded MQTT broker's retained
 *                               messages (mqtt_persist.c)
 *   q/session/<client>          its persistent sessions (the client id
 *                               %XX-escaped: no '/')
 *   q/msg/<client>/<seq:20>     their queued messages
 */
#ifndef EDGESITE_STORE_KEYS_H
#define EDGESITE_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_REVISION	"r"	/* local revision counter */
#define STORE_KEY_LOG_FIRST	"k"	/* the change log is complete after */
#define STORE_KEY_LOG		"c/"	/* the change log */
#define STORE_KEY_LOG_REVLEN	20	/* digits of its revisions */
#define STORE_KEY_OBJECT	"o/"	/* objects */
#define STORE_KEY_VERSION	"v/"	/* reflector resume points */
#define STORE_KEY_STATIC		"s/"	/* static pods */
#define STORE_KEY_POD_STATUS	"p/"	/* pod status */
#define STORE_KEY_TWIN		"t/"	/* device twin state */
#define STORE_KEY_OUTBOX	"x/"	/* upstream writes */
#define STORE_KEY_MQTT_RETAIN	"q/retain/"	/* retained messages */
#define STORE_KEY_MQTT_SESSION	"q/session/"	/* MQTT sessions */
#define STORE_KEY_MQTT_MSG	"q/msg/"	/* their queued messages */

/* Prefixes of one resource, for a resource named by a string literal. */
#define STORE_KEY_OBJECTS_OF(res)	STORE_KEY_OBJECT res "/"
#define STORE_KEY_VERSIONS_OF(res)	STORE_KEY_VERSION res "/"
/* The pods, which the pod and kube rooms both follow: o/pods/. */
#define STORE_KEY_PODS			STORE_KEY_OBJECTS_OF("pods")

/* The builders; each returns a key the caller frees. */

/* o/<resource>/<ns>/<name>; a NULL ns is the empty one. */
char	*store_key_object(const char *resource, const char *ns,
	    const char *name);
/*
 * The prefix of objects: o/<resource>/ with a NULL ns (every namespace),
 * o/<resource>/<ns>/ otherwise (o/<resource>// the cluster-scoped ones).
 */
char	*store_key_objects(const char *resource, const char *ns);
/*
 * The resume point of the reflector of a scope: v/<resource> (all),
 * v/<resource>/<ns> (one namespace, ns not NULL) or
 * v/<resource>/<ns>/<name> (one object, name not NULL; NULL ns is "").
 */
char	*store_key_version(const char *resource, const char *ns,
	    const char *name);
/* s/<ns>/<name> */
char	*store_key_static_pod(const char *ns, const char *name);
/* p/<ns>/<name> */
char	*store_key_pod_status(const char *ns, const char *name);
/* t/<device>/<property>; property "" is the device's record. */
char	*store_key_twin(const char *device, const char *property);
/* x/<target> */
char	*store_key_outbox(const char *target);
/* c/<rev>/<index>, and the first key after every entry of rev. */
char	*store_key_log(uint64_t rev, size_t idx);
char	*store_key_log_after(uint64_t rev);
/*
 * q/retain/<topic>; q/session/<client>, client being the broker's escaped
 * form of the client id (no '/'); q/msg/<client>/<seq> and the prefix of
 * one client's messages, q/msg/<client>/.
 */
char	*store_key_mqtt_retain(const char *topic);
char	*store_key_mqtt_session(const char *client);
char	*store_key_mqtt_msg(const char *client, uint64_t seq);
char	*store_key_mqtt_msgs(const char *client);

#endif
