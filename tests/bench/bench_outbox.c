/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_outbox: the outbox's write rate under the durability policy, for
 * bench_durability.py. Each batch holds a pod status (p/) and its outbox
 * record (x/, store_outbox_add), as the pod room writes them, and is
 * committed with store_batch_commit_sync; PER_TURN batches are committed
 * per loop turn, then the loop turns once (the store's sync). Run with
 * and without nosync.so preloaded: the ratio is the cost of the syncs.
 *
 *   bench_outbox DIR RECORDS PER_TURN
 *
 * Prints "records N seconds S syncs K". Built by the script against the
 * build's libedgesite (see bench_durability.py).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/json.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_outbox.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pod's status and its outbox record, committed synced. */
static void
commit_one(struct store *s, long i)
{
	struct store_batch	*b;
	char			 key[128], target[128], path[160], body[512];
	uint64_t		 rev;

	snprintf(key, sizeof(key), "p/bench/pod-%ld", i % 1000);
	snprintf(target, sizeof(target), "pods/bench/pod-%ld/status",
	    i % 1000);
	snprintf(path, sizeof(path),
	    "/api/v1/namespaces/bench/pods/pod-%ld/status", i % 1000);
	snprintf(body, sizeof(body), "{\"status\":{\"phase\":\"Running\","
	    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	    "\"observedGeneration\":%ld}}", i);
	b = store_batch_new(s);
	store_batch_put(b, key, body, strlen(body));
	if (store_outbox_add(b, target, "PATCH", path,
	    "application/strategic-merge-patch+json", body) == -1)
		fatalx("outbox record refused");
	if (store_batch_commit_sync(b, &rev) == -1)
		fatalx("commit failed");
}

int
main(int argc, char *argv[])
{
	struct event_base	*base;
	struct store		*s;
	struct store_stats	 st;
	const char		*errstr;
	long			 n, per, i;
	double			 t0, t1;

	if (argc != 4)
		fatalx("usage: bench_outbox DIR RECORDS PER_TURN");
	n = atol(argv[2]);
	per = atol(argv[3]);
	log_init(LOG_LEVEL_WARN, "bench_outbox");
	json_init();
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((s = store_open(base, argv[1], &errstr)) == NULL)
		fatalx("%s", errstr);
	t0 = now();
	for (i = 0; i < n; i++) {
		commit_one(s, i);
		if ((i + 1) % per == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	t1 = now();
	if (store_synced(s) != store_revision(s))
		fatalx("not synced at the end");
	store_get_stats(s, &st);
	printf("records %ld seconds %.3f syncs %llu\n", n, t1 - t0,
	    (unsigned long long)st.syncs);
	store_close(s);
	event_base_free(base);
	return 0;
}
