/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A rate limit for log lines: a line passes at most once per period, and
 * the lines held back meanwhile are counted so the next one that passes
 * can say how many there were. Counting what was dropped for /metrics is
 * the caller's business: the limit only spares the log.
 */
#ifndef EDGESITE_RATELIMIT_H
#define EDGESITE_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	uint64_t	period_ms;
	uint64_t	last;		/* monotonic ms of the last pass, 0: none */
	uint64_t	quiet;		/* held back since the last pass */
};

/* A limit of one line per period_ms, nothing passed yet. */
#define RATELIMIT_INIT(period_ms)	{ (period_ms), 0, 0 }

/*
 * Whether a line may be logged at now (monotonic ms). On a pass, *quiet
 * (may be NULL) tells how many were held back since the previous pass;
 * otherwise this one is counted as held back.
 */
int	ratelimit_pass(struct ratelimit *, uint64_t now, uint64_t *quiet);

#endif
