/* SPDX-License-Identifier: Apache-2.0 */
/* The edgesite version and the versions of the libraries it links. */
#ifndef EDGESITE_VERSION_H
#define EDGESITE_VERSION_H

#include <stdio.h>

const char	*version_string(void);
/* Prints "edgesite X" and one line per linked library with its version. */
void		 version_print(FILE *);

#endif
