/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MQTT topics: validation of names and filters (MQTT 3.1.1 sections 1.5.3
 * and 4.7), matching, the covering test of the ACL, and the topic tree of
 * the embedded broker. A tree node stands for one level; its children are
 * kept sorted by level text so a lookup is a binary search, and '+' and
 * '#' children exist only for subscriptions (a topic name never has a
 * wildcard level). A node with no children, no subscriptions and no
 * retained message is removed at once, so the tree only holds what is in
 * use.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "mqtt/mqtt_topic.h"

struct mqtt_topic_sub {
	void		*owner;
	uint8_t		 qos;
};

struct mqtt_topic_node {
	struct mqtt_topic_node	 *parent;
	struct mqtt_topic_node	**kids;		/* sorted by level */
	size_t			  nkids;
	size_t			  kidsz;
	struct mqtt_topic_sub	 *subs;
	size_t			  nsubs;
	size_t			  subsz;
	void			 *retained;
	size_t			  len;
	char			  level[];	/* NUL-terminated */
};

struct mqtt_topic_tree {
	struct mqtt_topic_node	*root;
	size_t			 nsubs;
	size_t			 nretained;
};

/* One level of a topic or filter: its text and where the next starts. */
struct mqtt_topic_level {
	const char	*p;
	size_t		 len;
	const char	*next;		/* NULL after the last level */
};

/* Splits off the level starting at p into l. */
static void
mqtt_topic_level(const char *p, struct mqtt_topic_level *l)
{
	l->p = p;
	l->len = strcspn(p, "/");
	l->next = p[l->len] == '/' ? p + l->len + 1 : NULL;
}

/* Whether level l is exactly the one-character string w. */
static int
mqtt_topic_is(const struct mqtt_topic_level *l, char w)
{
	return l->len == 1 && l->p[0] == w;
}

/* Length of the UTF-8 sequence starting at s[0..len), 0 when invalid. */
static size_t
mqtt_topic_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		n = 2;
	else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c < 0xf5) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int
mqtt_topic_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	if (len > MQTT_TOPIC_MAX)
		return 0;
	while (i < len) {
		if (p[i] > 0 && p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = mqtt_topic_utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
mqtt_topic_name_valid(const char *s, size_t len)
{
	return len > 0 && mqtt_topic_utf8_valid(s, len) &&
	    memchr(s, '+', len) == NULL && memchr(s, '#', len) == NULL;
}

int
mqtt_topic_filter_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || !mqtt_topic_utf8_valid(s, len))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] != '+' && s[i] != '#')
			continue;
		/* A wildcard fills its whole level. */
		if (i > 0 && s[i - 1] != '/')
			return 0;
		if (i + 1 < len && s[i + 1] != '/')
			return 0;
		if (s[i] == '#' && i + 1 != len)
			return 0;
	}
	return 1;
}

int
mqtt_topic_match(const char *filter, const char *topic)
{
	struct mqtt_topic_level	f, t;
	const char		*fp = filter, *tp = topic;

	if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return 0;
	for (;;) {
		mqtt_topic_level(fp, &f);
		if (mqtt_topic_is(&f, '#'))
			return 1;
		mqtt_topic_level(tp, &t);
		if (!mqtt_topic_is(&f, '+') && (f.len != t.len ||
		    memcmp(f.p, t.p, f.len) != 0))
			return 0;
		if (t.next == NULL) {
			/* "a/#" matches "a" too. */
			return f.next == NULL || strcmp(f.next, "#") == 0;
		}
		if (f.next == NULL)
			return 0;
		fp = f.next;
		tp = t.next;
	}
}

int
mqtt_topic_covers(const char *acl, const char *sub)
{
	struct mqtt_topic_level	a, s;
	const char		*ap = acl, *sp = sub;

	if (sub[0] == '$' && (acl[0] == '+' || acl[0] == '#'))
		return 0;
	for (;;) {
		mqtt_topic_level(ap, &a);
		if (mqtt_topic_is(&a, '#'))
			return 1;
		mqtt_topic_level(sp, &s);
		if (mqtt_topic_is(&s, '#'))
			return 0;
		if (!mqtt_topic_is(&a, '+') && (mqtt_topic_is(&s, '+') ||
		    a.len != s.len || memcmp(a.p, s.p, a.len) != 0))
			return 0;
		if (s.next == NULL)
			return a.next == NULL || strcmp(a.next, "#") == 0;
		if (a.next == NULL)
			return 0;
		ap = a.next;
		sp = s.next;
	}
}

/*
 * The tree.
 */

/* A new node for level l under parent (not linked yet). */
static struct mqtt_topic_node *
mqtt_topic_node_new(struct mqtt_topic_node *parent, const char *p, size_t len)
{
	struct mqtt_topic_node	*n;

	n = xcalloc(1, sizeof(*n) + len + 1);
	n->parent = parent;
	n->len = len;
	memcpy(n->level, p, len);
	return n;
}

/* Compares level (p, len) with a node's level, as memcmp orders them. */
static int
mqtt_topic_node_cmp(const char *p, size_t len, const struct mqtt_topic_node *n)
{
	size_t	m = len < n->len ? len : n->len;
	int	c;

	if ((c = memcmp(p, n->level, m)) != 0)
		return c;
	return len < n->len ? -1 : len > n->len;
}

/* Index of the child with level (p, len), or where it would go; *found. */
static size_t
mqtt_topic_node_find(const struct mqtt_topic_node *n, const char *p,
    size_t len, int *found)
{
	size_t	lo = 0, hi = n->nkids, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = mqtt_topic_node_cmp(p, len, n->kids[mid]);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The child of n with level (p, len), or NULL. */
static struct mqtt_topic_node *
mqtt_topic_node_child(const struct mqtt_topic_node *n, const char *p,
    size_t len)
{
	size_t	i;
	int	found;

	i = mqtt_topic_node_find(n, p, len, &found);
	return found ? n->kids[i] : NULL;
}

/* The child of n with level (p, len), created when missing. */
static struct mqtt_topic_node *
mqtt_topic_node_child_add(struct mqtt_topic_node *n, const char *p,
    size_t len)
{
	struct mqtt_topic_node	*k;
	size_t			 i;
	int			 found;

	i = mqtt_topic_node_find(n, p, len, &found);
	if (found)
		return n->kids[i];
	if (n->nkids == n->kidsz) {
		n->kidsz = n->kidsz == 0 ? 2 : n->kidsz * 2;
		n->kids = xreallocarray(n->kids, n->kidsz, sizeof(*n->kids));
	}
	memmove(n->kids + i + 1, n->kids + i, (n->nkids - i) *
	    sizeof(*n->kids));
	k = mqtt_topic_node_new(n, p, len);
	n->kids[i] = k;
	n->nkids++;
	return k;
}

/* The node of a topic or filter, created (add) or looked up. */
static struct mqtt_topic_node *
mqtt_topic_node_walk(struct mqtt_topic_tree *t, const char *s, int add)
{
	struct mqtt_topic_node	*n = t->root;
	struct mqtt_topic_level	 l;
	const char		*p = s;

	while (n != NULL && p != NULL) {
		mqtt_topic_level(p, &l);
		n = add ? mqtt_topic_node_child_add(n, l.p, l.len) :
		    mqtt_topic_node_child(n, l.p, l.len);
		p = l.next;
	}
	return n;
}

/* Frees a node and everything below it. */
static void
mqtt_topic_node_free(struct mqtt_topic_node *n, void (*free_retained)(void *))
{
	size_t	i;

	for (i = 0; i < n->nkids; i++)
		mqtt_topic_node_free(n->kids[i], free_retained);
	if (n->retained != NULL && free_retained != NULL)
		free_retained(n->retained);
	free(n->kids);
	free(n->subs);
	free(n);
}

/* Removes empty nodes from n up towards the root. */
static void
mqtt_topic_node_prune(struct mqtt_topic_node *n)
{
	struct mqtt_topic_node	*p;
	size_t			 i;
	int			 found;

	while ((p = n->parent) != NULL && n->nkids == 0 && n->nsubs == 0 &&
	    n->retained == NULL) {
		i = mqtt_topic_node_find(p, n->level, n->len, &found);
		if (found) {
			memmove(p->kids + i, p->kids + i + 1, (p->nkids - i - 1) *
			    sizeof(*p->kids));
			p->nkids--;
		}
		mqtt_topic_node_free(n, NULL);
		n = p;
	}
}

struct mqtt_topic_tree *
mqtt_topic_tree_new(void)
{
	struct mqtt_topic_tree	*t;

	t = xcalloc(1, sizeof(*t));
	t->root = mqtt_topic_node_new(NULL, "", 0);
	return t;
}

void
mqtt_topic_tree_free(struct mqtt_topic_tree *t, void (*free_retained)(void *))
{
	if (t == NULL)
		return;
	mqtt_topic_node_free(t->root, free_retained);
	free(t);
}

int
mqtt_topic_tree_subscribe(struct mqtt_topic_tree *t, const char *filter,
    void *owner, uint8_t qos)
{
	struct mqtt_topic_node	*n;
	size_t			 i;

	n = mqtt_topic_node_walk(t, filter, 1);
	for (i = 0; i < n->nsubs; i++) {
		if (n->subs[i].owner == owner) {
			n->subs[i].qos = qos;
			return 0;
		}
	}
	if (n->nsubs == n->subsz) {
		n->subsz = n->subsz == 0 ? 2 : n->subsz * 2;
		n->subs = xreallocarray(n->subs, n->subsz, sizeof(*n->subs));
	}
	n->subs[n->nsubs].owner = owner;
	n->subs[n->nsubs].qos = qos;
	n->nsubs++;
	t->nsubs++;
	return 1;
}

int
mqtt_topic_tree_unsubscribe(struct mqtt_topic_tree *t, const char *filter,
    void *owner)
{
	struct mqtt_topic_node	*n;
	size_t			 i;

	if ((n = mqtt_topic_node_walk(t, filter, 0)) == NULL)
		return 0;
	for (i = 0; i < n->nsubs; i++) {
		if (n->subs[i].owner != owner)
			continue;
		n->subs[i] = n->subs[--n->nsubs];
		t->nsubs--;
		mqtt_topic_node_prune(n);
		return 1;
	}
	return 0;
}

/* Calls cb for every subscription held by node n. */
static void
mqtt_topic_node_subs(const struct mqtt_topic_node *n, mqtt_topic_sub_cb cb,
    void *arg)
{
	size_t	i;

	for (i = 0; i < n->nsubs; i++)
		cb(n->subs[i].owner, n->subs[i].qos, arg);
}

/* Matches the topic from level p on against the filters below n. */
static void
mqtt_topic_node_match(const struct mqtt_topic_node *n, const char *p,
    mqtt_topic_sub_cb cb, void *arg)
{
	const struct mqtt_topic_node	*k;
	struct mqtt_topic_level		 l;

	while (n != NULL) {
		/* '#' matches here and below ("a/#" matches "a" too). */
		if ((k = mqtt_topic_node_child(n, "#", 1)) != NULL)
			mqtt_topic_node_subs(k, cb, arg);
		if (p == NULL) {
			mqtt_topic_node_subs(n, cb, arg);
			return;
		}
		mqtt_topic_level(p, &l);
		if ((k = mqtt_topic_node_child(n, "+", 1)) != NULL)
			mqtt_topic_node_match(k, l.next, cb, arg);
		n = mqtt_topic_node_child(n, l.p, l.len);
		p = l.next;
	}
}

void
mqtt_topic_tree_match(struct mqtt_topic_tree *t, const char *topic,
    mqtt_topic_sub_cb cb, void *arg)
{
	struct mqtt_topic_level	 l;

	if (topic[0] != '$') {
		mqtt_topic_node_match(t->root, topic, cb, arg);
		return;
	}
	/* '#' and '+' at the root level do not match '$' topics. */
	mqtt_topic_level(topic, &l);
	mqtt_topic_node_match(mqtt_topic_node_child(t->root, l.p, l.len),
	    l.next, cb, arg);
}

void *
mqtt_topic_tree_retain(struct mqtt_topic_tree *t, const char *topic,
    void *retained)
{
	struct mqtt_topic_node	*n;
	void			*old;

	if ((n = mqtt_topic_node_walk(t, topic, retained != NULL)) == NULL)
		return NULL;
	old = n->retained;
	n->retained = retained;
	if (old != NULL)
		t->nretained--;
	if (retained != NULL)
		t->nretained++;
	else
		mqtt_topic_node_prune(n);
	return old;
}

/* Whether a node is a wildcard level, which no retained topic goes through. */
static int
mqtt_topic_node_wild(const struct mqtt_topic_node *n)
{
	return n->len == 1 && (n->level[0] == '+' || n->level[0] == '#');
}

/* Calls cb for n's retained message and every one below n. */
static void
mqtt_topic_node_all(const struct mqtt_topic_node *n, int dollar,
    mqtt_topic_retained_cb cb, void *arg)
{
	size_t	i;

	if (n->retained != NULL)
		cb(n->retained, arg);
	for (i = 0; i < n->nkids; i++) {
		if (mqtt_topic_node_wild(n->kids[i]) ||
		    (dollar && n->kids[i]->level[0] == '$'))
			continue;
		mqtt_topic_node_all(n->kids[i], 0, cb, arg);
	}
}

/* Retained messages below n matching the filter from level p on. */
static void
mqtt_topic_node_retained(const struct mqtt_topic_node *n, const char *p,
    int root, mqtt_topic_retained_cb cb, void *arg)
{
	struct mqtt_topic_level	 l;
	size_t			 i;

	while (n != NULL) {
		if (p == NULL) {
			if (n->retained != NULL)
				cb(n->retained, arg);
			return;
		}
		mqtt_topic_level(p, &l);
		if (mqtt_topic_is(&l, '#')) {
			/* At the root there is no message of its own. */
			mqtt_topic_node_all(n, root, cb, arg);
			return;
		}
		if (mqtt_topic_is(&l, '+')) {
			for (i = 0; i < n->nkids; i++)
				if (!mqtt_topic_node_wild(n->kids[i]) &&
				    !(root && n->kids[i]->level[0] == '$'))
					mqtt_topic_node_retained(n->kids[i],
					    l.next, 0, cb, arg);
			return;
		}
		n = mqtt_topic_node_child(n, l.p, l.len);
		p = l.next;
		root = 0;
	}
}

void
mqtt_topic_tree_retained(struct mqtt_topic_tree *t, const char *filter,
    mqtt_topic_retained_cb cb, void *arg)
{
	mqtt_topic_node_retained(t->root, filter, 1, cb, arg);
}

size_t
mqtt_topic_tree_nsubs(const struct mqtt_topic_tree *t)
{
	return t->nsubs;
}

size_t
mqtt_topic_tree_nretained(const struct mqtt_topic_tree *t)
{
	return t->nretained;
}
