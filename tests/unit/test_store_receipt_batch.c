/*
 * test_store_receipt_batch: one commit with many receipts of several
 * entities, receipts without one, repeats (of a receipt of the same batch,
 * of a stored one, of one that waits) and a waiting receipt, as the
 * array-shaped receipt path of the store takes them in: every new receipt
 * is decided once, in batch order, against its entity as the receipts
 * before it in the batch left it; a repeat answers with its first's id and
 * status (the first's decided status when the first is in the same batch)
 * and is counted on it; each entity ends in the state of its newest applied
 * receipt; each routed delivery names its receipt's seq.
 *
 * SQLite here; on PostgreSQL through test_store_receipt_batch.py
 * (GANCHO_TEST_STORE_URL), like test_store_receipts.
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
static char seen[64][40];
static int nseen;

/* decide: the plain order rule; kept is the receipt's own fields merged by
 * replacement (enough here); each applied receipt makes one delivery. */
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
	if (older)
		return 0;
	struct store_delivery_in *d = store_batch_route(b);
	if (!d)
		return -1;
	d->webhook_seq = webhook;
	d->company_seq = r->company_seq;
	d->receipt_seq = r->seq;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	const char *url = getenv("GANCHO_TEST_STORE_URL");
	if (url && *url) {
		snprintf(path, sizeof(path), "%s", url);
	} else {
		snprintf(path, sizeof(path), "/tmp/gancho-test-rbatch-%d.db", (int)getpid());
		unlink(path);
	}
	struct gerr err = {0};
	if (store_open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	struct store_company c;
	const char *hash = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	if (store_company_create(s, "Batch", "[]", hash, &c, &err))
		fail_msg("company: %s", err.msg);
	company = c.seq;
	store_company_free(&c);
	struct store_webhook w = {.company_seq = company, .config = "{\"postbackUrl\":\"x\"}"};
	snprintf(w.id, sizeof(w.id), "wh-b-%d", (int)getpid());
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
	char aux[300];
	unlink(path);
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
	snprintf(id, 40, "rb-%s-%d-%d", msg, n, (int)getpid());
	return (struct store_receipt_in){
	    .company_seq = company,
	    .source_seq = 11,
	    .id = id,
	    .msg_id = msg,
	    .event = "application.moved",
	    .date = "2019-06-19T00:00:00.000Z",
	    .date_us = date_us,
	    .entity_type = key ? "application" : NULL,
	    .entity_key = key,
	    .kept = kept,
	    .keptlen = kept ? strlen(kept) : 0,
	    .body = "{\"b\":1}",
	    .bodylen = 7,
	    .headers = "{}",
	    .verification = "ok",
	    .address = "127.0.0.1",
	    .apply_at = apply_at,
	};
}

static int commit(struct store_receipt_in *r, int n, struct store_batch *out)
{
	struct store_batch b = {.node = "n", .receipts = r, .nreceipts = n, .decide = decide};
	struct gerr err = {0};
	int rc = store_commit(s, &b, &err);
	if (out)
		*out = b;
	else
		free(b.routed);
	return rc;
}

static void expect_entity(const char *key, int64_t date_us, const char *kept, int64_t seq)
{
	struct store_entity_row e;
	assert_int_equal(store_entity_get(s, company, "application", key, &e), 0);
	assert_int_equal(e.date_us, date_us);
	assert_string_equal(e.kept, kept);
	assert_int_equal(e.receipt_seq, seq);
	store_entity_free(&e);
}

static int duplicates_of(const char *id)
{
	struct store_receipt r;
	assert_int_equal(store_receipt_get(s, company, id, &r), 0);
	int n = r.duplicates;
	store_receipt_free(&r);
	return n;
}

static void test_one_batch_many_entities(void **state)
{
	(void)state;
	/* stored before: b-1 at 500, and a receipt that waits */
	struct store_receipt_in before[2] = {
	    rin("old", 500, "b-1", "{\"n\":\"old\"}", 0),
	    rin("wait", 900, "b-3", "{\"n\":\"w\"}", 99999999),
	};
	assert_int_equal(commit(before, 2, NULL), 0);
	assert_int_equal(before[0].status, RCP_ROUTED);
	assert_int_equal(before[1].status, RCP_WAITING);

	nseen = 0;
	struct store_receipt_in r[12] = {
	    rin("a1", 600, "b-1", "{\"n\":\"a1\"}", 0),  /* 0: newer than stored: applied */
	    rin("c1", 100, "b-2", "{\"n\":\"c1\"}", 0),  /* 1: new entity */
	    rin("x1", 50, NULL, NULL, 0),                /* 2: no entity */
	    rin("a2", 400, "b-1", "{\"n\":\"a2\"}", 0),  /* 3: older than stored: stale */
	    rin("c2", 300, "b-2", "{\"n\":\"c2\"}", 0),  /* 4: newer than c1 */
	    rin("a1", 600, "b-1", "{\"n\":\"a1\"}", 0),  /* 5: repeat of 0 */
	    rin("old", 500, "b-1", NULL, 0),             /* 6: repeat of a stored one */
	    rin("c3", 200, "b-2", "{\"n\":\"c3\"}", 0),  /* 7: older than c2 (same batch): stale */
	    rin("wait", 900, "b-3", NULL, 0),            /* 8: repeat of a waiting one */
	    rin("d1", 700, "b-4", "{\"n\":\"d1\"}", 10), /* 9: waits */
	    rin("a3", 800, "b-1", "{\"n\":\"a3\"}", 0),  /* 10: newest of b-1 */
	    rin("c3", 200, "b-2", NULL, 0),              /* 11: repeat of 7 (stale) */
	};
	struct store_batch b;
	assert_int_equal(commit(r, 12, &b), 0);
	/* decided once each, in batch order; repeats and the waiting one never */
	const char *order[] = {"a1", "c1", "x1", "a2", "c2", "c3", "a3"};
	assert_int_equal(nseen, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(seen[i], order[i]);
	const int want[12] = {RCP_ROUTED,  RCP_ROUTED,  RCP_ROUTED, RCP_STALE,
	                      RCP_ROUTED,  RCP_ROUTED,  RCP_ROUTED, RCP_STALE,
	                      RCP_WAITING, RCP_WAITING, RCP_ROUTED, RCP_STALE};
	const int dup_of[12] = {-1, -1, -1, -1, -1, 0, -2, -1, -3, -1, -1, 7};
	for (int i = 0; i < 12; i++) {
		assert_int_equal(r[i].status, want[i]);
		assert_int_equal(r[i].duplicate, dup_of[i] != -1);
		if (dup_of[i] >= 0)
			assert_string_equal(r[i].dup_id, r[dup_of[i]].id);
	}
	assert_string_equal(r[6].dup_id, before[0].id);
	assert_string_equal(r[8].dup_id, before[1].id);
	/* distinct seqs for the new ones, in batch order */
	int64_t last = 0;
	for (int i = 0; i < 12; i++)
		if (!r[i].duplicate) {
			assert_true(r[i].seq > last);
			last = r[i].seq;
		}
	/* one delivery per applied receipt, naming it */
	const int routed[] = {0, 1, 2, 4, 10};
	assert_int_equal(b.nrouted, 5);
	for (int k = 0; k < 5; k++)
		assert_int_equal(b.routed[k].receipt_seq, r[routed[k]].seq);
	free(b.routed);
	/* the entities as their newest applied receipts left them */
	expect_entity("b-1", 800, "{\"n\":\"a3\"}", r[10].seq);
	expect_entity("b-2", 300, "{\"n\":\"c2\"}", r[4].seq);
	struct store_entity_row e;
	assert_int_equal(store_entity_get(s, company, "application", "b-4", &e), GERR_NOTFOUND);
	/* the repeats counted on their firsts */
	assert_int_equal(duplicates_of(r[0].id), 1);
	assert_int_equal(duplicates_of(before[0].id), 1);
	assert_int_equal(duplicates_of(before[1].id), 1);
	assert_int_equal(duplicates_of(r[7].id), 1);
	assert_int_equal(duplicates_of(r[10].id), 0);
	/* as stored: the statuses the batch answered */
	struct store_receipt got;
	assert_int_equal(store_receipt_get(s, company, r[7].id, &got), 0);
	assert_int_equal(got.status, RCP_STALE);
	assert_int_equal(got.seq, r[7].seq);
	assert_int_equal(got.bodylen, 7);
	store_receipt_free(&got);
	assert_int_equal(store_receipt_get(s, company, r[9].id, &got), 0);
	assert_int_equal(got.status, RCP_WAITING);
	store_receipt_free(&got);
	/* a later batch sees what this one stored */
	struct store_receipt_in again[2] = {rin("c2", 300, "b-2", NULL, 0),
	                                    rin("c4", 250, "b-2", "{\"n\":\"c4\"}", 0)};
	assert_int_equal(commit(again, 2, NULL), 0);
	assert_true(again[0].duplicate);
	assert_string_equal(again[0].dup_id, r[4].id);
	assert_int_equal(again[1].status, RCP_STALE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_batch_many_entities, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
