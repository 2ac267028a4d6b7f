/*
 * events: ingest (the hot path) and reading one event back.
 *
 *   POST /api/v1/events      {event, data, id?, date?, unit?}  → 202 {id, date}
 *   GET  /api/v1/events/{id}
 *
 * Ingest validates the body once with json_scan (strict JSON, no tree) and
 * keeps "data" as the exact bytes sent; the envelope is assembled around them
 * here, on the HTTP thread, so the committer only writes. The webhooks an
 * event goes to are chosen now, from the registry; a company's webhooks with
 * a filter or orderingKey read the envelope as text (envelope_match_doc),
 * never as a decoded tree, so any valid body is routed, whatever its numbers.
 * The only 503s are the store's (in ingest_done) and running out of memory.
 * The answer is written by the committer's callback after COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/envelope.h"
#include "core/filter.h"
#include "core/webhook.h"
#include "util/clock.h"
#include "util/json_scan.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"

#define MAX_ID 128

/* One ingest in flight: the job and the strings it points to. */
struct ingest {
	struct ingest_job job;
	struct api_req *req;
	char id[MAX_ID + 1];
	char event[MAX_ID + 1];
	char unit[257];
	char idem[256];
	int64_t seqs_inline[8];
	int64_t *seqs;
	char (*okeys_buf)[64];
	const char **okeys;
	uint8_t *held;
};

static void ingest_free(struct ingest *in)
{
	if (in->seqs != in->seqs_inline)
		free(in->seqs);
	free(in->okeys_buf);
	free(in->okeys);
	free(in->held);
	free(in->job.hooks);
	free(in);
}

static void ingest_done(struct ingest_job *job, int rc, const struct gerr *err)
{
	struct ingest *in = job->ctx;
	struct api_req *req = in->req;
	if (rc) {
		api_fail(req, 503, "unavailable", "the event was not stored: %s",
		         err ? err->msg : "");
	} else {
		const struct store_event_in *ev = &job->ev;
		char date[DATE_STR_LEN];
		envelope_format_date(ev->duplicate ? ev->dup_date_ms : ev->date_ms, date);
		const char *id = ev->duplicate ? ev->dup_id : ev->id;
		req->status = 202;
		buf_reset(&req->out);
		buf_puts(&req->out, "{\"id\":");
		buf_json_str(&req->out, id, strlen(id));
		buf_puts(&req->out, ",\"date\":\"");
		buf_puts(&req->out, date);
		buf_puts(&req->out, "\"}");
	}
	ingest_free(in);
	req->complete(req);
}

/* str_member: decode a string member into out; false with the 400 set. */
static bool str_member(struct api_req *req, const struct json_member *m, const char *name,
                       char *out, size_t outsz)
{
	if (m->type != JSON_T_STRING) {
		api_fail(req, 400, "invalid_field", "%s: must be a string", name);
		return false;
	}
	int n = json_string_decode(m->val, m->vallen, out, outsz);
	if (n <= 0) {
		api_fail(req, 400, "invalid_field",
		         "%s: must be a non-empty string of at most %zu bytes", name, outsz - 1);
		return false;
	}
	return true;
}

static bool id_valid(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* select_hooks: the subscribed webhooks that also pass their filter; fills
 * seqs, ordering keys and held flags. Filters and ordering keys read the
 * envelope as JSON text (envelope_match_doc), never a decoded tree, so every
 * valid body is routed. Returns the count, or -1 when out of memory. */
static int select_hooks(struct ingest *in, struct webhook **hooks, int n, const char *company,
                        const char *date, const struct json_member *data)
{
	bool parse = false;
	for (int i = 0; i < n; i++)
		parse |= hooks[i]->matcher || hooks[i]->ordering_key;
	struct buf doc;
	buf_init(&doc);
	if (parse)
		envelope_match_doc(&doc, company, in->id, in->event, date,
		                   in->unit[0] ? in->unit : NULL, data->val, data->vallen);
	in->seqs = n <= 8 ? in->seqs_inline : malloc((size_t)n * sizeof(int64_t));
	in->held = calloc((size_t)n + 1, 1);
	if (parse) {
		in->okeys = calloc((size_t)n + 1, sizeof(char *));
		in->okeys_buf = calloc((size_t)n + 1, 64);
	}
	if (doc.oom || !in->seqs || !in->held || (parse && (!in->okeys || !in->okeys_buf))) {
		buf_free(&doc);
		return -1;
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct webhook *w = hooks[i];
		if (w->matcher && !filter_eval(w->matcher, doc.data, doc.len)) {
			webhook_unref(w);
			continue;
		}
		if (parse && w->ordering_key &&
		    filter_key_string(doc.data, doc.len, w->ordering_key, in->okeys_buf[k], 64) >=
		        0)
			in->okeys[k] = in->okeys_buf[k];
		in->seqs[k] = w->seq;
		in->held[k] = __atomic_load_n(&w->status, __ATOMIC_ACQUIRE) != WH_ACTIVE;
		hooks[k++] = w;
	}
	buf_free(&doc);
	return k;
}

static int ingest(struct api *a, struct api_req *req, const struct caller *c)
{
	struct json_member m[16];
	int nm = 0;
	struct gerr err = {0};
	if (json_scan_object(req->body, req->body_len, m, 16, &nm, &err)) {
		api_error(req, &err);
		return API_DONE;
	}
	struct ingest *in = calloc(1, sizeof(*in));
	if (!in)
		return api_fail(req, 503, "unavailable", "out of memory");
	in->req = req;
	const struct json_member *data = NULL, *date = NULL;
	bool has_event = false;
	for (int i = 0; i < nm; i++) {
		const struct json_member *x = &m[i];
#define KEY(s) (x->keylen == sizeof(s) - 1 && memcmp(x->key, s, sizeof(s) - 1) == 0)
		if (KEY("event")) {
			if (!str_member(req, x, "event", in->event, sizeof(in->event)))
				goto fail;
			has_event = true;
		} else if (KEY("data")) {
			data = x;
		} else if (KEY("id")) {
			if (!str_member(req, x, "id", in->id, sizeof(in->id)))
				goto fail;
			if (!id_valid(in->id)) {
				api_fail(req, 400, "invalid_field",
				         "id: no spaces or control characters");
				goto fail;
			}
		} else if (KEY("date")) {
			date = x;
		} else if (KEY("unit")) {
			if (x->type != JSON_T_NULL &&
			    !str_member(req, x, "unit", in->unit, sizeof(in->unit)))
				goto fail;
		} else if (KEY("companyName")) {
			/* A Gupy-shaped envelope posted as is: the company comes from the token. */
		} else {
			api_fail(req, 400, "invalid_field",
			         "%.*s: unknown field (expected event, data, id, date, unit)",
			         (int)(x->keylen > 64 ? 64 : x->keylen), x->key);
			goto fail;
		}
#undef KEY
	}
	if (!has_event) {
		api_fail(req, 400, "missing_field", "event: required");
		goto fail;
	}
	if (!data) {
		api_fail(req, 400, "missing_field", "data: required");
		goto fail;
	}
	if (!webhook_event_name_valid(in->event)) {
		api_fail(req, 400, "invalid_field", "event: 1-128 characters of [A-Za-z0-9._:-]");
		goto fail;
	}
	if (!registry_event_allowed(a->reg, c->company_seq, in->event)) {
		api_fail(req, 422, "unknown_event",
		         "event \"%s\" is not a known event; declare it with PATCH /api/v1/company"
		         " {\"eventTypes\": [...]}",
		         in->event);
		goto fail;
	}
	int64_t date_ms = clock_now_ms();
	if (date) {
		char ds[64];
		if (date->type != JSON_T_STRING ||
		    json_string_decode(date->val, date->vallen, ds, sizeof(ds)) <= 0 ||
		    envelope_parse_date(ds, strlen(ds), &date_ms)) {
			api_fail(req, 400, "invalid_field",
			         "date: must be an ISO-8601 date-time string");
			goto fail;
		}
	}
	const char *idem = req->header(req->conn, "Idempotency-Key");
	if (idem) {
		size_t n = strlen(idem);
		if (n == 0 || n >= sizeof(in->idem)) {
			api_fail(req, 400, "invalid_field", "Idempotency-Key: 1-255 characters");
			goto fail;
		}
		if (!utf8_valid(idem, n)) { /* it is stored as text */
			api_fail(req, 400, "invalid_field", "Idempotency-Key: must be UTF-8");
			goto fail;
		}
		memcpy(in->idem, idem, n + 1);
	}
	if (!in->id[0])
		uuid_v4(in->id);

	char company[256] = "", ds[DATE_STR_LEN];
	registry_company_name(a->reg, c->company_seq, company, sizeof(company));
	envelope_format_date(date_ms, ds);

	/* Every webhook that takes the event, however many: registry_match
	 * tells how many there are, so a wide fan-out asks again with room. */
	struct webhook *hooks[64];
	struct webhook **hv = hooks;
	const char *unit = in->unit[0] ? in->unit : NULL;
	int cap = 64;
	int n = registry_match(a->reg, c->company_seq, in->event, unit, hv, cap);
	while (n > cap) {
		for (int i = 0; i < cap; i++)
			webhook_unref(hv[i]);
		if (hv != hooks)
			free(hv);
		cap = n + 16;
		hv = malloc((size_t)cap * sizeof(*hv));
		if (!hv) {
			api_fail(req, 503, "unavailable", "out of memory");
			goto fail;
		}
		n = registry_match(a->reg, c->company_seq, in->event, unit, hv, cap);
	}
	int k = select_hooks(in, hv, n, company, ds, data);
	if (k >= 0)
		in->job.hooks = malloc(((size_t)k + 1) * sizeof(struct webhook *));
	if (k < 0 || !in->job.hooks) {
		for (int i = 0; i < (k < 0 ? n : k); i++)
			webhook_unref(hv[i]);
		if (hv != hooks)
			free(hv);
		api_fail(req, 503, "unavailable", "out of memory");
		goto fail;
	}
	memcpy(in->job.hooks, hv, (size_t)k * sizeof(*hv));
	in->job.nhooks = k;
	if (hv != hooks)
		free(hv);

	struct buf env;
	buf_init(&env);
	if (k)
		envelope_build(&env, company, in->id, in->event, ds, data->val, data->vallen);
	if (env.oom) {
		buf_free(&env);
		for (int i = 0; i < k; i++)
			webhook_unref(in->job.hooks[i]);
		api_fail(req, 503, "unavailable", "out of memory");
		goto fail;
	}

	struct store_event_in *ev = &in->job.ev;
	ev->company_seq = c->company_seq;
	ev->id = in->id;
	ev->idem_key = in->idem[0] ? in->idem : NULL;
	ev->event = in->event;
	ev->date_ms = date_ms;
	ev->unit = in->unit[0] ? in->unit : NULL;
	ev->data = data->val;
	ev->datalen = data->vallen;
	ev->nwebhooks = k;
	ev->webhook_seqs = in->seqs;
	ev->okeys = in->okeys;
	ev->held = in->held;
	in->job.envelope = k ? buf_steal(&env, &in->job.envelope_len) : NULL;
	buf_free(&env);
	in->job.done = ingest_done;
	in->job.ctx = in;
	engine_submit(a->eng, &in->job);
	return API_PENDING;
fail:
	ingest_free(in);
	return API_DONE;
}

static int get_one(struct api *a, struct api_req *req, const struct caller *c, const char *id)
{
	struct store_event ev;
	api_lock(a);
	int rc = store_event_get(a->s, c->company_seq, id, &ev);
	api_unlock(a);
	if (rc)
		return rc == GERR_NOTFOUND
		           ? api_fail(req, 404, "not_found", "no event %s", id)
		           : api_fail(req, 503, "unavailable", "cannot read events");
	char date[DATE_STR_LEN];
	envelope_format_date(ev.date_ms, date);
	/* data goes out as stored: byte for byte, not re-serialised */
	req->status = 200;
	buf_reset(&req->out);
	buf_puts(&req->out, "{\"id\":");
	buf_json_str(&req->out, ev.id, strlen(ev.id));
	buf_puts(&req->out, ",\"event\":");
	buf_json_str(&req->out, ev.event, strlen(ev.event));
	buf_printf(&req->out, ",\"date\":\"%s\",\"unit\":", date);
	if (ev.unit)
		buf_json_str(&req->out, ev.unit, strlen(ev.unit));
	else
		buf_puts(&req->out, "null");
	buf_puts(&req->out, ",\"data\":");
	buf_append(&req->out, ev.data, ev.datalen);
	buf_putc(&req->out, '}');
	store_event_free(&ev);
	return API_DONE;
}

int api_event_ingest(struct api *a, struct api_req *req, const struct caller *c,
                     const char *const *param)
{
	(void)param;
	return ingest(a, req, c);
}

int api_event_get(struct api *a, struct api_req *req, const struct caller *c,
                  const char *const *param)
{
	return get_one(a, req, c, param[0]);
}
