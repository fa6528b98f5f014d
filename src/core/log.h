/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr in the foreground, as systemd expects: one line per
 * message, a level prefix, and per-subsystem trace switches.
 */
#ifndef EDGESITE_LOG_H
#define EDGESITE_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

/* Subsystems whose trace output can be switched on one by one. */
enum log_sub {
	LOG_SUB_KUBE = 1 << 0,
	LOG_SUB_CRI = 1 << 1,
	LOG_SUB_MQTT = 1 << 2,
	LOG_SUB_API = 1 << 3,
	LOG_SUB_STORE = 1 << 4,
};

void	 log_init(int level, const char *procname);
void	 log_setlevel(int level);
int	 log_getlevel(void);
/* Parses "kube,cri,..." into trace bits; -1 and *bad set on an unknown name. */
int	 log_trace_parse(const char *list, int *bits, const char **bad);
void	 log_settrace(int bits);
int	 log_tracing(enum log_sub sub);

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_trace(enum log_sub, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* Where log lines go; NULL is stderr. */
void	 log_set_output(FILE *);
/*
 * log_stderr.c: what libraries print on stderr (libevhtp prints its own
 * errors there whatever our level) becomes debug lines of our log, at most
 * LOG_STDERR_RATE a second, the rest counted. Idempotent.
 */
#define LOG_STDERR_RATE	10
void	 log_stderr_capture(void);
/* Lines libraries printed on stderr since the capture. */
uint64_t log_stderr_lines(void);
/* The log room's counters on /metrics (core/metrics.h); arg unused. */
struct metrics_out;
void	 log_metrics(struct metrics_out *, void *arg);

/* Escapes peer input for a log line into buf (always NUL-terminated). */
const char *log_escape(const char *in, size_t inlen, char *buf, size_t bufsz);

#endif
