/*
 * receipts: looking at what the sources received (/api/v1/receipts).
 *
 *   gancho receipts [--source ID] [--entity KEY] [--event E] [--status S]
 *                   [--limit N] [--all]
 *   gancho receipt ID
 *
 * Listings are tables for a person; --json gives the API's answer. A
 * receipt's body and headers are the sender's bytes: they are shown through
 * the table (control bytes replaced) and cut, like a receiver's answer in
 * `gancho attempts`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

/* A received body is cut to this many bytes in `gancho receipt`. */
#define CLI_BODY_SHOWN 2000

static const char cli_receipts_usage[] =
    "usage: gancho receipts [--source ID] [--entity KEY] [--event E] [--status S]\n"
    "                       [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List the requests your sources received (receipts), newest first: id,\n"
    "status, event, the sender's date, entity key, duplicates and when it came.\n"
    "  --source ID    only this source's\n"
    "  --entity KEY   only this entity's, the key as the sender wrote it\n"
    "  --event E      only this event name\n"
    "  --status S     waiting, routed or stale\n"
    "  --limit N      per page, 1-500 (default 50)\n"
    "  --all          follow the pages to the end\n";

static const char cli_receipt_usage[] =
    "usage: gancho receipt ID [--url URL] [--token T] [--json]\n"
    "       gancho receipt replay ID [--url URL] [--token T] [--json]\n"
    "\n"
    "replay: route the receipt again, on purpose: its routes fire as they did\n"
    "when it was decided (a stale one only those that fire for stale receipts);\n"
    "prints how many deliveries that made.\n"
    "\n"
    "Show one receipt: the sender's id, event and date, its status, how many\n"
    "duplicates came, the client address, its entity with the fields kept for\n"
    "it now, the headers (credentials never kept), the body (cut), and the\n"
    "deliveries its routes made.\n";

int cli_receipts(int argc, char **argv)
{
	const char *source = NULL, *entity = NULL, *event = NULL, *status = NULL, *limit = NULL;
	const char *pos[1];
	bool all = false;
	struct cli_conn conn;
	struct buf path;
	json_t *list = NULL;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--source", NULL, &source, NULL, NULL}, {"--entity", NULL, &entity, NULL, NULL},
	    {"--event", NULL, &event, NULL, NULL},   {"--status", NULL, &status, NULL, NULL},
	    {"--limit", "-n", &limit, NULL, NULL},   {"--all", NULL, NULL, &all, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"receipts", cli_receipts_usage, opts, 0, 0};
	static const char *const head[] = {"ID",     "STATUS", "EVENT",   "DATE",
	                                   "ENTITY", "DUP",    "RECEIVED"};
	static const char *const keys[] = {"id",         "status",     "event",     "date",
	                                   "entity.key", "duplicates", "receivedAt"};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (limit && cli_parse_uint(limit, 1, 500) < 0)
		return cli_usage_error(spec.name, "--limit wants 1-500, not '%s'", limit);
	if (status && strcmp(status, "waiting") && strcmp(status, "routed") &&
	    strcmp(status, "stale"))
		return cli_usage_error(spec.name, "--status wants waiting, routed or stale");

	buf_init(&path);
	buf_puts(&path, "/api/v1/receipts");
	cli_query_add(&path, "sourceId", source);
	cli_query_add(&path, "entity", entity);
	cli_query_add(&path, "event", event);
	cli_query_add(&path, "status", status);
	cli_query_add(&path, "limit", limit);
	rc = path.oom ? CLI_FAIL : cli_list(&conn, path.data, all, &list);
	buf_free(&path);
	if (rc != CLI_OK || !list)
		return rc;

	cli_table_items(json_object_get(list, "data"), 7, head, keys);
	json_decref(list);
	return CLI_OK;
}

/* cli_receipt_show: the receipt's fields one per line, then its deliveries. */
static void cli_receipt_show(json_t *r)
{
	static const char *const fields[] = {
	    "id",     "sourceId",   "event",   "messageId",  "date",
	    "status", "receivedAt", "address", "duplicates", "verification",
	};
	static const char *const head[] = {"DELIVERY", "STATUS", "ATTEMPTS", "CODE", "WEBHOOK"};
	static const char *const keys[] = {"id", "status", "attempts", "lastStatusCode",
	                                   "webhookId"};
	struct cli_table t;
	char tmp[CLI_BODY_SHOWN + 8];
	json_t *ent = json_object_get(r, "entity");
	size_t i;

	cli_table_init(&t, 2, NULL);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *row[2] = {fields[i], cli_jtext(r, fields[i], tmp, sizeof(tmp))};
		cli_table_add(&t, row);
	}
	if (json_is_object(ent)) {
		char type[128], key[128];
		snprintf(tmp, sizeof(tmp), "%s %s", cli_jtext(ent, "type", type, sizeof(type)),
		         cli_jtext(ent, "key", key, sizeof(key)));
		const char *row[2] = {"entity", tmp};
		cli_table_add(&t, row);
		const char *kept[2] = {"kept", cli_jtext(ent, "kept", tmp, sizeof(tmp))};
		cli_table_add(&t, kept);
	} else {
		const char *row[2] = {"entity", "-"};
		cli_table_add(&t, row);
	}
	const char *hdrs[2] = {"headers", cli_jtext(r, "headers", tmp, sizeof(tmp))};
	cli_table_add(&t, hdrs);
	const char *body = cli_jtext(r, "body", tmp, CLI_BODY_SHOWN + 2);
	if (body != tmp)
		snprintf(tmp, CLI_BODY_SHOWN + 2, "%s", body);
	if (strlen(tmp) > CLI_BODY_SHOWN) {
		/* cut: do not leave half a UTF-8 character */
		size_t n = CLI_BODY_SHOWN;
		while (n > 0 && ((unsigned char)tmp[n] & 0xc0) == 0x80)
			n--;
		memcpy(tmp + n, "...", 4);
	}
	const char *brow[2] = {"body", tmp};
	cli_table_add(&t, brow);
	cli_table_print(&t, stdout);
	cli_table_free(&t);

	json_t *dl = json_object_get(r, "deliveries");
	if (!json_array_size(dl))
		return;
	printf("\n");
	cli_table_items(dl, 5, head, keys);
}

/* cli_receipt_parse: the answer; a body may hold integers too large for
 * jansson, which are then read as doubles (the person sees a close value;
 * --json shows the bytes). */
static json_t *cli_receipt_parse(const struct cli_resp *r)
{
	json_t *v = NULL;
	if (r->body.data)
		v = json_loadb(r->body.data, r->body.len, 0, NULL);
	if (!v && r->body.data)
		v = json_loadb(r->body.data, r->body.len, JSON_DECODE_INT_AS_REAL, NULL);
	return v ? v : cli_json_parse(r);
}

/* cli_receipt_replay: `gancho receipt replay ID`. */
static int cli_receipt_replay(int argc, char **argv)
{
	const char *pos[1];
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	struct buf path;
	int npos, rc;
	const struct cli_spec spec = {"receipt replay", cli_receipt_usage, NULL, 1, 1};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "ID must not be empty");
	buf_init(&path);
	buf_puts(&path, "/api/v1/receipts/");
	cli_escape(&path, pos[0]);
	buf_puts(&path, "/replay");
	rc = path.oom ? CLI_FAIL : cli_call(&conn, "POST", path.data, NULL, 0, NULL, &r);
	buf_free(&path);
	if (rc == CLI_OK) {
		json_error_t je;
		json_t *ans = conn.json ? NULL : json_loadb(r.body.data, r.body.len, 0, &je);
		if (conn.json)
			cli_print_raw(&r);
		else if (ans)
			printf("replayed %s: %lld deliveries\n", pos[0],
			       (long long)json_integer_value(json_object_get(ans, "deliveries")));
		else
			rc = CLI_FAIL;
		json_decref(ans);
	}
	cli_resp_free(&r);
	return rc;
}

int cli_receipt(int argc, char **argv)
{
	const char *pos[1];
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	struct buf path;
	json_t *ans;
	int npos, rc;
	const struct cli_spec spec = {"receipt", cli_receipt_usage, NULL, 1, 1};

	if (argc > 1 && strcmp(argv[1], "replay") == 0)
		return cli_receipt_replay(argc - 1, argv + 1);
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "ID must not be empty");
	buf_init(&path);
	buf_puts(&path, "/api/v1/receipts/");
	cli_escape(&path, pos[0]);
	rc = path.oom ? CLI_FAIL : cli_call(&conn, "GET", path.data, NULL, 0, NULL, &r);
	buf_free(&path);
	if (rc == CLI_OK) {
		if (conn.json) {
			cli_print_raw(&r);
		} else if ((ans = cli_receipt_parse(&r)) != NULL) {
			cli_receipt_show(ans);
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}
