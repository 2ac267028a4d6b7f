/*
 * test_store_sources: the sources and rejections of store.h on a real
 * SQLite file: insert, get within a company only, update, delete (then
 * never read back), list newest first with keyset pages, each and by_seq for
 * the registry; rejections newest first, only the newest
 * STORE_REJECTIONS_KEPT kept per source, long texts cut on a character.
 * (The same operations on PostgreSQL run under tests/integration.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/backend.h"
#include "store/store.h"
#include "store_fixture.h"

static char path[256];
static struct store *s;

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "sources", false, sqlite_store_open);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

static int64_t add(int64_t company, const char *id, const char *name)
{
	struct gerr err = {0};
	struct store_source src = {.company_seq = company,
	                           .name = (char *)name,
	                           .config = "{\"name\":\"x\"}",
	                           .created_at = 10,
	                           .updated_at = 10};
	snprintf(src.id, sizeof(src.id), "%s", id);
	if (store_source_insert(s, &src, &err))
		fail_msg("insert %s: %s", id, err.msg);
	assert_true(src.seq > 0);
	assert_int_equal(src.status, SRC_ACTIVE);
	return src.seq;
}

static void count_each(void *ctx, struct store_source *src)
{
	assert_non_null(src->config);
	(*(int *)ctx)++;
}

static void test_source_rows(void **state)
{
	(void)state;
	int64_t a = add(1, "src-a", "Gupy");
	int64_t b = add(1, "src-b", "Exams");
	int64_t c = add(2, "src-c", "Other company");
	struct store_source out;
	assert_int_equal(store_source_get(s, 1, "src-a", &out), 0);
	assert_int_equal(out.seq, a);
	assert_string_equal(out.name, "Gupy");
	assert_string_equal(out.config, "{\"name\":\"x\"}");
	assert_int_equal(out.company_seq, 1);
	assert_int_equal(out.created_at, 10);
	store_source_free(&out);
	/* another company's id is not there */
	assert_int_equal(store_source_get(s, 2, "src-a", &out), GERR_NOTFOUND);
	assert_int_equal(store_source_get(s, 0, "src-a", &out), GERR_NOTFOUND);

	struct store_source up = {.seq = a, .name = "Gupy BR", .config = "{}", .updated_at = 20};
	assert_int_equal(store_source_update(s, &up), 0);
	assert_int_equal(store_source_by_seq(s, a, &out), 0);
	assert_string_equal(out.name, "Gupy BR");
	assert_string_equal(out.config, "{}");
	assert_int_equal(out.created_at, 10);
	assert_int_equal(out.updated_at, 20);
	store_source_free(&out);

	/* pages, newest first */
	struct store_source page[3];
	int n = 0;
	assert_int_equal(store_source_list(s, 1, 0, 3, page, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(page[0].seq, b);
	assert_int_equal(page[1].seq, a);
	store_source_free(&page[0]);
	store_source_free(&page[1]);
	assert_int_equal(store_source_list(s, 1, 0, 1, page, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].seq, b);
	store_source_free(&page[0]);
	assert_int_equal(store_source_list(s, 1, b, 3, page, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].seq, a);
	store_source_free(&page[0]);

	int k = 0;
	assert_int_equal(store_source_each(s, count_each, &k), 0);
	assert_int_equal(k, 3);

	/* a deleted source is never read back, and cannot be changed again */
	assert_int_equal(store_source_delete(s, b, 30), 0);
	assert_int_equal(store_source_delete(s, b, 31), GERR_NOTFOUND);
	assert_int_equal(store_source_get(s, 1, "src-b", &out), GERR_NOTFOUND);
	assert_int_equal(store_source_by_seq(s, b, &out), GERR_NOTFOUND);
	up.seq = b;
	assert_int_equal(store_source_update(s, &up), GERR_NOTFOUND);
	assert_int_equal(store_source_list(s, 1, 0, 3, page, &n), 0);
	assert_int_equal(n, 1);
	store_source_free(&page[0]);
	k = 0;
	assert_int_equal(store_source_each(s, count_each, &k), 0);
	assert_int_equal(k, 2);
	(void)c;
}

static void test_rejections_keep_the_newest(void **state)
{
	(void)state;
	int64_t a = add(1, "src-a", "Gupy");
	int64_t b = add(1, "src-b", "Exams");
	char reason[64];
	for (int i = 0; i < STORE_REJECTIONS_KEPT + 30; i++) {
		snprintf(reason, sizeof(reason), "bad signature %d", i);
		assert_int_equal(store_rejection_add(s, a, 1000 + i, "203.0.113.9", reason), 0);
	}
	assert_int_equal(store_rejection_add(s, b, 5, "2001:db8::1", "foreign address"), 0);
	struct store_rejection rj[STORE_REJECTIONS_KEPT + 10];
	int n = 0;
	assert_int_equal(store_rejection_list(s, a, STORE_REJECTIONS_KEPT + 10, rj, &n), 0);
	assert_int_equal(n, STORE_REJECTIONS_KEPT);
	/* newest first: the last one added, down to the 100th newest */
	assert_int_equal(rj[0].at, 1000 + STORE_REJECTIONS_KEPT + 29);
	assert_string_equal(rj[0].reason, "bad signature 129");
	assert_string_equal(rj[0].address, "203.0.113.9");
	assert_int_equal(rj[n - 1].at, 1030);
	for (int i = 1; i < n; i++)
		assert_true(rj[i].seq < rj[i - 1].seq);
	/* another source's are its own */
	assert_int_equal(store_rejection_list(s, b, 10, rj, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rj[0].reason, "foreign address");
	assert_int_equal(store_rejection_list(s, a, 3, rj, &n), 0);
	assert_int_equal(n, 3);

	/* a reason too long is cut on a character, never mid-way through one */
	char longr[600] = "";
	for (int i = 0; i < 200; i++)
		strcat(longr, "\xc3\xa9"); /* 400 bytes */
	assert_int_equal(store_rejection_add(s, b, 6, "10.0.0.1", longr), 0);
	assert_int_equal(store_rejection_list(s, b, 1, rj, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(rj[0].reason), 254);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_source_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejections_keep_the_newest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
