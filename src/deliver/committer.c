/*
 * committer: the single writer of the hot path, and the engine's start/stop.
 *
 * It sleeps until work is queued, then takes everything there is (up to
 * batch_max ingest jobs) and writes it in one transaction: new events and
 * their deliveries, replayed deliveries, attempt outcomes, webhook changes.
 * Only after COMMIT returns does it run the ingest callbacks (the HTTP 202)
 * and hand the new deliveries to the dispatcher, in memory. While it is
 * committing, the next batch accumulates: the busier the server, the more
 * acknowledgements share one fsync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/engine_internal.h"
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
		free(p->body);
		free(p);
	}
}

void engine_submit(struct engine *e, struct ingest_job *job)
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

void engine_submit_deliveries(struct engine *e, struct delivery_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&e->cmu);
	if (e->djobs_tail)
		e->djobs_tail->next = job;
	else
		e->djobs = job;
	e->djobs_tail = job;
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

/* tasks_lost: the new deliveries of a batch could not be handed over (out of
 * memory). They are safe in the store, but the dispatcher reads the store
 * only while it knows it holds less than the store (overflow): make it read
 * everything back (resync), before any later batch can move its window past
 * them. With several nodes
 * they are ours in the store: give them up, so any node's claim takes them. */
static void tasks_lost(struct engine *e, struct store_event_in *evs, int njobs,
                       struct delivery_job *djobs, int n)
{
	log_error("handover_failed",
	          "deliveries=%d note=\"out of memory: read back from the store\"", n);
	if (e->shared) {
		int64_t seqs[256];
		int k = 0;
		for (int i = 0; i < njobs; i++)
			for (int w = 0; !evs[i].duplicate && w < evs[i].nwebhooks; w++) {
				if (evs[i].mine && !evs[i].mine[w])
					continue;
				seqs[k++] = evs[i].first_delivery + w;
				if (k == 256) {
					store_release(e->wstore, e->node, seqs, k);
					k = 0;
				}
			}
		for (struct delivery_job *d = djobs; d; d = d->next)
			for (int i = 0; i < d->n; i++) {
				if (!d->dl[i].mine)
					continue;
				seqs[k++] = d->dl[i].seq;
				if (k == 256) {
					store_release(e->wstore, e->node, seqs, k);
					k = 0;
				}
			}
		if (k)
			store_release(e->wstore, e->node, seqs, k);
	}
	atomic_store(&e->resync, true);
	curl_multi_wakeup(e->multi);
}

/* hand_over: after COMMIT, the new deliveries of the batch go to the dispatcher. */
static void hand_over(struct engine *e, struct ingest_job **jobs, int njobs,
                      struct store_event_in *evs, struct delivery_job *djobs)
{
	int n = 0;
	for (int i = 0; i < njobs; i++)
		if (!evs[i].duplicate)
			n += evs[i].nwebhooks;
	for (struct delivery_job *d = djobs; d; d = d->next)
		n += d->n;
	if (n == 0)
		return;
	struct dmsg *m = calloc(1, sizeof(*m));
	struct new_task *tasks = calloc((size_t)n, sizeof(*tasks));
	if (!m || !tasks || fault_hit("handover_alloc")) {
		free(m);
		free(tasks);
		tasks_lost(e, evs, njobs, djobs, n);
		return;
	}
	int64_t now = clock_now_ms();
	int k = 0;
	for (int i = 0; i < njobs; i++) {
		struct store_event_in *ev = &evs[i];
		if (ev->duplicate || ev->nwebhooks == 0)
			continue;
		struct payload *p =
		    payload_new(ev->seq, ev->id, jobs[i]->envelope, jobs[i]->envelope_len);
		if (p)
			jobs[i]->envelope = NULL;
		for (int w = 0; w < ev->nwebhooks; w++) {
			/* a FIFO lane owned by another node: that node sends it */
			if (ev->mine && !ev->mine[w])
				continue;
			struct new_task *t = &tasks[k++];
			t->t.seq = ev->first_delivery + w;
			t->t.event_seq = ev->seq;
			t->t.webhook_seq = ev->webhook_seqs[w];
			t->t.next_at = now;
			if (ev->okeys && ev->okeys[w])
				snprintf(t->t.okey, sizeof(t->t.okey), "%s", ev->okeys[w]);
			if (p) {
				__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
				t->payload = p;
			}
		}
		payload_unref(p);
	}
	for (struct delivery_job *d = djobs; d; d = d->next) {
		for (int i = 0; i < d->n; i++) {
			if (!d->dl[i].mine)
				continue;
			struct new_task *t = &tasks[k++];
			t->t.seq = d->dl[i].seq;
			t->t.event_seq = d->dl[i].event_seq;
			t->t.webhook_seq = d->dl[i].webhook_seq;
			t->t.next_at = now;
			if (d->dl[i].okey)
				snprintf(t->t.okey, sizeof(t->t.okey), "%s", d->dl[i].okey);
		}
	}
	if (k == 0) {
		free(m);
		free(tasks);
		return;
	}
	m->kind = DMSG_TASKS;
	m->tasks = tasks;
	m->ntasks = k;
	dispatcher_post(e, m);
}

/* lane_of: the FIFO lane of a delivery to w with ordering key okey, or NULL. */
static const char *lane_of(const struct webhook *w, const char *okey, char *buf, size_t bufsz)
{
	if (!w || !w->fifo)
		return NULL;
	snprintf(buf, bufsz, "%lld/%s", (long long)w->seq, w->ordering_key && okey ? okey : "");
	return buf;
}

typedef char lane_buf[96];

/* after_commit: deactivations decided by the store reach the registry and
 * the dispatcher (which holds the webhook's deliveries). */
static void after_commit(struct engine *e, struct store_webhook_change *cs, int n)
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

/* commit_round: one transaction for everything taken from the queue.
 * Returns 0, or the store's error (the caller backs off). */
static int commit_round(struct engine *e, struct ingest_job *jobs, struct delivery_job *djobs,
                        struct outcome_item *outs, int nouts, struct change_item *changes,
                        int nchanges)
{
	int njobs = 0, ndl = 0, nhooks = 0;
	for (struct ingest_job *j = jobs; j; j = j->next) {
		njobs++;
		nhooks += j->ev.nwebhooks;
	}
	for (struct delivery_job *d = djobs; d; d = d->next)
		ndl += d->n;
	struct ingest_job **jv = malloc(((size_t)njobs + 1) * sizeof(*jv));
	struct store_event_in *evs = malloc(((size_t)njobs + 1) * sizeof(*evs));
	struct store_delivery_in *dls = malloc(((size_t)ndl + 1) * sizeof(*dls));
	struct store_outcome *os = malloc(((size_t)nouts + 1) * sizeof(*os));
	struct store_webhook_change *cs = malloc(((size_t)nchanges + 1) * sizeof(*cs));
	lane_buf *lanebufs = malloc(((size_t)nhooks + (size_t)ndl + 1) * sizeof(lane_buf));
	const char **lanes = malloc(((size_t)nhooks + 1) * sizeof(char *));
	uint8_t *mine = calloc((size_t)nhooks + 1, 1);
	struct gerr err = {0};
	int rc = -1;
	if (!jv || !evs || !dls || !os || !cs || !lanebufs || !lanes || !mine) {
		gerr_set(&err, GERR_NOMEM, 503, "unavailable", "out of memory");
		goto answer;
	}
	int i = 0, lb = 0;
	for (struct ingest_job *j = jobs; j; j = j->next)
		jv[i++] = j;
	for (i = 0; i < njobs; i++) {
		struct ingest_job *j = jv[i];
		evs[i] = j->ev;
		evs[i].lanes = lanes + lb;
		evs[i].mine = mine + lb;
		for (int w = 0; w < j->ev.nwebhooks; w++, lb++) {
			const char *okey = j->ev.okeys ? j->ev.okeys[w] : NULL;
			lanes[lb] = lane_of(j->hooks[w], okey, lanebufs[lb], sizeof(lanebufs[lb]));
		}
	}
	i = 0;
	for (struct delivery_job *d = djobs; d; d = d->next) {
		for (int k = 0; k < d->n; k++, i++) {
			dls[i] = d->dl[k];
			struct webhook *w = registry_webhook_get(e->reg, d->dl[k].webhook_seq);
			dls[i].lane = lane_of(w, d->dl[k].okey, lanebufs[lb], sizeof(lanebufs[lb]));
			lb++;
			webhook_unref(w);
		}
	}
	for (i = 0; i < nouts; i++) {
		os[i] = outs[i].o;
		os[i].error = outs[i].error[0] ? outs[i].error : NULL;
		os[i].response = outs[i].response;
	}
	for (i = 0; i < nchanges; i++) {
		cs[i] = changes[i].c;
		cs[i].reason = changes[i].reason[0] ? changes[i].reason : NULL;
	}
	struct store_batch b = {.node = e->node,
	                        .events = evs,
	                        .nevents = njobs,
	                        .deliveries = dls,
	                        .ndeliveries = ndl,
	                        .outcomes = os,
	                        .noutcomes = nouts,
	                        .changes = cs,
	                        .nchanges = nchanges};
	int64_t t0 = clock_mono_us();
	rc = store_commit(e->wstore, &b, &err);
	atomic_store(&e->healthy, rc == 0);
	log_debug("committed", "events=%d deliveries=%d outcomes=%d us=%lld rc=%d", njobs, ndl,
	          nouts, (long long)(clock_mono_us() - t0), rc);
	if (rc == 0) {
		i = 0;
		for (struct delivery_job *d = djobs; d; d = d->next)
			for (int k = 0; k < d->n; k++, i++) {
				d->dl[k].seq = dls[i].seq;
				d->dl[k].mine = dls[i].mine;
			}
		hand_over(e, jv, njobs, evs, djobs);
		after_commit(e, cs, nchanges);
	}
answer:
	i = 0;
	for (struct ingest_job *j = jobs, *next; j; j = next, i++) {
		next = j->next;
		if (rc == 0) {
			j->ev = evs[i];
			j->ev.lanes = NULL;
			j->ev.mine = NULL;
		}
		for (int w = 0; w < j->nhooks; w++)
			webhook_unref(j->hooks[w]);
		free(j->envelope);
		j->envelope = NULL;
		j->done(j, rc, &err);
	}
	for (struct delivery_job *d = djobs, *next; d; d = next) {
		next = d->next;
		d->done(d, rc);
	}
	if (rc == 0) {
		for (i = 0; i < nouts; i++)
			free(outs[i].response);
	} else if (nouts || nchanges) {
		requeue(e, outs, nouts, changes, nchanges);
	}
	free(jv);
	free(evs);
	free(dls);
	free(os);
	free(cs);
	free(lanebufs);
	free(lanes);
	free(mine);
	return rc;
}

void *committer_main(void *arg)
{
	struct engine *e = arg;
	int backoff = 0;
	pthread_setname_np(pthread_self(), "committer");
	for (;;) {
		pthread_mutex_lock(&e->cmu);
		while (!e->jobs && !e->djobs && !e->nouts && !e->nchanges && !e->cstop)
			pthread_cond_wait(&e->ccond, &e->cmu);
		if ((!e->jobs && !e->djobs && !e->nouts && !e->nchanges && e->cstop) ||
		    (e->cstop && backoff >= 1000 && !e->jobs && !e->djobs)) {
			/* stopping with the store still down: unwritten outcomes stay
			 * pending in the store and are sent again after restart */
			pthread_mutex_unlock(&e->cmu);
			break;
		}
		/* Take up to batch_max ingest jobs; the rest wait for the next round. */
		struct ingest_job *jobs = e->jobs, *last = e->jobs;
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
		struct delivery_job *djobs = e->djobs;
		e->djobs = e->djobs_tail = NULL;
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

		int rc = commit_round(e, jobs, djobs, outs, nouts, changes, nchanges);
		free(outs);
		free(changes);
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
	pthread_cond_init(&e->ccond, NULL);
	pthread_mutex_init(&e->dmu, NULL);
	int rc = store_open(cfg->db_url, &e->wstore, err);
	if (rc)
		goto fail;
	rc = store_open(cfg->db_url, &e->rstore, err);
	if (rc)
		goto fail;
	uuid_v4(e->node);
	e->shared = store_shared(e->rstore);
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
