/*
 * test_tokcache: the cache of unknown bearer tokens answers "unknown" for a
 * recorded digest until it expires, never for another digest, forgets on
 * demand, and stays the same size whatever is put in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/tokcache.h"
#include "registry/registry.h"

static struct tokcache c;

static void hash_of(const char *tok, char out[65])
{
	token_hash(tok, out);
}

static void test_hit_miss_expiry(void **state)
{
	(void)state;
	char h1[65], h2[65];
	tokcache_init(&c);
	hash_of("gch_bad1", h1);
	hash_of("gch_bad2", h2);
	assert_false(tokcache_unknown(&c, h1, 1000));
	tokcache_put(&c, h1, 1000);
	assert_true(tokcache_unknown(&c, h1, 1000));
	assert_true(tokcache_unknown(&c, h1, 1000 + TOKCACHE_TTL_MS - 1));
	assert_false(tokcache_unknown(&c, h1, 1000 + TOKCACHE_TTL_MS));
	assert_false(tokcache_unknown(&c, h2, 1000));
	tokcache_put(&c, h2, 2000);
	tokcache_forget(&c, h2);
	assert_false(tokcache_unknown(&c, h2, 2000));
	tokcache_put(&c, h1, 3000);
	tokcache_clear(&c);
	assert_false(tokcache_unknown(&c, h1, 3000));
	tokcache_destroy(&c);
}

/* A flood of distinct tokens: bounded memory, and the last ones are cached. */
static void test_flood_is_bounded(void **state)
{
	(void)state;
	char h[65], tok[32];
	size_t before = sizeof(c);
	tokcache_init(&c);
	int hits = 0;
	for (int i = 0; i < 100000; i++) {
		snprintf(tok, sizeof(tok), "gch_%d", i);
		hash_of(tok, h);
		tokcache_put(&c, h, 5000);
	}
	for (int i = 100000 - 64; i < 100000; i++) {
		snprintf(tok, sizeof(tok), "gch_%d", i);
		hash_of(tok, h);
		hits += tokcache_unknown(&c, h, 5001);
	}
	assert_true(hits >= 60); /* a few of the last 64 may share a slot */
	assert_int_equal(sizeof(c), before);
	tokcache_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_miss_expiry),
	    cmocka_unit_test(test_flood_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
