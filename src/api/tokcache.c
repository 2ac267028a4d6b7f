/*
 * tokcache: see tokcache.h. The slot is the digest's first hex digits: the
 * digest is uniform, so a client cannot aim many tokens at one slot without
 * the work of finding SHA-256 prefixes, and even then only evicts entries.
 */
#include "api/tokcache.h"
#include "util/hex.h"

#include <string.h>

void tokcache_init(struct tokcache *c)
{
	memset(c->slot, 0, sizeof(c->slot));
	pthread_mutex_init(&c->mu, NULL);
}

void tokcache_destroy(struct tokcache *c)
{
	pthread_mutex_destroy(&c->mu);
}

static size_t tokcache_index(const char *hash)
{
	size_t v = 0;
	for (int i = 0; i < 8 && hash[i]; i++) {
		int d = hex_digit(hash[i]);
		if (d < 0)
			d = 0;
		v = v << 4 | (size_t)d;
	}
	return v & (TOKCACHE_SLOTS - 1);
}

bool tokcache_unknown(struct tokcache *c, const char *hash, int64_t now)
{
	struct tokcache_slot *s = &c->slot[tokcache_index(hash)];
	pthread_mutex_lock(&c->mu);
	bool hit = s->expires > now && strcmp(s->hash, hash) == 0;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void tokcache_put(struct tokcache *c, const char *hash, int64_t now)
{
	struct tokcache_slot *s = &c->slot[tokcache_index(hash)];
	pthread_mutex_lock(&c->mu);
	memcpy(s->hash, hash, strnlen(hash, 64));
	s->hash[strnlen(hash, 64)] = '\0';
	s->expires = now + TOKCACHE_TTL_MS;
	pthread_mutex_unlock(&c->mu);
}

void tokcache_forget(struct tokcache *c, const char *hash)
{
	struct tokcache_slot *s = &c->slot[tokcache_index(hash)];
	pthread_mutex_lock(&c->mu);
	if (strcmp(s->hash, hash) == 0)
		s->expires = 0;
	pthread_mutex_unlock(&c->mu);
}

void tokcache_clear(struct tokcache *c)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < TOKCACHE_SLOTS; i++)
		c->slot[i].expires = 0;
	pthread_mutex_unlock(&c->mu);
}
