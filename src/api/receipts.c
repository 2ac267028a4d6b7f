/*
 * receipts: what the receiving endpoint (POST /in/{id}) kept, for a person
 * to look at (routes and auth: the table in api.c).
 *
 *   GET /api/v1/receipts?sourceId=&event=&entity=&status=&origin=&limit=&cursor=
 *                                  newest first, pages as every list's
 *                                  (origin: received, or reconciliation for
 *                                  the synthetic receipts of reconciliations)
 *   GET /api/v1/receipts/{id}      one, with its entity's state, its headers,
 *                                  its body and the deliveries its routes made
 *   POST /api/v1/receipts/{id}/replay
 *                                  route it again, on purpose → 202
 *                                  {id, deliveries: how many its routes made}
 *                                  once those are stored (409 while it waits
 *                                  in a reorder window)
 *
 * entity= is the entity's key as the sender wrote it; it is turned into the
 * stored key the way core/receipt stores it (filter_key_string over a small
 * document holding the value), so a key too long to store as it is (kept
 * hashed) is found too. Another company's receipt, like another company's
 * source in sourceId=, is simply not found.
 *
 * The answer of one receipt keeps the sender's bytes: its body and the
 * entity's kept fields are written into the answer as they are stored (each
 * checked to be JSON first), never decoded and printed again, so a number
 * too large for a double or the sender's key order come back unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/filter.h"
#include "core/receipt.h"
#include "core/source.h"
#include "util/json_scan.h"

/* The deliveries shown with one receipt: its routes' newest. */
#define RECEIPT_DELIVERIES_SHOWN 500

/* text_json: a stored string as JSON, null when absent. */
static json_t *text_json(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;
	return v ? v : json_null();
}

/* source_id_json: the public id of the caller's source seq, from the
 * registry (no store call); null once the source is deleted. */
static json_t *source_id_json(struct api *a, int64_t company_seq, int64_t seq)
{
	struct source *src = registry_source_get_seq(a->reg, seq);
	json_t *v = src && src->company_seq == company_seq ? json_string(src->id) : json_null();
	source_unref(src);
	return v;
}

/* receipt_json: the fields a list and a single answer share. */
static json_t *receipt_json(struct api *a, int64_t company_seq, const struct store_receipt *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "sourceId", source_id_json(a, company_seq, r->source_seq));
	json_object_set_new(o, "event", text_json(r->event));
	json_object_set_new(o, "messageId", text_json(r->msg_id));
	json_object_set_new(o, "date", text_json(r->date));
	json_object_set_new(o, "receivedAt", api_date(r->created_at));
	json_object_set_new(o, "status", json_string(receipt_status_name(r->status)));
	json_object_set_new(o, "duplicates", json_integer(r->duplicates));
	json_object_set_new(o, "verification", text_json(r->verification));
	json_object_set_new(o, "address", text_json(r->address));
	/* a reconciliation's synthetic receipt says so in its verification,
	 * which no received request can (inbound/receive.c); the store's
	 * origin filter reads the same field */
	json_object_set_new(o, "origin",
	                    strcmp(r->verification, "reconciliation") == 0
	                        ? json_string("reconciliation")
	                        : json_null());
	return o;
}

/* entity_key: the stored key for the key text a person wrote (see the top
 * comment); -1 when none can be made (empty text: no entity has it). */
static int entity_key(const char *text, char *out, size_t outsz)
{
	struct buf doc;
	buf_init(&doc);
	buf_puts(&doc, "{\"k\":");
	buf_json_str(&doc, text, strlen(text));
	buf_putc(&doc, '}');
	int n = doc.oom ? -1 : filter_key_string(doc.data, doc.len, "k", out, outsz);
	buf_free(&doc);
	return n;
}

int api_receipt_list(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)param;
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	struct store_receipt_filter f = {.source_seq = 0, .status = -1};
	const char *sid = req->query(req->conn, "sourceId");
	const char *ev = req->query(req->conn, "event");
	const char *ent = req->query(req->conn, "entity");
	const char *st = req->query(req->conn, "status");
	const char *origin = req->query(req->conn, "origin");
	char key[RECEIPT_KEY_MAX + 1];
	if (origin && *origin) {
		if (strcmp(origin, "received") != 0 && strcmp(origin, "reconciliation") != 0)
			return api_fail(req, 400, "invalid_field",
			                "origin: one of received, reconciliation");
		f.origin = origin;
	}
	if (st && *st && (f.status = receipt_status_parse(st)) < 0)
		return api_fail(req, 400, "invalid_field", "status: one of waiting, routed, stale");
	if (ev && strlen(ev) > RECEIPT_EVENT_MAX)
		return api_fail(req, 400, "invalid_field", "event: at most %d bytes",
		                RECEIPT_EVENT_MAX);
	if (ev && *ev)
		f.event = ev;
	if (ent && *ent) {
		if (entity_key(ent, key, sizeof(key)) <= 0)
			return api_fail(req, 503, "unavailable", "out of memory");
		f.entity_key = key;
	}
	if (sid && *sid) {
		struct source *src = registry_source_get(a->reg, sid);
		bool mine = src && src->company_seq == c->company_seq;
		if (mine)
			f.source_seq = src->seq;
		source_unref(src);
		if (!mine) { /* another company's source, or none: an empty page */
			api_list(req, json_array(), 0, limit, 0);
			return API_DONE;
		}
	}
	struct store_receipt *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int n = 0;
	api_lock(a);
	int rc = rows ? store_receipt_list(a->s, c->company_seq, &f, cursor, limit + 1, rows, &n)
	              : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read receipts");
	}
	int shown = n > limit ? limit : n;
	int64_t last = shown ? rows[shown - 1].seq : 0; /* read before the rows are freed */
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		if (i < shown) {
			json_t *o = receipt_json(a, c->company_seq, &rows[i]);
			json_object_set_new(o, "entity",
			                    rows[i].entity_type && rows[i].entity_key
			                        ? json_pack("{s:s,s:s}", "type",
			                                    rows[i].entity_type, "key",
			                                    rows[i].entity_key)
			                        : json_null());
			json_array_append_new(items, o);
		}
		store_receipt_free(&rows[i]);
	}
	api_list(req, items, n, limit, last);
	free(rows);
	return API_DONE;
}

/* put_raw: ,"name":text when text[0..len) is JSON, else ,"name":fallback. */
static void put_raw(struct buf *b, const char *name, const char *text, size_t len,
                    const char *fallback)
{
	struct gerr err = {0};
	buf_putc(b, ',');
	buf_json_str(b, name, strlen(name));
	buf_putc(b, ':');
	if (text && len && json_validate(text, len, &err) == 0)
		buf_append(b, text, len);
	else
		buf_puts(b, fallback);
}

/* deliveries_json: the newest RECEIPT_DELIVERIES_SHOWN deliveries made for
 * receipt seq, oldest first; NULL when the store fails. Call locked. */
static json_t *deliveries_json(struct api *a, int64_t company_seq, int64_t seq)
{
	enum { PAGE = 100 };
	struct store_delivery *rows = calloc(PAGE, sizeof(*rows));
	json_t *items = rows ? json_array() : NULL;
	struct store_delivery_filter f = {.receipt_seq = seq, .status = -1};
	int64_t before = 0;
	while (items && json_array_size(items) < RECEIPT_DELIVERIES_SHOWN) {
		int n = 0;
		if (store_delivery_list(a->s, company_seq, &f, before, PAGE, rows, &n)) {
			json_decref(items);
			items = NULL;
			break;
		}
		/* read newest first: each goes in front of those read before it */
		for (int i = 0; i < n && json_array_size(items) < RECEIPT_DELIVERIES_SHOWN; i++)
			json_array_insert_new(items, 0, api_delivery_json(&rows[i]));
		if (n < PAGE)
			break;
		before = rows[n - 1].seq;
	}
	free(rows);
	return items;
}

int api_receipt_get(struct api *a, struct api_req *req, const struct caller *c,
                    const char *const *param)
{
	const char *id = param[0];
	struct store_receipt r;
	struct store_entity_row e = {0};
	if (strlen(id) >= sizeof(r.id))
		return api_fail(req, 404, "not_found", "no receipt %.64s", id);
	api_lock(a);
	int rc = store_receipt_get(a->s, c->company_seq, id, &r);
	if (rc) {
		api_unlock(a);
		if (rc == GERR_NOTFOUND)
			return api_fail(req, 404, "not_found", "no receipt %s", id);
		return api_fail(req, 503, "unavailable", "cannot read receipts");
	}
	bool entity = r.entity_type && r.entity_key;
	int erc = entity ? store_entity_get(a->s, c->company_seq, r.entity_type, r.entity_key, &e)
	                 : GERR_NOTFOUND;
	json_t *dl =
	    erc == 0 || erc == GERR_NOTFOUND ? deliveries_json(a, c->company_seq, r.seq) : NULL;
	api_unlock(a);
	if (!dl) {
		store_entity_free(&e);
		store_receipt_free(&r);
		return api_fail(req, 503, "unavailable", "cannot read receipts");
	}

	/* The fields jansson writes, then the stored JSON as it is. */
	json_t *o = receipt_json(a, c->company_seq, &r);
	char *head = json_dumps(o, JSON_COMPACT);
	char *dls = json_dumps(dl, JSON_COMPACT);
	json_decref(o);
	json_decref(dl);
	struct buf b;
	buf_init(&b);
	if (head && dls) {
		buf_append(&b, head, strlen(head) - 1); /* without its closing '}' */
		buf_puts(&b, ",\"entity\":");
		if (entity) {
			buf_puts(&b, "{\"type\":");
			buf_json_str(&b, r.entity_type, strlen(r.entity_type));
			buf_puts(&b, ",\"key\":");
			buf_json_str(&b, r.entity_key, strlen(r.entity_key));
			put_raw(&b, "kept", erc ? NULL : e.kept, erc ? 0 : strlen(e.kept), "null");
			buf_putc(&b, '}');
		} else {
			buf_puts(&b, "null");
		}
		put_raw(&b, "headers", r.headers, r.headers ? strlen(r.headers) : 0, "{}");
		put_raw(&b, "body", r.body, r.bodylen, "null");
		buf_puts(&b, ",\"deliveries\":");
		buf_puts(&b, dls);
		buf_putc(&b, '}');
	}
	free(head);
	free(dls);
	store_entity_free(&e);
	store_receipt_free(&r);
	if (b.oom || !b.len) {
		buf_free(&b);
		return api_fail(req, 503, "unavailable", "out of memory");
	}
	req->status = 200;
	buf_reset(&req->out);
	buf_append(&req->out, b.data, b.len);
	buf_free(&b);
	return API_DONE;
}

/* ---- replay ------------------------------------------------------------------------------ */

/* A replay on its way through the commit; answered when it is durable. */
struct replay {
	struct replay_job job;
	struct api_req *req;
	char id[40];
};

static void replay_answered(struct replay_job *job, int rc, const struct gerr *err)
{
	struct replay *rp = job->ctx;
	struct api_req *req = rp->req;
	if (rc) {
		api_fail(req, 503, "unavailable", "the replay was not stored: %.200s",
		         err ? err->msg : "");
	} else {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(rp->id));
		json_object_set_new(o, "deliveries", json_integer(job->ndeliveries));
		api_json(req, 202, o);
	}
	free(rp);
	req->complete(req);
}

int api_receipt_replay(struct api *a, struct api_req *req, const struct caller *c,
                       const char *const *param)
{
	const char *id = param[0];
	struct store_receipt r;
	if (strlen(id) >= sizeof(r.id))
		return api_fail(req, 404, "not_found", "no receipt %.64s", id);
	api_lock(a);
	int rc = store_receipt_get(a->s, c->company_seq, id, &r);
	api_unlock(a);
	if (rc == GERR_NOTFOUND)
		return api_fail(req, 404, "not_found", "no receipt %s", id);
	if (rc)
		return api_fail(req, 503, "unavailable", "cannot read receipts");
	int64_t seq = r.seq;
	int status = r.status;
	store_receipt_free(&r);
	if (status == RCP_WAITING)
		return api_fail(
		    req, 409, "conflict",
		    "receipt %s waits in its entity's reorder window: it is routed when it "
		    "is applied",
		    id);
	struct replay *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return api_fail(req, 503, "unavailable", "out of memory");
	rp->req = req;
	snprintf(rp->id, sizeof(rp->id), "%s", id);
	rp->job.receipt_seq = seq;
	rp->job.done = replay_answered;
	rp->job.ctx = rp;
	engine_submit_replay(a->eng, &rp->job);
	return API_PENDING;
}
