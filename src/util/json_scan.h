/*
 * json_scan: a strict, allocation-free JSON validator (RFC 8259) that also
 * reports the raw byte spans of a top-level object's members.
 *
 * The ingest path uses it to validate a request once and keep "data" exactly
 * as sent: no parse tree, no re-serialisation. Rejects: trailing commas,
 * unquoted keys, single quotes, comments, NaN/Infinity, leading zeros, bad
 * escapes, invalid UTF-8, control characters in strings, trailing garbage,
 * nesting deeper than JSON_SCAN_MAX_DEPTH, and duplicate top-level keys.
 */
#ifndef GANCHO_UTIL_JSON_SCAN_H
#define GANCHO_UTIL_JSON_SCAN_H

#include <stddef.h>

#include "util/gerr.h"

#define JSON_SCAN_MAX_DEPTH 128

enum json_type {
	JSON_T_OBJECT,
	JSON_T_ARRAY,
	JSON_T_STRING,
	JSON_T_NUMBER,
	JSON_T_TRUE,
	JSON_T_FALSE,
	JSON_T_NULL
};

struct json_member {
	const char *key; /* raw key bytes between the quotes (escapes not decoded) */
	size_t keylen;
	const char *val; /* raw value bytes, e.g. "{...}" or "\"abc\"" with quotes */
	size_t vallen;
	enum json_type type;
};

/* json_scan_object: validate s[0..n) as one JSON document whose top level is
 * an object (surrounding whitespace allowed); fill up to max members. More
 * than max members is an error. Returns 0 and *count, or GERR_INVALID with
 * err telling the byte offset and reason ("invalid_json"). */
int json_scan_object(const char *s, size_t n, struct json_member *members, int max, int *count,
                     struct gerr *err);
/* json_validate: validate any JSON document (top level of any type). */
int json_validate(const char *s, size_t n, struct gerr *err);
/* json_validate_each: json_validate, and, when the top level is an object,
 * each of its members handed to each(ctx, m) as it is read, in order,
 * repeated keys included (a caller that must judge the document whole
 * ignores what it was handed when the result is not 0). One pass for a
 * document that is validated and then read at its top level. */
int json_validate_each(const char *s, size_t n,
                       void (*each)(void *ctx, const struct json_member *m), void *ctx,
                       struct gerr *err);
/* json_string_decode: decode a raw JSON string literal (with its quotes, as in
 * json_member.val) into UTF-8 in out, NUL-terminated. Returns the decoded length,
 * or -1 if it does not fit or holds a NUL (\u0000). */
int json_string_decode(const char *raw, size_t n, char *out, size_t outsz);
/* json_member_find: the member whose (unescaped ASCII) key equals key, or NULL. */
const struct json_member *json_member_find(const struct json_member *m, int count, const char *key);

#endif
