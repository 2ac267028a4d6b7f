/*
 * test_routes: core/route.c — a route body validated and compiled, its
 * filter run over a receipt's document {body, headers, entity} with every
 * operator, and its actions rendered into the exact requests they send: a
 * forward keeps the received body byte for byte, an http action fills its
 * templates (a number stays a number in a JSON body, a URL value is
 * percent-encoded, a missing path is a readable template_missing). Bad
 * bodies are refused with 400 naming the field: a path outside body.,
 * headers. and entity., an unknown operator, a template that cannot parse,
 * a bad authorization (judged by core/webhook.c), bounds. (tests/unit/
 * test_route.c is the HTTP edge's path router, api/route.h.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/route.h"
#include "core/webhook.h"

/* A Gupy-shaped application.moved body; the spaces and the key order are
 * part of what a forward must keep. */
static const char gupy_body[] =
    "{\"companyName\": \"ACME\", \"id\": \"8a5f3c2e-1d2b-4c3a-9e8f-7a6b5c4d3e2f\","
    " \"event\": \"application.moved\", \"date\": \"2026-11-30T12:00:00.000Z\","
    " \"data\": {\"job\": {\"id\": 19139, \"name\": \"Analista / Jr & Sr\"},"
    " \"application\": {\"id\": 800123456789, \"score\": 87.5,"
    " \"currentStep\": {\"name\": \"Exame\"}, \"tags\": [\"a\", \"b\"]}}}";
static const char headers_doc[] = "{\"content-type\":\"application/json; charset=utf-8\","
                                  "\"x-request-id\":\"req-7\"}";
static const char entity_doc[] = "{\"jobId\":19139,\"step\":\"Exame\"}";

static struct route_input input(void)
{
	return (struct route_input){.body = gupy_body,
	                            .body_len = strlen(gupy_body),
	                            .headers = headers_doc,
	                            .entity = entity_doc,
	                            .receipt_id = "r-1",
	                            .receipt_date = "2026-11-30T12:00:00.000Z",
	                            .event = "application.moved",
	                            .source_id = "src-1"};
}

/* build: route_config_build of the JSON text; the rc, with *cfg on success. */
static int build(const char *text, json_t **cfg, struct gerr *err)
{
	json_error_t je;
	json_t *body = json_loads(text, 0, &je);
	if (!body)
		fail_msg("bad test JSON: %s: %s", je.text, text);
	memset(err, 0, sizeof(*err));
	int rc = route_config_build(body, NULL, true, true, 1000, cfg, err);
	json_decref(body);
	return rc;
}

/* compiled: a route from the JSON text, which must be valid. */
static struct route *compiled(const char *text)
{
	json_t *cfg = NULL;
	struct gerr err;
	if (build(text, &cfg, &err))
		fail_msg("refused: %s (%s)", err.msg, text);
	struct route *r = NULL;
	if (route_compile(cfg, 1, "route-1", 1, 0, NULL, &r, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	return r;
}

/* refused: the text is refused with 400 and a message holding want. */
static void refused(const char *text, const char *want)
{
	json_t *cfg = NULL;
	struct gerr err;
	int rc = build(text, &cfg, &err);
	if (rc == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.status, 400);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(cfg);
}

#define FWD "\"actions\":[{\"kind\":\"forward\",\"url\":\"https://example.com/in\"}]"

/* matches: whether a route with this filter takes the Gupy receipt. */
static bool matches(const char *filter)
{
	char text[2048];
	snprintf(text, sizeof(text),
	         "{\"name\":\"r\",\"events\":[\"application.moved\"],\"filter\":%s," FWD "}",
	         filter);
	struct route *r = compiled(text);
	struct route_input in = input();
	bool ok = route_matches(r, "application.moved", &in);
	route_unref(r);
	return ok;
}

static void test_every_operator(void **state)
{
	(void)state;
	static const struct {
		const char *filter;
		bool want;
	} cases[] = {
	    {"{\"body.data.application.currentStep.name\":\"Exame\"}", true},
	    {"{\"body.data.application.currentStep.name\":\"Triagem\"}", false},
	    {"{\"body.data.job.id\":{\"$eq\":19139}}", true},
	    {"{\"body.data.job.id\":{\"$eq\":19140}}", false},
	    {"{\"body.data.job.id\":{\"$ne\":19140}}", true},
	    {"{\"body.data.job.id\":{\"$neq\":19139}}", false},
	    {"{\"body.data.application.score\":{\"$gt\":87}}", true},
	    {"{\"body.data.application.score\":{\"$gt\":87.5}}", false},
	    {"{\"body.data.application.score\":{\"$gte\":87.5}}", true},
	    {"{\"body.data.application.score\":{\"$gte\":88}}", false},
	    {"{\"body.data.application.score\":{\"$lt\":88}}", true},
	    {"{\"body.data.application.score\":{\"$lt\":87.5}}", false},
	    {"{\"body.data.application.score\":{\"$lte\":87.5}}", true},
	    {"{\"body.data.application.score\":{\"$lte\":87}}", false},
	    {"{\"entity.step\":{\"$in\":[\"Exame\",\"Entrevista\"]}}", true},
	    {"{\"entity.step\":{\"$in\":[\"Entrevista\"]}}", false},
	    {"{\"entity.jobId\":{\"$nin\":[1,2]}}", true},
	    {"{\"entity.jobId\":{\"$nin\":[19139]}}", false},
	    {"{\"headers.x-request-id\":{\"$exists\":true}}", true},
	    {"{\"headers.x-missing\":{\"$exist\":true}}", false},
	    {"{\"headers.x-missing\":{\"$exists\":false}}", true},
	    {"{\"body.data.job.name\":{\"$regex\":\"^Analista\"}}", true},
	    {"{\"body.data.job.name\":{\"$regex\":\"^Gerente\"}}", false},
	    {"{\"$and\":[{\"entity.step\":\"Exame\"},{\"body.event\":\"application.moved\"}]}",
	     true},
	    {"{\"$and\":[{\"entity.step\":\"Exame\"},{\"body.event\":\"job.created\"}]}", false},
	    {"{\"$or\":[{\"entity.step\":\"Triagem\"},{\"body.data.job.id\":19139}]}", true},
	    {"{\"$or\":[{\"entity.step\":\"Triagem\"},{\"body.data.job.id\":1}]}", false},
	    {"{\"$not\":{\"entity.step\":\"Triagem\"}}", true},
	    {"{\"$not\":{\"entity.step\":\"Exame\"}}", false},
	    {"{\"body.data.job.id\":{\"$not\":{\"$gt\":20000}}}", true},
	    /* header names ignore case: the document holds them lower-cased */
	    {"{\"headers.X-Request-Id\":\"req-7\"}", true},
	    {"{\"body.data.application.tags.1\":\"b\"}", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (matches(cases[i].filter) != cases[i].want)
			fail_msg("%s: want %s", cases[i].filter,
			         cases[i].want ? "match" : "no match");
}

static void test_events_and_source(void **state)
{
	(void)state;
	struct route *r = compiled(
	    "{\"name\":\"r\",\"events\":[\"application.moved\",\"candidate.hired\"]," FWD "}");
	struct route_input in = input();
	assert_true(route_matches(r, "application.moved", &in));
	assert_true(route_matches(r, "candidate.hired", &in));
	assert_false(route_matches(r, "application.created", &in));
	assert_false(route_matches(r, NULL, &in));
	/* a route of one source takes only that source's receipts */
	r->source_seq = 5;
	in.source_seq = 6;
	assert_false(route_matches(r, "application.moved", &in));
	in.source_seq = 5;
	assert_true(route_matches(r, "application.moved", &in));
	route_unref(r);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"filter\":{\"data.job.id\":1}," FWD "}",
	        "filter: data.job.id: a path starts with body., headers. or entity.");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"filter\":{\"$or\":[{\"receipt.id\":1}]}," FWD
	        "}",
	        "receipt.id");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"filter\":{\"body.x\":{\"$near\":1}}," FWD "}",
	        "body.x: unknown operator");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"filter\":{\"body.x\":{\"$regex\":\"(\"}}," FWD
	        "}",
	        "filter");
	/* templates that cannot parse */
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\",\"method\":"
	        "\"POST\",\"url\":\"https://example.com/{{body.id\"}]}",
	        "actions[0]: url:");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\",\"method\":"
	        "\"POST\",\"url\":\"https://example.com/x\",\"body\":{\"a\":\"{{nobody.x}}\"}}]}",
	        "actions[0]: body:");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\",\"method\":"
	        "\"POST\",\"url\":\"https://{{body.host}}/x\"}]}",
	        "actions[0]: url:");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\",\"method\":"
	        "\"POST\",\"url\":\"https://example.com/"
	        "x\",\"headers\":{\"X-A\":\"{{receipt.nope}}\"}}]}",
	        "actions[0]: headers.X-A:");
	/* the webhook validators judge the delivery settings */
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"https://example.com/x\",\"authorization\":{\"kind\":\"magic\",\"data\":{}}}]}",
	        "actions[0]: authorization.kind");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"https://example.com/x\",\"authorization\":{\"kind\":\"standard\",\"data\":"
	        "{\"secret\":\"nope\"}}}]}",
	        "actions[0]: authorization.data.secret");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"ftp://example.com/x\"}]}",
	        "actions[0]:");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"https://example.com/x\",\"headers\":{\"Host\":\"x\"}}]}",
	        "actions[0]: headers");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\",\"method\":"
	        "\"BREW\",\"url\":\"https://example.com/x\"}]}",
	        "actions[0]: method");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"mail\"}]}",
	        "actions[0]: kind");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"https://example.com/x\",\"extra\":1}]}",
	        "actions[0]: extra: unknown field");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\",\"url\":"
	        "\"https://example.com/x\",\"targetId\":\"mine\"}]}",
	        "targetId");
	/* bounds and required fields */
	refused("{\"events\":[\"e\"]," FWD "}", "name: required");
	refused("{\"name\":\"r\"," FWD "}", "events: required");
	refused("{\"name\":\"r\",\"events\":[]," FWD "}", "events");
	refused("{\"name\":\"r\",\"events\":[\"bad name\"]," FWD "}", "events");
	refused("{\"name\":\"r\",\"events\":[\"e\"]}", "actions: required");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[]}", "actions");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"whenStale\":\"later\"," FWD "}", "whenStale");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"sourceId\":\"../x\"," FWD "}", "sourceId");
	refused("{\"name\":\"r\",\"events\":[\"e\"],\"color\":\"red\"," FWD "}",
	        "color: unknown field");
	char big[8192] = "{\"name\":\"r\",\"events\":[";
	for (int i = 0; i < ROUTE_MAX_EVENTS + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s\"e%d\"", i ? "," : "",
		         i);
	strcat(big, "]," FWD "}");
	refused(big, "events");
	snprintf(big, sizeof(big), "{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[");
	for (int i = 0; i < ROUTE_MAX_ACTIONS + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		         "%s{\"kind\":\"forward\",\"url\":\"https://example.com/%d\"}",
		         i ? "," : "", i);
	strcat(big, "]}");
	refused(big, "actions");
}

static void test_forward_byte_for_byte(void **state)
{
	(void)state;
	struct route *r = compiled("{\"name\":\"r\",\"events\":[\"application.moved\"],\"actions\":"
	                           "[{\"kind\":\"forward\",\"url\":\"https://exam.example.com/in\","
	                           "\"headers\":{\"X-Tenant\":\"acme\"}}]}");
	struct route_input in = input();
	struct route_request rq;
	struct gerr err = {0};
	assert_int_equal(route_render(r, 0, &in, NULL, &rq, &err), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.url, "https://exam.example.com/in");
	assert_int_equal(rq.body_len, strlen(gupy_body));
	assert_memory_equal(rq.body, gupy_body, rq.body_len);
	json_t *h = json_loads(rq.headers, 0, NULL);
	assert_non_null(h);
	assert_string_equal(json_string_value(json_object_get(h, "Content-Type")),
	                    "application/json; charset=utf-8");
	assert_string_equal(json_string_value(json_object_get(h, "X-Tenant")), "acme");
	json_decref(h);
	route_request_free(&rq);
	route_unref(r);
}

static const char exam_route[] =
    "{\"name\":\"exam\",\"events\":[\"application.moved\"],"
    "\"filter\":{\"body.data.application.currentStep.name\":\"Exame\"},"
    "\"actions\":[{\"kind\":\"http\",\"method\":\"POST\","
    "\"url\":\"https://exam.example.com/jobs/{{body.data.job.name}}/apps?step={{entity.step}}\","
    "\"headers\":{\"X-Request-Id\":\"{{headers.x-request-id}}\",\"X-Receipt\":\"{{receipt.id}}\"},"
    "\"body\":{\"jobId\":\"{{body.data.job.id}}\","
    "\"applicationId\":\"{{body.data.application.id}}\",\"score\":\"{{body.data.application.score}}"
    "\","
    "\"note\":\"job {{entity.jobId}} at "
    "{{receipt.date}}\",\"tags\":\"{{body.data.application.tags}}\"}}]}";

static void test_http_render(void **state)
{
	(void)state;
	struct route *r = compiled(exam_route);
	struct route_input in = input();
	assert_true(route_matches(r, "application.moved", &in));
	struct route_request rq;
	struct gerr err = {0};
	if (route_render(r, 0, &in, NULL, &rq, &err))
		fail_msg("render: %s", err.msg);
	assert_string_equal(rq.method, "POST");
	/* a value in a URL is percent-encoded: "/", " " and "&" cannot change it */
	assert_string_equal(
	    rq.url, "https://exam.example.com/jobs/Analista%20%2F%20Jr%20%26%20Sr/apps?step=Exame");
	json_t *h = json_loads(rq.headers, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(h, "X-Request-Id")), "req-7");
	assert_string_equal(json_string_value(json_object_get(h, "X-Receipt")), "r-1");
	assert_string_equal(json_string_value(json_object_get(h, "Content-Type")),
	                    "application/json");
	json_decref(h);
	/* numbers stay numbers (their text as received), strings mix as text */
	char want[] = "{\"jobId\":19139,\"applicationId\":800123456789,\"score\":87.5,"
	              "\"note\":\"job 19139 at 2026-11-30T12:00:00.000Z\",\"tags\":[\"a\", \"b\"]}";
	assert_int_equal(rq.body_len, strlen(want));
	assert_memory_equal(rq.body, want, rq.body_len);
	json_t *b = json_loadb(rq.body, rq.body_len, 0, NULL);
	assert_true(json_is_integer(json_object_get(b, "jobId")));
	assert_true(json_is_integer(json_object_get(b, "applicationId")));
	json_decref(b);
	route_request_free(&rq);
	route_unref(r);
}

static void test_missing_path(void **state)
{
	(void)state;
	struct route *r = compiled(
	    "{\"name\":\"r\",\"events\":[\"application.moved\"],\"actions\":[{\"kind\":\"http\","
	    "\"method\":\"PUT\",\"url\":\"https://x.example.com/{{body.data.application.id}}\","
	    "\"body\":\"{{body.data.job.code}}\"}]}");
	struct route_input in = input();
	struct route_request rq;
	struct gerr err = {0};
	assert_int_equal(route_render(r, 0, &in, NULL, &rq, &err), GERR_INVALID);
	assert_int_equal(err.status, 422);
	assert_string_equal(err.code, "template_missing");
	assert_string_equal(err.msg, "template: body.data.job.code is missing");
	assert_null(rq.url);
	route_request_free(&rq);
	/* an entity without the field is missing too */
	in.entity = NULL;
	json_t *cfg;
	assert_int_equal(
	    build("{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"http\","
	          "\"method\":\"GET\",\"url\":\"https://x.example.com/{{entity.jobId}}\"}]}",
	          &cfg, &err),
	    0);
	struct route *r2;
	assert_int_equal(route_compile(cfg, 2, "r2", 1, 0, NULL, &r2, &err), 0);
	assert_int_equal(route_render(r2, 0, &in, NULL, &rq, &err), GERR_INVALID);
	assert_string_equal(err.msg, "template: entity.jobId is missing");
	route_request_free(&rq);
	json_decref(cfg);
	route_unref(r2);
	route_unref(r);
}

static void test_targets_and_answer(void **state)
{
	(void)state;
	json_t *cfg;
	struct gerr err = {0};
	int rc = build("{\"name\":\"r\",\"events\":[\"application.moved\"],\"whenStale\":\"fire\","
	               "\"actions\":[{\"kind\":\"http\",\"method\":\"POST\","
	               "\"url\":\"https://exam.example.com:8443/a/{{body.id}}\",\"timeoutMs\":5000,"
	               "\"failPermanentlyOn\":[400],\"retryPolicy\":{\"schedule\":[1,5,30],"
	               "\"deadlineSeconds\":600},"
	               "\"authorization\":{\"kind\":\"apiKey\",\"data\":{\"key\":\"k-123\"}}}]}",
	               &cfg, &err);
	if (rc)
		fail_msg("refused: %s", err.msg);
	json_t *tc = NULL;
	if (route_target_config(cfg, 0, "route-1", NULL, NULL, true, true, 1000, &tc, &err))
		fail_msg("target: %s", err.msg);
	/* the target sends to the URL template's origin, FIFO, marked as a target */
	assert_string_equal(json_string_value(json_object_get(tc, "postbackUrl")),
	                    "https://exam.example.com:8443");
	assert_string_equal(json_string_value(json_object_get(tc, "ordering")), "fifo");
	assert_string_equal(json_string_value(json_object_get(tc, "routeId")), "route-1");
	struct webhook *w;
	assert_int_equal(webhook_compile(tc, 9, "t-1", 1, 0, 1000, &w, &err), 0);
	assert_string_equal(w->route_id, "route-1");
	assert_int_equal(w->timeout_ms, 5000);
	assert_true(webhook_is_permanent(w, 400));
	assert_non_null(w->auth_header);
	/* events never reach a target */
	assert_false(webhook_wants(w, "application.moved", NULL));
	webhook_unref(w);
	json_decref(tc);
	/* the answer shows the authorization's kind only */
	json_t *ans = route_to_json(cfg, "route-1", 1000, 2000);
	char *text = json_dumps(ans, 0);
	assert_null(strstr(text, "k-123"));
	assert_non_null(strstr(text, "\"apiKey\""));
	assert_string_equal(json_string_value(json_object_get(ans, "whenStale")), "fire");
	assert_true(json_is_null(json_object_get(ans, "filter")));
	free(text);
	json_decref(ans);
	struct route *r;
	int64_t seqs[1] = {9};
	assert_int_equal(route_compile(cfg, 1, "route-1", 1, 0, seqs, &r, &err), 0);
	assert_true(r->fire_stale);
	assert_int_equal(r->actions[0].target_seq, 9);
	route_unref(r);
	json_decref(cfg);
}

static void test_patch(void **state)
{
	(void)state;
	json_t *cfg, *ncfg;
	struct gerr err = {0};
	assert_int_equal(build("{\"name\":\"r\",\"events\":[\"e\"],\"filter\":{\"body.a\":1}," FWD
	                       "}",
	                       &cfg, &err),
	                 0);
	json_object_set_new(json_array_get(json_object_get(cfg, "actions"), 0), "targetId",
	                    json_string("t-1"));
	json_t *body = json_loads("{\"name\":\"r2\",\"filter\":null}", 0, NULL);
	assert_int_equal(route_config_build(body, cfg, true, true, 1000, &ncfg, &err), 0);
	assert_string_equal(json_string_value(json_object_get(ncfg, "name")), "r2");
	assert_null(json_object_get(ncfg, "filter"));
	json_decref(body);
	json_decref(ncfg);
	/* new actions keep the target of the same index */
	body = json_loads("{\"actions\":[{\"kind\":\"forward\",\"url\":\"https://b.example.com/\"},"
	                  "{\"kind\":\"forward\",\"url\":\"https://c.example.com/\"}]}",
	                  0, NULL);
	assert_int_equal(route_config_build(body, cfg, true, true, 1000, &ncfg, &err), 0);
	json_t *acts = json_object_get(ncfg, "actions");
	assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 0), "targetId")),
	                    "t-1");
	assert_null(json_object_get(json_array_get(acts, 1), "targetId"));
	json_decref(body);
	json_decref(ncfg);
	/* required fields cannot be removed */
	body = json_loads("{\"events\":null}", 0, NULL);
	assert_int_equal(route_config_build(body, cfg, true, true, 1000, &ncfg, &err),
	                 GERR_INVALID);
	assert_non_null(strstr(err.msg, "events: required"));
	json_decref(body);
	json_decref(cfg);
}

/* A PATCH that changes an action's Standard Webhooks secret keeps the old
 * one signing for a while, as a webhook's PATCH does. */
static void test_target_secret_rotation(void **state)
{
	(void)state;
	static const char fmt[] =
	    "{\"name\":\"r\",\"events\":[\"e\"],\"actions\":[{\"kind\":\"forward\","
	    "\"url\":\"https://example.com/x\",\"authorization\":{\"kind\":\"standard\","
	    "\"data\":{\"secret\":\"%s\"}}}]}";
	char text[512];
	json_t *cfg, *old = NULL, *now = NULL;
	struct gerr err = {0};
	snprintf(text, sizeof(text), fmt, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_int_equal(build(text, &cfg, &err), 0);
	assert_int_equal(
	    route_target_config(cfg, 0, "r-1", NULL, NULL, true, true, 1000, &old, &err), 0);
	json_decref(cfg);
	snprintf(text, sizeof(text), fmt, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
	assert_int_equal(build(text, &cfg, &err), 0);
	assert_int_equal(
	    route_target_config(cfg, 0, "r-1", old, NULL, true, true, 2000, &now, &err), 0);
	json_t *prev = json_object_get(now, "previousSecrets");
	assert_int_equal(json_array_size(prev), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(prev, 0), "secret")),
	                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	json_decref(now);
	json_decref(cfg);
	/* without an authorization the old one is not kept */
	assert_int_equal(build("{\"name\":\"r\",\"events\":[\"e\"]," FWD "}", &cfg, &err), 0);
	assert_int_equal(
	    route_target_config(cfg, 0, "r-1", old, NULL, true, true, 2000, &now, &err), 0);
	assert_null(json_object_get(now, "authorization"));
	assert_null(json_object_get(now, "previousSecrets"));
	json_decref(now);
	json_decref(cfg);
	json_decref(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_operator),
	    cmocka_unit_test(test_events_and_source),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_forward_byte_for_byte),
	    cmocka_unit_test(test_http_render),
	    cmocka_unit_test(test_missing_path),
	    cmocka_unit_test(test_targets_and_answer),
	    cmocka_unit_test(test_patch),
	    cmocka_unit_test(test_target_secret_rotation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
