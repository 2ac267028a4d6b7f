/*
 * dispatcher: sends deliveries, one event loop over libcurl's multi interface,
 * on its own thread. This file is the loop and its edges; the parts are
 * (dispatcher_internal.h):
 *
 *   scheduler.c, window.c   which open delivery goes next, and which are in
 *                           memory (the rules are told there)
 *   transfer.c              one request and what its answer means
 *   bodies.c                the bytes a delivery sends
 *   cluster.c               claims, releases and heartbeats with several nodes
 *
 * Each turn of the loop: read the inbox (new deliveries from the committer,
 * commands from the API), keep the window (or the cluster) up to date, move
 * due timers to their ready queues, pump webhooks with ready work (which
 * starts requests), let libcurl run, finish what ended, and hand the turn's
 * outcomes to the committer as one batch. Then sleep until the next timer, a
 * socket event or a wakeup (dispatcher_post).
 *
 * The scheduler gets its clock and its reads of the store from the hooks
 * below (struct sched_env), which is what lets tests/unit/test_scheduler.c
 * run it with neither.
 */
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/dispatcher_internal.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"

/* ---- outcomes ---------------------------------------------------------------------------- */

struct outcome_item *dispatcher_out_new(struct dispatcher *d, const struct task *t, int status)
{
	if (!array_reserve((void **)&d->outs, &d->capouts, d->nouts + 1, sizeof(*d->outs), 256))
		abort();
	struct outcome_item *o = &d->outs[d->nouts++];
	memset(o, 0, sizeof(*o));
	o->o.delivery_seq = t->seq;
	o->o.status = status;
	o->o.attempts = t->attempts;
	o->o.next_at = t->next_at;
	o->o.first_attempt_at = t->first_attempt_at;
	return o;
}

void dispatcher_note(struct dispatcher *d, struct wstate *ws, bool ok, bool gone, int64_t now)
{
	if (!ws->ch_pending) {
		ws->ch_pending = true;
		ws->cnext = d->changed;
		d->changed = ws;
	}
	if (ok) {
		ws->ch_succeeded = true;
		ws->ch_failed_at = 0; /* the streak, if any, starts after this success */
	} else if (!ws->ch_failed_at) {
		ws->ch_failed_at = now;
	}
	ws->ch_gone |= gone;
}

static void changes_collect(struct dispatcher *d, int64_t now)
{
	while (d->changed) {
		struct wstate *ws = d->changed;
		d->changed = ws->cnext;
		ws->ch_pending = false;
		if (!array_reserve((void **)&d->changes, &d->capchanges, d->nchanges + 1,
		                   sizeof(*d->changes), 16))
			abort();
		struct change_item *c = &d->changes[d->nchanges++];
		memset(c, 0, sizeof(*c));
		c->c.webhook_seq = ws->seq;
		c->c.succeeded = ws->ch_succeeded;
		c->c.failed_at = ws->ch_failed_at;
		c->c.deactivate = ws->ch_gone;
		if (ws->ch_failed_at)
			c->c.deactivate_before = now - d->e->cfg.deactivate_after_ms;
		if (ws->ch_gone)
			snprintf(c->reason, sizeof(c->reason), "target answered 410 Gone");
		else
			snprintf(c->reason, sizeof(c->reason), "every attempt failed for %lld s",
			         (long long)(d->e->cfg.deactivate_after_ms / 1000));
		ws->ch_succeeded = ws->ch_gone = false;
		ws->ch_failed_at = 0;
	}
}

static void flush_outcomes(struct dispatcher *d)
{
	changes_collect(d, clock_now_ms());
	if (!d->nouts && !d->nchanges)
		return;
	committer_push(d->e, d->outs, d->nouts, d->changes, d->nchanges, ++d->s.gen);
	d->nouts = 0;
	d->nchanges = 0;
}

/* ---- the scheduler's hooks ------------------------------------------------------------- */

static int64_t hook_mono_ms(void *ctx)
{
	(void)ctx;
	return clock_mono_ms();
}

static bool hook_stopping(void *ctx)
{
	const struct dispatcher *d = ctx;
	return atomic_load(&d->e->dstop);
}

/* hook_held: the webhook is paused or deactivated; the delivery waits in the store. */
static void hook_held(void *ctx, const struct task *t)
{
	struct dispatcher *d = ctx;
	dispatcher_out_new(d, t, DLV_HELD);
	/* An attempt of it was logged with next=pending: say what it is now, in
	 * the API's words. */
	if (t->attempts > 0)
		log_info("delivery_held",
		         "webhook=%s delivery=%lld attempts=%d reason=\"webhook %s\"", t->ws->w->id,
		         (long long)t->seq, t->attempts, t->ws->deleted ? "deleted" : "inactive");
}

static int64_t hook_committed_gen(void *ctx)
{
	const struct dispatcher *d = ctx;
	return atomic_load(&d->e->committed_gen);
}

static int hook_open_after(void *ctx, int64_t after_seq, int limit, struct store_task *out, int *n)
{
	const struct dispatcher *d = ctx;
	return store_open_after(d->e->rstore, after_seq, limit, out, n);
}

static int hook_open_for_webhook(void *ctx, int64_t webhook_seq, int64_t after_seq, int limit,
                                 struct store_task *out, int *n)
{
	const struct dispatcher *d = ctx;
	return store_open_for_webhook(d->e->rstore, webhook_seq, after_seq, limit, out, n);
}

static int hook_open_due(void *ctx, int64_t after_next_at, int64_t after_seq, int64_t due_before,
                         int limit, struct store_task *out, int *n)
{
	const struct dispatcher *d = ctx;
	return store_open_due(d->e->rstore, after_next_at, after_seq, due_before, limit, out, n);
}

/* ---- inbox ------------------------------------------------------------------------------- */

void dispatcher_post(struct engine *e, struct dmsg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&e->dmu);
	if (e->inbox_tail)
		e->inbox_tail->next = m;
	else
		e->inbox = m;
	e->inbox_tail = m;
	pthread_mutex_unlock(&e->dmu);
	curl_multi_wakeup(e->multi);
}

static void post_simple(struct engine *e, enum dmsg_kind kind, int64_t seq,
                        const struct store_task *t)
{
	struct dmsg *m = fault_hit("post_alloc") ? NULL : calloc(1, sizeof(*m));
	if (!m) {
		/* Not silently dropped: the dispatcher reads everything back
		 * (resync) on its next turn. */
		log_error("dispatcher_message_lost",
		          "kind=%d note=\"out of memory; every webhook and open delivery is "
		          "read again\"",
		          (int)kind);
		atomic_store(&e->resync, true);
		curl_multi_wakeup(e->multi);
		return;
	}
	m->kind = kind;
	m->webhook_seq = seq;
	if (t)
		m->one = *t;
	dispatcher_post(e, m);
}

void engine_webhook_changed(struct engine *e, int64_t webhook_seq)
{
	post_simple(e, DMSG_WEBHOOK_CHANGED, webhook_seq, NULL);
}

void engine_webhook_reload(struct engine *e, int64_t webhook_seq)
{
	post_simple(e, DMSG_WEBHOOK_RELOAD, webhook_seq, NULL);
}

void engine_task_add(struct engine *e, const struct store_task *t)
{
	post_simple(e, DMSG_TASK_ADD, t->webhook_seq, t);
}

/* resync: a message from the API (post_simple) or the committer's hand-over
 * of new deliveries could not be allocated: take every webhook's config again and read every open
 * delivery back from the store, as recovery at start does. Deliveries already in memory are skipped
 * by sched_task_add. */
static void resync(struct dispatcher *d, int64_t now)
{
	for (int64_t seq = 1; seq < d->s.nws; seq++)
		if (d->s.ws[seq] && !d->s.ws[seq]->deleted)
			sched_webhook_changed(&d->s, seq, now);
	if (d->shared)
		d->claim_due = true;
	else
		sched_window_reset(&d->s);
}

static void process_inbox(struct dispatcher *d, int64_t now)
{
	struct engine *e = d->e;
	if (atomic_exchange(&e->resync, false))
		resync(d, now);
	pthread_mutex_lock(&e->dmu);
	struct dmsg *m = e->inbox;
	e->inbox = e->inbox_tail = NULL;
	pthread_mutex_unlock(&e->dmu);
	while (m) {
		struct dmsg *next = m->next;
		switch (m->kind) {
		case DMSG_TASKS:
			for (int i = 0; i < m->ntasks; i++)
				sched_offer(&d->s, &m->tasks[i].t, m->tasks[i].payload, now);
			free(m->tasks);
			break;
		case DMSG_WEBHOOK_CHANGED: sched_webhook_changed(&d->s, m->webhook_seq, now); break;
		case DMSG_WEBHOOK_RELOAD:
			/* with several nodes, released deliveries are anyone's to claim */
			if (d->shared)
				d->claim_due = true;
			else
				sched_webhook_reload(&d->s, m->webhook_seq, now);
			break;
		case DMSG_TASK_ADD:
			if (d->shared)
				d->claim_due = true;
			else
				sched_task_add(&d->s, &m->one, NULL, now);
			break;
		}
		free(m);
		m = next;
	}
}

/* ---- the loop ------------------------------------------------------------------------------- */

int dispatcher_init(struct engine *e, struct gerr *err)
{
	struct dispatcher *d = calloc(1, sizeof(*d));
	if (!d)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	d->e = e;
	d->shared = e->shared;
	struct sched_env env = {
	    .ctx = d,
	    .reg = e->reg,
	    .window = e->cfg.window,
	    .max_inflight = e->cfg.max_inflight,
	    .shared = e->shared,
	    .mono_ms = hook_mono_ms,
	    .stopping = hook_stopping,
	    .start = transfer_start,
	    .held = hook_held,
	    .release = cluster_release_later,
	    .committed_gen = hook_committed_gen,
	    .open_after = hook_open_after,
	    .open_for_webhook = hook_open_for_webhook,
	    .open_due = hook_open_due,
	};
	d->rng = (uint64_t)clock_mono_us() | 1;
	e->multi = curl_multi_init();
	if (!e->multi || sched_init(&d->s, &env)) {
		if (e->multi)
			curl_multi_cleanup(e->multi);
		e->multi = NULL;
		free(d);
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	}
	/* Test hook, for tests/integration/test_crash_guard.py only: with
	 * GANCHO_FAULT_CRASH_STATUS=N (100..999), an answer with status N makes
	 * the outcome's handling abort(), as a bug would. Unset (the only setting
	 * a deployment has), nothing changes. */
	const char *fault = getenv("GANCHO_FAULT_CRASH_STATUS");
	if (fault && *fault) {
		char *end;
		long v = strtol(fault, &end, 10);
		if (!*end && v >= 100 && v <= 999) {
			d->fault_status = v;
			log_warn("fault_hook",
			         "crash_status=%ld note=\"test hook: aborts on this status\"", v);
		}
	}
	cluster_init(d);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->cfg.max_inflight);
	e->d = d;
	return 0;
}

void *dispatcher_main(void *arg)
{
	struct engine *e = arg;
	struct dispatcher *d = e->d;
	struct sched *s = &d->s;
	int64_t stop_deadline = 0;
	pthread_setname_np(pthread_self(), "dispatcher");
	for (;;) {
		int64_t now = clock_now_ms();
		process_inbox(d, now);
		if (!atomic_load(&e->dstop)) {
			sched_window_upkeep(s, now);
			if (d->shared)
				cluster_upkeep(d, now);
		}
		sched_run_timers(s, now);
		/* rate-limited webhooks whose token is due get another pump */
		sched_run_dirty(s, now);

		int running = 0;
		curl_multi_perform(e->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(e->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			transfer_finish(d, x, msg->data.result, clock_now_ms());
		}
		sched_wake_waiting(s, 0);
		sched_run_dirty(s, clock_now_ms());
		flush_outcomes(d);
		/* the invariants, in the test build, while checking them is cheap */
		assert(s->ntasks > 4096 || sched_check(s));

		if (atomic_load(&e->dstop)) {
			int64_t mono = clock_mono_ms();
			if (!stop_deadline)
				stop_deadline = mono + e->cfg.shutdown_grace_ms;
			if (s->inflight == 0 || mono >= stop_deadline)
				break;
		}

		/* Sleep until the next timer, a socket event, or a wakeup. */
		long wait = 1000;
		int64_t next = sched_next_timer(s);
		if (next != INT64_MAX) {
			int64_t dt = next - clock_now_ms();
			if (dt < wait)
				wait = dt < 0 ? 0 : (long)dt;
		}
		wait = sched_wake_waiting(s, wait);
		long ct = -1;
		curl_multi_timeout(e->multi, &ct);
		if (ct >= 0 && ct < wait)
			wait = ct;
		if (s->dirty || d->claim_due)
			wait = 0;
		struct curl_waitfd extra = {.fd = d->listen_fd, .events = CURL_WAIT_POLLIN};
		curl_multi_poll(e->multi, d->listen_fd >= 0 ? &extra : NULL,
		                d->listen_fd >= 0 ? 1 : 0, (int)wait, NULL);
		if (d->listen_fd >= 0 && extra.revents)
			store_notifications(e->rstore, cluster_on_notify, d);
	}
	if (s->inflight)
		log_warn("shutdown_abandoned",
		         "inflight=%d note=\"they stay pending and are sent after restart\"",
		         s->inflight);
	flush_outcomes(d);
	return NULL;
}

void dispatcher_free(struct engine *e)
{
	struct dispatcher *d = e->d;
	if (!d)
		return;
	/* In-flight transfers abandoned at shutdown: their deliveries stay pending. */
	for (size_t i = 0; i < d->s.hcap; i++)
		for (struct task *t = d->s.hash[i]; t; t = t->hnext)
			transfer_abandon(d, t);
	sched_free(&d->s);
	transfer_free_all(d);
	for (struct dmsg *m = e->inbox, *next; m; m = next) {
		next = m->next;
		for (int i = 0; i < m->ntasks; i++)
			payload_unref(m->tasks[i].payload);
		free(m->tasks);
		free(m);
	}
	body_cache_free(d);
	free(d->release);
	curl_multi_cleanup(e->multi);
	free(d->outs);
	free(d->changes);
	free(d);
}
