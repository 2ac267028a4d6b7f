/*
 * test_jsonpath: path syntax, splitting, lookups by split path and by text
 * (members, indexes, digit keys on objects, repeated members, absent
 * paths, truncated documents), and string literals decoded in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonpath.h"

static const char doc[] = "{\"id\": \"e1\", \"data\": {\"application\": {\"id\": 42, \"tags\": "
                          "[\"a\", {\"b\": [true]}]}, \"07\": \"digits\", \"d\": 1, \"d\": 2},"
                          " \"esc\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\"}";

static const char *get(const char *d, const char *path)
{
	static char out[256];
	const char *v;
	size_t n;
	if (!jsonpath_get(d, strlen(d), path, &v, &n))
		return NULL;
	assert_true(n < sizeof(out));
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(jsonpath_valid("id"));
	assert_true(jsonpath_valid("data.application.id"));
	assert_true(jsonpath_valid("data.tags.0"));
	assert_false(jsonpath_valid(""));
	assert_false(jsonpath_valid(".a"));
	assert_false(jsonpath_valid("a."));
	assert_false(jsonpath_valid("a..b"));
}

static void test_get(void **state)
{
	(void)state;
	assert_string_equal(get(doc, "id"), "\"e1\"");
	assert_string_equal(get(doc, "data.application.id"), "42");
	assert_string_equal(get(doc, "data.application.tags.0"), "\"a\"");
	assert_string_equal(get(doc, "data.application.tags.1.b.0"), "true");
	assert_string_equal(get(doc, "data.07"), "\"digits\""); /* a digit key on an object */
	assert_string_equal(get(doc, "data.d"), "2");           /* the last repeated member */
	assert_string_equal(get(doc, "data.application.tags"), "[\"a\", {\"b\": [true]}]");
	assert_null(get(doc, "data.application.tags.2"));
	assert_null(get(doc, "data.application.id.x"));
	assert_null(get(doc, "nope"));
	assert_null(get(doc, "id.0"));
	/* a cut document never reads past its end */
	for (size_t n = 0; n < sizeof(doc) - 1; n++) {
		const char *v;
		size_t vn;
		if (jsonpath_get(doc, n, "data.application.tags.1.b.0", &v, &vn))
			assert_true(v + vn <= doc + n);
	}
}

static void test_split_find(void **state)
{
	(void)state;
	struct jsonpath_seg segs[4];
	assert_int_equal(jsonpath_split("data.application.tags.1", segs, 4), 4);
	assert_int_equal(segs[3].idx, 1);
	assert_int_equal(segs[0].idx, -1);
	assert_int_equal(segs[1].n, strlen("application"));
	const char *v;
	size_t n;
	assert_true(jsonpath_find(doc, strlen(doc), segs, 4, &v, &n));
	assert_memory_equal(v, "{\"b\": [true]}", n);
	/* more segments than room: counted, not written past max */
	struct jsonpath_seg two[2];
	assert_int_equal(jsonpath_split("a.b.c.d.e", two, 2), 5);
	assert_false(jsonpath_find(doc, strlen(doc), segs, 0, &v, &n));
}

static void test_strings(void **state)
{
	(void)state;
	const char *v;
	size_t n;
	assert_true(jsonpath_get(doc, strlen(doc), "esc", &v, &n));
	char out[64];
	long k = jsonpath_string_decode(v, n, out);
	assert_int_equal(k, (long)strlen("café 😀 \"q\""));
	assert_memory_equal(out, "café 😀 \"q\"", (size_t)k);
	assert_true(jsonpath_string_equal(v, n, "café 😀 \"q\"", strlen("café 😀 \"q\"")));
	assert_false(jsonpath_string_equal(v, n, "café", 5));
	assert_int_equal(jsonpath_string_decode("42", 2, out), -1);
	assert_int_equal(jsonpath_string_decode("\"a\\x\"", 5, out), -1); /* bad escape */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_split_find),
	    cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
