/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure parsers for the values of edgeSite.yaml: integers with a range,
 * booleans, durations, URLs and URL lists, host:port addresses, enums,
 * absolute paths and IP addresses. They never log: on failure they return
 * -1 with *errstr set to a reason ("out of range 0..100"), which stays
 * valid until the next call.
 */
#ifndef EDGESITE_CONF_VALUE_H
#define EDGESITE_CONF_VALUE_H

#include <stddef.h>
#include <stdint.h>

int	 conf_value_int(const char *s, int64_t min, int64_t max, int64_t *v,
	    const char **errstr);
int	 conf_value_bool(const char *s, int *v, const char **errstr);
int	 conf_value_duration(const char *s, int64_t min, int64_t max,
	    int64_t *ms, const char **errstr);
/* Formats ms as "1h30m", "10s", "250ms" or "0s" into buf. */
const char *conf_value_duration_fmt(int64_t ms, char *buf, size_t len);
/*
 * Checks scheme://host[:port][/path] against the NULL-terminated scheme
 * list. With "unix" allowed, "unix:///abs/path" and a bare absolute path
 * are accepted; *out is the normalized URL (caller frees).
 */
int	 conf_value_url(const char *s, const char *const *schemes, char **out,
	    const char **errstr);
/* Splits a comma list of URLs into a NULL-terminated array (caller frees). */
int	 conf_value_urllist(const char *s, const char *const *schemes,
	    char ***out, const char **errstr);
void	 conf_value_urllist_free(char **);
int	 conf_value_addr(const char *s, const char **errstr);
int	 conf_value_enum(const char *s, const char *const *names, int64_t *v,
	    const char **errstr);
int	 conf_value_path(const char *s, const char **errstr);
/* An IPv4 or IPv6 address. */
int	 conf_value_ip(const char *s, const char **errstr);
/* A comma list of IP addresses. */
int	 conf_value_iplist(const char *s, const char **errstr);
/* A comma list of trace subsystems (log_trace_parse). */
int	 conf_value_trace(const char *s, const char **errstr);

#endif
