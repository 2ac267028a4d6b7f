/*
 * test_sign: signatures against known vectors (Standard Webhooks' own
 * example, values computed with the openssl CLI) and the verifier's
 * refusals: tampered body, wrong key, stale or future timestamps. The
 * pre-keyed HMAC against OpenSSL's HMAC() on both sides of every block size,
 * RFC 4231's vectors, and one key shared by several threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/sign.h"
#include "util/base64.h"

/* The example from the Standard Webhooks specification. */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS     1614265330
#define SW_BODY   "{\"test\": 2432232314}"
#define SW_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_base64_roundtrip(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *b64;
	} v[] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	char enc[64];
	unsigned char dec[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].plain);
		assert_int_equal(base64_encode(v[i].plain, n, enc, sizeof(enc)),
		                 (int)strlen(v[i].b64));
		assert_string_equal(enc, v[i].b64);
		assert_int_equal(base64_decode(enc, strlen(enc), dec, sizeof(dec)), (int)n);
		assert_memory_equal(dec, v[i].plain, n);
	}

	/* Every byte value survives, at every length mod 3. */
	unsigned char all[256], back[256];
	char text[BASE64_ENCODED_LEN(256)];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (size_t n = 253; n <= 256; n++) {
		int tl = base64_encode(all, n, text, sizeof(text));
		assert_true(tl > 0);
		assert_int_equal(base64_decode(text, (size_t)tl, back, sizeof(back)), (int)n);
		assert_memory_equal(back, all, n);
	}

	/* Padding is optional. */
	assert_int_equal(base64_decode("Zm8", 3, dec, sizeof(dec)), 2);
	assert_memory_equal(dec, "fo", 2);
	assert_int_equal(base64_decode("Zg", 2, dec, sizeof(dec)), 1);
	assert_memory_equal(dec, "f", 1);
}

static void test_base64_rejects(void **state)
{
	(void)state;
	unsigned char dec[64];
	char enc[16];

	assert_int_equal(base64_decode("Zm9v!", 5, dec, sizeof(dec)), -1);    /* bad char */
	assert_int_equal(base64_decode("Zm 9v", 5, dec, sizeof(dec)), -1);    /* whitespace */
	assert_int_equal(base64_decode("Zm9-", 4, dec, sizeof(dec)), -1);     /* base64url */
	assert_int_equal(base64_decode("Zm9vY", 5, dec, sizeof(dec)), -1);    /* 6 lone bits */
	assert_int_equal(base64_decode("Zg=", 3, dec, sizeof(dec)), -1);      /* partial padding */
	assert_int_equal(base64_decode("Z===", 4, dec, sizeof(dec)), -1);     /* too much padding */
	assert_int_equal(base64_decode("Zg==Zg==", 8, dec, sizeof(dec)), -1); /* padding inside */
	assert_int_equal(base64_decode("=", 1, dec, sizeof(dec)), -1);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 5), -1); /* out too small */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 6), 6);
	assert_int_equal(base64_encode("foobar", 6, enc, 8), -1); /* needs 9 */
	assert_int_equal(base64_encode("foobar", 6, enc, 9), 8);
}

static void test_standard_known_vector(void **state)
{
	(void)state;
	unsigned char key[SIGN_KEY_MAX];
	char sig[SIGN_STANDARD_LEN];

	int klen = sign_standard_key(SW_SECRET, key);
	assert_int_equal(klen, 24);
	assert_int_equal(
	    sign_standard(key, (size_t)klen, SW_ID, SW_TS, SW_BODY, strlen(SW_BODY), sig), 0);
	assert_string_equal(sig, SW_SIG);

	/* The "whsec_" prefix is optional. */
	unsigned char key2[SIGN_KEY_MAX];
	assert_int_equal(sign_standard_key(SW_SECRET + 6, key2), klen);
	assert_memory_equal(key, key2, (size_t)klen);

	/* Malformed secrets. */
	assert_int_equal(sign_standard_key("whsec_", key), -1);
	assert_int_equal(sign_standard_key("", key), -1);
	assert_int_equal(sign_standard_key("whsec_not base64!", key), -1);
	char big[2 * SIGN_KEY_MAX + 16] = "whsec_";
	for (int i = 6; i < 6 + 4 * 44; i++) /* 176 chars → 132 bytes > SIGN_KEY_MAX */
		big[i] = 'A';
	big[6 + 4 * 44] = '\0';
	assert_int_equal(sign_standard_key(big, key), -1);
}

/* verify_one: sign_standard_verify with the spec's key and message. */
static bool verify_one(const unsigned char *key, size_t klen, const char *ts, const char *body,
                       const char *header, int64_t now)
{
	const unsigned char *keys[1] = {key};
	size_t lens[1] = {klen};
	return sign_standard_verify(keys, lens, 1, SW_ID, ts, body, strlen(body), header, now, 300);
}

static void test_standard_verify(void **state)
{
	(void)state;
	unsigned char key[SIGN_KEY_MAX], other[SIGN_KEY_MAX];
	int klen = sign_standard_key(SW_SECRET, key);
	int olen = sign_standard_key("whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHM=", other);
	assert_true(klen > 0 && olen > 0);

	/* Right signature, at the timestamp and at the tolerance's edges. */
	assert_true(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, SW_TS));
	assert_true(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, SW_TS + 300));
	assert_true(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, SW_TS - 300));

	/* Tampered body, wrong key. */
	assert_false(
	    verify_one(key, (size_t)klen, "1614265330", "{\"test\": 2432232315}", SW_SIG, SW_TS));
	assert_false(verify_one(other, (size_t)olen, "1614265330", SW_BODY, SW_SIG, SW_TS));
	/* Tampered signature, or the timestamp signed differently. */
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY,
	                        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", SW_TS));
	assert_false(verify_one(key, (size_t)klen, "1614265331", SW_BODY, SW_SIG, SW_TS));

	/* Stale (> 300 s old) and future (> 300 s ahead). */
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, SW_TS + 301));
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, SW_TS - 301));

	/* The timestamp must be plain digits. */
	assert_false(verify_one(key, (size_t)klen, "", SW_BODY, SW_SIG, SW_TS));
	assert_false(verify_one(key, (size_t)klen, "+1614265330", SW_BODY, SW_SIG, SW_TS));
	assert_false(verify_one(key, (size_t)klen, "1614265330 ", SW_BODY, SW_SIG, SW_TS));
	assert_false(verify_one(key, (size_t)klen, "-1614265330", SW_BODY, SW_SIG, SW_TS));

	/* Rotation: the valid signature is the second of two. */
	char old[SIGN_STANDARD_LEN], header[2 * SIGN_STANDARD_LEN + 8];
	assert_int_equal(
	    sign_standard(other, (size_t)olen, SW_ID, SW_TS, SW_BODY, strlen(SW_BODY), old), 0);
	snprintf(header, sizeof(header), "%s %s", old, SW_SIG);
	assert_true(verify_one(key, (size_t)klen, "1614265330", SW_BODY, header, SW_TS));
	assert_true(verify_one(other, (size_t)olen, "1614265330", SW_BODY, header, SW_TS));

	/* Several keys on our side: any one matching is enough. */
	const unsigned char *keys[2] = {other, key};
	size_t lens[2] = {(size_t)olen, (size_t)klen};
	assert_true(sign_standard_verify(keys, lens, 2, SW_ID, "1614265330", SW_BODY,
	                                 strlen(SW_BODY), SW_SIG, SW_TS, 300));
	assert_false(sign_standard_verify(keys, lens, 1, SW_ID, "1614265330", SW_BODY,
	                                  strlen(SW_BODY), SW_SIG, SW_TS, 300));

	/* Other versions are ignored, not mistaken for v1. */
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY,
	                        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SW_TS));
	assert_true(verify_one(key, (size_t)klen, "1614265330", SW_BODY, "v1a,xyz " SW_SIG, SW_TS));
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, "", SW_TS));
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, "v1,", SW_TS));

	/* An absurd clock does not overflow the tolerance arithmetic. */
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, INT64_MIN));
	assert_false(verify_one(key, (size_t)klen, "1614265330", SW_BODY, SW_SIG, INT64_MAX));
	assert_false(
	    verify_one(key, (size_t)klen, "999999999999999999", SW_BODY, SW_SIG, INT64_MIN + 5));

	/* The signature alone, whatever the clock. */
	const unsigned char *one[1] = {key};
	size_t onelen[1] = {(size_t)klen};
	assert_true(sign_standard_match(one, onelen, 1, SW_ID, "1614265330", SW_BODY,
	                                strlen(SW_BODY), SW_SIG));
	assert_false(sign_standard_match(one, onelen, 1, SW_ID, "1614265331", SW_BODY,
	                                 strlen(SW_BODY), SW_SIG));
	assert_false(sign_standard_match(one, onelen, 0, SW_ID, "1614265330", SW_BODY,
	                                 strlen(SW_BODY), SW_SIG));
}

static void test_acesso(void **state)
{
	(void)state;
	/* Expected value from:
	 *   printf '%s' '{"event":"candidate.hired","id":42}' \
	 *     | openssl dgst -sha256 -hmac 's3cr3t-acesso' -binary | base64 */
	const char *body = "{\"event\":\"candidate.hired\",\"id\":42}";
	char sig[SIGN_B64_LEN];

	assert_int_equal(sign_acesso("s3cr3t-acesso", body, strlen(body), sig), 0);
	assert_string_equal(sig, "Myj2m7sIsIcvpnub2SdeehdY98+S8n0KFobsgzPX94s=");
	assert_int_equal(sign_acesso("s3cr3t-acessO", body, strlen(body), sig), 0);
	assert_string_not_equal(sig, "Myj2m7sIsIcvpnub2SdeehdY98+S8n0KFobsgzPX94s=");
}

/* A compiled webhook's Acesso-Signature (pre-keyed) is sign_acesso's, for
 * the known vector and for secrets and bodies of every length around the
 * block size; without a key nothing is signed. */
static void test_acesso_keyed(void **state)
{
	(void)state;
	const char *body = "{\"event\":\"candidate.hired\",\"id\":42}";
	char sig[SIGN_B64_LEN], want[SIGN_B64_LEN];
	struct sign_hmac_key *k = sign_hmac_key_new("sha256", "s3cr3t-acesso", 13);
	assert_non_null(k);
	assert_int_equal(sign_acesso_keyed(k, body, strlen(body), sig), 0);
	assert_string_equal(sig, "Myj2m7sIsIcvpnub2SdeehdY98+S8n0KFobsgzPX94s=");
	sign_hmac_key_free(k);
	static char secret[200], big[1500];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	static const size_t slen[] = {1, 32, 63, 64, 65, 150};
	static const size_t blen[] = {0, 1, 64, 1400};
	for (size_t a = 0; a < sizeof(slen) / sizeof(slen[0]); a++) {
		memset(secret, 0, sizeof(secret));
		for (size_t i = 0; i < slen[a]; i++)
			secret[i] = (char)('A' + (i * 7 + a) % 50);
		k = sign_hmac_key_new("sha256", secret, strlen(secret));
		assert_non_null(k);
		for (size_t b = 0; b < sizeof(blen) / sizeof(blen[0]); b++) {
			assert_int_equal(sign_acesso(secret, big, blen[b], want), 0);
			assert_int_equal(sign_acesso_keyed(k, big, blen[b], sig), 0);
			assert_string_equal(sig, want);
		}
		sign_hmac_key_free(k);
	}
	assert_int_equal(sign_acesso_keyed(NULL, body, strlen(body), sig), -1);
}

static void test_hmac_variants(void **state)
{
	(void)state;
	char out[129];

	/* Expected value from:
	 *   printf '%s' 'hello gancho' | openssl dgst -sha512 -hmac 'k3y' -hex */
	assert_int_equal(sign_hmac_hex("sha512", "k3y", 3, "hello gancho", 12, out, sizeof(out)),
	                 0);
	assert_string_equal(out,
	                    "e5bc9f3223fb9ad9e1409cd96b72c90fba0d814ebae309e900cccf02f084ee77"
	                    "9ff483a5ab594d220c2772d03b2c350231dea7c15dda6e7d4271e13b8a3db365");
	assert_int_equal(sign_hmac_hex("sha512", "k3y", 3, "hello gancho", 12, out, 128), -1);

	/* printf '%s' '{"test": 2432232314}' | openssl dgst -sha256 -hmac 's3cr3t-acesso' -hex */
	assert_int_equal(sign_hmac_hex("sha256", "s3cr3t-acesso", 13, SW_BODY, strlen(SW_BODY), out,
	                               sizeof(out)),
	                 0);
	assert_string_equal(out,
	                    "b01656434e2ea2a22da4705fd279290d0fdff0a2493d2c261f134f57b749bdb3");

	/* b64 agrees with the Acesso helper. */
	const char *body = "{\"event\":\"candidate.hired\",\"id\":42}";
	assert_int_equal(
	    sign_hmac_b64("sha256", "s3cr3t-acesso", 13, body, strlen(body), out, sizeof(out)), 0);
	assert_string_equal(out, "Myj2m7sIsIcvpnub2SdeehdY98+S8n0KFobsgzPX94s=");
	assert_int_equal(sign_hmac_b64("sha512", "k", 1, "m", 1, out, 89), 0);
	assert_int_equal(strlen(out), 88);
	assert_int_equal(sign_hmac_b64("sha512", "k", 1, "m", 1, out, 88), -1);

	/* SHA-1, offered for checking senders that still use it:
	 *   printf '%s' 'hello gancho' | openssl dgst -sha1 -hmac 'k3y' -hex
	 *   printf '%s' 'hello gancho' | openssl dgst -sha1 -hmac 'k3y' -binary | base64 */
	assert_int_equal(sign_hmac_hex("sha1", "k3y", 3, "hello gancho", 12, out, sizeof(out)), 0);
	assert_string_equal(out, "8b1e4dfa7f7214e227ab4acc6de2af65dc266205");
	assert_int_equal(sign_hmac_b64("sha1", "k3y", 3, "hello gancho", 12, out, sizeof(out)), 0);
	assert_string_equal(out, "ix5N+n9yFOInq0rMbeKvZdwmYgU=");
	unsigned char raw[SIGN_MAC_MAX];
	assert_int_equal(sign_hmac_raw("sha1", "k3y", 3, "hello gancho", 12, raw), 20);
	assert_int_equal(raw[0], 0x8b);
	assert_int_equal(raw[19], 0x05);
	assert_int_equal(sign_hmac_raw("sha512", "k3y", 3, "hello gancho", 12, raw), 64);
	assert_int_equal(raw[0], 0xe5);
	assert_int_equal(raw[63], 0x65);
	assert_int_equal(sign_hmac_len("sha1"), 20);
	assert_int_equal(sign_hmac_len("sha256"), 32);
	assert_int_equal(sign_hmac_len("sha512"), 64);
	assert_int_equal(sign_hmac_len("md5"), -1);
	assert_int_equal(sign_hmac_len(NULL), -1);

	/* Unknown hashes are refused. */
	assert_int_equal(sign_hmac_raw("SHA1", "k", 1, "m", 1, raw), -1);
	assert_int_equal(sign_hmac_hex("md5", "k", 1, "m", 1, out, sizeof(out)), -1);
	assert_int_equal(sign_hmac_hex("SHA256x", "k", 1, "m", 1, out, sizeof(out)), -1);

	/* An empty key and an empty message are still well defined. */
	assert_int_equal(sign_hmac_hex("sha256", "", 0, "", 0, out, sizeof(out)), 0);
	/* printf '' | openssl dgst -sha256 -hmac '' -hex */
	assert_string_equal(out,
	                    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_basic(void **state)
{
	(void)state;
	char out[64];

	assert_int_equal(sign_basic("user", "pass", out, sizeof(out)), 0);
	assert_string_equal(out, "basic dXNlcjpwYXNz");
	assert_int_equal(sign_basic("user", "pass", out, 19), 0); /* exactly enough */
	assert_int_equal(sign_basic("user", "pass", out, 18), -1);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(sign_equal("abc", 3, "abc", 3));
	assert_false(sign_equal("abc", 3, "abd", 3));
	assert_false(sign_equal("abc", 3, "abcd", 4));
	assert_true(sign_equal("", 0, "", 0));
}

static void test_secret_equal(void **state)
{
	(void)state;
	assert_true(sign_secret_equal("abc", 3, "abc", 3));
	assert_false(sign_secret_equal("abc", 3, "abd", 3));
	assert_false(sign_secret_equal("abc", 3, "abcd", 4));
	assert_false(sign_secret_equal("abc", 3, "ab", 2));
	assert_false(sign_secret_equal("abc", 3, "", 0));
	assert_true(sign_secret_equal("", 0, "", 0));
	assert_true(sign_secret_equal(NULL, 0, "", 0));
	/* Bytes after a NUL count. */
	assert_false(sign_secret_equal("a\0b", 3, "a\0c", 3));
	assert_true(sign_secret_equal("a\0b", 3, "a\0b", 3));
}

static void test_standard_ts(void **state)
{
	(void)state;
	assert_int_equal(sign_standard_ts("0"), 0);
	assert_int_equal(sign_standard_ts("1614265330"), 1614265330);
	assert_int_equal(sign_standard_ts("000000000000000042"), 42);
	assert_true(sign_standard_ts("999999999999999999") == 999999999999999999LL);
	assert_int_equal(sign_standard_ts("1000000000000000000"), -1); /* 19 digits */
	assert_int_equal(sign_standard_ts("99999999999999999999999999"), -1);
	assert_int_equal(sign_standard_ts(""), -1);
	assert_int_equal(sign_standard_ts(NULL), -1);
	assert_int_equal(sign_standard_ts("-5"), -1);
	assert_int_equal(sign_standard_ts("+5"), -1);
	assert_int_equal(sign_standard_ts(" 5"), -1);
	assert_int_equal(sign_standard_ts("5 "), -1);
	assert_int_equal(sign_standard_ts("1e9"), -1);
	assert_int_equal(sign_standard_ts("0x10"), -1);
}

/* fill: deterministic, varied bytes (every value turns up). */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(x >> 24);
	}
}

static void test_hmac_keyed_matches_hmac(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const EVP_MD *(*md)(void);
	} hashes[] = {{"sha1", EVP_sha1}, {"sha256", EVP_sha256}, {"sha512", EVP_sha512}};
	/* Both sides of the 64-byte (sha1, sha256) and 128-byte (sha512) blocks. */
	static const size_t keylens[] = {0, 1, 63, 64, 65, 127, 128, 129, 300};
	static const size_t msglens[] = {0, 1, 55, 56, 64, 1000, 1400};
	unsigned char key[300], msg[1400], got[SIGN_MAC_MAX], want[EVP_MAX_MD_SIZE];

	for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
		for (size_t ki = 0; ki < sizeof(keylens) / sizeof(keylens[0]); ki++) {
			size_t kl = keylens[ki];
			fill(key, sizeof(key), (uint32_t)(100 + ki));
			struct sign_hmac_key *k = sign_hmac_key_new(hashes[h].name, key, kl);
			assert_non_null(k);
			for (size_t mi = 0; mi < sizeof(msglens) / sizeof(msglens[0]); mi++) {
				size_t ml = msglens[mi];
				unsigned int wl = 0;
				fill(msg, sizeof(msg), (uint32_t)(7 + mi + 31 * ki));
				assert_non_null(
				    HMAC(hashes[h].md(), key, (int)kl, msg, ml, want, &wl));
				memset(got, 0, sizeof(got));
				assert_int_equal(sign_hmac_keyed(k, msg, ml, got), (int)wl);
				assert_memory_equal(got, want, wl);
				/* And the one-shot path agrees too. */
				assert_int_equal(
				    sign_hmac_raw(hashes[h].name, key, kl, msg, ml, got), (int)wl);
				assert_memory_equal(got, want, wl);
			}
			sign_hmac_key_free(k);
		}
	}
}

/* hex_bytes: the bytes of a hex literal (test data only). */
static size_t hex_bytes(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (unsigned char)b;
	}
	return n;
}

static void test_hmac_keyed_rfc4231(void **state)
{
	(void)state;
	static const struct {
		const char *key, *data, *mac;
	} v[] = {
	    /* Test Case 1 */
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    /* Test Case 6: a 131-byte key, longer than the block, hashed first. */
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaa",
	     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
	     "65204b6579202d2048617368204b6579204669727374",
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	};
	unsigned char key[131], data[64], mac[32], got[SIGN_MAC_MAX];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t kl = hex_bytes(v[i].key, key);
		size_t dl = hex_bytes(v[i].data, data);
		assert_int_equal(hex_bytes(v[i].mac, mac), 32);
		struct sign_hmac_key *k = sign_hmac_key_new("sha256", key, kl);
		assert_non_null(k);
		assert_int_equal(sign_hmac_keyed(k, data, dl, got), 32);
		assert_memory_equal(got, mac, 32);
		/* The key is reusable: the same MAC again. */
		memset(got, 0, sizeof(got));
		assert_int_equal(sign_hmac_keyed(k, data, dl, got), 32);
		assert_memory_equal(got, mac, 32);
		sign_hmac_key_free(k);
	}
	assert_int_equal(hex_bytes("", key), 0);
}

static void test_hmac_keyed_edges(void **state)
{
	(void)state;
	unsigned char a[SIGN_MAC_MAX], b[SIGN_MAC_MAX];

	/* Unknown hashes, as for sign_hmac_raw; a missing key with a length. */
	assert_null(sign_hmac_key_new("SHA256", "k", 1));
	assert_null(sign_hmac_key_new("md5", "k", 1));
	assert_null(sign_hmac_key_new(NULL, "k", 1));
	assert_null(sign_hmac_key_new("sha256", NULL, 1));
	sign_hmac_key_free(NULL);

	/* An empty key (NULL or not) and an empty message (NULL or not):
	 * printf '' | openssl dgst -sha256 -hmac '' -hex */
	struct sign_hmac_key *k0 = sign_hmac_key_new("sha256", NULL, 0);
	struct sign_hmac_key *k1 = sign_hmac_key_new("sha256", "", 0);
	assert_non_null(k0);
	assert_non_null(k1);
	assert_int_equal(sign_hmac_keyed(k0, NULL, 0, a), 32);
	assert_int_equal(sign_hmac_keyed(k1, "", 0, b), 32);
	assert_memory_equal(a, b, 32);
	assert_int_equal(a[0], 0xb6);
	assert_int_equal(a[31], 0xad);
	assert_int_equal(sign_hmac_raw("sha256", "", 0, "", 0, b), 32);
	assert_memory_equal(a, b, 32);

	/* A missing message with a length, a missing key or output. */
	assert_int_equal(sign_hmac_keyed(k0, NULL, 1, a), -1);
	assert_int_equal(sign_hmac_keyed(NULL, "m", 1, a), -1);
	assert_int_equal(sign_hmac_keyed(k0, "m", 1, NULL), -1);
	sign_hmac_key_free(k0);
	sign_hmac_key_free(k1);

	/* The key's bytes after a NUL count; lengths as for sign_hmac_raw. */
	struct sign_hmac_key *k = sign_hmac_key_new("sha1", "k3y\0x", 5);
	assert_non_null(k);
	assert_int_equal(sign_hmac_keyed(k, "hello gancho", 12, a), 20);
	assert_int_equal(sign_hmac_raw("sha1", "k3y\0x", 5, "hello gancho", 12, b), 20);
	assert_memory_equal(a, b, 20);
	assert_int_equal(sign_hmac_raw("sha1", "k3y", 3, "hello gancho", 12, b), 20);
	assert_memory_not_equal(a, b, 20);
	sign_hmac_key_free(k);
}

#define KEYED_THREADS 4
#define KEYED_ROUNDS  2000

struct keyed_job {
	const struct sign_hmac_key *key;
	pthread_barrier_t *start;
	unsigned char msg[1400];
	size_t len;
	unsigned char want[32];
	int wrong; /* MACs that differed from want */
};

static void *keyed_worker(void *arg)
{
	struct keyed_job *j = arg;
	unsigned char got[SIGN_MAC_MAX];

	pthread_barrier_wait(j->start);
	for (int r = 0; r < KEYED_ROUNDS; r++)
		if (sign_hmac_keyed(j->key, j->msg, j->len, got) != 32 ||
		    memcmp(got, j->want, 32) != 0)
			j->wrong++;
	return NULL;
}

static void test_hmac_keyed_threads(void **state)
{
	(void)state;
	static struct keyed_job jobs[KEYED_THREADS];
	pthread_t tid[KEYED_THREADS];
	pthread_barrier_t start;
	unsigned char key[40];

	fill(key, sizeof(key), 4231);
	struct sign_hmac_key *k = sign_hmac_key_new("sha256", key, sizeof(key));
	assert_non_null(k);
	assert_int_equal(pthread_barrier_init(&start, NULL, KEYED_THREADS), 0);
	/* Different messages (and lengths) per thread, each MAC known beforehand
	 * from OpenSSL's HMAC(). Every round of every thread must give it: a
	 * stored midstate written by one call would break the next one. */
	for (int t = 0; t < KEYED_THREADS; t++) {
		unsigned int wl = 0;
		jobs[t].key = k;
		jobs[t].start = &start;
		jobs[t].len = 1400 - 333 * (size_t)t;
		jobs[t].wrong = 0;
		fill(jobs[t].msg, sizeof(jobs[t].msg), (uint32_t)(900 + t));
		assert_non_null(HMAC(EVP_sha256(), key, (int)sizeof(key), jobs[t].msg, jobs[t].len,
		                     jobs[t].want, &wl));
		assert_int_equal(wl, 32);
	}
	for (int t = 0; t < KEYED_THREADS; t++)
		assert_int_equal(pthread_create(&tid[t], NULL, keyed_worker, &jobs[t]), 0);
	for (int t = 0; t < KEYED_THREADS; t++)
		assert_int_equal(pthread_join(tid[t], NULL), 0);
	for (int t = 0; t < KEYED_THREADS; t++)
		assert_int_equal(jobs[t].wrong, 0);
	pthread_barrier_destroy(&start);
	sign_hmac_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_roundtrip),
	    cmocka_unit_test(test_base64_rejects),
	    cmocka_unit_test(test_standard_known_vector),
	    cmocka_unit_test(test_standard_verify),
	    cmocka_unit_test(test_acesso),
	    cmocka_unit_test(test_acesso_keyed),
	    cmocka_unit_test(test_hmac_variants),
	    cmocka_unit_test(test_hmac_keyed_matches_hmac),
	    cmocka_unit_test(test_hmac_keyed_rfc4231),
	    cmocka_unit_test(test_hmac_keyed_edges),
	    cmocka_unit_test(test_hmac_keyed_threads),
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_secret_equal),
	    cmocka_unit_test(test_standard_ts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
