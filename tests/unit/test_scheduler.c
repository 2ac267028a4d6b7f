/*
 * test_scheduler: the dispatcher's scheduler on its own, with no database, no
 * sockets and no clock. The fixture gives it what struct sched_env asks for:
 * a registry of compiled webhooks, a monotonic clock the test moves, a
 * "start" that only records which delivery went out (and counts it in
 * flight), and a list of open deliveries standing for the store's. Every
 * test checks the invariants (sched_check) after each step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deliver/scheduler.h"

#define MAXLOG 4096

struct fx {
	struct sched s;
	struct registry *reg;
	int64_t mono;
	int64_t started[MAXLOG];
	int nstarted;
	int64_t held[MAXLOG];
	int nheld;
	int64_t released[MAXLOG];
	int nreleased;
	/* "the store": open deliveries, in seq order */
	struct store_task store[MAXLOG];
	int nstore;
	int64_t refuse_seq; /* start frees this one instead (a body that cannot load) */
	int64_t committed;  /* the committer's progress: flushes durable so far */
};

static int64_t fx_mono(void *ctx)
{
	return ((struct fx *)ctx)->mono;
}

static bool fx_stopping(void *ctx)
{
	(void)ctx;
	return false;
}

static void fx_start(void *ctx, struct task *t, int64_t now)
{
	struct fx *f = ctx;
	if (t->seq == f->refuse_seq) {
		sched_task_free(&f->s, t, now);
		return;
	}
	assert_true(f->nstarted < MAXLOG);
	f->started[f->nstarted++] = t->seq;
	sched_flight_begin(&f->s, t, now);
}

static void fx_held(void *ctx, const struct task *t)
{
	struct fx *f = ctx;
	f->held[f->nheld++] = t->seq;
}

static void fx_release(void *ctx, int64_t seq)
{
	struct fx *f = ctx;
	f->released[f->nreleased++] = seq;
}

static int64_t fx_committed(void *ctx)
{
	return ((struct fx *)ctx)->committed;
}

static int fx_open_for_webhook(void *ctx, int64_t webhook_seq, int64_t after_seq, int limit,
                               struct store_task *out, int *n)
{
	struct fx *f = ctx;
	*n = 0;
	for (int i = 0; i < f->nstore && *n < limit; i++)
		if (f->store[i].webhook_seq == webhook_seq && f->store[i].seq > after_seq)
			out[(*n)++] = f->store[i];
	return 0;
}

static int fx_open_after(void *ctx, int64_t after_seq, int limit, struct store_task *out, int *n)
{
	struct fx *f = ctx;
	*n = 0;
	for (int i = 0; i < f->nstore && *n < limit; i++)
		if (f->store[i].seq > after_seq)
			out[(*n)++] = f->store[i];
	return 0;
}

static int fx_open_due(void *ctx, int64_t after_next_at, int64_t after_seq, int64_t due_before,
                       int limit, struct store_task *out, int *n)
{
	(void)ctx;
	(void)after_next_at;
	(void)after_seq;
	(void)due_before;
	(void)limit;
	(void)out;
	*n = 0;
	return 0;
}

static struct fx *fx_new(int window, int max_inflight)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->reg = registry_new();
	f->mono = 1000000;
	f->refuse_seq = -1;
	struct sched_env env = {
	    .ctx = f,
	    .reg = f->reg,
	    .window = window,
	    .max_inflight = max_inflight,
	    .mono_ms = fx_mono,
	    .stopping = fx_stopping,
	    .start = fx_start,
	    .held = fx_held,
	    .release = fx_release,
	    .committed_gen = fx_committed,
	    .open_after = fx_open_after,
	    .open_for_webhook = fx_open_for_webhook,
	    .open_due = fx_open_due,
	};
	assert_int_equal(sched_init(&f->s, &env), 0);
	/* the fixture's deliveries are all in memory unless a test says otherwise */
	f->s.overflow = false;
	return f;
}

static void fx_free(struct fx *f)
{
	assert_true(sched_check(&f->s));
	sched_free(&f->s);
	registry_free(f->reg);
	free(f);
}

/* webhook: a compiled webhook of company, with extra config fields as JSON. */
static void webhook(struct fx *f, int64_t seq, int64_t company, const char *extra)
{
	char id[40], text[512];
	snprintf(id, sizeof(id), "wh-%lld", (long long)seq);
	snprintf(text, sizeof(text),
	         "{\"postbackUrl\":\"https://example.com/h\",\"events\":[\"e\"]%s%s}",
	         extra ? "," : "", extra ? extra : "");
	json_error_t jerr;
	json_t *cfg = json_loads(text, 0, &jerr);
	assert_non_null(cfg);
	struct webhook *w = NULL;
	struct gerr err = {0};
	if (webhook_compile(cfg, seq, id, company, WH_ACTIVE, 0, &w, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	assert_int_equal(registry_webhook_put(f->reg, w), 0);
}

static struct store_task st(int64_t seq, int64_t webhook_seq, int64_t next_at, const char *okey)
{
	struct store_task t = {
	    .seq = seq, .event_seq = seq, .webhook_seq = webhook_seq, .next_at = next_at};
	snprintf(t.okey, sizeof(t.okey), "%s", okey ? okey : "");
	return t;
}

static void add(struct fx *f, int64_t seq, int64_t webhook_seq, int64_t next_at, const char *okey,
                int64_t now)
{
	struct store_task t = st(seq, webhook_seq, next_at, okey);
	assert_true(sched_task_add(&f->s, &t, NULL, now));
	assert_true(sched_check(&f->s));
}

static void turn(struct fx *f, int64_t now)
{
	sched_run_timers(&f->s, now);
	sched_run_dirty(&f->s, now);
	sched_wake_waiting(&f->s, 0);
	sched_run_dirty(&f->s, now);
	assert_true(sched_check(&f->s));
}

/* end: the request of seq ended; ok: delivered (forgotten), else it waits
 * until retry_at. */
static void end(struct fx *f, int64_t seq, bool ok, int64_t retry_at, int64_t now)
{
	struct task *t = sched_task_get(&f->s, seq);
	assert_non_null(t);
	assert_int_equal(t->state, T_FLIGHT);
	sched_flight_end(&f->s, t);
	if (ok) {
		sched_task_free(&f->s, t, now);
	} else {
		t->next_at = retry_at;
		sched_retry(&f->s, t, now);
	}
	assert_true(sched_check(&f->s));
}

/* started: n requests went out so far, the last of them seq's. */
static void started(const struct fx *f, int n, int64_t seq)
{
	assert_int_equal(f->nstarted, n);
	assert_int_equal(f->started[n - 1], seq);
}

/* done: seq was delivered; the next turn runs. */
static void done(struct fx *f, int64_t seq, int64_t now)
{
	end(f, seq, true, 0, now);
	turn(f, now);
}

static int inflight_of(struct fx *f, int64_t webhook_seq)
{
	return f->s.ws[webhook_seq]->inflight;
}

/* A FIFO lane sends one delivery at a time, in seq order, whatever order
 * they came in; a failing head holds the rest until it succeeds. */
static void test_fifo_one_at_a_time_in_seq_order(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"ordering\":\"fifo\"");
	int64_t now = 5000;
	add(f, 12, 1, now, NULL, now);
	add(f, 14, 1, now, NULL, now);
	add(f, 13, 1, now, NULL, now);
	turn(f, now);
	started(f, 1, 12);

	/* the head fails: nothing behind it goes, not even when its retry is far */
	end(f, 12, false, now + 60000, now);
	turn(f, now + 1000);
	assert_int_equal(f->nstarted, 1);
	/* at its time the same head goes again */
	turn(f, now + 60000);
	started(f, 2, 12);
	done(f, 12, now + 60000);
	started(f, 3, 13);
	done(f, 13, now + 60000);
	assert_int_equal(f->started[3], 14);
	done(f, 14, now + 60000);
	assert_int_equal(f->nstarted, 4);
	assert_int_equal(f->s.ntasks, 0);
	fx_free(f);
}

/* An older delivery arriving later (a manual retry) becomes the lane's head;
 * the old head, not in flight, steps back. */
static void test_fifo_older_delivery_goes_first(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"ordering\":\"fifo\"");
	int64_t now = 5000;
	add(f, 20, 1, now + 30000, NULL, now); /* the head, waiting for a retry */
	add(f, 21, 1, now, NULL, now);
	add(f, 10, 1, now, NULL, now);
	turn(f, now);
	started(f, 1, 10);
	done(f, 10, now);
	assert_int_equal(f->nstarted, 1); /* 20 waits for its time, 21 behind it */
	turn(f, now + 30000);
	assert_int_equal(f->started[1], 20);
	fx_free(f);
}

/* Keyed lanes: each key value is its own lane; lanes run side by side. */
static void test_keyed_lanes_run_side_by_side(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"ordering\":\"fifo\",\"orderingKey\":\"data.id\"");
	int64_t now = 5000;
	add(f, 1, 1, now, "a", now);
	add(f, 2, 1, now, "b", now);
	add(f, 3, 1, now, "a", now);
	add(f, 4, 1, now, "b", now);
	add(f, 5, 1, now, "c", now);
	turn(f, now);
	assert_int_equal(f->nstarted, 3);
	assert_int_equal(inflight_of(f, 1), 3);
	done(f, 2, now);
	started(f, 4, 4);
	fx_free(f);
}

/* Retries come due in (next_at, seq) order, and not before their time. */
static void test_retry_due_order(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 1);
	webhook(f, 1, 1, "\"concurrency\":1");
	int64_t now = 5000;
	add(f, 7, 1, now + 300, NULL, now);
	add(f, 5, 1, now + 100, NULL, now);
	add(f, 9, 1, now + 100, NULL, now);
	add(f, 6, 1, now + 200, NULL, now);
	assert_int_equal(sched_next_timer(&f->s), now + 100);
	turn(f, now + 99);
	assert_int_equal(f->nstarted, 0);
	/* everything due at once: one at a time (concurrency 1), in due order */
	int64_t order[] = {5, 9, 6, 7};
	turn(f, now + 1000);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f->nstarted, i + 1);
		assert_int_equal(f->started[i], order[i]);
		done(f, order[i], now + 1000);
	}
	assert_int_equal(sched_next_timer(&f->s), INT64_MAX);
	fx_free(f);
}

/* Under a cap, a company with a large backlog cannot take every slot: a
 * second company gets the reserve at once, then every freed slot until the
 * two have equal shares. */
static void test_fair_share_between_companies(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 16); /* reserve 2, usable 14 */
	webhook(f, 1, 1, "\"concurrency\":256");
	webhook(f, 2, 2, "\"concurrency\":256");
	int64_t now = 5000;
	for (int i = 1; i <= 100; i++)
		add(f, i, 1, now, NULL, now);
	turn(f, now);
	assert_int_equal(inflight_of(f, 1), 14); /* the reserve stays free */
	for (int i = 101; i <= 200; i++)
		add(f, i, 2, now, NULL, now);
	turn(f, now);
	assert_int_equal(inflight_of(f, 2), 2);
	assert_int_equal(f->s.inflight, 16);
	/* company 1's requests end one by one: the slots go to company 2 until
	 * the two have equal shares (14 / 2 companies) */
	for (int i = 1; i <= 7; i++) {
		done(f, i, now);
	}
	assert_int_equal(inflight_of(f, 1), 7);
	assert_int_equal(inflight_of(f, 2), 7);
	/* at equal shares, each gets back its own freed slot, no more */
	end(f, 8, true, 0, now);
	done(f, 101, now);
	assert_int_equal(inflight_of(f, 1), 7);
	assert_int_equal(inflight_of(f, 2), 7);
	assert_int_equal(f->s.inflight, 14);
	fx_free(f);
}

/* One company's webhooks share its part: a busy webhook leaves room for a
 * second one of the same company. */
static void test_fair_share_between_webhooks(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 16);
	webhook(f, 1, 1, "\"concurrency\":256");
	webhook(f, 2, 1, "\"concurrency\":256");
	int64_t now = 5000;
	for (int i = 1; i <= 100; i++)
		add(f, i, 1, now, NULL, now);
	turn(f, now);
	assert_int_equal(inflight_of(f, 1), 14);
	for (int i = 101; i <= 200; i++)
		add(f, i, 2, now, NULL, now);
	turn(f, now);
	for (int i = 1; i <= 14; i++) {
		done(f, i, now);
	}
	/* wshare = 14 / 2 webhooks: the second has at least its share */
	assert_true(inflight_of(f, 2) >= 7);
	assert_true(f->s.inflight <= 16);
	fx_free(f);
}

/* A paused webhook's deliveries are held (told to the store, then
 * forgotten); one in flight finishes first. New ones are held at once. */
static void test_paused_webhook_holds(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"concurrency\":1");
	int64_t now = 5000;
	add(f, 1, 1, now, NULL, now);
	add(f, 2, 1, now, NULL, now);
	add(f, 3, 1, now + 9999, NULL, now);
	turn(f, now);
	assert_int_equal(f->nstarted, 1);
	registry_webhook_set_status(f->reg, 1, WH_INACTIVE);
	sched_webhook_changed(&f->s, 1, now);
	assert_true(sched_check(&f->s));
	assert_int_equal(f->nheld, 2); /* 2 and 3; 1 is in flight */
	assert_int_equal(f->s.ntasks, 1);
	add(f, 4, 1, now, NULL, now);
	assert_int_equal(f->nheld, 3);
	assert_int_equal(f->held[2], 4);
	done(f, 1, now);
	assert_int_equal(f->nstarted, 1);
	assert_int_equal(f->s.ntasks, 0);
	fx_free(f);
}

/* A delivery whose start fails before it goes out (its body cannot be
 * loaded) leaves the ready queue cleanly: the others behind it still go. */
static void test_refused_start_keeps_the_queue(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"concurrency\":1");
	int64_t now = 5000;
	add(f, 1, 1, now, NULL, now);
	add(f, 2, 1, now, NULL, now);
	add(f, 3, 1, now, NULL, now);
	f->refuse_seq = 1;
	turn(f, now);
	started(f, 1, 2);
	done(f, 2, now);
	started(f, 2, 3);
	fx_free(f);
}

/* rateLimit: one request per token; the clock (the env's) brings the next. */
static void test_rate_limit_follows_the_clock(void **state)
{
	(void)state;
	struct fx *f = fx_new(1000, 64);
	webhook(f, 1, 1, "\"rateLimit\":{\"perSecond\":2}");
	int64_t now = 5000;
	for (int i = 1; i <= 5; i++)
		add(f, i, 1, now, NULL, now);
	turn(f, now);
	assert_int_equal(f->nstarted, 1);
	long wait = sched_wake_waiting(&f->s, 1000);
	assert_true(wait > 0 && wait <= 501);
	f->mono += 501;
	turn(f, now);
	assert_int_equal(f->nstarted, 2);
	f->mono += 10000; /* a long quiet time saves at most perSecond tokens */
	turn(f, now);
	assert_int_equal(f->nstarted, 4);
	fx_free(f);
}

/* A long FIFO backlog does not take the window: past lane_max the lane
 * spills (newer deliveries stay in the store) and reads them back, in seq
 * order, as it runs short. */
static void test_spilled_lane_reads_back_in_order(void **state)
{
	(void)state;
	struct fx *f = fx_new(32, 64); /* lane_max 8, lane_low 2 */
	webhook(f, 1, 1, "\"ordering\":\"fifo\"");
	webhook(f, 2, 1, NULL);
	int64_t now = 5000;
	/* half the window busy with another webhook's retries */
	for (int i = 1; i <= 17; i++)
		add(f, 1000 + i, 2, now + 3600000, NULL, now);
	for (int i = 1; i <= 40; i++) {
		f->store[f->nstore++] = st(i, 1, now, NULL);
		struct store_task t = st(i, 1, now, NULL);
		sched_task_add(&f->s, &t, NULL, now);
	}
	assert_true(sched_check(&f->s));
	assert_int_equal(f->s.ntasks, 17 + 8);
	for (int i = 1; i <= 40; i++) {
		sched_window_upkeep(&f->s, now);
		turn(f, now);
		started(f, i, i);
		end(f, i, true, 0, now);
		/* the store forgets what was delivered */
		memmove(f->store, f->store + 1, (size_t)(--f->nstore) * sizeof(f->store[0]));
	}
	sched_window_upkeep(&f->s, now);
	turn(f, now);
	assert_int_equal(f->nstarted, 40);
	assert_int_equal(f->s.ntasks, 17);
	fx_free(f);
}

/* The window: new deliveries past its size stay in the store, and refill
 * reads them back by seq once it has room. */
static void test_window_overflow_and_refill(void **state)
{
	(void)state;
	struct fx *f = fx_new(8, 64);
	webhook(f, 1, 1, "\"concurrency\":1");
	int64_t now = 5000;
	for (int i = 1; i <= 20; i++) {
		f->store[f->nstore++] = st(i, 1, now, NULL);
		struct store_task t = st(i, 1, now, NULL);
		sched_offer(&f->s, &t, NULL, now);
	}
	assert_int_equal(f->s.ntasks, 8);
	assert_true(f->s.overflow);
	for (int i = 1; i <= 20; i++) {
		sched_window_upkeep(&f->s, now);
		turn(f, now);
		started(f, i, i);
		end(f, i, true, 0, now);
		memmove(f->store, f->store + 1, (size_t)(--f->nstore) * sizeof(f->store[0]));
	}
	sched_window_upkeep(&f->s, now);
	assert_false(f->s.overflow);
	fx_free(f);
}

/* Under pressure, a delivery waiting for a distant retry leaves memory, but
 * only once its new time is committed. */
static void test_evicts_only_after_commit(void **state)
{
	(void)state;
	struct fx *f = fx_new(8, 64);
	webhook(f, 1, 1, NULL);
	int64_t now = 5000;
	for (int i = 1; i <= 6; i++)
		add(f, i, 1, now, NULL, now);
	turn(f, now);
	end(f, 1, false, now + 3600000, now);
	/* its new time goes out with the next flush, not yet committed */
	sched_window_upkeep(&f->s, now);
	assert_non_null(sched_task_get(&f->s, 1));
	f->s.gen++;
	f->committed = f->s.gen;
	sched_window_upkeep(&f->s, now);
	assert_null(sched_task_get(&f->s, 1));
	assert_int_equal(f->s.evicted, 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_one_at_a_time_in_seq_order),
	    cmocka_unit_test(test_fifo_older_delivery_goes_first),
	    cmocka_unit_test(test_keyed_lanes_run_side_by_side),
	    cmocka_unit_test(test_retry_due_order),
	    cmocka_unit_test(test_fair_share_between_companies),
	    cmocka_unit_test(test_fair_share_between_webhooks),
	    cmocka_unit_test(test_paused_webhook_holds),
	    cmocka_unit_test(test_refused_start_keeps_the_queue),
	    cmocka_unit_test(test_rate_limit_follows_the_clock),
	    cmocka_unit_test(test_spilled_lane_reads_back_in_order),
	    cmocka_unit_test(test_window_overflow_and_refill),
	    cmocka_unit_test(test_evicts_only_after_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
