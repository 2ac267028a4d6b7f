/*
 * json_scan: strict RFC 8259 validation in one pass, without allocating.
 *
 * The ingest path receives small bodies (about 1 KB) and must accept them
 * only when they are exactly JSON, then forward "data" byte for byte. A parse
 * tree would cost allocations and a re-serialisation would change the bytes
 * the client signed or expects to see, so instead we walk the text once and
 * remember where each top-level member starts and ends.
 *
 * How it works: js_value() is an iterative pushdown scanner. Containers push
 * one byte ('{' or '[') on a fixed stack of JSON_SCAN_MAX_DEPTH entries, so
 * hostile nesting can neither blow the C stack nor allocate; the two states
 * "expect a value" and "after a value" are the loop body and the after_value
 * label. Strings are checked byte by byte against the UTF-8 well-formedness
 * table (Unicode 15, table 3-7), which by itself excludes overlongs, UTF-16
 * surrogates and code points above U+10FFFF; \u escapes must pair surrogates.
 * json_scan_object() scans the top-level object by hand so it can record the
 * raw spans of each member, and rejects duplicate keys by comparing raw key
 * bytes (a client sending "id" twice is ambiguous: different parsers keep
 * different copies, so we refuse rather than guess).
 *
 * Errors carry the byte offset where scanning stopped and a short reason.
 */
#include "util/json_scan.h"
#include "util/hex.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct js {
	const char *s;
	size_t n;
	size_t i; /* current offset into s */
	struct gerr *err;
};

static int js_fail(struct js *p, const char *reason)
{
	return gerr_set(p->err, GERR_INVALID, 400, "invalid_json", "invalid JSON at byte %zu: %s",
	                p->i, reason);
}

static inline void js_skip_ws(struct js *p)
{
	while (p->i < p->n) {
		char c = p->s[p->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->i++;
	}
}

/* js_hex4 reads the four hex digits of a \u escape at s[i..i+4). */
static inline int32_t js_hex4(const char *s, size_t i, size_t n)
{
	if (i > n || n - i < 4)
		return -1;
	int32_t v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hex_digit((unsigned char)s[i + k]);
		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

/* js_string: p->i is at the opening quote; on success p->i is just past the
 * closing quote. */
static int js_string(struct js *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t n = p->n;
	size_t i = p->i + 1;

	while (i < n) {
		unsigned char c = s[i];
		/* Plain printable ASCII is nearly every byte of a real body. */
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c == '"') {
			p->i = i + 1;
			return 0;
		}
		if (c < 0x20) {
			p->i = i;
			return js_fail(p, "control character in string");
		}
		if (c == '\\') {
			if (i + 1 >= n)
				break;
			switch (s[i + 1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't': i += 2; continue;
			case 'u': break;
			default: p->i = i; return js_fail(p, "invalid escape in string");
			}
			int32_t cp = js_hex4(p->s, i + 2, n);
			if (cp < 0) {
				p->i = i;
				return js_fail(p, "invalid \\u escape");
			}
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				p->i = i;
				return js_fail(p, "unpaired UTF-16 low surrogate in \\u escape");
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				int32_t lo = -1;
				if (n - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u')
					lo = js_hex4(p->s, i + 8, n);
				if (lo < 0xDC00 || lo > 0xDFFF) {
					p->i = i;
					return js_fail(
					    p, "unpaired UTF-16 high surrogate in \\u escape");
				}
				i += 12;
			} else {
				i += 6;
			}
			continue;
		}
		/* Multi-byte UTF-8: the first byte fixes the length and the valid
		 * range of the second byte; later bytes are plain continuations. */
		size_t len;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* UTF-16 surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
		} else {
			p->i = i;
			return js_fail(p, "invalid UTF-8 in string");
		}
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) {
			p->i = i;
			return js_fail(p, "invalid UTF-8 in string");
		}
		for (size_t k = 2; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80) {
				p->i = i;
				return js_fail(p, "invalid UTF-8 in string");
			}
		}
		i += len;
	}
	p->i = n;
	return js_fail(p, "unterminated string");
}

static inline bool js_isdigit(const struct js *p, size_t i)
{
	return i < p->n && p->s[i] >= '0' && p->s[i] <= '9';
}

/* js_number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int js_number(struct js *p)
{
	size_t i = p->i;
	if (p->s[i] == '-')
		i++;
	if (!js_isdigit(p, i)) {
		p->i = i;
		return js_fail(p, "expected digit in number");
	}
	if (p->s[i] == '0') {
		i++;
		if (js_isdigit(p, i)) {
			p->i = i;
			return js_fail(p, "leading zeros are not allowed in numbers");
		}
	} else {
		while (js_isdigit(p, i))
			i++;
	}
	if (i < p->n && p->s[i] == '.') {
		i++;
		if (!js_isdigit(p, i)) {
			p->i = i;
			return js_fail(p, "expected digit after decimal point");
		}
		while (js_isdigit(p, i))
			i++;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!js_isdigit(p, i)) {
			p->i = i;
			return js_fail(p, "expected digit in exponent");
		}
		while (js_isdigit(p, i))
			i++;
	}
	p->i = i;
	return 0;
}

static int js_literal(struct js *p, const char *lit, size_t len)
{
	if (p->n - p->i < len || memcmp(p->s + p->i, lit, len) != 0)
		return js_fail(p, "unexpected character");
	p->i += len;
	return 0;
}

/* js_value scans one value starting at p->i (leading whitespace allowed).
 * depth is how many containers already enclose it. */
static int js_value(struct js *p, int depth)
{
	char stack[JSON_SCAN_MAX_DEPTH];
	int sp = 0;
	int rc;

	for (;;) {
		/* State: expect a value. */
		js_skip_ws(p);
		if (p->i >= p->n)
			return js_fail(p, "unexpected end of input");
		switch (p->s[p->i]) {
		case '{':
		case '[':
			if (depth + sp >= JSON_SCAN_MAX_DEPTH)
				return js_fail(p, "nesting too deep");
			stack[sp++] = p->s[p->i++];
			js_skip_ws(p);
			if (p->i < p->n && p->s[p->i] == (stack[sp - 1] == '{' ? '}' : ']')) {
				p->i++;
				sp--;
				goto after_value;
			}
			if (stack[sp - 1] == '{')
				goto member_key;
			continue;
		case '"': rc = js_string(p); break;
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9': rc = js_number(p); break;
		case 't': rc = js_literal(p, "true", 4); break;
		case 'f': rc = js_literal(p, "false", 5); break;
		case 'n': rc = js_literal(p, "null", 4); break;
		default: return js_fail(p, "unexpected character");
		}
		if (rc)
			return rc;

	after_value:
		/* State: a value just ended; close containers or move on. */
		if (sp == 0)
			return 0;
		js_skip_ws(p);
		if (p->i >= p->n)
			return js_fail(p, "unexpected end of input");
		if (stack[sp - 1] == '{') {
			if (p->s[p->i] == '}') {
				p->i++;
				sp--;
				goto after_value;
			}
			if (p->s[p->i] != ',')
				return js_fail(p, "expected ',' or '}'");
			p->i++;
		} else {
			if (p->s[p->i] == ']') {
				p->i++;
				sp--;
				goto after_value;
			}
			if (p->s[p->i] != ',')
				return js_fail(p, "expected ',' or ']'");
			p->i++;
			continue;
		}

	member_key:
		/* State: inside an object, expect "key": */
		js_skip_ws(p);
		if (p->i >= p->n)
			return js_fail(p, "unexpected end of input");
		if (p->s[p->i] != '"')
			return js_fail(p, "expected string key");
		if ((rc = js_string(p)) != 0)
			return rc;
		js_skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return js_fail(p, "expected ':' after key");
		p->i++;
	}
}

static enum json_type js_type_of(char c)
{
	switch (c) {
	case '{': return JSON_T_OBJECT;
	case '[': return JSON_T_ARRAY;
	case '"': return JSON_T_STRING;
	case 't': return JSON_T_TRUE;
	case 'f': return JSON_T_FALSE;
	case 'n': return JSON_T_NULL;
	default: return JSON_T_NUMBER;
	}
}

static int js_end(struct js *p)
{
	js_skip_ws(p);
	if (p->i != p->n)
		return js_fail(p, "unexpected data after JSON value");
	return 0;
}

int json_validate(const char *s, size_t n, struct gerr *err)
{
	struct js p = {s, n, 0, err};
	int rc = js_value(&p, 0);
	return rc ? rc : js_end(&p);
}

/* scan_members: the object at p (whose '{' is next), each member read in
 * order: on_key (may be NULL) judges its raw key as soon as it is read and
 * returns why it is refused (the error then points at the key), or NULL;
 * on_member gets the whole member once its value is read. Then the end of
 * the document. */
static int scan_members(struct js *p, const char *(*on_key)(void *ctx, const char *key, size_t n),
                        void (*on_member)(void *ctx, const struct json_member *m), void *ctx)
{
	const char *s = p->s;
	size_t n = p->n;
	int rc;

	p->i++;
	js_skip_ws(p);
	if (p->i < n && s[p->i] == '}') {
		p->i++;
		return js_end(p);
	}
	for (;;) {
		js_skip_ws(p);
		if (p->i >= n)
			return js_fail(p, "unexpected end of input");
		if (s[p->i] != '"')
			return js_fail(p, "expected string key");
		size_t kstart = p->i;
		if ((rc = js_string(p)) != 0)
			return rc;
		struct json_member m = {.key = s + kstart + 1, .keylen = p->i - kstart - 2};
		const char *why = on_key ? on_key(ctx, m.key, m.keylen) : NULL;
		if (why) {
			p->i = kstart;
			return js_fail(p, why);
		}
		js_skip_ws(p);
		if (p->i >= n || s[p->i] != ':')
			return js_fail(p, "expected ':' after key");
		p->i++;
		js_skip_ws(p);
		size_t vstart = p->i;
		if ((rc = js_value(p, 1)) != 0)
			return rc;
		m.val = s + vstart;
		m.vallen = p->i - vstart;
		m.type = js_type_of(s[vstart]);
		on_member(ctx, &m);
		js_skip_ws(p);
		if (p->i >= n)
			return js_fail(p, "unexpected end of input");
		if (s[p->i] == '}') {
			p->i++;
			return js_end(p);
		}
		if (s[p->i] != ',')
			return js_fail(p, "expected ',' or '}'");
		p->i++;
	}
}

/* json_scan_object's members: every key distinct, at most max of them. */
struct scan_into {
	struct json_member *members;
	int max, *count;
};

static const char *scan_key(void *ctx, const char *key, size_t n)
{
	const struct scan_into *x = ctx;
	for (int k = 0; k < *x->count; k++)
		if (x->members[k].keylen == n && memcmp(x->members[k].key, key, n) == 0)
			return "duplicate key";
	return *x->count >= x->max ? "too many members in object" : NULL;
}

static void scan_member(void *ctx, const struct json_member *m)
{
	struct scan_into *x = ctx;
	x->members[(*x->count)++] = *m;
}

int json_scan_object(const char *s, size_t n, struct json_member *members, int max, int *count,
                     struct gerr *err)
{
	struct js p = {s, n, 0, err};
	struct scan_into x = {members, max, count};

	*count = 0;
	js_skip_ws(&p);
	if (p.i >= n || s[p.i] != '{')
		return js_fail(&p, "expected a JSON object");
	return scan_members(&p, scan_key, scan_member, &x);
}

int json_validate_each(const char *s, size_t n,
                       void (*each)(void *ctx, const struct json_member *m), void *ctx,
                       struct gerr *err)
{
	struct js p = {s, n, 0, err};

	js_skip_ws(&p);
	if (p.i >= n || s[p.i] != '{')
		return json_validate(s, n, err);
	return scan_members(&p, NULL, each, ctx);
}

/* js_put_utf8 writes code point cp at out[*o], keeping room for the NUL. */
static bool js_put_utf8(char *out, size_t outsz, size_t *o, uint32_t cp)
{
	unsigned char b[4];
	size_t len;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 4;
	}
	if (outsz - *o <= len)
		return false;
	memcpy(out + *o, b, len);
	*o += len;
	return true;
}

int json_string_decode(const char *raw, size_t n, char *out, size_t outsz)
{
	if (outsz == 0 || n < 2 || raw[0] != '"' || raw[n - 1] != '"')
		return -1;
	size_t end = n - 1; /* the closing quote */
	size_t o = 0;
	for (size_t i = 1; i < end;) {
		size_t run = i;
		/* Copy unescaped runs in one go. */
		while (run < end && raw[run] != '\\')
			run++;
		if (run > i) {
			if (outsz - o <= run - i || memchr(raw + i, '\0', run - i))
				return -1;
			memcpy(out + o, raw + i, run - i);
			o += run - i;
			i = run;
			continue;
		}
		if (i + 1 >= end)
			return -1;
		char c = raw[i + 1];
		char simple = 0;
		switch (c) {
		case '"': simple = '"'; break;
		case '\\': simple = '\\'; break;
		case '/': simple = '/'; break;
		case 'b': simple = '\b'; break;
		case 'f': simple = '\f'; break;
		case 'n': simple = '\n'; break;
		case 'r': simple = '\r'; break;
		case 't': simple = '\t'; break;
		case 'u': break;
		default: return -1;
		}
		if (simple) {
			if (outsz - o <= 1)
				return -1;
			out[o++] = simple;
			i += 2;
			continue;
		}
		int32_t cp = js_hex4(raw, i + 2, end);
		if (cp <= 0) /* malformed, or \u0000 which a C string cannot hold */
			return -1;
		i += 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return -1;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (end - i < 6 || raw[i] != '\\' || raw[i + 1] != 'u')
				return -1;
			int32_t lo = js_hex4(raw, i + 2, end);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
		if (!js_put_utf8(out, outsz, &o, (uint32_t)cp))
			return -1;
	}
	out[o] = '\0';
	return o > INT_MAX ? -1 : (int)o;
}

const struct json_member *json_member_find(const struct json_member *m, int count, const char *key)
{
	size_t len = strlen(key);
	for (int k = 0; k < count; k++) {
		if (m[k].keylen == len && memcmp(m[k].key, key, len) == 0)
			return &m[k];
	}
	return NULL;
}
