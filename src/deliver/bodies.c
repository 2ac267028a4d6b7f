/*
 * bodies: what a delivery sends, which is a property of the delivery.
 *
 * Most send their event's envelope, built once per event from the stored
 * event and shared (reference-counted) by the event's deliveries. New
 * deliveries arrive from the committer with the envelope it already built;
 * one read back from the store, or waiting for a retry (which drops its
 * body), is rebuilt here. The last one built is kept, since a fan-out reads
 * the same event for many deliveries in a row.
 *
 * A delivery with a stored request (an inbound action's rendered request,
 * task->request_seq) sends that request's method, URL, headers and body
 * bytes instead, so every retry sends the same bytes. Stored requests are
 * written by code, not typed by a person, and are checked before they are
 * sent with the rules a webhook's config gets from the API (URL: urlcheck;
 * headers: those of clientHeaders); one that fails them cannot become right
 * by waiting, so its delivery fails for good. The checked form
 * (request_form: the headers as libcurl lines) rides on the payload with
 * the body. A new action's delivery gets it in memory from the committer,
 * made from the rendered request in the commit that stored it, like an
 * event's envelope (receipts.c, round.c), through a cache of the forms it
 * made last (form_cache: an action renders the same method, URL and headers
 * for every receipt unless a template says otherwise; a form is shared by
 * reference), and held under the same bounds
 * (the window; dropped while waiting for a retry): its first attempt reads
 * nothing. A retry, or a delivery read back from the store (refill,
 * recovery, another node's), loads the stored request here and checks it
 * again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/envelope.h"
#include "core/headers.h"
#include "core/urlcheck.h"
#include "deliver/dispatcher_internal.h"

struct payload *body_load(struct dispatcher *d, int64_t event_seq)
{
	if (d->last_payload && d->last_payload->event_seq == event_seq) {
		__atomic_add_fetch(&d->last_payload->refs, 1, __ATOMIC_RELAXED);
		return d->last_payload;
	}
	struct store_event ev;
	if (store_event_load(d->e->rstore, event_seq, &ev))
		return NULL;
	char company[256] = "", date[DATE_STR_LEN];
	registry_company_name(d->e->reg, ev.company_seq, company, sizeof(company));
	envelope_format_date(ev.date_ms, date);
	struct buf b;
	buf_init(&b);
	envelope_build(&b, company, ev.id, ev.event, date, ev.data, ev.datalen);
	struct payload *p = NULL;
	if (!b.oom) {
		size_t len;
		char *body = buf_steal(&b, &len);
		p = payload_new(event_seq, ev.id, body, len);
		if (!p)
			free(body);
	}
	buf_free(&b);
	store_event_free(&ev);
	if (p) {
		payload_unref(d->last_payload);
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
		d->last_payload = p;
	}
	return p;
}

void body_cache_free(struct dispatcher *d)
{
	payload_unref(d->last_payload);
	d->last_payload = NULL;
}

/* refuse: why a stored request cannot be sent, for the delivery's error. */
__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t whysz, const char *fmt,
                                                        ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

/* unprefixed: a core check's message without the webhook field it names
 * ("postbackUrl: …", "clientHeaders: …"): here the field is the request's. */
static const char *unprefixed(const char *msg)
{
	static const char *const fields[] = {"postbackUrl: ", "clientHeaders: "};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strncmp(msg, fields[i], strlen(fields[i])) == 0)
			return msg + strlen(fields[i]);
	return msg;
}

int request_form_new(const char *method, const char *url, const char *headers, size_t body_len,
                     bool allow_private, struct request_form **out, char *why, size_t whysz)
{
	*out = NULL;
	struct gerr err = {0};
	json_error_t jerr;
	json_t *hj = NULL;
	int rc = -1;
	struct request_form *f = NULL;
	/* The method goes on the request line as it is: a token, and short. */
	if (strlen(method) > 32 || !headers_is_token(method)) {
		refuse(why, whysz, "stored request refused: method \"%.40s\" is not an HTTP method",
		       method);
		goto out;
	}
	if (strcmp(method, "HEAD") == 0 && body_len) {
		refuse(why, whysz, "stored request refused: %s with a body", method);
		goto out;
	}
	/* The same SSRF rule as a webhook's URL (checked again at connect time). */
	if (urlcheck_target(url, allow_private, allow_private, &err)) {
		refuse(why, whysz, "stored request refused: url: %s", unprefixed(err.msg));
		goto out;
	}
	/* The same rules as clientHeaders: no injection, nothing gancho sets. */
	if (!(hj = json_loads(headers, JSON_REJECT_DUPLICATES, &jerr))) {
		refuse(why, whysz, "stored request refused: headers: %s", "not a JSON object");
		goto out;
	}
	if (headers_validate(hj, &err)) {
		refuse(why, whysz, "stored request refused: headers: %s", unprefixed(err.msg));
		goto out;
	}
	size_t n = json_object_size(hj);
	if ((f = calloc(1, sizeof(*f))))
		f->refs = 1;
	if (!f || !(f->lines = calloc(n ? n : 1, sizeof(*f->lines))) ||
	    !(f->method = strdup(method)) || !(f->url = strdup(url))) {
		refuse(why, whysz, "%s", "out of memory");
		goto out;
	}
	const char *name;
	json_t *val;
	json_object_foreach (hj, name, val) {
		if (!(f->lines[f->nlines] =
		          headers_line(name, json_string_value(val), json_string_length(val)))) {
			refuse(why, whysz, "%s", "out of memory");
			goto out;
		}
		f->nlines++;
		f->has_type |= strcasecmp(name, "Content-Type") == 0;
		f->has_accept |= strcasecmp(name, "Accept") == 0;
	}
	*out = f;
	f = NULL;
	rc = 0;
out:
	json_decref(hj);
	request_form_unref(f);
	return rc;
}

void request_form_unref(struct request_form *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int i = 0; i < f->nlines; i++)
		free(f->lines[i]);
	free(f->lines);
	free(f->method);
	free(f->url);
	free(f);
}

void body_request_name(struct payload *p, int64_t seq, int64_t delivery_seq)
{
	/* Standard Webhooks' webhook-id names the message: the stored request
	 * is one, whatever the number of attempts; a shared one is one message
	 * per delivery (a replayed receipt's is a new message too). */
	if (delivery_seq)
		snprintf(p->event_id, sizeof(p->event_id), "req_%lld_%lld", (long long)seq,
		         (long long)delivery_seq);
	else
		snprintf(p->event_id, sizeof(p->event_id), "req_%lld", (long long)seq);
}

struct payload *body_request_load(struct dispatcher *d, int64_t seq, int64_t delivery_seq,
                                  char *why, size_t whysz)
{
	struct store_request r;
	int rc = store_request_load(d->e->rstore, seq, delivery_seq, &r);
	if (rc) {
		refuse(why, whysz, "%s",
		       rc == GERR_NOTFOUND ? "stored request not found"
		                           : "stored request could not be loaded");
		return NULL;
	}
	struct request_form *f = NULL;
	struct payload *p = NULL;
	if (request_form_new(r.method, r.url, r.headers, r.body_len, d->e->cfg.allow_private, &f,
	                     why, whysz) == 0) {
		if ((p = payload_new(0, "", r.body, r.body_len))) {
			r.body = NULL; /* the payload's now */
			p->req = f;
			body_request_name(p, seq, r.own_receipt ? delivery_seq : 0);
		} else {
			request_form_unref(f);
			refuse(why, whysz, "%s", "out of memory");
		}
	}
	store_request_free(&r);
	return p;
}

static bool same(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* keyed: x holds a form made from method, URL and headers. */
static bool keyed(const struct form_cache_entry *x, const char *method, const char *url,
                  const char *headers)
{
	return x->form && same(x->method, method) && same(x->url, url) && same(x->headers, headers);
}

int form_cache_get(struct form_cache *c, const char *method, const char *url, const char *headers,
                   size_t body_len, bool allow_private, struct request_form **out, char *why,
                   size_t whysz)
{
	for (int i = 0; i < FORM_CACHE_SIZE; i++) {
		struct form_cache_entry *x = &c->e[i];
		if (x->body == (body_len > 0) && keyed(x, method, url, headers)) {
			__atomic_add_fetch(&x->form->refs, 1, __ATOMIC_RELAXED);
			*out = x->form;
			return 0;
		}
	}
	if (request_form_new(method, url, headers, body_len, allow_private, out, why, whysz))
		return -1;
	/* kept when it can be: without memory for the key, it is only not cached */
	struct form_cache_entry *x = &c->e[c->next];
	char *m = strdup(method), *u = strdup(url), *h = strdup(headers);
	if (!m || !u || !h) {
		free(m);
		free(u);
		free(h);
		return 0;
	}
	free(x->method);
	free(x->url);
	free(x->headers);
	request_form_unref(x->form);
	*x = (struct form_cache_entry){m, u, h, body_len > 0, *out, 0};
	__atomic_add_fetch(&(*out)->refs, 1, __ATOMIC_RELAXED);
	c->next = (c->next + 1) % FORM_CACHE_SIZE;
	return 0;
}

void form_cache_free(struct form_cache *c)
{
	for (int i = 0; i < FORM_CACHE_SIZE; i++) {
		free(c->e[i].method);
		free(c->e[i].url);
		free(c->e[i].headers);
		request_form_unref(c->e[i].form);
	}
	memset(c, 0, sizeof(*c));
}

int64_t form_cache_request(const struct form_cache *c, const char *method, const char *url,
                           const char *headers)
{
	for (int i = 0; i < FORM_CACHE_SIZE; i++) {
		const struct form_cache_entry *x = &c->e[i];
		if (x->request_seq && keyed(x, method, url, headers))
			return x->request_seq;
	}
	return 0;
}

void form_cache_note_request(struct form_cache *c, const char *method, const char *url,
                             const char *headers, int64_t seq)
{
	for (int i = 0; i < FORM_CACHE_SIZE; i++) {
		struct form_cache_entry *x = &c->e[i];
		if (keyed(x, method, url, headers))
			x->request_seq = seq;
	}
}
