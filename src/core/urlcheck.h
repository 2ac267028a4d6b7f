/*
 * urlcheck: may gancho send to this URL? (SSRF defence)
 *
 * A target must be an absolute https:// URL (http:// only when allow_http),
 * with a host, no user-info, no fragment, no control characters or spaces.
 * A literal IP host in a block of the IANA IPv4 or IPv6 special-purpose
 * address registries, or an IPv6 address outside 2000::/3, is refused unless
 * allow_private (IPv6 forms carrying an IPv4 address are judged by that
 * address); so are "localhost", ".local" and ".internal" names. Names are
 * checked again at connect time with urlcheck_addr_allowed, so DNS cannot
 * point a public name at a private address.
 */
#ifndef GANCHO_CORE_URLCHECK_H
#define GANCHO_CORE_URLCHECK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "util/gerr.h"

int urlcheck_target(const char *url, bool allow_http, bool allow_private, struct gerr *err);
/* urlcheck_addr_allowed: false for the ranges above (IPv4, IPv6, embedded IPv4). */
bool urlcheck_addr_allowed(const struct sockaddr *sa);

#endif
