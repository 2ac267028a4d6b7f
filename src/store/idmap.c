/* idmap: see idmap.h. Open addressing with linear probing; the ids live in
 * one arena so clearing the map is two resets, not a free per entry. */
#include "store/idmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct slot {
	uint64_t hash; /* 0: empty */
	int64_t company_seq;
	int64_t seq;
	size_t off; /* of the id in the arena, NUL-terminated */
};

struct idmap {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t count;
	struct buf arena;
};

static uint64_t hash_key(int64_t company_seq, const char *id)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)company_seq;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

struct idmap *idmap_new(void)
{
	struct idmap *m = calloc(1, sizeof(*m));
	if (m)
		buf_init(&m->arena);
	return m;
}

void idmap_free(struct idmap *m)
{
	if (!m)
		return;
	free(m->slots);
	buf_free(&m->arena);
	free(m);
}

static struct slot *lookup(const struct idmap *m, uint64_t h, int64_t company_seq, const char *id)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct slot *s = &m->slots[i];
		if (!s->hash || (s->hash == h && s->company_seq == company_seq &&
		                 !strcmp(m->arena.data + s->off, id)))
			return s;
	}
}

int64_t idmap_find(const struct idmap *m, int64_t company_seq, const char *id)
{
	if (!m->count)
		return 0;
	struct slot *s = lookup(m, hash_key(company_seq, id), company_seq, id);
	return s->hash ? s->seq : 0;
}

static bool grow(struct idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		struct slot *s = &m->slots[i];
		if (!s->hash)
			continue;
		size_t j = s->hash & (cap - 1);
		while (slots[j].hash)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return true;
}

bool idmap_put(struct idmap *m, int64_t company_seq, const char *id, int64_t seq)
{
	if ((m->count + 1) * 2 > m->cap && !grow(m))
		return false;
	uint64_t h = hash_key(company_seq, id);
	struct slot *s = lookup(m, h, company_seq, id);
	if (s->hash)
		return true;
	size_t off = m->arena.len;
	buf_append(&m->arena, id, strlen(id) + 1);
	if (m->arena.oom)
		return false;
	*s = (struct slot){h, company_seq, seq, off};
	m->count++;
	return true;
}

size_t idmap_count(const struct idmap *m)
{
	return m->count;
}

void idmap_clear(struct idmap *m)
{
	if (m->slots)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->count = 0;
	buf_reset(&m->arena);
}

static int ref_cmp(const void *a, const void *b, void *map)
{
	const struct idmap_ref *x = a, *y = b;
	const char *arena = ((const struct idmap *)map)->arena.data;
	if (x->company_seq != y->company_seq)
		return x->company_seq < y->company_seq ? -1 : 1;
	return strcmp(arena + x->off, arena + y->off);
}

struct idmap_ref *idmap_sorted(const struct idmap *m, int64_t upto, size_t *n)
{
	struct idmap_ref *refs = malloc((m->count + 1) * sizeof(*refs));
	if (!refs)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < m->cap; i++) {
		const struct slot *s = &m->slots[i];
		if (s->hash && s->seq <= upto)
			refs[k++] = (struct idmap_ref){s->company_seq, s->seq, s->off};
	}
	qsort_r(refs, k, sizeof(*refs), ref_cmp, (void *)m);
	*n = k;
	return refs;
}

const char *idmap_ref_id(const struct idmap *m, const struct idmap_ref *r)
{
	return m->arena.data + r->off;
}

bool idmap_drop_upto(struct idmap *m, int64_t upto)
{
	struct idmap *keep = idmap_new();
	if (!keep)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		const struct slot *s = &m->slots[i];
		if (s->hash && s->seq > upto &&
		    !idmap_put(keep, s->company_seq, m->arena.data + s->off, s->seq)) {
			idmap_free(keep);
			return false;
		}
	}
	free(m->slots);
	buf_free(&m->arena);
	*m = *keep;
	free(keep);
	return true;
}
