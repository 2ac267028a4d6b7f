/*
 * verifier: how a source (a receiving URL /in/{id}) authenticates each
 * request it receives. Pure: no I/O, no clock (the caller passes now).
 *
 * Three shapes of the same thing, as for webhooks (core/webhook.h):
 *   body   — the API's "verification" object;
 *   config — what is stored: the body normalised (defaults filled, "secret"
 *            turned into "secrets": [..]), secrets included;
 *   struct verifier — compiled: keys decoded, expected credentials ready,
 *            so a request costs only the HMACs and comparisons.
 *
 * Kinds (body → meaning):
 *   {kind:"none"}                     every request passes;
 *   {kind:"basic", username, password} Authorization: Basic base64(user:password)
 *                                     (scheme in any case; username without ":");
 *   {kind:"apiKey", header?, key, prefix?}
 *                                     header (default Authorization) is
 *                                     "<prefix> <key>" (prefix in any case,
 *                                     one or more spaces), or "<key>";
 *   {kind:"hmac", header, hash, encoding, prefix?, secret | secrets}
 *                                     header is prefix + hex or base64 of
 *                                     HMAC-<hash>(secret, raw body); hash is
 *                                     sha1, sha256 or sha512; hex in any case,
 *                                     base64 padded or not, prefix in any case;
 *   {kind:"standard", secret | secrets, toleranceSeconds?}
 *                                     Standard Webhooks: webhook-id,
 *                                     webhook-timestamp, webhook-signature
 *                                     ("v1,<b64>" list) over "id.timestamp.body",
 *                                     secrets "whsec_<base64 of 16-128 bytes>",
 *                                     timestamp within toleranceSeconds
 *                                     (1-86400, default 300) either way;
 *   {preset:"acesso", secret | secrets}  = hmac, Acesso-Signature, sha256, base64;
 *   {preset:"github", secret | secrets}  = hmac, X-Hub-Signature-256, sha256,
 *                                          hex, prefix "sha256=";
 *   {preset:"svix", secret | secrets, toleranceSeconds?}
 *                                     = standard with svix-id, svix-timestamp,
 *                                       svix-signature.
 * A preset is stored by its name ({preset, secrets}) and expanded when
 * compiled, so answers keep showing the preset the person chose.
 * "secrets" (1 to VERIFIER_MAX_SECRETS) accepts any of several secrets while
 * the sender rotates; every one is tried on every request. basic and apiKey
 * take one credential (no rotation list).
 */
#ifndef GANCHO_CORE_VERIFIER_H
#define GANCHO_CORE_VERIFIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/gerr.h"

#define VERIFIER_MAX_SECRETS 8
#define VERIFIER_ID_MAX      256 /* longest webhook-id / svix-id accepted */

struct verifier;

/* One received header. Names compare case-insensitively; values are
 * NUL-terminated (the same layout as the HTTP parser's struct http_kv). */
struct verifier_header {
	const char *name;
	const char *value;
};

/* The outcome of one request. reason is for the source's rejections list:
 * it names headers and says what was wrong, never a secret, a credential or
 * a received signature. */
struct verifier_result {
	bool ok;
	const char *code; /* static: "ok", "missing_header", "duplicate_header",
	                     "malformed_credentials", "bad_credentials",
	                     "malformed_signature", "signature_mismatch",
	                     "malformed_id", "malformed_timestamp",
	                     "timestamp_out_of_tolerance" */
	char reason[160];
	/* standard / svix, when ok: the signed message id (the sender's
	 * identity for the message, to deduplicate by; 1 to VERIFIER_ID_MAX
	 * printable ASCII characters without spaces, else malformed_id) and
	 * timestamp. Empty and 0 otherwise. */
	char msg_id[VERIFIER_ID_MAX + 1];
	int64_t timestamp;
};

/* verifier_config_build: validate a "verification" body into a stored config
 * (*out, new reference). With existing (the stored config being patched),
 * a body of the same kind or preset, or one naming neither, is merged onto
 * it: fields given replace the stored ones, null removes an optional one,
 * absent ones (secrets included, which answers never show) are kept;
 * "secret" and "secrets" replace each other. A body of another kind or
 * preset replaces the config whole. Refusals are GERR_INVALID with 400 and
 * code invalid_field (missing_field for an absent required field), the
 * message naming the field ("verification.header: ..."). */
int verifier_config_build(const json_t *body, const json_t *existing, json_t **out,
                          struct gerr *err);

/* verifier_compile: a new struct verifier from a stored config (as built by
 * verifier_config_build). Free with verifier_free; it holds no reference to
 * config. The verifier is immutable: threads may check with it at once. */
int verifier_compile(const json_t *config, struct verifier **out, struct gerr *err);
/* verifier_free: wipe the keys and free; NULL is fine. */
void verifier_free(struct verifier *v);

/* verifier_check: does a request with headers[0..nheaders) and the raw body
 * body[0..len) pass? now_s is the current Unix time in seconds (standard and
 * svix tolerances). A header needed by the check that is given twice with
 * different values is a refusal. Fills *res and returns res->ok. */
bool verifier_check(const struct verifier *v, const struct verifier_header *headers,
                    size_t nheaders, const void *body, size_t len, int64_t now_s,
                    struct verifier_result *res);

/* verifier_kind: "none", "basic", "apiKey", "hmac" or "standard" (a preset's
 * expansion). Static string. */
const char *verifier_kind(const struct verifier *v);
/* verifier_signs_id: the check yields a signed message id (standard, svix),
 * the default id of a receipt from such a source. */
bool verifier_signs_id(const struct verifier *v);

/* verifier_is_credential: the header name carries this verifier's
 * credential or signature (Authorization for basic; the apiKey or hmac
 * header; the signature header of standard/svix). Such a header is never
 * kept with a receipt. */
bool verifier_is_credential(const struct verifier *v, const char *name);

/* verifier_to_json: the API's view of a stored config, without its secrets:
 * kind (and preset, with its expansion: header, hash, encoding, prefix,
 * toleranceSeconds), the non-secret fields (username, header, prefix, ...)
 * and "secretCount" for secret-based kinds. No password, key, secret or part
 * of one. New reference. */
json_t *verifier_to_json(const json_t *config);

#endif
