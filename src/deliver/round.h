/*
 * round: one group commit of the committer, whatever the jobs in it are.
 *
 * A job (struct commit_job, engine.h) is a tagged item: its kind is a table
 * of three steps, and round_run calls them without knowing what the job is:
 *
 *   fill          every job, in queue order, adds its rows to the round's
 *                 store_batch (round_add_event, round_add_deliveries) and
 *                 takes scratch memory that lives as long as the round
 *                 (round_alloc). A failing fill fails that job only: its
 *                 rows are taken out again and it is answered at once.
 *   commit        the owner's op writes the whole batch in one transaction.
 *   after_commit  only when the commit succeeded: every job reads back what
 *                 the store gave it (seqs, duplicates) and hands its new
 *                 deliveries to the dispatcher (round_task); the round hands
 *                 over the deliveries the store's decide step made (routes
 *                 of receipts: b.routed); then the owner's committed op
 *                 posts them all, in seq order.
 *   done          every job, once, with the round's result: the submitter
 *                 is answered. Nothing is acknowledged before COMMIT.
 *
 * A new kind of job (for example inbound receipts) is one more kind table
 * and its three functions; round_run does not change. Rows of a new table
 * need a new array in store_batch and a round_add_* beside the others.
 *
 * The round does no I/O of its own: the commit and the posting are the
 * owner's ops (committer.c), so round_run is unit-tested without a store
 * (tests/unit/test_round.c).
 */
#ifndef GANCHO_DELIVER_ROUND_H
#define GANCHO_DELIVER_ROUND_H

#include "deliver/engine_internal.h"

struct round;

/* The steps of one kind of job; see the top comment. */
struct job_kind {
	const char *name;
	/* fill: add the job's rows to r->b; 0, or an error with err set (the
	 * job alone fails, and done runs at once with that error). */
	int (*fill)(struct commit_job *job, struct round *r, struct gerr *err);
	/* after_commit: the commit succeeded; read the rows back, hand over. */
	void (*after_commit)(struct commit_job *job, struct round *r);
	/* done: answer the submitter with rc (0 or the error, err). The job
	 * may be freed by it: the round does not touch it afterwards. */
	void (*done)(struct commit_job *job, int rc, const struct gerr *err);
};

/* What the round's owner does around the jobs. */
struct round_ops {
	/* commit: write r->b in one transaction; 0, or an error with err set. */
	int (*commit)(struct round *r, struct gerr *err);
	/* lost: the n new deliveries of a committed round could not be handed
	 * over (out of memory); they are in the store, r->b says which. */
	void (*lost)(struct round *r, int n);
	/* committed: after every after_commit, before any done. The hand-over
	 * is r->tasks[0..ntasks), sorted by seq; the op may take the array
	 * (then it sets r->tasks to NULL). */
	void (*committed)(struct round *r);
};

struct round_chunk;

struct round {
	struct store_batch b; /* the rows of this round; outcomes and changes are the owner's */
	int capevents, capdeliveries, capreceipts, caprejections;
	int64_t *replays; /* receipts routed again (b.replays points here) */
	int nreplays, capreplays;
	const struct round_ops *ops;
	void *owner; /* the engine, for the kinds' steps */
	/* the hand-over, during after_commit: NULL when there is nothing to hand
	 * over or it was lost */
	struct new_task *tasks;
	int ntasks, captasks;
	int64_t now; /* the hand-over's time (clock_now_ms) */
	struct round_chunk *arena;
	/* the bodies of b.routed's deliveries, by index (NULL: none in memory;
	 * the dispatcher reads the stored request) */
	struct payload **routed_bodies;
	int caprouted_bodies;
	/* the committer's form cache (NULL: none), told the shared requests a
	 * committed round stored, so that later rounds name them */
	struct form_cache *forms;
};

/* round_init: an empty round for owner; round_free releases what it holds. */
void round_init(struct round *r, const struct round_ops *ops, void *owner);
void round_free(struct round *r);

/* round_run: one round over the list jobs (linked by next): fill, commit,
 * after_commit, done, as the top comment says. Every job has been answered
 * when it returns; the round is empty again. Returns the commit's result. */
int round_run(struct round *r, struct commit_job *jobs);

/* round_alloc: n zeroed bytes that live until the round ends; NULL when out
 * of memory. */
void *round_alloc(struct round *r, size_t n);
/* round_add_event: a new (uninitialized) event row, and its index in
 * r->b.events through *index; NULL when out of memory. Rows may move as the
 * round grows: keep the index, not the pointer. */
struct store_event_in *round_add_event(struct round *r, int *index);
/* round_add_deliveries: n new delivery rows, the first at *index. */
struct store_delivery_in *round_add_deliveries(struct round *r, int n, int *index);

/* round_add_receipt: a new receipt row, its index through *index. */
struct store_receipt_in *round_add_receipt(struct round *r, int *index);

/* round_add_replay: a receipt to route again in this round; false when out
 * of memory. */
bool round_add_replay(struct round *r, int64_t receipt_seq);

/* round_add_rejection: a new row for a source's rejections list. */
struct store_rejection_in *round_add_rejection(struct round *r);

/* round_route_body: p (taken over) is what routed delivery i (an index in
 * r->b.routed) sends: its stored request's body with its checked form. It
 * goes to the dispatcher with the delivery when the round commits, and is
 * released otherwise. False when out of memory (p is released). */
bool round_route_body(struct round *r, int i, struct payload *p);
/* round_handing_over: after_commit may hand over (false: nothing to hand
 * over, or the hand-over was lost and the dispatcher will read it back). */
bool round_handing_over(const struct round *r);
/* round_task: the next zeroed hand-over slot, or NULL when not handing over.
 * Only for deliveries this round's rows made. */
struct new_task *round_task(struct round *r);

#endif
