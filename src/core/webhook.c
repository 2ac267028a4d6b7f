/*
 * webhook: validation, storage form and compiled form of a subscription.
 *
 * Three shapes of the same thing:
 *   body   — what the API receives (Gupy's create body plus extensions);
 *   config — what is stored: the body's accepted keys, normalised (always an
 *            "events" array, "url" renamed "postbackUrl"), secrets included,
 *            and for Standard Webhooks the previous secrets still signing
 *            during a rotation ("previousSecrets": [{secret, expiresAt}]);
 *   struct webhook — compiled for the engine: parsed policy, decoded keys,
 *            the Authorization line and client header lines ready to send.
 *
 * One rule for bodies: a field gancho does not know, in the body or in any
 * of its nested objects (authorization, authorization.data, rateLimit;
 * retryPolicy in policy.c, filter in filter.c), or fields that contradict
 * each other (action vs events, orderingKey with ordering "unordered"), are
 * refused with 400 rather than ignored.
 *
 * Answer rules ("answerRules", set only by core/route.c on an HR action's
 * target, never by an API body): webhook_verdict and webhook_answer_error say
 * what each answer means for a delivery, where failPermanentlyOn (a list of
 * at most WEBHOOK_MAX_PERM statuses) could not say "every 4xx but 408 and
 * 429".
 *
 * Secret rotation: every previous secret signs for WEBHOOK_ROTATION_MS from
 * the moment it was replaced, each with its own expiry. At most
 * WEBHOOK_MAX_KEYS - 1 can be signing at once; a rotation beyond that is
 * refused (409) instead of cutting a secret short.
 */
#include "core/webhook.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/filter.h"
#include "core/headers.h"
#include "core/jsonpath.h"
#include "core/urlcheck.h"
#include "util/base64.h"
#include "util/utf8.h"

static const char *const builtin_events[] = {
    "application.created",
    "application.completed",
    "application.moved",
    "application.assigned",
    "application.pre-hiring-information-filled",
    "candidate.hired",
    "job.published",
    "job.status-changed",
    "job.changed",
    "pre-employee.moved",
    "position-created",
    "position-applied",
    "position-completed",
    "position-archived",
    "position-declined",
};

bool webhook_event_builtin(const char *s)
{
	for (size_t i = 0; i < sizeof(builtin_events) / sizeof(builtin_events[0]); i++)
		if (strcmp(s, builtin_events[i]) == 0)
			return true;
	return false;
}

bool webhook_event_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

static int bad(struct gerr *err, const char *fmt, const char *field)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", fmt, field);
}

int webhook_only_keys(const json_t *obj, const char *const *allowed, const char *where,
                      struct gerr *err)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		bool ok = false;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			char ex[UTF8_EXCERPT_SIZE];
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "%s%s%s: unknown field", where, *where ? "." : "",
			                utf8_excerpt(key, ex));
		}
	}
	return 0;
}

static int string_field(const json_t *body, const char *key, size_t minlen, size_t maxlen,
                        bool required, struct gerr *err)
{
	const json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v)) {
		if (required)
			return gerr_set(err, GERR_INVALID, 400, "missing_field", "%s: required",
			                key);
		return 0;
	}
	if (!json_is_string(v))
		return bad(err, "%s: must be a string", key);
	if (json_string_length(v) > maxlen)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: longer than %zu bytes", key, maxlen);
	if (json_string_length(v) < minlen)
		return bad(err, "%s: must not be empty", key);
	/* The API refuses NUL in every body; a caller that builds bodies
	 * itself gets the same answer rather than a string cut short. */
	if (memchr(json_string_value(v), '\0', json_string_length(v)))
		return bad(err, "%s: must not contain a NUL character", key);
	return 0;
}

static int validate_auth(const json_t *a, struct gerr *err)
{
	if (!json_is_object(a))
		return bad(err, "%s: must be an object {kind, data}", "authorization");
	const char *kind = json_string_value(json_object_get(a, "kind"));
	const json_t *data = json_object_get(a, "data");
	if (!kind)
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "authorization.kind: required");
	if (!json_is_object(data))
		return bad(err, "%s: must be an object", "authorization.data");
	static const char *const outer[] = {"kind", "data", NULL};
	static const char *const basic[] = {"username", "password", NULL};
	static const char *const apikey[] = {"key", "prefix", NULL};
	static const char *const secret[] = {"secret", NULL};
	int rc;
	if ((rc = webhook_only_keys(a, outer, "authorization", err)))
		return rc;
	const char *need[3] = {NULL, NULL, NULL};
	const char *const *allowed = secret;
	if (strcmp(kind, "basic") == 0) {
		need[0] = "username";
		need[1] = "password";
		allowed = basic;
	} else if (strcmp(kind, "apiKey") == 0) {
		need[0] = "key";
		allowed = apikey;
		const json_t *prefix = json_object_get(data, "prefix");
		/* memchr over the whole length: a NUL must not hide a CR/LF after it */
		if (prefix && !json_is_null(prefix) &&
		    (!json_is_string(prefix) || json_string_length(prefix) > 256 ||
		     memchr(json_string_value(prefix), '\r', json_string_length(prefix)) ||
		     memchr(json_string_value(prefix), '\n', json_string_length(prefix)) ||
		     memchr(json_string_value(prefix), '\0', json_string_length(prefix))))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "authorization.data.prefix: a string of at most 256 bytes,"
			                " without CR, LF or NUL");
	} else if (strcmp(kind, "secret") == 0) {
		need[0] = "secret";
	} else if (strcmp(kind, "standard") == 0) {
		const char *sec = json_string_value(json_object_get(data, "secret"));
		unsigned char key[SIGN_KEY_MAX];
		if (!sec)
			return gerr_set(err, GERR_INVALID, 400, "missing_field",
			                "authorization.data.secret: required");
		if (strncmp(sec, "whsec_", 6) != 0 || sign_standard_key(sec, key) < 16)
			return bad(err, "%s: must be whsec_ followed by base64 of 16 to 128 bytes",
			           "authorization.data.secret");
	} else {
		return bad(err, "%s: must be basic, apiKey, secret or standard",
		           "authorization.kind");
	}
	if ((rc = webhook_only_keys(data, allowed, "authorization.data", err)))
		return rc;
	for (int i = 0; need[i]; i++) {
		const json_t *v = json_object_get(data, need[i]);
		if (!json_is_string(v) || json_string_length(v) == 0)
			return gerr_set(err, GERR_INVALID, 400, "missing_field",
			                "authorization.data.%s: required (non-empty string)",
			                need[i]);
		const char *sv = json_string_value(v);
		size_t n = json_string_length(v);
		if (n > 4096 || memchr(sv, '\r', n) || memchr(sv, '\n', n) || memchr(sv, '\0', n))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "authorization.data.%s: too long or holds CR, LF or NUL",
			                need[i]);
	}
	return 0;
}

/* validate_events: "action" (one) or "events" (list) → a normalised array. */
static int validate_events(json_t *cfg, struct gerr *err)
{
	json_t *action = json_object_get(cfg, "action");
	json_t *events = json_object_get(cfg, "events");
	json_t *list = json_array();
	if (events && !json_is_null(events)) {
		if (!json_is_array(events) || json_array_size(events) == 0 ||
		    json_array_size(events) > 64) {
			json_decref(list);
			return bad(err, "%s: must be a non-empty list of at most 64 event names",
			           "events");
		}
		json_array_extend(list, events);
	} else if (action && !json_is_null(action)) {
		json_array_append(list, action);
	} else {
		json_decref(list);
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "action or events: required");
	}
	size_t i;
	json_t *e;
	json_array_foreach (list, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e) ||
		    !webhook_event_name_valid(json_string_value(e))) {
			json_decref(list);
			return bad(err,
			           "%s: each event must be a name of [A-Za-z0-9._:-], 1-128 chars",
			           events ? "events" : "action");
		}
	}
	json_object_set_new(cfg, "events", list);
	json_object_set(cfg, "action", json_array_get(list, 0));
	return 0;
}

static int int_field(json_t *cfg, const char *key, long long lo, long long hi, struct gerr *err)
{
	json_t *v = json_object_get(cfg, key);
	if (!v || json_is_null(v)) {
		json_object_del(cfg, key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: must be an integer from %lld to %lld", key, lo, hi);
	return 0;
}

/* The fields of a stored config, in the order answers show them (Gupy's
 * id, action, postbackUrl, status first). The last two are never shown as
 * they are: authorization only by kind, previous secrets not at all. */
static const char *const known_keys[] = {
    "action",        "postbackUrl",     "events",
    "techOwnerName", "techOwnerEmail",  "clientHeaders",
    "unit",          "retryPolicy",     "ordering",
    "orderingKey",   "timeoutMs",       "concurrency",
    "filter",        "rateLimit",       "failPermanentlyOn",
    "authorization", "previousSecrets", NULL,
};
#define SHOWN_KEYS 15 /* known_keys[0..SHOWN_KEYS) are answered as stored */

/* ordering_key_valid: a dotted path of at most 128 bytes whose first segment
 * is a field of the event (data, event, unit, id, date, companyName) and whose
 * segments are non-empty and free of control characters. */
static bool ordering_key_valid(const char *s, size_t n)
{
	static const char *const roots[] = {"data", "event", "unit", "id", "date", "companyName"};
	if (n > 128 || jsonpath_check(s, n))
		return false;
	const char *dot = memchr(s, '.', n);
	size_t first = dot ? (size_t)(dot - s) : n;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (strlen(roots[i]) == first && memcmp(s, roots[i], first) == 0)
			return true;
	return false;
}

static int validate_config(json_t *cfg, bool allow_http, bool allow_private, struct gerr *err)
{
	int rc;
	if ((rc = validate_events(cfg, err)))
		return rc;
	if ((rc = string_field(cfg, "postbackUrl", 1, 2048, true, err)))
		return rc;
	if ((rc = urlcheck_target(json_string_value(json_object_get(cfg, "postbackUrl")),
	                          allow_http, allow_private, err)))
		return rc;
	/* unit as events take it: 1-256 bytes (an empty unit would match nothing) */
	if ((rc = string_field(cfg, "techOwnerName", 0, 256, false, err)) ||
	    (rc = string_field(cfg, "techOwnerEmail", 0, 256, false, err)) ||
	    (rc = string_field(cfg, "unit", 1, 256, false, err)))
		return rc;
	json_t *h = json_object_get(cfg, "clientHeaders");
	if (h && !json_is_null(h) && (rc = headers_validate(h, err)))
		return rc;
	json_t *a = json_object_get(cfg, "authorization");
	if (a && !json_is_null(a) && (rc = validate_auth(a, err)))
		return rc;
	struct policy p;
	if ((rc = policy_parse(json_object_get(cfg, "retryPolicy"), &p, err)))
		return rc;
	json_t *ord = json_object_get(cfg, "ordering");
	const char *o = json_string_value(ord);
	if (ord && !json_is_null(ord)) {
		if (!o || (strcmp(o, "fifo") != 0 && strcmp(o, "unordered") != 0))
			return bad(err, "%s: must be \"unordered\" or \"fifo\"", "ordering");
	}
	json_t *okey = json_object_get(cfg, "orderingKey");
	if (okey && !json_is_null(okey)) {
		if (!json_is_string(okey) ||
		    !ordering_key_valid(json_string_value(okey), json_string_length(okey)))
			return bad(err,
			           "%s: must be a dotted path into the event of at most 128 bytes,"
			           " starting with data, event, unit, id, date or companyName,"
			           " with non-empty segments (e.g. data.application.id)",
			           "orderingKey");
		/* The key means FIFO per key value: it cannot go with unordered. */
		if (o && strcmp(o, "unordered") == 0)
			return bad(
			    err,
			    "%s: orders deliveries per key value, so it cannot go with"
			    " ordering \"unordered\" (set ordering to \"fifo\" or leave it out)",
			    "orderingKey");
	}
	if ((rc = int_field(cfg, "timeoutMs", 1, 300000, err)) ||
	    (rc = int_field(cfg, "concurrency", 1, 256, err)))
		return rc;
	json_t *f = json_object_get(cfg, "filter");
	if (f && !json_is_null(f) && (rc = filter_validate(f, err)))
		return rc;
	json_t *rl = json_object_get(cfg, "rateLimit");
	if (rl && !json_is_null(rl)) {
		static const char *const rl_keys[] = {"perSecond", NULL};
		json_t *ps = json_object_get(rl, "perSecond");
		if (!json_is_object(rl) || !json_is_number(ps) || json_number_value(ps) <= 0 ||
		    json_number_value(ps) > 100000)
			return bad(err, "%s: must be {\"perSecond\": N} with 0 < N <= 100000",
			           "rateLimit");
		if ((rc = webhook_only_keys(rl, rl_keys, "rateLimit", err)))
			return rc;
	}
	json_t *perm = json_object_get(cfg, "failPermanentlyOn");
	if (perm && !json_is_null(perm)) {
		size_t i;
		json_t *v;
		if (!json_is_array(perm) || json_array_size(perm) > WEBHOOK_MAX_PERM)
			return bad(err, "%s: must be a list of at most 16 HTTP statuses",
			           "failPermanentlyOn");
		json_array_foreach (perm, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 100 ||
			    json_integer_value(v) > 599)
				return bad(err, "%s: each entry must be an HTTP status (100-599)",
				           "failPermanentlyOn");
		}
	}
	return 0;
}

int webhook_status_from_body(const json_t *body, int dflt, struct gerr *err)
{
	const json_t *v = json_object_get(body, "status");
	if (!v || json_is_null(v))
		return dflt;
	const char *s = json_string_value(v);
	if (s && strlen(s) != json_string_length(v))
		s = NULL; /* a NUL inside: not "active" */
	if (s && strcmp(s, "active") == 0)
		return 0;
	if (s && strcmp(s, "inactive") == 0)
		return 1;
	return bad(err, "%s: must be \"active\" or \"inactive\"", "status");
}

/* same_secret: a and b are both strings and equal. */
static bool same_secret(const json_t *a, const json_t *b)
{
	return json_is_string(a) && json_is_string(b) && json_equal((json_t *)a, (json_t *)b);
}

/* rotate_secret: when a Standard Webhooks secret changes, keep the old one
 * signing for WEBHOOK_ROTATION_MS from now, so receivers can switch without a
 * gap. Earlier previous secrets keep their own expiry. 409 when
 * WEBHOOK_MAX_KEYS - 1 previous secrets are still signing. */
static int rotate_secret(json_t *cfg, const json_t *existing, int64_t now_ms, struct gerr *err)
{
	const json_t *old_auth = json_object_get(existing, "authorization");
	const json_t *new_auth = json_object_get(cfg, "authorization");
	const char *old_kind = json_string_value(json_object_get(old_auth, "kind"));
	const char *new_kind = json_string_value(json_object_get(new_auth, "kind"));
	bool standard = new_kind && strcmp(new_kind, "standard") == 0;
	if (!standard) {
		json_object_del(cfg, "previousSecrets");
		return 0;
	}
	const json_t *olds = NULL;
	if (old_kind && strcmp(old_kind, "standard") == 0)
		olds = json_object_get(json_object_get(old_auth, "data"), "secret");
	const json_t *news = json_object_get(json_object_get(new_auth, "data"), "secret");
	bool rotated = olds && !same_secret(olds, news);
	json_t *prev = json_array();
	if (!prev)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	/* Keep every previous secret still signing, except the new current one
	 * (rotating back to it) and the one being replaced (it gets a fresh 24 h). */
	size_t i;
	json_t *p;
	int64_t first_end = 0;
	json_array_foreach (json_object_get(existing, "previousSecrets"), i, p) {
		json_int_t exp = json_integer_value(json_object_get(p, "expiresAt"));
		const json_t *sec = json_object_get(p, "secret");
		if (exp <= now_ms || same_secret(sec, news) || (rotated && same_secret(sec, olds)))
			continue;
		json_array_append(prev, p);
		if (!first_end || exp < first_end)
			first_end = exp;
	}
	if (rotated) {
		if (json_array_size(prev) >= WEBHOOK_MAX_KEYS - 1) {
			char date[DATE_STR_LEN];
			envelope_format_date(first_end, date);
			json_decref(prev);
			return gerr_set(err, GERR_CONFLICT, 409, "conflict",
			                "authorization.data.secret: %d previous secrets still sign;"
			                " the first of them stops at %s, rotate again after that",
			                WEBHOOK_MAX_KEYS - 1, date);
		}
		json_array_insert_new(prev, 0,
		                      json_pack("{s:O,s:I}", "secret", olds, "expiresAt",
		                                (json_int_t)(now_ms + WEBHOOK_ROTATION_MS)));
	}
	if (json_array_size(prev))
		json_object_set_new(cfg, "previousSecrets", prev);
	else {
		json_decref(prev);
		json_object_del(cfg, "previousSecrets");
	}
	return 0;
}

int webhook_config_build(const json_t *body, const json_t *existing, bool allow_http,
                         bool allow_private, int64_t now_ms, json_t **out, struct gerr *err)
{
	if (!json_is_object(body))
		return gerr_set(err, GERR_INVALID, 400, "invalid_json",
		                "the body must be a JSON object");
	/* action and events together must say the same (action is the first
	 * event, as answers show it); otherwise one of them would be dropped. */
	const json_t *ba = json_object_get(body, "action");
	const json_t *be = json_object_get(body, "events");
	if (ba && !json_is_null(ba) && be && !json_is_null(be) &&
	    !(json_is_array(be) && json_equal((json_t *)ba, json_array_get(be, 0))))
		return bad(err,
		           "%s: action and events disagree (action is the first of events);"
		           " give one of them",
		           "action");
	if (json_object_get(body, "url") && json_object_get(body, "postbackUrl"))
		return bad(err, "%s: give postbackUrl or its alias url, not both", "url");
	json_t *cfg = existing ? json_deep_copy(existing) : json_object();
	if (!cfg)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)body, key, v) {
		const char *k = strcmp(key, "url") == 0 ? "postbackUrl" : key;
		/* status is read by webhook_status_from_body; id by the API */
		if (strcmp(k, "status") == 0 || strcmp(k, "id") == 0)
			continue;
		if (strcmp(k, "previousSecrets") == 0) {
			json_decref(cfg);
			return bad(err,
			           "%s: kept by gancho during a secret rotation; it cannot be set",
			           "previousSecrets");
		}
		bool known = false;
		for (int i = 0; known_keys[i]; i++)
			known |= strcmp(k, known_keys[i]) == 0;
		if (!known) {
			char ex[UTF8_EXCERPT_SIZE];
			json_decref(cfg);
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "%s: unknown field", utf8_excerpt(key, ex));
		}
		/* A PATCH that sets "action" replaces the event list, and vice versa. */
		if (existing && strcmp(k, "action") == 0)
			json_object_del(cfg, "events");
		if (existing && strcmp(k, "events") == 0)
			json_object_del(cfg, "action");
		if (json_is_null(v))
			json_object_del(cfg, k);
		else
			json_object_set(cfg, k, v);
	}
	int rc = validate_config(cfg, allow_http, allow_private, err);
	if (!rc)
		rc = rotate_secret(cfg, existing, now_ms, err);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* auth_line: "Authorization: " + a + (b ? " " + b : ""), malloc'd. */
static char *auth_line(const char *a, const char *b)
{
	size_t n = 16 + strlen(a) + (b ? strlen(b) + 1 : 0);
	char *line = malloc(n);
	if (line)
		snprintf(line, n, "Authorization: %s%s%s", a, b ? " " : "", b ? b : "");
	return line;
}

static int compile_auth(struct webhook *w, const json_t *cfg, int64_t now_ms)
{
	const json_t *a = json_object_get(cfg, "authorization");
	const char *kind = json_string_value(json_object_get(a, "kind"));
	const json_t *data = json_object_get(a, "data");
	if (!kind)
		return 0;
	if (strcmp(kind, "basic") == 0) {
		const char *u = json_string_value(json_object_get(data, "username"));
		const char *pw = json_string_value(json_object_get(data, "password"));
		size_t n = BASE64_ENCODED_LEN(strlen(u) + strlen(pw) + 1) + 8;
		char *val = malloc(n);
		w->auth_kind = AUTH_BASIC;
		if (!val || sign_basic(u, pw, val, n)) {
			free(val);
			return -1;
		}
		w->auth_header = auth_line(val, NULL);
		memset(val, 0, n);
		free(val);
		if (!w->auth_header)
			return -1;
	} else if (strcmp(kind, "apiKey") == 0) {
		const char *prefix = json_string_value(json_object_get(data, "prefix"));
		const char *k = json_string_value(json_object_get(data, "key"));
		w->auth_kind = AUTH_APIKEY;
		w->auth_header = prefix && *prefix ? auth_line(prefix, k) : auth_line(k, NULL);
		if (!w->auth_header)
			return -1;
	} else if (strcmp(kind, "secret") == 0) {
		w->auth_kind = AUTH_SECRET;
		const char *secret = json_string_value(json_object_get(data, "secret"));
		if (!secret ||
		    !(w->secret_key = sign_hmac_key_new("sha256", secret, strlen(secret))))
			return -1;
	} else if (strcmp(kind, "standard") == 0) {
		w->auth_kind = AUTH_STANDARD;
		int n = sign_standard_key(json_string_value(json_object_get(data, "secret")),
		                          w->keys[0]);
		if (n <= 0)
			return -1;
		w->keylens[0] = (size_t)n;
		w->nkeys = 1;
		size_t i;
		json_t *p;
		json_array_foreach (json_object_get(cfg, "previousSecrets"), i, p) {
			json_int_t exp = json_integer_value(json_object_get(p, "expiresAt"));
			if (exp <= now_ms || w->nkeys == WEBHOOK_MAX_KEYS)
				continue;
			n = sign_standard_key(json_string_value(json_object_get(p, "secret")),
			                      w->keys[w->nkeys]);
			if (n <= 0)
				continue;
			w->keys_expire[w->nkeys] = exp;
			w->keylens[w->nkeys++] = (size_t)n;
		}
	}
	return 0;
}

int webhook_compile(const json_t *cfg, int64_t seq, const char *id, int64_t company_seq, int status,
                    int64_t now_ms, struct webhook **out, struct gerr *err)
{
	struct webhook *w = calloc(1, sizeof(*w));
	if (!w)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	w->refs = 1;
	w->seq = seq;
	w->company_seq = company_seq;
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->status = status;
	w->url = dup_str(json_string_value(json_object_get(cfg, "postbackUrl")));
	const json_t *events = json_object_get(cfg, "events");
	w->nevents = (int)json_array_size(events);
	w->events = calloc((size_t)w->nevents + 1, sizeof(char *));
	for (int i = 0; w->events && i < w->nevents; i++)
		w->events[i] = dup_str(json_string_value(json_array_get(events, (size_t)i)));
	w->unit = dup_str(json_string_value(json_object_get(cfg, "unit")));
	json_t *f = json_object_get(cfg, "filter");
	w->filter = f && !json_is_null(f) ? json_incref(f) : NULL;
	if (w->filter && !(w->matcher = filter_compile(w->filter, err)))
		goto fail;
	const json_t *rp = json_object_get(cfg, "retryPolicy");
	if (policy_load(rp, &w->policy, err))
		goto fail;
	const char *ord = json_string_value(json_object_get(cfg, "ordering"));
	/* Acesso RH's retry comes with its queue: FIFO unless said otherwise. */
	w->ordering_key = dup_str(json_string_value(json_object_get(cfg, "orderingKey")));
	/* An orderingKey means FIFO per key value (validation refuses it with
	 * "unordered"). */
	w->fifo = ord ? strcmp(ord, "fifo") == 0
	              : w->ordering_key != NULL || w->policy.kind == POLICY_ACESSO;
	const json_t *t = json_object_get(cfg, "timeoutMs");
	w->timeout_ms = t ? (int)json_integer_value(t) : 30000;
	const json_t *c = json_object_get(cfg, "concurrency");
	w->concurrency = c ? (int)json_integer_value(c) : 16;
	w->rate_per_sec =
	    json_number_value(json_object_get(json_object_get(cfg, "rateLimit"), "perSecond"));
	if (compile_auth(w, cfg, now_ms)) {
		gerr_set(err, GERR_INVALID, 400, "invalid_field",
		         "authorization: cannot be compiled");
		goto fail;
	}
	const json_t *h = json_object_get(cfg, "clientHeaders");
	if (h && json_is_object(h)) {
		w->client_headers = true;
		w->headers = calloc(json_object_size(h) + 1, sizeof(char *));
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)h, k, v) {
			char *line = w->headers ? headers_line(k, json_string_value(v),
			                                       json_string_length(v))
			                        : NULL;
			if (!line) {
				gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
				goto fail;
			}
			w->headers[w->nheaders++] = line;
		}
	}
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(cfg, "failPermanentlyOn"), i, p) {
		if (w->nperm < WEBHOOK_MAX_PERM)
			w->perm[w->nperm++] = (int)json_integer_value(p);
	}
	if (!w->url || !w->events) {
		gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
		goto fail;
	}
	const char *answers = json_string_value(json_object_get(cfg, "answerRules"));
	if (answers && strcmp(answers, "gupy") == 0)
		w->answers = ANSWERS_GUPY;
	else if (answers && strcmp(answers, "hellowork") == 0)
		w->answers = ANSWERS_HELLOWORK;
	const char *route = json_string_value(json_object_get(cfg, "routeId"));
	if (route) {
		snprintf(w->route_id, sizeof(w->route_id), "%s", route);
		/* A FIFO target orders per entity: each delivery carries its
		 * receipt's entity key as ordering key (none: no lane, see
		 * webhook_lane_key), so the entities of a target go side by side
		 * and each one's actions one at a time, in order. */
		if (w->fifo && !w->ordering_key && !(w->ordering_key = dup_str("entity"))) {
			gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
			goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	webhook_unref(w);
	return err && err->status == 500 ? GERR_NOMEM : GERR_INVALID;
}

const char *webhook_lane_key(const struct webhook *w, const char *okey)
{
	if (!w || !w->fifo)
		return NULL;
	if (!w->ordering_key)
		return "";
	if (w->route_id[0] && (!okey || !*okey))
		return NULL;
	return okey ? okey : "";
}

void webhook_ref(struct webhook *w)
{
	__atomic_add_fetch(&w->refs, 1, __ATOMIC_RELAXED);
}

void webhook_unref(struct webhook *w)
{
	if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(w->url);
	for (int i = 0; w->events && i < w->nevents; i++)
		free(w->events[i]);
	free(w->events);
	free(w->unit);
	json_decref(w->filter);
	filter_free(w->matcher);
	free(w->ordering_key);
	free(w->auth_header);
	sign_hmac_key_free(w->secret_key);
	memset(w->keys, 0, sizeof(w->keys));
	for (int i = 0; i < w->nheaders; i++)
		free(w->headers[i]);
	free(w->headers);
	free(w);
}

json_t *webhook_to_json(const json_t *cfg, const char *id, int status, int64_t created_at,
                        int64_t updated_at)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	for (int i = 0; i < SHOWN_KEYS; i++) {
		json_t *v = json_object_get(cfg, known_keys[i]);
		if (v)
			json_object_set(o, known_keys[i], v);
		if (i == 1)
			json_object_set_new(o, "status",
			                    json_string(status == 0 ? "active" : "inactive"));
	}
	const json_t *a = json_object_get(cfg, "authorization");
	if (a) {
		json_t *ra = json_object();
		json_object_set(ra, "kind", json_object_get(a, "kind"));
		json_object_set_new(o, "authorization", ra);
	}
	char date[DATE_STR_LEN];
	envelope_format_date(created_at, date);
	json_object_set_new(o, "createdAt", json_string(date));
	envelope_format_date(updated_at, date);
	json_object_set_new(o, "updatedAt", json_string(date));
	return o;
}

bool webhook_wants(const struct webhook *w, const char *event, const char *unit)
{
	if (w->route_id[0]) /* a route's target: fed by its route, not by events */
		return false;
	if (w->unit && (!unit || strcmp(w->unit, unit) != 0))
		return false;
	for (int i = 0; i < w->nevents; i++)
		if (strcmp(w->events[i], event) == 0)
			return true;
	return false;
}

bool webhook_key_signs(const struct webhook *w, int i, int64_t now_ms)
{
	return i >= 0 && i < w->nkeys && (w->keys_expire[i] == 0 || w->keys_expire[i] > now_ms);
}

bool webhook_is_permanent(const struct webhook *w, int http_status)
{
	for (int i = 0; i < w->nperm; i++)
		if (w->perm[i] == http_status)
			return true;
	return false;
}

int webhook_verdict(const struct webhook *w, bool complete, int http_status)
{
	int c = http_status;
	switch (w->answers) {
	case ANSWERS_GUPY:
		if (complete && c >= 200 && c < 300)
			return VERDICT_DELIVERED;
		return c >= 400 && c < 500 && c != 408 && c != 429 ? VERDICT_PERMANENT
		                                                   : VERDICT_RETRY;
	case ANSWERS_HELLOWORK:
		if (complete && c == 200)
			return VERDICT_DELIVERED;
		return c == 404 ? VERDICT_PERMANENT : VERDICT_RETRY;
	default:
		if (complete && c >= 200 && c < 300)
			return VERDICT_DELIVERED;
		return webhook_is_permanent(w, c) ? VERDICT_PERMANENT : VERDICT_RETRY;
	}
}

/* answer_message: the "message" string of a JSON answer body, decoded, into
 * out (at most outsz - 1 bytes, control characters as spaces, cut on a
 * character boundary). The body may be cut short: a message before the cut
 * is still read. */
static bool answer_message(const char *body, size_t len, char *out, size_t outsz)
{
	const char *v;
	size_t vn;
	if (!body || !len || !jsonpath_get(body, len, "message", &v, &vn) || vn < 2 || v[0] != '"')
		return false;
	char *text = malloc(vn);
	long n = text ? jsonpath_string_decode(v, vn, text) : -1;
	if (n < 0) {
		free(text);
		return false;
	}
	char *fixed = malloc((size_t)n * 3 + 4);
	size_t m = fixed ? utf8_fix(text, (size_t)n, fixed, (size_t)n * 3 + 4) : 0;
	free(text);
	if (!fixed)
		return false;
	for (size_t i = 0; i < m; i++)
		if ((unsigned char)fixed[i] < 0x20 || fixed[i] == 0x7f)
			fixed[i] = ' ';
	size_t k = utf8_cut(fixed, m, outsz - 1);
	memcpy(out, fixed, k);
	out[k] = '\0';
	free(fixed);
	return true;
}

bool webhook_answer_error(const struct webhook *w, int http_status, const char *body, size_t len,
                          char *out, size_t outsz)
{
	char msg[200];
	if (!out || outsz < 16)
		return false;
	bool has = answer_message(body, len, msg, sizeof(msg));
	if (w->answers == ANSWERS_HELLOWORK && http_status == 404) {
		snprintf(out, outsz, "not_found: %s", has ? msg : "(the answer had no message)");
		return true;
	}
	if (w->answers == ANSWERS_GUPY && http_status >= 400 && http_status < 600 && has) {
		snprintf(out, outsz, "HTTP %d: %s", http_status, msg);
		return true;
	}
	return false;
}
