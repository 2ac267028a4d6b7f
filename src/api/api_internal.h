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
#include "deliver/registry.h"
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

/* resources: each returns API_DONE or API_PENDING */
int api_companies(struct api *a, struct api_req *req, const struct caller *c, char **seg, int nseg);
int api_webhooks(struct api *a, struct api_req *req, const struct caller *c, char **seg, int nseg);
int api_events(struct api *a, struct api_req *req, const struct caller *c, char **seg, int nseg);
int api_deliveries(struct api *a, struct api_req *req, const struct caller *c, char **seg,
                   int nseg);
int api_opevents(struct api *a, struct api_req *req, const struct caller *c, char **seg, int nseg);

#endif
