/* SPDX-License-Identifier: Apache-2.0 */
/* Back-off: doubling, cap, jitter bounds, reset after a stable period. */
#include "config.h"

#include <stdint.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "unit.h"

static void
test_doubling_and_cap(void)
{
	struct backoff	b;
	uint64_t	d, want = 1000;
	int		i;

	backoff_init(&b, 1000, 30000, 60000);
	for (i = 0; i < 10; i++) {
		d = backoff_next(&b);
		/* within 20% of the nominal delay, never above the cap */
		CHECK(d >= want - want / 5 && d <= want + want / 5);
		CHECK(d <= 30000);
		want = want * 2 > 30000 ? 30000 : want * 2;
	}
	CHECK(b.cur_ms == 30000);
}

static void
test_reset_after_stable(void)
{
	struct backoff	b;

	clock_set_fake(1000000);
	backoff_init(&b, 500, 8000, 10000);
	backoff_next(&b);
	backoff_next(&b);
	backoff_next(&b);
	CHECK(b.cur_ms == 2000);
	/* a short success does not reset */
	backoff_ok(&b);
	clock_set_fake(1005000);
	backoff_next(&b);
	CHECK(b.cur_ms == 4000);
	/* a success lasting the stable period does */
	backoff_ok(&b);
	clock_set_fake(1016000);
	backoff_next(&b);
	CHECK(b.cur_ms == 500);
	backoff_reset(&b);
	CHECK(b.cur_ms == 0);
	clock_set_fake(0);
}

int
main(void)
{
	unit_init();
	test_doubling_and_cap();
	test_reset_after_stable();
	return unit_done();
}
