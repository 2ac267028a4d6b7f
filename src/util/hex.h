/*
 * hex: the value of one hexadecimal digit, for the percent-decoding and hex
 * parsing done in several places (request paths, redaction, signatures).
 */
#ifndef GANCHO_UTIL_HEX_H
#define GANCHO_UTIL_HEX_H

/* hex_digit: 0..15 for [0-9a-fA-F], else -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
