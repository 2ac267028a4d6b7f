/*
 * store: dispatch to the backend chosen by the database URL, and the parts of
 * store.h that do not depend on a backend.
 */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/array.h"
#include "util/utf8.h"

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

const char *receipt_status_name(int s)
{
	switch (s) {
	case RCP_WAITING: return "waiting";
	case RCP_ROUTED: return "routed";
	case RCP_STALE: return "stale";
	}
	return "unknown";
}

const char *recon_run_state_name(int s)
{
	switch (s) {
	case RUN_QUEUED: return "queued";
	case RUN_RUNNING: return "running";
	case RUN_DONE: return "done";
	case RUN_STOPPED: return "stopped";
	case RUN_FAILED: return "failed";
	}
	return "unknown";
}

void store_reconciliation_free(struct store_reconciliation *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->config);
	r->name = r->config = NULL;
}

void store_recon_run_free(struct store_recon_run *r)
{
	if (!r)
		return;
	free(r->errors);
	r->errors = NULL;
}

int receipt_status_parse(const char *s)
{
	for (int i = RCP_WAITING; i <= RCP_STALE; i++)
		if (strcmp(s, receipt_status_name(i)) == 0)
			return i;
	return -1;
}

struct store_delivery_in *store_batch_route(struct store_batch *b)
{
	if (!array_reserve((void **)&b->routed, &b->cap_routed, b->nrouted + 1, sizeof(*b->routed),
	                   16))
		return NULL;
	struct store_delivery_in *d = &b->routed[b->nrouted++];
	memset(d, 0, sizeof(*d));
	return d;
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

void store_receipt_free(struct store_receipt *r)
{
	if (!r)
		return;
	free(r->msg_id);
	free(r->event);
	free(r->date);
	free(r->entity_type);
	free(r->entity_key);
	free(r->kept);
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

void store_entity_free(struct store_entity_row *e)
{
	if (!e)
		return;
	free(e->kept);
	e->kept = NULL;
}

void store_request_free(struct store_request *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
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

void store_route_free(struct store_route *r)
{
	if (r) {
		free(r->config);
		r->config = NULL;
	}
}

void store_attempt_free(struct store_attempt *a)
{
	if (a) {
		free(a->response);
		a->response = NULL;
	}
}

int store_token_refusal(bool exists, const char *id, struct gerr *err)
{
	if (exists)
		return gerr_set(err, GERR_CONFLICT, 409, "conflict",
		                "token %s is the company's last token; create another first", id);
	return gerr_set(err, GERR_NOTFOUND, 404, "not_found", "no token %s", id);
}

int store_connection_refusal(const char *id, const char *what, const char *user_id,
                             const char *user_name, struct gerr *err)
{
	char ex[UTF8_EXCERPT_SIZE];
	return gerr_set(err, GERR_CONFLICT, 409, "conflict",
	                "connection %s is used by %s %s (\"%s\")", id, what, user_id,
	                utf8_excerpt(user_name, ex));
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

/* store_<op>: forward to the backend, for every operation of STORE_OPS. */
#define STORE_OP_FORWARD(ret, op, params, args)                                                    \
	ret store_##op params                                                                      \
	{                                                                                          \
		return s->ops->op args;                                                            \
	}
STORE_OPS(STORE_OP_FORWARD)
#undef STORE_OP_FORWARD

void store_source_free(struct store_source *src)
{
	if (!src)
		return;
	free(src->name);
	free(src->config);
	src->name = src->config = NULL;
}

void store_connection_free(struct store_connection *c)
{
	if (!c)
		return;
	free(c->name);
	if (c->config) /* it holds credentials */
		memset(c->config, 0, strlen(c->config));
	free(c->config);
	c->name = c->config = NULL;
}
