/*
 * store: dispatch to the backend chosen by the database URL, and the parts of
 * store.h that do not depend on a backend.
 */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

const char *delivery_status_name(int s)
{
	switch (s) {
	case DLV_PENDING: return "pending";
	case DLV_HELD: return "held";
	case DLV_DELIVERED: return "delivered";
	case DLV_FAILED: return "failed";
	}
	return "unknown";
}

int delivery_status_parse(const char *s)
{
	for (int i = DLV_PENDING; i <= DLV_FAILED; i++)
		if (strcmp(s, delivery_status_name(i)) == 0)
			return i;
	return -1;
}

int store_open(const char *url, struct store **out, struct gerr *err)
{
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
#ifdef GANCHO_HAVE_POSTGRES
		return postgres_store_open(url, out, err);
#else
		return gerr_set(err, GERR_INVALID, 400, "store",
		                "this gancho was built without PostgreSQL (libpq)");
#endif
	}
	const char *path = url;
	if (strncmp(url, "sqlite:", 7) == 0)
		path = url + 7;
	if (strncmp(path, "//", 2) == 0)
		path += 2;
	if (!*path)
		return gerr_set(err, GERR_INVALID, 400, "store", "empty database path");
	return sqlite_store_open(path, out, err);
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

void store_event_free(struct store_event *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->event);
	free(e->unit);
	free(e->data);
	memset(e, 0, sizeof(*e));
}

void store_company_free(struct store_company *c)
{
	if (c) {
		free(c->event_types);
		c->event_types = NULL;
	}
}

void store_webhook_free(struct store_webhook *w)
{
	if (w) {
		free(w->config);
		w->config = NULL;
	}
}

void store_attempt_free(struct store_attempt *a)
{
	if (a) {
		free(a->response);
		a->response = NULL;
	}
}

int store_ping(struct store *s)
{
	return s->ops->ping(s);
}

int store_commit(struct store *s, struct store_batch *b, struct gerr *err)
{
	return s->ops->commit(s, b, err);
}

int store_open_after(struct store *s, int64_t after_seq, int limit, struct store_task *out, int *n)
{
	return s->ops->open_after(s, after_seq, limit, out, n);
}

int store_open_for_webhook(struct store *s, int64_t webhook_seq, int64_t after_seq, int limit,
                           struct store_task *out, int *n)
{
	return s->ops->open_for_webhook(s, webhook_seq, after_seq, limit, out, n);
}

int store_open_due(struct store *s, int64_t after_next_at, int64_t after_seq, int64_t due_before,
                   int limit, struct store_task *out, int *n)
{
	return s->ops->open_due(s, after_next_at, after_seq, due_before, limit, out, n);
}

int store_event_load(struct store *s, int64_t event_seq, struct store_event *out)
{
	return s->ops->event_load(s, event_seq, out);
}

bool store_shared(struct store *s)
{
	return s->ops->shared(s);
}

int store_node_join(struct store *s, const char *node, int64_t now)
{
	return s->ops->node_join(s, node, now);
}

int store_node_beat(struct store *s, const char *node, int64_t now)
{
	return s->ops->node_beat(s, node, now);
}

int store_node_reap(struct store *s, int64_t dead_before, int *n)
{
	return s->ops->node_reap(s, dead_before, n);
}

int store_node_leave(struct store *s, const char *node)
{
	return s->ops->node_leave(s, node);
}

int store_claim(struct store *s, const char *node, int64_t due_before, int limit,
                struct store_task *out, int *n)
{
	return s->ops->claim(s, node, due_before, limit, out, n);
}

int store_release(struct store *s, const char *node, const int64_t *seqs, int n)
{
	return s->ops->release(s, node, seqs, n);
}

int store_load_owned(struct store *s, const char *node, const int64_t *seqs, int nseqs,
                     struct store_task *out, int *n)
{
	return s->ops->load_owned(s, node, seqs, nseqs, out, n);
}

int store_listen_fd(struct store *s)
{
	return s->ops->listen_fd(s);
}

int store_notifications(struct store *s, void (*fn)(void *ctx, const char *payload), void *ctx)
{
	return s->ops->notifications(s, fn, ctx);
}

int store_notify(struct store *s, const char *payload)
{
	return s->ops->notify(s, payload);
}

int store_company_create(struct store *s, const char *name, const char *event_types,
                         struct store_company *out, struct gerr *err)
{
	return s->ops->company_create(s, name, event_types, out, err);
}

int store_company_list(struct store *s, int64_t before_seq, int limit, struct store_company *out,
                       int *n)
{
	return s->ops->company_list(s, before_seq, limit, out, n);
}

int store_company_get(struct store *s, int64_t seq, struct store_company *out)
{
	return s->ops->company_get(s, seq, out);
}

int store_company_set_event_types(struct store *s, int64_t seq, const char *event_types)
{
	return s->ops->company_set_event_types(s, seq, event_types);
}

int store_token_add(struct store *s, int64_t company_seq, const char *token_hash)
{
	return s->ops->token_add(s, company_seq, token_hash);
}

int store_token_lookup(struct store *s, const char *token_hash, int64_t *company_seq)
{
	return s->ops->token_lookup(s, token_hash, company_seq);
}

int store_token_list(struct store *s, int64_t company_seq, struct store_token *out, int max, int *n)
{
	return s->ops->token_list(s, company_seq, out, max, n);
}

int store_token_revoke(struct store *s, int64_t company_seq, const char *id, char hash[65],
                       struct gerr *err)
{
	return s->ops->token_revoke(s, company_seq, id, hash, err);
}

int store_token_each(struct store *s, void (*fn)(void *ctx, const char *hash, int64_t company_seq),
                     void *ctx)
{
	return s->ops->token_each(s, fn, ctx);
}

int store_webhook_insert(struct store *s, struct store_webhook *w, struct gerr *err)
{
	return s->ops->webhook_insert(s, w, err);
}

int store_webhook_update(struct store *s, const struct store_webhook *w)
{
	return s->ops->webhook_update(s, w);
}

int store_webhook_by_seq(struct store *s, int64_t seq, struct store_webhook *out)
{
	return s->ops->webhook_by_seq(s, seq, out);
}

int store_webhook_get(struct store *s, int64_t company_seq, const char *id,
                      struct store_webhook *out)
{
	return s->ops->webhook_get(s, company_seq, id, out);
}

int store_webhook_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                       struct store_webhook *out, int *n)
{
	return s->ops->webhook_list(s, company_seq, before_seq, limit, out, n);
}

int store_webhook_each(struct store *s, void (*fn)(void *ctx, struct store_webhook *w), void *ctx)
{
	return s->ops->webhook_each(s, fn, ctx);
}

int store_webhook_release_held(struct store *s, int64_t webhook_seq, int64_t now)
{
	return s->ops->webhook_release_held(s, webhook_seq, now);
}

int store_webhook_fail_open(struct store *s, int64_t webhook_seq, const char *reason, int64_t now)
{
	return s->ops->webhook_fail_open(s, webhook_seq, reason, now);
}

int store_delivery_set_aside(struct store *s, int64_t seq, const char *error, const char *note,
                             int64_t now)
{
	return s->ops->delivery_set_aside(s, seq, error, note, now);
}

int store_delivery_list(struct store *s, int64_t company_seq, const struct store_delivery_filter *f,
                        int64_t before_seq, int limit, struct store_delivery *out, int *n)
{
	return s->ops->delivery_list(s, company_seq, f, before_seq, limit, out, n);
}

int store_delivery_get(struct store *s, int64_t company_seq, int64_t seq,
                       struct store_delivery *out)
{
	return s->ops->delivery_get(s, company_seq, seq, out);
}

int store_delivery_retry(struct store *s, int64_t company_seq, int64_t seq, int64_t now,
                         struct store_task *task, struct gerr *err)
{
	return s->ops->delivery_retry(s, company_seq, seq, now, task, err);
}

int store_attempt_list(struct store *s, int64_t delivery_seq, int64_t after_seq, int limit,
                       struct store_attempt *out, int *n)
{
	return s->ops->attempt_list(s, delivery_seq, after_seq, limit, out, n);
}

int store_token_refusal(bool exists, const char *id, struct gerr *err)
{
	if (exists)
		return gerr_set(err, GERR_CONFLICT, 409, "conflict",
		                "token %s is the company's last token; create another first", id);
	return gerr_set(err, GERR_NOTFOUND, 404, "not_found", "no token %s", id);
}

int store_retry_refusal(int64_t seq, int delivery_status, int webhook_status, struct gerr *err)
{
	if (delivery_status < 0)
		return gerr_set(err, GERR_NOTFOUND, 404, "not_found", "no delivery %lld",
		                (long long)seq);
	if (delivery_status == DLV_PENDING)
		return gerr_set(err, GERR_CONFLICT, 409, "conflict",
		                "delivery %lld is already pending", (long long)seq);
	if (webhook_status == WH_INACTIVE)
		return gerr_set(err, GERR_CONFLICT, 409, "conflict",
		                "delivery %lld: its webhook is paused; resume it (PATCH"
		                " {\"status\": \"active\"}) and its held deliveries are sent",
		                (long long)seq);
	return gerr_set(err, GERR_CONFLICT, 409, "conflict",
	                "delivery %lld: its webhook was deleted; nothing can send it",
	                (long long)seq);
}

int store_attempt_latest(struct store *s, int64_t delivery_seq, int limit,
                         struct store_attempt *out, int *n)
{
	return s->ops->attempt_latest(s, delivery_seq, limit, out, n);
}

int store_event_get(struct store *s, int64_t company_seq, const char *id, struct store_event *out)
{
	return s->ops->event_get(s, company_seq, id, out);
}

int store_event_range(struct store *s, int64_t company_seq, int64_t since_ms, int64_t until_ms,
                      int64_t after_seq, int limit, struct store_event *out, int *n)
{
	return s->ops->event_range(s, company_seq, since_ms, until_ms, after_seq, limit, out, n);
}

int store_opevent_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                       struct store_opevent *out, int *n)
{
	return s->ops->opevent_list(s, company_seq, before_seq, limit, out, n);
}
