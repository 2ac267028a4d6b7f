/*
 * deliveries: the delivery log, attempts, manual retry; operator records
 * (routes and auth: the table in api.c).
 *
 *   GET  /api/v1/deliveries?webhookId=&status=&event=
 *   GET  /api/v1/deliveries/{id}            with its latest attempts
 *   GET  /api/v1/deliveries/{id}/attempts
 *   POST /api/v1/deliveries/{id}/retry      a dead letter (or any finished one) goes again
 *   GET  /api/v1/operator-events
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/clock.h"
#include "util/utf8.h"

/* id_json: sequence numbers go out as strings, like every other id. */
static json_t *id_json(int64_t seq)
{
	return json_sprintf("%lld", (long long)seq);
}

json_t *api_delivery_json(const struct store_delivery *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", id_json(d->seq));
	json_object_set_new(o, "webhookId", json_string(d->webhook_id));
	/* an event's delivery names its event; a route action's, its receipt */
	json_object_set_new(o, "eventId", d->event_id[0] ? json_string(d->event_id) : json_null());
	json_object_set_new(o, "receiptId",
	                    d->receipt_id[0] ? json_string(d->receipt_id) : json_null());
	json_object_set_new(o, "routeId", d->route_id[0] ? json_string(d->route_id) : json_null());
	json_object_set_new(o, "event", json_string(d->event));
	json_object_set_new(o, "status", json_string(delivery_status_name(d->status)));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "nextAttemptAt",
	                    d->status == DLV_PENDING ? api_date(d->next_at) : json_null());
	json_object_set_new(o, "lastStatusCode",
	                    d->attempts ? json_integer(d->last_http_status) : json_null());
	json_object_set_new(o, "lastError",
	                    d->last_error[0] ? json_string(d->last_error) : json_null());
	json_object_set_new(o, "createdAt", api_date(d->created_at));
	json_object_set_new(o, "updatedAt", api_date(d->updated_at));
	return o;
}

static json_t *attempt_json(const struct store_attempt *at)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", id_json(at->seq));
	json_object_set_new(o, "at", api_date(at->at));
	json_object_set_new(o, "statusCode", json_integer(at->http_status));
	json_object_set_new(o, "latencyMs", json_integer(at->latency_ms));
	json_object_set_new(o, "error", at->error[0] ? json_string(at->error) : json_null());
	/* The excerpt is the receiver's bytes: shown as text when it is valid UTF-8. */
	json_t *resp = NULL;
	if (at->response && at->response_len)
		resp = json_stringn(at->response, at->response_len);
	if (!resp && at->response_len) /* cut in the middle of a character? */
		resp =
		    json_stringn(at->response, utf8_trim_partial(at->response, at->response_len));
	if (!resp && at->response_len)
		resp = json_sprintf("<%zu bytes, not UTF-8>", at->response_len);
	json_object_set_new(o, "response", resp ? resp : json_null());
	return o;
}

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

static int list(struct api *a, struct api_req *req, const struct caller *c)
{
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	struct store_delivery_filter f = {.webhook_seq = 0, .status = -1, .event = NULL};
	const char *wid = req->query(req->conn, "webhookId");
	const char *st = req->query(req->conn, "status");
	f.event = req->query(req->conn, "event");
	if (f.event && !*f.event)
		f.event = NULL;
	if (st && *st && (f.status = delivery_status_parse(st)) < 0)
		return api_fail(req, 400, "invalid_field",
		                "status: one of pending, held, delivered, failed");
	api_lock(a);
	if (wid && *wid) {
		struct store_webhook w;
		if (store_webhook_get(a->s, c->company_seq, wid, &w)) {
			api_unlock(a);
			/* another company's webhook, or none: an empty page, not a leak */
			api_list(req, json_array(), 0, limit, 0);
			return API_DONE;
		}
		f.webhook_seq = w.seq;
		store_webhook_free(&w);
	}
	struct store_delivery *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int n = 0;
	int rc = rows ? store_delivery_list(a->s, c->company_seq, &f, cursor, limit + 1, rows, &n)
	              : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read deliveries");
	}
	int shown = n > limit ? limit : n;
	json_t *items = json_array();
	for (int i = 0; i < shown; i++)
		json_array_append_new(items, api_delivery_json(&rows[i]));
	api_list(req, items, n, limit, shown ? rows[shown - 1].seq : 0);
	free(rows);
	return API_DONE;
}

/* attempts_page: up to limit attempts after the cursor; *n is how many were
 * read (limit+1 are asked for, to know whether another page follows) and
 * *last the seq of the last one shown. NULL when the store fails. */
static json_t *attempts_page(struct api *a, int64_t delivery, int64_t after, int limit, int *n,
                             int64_t *last)
{
	struct store_attempt *rows = calloc((size_t)limit + 1, sizeof(*rows));
	*n = 0;
	*last = 0;
	if (!rows)
		return NULL;
	api_lock(a);
	int rc = store_attempt_list(a->s, delivery, after, limit + 1, rows, n);
	api_unlock(a);
	int shown = *n > limit ? limit : *n;
	json_t *items = rc ? NULL : json_array();
	for (int i = 0; i < *n; i++) {
		if (items && i < shown)
			json_array_append_new(items, attempt_json(&rows[i]));
		store_attempt_free(&rows[i]);
	}
	if (shown)
		*last = rows[shown - 1].seq;
	free(rows);
	return items;
}

/* latest_attempts: the newest limit attempts, oldest first; NULL when the
 * store fails. */
static json_t *latest_attempts(struct api *a, int64_t delivery, int limit)
{
	struct store_attempt *rows = calloc((size_t)limit, sizeof(*rows));
	int n = 0;
	if (!rows)
		return NULL;
	api_lock(a);
	int rc = store_attempt_latest(a->s, delivery, limit, rows, &n);
	api_unlock(a);
	json_t *items = rc ? NULL : json_array();
	for (int i = 0; i < n; i++) {
		if (items)
			json_array_append_new(items, attempt_json(&rows[i]));
		store_attempt_free(&rows[i]);
	}
	free(rows);
	return items;
}

int api_delivery_retry(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	int64_t id;
	if (parse_id(param[0], &id))
		return api_fail(req, 404, "not_found", "no delivery %s", param[0]);
	struct store_task t;
	struct gerr err = {0};
	api_lock(a);
	int rc = store_delivery_retry(a->s, c->company_seq, id, clock_now_ms(), &t, &err);
	api_unlock(a);
	if (rc) {
		api_error(req, &err);
		return API_DONE;
	}
	engine_task_add(a->eng, &t);
	api_json(req, 202, json_pack("{s:o,s:s}", "id", id_json(id), "status", "pending"));
	return API_DONE;
}

/* load: the caller's delivery named by s into d; else the 404 or 503 is set. */
static int load(struct api *a, struct api_req *req, const struct caller *c, const char *s,
                int64_t *id, struct store_delivery *d)
{
	if (parse_id(s, id))
		return api_fail(req, 404, "not_found", "no delivery %s", s), -1;
	api_lock(a);
	int rc = store_delivery_get(a->s, c->company_seq, *id, d);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no delivery %s", s), -1;
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot read deliveries"), -1;
	return 0;
}

int api_delivery_get(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	int64_t id;
	struct store_delivery d;
	if (load(a, req, c, param[0], &id, &d))
		return API_DONE;
	json_t *o = api_delivery_json(&d);
	json_t *atts = latest_attempts(a, id, 100);
	if (!atts) {
		json_decref(o);
		return api_fail(req, 503, "unavailable", "cannot read attempts");
	}
	json_object_set_new(o, "attempts", atts);
	api_json(req, 200, o);
	return API_DONE;
}

int api_delivery_attempts(struct api *a, struct api_req *req, const struct caller *c,
                          const char *const *param)
{
	int64_t id;
	struct store_delivery d;
	if (load(a, req, c, param[0], &id, &d))
		return API_DONE;
	int limit, n;
	int64_t cursor, last;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	json_t *items = attempts_page(a, id, cursor, limit, &n, &last);
	if (!items)
		return api_fail(req, 503, "unavailable", "cannot read attempts");
	api_list(req, items, n, limit, last);
	return API_DONE;
}

int api_delivery_list(struct api *a, struct api_req *req, const struct caller *c,
                      const char *const *param)
{
	(void)param;
	return list(a, req, c);
}

int api_opevent_list(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)param;
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	struct store_opevent *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int n = 0;
	api_lock(a);
	int rc = rows ? store_opevent_list(a->s, c->company_seq, cursor, limit + 1, rows, &n)
	              : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read operator events");
	}
	int shown = n > limit ? limit : n;
	json_t *items = json_array();
	for (int i = 0; i < shown; i++)
		json_array_append_new(
		    items, json_pack("{s:o,s:o,s:s,s:s,s:s}", "id", id_json(rows[i].seq), "at",
		                     api_date(rows[i].at), "kind", rows[i].kind, "webhookId",
		                     rows[i].webhook_id, "message", rows[i].message));
	api_list(req, items, n, limit, shown ? rows[shown - 1].seq : 0);
	free(rows);
	return API_DONE;
}
