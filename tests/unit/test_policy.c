/*
 * test_policy: retry timings of the presets and custom policies, the
 * deadline, Retry-After, and what retryPolicy values the API refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/policy.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define DAY (24 * 60 * MIN)
#define T0  1700000000000LL /* first attempt, an arbitrary wall-clock ms */

/* parse_str: policy_parse of a JSON text; returns its rc. */
static int parse_str(const char *text, struct policy *p, struct gerr *err)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	assert_non_null(v);
	int rc = policy_parse(v, p, err);
	json_decref(v);
	return rc;
}

static void test_gupy_timings(void **state)
{
	(void)state;
	struct policy p;
	uint64_t rng = 0;
	/* Attempts at 0, 1, 6, 21, 51, 81, 111 min; the 8th would be at 141 > 120. */
	static const int64_t at_min[] = {0, 1, 6, 21, 51, 81, 111};

	policy_default(&p);
	assert_int_equal(p.kind, POLICY_GUPY);
	int64_t now = T0;
	for (int i = 0; i < 7; i++) {
		assert_int_equal(now, T0 + at_min[i] * MIN);
		int64_t next = policy_next_attempt(&p, i + 1, T0, now, -1, &rng);
		if (i < 6) {
			assert_int_equal(next, T0 + at_min[i + 1] * MIN);
			now = next;
		} else {
			assert_int_equal(next, -1);
		}
	}

	/* NULL, JSON null and "gupy" are all this preset. */
	struct policy q;
	memset(&q, 0xff, sizeof(q));
	assert_int_equal(policy_parse(NULL, &q, NULL), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	memset(&q, 0xff, sizeof(q));
	assert_int_equal(parse_str("null", &q, NULL), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	memset(&q, 0xff, sizeof(q));
	assert_int_equal(parse_str("\"gupy\"", &q, NULL), 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void test_acesso(void **state)
{
	(void)state;
	struct policy p;
	uint64_t rng = 0;

	assert_int_equal(parse_str("\"acesso\"", &p, NULL), 0);
	assert_int_equal(p.kind, POLICY_ACESSO);
	for (int a = 1; a < 50; a++)
		assert_int_equal(policy_next_attempt(&p, a, T0, T0 + a * 7 * SEC, -1, &rng),
		                 T0 + a * 7 * SEC + 5 * SEC);
	/* Alive just before 3 days, exactly at it, dead after. */
	assert_int_equal(policy_next_attempt(&p, 51840, T0, T0 + 3 * DAY - 6 * SEC, -1, &rng),
	                 T0 + 3 * DAY - SEC);
	assert_int_equal(policy_next_attempt(&p, 51840, T0, T0 + 3 * DAY - 5 * SEC, -1, &rng),
	                 T0 + 3 * DAY);
	assert_int_equal(policy_next_attempt(&p, 51841, T0, T0 + 3 * DAY - 4 * SEC, -1, &rng), -1);
	assert_int_equal(policy_next_attempt(&p, 51841, T0, T0 + 3 * DAY + SEC, -1, &rng), -1);
}

static void test_schedule(void **state)
{
	(void)state;
	struct policy p;
	struct gerr err;
	uint64_t rng = 0;

	assert_int_equal(
	    parse_str("{\"schedule\": [1.2, 1, 10], \"deadlineSeconds\": 60}", &p, &err), 0);
	assert_int_equal(p.kind, POLICY_SCHEDULE);
	assert_int_equal(p.nsteps, 3);
	assert_int_equal(policy_next_attempt(&p, 1, T0, T0, -1, &rng), T0 + 1200);
	assert_int_equal(policy_next_attempt(&p, 2, T0, T0 + 1200, -1, &rng), T0 + 2200);
	assert_int_equal(policy_next_attempt(&p, 3, T0, T0 + 2200, -1, &rng), T0 + 12200);
	/* The last step repeats … */
	assert_int_equal(policy_next_attempt(&p, 4, T0, T0 + 11200, -1, &rng), T0 + 21200);
	assert_int_equal(policy_next_attempt(&p, 9, T0, T0 + 41200, -1, &rng), T0 + 51200);
	/* … until the deadline: 50 s + 10 s lands exactly on it, 51 s + 10 s is past. */
	assert_int_equal(policy_next_attempt(&p, 10, T0, T0 + 50 * SEC, -1, &rng), T0 + 60 * SEC);
	assert_int_equal(policy_next_attempt(&p, 10, T0, T0 + 51 * SEC, -1, &rng), -1);

	/* Steps under 1 s are refused: [0] against a 404 was a flood. */
	assert_int_equal(parse_str("{\"schedule\": [0], \"deadlineSeconds\": 3}", &p, &err),
	                 GERR_INVALID);
	assert_int_equal(parse_str("{\"schedule\": [0.999], \"deadlineSeconds\": 3}", &p, &err),
	                 GERR_INVALID);
	assert_int_equal(parse_str("{\"schedule\": [1], \"deadlineSeconds\": 3}", &p, &err), 0);
}

/* The floor and the cap: a stored policy from before them still loads,
 * raised to the floor, and no delivery gets more than the cap. */
static void test_floor_and_cap(void **state)
{
	(void)state;
	struct policy p;
	struct gerr err;
	uint64_t rng = 0;
	json_t *v = json_loads("{\"schedule\": [0, 0.3], \"deadlineSeconds\": 30}", 0, NULL);

	assert_non_null(v);
	assert_int_equal(policy_parse(v, &p, &err), GERR_INVALID);
	assert_int_equal(policy_load(v, &p, &err), 0);
	json_decref(v);
	assert_int_equal(p.steps_ms[0], SEC);
	assert_int_equal(p.steps_ms[1], SEC);
	assert_int_equal(policy_next_attempt(&p, 1, T0, T0, -1, &rng), T0 + SEC);
	/* Even a policy built by hand never retries sooner than the floor. */
	p.steps_ms[1] = 0;
	assert_int_equal(policy_next_attempt(&p, 2, T0, T0 + SEC, -1, &rng), T0 + 2 * SEC);

	/* The cap: at most POLICY_MAX_ATTEMPTS attempts, whatever the deadline. */
	assert_int_equal(parse_str("{\"schedule\": [1], \"deadlineSeconds\": 172800}", &p, &err),
	                 GERR_INVALID);
	assert_memory_equal(err.msg, "retryPolicy: ", 13);
	/* 1 + 99 999 steps of 1 s fit exactly; one second more does not. A day
	 * of 1 s steps (86 401 attempts) fits too. */
	assert_int_equal(parse_str("{\"schedule\": [1], \"deadlineSeconds\": 99999}", &p, &err), 0);
	assert_int_equal(parse_str("{\"schedule\": [1], \"deadlineSeconds\": 100000}", &p, &err),
	                 GERR_INVALID);
	assert_int_equal(parse_str("{\"schedule\": [1], \"deadlineSeconds\": 99999}", &p, &err), 0);
	assert_true(policy_next_attempt(&p, POLICY_MAX_ATTEMPTS - 1, T0, T0 + 1000, -1, &rng) > 0);
	assert_int_equal(policy_next_attempt(&p, POLICY_MAX_ATTEMPTS, T0, T0 + 1000, -1, &rng), -1);
	/* Long first steps leave room for more repeats of a long last one. */
	assert_int_equal(
	    parse_str("{\"schedule\": [3600, 26], \"deadlineSeconds\": 2592000}", &p, &err), 0);
	assert_int_equal(
	    parse_str("{\"schedule\": [3600, 25], \"deadlineSeconds\": 2592000}", &p, &err),
	    GERR_INVALID);
	/* acesso (51 841 attempts) is within the cap. */
	assert_int_equal(parse_str("\"acesso\"", &p, &err), 0);

	/* Exponential: initialSeconds has the same floor; the cap counts the
	 * jitter's low end (maxSeconds / 2). */
	assert_int_equal(parse_str("{\"exponential\": {\"initialSeconds\": 0.5, \"maxSeconds\": 60,"
	                           " \"deadlineSeconds\": 600}}",
	                           &p, &err),
	                 GERR_INVALID);
	assert_int_equal(parse_str("{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 1,"
	                           " \"deadlineSeconds\": 2592000}}",
	                           &p, &err),
	                 GERR_INVALID);
	assert_int_equal(parse_str("{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 3600,"
	                           " \"deadlineSeconds\": 2592000}}",
	                           &p, &err),
	                 0);
	/* Jitter of a 1 s delay would go down to 0.5 s: the floor holds. */
	assert_int_equal(parse_str("{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 1,"
	                           " \"deadlineSeconds\": 600}}",
	                           &p, &err),
	                 0);
	for (int k = 0; k < 100; k++)
		assert_int_equal(policy_next_attempt(&p, 3, T0, T0 + 10 * SEC, -1, &rng),
		                 T0 + 11 * SEC);
}

static void test_exponential(void **state)
{
	(void)state;
	struct policy p;
	struct gerr err;
	uint64_t rng = 0;

	assert_int_equal(parse_str("{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 60,"
	                           " \"deadlineSeconds\": 86400}}",
	                           &p, &err),
	                 0);
	assert_int_equal(p.kind, POLICY_EXPONENTIAL);
	assert_int_equal(p.initial_ms, 1000);
	assert_int_equal(p.max_ms, 60000);

	/* Nominal delays 1, 2, 4, 8, 16, 32, 60, 60 … s; each jittered into [d/2, d],
	 * but never under the 1 s floor. */
	for (int a = 1; a <= 200; a++) {
		int64_t d = a <= 6 ? (1000LL << (a - 1)) : 60000;
		int64_t lo = d, hi = 0;
		for (int k = 0; k < 400; k++) {
			int64_t next = policy_next_attempt(&p, a, T0, T0 + SEC, -1, &rng);
			assert_true(next >= 0);
			int64_t delay = next - (T0 + SEC);
			assert_true(delay >= (d / 2 < SEC ? SEC : d / 2));
			assert_true(delay <= d);
			if (delay < lo)
				lo = delay;
			if (delay > hi)
				hi = delay;
		}
		/* The jitter actually spreads over the range. */
		if (a == 1)
			assert_int_equal(lo, SEC);
		if (a == 2 || a == 3) {
			assert_true(lo < d / 2 + d / 8);
			assert_true(hi > d - d / 8);
		}
	}
	/* The rng state advances, and a zero state is seeded. */
	assert_true(rng != 0);

	/* Deadline. */
	assert_int_equal(policy_next_attempt(&p, 30, T0, T0 + DAY - 29 * SEC, -1, &rng), -1);
	assert_true(policy_next_attempt(&p, 30, T0, T0 + DAY - 61 * SEC, -1, &rng) > 0);

	/* Huge attempt counts do not overflow. */
	int64_t n = policy_next_attempt(&p, POLICY_MAX_ATTEMPTS - 1, T0, T0, -1, &rng);
	assert_true(n >= T0 + 30 * SEC && n <= T0 + 60 * SEC);
	assert_int_equal(policy_next_attempt(&p, 1 << 30, T0, T0, -1, &rng), -1);

	/* NULL rng is tolerated. */
	n = policy_next_attempt(&p, 1, T0, T0, -1, NULL);
	assert_int_equal(n, T0 + 1000);
}

static void test_retry_after(void **state)
{
	(void)state;
	struct policy p;
	uint64_t rng = 0;

	policy_default(&p);
	/* Longer than the policy's delay: pushes the next attempt later. */
	assert_int_equal(policy_next_attempt(&p, 1, T0, T0, 10 * MIN, &rng), T0 + 10 * MIN);
	/* Shorter: the policy's delay stands. */
	assert_int_equal(policy_next_attempt(&p, 1, T0, T0, 5 * SEC, &rng), T0 + MIN);
	assert_int_equal(policy_next_attempt(&p, 1, T0, T0, 0, &rng), T0 + MIN);
	/* Never past the deadline: up to it is fine; beyond it, one last try
	 * at the deadline (the docs' "never past the deadline"), not death. */
	assert_int_equal(policy_next_attempt(&p, 2, T0, T0 + MIN, 119 * MIN, &rng), T0 + 120 * MIN);
	assert_int_equal(policy_next_attempt(&p, 2, T0, T0 + MIN, 119 * MIN + 1, &rng),
	                 T0 + 120 * MIN);
	assert_int_equal(policy_next_attempt(&p, 2, T0, T0 + MIN, INT64_MAX, &rng), T0 + 120 * MIN);
	/* That last try failing again is the end, whatever it asks. */
	assert_int_equal(policy_next_attempt(&p, 3, T0, T0 + 120 * MIN, 10 * MIN, &rng), -1);
	assert_int_equal(policy_next_attempt(&p, 3, T0, T0 + 120 * MIN + 5, INT64_MAX, &rng), -1);
	/* The policy's own delay past the deadline still ends it at once. */
	assert_int_equal(policy_next_attempt(&p, 4, T0, T0 + 100 * MIN, INT64_MAX, &rng), -1);
}

/* The Retry-After header as a receiver may send it, hostile ones included. */
static void test_retry_after_header(void **state)
{
	(void)state;
	/* 1994-11-06 08:49:37 UTC */
	const int64_t at = 784111777000LL;

	assert_int_equal(policy_retry_after_ms("120", at), 120 * SEC);
	assert_int_equal(policy_retry_after_ms(" 0 ", at), 0);
	assert_int_equal(policy_retry_after_ms("2592000", at), 30 * DAY);
	/* Huge values saturate at 30 days instead of overflowing. */
	assert_int_equal(policy_retry_after_ms("9999999999999999", at), 30 * DAY);
	assert_int_equal(policy_retry_after_ms("99999999999999999999999999999999999999", at),
	                 30 * DAY);
	assert_int_equal(policy_retry_after_ms("9223372036854775808", at), 30 * DAY);
	/* Garbage, negatives and empties are ignored. */
	assert_int_equal(policy_retry_after_ms(NULL, at), -1);
	assert_int_equal(policy_retry_after_ms("", at), -1);
	assert_int_equal(policy_retry_after_ms("   ", at), -1);
	assert_int_equal(policy_retry_after_ms("-5", at), -1);
	assert_int_equal(policy_retry_after_ms("1.5", at), -1);
	assert_int_equal(policy_retry_after_ms("12abc", at), -1);
	assert_int_equal(policy_retry_after_ms("soon", at), -1);
	assert_int_equal(policy_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT trailing", at), -1);
	assert_int_equal(policy_retry_after_ms("Sun, 31 Foo 1994 08:49:37 GMT", at), -1);
	assert_int_equal(policy_retry_after_ms("Sun, 06 Nov 1994 25:49:37 GMT", at), -1);
	/* HTTP-date in its three forms. */
	assert_int_equal(policy_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", at - 5 * SEC),
	                 5 * SEC);
	assert_int_equal(policy_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", at - 5 * SEC),
	                 5 * SEC);
	assert_int_equal(policy_retry_after_ms("Sun Nov  6 08:49:37 1994", at - 5 * SEC), 5 * SEC);
	/* In the past: now. Far future: 30 days. */
	assert_int_equal(policy_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", at + MIN), 0);
	assert_int_equal(policy_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", at), 30 * DAY);
	assert_int_equal(policy_retry_after_ms("Thu, 01 Jan 1970 00:00:00 GMT", at), 0);
	assert_int_equal(
	    policy_retry_after_ms("Tue, 29 Feb 2028 12:00:00 GMT", 1835438400000LL - SEC), SEC);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "\"fast\"",
	    "\"\"",
	    "42",
	    "true",
	    "[1, 2]",
	    "{}",
	    /* schedule */
	    "{\"schedule\": [1]}",
	    "{\"schedule\": 5, \"deadlineSeconds\": 60}",
	    "{\"schedule\": [], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [\"1\"], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [1, null], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [-1], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [1], \"deadlineSeconds\": 0}",
	    "{\"schedule\": [1], \"deadlineSeconds\": -5}",
	    "{\"schedule\": [1], \"deadlineSeconds\": \"60\"}",
	    "{\"schedule\": [1], \"deadlineSeconds\": 2592001}",
	    "{\"schedule\": [2592001], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [1e300], \"deadlineSeconds\": 60}",
	    "{\"schedule\": [1], \"deadlineSeconds\": 60, \"extra\": 1}",
	    "{\"schedule\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
	    " \"deadlineSeconds\": 60}",
	    /* exponential */
	    "{\"exponential\": 5}",
	    "{\"exponential\": {\"initialSeconds\": 0, \"maxSeconds\": 60, \"deadlineSeconds\": "
	    "600}}",
	    "{\"exponential\": {\"initialSeconds\": -1, \"maxSeconds\": 60, \"deadlineSeconds\": "
	    "600}}",
	    "{\"exponential\": {\"initialSeconds\": 10, \"maxSeconds\": 5, \"deadlineSeconds\": "
	    "600}}",
	    "{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 60}}",
	    "{\"exponential\": {\"maxSeconds\": 60, \"deadlineSeconds\": 600}}",
	    "{\"exponential\": {\"initialSeconds\": 1, \"deadlineSeconds\": 600}}",
	    "{\"exponential\": {\"initialSeconds\": true, \"maxSeconds\": 60, \"deadlineSeconds\": "
	    "600}}",
	    "{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 60, \"deadlineSeconds\": "
	    "2592001}}",
	    "{\"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 60}, \"deadlineSeconds\": "
	    "600}",
	    /* both */
	    "{\"schedule\": [1], \"deadlineSeconds\": 60,"
	    " \"exponential\": {\"initialSeconds\": 1, \"maxSeconds\": 60, \"deadlineSeconds\": "
	    "600}}",
	};
	struct policy p, keep;

	policy_default(&keep);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gerr err;
		memset(&err, 0, sizeof(err));
		p = keep;
		if (parse_str(bad[i], &p, &err) != GERR_INVALID)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.status, 400);
		assert_string_equal(err.code, "invalid_field");
		assert_memory_equal(err.msg, "retryPolicy: ", 13);
		/* A refused value leaves the caller's policy as it was. */
		assert_memory_equal(&p, &keep, sizeof(p));
	}
	/* err may be NULL. */
	assert_int_equal(parse_str("\"fast\"", &p, NULL), GERR_INVALID);

	/* Exactly 30 days is allowed. */
	assert_int_equal(parse_str("{\"schedule\": [60], \"deadlineSeconds\": 2592000}", &p, NULL),
	                 0);
	assert_int_equal(p.deadline_ms, 30 * DAY);
}

/* roundtrip: parse text, serialise, parse again; both policies and the
 * JSON texts must agree. Reals are dumped with 15 digits, as jansson's
 * default 17 would print 0.2 as 0.20000000000000001. */
static void roundtrip(const char *text, const char *want)
{
	struct policy a, b;
	assert_int_equal(parse_str(text, &a, NULL), 0);
	json_t *j = policy_to_json(&a);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
	                            JSON_REAL_PRECISION(15));
	assert_non_null(s);
	assert_string_equal(s, want);
	assert_int_equal(policy_parse(j, &b, NULL), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(s);
	json_decref(j);
}

static void test_to_json(void **state)
{
	(void)state;
	roundtrip("\"gupy\"", "\"gupy\"");
	roundtrip("null", "\"gupy\"");
	roundtrip("\"acesso\"", "\"acesso\"");
	roundtrip("{\"schedule\": [1.2, 1, 10.0], \"deadlineSeconds\": 3600}",
	          "{\"deadlineSeconds\":3600,\"schedule\":[1.2,1,10]}");
	roundtrip("{\"exponential\": {\"initialSeconds\": 1.5, \"maxSeconds\": 300,"
	          " \"deadlineSeconds\": 86400.0}}",
	          "{\"exponential\":{\"deadlineSeconds\":86400,\"initialSeconds\":1.5,"
	          "\"maxSeconds\":300}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gupy_timings),
	    cmocka_unit_test(test_acesso),
	    cmocka_unit_test(test_schedule),
	    cmocka_unit_test(test_exponential),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_to_json),
	    cmocka_unit_test(test_floor_and_cap),
	    cmocka_unit_test(test_retry_after_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
