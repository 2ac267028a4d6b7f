/*
 * test_store_errors: the store's error contract (store.h, "Errors"), checked
 * on the SQLite backend: a database failure is GERR_IO (with a struct gerr
 * saying 503 "unavailable" where the call takes one, and *n = 0 for lists),
 * GERR_NOTFOUND only for a row that is not there, GERR_CONFLICT for a
 * refusal. postgres.c returns the same codes (its calls map a failed
 * statement to GERR_IO); this file pins the SQLite side, where a stray -1
 * (GERR_INVALID, "bad input") once came out of store_ping.
 *
 * Failures are real: a progress handler on the store's own connection
 * interrupts SQLite's virtual machine (SQLITE_INTERRUPT), as a lock timeout
 * or an I/O error would stop it (see test_sqlite_reads.c).
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
static char token_id[TOKEN_ID_LEN + 1];

static int interrupt_now(void *ctx)
{
	(void)ctx;
	return 1;
}

static void fail_all(bool on)
{
	sqlite3_progress_handler(sqlite_store_handle(s), on ? 1 : 0, on ? interrupt_now : NULL,
	                         NULL);
}

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "errors", false, sqlite_store_open);
	struct gerr err = {0};
	struct store_company c;
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	if (store_company_create(s, "ACME", "[]", hash, &c, &err))
		fail_msg("company: %s", err.msg);
	company = c.seq;
	store_company_free(&c);
	snprintf(token_id, sizeof(token_id), "%.*s", TOKEN_ID_LEN, hash);
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
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

static void count(void *ctx, const char *hash, int64_t company_seq)
{
	(void)hash, (void)company_seq;
	(*(int *)ctx)++;
}

static void assert_unavailable(int rc, const struct gerr *err)
{
	assert_int_equal(rc, GERR_IO);
	assert_int_equal(err->status, 503);
	assert_string_equal(err->code, "unavailable");
}

/* A failing database is GERR_IO from every call, never another code. */
static void test_failure_is_io(void **state)
{
	(void)state;
	struct store_company cs[2], c;
	struct store_webhook ws[2], w = {.seq = webhook, .config = "{}"};
	struct store_delivery ds[2], d;
	struct store_attempt as[2];
	struct store_event es[2], e;
	struct store_opevent os[2];
	struct store_token ts[2];
	struct store_task t[2];
	struct store_delivery_filter f = {.webhook_seq = 0, .status = -1, .event = NULL};
	struct gerr err = {0};
	int64_t seq = 0, one = 1;
	char hash[65];
	int n, k = 0;

	fail_all(true);
	assert_int_equal(store_ping(s), GERR_IO);
#define LIST(call)                                                                                 \
	do {                                                                                       \
		n = -1;                                                                            \
		assert_int_equal(call, GERR_IO);                                                   \
		assert_int_equal(n, 0);                                                            \
	} while (0)
	LIST(store_open_after(s, 0, 2, t, &n));
	LIST(store_open_for_webhook(s, webhook, 0, 2, t, &n));
	LIST(store_open_due(s, 0, 0, INT64_MAX, 2, t, &n));
	LIST(store_claim(s, "n", INT64_MAX, 2, t, &n));
	LIST(store_load_owned(s, "n", &one, 1, t, &n));
	LIST(store_company_list(s, 0, 2, cs, &n));
	LIST(store_token_list(s, company, ts, 2, &n));
	LIST(store_webhook_list(s, company, 0, 2, ws, &n));
	LIST(store_delivery_list(s, company, &f, 0, 2, ds, &n));
	LIST(store_attempt_list(s, 1, 0, 2, as, &n));
	LIST(store_attempt_latest(s, 1, 2, as, &n));
	LIST(store_event_range(s, company, 0, INT64_MAX, 0, 2, es, &n));
	LIST(store_opevent_list(s, company, 0, 2, os, &n));
#undef LIST
	assert_int_equal(store_token_each(s, count, &k), GERR_IO);
	assert_int_equal(store_event_load(s, 1, &e), GERR_IO);
	assert_int_equal(store_company_get(s, company, &c), GERR_IO);
	assert_int_equal(store_token_lookup(s, "x", &seq), GERR_IO);
	assert_int_equal(store_webhook_by_seq(s, webhook, &w), GERR_IO);
	assert_int_equal(store_webhook_get(s, company, "wh-1", &w), GERR_IO);
	assert_int_equal(store_delivery_get(s, company, 1, &d), GERR_IO);
	assert_int_equal(store_event_get(s, company, "ev-1", &e), GERR_IO);
	/* writes */
	assert_int_equal(store_company_set_event_types(s, company, "[]"), GERR_IO);
	assert_int_equal(store_token_add(s, company, "ffff"), GERR_IO);
	w.seq = webhook;
	w.config = "{}";
	assert_int_equal(store_webhook_update(s, &w), GERR_IO);
	assert_int_equal(store_webhook_release_held(s, webhook, 1), GERR_IO);
	assert_int_equal(store_webhook_fail_open(s, webhook, "x", 1), GERR_IO);
	assert_int_equal(store_delivery_set_aside(s, 1, "x", "y", 1), GERR_IO);
	assert_unavailable(store_company_create(s, "Other", "[]", "eeee", &c, &err), &err);
	struct store_webhook nw = {.company_seq = company, .config = "{}"};
	snprintf(nw.id, sizeof(nw.id), "wh-2");
	memset(&err, 0, sizeof(err));
	assert_unavailable(store_webhook_insert(s, &nw, &err), &err);
	memset(&err, 0, sizeof(err));
	assert_unavailable(store_token_revoke(s, company, token_id, hash, &err), &err);
	memset(&err, 0, sizeof(err));
	assert_unavailable(store_delivery_retry(s, company, 1, 1, t, &err), &err);
	struct store_webhook_change ch = {.webhook_seq = webhook, .succeeded = true};
	struct store_batch b = {.node = "n", .changes = &ch, .nchanges = 1};
	memset(&err, 0, sizeof(err));
	assert_unavailable(store_commit(s, &b, &err), &err);
	fail_all(false);
	assert_int_equal(store_ping(s), 0);
}

/* GERR_NOTFOUND is for rows that are not there. */
static void test_absent_is_notfound(void **state)
{
	(void)state;
	struct store_company c;
	struct store_webhook w;
	struct store_delivery d;
	struct store_event e;
	struct store_task t;
	struct gerr err = {0};
	int64_t seq = 0;
	char hash[65];
	assert_int_equal(store_company_get(s, 999, &c), GERR_NOTFOUND);
	assert_int_equal(store_token_lookup(s, "nope", &seq), GERR_NOTFOUND);
	assert_int_equal(store_webhook_by_seq(s, 999, &w), GERR_NOTFOUND);
	assert_int_equal(store_webhook_get(s, company, "wh-9", &w), GERR_NOTFOUND);
	assert_int_equal(store_delivery_get(s, company, 999, &d), GERR_NOTFOUND);
	assert_int_equal(store_event_get(s, company, "ev-9", &e), GERR_NOTFOUND);
	assert_int_equal(store_event_load(s, 999, &e), GERR_NOTFOUND);
	assert_int_equal(store_token_revoke(s, company, "ffffffffffffffff", hash, &err),
	                 GERR_NOTFOUND);
	assert_int_equal(err.status, 404);
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_delivery_retry(s, company, 999, 1, &t, &err), GERR_NOTFOUND);
	assert_int_equal(err.status, 404);
	/* moves of rows that are not there change nothing: 0 rows, not an error */
	assert_int_equal(store_delivery_set_aside(s, 999, "x", "y", 1), 0);
	assert_int_equal(store_webhook_release_held(s, 999, 1), 0);
}

/* GERR_CONFLICT is a refusal: the row exists but the change cannot be made. */
static void test_refusal_is_conflict(void **state)
{
	(void)state;
	struct store_company c;
	struct store_task t;
	struct gerr err = {0};
	char hash[65];
	assert_int_equal(store_company_create(s, "ACME", "[]", "dddd", &c, &err), GERR_CONFLICT);
	assert_int_equal(err.status, 409);
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_token_revoke(s, company, token_id, hash, &err), GERR_CONFLICT);
	assert_int_equal(err.status, 409);
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_delivery_retry(s, company, 1, 1, &t, &err), GERR_CONFLICT);
	assert_int_equal(err.status, 409);
}

static void noop_source(void *ctx, struct store_source *src)
{
	(void)ctx, (void)src;
}

/* Sources and rejections keep the same contract. */
static void test_sources_keep_the_contract(void **state)
{
	(void)state;
	struct gerr err = {0};
	struct store_source src = {.company_seq = company, .name = "Gupy", .config = "{}"};
	snprintf(src.id, sizeof(src.id), "src-1");
	src.created_at = src.updated_at = 1;
	assert_int_equal(store_source_insert(s, &src, &err), 0);
	struct store_source out, list[2];
	struct store_rejection rj[2];
	int n;
	/* absent rows */
	assert_int_equal(store_source_get(s, company, "src-9", &out), GERR_NOTFOUND);
	assert_int_equal(store_source_get(s, company + 1, "src-1", &out), GERR_NOTFOUND);
	assert_int_equal(store_source_by_seq(s, 999, &out), GERR_NOTFOUND);
	struct store_source gone = {.seq = 999, .name = "x", .config = "{}"};
	assert_int_equal(store_source_update(s, &gone), GERR_NOTFOUND);
	assert_int_equal(store_source_delete(s, 999, 2), GERR_NOTFOUND);
	/* a failing database */
	fail_all(true);
	struct store_source other = {.company_seq = company, .name = "Other", .config = "{}"};
	snprintf(other.id, sizeof(other.id), "src-2");
	assert_unavailable(store_source_insert(s, &other, &err), &err);
	assert_int_equal(store_source_update(s, &src), GERR_IO);
	assert_int_equal(store_source_delete(s, src.seq, 2), GERR_IO);
	assert_int_equal(store_source_get(s, company, "src-1", &out), GERR_IO);
	assert_int_equal(store_source_by_seq(s, src.seq, &out), GERR_IO);
	assert_int_equal(store_source_each(s, noop_source, NULL), GERR_IO);
	assert_int_equal(store_rejection_add(s, src.seq, 1, "10.0.0.1", "x"), GERR_IO);
	n = -1;
	assert_int_equal(store_source_list(s, company, 0, 2, list, &n), GERR_IO);
	assert_int_equal(n, 0);
	n = -1;
	assert_int_equal(store_rejection_list(s, src.seq, 2, rj, &n), GERR_IO);
	assert_int_equal(n, 0);
	fail_all(false);
	/* a failed rejection_add left nothing behind and no transaction open */
	assert_int_equal(store_rejection_list(s, src.seq, 2, rj, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_rejection_add(s, src.seq, 1, "10.0.0.1", "x"), 0);
}

/* Routes: a failing database is GERR_IO (nothing half-written), an absent
 * route GERR_NOTFOUND; a route and its targets are written together, and
 * the API's webhook reads never return a target while the engine's do. */
static void count_route(void *ctx, struct store_route *r)
{
	(void)r;
	(*(int *)ctx)++;
}

static void test_routes(void **state)
{
	(void)state;
	struct gerr err = {0};
	struct store_route r = {.company_seq = company, .status = WH_ACTIVE, .config = "{}"}, rs[2],
	                   got;
	struct store_webhook t[2] = {{.company_seq = company, .config = "{\"a\":1}"},
	                             {.company_seq = company, .config = "{\"b\":2}"}},
	                     w;
	snprintf(r.id, sizeof(r.id), "route-1");
	snprintf(r.name, sizeof(r.name), "r");
	snprintf(t[0].id, sizeof(t[0].id), "t-1");
	snprintf(t[1].id, sizeof(t[1].id), "t-2");
	int n = -1, k = 0;

	fail_all(true);
	assert_unavailable(store_route_write(s, &r, t, 2, &err), &err);
	assert_int_equal(r.seq, 0);
	assert_int_equal(t[0].seq, 0);
	assert_int_equal(store_route_get(s, company, "route-1", &got), GERR_IO);
	assert_int_equal(store_route_list(s, company, 0, 2, rs, &n), GERR_IO);
	assert_int_equal(n, 0);
	assert_int_equal(store_route_each(s, count_route, &k), GERR_IO);
	fail_all(false);
	assert_int_equal(store_route_get(s, company, "route-1", &got), GERR_NOTFOUND);

	assert_int_equal(store_route_write(s, &r, t, 2, &err), 0);
	assert_true(r.seq > 0 && t[0].seq > 0 && t[1].seq > t[0].seq);
	assert_int_equal(store_route_get(s, company, "route-1", &got), 0);
	assert_int_equal(got.ntargets, 2);
	assert_int_equal(got.target_seqs[0], t[0].seq);
	assert_int_equal(got.target_seqs[1], t[1].seq);
	store_route_free(&got);
	assert_int_equal(store_route_get(s, company + 1, "route-1", &got), GERR_NOTFOUND);
	assert_int_equal(store_webhook_get(s, company, "t-1", &w), GERR_NOTFOUND);
	struct store_webhook ws[4];
	assert_int_equal(store_webhook_list(s, company, 0, 4, ws, &n), 0);
	assert_int_equal(n, 1); /* wh-1 of setup, not the targets */
	store_webhook_free(&ws[0]);
	assert_int_equal(store_webhook_by_seq(s, t[1].seq, &w), 0);
	assert_string_equal(w.config, "{\"b\":2}");
	store_webhook_free(&w);

	/* the second action removed: its target is gone, the route keeps one */
	t[1].status = WH_DELETED;
	assert_int_equal(store_route_write(s, &r, t, 2, &err), 0);
	assert_int_equal(store_route_list(s, company, 0, 2, rs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rs[0].ntargets, 1);
	store_route_free(&rs[0]);
	assert_int_equal(store_webhook_by_seq(s, t[1].seq, &w), GERR_NOTFOUND);
	r.status = WH_DELETED;
	assert_int_equal(store_route_write(s, &r, t, 1, &err), 0);
	assert_int_equal(store_route_each(s, count_route, &k), 0);
	assert_int_equal(k, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_failure_is_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absent_is_notfound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusal_is_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sources_keep_the_contract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
