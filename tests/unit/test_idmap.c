/*
 * test_idmap: the in-memory id map finds what was put, per company, keeps an
 * id's first seq, survives growth and clearing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/idmap.h"

static void test_put_find(void **state)
{
	(void)state;
	struct idmap *m = idmap_new();
	assert_non_null(m);
	assert_int_equal(idmap_find(m, 1, "a"), 0);
	assert_true(idmap_put(m, 1, "a", 10));
	assert_true(idmap_put(m, 2, "a", 11)); /* same id, another company */
	assert_true(idmap_put(m, 1, "a", 12)); /* already there: keeps 10 */
	assert_int_equal(idmap_find(m, 1, "a"), 10);
	assert_int_equal(idmap_find(m, 2, "a"), 11);
	assert_int_equal(idmap_find(m, 3, "a"), 0);
	assert_int_equal(idmap_find(m, 1, "ab"), 0);
	assert_int_equal(idmap_count(m), 2);
	idmap_free(m);
}

static void test_growth_and_clear(void **state)
{
	(void)state;
	struct idmap *m = idmap_new();
	char id[64];
	for (int i = 1; i <= 100000; i++) {
		snprintf(id, sizeof(id), "%08x-id-%d", (unsigned)i * 2654435761u, i);
		assert_true(idmap_put(m, i % 3, id, i));
	}
	assert_int_equal(idmap_count(m), 100000);
	for (int i = 1; i <= 100000; i += 7) {
		snprintf(id, sizeof(id), "%08x-id-%d", (unsigned)i * 2654435761u, i);
		assert_int_equal(idmap_find(m, i % 3, id), i);
		assert_int_equal(idmap_find(m, (i + 1) % 3, id), 0);
	}
	idmap_clear(m);
	assert_int_equal(idmap_count(m), 0);
	snprintf(id, sizeof(id), "%08x-id-%d", 7u * 2654435761u, 7);
	assert_int_equal(idmap_find(m, 7 % 3, id), 0);
	assert_true(idmap_put(m, 1, id, 5));
	assert_int_equal(idmap_find(m, 1, id), 5);
	idmap_free(m);
}

static void test_sorted_and_drop(void **state)
{
	(void)state;
	struct idmap *m = idmap_new();
	assert_true(idmap_put(m, 2, "b", 1));
	assert_true(idmap_put(m, 1, "z", 2));
	assert_true(idmap_put(m, 1, "a", 3));
	assert_true(idmap_put(m, 2, "a", 9)); /* newer than the merge */
	size_t n = 0;
	struct idmap_ref *r = idmap_sorted(m, 3, &n);
	assert_non_null(r);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].company_seq, 1);
	assert_string_equal(idmap_ref_id(m, &r[0]), "a");
	assert_string_equal(idmap_ref_id(m, &r[1]), "z");
	assert_int_equal(r[2].company_seq, 2);
	assert_string_equal(idmap_ref_id(m, &r[2]), "b");
	/* refs stay valid while entries are added */
	char id[16];
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		assert_true(idmap_put(m, 3, id, 10 + i));
	}
	assert_string_equal(idmap_ref_id(m, &r[1]), "z");
	free(r);
	assert_true(idmap_drop_upto(m, 3));
	assert_int_equal(idmap_count(m), 5001);
	assert_int_equal(idmap_find(m, 1, "a"), 0);
	assert_int_equal(idmap_find(m, 2, "a"), 9);
	assert_int_equal(idmap_find(m, 3, "n4999"), 5009);
	idmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_find),
	    cmocka_unit_test(test_growth_and_clear),
	    cmocka_unit_test(test_sorted_and_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
