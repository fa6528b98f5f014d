/*
 * Device status upstream: the device twin's reported values and device
 * state, as a merge patch of a Device's status subresource
 * (devices.kubeedge.io v1alpha1), sent through the durable outbox, one
 * entry per Device, a newer status replacing an older one not yet sent.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube.h"
#include "kube/kube_int.h"

#define KUBE_DEVICE_API	"/apis/devices.kubeedge.io/v1alpha1"

/* A namespace or name as a path segment: a DNS subdomain. */
static int
kube_device_name_ok(const char *s)
{
	return dnsname_subdomain(s);
}

int
kube_device_status(struct kube *k, const char *ns, const char *name,
    const char *rv, const char *status_json)
{
	cJSON		*root, *status;
	const char	*errstr;
	char		*body, *path, *target;
	int		 rc;

	if (k == NULL || !kube_device_name_ok(ns) ||
	    !kube_device_name_ok(name) || status_json == NULL)
		return -1;
	status = json_parse(status_json, strlen(status_json),
	    JSON_MAX_DOCUMENT, &errstr);
	if (!cJSON_IsObject(status)) {
		cJSON_Delete(status);
		return -1;
	}
	root = cJSON_CreateObject();
	/* The Device changed meanwhile: 409, and the twin sends anew. */
	if (rv != NULL)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(root,
		    "metadata"), "resourceVersion", rv);
	cJSON_AddItemToObject(root, "status", status);
	body = json_print(root);
	cJSON_Delete(root);
	xasprintf(&path, KUBE_DEVICE_API "/namespaces/%s/devices/%s/status",
	    ns, name);
	xasprintf(&target, "devices/%s/%s/status", ns, name);
	rc = kube_outbox_put(k->outbox, target, "PATCH", path,
	    "application/merge-patch+json", body);
	free(target);
	free(path);
	free(body);
	return rc;
}
