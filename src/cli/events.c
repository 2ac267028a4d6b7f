/*
 * events: `gancho send EVENT`, publishing one event (POST /api/v1/events).
 *
 * The promise of the gateway is that "data" reaches receivers byte for
 * byte, so the CLI must not be the one to reformat it: the request body is
 * put together by concatenation around the data exactly as given (key
 * order, number spelling, escapes and whitespace all kept). Parsing it with
 * jansson and dumping it again would not be equivalent. The data is only
 * validated (util/json_scan, the same strict scanner the server uses), so
 * that it cannot be anything but one JSON value: "1, \"id\": \"x\"" would
 * otherwise smuggle extra members into the body.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "util/gerr.h"
#include "util/json_scan.h"

static const char cli_send_usage[] =
    "usage: gancho send EVENT [--data JSON | --data-file FILE|-] [options]\n"
    "\n"
    "Publish an event (POST /api/v1/events) and print its id and date once the\n"
    "server has committed it and its deliveries:\n"
    "  id=<id> date=<ISO-8601>\n"
    "\n"
    "  --data JSON              the event's data (default {}), sent byte for byte\n"
    "  --data-file FILE         read the data from FILE ('-' for standard input)\n"
    "  --id ID                  the event id (default: a new UUID); a repeated id\n"
    "                           is accepted once\n"
    "  --unit U                 the unit, for webhooks subscribed with --unit\n"
    "  --date ISO               the event date, e.g. 2019-06-19T23:48:46.952Z\n"
    "                           (default: now)\n"
    "  --idempotency-key K      send as Idempotency-Key: later sends with the\n"
    "                           same key create nothing\n"
    "  --url URL                server (default: $GANCHO_URL or " CLI_DEFAULT_URL ")\n"
    "  --token T                API token (default: $GANCHO_TOKEN)\n"
    "  --json                   print the server's answer as it is\n";

/* cli_header_ok: a value that can go into a header line as is. */
static bool cli_header_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int cli_send(int argc, char **argv)
{
	const char *data = NULL, *file = NULL, *id = NULL, *unit = NULL, *date = NULL;
	const char *key = NULL, *pos[1];
	struct cli_conn conn;
	struct cli_resp r = {0, {NULL, 0, 0, false}};
	struct buf fdata, body, idem;
	const char *hdrs[2] = {NULL, NULL};
	const char *bytes;
	size_t len;
	struct gerr err;
	json_t *ans;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--data", "-d", &data, NULL, NULL}, {"--data-file", NULL, &file, NULL, NULL},
	    {"--id", NULL, &id, NULL, NULL},     {"--unit", NULL, &unit, NULL, NULL},
	    {"--date", NULL, &date, NULL, NULL}, {"--idempotency-key", NULL, &key, NULL, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"send", cli_send_usage, opts, 1, 1};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (data && file)
		return cli_usage_error(spec.name, "--data and --data-file exclude each other");
	if (!pos[0][0])
		return cli_usage_error(spec.name, "EVENT must not be empty");
	if (key && (!*key || !cli_header_ok(key)))
		return cli_usage_error(spec.name,
		                       "--idempotency-key must be non-empty printable text");

	buf_init(&fdata);
	buf_init(&body);
	buf_init(&idem);
	if (file) {
		if (cli_read_file(file, &fdata) < 0) {
			rc = cli_usage_error(spec.name, "cannot read %s: %s", file,
			                     errno ? strerror(errno) : "read error");
			goto out;
		}
		bytes = fdata.data ? fdata.data : "";
		len = fdata.len;
	} else {
		bytes = data ? data : "{}";
		len = strlen(bytes);
	}
	memset(&err, 0, sizeof(err));
	if (json_validate(bytes, len, &err) != 0) {
		rc = cli_usage_error(spec.name, "the data is not JSON: %s", err.msg);
		goto out;
	}

	/* Strings are escaped; the data goes in untouched, last. */
	buf_puts(&body, "{\"event\":");
	buf_json_str(&body, pos[0], strlen(pos[0]));
	if (id) {
		buf_puts(&body, ",\"id\":");
		buf_json_str(&body, id, strlen(id));
	}
	if (date) {
		buf_puts(&body, ",\"date\":");
		buf_json_str(&body, date, strlen(date));
	}
	if (unit) {
		buf_puts(&body, ",\"unit\":");
		buf_json_str(&body, unit, strlen(unit));
	}
	buf_puts(&body, ",\"data\":");
	buf_append(&body, bytes, len);
	buf_putc(&body, '}');
	if (key) {
		buf_printf(&idem, "Idempotency-Key: %s", key);
		hdrs[0] = idem.data;
	}
	if (body.oom || idem.oom) {
		fprintf(stderr, "error: internal: out of memory\n");
		rc = CLI_FAIL;
		goto out;
	}

	rc = cli_call(&conn, "POST", "/api/v1/events", body.data, body.len, hdrs, &r);
	if (rc != CLI_OK)
		goto out;
	if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		char t1[256], t2[64], s1[256], s2[64];
		cli_safe(cli_jtext(ans, "id", t1, sizeof(t1)), s1, sizeof(s1));
		cli_safe(cli_jtext(ans, "date", t2, sizeof(t2)), s2, sizeof(s2));
		printf("id=%s date=%s\n", s1, s2);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
out:
	cli_resp_free(&r);
	buf_free(&fdata);
	buf_free(&body);
	buf_free(&idem);
	return rc;
}
