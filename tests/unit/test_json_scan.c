/*
 * test_json_scan: the strict validator accepts RFC 8259 JSON and nothing
 * else (each rejection rule has a case), reports exact member spans of a
 * Gupy-style body with non-ASCII text, bounds nesting, refuses duplicate
 * top-level keys, and json_string_decode turns escapes into UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_scan.h"

static int validate(const char *s)
{
	return json_validate(s, strlen(s), NULL);
}

/* A candidate.hired body as Gupy sends it, pretty-printed, UTF-8 included. */
#define GUPY_ID    "\"24e99765-0c97-4d5d-a5b4-3f9a6b0a2f11\""
#define GUPY_EVENT "\"candidate.hired\""
#define GUPY_DATA                                                                                  \
	"{\n"                                                                                      \
	"    \"job\": {\"id\": 123, \"name\": \"Analista de Contratação\",\n"                    \
	"             \"departmentName\": \"Gente & Gestão\",\n"                                  \
	"             \"address\": {\"street\": \"Av. Paulista\",\n"                               \
	"                         \"number\": \"595 - 10º andar\",\n"                             \
	"                         \"city\": \"São Paulo\"}},\n"                                   \
	"    \"application\": {\"id\": 456, \"score\": 87.5e-1, \"tags\": [],\n"                   \
	"                    \"hiringDate\": null, \"remote\": false,\n"                           \
	"                    \"currentStep\": {\"name\": \"Contratação\"}},\n"                   \
	"    \"candidate\": {\"name\": \"José \\\"Zé\\\" da Silva\\u00e9\",\n"                   \
	"                  \"email\": \"jose@example.com\", \"ok\": true}\n"                       \
	"  }"
static const char gupy_body[] = "{\n  \"companyName\": \"Gupy\",\n  \"id\": " GUPY_ID ",\n"
                                "  \"event\"  :  " GUPY_EVENT ",\n  \"data\": " GUPY_DATA ",\n"
                                "  \"n\": -0.5E+3\n}\n";

static void test_gupy_spans(void **state)
{
	(void)state;
	struct json_member m[8];
	int count = -1;
	struct gerr err = {0};
	size_t n = strlen(gupy_body);

	assert_int_equal(json_scan_object(gupy_body, n, m, 8, &count, &err), 0);
	assert_int_equal(count, 5);

	static const struct {
		const char *key, *val;
		enum json_type type;
	} want[] = {
	    {"companyName", "\"Gupy\"", JSON_T_STRING},
	    {"id", GUPY_ID, JSON_T_STRING},
	    {"event", GUPY_EVENT, JSON_T_STRING},
	    {"data", GUPY_DATA, JSON_T_OBJECT},
	    {"n", "-0.5E+3", JSON_T_NUMBER},
	};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(m[i].keylen, strlen(want[i].key));
		assert_memory_equal(m[i].key, want[i].key, m[i].keylen);
		assert_int_equal(m[i].vallen, strlen(want[i].val));
		assert_memory_equal(m[i].val, want[i].val, m[i].vallen);
		assert_int_equal(m[i].type, want[i].type);
		/* Spans point into the input, not at copies. */
		assert_true(m[i].val >= gupy_body && m[i].val + m[i].vallen <= gupy_body + n);
	}
	const struct json_member *d = json_member_find(m, count, "data");
	assert_non_null(d);
	assert_ptr_equal(d, &m[3]);
	assert_non_null(strstr(GUPY_DATA, "595 - 10º andar"));
	assert_null(json_member_find(m, count, "dat"));
	assert_null(json_member_find(m, count, "datas"));
	assert_int_equal(json_validate(d->val, d->vallen, NULL), 0);
	assert_int_equal(json_validate(gupy_body, n, NULL), 0);
}

static void test_member_types(void **state)
{
	(void)state;
	const char *s =
	    "{\"o\":{},\"a\":[1],\"s\":\"x\",\"n\":0,\"t\":true,\"f\":false,\"z\":null}";
	struct json_member m[7];
	int count;
	static const enum json_type want[] = {JSON_T_OBJECT, JSON_T_ARRAY, JSON_T_STRING,
	                                      JSON_T_NUMBER, JSON_T_TRUE,  JSON_T_FALSE,
	                                      JSON_T_NULL};

	assert_int_equal(json_scan_object(s, strlen(s), m, 7, &count, NULL), 0);
	assert_int_equal(count, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(m[i].type, want[i]);
	assert_int_equal(m[6].vallen, 4);

	assert_int_equal(json_scan_object(" {} ", 4, m, 7, &count, NULL), 0);
	assert_int_equal(count, 0);
	assert_int_equal(json_scan_object("{}", 2, NULL, 0, &count, NULL), 0);
}

static void test_accepts(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    "0",
	    "-0",
	    "1",
	    "-12",
	    "1.5",
	    "0.25",
	    "1e5",
	    "1E+5",
	    "1e-05",
	    "-0.0e0",
	    "123456789012345678901234567890",
	    "true",
	    "false",
	    "null",
	    "\"\"",
	    "\"abc\"",
	    " \t\r\n[ ] ",
	    "{}",
	    "[1,2,3]",
	    "{\"a\":{\"b\":[true,false,null,{\"c\":\"d\"}]}}",
	    "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
	    "\"\\u0041\\u00e9\\u20AC\\uFFFF\"",
	    "\"\\ud83d\\ude00\"",                       /* surrogate pair */
	    "\"\\uDBFF\\uDFFF\"",                       /* U+10FFFF */
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", /* é € 😀 */
	    "\"\xf4\x8f\xbf\xbf\"",                     /* U+10FFFF */
	    "\"\xed\x9f\xbf\xee\x80\x80\"",             /* U+D7FF, U+E000 around the surrogates */
	    "\"\x7f\"",                                 /* DEL is not a control char per RFC 8259 */
	    "{\"a\":1,\"b\":2}",
	    "{\"x\":{\"a\":1,\"a\":2}}", /* duplicates below the top level are the data's business
	                                  */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct gerr err = {0};
		int rc = json_validate(ok[i], strlen(ok[i]), &err);
		if (rc)
			fail_msg("rejected %s: %s", ok[i], err.msg);
	}
}

static void test_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		const char *why;
	} bad[] = {
	    {"", "end of input"},
	    {"   ", "end of input"},
	    {"[1,2,]", "unexpected character"},
	    {"{\"a\":1,}", "expected string key"},
	    {"[,]", "unexpected character"},
	    {"{,}", "expected string key"},
	    {"[1 2]", "expected ',' or ']'"},
	    {"{\"a\" 1}", "expected ':'"},
	    {"{\"a\":}", "unexpected character"},
	    {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
	    {"{a:1}", "expected string key"},
	    {"{'a':1}", "expected string key"},
	    {"['a']", "unexpected character"},
	    {"[1] // c", "unexpected data"},
	    {"/* c */ [1]", "unexpected character"},
	    {"[1,/* c */2]", "unexpected character"},
	    {"NaN", "unexpected character"},
	    {"Infinity", "unexpected character"},
	    {"-Infinity", "expected digit"},
	    {"[nan]", "unexpected character"},
	    {"01", "leading zeros"},
	    {"-01", "leading zeros"},
	    {"[00]", "leading zeros"},
	    {"1.", "decimal point"},
	    {"1.e5", "decimal point"},
	    {".5", "unexpected character"},
	    {"1e", "exponent"},
	    {"1e+", "exponent"},
	    {"+1", "unexpected character"},
	    {"-", "expected digit"},
	    {"0x10", "unexpected data"},
	    {"tru", "unexpected character"},
	    {"True", "unexpected character"},
	    {"nul", "unexpected character"},
	    {"truex", "unexpected data"},
	    {"\"\\x\"", "invalid escape"},
	    {"\"\\'\"", "invalid escape"},
	    {"\"\\", "unterminated"},
	    {"\"abc", "unterminated"},
	    {"\"\\u12G4\"", "\\u escape"},
	    {"\"\\u12\"", "\\u escape"},
	    {"\"\\u", "\\u escape"},
	    {"\"\\ud83d\"", "high surrogate"},
	    {"\"\\ud83dx\"", "high surrogate"},
	    {"\"\\ud83d\\u0041\"", "high surrogate"},
	    {"\"\\ud83d\\ud83d\"", "high surrogate"},
	    {"\"\\ude00\"", "low surrogate"},
	    {"\"\\ude00\\ud83d\"", "low surrogate"},
	    {"\"\xc0\xaf\"", "UTF-8"},         /* overlong '/' */
	    {"\"\xc1\xbf\"", "UTF-8"},         /* overlong */
	    {"\"\xe0\x80\xaf\"", "UTF-8"},     /* overlong, 3 bytes */
	    {"\"\xf0\x80\x80\xaf\"", "UTF-8"}, /* overlong, 4 bytes */
	    {"\"\xed\xa0\x80\"", "UTF-8"},     /* U+D800 encoded */
	    {"\"\xed\xbf\xbf\"", "UTF-8"},     /* U+DFFF encoded */
	    {"\"\xf4\x90\x80\x80\"", "UTF-8"}, /* U+110000 */
	    {"\"\xf5\x80\x80\x80\"", "UTF-8"},
	    {"\"\xff\"", "UTF-8"},
	    {"\"\x80\"", "UTF-8"}, /* lone continuation */
	    {"\"\xc3\"", "UTF-8"}, /* truncated */
	    {"\"\xc3(\"", "UTF-8"},
	    {"\"\xe2\x82\"", "UTF-8"},
	    {"\"\xe2\x82(\"", "UTF-8"},
	    {"\"\xf0\x9f\x98(\"", "UTF-8"},
	    {"\"a\x01z\"", "control character"},
	    {"\"a\nb\"", "control character"},
	    {"\"a\tb\"", "control character"},
	    {"\"\x1f\"", "control character"},
	    {"{} x", "unexpected data"},
	    {"{}{}", "unexpected data"},
	    {"[1]]", "unexpected data"},
	    {"[1", "end of input"},
	    {"{\"a\":1", "end of input"},
	    {"{\"a\"", "expected ':'"},
	    {"\xef\xbb\xbf{}", "unexpected character"}, /* a BOM is not JSON */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gerr err = {0};
		int rc = json_validate(bad[i].s, strlen(bad[i].s), &err);
		if (rc != GERR_INVALID)
			fail_msg("accepted #%zu %s", i, bad[i].s);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_json");
		assert_non_null(strstr(err.msg, "invalid JSON at byte "));
		if (!strstr(err.msg, bad[i].why))
			fail_msg("#%zu %s: message \"%s\" lacks \"%s\"", i, bad[i].s, err.msg,
			         bad[i].why);
	}
}

static void test_error_offset(void **state)
{
	(void)state;
	struct gerr err = {0};
	const char *s = "{\"a\": [1, 2,]}";
	assert_int_equal(json_validate(s, strlen(s), &err), GERR_INVALID);
	assert_string_equal(err.msg, "invalid JSON at byte 12: unexpected character");

	s = "{\"a\": \"x\xc0\xaf\"}";
	assert_int_equal(json_validate(s, strlen(s), &err), GERR_INVALID);
	assert_string_equal(err.msg, "invalid JSON at byte 8: invalid UTF-8 in string");

	/* A NUL byte inside the given length is data, and not JSON. */
	assert_int_equal(json_validate("[1]\0", 4, &err), GERR_INVALID);
	assert_int_equal(json_validate("\"a\0\"", 4, &err), GERR_INVALID);
	/* The length bounds the scan: what lies after it is never read. */
	assert_int_equal(json_validate("[1]xyz", 3, NULL), 0);
	assert_int_equal(json_validate("\"abc\"", 4, NULL), GERR_INVALID);
	assert_int_equal(json_validate("12", 1, NULL), 0);
}

static void test_pre_employee_snippet(void **state)
{
	(void)state;
	const char *s = "{ \"a\": 1, user: { id: 1, }, }";
	struct json_member m[8];
	int count;
	struct gerr err = {0};

	assert_int_equal(json_scan_object(s, strlen(s), m, 8, &count, &err), GERR_INVALID);
	assert_string_equal(err.code, "invalid_json");
	assert_string_equal(err.msg, "invalid JSON at byte 10: expected string key");
	assert_int_equal(json_validate(s, strlen(s), NULL), GERR_INVALID);

	/* Each fault alone is still fatal. */
	const char *s2 = "{ \"a\": 1, \"user\": { \"id\": 1, } }";
	assert_int_equal(json_scan_object(s2, strlen(s2), m, 8, &count, NULL), GERR_INVALID);
	const char *s3 = "{ \"a\": 1, \"user\": { \"id\": 1 }, }";
	assert_int_equal(json_scan_object(s3, strlen(s3), m, 8, &count, NULL), GERR_INVALID);
	const char *s4 = "{ \"a\": 1, \"user\": { \"id\": 1 } }";
	assert_int_equal(json_scan_object(s4, strlen(s4), m, 8, &count, NULL), 0);
	assert_int_equal(count, 2);
}

static char *nested(int depth, char open, char close, const char *pre, const char *post)
{
	size_t pl = strlen(pre), ql = strlen(post);
	char *s = malloc(pl + ql + 2 * (size_t)depth + 1);
	memcpy(s, pre, pl);
	memset(s + pl, open, (size_t)depth);
	memset(s + pl + depth, close, (size_t)depth);
	memcpy(s + pl + 2 * (size_t)depth, post, ql + 1);
	return s;
}

static void test_depth(void **state)
{
	(void)state;
	struct gerr err = {0};
	struct json_member m[2];
	int count;
	char *s;

	s = nested(JSON_SCAN_MAX_DEPTH, '[', ']', "", "");
	assert_int_equal(validate(s), 0);
	free(s);
	s = nested(JSON_SCAN_MAX_DEPTH + 1, '[', ']', "", "");
	assert_int_equal(json_validate(s, strlen(s), &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	assert_non_null(strstr(err.msg, "byte 128:"));
	free(s);

	/* The top-level object counts as one level. */
	s = nested(JSON_SCAN_MAX_DEPTH - 1, '[', ']', "{\"a\":", "}");
	assert_int_equal(json_scan_object(s, strlen(s), m, 2, &count, NULL), 0);
	assert_int_equal(validate(s), 0);
	free(s);
	s = nested(JSON_SCAN_MAX_DEPTH, '[', ']', "{\"a\":", "}");
	assert_int_equal(json_scan_object(s, strlen(s), m, 2, &count, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	assert_int_equal(validate(s), GERR_INVALID);
	free(s);

	/* Objects nest the same way; a huge depth fails fast, not by stack. */
	char *o = malloc(6 * 100000 + 1);
	for (int i = 0; i < 100000; i++)
		memcpy(o + 6 * i, "{\"a\":[", 6);
	o[6 * 100000] = '\0';
	assert_int_equal(validate(o), GERR_INVALID);
	free(o);

	/* Siblings do not add depth. */
	assert_int_equal(validate("[[[]],[[]],{\"a\":[{}]},[]]"), 0);
}

static void test_scan_object_rules(void **state)
{
	(void)state;
	struct json_member m[3];
	int count;
	struct gerr err = {0};
	const char *s;

	s = "{\"a\":1,\"b\":2,\"a\":3}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, &err), GERR_INVALID);
	assert_string_equal(err.msg, "invalid JSON at byte 13: duplicate key");

	/* Raw bytes are compared: an escaped spelling is a different key. */
	s = "{\"a\":1,\"\\u0061\":2}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, NULL), 0);
	assert_int_equal(count, 2);
	assert_int_equal(m[1].keylen, 6);

	s = "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "too many members"));
	assert_int_equal(json_scan_object(s, strlen(s) - 6, m, 3, &count, &err), GERR_INVALID);

	static const char *const not_objects[] = {"[1]", "\"x\"", "1", "null", "", " ", "{", "{}}"};
	for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
		s = not_objects[i];
		if (json_scan_object(s, strlen(s), m, 3, &count, NULL) != GERR_INVALID)
			fail_msg("accepted %s", s);
	}
	s = "[1]";
	assert_int_equal(json_scan_object(s, 3, m, 3, &count, &err), GERR_INVALID);
	assert_string_equal(err.msg, "invalid JSON at byte 0: expected a JSON object");

	/* Values are validated as strictly as everywhere else. */
	s = "{\"a\":[1,]}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, NULL), GERR_INVALID);
	s = "{\"a\":\"\xed\xa0\x80\"}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, NULL), GERR_INVALID);
	s = "{\"\xc0\xaf\":1}";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, NULL), GERR_INVALID);
	s = "{\"a\":1} x";
	assert_int_equal(json_scan_object(s, strlen(s), m, 3, &count, NULL), GERR_INVALID);
}

static void test_string_decode(void **state)
{
	(void)state;
	char out[64];
	const char *s;

	s = "\"a\\nb\\t\\\"q\\\"\\\\\\/\\b\\f\\r\"";
	assert_int_equal(json_string_decode(s, strlen(s), out, sizeof(out)), 12);
	assert_string_equal(out, "a\nb\t\"q\"\\/\b\f\r");

	s = "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\uDBFF\\uDFFF\"";
	assert_int_equal(json_string_decode(s, strlen(s), out, sizeof(out)), 1 + 2 + 3 + 4 + 4);
	assert_string_equal(out, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");

	s = "\"Contratação 595 - 10º andar\"";
	int n = json_string_decode(s, strlen(s), out, sizeof(out));
	assert_int_equal(n, (int)strlen(s) - 2);
	assert_memory_equal(out, s + 1, (size_t)n);

	assert_int_equal(json_string_decode("\"\"", 2, out, sizeof(out)), 0);
	assert_string_equal(out, "");

	/* Exactly fits (3 bytes + NUL), then one byte short. */
	assert_int_equal(json_string_decode("\"abc\"", 5, out, 4), 3);
	assert_int_equal(json_string_decode("\"abc\"", 5, out, 3), -1);
	assert_int_equal(json_string_decode("\"\\u00e9\"", 8, out, 3), 2);
	assert_int_equal(json_string_decode("\"\\u00e9\"", 8, out, 2), -1);
	assert_int_equal(json_string_decode("\"\\n\"", 4, out, 1), -1);
	assert_int_equal(json_string_decode("\"\"", 2, out, 0), -1);

	/* NUL cannot live in a C string. */
	assert_int_equal(json_string_decode("\"a\\u0000b\"", 10, out, sizeof(out)), -1);
	/* Malformed input is refused rather than half-decoded. */
	assert_int_equal(json_string_decode("abc", 3, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"", 1, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"\\x\"", 4, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"\\u12\"", 6, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"\\ud83d\"", 8, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"\\ude00\"", 8, out, sizeof(out)), -1);
	assert_int_equal(json_string_decode("\"\\\"", 3, out, sizeof(out)), -1);

	/* Round trip through a scanned member. */
	s = "{\"name\": \"Jos\\u00e9 \\\"Z\\u00e9\\\"\"}";
	struct json_member m[1];
	int count;
	assert_int_equal(json_scan_object(s, strlen(s), m, 1, &count, NULL), 0);
	assert_int_equal(json_string_decode(m[0].val, m[0].vallen, out, sizeof(out)), 11);
	assert_string_equal(out, "José \"Zé\"");
}

struct seen {
	int n;
	char keys[8][16];
	char vals[8][32];
};

static void collect(void *ctx, const struct json_member *m)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)m->keylen, m->key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)m->vallen, m->val);
	}
	s->n++;
}

/* json_validate_each judges every document as json_validate does (same
 * result, same reason and offset), and hands over a top-level object's
 * members in order, repeated keys included. */
static void test_validate_each(void **state)
{
	(void)state;
	static const char *const docs[] = {
	    "{}",
	    " { } ",
	    "[1,{\"a\":2}]",
	    "7",
	    "\"s\"",
	    "{\"a\":1,\"b\":[2,{\"c\":3}]}",
	    "{\"a\":1,\"a\":2}",
	    "{\"a\":1,}",
	    "{\"a\" 1}",
	    "{\"a\":1} x",
	    "{\"a\":[1,}",
	    "{\"a\":tru}",
	    "{\"a\":1",
	    "{1:2}",
	    "",
	    "{\"k\\u0041\":\"v\"}",
	    "{\"a\":{\"b\":{\"c\":[[[[1]]]]}}}",
	    "{\"a\":\"\\x\"}",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct gerr e1 = {0}, e2 = {0};
		struct seen s = {0};
		int r1 = json_validate(docs[i], strlen(docs[i]), &e1);
		int r2 = json_validate_each(docs[i], strlen(docs[i]), collect, &s, &e2);
		if (r1 != r2 || strcmp(e1.msg, e2.msg) != 0)
			fail_msg("%s: validate %d \"%s\", each %d \"%s\"", docs[i], r1, e1.msg, r2,
			         e2.msg);
	}
	struct seen s = {0};
	const char *d = " {\"a\": 1, \"b\" : [2, {\"a\": 3}], \"a\":\"x\", \"k\\u0041\":{}} ";
	assert_int_equal(json_validate_each(d, strlen(d), collect, &s, NULL), 0);
	assert_int_equal(s.n, 4); /* the nested "a" is not a top-level member */
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.vals[0], "1");
	assert_string_equal(s.keys[1], "b");
	assert_string_equal(s.vals[1], "[2, {\"a\": 3}]");
	assert_string_equal(s.keys[2], "a");
	assert_string_equal(s.vals[2], "\"x\"");
	assert_string_equal(s.keys[3], "k\\u0041"); /* raw, as between the quotes */
	assert_string_equal(s.vals[3], "{}");
	/* an array at the top is validated, and has no members to hand over */
	s.n = 0;
	assert_int_equal(json_validate_each("[{\"a\":1}]", 9, collect, &s, NULL), 0);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gupy_spans),    cmocka_unit_test(test_member_types),
	    cmocka_unit_test(test_accepts),       cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_error_offset),  cmocka_unit_test(test_pre_employee_snippet),
	    cmocka_unit_test(test_depth),         cmocka_unit_test(test_scan_object_rules),
	    cmocka_unit_test(test_string_decode), cmocka_unit_test(test_validate_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
