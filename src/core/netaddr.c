/*
 * netaddr: addresses, CIDR lists and the client address behind proxies.
 *
 * Everything an allowlist decides rests on reading an address the way the
 * person who wrote it meant, so the parser takes one spelling per address
 * (see netaddr.h) and refuses the rest with a reason, rather than guessing:
 * "010.0.0.1" is 8.0.0.1 to inet_aton and 10.0.0.1 to a person. IPv4 is
 * parsed here; IPv6 by inet_pton, whose embedded dotted quad is as strict.
 * Addresses are normalised once (IPv4-mapped IPv6 becomes IPv4), so a match
 * is a byte comparison of the prefix.
 *
 * X-Forwarded-For is read from the right and lazily: the elements a trusted
 * proxy wrote are read until the first untrusted one, the client, and
 * nothing left of it is looked at, because the client wrote that part. The
 * walk stops after NETADDR_XFF_MAX elements, so a request costs at most that
 * many parses and one pass over the header bytes to the right of the client.
 */
#include "core/netaddr.h"
#include "util/utf8.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The addresses Gupy sends webhooks from, as published in Gupy's webhook
 * documentation, section "Sender IP addresses" (a copy is in
 * shared/seeds/gupy-webhooks.en.txt). Update here when Gupy's page changes. */
static const char *const netaddr_gupy[] = {
    "3.225.75.195",  "3.213.125.198", "3.81.178.137", "18.235.49.246", "18.209.132.16",
    "34.231.178.88", "34.237.26.228", "52.3.10.144",  "54.87.127.240",
};

static const struct {
	const char *name;
	const char *const *addrs;
	size_t n;
} netaddr_presets[] = {
    {"gupy", netaddr_gupy, sizeof(netaddr_gupy) / sizeof(netaddr_gupy[0])},
};

/* What a text that is neither IPv6 nor a good quad is told. */
static const char netaddr_not_v4[] =
    "is not an IPv4 address (four decimal numbers 0-255 joined by dots)";

static const uint8_t netaddr_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* netaddr_normalise: an IPv4-mapped IPv6 address becomes IPv4. Returns
 * whether it was mapped. */
static bool netaddr_normalise(struct netaddr *a)
{
	if (a->family != NETADDR_V6 || memcmp(a->b, netaddr_mapped_prefix, 12) != 0)
		return false;
	uint8_t v4[4];
	memcpy(v4, a->b + 12, 4);
	memset(a->b, 0, sizeof(a->b));
	memcpy(a->b, v4, 4);
	a->family = NETADDR_V4;
	return true;
}

/* netaddr_quad: s[0..n) is a canonical dotted quad. NULL and b[0..4) set,
 * or a reason. */
static const char *netaddr_quad(const char *s, size_t n, uint8_t b[4])
{
	const char *const shape = netaddr_not_v4;
	uint8_t q[4];
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return shape;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		/* At most 4 digits read: enough to tell "1000" is above 255. */
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start)
			return shape;
		if (s[start] == '0' && i - start > 1)
			return "has a leading zero in an IPv4 part (octal to some parsers)";
		if (v > 255)
			return "has an IPv4 part above 255";
		q[part] = (uint8_t)v;
	}
	if (i != n)
		return shape;
	memcpy(b, q, 4);
	return NULL;
}

/* netaddr_parse_raw: as netaddr_parse, with a reason, and *mapped telling
 * whether the text was an IPv4-mapped IPv6 address (normalised in *out). */
static const char *netaddr_parse_raw(const char *s, size_t n, struct netaddr *out, bool *mapped)
{
	struct netaddr a;

	*mapped = false;
	if (n == 0)
		return "is empty";
	if (n > NETADDR_TEXT_MAX)
		return "is too long";
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c == ' ' || c == '\t')
			return "contains a space";
		if (c < 0x20 || c >= 0x7f)
			return "contains a control or non-ASCII character";
	}
	bool bracketed = s[0] == '[';
	if (bracketed) {
		if (n < 2 || s[n - 1] != ']')
			return "has an unclosed bracket";
		s++;
		n -= 2;
		if (!memchr(s, ':', n))
			return "has brackets around something not IPv6 (only IPv6 takes them)";
	}
	memset(&a, 0, sizeof(a));
	if (memchr(s, ':', n)) {
		char buf[NETADDR_TEXT_MAX + 1];
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, a.b) != 1)
			return memchr(s, '%', n) ? "has an IPv6 zone (%...), which is not accepted"
			                         : "is not a valid IPv6 address";
		a.family = NETADDR_V6;
		*mapped = netaddr_normalise(&a);
	} else {
		const char *why = netaddr_quad(s, n, a.b);
		if (why)
			return why;
		a.family = NETADDR_V4;
	}
	*out = a;
	return NULL;
}

int netaddr_parse(const char *s, size_t n, struct netaddr *out)
{
	bool mapped;
	if (!s || netaddr_parse_raw(s, n, out, &mapped))
		return GERR_INVALID;
	return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	struct netaddr a;

	if (!sa)
		return GERR_INVALID;
	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a.b, &in->sin_addr.s_addr, 4);
		a.family = NETADDR_V4;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a.b, in6->sin6_addr.s6_addr, 16);
		a.family = NETADDR_V6;
		netaddr_normalise(&a);
	} else {
		return GERR_INVALID;
	}
	*out = a;
	return 0;
}

void netaddr_format(const struct netaddr *a, char out[NETADDR_STRLEN])
{
	if (a->family == NETADDR_V4) {
		snprintf(out, NETADDR_STRLEN, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	/* RFC 5952 by hand (inet_ntop's output differs between libcs): lowercase
	 * hex without leading zeros, the longest run of two or more zero groups
	 * (the first of equals) as "::", and no dotted tail, so one address has
	 * one spelling everywhere. */
	unsigned g[8];
	int best = -1, bestlen = 1;
	for (int k = 0; k < 8; k++)
		g[k] = (unsigned)a->b[2 * k] << 8 | a->b[2 * k + 1];
	for (int k = 0; k < 8;) {
		int len = 0;
		while (k + len < 8 && g[k + len] == 0)
			len++;
		if (len > bestlen) {
			best = k;
			bestlen = len;
		}
		k += len ? len : 1;
	}
	size_t o = 0;
	for (int k = 0; k < 8; k++) {
		if (k == best) {
			o += (size_t)snprintf(out + o, NETADDR_STRLEN - o, "::");
			k += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, NETADDR_STRLEN - o, "%s%x",
		                      k > 0 && k != best + bestlen ? ":" : "", g[k]);
	}
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	size_t len = a->family == NETADDR_V4 ? 4 : 16;
	return a->family == b->family && memcmp(a->b, b->b, len) == 0;
}

/* netaddr_mask: zero every bit of a after the first prefix ones. */
static void netaddr_mask(struct netaddr *a, unsigned prefix)
{
	unsigned len = a->family == NETADDR_V4 ? 4 : 16;
	for (unsigned k = 0; k < len; k++) {
		if (prefix >= 8 * (k + 1))
			continue;
		unsigned keep = prefix > 8 * k ? prefix - 8 * k : 0;
		a->b[k] &= (uint8_t)(0xff00u >> keep);
	}
}

/* netaddr_cidr_parse_ex: netaddr_cidr_parse; word_why is what a word (a
 * name, a misspelt preset) is told. */
static int netaddr_cidr_parse_ex(const char *s, size_t n, struct netaddr_cidr *out,
                                 const char *field, const char *word_why, struct gerr *err)
{
	struct netaddr_cidr c;
	bool mapped;
	const char *why;

	if (!s)
		return gerr_invalid_text(err, field, "", 0, word_why);
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	memset(&c, 0, sizeof(c));
	why = netaddr_parse_raw(s, alen, &c.addr, &mapped);
	if (why) {
		/* A name or a word is the likeliest mistake: say what is accepted. */
		if (why == netaddr_not_v4 && !(s[0] >= '0' && s[0] <= '9'))
			why = word_why;
		else if (alen == 0 && slash)
			why = "has no address before the /";
		return gerr_invalid_text(err, field, s, n, why);
	}
	unsigned max = c.addr.family == NETADDR_V4 && !mapped ? 32 : 128;
	unsigned prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t plen = n - alen - 1;
		static const char *const bad = "has a malformed prefix (a decimal number after /)";
		if (plen == 0 || plen > 3)
			return gerr_invalid_text(err, field, s, n, bad);
		prefix = 0;
		for (size_t k = 0; k < plen; k++) {
			if (p[k] < '0' || p[k] > '9')
				return gerr_invalid_text(err, field, s, n, bad);
			prefix = prefix * 10 + (unsigned)(p[k] - '0');
		}
		if (p[0] == '0' && plen > 1)
			return gerr_invalid_text(err, field, s, n,
			                         "has a prefix with a leading zero");
		if (prefix > max)
			return gerr_invalid_text(err, field, s, n,
			                         max == 32 ? "has a prefix above 32 (IPv4)"
			                                   : "has a prefix above 128 (IPv6)");
	}
	if (mapped) {
		/* Below 96 the prefix would cut into the ffff of ::ffff:0:0/96,
		 * bits that are set: host bits, whatever the IPv4 part is. */
		if (prefix < 96)
			return gerr_invalid_text(
			    err, field, s, n,
			    "has bits set after the prefix (an IPv4-mapped address "
			    "takes a prefix of 96 to 128)");
		prefix -= 96;
	}
	c.prefix = (uint8_t)prefix;
	struct netaddr net = c.addr;
	netaddr_mask(&net, prefix);
	if (!netaddr_equal(&net, &c.addr)) {
		char meant[NETADDR_CIDR_STRLEN], reason[128];
		struct netaddr_cidr m = {net, c.prefix};
		netaddr_cidr_format(&m, meant);
		snprintf(reason, sizeof(reason),
		         "has bits set after the prefix: did you mean %s, or a longer prefix?",
		         meant);
		return gerr_invalid_text(err, field, s, n, reason);
	}
	*out = c;
	return 0;
}

int netaddr_cidr_parse(const char *s, size_t n, struct netaddr_cidr *out, const char *field,
                       struct gerr *err)
{
	return netaddr_cidr_parse_ex(s, n, out, field, "is not an IP address or a CIDR", err);
}

void netaddr_cidr_format(const struct netaddr_cidr *c, char out[NETADDR_CIDR_STRLEN])
{
	char a[NETADDR_STRLEN];
	netaddr_format(&c->addr, a);
	snprintf(out, NETADDR_CIDR_STRLEN, "%s/%u", a, (unsigned)c->prefix);
}

bool netaddr_cidr_contains(const struct netaddr_cidr *c, const struct netaddr *a)
{
	struct netaddr x = *a;
	netaddr_normalise(&x);
	if (x.family != c->addr.family)
		return false;
	netaddr_mask(&x, c->prefix);
	return netaddr_equal(&x, &c->addr);
}

struct netaddr_list *netaddr_list_new(void)
{
	return calloc(1, sizeof(struct netaddr_list));
}

void netaddr_list_free(struct netaddr_list *l)
{
	if (!l)
		return;
	free(l->v);
	free(l);
}

/* netaddr_list_reserve: room for extra more entries. */
static int netaddr_list_reserve(struct netaddr_list *l, size_t extra, struct gerr *err)
{
	if (l->cap - l->n >= extra)
		return 0;
	size_t cap = l->cap ? l->cap : 8;
	while (cap - l->n < extra)
		cap *= 2;
	struct netaddr_cidr *v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return gerr_set(err, GERR_NOMEM, 500, "internal", "out of memory");
	l->v = v;
	l->cap = cap;
	return 0;
}

const char *const *netaddr_preset(const char *name, size_t *count)
{
	for (size_t k = 0; name && k < sizeof(netaddr_presets) / sizeof(netaddr_presets[0]); k++) {
		if (strcmp(name, netaddr_presets[k].name) == 0) {
			*count = netaddr_presets[k].n;
			return netaddr_presets[k].addrs;
		}
	}
	return NULL;
}

int netaddr_list_add(struct netaddr_list *l, const char *s, size_t n, bool allow_presets,
                     const char *field, struct gerr *err)
{
	struct netaddr_cidr c;
	int rc;

	if (allow_presets && s && n < 32 && !memchr(s, '\0', n)) {
		char name[32];
		size_t count;
		memcpy(name, s, n);
		name[n] = '\0';
		const char *const *addrs = netaddr_preset(name, &count);
		if (addrs) {
			rc = netaddr_list_reserve(l, count, err);
			if (rc)
				return rc;
			for (size_t k = 0; k < count; k++) {
				rc = netaddr_cidr_parse(addrs[k], strlen(addrs[k]), &l->v[l->n + k],
				                        field, err);
				if (rc)
					return rc; /* never: the tests parse the table */
			}
			l->n += count;
			return 0;
		}
	}
	rc = netaddr_cidr_parse_ex(s, n, &c, field,
	                           allow_presets
	                               ? "is not an IP address, a CIDR or a preset (\"gupy\")"
	                               : "is not an IP address or a CIDR",
	                           err);
	if (rc)
		return rc;
	rc = netaddr_list_reserve(l, 1, err);
	if (rc)
		return rc;
	l->v[l->n++] = c;
	return 0;
}

int netaddr_list_from_json(const json_t *arr, const char *field, struct netaddr_list **out,
                           struct gerr *err)
{
	const char *f = field ? field : "list";
	if (!json_is_array(arr))
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: must be an array of IP addresses, CIDRs or presets (\"gupy\")",
		                f);
	size_t len = json_array_size(arr);
	if (len == 0)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: must not be empty (leave it out to accept any address)", f);
	if (len > NETADDR_LIST_MAX)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: at most %d entries",
		                f, NETADDR_LIST_MAX);
	struct netaddr_list *l = netaddr_list_new();
	if (!l)
		return gerr_set(err, GERR_NOMEM, 500, "internal", "out of memory");
	for (size_t i = 0; i < len; i++) {
		const json_t *el = json_array_get(arr, i);
		char ef[96];
		snprintf(ef, sizeof(ef), "%.80s[%zu]", f, i);
		if (!json_is_string(el)) {
			netaddr_list_free(l);
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "%s: must be a string (an IP address, a CIDR or a preset)",
			                ef);
		}
		int rc = netaddr_list_add(l, json_string_value(el), json_string_length(el), true,
		                          ef, err);
		if (rc) {
			netaddr_list_free(l);
			return rc;
		}
	}
	*out = l;
	return 0;
}

bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a)
{
	if (!l)
		return false;
	for (size_t k = 0; k < l->n; k++)
		if (netaddr_cidr_contains(&l->v[k], a))
			return true;
	return false;
}

static bool netaddr_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* netaddr_port: s[0..n) is a port 1-65535 without leading zeros. */
static bool netaddr_port(const char *s, size_t n)
{
	unsigned v = 0;
	if (n == 0 || n > 5 || s[0] == '0')
		return false;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		v = v * 10 + (unsigned)(s[k] - '0');
	}
	return v <= 65535;
}

/* netaddr_xff_element: one trimmed X-Forwarded-For element → *a, or a
 * reason. */
static const char *netaddr_xff_element(const char *e, size_t n, struct netaddr *a)
{
	bool mapped;
	if (n == 0)
		return "has an empty element";
	if (n > NETADDR_TEXT_MAX)
		return "has an element too long for an address";
	if (e[0] == '[') {
		const char *rb = memchr(e, ']', n);
		if (!rb)
			return "has an unclosed bracket";
		size_t alen = (size_t)(rb - e) + 1;
		if (alen < n && (e[alen] != ':' || !netaddr_port(e + alen + 1, n - alen - 1)))
			return "has an element with a malformed port";
		if (netaddr_parse_raw(e, alen, a, &mapped))
			return "has an element that is not an IP address";
		return NULL;
	}
	const char *c1 = memchr(e, ':', n);
	if (c1 && !memchr(c1 + 1, ':', n - (size_t)(c1 - e) - 1)) {
		/* One colon: an IPv4 address and a port (IPv6 has at least two). */
		size_t alen = (size_t)(c1 - e);
		if (!netaddr_port(c1 + 1, n - alen - 1))
			return "has an element with a malformed port";
		if (netaddr_parse_raw(e, alen, a, &mapped) || a->family != NETADDR_V4)
			return "has an element that is not an IP address";
		return NULL;
	}
	if (netaddr_parse_raw(e, n, a, &mapped))
		return "has an element that is not an IP address";
	return NULL;
}

static int netaddr_xff_fail(struct gerr *err, const char *e, size_t n, const char *why)
{
	char q[UTF8_EXCERPT_SIZE];
	utf8_ascii_excerpt(e, n, q);
	return gerr_set(err, GERR_INVALID, 400, "invalid_forwarded_for",
	                "X-Forwarded-For from a trusted proxy %s: \"%s\"", why, q);
}

int netaddr_client(const struct netaddr *peer, const char *const *xff, size_t n,
                   const struct netaddr_list *trusted, struct netaddr *client, struct gerr *err)
{
	struct netaddr last = *peer;
	size_t read = 0;

	netaddr_normalise(&last);
	if (!netaddr_list_contains(trusted, &last) || n == 0) {
		*client = last;
		return 0;
	}
	for (size_t v = n; v-- > 0;) {
		const char *s = xff[v] ? xff[v] : "";
		size_t end = strlen(s);
		for (;;) {
			size_t start = end;
			while (start > 0 && s[start - 1] != ',')
				start--;
			size_t a = start, b = end;
			while (a < b && netaddr_ows(s[a]))
				a++;
			while (b > a && netaddr_ows(s[b - 1]))
				b--;
			if (++read > NETADDR_XFF_MAX)
				return gerr_set(
				    err, GERR_INVALID, 400, "invalid_forwarded_for",
				    "X-Forwarded-For from a trusted proxy has more than "
				    "%d trusted hops",
				    NETADDR_XFF_MAX);
			struct netaddr addr;
			const char *why = netaddr_xff_element(s + a, b - a, &addr);
			if (why)
				return netaddr_xff_fail(err, s + a, b - a, why);
			if (!netaddr_list_contains(trusted, &addr)) {
				*client = addr;
				return 0;
			}
			last = addr;
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	*client = last;
	return 0;
}
