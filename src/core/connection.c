/*
 * connection: validation, storage form and answer of an ATS or job board
 * API's base URL and credentials (see connection.h for the fields and the
 * rules). It follows source.c's shape: config_build checks a body field by
 * field (unknown fields through webhook_only_keys, the one rule for bodies)
 * and merges a PATCH onto the stored config; to_json answers it with a hint
 * in place of the credential. The URL is judged by core/urlcheck, the
 * Authorization header a target sends by core/webhook.c's apiKey kind,
 * which connection_authorization fills.
 */
#include "core/connection.h"

#include <stdio.h>
#include <string.h>

#include "core/envelope.h"
#include "core/urlcheck.h"
#include "core/webhook.h"

static int bad(struct gerr *err, const char *field, const char *why)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: %s", field, why);
}

static int missing(struct gerr *err, const char *field, const char *what)
{
	return gerr_set(err, GERR_INVALID, 400, "missing_field", "%s: required%s", field, what);
}

/* The fields a body may hold ("id" is the API's), then those gancho sets. */
static const char *const body_keys[] = {
    "id",         "name",      "kind",      "baseUrl", "token", "authorization",
    "credential", "createdAt", "updatedAt", NULL};
static const char *const read_only[] = {"credential", "createdAt", "updatedAt", NULL};

static const struct {
	const char *kind;
	const char *url;
} kinds[] = {
    {"gupy", CONNECTION_GUPY_URL},
    {"hellowork", CONNECTION_HELLOWORK_URL},
};

const char *connection_default_url(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].url;
	return NULL;
}

/* name_chars: s[0..n) (valid UTF-8: jansson checks) in characters. */
static size_t name_chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static int check_name(const json_t *v, struct gerr *err)
{
	if (!json_is_string(v))
		return bad(err, "name", "must be a string of 1 to 200 characters");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (memchr(s, '\0', n))
		return bad(err, "name", "must not contain a NUL character");
	size_t chars = name_chars(s, n);
	if (chars == 0 || chars > CONNECTION_NAME_MAX)
		return bad(err, "name", "must be a string of 1 to 200 characters");
	return 0;
}

/* check_kind: v is a kind; existing (a PATCH) is the stored one, which a
 * body may repeat but not change. */
static int check_kind(const json_t *v, const json_t *existing, struct gerr *err)
{
	const char *k = json_string_value(v);
	if (!k || strlen(k) != json_string_length(v) || !connection_default_url(k))
		return bad(err, "kind", "must be \"gupy\" or \"hellowork\"");
	const char *was = json_string_value(json_object_get(existing, "kind"));
	if (was && strcmp(was, k) != 0)
		return bad(err, "kind",
		           "cannot be changed (the actions that use a connection are of its"
		           " kind); create another connection");
	return 0;
}

/* check_url: v is a base URL urlcheck accepts, without query or fragment;
 * *out its stored form (trailing '/' removed). */
static int check_url(const json_t *v, bool allow_http, bool allow_private, json_t **out,
                     struct gerr *err)
{
	if (!json_is_string(v))
		return bad(err, "baseUrl", "must be a URL such as \"https://api.gupy.io\"");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n > CONNECTION_URL_MAX)
		return bad(err, "baseUrl", "URL is too long (max 2048 bytes)");
	if (memchr(s, '\0', n))
		return bad(err, "baseUrl", "must not contain a NUL character");
	if (urlcheck_target(s, allow_http, allow_private, err)) {
		/* urlcheck names the webhook's field; this one is baseUrl */
		const char *why =
		    strncmp(err->msg, "postbackUrl: ", 13) == 0 ? err->msg + 13 : NULL;
		if (why) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", why);
			return bad(err, "baseUrl", msg);
		}
		return GERR_INVALID;
	}
	if (memchr(s, '?', n))
		return bad(err, "baseUrl",
		           "must not have a query: the actions add their paths after it");
	while (n > 0 && s[n - 1] == '/')
		n--;
	/* "https://host/" with its slashes removed must still have a host */
	if (!(*out = json_stringn(s, n)))
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	return 0;
}

/* check_secret: a token (visible ASCII, no space) or an authorization
 * header value (printable ASCII, no space at either end), 1 to
 * CONNECTION_SECRET_MAX bytes. The value is never quoted in a message. */
static int check_secret(const json_t *v, const char *field, struct gerr *err)
{
	bool token = strcmp(field, "token") == 0;
	const char *want = token ? "must be a string of 1 to 4096 visible ASCII characters"
	                           " (no spaces, no control characters)"
	                         : "must be a string of 1 to 4096 printable ASCII characters"
	                           " (no control characters, no space at either end)";
	if (!json_is_string(v))
		return bad(err, field, want);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n > CONNECTION_SECRET_MAX)
		return bad(err, field, want);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || (token && c == ' '))
			return bad(err, field, want);
	}
	if (s[0] == ' ' || s[n - 1] == ' ')
		return bad(err, field, want);
	return 0;
}

int connection_config_build(const json_t *body, const json_t *existing, bool allow_http,
                            bool allow_private, json_t **out, struct gerr *err)
{
	if (!json_is_object(body))
		return gerr_set(err, GERR_INVALID, 400, "invalid_json",
		                "the body must be a JSON object");
	int rc = webhook_only_keys(body, body_keys, "", err);
	if (rc)
		return rc;
	for (int i = 0; read_only[i]; i++)
		if (json_object_get(body, read_only[i]))
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "%s: set by gancho; it cannot be given", read_only[i]);
	const json_t *tok = json_object_get(body, "token");
	const json_t *auth = json_object_get(body, "authorization");
	if (tok && !json_is_null(tok) && auth && !json_is_null(auth))
		return bad(err, "token",
		           "give token (sent as \"Authorization: Bearer <token>\") or"
		           " authorization (the whole header value), not both");
	json_t *cfg = existing ? json_deep_copy(existing) : json_object();
	if (!cfg)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		json_t *nv = NULL;
		if (strcmp(k, "id") == 0) /* the API's business */
			continue;
		if (strcmp(k, "name") == 0) {
			rc = json_is_null(v) ? missing(err, "name", " (1 to 200 characters)")
			                     : check_name(v, err);
		} else if (strcmp(k, "kind") == 0) {
			rc = json_is_null(v) ? missing(err, "kind", " (\"gupy\" or \"hellowork\")")
			                     : check_kind(v, existing, err);
		} else if (strcmp(k, "baseUrl") == 0) {
			if (json_is_null(v)) { /* back to the kind's default, below */
				json_object_del(cfg, k);
				continue;
			}
			rc = check_url(v, allow_http, allow_private, &nv, err);
		} else { /* token, authorization */
			if (json_is_null(v)) {
				json_object_del(cfg, k);
				continue;
			}
			rc = check_secret(v, k, err);
			/* one credential: the one given replaces the stored one */
			if (!rc)
				json_object_del(cfg, strcmp(k, "token") == 0 ? "authorization"
				                                             : "token");
		}
		if (rc)
			break;
		json_object_set_new(cfg, k, nv ? nv : json_incref(v));
	}
	const char *kind = json_string_value(json_object_get(cfg, "kind"));
	if (!rc && !json_object_get(cfg, "name"))
		rc = missing(err, "name", " (1 to 200 characters)");
	if (!rc && !kind)
		rc = missing(err, "kind", " (\"gupy\" or \"hellowork\")");
	if (!rc && !json_object_get(cfg, "token") && !json_object_get(cfg, "authorization"))
		rc = missing(err, "token or authorization",
		             " (token: sent as \"Authorization: Bearer <token>\"; authorization:"
		             " the whole header value)");
	if (!rc && !json_object_get(cfg, "baseUrl")) {
		/* the default, stored: targets are made with the URL the
		 * connection had, so it must not move when a default does */
		json_t *d = json_string(connection_default_url(kind));
		if (!d || json_object_set_new(cfg, "baseUrl", d))
			rc = gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	}
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/* credential: the stored credential's field ("token" or "authorization")
 * and value, or NULL. */
static const char *credential(const json_t *cfg, const char **field)
{
	const char *v = json_string_value(json_object_get(cfg, "token"));
	*field = "token";
	if (!v) {
		v = json_string_value(json_object_get(cfg, "authorization"));
		*field = "authorization";
	}
	return v;
}

json_t *connection_to_json(const json_t *cfg, const char *id, int64_t created_at,
                           int64_t updated_at)
{
	const char *field;
	const char *secret = credential(cfg, &field);
	size_t n = secret ? strlen(secret) : 0;
	json_t *hint = json_null();
	if (n >= CONNECTION_HINT_MIN) /* "…" and the last four */
		hint = json_sprintf("\xe2\x80\xa6%s", secret + n - 4);
	char created[DATE_STR_LEN], updated[DATE_STR_LEN];
	envelope_format_date(created_at, created);
	envelope_format_date(updated_at, updated);
	/* json_pack fails whole (and frees what it took) when one part is
	 * missing: never an answer with a hole */
	return json_pack("{s:s,s:O,s:O,s:O,s:{s:s,s:o},s:s,s:s}", "id", id, "name",
	                 json_object_get(cfg, "name"), "kind", json_object_get(cfg, "kind"),
	                 "baseUrl", json_object_get(cfg, "baseUrl"), "credential", "kind", field,
	                 "hint", hint, "createdAt", created, "updatedAt", updated);
}

json_t *connection_authorization(const json_t *cfg)
{
	const char *field;
	const char *secret = credential(cfg, &field);
	if (!secret)
		return NULL;
	if (strcmp(field, "token") == 0)
		return json_pack("{s:s,s:{s:s,s:s}}", "kind", "apiKey", "data", "key", secret,
		                 "prefix", "Bearer");
	return json_pack("{s:s,s:{s:s}}", "kind", "apiKey", "data", "key", secret);
}

bool connection_same_credentials(const json_t *a, const json_t *b)
{
	json_t *x = connection_authorization(a), *y = connection_authorization(b);
	bool same = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}
