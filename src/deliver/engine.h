/*
 * engine: the two threads behind the API — the committer (the only writer of
 * the hot path: one transaction per batch) and the dispatcher (libcurl multi:
 * ready queues per webhook, a timer heap for retries, FIFO lanes, rate limits).
 *
 *   ingest ─▶ committer ──(commit, then new deliveries in memory)──▶ dispatcher
 *                 ▲                                                   │
 *                 └────────────── outcomes, in batches ◀──────────────┘
 *
 * An ingest request is queued with engine_submit and its callback runs on the
 * committer thread after the batch holding it is durable (or failed), which is
 * when the HTTP layer answers 202. Nothing is acknowledged before COMMIT.
 */
#ifndef GANCHO_DELIVER_ENGINE_H
#define GANCHO_DELIVER_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/registry.h"
#include "store/store.h"
#include "util/gerr.h"

struct engine_config {
	const char *db_url;
	bool allow_private;          /* --dev: loopback and private targets allowed */
	int64_t deactivate_after_ms; /* all attempts failed this long → inactive (7 days) */
	int window;                  /* open deliveries kept in memory */
	int max_inflight;            /* requests in flight over all webhooks */
	int shutdown_grace_ms;       /* how long in-flight requests may finish at stop */
	int batch_max;               /* most items in one commit */
	int64_t node_timeout_ms;     /* several nodes: silent this long = dead, work reclaimed */
};

void engine_config_default(struct engine_config *c);

/* A stored request's method, URL and headers, checked and ready to send
 * (bodies.c: request_form_new); its body is the payload's. */
struct request_form;

/* A reference-counted body, shared by the deliveries of one event: an
 * event's envelope, or a stored request's body with its form. */
struct payload {
	int refs;
	int64_t event_seq;
	char event_id[160];
	char *body;
	size_t len;
	struct request_form *req; /* a stored request's (owned), NULL for an envelope */
};
struct payload *payload_new(int64_t event_seq, const char *event_id, char *body, size_t len);
void payload_unref(struct payload *p);

/* A job for the committer's group commit: every kind of job starts with
 * this header, and its kind (deliver/round.h) says how it joins a round.
 * Both are the engine's; the submitter fills the rest of the job. */
struct job_kind;
struct commit_job {
	const struct job_kind *kind;
	struct commit_job *next; /* the engine's queue link */
};

/* One event on its way to the store. The caller fills ev (its strings must
 * live until done runs), hooks (references the engine releases) and envelope
 * (taken by the engine), then calls engine_submit. */
struct ingest_job {
	struct commit_job base; /* the engine's */
	struct store_event_in ev;
	struct webhook **hooks;
	int nhooks;
	char *envelope; /* owned by the engine after submit */
	size_t envelope_len;
	void (*done)(struct ingest_job *job, int rc, const struct gerr *err);
	void *ctx;
	int row; /* the engine's: its event in the round's batch */
};

/* A batch of new deliveries for existing events (replay). done runs after commit. */
struct delivery_job {
	struct commit_job base; /* the engine's */
	struct store_delivery_in *dl;
	int n;
	void (*done)(struct delivery_job *job, int rc);
	void *ctx;
	int row; /* the engine's: its first delivery in the round's batch */
};

/* One received request (a receipt) on its way to the store. The caller fills
 * r (its strings must live until done runs) and calls engine_submit_receipt;
 * done runs on the committer thread once the round holding it is durable (or
 * failed): r then says what the store did (seq or duplicate and dup_id, and
 * status: decided in the commit, or waiting in its reorder window). */
struct receipt_job {
	struct commit_job base; /* the engine's */
	struct store_receipt_in r;
	void (*done)(struct receipt_job *job, int rc, const struct gerr *err);
	void *ctx;
	int row; /* the engine's: its receipt in the round's batch */
};

struct engine;

int engine_start(const struct engine_config *cfg, struct registry *reg, struct engine **out,
                 struct gerr *err);
/* engine_stop: commit what is queued, let in-flight requests finish up to the
 * grace period, commit their outcomes, join the threads. */
void engine_stop(struct engine *e);

void engine_submit(struct engine *e, struct ingest_job *job);
void engine_submit_deliveries(struct engine *e, struct delivery_job *job);
void engine_submit_receipt(struct engine *e, struct receipt_job *job);
/* A receipt routed again on purpose: its routes fire as they did when it
 * was decided (a stale one only those that fire for stale receipts), with
 * its entity's kept fields as they are now; the receipt and the entity do
 * not change. done runs after the commit with ndeliveries, how many
 * deliveries its routes made. */
struct replay_job {
	struct commit_job base; /* the engine's */
	int64_t receipt_seq;
	int ndeliveries; /* out */
	void (*done)(struct replay_job *job, int rc, const struct gerr *err);
	void *ctx;
};
void engine_submit_replay(struct engine *e, struct replay_job *job);

/* engine_submit_rejection: record a source's refused request with the next
 * round (its rejections list); nobody waits for it, and when memory or the
 * store fails it is only logged. */
void engine_submit_rejection(struct engine *e, int64_t source_seq, const char *address,
                             const char *reason);
/* engine_healthy: the last commit succeeded (or none failed since). */
bool engine_healthy(struct engine *e);

/* Commands from the API, carried out on the dispatcher thread. */
void engine_webhook_changed(struct engine *e, int64_t webhook_seq);
/* engine_webhook_reload: pick up the webhook's pending deliveries from the
 * store (after held ones were released). */
void engine_webhook_reload(struct engine *e, int64_t webhook_seq);
/* engine_task_add: a delivery made pending again (manual retry). */
void engine_task_add(struct engine *e, const struct store_task *t);

#endif
