/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KubeEdge event-bus topics of the device twin: the requests devices
 * and mappers send ($hw/events/node/<node>/membership/get and
 * $hw/events/device/<id>/{twin/update,twin/get,state/update}) and the
 * names of the answers. Pure code: no I/O, no logging.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "twin/twin_int.h"

#define TWIN_TOPIC_NODE		"$hw/events/node/"
#define TWIN_TOPIC_DEVICE	"$hw/events/device/"

static const char *const twin_topic_device_filters[] = {
	TWIN_TOPIC_DEVICE "+/twin/update",
	TWIN_TOPIC_DEVICE "+/twin/get",
	TWIN_TOPIC_DEVICE "+/state/update",
	NULL
};

/* What follows a device id, and what it asks. */
static const struct {
	const char		*suffix;
	enum twin_topic_kind	 kind;
} twin_topic_device_kinds[] = {
	{ "/twin/update", TWIN_TOPIC_TWIN_UPDATE },
	{ "/twin/get", TWIN_TOPIC_TWIN_GET },
	{ "/state/update", TWIN_TOPIC_STATE_UPDATE },
};

int
twin_topic_name_ok(const char *s)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++) {
		/* Topic separators, wildcards and control characters. */
		if (s[n] == '/' || s[n] == '+' || s[n] == '#' ||
		    (unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	}
	return n > 0 && n <= TWIN_MAX_NAME && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

/* Copies the level at p (up to the next '/') into id; its end, or NULL. */
static const char *
twin_topic_level(const char *p, char *id, size_t idlen)
{
	size_t	n = strcspn(p, "/");

	if (n == 0 || n >= idlen || n > TWIN_MAX_NAME)
		return NULL;
	memcpy(id, p, n);
	id[n] = '\0';
	return twin_topic_name_ok(id) ? p + n : NULL;
}

enum twin_topic_kind
twin_topic_parse(const char *topic, char *id, size_t idlen)
{
	const char	*p;
	size_t		 i;

	if (strncmp(topic, TWIN_TOPIC_NODE, strlen(TWIN_TOPIC_NODE)) == 0) {
		p = twin_topic_level(topic + strlen(TWIN_TOPIC_NODE), id,
		    idlen);
		if (p != NULL && strcmp(p, "/membership/get") == 0)
			return TWIN_TOPIC_MEMBERSHIP_GET;
		return TWIN_TOPIC_NONE;
	}
	if (strncmp(topic, TWIN_TOPIC_DEVICE, strlen(TWIN_TOPIC_DEVICE)) != 0)
		return TWIN_TOPIC_NONE;
	p = twin_topic_level(topic + strlen(TWIN_TOPIC_DEVICE), id, idlen);
	if (p == NULL)
		return TWIN_TOPIC_NONE;
	for (i = 0; i < sizeof(twin_topic_device_kinds) /
	    sizeof(twin_topic_device_kinds[0]); i++) {
		if (strcmp(p, twin_topic_device_kinds[i].suffix) == 0)
			return twin_topic_device_kinds[i].kind;
	}
	return TWIN_TOPIC_NONE;
}

const char *const *
twin_topic_filters(void)
{
	return twin_topic_device_filters;
}

char *
twin_topic_node(const char *node, const char *suffix)
{
	char	*t;

	xasprintf(&t, TWIN_TOPIC_NODE "%s%s", node, suffix);
	return t;
}

char *
twin_topic_device(const char *id, const char *suffix)
{
	char	*t;

	xasprintf(&t, TWIN_TOPIC_DEVICE "%s%s", id, suffix);
	return t;
}
