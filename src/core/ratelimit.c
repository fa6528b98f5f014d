/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one rate limit of log lines (ratelimit.h): every "at most once per
 * interval, with how many were not logged" in the rooms goes through it.
 */
#include "config.h"

#include <stddef.h>

#include "core/ratelimit.h"

int
ratelimit_pass(struct ratelimit *rl, uint64_t now, uint64_t *quiet)
{
	if (rl->last != 0 && now - rl->last < rl->period_ms) {
		rl->quiet++;
		return 0;
	}
	if (quiet != NULL)
		*quiet = rl->quiet;
	rl->quiet = 0;
	/* 0 means "never": a clock reading 0 still counts as a pass */
	rl->last = now != 0 ? now : 1;
	return 1;
}
