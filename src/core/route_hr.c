/*
 * route_hr: the HR actions of a route (see route_hr.h for the requests and
 * the rules a person reads).
 *
 * One function validates and compiles (route_hr_compile): core/route.c
 * calls it at creation to judge a body, throwing the result away, and again
 * to compile the stored config, so what was accepted always compiles.
 *
 * Rendering looks values up through hr_lookup, which treats a JSON null as
 * missing: a null id, date or status is no value (and never the text
 * "null" in a path).
 */
#include "core/route_hr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/envelope.h"
#include "core/isodate.h"
#include "core/policy.h"
#include "core/webhook.h"
#include "util/utf8.h"

const char *const route_hr_statuses[ROUTE_HR_STATUSES] = {
    "sending",
    "sent",
    "error",
    "not_found",
    "seen_by_recruiter",
    "interview_by_recruiter",
    "to_finalize",
    "hired",
    "pool",
    "offred",
    "whithdrawn",
    "outdated",
    "rejected_and_contacted_by_recruiter",
    "rejected",
    "rejected_candidate",
    "unknown",
};

#define REJECTED_CONTACTED "rejected_and_contacted_by_recruiter"

static const struct {
	const char *name;
	int kind;
	const char *conn;  /* the connection kind it needs */
	const char *field; /* its text: the body's one field (gupy), the status */
	const char *method;
	const char *tail; /* after .../applications/{applicationId} */
} kinds[] = {
    {"gupy.tag", ROUTE_ACTION_GUPY_TAG, "gupy", "name", "PUT", "/tags"},
    {"gupy.comment", ROUTE_ACTION_GUPY_COMMENT, "gupy", "text", "POST", "/comments"},
    {"gupy.reprove", ROUTE_ACTION_GUPY_REPROVE, "gupy", "disapprovalReason", "PATCH", ""},
    {"hellowork.status", ROUTE_ACTION_HELLOWORK_STATUS, "hellowork", "status", "POST", NULL},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int kind_index(int kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return (int)i;
	return -1;
}

int route_hr_kind(const char *name)
{
	for (size_t i = 0; name && i < NKINDS; i++)
		if (strcmp(name, kinds[i].name) == 0)
			return kinds[i].kind;
	return -1;
}

const char *route_hr_kind_name(int kind)
{
	if (kind == ROUTE_ACTION_FORWARD)
		return "forward";
	if (kind == ROUTE_ACTION_HTTP)
		return "http";
	int k = kind_index(kind);
	return k < 0 ? "" : kinds[k].name;
}

const char *route_hr_connection_kind(int kind)
{
	int k = kind_index(kind);
	return k < 0 ? NULL : kinds[k].conn;
}

/* ---- validation and compiling ------------------------------------------------------------- */

static int bad(struct gerr *err, const char *fmt, const char *field)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", fmt, field);
}

static int nomem(struct gerr *err)
{
	return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
}

/* prefixed: put "field: " before err's message; returns rc. */
static int prefixed(struct gerr *err, const char *field, int rc)
{
	if (err && err->msg[0]) {
		char msg[sizeof(err->msg)];
		memcpy(msg, err->msg, sizeof(msg));
		size_t n = strlen(field);
		if (n + 2 < sizeof(err->msg)) {
			size_t rest = utf8_cut(msg, strlen(msg), sizeof(err->msg) - n - 3);
			snprintf(err->msg, sizeof(err->msg), "%s: %.*s", field, (int)rest, msg);
		}
	}
	return rc;
}

/* text_template: a's field as a text template into *out (NULL when absent
 * and not required). */
static int text_template(const json_t *a, const char *field, bool required, struct template **out,
                         struct gerr *err)
{
	const json_t *v = json_object_get(a, field);
	*out = NULL;
	if (!v) {
		if (required)
			return gerr_set(err, GERR_INVALID, 400, "missing_field",
			                "%s: required (a text template)", field);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return bad(err, "%s: must be a non-empty string (a text template)", field);
	int rc = template_compile_n(json_string_value(v), json_string_length(v), TEMPLATE_TEXT, out,
	                            err);
	return rc ? prefixed(err, field, rc) : 0;
}

/* literal_date: a date template without placeholders is checked now. */
static int literal_date(const json_t *a, const char *field, const struct template *t,
                        struct gerr *err)
{
	if (!t || template_path_count(t) != 0)
		return 0;
	const json_t *v = json_object_get(a, field);
	struct isodate d;
	return isodate_parse(json_string_value(v), json_string_length(v), &d, field, err);
}

/* json_template: a's field (for source: a string or an object; for
 * communicationDelay: a string or a number) as a JSON template. */
static int json_template(const json_t *a, const char *field, bool objects, struct template **out,
                         struct gerr *err)
{
	const json_t *v = json_object_get(a, field);
	*out = NULL;
	if (!v)
		return 0;
	if (!(json_is_string(v) || (objects ? json_is_object(v) : json_is_number(v))))
		return bad(err,
		           objects ? "%s: must be a string or an object (a JSON template)"
		                   : "%s: must be a number or a string (a template)",
		           field);
	int rc = template_compile_json(v, out, err);
	return rc ? prefixed(err, field, rc) : 0;
}

static bool hw_status(const char *s)
{
	for (int i = 0; i < ROUTE_HR_STATUSES; i++)
		if (strcmp(s, route_hr_statuses[i]) == 0)
			return true;
	return false;
}

static int check_map(const json_t *m, struct gerr *err)
{
	if (!m)
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "map: required ({\"<ATS status>\": \"<HelloWork status>\", ...})");
	if (!json_is_object(m) || json_object_size(m) == 0 ||
	    json_object_size(m) > ROUTE_HR_MAX_MAP)
		return bad(err, "%s: must be an object of 1 to 256 entries", "map");
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)m, k, v) {
		char ex[UTF8_EXCERPT_SIZE], vx[UTF8_EXCERPT_SIZE];
		if (!*k || strlen(k) > ROUTE_HR_MAX_KEY)
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "map: a key must be 1 to %d bytes", ROUTE_HR_MAX_KEY);
		const char *s = json_string_value(v);
		if (!s || strlen(s) != json_string_length(v) || !hw_status(s))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "map.%s: %s%s%s is not one of HelloWork's 16 statuses "
			                "(sending, sent, ..., rejected_candidate, unknown)",
			                utf8_excerpt(k, ex), s ? "\"" : "",
			                s ? utf8_excerpt(s, vx) : "a non-string", s ? "\"" : "");
	}
	return 0;
}

/* settings: what an HR action may say about its delivery. */
static int settings(const json_t *a, struct gerr *err)
{
	const json_t *rp = json_object_get(a, "retryPolicy");
	struct policy p;
	int rc;
	if (rp && (rc = policy_parse(rp, &p, err)))
		return rc;
	const json_t *t = json_object_get(a, "timeoutMs");
	if (t &&
	    !(json_is_integer(t) && json_integer_value(t) >= 1 && json_integer_value(t) <= 300000))
		return bad(err, "%s: must be an integer from 1 to 300000", "timeoutMs");
	const json_t *c = json_object_get(a, "connectionId");
	if (!c)
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "connectionId: required (the id of one of your connections)");
	if (!json_is_string(c) || !route_id_valid(json_string_value(c)))
		return bad(err, "%s: must be the id of one of your connections", "connectionId");
	return 0;
}

int route_hr_compile(struct route_action *ra, const json_t *a, int kind, struct gerr *err)
{
	int k = kind_index(kind);
	if (k < 0)
		return bad(err, "%s: not an HR action", "kind");
	static const char *const gupy_keys[] = {"kind",          "connectionId", "jobId",
	                                        "applicationId", "retryPolicy",  "timeoutMs",
	                                        "targetId"};
#define NGUPY_KEYS (sizeof(gupy_keys) / sizeof(gupy_keys[0]))
	static const char *const hw_keys[] = {"kind",
	                                      "connectionId",
	                                      "status",
	                                      "map",
	                                      "eventDate",
	                                      "created",
	                                      "jobId",
	                                      "source",
	                                      "statusApiUrl",
	                                      "applicationId",
	                                      "communicationDelay",
	                                      "retryPolicy",
	                                      "timeoutMs",
	                                      "targetId",
	                                      NULL};
	const char *allowed[NGUPY_KEYS + 2]; /* and the text field, and NULL */
	bool hw = kind == ROUTE_ACTION_HELLOWORK_STATUS;
	memcpy(allowed, gupy_keys, sizeof(gupy_keys));
	allowed[NGUPY_KEYS] = kinds[k].field;
	allowed[NGUPY_KEYS + 1] = NULL;
	/* the connection holds what a webhook's delivery settings would say */
	static const char *const from_conn[] = {"url", "authorization", "headers",
	                                        "failPermanentlyOn", NULL};
	for (int i = 0; from_conn[i]; i++)
		if (json_object_get(a, from_conn[i]))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "%s: not for a %s action (its connection and its kind "
			                "decide it)",
			                from_conn[i], kinds[k].name);
	int rc = webhook_only_keys(a, hw ? hw_keys : allowed, "", err);
	if (rc || (rc = settings(a, err)))
		return rc;
	ra->kind = kind;
	snprintf(ra->method, sizeof(ra->method), "%s", kinds[k].method);
	snprintf(ra->connection_id, sizeof(ra->connection_id), "%s",
	         json_string_value(json_object_get(a, "connectionId")));
	if ((rc = text_template(a, kinds[k].field, true, &ra->text_t, err)) ||
	    (rc = text_template(a, "jobId", false, &ra->job_t, err)) ||
	    (rc = text_template(a, "applicationId", false, &ra->app_t, err)))
		return rc;
	if (!ra->job_t &&
	    (rc = template_compile("{{entity.jobId}}", TEMPLATE_TEXT, &ra->job_t, err)))
		return rc;
	if (!hw)
		return 0;
	if ((rc = check_map(json_object_get(a, "map"), err)))
		return rc;
	if (!(ra->map = json_deep_copy(json_object_get(a, "map"))))
		return nomem(err);
	if ((rc = text_template(a, "statusApiUrl", false, &ra->status_url_t, err)) ||
	    (rc = text_template(a, "eventDate", false, &ra->event_date_t, err)) ||
	    (rc = text_template(a, "created", true, &ra->created_t, err)) ||
	    (rc = literal_date(a, "eventDate", ra->event_date_t, err)) ||
	    (rc = literal_date(a, "created", ra->created_t, err)) ||
	    (rc = json_template(a, "source", true, &ra->source_t, err)) ||
	    (rc = json_template(a, "communicationDelay", false, &ra->delay_t, err)))
		return rc;
	return 0;
}

void route_hr_free(struct route_action *ra)
{
	template_free(ra->job_t);
	template_free(ra->app_t);
	template_free(ra->text_t);
	template_free(ra->status_url_t);
	template_free(ra->event_date_t);
	template_free(ra->created_t);
	template_free(ra->source_t);
	template_free(ra->delay_t);
	json_decref(ra->map);
}

/* ---- rendering ---------------------------------------------------------------------------- */

struct hr_ctx {
	template_lookup lookup;
	void *ctx;
};

/* hr_lookup: the caller's lookup, with a JSON null as no value. */
static bool hr_lookup(void *vctx, const char *root, const char *path, const char **v, size_t *n)
{
	struct hr_ctx *c = vctx;
	if (!c->lookup(c->ctx, root, path, v, n))
		return false;
	return !(*n == 4 && memcmp(*v, "null", 4) == 0);
}

/* render: template t as text into out (reset first); failures name field. */
static int render(const struct template *t, struct hr_ctx *c, const char *field, struct buf *out,
                  struct gerr *err)
{
	buf_reset(out);
	int rc = template_render(t, hr_lookup, c, out, err);
	if (rc)
		return prefixed(err, field, rc);
	if (out->oom)
		return nomem(err);
	return 0;
}

static void url_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf_putc(b, (char)ch);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			buf_append(b, e, 3);
		}
	}
}

/* id_value: jobId or applicationId as text into out: its template, or for
 * applicationId without one the entity key. Never empty, never "." or "..",
 * at most ROUTE_HR_MAX_ID bytes. */
static int id_value(const struct route_action *ra, bool job, struct hr_ctx *c,
                    const struct route_input *in, struct buf *out, struct gerr *err)
{
	const char *field = job ? "jobId" : "applicationId";
	const struct template *t = job ? ra->job_t : ra->app_t;
	int rc;
	if (t) {
		if ((rc = render(t, c, field, out, err))) {
			/* the default names what is missing in the person's terms */
			if (job && err && strcmp(err->code, "template_missing") == 0 &&
			    strstr(err->msg, "template: entity.jobId is missing"))
				gerr_set(
				    err, GERR_INVALID, 422, "template_missing",
				    "jobId: missing: the entity keeps no jobId (keep it in the "
				    "source's entity, or give the action a jobId template)");
			return rc;
		}
	} else {
		buf_reset(out);
		if (!in->entity_key || !*in->entity_key)
			return gerr_set(
			    err, GERR_INVALID, 422, "template_missing",
			    "applicationId: missing: the receipt has no entity key (key "
			    "the source's entity by the application id, or give the "
			    "action an applicationId template)");
		if (in->entity_key[0] == '~') /* a digest stands for a longer key */
			return gerr_set(
			    err, GERR_INVALID, 422, "template_value",
			    "applicationId: the entity key is too long to be kept as it "
			    "is (gancho keeps a digest); give the action an "
			    "applicationId template");
		buf_puts(out, in->entity_key);
		if (out->oom)
			return nomem(err);
	}
	if (out->len == 0)
		return gerr_set(err, GERR_INVALID, 422, "template_missing", "%s: missing (empty)",
		                field);
	if (out->len > ROUTE_HR_MAX_ID)
		return gerr_set(err, GERR_INVALID, 422, "template_value",
		                "%s: longer than %d bytes", field, ROUTE_HR_MAX_ID);
	if ((out->len == 1 && out->data[0] == '.') ||
	    (out->len == 2 && memcmp(out->data, "..", 2) == 0))
		return gerr_set(err, GERR_INVALID, 422, "template_value",
		                "%s: \"%.*s\" cannot be a path segment", field, (int)out->len,
		                out->data);
	return 0;
}

/* base_out: the base URL without its trailing slashes. */
static void base_out(struct buf *url, const char *base)
{
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	buf_append(url, base, n);
}

/* date_value: field's date (template t, or dflt when t is NULL) as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" JSON string into body. */
static int date_value(const struct template *t, const char *dflt, const char *field,
                      struct hr_ctx *c, struct buf *tmp, struct buf *body, struct gerr *err)
{
	int rc;
	if (t) {
		if ((rc = render(t, c, field, tmp, err)))
			return rc;
	} else {
		buf_reset(tmp);
		if (!dflt)
			return gerr_set(err, GERR_INVALID, 422, "template_missing",
			                "%s: missing: the receipt has no date", field);
		buf_puts(tmp, dflt);
	}
	struct isodate d;
	if (isodate_parse(tmp->data ? tmp->data : "", tmp->len, &d, field, err)) {
		err->status = 422;
		snprintf(err->code, sizeof(err->code), "template_value");
		return GERR_INVALID;
	}
	char date[DATE_STR_LEN];
	envelope_format_date(isodate_ms(&d), date);
	buf_putc(body, '"');
	buf_puts(body, date);
	buf_putc(body, '"');
	return 0;
}

/* json_kind: the first byte of a rendered JSON value, past blanks. */
static char json_kind(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\n' &&
		    b->data[i] != '\r')
			return b->data[i];
	return '\0';
}

/* optional_json: an optional JSON option (source, communicationDelay)
 * rendered into tmp; *present false when its value is missing, null or "". */
static int optional_json(const struct template *t, const char *field, struct hr_ctx *c,
                         struct buf *tmp, bool *present, struct gerr *err)
{
	*present = false;
	buf_reset(tmp);
	if (!t)
		return 0;
	struct gerr e = {0};
	int rc = template_render(t, hr_lookup, c, tmp, &e);
	if (rc && strcmp(e.code, "template_missing") == 0)
		return 0;
	if (rc) {
		if (err)
			*err = e;
		return prefixed(err, field, rc);
	}
	if (tmp->oom)
		return nomem(err);
	/* rendered JSON values have no blanks around them */
	bool none = (tmp->len == 4 && memcmp(tmp->data, "null", 4) == 0) ||
	            (tmp->len == 2 && memcmp(tmp->data, "\"\"", 2) == 0);
	*present = !none && tmp->len > 0;
	return 0;
}

static int hellowork_body(const struct route_action *ra, struct hr_ctx *c,
                          const struct route_input *in, struct buf *tmp, struct buf *body,
                          struct gerr *err)
{
	int rc;
	if ((rc = render(ra->text_t, c, "status", tmp, err)))
		return rc;
	const char *status = "unknown";
	const char *key;
	json_t *v;
	json_object_foreach (ra->map, key, v) {
		if (strlen(key) == tmp->len && memcmp(key, tmp->data, tmp->len) == 0) {
			status = json_string_value(v);
			break;
		}
	}
	buf_puts(body, "{\"status\":");
	buf_json_str(body, status, strlen(status));
	buf_puts(body, ",\"eventDate\":");
	if ((rc = date_value(ra->event_date_t, in->receipt_date, "eventDate", c, tmp, body, err)))
		return rc;
	buf_puts(body, ",\"created\":");
	if ((rc = date_value(ra->created_t, NULL, "created", c, tmp, body, err)))
		return rc;
	buf_puts(body, ",\"jobId\":");
	if ((rc = id_value(ra, true, c, in, tmp, err)))
		return rc;
	buf_json_str(body, tmp->data, tmp->len);
	bool present;
	if ((rc = optional_json(ra->source_t, "source", c, tmp, &present, err)))
		return rc;
	if (present) {
		char k = json_kind(tmp);
		if (k != '"' && k != '{')
			return gerr_set(err, GERR_INVALID, 422, "template_value",
			                "source: must be a string or an object, not %s",
			                k == '[' ? "an array" : "a number or a boolean");
		buf_puts(body, ",\"source\":");
		buf_append(body, tmp->data, tmp->len);
	}
	if (strcmp(status, REJECTED_CONTACTED) == 0) {
		if ((rc = optional_json(ra->delay_t, "communicationDelay", c, tmp, &present, err)))
			return rc;
		if (present) {
			char k = json_kind(tmp);
			if (k != '"' && k != '-' && !(k >= '0' && k <= '9'))
				return gerr_set(
				    err, GERR_INVALID, 422, "template_value",
				    "communicationDelay: must be a number or a string, not %s",
				    k == '{' || k == '[' ? "an object or an array" : "a boolean");
			buf_puts(body, ",\"communicationDelay\":");
			buf_append(body, tmp->data, tmp->len);
		}
	}
	buf_putc(body, '}');
	return 0;
}

/* status_url: the statusApiUrl the template gives, checked, into url;
 * *given false when it gives none (missing or ""). */
static int status_url(const struct route_action *ra, struct hr_ctx *c, const char *base,
                      struct buf *url, bool *given, struct gerr *err)
{
	*given = false;
	if (!ra->status_url_t)
		return 0;
	struct buf u;
	buf_init(&u);
	struct gerr e = {0};
	int rc = template_render(ra->status_url_t, hr_lookup, c, &u, &e);
	if (rc && strcmp(e.code, "template_missing") == 0)
		rc = 0;
	else if (rc) {
		if (err)
			*err = e;
		rc = prefixed(err, "statusApiUrl", rc);
	} else if (u.oom) {
		rc = nomem(err);
	} else if (u.len) {
		*given = true;
		if (!route_hr_same_origin(u.data, u.len, base)) {
			char ex[UTF8_EXCERPT_SIZE];
			rc = gerr_set(
			    err, GERR_INVALID, 422, "template_value",
			    "statusApiUrl: \"%s\" is not on the connection's origin (%.80s); "
			    "its credentials go nowhere else",
			    utf8_ascii_excerpt(u.data, u.len, ex), base);
		} else {
			buf_append(url, u.data, u.len);
		}
	}
	buf_free(&u);
	return rc;
}

int route_hr_render(const struct route_action *ra, template_lookup lookup, void *ctx,
                    const struct route_input *in, const char *base, struct buf *url,
                    struct buf *body, struct gerr *err)
{
	int k = kind_index(ra->kind);
	if (k < 0)
		return bad(err, "%s: not an HR action", "kind");
	if (!base || !*base)
		return gerr_set(err, GERR_INVALID, 422, "template_value",
		                "connection: no base URL for this action");
	struct hr_ctx c = {.lookup = lookup, .ctx = ctx};
	struct buf tmp;
	buf_init(&tmp);
	int rc = 0;
	if (ra->kind == ROUTE_ACTION_HELLOWORK_STATUS) {
		bool given;
		if ((rc = hellowork_body(ra, &c, in, &tmp, body, err)) ||
		    (rc = status_url(ra, &c, base, url, &given, err)))
			goto out;
		if (!given) {
			if ((rc = id_value(ra, false, &c, in, &tmp, err)))
				goto out;
			base_out(url, base);
			buf_puts(url, "/v1/applications/");
			url_encode(url, tmp.data, tmp.len);
			buf_puts(url, "/status");
		}
		goto out;
	}
	/* Gupy: the ids first (a missing id is the likelier fault), then the text */
	base_out(url, base);
	buf_puts(url, "/api/v1/jobs/");
	if ((rc = id_value(ra, true, &c, in, &tmp, err)))
		goto out;
	url_encode(url, tmp.data, tmp.len);
	buf_puts(url, "/applications/");
	if ((rc = id_value(ra, false, &c, in, &tmp, err)))
		goto out;
	url_encode(url, tmp.data, tmp.len);
	buf_puts(url, kinds[k].tail);
	if ((rc = render(ra->text_t, &c, kinds[k].field, &tmp, err)))
		goto out;
	if (tmp.len == 0) {
		rc = gerr_set(err, GERR_INVALID, 422, "template_value", "%s: empty once rendered",
		              kinds[k].field);
		goto out;
	}
	buf_putc(body, '{');
	if (ra->kind == ROUTE_ACTION_GUPY_REPROVE)
		buf_puts(body, "\"status\":\"reproved\",");
	buf_json_str(body, kinds[k].field, strlen(kinds[k].field));
	buf_putc(body, ':');
	buf_json_str(body, tmp.data, tmp.len);
	buf_putc(body, '}');
out:
	if (!rc && (tmp.oom || url->oom || body->oom))
		rc = nomem(err);
	buf_free(&tmp);
	return rc;
}

/* ---- origins ------------------------------------------------------------------------------ */

struct origin {
	char scheme[8];
	const char *host;
	size_t hostlen;
	long port;
};

/* origin_parse: scheme, host and port of an absolute http(s) URL s[0..n):
 * printable ASCII, no backslash, no fragment, no user-info. */
static bool origin_parse(const char *s, size_t n, struct origin *o)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\' || s[i] == '#')
			return false;
	size_t sl = 0;
	while (sl < n && sl < sizeof(o->scheme) && s[sl] != ':')
		sl++;
	if (sl == 0 || sl >= sizeof(o->scheme) || n - sl < 3 || memcmp(s + sl, "://", 3) != 0)
		return false;
	const char *sep = s + sl;
	for (size_t i = 0; i < sl; i++)
		o->scheme[i] = (char)(s[i] | 0x20);
	o->scheme[sl] = '\0';
	if (strcmp(o->scheme, "https") != 0 && strcmp(o->scheme, "http") != 0)
		return false;
	const char *a = sep + 3, *end = s + n;
	const char *z = a;
	while (z < end && *z != '/' && *z != '?')
		z++;
	if (memchr(a, '@', (size_t)(z - a)) || z == a)
		return false;
	const char *colon = NULL;
	if (*a == '[') { /* an IPv6 literal */
		const char *rb = memchr(a, ']', (size_t)(z - a));
		if (!rb)
			return false;
		colon = rb + 1 < z ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return false;
	} else {
		colon = memchr(a, ':', (size_t)(z - a));
	}
	o->host = a;
	o->hostlen = (size_t)((colon ? colon : z) - a);
	o->port = strcmp(o->scheme, "https") == 0 ? 443 : 80;
	if (o->hostlen == 0)
		return false;
	if (colon) {
		long p = 0;
		const char *d = colon + 1;
		if (d == z)
			return true; /* "host:" is the default port */
		for (; d < z; d++) {
			if (*d < '0' || *d > '9' || p > 65535)
				return false;
			p = p * 10 + (*d - '0');
		}
		if (p < 1 || p > 65535)
			return false;
		o->port = p;
	}
	return true;
}

bool route_hr_same_origin(const char *url, size_t n, const char *base)
{
	struct origin u, b;
	if (!url || !base || !origin_parse(url, n, &u) || !origin_parse(base, strlen(base), &b))
		return false;
	return strcmp(u.scheme, b.scheme) == 0 && u.port == b.port && u.hostlen == b.hostlen &&
	       strncasecmp(u.host, b.host, u.hostlen) == 0;
}
