/*
 * verify: `gancho verify`, checking a received webhook's signature offline,
 * or (--sign) computing the signature gancho would send, so a receiver's
 * author can test their own verification against ours.
 *
 *   --kind secret    Acesso-Signature: base64(HMAC-SHA256(secret, body))
 *   --kind standard  Standard Webhooks: webhook-signature "v1,<b64>" over
 *                    "<webhook-id>.<webhook-timestamp>.<body>", key from
 *                    "whsec_<base64>"; the header may list several
 *                    signatures (secret rotation), any one valid is enough.
 *
 * Inbound (--verification JSON): a request a sender made to one of gancho's
 * sources, checked offline with the same verifier /in/{id} runs (core/
 * verifier): the verification object exactly as a source takes it (kinds
 * none, basic, apiKey, hmac, standard; presets acesso, github, svix) and the
 * request's headers as captured (--header 'Name: value', repeated). Prints
 * "valid" or "invalid: <reason>" (the reason the source's rejections list
 * would show).
 *
 * The body must be the exact bytes received, hence a file or standard
 * input rather than an argument. Comparisons are constant-time (sign.c),
 * and the timestamp must be within --tolerance of now, both ways, so a
 * captured message cannot be replayed later. The secret may come from
 * GANCHO_VERIFY_SECRET instead of --secret, to keep it out of shell history.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "core/sign.h"
#include "core/verifier.h"
#include "util/clock.h"

/* Standard Webhooks' recommended tolerance. */
#define CLI_VERIFY_TOLERANCE 300

static const char cli_verify_usage[] =
    "usage: gancho verify --kind secret --secret S --signature SIG [--body-file FILE|-]\n"
    "       gancho verify --kind standard --secret whsec_... --signature 'v1,... [v1,...]'\n"
    "                     --id MSGID --timestamp TS [--body-file FILE|-] [--tolerance SECONDS]\n"
    "       gancho verify --kind secret|standard --secret S [--id MSGID --timestamp TS]\n"
    "                     [--body-file FILE|-] --sign\n"
    "\n"
    "Check the signature of a webhook you received, without any server: prints\n"
    "\"valid\" (exit 0) or \"invalid\" (exit 1). With --sign, print the signature\n"
    "gancho would send for that body instead.\n"
    "  --kind secret        Acesso-Signature: base64 HMAC-SHA256 of the body\n"
    "  --kind standard      Standard Webhooks (webhook-id, webhook-timestamp,\n"
    "                       webhook-signature headers)\n"
    "  --secret S           the shared secret (default: $GANCHO_VERIFY_SECRET)\n"
    "  --signature SIG      the signature header's value as received\n"
    "  --id MSGID           standard: the webhook-id header\n"
    "  --timestamp TS       standard: the webhook-timestamp header (unix seconds)\n"
    "  --body-file FILE     the exact body received ('-' or absent: standard input)\n"
    "  --tolerance SECONDS  standard: how far TS may be from now (default 300)\n"
    "  --sign               print the signature instead of checking one\n"
    "\n"
    "       gancho verify --verification JSON --header 'Name: value' [--header ...]\n"
    "                     [--body-file FILE|-]\n"
    "\n"
    "Check a request a sender made to a gancho source, as /in/{id} would: JSON is\n"
    "the source's \"verification\" object (kind none|basic|apiKey|hmac|standard, or\n"
    "preset acesso|github|svix, with its secret), the headers as captured.\n";

/* cli_trim: s without surrounding blanks, in place (headers pasted from
 * logs often carry a trailing newline or space). */
static char *cli_trim(char *s)
{
	size_t n = strlen(s);
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
		s++;
		n--;
	}
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* cli_verify_secret: --kind secret. */
static int cli_verify_secret(const char *secret, const char *sig, bool sign, const struct buf *body)
{
	char want[SIGN_B64_LEN];
	bool ok;

	if (sign_acesso(secret, body->data, body->len, want) < 0) {
		fprintf(stderr, "error: internal: cannot compute the signature\n");
		return CLI_FAIL;
	}
	if (sign) {
		puts(want);
		return CLI_OK;
	}
	ok = sign_equal(sig, strlen(sig), want, strlen(want));
	memset(want, 0, sizeof(want));
	puts(ok ? "valid" : "invalid");
	return ok ? CLI_OK : CLI_FAIL;
}

/* cli_verify_standard: --kind standard. */
static int cli_verify_standard(const char *secret, const char *sig, const char *id, const char *ts,
                               const char *tolerance, bool sign, const struct buf *body)
{
	unsigned char key[SIGN_KEY_MAX];
	const unsigned char *keys[1] = {key};
	size_t keylens[1];
	long tol = CLI_VERIFY_TOLERANCE;
	int64_t now = clock_now_ms() / 1000, tsv;
	int n, rc = CLI_FAIL;
	bool ok;

	if (!id || !ts)
		return cli_usage_error("verify", "--kind standard needs --id and --timestamp");
	/* Digits only, as in the header: sign.c signs the text as given. */
	if (cli_parse_uint(ts, 0, LONG_MAX) < 0)
		return cli_usage_error("verify", "--timestamp wants unix seconds, not '%s'", ts);
	tsv = cli_parse_uint(ts, 0, LONG_MAX);
	if (tolerance && (tol = cli_parse_uint(tolerance, 0, LONG_MAX)) < 0)
		return cli_usage_error("verify", "--tolerance wants seconds, not '%s'", tolerance);
	if ((n = sign_standard_key(secret, key)) < 0)
		return cli_usage_error("verify", "the secret is not whsec_<base64>");
	keylens[0] = (size_t)n;

	if (sign) {
		char out[SIGN_STANDARD_LEN];
		if (sign_standard(key, keylens[0], id, tsv, body->data, body->len, out) < 0) {
			fprintf(stderr, "error: internal: cannot compute the signature\n");
		} else {
			puts(out);
			rc = CLI_OK;
		}
	} else {
		ok = sign_standard_verify(keys, keylens, 1, id, ts, body->data, body->len, sig, now,
		                          tol);
		/* Say why when it is the clock, not the signature: the fix differs. */
		if (!ok && (now - tsv > tol || tsv - now > tol))
			fprintf(stderr,
			        "gancho verify: timestamp %s is more than %lds from now (%" PRId64
			        ")\n",
			        ts, tol, now);
		puts(ok ? "valid" : "invalid");
		rc = ok ? CLI_OK : CLI_FAIL;
	}
	memset(key, 0, sizeof(key));
	return rc;
}

/* cli_verify_inbound: the --verification mode (see the top of this file). */
static int cli_verify_inbound(const char *verification, const struct cli_strv *headers,
                              const struct buf *body)
{
	json_error_t je;
	json_t *vbody = json_loads(verification, 0, &je);
	json_t *cfg = NULL;
	struct verifier *v = NULL;
	struct gerr err = {0};
	int rc = CLI_FAIL;
	if (!vbody) {
		rc = cli_usage_error("verify", "--verification: not JSON: %s", je.text);
		goto out;
	}
	if (verifier_config_build(vbody, NULL, &cfg, &err) || verifier_compile(cfg, &v, &err)) {
		rc = cli_usage_error("verify", "%s", err.msg);
		goto out;
	}
	struct verifier_header hs[64];
	char *copies[64];
	int n = 0;
	for (int i = 0; i < headers->n && n < 64; i++) {
		char *line = strdup(headers->v[i]);
		char *colon = line ? strchr(line, ':') : NULL;
		if (!colon) {
			free(line);
			for (int k = 0; k < n; k++)
				free(copies[k]);
			rc = cli_usage_error("verify", "--header %s: expected 'Name: value'",
			                     headers->v[i]);
			goto out;
		}
		*colon = '\0';
		copies[n] = line;
		hs[n].name = cli_trim(line);
		hs[n].value = cli_trim(colon + 1);
		n++;
	}
	struct verifier_result res;
	if (verifier_check(v, hs, (size_t)n, body->data ? body->data : "", body->len,
	                   clock_now_ms() / 1000, &res)) {
		printf("valid\n");
		rc = CLI_OK;
	} else {
		printf("invalid: %s\n", res.reason);
		rc = CLI_FAIL;
	}
	for (int k = 0; k < n; k++)
		free(copies[k]);
out:
	verifier_free(v);
	json_decref(cfg);
	json_decref(vbody);
	return rc;
}

int cli_verify(int argc, char **argv)
{
	const char *kind = NULL, *secret = NULL, *sig = NULL, *id = NULL, *ts = NULL;
	const char *file = NULL, *tolerance = NULL, *verification = NULL, *pos[1];
	struct cli_strv headers = {0};
	char *sigcopy = NULL;
	bool sign = false;
	struct buf body;
	int npos, rc;
	const struct cli_option opts[] = {
	    {"--kind", NULL, &kind, NULL, NULL},
	    {"--secret", NULL, &secret, NULL, NULL},
	    {"--signature", NULL, &sig, NULL, NULL},
	    {"--id", NULL, &id, NULL, NULL},
	    {"--timestamp", NULL, &ts, NULL, NULL},
	    {"--body-file", NULL, &file, NULL, NULL},
	    {"--tolerance", NULL, &tolerance, NULL, NULL},
	    {"--sign", NULL, NULL, &sign, NULL},
	    {"--verification", NULL, &verification, NULL, NULL},
	    {"--header", NULL, NULL, NULL, &headers},
	    {NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_spec spec = {"verify", cli_verify_usage, opts, 0, 0};

	rc = cli_parse(&spec, argc, argv, NULL, pos, &npos);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (verification) {
		if (kind || sign || sig) {
			cli_strv_free(&headers);
			return cli_usage_error(
			    spec.name, "--verification checks a request to a source: without"
			               " --kind, --signature or --sign");
		}
		buf_init(&body);
		if (cli_read_file(file ? file : "-", &body) < 0) {
			rc = cli_usage_error(spec.name, "cannot read %s: %s",
			                     file ? file : "standard input",
			                     errno ? strerror(errno) : "read error");
		} else {
			rc = cli_verify_inbound(verification, &headers, &body);
		}
		buf_free(&body);
		cli_strv_free(&headers);
		return rc;
	}
	if (headers.n) {
		cli_strv_free(&headers);
		return cli_usage_error(spec.name, "--header goes with --verification");
	}
	if (!kind || (strcmp(kind, "secret") && strcmp(kind, "standard")))
		return cli_usage_error(spec.name, "--kind secret or --kind standard is required");
	if (!secret)
		secret = getenv("GANCHO_VERIFY_SECRET");
	if (!secret || !*secret)
		return cli_usage_error(spec.name,
		                       "--secret (or $GANCHO_VERIFY_SECRET) is required");
	if (!sign && !sig)
		return cli_usage_error(spec.name,
		                       "--signature is required (or --sign to make one)");
	if (sign && sig)
		return cli_usage_error(spec.name, "--sign makes a signature; drop --signature");

	buf_init(&body);
	if (cli_read_file(file ? file : "-", &body) < 0) {
		rc =
		    cli_usage_error(spec.name, "cannot read %s: %s", file ? file : "standard input",
		                    errno ? strerror(errno) : "read error");
		buf_free(&body);
		return rc;
	}
	if (sig && !(sigcopy = strdup(sig))) {
		fprintf(stderr, "error: internal: out of memory\n");
		buf_free(&body);
		return CLI_FAIL;
	}
	if (!strcmp(kind, "secret"))
		rc = cli_verify_secret(secret, sigcopy ? cli_trim(sigcopy) : NULL, sign, &body);
	else
		rc = cli_verify_standard(secret, sigcopy ? cli_trim(sigcopy) : NULL, id, ts,
		                         tolerance, sign, &body);
	free(sigcopy);
	buf_free(&body);
	return rc;
}
