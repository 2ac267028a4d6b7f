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
#include "core/route.h"
#include "core/source.h"
#include "deliver/engine_internal.h"
#include "deliver/round.h"
#include "registry/registry.h"
#include "util/clock.h"
#include "util/log.h"

/* arena_dup: n bytes of p, NUL-terminated, in the round's memory. */
static char *arena_dup(struct round *rd, const char *p, size_t n)
{
	char *c = round_alloc(rd, n + 1);
	if (c && n)
		memcpy(c, p, n);
	return c;
}

/* route_action: one action of a route that took receipt r: its rendered
 * request, stored with a delivery to the action's target, in the receipt's
 * commit; or, when it cannot be rendered (a path missing at run time), a
 * delivery stored failed with the reason, never sent. */
static int route_action(struct round *rd, struct store_batch *b, const struct store_receipt *r,
                        const struct route *rt, int i, const struct route_input *in)
{
	struct engine *e = rd->owner;
	const struct route_action *act = &rt->actions[i];
	struct store_delivery_in *d = store_batch_route(b);
	if (!d)
		return -1;
	int row = (int)(d - b->routed);
	d->webhook_seq = act->target_seq;
	d->company_seq = r->company_seq;
	d->receipt_seq = r->seq;
	struct route_request rq;
	struct gerr err = {0};
	/* an HR action's paths go under its target's URL, its connection's base */
	struct webhook *w = registry_webhook_get(e->reg, act->target_seq);
	if (route_render(rt, i, in, w ? w->url : NULL, &rq, &err)) {
		webhook_unref(w);
		route_request_free(&rq);
		if (err.status == 500 || err.status == 503)
			return -1; /* memory: the whole round fails and is answered 503 */
		d->fail_error = arena_dup(rd, err.msg, strlen(err.msg));
		return d->fail_error ? 0 : -1;
	}
	struct store_request_in *q = round_alloc(rd, sizeof(*q));
	char *method = arena_dup(rd, rq.method, strlen(rq.method));
	char *url = arena_dup(rd, rq.url, strlen(rq.url));
	char *headers =
	    arena_dup(rd, rq.headers ? rq.headers : "{}", rq.headers ? strlen(rq.headers) : 2);
	size_t body_len = rq.body ? rq.body_len : 0;
	/* a forward sends the received body byte for byte: it is stored once,
	 * with the receipt, and its request says "the delivery's receipt's
	 * body", so that one request row (the same method, URL and headers for
	 * every receipt) serves all of the action's deliveries once a commit
	 * has stored it (form_cache_request) */
	bool own = act->kind == ROUTE_ACTION_FORWARD && body_len == r->bodylen;
	char *body = own ? NULL : arena_dup(rd, rq.body ? rq.body : "", body_len);
	if (!q || !method || !url || !headers || (!own && !body)) {
		route_request_free(&rq);
		webhook_unref(w);
		return -1;
	}
	/* What the dispatcher sends, made now, in memory (bodies.c): the
	 * rendered body itself and the checked form. Without it (a request that
	 * does not pass the checks, or no memory) the dispatcher reads the
	 * stored request, and refuses it with the reason. */
	struct request_form *form = NULL;
	char why[256];
	if (form_cache_get(&e->forms, method, url, headers, body_len, e->cfg.allow_private, &form,
	                   why, sizeof(why)) == 0) {
		char *bytes = rq.body ? rq.body : calloc(1, 1);
		struct payload *p = bytes ? payload_new(0, "", bytes, body_len) : NULL;
		if (p) {
			rq.body = NULL; /* the payload's now */
			p->req = form;
			round_route_body(rd, row, p);
		} else {
			if (bytes != rq.body)
				free(bytes);
			request_form_unref(form);
		}
	}
	route_request_free(&rq);
	*q = (struct store_request_in){.method = method,
	                               .url = url,
	                               .headers = headers,
	                               .body = body,
	                               .body_len = own ? 0 : body_len,
	                               .body_receipt_seq = own ? STORE_BODY_OWN_RECEIPT : 0};
	int64_t shared = own ? form_cache_request(&e->forms, method, url, headers) : 0;
	if (shared)
		d->request_seq = shared; /* stored by an earlier commit */
	else
		d->request = q;
	/* the entity orders the actions of one target: one at a time, in the
	 * order of the receipts' dates (receipts are decided in that order) */
	if (r->entity_key)
		d->okey = arena_dup(rd, r->entity_key, strlen(r->entity_key));
	int rc = w ? round_lane(rd, w, d->okey, &d->lane, &err) : 0;
	webhook_unref(w);
	return rc ? -1 : 0;
}

/* route_receipt: every route of the receipt's company and source that takes
 * it (a stale receipt only those that say whenStale "fire") fires its
 * actions. entity is the entity's kept fields after the decision. */
static int route_receipt(struct round *rd, struct store_batch *b, const struct store_receipt *r,
                         const char *entity, size_t entity_len, bool stale)
{
	struct engine *e = rd->owner;
	struct route *routes[64];
	int n = registry_routes(e->reg, r->company_seq, r->source_seq, routes, 64);
	if (n > 64) {
		log_warn("routes_truncated", "receipt=%s routes=%d note=\"the first 64 are used\"",
		         r->id, n);
		n = 64;
	}
	struct source *src = registry_source_get_seq(e->reg, r->source_seq);
	char *ent = entity ? arena_dup(rd, entity, entity_len) : NULL;
	struct route_input in = {
	    .body = r->body,
	    .body_len = r->bodylen,
	    .headers = r->headers,
	    .entity = ent,
	    .receipt_id = r->id,
	    .receipt_date = r->date,
	    .event = r->event,
	    .source_id = src ? src->id : NULL,
	    .entity_key = r->entity_key,
	    .source_seq = r->source_seq,
	};
	int rc = entity && !ent ? -1 : 0;
	for (int k = 0; k < n; k++) {
		const struct route *rt = routes[k];
		if (!rc && (!stale || rt->fire_stale) && route_matches(rt, r->event, &in))
			for (int i = 0; i < rt->nactions && !rc; i++)
				rc = route_action(rd, b, r, rt, i, &in);
		route_unref(routes[k]);
	}
	source_unref(src);
	return rc;
}

int receipts_decide(void *ctx, struct store_batch *b, const struct store_receipt *r,
                    const struct store_entity *cur, struct store_verdict *v)
{
	struct round *rd = ctx;
	struct isodate when = {.us = r->date_us, .ns = r->date_ns};
	struct receipt_entity ent = {.exists = cur->exists,
	                             .latest = {.us = cur->date_us, .ns = cur->date_ns},
	                             .kept = cur->kept,
	                             .keptlen = cur->keptlen};
	if (!receipt_decide(&ent, &when)) {
		/* stale: the entity stays as it was, and so do its fields */
		v->status = RCP_STALE;
		v->advance = false;
		return route_receipt(rd, b, r, cur->kept, cur->keptlen, true);
	}
	v->status = RCP_ROUTED;
	v->advance = true;
	if (!r->entity_type)
		return route_receipt(rd, b, r, NULL, 0, false);
	struct buf kept;
	buf_init(&kept);
	struct gerr err = {0};
	int rc = receipt_merge_kept(cur->kept, cur->keptlen, r->kept, r->keptlen, &kept, &err);
	char *copy = rc ? NULL : arena_dup(rd, kept.data, kept.len);
	size_t keptlen = kept.len;
	buf_free(&kept);
	/* both are objects written by gancho: only memory can fail here */
	if (!copy)
		return -1;
	v->kept = copy;
	v->keptlen = keptlen;
	return route_receipt(rd, b, r, copy, keptlen, false);
}

int receipts_replay(void *ctx, struct store_batch *b, const struct store_receipt *r,
                    const struct store_entity *cur, struct store_verdict *v)
{
	(void)v;
	return route_receipt(ctx, b, r, r->entity_type ? cur->kept : NULL,
	                     r->entity_type ? cur->keptlen : 0, r->status == RCP_STALE);
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

static int replay_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct replay_job *j = (struct replay_job *)job;
	if (!round_add_replay(r, j->receipt_seq))
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	return 0;
}

static void replay_after_commit(struct commit_job *job, struct round *r)
{
	struct replay_job *j = (struct replay_job *)job;
	j->ndeliveries = 0;
	for (int i = 0; i < r->b.nrouted; i++)
		j->ndeliveries += r->b.routed[i].receipt_seq == j->receipt_seq;
}

static void replay_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct replay_job *j = (struct replay_job *)job;
	j->done(j, rc, err);
}

static const struct job_kind replay_kind = {"replays", replay_fill, replay_after_commit,
                                            replay_done};

void engine_submit_replay(struct engine *e, struct replay_job *job)
{
	job->base.kind = &replay_kind;
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
