/*
 * round: one group commit of the committer, kind-agnostic. See round.h for
 * the steps and how a kind of job joins them.
 */
#include "deliver/round.h"

#include <assert.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"

/* Scratch memory of a round: bump-allocated chunks, freed together. */
struct round_chunk {
	struct round_chunk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

enum { ROUND_CHUNK = 16384 };

void round_init(struct round *r, const struct round_ops *ops, void *owner)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->owner = owner;
}

/* round_reset: empty the round; its row arrays are kept for the next one. */
static void round_reset(struct round *r)
{
	for (struct round_chunk *c = r->arena, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	r->arena = NULL;
	for (int i = 0; i < r->caprouted_bodies; i++) {
		payload_unref(r->routed_bodies[i]);
		r->routed_bodies[i] = NULL;
	}
	free(r->tasks);
	r->tasks = NULL;
	r->ntasks = r->captasks = 0;
	r->b.nevents = r->b.ndeliveries = r->b.nreceipts = r->b.nrouted = r->b.nrejections = 0;
	r->nreplays = 0;
	r->b.nreplays = 0;
	r->b.apply_due_before = 0;
	r->b.applied = 0;
	r->b.outcomes = NULL;
	r->b.noutcomes = 0;
	r->b.changes = NULL;
	r->b.nchanges = 0;
}

void round_free(struct round *r)
{
	round_reset(r);
	free(r->b.events);
	free(r->b.deliveries);
	free(r->b.receipts);
	free(r->b.routed);
	free(r->routed_bodies);
	r->routed_bodies = NULL;
	r->caprouted_bodies = 0;
	free(r->b.rejections);
	r->b.rejections = NULL;
	r->caprejections = 0;
	free(r->replays);
	r->replays = NULL;
	r->b.replays = NULL;
	r->capreplays = 0;
	r->b.events = NULL;
	r->b.deliveries = NULL;
	r->b.receipts = NULL;
	r->b.routed = NULL;
	r->capevents = r->capdeliveries = r->capreceipts = 0;
	r->b.cap_routed = 0;
}

void *round_alloc(struct round *r, size_t n)
{
	if (fault_hit("round_alloc"))
		return NULL;
	const size_t align = alignof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	struct round_chunk *c = r->arena;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ROUND_CHUNK ? n : ROUND_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = r->arena;
		r->arena = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

struct store_event_in *round_add_event(struct round *r, int *index)
{
	if (!array_reserve((void **)&r->b.events, &r->capevents, r->b.nevents + 1,
	                   sizeof(*r->b.events), 64))
		return NULL;
	*index = r->b.nevents;
	return &r->b.events[r->b.nevents++];
}

struct store_delivery_in *round_add_deliveries(struct round *r, int n, int *index)
{
	if (n < 0 || n > INT_MAX - r->b.ndeliveries ||
	    !array_reserve((void **)&r->b.deliveries, &r->capdeliveries, r->b.ndeliveries + n,
	                   sizeof(*r->b.deliveries), 64))
		return NULL;
	*index = r->b.ndeliveries;
	r->b.ndeliveries += n;
	return &r->b.deliveries[*index];
}

struct store_receipt_in *round_add_receipt(struct round *r, int *index)
{
	if (!array_reserve((void **)&r->b.receipts, &r->capreceipts, r->b.nreceipts + 1,
	                   sizeof(*r->b.receipts), 64))
		return NULL;
	*index = r->b.nreceipts;
	return &r->b.receipts[r->b.nreceipts++];
}

bool round_add_replay(struct round *r, int64_t receipt_seq)
{
	if (!array_reserve((void **)&r->replays, &r->capreplays, r->nreplays + 1,
	                   sizeof(*r->replays), 16))
		return false;
	r->replays[r->nreplays++] = receipt_seq;
	r->b.replays = r->replays;
	r->b.nreplays = r->nreplays;
	return true;
}

bool round_route_body(struct round *r, int i, struct payload *p)
{
	assert(i >= 0 && i < r->b.nrouted);
	if (i >= r->caprouted_bodies) {
		int cap = r->caprouted_bodies;
		if (!array_reserve((void **)&r->routed_bodies, &cap, i + 1,
		                   sizeof(*r->routed_bodies), 16)) {
			payload_unref(p);
			return false;
		}
		memset(r->routed_bodies + r->caprouted_bodies, 0,
		       (size_t)(cap - r->caprouted_bodies) * sizeof(*r->routed_bodies));
		r->caprouted_bodies = cap;
	}
	/* a commit tried again decides its receipts again: the older one goes */
	payload_unref(r->routed_bodies[i]);
	r->routed_bodies[i] = p;
	return true;
}

struct store_rejection_in *round_add_rejection(struct round *r)
{
	if (!array_reserve((void **)&r->b.rejections, &r->caprejections, r->b.nrejections + 1,
	                   sizeof(*r->b.rejections), 16))
		return NULL;
	return &r->b.rejections[r->b.nrejections++];
}

bool round_handing_over(const struct round *r)
{
	return r->tasks != NULL;
}

struct new_task *round_task(struct round *r)
{
	if (!r->tasks)
		return NULL;
	/* the slots were counted from the round's rows: a kind hands over only
	 * deliveries its rows made */
	assert(r->ntasks < r->captasks);
	if (r->ntasks >= r->captasks)
		return NULL;
	return &r->tasks[r->ntasks++];
}

/* handover_begin: room for every new delivery of the committed rows; the
 * owner's lost op when it cannot be had. */
static void handover_begin(struct round *r)
{
	int n = r->b.ndeliveries + r->b.nrouted;
	for (int i = 0; i < r->b.nevents; i++)
		if (!r->b.events[i].duplicate)
			n += r->b.events[i].nwebhooks;
	if (n == 0)
		return;
	r->tasks = calloc((size_t)n, sizeof(*r->tasks));
	if (!r->tasks || fault_hit("handover_alloc")) {
		free(r->tasks);
		r->tasks = NULL;
		r->ops->lost(r, n);
		return;
	}
	r->captasks = n;
	r->now = clock_now_ms();
}

/* routed_shared: x sends a shared request (its receipt's body under a
 * request stored once for its action: STORE_BODY_OWN_RECEIPT), its own or
 * one an earlier round stored. */
static bool routed_shared(const struct store_delivery_in *x)
{
	return x->request ? x->request->body_receipt_seq == STORE_BODY_OWN_RECEIPT
	                  : x->request_seq != 0;
}

/* note_shared: the shared requests this committed round stored, for the
 * form cache to name to later rounds' deliveries. */
static void note_shared(struct round *r)
{
	for (int i = 0; r->forms && i < r->b.nrouted; i++) {
		const struct store_delivery_in *x = &r->b.routed[i];
		if (x->request && x->request_seq && routed_shared(x))
			form_cache_note_request(r->forms, x->request->method, x->request->url,
			                        x->request->headers, x->request_seq);
	}
}

/* handover_routed: the deliveries the store's decide step made inside the
 * commit (routes of receipts, of this round's jobs or of waiting receipts
 * that came due) belong to no job: the round hands them over itself. */
static void handover_routed(struct round *r)
{
	for (int i = 0; i < r->b.nrouted; i++) {
		const struct store_delivery_in *x = &r->b.routed[i];
		struct new_task *t = x->mine && !x->fail_error ? round_task(r) : NULL;
		if (!t)
			continue;
		t->t.seq = x->seq;
		t->t.event_seq = x->event_seq;
		t->t.request_seq = x->request_seq;
		t->t.webhook_seq = x->webhook_seq;
		t->t.next_at = r->now;
		if (x->okey)
			snprintf(t->t.okey, sizeof(t->t.okey), "%s", x->okey);
		/* its rendered request, in memory: the first attempt reads nothing */
		struct payload *p = i < r->caprouted_bodies ? r->routed_bodies[i] : NULL;
		if (p && x->request_seq) {
			body_request_name(p, x->request_seq, routed_shared(x) ? x->seq : 0);
			t->payload = p;
			r->routed_bodies[i] = NULL;
		}
	}
}

static int task_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct new_task *)a)->t.seq, y = ((const struct new_task *)b)->t.seq;
	return (x > y) - (x < y);
}

/* handover_sort: the dispatcher gets a round's deliveries in seq order (the
 * store's insertion order), whatever the order of the jobs' kinds. */
static void handover_sort(struct round *r)
{
	for (int i = 1; i < r->ntasks; i++)
		if (r->tasks[i].t.seq < r->tasks[i - 1].t.seq) {
			qsort(r->tasks, (size_t)r->ntasks, sizeof(*r->tasks), task_cmp);
			return;
		}
}

int round_run(struct round *r, struct commit_job *jobs)
{
	/* fill: a job that cannot add its rows fails alone, answered now */
	struct commit_job *head = NULL, **tail = &head;
	for (struct commit_job *j = jobs, *next; j; j = next) {
		next = j->next;
		int nevents = r->b.nevents, ndeliveries = r->b.ndeliveries;
		int nreceipts = r->b.nreceipts, nrejections = r->b.nrejections;
		int nreplays = r->nreplays;
		struct gerr jerr = {0};
		int jrc = j->kind->fill(j, r, &jerr);
		if (jrc) {
			r->b.nrejections = nrejections;
			r->nreplays = r->b.nreplays = nreplays;
			r->b.nevents = nevents;
			r->b.ndeliveries = ndeliveries;
			r->b.nreceipts = nreceipts;
			j->kind->done(j, jrc, &jerr);
			continue;
		}
		j->next = NULL;
		*tail = j;
		tail = &j->next;
	}
	struct gerr err = {0};
	int rc = r->ops->commit(r, &err);
	if (rc == 0) {
		handover_begin(r);
		for (struct commit_job *j = head; j; j = j->next)
			j->kind->after_commit(j, r);
		handover_routed(r);
		note_shared(r);
		handover_sort(r);
		r->ops->committed(r);
	}
	for (struct commit_job *j = head, *next; j; j = next) {
		next = j->next;
		j->kind->done(j, rc, &err);
	}
	round_reset(r);
	return rc;
}
