/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: every line goes to stderr with a level word, so journald and a
 * terminal both read it. Warnings add errno text; fatal() exits 1. Trace
 * output is switched per subsystem and printed at debug level.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static int log_level = LOG_LEVEL_INFO;
static int log_trace_bits;
static const char *log_procname = "edgesite";
static FILE *log_fp;		/* NULL: stderr */

static const struct {
	const char	*name;
	int		 bit;
} log_subs[] = {
	{ "kube", LOG_SUB_KUBE },
	{ "cri", LOG_SUB_CRI },
	{ "mqtt", LOG_SUB_MQTT },
	{ "api", LOG_SUB_API },
	{ "store", LOG_SUB_STORE },
};

/* Sets the level and the name printed on fatal errors. */
void
log_init(int level, const char *procname)
{
	log_level = level;
	if (procname != NULL)
		log_procname = procname;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

int
log_trace_parse(const char *list, int *bits, const char **bad)
{
	static char	 badname[32];
	const char	*p = list, *e;
	size_t		 i, n;

	*bits = 0;
	while (p != NULL && *p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(log_subs) / sizeof(log_subs[0]); i++)
			if (strlen(log_subs[i].name) == n &&
			    strncmp(log_subs[i].name, p, n) == 0)
				break;
		if (n > 0 && i == sizeof(log_subs) / sizeof(log_subs[0])) {
			snprintf(badname, sizeof(badname), "%.*s",
			    (int)(n < 31 ? n : 31), p);
			*bad = badname;
			return -1;
		}
		if (n > 0)
			*bits |= log_subs[i].bit;
		p = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

void
log_settrace(int bits)
{
	log_trace_bits = bits;
}

int
log_tracing(enum log_sub sub)
{
	return (log_trace_bits & (int)sub) != 0;
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, const char *err)
{
	char		 line[4096];
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];
	FILE		*fp = log_fp != NULL ? log_fp : stderr;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	if (err != NULL)
		fprintf(fp, "%s.%03ldZ %s: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, level, line, err);
	else
		fprintf(fp, "%s.%03ldZ %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, level, line);
	fflush(fp);
}

/* Writes log lines to fp from now on (log_stderr.c keeps the real stderr). */
void
log_set_output(FILE *fp)
{
	log_fp = fp;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite("warning", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("debug", fmt, ap, NULL);
	va_end(ap);
}

void
log_trace(enum log_sub sub, const char *fmt, ...)
{
	va_list	 ap;

	if (!log_tracing(sub))
		return;
	va_start(ap, fmt);
	log_vwrite("trace", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* Printable ASCII passes; anything else becomes \xNN. */
const char *
log_escape(const char *in, size_t inlen, char *buf, size_t bufsz)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (bufsz == 0)
		return buf;
	for (i = 0; i < inlen && o + 5 < bufsz; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[o++] = (char)c;
			continue;
		}
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[c >> 4];
		buf[o++] = hex[c & 0xf];
	}
	buf[o] = '\0';
	return buf;
}
