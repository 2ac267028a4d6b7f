/*
 * registry: see registry.h.
 *
 * Companies and webhooks live in arrays indexed by their store sequence
 * (dense integers), so lookups are a bounds check and a load. Each company
 * keeps the list of its webhooks' sequences for fan-out. Tokens sit in an
 * open-addressing table keyed by their SHA-256, the same hash the store
 * keeps, so a plaintext token never lives in memory longer than a request.
 * Sources live in an array by seq too, and their public ids in a second
 * such table (id → seq), since the receiving path knows a source only by
 * the id in its URL.
 */
#include "registry/registry.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/route.h"
#include "core/source.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"

struct company {
	bool present;
	char id[40];
	char name[256];
	char **event_types;
	int ntypes;
	int64_t *hooks; /* webhook seqs */
	int nhooks, caphooks;
};

/* keymap: a string → int64 table, open addressing with linear probing at
 * most half full, for token hashes → company and source ids → seq. The
 * caller holds the registry's lock. */
#define KEYMAP_KEY_MAX 64 /* a SHA-256 in hex; a source id is shorter */

struct keyslot {
	char key[KEYMAP_KEY_MAX + 1]; /* "" = empty */
	int64_t val;
};

struct keymap {
	struct keyslot *v;
	size_t cap, count; /* cap a power of two */
};

/* A stored webhook whose configuration cannot be loaded: it receives
 * nothing, so it is named in the log, an operator record and /healthz. */
struct broken_webhook {
	int64_t seq;
	char id[40];
};

struct registry {
	pthread_rwlock_t lock;
	struct broken_webhook *broken;
	int nbroken, capbroken;
	struct company *companies;
	int64_t ncompanies;
	struct webhook **hooks;
	int64_t nhooks;
	struct keymap tokens; /* token hash → company seq */
	struct source **srcs; /* by seq */
	int64_t nsrcs;
	struct keymap srcids;  /* public id → seq */
	struct route **routes; /* live routes, in no order; a company has few */
	int nroutes, caproutes;
};

static size_t keymap_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* keymap_slot: the slot of key, or the empty slot where it would go. */
static size_t keymap_slot(const struct keymap *m, const char *key)
{
	size_t i = keymap_hash(key) & (m->cap - 1);
	while (m->v[i].key[0] && strcmp(m->v[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* keymap_put: key (1..KEYMAP_KEY_MAX bytes) → val, growing the table when it
 * would be more than half full. false when key does not fit, or the table
 * could not grow and is nearly full. */
static bool keymap_put(struct keymap *m, const char *key, int64_t val)
{
	if (!*key || strlen(key) > KEYMAP_KEY_MAX)
		return false;
	if ((m->count + 1) * 2 > m->cap) {
		struct keyslot *old = m->v, *nv = calloc(m->cap * 2, sizeof(*nv));
		size_t oldcap = m->cap;
		if (nv) {
			m->v = nv;
			m->cap = oldcap * 2;
			for (size_t i = 0; i < oldcap; i++)
				if (old[i].key[0])
					m->v[keymap_slot(m, old[i].key)] = old[i];
			free(old);
		} else if (m->count + 2 > m->cap) {
			return false; /* keep one slot empty: probes must end */
		}
	}
	size_t i = keymap_slot(m, key);
	if (!m->v[i].key[0])
		m->count++;
	snprintf(m->v[i].key, sizeof(m->v[i].key), "%s", key);
	m->v[i].val = val;
	return true;
}

/* keymap_get: the value of key, 0 when absent. */
static int64_t keymap_get(const struct keymap *m, const char *key)
{
	size_t i = keymap_slot(m, key);
	return m->v[i].key[0] ? m->v[i].val : 0;
}

/* keymap_remove: forget key, then put back the rest of its probe run so
 * that every entry stays reachable from its home slot. */
static void keymap_remove(struct keymap *m, const char *key)
{
	size_t i = keymap_slot(m, key);
	if (!m->v[i].key[0])
		return;
	m->v[i].key[0] = '\0';
	m->count--;
	for (size_t j = (i + 1) & (m->cap - 1); m->v[j].key[0]; j = (j + 1) & (m->cap - 1)) {
		struct keyslot t = m->v[j];
		m->v[j].key[0] = '\0';
		m->v[keymap_slot(m, t.key)] = t;
	}
}

struct registry *registry_new(void)
{
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_rwlock_init(&r->lock, NULL);
	r->tokens.cap = 256;
	r->tokens.v = calloc(r->tokens.cap, sizeof(*r->tokens.v));
	r->srcids.cap = 64;
	r->srcids.v = calloc(r->srcids.cap, sizeof(*r->srcids.v));
	if (!r->tokens.v || !r->srcids.v) {
		registry_free(r);
		return NULL;
	}
	return r;
}

static void company_clear(struct company *c)
{
	for (int i = 0; i < c->ntypes; i++)
		free(c->event_types[i]);
	free(c->event_types);
	c->event_types = NULL;
	c->ntypes = 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (int64_t i = 0; i < r->ncompanies; i++) {
		company_clear(&r->companies[i]);
		free(r->companies[i].hooks);
	}
	free(r->companies);
	for (int64_t i = 0; i < r->nhooks; i++)
		webhook_unref(r->hooks[i]);
	free(r->hooks);
	free(r->tokens.v);
	for (int64_t i = 0; i < r->nsrcs; i++)
		source_unref(r->srcs[i]);
	free(r->srcs);
	for (int i = 0; i < r->nroutes; i++)
		route_unref(r->routes[i]);
	free(r->routes);
	free(r->srcids.v);
	free(r->broken);
	pthread_rwlock_destroy(&r->lock);
	free(r);
}

void token_hash(const char *token, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
}

/* grow: make arr (of elem size) hold index seq; new slots zeroed. Caller holds the lock. */
static bool grow(void **arr, int64_t *n, int64_t seq, size_t elem)
{
	if (seq < *n)
		return true;
	int64_t cap = *n ? *n : 16;
	while (cap <= seq)
		cap *= 2;
	void *p = realloc(*arr, (size_t)cap * elem);
	if (!p)
		return false;
	memset((char *)p + (size_t)*n * elem, 0, (size_t)(cap - *n) * elem);
	*arr = p;
	*n = cap;
	return true;
}

int registry_company_put(struct registry *r, int64_t seq, const char *id, const char *name,
                         const char *event_types)
{
	json_t *types = json_loads(event_types ? event_types : "[]", 0, NULL);
	pthread_rwlock_wrlock(&r->lock);
	int rc = -1;
	if (grow((void **)&r->companies, &r->ncompanies, seq, sizeof(struct company))) {
		struct company *c = &r->companies[seq];
		company_clear(c);
		c->present = true;
		snprintf(c->id, sizeof(c->id), "%s", id);
		snprintf(c->name, sizeof(c->name), "%s", name);
		size_t n = json_array_size(types);
		c->event_types = calloc(n + 1, sizeof(char *));
		for (size_t i = 0; c->event_types && i < n; i++) {
			const char *s = json_string_value(json_array_get(types, i));
			if (s)
				c->event_types[c->ntypes++] = strdup(s);
		}
		rc = 0;
	}
	pthread_rwlock_unlock(&r->lock);
	json_decref(types);
	return rc;
}

bool registry_company_name(struct registry *r, int64_t seq, char *out, size_t outsz)
{
	bool ok = false;
	pthread_rwlock_rdlock(&r->lock);
	if (seq > 0 && seq < r->ncompanies && r->companies[seq].present) {
		snprintf(out, outsz, "%s", r->companies[seq].name);
		ok = true;
	}
	pthread_rwlock_unlock(&r->lock);
	return ok;
}

bool registry_event_allowed(struct registry *r, int64_t company_seq, const char *event)
{
	if (webhook_event_builtin(event))
		return true;
	bool ok = false;
	pthread_rwlock_rdlock(&r->lock);
	if (company_seq > 0 && company_seq < r->ncompanies) {
		struct company *c = &r->companies[company_seq];
		for (int i = 0; i < c->ntypes && !ok; i++)
			ok = strcmp(c->event_types[i], event) == 0;
	}
	pthread_rwlock_unlock(&r->lock);
	return ok;
}

void registry_token_put(struct registry *r, const char *hash, int64_t company_seq)
{
	pthread_rwlock_wrlock(&r->lock);
	keymap_put(&r->tokens, hash, company_seq);
	pthread_rwlock_unlock(&r->lock);
}

void registry_token_remove(struct registry *r, const char *hash)
{
	pthread_rwlock_wrlock(&r->lock);
	keymap_remove(&r->tokens, hash);
	pthread_rwlock_unlock(&r->lock);
}

int64_t registry_token_company(struct registry *r, const char *token)
{
	char hash[65];
	token_hash(token, hash);
	pthread_rwlock_rdlock(&r->lock);
	int64_t seq = keymap_get(&r->tokens, hash);
	pthread_rwlock_unlock(&r->lock);
	return seq;
}

static void company_unlink(struct registry *r, const struct webhook *w)
{
	if (w->company_seq <= 0 || w->company_seq >= r->ncompanies)
		return;
	struct company *c = &r->companies[w->company_seq];
	for (int i = 0; i < c->nhooks; i++) {
		if (c->hooks[i] == w->seq) {
			c->hooks[i] = c->hooks[--c->nhooks];
			return;
		}
	}
}

/* broken_set: mark (or, with broken false, clear) seq as not loadable.
 * Caller holds the write lock. */
static void broken_set(struct registry *r, int64_t seq, const char *id, bool broken)
{
	for (int i = 0; i < r->nbroken; i++) {
		if (r->broken[i].seq == seq) {
			if (!broken)
				r->broken[i] = r->broken[--r->nbroken];
			return;
		}
	}
	if (broken && array_reserve((void **)&r->broken, &r->capbroken, r->nbroken + 1,
	                            sizeof(*r->broken), 8)) {
		r->broken[r->nbroken].seq = seq;
		snprintf(r->broken[r->nbroken].id, sizeof(r->broken[0].id), "%s", id);
		r->nbroken++;
	}
}

int registry_webhook_put(struct registry *r, struct webhook *w)
{
	pthread_rwlock_wrlock(&r->lock);
	struct company *c = NULL;
	if (grow((void **)&r->hooks, &r->nhooks, w->seq, sizeof(struct webhook *)) &&
	    grow((void **)&r->companies, &r->ncompanies, w->company_seq, sizeof(struct company))) {
		c = &r->companies[w->company_seq];
		if (c->nhooks == c->caphooks) {
			int cap = c->caphooks ? c->caphooks * 2 : 8;
			int64_t *p = realloc(c->hooks, (size_t)cap * sizeof(int64_t));
			if (p) {
				c->hooks = p;
				c->caphooks = cap;
			}
		}
		if (c->nhooks == c->caphooks || fault_hit("registry_alloc"))
			c = NULL;
	}
	if (!c) {
		/* Not routable: say so rather than drop it without a word. */
		broken_set(r, w->seq, w->id, true);
		pthread_rwlock_unlock(&r->lock);
		log_error("webhook_not_loaded", "webhook=%s reason=\"out of memory\"", w->id);
		webhook_unref(w);
		return -1;
	}
	struct webhook *old = r->hooks[w->seq];
	if (old)
		company_unlink(r, old);
	r->hooks[w->seq] = w;
	c->hooks[c->nhooks++] = w->seq;
	broken_set(r, w->seq, w->id, false);
	pthread_rwlock_unlock(&r->lock);
	webhook_unref(old);
	return 0;
}

int registry_broken(struct registry *r, char (*ids)[40], int max)
{
	pthread_rwlock_rdlock(&r->lock);
	int n = r->nbroken;
	for (int i = 0; i < n && i < max; i++)
		memcpy(ids[i], r->broken[i].id, sizeof(ids[i]));
	pthread_rwlock_unlock(&r->lock);
	return n;
}

void registry_webhook_remove(struct registry *r, int64_t seq)
{
	struct webhook *old = NULL;
	pthread_rwlock_wrlock(&r->lock);
	if (seq > 0 && seq < r->nhooks && r->hooks[seq]) {
		old = r->hooks[seq];
		company_unlink(r, old);
		r->hooks[seq] = NULL;
	}
	broken_set(r, seq, "", false); /* deleted: nothing left to load */
	pthread_rwlock_unlock(&r->lock);
	webhook_unref(old);
}

struct webhook *registry_webhook_get(struct registry *r, int64_t seq)
{
	struct webhook *w = NULL;
	pthread_rwlock_rdlock(&r->lock);
	if (seq > 0 && seq < r->nhooks && r->hooks[seq]) {
		w = r->hooks[seq];
		webhook_ref(w);
	}
	pthread_rwlock_unlock(&r->lock);
	return w;
}

void registry_webhook_set_status(struct registry *r, int64_t seq, int status)
{
	pthread_rwlock_rdlock(&r->lock);
	if (seq > 0 && seq < r->nhooks && r->hooks[seq])
		__atomic_store_n(&r->hooks[seq]->status, status, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
}

int registry_match(struct registry *r, int64_t company_seq, const char *event, const char *unit,
                   struct webhook **out, int max)
{
	int n = 0;
	pthread_rwlock_rdlock(&r->lock);
	if (company_seq > 0 && company_seq < r->ncompanies) {
		struct company *c = &r->companies[company_seq];
		for (int i = 0; i < c->nhooks; i++) {
			struct webhook *w = r->hooks[c->hooks[i]];
			if (w && webhook_wants(w, event, unit)) {
				if (n < max) {
					webhook_ref(w);
					out[n] = w;
				}
				n++;
			}
		}
	}
	pthread_rwlock_unlock(&r->lock);
	return n;
}

/* ---- sources ------------------------------------------------------------------------------ */

int registry_source_put(struct registry *r, struct source *src)
{
	struct source *old = NULL;
	bool ok = false;
	pthread_rwlock_wrlock(&r->lock);
	if (src->seq > 0 && grow((void **)&r->srcs, &r->nsrcs, src->seq, sizeof(struct source *)) &&
	    keymap_put(&r->srcids, src->id, src->seq)) {
		old = r->srcs[src->seq];
		if (old && strcmp(old->id, src->id) != 0)
			keymap_remove(&r->srcids, old->id);
		r->srcs[src->seq] = src;
		ok = true;
	}
	pthread_rwlock_unlock(&r->lock);
	if (!ok) {
		log_error("source_not_loaded", "source=%s reason=\"out of memory\"", src->id);
		source_unref(src);
		return -1;
	}
	source_unref(old);
	return 0;
}

struct source *registry_source_get(struct registry *r, const char *id)
{
	struct source *src = NULL;
	/* longer than any id: not one (and no hashing of a long path) */
	if (!id || !*id || strnlen(id, sizeof(src->id)) >= sizeof(src->id))
		return NULL;
	pthread_rwlock_rdlock(&r->lock);
	int64_t seq = keymap_get(&r->srcids, id);
	if (seq > 0 && seq < r->nsrcs && r->srcs[seq]) {
		src = r->srcs[seq];
		source_ref(src);
	}
	pthread_rwlock_unlock(&r->lock);
	return src;
}

struct source *registry_source_get_seq(struct registry *r, int64_t seq)
{
	struct source *src = NULL;
	pthread_rwlock_rdlock(&r->lock);
	if (seq > 0 && seq < r->nsrcs && r->srcs[seq]) {
		src = r->srcs[seq];
		source_ref(src);
	}
	pthread_rwlock_unlock(&r->lock);
	return src;
}

void registry_source_remove(struct registry *r, int64_t seq)
{
	struct source *old = NULL;
	pthread_rwlock_wrlock(&r->lock);
	if (seq > 0 && seq < r->nsrcs && r->srcs[seq]) {
		old = r->srcs[seq];
		keymap_remove(&r->srcids, old->id);
		r->srcs[seq] = NULL;
	}
	pthread_rwlock_unlock(&r->lock);
	source_unref(old);
}

/* load_source: compile a stored source into the registry. One that cannot
 * be compiled is logged and left out: its URL answers as unknown until its
 * config is fixed. */
static void load_source(void *ctx, struct store_source *ss)
{
	struct registry *r = ctx;
	json_error_t je;
	json_t *cfg = json_loads(ss->config ? ss->config : "", 0, &je);
	struct source *src = NULL;
	struct gerr err = {0};
	if (!cfg)
		gerr_set(&err, GERR_INVALID, 500, "internal", "config is not JSON: %s", je.text);
	if (cfg && source_compile(cfg, ss->seq, ss->id, ss->company_seq, &src, &err) == 0) {
		registry_source_put(r, src);
	} else {
		log_error("source_not_loaded", "source=%s reason=\"%s\"", ss->id, err.msg);
		registry_source_remove(r, ss->seq);
	}
	json_decref(cfg);
}

int registry_reload_source(struct registry *r, struct store *s, int64_t seq)
{
	struct store_source ss;
	int rc = store_source_by_seq(s, seq, &ss);
	if (rc == GERR_NOTFOUND) {
		registry_source_remove(r, seq);
		log_info("source_reloaded", "seq=%lld state=gone", (long long)seq);
		return 0;
	}
	if (rc)
		return rc;
	load_source(r, &ss);
	log_info("source_reloaded", "seq=%lld source=%s", (long long)seq, ss.id);
	store_source_free(&ss);
	return 0;
}

/* ---- routes ------------------------------------------------------------------------------- */

int registry_route_put(struct registry *r, struct route *rt)
{
	struct route *old = NULL;
	bool ok = true;
	pthread_rwlock_wrlock(&r->lock);
	int i = 0;
	while (i < r->nroutes && r->routes[i]->seq != rt->seq)
		i++;
	if (i < r->nroutes) {
		old = r->routes[i];
		r->routes[i] = rt;
	} else if (array_reserve((void **)&r->routes, &r->caproutes, r->nroutes + 1,
	                         sizeof(*r->routes), 16)) {
		r->routes[r->nroutes++] = rt;
	} else {
		ok = false;
	}
	pthread_rwlock_unlock(&r->lock);
	if (!ok) {
		log_error("route_not_loaded", "route=%s reason=\"out of memory\"", rt->id);
		route_unref(rt);
		return -1;
	}
	route_unref(old);
	return 0;
}

void registry_route_remove(struct registry *r, int64_t seq)
{
	struct route *old = NULL;
	pthread_rwlock_wrlock(&r->lock);
	for (int i = 0; i < r->nroutes; i++)
		if (r->routes[i]->seq == seq) {
			old = r->routes[i];
			r->routes[i] = r->routes[--r->nroutes];
			break;
		}
	pthread_rwlock_unlock(&r->lock);
	route_unref(old);
}

int registry_routes(struct registry *r, int64_t company_seq, int64_t source_seq, struct route **out,
                    int max)
{
	int n = 0;
	pthread_rwlock_rdlock(&r->lock);
	for (int i = 0; i < r->nroutes; i++) {
		struct route *rt = r->routes[i];
		if (rt->company_seq != company_seq ||
		    (rt->source_seq && rt->source_seq != source_seq))
			continue;
		if (n < max) {
			route_ref(rt);
			out[n] = rt;
		}
		n++;
	}
	pthread_rwlock_unlock(&r->lock);
	return n;
}

/* load_route: compile a stored route into the registry; one that cannot be
 * compiled is logged and left out (its receipts fire nothing). */
static void load_route(void *ctx, struct store_route *sr)
{
	struct registry *r = ctx;
	json_error_t je;
	json_t *cfg = json_loads(sr->config ? sr->config : "", 0, &je);
	struct route *rt = NULL;
	struct gerr err = {0};
	if (!cfg)
		gerr_set(&err, GERR_INVALID, 500, "internal", "config is not JSON: %s", je.text);
	if (cfg && route_compile(cfg, sr->seq, sr->id, sr->company_seq, sr->source_seq,
	                         sr->target_seqs, &rt, &err) == 0) {
		registry_route_put(r, rt);
	} else {
		log_error("route_not_loaded", "route=%s reason=\"%s\"", sr->id, err.msg);
		registry_route_remove(r, sr->seq);
	}
	json_decref(cfg);
}

int registry_reload_route(struct registry *r, struct store *s, int64_t company_seq, const char *id)
{
	struct store_route sr;
	int rc = store_route_get(s, company_seq, id, &sr);
	if (rc == GERR_NOTFOUND) {
		pthread_rwlock_rdlock(&r->lock);
		int64_t seq = 0;
		for (int i = 0; i < r->nroutes && !seq; i++)
			if (strcmp(r->routes[i]->id, id) == 0)
				seq = r->routes[i]->seq;
		pthread_rwlock_unlock(&r->lock);
		if (seq)
			registry_route_remove(r, seq);
		return 0;
	}
	if (rc)
		return rc;
	load_route(r, &sr);
	store_route_free(&sr);
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static void load_token(void *ctx, const char *hash, int64_t company_seq)
{
	registry_token_put(ctx, hash, company_seq);
}

/* load_webhook: compile a stored webhook into the registry. One that
 * cannot be loaded is never skipped silently: it is logged and listed as
 * broken (registry_broken), and registry_load records it for the operator. */
static void load_webhook(void *ctx, struct store_webhook *sw)
{
	struct registry *r = ctx;
	json_error_t je;
	json_t *cfg = json_loads(sw->config ? sw->config : "", 0, &je);
	struct webhook *w;
	struct gerr err = {0};
	if (!cfg)
		gerr_set(&err, GERR_INVALID, 500, "internal", "config is not JSON: %s", je.text);
	if (cfg && webhook_compile(cfg, sw->seq, sw->id, sw->company_seq, sw->status,
	                           clock_now_ms(), &w, &err) == 0) {
		registry_webhook_put(r, w);
	} else {
		log_error("webhook_not_loaded", "webhook=%s reason=\"%s\"", sw->id, err.msg);
		registry_webhook_remove(r, sw->seq);
		pthread_rwlock_wrlock(&r->lock);
		broken_set(r, sw->seq, sw->id, true);
		pthread_rwlock_unlock(&r->lock);
	}
	json_decref(cfg);
}

int registry_reload_webhook(struct registry *r, struct store *s, int64_t seq)
{
	struct store_webhook sw;
	int rc = store_webhook_by_seq(s, seq, &sw);
	if (rc == GERR_NOTFOUND) {
		registry_webhook_remove(r, seq);
		return 0;
	}
	if (rc)
		return rc;
	load_webhook(r, &sw);
	store_webhook_free(&sw);
	return 0;
}

int registry_reload_company(struct registry *r, struct store *s, int64_t seq)
{
	struct store_company c;
	int rc = store_company_get(s, seq, &c);
	if (rc)
		return rc;
	registry_company_put(r, c.seq, c.id, c.name, c.event_types);
	store_company_free(&c);
	return 0;
}

int registry_load(struct registry *r, struct store *s, struct gerr *err)
{
	int64_t before = 0;
	for (;;) {
		struct store_company page[256];
		int n = 0;
		if (store_company_list(s, before, 256, page, &n))
			return gerr_set(err, GERR_IO, 500, "store", "cannot load companies");
		for (int i = 0; i < n; i++) {
			registry_company_put(r, page[i].seq, page[i].id, page[i].name,
			                     page[i].event_types);
			store_company_free(&page[i]);
		}
		if (n < 256)
			break;
		before = page[n - 1].seq;
	}
	if (store_token_each(s, load_token, r) || store_webhook_each(s, load_webhook, r))
		return gerr_set(err, GERR_IO, 500, "store", "cannot load tokens or webhooks");
	if (store_source_each(s, load_source, r))
		return gerr_set(err, GERR_IO, 500, "store", "cannot load sources");
	if (store_route_each(s, load_route, r))
		return gerr_set(err, GERR_IO, 500, "store", "cannot load routes");
	/* Each webhook that cannot be loaded becomes inactive with an operator
	 * record saying why: it receives nothing until its config is fixed. */
	for (int i = 0; i < r->nbroken; i++) {
		struct store_webhook_change ch = {
		    .webhook_seq = r->broken[i].seq,
		    .deactivate = true,
		    .reason = "its stored configuration cannot be loaded (see the log); it receives"
		              " nothing until it is fixed"};
		struct store_batch b = {.node = "", .changes = &ch, .nchanges = 1};
		struct gerr cerr = {0};
		if (store_commit(s, &b, &cerr))
			log_error("webhook_not_loaded_record_failed", "webhook=%s err=\"%s\"",
			          r->broken[i].id, cerr.msg);
	}
	return 0;
}
