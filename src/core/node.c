/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's identity (node.h): one rule for the node name, one for
 * whether edgesite is in a cluster. Nothing else reads node-name,
 * hostname-override or the host name.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/dnsname.h"
#include "core/node.h"
#include "core/xmalloc.h"

/* hostname-override or the host name, lowercased; NULL when unreadable. */
static char *
node_host_name(const struct conf *c)
{
	char	 host[HOST_NAME_MAX + 1], *name, *p;

	if (c->hostname_override != NULL && *c->hostname_override != '\0')
		name = xstrdup(c->hostname_override);
	else if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		name = xstrdup(host);
	} else
		return NULL;
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return name;
}

int
node_ident_init(struct node_ident *ni, const struct conf *c,
    const char **errstr)
{
	const char	*kubeconfig = c->kube_kubeconfig;

	memset(ni, 0, sizeof(*ni));
	if (c->node_name != NULL && *c->node_name != '\0')
		ni->name = xstrdup(c->node_name);
	else if ((ni->name = node_host_name(c)) == NULL) {
		*errstr = "cannot read the hostname";
		return -1;
	}
	if (!dnsname_subdomain(ni->name)) {
		*errstr = "the node name is not a lowercase DNS subdomain";
		node_ident_clear(ni);
		return -1;
	}
	ni->cluster = (kubeconfig != NULL && *kubeconfig != '\0') ||
	    (c->kube_master != NULL && c->kube_master[0] != NULL);
	return 0;
}

void
node_ident_clear(struct node_ident *ni)
{
	free(ni->name);
	memset(ni, 0, sizeof(*ni));
}
