/*
 * receipt: reading a received body's id, event, date, entity key and kept
 * fields, and the entity order rule (see receipt.h).
 *
 * read_text decodes a string value into a bounded buffer and checks it is
 * printable (ids and event names end up in logs, URLs of the API and
 * PostgreSQL text, which holds no NUL); the rest is copying raw values,
 * met while the body is validated (json_validate_each: one pass over its
 * top level) and followed into their members with jsonpath.
 */
#include "core/receipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/jsonpath.h"
#include "util/json_scan.h"
#include "util/utf8.h"

static int bad(struct gerr *err, const char *fmt, const char *path, const char *what)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_body", fmt,
	                (int)utf8_cut(path, strlen(path), 100), path, what);
}

/* read_text: the string at v[0..n) decoded into out (outsz bytes with the
 * NUL), 1 to outsz-1 bytes, no control characters. */
static int read_text(const char *v, size_t n, char *out, size_t outsz, const char *path,
                     const char *field, struct gerr *err)
{
	if (n == 0 || v[0] != '"')
		return bad(err, "%.*s (%s) must be a string", path, field);
	char *tmp = malloc(n);
	if (!tmp)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	long k = jsonpath_string_decode(v, n, tmp);
	int rc = 0;
	if (k <= 0)
		rc = bad(err, "%.*s (%s) must not be empty", path, field);
	else if ((size_t)k >= outsz)
		rc = gerr_set(err, GERR_INVALID, 400, "invalid_body",
		              "%.*s (%s) is longer than %zu bytes",
		              (int)utf8_cut(path, strlen(path), 100), path, field, outsz - 1);
	else {
		for (long i = 0; i < k && !rc; i++) {
			unsigned char c = (unsigned char)tmp[i];
			if (c < 0x20 || c == 0x7f)
				rc = bad(err, "%.*s (%s) holds a control character", path, field);
		}
		if (!rc) {
			memcpy(out, tmp, (size_t)k);
			out[k] = '\0';
		}
	}
	free(tmp);
	return rc;
}

static bool is_integer(const char *v, size_t n)
{
	size_t i = v[0] == '-' ? 1 : 0;
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* read_id: the sender's id, at v[0..n) (v NULL: absent) or, for a source
 * without an idPath, the signed id. */
static int read_id(const char *v, size_t n, const struct receipt_spec *spec, const char *signed_id,
                   struct receipt_fields *out, struct gerr *err)
{
	if (!spec->id_path) {
		if (!signed_id || !*signed_id || strlen(signed_id) > RECEIPT_ID_MAX)
			return gerr_set(
			    err, GERR_INVALID, 400, "invalid_body",
			    "the request carries no signed message id to deduplicate by");
		snprintf(out->msg_id, sizeof(out->msg_id), "%s", signed_id);
		return 0;
	}
	if (!v)
		return bad(err, "%.*s (%s) is missing", spec->id_path, "the event's id");
	if (n > 0 && v[0] != '"') {
		if (!is_integer(v, n))
			return bad(err, "%.*s (%s) must be a string or an integer", spec->id_path,
			           "the event's id");
		if (n > RECEIPT_ID_MAX)
			return bad(err, "%.*s (%s) is too long", spec->id_path, "the event's id");
		memcpy(out->msg_id, v, n);
		out->msg_id[n] = '\0';
		return 0;
	}
	return read_text(v, n, out->msg_id, sizeof(out->msg_id), spec->id_path, "the event's id",
	                 err);
}

/* read_kept: the kept fields, their values at vals[0..spec->nkeep) (NULL:
 * absent, left out). */
static int read_kept(const struct receipt_spec *spec, const char *const *vals, const size_t *vlens,
                     struct buf *kept, struct gerr *err)
{
	buf_putc(kept, '{');
	bool first = true;
	for (int i = 0; i < spec->nkeep; i++) {
		if (!vals[i])
			continue;
		if (!first)
			buf_putc(kept, ',');
		first = false;
		buf_json_str(kept, spec->keep_names[i], strlen(spec->keep_names[i]));
		buf_putc(kept, ':');
		buf_append(kept, vals[i], vlens[i]);
		if (kept->len > RECEIPT_KEPT_MAX)
			return gerr_set(err, GERR_INVALID, 400, "invalid_body",
			                "the kept fields of this body are larger than %d bytes",
			                RECEIPT_KEPT_MAX);
	}
	buf_putc(kept, '}');
	return kept->oom ? gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory") : 0;
}

/* The paths receipt_read looks up, all while the body is validated. */
enum { P_ID, P_EVENT, P_DATE, P_KEY, P_KEPT, P_COUNT = P_KEPT + RECEIPT_KEEP_MAX };

/* What the validation's walk of the top level found: for each path, the
 * member its first segment names (the last of a repeated one counts, as in
 * jsonpath_get). */
struct picks {
	const char *const *paths;
	int n;
	bool members; /* the top is an object with members */
	const char *val[P_COUNT];
	size_t len[P_COUNT];
};

static void pick(void *ctx, const struct json_member *m)
{
	struct picks *p = ctx;
	p->members = true;
	for (int k = 0; k < p->n; k++) {
		/* m->key is the raw text between the quotes, which surround it */
		if (p->paths[k] && jsonpath_string_equal(m->key - 1, m->keylen + 2, p->paths[k],
		                                         strcspn(p->paths[k], "."))) {
			p->val[k] = m->val;
			p->len[k] = m->vallen;
		}
	}
}

int receipt_read(const char *body, size_t len, const struct receipt_spec *spec,
                 const char *signed_id, struct receipt_fields *out, struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->kept);
	if (spec->nkeep < 0 || spec->nkeep > RECEIPT_KEEP_MAX)
		return gerr_set(err, GERR_INVALID, 400, "invalid_body",
		                "a source keeps at most %d fields", RECEIPT_KEEP_MAX);
	const char *paths[P_COUNT] = {spec->id_path, spec->event_path, spec->date_path,
	                              spec->entity_key_path};
	for (int i = 0; i < spec->nkeep; i++)
		paths[P_KEPT + i] = spec->keep_paths[i];
	/* one pass validates the body and meets its top-level members: a
	 * lookup of its own would walk them all again (its large "data" too) */
	struct picks pk = {.paths = paths, .n = P_KEPT + spec->nkeep};
	struct gerr jerr = {0};
	if (json_validate_each(body, len, pick, &pk, &jerr))
		return gerr_set(err, GERR_INVALID, 400, "invalid_body", "the body is not JSON: %s",
		                jerr.msg);
	const char *vals[P_COUNT];
	size_t vlens[P_COUNT];
	for (int k = 0; k < pk.n; k++) {
		vals[k] = NULL;
		vlens[k] = 0;
		if (!paths[k])
			continue;
		const char *dot = strchr(paths[k], '.');
		if (!pk.members) /* an array at the top (or {}): its paths start with an index */
			jsonpath_get(body, len, paths[k], &vals[k], &vlens[k]);
		else if (pk.val[k] && !dot) {
			vals[k] = pk.val[k];
			vlens[k] = pk.len[k];
		} else if (pk.val[k])
			jsonpath_get(pk.val[k], pk.len[k], dot + 1, &vals[k], &vlens[k]);
	}

	int rc = read_id(vals[P_ID], vlens[P_ID], spec, signed_id, out, err);
	if (rc)
		return rc;
	if (!vals[P_EVENT])
		return bad(err, "%.*s (%s) is missing", spec->event_path, "the event's name");
	if ((rc = read_text(vals[P_EVENT], vlens[P_EVENT], out->event, sizeof(out->event),
	                    spec->event_path, "the event's name", err)))
		return rc;
	if (!vals[P_DATE])
		return bad(err, "%.*s (%s) is missing", spec->date_path, "the event's date");
	if ((rc = read_text(vals[P_DATE], vlens[P_DATE], out->date, sizeof(out->date),
	                    spec->date_path, "the event's date", err)))
		return rc;
	if ((rc = isodate_parse(out->date, strlen(out->date), &out->when, spec->date_path, err))) {
		snprintf(err->code, sizeof(err->code), "invalid_body");
		return rc;
	}
	/* a null key names no entity: receipts whose key is null share nothing */
	const char *kv = vals[P_KEY];
	size_t kn = vlens[P_KEY];
	if (kv && !(kn == 4 && memcmp(kv, "null", 4) == 0) &&
	    filter_key_value(kv, kn, out->entity_key, sizeof(out->entity_key)) > 0)
		out->has_entity = true;
	return read_kept(spec, vals + P_KEPT, vlens + P_KEPT, &out->kept, err);
}

void receipt_fields_free(struct receipt_fields *f)
{
	buf_free(&f->kept);
}

bool receipt_decide(const struct receipt_entity *cur, const struct isodate *when)
{
	return !cur || !cur->exists || isodate_cmp(when, &cur->latest) >= 0;
}

/* The most members one kept object may have: every source of a company that
 * names the same entity type keeps at most 32, and there are not thousands. */
#define KEPT_MEMBERS_MAX 1024

int receipt_merge_kept(const char *cur, size_t curlen, const char *fresh, size_t freshlen,
                       struct buf *out, struct gerr *err)
{
	struct json_member *a = calloc(2 * KEPT_MEMBERS_MAX, sizeof(*a));
	if (!a)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	struct json_member *b = a + KEPT_MEMBERS_MAX;
	int na = 0, nb = 0, rc;
	if ((rc = json_scan_object(cur, curlen, a, KEPT_MEMBERS_MAX, &na, err)) ||
	    (rc = json_scan_object(fresh, freshlen, b, KEPT_MEMBERS_MAX, &nb, err))) {
		free(a);
		return rc;
	}
	buf_putc(out, '{');
	bool first = true;
	for (int i = 0; i < na + nb; i++) {
		const struct json_member *m = i < na ? &a[i] : &b[i - na];
		const struct json_member *use = m;
		if (i < na) {
			/* replaced by fresh's member of the same (raw) name? */
			for (int k = 0; k < nb; k++)
				if (b[k].keylen == m->keylen &&
				    memcmp(b[k].key, m->key, m->keylen) == 0)
					use = &b[k];
		} else {
			bool seen = false;
			for (int k = 0; k < na && !seen; k++)
				seen = a[k].keylen == m->keylen &&
				       memcmp(a[k].key, m->key, m->keylen) == 0;
			if (seen)
				continue;
		}
		if (!first)
			buf_putc(out, ',');
		first = false;
		buf_putc(out, '"');
		buf_append(out, m->key, m->keylen);
		buf_puts(out, "\":");
		buf_append(out, use->val, use->vallen);
	}
	buf_putc(out, '}');
	free(a);
	return out->oom ? gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory") : 0;
}
