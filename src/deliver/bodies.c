/*
 * bodies: what a delivery sends. Today that is its event's envelope, built
 * once per event from the stored event and shared (reference-counted) by the
 * event's deliveries. New deliveries arrive from the committer with the
 * envelope it already built; one read back from the store, or waiting for a
 * retry (which drops its body), is rebuilt here. The last one built is kept,
 * since a fan-out reads the same event for many deliveries in a row.
 */
#include <stdlib.h>

#include "core/envelope.h"
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
