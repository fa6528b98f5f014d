/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox key family: every builder's target, method, path and body
 * as committed in a batch, the record parser (and what it refuses), names
 * refused before they reach a batch, and a record committed with the
 * state it comes from in one batch.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/json.h"
#include "core/xmalloc.h"
#include "store/store.h"
#include "store/store_outbox.h"
#include "unit.h"

static struct event_base	*base;
static struct store		*st;
static char			 tmpdir[] = "/tmp/test_store_outbox.XXXXXX";

/* The record stored under x/<target>, parsed; -1 when absent or bad. */
static int
get_rec(const char *target, struct store_outbox_rec *rec)
{
	const char	*errstr;
	char		*key, *val;
	size_t		 len;
	int		 rc;

	key = store_key_outbox(target);
	rc = store_get(st, key, &val, &len);
	free(key);
	if (rc != 0)
		return -1;
	rc = store_outbox_parse(val, len, rec, &errstr);
	free(val);
	return rc;
}

/* The body of a record as a tree; caller frees. */
static cJSON *
body_of(const struct store_outbox_rec *rec)
{
	const char	*errstr;

	if (rec->body == NULL)
		return NULL;
	return json_parse(rec->body, strlen(rec->body), JSON_MAX_DOCUMENT,
	    &errstr);
}

/* Commits b and checks it went through. */
static void
commit_ok(struct store_batch *b)
{
	CHECK(store_batch_commit(b) == 0);
}

static void
test_pod_status(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_rec	 rec;
	cJSON			*body;

	CHECK(store_outbox_pod_status(b, "default", "web", "u-1",
	    "{\"phase\":\"Running\"}") == 0);
	commit_ok(b);
	CHECK(get_rec("pods/default/web/status", &rec) == 0);
	CHECK_STR(rec.method, "PATCH");
	CHECK_STR(rec.path, "/api/v1/namespaces/default/pods/web/status");
	CHECK_STR(rec.content_type, "application/merge-patch+json");
	body = body_of(&rec);
	CHECK_STR(json_get_string(body, "metadata.uid"), "u-1");
	CHECK_STR(json_get_string(body, "status.phase"), "Running");
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
	CHECK(rec.method == NULL && rec.body == NULL);

	/* a newer status replaces the record of the same target */
	b = store_batch_new(st);
	CHECK(store_outbox_pod_status(b, "default", "web", "u-1",
	    "{\"phase\":\"Failed\"}") == 0);
	commit_ok(b);
	CHECK(get_rec("pods/default/web/status", &rec) == 0);
	body = body_of(&rec);
	CHECK_STR(json_get_string(body, "status.phase"), "Failed");
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
}

static void
test_refused(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_ref	 ref = { "v1", "Pod", "default", "Web", NULL,
	    NULL };
	struct timespec		 now = { 1700000000, 5 };
	struct store_outbox_rec	 rec;

	/* not DNS names, no uid, a status that is not an object */
	CHECK(store_outbox_pod_status(b, "Default", "web", "u", "{}") == -1);
	CHECK(store_outbox_pod_status(b, "default", "we/b", "u", "{}") == -1);
	CHECK(store_outbox_pod_status(b, "default", "", "u", "{}") == -1);
	CHECK(store_outbox_pod_status(b, "default", "web", NULL, "{}") == -1);
	CHECK(store_outbox_pod_status(b, "default", "web", "u", "[1]") == -1);
	CHECK(store_outbox_pod_status(b, "default", "web", "u", "{") == -1);
	CHECK(store_outbox_pod_delete(b, "default", "web", "") == -1);
	CHECK(store_outbox_mirror_create(b, "default", "a_b", "{}") == -1);
	CHECK(store_outbox_device_status(b, "default", "..x", NULL, "7") ==
	    -1);
	CHECK(store_outbox_event(b, "default", &ref, "n1", "Normal", "R",
	    "m", &now) == -1);
	CHECK(store_outbox_add(b, "", "GET", "/", NULL, NULL) == -1);
	CHECK(store_outbox_add(b, "t", NULL, "/", NULL, NULL) == -1);
	commit_ok(b);
	CHECK(get_rec("pods/Default/web/status", &rec) == -1);
	CHECK(get_rec("pods/default/a_b/mirror", &rec) == -1);
}

static void
test_pod_delete(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_rec	 rec;
	cJSON			*body;
	int64_t			 grace = -1;

	CHECK(store_outbox_pod_delete(b, "kube-system", "dns", "u-2") == 0);
	commit_ok(b);
	CHECK(get_rec("pods/kube-system/dns/delete", &rec) == 0);
	CHECK_STR(rec.method, "DELETE");
	CHECK_STR(rec.path, "/api/v1/namespaces/kube-system/pods/dns");
	body = body_of(&rec);
	CHECK_STR(json_get_string(body, "kind"), "DeleteOptions");
	CHECK(json_get_int(body, "gracePeriodSeconds", &grace) == 0 &&
	    grace == 0);
	CHECK_STR(json_get_string(body, "preconditions.uid"), "u-2");
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
}

static void
test_mirror(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_rec	 rec;
	const char		*pod = "{\"metadata\":{\"name\":\"s-n1\"}}";

	CHECK(store_outbox_mirror_create(b, "default", "s-n1", pod) == 0);
	commit_ok(b);
	CHECK(get_rec("pods/default/s-n1/mirror", &rec) == 0);
	CHECK_STR(rec.method, "POST");
	CHECK_STR(rec.path, "/api/v1/namespaces/default/pods");
	CHECK_STR(rec.content_type, "application/json");
	CHECK_STR(rec.body, pod);
	store_outbox_rec_clear(&rec);
}

static void
test_device(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_rec	 rec;
	cJSON			*body;

	CHECK(store_outbox_device_status(b, "default", "lamp", "42",
	    "{\"twins\":[]}") == 0);
	CHECK(store_outbox_device_status(b, "default", "fan", NULL,
	    "{\"twins\":[]}") == 0);
	commit_ok(b);
	CHECK(get_rec("devices/default/lamp/status", &rec) == 0);
	CHECK_STR(rec.method, "PATCH");
	CHECK_STR(rec.path, "/apis/devices.kubeedge.io/v1alpha1/namespaces/"
	    "default/devices/lamp/status");
	body = body_of(&rec);
	CHECK_STR(json_get_string(body, "metadata.resourceVersion"), "42");
	CHECK(cJSON_IsArray(json_get(body, "status.twins")));
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
	/* no resourceVersion: no precondition */
	CHECK(get_rec("devices/default/fan/status", &rec) == 0);
	body = body_of(&rec);
	CHECK(json_get(body, "metadata") == NULL);
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
}

static void
test_event(void)
{
	struct store_batch	*b = store_batch_new(st);
	struct store_outbox_ref	 ref = { "v1", "Pod", "default", "web", "u-3",
	    "spec.containers{app}" };
	struct timespec		 now = { 1700000000, 123 };
	struct store_outbox_rec	 rec;
	cJSON			*body;
	char			*target;
	int64_t			 count = 0;

	CHECK(store_outbox_event(b, "default", &ref, "node-1", "Warning",
	    "BackOff", "Back-off restarting", &now) == 0);
	commit_ok(b);
	/* kubelet's name: <object>.<unix ns in hex> */
	xasprintf(&target, "events/default/web.%llx",
	    1700000000ULL * 1000000000ULL + 123);
	CHECK(get_rec(target, &rec) == 0);
	free(target);
	CHECK_STR(rec.method, "POST");
	CHECK_STR(rec.path, "/api/v1/namespaces/default/events");
	body = body_of(&rec);
	CHECK_STR(json_get_string(body, "kind"), "Event");
	CHECK(strncmp(json_get_string(body, "metadata.name"), "web.", 4) ==
	    0);
	CHECK_STR(json_get_string(body, "involvedObject.uid"), "u-3");
	CHECK_STR(json_get_string(body, "involvedObject.fieldPath"),
	    "spec.containers{app}");
	CHECK_STR(json_get_string(body, "type"), "Warning");
	CHECK_STR(json_get_string(body, "reason"), "BackOff");
	CHECK_STR(json_get_string(body, "source.host"), "node-1");
	CHECK_STR(json_get_string(body, "firstTimestamp"),
	    "2023-11-14T22:13:20Z");
	CHECK_STR(json_get_string(body, "lastTimestamp"),
	    "2023-11-14T22:13:20Z");
	CHECK(json_get_int(body, "count", &count) == 0 && count == 1);
	cJSON_Delete(body);
	store_outbox_rec_clear(&rec);
}

static void
test_parse(void)
{
	struct store_outbox_rec	 rec;
	const char		*errstr = NULL;
	const char		*ok = "{\"method\":\"DELETE\",\"path\":\"/x\"}";
	const char		*bad[] = {
		"", "{", "[]", "{\"path\":\"/x\"}", "{\"method\":\"GET\"}",
		"{\"method\":1,\"path\":\"/x\"}",
	};
	size_t			 i;

	CHECK(store_outbox_parse(ok, strlen(ok), &rec, &errstr) == 0);
	CHECK_STR(rec.method, "DELETE");
	CHECK(rec.body == NULL && rec.content_type == NULL);
	store_outbox_rec_clear(&rec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		CHECK(store_outbox_parse(bad[i], strlen(bad[i]), &rec,
		    &errstr) == -1);
		CHECK(errstr != NULL);
		CHECK(rec.method == NULL && rec.path == NULL);
	}
}

/* The local state and its record commit together, or neither does. */
static void
test_one_batch(void)
{
	struct store_batch	*b;
	struct store_outbox_rec	 rec;
	char			*val;
	size_t			 len;
	uint64_t		 r1 = 0, r2 = 0;

	b = store_batch_new(st);
	store_batch_put(b, "p/default/db", "{}", 2);
	CHECK(store_outbox_pod_status(b, "default", "db", "u-4", "{}") == 0);
	store_batch_free(b);
	CHECK(store_get(st, "p/default/db", &val, &len) == 1);
	CHECK(get_rec("pods/default/db/status", &rec) == -1);

	b = store_batch_new(st);
	store_batch_put(b, "p/default/db", "{}", 2);
	CHECK(store_outbox_pod_status(b, "default", "db", "u-4", "{}") == 0);
	commit_ok(b);
	CHECK(store_get_rev(st, "p/default/db", &val, &len, &r1) == 0);
	free(val);
	CHECK(store_get_rev(st, "x/pods/default/db/status", &val, &len,
	    &r2) == 0);
	free(val);
	CHECK(r1 == r2 && r1 > 0);

	b = store_batch_new(st);
	store_outbox_withdraw(b, "pods/default/db/status");
	commit_ok(b);
	CHECK(get_rec("pods/default/db/status", &rec) == -1);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	const char	*errstr;

	unit_init();
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	base = event_base_new();
	if ((st = store_open(base, tmpdir, &errstr)) == NULL) {
		fprintf(stderr, "store_open: %s\n", errstr);
		return 1;
	}
	test_pod_status();
	test_refused();
	test_pod_delete();
	test_mirror();
	test_device();
	test_event();
	test_parse();
	test_one_batch();
	store_close(st);
	event_base_free(base);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
