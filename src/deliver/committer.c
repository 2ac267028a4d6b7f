/*
 * committer: the single writer of the hot path, and the engine's start/stop.
 *
 * It sleeps until work is queued, then takes everything there is (up to
 * batch_max jobs) and writes it in one transaction: the jobs' rows (new
 * events and their deliveries, replayed deliveries) with the dispatcher's
 * attempt outcomes and webhook changes. Only after COMMIT returns does it
 * hand the new deliveries to the dispatcher, in memory, and answer the jobs
 * (the HTTP 202). While it is committing, the next batch accumulates: the
 * busier the server, the more acknowledgements share one fsync. Outcomes
 * alone (no job queued) wait up to OUTS_LINGER_US for jobs to join them:
 * nobody waits on an outcome, while a round of outcomes only would hold up
 * the events or receipts that arrive during it.
 *
 * Jobs are tagged items: one queue of struct commit_job, each with a kind
 * (deliver/round.h) whose fill, after_commit and done steps round_run calls
 * without knowing the kind. This file holds the two kinds there are, ingest
 * (engine_submit: an event) and deliveries (engine_submit_deliveries: new
 * deliveries of existing events), and the round's ops: the commit (outcomes
 * and changes join the batch) and the hand-over to the dispatcher. A new kind
 * is a new table and its three functions, queued with committer_submit.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver/engine_internal.h"
#include "deliver/round.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/uuid.h"

void engine_config_default(struct engine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->db_url = "sqlite:./gancho.db";
	c->deactivate_after_ms = 7LL * 24 * 3600 * 1000;
	c->window = 20000;
	c->max_inflight = 1024;
	c->shutdown_grace_ms = 10000;
	c->batch_max = 4096;
	c->node_timeout_ms = 15000;
}

struct payload *payload_new(int64_t event_seq, const char *event_id, char *body, size_t len)
{
	struct payload *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->refs = 1;
	p->event_seq = event_seq;
	snprintf(p->event_id, sizeof(p->event_id), "%s", event_id);
	p->body = body;
	p->len = len;
	return p;
}

void payload_unref(struct payload *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		request_form_unref(p->req);
		free(p->body);
		free(p);
	}
}

/* ---- the queue ------------------------------------------------------------------------ */

void committer_submit(struct engine *e, struct commit_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&e->cmu);
	if (e->jobs_tail)
		e->jobs_tail->next = job;
	else
		e->jobs = job;
	e->jobs_tail = job;
	pthread_cond_signal(&e->ccond);
	pthread_mutex_unlock(&e->cmu);
}

bool engine_healthy(struct engine *e)
{
	return atomic_load(&e->healthy);
}

void committer_push(struct engine *e, struct outcome_item *outs, int nouts,
                    struct change_item *changes, int nchanges, int64_t gen)
{
	pthread_mutex_lock(&e->cmu);
	e->pushed_gen = gen;
	/* losing outcomes silently is worse than stopping */
	if (!array_reserve((void **)&e->outs, &e->capouts, e->nouts + nouts, sizeof(*e->outs),
	                   256) ||
	    !array_reserve((void **)&e->changes, &e->capchanges, e->nchanges + nchanges,
	                   sizeof(*e->changes), 16))
		abort();
	if (nouts)
		memcpy(e->outs + e->nouts, outs, (size_t)nouts * sizeof(*outs));
	e->nouts += nouts;
	if (nchanges)
		memcpy(e->changes + e->nchanges, changes, (size_t)nchanges * sizeof(*changes));
	e->nchanges += nchanges;
	pthread_cond_signal(&e->ccond);
	pthread_mutex_unlock(&e->cmu);
}

/* round_lane: the FIFO lane of a delivery to w with ordering key okey in
 * *lane (NULL when it has none: webhook_lane_key), its text in the round's
 * memory. Returns 0, or GERR_NOMEM with err set. */
int round_lane(struct round *r, const struct webhook *w, const char *okey, const char **lane,
               struct gerr *err)
{
	enum { LANE_MAX = 96 };
	*lane = NULL;
	const char *key = webhook_lane_key(w, okey);
	if (!key)
		return 0;
	char *buf = round_alloc(r, LANE_MAX);
	if (!buf)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	snprintf(buf, LANE_MAX, "%lld/%s", (long long)w->seq, key);
	*lane = buf;
	return 0;
}

/* A kind's steps get the job's header and cast it to their own job. */
_Static_assert(offsetof(struct ingest_job, base) == 0, "the header comes first");
_Static_assert(offsetof(struct delivery_job, base) == 0, "the header comes first");

/* ---- ingest: one event and its deliveries --------------------------------------------- */

static int ingest_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct ingest_job *j = (struct ingest_job *)job;
	int n = j->ev.nwebhooks;
	const char **lanes = NULL;
	uint8_t *mine = NULL;
	if (n > 0) {
		lanes = round_alloc(r, (size_t)n * sizeof(*lanes));
		mine = round_alloc(r, (size_t)n);
		if (!lanes || !mine)
			return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	}
	for (int w = 0; w < n; w++) {
		const char *okey = j->ev.okeys ? j->ev.okeys[w] : NULL;
		int rc = round_lane(r, j->hooks[w], okey, &lanes[w], err);
		if (rc)
			return rc;
	}
	struct store_event_in *ev = round_add_event(r, &j->row);
	if (!ev)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	*ev = j->ev;
	ev->lanes = lanes;
	ev->mine = mine;
	return 0;
}

/* ingest_after_commit: the event as stored (its seq, or the first call's id
 * when a duplicate) goes back to the job; its deliveries to the dispatcher,
 * sharing one payload made of the envelope. */
static void ingest_after_commit(struct commit_job *job, struct round *r)
{
	struct ingest_job *j = (struct ingest_job *)job;
	const struct store_event_in *ev = &r->b.events[j->row];
	if (!ev->duplicate && ev->nwebhooks > 0 && round_handing_over(r)) {
		struct payload *p = payload_new(ev->seq, ev->id, j->envelope, j->envelope_len);
		if (p)
			j->envelope = NULL;
		for (int w = 0; w < ev->nwebhooks; w++) {
			/* a FIFO lane owned by another node: that node sends it */
			if (ev->mine && !ev->mine[w])
				continue;
			struct new_task *t = round_task(r);
			if (!t)
				break;
			t->t.seq = ev->first_delivery + w;
			t->t.event_seq = ev->seq;
			t->t.webhook_seq = ev->webhook_seqs[w];
			t->t.next_at = r->now;
			if (ev->okeys && ev->okeys[w])
				snprintf(t->t.okey, sizeof(t->t.okey), "%s", ev->okeys[w]);
			if (p) {
				__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
				t->payload = p;
			}
		}
		payload_unref(p);
	}
	j->ev = *ev;
	j->ev.lanes = NULL;
	j->ev.mine = NULL;
}

static void ingest_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct ingest_job *j = (struct ingest_job *)job;
	for (int w = 0; w < j->nhooks; w++)
		webhook_unref(j->hooks[w]);
	free(j->envelope);
	j->envelope = NULL;
	j->done(j, rc, err);
}

static const struct job_kind ingest_kind = {"ingest", ingest_fill, ingest_after_commit,
                                            ingest_done};

void engine_submit(struct engine *e, struct ingest_job *job)
{
	job->base.kind = &ingest_kind;
	committer_submit(e, &job->base);
}

/* ---- deliveries: new deliveries of existing events (replay) ---------------------------- */

static int delivery_fill(struct commit_job *job, struct round *r, struct gerr *err)
{
	struct delivery_job *d = (struct delivery_job *)job;
	struct engine *e = r->owner;
	struct store_delivery_in *dls = round_add_deliveries(r, d->n, &d->row);
	if (!dls)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	for (int k = 0; k < d->n; k++) {
		dls[k] = d->dl[k];
		dls[k].request_seq = 0; /* out: its own request's, never a shared one */
		struct webhook *w = registry_webhook_get(e->reg, d->dl[k].webhook_seq);
		int rc = round_lane(r, w, d->dl[k].okey, &dls[k].lane, err);
		webhook_unref(w);
		if (rc)
			return rc;
	}
	return 0;
}

static void delivery_after_commit(struct commit_job *job, struct round *r)
{
	struct delivery_job *d = (struct delivery_job *)job;
	for (int k = 0; k < d->n; k++) {
		const struct store_delivery_in *x = &r->b.deliveries[d->row + k];
		d->dl[k].seq = x->seq;
		d->dl[k].mine = x->mine;
		d->dl[k].request_seq = x->request_seq;
		struct new_task *t = x->mine ? round_task(r) : NULL;
		if (!t)
			continue;
		t->t.seq = x->seq;
		t->t.event_seq = x->event_seq;
		t->t.request_seq = x->request_seq;
		t->t.webhook_seq = x->webhook_seq;
		t->t.next_at = r->now;
		if (x->okey)
			snprintf(t->t.okey, sizeof(t->t.okey), "%s", x->okey);
	}
}

static void delivery_done(struct commit_job *job, int rc, const struct gerr *err)
{
	struct delivery_job *d = (struct delivery_job *)job;
	d->done(d, rc);
}

static const struct job_kind delivery_kind = {"deliveries", delivery_fill, delivery_after_commit,
                                              delivery_done};

void engine_submit_deliveries(struct engine *e, struct delivery_job *job)
{
	job->base.kind = &delivery_kind;
	committer_submit(e, &job->base);
}

/* ---- the committer's side of a round -------------------------------------------------- */

/* A round, and what the committer writes in it besides the jobs' rows: the
 * dispatcher's outcomes and webhook changes. */
struct committer_round {
	struct round r; /* first: the ops get &r */
	struct engine *e;
	struct outcome_item *outs;
	int nouts;
	struct change_item *changes;
	int nchanges;
	struct store_outcome *os; /* the store's view of outs and changes, this round */
	struct store_webhook_change *cs;
	int64_t apply_due_before; /* this round decides waiting receipts due before (0: none) */
	int applied;              /* … and decided this many */
};

/* Waiting receipts decided in one round, at most; more due: another round. */
enum { APPLY_LIMIT = 512 };
/* Several nodes: how often a node looks for receipts waiting in the store
 * that it was not told about (another node took them, then stopped). */
enum { APPLY_POLL_MS = 1000 };

enum { RELEASE_BATCH = 256 };

/* Outcomes with no job queued wait this long for jobs to share their round
 * (see the top comment), unless there are OUTS_LINGER_MAX of them. Measured
 * (bench row 9, 64 clients): without it a fifth of the rounds held outcomes
 * only, 0.9 ms each, a tenth of the committer's time, between rounds of
 * receipts; events (row 1) met it in one round of thirty. */
enum { OUTS_LINGER_US = 1000, OUTS_LINGER_MAX = 4096 };

/* release_add: give up seq, RELEASE_BATCH seqs a call to the store. */
static void release_add(struct engine *e, int64_t *seqs, int *k, int64_t seq)
{
	seqs[(*k)++] = seq;
	if (*k == RELEASE_BATCH) {
		store_release(e->wstore, e->node, seqs, *k);
		*k = 0;
	}
}

/* tasks_lost: the n new deliveries of a committed batch could not be handed
 * over (out of memory). They are safe in the store, but the dispatcher reads
 * the store only while it knows it holds less than the store (overflow):
 * make it read everything back (resync), before any later batch can move its
 * window past them. With several nodes they are ours in the store: give them
 * up, so any node's claim takes them. */
static void tasks_lost(struct engine *e, const struct store_batch *b, int n)
{
	log_error("handover_failed",
	          "deliveries=%d note=\"out of memory: read back from the store\"", n);
	if (e->shared) {
		int64_t seqs[RELEASE_BATCH];
		int k = 0;
		for (int i = 0; i < b->nevents; i++) {
			const struct store_event_in *ev = &b->events[i];
			for (int w = 0; !ev->duplicate && w < ev->nwebhooks; w++)
				if (!ev->mine || ev->mine[w])
					release_add(e, seqs, &k, ev->first_delivery + w);
		}
		for (int i = 0; i < b->ndeliveries; i++)
			if (b->deliveries[i].mine)
				release_add(e, seqs, &k, b->deliveries[i].seq);
		if (k)
			store_release(e->wstore, e->node, seqs, k);
	}
	atomic_store(&e->resync, true);
	curl_multi_wakeup(e->multi);
}

/* webhooks_deactivated: deactivations decided by the store reach the
 * registry and the dispatcher (which holds the webhook's deliveries). */
static void webhooks_deactivated(struct engine *e, const struct store_webhook_change *cs, int n)
{
	for (int i = 0; i < n; i++) {
		if (!cs[i].deactivated)
			continue;
		registry_webhook_set_status(e->reg, cs[i].webhook_seq, WH_INACTIVE);
		engine_webhook_changed(e, cs[i].webhook_seq);
		/* the webhook as the API names it; its deliveries are logged
		 * "delivery_held" as the dispatcher holds them */
		struct webhook *w = registry_webhook_get(e->reg, cs[i].webhook_seq);
		log_warn("webhook_deactivated", "webhook=%s status=inactive reason=\"%s\"",
		         w ? w->id : "(deleted)", cs[i].reason ? cs[i].reason : "");
		webhook_unref(w);
	}
}

/* round_commit: the round's op: outcomes and changes join the jobs' rows,
 * and all of it is one transaction. */
static int round_commit(struct round *r, struct gerr *err)
{
	struct committer_round *cr = (struct committer_round *)r;
	struct engine *e = cr->e;
	cr->os = malloc(((size_t)cr->nouts + 1) * sizeof(*cr->os));
	cr->cs = malloc(((size_t)cr->nchanges + 1) * sizeof(*cr->cs));
	if (!cr->os || !cr->cs)
		return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
	for (int i = 0; i < cr->nouts; i++) {
		cr->os[i] = cr->outs[i].o;
		cr->os[i].error = cr->outs[i].error[0] ? cr->outs[i].error : NULL;
		cr->os[i].response = cr->outs[i].response;
	}
	for (int i = 0; i < cr->nchanges; i++) {
		cr->cs[i] = cr->changes[i].c;
		cr->cs[i].reason = cr->changes[i].reason[0] ? cr->changes[i].reason : NULL;
	}
	r->b.node = e->node;
	r->b.decide = receipts_decide;
	r->b.replay = receipts_replay;
	r->b.decide_ctx = r;
	r->b.apply_due_before = cr->apply_due_before;
	r->b.apply_limit = APPLY_LIMIT;
	r->b.outcomes = cr->os;
	r->b.noutcomes = cr->nouts;
	r->b.changes = cr->cs;
	r->b.nchanges = cr->nchanges;
	int64_t t0 = clock_mono_us();
	int rc = store_commit(e->wstore, &r->b, err);
	cr->applied = rc ? 0 : r->b.applied;
	atomic_store(&e->healthy, rc == 0);
	log_debug("committed", "events=%d deliveries=%d outcomes=%d us=%lld rc=%d", r->b.nevents,
	          r->b.ndeliveries, cr->nouts, (long long)(clock_mono_us() - t0), rc);
	return rc;
}

static void round_lost(struct round *r, int n)
{
	tasks_lost(((struct committer_round *)r)->e, &r->b, n);
}

/* round_committed: the round's op: the new deliveries go to the dispatcher,
 * in memory, then the store's deactivations take effect. */
static void round_committed(struct round *r)
{
	struct committer_round *cr = (struct committer_round *)r;
	if (r->ntasks > 0) {
		struct dmsg *m = calloc(1, sizeof(*m));
		if (m) {
			m->kind = DMSG_TASKS;
			m->tasks = r->tasks;
			m->ntasks = r->ntasks;
			r->tasks = NULL;
			dispatcher_post(cr->e, m);
		} else {
			for (int i = 0; i < r->ntasks; i++)
				payload_unref(r->tasks[i].payload);
			tasks_lost(cr->e, &r->b, r->ntasks);
		}
	}
	webhooks_deactivated(cr->e, cr->cs, cr->nchanges);
}

static const struct round_ops committer_round_ops = {round_commit, round_lost, round_committed};

/* requeue: a failed commit must not lose outcomes: they go back to the head
 * of the queue and are written with the next batch. */
static void requeue(struct engine *e, struct outcome_item *outs, int nouts,
                    struct change_item *changes, int nchanges)
{
	pthread_mutex_lock(&e->cmu);
	struct outcome_item *o = malloc(((size_t)nouts + (size_t)e->nouts + 1) * sizeof(*o));
	struct change_item *c = malloc(((size_t)nchanges + (size_t)e->nchanges + 1) * sizeof(*c));
	if (!o || !c)
		abort();
	if (nouts)
		memcpy(o, outs, (size_t)nouts * sizeof(*o));
	if (e->nouts)
		memcpy(o + nouts, e->outs, (size_t)e->nouts * sizeof(*o));
	if (nchanges)
		memcpy(c, changes, (size_t)nchanges * sizeof(*c));
	if (e->nchanges)
		memcpy(c + nchanges, e->changes, (size_t)e->nchanges * sizeof(*c));
	free(e->outs);
	free(e->changes);
	e->outs = o;
	e->nouts += nouts;
	e->capouts = e->nouts;
	e->changes = c;
	e->nchanges += nchanges;
	e->capchanges = e->nchanges;
	pthread_mutex_unlock(&e->cmu);
}

/* commit_round: one transaction for everything taken from the queue: the
 * jobs, whatever their kinds (round_run), and the dispatcher's outcomes and
 * changes. Returns 0, or the store's error (the caller backs off). */
static int commit_round(struct committer_round *cr, struct commit_job *jobs,
                        struct outcome_item *outs, int nouts, struct change_item *changes,
                        int nchanges)
{
	cr->outs = outs;
	cr->nouts = nouts;
	cr->changes = changes;
	cr->nchanges = nchanges;
	int rc = round_run(&cr->r, jobs);
	if (rc == 0) {
		for (int i = 0; i < nouts; i++)
			free(outs[i].response);
	} else if (nouts || nchanges) {
		requeue(cr->e, outs, nouts, changes, nchanges);
	}
	free(cr->os);
	free(cr->cs);
	cr->os = NULL;
	cr->cs = NULL;
	return rc;
}

void *committer_main(void *arg)
{
	struct engine *e = arg;
	struct committer_round cr = {.e = e};
	round_init(&cr.r, &committer_round_ops, e);
	cr.r.forms = &e->forms;
	int backoff = 0;
	pthread_setname_np(pthread_self(), "committer");
	int64_t polled = 0;
	for (;;) {
		pthread_mutex_lock(&e->cmu);
		int64_t now = clock_now_ms();
		int64_t linger = 0; /* outcomes alone: until when they wait for jobs (mono us) */
		bool due = false;
		for (;;) {
			now = clock_now_ms();
			due = e->apply_next > 0 && e->apply_next <= now;
			if (e->jobs || e->cstop || due)
				break;
			if (e->shared && now - polled >= APPLY_POLL_MS)
				break;
			if (e->nouts || e->nchanges) {
				int64_t t = clock_mono_us();
				if (!linger)
					linger = t + OUTS_LINGER_US;
				if (t >= linger || e->nouts >= OUTS_LINGER_MAX)
					break;
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				int64_t ns = ts.tv_nsec + (linger - t) * 1000LL;
				ts.tv_sec += (time_t)(ns / 1000000000LL);
				ts.tv_nsec = (long)(ns % 1000000000LL);
				pthread_cond_timedwait(&e->ccond, &e->cmu, &ts);
				continue;
			}
			int64_t until = e->apply_next > 0 ? e->apply_next : 0;
			if (e->shared && (until == 0 || until > polled + APPLY_POLL_MS))
				until = polled + APPLY_POLL_MS;
			if (until == 0) {
				pthread_cond_wait(&e->ccond, &e->cmu);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				int64_t ns = ts.tv_nsec + (until - now) * 1000000LL;
				ts.tv_sec += (time_t)(ns / 1000000000LL);
				ts.tv_nsec = (long)(ns % 1000000000LL);
				pthread_cond_timedwait(&e->ccond, &e->cmu, &ts);
			}
		}
		if (!due && e->shared && now - polled >= APPLY_POLL_MS) {
			/* receipts another node left waiting: ask the store */
			polled = now;
			pthread_mutex_unlock(&e->cmu);
			int64_t at = 0;
			if (store_receipt_next_due(e->wstore, &at) == 0 && at > 0)
				receipts_note_waiting(e, at);
			continue;
		}
		if (due)
			e->apply_next =
			    0; /* the round below decides them; what remains is asked again */
		if ((!e->jobs && !e->nouts && !e->nchanges && !due && e->cstop) ||
		    (e->cstop && backoff >= 1000 && !e->jobs)) {
			/* stopping with the store still down: unwritten outcomes stay
			 * pending in the store and are sent again after restart */
			pthread_mutex_unlock(&e->cmu);
			break;
		}
		/* Take up to batch_max jobs; the rest wait for the next round. */
		struct commit_job *jobs = e->jobs, *last = e->jobs;
		int n = 1;
		if (jobs) {
			while (last->next && n < e->cfg.batch_max) {
				last = last->next;
				n++;
			}
			e->jobs = last->next;
			if (!e->jobs)
				e->jobs_tail = NULL;
			last->next = NULL;
		}
		struct outcome_item *outs = e->outs;
		int nouts = e->nouts;
		int64_t gen = e->pushed_gen;
		struct change_item *changes = e->changes;
		int nchanges = e->nchanges;
		e->outs = NULL;
		e->nouts = e->capouts = 0;
		e->changes = NULL;
		e->nchanges = e->capchanges = 0;
		pthread_mutex_unlock(&e->cmu);

		cr.apply_due_before = due ? now + 1 : 0;
		int rc = commit_round(&cr, jobs, outs, nouts, changes, nchanges);
		free(outs);
		free(changes);
		if (due) {
			/* more may wait: a full round, a failed one, or later ones */
			int64_t at = 0;
			if (rc || cr.applied >= APPLY_LIMIT)
				at = rc ? clock_now_ms() + 1000 : clock_now_ms();
			else if (store_receipt_next_due(e->wstore, &at))
				at = clock_now_ms() + 1000;
			if (at > 0)
				receipts_note_waiting(e, at);
		}
		if (rc) {
			/* The store is down or refusing: ingest got its 503; outcomes wait in
			 * the queue. Back off so a dead database is not hammered. */
			if (backoff < 1000)
				backoff = backoff ? backoff * 2 : 50;
			usleep((useconds_t)backoff * 1000);
		} else {
			backoff = 0;
			atomic_store(&e->committed_gen, gen);
		}
	}
	round_free(&cr.r);
	return NULL;
}

int engine_start(const struct engine_config *cfg, struct registry *reg, struct engine **out,
                 struct gerr *err)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	e->cfg = *cfg;
	e->reg = reg;
	atomic_store(&e->healthy, true);
	pthread_mutex_init(&e->cmu, NULL);
	/* the committer waits on the monotonic clock for waiting receipts */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->ccond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&e->dmu, NULL);
	int rc = store_open(cfg->db_url, &e->wstore, err);
	if (rc)
		goto fail;
	rc = store_open(cfg->db_url, &e->rstore, err);
	if (rc)
		goto fail;
	uuid_v4(e->node);
	e->shared = store_shared(e->rstore);
	/* receipts left waiting in a reorder window by the last run */
	if (store_receipt_next_due(e->wstore, &e->apply_next))
		e->apply_next = clock_now_ms();
	rc = dispatcher_init(e, err);
	if (rc)
		goto fail;
	if (pthread_create(&e->committer, NULL, committer_main, e)) {
		rc = gerr_set(err, GERR_IO, 500, "thread", "cannot start the committer thread");
		goto fail_dispatcher;
	}
	if (fault_hit("dispatcher_thread") ||
	    pthread_create(&e->dispatcher_thr, NULL, dispatcher_main, e)) {
		rc = gerr_set(err, GERR_IO, 500, "thread", "cannot start the dispatcher thread");
		/* The committer runs and uses e: stop it and wait before freeing. */
		pthread_mutex_lock(&e->cmu);
		e->cstop = true;
		pthread_cond_signal(&e->ccond);
		pthread_mutex_unlock(&e->cmu);
		pthread_join(e->committer, NULL);
		goto fail_dispatcher;
	}
	*out = e;
	return 0;
fail_dispatcher:
	if (e->shared)
		store_node_leave(e->wstore, e->node);
	dispatcher_free(e);
	form_cache_free(&e->forms);
fail:
	store_close(e->wstore);
	store_close(e->rstore);
	pthread_mutex_destroy(&e->cmu);
	pthread_cond_destroy(&e->ccond);
	pthread_mutex_destroy(&e->dmu);
	free(e);
	return rc ? rc : GERR_IO;
}

void engine_stop(struct engine *e)
{
	if (!e)
		return;
	/* The dispatcher first: it finishes in-flight requests and pushes their
	 * outcomes; then the committer drains everything and exits. */
	atomic_store(&e->dstop, true);
	curl_multi_wakeup(e->multi);
	pthread_join(e->dispatcher_thr, NULL);
	pthread_mutex_lock(&e->cmu);
	e->cstop = true;
	pthread_cond_signal(&e->ccond);
	pthread_mutex_unlock(&e->cmu);
	pthread_join(e->committer, NULL);
	/* Several nodes: what we still hold goes back to the others at once. */
	if (e->shared && store_node_leave(e->wstore, e->node))
		log_warn("node_leave_failed", "node=%s note=\"reaped after the timeout\"", e->node);
	dispatcher_free(e);
	form_cache_free(&e->forms);
	store_close(e->wstore);
	store_close(e->rstore);
	for (int i = 0; i < e->nouts; i++)
		free(e->outs[i].response);
	free(e->outs);
	free(e->changes);
	pthread_mutex_destroy(&e->cmu);
	pthread_cond_destroy(&e->ccond);
	pthread_mutex_destroy(&e->dmu);
	free(e);
}
