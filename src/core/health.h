/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness of each part (store, api, mqtt, cri, pods, kube): parts report
 * their state here and /readyz and the USR1 dump read it.
 */
#ifndef EDGESITE_HEALTH_H
#define EDGESITE_HEALTH_H

enum health_state {
	HEALTH_DOWN = 0,	/* not usable yet, or failed */
	HEALTH_OK = 1,
	HEALTH_DEGRADED = 2,	/* working from the store, peer unreachable */
};

/* Sets the state of part name (a static string) with a short detail. */
void	 health_set(const char *name, enum health_state, const char *detail);
/* Forgets a part, e.g. one switched off by a reload. */
void	 health_remove(const char *name);
/* 1 when every part that counts for readiness is OK or DEGRADED. */
int	 health_ready(void);
typedef void (*health_each_cb)(const char *name, enum health_state,
    const char *detail, void *arg);
void	 health_foreach(health_each_cb, void *arg);
const char *health_state_name(enum health_state);
void	 health_clear(void);

#endif
