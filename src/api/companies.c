/*
 * companies: tenants and their tokens.
 *
 * (routes and their auth are in the table in api.c)
 *   POST  /api/v1/companies   (admin)   create, answer the first token once
 *   GET   /api/v1/companies   (admin)   list
 *   GET   /api/v1/company     (company) the caller's company
 *   PATCH /api/v1/company     (company) declare extra event names
 *   POST  /api/v1/tokens      (company) one more token
 *   GET   /api/v1/tokens      (company) its tokens: ids and dates, never secrets
 *   DELETE /api/v1/tokens/{id} (company) revoke one (not the last)
 *
 * Tokens are random 256-bit strings prefixed "gch_"; only their SHA-256 is
 * stored, so a leaked database does not leak credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/webhook.h"
#include "util/utf8.h"
#include "util/uuid.h"

static json_t *company_json(const struct store_company *c)
{
	json_t *types = json_loads(c->event_types ? c->event_types : "[]", 0, NULL);
	return json_pack("{s:s,s:s,s:o,s:o}", "id", c->id, "name", c->name, "eventTypes",
	                 types ? types : json_array(), "createdAt", api_date(c->created_at));
}

/* event_types_text: validate a list of event names → its JSON text (malloc'd). */
static char *event_types_text(struct api_req *req, const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("[]");
	if (!json_is_array(v) || json_array_size(v) > 256) {
		api_fail(req, 400, "invalid_field",
		         "eventTypes: must be a list of at most 256 names");
		return NULL;
	}
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e) ||
		    !webhook_event_name_valid(json_string_value(e))) {
			api_fail(req, 400, "invalid_field",
			         "eventTypes: each must be 1-128 chars of [A-Za-z0-9._:-]");
			return NULL;
		}
	}
	return json_dumps(v, JSON_COMPACT);
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	return true;
}

/* unknown_field: answer 400 for the first key of body not in allowed (NULL-
 * terminated) and return true; expected lists them for the message. */
static bool unknown_field(struct api_req *req, const json_t *body, const char *const *allowed,
                          const char *expected)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		bool known = false;
		for (int i = 0; allowed[i] && !known; i++)
			known = strcmp(k, allowed[i]) == 0;
		if (!known) {
			char ex[UTF8_EXCERPT_SIZE];
			api_fail(req, 400, "invalid_field", "%s: unknown field (expected %s)",
			         utf8_excerpt(k, ex), expected);
			return true;
		}
	}
	return false;
}

static int new_token(struct api *a, int64_t company_seq, char *tok, size_t toksz, char hash[65])
{
	random_token("gch_", tok, toksz);
	token_hash(tok, hash);
	if (store_token_add(a->s, company_seq, hash))
		return GERR_IO;
	registry_token_put(a->reg, hash, company_seq);
	tokcache_forget(&a->unknown, hash);
	return 0;
}

int api_company_create(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	(void)c;
	(void)param;
	json_t *body = api_body(req);
	if (!body)
		return API_DONE;
	static const char *const create_fields[] = {"name", "eventTypes", NULL};
	if (unknown_field(req, body, create_fields, "name, eventTypes")) {
		json_decref(body);
		return API_DONE;
	}
	const char *name = json_string_value(json_object_get(body, "name"));
	if (!name || !name_valid(name)) {
		json_decref(body);
		return api_fail(req, 400, name ? "invalid_field" : "missing_field",
		                "name: required, 1-200 characters");
	}
	char *types = event_types_text(req, json_object_get(body, "eventTypes"));
	if (!types) {
		json_decref(body);
		return API_DONE;
	}
	struct store_company co;
	struct gerr err = {0};
	char tok[96];
	api_lock(a);
	char hash[65];
	random_token("gch_", tok, sizeof(tok));
	token_hash(tok, hash);
	int rc = store_company_create(a->s, name, types, hash, &co, &err);
	api_unlock(a);
	free(types);
	json_decref(body);
	if (rc) {
		if (!err.status)
			gerr_set(&err, rc, 503, "unavailable", "cannot store the company");
		api_error(req, &err);
		return API_DONE;
	}
	registry_company_put(a->reg, co.seq, co.id, co.name, co.event_types);
	registry_token_put(a->reg, hash, co.seq);
	tokcache_forget(&a->unknown, hash);
	json_t *o = company_json(&co);
	json_object_set_new(o, "token", json_string(tok));
	store_company_free(&co);
	api_json(req, 201, o);
	return API_DONE;
}

int api_company_list(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)c;
	(void)param;
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	struct store_company *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int n = 0;
	api_lock(a);
	int rc = rows ? store_company_list(a->s, cursor, limit + 1, rows, &n) : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read companies");
	}
	int shown = n > limit ? limit : n;
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		if (i < shown)
			json_array_append_new(items, company_json(&rows[i]));
		store_company_free(&rows[i]);
	}
	api_list(req, items, n, limit, shown ? rows[shown - 1].seq : 0);
	free(rows);
	return API_DONE;
}

/* api_company_own: GET the caller's company, or PATCH its event names. */
int api_company_own(struct api *a, struct api_req *req, const struct caller *c,
                    const char *const *param)
{
	(void)param;
	json_t *body = NULL;
	if (strcmp(req->method, "PATCH") == 0) {
		if (!(body = api_body(req)))
			return API_DONE;
		static const char *const patch_fields[] = {"eventTypes", NULL};
		if (unknown_field(req, body, patch_fields, "eventTypes")) {
			json_decref(body);
			return API_DONE;
		}
	}
	struct store_company co;
	api_lock(a);
	int rc = store_company_get(a->s, c->company_seq, &co);
	if (rc == 0 && body && json_object_get(body, "eventTypes")) {
		char *types = event_types_text(req, json_object_get(body, "eventTypes"));
		if (!types) {
			api_unlock(a);
			store_company_free(&co);
			json_decref(body);
			return API_DONE;
		}
		rc = store_company_set_event_types(a->s, co.seq, types);
		if (rc == 0) {
			char msg[48];
			snprintf(msg, sizeof(msg), "company %lld", (long long)co.seq);
			store_notify(a->s, msg);
			free(co.event_types);
			co.event_types = types;
			registry_company_put(a->reg, co.seq, co.id, co.name, types);
		} else {
			free(types);
		}
	}
	api_unlock(a);
	json_decref(body);
	if (rc)
		return api_fail(req, rc == GERR_NOTFOUND ? 404 : 503,
		                rc == GERR_NOTFOUND ? "not_found" : "unavailable",
		                "company unavailable");
	api_json(req, 200, company_json(&co));
	store_company_free(&co);
	return API_DONE;
}

static json_t *token_json(const struct store_token *t)
{
	return json_pack("{s:s%,s:o}", "id", t->hash, (size_t)TOKEN_ID_LEN, "createdAt",
	                 api_date(t->created_at));
}

/* Tokens: POST one more, GET the list (no secrets), DELETE /{id} revokes. A
 * revoked token is out of the registry at once, so its next call is 401. */
int api_token_add(struct api *a, struct api_req *req, const struct caller *c,
                  const char *const *param)
{
	(void)param;
	char tok[96], hash[65];
	api_lock(a);
	int rc = new_token(a, c->company_seq, tok, sizeof(tok), hash);
	api_unlock(a);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot store the token");
	api_json(req, 201, json_pack("{s:s,s:s%}", "token", tok, "id", hash, (size_t)TOKEN_ID_LEN));
	return API_DONE;
}

int api_token_list(struct api *a, struct api_req *req, const struct caller *c,
                   const char *const *param)
{
	(void)param;
	enum { MAX_LISTED = 1000 };
	struct store_token *rows = calloc(MAX_LISTED, sizeof(*rows));
	int n = 0;
	api_lock(a);
	int rc = rows ? store_token_list(a->s, c->company_seq, rows, MAX_LISTED, &n) : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read tokens");
	}
	json_t *items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, token_json(&rows[i]));
	free(rows);
	api_json(req, 200, json_pack("{s:o,s:n}", "data", items, "nextCursor"));
	return API_DONE;
}

int api_token_revoke(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	char hash[65] = "";
	struct gerr err = {0};
	api_lock(a);
	int rc = store_token_revoke(a->s, c->company_seq, param[0], hash, &err);
	api_unlock(a);
	if (rc) {
		api_error(req, &err);
		return API_DONE;
	}
	registry_token_remove(a->reg, hash);
	req->status = 204;
	buf_reset(&req->out);
	return API_DONE;
}

int api_company_create_offline(const char *db_url, const char *name, char *id_out, size_t idsz,
                               char *token_out, size_t tokensz, struct gerr *err)
{
	struct store *s;
	if (!name_valid(name))
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "name: 1-200 characters");
	int rc = store_open(db_url, &s, err);
	if (rc)
		return rc;
	struct store_company c;
	char hash[65];
	random_token("gch_", token_out, tokensz);
	token_hash(token_out, hash);
	rc = store_company_create(s, name, "[]", hash, &c, err);
	if (rc == 0) {
		snprintf(id_out, idsz, "%s", c.id);
		store_company_free(&c);
	}
	store_close(s);
	return rc;
}
