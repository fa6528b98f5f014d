/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal unit test harness: CHECK records a failure with file:line and
 * goes on; unit_done() prints "N passed, N failed" and returns the exit
 * status automake's test driver expects.
 */
#ifndef EDGESITE_UNIT_H
#define EDGESITE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static int unit_pass, unit_fail;

#define CHECK(cond) do {						\
	if (cond)							\
		unit_pass++;						\
	else {								\
		unit_fail++;						\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *unit_a = (a), *unit_b = (b);			\
	if (unit_a != NULL && unit_b != NULL &&				\
	    strcmp(unit_a, unit_b) == 0)				\
		unit_pass++;						\
	else {								\
		unit_fail++;						\
		fprintf(stderr, "%s:%d: CHECK_STR failed: %s: "		\
		    "\"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,	\
		    unit_a ? unit_a : "(null)",				\
		    unit_b ? unit_b : "(null)");			\
	}								\
} while (0)

/* What every test sets up first, as main() does: cJSON on xmalloc. */
static inline void
unit_init(void)
{
	json_init();
}

static inline int
unit_done(void)
{
	printf("%d passed, %d failed\n", unit_pass, unit_fail);
	return unit_fail == 0 && unit_pass > 0 ? 0 : 1;
}

/* Path of a file under the source tree (srcdir builds and distcheck). */
static inline const char *
unit_srcpath(const char *rel)
{
	static char	 buf[4096];
	const char	*top = getenv("top_srcdir");

	snprintf(buf, sizeof(buf), "%s/%s", top != NULL ? top : ".", rel);
	return buf;
}

#endif
