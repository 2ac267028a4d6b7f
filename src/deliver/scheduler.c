/*
 * scheduler: the open deliveries in memory and the order they go out in
 * (scheduler.h has the parts; window.c decides which are in memory).
 *
 * A task is in one of three states: waiting for its time (in the timer heap,
 * or, in a FIFO lane, behind the head), ready (in its webhook's ready queue)
 * or in flight. Webhooks with new ready work are "dirty" and get pumped, in
 * the order they became so, one request each in turn.
 *
 * FIFO lanes: for a fifo webhook, one lane per ordering key value (or one for
 * the whole webhook). Only a lane's head is ever due or in flight, so a
 * failing head holds everything behind it, and when it succeeds the next
 * goes, one at a time (Acesso RH's rule). An older delivery added later (a
 * manual retry) becomes the head and the old head, unless in flight, steps
 * back.
 *
 * Requests in flight are shared fairly, since one cannot be taken back once
 * started and a slow receiver may hold its slot for up to 300 s (may_start):
 * of max_inflight, a reserve (an eighth) is kept for whoever has had less. A
 * company may start a request while the total in flight is below
 * max_inflight - reserve, or while its own in flight is below its share,
 * (max_inflight - reserve) / companies with work. The same rule, one level
 * down, shares a company's part between its webhooks with work. A webhook
 * refused a slot waits in s->starved and is woken, in the order it came
 * (round-robin), when a request ends or the shares change. So another
 * company's hanging receivers may take only their share, and a fast receiver
 * keeps getting slots.
 *
 * Nothing here reads a clock or the store: "now" (wall ms) is an argument and
 * the rest comes through s->env (scheduler.h).
 */
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/scheduler.h"
#include "util/array.h"

/* ---- small containers --------------------------------------------------------------- */

static size_t hslot(const struct sched *s, int64_t seq)
{
	uint64_t h = (uint64_t)seq * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & (s->hcap - 1);
}

struct task *sched_task_get(struct sched *s, int64_t seq)
{
	for (struct task *t = s->hash[hslot(s, seq)]; t; t = t->hnext)
		if (t->seq == seq)
			return t;
	return NULL;
}

static void hash_put(struct sched *s, struct task *t)
{
	if ((size_t)s->ntasks * 2 >= s->hcap) {
		size_t ncap = s->hcap * 2;
		struct task **nh = calloc(ncap, sizeof(*nh));
		if (nh) {
			struct task **old = s->hash;
			size_t oldcap = s->hcap;
			s->hash = nh;
			s->hcap = ncap;
			for (size_t i = 0; i < oldcap; i++) {
				for (struct task *x = old[i], *next; x; x = next) {
					next = x->hnext;
					size_t k = hslot(s, x->seq);
					x->hnext = s->hash[k];
					s->hash[k] = x;
				}
			}
			free(old);
		}
	}
	size_t k = hslot(s, t->seq);
	t->hnext = s->hash[k];
	s->hash[k] = t;
}

static void hash_del(struct sched *s, struct task *t)
{
	struct task **pp = &s->hash[hslot(s, t->seq)];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
}

static bool heap_less(const struct task *a, const struct task *b)
{
	return a->next_at < b->next_at || (a->next_at == b->next_at && a->seq < b->seq);
}

static void heap_swap(struct sched *s, int i, int j)
{
	struct task *t = s->heap[i];
	s->heap[i] = s->heap[j];
	s->heap[j] = t;
	s->heap[i]->heap_idx = i;
	s->heap[j]->heap_idx = j;
}

static void heap_up(struct sched *s, int i)
{
	while (i > 0 && heap_less(s->heap[i], s->heap[(i - 1) / 2])) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct sched *s, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && heap_less(s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && heap_less(s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

static void heap_push(struct sched *s, struct task *t)
{
	assert(t->heap_idx < 0);
	if (!array_reserve((void **)&s->heap, &s->capheap, s->nheap + 1, sizeof(*s->heap), 1024))
		abort();
	t->heap_idx = s->nheap;
	s->heap[s->nheap++] = t;
	heap_up(s, t->heap_idx);
}

static void heap_remove(struct sched *s, struct task *t)
{
	int i = t->heap_idx;
	if (i < 0)
		return;
	assert(i < s->nheap && s->heap[i] == t);
	s->nheap--;
	if (i != s->nheap) {
		s->heap[i] = s->heap[s->nheap];
		s->heap[i]->heap_idx = i;
		heap_down(s, i);
		heap_up(s, i);
	}
	t->heap_idx = -1;
}

static size_t lslot(const struct sched *s, int64_t wseq, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)wseq;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h & (s->lcap - 1);
}

static struct lane *lane_get(struct sched *s, int64_t wseq, const char *key, bool create)
{
	size_t k = lslot(s, wseq, key);
	for (struct lane *l = s->lanes[k]; l; l = l->hnext)
		if (l->webhook_seq == wseq && strcmp(l->key, key) == 0)
			return l;
	if (!create)
		return NULL;
	size_t klen = strlen(key);
	struct lane *l = calloc(1, sizeof(*l) + klen + 1);
	if (!l)
		abort();
	l->webhook_seq = wseq;
	memcpy(l->key, key, klen + 1);
	l->hnext = s->lanes[k];
	s->lanes[k] = l;
	return l;
}

void sched_lane_free_if_empty(struct sched *s, struct lane *l)
{
	if (l->head || l->spilled || l->queued)
		return;
	assert(l->n == 0 && l->inflight == 0);
	struct lane **pp = &s->lanes[lslot(s, l->webhook_seq, l->key)];
	while (*pp && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = l->hnext;
	free(l);
}

/* ---- webhook state -------------------------------------------------------------------- */

static void mark_dirty(struct sched *s, struct wstate *ws)
{
	if (!ws->dirty) {
		ws->dirty = true;
		ws->dnext = NULL;
		if (s->dirty_tail)
			s->dirty_tail->dnext = ws;
		else
			s->dirty = ws;
		s->dirty_tail = ws;
	}
}

/* table_reserve: make index seq fit a table of pointers indexed by seq
 * (webhooks', companies'), doubling from 64; new slots are NULL. */
static void table_reserve(void ***tab, int64_t *n, int64_t seq)
{
	if (seq < *n)
		return;
	int64_t cap = *n ? *n : 64;
	while (cap <= seq)
		cap *= 2;
	void **p = realloc(*tab, (size_t)cap * sizeof(*p));
	if (!p)
		abort();
	memset(p + *n, 0, (size_t)(cap - *n) * sizeof(*p));
	*tab = p;
	*n = cap;
}

/* cs_get: the company's share state, made on first use (kept until exit:
 * a few bytes per company). */
static struct cstate *cs_get(struct sched *s, int64_t seq)
{
	if (seq < 0)
		seq = 0;
	table_reserve((void ***)&s->cs, &s->ncs, seq);
	if (!s->cs[seq] && !(s->cs[seq] = calloc(1, sizeof(**s->cs))))
		abort();
	return s->cs[seq];
}

/* ws_update: count the webhook, and its company, as having work or not (due
 * tasks or requests in flight); the shares of may_start follow. */
static void ws_update(struct sched *s, struct wstate *ws)
{
	bool active = ws->rhead != NULL || ws->inflight > 0;
	if (active == ws->active)
		return;
	ws->active = active;
	struct cstate *c = ws->cs;
	c->nactive += active ? 1 : -1;
	if (c->nactive == (active ? 1 : 0))
		s->ncomp_active += active ? 1 : -1;
	assert(c->nactive >= 0 && s->ncomp_active >= 0);
	s->slots_gen++;
}

/* may_start: whether ws may start one more request now (the fair sharing
 * rule at the top of the file). */
static bool may_start(const struct sched *s, const struct wstate *ws)
{
	int max = s->env.max_inflight;
	if (s->inflight >= max)
		return false;
	int usable = max - s->reserve;
	int ncomp = s->ncomp_active > 0 ? s->ncomp_active : 1;
	int share = usable / ncomp > 0 ? usable / ncomp : 1;
	const struct cstate *c = ws->cs;
	if (s->inflight >= usable && c->inflight >= share)
		return false;
	/* One level down: the company's share between its webhooks. */
	int nwh = c->nactive > 0 ? c->nactive : 1;
	int wshare = share / nwh > 0 ? share / nwh : 1;
	int wreserve = share / 8 > 0 ? share / 8 : 1;
	return c->inflight < share - wreserve || ws->inflight < wshare;
}

static struct wstate *ws_get(struct sched *s, int64_t seq)
{
	if (seq <= 0)
		return NULL;
	if (seq < s->nws && s->ws[seq])
		return s->ws[seq];
	struct webhook *w = registry_webhook_get(s->env.reg, seq);
	if (!w)
		return NULL;
	table_reserve((void ***)&s->ws, &s->nws, seq);
	struct wstate *ws = calloc(1, sizeof(*ws));
	if (!ws)
		abort();
	ws->seq = seq;
	ws->w = w;
	ws->cs = cs_get(s, w->company_seq);
	ws->tokens = w->rate_per_sec > 0 ? 1 : 0;
	ws->tokens_at = s->env.mono_ms(s->env.ctx);
	s->ws[seq] = ws;
	return ws;
}

bool sched_ws_active(const struct wstate *ws)
{
	return !ws->deleted && __atomic_load_n(&ws->w->status, __ATOMIC_ACQUIRE) == WH_ACTIVE;
}

/* ---- task lifecycle ---------------------------------------------------------------------- */

static void ready_remove(struct sched *s, struct wstate *ws, struct task *t)
{
	assert(t->state == T_READY);
	if (t->qprev)
		t->qprev->qnext = t->qnext;
	else
		ws->rhead = t->qnext;
	if (t->qnext)
		t->qnext->qprev = t->qprev;
	else
		ws->rtail = t->qprev;
	t->qnext = t->qprev = NULL;
	/* out of the queue: no longer ready (a caller gives it its next state) */
	t->state = T_WAIT;
	ws_update(s, ws);
}

static void make_due_or_wait(struct sched *s, struct task *t, int64_t now)
{
	assert(t->heap_idx < 0 && t->state == T_WAIT);
	/* in a lane, only the head ever gets its turn */
	assert(!t->lane || t->lane->head == t);
	if (t->next_at <= now) {
		t->state = T_READY;
		t->qnext = NULL;
		t->qprev = t->ws->rtail;
		if (t->ws->rtail)
			t->ws->rtail->qnext = t;
		else
			t->ws->rhead = t;
		t->ws->rtail = t;
		ws_update(s, t->ws);
		mark_dirty(s, t->ws);
	} else {
		t->state = T_WAIT;
		heap_push(s, t);
	}
}

/* lane_kick: when nothing of the lane is in flight, its head gets its turn
 * (now, or at its retry time). */
static void lane_kick(struct sched *s, struct lane *l, int64_t now)
{
	struct task *h = l->head;
	if (h && l->inflight == 0 && h->state == T_WAIT && h->heap_idx < 0)
		make_due_or_wait(s, h, now);
}

void sched_task_free(struct sched *s, struct task *t, int64_t now)
{
	struct wstate *ws = t->ws;
	heap_remove(s, t);
	if (t->state == T_READY)
		ready_remove(s, ws, t);
	if (t->aprev)
		t->aprev->anext = t->anext;
	else
		ws->all = t->anext;
	if (t->anext)
		t->anext->aprev = t->aprev;
	ws->ntasks--;
	struct lane *l = t->lane;
	if (l) {
		if (t->lprev)
			t->lprev->lnext = t->lnext;
		else
			l->head = t->lnext;
		if (t->lnext)
			t->lnext->lprev = t->lprev;
		else
			l->tail = t->lprev;
		l->n--;
		if (l->spilled && l->n < s->lane_low && !l->queued) {
			l->queued = true;
			l->snext = s->short_lanes;
			s->short_lanes = l;
		}
		lane_kick(s, l, now);
		sched_lane_free_if_empty(s, l);
	}
	hash_del(s, t);
	s->ntasks--;
	assert(ws->ntasks >= 0 && s->ntasks >= 0);
	payload_unref(t->payload);
	free(t);
}

void sched_task_hold(struct sched *s, struct task *t, int64_t now)
{
	s->env.held(s->env.ctx, t);
	sched_task_free(s, t, now);
}

/* lane_insert: t into its lane, kept in seq order; new work nearly always
 * goes last. */
static void lane_insert(struct sched *s, struct lane *l, struct task *t, int64_t now)
{
	t->lane = l;
	l->n++;
	struct task *after = l->tail;
	while (after && after->seq > t->seq)
		after = after->lprev;
	if (after && after == l->tail) {
		t->lprev = after;
		after->lnext = t;
		l->tail = t;
	} else if (after) {
		t->lprev = after;
		t->lnext = after->lnext;
		after->lnext->lprev = t;
		after->lnext = t;
	} else {
		/* an older delivery (a manual retry): it becomes the head, and the
		 * old head, unless in flight, steps back and waits */
		struct task *old = l->head;
		t->lnext = old;
		if (old)
			old->lprev = t;
		else
			l->tail = t;
		l->head = t;
		if (old && old->state != T_FLIGHT) {
			heap_remove(s, old);
			if (old->state == T_READY)
				ready_remove(s, t->ws, old);
			old->state = T_WAIT;
		}
	}
	t->state = T_WAIT;
	lane_kick(s, l, now);
}

bool sched_task_add(struct sched *s, const struct store_task *st, struct payload *p, int64_t now)
{
	struct wstate *ws;
	if (sched_task_get(s, st->seq) || !(ws = ws_get(s, st->webhook_seq)) || ws->deleted) {
		payload_unref(p);
		return false;
	}
	struct lane *l = NULL; /* the task's FIFO lane, looked up once */
	const char *key = webhook_lane_key(ws->w, st->okey);
	if (key && sched_ws_active(ws))
		l = lane_get(s, ws->seq, key, true);
	if (l && !s->env.shared) {
		if (l != s->loading &&
		    (l->spilled ? st->seq > l->spill_after
		                : l->n >= s->lane_max && s->ntasks > s->env.window / 2 && l->tail &&
		                      st->seq > l->tail->seq)) {
			/* Durable in the store: the lane reads it back in its turn. */
			if (!l->spilled) {
				l->spilled = true;
				l->spill_after = l->tail->seq;
			}
			payload_unref(p);
			return false;
		}
	}
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->seq = st->seq;
	t->event_seq = st->event_seq;
	t->request_seq = st->request_seq;
	t->next_at = st->next_at;
	t->first_attempt_at = st->first_attempt_at;
	t->attempts = st->attempts;
	t->heap_idx = -1;
	t->ws = ws;
	t->payload = p;
	t->anext = ws->all;
	if (ws->all)
		ws->all->aprev = t;
	ws->all = t;
	ws->ntasks++;
	hash_put(s, t);
	s->ntasks++;
	if (!sched_ws_active(ws)) {
		sched_task_hold(s, t, now);
		return true;
	}
	if (l)
		lane_insert(s, l, t, now);
	else
		make_due_or_wait(s, t, now);
	return true;
}

/* ---- in flight ----------------------------------------------------------------------------- */

void sched_flight_begin(struct sched *s, struct task *t, int64_t now)
{
	struct wstate *ws = t->ws;
	ready_remove(s, ws, t);
	assert(!t->lane || (t->lane->head == t && t->lane->inflight == 0));
	if (!t->first_attempt_at)
		t->first_attempt_at = now;
	t->attempts++;
	t->state = T_FLIGHT;
	if (t->lane)
		t->lane->inflight++;
	ws->inflight++;
	ws->cs->inflight++;
	s->inflight++;
	assert(s->inflight <= s->env.max_inflight);
	ws_update(s, ws);
}

void sched_flight_end(struct sched *s, struct task *t)
{
	struct wstate *ws = t->ws;
	assert(t->state == T_FLIGHT && ws->inflight > 0 && ws->cs->inflight > 0 && s->inflight > 0);
	ws->inflight--;
	ws->cs->inflight--;
	s->inflight--;
	s->slots_gen++;
	ws_update(s, ws);
	t->xfer = NULL;
	if (t->lane) {
		t->lane->inflight--;
		assert(t->lane->inflight == 0);
	}
	mark_dirty(s, ws);
}

void sched_retry(struct sched *s, struct task *t, int64_t now)
{
	assert(t->state == T_FLIGHT && !t->xfer);
	/* Waiting for a retry: the body goes back to the store's care. */
	payload_unref(t->payload);
	t->payload = NULL;
	t->state = T_WAIT;
	if (t->lane) {
		lane_kick(s, t->lane, now);
	} else {
		make_due_or_wait(s, t, now);
		if (t->next_at - now > SCHED_EVICT_AFTER_MS)
			sched_evictable(s, t->seq);
	}
}

/* ---- pumping --------------------------------------------------------------------------------- */

/* rate_ok: take a token of the webhook's rateLimit, or say when one will be there. */
static bool rate_ok(struct wstate *ws, int64_t mono)
{
	double rate = ws->w->rate_per_sec;
	if (rate <= 0)
		return true;
	double cap = rate < 1 ? 1 : rate;
	ws->tokens += (double)(mono - ws->tokens_at) * rate / 1000.0;
	ws->tokens_at = mono;
	if (ws->tokens > cap)
		ws->tokens = cap;
	if (ws->tokens >= 1) {
		ws->tokens -= 1;
		ws->rate_wake = 0;
		return true;
	}
	/* A tiny rate (the API only asks for > 0) would make a wait no int64
	 * holds: look again within a minute at the latest. */
	double wait_ms = (1 - ws->tokens) * 1000.0 / rate;
	ws->rate_wake = mono + (wait_ms < 60000.0 ? (int64_t)wait_ms : 60000) + 1;
	return false;
}

static void pump(struct sched *s, struct wstate *ws, int64_t now)
{
	int limit = ws->w->concurrency;
	int64_t mono = s->env.mono_ms(s->env.ctx);
	bool started = false;
	while (ws->rhead && !s->env.stopping(s->env.ctx)) {
		if (started && s->dirty) {
			/* others wait to be pumped: one request each in turn, so the
			 * first pumped cannot take every free slot */
			mark_dirty(s, ws);
			break;
		}
		if (ws->deleted) {
			sched_task_free(s, ws->rhead, now);
			continue;
		}
		if (!sched_ws_active(ws)) {
			sched_task_hold(s, ws->rhead, now);
			continue;
		}
		if (ws->inflight >= limit)
			break; /* its own request ending pumps it again */
		if (!may_start(s, ws)) {
			/* no slot for it now: wait in line for one */
			if (!ws->in_starved) {
				ws->in_starved = true;
				ws->snext = NULL;
				if (s->starved_tail)
					s->starved_tail->snext = ws;
				else
					s->starved = ws;
				s->starved_tail = ws;
			}
			break;
		}
		if (!rate_ok(ws, mono)) {
			if (!ws->in_rated) {
				ws->in_rated = true;
				ws->rnext = s->rated;
				s->rated = ws;
			}
			break;
		}
		struct task *t = ws->rhead;
		s->env.start(s->env.ctx, t, now);
		/* the start contract: t left the ready queue (or the loop never ends) */
		assert(ws->rhead != t);
		started = true;
	}
}

void sched_run_dirty(struct sched *s, int64_t now)
{
	while (s->dirty) {
		struct wstate *ws = s->dirty;
		s->dirty = ws->dnext;
		if (!s->dirty)
			s->dirty_tail = NULL;
		ws->dirty = false;
		pump(s, ws, now);
	}
}

long sched_wake_waiting(struct sched *s, long max_wait)
{
	/* Only when something changed (a slot freed, the shares moved): a
	 * webhook refused before would be refused again. In line order. */
	if (s->starved && s->woken_gen != s->slots_gen && s->inflight < s->env.max_inflight) {
		s->woken_gen = s->slots_gen;
		struct wstate *ws = s->starved;
		s->starved = s->starved_tail = NULL;
		while (ws) {
			struct wstate *next = ws->snext;
			ws->in_starved = false;
			mark_dirty(s, ws);
			ws = next;
		}
	}
	long wait = max_wait;
	int64_t mono = s->env.mono_ms(s->env.ctx);
	for (struct wstate **pp = &s->rated; *pp;) {
		struct wstate *ws = *pp;
		if (!ws->rhead || ws->deleted) {
			*pp = ws->rnext;
			ws->in_rated = false;
			continue;
		}
		int64_t dt = ws->rate_wake - mono;
		if (dt <= 0) {
			*pp = ws->rnext;
			ws->in_rated = false;
			mark_dirty(s, ws);
			wait = 0;
			continue;
		}
		if (dt < wait)
			wait = (long)dt;
		pp = &ws->rnext;
	}
	return wait;
}

void sched_run_timers(struct sched *s, int64_t now)
{
	while (s->nheap && s->heap[0]->next_at <= now) {
		struct task *t = s->heap[0];
		heap_remove(s, t);
		make_due_or_wait(s, t, now);
	}
}

int64_t sched_next_timer(const struct sched *s)
{
	return s->nheap ? s->heap[0]->next_at : INT64_MAX;
}

/* ---- webhooks ----------------------------------------------------------------------------- */

void sched_hold_all(struct sched *s, struct wstate *ws, int64_t now)
{
	for (struct task *t = ws->all, *next; t; t = next) {
		next = t->anext;
		if (t->state != T_FLIGHT)
			sched_task_hold(s, t, now);
	}
}

void sched_webhook_changed(struct sched *s, int64_t seq, int64_t now)
{
	if (seq <= 0 || seq >= s->nws || !s->ws[seq])
		return;
	struct wstate *ws = s->ws[seq];
	struct webhook *w = registry_webhook_get(s->env.reg, seq);
	if (!w) {
		/* Deleted: the API already failed its open deliveries in the store. */
		ws->deleted = true;
		for (struct task *t = ws->all, *next; t; t = next) {
			next = t->anext;
			if (t->state != T_FLIGHT)
				sched_task_free(s, t, now);
		}
		return;
	}
	webhook_unref(ws->w);
	ws->w = w;
	if (!sched_ws_active(ws))
		sched_hold_all(s, ws, now);
	else
		mark_dirty(s, ws);
}

int sched_drop_all(struct sched *s, int64_t now)
{
	int dropped = 0;
	for (size_t i = 0; i < s->hcap; i++) {
		for (struct task *t = s->hash[i], *next; t; t = next) {
			next = t->hnext;
			if (t->state != T_FLIGHT) {
				sched_task_free(s, t, now);
				dropped++;
			}
		}
	}
	return dropped;
}

/* ---- setup ------------------------------------------------------------------------------ */

int sched_init(struct sched *s, const struct sched_env *env)
{
	memset(s, 0, sizeof(*s));
	s->env = *env;
	s->hcap = 1024;
	s->hash = calloc(s->hcap, sizeof(*s->hash));
	s->lcap = 4096;
	s->lanes = calloc(s->lcap, sizeof(*s->lanes));
	if (!s->hash || !s->lanes) {
		free(s->hash);
		free(s->lanes);
		return GERR_NOMEM;
	}
	s->lane_max = env->window / 4 < SCHED_LANE_MAX ? env->window / 4 : SCHED_LANE_MAX;
	if (s->lane_max < 4)
		s->lane_max = 4;
	s->lane_low = s->lane_max / 4;
	/* recovery: everything open in the store is ours to load; with several
	 * nodes it is claiming instead */
	s->overflow = !env->shared;
	s->reserve = env->max_inflight / 8;
	if (s->reserve < 1 && env->max_inflight > 1)
		s->reserve = 1;
	return 0;
}

void sched_free(struct sched *s)
{
	for (size_t i = 0; i < s->hcap; i++) {
		for (struct task *t = s->hash[i], *next; t; t = next) {
			next = t->hnext;
			payload_unref(t->payload);
			free(t);
		}
	}
	for (size_t i = 0; i < s->lcap; i++)
		for (struct lane *l = s->lanes[i], *next; l; l = next) {
			next = l->hnext;
			free(l);
		}
	for (int64_t i = 0; i < s->nws; i++) {
		if (s->ws[i]) {
			webhook_unref(s->ws[i]->w);
			free(s->ws[i]);
		}
	}
	for (int64_t i = 0; i < s->ncs; i++)
		free(s->cs[i]);
	free(s->cs);
	free(s->evq);
	free(s->hash);
	free(s->heap);
	free(s->lanes);
	free(s->ws);
	memset(s, 0, sizeof(*s));
}

/* ---- invariants (test build) ------------------------------------------------------------- */

#ifndef NDEBUG
/* check_lane: seq order, counts, and the FIFO rule: only the head is ever
 * due (ready or in the heap) or in flight. */
static bool check_lane(const struct lane *l)
{
	int n = 0, flight = 0;
	const struct task *prev = NULL;
	for (const struct task *t = l->head; t; prev = t, t = t->lnext) {
		assert(t->lane == l && t->lprev == prev);
		assert(!prev || prev->seq < t->seq);
		if (t != l->head)
			assert(t->state == T_WAIT && t->heap_idx < 0);
		flight += t->state == T_FLIGHT;
		n++;
	}
	assert(l->tail == prev && l->n == n);
	assert(l->inflight == flight && flight <= 1);
	return true;
}

static bool check_webhook(const struct wstate *ws)
{
	int n = 0, flight = 0;
	for (const struct task *t = ws->all; t; t = t->anext) {
		assert(t->ws == ws && (!t->anext || t->anext->aprev == t));
		assert(t->state != T_READY || t->heap_idx < 0);
		flight += t->state == T_FLIGHT;
		n++;
	}
	assert(n == ws->ntasks && flight == ws->inflight);
	const struct task *prev = NULL;
	for (const struct task *t = ws->rhead; t; prev = t, t = t->qnext)
		assert(t->state == T_READY && t->ws == ws && t->qprev == prev);
	assert(ws->rtail == prev);
	assert(ws->active == (ws->rhead != NULL || ws->inflight > 0));
	return true;
}
#endif

bool sched_check(const struct sched *s)
{
#ifndef NDEBUG
	int n = 0;
	for (size_t i = 0; i < s->hcap; i++)
		for (const struct task *t = s->hash[i]; t; t = t->hnext) {
			assert(hslot(s, t->seq) == i);
			n++;
		}
	assert(n == s->ntasks);
	for (int i = 0; i < s->nheap; i++) {
		assert(s->heap[i]->heap_idx == i && s->heap[i]->state == T_WAIT);
		assert(i == 0 || !heap_less(s->heap[i], s->heap[(i - 1) / 2]));
	}
	int ntasks = 0, inflight = 0, ncomp = 0;
	for (int64_t i = 0; i < s->nws; i++) {
		if (!s->ws[i])
			continue;
		check_webhook(s->ws[i]);
		ntasks += s->ws[i]->ntasks;
		inflight += s->ws[i]->inflight;
	}
	assert(ntasks == s->ntasks && inflight == s->inflight);
	assert(s->inflight <= s->env.max_inflight);
	/* each company's counts are the sums over its webhooks */
	int *cin = calloc((size_t)s->ncs + 1, sizeof(int)),
	    *cact = calloc((size_t)s->ncs + 1, sizeof(int));
	if (!cin || !cact) {
		free(cin);
		free(cact);
		return true; /* nothing to check with */
	}
	for (int64_t i = 0; i < s->nws; i++) {
		const struct wstate *ws = s->ws[i];
		if (!ws)
			continue;
		int64_t c = ws->w->company_seq < 0 ? 0 : ws->w->company_seq;
		assert(c < s->ncs && s->cs[c] == ws->cs);
		cin[c] += ws->inflight;
		cact[c] += ws->active;
	}
	for (int64_t c = 0; c < s->ncs; c++) {
		if (!s->cs[c])
			continue;
		assert(cin[c] == s->cs[c]->inflight && cact[c] == s->cs[c]->nactive);
		ncomp += cact[c] > 0;
	}
	free(cin);
	free(cact);
	assert(ncomp == s->ncomp_active);
	for (size_t i = 0; i < s->lcap; i++)
		for (const struct lane *l = s->lanes[i]; l; l = l->hnext)
			check_lane(l);
#else
	(void)s;
#endif
	return true;
}
