/*
 * policy: retry schedules — the gupy and acesso presets, a custom list of
 * steps, or capped exponential backoff with jitter — and the deadline
 * after which a delivery is declared dead.
 *
 * Everything is in milliseconds internally; the API speaks seconds
 * (possibly fractional), converted once here in parse and to_json.
 */
#include "core/policy.h"
#include "util/civil.h"
#include "util/utf8.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
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

/* policy_floor: refuse (strict) or raise (lenient, a stored policy) a delay
 * under the floor. Returns 0 or -1. */
static int policy_floor(int64_t *ms, bool strict)
{
	if (*ms >= POLICY_MIN_STEP_MS)
		return 0;
	if (strict)
		return -1;
	*ms = POLICY_MIN_STEP_MS;
	return 0;
}

/* policy_max_attempts: the most attempts p could make before its deadline,
 * counting every delay at its smallest (jitter's low end, the floor), or
 * POLICY_MAX_ATTEMPTS + 1 when that is more than the cap. */
static int64_t policy_max_attempts(const struct policy *p)
{
	int64_t at = 0, n = 1, d;
	int i = 0;

	for (;;) {
		if (p->kind == POLICY_EXPONENTIAL) {
			d = p->initial_ms;
			for (int k = 0; k < i && d < p->max_ms; k++)
				d *= 2;
			if (d > p->max_ms)
				d = p->max_ms;
			d /= 2;
		} else {
			d = p->steps_ms[i < p->nsteps ? i : p->nsteps - 1];
		}
		if (d < POLICY_MIN_STEP_MS)
			d = POLICY_MIN_STEP_MS;
		if (i >= p->nsteps && (p->kind != POLICY_EXPONENTIAL || d * 2 >= p->max_ms))
			break; /* from here on the delay repeats */
		if (at + d > p->deadline_ms)
			return n;
		at += d;
		n++;
		i++;
	}
	n += (p->deadline_ms - at) / d;
	return n > POLICY_MAX_ATTEMPTS ? POLICY_MAX_ATTEMPTS + 1 : n;
}

static int policy_parse_schedule(const json_t *v, struct policy *out, bool strict, struct gerr *err)
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
		if (policy_seconds(s, &out->steps_ms[i]) < 0 ||
		    policy_floor(&out->steps_ms[i], strict) < 0)
			return policy_bad(
			    err,
			    "schedule steps must be numbers of seconds, >= 1 and at most 30 days");
	}
	out->nsteps = (int)json_array_size(steps);
	return policy_deadline(v, out, err);
}

static int policy_parse_exponential(const json_t *v, struct policy *out, bool strict,
                                    struct gerr *err)
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
	if (!init || policy_seconds(init, &out->initial_ms) < 0 || out->initial_ms <= 0 ||
	    policy_floor(&out->initial_ms, strict) < 0)
		return policy_bad(err, "exponential.initialSeconds must be a number of seconds, >= "
		                       "1 and at most 30 days");
	if (!max || policy_seconds(max, &out->max_ms) < 0 || out->max_ms < out->initial_ms)
		return policy_bad(err, "exponential.maxSeconds must be a number of seconds, >= "
		                       "initialSeconds and at most 30 days");
	return policy_deadline(v, out, err);
}

/* policy_parse_mode: policy_parse (strict) or policy_load (lenient). */
static int policy_parse_mode(const json_t *v, struct policy *out, bool strict, struct gerr *err)
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
		rc = policy_parse_exponential(expo, &p, strict, err);
	} else {
		rc = policy_parse_schedule(v, &p, strict, err);
	}
	if (rc == 0 && strict && policy_max_attempts(&p) > POLICY_MAX_ATTEMPTS)
		rc = gerr_set(err, GERR_INVALID, 400, "invalid_field",
		              "retryPolicy: allows more than %d attempts before its deadline; use "
		              "longer steps or a shorter deadline",
		              POLICY_MAX_ATTEMPTS);
	/* Only touch *out on success, so a failed PATCH leaves the old policy. */
	if (rc == 0)
		*out = p;
	return rc;
}

int policy_parse(const json_t *v, struct policy *out, struct gerr *err)
{
	return policy_parse_mode(v, out, true, err);
}

int policy_load(const json_t *v, struct policy *out, struct gerr *err)
{
	return policy_parse_mode(v, out, false, err);
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

	if (attempts >= POLICY_MAX_ATTEMPTS)
		return -1;
	if (delay < POLICY_MIN_STEP_MS)
		delay = POLICY_MIN_STEP_MS; /* a policy stored before the floor */
	/* Compared as "delay > room" rather than "now + delay > limit" so no
	 * sum can overflow. */
	if (now_ms >= limit || delay > limit - now_ms)
		return -1;
	/* The receiver's wish, but never past the deadline: a Retry-After
	 * beyond it gets one last try at the deadline. */
	if (retry_after_ms > delay)
		delay = retry_after_ms < limit - now_ms ? retry_after_ms : limit - now_ms;
	return now_ms + delay;
}

static int policy_month(const char *s)
{
	static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	for (int i = 0; i < 12; i++)
		if (strcmp(s, names[i]) == 0)
			return i + 1;
	return 0;
}

/* policy_http_date_ms: an HTTP-date as ms since the epoch, or -1. */
static int64_t policy_http_date_ms(const char *v)
{
	char mon[4] = "";
	int d = 0, y = 0, hh = 0, mm = 0, ss = 0, end = -1;

	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (sscanf(v, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm,
	           &ss, &end) == 6 &&
	    end > 0 && v[end] == '\0')
		goto got;
	end = -1;
	/* obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	if (sscanf(v, "%*9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm,
	           &ss, &end) == 6 &&
	    end > 0 && v[end] == '\0') {
		y += y < 70 ? 2000 : 1900;
		goto got;
	}
	end = -1;
	/* obsolete asctime: Sun Nov  6 08:49:37 1994 */
	if (sscanf(v, "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &d, &hh, &mm, &ss, &y,
	           &end) == 6 &&
	    end > 0 && v[end] == '\0')
		goto got;
	return -1;
got : {
	int m = policy_month(mon);
	if (!m || d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 || ss > 60 || hh < 0 ||
	    mm < 0 || ss < 0)
		return -1;
	return ((civil_days_from_ymd(y, m, d) * 24 + hh) * 60 + mm) * 60 * SEC + ss * SEC;
}
}

int64_t policy_retry_after_ms(const char *v, int64_t now_ms)
{
	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || n > 64)
		return -1;
	char s[65];
	memcpy(s, v, n);
	s[n] = '\0';

	if (s[0] >= '0' && s[0] <= '9') {
		/* delay-seconds: digits only, saturated at the 30-day bound
		 * while reading, so no length of digits can overflow */
		int64_t secs = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (secs <= POLICY_MAX_MS / SEC)
				secs = secs * 10 + (s[i] - '0');
		}
		return secs >= POLICY_MAX_MS / SEC ? POLICY_MAX_MS : secs * SEC;
	}
	int64_t at = policy_http_date_ms(s);
	if (at < 0)
		return -1;
	if (at <= now_ms)
		return 0; /* a date in the past: now */
	return at - now_ms > POLICY_MAX_MS ? POLICY_MAX_MS : at - now_ms;
}
