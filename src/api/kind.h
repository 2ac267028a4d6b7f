/*
 * kind: what the API does alike for every kind of stored object a company
 * owns and names by id (webhooks, routes, sources, connections): list a page
 * of them, newest first, and load one with its stored config. Not for outside
 * src/api.
 *
 * A resource file describes its kind once, in a const struct api_kind: its
 * name for the messages, the size of its store row, where the row keeps its
 * seq and config, and three small wrappers around its typed store functions
 * and its answer. Its list handler is then api_kind_list, and its handlers
 * for one object start with api_kind_load. A new kind (say reconciliations)
 * does the same: fill a struct api_kind next to its answer().
 */
#ifndef GANCHO_API_KIND_H
#define GANCHO_API_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "api/api_internal.h"

struct api_kind {
	const char *name;   /* "source": "no source <id>", "stored source config …" */
	const char *plural; /* "sources": "cannot read sources" */
	size_t size;        /* of one store row (struct store_source) */
	size_t seq_at;      /* offsetof the row's int64_t seq */
	size_t config_at;   /* offsetof the row's char *config (JSON text) */
	/* store_<kind>_list, _get and _free with the row as void * */
	int (*list)(struct store *s, int64_t company_seq, int64_t before_seq, int limit, void *out,
	            int *n);
	int (*get)(struct store *s, int64_t company_seq, const char *id, void *out);
	void (*drop)(void *row);
	/* the row as the API shows it, given its parsed config; a new reference */
	json_t *(*answer)(const void *row, const json_t *cfg);
};

/* api_kind_list: answer the caller's page of k (limit and cursor from the
 * query, api_page; the answer as api_list's). Returns API_DONE. */
int api_kind_list(struct api *a, struct api_req *req, const struct caller *c,
                  const struct api_kind *k);

/* api_kind_load: the caller's object id of kind k into row (k->size bytes)
 * and its stored config parsed into *cfg; 0, both the caller's to free
 * (k->drop, json_decref). Else -1 with the answer set (404 for an id the
 * caller's company does not have, 503, or 500 for an unreadable config) and
 * nothing kept. */
int api_kind_load(struct api *a, struct api_req *req, const struct caller *c,
                  const struct api_kind *k, const char *id, void *row, json_t **cfg);

#endif
