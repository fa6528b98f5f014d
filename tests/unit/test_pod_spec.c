/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a pod spec means: quantities, QoS classes, cgroup parents, Linux
 * resources and OOM scores, DNS, hostnames, image references, pull
 * policies, base64 and validation, against what a kubelet computes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pod/pod_int.h"
#include "unit.h"

static cJSON *
pod(const char *json)
{
	const char	*errstr;
	cJSON		*p = json_parse(json, strlen(json), 1 << 20, &errstr);

	if (p == NULL)
		fprintf(stderr, "bad test JSON: %s\n", json);
	return p;
}

static int64_t
milli(const char *s)
{
	int64_t	v = -12345;

	if (pod_quantity_milli(s, &v) == -1)
		return -1;
	return v;
}

static void
test_quantity(void)
{
	int64_t	v;

	CHECK(milli("100m") == 100);
	CHECK(milli("0.1") == 100);
	CHECK(milli("1") == 1000);
	CHECK(milli("1.5") == 1500);
	CHECK(milli("2k") == 2000000);
	CHECK(milli("1Ki") == 1024000);
	CHECK(milli("128Mi") == 128LL * 1024 * 1024 * 1000);
	CHECK(milli("1e3") == 1000000);
	CHECK(milli("1E-3") == 1);
	CHECK(milli("1u") == 1);	/* rounded up */
	CHECK(milli("+5") == 5000);
	CHECK(milli(".5") == 500);
	CHECK(milli("-1") == -1);
	CHECK(milli("") == -1);
	CHECK(milli("m") == -1);
	CHECK(milli("1Xi") == -1);
	CHECK(milli("1 ") == -1);
	CHECK(milli("100Ei") == -1);	/* does not fit */
	CHECK(pod_quantity_value("1Gi", &v) == 0 && v == 1073741824);
	CHECK(pod_quantity_value("1500m", &v) == 0 && v == 2);
}

static void
test_qos(void)
{
	cJSON	*p;

	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
	CHECK(pod_spec_qos(p) == POD_QOS_BESTEFFORT);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{"
	    "\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
	    "\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
	CHECK(pod_spec_qos(p) == POD_QOS_GUARANTEED);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{"
	    "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},"
	    "\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
	CHECK(pod_spec_qos(p) == POD_QOS_BURSTABLE);
	cJSON_Delete(p);
	/* a second container without limits makes it burstable */
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{"
	    "\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
	    "\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},{\"name\":\"b\"}"
	    "]}}");
	CHECK(pod_spec_qos(p) == POD_QOS_BURSTABLE);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{"
	    "\"requests\":{\"memory\":\"10Mi\"}}}]}}");
	CHECK(pod_spec_qos(p) == POD_QOS_BURSTABLE);
	CHECK_STR(pod_qos_name(pod_spec_qos(p)), "Burstable");
	cJSON_Delete(p);
}

static void
test_cgroup(void)
{
	char	*s;

	s = pod_spec_cgroup_parent(POD_QOS_BURSTABLE, "ab-cd", 0);
	CHECK_STR(s, "/kubepods/burstable/podab-cd");
	free(s);
	s = pod_spec_cgroup_parent(POD_QOS_GUARANTEED, "ab-cd", 0);
	CHECK_STR(s, "/kubepods/podab-cd");
	free(s);
	s = pod_spec_cgroup_parent(POD_QOS_BESTEFFORT, "ab-cd", 1);
	CHECK_STR(s, "kubepods-besteffort-podab_cd.slice");
	free(s);
	s = pod_spec_cgroup_parent(POD_QOS_GUARANTEED, "ab-cd", 1);
	CHECK_STR(s, "kubepods-podab_cd.slice");
	free(s);
}

static void
test_resources(void)
{
	struct pod_resources	 r;
	cJSON			*c;
	int64_t			 cap = 4LL << 30;

	c = pod("{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"250m\","
	    "\"memory\":\"1Gi\"},\"limits\":{\"cpu\":\"500m\",\"memory\":"
	    "\"2Gi\"}}}");
	pod_spec_linux_resources(c, POD_QOS_BURSTABLE, cap, &r);
	CHECK(r.cpu_shares == 256);
	CHECK(r.cpu_period == 100000);
	CHECK(r.cpu_quota == 50000);
	CHECK(r.memory_limit == 2LL << 30);
	CHECK(r.oom_score_adj == 750);
	cJSON_Delete(c);
	c = pod("{\"name\":\"a\"}");
	pod_spec_linux_resources(c, POD_QOS_BESTEFFORT, cap, &r);
	CHECK(r.cpu_shares == 2 && r.cpu_quota == 0 && r.cpu_period == 0);
	CHECK(r.memory_limit == 0 && r.oom_score_adj == 1000);
	cJSON_Delete(c);
	c = pod("{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1m\","
	    "\"memory\":\"64Mi\"}}}");
	pod_spec_linux_resources(c, POD_QOS_GUARANTEED, cap, &r);
	CHECK(r.cpu_shares == 2 && r.cpu_quota == 1000);
	CHECK(r.oom_score_adj == -997);
	cJSON_Delete(c);
	/* a request above the capacity still leaves the minimum score */
	c = pod("{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":"
	    "\"8Gi\"}}}");
	pod_spec_linux_resources(c, POD_QOS_BURSTABLE, cap, &r);
	CHECK(r.oom_score_adj == 3);
	cJSON_Delete(c);
}

static void
test_dns(void)
{
	const char	*resolv = "# comment\nnameserver 192.0.2.1\n"
			    "nameserver 192.0.2.2\nsearch example.com lan\n"
			    "options ndots:2 edns0\n";
	struct pod_dns	 d;
	cJSON		*p;
	int		 fb;

	p = pod("{\"metadata\":{\"namespace\":\"ns1\"},\"spec\":{}}");
	pod_spec_dns(p, "10.0.0.10", "cluster.local", resolv, &d, &fb);
	CHECK(fb == 0);
	CHECK(d.servers.n == 1 && strcmp(d.servers.v[0], "10.0.0.10") == 0);
	CHECK(d.searches.n == 5);
	CHECK_STR(d.searches.v[0], "ns1.svc.cluster.local");
	CHECK_STR(d.searches.v[2], "cluster.local");
	CHECK_STR(d.searches.v[3], "example.com");
	CHECK(d.options.n == 1 && strcmp(d.options.v[0], "ndots:5") == 0);
	pod_dns_clear(&d);
	/* no cluster DNS: the host's */
	pod_spec_dns(p, "", "cluster.local", resolv, &d, &fb);
	CHECK(fb == 1);
	CHECK(d.servers.n == 2 && d.searches.n == 2 && d.options.n == 2);
	pod_dns_clear(&d);
	cJSON_Delete(p);
	/* host network: Default; dnsConfig appended and merged */
	p = pod("{\"spec\":{\"hostNetwork\":true,\"dnsConfig\":{"
	    "\"nameservers\":[\"192.0.2.1\",\"192.0.2.9\",\"192.0.2.10\"],"
	    "\"searches\":[\"x.test\"],\"options\":[{\"name\":\"ndots\","
	    "\"value\":\"1\"},{\"name\":\"rotate\"}]}}}");
	pod_spec_dns(p, "10.0.0.10", "cluster.local", resolv, &d, &fb);
	CHECK(fb == 0);
	CHECK(d.servers.n == 3);	/* duplicates dropped, cut at three */
	CHECK_STR(d.servers.v[2], "192.0.2.9");
	CHECK(d.searches.n == 3);
	CHECK(d.options.n == 3);
	CHECK_STR(d.options.v[0], "ndots:1");
	CHECK_STR(d.options.v[2], "rotate");
	pod_dns_clear(&d);
	cJSON_Delete(p);
	/* None: only dnsConfig */
	p = pod("{\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":{"
	    "\"nameservers\":[\"1.1.1.1\"]}}}");
	pod_spec_dns(p, "10.0.0.10", "cluster.local", resolv, &d, &fb);
	CHECK(d.servers.n == 1 && d.searches.n == 0 && d.options.n == 0);
	pod_dns_clear(&d);
	cJSON_Delete(p);
	/* ClusterFirstWithHostNet on the host network: cluster DNS */
	p = pod("{\"spec\":{\"hostNetwork\":true,\"dnsPolicy\":"
	    "\"ClusterFirstWithHostNet\"}}");
	pod_spec_dns(p, "10.0.0.10,10.0.0.11", "", NULL, &d, &fb);
	CHECK(d.servers.n == 2 && d.searches.n == 0);
	pod_dns_clear(&d);
	cJSON_Delete(p);
}

static void
test_hostname(void)
{
	cJSON	*p;
	char	*h;

	p = pod("{\"metadata\":{\"name\":\"web-1\"}}");
	h = pod_spec_hostname(p);
	CHECK_STR(h, "web-1");
	free(h);
	cJSON_Delete(p);
	p = pod("{\"metadata\":{\"name\":\"w\"},\"spec\":{\"hostname\":\"h\"}}");
	h = pod_spec_hostname(p);
	CHECK_STR(h, "h");
	free(h);
	cJSON_Delete(p);
	p = pod("{\"metadata\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaa-bbbb\"}}");
	h = pod_spec_hostname(p);
	CHECK(strlen(h) == 62);		/* 63, minus the trailing '-' */
	free(h);
	cJSON_Delete(p);
}

static void
test_image(void)
{
	cJSON	*c;

	CHECK(pod_spec_image_valid("busybox"));
	CHECK(pod_spec_image_valid("busybox:1.36"));
	CHECK(pod_spec_image_valid("localhost/edgesite/busybox:latest"));
	CHECK(pod_spec_image_valid("registry.k8s.io/pause:3.9"));
	CHECK(pod_spec_image_valid("localhost:5000/a/b_c:v1.0"));
	CHECK(pod_spec_image_valid("busybox@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!pod_spec_image_valid(""));
	CHECK(!pod_spec_image_valid("Bad Image!!"));
	CHECK(!pod_spec_image_valid("UPPER/case"));
	CHECK(!pod_spec_image_valid("busybox:"));
	CHECK(!pod_spec_image_valid("a//b"));
	CHECK(!pod_spec_image_valid("busybox@sha256:xyz"));
	c = pod("{\"image\":\"busybox\"}");
	CHECK(pod_spec_pull_policy(c) == POD_PULL_ALWAYS);
	cJSON_Delete(c);
	c = pod("{\"image\":\"busybox:latest\"}");
	CHECK(pod_spec_pull_policy(c) == POD_PULL_ALWAYS);
	cJSON_Delete(c);
	c = pod("{\"image\":\"localhost:5000/busybox\"}");
	CHECK(pod_spec_pull_policy(c) == POD_PULL_ALWAYS);
	cJSON_Delete(c);
	c = pod("{\"image\":\"busybox:1.36\"}");
	CHECK(pod_spec_pull_policy(c) == POD_PULL_IFNOTPRESENT);
	cJSON_Delete(c);
	c = pod("{\"image\":\"busybox\",\"imagePullPolicy\":\"Never\"}");
	CHECK(pod_spec_pull_policy(c) == POD_PULL_NEVER);
	cJSON_Delete(c);
}

static void
test_base64(void)
{
	size_t	 n;
	char	*s;

	s = pod_spec_base64("aGVsbG8=", &n);
	CHECK(s != NULL && n == 5 && strcmp(s, "hello") == 0);
	free(s);
	s = pod_spec_base64("aGVsbG8", &n);
	CHECK(s != NULL && n == 5);
	free(s);
	s = pod_spec_base64("", &n);
	CHECK(s != NULL && n == 0);
	free(s);
	s = pod_spec_base64("AAE=", &n);
	CHECK(s != NULL && n == 2 && s[0] == 0 && s[1] == 1);
	free(s);
	CHECK(pod_spec_base64("a$b=", &n) == NULL);
	CHECK(pod_spec_base64("aGVs=bG8", &n) == NULL);
}

static void
test_validate(void)
{
	char	 err[256];
	cJSON	*p;

	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == 0);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == -1);
	CHECK_STR(err, "the pod has no containers");
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"initContainers\":[{\"name\":\"a\",\"image\":"
	    "\"x\"}],\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "used twice") != NULL);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
	    "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}]}]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == -1);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"restartPolicy\":\"Sometimes\",\"containers\":"
	    "[{\"name\":\"a\",\"image\":\"x\"}]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == -1);
	cJSON_Delete(p);
	p = pod("{\"spec\":{\"containers\":[{\"name\":\"Bad_Name\",\"image\":"
	    "\"x\"}]}}");
	CHECK(pod_spec_validate(p, err, sizeof(err)) == -1);
	cJSON_Delete(p);
	p = pod("{\"metadata\":{\"deletionGracePeriodSeconds\":3},\"spec\":{"
	    "\"terminationGracePeriodSeconds\":10}}");
	CHECK(pod_spec_grace(p) == 3);
	cJSON_Delete(p);
	p = pod("{\"spec\":{}}");
	CHECK(pod_spec_grace(p) == 30);
	CHECK(pod_spec_restart(p) == POD_RESTART_ALWAYS);
	cJSON_Delete(p);
}

int
main(void)
{
	unit_init();
	test_quantity();
	test_qos();
	test_cgroup();
	test_resources();
	test_dns();
	test_hostname();
	test_image();
	test_base64();
	test_validate();
	return unit_done();
}
