/*
 * route: the pure half of the HTTP edge's routing. It splits a path into
 * segments, percent-decodes each one, and matches segments against a
 * pattern; it knows nothing of resources, callers or the store (the table of
 * routes and the dispatch live in api.c).
 *
 * A pattern is a '/'-separated list of segments: a literal ("webhooks",
 * "retry") matches a decoded segment byte for byte, ":name" matches any one
 * segment and hands it over as a parameter. The empty pattern matches no
 * segment at all.
 */
#ifndef GANCHO_API_ROUTE_H
#define GANCHO_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Methods as bits, so a table's rows for one path add up to its Allow set. */
enum {
	ROUTE_GET = 1 << 0,
	ROUTE_HEAD = 1 << 1,
	ROUTE_POST = 1 << 2,
	ROUTE_PATCH = 1 << 3,
	ROUTE_DELETE = 1 << 4,
};

#define ROUTE_MAX_SEGMENTS 8
#define ROUTE_MAX_PARAMS   2

/* route_split's refusals */
enum { ROUTE_E_TOO_MANY = -1, ROUTE_E_ESCAPE = -2, ROUTE_E_UTF8 = -3 };

/* route_method: the bit of method ("GET"…), 0 for any other. */
unsigned route_method(const char *method);

/* route_split: split s in place at '/' (empty segments, so also a leading or
 * trailing '/', are skipped), then percent-decode each segment: splitting
 * first lets an id hold an encoded "/". Fills seg (borrowed pointers into s)
 * and returns how many, or ROUTE_E_TOO_MANY past max segments, ROUTE_E_ESCAPE
 * for a broken escape or an encoded NUL, ROUTE_E_UTF8 for a segment that is
 * not UTF-8 once decoded; segments are checked in order, so the first fault
 * met is the one returned. */
int route_split(char *s, char **seg, int max);

/* route_match: whether seg[0..nseg) matches pattern; on a match param gets
 * the segments matched by ":name", in order (at most ROUTE_MAX_PARAMS). */
bool route_match(const char *pattern, char *const *seg, int nseg, const char **param);

/* route_allow: the methods of mask, for an Allow header ("GET, HEAD, POST")
 * or, when for_people, for a message ("GET, PATCH or DELETE"; HEAD is left
 * out beside GET there, as it is implied). out is always terminated. */
void route_allow(unsigned mask, bool for_people, char *out, size_t cap);

#endif
