/*
 * test_round: the committer's round runs jobs of any kind through the same
 * steps (fill every job, one commit, after_commit each, the hand-over, done
 * each) without knowing the kinds: three kinds are defined here, one of them
 * with no rows at all, and round_run is the engine's own. The commit op is
 * the round's seam for the store: here it numbers the rows the way both
 * stores do (events' deliveries first, then delivery rows) and can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deliver/round.h"

/* What happened, in order, as one line of words. */
static char trace[2048];

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	size_t n = strlen(trace);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(trace + n, sizeof(trace) - n, fmt, ap);
	va_end(ap);
	n = strlen(trace);
	snprintf(trace + n, sizeof(trace) - n, " ");
}

/* One job of any of the test kinds. */
struct tjob {
	struct commit_job base;
	char name[8];
	int rows;       /* event kind: webhooks of its event; delivery kind: deliveries */
	bool fail;      /* fill fails, after adding its rows */
	bool duplicate; /* event kind: the store sees the event as a duplicate */
	int row;        /* its first row in the batch */
	int64_t seq;    /* event kind: the event's seq; delivery kind: the first delivery's */
	int64_t webhooks[4];
	bool done;
	int rc;
	char msg[256];
};

static struct tjob *tjob_new(const struct job_kind *kind, const char *name, int rows)
{
	struct tjob *j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->base.kind = kind;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->rows = rows;
	for (int i = 0; i < 4; i++)
		j->webhooks[i] = 10 + i;
	return j;
}

static void tjob_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct tjob *j = (struct tjob *)job;
	assert_false(j->done); /* once */
	j->done = true;
	j->rc = rc;
	snprintf(j->msg, sizeof(j->msg), "%s", err ? err->msg : "");
	step("done:%s:%d", j->name, rc);
}

/* the event kind: one event row with a lane and ownership flag per webhook */
static int event_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct tjob *j = (struct tjob *)job;
	step("fill:%s", j->name);
	uint8_t *mine = round_alloc(r, (size_t)j->rows + 1);
	struct store_event_in *ev = round_add_event(r, &j->row);
	if (!mine || !ev)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	memset(ev, 0, sizeof(*ev));
	ev->id = j->duplicate ? "dup" : j->name;
	ev->nwebhooks = j->rows;
	ev->webhook_seqs = j->webhooks;
	ev->mine = mine;
	if (j->fail)
		return gerr_set(err, GERR_INVALID, 400, "refused", "%s refused", j->name);
	return 0;
}

static void event_after_commit(struct commit_job *job, struct round *r)
{
	struct tjob *j = (struct tjob *)job;
	const struct store_event_in *ev = &r->b.events[j->row];
	step("after:%s", j->name);
	j->seq = ev->seq;
	for (int w = 0; !ev->duplicate && w < ev->nwebhooks; w++) {
		struct new_task *t = ev->mine[w] ? round_task(r) : NULL;
		if (t) {
			t->t.seq = ev->first_delivery + w;
			t->t.event_seq = ev->seq;
		}
	}
}

static const struct job_kind event_kind = {"event", event_fill, event_after_commit, tjob_done};

/* the delivery kind: rows for existing events */
static int delivery_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct tjob *j = (struct tjob *)job;
	step("fill:%s", j->name);
	struct store_delivery_in *dl = round_add_deliveries(r, j->rows, &j->row);
	if (!dl)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	for (int k = 0; k < j->rows; k++)
		dl[k] =
		    (struct store_delivery_in){.event_seq = 7, .webhook_seq = j->webhooks[k % 4]};
	if (j->fail)
		return gerr_set(err, GERR_INVALID, 400, "refused", "%s refused", j->name);
	return 0;
}

static void delivery_after_commit(struct commit_job *job, struct round *r)
{
	struct tjob *j = (struct tjob *)job;
	step("after:%s", j->name);
	j->seq = r->b.deliveries[j->row].seq;
	for (int k = 0; k < j->rows; k++) {
		struct new_task *t = round_task(r);
		assert_true(!t == !round_handing_over(r)); /* NULL only when lost */
		if (t)
			t->t.seq = r->b.deliveries[j->row + k].seq;
	}
}

static const struct job_kind delivery_kind = {"delivery", delivery_fill, delivery_after_commit,
                                              tjob_done};

/* a kind with no rows of its own: it still takes part in every step */
static int note_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	step("fill:%s", ((struct tjob *)job)->name);
	return 0;
}

static void note_after_commit(struct commit_job *job, struct round *r)
{
	step("after:%s", ((struct tjob *)job)->name);
}

static const struct job_kind note_kind = {"note", note_fill, note_after_commit, tjob_done};

/* The owner: a commit that numbers rows as the stores do, or fails. */
struct towner {
	struct round r;
	int fail_commit;
	int64_t next_event, next_delivery;
	int64_t handed[64];
	int nhanded;
	int lost;
	/* routed deliveries the store's decide step makes inside the commit,
	 * each with its rendered request in memory (receipts.c's way) */
	int routes;
	int not_mine;      /* the index of a routed one another node owns, or -1 */
	bool decide_twice; /* the commit decides its receipts twice (tried again) */
	int shared;     /* the index of a routed one naming a shared request stored before, or -1 */
	int own_marker; /* the index of one storing a shared request (STORE_BODY_OWN_RECEIPT), or -1
	                 */
	char handed_req[64][256]; /* per handed task: "<event_id> <method> <first line>" */
};

/* towner_decide: o->routes routed deliveries, as the store's decide step
 * makes them; their seqs are given as the store gives them, after. */
static void towner_decide(struct towner *o, struct round *r)
{
	static const struct store_request_in own = {.method = "PUT",
	                                            .url = "https://93.184.216.34/x",
	                                            .headers = "{\"X-A\":\"1\"}",
	                                            .body = "{}",
	                                            .body_len = 2};
	r->b.nrouted = 0; /* as both stores do at the start of a commit */
	for (int i = 0; i < o->routes; i++) {
		struct store_delivery_in *d = store_batch_route(&r->b);
		assert_non_null(d);
		static const struct store_request_in marked = {.method = "PUT",
		                                               .url = "https://93.184.216.34/x",
		                                               .headers = "{\"X-A\":\"1\"}",
		                                               .body_receipt_seq =
		                                                   STORE_BODY_OWN_RECEIPT};
		/* a request of its own, a shared one it stores, or one an earlier
		 * commit stored */
		d->request = i == o->shared ? NULL : i == o->own_marker ? &marked : &own;
		d->request_seq = i == o->shared ? 555 : 0;
		struct request_form *f = NULL;
		char why[256];
		assert_int_equal(request_form_new("PUT", "https://93.184.216.34/x",
		                                  "{\"X-A\":\"1\",\"Content-Type\":\"text/plain\"}",
		                                  2, false, &f, why, sizeof(why)),
		                 0);
		char *body = strdup("{}");
		assert_non_null(body);
		struct payload *p = payload_new(0, "", body, 2);
		assert_non_null(p);
		p->req = f;
		assert_true(round_route_body(r, (int)(d - r->b.routed), p));
		d->mine = i != o->not_mine;
	}
}

static int towner_commit(struct round *r, struct gerr *err)
{
	struct towner *o = (struct towner *)r;
	step("commit:%d/%d", r->b.nevents, r->b.ndeliveries);
	if (o->fail_commit) {
		if (o->routes) /* it failed after deciding */
			towner_decide(o, r);
		return gerr_set(err, GERR_IO, 503, "unavailable", "store down");
	}
	for (int i = 0; i < r->b.nevents; i++) {
		struct store_event_in *ev = &r->b.events[i];
		ev->duplicate = strcmp(ev->id, "dup") == 0;
		if (ev->duplicate)
			continue;
		ev->seq = ++o->next_event;
		ev->first_delivery = o->next_delivery + 1;
		o->next_delivery += ev->nwebhooks;
		for (int w = 0; w < ev->nwebhooks; w++)
			ev->mine[w] = 1;
	}
	for (int i = 0; i < r->b.ndeliveries; i++) {
		r->b.deliveries[i].seq = ++o->next_delivery;
		r->b.deliveries[i].mine = true;
	}
	if (o->routes) {
		towner_decide(o, r);
		if (o->decide_twice)
			towner_decide(o, r);
		for (int i = 0; i < r->b.nrouted; i++) {
			r->b.routed[i].seq = ++o->next_delivery;
			if (r->b.routed[i].request)
				r->b.routed[i].request_seq = 100 + r->b.routed[i].seq;
		}
	}
	return 0;
}

static void towner_lost(struct round *r, int n)
{
	((struct towner *)r)->lost += n;
	step("lost:%d", n);
}

static void towner_committed(struct round *r)
{
	struct towner *o = (struct towner *)r;
	step("committed:%d", r->ntasks);
	for (int i = 0; i < r->ntasks; i++) {
		struct payload *p = r->tasks[i].payload;
		if (o->nhanded < 64) {
			if (p && p->req)
				snprintf(o->handed_req[o->nhanded], sizeof(o->handed_req[0]),
				         "%s %s %s", p->event_id, p->req->method,
				         p->req->nlines ? p->req->lines[0] : "");
			o->handed[o->nhanded++] = r->tasks[i].t.seq;
		}
		payload_unref(p); /* the dispatcher's, had it been posted */
	}
}

static const struct round_ops towner_ops = {towner_commit, towner_lost, towner_committed};

static struct towner *towner_new(void)
{
	struct towner *o = calloc(1, sizeof(*o));
	assert_non_null(o);
	round_init(&o->r, &towner_ops, o);
	o->not_mine = -1;
	o->shared = -1;
	o->own_marker = -1;
	trace[0] = '\0';
	return o;
}

static void towner_free(struct towner *o)
{
	round_free(&o->r);
	free(o);
}

/* queue: the jobs as a queue, in the order given. */
static struct commit_job *queue(struct tjob **jobs, int n)
{
	for (int i = 0; i < n; i++)
		jobs[i]->base.next = i + 1 < n ? &jobs[i + 1]->base : NULL;
	return n ? &jobs[0]->base : NULL;
}

/* finish: the end of a test: the jobs and the owner go. */
static void finish(struct towner *o, struct tjob **jobs, int n)
{
	for (int i = 0; i < n; i++)
		free(jobs[i]);
	towner_free(o);
}

/* run: a round of the n jobs, which must commit with the trace expect. */
static void run(struct towner *o, struct tjob **jobs, int n, const char *expect)
{
	trace[0] = '\0';
	assert_int_equal(round_run(&o->r, queue(jobs, n)), 0);
	assert_string_equal(trace, expect);
}

/* run_one: run with the job j alone, then frees it. */
static void run_one(struct towner *o, struct tjob *j, const char *expect)
{
	run(o, &j, 1, expect);
	free(j);
}

/* Runs first: GANCHO_FAULTS (set in main) fails the process's first
 * hand-over allocation. The rows stay committed and every job is answered;
 * the owner hears how many deliveries were lost and nothing is handed over. */
static void test_lost_handover_is_reported_and_jobs_answered(void **state)
{
	struct towner *o = towner_new();
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 2), tjob_new(&delivery_kind, "B", 3)};
	run(o, jobs, 2,
	    "fill:A fill:B commit:1/3 lost:5 after:A after:B committed:0 done:A:0 done:B:0 ");
	/* the rows were committed and read back all the same */
	assert_true(jobs[0]->seq == 1 && jobs[1]->seq == 3 && o->lost == 5);
	finish(o, jobs, 2);
}

static void test_every_kind_goes_through_every_step(void **state)
{
	struct towner *o = towner_new();
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 2), tjob_new(&note_kind, "N", 0),
	                       tjob_new(&delivery_kind, "B", 1), tjob_new(&event_kind, "C", 1)};
	/* one commit for all rows; after_commit and done in queue order */
	run(o, jobs, 4,
	    "fill:A fill:N fill:B fill:C commit:2/1 after:A after:N "
	    "after:B after:C committed:4 done:A:0 done:N:0 done:B:0 "
	    "done:C:0 ");
	/* the store's numbering: events' deliveries 1-2 (A) and 3 (C), then B's 4 */
	assert_int_equal(jobs[0]->seq, 1);
	assert_int_equal(jobs[3]->seq, 2);
	assert_int_equal(jobs[2]->seq, 4);
	assert_int_equal(o->nhanded, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(o->handed[i], i + 1); /* in seq order */

	/* the round is empty again: the next one starts from no rows */
	run_one(o, tjob_new(&delivery_kind, "D", 2),
	        "fill:D commit:0/2 after:D committed:2 done:D:0 ");
	finish(o, jobs, 4);
}

/* Kinds in any order in the queue: the dispatcher still gets seq order. */
static void test_handover_in_seq_order_whatever_the_queue(void **state)
{
	struct towner *o = towner_new();
	struct tjob *jobs[] = {tjob_new(&delivery_kind, "B", 2), tjob_new(&event_kind, "A", 3)};
	assert_int_equal(round_run(&o->r, queue(jobs, 2)), 0);
	assert_int_equal(o->nhanded, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(o->handed[i], i + 1);
	finish(o, jobs, 2);
}

/* A job whose fill fails is answered at once with its own error, and its
 * rows (added before it failed) are not committed; the others are. */
static void test_failed_fill_fails_that_job_alone(void **state)
{
	struct towner *o = towner_new();
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 1), tjob_new(&event_kind, "X", 2),
	                       tjob_new(&delivery_kind, "Y", 2), tjob_new(&delivery_kind, "B", 1)};
	jobs[1]->fail = true;
	jobs[2]->fail = true;
	run(o, jobs, 4,
	    "fill:A fill:X done:X:-1 fill:Y done:Y:-1 fill:B commit:1/1 "
	    "after:A after:B committed:2 done:A:0 done:B:0 ");
	assert_string_equal(jobs[1]->msg, "X refused");
	assert_string_equal(jobs[2]->msg, "Y refused");
	assert_true(jobs[0]->seq == 1 && jobs[3]->seq == 2);
	finish(o, jobs, 4);
}

/* A failed commit: no after_commit, no hand-over, every job gets the error. */
static void test_failed_commit_answers_every_job(void **state)
{
	struct towner *o = towner_new();
	o->fail_commit = 1;
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 1), tjob_new(&note_kind, "N", 0),
	                       tjob_new(&delivery_kind, "B", 2)};
	int rc = round_run(&o->r, queue(jobs, 3));
	assert_int_equal(rc, GERR_IO);
	assert_string_equal(trace, "fill:A fill:N fill:B commit:1/2 done:A:-4 done:N:-4 "
	                           "done:B:-4 ");
	for (int i = 0; i < 3; i++) {
		assert_true(jobs[i]->done);
		assert_string_equal(jobs[i]->msg, "store down");
	}
	assert_int_equal(o->nhanded, 0);
	finish(o, jobs, 3);
}

/* A duplicate event makes no deliveries: nothing of it is handed over, and
 * a round of duplicates alone has no hand-over at all. */
static void test_duplicates_hand_nothing_over(void **state)
{
	struct towner *o = towner_new();
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 2), tjob_new(&event_kind, "D", 2)};
	jobs[1]->duplicate = true;
	run(o, jobs, 2,
	    "fill:A fill:D commit:2/0 after:A after:D committed:2 "
	    "done:A:0 done:D:0 ");

	struct tjob *dup = tjob_new(&event_kind, "E", 3);
	dup->duplicate = true;
	run_one(o, dup, "fill:E commit:1/0 after:E committed:0 done:E:0 ");
	finish(o, jobs, 2);
}

/* An empty queue still commits (outcomes ride on it). */
static void test_no_jobs_still_commits(void **state)
{
	struct towner *o = towner_new();
	assert_int_equal(round_run(&o->r, NULL), 0);
	assert_string_equal(trace, "commit:0/0 committed:0 ");
	towner_free(o);
}

/* Scratch memory: zeroed, aligned, any size, across chunks. */
static void test_round_alloc(void **state)
{
	struct towner *o = towner_new();
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(i % 7 == 0 ? 40000 : 1 + i % 97);
		unsigned char *p = round_alloc(&o->r, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(p[k], 0);
		memset(p, 0xab, n);
	}
	assert_int_equal(round_run(&o->r, NULL), 0); /* frees it */
	towner_free(o);
}

/* A route action's delivery goes to the dispatcher with its rendered
 * request in memory, checked, its headers as libcurl lines and its message
 * id named after the stored request: its first attempt reads nothing. One
 * another node owns is not handed over, and neither is the request of a
 * decision made again (a commit tried again): both are released (the
 * sanitizer's leak check sees it). */
static void test_routed_requests_go_over_in_memory(void **state)
{
	struct towner *o = towner_new();
	o->routes = 3;
	o->not_mine = 1;
	o->decide_twice = true;
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 1)};
	run(o, jobs, 1, "fill:A commit:1/0 after:A committed:3 done:A:0 ");
	assert_int_equal(o->nhanded, 3);
	assert_int_equal(o->handed[0], 1); /* the event's delivery: no request */
	assert_string_equal(o->handed_req[0], "");
	assert_int_equal(o->handed[1], 2);
	assert_string_equal(o->handed_req[1], "req_102 PUT X-A: 1");
	assert_int_equal(o->handed[2], 4);
	assert_string_equal(o->handed_req[2], "req_104 PUT X-A: 1");
	finish(o, jobs, 1);
}

/* A shared request is one message per delivery: the id names the delivery
 * too, whether the round stored the request or an earlier one did; the
 * form cache learns the one a committed round stored, and only that one. */
static void test_shared_requests_named_per_delivery(void **state)
{
	struct towner *o = towner_new();
	struct form_cache fc = {0};
	struct request_form *f = NULL;
	char why[256];
	assert_int_equal(form_cache_get(&fc, "PUT", "https://93.184.216.34/x", "{\"X-A\":\"1\"}", 2,
	                                false, &f, why, sizeof(why)),
	                 0);
	request_form_unref(f);
	o->r.forms = &fc;
	o->routes = 3;
	o->own_marker = 1;
	o->shared = 2;
	struct tjob *jobs[] = {tjob_new(&event_kind, "A", 1)};
	run(o, jobs, 1, "fill:A commit:1/0 after:A committed:4 done:A:0 ");
	assert_int_equal(o->nhanded, 4);
	assert_string_equal(o->handed_req[1], "req_102 PUT X-A: 1");   /* its own */
	assert_string_equal(o->handed_req[2], "req_103_3 PUT X-A: 1"); /* stored shared */
	assert_string_equal(o->handed_req[3], "req_555_4 PUT X-A: 1"); /* named shared */
	assert_int_equal(
	    form_cache_request(&fc, "PUT", "https://93.184.216.34/x", "{\"X-A\":\"1\"}"), 103);
	assert_int_equal(
	    form_cache_request(&fc, "PUT", "https://93.184.216.34/y", "{\"X-A\":\"1\"}"), 0);
	finish(o, jobs, 1);
	form_cache_free(&fc);
}

/* A commit that fails after its receipts were decided releases the
 * requests made for them; the next round starts clean. */
static void test_failed_commit_releases_routed_requests(void **state)
{
	struct towner *o = towner_new();
	o->routes = 2;
	o->fail_commit = 1;
	struct tjob *j = tjob_new(&event_kind, "A", 1);
	assert_int_equal(round_run(&o->r, queue(&j, 1)), GERR_IO);
	assert_string_equal(trace, "fill:A commit:1/0 done:A:-4 ");
	o->fail_commit = 0;
	o->routes = 1;
	j->done = false;
	run_one(o, j, "fill:A commit:1/0 after:A committed:2 done:A:0 ");
	assert_int_equal(o->nhanded, 2);
	assert_string_equal(o->handed_req[1], "req_102 PUT X-A: 1");
	towner_free(o);
}

/* The checks a stored request gets before it is sent, whichever way it
 * came (bodies.c): the same rules as a webhook's config. */
static void test_request_form_checks(void **state)
{
	struct request_form *f = NULL;
	char why[256];
	assert_int_equal(request_form_new("POST", "https://93.184.216.34/in",
	                                  "{\"A\":\"x\\r\\ny\"}", 0, false, &f, why, sizeof(why)),
	                 -1);
	assert_null(f);
	assert_non_null(strstr(why, "stored request refused: headers: A: value contains CR or LF"));
	assert_int_equal(
	    request_form_new("POST", "https://10.0.0.1/in", "{}", 0, false, &f, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "stored request refused: url: "));
	assert_int_equal(request_form_new("HEAD", "https://93.184.216.34/in", "{}", 3, false, &f,
	                                  why, sizeof(why)),
	                 -1);
	assert_string_equal(why, "stored request refused: HEAD with a body");
	assert_int_equal(request_form_new("GE T", "https://93.184.216.34/in", "{}", 0, false, &f,
	                                  why, sizeof(why)),
	                 -1);
	assert_int_equal(request_form_new("POST", "https://93.184.216.34/in", "[1]", 0, false, &f,
	                                  why, sizeof(why)),
	                 -1);
	assert_int_equal(request_form_new("PATCH", "https://93.184.216.34/in",
	                                  "{\"content-type\":\"a/b\",\"X-E\":\" \"}", 0, false, &f,
	                                  why, sizeof(why)),
	                 0);
	assert_string_equal(f->method, "PATCH");
	assert_int_equal(f->nlines, 2);
	assert_true(f->has_type && !f->has_accept);
	assert_string_equal(f->lines[0], "content-type: a/b");
	assert_string_equal(f->lines[1], "X-E;"); /* an empty value, libcurl's way */
	request_form_unref(f);
}

/* The committer's form cache: one form per method, URL, headers and
 * body-or-not, shared by reference; refusals are never kept; a full cache
 * replaces its oldest entry and the forms handed out outlive it. */
static void test_form_cache(void **state)
{
	(void)state;
	struct form_cache c = {0};
	struct request_form *a, *b, *x, *h;
	char why[256];
	const char *url = "https://93.184.216.34/in", *hd = "{\"Content-Type\":\"a/b\"}";
	assert_int_equal(form_cache_get(&c, "POST", url, hd, 10, false, &a, why, sizeof(why)), 0);
	assert_int_equal(form_cache_get(&c, "POST", url, hd, 20, false, &b, why, sizeof(why)), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 3); /* two handed out and the cache's */
	assert_int_equal(form_cache_get(&c, "PUT", url, hd, 10, false, &x, why, sizeof(why)), 0);
	assert_ptr_not_equal(x, a);
	assert_string_equal(x->method, "PUT");
	request_form_unref(x);
	assert_int_equal(form_cache_get(&c, "POST", "https://93.184.216.34/other", hd, 10, false,
	                                &x, why, sizeof(why)),
	                 0);
	assert_ptr_not_equal(x, a);
	assert_string_equal(x->url, "https://93.184.216.34/other");
	request_form_unref(x);
	assert_int_equal(form_cache_get(&c, "POST", url, "{}", 10, false, &x, why, sizeof(why)), 0);
	assert_ptr_not_equal(x, a);
	assert_int_equal(x->nlines, 0);
	request_form_unref(x);
	/* HEAD without a body is a form; with one it is refused, every time */
	assert_int_equal(form_cache_get(&c, "HEAD", url, "{}", 0, false, &h, why, sizeof(why)), 0);
	for (int i = 0; i < 2; i++) {
		x = NULL;
		assert_int_equal(
		    form_cache_get(&c, "HEAD", url, "{}", 3, false, &x, why, sizeof(why)), -1);
		assert_null(x);
		assert_string_equal(why, "stored request refused: HEAD with a body");
	}
	/* a private address refused, then allowed: refusals were not kept */
	assert_int_equal(
	    form_cache_get(&c, "POST", "https://10.0.0.1/in", "{}", 1, false, &x, why, sizeof(why)),
	    -1);
	assert_int_equal(
	    form_cache_get(&c, "POST", "https://10.0.0.1/in", "{}", 1, true, &x, why, sizeof(why)),
	    0);
	request_form_unref(x);
	/* more distinct forms than entries: a is replaced, its holders keep it */
	for (int i = 0; i < FORM_CACHE_SIZE; i++) {
		char u[64];
		snprintf(u, sizeof(u), "https://93.184.216.34/n%d", i);
		assert_int_equal(form_cache_get(&c, "POST", u, hd, 1, false, &x, why, sizeof(why)),
		                 0);
		request_form_unref(x);
	}
	assert_int_equal(a->refs, 2);
	assert_int_equal(form_cache_get(&c, "POST", url, hd, 10, false, &x, why, sizeof(why)), 0);
	assert_ptr_not_equal(x, a);
	assert_string_equal(a->lines[0], "Content-Type: a/b");
	request_form_unref(x);
	request_form_unref(a);
	request_form_unref(b);
	request_form_unref(h);
	form_cache_free(&c);
}

int main(void)
{
	setenv("GANCHO_FAULTS", "handover_alloc:1", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lost_handover_is_reported_and_jobs_answered),
	    cmocka_unit_test(test_form_cache),
	    cmocka_unit_test(test_shared_requests_named_per_delivery),
	    cmocka_unit_test(test_every_kind_goes_through_every_step),
	    cmocka_unit_test(test_handover_in_seq_order_whatever_the_queue),
	    cmocka_unit_test(test_failed_fill_fails_that_job_alone),
	    cmocka_unit_test(test_failed_commit_answers_every_job),
	    cmocka_unit_test(test_duplicates_hand_nothing_over),
	    cmocka_unit_test(test_no_jobs_still_commits),
	    cmocka_unit_test(test_round_alloc),
	    cmocka_unit_test(test_routed_requests_go_over_in_memory),
	    cmocka_unit_test(test_failed_commit_releases_routed_requests),
	    cmocka_unit_test(test_request_form_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
