/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Back-off: each failure doubles the delay up to a cap, with jitter so that
 * many clients do not retry in step; a connection that stays up for the
 * stable period starts again from the base delay.
 */
#include "config.h"

#include <stdlib.h>

#include "core/backoff.h"
#include "core/clock.h"

void
backoff_init(struct backoff *b, uint64_t base_ms, uint64_t cap_ms,
    uint64_t stable_ms)
{
	b->base_ms = base_ms;
	b->cap_ms = cap_ms;
	b->stable_ms = stable_ms;
	b->cur_ms = 0;
	b->ok_since = 0;
}

uint64_t
backoff_next(struct backoff *b)
{
	uint64_t	span, d;

	if (b->ok_since != 0 && clock_mono_ms() - b->ok_since >= b->stable_ms)
		b->cur_ms = 0;
	b->ok_since = 0;
	if (b->cur_ms == 0)
		b->cur_ms = b->base_ms;
	else if (b->cur_ms >= b->cap_ms / 2)
		b->cur_ms = b->cap_ms;
	else
		b->cur_ms *= 2;
	span = b->cur_ms / 5;
	d = b->cur_ms - span + (span > 0 ? (uint64_t)arc4random_uniform(
	    (uint32_t)(2 * span + 1)) : 0);
	return d > b->cap_ms ? b->cap_ms : d;
}

void
backoff_ok(struct backoff *b)
{
	if (b->ok_since == 0)
		b->ok_since = clock_mono_ms();
}

void
backoff_reset(struct backoff *b)
{
	b->cur_ms = 0;
	b->ok_since = 0;
}
