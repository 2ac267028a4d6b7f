/*
 * test_store_recon: the reconciliations of store.h: rows within a company
 * only; a run asked for twice while it waits is one run; a claim takes the
 * lease of a due reconciliation and starts its waiting run, and nobody else
 * claims it while the lease holds; progress renews the lease only for its
 * holder; finish gives it up, schedules the next run (at once when one was
 * asked for meanwhile) and writes the operator record; a lease that ran out
 * lets another node take over, and the run the first node left is marked
 * failed; a delete stops the waiting run and nothing is claimed after it.
 *
 * It runs on SQLite by default; with GANCHO_TEST_STORE_URL set (a
 * postgres:// URL) on that store instead: tests/integration/test_reconcile.py
 * runs it so on a throwaway PostgreSQL server.
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
static int serial; /* tells one test's ids from another's on a shared database */

static int setup(void **state)
{
	(void)state;
	const char *url = getenv("GANCHO_TEST_STORE_URL");
	if (url && *url) {
		snprintf(path, sizeof(path), "%s", url);
	} else {
		snprintf(path, sizeof(path), "/tmp/gancho-test-recon-%d.db", (int)getpid());
		unlink(path);
	}
	struct gerr err = {0};
	if (store_open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	serial++;
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

static const char *uid(const char *name)
{
	static char ids[32][40];
	static int k;
	char *id = ids[k++ % 32];
	snprintf(id, 40, "%s-%d-%d", name, (int)getpid(), serial);
	return id;
}

/* add: a reconciliation of company due at next_run_at. */
static int64_t add(int64_t company, const char *id, int64_t next_run_at)
{
	struct store_reconciliation r = {.company_seq = company,
	                                 .name = "nightly",
	                                 .config = "{\"steps\":[\"Exame\"]}",
	                                 .next_run_at = next_run_at,
	                                 .created_at = 10,
	                                 .updated_at = 10};
	snprintf(r.id, sizeof(r.id), "%s", id);
	struct gerr err = {0};
	if (store_reconciliation_write(s, &r, &err))
		fail_msg("insert %s: %s", id, err.msg);
	assert_true(r.seq > 0);
	return r.seq;
}

/* claim_nothing: no reconciliation is due for node at now. */
static void claim_nothing(const char *node, int64_t now)
{
	struct store_reconciliation rec;
	struct store_recon_run run;
	assert_int_equal(
	    store_reconciliation_claim(s, node, now, now + 1000, uid("none"), &rec, &run),
	    GERR_NOTFOUND);
}

/* run_state: the state of run id of reconciliation seq, -1 when absent. */
static int run_state(int64_t seq, const char *id, char *errors, size_t errsz)
{
	struct store_recon_run runs[16];
	int n = 0;
	assert_int_equal(store_recon_run_list(s, seq, 0, 16, runs, &n), 0);
	int state = -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(runs[i].id, id) == 0) {
			state = runs[i].state;
			if (errors)
				snprintf(errors, errsz, "%s", runs[i].errors);
		}
		store_recon_run_free(&runs[i]);
	}
	return state;
}

static void test_rows_within_a_company(void **state)
{
	(void)state;
	const char *id = uid("rows");
	int64_t seq = add(1, id, 5000);
	struct store_reconciliation r;
	assert_int_equal(store_reconciliation_get(s, 1, id, &r), 0);
	assert_int_equal(r.seq, seq);
	assert_string_equal(r.name, "nightly");
	assert_int_equal(r.next_run_at, 5000);
	store_reconciliation_free(&r);
	assert_int_equal(store_reconciliation_get(s, 2, id, &r), GERR_NOTFOUND);
	/* a change */
	struct store_reconciliation c = {.seq = seq,
	                                 .company_seq = 1,
	                                 .name = "hourly",
	                                 .config = "{}",
	                                 .next_run_at = 7000,
	                                 .updated_at = 20};
	struct gerr err = {0};
	assert_int_equal(store_reconciliation_write(s, &c, &err), 0);
	/* a change that leaves the schedule alone (next_run_at 0) */
	c.next_run_at = 0;
	c.updated_at = 25;
	assert_int_equal(store_reconciliation_write(s, &c, &err), 0);
	struct store_reconciliation list[8];
	int n = 0;
	assert_int_equal(store_reconciliation_list(s, 1, 0, 8, list, &n), 0);
	bool found = false;
	for (int i = 0; i < n; i++) {
		if (list[i].seq == seq) {
			found = true;
			assert_string_equal(list[i].name, "hourly");
			assert_int_equal(list[i].next_run_at, 7000);
		}
		store_reconciliation_free(&list[i]);
	}
	assert_true(found);
	/* a delete: never read back, and a second delete finds nothing */
	struct store_reconciliation d = {.seq = seq, .status = SRC_DELETED, .updated_at = 30};
	assert_int_equal(store_reconciliation_write(s, &d, &err), 0);
	assert_int_equal(store_reconciliation_get(s, 1, id, &r), GERR_NOTFOUND);
	assert_int_equal(store_reconciliation_write(s, &d, &err), GERR_NOTFOUND);
}

static void test_one_run_for_two_requests_and_one_claim(void **state)
{
	(void)state;
	int64_t seq = add(3, uid("req"), 1LL << 50); /* not due by its schedule */
	claim_nothing("A", 1000);
	char first[40], second[40];
	snprintf(first, sizeof(first), "%s", uid("run1"));
	snprintf(second, sizeof(second), "%s", uid("run2"));
	bool added = false;
	assert_int_equal(store_reconciliation_request(s, seq, 1000, first, &added), 0);
	assert_true(added);
	/* asked again while it waits: the same run */
	assert_int_equal(store_reconciliation_request(s, seq, 1001, second, &added), 0);
	assert_false(added);
	assert_string_equal(second, first);
	assert_int_equal(run_state(seq, first, NULL, 0), RUN_QUEUED);

	/* node A claims it: the waiting run starts */
	struct store_reconciliation rec;
	struct store_recon_run run;
	assert_int_equal(store_reconciliation_claim(s, "A", 1002, 61002, uid("fresh"), &rec, &run),
	                 0);
	assert_int_equal(rec.seq, seq);
	assert_string_equal(run.id, first);
	assert_int_equal(run.state, RUN_RUNNING);
	assert_int_equal(run.started_at, 1002);
	/* B finds nothing while A's lease holds */
	claim_nothing("B", 2000);
	/* progress: A renews, B cannot */
	run.pages = 3;
	run.receipts = 2;
	assert_int_equal(store_reconciliation_progress(s, "A", seq, 62000, &run), 0);
	assert_int_equal(store_reconciliation_progress(s, "B", seq, 62000, &run), GERR_CONFLICT);
	/* asked for again during the run: a new queued run, due when this one ends */
	char third[40];
	snprintf(third, sizeof(third), "%s", uid("run3"));
	assert_int_equal(store_reconciliation_request(s, seq, 3000, third, &added), 0);
	assert_true(added);
	claim_nothing("B", 3001);
	/* A ends it; next run asked for → due at once */
	run.state = RUN_DONE;
	run.ended_at = 4000;
	assert_int_equal(store_reconciliation_finish(s, "A", seq, &run, 999999, NULL, NULL), 0);
	struct store_recon_run list[4];
	int n = 0;
	assert_int_equal(store_recon_run_list(s, seq, 0, 4, list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].id, first);
	assert_int_equal(list[1].state, RUN_DONE);
	assert_int_equal(list[1].pages, 3);
	assert_int_equal(list[1].receipts, 2);
	assert_int_equal(list[1].ended_at, 4000);
	assert_string_equal(list[0].id, third);
	assert_int_equal(list[0].state, RUN_QUEUED);
	for (int i = 0; i < n; i++)
		store_recon_run_free(&list[i]);
	store_reconciliation_free(&rec);
	store_recon_run_free(&run);
	/* B takes the queued one */
	assert_int_equal(store_reconciliation_claim(s, "B", 4001, 64001, uid("fresh2"), &rec, &run),
	                 0);
	assert_string_equal(run.id, third);
	run.state = RUN_STOPPED;
	run.ended_at = 5000;
	free(run.errors);
	run.errors = strdup("[\"401\"]");
	assert_int_equal(store_reconciliation_finish(s, "B", seq, &run, 90000,
	                                             "reconciliation.stopped", "stopped: 401"),
	                 0);
	store_reconciliation_free(&rec);
	store_recon_run_free(&run);
	/* scheduled again at 90000, not before */
	claim_nothing("A", 89999);
	assert_int_equal(
	    store_reconciliation_claim(s, "A", 90000, 150000, uid("sched"), &rec, &run), 0);
	assert_int_equal(run.state, RUN_RUNNING);
	assert_int_equal(run.requested_at, 90000);
	store_reconciliation_free(&rec);
	store_recon_run_free(&run);
	/* the operator record */
	struct store_opevent ev[8];
	assert_int_equal(store_opevent_list(s, 3, 0, 8, ev, &n), 0);
	bool found = false;
	for (int i = 0; i < n; i++)
		found |= strcmp(ev[i].kind, "reconciliation.stopped") == 0 &&
		         strcmp(ev[i].message, "stopped: 401") == 0;
	assert_true(found);
}

static void test_expired_lease_is_taken_over(void **state)
{
	(void)state;
	int64_t seq = add(4, uid("lease"), 100);
	struct store_reconciliation rec;
	struct store_recon_run run, run2;
	assert_int_equal(store_reconciliation_claim(s, "A", 200, 1200, uid("a"), &rec, &run), 0);
	store_reconciliation_free(&rec);
	claim_nothing("B", 1199);
	/* A went silent: at 1200 its lease is out */
	assert_int_equal(store_reconciliation_claim(s, "B", 1200, 2200, uid("b"), &rec, &run2), 0);
	store_reconciliation_free(&rec);
	char errors[256];
	assert_int_equal(run_state(seq, run.id, errors, sizeof(errors)), RUN_FAILED);
	assert_non_null(strstr(errors, "stopped before the run ended"));
	assert_int_equal(run_state(seq, run2.id, NULL, 0), RUN_RUNNING);
	/* A comes back: its lease is gone */
	assert_int_equal(store_reconciliation_progress(s, "A", seq, 5000, &run), GERR_CONFLICT);
	/* and a finish by A does not free B's lease */
	run.state = RUN_DONE;
	run.ended_at = 1300;
	assert_int_equal(store_reconciliation_finish(s, "A", seq, &run, 1300, NULL, NULL), 0);
	claim_nothing("C", 1400);
	store_recon_run_free(&run);
	store_recon_run_free(&run2);
}

static void test_delete_stops_the_waiting_run(void **state)
{
	(void)state;
	int64_t seq = add(5, uid("del"), 1LL << 50);
	char id[40];
	snprintf(id, sizeof(id), "%s", uid("w"));
	bool added;
	assert_int_equal(store_reconciliation_request(s, seq, 100, id, &added), 0);
	struct store_reconciliation d = {.seq = seq, .status = SRC_DELETED, .updated_at = 150};
	struct gerr err = {0};
	assert_int_equal(store_reconciliation_write(s, &d, &err), 0);
	char errors[256];
	assert_int_equal(run_state(seq, id, errors, sizeof(errors)), RUN_STOPPED);
	assert_non_null(strstr(errors, "deleted"));
	claim_nothing("A", 200);
	char again[40];
	snprintf(again, sizeof(again), "%s", uid("x"));
	assert_int_equal(store_reconciliation_request(s, seq, 300, again, &added), GERR_NOTFOUND);
}

static void test_old_runs_are_pruned(void **state)
{
	(void)state;
	int64_t seq = add(6, uid("prune"), 1LL << 50);
	char first[40] = "";
	for (int i = 0; i < STORE_RECON_RUNS_KEPT + 3; i++) {
		char id[40];
		snprintf(id, sizeof(id), "%s-%d", uid("p"), i);
		if (i == 0)
			snprintf(first, sizeof(first), "%s", id);
		bool added;
		int64_t now = 1000 + i * 10;
		assert_int_equal(store_reconciliation_request(s, seq, now, id, &added), 0);
		struct store_reconciliation rec;
		struct store_recon_run run;
		assert_int_equal(
		    store_reconciliation_claim(s, "A", now, now + 5, uid("q"), &rec, &run), 0);
		assert_string_equal(run.id, id);
		run.state = RUN_DONE;
		run.ended_at = now + 1;
		assert_int_equal(
		    store_reconciliation_finish(s, "A", seq, &run, 1LL << 50, NULL, NULL), 0);
		store_reconciliation_free(&rec);
		store_recon_run_free(&run);
	}
	struct store_recon_run list[STORE_RECON_RUNS_KEPT + 10];
	int n = 0;
	assert_int_equal(store_recon_run_list(s, seq, 0, STORE_RECON_RUNS_KEPT + 10, list, &n), 0);
	assert_int_equal(n, STORE_RECON_RUNS_KEPT);
	for (int i = 0; i < n; i++) {
		assert_string_not_equal(list[i].id, first);
		store_recon_run_free(&list[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rows_within_a_company, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_run_for_two_requests_and_one_claim, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_expired_lease_is_taken_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_stops_the_waiting_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_old_runs_are_pruned, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
