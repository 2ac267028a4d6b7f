/*
 * source: validation, storage form and compiled form of a receiving URL.
 * See source.h for the fields and the rules; this file follows webhook.c's
 * shape: config_build validates and normalises a body (merged onto the
 * stored config for a PATCH), compile turns a stored config into the
 * immutable struct the receiving path reads, to_json answers it without
 * secrets. Verification is delegated whole to core/verifier, allowIps to
 * core/netaddr, and the dotted-path rule to core/filter.
 */
#include "core/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/jsonpath.h"
#include "core/netaddr.h"
#include "core/verifier.h"
#include "util/utf8.h"

static int bad(struct gerr *err, const char *field, const char *why)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: %s", field, why);
}

static int missing(struct gerr *err, const char *field, const char *what)
{
	return gerr_set(err, GERR_INVALID, 400, "missing_field", "%s: required%s", field, what);
}

/* The fields of a stored config, in the order answers show them. */
static const char *const known_keys[] = {"name",         "verification", "allowIps",
                                         "idPath",       "eventPath",    "datePath",
                                         "maxBodyBytes", "entity",       NULL};
/* Fields of the answer that gancho sets (a body that echoes them is refused). */
static const char *const read_only[] = {"url", "createdAt", "updatedAt", NULL};

static bool in_list(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* check_path: v is a dotted path (see source.h). field names it. */
static int check_path(const json_t *v, const char *field, struct gerr *err)
{
	if (!json_is_string(v))
		return bad(err, field, "must be a dotted path such as \"data.application.id\"");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n > SOURCE_PATH_MAX)
		return bad(err, field, "must be a dotted path of 1 to 256 bytes");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return bad(err, field, "must not contain control characters or NUL");
	}
	if (!jsonpath_valid(s))
		return bad(err, field,
		           "must be a dotted path with non-empty segments, such as"
		           " \"data.application.id\"");
	return 0;
}

/* name_chars: s[0..n) (valid UTF-8: jansson checks) in characters. */
static size_t name_chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static int check_name(const json_t *v, struct gerr *err)
{
	if (!json_is_string(v))
		return bad(err, "name", "must be a string of 1 to 200 characters");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (memchr(s, '\0', n))
		return bad(err, "name", "must not contain a NUL character");
	size_t chars = name_chars(s, n);
	if (chars == 0 || chars > SOURCE_NAME_MAX)
		return bad(err, "name", "must be a string of 1 to 200 characters");
	return 0;
}

/* token_ok: s[0..n) is 1..max bytes of [A-Za-z0-9_-] and, with dot, '.'. */
static bool token_ok(const char *s, size_t n, size_t max, bool dot)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || (dot && c == '.')))
			return false;
	}
	return true;
}

static int check_int(const json_t *v, const char *field, long long lo, long long hi,
                     struct gerr *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field",
		                "%s: must be an integer from %lld to %lld", field, lo, hi);
	return 0;
}

/* check_keep: entity.keep, an object of at most SOURCE_KEEP_MAX name → path. */
static int check_keep(const json_t *keep, struct gerr *err)
{
	if (!json_is_object(keep))
		return bad(err, "entity.keep",
		           "must be an object of names to dotted paths, such as"
		           " {\"jobId\": \"data.job.id\"}");
	if (json_object_size(keep) > SOURCE_KEEP_MAX)
		return bad(err, "entity.keep", "at most 32 fields");
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)keep, k, v) {
		char ex[UTF8_EXCERPT_SIZE], field[32 + UTF8_EXCERPT_SIZE];
		snprintf(field, sizeof(field), "entity.keep.%s", utf8_excerpt(k, ex));
		if (!token_ok(k, strlen(k), SOURCE_KEEP_NAME_MAX, false))
			return bad(err, field, "a kept field's name is 1 to 64 of [A-Za-z0-9_-]");
		int rc = check_path(v, field, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* check_entity: the entity block; *out its normalised copy (nulls dropped). */
static int check_entity(const json_t *e, json_t **out, struct gerr *err)
{
	static const char *const keys[] = {"type", "key", "keep", "reorderWindowSeconds", NULL};
	if (!json_is_object(e))
		return bad(err, "entity",
		           "must be an object {type, key, keep?, reorderWindowSeconds?}");
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)e, k, v) {
		if (!in_list(keys, k)) {
			char ex[UTF8_EXCERPT_SIZE];
			return gerr_set(err, GERR_INVALID, 400, "invalid_field",
			                "entity.%s: unknown field", utf8_excerpt(k, ex));
		}
	}
	const json_t *type = json_object_get(e, "type");
	const json_t *key = json_object_get(e, "key");
	const json_t *keep = json_object_get(e, "keep");
	const json_t *win = json_object_get(e, "reorderWindowSeconds");
	int rc;
	if (!type || json_is_null(type))
		return missing(err, "entity.type", " (such as \"application\")");
	if (!json_is_string(type) || !token_ok(json_string_value(type), json_string_length(type),
	                                       SOURCE_ENTITY_TYPE_MAX, true))
		return bad(err, "entity.type", "must be 1 to 64 of [A-Za-z0-9_.-]");
	if (!key || json_is_null(key))
		return missing(err, "entity.key",
		               " (a dotted path such as \"data.application.id\")");
	if ((rc = check_path(key, "entity.key", err)))
		return rc;
	if (keep && !json_is_null(keep) && (rc = check_keep(keep, err)))
		return rc;
	if (win && !json_is_null(win) &&
	    (rc = check_int(win, "entity.reorderWindowSeconds", 0, SOURCE_REORDER_WINDOW_MAX, err)))
		return rc;
	json_t *o = json_object();
	if (!o)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	json_object_set(o, "type", (json_t *)type);
	json_object_set(o, "key", (json_t *)key);
	if (keep && !json_is_null(keep))
		json_object_set(o, "keep", (json_t *)keep);
	if (win && !json_is_null(win))
		json_object_set(o, "reorderWindowSeconds", (json_t *)win);
	*out = o;
	return 0;
}

/* apply: validate body field k = v and set it in cfg (null removes it). */
static int apply(json_t *cfg, const char *k, const json_t *v, struct gerr *err)
{
	int rc = 0;
	if (strcmp(k, "name") == 0 && json_is_null(v))
		return missing(err, "name", " (1 to 200 characters)");
	if (strcmp(k, "verification") == 0 && json_is_null(v))
		return missing(err, "verification",
		               " ({\"kind\":\"none\"} accepts requests without checking them)");
	if (json_is_null(v)) {
		json_object_del(cfg, k);
		return 0;
	}
	json_t *nv = NULL;
	if (strcmp(k, "name") == 0) {
		rc = check_name(v, err);
	} else if (strcmp(k, "verification") == 0) {
		rc = verifier_config_build(v, json_object_get(cfg, "verification"), &nv, err);
	} else if (strcmp(k, "allowIps") == 0) {
		struct netaddr_list *l = NULL;
		rc = netaddr_list_from_json(v, "allowIps", &l, err);
		netaddr_list_free(l);
	} else if (strcmp(k, "maxBodyBytes") == 0) {
		rc = check_int(v, k, SOURCE_BODY_MIN, SOURCE_BODY_MAX, err);
	} else if (strcmp(k, "entity") == 0) {
		rc = check_entity(v, &nv, err);
	} else { /* idPath, eventPath, datePath */
		rc = check_path(v, k, err);
	}
	if (rc)
		return rc;
	json_object_set_new(cfg, k, nv ? nv : json_incref((json_t *)v));
	return 0;
}

int source_config_build(const json_t *body, const json_t *existing, json_t **out, struct gerr *err)
{
	if (!json_is_object(body))
		return gerr_set(err, GERR_INVALID, 400, "invalid_json",
		                "the body must be a JSON object");
	json_t *cfg = existing ? json_deep_copy(existing) : json_object();
	if (!cfg)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	const char *k;
	json_t *v;
	int rc = 0;
	json_object_foreach ((json_t *)body, k, v) {
		if (strcmp(k, "id") == 0) /* the API's business */
			continue;
		char ex[UTF8_EXCERPT_SIZE];
		if (in_list(read_only, k))
			rc = gerr_set(err, GERR_INVALID, 400, "invalid_field",
			              "%s: set by gancho; it cannot be given", k);
		else if (!in_list(known_keys, k))
			rc = gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s: unknown field",
			              utf8_excerpt(k, ex));
		else
			rc = apply(cfg, k, v, err);
		if (rc)
			break;
	}
	if (!rc && !json_object_get(cfg, "name"))
		rc = missing(err, "name", " (1 to 200 characters)");
	if (!rc && !json_object_get(cfg, "verification"))
		rc = missing(err, "verification",
		             " ({\"kind\":\"none\"} accepts requests without checking them)");
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* path_or: the config's path at key, else dflt; dup'd. */
static char *path_or(const json_t *cfg, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(cfg, key));
	return dup_str(s ? s : dflt);
}

int source_compile(const json_t *cfg, int64_t seq, const char *id, int64_t company_seq,
                   struct source **out, struct gerr *err)
{
	struct source *s = calloc(1, sizeof(*s));
	if (!s)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	s->refs = 1;
	s->seq = seq;
	s->company_seq = company_seq;
	snprintf(s->id, sizeof(s->id), "%s", id);
	int rc = 0;
	const char *name = json_string_value(json_object_get(cfg, "name"));
	if (!name) {
		rc = gerr_set(err, GERR_INVALID, 400, "invalid_field", "name: missing");
		goto fail;
	}
	if ((rc = verifier_compile(json_object_get(cfg, "verification"), &s->verifier, err)))
		goto fail;
	const json_t *ips = json_object_get(cfg, "allowIps");
	if (ips && (rc = netaddr_list_from_json(ips, "allowIps", &s->allow, err)))
		goto fail;
	s->name = dup_str(name);
	/* standard and svix sign a message id: it is the receipt's id unless
	 * the source says where else to read one */
	const char *idp = json_string_value(json_object_get(cfg, "idPath"));
	if (!idp && !verifier_signs_id(s->verifier))
		idp = "id";
	s->id_path = dup_str(idp);
	s->event_path = path_or(cfg, "eventPath", "event");
	s->date_path = path_or(cfg, "datePath", "date");
	const json_t *mb = json_object_get(cfg, "maxBodyBytes");
	s->max_body = mb ? (size_t)json_integer_value(mb) : SOURCE_BODY_DEFAULT;
	bool oom = !s->name || !s->event_path || !s->date_path || (idp && !s->id_path);
	const json_t *e = json_object_get(cfg, "entity");
	if (e && !oom) {
		s->entity_type = dup_str(json_string_value(json_object_get(e, "type")));
		s->entity_key = dup_str(json_string_value(json_object_get(e, "key")));
		s->reorder_window_s =
		    (int)json_integer_value(json_object_get(e, "reorderWindowSeconds"));
		const json_t *keep = json_object_get(e, "keep");
		size_t nk = json_object_size(keep);
		s->keep = calloc(nk ? nk : 1, sizeof(*s->keep));
		oom = !s->entity_type || !s->entity_key || !s->keep;
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)keep, k, v) {
			if (oom)
				break;
			struct source_keep *kp = &s->keep[s->nkeep++];
			kp->name = strdup(k);
			kp->path = dup_str(json_string_value(v));
			oom = !kp->name || !kp->path;
		}
	}
	if (oom) {
		rc = gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	source_unref(s);
	return rc;
}

void source_ref(struct source *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void source_unref(struct source *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(s->name);
	verifier_free(s->verifier);
	netaddr_list_free(s->allow);
	free(s->id_path);
	free(s->event_path);
	free(s->date_path);
	free(s->entity_type);
	free(s->entity_key);
	for (int i = 0; i < s->nkeep; i++) {
		free(s->keep[i].name);
		free(s->keep[i].path);
	}
	free(s->keep);
	free(s);
}

/* signs_id: the stored verification yields a signed message id. */
static bool signs_id(const json_t *verification)
{
	struct verifier *v = NULL;
	if (verifier_compile(verification, &v, NULL))
		return false;
	bool yes = verifier_signs_id(v);
	verifier_free(v);
	return yes;
}

static json_t *or_null(const json_t *v)
{
	return v ? json_incref((json_t *)v) : json_null();
}

json_t *source_to_json(const json_t *cfg, const char *id, int64_t created_at, int64_t updated_at)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	const json_t *ver = json_object_get(cfg, "verification");
	json_object_set_new(o, "id", json_string(id));
	json_object_set(o, "name", json_object_get(cfg, "name"));
	json_object_set_new(o, "url", json_sprintf("/in/%s", id));
	json_object_set_new(o, "verification", verifier_to_json(ver));
	json_object_set_new(o, "allowIps", or_null(json_object_get(cfg, "allowIps")));
	const json_t *idp = json_object_get(cfg, "idPath");
	json_object_set_new(o, "idPath",
	                    idp             ? json_incref((json_t *)idp)
	                    : signs_id(ver) ? json_null()
	                                    : json_string("id"));
	const json_t *ep = json_object_get(cfg, "eventPath");
	const json_t *dp = json_object_get(cfg, "datePath");
	json_object_set_new(o, "eventPath", ep ? json_incref((json_t *)ep) : json_string("event"));
	json_object_set_new(o, "datePath", dp ? json_incref((json_t *)dp) : json_string("date"));
	const json_t *mb = json_object_get(cfg, "maxBodyBytes");
	json_object_set_new(o, "maxBodyBytes",
	                    mb ? json_incref((json_t *)mb) : json_integer(SOURCE_BODY_DEFAULT));
	const json_t *e = json_object_get(cfg, "entity");
	if (e) {
		const json_t *keep = json_object_get(e, "keep");
		const json_t *win = json_object_get(e, "reorderWindowSeconds");
		json_object_set_new(o, "entity",
		                    json_pack("{s:O,s:O,s:o,s:o}", "type",
		                              json_object_get(e, "type"), "key",
		                              json_object_get(e, "key"), "keep",
		                              keep ? json_incref((json_t *)keep) : json_object(),
		                              "reorderWindowSeconds",
		                              win ? json_incref((json_t *)win) : json_integer(0)));
	} else {
		json_object_set_new(o, "entity", json_null());
	}
	char date[DATE_STR_LEN];
	envelope_format_date(created_at, date);
	json_object_set_new(o, "createdAt", json_string(date));
	envelope_format_date(updated_at, date);
	json_object_set_new(o, "updatedAt", json_string(date));
	/* one failed allocation above leaves a field out: answer nothing rather
	 * than an answer with a hole */
	if (json_object_size(o) != 12) {
		json_decref(o);
		return NULL;
	}
	return o;
}
