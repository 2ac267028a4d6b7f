/*
 * policy: when to try a delivery again, and when to give up.
 *
 * Presets:
 *   gupy   — retries 1, 5, 15, 30 min after each failure, then every 30 min,
 *            until 2 h after the first attempt (Gupy's published schedule).
 *   acesso — every 5 s for 3 days (Acesso RH).
 * Custom:
 *   {"schedule": [s, …], "deadlineSeconds": D}  the last step repeats until D.
 *   {"exponential": {"initialSeconds": I, "maxSeconds": M, "deadlineSeconds": D}}
 *            delay doubles from I up to M, with jitter in [delay/2, delay].
 * Deadlines count from the first attempt. Pure logic: no clock, no I/O.
 *
 * Bounds, so a policy cannot turn gancho into a flood at a host the company
 * picks: no retry comes sooner than POLICY_MIN_STEP_MS after the attempt
 * before it (schedule steps, exponential initialSeconds and jittered delays
 * alike), and no delivery gets more than POLICY_MAX_ATTEMPTS attempts. The
 * API refuses a policy that could exceed the cap before its deadline (acesso,
 * 5 s for 3 days = 51 841 attempts, fits).
 */
#ifndef GANCHO_CORE_POLICY_H
#define GANCHO_CORE_POLICY_H

#include <jansson.h>
#include <stdint.h>

#include "util/gerr.h"

#define POLICY_MAX_STEPS    32
#define POLICY_MIN_STEP_MS  1000LL /* no retry sooner than this after an attempt */
#define POLICY_MAX_ATTEMPTS 100000 /* attempts of one delivery, at most */

enum policy_kind { POLICY_GUPY, POLICY_ACESSO, POLICY_SCHEDULE, POLICY_EXPONENTIAL };

struct policy {
	enum policy_kind kind;
	int nsteps;
	int64_t steps_ms[POLICY_MAX_STEPS]; /* delays after the 1st, 2nd, … failure */
	int64_t initial_ms, max_ms;         /* exponential */
	int64_t deadline_ms;                /* since the first attempt */
};

/* policy_default: the gupy preset. */
void policy_default(struct policy *p);
/* policy_parse: from the API's retryPolicy value (NULL/absent = gupy).
 * Validates ranges: steps and initialSeconds >= 1 s (POLICY_MIN_STEP_MS),
 * deadline > 0, everything at most 30 days, and at most POLICY_MAX_ATTEMPTS
 * attempts before the deadline. Leaves *out alone on error. */
int policy_parse(const json_t *v, struct policy *out, struct gerr *err);
/* policy_load: a retryPolicy stored before the floor and the cap existed:
 * steps under the floor are raised to it, the attempt cap is left to
 * policy_next_attempt, so a stored webhook always loads. Other errors are
 * refused as by policy_parse. */
int policy_load(const json_t *v, struct policy *out, struct gerr *err);
/* policy_to_json: the API's representation ("gupy", "acesso" or the object). New reference. */
json_t *policy_to_json(const struct policy *p);

/* policy_next_attempt: after the attempts-th attempt (1-based) failed at now_ms,
 * for a delivery first attempted at first_ms, the time of the next attempt,
 * or -1 when the delivery is dead: the policy's own delay falls after the
 * deadline, or attempts reached POLICY_MAX_ATTEMPTS.
 * retry_after_ms >= 0 is a Retry-After from the receiver: the delay becomes
 * max(policy delay, retry_after_ms), but never past the deadline — a
 * Retry-After beyond it means one last try at the deadline.
 * rng is a xorshift state used for exponential jitter. */
int64_t policy_next_attempt(const struct policy *p, int attempts, int64_t first_ms, int64_t now_ms,
                            int64_t retry_after_ms, uint64_t *rng);

/* policy_retry_after_ms: a Retry-After header value (RFC 9110 10.2.3:
 * delay-seconds, or an HTTP-date in any of its three forms) as a delay in ms
 * from now_ms, bounded to [0, 30 days]; -1 when v is absent, empty, negative
 * or not one of those forms (the receiver's wish is then ignored). Never
 * overflows, whatever the receiver sends. */
int64_t policy_retry_after_ms(const char *v, int64_t now_ms);

#endif
