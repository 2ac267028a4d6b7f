/*
 * verifier: validation, storage form and compiled form of a source's
 * "verification", and the check of one received request against it.
 *
 * config_build turns the API's object into the stored config: unknown or
 * misplaced keys, wrong types, empty strings, NUL, CR/LF and control bytes
 * where a header carries the value, non-token header names and undecodable
 * secrets are refused here, once, so compile and check can trust the config.
 *
 * compile prepares what check needs: an hmac secret becomes a pre-keyed
 * HMAC (struct sign_hmac_key, the digest fetched and the keyed states made
 * once), so a request costs only its hashing; no raw copy of it is kept.
 *
 * check reads only the headers its kind needs. A needed header given twice
 * with different values is refused rather than one of them picked: two
 * layers (a proxy and us) could otherwise pick differently. Every secret of
 * a rotation is tried, whatever matched before it, and every comparison of
 * secret-derived bytes is constant time (sign_equal, sign_secret_equal).
 * Reasons name headers and say what was wrong; they never quote a received
 * value or a configured one, so a rejection list cannot leak a credential.
 */
#include "core/verifier.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/headers.h"
#include "core/sign.h"
#include "util/base64.h"
#include "util/hex.h"

enum verifier_kind { VK_NONE, VK_BASIC, VK_APIKEY, VK_HMAC, VK_STANDARD };

#define VERIFIER_TOLERANCE_DEFAULT 300
#define VERIFIER_TOLERANCE_MAX     86400
#define VERIFIER_HEADER_MAX        128  /* a header name */
#define VERIFIER_PREFIX_MAX        64   /* apiKey and hmac prefixes */
#define VERIFIER_USER_MAX          256  /* basic username */
#define VERIFIER_PASSWORD_MAX      1024 /* basic password */
#define VERIFIER_KEY_MAX           4096 /* apiKey key, hmac secret */
#define VERIFIER_WHSEC_MIN         16   /* decoded Standard Webhooks key bytes */

struct verifier {
	enum verifier_kind kind;
	/* basic: "username:password"; apiKey: the key. */
	unsigned char *cred;
	size_t credlen;
	/* apiKey, hmac: the header read and its prefix (NULL: none). */
	char *header;
	char *prefix;
	/* hmac */
	char hash[8];
	int maclen;
	bool hex;
	/* standard: header names (static strings) and tolerance. */
	const char *id_header;
	const char *ts_header;
	const char *sig_header;
	int64_t tolerance;
	/* hmac: the secrets, pre-keyed (sign_hmac_key_new); standard: the
	 * decoded whsec_ keys. nkeys counts either. */
	struct sign_hmac_key *hkeys[VERIFIER_MAX_SECRETS];
	unsigned char *keys[VERIFIER_MAX_SECRETS];
	size_t keylens[VERIFIER_MAX_SECRETS];
	int nkeys;
};

/* The names a body may use and what they mean. A preset is a kind with
 * fixed parameters; svix also takes toleranceSeconds. */
struct verifier_shape {
	const char *name;
	bool preset;
	enum verifier_kind kind;
	const char *const *fields; /* allowed besides kind / preset */
	/* presets: the expansion */
	const char *header, *hash, *prefix;
	bool hex;
	const char *id_header, *ts_header, *sig_header;
};

static const char *const f_none[] = {NULL};
static const char *const f_basic[] = {"username", "password", NULL};
static const char *const f_apikey[] = {"header", "key", "prefix", NULL};
static const char *const f_hmac[] = {"header", "hash",    "encoding", "prefix",
                                     "secret", "secrets", NULL};
static const char *const f_standard[] = {"secret", "secrets", "toleranceSeconds", NULL};
static const char *const f_preset[] = {"secret", "secrets", NULL};

static const struct verifier_shape shapes[] = {
    {"none", false, VK_NONE, f_none, NULL, NULL, NULL, false, NULL, NULL, NULL},
    {"basic", false, VK_BASIC, f_basic, NULL, NULL, NULL, false, NULL, NULL, NULL},
    {"apiKey", false, VK_APIKEY, f_apikey, NULL, NULL, NULL, false, NULL, NULL, NULL},
    {"hmac", false, VK_HMAC, f_hmac, NULL, NULL, NULL, false, NULL, NULL, NULL},
    {"standard", false, VK_STANDARD, f_standard, NULL, NULL, NULL, false, "webhook-id",
     "webhook-timestamp", "webhook-signature"},
    {"acesso", true, VK_HMAC, f_preset, "Acesso-Signature", "sha256", NULL, false, NULL, NULL,
     NULL},
    {"github", true, VK_HMAC, f_preset, "X-Hub-Signature-256", "sha256", "sha256=", true, NULL,
     NULL, NULL},
    {"svix", true, VK_STANDARD, f_standard, NULL, NULL, NULL, false, "svix-id", "svix-timestamp",
     "svix-signature"},
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static const char *const kind_names[] = {"none", "basic", "apiKey", "hmac", "standard"};

/* cstr: v's text when v is a string without NUL, else NULL (so that
 * "none\u0000x" is not read as "none"). */
static const char *cstr(const json_t *v)
{
	const char *s = json_string_value(v);
	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

static const struct verifier_shape *shape_find(const char *name, bool preset)
{
	for (size_t i = 0; name && i < NSHAPES; i++)
		if (shapes[i].preset == preset && strcmp(shapes[i].name, name) == 0)
			return &shapes[i];
	return NULL;
}

/* shape_of: the shape a (valid) stored config names, or NULL. */
static const struct verifier_shape *shape_of(const json_t *cfg)
{
	const char *preset = cstr(json_object_get(cfg, "preset"));
	if (preset)
		return shape_find(preset, true);
	return shape_find(cstr(json_object_get(cfg, "kind")), false);
}

static int invalid(struct gerr *err, const char *field, const char *what)
{
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "verification%s%s: %s",
	                field ? "." : "", field ? field : "", what);
}

/* String checks; each flag adds a rule. Every string is non-empty, at most
 * maxlen bytes and free of NUL (JSON can carry \u0000). */
enum {
	S_NOCRLF = 1,   /* no CR or LF */
	S_NOCTL = 2,    /* no control bytes at all (CR, LF, HTAB, DEL, ...) */
	S_NOEDGE = 4,   /* no leading or trailing space / tab (HTTP trims them) */
	S_TOKEN = 8,    /* an RFC 9110 token: a header name */
	S_NOCOLON = 16, /* no ':' (a basic username) */
};

static int check_string(const json_t *v, const char *field, size_t maxlen, int flags,
                        struct gerr *err)
{
	char what[64];

	if (!json_is_string(v))
		return invalid(err, field, "must be a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0)
		return invalid(err, field, "must not be empty");
	if (strlen(s) != n)
		return invalid(err, field, "must not contain NUL");
	if (n > maxlen) {
		snprintf(what, sizeof(what), "longer than %zu bytes", maxlen);
		return invalid(err, field, what);
	}
	if ((flags & (S_NOCRLF | S_NOCTL)) && strpbrk(s, "\r\n"))
		return invalid(err, field, "must not contain CR or LF");
	for (size_t i = 0; (flags & S_NOCTL) && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return invalid(err, field, "must not contain control characters");
	}
	if ((flags & S_NOEDGE) &&
	    (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return invalid(err, field, "must not start or end with a space");
	if ((flags & S_TOKEN) && !headers_is_token(s))
		return invalid(err, field, "must be a header name (an RFC 9110 token)");
	if ((flags & S_NOCOLON) && strchr(s, ':'))
		return invalid(err, field, "must not contain ':'");
	return 0;
}

/* string_field: cfg[key] checked when present; absent and required is
 * missing_field. */
static int string_field(const json_t *cfg, const char *key, bool required, size_t maxlen, int flags,
                        struct gerr *err)
{
	const json_t *v = json_object_get(cfg, key);
	if (!v) {
		if (!required)
			return 0;
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "verification.%s: required", key);
	}
	return check_string(v, key, maxlen, flags, err);
}

/* enum_field: cfg[key] is one of names[] (required). */
static int enum_field(const json_t *cfg, const char *key, const char *const *names,
                      const char *what, struct gerr *err)
{
	const json_t *v = json_object_get(cfg, key);
	if (!v)
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "verification.%s: required", key);
	const char *s = cstr(v);
	for (int i = 0; s && names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return 0;
	return invalid(err, key, what);
}

/* secrets_normalise: "secret" or "secrets" of cfg → a checked list, set as
 * cfg.secrets (and cfg.secret removed). whsec: Standard Webhooks secrets. */
static int secrets_normalise(json_t *cfg, bool whsec, struct gerr *err)
{
	json_t *one = json_object_get(cfg, "secret");
	json_t *many = json_object_get(cfg, "secrets");
	char field[32];
	json_t *list;
	size_t i;
	json_t *s;

	if (one && many)
		return invalid(err, "secrets", "give either secret or secrets, not both");
	if (!one && !many)
		return gerr_set(err, GERR_INVALID, 400, "missing_field",
		                "verification.secret: required (or secrets: a list)");
	if (many && (!json_is_array(many) || json_array_size(many) == 0 ||
	             json_array_size(many) > VERIFIER_MAX_SECRETS))
		return invalid(err, "secrets", "must be a list of 1 to 8 secrets");
	if (one) {
		list = json_array();
		json_array_append(list, one);
	} else {
		list = json_incref(many);
	}
	json_array_foreach (list, i, s) {
		if (one)
			snprintf(field, sizeof(field), "secret");
		else
			snprintf(field, sizeof(field), "secrets[%zu]", i);
		int rc = check_string(
		    s, field, whsec ? 6 + 4 * ((SIGN_KEY_MAX + 2) / 3) : VERIFIER_KEY_MAX, 0, err);
		if (!rc && whsec) {
			unsigned char key[SIGN_KEY_MAX];
			const char *sec = json_string_value(s);
			int n = strncmp(sec, "whsec_", 6) == 0 ? sign_standard_key(sec, key) : -1;
			OPENSSL_cleanse(key, sizeof(key));
			if (n < VERIFIER_WHSEC_MIN)
				rc =
				    invalid(err, field,
				            "must be whsec_ followed by base64 of 16 to 128 bytes");
		}
		if (rc) {
			json_decref(list);
			return rc;
		}
	}
	json_object_del(cfg, "secret");
	json_object_set_new(cfg, "secrets", list);
	return 0;
}

/* validate: check cfg (a merged body) against its shape and normalise it in
 * place: defaults filled, secrets as a list. */
static int validate(json_t *cfg, const struct verifier_shape *sh, struct gerr *err)
{
	static const char *const hashes[] = {"sha1", "sha256", "sha512", NULL};
	static const char *const encodings[] = {"hex", "base64", NULL};
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach (cfg, key, v) {
		bool known = strcmp(key, sh->preset ? "preset" : "kind") == 0;
		for (int i = 0; !known && sh->fields[i]; i++)
			known = strcmp(key, sh->fields[i]) == 0;
		if (!known) {
			char what[64];
			snprintf(what, sizeof(what), "unknown field for %s %s",
			         sh->preset ? "preset" : "kind", sh->name);
			return invalid(err, key, what);
		}
	}
	switch (sh->kind) {
	case VK_NONE: break;
	case VK_BASIC:
		/* RFC 7617: the user-id holds no ':' and neither holds controls. */
		if ((rc = string_field(cfg, "username", true, VERIFIER_USER_MAX,
		                       S_NOCTL | S_NOCOLON, err)) ||
		    (rc = string_field(cfg, "password", true, VERIFIER_PASSWORD_MAX, S_NOCTL, err)))
			return rc;
		break;
	case VK_APIKEY:
		if ((rc = string_field(cfg, "header", false, VERIFIER_HEADER_MAX, S_TOKEN, err)) ||
		    (rc = string_field(cfg, "prefix", false, VERIFIER_PREFIX_MAX,
		                       S_NOCTL | S_NOEDGE, err)) ||
		    (rc =
		         string_field(cfg, "key", true, VERIFIER_KEY_MAX, S_NOCTL | S_NOEDGE, err)))
			return rc;
		if (!json_object_get(cfg, "header"))
			json_object_set_new(cfg, "header", json_string("Authorization"));
		break;
	case VK_HMAC:
		if (sh->preset)
			return secrets_normalise(cfg, false, err);
		if ((rc = string_field(cfg, "header", true, VERIFIER_HEADER_MAX, S_TOKEN, err)) ||
		    (rc = enum_field(cfg, "hash", hashes, "must be sha1, sha256 or sha512", err)) ||
		    (rc = enum_field(cfg, "encoding", encodings, "must be hex or base64", err)) ||
		    (rc = string_field(cfg, "prefix", false, VERIFIER_PREFIX_MAX,
		                       S_NOCTL | S_NOEDGE, err)))
			return rc;
		return secrets_normalise(cfg, false, err);
	case VK_STANDARD: {
		const json_t *t = json_object_get(cfg, "toleranceSeconds");
		if (t && (!json_is_integer(t) || json_integer_value(t) < 1 ||
		          json_integer_value(t) > VERIFIER_TOLERANCE_MAX))
			return invalid(err, "toleranceSeconds",
			               "must be an integer from 1 to 86400");
		if (!t)
			json_object_set_new(cfg, "toleranceSeconds",
			                    json_integer(VERIFIER_TOLERANCE_DEFAULT));
		return secrets_normalise(cfg, true, err);
	}
	}
	return 0;
}

/* ordered: cfg's keys in the shape's order (kind/preset first), so stored
 * configs look alike whatever order the body used. New reference. */
static json_t *ordered(const json_t *cfg, const struct verifier_shape *sh)
{
	json_t *o = json_object();
	const char *disc = sh->preset ? "preset" : "kind";
	json_object_set_new(o, disc, json_string(sh->name));
	for (int i = 0; sh->fields[i]; i++) {
		json_t *v = json_object_get(cfg, sh->fields[i]);
		if (v)
			json_object_set(o, sh->fields[i], v);
	}
	return o;
}

int verifier_config_build(const json_t *body, const json_t *existing, json_t **out,
                          struct gerr *err)
{
	if (!json_is_object(body))
		return invalid(err, NULL, "must be an object");
	const json_t *jk = json_object_get(body, "kind");
	const json_t *jp = json_object_get(body, "preset");
	const char *kind = cstr(jk);
	const char *preset = cstr(jp);
	if (jk && !json_is_null(jk) && !shape_find(kind, false))
		return invalid(err, "kind", "must be none, basic, apiKey, hmac or standard");
	if (jp && !json_is_null(jp) && !shape_find(preset, true))
		return invalid(err, "preset", "must be acesso, github or svix");
	if (kind && preset)
		return invalid(err, "preset", "give either kind or preset, not both");
	const json_t *one = json_object_get(body, "secret");
	const json_t *many = json_object_get(body, "secrets");
	if (one && !json_is_null(one) && many && !json_is_null(many))
		return invalid(err, "secrets", "give either secret or secrets, not both");

	/* Merge onto the stored config when the body keeps its kind or preset
	 * (or names neither): answers never show secrets, so a PATCH that
	 * changes only the tolerance must not have to repeat them. */
	const struct verifier_shape *old = existing ? shape_of(existing) : NULL;
	bool merge =
	    old && ((!kind && !preset) || (kind && !old->preset && strcmp(kind, old->name) == 0) ||
	            (preset && old->preset && strcmp(preset, old->name) == 0));
	json_t *cfg = merge ? json_deep_copy(existing) : json_object();
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)body, key, v) {
		if (strcmp(key, "secret") == 0)
			json_object_del(cfg, "secrets");
		else if (strcmp(key, "secrets") == 0)
			json_object_del(cfg, "secret");
		if (json_is_null(v))
			json_object_del(cfg, key);
		else
			json_object_set(cfg, key, v);
	}
	const struct verifier_shape *sh = shape_of(cfg);
	int rc;
	if (!sh)
		rc = gerr_set(err, GERR_INVALID, 400, "missing_field",
		              "verification.kind: required (or preset)");
	else
		rc = validate(cfg, sh, err);
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	*out = ordered(cfg, sh);
	json_decref(cfg);
	return 0;
}

static unsigned char *dup_bytes(const void *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

int verifier_compile(const json_t *cfg, struct verifier **out, struct gerr *err)
{
	const struct verifier_shape *sh = shape_of(cfg);
	struct verifier *v;
	size_t i;
	json_t *s;

	if (!sh)
		return invalid(err, "kind", "cannot be compiled");
	if (!(v = calloc(1, sizeof(*v))))
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	v->kind = sh->kind;
	switch (sh->kind) {
	case VK_NONE: break;
	case VK_BASIC: {
		const char *u = json_string_value(json_object_get(cfg, "username"));
		const char *p = json_string_value(json_object_get(cfg, "password"));
		if (!u || !p)
			goto bad;
		size_t ul = strlen(u), pl = strlen(p);
		if (!(v->cred = malloc(ul + 1 + pl)))
			goto nomem;
		memcpy(v->cred, u, ul);
		v->cred[ul] = ':';
		memcpy(v->cred + ul + 1, p, pl);
		v->credlen = ul + 1 + pl;
		break;
	}
	case VK_APIKEY: {
		const char *k = json_string_value(json_object_get(cfg, "key"));
		const char *h = json_string_value(json_object_get(cfg, "header"));
		const char *p = json_string_value(json_object_get(cfg, "prefix"));
		if (!k)
			goto bad;
		v->credlen = strlen(k);
		v->header = dup_str(h ? h : "Authorization");
		v->prefix = dup_str(p);
		if (!(v->cred = dup_bytes(k, v->credlen)) || !v->header || (p && !v->prefix))
			goto nomem;
		break;
	}
	case VK_HMAC: {
		const char *h =
		    sh->preset ? sh->header : json_string_value(json_object_get(cfg, "header"));
		const char *hash =
		    sh->preset ? sh->hash : json_string_value(json_object_get(cfg, "hash"));
		const char *p =
		    sh->preset ? sh->prefix : json_string_value(json_object_get(cfg, "prefix"));
		const char *enc = json_string_value(json_object_get(cfg, "encoding"));
		if (!h || !hash || (v->maclen = sign_hmac_len(hash)) <= 0 ||
		    strlen(hash) >= sizeof(v->hash))
			goto bad;
		snprintf(v->hash, sizeof(v->hash), "%s", hash);
		v->hex = sh->preset ? sh->hex : (enc && strcmp(enc, "hex") == 0);
		v->header = dup_str(h);
		v->prefix = dup_str(p);
		if (!v->header || (p && !v->prefix))
			goto nomem;
		json_array_foreach (json_object_get(cfg, "secrets"), i, s) {
			const char *sec = json_string_value(s);
			if (!sec || v->nkeys == VERIFIER_MAX_SECRETS)
				goto bad;
			/* The keyed states only: no raw copy of the secret is kept. */
			v->hkeys[v->nkeys] = sign_hmac_key_new(v->hash, sec, json_string_length(s));
			if (!v->hkeys[v->nkeys])
				goto nomem;
			v->nkeys++;
		}
		if (v->nkeys == 0)
			goto bad;
		break;
	}
	case VK_STANDARD: {
		json_int_t t = json_integer_value(json_object_get(cfg, "toleranceSeconds"));
		v->tolerance =
		    t >= 1 && t <= VERIFIER_TOLERANCE_MAX ? t : VERIFIER_TOLERANCE_DEFAULT;
		v->id_header = sh->id_header;
		v->ts_header = sh->ts_header;
		v->sig_header = sh->sig_header;
		json_array_foreach (json_object_get(cfg, "secrets"), i, s) {
			unsigned char key[SIGN_KEY_MAX];
			if (v->nkeys == VERIFIER_MAX_SECRETS)
				goto bad;
			int n = sign_standard_key(json_string_value(s), key);
			if (n > 0) {
				v->keys[v->nkeys] = dup_bytes(key, (size_t)n);
				v->keylens[v->nkeys] = (size_t)n;
			}
			OPENSSL_cleanse(key, sizeof(key));
			if (n <= 0)
				goto bad;
			if (!v->keys[v->nkeys])
				goto nomem;
			v->nkeys++;
		}
		if (v->nkeys == 0)
			goto bad;
		break;
	}
	}
	*out = v;
	return 0;
bad:
	verifier_free(v);
	return invalid(err, NULL, "cannot be compiled");
nomem:
	verifier_free(v);
	return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
}

void verifier_free(struct verifier *v)
{
	if (!v)
		return;
	if (v->cred) {
		OPENSSL_cleanse(v->cred, v->credlen);
		free(v->cred);
	}
	for (int i = 0; i < v->nkeys; i++) {
		sign_hmac_key_free(v->hkeys[i]);
		if (v->keys[i]) {
			OPENSSL_cleanse(v->keys[i], v->keylens[i]);
			free(v->keys[i]);
		}
	}
	free(v->header);
	free(v->prefix);
	free(v);
}

bool verifier_is_credential(const struct verifier *v, const char *name)
{
	switch (v->kind) {
	case VK_BASIC: return strcasecmp(name, "Authorization") == 0;
	case VK_APIKEY:
	case VK_HMAC: return v->header && strcasecmp(name, v->header) == 0;
	case VK_STANDARD: return v->sig_header && strcasecmp(name, v->sig_header) == 0;
	default: return false;
	}
}

const char *verifier_kind(const struct verifier *v)
{
	return kind_names[v->kind];
}

bool verifier_signs_id(const struct verifier *v)
{
	return v->kind == VK_STANDARD;
}

/* ---- checking one request ---- */

static bool refuse(struct verifier_result *res, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool refuse(struct verifier_result *res, const char *code, const char *fmt, ...)
{
	va_list ap;
	res->ok = false;
	res->code = code;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return false;
}

/* header_get: the value of header name. Returns 0 (found; *out set),
 * 1 (absent) or -1 (given more than once with different values). Every
 * entry is looked at: the names are public, the loop need not be fast. */
static int header_get(const struct verifier_header *h, size_t n, const char *name, const char **out)
{
	const char *found = NULL;
	bool conflict = false;
	for (size_t i = 0; i < n; i++) {
		if (!h[i].name || !h[i].value || strcasecmp(h[i].name, name) != 0)
			continue;
		if (!found)
			found = h[i].value;
		else if (strcmp(found, h[i].value) != 0)
			conflict = true;
	}
	*out = found;
	return conflict ? -1 : found ? 0 : 1;
}

/* need_header: header_get, refusing when absent or conflicting. */
static bool need_header(const struct verifier_header *h, size_t n, const char *name,
                        const char **out, struct verifier_result *res)
{
	int rc = header_get(h, n, name, out);
	if (rc > 0)
		return refuse(res, "missing_header", "missing header %.128s", name);
	if (rc < 0)
		return refuse(res, "duplicate_header",
		              "header %.128s given twice with different values", name);
	return true;
}

/* trim: s without leading and trailing spaces and tabs, as (*p, *n). */
static void trim(const char *s, const char **p, size_t *n)
{
	size_t len = strlen(s);
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*p = s;
	*n = len;
}

/* strip_prefix: (*p, *n) starts with prefix (case-insensitive: schemes and
 * labels like "sha256=" are not secret); skip it and, when spaced, the
 * spaces after it (at least one required). */
static bool strip_prefix(const char **p, size_t *n, const char *prefix, bool spaced)
{
	size_t pl = strlen(prefix);
	if (*n < pl || strncasecmp(*p, prefix, pl) != 0)
		return false;
	*p += pl;
	*n -= pl;
	if (!spaced)
		return true;
	if (!*n || (**p != ' ' && **p != '\t'))
		return false;
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	return true;
}

static bool check_basic(const struct verifier *v, const struct verifier_header *h, size_t nh,
                        struct verifier_result *res)
{
	const char *val, *p;
	size_t n;
	unsigned char got[VERIFIER_USER_MAX + 1 + VERIFIER_PASSWORD_MAX];

	if (!need_header(h, nh, "Authorization", &val, res))
		return false;
	trim(val, &p, &n);
	if (!strip_prefix(&p, &n, "Basic", true))
		return refuse(res, "malformed_credentials",
		              "Authorization does not hold Basic credentials");
	/* Longer than any configurable user:password: it cannot match. */
	if (n > BASE64_ENCODED_LEN(sizeof(got)))
		return refuse(res, "bad_credentials", "wrong username or password");
	int len = base64_decode(p, n, got, sizeof(got));
	if (len < 0)
		return refuse(res, "malformed_credentials",
		              "Authorization: Basic credentials are not base64 of user:password");
	bool ok = sign_secret_equal(got, (size_t)len, v->cred, v->credlen);
	OPENSSL_cleanse(got, sizeof(got));
	if (!ok)
		return refuse(res, "bad_credentials", "wrong username or password");
	return true;
}

static bool check_apikey(const struct verifier *v, const struct verifier_header *h, size_t nh,
                         struct verifier_result *res)
{
	const char *val, *p;
	size_t n;

	if (!need_header(h, nh, v->header, &val, res))
		return false;
	trim(val, &p, &n);
	if (v->prefix && !strip_prefix(&p, &n, v->prefix, true))
		return refuse(res, "malformed_credentials",
		              "%.128s does not start with the configured prefix and a space",
		              v->header);
	if (!sign_secret_equal(p, n, v->cred, v->credlen))
		return refuse(res, "bad_credentials", "wrong key in %.128s", v->header);
	return true;
}

static bool check_hmac(const struct verifier *v, const struct verifier_header *h, size_t nh,
                       const void *body, size_t len, struct verifier_result *res)
{
	const char *val, *p;
	size_t n;
	unsigned char got[SIGN_MAC_MAX], want[SIGN_MAC_MAX];
	bool ok = false;

	if (!need_header(h, nh, v->header, &val, res))
		return false;
	trim(val, &p, &n);
	if (v->prefix && !strip_prefix(&p, &n, v->prefix, false))
		return refuse(res, "malformed_signature",
		              "%.128s does not start with the configured prefix", v->header);
	if (v->hex) {
		if (n != (size_t)v->maclen * 2)
			return refuse(res, "malformed_signature",
			              "%.128s is not %d hex digits (HMAC-%s)", v->header,
			              v->maclen * 2, v->hash);
		for (size_t i = 0; i < (size_t)v->maclen; i++) {
			int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return refuse(res, "malformed_signature",
				              "%.128s is not %d hex digits (HMAC-%s)", v->header,
				              v->maclen * 2, v->hash);
			got[i] = (unsigned char)(hi << 4 | lo);
		}
	} else if (base64_decode(p, n, got, sizeof(got)) != v->maclen) {
		return refuse(res, "malformed_signature",
		              "%.128s is not the base64 of a %d-byte HMAC-%s", v->header, v->maclen,
		              v->hash);
	}
	/* Every secret, whatever matched before: no timing hint of which one. */
	for (int k = 0; k < v->nkeys; k++) {
		int m = sign_hmac_keyed(v->hkeys[k], body, len, want);
		if (m == v->maclen)
			ok |= sign_equal(got, (size_t)v->maclen, want, (size_t)v->maclen);
	}
	OPENSSL_cleanse(want, sizeof(want));
	if (!ok)
		return refuse(res, "signature_mismatch", "signature mismatch in %.128s", v->header);
	return true;
}

static bool check_standard(const struct verifier *v, const struct verifier_header *h, size_t nh,
                           const void *body, size_t len, int64_t now_s, struct verifier_result *res)
{
	const char *id, *ts_str, *sig;

	if (!need_header(h, nh, v->id_header, &id, res) ||
	    !need_header(h, nh, v->ts_header, &ts_str, res) ||
	    !need_header(h, nh, v->sig_header, &sig, res))
		return false;
	/* The id is signed as received and handed back for deduplication:
	 * printable ASCII without spaces, bounded. */
	size_t idlen = strlen(id);
	bool id_ok = idlen >= 1 && idlen <= VERIFIER_ID_MAX;
	for (size_t i = 0; id_ok && i < idlen; i++)
		id_ok = id[i] > 0x20 && id[i] < 0x7f;
	if (!id_ok)
		return refuse(res, "malformed_id", "%s is not 1 to %d printable characters",
		              v->id_header, VERIFIER_ID_MAX);
	int64_t ts = sign_standard_ts(ts_str);
	if (ts < 0)
		return refuse(res, "malformed_timestamp",
		              "malformed timestamp in %s (Unix seconds, digits only)",
		              v->ts_header);
	/* ts < 10^18: the differences overflow only for an absurd clock. */
	int64_t age, ahead;
	if (__builtin_sub_overflow(now_s, ts, &age) || __builtin_sub_overflow(ts, now_s, &ahead))
		return refuse(res, "timestamp_out_of_tolerance", "timestamp outside tolerance");
	if (age > v->tolerance)
		return refuse(res, "timestamp_out_of_tolerance",
		              "timestamp outside tolerance (%" PRId64 " s old, tolerance %" PRId64
		              " s)",
		              age, v->tolerance);
	if (ahead > v->tolerance)
		return refuse(res, "timestamp_out_of_tolerance",
		              "timestamp outside tolerance (%" PRId64 " s ahead, tolerance %" PRId64
		              " s)",
		              ahead, v->tolerance);
	const unsigned char *keys[VERIFIER_MAX_SECRETS];
	for (int k = 0; k < v->nkeys; k++)
		keys[k] = v->keys[k];
	if (!sign_standard_match(keys, v->keylens, v->nkeys, id, ts_str, body, len, sig))
		return refuse(res, "signature_mismatch", "signature mismatch in %s", v->sig_header);
	memcpy(res->msg_id, id, idlen + 1);
	res->timestamp = ts;
	return true;
}

bool verifier_check(const struct verifier *v, const struct verifier_header *headers,
                    size_t nheaders, const void *body, size_t len, int64_t now_s,
                    struct verifier_result *res)
{
	bool ok = false;

	res->ok = false;
	res->code = "";
	res->reason[0] = '\0';
	res->msg_id[0] = '\0';
	res->timestamp = 0;
	switch (v->kind) {
	case VK_NONE: ok = true; break;
	case VK_BASIC: ok = check_basic(v, headers, nheaders, res); break;
	case VK_APIKEY: ok = check_apikey(v, headers, nheaders, res); break;
	case VK_HMAC: ok = check_hmac(v, headers, nheaders, body, len, res); break;
	case VK_STANDARD: ok = check_standard(v, headers, nheaders, body, len, now_s, res); break;
	}
	if (ok) {
		res->ok = true;
		res->code = "ok";
		res->reason[0] = '\0';
	}
	return ok;
}

/* ---- the API's view ---- */

json_t *verifier_to_json(const json_t *cfg)
{
	static const char *const shown[] = {"username", "header",           "hash", "encoding",
	                                    "prefix",   "toleranceSeconds", NULL};
	const struct verifier_shape *sh = shape_of(cfg);
	json_t *o = json_object();

	if (!sh)
		return o;
	if (sh->preset) {
		/* The preset as chosen, then what it means. */
		json_object_set_new(o, "preset", json_string(sh->name));
		json_object_set_new(o, "kind", json_string(kind_names[sh->kind]));
		if (sh->header)
			json_object_set_new(o, "header", json_string(sh->header));
		if (sh->hash)
			json_object_set_new(o, "hash", json_string(sh->hash));
		if (sh->kind == VK_HMAC)
			json_object_set_new(o, "encoding", json_string(sh->hex ? "hex" : "base64"));
		if (sh->prefix)
			json_object_set_new(o, "prefix", json_string(sh->prefix));
	} else {
		json_object_set_new(o, "kind", json_string(sh->name));
	}
	/* Only names known to be public; password, key and secrets never. */
	for (int i = 0; shown[i]; i++) {
		json_t *v = json_object_get(cfg, shown[i]);
		if (v)
			json_object_set(o, shown[i], v);
	}
	const json_t *secrets = json_object_get(cfg, "secrets");
	if (sh->kind == VK_HMAC || sh->kind == VK_STANDARD)
		json_object_set_new(o, "secretCount",
		                    json_integer((json_int_t)json_array_size(secrets)));
	return o;
}
