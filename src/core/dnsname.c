/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation:
 * IsDNS1123Label, IsDNS1123Subdomain) and edgesite's rule for a name that
 * is used as a store key or path segment, so every room that takes a name
 * from a peer or a manifest checks it the same way. Pure functions.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "core/dnsname.h"

/* The characters a label begins and ends with. */
static int
dnsname_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* n bytes of s as one label: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static int
dnsname_label_n(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || !dnsname_alnum(s[0]) || !dnsname_alnum(s[n - 1]))
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!dnsname_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
dnsname_label(const char *s)
{
	size_t	n;

	if (s == NULL)
		return 0;
	n = strnlen(s, DNSNAME_LABEL_MAX + 1);
	return n <= DNSNAME_LABEL_MAX && dnsname_label_n(s, n);
}

/* Labels joined by dots; Kubernetes limits only the whole, not a label. */
int
dnsname_subdomain(const char *s)
{
	const char	*dot;
	size_t		 n;

	if (s == NULL)
		return 0;
	n = strnlen(s, DNSNAME_SUBDOMAIN_MAX + 1);
	if (n == 0 || n > DNSNAME_SUBDOMAIN_MAX)
		return 0;
	for (;;) {
		dot = strchr(s, '.');
		n = dot != NULL ? (size_t)(dot - s) : strlen(s);
		if (!dnsname_label_n(s, n))
			return 0;
		if (dot == NULL)
			return 1;
		s = dot + 1;
	}
}

/* No '/', '%', space or control character; "." and ".." name no object. */
int
dnsname_segment(const char *s)
{
	size_t	n;

	if (s == NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (n == DNSNAME_SUBDOMAIN_MAX)
			return 0;
		if (!isalnum((unsigned char)s[n]) && strchr("-._:", s[n]) ==
		    NULL)
			return 0;
	}
	return n > 0;
}
