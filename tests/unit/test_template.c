/*
 * test_template: compiling and rendering {{path}} templates in each context
 * (URL, header value, text, JSON body), with values looked up by filter_get
 * in real JSON documents: a Gupy application.moved envelope built around
 * tests/data/candidate-hired.data.json, and a document of awkward values
 * (escapes, UTF-8, numbers no C type holds, line breaks, dot segments).
 * Every rendered JSON body is checked with json_validate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/filter.h"
#include "core/jsonpath.h"
#include "core/template.h"
#include "util/buf.h"
#include "util/json_scan.h"

/* The documents a render reads: one JSON text per root. */
struct docs {
	const char *body, *headers, *entity, *receipt;
	int calls;
};

/* lookup: what the inbound path will do: filter_get over each root's text. */
static bool lookup(void *ctx, const char *root, const char *path, const char **json, size_t *len)
{
	struct docs *d = ctx;
	const char *doc = NULL;
	d->calls++;
	if (strcmp(root, "body") == 0)
		doc = d->body;
	else if (strcmp(root, "headers") == 0)
		doc = d->headers;
	else if (strcmp(root, "entity") == 0)
		doc = d->entity;
	else if (strcmp(root, "receipt") == 0)
		doc = d->receipt;
	else
		fail_msg("lookup called with root %s", root);
	return doc && jsonpath_get(doc, strlen(doc), path, json, len);
}

static char *gupy_body; /* application.moved envelope, built in setup */

static const char headers_doc[] =
    "{\"content-type\": \"application/json;charset=utf-8\", \"x-request-id\": \"req-7\","
    " \"authorization\": \"Bearer s3cr3t\"}";
static const char entity_doc[] = "{\"jobId\": 19139, \"step\": \"Exame\", \"score\": 87}";
static const char receipt_doc[] =
    "{\"id\": \"8a5f3c2e-1d2b-4c3a-9e8f-7a6b5c4d3e2f\", \"date\": \"2019-06-19T23:48:46.952Z\","
    " \"event\": \"application.moved\", \"sourceId\": \"0b7c5e4a-src\"}";

/* Values a template must handle with care. */
static const char edge_doc[] =
    "{\"slashy\": \"a/b?c#d e&f=g+h%20\","
    " \"utf\": \"S\xc3\xa3o Paulo \xe2\x80\x93 a\xc3\xa7\xc3\xa3o \xf0\x9f\x98\x80\","
    " \"escaped\": \"caf\\u00e9 \\ud83d\\ude00 \\/ \\u00e7\","
    " \"quote\": \"say \\\"hi\\\" \\\\ back\\n\\ttab\\u0001\\u001f\","
    " \"unreserved\": \"AZaz09-._~\","
    " \"big\": 99999999999999999999, \"huge\": 1e400, \"negzero\": -0.0,"
    " \"tiny\": 1E-400, \"frac\": 71.570454783086,"
    " \"t\": true, \"f\": false, \"n\": null,"
    " \"obj\": {\"a\": [1, {\"b\": \"c\\\"d\"}], \"d\": 1e400},"
    " \"arr\": [10, 20, 30],"
    " \"crlf\": \"x\\r\\nSet-Cookie: a=b\", \"lf\": \"x\\ny\", \"cr\": \"x\\ry\","
    " \"nul\": \"a\\u0000b\", \"del\": \"a\\u007fb\", \"tab\": \"a\\tb\","
    " \"dot\": \".\", \"dotdot\": \"..\", \"empty\": \"\", \"dots3\": \"...\","
    " \"bad\": tru, \"spaced\":   7   }";

static char *read_data(const char *name)
{
	/* The unit test runs from the build tree: find tests/data beside this file. */
	char path[4096];
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 1;
	snprintf(path, sizeof(path), "%.*s/../data/%s", dir, slash ? __FILE__ : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	assert_false(b.oom);
	return buf_steal(&b, NULL);
}

static int setup(void **state)
{
	(void)state;
	char *data = read_data("candidate-hired.data.json");
	struct buf b;
	buf_init(&b);
	buf_printf(&b,
	           "{\n  \"companyName\": \"ACME\",\n"
	           "  \"id\": \"24e99765-8583-4be5-87ae-489c86642964\",\n"
	           "  \"event\": \"application.moved\",\n"
	           "  \"date\": \"2019-06-19T23:48:46.952Z\",\n"
	           "  \"data\": %s\n}",
	           data);
	free(data);
	gupy_body = buf_steal(&b, NULL);
	return json_validate(gupy_body, strlen(gupy_body), NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(gupy_body);
	return 0;
}

static struct docs gupy(void)
{
	return (struct docs){gupy_body, headers_doc, entity_doc, receipt_doc, 0};
}

static struct docs edge(void)
{
	return (struct docs){edge_doc, headers_doc, entity_doc, receipt_doc, 0};
}

static struct template *compile(enum template_ctx ctx, const char *text)
{
	struct template *t = NULL;
	struct gerr err = {0};
	if (template_compile(text, ctx, &t, &err) != 0)
		fail_msg("template %s did not compile: %s", text, err.msg);
	assert_non_null(t);
	return t;
}

static struct template *compile_json(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	struct template *t = NULL;
	struct gerr err = {0};
	if (template_compile_json(v, &t, &err) != 0)
		fail_msg("body template %s did not compile: %s", text, err.msg);
	json_decref(v);
	assert_non_null(t);
	return t;
}

/* render: t rendered over d, as a string to free; fails the test on error. */
static char *render(const struct template *t, struct docs d)
{
	struct buf out;
	struct gerr err = {0};
	buf_init(&out);
	if (template_render(t, lookup, &d, &out, &err) != 0)
		fail_msg("render failed: %s", err.msg);
	assert_false(out.oom);
	return buf_steal(&out, NULL);
}

/* render_fails: rendering t over d fails with code and exactly msg, and
 * leaves what the buffer held before untouched. */
static void render_fails(const struct template *t, struct docs d, const char *code, const char *msg)
{
	struct buf out;
	struct gerr err = {0};
	buf_init(&out);
	buf_puts(&out, "kept");
	assert_int_equal(template_render(t, lookup, &d, &out, &err), GERR_INVALID);
	assert_int_equal(err.status, 422);
	assert_string_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "kept");
	buf_free(&out);
}

static void check_url(const char *tpl, struct docs d, const char *want)
{
	struct template *t = compile(TEMPLATE_URL, tpl);
	char *got = render(t, d);
	assert_string_equal(got, want);
	free(got);
	template_free(t);
}

static void check_text(enum template_ctx ctx, const char *tpl, struct docs d, const char *want)
{
	struct template *t = compile(ctx, tpl);
	char *got = render(t, d);
	assert_string_equal(got, want);
	free(got);
	template_free(t);
}

/* check_json: the body template renders to exactly want, which is valid JSON. */
static void check_json(const char *tpl, struct docs d, const char *want)
{
	struct template *t = compile_json(tpl);
	char *got = render(t, d);
	struct gerr err = {0};
	if (json_validate(got, strlen(got), &err) != 0)
		fail_msg("rendered body is not JSON (%s): %s", err.msg, got);
	assert_string_equal(got, want);
	free(got);
	template_free(t);
}

static void fails_with(enum template_ctx ctx, const char *tpl, const char *code, const char *msg)
{
	struct template *t = compile(ctx, tpl);
	render_fails(t, edge(), code, msg);
	template_free(t);
}

/* ---- compile errors --------------------------------------------------------------------- */

static void compile_fails_n(enum template_ctx ctx, const char *text, size_t len, const char *msg)
{
	struct template *t = (struct template *)1;
	struct gerr err = {0};
	assert_int_equal(template_compile_n(text, len, ctx, &t, &err), GERR_INVALID);
	assert_null(t);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	if (strcmp(err.msg, msg) != 0)
		fail_msg("template \"%s\":\n got  %s\n want %s", text, err.msg, msg);
}

static void compile_fails(enum template_ctx ctx, const char *text, const char *msg)
{
	compile_fails_n(ctx, text, strlen(text), msg);
}

static void json_value_fails(json_t *v, const char *text, const char *msg)
{
	struct template *t = (struct template *)1;
	struct gerr err = {0};
	assert_int_equal(template_compile_json(v, &t, &err), GERR_INVALID);
	assert_null(t);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "invalid_field");
	if (strcmp(err.msg, msg) != 0)
		fail_msg("body template %s:\n got  %s\n want %s", text, err.msg, msg);
	json_decref(v);
}

static void json_fails(const char *text, const char *msg)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	json_value_fails(v, text, msg);
}

static void test_compile_errors(void **state)
{
	(void)state;
	static const struct {
		enum template_ctx ctx;
		const char *text, *msg;
	} bad[] = {
	    {TEMPLATE_TEXT, "{{body.x", "template: unclosed \"{{\" at byte 0"},
	    {TEMPLATE_TEXT, "abc {{", "template: unclosed \"{{\" at byte 4"},
	    {TEMPLATE_TEXT, "a {{body.x {{body.y}}", "template: unclosed \"{{\" at byte 2"},
	    {TEMPLATE_TEXT, "{{body.x}} and {{body.y", "template: unclosed \"{{\" at byte 15"},
	    {TEMPLATE_TEXT, "{{body.x}", "template: unclosed \"{{\" at byte 0"},
	    {TEMPLATE_TEXT, "a }} b", "template: stray \"}}\" at byte 2"},
	    {TEMPLATE_TEXT, "{{body.x}} }}", "template: stray \"}}\" at byte 11"},
	    {TEMPLATE_TEXT, "}}{{body.x}}", "template: stray \"}}\" at byte 0"},
	    {TEMPLATE_TEXT, "x{{}}", "template: empty placeholder at byte 1"},
	    {TEMPLATE_TEXT, "{{ \t }}", "template: empty placeholder at byte 0"},
	    {TEMPLATE_TEXT, "{{foo.x}}",
	     "template: unknown root \"foo\" (a path starts with body., headers., entity. or "
	     "receipt.) at byte 0"},
	    {TEMPLATE_TEXT, "{{Body.x}}",
	     "template: unknown root \"Body\" (a path starts with body., headers., entity. or "
	     "receipt.) at byte 0"},
	    {TEMPLATE_TEXT, "{{data.job.id}}",
	     "template: unknown root \"data\" (a path starts with body., headers., entity. or "
	     "receipt.) at byte 0"},
	    {TEMPLATE_TEXT, "{{body}}",
	     "template: {{body}} names no field (write body.<path>) at "
	     "byte 0"},
	    {TEMPLATE_TEXT, "{{ entity }}",
	     "template: {{entity}} names no field (write entity.<path>) at byte 0"},
	    {TEMPLATE_TEXT, "{{body..x}}",
	     "template: malformed path \"body..x\": empty segment at byte 0"},
	    {TEMPLATE_TEXT, "{{body.x.}}",
	     "template: malformed path \"body.x.\": empty segment at byte 0"},
	    {TEMPLATE_TEXT, "{{.body.x}}",
	     "template: malformed path \".body.x\": empty segment at byte 0"},
	    {TEMPLATE_TEXT, "{{body.}}",
	     "template: malformed path \"body.\": empty segment at byte 0"},
	    {TEMPLATE_TEXT, "ab{{body.a b}}",
	     "template: malformed placeholder {{body.a b}}: a path holds no spaces, braces or "
	     "control characters at byte 2"},
	    {TEMPLATE_TEXT, "{{{body.x}}}",
	     "template: malformed placeholder {{{body.x}}: a path holds no spaces, braces or "
	     "control characters at byte 0"},
	    {TEMPLATE_TEXT, "{{body.a}b}}",
	     "template: malformed placeholder {{body.a}b}}: a path holds no spaces, braces or "
	     "control characters at byte 0"},
	    {TEMPLATE_TEXT, "{{body.a\nb}}",
	     "template: malformed placeholder {{body.a\nb}}: a path holds no spaces, braces or "
	     "control characters at byte 0"},
	    {TEMPLATE_TEXT, "{{receipt.foo}}",
	     "template: unknown receipt field \"foo\" (use receipt.id, receipt.date, "
	     "receipt.event, receipt.sourceId) at byte 0"},
	    {TEMPLATE_TEXT, "{{receipt.id.x}}",
	     "template: unknown receipt field \"id.x\" (use receipt.id, receipt.date, "
	     "receipt.event, receipt.sourceId) at byte 0"},
	    {TEMPLATE_TEXT, "{{receipt.sourceid}}",
	     "template: unknown receipt field \"sourceid\" (use receipt.id, receipt.date, "
	     "receipt.event, receipt.sourceId) at byte 0"},
	    /* A URL's scheme and host are fixed text. */
	    {TEMPLATE_URL, "https://{{body.host}}/x",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 8"},
	    {TEMPLATE_URL, "https://api.example.com{{body.path}}",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 23"},
	    {TEMPLATE_URL, "https://api.{{body.domain}}.com/x",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 12"},
	    {TEMPLATE_URL, "https://h:{{body.port}}/x",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 10"},
	    {TEMPLATE_URL, "https://u:{{body.pw}}@h/x",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 10"},
	    {TEMPLATE_URL, "{{body.url}}",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 0"},
	    {TEMPLATE_URL, "http{{body.s}}://h/",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 4"},
	    /* A "/" inside a placeholder's path is no end of the host. */
	    {TEMPLATE_URL, "https://h{{body.a/b}}",
	     "template: placeholder in the URL's scheme or host (placeholders may only come "
	     "after the host: in the path or the query) at byte 9"},
	    {TEMPLATE_URL, "api.example.com/{{body.x}}",
	     "template: a URL must start with scheme://host (e.g. https://) at byte 0"},
	    {TEMPLATE_URL, "/jobs/{{body.x}}",
	     "template: a URL must start with scheme://host (e.g. https://) at byte 0"},
	    {TEMPLATE_URL, "",
	     "template: a URL must start with scheme://host (e.g. https://) at "
	     "byte 0"},
	    {TEMPLATE_URL, "https:///{{body.x}}", "template: the URL has no host at byte 8"},
	    {TEMPLATE_URL, "https://h/a b/{{body.x}}",
	     "template: a URL cannot hold a space or control character at byte 11"},
	    {TEMPLATE_URL, "https://h/{{body.x}}\r\n",
	     "template: a URL cannot hold a space or control character at byte 20"},
	    {TEMPLATE_URL, "https://h/a\xc3\xa7/{{body.x}}",
	     "template: a URL must be ASCII (percent-encode other characters) at byte 11"},
	    {TEMPLATE_URL, "https://h/a\\b/{{body.x}}",
	     "template: a URL cannot hold a backslash at byte 11"},
	    {TEMPLATE_URL, "https://h/x#{{body.x}}",
	     "template: a URL cannot hold a fragment (#...): it is never sent at byte 11"},
	    {TEMPLATE_URL, "https://h/x?a=1#frag",
	     "template: a URL cannot hold a fragment (#...): it is never sent at byte 15"},
	    {TEMPLATE_URL, "https://h/100%/{{body.x}}",
	     "template: invalid percent-encoding (\"%\" must start %XX) at byte 13"},
	    {TEMPLATE_URL, "https://h/%4g",
	     "template: invalid percent-encoding (\"%\" must start %XX) at byte 10"},
	    {TEMPLATE_URL, "https://h/%4",
	     "template: invalid percent-encoding (\"%\" must start %XX) at byte 10"},
	    /* A "%" cannot take a value as its hex digits. */
	    {TEMPLATE_URL, "https://h/%{{body.x}}",
	     "template: invalid percent-encoding (\"%\" must start %XX) at byte 10"},
	    {TEMPLATE_URL, "https://h/%4{{body.x}}",
	     "template: invalid percent-encoding (\"%\" must start %XX) at byte 10"},
	    /* The URL's own errors come first, then the placeholder's. */
	    {TEMPLATE_URL, "https://h/{{nope.x}}",
	     "template: unknown root \"nope\" (a path starts with body., headers., entity. or "
	     "receipt.) at byte 10"},
	    {TEMPLATE_HEADER, "a\r\nX-Injected: {{body.x}}",
	     "template: a header value cannot hold a line break or control character at byte 1"},
	    {TEMPLATE_HEADER, "{{body.x}}\n",
	     "template: a header value cannot hold a line break or control character at byte 10"},
	    {TEMPLATE_HEADER, "a\x7f",
	     "template: a header value cannot hold a line break or "
	     "control character at byte 1"},
	    {TEMPLATE_URL, "https://h/x?{{body.a}}}}", "template: stray \"}}\" at byte 22"},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		compile_fails(bad[k].ctx, bad[k].text, bad[k].msg);

	/* NUL anywhere, even where a C string would have ended. */
	compile_fails_n(TEMPLATE_TEXT, "ab\0{{body.x}}", 13, "template: NUL character at byte 2");
	compile_fails_n(TEMPLATE_HEADER, "{{body.x}}\0", 11, "template: NUL character at byte 10");
	compile_fails_n(TEMPLATE_URL, "https://h/\0", 11, "template: NUL character at byte 10");

	/* No context but the three, and no text with a length. */
	struct template *t = NULL;
	struct gerr err = {0};
	assert_int_equal(template_compile("x", (enum template_ctx)7, &t, &err), GERR_INVALID);
	assert_null(t);
	assert_int_equal(template_compile_n(NULL, 3, TEMPLATE_TEXT, &t, &err), GERR_INVALID);
	assert_null(t);
	/* NULL is the empty template. */
	assert_int_equal(template_compile(NULL, TEMPLATE_TEXT, &t, &err), 0);
	char *out = render(t, gupy());
	assert_string_equal(out, "");
	free(out);
	template_free(t);
}

static void test_compile_bounds(void **state)
{
	(void)state;
	struct template *t = NULL;
	struct gerr err = {0};
	char *big = malloc(TEMPLATE_MAX_BYTES + 2);
	assert_non_null(big);

	/* Length: exactly the bound compiles, a byte more does not. */
	memset(big, 'a', TEMPLATE_MAX_BYTES + 1);
	big[TEMPLATE_MAX_BYTES] = '\0';
	assert_int_equal(template_compile(big, TEMPLATE_TEXT, &t, &err), 0);
	template_free(t);
	big[TEMPLATE_MAX_BYTES] = 'a';
	big[TEMPLATE_MAX_BYTES + 1] = '\0';
	compile_fails(TEMPLATE_TEXT, big, "template: longer than 65536 bytes");

	/* Placeholders: 512 compile, 513 do not (at the 513th). */
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < TEMPLATE_MAX_PLACEHOLDERS; k++)
		buf_puts(&b, "{{body.id}}");
	assert_int_equal(template_compile(b.data, TEMPLATE_TEXT, &t, &err), 0);
	assert_int_equal(template_path_count(t), TEMPLATE_MAX_PLACEHOLDERS);
	template_free(t);
	buf_puts(&b, "{{body.id}}");
	compile_fails(TEMPLATE_TEXT, b.data, "template: more than 512 placeholders at byte 5632");
	buf_free(&b);

	/* A path: 256 bytes compile, 257 do not. */
	memcpy(big, "{{body.", 7);
	memset(big + 7, 'k', TEMPLATE_MAX_PATH - 5);
	memcpy(big + 7 + TEMPLATE_MAX_PATH - 5, "}}", 3);
	assert_int_equal(template_compile(big, TEMPLATE_TEXT, &t, &err), 0);
	template_free(t);
	memcpy(big + 7 + TEMPLATE_MAX_PATH - 5, "k}}", 4);
	compile_fails(TEMPLATE_TEXT, big, "template: path longer than 256 bytes at byte 0");
	free(big);
}

static void test_compile_json_errors(void **state)
{
	(void)state;
	json_fails("{\"a\": {\"b\": \"x {{body.y\"}}",
	           "template: unclosed \"{{\" at byte 2 of the string at a.b");
	json_fails("{\"a\": [1, \"ok {{body.x}}\", \"}}\"]}",
	           "template: stray \"}}\" at byte 0 of the string at a.2");
	json_fails("\"{{nope.x}}\"", "template: unknown root \"nope\" (a path starts with body., "
	                             "headers., entity. or receipt.) at byte 0 of the string at "
	                             "the top level");
	json_fails(
	    "{\"a\": \"{{body..x}}\"}",
	    "template: malformed path \"body..x\": empty segment at byte 0 of the string at a");
	json_fails("{\"a\": \"{{ }}\"}",
	           "template: empty placeholder at byte 0 of the string at a");
	/* Keys are never templates. */
	json_fails("{\"{{body.k}}\": 1}",
	           "template: object keys cannot hold \"{{\" or \"}}\" (key \"{{body.k}}\" at the "
	           "top level)");
	json_fails("{\"a\": {\"x}}\": 1}}",
	           "template: object keys cannot hold \"{{\" or \"}}\" (key \"x}}\" at a)");
	/* NUL in a string or a key. */
	json_fails("{\"a\": \"x\\u0000{{body.y}}\"}",
	           "template: NUL character at byte 1 of the string at a");
	json_fails("{\"a\": \"{{body.y}}\\u0000\"}",
	           "template: NUL character at byte 10 of the string at a");
	/* (jansson's parser refuses a NUL in a key; a program can still make one.) */
	json_t *o = json_object();
	json_t *inner = json_object();
	json_object_set_new(o, "x", inner);
	json_object_setn_new(inner, "a\0b", 3, json_integer(1));
	json_value_fails(o, "{\"x\": {\"a\\u0000b\": 1}}",
	                 "template: NUL character in an object key at x");

	/* Nesting: 64 levels compile, 65 do not. */
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < TEMPLATE_MAX_DEPTH; k++)
		buf_putc(&b, '[');
	for (int k = 0; k < TEMPLATE_MAX_DEPTH; k++)
		buf_putc(&b, ']');
	struct template *t = compile_json(b.data);
	template_free(t);
	buf_reset(&b);
	for (int k = 0; k < TEMPLATE_MAX_DEPTH + 1; k++)
		buf_putc(&b, '[');
	for (int k = 0; k < TEMPLATE_MAX_DEPTH + 1; k++)
		buf_putc(&b, ']');
	json_fails(b.data, "template: the body nests deeper than 64 levels");

	/* Size: the body's text is bounded like a text template's. */
	buf_reset(&b);
	buf_puts(&b, "[\"");
	for (int k = 0; k < TEMPLATE_MAX_BYTES; k++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\"]");
	json_fails(b.data, "template: the body is longer than 65536 bytes");
	buf_reset(&b);
	buf_putc(&b, '[');
	for (int k = 0; k < 8000; k++)
		buf_puts(&b, k ? ",\"abcdefgh\"" : "\"abcdefgh\"");
	buf_putc(&b, ']');
	json_fails(b.data, "template: the body is longer than 65536 bytes");
	/* Placeholders across the whole body. */
	buf_reset(&b);
	buf_putc(&b, '[');
	for (int k = 0; k <= TEMPLATE_MAX_PLACEHOLDERS; k++)
		buf_puts(&b, k ? ",\"{{body.id}}\"" : "\"{{body.id}}\"");
	buf_putc(&b, ']');
	json_fails(b.data, "template: more than 512 placeholders at byte 0 of the string at 512");
	buf_free(&b);

	struct gerr err = {0};
	t = (struct template *)1;
	assert_int_equal(template_compile_json(NULL, &t, &err), GERR_INVALID);
	assert_null(t);
}

/* ---- URLs ------------------------------------------------------------------------------- */

static void test_url(void **state)
{
	(void)state;
	/* A Gupy write-back URL: ids in the path, UTF-8 text in the query. */
	check_url("https://api.gupy.io/api/v1/jobs/{{body.data.job.id}}/applications/"
	          "{{ body.data.application.id }}?step={{body.data.application.currentStep.name}}"
	          "&tag={{body.data.application.tags.0}}&e={{receipt.event}}&r={{receipt.id}}",
	          gupy(),
	          "https://api.gupy.io/api/v1/jobs/19139/applications/2937132"
	          "?step=Contrata%C3%A7%C3%A3o&tag=tagHired&e=application.moved"
	          "&r=8a5f3c2e-1d2b-4c3a-9e8f-7a6b5c4d3e2f");
	check_url("https://h/c/{{body.data.candidate.addressCity}}/{{body.data.candidate.email}}",
	          gupy(), "https://h/c/S%C3%A3o%20Paulo/%5Bemail%C2%A0protected%5D");
	/* Nothing in a value changes the path or the query: "/", "?", "#", "&", "=", "+", "%"
	 * are all encoded. */
	check_url("https://h/x/{{body.slashy}}/y?q={{body.slashy}}", edge(),
	          "https://h/x/a%2Fb%3Fc%23d%20e%26f%3Dg%2Bh%2520/y"
	          "?q=a%2Fb%3Fc%23d%20e%26f%3Dg%2Bh%2520");
	/* UTF-8, multibyte and 4-byte; JSON escapes decoded first. */
	check_url("https://h/{{body.utf}}", edge(),
	          "https://h/S%C3%A3o%20Paulo%20%E2%80%93%20a%C3%A7%C3%A3o%20%F0%9F%98%80");
	check_url("https://h/{{body.escaped}}", edge(),
	          "https://h/caf%C3%A9%20%F0%9F%98%80%20%2F%20%C3%A7");
	/* The unreserved set stays as it is. */
	check_url("https://h/{{body.unreserved}}", edge(), "https://h/AZaz09-._~");
	/* Numbers, true, false, null: their JSON text, exactly. */
	check_url("https://h/{{body.big}}/{{body.huge}}/{{body.negzero}}/{{body.tiny}}/"
	          "{{body.frac}}?t={{body.t}}&f={{body.f}}&n={{body.n}}&s={{body.spaced}}",
	          edge(),
	          "https://h/99999999999999999999/1e400/-0.0/1E-400/71.570454783086"
	          "?t=true&f=false&n=null&s=7");
	/* Array elements by index. */
	check_url("https://h/{{body.arr.0}}/{{body.arr.2}}/{{body.obj.a.1.b}}", edge(),
	          "https://h/10/30/c%22d");
	/* Control characters and NUL are encoded like anything else. */
	check_url("https://h/x?a={{body.crlf}}&b={{body.nul}}", edge(),
	          "https://h/x?a=x%0D%0ASet-Cookie%3A%20a%3Db&b=a%00b");
	/* Entity, headers, receipt roots. Header names are looked up lower-cased. */
	check_url(
	    "https://h/jobs/{{entity.jobId}}/{{entity.step}}?r={{headers.X-Request-Id}}"
	    "&s={{receipt.sourceId}}&d={{receipt.date}}",
	    gupy(),
	    "https://h/jobs/19139/Exame?r=req-7&s=0b7c5e4a-src&d=2019-06-19T23%3A48%3A46.952Z");
	/* No placeholder at all; a query or fragment right after the host. */
	check_url("https://h", gupy(), "https://h");
	check_url("https://h?id={{body.id}}", gupy(),
	          "https://h?id=24e99765-8583-4be5-87ae-489c86642964");
	check_url("http://127.0.0.1:8080?{{body.event}}", gupy(),
	          "http://127.0.0.1:8080?application.moved");
	/* The URL's own percent-escapes are kept as written. */
	check_url("https://h/a%2Fb%c3%a7/{{body.data.job.id}}?q=%20", gupy(),
	          "https://h/a%2Fb%c3%a7/19139?q=%20");
	/* Single braces are text. */
	check_url("https://h/{x}/{{body.n}}}", edge(), "https://h/{x}/null}");
}

static void test_url_segments(void **state)
{
	(void)state;
	/* A value may not turn a whole path segment into "", "." or "..". */
	fails_with(TEMPLATE_URL, "https://h/jobs/{{body.dotdot}}/x", "template_value",
	           "template: body.dotdot makes the URL path segment \"..\", which would change "
	           "the path");
	fails_with(TEMPLATE_URL, "https://h/jobs/{{body.dot}}", "template_value",
	           "template: body.dot makes the URL path segment \".\", which would change the "
	           "path");
	fails_with(TEMPLATE_URL, "https://h/jobs/{{body.empty}}/x", "template_value",
	           "template: body.empty is empty, which leaves an empty segment in the URL's "
	           "path");
	fails_with(TEMPLATE_URL, "https://h/jobs/{{body.empty}}?x=1", "template_value",
	           "template: body.empty is empty, which leaves an empty segment in the URL's "
	           "path");
	fails_with(TEMPLATE_URL, "https://h/{{body.dot}}{{body.dot}}/x", "template_value",
	           "template: body.dot makes the URL path segment \"..\", which would change the "
	           "path");
	fails_with(TEMPLATE_URL, "https://h/x/{{body.empty}}{{body.dot}}?f", "template_value",
	           "template: body.empty makes the URL path segment \".\", which would change the "
	           "path");
	/* Part of a segment, or in the query or fragment: fine. */
	check_url("https://h/v{{body.dotdot}}/{{body.dot}}x/{{body.dots3}}/a{{body.empty}}", edge(),
	          "https://h/v../.x/.../a");
	check_url("https://h/x?a={{body.dotdot}}&b={{body.empty}}&c={{body.dot}}", edge(),
	          "https://h/x?a=..&b=&c=.");
	check_url("https://h/x?/{{body.dotdot}}/", edge(), "https://h/x?/../");
	/* A "/" or "?" in the value is encoded, so it cannot end the segment. */
	check_url("https://h/{{body.slashy}}", edge(),
	          "https://h/a%2Fb%3Fc%23d%20e%26f%3Dg%2Bh%2520");
}

/* ---- headers and text ------------------------------------------------------------------- */

static void test_header(void **state)
{
	(void)state;
	check_text(TEMPLATE_HEADER, "{{headers.Authorization}}", gupy(), "Bearer s3cr3t");
	check_text(TEMPLATE_HEADER, "{{ body.data.job.id }}-{{body.data.candidate.addressCity}}",
	           gupy(), "19139-S\xc3\xa3o Paulo");
	check_text(TEMPLATE_HEADER, "{{body.big}} {{body.t}} {{body.n}}", edge(),
	           "99999999999999999999 true null");
	check_text(TEMPLATE_HEADER, "\t{{body.tab}}", edge(), "\ta\tb"); /* tab is allowed */
	/* Header injection: a value holding CR, LF, NUL or another control character. */
	static const char *const bad[] = {"crlf", "lf", "cr", "nul", "del", "quote"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char tpl[64], msg[200];
		snprintf(tpl, sizeof(tpl), "v={{body.%s}}", bad[k]);
		snprintf(
		    msg, sizeof(msg),
		    "template: body.%s holds a line break or control character, which a header "
		    "value cannot hold",
		    bad[k]);
		fails_with(TEMPLATE_HEADER, tpl, "template_value", msg);
	}
	fails_with(TEMPLATE_HEADER, "{{body.obj}}", "template_value",
	           "template: body.obj is an object, which cannot go in a header value");
	fails_with(TEMPLATE_HEADER, "{{body.arr}}", "template_value",
	           "template: body.arr is an array, which cannot go in a header value");
}

static void test_text(void **state)
{
	(void)state;
	check_text(TEMPLATE_TEXT, "{{body.data.application.currentStep.name}}", gupy(),
	           "Contrata\xc3\xa7\xc3\xa3o");
	check_text(TEMPLATE_TEXT,
	           "Vaga {{body.data.job.name}} ({{body.data.job.id}}): {{ "
	           "body.data.candidate.name }} {{body.data.candidate.lastName}}",
	           gupy(), "Vaga Developer (19139): John Doe");
	/* Decoded text, control characters and all; numbers as their text. */
	check_text(TEMPLATE_TEXT, "<{{body.quote}}>", edge(),
	           "<say \"hi\" \\ back\n\ttab\x01\x1f>");
	check_text(TEMPLATE_TEXT, "{{body.escaped}}|{{body.huge}}|{{body.f}}", edge(),
	           "caf\xc3\xa9 \xf0\x9f\x98\x80 / \xc3\xa7|1e400|false");
	check_text(TEMPLATE_TEXT, "line\nbreak {{body.empty}}{ }", edge(), "line\nbreak { }");
	fails_with(TEMPLATE_TEXT, "{{body.nul}}", "template_value",
	           "template: body.nul holds a NUL character");
	fails_with(TEMPLATE_TEXT, "{{body.obj}}", "template_value",
	           "template: body.obj is an object, which cannot go in a text");
	fails_with(TEMPLATE_URL, "https://h/{{body.obj}}", "template_value",
	           "template: body.obj is an object, which cannot go in a URL");
	fails_with(TEMPLATE_URL, "https://h/?a={{body.arr}}", "template_value",
	           "template: body.arr is an array, which cannot go in a URL");
}

/* ---- JSON bodies ------------------------------------------------------------------------ */

static void test_json(void **state)
{
	(void)state;
	/* The worked example: only numbers and strings picked out of a Gupy event. */
	check_json("{\"jobId\": \"{{body.data.job.id}}\","
	           " \"applicationId\": \"{{ body.data.application.id }}\","
	           " \"score\": \"{{body.data.application.score}}\","
	           " \"label\": \"score {{body.data.application.score}}\","
	           " \"step\": \"{{body.data.application.currentStep.name}}\","
	           " \"name\": \"{{body.data.candidate.name}} {{body.data.candidate.lastName}}\","
	           " \"tags\": \"{{body.data.application.tags}}\","
	           " \"firstTag\": \"{{body.data.application.tags.0}}\","
	           " \"vacancy\": \"{{body.data.application.vacancyCode}}\","
	           " \"disabled\": \"{{body.data.candidate.disabilities}}\","
	           " \"kept\": \"{{entity.jobId}}\", \"receipt\": \"{{receipt.id}}\","
	           " \"fixed\": [1, 2.5, true, false, null, \"plain\", {}, []]}",
	           gupy(),
	           "{\"jobId\":19139,\"applicationId\":2937132,\"score\":71.570454783086,"
	           "\"label\":\"score 71.570454783086\",\"step\":\"Contrata\xc3\xa7\xc3\xa3o\","
	           "\"name\":\"John Doe\",\"tags\":[\"tagHired\"],\"firstTag\":\"tagHired\","
	           "\"vacancy\":null,\"disabled\":false,\"kept\":19139,"
	           "\"receipt\":\"8a5f3c2e-1d2b-4c3a-9e8f-7a6b5c4d3e2f\","
	           "\"fixed\":[1,2.5,true,false,null,\"plain\",{},[]]}");
	/* "score {{…}}" from the entity: a number inside a string is its text. */
	check_json("{\"text\": \"score {{entity.score}}\", \"n\": \"{{entity.score}}\"}", gupy(),
	           "{\"text\":\"score 87\",\"n\":87}");
	/* Numbers no C type holds go out byte for byte, as a value and inside a string. */
	check_json("{\"big\": \"{{body.big}}\", \"huge\": \"{{body.huge}}\", \"z\": "
	           "\"{{body.negzero}}\", \"tiny\": \"{{body.tiny}}\","
	           " \"s\": \"{{body.big}}/{{body.huge}}\"}",
	           edge(),
	           "{\"big\":99999999999999999999,\"huge\":1e400,\"z\":-0.0,\"tiny\":1E-400,"
	           "\"s\":\"99999999999999999999/1e400\"}");
	/* Objects and arrays inserted whole, exactly as received (here with 1e400 inside). */
	check_json("{\"o\": \"{{body.obj}}\", \"a\": [\"{{body.arr}}\", \"{{body.obj.a}}\"]}",
	           edge(),
	           "{\"o\":{\"a\": [1, {\"b\": \"c\\\"d\"}], \"d\": 1e400},"
	           "\"a\":[[10, 20, 30],[1, {\"b\": \"c\\\"d\"}]]}");
	/* ...and as JSON text when inside a string. */
	check_json("{\"o\": \"obj={{body.obj}}\"}", edge(),
	           "{\"o\":\"obj={\\\"a\\\": [1, {\\\"b\\\": \\\"c\\\\\\\"d\\\"}], \\\"d\\\": "
	           "1e400}\"}");
	/* Quotes, backslashes and control characters escaped inside a string. */
	check_json("{\"q\": \"<{{body.quote}}>\", \"c\": \"{{body.crlf}}!\", \"z\": "
	           "\"{{body.nul}}.\", \"d\": \"{{body.del}}.\"}",
	           edge(),
	           "{\"q\":\"<say \\\"hi\\\" \\\\ back\\n\\ttab\\u0001\\u001f>\","
	           "\"c\":\"x\\r\\nSet-Cookie: a=b!\",\"z\":\"a\\u0000b.\",\"d\":\"a\x7f"
	           "b.\"}");
	/* A whole string value keeps its raw text; inside a string it is decoded and
	 * escaped again. */
	check_json(
	    "{\"raw\": \"{{body.escaped}}\", \"in\": \"[{{body.escaped}}]\", "
	    "\"utf\": \"{{body.utf}}\"}",
	    edge(),
	    "{\"raw\":\"caf\\u00e9 \\ud83d\\ude00 \\/ \\u00e7\","
	    "\"in\":\"[caf\xc3\xa9 \xf0\x9f\x98\x80 / \xc3\xa7]\","
	    "\"utf\":\"S\xc3\xa3o Paulo \xe2\x80\x93 a\xc3\xa7\xc3\xa3o \xf0\x9f\x98\x80\"}");
	/* Only a string that is exactly one placeholder takes the value's type. */
	check_json("[\"{{body.arr.1}}\", \" {{body.arr.1}}\", \"{{body.arr.1}} \", "
	           "\"{{body.arr.1}}{{body.arr.2}}\", \"{{body.t}}\", \"{{body.n}}\", "
	           "\"{{ body.spaced }}\"]",
	           edge(), "[20,\" 20\",\"20 \",\"2030\",true,null,7]");
	/* Keys and literal text are escaped; single braces are text. */
	check_json("{\"a\\\"b\\\\\": \"c\\nd\\u0001\", \"{k}\": \"{x} {{body.n}} }\", "
	           "\"\xc3\xa7\": \"\\u00e7\"}",
	           edge(),
	           "{\"a\\\"b\\\\\":\"c\\nd\\u0001\",\"{k}\":\"{x} null }\","
	           "\"\xc3\xa7\":\"\xc3\xa7\"}");
	/* Any JSON value is a body template, a lone string too. */
	check_json("\"{{body.data.job}}\"", gupy(),
	           "{\n      \"id\": 19139,\n      \"name\": \"Developer\",\n"
	           "      \"departmentCode\": \"D-100\",\n      \"roleCode\": \"R-200\",\n"
	           "      \"branchCode\": \"B-300\"\n    }");
	check_json("\"id {{body.data.job.id}}\"", gupy(), "\"id 19139\"");
	check_json("[]", gupy(), "[]");
	check_json("42", gupy(), "42");
	check_json("{\"nested\": {\"deeper\": [{\"id\": \"{{body.data.candidate.id}}\"}]}}", gupy(),
	           "{\"nested\":{\"deeper\":[{\"id\":1999450}]}}");
}

/* ---- failures at render ----------------------------------------------------------------- */

static void test_missing(void **state)
{
	(void)state;
	struct template *t =
	    compile(TEMPLATE_URL, "https://h/jobs/{{body.data.job.id}}/{{body.data.job.nope}}");
	render_fails(t, gupy(), "template_missing", "template: body.data.job.nope is missing");
	template_free(t);
	/* An index past the end; a path through a scalar; an absent root document. */
	fails_with(TEMPLATE_TEXT, "{{body.arr.3}}", "template_missing",
	           "template: body.arr.3 is missing");
	fails_with(TEMPLATE_TEXT, "{{body.arr.x}}", "template_missing",
	           "template: body.arr.x is missing");
	fails_with(TEMPLATE_TEXT, "{{body.t.x}}", "template_missing",
	           "template: body.t.x is missing");
	fails_with(TEMPLATE_HEADER, "{{headers.x-missing}}", "template_missing",
	           "template: headers.x-missing is missing");
	fails_with(TEMPLATE_TEXT, "{{entity.nope}}", "template_missing",
	           "template: entity.nope is missing");
	t = compile(TEMPLATE_TEXT, "{{receipt.id}}");
	struct docs d = gupy();
	d.receipt = NULL;
	render_fails(t, d, "template_missing", "template: receipt.id is missing");
	template_free(t);

	t = compile_json("{\"a\": 1, \"b\": \"{{body.data.application.currentStep.nope}}\"}");
	render_fails(t, gupy(), "template_missing",
	             "template: body.data.application.currentStep.nope is missing");
	template_free(t);
	t = compile_json("{\"a\": \"x {{body.data.nope}}\"}");
	render_fails(t, gupy(), "template_missing", "template: body.data.nope is missing");
	template_free(t);

	/* A lookup that answers with something that is not JSON fails the render;
	 * nothing broken reaches the output. */
	fails_with(TEMPLATE_TEXT, "{{body.bad}}", "template_value",
	           "template: body.bad is not a JSON value");
	t = compile_json("{\"v\": \"{{body.bad}}\"}");
	render_fails(t, edge(), "template_value", "template: body.bad is not a JSON value");
	template_free(t);
}

static void test_render_output(void **state)
{
	(void)state;
	/* Compiled once, rendered many times, appended to what the buffer holds. */
	struct template *t = compile(TEMPLATE_TEXT, "[{{body.data.job.id}}]");
	struct docs d = gupy();
	struct buf out;
	struct gerr err = {0};
	buf_init(&out);
	buf_puts(&out, "x");
	for (int k = 0; k < 3; k++)
		assert_int_equal(template_render(t, lookup, &d, &out, &err), 0);
	assert_string_equal(out.data, "x[19139][19139][19139]");
	assert_int_equal(d.calls, 3);
	buf_free(&out);
	template_free(t);
	template_free(NULL);

	/* The output is bounded: 512 copies of a 20 000-byte value is too much. */
	struct buf doc;
	buf_init(&doc);
	buf_puts(&doc, "{\"s\": \"");
	for (int k = 0; k < 20000; k++)
		buf_putc(&doc, 'a');
	buf_puts(&doc, "\"}");
	struct buf tpl;
	buf_init(&tpl);
	buf_putc(&tpl, '[');
	for (int k = 0; k < TEMPLATE_MAX_PLACEHOLDERS; k++)
		buf_puts(&tpl, k ? ",\"{{body.s}}\"" : "\"{{body.s}}\"");
	buf_putc(&tpl, ']');
	t = compile_json(tpl.data);
	d = gupy();
	d.body = doc.data;
	render_fails(t, d, "template_value",
	             "template: the rendering is longer than 8388608 bytes");
	template_free(t);
	/* 400 copies fit. */
	buf_reset(&tpl);
	buf_putc(&tpl, '[');
	for (int k = 0; k < 400; k++)
		buf_puts(&tpl, k ? ",\"{{body.s}}\"" : "\"{{body.s}}\"");
	buf_putc(&tpl, ']');
	t = compile_json(tpl.data);
	char *got = render(t, d);
	assert_int_equal(strlen(got), 2 + 400 * 20002 + 399);
	assert_int_equal(json_validate(got, strlen(got), NULL), 0);
	free(got);
	template_free(t);
	buf_free(&tpl);
	buf_free(&doc);
}

static void test_paths(void **state)
{
	(void)state;
	struct template *t =
	    compile(TEMPLATE_URL, "https://h/{{ body.data.job.id }}/{{entity.jobId}}"
	                          "?r={{headers.X-Request-ID}}&i={{receipt.id}}"
	                          "&again={{body.data.job.id}}");
	static const char *const want[][2] = {{"body", "data.job.id"},
	                                      {"entity", "jobId"},
	                                      {"headers", "x-request-id"},
	                                      {"receipt", "id"},
	                                      {"body", "data.job.id"}};
	assert_int_equal(template_path_count(t), 5);
	for (size_t k = 0; k < 5; k++) {
		const char *root, *path;
		template_path(t, k, &root, &path);
		assert_string_equal(root, want[k][0]);
		assert_string_equal(path, want[k][1]);
	}
	const char *root = "x", *path = "y";
	template_path(t, 5, &root, &path);
	assert_null(root);
	assert_null(path);
	/* The fixed part of a URL, for urlcheck_target at route creation. */
	assert_string_equal(template_url_origin(t), "https://h");
	template_free(t);
	static const char *const origins[][2] = {
	    {"https://api.gupy.io/api/v1/{{body.id}}", "https://api.gupy.io"},
	    {"http://[::1]:8080?x={{body.id}}", "http://[::1]:8080"},
	    {"https://u@h:443/x", "https://u@h:443"},
	    {"https://h", "https://h"},
	};
	for (size_t k = 0; k < sizeof(origins) / sizeof(origins[0]); k++) {
		t = compile(TEMPLATE_URL, origins[k][0]);
		assert_string_equal(template_url_origin(t), origins[k][1]);
		template_free(t);
	}
	t = compile(TEMPLATE_HEADER, "x");
	assert_null(template_url_origin(t));
	template_free(t);
	assert_null(template_url_origin(NULL));

	t = compile_json("{\"a\": [\"{{entity.step}}\", \"x {{receipt.date}}\"], \"b\": 1}");
	assert_int_equal(template_path_count(t), 2);
	template_path(t, 1, &root, &path);
	assert_string_equal(root, "receipt");
	assert_string_equal(path, "date");
	template_free(t);

	t = compile(TEMPLATE_TEXT, "no placeholders");
	assert_int_equal(template_path_count(t), 0);
	template_free(t);
	assert_int_equal(template_path_count(NULL), 0);
}

static void test_spaces(void **state)
{
	(void)state;
	/* Spaces and tabs inside the braces, on either side, any number. */
	static const char *const forms[] = {"{{body.data.job.id}}", "{{ body.data.job.id }}",
	                                    "{{body.data.job.id   }}", "{{\tbody.data.job.id\t}}",
	                                    "{{  \t body.data.job.id}}"};
	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		char tpl[80];
		snprintf(tpl, sizeof(tpl), "id=%s;", forms[k]);
		check_text(TEMPLATE_TEXT, tpl, gupy(), "id=19139;");
		json_t *body = json_pack("{s:s}", "id", forms[k]);
		struct template *t = NULL;
		assert_int_equal(template_compile_json(body, &t, NULL), 0);
		char *got = render(t, gupy());
		assert_string_equal(got, "{\"id\":19139}");
		free(got);
		template_free(t);
		json_decref(body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compile_errors),
	    cmocka_unit_test(test_compile_bounds),
	    cmocka_unit_test(test_compile_json_errors),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_url_segments),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_render_output),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_spaces),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
