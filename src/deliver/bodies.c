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
 * bytes instead, loaded at each attempt, so every retry sends the same
 * bytes. Stored requests are written by code, not typed by a person, and
 * are checked here before each send with the rules a webhook's config gets
 * from the API (URL: urlcheck; headers: those of clientHeaders); one that
 * fails them cannot become right by waiting, so its delivery fails for good.
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

int body_request_load(struct dispatcher *d, int64_t seq, struct request_body *out, char *why,
                      size_t whysz)
{
	memset(out, 0, sizeof(*out));
	struct store_request r;
	int rc = store_request_load(d->e->rstore, seq, &r);
	if (rc)
		return refuse(why, whysz, "%s",
		              rc == GERR_NOTFOUND ? "stored request not found"
		                                  : "stored request could not be loaded");
	struct gerr err = {0};
	json_error_t jerr;
	json_t *hj = NULL;
	rc = -1;
	/* The method goes on the request line as it is: a token, and short. */
	if (strlen(r.method) > 32 || !headers_is_token(r.method)) {
		refuse(why, whysz, "stored request refused: method \"%.40s\" is not an HTTP method",
		       r.method);
		goto out;
	}
	if (strcmp(r.method, "HEAD") == 0 && r.body_len) {
		refuse(why, whysz, "stored request refused: %s with a body", r.method);
		goto out;
	}
	/* The same SSRF rule as a webhook's URL (checked again at connect time). */
	bool dev = d->e->cfg.allow_private;
	if (urlcheck_target(r.url, dev, dev, &err)) {
		refuse(why, whysz, "stored request refused: url: %s", unprefixed(err.msg));
		goto out;
	}
	/* The same rules as clientHeaders: no injection, nothing gancho sets. */
	if (!(hj = json_loads(r.headers, JSON_REJECT_DUPLICATES, &jerr))) {
		refuse(why, whysz, "stored request refused: headers: %s", "not a JSON object");
		goto out;
	}
	if (headers_validate(hj, &err)) {
		refuse(why, whysz, "stored request refused: headers: %s", unprefixed(err.msg));
		goto out;
	}
	const char *name;
	json_t *val;
	json_object_foreach (hj, name, val) {
		char *line = headers_line(name, json_string_value(val), json_string_length(val));
		struct curl_slist *h = line ? curl_slist_append(out->hdrs, line) : NULL;
		free(line);
		if (!h) {
			refuse(why, whysz, "%s", "out of memory");
			goto out;
		}
		out->hdrs = h;
		out->has_type |= strcasecmp(name, "Content-Type") == 0;
		out->has_accept |= strcasecmp(name, "Accept") == 0;
	}
	/* Standard Webhooks' webhook-id names the message: the stored request is
	 * one, whatever the number of attempts. */
	char id[40];
	snprintf(id, sizeof(id), "req_%lld", (long long)seq);
	if (!(out->payload = payload_new(0, id, r.body, r.body_len))) {
		refuse(why, whysz, "%s", "out of memory");
		goto out;
	}
	r.body = NULL; /* the payload's now */
	out->method = r.method;
	out->url = r.url;
	r.method = r.url = NULL;
	rc = 0;
out:
	json_decref(hj);
	store_request_free(&r);
	if (rc)
		body_request_free(out);
	return rc;
}

void body_request_free(struct request_body *rb)
{
	curl_slist_free_all(rb->hdrs);
	payload_unref(rb->payload);
	free(rb->method);
	free(rb->url);
	memset(rb, 0, sizeof(*rb));
}
