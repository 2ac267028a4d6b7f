/*
 * headers: validation of user-given HTTP headers (clientHeaders).
 *
 * A name must be an RFC 9110 token; a value must not hold CR, LF or NUL
 * (header injection) and is at most 8 KiB. Names that would break framing or
 * that gancho writes itself are refused, in any case: Host, Content-Length,
 * Transfer-Encoding, Content-Encoding, Connection, Upgrade, TE, Trailer,
 * Keep-Alive, Expect, HTTP2-Settings, Proxy-*, Authorization, User-Agent,
 * Acesso-Signature, webhook-id, webhook-timestamp, webhook-signature.
 * A name may appear once, compared case-insensitively.
 */
#ifndef GANCHO_CORE_HEADERS_H
#define GANCHO_CORE_HEADERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/gerr.h"

/* headers_is_token: s is a non-empty RFC 9110 token (what a header name is). */
bool headers_is_token(const char *s);
/* headers_validate: v must be an object of string values, at most 64 entries. */
int headers_validate(const json_t *v, struct gerr *err);
/* headers_line: the libcurl header line for one validated header, malloc'd:
 * "Name: value", or "Name;" when the value is empty or only blanks (libcurl
 * drops "Name:" with no value instead of sending it). NULL when out of memory. */
char *headers_line(const char *name, const char *value, size_t vlen);

#endif
