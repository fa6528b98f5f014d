/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of the MQTT packet decoder, fed a byte stream as the
 * broker reads one: framed with a 64 KiB limit, each whole packet
 * decoded. Whatever decodes must encode again into a packet that decodes
 * to the same fields; the topic names and filters it carries go through
 * matching, the ACL covering test and a topic tree. Any crash, sanitizer
 * report or abort() is a bug. Build with clang: ./configure
 * --enable-fuzzing CC=clang; run: tests/fuzz/fuzz_mqtt_packet
 * tests/fuzz/corpus/mqtt_packet.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt_packet.h"
#include "mqtt/mqtt_topic.h"

#define FUZZ_MAX_PACKET	65536

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A NUL-terminated copy of a field. */
static char *
fuzz_str(const struct mqtt_str *s)
{
	char	*p;

	if ((p = malloc(s->len + 1)) == NULL)
		abort();
	memcpy(p, s->p, s->len);
	p[s->len] = '\0';
	return p;
}

/* Counts matches; the owner pointers are only compared. */
static void
fuzz_sub_cb(void *owner, uint8_t qos, void *arg)
{
	(*(size_t *)arg)++;
	if (qos > 2)
		abort();
}

static void
fuzz_retained_cb(void *retained, void *arg)
{
	(*(size_t *)arg)++;
}

/* Runs the topic code over the filters and topic of a packet. */
static void
fuzz_topics(const struct mqtt_packet *p)
{
	struct mqtt_topic_tree	*t;
	char			*topic = NULL, *f;
	size_t			 i, n = 0;
	static int		 dummy;

	if (p->type == MQTT_PUBLISH)
		topic = fuzz_str(&p->publish.topic);
	else if (p->type == MQTT_CONNECT && p->connect.will)
		topic = fuzz_str(&p->connect.will_topic);
	t = mqtt_topic_tree_new();
	if (topic != NULL) {
		if (!mqtt_topic_name_valid(topic, strlen(topic)))
			abort();
		mqtt_topic_tree_retain(t, topic, &dummy);
	}
	for (i = 0; i < p->ntopics; i++) {
		f = fuzz_str(&p->topics[i].filter);
		if (!mqtt_topic_filter_valid(f, strlen(f)))
			abort();
		mqtt_topic_tree_subscribe(t, f, (void *)(i + 1), 1);
		mqtt_topic_covers(f, f);
		mqtt_topic_covers("#", f);
		mqtt_topic_tree_retained(t, f, fuzz_retained_cb, &n);
		if (topic != NULL)
			(void)mqtt_topic_match(f, topic);
		free(f);
	}
	if (topic != NULL)
		mqtt_topic_tree_match(t, topic, fuzz_sub_cb, &n);
	for (i = 0; i < p->ntopics; i++) {
		f = fuzz_str(&p->topics[i].filter);
		mqtt_topic_tree_unsubscribe(t, f, (void *)(i + 1));
		free(f);
	}
	if (mqtt_topic_tree_nsubs(t) != 0)
		abort();
	mqtt_topic_tree_free(t, NULL);
	free(topic);
}

/* Encodes a decoded packet and decodes it again: same fields. */
static void
fuzz_roundtrip(const struct mqtt_packet *p)
{
	struct mqtt_packet	 q;
	const char		*errstr;
	uint8_t			*buf;
	size_t			 n;

	if (p->type == MQTT_CONNECT && p->connect.level != 4)
		return;
	if ((n = mqtt_packet_encode(p, NULL, 0)) == 0 ||
	    (buf = malloc(n)) == NULL)
		abort();
	if (mqtt_packet_encode(p, buf, n) != n)
		abort();
	if (mqtt_packet_decode(buf, n, &q, &errstr) != 0)
		abort();
	if (q.type != p->type || q.id != p->id || q.ntopics != p->ntopics ||
	    q.ncodes != p->ncodes || q.publish.len != p->publish.len ||
	    q.publish.qos != p->publish.qos ||
	    q.connect.client_id.len != p->connect.client_id.len)
		abort();
	mqtt_packet_clear(&q);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqtt_packet	 p;
	const char		*errstr;
	size_t			 off = 0, total;

	while (off < size) {
		if (mqtt_packet_frame(data + off, size - off, FUZZ_MAX_PACKET,
		    &total, &errstr) != 1 || total > size - off)
			break;
		if (mqtt_packet_decode(data + off, total, &p, &errstr) == 0) {
			fuzz_roundtrip(&p);
			fuzz_topics(&p);
		}
		mqtt_packet_clear(&p);
		off += total;
	}
	return 0;
}
