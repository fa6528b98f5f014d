/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value parsers for edgeSite.yaml. Each takes the scalar text of one value
 * and either accepts it (storing the parsed form) or returns -1 with a
 * reason in *errstr. They know nothing of files, lines or the option
 * table, and never log; conf.c turns a reason into "file:line:col: ...".
 * Formatted reasons live in one static buffer: edgesite has one thread.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/conf_value.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define CONF_VALUE_MAX_MS	(INT64_C(1000) * 3600 * 24 * 365 * 100)

static char	conf_value_reason[256];

/* Formats a reason into the static buffer and returns -1. */
static int __attribute__((format(printf, 2, 3)))
conf_value_fail(const char **errstr, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(conf_value_reason, sizeof(conf_value_reason), fmt, ap);
	va_end(ap);
	*errstr = conf_value_reason;
	return -1;
}

/* Parses a decimal integer within min..max. */
int
conf_value_int(const char *s, int64_t min, int64_t max, int64_t *v,
    const char **errstr)
{
	const char	*p = s;
	int64_t		 n = 0;
	int		 neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return conf_value_fail(errstr, "not an integer");
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (INT64_MAX - (*p - '0')) / 10)
			return conf_value_fail(errstr, "integer too large");
		n = n * 10 + (*p - '0');
	}
	if (*p != '\0')
		return conf_value_fail(errstr, "not an integer");
	if (neg)
		n = -n;
	if (n < min || n > max) {
		if (max == INT64_MAX)
			return conf_value_fail(errstr, "must be at least %"
			    PRId64, min);
		return conf_value_fail(errstr, "out of range %" PRId64
		    "..%" PRId64, min, max);
	}
	*v = n;
	return 0;
}

/* Parses a YAML boolean: true/false, yes/no, on/off. */
int
conf_value_bool(const char *s, int *v, const char **errstr)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	size_t	i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return conf_value_fail(errstr, "not a boolean (true or false)");
}

/* Milliseconds in one unit of a duration, 0 if the unit is unknown. */
static int64_t
conf_value_unit(const char *u, size_t len)
{
	if (len == 2 && strncmp(u, "ms", 2) == 0)
		return 1;
	if (len == 1 && *u == 's')
		return 1000;
	if (len == 1 && *u == 'm')
		return 60 * 1000;
	if (len == 1 && *u == 'h')
		return 3600 * 1000;
	return 0;
}

/* Parses "10" (seconds), "250ms", "10s", "5m", "1h" or "1m30s" into ms. */
int
conf_value_duration(const char *s, int64_t min, int64_t max, int64_t *ms,
    const char **errstr)
{
	const char	*p = s, *u;
	int64_t		 n, unit, total = 0;
	int		 bare;
	char		 a[32], b[32];

	bare = strspn(s, "0123456789") == strlen(s);
	do {
		if (!isdigit((unsigned char)*p))
			return conf_value_fail(errstr, "not a duration "
			    "(like 10s, 5m or 250ms)");
		for (n = 0; isdigit((unsigned char)*p); p++) {
			n = n * 10 + (*p - '0');
			if (n > CONF_VALUE_MAX_MS)
				return conf_value_fail(errstr,
				    "duration too large");
		}
		for (u = p; isalpha((unsigned char)*p); p++)
			;
		if (bare)
			unit = 1000;	/* a bare number is seconds */
		else if (u == p)
			return conf_value_fail(errstr, "missing duration unit "
			    "(use ms, s, m or h)");
		else if ((unit = conf_value_unit(u, p - u)) == 0)
			return conf_value_fail(errstr, "bad duration unit "
			    "\"%.*s\" (use ms, s, m or h)", (int)(p - u), u);
		if (n > (CONF_VALUE_MAX_MS - total) / unit)
			return conf_value_fail(errstr, "duration too large");
		total += n * unit;
		if (total > CONF_VALUE_MAX_MS)
			return conf_value_fail(errstr, "duration too large");
	} while (*p != '\0');
	if (total < min || total > max)
		return conf_value_fail(errstr, "out of range %s..%s",
		    conf_value_duration_fmt(min, a, sizeof(a)),
		    conf_value_duration_fmt(max, b, sizeof(b)));
	*ms = total;
	return 0;
}

/* Formats a duration in the largest units that divide it exactly. */
const char *
conf_value_duration_fmt(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} units[] = {
		{ "h", 3600 * 1000 }, { "m", 60 * 1000 }, { "s", 1000 },
		{ "ms", 1 },
	};
	size_t	i, off = 0;

	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms < units[i].ms)
			continue;
		off += snprintf(buf + off, off < len ? len - off : 0,
		    "%" PRId64 "%s", ms / units[i].ms, units[i].name);
		ms %= units[i].ms;
		if (off >= len)
			break;
	}
	return buf;
}

/* Joins a NULL-terminated name list as "a, b or c" into buf. */
static const char *
conf_value_join(const char *const *names, const char *last, char *buf,
    size_t len)
{
	size_t	i, off = 0;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s",
		    i == 0 ? "" : names[i + 1] == NULL ? last : ", ", names[i]);
	return buf;
}

/* Checks a host name or address: letters, digits, '-', '.', '_'. */
static int
conf_value_host(const char *h, size_t len, const char **errstr)
{
	struct in6_addr	 a6;
	char		 buf[64];
	size_t		 i;

	if (len == 0)
		return conf_value_fail(errstr, "missing host");
	if (h[0] == '[') {
		if (len < 3 || h[len - 1] != ']' || len - 2 >= sizeof(buf))
			return conf_value_fail(errstr, "bad IPv6 address");
		memcpy(buf, h + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return conf_value_fail(errstr, "bad IPv6 address");
		return 0;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && strchr("-._", h[i]) == NULL)
			return conf_value_fail(errstr, "bad host \"%.*s\"",
			    (int)len, h);
	return 0;
}

/* Checks a port number 1..65535. */
static int
conf_value_port(const char *p, size_t len, const char **errstr)
{
	char	buf[8];
	int64_t	v;

	if (len == 0 || len >= sizeof(buf) || strspn(p, "0123456789") < len)
		return conf_value_fail(errstr, "bad port \"%.*s\"", (int)len,
		    p);
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (conf_value_int(buf, 1, 65535, &v, errstr) == -1)
		return conf_value_fail(errstr, "port %s out of range 1..65535",
		    buf);
	return 0;
}

/* Checks host[:port] of len bytes; the port is required if need_port. */
static int
conf_value_hostport(const char *s, size_t len, int need_port,
    const char **errstr)
{
	const char	*c;
	size_t		 hlen;

	if (len > 0 && s[0] == '[') {
		c = memchr(s, ']', len);
		c = c != NULL && (size_t)(c + 1 - s) < len && c[1] == ':' ?
		    c + 1 : NULL;
	} else
		c = memchr(s, ':', len);
	hlen = c != NULL ? (size_t)(c - s) : len;
	if (conf_value_host(s, hlen, errstr) == -1)
		return -1;
	if (c == NULL) {
		if (need_port)
			return conf_value_fail(errstr, "missing port "
			    "(want host:port)");
		return 0;
	}
	return conf_value_port(c + 1, len - hlen - 1, errstr);
}

/* Whether name is in a NULL-terminated list. */
static int
conf_value_in(const char *name, size_t len, const char *const *names)
{
	size_t	i;

	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

/* Checks a URL against the allowed schemes and normalizes it. */
int
conf_value_url(const char *s, const char *const *schemes, char **out,
    const char **errstr)
{
	const char	*sep, *auth, *path;
	char		 list[128];

	conf_value_join(schemes, " or ", list, sizeof(list));
	if (s[0] == '/' && conf_value_in("unix", 4, schemes)) {
		xasprintf(out, "unix://%s", s);
		return 0;
	}
	if ((sep = strstr(s, "://")) == NULL || sep == s)
		return conf_value_fail(errstr, "not a URL (want %s://...)",
		    list);
	if (!conf_value_in(s, sep - s, schemes))
		return conf_value_fail(errstr, "scheme \"%.*s\" is not %s",
		    (int)(sep - s), s, list);
	auth = sep + 3;
	if (sep - s == 4 && strncasecmp(s, "unix", 4) == 0) {
		if (auth[0] != '/' || auth[1] == '\0')
			return conf_value_fail(errstr, "unix URL needs an "
			    "absolute path (unix:///path)");
		*out = xstrdup(s);
		return 0;
	}
	path = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', path - auth) != NULL)
		return conf_value_fail(errstr, "user info is not allowed in "
		    "the URL");
	if (conf_value_hostport(auth, path - auth, 0, errstr) == -1)
		return -1;
	*out = xstrdup(s);
	return 0;
}

/* Frees a NULL-terminated URL list; accepts NULL. */
void
conf_value_urllist_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Splits "a, b" into URLs, each checked; empty input gives an empty list. */
int
conf_value_urllist(const char *s, const char *const *schemes, char ***out,
    const char **errstr)
{
	char		**v = NULL, *one;
	const char	 *p = s, *e;
	size_t		  n = 0, len;

	v = xcalloc(1, sizeof(*v));
	while (*s != '\0' && p != NULL) {
		p += strspn(p, " \t");
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		one = xstrndup(p, len);
		v = xreallocarray(v, n + 2, sizeof(*v));
		if (len == 0 || conf_value_url(one, schemes, &v[n],
		    errstr) == -1) {
			free(one);
			v[n] = NULL;
			conf_value_urllist_free(v);
			if (len == 0)
				return conf_value_fail(errstr, "empty URL "
				    "in the list");
			return -1;
		}
		free(one);
		v[++n] = NULL;
		p = e != NULL ? e + 1 : NULL;
	}
	*out = v;
	return 0;
}

/* Checks host:port, the port required. */
int
conf_value_addr(const char *s, const char **errstr)
{
	return conf_value_hostport(s, strlen(s), 1, errstr);
}

/* Parses one of the names into its index. */
int
conf_value_enum(const char *s, const char *const *names, int64_t *v,
    const char **errstr)
{
	char	list[128];
	size_t	i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = (int64_t)i;
			return 0;
		}
	}
	return conf_value_fail(errstr, "must be %s",
	    conf_value_join(names, " or ", list, sizeof(list)));
}

/* Checks an absolute path. */
int
conf_value_path(const char *s, const char **errstr)
{
	if (s[0] != '/')
		return conf_value_fail(errstr, "not an absolute path");
	return 0;
}

/* Checks an IPv4 or IPv6 address. */
int
conf_value_ip(const char *s, const char **errstr)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1)
		return 0;
	return conf_value_fail(errstr, "not an IP address");
}

/* Checks a comma list of IP addresses. */
int
conf_value_iplist(const char *s, const char **errstr)
{
	char	*copy, *p, *one;
	int	 rv = 0;

	p = copy = xstrdup(s);
	while (rv == 0 && (one = strsep(&p, ",")) != NULL) {
		one += strspn(one, " ");
		one[strcspn(one, " ")] = '\0';
		if (conf_value_ip(one, errstr) == -1)
			rv = conf_value_fail(errstr, "\"%s\" is not an IP "
			    "address", one);
	}
	free(copy);
	return rv;
}

/* Checks a comma list of trace subsystems. */
int
conf_value_trace(const char *s, const char **errstr)
{
	const char	*bad;
	int		 bits;

	if (log_trace_parse(s, &bits, &bad) == -1)
		return conf_value_fail(errstr, "unknown subsystem \"%s\" (use "
		    "kube, cri, mqtt, api or store)", bad);
	return 0;
}
