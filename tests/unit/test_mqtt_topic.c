/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MQTT topics: UTF-8 rules, names and filters, matching (with the
 * specification's examples and the '$' rule), the ACL covering test, and
 * the topic tree: subscriptions matched once per filter, replaced,
 * removed, pruned, and retained messages found by filter.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt_topic.h"
#include "unit.h"

#define V(s)	mqtt_topic_utf8_valid((s), sizeof(s) - 1)

static void
test_utf8(void)
{
	CHECK(V("plain/ascii"));
	CHECK(V(""));
	CHECK(V("caf\xc3\xa9"));
	CHECK(V("\xe2\x82\xac"));
	CHECK(V("\xf0\x9f\x98\x80"));
	CHECK(V("\xf4\x8f\xbf\xbf"));		/* U+10FFFF */
	CHECK(!V("a\0b"));
	CHECK(!V("\xc0\xaf"));			/* overlong */
	CHECK(!V("\xe0\x80\xaf"));		/* overlong */
	CHECK(!V("\xf0\x80\x80\xaf"));		/* overlong */
	CHECK(!V("\xed\xa0\x80"));		/* surrogate */
	CHECK(!V("\xf4\x90\x80\x80"));		/* above U+10FFFF */
	CHECK(!V("\xf8\x88\x80\x80\x80"));
	CHECK(!V("\x80"));
	CHECK(!V("\xe2\x82"));			/* truncated */
	CHECK(!V("\xe2\x28\xa1"));
}

static void
test_valid(void)
{
	static const char *const names[] = { "a", "/", "a/b", "$SYS/x",
	    "a//b", " ", "a/", NULL };
	static const char *const bad_names[] = { "", "a/+", "#", "a/#",
	    "+", "a+b", NULL };
	static const char *const filters[] = { "#", "+", "a/#", "+/+",
	    "/+", "a/+/c", "$SYS/#", "+/#", "a//b", "/", NULL };
	static const char *const bad_filters[] = { "", "a#", "a/#/b", "#/a",
	    "a+", "+a", "a/b+/c", "##", NULL };
	size_t	i;

	for (i = 0; names[i] != NULL; i++)
		CHECK(mqtt_topic_name_valid(names[i], strlen(names[i])));
	for (i = 0; bad_names[i] != NULL; i++)
		CHECK(!mqtt_topic_name_valid(bad_names[i],
		    strlen(bad_names[i])));
	for (i = 0; filters[i] != NULL; i++)
		CHECK(mqtt_topic_filter_valid(filters[i], strlen(filters[i])));
	for (i = 0; bad_filters[i] != NULL; i++)
		CHECK(!mqtt_topic_filter_valid(bad_filters[i],
		    strlen(bad_filters[i])));
}

static void
test_match(void)
{
	static const struct {
		const char	*filter, *topic;
		int		 match;
	} t[] = {
		/* MQTT 3.1.1, 4.7.1.2 and 4.7.1.3 */
		{ "sport/tennis/player1/#", "sport/tennis/player1", 1 },
		{ "sport/tennis/player1/#", "sport/tennis/player1/ranking", 1 },
		{ "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon",
		  1 },
		{ "sport/#", "sport", 1 },
		{ "#", "sport/tennis", 1 },
		{ "sport/tennis/+", "sport/tennis/player1", 1 },
		{ "sport/tennis/+", "sport/tennis/player1/ranking", 0 },
		{ "sport/+", "sport", 0 },
		{ "sport/+", "sport/", 1 },
		{ "+/+", "/finance", 1 },
		{ "/+", "/finance", 1 },
		{ "+", "/finance", 0 },
		/* 4.7.2: '$' topics and wildcards at the first level */
		{ "#", "$SYS/broker", 0 },
		{ "+/monitor/Clients", "$SYS/monitor/Clients", 0 },
		{ "$SYS/#", "$SYS/monitor/Clients", 1 },
		{ "$SYS/monitor/+", "$SYS/monitor/Clients", 1 },
		{ "a/$x/#", "a/$x/y", 1 },
		{ "a/+", "a/$x", 1 },
		/* case and empty levels */
		{ "ACCOUNTS", "Accounts", 0 },
		{ "a//b", "a//b", 1 },
		{ "a/+/b", "a//b", 1 },
		{ "a/b", "a/b/c", 0 },
		{ "a/b/c", "a/b", 0 },
		{ "+/#", "a", 1 },
		{ "a/#", "ab", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mqtt_topic_match(t[i].filter, t[i].topic) != t[i].match)
			fprintf(stderr, "match %s %s: want %d\n", t[i].filter,
			    t[i].topic, t[i].match);
		CHECK(mqtt_topic_match(t[i].filter, t[i].topic) == t[i].match);
	}
}

static void
test_covers(void)
{
	static const struct {
		const char	*acl, *sub;
		int		 covers;
	} t[] = {
		{ "#", "a/b", 1 },
		{ "#", "#", 1 },
		{ "#", "$SYS/x", 0 },
		{ "a/#", "a", 1 },
		{ "a/#", "a/+/c", 1 },
		{ "a/#", "a/#", 1 },
		{ "a/#", "#", 0 },
		{ "a/+", "a/b", 1 },
		{ "a/+", "a/+", 1 },
		{ "a/+", "a/#", 0 },
		{ "a/b", "a/+", 0 },
		{ "a/b", "a/b", 1 },
		{ "+/b", "x/b", 1 },
		{ "+/b", "x/b/c", 0 },
		{ "$SYS/#", "$SYS/a", 1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mqtt_topic_covers(t[i].acl, t[i].sub) != t[i].covers)
			fprintf(stderr, "covers %s %s: want %d\n", t[i].acl,
			    t[i].sub, t[i].covers);
		CHECK(mqtt_topic_covers(t[i].acl, t[i].sub) == t[i].covers);
	}
}

/* Collects matches as "owner:qos" pairs. */
struct test_hits {
	int	n;
	int	owner[16];
	int	qos[16];
};

static void
test_hit_cb(void *owner, uint8_t qos, void *arg)
{
	struct test_hits	*h = arg;

	if (h->n < 16) {
		h->owner[h->n] = (int)(intptr_t)owner;
		h->qos[h->n] = qos;
	}
	h->n++;
}

static int
test_hits(struct mqtt_topic_tree *t, const char *topic, struct test_hits *h)
{
	memset(h, 0, sizeof(*h));
	mqtt_topic_tree_match(t, topic, test_hit_cb, h);
	return h->n;
}

#define O(n)	((void *)(intptr_t)(n))

static void
test_tree_subs(void)
{
	struct mqtt_topic_tree	*t = mqtt_topic_tree_new();
	struct test_hits	 h;

	CHECK(mqtt_topic_tree_subscribe(t, "a/b", O(1), 0) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "a/+", O(1), 1) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "#", O(2), 2) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "a/#", O(3), 1) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "+/+/c", O(4), 0) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "$SYS/#", O(5), 0) == 1);
	CHECK(mqtt_topic_tree_subscribe(t, "a/b", O(1), 2) == 0);
	CHECK(mqtt_topic_tree_nsubs(t) == 6);

	/* overlapping filters of owner 1: once per filter */
	CHECK(test_hits(t, "a/b", &h) == 4);
	CHECK(test_hits(t, "a", &h) == 2);		/* "#" and "a/#" */
	CHECK(test_hits(t, "a/x/c", &h) == 3);		/* #, a/#, +/+/c */
	CHECK(test_hits(t, "$SYS/up", &h) == 1 && h.owner[0] == 5);
	CHECK(test_hits(t, "b", &h) == 1 && h.owner[0] == 2 && h.qos[0] == 2);
	CHECK(test_hits(t, "/", &h) == 1);

	CHECK(mqtt_topic_tree_unsubscribe(t, "a/+", O(1)) == 1);
	CHECK(mqtt_topic_tree_unsubscribe(t, "a/+", O(1)) == 0);
	CHECK(mqtt_topic_tree_unsubscribe(t, "x/y", O(1)) == 0);
	CHECK(test_hits(t, "a/b", &h) == 3);
	CHECK(mqtt_topic_tree_unsubscribe(t, "#", O(2)) == 1);
	CHECK(mqtt_topic_tree_unsubscribe(t, "a/#", O(3)) == 1);
	CHECK(mqtt_topic_tree_unsubscribe(t, "+/+/c", O(4)) == 1);
	CHECK(mqtt_topic_tree_unsubscribe(t, "$SYS/#", O(5)) == 1);
	CHECK(test_hits(t, "a/b", &h) == 1 && h.qos[0] == 2);
	CHECK(mqtt_topic_tree_unsubscribe(t, "a/b", O(1)) == 1);
	CHECK(mqtt_topic_tree_nsubs(t) == 0);
	CHECK(test_hits(t, "a/b", &h) == 0);
	mqtt_topic_tree_free(t, NULL);
}

/* Counts retained messages found, summing their ids. */
static void
test_retained_cb(void *m, void *arg)
{
	int	*sum = arg;

	*sum += (int)(intptr_t)m;
}

static int
test_retained(struct mqtt_topic_tree *t, const char *filter)
{
	int	sum = 0;

	mqtt_topic_tree_retained(t, filter, test_retained_cb, &sum);
	return sum;
}

static void
test_tree_retained(void)
{
	struct mqtt_topic_tree	*t = mqtt_topic_tree_new();

	CHECK(mqtt_topic_tree_retain(t, "a", O(1)) == NULL);
	CHECK(mqtt_topic_tree_retain(t, "a/b", O(2)) == NULL);
	CHECK(mqtt_topic_tree_retain(t, "a/b/c", O(4)) == NULL);
	CHECK(mqtt_topic_tree_retain(t, "x/b", O(8)) == NULL);
	CHECK(mqtt_topic_tree_retain(t, "$SYS/b", O(16)) == NULL);
	CHECK(mqtt_topic_tree_retain(t, "/b", O(32)) == NULL);
	/* a subscription node in the way is not a topic */
	mqtt_topic_tree_subscribe(t, "a/+", O(99), 0);
	mqtt_topic_tree_subscribe(t, "#", O(99), 0);
	CHECK(mqtt_topic_tree_nretained(t) == 6);

	CHECK(test_retained(t, "#") == 1 + 2 + 4 + 8 + 32);
	CHECK(test_retained(t, "a/#") == 1 + 2 + 4);
	CHECK(test_retained(t, "+/b") == 2 + 8 + 32);
	CHECK(test_retained(t, "+") == 1);
	CHECK(test_retained(t, "$SYS/#") == 16);
	CHECK(test_retained(t, "$SYS/+") == 16);
	CHECK(test_retained(t, "a/b") == 2);
	CHECK(test_retained(t, "a/b/c/d") == 0);
	CHECK(test_retained(t, "+/+/+") == 4);

	CHECK(mqtt_topic_tree_retain(t, "a/b", O(64)) == O(2));
	CHECK(test_retained(t, "a/b") == 64);
	CHECK(mqtt_topic_tree_retain(t, "a/b", NULL) == O(64));
	CHECK(mqtt_topic_tree_retain(t, "nope", NULL) == NULL);
	CHECK(test_retained(t, "a/#") == 1 + 4);
	CHECK(mqtt_topic_tree_nretained(t) == 5);
	mqtt_topic_tree_free(t, NULL);
}

int
main(void)
{
	unit_init();
	test_utf8();
	test_valid();
	test_match();
	test_covers();
	test_tree_subs();
	test_tree_retained();
	return unit_done();
}
