/*
 * envelope: build the webhook body and convert ISO-8601 dates.
 *
 * Every delivery formats one envelope and usually one date, so both are
 * written by hand: no snprintf, no gmtime/timegm (which consult the TZ
 * machinery and are not exact for every year on every libc), no allocation
 * beyond growing the caller's buffer once.
 *
 * Dates use the proleptic Gregorian calendar via Howard Hinnant's
 * days_from_civil / civil_from_days algorithms, which are exact integer
 * arithmetic over the whole 0000..9999 range we print. The envelope is the
 * fixed key order Gupy uses; data is appended verbatim because the ingest
 * path validated it with json_scan and consumers may compare the bytes.
 */
#include "core/envelope.h"
#include "util/civil.h"

#include <stdbool.h>
#include <string.h>

#define MS_PER_DAY 86400000LL
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: what fits in
 * DATE_STR_LEN; anything outside is clamped rather than printed wrongly. */
#define DATE_MIN_MS (-62167219200000LL)
#define DATE_MAX_MS 253402300799999LL

static void envelope_put(char *p, int64_t v, int width)
{
	for (int k = width - 1; k >= 0; k--) {
		p[k] = (char)('0' + v % 10);
		v /= 10;
	}
}

void envelope_format_date(int64_t ms, char out[DATE_STR_LEN])
{
	if (ms < DATE_MIN_MS)
		ms = DATE_MIN_MS;
	if (ms > DATE_MAX_MS)
		ms = DATE_MAX_MS;
	/* Floor division so dates before 1970 land on the right day. */
	int64_t days = ms / MS_PER_DAY;
	int64_t rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	civil_ymd_from_days(days, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00.000Z", DATE_STR_LEN);
	envelope_put(out, y, 4);
	envelope_put(out + 5, m, 2);
	envelope_put(out + 8, d, 2);
	envelope_put(out + 11, rem / 3600000, 2);
	envelope_put(out + 14, rem / 60000 % 60, 2);
	envelope_put(out + 17, rem / 1000 % 60, 2);
	envelope_put(out + 20, rem % 1000, 3);
}

/* envelope_digits reads exactly width decimal digits at s[*i]. */
static bool envelope_digits(const char *s, size_t n, size_t *i, int width, int *v)
{
	if (n - *i < (size_t)width)
		return false;
	int x = 0;
	for (int k = 0; k < width; k++) {
		char c = s[*i + k];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*i += (size_t)width;
	*v = x;
	return true;
}

static bool envelope_expect(const char *s, size_t n, size_t *i, char c)
{
	if (*i >= n || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

static int envelope_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

int envelope_parse_date(const char *s, size_t n, int64_t *ms)
{
	size_t i = 0;
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac = 0;

	if (!s)
		return -1;
	if (!envelope_digits(s, n, &i, 4, &y) || !envelope_expect(s, n, &i, '-') ||
	    !envelope_digits(s, n, &i, 2, &mo) || !envelope_expect(s, n, &i, '-') ||
	    !envelope_digits(s, n, &i, 2, &d))
		return -1;
	if (i >= n || (s[i] != 'T' && s[i] != 't'))
		return -1;
	i++;
	if (!envelope_digits(s, n, &i, 2, &h) || !envelope_expect(s, n, &i, ':') ||
	    !envelope_digits(s, n, &i, 2, &mi) || !envelope_expect(s, n, &i, ':') ||
	    !envelope_digits(s, n, &i, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > envelope_days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (i < n && s[i] == '.') {
		/* 1..9 digits (up to nanoseconds); keep the first three, truncating. */
		int ndig = 0;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (ndig < 3)
				frac = frac * 10 + (s[i] - '0');
			ndig++;
			i++;
		}
		if (ndig < 1 || ndig > 9)
			return -1;
		for (; ndig < 3; ndig++)
			frac *= 10;
	}
	int64_t off_ms = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i] == '-' ? -1 : 1, oh, om;
		i++;
		if (!envelope_digits(s, n, &i, 2, &oh) || !envelope_expect(s, n, &i, ':') ||
		    !envelope_digits(s, n, &i, 2, &om) || oh > 23 || om > 59)
			return -1;
		off_ms = sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	/* A leap second (:60) simply rolls into the next minute. Local time
	 * minus its offset is UTC. */
	*ms = civil_days_from_ymd(y, mo, d) * MS_PER_DAY + (int64_t)h * 3600000 +
	      (int64_t)mi * 60000 + (int64_t)sec * 1000 + frac - off_ms;
	return 0;
}

void envelope_build(struct buf *out, const char *company, const char *id, const char *event,
                    const char *date, const char *data, size_t datalen)
{
	size_t clen = strlen(company), ilen = strlen(id), elen = strlen(event), dlen = strlen(date);
	/* One reservation for the common case (nothing to escape): 47 bytes of
	 * keys and punctuation plus the quotes around the four strings. */
	buf_reserve(out, 55 + clen + ilen + elen + dlen + datalen);
	buf_append(out, "{\"companyName\":", 15);
	buf_json_str(out, company, clen);
	buf_append(out, ",\"id\":", 6);
	buf_json_str(out, id, ilen);
	buf_append(out, ",\"event\":", 9);
	buf_json_str(out, event, elen);
	buf_append(out, ",\"date\":", 8);
	buf_json_str(out, date, dlen);
	buf_append(out, ",\"data\":", 8);
	buf_append(out, data, datalen);
	buf_putc(out, '}');
}

void envelope_match_doc(struct buf *out, const char *company, const char *id, const char *event,
                        const char *date, const char *unit, const char *data, size_t datalen)
{
	buf_append(out, "{\"companyName\":", 15);
	buf_json_str(out, company, strlen(company));
	buf_append(out, ",\"id\":", 6);
	buf_json_str(out, id, strlen(id));
	buf_append(out, ",\"event\":", 9);
	buf_json_str(out, event, strlen(event));
	buf_append(out, ",\"date\":", 8);
	buf_json_str(out, date, strlen(date));
	if (unit) {
		buf_append(out, ",\"unit\":", 8);
		buf_json_str(out, unit, strlen(unit));
	}
	buf_append(out, ",\"data\":", 8);
	buf_append(out, data, datalen);
	buf_putc(out, '}');
}
