/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What libraries print on stderr, through our log. libevhtp 1.2.18 prints
 * its errors with fprintf(stderr) from compile-time macros, whatever our
 * level (a slowloris made it print 11,849 "ODDITY" lines): there is no
 * hook. glibc's stderr is a plain variable, so we keep the real stream for
 * our own log (log_set_output) and point stderr at a stream of our own
 * (fopencookie) whose writes come here, on the loop's thread, as they are
 * made: no pipe, no thread, nothing can block or be lost unseen. Each line
 * becomes a debug line of the log, colours stripped and escaped, at most
 * LOG_STDERR_RATE a second; the rest are counted and summed up. Code that
 * writes to descriptor 2 itself (ASan, glibc's abort message) still reaches
 * the real stderr.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

#define LOG_STDERR_LINE		512	/* longer lines are cut */

static FILE		*log_stderr_real;
static char		 log_stderr_buf[LOG_STDERR_LINE];
static size_t		 log_stderr_len;
static uint64_t		 log_stderr_count;
static uint64_t		 log_stderr_second;	/* of the window */
static unsigned int	 log_stderr_inwin;	/* logged in it */
static uint64_t		 log_stderr_quiet;	/* suppressed in it */

/* Drops ANSI colour sequences (ESC [ ... letter) from s in place. */
static size_t
log_stderr_strip(char *s, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
			for (i += 2; i < len && (s[i] < '@' || s[i] > '~'); i++)
				;
			continue;
		}
		s[o++] = s[i];
	}
	return o;
}

/* Logs one line, or counts it when this second's share is spent. */
static void
log_stderr_line(char *s, size_t len)
{
	char		esc[LOG_STDERR_LINE * 4];
	uint64_t	sec = clock_mono_ms() / 1000;

	len = log_stderr_strip(s, len);
	if (len == 0)
		return;
	log_stderr_count++;
	if (sec != log_stderr_second) {
		if (log_stderr_quiet > 0)
			log_debug("stderr: %llu more lines of libraries not "
			    "logged", (unsigned long long)log_stderr_quiet);
		log_stderr_second = sec;
		log_stderr_inwin = 0;
		log_stderr_quiet = 0;
	}
	if (log_stderr_inwin >= LOG_STDERR_RATE) {
		log_stderr_quiet++;
		return;
	}
	log_stderr_inwin++;
	log_debug("stderr: %s", log_escape(s, len, esc, sizeof(esc)));
}

/* The stream's write function: split into lines, keep a partial one. */
static ssize_t
log_stderr_write(void *cookie, const char *buf, size_t size)
{
	size_t	i, room;

	(void)cookie;
	for (i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			log_stderr_line(log_stderr_buf, log_stderr_len);
			log_stderr_len = 0;
			continue;
		}
		room = sizeof(log_stderr_buf) - log_stderr_len;
		if (room > 0)
			log_stderr_buf[log_stderr_len++] = buf[i];
	}
	return (ssize_t)size;
}

void
log_stderr_capture(void)
{
	cookie_io_functions_t	 io = { .write = log_stderr_write };
	FILE			*fp;

	if (log_stderr_real != NULL)
		return;
	if ((fp = fopencookie(NULL, "w", io)) == NULL) {
		log_warn("stderr: cannot capture what libraries print");
		return;
	}
	setvbuf(fp, NULL, _IONBF, 0);
	log_stderr_real = stderr;
	log_set_output(log_stderr_real);
	stderr = fp;
}

uint64_t
log_stderr_lines(void)
{
	return log_stderr_count;
}

void
log_metrics(struct metrics_out *out, void *arg)
{
	(void)arg;
	metrics_counter(out, "edgesite_log_library_lines_total", "Lines "
	    "libraries printed on stderr, logged at debug level at most "
	    "10 a second.", log_stderr_lines());
}
