/*
 * filter: match an event against a webhook's (or a route's) filter, and
 * read dotted paths such as "data.application.id" out of a JSON document.
 *
 * A filter is an object whose keys are dotted paths into the envelope
 * ({"companyName", "id", "event", "date", "unit", "data": …}, see
 * envelope_match_doc) and whose values are either a JSON scalar
 * (equality) or an operator object: {"$in": [...]}, {"$ne": v},
 * {"$exists": true|false}. All keys must match (AND). Array elements are
 * addressed by index ("data.tags.0").
 */
#ifndef GANCHO_CORE_FILTER_H
#define GANCHO_CORE_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/gerr.h"

/* filter_get: the raw value at a dotted path in the JSON text doc[0..len):
 * true with *val, *vlen set to its bytes (borrowed from doc), false if absent.
 * A key repeated in one object: the last one counts. */
bool filter_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen);
/* filter_validate: the filter is well-formed (see above). */
int filter_validate(const json_t *filter, struct gerr *err);
/* filter_match: the JSON text doc[0..len) (validated, normally the document
 * of envelope_match_doc) satisfies every clause of filter (validated). */
bool filter_match(const json_t *filter, const char *doc, size_t len);
/* filter_key_string: the value at path as an ordering key (a FIFO lane's
 * name): strings decoded, integers and true/false/null in their JSON text,
 * other numbers as jansson prints the nearest double (their own text when no
 * double holds them). A key that does not fit outsz-1 bytes, holds a NUL or
 * starts with '~' is written as '~' + base64url(SHA-256(key)), 44 bytes, so
 * that distinct values never share a lane whatever their length. outsz must
 * be at least FILTER_KEY_MIN. Returns the length written (NUL-terminated) or
 * -1 when absent, not a scalar, or out of memory. */
#define FILTER_KEY_MIN 45
int filter_key_string(const char *doc, size_t len, const char *path, char *out, size_t outsz);

#endif
