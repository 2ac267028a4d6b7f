/*
 * netaddr: IP addresses and CIDR lists for a source's allowIps and the
 * server's --trusted-proxy, and the client address of a request behind
 * proxies (X-Forwarded-For). Pure: no I/O, no allocation but the lists.
 *
 * Spellings accepted (one per address, so a list means what it looks like):
 *   IPv4   canonical dotted quad only: four decimal parts 0-255, no leading
 *          zeros ("0" alone is fine), no octal, hex, integer or short
 *          forms ("010.0.0.1", "0x7f.0.0.1", "2130706433", "127.1" are
 *          refused, since other parsers read them as other addresses);
 *   IPv6   any form inet_pton reads (RFC 4291 text, embedded dotted quad),
 *          bare or in brackets ("[2001:db8::1]"); no zone ("%eth0");
 *   CIDR   address "/" prefix: decimal, no sign, no leading zeros, 0-32
 *          (IPv4) or 0-128 (IPv6). A bare address is a /32 or /128. Bits
 *          set after the prefix ("203.0.113.7/24") are refused, the message
 *          naming the network meant ("203.0.113.0/24"): such an entry is
 *          nearly always a typo in the address or in the prefix.
 *   preset a name standing for a published list, as one element among
 *          CIDRs: "gupy" (Gupy's nine webhook sender addresses). Exact,
 *          lowercase.
 * Nothing else: no spaces, no NUL, no host names, at most 64 characters.
 *
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports for an
 * IPv4 client) is the IPv4 address a.b.c.d: every address and CIDR is
 * normalised so, at parse and in netaddr_from_sockaddr, and an IPv4 CIDR
 * matches a client whichever way the socket spelled it. A mapped CIDR
 * ("::ffff:10.0.0.0/104") is the IPv4 CIDR 10.0.0.0/8. So IPv6 CIDRs match
 * only true IPv6 clients: "::/0" is every IPv6 address, not IPv4 ones (list
 * "0.0.0.0/0" too for everything). NAT64 (64:ff9b::/96) and the deprecated
 * IPv4-compatible form (::a.b.c.d) are IPv6 addresses like any other.
 */
#ifndef GANCHO_CORE_NETADDR_H
#define GANCHO_CORE_NETADDR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/gerr.h"

enum { NETADDR_V4 = 4, NETADDR_V6 = 6 };

#define NETADDR_TEXT_MAX    64  /* longest address or CIDR text accepted */
#define NETADDR_STRLEN      46  /* formatted address + NUL (INET6_ADDRSTRLEN) */
#define NETADDR_CIDR_STRLEN 50  /* formatted CIDR + NUL */
#define NETADDR_LIST_MAX    256 /* elements of one JSON list (a preset counts once) */
#define NETADDR_XFF_MAX     32  /* X-Forwarded-For elements examined per request */

/* An address: family NETADDR_V4 (b[0..4) in network order, the rest zero)
 * or NETADDR_V6 (b[0..16), never IPv4-mapped once normalised). */
struct netaddr {
	uint8_t family;
	uint8_t b[16];
};

/* A network: addr with every bit after prefix zero. */
struct netaddr_cidr {
	struct netaddr addr;
	uint8_t prefix; /* 0-32 or 0-128 */
};

/* A list of networks. n and v are read-only outside this module. */
struct netaddr_list {
	size_t n, cap;
	struct netaddr_cidr *v;
};

/* netaddr_parse: s[0..n) is one address as described above (IPv4 quad, or
 * IPv6 bare or bracketed) → *out, normalised. 0, or GERR_INVALID with *out
 * untouched. */
int netaddr_parse(const char *s, size_t n, struct netaddr *out);

/* netaddr_from_sockaddr: the address of an AF_INET or AF_INET6 socket
 * address (a peer from accept()), normalised. 0, or GERR_INVALID for other
 * families or NULL. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

/* netaddr_format: the address as text: dotted quad, or RFC 5952 IPv6
 * (lowercase, "::" for the longest zero run) without brackets. */
void netaddr_format(const struct netaddr *a, char out[NETADDR_STRLEN]);

/* netaddr_equal: same family and bytes (both normalised by the parser). */
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);

/* netaddr_cidr_parse: s[0..n) is one CIDR or bare address (not a preset)
 * → *out. Refusals are GERR_INVALID, 400, invalid_field, the message
 * prefixed with "<field>: " when field is not NULL and quoting at most 64
 * characters of s (non-printable ones as '?'). */
int netaddr_cidr_parse(const char *s, size_t n, struct netaddr_cidr *out, const char *field,
                       struct gerr *err);

/* netaddr_cidr_format: "address/prefix", the address as netaddr_format. */
void netaddr_cidr_format(const struct netaddr_cidr *c, char out[NETADDR_CIDR_STRLEN]);

/* netaddr_cidr_contains: a is inside c (same family after normalising). */
bool netaddr_cidr_contains(const struct netaddr_cidr *c, const struct netaddr *a);

/* netaddr_list_new: an empty list, or NULL when out of memory. */
struct netaddr_list *netaddr_list_new(void);
/* netaddr_list_free: NULL is fine. */
void netaddr_list_free(struct netaddr_list *l);

/* netaddr_list_add: append s[0..n), a CIDR, a bare address or (when
 * allow_presets) a preset name, which appends every address of the preset.
 * Errors as netaddr_cidr_parse, GERR_NOMEM when out of memory; the list is
 * unchanged on error. */
int netaddr_list_add(struct netaddr_list *l, const char *s, size_t n, bool allow_presets,
                     const char *field, struct gerr *err);

/* netaddr_list_from_json: a new list from a JSON array of 1 to
 * NETADDR_LIST_MAX strings, each a CIDR, an address or a preset (what the
 * API's allowIps holds). An empty array is refused (leave the field out to
 * accept every address) as is anything not an array of strings. Refusals
 * are GERR_INVALID, 400, invalid_field, naming the element:
 * "allowIps[2]: \"10.0.0.1/33\": prefix 33 is out of range (0-32 for IPv4)".
 * *out is set only on success. */
int netaddr_list_from_json(const json_t *arr, const char *field, struct netaddr_list **out,
                           struct gerr *err);

/* netaddr_list_contains: a is inside some network of l. False for an empty
 * or NULL list. */
bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a);

/* netaddr_preset: the addresses of a preset by name (exact), as dotted
 * quads; *count set. NULL for an unknown name. Static. */
const char *const *netaddr_preset(const char *name, size_t *count);

/* netaddr_client: the client address of a request whose socket peer is
 * *peer and whose X-Forwarded-For header values (all of them, in the order
 * received, NUL-terminated) are xff[0..n).
 *
 * When the peer is not in trusted (or trusted is NULL or empty), the header
 * is ignored, whatever it says, and the client is the peer. When the peer
 * is a trusted proxy, the values are read as one comma-separated list (the
 * values joined in order, as RFC 9110 combines a repeated field) from the
 * right: each element is an address some proxy saw, and the first one that
 * is not itself a trusted proxy is the client. When every element is
 * trusted, the leftmost is the client; with no header at all, the proxy
 * itself is (a request the proxy made).
 *
 * An element is a canonical dotted quad, an IPv6 address bare or in
 * brackets, or "a.b.c.d:port" / "[v6]:port" (port 1-65535, no leading
 * zeros; Azure Application Gateway appends one), with optional spaces or
 * tabs around it. Elements left of the client are never read: they come
 * from the client and may be anything. An element that is read and does
 * not parse (empty, "unknown", a name, a bare IPv6 with a port, an obfuscated
 * RFC 7239 identifier), or more than NETADDR_XFF_MAX elements read, makes
 * the request refused: GERR_INVALID, 400, invalid_forwarded_for, a reason
 * for the rejections list; never a fall back to an address the client may
 * have written. *client is set only on success.
 * The trusted list should hold the proxies only: a client inside a trusted
 * range is skipped like a proxy, so the element left of it (which it may
 * have written) would be taken for the client. */
int netaddr_client(const struct netaddr *peer, const char *const *xff, size_t n,
                   const struct netaddr_list *trusted, struct netaddr *client, struct gerr *err);

#endif
