/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time: a cached monotonic clock that logic reads (tests may move it), and
 * the wall clock for timestamps only.
 */
#ifndef EDGESITE_CLOCK_H
#define EDGESITE_CLOCK_H

#include <stdint.h>
#include <time.h>

struct event;

/* Refreshes the cached monotonic time; the loop calls it each turn. */
void	 clock_update(void);
/* The cached monotonic time in milliseconds. */
uint64_t clock_mono_ms(void);
/* Tests: freezes the clock at ms (0 unfreezes). */
void	 clock_set_fake(uint64_t ms);
/* Arms the timer ev to fire in ms milliseconds (0: on the next loop turn). */
void	 clock_timer_add(struct event *ev, uint64_t ms);
/* Wall-clock time formatted as RFC 3339 UTC ("2026-11-26T23:03:20Z"). */
void	 clock_rfc3339(time_t t, char *buf, size_t len);

#endif
