/*
 * gerr: the reason a call failed, for a person to read.
 *
 * Functions return 0 or a negative GERR_* code and, when given a non-NULL
 * struct gerr, fill it with an HTTP-ish status, a short machine code and a
 * message. The code strings are the "code" of the API's error body.
 */
#ifndef GANCHO_UTIL_GERR_H
#define GANCHO_UTIL_GERR_H

#include <stddef.h>

enum {
	GERR_OK = 0,
	GERR_INVALID = -1,  /* bad input: 400/422 */
	GERR_NOTFOUND = -2, /* 404 */
	GERR_CONFLICT = -3, /* 409 */
	GERR_IO = -4,       /* storage or network failure: 500/503 */
	GERR_NOMEM = -5,
	GERR_AUTH = -6,   /* 401/403 */
	GERR_TOOBIG = -7, /* 413 */
};

struct gerr {
	int status;    /* HTTP status a server should answer with */
	char code[32]; /* short machine-readable code, e.g. "invalid_json" */
	char msg[256]; /* what a person reads */
};

/* gerr_set fills err (if not NULL) and returns rc, so callers can
 * `return gerr_set(err, GERR_INVALID, 400, "invalid_json", "...", ...)`. */
int gerr_set(struct gerr *err, int rc, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* gerr_invalid_text: 400 invalid_field, "<field>: \"<text>\" <why>", the
 * text s[0..n) quoted as a printable ASCII excerpt (utf8_ascii_excerpt), for
 * values that should have been ASCII (addresses, dates). field may be NULL. */
int gerr_invalid_text(struct gerr *err, const char *field, const char *s, size_t n,
                      const char *why);

#endif
