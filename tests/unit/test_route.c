/*
 * test_route: paths split at '/' before each segment is decoded, empty
 * segments (so a trailing '/') are skipped, faults are reported in segment
 * order, and patterns match literals exactly, take ":name" parameters, and
 * never match a path longer or shorter than themselves; methods add up to
 * an Allow set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/route.h"

static int split(const char *path, char buf[256], char **seg)
{
	snprintf(buf, 256, "%s", path);
	return route_split(buf, seg, ROUTE_MAX_SEGMENTS);
}

static void test_split(void **state)
{
	(void)state;
	char buf[256], *seg[ROUTE_MAX_SEGMENTS];
	assert_int_equal(split("webhooks", buf, seg), 1);
	assert_string_equal(seg[0], "webhooks");
	/* a trailing or doubled '/' adds no segment */
	assert_int_equal(split("webhooks/", buf, seg), 1);
	assert_int_equal(split("/webhooks//abc/", buf, seg), 2);
	assert_string_equal(seg[1], "abc");
	assert_int_equal(split("", buf, seg), 0);
	assert_int_equal(split("///", buf, seg), 0);
	/* split first: an encoded '/' stays inside its segment */
	assert_int_equal(split("events/a%2Fb", buf, seg), 2);
	assert_string_equal(seg[1], "a/b");
	assert_int_equal(split("%77ebhooks/100%25", buf, seg), 2);
	assert_string_equal(seg[0], "webhooks");
	assert_string_equal(seg[1], "100%");
}

static void test_split_faults(void **state)
{
	(void)state;
	char buf[256], *seg[ROUTE_MAX_SEGMENTS];
	assert_int_equal(split("events/%zz", buf, seg), ROUTE_E_ESCAPE);
	assert_int_equal(split("events/a%2", buf, seg), ROUTE_E_ESCAPE);
	assert_int_equal(split("events/a%00b", buf, seg), ROUTE_E_ESCAPE);
	assert_int_equal(split("events/%C3%28", buf, seg), ROUTE_E_UTF8);
	assert_int_equal(split("a/b/c/d/e/f/g/h", buf, seg), 8);
	assert_int_equal(split("a/b/c/d/e/f/g/h/i", buf, seg), ROUTE_E_TOO_MANY);
	/* the first fault met wins: a broken escape before the ninth segment */
	assert_int_equal(split("a/%zz/c/d/e/f/g/h/i", buf, seg), ROUTE_E_ESCAPE);
	assert_int_equal(split("a/b/c/d/e/f/g/h/%zz", buf, seg), ROUTE_E_TOO_MANY);
}

static bool match(const char *pattern, const char *path, const char **param)
{
	static char buf[256];
	char *seg[ROUTE_MAX_SEGMENTS];
	int n = split(path, buf, seg);
	assert_true(n >= 0);
	return route_match(pattern, seg, n, param);
}

static void test_match(void **state)
{
	(void)state;
	const char *p[ROUTE_MAX_PARAMS] = {NULL};
	assert_true(match("webhooks", "webhooks", p));
	assert_true(match("webhooks", "webhooks/", p));
	assert_false(match("webhooks", "webhook", p));
	assert_false(match("webhooks", "webhookss", p));
	assert_false(match("webhooks", "webhooks/x", p));
	assert_false(match("webhooks/:id", "webhooks", p));
	assert_true(match("webhooks/:id", "webhooks/w1", p));
	assert_string_equal(p[0], "w1");
	assert_true(match("webhooks/:id/replay", "webhooks/a%2Fb/replay", p));
	assert_string_equal(p[0], "a/b");
	assert_false(match("webhooks/:id/replay", "webhooks/w1/retry", p));
	assert_false(match("webhooks/:id/replay", "webhooks/w1/replay/x", p));
	assert_true(match("a/:x/b/:y", "a/1/b/2", p));
	assert_string_equal(p[0], "1");
	assert_string_equal(p[1], "2");
	/* the empty pattern is the mount itself */
	assert_true(match("", "", p));
	assert_true(match("", "/", p));
	assert_false(match("", "x", p));
}

static void test_methods(void **state)
{
	(void)state;
	char out[48];
	assert_int_equal(route_method("GET"), ROUTE_GET);
	assert_int_equal(route_method("DELETE"), ROUTE_DELETE);
	assert_int_equal(route_method("get"), 0);
	assert_int_equal(route_method("PUT"), 0);
	assert_int_equal(route_method(""), 0);
	route_allow(ROUTE_GET | ROUTE_HEAD, false, out, sizeof(out));
	assert_string_equal(out, "GET, HEAD");
	route_allow(ROUTE_GET | ROUTE_HEAD, true, out, sizeof(out));
	assert_string_equal(out, "GET");
	route_allow(ROUTE_POST | ROUTE_GET, true, out, sizeof(out));
	assert_string_equal(out, "GET or POST");
	route_allow(ROUTE_DELETE | ROUTE_PATCH | ROUTE_GET, true, out, sizeof(out));
	assert_string_equal(out, "GET, PATCH or DELETE");
	route_allow(ROUTE_DELETE | ROUTE_PATCH | ROUTE_GET, false, out, sizeof(out));
	assert_string_equal(out, "GET, PATCH, DELETE");
	route_allow(ROUTE_POST, true, out, sizeof(out));
	assert_string_equal(out, "POST");
	route_allow(0, true, out, sizeof(out));
	assert_string_equal(out, "");
	route_allow(ROUTE_GET | ROUTE_POST, false, out, 6); /* cut, still terminated */
	assert_true(strlen(out) < 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_split_faults),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
