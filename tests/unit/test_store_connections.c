/*
 * test_store_connections: the connections of store.h: insert, get within a
 * company only, change, delete (then never read back), list newest first
 * with keyset pages; a change of credentials rewrites, in the same
 * transaction, the "authorization" of exactly the targets that use the
 * connection (live route targets of the company whose config names it) and
 * says which; a delete, or an exclusive change, is refused with 409 naming a
 * live route that uses it, and changes nothing.
 *
 * It runs on SQLite by default; with GANCHO_TEST_STORE_URL set (a
 * postgres:// URL) on that store instead: the integration test
 * test_store_connections.py runs it so on a throwaway PostgreSQL server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/store.h"
#include "store_fixture.h"

static char path[256];
static struct store *s;
static int run; /* tells one test's ids from another's on a shared database */

static int setup(void **state)
{
	(void)state;
	s = store_fixture_open(path, sizeof(path), "connections", true, store_open);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_fixture_close(s, path);
	return 0;
}

/* uid: a per-run unique id from a name. */
static const char *uid(const char *name)
{
	static char ids[32][40];
	static int k;
	char *id = ids[k++ % 32];
	snprintf(id, 40, "%s-%d-%d", name, (int)getpid(), run);
	return id;
}

static int64_t add(int64_t company, const char *id, const char *name, const char *config)
{
	struct gerr err = {0};
	struct store_connection c = {.company_seq = company,
	                             .name = (char *)name,
	                             .config = (char *)config,
	                             .created_at = 10,
	                             .updated_at = 10};
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.kind, sizeof(c.kind), "gupy");
	if (store_connection_write(s, &c, false, NULL, NULL, NULL, &err))
		fail_msg("insert %s: %s", id, err.msg);
	assert_true(c.seq > 0);
	assert_int_equal(c.status, CONN_ACTIVE);
	return c.seq;
}

/* change: a PATCH of connection seq (id, company), its config replaced. */
static int change(int64_t company, int64_t seq, const char *id, const char *config, bool exclusive,
                  const char *authorization, int64_t **re, int *nre, struct gerr *err)
{
	struct store_connection c = {.seq = seq,
	                             .company_seq = company,
	                             .name = "Gupy",
	                             .config = (char *)config,
	                             .updated_at = 50};
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.kind, sizeof(c.kind), "gupy");
	return store_connection_write(s, &c, exclusive, authorization, re, nre, err);
}

static int del(int64_t company, int64_t seq, const char *id, struct gerr *err)
{
	struct store_connection c = {
	    .seq = seq, .company_seq = company, .status = CONN_DELETED, .updated_at = 60};
	snprintf(c.id, sizeof(c.id), "%s", id);
	return store_connection_write(s, &c, false, NULL, NULL, NULL, err);
}

/* route: a route of company with one target per config (NULL: none), all
 * live; target seqs in seqs. Returns the route's seq. */
static int64_t route(int64_t company, const char *rid, const char *name, const char *const *configs,
                     int n, int64_t *seqs)
{
	struct store_route r = {.company_seq = company, .status = WH_ACTIVE, .config = "{}"};
	snprintf(r.id, sizeof(r.id), "%s", rid);
	snprintf(r.name, sizeof(r.name), "%s", name);
	struct store_webhook t[4];
	memset(t, 0, sizeof(t));
	for (int i = 0; i < n; i++) {
		t[i].company_seq = company;
		t[i].status = WH_ACTIVE;
		t[i].config = (char *)configs[i];
		snprintf(t[i].id, sizeof(t[i].id), "%s-t%d", rid, i);
	}
	struct gerr err = {0};
	if (store_route_write(s, &r, t, n, &err))
		fail_msg("route %s: %s", rid, err.msg);
	for (int i = 0; i < n; i++)
		seqs[i] = t[i].seq;
	return r.seq;
}

/* auth_of: the "authorization" of target seq, as JSON text (caller frees). */
static char *auth_of(int64_t seq)
{
	struct store_webhook w;
	assert_int_equal(store_webhook_by_seq(s, seq, &w), 0);
	json_t *cfg = json_loads(w.config, 0, NULL);
	assert_non_null(cfg);
	const json_t *auth = json_object_get(cfg, "authorization");
	char *a = auth ? json_dumps(auth, JSON_COMPACT | JSON_SORT_KEYS) : strdup("null");
	/* the rest of the config is kept */
	assert_string_equal(json_string_value(json_object_get(cfg, "postbackUrl")),
	                    "https://api.gupy.io");
	json_decref(cfg);
	store_webhook_free(&w);
	return a;
}

static void test_connection_rows(void **state)
{
	(void)state;
	run++;
	const char *ida = uid("conn-a"), *idb = uid("conn-b"), *idc = uid("conn-c");
	int64_t company = 1000 + run, other = 2000 + run;
	int64_t a = add(company, ida, "Gupy", "{\"name\":\"Gupy\",\"token\":\"t1\"}");
	int64_t b = add(company, idb, "HelloWork", "{\"name\":\"HelloWork\"}");
	add(other, idc, "Other company", "{}");
	struct store_connection out;
	assert_int_equal(store_connection_get(s, company, ida, &out), 0);
	assert_int_equal(out.seq, a);
	assert_string_equal(out.name, "Gupy");
	assert_string_equal(out.kind, "gupy");
	assert_string_equal(out.config, "{\"name\":\"Gupy\",\"token\":\"t1\"}");
	assert_int_equal(out.company_seq, company);
	assert_int_equal(out.status, CONN_ACTIVE);
	assert_int_equal(out.created_at, 10);
	store_connection_free(&out);
	/* another company's id is not there */
	assert_int_equal(store_connection_get(s, other, ida, &out), GERR_NOTFOUND);
	assert_int_equal(store_connection_get(s, 0, ida, &out), GERR_NOTFOUND);

	struct gerr err = {0};
	int64_t *re = NULL;
	int nre = -1;
	assert_int_equal(change(company, a, ida, "{\"name\":\"Gupy\",\"token\":\"t2\"}", false,
	                        NULL, &re, &nre, &err),
	                 0);
	assert_null(re);
	assert_int_equal(nre, 0);
	assert_int_equal(store_connection_get(s, company, ida, &out), 0);
	assert_string_equal(out.config, "{\"name\":\"Gupy\",\"token\":\"t2\"}");
	assert_int_equal(out.created_at, 10);
	assert_int_equal(out.updated_at, 50);
	store_connection_free(&out);

	/* pages, newest first */
	struct store_connection page[3];
	int n = 0;
	assert_int_equal(store_connection_list(s, company, 0, 3, page, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(page[0].seq, b);
	assert_int_equal(page[1].seq, a);
	store_connection_free(&page[0]);
	store_connection_free(&page[1]);
	assert_int_equal(store_connection_list(s, company, 0, 1, page, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].seq, b);
	store_connection_free(&page[0]);
	assert_int_equal(store_connection_list(s, company, b, 3, page, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].seq, a);
	store_connection_free(&page[0]);

	/* a deleted connection is never read back, and cannot be changed again */
	assert_int_equal(del(company, b, idb, &err), 0);
	assert_int_equal(del(company, b, idb, &err), GERR_NOTFOUND);
	assert_int_equal(store_connection_get(s, company, idb, &out), GERR_NOTFOUND);
	assert_int_equal(change(company, b, idb, "{}", false, NULL, NULL, NULL, &err),
	                 GERR_NOTFOUND);
	assert_int_equal(store_connection_list(s, company, 0, 3, page, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(page[0].seq, a);
	store_connection_free(&page[0]);
}

static void test_credentials_reach_the_targets(void **state)
{
	(void)state;
	run++;
	const char *id = uid("conn"), *id2 = uid("conn2");
	int64_t company = 3000 + run, other = 4000 + run;
	int64_t c = add(company, id, "Gupy", "{\"token\":\"old\"}");
	add(company, id2, "Gupy 2", "{\"token\":\"x\"}");
	char uses[256], uses2[256];
	snprintf(uses, sizeof(uses),
	         "{\"postbackUrl\":\"https://api.gupy.io\",\"events\":[\"route\"],"
	         "\"connectionId\":\"%s\",\"authorization\":{\"kind\":\"apiKey\",\"data\":"
	         "{\"key\":\"old\",\"prefix\":\"Bearer\"}}}",
	         id);
	snprintf(uses2, sizeof(uses2),
	         "{\"postbackUrl\":\"https://api.gupy.io\",\"events\":[\"route\"],"
	         "\"connectionId\":\"%s\",\"authorization\":{\"kind\":\"apiKey\",\"data\":"
	         "{\"key\":\"x\",\"prefix\":\"Bearer\"}}}",
	         id2);
	const char *plain = "{\"postbackUrl\":\"https://api.gupy.io\",\"events\":[\"route\"]}";
	/* route 1: two targets of this connection and one of none; route 2:
	 * one of the other connection; another company's target that names
	 * the same id (it cannot be this connection) */
	int64_t t1[3], t2[1], t3[1];
	const char *cfg1[] = {uses, plain, uses};
	const char *cfg2[] = {uses2};
	const char *cfg3[] = {uses};
	route(company, uid("route-1"), "Tag Apto", cfg1, 3, t1);
	route(company, uid("route-2"), "Other", cfg2, 1, t2);
	route(other, uid("route-3"), "Other company", cfg3, 1, t3);
	/* an ordinary webhook that names it is not a target */
	struct gerr err = {0};
	struct store_webhook w = {.company_seq = company, .config = uses};
	snprintf(w.id, sizeof(w.id), "%s", uid("plain-webhook"));
	assert_int_equal(store_webhook_insert(s, &w, &err), 0);

	const char *na = "{\"data\":{\"key\":\"new\",\"prefix\":\"Bearer\"},\"kind\":\"apiKey\"}";
	int64_t *re = NULL;
	int nre = 0;
	assert_int_equal(change(company, c, id, "{\"token\":\"new\"}", false, na, &re, &nre, &err),
	                 0);
	assert_int_equal(nre, 2);
	assert_non_null(re);
	int64_t lo = re[0] < re[1] ? re[0] : re[1], hi = re[0] < re[1] ? re[1] : re[0];
	assert_int_equal(lo, t1[0]);
	assert_int_equal(hi, t1[2]);
	free(re);
	char *got = auth_of(t1[0]);
	assert_string_equal(got, na);
	free(got);
	got = auth_of(t1[2]);
	assert_string_equal(got, na);
	free(got);
	/* the others are untouched */
	got = auth_of(t1[1]);
	assert_string_equal(got, "null");
	free(got);
	got = auth_of(t2[0]);
	assert_string_equal(got,
	                    "{\"data\":{\"key\":\"x\",\"prefix\":\"Bearer\"},\"kind\":\"apiKey\"}");
	free(got);
	got = auth_of(t3[0]);
	assert_string_equal(
	    got, "{\"data\":{\"key\":\"old\",\"prefix\":\"Bearer\"},\"kind\":\"apiKey\"}");
	free(got);
	struct store_webhook pw;
	assert_int_equal(store_webhook_by_seq(s, w.seq, &pw), 0);
	assert_string_equal(pw.config, uses);
	assert_int_equal(pw.updated_at, 0);
	store_webhook_free(&pw);
	/* the rewritten targets' updated_at is the change's */
	assert_int_equal(store_webhook_by_seq(s, t1[0], &pw), 0);
	assert_int_equal(pw.updated_at, 50);
	store_webhook_free(&pw);
}

static void test_a_used_connection_stays(void **state)
{
	(void)state;
	run++;
	const char *id = uid("conn"), *rid = uid("route-live"), *gone = uid("route-gone");
	int64_t company = 5000 + run;
	int64_t c = add(company, id, "Gupy", "{\"token\":\"old\"}");
	char uses[256];
	snprintf(uses, sizeof(uses),
	         "{\"postbackUrl\":\"https://api.gupy.io\",\"events\":[\"route\"],"
	         "\"connectionId\":\"%s\",\"authorization\":{\"kind\":\"apiKey\",\"data\":"
	         "{\"key\":\"old\",\"prefix\":\"Bearer\"}}}",
	         id);
	const char *cfg[] = {uses};
	int64_t t[1], tg[1];
	/* a route deleted with its target does not hold the connection */
	int64_t gseq = route(company, gone, "Gone", cfg, 1, tg);
	struct store_route gr = {.seq = gseq,
	                         .company_seq = company,
	                         .status = WH_DELETED,
	                         .config = "{}",
	                         .updated_at = 20};
	snprintf(gr.id, sizeof(gr.id), "%s", gone);
	snprintf(gr.name, sizeof(gr.name), "Gone");
	struct store_webhook gt = {.seq = tg[0],
	                           .company_seq = company,
	                           .status = WH_DELETED,
	                           .config = uses,
	                           .updated_at = 20};
	struct gerr err = {0};
	assert_int_equal(store_route_write(s, &gr, &gt, 1, &err), 0);
	/* an exclusive change passes while nothing uses it */
	assert_int_equal(change(company, c, id, "{\"token\":\"v2\"}", true, NULL, NULL, NULL, &err),
	                 0);

	route(company, rid, "Tag Apto", cfg, 1, t);
	memset(&err, 0, sizeof(err));
	assert_int_equal(del(company, c, id, &err), GERR_CONFLICT);
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.msg, rid));
	assert_non_null(strstr(err.msg, "Tag Apto"));
	assert_null(strstr(err.msg, gone));
	struct store_connection out;
	assert_int_equal(store_connection_get(s, company, id, &out), 0);
	assert_string_equal(out.config, "{\"token\":\"v2\"}");
	store_connection_free(&out);
	/* an exclusive change is refused the same way, and changes nothing: not
	 * the connection, not its targets */
	memset(&err, 0, sizeof(err));
	int64_t *re = (int64_t *)1;
	int nre = 7;
	assert_int_equal(change(company, c, id, "{\"token\":\"v3\"}", true,
	                        "{\"kind\":\"apiKey\",\"data\":{\"key\":\"v3\"}}", &re, &nre, &err),
	                 GERR_CONFLICT);
	assert_null(re);
	assert_int_equal(nre, 0);
	assert_int_equal(err.status, 409);
	assert_int_equal(store_connection_get(s, company, id, &out), 0);
	assert_string_equal(out.config, "{\"token\":\"v2\"}");
	assert_int_equal(out.updated_at, 50);
	store_connection_free(&out);
	char *got = auth_of(t[0]);
	assert_string_equal(
	    got, "{\"data\":{\"key\":\"old\",\"prefix\":\"Bearer\"},\"kind\":\"apiKey\"}");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connection_rows),
	    cmocka_unit_test(test_credentials_reach_the_targets),
	    cmocka_unit_test(test_a_used_connection_stays),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
