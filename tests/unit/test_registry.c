/*
 * test_registry: fan-out has no hidden cap (registry_match tells how many
 * webhooks take an event, however many there are), and revoked tokens leave
 * the token table without hiding the tokens that shared their probe run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/source.h"
#include "registry/registry.h"

static struct webhook *make(int64_t seq, int64_t company, const char *event)
{
	char id[40];
	snprintf(id, sizeof(id), "wh-%lld", (long long)seq);
	json_t *cfg =
	    json_pack("{s:s,s:[s]}", "postbackUrl", "https://example.com/h", "events", event);
	struct webhook *w = NULL;
	struct gerr err = {0};
	if (webhook_compile(cfg, seq, id, company, 0, 0, &w, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	return w;
}

static void test_fanout_has_no_cap(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct registry *r = registry_new();
	assert_int_equal(registry_company_put(r, 1, "c-1", "ACME", "[]"), 0);
	for (int64_t i = 1; i <= N; i++)
		assert_int_equal(registry_webhook_put(r, make(i, 1, "candidate.hired")), 0);
	registry_webhook_put(r, make(N + 1, 1, "candidate.moved"));

	struct webhook *few[64];
	int n = registry_match(r, 1, "candidate.hired", NULL, few, 64);
	assert_int_equal(n, N); /* the count, not the room */
	for (int i = 0; i < 64; i++)
		webhook_unref(few[i]);

	struct webhook **all = calloc(N + 16, sizeof(*all));
	assert_non_null(all);
	n = registry_match(r, 1, "candidate.hired", NULL, all, N + 16);
	assert_int_equal(n, N);
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		sum += all[i]->seq;
		webhook_unref(all[i]);
	}
	assert_int_equal(sum, (int64_t)N * (N + 1) / 2); /* each exactly once */
	free(all);
	registry_free(r);
}

static void test_token_remove_keeps_the_others(void **state)
{
	(void)state;
	enum { N = 600 }; /* past the first growth of the table */
	struct registry *r = registry_new();
	char tok[32], hash[65];
	for (int i = 0; i < N; i++) {
		snprintf(tok, sizeof(tok), "gch_%d", i);
		token_hash(tok, hash);
		registry_token_put(r, hash, 1 + i % 7);
	}
	for (int i = 0; i < N; i += 2) {
		snprintf(tok, sizeof(tok), "gch_%d", i);
		token_hash(tok, hash);
		registry_token_remove(r, hash);
	}
	for (int i = 0; i < N; i++) {
		snprintf(tok, sizeof(tok), "gch_%d", i);
		assert_int_equal(registry_token_company(r, tok), i % 2 ? 1 + i % 7 : 0);
	}
	registry_free(r);
}

static struct source *make_source(int64_t seq, const char *name)
{
	char id[40];
	snprintf(id, sizeof(id), "src-%lld", (long long)seq);
	json_t *cfg = json_pack("{s:s,s:{s:s}}", "name", name, "verification", "kind", "none");
	struct source *src = NULL;
	struct gerr err = {0};
	if (source_compile(cfg, seq, id, 1, &src, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	return src;
}

/* Sources by public id and by seq: many (the id table grows), replaced in
 * place, removed without hiding the ids that shared their probe run. */
static void test_sources_by_id(void **state)
{
	(void)state;
	enum { N = 3000 };
	struct registry *r = registry_new();
	for (int64_t i = 1; i <= N; i++)
		assert_int_equal(registry_source_put(r, make_source(i, "first")), 0);
	assert_null(registry_source_get(r, "src-0"));
	assert_null(registry_source_get(r, "nope"));
	assert_null(registry_source_get(r, ""));
	assert_null(registry_source_get(r, NULL));
	assert_null(registry_source_get(r, "src-1-and-then-a-very-long-tail-past-any-id-length"));
	assert_null(registry_source_get_seq(r, N + 1));
	/* a new version replaces the old one; a reader's reference stays good */
	struct source *held = registry_source_get(r, "src-7");
	assert_non_null(held);
	assert_int_equal(registry_source_put(r, make_source(7, "second")), 0);
	assert_string_equal(held->name, "first");
	source_unref(held);
	struct source *now = registry_source_get(r, "src-7");
	assert_string_equal(now->name, "second");
	source_unref(now);
	/* remove every other one: the rest stay reachable */
	for (int64_t i = 2; i <= N; i += 2)
		registry_source_remove(r, i);
	for (int64_t i = 1; i <= N; i++) {
		char id[40];
		snprintf(id, sizeof(id), "src-%lld", (long long)i);
		struct source *src = registry_source_get(r, id);
		struct source *bys = registry_source_get_seq(r, i);
		if (i % 2) {
			assert_non_null(src);
			assert_int_equal(src->seq, i);
			assert_ptr_equal(src, bys);
		} else {
			assert_null(src);
			assert_null(bys);
		}
		source_unref(src);
		source_unref(bys);
	}
	registry_source_remove(r, 999999); /* unknown: nothing happens */
	registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fanout_has_no_cap),
	    cmocka_unit_test(test_token_remove_keeps_the_others),
	    cmocka_unit_test(test_sources_by_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
