/*
 * filter: match an event against a webhook's (or a route's) filter, and
 * read dotted paths such as "data.application.id" out of a JSON document.
 *
 * A filter is an object whose keys are dotted paths into the envelope
 * ({"event", "unit", "data": …}) and whose values are either a JSON scalar
 * (equality) or an operator object: {"$in": [...]}, {"$ne": v},
 * {"$exists": true|false}. All keys must match (AND). Array elements are
 * addressed by index ("data.tags.0").
 */
#ifndef GANCHO_CORE_FILTER_H
#define GANCHO_CORE_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "util/gerr.h"

/* filter_get: the value at a dotted path, borrowed from root; NULL if absent. */
json_t *filter_get(const json_t *root, const char *path);
/* filter_validate: the filter is well-formed (see above). */
int filter_validate(const json_t *filter, struct gerr *err);
/* filter_match: doc satisfies every clause of filter (validated). */
bool filter_match(const json_t *filter, const json_t *doc);
/* filter_key_string: the value at path as a string for ordering keys:
 * strings as is, numbers/bools/null in their JSON text. Returns the length
 * written (NUL-terminated, truncated to outsz-1) or -1 when absent or not a scalar. */
int filter_key_string(const json_t *root, const char *path, char *out, size_t outsz);

#endif
