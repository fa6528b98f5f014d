/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's warnings (conf_warn.h): file modes read with stat(2), and
 * the listening addresses of the internal broker read from the
 * configuration. Runs at startup before anything opens, and for -n; a name
 * is resolved once here, as the listener would resolve it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/conf_warn.h"
#include "core/xmalloc.h"

/* Formats one warning and hands it to cb. */
static void __attribute__((format(printf, 3, 4)))
conf_warn_say(conf_warn_cb cb, void *arg, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb(msg, arg);
}

void
conf_warn_secret(const char *path, const char *what, conf_warn_cb cb,
    void *arg)
{
	struct stat	sb;

	if (path == NULL || *path == '\0' || stat(path, &sb) == -1)
		return;
	if ((sb.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return;
	conf_warn_say(cb, arg, "%s %s can be read by %s (mode %04o), and it "
	    "holds a secret: chmod go-rwx it", what, path,
	    (sb.st_mode & S_IROTH) ? "every user" : "its group",
	    (unsigned)(sb.st_mode & 07777));
}

/* The state directory: readable or searchable by others. */
static void
conf_warn_state_dir(const char *dir, conf_warn_cb cb, void *arg)
{
	struct stat	sb;

	if (stat(dir, &sb) == -1 || (sb.st_mode & (S_IROTH | S_IXOTH)) == 0)
		return;
	conf_warn_say(cb, arg, "edgesite.state-dir %s is open to others (mode "
	    "%04o): the store holds secrets and pod specs; chmod o-rwx it",
	    dir, (unsigned)(sb.st_mode & 07777));
}

/* 1 when every address of the list is loopback. */
static int
conf_warn_ai_loopback(const struct addrinfo *ai)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	for (; ai != NULL; ai = ai->ai_next) {
		sin = (const struct sockaddr_in *)ai->ai_addr;
		sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
		if (ai->ai_family == AF_INET &&
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		if (ai->ai_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			continue;
		return 0;
	}
	return 1;
}

int
conf_warn_loopback(const char *addr)
{
	struct addrinfo	 hints, *res;
	const char	*p, *end;
	char		*host;
	int		 lo;

	if ((p = strstr(addr, "://")) != NULL)
		addr = p + 3;
	if (*addr == '[') {
		addr++;
		end = strchr(addr, ']');
	} else
		end = strrchr(addr, ':');
	if (end == NULL || end == addr)
		return 0;	/* no host: every address */
	host = xstrndup(addr, (size_t)(end - addr));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (strcmp(host, "*") == 0 || getaddrinfo(host, NULL, &hints,
	    &res) != 0) {
		free(host);
		return 0;
	}
	lo = conf_warn_ai_loopback(res);
	freeaddrinfo(res);
	free(host);
	return lo;
}

/* The internal broker: anonymous clients on a listener beyond loopback. */
static void
conf_warn_broker(const struct conf *c, conf_warn_cb cb, void *arg)
{
	if (c->mqtt_mode == CONF_MQTT_EXTERNAL || !c->mqtt_allow_anonymous)
		return;
	if (!conf_warn_loopback(c->mqtt_internal_server))
		conf_warn_say(cb, arg, "mqtt.internal-server %s listens beyond "
		    "loopback and mqtt.allow-anonymous is true: any host that "
		    "reaches it may publish and subscribe without a password",
		    c->mqtt_internal_server);
	if (c->mqtt_tls_listen[0] != '\0' &&
	    !conf_warn_loopback(c->mqtt_tls_listen))
		conf_warn_say(cb, arg, "mqtt.tls-listen %s listens beyond "
		    "loopback and mqtt.allow-anonymous is true: any host that "
		    "reaches it may publish and subscribe without a password",
		    c->mqtt_tls_listen);
}

void
conf_warn(const struct conf *c, conf_warn_cb cb, void *arg)
{
	conf_warn_secret(c->kube_kubeconfig, "controller.kube.kubeconfig", cb,
	    arg);
	conf_warn_secret(c->api_tls_key, "edgesite.tls-key", cb, arg);
	conf_warn_secret(c->api_token_file, "edgesite.token-file", cb, arg);
	conf_warn_secret(c->mqtt_tls_key, "mqtt.tls-key", cb, arg);
	conf_warn_secret(c->mqtt_password_file, "mqtt.password-file", cb,
	    arg);
	conf_warn_state_dir(c->state_dir, cb, arg);
	conf_warn_broker(c, cb, arg);
}
