/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container environments: values, $(VAR) expansion, fieldRef,
 * resourceFieldRef, configmap and secret keys (optional or not), envFrom
 * with prefixes, and the messages of a CreateContainerConfigError.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pod/pod_int.h"
#include "unit.h"

static cJSON *
obj(const char *json)
{
	const char	*errstr;

	return json_parse(json, strlen(json), 1 << 20, &errstr);
}

/* The test's store: one configmap and one secret in namespace ns1. */
static cJSON *
lookup(const char *resource, const char *ns, const char *name, void *arg)
{
	if (strcmp(ns, "ns1") != 0)
		return NULL;
	if (strcmp(resource, "configmaps") == 0 && strcmp(name, "cm") == 0)
		return obj("{\"data\":{\"color\":\"blue\",\"size\":\"L\","
		    "\"bad-name!\":\"x\"}}");
	if (strcmp(resource, "secrets") == 0 && strcmp(name, "sec") == 0)
		return obj("{\"data\":{\"password\":\"czNjcjN0\"}}");
	/* {"auths":{"registry.example:5000":{"auth":"dXNlcjpwYXNz"}}} */
	if (strcmp(resource, "secrets") == 0 && strcmp(name, "regcred") == 0)
		return obj("{\"type\":\"kubernetes.io/dockerconfigjson\","
		    "\"data\":{\".dockerconfigjson\":\"eyJhdXRocyI6eyJyZWdpc3Ry"
		    "eS5leGFtcGxlOjUwMDAiOnsiYXV0aCI6ImRYTmxjanB3WVhOeiJ9fX0=\"}}");
	/* {"https://index.docker.io/v1/":{"username":"hub","password":"pw"}} */
	if (strcmp(resource, "secrets") == 0 && strcmp(name, "hubcfg") == 0)
		return obj("{\"type\":\"kubernetes.io/dockercfg\",\"data\":{"
		    "\".dockercfg\":\"eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOn"
		    "sidXNlcm5hbWUiOiJodWIiLCJwYXNzd29yZCI6InB3In19\"}}");
	return NULL;
}

static const char *podjson =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns1\",\"uid\":\"u-1\","
    "\"labels\":{\"b\":\"2\",\"a\":\"x\\\"y\"}},"
    "\"spec\":{\"nodeName\":\"n1\",\"serviceAccountName\":\"sa\","
    "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{"
    "\"limits\":{\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"250m\"}}}]}}";

static void
ctx_init(struct pod_ctx *x, cJSON *p)
{
	static struct pod_strv	ips;

	memset(x, 0, sizeof(*x));
	if (ips.n == 0) {
		pod_strv_add(&ips, "10.88.0.5");
		pod_strv_add(&ips, "fd00::5");
	}
	x->pod = p;
	x->node_name = "n1";
	x->host_ip = "192.0.2.7";
	x->pod_ip = "10.88.0.5";
	x->pod_ips = &ips;
	x->node_cpu_milli = 4000;
	x->node_mem = 8LL << 30;
	x->lookup = lookup;
}

static void
test_expand(void)
{
	struct pod_envs	 e = { NULL, 0 };
	char		*s;

	pod_envs_set(&e, "A", "1");
	pod_envs_set(&e, "B", "two");
	s = pod_env_expand("x$(A)y$(B)$(C)$$(A)$$$x$", &e);
	CHECK_STR(s, "x1ytwo$(C)$(A)$$x$");
	free(s);
	s = pod_env_expand("$(A", &e);
	CHECK_STR(s, "$(A");
	free(s);
	pod_envs_set(&e, "A", "3");
	CHECK(e.n == 2);
	CHECK_STR(pod_envs_get(&e, "A"), "3");
	pod_envs_clear(&e);
	CHECK(pod_env_valid_name("MY_VAR.x-1"));
	CHECK(!pod_env_valid_name("1A"));
	CHECK(!pod_env_valid_name("A B"));
}

static void
test_build(void)
{
	struct pod_envs	 e;
	struct pod_ctx	 x;
	cJSON		*p, *c;
	char		 err[256];

	p = obj(podjson);
	ctx_init(&x, p);
	c = obj("{\"name\":\"c\",\"resources\":{\"limits\":{\"memory\":"
	    "\"64Mi\"},\"requests\":{\"cpu\":\"250m\"}},"
	    "\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"},\"prefix\":"
	    "\"CM_\"},{\"secretRef\":{\"name\":\"gone\",\"optional\":true}}],"
	    "\"env\":["
	    "{\"name\":\"A\",\"value\":\"a\"},"
	    "{\"name\":\"B\",\"value\":\"$(A)-$(CM_color)\"},"
	    "{\"name\":\"NAME\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	    "\"metadata.name\"}}},"
	    "{\"name\":\"LB\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	    "\"metadata.labels['b']\"}}},"
	    "{\"name\":\"IPS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	    "\"status.podIPs\"}}},"
	    "{\"name\":\"HOST\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	    "\"status.hostIP\"}}},"
	    "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{"
	    "\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}},"
	    "{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{"
	    "\"resource\":\"limits.cpu\"}}},"
	    "{\"name\":\"CPUREQ\",\"valueFrom\":{\"resourceFieldRef\":{"
	    "\"resource\":\"requests.cpu\",\"divisor\":\"1m\"}}},"
	    "{\"name\":\"PW\",\"valueFrom\":{\"secretKeyRef\":{\"name\":"
	    "\"sec\",\"key\":\"password\"}}},"
	    "{\"name\":\"OPT\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":"
	    "\"cm\",\"key\":\"nope\",\"optional\":true}}},"
	    "{\"name\":\"CM_size\",\"value\":\"XL\"}"
	    "]}");
	CHECK(pod_env_build(&x, c, &e, err, sizeof(err)) == 0);
	CHECK_STR(pod_envs_get(&e, "CM_color"), "blue");
	CHECK(pod_envs_get(&e, "CM_bad-name!") == NULL);
	CHECK_STR(pod_envs_get(&e, "B"), "a-blue");
	CHECK_STR(pod_envs_get(&e, "NAME"), "p");
	CHECK_STR(pod_envs_get(&e, "LB"), "2");
	CHECK_STR(pod_envs_get(&e, "IPS"), "10.88.0.5,fd00::5");
	CHECK_STR(pod_envs_get(&e, "HOST"), "192.0.2.7");
	CHECK_STR(pod_envs_get(&e, "MEM"), "64");
	CHECK_STR(pod_envs_get(&e, "CPU"), "4");	/* node allocatable */
	CHECK_STR(pod_envs_get(&e, "CPUREQ"), "250");
	CHECK_STR(pod_envs_get(&e, "PW"), "s3cr3t");
	CHECK(pod_envs_get(&e, "OPT") == NULL);
	CHECK_STR(pod_envs_get(&e, "CM_size"), "XL");
	pod_envs_clear(&e);
	cJSON_Delete(c);
	cJSON_Delete(p);
}

static void
test_errors(void)
{
	struct pod_envs	 e;
	struct pod_ctx	 x;
	cJSON		*p, *c;
	char		 err[256];

	p = obj(podjson);
	ctx_init(&x, p);
	c = obj("{\"name\":\"c\",\"env\":[{\"name\":\"X\",\"valueFrom\":{"
	    "\"configMapKeyRef\":{\"name\":\"missing\",\"key\":\"k\"}}}]}");
	CHECK(pod_env_build(&x, c, &e, err, sizeof(err)) == -1);
	CHECK_STR(err, "configmap \"missing\" not found");
	cJSON_Delete(c);
	c = obj("{\"name\":\"c\",\"env\":[{\"name\":\"X\",\"valueFrom\":{"
	    "\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"user\"}}}]}");
	CHECK(pod_env_build(&x, c, &e, err, sizeof(err)) == -1);
	CHECK_STR(err, "couldn't find key user in Secret ns1/sec");
	cJSON_Delete(c);
	c = obj("{\"name\":\"c\",\"envFrom\":[{\"secretRef\":{\"name\":"
	    "\"nosec\"}}]}");
	CHECK(pod_env_build(&x, c, &e, err, sizeof(err)) == -1);
	CHECK_STR(err, "secret \"nosec\" not found");
	cJSON_Delete(c);
	c = obj("{\"name\":\"c\",\"env\":[{\"name\":\"X\",\"valueFrom\":{"
	    "\"fieldRef\":{\"fieldPath\":\"spec.nope\"}}}]}");
	CHECK(pod_env_build(&x, c, &e, err, sizeof(err)) == -1);
	cJSON_Delete(c);
	cJSON_Delete(p);
}

static void
test_fields(void)
{
	struct pod_ctx	 x;
	cJSON		*p;
	char		 err[256], *s;

	p = obj(podjson);
	ctx_init(&x, p);
	CHECK(pod_env_field(&x, "metadata.labels", &s, err, sizeof(err)) == 0);
	CHECK_STR(s, "a=\"x\\\"y\"\nb=\"2\"");
	free(s);
	CHECK(pod_env_field(&x, "metadata.annotations['none']", &s, err,
	    sizeof(err)) == 0);
	CHECK_STR(s, "");
	free(s);
	CHECK(pod_env_field(&x, "spec.serviceAccountName", &s, err,
	    sizeof(err)) == 0);
	CHECK_STR(s, "sa");
	free(s);
	CHECK(pod_env_field(&x, "metadata.uid", &s, err, sizeof(err)) == 0);
	CHECK_STR(s, "u-1");
	free(s);
	cJSON_Delete(p);
}

static void
test_expand_list(void)
{
	struct pod_envs	 e = { NULL, 0 };
	cJSON		*l;
	char		**v;
	size_t		 n, i;

	pod_envs_set(&e, "PORT", "8080");
	l = obj("[\"httpd\",\"-p\",\"$(PORT)\",3]");
	v = pod_env_expand_list(l, &e, &n);
	CHECK(n == 3);
	CHECK_STR(v[2], "8080");
	CHECK(v[3] == NULL);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	cJSON_Delete(l);
	pod_envs_clear(&e);
}

static void
test_pull_auth(void)
{
	struct pod_auth	 a;
	struct pod_ctx	 x;
	cJSON		*p;

	p = obj("{\"metadata\":{\"namespace\":\"ns1\"},\"spec\":{"
	    "\"imagePullSecrets\":[{\"name\":\"missing\"},{\"name\":"
	    "\"regcred\"},{\"name\":\"hubcfg\"}]}}");
	ctx_init(&x, p);
	CHECK(pod_env_pull_auth(&x, "registry.example:5000/app:1", &a) == 0);
	CHECK_STR(a.username, "user");
	CHECK_STR(a.password, "pass");
	CHECK_STR(a.server, "registry.example:5000");
	pod_auth_clear(&a);
	CHECK(pod_env_pull_auth(&x, "busybox:1.36", &a) == 0);
	CHECK_STR(a.username, "hub");
	CHECK_STR(a.password, "pw");
	pod_auth_clear(&a);
	CHECK(pod_env_pull_auth(&x, "other.example/app", &a) == 1);
	CHECK(a.username == NULL);
	cJSON_Delete(p);
}

int
main(void)
{
	unit_init();
	test_pull_auth();
	test_expand();
	test_build();
	test_errors();
	test_fields();
	test_expand_list();
	return unit_done();
}
