/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-peer connection counts of the local endpoint (api_peer.c):
 * addresses counted apart, a peer freed with its last connection (ASan
 * finds a leak or a use after free), many peers in one bucket chain.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "unit.h"

/* The key of IPv4 address a.b.c.d. */
static void
key4(uint8_t key[API_PEER_KEY], int a, int b, int c, int d)
{
	memset(key, 0, API_PEER_KEY);
	key[0] = 2;
	key[1] = (uint8_t)a;
	key[2] = (uint8_t)b;
	key[3] = (uint8_t)c;
	key[4] = (uint8_t)d;
}

static void
test_count(void)
{
	struct api_peers	*ps = api_peers_new();
	struct api_peer		*a1, *a2, *b;
	uint8_t			 ka[API_PEER_KEY], kb[API_PEER_KEY];

	key4(ka, 127, 0, 0, 1);
	key4(kb, 127, 0, 0, 2);
	a1 = api_peers_ref(ps, ka);
	a2 = api_peers_ref(ps, ka);
	b = api_peers_ref(ps, kb);
	CHECK(a1 == a2);
	CHECK(a1 != b);
	CHECK(api_peer_conns(a1) == 2);
	CHECK(api_peer_conns(b) == 1);
	CHECK(api_peers_count(ps) == 2);
	api_peers_unref(ps, a1);
	CHECK(api_peer_conns(a2) == 1);
	api_peers_unref(ps, b);
	CHECK(api_peers_count(ps) == 1);
	/* b is gone: the same address starts again from one */
	b = api_peers_ref(ps, kb);
	CHECK(api_peer_conns(b) == 1);
	api_peers_unref(ps, NULL);
	CHECK(api_peers_count(ps) == 2);
	/* the family is part of the key */
	kb[0] = 10;
	a1 = api_peers_ref(ps, kb);
	CHECK(a1 != b);
	CHECK(api_peers_count(ps) == 3);
	api_peers_free(ps);	/* frees what is still held */
}

static void
test_many(void)
{
	struct api_peers	*ps = api_peers_new();
	struct api_peer		*p[5000];
	uint8_t			 k[API_PEER_KEY];
	size_t			 i, bad = 0;

	for (i = 0; i < 5000; i++) {
		key4(k, 10, (int)(i >> 16) & 255, (int)(i >> 8) & 255,
		    (int)i & 255);
		p[i] = api_peers_ref(ps, k);
	}
	CHECK(api_peers_count(ps) == 5000);
	for (i = 0; i < 5000; i++) {
		key4(k, 10, (int)(i >> 16) & 255, (int)(i >> 8) & 255,
		    (int)i & 255);
		if (api_peers_ref(ps, k) != p[i] || api_peer_conns(p[i]) != 2)
			bad++;
	}
	CHECK(bad == 0);
	for (i = 0; i < 5000; i += 2) {
		api_peers_unref(ps, p[i]);
		api_peers_unref(ps, p[i]);
	}
	CHECK(api_peers_count(ps) == 2500);
	for (i = 1; i < 5000; i += 2)
		if (api_peer_conns(p[i]) != 2)
			bad++;
	CHECK(bad == 0);
	api_peers_free(ps);
}

int
main(void)
{
	test_count();
	test_many();
	return unit_done();
}
