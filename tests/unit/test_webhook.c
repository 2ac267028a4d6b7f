/*
 * test_webhook: validation of create and PATCH bodies, the stored config,
 * Standard Webhooks secret rotation, the compiled struct webhook, the API's
 * answer (no secrets) and event / unit matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/webhook.h"
#include "util/base64.h"

/* Gupy's create body, as in its documentation. */
#define GUPY_BODY                                                                                  \
	"{\"action\":\"application.moved\",\"status\":\"active\","                                 \
	"\"postbackUrl\":\"https://urldo.agenteintegrador.net\","                                  \
	"\"techOwnerName\":\"Nome Sobrenome\",\"techOwnerEmail\":\"nome@example.com\"}"

/* Standard Webhooks secrets: A and B decode to 24 bytes, C to 32. */
#define SECRET_A "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_B "whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7"
#define SECRET_C "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

#define ROT WEBHOOK_ROTATION_MS

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	return v;
}

/* body_with: Gupy's body with the keys of `extra` (a JSON object) set over it. */
static json_t *body_with(const char *extra)
{
	json_t *b = load(GUPY_BODY);
	json_t *e = load(extra);
	assert_int_equal(json_object_update(b, e), 0);
	json_decref(e);
	return b;
}

/* build: webhook_config_build of a JSON text (https only, public hosts only). */
static int build(const char *body, const json_t *existing, int64_t now, json_t **out,
                 struct gerr *err)
{
	json_t *b = load(body);
	*out = NULL;
	int rc = webhook_config_build(b, existing, false, false, now, out, err);
	json_decref(b);
	if (rc)
		assert_null(*out);
	else
		assert_non_null(*out);
	return rc;
}

/* build_ok: a config from Gupy's body plus `extra`; fails the test otherwise. */
static json_t *build_ok(const char *extra)
{
	struct gerr err = {0};
	json_t *b = body_with(extra);
	json_t *cfg = NULL;
	int rc = webhook_config_build(b, NULL, false, false, 0, &cfg, &err);
	json_decref(b);
	if (rc)
		fail_msg("%s refused: %s %s", extra, err.code, err.msg);
	assert_non_null(cfg);
	return cfg;
}

/* refused: Gupy's body plus `extra` is refused with GERR_INVALID and `code`. */
static void refused(const char *extra, const char *code)
{
	struct gerr err = {0};
	json_t *b = body_with(extra);
	json_t *cfg = NULL;
	int rc = webhook_config_build(b, NULL, false, false, 0, &cfg, &err);
	json_decref(b);
	if (rc == 0) {
		json_decref(cfg);
		fail_msg("%s: accepted", extra);
	}
	assert_int_equal(rc, GERR_INVALID);
	assert_null(cfg);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, code);
}

static struct webhook *compile_at(const json_t *cfg, int64_t now)
{
	struct gerr err = {0};
	struct webhook *w = NULL;
	if (webhook_compile(cfg, 7, "wh-1", 3, 0, now, &w, &err))
		fail_msg("compile: %s %s", err.code, err.msg);
	assert_non_null(w);
	return w;
}

/* compile_extra: the compiled webhook of Gupy's body plus `extra`. */
static struct webhook *compile_extra(const char *extra)
{
	json_t *cfg = build_ok(extra);
	struct webhook *w = compile_at(cfg, 0);
	json_decref(cfg);
	return w;
}

static const char *str_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void test_gupy_body(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *cfg;

	assert_int_equal(build(GUPY_BODY, NULL, 0, &cfg, &err), 0);
	/* The stored config: Gupy's fields, events normalised, no status. */
	json_t *want = load("{\"action\":\"application.moved\","
	                    "\"events\":[\"application.moved\"],"
	                    "\"postbackUrl\":\"https://urldo.agenteintegrador.net\","
	                    "\"techOwnerName\":\"Nome Sobrenome\","
	                    "\"techOwnerEmail\":\"nome@example.com\"}");
	assert_true(json_equal(cfg, want));
	assert_null(json_object_get(cfg, "status"));
	assert_null(json_object_get(cfg, "previousSecrets"));
	json_decref(want);

	/* It compiles with every default. */
	struct webhook *w = compile_at(cfg, 0);
	assert_int_equal(w->refs, 1);
	assert_int_equal(w->seq, 7);
	assert_int_equal(w->company_seq, 3);
	assert_string_equal(w->id, "wh-1");
	assert_int_equal(w->status, 0);
	assert_string_equal(w->url, "https://urldo.agenteintegrador.net");
	assert_int_equal(w->nevents, 1);
	assert_string_equal(w->events[0], "application.moved");
	assert_null(w->unit);
	assert_null(w->filter);
	assert_int_equal(w->policy.kind, POLICY_GUPY);
	assert_false(w->fifo);
	assert_null(w->ordering_key);
	assert_int_equal(w->timeout_ms, 30000);
	assert_int_equal(w->concurrency, 16);
	assert_true(w->rate_per_sec == 0);
	assert_int_equal(w->auth_kind, AUTH_NONE);
	assert_null(w->auth_header);
	assert_null(w->secret_key);
	assert_int_equal(w->nkeys, 0);
	assert_false(w->client_headers);
	assert_int_equal(w->nheaders, 0);
	assert_int_equal(w->nperm, 0);
	assert_false(webhook_is_permanent(w, 404));

	/* Reference counting: a second holder keeps it alive. */
	webhook_ref(w);
	assert_int_equal(w->refs, 2);
	webhook_unref(w);
	assert_int_equal(w->refs, 1);
	webhook_unref(w);
	webhook_unref(NULL);
	json_decref(cfg);
}

static void test_status(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *b = load(GUPY_BODY);
	assert_int_equal(webhook_status_from_body(b, 1, &err), 0);
	json_decref(b);

	b = load("{\"status\":\"inactive\"}");
	assert_int_equal(webhook_status_from_body(b, 0, &err), 1);
	json_decref(b);

	/* Absent or null: the default. */
	b = load("{}");
	assert_int_equal(webhook_status_from_body(b, 0, &err), 0);
	assert_int_equal(webhook_status_from_body(b, 1, &err), 1);
	json_decref(b);
	b = load("{\"status\":null}");
	assert_int_equal(webhook_status_from_body(b, 1, &err), 1);
	json_decref(b);

	memset(&err, 0, sizeof(err));
	b = load("{\"status\":\"paused\"}");
	assert_int_equal(webhook_status_from_body(b, 0, &err), GERR_INVALID);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	json_decref(b);

	memset(&err, 0, sizeof(err));
	b = load("{\"status\":\"active\\u0000x\"}"); /* not "active" cut short */
	assert_int_equal(webhook_status_from_body(b, 1, &err), GERR_INVALID);
	json_decref(b);

	memset(&err, 0, sizeof(err));
	b = load("{\"status\":1}");
	assert_int_equal(webhook_status_from_body(b, 0, &err), GERR_INVALID);
	assert_string_equal(err.code, "invalid_field");
	json_decref(b);

	/* status never reaches the stored config, even on a PATCH. */
	json_t *cfg;
	assert_int_equal(build("{\"action\":\"job.changed\",\"status\":\"inactive\","
	                       "\"url\":\"https://a.example.com\"}",
	                       NULL, 0, &cfg, &err),
	                 0);
	assert_null(json_object_get(cfg, "status"));
	json_decref(cfg);
}

static void test_fields(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *cfg;

	/* "url" is an alias of postbackUrl. */
	assert_int_equal(
	    build("{\"action\":\"a.b\",\"url\":\"https://x.example.com/h\"}", NULL, 0, &cfg, &err),
	    0);
	assert_string_equal(str_at(cfg, "postbackUrl"), "https://x.example.com/h");
	assert_null(json_object_get(cfg, "url"));
	json_decref(cfg);

	/* An "id" in the body is ignored, not stored. */
	assert_int_equal(
	    build("{\"id\":\"x\",\"action\":\"a.b\",\"url\":\"https://x.example.com\"}", NULL, 0,
	          &cfg, &err),
	    0);
	assert_null(json_object_get(cfg, "id"));
	json_decref(cfg);

	/* Not an object. */
	json_t *arr = load("[1]");
	cfg = NULL;
	assert_int_equal(webhook_config_build(arr, NULL, false, false, 0, &cfg, &err),
	                 GERR_INVALID);
	assert_string_equal(err.code, "invalid_json");
	assert_null(cfg);
	json_decref(arr);

	refused("{\"color\":\"red\"}", "invalid_field");
	refused("{\"postbackUrl\":null}", "missing_field");
	assert_int_equal(build("{\"action\":\"a.b\"}", NULL, 0, &cfg, &err), GERR_INVALID);
	assert_string_equal(err.code, "missing_field");
	assert_int_equal(build("{\"postbackUrl\":\"https://x.example.com\"}", NULL, 0, &cfg, &err),
	                 GERR_INVALID);
	assert_string_equal(err.code, "missing_field");
	refused("{\"action\":null}", "missing_field");
	refused("{\"postbackUrl\":42}", "invalid_field");
	refused("{\"techOwnerName\":5}", "invalid_field");
	refused("{\"unit\":[]}", "invalid_field");

	/* http:// only with allow_http; a private host only with allow_private. */
	json_t *b = body_with("{\"postbackUrl\":\"http://hooks.example.com/x\"}");
	assert_int_equal(webhook_config_build(b, NULL, false, false, 0, &cfg, &err), GERR_INVALID);
	assert_string_equal(err.code, "invalid_field");
	assert_int_equal(webhook_config_build(b, NULL, true, false, 0, &cfg, &err), 0);
	assert_string_equal(str_at(cfg, "postbackUrl"), "http://hooks.example.com/x");
	json_decref(cfg);
	json_decref(b);

	b = body_with("{\"postbackUrl\":\"https://127.0.0.1/x\"}");
	assert_int_equal(webhook_config_build(b, NULL, false, false, 0, &cfg, &err), GERR_INVALID);
	assert_string_equal(err.code, "invalid_field");
	assert_int_equal(webhook_config_build(b, NULL, true, false, 0, &cfg, &err), GERR_INVALID);
	assert_int_equal(webhook_config_build(b, NULL, false, true, 0, &cfg, &err), 0);
	json_decref(cfg);
	json_decref(b);
}

static void test_events(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *cfg;

	/* A list: action is its first entry. */
	cfg = build_ok("{\"action\":null,\"events\":[\"position-created\",\"position-applied\"]}");
	json_t *want = load("[\"position-created\",\"position-applied\"]");
	assert_true(json_equal(json_object_get(cfg, "events"), want));
	assert_string_equal(str_at(cfg, "action"), "position-created");
	json_decref(want);
	struct webhook *w = compile_at(cfg, 0);
	assert_int_equal(w->nevents, 2);
	assert_string_equal(w->events[0], "position-created");
	assert_string_equal(w->events[1], "position-applied");
	assert_null(w->events[2]);
	webhook_unref(w);
	json_decref(cfg);

	/* 64 events are fine, 65 are not. */
	json_t *b = load(GUPY_BODY);
	json_t *list = json_array();
	char name[16];
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "e.%d", i);
		json_array_append_new(list, json_string(name));
	}
	json_object_set_new(b, "events", list);
	json_object_del(b, "action");
	assert_int_equal(webhook_config_build(b, NULL, false, false, 0, &cfg, &err), 0);
	assert_int_equal(json_array_size(json_object_get(cfg, "events")), 64);
	json_decref(cfg);
	json_array_append_new(list, json_string("e.64"));
	cfg = NULL;
	assert_int_equal(webhook_config_build(b, NULL, false, false, 0, &cfg, &err), GERR_INVALID);
	assert_string_equal(err.code, "invalid_field");
	assert_null(cfg);
	json_decref(b);

	refused("{\"events\":[]}", "invalid_field");
	refused("{\"events\":\"a.b\"}", "invalid_field");
	refused("{\"events\":[\"ok.one\",\"bad name\"]}", "invalid_field");
	refused("{\"events\":[\"ok.one\",7]}", "invalid_field");
	refused("{\"action\":\"bad/name\"}", "invalid_field");
	refused("{\"action\":\"\"}", "invalid_field");
	refused("{\"action\":\"caf\xc3\xa9\"}", "invalid_field");
	refused("{\"action\":3}", "invalid_field");
}

static void test_authorization_validation(void **state)
{
	(void)state;
	json_t *cfg;

	cfg = build_ok("{\"authorization\":{\"kind\":\"basic\","
	               "\"data\":{\"username\":\"u\",\"password\":\"p\"}}}");
	json_decref(cfg);
	refused("{\"authorization\":{\"kind\":\"basic\",\"data\":{\"username\":\"u\"}}}",
	        "missing_field");
	refused("{\"authorization\":{\"kind\":\"basic\",\"data\":{\"password\":\"p\"}}}",
	        "missing_field");
	refused("{\"authorization\":{\"kind\":\"basic\","
	        "\"data\":{\"username\":\"\",\"password\":\"p\"}}}",
	        "missing_field");
	refused("{\"authorization\":{\"kind\":\"basic\","
	        "\"data\":{\"username\":\"u\\r\\nX-Evil: 1\",\"password\":\"p\"}}}",
	        "invalid_field");
	refused("{\"authorization\":{\"kind\":\"basic\","
	        "\"data\":{\"username\":\"u\\n\",\"password\":\"p\"}}}",
	        "invalid_field");

	cfg = build_ok("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k\"}}}");
	json_decref(cfg);
	cfg = build_ok("{\"authorization\":{\"kind\":\"apiKey\","
	               "\"data\":{\"key\":\"k\",\"prefix\":\"Bearer\"}}}");
	json_decref(cfg);
	refused("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"prefix\":\"Bearer\"}}}",
	        "missing_field");
	refused("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k\",\"prefix\":1}}}",
	        "invalid_field");

	cfg = build_ok("{\"authorization\":{\"kind\":\"secret\",\"data\":{\"secret\":\"s\"}}}");
	json_decref(cfg);
	refused("{\"authorization\":{\"kind\":\"secret\",\"data\":{}}}", "missing_field");

	cfg = build_ok("{\"authorization\":{\"kind\":\"standard\","
	               "\"data\":{\"secret\":\"" SECRET_A "\"}}}");
	json_decref(cfg);
	refused("{\"authorization\":{\"kind\":\"standard\",\"data\":{\"secret\":\"whsec_abc\"}}}",
	        "invalid_field");
	refused("{\"authorization\":{\"kind\":\"standard\",\"data\":{\"secret\":\"nope\"}}}",
	        "invalid_field");
	/* 15 bytes is one too few; the prefix is required here. */
	refused("{\"authorization\":{\"kind\":\"standard\","
	        "\"data\":{\"secret\":\"whsec_AAECAwQFBgcICQoLDA0O\"}}}",
	        "invalid_field");
	refused("{\"authorization\":{\"kind\":\"standard\","
	        "\"data\":{\"secret\":\"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}}",
	        "invalid_field");
	refused("{\"authorization\":{\"kind\":\"standard\",\"data\":{}}}", "missing_field");

	refused("{\"authorization\":{\"kind\":\"oauth\",\"data\":{}}}", "invalid_field");
	refused("{\"authorization\":{\"data\":{}}}", "missing_field");
	refused("{\"authorization\":{\"kind\":\"basic\"}}", "invalid_field");
	refused("{\"authorization\":\"basic\"}", "invalid_field");
}

static void test_policy_and_limits(void **state)
{
	(void)state;
	struct webhook *w;

	w = compile_extra("{\"retryPolicy\":\"acesso\"}");
	assert_int_equal(w->policy.kind, POLICY_ACESSO);
	assert_true(w->fifo);
	webhook_unref(w);
	w = compile_extra("{\"retryPolicy\":\"acesso\",\"ordering\":\"unordered\"}");
	assert_int_equal(w->policy.kind, POLICY_ACESSO);
	assert_false(w->fifo);
	webhook_unref(w);
	w = compile_extra("{\"ordering\":\"fifo\",\"orderingKey\":\"data.application.id\"}");
	assert_int_equal(w->policy.kind, POLICY_GUPY);
	assert_true(w->fifo);
	assert_string_equal(w->ordering_key, "data.application.id");
	webhook_unref(w);
	w = compile_extra("{\"retryPolicy\":{\"schedule\":[1,2],\"deadlineSeconds\":60}}");
	assert_int_equal(w->policy.kind, POLICY_SCHEDULE);
	assert_false(w->fifo);
	webhook_unref(w);
	refused("{\"retryPolicy\":\"forever\"}", "invalid_field");
	refused("{\"ordering\":\"random\"}", "invalid_field");
	refused("{\"ordering\":1}", "invalid_field");

	w = compile_extra("{\"timeoutMs\":1,\"concurrency\":256}");
	assert_int_equal(w->timeout_ms, 1);
	assert_int_equal(w->concurrency, 256);
	webhook_unref(w);
	w = compile_extra("{\"timeoutMs\":300000,\"concurrency\":1}");
	assert_int_equal(w->timeout_ms, 300000);
	assert_int_equal(w->concurrency, 1);
	webhook_unref(w);
	/* null means the default */
	w = compile_extra("{\"timeoutMs\":null,\"concurrency\":null}");
	assert_int_equal(w->timeout_ms, 30000);
	assert_int_equal(w->concurrency, 16);
	webhook_unref(w);
	refused("{\"timeoutMs\":0}", "invalid_field");
	refused("{\"timeoutMs\":300001}", "invalid_field");
	refused("{\"timeoutMs\":1.5}", "invalid_field");
	refused("{\"timeoutMs\":\"100\"}", "invalid_field");
	refused("{\"concurrency\":0}", "invalid_field");
	refused("{\"concurrency\":257}", "invalid_field");

	w = compile_extra("{\"rateLimit\":{\"perSecond\":5}}");
	assert_true(w->rate_per_sec == 5.0);
	webhook_unref(w);
	w = compile_extra("{\"rateLimit\":{\"perSecond\":0.5}}");
	assert_true(w->rate_per_sec == 0.5);
	webhook_unref(w);
	refused("{\"rateLimit\":{\"perSecond\":0}}", "invalid_field");
	refused("{\"rateLimit\":{\"perSecond\":-1}}", "invalid_field");
	refused("{\"rateLimit\":{\"perSecond\":100001}}", "invalid_field");
	refused("{\"rateLimit\":{}}", "invalid_field");
	refused("{\"rateLimit\":5}", "invalid_field");

	w = compile_extra("{\"failPermanentlyOn\":[404]}");
	assert_int_equal(w->nperm, 1);
	assert_true(webhook_is_permanent(w, 404));
	assert_false(webhook_is_permanent(w, 500));
	webhook_unref(w);
	w = compile_extra("{\"failPermanentlyOn\":[100,410,599]}");
	assert_int_equal(w->nperm, 3);
	assert_true(webhook_is_permanent(w, 100));
	assert_true(webhook_is_permanent(w, 410));
	assert_true(webhook_is_permanent(w, 599));
	assert_false(webhook_is_permanent(w, 404));
	webhook_unref(w);
	refused("{\"failPermanentlyOn\":[99]}", "invalid_field");
	refused("{\"failPermanentlyOn\":[600]}", "invalid_field");
	refused("{\"failPermanentlyOn\":[\"404\"]}", "invalid_field");
	refused("{\"failPermanentlyOn\":404}", "invalid_field");
	refused("{\"failPermanentlyOn\":[400,401,402,403,404,405,406,407,408,409,410,411,412,413,"
	        "414,415,416]}",
	        "invalid_field");

	w = compile_extra("{\"unit\":\"SP\",\"filter\":{\"data.x\":\"y\"}}");
	assert_string_equal(w->unit, "SP");
	assert_non_null(w->filter);
	assert_string_equal(json_string_value(json_object_get(w->filter, "data.x")), "y");
	webhook_unref(w);
}

static void test_client_headers(void **state)
{
	(void)state;
	struct webhook *w = compile_extra("{\"clientHeaders\":{\"X-Api-Key\":\"abc\"}}");
	assert_true(w->client_headers);
	assert_int_equal(w->nheaders, 1);
	assert_string_equal(w->headers[0], "X-Api-Key: abc");
	webhook_unref(w);

	w = compile_extra("{\"clientHeaders\":{\"Content-Type\":\"text/plain\",\"X-B\":\"\"}}");
	assert_true(w->client_headers);
	assert_int_equal(w->nheaders, 2);
	assert_string_equal(w->headers[0], "Content-Type: text/plain");
	assert_string_equal(w->headers[1], "X-B;"); /* sent with an empty value */
	webhook_unref(w);

	/* An empty object still replaces the default Content-Type. */
	w = compile_extra("{\"clientHeaders\":{}}");
	assert_true(w->client_headers);
	assert_int_equal(w->nheaders, 0);
	webhook_unref(w);

	refused("{\"clientHeaders\":{\"X-Api-Key\":\"abc\\r\\nX-Evil: 1\"}}", "invalid_field");
	refused("{\"clientHeaders\":{\"X-Api-Key\":\"abc\\n\"}}", "invalid_field");
	refused("{\"clientHeaders\":{\"Host\":\"evil.example.com\"}}", "invalid_field");
	refused("{\"clientHeaders\":{\"Bad Name\":\"x\"}}", "invalid_field");
	refused("{\"clientHeaders\":{\"X-N\":1}}", "invalid_field");
	refused("{\"clientHeaders\":[\"X-A: b\"]}", "invalid_field");
}

static void test_compiled_auth(void **state)
{
	(void)state;
	struct webhook *w;

	w = compile_extra("{\"authorization\":{\"kind\":\"basic\","
	                  "\"data\":{\"username\":\"user\",\"password\":\"pass\"}}}");
	assert_int_equal(w->auth_kind, AUTH_BASIC);
	assert_string_equal(w->auth_header, "Authorization: basic dXNlcjpwYXNz");
	assert_null(w->secret_key);
	assert_int_equal(w->nkeys, 0);
	webhook_unref(w);

	w = compile_extra("{\"authorization\":{\"kind\":\"apiKey\","
	                  "\"data\":{\"key\":\"k1\",\"prefix\":\"Bearer\"}}}");
	assert_int_equal(w->auth_kind, AUTH_APIKEY);
	assert_string_equal(w->auth_header, "Authorization: Bearer k1");
	webhook_unref(w);

	w = compile_extra("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k1\"}}}");
	assert_int_equal(w->auth_kind, AUTH_APIKEY);
	assert_string_equal(w->auth_header, "Authorization: k1");
	webhook_unref(w);

	/* An empty prefix is no prefix. */
	w = compile_extra("{\"authorization\":{\"kind\":\"apiKey\","
	                  "\"data\":{\"key\":\"k1\",\"prefix\":\"\"}}}");
	assert_string_equal(w->auth_header, "Authorization: k1");
	webhook_unref(w);

	w = compile_extra("{\"authorization\":{\"kind\":\"secret\",\"data\":{\"secret\":\"s3\"}}}");
	assert_int_equal(w->auth_kind, AUTH_SECRET);
	/* the secret, pre-keyed: it signs as "s3" does */
	char sig[SIGN_B64_LEN], want[SIGN_B64_LEN];
	assert_int_equal(sign_acesso_keyed(w->secret_key, "{}", 2, sig), 0);
	assert_int_equal(sign_acesso("s3", "{}", 2, want), 0);
	assert_string_equal(sig, want);
	assert_null(w->auth_header);
	webhook_unref(w);

	unsigned char key[SIGN_KEY_MAX];
	int n = sign_standard_key(SECRET_A, key);
	assert_int_equal(n, 24);
	w = compile_extra("{\"authorization\":{\"kind\":\"standard\","
	                  "\"data\":{\"secret\":\"" SECRET_A "\"}}}");
	assert_int_equal(w->auth_kind, AUTH_STANDARD);
	assert_int_equal(w->nkeys, 1);
	assert_int_equal(w->keylens[0], 24);
	assert_memory_equal(w->keys[0], key, 24);
	assert_int_equal(w->keys_expire[0], 0);
	assert_true(webhook_key_signs(w, 0, INT64_MAX));
	assert_null(w->auth_header);
	assert_null(w->secret_key);
	webhook_unref(w);
}

static void test_patch(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *old = build_ok("{\"unit\":\"SP\",\"timeoutMs\":1000}");
	json_t *copy = json_deep_copy(old);
	json_t *cfg;

	/* status only: the config is the same. */
	assert_int_equal(build("{\"status\":\"inactive\"}", old, 0, &cfg, &err), 0);
	assert_true(json_equal(cfg, old));
	assert_ptr_not_equal(cfg, old);
	json_decref(cfg);

	/* An empty PATCH changes nothing either. */
	assert_int_equal(build("{}", old, 0, &cfg, &err), 0);
	assert_true(json_equal(cfg, old));
	json_decref(cfg);

	/* events replaces action too. */
	assert_int_equal(build("{\"events\":[\"a.b\",\"c.d\"]}", old, 0, &cfg, &err), 0);
	assert_string_equal(str_at(cfg, "action"), "a.b");
	json_t *want = load("[\"a.b\",\"c.d\"]");
	assert_true(json_equal(json_object_get(cfg, "events"), want));
	json_decref(want);
	assert_string_equal(str_at(cfg, "postbackUrl"), "https://urldo.agenteintegrador.net");

	/* … and action replaces the list. */
	json_t *cfg2;
	assert_int_equal(build("{\"action\":\"job.changed\"}", cfg, 0, &cfg2, &err), 0);
	assert_string_equal(str_at(cfg2, "action"), "job.changed");
	want = load("[\"job.changed\"]");
	assert_true(json_equal(json_object_get(cfg2, "events"), want));
	json_decref(want);
	json_decref(cfg2);
	json_decref(cfg);

	/* null removes a field. */
	assert_int_equal(build("{\"unit\":null,\"timeoutMs\":null}", old, 0, &cfg, &err), 0);
	assert_null(json_object_get(cfg, "unit"));
	assert_null(json_object_get(cfg, "timeoutMs"));
	assert_string_equal(str_at(cfg, "techOwnerName"), "Nome Sobrenome");
	json_decref(cfg);

	/* "url" on a PATCH is postbackUrl. */
	assert_int_equal(build("{\"url\":\"https://new.example.com\"}", old, 0, &cfg, &err), 0);
	assert_string_equal(str_at(cfg, "postbackUrl"), "https://new.example.com");
	assert_null(json_object_get(cfg, "url"));
	json_decref(cfg);

	/* A bad PATCH gives nothing and leaves `existing` alone. */
	static const char *const bad[] = {
	    "{\"nope\":1}",
	    "{\"timeoutMs\":0}",
	    "{\"postbackUrl\":\"http://x.example.com\"}",
	    "{\"postbackUrl\":null}",
	    "{\"events\":[]}",
	    "{\"action\":null}",
	    "{\"unit\":null,\"clientHeaders\":{\"Host\":\"x\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(build(bad[i], old, 0, &cfg, &err), GERR_INVALID);
		assert_int_equal(err.status, 400);
		assert_true(json_equal(old, copy));
	}
	json_decref(copy);
	json_decref(old);
}

static void test_rotation(void **state)
{
	(void)state;
	struct gerr err = {0};
	unsigned char ka[SIGN_KEY_MAX], kb[SIGN_KEY_MAX], kc[SIGN_KEY_MAX];
	assert_int_equal(sign_standard_key(SECRET_A, ka), 24);
	assert_int_equal(sign_standard_key(SECRET_B, kb), 24);
	assert_int_equal(sign_standard_key(SECRET_C, kc), 32);

	json_t *va = build_ok("{\"authorization\":{\"kind\":\"standard\","
	                      "\"data\":{\"secret\":\"" SECRET_A "\"}}}");
	assert_null(json_object_get(va, "previousSecrets"));

	/* A → B at 1000: A keeps signing for 24 h. */
	json_t *vb;
	assert_int_equal(build("{\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_B "\"}}}",
	                       va, 1000, &vb, &err),
	                 0);
	char want[256];
	snprintf(want, sizeof(want), "[{\"secret\":\"%s\",\"expiresAt\":%lld}]", SECRET_A,
	         (long long)(1000 + ROT));
	json_t *jw = load(want);
	assert_true(json_equal(json_object_get(vb, "previousSecrets"), jw));
	json_decref(jw);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(vb, "authorization"), "data"), "secret")),
	    SECRET_B);

	struct webhook *w = compile_at(vb, 2000);
	assert_int_equal(w->nkeys, 2);
	assert_int_equal(w->keylens[0], 24);
	assert_memory_equal(w->keys[0], kb, 24);
	assert_int_equal(w->keylens[1], 24);
	assert_memory_equal(w->keys[1], ka, 24);
	assert_int_equal(w->keys_expire[0], 0);
	assert_int_equal(w->keys_expire[1], 1000 + ROT);
	assert_true(webhook_key_signs(w, 1, 1000 + ROT - 1));
	assert_false(webhook_key_signs(w, 1, 1000 + ROT));
	webhook_unref(w);
	/* One ms before the end A still signs; at the end it does not. */
	w = compile_at(vb, 1000 + ROT - 1);
	assert_int_equal(w->nkeys, 2);
	webhook_unref(w);
	w = compile_at(vb, 1000 + ROT);
	assert_int_equal(w->nkeys, 1);
	assert_memory_equal(w->keys[0], kb, 24);
	assert_int_equal(w->keys_expire[0], 0);
	webhook_unref(w);

	/* The same secret again is no rotation; other changes keep previousSecrets. */
	json_t *same;
	assert_int_equal(build("{\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_B "\"}},\"unit\":\"SP\"}",
	                       vb, 5000, &same, &err),
	                 0);
	assert_true(json_equal(json_object_get(same, "previousSecrets"),
	                       json_object_get(vb, "previousSecrets")));
	json_decref(same);

	/* B → C at 3000: B and A (not expired) are both previous, newest first. */
	json_t *vc;
	assert_int_equal(build("{\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_C "\"}}}",
	                       vb, 3000, &vc, &err),
	                 0);
	snprintf(want, sizeof(want),
	         "[{\"secret\":\"%s\",\"expiresAt\":%lld},{\"secret\":\"%s\",\"expiresAt\":%lld}]",
	         SECRET_B, (long long)(3000 + ROT), SECRET_A, (long long)(1000 + ROT));
	jw = load(want);
	assert_true(json_equal(json_object_get(vc, "previousSecrets"), jw));
	json_decref(jw);
	w = compile_at(vc, 4000);
	assert_int_equal(w->nkeys, 3);
	assert_int_equal(w->keylens[0], 32);
	assert_memory_equal(w->keys[0], kc, 32);
	assert_memory_equal(w->keys[1], kb, 24);
	assert_memory_equal(w->keys[2], ka, 24);
	assert_int_equal(w->keys_expire[1], 3000 + ROT);
	assert_int_equal(w->keys_expire[2], 1000 + ROT);
	/* Each previous key stops at its own time, not at the earliest one. */
	assert_false(webhook_key_signs(w, 2, 1000 + ROT));
	assert_true(webhook_key_signs(w, 1, 1000 + ROT));
	webhook_unref(w);
	/* After A expires, B still signs. */
	w = compile_at(vc, 2000 + ROT);
	assert_int_equal(w->nkeys, 2);
	assert_memory_equal(w->keys[1], kb, 24);
	assert_int_equal(w->keys_expire[1], 3000 + ROT);
	webhook_unref(w);

	/* B → C once A has expired: only B is previous. */
	json_t *vc2;
	assert_int_equal(build("{\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_C "\"}}}",
	                       vb, 1000 + ROT, &vc2, &err),
	                 0);
	assert_int_equal(json_array_size(json_object_get(vc2, "previousSecrets")), 1);
	assert_string_equal(
	    str_at(json_array_get(json_object_get(vc2, "previousSecrets"), 0), "secret"), SECRET_B);
	json_decref(vc2);

	/* Switching to another kind drops previousSecrets, and so does removing it. */
	json_t *vs;
	assert_int_equal(build("{\"authorization\":{\"kind\":\"secret\","
	                       "\"data\":{\"secret\":\"s3\"}}}",
	                       vc, 5000, &vs, &err),
	                 0);
	assert_null(json_object_get(vs, "previousSecrets"));
	w = compile_at(vs, 5000);
	assert_int_equal(w->auth_kind, AUTH_SECRET);
	assert_int_equal(w->nkeys, 0);
	webhook_unref(w);
	json_decref(vs);
	assert_int_equal(build("{\"authorization\":null}", vc, 5000, &vs, &err), 0);
	assert_null(json_object_get(vs, "previousSecrets"));
	assert_null(json_object_get(vs, "authorization"));
	json_decref(vs);

	/* A body cannot set previousSecrets itself: refused, not ignored. */
	snprintf(want, sizeof(want),
	         "{\"previousSecrets\":[{\"secret\":\"%s\",\"expiresAt\":99999999999999}]}",
	         SECRET_C);
	json_t *forged;
	assert_int_equal(build(want, va, 5000, &forged, &err), GERR_INVALID);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.msg, "previousSecrets"));

	json_decref(vc);
	json_decref(vb);
	json_decref(va);
}

static void test_to_json(void **state)
{
	(void)state;
	json_t *cfg = build_ok("{\"events\":[\"application.moved\",\"job.changed\"],"
	                       "\"unit\":\"SP\",\"timeoutMs\":5000,"
	                       "\"clientHeaders\":{\"X-Api-Key\":\"abc\"},"
	                       "\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_A "\"}}}");
	json_t *rot;
	struct gerr err = {0};
	assert_int_equal(build("{\"authorization\":{\"kind\":\"standard\","
	                       "\"data\":{\"secret\":\"" SECRET_B "\"}}}",
	                       cfg, 1000, &rot, &err),
	                 0);
	assert_non_null(json_object_get(rot, "previousSecrets"));

	json_t *o = webhook_to_json(rot, "0b7c-id", 1, 1000, 1700000000123LL);
	assert_non_null(o);
	static const char *const first[] = {"id", "action", "postbackUrl", "status"};
	void *it = json_object_iter(o);
	for (size_t i = 0; i < 4; i++) {
		assert_non_null(it);
		assert_string_equal(json_object_iter_key(it), first[i]);
		it = json_object_iter_next(o, it);
	}
	assert_string_equal(str_at(o, "id"), "0b7c-id");
	assert_string_equal(str_at(o, "action"), "application.moved");
	assert_string_equal(str_at(o, "postbackUrl"), "https://urldo.agenteintegrador.net");
	assert_string_equal(str_at(o, "status"), "inactive");
	assert_string_equal(str_at(o, "techOwnerName"), "Nome Sobrenome");
	assert_string_equal(str_at(o, "unit"), "SP");
	assert_int_equal(json_integer_value(json_object_get(o, "timeoutMs")), 5000);
	assert_int_equal(json_array_size(json_object_get(o, "events")), 2);
	assert_string_equal(str_at(json_object_get(o, "clientHeaders"), "X-Api-Key"), "abc");
	json_t *want = load("{\"kind\":\"standard\"}");
	assert_true(json_equal(json_object_get(o, "authorization"), want));
	json_decref(want);
	assert_null(json_object_get(o, "previousSecrets"));
	assert_string_equal(str_at(o, "createdAt"), "1970-01-01T00:00:01.000Z");
	assert_string_equal(str_at(o, "updatedAt"), "2023-11-14T22:13:20.123Z");

	char *s = json_dumps(o, JSON_COMPACT);
	assert_non_null(s);
	assert_null(strstr(s, "whsec_"));
	assert_null(strstr(s, SECRET_A + 6));
	assert_null(strstr(s, SECRET_B + 6));
	assert_null(strstr(s, "previousSecrets"));
	assert_null(strstr(s, "\"data\""));
	free(s);
	json_decref(o);
	json_decref(rot);
	json_decref(cfg);

	/* Other kinds: only the kind, never the credentials. */
	static const char *const auths[] = {
	    "{\"authorization\":{\"kind\":\"basic\","
	    "\"data\":{\"username\":\"usr-x1\",\"password\":\"pw-9f8e7d\"}}}",
	    "{\"authorization\":{\"kind\":\"apiKey\","
	    "\"data\":{\"key\":\"key-4c3b2a\",\"prefix\":\"Bearer\"}}}",
	    "{\"authorization\":{\"kind\":\"secret\",\"data\":{\"secret\":\"sec-1a2b3c\"}}}",
	};
	static const char *const kinds[] = {"basic", "apiKey", "secret"};
	static const char *const hidden[] = {"pw-9f8e7d", "key-4c3b2a", "sec-1a2b3c"};
	for (int i = 0; i < 3; i++) {
		cfg = build_ok(auths[i]);
		o = webhook_to_json(cfg, "id", 0, 0, 0);
		assert_string_equal(str_at(o, "status"), "active");
		assert_int_equal(json_object_size(json_object_get(o, "authorization")), 1);
		assert_string_equal(str_at(json_object_get(o, "authorization"), "kind"), kinds[i]);
		assert_string_equal(str_at(o, "createdAt"), "1970-01-01T00:00:00.000Z");
		s = json_dumps(o, JSON_COMPACT);
		assert_null(strstr(s, hidden[i]));
		free(s);
		json_decref(o);
		json_decref(cfg);
	}

	/* No authorization: no key for it. */
	cfg = build_ok("{}");
	o = webhook_to_json(cfg, "id", 0, 0, 0);
	assert_null(json_object_get(o, "authorization"));
	json_decref(o);
	json_decref(cfg);
}

static void test_wants(void **state)
{
	(void)state;
	struct webhook *all =
	    compile_extra("{\"events\":[\"application.moved\",\"position-created\"]}");
	assert_true(webhook_wants(all, "application.moved", NULL));
	assert_true(webhook_wants(all, "application.moved", "SP"));
	assert_true(webhook_wants(all, "position-created", "RJ"));
	assert_false(webhook_wants(all, "application.created", NULL));
	assert_false(webhook_wants(all, "application.created", "SP"));
	assert_false(webhook_wants(all, "application", NULL));
	assert_false(webhook_wants(all, "application.moved.x", NULL));
	webhook_unref(all);

	struct webhook *sp = compile_extra("{\"unit\":\"SP\"}");
	assert_true(webhook_wants(sp, "application.moved", "SP"));
	assert_false(webhook_wants(sp, "application.moved", NULL));
	assert_false(webhook_wants(sp, "application.moved", "RJ"));
	assert_false(webhook_wants(sp, "application.moved", "sp"));
	assert_false(webhook_wants(sp, "application.moved", "SPX"));
	assert_false(webhook_wants(sp, "job.changed", "SP"));
	webhook_unref(sp);
}

static void test_event_names(void **state)
{
	(void)state;
	static const char *const builtin[] = {
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
	assert_int_equal(sizeof(builtin) / sizeof(builtin[0]), 15);
	for (size_t i = 0; i < 15; i++) {
		assert_true(webhook_event_builtin(builtin[i]));
		assert_true(webhook_event_name_valid(builtin[i]));
	}
	assert_false(webhook_event_builtin("application.deleted"));
	assert_false(webhook_event_builtin("Application.moved"));
	assert_false(webhook_event_builtin("application.moved "));
	assert_false(webhook_event_builtin("position"));
	assert_false(webhook_event_builtin(""));

	char name[130];
	memset(name, 'a', 128);
	name[128] = '\0';
	assert_true(webhook_event_name_valid(name));
	name[128] = 'a';
	name[129] = '\0';
	assert_false(webhook_event_name_valid(name));
	assert_true(webhook_event_name_valid("a"));
	assert_true(webhook_event_name_valid("A-z_0.9:x"));
	assert_false(webhook_event_name_valid(""));
	assert_false(webhook_event_name_valid("a b"));
	assert_false(webhook_event_name_valid("a/b"));
	assert_false(webhook_event_name_valid("a\nb"));
	assert_false(webhook_event_name_valid("caf\xc3\xa9"));
	assert_false(webhook_event_name_valid("a*"));
}

/* A prefix with CR/LF would inject a header of the user's choosing. */
static void test_apikey_prefix_injection(void **state)
{
	(void)state;
	refused("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k1\","
	        "\"prefix\":\"Bearer\\r\\nX-Evil: 1\"}}}",
	        "invalid_field");
	refused("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k1\",\"prefix\":7}}}",
	        "invalid_field");
}

/* The longest credentials validation accepts must also compile. */
#define HOUR (3600LL * 1000)
#define T0   1700000000000LL /* a realistic wall-clock time */

/* nth_secret: a distinct valid Standard Webhooks secret for each i. */
static void nth_secret(int i, char out[64])
{
	unsigned char raw[24];
	memset(raw, 'a' + i, sizeof(raw));
	memcpy(out, "whsec_", 6);
	assert_true(base64_encode(raw, sizeof(raw), out + 6, 58) > 0);
}

/* rotate_to: PATCH the standard secret of cur to secret number i at now. */
static int rotate_to(const json_t *cur, int i, int64_t now, json_t **out, struct gerr *err)
{
	char sec[64], body[160];
	nth_secret(i, sec);
	snprintf(body, sizeof(body),
	         "{\"authorization\":{\"kind\":\"standard\",\"data\":{\"secret\":\"%s\"}}}", sec);
	return build(body, cur, now, out, err);
}

/* key_of: the index in w->keys of secret number i, or -1. */
static int key_of(const struct webhook *w, int i)
{
	char sec[64];
	unsigned char key[SIGN_KEY_MAX];
	nth_secret(i, sec);
	int n = sign_standard_key(sec, key);
	for (int k = 0; k < w->nkeys; k++)
		if ((int)w->keylens[k] == n && memcmp(w->keys[k], key, (size_t)n) == 0)
			return k;
	return -1;
}

/* signs: secret number i signs at now in the webhook compiled at compiled_at
 * (the registry keeps a compiled webhook for as long as nothing changes). */
static bool signs(const json_t *cfg, int64_t compiled_at, int i, int64_t now)
{
	struct webhook *w = compile_at(cfg, compiled_at);
	int k = key_of(w, i);
	bool yes = k >= 0 && webhook_key_signs(w, k, now);
	webhook_unref(w);
	return yes;
}

/* Each previous secret signs for 24 h from the moment it was replaced, even
 * when another rotation follows within those 24 h (issue 11, item 14). */
static void test_rotation_each_secret_keeps_its_day(void **state)
{
	(void)state;
	struct gerr err = {0};
	char sec[64], body[160];
	nth_secret(0, sec);
	snprintf(body, sizeof(body),
	         "{\"authorization\":{\"kind\":\"standard\",\"data\":{\"secret\":\"%s\"}}}", sec);
	json_t *va = build_ok(body), *vb, *vc;
	/* A → B at t0, B → C at t0 + 12 h. */
	assert_int_equal(rotate_to(va, 1, T0, &vb, &err), 0);
	assert_int_equal(rotate_to(vb, 2, T0 + 12 * HOUR, &vc, &err), 0);
	int64_t at = T0 + 12 * HOUR; /* compiled right after the second rotation */
	assert_true(signs(vc, at, 2, T0 + 24 * HOUR));
	assert_true(signs(vc, at, 0, T0 + 24 * HOUR - 1));
	assert_false(signs(vc, at, 0, T0 + 24 * HOUR));
	/* B still signs at t0 + 24 h, and until t0 + 36 h. */
	assert_true(signs(vc, at, 1, T0 + 24 * HOUR));
	assert_true(signs(vc, at, 1, T0 + 36 * HOUR - 1));
	assert_false(signs(vc, at, 1, T0 + 36 * HOUR));
	/* Compiled later (a restart at t0 + 30 h): A is gone, B is there. */
	assert_true(signs(vc, T0 + 30 * HOUR, 1, T0 + 30 * HOUR));
	assert_false(signs(vc, T0 + 30 * HOUR, 0, T0 + 30 * HOUR));
	json_decref(vb);

	/* A third and more rotations within 24 h drop no secret: each of the
	 * seven previous ones stops at its own time. */
	json_t *cur = json_incref(vc);
	for (int i = 3; i < WEBHOOK_MAX_KEYS; i++) {
		json_t *next;
		assert_int_equal(rotate_to(cur, i, T0 + (12 + i - 2) * HOUR, &next, &err), 0);
		json_decref(cur);
		cur = next;
	}
	/* secret i was replaced at T0 + (12 + i - 1) h for i >= 1, secret 0 at T0 */
	int64_t last = T0 + (12 + WEBHOOK_MAX_KEYS - 3) * HOUR;
	struct webhook *w = compile_at(cur, last);
	assert_int_equal(w->nkeys, WEBHOOK_MAX_KEYS);
	webhook_unref(w);
	for (int i = 0; i < WEBHOOK_MAX_KEYS - 1; i++) {
		int64_t replaced = i == 0 ? T0 : T0 + (12 + i - 1) * HOUR;
		assert_true(signs(cur, last, i, replaced + 24 * HOUR - 1));
		assert_false(signs(cur, last, i, replaced + 24 * HOUR));
	}
	assert_true(signs(cur, last, WEBHOOK_MAX_KEYS - 1, INT64_MAX));

	/* One rotation more while all seven still sign: refused, nothing dropped. */
	json_t *next = NULL;
	err = (struct gerr){0};
	assert_int_equal(rotate_to(cur, WEBHOOK_MAX_KEYS, last + HOUR, &next, &err), GERR_CONFLICT);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.msg, "previous secrets still sign"));
	/* Once the first of them (A, replaced at t0) has stopped, it goes through. */
	assert_int_equal(rotate_to(cur, WEBHOOK_MAX_KEYS, T0 + 24 * HOUR, &next, &err), 0);
	assert_int_equal(json_array_size(json_object_get(next, "previousSecrets")),
	                 WEBHOOK_MAX_KEYS - 1);
	assert_false(signs(next, T0 + 24 * HOUR, 0, T0 + 24 * HOUR));
	for (int i = 1; i <= WEBHOOK_MAX_KEYS; i++)
		assert_true(signs(next, T0 + 24 * HOUR, i, T0 + 24 * HOUR));
	json_decref(next);
	json_decref(cur);

	/* Rotating back to a previous secret: it is current, not also previous,
	 * and the one it replaces gets its full 24 h. */
	json_t *back;
	assert_int_equal(rotate_to(vc, 1, T0 + 13 * HOUR, &back, &err), 0);
	json_t *prev = json_object_get(back, "previousSecrets");
	assert_int_equal(json_array_size(prev), 2); /* C (new), A */
	nth_secret(2, sec);
	assert_string_equal(str_at(json_array_get(prev, 0), "secret"), sec);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(prev, 0), "expiresAt")),
	                 T0 + 37 * HOUR);
	nth_secret(0, sec);
	assert_string_equal(str_at(json_array_get(prev, 1), "secret"), sec);
	json_decref(back);
	json_decref(vc);
	json_decref(va);
}

/* refused_msg: like refused, and the message holds `part`. */
static void refused_msg(const char *extra, const char *part)
{
	struct gerr err = {0};
	json_t *b = body_with(extra);
	json_t *cfg = NULL;
	int rc = webhook_config_build(b, NULL, false, false, 0, &cfg, &err);
	json_decref(b);
	if (rc == 0) {
		json_decref(cfg);
		fail_msg("%s: accepted", extra);
	}
	assert_int_equal(err.status, 400);
	if (!strstr(err.msg, part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", extra, err.msg, part);
}

/* One rule for every nested object: unknown or contradictory fields are
 * refused, never ignored (issue 11, item 25). */
static void test_unknown_and_contradictory_fields(void **state)
{
	(void)state;
	/* unit as events take it: an empty one would match no event */
	refused_msg("{\"unit\":\"\"}", "unit: must not be empty");
	json_decref(build_ok("{\"unit\":\"SP\"}"));
	/* rateLimit and authorization refuse what they do not know, as retryPolicy does */
	refused_msg("{\"rateLimit\":{\"perSecond\":5,\"burst\":10}}",
	            "rateLimit.burst: unknown field");
	refused_msg("{\"authorization\":{\"kind\":\"secret\",\"data\":{\"secret\":\"s\"},"
	            "\"extra\":1}}",
	            "authorization.extra: unknown field");
	refused_msg("{\"authorization\":{\"kind\":\"basic\",\"data\":{\"username\":\"u\","
	            "\"password\":\"p\",\"prefix\":\"Bearer\"}}}",
	            "authorization.data.prefix: unknown field");
	refused_msg("{\"authorization\":{\"kind\":\"standard\",\"data\":{\"secret\":\"" SECRET_A
	            "\",\"key\":\"k\"}}}",
	            "authorization.data.key: unknown field");
	refused_msg("{\"retryPolicy\":{\"schedule\":[1],\"deadlineSeconds\":9,\"x\":1}}",
	            "unknown field");
	json_decref(build_ok("{\"rateLimit\":{\"perSecond\":5}}"));
	json_decref(build_ok("{\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k\","
	                     "\"prefix\":\"Bearer\"}}}"));
	/* action and events: together they must agree, else one would be dropped */
	refused_msg("{\"action\":\"job.changed\",\"events\":[\"job.published\"]}",
	            "action and events disagree");
	refused_msg("{\"events\":[\"job.published\",\"application.moved\"]}",
	            "action and events disagree");
	json_t *cfg = build_ok("{\"action\":\"job.published\",\"events\":[\"job.published\","
	                       "\"job.changed\"]}");
	assert_int_equal(json_array_size(json_object_get(cfg, "events")), 2);
	json_decref(cfg);
	/* url is an alias: both at once is a contradiction */
	refused_msg("{\"url\":\"https://other.example.com\"}", "not both");
	/* NUL: refused here too, not cut short (the API refuses it in every body) */
	refused_msg("{\"unit\":\"SP\\u0000RJ\"}", "unit: must not contain a NUL");
	refused_msg("{\"techOwnerName\":\"a\\u0000\"}", "techOwnerName: must not contain a NUL");
	refused_msg("{\"events\":[\"job.published\\u0000x\"],\"action\":null}", "events:");
	refused_msg("{\"authorization\":{\"kind\":\"basic\",\"data\":{\"username\":\"u\","
	            "\"password\":\"p\\u0000\\r\\nX-Evil: 1\"}}}",
	            "authorization.data.password");
	/* previousSecrets is gancho's */
	refused_msg("{\"previousSecrets\":[]}", "cannot be set");
}

/* orderingKey: a well-formed path, and it means FIFO per key value
 * (issue 11, item 15). */
static void test_ordering_key(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "\"data..x\"",   "\"\"",           "\".data.x\"", "\"data.x.\"",  "\"data.\"",
	    "\"payload.x\"", "\"data.a\\tb\"", "7",           "[\"data.x\"]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char extra[128];
		snprintf(extra, sizeof(extra), "{\"orderingKey\":%s}", bad[i]);
		refused_msg(extra, "orderingKey");
	}
	char extra[256], path[140];
	memset(path, 'k', sizeof(path));
	memcpy(path, "data.", 5);
	path[129] = '\0'; /* 129 bytes: one too many */
	snprintf(extra, sizeof(extra), "{\"orderingKey\":\"%s\"}", path);
	refused_msg(extra, "orderingKey");
	path[128] = '\0';
	snprintf(extra, sizeof(extra), "{\"orderingKey\":\"%s\"}", path);
	json_decref(build_ok(extra));

	/* With ordering "unordered" it contradicts itself. */
	refused_msg("{\"orderingKey\":\"data.application.id\",\"ordering\":\"unordered\"}",
	            "cannot go with ordering \"unordered\"");
	/* Without ordering, the key makes the webhook FIFO per key value. */
	struct webhook *w = compile_extra("{\"orderingKey\":\"data.application.id\"}");
	assert_true(w->fifo);
	assert_string_equal(w->ordering_key, "data.application.id");
	webhook_unref(w);
	w = compile_extra("{\"orderingKey\":\"unit\",\"ordering\":\"fifo\"}");
	assert_true(w->fifo);
	webhook_unref(w);
	w = compile_extra("{}");
	assert_false(w->fifo);
	webhook_unref(w);

	/* PATCH: ordering "unordered" onto a keyed webhook is refused too. */
	struct gerr err = {0};
	json_t *cfg = build_ok("{\"orderingKey\":\"data.application.id\"}"), *out;
	assert_int_equal(build("{\"ordering\":\"unordered\"}", cfg, 0, &out, &err), GERR_INVALID);
	assert_int_equal(
	    build("{\"ordering\":\"unordered\",\"orderingKey\":null}", cfg, 0, &out, &err), 0);
	assert_null(json_object_get(out, "orderingKey"));
	json_decref(out);
	json_decref(cfg);
}

/* The lane of a delivery: none when unordered; one per webhook, or per key
 * value ("" for events without it); a route's target orders per entity and
 * gives a receipt without an entity no lane at all. */
static void test_lane_key(void **state)
{
	(void)state;
	struct webhook *w = compile_extra("{}");
	assert_null(webhook_lane_key(w, "k"));
	webhook_unref(w);
	w = compile_extra("{\"ordering\":\"fifo\"}");
	assert_string_equal(webhook_lane_key(w, "k"), "");
	assert_string_equal(webhook_lane_key(w, NULL), "");
	webhook_unref(w);
	w = compile_extra("{\"orderingKey\":\"data.application.id\"}");
	assert_string_equal(webhook_lane_key(w, "88"), "88");
	assert_string_equal(webhook_lane_key(w, ""), "");
	assert_string_equal(webhook_lane_key(w, NULL), "");
	webhook_unref(w);
	json_t *cfg = build_ok("{\"ordering\":\"fifo\"}");
	json_object_set_new(cfg, "routeId", json_string("rt-1"));
	w = compile_at(cfg, 0);
	json_decref(cfg);
	assert_string_equal(w->ordering_key, "entity");
	assert_string_equal(webhook_lane_key(w, "88"), "88");
	assert_null(webhook_lane_key(w, ""));
	assert_null(webhook_lane_key(w, NULL));
	webhook_unref(w);
	assert_null(webhook_lane_key(NULL, "88"));
}

static void test_long_basic_credentials_compile(void **state)
{
	(void)state;
	char *u = malloc(4097), *extra = malloc(9000);
	memset(u, 'a', 4096);
	u[4096] = '\0';
	snprintf(extra, 9000,
	         "{\"authorization\":{\"kind\":\"basic\",\"data\":{\"username\":\"%s\","
	         "\"password\":\"%s\"}}}",
	         u, u);
	struct webhook *w = compile_extra(extra);
	assert_int_equal(w->auth_kind, AUTH_BASIC);
	assert_true(strncmp(w->auth_header, "Authorization: basic YWFh", 25) == 0);
	assert_int_equal(strlen(w->auth_header), 21 + BASE64_ENCODED_LEN(8193) - 1);
	webhook_unref(w);
	free(u);
	free(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gupy_body),
	    cmocka_unit_test(test_lane_key),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_authorization_validation),
	    cmocka_unit_test(test_policy_and_limits),
	    cmocka_unit_test(test_client_headers),
	    cmocka_unit_test(test_compiled_auth),
	    cmocka_unit_test(test_patch),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_to_json),
	    cmocka_unit_test(test_wants),
	    cmocka_unit_test(test_event_names),
	    cmocka_unit_test(test_apikey_prefix_injection),
	    cmocka_unit_test(test_long_basic_credentials_compile),
	    cmocka_unit_test(test_rotation_each_secret_keeps_its_day),
	    cmocka_unit_test(test_unknown_and_contradictory_fields),
	    cmocka_unit_test(test_ordering_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
