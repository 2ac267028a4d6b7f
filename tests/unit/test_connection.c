/*
 * test_connection: a connection's body → stored config → answer, and the
 * authorization its targets carry (core/connection.h). The defaults per
 * kind; every field with a good value, missing, of the wrong type, out of
 * range, with a NUL or a line break; unknown, read-only and contradictory
 * fields; the PATCH merge (one credential replaces the other, null puts the
 * base URL back to its default, the kind stays); answers and refusals that
 * never show a credential; and connection_authorization, which
 * core/webhook.c takes as it is and turns into the exact header line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/connection.h"
#include "core/webhook.h"

#define TOKEN "tk_live_0123456789abcdef"
#define AUTH  "Basic dXNlcjpwYXNzd29yZA=="

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

/* build_onto: connection_config_build of text onto existing (stored config
 * text or NULL), production rules (https, public addresses only). */
static json_t *build_onto(const char *text, const char *existing)
{
	json_t *in = parse(text), *ex = existing ? parse(existing) : NULL, *out = NULL;
	struct gerr err = {0};
	if (connection_config_build(in, ex, false, false, &out, &err))
		fail_msg("refused %s: %s", text, err.msg);
	json_decref(in);
	json_decref(ex);
	return out;
}

static json_t *build(const char *text)
{
	return build_onto(text, NULL);
}

/* refused: text (onto existing) is refused with 400 and code; the message
 * starts with field ("<field>: ...") and never holds secret. */
static void refused_dev(const char *text, const char *existing, bool dev, const char *code,
                        const char *field, const char *secret)
{
	json_t *in = parse(text), *ex = existing ? parse(existing) : NULL, *out = NULL;
	struct gerr err = {0};
	int rc = connection_config_build(in, ex, dev, dev, &out, &err);
	if (rc == 0)
		fail_msg("accepted %s", text);
	assert_int_equal(rc, GERR_INVALID);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, code);
	if (*field &&
	    (strncmp(err.msg, field, strlen(field)) != 0 || err.msg[strlen(field)] != ':'))
		fail_msg("%s: message \"%s\" does not name %s", text, err.msg, field);
	if (secret)
		assert_null(strstr(err.msg, secret));
	assert_null(out);
	json_decref(in);
	json_decref(ex);
}

static void refused(const char *text, const char *existing, const char *code, const char *field)
{
	refused_dev(text, existing, false, code, field, NULL);
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* answer: connection_to_json of cfg, as text; checked to hold no secret. */
static json_t *answer(const json_t *cfg)
{
	json_t *a = connection_to_json(cfg, "c-1", 1000, 2000);
	assert_non_null(a);
	char *text = json_dumps(a, 0);
	const char *secret = str(cfg, "token") ? str(cfg, "token") : str(cfg, "authorization");
	assert_non_null(secret);
	if (strstr(text, secret))
		fail_msg("the answer shows the credential: %s", text);
	free(text);
	return a;
}

static void test_defaults_and_answer(void **state)
{
	(void)state;
	json_t *cfg = build("{\"name\":\"Gupy\",\"kind\":\"gupy\",\"token\":\"" TOKEN "\"}");
	/* stored: the given fields and the kind's base URL */
	assert_int_equal(json_object_size(cfg), 4);
	assert_string_equal(str(cfg, "baseUrl"), "https://api.gupy.io");
	assert_string_equal(str(cfg, "token"), TOKEN);
	json_t *a = answer(cfg);
	assert_int_equal(json_object_size(a), 7);
	assert_string_equal(str(a, "id"), "c-1");
	assert_string_equal(str(a, "name"), "Gupy");
	assert_string_equal(str(a, "kind"), "gupy");
	assert_string_equal(str(a, "baseUrl"), "https://api.gupy.io");
	assert_string_equal(str(a, "createdAt"), "1970-01-01T00:00:01.000Z");
	assert_string_equal(str(a, "updatedAt"), "1970-01-01T00:00:02.000Z");
	json_t *c = json_object_get(a, "credential");
	assert_int_equal(json_object_size(c), 2);
	assert_string_equal(str(c, "kind"), "token");
	assert_string_equal(str(c, "hint"), "\xe2\x80\xa6"
	                                    "cdef");
	json_decref(a);
	json_decref(cfg);

	cfg = build("{\"name\":\"HW\",\"kind\":\"hellowork\",\"authorization\":\"" AUTH "\"}");
	assert_string_equal(str(cfg, "baseUrl"), "https://ats-partner.hellowork.com");
	a = answer(cfg);
	c = json_object_get(a, "credential");
	assert_string_equal(str(c, "kind"), "authorization");
	assert_string_equal(str(c, "hint"), "\xe2\x80\xa6"
	                                    "ZA==");
	json_decref(a);
	json_decref(cfg);

	/* shorter than 12: no hint at all (4 of 11 would be too much of it) */
	cfg = build("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"abcdefghijk\"}");
	a = answer(cfg);
	assert_true(json_is_null(json_object_get(json_object_get(a, "credential"), "hint")));
	json_decref(a);
	json_decref(cfg);
	cfg = build("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"abcdefghijkl\"}");
	a = answer(cfg);
	assert_string_equal(str(json_object_get(a, "credential"), "hint"), "\xe2\x80\xa6"
	                                                                   "ijkl");
	json_decref(a);
	json_decref(cfg);

	/* a base URL given: kept, trailing slashes removed; a path is fine */
	cfg = build("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\","
	            "\"baseUrl\":\"https://gupy.example.com/proxy//\"}");
	assert_string_equal(str(cfg, "baseUrl"), "https://gupy.example.com/proxy");
	json_decref(cfg);
	/* the id is the API's business */
	cfg = build("{\"id\":\"x\",\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\"}");
	assert_null(json_object_get(cfg, "id"));
	json_decref(cfg);
	assert_null(connection_default_url("lever"));
	assert_null(connection_default_url(NULL));
}

static void test_refusals(void **state)
{
	(void)state;
	refused("[]", NULL, "invalid_json", "");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"tokn\":\"t\"}", NULL,
	        "invalid_field", "tokn");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"credential\":{}}", NULL,
	        "invalid_field", "credential");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"createdAt\":\"x\"}", NULL,
	        "invalid_field", "createdAt");
	refused("{\"kind\":\"gupy\",\"token\":\"t\"}", NULL, "missing_field", "name");
	refused("{\"name\":null,\"kind\":\"gupy\",\"token\":\"t\"}", NULL, "missing_field", "name");
	refused("{\"name\":\"\",\"kind\":\"gupy\",\"token\":\"t\"}", NULL, "invalid_field", "name");
	refused("{\"name\":7,\"kind\":\"gupy\",\"token\":\"t\"}", NULL, "invalid_field", "name");
	refused("{\"name\":\"a\\u0000b\",\"kind\":\"gupy\",\"token\":\"t\"}", NULL, "invalid_field",
	        "name");
	char big[400] = "{\"kind\":\"gupy\",\"token\":\"t\",\"name\":\"";
	for (int i = 0; i < 201; i++)
		strcat(big, "n");
	strcat(big, "\"}");
	refused(big, NULL, "invalid_field", "name");
	refused("{\"name\":\"G\",\"token\":\"t\"}", NULL, "missing_field", "kind");
	refused("{\"name\":\"G\",\"kind\":\"lever\",\"token\":\"t\"}", NULL, "invalid_field",
	        "kind");
	refused("{\"name\":\"G\",\"kind\":\"gupy\\u0000x\",\"token\":\"t\"}", NULL, "invalid_field",
	        "kind");
	refused("{\"name\":\"G\",\"kind\":1,\"token\":\"t\"}", NULL, "invalid_field", "kind");
	/* credentials: exactly one */
	refused("{\"name\":\"G\",\"kind\":\"gupy\"}", NULL, "missing_field",
	        "token or authorization");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":null}", NULL, "missing_field",
	        "token or authorization");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"a\",\"authorization\":\"b\"}", NULL,
	        "invalid_field", "token");
	/* credential values, never quoted back */
	const char *bad_tokens[] = {
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":5}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"sec ret\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"secret\\r\\nX-Evil: 1\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"secret\\u0000x\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"secret\\u00e9\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"secret\\u007f\"}",
	};
	for (size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++)
		refused_dev(bad_tokens[i], NULL, false, "invalid_field", "token", "secret");
	const char *bad_auth[] = {
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":\" secret\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":\"Basic secret \"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":\"Basic secret\\nX: y\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":\"Basic secret\\u0000\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":\"Basic\\tsecret\"}",
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"authorization\":{\"kind\":\"secret\"}}",
	};
	for (size_t i = 0; i < sizeof(bad_auth) / sizeof(bad_auth[0]); i++)
		refused_dev(bad_auth[i], NULL, false, "invalid_field", "authorization", "secret");
	/* the bound: 4096 bytes pass, 4097 do not */
	char *longtok = malloc(4200);
	for (int n = 4096; n <= 4097; n++) {
		int k = snprintf(longtok, 4200, "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"");
		memset(longtok + k, 'a', (size_t)n);
		strcpy(longtok + k + n, "\"}");
		if (n == 4096)
			json_decref(build(longtok));
		else
			refused(longtok, NULL, "invalid_field", "token");
	}
	free(longtok);
	/* baseUrl: as webhook URLs are judged (https, public), no query */
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":\"http://gupy.io\"}",
	        NULL, "invalid_field", "baseUrl");
	refused(
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":\"https://127.0.0.1\"}",
	    NULL, "invalid_field", "baseUrl");
	refused(
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":\"https://localhost\"}",
	    NULL, "invalid_field", "baseUrl");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\","
	        "\"baseUrl\":\"https://u:p@gupy.io\"}",
	        NULL, "invalid_field", "baseUrl");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\","
	        "\"baseUrl\":\"https://gupy.io/?a=1\"}",
	        NULL, "invalid_field", "baseUrl");
	refused(
	    "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":\"https://gupy.io#x\"}",
	    NULL, "invalid_field", "baseUrl");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":\"gupy.io\"}", NULL,
	        "invalid_field", "baseUrl");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\",\"baseUrl\":3}", NULL,
	        "invalid_field", "baseUrl");
	refused("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\","
	        "\"baseUrl\":\"https://gupy.io\\u0000.evil\"}",
	        NULL, "invalid_field", "baseUrl");
	/* development: http and private addresses, as for webhooks */
	json_t *in = parse("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"t\","
	                   "\"baseUrl\":\"http://127.0.0.1:8081/\"}"),
	       *out = NULL;
	struct gerr err = {0};
	assert_int_equal(connection_config_build(in, NULL, true, true, &out, &err), 0);
	assert_string_equal(str(out, "baseUrl"), "http://127.0.0.1:8081");
	json_decref(out);
	json_decref(in);
}

static void test_patch(void **state)
{
	(void)state;
	json_t *stored = build("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"" TOKEN "\","
	                       "\"baseUrl\":\"https://gupy.example.com\"}");
	char *text = json_dumps(stored, JSON_COMPACT);
	/* a name alone: the rest is kept */
	json_t *cfg = build_onto("{\"name\":\"Gupy BR\"}", text);
	assert_string_equal(str(cfg, "name"), "Gupy BR");
	assert_string_equal(str(cfg, "token"), TOKEN);
	assert_string_equal(str(cfg, "baseUrl"), "https://gupy.example.com");
	assert_true(connection_same_credentials(cfg, stored));
	json_decref(cfg);
	/* one credential replaces the other */
	cfg = build_onto("{\"authorization\":\"" AUTH "\"}", text);
	assert_null(json_object_get(cfg, "token"));
	assert_string_equal(str(cfg, "authorization"), AUTH);
	assert_false(connection_same_credentials(cfg, stored));
	json_decref(cfg);
	cfg = build_onto("{\"token\":\"other-token\"}", text);
	assert_string_equal(str(cfg, "token"), "other-token");
	assert_false(connection_same_credentials(cfg, stored));
	json_decref(cfg);
	/* a null credential with the other one given is that one; alone, nothing is left */
	cfg = build_onto("{\"token\":null,\"authorization\":\"" AUTH "\"}", text);
	assert_string_equal(str(cfg, "authorization"), AUTH);
	json_decref(cfg);
	refused("{\"token\":null}", text, "missing_field", "token or authorization");
	refused("{\"token\":\"a\",\"authorization\":\"b\"}", text, "invalid_field", "token");
	/* null puts the base URL back to the kind's default */
	cfg = build_onto("{\"baseUrl\":null}", text);
	assert_string_equal(str(cfg, "baseUrl"), "https://api.gupy.io");
	json_decref(cfg);
	/* the kind may be repeated, not changed */
	cfg = build_onto("{\"kind\":\"gupy\"}", text);
	json_decref(cfg);
	refused("{\"kind\":\"hellowork\"}", text, "invalid_field", "kind");
	refused("{\"kind\":null}", text, "missing_field", "kind");
	refused("{\"name\":null}", text, "missing_field", "name");
	refused("{\"bogus\":1}", text, "invalid_field", "bogus");
	/* a refusal leaves the stored config as it was */
	assert_string_equal(str(stored, "token"), TOKEN);
	free(text);
	json_decref(stored);
}

/* target_header: the Authorization line a target with auth sends, as
 * core/webhook.c validates and compiles it. */
static char *target_header(json_t *auth)
{
	json_t *body = json_pack("{s:s,s:[s],s:o}", "url", "https://api.gupy.io", "events", "x",
	                         "authorization", auth);
	json_t *cfg = NULL;
	struct gerr err = {0};
	if (webhook_config_build(body, NULL, false, false, 0, &cfg, &err))
		fail_msg("webhook refused the authorization: %s", err.msg);
	struct webhook *w = NULL;
	if (webhook_compile(cfg, 1, "t-1", 1, 0, 0, &w, &err))
		fail_msg("compile: %s", err.msg);
	assert_int_equal(w->auth_kind, AUTH_APIKEY);
	char *line = strdup(w->auth_header);
	webhook_unref(w);
	json_decref(cfg);
	json_decref(body);
	return line;
}

static void test_authorization(void **state)
{
	(void)state;
	json_t *cfg = build("{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"" TOKEN "\"}");
	json_t *a = connection_authorization(cfg);
	char *text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"data\":{\"key\":\"" TOKEN
	                          "\",\"prefix\":\"Bearer\"},\"kind\":\"apiKey\"}");
	free(text);
	char *line = target_header(a);
	assert_string_equal(line, "Authorization: Bearer " TOKEN);
	free(line);
	json_decref(cfg);

	cfg = build("{\"name\":\"H\",\"kind\":\"hellowork\",\"authorization\":\"" AUTH "\"}");
	a = connection_authorization(cfg);
	text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"data\":{\"key\":\"" AUTH "\"},\"kind\":\"apiKey\"}");
	free(text);
	line = target_header(a);
	assert_string_equal(line, "Authorization: " AUTH);
	free(line);
	json_decref(cfg);

	/* the longest credential still makes a valid target */
	char *longtok = malloc(4200);
	int k = snprintf(longtok, 4200, "{\"name\":\"G\",\"kind\":\"gupy\",\"token\":\"");
	memset(longtok + k, 'z', 4096);
	strcpy(longtok + k + 4096, "\"}");
	cfg = build(longtok);
	line = target_header(connection_authorization(cfg));
	assert_int_equal(strlen(line), strlen("Authorization: Bearer ") + 4096);
	free(line);
	free(longtok);
	json_decref(cfg);

	json_t *none = parse("{\"name\":\"G\",\"kind\":\"gupy\"}");
	assert_null(connection_authorization(none));
	assert_false(connection_same_credentials(none, none));
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_answer),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_patch),
	    cmocka_unit_test(test_authorization),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
