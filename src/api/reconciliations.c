/*
 * reconciliations: periodic walks over an ATS's lists that recover lost
 * webhooks (core/reconcile.h; the runs themselves: src/reconcile/).
 * Routes and auth: the table in api.c.
 *
 *   POST   /api/v1/reconciliations            create → 201
 *   GET    /api/v1/reconciliations            list, newest first
 *   GET    /api/v1/reconciliations/{id}       one
 *   PATCH  /api/v1/reconciliations/{id}       change
 *   DELETE /api/v1/reconciliations/{id}       delete → 204 (a run on its way
 *                                             stops at its next step)
 *   POST   /api/v1/reconciliations/{id}/run   run now → 202 {id: the run's}
 *   GET    /api/v1/reconciliations/{id}/runs  its runs, newest first
 *
 * A reconciliation names a gupy connection and a source of the caller's
 * company. The source must be able to tell what a run has seen: its entity
 * keeps the application's step (RECONCILE_STEP_PATH), and its key and kept
 * fields are found in the synthetic envelope a run makes (checked here with
 * a sample, through the very reading a run uses). Otherwise 422 says why.
 * The first scheduled run is everySeconds after the creation (POST …/run
 * starts one at once); a PATCH that changes everySeconds starts the count
 * again from the PATCH.
 *
 * POST …/run answers the run it queued, or the one already waiting to start
 * (two requests at once, from one node or two, make one run). Whichever
 * node claims the reconciliation next runs it (src/reconcile/runner.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kind.h"
#include "core/receipt.h"
#include "core/reconcile.h"
#include "core/source.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

static json_t *answer(const struct store_reconciliation *row, const json_t *cfg)
{
	return reconcile_to_json(cfg, row->id, row->next_run_at, row->created_at, row->updated_at);
}

/* source_reason: why the source cannot serve a reconciliation (a 422
 * message into why), or 0 when it can. The check reads a sample synthetic
 * receipt the way a run reads each one. */
static int source_reason(const struct source *src, const char *step, char *why, size_t whysz)
{
	if (!src->entity_type) {
		snprintf(why, whysz,
		         "sourceId: the source has no entity; a reconciliation needs one that keeps"
		         " %s",
		         RECONCILE_STEP_PATH);
		return -1;
	}
	bool keeps_step = false;
	const char *names[SOURCE_KEEP_MAX], *paths[SOURCE_KEEP_MAX];
	for (int i = 0; i < src->nkeep && i < SOURCE_KEEP_MAX; i++) {
		names[i] = src->keep[i].name;
		paths[i] = src->keep[i].path;
		keeps_step |= strcmp(src->keep[i].path, RECONCILE_STEP_PATH) == 0;
	}
	if (!keeps_step) {
		snprintf(why, whysz,
		         "sourceId: the source's entity does not keep %s, so a run could not tell"
		         " which applications it has seen in a step",
		         RECONCILE_STEP_PATH);
		return -1;
	}
	json_t *job = json_pack("{s:i,s:s}", "id", 1, "name", "sample");
	json_t *app = json_pack("{s:i,s:i,s:{s:i,s:s}}", "id", 2, "jobId", 1, "currentStep", "id",
	                        3, "name", step);
	struct buf body;
	buf_init(&body);
	struct gerr err = {0};
	int rc = job && app ? reconcile_envelope("sample", "2020-01-01T00:00:00.000Z", job, app,
	                                         &body, &err)
	                    : -1;
	json_decref(job);
	json_decref(app);
	struct receipt_spec spec = {
	    .id_path = NULL,
	    .event_path = "event",
	    .date_path = "date",
	    .entity_key_path = src->entity_key,
	    .nkeep = src->nkeep,
	    .keep_names = names,
	    .keep_paths = paths,
	};
	struct receipt_fields f;
	memset(&f, 0, sizeof(f));
	if (!rc)
		rc = receipt_read(body.data, body.len, &spec, "sample", &f, &err);
	if (!rc && !f.has_entity) {
		snprintf(why, whysz,
		         "sourceId: the source's entity key (%s) is not in a Gupy application.moved"
		         " envelope, so a run could not find the entity of an application",
		         src->entity_key);
		rc = -1;
	} else if (rc) {
		snprintf(why, whysz, "sourceId: a synthetic receipt cannot be read: %s", err.msg);
	}
	receipt_fields_free(&f);
	buf_free(&body);
	return rc ? -1 : 0;
}

/* check_refs: the connection and the source cfg names are the company's
 * and fit; 0, or API_DONE with the answer (422, or 503) set. */
static int check_refs(struct api *a, struct api_req *req, int64_t company_seq, const json_t *cfg)
{
	const char *cid = json_string_value(json_object_get(cfg, "connectionId"));
	const char *sid = json_string_value(json_object_get(cfg, "sourceId"));
	const char *step = json_string_value(json_array_get(json_object_get(cfg, "steps"), 0));
	struct store_connection conn = {0};
	api_lock(a);
	int rc = store_connection_get(a->s, company_seq, cid, &conn);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 422, "invalid_reference", "connectionId: no connection %s",
		                cid),
		       -1;
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot read the connection"), -1;
	bool gupy = strcmp(conn.kind, "gupy") == 0;
	store_connection_free(&conn);
	if (!gupy)
		return api_fail(req, 422, "invalid_reference",
		                "connectionId: connection %s is not of kind gupy", cid),
		       -1;
	struct source *src = registry_source_get(a->reg, sid);
	if (!src || src->company_seq != company_seq) {
		source_unref(src);
		return api_fail(req, 422, "invalid_reference", "sourceId: no source %s", sid), -1;
	}
	char why[400];
	rc = source_reason(src, step ? step : "", why, sizeof(why));
	source_unref(src);
	if (rc)
		return api_fail(req, 422, "invalid_reference", "%s", why), -1;
	return 0;
}

/* save: a create (existing NULL) or a PATCH of row. */
static int save(struct api *a, struct api_req *req, struct store_reconciliation *row,
                const json_t *existing)
{
	json_t *body = api_body(req), *cfg = NULL;
	if (!body)
		return API_DONE;
	const json_t *id = json_object_get(body, "id");
	if (id && (!existing || !json_is_string(id) || strcmp(json_string_value(id), row->id))) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field", "%s",
		                existing ? "id: does not match the reconciliation in the path"
		                         : "id: chosen by gancho, not by the client");
	}
	struct gerr err = {0};
	int rc = reconcile_config_build(body, existing, &cfg, &err);
	json_decref(body);
	if (rc) {
		api_error(req, &err);
		return API_DONE;
	}
	if (check_refs(a, req, row->company_seq, cfg)) {
		json_decref(cfg);
		return API_DONE;
	}
	int64_t now = clock_now_ms();
	int64_t every = json_integer_value(json_object_get(cfg, "everySeconds"));
	bool every_changed = !existing || !json_equal(json_object_get(existing, "everySeconds"),
	                                              json_object_get(cfg, "everySeconds"));
	row->updated_at = now;
	if (!existing) {
		uuid_v4(row->id);
		row->created_at = now;
	}
	if (every_changed)
		row->next_run_at = now + every * 1000;
	free(row->name);
	free(row->config);
	row->name = strdup(json_string_value(json_object_get(cfg, "name")));
	row->config = json_dumps(cfg, JSON_COMPACT);
	json_t *ans = row->name && row->config ? answer(row, cfg) : NULL;
	json_decref(cfg);
	if (!every_changed)
		row->next_run_at = 0; /* left as it is: a run may be moving it */
	if (!ans)
		return api_fail(req, 503, "unavailable", "out of memory");
	api_lock(a);
	rc = store_reconciliation_write(a->s, row, &err);
	api_unlock(a);
	if (rc == GERR_NOTFOUND) {
		json_decref(ans);
		return api_fail(req, 404, "not_found", "no reconciliation %s", row->id);
	}
	if (rc) {
		json_decref(ans);
		api_error(req, &err);
		return API_DONE;
	}
	if (!existing)
		log_info("reconciliation_created", "reconciliation=%s", row->id);
	api_json(req, existing ? 200 : 201, ans);
	return API_DONE;
}

static json_t *run_json(const struct store_recon_run *r)
{
	json_t *errors = json_loads(r->errors ? r->errors : "[]", 0, NULL);
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:o}", "id", r->id, "state",
	                 recon_run_state_name(r->state), "requestedAt", api_date(r->requested_at),
	                 "startedAt", api_date(r->started_at), "endedAt", api_date(r->ended_at),
	                 "pages", (json_int_t)r->pages, "jobs", (json_int_t)r->jobs,
	                 "applicationsSeen", (json_int_t)r->seen, "receiptsMade",
	                 (json_int_t)r->receipts, "errors", errors ? errors : json_array());
}

static int runs(struct api *a, struct api_req *req, const struct store_reconciliation *row)
{
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	struct store_recon_run *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int n = 0;
	api_lock(a);
	int rc =
	    rows ? store_recon_run_list(a->s, row->seq, cursor, limit + 1, rows, &n) : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read the runs");
	}
	int shown = n > limit ? limit : n;
	int64_t last = shown ? rows[shown - 1].seq : 0;
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		if (i < shown)
			json_array_append_new(items, run_json(&rows[i]));
		store_recon_run_free(&rows[i]);
	}
	free(rows);
	api_list(req, items, n, limit, last);
	return API_DONE;
}

static int run_now(struct api *a, struct api_req *req, const struct store_reconciliation *row)
{
	char run_id[40];
	uuid_v4(run_id);
	bool added = false;
	api_lock(a);
	int rc = store_reconciliation_request(a->s, row->seq, clock_now_ms(), run_id, &added);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no reconciliation %s", row->id);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot queue the run");
	if (added)
		log_info("reconciliation_run_requested", "reconciliation=%s run=%s", row->id,
		         run_id);
	api_json(
	    req, 202,
	    json_pack("{s:s,s:s,s:b}", "id", run_id, "state", "queued", "alreadyQueued", !added));
	return API_DONE;
}

static int delete_one(struct api *a, struct api_req *req, struct store_reconciliation *row)
{
	row->status = SRC_DELETED;
	row->updated_at = clock_now_ms();
	struct gerr err = {0};
	api_lock(a);
	int rc = store_reconciliation_write(a->s, row, &err);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no reconciliation %s", row->id);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot delete the reconciliation");
	log_info("reconciliation_deleted", "reconciliation=%s", row->id);
	req->status = 204;
	buf_reset(&req->out);
	return API_DONE;
}

enum one_op { ONE_GET, ONE_PATCH, ONE_DELETE, ONE_RUN, ONE_RUNS };

/* The store's reconciliation rows as api_kind_list and api_kind_load take
 * them (kind.h). */
static int list_rows(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
                     int *n)
{
	return store_reconciliation_list(s, company_seq, before_seq, limit, out, n);
}

static int get_row(struct store *s, int64_t company_seq, const char *id, void *out)
{
	return store_reconciliation_get(s, company_seq, id, out);
}

static void drop_row(void *row)
{
	store_reconciliation_free(row);
}

static json_t *answer_row(const void *row, const json_t *cfg)
{
	return answer(row, cfg);
}

static const struct api_kind kind = {.name = "reconciliation",
                                     .plural = "reconciliations",
                                     .size = sizeof(struct store_reconciliation),
                                     .seq_at = offsetof(struct store_reconciliation, seq),
                                     .config_at = offsetof(struct store_reconciliation, config),
                                     .list = list_rows,
                                     .get = get_row,
                                     .drop = drop_row,
                                     .answer = answer_row};

static int one(struct api *a, struct api_req *req, const struct caller *c, const char *id,
               enum one_op op)
{
	struct store_reconciliation row;
	json_t *cfg;
	if (api_kind_load(a, req, c, &kind, id, &row, &cfg))
		return API_DONE;
	int out = API_DONE;
	if (op == ONE_GET)
		api_json(req, 200, answer(&row, cfg));
	else if (op == ONE_PATCH)
		out = save(a, req, &row, cfg);
	else if (op == ONE_DELETE)
		out = delete_one(a, req, &row);
	else if (op == ONE_RUN)
		out = run_now(a, req, &row);
	else
		out = runs(a, req, &row);
	json_decref(cfg);
	store_reconciliation_free(&row);
	return out;
}

int api_reconciliation_create(struct api *a, struct api_req *req, const struct caller *c,
                              const char *const *param)
{
	(void)param;
	struct store_reconciliation row = {.company_seq = c->company_seq};
	int out = save(a, req, &row, NULL);
	store_reconciliation_free(&row);
	return out;
}

int api_reconciliation_list(struct api *a, struct api_req *req, const struct caller *c,
                            const char *const *param)
{
	(void)param;
	return api_kind_list(a, req, c, &kind);
}

int api_reconciliation_get(struct api *a, struct api_req *req, const struct caller *c,
                           const char *const *param)
{
	return one(a, req, c, param[0], ONE_GET);
}

int api_reconciliation_patch(struct api *a, struct api_req *req, const struct caller *c,
                             const char *const *param)
{
	return one(a, req, c, param[0], ONE_PATCH);
}

int api_reconciliation_delete(struct api *a, struct api_req *req, const struct caller *c,
                              const char *const *param)
{
	return one(a, req, c, param[0], ONE_DELETE);
}

int api_reconciliation_run(struct api *a, struct api_req *req, const struct caller *c,
                           const char *const *param)
{
	return one(a, req, c, param[0], ONE_RUN);
}

int api_reconciliation_runs(struct api *a, struct api_req *req, const struct caller *c,
                            const char *const *param)
{
	return one(a, req, c, param[0], ONE_RUNS);
}
