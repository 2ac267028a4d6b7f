/*
 * jsonpath: dotted paths read out of JSON text in place (see jsonpath.h).
 *
 * The readers walk the text: fr_ws skips blanks, fr_skip steps over one
 * whole value, fr_step finds a member or an index inside the value it is
 * given. Nothing is allocated and nothing is decoded except the string
 * literals a caller asks for (jsonpath_char).
 */
#include "core/jsonpath.h"
#include "util/hex.h"

#include <stdint.h>
#include <string.h>

/* jsonpath_index: seg[0..n) as an array index, or -1 if not all digits. */
static long long jsonpath_index(const char *seg, size_t n)
{
	long long v = 0;
	if (n == 0 || n > 18) /* 18 digits cannot overflow; no array is that big */
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (seg[k] < '0' || seg[k] > '9')
			return -1;
		v = v * 10 + (seg[k] - '0');
	}
	return v;
}

const char *jsonpath_check(const char *s, size_t n)
{
	if (!s || n == 0)
		return "is empty";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		if (c == '.' && (i == 0 || i + 1 == n || s[i + 1] == '.'))
			return "has an empty segment";
	}
	return NULL;
}

bool jsonpath_valid(const char *path)
{
	return path && !jsonpath_check(path, strlen(path));
}

static size_t fr_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* fr_string_end: s[i] is '"'; the offset just past the closing quote. */
static size_t fr_string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* fr_skip: the offset just past the value that starts at s[i]. */
static size_t fr_skip(const char *s, size_t n, size_t i)
{
	if (i >= n)
		return n;
	if (s[i] == '"')
		return fr_string_end(s, n, i);
	if (s[i] == '{' || s[i] == '[') {
		size_t depth = 0;
		while (i < n) {
			char c = s[i];
			if (c == '"') {
				i = fr_string_end(s, n, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
	       s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

static int fr_hex4(const char *s, size_t end, size_t i)
{
	int v = 0;
	if (end - i < 4)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		int d = hex_digit(s[k]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* jsonpath_char: the next character of a string body s[*i..end) as UTF-8 in b;
 * returns its length (1..4), 0 at the end or on a malformed escape. */
int jsonpath_char(const char *s, size_t end, size_t *i, unsigned char b[4])
{
	if (*i >= end)
		return 0;
	if (s[*i] != '\\') {
		b[0] = (unsigned char)s[(*i)++];
		return 1;
	}
	if (end - *i < 2)
		return 0;
	/* a malformed escape leaves *i where it is, so a caller can tell the
	 * end of the literal from a broken one */
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char e = s[*i + 1];
	const char *hit = e ? strchr(from, e) : NULL;
	if (hit) {
		b[0] = (unsigned char)to[hit - from];
		*i += 2;
		return 1;
	}
	if (e != 'u')
		return 0;
	int hi = fr_hex4(s, end, *i + 2);
	if (hi < 0)
		return 0;
	*i += 6;
	uint32_t cp = (uint32_t)hi;
	if (hi >= 0xD800 && hi <= 0xDBFF && end - *i >= 6 && s[*i] == '\\' && s[*i + 1] == 'u') {
		int lo = fr_hex4(s, end, *i + 2);
		if (lo >= 0xDC00 && lo <= 0xDFFF) {
			cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
			*i += 6;
		}
	}
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | (cp >> 18));
	b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* jsonpath_string_equal: the raw literal s[0..n) (with its quotes) decodes to want[0..wlen). */
bool jsonpath_string_equal(const char *s, size_t n, const char *want, size_t wlen)
{
	if (n < 2 || s[0] != '"')
		return false;
	size_t i = 1, end = n - 1, w = 0;
	unsigned char b[4];
	int k;
	while ((k = jsonpath_char(s, end, &i, b)) > 0) {
		if (wlen - w < (size_t)k || memcmp(want + w, b, (size_t)k) != 0)
			return false;
		w += (size_t)k;
	}
	return i == end && w == wlen;
}

/* fr_step: the offset of the member named seg[0..seglen) (idx: the same as an
 * array index, or -1) of the object or array at doc[i], or len if absent. */
static size_t fr_step(const char *doc, size_t len, size_t i, const char *seg, size_t seglen,
                      long long idx)
{
	size_t found = len;
	if (seglen == 0 || i >= len)
		return len;
	if (doc[i] == '{') {
		i = fr_ws(doc, len, i + 1);
		while (i < len && doc[i] == '"') {
			size_t kend = fr_string_end(doc, len, i);
			bool hit = jsonpath_string_equal(doc + i, kend - i, seg, seglen);
			i = fr_ws(doc, len, kend);
			if (i >= len || doc[i] != ':')
				return len;
			i = fr_ws(doc, len, i + 1);
			if (hit)
				found = i; /* a repeated key: the last one counts */
			i = fr_ws(doc, len, fr_skip(doc, len, i));
			if (i < len && doc[i] == ',')
				i = fr_ws(doc, len, i + 1);
			else
				break;
		}
	} else if (doc[i] == '[') {
		if (idx < 0)
			return len;
		i = fr_ws(doc, len, i + 1);
		for (long long k = 0; i < len && doc[i] != ']'; k++) {
			if (k == idx)
				return i;
			i = fr_ws(doc, len, fr_skip(doc, len, i));
			if (i < len && doc[i] == ',')
				i = fr_ws(doc, len, i + 1);
			else
				break;
		}
	}
	return found;
}

int jsonpath_split(const char *path, struct jsonpath_seg *segs, int max)
{
	int k = 0;
	const char *p = path;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t sl = dot ? (size_t)(dot - p) : strlen(p);
		if (k < max)
			segs[k] = (struct jsonpath_seg){p, sl, jsonpath_index(p, sl)};
		k++;
		if (!dot)
			return k;
		p = dot + 1;
	}
}

bool jsonpath_find(const char *doc, size_t len, const struct jsonpath_seg *segs, int nsegs,
                   const char **val, size_t *vlen)
{
	if (!doc || nsegs <= 0)
		return false;
	size_t i = fr_ws(doc, len, 0);
	for (int k = 0; k < nsegs && i < len; k++)
		i = fr_step(doc, len, i, segs[k].s, segs[k].n, segs[k].idx);
	if (i >= len)
		return false;
	*val = doc + i;
	*vlen = fr_skip(doc, len, i) - i;
	return true;
}

/* rest_from: the value of the path's remaining segments p (after a '.'),
 * or the whole value when p is NULL, under the value at doc[i]. */
static bool rest_from(const char *doc, size_t len, size_t i, const char *p, const char **val,
                      size_t *vlen)
{
	while (p) {
		const char *dot = strchr(p, '.');
		size_t seglen = dot ? (size_t)(dot - p) : strlen(p);
		i = fr_step(doc, len, i, p, seglen, jsonpath_index(p, seglen));
		if (i >= len)
			return false;
		p = dot ? dot + 1 : NULL;
	}
	*val = doc + i;
	*vlen = fr_skip(doc, len, i) - i;
	return true;
}

bool jsonpath_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen)
{
	if (!doc || !path || !*path)
		return false;
	return rest_from(doc, len, fr_ws(doc, len, 0), path, val, vlen);
}

long jsonpath_string_decode(const char *s, size_t n, char *out)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	size_t i = 1, end = n - 1, o = 0;
	unsigned char b[4];
	int k;
	while ((k = jsonpath_char(s, end, &i, b)) > 0) {
		memcpy(out + o, b, (size_t)k);
		o += (size_t)k;
	}
	return i == end ? (long)o : -1;
}
