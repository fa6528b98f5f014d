/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Garbage the pods leave: dead container instances beyond
 * maximum-dead-containers-per-container (the newest instance of each
 * container is always kept, so restart counts and init progress survive),
 * old sandboxes that a newer ready one replaced once nothing in them is
 * the newest of its container, and pod folders under the state directory
 * that no pod owns any more (found after the first relist, when every
 * runtime object has a machine). Runtime objects of pods that are gone
 * are orphans the room gives a machine of their own, which removes them.
 * pod_gc_plan is pure, a part of the planner; pod_gc_dirs removes the
 * folders at once (they are left over from a previous run, rarely big).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_plan.h"

/* Whether instance c is the newest of its container. */
static int
pod_gc_is_latest(const struct pod_observed *o, const struct pod_cinst *c)
{
	return pod_observed_latest(o, c->name, NULL) == c;
}

/* qsort: newest first (attempt, then creation). */
static int
pod_gc_cmp(const void *a, const void *b)
{
	const struct pod_cinst	*x = *(const struct pod_cinst *const *)a;
	const struct pod_cinst	*y = *(const struct pod_cinst *const *)b;

	if (x->attempt != y->attempt)
		return x->attempt > y->attempt ? -1 : 1;
	if (x->created_ns != y->created_ns)
		return x->created_ns > y->created_ns ? -1 : 1;
	return 0;
}

/* Dead instances of one container beyond the limit, oldest first. */
static void
pod_gc_container(const struct pod_observed *o, const char *name,
    int64_t keep, struct pod_plan *plan)
{
	const struct pod_cinst	**dead, *latest;
	size_t			  n = 0, i;

	latest = pod_observed_latest(o, name, NULL);
	/* the newest instance is always kept; a dead one uses the budget */
	if (latest != NULL && latest->state == POD_CSTATE_EXITED && keep > 0)
		keep--;
	dead = xreallocarray(NULL, o->nc + 1, sizeof(*dead));
	for (i = 0; i < o->nc; i++)
		if (strcmp(o->c[i].name, name) == 0 &&
		    o->c[i].state == POD_CSTATE_EXITED &&
		    !pod_gc_is_latest(o, &o->c[i]))
			dead[n++] = &o->c[i];
	qsort(dead, n, sizeof(*dead), pod_gc_cmp);
	for (i = (size_t)keep; i < n; i++)
		pod_plan_add(plan, POD_OP_REMOVE, dead[i]->name, dead[i]->id,
		    dead[i]->attempt, 0);
	free(dead);
}

/* Whether sandbox id holds the newest instance of some container. */
static int
pod_gc_sandbox_needed(const struct pod_observed *o, const char *id)
{
	size_t	i;

	for (i = 0; i < o->nc; i++)
		if (strcmp(o->c[i].sandbox_id, id) == 0 &&
		    pod_gc_is_latest(o, &o->c[i]))
			return 1;
	return 0;
}

/*
 * Plans the removals of dead instances (keep per container) and replaced
 * sandboxes. Pure: it reads the observation and adds to the plan.
 */
void
pod_gc_plan(const struct pod_observed *o, int64_t keep,
    struct pod_plan *plan)
{
	struct pod_strv	 names = { NULL, 0 };
	size_t		 i, j;

	for (i = 0; i < o->nc; i++) {
		for (j = 0; j < names.n; j++)
			if (strcmp(names.v[j], o->c[i].name) == 0)
				break;
		if (j == names.n)
			pod_strv_add(&names, o->c[i].name);
	}
	for (i = 0; i < names.n; i++)
		pod_gc_container(o, names.v[i], keep, plan);
	pod_strv_clear(&names);
	if (pod_observed_sandbox(o) == NULL)
		return;
	for (i = 0; i < o->nsb; i++)
		if (!o->sb[i].ready && !pod_gc_sandbox_needed(o, o->sb[i].id))
			pod_plan_add(plan, POD_OP_REMOVE_SANDBOX, NULL,
			    o->sb[i].id, 0, 0);
}

/* After the first relist: pod folders of no machine go. */
void
pod_gc_dirs(struct pod_room *room)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *sub;

	xasprintf(&dir, "%s/pods", room->node.state_dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || pod_room_find(room,
		    de->d_name) != NULL)
			continue;
		xasprintf(&sub, "%s/%s", dir, de->d_name);
		log_info("pods: removing %s: no pod owns it", sub);
		if (pod_volume_teardown(sub) == -1)
			log_warnx("pods: could not remove all of %s", sub);
		free(sub);
	}
	closedir(d);
	free(dir);
}
