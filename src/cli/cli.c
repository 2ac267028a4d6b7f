/*
 * cli: dispatch of the command line's verbs and what they share: option
 * parsing, the HTTP helper, JSON-to-text helpers and aligned tables.
 *
 * Every verb runs the same way: cli_parse() reads its options (its own
 * table first, then the common --url/--token/--json/--help), cli_call() does
 * one request with libcurl's easy interface, and the verb prints either a
 * short text for a person or, with --json, the server's answer untouched.
 * Errors always look like "error: <code>: <message>" on stderr with exit
 * code 1; usage mistakes print "gancho <verb>: …" and exit 2.
 *
 * Text from the network (messages, event names, receivers' answers) may
 * hold terminal control sequences; everything shown to a person passes
 * through cli_safe() first. Tokens are read from the environment or
 * --token and only ever go into the Authorization header.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli_http.h"
#include "util/redact.h"

#ifndef GANCHO_VERSION
#define GANCHO_VERSION "0"
#endif

/* A server answer larger than this is not something the CLI can show. */
#define CLI_MAX_ANSWER (64u << 20)

/* ---- usage and dispatch ------------------------------------------------ */

struct cli_verb {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct cli_verb cli_verbs[] = {
    /* clang-format off: one verb a line */
    {"company", cli_company},
    {"token", cli_token},
    {"webhook", cli_webhook},
    {"send", cli_send},
    {"deliveries", cli_deliveries},
    {"attempts", cli_attempts},
    {"retry", cli_retry},
    {"replay", cli_replay},
    {"verify", cli_verify},
    {"source", cli_source},
    {"route", cli_route},
    {"receipts", cli_receipts},
    {"receipt", cli_receipt},
    {"connection", cli_connection},
    {"flow", cli_flow},
    {"reconciliation", cli_reconciliation},
    {NULL, NULL},
    /* clang-format on */
};

void cli_usage(FILE *out)
{
	fputs("usage: gancho <verb> [options]\n"
	      "\n"
	      "Server:\n"
	      "  serve                      run the gateway (gancho serve --help)\n"
	      "\n"
	      "Companies and tokens:\n"
	      "  company create NAME        create a company offline in the database\n"
	      "                             (or --remote through the admin API)\n"
	      "  token create               one more token for your company\n"
	      "  token list | revoke ID     your company's tokens (no secrets); revoke one\n"
	      "\n"
	      "Webhooks:\n"
	      "  webhook add                subscribe a URL to events\n"
	      "  webhook list|get|pause|resume|delete\n"
	      "\n"
	      "Events and deliveries:\n"
	      "  send EVENT                 publish an event\n"
	      "  deliveries                 list deliveries and their state\n"
	      "  attempts DELIVERY_ID       every try of one delivery\n"
	      "  retry DELIVERY_ID          try a delivery again now\n"
	      "  replay WEBHOOK_ID          deliver past events again\n"
	      "\n"
	      "Receiving webhooks:\n"
	      "  source add                 a URL /in/<id> that receives a sender's webhooks\n"
	      "  source list|get|delete\n"
	      "  route add|list|test        what received events fire (test: a dry run)\n"
	      "  receipts                   list what the sources received\n"
	      "  receipt ID                 one received request: body, entity, deliveries\n"
	      "  flow validation            Gupy's validation flow (exam platform, tags,\n"
	      "                             comment, reproval) set up in one step\n"
	      "\n"
	      "ATS and job board APIs:\n"
	      "  connection create          an API's base URL and credentials, for route actions\n"
	      "  connection list|get|patch|delete\n"
	      "  reconciliation create      recover lost Gupy moves from Gupy's lists\n"
	      "  reconciliation list|get|patch|delete|run|runs\n"
	      "\n"
	      "Receivers:\n"
	      "  verify                     check (or make) a webhook signature offline\n"
	      "\n"
	      "Verbs that talk to a server read GANCHO_URL (default " CLI_DEFAULT_URL ")\n"
	      "and GANCHO_TOKEN (GANCHO_ADMIN_TOKEN for admin calls); --url/--server and\n"
	      "--token override them, --json prints the server's answer as it is.\n"
	      "Run 'gancho <verb> --help' for a verb's options.\n",
	      out);
}

int cli_main(int argc, char **argv)
{
	const struct cli_verb *v;
	int rc;

	if (argc < 1 || !argv[0]) {
		cli_usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		/* "gancho help VERB" is "gancho VERB --help". */
		if (!strcmp(argv[0], "help") && argc > 1) {
			char *args[] = {argv[1], "--help", NULL};
			return cli_main(2, args);
		}
		cli_usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[0], "--version") || !strcmp(argv[0], "version")) {
		printf("gancho %s\n", GANCHO_VERSION);
		return CLI_OK;
	}
	for (v = cli_verbs; v->name; v++)
		if (!strcmp(v->name, argv[0]))
			break;
	if (!v->name) {
		char safe[64];
		cli_safe(argv[0], safe, sizeof(safe));
		fprintf(stderr, "gancho: unknown verb '%s'\nTry 'gancho --help'.\n", safe);
		return CLI_USAGE;
	}
	/* Once per process, before any handle: libcurl's rule. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "error: internal: cannot initialise libcurl\n");
		return CLI_FAIL;
	}
	rc = v->run(argc, argv);
	curl_global_cleanup();
	fflush(stdout);
	return rc;
}

/* ---- option parsing ------------------------------------------------------ */

void cli_strv_free(struct cli_strv *sv)
{
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	char msg[512], safe[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_safe(msg, safe, sizeof(safe));
	fprintf(stderr, "gancho %s: %s\nTry 'gancho %s --help'.\n", verb, safe, verb);
	return CLI_USAGE;
}

long cli_parse_uint(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	return v;
}

/* cli_find_opt: the entry named by arg's first n bytes, or NULL. */
static const struct cli_option *cli_find_opt(const struct cli_option *opts, const char *arg,
                                             size_t n)
{
	for (; opts && opts->name; opts++) {
		if (strlen(opts->name) == n && !strncmp(opts->name, arg, n))
			return opts;
		if (opts->alias && strlen(opts->alias) == n && !strncmp(opts->alias, arg, n))
			return opts;
	}
	return NULL;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli_conn *conn,
              const char **pos, int *npos)
{
	struct cli_option common[5];
	bool dashdash = false;

	*npos = 0;
	memset(common, 0, sizeof(common));
	if (conn) {
		const char *env = getenv("GANCHO_URL");
		conn->url = env && *env ? env : CLI_DEFAULT_URL;
		conn->token = NULL;
		conn->json = false;
		conn->admin = false;
		common[0] = (struct cli_option){"--url", NULL, &conn->url, NULL, NULL};
		common[1] = (struct cli_option){"--server", NULL, &conn->url, NULL, NULL};
		common[2] = (struct cli_option){"--token", NULL, &conn->token, NULL, NULL};
		common[3] = (struct cli_option){"--json", NULL, NULL, &conn->json, NULL};
	}

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_option *o;
		const char *eq, *val;
		size_t n;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (*npos >= spec->maxpos)
				return cli_usage_error(spec->name, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(spec->usage, stdout);
			return -1;
		}
		/* "--name=value" as well as "--name value". */
		eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
		n = eq ? (size_t)(eq - a) : strlen(a);
		o = cli_find_opt(spec->opts, a, n);
		if (!o)
			o = cli_find_opt(common, a, n);
		if (!o)
			return cli_usage_error(spec->name, "unknown option '%.*s'", (int)n, a);
		if (o->flag) {
			if (eq)
				return cli_usage_error(spec->name, "option %s takes no value",
				                       o->name);
			*o->flag = true;
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return cli_usage_error(spec->name, "option %s needs a value",
				                       o->name);
			val = argv[++i];
		}
		if (o->val) {
			*o->val = val;
		} else if (o->list) {
			const char **nv =
			    realloc(o->list->v, sizeof(*nv) * (size_t)(o->list->n + 1));
			if (!nv) {
				fprintf(stderr, "error: internal: out of memory\n");
				return CLI_FAIL;
			}
			nv[o->list->n++] = val;
			o->list->v = nv;
		}
	}
	if (*npos < spec->minpos)
		return cli_usage_error(spec->name, "missing argument");
	if (conn && (!conn->url || !*conn->url))
		return cli_usage_error(spec->name, "empty server URL");
	return CLI_OK;
}

/* ---- text helpers --------------------------------------------------------- */

void cli_safe(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	if (!outsz)
		return;
	for (const unsigned char *p = (const unsigned char *)s; p && *p && o + 1 < outsz; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			/* Keeps a multi-line message on one readable line. */
			out[o++] = ' ';
		} else if (*p < 0x20 || *p == 0x7f) {
			out[o++] = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls, which some terminals obey. */
			out[o++] = '?';
			p++;
		} else {
			out[o++] = (char)*p;
		}
	}
	/* Do not leave half a UTF-8 sequence at the end of a truncated copy. */
	if (o + 1 >= outsz) {
		size_t k = o;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0xc0)
			o = k - 1;
	}
	out[o] = '\0';
}

void cli_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_append(b, e, 3);
		}
	}
}

void cli_query_add(struct buf *b, const char *k, const char *v)
{
	if (!v)
		return;
	buf_putc(b, strchr(b->data ? b->data : "", '?') ? '&' : '?');
	buf_puts(b, k);
	buf_putc(b, '=');
	cli_escape(b, v);
}

const char *cli_jtext(json_t *o, const char *key, char *tmp, size_t tmpsz)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	char *dump;

	if (!v || json_is_null(v))
		return "-";
	switch (json_typeof(v)) {
	case JSON_STRING: return json_string_value(v);
	case JSON_INTEGER:
		snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return tmp;
	case JSON_REAL: snprintf(tmp, tmpsz, "%g", json_real_value(v)); return tmp;
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_ARRAY: {
		size_t i, o2 = 0;
		json_t *e;
		bool strings = true;
		json_array_foreach (v, i, e)
			if (!json_is_string(e))
				strings = false;
		if (strings) {
			tmp[0] = '\0';
			json_array_foreach (v, i, e) {
				int w = snprintf(tmp + o2, tmpsz - o2, "%s%s", i ? "," : "",
				                 json_string_value(e));
				if (w < 0 || (size_t)w >= tmpsz - o2)
					break;
				o2 += (size_t)w;
			}
			return tmp;
		}
		break;
	}
	default: break;
	}
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(tmp, tmpsz, "%s", dump ? dump : "?");
	free(dump);
	return tmp;
}

int cli_read_file(const char *path, struct buf *b)
{
	char chunk[16384];
	size_t n;
	int rc = 0;
	FILE *f;

	errno = 0;
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	if (ferror(f) || b->oom)
		rc = -1;
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ---- tables --------------------------------------------------------------- */

void cli_table_init(struct cli_table *t, int ncols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	if (header)
		cli_table_add(t, header);
}

void cli_table_add(struct cli_table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, sizeof(*nc) * cap * (size_t)t->ncols);
		if (!nc)
			return; /* the row is lost; the table still prints */
		t->cells = nc;
		t->cap = cap;
	}
	for (int c = 0; c < t->ncols; c++) {
		const char *s = row[c] ? row[c] : "-";
		size_t sz = strlen(s) + 1;
		char *cell = malloc(sz);
		if (cell)
			cli_safe(s, cell, sz);
		t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = cell;
	}
	t->nrows++;
}

/* cli_width: columns taken by a UTF-8 string (one per code point: good
 * enough for ids, statuses and event names). */
static size_t cli_width(const char *s)
{
	size_t w = 0;
	for (; s && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t *w = calloc((size_t)t->ncols, sizeof(*w));

	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t cw = cli_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
			if (!s)
				s = "?";
			fputs(s, out);
			if (c + 1 < t->ncols)
				for (size_t k = cli_width(s); k < w[c] + 2; k++)
					fputc(' ', out);
		}
		fputc('\n', out);
	}
	free(w);
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void cli_table_items(json_t *items, int ncols, const char *const *head, const char *const *keys)
{
	struct cli_table t;
	const char *row[CLI_TABLE_MAX_COLS];
	char tmp[CLI_TABLE_MAX_COLS][256];
	size_t i;
	json_t *it;

	if (ncols > CLI_TABLE_MAX_COLS)
		ncols = CLI_TABLE_MAX_COLS;
	cli_table_init(&t, ncols, head);
	json_array_foreach (items, i, it) {
		for (int c = 0; c < ncols; c++) {
			/* "a.b": member b of the object at a */
			const char *dot = strchr(keys[c], '.');
			json_t *o = it;
			const char *k = keys[c];
			if (dot) {
				char outer[64];
				snprintf(outer, sizeof(outer), "%.*s", (int)(dot - keys[c]),
				         keys[c]);
				o = json_object_get(it, outer);
				k = dot + 1;
			}
			row[c] = json_is_object(o) ? cli_jtext(o, k, tmp[c], sizeof(tmp[c])) : "-";
		}
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* ---- HTTP ------------------------------------------------------------------ */

void cli_resp_free(struct cli_resp *r)
{
	buf_free(&r->body);
	r->status = 0;
}

static size_t cli_on_data(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = size * n;

	if (b->len + len > CLI_MAX_ANSWER)
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	buf_append(b, p, len);
	return b->oom ? 0 : len;
}

/* cli_report: print a non-2xx answer as "error: <code>: <message>". */
static void cli_report(const struct cli_resp *r)
{
	char code[64], msg[512];
	json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	json_t *e = json_object_get(root, "error");
	const char *jc = json_string_value(json_object_get(e, "code"));
	const char *jm = json_string_value(json_object_get(e, "message"));

	if (jc) {
		cli_safe(jc, code, sizeof(code));
		cli_safe(jm ? jm : "", msg, sizeof(msg));
	} else {
		/* Not one of ours (a proxy in between?): show the status and the
		 * start of whatever came back. */
		snprintf(code, sizeof(code), "http_%ld", r->status);
		cli_safe(r->body.len ? r->body.data : "no body", msg, 200);
	}
	fprintf(stderr, "error: %s: %s\n", code, msg);
	json_decref(root);
}

int cli_call(struct cli_conn *c, const char *method, const char *path, const char *body, size_t len,
             const char *const *headers, struct cli_resp *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL, *nl;
	struct buf url, auth;
	const char *token = c->token;
	bool built = true;
	CURLcode cc;
	CURL *h;
	size_t blen;

	r->status = 0;
	buf_init(&r->body);
	if (!path) {
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	if (!token || !*token)
		token = getenv(c->admin ? "GANCHO_ADMIN_TOKEN" : "GANCHO_TOKEN");
	if (!token || !*token) {
		fprintf(stderr, "gancho: no %s token: set %s or pass --token\n",
		        c->admin ? "admin" : "API",
		        c->admin ? "GANCHO_ADMIN_TOKEN" : "GANCHO_TOKEN");
		return CLI_USAGE;
	}
	/* A newline in a header value would let it smuggle another header. */
	if (strpbrk(token, "\r\n")) {
		fprintf(stderr, "gancho: the token holds a line break\n");
		return CLI_USAGE;
	}

	buf_init(&url);
	blen = strlen(c->url);
	while (blen > 0 && c->url[blen - 1] == '/')
		blen--;
	buf_append(&url, c->url, blen);
	buf_puts(&url, path);
	buf_init(&auth);
	buf_printf(&auth, "Authorization: Bearer %s", token);

	h = curl_easy_init();
	if (!h || url.oom || auth.oom) {
		fprintf(stderr, "error: internal: out of memory\n");
		curl_easy_cleanup(h);
		buf_free(&url);
		buf_free(&auth);
		return CLI_FAIL;
	}

#define CLI_HDR(s)                                                                                 \
	do {                                                                                       \
		nl = curl_slist_append(hl, (s));                                                   \
		if (nl)                                                                            \
			hl = nl;                                                                   \
		else                                                                               \
			built = false;                                                             \
	} while (0)
	CLI_HDR(auth.data);
	CLI_HDR("Accept: application/json");
	/* curl would otherwise wait for "100 Continue" before larger bodies. */
	CLI_HDR("Expect:");
	if (body)
		CLI_HDR("Content-Type: application/json");
	for (int i = 0; headers && headers[i]; i++)
		CLI_HDR(headers[i]);
#undef CLI_HDR

	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gancho-cli/" GANCHO_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	/* A redirect would carry the bearer token somewhere else; so would a
	 * proxy named in the environment (http_proxy, ALL_PROXY): only --url. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cli_on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	if (body || !strcmp(method, "POST")) {
		/* POSTFIELDS with an explicit size: the body may hold any bytes. */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

	cc = built ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	/* auth held the token; do not leave it lying in freed memory. */
	if (auth.data)
		memset(auth.data, 0, auth.cap);
	buf_free(&auth);

	if (cc != CURLE_OK) {
		char where[256], why[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE];
		/* A server URL may carry user-info: show it without the password. */
		redact_url(url.data, shown, sizeof(shown));
		cli_safe(shown, where, sizeof(where));
		redact_scrub(errbuf[0] ? errbuf : curl_easy_strerror(cc), url.data, shown,
		             sizeof(shown));
		cli_safe(shown, why, sizeof(why));
		fprintf(stderr, "error: unreachable: %s %s: %s\n", method, where, why);
		buf_free(&url);
		return CLI_FAIL;
	}
	buf_free(&url);
	if (r->status < 200 || r->status > 299) {
		cli_report(r);
		return CLI_FAIL;
	}
	return CLI_OK;
}

json_t *cli_json_parse(const struct cli_resp *r)
{
	json_error_t je;
	json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);

	if (!root) {
		char msg[160];
		cli_safe(je.text, msg, sizeof(msg));
		fprintf(stderr, "error: bad_answer: the server's answer is not JSON: %s\n", msg);
	}
	return root;
}

void cli_print_raw(const struct cli_resp *r)
{
	if (r->body.len)
		fwrite(r->body.data, 1, r->body.len, stdout);
	if (!r->body.len || r->body.data[r->body.len - 1] != '\n')
		fputc('\n', stdout);
}

int cli_list(struct cli_conn *c, const char *path, bool all, json_t **out)
{
	json_t *merged = json_object(), *items = json_array();
	char *cursor = NULL;
	int rc = CLI_OK;
	bool more = false;

	*out = NULL;
	if (!merged || !items) {
		json_decref(merged);
		json_decref(items);
		fprintf(stderr, "error: internal: out of memory\n");
		return CLI_FAIL;
	}
	json_object_set_new(merged, "data", items);
	for (;;) {
		struct cli_resp r;
		struct buf p;
		json_t *page, *next;
		const char *nc;

		buf_init(&p);
		buf_puts(&p, path);
		if (cursor) {
			buf_puts(&p, strchr(path, '?') ? "&cursor=" : "?cursor=");
			cli_escape(&p, cursor);
		}
		rc = p.oom ? CLI_FAIL : cli_call(c, "GET", p.data, NULL, 0, NULL, &r);
		buf_free(&p);
		if (rc != CLI_OK) {
			cli_resp_free(&r);
			break;
		}
		if (c->json && !all) {
			/* One page: the server's bytes, as promised by --json. */
			cli_print_raw(&r);
			cli_resp_free(&r);
			break;
		}
		page = cli_json_parse(&r);
		cli_resp_free(&r);
		if (!page || !json_is_array(json_object_get(page, "data"))) {
			if (page)
				fprintf(stderr,
				        "error: bad_answer: no \"data\" list in the answer\n");
			json_decref(page);
			rc = CLI_FAIL;
			break;
		}
		json_array_extend(items, json_object_get(page, "data"));
		next = json_object_get(page, "nextCursor");
		nc = json_string_value(next);
		/* A cursor that does not move would loop for ever. */
		if (nc && *nc && (!cursor || strcmp(cursor, nc))) {
			char *dup = strdup(nc);
			free(cursor);
			cursor = dup;
			more = dup != NULL;
		} else {
			more = false;
		}
		json_decref(page);
		if (!all || !more)
			break;
	}
	json_object_set_new(merged, "nextCursor",
	                    more && cursor ? json_string(cursor) : json_null());
	free(cursor);

	if (rc != CLI_OK || (c->json && !all)) {
		json_decref(merged);
		return rc;
	}
	if (c->json) {
		char *s = json_dumps(merged, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		json_decref(merged);
		return CLI_OK;
	}
	if (more)
		fprintf(stderr, "(more results: use --all, or a larger --limit)\n");
	*out = merged;
	return CLI_OK;
}

/* ---- the list, get and delete verbs of every kind ------------------------ */

int cli_list_verb(int argc, char **argv, const char *name, const char *usage, const char *path,
                  json_t **out)
{
	const char *limit = NULL, *pos[1];
	bool all = false;
	struct cli_conn conn;
	struct buf p;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--limit", "-n", &limit, NULL, NULL},
	    {"--all", NULL, NULL, &all, NULL},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {name, usage, opts, 0, 0};

	*out = NULL;
	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (limit && cli_parse_uint(limit, 1, 500) < 0)
		return cli_usage_error(spec.name, "--limit wants 1-500, not '%s'", limit);
	buf_init(&p);
	buf_puts(&p, path);
	if (limit)
		buf_printf(&p, "?limit=%ld", cli_parse_uint(limit, 1, 500));
	rc = cli_list(&conn, p.data, all, out);
	buf_free(&p);
	return rc;
}

int cli_one_verb(int argc, char **argv, const char *name, const char *usage, const char *method,
                 const char *body, const char *base, void (*show)(json_t *ans, const char *method))
{
	const char *pos[1];
	struct cli_conn conn;
	struct cli_resp r;
	struct buf path;
	json_t *ans;
	int npos, rc;
	const struct cli_spec spec = {name, usage, NULL, 1, 1};

	rc = cli_parse(&spec, argc, argv, &conn, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (!pos[0][0])
		return cli_usage_error(spec.name, "ID must not be empty");
	buf_init(&path);
	buf_puts(&path, base);
	cli_escape(&path, pos[0]);
	rc = cli_call(&conn, method, path.data, body, body ? strlen(body) : 0, NULL, &r);
	buf_free(&path);
	if (rc != CLI_OK) {
		cli_resp_free(&r);
		return rc;
	}
	if (!strcmp(method, "DELETE")) {
		char id[128];
		cli_safe(pos[0], id, sizeof(id));
		if (conn.json && r.body.len)
			cli_print_raw(&r);
		else if (!conn.json)
			printf("deleted %s\n", id);
	} else if (conn.json) {
		cli_print_raw(&r);
	} else if ((ans = cli_json_parse(&r)) != NULL) {
		show(ans, method);
		json_decref(ans);
	} else {
		rc = CLI_FAIL;
	}
	cli_resp_free(&r);
	return rc;
}

void cli_show_fields(json_t *o, size_t width)
{
	struct cli_table t;
	const char *key;
	char *tmp = malloc(width);
	json_t *v;

	if (!tmp) {
		fprintf(stderr, "error: internal: out of memory\n");
		return;
	}
	cli_table_init(&t, 2, NULL);
	json_object_foreach (o, key, v) {
		const char *row[2] = {key, cli_jtext(o, key, tmp, width)};
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	free(tmp);
}
