/*
 * cli_http: what the verb files share, private to src/cli.
 *
 * - struct cli_conn: where the server is and which token to present,
 *   resolved from the environment and the common options.
 * - cli_parse: one option parser for every verb, table driven, so --help,
 *   --url, --token and --json behave the same everywhere.
 * - cli_call: one HTTP exchange with the API over libcurl's easy interface;
 *   reports transport and API errors in the one format the CLI uses.
 * - cli_table: column-aligned output that strips terminal control bytes,
 *   since cells hold text that came from the network.
 */
#ifndef GANCHO_CLI_CLI_HTTP_H
#define GANCHO_CLI_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "util/buf.h"

/* Exit codes of every verb. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* the server said no, the network failed, a signature is invalid */
	CLI_USAGE = 2, /* the command line is wrong */
};

#define CLI_DEFAULT_URL "http://127.0.0.1:8080"

struct cli_conn {
	const char *url;   /* base URL of the server, e.g. http://127.0.0.1:8080 */
	const char *token; /* bearer token; NULL until resolved */
	bool json;         /* --json: print the API's answers as they are */
	bool admin;        /* the call needs GANCHO_ADMIN_TOKEN, not GANCHO_TOKEN */
};

/* A growable list of strings for repeatable options (--event, --header).
 * The strings point into argv; only the array is owned. */
struct cli_strv {
	const char **v;
	int n;
};
void cli_strv_free(struct cli_strv *sv);

/* One entry of a verb's option table. Exactly one of val, flag, list is set:
 * val takes a value (the last one given wins), flag is a switch, list takes a
 * value and may repeat. */
struct cli_option {
	const char *name;  /* "--limit" */
	const char *alias; /* "-n", or NULL */
	const char **val;
	bool *flag;
	struct cli_strv *list;
};

/* What a verb accepts. */
struct cli_spec {
	const char *name;              /* "webhook add", for messages */
	const char *usage;             /* printed by --help */
	const struct cli_option *opts; /* ends with a zeroed entry; may be NULL */
	int minpos, maxpos;            /* how many positional arguments */
};

/* cli_parse: parse argv[1..argc) (argv[0] is the verb being run) against
 * spec->opts plus the common options --url/--server, --token, --json and
 * --help/-h (only --help when conn is NULL: verbs that never reach a
 * server). A verb's own table wins over the common options: webhook add
 * uses --url for the postback URL and --server for the gateway. Positional
 * arguments go to pos[0..maxpos). Returns CLI_OK, CLI_USAGE after printing
 * why, or -1 when --help printed the usage (the caller then exits 0). */
int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli_conn *conn,
              const char **pos, int *npos);

/* cli_usage_error: "gancho <verb>: <msg>" and a hint on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_parse_uint: a decimal in [min, max]; -1 when it is not. */
long cli_parse_uint(const char *s, long min, long max);

/* The answer to one request. */
struct cli_resp {
	long status;
	struct buf body;
};
void cli_resp_free(struct cli_resp *r);

/* cli_call: send method path (which starts with "/" and may hold a query)
 * with an optional JSON body and optional extra header lines, and wait for
 * the answer. Returns CLI_OK when the server answered 2xx; otherwise prints
 * "error: <code>: <message>" and returns CLI_FAIL (or CLI_USAGE when no
 * token is configured). r is filled either way and must be freed. */
int cli_call(struct cli_conn *c, const char *method, const char *path, const char *body, size_t len,
             const char *const *headers, struct cli_resp *r);

/* cli_list: GET path (a list endpoint, maybe with a query already) and, with
 * all, every following page. With --json the answer is printed here (the
 * page as it came; with all, the pages merged into one
 * {"data":[...],"nextCursor":null}) and *out is NULL; otherwise *out is the
 * merged answer for the caller to show, and a note on stderr says when more
 * pages are left. */
int cli_list(struct cli_conn *c, const char *path, bool all, json_t **out);

/* The list, get and delete verbs every kind of object has (sources,
 * connections, routes, webhooks; a new kind uses them the same way).
 *
 * cli_list_verb: parse "<name> [--limit N] [--all]" (usage for --help) and
 * fetch path's pages as cli_list does. Returns CLI_OK with *out the merged
 * answer for the caller to print as a table, or with *out NULL when nothing
 * is left to print (--help, --json); else the exit code after the message.
 *
 * cli_one_verb: parse "<name> ID", send method base<ID> (ID escaped; body
 * JSON or NULL) and show the answer: "deleted <ID>" for a DELETE, the
 * answer as it is with --json, else show(answer, method). Returns the exit
 * code.
 *
 * cli_show_fields: every member of o as a key/value table, a value cut to
 * width-1 bytes (cli_jtext). */
int cli_list_verb(int argc, char **argv, const char *name, const char *usage, const char *path,
                  json_t **out);
int cli_one_verb(int argc, char **argv, const char *name, const char *usage, const char *method,
                 const char *body, const char *base, void (*show)(json_t *ans, const char *method));
void cli_show_fields(json_t *o, size_t width);

/* cli_escape: percent-encode s for use as one path segment or query value,
 * appended to b. */
void cli_escape(struct buf *b, const char *s);
/* cli_query_add: "?k=v" or "&k=v" appended to the path in b, v escaped;
 * nothing when v is NULL. */
void cli_query_add(struct buf *b, const char *k, const char *v);

/* cli_json_parse: parse an API answer; prints an error and returns NULL when
 * the server sent something that is not JSON. */
json_t *cli_json_parse(const struct cli_resp *r);
/* cli_print_raw: print the answer's body as is, newline-terminated. */
void cli_print_raw(const struct cli_resp *r);
/* cli_jtext: member key of o as text for a person: strings as they are,
 * numbers and booleans formatted, arrays of strings joined with ",", other
 * values as compact JSON, "-" for null or missing. Uses tmp. */
const char *cli_jtext(json_t *o, const char *key, char *tmp, size_t tmpsz);

/* cli_safe: copy s to out replacing bytes a terminal would act on
 * (C0/C1 controls, DEL) with '?', and line breaks and tabs with spaces. */
void cli_safe(const char *s, char *out, size_t outsz);

/* cli_read_file: the whole of path ("-" = standard input) appended to b.
 * Returns 0, or -1 with errno telling why. */
int cli_read_file(const char *path, struct buf *b);

/* Column-aligned output; header may be NULL for a key/value listing. */
struct cli_table {
	int ncols;
	size_t nrows, cap; /* rows include the header */
	char **cells;
};
void cli_table_init(struct cli_table *t, int ncols, const char *const *header);
void cli_table_add(struct cli_table *t, const char *const *row);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);
/* cli_table_items: print a table of the JSON objects in items, one column
 * per key (a member's name, or "a.b" for member b of the object at a), each
 * cell as cli_jtext shows it ("-" when absent). At most CLI_TABLE_MAX_COLS. */
#define CLI_TABLE_MAX_COLS 12
void cli_table_items(json_t *items, int ncols, const char *const *head, const char *const *keys);

/* cli_verification: a source's "verification" object from the flags
 * <prefix>preset + <prefix>secret (repeatable), <prefix>verification JSON or
 * <prefix>no-verification, exactly one; NULL after a usage error naming the
 * flags. New reference. */
json_t *cli_verification(const char *name, const char *prefix, const char *preset,
                         const struct cli_strv *secrets, const char *full, bool none);

/* Verb families, one file each. argv[0] is the verb. */
int cli_company(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_webhook(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_deliveries(int argc, char **argv);
int cli_attempts(int argc, char **argv);
int cli_retry(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_source(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_receipts(int argc, char **argv);
int cli_receipt(int argc, char **argv);
int cli_connection(int argc, char **argv);
int cli_flow(int argc, char **argv);
int cli_reconciliation(int argc, char **argv);

#endif
