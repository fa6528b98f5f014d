/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health: a small table of parts and their states. Parts are few (under a
 * dozen), so a fixed array in registration order keeps /readyz stable.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/xmalloc.h"

#define HEALTH_MAX	16

static struct {
	const char		*name;
	enum health_state	 state;
	char			*detail;
} health_parts[HEALTH_MAX];
static size_t	health_n;

void
health_set(const char *name, enum health_state st, const char *detail)
{
	size_t	i;

	for (i = 0; i < health_n; i++)
		if (strcmp(health_parts[i].name, name) == 0)
			break;
	if (i == health_n) {
		if (health_n == HEALTH_MAX)
			return;
		health_parts[health_n++].name = name;
	}
	health_parts[i].state = st;
	free(health_parts[i].detail);
	health_parts[i].detail = xstrdup(detail != NULL ? detail : "");
}

void
health_remove(const char *name)
{
	size_t	i;

	for (i = 0; i < health_n; i++) {
		if (strcmp(health_parts[i].name, name) != 0)
			continue;
		free(health_parts[i].detail);
		memmove(&health_parts[i], &health_parts[i + 1],
		    (health_n - i - 1) * sizeof(health_parts[0]));
		health_n--;
		return;
	}
}

int
health_ready(void)
{
	size_t	i;

	for (i = 0; i < health_n; i++)
		if (health_parts[i].state == HEALTH_DOWN)
			return 0;
	return 1;
}

void
health_foreach(health_each_cb cb, void *arg)
{
	size_t	i;

	for (i = 0; i < health_n; i++)
		cb(health_parts[i].name, health_parts[i].state,
		    health_parts[i].detail, arg);
}

const char *
health_state_name(enum health_state st)
{
	switch (st) {
	case HEALTH_OK:
		return "ok";
	case HEALTH_DEGRADED:
		return "degraded";
	case HEALTH_DOWN:
		break;
	}
	return "down";
}

void
health_clear(void)
{
	size_t	i;

	for (i = 0; i < health_n; i++) {
		free(health_parts[i].detail);
		health_parts[i].detail = NULL;	/* health_set frees it */
	}
	health_n = 0;
}
