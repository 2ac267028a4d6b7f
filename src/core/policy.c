/*
 * policy: retry schedules — the gupy and acesso presets, a custom list of
 * steps, or capped exponential backoff with jitter — and the deadline
 * after which a delivery is declared dead.
 *
 * Everything is in milliseconds internally; the API speaks seconds
 * (possibly fractional), converted once here in parse and to_json.
 */
#include "core/policy.h"
#include "util/utf8.h"

#include <math.h>
#include <string.h>

#define SEC 1000LL
#define MIN (60 * SEC)
#define DAY (24 * 60 * MIN)
/* No policy may keep a delivery alive longer than this: it bounds how long
 * the store holds open deliveries and keeps all arithmetic far from overflow. */
#define POLICY_MAX_MS (30 * DAY)

void policy_default(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = POLICY_GUPY;
	p->nsteps = 4;
	p->steps_ms[0] = 1 * MIN;
	p->steps_ms[1] = 5 * MIN;
	p->steps_ms[2] = 15 * MIN;
	p->steps_ms[3] = 30 * MIN;
	p->deadline_ms = 2 * 60 * MIN;
}

static void policy_acesso(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = POLICY_ACESSO;
	p->nsteps = 1;
	p->steps_ms[0] = 5 * SEC;
	p->deadline_ms = 3 * DAY;
}

static int policy_bad(struct gerr *err, const char *what)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "retryPolicy: %s", what);
}

/* policy_seconds: v (a JSON number of seconds, 0..30 days) as milliseconds
 * into *ms. Returns 0 or -1. */
static int policy_seconds(const json_t *v, int64_t *ms)
{
	if (!json_is_number(v))
		return -1;
	double s = json_number_value(v);
	if (!isfinite(s) || s < 0 || s * 1000.0 > (double)POLICY_MAX_MS)
		return -1;
	*ms = (int64_t)llround(s * 1000.0);
	return 0;
}

/* policy_deadline: the required "deadlineSeconds" of obj, > 0 and <= 30 days. */
static int policy_deadline(const json_t *obj, struct policy *out, struct gerr *err)
{
	const json_t *d = json_object_get(obj, "deadlineSeconds");
	if (!d)
		return policy_bad(err, "deadlineSeconds is required");
	if (policy_seconds(d, &out->deadline_ms) < 0 || out->deadline_ms < 1)
		return policy_bad(
		    err, "deadlineSeconds must be a number of seconds, > 0 and at most 30 days");
	return 0;
}

/* policy_only_keys: refuse keys outside allowed (NULL-terminated), so a
 * misspelt "maxSecond" is an error rather than a silently different policy. */
static int policy_only_keys(const json_t *obj, const char *const *allowed, struct gerr *err)
{
	const char *key;
	json_t *val;

	json_object_foreach ((json_t *)obj, key, val) {
		int found = 0;
		for (int i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				found = 1;
		if (!found)
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "retryPolicy: unknown field \"%.*s\"",
			                (int)utf8_cut(key, strlen(key), 64), key);
	}
	return 0;
}

static int policy_parse_schedule(const json_t *v, struct policy *out, struct gerr *err)
{
	static const char *const keys[] = {"schedule", "deadlineSeconds", NULL};
	const json_t *steps = json_object_get(v, "schedule");
	size_t i;
	json_t *s;

	if (policy_only_keys(v, keys, err) < 0)
		return GERR_INVALID;
	if (!json_is_array(steps) || json_array_size(steps) < 1 ||
	    json_array_size(steps) > POLICY_MAX_STEPS)
		return gerr_set(
		    err, GERR_INVALID, 400, "invalid_field",
		    "retryPolicy: schedule must be an array of 1 to %d numbers of seconds",
		    POLICY_MAX_STEPS);
	memset(out, 0, sizeof(*out));
	out->kind = POLICY_SCHEDULE;
	json_array_foreach (steps, i, s) {
		if (policy_seconds(s, &out->steps_ms[i]) < 0)
			return policy_bad(
			    err,
			    "schedule steps must be numbers of seconds, >= 0 and at most 30 days");
	}
	out->nsteps = (int)json_array_size(steps);
	return policy_deadline(v, out, err);
}

static int policy_parse_exponential(const json_t *v, struct policy *out, struct gerr *err)
{
	static const char *const keys[] = {"initialSeconds", "maxSeconds", "deadlineSeconds", NULL};
	const json_t *init, *max;

	if (!json_is_object(v))
		return policy_bad(err, "exponential must be an object");
	if (policy_only_keys(v, keys, err) < 0)
		return GERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->kind = POLICY_EXPONENTIAL;
	init = json_object_get(v, "initialSeconds");
	max = json_object_get(v, "maxSeconds");
	if (!init || policy_seconds(init, &out->initial_ms) < 0 || out->initial_ms < 1)
		return policy_bad(err, "exponential.initialSeconds must be a number of seconds, > "
		                       "0 and at most 30 days");
	if (!max || policy_seconds(max, &out->max_ms) < 0 || out->max_ms < out->initial_ms)
		return policy_bad(err, "exponential.maxSeconds must be a number of seconds, >= "
		                       "initialSeconds and at most 30 days");
	return policy_deadline(v, out, err);
}

int policy_parse(const json_t *v, struct policy *out, struct gerr *err)
{
	struct policy p;
	int rc;

	if (!v || json_is_null(v)) {
		policy_default(out);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "gupy") == 0)
			policy_default(out);
		else if (strcmp(s, "acesso") == 0)
			policy_acesso(out);
		else
			return gerr_set(
			    err, GERR_INVALID, 400, "invalid_field",
			    "retryPolicy: unknown preset \"%.*s\" (use \"gupy\" or \"acesso\")",
			    (int)utf8_cut(s, strlen(s), 64), s);
		return 0;
	}
	if (!json_is_object(v))
		return policy_bad(err, "must be \"gupy\", \"acesso\" or an object");

	const json_t *sched = json_object_get(v, "schedule");
	const json_t *expo = json_object_get(v, "exponential");
	if ((sched != NULL) == (expo != NULL))
		return policy_bad(err, "needs exactly one of \"schedule\" or \"exponential\"");
	if (expo) {
		static const char *const keys[] = {"exponential", NULL};
		if (policy_only_keys(v, keys, err) < 0)
			return GERR_INVALID;
		rc = policy_parse_exponential(expo, &p, err);
	} else {
		rc = policy_parse_schedule(v, &p, err);
	}
	/* Only touch *out on success, so a failed PATCH leaves the old policy. */
	if (rc == 0)
		*out = p;
	return rc;
}

/* policy_json_seconds: ms as seconds, an integer when whole so "60" stays "60". */
static json_t *policy_json_seconds(int64_t ms)
{
	if (ms % SEC == 0)
		return json_integer(ms / SEC);
	return json_real((double)ms / 1000.0);
}

json_t *policy_to_json(const struct policy *p)
{
	json_t *o;

	switch (p->kind) {
	case POLICY_GUPY: return json_string("gupy");
	case POLICY_ACESSO: return json_string("acesso");
	case POLICY_SCHEDULE: {
		json_t *steps = json_array();
		for (int i = 0; i < p->nsteps; i++)
			json_array_append_new(steps, policy_json_seconds(p->steps_ms[i]));
		o = json_object();
		json_object_set_new(o, "schedule", steps);
		json_object_set_new(o, "deadlineSeconds", policy_json_seconds(p->deadline_ms));
		return o;
	}
	case POLICY_EXPONENTIAL: {
		json_t *e = json_object();
		json_object_set_new(e, "initialSeconds", policy_json_seconds(p->initial_ms));
		json_object_set_new(e, "maxSeconds", policy_json_seconds(p->max_ms));
		json_object_set_new(e, "deadlineSeconds", policy_json_seconds(p->deadline_ms));
		o = json_object();
		json_object_set_new(o, "exponential", e);
		return o;
	}
	}
	return json_string("gupy");
}

/* policy_xorshift: Marsaglia's xorshift64; jitter needs spread, not secrecy. */
static uint64_t policy_xorshift(uint64_t *s)
{
	uint64_t x = *s;
	if (x == 0)
		x = 0x9e3779b97f4a7c15ULL;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* policy_delay: the policy's wait after the attempts-th failure. */
static int64_t policy_delay(const struct policy *p, int attempts, uint64_t *rng)
{
	if (attempts < 1)
		attempts = 1;
	if (p->kind != POLICY_EXPONENTIAL) {
		if (p->nsteps < 1)
			return 0;
		int i = attempts - 1 < p->nsteps ? attempts - 1 : p->nsteps - 1;
		return p->steps_ms[i];
	}

	/* Double by steps, stopping at the cap, so a large attempt count
	 * cannot overflow a shift. */
	int64_t d = p->initial_ms;
	for (int i = 1; i < attempts && d < p->max_ms; i++)
		d *= 2;
	if (d > p->max_ms)
		d = p->max_ms;
	if (d < 1)
		return 0;

	uint64_t local = 0;
	int64_t lo = d / 2;
	uint64_t span = (uint64_t)(d - lo) + 1;
	return lo + (int64_t)(policy_xorshift(rng ? rng : &local) % span);
}

int64_t policy_next_attempt(const struct policy *p, int attempts, int64_t first_ms, int64_t now_ms,
                            int64_t retry_after_ms, uint64_t *rng)
{
	int64_t delay = policy_delay(p, attempts, rng);
	int64_t limit = first_ms + p->deadline_ms;

	if (retry_after_ms > delay)
		delay = retry_after_ms;
	/* Compared as "delay > room" rather than "now + delay > limit" so a
	 * huge Retry-After cannot overflow. */
	if (now_ms > limit || delay > limit - now_ms)
		return -1;
	return now_ms + delay;
}
