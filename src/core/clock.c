/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clock: one cached monotonic reading shared by all logic, so timers and
 * back-off decisions agree within a loop turn and tests can freeze time;
 * and the one place a timer's delay in milliseconds becomes a timeval.
 */
#include "config.h"

#include <sys/time.h>

#include <time.h>

#include <event2/event.h>

#include "core/clock.h"

static uint64_t	clock_cached;
static uint64_t	clock_fake;

void
clock_update(void)
{
	struct timespec	ts;

	if (clock_fake != 0) {
		clock_cached = clock_fake;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	clock_cached = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
clock_mono_ms(void)
{
	if (clock_cached == 0)
		clock_update();
	return clock_cached;
}

void
clock_set_fake(uint64_t ms)
{
	clock_fake = ms;
	clock_cached = 0;
	clock_update();
}

void
clock_timer_add(struct event *ev, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

void
clock_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
