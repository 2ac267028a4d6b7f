/*
 * utf8: every answer gancho writes is valid UTF-8, whatever bytes came in.
 *
 * Text from outside (a request path, a JSON key echoed in an error, a
 * receiver's answer) may hold any bytes, and fixed-size message buffers cut
 * text at a byte count. These helpers validate text by the rules of RFC 3629
 * (no overlong forms, no surrogates, nothing past U+10FFFF), cut it at a
 * character boundary, and replace what is not UTF-8 with U+FFFD. The JSON
 * string writer (buf_json_str) uses them, so every hand-built JSON answer is
 * valid however its text was made.
 */
#ifndef GANCHO_UTIL_UTF8_H
#define GANCHO_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* utf8_seq: the length (1..4) of the valid character that starts s[0..n),
 * or 0 when the bytes there are not one (invalid, or cut short by n). */
size_t utf8_seq(const char *s, size_t n);

/* utf8_valid: s[0..n) is entirely valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

/* utf8_cut: the largest length <= max of s[0..n) that does not end in the
 * middle of a character, for "%.*s" truncation of text that may be UTF-8.
 * A cut never splits a valid character; invalid bytes count one each. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* utf8_trim_partial: n without a trailing incomplete character (the start of
 * a valid multi-byte sequence that s[0..n) ends before finishing), as left by
 * a cut at a byte count. Returns n when s does not end that way. */
size_t utf8_trim_partial(const char *s, size_t n);

/* utf8_fix: copy s[0..n) into out (size outsz > 0, always NUL-terminated),
 * each invalid byte replaced by U+FFFD and a NUL by U+FFFD too, cutting at a
 * character boundary when out is too small. Returns the length written. */
size_t utf8_fix(const char *s, size_t n, char *out, size_t outsz);

/* Excerpts of client-given text for error messages: at most
 * UTF8_EXCERPT_MAX bytes, then "..." when cut. out holds UTF8_EXCERPT_SIZE. */
#define UTF8_EXCERPT_MAX  64
#define UTF8_EXCERPT_SIZE (UTF8_EXCERPT_MAX + 4)
/* utf8_excerpt: the NUL-terminated s itself when short enough, else a copy
 * in out cut on a character boundary. Returns s or out (borrowed). */
const char *utf8_excerpt(const char *s, char out[UTF8_EXCERPT_SIZE]);
/* utf8_ascii_excerpt: s[0..n) with every byte that is not printable ASCII
 * written '?', for text that should have been ASCII (addresses, dates).
 * Returns out. */
const char *utf8_ascii_excerpt(const char *s, size_t n, char out[UTF8_EXCERPT_SIZE]);

#endif
