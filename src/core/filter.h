/*
 * filter: match an event against a webhook's (or a route's) filter; paths
 * such as "data.application.id" are read with core/jsonpath.
 *
 * A filter is an object whose keys are dotted paths into the envelope
 * ({"companyName", "id", "event", "date", "unit", "data": …}, see
 * envelope_match_doc) and whose values are either a JSON scalar
 * (equality) or an object with one operator: $eq, $ne (or $neq), $gt,
 * $gte, $lt, $lte, $in, $nin, $exists (or $exist), $regex, $not. The keys
 * $and, $or (arrays of 1..32 filters) and $not (a filter) combine whole
 * filters. All keys must match (AND). Array elements are addressed by
 * index ("data.tags.0"). filter.c tells the semantics.
 *
 * A filter is compiled once (filter_compile, when a webhook is compiled)
 * into a tree that filter_eval runs per event.
 */
#ifndef GANCHO_CORE_FILTER_H
#define GANCHO_CORE_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/gerr.h"

/* filter_compile: the filter f (a JSON object) compiled into a tree, its
 * operands parsed and its $regex patterns compiled; the caller owns it
 * (filter_free). NULL with err filled (400 invalid_field naming the path
 * and the reason, or 500 nomem) when f is not a valid filter. */
struct filter;
struct filter *filter_compile(const json_t *f, struct gerr *err);
/* filter_eval: the JSON text doc[0..len) (normally the document of
 * envelope_match_doc) satisfies f; a NULL f matches everything. */
bool filter_eval(const struct filter *f, const char *doc, size_t len);
void filter_free(struct filter *f);
/* filter_validate: the filter is well-formed (filter_compile, then freed). */
int filter_validate(const json_t *filter, struct gerr *err);
/* Bounds of one filter: nesting of $and/$or/$not, nodes in its tree, the
 * bytes of a $regex pattern and of the string a pattern is matched against
 * (a longer value never matches). */
#define FILTER_MAX_DEPTH         16
#define FILTER_MAX_NODES         256
#define FILTER_MAX_LIST          32
#define FILTER_REGEX_MAX         256
#define FILTER_REGEX_SUBJECT_MAX 65536
/* The bounds {n,m} of a pattern's repetitions, multiplied, at most this. */
#define FILTER_REGEX_REPEAT_MAX 1000
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
/* filter_key_value: the same, of a raw JSON value v[0..vn) already looked up. */
int filter_key_value(const char *v, size_t vn, char *out, size_t outsz);

#endif
