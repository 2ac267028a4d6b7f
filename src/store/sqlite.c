/*
 * sqlite: the embedded store (see store.h), one SQLite file in WAL mode.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so a COMMIT returns only
 * after the WAL is fsynced; the committer batches many events into one
 * transaction so thousands of acknowledgements share that fsync.
 *
 * Event ids are unique per company. Checked against a unique index, random
 * ids (UUIDs) would dirty an index page of their own per event, which the
 * page-level WAL then writes whole: 4 KB a event. The newest ids are checked
 * in memory instead (idmap.h) and merged into event_ids every IDS_MERGE_AT
 * events in (company, id) order, which writes each index page once for many
 * ids. The merge goes IDS_MERGE_CHUNK ids a transaction, between the batches
 * of the hot path, so none of them waits for the whole of it. The senders'
 * ids of receipts (unique per source) are checked the same way, through
 * receipt_ids: struct id_index is the one piece of code for both.
 *
 * Every statement is prepared once per connection (struct store keeps them)
 * and reset after use. Open deliveries are found through a partial index
 * (status = pending) keyed by seq, so refilling the dispatcher's window is a
 * keyset walk that never touches finished work.
 *
 * Schema changes are numbered migrations applied at open, inside one
 * transaction each; meta.schema_version records the last one applied.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/idmap.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/utf8.h"
#include "util/uuid.h"

static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE companies(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL UNIQUE, event_types TEXT NOT NULL DEFAULT '[]',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE tokens(hash TEXT PRIMARY KEY, company_seq INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE webhooks(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, status INTEGER NOT NULL, fail_since INTEGER NOT NULL DEFAULT 0,"
    " config TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX webhooks_company ON webhooks(company_seq, seq);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, company_seq INTEGER NOT NULL, id TEXT NOT NULL,"
    " idem_key TEXT, event TEXT NOT NULL, date_ms INTEGER NOT NULL, unit TEXT, data BLOB NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX events_id ON events(company_seq, id);"
    "CREATE UNIQUE INDEX events_idem ON events(company_seq, idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE INDEX events_date ON events(company_seq, date_ms);"
    "CREATE TABLE deliveries(seq INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL,"
    " webhook_seq INTEGER NOT NULL, company_seq INTEGER NOT NULL, status INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
    " first_attempt_at INTEGER NOT NULL DEFAULT 0, last_http_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT, okey TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX deliveries_open ON deliveries(seq) WHERE status = 0;"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_seq, seq);"
    "CREATE INDEX deliveries_company ON deliveries(company_seq, seq);"
    "CREATE TABLE attempts(seq INTEGER PRIMARY KEY, delivery_seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL, http_status INTEGER NOT NULL, latency_ms INTEGER NOT NULL,"
    " error TEXT, response BLOB);"
    "CREATE INDEX attempts_delivery ON attempts(delivery_seq, seq);"
    "CREATE TABLE opevents(seq INTEGER PRIMARY KEY, company_seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL, kind TEXT NOT NULL, webhook_seq INTEGER, message TEXT NOT NULL);"
    "CREATE INDEX opevents_company ON opevents(company_seq, seq);",
    /* 2: open deliveries by due time, to bring back those let go of while
     * they waited for a distant retry */
    "CREATE INDEX deliveries_due ON deliveries(next_at, seq) WHERE status = 0;",
    /* 3: event ids leave the unique index on events for a table filled in
     * sorted batches (see idmap.h); meta ids_upto is the last seq merged */
    "CREATE TABLE event_ids(company_seq INTEGER NOT NULL, id TEXT NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(company_seq, id)) WITHOUT ROWID;"
    "INSERT INTO event_ids SELECT company_seq, id, seq FROM events ORDER BY company_seq, id;"
    "DROP INDEX events_id;"
    "INSERT OR REPLACE INTO meta(key, value)"
    " SELECT 'ids_upto', coalesce(max(seq), 0) FROM events;",
    /* 4: sources (receiving URLs) and the requests they refused */
    "CREATE TABLE sources(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,"
    " status INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX sources_company ON sources(company_seq, seq);"
    "CREATE TABLE rejections(seq INTEGER PRIMARY KEY, source_seq INTEGER NOT NULL,"
    " at INTEGER NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE INDEX rejections_source ON rejections(source_seq, seq);",
    /* 5: routes, and their actions' targets as webhook rows (route_seq) */
    "CREATE TABLE routes(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, source_seq INTEGER, name TEXT NOT NULL,"
    " config TEXT NOT NULL, status INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX routes_company ON routes(company_seq, seq);"
    "ALTER TABLE webhooks ADD COLUMN route_seq INTEGER;"
    "CREATE INDEX webhooks_route ON webhooks(route_seq, seq) WHERE route_seq IS NOT NULL;",
    /* 6: a delivery may send a stored request (an inbound action's rendered
     * request) instead of its event's envelope */
    "CREATE TABLE requests(seq INTEGER PRIMARY KEY, method TEXT NOT NULL, url TEXT NOT NULL,"
    " headers TEXT NOT NULL, body BLOB NOT NULL);"
    "ALTER TABLE deliveries ADD COLUMN request_seq INTEGER;",
    /* 7: receipts (requests received at /in/{source}), one per sender's id
     * per source, and entities: per company, type and key, the latest
     * applied receipt's date and the fields kept from it */
    "CREATE TABLE receipts(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, source_seq INTEGER NOT NULL, msg_id TEXT NOT NULL,"
    " event TEXT NOT NULL, date TEXT NOT NULL, date_us INTEGER NOT NULL,"
    " date_ns INTEGER NOT NULL, entity_type TEXT, entity_key TEXT,"
    " kept TEXT NOT NULL DEFAULT '{}', body BLOB NOT NULL, headers TEXT NOT NULL,"
    " verification TEXT NOT NULL, address TEXT NOT NULL, status INTEGER NOT NULL,"
    " duplicates INTEGER NOT NULL DEFAULT 0, apply_at INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX receipts_msg ON receipts(source_seq, msg_id);"
    "CREATE INDEX receipts_company ON receipts(company_seq, seq);"
    "CREATE INDEX receipts_waiting ON receipts(apply_at, seq) WHERE status = 0;"
    "CREATE INDEX receipts_entity_waiting ON receipts(company_seq, entity_type, entity_key,"
    " date_us, date_ns, seq) WHERE status = 0;"
    "CREATE TABLE entities(company_seq INTEGER NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL,"
    " date_us INTEGER NOT NULL, date_ns INTEGER NOT NULL, kept TEXT NOT NULL,"
    " receipt_seq INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(company_seq, type, key)) WITHOUT ROWID;"
    "ALTER TABLE deliveries ADD COLUMN receipt_seq INTEGER;"
    "CREATE INDEX deliveries_receipt ON deliveries(receipt_seq, seq)"
    " WHERE receipt_seq IS NOT NULL;",
    /* 8: a forward's request sends its receipt's body, stored once */
    "ALTER TABLE requests ADD COLUMN body_receipt INTEGER;",
    /* 9: connections (an ATS or job board API's base URL and credentials) */
    "CREATE TABLE connections(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
    " config TEXT NOT NULL, status INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX connections_company ON connections(company_seq, seq);",
    /* 10: senders' ids of receipts leave the unique index on receipts for a
     * table filled in sorted batches, as event ids did in 3 (the index
     * dirtied a page of its own per receipt); meta receipt_ids_upto is the
     * last seq merged */
    "CREATE TABLE receipt_ids(source_seq INTEGER NOT NULL, msg_id TEXT NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(source_seq, msg_id)) WITHOUT ROWID;"
    "INSERT INTO receipt_ids SELECT source_seq, msg_id, seq FROM receipts"
    " ORDER BY source_seq, msg_id;"
    "DROP INDEX receipts_msg;"
    "INSERT OR REPLACE INTO meta(key, value)"
    " SELECT 'receipt_ids_upto', coalesce(max(seq), 0) FROM receipts;",
    /* 11: reconciliations (core/reconcile.h) and their runs. A receipt's
     * origin is not a column: the synthetic receipts a run makes say
     * "reconciliation" in their verification, which no received request
     * can (inbound/receive.c), so the receipt commit path stays the same */
    "CREATE TABLE reconciliations(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq INTEGER NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,"
    " status INTEGER NOT NULL, next_run_at INTEGER NOT NULL, lease_node TEXT,"
    " lease_until INTEGER NOT NULL DEFAULT 0, pending_run TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX reconciliations_company ON reconciliations(company_seq, seq);"
    "CREATE INDEX reconciliations_due ON reconciliations(next_run_at, seq) WHERE status = 0;"
    "CREATE TABLE reconciliation_runs(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " reconciliation_seq INTEGER NOT NULL, node TEXT, state INTEGER NOT NULL,"
    " requested_at INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0,"
    " ended_at INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0,"
    " jobs INTEGER NOT NULL DEFAULT 0, seen INTEGER NOT NULL DEFAULT 0,"
    " receipts INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]');"
    "CREATE INDEX reconciliation_runs_of ON reconciliation_runs(reconciliation_seq, seq);",
};

enum { IDS_MERGE_AT = 32768, IDS_MERGE_CHUNK = 4096 };

/* The columns of a receipt, in the order read_receipt reads them. */
#define RECEIPT_COLS                                                                               \
	"seq, id, company_seq, source_seq, msg_id, event, date, date_us, date_ns, entity_type, "   \
	"entity_key, kept, body, headers, verification, address, status, duplicates, apply_at, "   \
	"created_at, updated_at"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EVENT_INSERT,
	ST_EVENT_FIND,
	ST_EVENT_BRIEF,
	ST_IDS_FIND,
	ST_IDS_INSERT,
	ST_IDS_UPTO_SET,
	ST_IDS_UPTO_GET,
	ST_IDS_RECENT,
	ST_RIDS_FIND,
	ST_RIDS_INSERT,
	ST_RIDS_UPTO_SET,
	ST_RIDS_UPTO_GET,
	ST_RIDS_RECENT,
	ST_DELIVERY_INSERT,
	ST_REQUEST_INSERT,
	ST_OUTCOME_UPDATE,
	ST_ATTEMPT_INSERT,
	ST_WEBHOOK_SUCCEEDED,
	ST_WEBHOOK_FAILED,
	ST_WEBHOOK_DEACTIVATE,
	ST_OPEVENT_INSERT,
	ST_OPEN_AFTER,
	ST_OPEN_WEBHOOK,
	ST_OPEN_DUE,
	ST_EVENT_LOAD,
	ST_REQUEST_LOAD,
	ST_RECEIPT_INSERT,
	ST_RECEIPT_LAST,
	ST_RECEIPT_DUP,
	ST_RECEIPT_FIND,
	ST_RECEIPT_STATUS,
	ST_RECEIPT_DUE,
	ST_RECEIPT_ENTITY_WAITING,
	ST_ENTITY_GET,
	ST_ENTITY_PUT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_EVENT_INSERT] = "INSERT OR IGNORE INTO events(company_seq, id, idem_key, event, date_ms,"
                        " unit, data, created_at) VALUES(?,?,?,?,?,?,?,?)",
    [ST_EVENT_FIND] = "SELECT id, date_ms FROM events WHERE company_seq = ?1 AND idem_key = ?2"
                      " LIMIT 1",
    [ST_EVENT_BRIEF] = "SELECT id, date_ms FROM events WHERE seq = ?1",
    [ST_IDS_FIND] = "SELECT seq FROM event_ids WHERE company_seq = ?1 AND id = ?2",
    [ST_IDS_INSERT] = "INSERT OR IGNORE INTO event_ids(company_seq, id, seq) VALUES(?1, ?2, ?3)",
    [ST_IDS_UPTO_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES('ids_upto', ?1)",
    [ST_IDS_UPTO_GET] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'ids_upto'",
    [ST_IDS_RECENT] = "SELECT company_seq, id, seq FROM events WHERE seq > ?1 ORDER BY seq",
    [ST_RIDS_FIND] = "SELECT seq FROM receipt_ids WHERE source_seq = ?1 AND msg_id = ?2",
    [ST_RIDS_INSERT] =
        "INSERT OR IGNORE INTO receipt_ids(source_seq, msg_id, seq) VALUES(?1, ?2, ?3)",
    [ST_RIDS_UPTO_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES('receipt_ids_upto', ?1)",
    [ST_RIDS_UPTO_GET] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'receipt_ids_upto'",
    [ST_RIDS_RECENT] = "SELECT source_seq, msg_id, seq FROM receipts WHERE seq > ?1 ORDER BY seq",
    [ST_DELIVERY_INSERT] = "INSERT INTO deliveries(event_seq, webhook_seq, company_seq, status,"
                           " next_at, okey, created_at, updated_at, request_seq, receipt_seq,"
                           " last_error) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    [ST_REQUEST_INSERT] =
        "INSERT INTO requests(method, url, headers, body, body_receipt) VALUES(?,?,?,?,?)",
    [ST_OUTCOME_UPDATE] = "UPDATE deliveries SET status = ?2, attempts = ?3, next_at = ?4,"
                          " first_attempt_at = ?5, last_http_status = CASE WHEN ?6 THEN ?7 ELSE"
                          " last_http_status END, last_error = CASE WHEN ?6 THEN ?8 ELSE last_error"
                          " END, updated_at = ?9 WHERE seq = ?1 AND status IN (0, 1)",
    [ST_ATTEMPT_INSERT] = "INSERT INTO attempts(delivery_seq, at, http_status, latency_ms, error,"
                          " response) VALUES(?,?,?,?,?,?)",
    [ST_WEBHOOK_SUCCEEDED] =
        "UPDATE webhooks SET fail_since = 0 WHERE seq = ?1 AND fail_since != 0",
    [ST_WEBHOOK_FAILED] = "UPDATE webhooks SET fail_since = ?2 WHERE seq = ?1 AND fail_since = 0",
    [ST_WEBHOOK_DEACTIVATE] = "UPDATE webhooks SET status = 1, updated_at = ?2 WHERE seq = ?1"
                              " AND status = 0 AND (?3 OR (fail_since > 0 AND fail_since <= ?4))",
    [ST_OPEVENT_INSERT] = "INSERT INTO opevents(company_seq, at, kind, webhook_seq, message)"
                          " SELECT company_seq, ?2, ?3, seq, ?4 FROM webhooks WHERE seq = ?1",
    [ST_OPEN_AFTER] =
        "SELECT seq, event_seq, webhook_seq, next_at, first_attempt_at, attempts,"
        " okey, request_seq FROM deliveries WHERE status = 0 AND seq > ? ORDER BY seq LIMIT ?",
    [ST_OPEN_WEBHOOK] =
        "SELECT seq, event_seq, webhook_seq, next_at, first_attempt_at, attempts,"
        " okey, request_seq FROM deliveries WHERE webhook_seq = ? AND seq > ? AND status = 0"
        " ORDER BY seq LIMIT ?",
    [ST_OPEN_DUE] =
        "SELECT seq, event_seq, webhook_seq, next_at, first_attempt_at, attempts,"
        " okey, request_seq FROM deliveries WHERE status = 0 AND (next_at, seq) > (?1, ?2)"
        " AND next_at < ?3 ORDER BY next_at, seq LIMIT ?4",
    [ST_EVENT_LOAD] =
        "SELECT company_seq, id, event, date_ms, unit, data FROM events WHERE seq = ?",
    /* -1 in body_receipt: the body of the delivery's own receipt (a shared request) */
    [ST_REQUEST_LOAD] = "SELECT q.method, q.url, q.headers, CASE WHEN q.body_receipt IS NULL"
                        " THEN q.body ELSE r.body END, q.body_receipt = -1 FROM requests q"
                        " LEFT JOIN receipts r ON r.seq = CASE WHEN q.body_receipt = -1 THEN"
                        " (SELECT receipt_seq FROM deliveries WHERE seq = ?2) ELSE q.body_receipt"
                        " END WHERE q.seq = ?1",
    [ST_RECEIPT_INSERT] =
        "INSERT INTO receipts(seq, id, company_seq, source_seq, msg_id, event, date,"
        " date_us, date_ns, entity_type, entity_key, kept, body, headers, verification, address,"
        " status, apply_at, created_at, updated_at)"
        " VALUES(?19,?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?18)",
    [ST_RECEIPT_LAST] = "SELECT coalesce(max(seq), 0) FROM receipts",
    [ST_RECEIPT_DUP] = "UPDATE receipts SET duplicates = duplicates + 1, updated_at = ?2"
                       " WHERE seq = ?1 RETURNING id, status",
    [ST_RECEIPT_FIND] = "SELECT " RECEIPT_COLS " FROM receipts WHERE seq = ?1",
    [ST_RECEIPT_STATUS] = "UPDATE receipts SET status = ?2, updated_at = ?3 WHERE seq = ?1",
    [ST_RECEIPT_DUE] = "SELECT company_seq, entity_type, entity_key, date_us, date_ns FROM receipts"
                       " WHERE status = 0 AND apply_at < ?1 ORDER BY apply_at, seq LIMIT ?2",
    [ST_RECEIPT_ENTITY_WAITING] =
        "SELECT seq FROM receipts WHERE status = 0 AND company_seq = ?1 AND entity_type = ?2"
        " AND entity_key = ?3 AND (date_us < ?4 OR (date_us = ?4 AND date_ns <= ?5))"
        " ORDER BY date_us, date_ns, seq",
    [ST_ENTITY_GET] = "SELECT date_us, date_ns, kept FROM entities"
                      " WHERE company_seq = ?1 AND type = ?2 AND key = ?3",
    [ST_ENTITY_PUT] =
        "INSERT INTO entities(company_seq, type, key, date_us, date_ns, kept, receipt_seq,"
        " updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(company_seq, type, key) DO"
        " UPDATE SET date_us = excluded.date_us, date_ns = excluded.date_ns,"
        " kept = excluded.kept, receipt_seq = excluded.receipt_seq,"
        " updated_at = excluded.updated_at",
};

/* An id table filled in sorted batches (see the top comment and idmap.h):
 * event ids by company in event_ids, senders' ids of receipts by source in
 * receipt_ids. The statements are the table's: find (key, id) → seq,
 * insert (key, id, seq), upto_set / upto_get (the meta row), recent (key,
 * id, seq of the rows after upto, in seq order). */
struct id_index {
	const char *name; /* for logs */
	enum stmt_id find, insert, upto_set, upto_get, recent;
	/* ids newer than the table; loaded on the first commit that needs them,
	 * dropped when a commit fails */
	struct idmap *ids;
	bool ready;
	int64_t upto; /* the last seq merged into the table */
	int64_t last; /* the newest seq in ids */
	/* a merge in progress: ids up to merge_upto in (key, id) order, written
	 * ids_merge_chunk a transaction, one transaction after each commit */
	struct idmap_ref *merge;
	size_t merge_n, merge_pos;
	int64_t merge_upto;
};

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	bool synced;         /* synchronous=FULL in force (else NORMAL) */
	struct id_index ev;  /* event ids, by company */
	struct id_index rcp; /* senders' ids of receipts, by source */
	int64_t receipt_seq; /* during a commit: the last receipt's seq */
	size_t ids_merge_at, ids_merge_chunk;
};

#define SQ(s) ((struct sqlite_store *)(s))

static const struct store_ops sqlite_ops;
static void sqlite_close(struct store *s);

static int db_error(struct store *s, struct gerr *err, const char *what)
{
	log_error("store_error", "op=%s err=\"%s\"", what, sqlite3_errmsg(SQ(s)->db));
	return gerr_set(err, GERR_IO, 503, "unavailable", "storage error (%s): %s", what,
	                sqlite3_errmsg(SQ(s)->db));
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("store_exec_failed", "err=\"%s\"", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int migrate(sqlite3 *db, struct gerr *err)
{
	if (exec_sql(db, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)"))
		return gerr_set(err, GERR_IO, 500, "store", "cannot create meta table");
	int version = 0;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q,
	                       NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			version = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	int nmig = (int)(sizeof(migrations) / sizeof(migrations[0]));
	if (version > nmig)
		return gerr_set(err, GERR_IO, 500, "store",
		                "database schema version %d is newer than this gancho (%d)",
		                version, nmig);
	for (int v = version; v < nmig; v++) {
		char setv[128];
		snprintf(setv, sizeof(setv),
		         "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '%d')",
		         v + 1);
		if (exec_sql(db, "BEGIN IMMEDIATE") || exec_sql(db, migrations[v]) ||
		    exec_sql(db, setv) || exec_sql(db, "COMMIT")) {
			exec_sql(db, "ROLLBACK");
			return gerr_set(err, GERR_IO, 500, "store", "migration %d failed", v + 1);
		}
		log_info("store_migrated", "version=%d", v + 1);
	}
	return 0;
}

int sqlite_store_open(const char *path, struct store **out, struct gerr *err)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	s->base.ops = &sqlite_ops;
	int rc =
	    sqlite3_open_v2(path, &SQ(s)->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		gerr_set(err, GERR_IO, 500, "store", "cannot open %s: %s", path,
		         SQ(s)->db ? sqlite3_errmsg(SQ(s)->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(SQ(s)->db, 10000);
	s->synced = true;
	if (exec_sql(SQ(s)->db, "PRAGMA journal_mode=WAL") ||
	    exec_sql(SQ(s)->db, "PRAGMA synchronous=FULL") ||
	    exec_sql(SQ(s)->db, "PRAGMA temp_store=MEMORY") ||
	    exec_sql(SQ(s)->db, "PRAGMA cache_size=-16000")) {
		gerr_set(err, GERR_IO, 500, "store", "cannot configure %s: %s", path,
		         sqlite3_errmsg(SQ(s)->db));
		goto fail;
	}
	if (migrate(SQ(s)->db, err))
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(SQ(s)->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &SQ(s)->st[i], NULL) != SQLITE_OK) {
			gerr_set(err, GERR_IO, 500, "store", "prepare failed: %s",
			         sqlite3_errmsg(SQ(s)->db));
			goto fail;
		}
	}
	SQ(s)->ids_merge_at = IDS_MERGE_AT;
	SQ(s)->ids_merge_chunk = IDS_MERGE_CHUNK;
	SQ(s)->ev = (struct id_index){.name = "event_ids",
	                              .find = ST_IDS_FIND,
	                              .insert = ST_IDS_INSERT,
	                              .upto_set = ST_IDS_UPTO_SET,
	                              .upto_get = ST_IDS_UPTO_GET,
	                              .recent = ST_IDS_RECENT};
	SQ(s)->rcp = (struct id_index){.name = "receipt_ids",
	                               .find = ST_RIDS_FIND,
	                               .insert = ST_RIDS_INSERT,
	                               .upto_set = ST_RIDS_UPTO_SET,
	                               .upto_get = ST_RIDS_UPTO_GET,
	                               .recent = ST_RIDS_RECENT};
	*out = &s->base;
	return 0;
fail:
	sqlite_close(&s->base);
	return GERR_IO;
}

struct sqlite3 *sqlite_store_handle(struct store *s)
{
	return SQ(s)->db;
}

void sqlite_store_set_ids_merge_at(struct store *s, size_t n)
{
	SQ(s)->ids_merge_at = n ? n : 1;
	SQ(s)->ids_merge_chunk = n / 4 ? n / 4 : 1;
}

static void sqlite_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(SQ(s)->st[i]);
	sqlite3_close_v2(SQ(s)->db);
	free(SQ(s)->ev.merge);
	idmap_free(SQ(s)->ev.ids);
	free(SQ(s)->rcp.merge);
	idmap_free(SQ(s)->rcp.ids);
	free(SQ(s));
}

static int sqlite_ping(struct store *s)
{
	return exec_sql(SQ(s)->db, "SELECT 1") ? GERR_IO : 0;
}

/* ---- helpers -------------------------------------------------------------------- */

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	char *out = malloc((size_t)n + 1);
	if (!out)
		return NULL;
	if (n)
		memcpy(out, p, (size_t)n);
	out[n] = '\0';
	if (len)
		*len = (size_t)n;
	return out;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	snprintf(out, outsz, "%s", p ? (const char *)p : "");
}

/* step_done runs a statement that returns no rows and resets it. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- hot path ---------------------------------------------------------------------- */

static void set_sync(struct store *s, bool full);

/* ids_load: the map of x's ids newer than its table, from the rows after
 * its upto (events or receipts). */
static int ids_load(struct store *s, struct id_index *x)
{
	struct sqlite_store *q = SQ(s);
	if (x->ready)
		return 0;
	if (!x->ids && !(x->ids = idmap_new()))
		return -1;
	free(x->merge); /* its refs point into the map being rebuilt */
	x->merge = NULL;
	idmap_clear(x->ids);
	sqlite3_stmt *st = q->st[x->upto_get];
	int rc = sqlite3_step(st);
	x->upto = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	x->last = x->upto;
	st = q->st[x->recent];
	sqlite3_bind_int64(st, 1, x->upto);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		x->last = sqlite3_column_int64(st, 2);
		if (!idmap_put(x->ids, sqlite3_column_int64(st, 0), id ? id : "", x->last)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return -1;
	x->ready = true;
	return 0;
}

/* ids_merge_step: the next chunk of x's merge, started when its map is full;
 * false when x had nothing to write. The table is only an index of rows
 * already committed, so it needs no fsync of its own: lost to a power cut,
 * it is redone from the rows (a chunk written twice is ignored). */
static bool ids_merge_step(struct store *s, struct id_index *x)
{
	struct sqlite_store *q = SQ(s);
	if (!x->merge) {
		if (!x->ready || idmap_count(x->ids) < q->ids_merge_at)
			return false;
		x->merge_upto = x->last;
		x->merge = idmap_sorted(x->ids, x->merge_upto, &x->merge_n);
		x->merge_pos = 0;
		if (!x->merge)
			return false;
	}
	int64_t t0 = clock_mono_us();
	size_t left = x->merge_n - x->merge_pos;
	size_t end = x->merge_pos + (left < q->ids_merge_chunk ? left : q->ids_merge_chunk);
	set_sync(s, false);
	if (step_done(q->st[ST_BEGIN]))
		return true;
	sqlite3_stmt *ins = q->st[x->insert];
	for (size_t i = x->merge_pos; i < end; i++) {
		const struct idmap_ref *r = &x->merge[i];
		sqlite3_bind_int64(ins, 1, r->company_seq);
		sqlite3_bind_text(ins, 2, idmap_ref_id(x->ids, r), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, r->seq);
		if (step_done(ins))
			goto fail;
	}
	if (end == x->merge_n) {
		sqlite3_bind_int64(q->st[x->upto_set], 1, x->merge_upto);
		if (step_done(q->st[x->upto_set]))
			goto fail;
	}
	if (step_done(q->st[ST_COMMIT]))
		goto fail;
	log_debug("store_ids_merged", "table=%s ids=%zu of=%zu us=%lld", x->name,
	          end - x->merge_pos, x->merge_n, (long long)(clock_mono_us() - t0));
	x->merge_pos = end;
	if (end < x->merge_n)
		return true;
	free(x->merge);
	x->merge = NULL;
	x->upto = x->merge_upto;
	if (!idmap_drop_upto(x->ids, x->merge_upto))
		x->ready = false; /* out of memory: rebuilt from the rows */
	return true;
fail:
	log_warn("store_ids_merge", "table=%s err=\"%s\" note=\"retried after the next commit\"",
	         x->name, sqlite3_errmsg(q->db));
	step_done(q->st[ST_ROLLBACK]);
	return true;
}

/* ids_find: the seq of the row with (key, id) in x, 0 if none, -1 on error. */
static int64_t ids_find(struct store *s, const struct id_index *x, int64_t key, const char *id)
{
	int64_t seq = idmap_find(x->ids, key, id);
	if (seq)
		return seq;
	sqlite3_stmt *st = SQ(s)->st[x->find];
	sqlite3_bind_int64(st, 1, key);
	bind_text(st, 2, id);
	int rc = sqlite3_step(st);
	seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return seq;
}

/* ids_put: the new row seq has (key, id) in x; false when out of memory. */
static bool ids_put(struct id_index *x, int64_t key, const char *id, int64_t seq)
{
	if (!idmap_put(x->ids, key, id, seq))
		return false;
	x->last = seq;
	return true;
}

/* brief: the id and date of event seq (or of the idem_key match) for a
 * duplicate's answer. */
static int brief(sqlite3_stmt *f, struct store_event_in *e)
{
	int rc = sqlite3_step(f);
	if (rc == SQLITE_ROW) {
		col_copy(f, 0, e->dup_id, sizeof(e->dup_id));
		e->dup_date_ms = sqlite3_column_int64(f, 1);
	}
	sqlite3_reset(f);
	sqlite3_clear_bindings(f);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int append_event(struct store *s, struct store_event_in *e, int64_t now)
{
	e->duplicate = false;
	e->first_delivery = 0;
	int64_t dup = ids_find(s, &SQ(s)->ev, e->company_seq, e->id);
	if (dup < 0)
		return -1;
	if (dup > 0) {
		/* Same id as an earlier call: answer as it was answered. */
		e->duplicate = true;
		sqlite3_bind_int64(SQ(s)->st[ST_EVENT_BRIEF], 1, dup);
		return brief(SQ(s)->st[ST_EVENT_BRIEF], e);
	}
	sqlite3_stmt *st = SQ(s)->st[ST_EVENT_INSERT];
	sqlite3_bind_int64(st, 1, e->company_seq);
	bind_text(st, 2, e->id);
	bind_text(st, 3, e->idem_key);
	bind_text(st, 4, e->event);
	sqlite3_bind_int64(st, 5, e->date_ms);
	bind_text(st, 6, e->unit);
	sqlite3_bind_blob(st, 7, e->data, (int)e->datalen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now);
	if (step_done(st))
		return -1;
	if (sqlite3_changes(SQ(s)->db) == 0) {
		/* Same Idempotency-Key as an earlier call (its unique index ignored the row). */
		e->duplicate = true;
		sqlite3_stmt *f = SQ(s)->st[ST_EVENT_FIND];
		sqlite3_bind_int64(f, 1, e->company_seq);
		bind_text(f, 2, e->idem_key);
		return brief(f, e);
	}
	e->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	if (!ids_put(&SQ(s)->ev, e->company_seq, e->id, e->seq))
		return -1;
	sqlite3_stmt *d = SQ(s)->st[ST_DELIVERY_INSERT];
	for (int i = 0; i < e->nwebhooks; i++) {
		sqlite3_bind_int64(d, 1, e->seq);
		sqlite3_bind_int64(d, 2, e->webhook_seqs[i]);
		sqlite3_bind_int64(d, 3, e->company_seq);
		sqlite3_bind_int(d, 4, e->held && e->held[i] ? DLV_HELD : DLV_PENDING);
		sqlite3_bind_int64(d, 5, now);
		bind_text(d, 6, e->okeys ? e->okeys[i] : NULL);
		sqlite3_bind_int64(d, 7, now);
		sqlite3_bind_int64(d, 8, now);
		if (step_done(d))
			return -1;
		if (i == 0)
			e->first_delivery = sqlite3_last_insert_rowid(SQ(s)->db);
		if (e->mine)
			e->mine[i] = 1; /* one node: everything is ours */
	}
	return 0;
}

/* append_request: the stored request of a new delivery; its row in *seq. */
static int append_request(struct store *s, const struct store_request_in *r, int64_t *seq)
{
	sqlite3_stmt *st = SQ(s)->st[ST_REQUEST_INSERT];
	bind_text(st, 1, r->method ? r->method : "");
	bind_text(st, 2, r->url ? r->url : "");
	bind_text(st, 3, r->headers ? r->headers : "{}");
	/* body is NOT NULL: an empty body is zero bytes, not NULL */
	if (r->body_len > (size_t)INT_MAX)
		return -1;
	if (r->body_receipt_seq > 0 || r->body_receipt_seq == STORE_BODY_OWN_RECEIPT) {
		sqlite3_bind_blob(st, 4, "", 0, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, r->body_receipt_seq);
	} else {
		sqlite3_bind_blob(st, 4, r->body ? r->body : "", (int)r->body_len, SQLITE_STATIC);
	}
	if (step_done(st))
		return -1;
	*seq = sqlite3_last_insert_rowid(SQ(s)->db);
	return 0;
}

static int append_delivery(struct store *s, struct store_delivery_in *d, int64_t now)
{
	/* without a request of its own, the one named (shared) or none */
	if (d->request && append_request(s, d->request, &d->request_seq))
		return -1;
	sqlite3_stmt *st = SQ(s)->st[ST_DELIVERY_INSERT];
	sqlite3_bind_int64(st, 1, d->event_seq);
	sqlite3_bind_int64(st, 2, d->webhook_seq);
	sqlite3_bind_int64(st, 3, d->company_seq);
	sqlite3_bind_int(st, 4, d->fail_error ? DLV_FAILED : DLV_PENDING);
	sqlite3_bind_int64(st, 5, now);
	bind_text(st, 6, d->okey);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	if (d->request_seq)
		sqlite3_bind_int64(st, 9, d->request_seq);
	if (d->receipt_seq)
		sqlite3_bind_int64(st, 10, d->receipt_seq);
	bind_text(st, 11, d->fail_error);
	if (step_done(st))
		return -1;
	d->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	d->mine = true;
	return 0;
}

/* apply_outcome: what the dispatcher did with a delivery. Only an open one
 * (pending or held) takes it: one the API ended meanwhile (its webhook
 * deleted, its route action removed) stays as the API left it, while the
 * attempt, when there was one, is still recorded. */
static int apply_outcome(struct store *s, const struct store_outcome *o, int64_t now)
{
	sqlite3_stmt *st = SQ(s)->st[ST_OUTCOME_UPDATE];
	sqlite3_bind_int64(st, 1, o->delivery_seq);
	sqlite3_bind_int(st, 2, o->status);
	sqlite3_bind_int(st, 3, o->attempts);
	sqlite3_bind_int64(st, 4, o->next_at);
	sqlite3_bind_int64(st, 5, o->first_attempt_at);
	sqlite3_bind_int(st, 6, o->at != 0);
	sqlite3_bind_int(st, 7, o->http_status);
	bind_text(st, 8, o->error);
	sqlite3_bind_int64(st, 9, now);
	if (step_done(st))
		return -1;
	if (!o->at)
		return 0;
	st = SQ(s)->st[ST_ATTEMPT_INSERT];
	sqlite3_bind_int64(st, 1, o->delivery_seq);
	sqlite3_bind_int64(st, 2, o->at);
	sqlite3_bind_int(st, 3, o->http_status);
	sqlite3_bind_int(st, 4, o->latency_ms);
	bind_text(st, 5, o->error);
	if (o->response && o->response_len)
		sqlite3_bind_blob(st, 6, o->response, (int)o->response_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	return step_done(st);
}

static int apply_change(struct store *s, struct store_webhook_change *c, int64_t now)
{
	sqlite3_stmt *st;
	c->deactivated = false;
	if (c->succeeded) {
		st = SQ(s)->st[ST_WEBHOOK_SUCCEEDED];
		sqlite3_bind_int64(st, 1, c->webhook_seq);
		if (step_done(st))
			return -1;
	}
	if (c->failed_at) {
		st = SQ(s)->st[ST_WEBHOOK_FAILED];
		sqlite3_bind_int64(st, 1, c->webhook_seq);
		sqlite3_bind_int64(st, 2, c->failed_at);
		if (step_done(st))
			return -1;
	}
	if (!c->deactivate && !(c->failed_at && c->deactivate_before))
		return 0;
	st = SQ(s)->st[ST_WEBHOOK_DEACTIVATE];
	sqlite3_bind_int64(st, 1, c->webhook_seq);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, c->deactivate);
	sqlite3_bind_int64(st, 4, c->deactivate_before);
	if (step_done(st))
		return -1;
	if (sqlite3_changes(SQ(s)->db) == 0)
		return 0; /* still succeeding somewhere, or already inactive */
	c->deactivated = true;
	st = SQ(s)->st[ST_OPEVENT_INSERT];
	sqlite3_bind_int64(st, 1, c->webhook_seq);
	sqlite3_bind_int64(st, 2, now);
	bind_text(st, 3, "webhook.deactivated");
	bind_text(st, 4, c->reason ? c->reason : "deactivated");
	return step_done(st);
}

/* ---- receipts ------------------------------------------------------------------------ */

/* read_receipt: a row of RECEIPT_COLS starting at column 0; GERR_NOMEM when a
 * string could not be copied. */
static int read_receipt(sqlite3_stmt *st, struct store_receipt *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, r->id, sizeof(r->id));
	r->company_seq = sqlite3_column_int64(st, 2);
	r->source_seq = sqlite3_column_int64(st, 3);
	r->msg_id = col_dup(st, 4, NULL);
	r->event = col_dup(st, 5, NULL);
	r->date = col_dup(st, 6, NULL);
	r->date_us = sqlite3_column_int64(st, 7);
	r->date_ns = sqlite3_column_int(st, 8);
	r->entity_type = col_dup(st, 9, NULL);
	r->entity_key = col_dup(st, 10, NULL);
	r->kept = col_dup(st, 11, &r->keptlen);
	r->body = col_dup(st, 12, &r->bodylen);
	r->headers = col_dup(st, 13, NULL);
	col_copy(st, 14, r->verification, sizeof(r->verification));
	col_copy(st, 15, r->address, sizeof(r->address));
	r->status = sqlite3_column_int(st, 16);
	r->duplicates = sqlite3_column_int(st, 17);
	r->apply_at = sqlite3_column_int64(st, 18);
	r->created_at = sqlite3_column_int64(st, 19);
	r->updated_at = sqlite3_column_int64(st, 20);
	bool ok = r->msg_id && r->event && r->date && r->kept && r->body && r->headers &&
	          (sqlite3_column_type(st, 9) == SQLITE_NULL || r->entity_type) &&
	          (sqlite3_column_type(st, 10) == SQLITE_NULL || r->entity_key);
	return ok ? 0 : GERR_NOMEM;
}

/* decide_receipt: r against its entity, through the batch's decide
 * callback; writes the entity's advance. status NULL: r is stored, waiting,
 * and its new status is written here; else r is not stored yet (a new
 * receipt, decided before its insert so that it is inserted once, with its
 * final status) and its status comes back through *status. */
static int decide_with(struct store *s, struct store_batch *b, const struct store_receipt *r,
                       int64_t now, store_decide_fn fn, int *status);

static int decide_receipt(struct store *s, struct store_batch *b, const struct store_receipt *r,
                          int64_t now, int *status)
{
	return decide_with(s, b, r, now, b->decide, status);
}

/* replay_receipt: r routed again: the replay callback, nothing written but
 * the deliveries it adds. */
static int replay_receipt(struct store *s, struct store_batch *b, int64_t seq, int64_t now)
{
	sqlite3_stmt *f = SQ(s)->st[ST_RECEIPT_FIND];
	sqlite3_bind_int64(f, 1, seq);
	struct store_receipt r;
	int rc = sqlite3_step(f);
	int rr = rc == SQLITE_ROW ? read_receipt(f, &r) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_reset(f);
	sqlite3_clear_bindings(f);
	if (rr == 1)
		return 0; /* gone: nothing to route */
	int out = rr                        ? -1
	          : r.status == RCP_WAITING ? 0
	                                    : decide_with(s, b, &r, now, b->replay, NULL);
	if (rc == SQLITE_ROW)
		store_receipt_free(&r);
	return out;
}

static int decide_with(struct store *s, struct store_batch *b, const struct store_receipt *r,
                       int64_t now, store_decide_fn fn, int *status)
{
	struct store_entity cur = {.kept = "{}", .keptlen = 2};
	char *kept = NULL;
	bool has_entity = r->entity_type && r->entity_key;
	if (has_entity) {
		sqlite3_stmt *g = SQ(s)->st[ST_ENTITY_GET];
		sqlite3_bind_int64(g, 1, r->company_seq);
		bind_text(g, 2, r->entity_type);
		bind_text(g, 3, r->entity_key);
		int rc = sqlite3_step(g);
		if (rc == SQLITE_ROW) {
			cur.exists = true;
			cur.date_us = sqlite3_column_int64(g, 0);
			cur.date_ns = sqlite3_column_int(g, 1);
			kept = col_dup(g, 2, &cur.keptlen);
			cur.kept = kept;
		}
		sqlite3_reset(g);
		sqlite3_clear_bindings(g);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
		if (cur.exists && !kept)
			return -1;
	}
	struct store_verdict v = {.status = RCP_ROUTED};
	int rc = fn ? fn(b->decide_ctx, b, r, &cur, &v) : -1;
	free(kept);
	if (rc)
		return -1;
	if (fn != b->decide)
		return 0; /* a replay changes nothing but adds deliveries */
	if (v.advance && has_entity) {
		sqlite3_stmt *p = SQ(s)->st[ST_ENTITY_PUT];
		sqlite3_bind_int64(p, 1, r->company_seq);
		bind_text(p, 2, r->entity_type);
		bind_text(p, 3, r->entity_key);
		sqlite3_bind_int64(p, 4, r->date_us);
		sqlite3_bind_int(p, 5, r->date_ns);
		sqlite3_bind_text(p, 6, v.kept ? v.kept : "{}", v.kept ? (int)v.keptlen : 2,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(p, 7, r->seq);
		sqlite3_bind_int64(p, 8, now);
		if (step_done(p))
			return -1;
	}
	if (status) {
		*status = v.status;
		return 0;
	}
	sqlite3_stmt *u = SQ(s)->st[ST_RECEIPT_STATUS];
	sqlite3_bind_int64(u, 1, r->seq);
	sqlite3_bind_int(u, 2, v.status);
	sqlite3_bind_int64(u, 3, now);
	return step_done(u);
}

static int append_receipt(struct store *s, struct store_batch *b, struct store_receipt_in *in,
                          int64_t now)
{
	in->duplicate = false;
	in->dup_id[0] = '\0';
	int64_t dup = ids_find(s, &SQ(s)->rcp, in->source_seq, in->msg_id);
	if (dup < 0)
		return -1;
	if (dup > 0) {
		/* The source has seen this id: count it, answer with the first. */
		in->duplicate = true;
		sqlite3_stmt *d = SQ(s)->st[ST_RECEIPT_DUP];
		sqlite3_bind_int64(d, 1, dup);
		sqlite3_bind_int64(d, 2, now);
		int rc = sqlite3_step(d);
		if (rc == SQLITE_ROW) {
			col_copy(d, 0, in->dup_id, sizeof(in->dup_id));
			in->status = sqlite3_column_int(d, 1);
			rc = sqlite3_step(d);
		}
		sqlite3_reset(d);
		sqlite3_clear_bindings(d);
		return rc == SQLITE_DONE && in->dup_id[0] ? 0 : -1;
	}
	/* its seq: the table's rowid, one past the last (the committer is the
	 * only writer; receipt_seq tells the first of the commit) */
	in->seq = ++SQ(s)->receipt_seq;
	in->status = RCP_WAITING;
	if (!in->apply_at) {
		/* decided now, before the insert: the receipt as it will be
		 * stored, its strings borrowed from in */
		struct store_receipt r = {
		    .seq = in->seq,
		    .company_seq = in->company_seq,
		    .source_seq = in->source_seq,
		    .msg_id = (char *)in->msg_id,
		    .event = (char *)in->event,
		    .date = (char *)in->date,
		    .date_us = in->date_us,
		    .date_ns = in->date_ns,
		    .entity_type = (char *)in->entity_type,
		    .entity_key = (char *)in->entity_key,
		    .kept = (char *)(in->kept ? in->kept : "{}"),
		    .keptlen = in->kept ? in->keptlen : 2,
		    .body = (char *)in->body,
		    .bodylen = in->bodylen,
		    .headers = (char *)(in->headers ? in->headers : "{}"),
		    .status = RCP_WAITING,
		    .created_at = now,
		    .updated_at = now,
		};
		snprintf(r.id, sizeof(r.id), "%s", in->id);
		snprintf(r.verification, sizeof(r.verification), "%s",
		         in->verification ? in->verification : "none");
		snprintf(r.address, sizeof(r.address), "%s", in->address ? in->address : "");
		/* the callback's verdict is the status inserted */
		if (decide_receipt(s, b, &r, now, &in->status))
			return -1;
	}
	sqlite3_stmt *st = SQ(s)->st[ST_RECEIPT_INSERT];
	bind_text(st, 1, in->id);
	sqlite3_bind_int64(st, 2, in->company_seq);
	sqlite3_bind_int64(st, 3, in->source_seq);
	bind_text(st, 4, in->msg_id);
	bind_text(st, 5, in->event);
	bind_text(st, 6, in->date);
	sqlite3_bind_int64(st, 7, in->date_us);
	sqlite3_bind_int(st, 8, in->date_ns);
	bind_text(st, 9, in->entity_type);
	bind_text(st, 10, in->entity_key);
	sqlite3_bind_text(st, 11, in->kept ? in->kept : "{}", in->kept ? (int)in->keptlen : 2,
	                  SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, in->body ? in->body : "", (int)in->bodylen, SQLITE_STATIC);
	bind_text(st, 13, in->headers ? in->headers : "{}");
	bind_text(st, 14, in->verification ? in->verification : "none");
	bind_text(st, 15, in->address ? in->address : "");
	sqlite3_bind_int(st, 16, in->status);
	sqlite3_bind_int64(st, 17, in->apply_at);
	sqlite3_bind_int64(st, 18, now);
	sqlite3_bind_int64(st, 19, in->seq);
	if (step_done(st))
		return -1;
	return ids_put(&SQ(s)->rcp, in->source_seq, in->msg_id, in->seq) ? 0 : -1;
}

/* A waiting entity with a receipt due, and the newest due date it has. */
struct due_entity {
	int64_t company_seq;
	char *type, *key;
	int64_t date_us;
	int32_t date_ns;
};

/* apply_due: the entities with a waiting receipt due before
 * b->apply_due_before; for each, every waiting receipt dated up to its
 * newest due one, in date order (an older receipt that arrived later is
 * applied before the due one instead of going stale). */
static int apply_due(struct store *s, struct store_batch *b, int64_t now)
{
	int limit = b->apply_limit > 0 ? b->apply_limit : 256;
	struct due_entity *ents = calloc((size_t)limit, sizeof(*ents));
	if (!ents)
		return -1;
	int n = 0, rc, err = 0;
	sqlite3_stmt *q = SQ(s)->st[ST_RECEIPT_DUE];
	sqlite3_bind_int64(q, 1, b->apply_due_before);
	sqlite3_bind_int(q, 2, limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t company = sqlite3_column_int64(q, 0);
		const char *type = (const char *)sqlite3_column_text(q, 1);
		const char *key = (const char *)sqlite3_column_text(q, 2);
		int64_t us = sqlite3_column_int64(q, 3);
		int32_t ns = sqlite3_column_int(q, 4);
		if (!type || !key)
			continue; /* never waits (no entity); defensive */
		int k = 0;
		while (k < n && !(ents[k].company_seq == company &&
		                  strcmp(ents[k].type, type) == 0 && strcmp(ents[k].key, key) == 0))
			k++;
		if (k == n) {
			ents[n].company_seq = company;
			ents[n].type = strdup(type);
			ents[n].key = strdup(key);
			ents[n].date_us = us;
			ents[n].date_ns = ns;
			if (!ents[n++].type || !ents[k].key) {
				err = -1;
				break;
			}
		} else if (us > ents[k].date_us ||
		           (us == ents[k].date_us && ns > ents[k].date_ns)) {
			ents[k].date_us = us;
			ents[k].date_ns = ns;
		}
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = -1;
	for (int k = 0; k < n && !err; k++) {
		sqlite3_stmt *w = SQ(s)->st[ST_RECEIPT_ENTITY_WAITING];
		sqlite3_bind_int64(w, 1, ents[k].company_seq);
		bind_text(w, 2, ents[k].type);
		bind_text(w, 3, ents[k].key);
		sqlite3_bind_int64(w, 4, ents[k].date_us);
		sqlite3_bind_int(w, 5, ents[k].date_ns);
		int64_t *seqs = NULL;
		int nseqs = 0, cap = 0;
		while ((rc = sqlite3_step(w)) == SQLITE_ROW) {
			if (!array_reserve((void **)&seqs, &cap, nseqs + 1, sizeof(*seqs), 16)) {
				err = -1;
				break;
			}
			seqs[nseqs++] = sqlite3_column_int64(w, 0);
		}
		sqlite3_reset(w);
		sqlite3_clear_bindings(w);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			err = -1;
		for (int i = 0; i < nseqs && !err; i++) {
			sqlite3_stmt *f = SQ(s)->st[ST_RECEIPT_FIND];
			sqlite3_bind_int64(f, 1, seqs[i]);
			struct store_receipt r;
			rc = sqlite3_step(f);
			int rr = rc == SQLITE_ROW ? read_receipt(f, &r) : -1;
			sqlite3_reset(f);
			sqlite3_clear_bindings(f);
			if (rr == 0 && decide_receipt(s, b, &r, now, NULL) == 0)
				b->applied++;
			else
				err = -1;
			if (rc == SQLITE_ROW)
				store_receipt_free(&r);
		}
		free(seqs);
	}
	for (int k = 0; k < n; k++) {
		free(ents[k].type);
		free(ents[k].key);
	}
	free(ents);
	return err;
}

static sqlite3_stmt *q_prepare(struct store *s, const char *sql);

/* append_rejections: the batch's refused requests, then each source trimmed
 * to its newest STORE_REJECTIONS_KEPT; sqlite_rejection_add is one row of it. */
static int append_rejections(struct store *s, const struct store_batch *b)
{
	sqlite3_stmt *ins = q_prepare(s, "INSERT INTO rejections(source_seq, at, address, reason)"
	                                 " VALUES(?,?,?,?)");
	sqlite3_stmt *trim = q_prepare(s, "DELETE FROM rejections WHERE source_seq = ?1 AND seq <="
	                                  " (SELECT seq FROM rejections WHERE source_seq = ?1"
	                                  " ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
	int rc = ins && trim ? 0 : -1;
	for (int i = 0; i < b->nrejections && !rc; i++) {
		const struct store_rejection_in *x = &b->rejections[i];
		const char *a = x->address ? x->address : "", *r = x->reason ? x->reason : "";
		sqlite3_bind_int64(ins, 1, x->source_seq);
		sqlite3_bind_int64(ins, 2, x->at);
		sqlite3_bind_text(ins, 3, a, (int)utf8_cut(a, strlen(a), 63), SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, r, (int)utf8_cut(r, strlen(r), 255), SQLITE_STATIC);
		rc = step_done(ins);
	}
	for (int i = 0; i < b->nrejections && !rc; i++) {
		bool seen = false;
		for (int k = 0; k < i && !seen; k++)
			seen = b->rejections[k].source_seq == b->rejections[i].source_seq;
		if (seen)
			continue;
		sqlite3_bind_int64(trim, 1, b->rejections[i].source_seq);
		sqlite3_bind_int(trim, 2, STORE_REJECTIONS_KEPT);
		rc = step_done(trim);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(trim);
	return rc;
}

/* set_sync: what must survive a power cut is every event and delivery that
 * got a 202, so a batch that inserts any commits with an fsync (FULL). A batch
 * of attempt outcomes only does not need one (NORMAL): if it is lost, those
 * deliveries are simply sent again (at least once), and the next FULL commit
 * flushes the WAL up to and including it, in order. */
static void set_sync(struct store *s, bool full)
{
	if (SQ(s)->synced == full)
		return;
	if (exec_sql(SQ(s)->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ==
	    0)
		SQ(s)->synced = full;
}

static int sqlite_commit(struct store *s, struct store_batch *b, struct gerr *err)
{
	int64_t now = clock_now_ms();
	if ((b->nevents && ids_load(s, &SQ(s)->ev)) || (b->nreceipts && ids_load(s, &SQ(s)->rcp)))
		return db_error(s, err, "load ids");
	set_sync(s, b->nevents > 0 || b->ndeliveries > 0 || b->nreceipts > 0 ||
	                b->apply_due_before > 0 || b->nreplays > 0);
	if (step_done(SQ(s)->st[ST_BEGIN]))
		return db_error(s, err, "begin");
	b->applied = 0;
	b->nrouted = 0;
	if (b->nreceipts > 0) {
		sqlite3_stmt *st = SQ(s)->st[ST_RECEIPT_LAST];
		int rc = sqlite3_step(st);
		SQ(s)->receipt_seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			goto fail;
	}
	for (int i = 0; i < b->nreceipts; i++)
		if (append_receipt(s, b, &b->receipts[i], now))
			goto fail;
	if (b->apply_due_before > 0 && apply_due(s, b, now))
		goto fail;
	for (int i = 0; i < b->nreplays; i++)
		if (replay_receipt(s, b, b->replays[i], now))
			goto fail;
	for (int i = 0; i < b->nrouted; i++)
		if (append_delivery(s, &b->routed[i], now))
			goto fail;
	if (b->nrejections > 0 && append_rejections(s, b))
		goto fail;
	for (int i = 0; i < b->nevents; i++)
		if (append_event(s, &b->events[i], now))
			goto fail;
	for (int i = 0; i < b->ndeliveries; i++)
		if (append_delivery(s, &b->deliveries[i], now))
			goto fail;
	for (int i = 0; i < b->noutcomes; i++)
		if (apply_outcome(s, &b->outcomes[i], now))
			goto fail;
	for (int i = 0; i < b->nchanges; i++)
		if (apply_change(s, &b->changes[i], now))
			goto fail;
	if (step_done(SQ(s)->st[ST_COMMIT]))
		goto fail;
	/* one merge transaction at most after a commit */
	if (!ids_merge_step(s, &SQ(s)->ev))
		ids_merge_step(s, &SQ(s)->rcp);
	return 0;
fail:
	db_error(s, err, "commit");
	step_done(SQ(s)->st[ST_ROLLBACK]);
	/* the maps may hold ids of rows rolled back */
	SQ(s)->ev.ready = false;
	SQ(s)->rcp.ready = false;
	return GERR_IO;
}

static void read_task(sqlite3_stmt *st, struct store_task *t)
{
	t->seq = sqlite3_column_int64(st, 0);
	t->event_seq = sqlite3_column_int64(st, 1);
	t->webhook_seq = sqlite3_column_int64(st, 2);
	t->next_at = sqlite3_column_int64(st, 3);
	t->first_attempt_at = sqlite3_column_int64(st, 4);
	t->attempts = sqlite3_column_int(st, 5);
	col_copy(st, 6, t->okey, sizeof(t->okey));
	t->request_seq = sqlite3_column_int64(st, 7); /* NULL reads as 0: the envelope */
}

static int rows_end(struct store *s, int rc, const char *what);

/* read_tasks: the rows of a prepared task query; GERR_IO (and *n = 0) when
 * a step fails, so a failed refill is never taken for "no more work". */
static int read_tasks(struct store *s, sqlite3_stmt *st, int limit, struct store_task *out, int *n)
{
	int rc = SQLITE_DONE, k = 0;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_task(st, &out[k++]);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	int err = rows_end(s, rc, "read_tasks");
	*n = err ? 0 : k;
	return err;
}

static int sqlite_open_after(struct store *s, int64_t after_seq, int limit, struct store_task *out,
                             int *n)
{
	sqlite3_stmt *st = SQ(s)->st[ST_OPEN_AFTER];
	sqlite3_bind_int64(st, 1, after_seq);
	sqlite3_bind_int(st, 2, limit);
	return read_tasks(s, st, limit, out, n);
}

static int sqlite_open_due(struct store *s, int64_t after_next_at, int64_t after_seq,
                           int64_t due_before, int limit, struct store_task *out, int *n)
{
	sqlite3_stmt *st = SQ(s)->st[ST_OPEN_DUE];
	sqlite3_bind_int64(st, 1, after_next_at);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int64(st, 3, due_before);
	sqlite3_bind_int(st, 4, limit);
	return read_tasks(s, st, limit, out, n);
}

static int sqlite_open_for_webhook(struct store *s, int64_t webhook_seq, int64_t after_seq,
                                   int limit, struct store_task *out, int *n)
{
	sqlite3_stmt *st = SQ(s)->st[ST_OPEN_WEBHOOK];
	sqlite3_bind_int64(st, 1, webhook_seq);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit);
	return read_tasks(s, st, limit, out, n);
}

static void read_event(sqlite3_stmt *st, int first, struct store_event *e)
{
	e->company_seq = sqlite3_column_int64(st, first);
	e->id = col_dup(st, first + 1, NULL);
	e->event = col_dup(st, first + 2, NULL);
	e->date_ms = sqlite3_column_int64(st, first + 3);
	e->unit = col_dup(st, first + 4, NULL);
	e->data = col_dup(st, first + 5, &e->datalen);
}

static int sqlite_event_load(struct store *s, int64_t event_seq, struct store_event *out)
{
	sqlite3_stmt *st = SQ(s)->st[ST_EVENT_LOAD];
	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, event_seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->seq = event_seq;
		read_event(st, 0, out);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return GERR_NOTFOUND;
	if (rc != SQLITE_ROW)
		return rows_end(s, rc, "event_load");
	return out->id && out->event && out->data ? 0 : GERR_NOMEM;
}

static int sqlite_request_load(struct store *s, int64_t seq, int64_t delivery_seq,
                               struct store_request *out)
{
	sqlite3_stmt *st = SQ(s)->st[ST_REQUEST_LOAD];
	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, delivery_seq);
	bool nobody = false;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->seq = seq;
		out->method = col_dup(st, 0, NULL);
		out->url = col_dup(st, 1, NULL);
		out->headers = col_dup(st, 2, NULL);
		/* NULL: a shared request whose delivery has no receipt (not found) */
		nobody = sqlite3_column_type(st, 3) == SQLITE_NULL;
		out->body = col_dup(st, 3, &out->body_len);
		out->own_receipt = sqlite3_column_int(st, 4) == 1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return GERR_NOTFOUND;
	if (rc != SQLITE_ROW)
		return rows_end(s, rc, "request_load");
	if (out->method && out->url && out->headers && out->body)
		return 0;
	store_request_free(out);
	return nobody ? GERR_NOTFOUND : GERR_NOMEM;
}

/* ---- CRUD: one-off statements, prepared per call (not hot) ---------------------------- */

/* q_prepare prepares sql (cached by SQLite's statement cache is not available,
 * so management calls pay a prepare: microseconds, rare calls). */
static sqlite3_stmt *q_prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(SQ(s)->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store_prepare_failed", "err=\"%s\"", sqlite3_errmsg(SQ(s)->db));
		return NULL;
	}
	return st;
}

/* rows_end: how a loop over result rows ended. SQLITE_DONE (no more rows)
 * or SQLITE_ROW (the caller's limit was reached) are 0; anything else is a
 * read that failed part-way, which must not pass for "no more rows": it is
 * logged and GERR_IO. */
static int rows_end(struct store *s, int rc, const char *what)
{
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	log_error("store_read_failed", "op=%s rc=%d err=\"%s\"", what, rc,
	          sqlite3_errmsg(SQ(s)->db));
	return GERR_IO;
}

/* A company's rows, a page at a time. Webhooks, routes, sources and
 * connections are listed the same way: a company's live rows newest first,
 * older than a cursor. A kind of row says how big one element is, how the
 * current row of a statement becomes one (0, or a negative code with the
 * element freed) and how one is freed; sq_get, sq_one and sq_page do the
 * rest. A new kind adds a reader of that shape, a drop function and a
 * struct sq_kind, and its get/list pass them with their SQL. */
struct sq_kind {
	size_t size;
	int (*read)(struct store *s, sqlite3_stmt *st, void *out);
	void (*drop)(void *out);
};

/* sq_one: the first row of st (prepared and bound) into out; GERR_NOTFOUND
 * when there is none. what names the read in the log. Finalizes st. */
static int sq_one(struct store *s, sqlite3_stmt *st, const struct sq_kind *kind, const char *what,
                  void *out)
{
	int rc = sqlite3_step(st);
	int out_rc = rc == SQLITE_ROW    ? kind->read(s, st, out)
	             : rc == SQLITE_DONE ? GERR_NOTFOUND
	                                 : rows_end(s, rc, what);
	sqlite3_finalize(st);
	return out_rc;
}

/* sq_get: run sql, whose parameters are an id and a company_seq, and read
 * its row into out as sq_one does. */
static int sq_get(struct store *s, const char *sql, const struct sq_kind *kind, const char *what,
                  int64_t company_seq, const char *id, void *out)
{
	sqlite3_stmt *st = q_prepare(s, sql);
	if (!st)
		return GERR_IO;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, company_seq);
	return sq_one(s, st, kind, what, out);
}

/* sq_page: run sql, whose parameters are company_seq, the cursor (before_seq,
 * or no bound when 0) and the limit, and read at most limit rows into out, an
 * array of limit elements of kind. On failure nothing is kept (*n = 0). */
static int sq_page(struct store *s, const char *sql, const struct sq_kind *kind, const char *what,
                   int64_t company_seq, int64_t before_seq, int limit, void *out, int *n)
{
	sqlite3_stmt *st = q_prepare(s, sql);
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	sqlite3_bind_int64(st, 2, before_seq ? before_seq : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	char *at = out;
	int k = 0, rc = SQLITE_DONE, err = 0;
	while (!err && k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!(err = kind->read(s, st, at + (size_t)k * kind->size)))
			k++;
	sqlite3_finalize(st);
	if (!err)
		err = rows_end(s, rc, what);
	if (err)
		while (k > 0)
			kind->drop(at + (size_t)--k * kind->size);
	*n = k;
	return err;
}

static void read_company(sqlite3_stmt *st, struct store_company *c)
{
	c->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, c->id, sizeof(c->id));
	col_copy(st, 2, c->name, sizeof(c->name));
	c->event_types = col_dup(st, 3, NULL);
	c->created_at = sqlite3_column_int64(st, 4);
}

static int sqlite_token_add(struct store *s, int64_t company_seq, const char *token_hash);

static int sqlite_company_create(struct store *s, const char *name, const char *event_types,
                                 const char *token_hash, struct store_company *out,
                                 struct gerr *err)
{
	memset(out, 0, sizeof(*out));
	uuid_v4(out->id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->created_at = clock_now_ms();
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return db_error(s, err, "company_create");
	sqlite3_stmt *st = q_prepare(s, "INSERT INTO companies(id, name, event_types, created_at)"
	                                " VALUES(?,?,?,?)");
	if (!st)
		goto fail;
	bind_text(st, 1, out->id);
	bind_text(st, 2, name);
	bind_text(st, 3, event_types ? event_types : "[]");
	sqlite3_bind_int64(st, 4, out->created_at);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		exec_sql(SQ(s)->db, "ROLLBACK");
		return gerr_set(err, GERR_CONFLICT, 409, "conflict",
		                "a company named \"%s\" exists", name);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	out->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	if (fault_hit("company_token") || sqlite_token_add(s, out->seq, token_hash) ||
	    exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	out->event_types = strdup(event_types ? event_types : "[]");
	return 0;
fail:
	rc = db_error(s, err, "company_create");
	exec_sql(SQ(s)->db, "ROLLBACK");
	out->seq = 0;
	return rc;
}

#define COMPANY_COLS "seq, id, name, event_types, created_at"

static int sqlite_company_list(struct store *s, int64_t before_seq, int limit,
                               struct store_company *out, int *n)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " COMPANY_COLS " FROM companies WHERE seq < ?"
	                                " ORDER BY seq DESC LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, before_seq ? before_seq : INT64_MAX);
	sqlite3_bind_int(st, 2, limit);
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_company(st, &out[k++]);
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "company_list");
	if (err)
		while (k > 0)
			store_company_free(&out[--k]);
	*n = k;
	return err;
}

static int sqlite_company_get(struct store *s, int64_t seq, struct store_company *out)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " COMPANY_COLS " FROM companies WHERE seq = ?");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_company(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? GERR_NOTFOUND : rows_end(s, rc, "get");
}

static int sqlite_company_set_event_types(struct store *s, int64_t seq, const char *event_types)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE companies SET event_types = ? WHERE seq = ?");
	if (!st)
		return GERR_IO;
	bind_text(st, 1, event_types);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : GERR_IO;
}

static int sqlite_token_add(struct store *s, int64_t company_seq, const char *token_hash)
{
	sqlite3_stmt *st =
	    q_prepare(s, "INSERT INTO tokens(hash, company_seq, created_at) VALUES(?,?,?)");
	if (!st)
		return GERR_IO;
	bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, company_seq);
	sqlite3_bind_int64(st, 3, clock_now_ms());
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : GERR_IO;
}

static int sqlite_token_lookup(struct store *s, const char *token_hash, int64_t *company_seq)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT company_seq FROM tokens WHERE hash = ?");
	if (!st)
		return GERR_IO;
	bind_text(st, 1, token_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*company_seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? GERR_NOTFOUND : GERR_IO;
}

static int sqlite_token_each(struct store *s,
                             void (*fn)(void *ctx, const char *hash, int64_t company_seq),
                             void *ctx)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT hash, company_seq FROM tokens");
	if (!st)
		return GERR_IO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	return rows_end(s, rc, "token_each");
}

static int sqlite_token_list(struct store *s, int64_t company_seq, struct store_token *out, int max,
                             int *n)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT hash, created_at FROM tokens WHERE company_seq = ?"
	                                " ORDER BY created_at, hash LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	sqlite3_bind_int(st, 2, max);
	int k = 0, rc = SQLITE_DONE;
	while (k < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		col_copy(st, 0, out[k].hash, sizeof(out[k].hash));
		out[k++].created_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "token_list");
	*n = err ? 0 : k;
	return err;
}

static int sqlite_token_revoke(struct store *s, int64_t company_seq, const char *id, char hash[65],
                               struct gerr *err)
{
	/* One statement: the last token of a company is never deleted. */
	sqlite3_stmt *st =
	    q_prepare(s, "DELETE FROM tokens WHERE company_seq = ?1"
	                 " AND substr(hash, 1, 16) = ?2 AND length(?2) = 16"
	                 " AND (SELECT count(*) FROM tokens WHERE company_seq = ?1) > 1"
	                 " RETURNING hash");
	if (!st)
		return db_error(s, err, "token_revoke");
	sqlite3_bind_int64(st, 1, company_seq);
	bind_text(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		col_copy(st, 0, hash, 65);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return db_error(s, err, "token_revoke");
	st = q_prepare(s, "SELECT 1 FROM tokens WHERE company_seq = ? AND substr(hash, 1, 16) = ?"
	                  " AND length(?2) = 16");
	if (!st)
		return db_error(s, err, "token_revoke");
	sqlite3_bind_int64(st, 1, company_seq);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, err, "token_revoke");
	return store_token_refusal(rc == SQLITE_ROW, id, err);
}

/* ---- webhooks ------------------------------------------------------------------------------ */

#define WEBHOOK_COLS "seq, id, company_seq, status, fail_since, created_at, updated_at, config"

static void read_webhook(sqlite3_stmt *st, struct store_webhook *w)
{
	w->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, w->id, sizeof(w->id));
	w->company_seq = sqlite3_column_int64(st, 2);
	w->status = sqlite3_column_int(st, 3);
	w->fail_since = sqlite3_column_int64(st, 4);
	w->created_at = sqlite3_column_int64(st, 5);
	w->updated_at = sqlite3_column_int64(st, 6);
	w->config = col_dup(st, 7, NULL);
}

static int row_webhook(struct store *s, sqlite3_stmt *st, void *out)
{
	(void)s;
	read_webhook(st, out);
	return 0;
}

static void drop_webhook(void *w)
{
	store_webhook_free(w);
}

static const struct sq_kind webhook_kind = {sizeof(struct store_webhook), row_webhook,
                                            drop_webhook};

static int sqlite_webhook_insert(struct store *s, struct store_webhook *w, struct gerr *err)
{
	sqlite3_stmt *st = q_prepare(s, "INSERT INTO webhooks(id, company_seq, status, fail_since,"
	                                " config, created_at, updated_at) VALUES(?,?,?,0,?,?,?)");
	if (!st)
		return db_error(s, err, "webhook_insert");
	bind_text(st, 1, w->id);
	sqlite3_bind_int64(st, 2, w->company_seq);
	sqlite3_bind_int(st, 3, w->status);
	bind_text(st, 4, w->config);
	sqlite3_bind_int64(st, 5, w->created_at);
	sqlite3_bind_int64(st, 6, w->updated_at);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(s, err, "webhook_insert");
	w->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	return 0;
}

static int sqlite_webhook_update(struct store *s, const struct store_webhook *w)
{
	sqlite3_stmt *st =
	    q_prepare(s, "UPDATE webhooks SET status = ?, config = ?, updated_at = ?,"
	                 " fail_since = CASE WHEN ? = 0 THEN 0 ELSE fail_since END"
	                 " WHERE seq = ?");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int(st, 1, w->status);
	bind_text(st, 2, w->config);
	sqlite3_bind_int64(st, 3, w->updated_at);
	/* Re-activating a webhook starts its failure streak afresh. */
	sqlite3_bind_int(st, 4, w->status);
	sqlite3_bind_int64(st, 5, w->seq);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : GERR_IO;
}

static int sqlite_webhook_get(struct store *s, int64_t company_seq, const char *id,
                              struct store_webhook *out)
{
	return sq_get(s,
	              "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = ?1"
	              " AND (?2 = 0 OR company_seq = ?2) AND status != 2 AND route_seq IS NULL",
	              &webhook_kind, "get", company_seq, id, out);
}

static int sqlite_webhook_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                               struct store_webhook *out, int *n)
{
	return sq_page(s,
	               "SELECT " WEBHOOK_COLS " FROM webhooks WHERE company_seq = ?"
	               " AND seq < ? AND status != 2 AND route_seq IS NULL"
	               " ORDER BY seq DESC LIMIT ?",
	               &webhook_kind, "webhook_list", company_seq, before_seq, limit, out, n);
}

static int sqlite_webhook_each(struct store *s, void (*fn)(void *ctx, struct store_webhook *w),
                               void *ctx)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE status != 2"
	                                " ORDER BY seq");
	if (!st)
		return GERR_IO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_webhook w;
		read_webhook(st, &w);
		fn(ctx, &w);
		store_webhook_free(&w);
	}
	sqlite3_finalize(st);
	return rows_end(s, rc, "webhook_each");
}

static int exec_changes(struct store *s, sqlite3_stmt *st)
{
	if (!st)
		return GERR_IO;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(SQ(s)->db) : GERR_IO;
}

static int sqlite_webhook_release_held(struct store *s, int64_t webhook_seq, int64_t now)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE deliveries SET status = 0, next_at = ?,"
	                                " updated_at = ? WHERE webhook_seq = ? AND status = 1");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, webhook_seq);
	}
	return exec_changes(s, st);
}

static int sqlite_webhook_fail_open(struct store *s, int64_t webhook_seq, const char *reason,
                                    int64_t now)
{
	sqlite3_stmt *st =
	    q_prepare(s, "UPDATE deliveries SET status = 3, last_error = ?,"
	                 " updated_at = ? WHERE webhook_seq = ? AND status IN (0, 1)");
	if (st) {
		bind_text(st, 1, reason);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, webhook_seq);
	}
	return exec_changes(s, st);
}

static int sqlite_delivery_set_aside(struct store *s, int64_t seq, const char *error,
                                     const char *note, int64_t now)
{
	static const char *const sql[] = {
	    "UPDATE deliveries SET status = 3, attempts = attempts + 1, last_http_status = 0,"
	    " last_error = ?2, updated_at = ?3 WHERE seq = ?1 AND status IN (0, 1)",
	    "INSERT INTO attempts(delivery_seq, at, http_status, latency_ms, error, response)"
	    " VALUES(?1, ?3, 0, 0, ?2, NULL)",
	    "INSERT INTO opevents(company_seq, at, kind, webhook_seq, message)"
	    " SELECT company_seq, ?3, 'delivery.set_aside', webhook_seq, ?4 FROM deliveries"
	    " WHERE seq = ?1",
	};
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	int changed = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = q_prepare(s, sql[i]);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, seq);
		bind_text(st, 2, error);
		sqlite3_bind_int64(st, 3, now);
		if (i == 2)
			bind_text(st, 4, note);
		int rc = exec_changes(s, st);
		if (rc < 0)
			goto fail;
		if (i == 0 && (changed = rc) == 0)
			break; /* not open (finished, retried by hand) or no such delivery */
	}
	if (exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return changed;
fail:
	exec_sql(SQ(s)->db, "ROLLBACK");
	return GERR_IO;
}

/* ---- deliveries, attempts, events, operator records ---------------------------------------- */

#define DELIVERY_SELECT                                                                            \
	"SELECT d.seq, w.id, COALESCE(e.id, ''), COALESCE(e.event, r.event, ''), d.status,"        \
	" d.attempts, d.next_at, d.last_http_status, d.last_error, d.created_at, d.updated_at,"    \
	" COALESCE(r.id, ''), COALESCE(rt.id, '') FROM deliveries d LEFT JOIN events e ON e.seq "  \
	"= d.event_seq"                                                                            \
	" LEFT JOIN receipts r ON r.seq = d.receipt_seq JOIN webhooks w ON w.seq = d.webhook_seq " \
	"LEFT JOIN routes rt ON rt.seq = w.route_seq "

static void read_delivery(sqlite3_stmt *st, struct store_delivery *d)
{
	d->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, d->webhook_id, sizeof(d->webhook_id));
	col_copy(st, 2, d->event_id, sizeof(d->event_id));
	col_copy(st, 3, d->event, sizeof(d->event));
	d->status = sqlite3_column_int(st, 4);
	d->attempts = sqlite3_column_int(st, 5);
	d->next_at = sqlite3_column_int64(st, 6);
	d->last_http_status = sqlite3_column_int(st, 7);
	col_copy(st, 8, d->last_error, sizeof(d->last_error));
	d->created_at = sqlite3_column_int64(st, 9);
	d->updated_at = sqlite3_column_int64(st, 10);
	col_copy(st, 11, d->receipt_id, sizeof(d->receipt_id));
	col_copy(st, 12, d->route_id, sizeof(d->route_id));
}

static int sqlite_delivery_list(struct store *s, int64_t company_seq,
                                const struct store_delivery_filter *f, int64_t before_seq,
                                int limit, struct store_delivery *out, int *n)
{
	/* With a receipt the (receipt_seq) index drives, with a webhook the
	 * (webhook_seq, seq) one; else (company_seq, seq). */
	const char *sql = f->receipt_seq ? DELIVERY_SELECT
	                      "WHERE d.receipt_seq = ?7 AND d.company_seq = ?2 AND d.seq < ?3"
	                      " AND (?1 = 0 OR d.webhook_seq = ?1) AND (?4 < 0 OR d.status = ?4)"
	                      " AND (?5 IS NULL OR COALESCE(e.event, r.event) = ?5)"
	                      " ORDER BY d.seq DESC LIMIT ?6"
	                  : f->webhook_seq ? DELIVERY_SELECT
	                      "WHERE d.webhook_seq = ?1 AND d.company_seq = ?2 AND d.seq < ?3"
	                      " AND (?4 < 0 OR d.status = ?4)"
	                      " AND (?5 IS NULL OR COALESCE(e.event, r.event) = ?5)"
	                      " AND (?7 = 0 OR 1) ORDER BY d.seq DESC LIMIT ?6"
	                                   : DELIVERY_SELECT
	                      "WHERE d.company_seq = ?2 AND d.seq < ?3 AND (?1 = 0 OR 1)"
	                      " AND (?4 < 0 OR d.status = ?4)"
	                      " AND (?5 IS NULL OR COALESCE(e.event, r.event) = ?5)"
	                      " AND (?7 = 0 OR 1) ORDER BY d.seq DESC LIMIT ?6";
	sqlite3_stmt *st = q_prepare(s, sql);
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, f->webhook_seq);
	sqlite3_bind_int64(st, 2, company_seq);
	sqlite3_bind_int64(st, 3, before_seq ? before_seq : INT64_MAX);
	sqlite3_bind_int(st, 4, f->status);
	bind_text(st, 5, f->event);
	sqlite3_bind_int(st, 6, limit);
	sqlite3_bind_int64(st, 7, f->receipt_seq);
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_delivery(st, &out[k++]);
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "delivery_list");
	*n = err ? 0 : k;
	return err;
}

static int sqlite_delivery_get(struct store *s, int64_t company_seq, int64_t seq,
                               struct store_delivery *out)
{
	sqlite3_stmt *st = q_prepare(s, DELIVERY_SELECT "WHERE d.seq = ? AND d.company_seq = ?");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, company_seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_delivery(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? GERR_NOTFOUND : rows_end(s, rc, "get");
}

static int sqlite_delivery_retry(struct store *s, int64_t company_seq, int64_t seq, int64_t now,
                                 struct store_task *task, struct gerr *err)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE deliveries SET status = 0, attempts = 0,"
	                                " first_attempt_at = 0, next_at = ?, updated_at = ?"
	                                " WHERE seq = ? AND company_seq = ? AND status != 0"
	                                " AND webhook_seq IN (SELECT seq FROM webhooks"
	                                " WHERE status = 0)"
	                                " RETURNING seq, event_seq, webhook_seq, next_at,"
	                                " first_attempt_at, attempts, okey, request_seq");
	if (!st)
		return db_error(s, err, "delivery_retry");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int64(st, 4, company_seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_task(st, task);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return db_error(s, err, "delivery_retry");
	/* Not retried: say why. */
	st = q_prepare(s, "SELECT d.status, coalesce(w.status, 2) FROM deliveries d"
	                  " LEFT JOIN webhooks w ON w.seq = d.webhook_seq"
	                  " WHERE d.seq = ? AND d.company_seq = ?");
	if (!st)
		return db_error(s, err, "delivery_retry");
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, company_seq);
	rc = sqlite3_step(st);
	int dstatus = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	int wstatus = rc == SQLITE_ROW ? sqlite3_column_int(st, 1) : -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, err, "delivery_retry");
	return store_retry_refusal(seq, dstatus, wstatus, err);
}

/* attempt_rows: the rows of an attempts query (bound), finalized. */
static int attempt_rows(struct store *s, sqlite3_stmt *st, int limit, struct store_attempt *out,
                        int *n)
{
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_attempt *a = &out[k++];
		a->seq = sqlite3_column_int64(st, 0);
		a->at = sqlite3_column_int64(st, 1);
		a->http_status = sqlite3_column_int(st, 2);
		a->latency_ms = sqlite3_column_int(st, 3);
		col_copy(st, 4, a->error, sizeof(a->error));
		a->response = col_dup(st, 5, &a->response_len);
	}
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "attempt_list");
	if (err)
		while (k > 0)
			store_attempt_free(&out[--k]);
	*n = k;
	return err;
}

static int sqlite_attempt_list(struct store *s, int64_t delivery_seq, int64_t after_seq, int limit,
                               struct store_attempt *out, int *n)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT seq, at, http_status, latency_ms, error, response"
	                                " FROM attempts WHERE delivery_seq = ? AND seq > ?"
	                                " ORDER BY seq LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, delivery_seq);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit);
	return attempt_rows(s, st, limit, out, n);
}

static int sqlite_attempt_latest(struct store *s, int64_t delivery_seq, int limit,
                                 struct store_attempt *out, int *n)
{
	sqlite3_stmt *st =
	    q_prepare(s, "SELECT * FROM (SELECT seq, at, http_status, latency_ms, error, response"
	                 " FROM attempts WHERE delivery_seq = ? ORDER BY seq DESC LIMIT ?)"
	                 " ORDER BY seq");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, delivery_seq);
	sqlite3_bind_int(st, 2, limit);
	return attempt_rows(s, st, limit, out, n);
}

static int sqlite_event_get(struct store *s, int64_t company_seq, const char *id,
                            struct store_event *out)
{
	/* merged ids through event_ids; the newer ones are the tail of events */
	sqlite3_stmt *st = q_prepare(
	    s, "SELECT seq, company_seq, id, event, date_ms, unit, data FROM events WHERE seq ="
	       " (SELECT seq FROM event_ids WHERE company_seq = ?1 AND id = ?2)"
	       " UNION ALL SELECT seq, company_seq, id, event, date_ms, unit, data FROM events"
	       " WHERE seq > coalesce((SELECT CAST(value AS INTEGER) FROM meta"
	       " WHERE key = 'ids_upto'), 0) AND company_seq = ?1 AND id = ?2 LIMIT 1");
	if (!st)
		return GERR_IO;
	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(st, 1, company_seq);
	bind_text(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->seq = sqlite3_column_int64(st, 0);
		read_event(st, 1, out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW    ? 0
	       : rc == SQLITE_DONE ? GERR_NOTFOUND
	                           : rows_end(s, rc, "event_get");
}

static int sqlite_event_range(struct store *s, int64_t company_seq, int64_t since_ms,
                              int64_t until_ms, int64_t after_seq, int limit,
                              struct store_event *out, int *n)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT seq, company_seq, id, event, date_ms, unit, data"
	                                " FROM events WHERE company_seq = ? AND date_ms >= ?"
	                                " AND date_ms < ? AND seq > ? ORDER BY seq LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	sqlite3_bind_int64(st, 4, after_seq);
	sqlite3_bind_int(st, 5, limit);
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].seq = sqlite3_column_int64(st, 0);
		read_event(st, 1, &out[k]);
		k++;
	}
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "event_range");
	if (err)
		while (k > 0)
			store_event_free(&out[--k]);
	*n = k;
	return err;
}

static int sqlite_receipt_next_due(struct store *s, int64_t *at)
{
	*at = 0;
	sqlite3_stmt *st = q_prepare(s, "SELECT min(apply_at) FROM receipts WHERE status = 0");
	if (!st)
		return GERR_IO;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*at = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rows_end(s, rc, "receipt_next_due");
}

/* The columns of a receipt in a list: body and headers left empty. */
#define RECEIPT_LIST_COLS                                                                          \
	"seq, id, company_seq, source_seq, msg_id, event, date, date_us, date_ns, entity_type, "   \
	"entity_key, kept, x'', '{}', verification, address, status, duplicates, apply_at, "       \
	"created_at, updated_at"

static int sqlite_receipt_get(struct store *s, int64_t company_seq, const char *id,
                              struct store_receipt *out)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " RECEIPT_COLS " FROM receipts WHERE id = ?1"
	                                " AND (?2 = 0 OR company_seq = ?2)");
	if (!st)
		return GERR_IO;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, company_seq);
	int rc = sqlite3_step(st), err = 0;
	if (rc == SQLITE_ROW && (err = read_receipt(st, out)))
		store_receipt_free(out);
	sqlite3_finalize(st);
	if (err)
		return err;
	return rc == SQLITE_ROW    ? 0
	       : rc == SQLITE_DONE ? GERR_NOTFOUND
	                           : rows_end(s, rc, "receipt_get");
}

static int sqlite_receipt_list(struct store *s, int64_t company_seq,
                               const struct store_receipt_filter *f, int64_t before_seq, int limit,
                               struct store_receipt *out, int *n)
{
	*n = 0;
	sqlite3_stmt *st = q_prepare(
	    s, "SELECT " RECEIPT_LIST_COLS " FROM receipts WHERE company_seq = ?1 AND seq < ?2"
	       " AND (?3 = 0 OR source_seq = ?3) AND (?4 IS NULL OR event = ?4)"
	       " AND (?5 IS NULL OR entity_key = ?5) AND (?6 < 0 OR status = ?6)"
	       " AND (?8 IS NULL OR (CASE WHEN verification = 'reconciliation'"
	       " THEN 'reconciliation' ELSE 'received' END) = ?8)"
	       " ORDER BY seq DESC LIMIT ?7");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	sqlite3_bind_int64(st, 2, before_seq ? before_seq : INT64_MAX);
	sqlite3_bind_int64(st, 3, f->source_seq);
	bind_text(st, 4, f->event);
	bind_text(st, 5, f->entity_key);
	sqlite3_bind_int(st, 6, f->status);
	sqlite3_bind_int(st, 7, limit);
	bind_text(st, 8, f->origin);
	int k = 0, rc = SQLITE_DONE, err = 0;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((err = read_receipt(st, &out[k]))) {
			store_receipt_free(&out[k]);
			break;
		}
		k++;
	}
	sqlite3_finalize(st);
	if (!err)
		err = rows_end(s, rc, "receipt_list");
	if (err)
		while (k > 0)
			store_receipt_free(&out[--k]);
	*n = k;
	return err;
}

static int sqlite_entity_get(struct store *s, int64_t company_seq, const char *type,
                             const char *key, struct store_entity_row *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = q_prepare(s, "SELECT date_us, date_ns, kept, receipt_seq, updated_at"
	                                " FROM entities WHERE company_seq = ?1 AND type = ?2"
	                                " AND key = ?3");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	bind_text(st, 2, type);
	bind_text(st, 3, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->type, sizeof(out->type), "%s", type);
		snprintf(out->key, sizeof(out->key), "%s", key);
		out->date_us = sqlite3_column_int64(st, 0);
		out->date_ns = sqlite3_column_int(st, 1);
		out->kept = col_dup(st, 2, NULL);
		out->receipt_seq = sqlite3_column_int64(st, 3);
		out->updated_at = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return out->kept ? 0 : GERR_NOMEM;
	return rc == SQLITE_DONE ? GERR_NOTFOUND : rows_end(s, rc, "entity_get");
}

static int sqlite_opevent_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                               struct store_opevent *out, int *n)
{
	sqlite3_stmt *st =
	    q_prepare(s, "SELECT o.seq, o.at, o.kind, COALESCE(w.id, ''), o.message"
	                 " FROM opevents o LEFT JOIN webhooks w ON w.seq = o.webhook_seq"
	                 " WHERE o.company_seq = ? AND o.seq < ?"
	                 " ORDER BY o.seq DESC LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, company_seq);
	sqlite3_bind_int64(st, 2, before_seq ? before_seq : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_opevent *o = &out[k++];
		o->seq = sqlite3_column_int64(st, 0);
		o->at = sqlite3_column_int64(st, 1);
		col_copy(st, 2, o->kind, sizeof(o->kind));
		col_copy(st, 3, o->webhook_id, sizeof(o->webhook_id));
		col_copy(st, 4, o->message, sizeof(o->message));
	}
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "opevent_list");
	*n = err ? 0 : k;
	return err;
}

/* ---- one node: the cluster calls are trivial ------------------------------------------ */

static bool sqlite_shared(struct store *s)
{
	(void)s;
	return false;
}

static int sqlite_node_join(struct store *s, const char *node, int64_t now)
{
	(void)s, (void)node, (void)now;
	return 0;
}

static int sqlite_node_beat(struct store *s, const char *node, int64_t now)
{
	(void)s, (void)node, (void)now;
	return 0;
}

static int sqlite_node_reap(struct store *s, int64_t dead_before, int *n)
{
	(void)s, (void)dead_before;
	*n = 0;
	return 0;
}

static int sqlite_node_leave(struct store *s, const char *node)
{
	(void)s, (void)node;
	return 0;
}

static int sqlite_claim(struct store *s, const char *node, int64_t due_before, int limit,
                        struct store_task *out, int *n)
{
	/* One node owns everything; the dispatcher reads by keyset instead. */
	(void)node, (void)due_before;
	return sqlite_open_after(s, 0, limit, out, n);
}

static int sqlite_release(struct store *s, const char *node, const int64_t *seqs, int n)
{
	(void)s, (void)node, (void)seqs, (void)n;
	return 0;
}

static int sqlite_load_owned(struct store *s, const char *node, const int64_t *seqs, int nseqs,
                             struct store_task *out, int *n)
{
	(void)node;
	sqlite3_stmt *st = q_prepare(s, "SELECT seq, event_seq, webhook_seq, next_at,"
	                                " first_attempt_at, attempts, okey, request_seq"
	                                " FROM deliveries WHERE seq = ? AND status = 0");
	*n = 0;
	if (!st)
		return GERR_IO;
	int k = 0;
	int err = 0;
	for (int i = 0; i < nseqs && !err; i++) {
		sqlite3_bind_int64(st, 1, seqs[i]);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_task(st, &out[k++]);
		err = rows_end(s, rc, "load_owned");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	*n = err ? 0 : k;
	return err;
}

static int sqlite_listen_fd(struct store *s)
{
	(void)s;
	return -1;
}

static int sqlite_notifications(struct store *s, void (*fn)(void *ctx, const char *payload),
                                void *ctx)
{
	(void)s, (void)fn, (void)ctx;
	return 0;
}

static int sqlite_notify(struct store *s, const char *payload)
{
	(void)s, (void)payload;
	return 0;
}

static int sqlite_webhook_by_seq(struct store *s, int64_t seq, struct store_webhook *out)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE seq = ?"
	                                " AND status != 2");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_webhook(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? GERR_NOTFOUND : rows_end(s, rc, "get");
}

/* ---- reconciliations and their runs ------------------------------------------------------- */

#define RECON_COLS "seq, id, company_seq, status, name, config, next_run_at, created_at, updated_at"
#define RUN_COLS                                                                                   \
	"seq, id, reconciliation_seq, state, requested_at, started_at, ended_at, pages, jobs,"     \
	" seen, receipts, errors"

/* read_recon, read_run: a row of RECON_COLS / RUN_COLS from column 0;
 * GERR_NOMEM when a string could not be copied (nothing left to free). */
static int read_recon(sqlite3_stmt *st, struct store_reconciliation *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, r->id, sizeof(r->id));
	r->company_seq = sqlite3_column_int64(st, 2);
	r->status = sqlite3_column_int(st, 3);
	r->name = col_dup(st, 4, NULL);
	r->config = col_dup(st, 5, NULL);
	r->next_run_at = sqlite3_column_int64(st, 6);
	r->created_at = sqlite3_column_int64(st, 7);
	r->updated_at = sqlite3_column_int64(st, 8);
	if (r->name && r->config)
		return 0;
	store_reconciliation_free(r);
	return GERR_NOMEM;
}

static int read_run(sqlite3_stmt *st, struct store_recon_run *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, r->id, sizeof(r->id));
	r->reconciliation_seq = sqlite3_column_int64(st, 2);
	r->state = sqlite3_column_int(st, 3);
	r->requested_at = sqlite3_column_int64(st, 4);
	r->started_at = sqlite3_column_int64(st, 5);
	r->ended_at = sqlite3_column_int64(st, 6);
	r->pages = sqlite3_column_int64(st, 7);
	r->jobs = sqlite3_column_int64(st, 8);
	r->seen = sqlite3_column_int64(st, 9);
	r->receipts = sqlite3_column_int64(st, 10);
	r->errors = col_dup(st, 11, NULL);
	return r->errors ? 0 : GERR_NOMEM;
}

/* run_step: run a write statement (finalized); 0, or -1 when it failed. */
static int run_step(sqlite3_stmt *st)
{
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int sqlite_reconciliation_write(struct store *s, struct store_reconciliation *r,
                                       struct gerr *err)
{
	sqlite3_stmt *st;
	bool insert = r->seq == 0, del = !insert && r->status == SRC_DELETED;
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return db_error(s, err, "reconciliation_write");
	if (insert) {
		st = q_prepare(s,
		               "INSERT INTO reconciliations(id, company_seq, name, config, status,"
		               " next_run_at, created_at, updated_at) VALUES(?,?,?,?,0,?,?,?)");
		if (st) {
			bind_text(st, 1, r->id);
			sqlite3_bind_int64(st, 2, r->company_seq);
			bind_text(st, 3, r->name);
			bind_text(st, 4, r->config);
			sqlite3_bind_int64(st, 5, r->next_run_at);
			sqlite3_bind_int64(st, 6, r->created_at);
			sqlite3_bind_int64(st, 7, r->updated_at);
		}
	} else if (del) {
		st = q_prepare(s, "UPDATE reconciliations SET status = 2, pending_run = NULL,"
		                  " updated_at = ?1 WHERE seq = ?2 AND status != 2");
		if (st) {
			sqlite3_bind_int64(st, 1, r->updated_at);
			sqlite3_bind_int64(st, 2, r->seq);
		}
	} else {
		st = q_prepare(s, "UPDATE reconciliations SET name = ?1, config = ?2, next_run_at ="
		                  " CASE WHEN ?3 > 0 THEN ?3 ELSE next_run_at END,"
		                  " updated_at = ?4 WHERE seq = ?5 AND status != 2");
		if (st) {
			bind_text(st, 1, r->name);
			bind_text(st, 2, r->config);
			sqlite3_bind_int64(st, 3, r->next_run_at);
			sqlite3_bind_int64(st, 4, r->updated_at);
			sqlite3_bind_int64(st, 5, r->seq);
		}
	}
	if (run_step(st))
		goto fail;
	if (!insert && sqlite3_changes(SQ(s)->db) == 0) {
		exec_sql(SQ(s)->db, "ROLLBACK");
		return GERR_NOTFOUND;
	}
	if (insert)
		r->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	if (del) {
		st = q_prepare(s, "UPDATE reconciliation_runs SET state = 3, ended_at = ?1,"
		                  " errors = '[\"the reconciliation was deleted\"]'"
		                  " WHERE reconciliation_seq = ?2 AND state = 0");
		if (st) {
			sqlite3_bind_int64(st, 1, r->updated_at);
			sqlite3_bind_int64(st, 2, r->seq);
		}
		if (run_step(st))
			goto fail;
	}
	if (exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	if (insert)
		r->status = SRC_ACTIVE;
	return 0;
fail:;
	int rc = db_error(s, err, "reconciliation_write");
	exec_sql(SQ(s)->db, "ROLLBACK");
	if (insert)
		r->seq = 0;
	return rc;
}

static int sqlite_reconciliation_get(struct store *s, int64_t company_seq, const char *id,
                                     struct store_reconciliation *out)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT " RECON_COLS " FROM reconciliations WHERE id = ?"
	                                " AND company_seq = ? AND status != 2");
	if (!st)
		return GERR_IO;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, company_seq);
	int rc = sqlite3_step(st);
	int err = rc == SQLITE_ROW    ? read_recon(st, out)
	          : rc == SQLITE_DONE ? GERR_NOTFOUND
	                              : rows_end(s, rc, "reconciliation_get");
	sqlite3_finalize(st);
	return err;
}

static int read_recon_row(struct store *s, sqlite3_stmt *st, void *out)
{
	(void)s;
	return read_recon(st, out);
}

static int read_run_row(struct store *s, sqlite3_stmt *st, void *out);

static void drop_recon(void *r)
{
	store_reconciliation_free(r);
}

static void drop_run(void *r)
{
	store_recon_run_free(r);
}

static const struct sq_kind recon_kind = {sizeof(struct store_reconciliation), read_recon_row,
                                          drop_recon};
static const struct sq_kind run_kind = {sizeof(struct store_recon_run), read_run_row, drop_run};

static int sqlite_reconciliation_list(struct store *s, int64_t company_seq, int64_t before_seq,
                                      int limit, struct store_reconciliation *out, int *n)
{
	return sq_page(s,
	               "SELECT " RECON_COLS " FROM reconciliations WHERE company_seq = ?"
	               " AND seq < ? AND status != 2 ORDER BY seq DESC LIMIT ?",
	               &recon_kind, "reconciliation_list", company_seq, before_seq, limit, out, n);
}

static int sqlite_reconciliation_request(struct store *s, int64_t seq, int64_t now, char run_id[40],
                                         bool *added)
{
	*added = false;
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	sqlite3_stmt *st = q_prepare(s, "UPDATE reconciliations SET pending_run = ?1,"
	                                " next_run_at = min(next_run_at, ?2)"
	                                " WHERE seq = ?3 AND status != 2 AND pending_run IS NULL");
	if (st) {
		bind_text(st, 1, run_id);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, seq);
	}
	if (run_step(st))
		goto fail;
	if (sqlite3_changes(SQ(s)->db) == 1) {
		st = q_prepare(s, "INSERT INTO reconciliation_runs(id, reconciliation_seq, state,"
		                  " requested_at) VALUES(?1, ?2, 0, ?3)");
		if (st) {
			bind_text(st, 1, run_id);
			sqlite3_bind_int64(st, 2, seq);
			sqlite3_bind_int64(st, 3, now);
		}
		if (run_step(st))
			goto fail;
		*added = true;
	} else {
		st = q_prepare(s, "SELECT pending_run FROM reconciliations WHERE seq = ?1"
		                  " AND status != 2");
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, seq);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			col_copy(st, 0, run_id, 40);
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			exec_sql(SQ(s)->db, "ROLLBACK");
			return GERR_NOTFOUND;
		}
		if (rc != SQLITE_ROW)
			goto fail;
	}
	if (exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return 0;
fail:
	log_error("store_error", "op=reconciliation_request err=\"%s\"", sqlite3_errmsg(SQ(s)->db));
	exec_sql(SQ(s)->db, "ROLLBACK");
	*added = false;
	return GERR_IO;
}

static int sqlite_reconciliation_claim(struct store *s, const char *node, int64_t now,
                                       int64_t lease_until, const char *new_run_id,
                                       struct store_reconciliation *out,
                                       struct store_recon_run *run)
{
	memset(out, 0, sizeof(*out));
	memset(run, 0, sizeof(*run));
	/* the poll's usual answer, "nothing due", without the write lock */
	sqlite3_stmt *st = q_prepare(s, "SELECT 1 FROM reconciliations WHERE status = 0 AND"
	                                " next_run_at <= ?1 AND lease_until <= ?1 LIMIT 1");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, now);
	int due = sqlite3_step(st);
	sqlite3_finalize(st);
	if (due == SQLITE_DONE)
		return GERR_NOTFOUND;
	if (due != SQLITE_ROW)
		return rows_end(s, due, "reconciliation_claim");
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	int64_t seq = 0;
	char pending[40] = "";
	st = q_prepare(s, "SELECT seq, pending_run FROM reconciliations"
	                  " WHERE status = 0 AND next_run_at <= ?1 AND lease_until <= ?1"
	                  " ORDER BY next_run_at, seq LIMIT 1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		col_copy(st, 1, pending, sizeof(pending));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		exec_sql(SQ(s)->db, "ROLLBACK");
		return GERR_NOTFOUND;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	st = q_prepare(s, "UPDATE reconciliations SET lease_node = ?1, lease_until = ?2,"
	                  " pending_run = NULL WHERE seq = ?3");
	if (st) {
		bind_text(st, 1, node);
		sqlite3_bind_int64(st, 2, lease_until);
		sqlite3_bind_int64(st, 3, seq);
	}
	if (run_step(st))
		goto fail;
	/* a run left running: its node's lease ran out before it ended */
	st = q_prepare(s, "UPDATE reconciliation_runs SET state = 4, ended_at = ?1,"
	                  " errors = '[\"the node running it stopped before the run ended\"]'"
	                  " WHERE reconciliation_seq = ?2 AND state = 1");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, seq);
	}
	if (run_step(st))
		goto fail;
	int changed = 0;
	if (pending[0]) {
		st = q_prepare(s, "UPDATE reconciliation_runs SET state = 1, started_at = ?1,"
		                  " node = ?2 WHERE id = ?3 AND state = 0");
		if (st) {
			sqlite3_bind_int64(st, 1, now);
			bind_text(st, 2, node);
			bind_text(st, 3, pending);
		}
		if (run_step(st))
			goto fail;
		changed = sqlite3_changes(SQ(s)->db);
	}
	if (!changed) {
		snprintf(pending, sizeof(pending), "%s", new_run_id);
		st = q_prepare(
		    s, "INSERT INTO reconciliation_runs(id, reconciliation_seq, node, state,"
		       " requested_at, started_at) VALUES(?1, ?2, ?3, 1, ?4, ?4)");
		if (st) {
			bind_text(st, 1, pending);
			sqlite3_bind_int64(st, 2, seq);
			bind_text(st, 3, node);
			sqlite3_bind_int64(st, 4, now);
		}
		if (run_step(st))
			goto fail;
	}
	st = q_prepare(s, "SELECT " RECON_COLS " FROM reconciliations WHERE seq = ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st) == SQLITE_ROW ? read_recon(st, out) : GERR_IO;
	sqlite3_finalize(st);
	if (rc)
		goto fail;
	st = q_prepare(s, "SELECT " RUN_COLS " FROM reconciliation_runs WHERE id = ?1");
	if (!st)
		goto fail;
	bind_text(st, 1, pending);
	rc = sqlite3_step(st) == SQLITE_ROW ? read_run(st, run) : GERR_IO;
	sqlite3_finalize(st);
	if (rc || exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return 0;
fail:
	log_error("store_error", "op=reconciliation_claim err=\"%s\"", sqlite3_errmsg(SQ(s)->db));
	exec_sql(SQ(s)->db, "ROLLBACK");
	store_reconciliation_free(out);
	store_recon_run_free(run);
	return GERR_IO;
}

/* run_counters: the UPDATE of a run's counters and errors (and, with
 * end, its state and ended_at). */
static sqlite3_stmt *run_counters(struct store *s, const struct store_recon_run *run, bool end)
{
	sqlite3_stmt *st = q_prepare(
	    s,
	    end ? "UPDATE reconciliation_runs SET pages = ?2, jobs = ?3, seen = ?4, receipts = ?5,"
	          " errors = ?6, state = ?7, ended_at = ?8 WHERE seq = ?1"
	        : "UPDATE reconciliation_runs SET pages = ?2, jobs = ?3, seen = ?4, receipts = ?5,"
	          " errors = ?6 WHERE seq = ?1");
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, run->seq);
	sqlite3_bind_int64(st, 2, run->pages);
	sqlite3_bind_int64(st, 3, run->jobs);
	sqlite3_bind_int64(st, 4, run->seen);
	sqlite3_bind_int64(st, 5, run->receipts);
	bind_text(st, 6, run->errors ? run->errors : "[]");
	if (end) {
		sqlite3_bind_int(st, 7, run->state);
		sqlite3_bind_int64(st, 8, run->ended_at);
	}
	return st;
}

static int sqlite_reconciliation_progress(struct store *s, const char *node, int64_t seq,
                                          int64_t lease_until, const struct store_recon_run *run)
{
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	sqlite3_stmt *st = q_prepare(s, "UPDATE reconciliations SET lease_until = ?1"
	                                " WHERE seq = ?2 AND lease_node = ?3 AND status = 0");
	if (st) {
		sqlite3_bind_int64(st, 1, lease_until);
		sqlite3_bind_int64(st, 2, seq);
		bind_text(st, 3, node);
	}
	if (run_step(st))
		goto fail;
	int held = sqlite3_changes(SQ(s)->db);
	if (run_step(run_counters(s, run, false)) || exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return held ? 0 : GERR_CONFLICT;
fail:
	log_error("store_error", "op=reconciliation_progress err=\"%s\"",
	          sqlite3_errmsg(SQ(s)->db));
	exec_sql(SQ(s)->db, "ROLLBACK");
	return GERR_IO;
}

static int sqlite_reconciliation_finish(struct store *s, const char *node, int64_t seq,
                                        const struct store_recon_run *run, int64_t next_run_at,
                                        const char *opevent_kind, const char *opevent_msg)
{
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	if (run_step(run_counters(s, run, true)))
		goto fail;
	sqlite3_stmt *st = q_prepare(
	    s, "UPDATE reconciliations SET lease_node = NULL, lease_until = 0, next_run_at ="
	       " CASE WHEN pending_run IS NOT NULL THEN ?1 ELSE ?2 END WHERE seq = ?3 AND"
	       " lease_node = ?4");
	if (st) {
		sqlite3_bind_int64(st, 1, run->ended_at);
		sqlite3_bind_int64(st, 2, next_run_at);
		sqlite3_bind_int64(st, 3, seq);
		bind_text(st, 4, node);
	}
	if (run_step(st))
		goto fail;
	if (opevent_kind) {
		st =
		    q_prepare(s, "INSERT INTO opevents(company_seq, at, kind, webhook_seq, message)"
		                 " SELECT company_seq, ?1, ?2, NULL, ?3 FROM reconciliations"
		                 " WHERE seq = ?4");
		if (st) {
			sqlite3_bind_int64(st, 1, run->ended_at);
			bind_text(st, 2, opevent_kind);
			bind_text(st, 3, opevent_msg ? opevent_msg : "");
			sqlite3_bind_int64(st, 4, seq);
		}
		if (run_step(st))
			goto fail;
	}
	/* the newest STORE_RECON_RUNS_KEPT runs stay */
	st = q_prepare(s, "DELETE FROM reconciliation_runs WHERE reconciliation_seq = ?1 AND"
	                  " state >= 2 AND seq < (SELECT seq FROM reconciliation_runs WHERE"
	                  " reconciliation_seq = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
	if (st) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, STORE_RECON_RUNS_KEPT - 1);
	}
	if (run_step(st) || exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return 0;
fail:
	log_error("store_error", "op=reconciliation_finish err=\"%s\"", sqlite3_errmsg(SQ(s)->db));
	exec_sql(SQ(s)->db, "ROLLBACK");
	return GERR_IO;
}

static int read_run_row(struct store *s, sqlite3_stmt *st, void *out)
{
	(void)s;
	return read_run(st, out);
}

/* a reconciliation's runs, paged as sq_page pages a company's objects */
static int sqlite_recon_run_list(struct store *s, int64_t seq, int64_t before_seq, int limit,
                                 struct store_recon_run *out, int *n)
{
	return sq_page(s,
	               "SELECT " RUN_COLS " FROM reconciliation_runs WHERE reconciliation_seq = ?"
	               " AND seq < ? ORDER BY seq DESC LIMIT ?",
	               &run_kind, "recon_run_list", seq, before_seq, limit, out, n);
}

/* ---- sources and rejections ---------------------------------------------------------------- */

#define SOURCE_COLS "seq, id, company_seq, status, name, config, created_at, updated_at"

static void read_source(sqlite3_stmt *st, struct store_source *src)
{
	src->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, src->id, sizeof(src->id));
	src->company_seq = sqlite3_column_int64(st, 2);
	src->status = sqlite3_column_int(st, 3);
	src->name = col_dup(st, 4, NULL);
	src->config = col_dup(st, 5, NULL);
	src->created_at = sqlite3_column_int64(st, 6);
	src->updated_at = sqlite3_column_int64(st, 7);
}

static int row_source(struct store *s, sqlite3_stmt *st, void *out)
{
	(void)s;
	struct store_source *src = out;
	read_source(st, src);
	if (src->name && src->config)
		return 0;
	store_source_free(src);
	return GERR_NOMEM;
}

static void drop_source(void *src)
{
	store_source_free(src);
}

static const struct sq_kind source_kind = {sizeof(struct store_source), row_source, drop_source};

static int sqlite_source_insert(struct store *s, struct store_source *src, struct gerr *err)
{
	sqlite3_stmt *st = q_prepare(s, "INSERT INTO sources(id, company_seq, status, name, config,"
	                                " created_at, updated_at) VALUES(?,?,0,?,?,?,?)");
	if (!st)
		return db_error(s, err, "source_insert");
	bind_text(st, 1, src->id);
	sqlite3_bind_int64(st, 2, src->company_seq);
	bind_text(st, 3, src->name);
	bind_text(st, 4, src->config);
	sqlite3_bind_int64(st, 5, src->created_at);
	sqlite3_bind_int64(st, 6, src->updated_at);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(s, err, "source_insert");
	src->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	src->status = SRC_ACTIVE;
	return 0;
}

/* changed_one: run an UPDATE; 0 when it changed a row, GERR_NOTFOUND when
 * none, GERR_IO when it failed. */
static int changed_one(struct store *s, sqlite3_stmt *st)
{
	if (!st)
		return GERR_IO;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return GERR_IO;
	return sqlite3_changes(SQ(s)->db) > 0 ? 0 : GERR_NOTFOUND;
}

static int sqlite_source_update(struct store *s, const struct store_source *src)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE sources SET name = ?, config = ?, updated_at = ?"
	                                " WHERE seq = ? AND status != 2");
	if (st) {
		bind_text(st, 1, src->name);
		bind_text(st, 2, src->config);
		sqlite3_bind_int64(st, 3, src->updated_at);
		sqlite3_bind_int64(st, 4, src->seq);
	}
	return changed_one(s, st);
}

static int sqlite_source_delete(struct store *s, int64_t seq, int64_t now)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE sources SET status = 2, updated_at = ?"
	                                " WHERE seq = ? AND status != 2");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, seq);
	}
	return changed_one(s, st);
}

static int sqlite_source_get(struct store *s, int64_t company_seq, const char *id,
                             struct store_source *out)
{
	return sq_get(s,
	              "SELECT " SOURCE_COLS
	              " FROM sources WHERE id = ? AND company_seq = ? AND status != 2",
	              &source_kind, "source", company_seq, id, out);
}

static int sqlite_source_by_seq(struct store *s, int64_t seq, struct store_source *out)
{
	sqlite3_stmt *st =
	    q_prepare(s, "SELECT " SOURCE_COLS " FROM sources WHERE seq = ? AND status != 2");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, seq);
	return sq_one(s, st, &source_kind, "source", out);
}

static int sqlite_source_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                              struct store_source *out, int *n)
{
	return sq_page(s,
	               "SELECT " SOURCE_COLS " FROM sources WHERE company_seq = ?"
	               " AND seq < ? AND status != 2 ORDER BY seq DESC LIMIT ?",
	               &source_kind, "source_list", company_seq, before_seq, limit, out, n);
}

static int sqlite_source_each(struct store *s, void (*fn)(void *ctx, struct store_source *src),
                              void *ctx)
{
	sqlite3_stmt *st =
	    q_prepare(s, "SELECT " SOURCE_COLS " FROM sources WHERE status != 2 ORDER BY seq");
	if (!st)
		return GERR_IO;
	int rc, err = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_source src;
		read_source(st, &src);
		if (src.name && src.config)
			fn(ctx, &src);
		else
			err = GERR_NOMEM;
		store_source_free(&src);
	}
	sqlite3_finalize(st);
	int end = rows_end(s, rc, "source_each");
	return end ? end : err;
}

static int sqlite_rejection_add(struct store *s, int64_t source_seq, int64_t at,
                                const char *address, const char *reason)
{
	/* one row through the batch's own insert and trim, in its own transaction */
	struct store_rejection_in x = {source_seq, at, address, reason};
	struct store_batch b = {.rejections = &x, .nrejections = 1};
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return GERR_IO;
	if (append_rejections(s, &b) || exec_sql(SQ(s)->db, "COMMIT")) {
		log_error("store_error", "op=rejection_add err=\"%s\"", sqlite3_errmsg(SQ(s)->db));
		exec_sql(SQ(s)->db, "ROLLBACK");
		return GERR_IO;
	}
	return 0;
}

static int sqlite_rejection_list(struct store *s, int64_t source_seq, int limit,
                                 struct store_rejection *out, int *n)
{
	sqlite3_stmt *st = q_prepare(s, "SELECT seq, at, address, reason FROM rejections"
	                                " WHERE source_seq = ? ORDER BY seq DESC LIMIT ?");
	*n = 0;
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, source_seq);
	sqlite3_bind_int(st, 2, limit);
	int k = 0, rc = SQLITE_DONE;
	while (k < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out[k].seq = sqlite3_column_int64(st, 0);
		out[k].at = sqlite3_column_int64(st, 1);
		col_copy(st, 2, out[k].address, sizeof(out[k].address));
		col_copy(st, 3, out[k].reason, sizeof(out[k].reason));
		k++;
	}
	sqlite3_finalize(st);
	int err = rows_end(s, rc, "rejection_list");
	*n = err ? 0 : k;
	return err;
}

/* ---- routes ---------------------------------------------------------------------------------- */

#define ROUTE_COLS "seq, id, company_seq, source_seq, status, created_at, updated_at, config, name"

/* read_route: a row of ROUTE_COLS, then its live targets in seq order. */
static int read_route(struct store *s, sqlite3_stmt *st, void *out)
{
	struct store_route *r = out;
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, r->id, sizeof(r->id));
	r->company_seq = sqlite3_column_int64(st, 2);
	r->source_seq = sqlite3_column_int64(st, 3);
	r->status = sqlite3_column_int(st, 4);
	r->created_at = sqlite3_column_int64(st, 5);
	r->updated_at = sqlite3_column_int64(st, 6);
	r->config = col_dup(st, 7, NULL);
	col_copy(st, 8, r->name, sizeof(r->name));
	sqlite3_stmt *t = q_prepare(s, "SELECT seq FROM webhooks WHERE route_seq = ?"
	                               " AND status != 2 ORDER BY seq LIMIT ?");
	if (!t) {
		store_route_free(r);
		return GERR_IO;
	}
	sqlite3_bind_int64(t, 1, r->seq);
	sqlite3_bind_int(t, 2, STORE_ROUTE_TARGETS);
	int rc;
	while ((rc = sqlite3_step(t)) == SQLITE_ROW && r->ntargets < STORE_ROUTE_TARGETS)
		r->target_seqs[r->ntargets++] = sqlite3_column_int64(t, 0);
	sqlite3_finalize(t);
	rc = rows_end(s, rc, "route_targets");
	if (!rc && !r->config)
		rc = GERR_NOMEM;
	if (rc)
		store_route_free(r);
	return rc;
}

static void drop_route(void *r)
{
	store_route_free(r);
}

static const struct sq_kind route_kind = {sizeof(struct store_route), read_route, drop_route};

/* route_step: run an INSERT/UPDATE prepared with q_prepare; 0 or -1. */
static int route_step(sqlite3_stmt *st)
{
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_source(sqlite3_stmt *st, int i, int64_t source_seq)
{
	if (source_seq)
		sqlite3_bind_int64(st, i, source_seq);
	else
		sqlite3_bind_null(st, i);
}

/* fail_target: a removed target's open deliveries fail. */
static int fail_target(struct store *s, int64_t webhook_seq, int64_t now)
{
	sqlite3_stmt *st = q_prepare(s, "UPDATE deliveries SET status = 3,"
	                                " last_error = 'route action removed', updated_at = ?"
	                                " WHERE webhook_seq = ? AND status IN (0, 1)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, webhook_seq);
	return route_step(st);
}

static int sqlite_route_write(struct store *s, struct store_route *r, struct store_webhook *targets,
                              int ntargets, struct gerr *err)
{
	bool insert = r->seq == 0;
	uint64_t inserted = 0; /* targets given seqs by this call */
	sqlite3_stmt *st;
	if (ntargets > 64)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "too many targets");
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return db_error(s, err, "route_write");
	if (insert) {
		st = q_prepare(s, "INSERT INTO routes(id, company_seq, source_seq, name, config,"
		                  " status, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?)");
		if (st) {
			bind_text(st, 1, r->id);
			sqlite3_bind_int64(st, 2, r->company_seq);
			bind_source(st, 3, r->source_seq);
			bind_text(st, 4, r->name);
			bind_text(st, 5, r->config);
			sqlite3_bind_int(st, 6, r->status);
			sqlite3_bind_int64(st, 7, r->created_at);
			sqlite3_bind_int64(st, 8, r->updated_at);
		}
	} else {
		st = q_prepare(s, "UPDATE routes SET source_seq = ?, name = ?, config = ?,"
		                  " status = ?, updated_at = ? WHERE seq = ?");
		if (st) {
			bind_source(st, 1, r->source_seq);
			bind_text(st, 2, r->name);
			bind_text(st, 3, r->config);
			sqlite3_bind_int(st, 4, r->status);
			sqlite3_bind_int64(st, 5, r->updated_at);
			sqlite3_bind_int64(st, 6, r->seq);
		}
	}
	if (route_step(st))
		goto fail;
	if (insert)
		r->seq = sqlite3_last_insert_rowid(SQ(s)->db);
	for (int i = 0; i < ntargets; i++) {
		struct store_webhook *w = &targets[i];
		if (w->seq == 0) {
			if (sqlite_webhook_insert(s, w, NULL))
				goto fail;
			inserted |= 1ULL << i;
			st = q_prepare(s, "UPDATE webhooks SET route_seq = ? WHERE seq = ?");
			if (st) {
				sqlite3_bind_int64(st, 1, r->seq);
				sqlite3_bind_int64(st, 2, w->seq);
			}
			if (route_step(st))
				goto fail;
			continue;
		}
		if (sqlite_webhook_update(s, w) ||
		    (w->status == WH_DELETED && fail_target(s, w->seq, w->updated_at)))
			goto fail;
	}
	if (fault_hit("route_write") || exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	return 0;
fail:;
	int rc = db_error(s, err, "route_write");
	exec_sql(SQ(s)->db, "ROLLBACK");
	if (insert)
		r->seq = 0;
	for (int i = 0; i < ntargets && i < 64; i++)
		if (inserted & (1ULL << i)) /* rolled back: not stored after all */
			targets[i].seq = 0;
	return rc;
}

static int sqlite_route_get(struct store *s, int64_t company_seq, const char *id,
                            struct store_route *out)
{
	return sq_get(
	    s, "SELECT " ROUTE_COLS " FROM routes WHERE id = ? AND company_seq = ? AND status != 2",
	    &route_kind, "route_get", company_seq, id, out);
}

static int sqlite_route_list(struct store *s, int64_t company_seq, int64_t before_seq, int limit,
                             struct store_route *out, int *n)
{
	return sq_page(s,
	               "SELECT " ROUTE_COLS " FROM routes WHERE company_seq = ?"
	               " AND seq < ? AND status != 2 ORDER BY seq DESC LIMIT ?",
	               &route_kind, "route_list", company_seq, before_seq, limit, out, n);
}

static int sqlite_route_each(struct store *s, void (*fn)(void *ctx, struct store_route *r),
                             void *ctx)
{
	sqlite3_stmt *st =
	    q_prepare(s, "SELECT " ROUTE_COLS " FROM routes WHERE status != 2 ORDER BY seq");
	if (!st)
		return GERR_IO;
	int rc, err = 0;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_route r;
		if ((err = read_route(s, st, &r)))
			break;
		fn(ctx, &r);
		store_route_free(&r);
	}
	sqlite3_finalize(st);
	return err ? err : rows_end(s, rc, "route_each");
}

/* ---- connections ----------------------------------------------------------------------------- */

#define CONNECTION_COLS "seq, id, company_seq, name, kind, config, status, created_at, updated_at"

/* A target that uses connection ?2 of company ?1 (store.h): a live webhook
 * row of a route whose config names it. A config that is not JSON (never
 * written by gancho) names nothing rather than failing the statement. */
#define USES_CONNECTION                                                                            \
	"w.company_seq = ?1 AND w.route_seq IS NOT NULL AND w.status != 2 AND"                     \
	" (CASE WHEN json_valid(w.config) THEN json_extract(w.config, '$.connectionId') END) = ?2"

/* read_connection: the row into out (a struct store_connection);
 * GERR_NOMEM (and nothing kept) when a copy failed. */
static int read_connection(struct store *s, sqlite3_stmt *st, void *out)
{
	struct store_connection *c = out;
	(void)s;
	memset(c, 0, sizeof(*c));
	c->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, c->id, sizeof(c->id));
	c->company_seq = sqlite3_column_int64(st, 2);
	c->name = col_dup(st, 3, NULL);
	col_copy(st, 4, c->kind, sizeof(c->kind));
	c->config = col_dup(st, 5, NULL);
	c->status = sqlite3_column_int(st, 6);
	c->created_at = sqlite3_column_int64(st, 7);
	c->updated_at = sqlite3_column_int64(st, 8);
	if (c->name && c->config)
		return 0;
	store_connection_free(c);
	return GERR_NOMEM;
}

static void drop_connection(void *c)
{
	store_connection_free(c);
}

static const struct sq_kind connection_kind = {sizeof(struct store_connection), read_connection,
                                               drop_connection};

/* connection_used: fill err (409) when a live route's target uses
 * connection c, or (deleting it) a live reconciliation does, which reads the
 * connection when it runs and so follows any other change; 0 when none
 * does, GERR_IO when the read failed. */
static int connection_used(struct store *s, const struct store_connection *c, bool del,
                           struct gerr *err)
{
	sqlite3_stmt *st = q_prepare(
	    s, "SELECT * FROM (SELECT 'route', r.id, r.name FROM webhooks w JOIN routes r"
	       " ON r.seq = w.route_seq WHERE " USES_CONNECTION " AND r.status != 2"
	       " ORDER BY r.seq LIMIT 1) UNION ALL SELECT * FROM (SELECT 'reconciliation', id, name"
	       " FROM reconciliations WHERE ?3 AND company_seq = ?1 AND status != 2"
	       " AND json_valid(config) AND json_extract(config, '$.connectionId') = ?2"
	       " ORDER BY seq LIMIT 1) LIMIT 1");
	if (!st)
		return db_error(s, err, "connection_used");
	sqlite3_bind_int64(st, 1, c->company_seq);
	bind_text(st, 2, c->id);
	sqlite3_bind_int(st, 3, del);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char what[16], rid[40], rname[257];
		col_copy(st, 0, what, sizeof(what));
		col_copy(st, 1, rid, sizeof(rid));
		col_copy(st, 2, rname, sizeof(rname));
		sqlite3_finalize(st);
		return store_connection_refusal(c->id, what, rid, rname, err);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, err, "connection_used");
}

/* retarget: the new authorization into every target that uses c; their
 * seqs appended to *seqs (capacity *cap, count *n). 0 or GERR_IO/GERR_NOMEM. */
static int retarget(struct store *s, const struct store_connection *c, const char *authorization,
                    int64_t **seqs, int *cap, int *n)
{
	sqlite3_stmt *st =
	    q_prepare(s, "UPDATE webhooks AS w SET config = json_set(w.config, '$.authorization',"
	                 " json(?3)), updated_at = ?4 WHERE " USES_CONNECTION " RETURNING seq");
	if (!st)
		return GERR_IO;
	sqlite3_bind_int64(st, 1, c->company_seq);
	bind_text(st, 2, c->id);
	bind_text(st, 3, authorization);
	sqlite3_bind_int64(st, 4, c->updated_at);
	int rc, err = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!array_reserve((void **)seqs, cap, *n + 1, sizeof(**seqs), 16)) {
			err = GERR_NOMEM;
			break;
		}
		(*seqs)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!err && rc != SQLITE_DONE)
		err = GERR_IO;
	return err;
}

static int sqlite_connection_write(struct store *s, struct store_connection *c, bool exclusive,
                                   const char *authorization, int64_t **retargeted,
                                   int *nretargeted, struct gerr *err)
{
	bool insert = c->seq == 0, del = !insert && c->status == CONN_DELETED;
	int64_t *seqs = NULL;
	int cap = 0, n = 0, rc = 0;
	sqlite3_stmt *st;
	if (retargeted)
		*retargeted = NULL;
	if (nretargeted)
		*nretargeted = 0;
	if (exec_sql(SQ(s)->db, "BEGIN IMMEDIATE"))
		return db_error(s, err, "connection_write");
	if (insert) {
		st = q_prepare(
		    s, "INSERT INTO connections(id, company_seq, name, kind, config, status,"
		       " created_at, updated_at) VALUES(?,?,?,?,?,0,?,?)");
		if (st) {
			bind_text(st, 1, c->id);
			sqlite3_bind_int64(st, 2, c->company_seq);
			bind_text(st, 3, c->name);
			bind_text(st, 4, c->kind);
			bind_text(st, 5, c->config);
			sqlite3_bind_int64(st, 6, c->created_at);
			sqlite3_bind_int64(st, 7, c->updated_at);
		}
		if (route_step(st))
			goto fail;
		c->seq = sqlite3_last_insert_rowid(SQ(s)->db);
		c->status = CONN_ACTIVE;
	} else {
		if (del)
			st = q_prepare(s, "UPDATE connections SET status = 2, updated_at = ?3"
			                  " WHERE seq = ?4 AND status != 2");
		else
			st = q_prepare(s, "UPDATE connections SET name = ?1, config = ?2,"
			                  " updated_at = ?3 WHERE seq = ?4 AND status != 2");
		if (st) {
			if (!del) {
				bind_text(st, 1, c->name);
				bind_text(st, 2, c->config);
			}
			sqlite3_bind_int64(st, 3, c->updated_at);
			sqlite3_bind_int64(st, 4, c->seq);
		}
		if ((rc = changed_one(s, st)) == GERR_IO)
			goto fail;
		if (rc) { /* GERR_NOTFOUND: nothing to change */
			exec_sql(SQ(s)->db, "ROLLBACK");
			return rc;
		}
		if ((exclusive || del) && (rc = connection_used(s, c, del, err))) {
			exec_sql(SQ(s)->db, "ROLLBACK");
			return rc;
		}
		if (!del && authorization &&
		    (rc = retarget(s, c, authorization, &seqs, &cap, &n)) == GERR_NOMEM) {
			exec_sql(SQ(s)->db, "ROLLBACK");
			free(seqs);
			return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
		}
		if (rc)
			goto fail;
	}
	if (fault_hit("connection_write") || exec_sql(SQ(s)->db, "COMMIT"))
		goto fail;
	if (retargeted)
		*retargeted = seqs;
	else
		free(seqs);
	if (nretargeted)
		*nretargeted = n;
	return 0;
fail:
	rc = db_error(s, err, "connection_write");
	exec_sql(SQ(s)->db, "ROLLBACK");
	free(seqs);
	if (insert) {
		c->seq = 0;
		c->status = 0;
	}
	return rc;
}

static int sqlite_connection_get(struct store *s, int64_t company_seq, const char *id,
                                 struct store_connection *out)
{
	return sq_get(s,
	              "SELECT " CONNECTION_COLS
	              " FROM connections WHERE id = ? AND company_seq = ? AND status != 2",
	              &connection_kind, "connection_get", company_seq, id, out);
}

static int sqlite_connection_list(struct store *s, int64_t company_seq, int64_t before_seq,
                                  int limit, struct store_connection *out, int *n)
{
	return sq_page(s,
	               "SELECT " CONNECTION_COLS " FROM connections WHERE company_seq = ?"
	               " AND seq < ? AND status != 2 ORDER BY seq DESC LIMIT ?",
	               &connection_kind, "connection_list", company_seq, before_seq, limit, out, n);
}

/* The table: sqlite_<op> for every operation of STORE_OPS (backend.h). */
#define SQLITE_STORE_OP(ret, op, params, args) .op = sqlite_##op,
static const struct store_ops sqlite_ops = {
    .name = "sqlite", .close = sqlite_close, STORE_OPS(SQLITE_STORE_OP)};
#undef SQLITE_STORE_OP
