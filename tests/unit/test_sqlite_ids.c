/*
 * test_sqlite_ids: event ids stay unique per company in the SQLite store
 * while they move from memory into the event_ids table: within a batch,
 * across batches, across merges, after a reopen (the map rebuilt from the
 * events table) and after a failed commit; lookups by id find both merged and
 * unmerged events; an Idempotency-Key duplicate answers with the first id.
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

static struct store *open_store(size_t merge_at)
{
	struct store *s = NULL;
	struct gerr err = {0};
	if (sqlite_store_open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	sqlite_store_set_ids_merge_at(s, merge_at);
	return s;
}

/* send: commit one batch of events (company, id[, idem]); dup[i] gets whether
 * event i was a duplicate and dup_ids[i] the id answered. */
static void send(struct store *s, int n, const int64_t *company, const char *const *ids,
                 const char *const *idem, bool *dup, char (*dup_ids)[160])
{
	struct store_event_in ev[16];
	assert_true(n <= 16);
	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < n; i++) {
		ev[i].company_seq = company[i];
		ev[i].id = ids[i];
		ev[i].idem_key = idem ? idem[i] : NULL;
		ev[i].event = "candidate.hired";
		ev[i].date_ms = 1000 + i;
		ev[i].data = "{}";
		ev[i].datalen = 2;
	}
	struct store_batch b = {.node = "n", .events = ev, .nevents = n};
	struct gerr err = {0};
	if (store_commit(s, &b, &err))
		fail_msg("commit: %s", err.msg);
	for (int i = 0; i < n; i++) {
		dup[i] = ev[i].duplicate;
		if (dup_ids)
			snprintf(dup_ids[i], 160, "%s", ev[i].duplicate ? ev[i].dup_id : ev[i].id);
	}
}

static bool send_one(struct store *s, int64_t company, const char *id)
{
	bool dup;
	send(s, 1, &company, &id, NULL, &dup, NULL);
	return dup;
}

static void expect_found(struct store *s, int64_t company, const char *id)
{
	struct store_event e;
	assert_int_equal(store_event_get(s, company, id, &e), 0);
	assert_string_equal(e.id, id);
	assert_int_equal(e.company_seq, company);
	store_event_free(&e);
}

static int setup(void **state)
{
	(void)state;
	store_fixture_path(path, sizeof(path), "ids", false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_remove(path);
	return 0;
}

static void test_unique_across_merges_and_reopen(void **state)
{
	(void)state;
	struct store *s = open_store(4);
	/* within one batch */
	int64_t co[3] = {1, 1, 2};
	const char *ids[3] = {"a", "a", "a"};
	bool dup[3];
	send(s, 3, co, ids, NULL, dup, NULL);
	assert_false(dup[0]);
	assert_true(dup[1]);
	assert_false(dup[2]); /* another company's id space */
	/* across batches, and past a merge (every 4 new ids) */
	char id[32];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		assert_false(send_one(s, 1, id));
	}
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		assert_true(send_one(s, 1, id));
		expect_found(s, 1, id);
	}
	assert_true(send_one(s, 1, "a"));
	store_close(s);
	/* after a reopen, with a large merge threshold: some ids merged, the
	 * newest only in the events table, found again from there */
	s = open_store(1000);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		assert_true(send_one(s, 1, id));
	}
	assert_false(send_one(s, 1, "fresh"));
	store_close(s);
	s = open_store(1000);
	assert_true(send_one(s, 1, "fresh"));
	expect_found(s, 1, "fresh");
	expect_found(s, 1, "e0");
	expect_found(s, 2, "a");
	struct store_event e;
	assert_int_equal(store_event_get(s, 2, "e0", &e), GERR_NOTFOUND);
	store_close(s);
}

static void test_idempotency_key(void **state)
{
	(void)state;
	struct store *s = open_store(2);
	int64_t co[2] = {1, 1};
	const char *ids[2] = {"k1", "k2"};
	const char *idem[2] = {"key", "key"};
	bool dup[2];
	char answered[2][160];
	send(s, 2, co, ids, idem, dup, answered);
	assert_false(dup[0]);
	assert_true(dup[1]);
	assert_string_equal(answered[1], "k1");
	/* k2 was not stored: it is free for a later event */
	assert_false(send_one(s, 1, "k2"));
	store_close(s);
}

static void test_failed_commit_forgets_its_ids(void **state)
{
	(void)state;
	struct store *s = open_store(1000);
	struct store_event_in ev[2];
	memset(ev, 0, sizeof(ev));
	ev[0] = (struct store_event_in){
	    .company_seq = 1, .id = "x", .event = "e", .data = "{}", .datalen = 2};
	ev[1] = (struct store_event_in){.company_seq = 1, .id = "y", .event = "e", .data = NULL};
	struct store_batch b = {.node = "n", .events = ev, .nevents = 2};
	struct gerr err = {0};
	assert_int_not_equal(store_commit(s, &b, &err), 0); /* data NOT NULL */
	assert_false(send_one(s, 1, "x"));                  /* "x" was rolled back */
	assert_true(send_one(s, 1, "x"));
	store_close(s);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A database from before migration 3 (ids in a unique index on events) keeps
 * its ids unique once migrated. */
static void test_migration_from_the_unique_index(void **state)
{
	(void)state;
	struct store *s = open_store(1000);
	assert_false(send_one(s, 1, "old1"));
	assert_false(send_one(s, 1, "old2"));
	store_close(s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* back to schema 2: the tables of later migrations go too, or they
	 * would be created twice on the way up again */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table'"
	                                    " AND name NOT IN ('meta', 'companies', 'tokens',"
	                                    " 'webhooks', 'events', 'deliveries', 'attempts',"
	                                    " 'opevents', 'event_ids')",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	char later[16][64];
	int nlater = 0;
	while (sqlite3_step(st) == SQLITE_ROW && nlater < 16)
		snprintf(later[nlater++], sizeof(later[0]), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (int i = 0; i < nlater; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP TABLE %.63s", later[i]);
		exec(db, sql);
	}
	/* and the column and index migration 7 added to deliveries */
	exec(db, "DROP INDEX deliveries_receipt; ALTER TABLE deliveries DROP COLUMN receipt_seq;");
	exec(db, "DROP TABLE event_ids; CREATE UNIQUE INDEX events_id ON events(company_seq, id);"
	         "DELETE FROM meta WHERE key = 'ids_upto';"
	         /* and what migrations 5 (routes) and 6 (stored requests) added
	          * to tables of schema 2 */
	         "DROP INDEX webhooks_route;"
	         "ALTER TABLE webhooks DROP COLUMN route_seq;"
	         "ALTER TABLE deliveries DROP COLUMN request_seq;"
	         "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
	sqlite3_close(db);
	s = open_store(1000);
	assert_true(send_one(s, 1, "old1"));
	assert_true(send_one(s, 1, "old2"));
	assert_false(send_one(s, 1, "new"));
	expect_found(s, 1, "old1");
	expect_found(s, 1, "new");
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unique_across_merges_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idempotency_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_commit_forgets_its_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_the_unique_index, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
