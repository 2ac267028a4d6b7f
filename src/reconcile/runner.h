/*
 * runner: the thread that runs reconciliations (core/reconcile.h), one at a
 * time on this node, started and stopped with the server.
 *
 * It polls the store every RUNNER_POLL_MS for a reconciliation that is due
 * and claims it (store_reconciliation_claim: a lease, so with several nodes
 * on one database one node runs it), then walks the ATS's lists through the
 * reconciliation's connection and submits a synthetic receipt for every
 * application the entity store has not seen in its step, through the
 * committer's group commit like a request received at /in/{id}
 * (engine_submit_receipt). The lease is renewed and the run's counters
 * written after every request; a run ends done, stopped (401/403 from the
 * ATS, the reconciliation deleted, the lease lost, the server stopping) or
 * failed (answers it cannot read, the network or the ATS failing past a
 * few retries, the store), with its errors and, when it did not end done,
 * an operator record and a warn log line. No log line or record holds a
 * credential.
 *
 * Arrows point down: it uses store, deliver (the engine's receipt
 * submission), registry, core and util.
 */
#ifndef GANCHO_RECONCILE_RUNNER_H
#define GANCHO_RECONCILE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "util/gerr.h"

struct registry;
struct engine;
struct runner;

#define RUNNER_POLL_MS     1000
#define RUNNER_LEASE_MS    120000  /* a silent node's runs are taken over after this */
#define RUNNER_ANSWER_MAX  8388608 /* bytes of one answer; more fails the run */
#define RUNNER_TIMEOUT_MS  30000   /* one request */
#define RUNNER_RETRIES     3       /* 5xx and network errors, per request */
#define RUNNER_WAIT_MAX_MS 60000   /* the longest Retry-After honoured */
#define RUNNER_429_MAX     10      /* 429 answers in a row before the run fails */
#define RUNNER_ERRORS_KEPT 20      /* errors listed per run */

struct runner_config {
	const char *db_url;
	bool allow_private; /* --dev: http:// and private addresses allowed */
};

/* runner_start: open its store connection and start the thread. */
int runner_start(const struct runner_config *cfg, struct registry *reg, struct engine *eng,
                 struct runner **out, struct gerr *err);
/* runner_stop: stop a run on its way (it ends "stopped" and is due again
 * at once, for this or another node), wait for its receipts to be
 * committed, join the thread. NULL is fine. Call before engine_stop. */
void runner_stop(struct runner *r);

#endif
