/*
 * deliveries: looking at and acting on deliveries.
 *
 *   gancho deliveries [--webhook ID] [--status S] [--event E] [--limit N]
 *   gancho attempts DELIVERY_ID
 *   gancho retry DELIVERY_ID
 *   gancho replay WEBHOOK_ID --since ISO [--until ISO]
 *
 * Listings are tables for a person; --json gives the API's answer. The
 * response bodies receivers sent back are shown shortened and with control
 * bytes replaced: they are arbitrary bytes from someone else's server and
 * end up on the operator's terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

/* Receivers' answers are cut to this many bytes in the attempts table. */
#define CLI_RESPONSE_SHOWN 60

static const char cli_deliveries_usage[] =
    "usage: gancho deliveries [--webhook ID] [--status S] [--event E] [--limit N] [--all]\n"
    "                         [--url URL] [--token T] [--json]\n"
    "\n"
    "List deliveries, newest first: id, status, attempts, last HTTP status,\n"
    "event, webhook and when it last changed.\n"
    "  --webhook ID   only this webhook's\n"
    "  --status S     pending, held, delivered or failed\n"
    "  --event E      only this event name\n"
    "  --limit N      per page, 1-500 (default 50)\n"
    "  --all          follow the pages to the end\n";

static const char cli_attempts_usage[] =
    "usage: gancho attempts DELIVERY_ID [--limit N] [--all] [--url URL] [--token T] [--json]\n"
    "\n"
    "List every try of one delivery, oldest first: when, HTTP status (- when\n"
    "there was no answer), latency, and the error or the start of the answer.\n";

static const char cli_retry_usage[] =
    "usage: gancho retry DELIVERY_ID [--url URL] [--token T] [--json]\n"
    "\n"
    "Try a failed, held or delivered delivery again now; its retry schedule\n"
    "starts afresh. A delivery that is already pending is refused (conflict).\n";

static const char cli_replay_usage[] =
    "usage: gancho replay WEBHOOK_ID --since ISO [--until ISO] [--url URL] [--token T] [--json]\n"
    "\n"
    "Deliver again to one webhook every event dated in [since, until) that it\n"
    "matches, as new deliveries; prints count=<how many>.\n"
    "  --since ISO   e.g. 2019-06-19T00:00:00.000Z\n"
    "  --until ISO   default: now\n";

int cli_deliveries(int argc, char **argv)
{
	const char *webhook = NULL, *status = NULL, *event = NULL, *limit = NULL, *pos[1];
	bool all = false;
	struct cli_conn conn;
	struct cli_table t;
	struct buf path;
	json_t *list = NULL, *d;
	size_t i;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--webhook", NULL, &webhook, NULL, NULL}, {"--status", NULL, &status, NULL, NULL},
	    {"--event", NULL, &event, NULL, NULL},     {"--limit", "-n", &limit, NULL, NULL},
	    {"--all", NULL, NULL, &all, NULL},         {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"deliveries", cli_deliveries_usage, opts, 0, 0};
	static const char *const head[] = {"ID",    "STATUS",  "ATTEMPTS", "CODE",
	                                   "EVENT", "WEBHOOK", "UPDATED"};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (limit && cli_parse_uint(limit, 1, 500) < 0)
		return cli_usage_error(spec.name, "--limit wants 1-500, not '%s'", limit);
	if (status && strcmp(status, "pending") && strcmp(status, "held") &&
	    strcmp(status, "delivered") && strcmp(status, "failed"))
		return cli_usage_error(spec.name,
		                       "--status wants pending, held, delivered or failed");

	buf_init(&path);
	buf_puts(&path, "/api/v1/deliveries");
	cli_query_add(&path, "webhookId", webhook);
	cli_query_add(&path, "status", status);
	cli_query_add(&path, "event", event);
	cli_query_add(&path, "limit", limit);
	rc = path.oom ? CLI_FAIL : cli_list(&conn, path.data, all, &list);
	buf_free(&path);
	if (rc != CLI_OK || !list)
		return rc;

	cli_table_init(&t, 7, head);
	json_array_foreach (json_object_get(list, "data"), i, d) {
		char a[128], b[32], c[32], e[32], f[256], g[128], h[64];
		const char *row[7] = {
		    cli_jtext(d, "id", a, sizeof(a)),
		    cli_jtext(d, "status", b, sizeof(b)),
		    cli_jtext(d, "attempts", c, sizeof(c)),
		    cli_jtext(d, "lastStatusCode", e, sizeof(e)),
		    cli_jtext(d, "event", f, sizeof(f)),
		    cli_jtext(d, "webhookId", g, sizeof(g)),
		    cli_jtext(d, "updatedAt", h, sizeof(h)),
		};
		/* No answer yet is "-", not a status of 0. */
		if (!strcmp(row[3], "0"))
			row[3] = "-";
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

/* cli_attempt_result: the error when there is one, else the start of the
 * receiver's answer on one line, "..." when cut. */
static void cli_attempt_result(json_t *a, char *out, size_t outsz)
{
	const char *err = json_string_value(json_object_get(a, "error"));
	const char *resp = json_string_value(json_object_get(a, "response"));
	const char *s = err && *err ? err : resp;
	char cut[CLI_RESPONSE_SHOWN + 4];
	size_t n = 0;

	if (!s || !*s) {
		snprintf(out, outsz, "-");
		return;
	}
	/* Control bytes and line breaks are dealt with by cli_table_add. */
	for (; n < CLI_RESPONSE_SHOWN && s[n]; n++)
		cut[n] = s[n];
	/* Do not cut a UTF-8 sequence in half. */
	if (s[n])
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	cut[n] = '\0';
	snprintf(out, outsz, "%s%s", cut, s[n] ? "..." : "");
}

int cli_attempts(int argc, char **argv)
{
	const char *limit = NULL, *pos[1];
	bool all = false;
	struct cli_conn conn;
	struct cli_table t;
	struct buf path;
	json_t *list = NULL, *a;
	size_t i;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--limit", "-n", &limit, NULL, NULL},
	    {"--all", NULL, NULL, &all, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"attempts", cli_attempts_usage, opts, 1, 1};
	static const char *const head[] = {"#", "AT", "CODE", "MS", "ERROR/RESPONSE"};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "DELIVERY_ID must not be empty");
	if (limit && cli_parse_uint(limit, 1, 500) < 0)
		return cli_usage_error(spec.name, "--limit wants 1-500, not '%s'", limit);

	buf_init(&path);
	buf_puts(&path, "/api/v1/deliveries/");
	cli_escape(&path, pos[0]);
	buf_puts(&path, "/attempts");
	cli_query_add(&path, "limit", limit);
	rc = path.oom ? CLI_FAIL : cli_list(&conn, path.data, all, &list);
	buf_free(&path);
	if (rc != CLI_OK || !list)
		return rc;

	cli_table_init(&t, 5, head);
	json_array_foreach (json_object_get(list, "data"), i, a) {
		char num[24], at[64], code[32], ms[32], res[CLI_RESPONSE_SHOWN + 8];
		const char *row[5] = {num, cli_jtext(a, "at", at, sizeof(at)),
		                      cli_jtext(a, "statusCode", code, sizeof(code)),
		                      cli_jtext(a, "latencyMs", ms, sizeof(ms)), res};
		snprintf(num, sizeof(num), "%zu", i + 1);
		if (!strcmp(row[2], "0"))
			row[2] = "-";
		cli_attempt_result(a, res, sizeof(res));
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	json_decref(list);
	return CLI_OK;
}

int cli_retry(int argc, char **argv)
{
	const char *pos[1];
	struct cli_conn conn;
	struct cli_resp r;
	struct buf path;
	json_t *ans;
	int npos, rc;
	const struct cli_spec spec = {"retry", cli_retry_usage, NULL, 1, 1};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "DELIVERY_ID must not be empty");

	buf_init(&path);
	buf_puts(&path, "/api/v1/deliveries/");
	cli_escape(&path, pos[0]);
	buf_puts(&path, "/retry");
	rc = cli_call(&conn, "POST", path.data, "{}", 2, NULL, &r);
	buf_free(&path);
	if (rc == CLI_OK) {
		if (conn.json) {
			cli_print_raw(&r);
		} else if ((ans = cli_json_parse(&r)) != NULL) {
			char t1[128], t2[32], s1[128], s2[32];
			cli_safe(cli_jtext(ans, "id", t1, sizeof(t1)), s1, sizeof(s1));
			cli_safe(cli_jtext(ans, "status", t2, sizeof(t2)), s2, sizeof(s2));
			printf("id=%s status=%s\n", s1, s2);
			json_decref(ans);
		} else {
			rc = CLI_FAIL;
		}
	}
	cli_resp_free(&r);
	return rc;
}

int cli_replay(int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *pos[1];
	struct cli_conn conn;
	struct cli_resp r;
	struct buf path, body;
	json_t *ans;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--since", NULL, &since, NULL, NULL},
	    {"--until", NULL, &until, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"replay", cli_replay_usage, opts, 1, 1};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "WEBHOOK_ID must not be empty");
	if (!since)
		return cli_usage_error(spec.name, "--since ISO is required");

	buf_init(&path);
	buf_puts(&path, "/api/v1/webhooks/");
	cli_escape(&path, pos[0]);
	buf_puts(&path, "/replay");
	/* The server replays a bounded slice per call: follow nextCursor. */
	long long total = 0;
	char cursor[32] = "";
	for (;;) {
		buf_init(&body);
		buf_puts(&body, "{\"since\":");
		buf_json_str(&body, since, strlen(since));
		if (until) {
			buf_puts(&body, ",\"until\":");
			buf_json_str(&body, until, strlen(until));
		}
		if (cursor[0])
			buf_printf(&body, ",\"cursor\":\"%s\"", cursor);
		buf_putc(&body, '}');
		rc = cli_call(&conn, "POST", path.data, body.data, body.len, NULL, &r);
		buf_free(&body);
		if (rc != CLI_OK)
			break;
		if (conn.json)
			cli_print_raw(&r);
		ans = cli_json_parse(&r);
		if (!ans) {
			rc = CLI_FAIL;
			break;
		}
		total += json_integer_value(json_object_get(ans, "count"));
		const char *next = json_string_value(json_object_get(ans, "nextCursor"));
		snprintf(cursor, sizeof(cursor), "%s", next ? next : "");
		json_decref(ans);
		if (!cursor[0])
			break;
		cli_resp_free(&r);
	}
	buf_free(&path);
	if (rc == CLI_OK && !conn.json)
		printf("count=%lld\n", total);
	cli_resp_free(&r);
	return rc;
}
