/*
 * base64: standard (RFC 4648 §4) encoding and decoding, with padding.
 */
#ifndef GANCHO_UTIL_BASE64_H
#define GANCHO_UTIL_BASE64_H

#include <stddef.h>

/* base64_encoded_len: bytes needed for the text of n input bytes, plus NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* base64_encode writes NUL-terminated text into out (outsz >= BASE64_ENCODED_LEN(n));
 * returns its length, or -1 when out is too small. */
int base64_encode(const void *in, size_t n, char *out, size_t outsz);
/* base64_decode decodes text (padding optional, no whitespace); returns the
 * number of bytes written or -1 on bad input / small buffer. */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t outsz);

#endif
