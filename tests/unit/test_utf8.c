/*
 * test_utf8: what counts as UTF-8 (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF), cutting text at a character boundary, dropping
 * a character cut short at the end, replacing bytes that are not UTF-8, and
 * the JSON string writer that every hand-built answer goes through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/utf8.h"

#define VALID(s)  utf8_valid(s, sizeof(s) - 1)
#define SEQ(s)    utf8_seq(s, sizeof(s) - 1)
#define TRIM(s)   utf8_trim_partial(s, sizeof(s) - 1)
#define CUT(s, m) utf8_cut(s, sizeof(s) - 1, m)

static void test_seq(void **state)
{
	(void)state;
	assert_int_equal(SEQ("a"), 1);
	assert_int_equal(SEQ("\xc3\xa7"), 2);         /* ç */
	assert_int_equal(SEQ("\xe2\x82\xac"), 3);     /* € */
	assert_int_equal(SEQ("\xf0\x9f\x98\x80"), 4); /* 😀 */
	assert_int_equal(SEQ("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(SEQ("\xef\xbf\xbd"), 3);     /* U+FFFD */
	assert_int_equal(SEQ("\x80"), 0);             /* lone continuation */
	assert_int_equal(SEQ("\xc0\xaf"), 0);         /* overlong '/' */
	assert_int_equal(SEQ("\xc1\xbf"), 0);
	assert_int_equal(SEQ("\xe0\x80\xaf"), 0);     /* overlong */
	assert_int_equal(SEQ("\xe0\x9f\xbf"), 0);     /* overlong */
	assert_int_equal(SEQ("\xed\xa0\x80"), 0);     /* surrogate U+D800 */
	assert_int_equal(SEQ("\xed\xbf\xbf"), 0);     /* surrogate U+DFFF */
	assert_int_equal(SEQ("\xed\x9f\xbf"), 3);     /* U+D7FF */
	assert_int_equal(SEQ("\xf0\x8f\xbf\xbf"), 0); /* overlong */
	assert_int_equal(SEQ("\xf4\x90\x80\x80"), 0); /* U+110000 */
	assert_int_equal(SEQ("\xf5\x80\x80\x80"), 0);
	assert_int_equal(SEQ("\xff"), 0);
	assert_int_equal(SEQ("\xfe"), 0);
	assert_int_equal(SEQ("\xe2\x82"), 0);     /* cut short */
	assert_int_equal(SEQ("\xe2\x28\xac"), 0); /* bad continuation */
	assert_int_equal(utf8_seq("", 0), 0);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(VALID(""));
	assert_true(VALID("S\xc3\xa3o Paulo \xe2\x82\xac \xf0\x9f\x98\x80"));
	assert_false(VALID("\xff\xfe"));
	assert_false(VALID("abc\xc3"));
	assert_false(VALID("\xed\xa0\x80\xed\xb0\x80")); /* CESU-8 pair */
	assert_true(utf8_valid("a\0b", 3));              /* NUL is a character */
}

static void test_cut(void **state)
{
	(void)state;
	assert_int_equal(CUT("abc", 10), 3);
	assert_int_equal(CUT("abcdef", 3), 3);
	/* "aç" is 3 bytes: a cut at 2 would split the ç */
	assert_int_equal(CUT("a\xc3\xa7z", 2), 1);
	assert_int_equal(CUT("a\xc3\xa7z", 3), 3);
	assert_int_equal(CUT("\xe2\x82\xac\xe2\x82\xac", 5), 3);
	assert_int_equal(CUT("\xf0\x9f\x98\x80", 3), 0);
	/* invalid bytes count one each */
	assert_int_equal(CUT("\xff\xff\xff\xff", 2), 2);
	assert_int_equal(CUT("\x80\x80\x80", 2), 2);

	/* Every prefix of a long text cut this way is valid UTF-8. */
	char s[190];
	size_t n = sizeof(s);
	for (size_t i = 0; i < n; i += 10)
		memcpy(s + i, "\xc3\xa7\xe2\x82\xac\xf0\x9f\x98\x80x", 10);
	for (size_t m = 0; m <= n; m++) {
		size_t k = utf8_cut(s, n, m);
		assert_true(k <= m);
		assert_true(m < 4 || k + 3 >= m);
		assert_true(utf8_valid(s, k));
	}
}

static void test_trim_partial(void **state)
{
	(void)state;
	assert_int_equal(TRIM("abc"), 3);
	assert_int_equal(TRIM(""), 0);
	assert_int_equal(TRIM("ab\xc3"), 2);
	assert_int_equal(TRIM("ab\xe2\x82"), 2);
	assert_int_equal(TRIM("ab\xe2"), 2);
	assert_int_equal(TRIM("ab\xf0\x9f\x98"), 2);
	assert_int_equal(TRIM("ab\xf0\x9f"), 2);
	assert_int_equal(TRIM("ab\xf0"), 2);
	assert_int_equal(TRIM("ab\xc3\xa7"), 4); /* complete */
	assert_int_equal(TRIM("ab\xf0\x9f\x98\x80"), 6);
	/* not the start of a real character: left for the caller to refuse */
	assert_int_equal(TRIM("ab\xff"), 3);
	assert_int_equal(TRIM("ab\xc0"), 3);
	assert_int_equal(TRIM("ab\x80"), 3);
	assert_int_equal(TRIM("ab\xe0\x80"), 4); /* overlong start */
	assert_int_equal(TRIM("ab\xed\xa0"), 4); /* surrogate start */
	assert_int_equal(TRIM("ab\xf4\x90"), 4); /* past U+10FFFF */
	assert_int_equal(TRIM("ab\x80\x80\x80"), 5);

	/* A 1 KiB excerpt cut anywhere inside a character becomes valid. */
	char s[1024];
	for (size_t i = 0; i + 3 <= sizeof(s); i += 3)
		memcpy(s + i, "\xe2\x82\xac", 3);
	s[1023] = '\xe2';
	assert_false(utf8_valid(s, sizeof(s)));
	size_t k = utf8_trim_partial(s, sizeof(s));
	assert_int_equal(k, 1023);
	assert_true(utf8_valid(s, k));
}

static void test_fix(void **state)
{
	(void)state;
	char out[32];
	assert_int_equal(utf8_fix("ok", 2, out, sizeof(out)), 2);
	assert_string_equal(out, "ok");
	assert_int_equal(utf8_fix("/\xff\xfe", 3, out, sizeof(out)), 7);
	assert_string_equal(out, "/\xef\xbf\xbd\xef\xbf\xbd");
	assert_int_equal(utf8_fix("a\0b", 3, out, sizeof(out)), 5);
	assert_string_equal(out, "a\xef\xbf\xbd"
	                         "b");
	/* too small: cut at a character boundary, still terminated */
	assert_int_equal(utf8_fix("ab\xc3\xa7", 4, out, 4), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(utf8_fix("x", 1, out, 1), 0);
	assert_string_equal(out, "");
}

static void test_json_str(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	buf_json_str(&b, "no route /\xff\xfe", 12);
	assert_string_equal(b.data, "\"no route /\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_reset(&b);
	buf_json_str(&b, "S\xc3\xa3o \"x\"\n\x01", 10);
	assert_string_equal(b.data, "\"S\xc3\xa3o \\\"x\\\"\\n\\u0001\"");
	buf_reset(&b);
	/* a character cut at the end, overlongs and surrogates */
	const char bad[] = "\xc0\xaf|\xed\xa0\x80|\xe2\x82";
	buf_json_str(&b, bad, sizeof(bad) - 1);
	assert_true(utf8_valid(b.data, b.len));
	json_error_t je;
	json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
	assert_non_null(v);
	json_decref(v);
	/* every byte value, alone, gives a valid JSON string */
	for (int c = 0; c < 256; c++) {
		char one = (char)c;
		buf_reset(&b);
		buf_json_str(&b, &one, 1);
		assert_true(utf8_valid(b.data, b.len));
		v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		assert_non_null(v);
		json_decref(v);
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seq), cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_cut), cmocka_unit_test(test_trim_partial),
	    cmocka_unit_test(test_fix), cmocka_unit_test(test_json_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
