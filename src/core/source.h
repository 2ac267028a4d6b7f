/*
 * source: a receiving URL (/in/{id}) and how to read what arrives there —
 * validated from the API's JSON, stored as JSON, and compiled into the struct
 * the receiving path reads on every request. Pure: no I/O.
 *
 * Three shapes of the same thing, as for webhooks (core/webhook.h):
 *   body   — what POST/PATCH /api/v1/sources receives;
 *   config — what is stored: the body's accepted fields, normalised
 *            ("verification" as verifier_config_build makes it, secrets
 *            included). Only what was given is stored: defaults are applied
 *            when compiled and when answered, so a later change of
 *            verification kind changes the default id path too;
 *   struct source — compiled: the verifier, the allowed networks, the paths
 *            and bounds ready. Immutable and reference-counted: the registry
 *            and the receiving path share it, and a change makes a new one.
 *
 * Fields (body):
 *   name           required, 1-200 characters;
 *   verification   required, see core/verifier.h ({"kind":"none"} accepts
 *                  unsigned requests, and says so);
 *   allowIps       CIDRs, addresses or the preset "gupy" (core/netaddr.h);
 *                  absent = every address;
 *   idPath, eventPath, datePath
 *                  dotted paths into the received JSON body where the
 *                  sender puts the event's id, name and date (defaults "id",
 *                  "event", "date": Gupy's envelope). For a standard or svix
 *                  verification idPath defaults to the signed message id
 *                  (webhook-id / svix-id header) instead;
 *   maxBodyBytes   1024 to 67108864 (default 1048576);
 *   entity         {type, key, keep?, reorderWindowSeconds?}: type 1-64 of
 *                  [A-Za-z0-9_.-], key a dotted path, keep an object of at
 *                  most 32 names ([A-Za-z0-9_-], 1-64) to dotted paths,
 *                  reorderWindowSeconds 0 to 3600 (default 0).
 * A dotted path is 1-256 bytes of non-empty segments split by '.', without
 * control characters (the one path rule, core/jsonpath).
 *
 * One rule for bodies, as for webhooks: a field gancho does not know (in the
 * body or in entity), a field of the wrong type, a value out of range, or a
 * field set by gancho (url, createdAt, updatedAt) is refused with 400 rather
 * than ignored. On a PATCH, fields given replace the stored ones (entity
 * whole; verification merged by verifier_config_build), null removes an
 * optional one (back to its default), absent ones are kept.
 */
#ifndef GANCHO_CORE_SOURCE_H
#define GANCHO_CORE_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/receipt.h"
#include "util/gerr.h"

struct verifier;     /* core/verifier.h */
struct netaddr_list; /* core/netaddr.h */

#define SOURCE_NAME_MAX           200 /* characters */
#define SOURCE_PATH_MAX           256 /* bytes of one dotted path */
#define SOURCE_ENTITY_TYPE_MAX    64
#define SOURCE_KEEP_MAX           RECEIPT_KEEP_MAX
#define SOURCE_KEEP_NAME_MAX      64
#define SOURCE_BODY_MIN           1024
#define SOURCE_BODY_DEFAULT       1048576
#define SOURCE_BODY_MAX           67108864
#define SOURCE_REORDER_WINDOW_MAX 3600

/* One kept field of an entity: its name and where it is read from. */
struct source_keep {
	char *name;
	char *path;
};

struct source {
	int refs; /* atomic; see source_ref/source_unref */
	int64_t seq;
	int64_t company_seq;
	char id[40];
	char *name;
	struct verifier *verifier;
	struct netaddr_list *allow; /* NULL = every address */
	char *id_path;              /* NULL = the signed message id (standard, svix) */
	char *event_path;
	char *date_path;
	size_t max_body;
	/* entity: entity_type NULL when the source names none */
	char *entity_type;
	char *entity_key;
	struct source_keep *keep;
	int nkeep;
	int reorder_window_s;
};

/* source_config_build: validate a create body (existing NULL) or apply a
 * PATCH body onto a stored config. *out gets the new stored config (new
 * reference), set only on success. "id" in the body is the API's business
 * and skipped here. Refusals are GERR_INVALID with 400 and code
 * invalid_field (missing_field for an absent required field), the message
 * naming the field ("entity.keep.jobId: ..."). */
int source_config_build(const json_t *body, const json_t *existing, json_t **out, struct gerr *err);

/* source_compile: a new struct source (refs = 1) from a stored config. */
int source_compile(const json_t *config, int64_t seq, const char *id, int64_t company_seq,
                   struct source **out, struct gerr *err);
void source_ref(struct source *s);
/* source_unref: drop a reference; the last one frees (keys wiped). NULL is fine. */
void source_unref(struct source *s);

/* source_to_json: the API's answer for a stored config: id, name, url
 * ("/in/<id>"), verification without secrets (verifier_to_json), allowIps
 * (null = every address), idPath (null = the signed message id), eventPath,
 * datePath, maxBodyBytes, entity (null when none; keep and
 * reorderWindowSeconds always shown), createdAt, updatedAt. Defaults are
 * shown filled in. New reference, NULL when out of memory. */
json_t *source_to_json(const json_t *config, const char *id, int64_t created_at,
                       int64_t updated_at);

#endif
