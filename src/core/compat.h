/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the C library lacks: the BSD <sys/queue.h> macros glibc leaves out.
 * Include this instead of <sys/queue.h> wherever one of them is used.
 */
#ifndef EDGESITE_COMPAT_H
#define EDGESITE_COMPAT_H

#include <sys/queue.h>

/* Iterates a tail queue while the body may remove (and free) var. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#endif
