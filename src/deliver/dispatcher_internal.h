/*
 * dispatcher_internal: the dispatcher thread's state, shared by its parts.
 * Not for use outside src/deliver.
 *
 *   dispatcher.c  the loop, the inbox, outcomes handed to the committer
 *   scheduler.c   which delivery goes next (scheduler.h; window.c)
 *   transfer.c    one request: libcurl easy handle, headers and signing,
 *                 what the answer means for the delivery
 *   bodies.c      request bodies: built once per event, cached, reloaded
 *   cluster.c     several nodes: heartbeat, reaping, releases, claims,
 *                 notifications
 *
 * Everything here is owned by the dispatcher thread.
 */
#ifndef GANCHO_DELIVER_DISPATCHER_INTERNAL_H
#define GANCHO_DELIVER_DISPATCHER_INTERNAL_H

#include "deliver/engine_internal.h"
#include "deliver/scheduler.h"

struct dispatcher {
	struct engine *e;
	struct sched s;
	struct xfer *free_xfers;
	uint64_t rng;
	struct outcome_item *outs;
	int nouts, capouts;
	struct change_item *changes;
	int nchanges, capchanges;
	struct wstate *changed;       /* webhooks with something to tell the store */
	struct payload *last_payload; /* cache: fan-out loads one event many times */
	/* several nodes (a shared store): claims, heartbeat, notifications */
	bool shared;
	bool claim_due;
	int64_t next_claim, next_beat, next_reap; /* monotonic ms */
	int listen_fd;
	int64_t *release;
	int nrelease, caprelease;
	long fault_status; /* test hook, see dispatcher_init; 0: off */
};

/* dispatcher.c */
/* out_new: a new outcome for t (attempts and times copied), to be flushed. */
struct outcome_item *dispatcher_out_new(struct dispatcher *d, const struct task *t, int status);
/* dispatcher_note: what an attempt says about its webhook; told to the store
 * once per loop turn. */
void dispatcher_note(struct dispatcher *d, struct wstate *ws, bool ok, bool gone, int64_t now);

/* transfer.c */
/* transfer_start: the sched_env start hook: load t's body and send it. */
void transfer_start(void *ctx, struct task *t, int64_t now);
/* transfer_finish: t's request ended with res: classify, record, reschedule. */
void transfer_finish(struct dispatcher *d, struct xfer *x, CURLcode res, int64_t now);
/* transfer_abandon: at shutdown, drop t's transfer without an outcome. */
void transfer_abandon(struct dispatcher *d, struct task *t);
void transfer_free_all(struct dispatcher *d);

/* bodies.c */
/* body_load: the envelope of event_seq (a new reference), or NULL when it
 * cannot be loaded. */
struct payload *body_load(struct dispatcher *d, int64_t event_seq);
void body_cache_free(struct dispatcher *d);

/* body_request_load: stored request seq, checked for sending: a new
 * payload with its form (p->req), or NULL with why filled when it cannot be
 * sent (missing, or a method, URL or header that does not pass). */
struct payload *body_request_load(struct dispatcher *d, int64_t seq, int64_t delivery_seq,
                                  char *why, size_t whysz);

/* cluster.c */
void cluster_init(struct dispatcher *d);
/* cluster_upkeep: heartbeat, reaping of dead nodes, releases, claims. */
void cluster_upkeep(struct dispatcher *d, int64_t now);
/* cluster_release_later: let go of a delivery with the next upkeep. */
void cluster_release_later(void *ctx, int64_t seq);
/* cluster_on_notify: one notification from the store. */
void cluster_on_notify(void *ctx, const char *payload);

#endif
