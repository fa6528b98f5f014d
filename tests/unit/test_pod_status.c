/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod status from observed containers: phases for each restart policy,
 * init containers, waiting reasons, last states, conditions with stable
 * transition times, IPs and the QoS class.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pod/pod_int.h"
#include "unit.h"

#define SEC	1000000000LL

static cJSON *
obj(const char *json)
{
	const char	*errstr;

	return json_parse(json, strlen(json), 1 << 20, &errstr);
}

/* Adds an instance to the observed state. */
static struct pod_cinst *
inst(struct pod_observed *o, const char *name, uint32_t attempt,
    enum pod_cstate st, int32_t code)
{
	struct pod_cinst	*c;
	char			 id[64];

	o->c = realloc(o->c, (o->nc + 1) * sizeof(*o->c));
	c = &o->c[o->nc++];
	memset(c, 0, sizeof(*c));
	snprintf(id, sizeof(id), "%s-%u", name, attempt);
	c->id = strdup(id);
	c->name = strdup(name);
	c->attempt = attempt;
	c->state = st;
	c->exit_code = code;
	c->created_ns = (1000 + attempt * 10) * SEC;
	c->started_ns = c->created_ns + SEC;
	if (st == POD_CSTATE_EXITED)
		c->finished_ns = c->started_ns + 5 * SEC;
	c->image_ref = strdup("sha256:abc");
	c->have_status = 1;
	return c;
}

static void
sandbox(struct pod_observed *o, const char *ip)
{
	o->sb = calloc(1, sizeof(*o->sb));
	o->nsb = 1;
	o->sb[0].id = strdup("sb1");
	o->sb[0].ready = 1;
	o->sb[0].ip = strdup(ip);
}

/* Builds the status of pod p. */
static cJSON *
build(cJSON *p, struct pod_observed *o, struct pod_cinfo *info, size_t n,
    const cJSON *prev)
{
	struct pod_status_in	in;

	memset(&in, 0, sizeof(in));
	in.pod = p;
	in.obs = o;
	in.info = info;
	in.ninfo = n;
	in.host_ip = "192.0.2.7";
	in.prev = prev;
	in.now = 1700000000;
	return pod_status_build(&in);
}

/* The status of condition type. */
static const char *
cond(const cJSON *st, const char *type)
{
	const cJSON	*c;

	cJSON_ArrayForEach(c, json_get(st, "conditions"))
		if (strcmp(json_get_string(c, "type"), type) == 0)
			return json_get_string(c, "status");
	return NULL;
}

static const cJSON *
cstat(const cJSON *st, int i)
{
	return cJSON_GetArrayItem(json_get(st, "containerStatuses"), i);
}

static void
test_running(void)
{
	struct pod_observed	 o;
	struct pod_cinfo	 info[1] = { { "web", NULL, NULL, 1, 1 } };
	cJSON			*p, *st, *st2;
	int64_t			 v;

	memset(&o, 0, sizeof(o));
	p = obj("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
	    "[{\"name\":\"web\",\"image\":\"busybox\"}]}}");
	sandbox(&o, "10.88.0.3");
	inst(&o, "web", 0, POD_CSTATE_EXITED, 137);
	inst(&o, "web", 1, POD_CSTATE_RUNNING, 0);
	st = build(p, &o, info, 1, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Running");
	CHECK_STR(cond(st, "Ready"), "True");
	CHECK_STR(cond(st, "ContainersReady"), "True");
	CHECK_STR(cond(st, "Initialized"), "True");
	CHECK_STR(cond(st, "PodScheduled"), "True");
	CHECK(json_get(cstat(st, 0), "state.running.startedAt") != NULL);
	CHECK(json_get_int(cstat(st, 0), "lastState.terminated.exitCode",
	    &v) == 0 && v == 137);
	CHECK_STR(json_get_string(cstat(st, 0), "lastState.terminated.reason"),
	    "Error");
	CHECK(json_get_int(cstat(st, 0), "restartCount", &v) == 0 && v == 1);
	CHECK_STR(json_get_string(cstat(st, 0), "containerID"),
	    "containerd://web-1");
	CHECK_STR(json_get_string(cstat(st, 0), "imageID"), "sha256:abc");
	CHECK_STR(json_get_string(cstat(st, 0), "image"), "busybox");
	CHECK(json_get_bool(cstat(st, 0), "ready", 0) == 1);
	CHECK(json_get_bool(cstat(st, 0), "started", 0) == 1);
	CHECK_STR(json_get_string(st, "podIP"), "10.88.0.3");
	CHECK_STR(json_get_string(st, "hostIP"), "192.0.2.7");
	CHECK_STR(json_get_string(st, "qosClass"), "BestEffort");
	CHECK(json_get_string(st, "startTime") != NULL);

	/* readiness lost: Ready False with the container named */
	info[0].ready = 0;
	st2 = build(p, &o, info, 1, st);
	CHECK_STR(cond(st2, "Ready"), "False");
	CHECK(strstr(json_get_string(cJSON_GetArrayItem(json_get(st2,
	    "conditions"), 2), "message"), "[web]") != NULL);
	CHECK_STR(json_get_string(st2, "startTime"), json_get_string(st,
	    "startTime"));
	cJSON_Delete(st2);
	cJSON_Delete(st);
	cJSON_Delete(p);
	pod_observed_clear(&o);
}

static void
test_crashloop(void)
{
	struct pod_observed	 o;
	struct pod_cinfo	 info[1] = { { "c", "CrashLoopBackOff",
				    "back-off 10s restarting failed container",
				    0, 0 } };
	cJSON			*p, *st;
	int64_t			 v;

	memset(&o, 0, sizeof(o));
	p = obj("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
	    "\"x\"}]}}");
	sandbox(&o, "10.88.0.4");
	inst(&o, "c", 2, POD_CSTATE_EXITED, 1);
	st = build(p, &o, info, 1, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Running");
	CHECK_STR(json_get_string(cstat(st, 0), "state.waiting.reason"),
	    "CrashLoopBackOff");
	CHECK(json_get_int(cstat(st, 0), "lastState.terminated.exitCode",
	    &v) == 0 && v == 1);
	CHECK(json_get_int(cstat(st, 0), "restartCount", &v) == 0 && v == 2);
	CHECK_STR(cond(st, "Ready"), "False");
	cJSON_Delete(st);
	cJSON_Delete(p);
	pod_observed_clear(&o);
}

static void
test_completion(void)
{
	struct pod_observed	 o;
	cJSON			*p, *st, *done;

	memset(&o, 0, sizeof(o));
	p = obj("{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":["
	    "{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":"
	    "\"x\"}]}}");
	sandbox(&o, "10.88.0.5");
	inst(&o, "a", 0, POD_CSTATE_EXITED, 0);
	inst(&o, "b", 0, POD_CSTATE_RUNNING, 0);
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Running");
	cJSON_Delete(st);
	o.c[1].state = POD_CSTATE_EXITED;
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Succeeded");
	CHECK_STR(json_get_string(cstat(st, 0), "state.terminated.reason"),
	    "Completed");
	CHECK_STR(cond(st, "Ready"), "False");
	done = st;
	o.c[1].exit_code = 2;
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Failed");
	cJSON_Delete(st);
	/* a terminal phase stays */
	st = build(p, &o, NULL, 0, done);
	CHECK_STR(json_get_string(st, "phase"), "Succeeded");
	cJSON_Delete(st);
	cJSON_Delete(done);
	/* OnFailure: a failure restarts, so Running */
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"restartPolicy\":\"OnFailure\",\"containers\":["
	    "{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":"
	    "\"x\"}]}}");
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Running");
	cJSON_Delete(st);
	cJSON_Delete(p);
	pod_observed_clear(&o);
}

static void
test_init(void)
{
	struct pod_observed	 o;
	cJSON			*p, *st;

	memset(&o, 0, sizeof(o));
	p = obj("{\"spec\":{\"initContainers\":[{\"name\":\"i1\",\"image\":"
	    "\"x\"},{\"name\":\"i2\",\"image\":\"x\"}],\"containers\":["
	    "{\"name\":\"c\",\"image\":\"x\"}]}}");
	sandbox(&o, "10.88.0.6");
	inst(&o, "i1", 0, POD_CSTATE_EXITED, 0);
	inst(&o, "i2", 0, POD_CSTATE_RUNNING, 0);
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Pending");
	CHECK_STR(cond(st, "Initialized"), "False");
	CHECK(strstr(json_get_string(cJSON_GetArrayItem(json_get(st,
	    "conditions"), 1), "message"), "[i2]") != NULL);
	CHECK_STR(json_get_string(cstat(st, 0), "state.waiting.reason"),
	    "PodInitializing");
	CHECK(cJSON_GetArraySize(json_get(st, "initContainerStatuses")) == 2);
	cJSON_Delete(st);
	o.c[1].state = POD_CSTATE_EXITED;
	inst(&o, "c", 0, POD_CSTATE_RUNNING, 0);
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Running");
	CHECK_STR(cond(st, "Initialized"), "True");
	cJSON_Delete(st);
	/* a failed init container with Never fails the pod */
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"restartPolicy\":\"Never\",\"initContainers\":["
	    "{\"name\":\"i1\",\"image\":\"x\"}],\"containers\":["
	    "{\"name\":\"c\",\"image\":\"x\"}]}}");
	pod_observed_clear(&o);
	sandbox(&o, "10.88.0.6");
	inst(&o, "i1", 0, POD_CSTATE_EXITED, 3);
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Failed");
	cJSON_Delete(st);
	cJSON_Delete(p);
	pod_observed_clear(&o);
}

static void
test_waiting(void)
{
	struct pod_observed	 o;
	struct pod_cinfo	 info[1] = { { "c", "InvalidImageName",
				    "invalid image name", 0, 0 } };
	cJSON			*p, *st;

	memset(&o, 0, sizeof(o));
	p = obj("{\"spec\":{\"hostNetwork\":true,\"containers\":["
	    "{\"name\":\"c\",\"image\":\"Bad!\",\"resources\":{\"limits\":"
	    "{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1\","
	    "\"memory\":\"1Gi\"}}}]}}");
	st = build(p, &o, info, 1, NULL);
	CHECK_STR(json_get_string(st, "phase"), "Pending");
	CHECK_STR(json_get_string(cstat(st, 0), "state.waiting.reason"),
	    "InvalidImageName");
	CHECK(json_get(st, "podIP") == NULL);
	CHECK_STR(json_get_string(st, "qosClass"), "Guaranteed");
	cJSON_Delete(st);
	/* host network: the pod IP is the host's */
	sandbox(&o, "");
	st = build(p, &o, NULL, 0, NULL);
	CHECK_STR(json_get_string(st, "podIP"), "192.0.2.7");
	CHECK_STR(json_get_string(cstat(st, 0), "state.waiting.reason"),
	    "ContainerCreating");
	cJSON_Delete(st);
	cJSON_Delete(p);
	pod_observed_clear(&o);
}

int
main(void)
{
	unit_init();
	test_running();
	test_crashloop();
	test_completion();
	test_init();
	test_waiting();
	return unit_done();
}
