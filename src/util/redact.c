/*
 * redact: see redact.h.
 *
 * Both functions first find where the passwords of a string are (spans of
 * bytes, secrets_find), then copy with those spans (or their text, found in
 * another string) replaced. Finding errs on the side of hiding: the user-info
 * ends at the last '@' of the authority, and any key that ends in "password"
 * counts.
 */
#include "util/redact.h"
#include "util/hex.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define SECRETS_MAX 8

struct span {
	size_t off, len;
};

static bool key_is_password(const char *k, size_t n)
{
	return n >= 8 && strncasecmp(k + n - 8, "password", 8) == 0;
}

/* secrets_find: the spans of password values in s; returns how many. */
static int secrets_find(const char *s, struct span *sp, int max)
{
	int n = 0;
	const char *sep = strstr(s, "://");
	if (sep && strcspn(s, "=") > (size_t)(sep - s)) {
		/* A URL: user-info, then query parameters. */
		const char *auth = sep + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = NULL;
		for (size_t k = 0; k < alen; k++)
			if (auth[k] == '@')
				at = auth + k;
		if (at) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon && n < max)
				sp[n++] = (struct span){(size_t)(colon + 1 - s),
				                        (size_t)(at - colon - 1)};
		}
		const char *q = strchr(auth + alen, '?');
		while (q && *q) {
			q++;
			size_t plen = strcspn(q, "&#");
			const char *eq = memchr(q, '=', plen);
			if (eq && key_is_password(q, (size_t)(eq - q)) && n < max)
				sp[n++] = (struct span){(size_t)(eq + 1 - s),
				                        plen - (size_t)(eq + 1 - q)};
			q = q[plen] == '&' ? q + plen : NULL;
		}
		return n;
	}
	/* A keyword/value connection string: key = value | key = 'quoted'. */
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		size_t klen = (size_t)(p - k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=') {
			if (*p)
				p++;
			continue;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *v = p;
		if (*p == '\'') {
			p++;
			while (*p && *p != '\'') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p)
				p++;
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				p++;
		}
		if (klen && key_is_password(k, klen) && p > v && n < max)
			sp[n++] = (struct span){(size_t)(v - s), (size_t)(p - v)};
	}
	return n;
}

struct out {
	char *p;
	size_t len, cap;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;
	if (n > room)
		n = room;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

size_t redact_url(const char *url, char *out, size_t outsz)
{
	if (!outsz)
		return 0;
	struct out o = {out, 0, outsz};
	out[0] = '\0';
	if (!url)
		return 0;
	struct span sp[SECRETS_MAX];
	int n = secrets_find(url, sp, SECRETS_MAX);
	size_t at = 0;
	/* spans come in the order they appear */
	for (int i = 0; i < n; i++) {
		out_put(&o, url + at, sp[i].off - at);
		out_put(&o, REDACT_MASK, strlen(REDACT_MASK));
		at = sp[i].off + sp[i].len;
	}
	out_put(&o, url + at, strlen(url + at));
	return o.len;
}

/* unquote: the value as a parser reads it: percent-decoded (URL) or with
 * quotes and backslashes removed (keyword/value). */
static size_t unquote(const char *s, size_t n, char *out, size_t outsz)
{
	size_t w = 0;
	bool quoted = n >= 1 && s[0] == '\'';
	for (size_t i = quoted ? 1 : 0; i < n && w + 1 < outsz; i++) {
		if (quoted && s[i] == '\'')
			break;
		if (quoted && s[i] == '\\' && i + 1 < n) {
			out[w++] = s[++i];
		} else if (!quoted && s[i] == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 &&
		           hex_digit(s[i + 2]) >= 0) {
			out[w++] = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[w++] = s[i];
		}
	}
	out[w] = '\0';
	return w;
}

size_t redact_scrub(const char *msg, const char *url, char *out, size_t outsz)
{
	if (!outsz)
		return 0;
	out[0] = '\0';
	if (!msg)
		return 0;
	struct span sp[SECRETS_MAX];
	int n = url ? secrets_find(url, sp, SECRETS_MAX) : 0;
	/* Each secret as written and as the parser read it. */
	char dec[SECRETS_MAX][256];
	const char *sec[2 * SECRETS_MAX];
	size_t slen[2 * SECRETS_MAX];
	int ns = 0;
	for (int i = 0; i < n; i++) {
		if (!sp[i].len)
			continue;
		sec[ns] = url + sp[i].off;
		slen[ns++] = sp[i].len;
		size_t dl = unquote(url + sp[i].off, sp[i].len, dec[i], sizeof(dec[i]));
		if (dl) {
			sec[ns] = dec[i];
			slen[ns++] = dl;
		}
	}
	struct out o = {out, 0, outsz};
	for (const char *p = msg; *p;) {
		size_t best = 0;
		for (int i = 0; i < ns; i++)
			if (slen[i] > best && strncmp(p, sec[i], slen[i]) == 0)
				best = slen[i];
		if (best) {
			out_put(&o, REDACT_MASK, strlen(REDACT_MASK));
			p += best;
		} else {
			out_put(&o, p, 1);
			p++;
		}
	}
	return o.len;
}
