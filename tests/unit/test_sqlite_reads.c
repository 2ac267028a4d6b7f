/*
 * test_sqlite_reads: a read that fails part-way in the SQLite store is an
 * error, never "no more rows". The engine's refill takes an empty page for
 * "the store holds no more open work" and leaves overflow, so a failed read
 * that looked like one would park deliveries until a restart; a failed
 * single-row read that looked like "not found" would drop a webhook from the
 * registry or fail a delivery whose event exists.
 *
 * Reads are made to fail for real: a progress handler on the store's own
 * connection interrupts SQLite's virtual machine (SQLITE_INTERRUPT), as a
 * lock timeout or an I/O error would stop it.
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
#include <sqlite3.h>

#include "store/backend.h"
#include "store/store.h"
#include "store_fixture.h"

static char path[256];
static struct store *s;
static int64_t company, webhook;

static int interrupt_now(void *ctx)
{
	(void)ctx;
	return 1;
}

static void fail_reads(bool on)
{
	sqlite3_progress_handler(sqlite_store_handle(s), on ? 1 : 0, on ? interrupt_now : NULL,
	                         NULL);
}

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "reads", false, sqlite_store_open);
	struct gerr err = {0};
	struct store_company c;
	if (store_company_create(s, "ACME", "[]", "aaaa", &c, &err))
		fail_msg("company: %s", err.msg);
	company = c.seq;
	store_company_free(&c);
	struct store_webhook w = {.company_seq = company, .config = "{\"postbackUrl\":\"x\"}"};
	snprintf(w.id, sizeof(w.id), "wh-1");
	if (store_webhook_insert(s, &w, &err))
		fail_msg("webhook: %s", err.msg);
	webhook = w.seq;
	/* ten events, each with one open delivery */
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof(id), "ev-%d", i);
		int64_t seqs[1] = {webhook};
		struct store_event_in ev = {.company_seq = company,
		                            .id = id,
		                            .event = "candidate.hired",
		                            .date_ms = 1000 + i,
		                            .data = "{}",
		                            .datalen = 2,
		                            .nwebhooks = 1,
		                            .webhook_seqs = seqs};
		struct store_batch b = {.node = "n", .events = &ev, .nevents = 1};
		if (store_commit(s, &b, &err))
			fail_msg("commit: %s", err.msg);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

static void count_token(void *ctx, const char *hash, int64_t company_seq)
{
	(void)hash;
	(void)company_seq;
	(*(int *)ctx)++;
}

static void count_webhook(void *ctx, struct store_webhook *w)
{
	(void)w;
	(*(int *)ctx)++;
}

/* The engine's readers: refill, due scan, a webhook's open work, bodies. */
static void test_task_reads_fail_loudly(void **state)
{
	(void)state;
	struct store_task t[32];
	int n = -1;
	assert_int_equal(store_open_after(s, 0, 32, t, &n), 0);
	assert_int_equal(n, 10);

	fail_reads(true);
	n = -1;
	assert_int_not_equal(store_open_after(s, 0, 32, t, &n), 0);
	assert_int_equal(n, 0);
	assert_int_not_equal(store_open_for_webhook(s, webhook, 0, 32, t, &n), 0);
	assert_int_not_equal(store_open_due(s, 0, 0, INT64_MAX, 32, t, &n), 0);
	struct store_event ev;
	int rc = store_event_load(s, t[0].event_seq, &ev);
	assert_int_not_equal(rc, 0);
	assert_int_not_equal(rc, GERR_NOTFOUND); /* the event exists */
	fail_reads(false);

	/* and the same reads work again */
	assert_int_equal(store_open_for_webhook(s, webhook, 0, 32, t, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(store_event_load(s, t[0].event_seq, &ev), 0);
	store_event_free(&ev);
}

/* The API's and the registry's readers. */
static void test_listing_reads_fail_loudly(void **state)
{
	(void)state;
	struct store_company cs[4];
	struct store_webhook ws[4];
	struct store_delivery ds[16];
	struct store_attempt as[4];
	struct store_event es[16];
	struct store_opevent os[4];
	struct store_delivery_filter f = {.webhook_seq = 0, .status = -1, .event = NULL};
	int n = -1, count = 0;

	fail_reads(true);
	assert_int_not_equal(store_company_list(s, 0, 4, cs, &n), 0);
	assert_int_not_equal(store_webhook_list(s, company, 0, 4, ws, &n), 0);
	assert_int_not_equal(store_delivery_list(s, company, &f, 0, 16, ds, &n), 0);
	assert_int_not_equal(store_attempt_list(s, 1, 0, 4, as, &n), 0);
	assert_int_not_equal(store_attempt_latest(s, 1, 4, as, &n), 0);
	assert_int_not_equal(store_event_range(s, company, 0, INT64_MAX, 0, 16, es, &n), 0);
	assert_int_not_equal(store_opevent_list(s, company, 0, 4, os, &n), 0);
	assert_int_not_equal(store_token_each(s, count_token, &count), 0);
	assert_int_not_equal(store_webhook_each(s, count_webhook, &count), 0);
	/* "not found" is only for rows that are not there */
	struct store_company c;
	struct store_webhook w;
	struct store_delivery d;
	struct store_event e;
	int rc = store_company_get(s, company, &c);
	assert_true(rc != 0 && rc != GERR_NOTFOUND);
	rc = store_webhook_by_seq(s, webhook, &w);
	assert_true(rc != 0 && rc != GERR_NOTFOUND);
	rc = store_webhook_get(s, company, "wh-1", &w);
	assert_true(rc != 0 && rc != GERR_NOTFOUND);
	rc = store_delivery_get(s, company, 1, &d);
	assert_true(rc != 0 && rc != GERR_NOTFOUND);
	rc = store_event_get(s, company, "ev-1", &e);
	assert_true(rc != 0 && rc != GERR_NOTFOUND);
	fail_reads(false);

	assert_int_equal(store_company_list(s, 0, 4, cs, &n), 0);
	assert_int_equal(n, 1);
	store_company_free(&cs[0]);
	assert_int_equal(store_delivery_list(s, company, &f, 0, 16, ds, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(store_event_range(s, company, 0, INT64_MAX, 0, 16, es, &n), 0);
	assert_int_equal(n, 10);
	for (int i = 0; i < n; i++)
		store_event_free(&es[i]);
	count = 0;
	assert_int_equal(store_token_each(s, count_token, &count), 0);
	assert_int_equal(store_webhook_each(s, count_webhook, &count), 0);
	assert_int_equal(count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_task_reads_fail_loudly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listing_reads_fail_loudly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
