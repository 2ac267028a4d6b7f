/*
 * engine_internal: state shared by committer.c and dispatcher.c. Not for
 * use outside src/deliver.
 */
#ifndef GANCHO_DELIVER_ENGINE_INTERNAL_H
#define GANCHO_DELIVER_ENGINE_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "deliver/engine.h"

/* An attempt's outcome as the dispatcher hands it to the committer; owns its strings. */
struct outcome_item {
	struct store_outcome o;
	char error[256];
	char *response; /* malloc'd excerpt or NULL */
};

struct change_item {
	struct store_webhook_change c;
	char reason[256];
};

enum dmsg_kind { DMSG_TASKS, DMSG_WEBHOOK_CHANGED, DMSG_WEBHOOK_RELOAD, DMSG_TASK_ADD };

/* A new delivery for the dispatcher, straight from the committer. */
struct new_task {
	/* t.request_seq: the delivery's stored request (store_delivery_in's), if any */
	struct store_task t;
	struct payload *payload; /* reference, may be NULL */
};

struct dmsg {
	enum dmsg_kind kind;
	int64_t webhook_seq;
	struct new_task *tasks;
	int ntasks;
	struct store_task one;
	struct dmsg *next;
};

struct dispatcher;

/* The forms the committer made last, by what they were made from. A
 * route's action sends the same method, URL and headers for every receipt
 * unless a template puts the receipt in them (a forward's never do), so its
 * checks and header lines are made once, not once per receipt. Only the
 * committer uses it. */
#define FORM_CACHE_SIZE 16
struct form_cache {
	struct form_cache_entry {
		char *method, *url, *headers;
		bool body; /* made for a request with a body (HEAD refuses one) */
		struct request_form *form;
		/* a committed request row with this method, URL and headers whose
		 * body is each delivery's receipt's (STORE_BODY_OWN_RECEIPT), 0:
		 * none known. A forward action's deliveries all send it. */
		int64_t request_seq;
	} e[FORM_CACHE_SIZE];
	int next; /* the entry replaced next */
};
struct engine {
	struct engine_config cfg;
	struct registry *reg;
	char node[40]; /* this process in the cluster (a UUID per start) */
	bool shared;   /* the store is shared with other nodes (PostgreSQL) */

	/* committer */
	pthread_t committer;
	pthread_mutex_t cmu;
	pthread_cond_t ccond;
	struct commit_job *jobs, *jobs_tail; /* every kind, in submission order */
	struct outcome_item *outs;
	int nouts, capouts;
	struct change_item *changes;
	int nchanges, capchanges;
	int64_t pushed_gen;            /* the dispatcher's newest flush in the queue */
	_Atomic int64_t committed_gen; /* every outcome of flushes up to this is committed */
	bool cstop;
	/* the earliest waiting receipt's apply_at (ms), 0 when none is known:
	 * the committer runs a round that decides due receipts then */
	int64_t apply_next;
	struct form_cache forms; /* routed requests' forms (receipts.c) */
	atomic_bool healthy;
	struct store *wstore;

	/* dispatcher */
	pthread_t dispatcher_thr;
	pthread_mutex_t dmu;
	struct dmsg *inbox, *inbox_tail;
	/* a message or a hand-over could not be allocated: the dispatcher
	 * re-reads what it may have missed (every webhook's config, every open delivery) */
	atomic_bool resync;
	atomic_bool dstop;
	CURLM *multi;
	struct store *rstore;
	struct dispatcher *d;
};

/* committer.c */
void *committer_main(void *arg);
/* round_lane (committer.c): the FIFO lane of a delivery to w with ordering
 * key okey in *lane (NULL when w is unordered), in the round's memory. */
struct round;
struct webhook;
int round_lane(struct round *r, const struct webhook *w, const char *okey, const char **lane,
               struct gerr *err);

/* receipts.c: the store's decide step for receipts (ctx: the round), and
 * the hint that a receipt waits until at. */
int receipts_decide(void *ctx, struct store_batch *b, const struct store_receipt *r,
                    const struct store_entity *cur, struct store_verdict *v);
int receipts_replay(void *ctx, struct store_batch *b, const struct store_receipt *r,
                    const struct store_entity *cur, struct store_verdict *v);
void receipts_note_waiting(struct engine *e, int64_t at);

/* bodies.c: a stored request in the form a transfer sends it. */
struct request_form {
	int refs; /* atomic: shared by the payloads of one cached form */
	char *method, *url;
	char **lines; /* the request's own headers, as libcurl lines */
	int nlines;
	bool has_type, has_accept;
};
/* request_form_new: method, URL and headers (JSON object text) checked for
 * sending by the rules of a webhook's config (urlcheck with allow_private;
 * those of clientHeaders); a body of body_len bytes goes with it. 0 with
 * *out set (owned), or -1 with why filled: the request cannot be sent. */
int request_form_new(const char *method, const char *url, const char *headers, size_t body_len,
                     bool allow_private, struct request_form **out, char *why, size_t whysz);
/* request_form_unref: drop a reference; the last one frees the form. */
void request_form_unref(struct request_form *f);

/* form_cache_get: request_form_new through the cache: *out is a reference
 * of its own (request_form_unref). A refused request is not kept. */
int form_cache_get(struct form_cache *c, const char *method, const char *url, const char *headers,
                   size_t body_len, bool allow_private, struct request_form **out, char *why,
                   size_t whysz);
void form_cache_free(struct form_cache *c);
/* form_cache_request: the shared request (see form_cache_entry.request_seq)
 * of method, URL and headers, or 0; form_cache_note_request records one
 * once its commit returned (an entry no longer cached forgets it: the next
 * delivery stores a new one). */
int64_t form_cache_request(const struct form_cache *c, const char *method, const char *url,
                           const char *headers);
void form_cache_note_request(struct form_cache *c, const char *method, const char *url,
                             const char *headers, int64_t seq);
/* body_request_name: p is stored request seq's body: its message id, the
 * one Standard Webhooks signers send as webhook-id. A shared request sends
 * a different body for each delivery: delivery_seq (0 for a request of its
 * own) is then part of the id. */
void body_request_name(struct payload *p, int64_t seq, int64_t delivery_seq);

/* committer_submit: queue a job (its kind set) for the next round. */
void committer_submit(struct engine *e, struct commit_job *job);
/* committer_push: hand a batch of outcomes and webhook changes over
 * (copied); called by the dispatcher. */
void committer_push(struct engine *e, struct outcome_item *outs, int nouts,
                    struct change_item *changes, int nchanges, int64_t gen);

/* dispatcher.c */
int dispatcher_init(struct engine *e, struct gerr *err);
void *dispatcher_main(void *arg);
void dispatcher_free(struct engine *e);
void dispatcher_post(struct engine *e, struct dmsg *m);

#endif
