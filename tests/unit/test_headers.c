/*
 * test_headers: clientHeaders that are safe to copy into a request pass;
 * header injection (CR, LF, NUL), bad names, framing and hop-by-hop names,
 * non-string values, oversized values and too many headers are refused
 * with a message naming the header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/headers.h"

/* check parses JSON text and validates it; msg gets the error message. */
static int check(const char *text, char *msg, size_t msgsz)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	struct gerr err = {0};
	int rc = headers_validate(v, &err);
	if (rc) {
		assert_int_equal(rc, GERR_INVALID);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_field");
	}
	if (msg)
		snprintf(msg, msgsz, "%s", rc ? err.msg : "");
	json_decref(v);
	return rc;
}

static void test_accepts(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    "{}",
	    "{\"X-Api-Key\": \"abc\"}",
	    /* Gupy: clientHeaders replace the default Content-Type */
	    "{\"Content-Type\": \"application/json;charset=utf-8\", \"Accept\": \"*/*\"}",
	    "{\"X-Authorization\": \"v\", \"X-Webhook-Id\": \"w\", \"Signature\": \"s\"}",
	    "{\"x-weird!#$%&'*+-.^_`|~123\": \"v\"}",
	    "{\"X-Empty\": \"\"}",
	    "{\"X-Tab\": \"a\\tb\"}",
	    "{\"X-Utf8\": \"Contratação\"}",
	    "{\"Hostname\": \"x\", \"X-Host\": \"y\", \"Tee\": \"z\", \"Proxy\": \"p\", "
	    "\"Expected\": \"e\"}",
	    "{\"X-Forwarded-For\": \"1.2.3.4\"}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char msg[256];
		if (check(ok[i], msg, sizeof(msg)) != 0)
			fail_msg("refused %s: %s", ok[i], msg);
	}
}

static void test_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *json, *msg;
	} bad[] = {
	    {"{\"X-Foo\": \"a\\r\\nX-Evil: 1\"}", "clientHeaders: X-Foo: value contains CR or LF"},
	    {"{\"X-Foo\": \"a\\nb\"}", "clientHeaders: X-Foo: value contains CR or LF"},
	    {"{\"X-Foo\": \"a\\rb\"}", "clientHeaders: X-Foo: value contains CR or LF"},
	    {"{\"X-Foo\": \"a\\u0000b\"}", "clientHeaders: X-Foo: value contains NUL"},
	    {"{\"X-Foo\": \"a\\u0001b\"}",
	     "clientHeaders: X-Foo: value contains control characters"},
	    {"{\"X-Foo\": \"a\\u007fb\"}",
	     "clientHeaders: X-Foo: value contains control characters"},
	    {"{\"X-Foo\": 1}", "clientHeaders: X-Foo: value must be a string"},
	    {"{\"X-Foo\": null}", "clientHeaders: X-Foo: value must be a string"},
	    {"{\"X-Foo\": [\"a\"]}", "clientHeaders: X-Foo: value must be a string"},
	    {"{\"X-Foo\": true}", "clientHeaders: X-Foo: value must be a string"},
	    {"{\"Host\": \"evil.example\"}", "clientHeaders: Host: header is set by gancho"},
	    {"{\"host\": \"x\"}", "clientHeaders: host: header is set by gancho"},
	    {"{\"HOST\": \"x\"}", "clientHeaders: HOST: header is set by gancho"},
	    {"{\"Content-Length\": \"0\"}", "clientHeaders: Content-Length: header is set"},
	    {"{\"transfer-encoding\": \"chunked\"}",
	     "clientHeaders: transfer-encoding: header is set"},
	    {"{\"Connection\": \"close\"}", "clientHeaders: Connection: header is set"},
	    {"{\"Upgrade\": \"h2c\"}", "clientHeaders: Upgrade: header is set"},
	    {"{\"TE\": \"trailers\"}", "clientHeaders: TE: header is set"},
	    {"{\"te\": \"trailers\"}", "clientHeaders: te: header is set"},
	    {"{\"Trailer\": \"X\"}", "clientHeaders: Trailer: header is set"},
	    {"{\"Keep-Alive\": \"timeout=5\"}", "clientHeaders: Keep-Alive: header is set"},
	    {"{\"Expect\": \"100-continue\"}", "clientHeaders: Expect: header is set"},
	    {"{\"Proxy-Authorization\": \"Basic x\"}",
	     "clientHeaders: Proxy-Authorization: header is set"},
	    {"{\"proxy-connection\": \"keep-alive\"}",
	     "clientHeaders: proxy-connection: header is set"},
	    /* headers gancho writes itself, in any case */
	    {"{\"Authorization\": \"Bearer x\"}", "clientHeaders: Authorization: header is set"},
	    {"{\"authorization\": \"Bearer x\"}", "clientHeaders: authorization: header is set"},
	    {"{\"User-Agent\": \"x\"}", "clientHeaders: User-Agent: header is set"},
	    {"{\"ACESSO-SIGNATURE\": \"x\"}", "clientHeaders: ACESSO-SIGNATURE: header is set"},
	    {"{\"Webhook-Id\": \"x\"}", "clientHeaders: Webhook-Id: header is set"},
	    {"{\"webhook-timestamp\": \"1\"}", "clientHeaders: webhook-timestamp: header is set"},
	    {"{\"webhook-signature\": \"v1,x\"}",
	     "clientHeaders: webhook-signature: header is set"},
	    {"{\"Content-Encoding\": \"gzip\"}", "clientHeaders: Content-Encoding: header is set"},
	    {"{\"HTTP2-Settings\": \"x\"}", "clientHeaders: HTTP2-Settings: header is set"},
	    /* one name twice, by case: it would be sent twice */
	    {"{\"X-Key\": \"a\", \"x-key\": \"b\"}", "clientHeaders: x-key: given twice"},
	    {"{\"\": \"x\"}", "clientHeaders: : invalid header name"},
	    {"{\"X Foo\": \"x\"}", "clientHeaders: X Foo: invalid header name"},
	    {"{\"X-Foo:\": \"x\"}", "clientHeaders: X-Foo:: invalid header name"},
	    {"{\"X-Foo\\r\\nX-Evil\": \"x\"}", "invalid header name"},
	    {"{\"X-(Foo)\": \"x\"}", "invalid header name"},
	    {"{\"X-Foo\\\"\": \"x\"}", "invalid header name"},
	    {"{\"X/Foo\": \"x\"}", "invalid header name"},
	    {"{\"X-Fóo\": \"x\"}", "invalid header name"},
	    {"{\"X\\tFoo\": \"x\"}", "invalid header name"},
	    {"[]", "clientHeaders: must be an object"},
	    {"\"X-Foo: a\"", "clientHeaders: must be an object"},
	    {"null", "clientHeaders: must be an object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256];
		if (check(bad[i].json, msg, sizeof(msg)) != GERR_INVALID)
			fail_msg("accepted %s", bad[i].json);
		if (!strstr(msg, bad[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].json, msg, bad[i].msg);
	}
	struct gerr err = {0};
	assert_int_equal(headers_validate(NULL, &err), GERR_INVALID);
	assert_string_equal(err.msg, "clientHeaders: must be an object of strings");
}

static void test_limits(void **state)
{
	(void)state;
	struct gerr err = {0};
	json_t *o = json_object();
	char name[32];

	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		json_object_set_new(o, name, json_string("v"));
	}
	assert_int_equal(headers_validate(o, &err), 0);
	json_object_set_new(o, "X-H64", json_string("v"));
	assert_int_equal(headers_validate(o, &err), GERR_INVALID);
	assert_string_equal(err.msg, "clientHeaders: at most 64 headers");
	json_decref(o);

	char *big = malloc(8193);
	memset(big, 'a', 8192);
	big[8192] = '\0';
	o = json_object();
	json_object_set_new(o, "X-Big", json_stringn(big, 8192));
	assert_int_equal(headers_validate(o, &err), 0);
	json_object_set_new(o, "X-Big", json_stringn(big, 8193 - 1));
	assert_int_equal(headers_validate(o, &err), 0);
	big = realloc(big, 8194);
	memset(big, 'a', 8193);
	big[8193] = '\0';
	json_object_set_new(o, "X-Big", json_string(big));
	assert_int_equal(headers_validate(o, &err), GERR_INVALID);
	assert_string_equal(err.msg, "clientHeaders: X-Big: value is longer than 8192 bytes");
	json_decref(o);
	free(big);

	/* A very long bad name is cut in the message, which still fits. */
	char longname[600];
	memset(longname, 'x', sizeof(longname) - 2);
	longname[sizeof(longname) - 2] = ' ';
	longname[sizeof(longname) - 1] = '\0';
	o = json_object();
	json_object_set_new(o, longname, json_string("v"));
	assert_int_equal(headers_validate(o, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, ": invalid header name"));
	json_decref(o);
}

/* An empty value must reach the receiver: libcurl drops "Name:" with nothing
 * after it, so such a header is written "Name;" (issue 11, item 17). */
static void test_line(void **state)
{
	(void)state;
	static const struct {
		const char *name, *value, *line;
	} cases[] = {
	    {"X-Api-Key", "abc", "X-Api-Key: abc"}, {"X-Empty", "", "X-Empty;"},
	    {"X-Blank", "  \t ", "X-Blank;"},       {"X-Inner", " a b ", "X-Inner:  a b "},
	    {"Content-Type", "", "Content-Type;"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line = headers_line(cases[i].name, cases[i].value, strlen(cases[i].value));
		assert_non_null(line);
		assert_string_equal(line, cases[i].line);
		free(line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
