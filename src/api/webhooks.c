/*
 * webhooks: subscriptions, Gupy-compatible (routes and auth: the table in api.c).
 *
 *   POST   /api/v1/webhooks              create (Gupy's body + extensions)
 *   GET    /api/v1/webhooks              list
 *   GET    /api/v1/webhooks/{id}         one
 *   PATCH  /api/v1/webhooks/{id}         change; status active releases held deliveries
 *   DELETE /api/v1/webhooks/{id}         delete; its open deliveries fail
 *   POST   /api/v1/webhooks/{id}/replay  new deliveries for events since a time
 *
 * Order of effects on a change: the store first (the truth), then the
 * registry (what ingest and the dispatcher read), then a message to the
 * dispatcher, so no reader ever sees a webhook the store does not have.
 *
 * Everything that can fail — validation, compiling, the answer — is done
 * before the store commits, so an error answer always means nothing
 * changed: a client that retries after an error never creates a second
 * webhook. What runs after the commit cannot turn the answer into an error.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kind.h"
#include "core/envelope.h"
#include "core/filter.h"
#include "core/webhook.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/uuid.h"

static json_t *answer(const struct store_webhook *w, const json_t *cfg)
{
	return webhook_to_json(cfg, w->id, w->status, w->created_at, w->updated_at);
}

/* tell_nodes: other gancho processes on the same database reload it. */
static void tell_nodes(struct api *a, int64_t seq)
{
	char msg[48];
	snprintf(msg, sizeof(msg), "webhook %lld", (long long)seq);
	store_notify(a->s, msg);
}

/* events_known: every event of cfg is built in or declared by the company,
 * as POST /events requires; else the same 422 and false. Checked only when
 * the body names events, so a later change to the company's declarations
 * does not block unrelated changes to a webhook. */
static bool events_known(struct api *a, struct api_req *req, const struct caller *c,
                         const json_t *body, const json_t *cfg)
{
	if (!json_object_get(body, "action") && !json_object_get(body, "events"))
		return true;
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(cfg, "events"), i, e) {
		const char *name = json_string_value(e);
		if (!registry_event_allowed(a->reg, c->company_seq, name)) {
			api_fail(req, 422, "unknown_event",
			         "event \"%s\" is not a known event; declare it with PATCH "
			         "/api/v1/company {\"eventTypes\": [...]}",
			         name);
			return false;
		}
	}
	return true;
}

/* prepare: the compiled webhook and the answer for a config about to be
 * stored, so that nothing after the commit can fail. w->seq is not known yet
 * for a new webhook: the caller sets cw->seq after the insert. */
static int prepare(const struct store_webhook *w, const json_t *cfg, struct webhook **cw,
                   json_t **ans, struct gerr *err)
{
	*ans = NULL;
	int rc =
	    webhook_compile(cfg, w->seq, w->id, w->company_seq, w->status, clock_now_ms(), cw, err);
	if (rc)
		return rc;
	*ans = answer(w, cfg);
	if (!*ans) {
		webhook_unref(*cw);
		*cw = NULL;
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	}
	return 0;
}

static int create(struct api *a, struct api_req *req, const struct caller *c)
{
	json_t *body = api_body(req), *cfg = NULL, *ans = NULL;
	if (!body)
		return API_DONE;
	if (json_object_get(body, "id")) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field",
		                "id: chosen by gancho, not by the client");
	}
	struct gerr err = {0};
	int64_t now = clock_now_ms();
	int status = webhook_status_from_body(body, WH_ACTIVE, &err);
	if (status < 0 ||
	    webhook_config_build(body, NULL, a->cfg.dev, a->cfg.dev, now, &cfg, &err)) {
		json_decref(body);
		api_error(req, &err);
		return API_DONE;
	}
	if (!events_known(a, req, c, body, cfg)) {
		json_decref(body);
		json_decref(cfg);
		return API_DONE;
	}
	json_decref(body);
	struct store_webhook w = {0};
	struct webhook *cw = NULL;
	uuid_v4(w.id);
	w.company_seq = c->company_seq;
	w.status = status;
	w.created_at = w.updated_at = now;
	w.config = json_dumps(cfg, JSON_COMPACT | JSON_REAL_PRECISION(15));
	int rc = w.config ? prepare(&w, cfg, &cw, &ans, &err) : GERR_NOMEM;
	if (rc == 0) {
		api_lock(a);
		rc = store_webhook_insert(a->s, &w, &err);
		if (rc == 0) {
			/* committed: from here on the answer is 201 */
			cw->seq = w.seq;
			registry_webhook_put(a->reg, cw);
			cw = NULL;
			tell_nodes(a, w.seq);
		}
		api_unlock(a);
	}
	if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot store the webhook");
		api_error(req, &err);
		webhook_unref(cw);
		json_decref(ans);
	} else {
		api_json(req, 201, ans);
	}
	free(w.config);
	json_decref(cfg);
	return API_DONE;
}

/* The store's webhook rows as api_kind_list and api_kind_load take them (kind.h). */
static int list_rows(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
                     int *n)
{
	return store_webhook_list(s, company_seq, before_seq, limit, out, n);
}

static int get_row(struct store *s, int64_t company_seq, const char *id, void *out)
{
	return store_webhook_get(s, company_seq, id, out);
}

static void drop_row(void *row)
{
	store_webhook_free(row);
}

static json_t *answer_row(const void *row, const json_t *cfg)
{
	return answer(row, cfg);
}

static const struct api_kind kind = {.name = "webhook",
                                     .plural = "webhooks",
                                     .size = sizeof(struct store_webhook),
                                     .seq_at = offsetof(struct store_webhook, seq),
                                     .config_at = offsetof(struct store_webhook, config),
                                     .list = list_rows,
                                     .get = get_row,
                                     .drop = drop_row,
                                     .answer = answer_row};

static int patch(struct api *a, struct api_req *req, const struct caller *c,
                 struct store_webhook *w, json_t *cfg)
{
	json_t *body = api_body(req), *ncfg = NULL, *ans = NULL;
	if (!body)
		return API_DONE;
	const json_t *id = json_object_get(body, "id");
	if (id && !(json_is_string(id) && strcmp(json_string_value(id), w->id) == 0)) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field",
		                "id: does not match the webhook in the path");
	}
	struct gerr err = {0};
	int64_t now = clock_now_ms();
	int old_status = w->status;
	int status = webhook_status_from_body(body, w->status, &err);
	if (status < 0 ||
	    webhook_config_build(body, cfg, a->cfg.dev, a->cfg.dev, now, &ncfg, &err)) {
		json_decref(body);
		api_error(req, &err);
		return API_DONE;
	}
	if (!events_known(a, req, c, body, ncfg)) {
		json_decref(body);
		json_decref(ncfg);
		return API_DONE;
	}
	json_decref(body);
	char *text = json_dumps(ncfg, JSON_COMPACT | JSON_REAL_PRECISION(15));
	free(w->config);
	w->config = text;
	w->status = status;
	w->updated_at = now;
	if (status == WH_ACTIVE && old_status != WH_ACTIVE)
		w->fail_since = 0;
	struct webhook *cw = NULL;
	int rc = text ? prepare(w, ncfg, &cw, &ans, &err) : GERR_NOMEM;
	int released = 0;
	if (rc == 0) {
		api_lock(a);
		rc = store_webhook_update(a->s, w);
		if (rc == 0) {
			/* committed: from here on the answer is 200 */
			registry_webhook_put(a->reg, cw);
			cw = NULL;
			if (status == WH_ACTIVE && old_status != WH_ACTIVE) {
				released = store_webhook_release_held(a->s, w->seq, now);
				if (released < 0)
					log_error(
					    "release_held_failed",
					    "webhook=%s rc=%d: held deliveries stay held until "
					    "the next resume or restart",
					    w->id, released);
			}
			tell_nodes(a, w->seq);
		}
		api_unlock(a);
	}
	if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot store the webhook");
		api_error(req, &err);
		webhook_unref(cw);
		json_decref(ans);
		json_decref(ncfg);
		return API_DONE;
	}
	engine_webhook_changed(a->eng, w->seq);
	if (released > 0 || (status == WH_ACTIVE && old_status != WH_ACTIVE))
		engine_webhook_reload(a->eng, w->seq);
	api_json(req, 200, ans);
	json_decref(ncfg);
	return API_DONE;
}

static int delete (struct api *a, struct api_req *req, struct store_webhook *w)
{
	int64_t now = clock_now_ms();
	w->status = WH_DELETED;
	w->updated_at = now;
	api_lock(a);
	int rc = store_webhook_update(a->s, w);
	if (rc == 0) {
		/* committed: the answer is 204 whatever follows */
		int failed = store_webhook_fail_open(a->s, w->seq, "webhook deleted", now);
		if (failed < 0)
			log_error("fail_open_failed",
			          "webhook=%s rc=%d: its open deliveries were not marked failed",
			          w->id, failed);
		tell_nodes(a, w->seq);
	}
	api_unlock(a);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot delete the webhook");
	registry_webhook_remove(a->reg, w->seq);
	engine_webhook_changed(a->eng, w->seq);
	req->status = 204;
	buf_reset(&req->out);
	return API_DONE;
}

/* ---- replay ---------------------------------------------------------------------------- */

struct replay_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int rc;
};

static void replay_done(struct delivery_job *job, int rc)
{
	struct replay_wait *rw = job->ctx;
	pthread_mutex_lock(&rw->mu);
	rw->done = true;
	rw->rc = rc;
	pthread_cond_signal(&rw->cv);
	pthread_mutex_unlock(&rw->mu);
}

/* replay_matches: the same test as ingest's, on the same document
 * (envelope_match_doc), so replay picks exactly the events ingest did. */
static bool replay_matches(const struct webhook *cw, const char *company,
                           const struct store_event *ev, char *okey, size_t okeysz)
{
	okey[0] = '\0';
	if (!webhook_wants(cw, ev->event, ev->unit))
		return false;
	if (!cw->matcher && !cw->ordering_key)
		return true;
	char date[DATE_STR_LEN];
	envelope_format_date(ev->date_ms, date);
	struct buf doc;
	buf_init(&doc);
	envelope_match_doc(&doc, company, ev->id, ev->event, date, ev->unit, ev->data, ev->datalen);
	bool ok = !doc.oom && filter_eval(cw->matcher, doc.data, doc.len);
	if (ok && cw->ordering_key)
		filter_key_string(doc.data, doc.len, cw->ordering_key, okey, okeysz);
	buf_free(&doc);
	return ok;
}

static int replay(struct api *a, struct api_req *req, struct store_webhook *w)
{
	json_t *body = api_body(req);
	if (!body)
		return API_DONE;
	const char *since = json_string_value(json_object_get(body, "since"));
	const char *until = json_string_value(json_object_get(body, "until"));
	int64_t since_ms, until_ms = INT64_MAX;
	if (!json_object_get(body, "since")) {
		json_decref(body);
		return api_fail(req, 400, "missing_field", "since: required (an ISO-8601 date)");
	}
	if (!since || envelope_parse_date(since, strlen(since), &since_ms) ||
	    (json_object_get(body, "until") &&
	     (!until || envelope_parse_date(until, strlen(until), &until_ms)))) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field",
		                "since (required) and until must be ISO-8601 dates");
	}
	/* A replay reads at most REPLAY_SCAN events per call (it runs on an HTTP
	 * event loop and waits for commits); nextCursor continues it. */
	int64_t after = 0;
	const json_t *cur = json_object_get(body, "cursor");
	if (cur && !json_is_null(cur)) {
		const char *cs = json_string_value(cur);
		char *end = NULL;
		long long v = cs && *cs >= '0' && *cs <= '9' ? strtoll(cs, &end, 10) : -1;
		if (v < 0 || !end || *end) {
			json_decref(body);
			return api_fail(req, 400, "invalid_field",
			                "cursor: the nextCursor of the previous replay answer");
		}
		after = v;
	}
	json_decref(body);
	struct webhook *cw = registry_webhook_get(a->reg, w->seq);
	if (!cw)
		return api_fail(req, 404, "not_found", "no webhook %s", w->id);
	char company[256] = "";
	registry_company_name(a->reg, w->company_seq, company, sizeof(company));
	int total = 0, rc = 0, scanned = 0;
	bool more = false;
	int64_t done_after = after; /* the cursor past every committed page */
	enum { PAGE = 500, REPLAY_SCAN = 2000 };
	struct store_event *evs = calloc(PAGE, sizeof(*evs));
	struct store_delivery_in *dl = calloc(PAGE, sizeof(*dl));
	char(*okeys)[64] = calloc(PAGE, 64);
	if (!evs || !dl || !okeys)
		rc = GERR_NOMEM;
	while (rc == 0) {
		int n = 0;
		api_lock(a);
		rc = store_event_range(a->s, w->company_seq, since_ms, until_ms, after, PAGE, evs,
		                       &n);
		api_unlock(a);
		if (rc)
			break;
		int k = 0;
		for (int i = 0; i < n; i++) {
			if (replay_matches(cw, company, &evs[i], okeys[k], sizeof(okeys[k]))) {
				dl[k] = (struct store_delivery_in){.event_seq = evs[i].seq,
				                                   .webhook_seq = w->seq,
				                                   .company_seq = w->company_seq,
				                                   .okey = okeys[k][0] ? okeys[k]
				                                                       : NULL};
				k++;
			}
			after = evs[i].seq;
			store_event_free(&evs[i]);
		}
		if (k) {
			struct replay_wait rw = {.done = false};
			pthread_mutex_init(&rw.mu, NULL);
			pthread_cond_init(&rw.cv, NULL);
			struct delivery_job job = {
			    .dl = dl, .n = k, .done = replay_done, .ctx = &rw};
			if (fault_hit("replay_commit")) {
				rw.rc = GERR_IO;
			} else {
				engine_submit_deliveries(a->eng, &job);
				pthread_mutex_lock(&rw.mu);
				while (!rw.done)
					pthread_cond_wait(&rw.cv, &rw.mu);
				pthread_mutex_unlock(&rw.mu);
			}
			pthread_mutex_destroy(&rw.mu);
			pthread_cond_destroy(&rw.cv);
			rc = rw.rc;
			if (rc)
				break;
			total += k;
		}
		done_after = after;
		scanned += n;
		if (n < PAGE)
			break;
		if (scanned >= REPLAY_SCAN) {
			more = true;
			break;
		}
	}
	webhook_unref(cw);
	free(evs);
	free(dl);
	free(okeys);
	/* A page's deliveries commit together or not at all. Nothing committed
	 * yet: 503, and the same call may simply be made again. Some pages
	 * committed: answer them, with the cursor past them, so that continuing
	 * (or retrying) never replays a committed page twice. */
	if (rc && total == 0)
		return api_fail(req, 503, "unavailable", "replay stopped: the store cannot commit");
	if (rc) {
		log_warn("replay_partial", "webhook=%s count=%d cursor=%lld", w->id, total,
		         (long long)done_after);
		more = true;
	}
	after = done_after;
	json_t *ans = json_pack("{s:i}", "count", total);
	if (more) /* only then: a finished replay answers just {count} */
		json_object_set_new(ans, "nextCursor", json_sprintf("%lld", (long long)after));
	api_json(req, 202, ans);
	return API_DONE;
}

int api_webhook_create(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	(void)param;
	return create(a, req, c);
}

int api_webhook_list(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)param;
	return api_kind_list(a, req, c, &kind);
}

enum one_op { ONE_GET, ONE_PATCH, ONE_DELETE, ONE_REPLAY };

/* one: load the caller's webhook id and its stored config, then run op. */
static int one(struct api *a, struct api_req *req, const struct caller *c, const char *id,
               enum one_op op)
{
	struct store_webhook w;
	json_t *cfg;
	if (api_kind_load(a, req, c, &kind, id, &w, &cfg))
		return API_DONE;
	int out = API_DONE;
	if (op == ONE_REPLAY)
		out = replay(a, req, &w);
	else if (op == ONE_GET)
		api_json(req, 200, answer(&w, cfg));
	else if (op == ONE_PATCH)
		out = patch(a, req, c, &w, cfg);
	else
		out = delete (a, req, &w);
	json_decref(cfg);
	store_webhook_free(&w);
	return out;
}

int api_webhook_get(struct api *a, struct api_req *req, const struct caller *c,
                    const char *const *param)
{
	return one(a, req, c, param[0], ONE_GET);
}

int api_webhook_patch(struct api *a, struct api_req *req, const struct caller *c,
                      const char *const *param)
{
	return one(a, req, c, param[0], ONE_PATCH);
}

int api_webhook_delete(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	return one(a, req, c, param[0], ONE_DELETE);
}

int api_webhook_replay(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	return one(a, req, c, param[0], ONE_REPLAY);
}
