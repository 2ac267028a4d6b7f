/*
 * test_sqlite_receipt_ids: on SQLite the senders' ids of receipts are checked
 * like event ids (test_sqlite_ids): the newest in memory, the others in the
 * receipt_ids table filled in sorted batches. A sender's id stays unique per
 * source within a batch, across batches and merges, after a reopen (the map
 * rebuilt from the receipts table) and after a failed commit (its ids are
 * forgotten); a repeat is answered with the first receipt's id and status and
 * counted on it; a database migrated from the unique index keeps its ids.
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

static char path[256];

static struct store *open_store(size_t merge_at)
{
	struct store *s = NULL;
	struct gerr err = {0};
	if (sqlite_store_open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	sqlite_store_set_ids_merge_at(s, merge_at);
	return s;
}

/* decide: every receipt is routed, none adds a delivery; a sender's id
 * "boom" fails the commit. */
static int decide(void *ctx, struct store_batch *b, const struct store_receipt *r,
                  const struct store_entity *cur, struct store_verdict *v)
{
	(void)ctx;
	(void)b;
	(void)cur;
	v->status = RCP_ROUTED;
	v->advance = false;
	return strcmp(r->msg_id, "boom") == 0 ? -1 : 0;
}

struct sent {
	bool dup;
	char id[40]; /* the id answered: the receipt's own, or the first one's */
	int status;
};

/* send: commit one batch of receipts (source[i], msg[i]); the answers in
 * out. Returns the commit's result. */
static int send(struct store *s, int n, const int64_t *source, const char *const *msg,
                struct sent *out)
{
	static int serial;
	struct store_receipt_in r[16];
	char ids[16][40];
	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "rcp-%d-%d", (int)getpid(), ++serial);
		r[i] = (struct store_receipt_in){.company_seq = 1,
		                                 .source_seq = source[i],
		                                 .id = ids[i],
		                                 .msg_id = msg[i],
		                                 .event = "application.moved",
		                                 .date = "2019-06-19T00:00:00.000Z",
		                                 .date_us = 1000 + i,
		                                 .body = "{}",
		                                 .bodylen = 2,
		                                 .headers = "{}",
		                                 .verification = "ok",
		                                 .address = "127.0.0.1"};
	}
	struct store_batch b = {.node = "n", .receipts = r, .nreceipts = n, .decide = decide};
	struct gerr err = {0};
	int rc = store_commit(s, &b, &err);
	free(b.routed);
	for (int i = 0; i < n && out; i++) {
		out[i].dup = r[i].duplicate;
		snprintf(out[i].id, sizeof(out[i].id), "%s",
		         r[i].duplicate ? r[i].dup_id : r[i].id);
		out[i].status = r[i].status;
	}
	return rc;
}

/* send_one: one receipt of source 7; whether it was a repeat, and the id
 * answered in id (may be NULL). */
static bool send_one(struct store *s, const char *msg, char id[40])
{
	int64_t src = 7;
	struct sent out;
	assert_int_equal(send(s, 1, &src, &msg, &out), 0);
	if (id)
		snprintf(id, 40, "%s", out.id);
	return out.dup;
}

static int duplicates_of(struct store *s, const char *id)
{
	struct store_receipt r;
	assert_int_equal(store_receipt_get(s, 1, id, &r), 0);
	int n = r.duplicates;
	store_receipt_free(&r);
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/gancho-test-rids-%d.db", (int)getpid());
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[300];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return 0;
}

static void test_unique_across_merges_and_reopen(void **state)
{
	(void)state;
	struct store *s = open_store(4);
	/* within one batch: the repeat answered with the first's id */
	int64_t src[3] = {7, 7, 8};
	const char *msg[3] = {"a", "a", "a"};
	struct sent out[3];
	assert_int_equal(send(s, 3, src, msg, out), 0);
	assert_false(out[0].dup);
	assert_true(out[1].dup);
	assert_string_equal(out[1].id, out[0].id);
	assert_int_equal(out[1].status, RCP_ROUTED);
	assert_false(out[2].dup); /* another source's id space */
	assert_int_equal(duplicates_of(s, out[0].id), 1);
	/* across batches, and past merges (every 4 new ids) */
	char first[10][40], again[40], m[32];
	for (int i = 0; i < 10; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		assert_false(send_one(s, m, first[i]));
	}
	for (int i = 0; i < 10; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		assert_true(send_one(s, m, again));
		assert_string_equal(again, first[i]);
	}
	assert_true(send_one(s, "a", again));
	assert_string_equal(again, out[0].id);
	assert_int_equal(duplicates_of(s, out[0].id), 2);
	store_close(s);
	/* reopened with a large threshold: the merged ids found in the table,
	 * the newest again from the receipts table */
	s = open_store(1000);
	for (int i = 0; i < 10; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		assert_true(send_one(s, m, again));
		assert_string_equal(again, first[i]);
	}
	char fresh[40];
	assert_false(send_one(s, "fresh", fresh));
	store_close(s);
	s = open_store(1000);
	assert_true(send_one(s, "fresh", again));
	assert_string_equal(again, fresh);
	assert_true(send_one(s, "m0", again));
	assert_string_equal(again, first[0]);
	/* the table has what was merged, in (source, id) order */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(sqlite_store_handle(s),
	                                    "SELECT count(*) FROM receipt_ids", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int(st, 0) >= 8);
	sqlite3_finalize(st);
	store_close(s);
}

static void test_failed_commit_forgets_its_ids(void **state)
{
	(void)state;
	struct store *s = open_store(1000);
	int64_t src[2] = {7, 7};
	const char *msg[2] = {"x", "boom"};
	assert_int_not_equal(send(s, 2, src, msg, NULL), 0);
	char first[40], again[40];
	assert_false(send_one(s, "x", first)); /* "x" was rolled back */
	assert_true(send_one(s, "x", again));
	assert_string_equal(again, first);
	store_close(s);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A database from before migration 10 (senders' ids in a unique index on
 * receipts) keeps them unique once migrated. */
static void test_migration_from_the_unique_index(void **state)
{
	(void)state;
	struct store *s = open_store(1000);
	char old1[40], old2[40], again[40];
	assert_false(send_one(s, "old1", old1));
	assert_false(send_one(s, "old2", old2));
	store_close(s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* back to schema 9: what migrations 10 and later made goes too */
	exec(db, "DROP TABLE reconciliations; DROP TABLE reconciliation_runs;"
	         "DROP TABLE receipt_ids; DELETE FROM meta WHERE key = 'receipt_ids_upto';"
	         "CREATE UNIQUE INDEX receipts_msg ON receipts(source_seq, msg_id);"
	         "UPDATE meta SET value = '9' WHERE key = 'schema_version'");
	sqlite3_close(db);
	s = open_store(1000);
	assert_true(send_one(s, "old1", again));
	assert_string_equal(again, old1);
	assert_true(send_one(s, "old2", again));
	assert_string_equal(again, old2);
	assert_false(send_one(s, "new", NULL));
	assert_true(send_one(s, "new", NULL));
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unique_across_merges_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_commit_forgets_its_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_the_unique_index, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
