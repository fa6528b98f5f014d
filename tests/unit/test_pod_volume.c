/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod volumes in a temporary directory: the atomic writer (create,
 * unchanged, update with a link swap, removal of keys), configMap, secret
 * (modes, never world-readable), downwardAPI, emptyDir, hostPath checks,
 * mounts with subPath and readOnly, and the teardown.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/pod_int.h"
#include "unit.h"

static char	tmpdir[256];

static cJSON *
obj(const char *json)
{
	const char	*errstr;

	return json_parse(json, strlen(json), 1 << 20, &errstr);
}

/* The contents of a file, or NULL. */
static char *
slurp(const char *path)
{
	static char	 buf[4096];
	FILE		*fp;
	size_t		 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static char *
path(const char *rel)
{
	static char	buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, rel);
	return buf;
}

static char	cm_color[32] = "blue";

static cJSON *
lookup(const char *resource, const char *ns, const char *name, void *arg)
{
	char	buf[256];

	if (strcmp(resource, "configmaps") == 0 && strcmp(name, "cm") == 0) {
		snprintf(buf, sizeof(buf), "{\"data\":{\"color\":\"%s\","
		    "\"size\":\"L\"},\"binaryData\":{\"bin\":\"AAEC\"}}",
		    cm_color);
		return obj(buf);
	}
	if (strcmp(resource, "secrets") == 0 && strcmp(name, "sec") == 0)
		return obj("{\"data\":{\"password\":\"czNjcjN0\"}}");
	return NULL;
}

static void
test_atomic(void)
{
	struct pod_file	 f[2];
	struct stat	 st;
	char		 err[256], link1[512], link2[512];
	ssize_t		 n;

	memset(f, 0, sizeof(f));
	f[0].path = (char *)"a";
	f[0].data = (char *)"one";
	f[0].len = 3;
	f[0].mode = 0644;
	f[1].path = (char *)"sub/b";
	f[1].data = (char *)"two";
	f[1].len = 3;
	f[1].mode = 0600;
	CHECK(pod_volume_write_atomic(path("aw"), f, 2, (gid_t)-1, err,
	    sizeof(err)) == 1);
	CHECK_STR(slurp(path("aw/a")), "one");
	CHECK_STR(slurp(path("aw/sub/b")), "two");
	CHECK(lstat(path("aw/a"), &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat(path("aw/sub/b"), &st) == 0 && (st.st_mode & 0777) == 0600);
	n = readlink(path("aw/..data"), link1, sizeof(link1) - 1);
	CHECK(n > 0);
	link1[n > 0 ? n : 0] = '\0';
	/* the same payload changes nothing */
	CHECK(pod_volume_write_atomic(path("aw"), f, 2, (gid_t)-1, err,
	    sizeof(err)) == 0);
	/* a new value swaps the link; a dropped key disappears */
	f[0].data = (char *)"uno";
	CHECK(pod_volume_write_atomic(path("aw"), f, 1, (gid_t)-1, err,
	    sizeof(err)) == 1);
	CHECK_STR(slurp(path("aw/a")), "uno");
	CHECK(access(path("aw/sub"), F_OK) == -1);
	n = readlink(path("aw/..data"), link2, sizeof(link2) - 1);
	link2[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(link1, link2) != 0);
	snprintf(err, sizeof(err), "aw/%.200s", link1);
	CHECK(access(path(err), F_OK) == -1);	/* the old dir is gone */
	f[0].path = (char *)"../x";
	CHECK(pod_volume_write_atomic(path("aw"), f, 1, (gid_t)-1, err,
	    sizeof(err)) == -1);
	CHECK(!pod_volume_path_ok(".."));
	CHECK(!pod_volume_path_ok("/a"));
	CHECK(!pod_volume_path_ok("a//b"));
	CHECK(!pod_volume_path_ok("..data"));
	CHECK(pod_volume_path_ok("a/b.c"));
}

#define PODJSON \
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns1\",\"uid\":\"u1\"," \
    "\"labels\":{\"app\":\"x\"}}," \
    "\"spec\":{\"volumes\":[" \
    "{\"name\":\"cfg\",\"configMap\":{\"name\":\"cm\"}}," \
    "{\"name\":\"items\",\"configMap\":{\"name\":\"cm\",\"defaultMode\":" \
    "416,\"items\":[{\"key\":\"color\",\"path\":\"dir/c\",\"mode\":256}]}}," \
    "{\"name\":\"sec\",\"secret\":{\"secretName\":\"sec\",\"defaultMode\":" \
    "511}}," \
    "{\"name\":\"dw\",\"downwardAPI\":{\"items\":[{\"path\":\"labels\"," \
    "\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}},{\"path\":\"mem\"," \
    "\"resourceFieldRef\":{\"containerName\":\"c\",\"resource\":" \
    "\"limits.memory\",\"divisor\":\"1Mi\"}}]}}," \
    "{\"name\":\"scratch\",\"emptyDir\":{}}," \
    "{\"name\":\"proj\",\"projected\":{\"sources\":[{\"configMap\":{" \
    "\"name\":\"cm\",\"items\":[{\"key\":\"size\",\"path\":\"size\"}]}}," \
    "{\"secret\":{\"name\":\"sec\"}},{\"serviceAccountToken\":{\"path\":" \
    "\"token\"}}]}}," \
    "{\"name\":\"host\",\"hostPath\":{\"path\":\"%s/hp\",\"type\":" \
    "\"DirectoryOrCreate\"}}" \
    "],\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{" \
    "\"limits\":{\"memory\":\"32Mi\"}},\"volumeMounts\":[" \
    "{\"name\":\"cfg\",\"mountPath\":\"/cfg\"}," \
    "{\"name\":\"cfg\",\"mountPath\":\"/color\",\"subPath\":\"color\"}," \
    "{\"name\":\"scratch\",\"mountPath\":\"/s\",\"subPath\":\"x/y\"}," \
    "{\"name\":\"host\",\"mountPath\":\"/h\",\"readOnly\":true," \
    "\"mountPropagation\":\"HostToContainer\"}" \
    "]}]}}"

static void
test_setup(void)
{
	struct pod_mounts	 m;
	struct pod_ctx		 x;
	struct stat		 st;
	cJSON			*p;
	char			 err[512], buf[8192], poddir[512];

	snprintf(buf, sizeof(buf), PODJSON, tmpdir);
	p = obj(buf);
	CHECK(p != NULL);
	memset(&x, 0, sizeof(x));
	x.pod = p;
	x.lookup = lookup;
	x.node_mem = 1LL << 30;
	snprintf(poddir, sizeof(poddir), "%s/pods/u1", tmpdir);
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == 0);
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~configmap/cfg/"
	    "color")), "blue");
	CHECK(slurp(path("pods/u1/volumes/kubernetes.io~configmap/cfg/bin"))
	    != NULL);
	CHECK(stat(path("pods/u1/volumes/kubernetes.io~configmap/items/dir/c"),
	    &st) == 0 && (st.st_mode & 0777) == 0400);
	CHECK(access(path("pods/u1/volumes/kubernetes.io~configmap/items/"
	    "size"), F_OK) == -1);
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~secret/sec/"
	    "password")), "s3cr3t");
	CHECK(stat(path("pods/u1/volumes/kubernetes.io~secret/sec/password"),
	    &st) == 0 && (st.st_mode & 0777) == 0770);
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~downward-api/dw/"
	    "labels")), "app=\"x\"");
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~downward-api/dw/"
	    "mem")), "32");
	CHECK(stat(path("pods/u1/volumes/kubernetes.io~empty-dir/scratch"),
	    &st) == 0 && (st.st_mode & 0777) == 0777);
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~projected/proj/"
	    "size")), "L");
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~projected/proj/"
	    "password")), "s3cr3t");
	CHECK(stat(path("hp"), &st) == 0 && S_ISDIR(st.st_mode));

	/* a changed configmap reaches the file */
	snprintf(cm_color, sizeof(cm_color), "red");
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == 0);
	CHECK_STR(slurp(path("pods/u1/volumes/kubernetes.io~configmap/cfg/"
	    "color")), "red");

	CHECK(pod_volume_mounts(&x, poddir, cJSON_GetArrayItem(json_get(p,
	    "spec.containers"), 0), NULL, &m, err, sizeof(err)) == 0);
	CHECK(m.n == 4);
	if (m.n == 4) {
		CHECK(m.v[0].readonly && strcmp(m.v[0].ctr, "/cfg") == 0);
		/* subPath through the ..data link resolves inside */
		CHECK(strstr(m.v[1].host, "/..") != NULL &&
		    strstr(m.v[1].host, "/color") != NULL);
		CHECK(!m.v[2].readonly);
		CHECK(stat(m.v[2].host, &st) == 0 && S_ISDIR(st.st_mode));
		CHECK(m.v[3].readonly && m.v[3].propagation ==
		    POD_PROPAGATION_HOST_TO_CONTAINER);
	}
	pod_mounts_clear(&m);
	CHECK(pod_volume_teardown(poddir) == 0);
	CHECK(access(poddir, F_OK) == -1);
	CHECK(access(path("hp"), F_OK) == 0);	/* never the host's */
	cJSON_Delete(p);
}

static void
test_failures(void)
{
	struct pod_ctx	 x;
	cJSON		*p;
	char		 err[512], poddir[512];

	snprintf(poddir, sizeof(poddir), "%s/pods/u2", tmpdir);
	memset(&x, 0, sizeof(x));
	x.lookup = lookup;
	p = obj("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"configMap\":"
	    "{\"name\":\"nope\"}}]}}");
	x.pod = p;
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == -1);
	CHECK_STR(err, "MountVolume.SetUp failed for volume \"v\" : "
	    "configmap \"nope\" not found");
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"configMap\":"
	    "{\"name\":\"nope\",\"optional\":true}}]}}");
	x.pod = p;
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == 0);
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":"
	    "{\"path\":\"/nonexistent/x\",\"type\":\"Directory\"}}]}}");
	x.pod = p;
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == -1);
	CHECK(strstr(err, "does not exist") != NULL);
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"nfs\":{}}]}}");
	x.pod = p;
	CHECK(pod_volume_setup(&x, poddir, err, sizeof(err)) == -1);
	cJSON_Delete(p);
	p = obj("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],"
	    "\"containers\":[{\"name\":\"c\",\"volumeMounts\":[{\"name\":"
	    "\"v\",\"mountPath\":\"/x\",\"subPath\":\"../../etc\"}]}]}}");
	x.pod = p;
	{
		struct pod_mounts m;

		CHECK(pod_volume_mounts(&x, poddir, cJSON_GetArrayItem(
		    json_get(p, "spec.containers"), 0), NULL, &m, err,
		    sizeof(err)) == -1);
	}
	cJSON_Delete(p);
	pod_volume_teardown(poddir);
}

/* A large folder goes in bounded steps; links are removed, not followed. */
static void
test_steps(void)
{
	struct pod_volume_rm	*rm;
	char			 dir[512], f[600], keep[512];
	int			 i, rc, steps = 0;

	snprintf(dir, sizeof(dir), "%s/pods/u3", tmpdir);
	snprintf(keep, sizeof(keep), "%s/keep", tmpdir);
	CHECK(pod_volume_mkdirs(dir, 0755) == 0);
	CHECK(mkdir(keep, 0755) == 0);
	for (i = 0; i < 100; i++) {
		snprintf(f, sizeof(f), "%s/sub%d", dir, i % 4);
		if (i < 4)
			CHECK(mkdir(f, 0755) == 0);
		snprintf(f, sizeof(f), "%s/sub%d/f%d", dir, i % 4, i);
		CHECK(close(open(f, O_CREAT | O_WRONLY, 0644)) == 0);
	}
	snprintf(f, sizeof(f), "%s/link", dir);
	CHECK(symlink(keep, f) == 0);
	rm = pod_volume_rm_new(dir);
	while ((rc = pod_volume_rm_step(rm, 10)) == 1)
		steps++;
	pod_volume_rm_free(rm);
	CHECK(rc == 0);
	/* 100 files, 4 folders, a link and the top: more than 10 steps */
	CHECK(steps >= 10);
	CHECK(access(dir, F_OK) == -1);
	CHECK(access(keep, F_OK) == 0);
	/* a missing folder is done at once; a half-done removal frees */
	rm = pod_volume_rm_new(dir);
	CHECK(pod_volume_rm_step(rm, 10) == 0);
	pod_volume_rm_free(rm);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(f, sizeof(f), "%s/a", dir);
	CHECK(mkdir(f, 0755) == 0);
	rm = pod_volume_rm_new(dir);
	CHECK(pod_volume_rm_step(rm, 2) == 1);
	pod_volume_rm_free(rm);
	CHECK(pod_volume_teardown(dir) == 0);
	CHECK(access(dir, F_OK) == -1);
}

int
main(void)
{
	char	*d;

	unit_init();
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_pod_volume.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if ((d = mkdtemp(tmpdir)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_atomic();
	test_setup();
	test_failures();
	test_steps();
	pod_volume_teardown(tmpdir);
	return unit_done();
}
