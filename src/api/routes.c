/*
 * routes: what gancho does with the requests its sources receive (routes
 * and auth: the table in api.c; the route itself: core/route.h).
 *
 *   POST   /api/v1/routes        create
 *   GET    /api/v1/routes        list
 *   GET    /api/v1/routes/{id}   one
 *   PATCH  /api/v1/routes/{id}   change (each top-level field given replaces the stored one)
 *   DELETE /api/v1/routes/{id}   delete; its targets' open deliveries fail
 *   POST   /api/v1/routes/test   {route | routeId, event?, body, headers?, entity?, receipt?}:
 *                                whether it matches and the requests its actions would
 *                                send, sending nothing (receipt: {id?, date?, entityKey?};
 *                                an HR action's requests go under its connection's base)
 *
 * Each action is delivered by a target, a webhook row of its own (hidden
 * from /api/v1/webhooks) whose id is the action's targetId. A change writes
 * the route and all its targets in one store transaction
 * (store_route_write), then puts the compiled targets into the registry, as
 * webhooks.c does for a webhook: everything that can fail is done before
 * the commit, so an error answer means nothing changed. An HR action's
 * target is built from its connection (core/route.h), looked up among the
 * company's: another company's connection is not found.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kind.h"
#include "core/connection.h"
#include "core/envelope.h"
#include "core/filter.h"
#include "core/jsonpath.h"
#include "core/route.h"
#include "core/route_hr.h"
#include "core/webhook.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

/* A route being written: the route row, its targets' rows (index-aligned
 * with the actions, then any removed ones) and their compiled forms. */
struct write {
	struct store_route r;
	struct store_webhook t[STORE_ROUTE_TARGETS];
	struct webhook *cw[STORE_ROUTE_TARGETS]; /* NULL for a removed target */
	int nt;
};

static void write_free(struct write *w)
{
	store_route_free(&w->r);
	for (int i = 0; i < w->nt; i++) {
		store_webhook_free(&w->t[i]);
		webhook_unref(w->cw[i]);
	}
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/* source_seq: the source a route names, among the caller's sources (another
 * company's id: 404 not_found, "sourceId: no source <id>"); 0 for a route of
 * every source. */
static int source_seq(struct api *a, const struct caller *c, const json_t *cfg, int64_t *seq,
                      struct gerr *err)
{
	*seq = 0;
	const char *id = json_string_value(json_object_get(cfg, "sourceId"));
	if (!id)
		return 0;
	struct store_source src;
	api_lock(a);
	int rc = store_source_get(a->s, c->company_seq, id, &src);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return gerr_set(err, GERR_NOTFOUND, 404, "not_found", "sourceId: no source %s", id);
	if (rc)
		return gerr_set(err, GERR_IO, 503, "unavailable", "cannot read sources");
	*seq = src.seq;
	store_source_free(&src);
	return 0;
}

/* A connection an HR action names, loaded for its target (owned parts). */
struct conn_ref {
	json_t *cfg;  /* its stored config */
	json_t *auth; /* connection_authorization */
	struct route_conn rc;
};

static void conn_ref_free(struct conn_ref *c)
{
	json_decref(c->cfg);
	json_decref(c->auth);
	memset(c, 0, sizeof(*c));
}

/* conn_load: connection id among company's connections into *out (zeroed
 * first). Another company's id, or none: 404 not_found "<where>.connectionId:
 * no connection <id>". */
static int conn_load(struct api *a, int64_t company_seq, const char *id, const char *where,
                     struct conn_ref *out, struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	struct store_connection sc;
	api_lock(a);
	int rc = store_connection_get(a->s, company_seq, id, &sc);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return gerr_set(err, GERR_NOTFOUND, 404, "not_found",
		                "%s.connectionId: no connection %.64s among yours", where, id);
	if (rc)
		return gerr_set(err, GERR_IO, 503, "unavailable", "cannot read connections");
	out->cfg = json_loads(sc.config ? sc.config : "", 0, NULL);
	store_connection_free(&sc);
	if (!out->cfg)
		return gerr_set(err, GERR_INVALID, 500, "internal",
		                "%s.connectionId: the stored connection is unreadable", where);
	out->auth = connection_authorization(out->cfg);
	out->rc = (struct route_conn){
	    .kind = json_string_value(json_object_get(out->cfg, "kind")),
	    .base_url = json_string_value(json_object_get(out->cfg, "baseUrl")),
	    .authorization = out->auth,
	};
	return 0;
}

/* targets: the target rows and compiled targets for cfg (route w->r.id).
 * old[0..nold) are the stored targets (a PATCH or DELETE; configs loaded):
 * an action keeps the target its targetId names, a stored target no action
 * names is removed. gone: every target is removed (DELETE). */
static int targets(struct api *a, const json_t *cfg, struct store_webhook *old, int nold, bool gone,
                   int64_t now, struct write *w, struct gerr *err)
{
	bool kept[STORE_ROUTE_TARGETS] = {false};
	json_t *acts = json_object_get(cfg, "actions");
	size_t i;
	json_t *act;
	json_array_foreach (gone ? NULL : acts, i, act) {
		struct store_webhook *t = &w->t[w->nt];
		const char *tid = json_string_value(json_object_get(act, "targetId"));
		const json_t *ex = NULL;
		json_t *ocfg = NULL;
		memset(t, 0, sizeof(*t));
		for (int k = 0; tid && k < nold; k++) {
			if (strcmp(old[k].id, tid) == 0) {
				kept[k] = true;
				t->seq = old[k].seq;
				t->created_at = old[k].created_at;
				ex = ocfg = json_loads(old[k].config, 0, NULL);
			}
		}
		if (!tid) { /* a new action: its target gets an id */
			uuid_v4(t->id);
			json_object_set_new(act, "targetId", json_string(t->id));
			t->created_at = now;
		} else {
			snprintf(t->id, sizeof(t->id), "%s", tid);
		}
		t->company_seq = w->r.company_seq;
		t->status = WH_ACTIVE;
		t->updated_at = now;
		json_t *tc = NULL;
		char where[32];
		snprintf(where, sizeof(where), "actions[%zu]", i);
		/* an HR action: its connection, among the company's */
		struct conn_ref conn = {0};
		const char *cid = route_action_connection(cfg, (int)i);
		int rc = cid ? conn_load(a, w->r.company_seq, cid, where, &conn, err) : 0;
		if (rc == 0) {
			rc = route_target_config(cfg, (int)i, w->r.id, ex, cid ? &conn.rc : NULL,
			                         a->cfg.dev, a->cfg.dev, now, &tc, err);
			if (rc && err->status == 422) { /* the connection does not fit */
				char msg[sizeof(err->msg)];
				memcpy(msg, err->msg, sizeof(msg));
				snprintf(err->msg, sizeof(err->msg), "%s.%.200s", where, msg);
			}
		}
		conn_ref_free(&conn);
		json_decref(ocfg);
		if (rc == 0 && !(t->config = dump(tc)))
			rc = gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
		if (rc == 0)
			rc = webhook_compile(tc, t->seq, t->id, t->company_seq, t->status, now,
			                     &w->cw[w->nt], err);
		json_decref(tc);
		w->nt++;
		if (rc) {
			if (err->status == 400) /* cannot be: route_config_build judged it */
				log_error("route_target_refused", "route=%s %s: %s", w->r.id, where,
				          err->msg);
			return rc;
		}
	}
	for (int k = 0; k < nold; k++) {
		if (kept[k] || w->nt == STORE_ROUTE_TARGETS)
			continue;
		struct store_webhook *t = &w->t[w->nt++];
		*t = old[k];
		t->config = strdup(old[k].config ? old[k].config : "{}");
		t->status = WH_DELETED;
		t->updated_at = now;
		if (!t->config)
			return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	}
	return 0;
}

/* commit: write w in one transaction, then publish its targets. */
static int commit(struct api *a, struct write *w, struct gerr *err)
{
	api_lock(a);
	int rc = store_route_write(a->s, &w->r, w->t, w->nt, err);
	api_unlock(a);
	if (rc)
		return rc;
	/* committed: from here on the answer is a success */
	for (int i = 0; i < w->nt; i++) {
		if (w->t[i].status == WH_DELETED) {
			registry_webhook_remove(a->reg, w->t[i].seq);
		} else {
			w->cw[i]->seq = w->t[i].seq;
			registry_webhook_put(a->reg, w->cw[i]);
			w->cw[i] = NULL;
		}
		engine_webhook_changed(a->eng, w->t[i].seq);
	}
	/* the route itself, compiled with its targets, where receipts find it */
	if (w->r.status == WH_DELETED) {
		registry_route_remove(a->reg, w->r.seq);
	} else {
		json_error_t je;
		json_t *cfg = json_loads(w->r.config, 0, &je);
		struct route *cr = NULL;
		struct gerr cerr = {0};
		int64_t seqs[STORE_ROUTE_TARGETS] = {0};
		for (int i = 0, k = 0; i < w->nt && k < STORE_ROUTE_TARGETS; i++)
			if (w->t[i].status != WH_DELETED)
				seqs[k++] = w->t[i].seq;
		if (cfg && route_compile(cfg, w->r.seq, w->r.id, w->r.company_seq, w->r.source_seq,
		                         seqs, &cr, &cerr) == 0)
			registry_route_put(a->reg, cr);
		else /* compiled before the commit: only memory can fail here */
			log_error("route_not_loaded", "route=%s reason=\"%s\"", w->r.id,
			          cfg ? cerr.msg : "out of memory");
		json_decref(cfg);
	}
	char note[96];
	snprintf(note, sizeof(note), "route %lld %s", (long long)w->r.company_seq, w->r.id);
	api_lock(a);
	store_notify(a->s, note);
	api_unlock(a);
	return 0;
}

/* load_targets: the stored targets of route r, configs included. */
static int load_targets(struct api *a, const struct store_route *r, struct store_webhook *out,
                        int *n)
{
	*n = 0;
	api_lock(a);
	int rc = 0;
	for (int i = 0; i < r->ntargets && !rc; i++)
		if (!(rc = store_webhook_by_seq(a->s, r->target_seqs[i], &out[*n])))
			(*n)++;
	api_unlock(a);
	if (rc == GERR_NOTFOUND) /* deleted meanwhile: nothing to keep of it */
		rc = 0;
	if (rc)
		while (*n > 0)
			store_webhook_free(&out[--*n]);
	return rc;
}

static json_t *answer(const struct store_route *r, const json_t *cfg)
{
	return route_to_json(cfg, r->id, r->created_at, r->updated_at);
}

/* compile_check: the config compiles into a route (it always should once
 * built; checked before the commit so a failure changes nothing). */
static int compile_check(const json_t *cfg, const struct write *w, struct gerr *err)
{
	struct route *cr = NULL;
	int rc = route_compile(cfg, w->r.seq, w->r.id, w->r.company_seq, w->r.source_seq, NULL, &cr,
	                       err);
	route_unref(cr);
	return rc;
}

/* write_route: the targets, the checks and the answer for config cfg of
 * w->r (gone: the route is deleted, every target removed), then the one
 * transaction that stores them, then the registry. *ans is the answer. */
static int write_route(struct api *a, struct write *w, json_t *cfg, struct store_webhook *old,
                       int nold, bool gone, int64_t now, json_t **ans, struct gerr *err)
{
	int rc;
	snprintf(w->r.name, sizeof(w->r.name), "%s",
	         json_string_value(json_object_get(cfg, "name")));
	if ((rc = targets(a, cfg, old, nold, gone, now, w, err)) ||
	    (rc = compile_check(cfg, w, err)))
		return rc;
	if (!(w->r.config = dump(cfg)) || !(*ans = answer(&w->r, cfg)))
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	return commit(a, w, err);
}

/* finish: the answer of a change: status with ans (204: no body), or the error. */
static void finish(struct api_req *req, int rc, struct gerr *err, json_t *ans, int status)
{
	if (rc) {
		if (!err->status)
			gerr_set(err, rc, 503, "unavailable", "cannot store the route");
		api_error(req, err);
	} else if (status != 204) {
		api_json(req, status, ans);
		return;
	} else {
		req->status = 204;
		buf_reset(&req->out);
	}
	json_decref(ans);
}

static int create(struct api *a, struct api_req *req, const struct caller *c)
{
	json_t *body = api_body(req), *cfg = NULL, *ans = NULL;
	if (!body)
		return API_DONE;
	struct gerr err = {0};
	struct write w = {0};
	int64_t now = clock_now_ms();
	int rc;
	if (json_object_get(body, "id")) {
		rc = gerr_set(&err, GERR_INVALID, 400, "invalid_field",
		              "id: chosen by gancho, not by the client");
		goto out;
	}
	if ((rc = route_config_build(body, NULL, a->cfg.dev, a->cfg.dev, now, &cfg, &err)) ||
	    (rc = source_seq(a, c, cfg, &w.r.source_seq, &err)))
		goto out;
	uuid_v4(w.r.id);
	w.r.company_seq = c->company_seq;
	w.r.status = WH_ACTIVE;
	w.r.created_at = w.r.updated_at = now;
	rc = write_route(a, &w, cfg, NULL, 0, false, now, &ans, &err);
out:
	finish(req, rc, &err, ans, 201);
	write_free(&w);
	json_decref(cfg);
	json_decref(body);
	return API_DONE;
}

/* The store's route rows as api_kind_list and api_kind_load take them (kind.h). */
static int list_rows(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
                     int *n)
{
	return store_route_list(s, company_seq, before_seq, limit, out, n);
}

static int get_row(struct store *s, int64_t company_seq, const char *id, void *out)
{
	return store_route_get(s, company_seq, id, out);
}

static void drop_row(void *row)
{
	store_route_free(row);
}

static json_t *answer_row(const void *row, const json_t *cfg)
{
	return answer(row, cfg);
}

static const struct api_kind kind = {.name = "route",
                                     .plural = "routes",
                                     .size = sizeof(struct store_route),
                                     .seq_at = offsetof(struct store_route, seq),
                                     .config_at = offsetof(struct store_route, config),
                                     .list = list_rows,
                                     .get = get_row,
                                     .drop = drop_row,
                                     .answer = answer_row};

/* change: PATCH (body given) or DELETE (body NULL) of stored route r. */
static int change(struct api *a, struct api_req *req, const struct caller *c, struct store_route *r,
                  json_t *cfg, const json_t *body)
{
	struct gerr err = {0};
	struct write w = {0};
	struct store_webhook old[STORE_ROUTE_TARGETS];
	int nold = 0;
	json_t *ncfg = NULL, *ans = NULL;
	int64_t now = clock_now_ms();
	int rc = load_targets(a, r, old, &nold);
	if (rc) {
		gerr_set(&err, rc, 503, "unavailable", "cannot read the route's targets");
		goto out;
	}
	w.r = *r;
	w.r.config = NULL;
	w.r.updated_at = now;
	if (!body) {
		w.r.status = WH_DELETED;
		rc = write_route(a, &w, cfg, old, nold, true, now, &ans, &err);
		goto out;
	}
	const json_t *id = json_object_get(body, "id");
	if (id && !(json_is_string(id) && strcmp(json_string_value(id), r->id) == 0)) {
		rc = gerr_set(&err, GERR_INVALID, 400, "invalid_field",
		              "id: does not match the route in the path");
		goto out;
	}
	if ((rc = route_config_build(body, cfg, a->cfg.dev, a->cfg.dev, now, &ncfg, &err)) ||
	    (rc = source_seq(a, c, ncfg, &w.r.source_seq, &err)))
		goto out;
	rc = write_route(a, &w, ncfg, old, nold, false, now, &ans, &err);
out:
	finish(req, rc, &err, ans, body ? 200 : 204);
	/* the removed targets in w.t share nothing with old: each was copied */
	write_free(&w);
	for (int i = 0; i < nold; i++)
		store_webhook_free(&old[i]);
	json_decref(ncfg);
	return API_DONE;
}

/* ---- the dry run ----------------------------------------------------------------------------- */

/* object_text: v (an object of strings for headers, any object for entity)
 * as JSON text, header names lower-cased; NULL with err when v is not one. */
static char *object_text(const json_t *v, bool headers, struct gerr *err)
{
	const char *field = headers ? "headers" : "entity";
	if (!json_is_object(v)) {
		gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: must be an object", field);
		return NULL;
	}
	json_t *o = json_object();
	const char *k;
	json_t *e;
	json_object_foreach ((json_t *)v, k, e) {
		if (headers && !json_is_string(e)) {
			gerr_set(err, GERR_INVALID, 400, "invalid_field",
			         "headers.%.100s: must be a string", k);
			json_decref(o);
			return NULL;
		}
		char name[256];
		snprintf(name, sizeof(name), "%s", k);
		for (char *p = name; headers && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_object_set(o, name, e);
	}
	char *s = dump(o);
	json_decref(o);
	if (!s)
		gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	return s;
}

/* test_route: the route a dry run tries: a route body, or a stored routeId. */
static struct route *test_route(struct api *a, const struct caller *c, const json_t *body,
                                struct gerr *err)
{
	const json_t *rb = json_object_get(body, "route");
	const json_t *rid = json_object_get(body, "routeId");
	struct route *cr = NULL;
	if (!rb == !rid) {
		gerr_set(err, GERR_INVALID, 400, "invalid_field",
		         "route or routeId: give one of them");
		return NULL;
	}
	if (rb) {
		json_t *cfg = NULL;
		if (route_config_build(rb, NULL, a->cfg.dev, a->cfg.dev, clock_now_ms(), &cfg,
		                       err) == 0)
			route_compile(cfg, 0, "", c->company_seq, 0, NULL, &cr, err);
		if (!cr && err->status == 400) {
			char msg[sizeof(err->msg)];
			memcpy(msg, err->msg, sizeof(msg));
			snprintf(err->msg, sizeof(err->msg), "route.%.240s", msg);
		}
		json_decref(cfg);
		return cr;
	}
	if (!json_is_string(rid)) {
		gerr_set(err, GERR_INVALID, 400, "invalid_field", "routeId: must be a string");
		return NULL;
	}
	struct store_route r;
	api_lock(a);
	int rc = store_route_get(a->s, c->company_seq, json_string_value(rid), &r);
	api_unlock(a);
	if (rc) {
		gerr_set(err, rc, rc == GERR_NOTFOUND ? 404 : 503,
		         rc == GERR_NOTFOUND ? "not_found" : "unavailable", "no route %.64s",
		         json_string_value(rid));
		return NULL;
	}
	json_t *cfg = json_loads(r.config, 0, NULL);
	if (!cfg)
		gerr_set(err, GERR_INVALID, 500, "internal", "stored route config is unreadable");
	else
		route_compile(cfg, r.seq, r.id, r.company_seq, r.source_seq, r.target_seqs, &cr,
		              err);
	json_decref(cfg);
	store_route_free(&r);
	return cr;
}

/* rendered: one action's entry of the answer; base is its target's URL. */
static json_t *rendered(const struct route *r, int i, const struct route_input *in,
                        const char *base)
{
	struct route_request rq;
	struct gerr err = {0};
	json_t *o =
	    json_pack("{s:i,s:s}", "action", i, "kind", route_hr_kind_name(r->actions[i].kind));
	if (route_render(r, i, in, base, &rq, &err)) {
		json_object_set_new(o, "error",
		                    json_pack("{s:s,s:s}", "code", err.code, "message", err.msg));
	} else {
		json_object_set_new(o, "method", json_string(rq.method));
		json_object_set_new(o, "url", json_string(rq.url));
		json_object_set_new(o, "headers", json_loads(rq.headers, 0, NULL));
		json_object_set_new(o, "body",
		                    rq.body ? json_stringn(rq.body, rq.body_len) : json_null());
	}
	route_request_free(&rq);
	return o;
}

static const char *const test_keys[] = {"route",   "routeId", "event",   "body",
                                        "headers", "entity",  "receipt", NULL};

static int dry_run(struct api *a, struct api_req *req, const struct caller *c)
{
	json_t *body = api_body(req);
	if (!body)
		return API_DONE;
	struct gerr err = {0};
	struct route *r = NULL;
	char *headers = NULL, *entity = NULL;
	const char *key;
	json_t *v;
	json_object_foreach (body, key, v) {
		bool known = false;
		for (int i = 0; test_keys[i] && !known; i++)
			known = strcmp(key, test_keys[i]) == 0;
		if (!known) {
			gerr_set(&err, GERR_INVALID, 400, "invalid_field", "%.100s: unknown field",
			         key);
			goto out;
		}
	}
	/* the body's own text, byte for byte, as a receipt would carry it */
	const char *btext;
	size_t blen;
	if (!json_object_get(body, "body") ||
	    !jsonpath_get(req->body, req->body_len, "body", &btext, &blen)) {
		gerr_set(&err, GERR_INVALID, 400, "missing_field", "body: required (a JSON value)");
		goto out;
	}
	const json_t *h = json_object_get(body, "headers");
	const json_t *e = json_object_get(body, "entity");
	const json_t *rc_ = json_object_get(body, "receipt");
	const json_t *ev = json_object_get(body, "event");
	if ((h && !(headers = object_text(h, true, &err))) ||
	    (e && !(entity = object_text(e, false, &err))))
		goto out;
	if (ev && !json_is_string(ev)) {
		gerr_set(&err, GERR_INVALID, 400, "invalid_field", "event: must be a string");
		goto out;
	}
	if (rc_ && !json_is_object(rc_)) {
		gerr_set(&err, GERR_INVALID, 400, "invalid_field",
		         "receipt: must be an object {id?, date?, entityKey?}");
		goto out;
	}
	if (!(r = test_route(a, c, body, &err)))
		goto out;
	/* the event: as given, else the body's "event" (Gupy's envelope) */
	const char *event = json_string_value(ev);
	if (!event)
		event = json_string_value(json_object_get(json_object_get(body, "body"), "event"));
	char date[DATE_STR_LEN];
	envelope_format_date(clock_now_ms(), date);
	const char *rid = json_string_value(json_object_get(rc_, "id"));
	const char *rdate = json_string_value(json_object_get(rc_, "date"));
	const json_t *ek = json_object_get(rc_, "entityKey");
	if (ek && !json_is_string(ek)) {
		gerr_set(&err, GERR_INVALID, 400, "invalid_field",
		         "receipt.entityKey: must be a string");
		goto out;
	}
	const char *ekey = json_string_value(ek);
	struct route_input in = {.body = btext,
	                         .body_len = blen,
	                         .headers = headers,
	                         .entity = entity,
	                         .receipt_id = rid ? rid : "test",
	                         .receipt_date = rdate ? rdate : date,
	                         .event = event,
	                         .source_id = r->source_id[0] ? r->source_id : NULL,
	                         .entity_key = ekey};
	json_t *reqs = json_array();
	for (int i = 0; i < r->nactions; i++) {
		/* an HR action's paths go under its connection's base URL */
		struct conn_ref conn = {0};
		const char *cid = r->actions[i].connection_id;
		char where[32];
		snprintf(where, sizeof(where), "actions[%d]", i);
		if (*cid && conn_load(a, c->company_seq, cid, where, &conn, &err)) {
			json_decref(reqs);
			goto out;
		}
		json_array_append_new(reqs, rendered(r, i, &in, conn.rc.base_url));
		conn_ref_free(&conn);
	}
	api_json(req, 200,
	         json_pack("{s:b,s:o}", "matches", event && route_matches(r, event, &in),
	                   "requests", reqs));
out:
	if (err.status)
		api_error(req, &err);
	route_unref(r);
	free(headers);
	free(entity);
	json_decref(body);
	return API_DONE;
}

/* ---- handlers -------------------------------------------------------------------------------- */

int api_route_create(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)param;
	return create(a, req, c);
}

int api_route_list(struct api *a, struct api_req *req, const struct caller *c,
                   const char *const *param)
{
	(void)param;
	return api_kind_list(a, req, c, &kind);
}

int api_route_test(struct api *a, struct api_req *req, const struct caller *c,
                   const char *const *param)
{
	(void)param;
	return dry_run(a, req, c);
}

enum one_op { ONE_GET, ONE_PATCH, ONE_DELETE };

/* one: load the caller's route id and its stored config, then run op. */
static int one(struct api *a, struct api_req *req, const struct caller *c, const char *id,
               enum one_op op)
{
	struct store_route r;
	json_t *cfg, *body = NULL;
	if (api_kind_load(a, req, c, &kind, id, &r, &cfg))
		return API_DONE;
	if (op == ONE_GET)
		api_json(req, 200, answer(&r, cfg));
	else if (op == ONE_DELETE)
		change(a, req, c, &r, cfg, NULL);
	else if ((body = api_body(req)))
		change(a, req, c, &r, cfg, body);
	json_decref(body);
	json_decref(cfg);
	store_route_free(&r);
	return API_DONE;
}

int api_route_get(struct api *a, struct api_req *req, const struct caller *c,
                  const char *const *param)
{
	return one(a, req, c, param[0], ONE_GET);
}

int api_route_patch(struct api *a, struct api_req *req, const struct caller *c,
                    const char *const *param)
{
	return one(a, req, c, param[0], ONE_PATCH);
}

int api_route_delete(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	return one(a, req, c, param[0], ONE_DELETE);
}
