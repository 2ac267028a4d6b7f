/*
 * transfer: one request of one delivery, on a libcurl easy handle of the
 * dispatcher's multi handle (easy handles are reused through a free list).
 *
 * transfer_start is the scheduler's start hook: it loads the body unless it
 * came in memory (bodies.c), builds the headers (the webhook's own, then its
 * auth: a fixed header, or a signature computed over these very body bytes
 * for this attempt), and adds the handle. transfer_finish reads what came back and decides what it
 * means for the delivery (delivered, failed for good, or pending with its next time from the
 * webhook's policy), records the outcome, and hands the task back to the scheduler.
 *
 * Crash guard: wherever data of one delivery or its receiver is handled
 * (start, finish, the libcurl callbacks of its transfer) crashguard is told
 * which delivery it is, so a crash there sets that delivery aside at the next
 * start instead of crashing every start (crashguard.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/policy.h"
#include "core/sign.h"
#include "core/urlcheck.h"
#include "deliver/crashguard.h"
#include "deliver/dispatcher_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define RESPONSE_EXCERPT 1024
#define RETRY_AFTER_MAX  64 /* longer Retry-After values are not valid anyway */

struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	struct task *task;
	char resp[RESPONSE_EXCERPT];
	size_t resp_len;
	int64_t started_us;
	bool blocked_addr;
	/* the last answer's Retry-After, as sent (cut values fail to parse) */
	char retry_after[RETRY_AFTER_MAX + 2];
	struct xfer *next; /* free list */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	int64_t guard = crashguard_enter(x->task->seq);
	size_t n = size * nmemb;
	size_t room = sizeof(x->resp) - x->resp_len;
	size_t k = n < room ? n : room;
	memcpy(x->resp + x->resp_len, ptr, k);
	x->resp_len += k;
	crashguard_leave(guard);
	return n;
}

/* on_header: keep the Retry-After of the final answer. libcurl's
 * CURLINFO_RETRY_AFTER is not used: it hands back whatever number the
 * receiver sent, and its date arithmetic is its own; gancho parses the
 * header itself, with bounds (policy_retry_after_ms). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	int64_t guard = crashguard_enter(x->task->seq);
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		x->retry_after[0] = '\0'; /* a new answer (after a 1xx) */
	} else if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *v = ptr + sizeof(name) - 1;
		size_t k = n - (sizeof(name) - 1);
		while (k && (v[k - 1] == '\r' || v[k - 1] == '\n'))
			k--;
		if (k > RETRY_AFTER_MAX + 1)
			k = RETRY_AFTER_MAX + 1; /* too long: left unparseable on purpose */
		memcpy(x->retry_after, v, k);
		x->retry_after[k] = '\0';
	}
	crashguard_leave(guard);
	return n;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = clientp;
	(void)purpose;
	/* The SSRF rule holds for what DNS answers too, not just for literal hosts. */
	if (!urlcheck_addr_allowed(&addr->addr)) {
		x->blocked_addr = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* add_auth: the target's auth, for this attempt: a fixed header, or a
 * signature over these very body bytes (p). */
static struct curl_slist *add_auth(struct curl_slist *h, const struct webhook *w,
                                   const struct payload *p, int64_t now_ms)
{
	char line[512];
	switch (w->auth_kind) {
	case AUTH_BASIC:
	case AUTH_APIKEY: h = curl_slist_append(h, w->auth_header); break;
	case AUTH_SECRET: {
		char sig[SIGN_B64_LEN];
		if (sign_acesso_keyed(w->secret_key, p->body, p->len, sig) == 0) {
			snprintf(line, sizeof(line), "Acesso-Signature: %s", sig);
			h = curl_slist_append(h, line);
		}
		break;
	}
	case AUTH_STANDARD: {
		int64_t ts = now_ms / 1000;
		snprintf(line, sizeof(line), "webhook-id: %s", p->event_id);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)ts);
		h = curl_slist_append(h, line);
		int n = snprintf(line, sizeof(line), "webhook-signature:");
		for (int i = 0; i < w->nkeys; i++) {
			char sig[SIGN_STANDARD_LEN];
			if (!webhook_key_signs(w, i, now_ms) ||
			    sign_standard(w->keys[i], w->keylens[i], p->event_id, ts, p->body,
			                  p->len, sig))
				continue;
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", sig);
		}
		h = curl_slist_append(h, line);
		break;
	}
	}
	return h;
}

/* add_defaults: what libcurl would add on its own, or must not. */
static struct curl_slist *add_defaults(struct curl_slist *h, bool has_type, bool has_accept)
{
	/* libcurl must not add a form Content-Type of its own. */
	if (!has_type)
		h = curl_slist_append(h, "Content-Type:");
	h = curl_slist_append(h, "User-Agent: gancho/" GANCHO_VERSION);
	if (!has_accept)
		h = curl_slist_append(h, "Accept:");
	return curl_slist_append(h, "Expect:");
}

static struct curl_slist *build_headers(const struct webhook *w, const struct payload *p,
                                        int64_t now_ms)
{
	struct curl_slist *h = NULL;
	bool has_ct = false;
	if (w->client_headers) {
		for (int i = 0; i < w->nheaders; i++) {
			h = curl_slist_append(h, w->headers[i]);
			has_ct |= strncasecmp(w->headers[i], "content-type:", 13) == 0;
		}
		/* Gupy: clientHeaders replace the default. */
	} else {
		h = curl_slist_append(h, "Content-Type: application/json;charset=utf-8");
		has_ct = true;
	}
	h = add_defaults(h, has_ct, false);
	return add_auth(h, w, p, now_ms);
}

static struct xfer *xfer_get(struct dispatcher *d)
{
	struct xfer *x = d->free_xfers;
	if (x) {
		d->free_xfers = x->next;
		curl_easy_reset(x->easy);
	} else {
		x = calloc(1, sizeof(*x));
		if (!x || !(x->easy = curl_easy_init()))
			abort();
	}
	x->resp_len = 0;
	x->blocked_addr = false;
	x->retry_after[0] = '\0';
	x->next = NULL;
	return x;
}

/* set_envelope: a webhook's request: POST the envelope to its URL. */
static void set_envelope(struct xfer *x, const struct webhook *w, const struct payload *p,
                         int64_t now)
{
	CURL *c = x->easy;
	x->hdrs = build_headers(w, p, now);
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
}

/* set_stored_request: the stored request p as it is (p->req: its method,
 * URL and own headers), with the target's auth. */
static void set_stored_request(struct xfer *x, const struct webhook *w, const struct payload *p,
                               int64_t now)
{
	CURL *c = x->easy;
	const struct request_form *f = p->req;
	struct curl_slist *h = NULL;
	for (int i = 0; i < f->nlines; i++)
		h = curl_slist_append(h, f->lines[i]);
	x->hdrs = add_auth(add_defaults(h, f->has_type, f->has_accept), w, p, now);
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	if (strcmp(f->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L); /* never with a body (bodies.c) */
	} else if (strcmp(f->method, "GET") == 0 && p->len == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
		if (strcmp(f->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, f->method);
	}
}

/* refuse: t cannot be sent and never will be: it fails now, with an attempt
 * that says why. */
static void refuse(struct dispatcher *d, struct task *t, const char *why, int64_t now)
{
	log_warn("delivery_refused", "webhook=%s delivery=%lld reason=\"%s\"", t->ws->w->id,
	         (long long)t->seq, why);
	if (!t->first_attempt_at)
		t->first_attempt_at = now;
	t->attempts++;
	struct outcome_item *o = dispatcher_out_new(d, t, DLV_FAILED);
	o->o.at = now;
	snprintf(o->error, sizeof(o->error), "%s", why);
	sched_task_free(&d->s, t, now);
}

void transfer_start(void *ctx, struct task *t, int64_t now)
{
	struct dispatcher *d = ctx;
	struct wstate *ws = t->ws;
	struct webhook *w = ws->w;
	int64_t guard = crashguard_enter(t->seq);
	if (t->request_seq && !(t->payload && t->payload->req)) {
		/* Its own request, as stored (a new one came with its form from
		 * the committer): the same bytes each time. */
		char why[256];
		payload_unref(t->payload);
		if (!(t->payload =
		          body_request_load(d, t->request_seq, t->seq, why, sizeof(why)))) {
			refuse(d, t, why, now);
			crashguard_leave(guard);
			return;
		}
	}
	if (!t->payload)
		t->payload = body_load(d, t->event_seq);
	if (!t->payload) {
		log_error("event_missing", "webhook=%s delivery=%lld event_seq=%lld", w->id,
		          (long long)t->seq, (long long)t->event_seq);
		struct outcome_item *o = dispatcher_out_new(d, t, DLV_FAILED);
		snprintf(o->error, sizeof(o->error), "event body could not be loaded");
		sched_task_free(&d->s, t, now);
		crashguard_leave(guard);
		return;
	}
	struct xfer *x = xfer_get(d);
	x->task = t;
	CURL *c = x->easy;
	if (t->request_seq)
		set_stored_request(x, w, t->payload, now);
	else
		set_envelope(x, w, t->payload, now);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(w->timeout_ms < 10000 ? w->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	/* Never a proxy from the environment (http_proxy, HTTPS_PROXY, ALL_PROXY):
	 * the SSRF check at connect time must see the receiver, not a proxy. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	if (!d->e->cfg.allow_private) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
	}
	sched_flight_begin(&d->s, t, now);
	t->xfer = x;
	x->started_us = clock_mono_us();
	CURLMcode mc = curl_multi_add_handle(d->e->multi, c);
	if (mc != CURLM_OK)
		transfer_finish(d, x, CURLE_FAILED_INIT, now);
	crashguard_leave(guard);
}

/* classify: what an ended attempt means for the delivery: DLV_DELIVERED,
 * DLV_FAILED, DLV_PENDING (t->next_at set) or DLV_HELD; -1 when its webhook
 * is gone. The webhook's answer rules (webhook_verdict) say which answers
 * are delivered, failed for good or retried. error gets the reason a person
 * reads (from the answer's body resp[0..resp_len), already bounded, when
 * the rules read one). */
static int classify(struct dispatcher *d, struct task *t, CURLcode res, long code,
                    bool blocked_addr, int64_t retry_after_ms, const char *resp, size_t resp_len,
                    int64_t now, char *error, size_t errsz)
{
	struct wstate *ws = t->ws;
	const struct webhook *w = ws->w;
	int verdict = webhook_verdict(w, res == CURLE_OK, (int)code);
	bool ok = verdict == VERDICT_DELIVERED;
	if (res == CURLE_OPERATION_TIMEDOUT)
		snprintf(error, errsz, "timeout after %d ms", w->timeout_ms);
	else if (blocked_addr)
		snprintf(error, errsz, "target address not allowed (private or loopback)");
	else if (res != CURLE_OK)
		snprintf(error, errsz, "%s", curl_easy_strerror(res));
	else if (!ok && !webhook_answer_error(w, (int)code, resp, resp_len, error, errsz))
		snprintf(error, errsz, "HTTP %ld", code);

	if (ws->deleted)
		return -1;
	if (ok) {
		dispatcher_note(d, ws, true, false, now);
		return DLV_DELIVERED;
	}
	/* Under an API's answer rules, 410 is about one request's resource, not
	 * the receiver; and an answer that fails one request for good (a 404 for
	 * an unknown application) shows the API up, so it starts no failure
	 * streak, unless it refuses the credentials themselves. */
	bool gone = code == 410 && w->answers == ANSWERS_DEFAULT;
	if (w->answers == ANSWERS_DEFAULT || verdict != VERDICT_PERMANENT || code == 401 ||
	    code == 403)
		dispatcher_note(d, ws, false, gone, now);
	if (gone) {
		/* Standard Webhooks' advice: the receiver is gone; stop at once
		 * (the store records it with the next batch). */
		registry_webhook_set_status(d->e->reg, ws->seq, WH_INACTIVE);
		log_warn("webhook_gone", "webhook=%s status=410", ws->w->id);
	}
	int status;
	if (verdict == VERDICT_PERMANENT) {
		status = DLV_FAILED;
	} else {
		int64_t next = policy_next_attempt(&ws->w->policy, t->attempts, t->first_attempt_at,
		                                   now, retry_after_ms, &d->rng);
		if (next < 0) {
			status = DLV_FAILED;
			if (t->attempts >= POLICY_MAX_ATTEMPTS)
				snprintf(error + strlen(error), errsz - strlen(error),
				         "; gave up after %d attempts (the most per delivery)",
				         t->attempts);
		} else if (next < now) {
			/* Cannot happen with a valid policy; if it ever does, it is
			 * this delivery's error, not the process's. */
			status = DLV_FAILED;
			snprintf(error + strlen(error), errsz - strlen(error),
			         "; no valid time for the next attempt");
		} else {
			status = DLV_PENDING;
			t->next_at = next;
		}
	}
	if (status == DLV_PENDING && !sched_ws_active(ws))
		status = DLV_HELD;
	return status;
}

void transfer_finish(struct dispatcher *d, struct xfer *x, CURLcode res, int64_t now)
{
	struct task *t = x->task;
	struct wstate *ws = t->ws;
	CURL *c = x->easy;
	long code = 0;
	int64_t retry_after_ms = -1;
	int64_t guard = crashguard_enter(t->seq);
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 0 ||
	    code > 999)
		code = 0; /* libcurl reads three digits; anything else is no answer */
	if (d->fault_status && code == d->fault_status)
		abort(); /* test hook (GANCHO_FAULT_CRASH_STATUS): a crash on this outcome */
	if (code == 429 || code == 503)
		retry_after_ms = policy_retry_after_ms(x->retry_after, now);
	curl_multi_remove_handle(d->e->multi, c);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	int64_t elapsed_us = clock_mono_us() - x->started_us;
	int latency = elapsed_us <= 0               ? 0
	              : elapsed_us / 1000 > INT_MAX ? INT_MAX
	                                            : (int)(elapsed_us / 1000);
	sched_flight_end(&d->s, t);

	char error[256] = "";
	int status = classify(d, t, res, code, x->blocked_addr, retry_after_ms, x->resp,
	                      x->resp_len, now, error, sizeof(error));
	if (status >= 0) {
		struct outcome_item *o = dispatcher_out_new(d, t, status);
		o->o.at = now;
		o->o.http_status = (int)code;
		o->o.latency_ms = latency;
		snprintf(o->error, sizeof(o->error), "%s", error);
		if (x->resp_len) {
			o->response = malloc(x->resp_len);
			if (o->response) {
				memcpy(o->response, x->resp, x->resp_len);
				o->o.response_len = x->resp_len;
			}
		}
		if (status == DLV_DELIVERED)
			log_info("delivered",
			         "webhook=%s delivery=%lld status=%ld ms=%d attempt=%d", ws->w->id,
			         (long long)t->seq, code, latency, t->attempts);
		else
			log_info("attempt_failed",
			         "webhook=%s delivery=%lld status=%ld ms=%d attempt=%d "
			         "error=\"%s\" next=%s",
			         ws->w->id, (long long)t->seq, code, latency, t->attempts, error,
			         delivery_status_name(status));
	}
	x->next = d->free_xfers;
	d->free_xfers = x;

	if (status == DLV_PENDING)
		sched_retry(&d->s, t, now);
	else
		sched_task_free(&d->s, t, now);
	if (code == 410 && ws->w->answers == ANSWERS_DEFAULT)
		sched_hold_all(&d->s, ws, now);
	crashguard_leave(guard);
}

void transfer_abandon(struct dispatcher *d, struct task *t)
{
	if (!t->xfer)
		return;
	curl_multi_remove_handle(d->e->multi, t->xfer->easy);
	curl_slist_free_all(t->xfer->hdrs);
	curl_easy_cleanup(t->xfer->easy);
	free(t->xfer);
	t->xfer = NULL;
}

void transfer_free_all(struct dispatcher *d)
{
	for (struct xfer *x = d->free_xfers, *next; x; x = next) {
		next = x->next;
		curl_easy_cleanup(x->easy);
		free(x);
	}
	d->free_xfers = NULL;
}
