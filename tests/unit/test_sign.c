/*
 * test_sign: signatures against known vectors (Standard Webhooks' own
 * example, values computed with the openssl CLI) and the verifier's
 * refusals: tampered body, wrong key, stale or future timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_roundtrip),
	    cmocka_unit_test(test_base64_rejects),
	    cmocka_unit_test(test_standard_known_vector),
	    cmocka_unit_test(test_standard_verify),
	    cmocka_unit_test(test_acesso),
	    cmocka_unit_test(test_hmac_variants),
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_secret_equal),
	    cmocka_unit_test(test_standard_ts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
