/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The option table: one row per key of edgeSite.yaml, in the order of the
 * sample file. Parsing, defaults, reload diffs, the JSON dump, the sample
 * and the man page check all read these rows; adding an option is adding
 * a field to struct conf, a row here and an item to edgeSite.yaml(5).
 * Every edged.X key is also accepted as controller.edged.X, the layout of
 * newer EdgeSite documents.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/conf_value.h"

#define OFF(f)		offsetof(struct conf, f)
#define SEC(n)		((int64_t)(n) * 1000)
#define DAY		SEC(24 * 3600)
#define RESTART		CONF_F_RESTART

static const char *const conf_http[] = { "http", "https", NULL };
static const char *const conf_mqtt[] = { "tcp", "ssl", NULL };
static const char *const conf_unix[] = { "unix", NULL };
static const char *const conf_cgroup[] = { "cgroupfs", "systemd", NULL };
static const char *const conf_level[] = { "warn", "info", "debug", NULL };

/* A key of the original EdgeSite that edgesite accepts and ignores. */
#define IGNORED(p, a, f, h) {						\
	.path = (p), .alias = (a), .type = CONF_T_IGNORED, .flags = (f), \
	.help = (h) }

const struct conf_option conf_table[] = {
	/* mqtt */
	{ .path = "mqtt.mode", .type = CONF_T_INT, .min = 0, .max = 2,
	  .def = "0", .off = OFF(mqtt_mode), .flags = RESTART,
	  .help = "0: internal broker only, 1: internal and external, "
	  "2: external only" },
	{ .path = "mqtt.server", .type = CONF_T_URL, .def =
	  "tcp://127.0.0.1:1883", .off = OFF(mqtt_server), .enums = conf_mqtt,
	  .flags = RESTART, .help = "external broker URL (tcp:// or ssl://)" },
	{ .path = "mqtt.internal-server", .type = CONF_T_URL, .def =
	  "tcp://127.0.0.1:1884", .off = OFF(mqtt_internal_server),
	  .enums = conf_mqtt, .flags = RESTART,
	  .help = "address the internal broker listens on (tcp:// or ssl://)" },
	{ .path = "mqtt.qos", .type = CONF_T_INT, .min = 0, .max = 2,
	  .def = "0", .off = OFF(mqtt_qos), .flags = RESTART,
	  .help = "QoS of published messages: 0 at most once, 1 at least "
	  "once, 2 exactly once" },
	{ .path = "mqtt.retain", .type = CONF_T_BOOL, .def = "false",
	  .off = OFF(mqtt_retain), .flags = RESTART,
	  .help = "publish with the retain flag" },
	{ .path = "mqtt.session-queue-size", .type = CONF_T_INT, .min = 1,
	  .max = 1000000, .def = "100", .off = OFF(mqtt_session_queue_size),
	  .flags = RESTART, .help = "messages queued per client session" },
	{ .path = "mqtt.max-packet-size", .type = CONF_T_INT, .min = 64,
	  .max = 268435460, .def = "1048576", .off = OFF(mqtt_max_packet_size),
	  .flags = RESTART, .help = "largest packet the internal broker "
	  "accepts, in bytes; a client sending a larger one is disconnected" },
	{ .path = "mqtt.max-inflight", .type = CONF_T_INT, .min = 1,
	  .max = 65535, .def = "20", .off = OFF(mqtt_max_inflight),
	  .flags = RESTART, .help = "QoS 1 and 2 messages the internal "
	  "broker sends a client before waiting for its acknowledgements" },
	{ .path = "mqtt.password-file", .type = CONF_T_PATH, .def = "",
	  .off = OFF(mqtt_password_file), .flags = RESTART,
	  .help = "users of the internal broker, a mosquitto_passwd file; "
	  "empty: user names are not checked" },
	{ .path = "mqtt.allow-anonymous", .type = CONF_T_BOOL, .def = "true",
	  .off = OFF(mqtt_allow_anonymous), .flags = RESTART,
	  .help = "whether clients without a user name may connect to the "
	  "internal broker" },
	{ .path = "mqtt.acl-file", .type = CONF_T_PATH, .def = "",
	  .off = OFF(mqtt_acl_file), .flags = RESTART,
	  .help = "topic access rules of the internal broker in mosquitto's "
	  "acl_file format; empty: everything is allowed" },
	{ .path = "mqtt.tls-listen", .type = CONF_T_ADDR, .def = "",
	  .off = OFF(mqtt_tls_listen), .flags = RESTART,
	  .help = "host:port of a second, TLS listener of the internal "
	  "broker; empty: none" },
	{ .path = "mqtt.tls-cert", .type = CONF_T_PATH, .def = "",
	  .off = OFF(mqtt_tls_cert), .flags = RESTART,
	  .help = "PEM certificate chain of the internal broker's TLS "
	  "listeners" },
	{ .path = "mqtt.tls-key", .type = CONF_T_PATH, .def = "",
	  .off = OFF(mqtt_tls_key), .flags = RESTART,
	  .help = "PEM private key of tls-cert" },

	/* controller.kube */
	{ .path = "controller.kube.master", .type = CONF_T_URLLIST,
	  .def = "", .off = OFF(kube_master), .enums = conf_http,
	  .flags = RESTART, .help = "apiserver URLs (http or https), a comma "
	  "list or a sequence; empty: standalone" },
	{ .path = "controller.kube.kubeconfig", .type = CONF_T_PATH,
	  .def = "", .off = OFF(kube_kubeconfig), .flags = RESTART,
	  .help = "kubeconfig with the credentials (and the server when no "
	  "master is set)" },
	{ .path = "controller.kube.namespace", .type = CONF_T_STRING,
	  .def = "default", .off = OFF(kube_namespace), .flags = RESTART,
	  .help = "not used yet: the node's objects are followed in every "
	  "namespace" },
	{ .path = "controller.kube.content_type", .type = CONF_T_STRING,
	  .def = "application/vnd.kubernetes.protobuf",
	  .off = OFF(kube_content_type), .flags = RESTART,
	  .help = "not used yet: edgesite asks the apiserver for JSON" },
	{ .path = "controller.kube.qps", .type = CONF_T_INT, .min = 1,
	  .max = 10000, .def = "5", .off = OFF(kube_qps), .flags = RESTART,
	  .help = "sustained apiserver requests per second" },
	{ .path = "controller.kube.burst", .type = CONF_T_INT, .min = 1,
	  .max = 10000, .def = "10", .off = OFF(kube_burst), .flags = RESTART,
	  .help = "apiserver request burst above qps" },
	{ .path = "controller.kube.node_update_frequency",
	  .type = CONF_T_DURATION, .min = SEC(1), .max = DAY, .def = "10s",
	  .off = OFF(kube_node_update_frequency_ms),
	  .help = "not used yet: see edged.node-status-update-frequency" },
	{ .path = "controller.kube.node-id", .type = CONF_T_STRING,
	  .def = "", .off = OFF(node_id), .flags = RESTART,
	  .help = "not used yet: the node is known by its node name" },
	{ .path = "controller.kube.node-name", .type = CONF_T_STRING,
	  .def = "", .off = OFF(node_name), .flags = RESTART,
	  .help = "node name; empty: the host name" },
	IGNORED("controller.context", NULL, CONF_F_PREFIX,
	    "beehive module routing of the original"),

	/* edged, also accepted as controller.edged */
	{ .path = "edged.register-node-namespace",
	  .alias = "controller.edged.register-node-namespace",
	  .type = CONF_T_STRING, .def = "default",
	  .off = OFF(register_node_namespace), .flags = RESTART,
	  .help = "not used yet: a Node has no namespace" },
	{ .path = "edged.hostname-override",
	  .alias = "controller.edged.hostname-override",
	  .type = CONF_T_STRING, .def = "", .off = OFF(hostname_override),
	  .flags = RESTART, .help = "host name reported for the node; "
	  "empty: the system host name" },
	{ .path = "edged.interface-name",
	  .alias = "controller.edged.interface-name",
	  .type = CONF_T_STRING, .def = "", .off = OFF(interface_name),
	  .flags = RESTART, .help = "interface whose address is the node "
	  "address; empty: that of the default route" },
	{ .path = "edged.node-status-update-frequency",
	  .alias = "controller.edged.node-status-update-frequency",
	  .type = CONF_T_DURATION, .min = SEC(1), .max = DAY, .def = "10s",
	  .off = OFF(node_status_update_frequency_ms),
	  .help = "how often node status is posted (a bare number is "
	  "seconds)" },
	{ .path = "edged.remote-runtime-endpoint",
	  .alias = "controller.edged.remote-runtime-endpoint",
	  .type = CONF_T_URL, .def = "unix:///run/containerd/containerd.sock",
	  .off = OFF(remote_runtime_endpoint), .enums = conf_unix,
	  .flags = RESTART, .help = "CRI runtime socket (unix:// URL or "
	  "absolute path)" },
	{ .path = "edged.remote-image-endpoint",
	  .alias = "controller.edged.remote-image-endpoint",
	  .type = CONF_T_URL, .def = "", .off = OFF(remote_image_endpoint),
	  .enums = conf_unix, .flags = RESTART, .help = "CRI image socket; "
	  "empty: the runtime endpoint" },
	{ .path = "edged.runtime-request-timeout",
	  .alias = "controller.edged.runtime-request-timeout",
	  .type = CONF_T_DURATION, .min = SEC(1), .max = DAY, .def = "2m",
	  .off = OFF(runtime_request_timeout_ms), .flags = RESTART,
	  .help = "timeout of CRI calls except image pulls" },
	{ .path = "edged.podsandbox-image",
	  .alias = "controller.edged.podsandbox-image",
	  .type = CONF_T_STRING, .def = "registry.k8s.io/pause:3.9",
	  .off = OFF(podsandbox_image), .flags = RESTART,
	  .help = "not used yet: sandboxes get the runtime's own pause "
	  "image" },
	{ .path = "edged.image-pull-progress-deadline",
	  .alias = "controller.edged.image-pull-progress-deadline",
	  .type = CONF_T_DURATION, .min = SEC(1), .max = DAY, .def = "1m",
	  .off = OFF(image_pull_progress_deadline_ms), .flags = RESTART,
	  .help = "an image pull with no progress for this long is "
	  "cancelled" },
	{ .path = "edged.cgroup-driver",
	  .alias = "controller.edged.cgroup-driver",
	  .type = CONF_T_ENUM, .def = "cgroupfs", .off = OFF(cgroup_driver),
	  .enums = conf_cgroup, .flags = RESTART,
	  .help = "cgroup driver of the runtime: cgroupfs or systemd" },
	{ .path = "edged.node-ip", .alias = "controller.edged.node-ip",
	  .type = CONF_T_STRING, .def = "", .off = OFF(node_ip),
	  .flags = RESTART, .check = conf_value_ip,
	  .help = "node IP address; empty: that of interface-name" },
	{ .path = "edged.cluster-dns", .alias = "controller.edged.cluster-dns",
	  .type = CONF_T_STRING, .def = "", .off = OFF(cluster_dns),
	  .flags = RESTART, .check = conf_value_iplist,
	  .help = "comma list of DNS server addresses for pods" },
	{ .path = "edged.cluster-domain",
	  .alias = "controller.edged.cluster-domain",
	  .type = CONF_T_STRING, .def = "", .off = OFF(cluster_domain),
	  .flags = RESTART, .help = "cluster DNS domain searched by pods" },
	{ .path = "edged.maximum-dead-containers-per-container",
	  .alias = "controller.edged.maximum-dead-containers-per-container",
	  .type = CONF_T_INT, .min = 0, .max = 1000, .def = "1",
	  .off = OFF(max_dead_containers), .flags = RESTART,
	  .help = "dead instances kept per container" },
	{ .path = "edged.image-gc-high-threshold",
	  .alias = "controller.edged.image-gc-high-threshold",
	  .type = CONF_T_INT, .min = 0, .max = 100, .def = "85",
	  .off = OFF(image_gc_high_threshold), .flags = RESTART,
	  .help = "not used yet (no image garbage collection): disk usage "
	  "percent that would start it" },
	{ .path = "edged.image-gc-low-threshold",
	  .alias = "controller.edged.image-gc-low-threshold",
	  .type = CONF_T_INT, .min = 0, .max = 100, .def = "80",
	  .off = OFF(image_gc_low_threshold), .flags = RESTART,
	  .help = "not used yet: disk usage percent image garbage "
	  "collection would free down to; at most the high threshold" },
	IGNORED("edged.docker-address", "controller.edged.docker-address", 0,
	    "docker socket of the original; edgesite speaks CRI only"),
	IGNORED("edged.runtime-type", "controller.edged.runtime-type", 0,
	    "runtime kind of the original; edgesite speaks CRI only"),
	IGNORED("edged.version", "controller.edged.version", 0,
	    "version string of the original"),
	IGNORED("edged.device-plugin-enabled",
	    "controller.edged.device-plugin-enabled", 0,
	    "device plugins are not supported"),
	IGNORED("edged.gpu-plugin-enabled",
	    "controller.edged.gpu-plugin-enabled", 0,
	    "GPU plugins are not supported"),
	IGNORED("edged.edged-memory-capacity-bytes",
	    "controller.edged.edged-memory-capacity-bytes", 0,
	    "the node capacity is read from the system"),

	/* metamanager */
	IGNORED("metamanager", NULL, CONF_F_PREFIX,
	    "beehive module routing of the original"),

	/* edgesite */
	{ .path = "edgesite.state-dir", .type = CONF_T_PATH,
	  .def = "/var/lib/edgesite", .off = OFF(state_dir), .flags = RESTART,
	  .help = "directory of the store" },
	{ .path = "edgesite.listen", .type = CONF_T_ADDR,
	  .def = "127.0.0.1:10550", .off = OFF(api_listen), .flags = RESTART,
	  .help = "host:port of the local API; beyond loopback it needs "
	  "tls-cert, tls-key and token-file" },
	{ .path = "edgesite.tls-cert", .type = CONF_T_PATH, .def = "",
	  .off = OFF(api_tls_cert), .flags = RESTART,
	  .help = "PEM certificate chain the local API serves TLS with" },
	{ .path = "edgesite.tls-key", .type = CONF_T_PATH, .def = "",
	  .off = OFF(api_tls_key), .flags = RESTART,
	  .help = "PEM private key of tls-cert" },
	{ .path = "edgesite.token-file", .type = CONF_T_PATH, .def = "",
	  .off = OFF(api_token_file), .flags = RESTART,
	  .help = "file holding the bearer token remote clients of the "
	  "local API present" },
	{ .path = "edgesite.watch-buffer", .type = CONF_T_INT,
	  .min = 65536, .max = 1073741824, .def = "4194304",
	  .off = OFF(api_watch_buffer),
	  .help = "bytes a watch of the local API may have unsent before "
	  "it is closed" },
	{ .path = "edgesite.max-connections", .type = CONF_T_INT,
	  .min = 16, .max = 1048576, .def = "4096", .off = OFF(api_max_conns),
	  .help = "client connections the local API keeps open, watches "
	  "included; fewer when the descriptor limit is lower" },
	{ .path = "edgesite.max-connections-per-peer", .type = CONF_T_INT,
	  .min = 1, .max = 1048576, .def = "1024",
	  .off = OFF(api_max_conns_peer),
	  .help = "connections one client address may hold; past it only "
	  "health probes are answered" },
	{ .path = "edgesite.reserved-connections", .type = CONF_T_INT,
	  .min = 1, .max = 1024, .def = "8", .off = OFF(api_reserved_conns),
	  .help = "connections kept for /healthz, /livez and /readyz when "
	  "the rest are taken" },
	{ .path = "edgesite.header-timeout", .type = CONF_T_DURATION,
	  .min = SEC(1), .max = SEC(3600), .def = "10s",
	  .off = OFF(api_header_timeout_ms),
	  .help = "time a client of the local API has to send a whole "
	  "request, from its first byte or from connecting" },
	{ .path = "edgesite.idle-timeout", .type = CONF_T_DURATION,
	  .min = SEC(1), .max = DAY, .def = "1m",
	  .off = OFF(api_idle_timeout_ms),
	  .help = "time a keep-alive connection of the local API may wait "
	  "for its next request" },
	{ .path = "edgesite.static-pod-dir", .type = CONF_T_PATH,
	  .def = "/etc/edgesite/manifests", .off = OFF(static_pod_dir),
	  .flags = RESTART, .help = "directory of static pod manifests" },
	{ .path = "edgesite.log-level", .type = CONF_T_ENUM, .def = "info",
	  .off = OFF(log_level), .enums = conf_level,
	  .help = "warn, info or debug" },
	{ .path = "edgesite.trace", .type = CONF_T_STRING, .def = "",
	  .off = OFF(trace), .check = conf_value_trace,
	  .help = "comma list of subsystems to trace: kube, cri, mqtt, api, "
	  "store" },
};

const size_t conf_table_len = sizeof(conf_table) / sizeof(conf_table[0]);
