/*
 * connections: the ATS and job board APIs gancho calls for a company (routes
 * and auth: the table in api.c; the connection itself: core/connection.h).
 *
 *   POST   /api/v1/connections        create → 201 {id, name, kind, baseUrl, credential, …}
 *   GET    /api/v1/connections        list, newest first (pages as sources')
 *   GET    /api/v1/connections/{id}   one
 *   PATCH  /api/v1/connections/{id}   change (core/connection.h: the merge)
 *   DELETE /api/v1/connections/{id}   delete → 204; 409 while a route uses it
 *
 * Nothing on the hot path reads a connection: the targets of the route
 * actions that use one carry its authorization in their own config. So a
 * connection lives in the store only, and a change of credentials is one
 * store transaction (store_connection_write) that rewrites those targets
 * too; then the targets are reloaded into this node's registry, and the
 * store has told the other nodes ("webhook <seq>"), as a route change does.
 * A change of baseUrl is refused (409) while a route uses the connection:
 * its actions were made with the URL it had.
 *
 * As for sources: everything that can fail is done before the store
 * commits, so an error answer means nothing changed; every read is scoped
 * to the caller's company (another company's id is not found); and a
 * credential is never answered or logged after it is given (answers show a
 * hint, connection_to_json; refusals never quote it; log lines name the
 * connection by id).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/kind.h"
#include "core/connection.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

static json_t *answer(const struct store_connection *row, const json_t *cfg)
{
	return connection_to_json(cfg, row->id, row->created_at, row->updated_at);
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT);
}

/* wipe_free: free a text that held a credential. */
static void wipe_free(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

/* refusal: the store's 409 (a route uses the connection) with what to do. */
static void refusal(struct gerr *err, bool deleting)
{
	char msg[sizeof(err->msg)];
	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (deleting)
		snprintf(err->msg, sizeof(err->msg),
		         "%.200s; delete that route or change its actions first", msg);
	else
		snprintf(err->msg, sizeof(err->msg),
		         "baseUrl: cannot change while %.180s; delete that route first", msg);
}

/* reload: this node's registry takes the targets the store rewrote. */
static void reload(struct api *a, const int64_t *seqs, int n)
{
	for (int i = 0; i < n; i++) {
		api_lock(a);
		int rc = registry_reload_webhook(a->reg, a->s, seqs[i]);
		api_unlock(a);
		if (rc) /* stored: the next start, or another node's reload, has it */
			log_error("target_not_reloaded", "webhook_seq=%lld", (long long)seqs[i]);
		engine_webhook_changed(a->eng, seqs[i]);
	}
}

/* save: a create (existing NULL: row holds only the company) or a PATCH of
 * row, whose stored config is existing. Answers 201 or 200, or the error;
 * an error means nothing changed. */
static int save(struct api *a, struct api_req *req, struct store_connection *row,
                const json_t *existing)
{
	json_t *body = api_body(req), *cfg = NULL, *ans = NULL, *auth = NULL;
	char *auth_text = NULL;
	int64_t *targets = NULL;
	int ntargets = 0;
	struct gerr err = {0};
	if (!body)
		return API_DONE;
	const json_t *id = json_object_get(body, "id");
	if (id && (!existing || !json_is_string(id) || strcmp(json_string_value(id), row->id))) {
		json_decref(body);
		return api_fail(req, 400, "invalid_field", "%s",
		                existing ? "id: does not match the connection in the path"
		                         : "id: chosen by gancho, not by the client");
	}
	int rc = connection_config_build(body, existing, a->cfg.dev, a->cfg.dev, &cfg, &err);
	json_decref(body);
	if (rc)
		goto out;
	row->updated_at = clock_now_ms();
	if (!existing) {
		uuid_v4(row->id);
		row->created_at = row->updated_at;
	}
	/* a change of credentials goes into the targets that use them */
	bool recredit = existing && !connection_same_credentials(existing, cfg);
	bool moved = existing && !json_equal(json_object_get(existing, "baseUrl"),
	                                     json_object_get(cfg, "baseUrl"));
	free(row->name);
	wipe_free(row->config);
	row->name = strdup(json_string_value(json_object_get(cfg, "name")));
	row->config = dump(cfg);
	snprintf(row->kind, sizeof(row->kind), "%s",
	         json_string_value(json_object_get(cfg, "kind")));
	if (recredit && (!(auth = connection_authorization(cfg)) || !(auth_text = dump(auth))))
		rc = GERR_NOMEM;
	if (!rc && (!row->name || !row->config || !(ans = answer(row, cfg))))
		rc = GERR_NOMEM;
	if (rc) {
		gerr_set(&err, GERR_NOMEM, 503, "unavailable", "out of memory");
		goto out;
	}
	api_lock(a);
	rc = store_connection_write(a->s, row, moved, auth_text, &targets, &ntargets, &err);
	api_unlock(a);
	if (rc == GERR_CONFLICT)
		refusal(&err, false);
	if (rc)
		goto out;
	/* committed: from here on the answer is 201 or 200 */
	reload(a, targets, ntargets);
	if (existing)
		log_info("connection_changed", "connection=%s credentials=%s targets=%d", row->id,
		         recredit ? "changed" : "kept", ntargets);
	else
		log_info("connection_created", "connection=%s kind=%s", row->id, row->kind);
	api_json(req, existing ? 200 : 201, ans);
	ans = NULL;
out:
	if (rc == GERR_NOTFOUND) /* deleted meanwhile */
		api_fail(req, 404, "not_found", "no connection %s", row->id);
	else if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot store the connection");
		api_error(req, &err);
	}
	free(targets);
	json_decref(ans);
	json_decref(auth);
	wipe_free(auth_text);
	json_decref(cfg);
	return API_DONE;
}

/* The store's connection rows as api_kind_list and api_kind_load take them (kind.h). */
static int list_rows(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
                     int *n)
{
	return store_connection_list(s, company_seq, before_seq, limit, out, n);
}

static int get_row(struct store *s, int64_t company_seq, const char *id, void *out)
{
	return store_connection_get(s, company_seq, id, out);
}

static void drop_row(void *row)
{
	store_connection_free(row);
}

static json_t *answer_row(const void *row, const json_t *cfg)
{
	return answer(row, cfg);
}

static const struct api_kind kind = {.name = "connection",
                                     .plural = "connections",
                                     .size = sizeof(struct store_connection),
                                     .seq_at = offsetof(struct store_connection, seq),
                                     .config_at = offsetof(struct store_connection, config),
                                     .list = list_rows,
                                     .get = get_row,
                                     .drop = drop_row,
                                     .answer = answer_row};

static int delete_one(struct api *a, struct api_req *req, struct store_connection *row)
{
	struct gerr err = {0};
	row->status = CONN_DELETED;
	row->updated_at = clock_now_ms();
	api_lock(a);
	int rc = store_connection_write(a->s, row, true, NULL, NULL, NULL, &err);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no connection %s", row->id);
	if (rc == GERR_CONFLICT)
		refusal(&err, true);
	if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot delete the connection");
		api_error(req, &err);
		return API_DONE;
	}
	log_info("connection_deleted", "connection=%s", row->id);
	req->status = 204;
	buf_reset(&req->out);
	return API_DONE;
}

enum one_op { ONE_GET, ONE_PATCH, ONE_DELETE };

/* one: load the caller's connection id and its stored config, then run op. */
static int one(struct api *a, struct api_req *req, const struct caller *c, const char *id,
               enum one_op op)
{
	struct store_connection row;
	json_t *cfg;
	if (api_kind_load(a, req, c, &kind, id, &row, &cfg))
		return API_DONE;
	int out = API_DONE;
	if (op == ONE_GET)
		api_json(req, 200, answer(&row, cfg));
	else if (op == ONE_PATCH)
		out = save(a, req, &row, cfg);
	else
		out = delete_one(a, req, &row);
	json_decref(cfg);
	store_connection_free(&row);
	return out;
}

int api_connection_create(struct api *a, struct api_req *req, const struct caller *c,
                          const char *const *param)
{
	(void)param;
	struct store_connection row = {.company_seq = c->company_seq};
	int out = save(a, req, &row, NULL);
	store_connection_free(&row);
	return out;
}

int api_connection_list(struct api *a, struct api_req *req, const struct caller *c,
                        const char *const *param)
{
	(void)param;
	return api_kind_list(a, req, c, &kind);
}

int api_connection_get(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	return one(a, req, c, param[0], ONE_GET);
}

int api_connection_patch(struct api *a, struct api_req *req, const struct caller *c,
                         const char *const *param)
{
	return one(a, req, c, param[0], ONE_PATCH);
}

int api_connection_delete(struct api *a, struct api_req *req, const struct caller *c,
                          const char *const *param)
{
	return one(a, req, c, param[0], ONE_DELETE);
}
