/*
 * company: `gancho company create` and `gancho token create|list|revoke`.
 *
 * Creating the first company is a bootstrap problem: there is no token yet
 * to call the API with. So by default `company create` writes straight into
 * the database (api_company_create_offline), which works before the server
 * ever ran; --remote goes through the admin API instead, for a server that
 * is already up and owns its database. Both print the new token, the one
 * time the CLI ever shows a secret: it is stored hashed and cannot be
 * recovered later.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli_http.h"
#include "util/gerr.h"
#include "util/log.h"

#define CLI_DEFAULT_DB "sqlite:./gancho.db"

static const char cli_company_usage[] =
    "usage: gancho company create NAME [--db URL] [--json]\n"
    "       gancho company create NAME --remote [--event-type NAME]... [--url URL] [--token T] "
    "[--json]\n"
    "\n"
    "Create a company and its first API token, and print them as\n"
    "  id=<uuid>\n"
    "  token=<token>\n"
    "The token is shown only this once: keep it (e.g. in GANCHO_TOKEN).\n"
    "\n"
    "By default the company is written directly into the database, so this\n"
    "works before the server first runs.\n"
    "  --db URL            database (default: $GANCHO_DB or " CLI_DEFAULT_DB ")\n"
    "  --remote            use the running server's admin API instead\n"
    "                      (POST /api/v1/companies with $GANCHO_ADMIN_TOKEN)\n"
    "  --event-type NAME   with --remote: an extra event name the company may send\n"
    "                      (repeatable)\n"
    "  --url URL           server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T           admin token (default: $GANCHO_ADMIN_TOKEN)\n"
    "  --json              print the answer as JSON\n";

static const char cli_token_usage[] =
    "usage: gancho token create [--url URL] [--token T] [--json]\n"
    "       gancho token list [--url URL] [--token T] [--json]\n"
    "       gancho token revoke ID [--url URL] [--token T] [--json]\n"
    "\n"
    "create: one more API token for the company the current token belongs to\n"
    "(POST /api/v1/tokens), printed once. list: the company's tokens as\n"
    "\"ID CREATED\" lines (never the secrets). revoke: delete one at once\n"
    "(DELETE /api/v1/tokens/ID); the company's last token cannot be revoked.\n"
    "  --url URL    server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T    API token (default: $GANCHO_TOKEN)\n"
    "  --json       print the server's answer as it is\n";

/* cli_company_offline: the bootstrap path, straight into the database. */
static int cli_company_offline(const char *db, const char *name, bool json)
{
	char id[64] = "", token[256] = "";
	struct gerr err;
	int rc;

	/* The store's info lines (migrations) are for the server's log, not for
	 * the person running a one-shot command; warnings still show. */
	log_set_level(LOG_WARN);
	memset(&err, 0, sizeof(err));
	rc = api_company_create_offline(db, name, id, sizeof(id), token, sizeof(token), &err);
	if (rc < 0) {
		char code[sizeof(err.code)], msg[sizeof(err.msg)];
		cli_safe(err.code[0] ? err.code : "failed", code, sizeof(code));
		cli_safe(err.msg, msg, sizeof(msg));
		fprintf(stderr, "error: %s: %s\n", code, msg);
		return CLI_FAIL;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "token", token);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("id=%s\ntoken=%s\n", id, token);
	}
	memset(token, 0, sizeof(token));
	return CLI_OK;
}

/* cli_company_remote: POST /api/v1/companies with the admin token. */
static int cli_company_remote(struct cli_conn *c, const char *name, const struct cli_strv *types)
{
	struct cli_resp r;
	json_t *req = json_object(), *arr = json_array(), *ans;
	char *body = NULL;
	bool ok;
	int rc;

	/* json_string() refuses text that is not UTF-8; the API would too. */
	ok = req && arr && json_object_set_new(req, "name", json_string(name)) == 0;
	for (int i = 0; ok && i < types->n; i++)
		ok = json_array_append_new(arr, json_string(types->v[i])) == 0;
	if (ok && types->n)
		ok = json_object_set(req, "eventTypes", arr) == 0;
	if (ok)
		body = json_dumps(req, JSON_COMPACT);
	json_decref(arr);
	json_decref(req);
	if (!body)
		return cli_usage_error("company create", "NAME and event types must be UTF-8 text");
	c->admin = true;
	rc = cli_call(c, "POST", "/api/v1/companies", body, strlen(body), NULL, &r);
	free(body);
	if (rc == CLI_OK) {
		if (c->json) {
			cli_print_raw(&r);
		} else if ((ans = cli_json_parse(&r)) != NULL) {
			const char *id = json_string_value(json_object_get(ans, "id"));
			const char *tok = json_string_value(json_object_get(ans, "token"));
			printf("id=%s\ntoken=%s\n", id ? id : "-", tok ? tok : "-");
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}

int cli_company(int argc, char **argv)
{
	const char *db = NULL, *pos[1];
	bool remote = false;
	struct cli_strv types = {NULL, 0};
	struct cli_conn conn;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--db", NULL, &db, NULL, NULL},
	    {"--remote", NULL, NULL, &remote, NULL},
	    {"--event-type", NULL, NULL, NULL, &types},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"company create", cli_company_usage, opts, 1, 1};

	if (argc < 2) {
		fputs(cli_company_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cli_company_usage, stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "create"))
		return cli_usage_error("company", "unknown sub-verb '%s' (try: create)", argv[1]);

	rc = cli_parse(&spec, argc - 1, argv + 1, &conn, pos, &npos);
	if (rc == CLI_OK && !pos[0][0])
		rc = cli_usage_error(spec.name, "NAME must not be empty");
	if (rc == CLI_OK && !remote && types.n)
		rc = cli_usage_error(spec.name, "--event-type needs --remote");
	if (rc == CLI_OK) {
		if (remote) {
			rc = cli_company_remote(&conn, pos[0], &types);
		} else {
			if (!db)
				db = getenv("GANCHO_DB");
			if (!db || !*db)
				db = CLI_DEFAULT_DB;
			rc = cli_company_offline(db, pos[0], conn.json);
		}
	}
	cli_strv_free(&types);
	return rc < 0 ? CLI_OK : rc;
}

/* cli_token_list_print: "ID CREATED" lines from GET /api/v1/tokens. */
static int cli_token_list_print(const struct cli_resp *r)
{
	json_t *ans = cli_json_parse(r);
	if (!ans)
		return CLI_FAIL;
	size_t i;
	json_t *t;
	json_array_foreach (json_object_get(ans, "data"), i, t) {
		const char *id = json_string_value(json_object_get(t, "id"));
		const char *at = json_string_value(json_object_get(t, "createdAt"));
		printf("%s %s\n", id ? id : "?", at ? at : "?");
	}
	json_decref(ans);
	return CLI_OK;
}

int cli_token(int argc, char **argv)
{
	const char *pos[1] = {NULL};
	struct cli_conn conn;
	struct cli_resp r;
	json_t *ans;
	int npos, rc;

	if (argc < 2) {
		fputs(cli_token_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cli_token_usage, stdout);
		return CLI_OK;
	}
	bool create = !strcmp(argv[1], "create"), list = !strcmp(argv[1], "list"),
	     revoke = !strcmp(argv[1], "revoke");
	if (!create && !list && !revoke)
		return cli_usage_error("token", "unknown sub-verb '%s' (try: create, list, revoke)",
		                       argv[1]);
	const struct cli_spec spec = {create ? "token create"
	                              : list ? "token list"
	                                     : "token revoke",
	                              cli_token_usage, NULL, revoke ? 1 : 0, revoke ? 1 : 0};
	rc = cli_parse(&spec, argc - 1, argv + 1, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;

	if (revoke) {
		char path[128];
		if (!pos[0][0] || strlen(pos[0]) > 64 || strchr(pos[0], '/'))
			return cli_usage_error(spec.name,
			                       "ID: a token id from `gancho token list`");
		snprintf(path, sizeof(path), "/api/v1/tokens/%s", pos[0]);
		rc = cli_call(&conn, "DELETE", path, NULL, 0, NULL, &r);
		if (rc == CLI_OK && !conn.json)
			printf("revoked %s\n", pos[0]);
		else if (rc == CLI_OK)
			cli_print_raw(&r);
		cli_resp_free(&r);
		return rc;
	}
	if (list) {
		rc = cli_call(&conn, "GET", "/api/v1/tokens", NULL, 0, NULL, &r);
		if (rc == CLI_OK)
			rc = conn.json ? (cli_print_raw(&r), CLI_OK) : cli_token_list_print(&r);
		cli_resp_free(&r);
		return rc;
	}
	rc = cli_call(&conn, "POST", "/api/v1/tokens", "{}", 2, NULL, &r);
	if (rc == CLI_OK) {
		if (conn.json) {
			cli_print_raw(&r);
		} else if ((ans = cli_json_parse(&r)) != NULL) {
			const char *tok = json_string_value(json_object_get(ans, "token"));
			if (tok) {
				puts(tok);
			} else {
				fprintf(stderr, "error: bad_answer: no token in the answer\n");
				rc = CLI_FAIL;
			}
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}
