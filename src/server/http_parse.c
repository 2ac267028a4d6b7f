/* http_parse: see http_parse.h. */
#include "server/http_parse.h"

#include <string.h>
#include <strings.h>

#include "util/hex.h"
#include "util/utf8.h"

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* pct_decode: decode %XX (and '+' as a space when plus) in place; -1 on a
 * broken escape or an encoded NUL. */
static int pct_decode(char *s, bool plus)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '%') {
			int hi = hex_digit((unsigned char)r[1]),
			    lo = hi < 0 ? -1 : hex_digit((unsigned char)r[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = plus && *r == '+' ? ' ' : *r;
		}
	}
	*w = '\0';
	return 0;
}

size_t http_head_end(const char *p, size_t n)
{
	for (size_t i = 3; i < n; i++) {
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
			return i + 1;
	}
	return 0;
}

static char *find_crlf(char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static int parse_request_line(char *line, struct http_head *h)
{
	char *sp = strchr(line, ' ');
	if (!sp || sp == line || (size_t)(sp - line) >= sizeof(h->method))
		return 400;
	for (char *t = line; t < sp; t++)
		if (!is_tchar((unsigned char)*t))
			return 400;
	memcpy(h->method, line, (size_t)(sp - line));
	h->method[sp - line] = '\0';
	char *target = sp + 1;
	sp = strchr(target, ' ');
	if (!sp)
		return 400;
	*sp = '\0';
	const char *ver = sp + 1;
	if (strncmp(ver, "HTTP/", 5) != 0)
		return 400;
	if (strcmp(ver + 5, "1.1") == 0)
		h->minor = 1;
	else if (strcmp(ver + 5, "1.0") == 0)
		h->minor = 0;
	else if (ver[5] >= '0' && ver[5] <= '9' &&
	         (!ver[6] || (ver[6] == '.' && ver[7] >= '0' && ver[7] <= '9' && !ver[8])))
		return 505;
	else
		return 400;
	if (target[0] != '/')
		return 400; /* origin-form only: this is not a proxy */
	for (const char *t = target; *t; t++)
		if ((unsigned char)*t <= 0x20 || *t == 0x7f)
			return 400;
	char *q = strchr(target, '?');
	if (q) {
		*q++ = '\0';
		while (*q) {
			char *amp = strchr(q, '&');
			if (amp)
				*amp = '\0';
			if (*q) {
				if (h->nargs == HTTP_MAX_ARGS)
					return 400;
				char *eq = strchr(q, '=');
				if (eq)
					*eq = '\0';
				/* decoded arguments are text: a store compares them
				 * with UTF-8 columns, so other bytes are refused here */
				if (pct_decode(q, true) || (eq && pct_decode(eq + 1, true)) ||
				    !utf8_valid(q, strlen(q)) ||
				    (eq && !utf8_valid(eq + 1, strlen(eq + 1))))
					return 400;
				h->args[h->nargs++] = (struct http_kv){q, eq ? eq + 1 : ""};
			}
			if (!amp)
				break;
			q = amp + 1;
		}
	}
	/* The path stays encoded: it is split at its slashes before a segment is
	 * decoded, so an encoded "/" (%2F) stays inside its segment. Here only
	 * the escapes are checked (and %00 refused, as in a query). */
	for (const char *t = target; *t; t++)
		if (*t == '%' &&
		    (hex_digit((unsigned char)t[1]) < 0 || hex_digit((unsigned char)t[2]) < 0 ||
		     (t[1] == '0' && t[2] == '0')))
			return 400;
	h->path = target;
	return 0;
}

static bool has_token(const char *list, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

/* interpret: the headers that decide framing and the connection's fate. */
static int interpret(struct http_head *h)
{
	bool te = false;
	int hosts = 0;
	h->keep_alive = h->minor == 1;
	for (int i = 0; i < h->nheaders; i++) {
		const char *n = h->headers[i].name, *v = h->headers[i].value;
		if (strcasecmp(n, "Content-Length") == 0) {
			if (!*v || strlen(v) > 18 || strspn(v, "0123456789") != strlen(v))
				return 400;
			int64_t cl = 0;
			for (const char *d = v; *d; d++)
				cl = cl * 10 + (*d - '0');
			if (h->content_length >= 0 && h->content_length != cl)
				return 400;
			h->content_length = cl;
		} else if (strcasecmp(n, "Transfer-Encoding") == 0) {
			if (te || strcasecmp(v, "chunked") != 0)
				return 501;
			te = true;
		} else if (strcasecmp(n, "Connection") == 0) {
			if (has_token(v, "close"))
				h->keep_alive = false;
			else if (h->minor == 0 && has_token(v, "keep-alive"))
				h->keep_alive = true;
		} else if (strcasecmp(n, "Host") == 0) {
			hosts++;
		} else if (strcasecmp(n, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0)
				return 417;
			h->expect_continue = h->minor == 1;
		}
	}
	if (hosts > 1 || (hosts == 0 && h->minor == 1))
		return 400; /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
	if (te && h->content_length >= 0)
		return 400; /* two framings: the classic smuggling vector */
	if (te && h->minor == 0)
		return 400;
	h->chunked = te;
	return 0;
}

int http_parse_head(char *p, size_t len, struct http_head *h)
{
	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (memchr(p, '\0', len))
		return 400; /* a NUL would cut a field short for us but not for a proxy */
	const char *end = p + len;
	char *eol = find_crlf(p, end);
	if (!eol)
		return 400;
	*eol = '\0';
	int rc = parse_request_line(p, h);
	if (rc)
		return rc;
	for (char *line = eol + 2; line < end; line = eol + 2) {
		eol = find_crlf(line, end);
		if (!eol)
			return 400;
		if (eol == line)
			break;
		*eol = '\0';
		if (*line == ' ' || *line == '\t')
			return 400; /* obsolete line folding */
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return 400;
		for (char *t = line; t < colon; t++)
			if (!is_tchar((unsigned char)*t))
				return 400;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *ve = eol;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		for (const char *t = v; *t; t++)
			if (((unsigned char)*t < 0x20 && *t != '\t') || *t == 0x7f)
				return 400;
		if (h->nheaders == HTTP_MAX_HEADERS)
			return 431;
		h->headers[h->nheaders++] = (struct http_kv){line, v};
	}
	return interpret(h);
}

const char *http_head_header(const struct http_head *h, const char *name)
{
	for (int i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	return NULL;
}

const char *http_head_arg(const struct http_head *h, const char *name)
{
	for (int i = 0; i < h->nargs; i++)
		if (strcmp(h->args[i].name, name) == 0)
			return h->args[i].value;
	return NULL;
}

enum {
	CK_SIZE,
	CK_SIZE_WS,
	CK_EXT,
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER,
	CK_TRAILER_LINE,
	CK_TRAILER_LINE_LF,
	CK_TRAILER_LF,
	CK_DONE
};

long http_chunked_feed(struct http_chunked *c, const char *in, size_t n, struct buf *out,
                       size_t max)
{
	size_t i = 0;
	while (i < n && c->state != CK_DONE) {
		unsigned char ch = (unsigned char)in[i];
		switch (c->state) {
		case CK_SIZE: {
			int v = hex_digit(ch);
			if (v >= 0) {
				if (++c->digits > 15)
					return -400;
				c->left = c->left * 16 + (uint64_t)v;
				i++;
			} else if (!c->digits) {
				return -400;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = ch == ';' ? CK_EXT : CK_SIZE_WS;
				c->linelen = 0;
				i++;
			} else if (ch == '\r') {
				c->state = CK_SIZE_LF;
				i++;
			} else {
				return -400;
			}
			break;
		}
		case CK_SIZE_WS: /* only more blanks, then extensions or the line end */
			if (ch == ';')
				c->state = CK_EXT;
			else if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if (ch != ' ' && ch != '\t')
				return -400;
			i++;
			break;
		case CK_EXT:
			if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f || ++c->linelen > 1024)
				return -400;
			i++;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return -400;
			i++;
			if (c->left == 0) {
				c->state = CK_TRAILER;
			} else if (c->left > max || out->len + c->left > max) {
				return -413;
			} else {
				c->state = CK_DATA;
			}
			break;
		case CK_DATA: {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;
			buf_append(out, in + i, take);
			i += take;
			c->left -= take;
			if (!c->left)
				c->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (ch != '\r')
				return -400;
			c->state = CK_DATA_LF;
			i++;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				return -400;
			c->state = CK_SIZE;
			c->digits = 0;
			i++;
			break;
		case CK_TRAILER: /* at the start of a trailer line */
			if (ch == '\r') {
				c->state = CK_TRAILER_LF;
				i++;
			} else if (ch == '\n') {
				return -400; /* a bare LF ends nothing here */
			} else {
				c->state = CK_TRAILER_LINE;
				c->linelen = 0;
			}
			break;
		case CK_TRAILER_LINE:
			if (ch == '\r')
				c->state = CK_TRAILER_LINE_LF;
			else if (ch == '\n' || ch == 0 || ++c->linelen > 8192)
				return -400;
			i++;
			break;
		case CK_TRAILER_LINE_LF:
			if (ch != '\n')
				return -400;
			c->state = CK_TRAILER;
			i++;
			break;
		case CK_TRAILER_LF:
			if (ch != '\n')
				return -400;
			c->state = CK_DONE;
			i++;
			break;
		default: return -400;
		}
	}
	return (long)i;
}

bool http_chunked_done(const struct http_chunked *c)
{
	return c->state == CK_DONE;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}
