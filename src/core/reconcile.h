/*
 * reconcile: the pure parts of a reconciliation — a periodic walk over an
 * ATS's lists (Gupy's jobs, then each job's applications in the wanted
 * steps) that feeds every application the entity store has not seen in that
 * step through a source's routes, as if its lost webhook had arrived.
 * Pure: no I/O; the runner (src/reconcile/) does the requests and the store
 * calls, and asks this file what each answer means.
 *
 * Three shapes, as for sources and webhooks:
 *   body   — what POST/PATCH /api/v1/reconciliations receives;
 *   config — what is stored: the body's fields with defaults filled in;
 *   answer — reconcile_to_json (no secret is held here: the credentials
 *            stay with the connection).
 *
 * Fields (body):
 *   name               optional, 0-200 characters (default "");
 *   connectionId       required: a gupy connection of the company (the API
 *                      checks it exists and is of kind gupy);
 *   sourceId           required: a source of the company whose entity keeps
 *                      the application's step (RECONCILE_STEP_PATH; the API
 *                      checks it, 422 otherwise);
 *   steps              required, 1-16 distinct step names of 1-100 bytes
 *                      without control characters;
 *   everySeconds       required, 60-604800: the time between the starts of
 *                      two scheduled runs;
 *   jobStatus          optional, 1-64 of [A-Za-z0-9_-] (default "published");
 *   pageSize           optional, 1-100 (default 100): perPage of every list;
 *   requestsPerSecond  optional, 1-50 (default 5): requests to the ATS.
 * An unknown field, a field of the wrong type or out of range, or a field set
 * by gancho (id, createdAt, updatedAt, nextRunAt) is refused with 400 naming
 * it. On a PATCH the fields given replace the stored ones; null puts an
 * optional one back to its default.
 *
 * Lists (Gupy's pagination): {results: [...], totalResults, page,
 * totalPages}, pages 1-based. reconcile_page_read checks every number
 * before it is used: page must be the one asked for, totalPages 0 to
 * RECONCILE_PAGES_MAX, totalResults >= 0, results an array of at most the
 * perPage asked. Nothing read from an answer reaches arithmetic unchecked.
 *
 * The synthetic receipt of an application (reconcile_envelope) is shaped
 * like Gupy's webhook envelope: {"id": <sender id>, "event":
 * "application.moved", "date": <the run's time>, "data": {"job": <the job
 * as listed>, "application": <the application as listed>, "candidate":
 * <application.candidate, when the list carries one>}}. Its sender id
 * (reconcile_sender_id) is "<reconciliation id>:<job id>:<application
 * id>:<step>:<the entity's applied date, or new>": two runs (or two nodes)
 * that see the same state make the same id, so the second is a duplicate,
 * while a later move of the candidate gives a new one.
 */
#ifndef GANCHO_CORE_RECONCILE_H
#define GANCHO_CORE_RECONCILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/gerr.h"

#define RECONCILE_NAME_MAX       200 /* characters */
#define RECONCILE_STEPS_MAX      16
#define RECONCILE_STEP_MAX       100 /* bytes of one step name */
#define RECONCILE_EVERY_MIN      60
#define RECONCILE_EVERY_MAX      604800
#define RECONCILE_JOB_STATUS_MAX 64
#define RECONCILE_PAGE_DEFAULT   100
#define RECONCILE_PAGE_MAX       100
#define RECONCILE_RPS_DEFAULT    5
#define RECONCILE_RPS_MAX        50
#define RECONCILE_PAGES_MAX      10000 /* pages of one list walked in a run */
#define RECONCILE_ID_MAX         40    /* bytes of a job or application id as text */
#define RECONCILE_SENDER_ID_MAX  256   /* core/receipt's RECEIPT_ID_MAX */

/* Where Gupy's envelope holds the application's step: the source's entity
 * must keep this path for a reconciliation to know what it has seen. */
#define RECONCILE_STEP_PATH "data.application.currentStep.name"
#define RECONCILE_EVENT     "application.moved"

/* reconcile_config_build: validate a create body (existing NULL) or apply a
 * PATCH body onto a stored config. *out (new reference) only on success.
 * Refusals: GERR_INVALID, 400, invalid_field (missing_field for an absent
 * required field), the message naming the field. */
int reconcile_config_build(const json_t *body, const json_t *existing, json_t **out,
                           struct gerr *err);

/* reconcile_to_json: the API's answer: id, name, connectionId, sourceId,
 * steps, everySeconds, jobStatus, pageSize, requestsPerSecond, nextRunAt,
 * createdAt, updatedAt. New reference, NULL when out of memory. */
json_t *reconcile_to_json(const json_t *config, const char *id, int64_t next_run_at,
                          int64_t created_at, int64_t updated_at);

/* A stored config, read for a run (strings borrowed from the config). */
struct reconcile_spec {
	const char *connection_id;
	const char *source_id;
	const char *job_status;
	const char *steps[RECONCILE_STEPS_MAX];
	int nsteps;
	int every_s;
	int page_size;
	int rps;
};

/* reconcile_spec_read: the spec of a stored config (borrowing its strings);
 * 0, or GERR_INVALID when the config is not one reconcile_config_build made. */
int reconcile_spec_read(const json_t *config, struct reconcile_spec *out, struct gerr *err);

/* reconcile_wants_step: step (may be NULL) is one of spec's steps, exactly. */
bool reconcile_wants_step(const struct reconcile_spec *spec, const char *step);

/* One page of a list as answered. root owns the tree; results is borrowed
 * from it. */
struct reconcile_page {
	json_t *root;
	json_t *results; /* array of n members */
	size_t n;
	int64_t page;
	int64_t total_pages;
	int64_t total_results;
};

/* reconcile_page_read: body[0..len) as the answer for page want_page asked
 * with per_page. 0, or GERR_INVALID (502, bad_answer) with a reason a person
 * reads: not JSON (an HTML page, say), not an object, a member missing or of
 * the wrong type, a number out of bounds, or another page than asked. */
int reconcile_page_read(const char *body, size_t len, int64_t want_page, int per_page,
                        struct reconcile_page *out, struct gerr *err);
void reconcile_page_free(struct reconcile_page *p);

/* reconcile_id_text: the "id" of a listed job or application as text into
 * out: an integer (its decimal form) or a string of 1-RECONCILE_ID_MAX
 * characters of [A-Za-z0-9_.-] (the characters that keep sender ids and URL
 * paths unambiguous). 0, or GERR_INVALID with the reason ("what" names the
 * object: "job", "application"). */
int reconcile_id_text(const json_t *obj, const char *what, char out[RECONCILE_ID_MAX + 1],
                      struct gerr *err);

/* reconcile_current_step: application.currentStep.name, or NULL when it is
 * absent or not a string (borrowed). */
const char *reconcile_current_step(const json_t *application);

/* reconcile_sender_id: the synthetic receipt's sender id into out (see the
 * top); seen false for an entity that does not exist yet (": new"), else
 * its applied date (us since the epoch). 0, or GERR_INVALID when it would
 * not fit RECONCILE_SENDER_ID_MAX. */
int reconcile_sender_id(const char *reconciliation_id, const char *job_id, const char *app_id,
                        const char *step, bool seen, int64_t seen_us,
                        char out[RECONCILE_SENDER_ID_MAX + 1], struct gerr *err);

/* reconcile_envelope: the synthetic receipt's body (see the top) into out
 * (reset first). date is ISO-8601. 0, or GERR_NOMEM. */
int reconcile_envelope(const char *sender_id, const char *date, const json_t *job,
                       const json_t *application, struct buf *out, struct gerr *err);

/* reconcile_jobs_url, reconcile_applications_url: the list requests, into
 * out (reset first): {base}/api/v1/jobs?status=S&page=N&perPage=P and
 * {base}/api/v1/jobs/{jobId}/applications?currentStepName=S&page=N&perPage=P,
 * the query values percent-encoded. base has no trailing '/'. */
void reconcile_jobs_url(struct buf *out, const char *base, const char *status, int64_t page,
                        int per_page);
void reconcile_applications_url(struct buf *out, const char *base, const char *job_id,
                                const char *step, int64_t page, int per_page);

/* reconcile_kept_same: applying fresh (a receipt's kept fields) over cur (an
 * entity's) would change nothing: every member of fresh is in cur with an
 * equal JSON value. Both are JSON object texts; false when either is not. */
bool reconcile_kept_same(const char *cur, size_t curlen, const char *fresh, size_t freshlen);

#endif
