/*
 * test_store_outcomes: what the dispatcher reports (a batch's outcomes) only
 * changes an open delivery. Once the API has ended one (its webhook deleted:
 * store_webhook_fail_open), a late outcome — a hold, a retry, even a success
 * of an attempt in flight — leaves it failed with the API's reason, and the
 * attempt is still recorded.
 *
 * Runs on SQLite here; test_store_outcomes.py runs it on a throwaway
 * PostgreSQL server (GANCHO_TEST_STORE_URL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

static char path[256];
static struct store *s;
static int64_t company, webhook;

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "outcomes", true, store_open);
	struct gerr err = {0};
	struct store_company c;
	char name[64], hash[65];
	/* a fresh company on a shared PostgreSQL database too */
	snprintf(name, sizeof(name), "outcomes-%d", (int)getpid());
	snprintf(hash, sizeof(hash), "%064x", (unsigned)getpid());
	if (store_company_create(s, name, "[]", hash, &c, &err))
		fail_msg("company: %s", err.msg);
	company = c.seq;
	store_company_free(&c);
	struct store_webhook w = {.company_seq = company, .config = "{\"postbackUrl\":\"x\"}"};
	snprintf(w.id, sizeof(w.id), "wh-outcomes-%d", (int)getpid());
	if (store_webhook_insert(s, &w, &err))
		fail_msg("webhook: %s", err.msg);
	webhook = w.seq;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

/* one_delivery: an event for the webhook; its delivery's seq. */
static int64_t one_delivery(const char *event_id)
{
	struct gerr err = {0};
	int64_t seqs[1] = {webhook};
	struct store_event_in ev = {.company_seq = company,
	                            .id = event_id,
	                            .event = "candidate.hired",
	                            .date_ms = 1000,
	                            .data = "{}",
	                            .datalen = 2,
	                            .nwebhooks = 1,
	                            .webhook_seqs = seqs};
	struct store_batch b = {.node = "n", .events = &ev, .nevents = 1};
	if (store_commit(s, &b, &err))
		fail_msg("commit: %s", err.msg);
	struct store_delivery_filter f = {.webhook_seq = webhook, .status = -1, .event = NULL};
	struct store_delivery d[1];
	int n = 0;
	assert_int_equal(store_delivery_list(s, company, &f, 0, 1, d, &n), 0);
	assert_int_equal(n, 1);
	return d[0].seq;
}

static void report(struct store_outcome *o)
{
	struct gerr err = {0};
	struct store_batch b = {.node = "n", .outcomes = o, .noutcomes = 1};
	if (store_commit(s, &b, &err))
		fail_msg("commit: %s", err.msg);
}

static void test_late_outcomes_leave_an_ended_delivery_ended(void **state)
{
	(void)state;
	char id[64];
	snprintf(id, sizeof(id), "ev-outcomes-%d", (int)getpid());
	int64_t seq = one_delivery(id);
	assert_true(store_webhook_fail_open(s, webhook, "webhook deleted", 2000) >= 1);

	/* a hold, then the success of an attempt that was in flight */
	struct store_outcome hold = {.delivery_seq = seq, .status = DLV_HELD};
	report(&hold);
	struct store_outcome ok = {.delivery_seq = seq,
	                           .status = DLV_DELIVERED,
	                           .attempts = 1,
	                           .first_attempt_at = 2100,
	                           .at = 2100,
	                           .http_status = 200,
	                           .latency_ms = 3};
	report(&ok);

	struct store_delivery d;
	assert_int_equal(store_delivery_get(s, company, seq, &d), 0);
	assert_int_equal(d.status, DLV_FAILED);
	assert_string_equal(d.last_error, "webhook deleted");
	struct store_attempt a[2];
	int n = 0;
	assert_int_equal(store_attempt_list(s, seq, 0, 2, a, &n), 0);
	assert_int_equal(n, 1); /* what happened is still on record */
	assert_int_equal(a[0].http_status, 200);
	for (int i = 0; i < n; i++)
		store_attempt_free(&a[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_late_outcomes_leave_an_ended_delivery_ended),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
