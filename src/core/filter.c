/*
 * filter: tiny MongoDB-flavoured matching of events against webhook filters.
 *
 * A filter is {"path": clause, ...}; every clause must hold. A path is split
 * on '.', and each segment looks up an object key or, on an array, an index
 * when the segment is all digits. Clauses: a scalar means equality; {"$in":
 * [scalars]} membership; {"$ne": scalar} inequality (a missing value is not
 * equal, so it matches, as in MongoDB); {"$exists": bool} presence (a JSON
 * null is present).
 *
 * Equality is jansson's json_equal except for numbers: JSON does not tell
 * 1 from 1.0, but jansson keeps integers and reals apart, so numbers are
 * compared by value, exactly (no double rounding of large integers).
 *
 * filter_validate runs when a filter is stored; filter_match trusts it.
 */
#include "core/filter.h"
#include "util/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int filter_fail(struct gerr *err, const char *path, const char *reason)
{
	if (path)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %.*s: %s",
		                (int)utf8_cut(path, strlen(path), 100), path, reason);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %s", reason);
}

/* filter_index: seg[0..n) as an array index, or -1 if not all digits. */
static long long filter_index(const char *seg, size_t n)
{
	long long v = 0;
	if (n == 0 || n > 18) /* 18 digits cannot overflow; no array is that big */
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (seg[k] < '0' || seg[k] > '9')
			return -1;
		v = v * 10 + (seg[k] - '0');
	}
	return v;
}

json_t *filter_get(const json_t *root, const char *path)
{
	json_t *node = (json_t *)root;
	const char *p = path;

	if (!root || !path || !*path)
		return NULL;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0)
			return NULL;
		if (json_is_object(node)) {
			node = json_object_getn(node, p, n);
		} else if (json_is_array(node)) {
			long long idx = filter_index(p, n);
			if (idx < 0 || (size_t)idx >= json_array_size(node))
				return NULL;
			node = json_array_get(node, (size_t)idx);
		} else {
			return NULL;
		}
		if (!node || !dot)
			return node;
		p = dot + 1;
	}
}

static bool filter_is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

/* filter_int_real_equal: integer i equals real r exactly. */
static bool filter_int_real_equal(json_int_t i, double r)
{
	/* [-2^63, 2^63) is where a double converts to int64 without overflow. */
	if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0) || r != floor(r))
		return false;
	return (json_int_t)r == i;
}

static bool filter_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_real(b))
		return filter_int_real_equal(json_integer_value(a), json_real_value(b));
	if (json_is_real(a) && json_is_integer(b))
		return filter_int_real_equal(json_integer_value(b), json_real_value(a));
	return json_equal((json_t *)a, (json_t *)b) != 0;
}

static bool filter_path_ok(const char *path)
{
	if (!*path)
		return false;
	for (const char *p = path; *p; p++)
		if (*p == '.' && (p == path || p[1] == '.' || p[1] == '\0'))
			return false;
	return true;
}

int filter_validate(const json_t *filter, struct gerr *err)
{
	const char *path;
	json_t *clause;

	if (!json_is_object(filter))
		return filter_fail(err, NULL, "must be an object");
	json_object_foreach ((json_t *)filter, path, clause) {
		if (!filter_path_ok(path))
			return filter_fail(err, path,
			                   "key must be a dotted path with non-empty segments");
		if (filter_is_scalar(clause))
			continue;
		if (!json_is_object(clause) || json_object_size(clause) != 1)
			return filter_fail(err, path,
			                   "value must be a scalar or one of {\"$in\": [...]}, "
			                   "{\"$ne\": v}, {\"$exists\": bool}");
		const char *op = json_object_iter_key(json_object_iter(clause));
		json_t *arg = json_object_iter_value(json_object_iter(clause));
		if (strcmp(op, "$in") == 0) {
			size_t k;
			json_t *el;
			if (!json_is_array(arg))
				return filter_fail(err, path, "$in needs an array of scalars");
			json_array_foreach (arg, k, el) {
				if (!filter_is_scalar(el))
					return filter_fail(err, path,
					                   "$in needs an array of scalars");
			}
		} else if (strcmp(op, "$ne") == 0) {
			if (!filter_is_scalar(arg))
				return filter_fail(err, path, "$ne needs a scalar");
		} else if (strcmp(op, "$exists") == 0) {
			if (!json_is_boolean(arg))
				return filter_fail(err, path, "$exists needs true or false");
		} else {
			return filter_fail(err, path, "unknown operator (use $in, $ne or $exists)");
		}
	}
	return 0;
}

static bool filter_clause(const json_t *clause, const json_t *v)
{
	if (!json_is_object(clause))
		return v && filter_equal(v, clause);
	void *it = json_object_iter((json_t *)clause);
	if (!it)
		return false;
	const char *op = json_object_iter_key(it);
	const json_t *arg = json_object_iter_value(it);
	if (strcmp(op, "$in") == 0) {
		if (!v)
			return false;
		for (size_t k = 0; k < json_array_size(arg); k++)
			if (filter_equal(v, json_array_get(arg, k)))
				return true;
		return false;
	}
	if (strcmp(op, "$ne") == 0)
		return !v || !filter_equal(v, arg);
	if (strcmp(op, "$exists") == 0)
		return (v != NULL) == json_is_true(arg);
	return false; /* not validated: fail closed */
}

bool filter_match(const json_t *filter, const json_t *doc)
{
	const char *path;
	json_t *clause;

	if (!filter)
		return true;
	if (!json_is_object(filter))
		return false;
	json_object_foreach ((json_t *)filter, path, clause) {
		if (!filter_clause(clause, filter_get(doc, path)))
			return false;
	}
	return true;
}

static int filter_copy(char *out, size_t outsz, const char *s, size_t n)
{
	if (n > outsz - 1)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return (int)n;
}

int filter_key_string(const json_t *root, const char *path, char *out, size_t outsz)
{
	const json_t *v = filter_get(root, path);
	char tmp[64];

	if (!v || !out || outsz == 0)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return filter_copy(out, outsz, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: {
		int n = snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return filter_copy(out, outsz, tmp, (size_t)n);
	}
	case JSON_REAL: {
		/* jansson's own text for the number, so keys match what it prints. */
		size_t n = json_dumpb(v, tmp, sizeof(tmp), JSON_ENCODE_ANY);
		if (n == 0 || n > sizeof(tmp))
			return -1;
		return filter_copy(out, outsz, tmp, n);
	}
	case JSON_TRUE: return filter_copy(out, outsz, "true", 4);
	case JSON_FALSE: return filter_copy(out, outsz, "false", 5);
	case JSON_NULL: return filter_copy(out, outsz, "null", 4);
	default: return -1;
	}
}
