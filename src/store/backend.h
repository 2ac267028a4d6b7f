/*
 * backend: what a storage engine implements behind store.h. Each backend
 * defines a struct that begins with struct store and fills a struct
 * store_ops; store.c dispatches every store_* call through it. Both the table
 * and the dispatch come from one list, STORE_OPS below.
 */
#ifndef GANCHO_STORE_BACKEND_H
#define GANCHO_STORE_BACKEND_H

#include "store/store.h"

/* STORE_OPS(X): every operation a backend implements, one line each:
 * X(return type, name, (parameters), (arguments)). From this list come the
 * fields of struct store_ops, store.c's store_<name> functions (which only
 * forward) and each backend's table (<prefix>_<name>). A new operation is its
 * documented declaration in store.h, its line here, and one function per
 * backend; the compiler checks that the four agree. */
/* clang-format off */
#define STORE_OPS(X) \
	X(int, ping, (struct store *s), (s)) \
	X(int, commit, (struct store *s, struct store_batch *b, struct gerr *err), (s, b, err)) \
	X(int, open_after, (struct store *s, int64_t after_seq, int limit, struct store_task *out, int *n), (s, after_seq, limit, out, n)) \
	X(int, open_for_webhook, (struct store *s, int64_t webhook_seq, int64_t after_seq, int limit, struct store_task *out, int *n), (s, webhook_seq, after_seq, limit, out, n)) \
	X(int, open_due, (struct store *s, int64_t after_next_at, int64_t after_seq, int64_t due_before, int limit, struct store_task *out, int *n), (s, after_next_at, after_seq, due_before, limit, out, n)) \
	X(int, event_load, (struct store *s, int64_t event_seq, struct store_event *out), (s, event_seq, out)) \
	X(int, request_load, (struct store *s, int64_t seq, int64_t delivery_seq, struct store_request *out), (s, seq, delivery_seq, out)) \
	X(bool, shared, (struct store *s), (s)) \
	X(int, node_join, (struct store *s, const char *node, int64_t now), (s, node, now)) \
	X(int, node_beat, (struct store *s, const char *node, int64_t now), (s, node, now)) \
	X(int, node_reap, (struct store *s, int64_t dead_before, int *n), (s, dead_before, n)) \
	X(int, node_leave, (struct store *s, const char *node), (s, node)) \
	X(int, claim, (struct store *s, const char *node, int64_t due_before, int limit, struct store_task *out, int *n), (s, node, due_before, limit, out, n)) \
	X(int, release, (struct store *s, const char *node, const int64_t *seqs, int n), (s, node, seqs, n)) \
	X(int, load_owned, (struct store *s, const char *node, const int64_t *seqs, int nseqs, struct store_task *out, int *n), (s, node, seqs, nseqs, out, n)) \
	X(int, listen_fd, (struct store *s), (s)) \
	X(int, notifications, (struct store *s, void (*fn)(void *ctx, const char *payload), void *ctx), (s, fn, ctx)) \
	X(int, notify, (struct store *s, const char *payload), (s, payload)) \
	X(int, company_create, (struct store *s, const char *name, const char *event_types, const char *token_hash, struct store_company *out, struct gerr *err), (s, name, event_types, token_hash, out, err)) \
	X(int, company_list, (struct store *s, int64_t before_seq, int limit, struct store_company *out, int *n), (s, before_seq, limit, out, n)) \
	X(int, company_get, (struct store *s, int64_t seq, struct store_company *out), (s, seq, out)) \
	X(int, company_set_event_types, (struct store *s, int64_t seq, const char *event_types), (s, seq, event_types)) \
	X(int, token_add, (struct store *s, int64_t company_seq, const char *token_hash), (s, company_seq, token_hash)) \
	X(int, token_lookup, (struct store *s, const char *token_hash, int64_t *company_seq), (s, token_hash, company_seq)) \
	X(int, token_each, (struct store *s, void (*fn)(void *ctx, const char *hash, int64_t company_seq), void *ctx), (s, fn, ctx)) \
	X(int, token_list, (struct store *s, int64_t company_seq, struct store_token *out, int max, int *n), (s, company_seq, out, max, n)) \
	X(int, token_revoke, (struct store *s, int64_t company_seq, const char *id, char hash[65], struct gerr *err), (s, company_seq, id, hash, err)) \
	X(int, webhook_insert, (struct store *s, struct store_webhook *w, struct gerr *err), (s, w, err)) \
	X(int, webhook_update, (struct store *s, const struct store_webhook *w), (s, w)) \
	X(int, webhook_by_seq, (struct store *s, int64_t seq, struct store_webhook *out), (s, seq, out)) \
	X(int, webhook_get, (struct store *s, int64_t company_seq, const char *id, struct store_webhook *out), (s, company_seq, id, out)) \
	X(int, webhook_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_webhook *out, int *n), (s, company_seq, before_seq, limit, out, n)) \
	X(int, webhook_each, (struct store *s, void (*fn)(void *ctx, struct store_webhook *w), void *ctx), (s, fn, ctx)) \
	X(int, webhook_release_held, (struct store *s, int64_t webhook_seq, int64_t now), (s, webhook_seq, now)) \
	X(int, webhook_fail_open, (struct store *s, int64_t webhook_seq, const char *reason, int64_t now), (s, webhook_seq, reason, now)) \
	X(int, delivery_set_aside, (struct store *s, int64_t seq, const char *error, const char *note, int64_t now), (s, seq, error, note, now)) \
	X(int, delivery_list, (struct store *s, int64_t company_seq, const struct store_delivery_filter *f, int64_t before_seq, int limit, struct store_delivery *out, int *n), (s, company_seq, f, before_seq, limit, out, n)) \
	X(int, delivery_get, (struct store *s, int64_t company_seq, int64_t seq, struct store_delivery *out), (s, company_seq, seq, out)) \
	X(int, delivery_retry, (struct store *s, int64_t company_seq, int64_t seq, int64_t now, struct store_task *task, struct gerr *err), (s, company_seq, seq, now, task, err)) \
	X(int, attempt_list, (struct store *s, int64_t delivery_seq, int64_t after_seq, int limit, struct store_attempt *out, int *n), (s, delivery_seq, after_seq, limit, out, n)) \
	X(int, attempt_latest, (struct store *s, int64_t delivery_seq, int limit, struct store_attempt *out, int *n), (s, delivery_seq, limit, out, n)) \
	X(int, event_get, (struct store *s, int64_t company_seq, const char *id, struct store_event *out), (s, company_seq, id, out)) \
	X(int, event_range, (struct store *s, int64_t company_seq, int64_t since_ms, int64_t until_ms, int64_t after_seq, int limit, struct store_event *out, int *n), (s, company_seq, since_ms, until_ms, after_seq, limit, out, n)) \
	X(int, opevent_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_opevent *out, int *n), (s, company_seq, before_seq, limit, out, n)) \
	X(int, source_insert, (struct store *s, struct store_source *src, struct gerr *err), (s, src, err)) \
	X(int, source_update, (struct store *s, const struct store_source *src), (s, src)) \
	X(int, source_delete, (struct store *s, int64_t seq, int64_t now), (s, seq, now)) \
	X(int, source_get, (struct store *s, int64_t company_seq, const char *id, struct store_source *out), (s, company_seq, id, out)) \
	X(int, source_by_seq, (struct store *s, int64_t seq, struct store_source *out), (s, seq, out)) \
	X(int, source_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_source *out, int *n), (s, company_seq, before_seq, limit, out, n)) \
	X(int, source_each, (struct store *s, void (*fn)(void *ctx, struct store_source *src), void *ctx), (s, fn, ctx)) \
	X(int, rejection_add, (struct store *s, int64_t source_seq, int64_t at, const char *address, const char *reason), (s, source_seq, at, address, reason)) \
	X(int, rejection_list, (struct store *s, int64_t source_seq, int limit, struct store_rejection *out, int *n), (s, source_seq, limit, out, n)) \
	X(int, route_write, (struct store *s, struct store_route *r, struct store_webhook *targets, int ntargets, struct gerr *err), (s, r, targets, ntargets, err)) \
	X(int, route_get, (struct store *s, int64_t company_seq, const char *id, struct store_route *out), (s, company_seq, id, out)) \
	X(int, route_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_route *out, int *n), (s, company_seq, before_seq, limit, out, n)) \
	X(int, route_each, (struct store *s, void (*fn)(void *ctx, struct store_route *r), void *ctx), (s, fn, ctx)) \
	X(int, reconciliation_write, (struct store *s, struct store_reconciliation *r, struct gerr *err), (s, r, err)) \
	X(int, reconciliation_get, (struct store *s, int64_t company_seq, const char *id, struct store_reconciliation *out), (s, company_seq, id, out)) \
	X(int, reconciliation_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_reconciliation *out, int *n), (s, company_seq, before_seq, limit, out, n)) \
	X(int, reconciliation_request, (struct store *s, int64_t seq, int64_t now, char run_id[40], bool *added), (s, seq, now, run_id, added)) \
	X(int, reconciliation_claim, (struct store *s, const char *node, int64_t now, int64_t lease_until, const char *new_run_id, struct store_reconciliation *out, struct store_recon_run *run), (s, node, now, lease_until, new_run_id, out, run)) \
	X(int, reconciliation_progress, (struct store *s, const char *node, int64_t seq, int64_t lease_until, const struct store_recon_run *run), (s, node, seq, lease_until, run)) \
	X(int, reconciliation_finish, (struct store *s, const char *node, int64_t seq, const struct store_recon_run *run, int64_t next_run_at, const char *opevent_kind, const char *opevent_msg), (s, node, seq, run, next_run_at, opevent_kind, opevent_msg)) \
	X(int, recon_run_list, (struct store *s, int64_t seq, int64_t before_seq, int limit, struct store_recon_run *out, int *n), (s, seq, before_seq, limit, out, n)) \
	X(int, receipt_next_due, (struct store *s, int64_t *at), (s, at)) \
	X(int, receipt_get, (struct store *s, int64_t company_seq, const char *id, struct store_receipt *out), (s, company_seq, id, out)) \
	X(int, receipt_list, (struct store *s, int64_t company_seq, const struct store_receipt_filter *f, int64_t before_seq, int limit, struct store_receipt *out, int *n), (s, company_seq, f, before_seq, limit, out, n)) \
	X(int, entity_get, (struct store *s, int64_t company_seq, const char *type, const char *key, struct store_entity_row *out), (s, company_seq, type, key, out)) \
	X(int, connection_write, (struct store *s, struct store_connection *c, bool exclusive, const char *authorization, int64_t **retargeted, int *nretargeted, struct gerr *err), (s, c, exclusive, authorization, retargeted, nretargeted, err)) \
	X(int, connection_get, (struct store *s, int64_t company_seq, const char *id, struct store_connection *out), (s, company_seq, id, out)) \
	X(int, connection_list, (struct store *s, int64_t company_seq, int64_t before_seq, int limit, struct store_connection *out, int *n), (s, company_seq, before_seq, limit, out, n))
/* clang-format on */

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
#define STORE_OP_FIELD(ret, op, params, args) ret(*op) params;
	STORE_OPS(STORE_OP_FIELD)
#undef STORE_OP_FIELD
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

/* store_connection_refusal: why store_connection_write refused a delete or
 * an exclusive change: the route or reconciliation (what) user_id, named
 * user_name, uses connection id. Fills err (409). */
int store_connection_refusal(const char *id, const char *what, const char *user_id,
                             const char *user_name, struct gerr *err);

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
