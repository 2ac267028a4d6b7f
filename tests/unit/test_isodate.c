/*
 * test_isodate: the date of a received event. Known instants (Gupy's
 * example, offsets both ways and in both spellings, fractions of 1 to 9
 * digits, the ends of the range), every refusal with its reason, order kept
 * to the nanosecond by isodate_cmp and to the microsecond by us alone,
 * every offset of a day, every day of 0001-9999 against core/envelope's
 * parser and every seventh against timegm, and the round trips through
 * envelope_format_date and isodate_format_us.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/envelope.h"
#include "core/isodate.h"

/* ok: s parses; returns the date. */
static struct isodate ok(const char *s)
{
	struct isodate d;
	struct gerr err = {0};
	if (isodate_parse(s, strlen(s), &d, "date", &err) != 0)
		fail_msg("\"%s\" refused: %s", s, err.msg);
	return d;
}

static void ok_at(const char *s, int64_t us, int32_t ns)
{
	struct isodate d = ok(s);
	if (d.us != us || d.ns != ns)
		fail_msg("\"%s\" is %lld us + %d ns, not %lld + %d", s, (long long)d.us, d.ns,
		         (long long)us, ns);
}

/* bad: s[0..n) is refused with a message holding why. */
static void bad_n(const char *s, size_t n, const char *why)
{
	struct isodate d = {.us = 42, .ns = 7};
	struct gerr err = {0};
	if (isodate_parse(s, n, &d, "date", &err) != GERR_INVALID)
		fail_msg("\"%s\" accepted as %lld us", s, (long long)d.us);
	assert_int_equal(d.us, 42);
	assert_int_equal(d.ns, 7);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	if (strncmp(err.msg, "date: \"", 7) != 0 || !strstr(err.msg, why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, why);
}

static void bad(const char *s, const char *why)
{
	bad_n(s, strlen(s), why);
}

#define S(x) ((int64_t)(x)*1000000)
/* 2019-06-19T00:00:00Z */
#define D20190619 S(1560902400)

static void test_known(void **state)
{
	(void)state;
	/* Gupy's examples. */
	ok_at("2019-06-19T00:00:00.000Z", D20190619, 0);
	ok_at("2019-06-19T23:48:46.952Z", S(1560988126) + 952000, 0);
	ok_at("1970-01-01T00:00:00Z", 0, 0);
	ok_at("1970-01-01T00:00:00.000001Z", 1, 0);
	ok_at("1969-12-31T23:59:59.999999Z", -1, 0);
	/* Below the microsecond: us is the floor, ns the rest, either side. */
	ok_at("1969-12-31T23:59:59.9999999Z", -1, 900);
	ok_at("1970-01-01T00:00:00.000000001Z", 0, 1);
	ok_at("2019-06-19T00:00:00.123456789Z", D20190619 + 123456, 789);
	/* Offsets: local time minus offset is UTC; both spellings; -00:00. */
	ok_at("2019-06-19T00:00:00-03:00", D20190619 + S(3 * 3600), 0);
	ok_at("2019-06-19T00:00:00-0300", D20190619 + S(3 * 3600), 0);
	ok_at("2019-06-19T05:30:00+05:30", D20190619, 0);
	ok_at("2019-06-19T05:30:00+0530", D20190619, 0);
	ok_at("2019-06-19T00:00:00+00:00", D20190619, 0);
	ok_at("2019-06-19T00:00:00-00:00", D20190619, 0);
	ok_at("2019-06-19T00:00:00+23:59", D20190619 - S(23 * 3600 + 59 * 60), 0);
	ok_at("2019-06-19T00:00:00-23:59", D20190619 + S(23 * 3600 + 59 * 60), 0);
	/* Lowercase t and z, a space for the T. */
	ok_at("2019-06-19t00:00:00z", D20190619, 0);
	ok_at("2019-06-19 00:00:00Z", D20190619, 0);
	ok_at("2019-06-19 00:00:00.5-03:00", D20190619 + S(3 * 3600) + 500000, 0);
	/* Leap days. */
	ok_at("2000-02-29T00:00:00Z", S(951782400), 0);
	ok_at("2020-02-29T12:00:00Z", S(1582977600), 0);
	ok("2400-02-29T00:00:00Z");
	ok("1600-02-29T00:00:00Z");
	ok("0004-02-29T00:00:00Z");
	/* The ends of the range (and a little past them after the offset). */
	ok_at("0001-01-01T00:00:00Z", S(-62135596800LL), 0);
	ok_at("9999-12-31T23:59:59.999999999Z", S(253402300799LL) + 999999, 999);
	ok_at("0001-01-01T00:00:00+23:59", S(-62135596800LL) - S(23 * 3600 + 59 * 60), 0);
	ok_at("9999-12-31T23:59:59-23:59", S(253402300799LL) + S(23 * 3600 + 59 * 60), 0);
	/* Every fraction length. */
	static const char *const fr[] = {".1",      ".12",      ".123",      ".1234",     ".12345",
	                                 ".123456", ".1234567", ".12345678", ".123456789"};
	static const int64_t frus[] = {100000, 120000, 123000, 123400, 123450,
	                               123456, 123456, 123456, 123456};
	static const int32_t frns[] = {0, 0, 0, 0, 0, 0, 700, 780, 789};
	for (int k = 0; k < 9; k++) {
		char s[64];
		snprintf(s, sizeof(s), "2019-06-19T00:00:00%sZ", fr[k]);
		ok_at(s, D20190619 + frus[k], frns[k]);
	}
	ok_at("2019-06-19T00:00:00.000000000Z", D20190619, 0);
	ok_at("2019-06-19T00:00:00.999999999+00:00", D20190619 + 999999, 999);
	/* n bounds the text: what follows is not read. */
	struct isodate d;
	assert_int_equal(isodate_parse("2019-06-19T00:00:00Zjunk", 20, &d, NULL, NULL), 0);
	assert_int_equal(d.us, D20190619);
}

static void test_refusals(void **state)
{
	(void)state;
	const char *shape = "is not an RFC 3339 date-time";
	bad("", "\"\" is empty");
	bad("2019-06-19", "is a date without a time");
	bad("2019-06-19T00:00:00", "has no time zone offset (add Z or +HH:MM");
	bad("2019-06-19T00:00:00.000", "has no time zone offset");
	bad("2019-06-19 00:00:00", "has no time zone offset");
	bad("2019-06-19T00:00:00UTC", "has no time zone offset");
	bad("2019-06-19T00:00:00 Z", "has no time zone offset");
	bad("2019-06-19T00:00:00\xe2\x88\x92"
	    "03:00",
	    "has no time zone offset");
	/* Days and months that do not exist. */
	bad("2019-02-29T00:00:00Z", "has day 29, which does not exist in that month (28 days)");
	bad("2019-02-30T00:00:00Z", "has day 30");
	bad("2020-02-30T00:00:00Z", "has day 30, which does not exist in that month (29 days)");
	bad("1900-02-29T00:00:00Z", "has day 29");
	bad("2100-02-29T00:00:00Z", "has day 29");
	bad("2019-04-31T00:00:00Z", "has day 31");
	bad("2019-06-31T00:00:00Z", "has day 31");
	bad("2019-09-31T00:00:00Z", "has day 31");
	bad("2019-11-31T00:00:00Z", "has day 31");
	bad("2019-01-32T00:00:00Z", "has day 32");
	bad("2019-01-00T00:00:00Z", "has day 00");
	bad("2019-00-10T00:00:00Z", "has month 00, which does not exist");
	bad("2019-13-01T00:00:00Z", "has month 13");
	bad("2019-99-01T00:00:00Z", "has month 99");
	/* Times. */
	bad("2019-06-19T24:00:00Z", "has hour 24, out of range (00-23)");
	bad("2019-06-19T99:00:00Z", "has hour 99");
	bad("2019-06-19T23:60:00Z", "has minute 60, out of range (00-59)");
	bad("2019-06-19T23:59:60Z", "has second 60, a leap second, which is not accepted");
	bad("2016-12-31T23:59:60Z", "leap second");
	bad("2019-06-19T23:59:61Z", "has second 61, out of range (00-59)");
	/* Years. */
	bad("0000-01-01T00:00:00Z", "has year 0000, out of range (0001-9999)");
	bad("10000-01-01T00:00:00Z", shape);
	bad("+2019-06-19T00:00:00Z", shape);
	bad("-2019-06-19T00:00:00Z", shape);
	bad("+012019-06-19T00:00:00Z", shape);
	bad("19-06-19T00:00:00Z", shape);
	/* Offsets. */
	bad("2019-06-19T00:00:00+24:00", "has offset hour 24, out of range (00-23)");
	bad("2019-06-19T00:00:00-99:00", "has offset hour 99");
	bad("2019-06-19T00:00:00+23:60", "has offset minute 60, out of range (00-59)");
	bad("2019-06-19T00:00:00+0060", "has offset minute 60");
	bad("2019-06-19T00:00:00+03", "has an offset without minutes (write +HH:MM)");
	bad("2019-06-19T00:00:00+3:00", "has a malformed offset");
	bad("2019-06-19T00:00:00+03:0", "has a malformed offset");
	bad("2019-06-19T00:00:00+03:", "has a malformed offset");
	bad("2019-06-19T00:00:00+", "has a malformed offset");
	bad("2019-06-19T00:00:00+03::00", "has a malformed offset");
	bad("2019-06-19T00:00:00+030", "has a malformed offset");
	bad("2019-06-19T00:00:00+03000", "has text after the date-time");
	bad("2019-06-19T00:00:00+03:00:00", "has text after the date-time");
	bad("2019-06-19T00:00:00Z+03:00", "has text after the date-time");
	bad("2019-06-19T00:00:00+03:00Z", "has text after the date-time");
	/* Fractions. */
	bad("2019-06-19T00:00:00.Z", "has a dot without fraction digits");
	bad("2019-06-19T00:00:00.1234567891Z", "has 10 fraction digits, more than 9");
	bad("2019-06-19T00:00:00.12345678901234567890Z", "has 20 fraction digits");
	bad("2019-06-19T00:00:00,5Z", "has a comma before the fraction (write a dot)");
	bad("2019-06-19T00:00:00.5.5Z", "has no time zone offset");
	bad("2019-06-19T00:00:00.-5Z", "has a dot without fraction digits");
	/* Other shapes. */
	bad("20190619T000000Z", shape);
	bad("2019-06-19T000000Z", shape);
	bad("2019-W25-3T00:00:00Z", shape);
	bad("2019-170T00:00:00Z", shape);
	bad("2019-6-19T00:00:00Z", shape);
	bad("2019-06-19T0:00:00Z", shape);
	bad("2019-06-19T00:00Z", shape);
	bad("2019-06-19_00:00:00Z", shape);
	bad("2019-06-19  00:00:00Z", shape);
	bad("2019/06/19T00:00:00Z", shape);
	bad(" 2019-06-19T00:00:00Z", shape);
	bad("2019-06-19T00:00:00Z ", "has text after the date-time");
	bad("2019-06-19T00:00:00Z\n", "has text after the date-time");
	bad("2019-06-19T00:00:00ZZ", "has text after the date-time");
	bad("1560902400", shape);
	bad("1560902400000", shape);
	bad("now", shape);
	bad("２019-06-19T00:00:00Z", shape);
	/* NUL: inside the given length it is a character like any other. */
	bad_n("2019-06-19T00:00:00Z\0", 21, "\"2019-06-19T00:00:00Z?\" has text after");
	bad_n("2019-06-19T00:00:00\0Z", 21, "has no time zone offset");
	bad_n("2019-06-19\0T00:00:00Z", 21, shape);
	/* Too long: refused before reading, quoted cut. */
	char big[200];
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "2019-06-19T00:00:00.", 20);
	bad(big, "...\" is too long for a date-time");
	/* The whole message, field first, the input quoted printably. */
	struct isodate d;
	struct gerr err = {0};
	assert_int_equal(isodate_parse("2019-02-29T00:00:00\x01Z", 21, &d, "body.date", &err),
	                 GERR_INVALID);
	assert_string_equal(err.msg, "body.date: \"2019-02-29T00:00:00?Z\" has day 29, which does "
	                             "not exist in that month (28 days)");
	assert_int_equal(isodate_parse("x", 1, &d, NULL, &err), GERR_INVALID);
	assert_string_equal(err.msg, "\"x\" is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS"
	                             "[.fraction] and Z or +HH:MM)");
	assert_int_equal(isodate_parse(NULL, 5, &d, "date", &err), GERR_INVALID);
	assert_string_equal(err.msg, "date: \"\" is not a date-time");
	assert_int_equal(isodate_parse("x", 1, &d, NULL, NULL), GERR_INVALID);
}

static void test_json(void **state)
{
	(void)state;
	struct isodate d = {0};
	struct gerr err = {0};
	json_t *v = json_string("2019-06-19T00:00:00.000Z");
	assert_int_equal(isodate_from_json(v, &d, "date", &err), 0);
	assert_int_equal(d.us, D20190619);
	json_decref(v);

	v = json_stringn("2019-06-19T00:00:00Z\0", 21);
	assert_int_equal(isodate_from_json(v, &d, "date", &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "has text after"));
	json_decref(v);

	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
	    {"1560902400", "date: must be an RFC 3339 date-time string, not a number (epoch "
	                   "seconds and milliseconds are not guessed)"},
	    {"1560902400000", "not a number"},
	    {"1560902400.5", "not a number"},
	    {"null", "date: must be an RFC 3339 date-time string, not null"},
	    {"true", "not a boolean"},
	    {"[\"2019-06-19T00:00:00Z\"]", "not an array"},
	    {"{}", "not an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		assert_int_equal(isodate_from_json(v, &d, "date", &err), GERR_INVALID);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].json, err.msg, cases[i].msg);
		assert_int_equal(err.status, 400);
		json_decref(v);
	}
	assert_int_equal(isodate_from_json(NULL, &d, NULL, &err), GERR_INVALID);
	assert_string_equal(err.msg, "date: must be an RFC 3339 date-time string, not missing");
}

static void test_order(void **state)
{
	(void)state;
	/* Distinct by 1 µs: ordered by us alone. */
	struct isodate a = ok("2019-06-19T00:00:00.000001Z"), b = ok("2019-06-19T00:00:00.000002Z");
	assert_true(a.us < b.us);
	assert_true(isodate_cmp(&a, &b) < 0);
	assert_true(isodate_cmp(&b, &a) > 0);
	/* Distinct by 1 ns: a tie on us, ordered by isodate_cmp. */
	a = ok("2019-06-19T00:00:00.000001001Z");
	b = ok("2019-06-19T00:00:00.000001002Z");
	assert_int_equal(a.us, b.us);
	assert_true(isodate_cmp(&a, &b) < 0);
	assert_true(isodate_cmp(&b, &a) > 0);
	/* One instant, several spellings: equal. */
	a = ok("2019-06-19T03:00:00.5+03:00");
	b = ok("2019-06-19t00:00:00.500000000z");
	struct isodate c = ok("2019-06-18 21:00:00.500-0300");
	assert_int_equal(isodate_cmp(&a, &b), 0);
	assert_int_equal(isodate_cmp(&a, &c), 0);
	assert_int_equal(a.us, c.us);
	/* Offsets decide, not the local clock reading: 10:00-03:00 is after
	 * 12:00+00:00. */
	a = ok("2019-06-19T10:00:00-03:00");
	b = ok("2019-06-19T12:00:00Z");
	assert_true(isodate_cmp(&a, &b) > 0);
	/* Across the epoch, the floor keeps the order below the microsecond. */
	a = ok("1969-12-31T23:59:59.9999990Z");
	b = ok("1969-12-31T23:59:59.9999995Z");
	c = ok("1970-01-01T00:00:00Z");
	assert_true(isodate_cmp(&a, &b) < 0 && isodate_cmp(&b, &c) < 0);
	assert_true(b.us < c.us);

	/* Every offset of a day in minutes: the same local reading moves back
	 * by exactly the offset. */
	for (int off = -(23 * 60 + 59); off <= 23 * 60 + 59; off++) {
		char s[64];
		int m = off < 0 ? -off : off;
		snprintf(s, sizeof(s), "2019-06-19T12:00:00%c%02d:%02d", off < 0 ? '-' : '+',
		         m / 60, m % 60);
		ok_at(s, D20190619 + S(12 * 3600) - S((int64_t)off * 60), 0);
		snprintf(s, sizeof(s), "2019-06-19T12:00:00%c%02d%02d", off < 0 ? '-' : '+', m / 60,
		         m % 60);
		ok_at(s, D20190619 + S(12 * 3600) - S((int64_t)off * 60), 0);
	}

	/* Every second of a day, in order and one second apart. */
	int64_t prev = 0;
	for (int t = 0; t < 86400; t++) {
		char s[64];
		snprintf(s, sizeof(s), "2019-06-19T%02d:%02d:%02d.000000Z", t / 3600, t / 60 % 60,
		         t % 60);
		struct isodate x = ok(s);
		if (t > 0 && x.us - prev != 1000000)
			fail_msg("%s is not one second after the previous", s);
		prev = x.us;
	}
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* Every day of 0001-9999: consecutive, equal to envelope_parse_date's
 * instant, read back from isodate_format_us and envelope_format_date, and
 * every seventh day equal to timegm (which ignores TZ). The day after the
 * last of a month is refused. */
static void test_every_day(void **state)
{
	(void)state;
	int64_t prev = 0;
	int n = 0;
	for (int y = 1; y <= 9999; y++) {
		for (int m = 1; m <= 12; m++) {
			int dim = days_in_month(y, m);
			for (int d = 1; d <= dim + 1; d++) {
				char s[64], back[ISODATE_STRLEN], eback[DATE_STR_LEN];
				struct isodate x, r;
				int64_t ms;
				snprintf(s, sizeof(s), "%04d-%02d-%02dT12:34:56.789Z", y, m, d);
				int rc = isodate_parse(s, strlen(s), &x, NULL, NULL);
				if (d > dim) {
					if (rc != GERR_INVALID)
						fail_msg("%s accepted", s);
					continue;
				}
				if (rc != 0)
					fail_msg("%s refused", s);
				if (n++ > 0 && x.us - prev != 86400LL * 1000000)
					fail_msg("%s is not one day after the previous", s);
				prev = x.us;
				assert_int_equal(envelope_parse_date(s, strlen(s), &ms), 0);
				if (ms * 1000 != x.us)
					fail_msg("%s: envelope %lld ms, isodate %lld us", s,
					         (long long)ms, (long long)x.us);
				envelope_format_date(isodate_ms(&x), eback);
				if (strcmp(eback, s) != 0)
					fail_msg("%s formats back as %s", s, eback);
				isodate_format_us(x.us, back);
				assert_int_equal(isodate_parse(back, strlen(back), &r, NULL, NULL),
				                 0);
				assert_int_equal(r.us, x.us);
				if (n % 7 == 0 && y >= 1902) {
					struct tm tm = {.tm_year = y - 1900,
					                .tm_mon = m - 1,
					                .tm_mday = d,
					                .tm_hour = 12,
					                .tm_min = 34,
					                .tm_sec = 56};
					time_t t = timegm(&tm);
					if ((int64_t)t * 1000000 + 789000 != x.us)
						fail_msg("%s: timegm %lld", s, (long long)t);
				}
			}
		}
	}
	assert_int_equal(n, 3652059); /* days in 0001-01-01..9999-12-31 */
}

static void test_format(void **state)
{
	(void)state;
	char out[ISODATE_STRLEN];
	isodate_format_us(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	isodate_format_us(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
	isodate_format_us(D20190619 + 123456, out);
	assert_string_equal(out, "2019-06-19T00:00:00.123456Z");
	isodate_format_us(S(-62135596800LL), out);
	assert_string_equal(out, "0001-01-01T00:00:00.000000Z");
	isodate_format_us(INT64_MIN, out);
	assert_string_equal(out, "0000-01-01T00:00:00.000000Z");
	isodate_format_us(INT64_MAX, out);
	assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
	/* A date past the year range after its offset prints, clamped or not,
	 * but year 0000 does not read back. */
	struct isodate d = ok("0001-01-01T00:00:00+01:00");
	isodate_format_us(d.us, out);
	assert_string_equal(out, "0000-12-31T23:00:00.000000Z");

	/* Milliseconds round down, either side of the epoch. */
	static const int64_t us[] = {0, 1, 999, 1000, 1001, -1, -999, -1000, -1001};
	static const int64_t ms[] = {0, 0, 0, 1, 1, -1, -1, -1, -2};
	for (size_t k = 0; k < sizeof(us) / sizeof(us[0]); k++) {
		d.us = us[k];
		d.ns = 0;
		assert_int_equal(isodate_ms(&d), ms[k]);
	}
	/* What core/envelope writes for an event reads back to the same ms. */
	static const int64_t env[] = {
	    0, 1, -1, 1560988126952LL, -62135596800000LL, 253402300799999LL};
	for (size_t k = 0; k < sizeof(env) / sizeof(env[0]); k++) {
		char e[DATE_STR_LEN];
		envelope_format_date(env[k], e);
		d = ok(e);
		assert_int_equal(d.us, env[k] * 1000);
		assert_int_equal(isodate_ms(&d), env[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known),     cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_json),      cmocka_unit_test(test_order),
	    cmocka_unit_test(test_every_day), cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
