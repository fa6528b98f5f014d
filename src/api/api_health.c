/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /healthz, /livez and /readyz, answered as kube-apiserver answers them:
 * "ok" or a failure, and with ?verbose one line per check ("[+]store ok",
 * "[-]kube down: detail") ending in "readyz check passed" or "failed".
 * Liveness means the loop answers; readiness is what the parts report to
 * core/health.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/api_int.h"
#include "core/health.h"
#include "core/log.h"

#define API_HEALTH_CTYPE	"text/plain; charset=utf-8"
#define API_HEALTH_DETAIL_MAX	200

/* Appends a part's detail with control characters made harmless. */
static void
api_health_detail(struct evbuffer *b, const char *detail)
{
	size_t	i;
	char	ch;

	for (i = 0; detail[i] != '\0' && i < API_HEALTH_DETAIL_MAX; i++) {
		ch = detail[i];
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			ch = ' ';
		evbuffer_add(b, &ch, 1);
	}
}

/* One "[+]name state: detail" line per part. */
static void
api_health_line_cb(const char *name, enum health_state st,
    const char *detail, void *arg)
{
	struct evbuffer	*b = arg;

	evbuffer_add_printf(b, "[%c]%s %s", st == HEALTH_DOWN ? '-' : '+',
	    name, health_state_name(st));
	if (st != HEALTH_OK && *detail != '\0') {
		evbuffer_add(b, ": ", 2);
		api_health_detail(b, detail);
	}
	evbuffer_add(b, "\n", 1);
}

/*
 * Answers one check: "ok" when it passes and nobody asked for detail,
 * else the lines and a verdict; 503 when it fails.
 */
static void
api_health_answer(struct api_req *req, const char *check, int ok,
    int parts)
{
	struct evbuffer	*b;
	int		 verbose = api_req_query(req, "verbose") != NULL;

	if (ok && !verbose) {
		api_reply_text(req, 200, API_HEALTH_CTYPE, "ok");
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evbuffer_add(b, "[+]ping ok\n", 11);
	if (parts)
		health_foreach(api_health_line_cb, b);
	evbuffer_add_printf(b, "%s check %s\n", check, ok ? "passed" :
	    "failed");
	api_reply(req, ok ? 200 : 503, API_HEALTH_CTYPE, b);
	evbuffer_free(b);
}

/* GET /healthz: the loop answers. */
void
api_health_healthz(struct api_req *req)
{
	api_health_answer(req, "healthz", 1, 0);
}

/* GET /livez: as /healthz. */
void
api_health_livez(struct api_req *req)
{
	api_health_answer(req, "livez", 1, 0);
}

/* GET /readyz: every part that counts is up. */
void
api_health_readyz(struct api_req *req)
{
	api_health_answer(req, "readyz", health_ready(), 1);
}
