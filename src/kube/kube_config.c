/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubeconfig: reads the credentials edgesite uses to reach the apiserver.
 * The file is parsed as YAML (core/yamldoc.c) and walked; the current
 * context names a cluster (server, CA, insecure-skip-tls-verify,
 * tls-server-name) and a user (client certificate and key, bearer token
 * or token file). Inline *-data fields are base64; file fields are read
 * now, relative to the kubeconfig's directory. The result is a struct
 * kube_auth that the caller owns and clears. A pure parser: it never
 * logs, it returns one message naming the file and what is wrong.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "core/yamldoc.h"
#include "kube/kube_config.h"

/* Largest kubeconfig, and largest certificate, key or token file. */
#define KUBE_CONFIG_MAX_FILE	(1024 * 1024)
#define KUBE_CONFIG_MAX_PEM	(1024 * 1024)

struct kube_config {
	const char	*path;		/* the kubeconfig, ~ expanded */
	char		*dir;		/* its directory, for relative paths */
	struct yamldoc	*doc;
	struct kube_auth *auth;
};

static char	kube_config_errbuf[1024];

static const char *kube_config_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* Formats a message into the static error buffer and returns it. */
static const char *
kube_config_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(kube_config_errbuf, sizeof(kube_config_errbuf), fmt, ap);
	va_end(ap);
	return kube_config_errbuf;
}

/* Reads a whole regular file of at most max bytes, NUL-terminated. */
static char *
kube_config_slurp(const char *path, size_t max, size_t *lenp,
    const char **why)
{
	struct stat	 st = { 0 };
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uintmax_t)st.st_size > max) {
		*why = "not a regular file";
		if (S_ISREG(st.st_mode))
			*why = "file too large";
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

/* Reads a token file: trimmed, non-empty; NULL and *errstr on failure. */
char *
kube_config_token_read(const char *path, const char **errstr)
{
	const char	*why;
	char		*buf;
	size_t		 len;

	if ((buf = kube_config_slurp(path, KUBE_CONFIG_MAX_TOKEN, &len,
	    &why)) == NULL) {
		*errstr = kube_config_fail("token file %s: %s", path, why);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (len == 0 || strcspn(buf, "\r\n") != len) {
		xfree_secret(buf);
		*errstr = kube_config_fail("token file %s: %s", path,
		    len == 0 ? "empty" : "more than one line");
		return NULL;
	}
	return buf;
}

/* Expands a leading "~/" (or a lone "~") with $HOME. */
char *
kube_config_expand(const char *path)
{
	const char	*home;
	char		*out;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0'))
		return xstrdup(path);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return xstrdup(path);
	xasprintf(&out, "%s%s", home, path + 1);
	return out;
}

/* Decodes base64 (whitespace ignored) into a NUL-terminated buffer. */
static char *
kube_config_base64(const char *in, size_t *lenp)
{
	static const char	 alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;
	char			*out;
	uint32_t		 acc = 0;
	size_t			 len = 0;
	int			 bits = 0, pad = 0;

	out = xmalloc(strlen(in) / 4 * 3 + 4);
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			continue;
		if (*in == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (p = strchr(alpha, *in)) == NULL)
			goto bad;
		acc = (acc << 6) | (uint32_t)(p - alpha);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6)
		goto bad;
	out[len] = '\0';
	*lenp = len;
	return out;
bad:
	free(out);
	return NULL;
}

/* The value of key in a mapping node, or NULL. */
static struct yamldoc_node *
kube_config_get(struct kube_config *kc, struct yamldoc_node *map,
    const char *key)
{
	struct yamldoc_node	*k;
	const char		*s;
	size_t			 i;

	if (map == NULL)
		return NULL;
	for (i = 0; i < yamldoc_count(map); i++) {
		k = yamldoc_key(kc->doc, map, i);
		if (k != NULL && (s = yamldoc_scalar(k, NULL)) != NULL &&
		    strcmp(s, key) == 0)
			return yamldoc_value(kc->doc, map, i);
	}
	return NULL;
}

/* A scalar value of key as a string, NULL when absent, null or empty. */
static const char *
kube_config_str(struct kube_config *kc, struct yamldoc_node *map,
    const char *key)
{
	struct yamldoc_node	*n;
	const char		*s;

	if ((n = kube_config_get(kc, map, key)) == NULL ||
	    (s = yamldoc_scalar(n, NULL)) == NULL)
		return NULL;
	if (*s == '\0' || (yamldoc_plain(n) &&
	    (strcmp(s, "null") == 0 || strcmp(s, "~") == 0)))
		return NULL;
	return s;
}

/* Finds the entry called name in a list (clusters, contexts, users). */
static struct yamldoc_node *
kube_config_named(struct kube_config *kc, const char *list,
    const char *name, const char *inner)
{
	struct yamldoc_node	*seq, *item;
	const char		*s;
	size_t			 i;

	if ((seq = kube_config_get(kc, yamldoc_root(kc->doc), list)) ==
	    NULL || yamldoc_type(seq) != YAMLDOC_SEQUENCE)
		return NULL;
	for (i = 0; i < yamldoc_count(seq); i++) {
		item = yamldoc_item(kc->doc, seq, i);
		if ((s = kube_config_str(kc, item, "name")) != NULL &&
		    strcmp(s, name) == 0)
			return kube_config_get(kc, item, inner);
	}
	return NULL;
}

/* The only context when there is exactly one, else NULL. */
static const char *
kube_config_only_context(struct kube_config *kc)
{
	struct yamldoc_node	*seq;

	seq = kube_config_get(kc, yamldoc_root(kc->doc), "contexts");
	if (seq == NULL || yamldoc_type(seq) != YAMLDOC_SEQUENCE ||
	    yamldoc_count(seq) != 1)
		return NULL;
	return kube_config_str(kc, yamldoc_item(kc->doc, seq, 0), "name");
}

/* A file path from the kubeconfig, relative to its directory. */
static char *
kube_config_path(struct kube_config *kc, const char *p)
{
	char	*out;

	if (p[0] == '/')
		return xstrdup(p);
	xasprintf(&out, "%s/%s", kc->dir, p);
	return out;
}

/*
 * Reads PEM material from key-data (base64) or key (a file) of map into
 * *out; 0 when neither is set, -1 with *errstr on failure.
 */
static int
kube_config_pem(struct kube_config *kc, struct yamldoc_node *map,
    const char *what, const char *key, char **out, const char **errstr)
{
	const char	*data, *file, *why;
	char		 dkey[64], *path;
	size_t		 len;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if ((data = kube_config_str(kc, map, dkey)) != NULL) {
		if ((*out = kube_config_base64(data, &len)) == NULL) {
			*errstr = kube_config_fail("%s: %s %s: %s is not valid "
			    "base64", kc->path, what, key, dkey);
			return -1;
		}
		return 0;
	}
	if ((file = kube_config_str(kc, map, key)) == NULL)
		return 0;
	path = kube_config_path(kc, file);
	if ((*out = kube_config_slurp(path, KUBE_CONFIG_MAX_PEM, NULL,
	    &why)) == NULL) {
		*errstr = kube_config_fail("%s: %s %s %s: %s", kc->path, what,
		    key, path, why);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Parses a YAML boolean; -1 when it is not one. */
static int
kube_config_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0)
		return 0;
	return -1;
}

/* The cluster part: server URL, CA, verification options. */
static int
kube_config_cluster(struct kube_config *kc, const char *name,
    struct yamldoc_node *cl, const char **errstr)
{
	struct kube_auth	*auth = kc->auth;
	const char		*s;
	char			 what[256];

	snprintf(what, sizeof(what), "cluster \"%s\"", name);
	if ((s = kube_config_str(kc, cl, "server")) != NULL) {
		auth->servers = xcalloc(2, sizeof(*auth->servers));
		auth->servers[0] = xstrdup(s);
	}
	if (kube_config_pem(kc, cl, what, "certificate-authority",
	    &auth->ca_pem, errstr) == -1)
		return -1;
	if ((s = kube_config_str(kc, cl, "insecure-skip-tls-verify")) != NULL &&
	    (auth->insecure = kube_config_bool(s)) == -1) {
		*errstr = kube_config_fail("%s: %s: insecure-skip-tls-verify "
		    "is not a boolean: %s", kc->path, what, s);
		return -1;
	}
	if ((s = kube_config_str(kc, cl, "tls-server-name")) != NULL)
		auth->tls_server_name = xstrdup(s);
	return 0;
}

/* The user part: client certificate and key, token or token file. */
static int
kube_config_user(struct kube_config *kc, const char *name,
    struct yamldoc_node *u, const char **errstr)
{
	struct kube_auth	*auth = kc->auth;
	const char		*s;
	char			 what[256], msg[512];

	snprintf(what, sizeof(what), "user \"%s\"", name);
	if (kube_config_get(kc, u, "exec") != NULL ||
	    kube_config_get(kc, u, "auth-provider") != NULL) {
		*errstr = kube_config_fail("%s: %s: exec and auth-provider "
		    "credentials are not supported", kc->path, what);
		return -1;
	}
	if (kube_config_pem(kc, u, what, "client-certificate",
	    &auth->cert_pem, errstr) == -1 ||
	    kube_config_pem(kc, u, what, "client-key", &auth->key_pem,
	    errstr) == -1)
		return -1;
	if (kube_config_str(kc, u, "client-key-data") == NULL &&
	    (s = kube_config_str(kc, u, "client-key")) != NULL)
		auth->key_file = kube_config_path(kc, s);
	if ((auth->cert_pem == NULL) != (auth->key_pem == NULL)) {
		*errstr = kube_config_fail("%s: %s: %s without %s", kc->path,
		    what, auth->cert_pem != NULL ? "client-certificate" :
		    "client-key", auth->cert_pem != NULL ? "client-key" :
		    "client-certificate");
		return -1;
	}
	if ((s = kube_config_str(kc, u, "token")) != NULL)
		auth->token = xstrdup(s);
	else if ((s = kube_config_str(kc, u, "tokenFile")) != NULL) {
		auth->token_file = kube_config_path(kc, s);
		if ((auth->token = kube_config_token_read(auth->token_file,
		    errstr)) == NULL) {
			snprintf(msg, sizeof(msg), "%s", *errstr);
			*errstr = kube_config_fail("%s: %s: %s", kc->path,
			    what, msg);
			return -1;
		}
	}
	return 0;
}

/* Walks current-context to its cluster and user. */
static int
kube_config_walk(struct kube_config *kc, const char **errstr)
{
	struct yamldoc_node	*root, *ctx, *cl, *u;
	const char		*cur, *cname, *uname;

	root = yamldoc_root(kc->doc);
	if (root == NULL || yamldoc_type(root) != YAMLDOC_MAPPING) {
		*errstr = kube_config_fail("%s: not a kubeconfig (no mapping)",
		    kc->path);
		return -1;
	}
	if ((cur = kube_config_str(kc, root, "current-context")) == NULL &&
	    (cur = kube_config_only_context(kc)) == NULL) {
		*errstr = kube_config_fail("%s: no current-context", kc->path);
		return -1;
	}
	if ((ctx = kube_config_named(kc, "contexts", cur, "context")) == NULL) {
		*errstr = kube_config_fail("%s: context \"%s\" not found",
		    kc->path, cur);
		return -1;
	}
	if ((cname = kube_config_str(kc, ctx, "cluster")) == NULL) {
		*errstr = kube_config_fail("%s: context \"%s\" names no "
		    "cluster", kc->path, cur);
		return -1;
	}
	if ((cl = kube_config_named(kc, "clusters", cname, "cluster")) ==
	    NULL) {
		*errstr = kube_config_fail("%s: cluster \"%s\" (of context "
		    "\"%s\") not found", kc->path, cname, cur);
		return -1;
	}
	if (kube_config_cluster(kc, cname, cl, errstr) == -1)
		return -1;
	if ((uname = kube_config_str(kc, ctx, "user")) == NULL)
		return 0;
	if ((u = kube_config_named(kc, "users", uname, "user")) == NULL) {
		*errstr = kube_config_fail("%s: user \"%s\" (of context "
		    "\"%s\") not found", kc->path, uname, cur);
		return -1;
	}
	return kube_config_user(kc, uname, u, errstr);
}

/* Reads and parses the kubeconfig file into kc->auth. */
static int
kube_config_parse(const char *path, struct kube_auth *auth,
    const char **errstr)
{
	struct kube_config	 kc;
	struct yamldoc_error	 ye;
	const char		*why;
	char			*buf, *slash;
	size_t			 len;
	int			 rv = -1;

	memset(&kc, 0, sizeof(kc));
	kc.path = path;
	kc.auth = auth;
	if ((buf = kube_config_slurp(path, KUBE_CONFIG_MAX_FILE, &len,
	    &why)) == NULL) {
		*errstr = kube_config_fail("kubeconfig %s: %s", path, why);
		return -1;
	}
	kc.dir = xstrdup(path);
	if ((slash = strrchr(kc.dir, '/')) == NULL) {
		free(kc.dir);
		kc.dir = xstrdup(".");
	} else if (slash == kc.dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	kc.doc = yamldoc_new(buf, len);
	if (yamldoc_next(kc.doc, &ye) == -1) {
		*errstr = kube_config_fail("%s:%zu:%zu: %s", path, ye.at.line,
		    ye.at.col, ye.problem != NULL ? ye.problem : "YAML error");
		goto out_doc;
	}
	rv = kube_config_walk(&kc, errstr);
	/* keys and tokens live in the document's scalars */
	yamldoc_wipe(kc.doc);
out_doc:
	yamldoc_free(kc.doc);
	free(kc.dir);
	explicit_bzero(buf, len);
	free(buf);
	return rv;
}

/* Replaces the kubeconfig's server with the configured masters. */
static void
kube_config_masters(struct kube_auth *auth, char *const *masters)
{
	size_t	n, i;

	for (n = 0; masters[n] != NULL; n++)
		;
	if (auth->servers != NULL) {
		for (i = 0; auth->servers[i] != NULL; i++)
			free(auth->servers[i]);
		free(auth->servers);
	}
	auth->servers = xcalloc(n + 1, sizeof(*auth->servers));
	for (i = 0; i < n; i++)
		auth->servers[i] = xstrdup(masters[i]);
}

/* Checks that each server is an http:// or https:// URL. */
static int
kube_config_check_servers(const char *path, struct kube_auth *auth,
    const char **errstr)
{
	size_t	i;

	if (auth->servers == NULL || auth->servers[0] == NULL) {
		*errstr = path != NULL ? kube_config_fail("%s: cluster has no "
		    "server and no master is configured", path) :
		    kube_config_fail("no master and no kubeconfig configured");
		return -1;
	}
	for (i = 0; auth->servers[i] != NULL; i++) {
		if (strncasecmp(auth->servers[i], "https://", 8) != 0 &&
		    strncasecmp(auth->servers[i], "http://", 7) != 0) {
			*errstr = kube_config_fail("apiserver URL %s: not "
			    "http:// or https://", auth->servers[i]);
			return -1;
		}
	}
	return 0;
}

int
kube_config_load(const char *path, char *const *masters,
    struct kube_auth *auth, const char **errstr)
{
	char	*full = NULL;
	int	 rv;

	memset(auth, 0, sizeof(*auth));
	if (path != NULL && *path != '\0') {
		full = kube_config_expand(path);
		if (kube_config_parse(full, auth, errstr) == -1)
			goto fail;
	}
	if (masters != NULL && masters[0] != NULL)
		kube_config_masters(auth, masters);
	if (kube_config_check_servers(full, auth, errstr) == -1)
		goto fail;
	free(full);
	return 0;
fail:
	rv = -1;
	free(full);
	kube_auth_clear(auth);
	return rv;
}

void
kube_auth_clear(struct kube_auth *auth)
{
	size_t	i;

	if (auth->servers != NULL) {
		for (i = 0; auth->servers[i] != NULL; i++)
			free(auth->servers[i]);
		free(auth->servers);
	}
	free(auth->ca_pem);
	free(auth->cert_pem);
	xfree_secret(auth->key_pem);
	free(auth->key_file);
	xfree_secret(auth->token);
	free(auth->token_file);
	free(auth->tls_server_name);
	memset(auth, 0, sizeof(*auth));
}

void
kube_config_warn(const char *path, char *const *masters, conf_warn_cb cb,
    void *arg)
{
	struct kube_auth	 auth;
	const char		*errstr;
	char			 msg[1024];

	memset(&auth, 0, sizeof(auth));
	if (path == NULL || *path == '\0' || kube_config_load(path, masters,
	    &auth, &errstr) == -1)
		return;
	if (auth.insecure) {
		snprintf(msg, sizeof(msg), "kubeconfig %s: "
		    "insecure-skip-tls-verify is true: the apiserver's "
		    "certificate is not checked, anyone on the path can pose "
		    "as it", path);
		cb(msg, arg);
	}
	conf_warn_secret(auth.key_file, "client-key of the kubeconfig", cb,
	    arg);
	conf_warn_secret(auth.token_file, "tokenFile of the kubeconfig", cb,
	    arg);
	kube_auth_clear(&auth);
}
