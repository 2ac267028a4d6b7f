/*
 * filter: tiny MongoDB-flavoured matching of events against webhook filters.
 *
 * A filter is {"path": clause, ...}; every clause must hold. A path is split
 * on '.', and each segment looks up an object key or, on an array, an index
 * when the segment is all digits. Clauses: a scalar means equality; {"$in":
 * [scalars]} membership; {"$ne": scalar} inequality (a missing value is not
 * equal, so it matches, as in MongoDB); {"$exists": bool} presence (a JSON
 * null is present).
 *
 * A filter is a jansson tree; the document it is matched against is JSON
 * text (the envelope of envelope_match_doc), read in place: the event is
 * never decoded into a tree, so a number no C type holds (1e400, a 30-digit
 * integer) is matched like any other instead of failing the request. JSON
 * does not tell 1 from 1.0, so numbers are compared by value: exactly
 * against an integer of the filter (digit by digit, no rounding), and as the
 * nearest double against a real, which is what the filter itself holds.
 *
 * filter_validate runs when a filter is stored; filter_match trusts it.
 */
#include "core/filter.h"
#include "util/base64.h"
#include "util/hex.h"
#include "util/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int filter_fail(struct gerr *err, const char *path, const char *reason)
{
	if (path)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %.*s: %s",
		                (int)utf8_cut(path, strlen(path), 100), path, reason);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %s", reason);
}

/* filter_index: seg[0..n) as an array index, or -1 if not all digits. */
static long long filter_index(const char *seg, size_t n)
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

static bool filter_is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

static bool filter_path_ok(const char *path)
{
	if (!*path)
		return false;
	for (const char *p = path; *p; p++)
		if (*p == '.' && (p == path || p[1] == '.' || p[1] == '\0'))
			return false;
	return true;
}

int filter_validate(const json_t *filter, struct gerr *err)
{
	const char *path;
	json_t *clause;

	if (!json_is_object(filter))
		return filter_fail(err, NULL, "must be an object");
	json_object_foreach ((json_t *)filter, path, clause) {
		if (!filter_path_ok(path))
			return filter_fail(err, path,
			                   "key must be a dotted path with non-empty segments");
		if (filter_is_scalar(clause))
			continue;
		if (!json_is_object(clause) || json_object_size(clause) != 1)
			return filter_fail(err, path,
			                   "value must be a scalar or one of {\"$in\": [...]}, "
			                   "{\"$ne\": v}, {\"$exists\": bool}");
		const char *op = json_object_iter_key(json_object_iter(clause));
		json_t *arg = json_object_iter_value(json_object_iter(clause));
		if (strcmp(op, "$in") == 0) {
			size_t k;
			json_t *el;
			if (!json_is_array(arg))
				return filter_fail(err, path, "$in needs an array of scalars");
			json_array_foreach (arg, k, el) {
				if (!filter_is_scalar(el))
					return filter_fail(err, path,
					                   "$in needs an array of scalars");
			}
		} else if (strcmp(op, "$ne") == 0) {
			if (!filter_is_scalar(arg))
				return filter_fail(err, path, "$ne needs a scalar");
		} else if (strcmp(op, "$exists") == 0) {
			if (!json_is_boolean(arg))
				return filter_fail(err, path, "$exists needs true or false");
		} else {
			return filter_fail(err, path, "unknown operator (use $in, $ne or $exists)");
		}
	}
	return 0;
}

/* ---- reading the raw document ----------------------------------------------------------- */

/* The document is JSON text the caller has validated (json_scan). The
 * readers below still never step past n, so a malformed text only fails to
 * match; they never read out of bounds. */

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

/* fr_char: the next character of a string body s[*i..end) as UTF-8 in b;
 * returns its length (1..4), 0 at the end or on a malformed escape. */
static int fr_char(const char *s, size_t end, size_t *i, unsigned char b[4])
{
	if (*i >= end)
		return 0;
	if (s[*i] != '\\') {
		b[0] = (unsigned char)s[(*i)++];
		return 1;
	}
	if (end - *i < 2)
		return 0;
	char e = s[*i + 1];
	*i += 2;
	switch (e) {
	case '"': b[0] = '"'; return 1;
	case '\\': b[0] = '\\'; return 1;
	case '/': b[0] = '/'; return 1;
	case 'b': b[0] = '\b'; return 1;
	case 'f': b[0] = '\f'; return 1;
	case 'n': b[0] = '\n'; return 1;
	case 'r': b[0] = '\r'; return 1;
	case 't': b[0] = '\t'; return 1;
	case 'u': break;
	default: return 0;
	}
	int hi = fr_hex4(s, end, *i);
	if (hi < 0)
		return 0;
	*i += 4;
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

/* fr_string_equal: the raw literal s[0..n) (with its quotes) decodes to want[0..wlen). */
static bool fr_string_equal(const char *s, size_t n, const char *want, size_t wlen)
{
	if (n < 2 || s[0] != '"')
		return false;
	size_t i = 1, end = n - 1, w = 0;
	unsigned char b[4];
	int k;
	while ((k = fr_char(s, end, &i, b)) > 0) {
		if (wlen - w < (size_t)k || memcmp(want + w, b, (size_t)k) != 0)
			return false;
		w += (size_t)k;
	}
	return i == end && w == wlen;
}

bool filter_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen)
{
	if (!doc || !path || !*path)
		return false;
	size_t i = fr_ws(doc, len, 0);
	const char *p = path;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t seglen = dot ? (size_t)(dot - p) : strlen(p);
		if (seglen == 0 || i >= len)
			return false;
		size_t found = len;
		if (doc[i] == '{') {
			i = fr_ws(doc, len, i + 1);
			while (i < len && doc[i] == '"') {
				size_t kend = fr_string_end(doc, len, i);
				bool hit = fr_string_equal(doc + i, kend - i, p, seglen);
				i = fr_ws(doc, len, kend);
				if (i >= len || doc[i] != ':')
					return false;
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
			long long idx = filter_index(p, seglen);
			if (idx < 0)
				return false;
			i = fr_ws(doc, len, i + 1);
			for (long long k = 0; i < len && doc[i] != ']'; k++) {
				if (k == idx) {
					found = i;
					break;
				}
				i = fr_ws(doc, len, fr_skip(doc, len, i));
				if (i < len && doc[i] == ',')
					i = fr_ws(doc, len, i + 1);
				else
					break;
			}
		} else {
			return false;
		}
		if (found >= len)
			return false;
		i = found;
		if (!dot) {
			*val = doc + i;
			*vlen = fr_skip(doc, len, i) - i;
			return true;
		}
		p = dot + 1;
	}
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* A JSON number's parts, read from its text without converting it, so that
 * no value (1e400, a 30-digit integer) is lost or refused. */
struct fnum {
	bool neg;
	const char *ip, *fp; /* integer and fraction digits */
	size_t il, fl;
	bool intlit;   /* no fraction and no exponent */
	long long exp; /* saturated at +-FNUM_EXP_MAX */
};

/* Past this an exponent cannot change the answer: no fraction is that long. */
#define FNUM_EXP_MAX 100000000000000000LL

static bool fnum_parse(const char *s, size_t n, struct fnum *f)
{
	size_t i = 0;
	memset(f, 0, sizeof(*f));
	if (i < n && s[i] == '-') {
		f->neg = true;
		i++;
	}
	f->ip = s + i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	f->il = (size_t)(s + i - f->ip);
	if (f->il == 0)
		return false;
	f->fp = s + i;
	f->intlit = i == n;
	if (i < n && s[i] == '.') {
		f->fp = s + ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		f->fl = (size_t)(s + i - f->fp);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (f->exp < FNUM_EXP_MAX)
				f->exp = f->exp * 10 + (s[i] - '0');
		if (f->exp > FNUM_EXP_MAX)
			f->exp = FNUM_EXP_MAX;
		if (eneg)
			f->exp = -f->exp;
	}
	return i == n;
}

static char fnum_digit(const struct fnum *f, size_t j)
{
	return j < f->il ? f->ip[j] : f->fp[j - f->il];
}

/* fnum_equal_int: the exact decimal value of f is the integer v. */
static bool fnum_equal_int(const struct fnum *f, json_int_t v)
{
	size_t nd = f->il + f->fl, first = 0, last;
	while (first < nd && fnum_digit(f, first) == '0')
		first++;
	if (first == nd)
		return v == 0; /* zero, also -0.0e7 */
	if (v == 0 || f->neg != (v < 0))
		return false;
	last = nd - 1;
	while (fnum_digit(f, last) == '0')
		last--;
	/* f = digits[first..last] * 10^scale */
	long long scale = f->exp - (long long)f->fl + (long long)(nd - 1 - last);
	char d[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	int dl = snprintf(d, sizeof(d), "%llu", u), tz = 0;
	while (dl > 1 && d[dl - 1] == '0') {
		dl--;
		tz++;
	}
	if (scale != tz || last - first + 1 != (size_t)dl)
		return false;
	for (int k = 0; k < dl; k++)
		if (fnum_digit(f, first + (size_t)k) != d[k])
			return false;
	return true;
}

/* fnum_int: f as an int64 when it is an integer literal that fits. */
static bool fnum_int(const struct fnum *f, const char *s, size_t n, json_int_t *out)
{
	char buf[24];
	if (!f->intlit || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	long long v = strtoll(buf, NULL, 10);
	if (errno)
		return false;
	*out = v;
	return true;
}

/* fnum_double: f rounded to the nearest double (inf when out of range). */
static double fnum_double(const char *s, size_t n)
{
	char small[128];
	char *buf = n < sizeof(small) ? small : malloc(n + 1);
	if (!buf)
		return NAN;
	memcpy(buf, s, n);
	buf[n] = '\0';
	double d = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return d;
}

/* filter_int_real_equal: integer i equals real r exactly. */
static bool filter_int_real_equal(json_int_t i, double r)
{
	/* [-2^63, 2^63) is where a double converts to int64 without overflow. */
	if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0) || r != floor(r))
		return false;
	return (json_int_t)r == i;
}

/* fr_equal: the raw value s[0..n) equals the filter's scalar c. JSON does not
 * tell 1 from 1.0, so numbers compare by value: exactly against an integer,
 * and as the nearest double against a real (what the filter itself holds). */
static bool fr_equal(const char *s, size_t n, const json_t *c)
{
	if (n == 0)
		return false;
	switch (json_typeof(c)) {
	case JSON_STRING:
		return s[0] == '"' &&
		       fr_string_equal(s, n, json_string_value(c), json_string_length(c));
	case JSON_INTEGER: {
		struct fnum f;
		return fnum_parse(s, n, &f) && fnum_equal_int(&f, json_integer_value(c));
	}
	case JSON_REAL: {
		struct fnum f;
		json_int_t i;
		if (!fnum_parse(s, n, &f))
			return false;
		if (fnum_int(&f, s, n, &i))
			return filter_int_real_equal(i, json_real_value(c));
		return fnum_double(s, n) == json_real_value(c);
	}
	case JSON_TRUE: return n == 4 && memcmp(s, "true", 4) == 0;
	case JSON_FALSE: return n == 5 && memcmp(s, "false", 5) == 0;
	case JSON_NULL: return n == 4 && memcmp(s, "null", 4) == 0;
	default: return false;
	}
}

static bool filter_clause(const json_t *clause, const char *v, size_t vn)
{
	if (!json_is_object(clause))
		return v && fr_equal(v, vn, clause);
	void *it = json_object_iter((json_t *)clause);
	if (!it)
		return false;
	const char *op = json_object_iter_key(it);
	const json_t *arg = json_object_iter_value(it);
	if (strcmp(op, "$in") == 0) {
		if (!v)
			return false;
		for (size_t k = 0; k < json_array_size(arg); k++)
			if (fr_equal(v, vn, json_array_get(arg, k)))
				return true;
		return false;
	}
	if (strcmp(op, "$ne") == 0)
		return !v || !fr_equal(v, vn, arg);
	if (strcmp(op, "$exists") == 0)
		return (v != NULL) == json_is_true(arg);
	return false; /* not validated: fail closed */
}

bool filter_match(const json_t *filter, const char *doc, size_t len)
{
	const char *path;
	json_t *clause;

	if (!filter)
		return true;
	if (!json_is_object(filter))
		return false;
	json_object_foreach ((json_t *)filter, path, clause) {
		const char *v = NULL;
		size_t vn = 0;
		if (!filter_get(doc, len, path, &v, &vn))
			v = NULL;
		if (!filter_clause(clause, v, vn))
			return false;
	}
	return true;
}

/* filter_key_emit: the key text s[0..n) into out as is when it fits, holds
 * no NUL and does not start with '~'; otherwise its digest, '~' followed by
 * the unpadded base64url of SHA-256(s), so that distinct values of any length
 * never share a lane. */
static int filter_key_emit(char *out, size_t outsz, const char *s, size_t n)
{
	if (n < outsz && (n == 0 || s[0] != '~') && !memchr(s, '\0', n)) {
		memcpy(out, s, n);
		out[n] = '\0';
		return (int)n;
	}
	unsigned char md[SHA256_DIGEST_LENGTH];
	char b64[BASE64_ENCODED_LEN(SHA256_DIGEST_LENGTH)];
	SHA256((const unsigned char *)s, n, md);
	int bn = base64_encode(md, sizeof(md), b64, sizeof(b64));
	while (bn > 0 && b64[bn - 1] == '=')
		bn--;
	if (bn <= 0 || (size_t)bn + 1 >= outsz)
		return -1;
	out[0] = '~';
	for (int k = 0; k < bn; k++)
		out[k + 1] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : b64[k];
	out[bn + 1] = '\0';
	return bn + 1;
}

int filter_key_string(const char *doc, size_t len, const char *path, char *out, size_t outsz)
{
	const char *v;
	size_t vn;
	if (!out || outsz < FILTER_KEY_MIN || !filter_get(doc, len, path, &v, &vn) || vn == 0)
		return -1;
	switch (v[0]) {
	case '"': {
		/* decoded text is never longer than the literal */
		char *text = malloc(vn);
		if (!text)
			return -1;
		size_t i = 1, end = vn - 1, o = 0;
		unsigned char b[4];
		int k;
		while ((k = fr_char(v, end, &i, b)) > 0) {
			memcpy(text + o, b, (size_t)k);
			o += (size_t)k;
		}
		int r = filter_key_emit(out, outsz, text, o);
		free(text);
		return r;
	}
	case 't':
	case 'f':
	case 'n': return filter_key_emit(out, outsz, v, vn);
	case '{':
	case '[': return -1;
	default: break;
	}
	struct fnum f;
	json_int_t i;
	char tmp[64];
	if (!fnum_parse(v, vn, &f))
		return -1;
	if (fnum_int(&f, v, vn, &i)) {
		int n = snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, i);
		return filter_key_emit(out, outsz, tmp, (size_t)n);
	}
	double d = fnum_double(v, vn);
	if (!f.intlit && isfinite(d)) {
		/* jansson's text for the double, as keys were always written. */
		json_t *r = json_real(d);
		size_t n = r ? json_dumpb(r, tmp, sizeof(tmp), JSON_ENCODE_ANY) : 0;
		json_decref(r);
		if (n > 0 && n <= sizeof(tmp))
			return filter_key_emit(out, outsz, tmp, n);
	}
	/* No double holds it (1e400, a 30-digit integer): its own text. */
	return filter_key_emit(out, outsz, v, vn);
}
