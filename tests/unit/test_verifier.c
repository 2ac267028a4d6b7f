/*
 * test_verifier: the inbound verification of a source, kind by kind and
 * preset by preset, against published vectors (Standard Webhooks' example,
 * GitHub's documented signature) and values computed with the openssl CLI
 * and Python's hmac module while writing the tests; every refusal of the
 * config validation; the merge of a PATCH; and the API's view without
 * secrets. Every refused check also asserts that its reason quotes neither
 * a configured secret nor a received header value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/verifier.h"
#include "util/base64.h"

/* The example from the Standard Webhooks specification. */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS     1614265330
#define SW_TS_STR "1614265330"
#define SW_BODY   "{\"test\": 2432232314}"
#define SW_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* A second secret (base64 of "second-secret-for-tests-32bytes!") and its
 * signature of the same message, from Python:
 *   k = base64.b64decode(secret[6:])
 *   "v1," + base64.b64encode(hmac.new(k, b"msg_p5j...Jek.1614265330." + body,
 *                                      hashlib.sha256).digest()) */
#define SW_SECRET2 "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtMzJieXRlcyE="
#define SW_SIG2    "v1,BIC12H1eKL9CJakRuAz7DTk3fz9JuD8BeT4mxLmvoaQ="

/* GitHub's documented example ("Validating webhook deliveries"). */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY   "Hello, World!"
#define GH_SIG    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/* printf '%s' 'Hello, World!' | openssl dgst -sha256 -hmac 'new-github-secret' -hex */
#define GH_SECRET2 "new-github-secret"
#define GH_SIG2    "sha256=59ae790d3d482d0e3a8e185d17018f42c12125ae31043d3a0a22f1d7bcf5a38c"

/* A Gupy-shaped body signed the Acesso RH way:
 *   printf '%s' "$B" | openssl dgst -sha256 -hmac 'acesso-rh-segredo' -binary | base64
 *   printf '%s' "$B" | openssl dgst -sha256 -hmac 'acesso-rh-novo' -binary | base64 */
#define AC_BODY                                                                                    \
	"{\"event\":\"application.moved\",\"id\":\"3f2a\",\"date\":\"2026-11-30T14:00:00.000Z\"}"
#define AC_SECRET  "acesso-rh-segredo"
#define AC_SIG     "rS8LxViY4yFYZm5VfbU9W9pdA7XFaxkJv8pMTwOm+5Q="
#define AC_SECRET2 "acesso-rh-novo"
#define AC_SIG2    "hzoVX1l7NvSBr1LV2KOzOhlbcB0CshLO65MRNX8iFME="

/* The same body under the generic kind:
 *   printf '%s' "$B" | openssl dgst -sha1 -hmac 'sha1-secret' -hex
 *   printf '%s' "$B" | openssl dgst -sha512 -hmac 'sha512-secret' -binary | base64 */
#define SHA1_HEX "fed6ee14bccedb0b55109af3d598baf7dbdef4fd"
#define SHA512_B64                                                                                 \
	"eXw0TcQc7J/WTqTz9ymnzfSRe7QxyW5+nbHyAlXCrmBlFvCdDWf2003Gvt5mQfCpP7I5bVpjysRrbKWteMwT9Q=="

typedef struct verifier_header hdr;
#define NH(a) (sizeof(a) / sizeof((a)[0]))

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

/* build: verifier_config_build of text (onto existing_text when given);
 * the stored config (caller decrefs), failing the test on a refusal. */
static json_t *build(const char *text, const char *existing_text)
{
	json_t *in = parse(text), *ex = existing_text ? parse(existing_text) : NULL, *out = NULL;
	struct gerr err = {0};
	int rc = verifier_config_build(in, ex, &out, &err);
	if (rc)
		fail_msg("refused %s: %s", text, err.msg);
	json_decref(in);
	json_decref(ex);
	return out;
}

/* make: build + compile. */
static struct verifier *make(const char *text)
{
	json_t *cfg = build(text, NULL);
	struct verifier *v = NULL;
	struct gerr err = {0};
	assert_int_equal(verifier_compile(cfg, &v, &err), 0);
	json_decref(cfg);
	assert_non_null(v);
	return v;
}

/* refused: text (onto existing_text) is refused with code and a message
 * containing needle. */
static void refused_onto(const char *text, const char *existing_text, const char *code,
                         const char *needle)
{
	json_t *in = parse(text), *ex = existing_text ? parse(existing_text) : NULL, *out = NULL;
	struct gerr err = {0};
	int rc = verifier_config_build(in, ex, &out, &err);
	if (rc != GERR_INVALID)
		fail_msg("accepted %s", text);
	assert_null(out);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, code);
	if (!strstr(err.msg, needle))
		fail_msg("%s: message \"%s\" lacks \"%s\"", text, err.msg, needle);
	json_decref(in);
	json_decref(ex);
}

static void refused(const char *text, const char *code, const char *needle)
{
	refused_onto(text, NULL, code, needle);
}

/* The secrets the tests configure: no reason may quote one. */
static const char *const secrets[] = {
    SW_SECRET,  SW_SECRET + 6, SW_SECRET2 + 6,  GH_SECRET,   GH_SECRET2,    AC_SECRET,
    AC_SECRET2, "sha1-secret", "sha512-secret", "s3cr3t-pw", "k-123456789", NULL,
};

/* check: verifier_check, and on a refusal the expected code, a reason
 * containing needle (when given) and quoting no secret and no received
 * value. Returns res.ok. */
static bool check(const struct verifier *v, const hdr *h, size_t nh, const char *body, int64_t now,
                  const char *code, const char *needle)
{
	struct verifier_result res;
	memset(&res, 0x5a, sizeof(res));
	bool ok = verifier_check(v, h, nh, body, body ? strlen(body) : 0, now, &res);
	assert_true(ok == res.ok);
	if (ok) {
		assert_string_equal(res.code, "ok");
		assert_string_equal(res.reason, "");
		if (code)
			fail_msg("passed, expected %s", code);
		return true;
	}
	assert_string_equal(res.code, code ? code : "(expected to pass)");
	if (needle && !strstr(res.reason, needle))
		fail_msg("reason \"%s\" lacks \"%s\"", res.reason, needle);
	assert_string_equal(res.msg_id, "");
	assert_true(res.timestamp == 0);
	for (int i = 0; secrets[i]; i++)
		if (strstr(res.reason, secrets[i]))
			fail_msg("reason \"%s\" quotes a secret", res.reason);
	for (size_t i = 0; i < nh; i++)
		if (strlen(h[i].value) >= 8 && strstr(res.reason, h[i].value))
			fail_msg("reason \"%s\" quotes a received value", res.reason);
	return false;
}

#define PASSES(v, h, body, now)            assert_true(check(v, h, NH(h), body, now, NULL, NULL))
#define REFUSED(v, h, body, now, code, ne) assert_false(check(v, h, NH(h), body, now, code, ne))

static void test_none(void **state)
{
	(void)state;
	struct verifier *v = make("{\"kind\":\"none\"}");
	hdr h[] = {{"X-Anything", "1"}};
	PASSES(v, h, "anything", 0);
	assert_true(verifier_check(v, NULL, 0, NULL, 0, 0, &(struct verifier_result){0}));
	assert_string_equal(verifier_kind(v), "none");
	assert_false(verifier_signs_id(v));
	verifier_free(v);
	verifier_free(NULL);
}

static void test_basic(void **state)
{
	(void)state;
	/* The password holds ':' (allowed: only the user-id may not).
	 * printf '%s' 'user:pa:ss' | base64 → dXNlcjpwYTpzcw== */
	struct verifier *v =
	    make("{\"kind\":\"basic\",\"username\":\"user\",\"password\":\"pa:ss\"}");
	assert_string_equal(verifier_kind(v), "basic");

	hdr good[] = {{"Authorization", "Basic dXNlcjpwYTpzcw=="}};
	PASSES(v, good, "{}", 0);
	/* Scheme case-insensitive, extra spaces, header name in any case,
	 * padding optional; the body is not covered by basic auth. */
	hdr lower[] = {{"authorization", "basic   dXNlcjpwYTpzcw"}};
	PASSES(v, lower, "other body", 0);
	/* The same value twice is one value. */
	hdr twice[] = {{"Authorization", "Basic dXNlcjpwYTpzcw=="},
	               {"AUTHORIZATION", "Basic dXNlcjpwYTpzcw=="}};
	PASSES(v, twice, "{}", 0);

	/* user:pa:st, user2:pa:ss, user:pa:ss2, user:pa */
	hdr wrong_pw[] = {{"Authorization", "Basic dXNlcjpwYTpzdA=="}};
	REFUSED(v, wrong_pw, "{}", 0, "bad_credentials", "wrong username or password");
	hdr wrong_user[] = {{"Authorization", "Basic dXNlcjI6cGE6c3M="}};
	REFUSED(v, wrong_user, "{}", 0, "bad_credentials", NULL);
	hdr longer[] = {{"Authorization", "Basic dXNlcjpwYTpzczI="}};
	REFUSED(v, longer, "{}", 0, "bad_credentials", NULL);
	hdr shorter[] = {{"Authorization", "Basic dXNlcjpwYQ=="}};
	REFUSED(v, shorter, "{}", 0, "bad_credentials", NULL);
	hdr empty[] = {{"Authorization", "Basic "}};
	REFUSED(v, empty, "{}", 0, "malformed_credentials", NULL);

	/* Far longer than any configurable credential. */
	char huge[6000] = "Basic ";
	memset(huge + 6, 'Q', sizeof(huge) - 7);
	huge[sizeof(huge) - 1] = '\0';
	hdr too_long[] = {{"Authorization", huge}};
	REFUSED(v, too_long, "{}", 0, "bad_credentials", NULL);

	hdr missing[] = {{"X-Authorization", "Basic dXNlcjpwYTpzcw=="}};
	REFUSED(v, missing, "{}", 0, "missing_header", "missing header Authorization");
	hdr bearer[] = {{"Authorization", "Bearer dXNlcjpwYTpzcw=="}};
	REFUSED(v, bearer, "{}", 0, "malformed_credentials", "not hold Basic");
	hdr glued[] = {{"Authorization", "BasicdXNlcjpwYTpzcw=="}};
	REFUSED(v, glued, "{}", 0, "malformed_credentials", NULL);
	hdr not_b64[] = {{"Authorization", "Basic user:pa:ss"}};
	REFUSED(v, not_b64, "{}", 0, "malformed_credentials", "not base64");
	/* Two different values: refused, whichever of them is right. */
	hdr dup[] = {{"Authorization", "Basic dXNlcjpwYTpzcw=="},
	             {"authorization", "Basic dXNlcjpwYTpzdA=="}};
	REFUSED(v, dup, "{}", 0, "duplicate_header", "Authorization given twice");
	hdr dup2[] = {{"Authorization", "Basic dXNlcjpwYTpzdA=="},
	              {"authorization", "Basic dXNlcjpwYTpzcw=="}};
	REFUSED(v, dup2, "{}", 0, "duplicate_header", NULL);
	verifier_free(v);
}

static void test_apikey(void **state)
{
	(void)state;
	struct verifier *v =
	    make("{\"kind\":\"apiKey\",\"key\":\"k-123456789\",\"prefix\":\"Bearer\"}");
	assert_string_equal(verifier_kind(v), "apiKey");
	hdr good[] = {{"Authorization", "Bearer k-123456789"}};
	PASSES(v, good, "{}", 0);
	hdr lower[] = {{"authorization", "bearer  k-123456789"}};
	PASSES(v, lower, "{}", 0);
	hdr wrong[] = {{"Authorization", "Bearer k-123456780"}};
	REFUSED(v, wrong, "{}", 0, "bad_credentials", "wrong key in Authorization");
	hdr part[] = {{"Authorization", "Bearer k-12345678"}};
	REFUSED(v, part, "{}", 0, "bad_credentials", NULL);
	hdr more[] = {{"Authorization", "Bearer k-1234567890"}};
	REFUSED(v, more, "{}", 0, "bad_credentials", NULL);
	hdr no_prefix[] = {{"Authorization", "k-123456789"}};
	REFUSED(v, no_prefix, "{}", 0, "malformed_credentials", "configured prefix");
	hdr glued[] = {{"Authorization", "Bearerk-123456789"}};
	REFUSED(v, glued, "{}", 0, "malformed_credentials", NULL);
	hdr missing[] = {{"X-Api-Key", "Bearer k-123456789"}};
	REFUSED(v, missing, "{}", 0, "missing_header", "Authorization");
	hdr dup[] = {{"Authorization", "Bearer k-123456789"},
	             {"Authorization", "Bearer other-key"}};
	REFUSED(v, dup, "{}", 0, "duplicate_header", NULL);
	verifier_free(v);

	/* A custom header without prefix: the whole value is the key. */
	v = make("{\"kind\":\"apiKey\",\"header\":\"X-Api-Key\",\"key\":\"k-123456789\"}");
	hdr custom[] = {{"Authorization", "Bearer nope"}, {"x-api-key", "k-123456789"}};
	PASSES(v, custom, NULL, 0);
	hdr prefixed[] = {{"X-Api-Key", "Bearer k-123456789"}};
	REFUSED(v, prefixed, "{}", 0, "bad_credentials", "wrong key in X-Api-Key");
	hdr absent[] = {{"Authorization", "k-123456789"}};
	REFUSED(v, absent, "{}", 0, "missing_header", "missing header X-Api-Key");
	verifier_free(v);
}

static void test_hmac_kind(void **state)
{
	(void)state;
	struct verifier *v = make("{\"kind\":\"hmac\",\"header\":\"X-Signature\",\"hash\":\"sha1\","
	                          "\"encoding\":\"hex\",\"secret\":\"sha1-secret\"}");
	assert_string_equal(verifier_kind(v), "hmac");
	hdr good[] = {{"X-Signature", SHA1_HEX}};
	PASSES(v, good, AC_BODY, 0);
	/* Hex in any case. */
	hdr upper[] = {{"x-signature", "FED6EE14BCCEDB0B55109AF3D598BAF7DBDEF4FD"}};
	PASSES(v, upper, AC_BODY, 0);
	/* One byte of the body changed. */
	char body[] = AC_BODY;
	body[3] ^= 1;
	REFUSED(v, good, body, 0, "signature_mismatch", "signature mismatch in X-Signature");
	hdr bad[] = {{"X-Signature", "fed6ee14bccedb0b55109af3d598baf7dbdef4fe"}};
	REFUSED(v, bad, AC_BODY, 0, "signature_mismatch", NULL);
	hdr short_sig[] = {{"X-Signature", "fed6ee14bccedb0b55109af3d598baf7dbdef4f"}};
	REFUSED(v, short_sig, AC_BODY, 0, "malformed_signature", "40 hex digits");
	hdr not_hex[] = {{"X-Signature", "fed6ee14bccedb0b55109af3d598baf7dbdef4fg"}};
	REFUSED(v, not_hex, AC_BODY, 0, "malformed_signature", NULL);
	hdr b64[] = {{"X-Signature", "/tbuFLzO2wtVEJrz1Zi699ve9P0="}};
	REFUSED(v, b64, AC_BODY, 0, "malformed_signature", NULL);
	hdr missing[] = {{"X-Hub-Signature", SHA1_HEX}};
	REFUSED(v, missing, AC_BODY, 0, "missing_header", "missing header X-Signature");
	hdr dup[] = {{"X-Signature", SHA1_HEX},
	             {"X-Signature", "fed6ee14bccedb0b55109af3d598baf7dbdef4fe"}};
	REFUSED(v, dup, AC_BODY, 0, "duplicate_header", NULL);
	verifier_free(v);

	/* sha512, base64, with a prefix. */
	v = make("{\"kind\":\"hmac\",\"header\":\"Signature\",\"hash\":\"sha512\","
	         "\"encoding\":\"base64\",\"prefix\":\"v0=\",\"secrets\":[\"sha512-secret\"]}");
	hdr good512[] = {{"Signature", "v0=" SHA512_B64}};
	PASSES(v, good512, AC_BODY, 0);
	hdr no_prefix[] = {{"Signature", SHA512_B64}};
	REFUSED(v, no_prefix, AC_BODY, 0, "malformed_signature", "configured prefix");
	REFUSED(v, good512, body, 0, "signature_mismatch", NULL);
	/* The base64 of a sha1 MAC is not the length of a sha512 one. */
	hdr wrong_len[] = {{"Signature", "v0=/tbuFLzO2wtVEJrz1Zi699ve9P0="}};
	REFUSED(v, wrong_len, AC_BODY, 0, "malformed_signature", "64-byte HMAC-sha512");
	hdr garbage[] = {{"Signature", "v0=!!!!"}};
	REFUSED(v, garbage, AC_BODY, 0, "malformed_signature", NULL);
	verifier_free(v);
}

static void test_github_preset(void **state)
{
	(void)state;
	struct verifier *v = make("{\"preset\":\"github\",\"secret\":\"" GH_SECRET "\"}");
	assert_string_equal(verifier_kind(v), "hmac");
	hdr good[] = {{"X-Hub-Signature-256", GH_SIG}};
	PASSES(v, good, GH_BODY, 0);
	hdr upper[] = {{"x-hub-signature-256",
	                "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"}};
	PASSES(v, upper, GH_BODY, 0);
	/* "Hello, World?": one byte changed. */
	REFUSED(v, good, "Hello, World?", 0, "signature_mismatch", NULL);
	hdr other_key[] = {{"X-Hub-Signature-256", GH_SIG2}};
	REFUSED(v, other_key, GH_BODY, 0, "signature_mismatch", NULL);
	hdr bare[] = {{"X-Hub-Signature-256",
	               "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
	REFUSED(v, bare, GH_BODY, 0, "malformed_signature", "configured prefix");
	/* The SHA-1 header GitHub also sends is not the one checked. */
	hdr sha1[] = {{"X-Hub-Signature", "sha1=0000000000000000000000000000000000000000"}};
	REFUSED(v, sha1, GH_BODY, 0, "missing_header", "missing header X-Hub-Signature-256");
	hdr dup[] = {{"X-Hub-Signature-256", GH_SIG}, {"X-Hub-Signature-256", GH_SIG2}};
	REFUSED(v, dup, GH_BODY, 0, "duplicate_header", NULL);
	verifier_free(v);

	/* Rotation: both secrets pass, in either order; a third does not. */
	v = make("{\"preset\":\"github\",\"secrets\":[\"" GH_SECRET "\",\"" GH_SECRET2 "\"]}");
	PASSES(v, good, GH_BODY, 0);
	PASSES(v, other_key, GH_BODY, 0);
	verifier_free(v);
	v = make("{\"preset\":\"github\",\"secrets\":[\"" GH_SECRET2 "\",\"" GH_SECRET "\"]}");
	PASSES(v, good, GH_BODY, 0);
	PASSES(v, other_key, GH_BODY, 0);
	REFUSED(v, good, "Hello, World?", 0, "signature_mismatch", NULL);
	verifier_free(v);
	v = make("{\"preset\":\"github\",\"secrets\":[\"x\",\"y\",\"z\"]}");
	REFUSED(v, good, GH_BODY, 0, "signature_mismatch", NULL);
	verifier_free(v);
}

static void test_acesso_preset(void **state)
{
	(void)state;
	struct verifier *v = make("{\"preset\":\"acesso\",\"secret\":\"" AC_SECRET "\"}");
	hdr good[] = {{"Acesso-Signature", AC_SIG}};
	PASSES(v, good, AC_BODY, 0);
	char body[] = AC_BODY;
	body[sizeof(body) - 2] = ']'; /* the closing brace */
	REFUSED(v, good, body, 0, "signature_mismatch", "signature mismatch in Acesso-Signature");
	hdr new_sig[] = {{"Acesso-Signature", AC_SIG2}};
	REFUSED(v, new_sig, AC_BODY, 0, "signature_mismatch", NULL);
	/* Unpadded base64 decodes to the same MAC. */
	hdr unpadded[] = {{"acesso-signature", "rS8LxViY4yFYZm5VfbU9W9pdA7XFaxkJv8pMTwOm+5Q"}};
	PASSES(v, unpadded, AC_BODY, 0);
	hdr hex[] = {{"Acesso-Signature",
	              "ad2f0bc55898e32158666e557db53d5bda5d03b5c56b1909bfca4c4f03a6fb94"}};
	REFUSED(v, hex, AC_BODY, 0, "malformed_signature", "32-byte HMAC-sha256");
	hdr missing[] = {{"X-Acesso-Signature", AC_SIG}};
	REFUSED(v, missing, AC_BODY, 0, "missing_header", "missing header Acesso-Signature");
	hdr dup[] = {{"Acesso-Signature", AC_SIG}, {"Acesso-Signature", AC_SIG2}};
	REFUSED(v, dup, AC_BODY, 0, "duplicate_header", NULL);
	hdr same[] = {{"Acesso-Signature", AC_SIG}, {"acesso-signature", AC_SIG}};
	PASSES(v, same, AC_BODY, 0);
	verifier_free(v);

	v = make("{\"preset\":\"acesso\",\"secrets\":[\"" AC_SECRET "\",\"" AC_SECRET2 "\"]}");
	PASSES(v, good, AC_BODY, 0);
	PASSES(v, new_sig, AC_BODY, 0);
	REFUSED(v, new_sig, body, 0, "signature_mismatch", NULL);
	verifier_free(v);
}

/* standard_like: the same checks for kind standard and preset svix, whose
 * header names are id, ts and sig. */
static void standard_like(const char *config, const char *rotated, const char *id, const char *ts,
                          const char *sig)
{
	struct verifier *v = make(config);
	struct verifier_result res;
	assert_string_equal(verifier_kind(v), "standard");
	assert_true(verifier_signs_id(v));

	hdr good[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG}};
	PASSES(v, good, SW_BODY, SW_TS);
	assert_true(verifier_check(v, good, 3, SW_BODY, strlen(SW_BODY), SW_TS, &res));
	assert_string_equal(res.msg_id, SW_ID);
	assert_true(res.timestamp == SW_TS);
	/* At the tolerance's edges, both ways. */
	PASSES(v, good, SW_BODY, SW_TS + 300);
	PASSES(v, good, SW_BODY, SW_TS - 300);
	/* Replayed: 301 s old; from the future: 412 s ahead. */
	REFUSED(v, good, SW_BODY, SW_TS + 301, "timestamp_out_of_tolerance",
	        "timestamp outside tolerance (301 s old");
	REFUSED(v, good, SW_BODY, SW_TS - 412, "timestamp_out_of_tolerance", "(412 s ahead");
	/* A clock at either end of int64 does not overflow. */
	REFUSED(v, good, SW_BODY, INT64_MIN, "timestamp_out_of_tolerance", NULL);
	REFUSED(v, good, SW_BODY, INT64_MAX, "timestamp_out_of_tolerance", NULL);

	/* Body changed by one byte; signature changed by one character. */
	REFUSED(v, good, "{\"test\": 2432232315}", SW_TS, "signature_mismatch", sig);
	hdr bad[] = {
	    {id, SW_ID}, {ts, SW_TS_STR}, {sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="}};
	REFUSED(v, bad, SW_BODY, SW_TS, "signature_mismatch", NULL);
	/* The id and the timestamp are signed. */
	hdr other_id[] = {{id, "msg_p5jXN8AQM9LWM0D4loKWxJeK"}, {ts, SW_TS_STR}, {sig, SW_SIG}};
	REFUSED(v, other_id, SW_BODY, SW_TS, "signature_mismatch", NULL);
	hdr other_ts[] = {{id, SW_ID}, {ts, "1614265331"}, {sig, SW_SIG}};
	REFUSED(v, other_ts, SW_BODY, SW_TS, "signature_mismatch", NULL);
	/* Leading zeros are digits, but signed as received: no match. */
	hdr zeros[] = {{id, SW_ID}, {ts, "01614265330"}, {sig, SW_SIG}};
	REFUSED(v, zeros, SW_BODY, SW_TS, "signature_mismatch", NULL);
	/* Signature lists: ours among others; only other versions. */
	hdr list[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, "v1a,xyz v1,AAAA " SW_SIG}};
	PASSES(v, list, SW_BODY, SW_TS);
	hdr v1a[] = {{id, SW_ID},
	             {ts, SW_TS_STR},
	             {sig, "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}};
	REFUSED(v, v1a, SW_BODY, SW_TS, "signature_mismatch", NULL);

	/* Missing headers, each named. */
	char want[64];
	hdr no_id[] = {{ts, SW_TS_STR}, {sig, SW_SIG}};
	snprintf(want, sizeof(want), "missing header %s", id);
	REFUSED(v, no_id, SW_BODY, SW_TS, "missing_header", want);
	hdr no_ts[] = {{id, SW_ID}, {sig, SW_SIG}};
	snprintf(want, sizeof(want), "missing header %s", ts);
	REFUSED(v, no_ts, SW_BODY, SW_TS, "missing_header", want);
	hdr no_sig[] = {{id, SW_ID}, {ts, SW_TS_STR}};
	snprintf(want, sizeof(want), "missing header %s", sig);
	REFUSED(v, no_sig, SW_BODY, SW_TS, "missing_header", want);

	/* Duplicates with different values, for each of the three. */
	hdr dup_id[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG}, {id, "msg_other"}};
	REFUSED(v, dup_id, SW_BODY, SW_TS, "duplicate_header", id);
	hdr dup_ts[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG}, {ts, "1614265331"}};
	REFUSED(v, dup_ts, SW_BODY, SW_TS, "duplicate_header", ts);
	hdr dup_sig[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG}, {sig, SW_SIG2}};
	REFUSED(v, dup_sig, SW_BODY, SW_TS, "duplicate_header", sig);

	/* Malformed timestamps: never numbers, never overflow. */
	static const char *const bad_ts[] = {
	    "",
	    "-1614265330",
	    "+1614265330",
	    " 1614265330x",
	    "1614265330.5",
	    "1.6e9",
	    "0x60377eb2",
	    "99999999999999999999999999999999",
	    "1000000000000000000",
	    "abc",
	    NULL,
	};
	for (int i = 0; bad_ts[i]; i++) {
		hdr h[] = {{id, SW_ID}, {ts, bad_ts[i]}, {sig, SW_SIG}};
		REFUSED(v, h, SW_BODY, SW_TS, "malformed_timestamp", "malformed timestamp");
	}
	/* 18 digits parse, and are then far outside the tolerance. */
	hdr far[] = {{id, SW_ID}, {ts, "999999999999999999"}, {sig, SW_SIG}};
	REFUSED(v, far, SW_BODY, SW_TS, "timestamp_out_of_tolerance", "s ahead");
	hdr zero[] = {{id, SW_ID}, {ts, "0"}, {sig, SW_SIG}};
	REFUSED(v, zero, SW_BODY, SW_TS, "timestamp_out_of_tolerance", "1614265330 s old");

	/* Malformed ids: empty, spaces, controls, too long. */
	char longid[VERIFIER_ID_MAX + 2];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	static const char *const bad_id[] = {"", "msg 1", "msg\t1", "msg\x01", "m\xc3\xa9", NULL};
	for (int i = 0; bad_id[i]; i++) {
		hdr h[] = {{id, bad_id[i]}, {ts, SW_TS_STR}, {sig, SW_SIG}};
		REFUSED(v, h, SW_BODY, SW_TS, "malformed_id", NULL);
	}
	hdr long_h[] = {{id, longid}, {ts, SW_TS_STR}, {sig, SW_SIG}};
	REFUSED(v, long_h, SW_BODY, SW_TS, "malformed_id", NULL);
	longid[VERIFIER_ID_MAX] = '\0'; /* exactly the bound: well formed, not signed */
	REFUSED(v, long_h, SW_BODY, SW_TS, "signature_mismatch", NULL);

	/* Signed by the second secret: refused with one secret. */
	hdr second[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG2}};
	REFUSED(v, second, SW_BODY, SW_TS, "signature_mismatch", NULL);
	verifier_free(v);

	/* Rotation: old and new both pass, alone or listed together. */
	v = make(rotated);
	PASSES(v, good, SW_BODY, SW_TS);
	PASSES(v, second, SW_BODY, SW_TS);
	hdr both[] = {{id, SW_ID}, {ts, SW_TS_STR}, {sig, SW_SIG2 " " SW_SIG}};
	PASSES(v, both, SW_BODY, SW_TS);
	REFUSED(v, second, "{\"test\": 2432232315}", SW_TS, "signature_mismatch", NULL);
	REFUSED(v, second, SW_BODY, SW_TS + 301, "timestamp_out_of_tolerance", NULL);
	verifier_free(v);
}

static void test_standard(void **state)
{
	(void)state;
	standard_like("{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\"}",
	              "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET2 "\",\"" SW_SECRET "\"]}",
	              "webhook-id", "webhook-timestamp", "webhook-signature");
	/* Header names in any case. */
	struct verifier *v = make("{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\"}");
	hdr caps[] = {
	    {"Webhook-Id", SW_ID}, {"WEBHOOK-TIMESTAMP", SW_TS_STR}, {"Webhook-Signature", SW_SIG}};
	PASSES(v, caps, SW_BODY, SW_TS);
	/* svix-* headers are not the standard's. */
	hdr svix[] = {
	    {"svix-id", SW_ID}, {"svix-timestamp", SW_TS_STR}, {"svix-signature", SW_SIG}};
	REFUSED(v, svix, SW_BODY, SW_TS, "missing_header", "webhook-id");
	verifier_free(v);

	/* toleranceSeconds is honoured. */
	v = make("{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":10}");
	PASSES(v, caps, SW_BODY, SW_TS + 10);
	REFUSED(v, caps, SW_BODY, SW_TS + 11, "timestamp_out_of_tolerance", "tolerance 10 s");
	REFUSED(v, caps, SW_BODY, SW_TS - 11, "timestamp_out_of_tolerance", "11 s ahead");
	verifier_free(v);
}

static void test_svix_preset(void **state)
{
	(void)state;
	standard_like("{\"preset\":\"svix\",\"secret\":\"" SW_SECRET "\"}",
	              "{\"preset\":\"svix\",\"secrets\":[\"" SW_SECRET "\",\"" SW_SECRET2 "\"]}",
	              "svix-id", "svix-timestamp", "svix-signature");
	struct verifier *v =
	    make("{\"preset\":\"svix\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":60}");
	hdr std[] = {
	    {"webhook-id", SW_ID}, {"webhook-timestamp", SW_TS_STR}, {"webhook-signature", SW_SIG}};
	REFUSED(v, std, SW_BODY, SW_TS, "missing_header", "svix-id");
	hdr good[] = {
	    {"svix-id", SW_ID}, {"svix-timestamp", SW_TS_STR}, {"svix-signature", SW_SIG}};
	REFUSED(v, good, SW_BODY, SW_TS + 61, "timestamp_out_of_tolerance", NULL);
	PASSES(v, good, SW_BODY, SW_TS + 60);
	verifier_free(v);
}

/* is_stored: build(text) is exactly want (as JSON, in order). */
static void is_stored(const char *text, const char *existing, const char *want)
{
	json_t *cfg = build(text, existing);
	char *got = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (strcmp(got, want) != 0)
		fail_msg("%s → %s, want %s", text, got, want);
	free(got);
	json_decref(cfg);
}

static void test_config_normalised(void **state)
{
	(void)state;
	is_stored("{\"kind\":\"none\"}", NULL, "{\"kind\":\"none\"}");
	is_stored("{\"password\":\"p\",\"username\":\"u\",\"kind\":\"basic\"}", NULL,
	          "{\"kind\":\"basic\",\"username\":\"u\",\"password\":\"p\"}");
	/* apiKey's header defaults to Authorization. */
	is_stored("{\"kind\":\"apiKey\",\"key\":\"k\"}", NULL,
	          "{\"kind\":\"apiKey\",\"header\":\"Authorization\",\"key\":\"k\"}");
	is_stored("{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":\"Token\",\"header\":\"X-K\"}",
	          NULL,
	          "{\"kind\":\"apiKey\",\"header\":\"X-K\",\"key\":\"k\",\"prefix\":\"Token\"}");
	/* "secret" becomes "secrets": [..]. */
	is_stored("{\"kind\":\"hmac\",\"secret\":\"s\",\"encoding\":\"hex\",\"hash\":\"sha256\","
	          "\"header\":\"X-S\"}",
	          NULL,
	          "{\"kind\":\"hmac\",\"header\":\"X-S\",\"hash\":\"sha256\",\"encoding\":\"hex\","
	          "\"secrets\":[\"s\"]}");
	/* standard's tolerance defaults to 300. */
	is_stored("{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\"}", NULL,
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET
	          "\"],\"toleranceSeconds\":300}");
	/* Presets are stored by name, not expanded. */
	is_stored("{\"preset\":\"github\",\"secret\":\"s\"}", NULL,
	          "{\"preset\":\"github\",\"secrets\":[\"s\"]}");
	is_stored("{\"preset\":\"acesso\",\"secrets\":[\"a\",\"b\"]}", NULL,
	          "{\"preset\":\"acesso\",\"secrets\":[\"a\",\"b\"]}");
	is_stored(
	    "{\"preset\":\"svix\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":86400}", NULL,
	    "{\"preset\":\"svix\",\"secrets\":[\"" SW_SECRET "\"],\"toleranceSeconds\":86400}");
	/* null is absence. */
	is_stored("{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":null,\"preset\":null}", NULL,
	          "{\"kind\":\"apiKey\",\"header\":\"Authorization\",\"key\":\"k\"}");
	/* Eight secrets is the bound, accepted; hmac secrets may hold any byte but NUL. */
	is_stored("{\"preset\":\"acesso\",\"secrets\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
	          "\"8\"]}",
	          NULL,
	          "{\"preset\":\"acesso\",\"secrets\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
	          "\"8\"]}");
	is_stored("{\"preset\":\"github\",\"secret\":\" a\\r\\nb \"}", NULL,
	          "{\"preset\":\"github\",\"secrets\":[\" a\\r\\nb \"]}");
}

static void test_config_patch(void **state)
{
	(void)state;
	const char *std =
	    "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET "\"],\"toleranceSeconds\":300}";
	/* Same kind, or no kind: fields replace, secrets kept. */
	is_stored("{\"toleranceSeconds\":30}", std,
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET
	          "\"],\"toleranceSeconds\":30}");
	is_stored("{\"kind\":\"standard\",\"toleranceSeconds\":30}", std,
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET
	          "\"],\"toleranceSeconds\":30}");
	/* null resets to the default. */
	is_stored("{\"toleranceSeconds\":null}",
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET "\"],\"toleranceSeconds\":30}",
	          std);
	/* secret replaces secrets (and the other way round). */
	is_stored("{\"secret\":\"" SW_SECRET2 "\"}", std,
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET2
	          "\"],\"toleranceSeconds\":300}");
	is_stored("{\"secrets\":[\"" SW_SECRET2 "\",\"" SW_SECRET "\"]}", std,
	          "{\"kind\":\"standard\",\"secrets\":[\"" SW_SECRET2 "\",\"" SW_SECRET
	          "\"],\"toleranceSeconds\":300}");
	/* The same preset keeps its secrets. */
	is_stored("{\"preset\":\"github\"}", "{\"preset\":\"github\",\"secrets\":[\"s\"]}",
	          "{\"preset\":\"github\",\"secrets\":[\"s\"]}");
	const char *apikey =
	    "{\"kind\":\"apiKey\",\"header\":\"X-K\",\"key\":\"k\",\"prefix\":\"T\"}";
	is_stored("{\"prefix\":null}", apikey,
	          "{\"kind\":\"apiKey\",\"header\":\"X-K\",\"key\":\"k\"}");
	is_stored(
	    "{\"header\":null}", apikey,
	    "{\"kind\":\"apiKey\",\"header\":\"Authorization\",\"key\":\"k\",\"prefix\":\"T\"}");
	/* Another kind or preset starts afresh: nothing is inherited. */
	is_stored("{\"preset\":\"svix\",\"secret\":\"" SW_SECRET "\"}", std,
	          "{\"preset\":\"svix\",\"secrets\":[\"" SW_SECRET "\"],\"toleranceSeconds\":300}");
	is_stored("{\"kind\":\"none\"}", std, "{\"kind\":\"none\"}");
	refused_onto("{\"preset\":\"acesso\"}", "{\"preset\":\"github\",\"secrets\":[\"s\"]}",
	             "missing_field", "verification.secret: required");
	refused_onto(
	    "{\"kind\":\"hmac\",\"header\":\"X-S\",\"hash\":\"sha1\",\"encoding\":\"hex\"}",
	    "{\"preset\":\"github\",\"secrets\":[\"s\"]}", "missing_field", "verification.secret");
	/* A merge is validated as a whole. */
	refused_onto("{\"toleranceSeconds\":0}", std, "invalid_field",
	             "verification.toleranceSeconds");
	refused_onto("{\"secrets\":null}", std, "missing_field", "verification.secret");
	refused_onto("{\"key\":\"k\"}", std, "invalid_field",
	             "verification.key: unknown field for kind standard");
	refused_onto("{\"secret\":\"a\",\"secrets\":[\"b\"]}", std, "invalid_field",
	             "either secret or secrets");
}

static void test_config_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *body, *code, *needle;
	} r[] = {
	    /* the object, the kind, the preset */
	    {"[]", "invalid_field", "verification: must be an object"},
	    {"\"none\"", "invalid_field", "verification: must be an object"},
	    {"{}", "missing_field", "verification.kind: required"},
	    {"{\"secret\":\"s\"}", "missing_field", "verification.kind: required"},
	    {"{\"kind\":\"sha256\"}", "invalid_field", "verification.kind: must be none, basic"},
	    {"{\"kind\":\"Basic\"}", "invalid_field", "verification.kind"},
	    {"{\"kind\":5}", "invalid_field", "verification.kind"},
	    {"{\"kind\":\"\"}", "invalid_field", "verification.kind"},
	    {"{\"kind\":\"none\\u0000x\"}", "invalid_field", "verification.kind"},
	    {"{\"preset\":\"stripe\",\"secret\":\"s\"}", "invalid_field",
	     "verification.preset: must be acesso, github or svix"},
	    {"{\"preset\":[\"github\"]}", "invalid_field", "verification.preset"},
	    {"{\"kind\":\"hmac\",\"preset\":\"github\",\"secret\":\"s\"}", "invalid_field",
	     "verification.preset: give either kind or preset"},
	    /* unknown keys, and keys of another kind */
	    {"{\"kind\":\"none\",\"secret\":\"s\"}", "invalid_field",
	     "verification.secret: unknown field for kind none"},
	    {"{\"kind\":\"basic\",\"username\":\"u\",\"password\":\"p\",\"realm\":\"r\"}",
	     "invalid_field", "verification.realm: unknown field"},
	    {"{\"preset\":\"github\",\"secret\":\"s\",\"header\":\"X\"}", "invalid_field",
	     "verification.header: unknown field for preset github"},
	    {"{\"preset\":\"acesso\",\"secret\":\"s\",\"toleranceSeconds\":5}", "invalid_field",
	     "verification.toleranceSeconds: unknown field for preset acesso"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"secret\":\"s\",\"toleranceSeconds\":5}",
	     "invalid_field", "verification.toleranceSeconds: unknown field"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"Key\":\"k\"}", "invalid_field",
	     "verification.Key: unknown field"},
	    /* basic */
	    {"{\"kind\":\"basic\",\"password\":\"p\"}", "missing_field", "verification.username"},
	    {"{\"kind\":\"basic\",\"username\":\"u\"}", "missing_field", "verification.password"},
	    {"{\"kind\":\"basic\",\"username\":\"\",\"password\":\"p\"}", "invalid_field",
	     "verification.username: must not be empty"},
	    {"{\"kind\":\"basic\",\"username\":\"u\",\"password\":\"\"}", "invalid_field",
	     "verification.password: must not be empty"},
	    {"{\"kind\":\"basic\",\"username\":1,\"password\":\"p\"}", "invalid_field",
	     "verification.username: must be a string"},
	    {"{\"kind\":\"basic\",\"username\":\"u:v\",\"password\":\"p\"}", "invalid_field",
	     "verification.username: must not contain ':'"},
	    {"{\"kind\":\"basic\",\"username\":\"u\\u0000\",\"password\":\"p\"}", "invalid_field",
	     "verification.username: must not contain NUL"},
	    {"{\"kind\":\"basic\",\"username\":\"u\",\"password\":\"p\\nq\"}", "invalid_field",
	     "verification.password: must not contain CR or LF"},
	    {"{\"kind\":\"basic\",\"username\":\"u\",\"password\":\"p\\u007f\"}", "invalid_field",
	     "verification.password: must not contain control characters"},
	    /* apiKey */
	    {"{\"kind\":\"apiKey\"}", "missing_field", "verification.key: required"},
	    {"{\"kind\":\"apiKey\",\"key\":\"\"}", "invalid_field",
	     "verification.key: must not be"},
	    {"{\"kind\":\"apiKey\",\"key\":[\"k\"]}", "invalid_field",
	     "verification.key: must be a string"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\\r\\nX-Evil: 1\"}", "invalid_field",
	     "verification.key: must not contain CR or LF"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\\u0000\"}", "invalid_field",
	     "verification.key: must not contain NUL"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\\tk\"}", "invalid_field",
	     "verification.key: must not contain control"},
	    {"{\"kind\":\"apiKey\",\"key\":\" k\"}", "invalid_field",
	     "verification.key: must not start or end with a space"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":\"\"}", "invalid_field",
	     "verification.prefix: must not be empty"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":\"Bearer \"}", "invalid_field",
	     "verification.prefix: must not start or end"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":\"Be\\rarer\"}", "invalid_field",
	     "verification.prefix: must not contain CR or LF"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":true}", "invalid_field",
	     "verification.prefix: must be a string"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"\"}", "invalid_field",
	     "verification.header: must not be empty"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"X Key\"}", "invalid_field",
	     "verification.header: must be a header name"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"X-Key:\"}", "invalid_field",
	     "verification.header: must be a header name"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"X-Key\\r\\n\"}", "invalid_field",
	     "verification.header: must be a header name"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"X-K\\u00e9y\"}", "invalid_field",
	     "verification.header: must be a header name"},
	    /* hmac */
	    {"{\"kind\":\"hmac\",\"hash\":\"sha1\",\"encoding\":\"hex\",\"secret\":\"s\"}",
	     "missing_field", "verification.header: required"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"encoding\":\"hex\",\"secret\":\"s\"}",
	     "missing_field", "verification.hash: required"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"secret\":\"s\"}",
	     "missing_field", "verification.encoding: required"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\"}",
	     "missing_field", "verification.secret: required"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"md5\",\"encoding\":\"hex\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.hash: must be sha1, sha256 or sha512"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"SHA256\",\"encoding\":\"hex\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.hash"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha256\\u0000\",\"encoding\":\"hex\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.hash"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":256,\"encoding\":\"hex\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.hash"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"base64url\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.encoding: must be hex or base64"},
	    {"{\"kind\":\"hmac\",\"header\":\"X(1)\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"secret\":\"s\"}",
	     "invalid_field", "verification.header: must be a header name"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"prefix\":\"sha1=\\n\",\"secret\":\"s\"}",
	     "invalid_field", "verification.prefix: must not contain CR or LF"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"secret\":\"\"}",
	     "invalid_field", "verification.secret: must not be empty"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"secret\":\"a\\u0000b\"}",
	     "invalid_field", "verification.secret: must not contain NUL"},
	    {"{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"encoding\":\"hex\","
	     "\"secret\":42}",
	     "invalid_field", "verification.secret: must be a string"},
	    /* secret / secrets, on any secret kind */
	    {"{\"preset\":\"github\",\"secret\":\"a\",\"secrets\":[\"b\"]}", "invalid_field",
	     "verification.secrets: give either secret or secrets, not both"},
	    {"{\"preset\":\"github\",\"secrets\":[]}", "invalid_field",
	     "verification.secrets: must be a list of 1 to 8 secrets"},
	    {"{\"preset\":\"github\",\"secrets\":\"s\"}", "invalid_field",
	     "verification.secrets: must be a list"},
	    {"{\"preset\":\"github\",\"secrets\":{\"s\":1}}", "invalid_field",
	     "verification.secrets: must be a list"},
	    {"{\"preset\":\"acesso\",\"secrets\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
	     "\"9\"]}",
	     "invalid_field", "verification.secrets: must be a list of 1 to 8"},
	    {"{\"preset\":\"acesso\",\"secrets\":[\"a\",\"\"]}", "invalid_field",
	     "verification.secrets[1]: must not be empty"},
	    {"{\"preset\":\"acesso\",\"secrets\":[\"a\",null]}", "invalid_field",
	     "verification.secrets[1]: must be a string"},
	    {"{\"preset\":\"acesso\"}", "missing_field", "verification.secret: required"},
	    {"{\"preset\":\"acesso\",\"secret\":null}", "missing_field", "verification.secret"},
	    /* standard and svix */
	    {"{\"kind\":\"standard\"}", "missing_field", "verification.secret: required"},
	    {"{\"kind\":\"standard\",\"secret\":\"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}",
	     "invalid_field", "verification.secret: must be whsec_ followed by base64"},
	    {"{\"kind\":\"standard\",\"secret\":\"whsec_\"}", "invalid_field",
	     "verification.secret: must be whsec_"},
	    {"{\"kind\":\"standard\",\"secret\":\"whsec_not base64!\"}", "invalid_field",
	     "verification.secret: must be whsec_"},
	    {"{\"kind\":\"standard\",\"secret\":\"whsec_c2hvcnQ=\"}", "invalid_field",
	     "verification.secret: must be whsec_"}, /* "short": 5 bytes */
	    {"{\"kind\":\"standard\",\"secret\":\"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}",
	     "invalid_field", "verification.secret"},
	    {"{\"preset\":\"svix\",\"secrets\":[\"" SW_SECRET
	     "\",\"whsec_MfKQ9r8GKYqrTwjUPD8IL!\"]}",
	     "invalid_field", "verification.secrets[1]: must be whsec_"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":0}",
	     "invalid_field", "verification.toleranceSeconds: must be an integer from 1 to 86400"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":-5}",
	     "invalid_field", "verification.toleranceSeconds"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":86401}",
	     "invalid_field", "verification.toleranceSeconds"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":300.0}",
	     "invalid_field", "verification.toleranceSeconds"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":\"300\"}",
	     "invalid_field", "verification.toleranceSeconds"},
	    {"{\"kind\":\"standard\",\"secret\":\"" SW_SECRET
	     "\",\"toleranceSeconds\":9223372036854775807}",
	     "invalid_field", "verification.toleranceSeconds"},
	    {"{\"preset\":\"svix\",\"secret\":\"" SW_SECRET "\",\"toleranceSeconds\":1e300}",
	     "invalid_field", "verification.toleranceSeconds"},
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		refused(r[i].body, r[i].code, r[i].needle);

	/* Length bounds. */
	char big[8192];
	memset(big, 'a', 4097);
	big[4097] = '\0';
	char text[9000];
	snprintf(text, sizeof(text), "{\"kind\":\"apiKey\",\"key\":\"%s\"}", big);
	refused(text, "invalid_field", "verification.key: longer than 4096 bytes");
	big[4096] = '\0';
	snprintf(text, sizeof(text), "{\"kind\":\"apiKey\",\"key\":\"%s\"}", big);
	json_decref(build(text, NULL));
	big[129] = '\0';
	snprintf(text, sizeof(text), "{\"kind\":\"apiKey\",\"key\":\"k\",\"header\":\"%s\"}", big);
	refused(text, "invalid_field", "verification.header: longer than 128 bytes");
	big[65] = '\0';
	snprintf(text, sizeof(text), "{\"kind\":\"apiKey\",\"key\":\"k\",\"prefix\":\"%s\"}", big);
	refused(text, "invalid_field", "verification.prefix: longer than 64 bytes");
	/* A whsec_ key of 129 bytes is too long (base64 of 129 'a's). */
	unsigned char raw[129];
	memset(raw, 'a', sizeof(raw));
	char b64[200];
	assert_true(base64_encode(raw, sizeof(raw), b64, sizeof(b64)) > 0);
	snprintf(text, sizeof(text), "{\"kind\":\"standard\",\"secret\":\"whsec_%s\"}", b64);
	refused(text, "invalid_field", "verification.secret: must be whsec_");
	assert_true(base64_encode(raw, 128, b64, sizeof(b64)) > 0);
	snprintf(text, sizeof(text), "{\"kind\":\"standard\",\"secret\":\"whsec_%s\"}", b64);
	json_decref(build(text, NULL));
}

/* shown: verifier_to_json of build(text) is want, and its text holds none
 * of the secrets. */
static void shown(const char *text, const char *want)
{
	json_t *cfg = build(text, NULL);
	json_t *o = verifier_to_json(cfg);
	char *got = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (strcmp(got, want) != 0)
		fail_msg("%s shown as %s, want %s", text, got, want);
	for (int i = 0; secrets[i]; i++)
		if (strstr(got, secrets[i]))
			fail_msg("%s shows a secret", got);
	free(got);
	json_decref(o);
	json_decref(cfg);
}

static void test_to_json(void **state)
{
	(void)state;
	shown("{\"kind\":\"none\"}", "{\"kind\":\"none\"}");
	shown("{\"kind\":\"basic\",\"username\":\"gupy\",\"password\":\"s3cr3t-pw\"}",
	      "{\"kind\":\"basic\",\"username\":\"gupy\"}");
	shown("{\"kind\":\"apiKey\",\"key\":\"k-123456789\",\"prefix\":\"Bearer\"}",
	      "{\"kind\":\"apiKey\",\"header\":\"Authorization\",\"prefix\":\"Bearer\"}");
	shown("{\"kind\":\"hmac\",\"header\":\"X-S\",\"hash\":\"sha512\",\"encoding\":\"base64\","
	      "\"secrets\":[\"sha512-secret\",\"sha1-secret\"]}",
	      "{\"kind\":\"hmac\",\"header\":\"X-S\",\"hash\":\"sha512\",\"encoding\":\"base64\","
	      "\"secretCount\":2}");
	shown("{\"kind\":\"standard\",\"secret\":\"" SW_SECRET "\"}",
	      "{\"kind\":\"standard\",\"toleranceSeconds\":300,\"secretCount\":1}");
	shown("{\"preset\":\"github\",\"secret\":\"" GH_SECRET "\"}",
	      "{\"preset\":\"github\",\"kind\":\"hmac\",\"header\":\"X-Hub-Signature-256\","
	      "\"hash\":\"sha256\",\"encoding\":\"hex\",\"prefix\":\"sha256=\",\"secretCount\":1}");
	shown("{\"preset\":\"acesso\",\"secrets\":[\"" AC_SECRET "\",\"" AC_SECRET2 "\"]}",
	      "{\"preset\":\"acesso\",\"kind\":\"hmac\",\"header\":\"Acesso-Signature\","
	      "\"hash\":\"sha256\",\"encoding\":\"base64\",\"secretCount\":2}");
	shown("{\"preset\":\"svix\",\"secret\":\"" SW_SECRET2 "\",\"toleranceSeconds\":60}",
	      "{\"preset\":\"svix\",\"kind\":\"standard\",\"toleranceSeconds\":60,"
	      "\"secretCount\":1}");
}

/* A stored config that is not one (hand-edited, or from a future version)
 * is refused by compile, never crashes it. */
static void test_compile_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "{}",
	    "{\"kind\":\"magic\"}",
	    "{\"kind\":\"basic\"}",
	    "{\"kind\":\"apiKey\"}",
	    "{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"md5\",\"secrets\":[\"s\"]}",
	    "{\"kind\":\"hmac\",\"header\":\"X\",\"hash\":\"sha1\",\"secrets\":[]}",
	    "{\"kind\":\"standard\",\"secrets\":[\"whsec_!!\"]}",
	    "{\"kind\":\"standard\",\"secrets\":[]}",
	    "{\"preset\":\"github\"}",
	    NULL,
	};
	for (int i = 0; bad[i]; i++) {
		json_t *cfg = parse(bad[i]);
		struct verifier *v = NULL;
		struct gerr err = {0};
		assert_int_equal(verifier_compile(cfg, &v, &err), GERR_INVALID);
		assert_null(v);
		assert_int_equal(err.status, 400);
		json_decref(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_apikey),
	    cmocka_unit_test(test_hmac_kind),
	    cmocka_unit_test(test_github_preset),
	    cmocka_unit_test(test_acesso_preset),
	    cmocka_unit_test(test_standard),
	    cmocka_unit_test(test_svix_preset),
	    cmocka_unit_test(test_config_normalised),
	    cmocka_unit_test(test_config_patch),
	    cmocka_unit_test(test_config_refusals),
	    cmocka_unit_test(test_to_json),
	    cmocka_unit_test(test_compile_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
