/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the apiserver sends about objects, taken apart for the store
 * (kube_object.c): a watch line or a list item becomes the store key and
 * JSON text to write, the key to delete, a resume point, a watch error,
 * or a reason to skip it. Pure: it never logs and never touches the
 * store; the reflector logs the skips and writes the rest. The entry
 * point of the fuzz harness tests/fuzz/fuzz_kube_object.c.
 */
#ifndef EDGESITE_KUBE_OBJECT_H
#define EDGESITE_KUBE_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"

/* The objects a reflector keeps. */
struct kube_object_scope {
	const char	*store_name;	/* o/<store_name>/... */
	int		 namespaced;
	const char	*ns;		/* one namespace, or NULL */
	const char	*only;		/* one name (per-object), or NULL */
};

/* What to do with a watch line or a list item. */
enum kube_object_action {
	KUBE_OBJECT_SKIP,	/* malformed: log why and go on */
	KUBE_OBJECT_IGNORE,	/* well-formed but outside the scope */
	KUBE_OBJECT_PUT,	/* write text under key, with rv */
	KUBE_OBJECT_DELETE,	/* delete key, with rv */
	KUBE_OBJECT_BOOKMARK,	/* only the resume point rv */
	KUBE_OBJECT_ERROR,	/* a watch ERROR: code and message */
};

struct kube_object_event {
	enum kube_object_action	 action;
	const char		*type;		/* "ADDED", ...; or NULL */
	char			*key;		/* PUT, DELETE */
	char			*text;		/* PUT: JSON, NUL-terminated */
	size_t			 len;
	char			*rv;		/* PUT, DELETE, BOOKMARK */
	int64_t			 code;		/* ERROR: Status code, or 0 */
	char			*message;	/* ERROR: Status message */
	char			 why[400];	/* SKIP: for "skipping %s" */
};

/*
 * Takes one watch line ({"type": ..., "object": {...}}) of at most
 * max_line bytes apart into ev. Objects over max_value bytes are skipped.
 * Returns ev->action; the caller clears ev.
 */
enum kube_object_action kube_object_event(const struct kube_object_scope *,
	    const char *line, size_t len, size_t max_value,
	    struct kube_object_event *ev);
/*
 * Takes one item of a list apart into ev: PUT, IGNORE or SKIP. kind and
 * apiv (the list's, "Pod" and "v1") fill what the item leaves out; the
 * item loses its managedFields.
 */
enum kube_object_action kube_object_item(const struct kube_object_scope *,
	    cJSON *item, const char *kind, const char *apiv, size_t max_value,
	    struct kube_object_event *ev);
/* Frees what ev holds; it may be used again. */
void	kube_object_event_clear(struct kube_object_event *ev);

#endif
