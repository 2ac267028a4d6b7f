/*
 * test_store_receipts: receipts through the store's batch commit. A new
 * receipt is inserted once per (source, sender's id) and a repeat is counted
 * and answered with the first receipt's id; each new receipt is decided in
 * the commit against its entity, through the batch's decide callback, which
 * sees the entity as the earlier receipts of the same batch left it; the
 * entity's advance, the receipt's status and the deliveries the callback
 * adds are written with it; waiting receipts (a reorder window) are decided
 * later, each entity's in date order, including older ones not yet due.
 *
 * It runs on SQLite by default; with GANCHO_TEST_STORE_URL set (a
 * postgres:// URL) on that store instead: the integration test
 * test_store_receipts.py runs it so on a throwaway PostgreSQL server.
 *
 * The decide callback here is the plain order rule (apply when not older
 * than the entity, else stale), written inline: the store must not care
 * what the rule is, only when it is asked and what it writes.
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

#include "store/store.h"

static char path[256];
static struct store *s;
static int64_t company, webhook;

/* What the callback saw, in call order. */
static char seen[64][40];
static int nseen;
/* What the deliveries it makes send: a request of their own, or one an
 * earlier commit stored (none: the envelope). */
static const struct store_request_in *attach;
static int64_t attach_seq;

static int decide(void *ctx, struct store_batch *b, const struct store_receipt *r,
                  const struct store_entity *cur, struct store_verdict *v)
{
	(void)ctx;
	if (nseen < 64)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", r->msg_id);
	bool older = cur->exists && (r->date_us < cur->date_us ||
	                             (r->date_us == cur->date_us && r->date_ns < cur->date_ns));
	v->status = older ? RCP_STALE : RCP_ROUTED;
	v->advance = !older;
	v->kept = r->kept;
	v->keptlen = r->keptlen;
	if (!older) {
		struct store_delivery_in *d = store_batch_route(b);
		if (!d)
			return -1;
		d->webhook_seq = webhook;
		d->company_seq = r->company_seq;
		d->receipt_seq = r->seq;
		d->request = attach;
		d->request_seq = attach ? 0 : attach_seq;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	const char *url = getenv("GANCHO_TEST_STORE_URL");
	if (url && *url) {
		snprintf(path, sizeof(path), "%s", url);
	} else {
		snprintf(path, sizeof(path), "/tmp/gancho-test-receipts-%d.db", (int)getpid());
		unlink(path);
	}
	struct gerr err = {0};
	if (store_open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	struct store_company c;
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	if (store_company_create(s, "ACME", "[]", hash, &c, &err))
		fail_msg("company: %s", err.msg);
	company = c.seq;
	store_company_free(&c);
	struct store_webhook w = {.company_seq = company, .config = "{\"postbackUrl\":\"x\"}"};
	snprintf(w.id, sizeof(w.id), "wh-1");
	if (store_webhook_insert(s, &w, &err))
		fail_msg("webhook: %s", err.msg);
	webhook = w.seq;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(s);
	if (strncmp(path, "postgres", 8) == 0)
		return 0;
	unlink(path);
	char aux[300];
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
	return 0;
}

static struct store_receipt_in rin(const char *msg, int64_t date_us, const char *key,
                                   const char *kept, int64_t apply_at)
{
	static int n;
	static char ids[64][40];
	char *id = ids[n++ % 64];
	snprintf(id, 40, "rcp-%s-%d-%d", msg, n, (int)getpid());
	return (struct store_receipt_in){
	    .company_seq = company,
	    .source_seq = 7,
	    .id = id,
	    .msg_id = msg,
	    .event = "application.moved",
	    .date = "2019-06-19T00:00:00.000Z",
	    .date_us = date_us,
	    .entity_type = key ? "application" : NULL,
	    .entity_key = key,
	    .kept = kept,
	    .keptlen = kept ? strlen(kept) : 0,
	    .body = "{}",
	    .bodylen = 2,
	    .headers = "{}",
	    .verification = "ok",
	    .address = "127.0.0.1",
	    .apply_at = apply_at,
	};
}

static int commit(struct store_receipt_in *r, int n, int64_t due_before, struct store_batch *out)
{
	struct store_batch b = {.node = "n",
	                        .receipts = r,
	                        .nreceipts = n,
	                        .apply_due_before = due_before,
	                        .decide = decide};
	struct gerr err = {0};
	int rc = store_commit(s, &b, &err);
	if (out)
		*out = b;
	else
		free(b.routed);
	return rc;
}

static void test_duplicates_and_stale(void **state)
{
	(void)state;
	nseen = 0;
	/* one batch: a new entity, a newer receipt, an older one, and a repeat */
	struct store_receipt_in r[4] = {
	    rin("m1", 100, "app-1", "{\"step\":\"a\"}", 0),
	    rin("m2", 300, "app-1", "{\"step\":\"c\"}", 0),
	    rin("m3", 200, "app-1", "{\"step\":\"b\"}", 0),
	    rin("m1", 100, "app-1", "{\"step\":\"a\"}", 0),
	};
	struct store_batch b;
	assert_int_equal(commit(r, 4, 0, &b), 0);
	assert_false(r[0].duplicate);
	assert_int_equal(r[0].status, RCP_ROUTED);
	assert_int_equal(r[1].status, RCP_ROUTED);
	assert_int_equal(r[2].status, RCP_STALE);
	assert_true(r[3].duplicate);
	assert_string_equal(r[3].dup_id, r[0].id);
	assert_int_equal(nseen, 3); /* the repeat is never decided */
	assert_int_equal(b.nrouted, 2);
	assert_int_equal(b.routed[0].receipt_seq, r[0].seq);
	assert_int_equal(b.routed[1].receipt_seq, r[1].seq);
	assert_true(b.routed[0].seq > 0 && b.routed[1].seq > b.routed[0].seq);
	free(b.routed);

	/* a later batch: the repeat again is counted, never decided */
	struct store_receipt_in again = rin("m2", 300, "app-1", NULL, 0);
	nseen = 0;
	assert_int_equal(commit(&again, 1, 0, NULL), 0);
	assert_true(again.duplicate);
	assert_string_equal(again.dup_id, r[1].id);
	assert_int_equal(again.status, RCP_ROUTED);
	assert_int_equal(nseen, 0);

	/* read back: one receipt with its body, lists by filter, the entity */
	struct store_receipt got;
	assert_int_equal(store_receipt_get(s, company, r[0].id, &got), 0);
	assert_string_equal(got.msg_id, "m1");
	assert_int_equal(got.duplicates, 1);
	assert_int_equal(got.status, RCP_ROUTED);
	assert_int_equal(got.bodylen, 2);
	assert_memory_equal(got.body, "{}", 2);
	assert_string_equal(got.entity_key, "app-1");
	store_receipt_free(&got);
	assert_int_equal(store_receipt_get(s, company + 1, r[0].id, &got), GERR_NOTFOUND);
	struct store_receipt rows[8];
	int n = 0;
	struct store_receipt_filter f = {.status = -1, .entity_key = "app-1"};
	assert_int_equal(store_receipt_list(s, company, &f, 0, 8, rows, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].msg_id, "m3"); /* newest first */
	assert_int_equal(rows[0].bodylen, 0);      /* lists leave bodies out */
	for (int i = 0; i < n; i++)
		store_receipt_free(&rows[i]);
	f.status = RCP_STALE;
	assert_int_equal(store_receipt_list(s, company, &f, 0, 8, rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].msg_id, "m3");
	store_receipt_free(&rows[0]);
	struct store_receipt_filter by_source = {.status = -1, .source_seq = 8};
	assert_int_equal(store_receipt_list(s, company, &by_source, 0, 8, rows, &n), 0);
	assert_int_equal(n, 0);
	struct store_entity_row ent;
	assert_int_equal(store_entity_get(s, company, "application", "app-1", &ent), 0);
	assert_int_equal(ent.date_us, 300);
	assert_string_equal(ent.kept, "{\"step\":\"c\"}");
	assert_int_equal(ent.receipt_seq, r[1].seq);
	store_entity_free(&ent);
	assert_int_equal(store_entity_get(s, company, "application", "nope", &ent), GERR_NOTFOUND);
	/* the deliveries its route made, by receipt */
	struct store_delivery d[4];
	struct store_delivery_filter df = {.status = -1, .receipt_seq = r[1].seq};
	assert_int_equal(store_delivery_list(s, company, &df, 0, 4, d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].receipt_id, r[1].id);
	assert_string_equal(d[0].event, "application.moved");

	/* a receipt without entity is always applied */
	struct store_receipt_in free_r = rin("m9", 1, NULL, NULL, 0);
	assert_int_equal(commit(&free_r, 1, 0, NULL), 0);
	assert_int_equal(free_r.status, RCP_ROUTED);
}

static void test_reorder_window(void **state)
{
	(void)state;
	/* arrive newest first, each waiting until 1000 + its order */
	struct store_receipt_in r[4] = {
	    rin("w4", 4000, "app-2", "{\"n\":4}", 1000),
	    rin("w2", 2000, "app-2", "{\"n\":2}", 1001),
	    rin("w3", 3000, "app-2", "{\"n\":3}", 5000), /* not due at 1500, but older than w4 */
	    rin("w5", 5000, "app-2", "{\"n\":5}", 5000), /* not due, newer: keeps waiting */
	};
	assert_int_equal(commit(r, 4, 0, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i].status, RCP_WAITING);
	nseen = 0;
	struct store_batch b;
	assert_int_equal(commit(NULL, 0, 1500, &b), 0);
	assert_int_equal(b.applied, 3);
	assert_int_equal(nseen, 3);
	assert_string_equal(seen[0], "w2");
	assert_string_equal(seen[1], "w3");
	assert_string_equal(seen[2], "w4");
	assert_int_equal(b.nrouted, 3);
	free(b.routed);
	/* a late older one after the window went by is stale */
	struct store_receipt_in late = rin("w1", 1000, "app-2", NULL, 0);
	assert_int_equal(commit(&late, 1, 0, NULL), 0);
	assert_int_equal(late.status, RCP_STALE);
	nseen = 0;
	assert_int_equal(commit(NULL, 0, 6000, &b), 0);
	assert_int_equal(b.applied, 1);
	assert_string_equal(seen[0], "w5");
	free(b.routed);
	/* nothing left */
	assert_int_equal(commit(NULL, 0, 999999, &b), 0);
	assert_int_equal(b.applied, 0);
	free(b.routed);
}

/* A shared request (STORE_BODY_OWN_RECEIPT): stored once, named by the
 * deliveries of later commits, and loaded for each delivery with that
 * delivery's own receipt's body; a request naming one receipt is not
 * shared; a delivery without a receipt has no body to send. */
static void test_shared_request(void **state)
{
	(void)state;
	const struct store_request_in shared = {.method = "POST",
	                                        .url = "https://example.com/fwd",
	                                        .headers =
	                                            "{\"Content-Type\":\"application/json\"}",
	                                        .body_receipt_seq = STORE_BODY_OWN_RECEIPT};
	struct store_receipt_in a = rin("shared-a", 1, NULL, NULL, 0);
	a.body = "{\"a\":1}";
	a.bodylen = strlen(a.body);
	struct store_batch b;
	attach = &shared;
	assert_int_equal(commit(&a, 1, 0, &b), 0);
	assert_int_equal(b.nrouted, 1);
	int64_t req = b.routed[0].request_seq, da = b.routed[0].seq;
	assert_true(req > 0);
	free(b.routed);

	struct store_receipt_in r2 = rin("shared-b", 2, NULL, NULL, 0);
	r2.body = "{\"b\":\"\\u0000 two\"}";
	r2.bodylen = strlen(r2.body);
	attach = NULL;
	attach_seq = req;
	assert_int_equal(commit(&r2, 1, 0, &b), 0);
	attach_seq = 0;
	assert_int_equal(b.nrouted, 1);
	assert_int_equal(b.routed[0].request_seq, req); /* no new request row */
	int64_t db = b.routed[0].seq;
	free(b.routed);
	struct store_task t[64];
	int n = 0;
	assert_int_equal(store_open_after(s, da - 1, 64, t, &n), 0);
	assert_true(n >= 2);
	assert_int_equal(t[0].request_seq, req);
	assert_int_equal(t[1].request_seq, req);

	struct store_request q;
	assert_int_equal(store_request_load(s, req, da, &q), 0);
	assert_true(q.own_receipt);
	assert_string_equal(q.method, "POST");
	assert_string_equal(q.url, "https://example.com/fwd");
	assert_int_equal(q.body_len, a.bodylen);
	assert_memory_equal(q.body, a.body, a.bodylen);
	store_request_free(&q);
	assert_int_equal(store_request_load(s, req, db, &q), 0);
	assert_int_equal(q.body_len, r2.bodylen);
	assert_memory_equal(q.body, r2.body, r2.bodylen);
	store_request_free(&q);
	/* no such delivery: no receipt, no body */
	assert_int_equal(store_request_load(s, req, db + 1000, &q), GERR_NOTFOUND);

	/* a request naming its receipt is that receipt's, whatever the delivery */
	const struct store_request_in named = {.method = "PUT",
	                                       .url = "https://example.com/one",
	                                       .headers = "{}",
	                                       .body_receipt_seq = 0};
	struct store_receipt_in c = rin("shared-c", 3, NULL, NULL, 0);
	c.body = "{\"c\":3}";
	c.bodylen = strlen(c.body);
	struct store_request_in own = named;
	attach = &own;
	own.body = "raw";
	own.body_len = 3;
	assert_int_equal(commit(&c, 1, 0, &b), 0);
	attach = NULL;
	int64_t reqc = b.routed[0].request_seq;
	assert_true(reqc > 0 && reqc != req);
	assert_int_equal(store_request_load(s, reqc, da, &q), 0);
	assert_false(q.own_receipt);
	assert_memory_equal(q.body, "raw", 3);
	store_request_free(&q);
	free(b.routed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duplicates_and_stale),
	    cmocka_unit_test(test_reorder_window),
	    cmocka_unit_test(test_shared_request),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
