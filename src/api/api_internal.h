/*
 * api_internal: what the resource files share — the api context, the
 * authenticated caller, JSON and pagination helpers. Not for outside src/api.
 */
#ifndef GANCHO_API_API_INTERNAL_H
#define GANCHO_API_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "api/api.h"
#include "api/tokcache.h"
#include "deliver/engine.h"
#include "registry/registry.h"
#include "store/store.h"

struct api {
	struct api_config cfg;
	struct registry *reg;
	struct engine *eng;
	pthread_mutex_t smu; /* guards s: management calls are rare, one connection is enough */
	struct store *s;
	struct tokcache unknown; /* bearer tokens recently found unknown */
};

struct caller {
	bool admin;
	int64_t company_seq; /* 0 for admin */
};

/* Answers. api_json takes over v. */
void api_json(struct api_req *req, int status, json_t *v);
int api_fail(struct api_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* api_body: the body parsed strictly as a JSON object, or NULL with the 400 already set. */
json_t *api_body(struct api_req *req);
/* api_page: limit (1..500, default 50) and cursor (a sequence number) from the query. */
int api_page(struct api_req *req, int *limit, int64_t *cursor);
/* api_list: {"data": items, "nextCursor": next or null}. The caller reads
 * limit+1 rows and puts at most limit in items; n is how many it read and
 * last_seq the seq of the last row shown: n > limit means another page. */
void api_list(struct api_req *req, json_t *items, int n, int limit, int64_t last_seq);
/* api_date: ISO-8601 UTC ms string, or JSON null for 0. */
json_t *api_date(int64_t ms);

void api_lock(struct api *a);
void api_unlock(struct api *a);

/* A route's handler (see the table in api.c): the caller is already
 * authenticated as the route asks, the method is one the route takes, and
 * param holds the segments its pattern's ":name"s matched, in order
 * (borrowed for the call). Returns API_DONE or API_PENDING. */
typedef int api_handler(struct api *a, struct api_req *req, const struct caller *c,
                        const char *const *param);

/* companies.c */
api_handler api_company_create, api_company_list, api_company_own;
api_handler api_token_add, api_token_list, api_token_revoke;
/* webhooks.c */
api_handler api_webhook_create, api_webhook_list, api_webhook_get, api_webhook_patch;
api_handler api_webhook_delete, api_webhook_replay;
/* events.c */
api_handler api_event_ingest, api_event_get;
/* deliveries.c */
api_handler api_delivery_list, api_delivery_get, api_delivery_retry, api_delivery_attempts;
api_handler api_opevent_list;
/* api_delivery_json: one delivery as GET /api/v1/deliveries shows it. */
json_t *api_delivery_json(const struct store_delivery *d);
/* sources.c */
api_handler api_source_create, api_source_list, api_source_get, api_source_patch;
api_handler api_source_delete, api_source_rejections;
/* routes.c */
api_handler api_route_create, api_route_list, api_route_get, api_route_patch;
api_handler api_route_delete, api_route_test;
/* reconciliations.c */
api_handler api_reconciliation_create, api_reconciliation_list, api_reconciliation_get;
api_handler api_reconciliation_patch, api_reconciliation_delete, api_reconciliation_run;
api_handler api_reconciliation_runs;
/* connections.c */
api_handler api_connection_create, api_connection_list, api_connection_get;
api_handler api_connection_patch, api_connection_delete;
/* receipts.c */
api_handler api_receipt_list, api_receipt_get;
api_handler api_receipt_replay;

#endif
