/*
 * uuid: random (version 4) and time-ordered (version 7) UUIDs and random tokens, from a buffered
 * getrandom() pool so a burst of ids costs one syscall per few hundred.
 */
#ifndef GANCHO_UTIL_UUID_H
#define GANCHO_UTIL_UUID_H

#include <stddef.h>

#define UUID_STR_LEN 37 /* 36 chars + NUL */

void uuid_v4(char out[UUID_STR_LEN]);
/* uuid_v7: a time-ordered (version 7) UUID: the first 48 bits are ms since
 * the epoch (clock_now_ms), the rest random. Ids made later sort after, so a
 * B-tree index on them grows at its right edge: a batch of new ids dirties
 * one or two index pages, not one page per id as random ids do. */
void uuid_v7(char out[UUID_STR_LEN]);
/* random_bytes fills p with n bytes from the kernel CSPRNG. */
void random_bytes(void *p, size_t n);
/* random_token writes a prefix + 43 url-safe base64 chars (256 bits). */
void random_token(const char *prefix, char *out, size_t outsz);

#endif
