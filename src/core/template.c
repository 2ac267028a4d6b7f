/*
 * template: {{path}} placeholders in a route's URLs, header values, texts and
 * JSON bodies (see template.h for the rules a person reads).
 *
 * Compiling turns a template into a list of ops, each "literal bytes, then
 * optionally one placeholder's value in a mode". The literal bytes of all ops
 * live in one buffer. For a JSON body the literal bytes are the body's own
 * JSON text with the placeholders cut out: the skeleton is serialised once at
 * compile time (keys escaped, scalars printed by jansson, the text around a
 * placeholder inside a string already escaped), so rendering is only copying
 * bytes and converting values. The mode says what a value becomes: a
 * percent-encoded URL part, header text, plain text, a JSON value inserted
 * whole, or text escaped for the inside of a JSON string. For a URL the mode
 * also says whether the value is in the path (where a value making a whole
 * segment "", "." or ".." is refused) or in the query or fragment.
 *
 * Rendering never trusts the lookup: every value is validated as JSON before
 * use (json_validate), so a broken value fails the render instead of breaking
 * the rendered body, and values are never converted through a C number, so
 * 99999999999999999999 or 1e400 go out exactly as they came in.
 */
#include "core/template.h"
#include "core/jsonpath.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/json_scan.h"

/* The roots a path may start with, and the fields of a receipt: the only
 * place either list is written. */
static const char *const tpl_roots[] = {"body", "headers", "entity", "receipt"};
enum { ROOT_BODY, ROOT_HEADERS, ROOT_ENTITY, ROOT_RECEIPT, ROOT_COUNT };
static const char *const tpl_receipt_fields[] = {"id", "date", "event", "sourceId"};
#define RECEIPT_FIELDS (sizeof(tpl_receipt_fields) / sizeof(tpl_receipt_fields[0]))

enum tpl_kind { KIND_URL, KIND_HEADER, KIND_TEXT, KIND_JSON };

/* What a placeholder's value becomes. */
enum tpl_mode {
	MODE_URL_PATH,    /* percent-encoded; no whole segment "", "." or ".." */
	MODE_URL_QUERY,   /* percent-encoded, in the query */
	MODE_HEADER,      /* text; no control character but tab */
	MODE_TEXT,        /* text; no NUL */
	MODE_JSON_VALUE,  /* the raw JSON value, whatever its type */
	MODE_JSON_STRING, /* text escaped for the inside of a JSON string */
};

struct tpl_op {
	size_t off, len; /* literal t->lit.data[off..off+len), sent first */
	int ph;          /* index of the placeholder whose value follows, or -1 */
	enum tpl_mode mode;
};

struct tpl_ph {
	int root;   /* index into tpl_roots */
	char *path; /* the rest of the path: "data.job.id" */
};

struct template
{
	enum tpl_kind kind;
	struct buf lit;
	struct tpl_op *ops;
	size_t nops, capops;
	struct tpl_ph *ph;
	size_t nph, capph;
	char *origin; /* a URL's fixed "scheme://host[:port]" */
};

/* ---- compiling ---------------------------------------------------------------------------- */

struct tplc {
	struct template *t;
	struct gerr *err;
	const char *where; /* dotted location of the JSON string being compiled, or NULL */
	size_t lit_start;  /* literal bytes from here on belong to no op yet */
};

#define NO_POS SIZE_MAX

/* tpl_fail: a compile error, "template: <what> at byte <pos>", naming the
 * string's place in a JSON body when there is one. */
static int tpl_fail(struct tplc *c, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tpl_fail(struct tplc *c, size_t pos, const char *fmt, ...)
{
	char what[170];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (pos == NO_POS)
		return gerr_set(c->err, GERR_INVALID, 400, "invalid_field", "template: %s", what);
	if (!c->where)
		return gerr_set(c->err, GERR_INVALID, 400, "invalid_field",
		                "template: %s at byte %zu", what, pos);
	return gerr_set(c->err, GERR_INVALID, 400, "invalid_field",
	                "template: %s at byte %zu of the string at %.50s", what, pos,
	                *c->where ? c->where : "the top level");
}

static int tpl_nomem(struct gerr *err)
{
	return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
}

static bool tpl_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* tpl_at: s[i..) starts with the two bytes pair. */
static bool tpl_at(const char *s, size_t n, size_t i, const char *pair)
{
	return i + 1 < n && s[i] == pair[0] && s[i + 1] == pair[1];
}

/* tpl_push_op: the literal bytes since the last op, then placeholder ph (or
 * none when ph is -1). */
static int tpl_push_op(struct tplc *c, int ph, enum tpl_mode mode)
{
	struct template *t = c->t;
	if (t->nops == t->capops) {
		size_t cap = t->capops ? t->capops * 2 : 8;
		struct tpl_op *ops = realloc(t->ops, cap * sizeof(*ops));
		if (!ops)
			return tpl_nomem(c->err);
		t->ops = ops;
		t->capops = cap;
	}
	t->ops[t->nops++] = (struct tpl_op){
	    .off = c->lit_start, .len = t->lit.len - c->lit_start, .ph = ph, .mode = mode};
	c->lit_start = t->lit.len;
	return 0;
}

/* tpl_escape: append s[0..n) to b as the inside of a JSON string (no quotes). */
static void tpl_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_append(b, s + start, i - start);
		start = i + 1;
		switch (ch) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		default: {
			char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
			buf_append(b, esc, 6);
		}
		}
	}
	buf_append(b, s + start, n - start);
}

/* tpl_url_char: the byte s[i] of a URL's literal text (which ends at to) is
 * one urlcheck_target accepts, so that only the host can make a rendered URL
 * unacceptable: printable ASCII but backslash, no fragment (never sent), and
 * "%" only as the start of a %XX escape. */
static int tpl_url_char(struct tplc *c, const char *s, size_t to, size_t i)
{
	unsigned char ch = (unsigned char)s[i];
	if (ch <= 0x20 || ch == 0x7f)
		return tpl_fail(c, i, "a URL cannot hold a space or control character");
	if (ch >= 0x80)
		return tpl_fail(c, i, "a URL must be ASCII (percent-encode other characters)");
	if (ch == '\\')
		return tpl_fail(c, i, "a URL cannot hold a backslash");
	if (ch == '#')
		return tpl_fail(c, i, "a URL cannot hold a fragment (#...): it is never sent");
	if (ch == '%' && (to - i < 3 || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0))
		return tpl_fail(c, i, "invalid percent-encoding (\"%%\" must start %%XX)");
	return 0;
}

/* tpl_literal: the text s[from..to) of a template, checked for its context
 * and kept (escaped inside a JSON string). */
static int tpl_literal(struct tplc *c, const char *s, size_t from, size_t to, enum tpl_mode mode)
{
	for (size_t i = from; i < to; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (mode == MODE_URL_PATH || mode == MODE_URL_QUERY) {
			int rc = tpl_url_char(c, s, to, i);
			if (rc)
				return rc;
		}
		if (mode == MODE_HEADER && ((ch < 0x20 && ch != '\t') || ch == 0x7f))
			return tpl_fail(
			    c, i, "a header value cannot hold a line break or control character");
	}
	if (mode == MODE_JSON_STRING)
		tpl_escape(&c->t->lit, s + from, to - from);
	else
		buf_append(&c->t->lit, s + from, to - from);
	return 0;
}

/* tpl_placeholder: the inside s[from..to) of the placeholder opened at byte
 * pos: check its path and add it to the template. */
static int tpl_placeholder(struct tplc *c, const char *s, size_t from, size_t to, size_t pos,
                           enum tpl_mode mode)
{
	struct template *t = c->t;
	while (from < to && tpl_space(s[from]))
		from++;
	while (to > from && tpl_space(s[to - 1]))
		to--;
	const char *p = s + from;
	size_t n = to - from;
	if (n == 0)
		return tpl_fail(c, pos, "empty placeholder");
	if (n > TEMPLATE_MAX_PATH)
		return tpl_fail(c, pos, "path longer than %d bytes", TEMPLATE_MAX_PATH);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch <= 0x20 || ch == 0x7f || ch == '{' || ch == '}')
			return tpl_fail(c, pos,
			                "malformed placeholder {{%.*s}}: a path holds no spaces, "
			                "braces or control characters",
			                (int)(n < 80 ? n : 80), p);
	}
	if (jsonpath_check(p, n))
		return tpl_fail(c, pos, "malformed path \"%.*s\": empty segment",
		                (int)(n < 80 ? n : 80), p);
	const char *dot = memchr(p, '.', n);
	size_t rootlen = dot ? (size_t)(dot - p) : n;
	int root = -1;
	for (int k = 0; k < ROOT_COUNT; k++)
		if (strlen(tpl_roots[k]) == rootlen && memcmp(tpl_roots[k], p, rootlen) == 0)
			root = k;
	if (root < 0)
		return tpl_fail(c, pos,
		                "unknown root \"%.*s\" (a path starts with body., headers., "
		                "entity. or receipt.)",
		                (int)(rootlen < 60 ? rootlen : 60), p);
	if (!dot)
		return tpl_fail(c, pos, "{{%s}} names no field (write %s.<path>)", tpl_roots[root],
		                tpl_roots[root]);
	const char *rest = dot + 1;
	size_t restlen = n - rootlen - 1;
	if (root == ROOT_RECEIPT) {
		bool known = false;
		for (size_t k = 0; k < RECEIPT_FIELDS; k++)
			if (strlen(tpl_receipt_fields[k]) == restlen &&
			    memcmp(tpl_receipt_fields[k], rest, restlen) == 0)
				known = true;
		if (!known) {
			char list[120] = "";
			for (size_t k = 0; k < RECEIPT_FIELDS; k++) {
				size_t used = strlen(list);
				snprintf(list + used, sizeof(list) - used, "%sreceipt.%s",
				         k ? ", " : "", tpl_receipt_fields[k]);
			}
			return tpl_fail(c, pos, "unknown receipt field \"%.*s\" (use %s)",
			                (int)(restlen < 40 ? restlen : 40), rest, list);
		}
	}
	if (t->nph == TEMPLATE_MAX_PLACEHOLDERS)
		return tpl_fail(c, pos, "more than %d placeholders", TEMPLATE_MAX_PLACEHOLDERS);
	if (t->nph == t->capph) {
		size_t cap = t->capph ? t->capph * 2 : 4;
		struct tpl_ph *ph = realloc(t->ph, cap * sizeof(*ph));
		if (!ph)
			return tpl_nomem(c->err);
		t->ph = ph;
		t->capph = cap;
	}
	char *path = malloc(restlen + 1);
	if (!path)
		return tpl_nomem(c->err);
	memcpy(path, rest, restlen);
	path[restlen] = '\0';
	if (root == ROOT_HEADERS) /* header names are case-insensitive */
		for (char *q = path; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
	t->ph[t->nph] = (struct tpl_ph){.root = root, .path = path};
	return tpl_push_op(c, (int)t->nph++, mode);
}

/* tpl_parse: compile the template text s[0..n), its values going in mode. */
static int tpl_parse(struct tplc *c, const char *s, size_t n, enum tpl_mode mode)
{
	const char *nul = memchr(s, '\0', n);
	if (nul)
		return tpl_fail(c, (size_t)(nul - s), "NUL character");
	size_t lit = 0, i = 0;
	while (i < n) {
		if (tpl_at(s, n, i, "}}"))
			return tpl_fail(c, i, "stray \"}}\"");
		if (!tpl_at(s, n, i, "{{")) {
			i++;
			continue;
		}
		size_t j = i + 2;
		while (j < n && !tpl_at(s, n, j, "}}") && !tpl_at(s, n, j, "{{"))
			j++;
		if (j >= n || tpl_at(s, n, j, "{{"))
			return tpl_fail(c, i, "unclosed \"{{\"");
		int rc = tpl_literal(c, s, lit, i, mode);
		if (rc == 0)
			rc = tpl_placeholder(c, s, i + 2, j, i, mode);
		if (rc)
			return rc;
		i = lit = j + 2;
	}
	return tpl_literal(c, s, lit, n, mode);
}

static bool tpl_scheme_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '-' || ch == '.';
}

/* tpl_url_check: the URL template s[0..n) (parsed) is scheme://host… with
 * every placeholder after the host; then mark each placeholder as being in
 * the path or in the query. */
static int tpl_url_check(struct tplc *c, const char *s, size_t n)
{
	const char *open = NULL;
	for (size_t k = 0; k + 1 < n && !open; k++)
		if (tpl_at(s, n, k, "{{"))
			open = s + k;
	size_t first = open ? (size_t)(open - s) : n; /* the first placeholder */
	size_t i = 0;
	bool alpha = n > 0 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
	while (alpha && i < n && tpl_scheme_char(s[i]))
		i++;
	bool scheme = alpha && n - i >= 3 && memcmp(s + i, "://", 3) == 0;
	size_t host = i + 3, host_end = host;
	if (scheme)
		while (host_end < n && s[host_end] != '/' && s[host_end] != '?')
			host_end++;
	if ((scheme && first < host_end) || (!scheme && open && first == i))
		return tpl_fail(c, first,
		                "placeholder in the URL's scheme or host (placeholders may only "
		                "come after the host: in the path or the query)");
	if (!scheme)
		return tpl_fail(c, 0, "a URL must start with scheme://host (e.g. https://)");
	if (host_end == host)
		return tpl_fail(c, host, "the URL has no host");
	if (!(c->t->origin = strndup(s, host_end)))
		return tpl_nomem(c->err);
	bool query = false;
	for (size_t k = 0; k < c->t->nops; k++) {
		struct tpl_op *op = &c->t->ops[k];
		const char *l = c->t->lit.data + op->off;
		if (!query && memchr(l, '?', op->len))
			query = true;
		op->mode = query ? MODE_URL_QUERY : MODE_URL_PATH;
	}
	return 0;
}

static struct template *tpl_new(enum tpl_kind kind)
{
	struct template *t = calloc(1, sizeof(*t));
	if (t) {
		t->kind = kind;
		buf_init(&t->lit);
	}
	return t;
}

/* tpl_finish: close the op list; hand t over in *out or free it. */
static int tpl_finish(struct tplc *c, int rc, struct template **out)
{
	if (rc == 0 && c->t->lit.len > c->lit_start)
		rc = tpl_push_op(c, -1, MODE_TEXT);
	if (rc == 0 && c->t->lit.oom)
		rc = tpl_nomem(c->err);
	if (rc) {
		template_free(c->t);
		return rc;
	}
	*out = c->t;
	return 0;
}

int template_compile_n(const char *text, size_t len, enum template_ctx ctx, struct template **out,
                       struct gerr *err)
{
	static const enum tpl_mode modes[] = {[TEMPLATE_URL] = MODE_URL_PATH,
	                                      [TEMPLATE_HEADER] = MODE_HEADER,
	                                      [TEMPLATE_TEXT] = MODE_TEXT};
	static const enum tpl_kind kinds[] = {[TEMPLATE_URL] = KIND_URL,
	                                      [TEMPLATE_HEADER] = KIND_HEADER,
	                                      [TEMPLATE_TEXT] = KIND_TEXT};
	struct tplc c = {.err = err};

	*out = NULL;
	if ((unsigned)ctx > TEMPLATE_TEXT || (!text && len))
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "template: bad context");
	if (len > TEMPLATE_MAX_BYTES)
		return tpl_fail(&c, NO_POS, "longer than %d bytes", TEMPLATE_MAX_BYTES);
	if (!(c.t = tpl_new(kinds[ctx])))
		return tpl_nomem(err);
	if (!text)
		text = "";
	int rc = tpl_parse(&c, text, len, modes[ctx]);
	if (rc == 0 && ctx == TEMPLATE_URL && !c.t->lit.oom)
		rc = tpl_url_check(&c, text, len);
	return tpl_finish(&c, rc, out);
}

int template_compile(const char *text, enum template_ctx ctx, struct template **out,
                     struct gerr *err)
{
	return template_compile_n(text, text ? strlen(text) : 0, ctx, out, err);
}

/* tpl_single: the string s[0..n) is exactly one placeholder. */
static bool tpl_single(const char *s, size_t n)
{
	if (n < 4 || !tpl_at(s, n, 0, "{{"))
		return false;
	for (size_t j = 2; j + 1 < n; j++) {
		if (tpl_at(s, n, j, "{{"))
			return false;
		if (tpl_at(s, n, j, "}}"))
			return j == n - 2;
	}
	return false;
}

/* tpl_json: compile the JSON value v into the skeleton; where holds its
 * dotted location ("data.items.2.name"). */
static int tpl_json(struct tplc *c, const json_t *v, int depth, struct buf *where)
{
	struct buf *lit = &c->t->lit;
	size_t wlen = where->len;
	int rc = 0;

	if (depth > TEMPLATE_MAX_DEPTH)
		return tpl_fail(c, NO_POS, "the body nests deeper than %d levels",
		                TEMPLATE_MAX_DEPTH);
	if (lit->len > TEMPLATE_MAX_BYTES)
		return tpl_fail(c, NO_POS, "the body is longer than %d bytes", TEMPLATE_MAX_BYTES);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		size_t klen;
		json_t *m;
		bool first = true;
		buf_putc(lit, '{');
		json_object_keylen_foreach((json_t *)v, key, klen, m)
		{
			const char *wh = where->len ? where->data : "the top level";
			if (memchr(key, '\0', klen))
				return tpl_fail(c, NO_POS,
				                "NUL character in an object key at %.50s", wh);
			for (size_t k = 0; k + 1 < klen; k++)
				if (tpl_at(key, klen, k, "{{") || tpl_at(key, klen, k, "}}"))
					return tpl_fail(c, NO_POS,
					                "object keys cannot hold \"{{\" or \"}}\" "
					                "(key \"%.40s\" at %.50s)",
					                key, wh);
			if (!first)
				buf_putc(lit, ',');
			first = false;
			buf_json_str(lit, key, klen);
			buf_putc(lit, ':');
			if (where->len)
				buf_putc(where, '.');
			buf_append(where, key, klen);
			rc = tpl_json(c, m, depth + 1, where);
			where->len = wlen;
			if (where->data)
				where->data[wlen] = '\0';
			if (rc)
				return rc;
		}
		buf_putc(lit, '}');
		return 0;
	}
	case JSON_ARRAY:
		buf_putc(lit, '[');
		for (size_t k = 0; k < json_array_size(v); k++) {
			if (k)
				buf_putc(lit, ',');
			buf_printf(where, "%s%zu", where->len ? "." : "", k);
			rc = tpl_json(c, json_array_get(v, k), depth + 1, where);
			where->len = wlen;
			if (where->data)
				where->data[wlen] = '\0';
			if (rc)
				return rc;
		}
		buf_putc(lit, ']');
		return 0;
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		if (n > TEMPLATE_MAX_BYTES)
			return tpl_fail(c, NO_POS, "the body is longer than %d bytes",
			                TEMPLATE_MAX_BYTES);
		c->where = where->data ? where->data : "";
		if (tpl_single(s, n))
			return tpl_parse(c, s, n, MODE_JSON_VALUE);
		buf_putc(lit, '"');
		rc = tpl_parse(c, s, n, MODE_JSON_STRING);
		buf_putc(lit, '"');
		return rc;
	}
	case JSON_INTEGER:
		buf_printf(lit, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL: {
		char num[64];
		size_t k = json_dumpb(v, num, sizeof(num), JSON_ENCODE_ANY);
		if (k == 0 || k > sizeof(num))
			return tpl_fail(c, NO_POS, "a number jansson cannot print");
		buf_append(lit, num, k);
		return 0;
	}
	case JSON_TRUE: buf_puts(lit, "true"); return 0;
	case JSON_FALSE: buf_puts(lit, "false"); return 0;
	case JSON_NULL: buf_puts(lit, "null"); return 0;
	}
	return tpl_fail(c, NO_POS, "not a JSON value");
}

int template_compile_json(const json_t *body, struct template **out, struct gerr *err)
{
	struct tplc c = {.err = err};
	struct buf where;

	*out = NULL;
	if (!body)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "template: no body");
	if (!(c.t = tpl_new(KIND_JSON)))
		return tpl_nomem(err);
	buf_init(&where);
	int rc = tpl_json(&c, body, 1, &where);
	if (rc == 0 && c.t->lit.len > TEMPLATE_MAX_BYTES)
		rc = tpl_fail(&c, NO_POS, "the body is longer than %d bytes", TEMPLATE_MAX_BYTES);
	if (rc == 0 && where.oom)
		rc = tpl_nomem(err);
	buf_free(&where);
	return tpl_finish(&c, rc, out);
}

void template_free(struct template *t)
{
	if (!t)
		return;
	for (size_t k = 0; k < t->nph; k++)
		free(t->ph[k].path);
	free(t->ph);
	free(t->ops);
	free(t->origin);
	buf_free(&t->lit);
	free(t);
}

const char *template_url_origin(const struct template *t)
{
	return t ? t->origin : NULL;
}

size_t template_path_count(const struct template *t)
{
	return t ? t->nph : 0;
}

void template_path(const struct template *t, size_t i, const char **root, const char **path)
{
	if (!t || i >= t->nph) {
		*root = *path = NULL;
		return;
	}
	*root = tpl_roots[t->ph[i].root];
	*path = t->ph[i].path;
}

/* ---- rendering ---------------------------------------------------------------------------- */

static uint32_t tpl_hex4(const char *s, size_t i, size_t end)
{
	uint32_t v = 0;
	for (size_t k = i; k < i + 4 && k < end; k++) {
		int d = hex_digit(s[k]);
		v = v * 16 + (uint32_t)(d < 0 ? 0 : d);
	}
	return v;
}

static void tpl_put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(b, u, n);
}

/* tpl_decode: append the text of the JSON string literal raw[0..n) (quotes
 * included, already validated by json_validate) to b. */
static void tpl_decode(const char *raw, size_t n, struct buf *b)
{
	size_t i = 1, end = n - 1;
	while (i < end) {
		size_t run = i;
		while (run < end && raw[run] != '\\')
			run++;
		buf_append(b, raw + i, run - i);
		if (run + 1 >= end)
			return;
		char e = raw[run + 1];
		i = run + 2;
		switch (e) {
		case 'b': buf_putc(b, '\b'); continue;
		case 'f': buf_putc(b, '\f'); continue;
		case 'n': buf_putc(b, '\n'); continue;
		case 'r': buf_putc(b, '\r'); continue;
		case 't': buf_putc(b, '\t'); continue;
		case 'u': break;
		default: buf_putc(b, e); continue; /* " \ / */
		}
		uint32_t cp = tpl_hex4(raw, i, end);
		i += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= end && raw[i] == '\\' &&
		    raw[i + 1] == 'u') {
			uint32_t lo = tpl_hex4(raw, i + 2, end);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
		}
		tpl_put_utf8(b, cp);
	}
}

/* tpl_url_encode: append s[0..n) percent-encoded (RFC 3986 unreserved kept). */
static void tpl_url_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf_putc(b, (char)ch);
		} else {
			char pct[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			buf_append(b, pct, 3);
		}
	}
}

static bool tpl_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Where a URL path placeholder's value landed in the output. */
struct tpl_span {
	size_t from, to;
	int ph;
};

static int tpl_render_fail(struct gerr *err, const char *code, const struct tpl_ph *ph,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int tpl_render_fail(struct gerr *err, const char *code, const struct tpl_ph *ph,
                           const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ph)
		return gerr_set(err, GERR_INVALID, 422, code, "template: %s", what);
	return gerr_set(err, GERR_INVALID, 422, code, "template: %s.%.150s %s", tpl_roots[ph->root],
	                ph->path, what);
}

/* tpl_check_segments: no path placeholder of a rendered URL made its whole
 * segment empty, "." or ".." (which a server or client normalises into
 * another path). */
static int tpl_check_segments(const struct template *t, const struct buf *out, size_t start,
                              const struct tpl_span *spans, size_t nspans, struct gerr *err)
{
	for (size_t k = 0; k < nspans; k++) {
		size_t a = spans[k].from, z = spans[k].to;
		while (a > start && out->data[a - 1] != '/')
			a--;
		while (z < out->len && out->data[z] != '/' && out->data[z] != '?')
			z++;
		const char *seg = out->data + a;
		size_t n = z - a;
		const struct tpl_ph *ph = &t->ph[spans[k].ph];
		if (n == 0)
			return tpl_render_fail(err, "template_value", ph,
			                       "is empty, which leaves an empty segment in the "
			                       "URL's path");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return tpl_render_fail(err, "template_value", ph,
			                       "makes the URL path segment \"%.*s\", which would "
			                       "change the path",
			                       (int)n, seg);
	}
	return 0;
}

int template_render(const struct template *t, template_lookup lookup, void *ctx, struct buf *out,
                    struct gerr *err)
{
	static const char *const places[] = {
	    [MODE_URL_PATH] = "URL", [MODE_URL_QUERY] = "URL", [MODE_HEADER] = "header value",
	    [MODE_TEXT] = "text",    [MODE_JSON_VALUE] = "",   [MODE_JSON_STRING] = ""};
	struct buf text;
	struct tpl_span *spans = NULL;
	size_t nspans = 0, start = out->len;
	int rc = 0;

	if (out->oom)
		return tpl_nomem(err);
	buf_init(&text);
	if (t->kind == KIND_URL && t->nph && !(spans = calloc(t->nph, sizeof(*spans)))) {
		rc = tpl_nomem(err);
		goto out;
	}
	for (size_t k = 0; k < t->nops; k++) {
		const struct tpl_op *op = &t->ops[k];
		buf_append(out, t->lit.data + op->off, op->len);
		if (op->ph < 0)
			continue;
		const struct tpl_ph *ph = &t->ph[op->ph];
		const char *v = NULL;
		size_t vn = 0;
		if (!lookup(ctx, tpl_roots[ph->root], ph->path, &v, &vn) || !v) {
			rc = tpl_render_fail(err, "template_missing", ph, "is missing");
			goto out;
		}
		while (vn && tpl_ws(v[0])) {
			v++;
			vn--;
		}
		while (vn && tpl_ws(v[vn - 1]))
			vn--;
		if (vn == 0 || json_validate(v, vn, NULL) != 0) {
			rc = tpl_render_fail(err, "template_value", ph, "is not a JSON value");
			goto out;
		}
		if (op->mode == MODE_JSON_VALUE) {
			buf_append(out, v, vn);
		} else {
			if ((v[0] == '{' || v[0] == '[') && op->mode != MODE_JSON_STRING) {
				rc = tpl_render_fail(
				    err, "template_value", ph, "is an %s, which cannot go in a %s",
				    v[0] == '{' ? "object" : "array", places[op->mode]);
				goto out;
			}
			buf_reset(&text);
			if (v[0] == '"')
				tpl_decode(v, vn, &text);
			else
				buf_append(&text, v, vn);
			if (text.oom) {
				rc = tpl_nomem(err);
				goto out;
			}
			const char *s = text.data ? text.data : "";
			switch (op->mode) {
			case MODE_URL_PATH:
				spans[nspans].from = out->len;
				tpl_url_encode(out, s, text.len);
				spans[nspans].to = out->len;
				spans[nspans++].ph = op->ph;
				break;
			case MODE_URL_QUERY: tpl_url_encode(out, s, text.len); break;
			case MODE_HEADER:
				for (size_t i = 0; i < text.len; i++) {
					unsigned char ch = (unsigned char)s[i];
					if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
						rc = tpl_render_fail(
						    err, "template_value", ph,
						    "holds a line break or control character, "
						    "which a header value cannot hold");
						goto out;
					}
				}
				buf_append(out, s, text.len);
				break;
			case MODE_TEXT:
				if (memchr(s, '\0', text.len)) {
					rc = tpl_render_fail(err, "template_value", ph,
					                     "holds a NUL character");
					goto out;
				}
				buf_append(out, s, text.len);
				break;
			case MODE_JSON_STRING: tpl_escape(out, s, text.len); break;
			case MODE_JSON_VALUE: break;
			}
		}
		if (out->oom) {
			rc = tpl_nomem(err);
			goto out;
		}
		if (out->len - start > TEMPLATE_MAX_OUTPUT) {
			rc = tpl_render_fail(err, "template_value", NULL,
			                     "the rendering is longer than %d bytes",
			                     TEMPLATE_MAX_OUTPUT);
			goto out;
		}
	}
	if (out->oom)
		rc = tpl_nomem(err);
	else
		rc = tpl_check_segments(t, out, start, spans, nspans, err);
out:
	if (rc) {
		out->len = start;
		out->oom = false;
		if (out->data)
			out->data[start] = '\0';
	}
	buf_free(&text);
	free(spans);
	return rc;
}
