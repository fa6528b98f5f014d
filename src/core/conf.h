/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: struct conf holds every setting of edgeSite.yaml. One
 * option table (conf_table.c) drives parsing, defaults, validation, the
 * effective-config dump, reload diffs and the man page check.
 */
#ifndef EDGESITE_CONF_H
#define EDGESITE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH	"/etc/edgesite/edgeSite.yaml"

struct conf {
	/* controller.kube */
	char		**kube_master;		/* NULL-terminated list of URLs */
	char		 *kube_kubeconfig;
	char		 *kube_namespace;
	char		 *kube_content_type;
	int64_t		  kube_qps;
	int64_t		  kube_burst;
	int64_t		  kube_node_update_frequency_ms;
	char		 *node_id;
	char		 *node_name;

	/* edged (top level, or controller.edged) */
	char		 *hostname_override;
	char		 *register_node_namespace;
	char		 *interface_name;
	int64_t		  node_status_update_frequency_ms;
	char		 *remote_runtime_endpoint;
	char		 *remote_image_endpoint;
	int64_t		  runtime_request_timeout_ms;
	char		 *podsandbox_image;
	int64_t		  image_pull_progress_deadline_ms;
	int64_t		  cgroup_driver;	/* CONF_CGROUP_* */
	char		 *node_ip;
	char		 *cluster_dns;
	char		 *cluster_domain;
	int64_t		  max_dead_containers;
	int64_t		  image_gc_high_threshold;
	int64_t		  image_gc_low_threshold;

	/* mqtt */
	int64_t		  mqtt_mode;		/* CONF_MQTT_* */
	char		 *mqtt_server;
	char		 *mqtt_internal_server;
	int64_t		  mqtt_qos;
	int		  mqtt_retain;
	int64_t		  mqtt_session_queue_size;
	int64_t		  mqtt_max_packet_size;
	int64_t		  mqtt_max_inflight;
	char		 *mqtt_password_file;
	int		  mqtt_allow_anonymous;
	char		 *mqtt_acl_file;
	char		 *mqtt_tls_listen;	/* host:port, or empty */
	char		 *mqtt_tls_cert;
	char		 *mqtt_tls_key;

	/* edgesite */
	char		 *state_dir;
	char		 *api_listen;		/* host:port */
	char		 *api_tls_cert;		/* PEM chain, or empty */
	char		 *api_tls_key;
	char		 *api_token_file;	/* bearer token, or empty */
	int64_t		  api_watch_buffer;	/* bytes per watch */
	int64_t		  api_max_conns;	/* client connections */
	int64_t		  api_max_conns_peer;	/* from one address */
	int64_t		  api_reserved_conns;	/* for health probes */
	int64_t		  api_header_timeout_ms; /* to a whole request */
	int64_t		  api_idle_timeout_ms;	/* between requests */
	char		 *static_pod_dir;
	int64_t		  log_level;		/* enum log_level */
	char		 *trace;		/* comma list of subsystems */

	/* per conf_table row: the line that set it, 0 for a default */
	unsigned int	 *lines;
};

enum conf_mqtt_mode {
	CONF_MQTT_INTERNAL = 0,
	CONF_MQTT_BOTH = 1,
	CONF_MQTT_EXTERNAL = 2,
};

enum conf_cgroup_driver {
	CONF_CGROUP_CGROUPFS = 0,
	CONF_CGROUP_SYSTEMD = 1,
};

enum conf_type {
	CONF_T_STRING,		/* char * */
	CONF_T_INT,		/* int64_t, min..max */
	CONF_T_BOOL,		/* int */
	CONF_T_DURATION,	/* int64_t ms; "10", "10s", "5m", "250ms", "1h" */
	CONF_T_URL,		/* char *; scheme://host[:port][/path] */
	CONF_T_URLLIST,		/* char **; one URL, a comma list or a sequence */
	CONF_T_ADDR,		/* char *; host:port */
	CONF_T_ENUM,		/* int64_t index into enums[] */
	CONF_T_PATH,		/* char *; absolute path, or empty */
	CONF_T_IGNORED,		/* a key of the original, accepted with a warning */
};

/* Row flags. */
#define CONF_F_RESTART	0x1	/* a change needs a restart to take effect */
#define CONF_F_SECRET	0x2	/* redacted in dumps */
#define CONF_F_PREFIX	0x4	/* IGNORED: the whole subtree under path */

struct conf_option {
	const char		 *path;		/* "controller.kube.master" */
	const char		 *alias;	/* another accepted path, or NULL */
	enum conf_type		  type;
	int64_t			  min, max;	/* INT, DURATION (ms) */
	const char		 *def;		/* default, as written in YAML */
	size_t			  off;		/* offsetof(struct conf, field) */
	const char *const	 *enums;	/* ENUM: NULL-terminated names;
						   URL, URLLIST: allowed schemes */
	int			  flags;
	const char		 *help;		/* one line for the sample file */
	/* STRING: extra check of a non-empty value, or NULL */
	int			(*check)(const char *, const char **errstr);
};

extern const struct conf_option	conf_table[];
extern const size_t		conf_table_len;

/* One problem found while loading: "file:line:col: message". */
struct conf_msg {
	char	*text;
};

struct conf_msgs {
	struct conf_msg	*v;
	size_t		 n;
};

/*
 * Loads path into a new struct conf with defaults applied. Returns the
 * conf (caller frees with conf_free) or NULL when there is any error; all
 * errors are appended to errs, all warnings (ignored keys) to warns, each
 * as "file:line:col: message". A NULL path loads the defaults alone.
 */
struct conf	*conf_load(const char *path, struct conf_msgs *errs,
		    struct conf_msgs *warns);
/* Loads from a buffer; name is what messages call the file. */
struct conf	*conf_load_buf(const char *name, const char *buf, size_t len,
		    struct conf_msgs *errs, struct conf_msgs *warns);
/* A conf with every default; never fails. */
struct conf	*conf_defaults(void);
void		 conf_free(struct conf *);
void		 conf_msgs_clear(struct conf_msgs *);

/*
 * Calls cb once per option whose value differs between a and b, with the
 * option's row and the two values formatted as text (secrets redacted).
 */
typedef void (*conf_diff_cb)(const struct conf_option *, const char *was,
    const char *now, void *arg);
void		 conf_diff(const struct conf *a, const struct conf *b,
		    conf_diff_cb cb, void *arg);
/* Formats one option's value of c as text into a new string (caller frees). */
char		*conf_format(const struct conf *c, const struct conf_option *o);
/* Writes the effective config as a JSON object keyed by path (secrets redacted); caller frees. */
char		*conf_dump_json(const struct conf *c);
/* Writes the commented sample file (every key, its default, its help). */
void		 conf_write_sample(FILE *fp);

/* The line of the file that set option o in c, 0 when it is the default. */
unsigned int	 conf_line(const struct conf *c, const struct conf_option *o);
/* The table row for a path or alias, or NULL. */
const struct conf_option *conf_find(const char *path);

/* Parses a duration ("10", "10s", "5m", "250ms", "1h") into ms. */
int		 conf_parse_duration(const char *s, int64_t *ms, const char **errstr);

#endif
