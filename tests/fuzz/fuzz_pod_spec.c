/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of what a pod brings from its manifest or from the
 * apiserver: the input is a manifest (YAML or JSON) that goes through the
 * static pod builder, the spec checks, the QoS class, each container's
 * resources, image reference, pull policy, hash and environment (with a
 * configmap and a secret to read), the DNS config, and the status built
 * for it with and without a running instance; the status must be JSON
 * again. The same bytes, as a string, go through the quantity, base64,
 * $(VAR) expansion and resolv.conf parsers. Any crash, sanitizer report or
 * abort() is a bug. Build with clang: ./configure --enable-fuzzing
 * CC=clang; run: tests/fuzz/fuzz_pod_spec tests/fuzz/corpus/pod_spec.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "pod/pod_int.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One configmap and one secret, whatever is asked for. */
static cJSON *
fuzz_lookup(const char *resource, const char *ns, const char *name,
    void *arg)
{
	const char	*text, *errstr;

	if (strcmp(resource, "secrets") == 0)
		text = "{\"data\":{\"k\":\"dmFsdWU=\",\"bad\":\"%%%\"}}";
	else
		text = "{\"data\":{\"k\":\"value\",\"A\":\"$(k)\"}}";
	return json_parse(text, strlen(text), 4096, &errstr);
}

/* The parsers that take a plain string. */
static void
fuzz_strings(const char *s)
{
	struct pod_envs	 e = { NULL, 0 };
	struct pod_dns	 d;
	int64_t		 v;
	size_t		 n;
	cJSON		*p;
	int		 fb;

	pod_quantity_milli(s, &v);
	pod_quantity_value(s, &v);
	pod_spec_image_valid(s);
	free(pod_spec_base64(s, &n));
	pod_envs_set(&e, "A", s);
	free(pod_env_expand(s, &e));
	pod_envs_clear(&e);
	p = cJSON_CreateObject();
	pod_spec_dns(p, "10.0.0.10", "cluster.local", s, &d, &fb);
	pod_dns_clear(&d);
	cJSON_Delete(p);
}

/* Everything a container of the pod goes through. */
static void
fuzz_container(const struct pod_ctx *x, const cJSON *c)
{
	struct pod_resources	 r;
	struct pod_envs		 env;
	char			 hash[17], err[256];
	size_t			 n, i;
	char			**v;

	pod_spec_linux_resources(c, pod_spec_qos(x->pod), 1LL << 30, &r);
	pod_spec_image_valid(json_get_string(c, "image"));
	pod_spec_pull_policy(c);
	pod_spec_container_hash(c, hash);
	if (pod_env_build(x, c, &env, err, sizeof(err)) == 0) {
		v = pod_env_expand_list(json_get(c, "command"), &env, &n);
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
		pod_envs_clear(&env);
	}
}

/* The status of the pod; it must print and parse again. */
static void
fuzz_status(const cJSON *pod, const struct pod_observed *o)
{
	struct pod_status_in	 in;
	const char		*errstr;
	cJSON			*st, *again;
	char			*text;

	memset(&in, 0, sizeof(in));
	in.pod = pod;
	in.obs = o;
	in.host_ip = "192.0.2.1";
	in.now = 1700000000;
	st = pod_status_build(&in);
	text = json_print(st);
	if ((again = json_parse(text, strlen(text), JSON_MAX_DOCUMENT,
	    &errstr)) == NULL)
		abort();
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(st);
}

/* An observation with one running instance of the first container. */
static void
fuzz_observed(const cJSON *pod, struct pod_observed *o)
{
	const char	*name;

	memset(o, 0, sizeof(*o));
	name = json_get_string(cJSON_GetArrayItem(json_get(pod,
	    "spec.containers"), 0), "name");
	if (name == NULL)
		return;
	o->c = calloc(1, sizeof(*o->c));
	o->nc = 1;
	o->c[0].id = strdup("id");
	o->c[0].sandbox_id = strdup("sb");
	o->c[0].name = strdup(name);
	o->c[0].state = POD_CSTATE_RUNNING;
	o->c[0].have_status = 1;
	o->sb = calloc(1, sizeof(*o->sb));
	o->nsb = 1;
	o->sb[0].id = strdup("sb");
	o->sb[0].ready = 1;
	o->sb[0].ip = strdup("10.0.0.2");
}

/* Once before the first input: cJSON on xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pod_observed	 o;
	struct pod_ctx		 x;
	const cJSON		*c;
	char			 err[512], *s, *host;
	cJSON			*m;
	struct pod_dns		 d;
	int			 fb;

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_strings(s);
	free(s);
	if ((m = pod_manifest_parse((const char *)data, size, err,
	    sizeof(err))) == NULL)
		return 0;
	if (pod_static_pod(m, "node", "/m/pod.yaml", err, sizeof(err)) ==
	    NULL) {
		cJSON_Delete(m);
		return 0;
	}
	pod_spec_validate(m, err, sizeof(err));
	pod_spec_grace(m);
	pod_spec_restart(m);
	host = pod_spec_hostname(m);
	free(host);
	pod_spec_dns(m, "10.0.0.10", "cluster.local", "nameserver 1.1.1.1\n",
	    &d, &fb);
	pod_dns_clear(&d);
	memset(&x, 0, sizeof(x));
	x.pod = m;
	x.node_name = "node";
	x.host_ip = "192.0.2.1";
	x.node_cpu_milli = 2000;
	x.node_mem = 1LL << 30;
	x.lookup = fuzz_lookup;
	cJSON_ArrayForEach(c, json_get(m, "spec.initContainers"))
		fuzz_container(&x, c);
	cJSON_ArrayForEach(c, json_get(m, "spec.containers"))
		fuzz_container(&x, c);
	memset(&o, 0, sizeof(o));
	fuzz_status(m, &o);
	fuzz_observed(m, &o);
	fuzz_status(m, &o);
	pod_observed_clear(&o);
	cJSON_Delete(m);
	return 0;
}
