/*
 * connection: an ATS or job board API that gancho calls on a company's
 * behalf (Gupy, HelloWork) — its base URL and its credentials, given once
 * and used by every route action that names the connection. Pure: no I/O.
 *
 * Three shapes, as for sources and webhooks:
 *   body   — what POST/PATCH /api/v1/connections receives:
 *            {name, kind, baseUrl?, token | authorization};
 *   config — what is stored: {name, kind, baseUrl, token | authorization},
 *            baseUrl always present (the kind's default filled in, trailing
 *            '/' removed), the credential included;
 *   answer — connection_to_json: {id, name, kind, baseUrl, credential:
 *            {kind: "token" | "authorization", hint}, createdAt, updatedAt};
 *            the credential itself is never answered (hint: "…" and its last
 *            4 characters, null when it is shorter than CONNECTION_HINT_MIN).
 *
 * Fields (body):
 *   name           required, 1-200 characters;
 *   kind           required, "gupy" or "hellowork"; a PATCH may repeat it but
 *                  not change it (the actions that use a connection are of
 *                  its kind);
 *   baseUrl        optional: https://api.gupy.io for gupy,
 *                  https://ats-partner.hellowork.com for hellowork; an
 *                  absolute URL without query or fragment, checked by
 *                  core/urlcheck as webhook URLs are (http and private
 *                  addresses only with allow_http / allow_private);
 *   token          sent as "Authorization: Bearer <token>": 1-4096 bytes of
 *                  visible ASCII (no space);
 *   authorization  the whole Authorization header value, sent as it is:
 *                  1-4096 bytes of printable ASCII, not starting or ending
 *                  with a space.
 * Exactly one of token and authorization: both in one body is refused; on a
 * PATCH the one given replaces the stored one (of either kind).
 *
 * One rule for bodies, as everywhere (webhook_only_keys): a field gancho does
 * not know, a field of the wrong type, a value out of range or a field set
 * by gancho (credential, createdAt, updatedAt) is refused with 400 naming
 * the field, never ignored. On a PATCH, given fields replace the stored
 * ones, null puts baseUrl back to its default, absent fields are kept.
 *
 * A route action that uses a connection is delivered by a target (a webhook
 * row, core/route.h) whose config carries "connectionId" and the webhook
 * "authorization" that connection_authorization makes: the apiKey kind of
 * core/webhook.c, so the target sends the connection's header line with the
 * webhook code unchanged.
 */
#ifndef GANCHO_CORE_CONNECTION_H
#define GANCHO_CORE_CONNECTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/gerr.h"

/* CONNECTION_SECRET_MAX is the webhook apiKey's bound on a key. */
#define CONNECTION_NAME_MAX   200  /* characters */
#define CONNECTION_SECRET_MAX 4096 /* bytes of a token or authorization */
#define CONNECTION_URL_MAX    2048 /* bytes of baseUrl */
#define CONNECTION_HINT_MIN   12   /* a shorter credential gets no hint */

#define CONNECTION_GUPY_URL      "https://api.gupy.io"
#define CONNECTION_HELLOWORK_URL "https://ats-partner.hellowork.com"

/* connection_config_build: validate a create body (existing NULL) or apply a
 * PATCH body onto a stored config. *out gets the new stored config (new
 * reference), set only on success. "id" in the body is the API's business
 * and skipped here. Refusals: GERR_INVALID, 400, code invalid_field
 * (missing_field for an absent required field, invalid_json for a body that
 * is not an object), the message naming the field. allow_http and
 * allow_private are urlcheck's (development only). */
int connection_config_build(const json_t *body, const json_t *existing, bool allow_http,
                            bool allow_private, json_t **out, struct gerr *err);

/* connection_default_url: the base URL of kind when none is given; NULL for
 * an unknown kind. */
const char *connection_default_url(const char *kind);

/* connection_to_json: the API's answer for a stored config (see above),
 * never the credential. New reference, NULL when out of memory. */
json_t *connection_to_json(const json_t *config, const char *id, int64_t created_at,
                           int64_t updated_at);

/* connection_authorization: the webhook "authorization" object a target of
 * this connection carries: {"kind":"apiKey","data":{"key":<token>,
 * "prefix":"Bearer"}} for a token, {"kind":"apiKey","data":{"key":
 * <authorization>}} for a whole header value (core/webhook.c sends
 * "Authorization: <prefix> <key>" or "Authorization: <key>"). New reference;
 * NULL when the config holds no credential or out of memory. */
json_t *connection_authorization(const json_t *config);

/* connection_same_credentials: a and b (stored configs) send the same
 * Authorization header: a PATCH that keeps it rewrites no target. */
bool connection_same_credentials(const json_t *a, const json_t *b);

#endif
