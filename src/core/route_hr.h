/*
 * route_hr: a route's HR actions, requests to the API of a connection (an
 * ATS or a job board whose base URL and credentials gancho holds once):
 * validation, compiling and the exact request each one sends. Used by
 * core/route.c only; route.h lists the actions a person writes.
 *
 *   gupy.tag      PUT   {base}/api/v1/jobs/{jobId}/applications/{applicationId}/tags
 *                       {"name": …}
 *   gupy.comment  POST  {base}/api/v1/jobs/{jobId}/applications/{applicationId}/comments
 *                       {"text": …}
 *   gupy.reprove  PATCH {base}/api/v1/jobs/{jobId}/applications/{applicationId}
 *                       {"status": "reproved", "disapprovalReason": …}
 *   hellowork.status
 *                 POST  {statusApiUrl}, or {base}/v1/applications/{applicationId}/status
 *                       {"status", "eventDate", "created", "jobId", "source"?,
 *                        "communicationDelay"?}
 * each with "accept: application/json" and "content-type: application/json"
 * (Gupy's curl examples); the Authorization header is the target's, made
 * from the connection's credentials.
 *
 * Values. name, text, disapprovalReason, status, jobId, applicationId,
 * statusApiUrl, eventDate and created are text templates (core/template.h);
 * source and communicationDelay are JSON templates. jobId defaults to
 * {{entity.jobId}} and applicationId to the receipt's entity key. An id goes
 * into the path percent-encoded, as one segment; in HelloWork's body jobId is
 * always a JSON string (a number's text). Dates are read by core/isodate and
 * sent as "YYYY-MM-DDTHH:MM:SS.mmmZ"; eventDate defaults to the receipt's
 * date. The status is looked up in map, whose values are HelloWork's 16
 * statuses; a status the map does not name is sent as "unknown".
 * communicationDelay is sent only with rejected_and_contacted_by_recruiter,
 * and left out when its value is missing, null or "" (HelloWork: "si
 * inconnu, ne pas mettre de délais"); source is left out the same way.
 *
 * statusApiUrl comes from a received body, so it is a URL a sender names: it
 * must be on the connection's origin (scheme, host and port of its base URL),
 * else the delivery fails, because the connection's credentials go with it.
 * When its template finds no value (or ""), the URL is rebuilt from
 * applicationId.
 *
 * Failures at render time (a missing or empty id, a date that is not one, a
 * statusApiUrl elsewhere) are 422 "template_missing" / "template_value" with
 * a message naming the field: the caller stores the delivery failed with it,
 * never sent.
 */
#ifndef GANCHO_CORE_ROUTE_HR_H
#define GANCHO_CORE_ROUTE_HR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/route.h"
#include "core/template.h"
#include "util/buf.h"
#include "util/gerr.h"

#define ROUTE_HR_MAX_MAP  256  /* entries of a hellowork.status map */
#define ROUTE_HR_MAX_KEY  256  /* bytes of one map key */
#define ROUTE_HR_MAX_ID   1024 /* bytes of a rendered jobId or applicationId */
#define ROUTE_HR_STATUSES 16

/* HelloWork's statuses, as its document spells them (offred, whithdrawn). */
extern const char *const route_hr_statuses[ROUTE_HR_STATUSES];

/* route_hr_kind: the enum route_action_kind of an HR kind name
 * ("gupy.tag", ...), or -1 when name is not one. */
int route_hr_kind(const char *name);
/* route_hr_kind_name: the name of an action kind (forward and http too). */
const char *route_hr_kind_name(int kind);
/* route_hr_connection_kind: the connection kind an HR action needs
 * ("gupy" or "hellowork"), which is also the name of its target's answer
 * rules (core/webhook.h); NULL for forward and http. */
const char *route_hr_connection_kind(int kind);

/* route_hr_compile: validate HR action a (of kind) and compile it into ra
 * (zeroed by the caller; release with route_hr_free, also after a failure).
 * 400 naming the field ("map.Contratado: ..."), or GERR_NOMEM. Delivery
 * settings other than retryPolicy and timeoutMs are refused: the connection
 * gives the URL and the credentials, the kind the answer rules. */
int route_hr_compile(struct route_action *ra, const json_t *a, int kind, struct gerr *err);
void route_hr_free(struct route_action *ra);

/* route_hr_render: the URL and body action ra sends for receipt in, into
 * url and body (appended); base is the connection's base URL (its target's
 * URL). lookup/ctx find template values (as route_render's). Returns 0, or
 * GERR_INVALID with 422 and the reason, or GERR_NOMEM. */
int route_hr_render(const struct route_action *ra, template_lookup lookup, void *ctx,
                    const struct route_input *in, const char *base, struct buf *url,
                    struct buf *body, struct gerr *err);

/* route_hr_same_origin: url[0..n) is an absolute http(s) URL, printable
 * ASCII without user-info or fragment, whose scheme, host and port (the
 * scheme's default when none is written) are those of base. */
bool route_hr_same_origin(const char *url, size_t n, const char *base);

#endif
