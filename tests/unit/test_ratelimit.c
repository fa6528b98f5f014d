/* SPDX-License-Identifier: Apache-2.0 */
/* The log rate limit: once per period, with the count held back. */
#include "config.h"

#include <stdint.h>

#include "core/ratelimit.h"
#include "unit.h"

static void
test_once_per_period(void)
{
	struct ratelimit	rl = RATELIMIT_INIT(1000);
	uint64_t		quiet = 99;

	CHECK(ratelimit_pass(&rl, 5000, &quiet) == 1);
	CHECK(quiet == 0);
	CHECK(ratelimit_pass(&rl, 5001, &quiet) == 0);
	CHECK(ratelimit_pass(&rl, 5999, &quiet) == 0);
	CHECK(rl.quiet == 2);
	CHECK(ratelimit_pass(&rl, 6000, &quiet) == 1);
	CHECK(quiet == 2);
	CHECK(rl.quiet == 0);
	/* NULL: the count is simply reset */
	CHECK(ratelimit_pass(&rl, 6500, NULL) == 0);
	CHECK(ratelimit_pass(&rl, 7000, NULL) == 1);
	CHECK(rl.quiet == 0);
}

static void
test_clock_at_zero(void)
{
	struct ratelimit	rl = RATELIMIT_INIT(1000);

	/* a first pass at time 0 still starts the period */
	CHECK(ratelimit_pass(&rl, 0, NULL) == 1);
	CHECK(ratelimit_pass(&rl, 500, NULL) == 0);
	CHECK(ratelimit_pass(&rl, 1001, NULL) == 1);
}

int
main(void)
{
	unit_init();
	test_once_per_period();
	test_clock_at_zero();
	return unit_done();
}
