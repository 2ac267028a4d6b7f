/*
 * test_filter: dotted paths (object keys, array indexes, digit keys on
 * objects), filter validation, matching with each operator, numeric
 * equality and order across integer and real, $regex, $and/$or/$not, the
 * bounds of a filter, and the ordering-key strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/filter.h"
#include "core/jsonpath.h"

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

static const char doc_text[] =
    "{\"event\": \"application.moved\", \"unit\": \"SP\","
    " \"data\": {\"application\": {\"id\": 42, \"score\": 7.5, \"tags\": [\"a\", \"b\", {\"c\": "
    "1}],"
    "                             \"currentStep\": {\"name\": \"Entrevista\"}, \"hired\": false,"
    "                             \"note\": null},"
    "          \"byYear\": {\"2019\": \"x\", \"07\": \"y\"},"
    "          \"matrix\": [[1, 2], [3, 4]],"
    "          \"job\": {\"name\": \"Contratação\", \"big\": 9007199254740993, \"neg\": -3}}}";

/* get: the raw text at path in text, or NULL (a static buffer). */
static const char *get(const char *text, const char *path)
{
	static char out[512];
	const char *v;
	size_t n;
	if (!jsonpath_get(text, text ? strlen(text) : 0, path, &v, &n))
		return NULL;
	assert_true(n < sizeof(out));
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

static void test_get(void **state)
{
	(void)state;
	const char *doc = doc_text;

	assert_string_equal(get(doc, "event"), "\"application.moved\"");
	assert_string_equal(get(doc, "data.application.id"), "42");
	assert_string_equal(get(doc, "data.application.currentStep.name"), "\"Entrevista\"");
	assert_string_equal(get(doc, "data.application.tags.0"), "\"a\"");
	assert_string_equal(get(doc, "data.application.tags.1"), "\"b\"");
	assert_string_equal(get(doc, "data.application.tags.2.c"), "1");
	assert_string_equal(get(doc, "data.matrix.1.0"), "3");
	assert_string_equal(get(doc, "data.application.note"), "null");
	assert_string_equal(get(doc, "data.matrix"), "[[1, 2], [3, 4]]");
	/* Digit segments are keys on objects. */
	assert_string_equal(get(doc, "data.byYear.2019"), "\"x\"");
	assert_string_equal(get(doc, "data.byYear.07"), "\"y\"");
	assert_null(get(doc, "data.byYear.7"));

	assert_null(get(doc, "data.application.tags.3"));
	assert_null(get(doc, "data.application.tags.-1"));
	assert_null(get(doc, "data.application.tags.x"));
	assert_null(get(doc, "data.application.tags.99999999999999999999"));
	assert_null(get(doc, "data.application.id.x"));
	assert_null(get(doc, "event.0"));
	assert_null(get(doc, "missing"));
	assert_null(get(doc, "data.missing.deeper"));
	assert_null(get(doc, ""));
	assert_null(get(doc, "data."));
	assert_null(get(doc, ".data"));
	assert_null(get(doc, "data..application"));
	assert_null(get(NULL, "data"));
	assert_null(get(doc, NULL));

	assert_string_equal(get("[10, [20, 30]]", "1.1"), "30");
	assert_null(get("[10, [20, 30]]", "2"));
	assert_null(get("[]", "0"));
	assert_null(get("{}", "a"));
	/* Keys are compared decoded; a repeated key: the last one counts. */
	assert_string_equal(get("{\"a\\u00e7\\\"b\": 1}", "aç\"b"), "1");
	assert_string_equal(get("{\"\\ud83d\\ude00\": true}", "\xf0\x9f\x98\x80"), "true");
	assert_string_equal(get("{\"k\": 1, \"k\": {\"x\": [\"}\", 2]}}", "k.x.1"), "2");
	assert_string_equal(get(" { \"a\" : { \"b\" : \"]\\\"{\" , \"c\" : -1.5e3 } } ", "a.c"),
	                    "-1.5e3");
}

static int validate(const char *text, char *msg, size_t msgsz)
{
	json_t *f = load(text);
	struct gerr err = {0};
	int rc = filter_validate(f, &err);
	if (rc) {
		assert_int_equal(rc, GERR_INVALID);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_field");
		assert_memory_equal(err.msg, "filter: ", 8);
	}
	snprintf(msg, msgsz, "%s", rc ? err.msg : "");
	json_decref(f);
	return rc;
}

static void test_validate(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    "{}",
	    "{\"event\": \"candidate.hired\"}",
	    "{\"data.application.id\": 42, \"data.x\": 1.5, \"data.y\": true, \"data.z\": null}",
	    "{\"data.application.currentStep.name\": \"Entrevista\", \"unit\": {\"$in\": "
	    "[\"SP\",\"RJ\"]}}",
	    "{\"unit\": {\"$in\": []}}",
	    "{\"unit\": {\"$in\": [1, \"a\", null, false, 2.5]}}",
	    "{\"unit\": {\"$ne\": \"SP\"}}",
	    "{\"unit\": {\"$ne\": null}}",
	    "{\"unit\": {\"$exists\": true}, \"data.tags.0\": {\"$exists\": false}}",
	};
	static const struct {
		const char *f, *msg;
	} bad[] = {
	    {"[]", "filter: must be an object"},
	    {"\"event\"", "filter: must be an object"},
	    {"null", "filter: must be an object"},
	    {"{\"\": 1}", "key must be a dotted path"},
	    {"{\".a\": 1}", "filter: .a: key must be a dotted path"},
	    {"{\"a.\": 1}", "key must be a dotted path"},
	    {"{\"a..b\": 1}", "key must be a dotted path"},
	    {"{\"a\": [1]}", "filter: a: value must be a scalar"},
	    {"{\"a\": {}}", "value must be a scalar"},
	    {"{\"a\": {\"$in\": [1], \"$ne\": 2}}", "value must be a scalar"},
	    {"{\"a\": {\"b\": 1}}", "filter: a: unknown operator"},
	    {"{\"a\": {\"$eqq\": 1}}", "unknown operator"},
	    {"{\"a\": {\"$in\": 1}}", "filter: a: $in needs an array of scalars"},
	    {"{\"a\": {\"$in\": [[1]]}}", "$in needs an array of scalars"},
	    {"{\"a\": {\"$in\": [{\"x\": 1}]}}", "$in needs an array of scalars"},
	    {"{\"a\": {\"$ne\": [1]}}", "filter: a: $ne needs a scalar"},
	    {"{\"a\": {\"$ne\": {}}}", "$ne needs a scalar"},
	    {"{\"a\": {\"$exists\": 1}}", "filter: a: $exists needs true or false"},
	    {"{\"a\": {\"$exists\": \"true\"}}", "$exists needs true or false"},
	    {"{\"a\": {\"$exists\": null}}", "$exists needs true or false"},
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (validate(ok[i], msg, sizeof(msg)) != 0)
			fail_msg("refused %s: %s", ok[i], msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (validate(bad[i].f, msg, sizeof(msg)) != GERR_INVALID)
			fail_msg("accepted %s", bad[i].f);
		if (!strstr(msg, bad[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].f, msg, bad[i].msg);
	}
	struct gerr err = {0};
	assert_int_equal(filter_validate(NULL, &err), GERR_INVALID);
}

static bool match(const char *ftext, const char *doc)
{
	json_t *f = load(ftext);
	struct gerr err = {0};
	struct filter *c = filter_compile(f, &err);
	if (!c)
		fail_msg("refused %s: %s", ftext, err.msg);
	bool r = filter_eval(c, doc, strlen(doc));
	filter_free(c);
	json_decref(f);
	return r;
}

static void test_match(void **state)
{
	(void)state;
	const char *doc = doc_text;

	assert_true(match("{}", doc));
	assert_true(match("{\"event\": \"application.moved\"}", doc));
	assert_false(match("{\"event\": \"candidate.hired\"}", doc));
	assert_true(match("{\"data.application.currentStep.name\": \"Entrevista\","
	                  " \"unit\": {\"$in\": [\"SP\", \"RJ\"]}}",
	                  doc));
	assert_false(match("{\"data.application.currentStep.name\": \"Entrevista\","
	                   " \"unit\": {\"$in\": [\"RJ\", \"MG\"]}}",
	                   doc));
	assert_false(match("{\"unit\": {\"$in\": []}}", doc));
	assert_true(match("{\"data.application.tags.1\": \"b\"}", doc));
	assert_true(match("{\"data.byYear.2019\": \"x\"}", doc));
	assert_true(match("{\"data.job.name\": \"Contratação\"}", doc));
	assert_false(match("{\"data.job.name\": \"Contratacao\"}", doc));
	assert_true(match("{\"data.application.hired\": false}", doc));
	assert_false(match("{\"data.application.hired\": null}", doc));
	assert_true(match("{\"data.application.note\": null}", doc));
	assert_false(match("{\"data.missing\": null}", doc)); /* absent is not null */
	/* A scalar never equals a container. */
	assert_false(match("{\"data.application\": \"x\"}", doc));

	/* Types matter, number representation does not. */
	assert_false(match("{\"data.application.id\": \"42\"}", doc));
	assert_true(match("{\"data.application.id\": 42}", doc));
	assert_true(match("{\"data.application.id\": 42.0}", doc));
	assert_true(match("{\"data.application.id\": 4.2e1}", doc));
	assert_false(match("{\"data.application.id\": 42.5}", doc));
	assert_true(match("{\"data.application.score\": 7.5}", doc));
	assert_true(match("{\"data.application.score\": 75e-1}", doc));
	assert_true(match("{\"data.application.id\": {\"$in\": [1, 42.0]}}", doc));
	assert_false(match("{\"data.application.id\": {\"$ne\": 42.0}}", doc));
	assert_true(match("{\"data.job.neg\": -3.0}", doc));
	/* 2^53+1 is not the double 2^53: no rounding in the comparison. */
	assert_true(match("{\"data.job.big\": 9007199254740993}", doc));
	assert_false(match("{\"data.job.big\": 9007199254740992.0}", doc));
	assert_false(match("{\"data.job.big\": 1e300}", doc));

	/* $ne: a missing value is "not equal". */
	assert_true(match("{\"unit\": {\"$ne\": \"RJ\"}}", doc));
	assert_false(match("{\"unit\": {\"$ne\": \"SP\"}}", doc));
	assert_true(match("{\"data.missing\": {\"$ne\": \"SP\"}}", doc));
	assert_true(match("{\"data.application.note\": {\"$ne\": \"x\"}}", doc));
	assert_false(match("{\"data.application.note\": {\"$ne\": null}}", doc));

	/* $exists: null is present; array indexes count too. */
	assert_true(match("{\"unit\": {\"$exists\": true}}", doc));
	assert_false(match("{\"unit\": {\"$exists\": false}}", doc));
	assert_true(match("{\"data.nope\": {\"$exists\": false}}", doc));
	assert_false(match("{\"data.nope\": {\"$exists\": true}}", doc));
	assert_true(match("{\"data.application.note\": {\"$exists\": true}}", doc));
	assert_true(match("{\"data.application.tags.2\": {\"$exists\": true}}", doc));
	assert_true(match("{\"data.application.tags.3\": {\"$exists\": false}}", doc));

	/* AND of clauses. */
	assert_true(match("{\"event\": \"application.moved\", \"unit\": \"SP\","
	                  " \"data.application.id\": {\"$in\": [41, 42]}}",
	                  doc));
	assert_false(match("{\"event\": \"application.moved\", \"unit\": \"SP\","
	                   " \"data.application.id\": {\"$in\": [41, 43]}}",
	                   doc));

	/* No filter matches everything. */
	assert_true(filter_eval(NULL, doc, strlen(doc)));
}

/* Numbers no C type holds are matched by value, never refused or rounded
 * into a false match. */
static void test_match_big_numbers(void **state)
{
	(void)state;
	const char *doc = "{\"data\": {\"inf\": 1e400, \"big\": 99999999999999999999,"
	                  " \"tiny\": 1e-400, \"exp\": 1e99999999999999999999999, \"z\": -0.0e9,"
	                  " \"s\": \"caf\\u00e9\", \"nul\": \"a\\u0000b\"}}";
	assert_true(match("{\"data.inf\": {\"$exists\": true}}", doc));
	assert_false(match("{\"data.inf\": 1e308}", doc));
	assert_false(match("{\"data.inf\": 1}", doc));
	assert_true(match("{\"data.inf\": {\"$ne\": 0}}", doc));
	assert_false(match("{\"data.big\": 9223372036854775807}", doc));
	assert_false(match("{\"data.big\": -1}", doc));
	/* the nearest double of 99999999999999999999 is 1e20 */
	assert_true(match("{\"data.big\": 1e20}", doc));
	assert_false(match("{\"data.tiny\": 0}", doc));
	assert_true(match("{\"data.tiny\": 0.0}", doc)); /* rounds to 0.0 */
	assert_false(match("{\"data.exp\": 1}", doc));
	assert_true(match("{\"data.z\": 0}", doc));
	assert_true(match("{\"data.s\": \"café\"}", doc));
	assert_false(match("{\"data.s\": \"caf\"}", doc));
	assert_true(match("{\"data.nul\": {\"$ne\": \"a\"}}", doc));
	/* Integers compare digit by digit, whatever the spelling. */
	const char *ints = "{\"a\": 12e1, \"b\": 1200.00e-1, \"c\": -9223372036854775808,"
	                   " \"d\": 1.5, \"e\": 0.000}";
	assert_true(match("{\"a\": 120}", ints));
	assert_true(match("{\"b\": 120}", ints));
	assert_false(match("{\"b\": 12}", ints));
	assert_false(match("{\"a\": 1200}", ints));
	assert_true(match("{\"c\": -9223372036854775808}", ints));
	assert_false(match("{\"c\": 9223372036854775807}", ints));
	assert_false(match("{\"d\": 1}", ints));
	assert_true(match("{\"d\": 1.5}", ints));
	assert_true(match("{\"e\": 0}", ints));
	assert_true(match("{\"e\": -0.0}", ints));
}

/* compile_msg: filter text refused with a message holding want. */
static void refused(const char *ftext, const char *want)
{
	char msg[256];
	if (validate(ftext, msg, sizeof(msg)) != GERR_INVALID)
		fail_msg("accepted %s", ftext);
	if (!strstr(msg, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", ftext, msg, want);
}

static const char ops_doc[] =
    "{\"event\": \"a.b\", \"unit\": \"SP\", \"data\": {\"n\": 70, \"r\": 7.5, \"s\": \"apto\","
    " \"u\": \"Contrata\\u00e7\\u00e3o\", \"t\": true, \"z\": null, \"arr\": [1, 2],"
    " \"o\": {\"k\": 1}, \"huge\": 1e400, \"neghuge\": -1e400, \"big\": 99999999999999999999,"
    " \"b53\": 9007199254740993, \"e\": 12e1, \"nul\": \"a\\u0000b\"}}";

static void test_ops_compare(void **state)
{
	(void)state;
	const char *d = ops_doc;
	/* $eq is plain equality; $neq is $ne; $exist is $exists. */
	assert_true(match("{\"data.n\": {\"$eq\": 70}}", d));
	assert_true(match("{\"data.n\": {\"$eq\": 70.0}}", d));
	assert_false(match("{\"data.n\": {\"$eq\": \"70\"}}", d));
	assert_false(match("{\"data.none\": {\"$eq\": null}}", d));
	assert_true(match("{\"data.n\": {\"$neq\": 71}}", d));
	assert_false(match("{\"data.n\": {\"$neq\": 70}}", d));
	assert_true(match("{\"data.none\": {\"$neq\": 70}}", d));
	assert_true(match("{\"data.z\": {\"$exist\": true}}", d));
	assert_true(match("{\"data.none\": {\"$exist\": false}}", d));

	/* $gt $gte $lt $lte on numbers. */
	assert_true(match("{\"data.n\": {\"$gte\": 70}}", d));
	assert_false(match("{\"data.n\": {\"$gt\": 70}}", d));
	assert_true(match("{\"data.n\": {\"$gt\": 69.99}}", d));
	assert_true(match("{\"data.n\": {\"$lte\": 70.0}}", d));
	assert_false(match("{\"data.n\": {\"$lt\": 70}}", d));
	assert_true(match("{\"data.n\": {\"$lt\": 70.5}}", d));
	assert_true(match("{\"data.r\": {\"$gt\": 7}}", d));
	assert_true(match("{\"data.r\": {\"$lt\": 8}}", d));
	assert_false(match("{\"data.r\": {\"$gt\": 7.5}}", d));
	assert_true(match("{\"data.r\": {\"$gte\": 7.5}}", d));
	assert_true(match("{\"data.e\": {\"$gte\": 120}}", d));
	assert_false(match("{\"data.e\": {\"$gt\": 120}}", d));
	assert_true(match("{\"data.n\": {\"$gt\": -5}}", d));
	/* absent paths and other types never match */
	assert_false(match("{\"data.none\": {\"$gt\": 0}}", d));
	assert_false(match("{\"data.none\": {\"$lt\": 0}}", d));
	assert_false(match("{\"data.s\": {\"$gt\": 0}}", d));
	assert_false(match("{\"data.n\": {\"$gt\": \"0\"}}", d));
	assert_false(match("{\"data.t\": {\"$gte\": 0}}", d));
	assert_false(match("{\"data.z\": {\"$lte\": 0}}", d));
	assert_false(match("{\"data.arr\": {\"$gt\": 0}}", d));
	assert_false(match("{\"data.o\": {\"$lt\": \"z\"}}", d));

	/* Strings by bytes, which is code point order. */
	assert_true(match("{\"data.s\": {\"$gt\": \"apt\"}}", d));
	assert_true(match("{\"data.s\": {\"$lt\": \"aptp\"}}", d));
	assert_true(match("{\"data.s\": {\"$gte\": \"apto\"}}", d));
	assert_false(match("{\"data.s\": {\"$gt\": \"apto\"}}", d));
	assert_true(match("{\"data.s\": {\"$lt\": \"b\"}}", d));
	assert_false(match("{\"data.s\": {\"$lt\": \"Z\"}}", d));
	assert_true(match("{\"data.u\": {\"$gt\": \"Contratacao\"}}", d)); /* ç > c */
	assert_true(match("{\"data.u\": {\"$lte\": \"Contratação\"}}", d));
	assert_false(match("{\"data.u\": {\"$lt\": \"Contratação\"}}", d));
	assert_true(match("{\"data.nul\": {\"$gt\": \"a\"}}", d));
	assert_true(match("{\"data.nul\": {\"$lt\": \"a\\u0001\"}}", d));
}

/* Numbers no C type holds order exactly: never rounded into a false answer. */
static void test_ops_big_numbers(void **state)
{
	(void)state;
	const char *d = ops_doc;
	assert_true(match("{\"data.huge\": {\"$gt\": 9223372036854775807}}", d));
	assert_true(match("{\"data.huge\": {\"$gt\": 1.7976931348623157e308}}", d));
	assert_false(match("{\"data.huge\": {\"$lt\": 0}}", d));
	assert_true(match("{\"data.neghuge\": {\"$lt\": -9223372036854775807}}", d));
	assert_true(match("{\"data.neghuge\": {\"$lte\": -1e308}}", d));
	/* 20-digit integer against int64 bounds: exact */
	assert_true(match("{\"data.big\": {\"$gt\": 9223372036854775807}}", d));
	assert_false(match("{\"data.big\": {\"$lt\": 9223372036854775807}}", d));
	/* 2^53+1 against 2^53: an integer compares exactly, digit by digit */
	assert_true(match("{\"data.b53\": {\"$gt\": 9007199254740992}}", d));
	assert_false(match("{\"data.b53\": {\"$gt\": 9007199254740993}}", d));
	assert_true(match("{\"data.b53\": {\"$gte\": 9007199254740993}}", d));
	assert_true(match("{\"data.b53\": {\"$lt\": 9007199254740994}}", d));
	/* ...and against a real, the int64 exactly against the double */
	assert_true(match("{\"data.b53\": {\"$gt\": 9007199254740992.0}}", d));
	const char *ints = "{\"a\": 12e1, \"b\": 1200.00e-1, \"c\": -9223372036854775808,"
	                   " \"d\": 1.5, \"e\": 0.000, \"f\": 0.5, \"g\": -0.5, \"h\": 1e-400,"
	                   " \"i\": 123456789012345678901234567890}";
	assert_true(match("{\"b\": {\"$lte\": 120}}", ints));
	assert_true(match("{\"b\": {\"$gte\": 120}}", ints));
	assert_true(match("{\"b\": {\"$gt\": 119}}", ints));
	assert_true(match("{\"c\": {\"$lt\": -9223372036854775807}}", ints));
	assert_true(match("{\"c\": {\"$gte\": -9223372036854775808}}", ints));
	assert_true(match("{\"d\": {\"$gt\": 1}}", ints));
	assert_true(match("{\"d\": {\"$lt\": 2}}", ints));
	assert_true(match("{\"e\": {\"$gte\": 0}}", ints));
	assert_false(match("{\"e\": {\"$gt\": 0}}", ints));
	assert_true(match("{\"f\": {\"$gt\": 0}}", ints));
	assert_true(match("{\"f\": {\"$lt\": 1}}", ints));
	assert_true(match("{\"g\": {\"$lt\": 0}}", ints));
	assert_true(match("{\"g\": {\"$gt\": -1}}", ints));
	assert_true(match("{\"h\": {\"$gt\": 0}}", ints)); /* exact, not rounded to 0 */
	assert_true(match("{\"h\": {\"$lt\": 1}}", ints));
	assert_true(match("{\"i\": {\"$gt\": 9223372036854775807}}", ints));
	assert_true(match("{\"i\": {\"$lt\": 1e30}}", ints));
	assert_true(match("{\"i\": {\"$gt\": 1e29}}", ints));
}

static void test_ops_sets_regex(void **state)
{
	(void)state;
	const char *d = ops_doc;
	/* $nin: absent matches, as $ne */
	assert_true(match("{\"unit\": {\"$nin\": [\"RJ\", \"MG\"]}}", d));
	assert_false(match("{\"unit\": {\"$nin\": [\"RJ\", \"SP\"]}}", d));
	assert_true(match("{\"data.none\": {\"$nin\": [\"SP\"]}}", d));
	assert_true(match("{\"unit\": {\"$nin\": []}}", d));
	assert_false(match("{\"data.n\": {\"$nin\": [70.0]}}", d));

	/* $regex: strings only, decoded; absent and other types never match */
	assert_true(match("{\"data.s\": {\"$regex\": \"^apto$\"}}", d));
	assert_true(match("{\"data.s\": {\"$regex\": \"pt\"}}", d));
	assert_false(match("{\"data.s\": {\"$regex\": \"^pt\"}}", d));
	assert_true(match("{\"data.u\": {\"$regex\": \"ção$\"}}", d));
	assert_true(match("{\"event\": {\"$regex\": \"^a\\\\.(b|c)$\"}}", d));
	assert_false(match("{\"data.n\": {\"$regex\": \"70\"}}", d));
	assert_false(match("{\"data.none\": {\"$regex\": \"\"}}", d));
	assert_false(match("{\"data.o\": {\"$regex\": \"k\"}}", d));
	assert_false(match("{\"data.nul\": {\"$regex\": \"a\"}}", d)); /* NUL: never */

	/* A value longer than the bound never matches; one at it does. */
	size_t n = FILTER_REGEX_SUBJECT_MAX;
	char *big = malloc(n + 32);
	assert_non_null(big);
	memcpy(big, "{\"s\": \"", 7);
	memset(big + 7, 'x', n);
	memcpy(big + 7 + n, "\"}", 3);
	assert_true(match("{\"s\": {\"$regex\": \"^x+$\"}}", big));
	memset(big + 7, 'x', n + 1);
	memcpy(big + 8 + n, "\"}", 3);
	assert_false(match("{\"s\": {\"$regex\": \"^x+$\"}}", big));
	assert_true(match("{\"s\": {\"$not\": {\"$regex\": \"^x+$\"}}}", big));
	free(big);

	refused("{\"a\": {\"$regex\": 1}}", "filter: a: $regex needs a string");
	refused("{\"a\": {\"$regex\": \"(a\"}}", "filter: a: $regex: ");
	refused("{\"a\": {\"$regex\": \"a{2,1}\"}}", "filter: a: $regex: ");
	refused("{\"a\": {\"$regex\": \"(a)\\\\1\"}}", "back-references");
	refused("{\"a\": {\"$regex\": \"a\\u0000\"}}", "holds a NUL");
	char pat[400];
	int pn = snprintf(pat, sizeof(pat), "{\"a\": {\"$regex\": \"%0257d\"}}", 0);
	assert_true(pn > 0);
	refused(pat, "longer than 256 bytes");
	snprintf(pat, sizeof(pat), "{\"a\": {\"$regex\": \"%0256d\"}}", 0);
	assert_false(match(pat, d));
	/* repetition bounds multiply: nested ones would make regcomp blow up */
	refused("{\"a\": {\"$regex\": \"(((a{255}){255}){255})\"}}", "multiply to more than 1000");
	refused("{\"a\": {\"$regex\": \"a{1001}\"}}", "multiply to more than 1000");
	refused("{\"a\": {\"$regex\": \"a{2,99999999999999999999999}\"}}", "more than 1000");
	refused("{\"a\": {\"$regex\": \"(a{10}){10}b{11}\"}}", "more than 1000");
	assert_true(match("{\"data.s\": {\"$regex\": \"^(a{0,10}p{1,10}){1,10}to$\"}}", d));
	assert_true(match("{\"data.s\": {\"$regex\": \"^a[{]?p\\\\{?t[[:alpha:]{9999}]$\"}}", d));
	assert_false(match("{\"data.s\": {\"$regex\": \"a{1000}\"}}", d));
	/* an escaped backslash before a digit is no back-reference */
	assert_false(match("{\"data.s\": {\"$regex\": \"\\\\\\\\1\"}}", d));

	refused("{\"a\": {\"$nin\": 1}}", "filter: a: $nin needs an array of scalars");
	refused("{\"a\": {\"$nin\": [[1]]}}", "$nin needs an array of scalars");
	refused("{\"a\": {\"$gt\": true}}", "need a number or a string");
	refused("{\"a\": {\"$lte\": null}}", "need a number or a string");
	refused("{\"a\": {\"$gte\": [1]}}", "need a number or a string");
	refused("{\"a\": {\"$eq\": {}}}", "filter: a: $eq needs a scalar");
	refused("{\"a\": {\"$neq\": [1]}}", "filter: a: $ne needs a scalar");
	refused("{\"a\": {\"$exist\": 1}}", "$exists needs true or false");
}

static void test_ops_logic(void **state)
{
	(void)state;
	const char *d = ops_doc;
	const char *either = "{\"$or\": [{\"data.n\": {\"$gte\": 80}}, {\"data.s\": {\"$regex\": "
	                     "\"^apto$\"}}]}";
	assert_true(match(either, d));
	assert_false(match("{\"$or\": [{\"data.n\": {\"$gte\": 80}}, {\"data.s\": \"x\"}]}", d));
	assert_true(match("{\"$or\": [{\"data.n\": {\"$gte\": 70}}, {\"data.s\": \"x\"}]}", d));
	assert_true(
	    match("{\"$and\": [{\"data.n\": {\"$gte\": 70}}, {\"data.n\": {\"$lt\": 80}}]}", d));
	assert_false(
	    match("{\"$and\": [{\"data.n\": {\"$gte\": 71}}, {\"data.n\": {\"$lt\": 80}}]}", d));
	/* $or and the other keys of its object: all must hold */
	assert_false(match("{\"unit\": \"RJ\", \"$or\": [{\"data.n\": 70}]}", d));
	assert_true(match("{\"unit\": \"SP\", \"$or\": [{\"data.n\": 70}]}", d));
	/* $not of a filter, and of an operator under a path */
	assert_false(match("{\"$not\": {\"unit\": \"SP\"}}", d));
	assert_true(match("{\"$not\": {\"unit\": \"SP\", \"data.n\": 1}}", d));
	assert_true(match("{\"$not\": {}}", d) == false);
	assert_false(match("{\"data.s\": {\"$not\": {\"$regex\": \"^ap\"}}}", d));
	assert_true(match("{\"data.s\": {\"$not\": {\"$regex\": \"^x\"}}}", d));
	assert_true(match("{\"data.none\": {\"$not\": {\"$gt\": 1}}}", d)); /* absent */
	assert_true(match("{\"data.n\": {\"$not\": {\"$gt\": 70}}}", d));
	assert_false(match("{\"data.n\": {\"$not\": {\"$not\": {\"$gt\": 70}}}}", d));
	/* nesting */
	assert_true(match("{\"$or\": [{\"$and\": [{\"unit\": \"SP\"}, {\"$not\": {\"data.t\": "
	                  "false}}]}, {\"data.none\": 1}]}",
	                  d));

	refused("{\"$or\": []}", "filter: $or: needs an array of 1 to 32 filters");
	refused("{\"$and\": {}}", "filter: $and: needs an array of 1 to 32 filters");
	refused("{\"$or\": [1]}", "filter: must be an object");
	refused("{\"$or\": [{\"a\": {\"$foo\": 1}}]}", "filter: a: unknown operator");
	refused("{\"$not\": [1]}", "filter: must be an object");
	refused("{\"a\": {\"$not\": 1}}", "filter: a: $not needs an operator object");
	refused("{\"a\": {\"$not\": {}}}", "filter: a: value must be a scalar");
	char buf[2048];
	int o = 0;
	o += snprintf(buf + o, sizeof(buf) - (size_t)o, "{\"$or\": [");
	for (int k = 0; k < 33; k++)
		o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%s{\"a\": %d}", k ? "," : "", k);
	snprintf(buf + o, sizeof(buf) - (size_t)o, "]}");
	refused(buf, "1 to 32 filters");
	/* 32 elements are fine */
	o = snprintf(buf, sizeof(buf), "{\"$or\": [");
	for (int k = 0; k < 32; k++)
		o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%s{\"data.n\": %d}", k ? "," : "",
		              k + 40);
	snprintf(buf + o, sizeof(buf) - (size_t)o, "]}");
	assert_true(match(buf, d));
}

/* nest: n levels of {"$not": ...} around {"unit": "SP"}. */
static void nest(char *buf, size_t sz, int n)
{
	size_t o = 0;
	for (int k = 0; k < n; k++)
		o += (size_t)snprintf(buf + o, sz - o, "{\"$not\": ");
	o += (size_t)snprintf(buf + o, sz - o, "{\"unit\": \"SP\"}");
	for (int k = 0; k < n; k++)
		o += (size_t)snprintf(buf + o, sz - o, "}");
}

static void test_ops_bounds(void **state)
{
	(void)state;
	char buf[8192];
	/* depth: the top filter is level 1, each $not one more */
	nest(buf, sizeof(buf), 15);
	assert_false(match(buf, ops_doc)); /* 15 negations */
	nest(buf, sizeof(buf), 16);
	refused(buf, "nested too deep");
	/* $not under a path counts too */
	size_t o = (size_t)snprintf(buf, sizeof(buf), "{\"a\": ");
	for (int k = 0; k < 16; k++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"$not\": ");
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"$gt\": 1}");
	for (int k = 0; k < 17; k++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "}");
	refused(buf, "nested too deep");
	/* nodes: 8 x 32 clauses plus the $or/$and nodes is past 256 */
	o = (size_t)snprintf(buf, sizeof(buf), "{\"$or\": [");
	for (int g = 0; g < 8; g++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"$and\": [", g ? "," : "");
		for (int k = 0; k < 32; k++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"a\": %d}",
			                      k ? "," : "", k);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]}");
	}
	snprintf(buf + o, sizeof(buf) - o, "]}");
	assert_true(o < sizeof(buf) - 4);
	refused(buf, "too many clauses");
	/* 4 x 32 is fine */
	o = (size_t)snprintf(buf, sizeof(buf), "{\"$or\": [");
	for (int g = 0; g < 4; g++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"$or\": [", g ? "," : "");
		for (int k = 0; k < 32; k++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"data.n\": %d}",
			                      k ? "," : "", g * 32 + k);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]}");
	}
	snprintf(buf + o, sizeof(buf) - o, "]}");
	assert_true(match(buf, ops_doc));
}

static void test_key_string(void **state)
{
	(void)state;
	const char *text =
	    "{\"s\": \"Contrata\\u00e7\u00e3o\", \"i\": -42, \"r\": 2.5, \"r1\": 1.0, \"t\": true,"
	    " \"f\": false, \"n\": null, \"o\": {}, \"a\": [7], \"big\": 9007199254740993,"
	    " \"e\": 1e2, \"huge\": 1e400, \"long\": 123456789012345678901234567890}";
	size_t len = strlen(text);
	char out[64];

	assert_int_equal(filter_key_string(text, len, "s", out, sizeof(out)),
	                 (int)strlen("Contratação"));
	assert_string_equal(out, "Contratação");
	assert_int_equal(filter_key_string(text, len, "i", out, sizeof(out)), 3);
	assert_string_equal(out, "-42");
	assert_int_equal(filter_key_string(text, len, "r", out, sizeof(out)), 3);
	assert_string_equal(out, "2.5");
	assert_int_equal(filter_key_string(text, len, "r1", out, sizeof(out)), 3);
	assert_string_equal(out, "1.0");
	assert_int_equal(filter_key_string(text, len, "t", out, sizeof(out)), 4);
	assert_string_equal(out, "true");
	assert_int_equal(filter_key_string(text, len, "f", out, sizeof(out)), 5);
	assert_string_equal(out, "false");
	assert_int_equal(filter_key_string(text, len, "n", out, sizeof(out)), 4);
	assert_string_equal(out, "null");
	assert_int_equal(filter_key_string(text, len, "big", out, sizeof(out)), 16);
	assert_string_equal(out, "9007199254740993");
	assert_int_equal(filter_key_string(text, len, "a.0", out, sizeof(out)), 1);
	assert_string_equal(out, "7");

	assert_int_equal(filter_key_string(text, len, "o", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(text, len, "a", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(text, len, "missing", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(text, len, "s", out, 0), -1);
	/* Too small for a digest: refused, never cut. */
	assert_int_equal(filter_key_string(text, len, "i", out, FILTER_KEY_MIN - 1), -1);

	/* As jansson printed them before: reals as the double, integers exact;
	 * and numbers no double holds as their own text. */
	assert_int_equal(filter_key_string(text, len, "e", out, sizeof(out)), 5);
	assert_string_equal(out, "100.0");
	assert_int_equal(filter_key_string(text, len, "huge", out, sizeof(out)), 5);
	assert_string_equal(out, "1e400");
	assert_int_equal(filter_key_string(text, len, "long", out, sizeof(out)), 30);
	assert_string_equal(out, "123456789012345678901234567890");
}

/* Keys that would not fit, hold a NUL or could pass for a digest become
 * '~' + base64url(SHA-256(key)): distinct values never share a lane. (The
 * digests were computed with Python's hashlib and base64.urlsafe_b64encode.) */
static void test_key_string_digest(void **state)
{
	(void)state;
	char long64[80], long64b[80], doc[512];
	memset(long64, 'x', 64);
	long64[64] = '\0';
	memcpy(long64b, long64, 65);
	long64b[63] = 'y'; /* differs only in its last byte */
	int dn = snprintf(doc, sizeof(doc),
	                  "{\"a\": \"%s\", \"b\": \"%s\", \"c\": \"x%.62s\", \"t\": \"~a\","
	                  " \"z\": \"a\\u0000b\", \"z2\": \"a\"}",
	                  long64, long64b, long64);
	size_t len = (size_t)dn;
	char out[64], out2[64];

	assert_int_equal(filter_key_string(doc, len, "a", out, sizeof(out)), 44);
	assert_string_equal(out, "~fOEAlx9k5wAej-WlGXPs3-HO1Cvv5-6NX9YhlQa1OTw");
	assert_int_equal(filter_key_string(doc, len, "b", out2, sizeof(out2)), 44);
	assert_string_not_equal(out, out2);
	/* 63 bytes still fit as they are */
	assert_int_equal(filter_key_string(doc, len, "c", out, sizeof(out)), 63);
	assert_int_equal(out[0], 'x');
	assert_int_equal(filter_key_string(doc, len, "t", out, sizeof(out)), 44);
	assert_string_equal(out, "~jVZ57JTmWOHeMoQBOTyqkLNSzFvCi2o2AfOPf98d48s");
	assert_int_equal(filter_key_string(doc, len, "z", out, sizeof(out)), 44);
	assert_string_equal(out, "~WbJxrhu8sdMdQZKYF_Sxb7Q5608xUgta0dXOmJIKcTg");
	assert_int_equal(filter_key_string(doc, len, "z2", out2, sizeof(out2)), 1);
	assert_string_not_equal(out, out2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_match_big_numbers),
	    cmocka_unit_test(test_key_string),
	    cmocka_unit_test(test_key_string_digest),
	    cmocka_unit_test(test_ops_compare),
	    cmocka_unit_test(test_ops_big_numbers),
	    cmocka_unit_test(test_ops_sets_regex),
	    cmocka_unit_test(test_ops_logic),
	    cmocka_unit_test(test_ops_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
