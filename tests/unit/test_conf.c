/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading: every fixture of tests/conf/good loads (with
 * exactly the warnings of its .expect file, if any) and every one of
 * tests/conf/bad fails with exactly the errors of its .expect file, the
 * file name written as FILE. Also durations, defaults, empty files, diffs,
 * the JSON dump and the size limit.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/conf.h"
#include "unit.h"

/* Reads a whole file into a new string, NULL if it does not exist. */
static char *
test_read(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = calloc(1, len + 1);
	if (fread(buf, 1, len, fp) != (size_t)len)
		buf[0] = '\0';
	fclose(fp);
	return buf;
}

/* Joins messages as lines, the leading file name replaced by FILE. */
static char *
test_msgs(const struct conf_msgs *m, const char *path)
{
	size_t	 i, len = strlen(path), size = 1;
	char	*out;

	for (i = 0; i < m->n; i++)
		size += strlen(m->v[i].text) + 8;
	out = calloc(1, size);
	for (i = 0; i < m->n; i++) {
		if (strncmp(m->v[i].text, path, len) == 0) {
			strcat(out, "FILE");
			strcat(out, m->v[i].text + len);
		} else
			strcat(out, m->v[i].text);
		strcat(out, "\n");
	}
	return out;
}

/* The expected lines of dir/name.expect without blank lines, or "". */
static char *
test_expect(const char *dir, const char *name)
{
	char	 path[4096], *s, *o, *p;

	snprintf(path, sizeof(path), "%s/%.*s.expect", dir,
	    (int)(strlen(name) - 5), name);
	if ((s = test_read(path)) == NULL)
		return strdup("");
	for (p = o = s; *p != '\0'; p++)
		if (*p != '\n' || (o != s && o[-1] != '\n'))
			*o++ = *p;
	*o = '\0';
	return s;
}

/* Loads each *.yaml of a fixture directory and compares its messages. */
static void
test_fixtures(const char *rel, int good)
{
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c;
	struct dirent		*de;
	DIR			*d;
	char			 dir[2048], path[4096], *want, *got;
	size_t			 len, n = 0;

	snprintf(dir, sizeof(dir), "%s", unit_srcpath(rel));
	CHECK((d = opendir(dir)) != NULL);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = conf_load(path, &errs, &warns);
		want = test_expect(dir, de->d_name);
		got = test_msgs(good ? &warns : &errs, path);
		if (good) {
			CHECK(c != NULL);
			CHECK(errs.n == 0);
		} else
			CHECK(c == NULL);
		if (strcmp(want, got) != 0)
			fprintf(stderr, "%s: want:\n%sgot:\n%s", path, want,
			    got);
		CHECK_STR(got, want);
		free(want);
		free(got);
		conf_free(c);
		conf_msgs_clear(&errs);
		conf_msgs_clear(&warns);
	}
	closedir(d);
	CHECK(n >= 3);
}

/* Loads a string that must be valid. */
static struct conf *
test_load(const char *text)
{
	struct conf_msgs	 errs = { NULL, 0 };
	struct conf		*c;
	size_t			 i;

	c = conf_load_buf("t.yaml", text, strlen(text), &errs, NULL);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.v[i].text);
	CHECK(c != NULL);
	conf_msgs_clear(&errs);
	return c;
}

/* The one error a string must fail with. */
static void
test_fails(const char *text, const char *want)
{
	struct conf_msgs	 errs = { NULL, 0 };
	struct conf		*c;

	c = conf_load_buf("t.yaml", text, strlen(text), &errs, NULL);
	CHECK(c == NULL);
	CHECK(errs.n == 1);
	if (errs.n > 0)
		CHECK_STR(errs.v[0].text, want);
	conf_free(c);
	conf_msgs_clear(&errs);
}

static void
test_doc_values(void)
{
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c;

	c = conf_load(unit_srcpath("tests/conf/good/edgesite-doc.yaml"),
	    &errs, &warns);
	CHECK(c != NULL && errs.n == 0 && warns.n == 7);
	if (c == NULL)
		return;
	CHECK_STR(c->kube_master[0], "http://localhost:8080");
	CHECK(c->kube_master[1] == NULL);
	CHECK_STR(c->kube_namespace, "default");
	CHECK(c->kube_node_update_frequency_ms == 10000);
	CHECK(c->node_status_update_frequency_ms == 10000);
	CHECK(c->runtime_request_timeout_ms == 2000);
	CHECK(c->image_pull_progress_deadline_ms == 60000);
	CHECK(c->image_gc_high_threshold == 80);
	CHECK(c->image_gc_low_threshold == 40);
	CHECK_STR(c->remote_image_endpoint, "unix:///var/run/dockershim.sock");
	CHECK_STR(c->podsandbox_image, "k8s.gcr.io/pause");
	CHECK_STR(c->hostname_override,
	    "fb4ebb70-2783-42b8-b3ef-63e2fd6d242e");
	CHECK_STR(c->node_ip, "");
	CHECK(c->mqtt_retain == 0 && c->mqtt_mode == CONF_MQTT_INTERNAL);
	CHECK(c->cgroup_driver == CONF_CGROUP_CGROUPFS);
	CHECK(conf_line(c, conf_find("mqtt.qos")) == 5);
	CHECK(conf_line(c, conf_find("edgesite.listen")) == 0);
	conf_free(c);
	conf_msgs_clear(&errs);
	conf_msgs_clear(&warns);
}

static void
test_new_layout_values(void)
{
	struct conf	*c;

	c = conf_load(unit_srcpath("tests/conf/good/controller-edged.yaml"),
	    NULL, NULL);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_STR(c->kube_master[0], "https://10.0.0.1:6443");
	CHECK_STR(c->kube_master[1], "https://10.0.0.2:6443");
	CHECK(c->kube_master[2] == NULL);
	CHECK_STR(c->kube_kubeconfig, "/etc/edgesite/kubeconfig");
	CHECK_STR(c->hostname_override, "site-42");
	CHECK(c->kube_node_update_frequency_ms == 90000);
	/* a bare path is a unix:// URL */
	CHECK_STR(c->remote_runtime_endpoint,
	    "unix:///run/containerd/containerd.sock");
	CHECK_STR(c->remote_image_endpoint, c->remote_runtime_endpoint);
	CHECK(c->cgroup_driver == CONF_CGROUP_SYSTEMD);
	CHECK(c->mqtt_mode == CONF_MQTT_EXTERNAL && c->mqtt_retain == 1);
	CHECK(c->log_level == 2);
	CHECK_STR(c->trace, "kube,cri");
	conf_free(c);

	/* the image endpoint follows a runtime endpoint the file sets */
	c = test_load("edged:\n  remote-runtime-endpoint: unix:///tmp/r.sock\n");
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_STR(c->remote_image_endpoint, "unix:///tmp/r.sock");
	conf_free(c);

	c = test_load("controller:\n  kube:\n    master: \"https://a:1, "
	    "http://b\"\n");
	if (c != NULL) {
		CHECK_STR(c->kube_master[0], "https://a:1");
		CHECK_STR(c->kube_master[1], "http://b");
		CHECK(c->kube_master[2] == NULL);
	}
	conf_free(c);
}

static void
test_durations(void)
{
	const char	*errstr = NULL;
	int64_t		 ms = -1;

	CHECK(conf_parse_duration("10", &ms, &errstr) == 0 && ms == 10000);
	CHECK(conf_parse_duration("10s", &ms, &errstr) == 0 && ms == 10000);
	CHECK(conf_parse_duration("250ms", &ms, &errstr) == 0 && ms == 250);
	CHECK(conf_parse_duration("5m", &ms, &errstr) == 0 && ms == 300000);
	CHECK(conf_parse_duration("1h", &ms, &errstr) == 0 && ms == 3600000);
	CHECK(conf_parse_duration("1m30s", &ms, &errstr) == 0 && ms == 90000);
	CHECK(conf_parse_duration("1h2m3s4ms", &ms, &errstr) == 0 &&
	    ms == 3723004);
	CHECK(conf_parse_duration("0", &ms, &errstr) == 0 && ms == 0);
	CHECK(conf_parse_duration("", &ms, &errstr) == -1);
	CHECK(conf_parse_duration("s", &ms, &errstr) == -1);
	CHECK(conf_parse_duration("-1s", &ms, &errstr) == -1);
	CHECK(conf_parse_duration("10 s", &ms, &errstr) == -1);
	CHECK(conf_parse_duration("1.5s", &ms, &errstr) == -1);
	CHECK(conf_parse_duration("10d", &ms, &errstr) == -1);
	CHECK_STR(errstr, "bad duration unit \"d\" (use ms, s, m or h)");
	CHECK(conf_parse_duration("1m30", &ms, &errstr) == -1);
	CHECK_STR(errstr, "missing duration unit (use ms, s, m or h)");
	CHECK(conf_parse_duration("3000000000h", &ms, &errstr) == -1);
	CHECK_STR(errstr, "duration too large");
	CHECK(conf_parse_duration("99999999999999999999s", &ms,
	    &errstr) == -1);
	CHECK_STR(errstr, "duration too large");
}

static void
test_defaults(void)
{
	struct conf	*c = conf_defaults();

	CHECK(c->kube_master != NULL && c->kube_master[0] == NULL);
	CHECK_STR(c->kube_kubeconfig, "");
	CHECK(c->node_status_update_frequency_ms == 10000);
	CHECK(c->runtime_request_timeout_ms == 120000);
	CHECK(c->image_pull_progress_deadline_ms == 60000);
	CHECK_STR(c->remote_runtime_endpoint,
	    "unix:///run/containerd/containerd.sock");
	CHECK_STR(c->remote_image_endpoint, c->remote_runtime_endpoint);
	CHECK_STR(c->podsandbox_image, "registry.k8s.io/pause:3.9");
	CHECK(c->max_dead_containers == 1);
	CHECK(c->image_gc_high_threshold == 85);
	CHECK(c->image_gc_low_threshold == 80);
	CHECK(c->mqtt_mode == 0 && c->mqtt_qos == 0 && c->mqtt_retain == 0);
	CHECK_STR(c->mqtt_server, "tcp://127.0.0.1:1883");
	CHECK_STR(c->mqtt_internal_server, "tcp://127.0.0.1:1884");
	CHECK(c->mqtt_session_queue_size == 100);
	CHECK_STR(c->state_dir, "/var/lib/edgesite");
	CHECK_STR(c->api_listen, "127.0.0.1:10550");
	CHECK_STR(c->static_pod_dir, "/etc/edgesite/manifests");
	CHECK(c->log_level == 1);
	CHECK_STR(c->trace, "");
	conf_free(c);
}

/* Counts diff callbacks and remembers the last one. */
struct test_diff {
	int	 n;
	char	 last[256];
};

static void
test_diff_cb(const struct conf_option *o, const char *was, const char *now,
    void *arg)
{
	struct test_diff	*d = arg;

	d->n++;
	snprintf(d->last, sizeof(d->last), "%s %s -> %s%s", o->path, was,
	    now, o->flags & CONF_F_RESTART ? " (restart)" : "");
}

static void
test_empty_and_null(void)
{
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c, *d;
	struct test_diff	 td = { 0, "" };

	d = conf_defaults();
	c = conf_load_buf("e.yaml", "", 0, &errs, &warns);
	CHECK(c != NULL && errs.n == 0 && warns.n == 0);
	conf_diff(d, c, test_diff_cb, &td);
	CHECK(td.n == 0);
	conf_free(c);
	c = test_load("# only a comment\n\n");
	conf_free(c);
	c = test_load("~\n");
	conf_free(c);
	c = conf_load(NULL, &errs, &warns);
	CHECK(c != NULL && errs.n == 0);
	conf_free(c);

	/* empty or null values take the default */
	c = test_load("controller:\n  kube:\n    master:\n    qps: ~\n"
	    "edged:\n  node-ip: \"\"\n  podsandbox-image:\n"
	    "  node-status-update-frequency: ''\nmqtt:\nedgesite: null\n");
	if (c != NULL) {
		conf_diff(d, c, test_diff_cb, &td);
		CHECK(td.n == 0);
		CHECK(conf_line(c, conf_find("edged.node-ip")) == 6);
	}
	conf_free(c);
	conf_free(d);
}

static void
test_diff(void)
{
	struct conf		*a, *b;
	struct test_diff	 td = { 0, "" };

	a = test_load("edgesite:\n  log-level: debug\n");
	b = test_load("edgesite:\n  log-level: warn\n");
	conf_diff(a, b, test_diff_cb, &td);
	CHECK(td.n == 1);
	CHECK_STR(td.last, "edgesite.log-level debug -> warn");
	conf_free(b);

	td.n = 0;
	b = test_load("edgesite:\n  log-level: debug\ncontroller:\n  edged:\n"
	    "    cluster-domain: example.local\n");
	conf_diff(a, b, test_diff_cb, &td);
	CHECK(td.n == 1);
	CHECK_STR(td.last, "edged.cluster-domain  -> example.local "
	    "(restart)");
	conf_free(b);

	td.n = 0;
	b = test_load("edgesite:\n  log-level: debug\ncontroller:\n  kube:\n"
	    "    master: [http://a, http://b]\n");
	conf_diff(a, b, test_diff_cb, &td);
	CHECK(td.n == 1);
	CHECK_STR(td.last, "controller.kube.master  -> http://a,http://b "
	    "(restart)");
	conf_free(b);
	conf_free(a);
}

static void
test_format(void)
{
	struct conf		*c = conf_defaults();
	struct conf_option	 secret;
	char			*s;

	s = conf_format(c, conf_find("edged.runtime-request-timeout"));
	CHECK_STR(s, "2m");
	free(s);
	s = conf_format(c, conf_find("controller.edged.cgroup-driver"));
	CHECK_STR(s, "cgroupfs");
	free(s);
	s = conf_format(c, conf_find("mqtt.retain"));
	CHECK_STR(s, "false");
	free(s);
	s = conf_format(c, conf_find("edged.image-gc-high-threshold"));
	CHECK_STR(s, "85");
	free(s);

	/* a secret row is redacted whatever its value */
	secret = *conf_find("controller.kube.namespace");
	secret.flags |= CONF_F_SECRET;
	s = conf_format(c, &secret);
	CHECK_STR(s, "<redacted>");
	free(s);
	conf_free(c);
}

static void
test_dump_json(void)
{
	const struct conf_option	*o;
	struct conf			*c;
	cJSON				*j, *v;
	char				*s;

	c = conf_load(unit_srcpath("tests/conf/good/controller-edged.yaml"),
	    NULL, NULL);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	s = conf_dump_json(c);
	j = cJSON_Parse(s);
	CHECK(j != NULL && cJSON_IsObject(j));
	CHECK(cJSON_GetArraySize(j) > 30);
	v = cJSON_GetObjectItemCaseSensitive(j, "controller.kube.master");
	CHECK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2);
	v = cJSON_GetObjectItemCaseSensitive(j, "mqtt.qos");
	CHECK(cJSON_IsNumber(v) && v->valuedouble == 1);
	v = cJSON_GetObjectItemCaseSensitive(j, "mqtt.retain");
	CHECK(cJSON_IsTrue(v));
	v = cJSON_GetObjectItemCaseSensitive(j,
	    "edged.node-status-update-frequency");
	CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "20s") == 0);
	v = cJSON_GetObjectItemCaseSensitive(j, "edgesite.log-level");
	CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "debug") == 0);
	CHECK(cJSON_GetObjectItemCaseSensitive(j, "edged.docker-address") ==
	    NULL);
	for (o = conf_table; o < conf_table + conf_table_len; o++) {
		v = cJSON_GetObjectItemCaseSensitive(j, o->path);
		CHECK((v != NULL) == (o->type != CONF_T_IGNORED));
		if (o->flags & CONF_F_SECRET)
			CHECK(cJSON_IsString(v) &&
			    strcmp(v->valuestring, "<redacted>") == 0);
	}
	cJSON_Delete(j);
	free(s);
	conf_free(c);
}

static void
test_limits(void)
{
	struct conf_msgs	 errs = { NULL, 0 };
	struct conf		*c;
	char			*big, path[] = "/tmp/test_conf.XXXXXX", *want;
	size_t			 len = 1024 * 1024 + 1;
	FILE			*fp;
	int			 fd;

	big = malloc(len);
	memset(big, '#', len);
	c = conf_load_buf("big.yaml", big, len, &errs, NULL);
	CHECK(c == NULL && errs.n == 1);
	CHECK_STR(errs.v[0].text, "big.yaml: larger than 1048576 bytes");
	conf_msgs_clear(&errs);

	CHECK((fd = mkstemp(path)) != -1);
	fp = fdopen(fd, "w");
	fwrite(big, 1, len, fp);
	fclose(fp);
	c = conf_load(path, &errs, NULL);
	CHECK(c == NULL && errs.n == 1);
	if (asprintf(&want, "%s: larger than 1048576 bytes", path) != -1) {
		CHECK_STR(errs.v[0].text, want);
		free(want);
	}
	conf_msgs_clear(&errs);
	unlink(path);
	free(big);

	/* a flood of errors stops after 50 */
	big = calloc(1, 100 * 16);
	for (fd = 0; fd < 100; fd++)
		snprintf(big + strlen(big), 16, "k%d: 1\n", fd);
	c = conf_load_buf("many.yaml", big, strlen(big), &errs, NULL);
	CHECK(c == NULL && errs.n == 51);
	CHECK_STR(errs.v[49].text, "many.yaml:50:1: unknown key \"k49\"");
	CHECK_STR(errs.v[50].text, "many.yaml: too many errors, giving up");
	conf_msgs_clear(&errs);
	free(big);

	c = conf_load("/nonexistent/edgeSite.yaml", &errs, NULL);
	CHECK(c == NULL && errs.n == 1);
	CHECK_STR(errs.v[0].text,
	    "/nonexistent/edgeSite.yaml: No such file or directory");
	conf_msgs_clear(&errs);
}

static void
test_values(void)
{
	test_fails("mqtt:\n  qos: \"abc\"\n",
	    "t.yaml:2:8: mqtt.qos: invalid value \"abc\": not an integer");
	test_fails("edgesite:\n  listen: 127.0.0.1:70000\n",
	    "t.yaml:2:11: edgesite.listen: invalid value \"127.0.0.1:70000\": "
	    "port 70000 out of range 1..65535");
	test_fails("edgesite:\n  listen: \"[::1\"\n",
	    "t.yaml:2:11: edgesite.listen: invalid value \"[::1\": bad IPv6 "
	    "address");
	test_fails("controller:\n  kube:\n    master: \"http://a,,http://b\"\n",
	    "t.yaml:3:13: controller.kube.master: invalid value "
	    "\"http://a,,http://b\": empty URL in the list");
	test_fails("controller:\n  kube:\n    master: localhost:8080\n",
	    "t.yaml:3:13: controller.kube.master: invalid value "
	    "\"localhost:8080\": not a URL (want http or https://...)");
	test_fails("controller:\n  kube:\n    kubeconfig: [a]\n",
	    "t.yaml:3:17: controller.kube.kubeconfig: expected a path, not "
	    "a sequence");
	test_fails("mqtt:\n  server: \"tcp://user@host:1\"\n",
	    "t.yaml:2:11: mqtt.server: invalid value \"tcp://user@host:1\": "
	    "user info is not allowed in the URL");
	test_fails("edged:\n  node-ip: \"a\\x01b\"\n",
	    "t.yaml:2:12: edged.node-ip: invalid value \"a\\x01b\": not an IP "
	    "address");
}

int
main(void)
{
	unit_init();
	test_fixtures("tests/conf/good", 1);
	test_fixtures("tests/conf/bad", 0);
	test_doc_values();
	test_new_layout_values();
	test_durations();
	test_defaults();
	test_empty_and_null();
	test_diff();
	test_format();
	test_dump_json();
	test_limits();
	test_values();
	return unit_done();
}
