/*
 * receipts: received requests through the committer's group commit, and the
 * decide step the store runs for each one inside that commit.
 *
 * A receipt is a third kind of commit job (deliver/round.h): fill adds its
 * row to the round's batch; the store inserts it (or counts a duplicate) and
 * calls receipts_decide for each receipt it applies now; after_commit reads
 * back what the store did; done answers the sender. A receipt that must
 * wait in its entity's reorder window is decided by a later round, which
 * the committer runs when the earliest waiting receipt comes due
 * (receipts_note_waiting, engine.apply_next).
 *
 * receipts_decide is the entity order rule of core/receipt: a receipt not
 * older than its entity's latest applied one is applied (the entity
 * advances to its date and merges its kept fields); an older one is stale
 * and leaves the entity as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/receipt.h"
#include "deliver/engine_internal.h"
#include "deliver/round.h"
#include "util/clock.h"
#include "util/log.h"

int receipts_decide(void *ctx, struct store_batch *b, const struct store_receipt *r,
                    const struct store_entity *cur, struct store_verdict *v)
{
	struct round *rd = ctx;
	(void)b;
	struct isodate when = {.us = r->date_us, .ns = r->date_ns};
	struct receipt_entity ent = {.exists = cur->exists,
	                             .latest = {.us = cur->date_us, .ns = cur->date_ns},
	                             .kept = cur->kept,
	                             .keptlen = cur->keptlen};
	if (!receipt_decide(&ent, &when)) {
		v->status = RCP_STALE;
		v->advance = false;
		return 0;
	}
	v->status = RCP_ROUTED;
	v->advance = true;
	if (!r->entity_type)
		return 0;
	struct buf kept;
	buf_init(&kept);
	struct gerr err = {0};
	int rc = receipt_merge_kept(cur->kept, cur->keptlen, r->kept, r->keptlen, &kept, &err);
	char *copy = rc ? NULL : round_alloc(rd, kept.len + 1);
	if (copy) {
		memcpy(copy, kept.data, kept.len);
		v->kept = copy;
		v->keptlen = kept.len;
	}
	buf_free(&kept);
	/* both are objects written by gancho: only memory can fail here */
	return copy ? 0 : -1;
}

static int receipt_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct receipt_job *j = (struct receipt_job *)job;
	struct store_receipt_in *in = round_add_receipt(r, &j->row);
	if (!in)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	*in = j->r;
	return 0;
}

static void receipt_after_commit(struct commit_job *job, struct round *r)
{
	struct receipt_job *j = (struct receipt_job *)job;
	j->r = r->b.receipts[j->row];
	if (!j->r.duplicate && j->r.status == RCP_WAITING && j->r.apply_at > 0)
		receipts_note_waiting(r->owner, j->r.apply_at);
}

static void receipt_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct receipt_job *j = (struct receipt_job *)job;
	j->done(j, rc, err);
}

static const struct job_kind receipt_kind = {"receipts", receipt_fill, receipt_after_commit,
                                             receipt_done};

void engine_submit_receipt(struct engine *e, struct receipt_job *job)
{
	job->base.kind = &receipt_kind;
	committer_submit(e, &job->base);
}

/* A refused request on its way to its source's rejections list. */
struct rejection_job {
	struct commit_job base;
	struct store_rejection_in x;
	char address[64];
	char reason[256];
};

static int rejection_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct rejection_job *j = (struct rejection_job *)job;
	struct store_rejection_in *x = round_add_rejection(r);
	if (!x)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	*x = j->x;
	return 0;
}

static void rejection_after_commit(struct commit_job *job, struct round *r)
{
	(void)job;
	(void)r;
}

static void rejection_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct rejection_job *j = (struct rejection_job *)job;
	if (rc)
		log_warn("rejection_not_recorded", "source=%lld err=\"%s\"",
		         (long long)j->x.source_seq, err ? err->msg : "");
	free(j);
}

static const struct job_kind rejection_kind = {"rejections", rejection_fill, rejection_after_commit,
                                               rejection_done};

void engine_submit_rejection(struct engine *e, int64_t source_seq, const char *address,
                             const char *reason)
{
	struct rejection_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_warn("rejection_not_recorded", "source=%lld err=\"out of memory\"",
		         (long long)source_seq);
		return;
	}
	snprintf(j->address, sizeof(j->address), "%s", address ? address : "");
	snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
	j->x = (struct store_rejection_in){.source_seq = source_seq,
	                                   .at = clock_now_ms(),
	                                   .address = j->address,
	                                   .reason = j->reason};
	j->base.kind = &rejection_kind;
	committer_submit(e, &j->base);
}

void receipts_note_waiting(struct engine *e, int64_t at)
{
	pthread_mutex_lock(&e->cmu);
	if (e->apply_next == 0 || at < e->apply_next)
		e->apply_next = at;
	pthread_mutex_unlock(&e->cmu);
}
