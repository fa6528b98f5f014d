/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clients of the local endpoint by address, for the per-peer
 * connection limit: a small hash table of counts, pure (api.c turns a
 * socket address into the key). A peer lives while it holds a connection.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/xmalloc.h"

#define API_PEER_BUCKETS	1024	/* a power of two */

struct api_peer {
	uint8_t			 key[API_PEER_KEY];
	size_t			 n;		/* connections it holds */
	struct api_peer		*next;
};

struct api_peers {
	struct api_peer		*b[API_PEER_BUCKETS];
	size_t			 count;		/* peers holding any */
};

/* FNV-1a over the key: addresses are not chosen against us by hash. */
static size_t
api_peer_hash(const uint8_t *key)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < API_PEER_KEY; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h & (API_PEER_BUCKETS - 1);
}

struct api_peers *
api_peers_new(void)
{
	return xcalloc(1, sizeof(struct api_peers));
}

void
api_peers_free(struct api_peers *ps)
{
	struct api_peer	*p, *next;
	size_t		 i;

	if (ps == NULL)
		return;
	for (i = 0; i < API_PEER_BUCKETS; i++) {
		for (p = ps->b[i]; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	}
	free(ps);
}

struct api_peer *
api_peers_ref(struct api_peers *ps, const uint8_t *key)
{
	struct api_peer	**head = &ps->b[api_peer_hash(key)], *p;

	for (p = *head; p != NULL; p = p->next)
		if (memcmp(p->key, key, API_PEER_KEY) == 0)
			break;
	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		memcpy(p->key, key, API_PEER_KEY);
		p->next = *head;
		*head = p;
		ps->count++;
	}
	p->n++;
	return p;
}

void
api_peers_unref(struct api_peers *ps, struct api_peer *peer)
{
	struct api_peer	**pp;

	if (peer == NULL || --peer->n > 0)
		return;
	for (pp = &ps->b[api_peer_hash(peer->key)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == peer) {
			*pp = peer->next;
			ps->count--;
			free(peer);
			return;
		}
	}
}

size_t
api_peer_conns(const struct api_peer *peer)
{
	return peer->n;
}

size_t
api_peers_count(const struct api_peers *ps)
{
	return ps->count;
}
