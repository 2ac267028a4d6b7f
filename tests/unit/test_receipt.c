/*
 * test_receipt: reading a received body (Gupy's envelope and others): the
 * id as string or integer or from the signed header, event, date, entity
 * key, kept fields byte for byte; every refusal with its reason; the order
 * rule (older is stale, equal applies, exact below the microsecond) and the
 * merge of kept fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/receipt.h"

static const char *const keep_names[] = {"jobId", "step"};
static const char *const keep_paths[] = {"data.job.id", "data.application.currentStep.name"};

static const struct receipt_spec gupy = {
    .id_path = "id",
    .event_path = "event",
    .date_path = "date",
    .entity_key_path = "data.application.id",
    .nkeep = 2,
    .keep_names = keep_names,
    .keep_paths = keep_paths,
};

static const char moved[] =
    "{\"companyName\":\"ACME\",\"id\":\"49f8b7d0-8a1a-4d59-9e5f-0c2a4b1d5e6f\","
    "\"event\":\"application.moved\",\"date\":\"2019-06-19T00:00:00.000Z\","
    "\"data\":{\"job\":{\"id\":1e400,\"name\":\"Dev\"},"
    "\"application\":{\"id\":88,\"currentStep\":{\"name\":\"Exame\"}}}}";

static int read(const char *body, const struct receipt_spec *spec, const char *signed_id,
                struct receipt_fields *f, struct gerr *err)
{
	return receipt_read(body, strlen(body), spec, signed_id, f, err);
}

static void refused(const char *body, const struct receipt_spec *spec, const char *why)
{
	struct receipt_fields f;
	struct gerr err = {0};
	int rc = read(body, spec, NULL, &f, &err);
	receipt_fields_free(&f);
	if (rc != GERR_INVALID || err.status != 400 || !strstr(err.msg, why))
		fail_msg("%s: rc %d, %s (wanted \"%s\")", body, rc, err.msg, why);
	assert_string_equal(err.code, "invalid_body");
}

static void test_gupy_envelope(void **state)
{
	(void)state;
	struct receipt_fields f;
	struct gerr err = {0};
	assert_int_equal(read(moved, &gupy, NULL, &f, &err), 0);
	assert_string_equal(f.msg_id, "49f8b7d0-8a1a-4d59-9e5f-0c2a4b1d5e6f");
	assert_string_equal(f.event, "application.moved");
	assert_string_equal(f.date, "2019-06-19T00:00:00.000Z");
	assert_true(f.has_entity);
	assert_string_equal(f.entity_key, "88");
	/* values kept as sent: 1e400 is no double, and stays itself */
	assert_int_equal(f.kept.len, strlen("{\"jobId\":1e400,\"step\":\"Exame\"}"));
	assert_memory_equal(f.kept.data, "{\"jobId\":1e400,\"step\":\"Exame\"}", f.kept.len);
	receipt_fields_free(&f);
}

static void test_ids(void **state)
{
	(void)state;
	struct receipt_fields f;
	struct gerr err = {0};
	assert_int_equal(read("{\"id\":12345,\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}",
	                      &gupy, NULL, &f, &err),
	                 0);
	assert_string_equal(f.msg_id, "12345");
	assert_false(f.has_entity); /* no application id: no entity */
	assert_memory_equal(f.kept.data, "{}", 2);
	receipt_fields_free(&f);
	/* the signed id when the source reads none from the body */
	struct receipt_spec std = gupy;
	std.id_path = NULL;
	assert_int_equal(read("{\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &std,
	                      "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", &f, &err),
	                 0);
	assert_string_equal(f.msg_id, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
	receipt_fields_free(&f);
	assert_int_equal(
	    read("{\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &std, NULL, &f, &err),
	    GERR_INVALID);
	receipt_fields_free(&f);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("", &gupy, "not JSON");
	refused("{\"id\":\"a\",", &gupy, "not JSON");
	refused("{\"id\":\"a\"} x", &gupy, "not JSON");
	refused("{\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "id (the event's id) is missing");
	refused("{\"id\":1.5,\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "string or an integer");
	refused("{\"id\":{},\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "string or an integer");
	refused("{\"id\":\"\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "must not be empty");
	refused("{\"id\":\"a\\u0000b\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "control character");
	refused("{\"id\":\"a\",\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "event (the event's name) is missing");
	refused("{\"id\":\"a\",\"event\":7,\"date\":\"2019-06-19T00:00:00Z\"}", &gupy,
	        "must be a string");
	refused("{\"id\":\"a\",\"event\":\"e\"}", &gupy, "date (the event's date) is missing");
	refused("{\"id\":\"a\",\"event\":\"e\",\"date\":1560902400}", &gupy, "must be a string");
	refused("{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00\"}", &gupy, "date");
	refused("{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-02-30T00:00:00Z\"}", &gupy, "date");
	char big[600];
	snprintf(big, sizeof(big),
	         "{\"id\":\"%0300d\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\"}", 7);
	refused(big, &gupy, "longer than 256 bytes");
}

/* The fields are met while the body is validated: a repeated top-level
 * member counts as its last (as jsonpath reads it everywhere else), a key
 * written with escapes is its decoded name, paths under a member descend
 * into it, and a body whose top is an array is read by index. */
static void test_top_level_reading(void **state)
{
	(void)state;
	struct receipt_fields f;
	struct gerr err = {0};
	const char *rep = "{\"id\":\"first\",\"ev\\u0065nt\":\"e\",\"data\":{\"application\":"
	                  "{\"id\":1}},\"date\":\"2019-06-19T00:00:00Z\",\"id\":\"last\","
	                  "\"data\":{\"application\":{\"id\":2},\"job\":{\"id\":9}}}";
	assert_int_equal(read(rep, &gupy, NULL, &f, &err), 0);
	assert_string_equal(f.msg_id, "last");
	assert_string_equal(f.event, "e");
	assert_string_equal(f.entity_key, "2"); /* the last "data" */
	assert_memory_equal(f.kept.data, "{\"jobId\":9}", f.kept.len);
	receipt_fields_free(&f);
	static const char *const kn[] = {"n"};
	static const char *const kp[] = {"1"};
	const struct receipt_spec arr = {.id_path = "0.id",
	                                 .event_path = "0.event",
	                                 .date_path = "0.date",
	                                 .entity_key_path = "0.key",
	                                 .nkeep = 1,
	                                 .keep_names = kn,
	                                 .keep_paths = kp};
	assert_int_equal(read(" [{\"id\":5,\"event\":\"x\",\"date\":\"2019-06-19T00:00:00Z\","
	                      "\"key\":\"k\"}, 42] ",
	                      &arr, NULL, &f, &err),
	                 0);
	assert_string_equal(f.msg_id, "5");
	assert_string_equal(f.entity_key, "k");
	assert_memory_equal(f.kept.data, "{\"n\":42}", f.kept.len);
	receipt_fields_free(&f);
	/* a member that is not an object has nothing under it */
	refused("{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\",\"data\":7}",
	        &(struct receipt_spec){
	            .id_path = "data.id", .event_path = "event", .date_path = "date"},
	        "data.id (the event's id) is missing");
}

static void test_null_entity_key_is_no_entity(void **state)
{
	(void)state;
	struct receipt_fields f;
	struct gerr err = {0};
	assert_int_equal(read("{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\","
	                      "\"data\":{\"application\":{\"id\":null}}}",
	                      &gupy, NULL, &f, &err),
	                 0);
	assert_false(f.has_entity);
	receipt_fields_free(&f);
	assert_int_equal(read("{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\","
	                      "\"data\":{\"application\":{\"id\":\"\"}}}",
	                      &gupy, NULL, &f, &err),
	                 0);
	assert_false(f.has_entity);
	receipt_fields_free(&f);
}

static void test_long_entity_keys_are_hashed(void **state)
{
	(void)state;
	char body[400];
	snprintf(body, sizeof(body),
	         "{\"id\":\"a\",\"event\":\"e\",\"date\":\"2019-06-19T00:00:00Z\","
	         "\"data\":{\"application\":{\"id\":\"%0100d\"}}}",
	         1);
	struct receipt_fields f;
	struct gerr err = {0};
	assert_int_equal(read(body, &gupy, NULL, &f, &err), 0);
	assert_true(f.has_entity);
	assert_int_equal(f.entity_key[0], '~');
	assert_int_equal(strlen(f.entity_key), 44);
	receipt_fields_free(&f);
}

static struct isodate at(const char *s)
{
	struct isodate d;
	struct gerr err = {0};
	if (isodate_parse(s, strlen(s), &d, NULL, &err))
		fail_msg("%s: %s", s, err.msg);
	return d;
}

static void test_decide(void **state)
{
	(void)state;
	struct isodate d = at("2019-06-19T00:00:00.000Z");
	assert_true(receipt_decide(NULL, &d));
	struct receipt_entity none = {0};
	assert_true(receipt_decide(&none, &d));
	struct receipt_entity e = {.exists = true, .latest = d};
	struct isodate same = at("2019-06-18T21:00:00-03:00"); /* the same instant */
	assert_true(receipt_decide(&e, &same));
	struct isodate older = at("2019-06-18T23:59:59.999999999Z");
	assert_false(receipt_decide(&e, &older));
	struct isodate newer = at("2019-06-19T00:00:00.000000001Z");
	assert_true(receipt_decide(&e, &newer));
	/* below the microsecond still orders */
	e.latest = newer;
	assert_false(receipt_decide(&e, &d));
}

static void merged(const char *cur, const char *fresh, const char *want)
{
	struct buf out;
	buf_init(&out);
	struct gerr err = {0};
	assert_int_equal(receipt_merge_kept(cur, strlen(cur), fresh, strlen(fresh), &out, &err), 0);
	buf_putc(&out, '\0');
	assert_string_equal(out.data, want);
	buf_free(&out);
}

static void test_merge(void **state)
{
	(void)state;
	merged("{}", "{}", "{}");
	merged("{}", "{\"jobId\":7}", "{\"jobId\":7}");
	merged("{\"jobId\":7,\"step\":\"A\"}", "{\"step\":\"B\"}", "{\"jobId\":7,\"step\":\"B\"}");
	merged("{\"jobId\":7}", "{\"score\":1e400,\"tags\":[1, 2]}",
	       "{\"jobId\":7,\"score\":1e400,\"tags\":[1, 2]}");
	struct buf out;
	buf_init(&out);
	struct gerr err = {0};
	assert_int_equal(receipt_merge_kept("[]", 2, "{}", 2, &out, &err), GERR_INVALID);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gupy_envelope),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_top_level_reading),
	    cmocka_unit_test(test_null_entity_key_is_no_entity),
	    cmocka_unit_test(test_long_entity_keys_are_hashed),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
