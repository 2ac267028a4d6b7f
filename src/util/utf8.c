/* utf8: see utf8.h. */
#include "util/utf8.h"

#include <string.h>

size_t utf8_seq(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 0)
		return 0;
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t i = 0;
	while (i < max) {
		size_t k = utf8_seq(s + i, n - i);
		if (!k)
			k = 1;
		if (i + k > max)
			break;
		i += k;
	}
	return i;
}

size_t utf8_trim_partial(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	/* A partial character is a lead byte followed by 0..2 continuation
	 * bytes at the very end. Look back at most three bytes for its lead. */
	for (size_t back = 1; back <= 3 && back <= n; back++) {
		unsigned char c = p[n - back];
		if (c >= 0x80 && c <= 0xbf)
			continue; /* a continuation byte: the lead is further back */
		if (c < 0xc2 || c > 0xf4)
			return n; /* ASCII or an invalid lead: not a partial character */
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (back >= need)
			return n; /* the character is complete (or invalid) */
		/* Complete it with the smallest continuation bytes that are valid
		 * after this lead and check the result is a real character. */
		unsigned char tmp[4];
		memcpy(tmp, p + n - back, back);
		for (size_t k = back; k < need; k++)
			tmp[k] = (k == 1 && c == 0xe0) ? 0xa0 : (k == 1 && c == 0xf0) ? 0x90 : 0x80;
		return utf8_seq((const char *)tmp, need) == need ? n - back : n;
	}
	return n;
}

size_t utf8_fix(const char *s, size_t n, char *out, size_t outsz)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t w = 0;
	if (outsz == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		const char *from = s + i;
		size_t put = k;
		if (!k || s[i] == '\0') {
			from = repl;
			put = 3;
			k = 1;
		}
		if (w + put >= outsz)
			break;
		memcpy(out + w, from, put);
		w += put;
		i += k;
	}
	out[w] = '\0';
	return w;
}

const char *utf8_excerpt(const char *s, char out[UTF8_EXCERPT_SIZE])
{
	size_t n = strlen(s);
	if (n <= UTF8_EXCERPT_MAX)
		return s;
	n = utf8_cut(s, n, UTF8_EXCERPT_MAX);
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

const char *utf8_ascii_excerpt(const char *s, size_t n, char out[UTF8_EXCERPT_SIZE])
{
	size_t k, m = n < UTF8_EXCERPT_MAX ? n : UTF8_EXCERPT_MAX;
	for (k = 0; k < m; k++) {
		unsigned char c = (unsigned char)s[k];
		out[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n > m) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}
