/* uuid: see uuid.h. */
#include "util/uuid.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "util/clock.h"

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char pool[4096];
static size_t pool_pos = sizeof(pool);

void random_bytes(void *p, size_t n)
{
	unsigned char *out = p;
	pthread_mutex_lock(&pool_lock);
	while (n) {
		if (pool_pos == sizeof(pool)) {
			size_t got = 0;
			while (got < sizeof(pool)) {
				ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);
				if (r > 0)
					got += (size_t)r;
			}
			pool_pos = 0;
		}
		size_t k = sizeof(pool) - pool_pos;
		if (k > n)
			k = n;
		memcpy(out, pool + pool_pos, k);
		/* Never hand the same bytes out twice. */
		memset(pool + pool_pos, 0, k);
		pool_pos += k;
		out += k;
		n -= k;
	}
	pthread_mutex_unlock(&pool_lock);
}

void uuid_v4(char out[UUID_STR_LEN])
{
	unsigned char b[16];
	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_STR_LEN,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
}

void uuid_v7(char out[UUID_STR_LEN])
{
	unsigned char b[16];
	random_bytes(b, sizeof(b));
	int64_t ms = clock_now_ms();
	uint64_t t = ms > 0 ? (uint64_t)ms : 0;
	for (int i = 5; i >= 0; i--, t >>= 8)
		b[i] = (unsigned char)(t & 0xff);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_STR_LEN,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
}

void random_token(const char *prefix, char *out, size_t outsz)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char b[43];
	random_bytes(b, sizeof(b));
	size_t plen = strlen(prefix);
	if (outsz < plen + sizeof(b) + 1) {
		if (outsz)
			out[0] = '\0';
		return;
	}
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < sizeof(b); i++)
		out[plen + i] = alphabet[b[i] & 63];
	out[plen + sizeof(b)] = '\0';
}
