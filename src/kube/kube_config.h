/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials for the apiserver, read from a kubeconfig file (its current
 * context) and from the master URLs of edgeSite.yaml.
 */
#ifndef EDGESITE_KUBE_CONFIG_H
#define EDGESITE_KUBE_CONFIG_H

#include "core/conf_warn.h"

struct kube_auth {
	char	**servers;	/* NULL-terminated URLs: master list, else kubeconfig server */
	char	 *ca_pem;	/* certificate-authority(-data), PEM text, or NULL */
	char	 *cert_pem;	/* client-certificate(-data), PEM text, or NULL */
	char	 *key_pem;	/* client-key(-data), PEM text, or NULL (wiped on clear) */
	char	 *key_file;	/* client-key's file, or NULL */
	char	 *token;	/* bearer token, or NULL (wiped on clear) */
	char	 *token_file;	/* re-read on each connection when set */
	char	 *tls_server_name;	/* SNI/verify name override, or NULL */
	int	  insecure;	/* insecure-skip-tls-verify: true */
};

/*
 * Fills auth from the kubeconfig at path (may be NULL: masters only) and
 * the master URLs (may be NULL or empty: the kubeconfig's server). The
 * masters, when given, replace the kubeconfig's server but keep its
 * credentials. Returns 0, or -1 with a message in *errstr (static storage).
 */
int	 kube_config_load(const char *path, char *const *masters,
	    struct kube_auth *auth, const char **errstr);
/*
 * Warns (conf_warn.h) of what the kubeconfig at path exposes: TLS
 * verification switched off, a client key or token file others can read.
 * A kubeconfig that does not load is left to the kube room to report.
 */
void	 kube_config_warn(const char *path, char *const *masters,
	    conf_warn_cb, void *arg);
/* Frees and wipes everything in auth. */
void	 kube_auth_clear(struct kube_auth *auth);

/* Largest token file. */
#define KUBE_CONFIG_MAX_TOKEN	(64 * 1024)

/*
 * Reads a bearer token file (one line, trimmed); the caller wipes and
 * frees it (xfree_secret). NULL with *errstr (static storage) on failure.
 */
char	*kube_config_token_read(const char *path, const char **errstr);
/* Expands a leading "~/" with $HOME; the caller frees the result. */
char	*kube_config_expand(const char *path);

#endif
