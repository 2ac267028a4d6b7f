/*
 * runner: see runner.h.
 *
 * One thread: runner_main polls and claims; run_one does a claimed run,
 * walking jobs page by page and, for each job and each wanted step, its
 * applications page by page (walk_jobs, walk_applications). fetch() is one
 * GET with the rate limit, the answer bound, and the retry rules (429:
 * Retry-After then again; 5xx and network errors: RUNNER_RETRIES times with
 * a growing pause; 401/403: the run stops). A page's applications are read
 * into synthetic receipts (one_application) and submitted together, and the
 * run waits for their commit before it goes on, so the counters and the
 * lease only ever speak of committed work.
 *
 * Waiting (rate limit, Retry-After, pauses between retries) is a timed wait
 * on the runner's condition variable, so runner_stop ends it at once; a
 * transfer in flight is aborted by its progress callback.
 */
#include "reconcile/runner.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/connection.h"
#include "core/isodate.h"
#include "core/policy.h"
#include "core/receipt.h"
#include "core/reconcile.h"
#include "core/source.h"
#include "core/urlcheck.h"
#include "deliver/engine.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"

#define RETRY_AFTER_TEXT 64
#define AUTH_MAX         (CONNECTION_SECRET_MAX + 64)

struct runner {
	struct runner_config cfg;
	struct registry *reg;
	struct engine *eng;
	struct store *s;
	char node[UUID_STR_LEN];
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	atomic_bool stop;
	/* receipts of the current page waiting for their commit */
	int inflight;
};

/* How a run ends, and why. */
enum outcome { GO_ON = 0, END_STOPPED, END_FAILED };

/* One run in progress. */
struct run {
	struct runner *rn;
	struct store_reconciliation rec;
	struct store_recon_run row;
	struct reconcile_spec spec;
	json_t *config;
	struct source *src;
	char base[CONNECTION_URL_MAX + 1];
	char auth[AUTH_MAX]; /* the Authorization header line: never logged */
	int64_t next_request_ms;
	int64_t interval_ms;
	json_t *errors; /* array of texts, at most RUNNER_ERRORS_KEPT */
	int64_t nerrors;
	char why[300]; /* what ended it, when it did not end done */
	bool denied;   /* ended by 401/403 */
	CURL *easy;
};

/* ---- waiting and errors ------------------------------------------------------------ */

/* wait_ms: sleep up to ms unless the runner stops; false when it stops. */
static bool wait_ms(struct runner *rn, int64_t ms)
{
	if (ms <= 0)
		return !atomic_load(&rn->stop);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rn->mu);
	while (!atomic_load(&rn->stop) &&
	       pthread_cond_timedwait(&rn->cond, &rn->mu, &ts) != ETIMEDOUT) {
	}
	pthread_mutex_unlock(&rn->mu);
	return !atomic_load(&rn->stop);
}

/* note: add an error to the run's list (the first RUNNER_ERRORS_KEPT). */
static void note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct run *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg[utf8_trim_partial(msg, strlen(msg))] = '\0';
	r->nerrors++;
	if (json_array_size(r->errors) < RUNNER_ERRORS_KEPT)
		json_array_append_new(r->errors, json_string(msg));
}

/* end: record why the run ends early; returns how. */
static enum outcome end(struct run *r, enum outcome how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum outcome end(struct run *r, enum outcome how, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->why[utf8_trim_partial(r->why, strlen(r->why))] = '\0';
	note(r, "%s", r->why);
	return how;
}

/* errors_text: the run's errors as JSON array text (malloc'd), with a last
 * line counting those left out. */
static char *errors_text(struct run *r)
{
	json_t *a = json_deep_copy(r->errors);
	if (a && r->nerrors > (int64_t)json_array_size(r->errors)) {
		char more[64];
		snprintf(more, sizeof(more), "… and %" PRId64 " more",
		         r->nerrors - (int64_t)json_array_size(r->errors));
		json_array_append_new(a, json_string(more));
	}
	char *t = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return t;
}

/* progress: write the counters and renew the lease; END_STOPPED when the
 * lease is gone (the reconciliation deleted, or taken over). */
static enum outcome progress(struct run *r)
{
	char *errs = errors_text(r);
	free(r->row.errors);
	r->row.errors = errs;
	int rc = store_reconciliation_progress(r->rn->s, r->rn->node, r->rec.seq,
	                                       clock_now_ms() + RUNNER_LEASE_MS, &r->row);
	if (rc == GERR_CONFLICT)
		return end(r, END_STOPPED,
		           "the reconciliation was deleted, or its lease was lost, during the run");
	if (rc)
		return end(r, END_FAILED, "the store failed while the run went on");
	return GO_ON;
}

/* ---- one request ------------------------------------------------------------------ */

struct answer {
	struct buf body;
	bool too_big;
	bool blocked;
	char retry_after[RETRY_AFTER_TEXT + 2];
	struct runner *rn;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb;
	if (a->body.len + n > RUNNER_ANSWER_MAX) {
		a->too_big = true;
		return 0; /* libcurl aborts the transfer */
	}
	buf_append(&a->body, ptr, n);
	return a->body.oom ? 0 : n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		a->retry_after[0] = '\0';
	} else if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *v = ptr + sizeof(name) - 1;
		size_t k = n - (sizeof(name) - 1);
		while (k && (*v == ' ' || *v == '\t')) {
			v++;
			k--;
		}
		while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
			k--;
		if (k > RETRY_AFTER_TEXT + 1)
			k = RETRY_AFTER_TEXT + 1; /* too long: left unparseable on purpose */
		memcpy(a->retry_after, v, k);
		a->retry_after[k] = '\0';
	}
	return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	struct answer *a = clientp;
	return atomic_load(&a->rn->stop) ? 1 : 0;
}

static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct answer *a = clientp;
	(void)purpose;
	/* the SSRF rule holds for what DNS answers too */
	if (!urlcheck_addr_allowed(&addr->addr)) {
		a->blocked = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* path_of: the URL without the base, for error texts (no host, no secret). */
static const char *path_of(const struct run *r, const char *url)
{
	size_t n = strlen(r->base);
	return strncmp(url, r->base, n) == 0 ? url + n : url;
}

/* fetch: GET url into *page (asked as page want with per_page). GO_ON with
 * *page filled; GO_ON with *missing set for a 404 when missing is given;
 * else how the run ends. */
static enum outcome fetch(struct run *r, const char *url, int64_t want, struct reconcile_page *page,
                          bool *missing)
{
	struct runner *rn = r->rn;
	int failures = 0, throttled = 0;
	const char *path = path_of(r, url);
	for (;;) {
		/* the rate limit: requests at least interval_ms apart */
		if (!wait_ms(rn, r->next_request_ms - clock_mono_ms()))
			return end(r, END_STOPPED, "the node stopped during the run");
		r->next_request_ms = clock_mono_ms() + r->interval_ms;
		struct answer a = {.rn = rn};
		buf_init(&a.body);
		struct curl_slist *h = NULL, *h2;
		h = curl_slist_append(h, r->auth);
		h2 = h ? curl_slist_append(h, "accept: application/json") : NULL;
		CURL *c = r->easy;
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h2);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)RUNNER_TIMEOUT_MS);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &a);
		if (!rn->cfg.allow_private) {
			curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
			curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &a);
		}
		CURLcode res = h2 ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
		curl_slist_free_all(h2 ? h2 : h);
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		enum outcome out = GO_ON;
		bool again = false;
		if (atomic_load(&rn->stop)) {
			out = end(r, END_STOPPED, "the node stopped during the run");
		} else if (a.too_big) {
			out = end(r, END_FAILED, "GET %s: the answer is larger than %d bytes", path,
			          RUNNER_ANSWER_MAX);
		} else if (a.blocked) {
			out = end(r, END_FAILED,
			          "GET %s: the connection's host resolves to a private address",
			          path);
		} else if (res != CURLE_OK || code >= 500) {
			char what[128];
			if (res != CURLE_OK)
				snprintf(what, sizeof(what), "%s", curl_easy_strerror(res));
			else
				snprintf(what, sizeof(what), "HTTP %ld", code);
			if (++failures > RUNNER_RETRIES) {
				out = end(r, END_FAILED, "GET %s: %s, %d times", path, what,
				          failures);
			} else {
				log_info("reconciliation_retry",
				         "reconciliation=%s run=%s err=\"%s\"", r->rec.id,
				         r->row.id, what);
				again = wait_ms(rn, 1000LL << (failures - 1));
				if (!again)
					out =
					    end(r, END_STOPPED, "the node stopped during the run");
			}
		} else if (code == 401 || code == 403) {
			r->denied = true;
			out = end(r, END_STOPPED,
			          "GET %s: HTTP %ld: the ATS refused the connection's credentials; "
			          "the run"
			          " stopped (fix the connection, then run again)",
			          path, code);
		} else if (code == 429) {
			int64_t ms = policy_retry_after_ms(a.retry_after, clock_now_ms());
			if (ms < 0)
				ms = 1000LL << (throttled < 5 ? throttled : 5);
			if (ms > RUNNER_WAIT_MAX_MS)
				ms = RUNNER_WAIT_MAX_MS;
			if (++throttled > RUNNER_429_MAX) {
				out = end(r, END_FAILED, "GET %s: HTTP 429, %d times in a row",
				          path, throttled);
			} else {
				log_info("reconciliation_throttled",
				         "reconciliation=%s run=%s wait_ms=%lld", r->rec.id,
				         r->row.id, (long long)ms);
				/* the lease must outlive the wait */
				out = progress(r);
				again = out == GO_ON && wait_ms(rn, ms);
				if (out == GO_ON && !again)
					out =
					    end(r, END_STOPPED, "the node stopped during the run");
			}
		} else if (code == 404 && missing) {
			*missing = true;
		} else if (code != 200) {
			out = end(r, END_FAILED, "GET %s: HTTP %ld", path, code);
		} else {
			struct gerr err = {0};
			if (reconcile_page_read(a.body.data ? a.body.data : "", a.body.len, want,
			                        r->spec.page_size, page, &err))
				out = end(r, END_FAILED, "GET %s: %s", path, err.msg);
			else
				r->row.pages++;
		}
		buf_free(&a.body);
		if (!again)
			return out;
	}
}

/* ---- synthetic receipts ---------------------------------------------------------- */

/* One synthetic receipt from its submission to its commit. */
struct synthetic {
	struct receipt_job job;
	struct run *run;
	struct receipt_fields f;
	struct buf body;
	char id[UUID_STR_LEN];
	char *headers;
	int rc;
	bool duplicate;
	struct synthetic *next;
};

static void synthetic_free(struct synthetic *x)
{
	receipt_fields_free(&x->f);
	buf_free(&x->body);
	free(x->headers);
	free(x);
}

static void synthetic_list_free(struct synthetic *list)
{
	while (list) {
		struct synthetic *x = list;
		list = x->next;
		synthetic_free(x);
	}
}

static void synthetic_done(struct receipt_job *job, int rc, const struct gerr *err)
{
	struct synthetic *x = job->ctx;
	struct runner *rn = x->run->rn;
	(void)err;
	pthread_mutex_lock(&rn->mu);
	x->rc = rc;
	x->duplicate = job->r.duplicate;
	rn->inflight--;
	pthread_cond_broadcast(&rn->cond);
	pthread_mutex_unlock(&rn->mu);
}

/* read_synthetic: x->body read as the source reads a receipt, with
 * sender_id as its id. */
static int read_synthetic(struct run *r, struct synthetic *x, const char *sender_id,
                          struct gerr *err)
{
	const struct source *src = r->src;
	const char *names[SOURCE_KEEP_MAX], *paths[SOURCE_KEEP_MAX];
	for (int i = 0; i < src->nkeep && i < SOURCE_KEEP_MAX; i++) {
		names[i] = src->keep[i].name;
		paths[i] = src->keep[i].path;
	}
	struct receipt_spec spec = {
	    .id_path = NULL, /* the sender id is gancho's, whatever the source's idPath */
	    .event_path = "event",
	    .date_path = "date",
	    .entity_key_path = src->entity_key,
	    .nkeep = src->nkeep,
	    .keep_names = names,
	    .keep_paths = paths,
	};
	receipt_fields_free(&x->f);
	memset(&x->f, 0, sizeof(x->f));
	return receipt_read(x->body.data, x->body.len, &spec, sender_id, &x->f, err);
}

/* one_application: the synthetic receipt of app (of job, in step) when the
 * entity store has not seen it so: a new struct synthetic, or NULL (seen,
 * or an error noted). */
static struct synthetic *one_application(struct run *r, const json_t *job, const char *job_id,
                                         const json_t *app, const char *step)
{
	char app_id[RECONCILE_ID_MAX + 1], sender[RECONCILE_SENDER_ID_MAX + 1];
	char date[ISODATE_STRLEN];
	struct gerr err = {0};
	if (reconcile_id_text(app, "application", app_id, &err)) {
		note(r, "job %s: %s", job_id, err.msg);
		return NULL;
	}
	struct synthetic *x = calloc(1, sizeof(*x));
	if (!x) {
		note(r, "application %s: out of memory", app_id);
		return NULL;
	}
	x->run = r;
	buf_init(&x->body);
	isodate_format_us(clock_now_ms() * 1000, date);
	/* first with a placeholder id, to find the entity it would touch */
	if (reconcile_envelope("-", date, job, app, &x->body, &err) ||
	    read_synthetic(r, x, "-", &err)) {
		note(r, "application %s: %s", app_id, err.msg);
		goto skip;
	}
	if (!x->f.has_entity) {
		note(r, "application %s: no entity key at %s in its envelope", app_id,
		     r->src->entity_key);
		goto skip;
	}
	struct store_entity_row ent = {0};
	int rc = store_entity_get(r->rn->s, r->rec.company_seq, r->src->entity_type,
	                          x->f.entity_key, &ent);
	if (rc && rc != GERR_NOTFOUND) {
		note(r, "application %s: the store failed reading its entity", app_id);
		goto skip;
	}
	bool seen = rc == 0;
	const char *kept = seen && ent.kept ? ent.kept : "{}";
	if (seen && reconcile_kept_same(kept, strlen(kept), x->f.kept.data, x->f.kept.len)) {
		store_entity_free(&ent);
		goto skip; /* the entity holds what this receipt would bring */
	}
	int64_t seen_us = seen ? ent.date_us : 0;
	if (seen)
		store_entity_free(&ent);
	if (reconcile_sender_id(r->rec.id, job_id, app_id, step, seen, seen_us, sender, &err) ||
	    reconcile_envelope(sender, date, job, app, &x->body, &err) ||
	    read_synthetic(r, x, sender, &err)) {
		note(r, "application %s: %s", app_id, err.msg);
		goto skip;
	}
	struct buf h;
	buf_init(&h);
	buf_puts(&h,
	         "{\"content-type\":\"application/json\",\"x-gancho-origin\":\"reconciliation\","
	         "\"x-gancho-reconciliation\":");
	buf_json_str(&h, r->rec.id, strlen(r->rec.id));
	buf_puts(&h, ",\"x-gancho-run\":");
	buf_json_str(&h, r->row.id, strlen(r->row.id));
	buf_putc(&h, '}');
	buf_putc(&h, '\0');
	if (h.oom) {
		buf_free(&h);
		note(r, "application %s: out of memory", app_id);
		goto skip;
	}
	x->headers = h.data;
	uuid_v4(x->id);
	const struct source *src = r->src;
	x->job.r = (struct store_receipt_in){
	    .company_seq = src->company_seq,
	    .source_seq = src->seq,
	    .id = x->id,
	    .msg_id = x->f.msg_id,
	    .event = x->f.event,
	    .date = x->f.date,
	    .date_us = x->f.when.us,
	    .date_ns = x->f.when.ns,
	    .entity_type = src->entity_type,
	    .entity_key = x->f.entity_key,
	    .kept = x->f.kept.data,
	    .keptlen = x->f.kept.len,
	    .body = x->body.data,
	    .bodylen = x->body.len,
	    .headers = x->headers,
	    .verification = "reconciliation", /* its origin, as the API shows it */
	    .address = "reconciliation",
	    .apply_at = src->reorder_window_s > 0
	                    ? clock_now_ms() + (int64_t)src->reorder_window_s * 1000
	                    : 0,
	};
	x->job.done = synthetic_done;
	x->job.ctx = x;
	return x;
skip:
	synthetic_free(x);
	return NULL;
}

/* submit: the page's synthetic receipts through the group commit, waiting
 * for their commit; frees them. */
static enum outcome submit(struct run *r, struct synthetic *list)
{
	struct runner *rn = r->rn;
	int n = 0;
	for (struct synthetic *x = list; x; x = x->next)
		n++;
	if (!n)
		return GO_ON;
	pthread_mutex_lock(&rn->mu);
	rn->inflight += n;
	pthread_mutex_unlock(&rn->mu);
	for (struct synthetic *x = list; x; x = x->next)
		engine_submit_receipt(rn->eng, &x->job);
	/* the engine runs until the runner has stopped: every one comes back */
	pthread_mutex_lock(&rn->mu);
	while (rn->inflight > 0)
		pthread_cond_wait(&rn->cond, &rn->mu);
	pthread_mutex_unlock(&rn->mu);
	bool failed = false;
	while (list) {
		struct synthetic *x = list;
		list = x->next;
		if (x->rc)
			failed = true;
		else if (!x->duplicate)
			r->row.receipts++;
		synthetic_free(x);
	}
	return failed ? end(r, END_FAILED, "the store could not take the synthetic receipts")
	              : GO_ON;
}

/* ---- the walk ------------------------------------------------------------------------- */

static enum outcome walk_applications(struct run *r, const json_t *job, const char *job_id,
                                      const char *step)
{
	struct buf url;
	buf_init(&url);
	enum outcome out = GO_ON;
	for (int64_t page = 1; out == GO_ON; page++) {
		reconcile_applications_url(&url, r->base, job_id, step, page, r->spec.page_size);
		buf_putc(&url, '\0');
		if (url.oom) {
			out = end(r, END_FAILED, "out of memory");
			break;
		}
		struct reconcile_page pg = {0};
		bool missing = false;
		out = fetch(r, url.data, page, &pg, &missing);
		if (out == GO_ON && missing) {
			note(r, "GET %s: HTTP 404: the job is gone; skipped", path_of(r, url.data));
			break;
		}
		if (out != GO_ON)
			break;
		struct synthetic *list = NULL, **tail = &list;
		for (size_t i = 0; i < pg.n; i++) {
			const json_t *app = json_array_get(pg.results, i);
			if (!json_is_object(app)) {
				note(r, "job %s: a listed application is not an object", job_id);
				continue;
			}
			/* the filter may not be honoured: gancho checks the step itself,
			 * and counts an application under the step it is in */
			const char *cur = reconcile_current_step(app);
			if (!cur || strcmp(cur, step) != 0)
				continue;
			r->row.seen++;
			struct synthetic *x = one_application(r, job, job_id, app, step);
			if (x) {
				*tail = x;
				tail = &x->next;
			}
		}
		int64_t total = pg.total_pages;
		reconcile_page_free(&pg);
		/* the lease is checked (and renewed) right before the receipts go:
		 * a reconciliation deleted or taken over meanwhile makes none */
		out = progress(r);
		if (out == GO_ON)
			out = submit(r, list);
		else
			synthetic_list_free(list);
		if (page >= total)
			break;
	}
	buf_free(&url);
	return out;
}

static enum outcome walk_jobs(struct run *r)
{
	struct buf url;
	buf_init(&url);
	enum outcome out = GO_ON;
	for (int64_t page = 1; out == GO_ON; page++) {
		reconcile_jobs_url(&url, r->base, r->spec.job_status, page, r->spec.page_size);
		buf_putc(&url, '\0');
		if (url.oom) {
			out = end(r, END_FAILED, "out of memory");
			break;
		}
		struct reconcile_page pg = {0};
		out = fetch(r, url.data, page, &pg, NULL);
		if (out != GO_ON)
			break;
		out = progress(r);
		for (size_t i = 0; i < pg.n && out == GO_ON; i++) {
			const json_t *job = json_array_get(pg.results, i);
			char job_id[RECONCILE_ID_MAX + 1];
			struct gerr err = {0};
			if (reconcile_id_text(job, "job", job_id, &err)) {
				note(r, "%s", err.msg);
				continue;
			}
			r->row.jobs++;
			for (int k = 0; k < r->spec.nsteps && out == GO_ON; k++)
				out = walk_applications(r, job, job_id, r->spec.steps[k]);
		}
		int64_t total = pg.total_pages;
		reconcile_page_free(&pg);
		if (page >= total)
			break;
	}
	buf_free(&url);
	return out;
}

/* prepare: the spec, the source and the connection of the claimed run. */
static enum outcome prepare(struct run *r)
{
	struct gerr err = {0};
	r->config = json_loads(r->rec.config, 0, NULL);
	if (!r->config || reconcile_spec_read(r->config, &r->spec, &err))
		return end(r, END_FAILED, "the stored reconciliation config is unreadable");
	r->interval_ms = 1000 / r->spec.rps;
	r->src = registry_source_get(r->rn->reg, r->spec.source_id);
	if (!r->src || r->src->company_seq != r->rec.company_seq || !r->src->entity_type)
		return end(r, END_FAILED, "source %s is gone, or has no entity any more",
		           r->spec.source_id);
	struct store_connection conn = {0};
	int rc = store_connection_get(r->rn->s, r->rec.company_seq, r->spec.connection_id, &conn);
	if (rc == GERR_NOTFOUND)
		return end(r, END_FAILED, "connection %s is gone", r->spec.connection_id);
	if (rc)
		return end(r, END_FAILED, "the store failed reading the connection");
	json_t *cfg = json_loads(conn.config, 0, NULL);
	json_t *auth = cfg ? connection_authorization(cfg) : NULL;
	const char *base = json_string_value(json_object_get(cfg, "baseUrl"));
	const json_t *data = json_object_get(auth, "data");
	const char *key = json_string_value(json_object_get(data, "key"));
	const char *prefix = json_string_value(json_object_get(data, "prefix"));
	enum outcome out = GO_ON;
	if (!base || !key || strlen(base) >= sizeof(r->base))
		out = end(r, END_FAILED, "connection %s is unreadable", r->spec.connection_id);
	else if (urlcheck_target(base, r->rn->cfg.allow_private, r->rn->cfg.allow_private, &err))
		out = end(r, END_FAILED, "connection %s: %s", r->spec.connection_id, err.msg);
	else {
		snprintf(r->base, sizeof(r->base), "%s", base);
		size_t n = strlen(r->base);
		while (n && r->base[n - 1] == '/')
			r->base[--n] = '\0';
		snprintf(r->auth, sizeof(r->auth), "Authorization: %s%s%s", prefix ? prefix : "",
		         prefix ? " " : "", key);
	}
	json_decref(auth);
	json_decref(cfg);
	store_connection_free(&conn);
	return out;
}

/* run_one: the claimed run r, start to end. */
static void run_one(struct run *r)
{
	struct runner *rn = r->rn;
	log_info("reconciliation_started", "reconciliation=%s run=%s node=%s", r->rec.id, r->row.id,
	         rn->node);
	enum outcome out = prepare(r);
	if (out == GO_ON) {
		r->easy = curl_easy_init();
		out = r->easy ? walk_jobs(r) : end(r, END_FAILED, "out of memory");
	}
	int64_t now = clock_now_ms();
	r->row.state = out == GO_ON ? RUN_DONE : out == END_STOPPED ? RUN_STOPPED : RUN_FAILED;
	r->row.ended_at = now;
	char *errs = errors_text(r);
	free(r->row.errors);
	r->row.errors = errs;
	int64_t every = r->spec.every_s > 0 ? r->spec.every_s : RECONCILE_EVERY_MIN;
	int64_t next = r->row.started_at + every * 1000;
	/* a run cut short by the node stopping is due again at once */
	if (next < now || atomic_load(&rn->stop))
		next = now;
	char msg[512] = "";
	const char *kind = NULL;
	if (out != GO_ON) {
		kind = out == END_STOPPED ? "reconciliation.stopped" : "reconciliation.failed";
		snprintf(msg, sizeof(msg), "reconciliation %s, run %s: %s", r->rec.id, r->row.id,
		         r->why);
		msg[utf8_trim_partial(msg, strlen(msg))] = '\0';
		log_warn(out == END_STOPPED ? "reconciliation_stopped" : "reconciliation_failed",
		         "reconciliation=%s run=%s reason=\"%s\"", r->rec.id, r->row.id, r->why);
	}
	if (store_reconciliation_finish(rn->s, rn->node, r->rec.seq, &r->row, next, kind,
	                                kind ? msg : NULL))
		log_warn("reconciliation_not_recorded", "reconciliation=%s run=%s", r->rec.id,
		         r->row.id);
	log_info("reconciliation_ended",
	         "reconciliation=%s run=%s state=%s pages=%" PRId64 " jobs=%" PRId64
	         " seen=%" PRId64 " receipts=%" PRId64 " errors=%" PRId64,
	         r->rec.id, r->row.id, recon_run_state_name(r->row.state), r->row.pages,
	         r->row.jobs, r->row.seen, r->row.receipts, r->nerrors);
}

static void *runner_main(void *arg)
{
	struct runner *rn = arg;
	while (!atomic_load(&rn->stop)) {
		char run_id[UUID_STR_LEN];
		uuid_v4(run_id);
		struct run r = {.rn = rn};
		int64_t now = clock_now_ms();
		int rc = store_reconciliation_claim(rn->s, rn->node, now, now + RUNNER_LEASE_MS,
		                                    run_id, &r.rec, &r.row);
		if (rc == 0) {
			r.errors = json_array();
			if (r.errors)
				run_one(&r);
			json_decref(r.errors);
			json_decref(r.config);
			source_unref(r.src);
			if (r.easy)
				curl_easy_cleanup(r.easy);
			memset(r.auth, 0, sizeof(r.auth));
			store_reconciliation_free(&r.rec);
			store_recon_run_free(&r.row);
			continue; /* another may be due */
		}
		if (rc != GERR_NOTFOUND)
			log_warn("reconciliation_claim_failed", "node=%s", rn->node);
		wait_ms(rn, RUNNER_POLL_MS);
	}
	return NULL;
}

int runner_start(const struct runner_config *cfg, struct registry *reg, struct engine *eng,
                 struct runner **out, struct gerr *err)
{
	struct runner *rn = calloc(1, sizeof(*rn));
	if (!rn)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	rn->cfg = *cfg;
	rn->reg = reg;
	rn->eng = eng;
	uuid_v4(rn->node);
	int rc = store_open(cfg->db_url, &rn->s, err);
	if (rc) {
		free(rn);
		return rc;
	}
	pthread_mutex_init(&rn->mu, NULL);
	pthread_cond_init(&rn->cond, NULL);
	if (pthread_create(&rn->thr, NULL, runner_main, rn)) {
		store_close(rn->s);
		pthread_cond_destroy(&rn->cond);
		pthread_mutex_destroy(&rn->mu);
		free(rn);
		return gerr_set(err, GERR_IO, 500, "internal",
		                "cannot start the reconciliation thread");
	}
	*out = rn;
	return 0;
}

void runner_stop(struct runner *rn)
{
	if (!rn)
		return;
	pthread_mutex_lock(&rn->mu);
	atomic_store(&rn->stop, true);
	pthread_cond_broadcast(&rn->cond);
	pthread_mutex_unlock(&rn->mu);
	pthread_join(rn->thr, NULL);
	store_close(rn->s);
	pthread_cond_destroy(&rn->cond);
	pthread_mutex_destroy(&rn->mu);
	free(rn);
}
