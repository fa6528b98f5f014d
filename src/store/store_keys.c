/*
 * Key builders for the store's key families (../shared/DESIGN.md): objects
 * under o/<resource>/<namespace>/<name>, resume points under v/<resource>,
 * outbox records under x/<target> (their values and targets in
 * store_outbox.c) and twin state under t/<device>/<property>.
 * Every key is built here so the layout lives in one place.
 */
#include "config.h"

#include <stdlib.h>

#include "core/xmalloc.h"
#include "store/store.h"

/* Cluster-scoped objects have an empty namespace: o/nodes//node1. */
char *
store_key_object(const char *resource, const char *ns, const char *name)
{
	char	*key;

	xasprintf(&key, "o/%s/%s/%s", resource, ns != NULL ? ns : "", name);
	return key;
}

/* The resourceVersion a reflector resumes from. */
char *
store_key_version(const char *resource)
{
	char	*key;

	xasprintf(&key, "v/%s", resource);
	return key;
}

/* One outbox entry per upstream target; a newer write replaces it. */
char *
store_key_outbox(const char *target)
{
	char	*key;

	xasprintf(&key, "x/%s", target);
	return key;
}

/* Twin state of one device property. */
char *
store_key_twin(const char *device, const char *property)
{
	char	*key;

	xasprintf(&key, "t/%s/%s", device, property);
	return key;
}
