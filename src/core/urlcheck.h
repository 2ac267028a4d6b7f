/*
 * urlcheck: may gancho send to this URL? (SSRF defence)
 *
 * A target must be an absolute https:// URL (http:// only when allow_http),
 * with a host, no user-info, no fragment, no control characters or spaces.
 * A literal IP host in a private, loopback, link-local, unspecified, CGNAT,
 * multicast, reserved or IPv6 ULA range is refused unless allow_private; so is
 * "localhost". Names are checked again at connect time with urlcheck_addr_allowed,
 * so DNS cannot point a public name at a private address.
 */
#ifndef GANCHO_CORE_URLCHECK_H
#define GANCHO_CORE_URLCHECK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "util/gerr.h"

int urlcheck_target(const char *url, bool allow_http, bool allow_private, struct gerr *err);
/* urlcheck_addr_allowed: false for the ranges above (IPv4, IPv6, v4-mapped). */
bool urlcheck_addr_allowed(const struct sockaddr *sa);

#endif
