/*
 * route: splitting, decoding and matching request paths (see route.h).
 */
#include "api/route.h"

#include <stdio.h>
#include <string.h>

#include "util/hex.h"
#include "util/utf8.h"

static const struct {
	unsigned bit;
	const char *name;
} methods[] = {
    {ROUTE_GET, "GET"},     {ROUTE_HEAD, "HEAD"},     {ROUTE_POST, "POST"},
    {ROUTE_PATCH, "PATCH"}, {ROUTE_DELETE, "DELETE"},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

unsigned route_method(const char *method)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

/* segment_decode: decode the %XX escapes of one path segment in place;
 * -1 for a broken escape or an encoded NUL. */
static int segment_decode(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if ((hi = hex_digit(r[1])) < 0 || (lo = hex_digit(r[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi * 16 + lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

int route_split(char *s, char **seg, int max)
{
	int n = 0;
	for (char *save = NULL, *p = strtok_r(s, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return ROUTE_E_TOO_MANY;
		if (segment_decode(p))
			return ROUTE_E_ESCAPE;
		/* every name and id is UTF-8 text: other bytes name nothing */
		if (!utf8_valid(p, strlen(p)))
			return ROUTE_E_UTF8;
		seg[n++] = p;
	}
	return n;
}

bool route_match(const char *pattern, char *const *seg, int nseg, const char **param)
{
	const char *p = pattern;
	int i = 0, np = 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (i == nseg)
			return false;
		if (p[0] == ':') {
			if (np == ROUTE_MAX_PARAMS)
				return false;
			param[np++] = seg[i];
		} else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nseg;
}

void route_allow(unsigned mask, bool for_people, char *out, size_t cap)
{
	const char *names[NMETHODS];
	size_t n = 0, len = 0;
	for (size_t i = 0; i < NMETHODS; i++) {
		if (!(mask & methods[i].bit))
			continue;
		if (for_people && methods[i].bit == ROUTE_HEAD && (mask & ROUTE_GET))
			continue;
		names[n++] = methods[i].name;
	}
	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++) {
		const char *sep = i == 0 ? "" : !for_people ? ", " : i + 1 == n ? " or " : ", ";
		int w = snprintf(out + len, cap - len, "%s%s", sep, names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}
