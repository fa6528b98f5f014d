/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capped exponential back-off with jitter, reset after a stable period.
 */
#ifndef EDGESITE_BACKOFF_H
#define EDGESITE_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t	base_ms;	/* first delay */
	uint64_t	cap_ms;		/* largest delay */
	uint64_t	stable_ms;	/* success lasting this long resets */
	uint64_t	cur_ms;		/* last delay before jitter; 0: none yet */
	uint64_t	ok_since;	/* monotonic ms of the last success, 0 if none */
};

void	 backoff_init(struct backoff *, uint64_t base_ms, uint64_t cap_ms,
	    uint64_t stable_ms);
/* The next delay: doubles up to the cap, with up to 20% jitter either way. */
uint64_t backoff_next(struct backoff *);
/* Records a success; the delay resets once it has lasted stable_ms. */
void	 backoff_ok(struct backoff *);
void	 backoff_reset(struct backoff *);

#endif
