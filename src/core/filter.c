/*
 * filter: tiny MongoDB-flavoured matching of events against webhook filters.
 *
 * A filter is {"path": clause, ...}; every clause must hold. A path is split
 * on '.', and each segment looks up an object key or, on an array, an index
 * when the segment is all digits. Clauses: a scalar means equality; an
 * object holds one operator ($eq, $ne, $gt, ... see "the compiled filter"
 * below); the keys $and, $or and $not combine whole filters.
 *
 * A filter is compiled once (filter_compile) into a tree of nodes; the
 * document it is matched against (filter_eval) is JSON
 * text (the envelope of envelope_match_doc), read in place: the event is
 * never decoded into a tree, so a number no C type holds (1e400, a 30-digit
 * integer) is matched like any other instead of failing the request. JSON
 * does not tell 1 from 1.0, so numbers are compared by value: exactly
 * against an integer of the filter (digit by digit, no rounding), and as the
 * nearest double against a real, which is what the filter itself holds.
 *
 * Compiling validates: a filter that compiles is well-formed, and
 * filter_eval never fails on it.
 */
#include "core/filter.h"
#include "core/jsonpath.h"
#include "util/base64.h"
#include "util/hex.h"
#include "util/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/sha.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int filter_fail(struct gerr *err, const char *path, const char *reason)
{
	if (path)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %.*s: %s",
		                (int)utf8_cut(path, strlen(path), 100), path, reason);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "filter: %s", reason);
}

static bool filter_is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* A JSON number's parts, read from its text without converting it, so that
 * no value (1e400, a 30-digit integer) is lost or refused. */
struct fnum {
	bool neg;
	const char *ip, *fp; /* integer and fraction digits */
	size_t il, fl;
	bool intlit;   /* no fraction and no exponent */
	long long exp; /* saturated at +-FNUM_EXP_MAX */
};

/* Past this an exponent cannot change the answer: no fraction is that long. */
#define FNUM_EXP_MAX 100000000000000000LL

static bool fnum_parse(const char *s, size_t n, struct fnum *f)
{
	size_t i = 0;
	memset(f, 0, sizeof(*f));
	if (i < n && s[i] == '-') {
		f->neg = true;
		i++;
	}
	f->ip = s + i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	f->il = (size_t)(s + i - f->ip);
	if (f->il == 0)
		return false;
	f->fp = s + i;
	f->intlit = i == n;
	if (i < n && s[i] == '.') {
		f->fp = s + ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		f->fl = (size_t)(s + i - f->fp);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (f->exp < FNUM_EXP_MAX)
				f->exp = f->exp * 10 + (s[i] - '0');
		if (f->exp > FNUM_EXP_MAX)
			f->exp = FNUM_EXP_MAX;
		if (eneg)
			f->exp = -f->exp;
	}
	return i == n;
}

static char fnum_digit(const struct fnum *f, size_t j)
{
	return j < f->il ? f->ip[j] : f->fp[j - f->il];
}

/* fnum_equal_int: the exact decimal value of f is the integer v. */
static bool fnum_equal_int(const struct fnum *f, json_int_t v)
{
	size_t nd = f->il + f->fl, first = 0, last;
	while (first < nd && fnum_digit(f, first) == '0')
		first++;
	if (first == nd)
		return v == 0; /* zero, also -0.0e7 */
	if (v == 0 || f->neg != (v < 0))
		return false;
	last = nd - 1;
	while (fnum_digit(f, last) == '0')
		last--;
	/* f = digits[first..last] * 10^scale */
	long long scale = f->exp - (long long)f->fl + (long long)(nd - 1 - last);
	char d[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	int dl = snprintf(d, sizeof(d), "%llu", u), tz = 0;
	while (dl > 1 && d[dl - 1] == '0') {
		dl--;
		tz++;
	}
	if (scale != tz || last - first + 1 != (size_t)dl)
		return false;
	for (int k = 0; k < dl; k++)
		if (fnum_digit(f, first + (size_t)k) != d[k])
			return false;
	return true;
}

/* fnum_int: f as an int64 when it is an integer literal that fits. */
static bool fnum_int(const struct fnum *f, const char *s, size_t n, json_int_t *out)
{
	char buf[24];
	if (!f->intlit || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	long long v = strtoll(buf, NULL, 10);
	if (errno)
		return false;
	*out = v;
	return true;
}

/* fnum_double: f rounded to the nearest double (inf when out of range). */
static double fnum_double(const char *s, size_t n)
{
	char small[128];
	char *buf = n < sizeof(small) ? small : malloc(n + 1);
	if (!buf)
		return NAN;
	memcpy(buf, s, n);
	buf[n] = '\0';
	double d = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return d;
}

/* filter_int_real_equal: integer i equals real r exactly. */
static bool filter_int_real_equal(json_int_t i, double r)
{
	/* [-2^63, 2^63) is where a double converts to int64 without overflow. */
	if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0) || r != floor(r))
		return false;
	return (json_int_t)r == i;
}

/* fr_equal: the raw value s[0..n) equals the filter's scalar c. JSON does not
 * tell 1 from 1.0, so numbers compare by value: exactly against an integer,
 * and as the nearest double against a real (what the filter itself holds). */
static bool fr_equal(const char *s, size_t n, const json_t *c)
{
	if (n == 0)
		return false;
	switch (json_typeof(c)) {
	case JSON_STRING:
		return s[0] == '"' &&
		       jsonpath_string_equal(s, n, json_string_value(c), json_string_length(c));
	case JSON_INTEGER: {
		struct fnum f;
		return fnum_parse(s, n, &f) && fnum_equal_int(&f, json_integer_value(c));
	}
	case JSON_REAL: {
		struct fnum f;
		json_int_t i;
		if (!fnum_parse(s, n, &f))
			return false;
		if (fnum_int(&f, s, n, &i))
			return filter_int_real_equal(i, json_real_value(c));
		return fnum_double(s, n) == json_real_value(c);
	}
	case JSON_TRUE: return n == 4 && memcmp(s, "true", 4) == 0;
	case JSON_FALSE: return n == 5 && memcmp(s, "false", 5) == 0;
	case JSON_NULL: return n == 4 && memcmp(s, "null", 4) == 0;
	default: return false;
	}
}

/* fnum_cmp_int: the sign of (exact value of f) - v: -1, 0 or 1. */
static int fnum_cmp_int(const struct fnum *f, json_int_t v)
{
	size_t nd = f->il + f->fl, first = 0, last;
	while (first < nd && fnum_digit(f, first) == '0')
		first++;
	int fs = first == nd ? 0 : f->neg ? -1 : 1, vs = v == 0 ? 0 : v < 0 ? -1 : 1;
	if (fs != vs || fs == 0)
		return fs < vs ? -1 : fs > vs ? 1 : 0;
	last = nd - 1;
	while (fnum_digit(f, last) == '0')
		last--;
	char d[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	int dl = snprintf(d, sizeof(d), "%llu", u);
	/* Magnitudes: the place of the leading digit first, then digit by digit. */
	long long flead = (long long)(nd - first) - (long long)f->fl + f->exp;
	int mag = 0;
	if (flead != dl)
		mag = flead > dl ? 1 : -1;
	for (size_t k = 0; mag == 0 && (first + k <= last || k < (size_t)dl); k++) {
		char a = first + k <= last ? fnum_digit(f, first + k) : '0';
		char b = k < (size_t)dl ? d[k] : '0';
		if (a != b)
			mag = a > b ? 1 : -1;
	}
	return fs * mag;
}

/* filter_int_real_cmp: the sign of i - r, exactly. */
static int filter_int_real_cmp(json_int_t i, double r)
{
	if (r >= 9223372036854775808.0)
		return -1;
	if (r < -9223372036854775808.0)
		return 1;
	double fl = floor(r);
	json_int_t t = (json_int_t)fl;
	if (i != t)
		return i < t ? -1 : 1;
	return fl == r ? 0 : -1;
}

/* fr_string_cmp: the sign of the decoded literal s[0..n) against want[0..wlen)
 * as bytes (UTF-8 keeps code point order). */
static int fr_string_cmp(const char *s, size_t n, const char *want, size_t wlen)
{
	size_t i = 1, end = n - 1, w = 0;
	unsigned char b[4];
	int k;
	while ((k = jsonpath_char(s, end, &i, b)) > 0) {
		for (int j = 0; j < k; j++, w++) {
			if (w == wlen)
				return 1;
			unsigned char c = (unsigned char)want[w];
			if (b[j] != c)
				return b[j] < c ? -1 : 1;
		}
	}
	return w == wlen ? 0 : -1;
}

/* fr_cmp: *c is the sign of the raw value s[0..n) against the operand c (a
 * string or a number); false when they are not of one type. Numbers compare
 * as fr_equal does: exactly against an integer, as the nearest double
 * against a real (exactly when the value is an int64). */
static bool fr_cmp(const char *s, size_t n, const json_t *op, int *c)
{
	if (n == 0)
		return false;
	if (json_is_string(op)) {
		if (n < 2 || s[0] != '"')
			return false;
		*c = fr_string_cmp(s, n, json_string_value(op), json_string_length(op));
		return true;
	}
	struct fnum f;
	if (!fnum_parse(s, n, &f))
		return false;
	if (json_is_integer(op)) {
		*c = fnum_cmp_int(&f, json_integer_value(op));
		return true;
	}
	double r = json_real_value(op);
	json_int_t i;
	if (fnum_int(&f, s, n, &i)) {
		*c = filter_int_real_cmp(i, r);
		return true;
	}
	double d = fnum_double(s, n);
	if (isnan(d))
		return false;
	*c = d < r ? -1 : d > r ? 1 : 0;
	return true;
}

/* ---- the compiled filter ---------------------------------------------------------------- */

/*
 * A tree of nodes. AND, OR and NOT hold children; every other node is a
 * clause: a path, split once into segments, and an operator with its
 * operand (a jansson scalar or array, whose numbers jansson has parsed and
 * whose strings it has decoded) or its compiled pattern.
 *
 * Semantics, as MongoDB's: a clause on an absent path fails, except $ne,
 * $nin and $exists:false, which hold; $gt/$gte/$lt/$lte compare numbers with
 * numbers and strings with strings (bytes, which is code point order) and
 * never match across types; $regex (POSIX ERE) matches string values only,
 * decoded, of at most FILTER_REGEX_SUBJECT_MAX bytes and without NUL; $not
 * under a path negates its operator (so it holds on an absent path), $not
 * at the top negates a whole filter.
 */
enum fop {
	F_AND,
	F_OR,
	F_NOT,
	F_EQ,
	F_NE,
	F_GT,
	F_GTE,
	F_LT,
	F_LTE,
	F_IN,
	F_NIN,
	F_EXISTS,
	F_REGEX,
};

struct fnode {
	enum fop op;
	int nkids;
	struct fnode **kids;
	char *path; /* clauses: the dotted path; segs point into it */
	struct jsonpath_seg *segs;
	int nsegs;
	json_t *arg; /* EQ, NE, ordering: a scalar; IN, NIN: an array */
	bool exists;
	bool has_re;
	regex_t re;
};

struct filter {
	struct fnode *root;
};

struct fcomp {
	struct gerr *err;
	int nodes;
};

static void fnode_free(struct fnode *n)
{
	if (!n)
		return;
	for (int k = 0; k < n->nkids; k++)
		fnode_free(n->kids[k]);
	free(n->kids);
	free(n->path);
	free(n->segs);
	json_decref(n->arg);
	if (n->has_re)
		regfree(&n->re);
	free(n);
}

static struct fnode *fnode_new(struct fcomp *c, enum fop op, const char *path)
{
	if (++c->nodes > FILTER_MAX_NODES) {
		filter_fail(c->err, path, "too many clauses (at most 256 in one filter)");
		return NULL;
	}
	struct fnode *n = calloc(1, sizeof(*n));
	if (!n)
		gerr_set(c->err, GERR_NOMEM, 500, "nomem", "out of memory");
	else
		n->op = op;
	return n;
}

static bool fnode_add(struct fcomp *c, struct fnode *parent, struct fnode *kid)
{
	struct fnode **k = realloc(parent->kids, (size_t)(parent->nkids + 1) * sizeof(*k));
	if (!k) {
		gerr_set(c->err, GERR_NOMEM, 500, "nomem", "out of memory");
		fnode_free(kid);
		return false;
	}
	parent->kids = k;
	k[parent->nkids++] = kid;
	return true;
}

/* fnode_path: the clause's path copied and split into segments. */
static bool fnode_path(struct fcomp *c, struct fnode *n, const char *path)
{
	size_t len = strlen(path);
	int nsegs = 1;
	for (const char *p = path; *p; p++)
		nsegs += *p == '.';
	n->path = malloc(len + 1);
	n->segs = calloc((size_t)nsegs, sizeof(*n->segs));
	if (!n->path || !n->segs) {
		gerr_set(c->err, GERR_NOMEM, 500, "nomem", "out of memory");
		return false;
	}
	memcpy(n->path, path, len + 1);
	jsonpath_split(n->path, n->segs, nsegs);
	n->nsegs = nsegs;
	return true;
}

static const struct {
	const char *name;
	enum fop op;
} fops[] = {
    {"$eq", F_EQ},   {"$ne", F_NE},         {"$neq", F_NE},       {"$gt", F_GT},
    {"$gte", F_GTE}, {"$lt", F_LT},         {"$lte", F_LTE},      {"$in", F_IN},
    {"$nin", F_NIN}, {"$exists", F_EXISTS}, {"$exist", F_EXISTS}, {"$regex", F_REGEX},
    {"$not", F_NOT},
};

#define FOPS_LIST "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $regex or $not"

static struct fnode *fcomp_filter(struct fcomp *c, const json_t *f, int depth);

/* filter_regex_repeats_ok: the bounds of pat's repetitions {n}, {n,} and
 * {n,m} (outside bracket expressions) multiply to at most
 * FILTER_REGEX_REPEAT_MAX. regcomp expands each bound into copies of what it
 * repeats, so nested bounds within 256 bytes ("((a{255}){255}){255}") would
 * cost gigabytes; counting as if every bound were nested is the simple,
 * safe side. */
static bool filter_regex_repeats_ok(const char *pat)
{
	unsigned long long product = 1;
	for (const char *p = pat; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				break;
			continue;
		}
		if (*p == '[') { /* to the closing ']'; a ']' first is literal */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					const char *e = strchr(p + 2, ']');
					p = e ? e : p + strlen(p) - 1;
				}
				p++;
			}
			if (!*p)
				break;
			continue;
		}
		if (*p != '{' || p[1] < '0' || p[1] > '9')
			continue;
		unsigned long long bound = 0, n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (unsigned long long)(*p - '0');
			if (n > FILTER_REGEX_REPEAT_MAX)
				return false;
		}
		bound = n;
		if (*p == ',') {
			n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++) {
				n = n * 10 + (unsigned long long)(*p - '0');
				if (n > FILTER_REGEX_REPEAT_MAX)
					return false;
			}
			if (n > bound)
				bound = n;
		}
		if (bound > 1)
			product *= bound;
		if (product > FILTER_REGEX_REPEAT_MAX)
			return false;
		if (!*p)
			break;
	}
	return true;
}

/* fcomp_regex: the pattern of {"$regex": p} compiled into n. */
static bool fcomp_regex(struct fcomp *c, struct fnode *n, const char *path, const json_t *arg)
{
	const char *why = NULL;
	const char *pat = json_string_value(arg);
	size_t pl = json_string_length(arg);
	if (!pat)
		why = "$regex needs a string";
	else if (pl > FILTER_REGEX_MAX)
		why = "$regex: pattern longer than 256 bytes";
	else if (strlen(pat) != pl)
		why = "$regex: pattern holds a NUL";
	/* Back-references make matching exponential; without them it is linear. */
	for (size_t k = 0; !why && k + 1 < pl; k++) {
		if (pat[k] != '\\')
			continue;
		if (pat[k + 1] >= '1' && pat[k + 1] <= '9')
			why = "$regex: back-references (\\1 to \\9) are not supported";
		k++;
	}
	if (!why && !filter_regex_repeats_ok(pat))
		why = "$regex: repetition counts ({n,m}) multiply to more than 1000";
	if (why) {
		filter_fail(c->err, path, why);
		return false;
	}
	int rc = regcomp(&n->re, pat, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char text[160], msg[200];
		regerror(rc, &n->re, text, sizeof(text));
		snprintf(msg, sizeof(msg), "$regex: %s", text);
		filter_fail(c->err, path, msg);
		return false;
	}
	n->has_re = true;
	return true;
}

/* fcomp_operator: the clause {op: arg} on path (the value of a path key). */
static struct fnode *fcomp_operator(struct fcomp *c, const char *path, const json_t *clause,
                                    int depth)
{
	if (filter_is_scalar(clause)) {
		struct fnode *n = fnode_new(c, F_EQ, path);
		if (n && fnode_path(c, n, path)) {
			n->arg = json_incref((json_t *)clause);
			return n;
		}
		fnode_free(n);
		return NULL;
	}
	if (!json_is_object(clause) || json_object_size(clause) != 1) {
		filter_fail(c->err, path,
		            "value must be a scalar or an object with one operator: " FOPS_LIST);
		return NULL;
	}
	const char *opname = json_object_iter_key(json_object_iter((json_t *)clause));
	json_t *arg = json_object_iter_value(json_object_iter((json_t *)clause));
	size_t k = 0;
	while (k < sizeof(fops) / sizeof(fops[0]) && strcmp(fops[k].name, opname) != 0)
		k++;
	if (k == sizeof(fops) / sizeof(fops[0])) {
		filter_fail(c->err, path, "unknown operator (use " FOPS_LIST ")");
		return NULL;
	}
	enum fop op = fops[k].op;
	if (op == F_NOT) {
		if (depth >= FILTER_MAX_DEPTH) {
			filter_fail(c->err, path, "nested too deep (at most 16 levels)");
			return NULL;
		}
		if (!json_is_object(arg)) {
			filter_fail(c->err, path,
			            "$not needs an operator object such as {\"$in\": [...]}");
			return NULL;
		}
		struct fnode *n = fnode_new(c, F_NOT, path);
		if (!n)
			return NULL;
		struct fnode *kid = fcomp_operator(c, path, arg, depth + 1);
		if (!kid || !fnode_add(c, n, kid)) {
			fnode_free(n);
			return NULL;
		}
		return n;
	}
	const char *why = NULL;
	switch (op) {
	case F_EQ:
	case F_NE:
		if (!filter_is_scalar(arg))
			why = op == F_EQ ? "$eq needs a scalar" : "$ne needs a scalar";
		break;
	case F_GT:
	case F_GTE:
	case F_LT:
	case F_LTE:
		if (!json_is_number(arg) && !json_is_string(arg))
			why = "$gt, $gte, $lt and $lte need a number or a string";
		break;
	case F_IN:
	case F_NIN: {
		size_t i;
		json_t *el;
		if (!json_is_array(arg))
			why = op == F_IN ? "$in needs an array of scalars"
			                 : "$nin needs an array of scalars";
		json_array_foreach (arg, i, el) {
			if (!filter_is_scalar(el))
				why = op == F_IN ? "$in needs an array of scalars"
				                 : "$nin needs an array of scalars";
		}
		break;
	}
	case F_EXISTS:
		if (!json_is_boolean(arg))
			why = "$exists needs true or false";
		break;
	default: break;
	}
	if (why) {
		filter_fail(c->err, path, why);
		return NULL;
	}
	struct fnode *n = fnode_new(c, op, path);
	if (!n || !fnode_path(c, n, path) || (op == F_REGEX && !fcomp_regex(c, n, path, arg))) {
		fnode_free(n);
		return NULL;
	}
	if (op == F_EXISTS)
		n->exists = json_is_true(arg);
	else if (op != F_REGEX)
		n->arg = json_incref(arg);
	return n;
}

/* fcomp_list: {"$and"|"$or": [filters]} into n's children. */
static bool fcomp_list(struct fcomp *c, struct fnode *n, const char *key, const json_t *arg,
                       int depth)
{
	size_t k;
	json_t *el;
	if (!json_is_array(arg) || json_array_size(arg) < 1 ||
	    json_array_size(arg) > FILTER_MAX_LIST) {
		filter_fail(c->err, key, "needs an array of 1 to 32 filters");
		return false;
	}
	json_array_foreach (arg, k, el) {
		struct fnode *kid = fcomp_filter(c, el, depth + 1);
		if (!kid || !fnode_add(c, n, kid))
			return false;
	}
	return true;
}

/* fcomp_filter: a filter object (the whole filter, or one of $and, $or,
 * $not) as an AND of its keys. */
static struct fnode *fcomp_filter(struct fcomp *c, const json_t *f, int depth)
{
	const char *key;
	json_t *val;
	if (depth > FILTER_MAX_DEPTH) {
		filter_fail(c->err, NULL, "nested too deep (at most 16 levels)");
		return NULL;
	}
	if (!json_is_object(f)) {
		filter_fail(c->err, NULL, "must be an object");
		return NULL;
	}
	struct fnode *n = fnode_new(c, F_AND, NULL);
	if (!n)
		return NULL;
	json_object_foreach ((json_t *)f, key, val) {
		struct fnode *kid = NULL;
		if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0) {
			kid = fnode_new(c, key[1] == 'a' ? F_AND : F_OR, key);
			if (kid && !fcomp_list(c, kid, key, val, depth)) {
				fnode_free(kid);
				kid = NULL;
			}
		} else if (strcmp(key, "$not") == 0) {
			kid = fnode_new(c, F_NOT, key);
			struct fnode *g = kid ? fcomp_filter(c, val, depth + 1) : NULL;
			if (!g || !fnode_add(c, kid, g)) {
				fnode_free(kid);
				kid = NULL;
			}
		} else if (!jsonpath_valid(key)) {
			filter_fail(c->err, key,
			            "key must be a dotted path with non-empty segments");
		} else {
			kid = fcomp_operator(c, key, val, depth);
		}
		if (!kid || !fnode_add(c, n, kid)) {
			fnode_free(n);
			return NULL;
		}
	}
	if (n->nkids == 1) { /* an AND of one: the clause itself */
		struct fnode *only = n->kids[0];
		n->nkids = 0;
		fnode_free(n);
		c->nodes--;
		return only;
	}
	return n;
}

struct filter *filter_compile(const json_t *f, struct gerr *err)
{
	struct fcomp c = {err, 0};
	struct filter *out = malloc(sizeof(*out));
	if (!out) {
		gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
		return NULL;
	}
	out->root = fcomp_filter(&c, f, 1);
	if (!out->root) {
		free(out);
		return NULL;
	}
	return out;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	fnode_free(f->root);
	free(f);
}

int filter_validate(const json_t *filter, struct gerr *err)
{
	struct gerr local;
	if (!err)
		err = &local;
	struct filter *f = filter_compile(filter, err);
	if (!f)
		return err->status == 500 ? GERR_NOMEM : GERR_INVALID;
	filter_free(f);
	return 0;
}

/* fr_regex: the raw string literal s[0..n) decoded matches re. */
static bool fr_regex(const regex_t *re, const char *s, size_t n)
{
	if (n < 2 || s[0] != '"')
		return false;
	/* decoded text is never longer than the literal */
	size_t cap = n < FILTER_REGEX_SUBJECT_MAX + 5 ? n : FILTER_REGEX_SUBJECT_MAX + 5;
	char *text = malloc(cap);
	if (!text)
		return false;
	size_t i = 1, end = n - 1, o = 0;
	unsigned char b[4];
	int k;
	bool ok = true;
	while (ok && (k = jsonpath_char(s, end, &i, b)) > 0) {
		if (o + (size_t)k > FILTER_REGEX_SUBJECT_MAX || memchr(b, '\0', (size_t)k))
			ok = false; /* too long, or a NUL regexec would stop at */
		else {
			memcpy(text + o, b, (size_t)k);
			o += (size_t)k;
		}
	}
	if (ok) {
		text[o] = '\0';
		ok = regexec(re, text, 0, NULL, 0) == 0;
	}
	free(text);
	return ok;
}

static bool fnode_eval(const struct fnode *n, const char *doc, size_t len)
{
	switch (n->op) {
	case F_AND:
		for (int k = 0; k < n->nkids; k++)
			if (!fnode_eval(n->kids[k], doc, len))
				return false;
		return true;
	case F_OR:
		for (int k = 0; k < n->nkids; k++)
			if (fnode_eval(n->kids[k], doc, len))
				return true;
		return false;
	case F_NOT: return n->nkids == 1 && !fnode_eval(n->kids[0], doc, len);
	default: break;
	}
	const char *v = NULL;
	size_t vn = 0;
	if (!jsonpath_find(doc, len, n->segs, n->nsegs, &v, &vn))
		v = NULL;
	int c;
	switch (n->op) {
	case F_EQ: return v && fr_equal(v, vn, n->arg);
	case F_NE: return !v || !fr_equal(v, vn, n->arg);
	case F_IN:
	case F_NIN: {
		bool in = false;
		for (size_t k = 0; v && !in && k < json_array_size(n->arg); k++)
			in = fr_equal(v, vn, json_array_get(n->arg, k));
		return n->op == F_IN ? in : !in;
	}
	case F_EXISTS: return (v != NULL) == n->exists;
	case F_GT: return v && fr_cmp(v, vn, n->arg, &c) && c > 0;
	case F_GTE: return v && fr_cmp(v, vn, n->arg, &c) && c >= 0;
	case F_LT: return v && fr_cmp(v, vn, n->arg, &c) && c < 0;
	case F_LTE: return v && fr_cmp(v, vn, n->arg, &c) && c <= 0;
	case F_REGEX: return v && fr_regex(&n->re, v, vn);
	default: return false;
	}
}

bool filter_eval(const struct filter *f, const char *doc, size_t len)
{
	if (!f)
		return true;
	return doc && fnode_eval(f->root, doc, len);
}

/* filter_key_emit: the key text s[0..n) into out as is when it fits, holds
 * no NUL and does not start with '~'; otherwise its digest, '~' followed by
 * the unpadded base64url of SHA-256(s), so that distinct values of any length
 * never share a lane. */
static int filter_key_emit(char *out, size_t outsz, const char *s, size_t n)
{
	if (n < outsz && (n == 0 || s[0] != '~') && !memchr(s, '\0', n)) {
		memcpy(out, s, n);
		out[n] = '\0';
		return (int)n;
	}
	unsigned char md[SHA256_DIGEST_LENGTH];
	char b64[BASE64_ENCODED_LEN(SHA256_DIGEST_LENGTH)];
	SHA256((const unsigned char *)s, n, md);
	int bn = base64_encode(md, sizeof(md), b64, sizeof(b64));
	while (bn > 0 && b64[bn - 1] == '=')
		bn--;
	if (bn <= 0 || (size_t)bn + 1 >= outsz)
		return -1;
	out[0] = '~';
	for (int k = 0; k < bn; k++)
		out[k + 1] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : b64[k];
	out[bn + 1] = '\0';
	return bn + 1;
}

int filter_key_string(const char *doc, size_t len, const char *path, char *out, size_t outsz)
{
	const char *v;
	size_t vn;
	if (!jsonpath_get(doc, len, path, &v, &vn))
		return -1;
	return filter_key_value(v, vn, out, outsz);
}

int filter_key_value(const char *v, size_t vn, char *out, size_t outsz)
{
	if (!out || outsz < FILTER_KEY_MIN || !v || vn == 0)
		return -1;
	switch (v[0]) {
	case '"': {
		/* decoded text is never longer than the literal */
		char *text = malloc(vn);
		if (!text)
			return -1;
		long o = jsonpath_string_decode(v, vn, text);
		int r = o < 0 ? -1 : filter_key_emit(out, outsz, text, (size_t)o);
		free(text);
		return r;
	}
	case 't':
	case 'f':
	case 'n': return filter_key_emit(out, outsz, v, vn);
	case '{':
	case '[': return -1;
	default: break;
	}
	struct fnum f;
	json_int_t i;
	char tmp[64];
	if (!fnum_parse(v, vn, &f))
		return -1;
	if (fnum_int(&f, v, vn, &i)) {
		int n = snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, i);
		return filter_key_emit(out, outsz, tmp, (size_t)n);
	}
	double d = fnum_double(v, vn);
	if (!f.intlit && isfinite(d)) {
		/* jansson's text for the double, as keys were always written. */
		json_t *r = json_real(d);
		size_t n = r ? json_dumpb(r, tmp, sizeof(tmp), JSON_ENCODE_ANY) : 0;
		json_decref(r);
		if (n > 0 && n <= sizeof(tmp))
			return filter_key_emit(out, outsz, tmp, n);
	}
	/* No double holds it (1e400, a 30-digit integer): its own text. */
	return filter_key_emit(out, outsz, v, vn);
}
