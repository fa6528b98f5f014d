/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debug endpoints for people on the node: /debug/config shows the
 * effective configuration (secrets redacted by conf_dump_json) and
 * /debug/store?prefix=o/ lists stored keys under a prefix with the size of
 * each value, at most API_DEBUG_STORE_MAX of them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store.h"

/* State of one /debug/store scan. */
struct api_debug_scan {
	cJSON	*items;
	size_t	 n;
	int	 truncated;
};

/* GET /debug/config */
void
api_debug_config(struct api_req *req)
{
	struct api	*api = api_req_api(req);
	char		*js;

	if (api->conf == NULL || (js = conf_dump_json(api->conf)) == NULL) {
		api_reply_status(req, 500, "InternalError",
		    "cannot format the configuration");
		return;
	}
	api_reply_text(req, 200, "application/json", js);
	free(js);
}

/* Adds one key and its value's size; stops after the limit. */
static int
api_debug_scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct api_debug_scan	*sc = arg;
	cJSON			*item;

	(void)val;
	if (sc->n == API_DEBUG_STORE_MAX) {
		sc->truncated = 1;
		return 1;
	}
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "key", key);
	cJSON_AddNumberToObject(item, "size", (double)len);
	cJSON_AddItemToArray(sc->items, item);
	sc->n++;
	return 0;
}

/* GET /debug/store?prefix=P */
void
api_debug_store(struct api_req *req)
{
	struct api		*api = api_req_api(req);
	struct api_debug_scan	 sc;
	const char		*prefix;
	cJSON			*top;
	char			*js;

	if (api->store == NULL) {
		api_reply_status(req, 503, "ServiceUnavailable",
		    "the store is not open");
		return;
	}
	if ((prefix = api_req_query(req, "prefix")) == NULL)
		prefix = "";
	memset(&sc, 0, sizeof(sc));
	top = cJSON_CreateObject();
	cJSON_AddStringToObject(top, "prefix", prefix);
	sc.items = cJSON_AddArrayToObject(top, "items");
	if (store_scan(api->store, prefix, api_debug_scan_cb, &sc) == -1) {
		cJSON_Delete(top);
		api_reply_status(req, 500, "InternalError",
		    "cannot read the store");
		return;
	}
	cJSON_AddNumberToObject(top, "count", (double)sc.n);
	cJSON_AddBoolToObject(top, "truncated", sc.truncated);
	js = json_print(top);
	cJSON_Delete(top);
	api_reply_text(req, 200, "application/json", js);
	free(js);
}
