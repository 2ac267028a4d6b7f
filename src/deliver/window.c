/*
 * window: which open deliveries the scheduler holds in memory (the rest wait
 * in the store, read through s->env).
 *
 * Every open delivery with seq <= mem_hi is in memory; any newer one may be
 * only in the store ("overflow"). New deliveries arrive from the committer in
 * seq order (sched_offer); when the window is full they are skipped (they are
 * durable) and refill later reads them back by keyset (seq > mem_hi) through
 * the partial index of open deliveries. At start the window is empty and in
 * overflow, so recovery after a crash is just refill.
 *
 * A FIFO lane sends one delivery at a time, so on a single node, once the
 * window is over half full, a lane past lane_max (SCHED_LANE_MAX, or a quarter
 * of a small window) takes no more: newer ones stay in the store (the lane is
 * "spilled", see sched_task_add) and the lane reads them back in seq order
 * when it runs short. A FIFO receiver that is down, or slow, with a large
 * backlog thus cannot take the window from every other webhook. (With several
 * nodes, lanes are not capped yet: a delivery let go of there loses its
 * owner, and a lane's order needs its owner to keep it.)
 *
 * A window full of deliveries that wait for a distant retry (a receiver that
 * is down) must not starve every other webhook: under pressure, an unordered
 * delivery whose next try is more than SCHED_EVICT_AFTER_MS away is let go of
 * once its new time is committed, and read back when due: by the due scan
 * over (next_at, seq) on a single node, by claims with several.
 */
#include <stdlib.h>
#include <string.h>

#include "deliver/scheduler.h"

void sched_offer(struct sched *s, const struct store_task *st, struct payload *p, int64_t now)
{
	if (s->overflow || s->ntasks >= s->env.window) {
		/* Durable in the store; refill (or, with several nodes, any
		 * node's claim) will bring it in its turn. */
		s->overflow = !s->env.shared;
		if (s->env.shared)
			s->env.release(s->env.ctx, st->seq);
		payload_unref(p);
		return;
	}
	sched_task_add(s, st, p, now);
	if (st->seq > s->mem_hi)
		s->mem_hi = st->seq;
}

void sched_window_reset(struct sched *s)
{
	if (!s->env.shared) {
		s->overflow = true;
		s->mem_hi = 0;
	}
}

void sched_webhook_reload(struct sched *s, int64_t seq, int64_t now)
{
	struct store_task page[256];
	int64_t after = 0;
	for (;;) {
		int n = 0;
		if (s->env.open_for_webhook(s->env.ctx, seq, after, 256, page, &n))
			return;
		for (int i = 0; i < n; i++)
			sched_task_add(s, &page[i], NULL, now);
		if (n < 256)
			return;
		after = page[n - 1].seq;
	}
}

void sched_evictable(struct sched *s, int64_t seq)
{
	if (s->evq_len == s->evq_cap) {
		size_t cap = s->evq_cap ? s->evq_cap * 2 : 1024;
		struct evictable *p = malloc(cap * sizeof(*p));
		if (!p)
			return; /* it simply stays in memory */
		for (size_t i = 0; i < s->evq_len; i++)
			p[i] = s->evq[(s->evq_head + i) % s->evq_cap];
		free(s->evq);
		s->evq = p;
		s->evq_cap = cap;
		s->evq_head = 0;
	}
	/* its new time goes out with the next flush */
	s->evq[(s->evq_head + s->evq_len++) % s->evq_cap] = (struct evictable){seq, s->gen + 1};
}

/* evict: while the window is under pressure, let go of deliveries that wait
 * long and whose next time is durable. */
static void evict(struct sched *s, int64_t now)
{
	int64_t committed = s->env.committed_gen(s->env.ctx);
	/* Pressure starts where refill and claims stop: above half the window. */
	while (s->evq_len && s->ntasks > s->env.window / 2) {
		struct evictable ev = s->evq[s->evq_head];
		if (ev.gen > committed)
			return;
		s->evq_head = (s->evq_head + 1) % s->evq_cap;
		s->evq_len--;
		struct task *t = sched_task_get(s, ev.seq);
		if (!t || t->state != T_WAIT || t->lane ||
		    t->next_at - now <= SCHED_EVICT_AFTER_MS / 2)
			continue;
		if (s->env.shared)
			s->env.release(s->env.ctx, t->seq);
		else
			s->evicted++;
		sched_task_free(s, t, now);
	}
	if (s->ntasks < s->env.window / 4)
		s->evq_len = 0; /* no pressure: forget the candidates */
}

/* due_scan: bring back the deliveries let go of, as they come due. */
static void due_scan(struct sched *s, int64_t now)
{
	int64_t mono = s->env.mono_ms(s->env.ctx);
	if (!s->evicted || mono < s->next_due_scan)
		return;
	s->next_due_scan = mono + 200;
	/* Retries coming due share the window with new work waiting in the store:
	 * they fill half of it at most while there is such work (overflow). */
	int limit = s->overflow ? s->env.window / 2 : s->env.window;
	while (s->ntasks < limit) {
		struct store_task page[SCHED_PAGE];
		int n = 0;
		if (s->env.open_due(s->env.ctx, s->due_at, s->due_seq, now + 1000, SCHED_PAGE, page,
		                    &n))
			return;
		for (int i = 0; i < n; i++) {
			s->due_at = page[i].next_at;
			s->due_seq = page[i].seq;
			/* newer than the window's edge: the seq refill brings those */
			if (page[i].seq <= s->mem_hi && sched_task_add(s, &page[i], NULL, now) &&
			    s->evicted > 0)
				s->evicted--;
		}
		if (n < SCHED_PAGE)
			return;
	}
}

/* lane_read_back: the next deliveries of a spilled lane, in seq order, from
 * the open deliveries of its webhook. */
static int lane_read_back(struct sched *s, struct lane *l, int64_t now)
{
	struct wstate *ws = l->webhook_seq < s->nws ? s->ws[l->webhook_seq] : NULL;
	if (!ws || ws->deleted || !sched_ws_active(ws)) {
		l->spilled = false; /* held or gone: reactivation reloads the webhook */
		return 0;
	}
	bool keyed = ws->w->ordering_key != NULL;
	int64_t after = l->spill_after;
	while (l->spilled && l->n < s->lane_max) {
		struct store_task page[SCHED_PAGE];
		int want = keyed ? SCHED_PAGE : s->lane_max - l->n, n = 0, i;
		if (s->env.open_for_webhook(s->env.ctx, l->webhook_seq, after, want, page, &n))
			return -1;
		for (i = 0; i < n && l->n < s->lane_max; i++) {
			after = page[i].seq;
			if (keyed && strcmp(page[i].okey, l->key) != 0)
				continue; /* another lane of the webhook */
			s->loading = l;
			sched_task_add(s, &page[i], NULL, now);
			s->loading = NULL;
			l->spill_after = page[i].seq;
		}
		if (i < n)
			break; /* full again before the end of the page: still spilled */
		if (n < want)
			l->spilled = false; /* every open delivery of the lane is in memory */
	}
	return 0;
}

static void read_back_lanes(struct sched *s, int64_t now)
{
	while (s->short_lanes) {
		struct lane *l = s->short_lanes;
		if (lane_read_back(s, l, now))
			return; /* the store is unavailable: try again next turn */
		s->short_lanes = l->snext;
		l->queued = false;
		sched_lane_free_if_empty(s, l);
	}
}

static void refill(struct sched *s, int64_t now)
{
	int window = s->env.window;
	while (s->overflow && s->ntasks < window / 2 + 1) {
		struct store_task page[SCHED_PAGE];
		int want = window - s->ntasks;
		if (want > SCHED_PAGE)
			want = SCHED_PAGE;
		int n = 0;
		if (s->env.open_after(s->env.ctx, s->mem_hi, want, page, &n))
			return;
		for (int i = 0; i < n; i++) {
			sched_task_add(s, &page[i], NULL, now);
			s->mem_hi = page[i].seq;
		}
		if (n < want)
			s->overflow = false;
	}
}

void sched_window_upkeep(struct sched *s, int64_t now)
{
	evict(s, now);
	if (!s->env.shared) {
		due_scan(s, now);
		read_back_lanes(s, now);
		refill(s, now);
	}
}
