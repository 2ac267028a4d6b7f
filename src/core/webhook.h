/*
 * webhook: a subscription's configuration — validated from the API's JSON,
 * stored as JSON, and compiled into the struct the engine reads on every send.
 *
 * The stored config is the normalised request (Gupy fields plus extensions,
 * secrets included); `status` lives beside it, not in it. A compiled
 * struct webhook is immutable and reference-counted: the registry and the
 * dispatcher share it, and a change makes a new one.
 */
#ifndef GANCHO_CORE_WEBHOOK_H
#define GANCHO_CORE_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/policy.h"
#include "core/sign.h"
#include "util/gerr.h"

struct filter; /* core/filter.h */

/* Standard Webhooks keys that may sign at once: the current one and up to
 * seven previous ones, each signing for WEBHOOK_ROTATION_MS after it was
 * replaced. Eight signatures fit the dispatcher's header line. */
#define WEBHOOK_MAX_KEYS    8
#define WEBHOOK_MAX_PERM    16
#define WEBHOOK_ROTATION_MS (24LL * 3600 * 1000)

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_APIKEY, AUTH_SECRET, AUTH_STANDARD };

/* How a receiver answers, which decides what each answer means for a
 * delivery (config "answerRules", set on the target of a route's HR action,
 * core/route_hr.h):
 *   default   — 2xx delivered; a status in failPermanentlyOn failed for good;
 *               anything else retried (410 also deactivates the webhook);
 *   gupy      — 2xx delivered; every 4xx but 408 and 429 failed for good;
 *               5xx, 408, 429 and no answer retried;
 *   hellowork — 200 delivered; 404 failed for good ("not_found: <the
 *               answer's message>"); anything else retried. */
enum webhook_answers { ANSWERS_DEFAULT, ANSWERS_GUPY, ANSWERS_HELLOWORK };
enum webhook_verdict { VERDICT_DELIVERED, VERDICT_RETRY, VERDICT_PERMANENT };

struct webhook {
	int refs; /* atomic; see webhook_ref/webhook_unref */
	int64_t seq;
	int64_t company_seq;
	char id[40];
	int status; /* enum webhook_status (store.h); the one mutable field */
	char *url;
	char **events;
	int nevents;
	char *unit;             /* NULL = every unit */
	json_t *filter;         /* as configured, NULL = none */
	struct filter *matcher; /* filter compiled, what events are matched by */
	struct policy policy;
	bool fifo;
	char *ordering_key; /* NULL = whole webhook is one FIFO lane; a route's
	                     * target: "entity" (keys are its receipts' entities) */
	int timeout_ms;
	int concurrency;
	double rate_per_sec; /* 0 = unlimited */
	int auth_kind;
	char *auth_header;                /* full "Authorization: …" line for basic / apiKey */
	struct sign_hmac_key *secret_key; /* Acesso-Signature secret, pre-keyed (HMAC-SHA256) */
	unsigned char keys[WEBHOOK_MAX_KEYS][SIGN_KEY_MAX]; /* standard: current first */
	size_t keylens[WEBHOOK_MAX_KEYS];
	int nkeys;
	int64_t keys_expire[WEBHOOK_MAX_KEYS]; /* when each key stops signing; 0 = never */
	char **headers; /* clientHeaders as libcurl lines ("Name: value" or "Name;") */
	int nheaders;
	bool client_headers;        /* clientHeaders given: no default Content-Type */
	int perm[WEBHOOK_MAX_PERM]; /* failPermanentlyOn */
	int nperm;
	int answers; /* enum webhook_answers */
	/* A route's action (config "routeId", core/route.h): a target that
	 * delivers rendered requests, never an event's subscriber. "" for an
	 * ordinary webhook. */
	char route_id[40];
};

/* webhook_lane_key: the FIFO lane of a delivery to w whose ordering key is
 * okey ("" or NULL: none), as the key within w's lanes; NULL when the
 * delivery has no lane and goes side by side with the others. An unordered
 * webhook has none; a fifo webhook without orderingKey is one lane; with one,
 * a lane per key value ("" for events without it). A route's target orders
 * per entity: a receipt without an entity has no order to keep, so its
 * actions get no lane (one shared lane would hold every such receipt behind
 * a failing one, and send them one at a time). */
const char *webhook_lane_key(const struct webhook *w, const char *okey);

/* webhook_config_build: validate a create body (patch == NULL) or apply a
 * PATCH body onto an existing stored config. *out gets the new stored config
 * (new reference). `status` in the body is not part of the config: the caller
 * reads it with webhook_status_from_body. now_ms timestamps secret rotation. */
int webhook_config_build(const json_t *body, const json_t *existing, bool allow_http,
                         bool allow_private, int64_t now_ms, json_t **out, struct gerr *err);
/* webhook_status_from_body: WH_ACTIVE/WH_INACTIVE from body.status, dflt when
 * absent, or GERR_INVALID. */
int webhook_status_from_body(const json_t *body, int dflt, struct gerr *err);

/* webhook_compile: a new struct webhook (refs = 1) from a stored config. */
int webhook_compile(const json_t *config, int64_t seq, const char *id, int64_t company_seq,
                    int status, int64_t now_ms, struct webhook **out, struct gerr *err);
void webhook_ref(struct webhook *w);
void webhook_unref(struct webhook *w);

/* webhook_to_json: the API's answer for a stored config: Gupy's
 * {id, action, postbackUrl, status} first, then the extensions set, with
 * secrets removed (authorization shows only its kind). New reference. */
json_t *webhook_to_json(const json_t *config, const char *id, int status, int64_t created_at,
                        int64_t updated_at);

/* webhook_wants: does this webhook take event `event` of `unit`? (not the
 * filter) A route's target takes no event. */
bool webhook_wants(const struct webhook *w, const char *event, const char *unit);
/* webhook_key_signs: key i (0 <= i < nkeys) still signs at now_ms. Each
 * previous key has its own expiry, so check every key, not the first. */
bool webhook_key_signs(const struct webhook *w, int i, int64_t now_ms);
/* webhook_is_permanent: a status in failPermanentlyOn. */
bool webhook_is_permanent(const struct webhook *w, int http_status);
/* webhook_verdict: what an attempt means by w's answer rules: complete is
 * true when the answer came whole (the transfer ended without error),
 * http_status its status (0: no answer). An incomplete answer is never
 * delivered; its status still decides a permanent failure. */
int webhook_verdict(const struct webhook *w, bool complete, int http_status);
/* webhook_answer_error: the reason a person reads for a failed answer under
 * w's answer rules, from the answer's body (body[0..len), maybe cut short):
 * hellowork 404 "not_found: <message>", gupy 4xx "HTTP 400: <message>"
 * when the body is JSON with a "message" string. Writes out (NUL-terminated,
 * printable, cut on a character boundary) and returns true, or returns false
 * when the rules say nothing beyond "HTTP <status>". */
bool webhook_answer_error(const struct webhook *w, int http_status, const char *body, size_t len,
                          char *out, size_t outsz);
/* webhook_event_name_valid: 1–128 chars of [A-Za-z0-9._:-]. */
bool webhook_event_name_valid(const char *s);
/* webhook_only_keys: every key of obj is in allowed (NULL-terminated); else
 * 400 "<where>.<key>: unknown field" (where may be "": "<key>: ..."). */
int webhook_only_keys(const json_t *obj, const char *const *allowed, const char *where,
                      struct gerr *err);
/* webhook_event_builtin: one of the Gupy and Acesso RH event names. */
bool webhook_event_builtin(const char *s);

#endif
