/*
 * scheduler: which open delivery goes next, and when. It owns the window of
 * open deliveries in memory and decides; it never sends, never reads a clock
 * and never talks to the store itself: everything it needs from outside comes
 * through struct sched_env (the monotonic clock, reading open deliveries back,
 * starting a request, telling the store a delivery is held or let go of), so
 * tests/unit/test_scheduler.c drives it with a clock and a "store" of its own.
 *
 *   task      one open delivery in memory (tens of bytes), found by seq;
 *   timers    a heap of tasks waiting for their time, by (next_at, seq);
 *   wstate    per webhook: a ready queue of due tasks, requests in flight, a
 *             token bucket for rateLimit;
 *   lane      per FIFO webhook and ordering key value: tasks in seq order, of
 *             which only the head is ever due or in flight;
 *   cstate    per company: its part of the requests in flight (fair shares).
 *
 * The rules themselves (the window, spilled lanes, eviction, fair shares) are
 * told at the top of scheduler.c and window.c. The dispatcher calls
 * sched_run_timers and sched_run_dirty on each turn; a started request ends
 * with sched_flight_end, then sched_retry (it waits again) or sched_task_free.
 *
 * In the test build (NDEBUG unset) sched_check verifies every invariant the
 * code relies on; the dispatcher asserts it while the window is small.
 */
#ifndef GANCHO_DELIVER_SCHEDULER_H
#define GANCHO_DELIVER_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver/engine.h"
#include "registry/registry.h"
#include "store/store.h"

#define SCHED_EVICT_AFTER_MS 10000 /* a retry further away than this may leave memory */
#define SCHED_LANE_MAX       256   /* tasks of one FIFO lane in memory (single node) */
#define SCHED_PAGE           1000  /* open deliveries read back at once */

enum task_state { T_WAIT, T_READY, T_FLIGHT };

struct wstate;
struct lane;
struct xfer;

/* A company's part of the in-flight requests (fair sharing). */
struct cstate {
	int inflight; /* requests in flight to the company's webhooks */
	int nactive;  /* its webhooks with work: due tasks or requests in flight */
};

struct task {
	int64_t seq;
	int64_t event_seq;
	int64_t request_seq; /* what it sends: its stored request, or 0: the event's envelope */
	int64_t next_at;
	int64_t first_attempt_at;
	int attempts;
	int heap_idx; /* -1 when not in the heap */
	int state;    /* enum task_state */
	struct wstate *ws;
	struct lane *lane;          /* FIFO webhooks only */
	struct payload *payload;    /* the body bytes; NULL until needed (owned reference) */
	struct task *qnext, *qprev; /* ready queue */
	struct task *lnext, *lprev; /* lane queue */
	struct task *anext, *aprev; /* all tasks of the webhook */
	struct task *hnext;         /* hash chain */
	struct xfer *xfer;          /* the sender's, while in flight */
};

struct lane {
	int64_t webhook_seq;
	int inflight; /* 0 or 1: the FIFO rule */
	int n;        /* tasks in memory */
	struct task *head, *tail;
	struct lane *hnext;
	/* spilled: open deliveries of the lane newer than spill_after wait in the
	 * store only; the lane reads them back (s->short_lanes) */
	bool spilled, queued;
	int64_t spill_after;
	struct lane *snext;
	char key[]; /* the ordering key value, whole: lanes compare it exactly */
};

struct wstate {
	int64_t seq;
	struct webhook *w; /* a reference, replaced by sched_webhook_changed */
	struct cstate *cs; /* the company's */
	bool deleted;
	bool active; /* counted in cs->nactive */
	int inflight;
	struct task *rhead, *rtail; /* ready queue */
	struct task *all;           /* every task of this webhook */
	int ntasks;
	/* what this loop turn saw, for the store's failure-streak arbiter (the
	 * dispatcher's; the scheduler never reads them) */
	bool ch_pending, ch_succeeded, ch_gone;
	int64_t ch_failed_at;
	struct wstate *cnext;
	double tokens;
	int64_t tokens_at;
	int64_t rate_wake; /* >0: blocked by rateLimit until then */
	bool in_rated, in_starved;
	struct wstate *rnext, *snext; /* s->rated / s->starved lists */
	bool dirty;
	struct wstate *dnext;
};

/* What the scheduler needs from outside; every function gets ctx. */
struct sched_env {
	void *ctx;
	struct registry *reg; /* webhook configs, by seq */
	int window;           /* open deliveries kept in memory */
	int max_inflight;     /* requests in flight over all webhooks */
	bool shared;          /* several nodes: claims instead of refill, lanes not capped */
	/* the monotonic clock (ms): rate limits and scan pacing */
	int64_t (*mono_ms)(void *ctx);
	/* the dispatcher is stopping: start nothing more */
	bool (*stopping)(void *ctx);
	/* start: send t now. On return t is in flight (sched_flight_begin) or
	 * gone (sched_task_free); it is never left in its ready queue. */
	void (*start)(void *ctx, struct task *t, int64_t now);
	/* held: t leaves memory because its webhook is paused or gone */
	void (*held)(void *ctx, const struct task *t);
	/* release: several nodes: this node lets go of delivery seq */
	void (*release)(void *ctx, int64_t seq);
	/* committed_gen: outcome flushes up to this one are durable */
	int64_t (*committed_gen)(void *ctx);
	/* the store's reads of open deliveries (store.h has their contracts) */
	int (*open_after)(void *ctx, int64_t after_seq, int limit, struct store_task *out, int *n);
	int (*open_for_webhook)(void *ctx, int64_t webhook_seq, int64_t after_seq, int limit,
	                        struct store_task *out, int *n);
	int (*open_due)(void *ctx, int64_t after_next_at, int64_t after_seq, int64_t due_before,
	                int limit, struct store_task *out, int *n);
};

struct sched {
	struct sched_env env;
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
	int inflight;
	struct cstate **cs; /* by company seq */
	int64_t ncs;
	int ncomp_active;                      /* companies with work */
	int reserve;                           /* slots kept for whoever has had less */
	int64_t slots_gen;                     /* bumped when a slot frees or the shares change */
	int64_t woken_gen;                     /* slots_gen when s->starved was last woken */
	struct wstate *rated;                  /* webhooks waiting for a rateLimit token */
	struct wstate *starved, *starved_tail; /* webhooks refused a slot, oldest first */
	/* the window (window.c) */
	int64_t mem_hi;
	bool overflow;
	int64_t gen; /* outcome flushes so far (the dispatcher counts them) */
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
};

/* sched_init: an empty scheduler; the window starts in overflow (recovery
 * reads every open delivery back) unless env->shared. 0 or GERR_NOMEM. */
int sched_init(struct sched *s, const struct sched_env *env);
/* sched_free: forget every task and webhook (tasks in flight too: the caller
 * has let go of their transfers first). */
void sched_free(struct sched *s);

struct task *sched_task_get(struct sched *s, int64_t seq);
/* sched_task_add: a new open delivery into memory; false when it is already
 * there, its webhook is gone, or its spilled lane leaves it in the store.
 * Takes over the payload reference (p may be NULL). */
bool sched_task_add(struct sched *s, const struct store_task *st, struct payload *p, int64_t now);
/* sched_task_free: forget a task (finished, held, or its webhook is gone). */
void sched_task_free(struct sched *s, struct task *t, int64_t now);
/* sched_task_hold: its webhook is paused or gone; env->held, then forgotten. */
void sched_task_hold(struct sched *s, struct task *t, int64_t now);

/* sched_flight_begin: t leaves its ready queue and counts as in flight. */
void sched_flight_begin(struct sched *s, struct task *t, int64_t now);
/* sched_flight_end: t's request ended (whatever it answered). */
void sched_flight_end(struct sched *s, struct task *t);
/* sched_retry: t, no longer in flight, waits for t->next_at (its body is
 * dropped: it is reloaded when its turn comes). */
void sched_retry(struct sched *s, struct task *t, int64_t now);

/* sched_run_timers: tasks whose time has come join their ready queues. */
void sched_run_timers(struct sched *s, int64_t now);
/* sched_next_timer: the earliest next_at waiting, INT64_MAX when none. */
int64_t sched_next_timer(const struct sched *s);
/* sched_run_dirty: webhooks with something new start what they may. */
void sched_run_dirty(struct sched *s, int64_t now);
/* sched_wake_waiting: rate-limited webhooks whose token is due, and (when a
 * slot is free) webhooks that found none, get pumped again. Returns how long
 * until the next token (ms), at most max_wait. */
long sched_wake_waiting(struct sched *s, long max_wait);

/* sched_webhook_changed: the webhook's config changed or it was deleted. */
void sched_webhook_changed(struct sched *s, int64_t webhook_seq, int64_t now);
/* sched_hold_all: everything of the webhook not in flight is held. */
void sched_hold_all(struct sched *s, struct wstate *ws, int64_t now);
bool sched_ws_active(const struct wstate *ws);
/* sched_drop_all: forget every task not in flight; how many. */
int sched_drop_all(struct sched *s, int64_t now);

/* window.c: which open deliveries are in memory. */
/* sched_offer: a new delivery from the committer, in seq order; kept unless
 * the window is full (then it stays in the store for refill or a claim). */
void sched_offer(struct sched *s, const struct store_task *st, struct payload *p, int64_t now);
/* sched_window_reset: read every open delivery back (after a lost message). */
void sched_window_reset(struct sched *s);
/* sched_webhook_reload: the webhook's open deliveries from the store. */
void sched_webhook_reload(struct sched *s, int64_t webhook_seq, int64_t now);
/* sched_window_upkeep: evict under pressure; on a single node, bring back
 * what comes due, read spilled lanes back, refill. */
void sched_window_upkeep(struct sched *s, int64_t now);
/* sched_evictable: t waits for a distant retry; it may leave memory once the
 * next flush is committed. */
void sched_evictable(struct sched *s, int64_t seq);

/* sched_check: every invariant holds (test build; always true under NDEBUG). */
bool sched_check(const struct sched *s);

/* shared with window.c */
void sched_lane_free_if_empty(struct sched *s, struct lane *l);

#endif
