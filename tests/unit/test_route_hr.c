/*
 * test_route_hr: a route's HR actions (core/route_hr.c through core/route.h)
 * and the answer rules of their targets (core/webhook.c).
 *
 * Each Gupy action renders exactly the request of Gupy's curl examples
 * (method, path under the connection's base, accept/content-type, body);
 * jobId and applicationId default to the entity's jobId and the entity key,
 * go into the path percent-encoded, and a missing, empty or "." id fails
 * with a readable reason. hellowork.status maps each of the 16 values,
 * sends "unknown" for an unmapped status, types jobId as a string and the
 * dates as ISO-8601 UTC, takes statusApiUrl only on the connection's
 * origin, and adds communicationDelay only to
 * rejected_and_contacted_by_recruiter. Creation refuses a map value outside
 * the 16, naming the key. A target's answer rules: Gupy fails 4xx but 408
 * and 429 for good, HelloWork 404 with "not_found: <message>".
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
#include "core/route_hr.h"
#include "core/webhook.h"

#define BASE "https://api.gupy.io"
#define HW   "https://ats-partner.hellowork.com"

/* A Gupy application.moved as received; job and application ids numbers. */
static const char gupy_body[] =
    "{\"id\":\"e-1\",\"event\":\"application.moved\",\"date\":\"2026-11-30T12:00:00.000Z\","
    "\"data\":{\"job\":{\"id\":123456,\"name\":\"Dev\"},"
    "\"application\":{\"id\":654321,\"score\":42,\"created\":\"2026-11-01T09:30:00-03:00\","
    "\"currentStep\":{\"name\":\"Exame\"},\"statusApiUrl\":\"" HW
    "/v1/applications/hw-9/status\",\"source\":{\"sourceTypeId\":\"DIRECT_SOURCING\"},"
    "\"report\":\"nota \\\"7\\\"/10\",\"delay\":48,\"ref\":\"a/b c\"}}}";
static const char entity_doc[] = "{\"jobId\":123456,\"step\":\"Exame\"}";

static struct route_input input(void)
{
	return (struct route_input){.body = gupy_body,
	                            .body_len = strlen(gupy_body),
	                            .entity = entity_doc,
	                            .entity_key = "654321",
	                            .receipt_id = "r-1",
	                            .receipt_date = "2026-11-30T09:00:00-03:00",
	                            .event = "application.moved",
	                            .source_id = "src-1"};
}

static int build(const char *actions, json_t **cfg, struct gerr *err)
{
	char text[8192];
	snprintf(text, sizeof(text),
	         "{\"name\":\"hr\",\"events\":[\"application.moved\"],\"actions\":[%s]}", actions);
	json_error_t je;
	json_t *body = json_loads(text, 0, &je);
	if (!body)
		fail_msg("bad test JSON: %s: %s", je.text, text);
	memset(err, 0, sizeof(*err));
	int rc = route_config_build(body, NULL, true, true, 1000, cfg, err);
	json_decref(body);
	return rc;
}

static struct route *compiled(const char *action)
{
	json_t *cfg = NULL;
	struct gerr err;
	if (build(action, &cfg, &err))
		fail_msg("refused: %s (%s)", err.msg, action);
	struct route *r = NULL;
	if (route_compile(cfg, 1, "route-1", 1, 0, NULL, &r, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	return r;
}

static void refused(const char *action, const char *want)
{
	json_t *cfg = NULL;
	struct gerr err;
	if (build(action, &cfg, &err) == 0)
		fail_msg("accepted: %s", action);
	assert_int_equal(err.status, 400);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(cfg);
}

/* render_ok: action rendered for in with base; checks method, URL, body. */
static void render_ok(const char *action, const struct route_input *in, const char *base,
                      const char *method, const char *url, const char *body)
{
	struct route *r = compiled(action);
	struct route_request rq;
	struct gerr err = {0};
	if (route_render(r, 0, in, base, &rq, &err))
		fail_msg("render failed: %s (%s)", err.msg, action);
	assert_string_equal(rq.method, method);
	assert_string_equal(rq.url, url);
	assert_string_equal(
	    rq.headers, "{\"accept\":\"application/json\",\"content-type\":\"application/json\"}");
	assert_non_null(rq.body);
	assert_int_equal(rq.body_len, strlen(body));
	if (strcmp(rq.body, body) != 0)
		fail_msg("body\n  %s\nwant\n  %s", rq.body, body);
	route_request_free(&rq);
	route_unref(r);
}

/* render_fails: the render fails with 422, code and a message holding want. */
static void render_fails(const char *action, const struct route_input *in, const char *base,
                         const char *code, const char *want)
{
	struct route *r = compiled(action);
	struct route_request rq;
	struct gerr err = {0};
	assert_int_equal(route_render(r, 0, in, base, &rq, &err), GERR_INVALID);
	assert_int_equal(err.status, 422);
	assert_string_equal(err.code, code);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(rq.url);
	route_request_free(&rq);
	route_unref(r);
}

#define GUPY(kind, rest) "{\"kind\":\"" kind "\",\"connectionId\":\"c-1\"," rest "}"

static void test_gupy_requests(void **state)
{
	(void)state;
	struct route_input in = input();
	/* the seed's three requests, ids from the entity and its key */
	render_ok(GUPY("gupy.tag", "\"name\":\"Apto\""), &in, BASE, "PUT",
	          BASE "/api/v1/jobs/123456/applications/654321/tags", "{\"name\":\"Apto\"}");
	render_ok(GUPY("gupy.comment", "\"text\":\"Relatório: {{body.data.application.report}}\""),
	          &in, BASE "/", "POST", BASE "/api/v1/jobs/123456/applications/654321/comments",
	          "{\"text\":\"Relatório: nota \\\"7\\\"/10\"}");
	render_ok(GUPY("gupy.reprove", "\"disapprovalReason\":\"test_result_below_cutoff\""), &in,
	          BASE, "PATCH", BASE "/api/v1/jobs/123456/applications/654321",
	          "{\"status\":\"reproved\",\"disapprovalReason\":\"test_result_below_cutoff\"}");
	/* ids as templates, each one path segment, percent-encoded */
	render_ok(GUPY("gupy.tag", "\"name\":\"{{body.data.application.score}}\","
	                           "\"jobId\":\"{{body.data.application.ref}}\","
	                           "\"applicationId\":\"x-{{body.data.job.id}}\""),
	          &in, "http://127.0.0.1:8081", "PUT",
	          "http://127.0.0.1:8081/api/v1/jobs/a%2Fb%20c/applications/x-123456/tags",
	          "{\"name\":\"42\"}");
	/* a base with a path keeps it */
	render_ok(GUPY("gupy.tag", "\"name\":\"Inapto\""), &in, "https://gw.example/gupy/", "PUT",
	          "https://gw.example/gupy/api/v1/jobs/123456/applications/654321/tags",
	          "{\"name\":\"Inapto\"}");
}

static void test_gupy_missing_ids(void **state)
{
	(void)state;
	struct route_input in = input();
	const char *tag = GUPY("gupy.tag", "\"name\":\"Apto\"");
	in.entity_key = NULL;
	render_fails(tag, &in, BASE, "template_missing", "applicationId: missing");
	in = input();
	in.entity = "{\"step\":\"Exame\"}";
	render_fails(tag, &in, BASE, "template_missing",
	             "jobId: missing: the entity keeps no jobId");
	in.entity = "{\"jobId\":null}";
	render_fails(tag, &in, BASE, "template_missing", "jobId: missing");
	in.entity = "{\"jobId\":\"\"}";
	render_fails(tag, &in, BASE, "template_missing", "jobId: missing (empty)");
	in.entity = "{\"jobId\":\"..\"}";
	render_fails(tag, &in, BASE, "template_value", "cannot be a path segment");
	in = input();
	in.entity_key = "~digestofalongkey";
	render_fails(tag, &in, BASE, "template_value", "applicationId: the entity key is too long");
	in = input();
	render_fails(GUPY("gupy.tag", "\"name\":\"Apto\",\"applicationId\":\"{{body.data.nope}}\""),
	             &in, BASE, "template_missing", "applicationId: template: body.data.nope");
	render_fails(GUPY("gupy.comment", "\"text\":\"{{body.data.application.empty}}x\""), &in,
	             BASE, "template_missing",
	             "text: template: body.data.application.empty is missing");
	/* no base: the target is unknown */
	render_fails(tag, &in, NULL, "template_value", "no base URL");
}

#define HWA(rest)                                                                                  \
	"{\"kind\":\"hellowork.status\",\"connectionId\":\"c-2\",\"status\":\"{{entity.step}}\","  \
	"\"created\":\"{{body.data.application.created}}\"," rest "}"

static void test_hellowork_every_value(void **state)
{
	(void)state;
	for (int i = 0; i < ROUTE_HR_STATUSES; i++) {
		char action[1024], entity[128], body[512];
		snprintf(action, sizeof(action), HWA("\"map\":{\"S%d\":\"%s\"}"), i,
		         route_hr_statuses[i]);
		snprintf(entity, sizeof(entity), "{\"jobId\":123456,\"step\":\"S%d\"}", i);
		snprintf(body, sizeof(body),
		         "{\"status\":\"%s\",\"eventDate\":\"2026-11-30T12:00:00.000Z\","
		         "\"created\":\"2026-11-01T12:30:00.000Z\",\"jobId\":\"123456\"}",
		         route_hr_statuses[i]);
		struct route_input in = input();
		in.entity = entity;
		render_ok(action, &in, HW, "POST", HW "/v1/applications/654321/status", body);
	}
	/* a status the map does not name: unknown */
	struct route_input in = input();
	render_ok(HWA("\"map\":{\"Contratado\":\"hired\"}"), &in, HW, "POST",
	          HW "/v1/applications/654321/status",
	          "{\"status\":\"unknown\",\"eventDate\":\"2026-11-30T12:00:00.000Z\","
	          "\"created\":\"2026-11-01T12:30:00.000Z\",\"jobId\":\"123456\"}");
}

static void test_hellowork_options(void **state)
{
	(void)state;
	struct route_input in = input();
	/* statusApiUrl from the body, on the connection's origin; source an
	 * object; eventDate a literal; jobId given */
	render_ok(
	    HWA("\"map\":{\"Exame\":\"interview_by_recruiter\"},"
	        "\"statusApiUrl\":\"{{body.data.application.statusApiUrl}}\","
	        "\"eventDate\":\"2023-01-10T10:00:00+01:00\",\"jobId\":\"2022-001-dev\","
	        "\"source\":\"{{body.data.application.source}}\""),
	    &in, HW "/", "POST", HW "/v1/applications/hw-9/status",
	    "{\"status\":\"interview_by_recruiter\",\"eventDate\":\"2023-01-10T09:00:00.000Z\","
	    "\"created\":\"2026-11-01T12:30:00.000Z\",\"jobId\":\"2022-001-dev\","
	    "\"source\":{\"sourceTypeId\":\"DIRECT_SOURCING\"}}");
	/* statusApiUrl missing from the body: the URL is rebuilt; a string source */
	render_ok(
	    HWA("\"map\":{\"Exame\":\"pool\"},\"statusApiUrl\":\"{{body.statusApiUrl}}\","
	        "\"applicationId\":\"{{body.data.application.id}}\",\"source\":\"hellowork.com\""),
	    &in, HW, "POST", HW "/v1/applications/654321/status",
	    "{\"status\":\"pool\",\"eventDate\":\"2026-11-30T12:00:00.000Z\","
	    "\"created\":\"2026-11-01T12:30:00.000Z\",\"jobId\":\"123456\","
	    "\"source\":\"hellowork.com\"}");
	/* another origin: credentials never go there */
	const char *other[] = {"https://evil.example/v1/applications/1/status",
	                       "http://ats-partner.hellowork.com/v1/x",
	                       "https://ats-partner.hellowork.com:8443/v1/x",
	                       "https://ats-partner.hellowork.com@evil.example/v1/x",
	                       "https://ats-partner.hellowork.com.evil.example/v1/x"};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		char action[1024];
		snprintf(action, sizeof(action),
		         HWA("\"map\":{\"Exame\":\"pool\"},\"statusApiUrl\":\"%s\""), other[i]);
		render_fails(action, &in, HW, "template_value",
		             "is not on the connection's origin");
	}
	/* communicationDelay: only with rejected_and_contacted_by_recruiter */
	const char *delay = HWA("\"map\":{\"Exame\":\"rejected_and_contacted_by_recruiter\","
	                        "\"Triagem\":\"rejected\"},"
	                        "\"communicationDelay\":\"{{body.data.application.delay}}\"");
	render_ok(
	    delay, &in, HW, "POST", HW "/v1/applications/654321/status",
	    "{\"status\":\"rejected_and_contacted_by_recruiter\","
	    "\"eventDate\":\"2026-11-30T12:00:00.000Z\",\"created\":\"2026-11-01T12:30:00.000Z\","
	    "\"jobId\":\"123456\",\"communicationDelay\":48}");
	in.entity = "{\"jobId\":7,\"step\":\"Triagem\"}";
	render_ok(delay, &in, HW, "POST", HW "/v1/applications/654321/status",
	          "{\"status\":\"rejected\",\"eventDate\":\"2026-11-30T12:00:00.000Z\","
	          "\"created\":\"2026-11-01T12:30:00.000Z\",\"jobId\":\"7\"}");
	/* unknown delay: left out, as HelloWork asks */
	in = input();
	render_ok(
	    HWA("\"map\":{\"Exame\":\"rejected_and_contacted_by_recruiter\"},"
	        "\"communicationDelay\":\"{{body.data.application.nodelay}}\""),
	    &in, HW, "POST", HW "/v1/applications/654321/status",
	    "{\"status\":\"rejected_and_contacted_by_recruiter\","
	    "\"eventDate\":\"2026-11-30T12:00:00.000Z\",\"created\":\"2026-11-01T12:30:00.000Z\","
	    "\"jobId\":\"123456\"}");
	/* dates that are not dates, a source of the wrong type */
	render_fails(HWA("\"map\":{\"Exame\":\"pool\"},\"eventDate\":\"{{body.data.job.name}}\""),
	             &in, HW, "template_value", "eventDate:");
	in.receipt_date = NULL;
	render_fails(HWA("\"map\":{\"Exame\":\"pool\"}"), &in, HW, "template_missing",
	             "eventDate: missing");
	in = input();
	render_fails(HWA("\"map\":{\"Exame\":\"pool\"},\"source\":\"{{body.data.job.id}}\""), &in,
	             HW, "template_value", "source: must be a string or an object");
	render_fails(
	    "{\"kind\":\"hellowork.status\",\"connectionId\":\"c-2\",\"status\":"
	    "\"{{entity.step}}\",\"created\":\"{{body.data.nope}}\",\"map\":{\"a\":\"pool\"}}",
	    &in, HW, "template_missing", "created: template: body.data.nope is missing");
	/* no entity key and no statusApiUrl value: nothing to address */
	in.entity_key = NULL;
	render_fails(HWA("\"map\":{\"Exame\":\"pool\"},\"statusApiUrl\":\"{{body.nope}}\""), &in,
	             HW, "template_missing", "applicationId: missing");
}

static void test_bad_actions(void **state)
{
	(void)state;
	refused(HWA("\"map\":{\"Contratado\":\"hired\",\"Exame\":\"hird\"}"),
	        "actions[0]: map.Exame: \"hird\" is not one of HelloWork's 16 statuses");
	refused(HWA("\"map\":{\"Contratado\":3}"), "map.Contratado: a non-string is not one");
	refused(HWA("\"map\":{}"), "map: must be an object of 1 to 256 entries");
	refused("{\"kind\":\"hellowork.status\",\"connectionId\":\"c\",\"status\":\"x\","
	        "\"created\":\"2026-01-01T00:00:00Z\"}",
	        "map: required");
	refused(HWA("\"map\":{\"a\":\"pool\"},\"eventDate\":\"2026-13-01T00:00:00Z\""),
	        "eventDate:");
	refused(HWA("\"map\":{\"a\":\"pool\"},\"source\":3"),
	        "source: must be a string or an object");
	refused(HWA("\"map\":{\"a\":\"pool\"},\"communicationDelay\":{}"),
	        "communicationDelay: must be a number or a string");
	refused("{\"kind\":\"gupy.tag\",\"name\":\"Apto\"}", "connectionId: required");
	refused("{\"kind\":\"gupy.tag\",\"connectionId\":\"a b\",\"name\":\"Apto\"}",
	        "connectionId: must be the id");
	refused(GUPY("gupy.tag", "\"text\":\"Apto\""), "text: unknown field");
	refused("{\"kind\":\"gupy.tag\",\"connectionId\":\"c-1\"}", "name: required");
	refused(GUPY("gupy.comment", "\"text\":\"\""), "text: must be a non-empty string");
	refused(GUPY("gupy.reprove", "\"disapprovalReason\":\"{{nope.x}}\""), "disapprovalReason:");
	refused(GUPY("gupy.tag", "\"name\":\"Apto\",\"authorization\":{\"kind\":\"apiKey\"}"),
	        "authorization: not for a gupy.tag action");
	refused(GUPY("gupy.tag", "\"name\":\"Apto\",\"failPermanentlyOn\":[400]"),
	        "failPermanentlyOn: not for a gupy.tag action");
	refused(GUPY("gupy.tag", "\"name\":\"Apto\",\"timeoutMs\":0"), "timeoutMs: must be");
	refused(GUPY("gupy.tag", "\"name\":\"Apto\",\"retryPolicy\":{\"kind\":\"nope\"}"),
	        "retryPolicy");
	refused("{\"kind\":\"gupy.untag\",\"connectionId\":\"c\"}", "kind: must be forward, http");
}

static void test_target(void **state)
{
	(void)state;
	json_t *cfg = NULL, *tc = NULL;
	struct gerr err;
	if (build(GUPY("gupy.tag", "\"name\":\"Apto\",\"timeoutMs\":5000"), &cfg, &err))
		fail_msg("refused: %s", err.msg);
	assert_string_equal(route_action_connection(cfg, 0), "c-1");
	json_t *auth = json_pack("{s:s,s:{s:s,s:s}}", "kind", "apiKey", "data", "key", "tok-1",
	                         "prefix", "Bearer");
	struct route_conn gupy = {.kind = "gupy", .base_url = BASE, .authorization = auth};
	struct route_conn hw = {.kind = "hellowork", .base_url = HW, .authorization = auth};
	/* no connection, or one of the wrong kind: 422 naming connectionId */
	memset(&err, 0, sizeof(err));
	assert_int_equal(route_target_config(cfg, 0, "r-1", NULL, NULL, true, true, 1, &tc, &err),
	                 GERR_INVALID);
	assert_int_equal(err.status, 422);
	assert_non_null(strstr(err.msg, "connectionId: no connection c-1"));
	assert_int_equal(route_target_config(cfg, 0, "r-1", NULL, &hw, true, true, 1, &tc, &err),
	                 GERR_INVALID);
	assert_non_null(
	    strstr(err.msg, "c-1 is a hellowork connection; gupy.tag needs a gupy one"));
	assert_null(tc);
	assert_int_equal(route_target_config(cfg, 0, "r-1", NULL, &gupy, true, true, 1, &tc, &err),
	                 0);
	assert_string_equal(json_string_value(json_object_get(tc, "postbackUrl")), BASE);
	assert_string_equal(json_string_value(json_object_get(tc, "connectionId")), "c-1");
	assert_string_equal(json_string_value(json_object_get(tc, "answerRules")), "gupy");
	assert_string_equal(json_string_value(json_object_get(tc, "routeId")), "r-1");
	assert_true(json_equal(json_object_get(tc, "authorization"), auth));
	assert_null(json_object_get(tc, "failPermanentlyOn"));
	struct webhook *w = NULL;
	assert_int_equal(webhook_compile(tc, 1, "t-1", 1, 0, 1, &w, &err), 0);
	assert_string_equal(w->auth_header, "Authorization: Bearer tok-1");
	assert_int_equal(w->answers, ANSWERS_GUPY);
	assert_int_equal(w->timeout_ms, 5000);
	assert_true(w->fifo);
	assert_false(webhook_wants(w, "application.moved", NULL));
	webhook_unref(w);
	json_decref(tc);
	json_decref(cfg);
	json_decref(auth);
}

static struct webhook *with_rules(const char *rules)
{
	json_t *cfg = json_pack("{s:s,s:[s],s:s,s:[i]}", "postbackUrl", "https://example.com",
	                        "events", "x", "routeId", "r", "failPermanentlyOn", 422);
	if (rules)
		json_object_set_new(cfg, "answerRules", json_string(rules));
	struct webhook *w = NULL;
	struct gerr err;
	if (webhook_compile(cfg, 1, "t", 1, 0, 1, &w, &err))
		fail_msg("compile: %s", err.msg);
	json_decref(cfg);
	return w;
}

static void test_answer_rules(void **state)
{
	(void)state;
	struct webhook *g = with_rules("gupy"), *h = with_rules("hellowork"), *d = with_rules(NULL);
	static const struct {
		int status;
		int gupy, hw, dflt;
	} cases[] = {
	    {200, VERDICT_DELIVERED, VERDICT_DELIVERED, VERDICT_DELIVERED},
	    {201, VERDICT_DELIVERED, VERDICT_RETRY, VERDICT_DELIVERED},
	    {204, VERDICT_DELIVERED, VERDICT_RETRY, VERDICT_DELIVERED},
	    {400, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_RETRY},
	    {401, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_RETRY},
	    {404, VERDICT_PERMANENT, VERDICT_PERMANENT, VERDICT_RETRY},
	    {408, VERDICT_RETRY, VERDICT_RETRY, VERDICT_RETRY},
	    {409, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_RETRY},
	    {410, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_RETRY},
	    {422, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_PERMANENT},
	    {429, VERDICT_RETRY, VERDICT_RETRY, VERDICT_RETRY},
	    {499, VERDICT_PERMANENT, VERDICT_RETRY, VERDICT_RETRY},
	    {500, VERDICT_RETRY, VERDICT_RETRY, VERDICT_RETRY},
	    {503, VERDICT_RETRY, VERDICT_RETRY, VERDICT_RETRY},
	    {0, VERDICT_RETRY, VERDICT_RETRY, VERDICT_RETRY},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (webhook_verdict(g, true, cases[i].status) != cases[i].gupy ||
		    webhook_verdict(h, true, cases[i].status) != cases[i].hw ||
		    webhook_verdict(d, true, cases[i].status) != cases[i].dflt)
			fail_msg("status %d", cases[i].status);
	}
	/* an answer cut short is never delivered */
	assert_int_equal(webhook_verdict(g, false, 200), VERDICT_RETRY);
	assert_int_equal(webhook_verdict(h, false, 404), VERDICT_PERMANENT);

	char out[256];
	const char nf[] =
	    "{\"statusCode\":404,\"error\":\"Not Found\",\"message\":\"Could not find "
	    "applicationInfo with id hw-9 for ATS gancho\"}";
	assert_true(webhook_answer_error(h, 404, nf, strlen(nf), out, sizeof(out)));
	assert_string_equal(
	    out, "not_found: Could not find applicationInfo with id hw-9 for ATS gancho");
	/* a body cut after the message still gives it; an HTML page gives none */
	const char first[] = "{\"message\":\"Could not find applicationInfo\",\"statusCode\":404,"
	                     "\"error\":\"Not Found\"}";
	assert_true(webhook_answer_error(h, 404, first, strlen(first) - 10, out, sizeof(out)));
	assert_string_equal(out, "not_found: Could not find applicationInfo");
	const char html[] = "<html><body>404</body></html>";
	assert_true(webhook_answer_error(h, 404, html, strlen(html), out, sizeof(out)));
	assert_string_equal(out, "not_found: (the answer had no message)");
	/* control characters never reach the reason */
	const char ctl[] = "{\"message\":\"a\\nb\\u0000c\"}";
	assert_true(webhook_answer_error(h, 404, ctl, strlen(ctl), out, sizeof(out)));
	assert_null(strchr(out, '\n'));
	assert_false(webhook_answer_error(h, 500, nf, strlen(nf), out, sizeof(out)));
	const char gm[] = "{\"message\":\"application not in this job\"}";
	assert_true(webhook_answer_error(g, 400, gm, strlen(gm), out, sizeof(out)));
	assert_string_equal(out, "HTTP 400: application not in this job");
	assert_false(webhook_answer_error(g, 400, html, strlen(html), out, sizeof(out)));
	assert_false(webhook_answer_error(d, 404, nf, strlen(nf), out, sizeof(out)));
	webhook_unref(g);
	webhook_unref(h);
	webhook_unref(d);
}

static void test_same_origin(void **state)
{
	(void)state;
	const char *b = "https://ats-partner.hellowork.com";
#define SO(u) route_hr_same_origin(u, strlen(u), b)
	assert_true(SO("https://ats-partner.hellowork.com/v1/applications/1/status"));
	assert_true(SO("HTTPS://ATS-partner.HelloWork.com:443/v1/x?y=1"));
	assert_true(SO("https://ats-partner.hellowork.com"));
	assert_false(SO("https://ats-partner.hellowork.com:444/v1"));
	assert_false(SO("http://ats-partner.hellowork.com/v1"));
	assert_false(SO("https://user@ats-partner.hellowork.com/v1"));
	assert_false(SO("https://ats-partner.hellowork.com/v1#frag"));
	assert_false(SO("https://ats-partner.hellowork.com/v 1"));
	assert_false(SO("https://ats-partner.hellowork.co/v1"));
	assert_false(SO("//ats-partner.hellowork.com/v1"));
	assert_false(SO("/v1/applications/1/status"));
	assert_false(SO("ftp://ats-partner.hellowork.com/v1"));
#undef SO
	assert_true(
	    route_hr_same_origin("http://127.0.0.1:8081/v1/a", 26, "http://127.0.0.1:8081/"));
	assert_false(
	    route_hr_same_origin("http://127.0.0.1:8082/v1/a", 26, "http://127.0.0.1:8081"));
	assert_true(route_hr_same_origin("http://[::1]:80/a", 17, "http://[::1]"));
	assert_false(route_hr_same_origin("http://[::1]:81/a", 17, "http://[::1]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gupy_requests),         cmocka_unit_test(test_gupy_missing_ids),
	    cmocka_unit_test(test_hellowork_every_value), cmocka_unit_test(test_hellowork_options),
	    cmocka_unit_test(test_bad_actions),           cmocka_unit_test(test_target),
	    cmocka_unit_test(test_answer_rules),          cmocka_unit_test(test_same_origin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
