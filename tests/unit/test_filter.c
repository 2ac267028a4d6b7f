/*
 * test_filter: dotted paths (object keys, array indexes, digit keys on
 * objects), filter validation, matching with each operator, numeric
 * equality across integer and real, and the ordering-key strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/filter.h"

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
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

static void test_get(void **state)
{
	(void)state;
	json_t *doc = load(doc_text);

	assert_string_equal(json_string_value(filter_get(doc, "event")), "application.moved");
	assert_int_equal(json_integer_value(filter_get(doc, "data.application.id")), 42);
	assert_string_equal(json_string_value(filter_get(doc, "data.application.currentStep.name")),
	                    "Entrevista");
	assert_string_equal(json_string_value(filter_get(doc, "data.application.tags.0")), "a");
	assert_string_equal(json_string_value(filter_get(doc, "data.application.tags.1")), "b");
	assert_int_equal(json_integer_value(filter_get(doc, "data.application.tags.2.c")), 1);
	assert_int_equal(json_integer_value(filter_get(doc, "data.matrix.1.0")), 3);
	assert_true(json_is_null(filter_get(doc, "data.application.note")));
	assert_true(json_is_object(filter_get(doc, "data")));
	/* Digit segments are keys on objects. */
	assert_string_equal(json_string_value(filter_get(doc, "data.byYear.2019")), "x");
	assert_string_equal(json_string_value(filter_get(doc, "data.byYear.07")), "y");
	assert_null(filter_get(doc, "data.byYear.7"));

	assert_null(filter_get(doc, "data.application.tags.3"));
	assert_null(filter_get(doc, "data.application.tags.-1"));
	assert_null(filter_get(doc, "data.application.tags.x"));
	assert_null(filter_get(doc, "data.application.tags.99999999999999999999"));
	assert_null(filter_get(doc, "data.application.id.x"));
	assert_null(filter_get(doc, "event.0"));
	assert_null(filter_get(doc, "missing"));
	assert_null(filter_get(doc, "data.missing.deeper"));
	assert_null(filter_get(doc, ""));
	assert_null(filter_get(doc, "data."));
	assert_null(filter_get(doc, ".data"));
	assert_null(filter_get(doc, "data..application"));
	assert_null(filter_get(NULL, "data"));
	assert_null(filter_get(doc, NULL));

	json_t *arr = load("[10, [20, 30]]");
	assert_int_equal(json_integer_value(filter_get(arr, "1.1")), 30);
	assert_null(filter_get(arr, "2"));
	json_decref(arr);
	json_decref(doc);
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
	    {"{\"a\": {\"$eq\": 1}}", "unknown operator"},
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

static bool match(const char *ftext, const json_t *doc)
{
	json_t *f = load(ftext);
	assert_int_equal(filter_validate(f, NULL), 0);
	bool r = filter_match(f, doc);
	json_decref(f);
	return r;
}

static void test_match(void **state)
{
	(void)state;
	json_t *doc = load(doc_text);

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
	assert_true(filter_match(NULL, doc));
	json_decref(doc);
}

static void test_key_string(void **state)
{
	(void)state;
	json_t *doc =
	    load("{\"s\": \"Contratação\", \"i\": -42, \"r\": 2.5, \"r1\": 1.0, \"t\": true,"
	         " \"f\": false, \"n\": null, \"o\": {}, \"a\": [7], \"big\": 9007199254740993}");
	char out[64];

	assert_int_equal(filter_key_string(doc, "s", out, sizeof(out)), (int)strlen("Contratação"));
	assert_string_equal(out, "Contratação");
	assert_int_equal(filter_key_string(doc, "i", out, sizeof(out)), 3);
	assert_string_equal(out, "-42");
	assert_int_equal(filter_key_string(doc, "r", out, sizeof(out)), 3);
	assert_string_equal(out, "2.5");
	assert_int_equal(filter_key_string(doc, "r1", out, sizeof(out)), 3);
	assert_string_equal(out, "1.0");
	assert_int_equal(filter_key_string(doc, "t", out, sizeof(out)), 4);
	assert_string_equal(out, "true");
	assert_int_equal(filter_key_string(doc, "f", out, sizeof(out)), 5);
	assert_string_equal(out, "false");
	assert_int_equal(filter_key_string(doc, "n", out, sizeof(out)), 4);
	assert_string_equal(out, "null");
	assert_int_equal(filter_key_string(doc, "big", out, sizeof(out)), 16);
	assert_string_equal(out, "9007199254740993");
	assert_int_equal(filter_key_string(doc, "a.0", out, sizeof(out)), 1);
	assert_string_equal(out, "7");

	assert_int_equal(filter_key_string(doc, "o", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(doc, "a", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(doc, "missing", out, sizeof(out)), -1);
	assert_int_equal(filter_key_string(doc, "s", out, 0), -1);

	/* Truncated to outsz-1, always terminated. */
	assert_int_equal(filter_key_string(doc, "i", out, 3), 2);
	assert_string_equal(out, "-4");
	assert_int_equal(filter_key_string(doc, "t", out, 1), 0);
	assert_string_equal(out, "");
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_key_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
