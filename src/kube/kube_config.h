/*
 * Credentials for the apiserver, read from a kubeconfig file (its current
 * context) and from the master URLs of edgeSite.yaml.
 */
#ifndef EDGESITE_KUBE_CONFIG_H
#define EDGESITE_KUBE_CONFIG_H

struct kube_auth {
	char	**servers;	/* NULL-terminated URLs: master list, else kubeconfig server */
	char	 *ca_pem;	/* certificate-authority(-data), PEM text, or NULL */
	char	 *cert_pem;	/* client-certificate(-data), PEM text, or NULL */
	char	 *key_pem;	/* client-key(-data), PEM text, or NULL (wiped on clear) */
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
/* Frees and wipes everything in auth. */
void	 kube_auth_clear(struct kube_auth *auth);

#endif
