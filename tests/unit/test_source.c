/*
 * test_source: a source's body → stored config → compiled struct → answer
 * (core/source.h). Every field with a good value, missing, of the wrong
 * type, out of range, with a NUL; unknown and read-only fields; the defaults
 * (id path from the signed id for standard and svix); the PATCH merge; and
 * answers that never show a secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/netaddr.h"
#include "core/source.h"

#define NONE "\"verification\":{\"kind\":\"none\"}"
#define MIN  "{\"name\":\"Gupy\"," NONE

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

/* build: source_config_build of text onto existing (a stored config text or
 * NULL); fails the test on a refusal. */
static json_t *build_onto(const char *text, const char *existing)
{
	json_t *in = parse(text), *ex = existing ? parse(existing) : NULL, *out = NULL;
	struct gerr err = {0};
	if (source_config_build(in, ex, &out, &err))
		fail_msg("refused %s: %s", text, err.msg);
	json_decref(in);
	json_decref(ex);
	return out;
}

static json_t *build(const char *text)
{
	return build_onto(text, NULL);
}

/* make: build + compile. */
static struct source *make(const char *text)
{
	json_t *cfg = build(text);
	struct source *s = NULL;
	struct gerr err = {0};
	if (source_compile(cfg, 7, "0b6f0a52-8d7c-4f0e-9d52-1b8c3c9e4a11", 3, &s, &err))
		fail_msg("compile %s: %s", text, err.msg);
	json_decref(cfg);
	return s;
}

/* answer: the API's view of text's config. */
static json_t *answer(const char *text)
{
	json_t *cfg = build(text);
	json_t *a = source_to_json(cfg, "src-1", 1000, 2000);
	assert_non_null(a);
	json_decref(cfg);
	return a;
}

/* refused_onto: text (onto existing) is refused 400 with code, the message
 * containing needle; nothing comes out. */
static void refused_onto(const char *text, const char *existing, const char *code,
                         const char *needle)
{
	json_t *in = parse(text), *ex = existing ? parse(existing) : NULL, *out = NULL;
	struct gerr err = {0};
	int rc = source_config_build(in, ex, &out, &err);
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

static void invalid(const char *text, const char *needle)
{
	refused(text, "invalid_field", needle);
}

/* ---- defaults and the answer ------------------------------------------------------------ */

static void test_minimal_source_and_its_defaults(void **state)
{
	(void)state;
	struct source *s = make(MIN "}");
	assert_string_equal(s->name, "Gupy");
	assert_int_equal(s->seq, 7);
	assert_int_equal(s->company_seq, 3);
	assert_string_equal(s->id, "0b6f0a52-8d7c-4f0e-9d52-1b8c3c9e4a11");
	assert_non_null(s->verifier);
	assert_null(s->allow);
	assert_string_equal(s->id_path, "id");
	assert_string_equal(s->event_path, "event");
	assert_string_equal(s->date_path, "date");
	assert_int_equal(s->max_body, 1048576);
	assert_null(s->entity_type);
	assert_int_equal(s->nkeep, 0);
	source_ref(s);
	assert_int_equal(s->refs, 2);
	source_unref(s);
	source_unref(s);
	source_unref(NULL);

	/* only what was given is stored */
	json_t *cfg = build(MIN "}");
	assert_int_equal(json_object_size(cfg), 2);
	json_decref(cfg);

	json_t *a = answer(MIN "}");
	assert_string_equal(json_string_value(json_object_get(a, "id")), "src-1");
	assert_string_equal(json_string_value(json_object_get(a, "name")), "Gupy");
	assert_string_equal(json_string_value(json_object_get(a, "url")), "/in/src-1");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(a, "verification"), "kind")), "none");
	assert_true(json_is_null(json_object_get(a, "allowIps")));
	assert_string_equal(json_string_value(json_object_get(a, "idPath")), "id");
	assert_string_equal(json_string_value(json_object_get(a, "eventPath")), "event");
	assert_string_equal(json_string_value(json_object_get(a, "datePath")), "date");
	assert_int_equal(json_integer_value(json_object_get(a, "maxBodyBytes")), 1048576);
	assert_true(json_is_null(json_object_get(a, "entity")));
	assert_string_equal(json_string_value(json_object_get(a, "createdAt")),
	                    "1970-01-01T00:00:01.000Z");
	assert_string_equal(json_string_value(json_object_get(a, "updatedAt")),
	                    "1970-01-01T00:00:02.000Z");
	json_decref(a);
}

/* standard and svix sign a message id: it is the id unless idPath says. */
static void test_signed_id_is_the_default_id(void **state)
{
	(void)state;
	static const char *const signing[] = {
	    "{\"name\":\"a\",\"verification\":{\"kind\":\"standard\","
	    "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
	    "{\"name\":\"a\",\"verification\":{\"preset\":\"svix\","
	    "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
	    NULL,
	};
	for (int i = 0; signing[i]; i++) {
		struct source *s = make(signing[i]);
		assert_null(s->id_path);
		source_unref(s);
		json_t *a = answer(signing[i]);
		assert_true(json_is_null(json_object_get(a, "idPath")));
		json_decref(a);
	}
	struct source *s =
	    make("{\"name\":\"a\",\"idPath\":\"data.id\",\"verification\":{\"preset\":\"svix\","
	         "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}");
	assert_string_equal(s->id_path, "data.id");
	source_unref(s);
	/* hmac signs no id: the default path stays */
	s = make("{\"name\":\"a\",\"verification\":{\"preset\":\"github\",\"secret\":\"x\"}}");
	assert_string_equal(s->id_path, "id");
	source_unref(s);
}

/* Every kind and preset is accepted; no answer shows a secret. */
static void test_verification_kinds_and_redaction(void **state)
{
	(void)state;
	static const struct {
		const char *ver, *kind, *secret;
	} cases[] = {
	    {"{\"kind\":\"none\"}", "none", NULL},
	    {"{\"kind\":\"basic\",\"username\":\"gupy\",\"password\":\"s3cr3t-pw\"}", "basic",
	     "s3cr3t-pw"},
	    {"{\"kind\":\"apiKey\",\"key\":\"k-123456789\",\"prefix\":\"Bearer\"}", "apiKey",
	     "k-123456789"},
	    {"{\"kind\":\"hmac\",\"header\":\"X-Sig\",\"hash\":\"sha512\",\"encoding\":\"hex\","
	     "\"secrets\":[\"hm-one-secret\",\"hm-two-secret\"]}",
	     "hmac", "hm-two-secret"},
	    {"{\"kind\":\"standard\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\","
	     "\"toleranceSeconds\":60}",
	     "standard", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	    {"{\"preset\":\"acesso\",\"secret\":\"acesso-rh-segredo\"}", "hmac",
	     "acesso-rh-segredo"},
	    {"{\"preset\":\"github\",\"secret\":\"gh-secret-value\"}", "hmac", "gh-secret-value"},
	    {"{\"preset\":\"svix\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}",
	     "standard", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[512];
		snprintf(body, sizeof(body), "{\"name\":\"s\",\"verification\":%s}", cases[i].ver);
		/* the stored config keeps the secret: it is what checks requests */
		json_t *cfg = build(body);
		char *stored = json_dumps(cfg, JSON_COMPACT);
		if (cases[i].secret)
			assert_non_null(strstr(stored, cases[i].secret));
		free(stored);
		json_decref(cfg);
		struct source *s = make(body);
		source_unref(s);
		json_t *a = answer(body);
		char *text = json_dumps(a, JSON_COMPACT);
		if (cases[i].secret && strstr(text, cases[i].secret))
			fail_msg("answer shows a secret: %s", text);
		json_t *v = json_object_get(a, "verification");
		const char *kind = json_string_value(json_object_get(v, "kind"));
		if (!kind || strcmp(kind, cases[i].kind) != 0)
			fail_msg("%s: kind in %s", cases[i].ver, text);
		free(text);
		json_decref(a);
	}
}

/* ---- field by field ---------------------------------------------------------------------- */

static void test_name(void **state)
{
	(void)state;
	refused("{" NONE "}", "missing_field", "name: required");
	refused("{\"name\":null," NONE "}", "missing_field", "name: required");
	invalid("{\"name\":5," NONE "}", "name: must be a string");
	invalid("{\"name\":[\"a\"]," NONE "}", "name: must be a string");
	invalid("{\"name\":\"\"," NONE "}", "name: must be a string of 1 to 200");
	invalid("{\"name\":\"a\\u0000b\"," NONE "}", "name: must not contain a NUL");
	/* 200 characters, two bytes each: fine; 201: refused */
	char body[1024];
	char name[512] = "";
	for (int i = 0; i < 200; i++)
		strcat(name, "\xc3\xa9");
	snprintf(body, sizeof(body), "{\"name\":\"%s\"," NONE "}", name);
	json_t *cfg = build(body);
	json_decref(cfg);
	strcat(name, "x");
	snprintf(body, sizeof(body), "{\"name\":\"%s\"," NONE "}", name);
	invalid(body, "name: must be a string of 1 to 200");
}

static void test_verification(void **state)
{
	(void)state;
	refused("{\"name\":\"a\"}", "missing_field", "verification: required");
	refused("{\"name\":\"a\",\"verification\":null}", "missing_field",
	        "verification: required");
	invalid("{\"name\":\"a\",\"verification\":\"none\"}", "must be an object");
	invalid("{\"name\":\"a\",\"verification\":{\"kind\":\"rot13\"}}", "verification.kind");
	refused("{\"name\":\"a\",\"verification\":{}}", "missing_field", "verification.kind");
	invalid("{\"name\":\"a\",\"verification\":{\"kind\":\"hmac\",\"header\":\"X\","
	        "\"hash\":\"md5\",\"encoding\":\"hex\",\"secret\":\"s\"}}",
	        "verification.hash");
	invalid("{\"name\":\"a\",\"verification\":{\"kind\":\"basic\",\"username\":\"u\","
	        "\"password\":\"p\\u0000q\"}}",
	        "verification.password");
}

static void test_allow_ips(void **state)
{
	(void)state;
	struct source *s = make(MIN ",\"allowIps\":[\"10.0.0.0/8\",\"gupy\",\"2001:db8::/32\"]}");
	assert_non_null(s->allow);
	struct netaddr a;
	assert_int_equal(netaddr_parse("10.1.2.3", 8, &a), 0);
	assert_true(netaddr_list_contains(s->allow, &a));
	assert_int_equal(netaddr_parse("192.0.2.1", 9, &a), 0);
	assert_false(netaddr_list_contains(s->allow, &a));
	assert_int_equal(netaddr_parse("2001:db8::5", 11, &a), 0);
	assert_true(netaddr_list_contains(s->allow, &a));
	/* the preset's first address (Gupy's published list) */
	size_t n = 0;
	const char *const *gupy = netaddr_preset("gupy", &n);
	assert_true(n > 0);
	assert_int_equal(netaddr_parse(gupy[0], strlen(gupy[0]), &a), 0);
	assert_true(netaddr_list_contains(s->allow, &a));
	source_unref(s);
	/* answered as given, the preset by its name */
	json_t *ans = answer(MIN ",\"allowIps\":[\"gupy\",\"10.0.0.0/8\"]}");
	char *t = json_dumps(json_object_get(ans, "allowIps"), JSON_COMPACT);
	assert_string_equal(t, "[\"gupy\",\"10.0.0.0/8\"]");
	free(t);
	json_decref(ans);

	invalid(MIN ",\"allowIps\":\"10.0.0.1\"}", "allowIps");
	invalid(MIN ",\"allowIps\":[]}", "allowIps");
	invalid(MIN ",\"allowIps\":[5]}", "allowIps");
	invalid(MIN ",\"allowIps\":[\"10.0.0.1/33\"]}", "allowIps[0]");
	invalid(MIN ",\"allowIps\":[\"10.0.0.0/8\",\"203.0.113.7/24\"]}", "allowIps[1]");
	invalid(MIN ",\"allowIps\":[\"github\"]}", "allowIps[0]");
	invalid(MIN ",\"allowIps\":[\"10.0.0.1\\u0000\"]}", "allowIps[0]");
	/* null: every address */
	s = make(MIN ",\"allowIps\":null}");
	assert_null(s->allow);
	source_unref(s);
}

static void test_paths(void **state)
{
	(void)state;
	struct source *s = make(MIN ",\"idPath\":\"data.application.id\",\"eventPath\":\"type\","
	                            "\"datePath\":\"data.createdAt\"}");
	assert_string_equal(s->id_path, "data.application.id");
	assert_string_equal(s->event_path, "type");
	assert_string_equal(s->date_path, "data.createdAt");
	source_unref(s);
	static const char *const fields[] = {"idPath", "eventPath", "datePath", NULL};
	char body[1024], needle[64], longp[300];
	for (int i = 0; fields[i]; i++) {
		const char *f = fields[i];
		snprintf(needle, sizeof(needle), "%s: ", f);
#define TRY(val)                                                                                   \
	do {                                                                                       \
		snprintf(body, sizeof(body), MIN ",\"%s\":%s}", f, val);                           \
		invalid(body, needle);                                                             \
	} while (0)
		TRY("5");
		TRY("[\"a\"]");
		TRY("\"\"");
		TRY("\".a\"");
		TRY("\"a.\"");
		TRY("\"a..b\"");
		TRY("\"a\\tb\"");
		TRY("\"a\\u0000b\"");
		memset(longp, 'a', 257);
		longp[257] = '\0';
		char q[320];
		snprintf(q, sizeof(q), "\"%s\"", longp);
		TRY(q);
#undef TRY
		/* 256 bytes is the most */
		longp[256] = '\0';
		snprintf(body, sizeof(body), MIN ",\"%s\":\"%s\"}", f, longp);
		json_t *cfg = build(body);
		json_decref(cfg);
		/* null: back to the default */
		snprintf(body, sizeof(body), MIN ",\"%s\":null}", f);
		cfg = build(body);
		assert_null(json_object_get(cfg, f));
		json_decref(cfg);
	}
}

static void test_max_body(void **state)
{
	(void)state;
	struct source *s = make(MIN ",\"maxBodyBytes\":1024}");
	assert_int_equal(s->max_body, 1024);
	source_unref(s);
	s = make(MIN ",\"maxBodyBytes\":67108864}");
	assert_int_equal(s->max_body, 67108864);
	source_unref(s);
	invalid(MIN ",\"maxBodyBytes\":1023}", "maxBodyBytes: must be an integer from 1024 to");
	invalid(MIN ",\"maxBodyBytes\":67108865}", "maxBodyBytes");
	invalid(MIN ",\"maxBodyBytes\":-1}", "maxBodyBytes");
	invalid(MIN ",\"maxBodyBytes\":\"2048\"}", "maxBodyBytes");
	invalid(MIN ",\"maxBodyBytes\":2048.5}", "maxBodyBytes");
	invalid(MIN ",\"maxBodyBytes\":1e30}", "maxBodyBytes");
	invalid(MIN ",\"maxBodyBytes\":true}", "maxBodyBytes");
}

#define ENT(x) MIN ",\"entity\":" x "}"

static void test_entity(void **state)
{
	(void)state;
	struct source *s =
	    make(ENT("{\"type\":\"application\",\"key\":\"data.application.id\","
	             "\"keep\":{\"jobId\":\"data.job.id\",\"step\":"
	             "\"data.application.currentStep.name\"},\"reorderWindowSeconds\":30}"));
	assert_string_equal(s->entity_type, "application");
	assert_string_equal(s->entity_key, "data.application.id");
	assert_int_equal(s->nkeep, 2);
	assert_string_equal(s->keep[0].name, "jobId");
	assert_string_equal(s->keep[0].path, "data.job.id");
	assert_string_equal(s->keep[1].name, "step");
	assert_string_equal(s->keep[1].path, "data.application.currentStep.name");
	assert_int_equal(s->reorder_window_s, 30);
	source_unref(s);
	/* the answer fills keep and the window */
	json_t *a = answer(ENT("{\"type\":\"job.v2\",\"key\":\"data.id\"}"));
	char *t = json_dumps(json_object_get(a, "entity"), JSON_COMPACT);
	assert_string_equal(t, "{\"type\":\"job.v2\",\"key\":\"data.id\",\"keep\":{},"
	                       "\"reorderWindowSeconds\":0}");
	free(t);
	json_decref(a);

	invalid(ENT("\"application\""), "entity: must be an object");
	refused(ENT("{\"key\":\"data.id\"}"), "missing_field", "entity.type: required");
	refused(ENT("{\"type\":\"a\"}"), "missing_field", "entity.key: required");
	invalid(ENT("{\"type\":5,\"key\":\"id\"}"), "entity.type");
	invalid(ENT("{\"type\":\"\",\"key\":\"id\"}"), "entity.type");
	invalid(ENT("{\"type\":\"app lication\",\"key\":\"id\"}"), "entity.type");
	invalid(ENT("{\"type\":\"a\\u0000\",\"key\":\"id\"}"), "entity.type");
	invalid(
	    ENT("{\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	        "\"key\":\"id\"}"),
	    "entity.type");
	invalid(ENT("{\"type\":\"a\",\"key\":\"data..id\"}"), "entity.key");
	invalid(ENT("{\"type\":\"a\",\"key\":7}"), "entity.key");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"color\":\"red\"}"),
	        "entity.color: unknown field");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"keep\":[\"data.x\"]}"), "entity.keep");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"keep\":{\"job.id\":\"data.x\"}}"),
	        "entity.keep.job.id");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"keep\":{\"jobId\":\"data..x\"}}"),
	        "entity.keep.jobId");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"keep\":{\"jobId\":3}}"), "entity.keep.jobId");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"keep\":{\"jobId\":\"a\\u0000\"}}"),
	        "entity.keep.jobId");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"reorderWindowSeconds\":3601}"),
	        "entity.reorderWindowSeconds: must be an integer from 0 to 3600");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"reorderWindowSeconds\":-1}"),
	        "entity.reorderWindowSeconds");
	invalid(ENT("{\"type\":\"a\",\"key\":\"id\",\"reorderWindowSeconds\":\"5\"}"),
	        "entity.reorderWindowSeconds");
	/* 32 kept fields are the most */
	char body[4096] = MIN ",\"entity\":{\"type\":\"a\",\"key\":\"id\",\"keep\":{";
	for (int i = 0; i < 33; i++) {
		char one[64];
		snprintf(one, sizeof(one), "%s\"k%d\":\"data.f%d\"", i ? "," : "", i, i);
		strcat(body, one);
		if (i == 31) {
			char ok[4200];
			snprintf(ok, sizeof(ok), "%s}}}", body);
			s = make(ok);
			assert_int_equal(s->nkeep, 32);
			source_unref(s);
		}
	}
	strcat(body, "}}}");
	invalid(body, "entity.keep: at most 32");
}

static void test_unknown_and_read_only_fields(void **state)
{
	(void)state;
	invalid(MIN ",\"colour\":\"red\"}", "colour: unknown field");
	invalid(MIN ",\"url\":\"/in/x\"}", "url: set by gancho");
	invalid(MIN ",\"createdAt\":\"2026-01-01T00:00:00.000Z\"}", "createdAt: set by gancho");
	invalid(MIN ",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}", "updatedAt: set by gancho");
	refused("[1]", "invalid_json", "must be a JSON object");
	/* id is the API's to check */
	json_t *cfg = build(MIN ",\"id\":\"whatever\"}");
	assert_null(json_object_get(cfg, "id"));
	json_decref(cfg);
}

/* A PATCH: given fields replace, null removes, absent ones stay. */
static void test_patch(void **state)
{
	(void)state;
	json_t *base = build("{\"name\":\"Gupy\",\"verification\":{\"kind\":\"hmac\","
	                     "\"header\":\"X-Sig\",\"hash\":\"sha256\",\"encoding\":\"hex\","
	                     "\"secret\":\"old-secret\"},\"allowIps\":[\"gupy\"],"
	                     "\"entity\":{\"type\":\"application\",\"key\":\"data.id\","
	                     "\"keep\":{\"jobId\":\"data.job.id\"}}}");
	char *ex = json_dumps(base, JSON_COMPACT);
	json_decref(base);

	json_t *c = build_onto("{\"name\":\"Gupy BR\"}", ex);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "Gupy BR");
	assert_non_null(json_object_get(c, "allowIps"));
	assert_non_null(json_object_get(c, "entity"));
	char *t = json_dumps(json_object_get(c, "verification"), JSON_COMPACT);
	assert_non_null(strstr(t, "old-secret"));
	free(t);
	json_decref(c);

	/* a new secret merges into the same kind */
	c = build_onto("{\"verification\":{\"secret\":\"new-secret\"}}", ex);
	t = json_dumps(json_object_get(c, "verification"), JSON_COMPACT);
	assert_non_null(strstr(t, "new-secret"));
	assert_null(strstr(t, "old-secret"));
	assert_non_null(strstr(t, "X-Sig"));
	free(t);
	json_decref(c);

	/* null removes optional fields; entity is replaced whole */
	c = build_onto("{\"allowIps\":null,\"entity\":{\"type\":\"job\",\"key\":\"data.job.id\"}}",
	               ex);
	assert_null(json_object_get(c, "allowIps"));
	assert_null(json_object_get(json_object_get(c, "entity"), "keep"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(c, "entity"), "type")), "job");
	json_decref(c);
	c = build_onto("{\"entity\":null}", ex);
	assert_null(json_object_get(c, "entity"));
	json_decref(c);

	refused_onto("{\"name\":null}", ex, "missing_field", "name: required");
	refused_onto("{\"verification\":null}", ex, "missing_field", "verification: required");
	refused_onto("{\"maxBodyBytes\":1}", ex, "invalid_field", "maxBodyBytes");
	refused_onto("{\"entity\":{\"type\":\"job\"}}", ex, "missing_field", "entity.key");
	free(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal_source_and_its_defaults),
	    cmocka_unit_test(test_signed_id_is_the_default_id),
	    cmocka_unit_test(test_verification_kinds_and_redaction),
	    cmocka_unit_test(test_name),
	    cmocka_unit_test(test_verification),
	    cmocka_unit_test(test_allow_ips),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_max_body),
	    cmocka_unit_test(test_entity),
	    cmocka_unit_test(test_unknown_and_read_only_fields),
	    cmocka_unit_test(test_patch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
