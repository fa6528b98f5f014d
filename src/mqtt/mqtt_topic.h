/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MQTT 3.1.1 topics: the UTF-8 rules, topic name and topic filter
 * validation, matching with the '+' and '#' wildcards and the '$' rule,
 * and the topic tree where the embedded broker keeps its subscriptions and
 * retained messages. Pure code: no I/O, no logging.
 */
#ifndef EDGESITE_MQTT_TOPIC_H
#define EDGESITE_MQTT_TOPIC_H

#include <stddef.h>
#include <stdint.h>

/* Longest string an MQTT length prefix can carry. */
#define MQTT_TOPIC_MAX	65535

/*
 * 1 when s is well-formed UTF-8 as MQTT wants it: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no U+0000, at most 65535 bytes.
 */
int	 mqtt_topic_utf8_valid(const char *s, size_t len);
/* 1 for a valid topic name: valid UTF-8, not empty, no wildcards. */
int	 mqtt_topic_name_valid(const char *s, size_t len);
/*
 * 1 for a valid topic filter: valid UTF-8, not empty, '+' alone in its
 * level, '#' alone in the last level.
 */
int	 mqtt_topic_filter_valid(const char *s, size_t len);
/*
 * 1 when the valid filter matches the valid topic name. A filter starting
 * with a wildcard does not match a topic starting with '$'.
 */
int	 mqtt_topic_match(const char *filter, const char *topic);
/*
 * 1 when every topic that filter sub can match is matched by filter acl
 * (both valid): the test an ACL applies to a subscription.
 */
int	 mqtt_topic_covers(const char *acl, const char *sub);

/*
 * The topic tree: one node per topic level, holding the subscriptions of
 * its filter (an owner pointer and a QoS each) and the retained message of
 * its topic (an opaque pointer the tree does not own).
 */
struct mqtt_topic_tree;

typedef void (*mqtt_topic_sub_cb)(void *owner, uint8_t qos, void *arg);
typedef void (*mqtt_topic_retained_cb)(void *retained, void *arg);

struct mqtt_topic_tree *mqtt_topic_tree_new(void);
/* Frees the tree; free_retained (may be NULL) is called for each message. */
void	 mqtt_topic_tree_free(struct mqtt_topic_tree *,
	    void (*free_retained)(void *));
/*
 * Adds owner's subscription to a valid filter, or changes its QoS. 1 when
 * it is new, 0 when it replaced one.
 */
int	 mqtt_topic_tree_subscribe(struct mqtt_topic_tree *, const char *filter,
	    void *owner, uint8_t qos);
/* Removes owner's subscription to filter: 1 when there was one, else 0. */
int	 mqtt_topic_tree_unsubscribe(struct mqtt_topic_tree *,
	    const char *filter, void *owner);
/*
 * Calls cb for every subscription whose filter matches the valid topic
 * name; an owner with overlapping filters is called once per filter. cb
 * must not change the tree.
 */
void	 mqtt_topic_tree_match(struct mqtt_topic_tree *, const char *topic,
	    mqtt_topic_sub_cb cb, void *arg);
/*
 * Sets the retained message of a valid topic name (NULL clears it) and
 * returns the one it replaces, or NULL.
 */
void	*mqtt_topic_tree_retain(struct mqtt_topic_tree *, const char *topic,
	    void *retained);
/* Calls cb for every retained message whose topic the filter matches. */
void	 mqtt_topic_tree_retained(struct mqtt_topic_tree *, const char *filter,
	    mqtt_topic_retained_cb cb, void *arg);
/* Counts: subscriptions and retained messages in the tree. */
size_t	 mqtt_topic_tree_nsubs(const struct mqtt_topic_tree *);
size_t	 mqtt_topic_tree_nretained(const struct mqtt_topic_tree *);

#endif
