/*
 * template: the strings of a route's actions (a URL, a header value, a plain
 * text, a JSON body) with {{path}} placeholders, compiled once when the route
 * is created and rendered for every receipt it fires on.
 *
 * A placeholder is a value lookup and nothing else (no logic, no filters, no
 * loops): {{body.data.job.id}}, {{ entity.jobId }} (spaces inside the braces
 * are allowed), {{headers.x-request-id}}, {{receipt.id}}. The path is dotted
 * and rooted at body., headers., entity. or receipt.; array elements are
 * index segments ("body.data.application.tags.0"), as in jsonpath_get. The
 * receipt fields are id, date, event and sourceId. Header names are
 * lower-cased when compiled, so the lookup sees "headers" + "x-request-id".
 * There is no escape for a literal "{{" or "}}": "{{" always opens a
 * placeholder and a "}}" outside one is an error. A single "{" or "}" is text.
 *
 * What a value becomes, by context:
 * - TEMPLATE_URL: a string's decoded text, or a number's / true's / false's /
 *   null's JSON text, percent-encoded (RFC 3986: every byte but A-Z a-z 0-9
 *   - . _ ~ becomes %XX), so a "/", "?" or "&" in a value cannot change the
 *   path or the query. Placeholders may only come after the host (in the
 *   path or the query): a value can never change where the request goes.
 *   A value that would make a whole path segment "", "." or ".." fails (it
 *   would name another resource once the path is normalised). The URL's own
 *   text is printable ASCII without backslash or fragment, "%" only in %XX
 *   (what urlcheck_target accepts), so every rendered URL is too.
 * - TEMPLATE_HEADER: the same text, unencoded; a value holding CR, LF, NUL or
 *   another control character but tab fails (no header injection).
 * - TEMPLATE_TEXT: the same text, unencoded; a NUL fails.
 * - JSON body (template_compile_json): every string of the body is a
 *   template; object keys may not hold placeholders. A string that is exactly
 *   one placeholder ("{{body.data.application.score}}") becomes the value
 *   itself with its JSON type and its raw text byte for byte (a number stays
 *   that number, however big; an object is inserted whole); any other string
 *   gets each value inserted as escaped JSON string text ("score {{…}}" gives
 *   "score 87"). The rendered body is always valid JSON.
 * In URL, HEADER and TEXT an object or array value fails.
 *
 * Errors. Compiling fails with 400 "invalid_field" and a message naming the
 * problem and its byte offset (from 0; in a JSON body, of the string at a
 * dotted location): unclosed "{{", stray "}}", empty placeholder, unknown
 * root or receipt field, malformed path, a placeholder before a URL's path,
 * NUL, control characters in a header, a URL's text not as above, or past
 * the bounds below.
 * Rendering fails with 422 "template_missing" and the message
 * "template: body.data.job.id is missing" when the lookup finds nothing, or
 * 422 "template_value" when a value cannot go where it is placed; the caller
 * fails that delivery permanently.
 */
#ifndef GANCHO_CORE_TEMPLATE_H
#define GANCHO_CORE_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/gerr.h"

#define TEMPLATE_MAX_BYTES        65536 /* text of one template (all strings of a JSON body) */
#define TEMPLATE_MAX_PLACEHOLDERS 512
#define TEMPLATE_MAX_PATH         256     /* bytes of one placeholder's path */
#define TEMPLATE_MAX_DEPTH        64      /* nesting of a JSON body template */
#define TEMPLATE_MAX_OUTPUT       8388608 /* bytes one render may produce */

enum template_ctx {
	TEMPLATE_URL,
	TEMPLATE_HEADER,
	TEMPLATE_TEXT,
};

struct template; /* opaque, immutable once compiled: render it from any thread */

/* template_lookup: find root's path ("body", "data.job.id") for a render.
 * Returns true with *json, *len set to the value's raw JSON text (for a
 * string, the literal with its quotes and escapes), borrowed until the render
 * returns; false when there is no such value. For body and entity the caller
 * normally answers with jsonpath_get over the document's JSON text. */
typedef bool (*template_lookup)(void *ctx, const char *root, const char *path, const char **json,
                                size_t *len);

/* template_compile: compile the NUL-terminated text for ctx into *out (free
 * with template_free). Returns 0, or GERR_INVALID (400 "invalid_field") /
 * GERR_NOMEM with err filled and *out NULL. */
int template_compile(const char *text, enum template_ctx ctx, struct template **out,
                     struct gerr *err);
/* template_compile_n: the same for text[0..len), which may hold a NUL (refused
 * rather than cutting the text short): use it for a string out of jansson,
 * with json_string_length. */
int template_compile_n(const char *text, size_t len, enum template_ctx ctx, struct template **out,
                       struct gerr *err);
/* template_compile_json: compile a JSON body template (any JSON value; every
 * string in it is a template, keys are literal and may not hold "{{" or "}}").
 * Returns as template_compile. */
int template_compile_json(const json_t *body, struct template **out, struct gerr *err);
void template_free(struct template *t);

/* template_url_origin: a URL template's fixed "scheme://host[:port]", which
 * no value can change (borrowed; NULL for other templates): check it with
 * urlcheck_target when the route is created. */
const char *template_url_origin(const struct template *t);

/* template_render: append the rendering of t to out, looking values up with
 * lookup(ctx, …). Returns 0; or GERR_INVALID with err 422 "template_missing"
 * ("template: body.data.job.id is missing") or 422 "template_value" (an
 * object in a URL, a line break in a header, a value that is not JSON, more
 * than TEMPLATE_MAX_OUTPUT bytes), or GERR_NOMEM; on failure out is left as
 * it was. */
int template_render(const struct template *t, template_lookup lookup, void *ctx, struct buf *out,
                    struct gerr *err);

/* template_path_count / template_path: the placeholders of t in text order
 * (a path used twice is listed twice), so a route can say which entity
 * fields it needs. *root is "body", "headers", "entity" or "receipt" and
 * *path the rest ("data.job.id"); both borrowed from t. */
size_t template_path_count(const struct template *t);
void template_path(const struct template *t, size_t i, const char **root, const char **path);

#endif
