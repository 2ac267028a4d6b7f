/*
 * urlcheck: refuse webhook targets that would let a tenant reach inside our
 * network (SSRF), and URLs that different parsers would read differently.
 *
 * The check runs when a webhook is saved (urlcheck_target) and again when a
 * connection is made (urlcheck_addr_allowed on the resolved address), because
 * a public name can resolve to a private address at any time.
 *
 * urlcheck_target is deliberately stricter than RFC 3986: libcurl, proxies
 * and resolvers disagree about backslashes, user-info, raw spaces, non-ASCII
 * bytes and the old BSD inet_aton forms ("2130706433", "0x7f.1", "127.1",
 * "0177.0.0.1"), and every disagreement is a way past a blocklist. So we
 * accept one spelling only: scheme "://" host [":" port] [path-and-query],
 * host being a DNS name, a canonical dotted quad, or a bracketed IPv6
 * literal. A host that looks numeric but is not a canonical quad is
 * malformed, not a name, whatever allow_private says.
 */
#include "core/urlcheck.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define URLCHECK_MAX_LEN  2048
#define URLCHECK_MAX_HOST 253

static int urlcheck_fail(struct gerr *err, const char *reason)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "postbackUrl: %s", reason);
}

/* The IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates),
 * every block of it, globally reachable or not: none is a place a webhook
 * belongs, and a blocklist that picks among them is one more thing to get
 * wrong. Then multicast and the reserved 240/4 (with the broadcast address). */
static const struct {
	uint32_t net;
	unsigned len;
} urlcheck_v4_special[] = {
    {0x00000000, 8},  /* 0/8 "this network" */
    {0x0a000000, 8},  /* 10/8 private */
    {0x64400000, 10}, /* 100.64/10 shared address space (CGNAT) */
    {0x7f000000, 8},  /* 127/8 loopback */
    {0xa9fe0000, 16}, /* 169.254/16 link-local, cloud metadata */
    {0xac100000, 12}, /* 172.16/12 private */
    {0xc0000000, 24}, /* 192.0.0/24 IETF protocol assignments */
    {0xc0000200, 24}, /* 192.0.2/24 TEST-NET-1 */
    {0xc01fc400, 24}, /* 192.31.196/24 AS112-v4 */
    {0xc034c100, 24}, /* 192.52.193/24 AMT */
    {0xc0586300, 24}, /* 192.88.99/24 deprecated 6to4 relay anycast */
    {0xc0a80000, 16}, /* 192.168/16 private */
    {0xc0af3000, 24}, /* 192.175.48/24 direct delegation AS112 */
    {0xc6120000, 15}, /* 198.18/15 benchmarking */
    {0xc6336400, 24}, /* 198.51.100/24 TEST-NET-2 */
    {0xcb007100, 24}, /* 203.0.113/24 TEST-NET-3 */
    {0xe0000000, 4},  /* 224/4 multicast */
    {0xf0000000, 4},  /* 240/4 reserved, 255.255.255.255 broadcast */
};

/* urlcheck_v4_blocked: a (host byte order) is in a special-purpose block. */
static bool urlcheck_v4_blocked(uint32_t a)
{
	for (size_t i = 0; i < sizeof(urlcheck_v4_special) / sizeof(urlcheck_v4_special[0]); i++) {
		unsigned len = urlcheck_v4_special[i].len;
		uint32_t mask = len ? ~(uint32_t)0 << (32 - len) : 0;
		if ((a & mask) == urlcheck_v4_special[i].net)
			return true;
	}
	return false;
}

static uint32_t urlcheck_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* urlcheck_v6_blocked: the IANA IPv6 Special-Purpose Address Registry, and
 * everything outside 2000::/3, the only block IANA allocates global unicast
 * from (so ::/8, 100::/64 discard, 5f00::/16 SRv6, fc00::/7 unique local,
 * fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast and any
 * unassigned space are refused by one rule). The forms that carry an IPv4
 * address and reach it are decided by that address. */
static bool urlcheck_v6_blocked(const uint8_t b[16])
{
	static const uint8_t zero12[12];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

	/* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d: nothing public. */
	if (memcmp(b, zero12, 12) == 0)
		return true;
	/* ::ffff:a.b.c.d (IPv4-mapped), ::ffff:0:a.b.c.d (IPv4-translated, SIIT)
	 * and 64:ff9b::a.b.c.d (the well-known NAT64 prefix) reach an IPv4 host,
	 * so that host decides. The local-use NAT64 prefix 64:ff9b:1::/48 is a
	 * network's own translator, refused with the rest of ::/3 below. */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, translated, 12) == 0 ||
	    memcmp(b, nat64, 12) == 0)
		return urlcheck_v4_blocked(urlcheck_be32(b + 12));
	if ((b[0] & 0xe0) != 0x20) /* outside 2000::/3 global unicast */
		return true;
	/* 2001::/23 IETF protocol assignments, Teredo 2001::/32 among them (its
	 * client address is obfuscated IPv4; the relay reaches anything). */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
		return true;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 */
		return true;
	if (b[0] == 0x3f && b[1] == 0xff && b[2] < 0x10) /* 3fff::/20 documentation */
		return true;
	/* 2002:a.b.c.d::/48 (6to4) is reached through the embedded IPv4 host. */
	if (b[0] == 0x20 && b[1] == 0x02)
		return urlcheck_v4_blocked(urlcheck_be32(b + 2));
	return false;
}

bool urlcheck_addr_allowed(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return !urlcheck_v4_blocked(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return !urlcheck_v6_blocked(in6->sin6_addr.s6_addr);
	}
	return false;
}

/* urlcheck_label_numeric: a label inet_aton would read as a number:
 * decimal or octal digits, or "0x" followed by hex digits (possibly none). */
static bool urlcheck_label_numeric(const char *l, size_t n)
{
	if (n == 0)
		return false;
	if (n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (size_t k = 2; k < n; k++)
			if (hex_digit(l[k]) < 0)
				return false;
		return true;
	}
	for (size_t k = 0; k < n; k++)
		if (l[k] < '0' || l[k] > '9')
			return false;
	return true;
}

/* urlcheck_quad: h[0..n) is a canonical dotted quad (no leading zeros). */
static bool urlcheck_quad(const char *h, size_t n, uint32_t *addr)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || h[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < n && h[i] >= '0' && h[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(h[i++] - '0');
		if (i == start || v > 255 || (h[start] == '0' && i - start > 1))
			return false;
		a = a << 8 | v;
	}
	if (i != n)
		return false;
	*addr = a;
	return true;
}

static bool urlcheck_suffix(const char *h, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);
	/* "localhost" itself or anything ending ".localhost". */
	if (n == sl - 1 && strncasecmp(h, suffix + 1, n) == 0)
		return true;
	return n > sl && strncasecmp(h + n - sl, suffix, sl) == 0;
}

/* urlcheck_name: check a reg-name host (no port, no brackets). */
static int urlcheck_name(const char *h, size_t n, bool allow_private, struct gerr *err)
{
	if (n == 0)
		return urlcheck_fail(err, "missing host");
	if (n > URLCHECK_MAX_HOST + 1)
		return urlcheck_fail(err, "host name is too long");
	for (size_t k = 0; k < n; k++) {
		char c = h[k];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return urlcheck_fail(err, "invalid character in host");
	}
	/* One trailing dot is the absolute form of the same name; drop it so
	 * "localhost." and "127.0.0.1." meet the same rules. */
	if (h[n - 1] == '.')
		n--;
	if (n == 0 || n > URLCHECK_MAX_HOST)
		return urlcheck_fail(err, "malformed host");

	bool all_numeric = true, last_numeric = false;
	size_t start = 0;
	for (size_t k = 0; k <= n; k++) {
		if (k < n && h[k] != '.')
			continue;
		size_t len = k - start;
		if (len == 0 || len > 63)
			return urlcheck_fail(err, "malformed host");
		last_numeric = urlcheck_label_numeric(h + start, len);
		all_numeric &= last_numeric;
		start = k + 1;
	}
	if (all_numeric) {
		uint32_t a;
		if (!urlcheck_quad(h, n, &a))
			return urlcheck_fail(err, "malformed IPv4 address (use dotted-quad form)");
		if (!allow_private && urlcheck_v4_blocked(a))
			return urlcheck_fail(err, "private or loopback address not allowed");
		return 0;
	}
	/* No top-level domain is numeric; WHATWG URL parsers would read such a
	 * host as IPv4 and fail, resolvers would look it up: refuse both. */
	if (last_numeric)
		return urlcheck_fail(err, "malformed host");
	if (!allow_private &&
	    (urlcheck_suffix(h, n, ".localhost") || urlcheck_suffix(h, n, ".local") ||
	     urlcheck_suffix(h, n, ".internal")))
		return urlcheck_fail(err, "private or loopback address not allowed");
	return 0;
}

int urlcheck_target(const char *url, bool allow_http, bool allow_private, struct gerr *err)
{
	const char *want =
	    allow_http ? "must be an http:// or https:// URL" : "must be an https:// URL";

	if (!url || !*url)
		return urlcheck_fail(err, want);
	size_t len = strnlen(url, URLCHECK_MAX_LEN + 1);
	if (len > URLCHECK_MAX_LEN)
		return urlcheck_fail(err, "URL is too long (max 2048 bytes)");
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)url[k];
		if (c <= 0x20 || c == 0x7f)
			return urlcheck_fail(err, "must not contain spaces or control characters");
		if (c >= 0x80)
			return urlcheck_fail(err,
			                     "must be ASCII (percent-encode other characters)");
		if (c == '\\')
			return urlcheck_fail(err, "must not contain backslashes");
		if (c == '#')
			return urlcheck_fail(err, "fragments (#...) are not allowed");
		if (c == '%' &&
		    (k + 2 >= len || hex_digit(url[k + 1]) < 0 || hex_digit(url[k + 2]) < 0))
			return urlcheck_fail(err, "invalid percent-encoding");
	}

	/* Scheme. */
	const char *p;
	if (len >= 8 && strncasecmp(url, "https://", 8) == 0) {
		p = url + 8;
	} else if (len >= 7 && strncasecmp(url, "http://", 7) == 0) {
		if (!allow_http)
			return urlcheck_fail(err, want);
		p = url + 7;
	} else {
		return urlcheck_fail(err, want);
	}

	/* Authority: up to the path or query. */
	size_t alen = strcspn(p, "/?");
	if (memchr(p, '@', alen))
		return urlcheck_fail(err, "user-info (user@host) is not allowed");
	if (alen == 0)
		return urlcheck_fail(err, "missing host");

	const char *port = NULL;
	size_t portlen = 0;
	if (p[0] == '[') {
		const char *close = memchr(p, ']', alen);
		if (!close)
			return urlcheck_fail(err, "malformed IPv6 address");
		size_t hlen = (size_t)(close - p) - 1;
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		if (hlen == 0 || hlen >= sizeof(tmp))
			return urlcheck_fail(err, "malformed IPv6 address");
		memcpy(tmp, p + 1, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return urlcheck_fail(err, "malformed IPv6 address");
		size_t rest = alen - (size_t)(close + 1 - p);
		if (rest > 0) {
			if (close[1] != ':')
				return urlcheck_fail(err, "malformed host");
			port = close + 2;
			portlen = rest - 1;
		}
		if (!allow_private && urlcheck_v6_blocked(a6.s6_addr))
			return urlcheck_fail(err, "private or loopback address not allowed");
	} else {
		const char *colon = memchr(p, ':', alen);
		size_t hlen = colon ? (size_t)(colon - p) : alen;
		if (colon) {
			port = colon + 1;
			portlen = alen - hlen - 1;
		}
		int rc = urlcheck_name(p, hlen, allow_private, err);
		if (rc)
			return rc;
	}

	if (port) {
		unsigned v = 0;
		if (portlen == 0 || portlen > 5)
			return urlcheck_fail(err, "invalid port");
		for (size_t k = 0; k < portlen; k++) {
			if (port[k] < '0' || port[k] > '9')
				return urlcheck_fail(err, "invalid port");
			v = v * 10 + (unsigned)(port[k] - '0');
		}
		if (v < 1 || v > 65535)
			return urlcheck_fail(err, "invalid port");
	}
	return 0;
}
