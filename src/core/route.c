/*
 * route: validation, stored form, compiled form, matching and rendering of a
 * route (see route.h for the shapes and the actions).
 *
 * Validation compiles: route_config_build compiles the filter and every
 * template, and builds every action's target config through core/webhook.c
 * (so authorization, retryPolicy, timeoutMs and failPermanentlyOn are judged
 * by the one validator webhooks use, and the URL by urlcheck), then throws
 * the compiled parts away; route_compile cannot fail on a config that was
 * built, except for memory. The HR actions (core/route_hr.c) are judged and
 * compiled by one function of their own; their target config needs their
 * connection, which only the API can read, so it is built at the API's
 * call of route_target_config, not here.
 *
 * Matching and rendering read one JSON document per receipt, written as text
 * around the received body (never decoded and re-serialised, so numbers,
 * key order and escapes reach filters and templates as they were received).
 */
#include "core/route.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/envelope.h"
#include "core/filter.h"
#include "core/headers.h"
#include "core/jsonpath.h"
#include "core/route_hr.h"
#include "core/template.h"
#include "core/webhook.h"
#include "util/buf.h"
#include "util/utf8.h"

static int bad(struct gerr *err, const char *fmt, const char *field)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", fmt, field);
}

static int nomem(struct gerr *err)
{
	return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
}

/* prefix_err: put "where: " before err's message ("actions[2]: ..."). */
static int prefix_err(struct gerr *err, const char *where, int rc)
{
	if (err && err->msg[0]) {
		char msg[sizeof(err->msg)];
		memcpy(msg, err->msg, sizeof(msg));
		size_t n = strlen(where);
		if (n + 2 < sizeof(err->msg)) {
			memcpy(err->msg, where, n);
			memcpy(err->msg + n, ": ", 2);
			n += 2;
			size_t rest = utf8_cut(msg, strlen(msg), sizeof(err->msg) - n - 1);
			memcpy(err->msg + n, msg, rest);
			err->msg[n + rest] = '\0';
		}
	}
	return rc;
}

bool route_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* ---- the filter ---------------------------------------------------------------------------- */

/* filter_paths: a copy of filter f whose paths are checked to start with
 * body., headers. or entity. and whose header names are lower-cased (the
 * document holds them so). Walks $and/$or lists and a top-level $not, which
 * hold filters; any other key is a path whose clause is left as it is. */
static int filter_paths(const json_t *f, int depth, json_t **out, struct gerr *err)
{
	*out = NULL;
	if (!json_is_object(f))
		return bad(err, "%s: must be an object", "filter");
	if (depth > FILTER_MAX_DEPTH)
		return bad(err, "%s: nested too deeply", "filter");
	json_t *o = json_object();
	if (!o)
		return nomem(err);
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)f, key, v) {
		json_t *nv = NULL;
		int rc = 0;
		if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0) {
			if (!json_is_array(v)) {
				json_decref(o);
				/* filter_compile names the fault */
				return filter_validate(f, err) ? GERR_INVALID
				                               : bad(err, "%s: bad list", "filter");
			}
			nv = json_array();
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e) {
				json_t *ne;
				if ((rc = filter_paths(e, depth + 1, &ne, err)))
					break;
				json_array_append_new(nv, ne);
			}
		} else if (strcmp(key, "$not") == 0) {
			rc = filter_paths(v, depth + 1, &nv, err);
		} else if (key[0] == '$') {
			nv = json_incref(v); /* filter_compile names an unknown operator */
		} else {
			static const char *const roots[] = {"body.", "headers.", "entity."};
			size_t r = 0;
			while (r < 3 && strncmp(key, roots[r], strlen(roots[r])) != 0)
				r++;
			if (r == 3) {
				char ex[UTF8_EXCERPT_SIZE];
				json_decref(o);
				return gerr_set(err, GERR_INVALID, 400, "invalid_field",
				                "filter: %s: a path starts with body., headers. or "
				                "entity.",
				                utf8_excerpt(key, ex));
			}
			char *k = strdup(key);
			if (!k) {
				json_decref(o);
				return nomem(err);
			}
			if (r == 1) /* headers.<name>[...]: the name is lower-case */
				for (char *p = k + 8; *p && *p != '.'; p++)
					*p = (char)tolower((unsigned char)*p);
			if (json_object_get(o, k)) {
				json_decref(o);
				rc = gerr_set(
				    err, GERR_INVALID, 400, "invalid_field",
				    "filter: %.100s: given twice (header names ignore case)", k);
				free(k);
				return rc;
			}
			json_object_set(o, k, v);
			free(k);
			continue;
		}
		if (rc) {
			json_decref(nv);
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, key, nv);
	}
	*out = o;
	return 0;
}

/* ---- actions ------------------------------------------------------------------------------- */

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

/* target_body: the webhook body of one action (its delivery settings). */
static json_t *target_body(const json_t *a, const json_t *events)
{
	json_t *t = json_object();
	if (!t)
		return NULL;
	const char *url = json_string_value(json_object_get(a, "url"));
	const char *kind = json_string_value(json_object_get(a, "kind"));
	json_object_set(t, "events", (json_t *)events);
	if (kind && strcmp(kind, "http") == 0) {
		struct template *ut = NULL;
		struct gerr e = {0};
		if (url && template_compile(url, TEMPLATE_URL, &ut, &e) == 0 &&
		    template_url_origin(ut))
			json_object_set_new(t, "url", json_string(template_url_origin(ut)));
		template_free(ut);
	} else if (url) {
		json_object_set_new(t, "url", json_string(url));
	}
	static const char *const copied[] = {"retryPolicy", "timeoutMs", "failPermanentlyOn", NULL};
	for (int i = 0; copied[i]; i++) {
		json_t *v = json_object_get(a, copied[i]);
		if (v)
			json_object_set(t, copied[i], v);
	}
	/* null removes an authorization kept from the existing target */
	json_t *auth = json_object_get(a, "authorization");
	json_object_set(t, "authorization", auth ? auth : json_null());
	json_object_set_new(t, "ordering", json_string("fifo"));
	return t;
}

/* check_templates: compile (and free) the templates of an http action. */
static int check_http(const json_t *a, struct gerr *err)
{
	const char *m = json_string_value(json_object_get(a, "method"));
	bool ok = false;
	for (int i = 0; m && methods[i] && !ok; i++)
		ok = strcmp(m, methods[i]) == 0;
	if (!ok)
		return bad(err, "%s: must be GET, POST, PUT, PATCH or DELETE", "method");
	const json_t *url = json_object_get(a, "url");
	if (!json_is_string(url))
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "url: required (a URL template)");
	struct template *t = NULL;
	int rc = template_compile_n(json_string_value(url), json_string_length(url), TEMPLATE_URL,
	                            &t, err);
	if (rc)
		return prefix_err(err, "url", rc);
	if (!template_url_origin(t)) {
		template_free(t);
		return bad(err, "%s: must start with a literal scheme://host", "url");
	}
	template_free(t);
	const json_t *h = json_object_get(a, "headers");
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)h, k, v) {
		if ((rc = template_compile_n(json_string_value(v), json_string_length(v),
		                             TEMPLATE_HEADER, &t, err))) {
			char where[160];
			snprintf(where, sizeof(where), "headers.%.120s", k);
			return prefix_err(err, where, rc);
		}
		template_free(t);
	}
	const json_t *body = json_object_get(a, "body");
	if (body) {
		if (strcmp(m, "GET") == 0)
			return bad(err, "%s: a GET sends no body", "body");
		if (json_is_string(body))
			rc = template_compile_n(json_string_value(body), json_string_length(body),
			                        TEMPLATE_TEXT, &t, err);
		else if (json_is_object(body) || json_is_array(body))
			rc = template_compile_json(body, &t, err);
		else
			return bad(err,
			           "%s: must be a JSON object or array (a JSON template) or "
			           "a string (a text template)",
			           "body");
		if (rc)
			return prefix_err(err, "body", rc);
		template_free(t);
	}
	return 0;
}

/* check_action: validate action a (the i-th of a route with these events). */
static int check_action(const json_t *a, const json_t *events, bool allow_http, bool allow_private,
                        int64_t now_ms, struct gerr *err)
{
	if (!json_is_object(a))
		return bad(err, "%s: must be an object {kind, ...}", "action");
	const char *kind = json_string_value(json_object_get(a, "kind"));
	if (!json_object_get(a, "kind"))
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "kind: required (forward, http, gupy.tag, gupy.comment, "
		                "gupy.reprove or hellowork.status)");
	int hr = route_hr_kind(kind);
	if (hr >= 0) {
		/* judged and compiled by route_hr; its target is built with its
		 * connection (route_target_config) */
		struct route_action ra = {0};
		int rc = route_hr_compile(&ra, a, hr, err);
		route_hr_free(&ra);
		return rc;
	}
	static const char *const fwd_keys[] = {
	    "kind",        "url",       "authorization",     "headers",
	    "retryPolicy", "timeoutMs", "failPermanentlyOn", "targetId",
	    NULL};
	static const char *const http_keys[] = {"kind",        "method",    "url",
	                                        "headers",     "body",      "authorization",
	                                        "retryPolicy", "timeoutMs", "failPermanentlyOn",
	                                        "targetId",    NULL};
	bool http = kind && strcmp(kind, "http") == 0;
	if (!http && !(kind && strcmp(kind, "forward") == 0))
		return bad(err,
		           "%s: must be forward, http, gupy.tag, gupy.comment, gupy.reprove or "
		           "hellowork.status",
		           "kind");
	int rc = webhook_only_keys(a, http ? http_keys : fwd_keys, "", err);
	if (rc)
		return rc;
	const json_t *h = json_object_get(a, "headers");
	if (h && (rc = headers_validate(h, err)))
		return prefix_err(err, "headers", rc);
	if (http && (rc = check_http(a, err)))
		return rc;
	if (!http && !json_is_string(json_object_get(a, "url")))
		return gerr_set(err, GERR_INVALID, 400, "missing_field", "url: required");
	/* the delivery settings, judged as a webhook's */
	json_t *tb = target_body(a, events), *tc = NULL;
	if (!tb)
		return nomem(err);
	rc = webhook_config_build(tb, NULL, allow_http, allow_private, now_ms, &tc, err);
	json_decref(tb);
	json_decref(tc);
	return rc;
}

/* check_events: 1..ROUTE_MAX_EVENTS event names. */
static int check_events(const json_t *ev, struct gerr *err)
{
	if (!json_is_array(ev) || json_array_size(ev) == 0 ||
	    json_array_size(ev) > ROUTE_MAX_EVENTS)
		return bad(err, "%s: must be a list of 1 to 64 event names", "events");
	size_t i;
	json_t *e;
	json_array_foreach (ev, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e) ||
		    !webhook_event_name_valid(json_string_value(e)))
			return bad(err,
			           "%s: each event must be a name of [A-Za-z0-9._:-], 1-128 chars",
			           "events");
	}
	return 0;
}

static const char *const body_keys[] = {"name",    "sourceId",  "events", "filter",
                                        "actions", "whenStale", NULL};

/* validate: check and normalise a merged config in place. */
static int validate(json_t *cfg, const json_t *existing, bool allow_http, bool allow_private,
                    int64_t now_ms, struct gerr *err)
{
	int rc;
	const json_t *name = json_object_get(cfg, "name");
	if (!name)
		return gerr_set(err, GERR_INVALID, 400, "missing_field", "name: required");
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) > ROUTE_MAX_NAME)
		return bad(err, "%s: must be a string of 1 to 256 bytes", "name");
	const json_t *src = json_object_get(cfg, "sourceId");
	if (src && !(json_is_string(src) && route_id_valid(json_string_value(src))))
		return bad(err, "%s: must be the id of one of your sources", "sourceId");
	const json_t *ev = json_object_get(cfg, "events");
	if (!ev)
		return gerr_set(err, GERR_INVALID, 400, "missing_field", "events: required");
	if ((rc = check_events(ev, err)))
		return rc;
	const json_t *ws = json_object_get(cfg, "whenStale");
	const char *w = json_string_value(ws);
	if (!ws)
		json_object_set_new(cfg, "whenStale", json_string("skip"));
	else if (!w || (strcmp(w, "skip") != 0 && strcmp(w, "fire") != 0))
		return bad(err, "%s: must be \"skip\" or \"fire\"", "whenStale");
	const json_t *f = json_object_get(cfg, "filter");
	if (f) {
		json_t *nf;
		if ((rc = filter_paths(f, 0, &nf, err)))
			return rc;
		struct filter *ft = filter_compile(nf, err);
		if (!ft) {
			json_decref(nf);
			return GERR_INVALID;
		}
		filter_free(ft);
		json_object_set_new(cfg, "filter", nf);
	}
	json_t *acts = json_object_get(cfg, "actions");
	if (!acts)
		return gerr_set(err, GERR_INVALID, 400, "missing_field", "actions: required");
	if (!json_is_array(acts) || json_array_size(acts) == 0 ||
	    json_array_size(acts) > ROUTE_MAX_ACTIONS)
		return bad(err, "%s: must be a list of 1 to 16 actions", "actions");
	const json_t *old = json_object_get(existing, "actions");
	size_t i;
	json_t *a;
	json_array_foreach (acts, i, a) {
		char where[32];
		snprintf(where, sizeof(where), "actions[%zu]", i);
		if ((rc = check_action(a, ev, allow_http, allow_private, now_ms, err)))
			return prefix_err(err, where, rc);
		/* targetId: kept from the stored action at this index */
		const json_t *tid = json_object_get(a, "targetId");
		const json_t *oid = json_object_get(json_array_get(old, i), "targetId");
		if (tid && !(oid && json_equal((json_t *)tid, (json_t *)oid)))
			return prefix_err(
			    err, where,
			    bad(err, "%s: chosen by gancho, not by the client", "targetId"));
		if (oid)
			json_object_set(a, "targetId", (json_t *)oid);
	}
	return 0;
}

int route_config_build(const json_t *body, const json_t *existing, bool allow_http,
                       bool allow_private, int64_t now_ms, json_t **out, struct gerr *err)
{
	*out = NULL;
	if (!json_is_object(body))
		return gerr_set(err, GERR_INVALID, 400, "invalid_json",
		                "the body must be a JSON object");
	json_t *cfg = existing ? json_deep_copy(existing) : json_object();
	if (!cfg)
		return nomem(err);
	const char *key;
	json_t *v;
	int rc = webhook_only_keys(body, body_keys, "", err);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	json_object_foreach ((json_t *)body, key, v) {
		if (strcmp(key, "id") == 0) /* the API checks it */
			continue;
		if (json_is_null(v))
			json_object_del(cfg, key);
		else
			json_object_set_new(cfg, key, json_deep_copy(v));
	}
	rc = validate(cfg, existing, allow_http, allow_private, now_ms, err);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/* hr_target_body: the webhook body of HR action a: its connection's base URL
 * and credentials, the action's retryPolicy and timeoutMs. */
static int hr_target_body(const json_t *a, const json_t *events, int kind,
                          const struct route_conn *conn, json_t **out, struct gerr *err)
{
	*out = NULL;
	const char *need = route_hr_connection_kind(kind);
	const char *cid = json_string_value(json_object_get(a, "connectionId"));
	if (!conn || !conn->base_url)
		return gerr_set(err, GERR_INVALID, 422, "invalid_field",
		                "connectionId: no connection %.64s", cid ? cid : "");
	if (!conn->kind || strcmp(conn->kind, need) != 0)
		return gerr_set(err, GERR_INVALID, 422, "invalid_field",
		                "connectionId: %.64s is a %.16s connection; %s needs a %s one",
		                cid ? cid : "", conn->kind ? conn->kind : "?",
		                route_hr_kind_name(kind), need);
	json_t *t = json_object();
	if (!t)
		return nomem(err);
	json_object_set(t, "events", (json_t *)events);
	json_object_set_new(t, "url", json_string(conn->base_url));
	if (conn->authorization)
		json_object_set(t, "authorization", (json_t *)conn->authorization);
	static const char *const copied[] = {"retryPolicy", "timeoutMs", NULL};
	for (int k = 0; copied[k]; k++) {
		json_t *v = json_object_get(a, copied[k]);
		if (v)
			json_object_set(t, copied[k], v);
	}
	json_object_set_new(t, "ordering", json_string("fifo"));
	*out = t;
	return 0;
}

int route_target_config(const json_t *cfg, int i, const char *route_id, const json_t *existing,
                        const struct route_conn *conn, bool allow_http, bool allow_private,
                        int64_t now_ms, json_t **out, struct gerr *err)
{
	*out = NULL;
	const json_t *a = json_array_get(json_object_get(cfg, "actions"), (size_t)i);
	if (!a)
		return bad(err, "%s: no such action", "actions");
	int hr = route_hr_kind(json_string_value(json_object_get(a, "kind")));
	if (hr >= 0) {
		/* The connection gives the URL and the credentials (a connection
		 * PATCH rewrites them); nothing carries over from the old target. */
		json_t *tb = NULL;
		int rc = hr_target_body(a, json_object_get(cfg, "events"), hr, conn, &tb, err);
		if (rc == 0)
			rc = webhook_config_build(tb, NULL, allow_http, allow_private, now_ms, out,
			                          err);
		json_decref(tb);
		if (rc == 0) {
			json_object_set_new(*out, "routeId", json_string(route_id));
			json_object_set(*out, "connectionId", json_object_get(a, "connectionId"));
			json_object_set_new(*out, "answerRules",
			                    json_string(route_hr_connection_kind(hr)));
		}
		return rc;
	}
	json_t *tb = target_body(a, json_object_get(cfg, "events"));
	if (!tb)
		return nomem(err);
	/* Only the secrets carry over from the existing target, so that a
	 * rotated Standard Webhooks secret keeps signing for a while. */
	json_t *ex = NULL;
	if (existing) {
		ex = json_object();
		json_t *ea = json_object_get(existing, "authorization");
		json_t *ep = json_object_get(existing, "previousSecrets");
		if (ea)
			json_object_set(ex, "authorization", ea);
		if (ep)
			json_object_set(ex, "previousSecrets", ep);
	}
	int rc = webhook_config_build(tb, ex, allow_http, allow_private, now_ms, out, err);
	json_decref(tb);
	json_decref(ex);
	if (rc == 0)
		json_object_set_new(*out, "routeId", json_string(route_id));
	return rc;
}

const char *route_action_connection(const json_t *cfg, int i)
{
	const json_t *a = json_array_get(json_object_get(cfg, "actions"), (size_t)i);
	if (route_hr_kind(json_string_value(json_object_get(a, "kind"))) < 0)
		return NULL;
	return json_string_value(json_object_get(a, "connectionId"));
}

/* ---- compiled ------------------------------------------------------------------------------ */

static const char *str_or_empty(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static int compile_action(struct route_action *ra, const json_t *a, struct gerr *err)
{
	const char *kind = json_string_value(json_object_get(a, "kind"));
	snprintf(ra->target_id, sizeof(ra->target_id), "%s",
	         str_or_empty(json_object_get(a, "targetId")));
	int hr = route_hr_kind(kind);
	if (hr >= 0)
		return route_hr_compile(ra, a, hr, err);
	ra->kind = strcmp(kind, "http") == 0 ? ROUTE_ACTION_HTTP : ROUTE_ACTION_FORWARD;
	const json_t *url = json_object_get(a, "url");
	const json_t *h = json_object_get(a, "headers");
	size_t nh = json_object_size(h);
	ra->hnames = calloc(nh + 1, sizeof(char *));
	if (ra->kind == ROUTE_ACTION_HTTP) {
		snprintf(ra->method, sizeof(ra->method), "%s",
		         json_string_value(json_object_get(a, "method")));
		ra->hvals_t = calloc(nh + 1, sizeof(struct template *));
		if (template_compile_n(json_string_value(url), json_string_length(url),
		                       TEMPLATE_URL, &ra->url_t, err))
			return GERR_INVALID;
	} else {
		snprintf(ra->method, sizeof(ra->method), "POST");
		ra->hvals = calloc(nh + 1, sizeof(char *));
		ra->url = strdup(json_string_value(url));
	}
	if (!ra->hnames || (!ra->hvals && !ra->hvals_t) || (!ra->url && !ra->url_t))
		return nomem(err);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)h, k, v) {
		int j = ra->nheaders;
		if (!(ra->hnames[j] = strdup(k)))
			return nomem(err);
		ra->nheaders++;
		if (ra->hvals && !(ra->hvals[j] = strdup(json_string_value(v))))
			return nomem(err);
		if (ra->hvals_t && template_compile_n(json_string_value(v), json_string_length(v),
		                                      TEMPLATE_HEADER, &ra->hvals_t[j], err))
			return GERR_INVALID;
		if (strcasecmp(k, "Content-Type") == 0)
			ra->has_content_type = true;
	}
	const json_t *body = json_object_get(a, "body");
	if (body && ra->kind == ROUTE_ACTION_HTTP) {
		ra->body_json = !json_is_string(body);
		int rc = ra->body_json
		             ? template_compile_json(body, &ra->body_t, err)
		             : template_compile_n(json_string_value(body), json_string_length(body),
		                                  TEMPLATE_TEXT, &ra->body_t, err);
		if (rc)
			return rc;
	}
	return 0;
}

int route_compile(const json_t *cfg, int64_t seq, const char *id, int64_t company_seq,
                  int64_t source_seq, const int64_t *target_seqs, struct route **out,
                  struct gerr *err)
{
	*out = NULL;
	struct route *r = calloc(1, sizeof(*r));
	if (!r)
		return nomem(err);
	r->refs = 1;
	r->seq = seq;
	r->company_seq = company_seq;
	r->source_seq = source_seq;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->source_id, sizeof(r->source_id), "%s",
	         str_or_empty(json_object_get(cfg, "sourceId")));
	r->name = strdup(str_or_empty(json_object_get(cfg, "name")));
	const json_t *ev = json_object_get(cfg, "events");
	r->events = calloc(json_array_size(ev) + 1, sizeof(char *));
	if (!r->name || !r->events)
		goto oom;
	size_t i;
	json_t *e;
	json_array_foreach (ev, i, e) {
		if (!(r->events[r->nevents] = strdup(json_string_value(e))))
			goto oom;
		r->nevents++;
	}
	const json_t *f = json_object_get(cfg, "filter");
	if (f && !(r->filter = filter_compile(f, err)))
		goto fail;
	const char *ws = json_string_value(json_object_get(cfg, "whenStale"));
	r->fire_stale = ws && strcmp(ws, "fire") == 0;
	json_t *a;
	json_array_foreach (json_object_get(cfg, "actions"), i, a) {
		if (r->nactions == ROUTE_MAX_ACTIONS)
			break;
		struct route_action *ra = &r->actions[r->nactions++];
		ra->target_seq = target_seqs ? target_seqs[i] : 0;
		if (compile_action(ra, a, err))
			goto fail;
	}
	*out = r;
	return 0;
oom:
	nomem(err);
fail:
	route_unref(r);
	return err && err->status == 500 ? GERR_NOMEM : GERR_INVALID;
}

void route_ref(struct route *r)
{
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
}

static void free_action(struct route_action *ra)
{
	free(ra->url);
	template_free(ra->url_t);
	for (int j = 0; j < ra->nheaders; j++) {
		free(ra->hnames[j]);
		if (ra->hvals)
			free(ra->hvals[j]);
		if (ra->hvals_t)
			template_free(ra->hvals_t[j]);
	}
	free(ra->hnames);
	free(ra->hvals);
	free(ra->hvals_t);
	template_free(ra->body_t);
	route_hr_free(ra);
}

void route_unref(struct route *r)
{
	if (!r || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(r->name);
	for (int i = 0; r->events && i < r->nevents; i++)
		free(r->events[i]);
	free(r->events);
	filter_free(r->filter);
	for (int i = 0; i < r->nactions; i++)
		free_action(&r->actions[i]);
	free(r);
}

json_t *route_to_json(const json_t *cfg, const char *id, int64_t created_at, int64_t updated_at)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(id));
	static const char *const shown[] = {"name", "sourceId", "events", "filter", NULL};
	for (int i = 0; shown[i]; i++) {
		json_t *v = json_object_get(cfg, shown[i]);
		json_object_set(o, shown[i], v ? v : json_null());
	}
	json_t *acts = json_array();
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(cfg, "actions"), i, a) {
		json_t *c = json_copy(a);
		const json_t *auth = json_object_get(a, "authorization");
		if (c && auth)
			json_object_set_new(
			    c, "authorization",
			    json_pack("{s:O}", "kind", json_object_get(auth, "kind")));
		json_array_append_new(acts, c);
	}
	json_object_set_new(o, "actions", acts);
	json_object_set(o, "whenStale", json_object_get(cfg, "whenStale"));
	char date[DATE_STR_LEN];
	envelope_format_date(created_at, date);
	json_object_set_new(o, "createdAt", json_string(date));
	envelope_format_date(updated_at, date);
	json_object_set_new(o, "updatedAt", json_string(date));
	return o;
}

/* ---- matching and rendering ---------------------------------------------------------------- */

/* receipt_doc: {"body":…,"headers":…,"entity":…}, the body as its raw text. */
static void receipt_doc(struct buf *doc, const struct route_input *in)
{
	buf_puts(doc, "{\"body\":");
	if (in->body && in->body_len)
		buf_append(doc, in->body, in->body_len);
	else
		buf_puts(doc, "null");
	buf_puts(doc, ",\"headers\":");
	buf_puts(doc, in->headers ? in->headers : "{}");
	buf_puts(doc, ",\"entity\":");
	buf_puts(doc, in->entity ? in->entity : "{}");
	buf_putc(doc, '}');
}

bool route_matches(const struct route *r, const char *event, const struct route_input *in)
{
	if (r->source_seq && in->source_seq && r->source_seq != in->source_seq)
		return false;
	bool wanted = false;
	for (int i = 0; event && i < r->nevents && !wanted; i++)
		wanted = strcmp(r->events[i], event) == 0;
	if (!wanted)
		return false;
	if (!r->filter)
		return true;
	struct buf doc;
	buf_init(&doc);
	receipt_doc(&doc, in);
	bool ok = !doc.oom && filter_eval(r->filter, doc.data, doc.len);
	buf_free(&doc);
	return ok;
}

struct lookup_ctx {
	const struct route_input *in;
	struct buf receipt[4]; /* id, date, event, sourceId as JSON strings */
};

static bool lookup_in(const char *json, const char *path, const char **v, size_t *n)
{
	return json && jsonpath_get(json, strlen(json), path, v, n);
}

static bool lookup(void *vctx, const char *root, const char *path, const char **v, size_t *n)
{
	struct lookup_ctx *c = vctx;
	if (strcmp(root, "body") == 0)
		return c->in->body && jsonpath_get(c->in->body, c->in->body_len, path, v, n);
	if (strcmp(root, "headers") == 0)
		return lookup_in(c->in->headers, path, v, n);
	if (strcmp(root, "entity") == 0)
		return lookup_in(c->in->entity, path, v, n);
	static const char *const fields[] = {"id", "date", "event", "sourceId"};
	const char *text[4] = {c->in->receipt_id, c->in->receipt_date, c->in->event,
	                       c->in->source_id};
	for (int i = 0; i < 4; i++) {
		if (strcmp(path, fields[i]) != 0 || !text[i])
			continue;
		/* as a JSON string, made when a template first asks for it */
		if (!c->receipt[i].len)
			buf_json_str(&c->receipt[i], text[i], strlen(text[i]));
		if (c->receipt[i].oom || !c->receipt[i].len)
			return false;
		*v = c->receipt[i].data;
		*n = c->receipt[i].len;
		return true;
	}
	return false;
}

/* received_content_type: the receipt's Content-Type header, decoded. */
static void received_content_type(const struct route_input *in, struct buf *out)
{
	const char *v;
	size_t n;
	if (lookup_in(in->headers, "content-type", &v, &n) && n >= 2 && v[0] == '"') {
		char *text = malloc(n); /* decoded text is never longer than the literal */
		long k = text ? jsonpath_string_decode(v, n, text) : -1;
		if (k > 0)
			buf_append(out, text, (size_t)k);
		free(text);
	}
	if (!out->len)
		buf_puts(out, "application/json");
}

static void header_out(struct buf *h, const char *name, const char *v, size_t n)
{
	if (h->len > 1) /* after "{" and an entry */
		buf_putc(h, ',');
	buf_json_str(h, name, strlen(name));
	buf_putc(h, ':');
	buf_json_str(h, v, n);
}

int route_render(const struct route *r, int i, const struct route_input *in, const char *base,
                 struct route_request *out, struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	if (i < 0 || i >= r->nactions)
		return bad(err, "%s: no such action", "action");
	const struct route_action *ra = &r->actions[i];
	struct lookup_ctx c = {.in = in};
	for (int k = 0; k < 4; k++)
		buf_init(&c.receipt[k]);
	struct buf url, hdr, body, val;
	buf_init(&url);
	buf_init(&hdr);
	buf_init(&body);
	buf_init(&val);
	int rc = 0;
	snprintf(out->method, sizeof(out->method), "%s", ra->method);
	buf_putc(&hdr, '{');
	if (ra->kind == ROUTE_ACTION_FORWARD) {
		buf_puts(&url, ra->url);
		if (!ra->has_content_type) {
			received_content_type(in, &val);
			header_out(&hdr, "Content-Type", val.data, val.len);
		}
		for (int j = 0; j < ra->nheaders; j++)
			header_out(&hdr, ra->hnames[j], ra->hvals[j], strlen(ra->hvals[j]));
		if (in->body && in->body_len)
			buf_append(&body, in->body, in->body_len);
	} else if (ra->kind != ROUTE_ACTION_HTTP) {
		/* an HR action: the exact request of its API */
		if ((rc = route_hr_render(ra, lookup, &c, in, base, &url, &body, err)))
			goto out;
		header_out(&hdr, "accept", "application/json", 16);
		header_out(&hdr, "content-type", "application/json", 16);
	} else {
		if ((rc = template_render(ra->url_t, lookup, &c, &url, err)))
			goto out;
		if (ra->body_t && !ra->has_content_type)
			header_out(&hdr, "Content-Type",
			           ra->body_json ? "application/json" : "text/plain; charset=utf-8",
			           ra->body_json ? 16 : 25);
		for (int j = 0; j < ra->nheaders; j++) {
			buf_reset(&val);
			if ((rc = template_render(ra->hvals_t[j], lookup, &c, &val, err)))
				goto out;
			header_out(&hdr, ra->hnames[j], val.data ? val.data : "", val.len);
		}
		if (ra->body_t && (rc = template_render(ra->body_t, lookup, &c, &body, err)))
			goto out;
	}
	buf_putc(&hdr, '}');
	if (url.oom || hdr.oom || body.oom || val.oom) {
		rc = nomem(err);
		goto out;
	}
	out->url = buf_steal(&url, NULL);
	out->headers = buf_steal(&hdr, NULL);
	if (body.len || ra->kind != ROUTE_ACTION_HTTP || ra->body_t)
		out->body = buf_steal(&body, &out->body_len);
	if (!out->url || !out->headers)
		rc = nomem(err);
out:
	buf_free(&url);
	buf_free(&hdr);
	buf_free(&body);
	buf_free(&val);
	for (int k = 0; k < 4; k++)
		buf_free(&c.receipt[k]);
	return rc;
}

void route_request_free(struct route_request *rq)
{
	if (!rq)
		return;
	free(rq->url);
	free(rq->headers);
	free(rq->body);
	memset(rq, 0, sizeof(*rq));
}
