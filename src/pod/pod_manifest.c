/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Static pod manifests: a manifest is one YAML or JSON document; it
 * becomes a cJSON tree (through core/yamldoc.c, YAML 1.2 core schema) the
 * rest of the room reads like any pod from the store. The file is
 * untrusted: its size is checked first, the conversion bounds nesting and
 * node count, and every problem comes back as "line:col: message" without
 * logging.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/yamldoc.h"
#include "pod/pod_int.h"

/* Sets the message, with a position when at is given. */
static void __attribute__((format(printf, 4, 5)))
pod_manifest_error(char *err, size_t errlen, const struct yamldoc_mark *at,
    const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (errlen == 0)
		return;
	if (at != NULL)
		n = snprintf(err, errlen, "%zu:%zu: ", at->line, at->col);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Loads the next document; 1 when there is none, -1 on a syntax error. */
static int
pod_manifest_load(struct yamldoc *d, char *err, size_t errlen)
{
	struct yamldoc_error	 ye;
	struct yamldoc_node	*root;
	size_t			 len;

	if (yamldoc_next(d, &ye) == -1) {
		pod_manifest_error(err, errlen, &ye.at, "%s",
		    ye.problem != NULL ? ye.problem : "YAML syntax error");
		return -1;
	}
	root = yamldoc_root(d);
	/* "---" at the end starts a document holding only an empty scalar */
	if (root == NULL || (yamldoc_scalar(root, &len) != NULL && len == 0 &&
	    yamldoc_plain(root)))
		return 1;
	return 0;
}

/* Size first, then one document (a trailing "---" allowed). */
cJSON *
pod_manifest_parse(const char *buf, size_t len, char *errbuf, size_t errlen)
{
	struct yamldoc	*d;
	cJSON		*root = NULL;
	int		 rc;

	if (errlen > 0)
		errbuf[0] = '\0';
	if (len > POD_MANIFEST_MAX) {
		pod_manifest_error(errbuf, errlen, NULL, "larger than %u bytes",
		    POD_MANIFEST_MAX);
		return NULL;
	}
	d = yamldoc_new(buf, len);
	if ((rc = pod_manifest_load(d, errbuf, errlen)) != 0) {
		if (rc == 1)
			pod_manifest_error(errbuf, errlen, NULL,
			    "empty document");
		goto out;
	}
	root = yamldoc_json(d, yamldoc_root(d), errbuf, errlen);
	if (root == NULL)
		goto out;
	if ((rc = pod_manifest_load(d, errbuf, errlen)) != 1) {
		if (rc == 0)
			pod_manifest_error(errbuf, errlen, NULL,
			    "more than one document");
		cJSON_Delete(root);
		root = NULL;
	}
out:
	yamldoc_free(d);
	return root;
}
