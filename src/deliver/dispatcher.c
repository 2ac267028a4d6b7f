/*
 * dispatcher: sends deliveries, one event loop over libcurl's multi interface.
 *
 * State is all in memory and owned by this thread:
 *   - tasks: the open deliveries in the window (tens of bytes each), found by
 *     seq in a hash table;
 *   - a timer heap of tasks waiting for their time (first try or retry);
 *   - per webhook (struct wstate): a ready queue of due tasks, the number in
 *     flight, a token bucket for rateLimit, the failure streak;
 *   - FIFO lanes: for a fifo webhook, one lane per ordering key value (or one
 *     for the whole webhook). Only a lane's head is ever due or in flight, so
 *     a failing head holds everything behind it, and when it succeeds the next
 *     goes, one at a time (Acesso RH's rule).
 *
 * The window: every open delivery with seq <= mem_hi is in memory; any newer
 * one may be only in the store ("overflow"). New deliveries arrive from the
 * committer in seq order; when the window is full they are skipped (they are
 * durable) and refill later reads them back by keyset (seq > mem_hi) through
 * the partial index of open deliveries. At start the window is empty and in
 * overflow, so recovery after a crash is just refill.
 *
 * A FIFO lane sends one delivery at a time, so on a single node, once the
 * window is over half full, a lane past lane_max (LANE_MAX, or a quarter of a
 * small window) takes no more: newer ones stay in the store (the lane is
 * "spilled") and the lane reads them back in seq order when it runs short. A
 * FIFO receiver that is down, or slow, with a large backlog thus cannot take
 * the window from every other webhook. (With several nodes, lanes are not
 * capped yet: a delivery let go of there loses its owner, and a lane's order
 * needs its owner to keep it.)
 *
 * A window full of deliveries that wait for a distant retry (a receiver that
 * is down) must not starve every other webhook: under pressure, an unordered
 * delivery whose next try is more than EVICT_AFTER_MS away is let go of once
 * its new time is committed, and read back when due — by the due scan over
 * (next_at, seq) on a single node, by claims with several.
 *
 * Requests in flight are shared fairly, since one cannot be taken back once
 * started and a slow receiver may hold its slot for up to 300 s (may_start):
 * of cfg.max_inflight, a reserve (an eighth) is kept for whoever has had
 * less. A company may start a request while the total in flight is below
 * max_inflight - reserve, or while its own in flight is below its share,
 * (max_inflight - reserve) / companies with work. The same rule, one level
 * down, shares a company's part between its webhooks with work. A webhook
 * refused a slot waits in d->starved and is woken, in the order it came
 * (round-robin), when a request ends or the shares change. So another
 * company's hanging receivers may take only their share, and a fast
 * receiver keeps getting slots.
 *
 * Crash guard: wherever data of one delivery or its receiver is handled
 * (start, finish, the libcurl callbacks of its transfer) the dispatcher tells
 * crashguard which delivery it is, so a crash there sets that delivery aside
 * at the next start instead of crashing every start (crashguard.h).
 *
 * Outcomes are collected per loop turn and handed to the committer as one
 * batch. Bodies are built once per event and shared; a task waiting for a
 * retry drops its body and reloads it from the store when its turn comes.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/envelope.h"
#include "core/filter.h"
#include "core/policy.h"
#include "core/sign.h"
#include "core/urlcheck.h"
#include "deliver/crashguard.h"
#include "deliver/engine_internal.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"

#define RESPONSE_EXCERPT 1024
#define REFILL_PAGE      1000
#define EVICT_AFTER_MS   10000 /* a retry further away than this may leave memory */
#define LANE_MAX         256   /* tasks of one FIFO lane in memory (single node) */
#define RETRY_AFTER_MAX  64    /* longer Retry-After values are not valid anyway */

enum task_state { T_WAIT, T_READY, T_FLIGHT };

struct wstate;
struct lane;

/* A company's part of the in-flight requests (fair sharing). */
struct cstate {
	int inflight; /* requests in flight to the company's webhooks */
	int nactive;  /* its webhooks with work: due tasks or requests in flight */
};

struct task {
	int64_t seq;
	int64_t event_seq;
	int64_t next_at;
	int64_t first_attempt_at;
	int attempts;
	int heap_idx; /* -1 when not in the heap */
	int state;
	struct wstate *ws;
	struct lane *lane;          /* FIFO webhooks only */
	struct payload *payload;    /* NULL until needed */
	struct task *qnext, *qprev; /* ready queue */
	struct task *lnext, *lprev; /* lane queue */
	struct task *anext, *aprev; /* all tasks of the webhook */
	struct task *hnext;         /* hash chain */
	struct xfer *xfer;
};

struct lane {
	int64_t webhook_seq;
	int inflight; /* 0 or 1: the FIFO rule */
	int n;        /* tasks in memory */
	struct task *head, *tail;
	struct lane *hnext;
	/* spilled: open deliveries of the lane newer than spill_after wait in the
	 * store only; the lane reads them back (d->short_lanes) */
	bool spilled, queued;
	int64_t spill_after;
	struct lane *snext;
	char key[]; /* the ordering key value, whole: lanes compare it exactly */
};

struct wstate {
	int64_t seq;
	struct webhook *w;
	struct cstate *cs; /* the company's */
	bool deleted;
	bool active; /* counted in cs->nactive */
	int inflight;
	struct task *rhead, *rtail; /* ready queue */
	struct task *all;           /* every task of this webhook */
	int ntasks;
	/* what this loop turn saw, for the store's failure-streak arbiter */
	bool ch_pending, ch_succeeded, ch_gone;
	int64_t ch_failed_at;
	struct wstate *cnext;
	double tokens;
	int64_t tokens_at;
	int64_t rate_wake; /* >0: blocked by rateLimit until then */
	bool in_rated, in_starved;
	struct wstate *rnext, *snext; /* d->rated / d->starved lists */
	bool dirty;
	struct wstate *dnext;
};

struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	struct task *task;
	char resp[RESPONSE_EXCERPT];
	size_t resp_len;
	int64_t started_us;
	bool blocked_addr;
	/* the last answer's Retry-After, as sent (cut values fail to parse) */
	char retry_after[RETRY_AFTER_MAX + 2];
	struct xfer *next; /* free list */
};

struct dispatcher {
	struct engine *e;
	struct task **hash;
	size_t hcap;
	int ntasks;
	struct task **heap;
	int nheap, capheap;
	struct wstate **ws;
	int64_t nws;
	struct lane **lanes;
	size_t lcap;
	struct wstate *dirty, *dirty_tail; /* pumped in this order */
	struct xfer *free_xfers;
	int inflight;
	struct cstate **cs; /* by company seq */
	int64_t ncs;
	int ncomp_active;  /* companies with work */
	int reserve;       /* slots kept for whoever has had less (fair sharing) */
	int64_t slots_gen; /* bumped when a slot frees or the shares change */
	int64_t woken_gen; /* slots_gen when d->starved was last woken */
	int64_t mem_hi;
	bool overflow;
	uint64_t rng;
	struct outcome_item *outs;
	int nouts, capouts;
	struct change_item *changes;
	int nchanges, capchanges;
	struct wstate *changed;                /* webhooks with something to tell the store */
	struct wstate *rated;                  /* webhooks waiting for a rateLimit token */
	struct wstate *starved, *starved_tail; /* webhooks refused a slot, oldest first */
	struct payload *last_payload;          /* cache: fan-out loads one event many times */
	/* several nodes (a shared store): claims, heartbeat, notifications */
	bool shared;
	bool claim_due;
	int64_t next_claim, next_beat, next_reap; /* monotonic ms */
	int listen_fd;
	int64_t *release;
	int nrelease, caprelease;
	/* letting go of deliveries that wait long (see the top of the file) */
	int64_t gen; /* flushes of outcomes so far */
	struct evictable {
		int64_t seq, gen;
	} * evq;
	size_t evq_head, evq_len, evq_cap; /* a ring of candidates, oldest first */
	int64_t evicted;                   /* let go of and not yet read back (single node) */
	int64_t due_at, due_seq;           /* the due scan's cursor */
	int64_t next_due_scan;             /* monotonic ms */
	struct lane *short_lanes;          /* spilled lanes to read back */
	struct lane *loading;              /* the lane being read back: not capped */
	int lane_max, lane_low;            /* a spilled lane reads more back below lane_low */
	long fault_status;                 /* test hook, see dispatcher_init; 0: off */
};

/* ---- small containers --------------------------------------------------------------- */

static size_t hslot(const struct dispatcher *d, int64_t seq)
{
	uint64_t h = (uint64_t)seq * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & (d->hcap - 1);
}

static struct task *hash_get(struct dispatcher *d, int64_t seq)
{
	for (struct task *t = d->hash[hslot(d, seq)]; t; t = t->hnext)
		if (t->seq == seq)
			return t;
	return NULL;
}

static void hash_put(struct dispatcher *d, struct task *t)
{
	if ((size_t)d->ntasks * 2 >= d->hcap) {
		size_t ncap = d->hcap * 2;
		struct task **nh = calloc(ncap, sizeof(*nh));
		if (nh) {
			struct task **old = d->hash;
			size_t oldcap = d->hcap;
			d->hash = nh;
			d->hcap = ncap;
			for (size_t i = 0; i < oldcap; i++) {
				for (struct task *x = old[i], *next; x; x = next) {
					next = x->hnext;
					size_t s = hslot(d, x->seq);
					x->hnext = d->hash[s];
					d->hash[s] = x;
				}
			}
			free(old);
		}
	}
	size_t s = hslot(d, t->seq);
	t->hnext = d->hash[s];
	d->hash[s] = t;
}

static void hash_del(struct dispatcher *d, struct task *t)
{
	struct task **pp = &d->hash[hslot(d, t->seq)];
	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
}

static bool heap_less(const struct task *a, const struct task *b)
{
	return a->next_at < b->next_at || (a->next_at == b->next_at && a->seq < b->seq);
}

static void heap_swap(struct dispatcher *d, int i, int j)
{
	struct task *t = d->heap[i];
	d->heap[i] = d->heap[j];
	d->heap[j] = t;
	d->heap[i]->heap_idx = i;
	d->heap[j]->heap_idx = j;
}

static void heap_up(struct dispatcher *d, int i)
{
	while (i > 0 && heap_less(d->heap[i], d->heap[(i - 1) / 2])) {
		heap_swap(d, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct dispatcher *d, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->nheap && heap_less(d->heap[l], d->heap[m]))
			m = l;
		if (r < d->nheap && heap_less(d->heap[r], d->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(d, i, m);
		i = m;
	}
}

static void heap_push(struct dispatcher *d, struct task *t)
{
	if (!array_reserve((void **)&d->heap, &d->capheap, d->nheap + 1, sizeof(*d->heap), 1024))
		abort();
	t->heap_idx = d->nheap;
	d->heap[d->nheap++] = t;
	heap_up(d, t->heap_idx);
}

static void heap_remove(struct dispatcher *d, struct task *t)
{
	int i = t->heap_idx;
	if (i < 0)
		return;
	d->nheap--;
	if (i != d->nheap) {
		d->heap[i] = d->heap[d->nheap];
		d->heap[i]->heap_idx = i;
		heap_down(d, i);
		heap_up(d, i);
	}
	t->heap_idx = -1;
}

static size_t lslot(const struct dispatcher *d, int64_t wseq, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)wseq;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h & (d->lcap - 1);
}

static struct lane *lane_get(struct dispatcher *d, int64_t wseq, const char *key, bool create)
{
	size_t s = lslot(d, wseq, key);
	for (struct lane *l = d->lanes[s]; l; l = l->hnext)
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
	l->hnext = d->lanes[s];
	d->lanes[s] = l;
	return l;
}

static void lane_free_if_empty(struct dispatcher *d, struct lane *l)
{
	if (l->head || l->spilled || l->queued)
		return;
	struct lane **pp = &d->lanes[lslot(d, l->webhook_seq, l->key)];
	while (*pp && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = l->hnext;
	free(l);
}

/* ---- webhook state -------------------------------------------------------------------- */

static void mark_dirty(struct dispatcher *d, struct wstate *ws)
{
	if (!ws->dirty) {
		ws->dirty = true;
		ws->dnext = NULL;
		if (d->dirty_tail)
			d->dirty_tail->dnext = ws;
		else
			d->dirty = ws;
		d->dirty_tail = ws;
	}
}

/* cs_get: the company's share state, made on first use (kept until exit:
 * a few bytes per company). */
static struct cstate *cs_get(struct dispatcher *d, int64_t seq)
{
	if (seq < 0)
		seq = 0;
	if (seq >= d->ncs) {
		int64_t n = d->ncs ? d->ncs : 64;
		while (n <= seq)
			n *= 2;
		struct cstate **p = realloc(d->cs, (size_t)n * sizeof(*p));
		if (!p)
			abort();
		memset(p + d->ncs, 0, (size_t)(n - d->ncs) * sizeof(*p));
		d->cs = p;
		d->ncs = n;
	}
	if (!d->cs[seq] && !(d->cs[seq] = calloc(1, sizeof(**d->cs))))
		abort();
	return d->cs[seq];
}

/* ws_update: count the webhook, and its company, as having work or not (due
 * tasks or requests in flight); the shares of may_start follow. */
static void ws_update(struct dispatcher *d, struct wstate *ws)
{
	bool active = ws->rhead != NULL || ws->inflight > 0;
	if (active == ws->active)
		return;
	ws->active = active;
	struct cstate *c = ws->cs;
	c->nactive += active ? 1 : -1;
	if (c->nactive == (active ? 1 : 0))
		d->ncomp_active += active ? 1 : -1;
	d->slots_gen++;
}

/* may_start: whether ws may start one more request now (the fair sharing
 * rule at the top of the file). */
static bool may_start(const struct dispatcher *d, const struct wstate *ws)
{
	int max = d->e->cfg.max_inflight;
	if (d->inflight >= max)
		return false;
	int usable = max - d->reserve;
	int ncomp = d->ncomp_active > 0 ? d->ncomp_active : 1;
	int share = usable / ncomp > 0 ? usable / ncomp : 1;
	const struct cstate *c = ws->cs;
	if (d->inflight >= usable && c->inflight >= share)
		return false;
	/* One level down: the company's share between its webhooks. */
	int nwh = c->nactive > 0 ? c->nactive : 1;
	int wshare = share / nwh > 0 ? share / nwh : 1;
	int wreserve = share / 8 > 0 ? share / 8 : 1;
	return c->inflight < share - wreserve || ws->inflight < wshare;
}

static struct wstate *ws_get(struct dispatcher *d, int64_t seq)
{
	if (seq <= 0)
		return NULL;
	if (seq < d->nws && d->ws[seq])
		return d->ws[seq];
	struct webhook *w = registry_webhook_get(d->e->reg, seq);
	if (!w)
		return NULL;
	if (seq >= d->nws) {
		int64_t n = d->nws ? d->nws : 64;
		while (n <= seq)
			n *= 2;
		struct wstate **p = realloc(d->ws, (size_t)n * sizeof(*p));
		if (!p)
			abort();
		memset(p + d->nws, 0, (size_t)(n - d->nws) * sizeof(*p));
		d->ws = p;
		d->nws = n;
	}
	struct wstate *ws = calloc(1, sizeof(*ws));
	if (!ws)
		abort();
	ws->seq = seq;
	ws->w = w;
	ws->cs = cs_get(d, w->company_seq);
	ws->tokens = w->rate_per_sec > 0 ? 1 : 0;
	ws->tokens_at = clock_mono_ms();
	d->ws[seq] = ws;
	return ws;
}

static bool ws_active(const struct wstate *ws)
{
	return !ws->deleted && __atomic_load_n(&ws->w->status, __ATOMIC_ACQUIRE) == WH_ACTIVE;
}

/* ---- outcomes ---------------------------------------------------------------------------- */

static struct outcome_item *out_new(struct dispatcher *d, const struct task *t, int status)
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

/* note: remember what an attempt says about its webhook; told to the store once
 * per loop turn (flush_outcomes). */
static void note(struct dispatcher *d, struct wstate *ws, bool ok, bool gone, int64_t now)
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
	committer_push(d->e, d->outs, d->nouts, d->changes, d->nchanges, ++d->gen);
	d->nouts = 0;
	d->nchanges = 0;
}

/* ---- task lifecycle ---------------------------------------------------------------------- */

static void ready_remove(struct dispatcher *d, struct wstate *ws, struct task *t)
{
	if (t->qprev)
		t->qprev->qnext = t->qnext;
	else
		ws->rhead = t->qnext;
	if (t->qnext)
		t->qnext->qprev = t->qprev;
	else
		ws->rtail = t->qprev;
	t->qnext = t->qprev = NULL;
	ws_update(d, ws);
}

static void make_due_or_wait(struct dispatcher *d, struct task *t, int64_t now)
{
	if (t->next_at <= now) {
		t->state = T_READY;
		t->qnext = NULL;
		t->qprev = t->ws->rtail;
		if (t->ws->rtail)
			t->ws->rtail->qnext = t;
		else
			t->ws->rhead = t;
		t->ws->rtail = t;
		ws_update(d, t->ws);
		mark_dirty(d, t->ws);
	} else {
		t->state = T_WAIT;
		heap_push(d, t);
	}
}

/* lane_kick: when nothing of the lane is in flight, its head gets its turn
 * (now, or at its retry time). */
static void lane_kick(struct dispatcher *d, struct lane *l, int64_t now)
{
	struct task *h = l->head;
	if (h && l->inflight == 0 && h->state == T_WAIT && h->heap_idx < 0)
		make_due_or_wait(d, h, now);
}

/* task_free: forget a task (it is finished, held, or its webhook is gone). */
static void task_free(struct dispatcher *d, struct task *t, int64_t now)
{
	struct wstate *ws = t->ws;
	heap_remove(d, t);
	if (t->state == T_READY)
		ready_remove(d, ws, t);
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
		if (l->spilled && l->n < d->lane_low && !l->queued) {
			l->queued = true;
			l->snext = d->short_lanes;
			d->short_lanes = l;
		}
		lane_kick(d, l, now);
		lane_free_if_empty(d, l);
	}
	hash_del(d, t);
	d->ntasks--;
	payload_unref(t->payload);
	free(t);
}

/* task_hold: the webhook is paused or deactivated; the delivery waits in the store. */
static void task_hold(struct dispatcher *d, struct task *t, int64_t now)
{
	out_new(d, t, DLV_HELD);
	/* An attempt of it was logged with next=pending: say what it is now, in
	 * the API's words. */
	if (t->attempts > 0)
		log_info("delivery_held",
		         "webhook=%s delivery=%lld attempts=%d reason=\"webhook %s\"", t->ws->w->id,
		         (long long)t->seq, t->attempts, t->ws->deleted ? "deleted" : "inactive");
	task_free(d, t, now);
}

/* task_add: a new open delivery into memory; false when it is already there
 * or its webhook is gone. Takes over the payload reference. */
static bool task_add(struct dispatcher *d, const struct store_task *st, struct payload *p,
                     int64_t now)
{
	struct wstate *ws;
	if (hash_get(d, st->seq) || !(ws = ws_get(d, st->webhook_seq)) || ws->deleted) {
		payload_unref(p);
		return false;
	}
	struct lane *l = NULL; /* the task's FIFO lane, looked up once */
	if (ws->w->fifo && ws_active(ws))
		l = lane_get(d, ws->seq, ws->w->ordering_key ? st->okey : "", true);
	if (l && !d->shared) {
		if (l != d->loading &&
		    (l->spilled ? st->seq > l->spill_after
		                : l->n >= d->lane_max && d->ntasks > d->e->cfg.window / 2 &&
		                      l->tail && st->seq > l->tail->seq)) {
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
	hash_put(d, t);
	d->ntasks++;
	if (!ws_active(ws)) {
		task_hold(d, t, now);
		return true;
	}
	if (l) {
		t->lane = l;
		l->n++;
		/* Keep the lane in seq order; new work nearly always goes last. */
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
			/* an older delivery (a manual retry): it becomes the head, and
			 * the old head, unless in flight, steps back and waits */
			struct task *old = l->head;
			t->lnext = old;
			if (old)
				old->lprev = t;
			else
				l->tail = t;
			l->head = t;
			if (old && old->state != T_FLIGHT) {
				heap_remove(d, old);
				if (old->state == T_READY)
					ready_remove(d, ws, old);
				old->state = T_WAIT;
			}
		}
		t->state = T_WAIT;
		lane_kick(d, l, now);
	} else {
		make_due_or_wait(d, t, now);
	}
	return true;
}

/* ---- sending ------------------------------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	int64_t guard = crashguard_enter(x->task->seq);
	size_t n = size * nmemb;
	size_t room = sizeof(x->resp) - x->resp_len;
	size_t k = n < room ? n : room;
	memcpy(x->resp + x->resp_len, ptr, k);
	x->resp_len += k;
	crashguard_leave(guard);
	return n;
}

/* on_header: keep the Retry-After of the final answer. libcurl's
 * CURLINFO_RETRY_AFTER is not used: it hands back whatever number the
 * receiver sent, and its date arithmetic is its own; gancho parses the
 * header itself, with bounds (policy_retry_after_ms). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	int64_t guard = crashguard_enter(x->task->seq);
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		x->retry_after[0] = '\0'; /* a new answer (after a 1xx) */
	} else if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *v = ptr + sizeof(name) - 1;
		size_t k = n - (sizeof(name) - 1);
		while (k && (v[k - 1] == '\r' || v[k - 1] == '\n'))
			k--;
		if (k > RETRY_AFTER_MAX + 1)
			k = RETRY_AFTER_MAX + 1; /* too long: left unparseable on purpose */
		memcpy(x->retry_after, v, k);
		x->retry_after[k] = '\0';
	}
	crashguard_leave(guard);
	return n;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = clientp;
	(void)purpose;
	/* The SSRF rule holds for what DNS answers too, not just for literal hosts. */
	if (!urlcheck_addr_allowed(&addr->addr)) {
		x->blocked_addr = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static struct payload *load_payload(struct dispatcher *d, int64_t event_seq)
{
	if (d->last_payload && d->last_payload->event_seq == event_seq) {
		__atomic_add_fetch(&d->last_payload->refs, 1, __ATOMIC_RELAXED);
		return d->last_payload;
	}
	struct store_event ev;
	if (store_event_load(d->e->rstore, event_seq, &ev))
		return NULL;
	char company[256] = "", date[DATE_STR_LEN];
	registry_company_name(d->e->reg, ev.company_seq, company, sizeof(company));
	envelope_format_date(ev.date_ms, date);
	struct buf b;
	buf_init(&b);
	envelope_build(&b, company, ev.id, ev.event, date, ev.data, ev.datalen);
	struct payload *p = NULL;
	if (!b.oom) {
		size_t len;
		char *body = buf_steal(&b, &len);
		p = payload_new(event_seq, ev.id, body, len);
		if (!p)
			free(body);
	}
	buf_free(&b);
	store_event_free(&ev);
	if (p) {
		payload_unref(d->last_payload);
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
		d->last_payload = p;
	}
	return p;
}

static struct curl_slist *build_headers(const struct webhook *w, const struct payload *p,
                                        int64_t now_ms)
{
	struct curl_slist *h = NULL;
	char line[512];
	if (w->client_headers) {
		bool has_ct = false;
		for (int i = 0; i < w->nheaders; i++) {
			h = curl_slist_append(h, w->headers[i]);
			has_ct |= strncasecmp(w->headers[i], "content-type:", 13) == 0;
		}
		/* Gupy: clientHeaders replace the default; libcurl must not add its own. */
		if (!has_ct)
			h = curl_slist_append(h, "Content-Type:");
	} else {
		h = curl_slist_append(h, "Content-Type: application/json;charset=utf-8");
	}
	h = curl_slist_append(h, "User-Agent: gancho/" GANCHO_VERSION);
	h = curl_slist_append(h, "Accept:");
	h = curl_slist_append(h, "Expect:");
	switch (w->auth_kind) {
	case AUTH_BASIC:
	case AUTH_APIKEY: h = curl_slist_append(h, w->auth_header); break;
	case AUTH_SECRET: {
		char sig[SIGN_B64_LEN];
		if (sign_acesso(w->secret, p->body, p->len, sig) == 0) {
			snprintf(line, sizeof(line), "Acesso-Signature: %s", sig);
			h = curl_slist_append(h, line);
		}
		break;
	}
	case AUTH_STANDARD: {
		int64_t ts = now_ms / 1000;
		snprintf(line, sizeof(line), "webhook-id: %s", p->event_id);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)ts);
		h = curl_slist_append(h, line);
		int n = snprintf(line, sizeof(line), "webhook-signature:");
		for (int i = 0; i < w->nkeys; i++) {
			char sig[SIGN_STANDARD_LEN];
			if (!webhook_key_signs(w, i, now_ms) ||
			    sign_standard(w->keys[i], w->keylens[i], p->event_id, ts, p->body,
			                  p->len, sig))
				continue;
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", sig);
		}
		h = curl_slist_append(h, line);
		break;
	}
	}
	return h;
}

static void finish(struct dispatcher *d, struct xfer *x, CURLcode res, int64_t now);

static void start(struct dispatcher *d, struct task *t, int64_t now)
{
	struct wstate *ws = t->ws;
	struct webhook *w = ws->w;
	int64_t guard = crashguard_enter(t->seq);
	ready_remove(d, ws, t);
	if (!t->payload)
		t->payload = load_payload(d, t->event_seq);
	if (!t->payload) {
		log_error("event_missing", "webhook=%s delivery=%lld event_seq=%lld", w->id,
		          (long long)t->seq, (long long)t->event_seq);
		struct outcome_item *o = out_new(d, t, DLV_FAILED);
		snprintf(o->error, sizeof(o->error), "event body could not be loaded");
		task_free(d, t, now);
		crashguard_leave(guard);
		return;
	}
	struct xfer *x = d->free_xfers;
	if (x) {
		d->free_xfers = x->next;
		curl_easy_reset(x->easy);
	} else {
		x = calloc(1, sizeof(*x));
		if (!x || !(x->easy = curl_easy_init()))
			abort();
	}
	x->task = t;
	x->resp_len = 0;
	x->blocked_addr = false;
	x->retry_after[0] = '\0';
	x->next = NULL;
	x->hdrs = build_headers(w, t->payload, now);
	CURL *c = x->easy;
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, t->payload->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->payload->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(w->timeout_ms < 10000 ? w->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	/* Never a proxy from the environment (http_proxy, HTTPS_PROXY, ALL_PROXY):
	 * the SSRF check at connect time must see the receiver, not a proxy. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	if (!d->e->cfg.allow_private) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
	}
	if (!t->first_attempt_at)
		t->first_attempt_at = now;
	t->attempts++;
	t->state = T_FLIGHT;
	t->xfer = x;
	if (t->lane)
		t->lane->inflight++;
	x->started_us = clock_mono_us();
	ws->inflight++;
	ws->cs->inflight++;
	d->inflight++;
	ws_update(d, ws);
	CURLMcode mc = curl_multi_add_handle(d->e->multi, c);
	if (mc != CURLM_OK)
		finish(d, x, CURLE_FAILED_INIT, now);
	crashguard_leave(guard);
}

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

static void pump(struct dispatcher *d, struct wstate *ws, int64_t now)
{
	int limit = ws->w->concurrency;
	int64_t mono = clock_mono_ms();
	bool started = false;
	while (ws->rhead && !atomic_load(&d->e->dstop)) {
		if (started && d->dirty) {
			/* others wait to be pumped: one request each in turn, so the
			 * first pumped cannot take every free slot */
			mark_dirty(d, ws);
			break;
		}
		if (ws->deleted) {
			task_free(d, ws->rhead, now);
			continue;
		}
		if (!ws_active(ws)) {
			task_hold(d, ws->rhead, now);
			continue;
		}
		if (ws->inflight >= limit)
			break; /* its own request ending pumps it again */
		if (!may_start(d, ws)) {
			/* no slot for it now: wait in line for one */
			if (!ws->in_starved) {
				ws->in_starved = true;
				ws->snext = NULL;
				if (d->starved_tail)
					d->starved_tail->snext = ws;
				else
					d->starved = ws;
				d->starved_tail = ws;
			}
			break;
		}
		if (!rate_ok(ws, mono)) {
			if (!ws->in_rated) {
				ws->in_rated = true;
				ws->rnext = d->rated;
				d->rated = ws;
			}
			break;
		}
		start(d, ws->rhead, now);
		started = true;
	}
}

/* wake_waiting: rate-limited webhooks whose token is due, and (when a slot
 * is free) webhooks that found none, get pumped again. Returns how long until
 * the next token (ms), at most max_wait. */
static long wake_waiting(struct dispatcher *d, long max_wait)
{
	/* Only when something changed (a slot freed, the shares moved): a
	 * webhook refused before would be refused again. In line order. */
	if (d->starved && d->woken_gen != d->slots_gen && d->inflight < d->e->cfg.max_inflight) {
		d->woken_gen = d->slots_gen;
		struct wstate *ws = d->starved;
		d->starved = d->starved_tail = NULL;
		while (ws) {
			struct wstate *next = ws->snext;
			ws->in_starved = false;
			mark_dirty(d, ws);
			ws = next;
		}
	}
	long wait = max_wait;
	int64_t mono = clock_mono_ms();
	for (struct wstate **pp = &d->rated; *pp;) {
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
			mark_dirty(d, ws);
			wait = 0;
			continue;
		}
		if (dt < wait)
			wait = (long)dt;
		pp = &ws->rnext;
	}
	return wait;
}

/* hold_all: the webhook is paused or deactivated; everything not in flight is
 * held in the store until it is active again. */
static void hold_all(struct dispatcher *d, struct wstate *ws, int64_t now)
{
	for (struct task *t = ws->all, *next; t; t = next) {
		next = t->anext;
		if (t->state != T_FLIGHT)
			task_hold(d, t, now);
	}
}

static void release_later(struct dispatcher *d, int64_t seq);

/* evictable_push: this delivery waits long; it may leave memory once the
 * outcome that set its next time (the next flush) is committed. */
static void evictable_push(struct dispatcher *d, int64_t seq)
{
	if (d->evq_len == d->evq_cap) {
		size_t cap = d->evq_cap ? d->evq_cap * 2 : 1024;
		struct evictable *p = malloc(cap * sizeof(*p));
		if (!p)
			return; /* it simply stays in memory */
		for (size_t i = 0; i < d->evq_len; i++)
			p[i] = d->evq[(d->evq_head + i) % d->evq_cap];
		free(d->evq);
		d->evq = p;
		d->evq_cap = cap;
		d->evq_head = 0;
	}
	d->evq[(d->evq_head + d->evq_len++) % d->evq_cap] = (struct evictable){seq, d->gen + 1};
}

/* evict: while the window is under pressure, let go of deliveries that wait
 * long and whose next time is durable. */
static void evict(struct dispatcher *d, int64_t now)
{
	int64_t committed = atomic_load(&d->e->committed_gen);
	/* Pressure starts where refill and claims stop: above half the window. */
	while (d->evq_len && d->ntasks > d->e->cfg.window / 2) {
		struct evictable ev = d->evq[d->evq_head];
		if (ev.gen > committed)
			return;
		d->evq_head = (d->evq_head + 1) % d->evq_cap;
		d->evq_len--;
		struct task *t = hash_get(d, ev.seq);
		if (!t || t->state != T_WAIT || t->lane || t->next_at - now <= EVICT_AFTER_MS / 2)
			continue;
		if (d->shared)
			release_later(d, t->seq);
		else
			d->evicted++;
		task_free(d, t, now);
	}
	if (d->ntasks < d->e->cfg.window / 4)
		d->evq_len = 0; /* no pressure: forget the candidates */
}

/* due_scan: bring back the deliveries let go of, as they come due. */
static void due_scan(struct dispatcher *d, int64_t now)
{
	int64_t mono = clock_mono_ms();
	if (!d->evicted || mono < d->next_due_scan)
		return;
	d->next_due_scan = mono + 200;
	/* Retries coming due share the window with new work waiting in the store:
	 * they fill half of it at most while there is such work (overflow). */
	int limit = d->overflow ? d->e->cfg.window / 2 : d->e->cfg.window;
	while (d->ntasks < limit) {
		struct store_task page[REFILL_PAGE];
		int n = 0;
		if (store_open_due(d->e->rstore, d->due_at, d->due_seq, now + 1000, REFILL_PAGE,
		                   page, &n))
			return;
		for (int i = 0; i < n; i++) {
			d->due_at = page[i].next_at;
			d->due_seq = page[i].seq;
			/* newer than the window's edge: the seq refill brings those */
			if (page[i].seq <= d->mem_hi && task_add(d, &page[i], NULL, now) &&
			    d->evicted > 0)
				d->evicted--;
		}
		if (n < REFILL_PAGE)
			return;
	}
}

static void finish(struct dispatcher *d, struct xfer *x, CURLcode res, int64_t now)
{
	struct task *t = x->task;
	struct wstate *ws = t->ws;
	CURL *c = x->easy;
	long code = 0;
	int64_t retry_after_ms = -1;
	int64_t guard = crashguard_enter(t->seq);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 0 ||
	    code > 999)
		code = 0; /* libcurl reads three digits; anything else is no answer */
	if (d->fault_status && code == d->fault_status)
		abort(); /* test hook (GANCHO_FAULT_CRASH_STATUS): a crash on this outcome */
	if (code == 429 || code == 503)
		retry_after_ms = policy_retry_after_ms(x->retry_after, now);
	curl_multi_remove_handle(d->e->multi, c);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	int64_t elapsed_us = clock_mono_us() - x->started_us;
	int latency = elapsed_us <= 0               ? 0
	              : elapsed_us / 1000 > INT_MAX ? INT_MAX
	                                            : (int)(elapsed_us / 1000);
	ws->inflight--;
	ws->cs->inflight--;
	d->inflight--;
	d->slots_gen++;
	ws_update(d, ws);
	t->xfer = NULL;
	if (t->lane)
		t->lane->inflight--;
	mark_dirty(d, ws);

	bool ok = res == CURLE_OK && code >= 200 && code < 300;
	char error[256] = "";
	if (res == CURLE_OPERATION_TIMEDOUT)
		snprintf(error, sizeof(error), "timeout after %d ms", ws->w->timeout_ms);
	else if (x->blocked_addr)
		snprintf(error, sizeof(error), "target address not allowed (private or loopback)");
	else if (res != CURLE_OK)
		snprintf(error, sizeof(error), "%s", curl_easy_strerror(res));
	else if (!ok)
		snprintf(error, sizeof(error), "HTTP %ld", code);

	int status;
	bool gone = code == 410;
	if (ws->deleted) {
		status = -1;
	} else if (ok) {
		status = DLV_DELIVERED;
		note(d, ws, true, false, now);
	} else {
		note(d, ws, false, gone, now);
		if (gone) {
			/* Standard Webhooks' advice: the receiver is gone; stop at once
			 * (the store records it with the next batch). */
			registry_webhook_set_status(d->e->reg, ws->seq, WH_INACTIVE);
			log_warn("webhook_gone", "webhook=%s status=410", ws->w->id);
		}
		if (webhook_is_permanent(ws->w, (int)code)) {
			status = DLV_FAILED;
		} else {
			int64_t next =
			    policy_next_attempt(&ws->w->policy, t->attempts, t->first_attempt_at,
			                        now, retry_after_ms, &d->rng);
			if (next < 0) {
				status = DLV_FAILED;
				if (t->attempts >= POLICY_MAX_ATTEMPTS)
					snprintf(
					    error + strlen(error), sizeof(error) - strlen(error),
					    "; gave up after %d attempts (the most per delivery)",
					    t->attempts);
			} else if (next < now) {
				/* Cannot happen with a valid policy; if it ever does, it is
				 * this delivery's error, not the process's. */
				status = DLV_FAILED;
				snprintf(error + strlen(error), sizeof(error) - strlen(error),
				         "; no valid time for the next attempt");
			} else {
				status = DLV_PENDING;
				t->next_at = next;
			}
		}
		if (status == DLV_PENDING && !ws_active(ws))
			status = DLV_HELD;
	}
	if (status >= 0) {
		struct outcome_item *o = out_new(d, t, status);
		o->o.at = now;
		o->o.http_status = (int)code;
		o->o.latency_ms = latency;
		snprintf(o->error, sizeof(o->error), "%s", error);
		if (x->resp_len) {
			o->response = malloc(x->resp_len);
			if (o->response) {
				memcpy(o->response, x->resp, x->resp_len);
				o->o.response_len = x->resp_len;
			}
		}
		if (ok)
			log_info("delivered",
			         "webhook=%s delivery=%lld status=%ld ms=%d attempt=%d", ws->w->id,
			         (long long)t->seq, code, latency, t->attempts);
		else
			log_info("attempt_failed",
			         "webhook=%s delivery=%lld status=%ld ms=%d attempt=%d "
			         "error=\"%s\" next=%s",
			         ws->w->id, (long long)t->seq, code, latency, t->attempts, error,
			         delivery_status_name(status));
	}
	x->next = d->free_xfers;
	d->free_xfers = x;

	if (status == DLV_PENDING) {
		/* Waiting for a retry: the body goes back to the store's care. */
		payload_unref(t->payload);
		t->payload = NULL;
		if (t->lane) {
			t->state = T_WAIT;
			lane_kick(d, t->lane, now);
		} else {
			make_due_or_wait(d, t, now);
			if (t->next_at - now > EVICT_AFTER_MS)
				evictable_push(d, t->seq);
		}
	} else {
		task_free(d, t, now);
	}
	if (gone)
		hold_all(d, ws, now);
	crashguard_leave(guard);
}

/* ---- inbox and refill --------------------------------------------------------------------- */

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

static void webhook_changed(struct dispatcher *d, int64_t seq, int64_t now)
{
	if (seq <= 0 || seq >= d->nws || !d->ws[seq])
		return;
	struct wstate *ws = d->ws[seq];
	struct webhook *w = registry_webhook_get(d->e->reg, seq);
	if (!w) {
		/* Deleted: the API already failed its open deliveries in the store. */
		ws->deleted = true;
		for (struct task *t = ws->all, *next; t; t = next) {
			next = t->anext;
			if (t->state != T_FLIGHT)
				task_free(d, t, now);
		}
		return;
	}
	webhook_unref(ws->w);
	ws->w = w;
	if (!ws_active(ws))
		hold_all(d, ws, now);
	else
		mark_dirty(d, ws);
}

static void reload_webhook(struct dispatcher *d, int64_t seq, int64_t now)
{
	struct store_task page[256];
	int64_t after = 0;
	for (;;) {
		int n = 0;
		if (store_open_for_webhook(d->e->rstore, seq, after, 256, page, &n))
			return;
		for (int i = 0; i < n; i++)
			task_add(d, &page[i], NULL, now);
		if (n < 256)
			return;
		after = page[n - 1].seq;
	}
}

static void release_later(struct dispatcher *d, int64_t seq)
{
	if (!array_reserve((void **)&d->release, &d->caprelease, d->nrelease + 1,
	                   sizeof(*d->release), 256))
		return; /* it stays ours; reaping frees it if we die */
	d->release[d->nrelease++] = seq;
}

/* resync: a message from the API (post_simple) or the committer's hand-over
 * of new deliveries could not be allocated: take every webhook's config again and read every open
 * delivery back from the store, as recovery at start does. Deliveries already in memory are skipped
 * by task_add. */
static void resync(struct dispatcher *d, int64_t now)
{
	for (int64_t seq = 1; seq < d->nws; seq++)
		if (d->ws[seq] && !d->ws[seq]->deleted)
			webhook_changed(d, seq, now);
	if (d->shared) {
		d->claim_due = true;
	} else {
		d->overflow = true;
		d->mem_hi = 0;
	}
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
			for (int i = 0; i < m->ntasks; i++) {
				struct new_task *nt = &m->tasks[i];
				if (d->overflow || d->ntasks >= e->cfg.window) {
					/* Durable in the store; refill (or, with several nodes,
					 * any node's claim) will bring it in its turn. */
					d->overflow = !d->shared;
					if (d->shared)
						release_later(d, nt->t.seq);
					payload_unref(nt->payload);
					continue;
				}
				task_add(d, &nt->t, nt->payload, now);
				if (nt->t.seq > d->mem_hi)
					d->mem_hi = nt->t.seq;
			}
			free(m->tasks);
			break;
		case DMSG_WEBHOOK_CHANGED: webhook_changed(d, m->webhook_seq, now); break;
		case DMSG_WEBHOOK_RELOAD:
			/* with several nodes, released deliveries are anyone's to claim */
			if (d->shared)
				d->claim_due = true;
			else
				reload_webhook(d, m->webhook_seq, now);
			break;
		case DMSG_TASK_ADD:
			if (d->shared)
				d->claim_due = true;
			else
				task_add(d, &m->one, NULL, now);
			break;
		}
		free(m);
		m = next;
	}
}

/* lane_read_back: the next deliveries of a spilled lane, in seq order, from
 * the open deliveries of its webhook. */
static int lane_read_back(struct dispatcher *d, struct lane *l, int64_t now)
{
	struct wstate *ws = l->webhook_seq < d->nws ? d->ws[l->webhook_seq] : NULL;
	if (!ws || ws->deleted || !ws_active(ws)) {
		l->spilled = false; /* held or gone: reactivation reloads the webhook */
		return 0;
	}
	bool keyed = ws->w->ordering_key != NULL;
	int64_t after = l->spill_after;
	while (l->spilled && l->n < d->lane_max) {
		struct store_task page[REFILL_PAGE];
		int want = keyed ? REFILL_PAGE : d->lane_max - l->n, n = 0, i;
		if (store_open_for_webhook(d->e->rstore, l->webhook_seq, after, want, page, &n))
			return -1;
		for (i = 0; i < n && l->n < d->lane_max; i++) {
			after = page[i].seq;
			if (keyed && strcmp(page[i].okey, l->key) != 0)
				continue; /* another lane of the webhook */
			d->loading = l;
			task_add(d, &page[i], NULL, now);
			d->loading = NULL;
			l->spill_after = page[i].seq;
		}
		if (i < n)
			break; /* full again before the end of the page: still spilled */
		if (n < want)
			l->spilled = false; /* every open delivery of the lane is in memory */
	}
	return 0;
}

static void read_back_lanes(struct dispatcher *d, int64_t now)
{
	while (d->short_lanes) {
		struct lane *l = d->short_lanes;
		if (lane_read_back(d, l, now))
			return; /* the store is unavailable: try again next turn */
		d->short_lanes = l->snext;
		l->queued = false;
		lane_free_if_empty(d, l);
	}
}

static void refill(struct dispatcher *d, int64_t now)
{
	int window = d->e->cfg.window;
	while (d->overflow && d->ntasks < window / 2 + 1) {
		struct store_task page[REFILL_PAGE];
		int want = window - d->ntasks;
		if (want > REFILL_PAGE)
			want = REFILL_PAGE;
		int n = 0;
		if (store_open_after(d->e->rstore, d->mem_hi, want, page, &n))
			return;
		for (int i = 0; i < n; i++) {
			task_add(d, &page[i], NULL, now);
			d->mem_hi = page[i].seq;
		}
		if (n < want)
			d->overflow = false;
	}
}

/* ---- several nodes --------------------------------------------------------------------- */

/* drop_window: this node was declared dead while it was away: everything it
 * held is someone else's now. Forget it all (in-flight answers are written
 * only where we still own the delivery) and start again. */
static void drop_window(struct dispatcher *d, int64_t now)
{
	int dropped = 0;
	for (size_t i = 0; i < d->hcap; i++) {
		for (struct task *t = d->hash[i], *next; t; t = next) {
			next = t->hnext;
			if (t->state != T_FLIGHT) {
				task_free(d, t, now);
				dropped++;
			}
		}
	}
	log_warn("node_reaped", "node=%s dropped=%d note=\"joining again\"", d->e->node, dropped);
}

static void on_notify(void *ctx, const char *payload)
{
	struct dispatcher *d = ctx;
	int64_t now = clock_now_ms();
	if (strcmp(payload, "work") == 0) {
		d->claim_due = true;
	} else if (strncmp(payload, "webhook ", 8) == 0) {
		int64_t seq = strtoll(payload + 8, NULL, 10);
		if (registry_reload_webhook(d->e->reg, d->e->rstore, seq) == 0)
			webhook_changed(d, seq, now);
	} else if (strncmp(payload, "company ", 8) == 0) {
		registry_reload_company(d->e->reg, d->e->rstore, strtoll(payload + 8, NULL, 10));
	} else if (strncmp(payload, "source ", 7) == 0) {
		registry_reload_source(d->e->reg, d->e->rstore, strtoll(payload + 7, NULL, 10));
	} else if (strncmp(payload, "token ", 6) == 0) {
		registry_token_remove(d->e->reg, payload + 6); /* revoked on another node */
	} else if (strncmp(payload, "own ", 4) == 0) {
		const char *p = payload + 4;
		size_t nl = strlen(d->e->node);
		if (strncmp(p, d->e->node, nl) != 0 || p[nl] != ' ')
			return;
		p += nl;
		int64_t seqs[256];
		int n = 0;
		for (char *end; n < 256; p = end) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (v > 0)
				seqs[n++] = v;
		}
		struct store_task tasks[256];
		int got = 0;
		if (n && store_load_owned(d->e->rstore, d->e->node, seqs, n, tasks, &got) == 0)
			for (int i = 0; i < got; i++)
				task_add(d, &tasks[i], NULL, now);
	}
}

/* cluster_upkeep: heartbeat, reaping of dead nodes, releases, claims. */
static void cluster_upkeep(struct dispatcher *d, int64_t now)
{
	struct engine *e = d->e;
	int64_t mono = clock_mono_ms();
	if (mono >= d->next_beat) {
		d->next_beat = mono + 1000;
		int rc = store_node_beat(e->rstore, e->node, now);
		if (rc == GERR_NOTFOUND) {
			drop_window(d, now);
			store_node_join(e->rstore, e->node, now);
			d->claim_due = true;
		}
	}
	if (mono >= d->next_reap) {
		int n = 0;
		d->next_reap = mono + 5000;
		if (store_node_reap(e->rstore, now - e->cfg.node_timeout_ms, &n) == 0 && n > 0) {
			log_warn("nodes_reaped", "count=%d", n);
			d->claim_due = true;
		}
	}
	if (d->nrelease) {
		if (store_release(e->rstore, e->node, d->release, d->nrelease) == 0)
			d->nrelease = 0;
	}
	int window = e->cfg.window;
	if ((d->claim_due || mono >= d->next_claim) && d->ntasks < window / 2 + 1) {
		struct store_task page[REFILL_PAGE];
		int want = window - d->ntasks;
		if (want > REFILL_PAGE)
			want = REFILL_PAGE;
		int n = 0;
		d->next_claim = mono + 1000;
		if (store_claim(e->rstore, e->node, now + 1000, want, page, &n) == 0) {
			for (int i = 0; i < n; i++)
				task_add(d, &page[i], NULL, now);
			d->claim_due = n >= want;
		}
	}
}

/* ---- the loop ------------------------------------------------------------------------------- */

int dispatcher_init(struct engine *e, struct gerr *err)
{
	struct dispatcher *d = calloc(1, sizeof(*d));
	if (!d)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	d->e = e;
	d->hcap = 1024;
	d->hash = calloc(d->hcap, sizeof(*d->hash));
	d->lcap = 4096;
	d->lane_max = e->cfg.window / 4 < LANE_MAX ? e->cfg.window / 4 : LANE_MAX;
	if (d->lane_max < 4)
		d->lane_max = 4;
	d->lane_low = d->lane_max / 4;
	d->lanes = calloc(d->lcap, sizeof(*d->lanes));
	d->overflow = true; /* recovery: everything open in the store is ours to load */
	d->rng = (uint64_t)clock_mono_us() | 1;
	e->multi = curl_multi_init();
	if (!d->hash || !d->lanes || !e->multi) {
		free(d->hash);
		free(d->lanes);
		free(d);
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	}
	d->shared = e->shared;
	d->listen_fd = -1;
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
	if (d->shared) {
		/* Recovery with several nodes is claiming: what we owned before a
		 * crash comes back to us or to others once our old id is reaped. */
		d->overflow = false;
		d->claim_due = true;
		if (store_node_join(e->rstore, e->node, clock_now_ms()))
			log_warn("node_join_failed", "node=%s", e->node);
		d->listen_fd = store_listen_fd(e->rstore);
	}
	d->reserve = e->cfg.max_inflight / 8;
	if (d->reserve < 1 && e->cfg.max_inflight > 1)
		d->reserve = 1;
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->cfg.max_inflight);
	e->d = d;
	return 0;
}

static void run_dirty(struct dispatcher *d, int64_t now)
{
	while (d->dirty) {
		struct wstate *ws = d->dirty;
		d->dirty = ws->dnext;
		if (!d->dirty)
			d->dirty_tail = NULL;
		ws->dirty = false;
		pump(d, ws, now);
	}
}

void *dispatcher_main(void *arg)
{
	struct engine *e = arg;
	struct dispatcher *d = e->d;
	int64_t stop_deadline = 0;
	pthread_setname_np(pthread_self(), "dispatcher");
	for (;;) {
		int64_t now = clock_now_ms();
		process_inbox(d, now);
		if (!atomic_load(&e->dstop)) {
			evict(d, now);
			if (d->shared) {
				cluster_upkeep(d, now);
			} else {
				due_scan(d, now);
				read_back_lanes(d, now);
				refill(d, now);
			}
		}
		while (d->nheap && d->heap[0]->next_at <= now) {
			struct task *t = d->heap[0];
			heap_remove(d, t);
			make_due_or_wait(d, t, now);
		}
		/* rate-limited webhooks whose token is due get another pump */
		run_dirty(d, now);

		int running = 0;
		curl_multi_perform(e->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(e->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			finish(d, x, msg->data.result, clock_now_ms());
		}
		wake_waiting(d, 0);
		run_dirty(d, clock_now_ms());
		flush_outcomes(d);

		if (atomic_load(&e->dstop)) {
			int64_t mono = clock_mono_ms();
			if (!stop_deadline)
				stop_deadline = mono + e->cfg.shutdown_grace_ms;
			if (d->inflight == 0 || mono >= stop_deadline)
				break;
		}

		/* Sleep until the next timer, a socket event, or a wakeup. */
		long wait = 1000;
		if (d->nheap) {
			int64_t dt = d->heap[0]->next_at - clock_now_ms();
			if (dt < wait)
				wait = dt < 0 ? 0 : (long)dt;
		}
		wait = wake_waiting(d, wait);
		long ct = -1;
		curl_multi_timeout(e->multi, &ct);
		if (ct >= 0 && ct < wait)
			wait = ct;
		if (d->dirty || d->claim_due)
			wait = 0;
		struct curl_waitfd extra = {.fd = d->listen_fd, .events = CURL_WAIT_POLLIN};
		curl_multi_poll(e->multi, d->listen_fd >= 0 ? &extra : NULL,
		                d->listen_fd >= 0 ? 1 : 0, (int)wait, NULL);
		if (d->listen_fd >= 0 && extra.revents)
			store_notifications(e->rstore, on_notify, d);
	}
	if (d->inflight)
		log_warn("shutdown_abandoned",
		         "inflight=%d note=\"they stay pending and are sent after restart\"",
		         d->inflight);
	flush_outcomes(d);
	return NULL;
}

void dispatcher_free(struct engine *e)
{
	struct dispatcher *d = e->d;
	if (!d)
		return;
	/* In-flight transfers abandoned at shutdown: their deliveries stay pending. */
	for (size_t i = 0; i < d->hcap; i++) {
		for (struct task *t = d->hash[i], *next; t; t = next) {
			next = t->hnext;
			if (t->xfer) {
				curl_multi_remove_handle(e->multi, t->xfer->easy);
				curl_slist_free_all(t->xfer->hdrs);
				curl_easy_cleanup(t->xfer->easy);
				free(t->xfer);
			}
			payload_unref(t->payload);
			free(t);
		}
	}
	for (size_t i = 0; i < d->lcap; i++)
		for (struct lane *l = d->lanes[i], *next; l; l = next) {
			next = l->hnext;
			free(l);
		}
	for (int64_t i = 0; i < d->nws; i++) {
		if (d->ws[i]) {
			webhook_unref(d->ws[i]->w);
			free(d->ws[i]);
		}
	}
	for (struct xfer *x = d->free_xfers, *next; x; x = next) {
		next = x->next;
		curl_easy_cleanup(x->easy);
		free(x);
	}
	for (struct dmsg *m = e->inbox, *next; m; m = next) {
		next = m->next;
		for (int i = 0; i < m->ntasks; i++)
			payload_unref(m->tasks[i].payload);
		free(m->tasks);
		free(m);
	}
	payload_unref(d->last_payload);
	free(d->release);
	free(d->evq);
	curl_multi_cleanup(e->multi);
	free(d->hash);
	free(d->heap);
	free(d->lanes);
	free(d->ws);
	for (int64_t i = 0; i < d->ncs; i++)
		free(d->cs[i]);
	free(d->cs);
	free(d->outs);
	free(d->changes);
	free(d);
}
