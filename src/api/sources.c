/*
 * sources: receiving URLs (routes and auth: the table in api.c).
 *
 *   POST   /api/v1/sources                   create → 201 {id, url: "/in/<id>", …}
 *   GET    /api/v1/sources                   list, newest first (pages as webhooks')
 *   GET    /api/v1/sources/{id}              one
 *   PATCH  /api/v1/sources/{id}              change (core/source.h: the merge)
 *   DELETE /api/v1/sources/{id}              delete → 204
 *   GET    /api/v1/sources/{id}/rejections   the newest refused requests
 *
 * The receiving endpoint itself (POST /in/{id}) is not here: it reads the
 * compiled sources this file puts in the registry.
 *
 * As for webhooks (webhooks.c): the store first, then the registry, then a
 * note to other nodes ("source <seq>"); everything that can fail — the
 * validation, the compile, the answer — is done before the store commits,
 * so an error answer means nothing changed. Answers never show a secret
 * (source_to_json). Every read is scoped to the caller's company: another
 * company's source id is simply not found.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kind.h"
#include "core/source.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

static json_t *answer(const struct store_source *row, const json_t *cfg)
{
	return source_to_json(cfg, row->id, row->created_at, row->updated_at);
}

/* tell_nodes: other gancho processes on the same database reload it. */
static void tell_nodes(struct api *a, int64_t seq)
{
	char msg[48];
	snprintf(msg, sizeof(msg), "source %lld", (long long)seq);
	store_notify(a->s, msg);
}

/* prepare: the row's text (name, config), the compiled source and the
 * answer for cfg, so that nothing after the commit can fail. row->seq is
 * not known yet for a new source: the caller sets (*cs)->seq after the
 * insert. */
static int prepare(struct store_source *row, const json_t *cfg, struct source **cs, json_t **ans,
                   struct gerr *err)
{
	*cs = NULL;
	*ans = NULL;
	free(row->name);
	free(row->config);
	row->name = strdup(json_string_value(json_object_get(cfg, "name")));
	row->config = json_dumps(cfg, JSON_COMPACT | JSON_REAL_PRECISION(15));
	int rc = row->name && row->config ? 0 : GERR_NOMEM;
	if (!rc)
		rc = source_compile(cfg, row->seq, row->id, row->company_seq, cs, err);
	if (!rc && !(*ans = answer(row, cfg)))
		rc = GERR_NOMEM;
	if (rc) {
		source_unref(*cs);
		*cs = NULL;
		if (rc == GERR_NOMEM)
			gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	}
	return rc;
}

/* save: a create (existing NULL: row holds only the company) or a PATCH of
 * row, whose stored config is existing. Answers 201 or 200 with the source,
 * or the error; an error means nothing changed. */
static int save(struct api *a, struct api_req *req, struct store_source *row,
                const json_t *existing)
{
	json_t *body = api_body(req), *cfg = NULL, *ans = NULL;
	if (!body)
		return API_DONE;
	const json_t *id = json_object_get(body, "id");
	if (id && (!existing || !json_is_string(id) || strcmp(json_string_value(id), row->id))) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field", "%s",
		                existing ? "id: does not match the source in the path"
		                         : "id: chosen by gancho, not by the client");
	}
	struct gerr err = {0};
	int rc = source_config_build(body, existing, &cfg, &err);
	json_decref(body);
	if (rc) {
		api_error(req, &err);
		return API_DONE;
	}
	row->updated_at = clock_now_ms();
	if (!existing) {
		uuid_v4(row->id);
		row->created_at = row->updated_at;
	}
	struct source *cs = NULL;
	rc = prepare(row, cfg, &cs, &ans, &err);
	if (rc == 0) {
		api_lock(a);
		rc = existing ? store_source_update(a->s, row)
		              : store_source_insert(a->s, row, &err);
		if (rc == 0) {
			/* committed: from here on the answer is 201 or 200 */
			cs->seq = row->seq;
			registry_source_put(a->reg, cs);
			cs = NULL;
			tell_nodes(a, row->seq);
		}
		api_unlock(a);
	}
	json_decref(cfg);
	source_unref(cs);
	if (rc == GERR_NOTFOUND) { /* deleted meanwhile */
		json_decref(ans);
		return api_fail(req, 404, "not_found", "no source %s", row->id);
	}
	if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot store the source");
		api_error(req, &err);
		json_decref(ans);
		return API_DONE;
	}
	if (!existing)
		log_info("source_created", "source=%s", row->id);
	api_json(req, existing ? 200 : 201, ans);
	return API_DONE;
}

/* The store's source rows as api_kind_list and api_kind_load take them (kind.h). */
static int list_rows(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
                     int *n)
{
	return store_source_list(s, company_seq, before_seq, limit, out, n);
}

static int get_row(struct store *s, int64_t company_seq, const char *id, void *out)
{
	return store_source_get(s, company_seq, id, out);
}

static void drop_row(void *row)
{
	store_source_free(row);
}

static json_t *answer_row(const void *row, const json_t *cfg)
{
	return answer(row, cfg);
}

static const struct api_kind kind = {.name = "source",
                                     .plural = "sources",
                                     .size = sizeof(struct store_source),
                                     .seq_at = offsetof(struct store_source, seq),
                                     .config_at = offsetof(struct store_source, config),
                                     .list = list_rows,
                                     .get = get_row,
                                     .drop = drop_row,
                                     .answer = answer_row};

static int delete_one(struct api *a, struct api_req *req, const struct store_source *row)
{
	api_lock(a);
	int rc = store_source_delete(a->s, row->seq, clock_now_ms());
	if (rc == 0)
		tell_nodes(a, row->seq);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no source %s", row->id);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot delete the source");
	registry_source_remove(a->reg, row->seq);
	log_info("source_deleted", "source=%s", row->id);
	req->status = 204;
	buf_reset(&req->out);
	return API_DONE;
}

static int rejections(struct api *a, struct api_req *req, const struct store_source *row)
{
	struct store_rejection *rj = calloc(STORE_REJECTIONS_KEPT, sizeof(*rj));
	int n = 0;
	api_lock(a);
	int rc =
	    rj ? store_rejection_list(a->s, row->seq, STORE_REJECTIONS_KEPT, rj, &n) : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rj);
		return api_fail(req, 503, "unavailable", "cannot read the rejections");
	}
	json_t *items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items,
		                      json_pack("{s:o,s:s,s:s}", "at", api_date(rj[i].at),
		                                "address", rj[i].address, "reason", rj[i].reason));
	free(rj);
	api_json(req, 200, json_pack("{s:o}", "data", items));
	return API_DONE;
}

enum one_op { ONE_GET, ONE_PATCH, ONE_DELETE, ONE_REJECTIONS };

/* one: load the caller's source id and its stored config, then run op. */
static int one(struct api *a, struct api_req *req, const struct caller *c, const char *id,
               enum one_op op)
{
	struct store_source row;
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
	else
		out = rejections(a, req, &row);
	json_decref(cfg);
	store_source_free(&row);
	return out;
}

int api_source_create(struct api *a, struct api_req *req, const struct caller *c,
                      const char *const *param)
{
	(void)param;
	struct store_source row = {.company_seq = c->company_seq};
	int out = save(a, req, &row, NULL);
	store_source_free(&row);
	return out;
}

int api_source_list(struct api *a, struct api_req *req, const struct caller *c,
                    const char *const *param)
{
	(void)param;
	return api_kind_list(a, req, c, &kind);
}

int api_source_get(struct api *a, struct api_req *req, const struct caller *c,
                   const char *const *param)
{
	return one(a, req, c, param[0], ONE_GET);
}

int api_source_patch(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	return one(a, req, c, param[0], ONE_PATCH);
}

int api_source_delete(struct api *a, struct api_req *req, const struct caller *c,
                      const char *const *param)
{
	return one(a, req, c, param[0], ONE_DELETE);
}

int api_source_rejections(struct api *a, struct api_req *req, const struct caller *c,
                          const char *const *param)
{
	return one(a, req, c, param[0], ONE_REJECTIONS);
}
