/*
 * sign: the signatures gancho puts on outgoing webhooks and checks on
 * incoming ones. Pure functions over OpenSSL's HMAC and digests; no I/O.
 *
 * - Acesso RH "secret": header Acesso-Signature = base64(HMAC-SHA256(secret, body)).
 * - Standard Webhooks: webhook-signature = "v1," + base64(HMAC-SHA256(key,
 *   "<id>.<timestamp>.<body>")), key = base64-decoded part of "whsec_<b64>";
 *   several space-separated signatures while a secret rotates.
 * - Basic auth: "basic " + base64(user ":" password) (Acesso RH's wording).
 * - Generic HMAC (sha1, sha256, sha512) for checking what other senders sign,
 *   one-shot (sign_hmac_raw) or pre-keyed (struct sign_hmac_key) when the same
 *   secret checks many messages.
 */
#ifndef GANCHO_CORE_SIGN_H
#define GANCHO_CORE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGN_B64_LEN      45  /* base64 of 32 bytes + NUL */
#define SIGN_KEY_MAX      128 /* longest decoded Standard Webhooks key */
#define SIGN_STANDARD_LEN 48  /* "v1," + 44 + NUL */
#define SIGN_MAC_MAX      64  /* longest raw HMAC (sha512) */

/* sign_hmac_raw: HMAC(hash, key, msg) as bytes into out; hash is "sha1",
 * "sha256" or "sha512". Returns the MAC's length or -1. */
int sign_hmac_raw(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  unsigned char out[SIGN_MAC_MAX]);
/* sign_hmac_len: the MAC length of hash in bytes, or -1 when not offered. */
int sign_hmac_len(const char *hash);

/* struct sign_hmac_key: a secret prepared once for HMAC(hash, key, ·): the
 * digest fetched and the keyed inner and outer states computed, so each
 * message costs only the hashing. Immutable once made: one key may be used
 * from several threads at once. Holds key-equivalent material. */
struct sign_hmac_key;
/* sign_hmac_key_new: a key for hash ("sha1", "sha256", "sha512", as for
 * sign_hmac_raw) and key[0..keylen) (empty allowed; the bytes are copied
 * into the states, not kept). NULL for an unknown hash or out of memory.
 * The caller owns the result (sign_hmac_key_free). */
struct sign_hmac_key *sign_hmac_key_new(const char *hash, const void *key, size_t keylen);
/* sign_hmac_keyed: HMAC of msg[0..len) under k into out, the same bytes as
 * sign_hmac_raw with k's hash and key. Returns the MAC's length or -1. */
int sign_hmac_keyed(const struct sign_hmac_key *k, const void *msg, size_t len,
                    unsigned char out[SIGN_MAC_MAX]);
/* sign_hmac_key_free: clear and free k; NULL is fine. */
void sign_hmac_key_free(struct sign_hmac_key *k);

/* sign_hmac_b64: base64(HMAC(hash, key, msg)); hash as for sign_hmac_raw.
 * out must hold 89 bytes for sha512. Returns 0 or -1. */
int sign_hmac_b64(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  char *out, size_t outsz);
/* sign_hmac_hex: lowercase hex of HMAC(hash, key, msg). out holds 129 bytes for sha512. */
int sign_hmac_hex(const char *hash, const void *key, size_t keylen, const void *msg, size_t len,
                  char *out, size_t outsz);

/* sign_acesso: Acesso-Signature value for body under secret. */
int sign_acesso(const char *secret, const void *body, size_t len, char out[SIGN_B64_LEN]);
/* sign_acesso_keyed: the same, under a secret made into a pre-keyed
 * HMAC-SHA256 (sign_hmac_key_new("sha256", secret, strlen(secret))): what a
 * compiled webhook signs each delivery with. */
int sign_acesso_keyed(const struct sign_hmac_key *k, const void *body, size_t len,
                      char out[SIGN_B64_LEN]);

/* sign_standard_key: decode "whsec_<base64>" (the prefix is optional) into key.
 * Returns the key length or -1 when the secret is malformed. */
int sign_standard_key(const char *secret, unsigned char key[SIGN_KEY_MAX]);
/* sign_standard: one "v1,<base64>" signature of "<msg_id>.<ts>.<body>". */
int sign_standard(const unsigned char *key, size_t keylen, const char *msg_id, int64_t ts,
                  const void *body, size_t len, char out[SIGN_STANDARD_LEN]);
/* sign_standard_ts: a webhook-timestamp as seconds: plain digits only, at
 * most 18 of them (no sign, no space, no overflow). -1 when malformed. */
int64_t sign_standard_ts(const char *ts_str);
/* sign_standard_match: true when header (space-separated "v1,<sig>" list)
 * holds a valid signature of "<msg_id>.<ts_str>.<body>" under any of
 * keys[0..nkeys). Every key and entry is compared, in constant time. The
 * timestamp is not judged here. */
bool sign_standard_match(const unsigned char *const *keys, const size_t *keylens, int nkeys,
                         const char *msg_id, const char *ts_str, const void *body, size_t len,
                         const char *header);
/* sign_standard_verify: sign_standard_match, and ts_str well formed with
 * |now_s - ts| <= tolerance_s. */
bool sign_standard_verify(const unsigned char *const *keys, const size_t *keylens, int nkeys,
                          const char *msg_id, const char *ts_str, const void *body, size_t len,
                          const char *header, int64_t now_s, int64_t tolerance_s);

/* sign_basic: "basic <base64(user:password)>" into out; -1 when too small. */
int sign_basic(const char *user, const char *password, char *out, size_t outsz);

/* sign_equal: constant-time comparison of two byte strings of public length
 * (a length difference returns at once). */
bool sign_equal(const void *a, size_t alen, const void *b, size_t blen);
/* sign_secret_equal: like sign_equal for strings whose length is secret too
 * (passwords, API keys): the time taken depends on neither content nor
 * which length differs. */
bool sign_secret_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
