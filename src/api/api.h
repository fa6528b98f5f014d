/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local HTTP endpoint (libevhtp on the loop): health, readiness,
 * metrics and debug endpoints and the Kubernetes read API. Only api.c
 * uses libevhtp (core/version.c includes evhtp.h only to print its
 * version).
 */
#ifndef EDGESITE_API_H
#define EDGESITE_API_H

#include "core/metrics.h"

struct event_base;
struct conf;
struct store;
struct api;

/*
 * Creates the endpoint and binds conf->api_listen. NULL with *errstr set
 * (static storage) when the address is bad or cannot be bound.
 */
struct api	*api_new(struct event_base *, const struct conf *,
		    struct store *, const char **errstr);
/*
 * Adds a room's writer to /metrics (core/metrics.h): main() calls it once
 * per room that has counters, and /metrics calls cb(out, arg) on each
 * request, in the order added. room is a static name for the log; arg
 * must stay valid until api_free.
 */
void		 api_metrics_add(struct api *, const char *room, metrics_cb,
		    void *arg);
/* Stops accepting new connections (shutdown begins). */
void		 api_close_listeners(struct api *);
/* Points the endpoint at a new effective config after a reload. */
void		 api_set_conf(struct api *, const struct conf *);
/* Frees everything; accepts NULL. */
void		 api_free(struct api *);

#endif
