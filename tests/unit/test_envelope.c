/*
 * test_envelope: the exact bytes of a built envelope, and ISO-8601 dates:
 * known instants, a day-by-day comparison with gmtime_r over 1970..9999,
 * offsets, fractions, leap years and every range check of the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/envelope.h"
#include "util/json_scan.h"

static int parse(const char *s, int64_t *ms)
{
	return envelope_parse_date(s, strlen(s), ms);
}

static void test_build_exact(void **state)
{
	(void)state;
	struct buf b;
	const char *data = "{\"job\": {\"name\": \"Contratação\", \"n\": [1, 2.50]}}";

	buf_init(&b);
	envelope_build(&b, "ACME", "24e99765-0c97-4d5d-a5b4-3f9a6b0a2f11", "candidate.hired",
	               "2019-06-19T23:48:46.952Z", data, strlen(data));
	assert_false(b.oom);
	assert_string_equal(
	    b.data, "{\"companyName\":\"ACME\",\"id\":\"24e99765-0c97-4d5d-a5b4-3f9a6b0a2f11\","
	            "\"event\":\"candidate.hired\",\"date\":\"2019-06-19T23:48:46.952Z\","
	            "\"data\":{\"job\": {\"name\": \"Contratação\", \"n\": [1, 2.50]}}}");
	assert_int_equal(b.len, strlen(b.data));

	/* Strings are escaped; data is copied as given, even a bare scalar,
	 * and only datalen bytes of it. The buffer is appended to. */
	buf_reset(&b);
	buf_puts(&b, ">");
	envelope_build(&b, "A \"B\" \\ C\n", "id\x01", "e", "d", "nullxyz", 4);
	assert_string_equal(b.data,
	                    ">{\"companyName\":\"A \\\"B\\\" \\\\ C\\n\",\"id\":\"id\\u0001\","
	                    "\"event\":\"e\",\"date\":\"d\",\"data\":null}");
	buf_free(&b);
}

/* The document filters read: the envelope plus unit, data as given. */
static void test_match_doc(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	envelope_match_doc(&b, "ACME", "e-1", "candidate.hired", "2019-06-19T23:48:46.952Z", "SP",
	                   "{\"n\": 1e400}", 12);
	assert_false(b.oom);
	assert_string_equal(b.data,
	                    "{\"companyName\":\"ACME\",\"id\":\"e-1\","
	                    "\"event\":\"candidate.hired\",\"date\":\"2019-06-19T23:48:46.952Z\","
	                    "\"unit\":\"SP\",\"data\":{\"n\": 1e400}}");
	assert_int_equal(json_validate(b.data, b.len, NULL), 0);
	/* No unit: the key is absent, not null. */
	buf_reset(&b);
	envelope_match_doc(&b, "A\"", "i", "e", "d", NULL, "[]", 2);
	assert_string_equal(
	    b.data, "{\"companyName\":\"A\\\"\",\"id\":\"i\",\"event\":\"e\",\"date\":\"d\","
	            "\"data\":[]}");
	buf_free(&b);
}

static void test_format_known(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *s;
	} v[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1, "1970-01-01T00:00:00.001Z"},
	    {-1, "1969-12-31T23:59:59.999Z"},
	    {1560988126952LL, "2019-06-19T23:48:46.952Z"},
	    {951825600000LL, "2000-02-29T12:00:00.000Z"},
	    {1709164800000LL, "2024-02-29T00:00:00.000Z"},
	    {78796799000LL, "1972-06-30T23:59:59.000Z"},
	    {253402300799999LL, "9999-12-31T23:59:59.999Z"},
	    /* Out of the printable range: clamped, never garbled. */
	    {253402300800000LL, "9999-12-31T23:59:59.999Z"},
	    {INT64_MAX, "9999-12-31T23:59:59.999Z"},
	    {INT64_MIN, "0000-01-01T00:00:00.000Z"},
	};
	char out[DATE_STR_LEN];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'x', sizeof(out));
		envelope_format_date(v[i].ms, out);
		assert_string_equal(out, v[i].s);
	}
}

/* Every 13th day from 1970 to 9999 (hitting every weekday, month position
 * and leap rule), each with a different time of day, against gmtime_r. */
static void test_format_vs_gmtime(void **state)
{
	(void)state;
	const int64_t last_day = 2932896; /* 9999-12-31 */
	char out[DATE_STR_LEN], want[DATE_STR_LEN + 16];

	for (int64_t day = 0; day <= last_day; day += 13) {
		int64_t ms = day * 86400000 + (day * 7919 % 86400) * 1000 + day % 1000;
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		assert_non_null(gmtime_r(&t, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		         tm.tm_sec, (int)(ms % 1000));
		envelope_format_date(ms, out);
		assert_string_equal(out, want);
		int64_t back = -1;
		assert_int_equal(parse(out, &back), 0);
		assert_int_equal(back, ms);
	}
	envelope_format_date(last_day * 86400000, out);
	assert_string_equal(out, "9999-12-31T00:00:00.000Z");
}

static void test_parse_roundtrip(void **state)
{
	(void)state;
	int64_t ms = 0, z = 0;
	char out[DATE_STR_LEN];

	assert_int_equal(parse("2019-06-19T23:48:46.952Z", &z), 0);
	assert_int_equal(z, 1560988126952LL);
	envelope_format_date(z, out);
	assert_string_equal(out, "2019-06-19T23:48:46.952Z");

	assert_int_equal(parse("2019-06-19T20:48:46.952-03:00", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-20T05:18:46.952+05:30", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-19T23:48:46.952+00:00", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-19T23:48:46.952-00:00", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-19t23:48:46.952z", &ms), 0);
	assert_int_equal(ms, z);
	/* An offset that crosses a year boundary. */
	assert_int_equal(parse("2019-12-31T23:30:00-01:00", &ms), 0);
	envelope_format_date(ms, out);
	assert_string_equal(out, "2020-01-01T00:30:00.000Z");

	/* Fractions: 1..9 digits, truncated (not rounded) to milliseconds. */
	assert_int_equal(parse("2019-06-19T23:48:46Z", &ms), 0);
	assert_int_equal(ms, z - 952);
	assert_int_equal(parse("2019-06-19T23:48:46.9Z", &ms), 0);
	assert_int_equal(ms, z - 52);
	assert_int_equal(parse("2019-06-19T23:48:46.95Z", &ms), 0);
	assert_int_equal(ms, z - 2);
	assert_int_equal(parse("2019-06-19T23:48:46.9529Z", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-19T23:48:46.952999999Z", &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(parse("2019-06-19T23:48:46.952999999-03:00", &ms), 0);
	assert_int_equal(ms, z + 3 * 3600000);

	/* A leap second rolls into the next minute. */
	assert_int_equal(parse("1972-06-30T23:59:60Z", &ms), 0);
	assert_int_equal(ms, 78796800000LL);

	assert_int_equal(parse("1970-01-01T00:00:00.000Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse("1969-12-31T23:59:59.999Z", &ms), 0);
	assert_int_equal(ms, -1);
	assert_int_equal(parse("9999-12-31T23:59:59.999Z", &ms), 0);
	assert_int_equal(ms, 253402300799999LL);

	/* The length is honoured: bytes after n are not part of the date. */
	assert_int_equal(envelope_parse_date("2019-06-19T23:48:46.952Zjunk", 24, &ms), 0);
	assert_int_equal(ms, z);
	assert_int_equal(envelope_parse_date("2019-06-19T23:48:46.952Z", 23, &ms), -1);
}

static void test_leap_years(void **state)
{
	(void)state;
	int64_t ms;
	char out[DATE_STR_LEN];

	static const char *const ok[] = {"2000-02-29T00:00:00Z", "2024-02-29T12:00:00Z",
	                                 "1972-02-29T00:00:00Z", "2400-02-29T00:00:00Z",
	                                 "2023-02-28T23:59:59Z", "2023-01-31T00:00:00Z",
	                                 "2023-12-31T00:00:00Z", "2023-04-30T00:00:00Z"};
	static const char *const bad[] = {"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
	                                  "2100-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
	                                  "2023-04-31T00:00:00Z", "2023-06-31T00:00:00Z",
	                                  "2023-09-31T00:00:00Z", "2023-11-31T00:00:00Z"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i], &ms) != 0)
			fail_msg("rejected %s", ok[i]);
		envelope_format_date(ms, out);
		assert_memory_equal(out, ok[i], 19);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &ms) != -1)
			fail_msg("accepted %s", bad[i]);

	assert_int_equal(parse("2024-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "2019",
	    "2019-06-19",
	    "2019-06-19T23:48",
	    "2019-06-19T23:48:46", /* no zone */
	    "2019-06-19T23:48:46.952",
	    "2019-06-19 23:48:46Z", /* space separator */
	    "2019-06-19X23:48:46Z",
	    "19-06-19T23:48:46Z",
	    "20190-06-19T23:48:46Z",
	    "2019/06/19T23:48:46Z",
	    "2019-6-19T23:48:46Z",
	    "2019-06-9T23:48:46Z",
	    "2019-06-19T3:48:46Z",
	    "2019-00-19T23:48:46Z",
	    "2019-13-19T23:48:46Z",
	    "2019-06-00T23:48:46Z",
	    "2019-06-32T23:48:46Z",
	    "2019-06-19T24:00:00Z",
	    "2019-06-19T23:60:00Z",
	    "2019-06-19T23:48:61Z",
	    "2019-06-19T23:48:46.Z",
	    "2019-06-19T23:48:46.1234567890Z", /* 10 digits */
	    "2019-06-19T23:48:46,952Z",
	    "2019-06-19T23:48:46.95aZ",
	    "2019-06-19T23:48:46ZZ",
	    "2019-06-19T23:48:46Z ",
	    " 2019-06-19T23:48:46Z",
	    "2019-06-19T23:48:46+03",
	    "2019-06-19T23:48:46+0300",
	    "2019-06-19T23:48:46+3:00",
	    "2019-06-19T23:48:46+24:00",
	    "2019-06-19T23:48:46+03:60",
	    "2019-06-19T23:48:46+03:00Z",
	    "2019-06-19T23:48:46 +03:00",
	    "+2019-06-19T23:48:46Z",
	    "-019-06-19T23:48:46Z",
	    "2019-06-19T23:48:46UTC",
	    "２019-06-19T23:48:46Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 12345;
		if (parse(bad[i], &ms) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ms, 12345); /* untouched on failure */
	}
	int64_t ms;
	assert_int_equal(envelope_parse_date(NULL, 0, &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_exact),     cmocka_unit_test(test_match_doc),
	    cmocka_unit_test(test_format_known),    cmocka_unit_test(test_format_vs_gmtime),
	    cmocka_unit_test(test_parse_roundtrip), cmocka_unit_test(test_leap_years),
	    cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
