/*
 * route: what happens to a receipt (one request received from a source):
 * which events of which source it takes, a filter over the receipt, and the
 * actions it fires. Pure: validation, the stored form and the compiled form
 * of a route, the test "does this route take this receipt?" and the exact
 * request each action sends. (The HTTP edge's path routing is api/route.h,
 * another thing.)
 *
 * Three shapes of the same thing, as with core/webhook.h:
 *   body   — what the API receives: {name, sourceId?, events: [..], filter?,
 *            actions: [..], whenStale?};
 *   config — what is stored: the body normalised (whenStale always present,
 *            header names of filter paths lower-cased), secrets included, and
 *            each action carrying "targetId", the id of the webhook row that
 *            delivers it (the API chooses it);
 *   struct route — compiled once: the filter tree, the templates of every
 *            action, immutable and reference-counted like struct webhook.
 *
 * Filters are core/filter.h's, over one JSON document built per receipt:
 *   {"body": <the received body, its raw text>, "headers": {lower-case name:
 *   value}, "entity": {the entity's kept fields}}
 * so every path starts with body., headers. or entity. (anything else is
 * refused with 400 naming the path).
 *
 * Actions (at most ROUTE_MAX_ACTIONS):
 *   {kind:"forward", url, authorization?, headers?, retryPolicy?, timeoutMs?,
 *    failPermanentlyOn?} — the received body byte for byte, POST, with the
 *    received Content-Type (a Content-Type in headers wins); headers are
 *    literal.
 *   {kind:"http", method, url, headers?, body?, authorization?, retryPolicy?,
 *    timeoutMs?, failPermanentlyOn?} — url, header values and body are
 *    templates (core/template.h): a JSON body (object or array) is a JSON
 *    template sent as application/json, a string body a text template sent
 *    as text/plain unless headers name a Content-Type.
 *   {kind:"gupy.tag", connectionId, name, jobId?, applicationId?},
 *   {kind:"gupy.comment", connectionId, text, jobId?, applicationId?},
 *   {kind:"gupy.reprove", connectionId, disapprovalReason, jobId?, applicationId?},
 *   {kind:"hellowork.status", connectionId, status, map, created, eventDate?,
 *    jobId?, source?, statusApiUrl?, applicationId?, communicationDelay?}
 *    — the HR actions (each also retryPolicy?, timeoutMs?): the exact
 *    requests of Gupy's and HelloWork's APIs to a connection (an API's base
 *    URL and credentials, held once); core/route_hr.h says what they send.
 * Each action is delivered by a target: an ordinary webhook row whose config
 * (route_target_config) holds the URL (for http the URL template's fixed
 * origin, which urlcheck judges at creation), the authorization (the webhook
 * kinds, validated by core/webhook.c), retryPolicy, timeoutMs,
 * failPermanentlyOn and FIFO ordering, and "routeId", which marks it as a
 * target: webhook_wants never takes an event for it, and the API's webhook
 * listing never shows it. The target signs the rendered request with its
 * authorization; the rendered headers are every other header to send.
 * An HR action's target takes its URL (the connection's base URL) and its
 * authorization from the connection, and carries "connectionId" and
 * "answerRules" (the API's way of answering, core/webhook.h), which decide
 * which answers are delivered, retried or failed for good.
 */
#ifndef GANCHO_CORE_ROUTE_H
#define GANCHO_CORE_ROUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/gerr.h"

#define ROUTE_MAX_EVENTS  64
#define ROUTE_MAX_ACTIONS 16
#define ROUTE_MAX_NAME    256
#define ROUTE_MAX_HEADERS 64

enum route_action_kind {
	ROUTE_ACTION_FORWARD,
	ROUTE_ACTION_HTTP,
	/* the HR actions (core/route_hr.h): requests to a connection's API */
	ROUTE_ACTION_GUPY_TAG,
	ROUTE_ACTION_GUPY_COMMENT,
	ROUTE_ACTION_GUPY_REPROVE,
	ROUTE_ACTION_HELLOWORK_STATUS,
};

struct filter;   /* core/filter.h */
struct template; /* core/template.h */

struct route_action {
	int kind; /* enum route_action_kind */
	char target_id[40];
	int64_t target_seq; /* its webhook row; 0 until the caller sets it */
	char method[8];
	char *url;              /* forward: the URL */
	struct template *url_t; /* http: the URL template */
	int nheaders;
	char **hnames;             /* as configured */
	char **hvals;              /* forward: literal values */
	struct template **hvals_t; /* http: value templates */
	struct template *body_t;   /* http: NULL = no body */
	bool body_json;
	bool has_content_type; /* headers name a Content-Type */
	/* HR actions (core/route_hr.h); NULL templates are absent options */
	char connection_id[40];
	struct template *job_t;        /* jobId; default {{entity.jobId}} */
	struct template *app_t;        /* applicationId; NULL: the entity key */
	struct template *text_t;       /* gupy: name, text or disapprovalReason;
	                                * hellowork: status */
	struct template *status_url_t; /* hellowork: statusApiUrl */
	struct template *event_date_t; /* hellowork: eventDate; NULL: the receipt's date */
	struct template *created_t;
	struct template *source_t; /* JSON template */
	struct template *delay_t;  /* JSON template: communicationDelay */
	json_t *map;               /* hellowork: {ATS status: HelloWork value}; read only */
};

struct route {
	int refs; /* atomic; see route_ref/route_unref */
	int64_t seq;
	int64_t company_seq;
	int64_t source_seq; /* 0 = every source of the company */
	char id[40];
	char source_id[40]; /* "" = every source */
	char *name;
	char **events;
	int nevents;
	struct filter *filter; /* NULL = every receipt */
	bool fire_stale;       /* whenStale "fire": a stale receipt fires it too */
	int nactions;
	struct route_action actions[ROUTE_MAX_ACTIONS];
};

/* One receipt, as routing sees it. Every pointer is borrowed. */
struct route_input {
	const char *body; /* the received body: JSON text, byte for byte */
	size_t body_len;
	const char *headers;      /* JSON object {lower-case name: value}, or NULL */
	const char *entity;       /* JSON object of the entity's kept fields, or NULL */
	const char *receipt_id;   /* {{receipt.id}}, or NULL */
	const char *receipt_date; /* {{receipt.date}} (ISO-8601), or NULL */
	const char *event;        /* {{receipt.event}}, or NULL */
	const char *source_id;    /* {{receipt.sourceId}}, or NULL */
	const char *entity_key;   /* the receipt's entity key, or NULL (no entity) */
	int64_t source_seq;       /* the receipt's source; 0 = not checked (a dry run) */
};

/* The request one action sends, owned (route_request_free). */
struct route_request {
	char method[8];
	char *url;
	char *headers; /* JSON object text {"Name": "value", ...}; no authorization */
	char *body;    /* may hold any bytes; NULL when none */
	size_t body_len;
};

/* route_config_build: validate a create body (existing == NULL) or apply a
 * PATCH body onto an existing stored config (each top-level key given
 * replaces the stored one; null removes sourceId, filter or whenStale). *out
 * gets the new stored config (new reference). Actions keep the targetId of
 * the stored action at the same index; an action without one (a new action)
 * gets none: the caller gives it one before storing. allow_http and
 * allow_private are urlcheck's (development only). 400 with err naming the
 * field ("actions[1].url: ...") when the body is not a valid route. */
int route_config_build(const json_t *body, const json_t *existing, bool allow_http,
                       bool allow_private, int64_t now_ms, json_t **out, struct gerr *err);

/* The connection an HR action names, as its target needs it (the caller
 * reads it from the store). Every pointer borrowed. */
struct route_conn {
	const char *kind;            /* "gupy" | "hellowork" */
	const char *base_url;        /* its baseUrl */
	const json_t *authorization; /* a webhook authorization object, or NULL */
};

/* route_target_config: the webhook config of action i of a stored route
 * config, marked with route_id. existing is the target's current config (a
 * PATCH: a Standard Webhooks secret that changes keeps signing for
 * WEBHOOK_ROTATION_MS, as for webhooks) or NULL. conn is the connection of
 * an HR action (route_action_connection names it; NULL for forward and
 * http): 422 naming connectionId when it is NULL or of the wrong kind. New
 * reference in *out. */
int route_target_config(const json_t *cfg, int i, const char *route_id, const json_t *existing,
                        const struct route_conn *conn, bool allow_http, bool allow_private,
                        int64_t now_ms, json_t **out, struct gerr *err);

/* route_action_connection: the connectionId of action i of a built config
 * (borrowed), or NULL when the action uses no connection. */
const char *route_action_connection(const json_t *cfg, int i);

/* route_compile: a new struct route (refs = 1) from a stored config.
 * target_seqs[i] (or NULL: all 0) is the webhook row of action i. */
int route_compile(const json_t *cfg, int64_t seq, const char *id, int64_t company_seq,
                  int64_t source_seq, const int64_t *target_seqs, struct route **out,
                  struct gerr *err);
void route_ref(struct route *r);
void route_unref(struct route *r);

/* route_to_json: the API's answer for a stored config, secrets removed (an
 * action's authorization shows only its kind, as webhooks show theirs). */
json_t *route_to_json(const json_t *cfg, const char *id, int64_t created_at, int64_t updated_at);

/* route_matches: r takes event from this receipt: the event is one of its
 * events, the source is its source (when both are known), and the filter
 * holds over the receipt's document. Whether a stale receipt fires it is
 * r->fire_stale, the caller's decision. */
bool route_matches(const struct route *r, const char *event, const struct route_input *in);

/* route_render: the request action i (0 <= i < r->nactions) sends for this
 * receipt, into *out (zeroed first; free it with route_request_free, also
 * after a failure). base is the URL of the action's target (for an HR
 * action its connection's base URL, which its paths go under; unused by
 * forward and http). Returns 0; or GERR_INVALID with err 422
 * "template_missing" ("template: body.data.job.id is missing",
 * "applicationId: missing: ...") or "template_value" (core/template.h,
 * core/route_hr.h), which fail that delivery for good; or GERR_NOMEM. */
int route_render(const struct route *r, int i, const struct route_input *in, const char *base,
                 struct route_request *out, struct gerr *err);
void route_request_free(struct route_request *rq);

/* route_id_valid: s looks like an id gancho gives (1-64 of [A-Za-z0-9-]). */
bool route_id_valid(const char *s);

#endif
