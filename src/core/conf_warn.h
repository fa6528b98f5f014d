/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Warnings an operator needs about a configuration that works but exposes
 * the node: a key, token or kubeconfig others can read, a state directory
 * others can read, the internal MQTT broker letting anyone in beyond
 * loopback. None is fatal; startup and `edgesite -n` tell the same ones.
 */
#ifndef EDGESITE_CONF_WARN_H
#define EDGESITE_CONF_WARN_H

struct conf;

/* Told each warning, one line, no trailing period. */
typedef void (*conf_warn_cb)(const char *msg, void *arg);

/* Runs every check on c. */
void	 conf_warn(const struct conf *c, conf_warn_cb, void *arg);
/*
 * Warns when the secret file at path (what names it: "mqtt.tls-key") can
 * be read by its group or by others. Empty or NULL path: nothing.
 */
void	 conf_warn_secret(const char *path, const char *what, conf_warn_cb,
	    void *arg);
/*
 * 1 when host:port (or scheme://host:port) listens on loopback only:
 * 127.0.0.0/8, ::1, or a name resolving only to those.
 */
int	 conf_warn_loopback(const char *addr);

#endif
