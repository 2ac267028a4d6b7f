/*
 * headers: validation of user-given HTTP headers (clientHeaders).
 *
 * A name must be an RFC 9110 token; a value must not hold CR, LF or NUL
 * (header injection) and is at most 8 KiB. Names that would break framing or
 * that gancho owns are refused: Host, Content-Length, Transfer-Encoding,
 * Connection, Upgrade, TE, Trailer, Keep-Alive, Expect, Proxy-*.
 */
#ifndef GANCHO_CORE_HEADERS_H
#define GANCHO_CORE_HEADERS_H

#include <jansson.h>
#include <stdbool.h>

#include "util/gerr.h"

/* headers_is_token: s is a non-empty RFC 9110 token (what a header name is). */
bool headers_is_token(const char *s);
/* headers_validate: v must be an object of string values, at most 64 entries. */
int headers_validate(const json_t *v, struct gerr *err);

#endif
