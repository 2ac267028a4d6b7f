/*
 * isodate: the date of a received event (a source's datePath, Gupy's "date")
 * read strictly, as an instant that orders events of one entity.
 *
 * Accepted: RFC 3339 date-time, the profile of ISO 8601 senders use,
 *     YYYY-MM-DD ("T" | "t" | " ") HH:MM:SS [ "." 1*9DIGIT ] ("Z" | "z" | offset)
 *     offset = ("+" | "-") HH ":" MM  |  ("+" | "-") HHMM
 * e.g. "2019-06-19T00:00:00.000Z" (Gupy), "2019-06-19T00:00:00-03:00",
 * "2019-06-19 00:00:00.123456789+0530". The space instead of "T" is what
 * RFC 3339 section 5.6 allows "for readability" and what SQL exports write;
 * "±HHMM" is what Java's "Z" pattern and strftime's %z write.
 *
 * Refused, each with a reason: no offset (a date without a zone is an
 * ambiguous instant, and ordering by it across senders would be wrong by
 * hours: the sender must say), an hour-only offset ("+03"), offsets beyond
 * ±23:59 or with minutes above 59, years outside 0001-9999 (as written,
 * before the offset applies), months and days that do not exist (Feb 30,
 * Feb 29 of a non-leap year: proleptic Gregorian calendar), hour 24,
 * minute 60, second 60 (a leap second has no instant of its own in Unix
 * time; mapping it onto the next second would put it after later events, so
 * it is refused rather than misordered), a "." without digits or with more
 * than 9 (nanoseconds), a comma as decimal mark, basic format
 * ("20190619T000000Z"), week or ordinal dates, expanded years, spaces or
 * anything before or after, NUL, and more than ISODATE_TEXT_MAX characters.
 * A JSON number (epoch seconds or milliseconds) is refused too: the unit
 * would be a guess.
 *
 * The instant is microseconds since 1970-01-01T00:00:00Z (int64: years
 * 0001-9999 need about 2^58), plus the nanoseconds below it, so two dates
 * compare exactly with isodate_cmp, and by us alone (what a store keeps)
 * whenever they differ by 1 µs or more. Dates that differ only below the
 * microsecond tie on us; equal instants written differently
 * ("…T03:00:00+03:00" and "…T00:00:00Z") are equal, as they should be.
 * No libc time function is used (no TZ dependence): days come from the
 * civil date by integer arithmetic.
 */
#ifndef GANCHO_CORE_ISODATE_H
#define GANCHO_CORE_ISODATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/gerr.h"

#define ISODATE_TEXT_MAX 64 /* longest text looked at; the longest valid is 35 */
#define ISODATE_STRLEN   28 /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" + NUL */

struct isodate {
	int64_t us; /* microseconds since the epoch, UTC (floor of the instant) */
	int32_t ns; /* nanoseconds beyond us: 0-999, from fraction digits 7-9 */
};

/* isodate_parse: s[0..n) → *out. 0, or GERR_INVALID with 400, invalid_field
 * and a reason prefixed with "<field>: " (field may be NULL), quoting at
 * most ISODATE_TEXT_MAX characters of s (non-printable ones as '?'); *out
 * untouched on error. */
int isodate_parse(const char *s, size_t n, struct isodate *out, const char *field,
                  struct gerr *err);

/* isodate_from_json: isodate_parse of a JSON string (its full length, so an
 * embedded NUL is refused); any other JSON type is refused naming its type. */
int isodate_from_json(const json_t *v, struct isodate *out, const char *field, struct gerr *err);

/* isodate_cmp: <0, 0 or >0 as a is before, at or after b. */
int isodate_cmp(const struct isodate *a, const struct isodate *b);

/* isodate_ms: the instant in milliseconds since the epoch, rounded down
 * (what core/envelope formats). */
int64_t isodate_ms(const struct isodate *d);

/* isodate_format_us: us as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (always six
 * fraction digits, UTC), which isodate_parse reads back to the same us.
 * Instants before 0000-01-01 or after 9999-12-31T23:59:59.999999Z are
 * clamped to those; only years 0001-9999 read back. */
void isodate_format_us(int64_t us, char out[ISODATE_STRLEN]);

#endif
