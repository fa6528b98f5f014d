/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's identity, worked out once in main() by one rule and handed to
 * every room that needs it (kube, pod, twin, mqtt): the name is node-name
 * as given, else hostname-override, else the host name, the last two
 * lowercased as a kubelet does; it must be a lowercase DNS subdomain.
 * cluster tells whether a master or a kubeconfig is configured, that is
 * whether anything is sent upstream (and so whether rooms write outbox
 * records). The Node's uid is not here: it is known only once registered
 * and lives in the store with the Node object the kube room keeps
 * (o/nodes//<name>).
 */
#ifndef EDGESITE_NODE_H
#define EDGESITE_NODE_H

struct conf;

struct node_ident {
	char	*name;
	int	 cluster;
};

/* Fills ni from the configuration. 0, or -1 with *errstr (static). */
int	 node_ident_init(struct node_ident *ni, const struct conf *conf,
	    const char **errstr);
/* Frees what ni holds; accepts a zeroed one. */
void	 node_ident_clear(struct node_ident *ni);

#endif
