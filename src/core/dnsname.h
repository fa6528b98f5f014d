/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The name rules of Kubernetes objects, in one place. Each takes NULL
 * (never a valid name) and neither allocates nor logs.
 */
#ifndef EDGESITE_DNSNAME_H
#define EDGESITE_DNSNAME_H

#define DNSNAME_LABEL_MAX	63
#define DNSNAME_SUBDOMAIN_MAX	253

/*
 * An RFC 1123 label, as namespaces, container, volume and service names
 * are: 1 to 63 of [a-z0-9-], alphanumeric at both ends.
 */
int	dnsname_label(const char *s);
/*
 * An RFC 1123 subdomain, as pod, node, configmap, secret and device names
 * are: 1 to 253 bytes of labels joined by '.'.
 */
int	dnsname_subdomain(const char *s);
/*
 * A name that can be one segment of a store key or a URL path as it is:
 * 1 to 253 of [A-Za-z0-9._:-], and not "." or "..". Looser than a
 * subdomain, for resources whose names Kubernetes checks only as path
 * segments (e.g. "system:node" roles); what the reflector stores and the
 * local API looks up.
 */
int	dnsname_segment(const char *s);

#endif
