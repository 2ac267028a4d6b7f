/*
 * webhook: `gancho webhook add|list|get|pause|resume|delete`.
 *
 * `add` turns flags into the Gupy-style body of POST /api/v1/webhooks.
 * The compact flag syntaxes (--auth basic:USER:PASS, --retry
 * schedule:1,5,30:3600, …) are checked here so a typo is a usage error
 * (exit 2) with a pointed message rather than a 400 from the server; the
 * server still validates everything (URLs, ranges, header names).
 *
 * Human output never shows what could be a credential: authorization is
 * shown by kind only (the server does the same) and clientHeaders by name
 * only, since they commonly carry API keys. --json shows the server's
 * answer as it is.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "core/sign.h"

static const char cli_webhook_usage[] =
    "usage: gancho webhook <sub-verb> [options]\n"
    "\n"
    "  add --url URL --event E [...]   subscribe URL to events\n"
    "  list [--limit N] [--all]        your webhooks, newest first\n"
    "  get ID                          one webhook in full\n"
    "  pause ID                        stop delivering; deliveries are held\n"
    "  resume ID                       deliver again, held deliveries included\n"
    "  delete ID                       remove; its open deliveries fail\n"
    "\n"
    "Run 'gancho webhook <sub-verb> --help' for details. Every sub-verb takes\n"
    "--server URL (or --url, except for add), --token T and --json.\n";

static const char cli_webhook_add_usage[] =
    "usage: gancho webhook add --url URL (--event E)... [options]\n"
    "\n"
    "Subscribe URL to one or more events (POST /api/v1/webhooks) and print\n"
    "the new webhook's id and a summary.\n"
    "  --url URL                  where deliveries are POSTed (https://; http:// and\n"
    "                             private hosts only on a server run with --dev)\n"
    "  --event E                  an event to receive (repeatable, at least one);\n"
    "                             built in, or declared with PATCH /api/v1/company\n"
    "  --unit U                   only events of this unit (1-256 bytes)\n"
    "  --header 'Name: value'     a header sent exactly, instead of the default\n"
    "                             Content-Type (repeatable; an empty value is sent\n"
    "                             empty). Headers gancho sets are refused:\n"
    "                             Authorization, User-Agent, Acesso-Signature,\n"
    "                             webhook-*, Host, Content-Length and framing ones\n"
    "  --auth basic:USER:PASS     Authorization: basic <base64(USER:PASS)>\n"
    "  --auth apikey:KEY          Authorization: KEY\n"
    "  --auth apikey:PREFIX:KEY   Authorization: PREFIX KEY\n"
    "  --auth secret:SECRET       Acesso-Signature: base64 HMAC-SHA256 of the body\n"
    "  --auth standard:whsec_...  Standard Webhooks signature headers\n"
    "  --retry gupy|acesso        a built-in retry policy (default gupy)\n"
    "  --retry schedule:1,5,30:DEADLINE_S\n"
    "                             waits in seconds between tries (the last one\n"
    "                             repeats), then give up DEADLINE_S seconds after\n"
    "                             the first attempt (DEADLINE_S is required)\n"
    "  --retry exponential:INITIAL_S:MAX_S:DEADLINE_S\n"
    "  --fifo                     deliver in order, one at a time\n"
    "  --ordering-key PATH        FIFO per value of PATH, e.g. data.application.id\n"
    "                             (implies --fifo, one lane per value)\n"
    "  --timeout-ms N             per request, 1-300000 (default 30000)\n"
    "  --concurrency N            requests in flight when unordered, 1-256\n"
    "  --rate N                   at most N requests a second (0 < N <= 100000)\n"
    "  --filter JSON              e.g. '{\"unit\": {\"$in\": [\"SP\",\"RJ\"]}}'\n"
    "  --fail-on CODES            statuses that fail at once, e.g. 404,410\n"
    "                             (100-599, at most 16)\n"
    "  --inactive                 create it paused\n"
    "  --owner-name N, --owner-email E   who to call when it breaks\n"
    "  --server URL               gancho server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T                  API token (default: $GANCHO_TOKEN)\n"
    "  --json                     print the server's answer as it is\n";

static const char cli_webhook_list_usage[] =
    "usage: gancho webhook list [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List your webhooks, newest first: id, status, events, unit and URL.\n"
    "  --limit N   per page, 1-500 (default 50)\n"
    "  --all       follow the pages to the end\n";

static const char cli_webhook_get_usage[] =
    "usage: gancho webhook get ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Show one webhook. Header values and credentials are not shown.\n";

static const char cli_webhook_pause_usage[] =
    "usage: gancho webhook pause ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Pause a webhook (PATCH status inactive): new deliveries are kept as held\n"
    "until 'gancho webhook resume ID'.\n";

static const char cli_webhook_resume_usage[] =
    "usage: gancho webhook resume ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Resume a paused webhook (PATCH status active); held deliveries go out.\n";

static const char cli_webhook_delete_usage[] =
    "usage: gancho webhook delete ID [--url URL] [--token T]\n"
    "\n"
    "Delete a webhook. Its open deliveries become failed (\"webhook deleted\").\n";

/* cli_webhook_summary: one line a person can scan:
 * "active application.moved -> https://… (unit SP, auth secret, fifo)". */
static void cli_webhook_summary(json_t *w, FILE *out)
{
	char t1[512], t2[1024], t3[512], line[2048];
	const char *auth =
	    json_string_value(json_object_get(json_object_get(w, "authorization"), "kind"));
	const char *unit = json_string_value(json_object_get(w, "unit"));
	const char *ordering = json_string_value(json_object_get(w, "ordering"));
	json_t *retry = json_object_get(w, "retryPolicy");
	const char *events = json_object_get(w, "events") ? cli_jtext(w, "events", t2, sizeof(t2))
	                                                  : cli_jtext(w, "action", t2, sizeof(t2));
	struct buf extra;

	buf_init(&extra);
	if (unit)
		buf_printf(&extra, "%sunit %s", extra.len ? ", " : "", unit);
	if (auth)
		buf_printf(&extra, "%sauth %s", extra.len ? ", " : "", auth);
	if (json_is_string(retry))
		buf_printf(&extra, "%sretry %s", extra.len ? ", " : "", json_string_value(retry));
	else if (retry)
		buf_printf(&extra, "%scustom retry", extra.len ? ", " : "");
	if (ordering && !strcmp(ordering, "fifo"))
		buf_printf(&extra, "%sfifo", extra.len ? ", " : "");
	snprintf(line, sizeof(line), "%s %s -> %s%s%s%s", cli_jtext(w, "status", t1, sizeof(t1)),
	         events, cli_jtext(w, "postbackUrl", t3, sizeof(t3)), extra.len ? " (" : "",
	         extra.len ? extra.data : "", extra.len ? ")" : "");
	buf_free(&extra);
	cli_safe(line, t2, sizeof(t2));
	fprintf(out, "%s\n", t2);
}

/* cli_number: a finite, non-negative decimal as a JSON integer when it is
 * whole, else a real (the API takes fractional seconds). NULL if not one. */
static json_t *cli_number(const char *s, size_t n)
{
	char tmp[64], *end;
	double d;

	if (n == 0 || n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if ((tmp[0] < '0' || tmp[0] > '9') && tmp[0] != '.')
		return NULL;
	d = strtod(tmp, &end);
	if (*end || !isfinite(d) || d < 0)
		return NULL;
	if (d == floor(d) && d < 9e15)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* cli_webhook_auth: --auth KIND:… into the API's authorization object. */
static json_t *cli_webhook_auth(const char *spec)
{
	const char *colon = strchr(spec, ':'), *rest, *sep;
	size_t klen;

	if (!colon || !colon[1])
		return NULL;
	klen = (size_t)(colon - spec);
	rest = colon + 1;
	if (klen == 5 && !strncasecmp(spec, "basic", 5)) {
		/* The user name cannot hold ':' (RFC 7617); the password may. */
		sep = strchr(rest, ':');
		if (!sep || sep == rest)
			return NULL;
		return json_pack("{s:s, s:{s:s%, s:s}}", "kind", "basic", "data", "username", rest,
		                 (size_t)(sep - rest), "password", sep + 1);
	}
	if (klen == 6 && !strncasecmp(spec, "apikey", 6)) {
		sep = strchr(rest, ':');
		if (!sep)
			return json_pack("{s:s, s:{s:s}}", "kind", "apiKey", "data", "key", rest);
		if (sep == rest || !sep[1])
			return NULL;
		return json_pack("{s:s, s:{s:s, s:s%}}", "kind", "apiKey", "data", "key", sep + 1,
		                 "prefix", rest, (size_t)(sep - rest));
	}
	if (klen == 6 && !strncasecmp(spec, "secret", 6))
		return json_pack("{s:s, s:{s:s}}", "kind", "secret", "data", "secret", rest);
	if (klen == 8 && !strncasecmp(spec, "standard", 8)) {
		unsigned char key[SIGN_KEY_MAX];
		int n = sign_standard_key(rest, key);
		memset(key, 0, sizeof(key));
		if (n < 0)
			return NULL;
		return json_pack("{s:s, s:{s:s}}", "kind", "standard", "data", "secret", rest);
	}
	return NULL;
}

/* cli_webhook_retry: --retry into a policy name or object. */
static json_t *cli_webhook_retry(const char *spec)
{
	if (!strcmp(spec, "gupy") || !strcmp(spec, "acesso"))
		return json_string(spec);
	if (!strncmp(spec, "schedule:", 9)) {
		const char *p = spec + 9, *end = strchr(p, ':');
		json_t *o = json_object(), *arr = json_array(), *num;
		bool ok = o && arr;

		if (!end)
			end = p + strlen(p);
		while (ok && p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			if (!comma)
				comma = end;
			num = cli_number(p, (size_t)(comma - p));
			ok = num && json_array_append_new(arr, num) == 0;
			p = comma < end ? comma + 1 : end;
		}
		ok = ok && json_array_size(arr) > 0 && json_object_set(o, "schedule", arr) == 0;
		/* the server requires the deadline: a usage error here, not a 400 */
		ok = ok && *end == ':';
		if (ok) {
			num = cli_number(end + 1, strlen(end + 1));
			ok = num && json_object_set_new(o, "deadlineSeconds", num) == 0;
		}
		json_decref(arr);
		if (!ok) {
			json_decref(o);
			return NULL;
		}
		return o;
	}
	if (!strncmp(spec, "exponential:", 12)) {
		static const char *const keys[] = {"initialSeconds", "maxSeconds",
		                                   "deadlineSeconds"};
		const char *p = spec + 12;
		json_t *inner = json_object(), *num;
		bool ok = inner != NULL;

		for (int i = 0; ok && i < 3; i++) {
			const char *colon = strchr(p, ':');
			size_t n = colon ? (size_t)(colon - p) : strlen(p);
			if ((i < 2) != (colon != NULL)) {
				ok = false;
				break;
			}
			num = cli_number(p, n);
			ok = num && json_object_set_new(inner, keys[i], num) == 0;
			p += n + (colon ? 1 : 0);
		}
		if (!ok) {
			json_decref(inner);
			return NULL;
		}
		return json_pack("{s:o}", "exponential", inner);
	}
	return NULL;
}

/* cli_webhook_headers: --header 'Name: value' lines into clientHeaders. */
static json_t *cli_webhook_headers(const struct cli_strv *hdrs, int *bad)
{
	json_t *o = json_object();

	for (int i = 0; o && i < hdrs->n; i++) {
		const char *h = hdrs->v[i], *colon = strchr(h, ':'), *v;
		char name[256];
		json_t *jv;

		*bad = i + 1;
		if (!colon || colon == h || (size_t)(colon - h) >= sizeof(name))
			goto fail;
		memcpy(name, h, (size_t)(colon - h));
		name[colon - h] = '\0';
		if (strpbrk(name, " \t") || json_object_get(o, name))
			goto fail;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		jv = json_string(v);
		if (!jv || json_object_set_new(o, name, jv) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int cli_webhook_add(int argc, char **argv)
{
	const char *url = NULL, *unit = NULL, *auth = NULL, *retry = NULL, *okey = NULL;
	const char *timeout = NULL, *conc = NULL, *rate = NULL, *owner = NULL, *email = NULL;
	const char *filter = NULL, *failon = NULL, *pos[1];
	bool fifo = false, inactive = false;
	struct cli_strv events = {NULL, 0}, headers = {NULL, 0};
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	json_t *req = NULL, *v, *ans;
	char *body = NULL;
	int npos, rc, bad = 0;
	long n;
	const struct cli_option opts[] = {
	    {"--url", "--postback-url", &url, NULL, NULL},
	    {"--event", NULL, NULL, NULL, &events},
	    {"--unit", NULL, &unit, NULL, NULL},
	    {"--header", NULL, NULL, NULL, &headers},
	    {"--auth", NULL, &auth, NULL, NULL},
	    {"--retry", NULL, &retry, NULL, NULL},
	    {"--fifo", NULL, NULL, &fifo, NULL},
	    {"--ordering-key", NULL, &okey, NULL, NULL},
	    {"--timeout-ms", NULL, &timeout, NULL, NULL},
	    {"--concurrency", NULL, &conc, NULL, NULL},
	    {"--rate", NULL, &rate, NULL, NULL},
	    {"--filter", NULL, &filter, NULL, NULL},
	    {"--fail-on", NULL, &failon, NULL, NULL},
	    {"--inactive", NULL, NULL, &inactive, NULL},
	    {"--owner-name", NULL, &owner, NULL, NULL},
	    {"--owner-email", NULL, &email, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"webhook add", cli_webhook_add_usage, opts, 0, 0};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (!url) {
		cli_usage_error(spec.name, "--url URL is required");
		goto out;
	}
	if (events.n == 0) {
		cli_usage_error(spec.name, "at least one --event is required");
		goto out;
	}

	/* Every json_object_set_new below is checked through req's
	 * completeness at the end: a NULL value (invalid UTF-8) is refused. */
	req = json_object();
	if (!req || json_object_set_new(req, "postbackUrl", json_string(url))) {
		cli_usage_error(spec.name, "--url must be UTF-8 text");
		goto out;
	}
	if (events.n == 1) {
		v = json_string(events.v[0]);
	} else {
		v = json_array();
		for (int i = 0; v && i < events.n; i++)
			if (json_array_append_new(v, json_string(events.v[i]))) {
				json_decref(v);
				v = NULL;
			}
	}
	if (json_object_set_new(req, events.n == 1 ? "action" : "events", v)) {
		cli_usage_error(spec.name, "--event must be UTF-8 text");
		goto out;
	}
	if (inactive)
		json_object_set_new(req, "status", json_string("inactive"));
	if (unit && json_object_set_new(req, "unit", json_string(unit))) {
		cli_usage_error(spec.name, "--unit must be UTF-8 text");
		goto out;
	}
	if (headers.n) {
		v = cli_webhook_headers(&headers, &bad);
		if (!v || json_object_set_new(req, "clientHeaders", v)) {
			/* Not echoing it: header values are often API keys. */
			cli_usage_error(spec.name,
			                "bad --header (#%d): want 'Name: value', each name once",
			                bad);
			goto out;
		}
	}
	if (auth) {
		v = cli_webhook_auth(auth);
		if (!v || json_object_set_new(req, "authorization", v)) {
			/* Not echoing the value: it holds a credential. */
			cli_usage_error(spec.name,
			                "bad --auth: want basic:USER:PASS, apikey:[PREFIX:]KEY, "
			                "secret:SECRET or standard:whsec_BASE64");
			goto out;
		}
	}
	if (retry) {
		v = cli_webhook_retry(retry);
		if (!v || json_object_set_new(req, "retryPolicy", v)) {
			cli_usage_error(spec.name,
			                "bad --retry '%s': want gupy, acesso, "
			                "schedule:S1,S2,...:DEADLINE_S or "
			                "exponential:INITIAL_S:MAX_S:DEADLINE_S",
			                retry);
			goto out;
		}
	}
	if (fifo)
		json_object_set_new(req, "ordering", json_string("fifo"));
	if (okey && json_object_set_new(req, "orderingKey", json_string(okey))) {
		cli_usage_error(spec.name, "--ordering-key must be UTF-8 text");
		goto out;
	}
	if (timeout) {
		if ((n = cli_parse_uint(timeout, 1, 300000)) < 0) {
			cli_usage_error(spec.name, "--timeout-ms wants 1-300000, not '%s'",
			                timeout);
			goto out;
		}
		json_object_set_new(req, "timeoutMs", json_integer(n));
	}
	if (conc) {
		if ((n = cli_parse_uint(conc, 1, 256)) < 0) {
			cli_usage_error(spec.name, "--concurrency wants 1-256, not '%s'", conc);
			goto out;
		}
		json_object_set_new(req, "concurrency", json_integer(n));
	}
	if (rate) {
		v = cli_number(rate, strlen(rate));
		if (v && (json_number_value(v) <= 0 || json_number_value(v) > 100000)) {
			json_decref(v);
			v = NULL;
		}
		if (!v ||
		    json_object_set_new(req, "rateLimit", json_pack("{s:o}", "perSecond", v))) {
			cli_usage_error(
			    spec.name,
			    "--rate wants a number from 0 (excluded) to 100000, not '%s'", rate);
			goto out;
		}
	}
	if (filter) {
		json_error_t je;
		v = json_loads(filter, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(v) || json_object_set_new(req, "filter", v)) {
			if (v && !json_is_object(v))
				json_decref(v);
			cli_usage_error(spec.name, "--filter wants a JSON object");
			goto out;
		}
	}
	if (failon) {
		const char *p = failon;
		v = json_array();
		while (v && *p) {
			char *end;
			long code = strtol(p, &end, 10);
			if (end == p || code < 100 || code > 599 || (*end && *end != ',')) {
				json_decref(v);
				v = NULL;
				break;
			}
			json_array_append_new(v, json_integer(code));
			p = *end ? end + 1 : end;
		}
		if (!v || !json_array_size(v) || json_object_set_new(req, "failPermanentlyOn", v)) {
			cli_usage_error(spec.name,
			                "--fail-on wants statuses like 404,410, not '%s'", failon);
			goto out;
		}
	}
	if ((owner && json_object_set_new(req, "techOwnerName", json_string(owner))) ||
	    (email && json_object_set_new(req, "techOwnerEmail", json_string(email)))) {
		cli_usage_error(spec.name, "--owner-name and --owner-email must be UTF-8 text");
		goto out;
	}

	body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		fprintf(stderr, "error: internal: out of memory\n");
		rc = CLI_FAIL;
		goto out;
	}
	rc = cli_call(&conn, "POST", "/api/v1/webhooks", body, strlen(body), NULL, &r);
	if (rc != CLI_OK)
		goto out;
	if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		char id[128];
		printf("id=%s\n", cli_jtext(ans, "id", id, sizeof(id)));
		cli_webhook_summary(ans, stdout);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
out:
	/* The body may hold a credential (--auth); scrub it before freeing. */
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	json_decref(req);
	cli_resp_free(&r);
	cli_strv_free(&events);
	cli_strv_free(&headers);
	return rc < 0 ? CLI_OK : rc;
}

static int cli_webhook_list(int argc, char **argv)
{
	json_t *list, *w;
	size_t i;
	int rc = cli_list_verb(argc, argv, "webhook list", cli_webhook_list_usage,
	                       "/api/v1/webhooks", &list);
	if (rc != CLI_OK || !list)
		return rc;

	struct cli_table t;
	static const char *const head[] = {"ID", "STATUS", "EVENTS", "UNIT", "URL"};
	cli_table_init(&t, 5, head);
	json_array_foreach (json_object_get(list, "data"), i, w) {
		char a[128], b[32], c[1024], d[256], e[1024];
		const char *row[5] = {
		    cli_jtext(w, "id", a, sizeof(a)),
		    cli_jtext(w, "status", b, sizeof(b)),
		    json_object_get(w, "events") ? cli_jtext(w, "events", c, sizeof(c))
		                                 : cli_jtext(w, "action", c, sizeof(c)),
		    cli_jtext(w, "unit", d, sizeof(d)),
		    cli_jtext(w, "postbackUrl", e, sizeof(e)),
		};
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

/* cli_webhook_show: every field of w, one per line, credentials left out. */
static void cli_webhook_show(json_t *w)
{
	static const char *const order[] = {
	    "id",
	    "status",
	    "events",
	    "postbackUrl",
	    "unit",
	    "authorization",
	    "clientHeaders",
	    "retryPolicy",
	    "ordering",
	    "orderingKey",
	    "timeoutMs",
	    "concurrency",
	    "rateLimit",
	    "filter",
	    "failPermanentlyOn",
	    "techOwnerName",
	    "techOwnerEmail",
	    "createdAt",
	    "updatedAt",
	    NULL,
	};
	struct cli_table t;
	const char *key;
	char tmp[2048];
	json_t *v;

	cli_table_init(&t, 2, NULL);
	/* The known fields in a sensible order, then anything newer. */
	for (int k = 0; order[k]; k++) {
		const char *row[2] = {order[k], NULL};
		key = order[k];
		/* Gupy's single "action" stands in when there is no "events". */
		if (!strcmp(key, "events") && !json_object_get(w, key))
			key = row[0] = "action";
		if (!(v = json_object_get(w, key)))
			continue;
		if (!strcmp(key, "authorization")) {
			row[1] = json_string_value(json_object_get(v, "kind"));
		} else if (!strcmp(key, "clientHeaders") && json_is_object(v)) {
			/* Names only: the values are often API keys. */
			const char *hn;
			json_t *hv;
			size_t o = 0;
			tmp[0] = '\0';
			json_object_foreach (v, hn, hv) {
				int n =
				    snprintf(tmp + o, sizeof(tmp) - o, "%s%s", o ? ", " : "", hn);
				if (n < 0 || (size_t)n >= sizeof(tmp) - o)
					break;
				o += (size_t)n;
			}
			row[1] = tmp;
		} else {
			row[1] = cli_jtext(w, key, tmp, sizeof(tmp));
		}
		cli_table_add(&t, row);
	}
	json_object_foreach (w, key, v) {
		bool known = !strcmp(key, "action");
		for (int k = 0; !known && order[k]; k++)
			known = !strcmp(key, order[k]);
		if (!known) {
			const char *row[2] = {key, cli_jtext(w, key, tmp, sizeof(tmp))};
			cli_table_add(&t, row);
		}
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* cli_webhook_answer: a GET's webhook in full, a pause's or resume's in a line. */
static void cli_webhook_answer(json_t *w, const char *method)
{
	if (!strcmp(method, "GET"))
		cli_webhook_show(w);
	else
		cli_webhook_summary(w, stdout);
}

int cli_webhook(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs(cli_webhook_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(cli_webhook_usage, stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "add"))
		return cli_webhook_add(argc, argv);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return cli_webhook_list(argc, argv);
	if (!strcmp(sub, "get") || !strcmp(sub, "show"))
		return cli_one_verb(argc, argv, "webhook get", cli_webhook_get_usage, "GET", NULL,
		                    "/api/v1/webhooks/", cli_webhook_answer);
	if (!strcmp(sub, "pause"))
		return cli_one_verb(argc, argv, "webhook pause", cli_webhook_pause_usage, "PATCH",
		                    "{\"status\":\"inactive\"}", "/api/v1/webhooks/",
		                    cli_webhook_answer);
	if (!strcmp(sub, "resume"))
		return cli_one_verb(argc, argv, "webhook resume", cli_webhook_resume_usage, "PATCH",
		                    "{\"status\":\"active\"}", "/api/v1/webhooks/",
		                    cli_webhook_answer);
	if (!strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return cli_one_verb(argc, argv, "webhook delete", cli_webhook_delete_usage,
		                    "DELETE", NULL, "/api/v1/webhooks/", cli_webhook_answer);
	return cli_usage_error("webhook",
	                       "unknown sub-verb '%s' (try: add, list, get, pause, resume, "
	                       "delete)",
	                       sub);
}
