/*
 * http_parse: the HTTP/1.1 request head and the chunked body, parsed without
 * a socket in sight (RFC 9112), so every rule is unit-tested on bytes.
 *
 * Strict where leniency invites request smuggling or ambiguity: CRLF line
 * ends, no obsolete line folding, Content-Length digits only and one value,
 * Content-Length together with Transfer-Encoding refused, only the "chunked"
 * transfer coding, exactly one Host in HTTP/1.1. Errors come back as the
 * status to answer (400, 417, 431, 501, 505), after which the connection is
 * closed.
 */
#ifndef GANCHO_SERVER_HTTP_PARSE_H
#define GANCHO_SERVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum { HTTP_MAX_HEADERS = 64, HTTP_MAX_ARGS = 32, HTTP_MAX_HEAD = 16384 };

struct http_kv {
	const char *name;
	const char *value;
};

struct http_head {
	char method[16];
	char *path; /* as sent, without the query: escapes checked, not decoded */
	struct http_kv headers[HTTP_MAX_HEADERS];
	int nheaders;
	struct http_kv args[HTTP_MAX_ARGS]; /* query arguments, decoded, UTF-8 */
	int nargs;
	int minor; /* HTTP/1.minor */
	bool keep_alive;
	bool chunked;
	bool expect_continue;
	int64_t content_length; /* -1: none given */
};

/* http_head_end: the length of the head at the start of p[0..n) including its
 * closing blank line, or 0 while it is incomplete. */
size_t http_head_end(const char *p, size_t n);

/* http_parse_head: parse the head p[0..len) (as measured by http_head_end) in
 * place: the bytes are cut with NULs and h points into them. Returns 0, or
 * the status to answer. */
int http_parse_head(char *p, size_t len, struct http_head *h);

/* Case-insensitive header lookup; the first of that name, or NULL. */
const char *http_head_header(const struct http_head *h, const char *name);
/* Query argument lookup; the first of that name, or NULL. */
const char *http_head_arg(const struct http_head *h, const char *name);

/* The chunked body decoder; zero it before the first chunk. */
struct http_chunked {
	int state;
	int digits;
	size_t linelen;
	uint64_t left;
};

/* http_chunked_feed: decode in[0..n) into out, refusing a body over max bytes.
 * Returns the bytes consumed (>= 0), or -400 for a malformed stream and -413
 * for one over max. http_chunked_done tells when the final chunk and its
 * trailer have been read; bytes after it belong to the next request. */
long http_chunked_feed(struct http_chunked *c, const char *in, size_t n, struct buf *out,
                       size_t max);
bool http_chunked_done(const struct http_chunked *c);

/* http_status_text: the reason phrase of a status code. */
const char *http_status_text(int status);

#endif
