/*
 * source: `gancho source add|list|get|delete`, receiving URLs
 * (/api/v1/sources).
 *
 * `add` builds the body of POST /api/v1/sources from flags: the common
 * verifications have short forms (--preset NAME --secret S, repeatable for
 * a rotation; --no-verification), any other is given whole as JSON
 * (--verification '{...}'); exactly one of the three is required, so a
 * source never ends up unverified by omission. The server validates the
 * rest. Human output never shows a secret (the server does not send them);
 * --json prints the server's answer as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

static const char cli_source_usage[] =
    "usage: gancho source <sub-verb> [options]\n"
    "\n"
    "  add --name N (--preset P --secret S | --verification JSON | --no-verification)\n"
    "                                  a new receiving URL (/in/<id>)\n"
    "  list [--limit N] [--all]        your sources, newest first\n"
    "  get ID                          one source in full (no secrets)\n"
    "  delete ID                       remove; its URL stops receiving\n"
    "\n"
    "Run 'gancho source <sub-verb> --help' for details. Every sub-verb takes\n"
    "--url URL (or --server), --token T and --json.\n";

static const char cli_source_add_usage[] =
    "usage: gancho source add --name NAME VERIFICATION [options]\n"
    "\n"
    "Create a source (POST /api/v1/sources): a URL /in/<id> that receives a\n"
    "sender's webhooks. Prints its id, its URL and a summary.\n"
    "VERIFICATION, exactly one of:\n"
    "  --preset acesso|github|svix --secret S\n"
    "                             a sender's signature scheme; --secret again for\n"
    "                             each further secret accepted during a rotation\n"
    "  --verification JSON        any verification object, e.g.\n"
    "                             '{\"kind\":\"hmac\",\"header\":\"X-Signature\",\n"
    "                               \"hash\":\"sha256\",\"encoding\":\"hex\",\"secret\":\"...\"}'\n"
    "  --no-verification          accept requests without checking them\n"
    "Options:\n"
    "  --allow-ip CIDR            accept only from these addresses (repeatable;\n"
    "                             \"gupy\" for Gupy's published senders)\n"
    "  --id-path P, --event-path P, --date-path P\n"
    "                             where the event's id, name and date are in the\n"
    "                             body (defaults id, event, date)\n"
    "  --max-body-bytes N         largest body accepted, 1024-67108864 (default 1 MiB)\n"
    "  --entity JSON              e.g. '{\"type\":\"application\",\n"
    "                               \"key\":\"data.application.id\"}'\n"
    "  --url URL                  gancho server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T                  API token (default: $GANCHO_TOKEN)\n"
    "  --json                     print the server's answer as it is\n";

static const char cli_source_list_usage[] =
    "usage: gancho source list [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List your sources, newest first: id, name, verification and URL.\n"
    "  --limit N   per page, 1-500 (default 50)\n"
    "  --all       follow the pages to the end\n";

static const char cli_source_get_usage[] =
    "usage: gancho source get ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Show one source. Secrets are never shown (the server does not send them).\n";

static const char cli_source_delete_usage[] =
    "usage: gancho source delete ID [--url URL] [--token T]\n"
    "\n"
    "Delete a source: its URL answers 404 from then on.\n";

/* cli_verification: what the verification flags say, or NULL after a usage
 * error; prefix is the flags' prefix ("--" for source add, "--result-" for a
 * flow's second source). */
json_t *cli_verification(const char *name, const char *prefix, const char *preset,
                         const struct cli_strv *secrets, const char *full, bool none)
{
	json_t *v;
	if ((preset != NULL) + (full != NULL) + none != 1) {
		cli_usage_error(name,
		                "give exactly one of %spreset, %sverification and "
		                "%sno-verification",
		                prefix, prefix, prefix);
		return NULL;
	}
	if (secrets->n && !preset) {
		cli_usage_error(name, "%ssecret goes with %spreset", prefix, prefix);
		return NULL;
	}
	if (none)
		return json_pack("{s:s}", "kind", "none");
	if (full) {
		json_error_t je;
		v = json_loads(full, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(v)) {
			json_decref(v);
			/* not echoing it: it holds a secret */
			cli_usage_error(name, "%sverification wants a JSON object", prefix);
			return NULL;
		}
		return v;
	}
	if (!secrets->n) {
		cli_usage_error(name, "%spreset wants at least one %ssecret", prefix, prefix);
		return NULL;
	}
	json_t *arr = json_array();
	for (int i = 0; arr && i < secrets->n; i++)
		if (json_array_append_new(arr, json_string(secrets->v[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	v = arr ? json_pack("{s:s,s:o}", "preset", preset, secrets->n == 1 ? "secret" : "secrets",
	                    secrets->n == 1 ? json_incref(json_array_get(arr, 0))
	                                    : json_incref(arr))
	        : NULL;
	json_decref(arr);
	if (!v)
		cli_usage_error(name, "%spreset and %ssecret must be UTF-8 text", prefix, prefix);
	return v;
}

/* cli_source_summary: "Gupy: hmac (acesso), from gupy,10.0.0.0/8, entity application". */
static void cli_source_summary(json_t *s, FILE *out)
{
	char t1[512], t2[512], line[1600], safe[1600];
	json_t *v = json_object_get(s, "verification");
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const char *preset = json_string_value(json_object_get(v, "preset"));
	const char *etype =
	    json_string_value(json_object_get(json_object_get(s, "entity"), "type"));
	snprintf(
	    line, sizeof(line), "%s: %s%s%s%s, from %s%s%s", cli_jtext(s, "name", t1, sizeof(t1)),
	    kind ? kind : "?", preset ? " (" : "", preset ? preset : "", preset ? ")" : "",
	    json_is_array(json_object_get(s, "allowIps")) ? cli_jtext(s, "allowIps", t2, sizeof(t2))
	                                                  : "any address",
	    etype ? ", entity " : "", etype ? etype : "");
	cli_safe(line, safe, sizeof(safe));
	fprintf(out, "%s\n", safe);
}

static int cli_source_add(int argc, char **argv)
{
	const char *name = NULL, *preset = NULL, *full = NULL, *idp = NULL, *evp = NULL;
	const char *dtp = NULL, *maxb = NULL, *entity = NULL, *pos[1];
	bool none = false;
	struct cli_strv secrets = {NULL, 0}, ips = {NULL, 0};
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	json_t *req = NULL, *v, *ans;
	char *body = NULL;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--name", NULL, &name, NULL, NULL},
	    {"--preset", NULL, &preset, NULL, NULL},
	    {"--secret", NULL, NULL, NULL, &secrets},
	    {"--verification", NULL, &full, NULL, NULL},
	    {"--no-verification", NULL, NULL, &none, NULL},
	    {"--allow-ip", NULL, NULL, NULL, &ips},
	    {"--id-path", NULL, &idp, NULL, NULL},
	    {"--event-path", NULL, &evp, NULL, NULL},
	    {"--date-path", NULL, &dtp, NULL, NULL},
	    {"--max-body-bytes", NULL, &maxb, NULL, NULL},
	    {"--entity", NULL, &entity, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"source add", cli_source_add_usage, opts, 0, 0};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (!name) {
		cli_usage_error(spec.name, "--name NAME is required");
		goto out;
	}
	req = json_object();
	if (!req || json_object_set_new(req, "name", json_string(name))) {
		cli_usage_error(spec.name, "--name must be UTF-8 text");
		goto out;
	}
	v = cli_verification(spec.name, "--", preset, &secrets, full, none);
	if (!v || json_object_set_new(req, "verification", v))
		goto out;
	if (ips.n) {
		v = json_array();
		for (int i = 0; v && i < ips.n; i++)
			if (json_array_append_new(v, json_string(ips.v[i]))) {
				json_decref(v);
				v = NULL;
			}
		if (!v || json_object_set_new(req, "allowIps", v)) {
			cli_usage_error(spec.name, "--allow-ip must be UTF-8 text");
			goto out;
		}
	}
	if ((idp && json_object_set_new(req, "idPath", json_string(idp))) ||
	    (evp && json_object_set_new(req, "eventPath", json_string(evp))) ||
	    (dtp && json_object_set_new(req, "datePath", json_string(dtp)))) {
		cli_usage_error(spec.name, "the paths must be UTF-8 text");
		goto out;
	}
	if (maxb) {
		long n = cli_parse_uint(maxb, 1024, 67108864);
		if (n < 0) {
			cli_usage_error(spec.name, "--max-body-bytes wants 1024-67108864, not '%s'",
			                maxb);
			goto out;
		}
		json_object_set_new(req, "maxBodyBytes", json_integer(n));
	}
	if (entity) {
		json_error_t je;
		v = json_loads(entity, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(v) || json_object_set_new(req, "entity", v)) {
			if (v && !json_is_object(v))
				json_decref(v);
			cli_usage_error(spec.name, "--entity wants a JSON object");
			goto out;
		}
	}
	body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		fprintf(stderr, "error: internal: out of memory\n");
		rc = CLI_FAIL;
		goto out;
	}
	rc = cli_call(&conn, "POST", "/api/v1/sources", body, strlen(body), NULL, &r);
	if (rc != CLI_OK)
		goto out;
	if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		char id[128], url[256];
		printf("id=%s\n", cli_jtext(ans, "id", id, sizeof(id)));
		printf("url=%s\n", cli_jtext(ans, "url", url, sizeof(url)));
		cli_source_summary(ans, stdout);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
out:
	/* The body holds the secrets: scrub it before freeing. */
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	json_decref(req);
	cli_resp_free(&r);
	cli_strv_free(&secrets);
	cli_strv_free(&ips);
	return rc < 0 ? CLI_OK : rc;
}

static int cli_source_list(int argc, char **argv)
{
	json_t *list, *s;
	size_t i;
	int rc = cli_list_verb(argc, argv, "source list", cli_source_list_usage, "/api/v1/sources",
	                       &list);
	if (rc != CLI_OK || !list)
		return rc;

	struct cli_table t;
	static const char *const head[] = {"ID", "NAME", "VERIFICATION", "URL"};
	cli_table_init(&t, 4, head);
	json_array_foreach (json_object_get(list, "data"), i, s) {
		char a[128], b[512], c[64], d[256];
		json_t *ver = json_object_get(s, "verification");
		const char *row[4] = {
		    cli_jtext(s, "id", a, sizeof(a)),
		    cli_jtext(s, "name", b, sizeof(b)),
		    json_object_get(ver, "preset") ? cli_jtext(ver, "preset", c, sizeof(c))
		                                   : cli_jtext(ver, "kind", c, sizeof(c)),
		    cli_jtext(s, "url", d, sizeof(d)),
		};
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

/* cli_source_show: every field of s, one per line (the server sends no
 * secret; nested objects as compact JSON). */
static void cli_source_show(json_t *s, const char *method)
{
	(void)method;
	cli_show_fields(s, 2048);
}

int cli_source(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs(cli_source_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(cli_source_usage, stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "add"))
		return cli_source_add(argc, argv);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return cli_source_list(argc, argv);
	if (!strcmp(sub, "get") || !strcmp(sub, "show"))
		return cli_one_verb(argc, argv, "source get", cli_source_get_usage, "GET", NULL,
		                    "/api/v1/sources/", cli_source_show);
	if (!strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return cli_one_verb(argc, argv, "source delete", cli_source_delete_usage, "DELETE",
		                    NULL, "/api/v1/sources/", cli_source_show);
	return cli_usage_error("source", "unknown sub-verb '%s' (try: add, list, get, delete)",
	                       sub);
}
