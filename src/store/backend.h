/*
 * backend: what a storage engine implements behind store.h. Each backend
 * defines a struct that begins with struct store and fills a struct
 * store_ops; store.c dispatches every store_* call through it.
 */
#ifndef GANCHO_STORE_BACKEND_H
#define GANCHO_STORE_BACKEND_H

#include "store/store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	int (*ping)(struct store *s);
	int (*commit)(struct store *s, struct store_batch *b, struct gerr *err);
	int (*open_after)(struct store *s, int64_t after_seq, int limit, struct store_task *out,
	                  int *n);
	int (*open_for_webhook)(struct store *s, int64_t webhook_seq, int64_t after_seq, int limit,
	                        struct store_task *out, int *n);
	int (*open_due)(struct store *s, int64_t after_next_at, int64_t after_seq,
	                int64_t due_before, int limit, struct store_task *out, int *n);
	int (*event_load)(struct store *s, int64_t event_seq, struct store_event *out);
	bool (*shared)(struct store *s);
	int (*node_join)(struct store *s, const char *node, int64_t now);
	int (*node_beat)(struct store *s, const char *node, int64_t now);
	int (*node_reap)(struct store *s, int64_t dead_before, int *n);
	int (*node_leave)(struct store *s, const char *node);
	int (*claim)(struct store *s, const char *node, int64_t due_before, int limit,
	             struct store_task *out, int *n);
	int (*release)(struct store *s, const char *node, const int64_t *seqs, int n);
	int (*load_owned)(struct store *s, const char *node, const int64_t *seqs, int nseqs,
	                  struct store_task *out, int *n);
	int (*listen_fd)(struct store *s);
	int (*notifications)(struct store *s, void (*fn)(void *ctx, const char *payload),
	                     void *ctx);
	int (*notify)(struct store *s, const char *payload);
	int (*company_create)(struct store *s, const char *name, const char *event_types,
	                      struct store_company *out, struct gerr *err);
	int (*company_list)(struct store *s, int64_t before_seq, int limit,
	                    struct store_company *out, int *n);
	int (*company_get)(struct store *s, int64_t seq, struct store_company *out);
	int (*company_set_event_types)(struct store *s, int64_t seq, const char *event_types);
	int (*token_add)(struct store *s, int64_t company_seq, const char *token_hash);
	int (*token_lookup)(struct store *s, const char *token_hash, int64_t *company_seq);
	int (*token_each)(struct store *s,
	                  void (*fn)(void *ctx, const char *hash, int64_t company_seq), void *ctx);
	int (*token_list)(struct store *s, int64_t company_seq, struct store_token *out, int max,
	                  int *n);
	int (*token_revoke)(struct store *s, int64_t company_seq, const char *id, char hash[65],
	                    struct gerr *err);
	int (*webhook_insert)(struct store *s, struct store_webhook *w, struct gerr *err);
	int (*webhook_update)(struct store *s, const struct store_webhook *w);
	int (*webhook_by_seq)(struct store *s, int64_t seq, struct store_webhook *out);
	int (*webhook_get)(struct store *s, int64_t company_seq, const char *id,
	                   struct store_webhook *out);
	int (*webhook_list)(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
	                    struct store_webhook *out, int *n);
	int (*webhook_each)(struct store *s, void (*fn)(void *ctx, struct store_webhook *w),
	                    void *ctx);
	int (*webhook_release_held)(struct store *s, int64_t webhook_seq, int64_t now);
	int (*webhook_fail_open)(struct store *s, int64_t webhook_seq, const char *reason,
	                         int64_t now);
	int (*delivery_set_aside)(struct store *s, int64_t seq, const char *error, const char *note,
	                          int64_t now);
	int (*delivery_list)(struct store *s, int64_t company_seq,
	                     const struct store_delivery_filter *f, int64_t before_seq, int limit,
	                     struct store_delivery *out, int *n);
	int (*delivery_get)(struct store *s, int64_t company_seq, int64_t seq,
	                    struct store_delivery *out);
	int (*delivery_retry)(struct store *s, int64_t company_seq, int64_t seq, int64_t now,
	                      struct store_task *task, struct gerr *err);
	int (*attempt_list)(struct store *s, int64_t delivery_seq, int64_t after_seq, int limit,
	                    struct store_attempt *out, int *n);
	int (*attempt_latest)(struct store *s, int64_t delivery_seq, int limit,
	                      struct store_attempt *out, int *n);
	int (*event_get)(struct store *s, int64_t company_seq, const char *id,
	                 struct store_event *out);
	int (*event_range)(struct store *s, int64_t company_seq, int64_t since_ms, int64_t until_ms,
	                   int64_t after_seq, int limit, struct store_event *out, int *n);
	int (*opevent_list)(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
	                    struct store_opevent *out, int *n);
};

struct store {
	const struct store_ops *ops;
};

/* store_retry_refusal: why store_delivery_retry changed nothing, from the
 * delivery's status and its webhook's (-1: no such delivery). Fills err. */
int store_retry_refusal(int64_t seq, int delivery_status, int webhook_status, struct gerr *err);
/* store_token_refusal: why store_token_revoke deleted nothing (the token
 * exists: it is the last one). Fills err. */
int store_token_refusal(bool exists, const char *id, struct gerr *err);

/* Backends' constructors, chosen by store_open from the URL. */
int sqlite_store_open(const char *path, struct store **out, struct gerr *err);
/* sqlite_store_set_ids_merge_at: how many new event ids the store holds in
 * memory before merging them into its id table, a quarter of them per
 * transaction (tests use small values). */
void sqlite_store_set_ids_merge_at(struct store *s, size_t n);
/* sqlite_store_handle: the connection, borrowed (tests make reads fail with it). */
struct sqlite3 *sqlite_store_handle(struct store *s);
int postgres_store_open(const char *url, struct store **out, struct gerr *err);

#endif
