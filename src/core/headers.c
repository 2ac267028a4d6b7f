/*
 * headers: decide whether a webhook's clientHeaders may be sent as given.
 *
 * clientHeaders are copied into every delivery request, so a bad one is a
 * header-injection or request-smuggling vector: a CR/LF in a value starts a
 * new header (or a new request), and framing headers (Content-Length,
 * Transfer-Encoding, Connection, ...) let a tenant desynchronise a proxy.
 * Host is ours too: it must match the URL we checked with urlcheck.
 *
 * The headers gancho writes itself (Authorization, the signature headers,
 * User-Agent) are refused too: a copy from clientHeaders would arrive twice,
 * or before the real one, so a receiver could read a forged signature.
 * Content-Type stays allowed: by Gupy's rule clientHeaders replace it.
 *
 * Rules: a name is an RFC 9110 token, given once (names compare
 * case-insensitively, as HTTP does); a value is a string of at most 8 KiB
 * without CR, LF, NUL or other control characters (HTAB is allowed, as in
 * RFC 9110 field-value); reserved names are refused; at most 64 headers.
 *
 * headers_line makes the line handed to libcurl. libcurl reads "Name:" with
 * nothing after the colon as "remove this header", so an empty value (or one
 * of only blanks, which HTTP trims to empty) is written "Name;", libcurl's
 * way of sending a header with an empty value.
 */
#include "core/headers.h"
#include "util/utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADERS_MAX_COUNT 64
#define HEADERS_MAX_VALUE 8192

static int headers_fail(struct gerr *err, const char *name, const char *reason)
{
	if (name)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "clientHeaders: %.*s: %s",
		                (int)utf8_cut(name, strlen(name), 100), name, reason);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "clientHeaders: %s", reason);
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
bool headers_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr("!#$%&'*+-.^_`|~", c))
			return false;
	}
	return true;
}

static bool headers_reserved(const char *name)
{
	static const char *const reserved[] = {
	    /* framing and hop-by-hop: they would desynchronise the connection */
	    "Host",
	    "Content-Length",
	    "Transfer-Encoding",
	    "Content-Encoding",
	    "Connection",
	    "Upgrade",
	    "TE",
	    "Trailer",
	    "Keep-Alive",
	    "Expect",
	    "HTTP2-Settings",
	    /* written by gancho on every delivery */
	    "Authorization",
	    "User-Agent",
	    "Acesso-Signature",
	    "webhook-id",
	    "webhook-timestamp",
	    "webhook-signature",
	};
	for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
		if (strcasecmp(name, reserved[k]) == 0)
			return true;
	/* Proxy-Authorization, Proxy-Connection, ...: meant for a proxy on our
	 * side, never for the receiver. */
	return strncasecmp(name, "Proxy-", 6) == 0;
}

int headers_validate(const json_t *v, struct gerr *err)
{
	const char *name;
	json_t *val;

	if (!json_is_object(v))
		return headers_fail(err, NULL, "must be an object of strings");
	if (json_object_size(v) > HEADERS_MAX_COUNT)
		return headers_fail(err, NULL, "at most 64 headers");
	/* json_object_foreach wants a non-const object; we only read it. */
	json_object_foreach ((json_t *)v, name, val) {
		if (!headers_is_token(name))
			return headers_fail(err, name, "invalid header name");
		/* JSON keys differ by case where HTTP names do not: one of them
		 * would be sent twice. */
		const char *other;
		json_t *ov;
		json_object_foreach ((json_t *)v, other, ov) {
			if (other == name)
				break;
			if (strcasecmp(other, name) == 0)
				return headers_fail(err, name,
				                    "given twice (header names ignore case)");
		}
		if (headers_reserved(name))
			return headers_fail(err, name,
			                    "header is set by gancho and cannot be overridden");
		if (!json_is_string(val))
			return headers_fail(err, name, "value must be a string");
		const char *s = json_string_value(val);
		size_t len = json_string_length(val);
		if (len > HEADERS_MAX_VALUE)
			return headers_fail(err, name, "value is longer than 8192 bytes");
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)s[k];
			if (c == '\r' || c == '\n')
				return headers_fail(err, name, "value contains CR or LF");
			if (c == '\0')
				return headers_fail(err, name, "value contains NUL");
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return headers_fail(err, name, "value contains control characters");
		}
	}
	return 0;
}

char *headers_line(const char *name, const char *value, size_t vlen)
{
	bool blank = true;
	for (size_t k = 0; k < vlen && blank; k++)
		blank = value[k] == ' ' || value[k] == '\t';
	size_t n = strlen(name) + vlen + 3;
	char *line = malloc(n);
	if (!line)
		return NULL;
	if (blank)
		snprintf(line, n, "%s;", name);
	else
		snprintf(line, n, "%s: %.*s", name, (int)vlen, value);
	return line;
}
