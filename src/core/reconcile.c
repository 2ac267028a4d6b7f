/*
 * reconcile: validation of a reconciliation's config, reading the ATS's list
 * pages, and the synthetic receipt (see reconcile.h).
 *
 * The config is built field by field (set_field) onto a copy of the stored
 * config, so a create and a PATCH share one set of rules, and the defaults
 * are filled in once at the end (fill_defaults). Pages are parsed with
 * jansson (bounded by the runner's answer limit) and every number is checked
 * for type and range before anything uses it.
 */
#include "core/reconcile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/isodate.h"
#include "core/webhook.h"
#include "util/utf8.h"

static const char *const known_keys[] = {"name",     "connectionId",      "sourceId",
                                         "steps",    "everySeconds",      "jobStatus",
                                         "pageSize", "requestsPerSecond", NULL};

static int bad(struct gerr *err, const char *field, const char *why)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: %s", field, why);
}

static size_t chars_of(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* text_ok: s[0..n) is valid UTF-8 without control characters or NUL. */
static bool text_ok(const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool token_ok(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* int_in: v is a JSON integer in [lo, hi]. */
static bool int_in(const json_t *v, json_int_t lo, json_int_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static int check_steps(const json_t *v, struct gerr *err)
{
	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > RECONCILE_STEPS_MAX)
		return bad(err, "steps", "must be an array of 1 to 16 step names");
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *s = json_array_get(v, i);
		size_t n = json_string_length(s);
		if (!json_is_string(s) || n < 1 || n > RECONCILE_STEP_MAX ||
		    !text_ok(json_string_value(s), n))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "steps[%zu]: must be a string of 1 to %d bytes without"
			                " control characters",
			                i, RECONCILE_STEP_MAX);
		for (size_t k = 0; k < i; k++)
			if (json_equal(json_array_get(v, k), s))
				return gerr_set(err, GERR_INVALID, 400, "invalid_field",
				                "steps[%zu]: repeats steps[%zu]", i, k);
	}
	return 0;
}

/* set_field: check one body field and put it into cfg (null: an optional
 * field back to its default, a required one refused). */
static int set_field(json_t *cfg, const char *k, json_t *v, struct gerr *err)
{
	bool null = json_is_null(v);
	if (null && (strcmp(k, "connectionId") == 0 || strcmp(k, "sourceId") == 0 ||
	             strcmp(k, "steps") == 0 || strcmp(k, "everySeconds") == 0))
		return gerr_set(err, GERR_INVALID, 400, "missing_field", "%s: required", k);
	if (null) {
		json_object_del(cfg, k);
		return 0;
	}
	if (strcmp(k, "name") == 0) {
		size_t n = json_string_length(v);
		if (!json_is_string(v) || !text_ok(json_string_value(v), n) ||
		    chars_of(json_string_value(v), n) > RECONCILE_NAME_MAX)
			return bad(err, k, "must be a string of at most 200 characters");
	} else if (strcmp(k, "connectionId") == 0 || strcmp(k, "sourceId") == 0) {
		if (!json_is_string(v) ||
		    !token_ok(json_string_value(v), json_string_length(v), 39))
			return bad(err, k, "must be the id of one of the company's objects");
	} else if (strcmp(k, "steps") == 0) {
		int rc = check_steps(v, err);
		if (rc)
			return rc;
	} else if (strcmp(k, "everySeconds") == 0) {
		if (!int_in(v, RECONCILE_EVERY_MIN, RECONCILE_EVERY_MAX))
			return bad(err, k, "must be an integer from 60 to 604800");
	} else if (strcmp(k, "jobStatus") == 0) {
		if (!json_is_string(v) || !token_ok(json_string_value(v), json_string_length(v),
		                                    RECONCILE_JOB_STATUS_MAX))
			return bad(err, k, "must be 1 to 64 of A-Z a-z 0-9 _ -");
	} else if (strcmp(k, "pageSize") == 0) {
		if (!int_in(v, 1, RECONCILE_PAGE_MAX))
			return bad(err, k, "must be an integer from 1 to 100");
	} else if (strcmp(k, "requestsPerSecond") == 0) {
		if (!int_in(v, 1, RECONCILE_RPS_MAX))
			return bad(err, k, "must be an integer from 1 to 50");
	}
	return json_object_set(cfg, k, v) ? gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory")
	                                  : 0;
}

static int fill_defaults(json_t *cfg, struct gerr *err)
{
	static const char *const required[] = {"connectionId", "sourceId", "steps", "everySeconds"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!json_object_get(cfg, required[i]))
			return gerr_set(err, GERR_INVALID, 400, "missing_field", "%s: required",
			                required[i]);
	int rc = 0;
	if (!json_object_get(cfg, "name"))
		rc |= json_object_set_new(cfg, "name", json_string(""));
	if (!json_object_get(cfg, "jobStatus"))
		rc |= json_object_set_new(cfg, "jobStatus", json_string("published"));
	if (!json_object_get(cfg, "pageSize"))
		rc |= json_object_set_new(cfg, "pageSize", json_integer(RECONCILE_PAGE_DEFAULT));
	if (!json_object_get(cfg, "requestsPerSecond"))
		rc |= json_object_set_new(cfg, "requestsPerSecond",
		                          json_integer(RECONCILE_RPS_DEFAULT));
	return rc ? gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory") : 0;
}

int reconcile_config_build(const json_t *body, const json_t *existing, json_t **out,
                           struct gerr *err)
{
	if (!json_is_object(body))
		return gerr_set(err, GERR_INVALID, 400, "invalid_json",
		                "the body must be a JSON object");
	static const char *const gancho_keys[] = {"createdAt", "updatedAt", "nextRunAt"};
	for (size_t i = 0; i < sizeof(gancho_keys) / sizeof(gancho_keys[0]); i++)
		if (json_object_get(body, gancho_keys[i]))
			return bad(err, gancho_keys[i], "set by gancho, not by the client");
	json_t *copy = json_deep_copy(body);
	if (!copy)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	json_object_del(copy, "id"); /* the API's business */
	int rc = webhook_only_keys(copy, known_keys, "", err);
	json_t *cfg = existing ? json_deep_copy(existing) : json_object();
	if (!rc && !cfg)
		rc = gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	const char *k;
	json_t *v;
	if (!rc)
		json_object_foreach (copy, k, v) {
			if ((rc = set_field(cfg, k, v, err)))
				break;
		}
	if (!rc)
		rc = fill_defaults(cfg, err);
	json_decref(copy);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

static json_t *date_or_null(int64_t ms)
{
	if (ms <= 0)
		return json_null();
	char d[DATE_STR_LEN];
	envelope_format_date(ms, d);
	return json_string(d);
}

json_t *reconcile_to_json(const json_t *config, const char *id, int64_t next_run_at,
                          int64_t created_at, int64_t updated_at)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	static const char *const keys[] = {"name",     "connectionId",     "sourceId",
	                                   "steps",    "everySeconds",     "jobStatus",
	                                   "pageSize", "requestsPerSecond"};
	int rc = json_object_set_new(o, "id", json_string(id));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(config, keys[i]);
		rc |= json_object_set_new(o, keys[i], v ? json_deep_copy(v) : json_null());
	}
	rc |= json_object_set_new(o, "nextRunAt", date_or_null(next_run_at));
	rc |= json_object_set_new(o, "createdAt", date_or_null(created_at));
	rc |= json_object_set_new(o, "updatedAt", date_or_null(updated_at));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int reconcile_spec_read(const json_t *config, struct reconcile_spec *out, struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	const json_t *steps = json_object_get(config, "steps");
	out->connection_id = json_string_value(json_object_get(config, "connectionId"));
	out->source_id = json_string_value(json_object_get(config, "sourceId"));
	out->job_status = json_string_value(json_object_get(config, "jobStatus"));
	const json_t *every = json_object_get(config, "everySeconds");
	const json_t *page = json_object_get(config, "pageSize");
	const json_t *rps = json_object_get(config, "requestsPerSecond");
	if (!out->connection_id || !out->source_id || !out->job_status || !json_is_array(steps) ||
	    json_array_size(steps) < 1 || json_array_size(steps) > RECONCILE_STEPS_MAX ||
	    !int_in(every, RECONCILE_EVERY_MIN, RECONCILE_EVERY_MAX) ||
	    !int_in(page, 1, RECONCILE_PAGE_MAX) || !int_in(rps, 1, RECONCILE_RPS_MAX))
		return gerr_set(err, GERR_INVALID, 500, "internal",
		                "the stored reconciliation config is unreadable");
	for (size_t i = 0; i < json_array_size(steps); i++) {
		out->steps[i] = json_string_value(json_array_get(steps, i));
		if (!out->steps[i])
			return gerr_set(err, GERR_INVALID, 500, "internal",
			                "the stored reconciliation config is unreadable");
	}
	out->nsteps = (int)json_array_size(steps);
	out->every_s = (int)json_integer_value(every);
	out->page_size = (int)json_integer_value(page);
	out->rps = (int)json_integer_value(rps);
	return 0;
}

bool reconcile_wants_step(const struct reconcile_spec *spec, const char *step)
{
	for (int i = 0; step && i < spec->nsteps; i++)
		if (strcmp(spec->steps[i], step) == 0)
			return true;
	return false;
}

static int bad_answer(struct gerr *err, const char *why)
{
	return gerr_set(err, GERR_INVALID, 502, "bad_answer", "%s", why);
}

int reconcile_page_read(const char *body, size_t len, int64_t want_page, int per_page,
                        struct reconcile_page *out, struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		size_t i = 0;
		while (i < len &&
		       (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
			i++;
		if (i < len && body[i] == '<')
			return bad_answer(err, "the answer is an HTML page, not JSON");
		return gerr_set(err, GERR_INVALID, 502, "bad_answer",
		                "the answer is not JSON (line %d column %d: %.80s)", je.line,
		                je.column, je.text);
	}
	int rc = 0;
	const json_t *results = json_object_get(root, "results");
	const json_t *page = json_object_get(root, "page");
	const json_t *total_pages = json_object_get(root, "totalPages");
	const json_t *total_results = json_object_get(root, "totalResults");
	if (!json_is_object(root))
		rc = bad_answer(err, "the answer is not a JSON object");
	else if (!json_is_array(results))
		rc = bad_answer(err, "the answer has no \"results\" array");
	else if (!json_is_integer(page) || json_integer_value(page) != want_page)
		rc = gerr_set(err, GERR_INVALID, 502, "bad_answer",
		              "the answer's \"page\" is not %" PRId64 ", the page asked for",
		              want_page);
	else if (!int_in(total_pages, 0, RECONCILE_PAGES_MAX))
		rc = bad_answer(err,
		                "the answer's \"totalPages\" is not an integer from 0 to 10000");
	else if (!int_in(total_results, 0, INT64_MAX))
		rc = bad_answer(err, "the answer's \"totalResults\" is not an integer >= 0");
	else if (json_array_size(results) > (size_t)per_page)
		rc = gerr_set(err, GERR_INVALID, 502, "bad_answer",
		              "the answer holds %zu results, more than the %d asked for",
		              json_array_size(results), per_page);
	if (rc) {
		json_decref(root);
		return rc;
	}
	out->root = root;
	out->results = (json_t *)results;
	out->n = json_array_size(results);
	out->page = json_integer_value(page);
	out->total_pages = json_integer_value(total_pages);
	out->total_results = json_integer_value(total_results);
	return 0;
}

void reconcile_page_free(struct reconcile_page *p)
{
	json_decref(p->root);
	memset(p, 0, sizeof(*p));
}

int reconcile_id_text(const json_t *obj, const char *what, char out[RECONCILE_ID_MAX + 1],
                      struct gerr *err)
{
	const json_t *id = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
	out[0] = '\0';
	if (json_is_integer(id)) {
		snprintf(out, RECONCILE_ID_MAX + 1, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(id));
		return 0;
	}
	if (json_is_string(id)) {
		const char *s = json_string_value(id);
		size_t n = json_string_length(id);
		bool ok = n >= 1 && n <= RECONCILE_ID_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
			     s[i] == '.';
		if (ok) {
			memcpy(out, s, n);
			out[n] = '\0';
			return 0;
		}
	}
	return gerr_set(err, GERR_INVALID, 502, "bad_answer",
	                "a listed %s has no usable \"id\" (an integer, or 1 to %d of"
	                " A-Z a-z 0-9 _ . -)",
	                what, RECONCILE_ID_MAX);
}

const char *reconcile_current_step(const json_t *application)
{
	const json_t *step = json_object_get(application, "currentStep");
	const json_t *name = json_is_object(step) ? json_object_get(step, "name") : NULL;
	return json_string_value(name);
}

int reconcile_sender_id(const char *reconciliation_id, const char *job_id, const char *app_id,
                        const char *step, bool seen, int64_t seen_us,
                        char out[RECONCILE_SENDER_ID_MAX + 1], struct gerr *err)
{
	char when[ISODATE_STRLEN] = "new";
	if (seen)
		isodate_format_us(seen_us, when);
	int n = snprintf(out, RECONCILE_SENDER_ID_MAX + 1, "%s:%s:%s:%s:%s", reconciliation_id,
	                 job_id, app_id, step, when);
	if (n < 0 || n > RECONCILE_SENDER_ID_MAX)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "the sender id would be longer than %d bytes",
		                RECONCILE_SENDER_ID_MAX);
	return 0;
}

int reconcile_envelope(const char *sender_id, const char *date, const json_t *job,
                       const json_t *application, struct buf *out, struct gerr *err)
{
	json_t *data = json_object();
	json_t *env = json_object();
	int rc = !data || !env;
	if (!rc) {
		rc |= json_object_set(data, "job", (json_t *)job);
		rc |= json_object_set(data, "application", (json_t *)application);
		json_t *candidate = json_object_get(application, "candidate");
		if (candidate)
			rc |= json_object_set(data, "candidate", candidate);
		rc |= json_object_set_new(env, "id", json_string(sender_id));
		rc |= json_object_set_new(env, "event", json_string(RECONCILE_EVENT));
		rc |= json_object_set_new(env, "date", json_string(date));
		rc |= json_object_set(env, "data", data);
	}
	char *text = rc ? NULL : json_dumps(env, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(data);
	json_decref(env);
	buf_reset(out);
	if (text) {
		buf_puts(out, text);
		free(text);
	}
	if (!text || out->oom)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	return 0;
}

/* put_query_value: s percent-encoded (RFC 3986: every byte but unreserved). */
static void put_query_value(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

void reconcile_jobs_url(struct buf *out, const char *base, const char *status, int64_t page,
                        int per_page)
{
	buf_reset(out);
	buf_puts(out, base);
	buf_puts(out, "/api/v1/jobs?status=");
	put_query_value(out, status);
	buf_printf(out, "&page=%" PRId64 "&perPage=%d", page, per_page);
}

void reconcile_applications_url(struct buf *out, const char *base, const char *job_id,
                                const char *step, int64_t page, int per_page)
{
	buf_reset(out);
	buf_puts(out, base);
	buf_puts(out, "/api/v1/jobs/");
	put_query_value(out, job_id);
	buf_puts(out, "/applications?currentStepName=");
	put_query_value(out, step);
	buf_printf(out, "&page=%" PRId64 "&perPage=%d", page, per_page);
}

bool reconcile_kept_same(const char *cur, size_t curlen, const char *fresh, size_t freshlen)
{
	json_t *c = json_loadb(cur, curlen, 0, NULL);
	json_t *f = json_loadb(fresh, freshlen, 0, NULL);
	bool same = json_is_object(c) && json_is_object(f);
	const char *k;
	json_t *v;
	if (same)
		json_object_foreach (f, k, v) {
			if (!json_equal(v, json_object_get(c, k))) {
				same = false;
				break;
			}
		}
	json_decref(c);
	json_decref(f);
	return same;
}
