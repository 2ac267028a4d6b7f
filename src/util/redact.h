/*
 * redact: credentials never reach a log line or an error message.
 *
 * A database URL or connection string names a password in one of three
 * places: the user-info of a URL (postgres://user:PW@host/db), a query
 * parameter of a URL (?password=PW, ?sslpassword=PW) or a keyword/value pair
 * of a libpq connection string (host=h password=PW, password='P W'). Every
 * place that shows such a string shows redact_url's copy, and a message from
 * a library that may quote part of it (libpq echoes a token it cannot parse)
 * goes through redact_scrub, which blots every password of that string.
 */
#ifndef GANCHO_UTIL_REDACT_H
#define GANCHO_UTIL_REDACT_H

#include <stddef.h>

/* REDACT_MASK replaces each credential. */
#define REDACT_MASK "***"

/* redact_url: copy url into out (size outsz > 0, always NUL-terminated,
 * truncated if need be) with each password value replaced by REDACT_MASK.
 * Returns the length written. A NULL url gives "". */
size_t redact_url(const char *url, char *out, size_t outsz);

/* redact_scrub: copy msg into out (as above) with every occurrence of a
 * password that url names, as written or percent-decoded, replaced by
 * REDACT_MASK. Returns the length written. */
size_t redact_scrub(const char *msg, const char *url, char *out, size_t outsz);

#endif
