/*
 * serve: see serve.h.
 *
 * Start order: store (migrations) → registry → crash guard (a delivery that
 * crashed the last run is set aside, crashguard.h) → engine (committer, dispatcher,
 * which begins by recovering every open delivery) → reconciliation runner
 * (reconcile/runner.h: it submits to the engine) → API → HTTP. Signals are
 * blocked in every thread and taken here with sigwait, so no handler runs in
 * the middle of a commit.
 *
 * Stop order is the reverse, so nothing acknowledged is lost: stop accepting,
 * wait for ingests already queued to be committed and answered, stop HTTP,
 * then the reconciliation runner (a run on its way stops, its receipts
 * committed), then the engine (in-flight deliveries get a grace period; their
 * outcomes are committed; anything unfinished stays pending for the next start).
 */
#include "server/serve.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "core/netaddr.h"
#include "deliver/crashguard.h"
#include "deliver/engine.h"
#include "reconcile/runner.h"
#include "registry/registry.h"
#include "server/http.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/redact.h"

/* Descriptors kept for the store, the event loops, logs and libraries. */
#define SERVE_FD_RESERVE 64

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: gancho serve [--listen HOST:PORT] [--db URL] [--dev] [options]\n"
	    "\n"
	    "Run the webhook gateway: the HTTP API and the delivery engine.\n"
	    "\n"
	    "  --listen HOST:PORT     where the API listens (GANCHO_LISTEN, default "
	    "127.0.0.1:8080)\n"
	    "  --db URL               sqlite:PATH (GANCHO_DB, default sqlite:./gancho.db)\n"
	    "  --dev                  allow http:// and private/loopback targets (GANCHO_DEV=1)\n"
	    "  --max-body BYTES       largest API request body (GANCHO_MAX_BODY, default 1048576;\n"
	    "                         a source's /in/{id} has its own maxBodyBytes)\n"
	    "  --deactivate-after S   deactivate a webhook whose every attempt failed for S "
	    "seconds\n"
	    "                         (GANCHO_DEACTIVATE_AFTER, default 604800 = 7 days)\n"
	    "  --window N             open deliveries kept in memory (default 20000)\n"
	    "  --max-inflight N       requests in flight to receivers, shared fairly between\n"
	    "                         companies and webhooks (default 1024)\n"
	    "  --threads N            HTTP threads (default 2)\n"
	    "  --trusted-proxy CIDR   a proxy in front of gancho whose X-Forwarded-For names\n"
	    "                         the client of requests to /in/{id}; repeat it, or give\n"
	    "                         a comma-separated list (GANCHO_TRUSTED_PROXIES)\n"
	    "  --log-level LEVEL      debug|info|warn|error (GANCHO_LOG_LEVEL, default info)\n"
	    "  --crash-file PATH      marker of a delivery gancho crashed on (GANCHO_CRASH_FILE,\n"
	    "                         default PATH.crashed for sqlite:PATH, else "
	    "./gancho.crashed)\n"
	    "\n"
	    "The admin token that creates companies comes from GANCHO_ADMIN_TOKEN.\n"
	    "SIGTERM or SIGINT stops taking work, finishes what is in flight, and exits 0.\n");
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static int parse_num(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr,
		        "gancho serve: %s: expected an integer from %lld to %lld, got \"%s\"\n",
		        opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* serve_fd_limit: raise the soft limit on open files to the hard one, and if
 * it is still small, keep the dispatcher's requests in flight (a socket
 * each) to half of what is left after a reserve, so deliveries can never
 * take the descriptors the API, its clients and the store need. */
static void serve_fd_limit(struct engine_config *ec)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t before = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = before;
	}
	long long nofile = rl.rlim_cur == RLIM_INFINITY ? 1LL << 30 : (long long)rl.rlim_cur;
	long long cap = (nofile - SERVE_FD_RESERVE) / 2;
	if (cap < 16)
		cap = 16;
	if (ec->max_inflight > cap)
		ec->max_inflight = (int)cap;
	log_info("fd_limit", "nofile=%lld was=%lld max_inflight=%d", nofile,
	         before == RLIM_INFINITY ? -1LL : (long long)before, ec->max_inflight);
}

/* trusted_add: the CIDRs of a comma-separated list into l; 0, or 2 with the
 * reason on stderr. */
static int trusted_add(struct netaddr_list *l, const char *opt, const char *list)
{
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		struct gerr err = {0};
		if (netaddr_list_add(l, p, n, false, opt, &err)) {
			fprintf(stderr, "gancho serve: %s\n", err.msg);
			return 2;
		}
		p += strcspn(p, ",");
		if (!*p)
			return 0;
		p++;
	}
}

int serve_main(int argc, char **argv)
{
	const char *listen = env_or("GANCHO_LISTEN", "127.0.0.1:8080");
	const char *db = env_or("GANCHO_DB", "sqlite:./gancho.db");
	bool dev = strcmp(env_or("GANCHO_DEV", "0"), "1") == 0;
	long long max_body = 1048576, deact = 604800, window = 20000, threads = 2, inflight = 1024;
	const char *lvl = env_or("GANCHO_LOG_LEVEL", "info");
	const char *crash_file = env_or("GANCHO_CRASH_FILE", NULL);
	if (parse_num("GANCHO_MAX_BODY", env_or("GANCHO_MAX_BODY", "1048576"), 1024, 64LL << 20,
	              &max_body) ||
	    parse_num("GANCHO_DEACTIVATE_AFTER", env_or("GANCHO_DEACTIVATE_AFTER", "604800"), 1,
	              365LL * 86400, &deact))
		return 2;

	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"db", required_argument, NULL, 'd'},
	    {"dev", no_argument, NULL, 'D'},
	    {"max-body", required_argument, NULL, 'b'},
	    {"deactivate-after", required_argument, NULL, 'a'},
	    {"window", required_argument, NULL, 'w'},
	    {"max-inflight", required_argument, NULL, 'm'},
	    {"threads", required_argument, NULL, 't'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"crash-file", required_argument, NULL, 'C'},
	    {"trusted-proxy", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct gerr err = {0};
	/* --trusted-proxy values, made into a list once the options are read */
	const char *proxies[33];
	int nproxies = 0;
	const char *trusted_env = env_or("GANCHO_TRUSTED_PROXIES", NULL);
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'd': db = optarg; break;
		case 'D': dev = true; break;
		case 'b':
			if (parse_num("--max-body", optarg, 1024, 64LL << 20, &max_body))
				return 2;
			break;
		case 'a':
			if (parse_num("--deactivate-after", optarg, 1, 365LL * 86400, &deact))
				return 2;
			break;
		case 'w':
			if (parse_num("--window", optarg, 100, 10000000, &window))
				return 2;
			break;
		case 'm':
			if (parse_num("--max-inflight", optarg, 1, 65536, &inflight))
				return 2;
			break;
		case 't':
			if (parse_num("--threads", optarg, 1, 64, &threads))
				return 2;
			break;
		case 'L': lvl = optarg; break;
		case 'C': crash_file = optarg; break;
		case 'P':
			if (nproxies == 32) {
				fprintf(stderr,
				        "gancho serve: --trusted-proxy: at most 32 times (a value"
				        " may list several, comma-separated)\n");
				return 2;
			}
			proxies[nproxies++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gancho serve: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	{
		char host[256], port[8];
		if (http_listen_parse(listen, host, sizeof(host), port, sizeof(port), &err)) {
			fprintf(stderr, "gancho serve: %s\n", err.msg);
			return 2;
		}
	}
	/* Connection time limits, for tests that cannot wait a minute (not in
	 * the usage: the defaults are what a deployment wants). */
	long long idle_ms = 0, head_ms = 0, write_ms = 0;
	if (parse_num("GANCHO_HTTP_IDLE_MS", env_or("GANCHO_HTTP_IDLE_MS", "0"), 0, 3600000,
	              &idle_ms) ||
	    parse_num("GANCHO_HTTP_HEAD_MS", env_or("GANCHO_HTTP_HEAD_MS", "0"), 0, 3600000,
	              &head_ms) ||
	    parse_num("GANCHO_HTTP_WRITE_MS", env_or("GANCHO_HTTP_WRITE_MS", "0"), 0, 3600000,
	              &write_ms))
		return 2;
	int level = log_parse_level(lvl);
	if (level < 0) {
		fprintf(stderr, "gancho serve: --log-level: debug, info, warn or error\n");
		return 2;
	}
	log_set_level(level);
	struct netaddr_list *trusted = netaddr_list_new();
	if (!trusted) {
		fprintf(stderr, "gancho serve: out of memory\n");
		return 1;
	}
	int bad = trusted_env ? trusted_add(trusted, "GANCHO_TRUSTED_PROXIES", trusted_env) : 0;
	for (int i = 0; i < nproxies && !bad; i++)
		bad = trusted_add(trusted, "--trusted-proxy", proxies[i]);
	if (bad) {
		netaddr_list_free(trusted);
		return 2;
	}

	/* Signals go to sigwait below, never to a thread in the middle of work. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	int code = 1;
	struct store *boot = NULL;
	struct registry *reg = registry_new();
	struct engine *eng = NULL;
	struct runner *runner = NULL;
	struct api *api = NULL;
	struct http_server *http = NULL;
	if (!reg || crashguard_install(db, crash_file, &err) || store_open(db, &boot, &err) ||
	    registry_load(reg, boot, &err) || crashguard_recover(boot, &err))
		goto out;
	store_close(boot);
	boot = NULL;

	struct engine_config ec;
	engine_config_default(&ec);
	ec.db_url = db;
	ec.allow_private = dev;
	ec.deactivate_after_ms = deact * 1000;
	ec.window = (int)window;
	ec.max_inflight = (int)inflight;
	serve_fd_limit(&ec);
	if (engine_start(&ec, reg, &eng, &err))
		goto out;
	struct runner_config rc = {.db_url = db, .allow_private = dev};
	if (runner_start(&rc, reg, eng, &runner, &err))
		goto out;
	const char *admin = getenv("GANCHO_ADMIN_TOKEN");
	struct api_config ac = {
	    .dev = dev, .admin_token = admin, .db_url = db, .trusted_proxies = trusted};
	if (api_new(&ac, reg, eng, &api, &err))
		goto out;
	struct http_config hc = {.listen = listen,
	                         .max_body = (size_t)max_body,
	                         .threads = (int)threads,
	                         .idle_ms = (int)idle_ms,
	                         .head_ms = (int)head_ms,
	                         .write_ms = (int)write_ms};
	if (http_start(&hc, api, &http, &err))
		goto out;

	char shown_db[512]; /* the password never reaches a log line */
	redact_url(db, shown_db, sizeof(shown_db));
	log_info("listening", "addr=%s db=%s dev=%d version=%s", listen, shown_db, dev,
	         GANCHO_VERSION);
	if (!admin || !*admin)
		log_warn("no_admin_token",
		         "note=\"GANCHO_ADMIN_TOKEN is unset: POST /api/v1/companies is refused;"
		         " use 'gancho company create NAME' instead\"");
	if (isatty(STDERR_FILENO))
		fprintf(
		    stderr,
		    "\ngancho is running on http://%s  (Ctrl-C stops it)\n"
		    "  gancho company create ACME --db %s      # prints a token\n"
		    "  export GANCHO_TOKEN=<token>\n"
		    "  gancho webhook add --url https://example.com/hook --event candidate.hired\n"
		    "  gancho send candidate.hired --data '{\"candidate\":{\"name\":\"John\"}}'\n"
		    "  gancho deliveries\n\n",
		    listen, shown_db);

	int sig = 0;
	sigwait(&sigs, &sig);
	log_info("stopping", "signal=%d", sig);
	http_quiesce(http);
	/* Everything already queued gets committed and answered before HTTP stops. */
	int64_t deadline = clock_mono_ms() + 30000;
	while (http_pending(http) > 0 && clock_mono_ms() < deadline)
		usleep(2000);
	http_stop(http);
	http = NULL;
	runner_stop(runner);
	runner = NULL;
	engine_stop(eng);
	eng = NULL;
	code = 0;
	log_info("stopped", "code=%d", code);
out:
	if (code && err.msg[0])
		fprintf(stderr, "gancho serve: %s\n", err.msg);
	http_stop(http);
	runner_stop(runner);
	engine_stop(eng);
	api_free(api);
	store_close(boot);
	registry_free(reg);
	netaddr_list_free(trusted);
	curl_global_cleanup();
	return code;
}
