/*
 * test_reconcile: core/reconcile: the config's rules and defaults, reading
 * list pages with every number checked (HTML, wrong types, another page,
 * bounds), ids as text, the step check, the sender id, the synthetic
 * envelope and the list URLs, and the "would change nothing" comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/reconcile.h"

static json_t *parse(const char *s)
{
	json_t *v = json_loads(s, 0, NULL);
	assert_non_null(v);
	return v;
}

/* refused: body (over existing, may be NULL) is refused naming field. */
static void refused(const char *existing, const char *body, const char *field)
{
	json_t *b = parse(body), *e = existing ? parse(existing) : NULL, *out = NULL;
	struct gerr err = {0};
	assert_int_not_equal(reconcile_config_build(b, e, &out, &err), 0);
	assert_null(out);
	assert_int_equal(err.status, 400);
	if (!strstr(err.msg, field))
		fail_msg("\"%s\" does not name %s", err.msg, field);
	json_decref(b);
	json_decref(e);
}

#define GOOD                                                                                       \
	"{\"connectionId\":\"c1\",\"sourceId\":\"s1\",\"steps\":[\"Exame\"],\"everySeconds\":"     \
	"3600}"

static void test_config_defaults_and_rules(void **state)
{
	(void)state;
	json_t *b = parse(GOOD), *cfg = NULL;
	struct gerr err = {0};
	assert_int_equal(reconcile_config_build(b, NULL, &cfg, &err), 0);
	assert_string_equal(json_string_value(json_object_get(cfg, "jobStatus")), "published");
	assert_int_equal(json_integer_value(json_object_get(cfg, "pageSize")), 100);
	assert_int_equal(json_integer_value(json_object_get(cfg, "requestsPerSecond")), 5);
	assert_string_equal(json_string_value(json_object_get(cfg, "name")), "");
	struct reconcile_spec spec;
	assert_int_equal(reconcile_spec_read(cfg, &spec, &err), 0);
	assert_int_equal(spec.nsteps, 1);
	assert_true(reconcile_wants_step(&spec, "Exame"));
	assert_false(reconcile_wants_step(&spec, "exame"));
	assert_false(reconcile_wants_step(&spec, NULL));
	/* a PATCH: given fields replace, null puts a default back */
	json_t *p = parse("{\"pageSize\":7,\"jobStatus\":\"closed\"}"), *cfg2 = NULL;
	assert_int_equal(reconcile_config_build(p, cfg, &cfg2, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(cfg2, "pageSize")), 7);
	json_t *p2 = parse("{\"pageSize\":null}"), *cfg3 = NULL;
	assert_int_equal(reconcile_config_build(p2, cfg2, &cfg3, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(cfg3, "pageSize")), 100);
	assert_string_equal(json_string_value(json_object_get(cfg3, "jobStatus")), "closed");
	json_t *ans = reconcile_to_json(cfg3, "r1", 1000, 1000, 2000);
	assert_non_null(ans);
	assert_string_equal(json_string_value(json_object_get(ans, "nextRunAt")),
	                    "1970-01-01T00:00:01.000Z");
	json_decref(ans);
	json_decref(b);
	json_decref(p);
	json_decref(p2);
	json_decref(cfg);
	json_decref(cfg2);
	json_decref(cfg3);

	refused(NULL, "{\"sourceId\":\"s\",\"steps\":[\"a\"],\"everySeconds\":60}", "connectionId");
	refused(NULL,
	        "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[],\"everySeconds\":60}",
	        "steps");
	refused(NULL,
	        "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[\"a\",\"a\"],"
	        "\"everySeconds\":60}",
	        "steps[1]");
	refused(
	    NULL,
	    "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[\"a\\n\"],\"everySeconds\":60}",
	    "steps[0]");
	refused(NULL,
	        "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[\"a\"],\"everySeconds\":59}",
	        "everySeconds");
	refused(NULL,
	        "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[\"a\"],"
	        "\"everySeconds\":604801}",
	        "everySeconds");
	refused(
	    NULL,
	    "{\"connectionId\":\"c\",\"sourceId\":\"s\",\"steps\":[\"a\"],\"everySeconds\":60.5}",
	    "everySeconds");
	refused(GOOD, "{\"pageSize\":101}", "pageSize");
	refused(GOOD, "{\"pageSize\":0}", "pageSize");
	refused(GOOD, "{\"requestsPerSecond\":51}", "requestsPerSecond");
	refused(GOOD, "{\"jobStatus\":\"a b\"}", "jobStatus");
	refused(GOOD, "{\"steps\":null}", "steps");
	refused(GOOD, "{\"colour\":1}", "colour");
	refused(GOOD, "{\"nextRunAt\":\"x\"}", "nextRunAt");
	/* 17 steps */
	refused(GOOD,
	        "{\"steps\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
	        "\"12\","
	        "\"13\",\"14\",\"15\",\"16\",\"17\"]}",
	        "steps");
}

/* page_refused: body is not a page 1 of perPage 10; the reason holds why. */
static void page_refused(const char *body, const char *why)
{
	struct reconcile_page p;
	struct gerr err = {0};
	assert_int_not_equal(reconcile_page_read(body, strlen(body), 1, 10, &p, &err), 0);
	assert_null(p.root);
	assert_int_equal(err.status, 502);
	if (!strstr(err.msg, why))
		fail_msg("\"%s\" does not say %s", err.msg, why);
}

static void test_pages_are_checked(void **state)
{
	(void)state;
	const char *ok = "{\"results\":[{\"id\":1},{\"id\":2}],\"totalResults\":12,\"page\":1,"
	                 "\"totalPages\":2}";
	struct reconcile_page p;
	struct gerr err = {0};
	assert_int_equal(reconcile_page_read(ok, strlen(ok), 1, 10, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.total_pages, 2);
	assert_int_equal(p.total_results, 12);
	reconcile_page_free(&p);

	page_refused("<!DOCTYPE html><html><body>Maintenance</body></html>", "HTML");
	page_refused("  \n<html>", "HTML");
	page_refused("not json", "not JSON");
	page_refused("[1,2]", "not a JSON object");
	page_refused("{\"totalResults\":0,\"page\":1,\"totalPages\":0}", "results");
	page_refused("{\"results\":{},\"totalResults\":0,\"page\":1,\"totalPages\":0}", "results");
	page_refused("{\"results\":[],\"totalResults\":0,\"page\":2,\"totalPages\":3}", "page");
	page_refused("{\"results\":[],\"totalResults\":0,\"page\":\"1\",\"totalPages\":3}", "page");
	page_refused("{\"results\":[],\"totalResults\":0,\"page\":1,\"totalPages\":-1}",
	             "totalPages");
	page_refused("{\"results\":[],\"totalResults\":0,\"page\":1,\"totalPages\":10001}",
	             "totalPages");
	page_refused("{\"results\":[],\"totalResults\":0,\"page\":1,"
	             "\"totalPages\":99999999999999999999}",
	             "not JSON");
	page_refused("{\"results\":[],\"totalResults\":1.5,\"page\":1,\"totalPages\":1}",
	             "totalResults");
	page_refused("{\"results\":[],\"totalResults\":-3,\"page\":1,\"totalPages\":1}",
	             "totalResults");
	page_refused("{\"results\":[1,2,3,4,5,6,7,8,9,10,11],\"totalResults\":11,\"page\":1,"
	             "\"totalPages\":1}",
	             "more than the 10");
}

static void test_ids_and_steps(void **state)
{
	(void)state;
	char id[RECONCILE_ID_MAX + 1];
	struct gerr err = {0};
	json_t *a = parse("{\"id\":654321,\"currentStep\":{\"id\":3,\"name\":\"Exame\"}}");
	assert_int_equal(reconcile_id_text(a, "application", id, &err), 0);
	assert_string_equal(id, "654321");
	assert_string_equal(reconcile_current_step(a), "Exame");
	json_decref(a);
	a = parse("{\"id\":\"ab-12.x\",\"currentStep\":\"Exame\"}");
	assert_int_equal(reconcile_id_text(a, "job", id, &err), 0);
	assert_string_equal(id, "ab-12.x");
	assert_null(reconcile_current_step(a));
	json_decref(a);
	const char *bad[] = {"{}",
	                     "{\"id\":null}",
	                     "{\"id\":\"\"}",
	                     "{\"id\":\"a:b\"}",
	                     "{\"id\":\"a/b\"}",
	                     "{\"id\":1.5}",
	                     "{\"id\":[1]}",
	                     "{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = parse(bad[i]);
		assert_int_not_equal(reconcile_id_text(a, "job", id, &err), 0);
		assert_non_null(strstr(err.msg, "job"));
		json_decref(a);
	}
	assert_null(reconcile_current_step(NULL));
}

static void test_sender_id_and_envelope(void **state)
{
	(void)state;
	char sid[RECONCILE_SENDER_ID_MAX + 1];
	struct gerr err = {0};
	assert_int_equal(reconcile_sender_id("r1", "10", "20", "Exame", false, 0, sid, &err), 0);
	assert_string_equal(sid, "r1:10:20:Exame:new");
	assert_int_equal(reconcile_sender_id("r1", "10", "20", "Exame", true, 1000000, sid, &err),
	                 0);
	assert_string_equal(sid, "r1:10:20:Exame:1970-01-01T00:00:01.000000Z");
	char longstep[RECONCILE_SENDER_ID_MAX];
	memset(longstep, 'x', sizeof(longstep) - 1);
	longstep[sizeof(longstep) - 1] = '\0';
	assert_int_not_equal(reconcile_sender_id("r1", "10", "20", longstep, false, 0, sid, &err),
	                     0);

	json_t *job = parse("{\"id\":10,\"name\":\"Dev\"}");
	json_t *app = parse("{\"id\":20,\"score\":71.570454783086,\"candidate\":{\"id\":5},"
	                    "\"currentStep\":{\"name\":\"Exame\"}}");
	struct buf b;
	buf_init(&b);
	assert_int_equal(reconcile_envelope("r1:10:20:Exame:new", "2026-01-01T00:00:00.000000Z",
	                                    job, app, &b, &err),
	                 0);
	json_t *env = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(env);
	assert_string_equal(json_string_value(json_object_get(env, "id")), "r1:10:20:Exame:new");
	assert_string_equal(json_string_value(json_object_get(env, "event")), "application.moved");
	assert_string_equal(json_string_value(json_object_get(env, "date")),
	                    "2026-01-01T00:00:00.000000Z");
	json_t *data = json_object_get(env, "data");
	assert_true(json_equal(json_object_get(data, "job"), job));
	assert_true(json_equal(json_object_get(data, "application"), app));
	assert_true(
	    json_equal(json_object_get(data, "candidate"), json_object_get(app, "candidate")));
	json_decref(env);
	buf_free(&b);
	json_decref(job);
	json_decref(app);
}

static void test_urls(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	reconcile_jobs_url(&b, "https://api.gupy.io", "published", 2, 100);
	buf_putc(&b, '\0');
	assert_string_equal(b.data,
	                    "https://api.gupy.io/api/v1/jobs?status=published&page=2&perPage=100");
	reconcile_applications_url(&b, "http://127.0.0.1:81", "123", "Exame Médico & co", 1, 5);
	buf_putc(&b, '\0');
	assert_string_equal(b.data,
	                    "http://127.0.0.1:81/api/v1/jobs/123/applications"
	                    "?currentStepName=Exame%20M%C3%A9dico%20%26%20co&page=1&perPage=5");
	buf_free(&b);
}

static void test_kept_same(void **state)
{
	(void)state;
	const char *cur = "{\"jobId\":10,\"step\":\"Exame\",\"score\":71.570454783086}";
	const char *same = "{\"step\":\"Exame\",\"jobId\":10}";
	const char *moved = "{\"step\":\"Entrevista\",\"jobId\":10}";
	const char *more = "{\"step\":\"Exame\",\"jobId\":10,\"tag\":\"x\"}";
	const char *real = "{\"score\":71.570454783086001}";
	assert_true(reconcile_kept_same(cur, strlen(cur), same, strlen(same)));
	assert_true(reconcile_kept_same(cur, strlen(cur), real, strlen(real)));
	assert_false(reconcile_kept_same(cur, strlen(cur), moved, strlen(moved)));
	assert_false(reconcile_kept_same(cur, strlen(cur), more, strlen(more)));
	assert_false(reconcile_kept_same("{}", 2, same, strlen(same)));
	assert_true(reconcile_kept_same("{}", 2, "{}", 2));
	assert_false(reconcile_kept_same("[", 1, "{}", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_defaults_and_rules),
	    cmocka_unit_test(test_pages_are_checked),
	    cmocka_unit_test(test_ids_and_steps),
	    cmocka_unit_test(test_sender_id_and_envelope),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_kept_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
