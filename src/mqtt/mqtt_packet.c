/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MQTT 3.1.1 codec. Framing reads the fixed header: a type byte and a
 * remaining length of one to four bytes, seven bits each. Decoding is
 * strict, as the specification's MUSTs ask: the flag bits of every type,
 * the lengths of fixed-size packets, well-formed UTF-8 without U+0000 in
 * every string, valid topic names and filters, non-zero packet
 * identifiers, QoS 0 to 2, reserved bits zero and no bytes left over. A
 * decoded packet points into the caller's buffer; only the topic list of
 * SUBSCRIBE and UNSUBSCRIBE is allocated, after counting it, so its size
 * is bounded by the packet's. The encoder writes any packet the decoder
 * reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "mqtt/mqtt_packet.h"
#include "mqtt/mqtt_topic.h"

/* A cursor over the variable header and payload of one packet. */
struct mqtt_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

static const char *const mqtt_packet_names[] = {
	"?", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
	"PINGRESP", "DISCONNECT", "?",
};

const char *
mqtt_packet_name(int type)
{
	if (type < 0 || type > 15)
		return "?";
	return mqtt_packet_names[type];
}

int
mqtt_packet_frame(const uint8_t *buf, size_t len, size_t max, size_t *total,
    const char **errstr)
{
	size_t	i, rem = 0, mult = 1;

	for (i = 1; i < MQTT_PACKET_MAX_HEAD; i++) {
		if (i >= len)
			return 0;
		rem += (size_t)(buf[i] & 0x7f) * mult;
		mult *= 128;
		if ((buf[i] & 0x80) == 0)
			break;
	}
	if (i == MQTT_PACKET_MAX_HEAD) {
		*errstr = "malformed remaining length";
		return -1;
	}
	if (rem + i + 1 > max) {
		*errstr = "packet over the size limit";
		return -1;
	}
	*total = rem + i + 1;
	return 1;
}

/* Reads one byte. */
static int
mqtt_read_u8(struct mqtt_reader *r, uint8_t *v)
{
	if (r->len - r->off < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

/* Reads a big-endian 16-bit integer. */
static int
mqtt_read_u16(struct mqtt_reader *r, uint16_t *v)
{
	if (r->len - r->off < 2)
		return -1;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

/* Reads a length-prefixed binary field. */
static int
mqtt_read_bin(struct mqtt_reader *r, struct mqtt_str *s)
{
	uint16_t	n;

	if (mqtt_read_u16(r, &n) == -1 || r->len - r->off < n)
		return -1;
	s->p = (const char *)r->p + r->off;
	s->len = n;
	r->off += n;
	return 0;
}

/* Reads a length-prefixed UTF-8 string; *errstr says what was wrong. */
static int
mqtt_read_str(struct mqtt_reader *r, struct mqtt_str *s, const char **errstr)
{
	if (mqtt_read_bin(r, s) == -1) {
		*errstr = "truncated string";
		return -1;
	}
	if (!mqtt_topic_utf8_valid(s->p, s->len)) {
		*errstr = "string is not valid UTF-8";
		return -1;
	}
	return 0;
}

/* Reads a non-zero packet identifier. */
static int
mqtt_read_id(struct mqtt_reader *r, uint16_t *id, const char **errstr)
{
	if (mqtt_read_u16(r, id) == -1) {
		*errstr = "truncated packet identifier";
		return -1;
	}
	if (*id == 0) {
		*errstr = "packet identifier 0";
		return -1;
	}
	return 0;
}

/* Fails when bytes are left over. */
static int
mqtt_read_end(struct mqtt_reader *r, const char **errstr)
{
	if (r->off != r->len) {
		*errstr = "bytes left over at the end of the packet";
		return -1;
	}
	return 0;
}

/* The connect flags byte. */
static int
mqtt_decode_connect_flags(struct mqtt_packet_connect *c, uint8_t f,
    const char **errstr)
{
	if (f & 0x01) {
		*errstr = "reserved connect flag set";
		return -1;
	}
	c->clean = (f & 0x02) != 0;
	c->will = (f & 0x04) != 0;
	c->will_qos = (f >> 3) & 0x03;
	c->will_retain = (f & 0x20) != 0;
	c->has_password = (f & 0x40) != 0;
	c->has_username = (f & 0x80) != 0;
	if (c->will_qos == 3) {
		*errstr = "will QoS 3";
		return -1;
	}
	if (!c->will && (c->will_qos != 0 || c->will_retain)) {
		*errstr = "will QoS or retain without a will";
		return -1;
	}
	if (c->has_password && !c->has_username) {
		*errstr = "password without a user name";
		return -1;
	}
	return 0;
}

/* The payload of CONNECT: client id, will, user name, password. */
static int
mqtt_decode_connect_payload(struct mqtt_reader *r,
    struct mqtt_packet_connect *c, const char **errstr)
{
	if (mqtt_read_str(r, &c->client_id, errstr) == -1)
		return -1;
	if (c->will) {
		if (mqtt_read_str(r, &c->will_topic, errstr) == -1)
			return -1;
		if (!mqtt_topic_name_valid(c->will_topic.p,
		    c->will_topic.len)) {
			*errstr = "invalid will topic";
			return -1;
		}
		if (mqtt_read_bin(r, &c->will_payload) == -1) {
			*errstr = "truncated will message";
			return -1;
		}
	}
	if (c->has_username && mqtt_read_str(r, &c->username, errstr) == -1)
		return -1;
	if (c->has_password && mqtt_read_bin(r, &c->password) == -1) {
		*errstr = "truncated password";
		return -1;
	}
	return mqtt_read_end(r, errstr);
}

/*
 * CONNECT. A protocol level other than 4 ends the decoding successfully:
 * the rest may be another version's layout, and the broker answers it.
 */
static int
mqtt_decode_connect(struct mqtt_reader *r, uint8_t flags,
    struct mqtt_packet *p, const char **errstr)
{
	struct mqtt_packet_connect	*c = &p->connect;
	uint8_t				 f;

	if (mqtt_read_str(r, &c->protocol, errstr) == -1)
		return -1;
	if (!(c->protocol.len == 4 && memcmp(c->protocol.p, "MQTT", 4) == 0) &&
	    !(c->protocol.len == 6 && memcmp(c->protocol.p, "MQIsdp", 6) == 0)) {
		*errstr = "unknown protocol name";
		return -1;
	}
	if (mqtt_read_u8(r, &c->level) == -1) {
		*errstr = "truncated protocol level";
		return -1;
	}
	if (c->level != 4)
		return 0;
	if (mqtt_read_u8(r, &f) == -1 || mqtt_read_u16(r, &c->keepalive) ==
	    -1) {
		*errstr = "truncated variable header";
		return -1;
	}
	if (mqtt_decode_connect_flags(c, f, errstr) == -1)
		return -1;
	return mqtt_decode_connect_payload(r, c, errstr);
}

/* CONNACK. */
static int
mqtt_decode_connack(struct mqtt_reader *r, struct mqtt_packet *p,
    const char **errstr)
{
	uint8_t	f = 0;

	if (r->len != 2) {
		*errstr = "CONNACK is not 2 bytes long";
		return -1;
	}
	mqtt_read_u8(r, &f);
	mqtt_read_u8(r, &p->connack.rc);
	if (f & 0xfe) {
		*errstr = "reserved acknowledge flag set";
		return -1;
	}
	if (p->connack.rc > MQTT_CONNACK_NOT_AUTHORIZED) {
		*errstr = "unknown return code";
		return -1;
	}
	p->connack.session_present = f & 0x01;
	return 0;
}

/* PUBLISH: flags from the fixed header, then topic, id and payload. */
static int
mqtt_decode_publish(struct mqtt_reader *r, uint8_t flags,
    struct mqtt_packet *p, const char **errstr)
{
	struct mqtt_packet_publish	*m = &p->publish;

	m->dup = (flags & 0x08) != 0;
	m->qos = (flags >> 1) & 0x03;
	m->retain = flags & 0x01;
	if (m->qos == 3) {
		*errstr = "PUBLISH with QoS 3";
		return -1;
	}
	if (m->qos == 0 && m->dup) {
		*errstr = "PUBLISH with QoS 0 and DUP set";
		return -1;
	}
	if (mqtt_read_str(r, &m->topic, errstr) == -1)
		return -1;
	if (!mqtt_topic_name_valid(m->topic.p, m->topic.len)) {
		*errstr = "invalid topic name";
		return -1;
	}
	if (m->qos > 0 && mqtt_read_id(r, &p->id, errstr) == -1)
		return -1;
	m->payload = r->p + r->off;
	m->len = r->len - r->off;
	r->off = r->len;
	return 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: an identifier alone. */
static int
mqtt_decode_ack(struct mqtt_reader *r, struct mqtt_packet *p,
    const char **errstr)
{
	if (r->len != 2) {
		*errstr = "acknowledgement is not 2 bytes long";
		return -1;
	}
	return mqtt_read_id(r, &p->id, errstr);
}

/* Counts the filters of SUBSCRIBE (withqos) or UNSUBSCRIBE, checking them. */
static int
mqtt_decode_count(struct mqtt_reader r, int withqos, size_t *n,
    const char **errstr)
{
	struct mqtt_str	s;
	uint8_t		q;

	*n = 0;
	while (r.off < r.len) {
		if (mqtt_read_str(&r, &s, errstr) == -1)
			return -1;
		if (!mqtt_topic_filter_valid(s.p, s.len)) {
			*errstr = "invalid topic filter";
			return -1;
		}
		if (withqos) {
			if (mqtt_read_u8(&r, &q) == -1) {
				*errstr = "truncated requested QoS";
				return -1;
			}
			if (q > 2) {
				*errstr = "requested QoS above 2 or reserved "
				    "bits set";
				return -1;
			}
		}
		(*n)++;
	}
	if (*n == 0) {
		*errstr = "no topic filter";
		return -1;
	}
	return 0;
}

/* SUBSCRIBE (withqos) and UNSUBSCRIBE. */
static int
mqtt_decode_topics(struct mqtt_reader *r, int withqos, struct mqtt_packet *p,
    const char **errstr)
{
	size_t	i, n;

	if (mqtt_read_id(r, &p->id, errstr) == -1)
		return -1;
	if (mqtt_decode_count(*r, withqos, &n, errstr) == -1)
		return -1;
	p->topics = xcalloc(n, sizeof(*p->topics));
	p->ntopics = n;
	/* Checked by the count: these reads cannot fail. */
	for (i = 0; i < n; i++) {
		mqtt_read_bin(r, &p->topics[i].filter);
		if (withqos)
			mqtt_read_u8(r, &p->topics[i].qos);
	}
	return 0;
}

/* SUBACK. */
static int
mqtt_decode_suback(struct mqtt_reader *r, struct mqtt_packet *p,
    const char **errstr)
{
	size_t	i;

	if (mqtt_read_id(r, &p->id, errstr) == -1)
		return -1;
	p->codes = r->p + r->off;
	p->ncodes = r->len - r->off;
	r->off = r->len;
	if (p->ncodes == 0) {
		*errstr = "SUBACK without return codes";
		return -1;
	}
	for (i = 0; i < p->ncodes; i++) {
		if (p->codes[i] > 2 && p->codes[i] != MQTT_SUBACK_FAILURE) {
			*errstr = "unknown SUBACK return code";
			return -1;
		}
	}
	return 0;
}

/* The flags the fixed header must have for a type other than PUBLISH. */
static uint8_t
mqtt_packet_flags(int type)
{
	return type == MQTT_PUBREL || type == MQTT_SUBSCRIBE ||
	    type == MQTT_UNSUBSCRIBE ? 0x02 : 0x00;
}

/* Decodes the variable header and payload by type. */
static int
mqtt_decode_body(struct mqtt_reader *r, uint8_t flags, struct mqtt_packet *p,
    const char **errstr)
{
	switch (p->type) {
	case MQTT_CONNECT:
		return mqtt_decode_connect(r, flags, p, errstr);
	case MQTT_CONNACK:
		return mqtt_decode_connack(r, p, errstr);
	case MQTT_PUBLISH:
		return mqtt_decode_publish(r, flags, p, errstr);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		return mqtt_decode_ack(r, p, errstr);
	case MQTT_SUBSCRIBE:
		return mqtt_decode_topics(r, 1, p, errstr);
	case MQTT_SUBACK:
		return mqtt_decode_suback(r, p, errstr);
	case MQTT_UNSUBSCRIBE:
		return mqtt_decode_topics(r, 0, p, errstr);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		if (r->len != 0) {
			*errstr = "packet has a body where none is allowed";
			return -1;
		}
		return 0;
	}
	*errstr = "reserved packet type";
	return -1;
}

int
mqtt_packet_decode(const uint8_t *buf, size_t len, struct mqtt_packet *p,
    const char **errstr)
{
	struct mqtt_reader	r;
	size_t			total, hlen;
	uint8_t			flags;
	int			type;

	memset(p, 0, sizeof(*p));
	if (mqtt_packet_frame(buf, len, len, &total, errstr) != 1 ||
	    total != len) {
		*errstr = "incomplete packet";
		return -1;
	}
	for (hlen = 1; buf[hlen] & 0x80; hlen++)
		;
	hlen++;
	type = buf[0] >> 4;
	flags = buf[0] & 0x0f;
	if (type == 0 || type == 15) {
		*errstr = "reserved packet type";
		return -1;
	}
	p->type = type;
	if (type != MQTT_PUBLISH && flags != mqtt_packet_flags(type)) {
		*errstr = "wrong fixed header flags";
		return -1;
	}
	r.p = buf + hlen;
	r.len = len - hlen;
	r.off = 0;
	return mqtt_decode_body(&r, flags, p, errstr);
}

void
mqtt_packet_clear(struct mqtt_packet *p)
{
	free(p->topics);
	p->topics = NULL;
	p->ntopics = 0;
}

/*
 * Encoding: a writer that counts every byte and stores those that fit.
 */
struct mqtt_writer {
	uint8_t	*p;
	size_t	 size;
	size_t	 off;
};

static void
mqtt_write_bytes(struct mqtt_writer *w, const void *b, size_t n)
{
	if (w->off + n <= w->size && n > 0)
		memcpy(w->p + w->off, b, n);
	w->off += n;
}

static void
mqtt_write_u8(struct mqtt_writer *w, uint8_t v)
{
	mqtt_write_bytes(w, &v, 1);
}

static void
mqtt_write_u16(struct mqtt_writer *w, uint16_t v)
{
	uint8_t	b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	mqtt_write_bytes(w, b, 2);
}

static void
mqtt_write_str(struct mqtt_writer *w, const struct mqtt_str *s)
{
	mqtt_write_u16(w, (uint16_t)s->len);
	mqtt_write_bytes(w, s->p, s->len);
}

/* The first byte of the fixed header. */
static uint8_t
mqtt_encode_first(const struct mqtt_packet *p)
{
	const struct mqtt_packet_publish	*m = &p->publish;

	if (p->type != MQTT_PUBLISH)
		return (uint8_t)(p->type << 4 | mqtt_packet_flags(p->type));
	return (uint8_t)(MQTT_PUBLISH << 4 | (m->dup ? 0x08 : 0) |
	    m->qos << 1 | (m->retain ? 0x01 : 0));
}

/* The CONNECT variable header and payload. */
static void
mqtt_encode_connect(struct mqtt_writer *w, const struct mqtt_packet_connect *c)
{
	struct mqtt_str	proto = { "MQTT", 4 };

	mqtt_write_str(w, c->protocol.p != NULL ? &c->protocol : &proto);
	mqtt_write_u8(w, c->level);
	mqtt_write_u8(w, (uint8_t)((c->clean ? 0x02 : 0) |
	    (c->will ? 0x04 : 0) | c->will_qos << 3 |
	    (c->will_retain ? 0x20 : 0) | (c->has_password ? 0x40 : 0) |
	    (c->has_username ? 0x80 : 0)));
	mqtt_write_u16(w, c->keepalive);
	mqtt_write_str(w, &c->client_id);
	if (c->will) {
		mqtt_write_str(w, &c->will_topic);
		mqtt_write_str(w, &c->will_payload);
	}
	if (c->has_username)
		mqtt_write_str(w, &c->username);
	if (c->has_password)
		mqtt_write_str(w, &c->password);
}

/* The variable header and payload by type; payload only if withpayload. */
static void
mqtt_encode_body(struct mqtt_writer *w, const struct mqtt_packet *p,
    int withpayload)
{
	size_t	i;

	switch (p->type) {
	case MQTT_CONNECT:
		mqtt_encode_connect(w, &p->connect);
		break;
	case MQTT_CONNACK:
		mqtt_write_u8(w, p->connack.session_present ? 1 : 0);
		mqtt_write_u8(w, p->connack.rc);
		break;
	case MQTT_PUBLISH:
		mqtt_write_str(w, &p->publish.topic);
		if (p->publish.qos > 0)
			mqtt_write_u16(w, p->id);
		if (withpayload)
			mqtt_write_bytes(w, p->publish.payload, p->publish.len);
		else
			w->off += p->publish.len;
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		mqtt_write_u16(w, p->id);
		for (i = 0; i < p->ntopics; i++) {
			mqtt_write_str(w, &p->topics[i].filter);
			if (p->type == MQTT_SUBSCRIBE)
				mqtt_write_u8(w, p->topics[i].qos);
		}
		break;
	case MQTT_SUBACK:
		mqtt_write_u16(w, p->id);
		mqtt_write_bytes(w, p->codes, p->ncodes);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		mqtt_write_u16(w, p->id);
		break;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		break;
	}
}

/* Encodes p, with or without the payload of a PUBLISH. */
static size_t
mqtt_encode(const struct mqtt_packet *p, uint8_t *buf, size_t size,
    int withpayload)
{
	struct mqtt_writer	count = { NULL, 0, 0 }, w;
	uint8_t			head[MQTT_PACKET_MAX_HEAD];
	size_t			rem, hlen = 1;

	if (p->type < MQTT_CONNECT || p->type > MQTT_DISCONNECT)
		return 0;
	mqtt_encode_body(&count, p, 1);
	if ((rem = count.off) > MQTT_PACKET_MAX_REMAINING)
		return 0;
	head[0] = mqtt_encode_first(p);
	do {
		head[hlen] = rem % 128;
		rem /= 128;
		if (rem > 0)
			head[hlen] |= 0x80;
		hlen++;
	} while (rem > 0);
	w.p = buf;
	w.size = size;
	w.off = 0;
	mqtt_write_bytes(&w, head, hlen);
	mqtt_encode_body(&w, p, withpayload);
	return withpayload ? w.off : w.off - p->publish.len;
}

size_t
mqtt_packet_encode(const struct mqtt_packet *p, uint8_t *buf, size_t size)
{
	size_t	n = mqtt_encode(p, NULL, 0, 1);

	if (n == 0 || n > size)
		return n;
	return mqtt_encode(p, buf, size, 1);
}

size_t
mqtt_packet_encode_head(const struct mqtt_packet *p, uint8_t *buf,
    size_t size)
{
	size_t	n;

	if (p->type != MQTT_PUBLISH)
		return mqtt_packet_encode(p, buf, size);
	n = mqtt_encode(p, NULL, 0, 0);
	if (n == 0 || n > size)
		return n;
	return mqtt_encode(p, buf, size, 0);
}
