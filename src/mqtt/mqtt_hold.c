/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The acknowledgements the broker withholds until what they acknowledge
 * is on disk. A PUBLISH whose routing wrote to the store (a retained
 * message, a message queued for a persistent session) is acknowledged
 * (PUBACK, PUBREC) only once the store has synced the batch that carries
 * it; the acks of one connection leave in the order their PUBLISHes came,
 * so the ones behind a held ack wait too. A write or a sync that fails is
 * never acknowledged: the connection closes and the client sends again.
 *
 * What routing wrote is the broker's batch of this loop turn (committed
 * after the turn's callbacks, mqtt_persist_flush) and what the tap's room
 * committed at once (the twin). A held ack waits for that batch
 * (pending, until mqtt_hold_commit learns its revision) and for the
 * store revision it saw after routing. Each connection keeps its held
 * acks in a queue; the broker keeps the connections with held acks on
 * its list "holding".
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdlib.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker_int.h"
#include "mqtt/mqtt_packet.h"
#include "store/store.h"

/* One withheld PUBACK or PUBREC. */
struct mqtt_hold {
	enum mqtt_packet_type	 type;
	uint16_t		 id;
	int			 pending;	/* waits for this turn's batch */
	uint64_t		 rev;		/* durable once synced to it */
	TAILQ_ENTRY(mqtt_hold)	 entry;
};

/*
 * 1 when an ack for c must wait: routing wrote (rev is the store's
 * revision after it) or acks wait before it.
 */
int
mqtt_hold_needed(struct mqtt_conn *c, uint64_t rev)
{
	struct mqtt_broker	*b = c->broker;

	if (b->store == NULL)
		return 0;
	return b->batch != NULL || rev > store_synced(b->store) ||
	    !TAILQ_EMPTY(&c->holds);
}

/* Queues an ack behind the others of c. */
void
mqtt_hold_add(struct mqtt_conn *c, enum mqtt_packet_type type, uint16_t id,
    uint64_t rev)
{
	struct mqtt_broker	*b = c->broker;
	struct mqtt_hold	*h, *last;

	h = xcalloc(1, sizeof(*h));
	h->type = type;
	h->id = id;
	h->pending = b->batch != NULL;
	h->rev = rev;
	last = TAILQ_LAST(&c->holds, mqtt_holdq);
	/* it leaves after the one before it */
	if (last != NULL) {
		h->pending |= last->pending;
		if (last->rev > h->rev)
			h->rev = last->rev;
	}
	if (h->rev > store_synced(b->store))
		store_sync_soon(b->store);
	if (TAILQ_EMPTY(&c->holds))
		TAILQ_INSERT_TAIL(&b->holding, c, hold_entry);
	TAILQ_INSERT_TAIL(&c->holds, h, entry);
	b->stats.acks_held++;
}

/* Forgets the held acks of a closing connection. */
void
mqtt_hold_drop(struct mqtt_conn *c)
{
	struct mqtt_hold	*h;

	if (TAILQ_EMPTY(&c->holds))
		return;
	while ((h = TAILQ_FIRST(&c->holds)) != NULL) {
		TAILQ_REMOVE(&c->holds, h, entry);
		free(h);
	}
	TAILQ_REMOVE(&c->broker->holding, c, hold_entry);
}

/* Sends the acks of c made durable (rev <= synced), in order. */
static void
mqtt_hold_release_conn(struct mqtt_conn *c, uint64_t synced)
{
	struct mqtt_hold	*h;

	while ((h = TAILQ_FIRST(&c->holds)) != NULL && !h->pending &&
	    h->rev <= synced) {
		TAILQ_REMOVE(&c->holds, h, entry);
		mqtt_conn_send_ack(c, h->type, h->id);
		free(h);
	}
	if (TAILQ_EMPTY(&c->holds))
		TAILQ_REMOVE(&c->broker->holding, c, hold_entry);
}

/*
 * Closes c: a write its acks wait for failed. The client gets no ack
 * and sends again when it reconnects.
 */
static void
mqtt_hold_fail_conn(struct mqtt_conn *c)
{
	struct mqtt_broker	*b = c->broker;

	b->stats.acks_withheld++;
	/* a full disk fails every client: one warning per interval */
	if (ratelimit_pass(&b->hold_rl, clock_mono_ms(), NULL)) {
		log_warnx("%s: the store could not write what it sent, "
		    "closing without the acknowledgement (%llu such "
		    "closes in all)", c->name, b->stats.acks_withheld);
	} else
		log_debug("%s: the store could not write what it sent, "
		    "closing without the acknowledgement", c->name);
	mqtt_conn_fsm(c, MQTT_CONN_EV_UNSYNCED);
}

/* Routing c's PUBLISH could not write what it carries: no ack. */
void
mqtt_hold_refuse(struct mqtt_conn *c)
{
	mqtt_hold_fail_conn(c);
}

/*
 * The first connection whose acks wait for a write that failed: with
 * pending, this turn's batch; else a revision not synced.
 */
static struct mqtt_conn *
mqtt_hold_failed(struct mqtt_broker *b, int pending)
{
	struct mqtt_conn	*c;
	struct mqtt_hold	*h;

	TAILQ_FOREACH(c, &b->holding, hold_entry) {
		h = TAILQ_LAST(&c->holds, mqtt_holdq);
		if (pending ? h->pending : !h->pending)
			return c;
	}
	return NULL;
}

/*
 * Closes the connections whose acks wait for a failed write, one at a
 * time from the head: a close publishes a will, which may close others.
 */
static void
mqtt_hold_fail(struct mqtt_broker *b, int pending)
{
	struct mqtt_conn	*c;

	while ((c = mqtt_hold_failed(b, pending)) != NULL)
		mqtt_hold_fail_conn(c);
}

/* Releases what is synced; after a failed sync, fails what is not. */
static void
mqtt_hold_release(struct mqtt_broker *b, uint64_t synced, int failed)
{
	struct mqtt_conn	*c, *next;

	for (c = TAILQ_FIRST(&b->holding); c != NULL; c = next) {
		next = TAILQ_NEXT(c, hold_entry);
		mqtt_hold_release_conn(c, synced);
	}
	if (failed)
		mqtt_hold_fail(b, 0);
}

/*
 * The batch of this turn was committed (rev, or failed): the acks that
 * waited for it wait now for its sync, or their connections close.
 */
void
mqtt_hold_commit(struct mqtt_broker *b, int failed, uint64_t rev)
{
	struct mqtt_conn	*c;
	struct mqtt_hold	*h;

	if (failed) {
		mqtt_hold_fail(b, 1);
		return;
	}
	TAILQ_FOREACH(c, &b->holding, hold_entry) {
		TAILQ_FOREACH(h, &c->holds, entry) {
			if (!h->pending)
				continue;
			h->pending = 0;
			if (rev > h->rev)
				h->rev = rev;
		}
	}
	mqtt_hold_release(b, store_synced(b->store), 0);
}

/* store: a sync happened (or failed). */
void
mqtt_hold_synced_cb(uint64_t synced, int failed, void *arg)
{
	mqtt_hold_release(arg, synced, failed);
}
