/*
 * tokcache: the bearer tokens recently found to be unknown, so that a stream
 * of bad tokens costs a hash and a table probe, not a database lookup under
 * the API's one store mutex on an HTTP event-loop thread.
 *
 * Entries are SHA-256 digests (hex) of tokens, in a fixed table (direct
 * mapped: a new entry replaces whatever sat in its slot), each valid for
 * TOKCACHE_TTL_MS. The table never grows, whatever an attacker sends.
 * tokcache_clear runs when a token is created, so a new token is never
 * refused for having been tried before it existed (a token made by the CLI
 * behind the server's back waits out the TTL at most).
 */
#ifndef GANCHO_API_TOKCACHE_H
#define GANCHO_API_TOKCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define TOKCACHE_SLOTS  1024 /* a power of two */
#define TOKCACHE_TTL_MS 30000

struct tokcache_slot {
	char hash[65];
	int64_t expires;
};

struct tokcache {
	pthread_mutex_t mu;
	struct tokcache_slot slot[TOKCACHE_SLOTS];
};

void tokcache_init(struct tokcache *c);
void tokcache_destroy(struct tokcache *c);
/* tokcache_unknown: hash (SHA-256 hex) was recorded unknown before now expires. */
bool tokcache_unknown(struct tokcache *c, const char *hash, int64_t now);
/* tokcache_put: record hash as unknown at now. */
void tokcache_put(struct tokcache *c, const char *hash, int64_t now);
/* tokcache_forget: drop one hash (a token just made or revoked). */
void tokcache_forget(struct tokcache *c, const char *hash);
/* tokcache_clear: forget everything. */
void tokcache_clear(struct tokcache *c);

#endif
