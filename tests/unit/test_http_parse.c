/*
 * test_http_parse: request heads (framing, keep-alive, Expect, query and
 * path decoding) and chunked bodies, including the ambiguous framings a
 * server must refuse, each answered with the status a client would get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/http_parse.h"

static char scratch[HTTP_MAX_HEAD * 2];

/* parse_raw: copy text (a whole head) and parse it; the status. */
static int parse_raw(const char *text, struct http_head *h)
{
	size_t n = strlen(text);
	assert_true(n < sizeof(scratch));
	memcpy(scratch, text, n + 1);
	size_t end = http_head_end(scratch, n);
	assert_int_equal(end, n);
	return http_parse_head(scratch, end, h);
}

/* parse: as parse_raw, with a Host header added after the request line when
 * the text has none (HTTP/1.1 requires one; most cases here are about other
 * rules). */
static int parse(const char *text, struct http_head *h)
{
	static char with_host[HTTP_MAX_HEAD * 2];
	const char *eol = strstr(text, "\r\n");
	if (!eol || strcasestr(text, "\nHost:")) {
		return parse_raw(text, h);
	}
	snprintf(with_host, sizeof(with_host), "%.*s\r\nHost: x%s", (int)(eol - text), text, eol);
	return parse_raw(with_host, h);
}

static void test_head_end(void **state)
{
	(void)state;
	assert_int_equal(http_head_end("GET / HTTP/1.1\r\n", 16), 0);
	assert_int_equal(http_head_end("GET / HTTP/1.1\r\n\r\nXY", 20), 18);
	assert_int_equal(http_head_end("GET / HTTP/1.1\n\n", 16),
	                 0); /* bare LF is not a line end */
}

static void test_simple_get(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/healthz");
	assert_int_equal(h.minor, 1);
	assert_true(h.keep_alive);
	assert_false(h.chunked);
	assert_int_equal(h.content_length, -1);
	assert_string_equal(http_head_header(&h, "host"), "x");
	assert_null(http_head_header(&h, "Authorization"));
}

static void test_headers_trimmed_and_case_insensitive(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(
	    parse("POST /a HTTP/1.1\r\nauthorization:   Bearer t  \r\nContent-Length: 5\r\n\r\n",
	          &h),
	    0);
	assert_string_equal(http_head_header(&h, "Authorization"), "Bearer t");
	assert_int_equal(h.content_length, 5);
}

static void test_query_and_path_decoding(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse("GET /api/v1/deliveries?limit=%32&event=candidate.hired&x&q=a+b%2B "
	                       "HTTP/1.1\r\n\r\n",
	                       &h),
	                 0);
	assert_string_equal(h.path, "/api/v1/deliveries");
	assert_string_equal(http_head_arg(&h, "limit"), "2");
	assert_string_equal(http_head_arg(&h, "event"), "candidate.hired");
	assert_string_equal(http_head_arg(&h, "x"), "");
	assert_string_equal(http_head_arg(&h, "q"), "a b+");
	assert_null(http_head_arg(&h, "cursor"));
	assert_int_equal(parse("GET /a%20b HTTP/1.1\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/a%20b"); /* decoded per segment by the router */
	assert_int_equal(parse("GET /api/v1/events/a%2Fb HTTP/1.1\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/api/v1/events/a%2Fb");
	assert_int_equal(parse("GET /a%zz HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /a% HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /a%2 HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /a%00b HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /?a=%zz HTTP/1.1\r\n\r\n", &h), 400);
	/* decoded query arguments are UTF-8 text */
	assert_int_equal(parse("GET /?event=%ff HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /?%c3=1 HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET /?event=%c3%a7 HTTP/1.1\r\n\r\n", &h), 0);
	assert_string_equal(http_head_arg(&h, "event"), "\xc3\xa7");
}

static void test_keep_alive_rules(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
	assert_true(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &h), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", &h), 0);
	assert_true(h.keep_alive);
}

static void test_framing(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 0);
	assert_true(h.chunked);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &h), 0);
	assert_int_equal(h.content_length, 3);
	/* refused: ambiguous or unsupported framing */
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &h), 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", &h), 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &h), 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", &h), 400);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &h), 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	                       "Transfer-Encoding: chunked\r\n\r\n",
	                       &h),
	                 400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h),
	                 501);
	assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 400);
}

static void test_host(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse_raw("GET / HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse_raw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &h), 400);
	assert_int_equal(parse_raw("GET / HTTP/1.1\r\nhost: a\r\n\r\n", &h), 0);
	assert_int_equal(parse_raw("GET / HTTP/1.0\r\n\r\n", &h), 0);
	assert_int_equal(parse_raw("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", &h), 400);
}

static void test_expect(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &h), 0);
	assert_true(h.expect_continue);
	assert_int_equal(parse("POST / HTTP/1.1\r\nExpect: something\r\n\r\n", &h), 417);
}

static void test_malformed(void **state)
{
	(void)state;
	struct http_head h;
	assert_int_equal(parse("HELLO\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &h), 505);
	assert_int_equal(parse("GET / HTTP/3\r\n\r\n", &h), 505);
	assert_int_equal(parse("GET / FOO/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET http://x/ HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("G(T / HTTP/1.1\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\n: empty name\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", &h), 400);
}

static void test_nul_refused(void **state)
{
	(void)state;
	static const char heads[][64] = {
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\0, x\r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: 1\0 0\r\n\r\n", "GET / HTTP/1.1\0junk\r\n\r\n"};
	const size_t lens[] = {51, 41, 23};
	for (size_t i = 0; i < 3; i++) {
		memcpy(scratch, heads[i], lens[i]);
		assert_int_equal(http_head_end(scratch, lens[i]), lens[i]);
		struct http_head h;
		assert_int_equal(http_parse_head(scratch, lens[i], &h), 400);
	}
}

static void test_too_many_headers(void **state)
{
	(void)state;
	static char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "X-%d: v\r\n", i);
	snprintf(text + n, sizeof(text) - n, "\r\n");
	struct http_head h;
	assert_int_equal(parse(text, &h), 431);
}

/* feed: run the decoder over text in pieces of step bytes. */
static long feed(struct http_chunked *c, const char *text, size_t step, struct buf *out, size_t max)
{
	size_t n = strlen(text), off = 0;
	while (off < n && !http_chunked_done(c)) {
		size_t k = n - off < step ? n - off : step;
		long r = http_chunked_feed(c, text + off, k, out, max);
		if (r < 0)
			return r;
		off += (size_t)r;
	}
	return (long)off;
}

static void test_chunked(void **state)
{
	(void)state;
	const char *body =
	    "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: y\r\n\r\nNEXT";
	for (size_t step = 1; step <= strlen(body); step++) {
		struct http_chunked c = {0};
		struct buf out;
		buf_init(&out);
		long r = feed(&c, body, step, &out, 1000);
		assert_true(http_chunked_done(&c));
		assert_int_equal(r, (long)strlen(body) - 4); /* "NEXT" is the next request's */
		assert_int_equal(out.len, 16);
		assert_memory_equal(out.data, "hello 0123456789", 16);
		buf_free(&out);
	}
}

static void test_chunked_errors(void **state)
{
	(void)state;
	const char *bad[] = {
	    "x\r\n",
	    "5\r\nhelloXX",
	    "5\nhello\r\n",
	    "\r\n",
	    "1234567890123456\r\n",
	    "0\r\nX: y\rZ",          /* a CR not followed by LF in a trailer */
	    "0\r\n\nGET / HTTP/1.1", /* a bare LF ending the trailers */
	    "0\r\nX: y\nZ: w\r\n",   /* a bare LF ending a trailer line */
	    "1 zz\r\na\r\n",         /* garbage after blanks in the size line */
	    "1;a\x01\r\na\r\n",      /* a control byte in an extension */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_chunked c = {0};
		struct buf out;
		buf_init(&out);
		long r = feed(&c, bad[i], 64, &out, 1000);
		if (r != -400)
			fail_msg("chunked input %zu was not refused (%ld)", i, r);
		buf_free(&out);
	}
	/* blanks before an extension are fine */
	struct http_chunked ok = {0};
	struct buf okout;
	buf_init(&okout);
	assert_true(feed(&ok, "1 \t;x\r\na\r\n0\r\n\r\n", 64, &okout, 1000) > 0);
	assert_true(http_chunked_done(&ok));
	buf_free(&okout);
	struct http_chunked c = {0};
	struct buf out;
	buf_init(&out);
	assert_int_equal(feed(&c, "8\r\n12345678\r\n8\r\n", 64, &out, 10), -413);
	buf_free(&out);
}

static void test_status_text(void **state)
{
	(void)state;
	assert_string_equal(http_status_text(202), "Accepted");
	assert_string_equal(http_status_text(413), "Content Too Large");
	assert_string_equal(http_status_text(599), "Server Error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_end),
	    cmocka_unit_test(test_simple_get),
	    cmocka_unit_test(test_headers_trimmed_and_case_insensitive),
	    cmocka_unit_test(test_query_and_path_decoding),
	    cmocka_unit_test(test_keep_alive_rules),
	    cmocka_unit_test(test_framing),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_expect),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_nul_refused),
	    cmocka_unit_test(test_too_many_headers),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_errors),
	    cmocka_unit_test(test_status_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
