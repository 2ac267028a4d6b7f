/*
 * isodate: strict RFC 3339 date-times to exact instants (see isodate.h).
 *
 * The parser walks the text once, field by field, and says which field is
 * wrong: a sender whose events are refused must be able to fix its clock
 * format from the rejections list alone. The instant is computed with
 * Howard Hinnant's days_from_civil (exact integer arithmetic, proleptic
 * Gregorian, any year) rather than timegm(), which depends on the process'
 * time zone machinery and on the libc's range. Every field is bounded
 * before it reaches the arithmetic, so nothing here can overflow: the
 * extreme instants are about ±2^58 microseconds.
 */
#include "core/isodate.h"
#include "util/civil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define US_PER_S   1000000LL
#define US_PER_DAY 86400000000LL

static const char isodate_shape[] =
    "is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction] and Z or +HH:MM)";

static int isodate_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* isodate_digits: exactly width decimal digits at s[*i] → *v. */
static bool isodate_digits(const char *s, size_t n, size_t *i, int width, int *v)
{
	int x = 0;
	if (n - *i < (size_t)width)
		return false;
	for (int k = 0; k < width; k++) {
		char c = s[*i + (size_t)k];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*i += (size_t)width;
	*v = x;
	return true;
}

static bool isodate_char(const char *s, size_t n, size_t *i, char c)
{
	if (*i >= n || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

int isodate_parse(const char *s, size_t n, struct isodate *out, const char *field, struct gerr *err)
{
	size_t i = 0;
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac = 0, ndig = 0;
	char why[96];

	/* FAIL: refuse with a fixed reason; FAILF: with a formatted one. */
#define FAIL(w) return gerr_invalid_text(err, field, s, n, (w))
#define FAILF(...)                                                                                 \
	do {                                                                                       \
		snprintf(why, sizeof(why), __VA_ARGS__);                                           \
		FAIL(why);                                                                         \
	} while (0)
	if (!s)
		return gerr_invalid_text(err, field, "", 0, "is not a date-time");
	if (n == 0)
		FAIL("is empty");
	if (n > ISODATE_TEXT_MAX)
		FAIL("is too long for a date-time");

	/* Date. */
	if (!isodate_digits(s, n, &i, 4, &y) || !isodate_char(s, n, &i, '-') ||
	    !isodate_digits(s, n, &i, 2, &mo) || !isodate_char(s, n, &i, '-') ||
	    !isodate_digits(s, n, &i, 2, &d))
		FAIL(isodate_shape);
	if (y < 1)
		FAILF("has year %04d, out of range (0001-9999)", y);
	if (mo < 1 || mo > 12)
		FAILF("has month %02d, which does not exist", mo);
	if (d < 1 || d > isodate_days_in_month(y, mo))
		FAILF("has day %02d, which does not exist in that month (%d days)", d,
		      isodate_days_in_month(y, mo));

	/* Time. */
	if (i == n)
		FAIL("is a date without a time (an event date is an instant)");
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		FAIL(isodate_shape);
	i++;
	if (!isodate_digits(s, n, &i, 2, &h) || !isodate_char(s, n, &i, ':') ||
	    !isodate_digits(s, n, &i, 2, &mi) || !isodate_char(s, n, &i, ':') ||
	    !isodate_digits(s, n, &i, 2, &sec))
		FAIL(isodate_shape);
	if (h > 23)
		FAILF("has hour %02d, out of range (00-23)", h);
	if (mi > 59)
		FAILF("has minute %02d, out of range (00-59)", mi);
	if (sec == 60)
		FAIL("has second 60, a leap second, which is not accepted (no instant of its own)");
	if (sec > 59)
		FAILF("has second %02d, out of range (00-59)", sec);
	if (i < n && s[i] == ',')
		FAIL("has a comma before the fraction (write a dot)");
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (ndig < 9)
				frac = frac * 10 + (s[i] - '0');
			ndig++;
			i++;
		}
		if (ndig == 0)
			FAIL("has a dot without fraction digits");
		if (ndig > 9)
			FAILF("has %d fraction digits, more than 9 (nanoseconds)", ndig);
		for (int k = ndig; k < 9; k++)
			frac *= 10;
	}

	/* Offset. */
	int off_s = 0;
	if (i == n)
		FAIL("has no time zone offset (add Z or +HH:MM; a date without one is ambiguous)");
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int sign = s[i] == '-' ? -1 : 1, oh, om;
		i++;
		if (!isodate_digits(s, n, &i, 2, &oh))
			FAIL("has a malformed offset (write +HH:MM or -HH:MM)");
		if (i == n)
			FAIL("has an offset without minutes (write +HH:MM)");
		isodate_char(s, n, &i, ':');
		if (!isodate_digits(s, n, &i, 2, &om))
			FAIL("has a malformed offset (write +HH:MM or -HH:MM)");
		if (oh > 23)
			FAILF("has offset hour %02d, out of range (00-23)", oh);
		if (om > 59)
			FAILF("has offset minute %02d, out of range (00-59)", om);
		off_s = sign * (oh * 3600 + om * 60);
	} else {
		FAIL("has no time zone offset (add Z or +HH:MM; a date without one is ambiguous)");
	}
	if (i != n)
		FAIL("has text after the date-time");
#undef FAIL
#undef FAILF

	/* Local time minus its offset is UTC. */
	int64_t secs = civil_days_from_ymd(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s;
	out->us = secs * US_PER_S + frac / 1000;
	out->ns = frac % 1000;
	return 0;
}

int isodate_from_json(const json_t *v, struct isodate *out, const char *field, struct gerr *err)
{
	const char *f = field ? field : "date";
	if (json_is_string(v))
		return isodate_parse(json_string_value(v), json_string_length(v), out, field, err);
	if (json_is_number(v))
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: must be an RFC 3339 date-time string, not a number "
		                "(epoch seconds and milliseconds are not guessed)",
		                f);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field",
	                "%s: must be an RFC 3339 date-time string, not %s", f,
	                !v                   ? "missing"
	                : json_is_null(v)    ? "null"
	                : json_is_boolean(v) ? "a boolean"
	                : json_is_array(v)   ? "an array"
	                                     : "an object");
}

int isodate_cmp(const struct isodate *a, const struct isodate *b)
{
	if (a->us != b->us)
		return a->us < b->us ? -1 : 1;
	return (a->ns > b->ns) - (a->ns < b->ns);
}

int64_t isodate_ms(const struct isodate *d)
{
	int64_t q = d->us / 1000;
	return d->us % 1000 < 0 ? q - 1 : q;
}

static void isodate_put(char *p, int64_t v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		p[k] = (char)('0' + v % 10);
		v /= 10;
	}
}

void isodate_format_us(int64_t us, char out[ISODATE_STRLEN])
{
	const int64_t lo = civil_days_from_ymd(0, 1, 1) * US_PER_DAY;
	const int64_t hi = civil_days_from_ymd(10000, 1, 1) * US_PER_DAY - 1;
	if (us < lo)
		us = lo;
	if (us > hi)
		us = hi;
	int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY;
	if (rem < 0) {
		rem += US_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	civil_ymd_from_days(days, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00.000000Z", ISODATE_STRLEN);
	isodate_put(out, y, 4);
	isodate_put(out + 5, m, 2);
	isodate_put(out + 8, d, 2);
	int64_t s = rem / US_PER_S;
	isodate_put(out + 11, s / 3600, 2);
	isodate_put(out + 14, s / 60 % 60, 2);
	isodate_put(out + 17, s % 60, 2);
	isodate_put(out + 20, rem % US_PER_S, 6);
}
