/*
 * idmap: the event ids the SQLite store has taken in since its last merge
 * into the on-disk id index, by (company, id), with their seq.
 *
 * Event ids are random (UUIDs), so a unique B-tree index on them dirties one
 * page of its own per event, and SQLite's page-level WAL writes that whole
 * page for every commit. Instead the newest ids are checked here, in memory,
 * and merged into the index in large sorted batches, where each index page is
 * written once for many ids. The map is a cache of what the events table
 * already holds durably, so it is rebuilt from there after a restart.
 */
#ifndef GANCHO_STORE_IDMAP_H
#define GANCHO_STORE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap;

struct idmap *idmap_new(void);
void idmap_free(struct idmap *m);
/* idmap_find: the seq stored for (company_seq, id), or 0. */
int64_t idmap_find(const struct idmap *m, int64_t company_seq, const char *id);
/* idmap_put: remember (company_seq, id) → seq (seq > 0); false when out of
 * memory. An id already present keeps its first seq. */
bool idmap_put(struct idmap *m, int64_t company_seq, const char *id, int64_t seq);
size_t idmap_count(const struct idmap *m);
void idmap_clear(struct idmap *m);

/* A merge's view of the map: entries up to a seq, sorted by (company, id). */
struct idmap_ref {
	int64_t company_seq;
	int64_t seq;
	size_t off; /* of the id, for idmap_ref_id */
};
/* idmap_sorted: the entries with seq <= upto, sorted (free() the array);
 * NULL when out of memory. They stay valid while entries are only added. */
struct idmap_ref *idmap_sorted(const struct idmap *m, int64_t upto, size_t *n);
const char *idmap_ref_id(const struct idmap *m, const struct idmap_ref *r);
/* idmap_drop_upto: forget the entries with seq <= upto (merged); false when
 * out of memory (the map is then unchanged). */
bool idmap_drop_upto(struct idmap *m, int64_t upto);

#endif
