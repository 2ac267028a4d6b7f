/*
 * api: routing, authentication and the helpers every resource uses.
 *
 * Routing is one table, `routes`: each row is {methods, mount, pattern, auth
 * kind, takes the API mutex, handler}. A mount is compared with the raw path
 * ("/healthz" whole, "/api/v1/" as a prefix); after a prefix mount the rest
 * is split into segments first and each segment percent-decoded then (so an
 * id may hold an encoded "/"), and route_match walks them against the row's
 * pattern ("webhooks/:id/replay": literals match exactly, ":id" takes one
 * segment and hands it to the handler). A path no row matches is 404; a path
 * that matches with another method is 405 with Allow, before any lookup.
 *
 * Authentication happens here, once, from the auth kind of the resource (the
 * rows sharing a first segment), before the handler runs and before anything
 * is said about the route: none (/healthz); admin (GANCHO_ADMIN_TOKEN,
 * compared in constant time); a company token, looked up by hash in the
 * registry, then in the store behind a cache of tokens found unknown; and a
 * kind reserved for routes a sender signs, which take no bearer token, never
 * the API mutex, and never ask the store about an unknown id. Handlers receive
 * the caller and scope every read and write to caller->company_seq, which is
 * how a company never sees another's data: an id of another company is
 * simply not found.
 */
#include "api/api_internal.h"
#include "api/route.h"
#include "inbound/receive.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/sign.h"
#include "core/source.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

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

static int health(struct api *a, struct api_req *req, const struct caller *c,
                  const char *const *param)
{
	(void)c;
	(void)param;
	char ids[16][40];
	int nb = registry_broken(a->reg, ids, 16);
	if (api_healthy(a) && nb) {
		/* Serving, but some stored webhooks receive nothing: say which. */
		json_t *list = json_array();
		for (int i = 0; i < nb && i < 16; i++)
			json_array_append_new(list, json_string(ids[i]));
		api_json(req, 200,
		         json_pack("{s:s,s:i,s:o}", "status", "degraded", "webhooksNotLoaded", nb,
		                   "webhookIds", list));
	} else if (api_healthy(a)) {
		req->status = 200;
		buf_reset(&req->out);
		buf_puts(&req->out, "{\"status\":\"ok\"}");
	} else {
		api_fail(req, 503, "unavailable", "the store cannot commit right now");
	}
	return API_DONE;
}

/* in_source_id: the source id of a receiving URL /in/{id} into id; false
 * for any other path. */
static bool in_source_id(const char *path, char id[48])
{
	if (!path || strncmp(path, "/in/", 4) != 0)
		return false;
	size_t n = strcspn(path + 4, "/?");
	if (n == 0 || n >= 48)
		return false;
	memcpy(id, path + 4, n);
	id[n] = '\0';
	return true;
}

size_t api_max_body(struct api *a, const char *path, size_t dflt)
{
	char id[48];
	if (!in_source_id(path, id))
		return dflt;
	struct source *src = registry_source_get(a->reg, id);
	size_t max = src ? src->max_body : dflt;
	source_unref(src);
	return max;
}

void api_refused(struct api *a, const struct api_req *req, int status, const char *code,
                 const char *msg)
{
	char id[48];
	if (!in_source_id(req->path, id))
		return;
	inbound_refused(a->reg, a->eng, a->cfg.trusted_proxies, req, id, status, code, msg);
}

/* in_receive: POST /in/{id} (inbound/receive.h). */
static int in_receive(struct api *a, struct api_req *req, const struct caller *c,
                      const char *const *param)
{
	(void)c;
	return inbound_receive(a->reg, a->eng, a->cfg.trusted_proxies, req, param[0]);
}

/* How a route's caller proves who it is; checked by api_handle before the
 * handler runs, so no handler checks it again. */
enum api_auth {
	API_AUTH_NONE,    /* anyone */
	API_AUTH_ADMIN,   /* Bearer GANCHO_ADMIN_TOKEN */
	API_AUTH_COMPANY, /* Bearer a company token: the caller is that company */
	/* Routes a sender signs (inbound): no bearer token, so no token lookup;
	 * the handler verifies the request itself against what the registry
	 * holds, and such a route never takes the API mutex nor asks the store
	 * about an id it does not know. */
	API_AUTH_SIGNATURE,
};

struct api_route {
	unsigned methods;  /* ROUTE_* bits */
	const char *mount; /* a raw prefix ending in '/', or an exact path */
	const char *pattern;
	enum api_auth auth;
	bool mutex; /* the handler takes the API mutex (store calls) */
	api_handler *fn;
};

#define V1 "/api/v1/"

/* The routes. A mount is compared with the raw path before any decoding (an
 * encoded byte never forges one): a mount ending in '/' is a prefix whose
 * rest is split and decoded into segments for the pattern, any other must be
 * the whole path. Rows of one mount and first segment (one resource) share
 * their auth kind. */
static const struct api_route routes[] = {
    {ROUTE_GET | ROUTE_HEAD, "/healthz", "", API_AUTH_NONE, true, health},
    {ROUTE_POST, V1, "companies", API_AUTH_ADMIN, true, api_company_create},
    {ROUTE_GET, V1, "companies", API_AUTH_ADMIN, true, api_company_list},
    {ROUTE_GET | ROUTE_PATCH, V1, "company", API_AUTH_COMPANY, true, api_company_own},
    {ROUTE_POST, V1, "tokens", API_AUTH_COMPANY, true, api_token_add},
    {ROUTE_GET, V1, "tokens", API_AUTH_COMPANY, true, api_token_list},
    {ROUTE_DELETE, V1, "tokens/:id", API_AUTH_COMPANY, true, api_token_revoke},
    {ROUTE_POST, V1, "webhooks", API_AUTH_COMPANY, true, api_webhook_create},
    {ROUTE_GET, V1, "webhooks", API_AUTH_COMPANY, true, api_webhook_list},
    {ROUTE_GET, V1, "webhooks/:id", API_AUTH_COMPANY, true, api_webhook_get},
    {ROUTE_PATCH, V1, "webhooks/:id", API_AUTH_COMPANY, true, api_webhook_patch},
    {ROUTE_DELETE, V1, "webhooks/:id", API_AUTH_COMPANY, true, api_webhook_delete},
    {ROUTE_POST, V1, "webhooks/:id/replay", API_AUTH_COMPANY, true, api_webhook_replay},
    /* ingest never waits on the API mutex: the committer answers it */
    {ROUTE_POST, V1, "events", API_AUTH_COMPANY, false, api_event_ingest},
    {ROUTE_GET, V1, "events/:id", API_AUTH_COMPANY, true, api_event_get},
    {ROUTE_GET, V1, "deliveries", API_AUTH_COMPANY, true, api_delivery_list},
    {ROUTE_GET, V1, "deliveries/:id", API_AUTH_COMPANY, true, api_delivery_get},
    {ROUTE_POST, V1, "deliveries/:id/retry", API_AUTH_COMPANY, true, api_delivery_retry},
    {ROUTE_GET, V1, "deliveries/:id/attempts", API_AUTH_COMPANY, true, api_delivery_attempts},
    {ROUTE_GET, V1, "operator-events", API_AUTH_COMPANY, true, api_opevent_list},
    /* sources: receiving URLs (the receiving endpoint is /in/{id}) */
    {ROUTE_POST, V1, "sources", API_AUTH_COMPANY, true, api_source_create},
    {ROUTE_GET, V1, "sources", API_AUTH_COMPANY, true, api_source_list},
    {ROUTE_GET, V1, "sources/:id", API_AUTH_COMPANY, true, api_source_get},
    {ROUTE_PATCH, V1, "sources/:id", API_AUTH_COMPANY, true, api_source_patch},
    {ROUTE_DELETE, V1, "sources/:id", API_AUTH_COMPANY, true, api_source_delete},
    {ROUTE_GET, V1, "sources/:id/rejections", API_AUTH_COMPANY, true, api_source_rejections},
    /* routes: "routes/test" before "routes/:id" */
    {ROUTE_POST, V1, "routes", API_AUTH_COMPANY, true, api_route_create},
    {ROUTE_GET, V1, "routes", API_AUTH_COMPANY, true, api_route_list},
    {ROUTE_POST, V1, "routes/test", API_AUTH_COMPANY, true, api_route_test},
    {ROUTE_GET, V1, "routes/:id", API_AUTH_COMPANY, true, api_route_get},
    {ROUTE_PATCH, V1, "routes/:id", API_AUTH_COMPANY, true, api_route_patch},
    {ROUTE_DELETE, V1, "routes/:id", API_AUTH_COMPANY, true, api_route_delete},
    /* connections: ATS and job board APIs the route actions call */
    {ROUTE_POST, V1, "connections", API_AUTH_COMPANY, true, api_connection_create},
    {ROUTE_GET, V1, "connections", API_AUTH_COMPANY, true, api_connection_list},
    {ROUTE_GET, V1, "connections/:id", API_AUTH_COMPANY, true, api_connection_get},
    {ROUTE_PATCH, V1, "connections/:id", API_AUTH_COMPANY, true, api_connection_patch},
    {ROUTE_DELETE, V1, "connections/:id", API_AUTH_COMPANY, true, api_connection_delete},
    /* receipts: what the receiving endpoint kept */
    {ROUTE_GET, V1, "receipts", API_AUTH_COMPANY, true, api_receipt_list},
    {ROUTE_GET, V1, "receipts/:id", API_AUTH_COMPANY, true, api_receipt_get},
    {ROUTE_POST, V1, "receipts/:id/replay", API_AUTH_COMPANY, true, api_receipt_replay},
    /* reconciliations: walks over an ATS's lists that recover lost webhooks */
    {ROUTE_POST, V1, "reconciliations", API_AUTH_COMPANY, true, api_reconciliation_create},
    {ROUTE_GET, V1, "reconciliations", API_AUTH_COMPANY, true, api_reconciliation_list},
    {ROUTE_GET, V1, "reconciliations/:id", API_AUTH_COMPANY, true, api_reconciliation_get},
    {ROUTE_PATCH, V1, "reconciliations/:id", API_AUTH_COMPANY, true, api_reconciliation_patch},
    {ROUTE_DELETE, V1, "reconciliations/:id", API_AUTH_COMPANY, true, api_reconciliation_delete},
    {ROUTE_POST, V1, "reconciliations/:id/run", API_AUTH_COMPANY, true, api_reconciliation_run},
    {ROUTE_GET, V1, "reconciliations/:id/runs", API_AUTH_COMPANY, true, api_reconciliation_runs},
    /* the receiving endpoint: the source's verification is its auth */
    {ROUTE_POST, "/in/", ":id", API_AUTH_SIGNATURE, false, in_receive},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static bool mount_matches(const char *mount, const char *path)
{
	size_t n = strlen(mount);
	return mount[n - 1] == '/' ? strncmp(path, mount, n) == 0 : strcmp(path, mount) == 0;
}

/* first_segment_is: whether pattern's first segment names seg0 (a literal
 * equal to it, or a parameter). */
static bool first_segment_is(const char *pattern, const char *seg0)
{
	if (pattern[0] == ':')
		return true;
	size_t n = strcspn(pattern, "/");
	return strlen(seg0) == n && memcmp(pattern, seg0, n) == 0;
}

/* forbidden: the caller's token is of the other kind than auth asks. */
static int forbidden(struct api_req *req, enum api_auth auth)
{
	if (auth == API_AUTH_ADMIN)
		return api_fail(req, 403, "forbidden",
		                "companies are managed with the admin token");
	return api_fail(req, 403, "forbidden",
	                "the admin token manages companies; use a company token here");
}

int api_handle(struct api *a, struct api_req *req)
{
	req->status = 500;
	req->allow[0] = '\0';
	const char *mount = NULL;
	for (size_t i = 0; i < NROUTES && !mount; i++)
		if (mount_matches(routes[i].mount, req->path))
			mount = routes[i].mount;
	if (!mount)
		return api_fail(req, 404, "not_found", "no route %s", req->path);

	char path[512];
	char *seg[ROUTE_MAX_SEGMENTS];
	int nseg = 0;
	size_t mlen = strlen(mount);
	if (mount[mlen - 1] == '/') {
		if (strlen(req->path + mlen) >= sizeof(path))
			return api_fail(req, 404, "not_found", "no route (the path is too long)");
		snprintf(path, sizeof(path), "%s", req->path + mlen);
		nseg = route_split(path, seg, ROUTE_MAX_SEGMENTS);
		if (nseg == ROUTE_E_ESCAPE)
			return api_fail(req, 400, "bad_request",
			                "malformed percent-encoding in the path");
		if (nseg == ROUTE_E_UTF8)
			return api_fail(req, 400, "bad_request",
			                "the path is not UTF-8 once percent-decoded");
		if (nseg <= 0) /* too many segments, or none */
			return api_fail(req, 404, "not_found", "no route %s", req->path);
	}

	/* The row for this path and method; else the methods the path allows. */
	const struct api_route *hit = NULL;
	const char *param[ROUTE_MAX_PARAMS] = {NULL};
	unsigned method = route_method(req->method), allowed = 0;
	/* A path that names no resource still needs a company token: the API
	 * tells nothing about its routes to a caller without one. */
	enum api_auth auth = API_AUTH_COMPANY;
	bool known = false;
	for (size_t i = 0; i < NROUTES && !hit; i++) {
		const struct api_route *r = &routes[i];
		const char *p[ROUTE_MAX_PARAMS] = {NULL};
		if (strcmp(r->mount, mount) != 0)
			continue;
		if (!known && (!nseg || first_segment_is(r->pattern, seg[0]))) {
			auth = r->auth;
			known = true;
		}
		if (!route_match(r->pattern, seg, nseg, p))
			continue;
		allowed |= r->methods;
		if (r->methods & method) {
			hit = r;
			memcpy(param, p, sizeof(p));
		}
	}

	struct caller c = {0};
	switch (auth) {
	case API_AUTH_NONE: break;
	case API_AUTH_SIGNATURE:
		/* the handler verifies; nothing here may wait on the store */
		assert(!hit || !hit->mutex);
		break;
	case API_AUTH_ADMIN:
	case API_AUTH_COMPANY:
		if (!authenticate(a, req, &c))
			return API_DONE;
		if (c.admin != (auth == API_AUTH_ADMIN))
			return forbidden(req, auth);
		break;
	}
	if (!hit && allowed) {
		char use[48];
		route_allow(allowed, false, req->allow, sizeof(req->allow));
		route_allow(allowed, true, use, sizeof(use));
		return api_fail(req, 405, "method_not_allowed", "use %s", use);
	}
	if (!hit)
		return api_fail(req, 404, "not_found", "no route %s", req->path);
	return hit->fn(a, req, &c, param);
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
