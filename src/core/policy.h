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
 */
#ifndef GANCHO_CORE_POLICY_H
#define GANCHO_CORE_POLICY_H

#include <jansson.h>
#include <stdint.h>

#include "util/gerr.h"

#define POLICY_MAX_STEPS 32

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
 * Validates ranges (steps >= 1 s… no, >= 0 s; deadline > 0; at most 30 days). */
int policy_parse(const json_t *v, struct policy *out, struct gerr *err);
/* policy_to_json: the API's representation ("gupy", "acesso" or the object). New reference. */
json_t *policy_to_json(const struct policy *p);

/* policy_next_attempt: after the attempts-th attempt (1-based) failed at now_ms,
 * for a delivery first attempted at first_ms, the time of the next attempt,
 * or -1 when it would fall after the deadline (the delivery is dead).
 * retry_after_ms >= 0 is a Retry-After from the receiver: the delay becomes
 * max(policy delay, retry_after_ms), still bounded by the deadline.
 * rng is a xorshift state used for exponential jitter. */
int64_t policy_next_attempt(const struct policy *p, int attempts, int64_t first_ms, int64_t now_ms,
                            int64_t retry_after_ms, uint64_t *rng);

#endif
