/*
 * reconciliation: `gancho reconciliation create|list|get|patch|delete|run|
 * runs`, the walks over Gupy's lists that recover lost webhooks
 * (/api/v1/reconciliations).
 *
 * create and patch build the body from flags (--step repeats); the server
 * validates it. run asks for a run now and prints its id; runs lists the
 * runs with their state and counters (--wait RUN_ID: until that run ends).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_http.h"

static const char cli_recon_usage[] =
    "usage: gancho reconciliation <sub-verb> [options]\n"
    "\n"
    "  create --connection ID --source ID --step NAME --every SECONDS [options]\n"
    "                                  walk Gupy's lists and recover lost moves\n"
    "  list [--limit N] [--all]        your reconciliations, newest first\n"
    "  get ID                          one reconciliation\n"
    "  patch ID [options]              change it\n"
    "  delete ID                       remove (a run on its way stops)\n"
    "  run ID                          run it now; prints the run's id\n"
    "  runs ID [--wait RUN_ID]         its runs: state, pages, receipts, errors\n"
    "\n"
    "Run 'gancho reconciliation <sub-verb> --help' for details. Every sub-verb\n"
    "takes --url URL (or --server), --token T and --json.\n";

static const char cli_recon_write_usage[] =
    "usage: gancho reconciliation create|patch [ID] [options]\n"
    "\n"
    "Create (POST /api/v1/reconciliations) or change (PATCH …/ID) a\n"
    "reconciliation: every SECONDS (or on 'run'), list the jobs of a gupy\n"
    "connection and their applications in the steps, and feed each one the\n"
    "source's entities have not seen in its step through the source's routes as\n"
    "a synthetic application.moved receipt (origin \"reconciliation\").\n"
    "  --connection ID            a gupy connection (required to create)\n"
    "  --source ID                a source whose entity keeps\n"
    "                             data.application.currentStep.name (required)\n"
    "  --step NAME                a step to look at; repeat for more (1-16; required)\n"
    "  --every SECONDS            60-604800 between scheduled runs (required)\n"
    "  --name NAME                a name for people\n"
    "  --job-status S             the jobs listed (default published)\n"
    "  --page-size N              perPage of every list, 1-100 (default 100)\n"
    "  --rate N                   requests a second to Gupy, 1-50 (default 5)\n"
    "  --url URL, --token T, --json as for every sub-verb\n";

static const char cli_recon_list_usage[] =
    "usage: gancho reconciliation list [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List your reconciliations, newest first.\n"
    "  --limit N   per page, 1-500 (default 50)\n"
    "  --all       follow the pages to the end\n";

static const char cli_recon_one_usage[] =
    "usage: gancho reconciliation get|delete|run ID [--url URL] [--token T] [--json]\n"
    "\n"
    "get shows one; delete removes it; run asks for a run now (202) and prints\n"
    "its id (the one already waiting to start, if any).\n";

static const char cli_recon_runs_usage[] =
    "usage: gancho reconciliation runs ID [--wait RUN_ID] [--limit N] [--url URL] [--token T]"
    " [--json]\n"
    "\n"
    "The runs of a reconciliation, newest first: state (queued, running, done,\n"
    "stopped, failed), when, pages read, jobs, applications seen in the steps,\n"
    "receipts made, and errors.\n"
    "  --wait RUN_ID   first wait (up to 10 minutes) until that run has ended\n";

static int cli_recon_send(struct cli_conn *conn, const char *method, const char *path, json_t *req)
{
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (req && !body) {
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	int rc = cli_call(conn, method, path, body, body ? strlen(body) : 0, NULL, &r);
	free(body);
	if (rc == CLI_OK) {
		json_t *ans;
		if (conn->json) {
			cli_print_raw(&r);
		} else if (!strcmp(method, "DELETE")) {
			printf("deleted\n");
		} else if ((ans = cli_json_parse(&r)) != NULL) {
			struct cli_table t;
			const char *key;
			char tmp[2200];
			json_t *v;
			cli_table_init(&t, 2, NULL);
			json_object_foreach (ans, key, v) {
				const char *row[2] = {key, cli_jtext(ans, key, tmp, sizeof(tmp))};
				cli_table_add(&t, row);
			}
			cli_table_print(&t, stdout);
			cli_table_free(&t);
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}

/* set_int: field from a flag's text in [lo, hi]; false after a usage error. */
static bool set_int(json_t *req, const char *verb, const char *flag, const char *field,
                    const char *v, long lo, long hi)
{
	if (!v)
		return true;
	long n = cli_parse_uint(v, lo, hi);
	if (n < 0) {
		cli_usage_error(verb, "%s wants %ld-%ld, not '%s'", flag, lo, hi, v);
		return false;
	}
	json_object_set_new(req, field, json_integer(n));
	return true;
}

static int cli_recon_write(int argc, char **argv, bool create)
{
	const char *conn_id = NULL, *src = NULL, *every = NULL, *name = NULL, *status = NULL;
	const char *page = NULL, *rate = NULL, *pos[1];
	struct cli_strv steps = {0};
	struct cli_conn conn;
	struct buf path;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--connection", NULL, &conn_id, NULL, NULL},
	    {"--source", NULL, &src, NULL, NULL},
	    {"--step", NULL, NULL, NULL, &steps},
	    {"--every", NULL, &every, NULL, NULL},
	    {"--name", NULL, &name, NULL, NULL},
	    {"--job-status", NULL, &status, NULL, NULL},
	    {"--page-size", NULL, &page, NULL, NULL},
	    {"--rate", NULL, &rate, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {create ? "reconciliation create" : "reconciliation patch",
	                              cli_recon_write_usage, opts, create ? 0 : 1, create ? 0 : 1};
	buf_init(&path);
	json_t *req = json_object();
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	if (create && (!conn_id || !src || !steps.n || !every)) {
		cli_usage_error(spec.name,
		                "--connection, --source, --step and --every are required");
		goto out;
	}
	if (!req || !set_int(req, spec.name, "--every", "everySeconds", every, 60, 604800) ||
	    !set_int(req, spec.name, "--page-size", "pageSize", page, 1, 100) ||
	    !set_int(req, spec.name, "--rate", "requestsPerSecond", rate, 1, 50))
		goto out;
	if (conn_id)
		json_object_set_new(req, "connectionId", json_string(conn_id));
	if (src)
		json_object_set_new(req, "sourceId", json_string(src));
	if (name)
		json_object_set_new(req, "name", json_string(name));
	if (status)
		json_object_set_new(req, "jobStatus", json_string(status));
	if (steps.n) {
		json_t *a = json_array();
		for (int i = 0; a && i < steps.n; i++)
			json_array_append_new(a, json_string(steps.v[i]));
		json_object_set_new(req, "steps", a);
	}
	if (!create && json_object_size(req) == 0) {
		cli_usage_error(spec.name, "nothing to change: give at least one option");
		goto out;
	}
	buf_puts(&path, "/api/v1/reconciliations");
	if (!create) {
		buf_putc(&path, '/');
		cli_escape(&path, pos[0]);
	}
	rc = cli_recon_send(&conn, create ? "POST" : "PATCH", path.data, req);
out:
	cli_strv_free(&steps);
	buf_free(&path);
	json_decref(req);
	return rc < 0 ? CLI_OK : rc;
}

static int cli_recon_list(int argc, char **argv)
{
	json_t *list = NULL;
	int rc = cli_list_verb(argc, argv, "reconciliation list", cli_recon_list_usage,
	                       "/api/v1/reconciliations", &list);
	if (rc != CLI_OK || !list)
		return rc;
	static const char *const head[] = {"ID", "NAME", "EVERY", "NEXT RUN"};
	static const char *const keys[] = {"id", "name", "everySeconds", "nextRunAt"};
	cli_table_items(json_object_get(list, "data"), 4, head, keys);
	json_decref(list);
	return CLI_OK;
}

/* cli_recon_path: /api/v1/reconciliations/ID[/tail] into path. */
static void cli_recon_path(struct buf *path, const char *id, const char *tail)
{
	buf_puts(path, "/api/v1/reconciliations/");
	cli_escape(path, id);
	if (tail)
		buf_puts(path, tail);
}

static int cli_recon_one(int argc, char **argv, const char *name, const char *method,
                         const char *tail)
{
	const char *pos[1];
	struct cli_conn conn;
	int npos;
	const struct cli_spec spec = {name, cli_recon_one_usage, NULL, 1, 1};
	int rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "ID must not be empty");
	struct buf path;
	buf_init(&path);
	cli_recon_path(&path, pos[0], tail);
	rc = cli_recon_send(&conn, method, path.data, NULL);
	buf_free(&path);
	return rc;
}

/* cli_recon_run_state: the state of run_id in a runs answer, or NULL. */
static const char *cli_recon_run_state(json_t *list, const char *run_id)
{
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(list, "data"), i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		if (id && !strcmp(id, run_id))
			return json_string_value(json_object_get(r, "state"));
	}
	return NULL;
}

static int cli_recon_runs(int argc, char **argv)
{
	const char *wait = NULL, *limit = NULL, *pos[1];
	struct cli_conn conn;
	int npos;
	const struct cli_option opts[] = {
	    {"--wait", NULL, &wait, NULL, NULL},
	    {"--limit", "-n", &limit, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"reconciliation runs", cli_recon_runs_usage, opts, 1, 1};
	int rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "ID must not be empty");
	if (limit && cli_parse_uint(limit, 1, 500) < 0)
		return cli_usage_error(spec.name, "--limit wants 1-500, not '%s'", limit);
	struct buf path;
	buf_init(&path);
	cli_recon_path(&path, pos[0], "/runs");
	if (limit)
		buf_printf(&path, "?limit=%ld", cli_parse_uint(limit, 1, 500));
	json_t *list = NULL;
	bool json = conn.json;
	conn.json = false; /* cli_list would print every poll: printed once below */
	/* --wait: poll every 200 ms, at most 10 minutes */
	for (int i = 0; i < 3000; i++) {
		json_decref(list);
		list = NULL;
		rc = cli_list(&conn, path.data, false, &list);
		if (rc != CLI_OK || !list || !wait)
			break;
		const char *st = cli_recon_run_state(list, wait);
		if (st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)
			break;
		usleep(200000);
	}
	buf_free(&path);
	if (rc != CLI_OK || !list) {
		json_decref(list);
		return rc;
	}
	if (json) {
		char *t = json_dumps(list, JSON_COMPACT);
		if (t)
			printf("%s\n", t);
		free(t);
	} else {
		static const char *const head[] = {"ID",    "STATE", "STARTED",  "ENDED",
		                                   "PAGES", "SEEN",  "RECEIPTS", "ERRORS"};
		static const char *const keys[] = {"id",           "state", "startedAt",
		                                   "endedAt",      "pages", "applicationsSeen",
		                                   "receiptsMade", "errors"};
		cli_table_items(json_object_get(list, "data"), 8, head, keys);
	}
	json_decref(list);
	return CLI_OK;
}

int cli_reconciliation(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub) {
		fputs(cli_recon_usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(cli_recon_usage, stdout);
		return CLI_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "create") || !strcmp(sub, "add"))
		return cli_recon_write(argc, argv, true);
	if (!strcmp(sub, "patch"))
		return cli_recon_write(argc, argv, false);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return cli_recon_list(argc, argv);
	if (!strcmp(sub, "get") || !strcmp(sub, "show"))
		return cli_recon_one(argc, argv, "reconciliation get", "GET", NULL);
	if (!strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return cli_recon_one(argc, argv, "reconciliation delete", "DELETE", NULL);
	if (!strcmp(sub, "run"))
		return cli_recon_one(argc, argv, "reconciliation run", "POST", "/run");
	if (!strcmp(sub, "runs"))
		return cli_recon_runs(argc, argv);
	return cli_usage_error(
	    "reconciliation",
	    "unknown sub-verb '%s' (try: create, list, get, patch, delete, run, runs)", sub);
}
