/*
 * test_store_requests: a delivery's stored request on the SQLite store. The
 * write batch stores a new delivery's request in the same transaction (or
 * nothing of it when the batch fails), every reader of open deliveries says
 * which request a delivery sends, and store_request_load gives back the
 * method, URL, headers and body byte for byte (NUL and non-UTF-8 bytes
 * included).
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
static int64_t company, webhook, event;

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "requests", false, sqlite_store_open);
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
	int64_t seqs[1] = {webhook};
	struct store_event_in ev = {.company_seq = company,
	                            .id = "ev-1",
	                            .event = "candidate.hired",
	                            .date_ms = 1000,
	                            .data = "{}",
	                            .datalen = 2,
	                            .nwebhooks = 1,
	                            .webhook_seqs = seqs};
	struct store_batch b = {.node = "n", .events = &ev, .nevents = 1};
	if (store_commit(s, &b, &err))
		fail_msg("commit: %s", err.msg);
	event = ev.seq;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

static const char body[] = "{\"a\":1}\0\xff\xfe tail";

static struct store_task find(int64_t seq)
{
	struct store_task t[64];
	int n = 0;
	assert_int_equal(store_open_after(s, 0, 64, t, &n), 0);
	for (int i = 0; i < n; i++)
		if (t[i].seq == seq)
			return t[i];
	fail_msg("delivery %lld is not open", (long long)seq);
	return t[0];
}

/* Deliveries with and without a request in one batch: each gets its own,
 * the readers carry request_seq, the load gives the exact bytes back. */
static void test_requests_stored_with_their_deliveries(void **state)
{
	(void)state;
	struct store_request_in r1 = {.method = "PUT",
	                              .url = "https://example.com/a?x=1",
	                              .headers = "{\"X-One\":\"1\"}",
	                              .body = body,
	                              .body_len = sizeof(body) - 1};
	struct store_request_in r2 = {
	    .method = "POST", .url = "https://example.com/b", .headers = "{}", .body_len = 0};
	struct store_delivery_in dl[3] = {
	    {.event_seq = event, .webhook_seq = webhook, .company_seq = company, .request = &r1},
	    {.event_seq = event, .webhook_seq = webhook, .company_seq = company},
	    {.event_seq = event, .webhook_seq = webhook, .company_seq = company, .request = &r2},
	};
	struct store_batch b = {.node = "n", .deliveries = dl, .ndeliveries = 3};
	struct gerr err = {0};
	assert_int_equal(store_commit(s, &b, &err), 0);
	assert_true(dl[0].request_seq > 0);
	assert_int_equal(dl[1].request_seq, 0);
	assert_true(dl[2].request_seq > 0 && dl[2].request_seq != dl[0].request_seq);

	/* every reader of open deliveries says what each sends */
	assert_int_equal(find(dl[0].seq).request_seq, dl[0].request_seq);
	assert_int_equal(find(dl[1].seq).request_seq, 0);
	assert_int_equal(find(dl[2].seq).request_seq, dl[2].request_seq);
	struct store_task t[64];
	int n = 0;
	assert_int_equal(store_open_for_webhook(s, webhook, dl[0].seq - 1, 1, t, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].request_seq, dl[0].request_seq);
	assert_int_equal(store_open_due(s, 0, 0, INT64_MAX, 64, t, &n), 0);
	int seen = 0;
	for (int i = 0; i < n; i++)
		if (t[i].seq == dl[2].seq && t[i].request_seq == dl[2].request_seq)
			seen++;
	assert_int_equal(seen, 1);
	int64_t one[1] = {dl[0].seq};
	assert_int_equal(store_load_owned(s, "n", one, 1, t, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].request_seq, dl[0].request_seq);

	struct store_request r;
	assert_int_equal(store_request_load(s, dl[0].request_seq, dl[0].seq, &r), 0);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.url, "https://example.com/a?x=1");
	assert_string_equal(r.headers, "{\"X-One\":\"1\"}");
	assert_int_equal(r.body_len, sizeof(body) - 1);
	assert_memory_equal(r.body, body, sizeof(body) - 1);
	store_request_free(&r);
	/* an empty body is zero bytes, not NULL */
	assert_int_equal(store_request_load(s, dl[2].request_seq, dl[2].seq, &r), 0);
	assert_int_equal(r.body_len, 0);
	assert_non_null(r.body);
	store_request_free(&r);

	assert_int_equal(store_request_load(s, dl[2].request_seq + 1000, dl[2].seq, &r),
	                 GERR_NOTFOUND);
}

/* A failed batch stores neither its deliveries nor their requests. */
static void test_failed_batch_stores_no_request(void **state)
{
	(void)state;
	struct store_request_in r1 = {.method = "POST",
	                              .url = "https://example.com/c",
	                              .headers = "{}",
	                              .body = "x",
	                              .body_len = 1};
	struct store_delivery_in ok = {
	    .event_seq = event, .webhook_seq = webhook, .company_seq = company, .request = &r1};
	struct store_batch b = {.node = "n", .deliveries = &ok, .ndeliveries = 1};
	struct gerr err = {0};
	assert_int_equal(store_commit(s, &b, &err), 0);
	int64_t before = ok.request_seq;

	/* a trigger refuses the batch's second delivery, after the first
	 * delivery and its request were written: the whole batch fails */
	sqlite3 *db = sqlite_store_handle(s);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TRIGGER no_more BEFORE INSERT ON deliveries"
	                              " WHEN NEW.webhook_seq = -7 BEGIN SELECT RAISE(ABORT, 'no');"
	                              " END",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	struct store_delivery_in dl[2] = {
	    {.event_seq = event, .webhook_seq = webhook, .company_seq = company, .request = &r1},
	    {.event_seq = event, .webhook_seq = -7, .company_seq = company, .request = &r1},
	};
	b.deliveries = dl;
	b.ndeliveries = 2;
	assert_int_not_equal(store_commit(s, &b, &err), 0);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_more", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*), max(seq) FROM requests", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t count = sqlite3_column_int64(st, 0), max = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	assert_int_equal(max, before); /* nothing of the failed batch */
	assert_int_equal(count, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_stored_with_their_deliveries),
	    cmocka_unit_test(test_failed_batch_stores_no_request),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
