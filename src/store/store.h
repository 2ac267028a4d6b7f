/*
 * store: gancho's one storage interface, batch-shaped.
 *
 * A struct store is one connection to the database with its prepared
 * statements; it is not thread-safe. Each thread that needs the store opens
 * its own: the committer (the only writer on the hot path), the dispatcher
 * (reads: refill the ready window, load bodies), and the API (a mutex-guarded
 * connection for management calls, which are rare).
 *
 * The hot path is three calls:
 *   store_append   — one transaction for a batch of events and their deliveries
 *                    plus a batch of delivery outcomes and attempts;
 *   store_open_after — the next page of open deliveries by sequence (keyset over
 *                    a partial index: never a scan of finished work);
 *   store_event_load — the body of one event when its delivery's turn comes
 *                    (store_request_load for a delivery with a stored request).
 * Everything else is plain CRUD for companies, tokens, webhooks, sources and
 * listings.
 *
 * The backend is chosen by URL: "sqlite:PATH" (or a bare path) or
 * "postgres://…". Each backend implements struct store_ops (backend.h);
 * store.c dispatches through it.
 *
 * Several nodes (PostgreSQL only): every open delivery has an owner, the node
 * that may send it. A node owns what it inserts, claims unowned due work in
 * batches (FOR UPDATE SKIP LOCKED), keeps a heartbeat, and reaps the work of
 * nodes whose heartbeat stopped. A FIFO lane ("<webhook seq>/<ordering key>")
 * has one owner in the whole cluster: its deliveries all go to that node, so
 * one request at a time and in order holds across nodes. SQLite is one node:
 * there everything is owned by the one process and these calls are trivial.
 */
#ifndef GANCHO_STORE_STORE_H
#define GANCHO_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/gerr.h"

struct store;

/* Delivery statuses, as stored. OPEN means pending (waiting or in flight). */
enum delivery_status { DLV_PENDING = 0, DLV_HELD = 1, DLV_DELIVERED = 2, DLV_FAILED = 3 };
const char *delivery_status_name(int s);
int delivery_status_parse(const char *s);

/* Webhook statuses. */
enum webhook_status { WH_ACTIVE = 0, WH_INACTIVE = 1, WH_DELETED = 2 };

/* ---- the write batch ---------------------------------------------------- */

/* One event to insert, with the webhooks it fans out to. */
struct store_event_in {
	int64_t company_seq;
	const char *id;       /* event id (UUID or client-given) */
	const char *idem_key; /* Idempotency-Key or NULL */
	const char *event;
	int64_t date_ms;
	const char *unit; /* or NULL */
	const char *data; /* raw JSON bytes of "data" */
	size_t datalen;
	int nwebhooks;
	const int64_t *webhook_seqs;
	const char *const *okeys; /* per webhook ordering key value, or NULL */
	const uint8_t *held;      /* per webhook: 1 = start held (webhook paused) */
	const char *const *lanes; /* per webhook FIFO lane or NULL (unordered); may be NULL */

	/* out */
	uint8_t *mine;          /* per webhook (caller's array): 1 = owned by this node, for its
	                         * dispatcher; 0 = its FIFO lane belongs to another node */
	int64_t seq;            /* the event's row */
	int64_t first_delivery; /* seq of the delivery for webhook_seqs[0]; the rest follow */
	bool duplicate;         /* id / idem_key seen before: nothing inserted */
	char dup_id[160];       /* the first call's id … */
	int64_t dup_date_ms;    /* … and date */
};

/* A rendered request to store with the delivery that sends it (an inbound
 * action's): the dispatcher sends exactly these bytes instead of the event's
 * envelope. Nothing here is checked by the store; the dispatcher checks the
 * method, URL and headers when it sends. */
struct store_request_in {
	const char *method;  /* "POST", "PUT", … */
	const char *url;     /* absolute */
	const char *headers; /* JSON object text of name -> value */
	const void *body;    /* bytes, sent as they are */
	size_t body_len;
	/* > 0: the body is that receipt's, byte for byte (a forward action), and
	 * is not stored twice; body is then ignored. STORE_BODY_OWN_RECEIPT:
	 * the body is that of the receipt of each delivery that sends it: one
	 * request row serves every receipt a forward action sends (see
	 * store_delivery_in.request_seq) */
	int64_t body_receipt_seq;
};
#define STORE_BODY_OWN_RECEIPT (-1)

/* New deliveries for existing events (replay, inbound actions). */
struct store_delivery_in {
	int64_t event_seq;   /* 0 for a route action's delivery */
	int64_t receipt_seq; /* the receipt whose route made it, or 0 */
	/* set: the delivery is stored failed with this last error and is never
	 * sent (an action whose request could not be rendered); no lane */
	const char *fail_error;
	int64_t webhook_seq; /* the target: its auth, policy, timeout and order apply */
	int64_t company_seq;
	const char *okey;
	const char *lane; /* FIFO lane or NULL */
	/* what it sends: NULL = the event's envelope; else a request stored in
	 * the same transaction (borrowed until commit returns) */
	const struct store_request_in *request;
	int64_t seq; /* out */
	bool mine;   /* out: owned by this node (see store_event_in.mine) */
	/* out: the stored request's row, 0 without one. In, with request NULL:
	 * a request stored by an earlier commit whose body is its deliveries'
	 * receipts' (STORE_BODY_OWN_RECEIPT), sent by this one too */
	int64_t request_seq;
};

/* What happened to one attempt, and the delivery's state after it. */
struct store_outcome {
	int64_t delivery_seq;
	int status;      /* new enum delivery_status */
	int attempts;    /* total so far */
	int64_t next_at; /* next attempt time (ms) when pending */
	int64_t first_attempt_at;
	/* the attempt itself; at == 0 means "no attempt, status change only" */
	int64_t at;
	int http_status; /* 0 when no HTTP answer */
	int latency_ms;
	const char *error;    /* NULL when none */
	const char *response; /* excerpt of the answer body, may be NULL */
	size_t response_len;
};

/* What the engine saw of a webhook since the last batch. The store is the
 * arbiter of the failure streak, so nodes that share a webhook agree:
 *   succeeded          → the streak ends (fail_since = 0);
 *   failed_at > 0      → a failure after that: the streak starts there unless
 *                        one is running;
 *   deactivate_before  → with failed_at: deactivate if the streak began at or
 *                        before this time (every attempt failed for the window);
 *   deactivate         → deactivate now (410 Gone).
 * A deactivation sets status inactive, records an operator event with
 * `reason`, and sets `deactivated` (out) — once, even if several ask. */
struct store_webhook_change {
	int64_t webhook_seq;
	bool succeeded;
	int64_t failed_at;
	int64_t deactivate_before;
	bool deactivate;
	const char *reason;
	bool deactivated; /* out */
};

/* ---- receipts (inbound) --------------------------------------------------
 *
 * A receipt is one request received at a source's /in/{id} URL. It is
 * written by the same group commit as events. Within the commit each new
 * receipt is decided against its entity's state: the store reads (and on a
 * shared store, serialises) the entity, hands both to the batch's decide
 * callback (pure logic lives above the store), and writes what it answers:
 * the receipt's status, the entity's advance, and the deliveries its routes
 * make (added with store_batch_route), all in the one transaction that also
 * makes the answer to the sender durable. */

enum receipt_status {
	RCP_WAITING = 0, /* inside its entity's reorder window; decided later */
	RCP_ROUTED = 1,  /* applied: routes evaluated, their deliveries made */
	RCP_STALE = 2,   /* older than its entity's latest applied receipt */
};
const char *receipt_status_name(int s);
int receipt_status_parse(const char *s);

/* One receipt to insert. Strings are borrowed for the call. */
struct store_receipt_in {
	int64_t company_seq;
	int64_t source_seq;
	const char *id;     /* gancho's id for it (a UUID) */
	const char *msg_id; /* the sender's id: unique per source */
	const char *event;
	const char *date; /* as sent */
	int64_t date_us;  /* the date as an instant (core/isodate) */
	int32_t date_ns;
	const char *entity_type; /* NULL: no entity */
	const char *entity_key;
	const char *kept; /* JSON object text of the fields this receipt carries */
	size_t keptlen;
	const char *body;
	size_t bodylen;
	const char *headers;      /* JSON object text, credentials removed */
	const char *verification; /* the verifier's outcome code */
	const char *address;      /* the client address, as text */
	int64_t apply_at;         /* 0: decide in this commit; else wait until then (ms) */

	/* out */
	int64_t seq;
	bool duplicate;  /* the source has seen msg_id: nothing inserted, counted */
	char dup_id[40]; /* … the first receipt's id */
	int status;      /* enum receipt_status as stored */
};

/* A receipt as stored (strings owned: store_receipt_free). */
struct store_receipt {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	int64_t source_seq;
	char *msg_id;
	char *event;
	char *date;
	int64_t date_us;
	int32_t date_ns;
	char *entity_type; /* NULL: no entity */
	char *entity_key;
	char *kept;
	size_t keptlen;
	char *body;
	size_t bodylen;
	char *headers;
	char verification[64];
	char address[64];
	int status;
	int duplicates;
	int64_t apply_at;
	int64_t created_at;
	int64_t updated_at;
};
void store_receipt_free(struct store_receipt *r);

/* An entity's state as the commit sees it (strings borrowed). */
struct store_entity {
	bool exists;
	int64_t date_us; /* the latest applied receipt's date */
	int32_t date_ns;
	const char *kept; /* JSON object text ("{}" when none) */
	size_t keptlen;
};

/* What the decide callback answers for one receipt. kept is borrowed until
 * the commit returns. */
struct store_verdict {
	int status;   /* RCP_ROUTED or RCP_STALE */
	bool advance; /* the entity moves to the receipt's date with kept */
	const char *kept;
	size_t keptlen;
};

/* One refused request (strings borrowed; cut to fit struct store_rejection). */
struct store_rejection_in {
	int64_t source_seq;
	int64_t at;
	const char *address;
	const char *reason;
};

struct store_batch;
/* store_decide_fn: decide receipt r (as stored, seq set) against its
 * entity (cur; exists false for a receipt without entity too). May add
 * deliveries with store_batch_route. 0, or an error that fails the whole
 * commit. */
typedef int (*store_decide_fn)(void *ctx, struct store_batch *b, const struct store_receipt *r,
                               const struct store_entity *cur, struct store_verdict *v);

struct store_batch {
	const char *node; /* the committing node (owner of what it inserts) */
	struct store_event_in *events;
	int nevents;
	struct store_delivery_in *deliveries;
	int ndeliveries;
	struct store_outcome *outcomes;
	int noutcomes;
	struct store_webhook_change *changes;
	int nchanges;
	/* receipts, decided before events and deliveries are written */
	struct store_receipt_in *receipts;
	int nreceipts;
	/* waiting receipts due before this time (ms) are decided too, each
	 * entity's in date order (0: none); *applied (out) counts them */
	int64_t apply_due_before;
	int apply_limit;
	int applied;
	store_decide_fn decide;
	void *decide_ctx;
	/* receipts routed again on purpose (POST /api/v1/receipts/{id}/replay):
	 * for each seq the store calls replay with the receipt as stored and
	 * its entity as it is now; the verdict is ignored (nothing about the
	 * receipt or the entity changes), the deliveries it adds are written.
	 * A waiting receipt is skipped (it has not been decided yet). */
	const int64_t *replays;
	int nreplays;
	store_decide_fn replay;
	/* refused requests of sources, for their rejections lists (each
	 * source keeps its newest STORE_REJECTIONS_KEPT) */
	struct store_rejection_in *rejections;
	int nrejections;
	/* deliveries made by decide (store_batch_route), written after it;
	 * the caller of store_commit frees routed */
	struct store_delivery_in *routed;
	int nrouted, cap_routed;
};

/* store_batch_route: a new zeroed delivery at the end of b->routed, or NULL
 * when out of memory. */
struct store_delivery_in *store_batch_route(struct store_batch *b);

/* ---- reads for the engine ----------------------------------------------- */

/* One open delivery as the dispatcher needs it: a few dozen bytes. */
struct store_task {
	int64_t seq;
	int64_t event_seq;
	int64_t webhook_seq;
	int64_t next_at;
	int64_t first_attempt_at;
	int attempts;
	char okey[64];       /* ordering key value, "" when none */
	int64_t request_seq; /* its stored request (store_request_load); 0: the envelope */
};

/* An event as loaded for sending. Strings are owned: store_event_free. */
struct store_event {
	int64_t seq;
	int64_t company_seq;
	char *id;
	char *event;
	int64_t date_ms;
	char *unit;
	char *data;
	size_t datalen;
};
void store_event_free(struct store_event *e);

/* A stored request as loaded for sending. Strings are owned (NUL-terminated,
 * body too, past body_len): store_request_free. */
struct store_request {
	int64_t seq;
	bool own_receipt; /* the body is the delivery's receipt's (STORE_BODY_OWN_RECEIPT) */
	char *method;
	char *url;
	char *headers; /* JSON object text */
	char *body;
	size_t body_len;
};
void store_request_free(struct store_request *r);

/* ---- rows for the API ---------------------------------------------------- */

struct store_company {
	int64_t seq;
	char id[40];
	char name[256];
	char *event_types; /* JSON array text, owned */
	int64_t created_at;
};

struct store_webhook {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	int status;
	int64_t fail_since;
	int64_t created_at;
	int64_t updated_at;
	char *config; /* JSON object text (with secrets), owned */
};

struct store_delivery {
	int64_t seq;
	char webhook_id[40];
	char event_id[160];
	char event[160];
	int status;
	int attempts;
	int64_t next_at;
	int last_http_status;
	char last_error[256];
	int64_t created_at;
	int64_t updated_at;
	char receipt_id[40]; /* the receipt whose route made it, "" for an event's */
	char route_id[40];   /* … and that route */
};

struct store_attempt {
	int64_t seq;
	int64_t at;
	int http_status;
	int latency_ms;
	char error[256];
	char *response; /* owned */
	size_t response_len;
};

struct store_opevent {
	int64_t seq;
	int64_t at;
	char kind[64];
	char webhook_id[40];
	char message[512];
};

struct store_delivery_filter {
	int64_t webhook_seq; /* 0 = any */
	int64_t receipt_seq; /* 0 = any */
	int status;          /* -1 = any */
	const char *event;   /* NULL = any */
};

/* ---- the interface ---------------------------------------------------------
 *
 * Errors, the same on every backend (tests/unit/test_store_errors.c):
 *   0              success (the "rows changed" calls return a count >= 0);
 *   GERR_IO        the database failed; a call that takes a struct gerr fills
 *                  it with 503 "unavailable"; a list call sets *n = 0, so a
 *                  failed read never passes for "no more rows";
 *   GERR_NOTFOUND  only when the row asked for is not there (a move of a row
 *                  that is not there is 0 rows changed, not an error);
 *   GERR_CONFLICT  a refusal: the row exists but the change cannot be made
 *                  (gerr 409 says why);
 *   GERR_NOMEM     a row was read but could not be copied. */

/* store_open: open (and create or migrate) the database at url. */
int store_open(const char *url, struct store **out, struct gerr *err);
void store_close(struct store *s);
/* store_ping: 0 when the database answers. */
int store_ping(struct store *s);

/* Hot path. store_commit writes the whole batch in one transaction. */
int store_commit(struct store *s, struct store_batch *b, struct gerr *err);
int store_open_after(struct store *s, int64_t after_seq, int limit, struct store_task *out, int *n);
int store_open_for_webhook(struct store *s, int64_t webhook_seq, int64_t after_seq, int limit,
                           struct store_task *out, int *n);
/* store_open_due: open deliveries due before due_before, in (next_at, seq)
 * order after the cursor (after_next_at, after_seq): the single node's way
 * back to deliveries it let go of while they waited for a distant retry. */
int store_open_due(struct store *s, int64_t after_next_at, int64_t after_seq, int64_t due_before,
                   int limit, struct store_task *out, int *n);
int store_event_load(struct store *s, int64_t event_seq, struct store_event *out);
/* store_request_load: the stored request seq (store_delivery_in.request), for
 * the turn of delivery delivery_seq (whose receipt's body it sends when the
 * request says STORE_BODY_OWN_RECEIPT). 0, GERR_NOTFOUND, GERR_IO or
 * GERR_NOMEM. */
int store_request_load(struct store *s, int64_t seq, int64_t delivery_seq,
                       struct store_request *out);

/* ---- several nodes ---------------------------------------------------------
 * Node ids are the caller's (a UUID per process start). Notifications are
 * short texts: "work" (unowned due work exists), "own <node> <seq>…"
 * (deliveries given to that node's FIFO lanes), "webhook <seq>" and
 * "company <seq>" (configuration changed: reload it). */

/* store_shared: several processes may use this database (PostgreSQL). */
bool store_shared(struct store *s);
int store_node_join(struct store *s, const char *node, int64_t now);
/* store_node_beat: GERR_NOTFOUND when this node was reaped as dead: it must
 * drop what it holds in memory and join again. */
int store_node_beat(struct store *s, const char *node, int64_t now);
/* store_node_reap: nodes silent since dead_before lose their deliveries and
 * lanes (owner = none) and are removed; *n of them. Notifies "work". */
int store_node_reap(struct store *s, int64_t dead_before, int *n);
/* store_node_leave: a clean stop: give up every delivery and lane. */
int store_node_leave(struct store *s, const char *node);
/* store_claim: take up to limit unowned open deliveries due before
 * due_before. A delivery of a FIFO lane comes only with its lane: the lane is
 * taken (if free) together with all its open deliveries, in seq order. */
int store_claim(struct store *s, const char *node, int64_t due_before, int limit,
                struct store_task *out, int *n);
/* store_release: give up these deliveries (the window is full). */
int store_release(struct store *s, const char *node, const int64_t *seqs, int n);
/* store_load_owned: the open deliveries among seqs that this node owns. */
int store_load_owned(struct store *s, const char *node, const int64_t *seqs, int nseqs,
                     struct store_task *out, int *n);
/* store_listen_fd: a socket that becomes readable when notifications
 * arrive (the connection LISTENs); -1 when the backend has none. */
int store_listen_fd(struct store *s);
/* store_notifications: call fn for each notification received so far. */
int store_notifications(struct store *s, void (*fn)(void *ctx, const char *payload), void *ctx);
/* store_notify: send a notification now (outside any batch). */
int store_notify(struct store *s, const char *payload);

/* Companies and tokens. Tokens are stored as SHA-256 hex of the token. */
/* store_company_create: the company and its first token (token_hash), in one
 * transaction: an error means neither was stored, so a client may retry. */
int store_company_create(struct store *s, const char *name, const char *event_types,
                         const char *token_hash, struct store_company *out, struct gerr *err);
int store_company_list(struct store *s, int64_t before_seq, int limit, struct store_company *out,
                       int *n);
int store_company_get(struct store *s, int64_t seq, struct store_company *out);
int store_company_set_event_types(struct store *s, int64_t seq, const char *event_types);
void store_company_free(struct store_company *c);
int store_token_add(struct store *s, int64_t company_seq, const char *token_hash);
/* store_token_lookup: the company of a token hash; GERR_NOTFOUND when none. */
int store_token_lookup(struct store *s, const char *token_hash, int64_t *company_seq);
/* A token as its company sees it: never the token, only its hash, whose
 * first TOKEN_ID_LEN hex digits are the token's public id. */
#define TOKEN_ID_LEN 16
struct store_token {
	char hash[65];
	int64_t created_at;
};
/* store_token_list: the company's tokens, oldest first; at most max in out,
 * *n of them. */
int store_token_list(struct store *s, int64_t company_seq, struct store_token *out, int max,
                     int *n);
/* store_token_revoke: delete the company's token whose id (hash prefix of
 * TOKEN_ID_LEN hex digits) is id; its full hash in hash. GERR_NOTFOUND when
 * none, GERR_CONFLICT when it is the company's last token (the company would
 * be locked out for good). Other nodes are told ("token <hash>"). */
int store_token_revoke(struct store *s, int64_t company_seq, const char *id, char hash[65],
                       struct gerr *err);
/* store_token_each calls fn for every (token hash, company seq). */
int store_token_each(struct store *s, void (*fn)(void *ctx, const char *hash, int64_t company_seq),
                     void *ctx);

/* Webhooks. */
int store_webhook_insert(struct store *s, struct store_webhook *w, struct gerr *err);
int store_webhook_update(struct store *s, const struct store_webhook *w);
/* store_webhook_by_seq: a live (not deleted) webhook by sequence. */
int store_webhook_by_seq(struct store *s, int64_t seq, struct store_webhook *out);
/* store_webhook_get: by public id within a company (company_seq 0 = any). */
int store_webhook_get(struct store *s, int64_t company_seq, const char *id,
                      struct store_webhook *out);
int store_webhook_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                       struct store_webhook *out, int *n);
int store_webhook_each(struct store *s, void (*fn)(void *ctx, struct store_webhook *w), void *ctx);
void store_webhook_free(struct store_webhook *w);
/* Delivery status moves done by the API (not by the engine). Each returns the
 * number of rows changed, or a negative error. */
int store_webhook_release_held(struct store *s, int64_t webhook_seq, int64_t now);
int store_webhook_fail_open(struct store *s, int64_t webhook_seq, const char *reason, int64_t now);
/* store_delivery_set_aside: an open (pending or held) delivery becomes failed
 * in one transaction, with an attempt row and last error `error`, and an
 * operator record (kind delivery.set_aside, message `note`) for its company.
 * For a delivery that gancho crashed while handling (crashguard.h). Returns 1
 * when set aside, 0 when the delivery is not open (or does not exist): then
 * nothing changes; a negative error when the store fails. */
int store_delivery_set_aside(struct store *s, int64_t seq, const char *error, const char *note,
                             int64_t now);

/* Deliveries and attempts. */
int store_delivery_list(struct store *s, int64_t company_seq, const struct store_delivery_filter *f,
                        int64_t before_seq, int limit, struct store_delivery *out, int *n);
int store_delivery_get(struct store *s, int64_t company_seq, int64_t seq,
                       struct store_delivery *out);
/* store_delivery_retry: a finished or held delivery becomes pending, due now,
 * with a fresh schedule. GERR_CONFLICT when it is already pending, or when
 * its webhook is paused (resuming it releases held deliveries) or deleted:
 * such a delivery could only wait forever. */
int store_delivery_retry(struct store *s, int64_t company_seq, int64_t seq, int64_t now,
                         struct store_task *task, struct gerr *err);
int store_attempt_list(struct store *s, int64_t delivery_seq, int64_t after_seq, int limit,
                       struct store_attempt *out, int *n);
/* store_attempt_latest: the newest limit attempts of a delivery, oldest first. */
int store_attempt_latest(struct store *s, int64_t delivery_seq, int limit,
                         struct store_attempt *out, int *n);
void store_attempt_free(struct store_attempt *a);

/* Events for the API and replay. */
int store_event_get(struct store *s, int64_t company_seq, const char *id, struct store_event *out);
/* store_event_range: events of a company dated in [since, until), ascending,
 * seq > after_seq; for replay. */
int store_event_range(struct store *s, int64_t company_seq, int64_t since_ms, int64_t until_ms,
                      int64_t after_seq, int limit, struct store_event *out, int *n);

/* Receipts. */
struct store_receipt_filter {
	int64_t source_seq;     /* 0 = any */
	const char *event;      /* NULL = any */
	const char *entity_key; /* NULL = any */
	int status;             /* -1 = any */
	/* NULL = any; "received" (a request received at /in/{id}) or
	 * "reconciliation" (a reconciliation's synthetic receipt, whose
	 * verification says "reconciliation") */
	const char *origin;
};
/* store_receipt_get: by public id within a company (company_seq 0 = any);
 * GERR_NOTFOUND when none. */
int store_receipt_get(struct store *s, int64_t company_seq, const char *id,
                      struct store_receipt *out);
/* store_receipt_list: newest first, seq < before_seq (0 = from the newest);
 * body and headers are left empty (ask store_receipt_get for them). */
int store_receipt_list(struct store *s, int64_t company_seq, const struct store_receipt_filter *f,
                       int64_t before_seq, int limit, struct store_receipt *out, int *n);
/* An entity as stored (kept owned: store_entity_free). */
struct store_entity_row {
	char type[72];
	char key[72];
	int64_t date_us;
	int32_t date_ns;
	char *kept;
	int64_t receipt_seq; /* the latest applied receipt */
	int64_t updated_at;
};
/* store_entity_get: GERR_NOTFOUND when the entity has no applied receipt. */
int store_entity_get(struct store *s, int64_t company_seq, const char *type, const char *key,
                     struct store_entity_row *out);
void store_entity_free(struct store_entity_row *e);
/* store_receipt_next_due: the earliest apply_at of a waiting receipt (a
 * reorder window), 0 when none waits. */
int store_receipt_next_due(struct store *s, int64_t *at);

/* Operator records. */
int store_opevent_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                       struct store_opevent *out, int *n);

/* ---- reconciliations --------------------------------------------------------
 * A reconciliation (core/reconcile.h) is a row like a source: public id,
 * company, name, config JSON and status (SRC_ACTIVE or SRC_DELETED), plus
 * its schedule and its lease:
 *   next_run_at  when the next run is due (ms);
 *   lease_node, lease_until
 *                the node running it and until when that claim holds; a
 *                node renews it while the run goes on. A claim is a
 *                conditional UPDATE (the lease free or expired), so with
 *                several nodes on one database one node runs it at a time;
 *   pending_run  the id of a run asked for by hand (POST …/run) and not
 *                started yet: asking again while it waits answers the same
 *                run, so two nodes asked at once make one run.
 * Its runs are rows of their own: state, times, counters and errors (a JSON
 * array of texts). Runs a node left running when it died are marked failed
 * by the next claim. Other nodes need no notification: each polls. */
enum recon_run_state {
	RUN_QUEUED = 0,  /* asked for, not started */
	RUN_RUNNING = 1, /* a node is on it */
	RUN_DONE = 2,    /* every list walked */
	RUN_STOPPED = 3, /* ended early on purpose: the ATS refused the credentials, the
	                  * reconciliation was deleted, or the node stopped */
	RUN_FAILED = 4,  /* ended by an error (answers, network, the store) */
};
const char *recon_run_state_name(int s);

struct store_reconciliation {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	int status;
	char *name;   /* owned */
	char *config; /* JSON object text, owned */
	int64_t next_run_at;
	int64_t created_at;
	int64_t updated_at;
};
void store_reconciliation_free(struct store_reconciliation *r);

struct store_recon_run {
	int64_t seq;
	char id[40];
	int64_t reconciliation_seq;
	int state; /* enum recon_run_state */
	int64_t requested_at;
	int64_t started_at; /* 0: not started */
	int64_t ended_at;   /* 0: not ended */
	int64_t pages;
	int64_t jobs;
	int64_t seen;     /* applications in a wanted step */
	int64_t receipts; /* synthetic receipts stored (duplicates not counted) */
	char *errors;     /* JSON array text, owned ("[]" when none) */
};
void store_recon_run_free(struct store_recon_run *r);

/* store_reconciliation_write: one transaction, by what r says:
 *   r->seq == 0              insert r (id, company_seq, name, config,
 *                            next_run_at, created_at, updated_at); seq set;
 *   r->status == SRC_DELETED the live reconciliation r->seq becomes deleted
 *                            at r->updated_at; a run waiting to start is
 *                            stopped ("the reconciliation was deleted");
 *   otherwise                name, config and updated_at of the live
 *                            reconciliation r->seq are replaced, and
 *                            next_run_at when r->next_run_at > 0 (else the
 *                            schedule a run may be moving is left alone).
 * GERR_NOTFOUND when there is no such live row. */
int store_reconciliation_write(struct store *s, struct store_reconciliation *r, struct gerr *err);
/* store_reconciliation_get: a live one by public id within a company. */
int store_reconciliation_get(struct store *s, int64_t company_seq, const char *id,
                             struct store_reconciliation *out);
/* store_reconciliation_list: a company's live ones, newest first, seq <
 * before_seq (0 = from the newest); at most limit, *n of them. */
int store_reconciliation_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                              struct store_reconciliation *out, int *n);
/* store_reconciliation_request: a run of the live reconciliation seq asked
 * for now: when none waits to start, a queued run with id run_id is added
 * and the reconciliation made due at now; else the waiting one's id is
 * copied into run_id. *added says which. GERR_NOTFOUND when there is no such
 * live reconciliation. */
int store_reconciliation_request(struct store *s, int64_t seq, int64_t now, char run_id[40],
                                 bool *added);
/* store_reconciliation_claim: in one transaction, take the lease of one
 * live reconciliation due at now whose lease is free or expired (until
 * lease_until, for node), mark runs a dead node left running failed, and
 * start its run (the waiting one, or a new one with id new_run_id). out and
 * run get both rows. GERR_NOTFOUND when none is due. */
int store_reconciliation_claim(struct store *s, const char *node, int64_t now, int64_t lease_until,
                               const char *new_run_id, struct store_reconciliation *out,
                               struct store_recon_run *run);
/* store_reconciliation_progress: renew node's lease of reconciliation seq
 * until lease_until and write the run's counters and errors. GERR_CONFLICT
 * when the lease is no longer this node's, or the reconciliation was deleted
 * (the run must stop); the run's row is written all the same. */
int store_reconciliation_progress(struct store *s, const char *node, int64_t seq,
                                  int64_t lease_until, const struct store_recon_run *run);
/* store_reconciliation_finish: in one transaction, the run's end (state,
 * ended_at, counters, errors), the lease given up (when still node's) with
 * the next run due at next_run_at (now when a run waits), when
 * opevent_kind is set an operator record for the company, and the ended
 * runs of the reconciliation beyond its newest STORE_RECON_RUNS_KEPT
 * deleted. */
#define STORE_RECON_RUNS_KEPT 100
int store_reconciliation_finish(struct store *s, const char *node, int64_t seq,
                                const struct store_recon_run *run, int64_t next_run_at,
                                const char *opevent_kind, const char *opevent_msg);
/* store_recon_run_list: the runs of reconciliation seq, newest first, seq <
 * before_seq (0 = from the newest); at most limit, *n of them. */
int store_recon_run_list(struct store *s, int64_t seq, int64_t before_seq, int limit,
                         struct store_recon_run *out, int *n);

/* ---- sources (receiving URLs) and their rejections -------------------------
 * A source is a row like a webhook: a public id, its company, a name, the
 * config JSON (secrets included; core/source.h) and a status. A deleted
 * source keeps its row (status SRC_DELETED) and is never read back. The
 * rejections of a source are the requests it refused (time, client address,
 * reason; never a body or a credential), the newest STORE_REJECTIONS_KEPT
 * kept. Errors as above. Other nodes are told with "source <seq>". */
enum source_status { SRC_ACTIVE = 0, SRC_DELETED = 2 };

struct store_source {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	int status;
	char *name;   /* owned */
	char *config; /* JSON object text (with secrets), owned */
	int64_t created_at;
	int64_t updated_at;
};
void store_source_free(struct store_source *src);

/* store_source_insert: a new source from src (id, company_seq, name,
 * config, created_at, updated_at); src->seq is set. */
int store_source_insert(struct store *s, struct store_source *src, struct gerr *err);
/* store_source_update: the name, config and updated_at of the live source
 * src->seq. GERR_NOTFOUND when there is none (deleted meanwhile). */
int store_source_update(struct store *s, const struct store_source *src);
/* store_source_delete: the live source seq becomes deleted at now.
 * GERR_NOTFOUND when there is none. */
int store_source_delete(struct store *s, int64_t seq, int64_t now);
/* store_source_get: a live source by public id within a company (another
 * company's id is GERR_NOTFOUND). */
int store_source_get(struct store *s, int64_t company_seq, const char *id,
                     struct store_source *out);
/* store_source_by_seq: a live source by sequence (a reload). */
int store_source_by_seq(struct store *s, int64_t seq, struct store_source *out);
/* store_source_list: a company's live sources, newest first, seq < before_seq
 * (0 = from the newest); at most limit, *n of them. */
int store_source_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                      struct store_source *out, int *n);
/* store_source_each: fn for every live source, oldest first (the registry's
 * load); the row is freed after fn returns. */
int store_source_each(struct store *s, void (*fn)(void *ctx, struct store_source *src), void *ctx);

#define STORE_REJECTIONS_KEPT 100
struct store_rejection {
	int64_t seq;
	int64_t at;
	char address[64];
	char reason[256];
};
/* store_rejection_add: record one refused request of a source, and delete
 * that source's older ones beyond the newest STORE_REJECTIONS_KEPT, in one
 * transaction. address and reason are cut to fit struct store_rejection. */
int store_rejection_add(struct store *s, int64_t source_seq, int64_t at, const char *address,
                        const char *reason);
/* store_rejection_list: the newest limit rejections of a source, newest first. */
int store_rejection_list(struct store *s, int64_t source_seq, int limit,
                         struct store_rejection *out, int *n);
/* ---- routes ----------------------------------------------------------------
 * A route (core/route.h) and its targets: one webhook row per action, with
 * webhooks.route_seq naming the route (NULL for an ordinary webhook). The
 * webhook calls above that answer the API (store_webhook_get, _list) never
 * return a target; those the engine loads from (_by_seq, _each) do. */
#define STORE_ROUTE_TARGETS 16
struct store_route {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	int64_t source_seq; /* 0 = every source */
	int status;         /* WH_ACTIVE or WH_DELETED */
	int64_t created_at;
	int64_t updated_at;
	char *config; /* JSON object text (with secrets), owned */
	char name[257];
	int ntargets; /* live targets, in seq order (the order of the actions) */
	int64_t target_seqs[STORE_ROUTE_TARGETS];
};
void store_route_free(struct store_route *r);
/* store_route_write: in one transaction, the route (r->seq == 0: inserted,
 * r->seq set; else its name, source, config, status and updated_at
 * replaced) and its targets: a target with seq 0 is inserted for this route
 * (its seq set), any other updated (status, config, updated_at); a target
 * (or a route) written with status WH_DELETED has its open deliveries failed
 * with "route action removed". Nothing is written when it fails. */
int store_route_write(struct store *s, struct store_route *r, struct store_webhook *targets,
                      int ntargets, struct gerr *err);
/* store_route_get: a live route by public id within a company. */
int store_route_get(struct store *s, int64_t company_seq, const char *id, struct store_route *out);
/* store_route_list: a company's live routes, newest first, seq < before_seq
 * (0 = from the newest). */
int store_route_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                     struct store_route *out, int *n);
/* store_route_each calls fn for every live route, in seq order. */
int store_route_each(struct store *s, void (*fn)(void *ctx, struct store_route *r), void *ctx);

/* ---- connections -----------------------------------------------------------
 * A connection (core/connection.h): an ATS or job board API's base URL and
 * credentials, a row like a source: public id, company, name, kind, config
 * JSON (credentials included) and status. A deleted connection keeps its row
 * (CONN_DELETED) and is never read back.
 * A target USES a connection when it is a live webhook row of a route
 * (route_seq set, status not deleted) of the same company whose config has
 * "connectionId" equal to the connection's id. Errors as above. */
enum connection_status { CONN_ACTIVE = 0, CONN_DELETED = 2 };

struct store_connection {
	int64_t seq;
	char id[40];
	int64_t company_seq;
	char *name; /* owned */
	char kind[16];
	char *config; /* JSON object text (with credentials), owned */
	int status;
	int64_t created_at;
	int64_t updated_at;
};
void store_connection_free(struct store_connection *c);

/* store_connection_write: one transaction, by what c says:
 *   c->seq == 0               insert c (id, company_seq, name, kind, config,
 *                             created_at, updated_at); c->seq set, c->status
 *                             CONN_ACTIVE;
 *   c->status == CONN_DELETED the live connection c->seq becomes deleted at
 *                             c->updated_at;
 *   otherwise                 name, config and updated_at of the live
 *                             connection c->seq are replaced.
 * exclusive (a change, and always a delete): refused with GERR_CONFLICT (err
 * 409 naming the route) while a target uses the connection.
 * authorization (a change; NULL: the credentials did not change): JSON object
 * text (connection_authorization) that replaces the "authorization" of every
 * target that uses the connection, their updated_at set to c->updated_at;
 * other nodes are told ("webhook <seq>" each, as store_route_write does).
 * retargeted (may be NULL): *retargeted gets a malloc'd array of those
 * targets' seqs (NULL when none; the caller frees it), *nretargeted their
 * number, for the caller's own registry.
 * GERR_NOTFOUND when there is no such live connection (change, delete).
 * Nothing is written when it fails. */
int store_connection_write(struct store *s, struct store_connection *c, bool exclusive,
                           const char *authorization, int64_t **retargeted, int *nretargeted,
                           struct gerr *err);
/* store_connection_get: a live connection by public id within a company
 * (another company's id is GERR_NOTFOUND). */
int store_connection_get(struct store *s, int64_t company_seq, const char *id,
                         struct store_connection *out);
/* store_connection_list: a company's live connections, newest first,
 * seq < before_seq (0 = from the newest); at most limit, *n of them. */
int store_connection_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                          struct store_connection *out, int *n);

#endif
