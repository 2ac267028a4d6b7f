/*
 * connection: `gancho connection create|list|get|patch|delete`, the ATS and
 * job board APIs route actions call (/api/v1/connections).
 *
 * create and patch build the body from flags. The credential flags are
 * --api-token (the API's token, sent as "Authorization: Bearer <token>") and
 * --authorization (a whole Authorization header value): --token is already
 * the gancho API token of every verb. Either takes "-" to read the value
 * from standard input, so a credential need not sit in the process list or
 * the shell's history. The server validates the rest. Nothing here prints a
 * credential: the server answers a hint at most, and a refused body is not
 * echoed.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

static const char cli_connection_usage[] =
    "usage: gancho connection <sub-verb> [options]\n"
    "\n"
    "  create --name N --kind gupy|hellowork (--api-token T | --authorization V)\n"
    "                                  an ATS or job board API and its credentials\n"
    "  list [--limit N] [--all]        your connections, newest first\n"
    "  get ID                          one connection (a hint of its credential)\n"
    "  patch ID [options]              change its name, base URL or credential\n"
    "  delete ID                       remove (refused while a route uses it)\n"
    "\n"
    "Run 'gancho connection <sub-verb> --help' for details. Every sub-verb takes\n"
    "--url URL (or --server), --token T and --json.\n";

static const char cli_connection_create_usage[] =
    "usage: gancho connection create --name NAME --kind KIND CREDENTIAL [options]\n"
    "\n"
    "Create a connection (POST /api/v1/connections): an API that route actions\n"
    "call with these credentials. Prints its id and a summary.\n"
    "  --name NAME                1-200 characters\n"
    "  --kind gupy|hellowork      which API\n"
    "CREDENTIAL, exactly one of (\"-\" reads the value from standard input):\n"
    "  --api-token T              the API's token, sent as \"Authorization: Bearer T\"\n"
    "  --authorization V          the whole Authorization header value, sent as is\n"
    "Options:\n"
    "  --base-url URL             the API's base URL (default: https://api.gupy.io\n"
    "                             for gupy, https://ats-partner.hellowork.com for\n"
    "                             hellowork)\n"
    "  --url URL                  gancho server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T                  gancho API token (default: $GANCHO_TOKEN)\n"
    "  --json                     print the server's answer as it is\n";

static const char cli_connection_list_usage[] =
    "usage: gancho connection list [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List your connections, newest first: id, name, kind, base URL and credential\n"
    "(its kind and a hint, never the credential).\n"
    "  --limit N   per page, 1-500 (default 50)\n"
    "  --all       follow the pages to the end\n";

static const char cli_connection_get_usage[] =
    "usage: gancho connection get ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Show one connection. Its credential is never shown, only a hint.\n";

static const char cli_connection_patch_usage[] =
    "usage: gancho connection patch ID [options]\n"
    "\n"
    "Change a connection (PATCH /api/v1/connections/ID); what is not given is kept.\n"
    "A new credential reaches every route action that uses the connection at once.\n"
    "  --name NAME\n"
    "  --base-url URL             refused while a route uses the connection\n"
    "  --default-base-url         back to the kind's default base URL\n"
    "  --api-token T              replaces the credential (\"-\": standard input)\n"
    "  --authorization V          replaces the credential (\"-\": standard input)\n"
    "  --url URL, --token T, --json as for every sub-verb\n";

static const char cli_connection_delete_usage[] =
    "usage: gancho connection delete ID [--url URL] [--token T]\n"
    "\n"
    "Delete a connection. Refused (409, naming the route) while a route uses it.\n";

/* cli_connection_secret: the value of a credential flag, "-" read from
 * standard input (its line breaks at the end removed) into held, which the
 * caller wipes and frees. NULL after a usage error. */
static const char *cli_connection_secret(const char *verb, const char *flag, const char *v,
                                         struct buf *held)
{
	if (strcmp(v, "-") != 0)
		return v;
	if (cli_read_file("-", held) != 0) {
		cli_usage_error(verb, "%s -: cannot read standard input", flag);
		return NULL;
	}
	while (held->len > 0 &&
	       (held->data[held->len - 1] == '\n' || held->data[held->len - 1] == '\r'))
		held->len--;
	buf_putc(held, '\0');
	if (held->oom) {
		cli_usage_error(verb, "%s -: out of memory", flag);
		return NULL;
	}
	if (memchr(held->data, '\0', held->len - 1)) {
		cli_usage_error(verb, "%s -: the value holds a NUL byte", flag);
		return NULL;
	}
	return held->data;
}

/* cli_connection_summary: "Gupy: gupy at https://api.gupy.io, token …cdef". */
static void cli_connection_summary(json_t *c, FILE *out)
{
	char t1[512], t2[32], t3[2100], t4[32], t5[64], line[2800], safe[2800];
	json_t *cred = json_object_get(c, "credential");
	const char *hint = json_string_value(json_object_get(cred, "hint"));
	snprintf(line, sizeof(line), "%s: %s at %s, %s%s%s", cli_jtext(c, "name", t1, sizeof(t1)),
	         cli_jtext(c, "kind", t2, sizeof(t2)), cli_jtext(c, "baseUrl", t3, sizeof(t3)),
	         cli_jtext(cred, "kind", t4, sizeof(t4)), hint ? " " : "",
	         hint ? cli_jtext(cred, "hint", t5, sizeof(t5)) : "");
	cli_safe(line, safe, sizeof(safe));
	fprintf(out, "%s\n", safe);
}

/* cli_connection_send: method path with body req; prints the answer (the
 * summary, or the raw answer with --json). */
static int cli_connection_send(struct cli_conn *conn, const char *method, const char *path,
                               json_t *req)
{
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	char *body = json_dumps(req, JSON_COMPACT);
	json_t *ans;
	int rc;
	if (!body) {
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	rc = cli_call(conn, method, path, body, strlen(body), NULL, &r);
	/* the body holds the credential: scrub it before freeing */
	memset(body, 0, strlen(body));
	free(body);
	if (rc == CLI_OK) {
		if (conn->json) {
			cli_print_raw(&r);
		} else if ((ans = cli_json_parse(&r)) != NULL) {
			char id[128];
			printf("id=%s\n", cli_jtext(ans, "id", id, sizeof(id)));
			cli_connection_summary(ans, stdout);
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}

/* cli_connection_write: create (id NULL) or patch ID from the flags. */
static int cli_connection_write(int argc, char **argv, bool create)
{
	const char *name = NULL, *kind = NULL, *base = NULL, *tok = NULL, *auth = NULL, *pos[1];
	bool dflt = false;
	struct cli_conn conn;
	struct buf held, path;
	json_t *req = NULL;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--name", NULL, &name, NULL, NULL},
	    {"--kind", NULL, &kind, NULL, NULL},
	    {"--base-url", NULL, &base, NULL, NULL},
	    {"--default-base-url", NULL, NULL, &dflt, NULL},
	    {"--api-token", NULL, &tok, NULL, NULL},
	    {"--authorization", NULL, &auth, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {create ? "connection create" : "connection patch",
	                              create ? cli_connection_create_usage
	                                     : cli_connection_patch_usage,
	                              opts, create ? 0 : 1, create ? 0 : 1};

	buf_init(&held);
	buf_init(&path);
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (create && (!name || !kind)) {
		cli_usage_error(spec.name, "--name NAME and --kind gupy|hellowork are required");
		goto out;
	}
	if (create && !tok == !auth) {
		cli_usage_error(spec.name, "give exactly one of --api-token and --authorization");
		goto out;
	}
	if (!create && tok && auth) {
		cli_usage_error(spec.name, "give --api-token or --authorization, not both");
		goto out;
	}
	if (base && dflt) {
		cli_usage_error(spec.name, "give --base-url or --default-base-url, not both");
		goto out;
	}
	if (!create && !pos[0][0]) {
		cli_usage_error(spec.name, "ID must not be empty");
		goto out;
	}
	if ((tok && !(tok = cli_connection_secret(spec.name, "--api-token", tok, &held))) ||
	    (auth && !(auth = cli_connection_secret(spec.name, "--authorization", auth, &held))))
		goto out;
	req = json_object();
	if (!req || (name && json_object_set_new(req, "name", json_string(name))) ||
	    (kind && json_object_set_new(req, "kind", json_string(kind))) ||
	    (base && json_object_set_new(req, "baseUrl", json_string(base))) ||
	    (dflt && json_object_set_new(req, "baseUrl", json_null())) ||
	    (tok && json_object_set_new(req, "token", json_string(tok))) ||
	    (auth && json_object_set_new(req, "authorization", json_string(auth)))) {
		/* not echoing the values: one may be the credential */
		cli_usage_error(spec.name, "the values must be UTF-8 text");
		goto out;
	}
	if (!create && json_object_size(req) == 0) {
		cli_usage_error(spec.name, "nothing to change: give at least one option");
		goto out;
	}
	buf_puts(&path, "/api/v1/connections");
	if (!create) {
		buf_putc(&path, '/');
		cli_escape(&path, pos[0]);
	}
	rc = cli_connection_send(&conn, create ? "POST" : "PATCH", path.data, req);
out:
	if (held.data)
		memset(held.data, 0, held.cap);
	buf_free(&held);
	buf_free(&path);
	json_decref(req); /* jansson frees its copies; the argv strings stay */
	return rc < 0 ? CLI_OK : rc;
}

static int cli_connection_list(int argc, char **argv)
{
	json_t *list, *c;
	size_t i;
	int rc = cli_list_verb(argc, argv, "connection list", cli_connection_list_usage,
	                       "/api/v1/connections", &list);
	if (rc != CLI_OK || !list)
		return rc;

	struct cli_table t;
	static const char *const head[] = {"ID", "NAME", "KIND", "BASE URL", "CREDENTIAL"};
	cli_table_init(&t, 5, head);
	json_array_foreach (json_object_get(list, "data"), i, c) {
		char a[128], b[512], k[32], u[2100], ck[32], h[64], cred[128];
		json_t *cr = json_object_get(c, "credential");
		bool hint = json_is_string(json_object_get(cr, "hint"));
		snprintf(cred, sizeof(cred), "%s%s%s", cli_jtext(cr, "kind", ck, sizeof(ck)),
		         hint ? " " : "", hint ? cli_jtext(cr, "hint", h, sizeof(h)) : "");
		const char *row[5] = {
		    cli_jtext(c, "id", a, sizeof(a)),
		    cli_jtext(c, "name", b, sizeof(b)),
		    cli_jtext(c, "kind", k, sizeof(k)),
		    cli_jtext(c, "baseUrl", u, sizeof(u)),
		    cred,
		};
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

/* cli_connection_show: every field of c, one per line (the credential as
 * the server hints it). */
static void cli_connection_show(json_t *c, const char *method)
{
	(void)method;
	cli_show_fields(c, 2200);
}

int cli_connection(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs(cli_connection_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(cli_connection_usage, stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "create") || !strcmp(sub, "add"))
		return cli_connection_write(argc, argv, true);
	if (!strcmp(sub, "patch"))
		return cli_connection_write(argc, argv, false);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return cli_connection_list(argc, argv);
	if (!strcmp(sub, "get") || !strcmp(sub, "show"))
		return cli_one_verb(argc, argv, "connection get", cli_connection_get_usage, "GET",
		                    NULL, "/api/v1/connections/", cli_connection_show);
	if (!strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return cli_one_verb(argc, argv, "connection delete", cli_connection_delete_usage,
		                    "DELETE", NULL, "/api/v1/connections/", cli_connection_show);
	return cli_usage_error(
	    "connection", "unknown sub-verb '%s' (try: create, list, get, patch, delete)", sub);
}
