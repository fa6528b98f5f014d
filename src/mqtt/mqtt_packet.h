/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MQTT 3.1.1 packet codec: framing (the fixed header and its
 * remaining length), a strict decoder of every control packet and the
 * encoder. Pure code over byte buffers: no I/O, no logging; errors come
 * back as static strings.
 */
#ifndef EDGESITE_MQTT_PACKET_H
#define EDGESITE_MQTT_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* Largest remaining length the four length bytes can say. */
#define MQTT_PACKET_MAX_REMAINING	268435455u
/* Longest fixed header: the type byte and four length bytes. */
#define MQTT_PACKET_MAX_HEAD		5

enum mqtt_packet_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
};

/* CONNACK return codes. */
#define MQTT_CONNACK_ACCEPTED		0
#define MQTT_CONNACK_BAD_PROTOCOL	1
#define MQTT_CONNACK_BAD_ID		2
#define MQTT_CONNACK_UNAVAILABLE	3
#define MQTT_CONNACK_BAD_LOGIN		4
#define MQTT_CONNACK_NOT_AUTHORIZED	5

/* The SUBACK code of a refused subscription. */
#define MQTT_SUBACK_FAILURE		0x80

/* A string or binary field; decoded ones point into the packet's bytes. */
struct mqtt_str {
	const char	*p;
	size_t		 len;
};

/* A topic filter of SUBSCRIBE (with its QoS) or UNSUBSCRIBE. */
struct mqtt_packet_topic {
	struct mqtt_str	 filter;
	uint8_t		 qos;
};

struct mqtt_packet_connect {
	struct mqtt_str	 protocol;	/* "MQTT" (or "MQIsdp") */
	uint8_t		 level;		/* 4; other levels stop the decoding */
	int		 clean;
	int		 will;
	uint8_t		 will_qos;
	int		 will_retain;
	int		 has_username;
	int		 has_password;
	uint16_t	 keepalive;	/* seconds */
	struct mqtt_str	 client_id;
	struct mqtt_str	 will_topic;
	struct mqtt_str	 will_payload;
	struct mqtt_str	 username;
	struct mqtt_str	 password;
};

struct mqtt_packet_publish {
	int		 dup;
	uint8_t		 qos;
	int		 retain;
	struct mqtt_str	 topic;
	const uint8_t	*payload;
	size_t		 len;
};

struct mqtt_packet {
	enum mqtt_packet_type		 type;
	uint16_t			 id;	/* packet identifier, or 0 */
	struct mqtt_packet_connect	 connect;
	struct {
		int			 session_present;
		uint8_t			 rc;
	}				 connack;
	struct mqtt_packet_publish	 publish;
	/* SUBSCRIBE and UNSUBSCRIBE: allocated by the decoder */
	struct mqtt_packet_topic	*topics;
	size_t				 ntopics;
	/* SUBACK: points into the bytes (decoded) or the caller's array */
	const uint8_t			*codes;
	size_t				 ncodes;
};

/*
 * Reads the fixed header at the start of buf: 1 when it is complete, with
 * the packet's total length in *total (which may be more than len); 0
 * when more bytes are needed; -1 with *errstr when the remaining length
 * is malformed or the packet would be longer than max bytes.
 */
int	 mqtt_packet_frame(const uint8_t *buf, size_t len, size_t max,
	    size_t *total, const char **errstr);
/*
 * Decodes one whole packet of len bytes (as framed) into p, whose strings
 * point into buf. 0, or -1 with *errstr when the packet breaks the
 * protocol. The caller clears p with mqtt_packet_clear either way.
 */
int	 mqtt_packet_decode(const uint8_t *buf, size_t len,
	    struct mqtt_packet *p, const char **errstr);
void	 mqtt_packet_clear(struct mqtt_packet *);
/*
 * Encodes p into buf when its length is at most size; returns the length
 * of the packet either way (0 when p cannot be encoded).
 */
size_t	 mqtt_packet_encode(const struct mqtt_packet *p, uint8_t *buf,
	    size_t size);
/*
 * mqtt_packet_encode for a PUBLISH without its payload: the fixed header
 * (counting the payload), the topic and the packet identifier. The
 * payload is sent right after.
 */
size_t	 mqtt_packet_encode_head(const struct mqtt_packet *p, uint8_t *buf,
	    size_t size);
/* The name of a packet type for logs ("PUBLISH"), "?" when unknown. */
const char *mqtt_packet_name(int type);

#endif
