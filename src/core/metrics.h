/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer of the Prometheus text exposition format 0.0.4 that every room
 * hands its counters to. main() registers one metrics_cb per room with the
 * local endpoint (api_metrics_add); on GET /metrics the endpoint calls each
 * with a struct metrics_out and the room writes its families through it.
 * No room reads another room's counters, and nothing is looked up through
 * a global.
 *
 * The writer keeps the exposition valid whatever a room asks of it: a family
 * is declared once, before its samples; a sample belongs to the family
 * declared last; names are checked and label values and help text escaped.
 * What breaks a rule is left out and counted (metrics_out_dropped).
 */
#ifndef EDGESITE_METRICS_H
#define EDGESITE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct metrics_out;

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

/*
 * A room's writer: called on the loop from the /metrics handler, only while
 * the loop runs; arg must stay valid as long as the endpoint does.
 */
typedef void (*metrics_cb)(struct metrics_out *, void *arg);

/* A writer appending to b, which the caller owns and frees after it. */
struct metrics_out *metrics_out_new(struct evbuffer *b);
/* Frees the writer (not its buffer); accepts NULL. */
void		 metrics_out_free(struct metrics_out *);
/* Names the room (a static string) writing next, for the log. */
void		 metrics_out_room(struct metrics_out *, const char *room);
/* Samples and families left out so far, and why the first one was. */
uint64_t	 metrics_out_dropped(const struct metrics_out *);
const char	*metrics_out_why(const struct metrics_out *);

/*
 * Opens a family: its # HELP and # TYPE lines. Every sample that follows
 * until the next family belongs to it. -1 (and the family's samples are
 * dropped) when the name is not a metric name or was declared before.
 */
int		 metrics_family(struct metrics_out *, const char *name,
		    enum metrics_type, const char *help);
/*
 * One sample of the open family. labels is NULL or a NULL-terminated list
 * of name, value pairs: { "op", "get", NULL }. Values are escaped.
 */
void		 metrics_u64(struct metrics_out *, const char *name,
		    const char *const *labels, uint64_t v);
void		 metrics_double(struct metrics_out *, const char *name,
		    const char *const *labels, double v);
/* A family of one unlabelled sample. */
void		 metrics_counter(struct metrics_out *, const char *name,
		    const char *help, uint64_t v);
void		 metrics_gauge(struct metrics_out *, const char *name,
		    const char *help, uint64_t v);
/*
 * The samples of the open histogram family: bucket[i] counts the
 * observations <= bound[i] (cumulative, bounds ascending), count all of
 * them (the +Inf bucket) and sum their total.
 */
void		 metrics_histogram(struct metrics_out *, const double *bound,
		    const uint64_t *bucket, size_t n, uint64_t count,
		    double sum);

#endif
