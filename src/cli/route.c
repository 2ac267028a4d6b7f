/*
 * route: `gancho route add|list|test` — what gancho does with what its
 * sources receive (POST/GET /api/v1/routes, POST /api/v1/routes/test).
 *
 * `add` takes the route as a JSON file (--file, "-" for standard input) or
 * builds it from flags (--name, --event, --filter, --forward URL, --action
 * JSON); the server validates everything. `test` is the dry run: it prints
 * whether the route matches a body and the requests its actions would send,
 * and sends nothing. Human output shows an authorization by kind only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

static const char cli_route_usage[] =
    "usage: gancho route <sub-verb> [options]\n"
    "\n"
    "  add (--file F | --name N --event E (--forward URL | --action JSON)...)\n"
    "                                  a route: which received events fire which actions\n"
    "  list [--limit N] [--all]        your routes, newest first\n"
    "  test (--id ID | --file F) --body F [--event E] [--header 'N: v']... [--entity JSON]\n"
    "                                  whether it matches, and the requests it would send\n"
    "\n"
    "Run 'gancho route <sub-verb> --help' for details. Every sub-verb takes\n"
    "--url/--server URL, --token T and --json.\n";

static const char cli_route_add_usage[] =
    "usage: gancho route add (--file F | --name N (--event E)... ACTIONS) [options]\n"
    "\n"
    "Create a route (POST /api/v1/routes) and print its id and a summary.\n"
    "  --file F            the whole route as JSON ('-' = standard input):\n"
    "                      {name, sourceId?, events, filter?, actions, whenStale?}\n"
    "  --name N            its name\n"
    "  --event E           an event it takes (repeatable, at least one)\n"
    "  --source ID         only receipts of this source (default: every source)\n"
    "  --filter JSON       e.g. '{\"body.data.application.currentStep.name\": \"Exame\"}'\n"
    "                      (paths start with body., headers. or entity.)\n"
    "  --forward URL       an action: the received body, byte for byte, to URL\n"
    "                      (repeatable)\n"
    "  --action JSON       an action as JSON, e.g. '{\"kind\":\"http\",\"method\":\"POST\",\n"
    "                      \"url\":\"https://x/{{body.data.job.id}}\",\"body\":{...}}'\n"
    "                      (repeatable; after the --forward ones)\n"
    "  --when-stale skip|fire   a receipt older than its entity's state: skip\n"
    "                      (default) or fire this route anyway\n"
    "  --server URL        gancho server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T           API token (default: $GANCHO_TOKEN)\n"
    "  --json              print the server's answer as it is\n";

static const char cli_route_list_usage[] =
    "usage: gancho route list [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List your routes, newest first: id, name, events, source and actions.\n"
    "  --limit N   per page, 1-500 (default 50)\n"
    "  --all       every page\n";

static const char cli_route_test_usage[] =
    "usage: gancho route test (--id ID | --file F) --body F [options]\n"
    "\n"
    "Dry run (POST /api/v1/routes/test): does the route match this received\n"
    "body, and what exactly would each of its actions send? Nothing is sent.\n"
    "  --id ID             a stored route\n"
    "  --file F            a route as JSON ('-' = standard input), not stored\n"
    "  --body F            the received body, a JSON file ('-' = standard input)\n"
    "  --event E           the event name (default: the body's \"event\")\n"
    "  --header 'N: v'     a received header (repeatable)\n"
    "  --entity JSON       the entity's kept fields, e.g. '{\"jobId\": 19139}'\n"
    "  --receipt-id ID     the value of {{receipt.id}} (default \"test\")\n"
    "Exit status 0 when it matches and every action renders, 1 otherwise.\n";

/* read_json: the JSON text of file path, checked; NULL after a message. */
static char *read_json(const char *verb, const char *what, const char *path, struct buf *b)
{
	json_error_t je;
	if (cli_read_file(path, b)) {
		cli_usage_error(verb, "%s: cannot read '%s'", what, path);
		return NULL;
	}
	json_t *v = json_loadb(b->data ? b->data : "", b->len, JSON_DECODE_ANY, &je);
	if (!v) {
		cli_usage_error(verb, "%s: not JSON (line %d: %s)", what, je.line, je.text);
		return NULL;
	}
	json_decref(v);
	buf_putc(b, '\0');
	return b->data;
}

/* summary: one route for a person (credentials never shown). */
static void summary(json_t *r, FILE *out)
{
	char tmp[1024];
	fprintf(out, "name=%s\n", cli_jtext(r, "name", tmp, sizeof(tmp)));
	fprintf(out, "events=%s\n", cli_jtext(r, "events", tmp, sizeof(tmp)));
	fprintf(out, "source=%s\n", cli_jtext(r, "sourceId", tmp, sizeof(tmp)));
	fprintf(out, "whenStale=%s\n", cli_jtext(r, "whenStale", tmp, sizeof(tmp)));
	if (json_object_get(r, "filter") && !json_is_null(json_object_get(r, "filter")))
		fprintf(out, "filter=%s\n", cli_jtext(r, "filter", tmp, sizeof(tmp)));
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(r, "actions"), i, a) {
		char k[32], m[16], u[1024], t[64], au[64];
		const char *kind = cli_jtext(a, "kind", k, sizeof(k));
		fprintf(out, "action[%zu]=%s %s %s target=%s", i, kind,
		        strcmp(kind, "http") == 0 ? cli_jtext(a, "method", m, sizeof(m)) : "POST",
		        cli_jtext(a, "url", u, sizeof(u)), cli_jtext(a, "targetId", t, sizeof(t)));
		if (json_object_get(a, "authorization"))
			fprintf(
			    out, " auth=%s",
			    cli_jtext(json_object_get(a, "authorization"), "kind", au, sizeof(au)));
		fputc('\n', out);
	}
}

static int cli_route_add(int argc, char **argv)
{
	const char *file = NULL, *name = NULL, *source = NULL, *filter = NULL, *stale = NULL;
	const char *pos[1];
	struct cli_strv events = {NULL, 0}, forwards = {NULL, 0}, actions = {NULL, 0};
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	struct buf fb;
	json_t *req = NULL, *ans;
	char *body = NULL;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--file", "-f", &file, NULL, NULL},      {"--name", NULL, &name, NULL, NULL},
	    {"--event", NULL, NULL, NULL, &events},   {"--source", NULL, &source, NULL, NULL},
	    {"--filter", NULL, &filter, NULL, NULL},  {"--forward", NULL, NULL, NULL, &forwards},
	    {"--action", NULL, NULL, NULL, &actions}, {"--when-stale", NULL, &stale, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"route add", cli_route_add_usage, opts, 0, 0};

	buf_init(&fb);
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	bool flags = name || events.n || source || filter || forwards.n || actions.n || stale;
	if (file && flags) {
		cli_usage_error(spec.name, "give --file or the route's flags, not both");
		goto out;
	}
	if (file) {
		const char *text = read_json(spec.name, "--file", file, &fb);
		if (!text)
			goto out;
		body = strdup(text);
	} else {
		if (!name || !events.n || !(forwards.n + actions.n)) {
			cli_usage_error(spec.name,
			                "--name, at least one --event and at least one "
			                "--forward or --action are required (or --file)");
			goto out;
		}
		req = json_object();
		json_t *ev = json_array(), *acts = json_array();
		json_object_set_new(req, "name", json_string(name));
		json_object_set_new(req, "events", ev);
		json_object_set_new(req, "actions", acts);
		for (int i = 0; i < events.n; i++)
			json_array_append_new(ev, json_string(events.v[i]));
		for (int i = 0; i < forwards.n; i++)
			json_array_append_new(
			    acts, json_pack("{s:s,s:s?}", "kind", "forward", "url", forwards.v[i]));
		for (int i = 0; i < actions.n; i++) {
			json_t *a = json_loads(actions.v[i], 0, NULL);
			if (!json_is_object(a)) {
				json_decref(a);
				cli_usage_error(spec.name, "--action wants a JSON object, not '%s'",
				                actions.v[i]);
				goto out;
			}
			json_array_append_new(acts, a);
		}
		if (source)
			json_object_set_new(req, "sourceId", json_string(source));
		if (stale)
			json_object_set_new(req, "whenStale", json_string(stale));
		if (filter) {
			json_t *f = json_loads(filter, 0, NULL);
			if (!json_is_object(f)) {
				json_decref(f);
				cli_usage_error(spec.name, "--filter wants a JSON object, not '%s'",
				                filter);
				goto out;
			}
			json_object_set_new(req, "filter", f);
		}
		body = json_dumps(req, JSON_COMPACT);
	}
	if (!body) {
		fprintf(stderr, "error: internal: out of memory (or text that is not UTF-8)\n");
		rc = CLI_FAIL;
		goto out;
	}
	rc = cli_call(&conn, "POST", "/api/v1/routes", body, strlen(body), NULL, &r);
	if (rc != CLI_OK)
		goto out;
	if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		char id[128];
		printf("id=%s\n", cli_jtext(ans, "id", id, sizeof(id)));
		summary(ans, stdout);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
out:
	/* the body may hold an action's credentials: scrub them */
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	if (fb.data)
		memset(fb.data, 0, fb.len);
	buf_free(&fb);
	json_decref(req);
	cli_resp_free(&r);
	cli_strv_free(&events);
	cli_strv_free(&forwards);
	cli_strv_free(&actions);
	return rc < 0 ? CLI_OK : rc;
}

static int cli_route_list(int argc, char **argv)
{
	json_t *list, *w;
	size_t i;
	int rc =
	    cli_list_verb(argc, argv, "route list", cli_route_list_usage, "/api/v1/routes", &list);
	if (rc != CLI_OK || !list)
		return rc;

	struct cli_table t;
	static const char *const head[] = {"ID", "NAME", "EVENTS", "SOURCE", "ACTIONS"};
	cli_table_init(&t, 5, head);
	json_array_foreach (json_object_get(list, "data"), i, w) {
		char a[128], b[512], c[1024], d[128], e[1024] = "";
		size_t k, o = 0;
		json_t *act;
		json_array_foreach (json_object_get(w, "actions"), k, act) {
			char kind[32];
			int n = snprintf(e + o, sizeof(e) - o, "%s%s", k ? "," : "",
			                 cli_jtext(act, "kind", kind, sizeof(kind)));
			if (n < 0 || (size_t)n >= sizeof(e) - o)
				break;
			o += (size_t)n;
		}
		const char *row[5] = {cli_jtext(w, "id", a, sizeof(a)),
		                      cli_jtext(w, "name", b, sizeof(b)),
		                      cli_jtext(w, "events", c, sizeof(c)),
		                      cli_jtext(w, "sourceId", d, sizeof(d)), e};
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

/* print_requests: the dry run's answer for a person; CLI_OK when it
 * matches and every action rendered. */
static int print_requests(json_t *ans)
{
	bool ok = json_is_true(json_object_get(ans, "matches"));
	printf("matches: %s\n", ok ? "yes" : "no");
	size_t i;
	json_t *rq;
	json_array_foreach (json_object_get(ans, "requests"), i, rq) {
		char tmp[4096], u[2048], m[16], k[32];
		json_t *e = json_object_get(rq, "error");
		printf("\naction[%zu] %s:\n", i, cli_jtext(rq, "kind", k, sizeof(k)));
		if (e) {
			printf("  error: %s\n", cli_jtext(e, "message", tmp, sizeof(tmp)));
			ok = false;
			continue;
		}
		printf("  %s %s\n", cli_jtext(rq, "method", m, sizeof(m)),
		       cli_jtext(rq, "url", u, sizeof(u)));
		const char *hn;
		json_t *hv;
		json_object_foreach (json_object_get(rq, "headers"), hn, hv) {
			char n[256];
			cli_safe(hn, n, sizeof(n));
			printf("  %s: %s\n", n,
			       cli_jtext(json_object_get(rq, "headers"), hn, tmp, sizeof(tmp)));
		}
		if (json_is_string(json_object_get(rq, "body")))
			printf("\n  %s\n", cli_jtext(rq, "body", tmp, sizeof(tmp)));
	}
	return ok ? CLI_OK : CLI_FAIL;
}

static int cli_route_test(int argc, char **argv)
{
	const char *id = NULL, *file = NULL, *bodyf = NULL, *event = NULL, *entity = NULL;
	const char *rid = NULL, *pos[1];
	struct cli_strv headers = {NULL, 0};
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	struct buf fb, bb, req;
	json_t *head = NULL, *ans;
	char *text = NULL;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--id", NULL, &id, NULL, NULL},          {"--file", "-f", &file, NULL, NULL},
	    {"--body", NULL, &bodyf, NULL, NULL},     {"--event", NULL, &event, NULL, NULL},
	    {"--header", NULL, NULL, NULL, &headers}, {"--entity", NULL, &entity, NULL, NULL},
	    {"--receipt-id", NULL, &rid, NULL, NULL}, {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"route test", cli_route_test_usage, opts, 0, 0};

	buf_init(&fb);
	buf_init(&bb);
	buf_init(&req);
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (!id == !file) {
		cli_usage_error(spec.name, "give --id ID or --file F (one of them)");
		goto out;
	}
	if (!bodyf) {
		cli_usage_error(spec.name, "--body F is required");
		goto out;
	}
	head = json_object();
	const char *route_text = NULL, *body_text;
	if (file && !(route_text = read_json(spec.name, "--file", file, &fb)))
		goto out;
	if (!(body_text = read_json(spec.name, "--body", bodyf, &bb)))
		goto out;
	if (id)
		json_object_set_new(head, "routeId", json_string(id));
	if (event)
		json_object_set_new(head, "event", json_string(event));
	if (rid)
		json_object_set_new(head, "receipt", json_pack("{s:s}", "id", rid));
	if (entity) {
		json_t *e = json_loads(entity, 0, NULL);
		if (!json_is_object(e)) {
			json_decref(e);
			cli_usage_error(spec.name, "--entity wants a JSON object, not '%s'",
			                entity);
			goto out;
		}
		json_object_set_new(head, "entity", e);
	}
	if (headers.n) {
		json_t *h = json_object();
		json_object_set_new(head, "headers", h);
		for (int i = 0; i < headers.n; i++) {
			const char *colon = strchr(headers.v[i], ':');
			if (!colon || colon == headers.v[i]) {
				cli_usage_error(spec.name, "--header wants 'Name: value', not '%s'",
				                headers.v[i]);
				goto out;
			}
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(colon - headers.v[i]),
			         headers.v[i]);
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			json_object_set_new(h, name, json_string(v));
		}
	}
	/* The route and the body go in as their own text, byte for byte. */
	text = json_dumps(head, JSON_COMPACT);
	if (!text) {
		cli_usage_error(spec.name, "the options must be UTF-8 text");
		goto out;
	}
	buf_append(&req, text, strlen(text) - 1);
	buf_puts(&req, json_object_size(head) ? ",\"body\":" : "\"body\":");
	buf_puts(&req, body_text);
	if (route_text) {
		buf_puts(&req, ",\"route\":");
		buf_puts(&req, route_text);
	}
	buf_putc(&req, '}');
	rc = cli_call(&conn, "POST", "/api/v1/routes/test", req.data, req.len, NULL, &r);
	if (rc != CLI_OK)
		goto out;
	if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		rc = print_requests(ans);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
out:
	if (fb.data)
		memset(fb.data, 0, fb.len);
	if (req.data)
		memset(req.data, 0, req.len);
	buf_free(&fb);
	buf_free(&bb);
	buf_free(&req);
	free(text);
	json_decref(head);
	cli_resp_free(&r);
	cli_strv_free(&headers);
	return rc < 0 ? CLI_OK : rc;
}

int cli_route(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs(cli_route_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(cli_route_usage, stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "add"))
		return cli_route_add(argc, argv);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return cli_route_list(argc, argv);
	if (!strcmp(sub, "test"))
		return cli_route_test(argc, argv);
	return cli_usage_error("route", "unknown sub-verb '%s' (try: add, list, test)", sub);
}
