/*
 * flow: `gancho flow validation` — Gupy's validation flow set up in one
 * step: candidates moved into an exam step go to an exam platform, and the
 * platform's results come back to Gupy as tags, a timeline comment and a
 * reproval below a cutoff.
 *
 * The flow is made of ordinary objects, created through the API in order:
 *   1. a Gupy connection (unless --connection names one);
 *   2. the Gupy source, whose entity "application" is keyed by
 *      data.application.id and keeps jobId and step;
 *   3. a route forwarding application.moved into the step to the platform;
 *   4. the results source, keyed by the result's application id, so a
 *      result finds the jobId the Gupy source kept;
 *   5. routes over the results: pass (a tag), fail (a tag and a reproval),
 *      split at the cutoff, and the report as a comment.
 * Later steps name the ids of earlier ones. When a step fails, what was made
 * before it is deleted again, newest first, so a failed setup leaves nothing
 * behind. --print shows the calls instead of making them (the documented
 * sequence, ids as placeholders and secrets as "***").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

static const char cli_flow_usage[] =
    "usage: gancho flow validation [options]\n"
    "\n"
    "Set up Gupy's validation flow in one step; 'gancho flow validation --help'\n"
    "tells the options.\n";

static const char cli_flow_validation_usage[] =
    "usage: gancho flow validation --name N --step STEP --exam-url URL --cutoff N\n"
    "         (--connection ID | --gupy-token T [--gupy-base-url URL])\n"
    "         GUPY-VERIFICATION RESULT-VERIFICATION [options]\n"
    "\n"
    "Set up Gupy's validation flow: candidates moved into STEP are forwarded to\n"
    "the exam platform at --exam-url; the platform posts each result to a second\n"
    "source, and gancho tags the application in Gupy (--pass-tag when score >=\n"
    "cutoff, --fail-tag below), comments the report on its timeline and reproves\n"
    "it below the cutoff. Prints the ids made and the two URLs to configure.\n"
    "  --name N                 a name for the flow (prefixes every object's name)\n"
    "  --step STEP              the Gupy step name that sends a candidate to the exam\n"
    "  --exam-url URL           where candidates are forwarded (the received body)\n"
    "  --exam-authorization JSON  how gancho authenticates to the exam platform\n"
    "                           (a webhook authorization object)\n"
    "  --cutoff N               scores below N fail\n"
    "Gupy:\n"
    "  --connection ID          an existing Gupy connection, or make one with\n"
    "  --gupy-token T           Gupy's API token (advanced settings)\n"
    "  --gupy-base-url URL      default https://api.gupy.io\n"
    "  --gupy-ips               accept webhooks only from Gupy's published addresses\n"
    "GUPY-VERIFICATION, how Gupy's webhooks are recognised, exactly one of:\n"
    "  --gupy-key K [--gupy-key-header H]\n"
    "                           the header (default Authorization) set in the\n"
    "                           webhook's clientHeaders holds K ('Bearer K' too)\n"
    "  --gupy-verification JSON any verification object\n"
    "  --gupy-no-verification   none (with --gupy-ips, the addresses only)\n"
    "RESULT-VERIFICATION, how the platform's results are recognised, exactly one of:\n"
    "  --result-preset P --result-secret S | --result-verification JSON |\n"
    "  --result-no-verification\n"
    "The platform's result (paths in its JSON body):\n"
    "  --result-event E         its event name (default exam.result)\n"
    "  --result-id-path P, --result-event-path P, --result-date-path P\n"
    "                           (defaults id, event, date)\n"
    "  --result-application-path P   the Gupy application id (default applicationId)\n"
    "  --score-path P           the score (default score)\n"
    "  --report-path P          the report (default report)\n"
    "What gancho does with a result:\n"
    "  --pass-tag T             default Apto;  --no-pass-tag: no tag when it passes\n"
    "  --fail-tag T             default Inapto\n"
    "  --reason R               the reproval's disapprovalReason (default\n"
    "                           test_result_below_cutoff); --no-reprove: none\n"
    "  --no-comment             do not put the report on the timeline\n"
    "  --print                  show the API calls instead of making them\n"
    "  --url URL                gancho server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T                API token (default: $GANCHO_TOKEN)\n"
    "  --json                   print every answer as JSON\n";

/* The placeholders --print shows for ids not made yet. */
#define FLOW_CONN_ID   "<connection id>"
#define FLOW_GUPY_ID   "<gupy source id>"
#define FLOW_RESULT_ID "<results source id>"

struct flow_opts {
	const char *name, *step, *exam_url, *exam_auth, *cutoff;
	const char *connection, *gupy_token, *gupy_base, *gupy_key, *gupy_key_header, *gupy_ver;
	bool gupy_none, gupy_ips;
	const char *res_preset, *res_ver;
	struct cli_strv res_secrets;
	bool res_none;
	const char *res_event, *res_id, *res_evp, *res_date, *res_app, *score, *report;
	const char *pass_tag, *fail_tag, *reason;
	bool no_pass_tag, no_reprove, no_comment, print;
};

/* One object the flow makes. */
struct flow_made {
	const char *what; /* "connection", "source", "route" */
	const char *base; /* its collection path */
	char id[128];
	json_t *answer; /* the API's answer */
};

#define FLOW_MAX_MADE 8

struct flow_run {
	struct cli_conn *conn;
	const struct flow_opts *o;
	struct flow_made made[FLOW_MAX_MADE];
	int nmade;
	int step; /* --print: the call's number */
};

/* flow_json_arg: a JSON object option, or NULL after a usage error. */
static json_t *flow_json_arg(const char *verb, const char *opt, const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(v)) {
		json_decref(v);
		/* not echoing it: it may hold a secret */
		cli_usage_error(verb, "%s wants a JSON object", opt);
		return NULL;
	}
	return v;
}

/* flow_gupy_verification: what the GUPY-VERIFICATION options say. */
static json_t *flow_gupy_verification(const char *verb, const struct flow_opts *o)
{
	if ((o->gupy_key != NULL) + (o->gupy_ver != NULL) + o->gupy_none != 1) {
		cli_usage_error(verb, "give exactly one of --gupy-key, --gupy-verification and "
		                      "--gupy-no-verification");
		return NULL;
	}
	if (o->gupy_key_header && !o->gupy_key) {
		cli_usage_error(verb, "--gupy-key-header goes with --gupy-key");
		return NULL;
	}
	if (o->gupy_none)
		return json_pack("{s:s}", "kind", "none");
	if (o->gupy_ver)
		return flow_json_arg(verb, "--gupy-verification", o->gupy_ver);
	json_t *v = json_pack("{s:s,s:s,s:s,s:s}", "kind", "apiKey", "header",
	                      o->gupy_key_header ? o->gupy_key_header : "Authorization", "key",
	                      o->gupy_key, "prefix", "Bearer");
	if (!v)
		cli_usage_error(verb, "--gupy-key must be UTF-8 text");
	return v;
}

/* flow_mask: a copy of v for --print with every credential shown as "***":
 * a token or an authorization anywhere, and the key, secret(s), password
 * and value inside a verification or an authorization object. */
static json_t *flow_mask(const json_t *v, bool inside)
{
	static const char *const always[] = {"token", "authorization", NULL};
	static const char *const within[] = {"key", "secret", "secrets", "password", "value", NULL};
	json_t *c = json_deep_copy(v);
	const char *k;
	json_t *m;
	if (!json_is_object(c))
		return c;
	json_object_foreach (c, k, m) {
		bool hide = false,
		     holder = !strcmp(k, "verification") || !strcmp(k, "authorization");
		for (int i = 0; always[i]; i++)
			hide = hide || !strcmp(k, always[i]);
		for (int i = 0; inside && within[i]; i++)
			hide = hide || !strcmp(k, within[i]);
		if (hide && (json_is_string(m) || json_is_array(m))) {
			json_object_set_new(c, k, json_string("***"));
		} else if (json_is_object(m)) {
			json_object_set_new(c, k, flow_mask(m, holder));
		} else if (json_is_array(m)) {
			size_t i;
			json_t *e;
			json_array_foreach (m, i, e) {
				if (json_is_object(e))
					json_array_set_new(m, i, flow_mask(e, false));
			}
		}
	}
	return c;
}

/* flow_make: POST body to base and remember what was made; --print shows
 * the call instead. Takes body's reference. The id goes to id_out. */
static int flow_make(struct flow_run *run, const char *what, const char *base, json_t *body,
                     const char *placeholder, const char **id_out)
{
	struct flow_made *m;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	char *text;
	int rc;

	if (!body) {
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	if (run->o->print) {
		json_t *shown = flow_mask(body, false);
		char *t = shown ? json_dumps(shown, JSON_INDENT(2)) : NULL;
		printf("%s# %d. the %s\nPOST %s\n%s\n", run->step ? "\n" : "", run->step + 1, what,
		       base, t ? t : "?");
		run->step++;
		free(t);
		json_decref(shown);
		json_decref(body);
		*id_out = placeholder;
		return CLI_OK;
	}
	if (run->nmade == FLOW_MAX_MADE) {
		json_decref(body);
		return CLI_FAIL;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	rc = cli_call(run->conn, "POST", base, text, strlen(text), NULL, &r);
	/* the body may hold a token or a secret */
	memset(text, 0, strlen(text));
	free(text);
	if (rc != CLI_OK) {
		cli_resp_free(&r);
		fprintf(stderr, "gancho flow validation: making the %s failed\n", what);
		return rc;
	}
	json_t *ans = cli_json_parse(&r);
	cli_resp_free(&r);
	const char *id = json_string_value(json_object_get(ans, "id"));
	if (!id || strlen(id) >= sizeof(m->id)) {
		json_decref(ans);
		fprintf(stderr, "error: the server's answer for the %s has no id\n", what);
		return CLI_FAIL;
	}
	m = &run->made[run->nmade++];
	m->what = what;
	m->base = base;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->answer = ans;
	*id_out = m->id;
	return CLI_OK;
}

/* flow_undo: delete what was made, newest first. */
static void flow_undo(struct flow_run *run)
{
	for (int i = run->nmade - 1; i >= 0; i--) {
		struct flow_made *m = &run->made[i];
		struct buf path;
		struct cli_resp r = {0, {NULL, 0, 0, false}};
		buf_init(&path);
		buf_printf(&path, "%s/", m->base);
		cli_escape(&path, m->id);
		if (path.data &&
		    cli_call(run->conn, "DELETE", path.data, NULL, 0, NULL, &r) == CLI_OK)
			fprintf(stderr, "gancho flow validation: removed the %s %s again\n",
			        m->what, m->id);
		cli_resp_free(&r);
		buf_free(&path);
	}
}

/* flow_action: {kind, connectionId, <field>: value}. */
static json_t *flow_action(const char *kind, const char *conn, const char *field, const char *value)
{
	return json_pack("{s:s,s:s,s:s}", "kind", kind, "connectionId", conn, field, value);
}

/* flow_route: a results route over source sid with the given actions. */
static json_t *flow_route(const struct flow_opts *o, const char *suffix, const char *sid,
                          json_t *filter, json_t *actions)
{
	char name[600];
	snprintf(name, sizeof(name), "%s: %s", o->name, suffix);
	/* a result may carry a date older than the entity's last move (another
	 * system's clock): it answers that move all the same */
	return json_pack("{s:s,s:s,s:[s],s:o,s:s,s:o}", "name", name, "sourceId", sid, "events",
	                 o->res_event, "filter", filter, "whenStale", "fire", "actions", actions);
}

static int flow_build(struct flow_run *run, double cutoff, json_t *gupy_ver, json_t *res_ver,
                      json_t *exam_auth)
{
	const struct flow_opts *o = run->o;
	const char *cid = o->connection, *gid, *rid, *rt;
	char name[600], path[600], tmpl[600];
	json_t *body, *cut = floor(cutoff) == cutoff && fabs(cutoff) < 1e15
	                         ? json_integer((json_int_t)cutoff)
	                         : json_real(cutoff);
	int rc;

	if (!cid) {
		snprintf(name, sizeof(name), "%s: Gupy", o->name);
		body = json_pack("{s:s,s:s,s:s}", "name", name, "kind", "gupy", "token",
		                 o->gupy_token);
		if (body && o->gupy_base)
			json_object_set_new(body, "baseUrl", json_string(o->gupy_base));
		rc = flow_make(run, "connection", "/api/v1/connections", body, FLOW_CONN_ID, &cid);
		if (rc != CLI_OK)
			goto out;
	}

	snprintf(name, sizeof(name), "%s: Gupy", o->name);
	body =
	    json_pack("{s:s,s:O,s:{s:s,s:s,s:{s:s,s:s}}}", "name", name, "verification", gupy_ver,
	              "entity", "type", "application", "key", "data.application.id", "keep",
	              "jobId", "data.job.id", "step", "data.application.currentStep.name");
	if (body && o->gupy_ips)
		json_object_set_new(body, "allowIps", json_pack("[s]", "gupy"));
	rc = flow_make(run, "Gupy source", "/api/v1/sources", body, FLOW_GUPY_ID, &gid);
	if (rc != CLI_OK)
		goto out;

	snprintf(name, sizeof(name), "%s: to the exam platform", o->name);
	json_t *fwd = json_pack("{s:s,s:s}", "kind", "forward", "url", o->exam_url);
	if (fwd && exam_auth)
		json_object_set(fwd, "authorization", exam_auth);
	body = fwd ? json_pack("{s:s,s:s,s:[s],s:{s:s},s:[o]}", "name", name, "sourceId", gid,
	                       "events", "application.moved", "filter",
	                       "body.data.application.currentStep.name", o->step, "actions", fwd)
	           : NULL;
	rc = flow_make(run, "route to the exam platform", "/api/v1/routes", body, "", &rt);
	if (rc != CLI_OK)
		goto out;

	snprintf(name, sizeof(name), "%s: exam results", o->name);
	body = json_pack("{s:s,s:O,s:s,s:s,s:s,s:{s:s,s:s}}", "name", name, "verification", res_ver,
	                 "idPath", o->res_id, "eventPath", o->res_evp, "datePath", o->res_date,
	                 "entity", "type", "application", "key", o->res_app);
	rc = flow_make(run, "results source", "/api/v1/sources", body, FLOW_RESULT_ID, &rid);
	if (rc != CLI_OK)
		goto out;

	snprintf(path, sizeof(path), "body.%s", o->score);
	if (!o->no_pass_tag) {
		body =
		    flow_route(o, "pass", rid, json_pack("{s:{s:O}}", path, "$gte", cut),
		               json_pack("[o]", flow_action("gupy.tag", cid, "name", o->pass_tag)));
		rc = flow_make(run, "pass route", "/api/v1/routes", body, "", &rt);
		if (rc != CLI_OK)
			goto out;
	}
	json_t *fail = json_pack("[o]", flow_action("gupy.tag", cid, "name", o->fail_tag));
	if (fail && !o->no_reprove)
		json_array_append_new(
		    fail, flow_action("gupy.reprove", cid, "disapprovalReason", o->reason));
	body = flow_route(o, "fail", rid, json_pack("{s:{s:O}}", path, "$lt", cut), fail);
	rc = flow_make(run, "fail route", "/api/v1/routes", body, "", &rt);
	if (rc != CLI_OK)
		goto out;

	if (!o->no_comment) {
		snprintf(path, sizeof(path), "body.%s", o->report);
		snprintf(tmpl, sizeof(tmpl), "{{body.%s}}", o->report);
		body = flow_route(o, "report", rid, json_pack("{s:{s:b}}", path, "$exists", 1),
		                  json_pack("[o]", flow_action("gupy.comment", cid, "text", tmpl)));
		rc = flow_make(run, "report route", "/api/v1/routes", body, "", &rt);
	}
out:
	json_decref(cut);
	return rc;
}

/* flow_report: what was made, and what to configure outside gancho. Text
 * from the server and the command line goes through cli_safe. */
static void flow_report(struct flow_run *run)
{
	char line[1024], safe[1024], server[512], gupy[512], res[512];
	const char *gupy_url = "?", *res_url = "?";
	const struct flow_opts *o = run->o;

	if (run->conn->json) {
		json_t *all = json_array();
		for (int i = 0; all && i < run->nmade; i++)
			json_array_append_new(all, json_pack("{s:s,s:O}", "kind", run->made[i].what,
			                                     "object", run->made[i].answer));
		char *t = all ? json_dumps(all, JSON_COMPACT) : NULL;
		printf("%s\n", t ? t : "[]");
		free(t);
		json_decref(all);
		return;
	}
	for (int i = 0; i < run->nmade; i++) {
		struct flow_made *m = &run->made[i];
		const char *url = json_string_value(json_object_get(m->answer, "url"));
		if (url && !strcmp(m->what, "Gupy source"))
			gupy_url = url;
		if (url && !strcmp(m->what, "results source"))
			res_url = url;
		snprintf(line, sizeof(line), "%-28s %s", m->what, m->id);
		cli_safe(line, safe, sizeof(safe));
		printf("%s\n", safe);
	}
	cli_safe(run->conn->url, server, sizeof(server));
	cli_safe(gupy_url, gupy, sizeof(gupy));
	cli_safe(res_url, res, sizeof(res));
	printf("\nNext:\n"
	       "  1. In Gupy, create the webhook (POST https://api.gupy.io/api/v1/webhooks):\n"
	       "     {\"action\": \"application.moved\", \"status\": \"active\",\n"
	       "      \"postbackUrl\": \"%s%s\"",
	       server, gupy);
	if (o->gupy_key) {
		cli_safe(o->gupy_key_header ? o->gupy_key_header : "Authorization", line,
		         sizeof(line));
		/* the key itself is the person's own, but never printed */
		printf(",\n      \"clientHeaders\": {\"%s\": \"Bearer <your --gupy-key>\"}", line);
	}
	printf("}\n  2. Have the exam platform POST each result to %s%s\n", server, res);
	snprintf(line, sizeof(line),
	         "     as JSON: {\"%s\": ..., \"%s\": \"%s\", \"%s\": ..., \"%s\": <Gupy's "
	         "application id>, \"%s\": <number>, \"%s\": \"...\"}",
	         o->res_id, o->res_evp, o->res_event, o->res_date, o->res_app, o->score, o->report);
	cli_safe(line, safe, sizeof(safe));
	printf("%s\n", safe);
}

static int cli_flow_validation(int argc, char **argv)
{
	struct flow_opts o = {0};
	struct cli_conn conn;
	struct flow_run run = {0};
	json_t *gupy_ver = NULL, *res_ver = NULL, *exam_auth = NULL;
	const char *pos[1];
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--name", NULL, &o.name, NULL, NULL},
	    {"--step", NULL, &o.step, NULL, NULL},
	    {"--exam-url", NULL, &o.exam_url, NULL, NULL},
	    {"--exam-authorization", NULL, &o.exam_auth, NULL, NULL},
	    {"--cutoff", NULL, &o.cutoff, NULL, NULL},
	    {"--connection", NULL, &o.connection, NULL, NULL},
	    {"--gupy-token", NULL, &o.gupy_token, NULL, NULL},
	    {"--gupy-base-url", NULL, &o.gupy_base, NULL, NULL},
	    {"--gupy-ips", NULL, NULL, &o.gupy_ips, NULL},
	    {"--gupy-key", NULL, &o.gupy_key, NULL, NULL},
	    {"--gupy-key-header", NULL, &o.gupy_key_header, NULL, NULL},
	    {"--gupy-verification", NULL, &o.gupy_ver, NULL, NULL},
	    {"--gupy-no-verification", NULL, NULL, &o.gupy_none, NULL},
	    {"--result-preset", NULL, &o.res_preset, NULL, NULL},
	    {"--result-secret", NULL, NULL, NULL, &o.res_secrets},
	    {"--result-verification", NULL, &o.res_ver, NULL, NULL},
	    {"--result-no-verification", NULL, NULL, &o.res_none, NULL},
	    {"--result-event", NULL, &o.res_event, NULL, NULL},
	    {"--result-id-path", NULL, &o.res_id, NULL, NULL},
	    {"--result-event-path", NULL, &o.res_evp, NULL, NULL},
	    {"--result-date-path", NULL, &o.res_date, NULL, NULL},
	    {"--result-application-path", NULL, &o.res_app, NULL, NULL},
	    {"--score-path", NULL, &o.score, NULL, NULL},
	    {"--report-path", NULL, &o.report, NULL, NULL},
	    {"--pass-tag", NULL, &o.pass_tag, NULL, NULL},
	    {"--no-pass-tag", NULL, NULL, &o.no_pass_tag, NULL},
	    {"--fail-tag", NULL, &o.fail_tag, NULL, NULL},
	    {"--reason", NULL, &o.reason, NULL, NULL},
	    {"--no-reprove", NULL, NULL, &o.no_reprove, NULL},
	    {"--no-comment", NULL, NULL, &o.no_comment, NULL},
	    {"--print", NULL, NULL, &o.print, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"flow validation", cli_flow_validation_usage, opts, 0, 0};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (!o.name || !o.step || !o.exam_url || !o.cutoff) {
		cli_usage_error(spec.name, "--name, --step, --exam-url and --cutoff are required");
		goto out;
	}
	if ((o.connection != NULL) == (o.gupy_token != NULL)) {
		cli_usage_error(spec.name, "give exactly one of --connection and --gupy-token");
		goto out;
	}
	if (o.gupy_base && !o.gupy_token) {
		cli_usage_error(spec.name, "--gupy-base-url goes with --gupy-token");
		goto out;
	}
	char *end;
	double cutoff = strtod(o.cutoff, &end);
	if (end == o.cutoff || *end || !isfinite(cutoff)) {
		cli_usage_error(spec.name, "--cutoff wants a number, not '%s'", o.cutoff);
		goto out;
	}
	if (o.no_pass_tag && o.pass_tag) {
		cli_usage_error(spec.name, "--pass-tag and --no-pass-tag contradict each other");
		goto out;
	}
	if (o.no_reprove && o.reason) {
		cli_usage_error(spec.name, "--reason and --no-reprove contradict each other");
		goto out;
	}
	o.res_event = o.res_event ? o.res_event : "exam.result";
	o.res_id = o.res_id ? o.res_id : "id";
	o.res_evp = o.res_evp ? o.res_evp : "event";
	o.res_date = o.res_date ? o.res_date : "date";
	o.res_app = o.res_app ? o.res_app : "applicationId";
	o.score = o.score ? o.score : "score";
	o.report = o.report ? o.report : "report";
	o.pass_tag = o.pass_tag ? o.pass_tag : "Apto";
	o.fail_tag = o.fail_tag ? o.fail_tag : "Inapto";
	o.reason = o.reason ? o.reason : "test_result_below_cutoff";
	gupy_ver = flow_gupy_verification(spec.name, &o);
	if (!gupy_ver)
		goto out;
	res_ver = cli_verification(spec.name, "--result-", o.res_preset, &o.res_secrets, o.res_ver,
	                           o.res_none);
	if (!res_ver)
		goto out;
	if (o.exam_auth &&
	    !(exam_auth = flow_json_arg(spec.name, "--exam-authorization", o.exam_auth)))
		goto out;

	run.conn = &conn;
	run.o = &o;
	rc = flow_build(&run, cutoff, gupy_ver, res_ver, exam_auth);
	if (rc != CLI_OK) {
		flow_undo(&run);
		goto out;
	}
	if (!o.print)
		flow_report(&run);
out:
	for (int i = 0; i < run.nmade; i++)
		json_decref(run.made[i].answer);
	json_decref(gupy_ver);
	json_decref(res_ver);
	json_decref(exam_auth);
	cli_strv_free(&o.res_secrets);
	return rc < 0 ? CLI_OK : rc;
}

int cli_flow(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cli_flow_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (!strcmp(argv[1], "validation"))
		return cli_flow_validation(argc - 1, argv + 1);
	char safe[64];
	cli_safe(argv[1], safe, sizeof(safe));
	fprintf(stderr, "gancho flow: unknown flow '%s'\nTry 'gancho flow --help'.\n", safe);
	return CLI_USAGE;
}
