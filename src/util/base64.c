/*
 * base64: standard (RFC 4648 §4) encoding and decoding.
 *
 * Used for Acesso-Signature, Standard Webhooks keys and signatures and
 * basic auth. The decoder is strict about the alphabet and where padding
 * may appear, because it reads secrets users paste in: a typo should be
 * refused at once rather than turn into a different key.
 */
#include "util/base64.h"

#include <limits.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = in;
	size_t o = 0, i = 0;

	/* The length is returned as an int; this bound also keeps the size
	 * computation below from wrapping. */
	if (n > (size_t)INT_MAX / 4 * 3 || outsz < BASE64_ENCODED_LEN(n))
		return -1;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

/* base64_value: the 6-bit value of c, or -1 when c is not in the alphabet. */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t n, unsigned char *out, size_t outsz)
{
	size_t len = n, o = 0;
	unsigned acc = 0;
	int bits = 0;

	/* Padding is optional, but when present it must complete the last
	 * quantum: "YQ==" and "YQ" are fine, "YQ=" and "Y===" are not. */
	if (len > 0 && in[len - 1] == '=') {
		if (n % 4 != 0)
			return -1;
		len--;
		if (len > 0 && in[len - 1] == '=')
			len--;
	}
	/* A lone trailing character carries only 6 bits: never a whole byte. */
	if (len % 4 == 1)
		return -1;
	if (len / 4 > (size_t)INT_MAX / 3 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > outsz)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	return (int)o;
}
