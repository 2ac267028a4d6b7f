/*
 * registry: the compiled config cache, the in-memory view of companies,
 * tokens and webhooks that the hot path reads without touching the store.
 *
 * It sits below both its users: the API (token checks, writes after the
 * store) and the engine (ingest fan-out, the dispatcher) include it, and it
 * includes only core/ and store/, so no arrow points up.
 *
 * The store is the truth; the registry is loaded from it at start and kept
 * current by the API, which writes the store first and then the registry.
 * Readers (ingest fan-out, token checks, the dispatcher) take a read lock for
 * a few hundred nanoseconds; webhooks come out as counted references, so a
 * reader keeps a consistent config even while a PATCH replaces it.
 */
#ifndef GANCHO_REGISTRY_REGISTRY_H
#define GANCHO_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/webhook.h"
#include "store/store.h"

struct registry;

struct registry *registry_new(void);
void registry_free(struct registry *r);
/* registry_load: read every company, token and live webhook from the store. */
int registry_load(struct registry *r, struct store *s, struct gerr *err);

/* registry_reload_webhook / _company: read one again from the store (another
 * node changed it). A webhook gone from the store leaves the registry. */
int registry_reload_webhook(struct registry *r, struct store *s, int64_t seq);
int registry_reload_company(struct registry *r, struct store *s, int64_t seq);

/* token_hash: SHA-256 hex of a token (what the store keeps). */
void token_hash(const char *token, char out[65]);

/* Companies. event_types is the JSON array text of declared extra events. */
int registry_company_put(struct registry *r, int64_t seq, const char *id, const char *name,
                         const char *event_types);
/* registry_company_name copies the name; false when unknown. */
bool registry_company_name(struct registry *r, int64_t seq, char *out, size_t outsz);
/* registry_event_allowed: built-in, or declared by the company. */
bool registry_event_allowed(struct registry *r, int64_t company_seq, const char *event);
void registry_token_put(struct registry *r, const char *hash, int64_t company_seq);
/* registry_token_remove: forget a token hash (revoked). */
void registry_token_remove(struct registry *r, const char *hash);
/* registry_token_company: the company of a bearer token, 0 when unknown. */
int64_t registry_token_company(struct registry *r, const char *token);

/* Webhooks. put takes over the caller's reference; remove drops it. put
 * returns -1 (logged, and the webhook listed by registry_broken) when it
 * cannot make the webhook routable. */
int registry_webhook_put(struct registry *r, struct webhook *w);
/* registry_broken: how many stored webhooks could not be loaded; their ids
 * in ids[0..min(return, max)). */
int registry_broken(struct registry *r, char (*ids)[40], int max);
void registry_webhook_remove(struct registry *r, int64_t seq);
/* registry_webhook_get: a new reference, or NULL. */
struct webhook *registry_webhook_get(struct registry *r, int64_t seq);
/* registry_webhook_set_status: the engine's deactivation. */
void registry_webhook_set_status(struct registry *r, int64_t seq, int status);
/* registry_match: the webhooks of a company that take event/unit (status any
 * but deleted), as new references in out[0..min(return, max)). Returns how
 * many there are, which may exceed max: then ask again with more room. */
int registry_match(struct registry *r, int64_t company_seq, const char *event, const char *unit,
                   struct webhook **out, int max);

/* Sources (receiving URLs), compiled (core/source.h). The receiving path
 * looks them up by public id: a hash probe under the read lock, so an id
 * nobody configured costs nanoseconds and never reaches the store. put
 * takes over the caller's reference (and returns -1, the source dropped and
 * logged, when out of memory); get returns a new reference or NULL. */
struct source;
int registry_source_put(struct registry *r, struct source *src);
struct source *registry_source_get(struct registry *r, const char *id);
struct source *registry_source_get_seq(struct registry *r, int64_t seq);
void registry_source_remove(struct registry *r, int64_t seq);
/* registry_reload_source: read one again from the store (another node
 * changed it, notification "source <seq>"); gone from the store, it leaves
 * the registry. */
int registry_reload_source(struct registry *r, struct store *s, int64_t seq);

/* Routes (core/route.h), compiled. put takes over the caller's reference
 * and replaces the route of the same seq; remove drops it. */
struct route;
int registry_route_put(struct registry *r, struct route *rt);
void registry_route_remove(struct registry *r, int64_t seq);
/* registry_routes: the company's routes that may take a receipt of
 * source_seq (routes of that source and of every source), as new references
 * in out[0..min(return, max)); returns how many there are. */
int registry_routes(struct registry *r, int64_t company_seq, int64_t source_seq, struct route **out,
                    int max);
/* registry_reload_route: read route id of the company again (another node
 * changed it, "route <company seq> <id>"); gone from the store, it leaves. */
int registry_reload_route(struct registry *r, struct store *s, int64_t company_seq, const char *id);

#endif
