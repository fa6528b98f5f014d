/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MQTT packet codec: every file of tests/unit/data/mqtt/ is a packet
 * in hex with the expected outcome ("# expect: ok TYPE" or "# expect:
 * error <words of the error>"), framed with a 1 MiB limit and decoded;
 * a packet that decodes is encoded again and must come out byte for byte
 * (after the remaining length is made minimal). Then framing piece by
 * piece, encode/decode round trips of built packets and the PUBLISH head.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt_packet.h"
#include "unit.h"

#define TEST_MAX	(1024 * 1024)

/* Reads a .hex file: the expectation line and the bytes. */
static int
test_read_hex(const char *path, char *expect, size_t explen, uint8_t *buf,
    size_t *len)
{
	FILE		*fp;
	char		 line[512], *p, *end;
	unsigned long	 v;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	*len = 0;
	expect[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "# expect: ", 10) == 0) {
			snprintf(expect, explen, "%s", line + 10);
			expect[strcspn(expect, "\n")] = '\0';
			continue;
		}
		if (line[0] == '#')
			continue;
		for (p = line; *p != '\0'; p = end) {
			v = strtoul(p, &end, 16);
			if (end == p)
				break;
			buf[(*len)++] = (uint8_t)v;
		}
	}
	fclose(fp);
	return 0;
}

/* Re-encodes a decoded packet and compares (remaining length made minimal). */
static void
test_reencode(const char *name, const uint8_t *buf, size_t len,
    const struct mqtt_packet *p)
{
	uint8_t	 out[4096], norm[4096];
	size_t	 n, i = 1, nlen, rem;

	if (p->type == MQTT_CONNECT && p->connect.level != 4)
		return;
	while (buf[i] & 0x80)
		i++;
	/* The source with a minimal remaining length. */
	norm[0] = buf[0];
	nlen = 1;
	rem = len - i - 1;
	do {
		norm[nlen] = rem % 128;
		rem /= 128;
		if (rem > 0)
			norm[nlen] |= 0x80;
		nlen++;
	} while (rem > 0);
	memcpy(norm + nlen, buf + i + 1, len - i - 1);
	nlen += len - i - 1;
	n = mqtt_packet_encode(p, out, sizeof(out));
	if (n != nlen || memcmp(out, norm, n) != 0)
		fprintf(stderr, "%s: encodes differently (%zu bytes, want "
		    "%zu)\n", name, n, nlen);
	CHECK(n == nlen && memcmp(out, norm, n) == 0);
}

/* One data file. */
static void
test_file(const char *dir, const char *name)
{
	struct mqtt_packet	 p;
	char			 path[8192], expect[512];
	uint8_t			 buf[4096];
	const char		*errstr = NULL;
	size_t			 len = 0, total;
	int			 rv, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(test_read_hex(path, expect, sizeof(expect), buf, &len) == 0);
	CHECK(expect[0] != '\0');
	rv = mqtt_packet_frame(buf, len, TEST_MAX, &total, &errstr);
	if (rv == 1 && total == len)
		rv = mqtt_packet_decode(buf, len, &p, &errstr) == 0 ? 1 : -1;
	else if (rv == 1) {
		rv = -1;
		errstr = "frame length differs from the file";
	} else
		memset(&p, 0, sizeof(p));
	if (strncmp(expect, "ok ", 3) == 0) {
		ok = rv == 1 && strcmp(mqtt_packet_name(p.type),
		    expect + 3) == 0;
		if (ok)
			test_reencode(name, buf, len, &p);
	} else
		ok = rv == -1 && strncmp(expect, "error ", 6) == 0 &&
		    strstr(errstr, expect + 6) != NULL;
	if (!ok)
		fprintf(stderr, "%s: expected \"%s\", got %s (%s)\n", name,
		    expect, rv == 1 ? mqtt_packet_name(p.type) : "error",
		    rv == 1 ? "" : errstr);
	CHECK(ok);
	mqtt_packet_clear(&p);
}

/* Every .hex file of the data directory. */
static void
test_files(void)
{
	const char	*dir = unit_srcpath("tests/unit/data/mqtt");
	char		 d[4096];
	struct dirent	*de;
	DIR		*dp;
	size_t		 n = 0, len;

	snprintf(d, sizeof(d), "%s", dir);
	CHECK((dp = opendir(d)) != NULL);
	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".hex") != 0)
			continue;
		test_file(d, de->d_name);
		n++;
	}
	closedir(dp);
	CHECK(n >= 50);
}

/* Framing: byte by byte, the limit, the length bytes. */
static void
test_frame(void)
{
	uint8_t		 pub[] = { 0x30, 0x85, 0x01 };
	const char	*errstr;
	size_t		 total = 0;

	CHECK(mqtt_packet_frame(pub, 1, TEST_MAX, &total, &errstr) == 0);
	CHECK(mqtt_packet_frame(pub, 2, TEST_MAX, &total, &errstr) == 0);
	CHECK(mqtt_packet_frame(pub, 3, TEST_MAX, &total, &errstr) == 1);
	CHECK(total == 3 + 133);
	CHECK(mqtt_packet_frame(pub, 3, 135, &total, &errstr) == -1);
	CHECK(mqtt_packet_frame(pub, 3, 136, &total, &errstr) == 1);
	CHECK(mqtt_packet_frame(pub, 0, TEST_MAX, &total, &errstr) == 0);
}

/* Builds, encodes and decodes a packet of each kind. */
static void
test_roundtrip(void)
{
	struct mqtt_packet		p, q;
	struct mqtt_packet_topic	topics[2];
	uint8_t				buf[512], codes[] = { 1, 0x80 };
	const char			*errstr;
	size_t				n;

	memset(&p, 0, sizeof(p));
	p.type = MQTT_CONNECT;
	p.connect.level = 4;
	p.connect.clean = 1;
	p.connect.will = 1;
	p.connect.will_qos = 2;
	p.connect.keepalive = 30;
	p.connect.client_id.p = "id";
	p.connect.client_id.len = 2;
	p.connect.will_topic.p = "w";
	p.connect.will_topic.len = 1;
	p.connect.will_payload.p = "gone";
	p.connect.will_payload.len = 4;
	n = mqtt_packet_encode(&p, buf, sizeof(buf));
	CHECK(n > 0 && n < sizeof(buf));
	CHECK(mqtt_packet_decode(buf, n, &q, &errstr) == 0);
	CHECK(q.type == MQTT_CONNECT && q.connect.will_qos == 2 &&
	    q.connect.keepalive == 30 && q.connect.clean &&
	    q.connect.will_payload.len == 4);
	mqtt_packet_clear(&q);

	memset(&p, 0, sizeof(p));
	p.type = MQTT_SUBSCRIBE;
	p.id = 9;
	topics[0].filter.p = "a/#";
	topics[0].filter.len = 3;
	topics[0].qos = 1;
	topics[1].filter.p = "+/b";
	topics[1].filter.len = 3;
	topics[1].qos = 2;
	p.topics = topics;
	p.ntopics = 2;
	n = mqtt_packet_encode(&p, buf, sizeof(buf));
	CHECK(mqtt_packet_decode(buf, n, &q, &errstr) == 0);
	CHECK(q.ntopics == 2 && q.id == 9 && q.topics[1].qos == 2 &&
	    q.topics[1].filter.len == 3 &&
	    memcmp(q.topics[1].filter.p, "+/b", 3) == 0);
	mqtt_packet_clear(&q);

	memset(&p, 0, sizeof(p));
	p.type = MQTT_SUBACK;
	p.id = 9;
	p.codes = codes;
	p.ncodes = 2;
	n = mqtt_packet_encode(&p, buf, sizeof(buf));
	CHECK(n == 6);
	CHECK(mqtt_packet_decode(buf, n, &q, &errstr) == 0);
	CHECK(q.ncodes == 2 && q.codes[1] == 0x80);
	mqtt_packet_clear(&q);

	/* Too small a buffer: the length comes back, nothing is written. */
	memset(buf, 0xaa, sizeof(buf));
	CHECK(mqtt_packet_encode(&p, buf, 3) == 6 && buf[0] == 0xaa);
}

/* A large PUBLISH: the head alone, then the payload after it. */
static void
test_publish_head(void)
{
	struct mqtt_packet	 p, q;
	static uint8_t		 payload[300], whole[400];
	uint8_t			 head[32];
	const char		*errstr;
	size_t			 n, h;

	memset(payload, 'x', sizeof(payload));
	memset(&p, 0, sizeof(p));
	p.type = MQTT_PUBLISH;
	p.id = 0x1234;
	p.publish.qos = 1;
	p.publish.retain = 1;
	p.publish.topic.p = "t/1";
	p.publish.topic.len = 3;
	p.publish.payload = payload;
	p.publish.len = sizeof(payload);
	h = mqtt_packet_encode_head(&p, head, sizeof(head));
	CHECK(h == 1 + 2 + 5 + 2);
	n = mqtt_packet_encode(&p, whole, sizeof(whole));
	CHECK(n == h + sizeof(payload));
	CHECK(memcmp(whole, head, h) == 0);
	CHECK(mqtt_packet_decode(whole, n, &q, &errstr) == 0);
	CHECK(q.publish.len == sizeof(payload) && q.id == 0x1234 &&
	    q.publish.retain && q.publish.qos == 1);
	mqtt_packet_clear(&q);
	CHECK(strcmp(mqtt_packet_name(MQTT_PINGRESP), "PINGRESP") == 0);
	CHECK(strcmp(mqtt_packet_name(0), "?") == 0);
}

int
main(void)
{
	unit_init();
	test_files();
	test_frame();
	test_roundtrip();
	test_publish_head();
	return unit_done();
}
