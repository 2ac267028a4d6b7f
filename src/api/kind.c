/*
 * kind: listing and loading alike every kind of object a company owns by id
 * (kind.h). The store rows are handled as bytes of k->size; the seq and the
 * config are read at their offsets, so a kind needs no reader of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "api/kind.h"

static int64_t row_seq(const struct api_kind *k, const char *row)
{
	int64_t seq;
	memcpy(&seq, row + k->seq_at, sizeof(seq));
	return seq;
}

static const char *row_config(const struct api_kind *k, const char *row)
{
	const char *config;
	memcpy(&config, row + k->config_at, sizeof(config));
	return config;
}

int api_kind_list(struct api *a, struct api_req *req, const struct caller *c,
                  const struct api_kind *k)
{
	int limit;
	int64_t cursor;
	if (api_page(req, &limit, &cursor))
		return API_DONE;
	char *rows = calloc((size_t)limit + 1, k->size);
	int n = 0;
	api_lock(a);
	int rc = rows ? k->list(a->s, c->company_seq, cursor, limit + 1, rows, &n) : GERR_NOMEM;
	api_unlock(a);
	if (rc) {
		free(rows);
		return api_fail(req, 503, "unavailable", "cannot read %s", k->plural);
	}
	int shown = n > limit ? limit : n;
	int64_t last = shown ? row_seq(k, rows + (size_t)(shown - 1) * k->size) : 0;
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		char *row = rows + (size_t)i * k->size;
		json_t *cfg = i < shown ? json_loads(row_config(k, row), 0, NULL) : NULL;
		if (cfg)
			json_array_append_new(items, k->answer(row, cfg));
		json_decref(cfg);
		k->drop(row);
	}
	api_list(req, items, n, limit, last);
	free(rows);
	return API_DONE;
}

int api_kind_load(struct api *a, struct api_req *req, const struct caller *c,
                  const struct api_kind *k, const char *id, void *row, json_t **cfg)
{
	*cfg = NULL;
	memset(row, 0, k->size);
	api_lock(a);
	int rc = k->get(a->s, c->company_seq, id, row);
	api_unlock(a);
	if (rc)
		return api_fail(req, rc == GERR_NOTFOUND ? 404 : 503,
		                rc == GERR_NOTFOUND ? "not_found" : "unavailable", "no %s %s",
		                k->name, id),
		       -1;
	*cfg = json_loads(row_config(k, row), 0, NULL);
	if (*cfg)
		return 0;
	api_fail(req, 500, "internal", "stored %s config is unreadable", k->name);
	k->drop(row);
	return -1;
}
