/*
 * curl: libcurl alone, for the benchmarks (bench/run, row 1's second reference).
 *
 * Posts the same body N times to URL with libcurl's multi interface, the way
 * gancho's dispatcher delivers: one thread, one CURLM handle, C easy handles
 * that are reused (curl_multi_remove_handle when a transfer is done, then
 * curl_multi_add_handle again for the next one, so the connections stay in
 * the multi handle's cache and are kept alive), and a loop of
 * curl_multi_perform / curl_multi_info_read / curl_multi_poll. Each request is
 *
 *   POST PATH HTTP/1.1
 *   Host: HOST:PORT                                   (libcurl's)
 *   Content-Type: application/json;charset=utf-8
 *   User-Agent: gancho/bench
 *   <each --header line>
 *   Content-Length: L                                 (libcurl's)
 *
 *   <bytes of --body FILE>
 *
 * with "Accept:" and "Expect:" given empty, as gancho does (no Accept header,
 * no 100-continue round trip). Answers are read and discarded. Nothing else is
 * done per transfer (no signing, no store): the figure is the ceiling of
 * gancho's delivery leg on this machine.
 *
 * A transfer fails on a transport error or an answer outside 2xx; failures
 * are counted (the first few printed on stderr) and not retried. The last
 * line on stdout is
 *   sent=N ok=N errors=N elapsed=S rate=R
 * where elapsed runs from the first transfer's start to the last one's end
 * and rate is ok ÷ elapsed (requests a second). Exit status 0 when every
 * transfer got a 2xx, 1 when one did not, 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "readfile.h"

#define SHOW_BAD 3

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: bench_curl --url URL -n N -c C --body FILE [--header 'Name: value']...\n"
	        "\n"
	        "  --url URL              where to POST\n"
	        "  -n, --requests N       transfers to make (default 1000)\n"
	        "  -c, --conns C          concurrent transfers, one easy handle each (default 64)\n"
	        "  --body FILE            the request body\n"
	        "  --header 'Name: value' an extra request header (repeatable)\n");
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The answer's body: read and dropped. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

int main(int argc, char **argv)
{
	const char *url = NULL, *body_path = NULL;
	long long n = 1000;
	int c = 64;
	struct curl_slist *hdrs = NULL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "bench_curl: curl_global_init failed\n");
		return 1;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json;charset=utf-8");
	hdrs = curl_slist_append(hdrs, "User-Agent: gancho/bench");
	hdrs = curl_slist_append(hdrs, "Accept:");
	hdrs = curl_slist_append(hdrs, "Expect:");

	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"requests", required_argument, NULL, 'n'},
	    {"conns", required_argument, NULL, 'c'},
	    {"body", required_argument, NULL, 'b'},
	    {"header", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "n:c:H:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'n': n = atoll(optarg); break;
		case 'c': c = atoi(optarg); break;
		case 'b': body_path = optarg; break;
		case 'H': hdrs = curl_slist_append(hdrs, optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!url || !body_path || n < 1 || c < 1 || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!hdrs) {
		fprintf(stderr, "bench_curl: out of memory\n");
		return 1;
	}
	size_t blen = 0;
	char *body = read_file(body_path, &blen);
	if (!body) {
		fprintf(stderr, "bench_curl: --body %s: %s\n", body_path, strerror(errno));
		return 1;
	}
	if (c > n)
		c = (int)n;
	signal(SIGPIPE, SIG_IGN);

	CURLM *multi = curl_multi_init();
	CURL **easy = calloc((size_t)c, sizeof(*easy));
	if (!multi || !easy) {
		fprintf(stderr, "bench_curl: out of memory\n");
		return 1;
	}
	/* Keep every connection: C handles, C connections in the cache. */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)c);
	for (int i = 0; i < c; i++) {
		CURL *e = curl_easy_init();
		if (!e) {
			fprintf(stderr, "bench_curl: curl_easy_init failed\n");
			return 1;
		}
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		easy[i] = e;
	}

	long long started = 0, done = 0, ok = 0, errors = 0;
	int64_t t0 = now_ns();
	for (int i = 0; i < c; i++) {
		CURLMcode mc = curl_multi_add_handle(multi, easy[i]);
		if (mc != CURLM_OK) {
			fprintf(stderr, "bench_curl: curl_multi_add_handle: %s\n",
			        curl_multi_strerror(mc));
			return 1;
		}
		started++;
	}
	while (done < n) {
		int running = 0;
		CURLMcode mc = curl_multi_perform(multi, &running);
		if (mc != CURLM_OK) {
			fprintf(stderr, "bench_curl: curl_multi_perform: %s\n",
			        curl_multi_strerror(mc));
			return 1;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode res = msg->data.result;
			long code = 0;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			done++;
			if (res == CURLE_OK && code >= 200 && code < 300) {
				ok++;
			} else {
				if (errors < SHOW_BAD) {
					if (res != CURLE_OK)
						fprintf(stderr, "bench_curl: transfer failed: %s\n",
						        curl_easy_strerror(res));
					else
						fprintf(stderr, "bench_curl: answer %ld\n", code);
				}
				errors++;
			}
			curl_multi_remove_handle(multi, e);
			if (started < n) {
				mc = curl_multi_add_handle(multi, e);
				if (mc != CURLM_OK) {
					fprintf(stderr, "bench_curl: curl_multi_add_handle: %s\n",
					        curl_multi_strerror(mc));
					return 1;
				}
				started++;
			}
		}
		if (done >= n)
			break;
		/* A handle just added has a timeout of 0: the poll returns at once then. */
		mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			fprintf(stderr, "bench_curl: curl_multi_poll: %s\n",
			        curl_multi_strerror(mc));
			return 1;
		}
	}
	double el = (double)(now_ns() - t0) / 1e9;
	printf("sent=%lld ok=%lld errors=%lld elapsed=%.6f rate=%.1f\n", started, ok, errors, el,
	       el > 0 ? (double)ok / el : 0.0);
	fflush(stdout);

	for (int i = 0; i < c; i++) {
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	free(easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	free(body);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
