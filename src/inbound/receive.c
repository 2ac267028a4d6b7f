/*
 * receive: the receiving endpoint, step by step as receive.h lists them.
 *
 * refuse() answers a refusal and hands it to the source's rejections list;
 * headers_json() keeps what may be kept of the request's headers; struct
 * pending is one accepted request from its submission to its answer (it
 * owns the fields its receipt job points at).
 */
#include "inbound/receive.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/netaddr.h"
#include "core/receipt.h"
#include "core/source.h"
#include "core/verifier.h"
#include "deliver/engine.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"

/* The rejections budget: a token bucket over all sources. */
static _Atomic int64_t bucket_second;
static atomic_int bucket_used;

static bool rejection_allowed(void)
{
	int64_t sec = clock_now_ms() / 1000;
	int64_t was = atomic_load(&bucket_second);
	if (was != sec && atomic_compare_exchange_strong(&bucket_second, &was, sec))
		atomic_store(&bucket_used, 0);
	return atomic_fetch_add(&bucket_used, 1) < REJECTIONS_PER_SECOND;
}

/* record_refusal: log a refusal and hand it to src's rejections list. */
static void record_refusal(struct engine *eng, const struct source *src, const char *address,
                           int status, const char *code, const char *msg)
{
	log_info("receipt_refused", "source=%s address=%s status=%d code=%s", src->id, address,
	         status, code);
	if (rejection_allowed()) {
		char reason[320];
		int n = snprintf(reason, sizeof(reason), "%d %s: %s", status, code, msg);
		(void)n; /* cut to fit the list's 255 bytes by the store */
		engine_submit_rejection(eng, src->seq, address, reason);
	}
}

/* refuse: answer status/code/message and record the refusal for src. */
static int refuse(struct engine *eng, const struct source *src, const char *address,
                  struct api_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int refuse(struct engine *eng, const struct source *src, const char *address,
                  struct api_req *req, int status, const char *code, const char *fmt, ...)
{
	struct gerr err = {.status = status};
	snprintf(err.code, sizeof(err.code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	api_error(req, &err);
	record_refusal(eng, src, address, status, code, err.msg);
	return API_DONE;
}

/* never_kept: headers that carry a credential whatever the verification,
 * and X-Gancho-Origin, which only gancho's own synthetic receipts carry
 * (a reconciliation's, src/reconcile/): a sender cannot pass a request off
 * as one to a route filter on headers.x-gancho-origin. */
static bool never_kept(const struct source *src, const char *name)
{
	return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "X-Gancho-Origin") == 0 ||
	       strcasecmp(name, "Proxy-Authorization") == 0 || strcasecmp(name, "Cookie") == 0 ||
	       verifier_is_credential(src->verifier, name);
}

/* headers_json: {"lower-case name": "value", ...} of the request, without
 * credentials; a repeated header's values joined with ", " (RFC 9110). */
static char *headers_json(const struct source *src, const struct api_req *req)
{
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	bool first = true;
	for (int i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;
		if (never_kept(src, name))
			continue;
		bool earlier = false;
		for (int k = 0; k < i && !earlier; k++)
			earlier = strcasecmp(req->headers[k].name, name) == 0;
		if (earlier)
			continue;
		struct buf v;
		buf_init(&v);
		for (int k = i; k < req->nheaders; k++) {
			if (strcasecmp(req->headers[k].name, name) != 0)
				continue;
			if (v.len)
				buf_puts(&v, ", ");
			buf_puts(&v, req->headers[k].value);
		}
		/* the whole name, lower-cased: names cut to a fixed size would
		 * make two long ones the same key */
		struct buf lower;
		buf_init(&lower);
		for (const char *c = name; *c; c++)
			buf_putc(&lower, (char)tolower((unsigned char)*c));
		if (!first)
			buf_putc(&b, ',');
		first = false;
		buf_json_str(&b, lower.data ? lower.data : "", lower.len);
		buf_putc(&b, ':');
		buf_json_str(&b, v.data ? v.data : "", v.len);
		b.oom |= lower.oom || v.oom;
		buf_free(&lower);
		buf_free(&v);
	}
	buf_putc(&b, '}');
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	buf_putc(&b, '\0');
	return b.data;
}

/* One accepted request, from submission to answer. */
struct pending {
	struct receipt_job job;
	struct api_req *req;
	struct source *src;
	struct receipt_fields f;
	char id[UUID_STR_LEN];
	char address[NETADDR_STRLEN];
	char *headers;
};

static void pending_free(struct pending *p)
{
	receipt_fields_free(&p->f);
	free(p->headers);
	source_unref(p->src);
	free(p);
}

static void receipt_answered(struct receipt_job *job, int rc, const struct gerr *err)
{
	struct pending *p = job->ctx;
	struct api_req *req = p->req;
	if (rc) {
		struct gerr e = {.status = 503};
		snprintf(e.code, sizeof(e.code), "unavailable");
		snprintf(e.msg, sizeof(e.msg), "the request was not stored: %.200s",
		         err ? err->msg : "");
		api_error(req, &e);
	} else {
		const char *id = job->r.duplicate ? job->r.dup_id : job->r.id;
		req->status = 200;
		buf_reset(&req->out);
		buf_puts(&req->out, "{\"id\":");
		buf_json_str(&req->out, id, strlen(id));
		if (job->r.duplicate)
			buf_puts(&req->out, ",\"duplicate\":true");
		buf_putc(&req->out, '}');
	}
	pending_free(p);
	req->complete(req);
}

/* client_address: the request's client (receive.h): the socket's peer, or
 * what X-Forwarded-For says when the peer is a trusted proxy. address gets
 * its text (the peer's when the header cannot be read). 0, or an error for
 * the refusal (400). */
static int client_address(const struct netaddr_list *trusted, const struct api_req *req,
                          struct netaddr *client, char address[NETADDR_STRLEN], struct gerr *err)
{
	struct netaddr peer;
	snprintf(address, NETADDR_STRLEN, "?");
	if (!req->peer || netaddr_from_sockaddr(req->peer, &peer))
		return gerr_set(err, GERR_INVALID, 400, "bad_request",
		                "the client address is unknown");
	/* Every X-Forwarded-For line counts: a proxy may add its own line
	 * after those the client wrote, so lines past the first few are never
	 * dropped (the client's would then be read as the proxy's). */
	const char *xff[NETADDR_XFF_MAX];
	size_t nxff = 0, lines = 0;
	for (int i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, "X-Forwarded-For") == 0 &&
		    lines++ < NETADDR_XFF_MAX)
			xff[nxff++] = req->headers[i].value;
	netaddr_format(&peer, address);
	if (lines > NETADDR_XFF_MAX && trusted && netaddr_list_contains(trusted, &peer))
		return gerr_set(err, GERR_INVALID, 400, "invalid_forwarded_for",
		                "more than %d X-Forwarded-For header lines", NETADDR_XFF_MAX);
	if (netaddr_client(&peer, xff, nxff, trusted, client, err))
		return GERR_INVALID;
	netaddr_format(client, address);
	return 0;
}

void inbound_refused(struct registry *reg, struct engine *eng, const struct netaddr_list *trusted,
                     const struct api_req *req, const char *id, int status, const char *code,
                     const char *msg)
{
	struct source *src = registry_source_get(reg, id);
	if (!src)
		return;
	char address[NETADDR_STRLEN];
	struct netaddr client;
	struct gerr err = {0};
	client_address(trusted, req, &client, address, &err);
	record_refusal(eng, src, address, status, code, msg);
	source_unref(src);
}

int inbound_receive(struct registry *reg, struct engine *eng, const struct netaddr_list *trusted,
                    struct api_req *req, const char *id)
{
	struct source *src = registry_source_get(reg, id);
	if (!src) {
		struct gerr e = {.status = 404};
		snprintf(e.code, sizeof(e.code), "not_found");
		snprintf(e.msg, sizeof(e.msg), "no source %.*s", (int)utf8_cut(id, strlen(id), 64),
		         id);
		api_error(req, &e);
		return API_DONE;
	}
	int out = API_DONE;
	char address[NETADDR_STRLEN] = "";
	struct netaddr client;
	struct gerr err = {0};
	if (client_address(trusted, req, &client, address, &err)) {
		out = refuse(eng, src, address, req, err.status, err.code, "%s", err.msg);
		goto done;
	}
	netaddr_format(&client, address);
	if (src->allow && !netaddr_list_contains(src->allow, &client)) {
		out = refuse(eng, src, address, req, 403, "forbidden",
		             "address %s is not allowed to send to this source", address);
		goto done;
	}
	if (req->body_len > src->max_body) {
		out = refuse(eng, src, address, req, 413, "payload_too_large",
		             "the body is %zu bytes, over this source's %zu byte limit",
		             req->body_len, src->max_body);
		goto done;
	}
	struct verifier_result vr;
	if (!verifier_check(src->verifier, (const struct verifier_header *)req->headers,
	                    (size_t)req->nheaders, req->body, req->body_len, clock_now_ms() / 1000,
	                    &vr)) {
		out = refuse(eng, src, address, req, 401, vr.code, "%s", vr.reason);
		goto done;
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (!p) {
		struct gerr e = {.status = 503};
		snprintf(e.code, sizeof(e.code), "unavailable");
		snprintf(e.msg, sizeof(e.msg), "out of memory");
		api_error(req, &e);
		goto done;
	}
	const char *names[SOURCE_KEEP_MAX], *paths[SOURCE_KEEP_MAX];
	for (int i = 0; i < src->nkeep && i < SOURCE_KEEP_MAX; i++) {
		names[i] = src->keep[i].name;
		paths[i] = src->keep[i].path;
	}
	struct receipt_spec spec = {
	    .id_path = src->id_path,
	    .event_path = src->event_path,
	    .date_path = src->date_path,
	    .entity_key_path = src->entity_type ? src->entity_key : NULL,
	    .nkeep = src->entity_type ? src->nkeep : 0,
	    .keep_names = names,
	    .keep_paths = paths,
	};
	if (receipt_read(req->body, req->body_len, &spec, vr.msg_id[0] ? vr.msg_id : NULL, &p->f,
	                 &err)) {
		pending_free(p);
		if (err.status == 400)
			out = refuse(eng, src, address, req, 400, err.code, "%s", err.msg);
		else
			api_error(req, &err);
		goto done;
	}
	p->headers = headers_json(src, req);
	if (!p->headers) {
		pending_free(p);
		struct gerr e = {.status = 503};
		snprintf(e.code, sizeof(e.code), "unavailable");
		snprintf(e.msg, sizeof(e.msg), "out of memory");
		api_error(req, &e);
		goto done;
	}
	/* time-ordered: the receipts' id index grows at its right edge */
	uuid_v7(p->id);
	snprintf(p->address, sizeof(p->address), "%s", address);
	p->req = req;
	p->src = src;
	src = NULL; /* the pending request holds the reference now */
	bool ordered = p->f.has_entity && p->src->entity_type;
	p->job.r = (struct store_receipt_in){
	    .company_seq = p->src->company_seq,
	    .source_seq = p->src->seq,
	    .id = p->id,
	    .msg_id = p->f.msg_id,
	    .event = p->f.event,
	    .date = p->f.date,
	    .date_us = p->f.when.us,
	    .date_ns = p->f.when.ns,
	    .entity_type = ordered ? p->src->entity_type : NULL,
	    .entity_key = ordered ? p->f.entity_key : NULL,
	    .kept = p->f.kept.data,
	    .keptlen = p->f.kept.len,
	    .body = req->body,
	    .bodylen = req->body_len,
	    .headers = p->headers,
	    .verification = verifier_kind(p->src->verifier),
	    .address = p->address,
	    .apply_at = ordered && p->src->reorder_window_s > 0
	                    ? clock_now_ms() + (int64_t)p->src->reorder_window_s * 1000
	                    : 0,
	};
	p->job.done = receipt_answered;
	p->job.ctx = p;
	engine_submit_receipt(eng, &p->job);
	out = API_PENDING;
done:
	source_unref(src);
	return out;
}
