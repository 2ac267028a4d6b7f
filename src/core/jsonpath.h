/*
 * jsonpath: dotted paths ("data.application.id", "data.tags.0") read out of
 * JSON text in place, without decoding the document into a tree.
 *
 * The one path reader of gancho: webhook and route filters (core/filter),
 * templates' placeholders (core/template, whose callers look values up with
 * it), FIFO ordering keys, and a source's idPath, eventPath, datePath and
 * entity paths all go through it, so a path means the same everywhere.
 *
 * A path is split on '.'; each segment names an object member or, on an
 * array, an index when the segment is all digits. A member repeated in one
 * object: the last one counts (what jansson and most parsers keep). Values
 * come back as their raw JSON text, borrowed from the document, so a number
 * no C type holds (1e400) is passed on exactly as sent.
 *
 * The document is JSON text the caller has validated (json_scan); the
 * readers still never step past its length, so a malformed text only fails
 * to match, never reads out of bounds.
 */
#ifndef GANCHO_CORE_JSONPATH_H
#define GANCHO_CORE_JSONPATH_H

#include <stdbool.h>
#include <stddef.h>

/* jsonpath_check: NULL when s[0..n) is a path: one or more non-empty
 * segments joined by '.', without control characters; else why not
 * ("is empty", "has an empty segment", "holds a control character").
 * Length limits are the caller's (each place says its own). */
const char *jsonpath_check(const char *s, size_t n);
/* jsonpath_valid: jsonpath_check of a NUL-terminated path passes. */
bool jsonpath_valid(const char *path);

/* One segment of a split path (pointing into the path's text). */
struct jsonpath_seg {
	const char *s;
	size_t n;
	long long idx; /* the segment as an array index, or -1 */
};

/* jsonpath_split: path (valid) split into at most max segments; returns how
 * many there are (which may exceed max: then only max were written). */
int jsonpath_split(const char *path, struct jsonpath_seg *segs, int max);

/* jsonpath_find: the raw value at the split path in doc[0..len): true with
 * *val, *vlen its bytes (borrowed from doc), false if absent. */
bool jsonpath_find(const char *doc, size_t len, const struct jsonpath_seg *segs, int nsegs,
                   const char **val, size_t *vlen);

/* jsonpath_get: jsonpath_find for a path given as text. */
bool jsonpath_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen);

/* ---- string literals, read in place ---- */

/* jsonpath_char: the next character of a string literal's body s[*i..end)
 * as UTF-8 in b (escapes decoded, surrogate pairs joined); its length 1..4,
 * or 0 at the end or on a malformed escape. */
int jsonpath_char(const char *s, size_t end, size_t *i, unsigned char b[4]);

/* jsonpath_string_equal: the literal s[0..n) (with its quotes) decodes to
 * want[0..wlen). */
bool jsonpath_string_equal(const char *s, size_t n, const char *want, size_t wlen);

/* jsonpath_string_decode: the literal s[0..n) (with its quotes) decoded into
 * out, which must hold n bytes (a decoded text is never longer than its
 * literal); the decoded length, or -1 when s is not a whole string literal. */
long jsonpath_string_decode(const char *s, size_t n, char *out);

#endif
