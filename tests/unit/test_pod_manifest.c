/* SPDX-License-Identifier: Apache-2.0 */
/* Static pod manifests: YAML and JSON into cJSON, types, limits, errors. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pod/pod_int.h"
#include "unit.h"

/* Parses a string; errbuf gets any message. */
static cJSON *
parse(const char *text, char *err, size_t errlen)
{
	return pod_manifest_parse(text, strlen(text), err, errlen);
}

static void
test_yaml_pod(void)
{
	const char	*y =
	    "apiVersion: v1\n"
	    "kind: Pod\n"
	    "metadata:\n"
	    "  name: web\n"
	    "  labels: {app: web, tier: \"1\"}\n"
	    "spec:\n"
	    "  hostNetwork: true\n"
	    "  terminationGracePeriodSeconds: 5\n"
	    "  containers:\n"
	    "  - name: c\n"
	    "    image: busybox\n"
	    "    args: [\"httpd\", \"-f\", '-p', 8080]\n"
	    "    env:\n"
	    "    - {name: A, value: \"true\"}\n"
	    "    - name: B\n"
	    "      value: |\n"
	    "        two\n"
	    "        lines\n"
	    "    - name: C\n"
	    "      value: ~\n"
	    "    ports:\n"
	    "    - containerPort: 0x50\n";
	char		 err[256];
	cJSON		*p;
	int64_t		 v;

	p = parse(y, err, sizeof(err));
	CHECK(p != NULL);
	CHECK_STR(json_get_string(p, "metadata.name"), "web");
	CHECK_STR(json_get_string(p, "metadata.labels.tier"), "1");
	CHECK(json_get_bool(p, "spec.hostNetwork", 0) == 1);
	CHECK(json_get_int(p, "spec.terminationGracePeriodSeconds", &v) == 0 &&
	    v == 5);
	CHECK(cJSON_IsNumber(cJSON_GetArrayItem(json_get(
	    cJSON_GetArrayItem(json_get(p, "spec.containers"), 0), "args"),
	    3)));
	CHECK_STR(cJSON_GetArrayItem(json_get(cJSON_GetArrayItem(json_get(p,
	    "spec.containers"), 0), "args"), 2)->valuestring, "-p");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(
	    cJSON_GetArrayItem(json_get(p, "spec.containers"), 0), "env"), 0),
	    "value"), "true");
	CHECK_STR(json_get_string(cJSON_GetArrayItem(json_get(
	    cJSON_GetArrayItem(json_get(p, "spec.containers"), 0), "env"), 1),
	    "value"), "two\nlines\n");
	CHECK(cJSON_IsNull(json_get(cJSON_GetArrayItem(json_get(
	    cJSON_GetArrayItem(json_get(p, "spec.containers"), 0), "env"), 2),
	    "value")));
	CHECK(json_get_int(cJSON_GetArrayItem(json_get(cJSON_GetArrayItem(
	    json_get(p, "spec.containers"), 0), "ports"), 0), "containerPort",
	    &v) == 0 && v == 80);
	cJSON_Delete(p);
}

static void
test_json_pod(void)
{
	char	 err[256];
	cJSON	*p;

	p = parse("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"}, "
	    "\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": "
	    "\"x\"}]}}", err, sizeof(err));
	CHECK(p != NULL);
	CHECK_STR(json_get_string(p, "metadata.name"), "j");
	cJSON_Delete(p);
}

static void
test_errors(void)
{
	char	 err[256], *big;
	cJSON	*p;

	CHECK(parse("a: [1, 2\n", err, sizeof(err)) == NULL);
	CHECK(strchr(err, ':') != NULL);
	CHECK(parse("", err, sizeof(err)) == NULL);
	CHECK_STR(err, "empty document");
	CHECK(parse("a: 1\n---\nb: 2\n", err, sizeof(err)) == NULL);
	CHECK_STR(err, "more than one document");
	CHECK(parse("a: 1\na: 2\n", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "duplicate key") != NULL);
	CHECK(strncmp(err, "2:1: ", 5) == 0);
	CHECK(parse("? [a]\n: 1\n", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a scalar") != NULL);
	/* a trailing document marker alone is fine */
	p = parse("a: 1\n---\n", err, sizeof(err));
	CHECK(p != NULL);
	cJSON_Delete(p);
	big = malloc(POD_MANIFEST_MAX + 2);
	memset(big, ' ', POD_MANIFEST_MAX + 1);
	big[POD_MANIFEST_MAX + 1] = '\0';
	CHECK(parse(big, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "larger than") != NULL);
	free(big);
}

static void
test_limits(void)
{
	char	 err[256], deep[1024];
	size_t	 i;

	for (i = 0; i < 200; i++)
		deep[i] = '[';
	deep[i] = '\0';
	CHECK(parse(deep, err, sizeof(err)) == NULL);
	/* aliases multiply nodes: a billion laughs stops at the limit */
	CHECK(parse("a: &a [1,1,1,1,1,1,1,1,1,1]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", err, sizeof(err)) ==
	    NULL);
	CHECK(strstr(err, "too many nodes") != NULL);
}

static void
test_file(void)
{
	char	 err[256], buf[8192];
	FILE	*fp;
	size_t	 n;
	cJSON	*p;

	fp = fopen(unit_srcpath("tests/unit/data/pod/static-web.yaml"), "r");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	p = pod_manifest_parse(buf, n, err, sizeof(err));
	CHECK(p != NULL);
	CHECK_STR(json_get_string(p, "kind"), "Pod");
	CHECK(cJSON_GetArraySize(json_get(p, "spec.containers")) == 1);
	cJSON_Delete(p);
}

/* The stored pod a manifest becomes; NULL when refused. */
static cJSON *
static_pod(const char *yaml, const char *node, const char *path, char *err,
    size_t errlen)
{
	cJSON	*m, *p;

	if ((m = parse(yaml, err, errlen)) == NULL)
		return NULL;
	if ((p = pod_static_pod(m, node, path, err, errlen)) == NULL)
		cJSON_Delete(m);
	return p;
}

static void
test_static_pod(void)
{
	const char	*y = "metadata:\n  name: web\nspec:\n  containers:\n"
			    "  - name: c\n    image: busybox:1.36\n"
			    "    resources:\n      limits: {cpu: 1, memory: 1Gi}\n";
	char		 err[256], uid[64];
	cJSON		*p, *q, *c;

	p = static_pod(y, "node1", "/m/web.yaml", err, sizeof(err));
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_STR(json_get_string(p, "metadata.name"), "web-node1");
	CHECK_STR(json_get_string(p, "metadata.namespace"), "default");
	CHECK_STR(json_get_string(p, "kind"), "Pod");
	CHECK_STR(json_get_string(p, "spec.nodeName"), "node1");
	CHECK_STR(json_get_string(p, "spec.restartPolicy"), "Always");
	CHECK_STR(json_get_string(p, "spec.dnsPolicy"), "ClusterFirst");
	snprintf(uid, sizeof(uid), "%s", json_get_string(p, "metadata.uid"));
	CHECK(strlen(uid) == 32);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(json_get(p,
	    "metadata.annotations"), "kubernetes.io/config.hash")->valuestring,
	    uid);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(json_get(p,
	    "metadata.annotations"), "kubernetes.io/config.source")->valuestring,
	    "file");
	c = cJSON_GetArrayItem(json_get(p, "spec.containers"), 0);
	CHECK_STR(json_get_string(c, "imagePullPolicy"), "IfNotPresent");
	CHECK_STR(json_get_string(c, "terminationMessagePath"),
	    "/dev/termination-log");
	/* requests default to limits: a Guaranteed pod */
	CHECK(pod_spec_qos(p) == POD_QOS_GUARANTEED);
	CHECK(cJSON_GetArraySize(json_get(p, "spec.tolerations")) == 1);
	/* the same file on the same node: the same uid; else another */
	q = static_pod(y, "node1", "/m/web.yaml", err, sizeof(err));
	CHECK_STR(json_get_string(q, "metadata.uid"), uid);
	cJSON_Delete(q);
	q = static_pod(y, "node2", "/m/web.yaml", err, sizeof(err));
	CHECK(strcmp(json_get_string(q, "metadata.uid"), uid) != 0);
	cJSON_Delete(q);
	q = static_pod("metadata: {name: web}\nspec: {containers: "
	    "[{name: c, image: busybox:1.37}]}\n", "node1", "/m/web.yaml", err,
	    sizeof(err));
	CHECK(strcmp(json_get_string(q, "metadata.uid"), uid) != 0);
	cJSON_Delete(q);
	cJSON_Delete(p);

	CHECK(static_pod("kind: Deployment\nmetadata: {name: d}\nspec: {}\n",
	    "n", "/p", err, sizeof(err)) == NULL);
	CHECK_STR(err, "not a v1 Pod");
	CHECK(static_pod("metadata: {}\nspec: {}\n", "n", "/p", err,
	    sizeof(err)) == NULL);
	CHECK(static_pod("metadata: {name: Bad_Name}\nspec: {}\n", "n", "/p",
	    err, sizeof(err)) == NULL);
	CHECK(static_pod("metadata: {name: x}\n", "n", "/p", err,
	    sizeof(err)) == NULL);
	CHECK_STR(err, "the pod has no spec");
	CHECK(static_pod("[1, 2]\n", "n", "/p", err, sizeof(err)) == NULL);
}

int
main(void)
{
	unit_init();
	test_static_pod();
	test_yaml_pod();
	test_json_pod();
	test_errors();
	test_limits();
	test_file();
	return unit_done();
}
