/*
 * test_uuid: version 4 and version 7 UUIDs have the right shape, and version
 * 7 ids carry the clock's milliseconds first, so ids made later sort after
 * (what keeps an index on receipt ids growing at its right edge).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/uuid.h"

/* shaped: 8-4-4-4-12 lowercase hex with the version digit v and the RFC
 * 4122 variant (8, 9, a or b). */
static void assert_shaped(const char *u, char v)
{
	assert_int_equal(strlen(u), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", u[i]));
	}
	assert_int_equal(u[14], v);
	assert_non_null(strchr("89ab", u[19]));
}

/* ms_of: the 48-bit time prefix of a version 7 id. */
static int64_t ms_of(const char *u)
{
	char hex[13];
	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return (int64_t)strtoll(hex, NULL, 16);
}

static void test_v4_shape(void **state)
{
	(void)state;
	char a[UUID_STR_LEN], b[UUID_STR_LEN];
	uuid_v4(a);
	uuid_v4(b);
	assert_shaped(a, '4');
	assert_shaped(b, '4');
	assert_string_not_equal(a, b);
}

static void test_v7_time_first(void **state)
{
	(void)state;
	char a[UUID_STR_LEN], b[UUID_STR_LEN];
	int64_t t0 = clock_now_ms();
	uuid_v7(a);
	int64_t t1 = clock_now_ms();
	assert_shaped(a, '7');
	assert_true(ms_of(a) >= t0 && ms_of(a) <= t1);
	/* a later clock: the id sorts after, whatever its random part */
	clock_set_offset_ms(5000);
	uuid_v7(b);
	clock_set_offset_ms(0);
	assert_shaped(b, '7');
	assert_true(ms_of(b) >= t0 + 5000);
	assert_true(strcmp(a, b) < 0);
	/* the same millisecond: still distinct */
	char c[UUID_STR_LEN], d[UUID_STR_LEN];
	uuid_v7(c);
	uuid_v7(d);
	assert_string_not_equal(c, d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4_shape),
	    cmocka_unit_test(test_v7_time_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
