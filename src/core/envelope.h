/*
 * envelope: the body gancho POSTs to a webhook,
 *   {"companyName":…,"id":…,"event":…,"date":"2019-06-19T23:48:46.952Z","data":<raw>}
 * in Gupy's key order, with data copied byte-for-byte from what the client sent.
 * Also the ISO-8601 date helpers used everywhere a date is shown or parsed.
 */
#ifndef GANCHO_CORE_ENVELOPE_H
#define GANCHO_CORE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define DATE_STR_LEN 25 /* "2019-06-19T23:48:46.952Z" + NUL */

/* envelope_format_date: ms since epoch → "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void envelope_format_date(int64_t ms, char out[DATE_STR_LEN]);
/* envelope_parse_date: RFC 3339 date-time "YYYY-MM-DDTHH:MM:SS[.f](Z|±hh:mm)"
 * (t and z may be lowercase; fraction of 1..9 digits, truncated to ms; a leap
 * second :60 rolls into the next minute) → ms since epoch (UTC). 0 or -1,
 * with *ms untouched on failure. */
int envelope_parse_date(const char *s, size_t n, int64_t *ms);
/* envelope_build appends the envelope to out. Strings are JSON-escaped; data is
 * copied as is (the caller has validated it as JSON). */
void envelope_build(struct buf *out, const char *company, const char *id, const char *event,
                    const char *date, const char *data, size_t datalen);

/* envelope_match_doc appends the document that filters and ordering keys
 * read: the envelope above plus "unit" (absent when the event has none),
 *   {"companyName":…,"id":…,"event":…,"date":…,"unit":…,"data":<raw>}
 * Ingest and replay both build it from the stored fields, so an event
 * matches the same webhooks live and in replay. */
void envelope_match_doc(struct buf *out, const char *company, const char *id, const char *event,
                        const char *date, const char *unit, const char *data, size_t datalen);

#endif
