/*
 * receipt: what gancho reads out of one received request (a receipt) to
 * deduplicate it, name it, order it and remember it: the sender's id, the
 * event name, the event's date, its entity's key and the fields its source
 * keeps. Pure: the body is JSON text read in place (core/jsonpath), never
 * decoded into a tree, so numbers and strings are kept exactly as sent.
 *
 * The order rule lives here too (receipt_decide): a receipt is applied to
 * its entity unless it is older than the entity's latest applied one, and
 * applying it merges its kept fields over the entity's.
 *
 * Read from the body (each a dotted path, see struct receipt_spec):
 *   id     a string of 1-RECEIPT_ID_MAX printable characters, or an integer
 *          (kept as its JSON text); for Standard Webhooks and Svix sources
 *          without idPath, the signed id header instead;
 *   event  a string of 1-RECEIPT_EVENT_MAX printable characters;
 *   date   an RFC 3339 date-time with an offset (core/isodate);
 *   entity key: any scalar but null, as a FIFO ordering key
 *          (filter_key_string: long values hashed); absent, null, "" or not
 *          a scalar → the receipt has no
 *          entity (it is neither ordered nor remembered, and routes see no
 *          entity.* fields): a source that receives several kinds of events
 *          orders only those that name the entity;
 *   kept fields: any JSON value at each path, absent ones left out (the
 *          entity keeps what an earlier receipt left).
 * A body that is not JSON, or lacks the id, event or date (or holds the
 * wrong type there), is refused with 400 and the reason.
 */
#ifndef GANCHO_CORE_RECEIPT_H
#define GANCHO_CORE_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/isodate.h"
#include "util/buf.h"
#include "util/gerr.h"

#define RECEIPT_ID_MAX    256
#define RECEIPT_EVENT_MAX 128
#define RECEIPT_KEY_MAX   63    /* an entity key as stored (hashed above): a FIFO key */
#define RECEIPT_KEPT_MAX  65536 /* bytes of one receipt's kept fields */
#define RECEIPT_KEEP_MAX  32    /* kept fields of one source (its entity.keep) */

/* Where a source finds each field (paths already validated). */
struct receipt_spec {
	const char *id_path; /* NULL: the signed id passed to receipt_read */
	const char *event_path;
	const char *date_path;
	const char *entity_key_path; /* NULL: the source names no entity */
	int nkeep;
	const char *const *keep_names; /* [A-Za-z0-9_]+, as validated by the source */
	const char *const *keep_paths;
};

struct receipt_fields {
	char msg_id[RECEIPT_ID_MAX + 1];
	char event[RECEIPT_EVENT_MAX + 1];
	char date[ISODATE_TEXT_MAX + 1]; /* as sent */
	struct isodate when;
	bool has_entity;
	char entity_key[RECEIPT_KEY_MAX + 1];
	struct buf kept; /* JSON object text: {"name": value, ...} */
};

/* receipt_read: the fields of body[0..len) by spec; signed_id is the
 * verifier's signed message id (or NULL). 0, or GERR_INVALID with 400 and the
 * reason (code invalid_body), or GERR_NOMEM. out->kept is initialised in
 * every case: release it with receipt_fields_free. */
int receipt_read(const char *body, size_t len, const struct receipt_spec *spec,
                 const char *signed_id, struct receipt_fields *out, struct gerr *err);
void receipt_fields_free(struct receipt_fields *f);

/* The order rule. An entity's state as the receipt meets it. */
struct receipt_entity {
	bool exists;
	struct isodate latest; /* its latest applied receipt's date */
	const char *kept;      /* JSON object text, "{}" when none */
	size_t keptlen;
};

/* receipt_decide: true when a receipt dated `when` is applied to the entity
 * (it has none yet, or the receipt is not older than its latest); false:
 * stale. Equal dates apply: two events of the same instant are both news. */
bool receipt_decide(const struct receipt_entity *cur, const struct isodate *when);

/* receipt_merge_kept: the entity's kept fields after applying a receipt:
 * cur's members with those named in fresh replaced, then fresh's new ones;
 * values are copied byte for byte. Both are JSON objects as written by
 * receipt_read (or "{}"). 0, or GERR_INVALID when either is not an object,
 * or GERR_NOMEM. */
int receipt_merge_kept(const char *cur, size_t curlen, const char *fresh, size_t freshlen,
                       struct buf *out, struct gerr *err);

#endif
