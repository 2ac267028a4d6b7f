/*
 * api: routing, authentication and the helpers every resource uses.
 *
 * A request's path is split into segments after /api/v1/, each segment is
 * percent-decoded (so an id may hold an encoded "/"), and they are handed to
 * the resource named by the first one. Authentication happens here, once: the
 * admin token (GANCHO_ADMIN_TOKEN, compared in constant time) or a company
 * token looked up by hash in the registry. Handlers receive the caller and
 * scope every read and write to caller->company_seq, which is how a company
 * never sees another's data: an id of another company is simply not found.
 */
#include "api/api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/sign.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/utf8.h"

#define MAX_SEGMENTS 8

void api_lock(struct api *a)
{
	pthread_mutex_lock(&a->smu);
}

void api_unlock(struct api *a)
{
	pthread_mutex_unlock(&a->smu);
}

void api_json(struct api_req *req, int status, json_t *v)
{
	req->status = status;
	buf_reset(&req->out);
	if (v) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
		if (s) {
			buf_puts(&req->out, s);
			free(s);
		}
		json_decref(v);
	}
}

static void error_body(struct api_req *req, int status, const char *code, const char *msg)
{
	req->status = status;
	buf_reset(&req->out);
	buf_puts(&req->out, "{\"error\":{\"code\":");
	buf_json_str(&req->out, code, strlen(code));
	buf_puts(&req->out, ",\"message\":");
	/* msg may have been cut at a byte count: end it on a whole character */
	buf_json_str(&req->out, msg, utf8_trim_partial(msg, strlen(msg)));
	buf_puts(&req->out, "}}");
}

int api_fail(struct api_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_body(req, status, code, msg);
	return API_DONE;
}

void api_error(struct api_req *req, const struct gerr *err)
{
	error_body(req, err->status ? err->status : 500, err->code[0] ? err->code : "internal",
	           err->msg[0] ? err->msg : "internal error");
}

/* nul_path: the path of the first string in v holding a NUL ("" for v
 * itself; "clientHeaders.X-Key", "eventTypes[1]"), written into path, or
 * false when there is none. jansson refuses NUL in object keys, so only
 * values are looked at. A name too long for path is cut on a UTF-8 character
 * boundary. */
static bool nul_path(const json_t *v, char *path, size_t len, size_t cap)
{
	if (json_is_string(v))
		return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			snprintf(path + len, cap - len, "[%zu]", i);
			if (nul_path(e, path, strlen(path), cap))
				return true;
			path[len] = '\0';
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach ((json_t *)v, k, e) {
			size_t n = len;
			if (n && n + 1 < cap)
				path[n++] = '.';
			size_t kn = utf8_cut(k, strlen(k), cap - n - 1);
			memcpy(path + n, k, kn);
			path[n + kn] = '\0';
			if (nul_path(e, path, n + kn, cap))
				return true;
			path[len] = '\0';
		}
	}
	return false;
}

json_t *api_body(struct api_req *req)
{
	json_error_t je;
	if (!req->body_len) {
		api_fail(req, 400, "invalid_json", "a JSON body is required");
		return NULL;
	}
	json_t *v =
	    json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!v) {
		api_fail(req, 400, "invalid_json", "invalid JSON at line %d column %d: %s", je.line,
		         je.column, je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		api_fail(req, 400, "invalid_json", "the body must be a JSON object");
		return NULL;
	}
	/* \u0000 is parsed (JSON_ALLOW_NUL) only to name the field: no field of
	 * a management body may hold one. C strings would stop at it — a
	 * stored config would read back differently, and checks for CR/LF
	 * would stop early. (Event data, which may, is not read here.) */
	char path[160] = "";
	if (nul_path(v, path, 0, sizeof(path))) {
		json_decref(v);
		api_fail(req, 400, "invalid_field",
		         "%s: must not contain a NUL character (\\u0000)", path);
		return NULL;
	}
	return v;
}

int api_page(struct api_req *req, int *limit, int64_t *cursor)
{
	const char *l = req->query(req->conn, "limit");
	const char *c = req->query(req->conn, "cursor");
	*limit = 50;
	*cursor = 0;
	if (l) {
		char *end;
		long v = strtol(l, &end, 10);
		if (!*l || *end || v < 1 || v > 500)
			return api_fail(req, 400, "invalid_field",
			                "limit: must be an integer from 1 to 500"),
			       -1;
		*limit = (int)v;
	}
	if (c && *c) {
		char *end;
		long long v = strtoll(c, &end, 10);
		if (*end || v < 0)
			return api_fail(req, 400, "invalid_field",
			                "cursor: not a cursor from this API"),
			       -1;
		*cursor = v;
	}
	return 0;
}

void api_list(struct api_req *req, json_t *items, int n, int limit, int64_t last_seq)
{
	json_t *o = json_object();
	json_object_set_new(o, "data", items);
	/* The caller read limit+1 rows: a cursor only when there is a next page. */
	if (n > limit && last_seq > 0) {
		char cur[32];
		snprintf(cur, sizeof(cur), "%lld", (long long)last_seq);
		json_object_set_new(o, "nextCursor", json_string(cur));
	} else {
		json_object_set_new(o, "nextCursor", json_null());
	}
	api_json(req, 200, o);
}

json_t *api_date(int64_t ms)
{
	if (!ms)
		return json_null();
	char d[DATE_STR_LEN];
	envelope_format_date(ms, d);
	return json_string(d);
}

bool api_healthy(struct api *a)
{
	api_lock(a);
	int rc = store_ping(a->s);
	api_unlock(a);
	return rc == 0 && engine_healthy(a->eng);
}

/* token_from_store: a token the registry does not know may have been made
 * by `gancho company create` while this server was running: look in the
 * store, and remember the company if found. */
static int64_t token_from_store(struct api *a, const char *tok)
{
	char hash[65];
	int64_t seq = 0, now = clock_now_ms();
	struct store_company co;
	token_hash(tok, hash);
	/* A token found unknown a moment ago is not looked up again: a stream
	 * of bad tokens must not queue every management call behind the store. */
	if (tokcache_unknown(&a->unknown, hash, now))
		return 0;
	api_lock(a);
	int rc = store_token_lookup(a->s, hash, &seq);
	if (rc == 0 && store_company_get(a->s, seq, &co) == 0) {
		registry_company_put(a->reg, co.seq, co.id, co.name, co.event_types);
		registry_token_put(a->reg, hash, seq);
		store_company_free(&co);
	} else {
		seq = 0;
	}
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		tokcache_put(&a->unknown, hash, now); /* only a sure "no": not a store failure */
	return seq;
}

/* authenticate: fills c from the bearer token; false with the 401 set. */
static bool authenticate(struct api *a, struct api_req *req, struct caller *c)
{
	const char *h = req->header(req->conn, "Authorization");
	memset(c, 0, sizeof(*c));
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		api_fail(req, 401, "unauthorized", "missing Authorization: Bearer <token>");
		return false;
	}
	const char *tok = h + 7;
	const char *admin = a->cfg.admin_token;
	if (admin && *admin && sign_equal(tok, strlen(tok), admin, strlen(admin))) {
		c->admin = true;
		return true;
	}
	c->company_seq = registry_token_company(a->reg, tok);
	if (!c->company_seq)
		c->company_seq = token_from_store(a, tok);
	if (!c->company_seq) {
		api_fail(req, 401, "unauthorized", "unknown token");
		return false;
	}
	return true;
}

/* segment_decode: decode the %XX escapes of one path segment in place;
 * -1 for a broken escape or an encoded NUL. */
static int segment_decode(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if ((hi = hex_digit(r[1])) < 0 || (lo = hex_digit(r[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi * 16 + lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

int api_handle(struct api *a, struct api_req *req)
{
	req->status = 500;
	if (strcmp(req->path, "/healthz") == 0) {
		if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
			return api_fail(req, 405, "method_not_allowed", "use GET");
		char ids[16][40];
		int nb = registry_broken(a->reg, ids, 16);
		if (api_healthy(a) && nb) {
			/* Serving, but some stored webhooks receive nothing: say which. */
			json_t *list = json_array();
			for (int i = 0; i < nb && i < 16; i++)
				json_array_append_new(list, json_string(ids[i]));
			api_json(req, 200,
			         json_pack("{s:s,s:i,s:o}", "status", "degraded",
			                   "webhooksNotLoaded", nb, "webhookIds", list));
		} else if (api_healthy(a)) {
			req->status = 200;
			buf_reset(&req->out);
			buf_puts(&req->out, "{\"status\":\"ok\"}");
		} else {
			api_fail(req, 503, "unavailable", "the store cannot commit right now");
		}
		return API_DONE;
	}
	if (strncmp(req->path, "/api/v1/", 8) != 0)
		return api_fail(req, 404, "not_found", "no route %s", req->path);

	char path[512];
	if (strlen(req->path + 8) >= sizeof(path))
		return api_fail(req, 404, "not_found", "no route (the path is too long)");
	snprintf(path, sizeof(path), "%s", req->path + 8);
	/* Split first, then decode each segment: an id may hold an encoded "/". */
	char *seg[MAX_SEGMENTS];
	int nseg = 0;
	for (char *save = NULL, *p = strtok_r(path, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		if (nseg == MAX_SEGMENTS)
			return api_fail(req, 404, "not_found", "no route %s", req->path);
		if (segment_decode(p))
			return api_fail(req, 400, "bad_request",
			                "malformed percent-encoding in the path");
		/* every name and id is UTF-8 text: other bytes name nothing */
		if (!utf8_valid(p, strlen(p)))
			return api_fail(req, 400, "bad_request",
			                "the path is not UTF-8 once percent-decoded");
		seg[nseg++] = p;
	}
	if (!nseg)
		return api_fail(req, 404, "not_found", "no route %s", req->path);

	struct caller c;
	if (!authenticate(a, req, &c))
		return API_DONE;
	const char *r = seg[0];
	if (strcmp(r, "companies") == 0 || strcmp(r, "company") == 0 || strcmp(r, "tokens") == 0)
		return api_companies(a, req, &c, seg, nseg);
	if (c.admin)
		return api_fail(req, 403, "forbidden",
		                "the admin token manages companies; use a company token here");
	if (strcmp(r, "webhooks") == 0)
		return api_webhooks(a, req, &c, seg, nseg);
	if (strcmp(r, "events") == 0)
		return api_events(a, req, &c, seg, nseg);
	if (strcmp(r, "deliveries") == 0)
		return api_deliveries(a, req, &c, seg, nseg);
	if (strcmp(r, "operator-events") == 0)
		return api_opevents(a, req, &c, seg, nseg);
	return api_fail(req, 404, "not_found", "no route %s", req->path);
}

int api_new(const struct api_config *cfg, struct registry *reg, struct engine *eng,
            struct api **out, struct gerr *err)
{
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	a->cfg = *cfg;
	a->reg = reg;
	a->eng = eng;
	pthread_mutex_init(&a->smu, NULL);
	tokcache_init(&a->unknown);
	int rc = store_open(cfg->db_url, &a->s, err);
	if (rc) {
		tokcache_destroy(&a->unknown);
		pthread_mutex_destroy(&a->smu);
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	store_close(a->s);
	tokcache_destroy(&a->unknown);
	pthread_mutex_destroy(&a->smu);
	free(a);
}
