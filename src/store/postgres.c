/*
 * postgres: the shared store (see store.h), one PostgreSQL database that
 * several gancho nodes use at once.
 *
 * Same tables and the same semantics as sqlite.c, plus what a cluster needs:
 * deliveries.owner (the node that may send an open delivery), deliveries.lane
 * (its FIFO lane), lanes (lane → owning node) and nodes (id → heartbeat).
 * Event and attempt bodies are BYTEA so they come back byte for byte.
 *
 * Durability: a COMMIT returns after the WAL is flushed (synchronous_commit
 * on, the default); the committer batches many events into one transaction
 * so they share that flush, as with SQLite.
 *
 * The batch commit is a handful of round trips however large the batch: rows
 * go in as arrays (binary format, so bytea needs no escaping) through unnest(),
 * events and deliveries in one statement, outcomes and attempts in one each,
 * instead of one statement per row (a round trip costs ~30-50 µs over
 * loopback).
 *
 * Consecutive delivery seqs: store.h promises that an event's deliveries
 * have consecutive seqs (first_delivery, then the rest). A sequence does not
 * promise that across concurrent transactions, so a commit that inserts takes
 * pg_advisory_xact_lock(LOCK_INSERTS) first: inserting batches run one at a
 * time in the whole cluster, and under that lock the commit reserves a block
 * of delivery seqs (nextval, then setval to the block's end) and inserts them
 * with explicit seqs. Holding the lock until COMMIT has a second use: seqs
 * become visible in order, so a keyset walk by seq never passes over a row
 * that a slower transaction commits later. Batches that only record outcomes
 * do not take the lock.
 *
 * Duplicates: under that lock no other transaction inserts events, so one
 * probe of the unique indexes for the whole batch (plus a hash of the batch
 * itself for repeats within it) decides which events are new, and they go in
 * with a plain INSERT: ON CONFLICT DO NOTHING with RETURNING costs about twice
 * the probe. The unique indexes stay as the last word.
 *
 * Ownership: a committing node owns the deliveries it inserts, except that a
 * delivery of a FIFO lane belongs to the lane's owner (the first node to insert
 * into the lane, recorded in lanes) and a held delivery belongs to nobody until
 * released. Within a lane the owned open deliveries come before the unowned
 * ones: a claim takes a lane's head in seq order, as much as fits, and a commit
 * that finds unowned deliveries in a lane queues new ones behind them, unowned.
 * Deliveries given to another node are announced with NOTIFY
 * ("own <node> <seq>…", delivered at COMMIT). Rows that decide ownership are
 * locked for the transaction (FOR KEY SHARE on the node, FOR SHARE on lanes) so
 * a concurrent reap cannot leave a delivery owned by a node that no longer
 * exists: the reaper deletes nodes, then lanes (waiting for those locks), then
 * frees deliveries in a later statement that sees what was committed.
 *
 * Statements of the hot path are prepared once per connection, lazily, and
 * again after a reconnect; management calls use one-off PQexecParams (one
 * round trip either way). Each call first looks whether its idle connection
 * was closed by the server (a restart): then, or when the connection is lost
 * during the call, it tries one PQreset; while the server is down calls fail
 * with GERR_IO / 503
 * "unavailable". Read-only statements outside a transaction are retried once
 * after a successful reset; writes are not, since they may have committed.
 *
 * Notifications have a connection of their own, opened by store_listen_fd,
 * that only LISTENs on channel "gancho": on a connection that also runs
 * queries libpq reads notifications along with results and the socket never
 * becomes readable for them. The fd handed out is an epoll set of that socket
 * and an eventfd, so it stays the same across reconnects; when the listening
 * connection comes back after a loss, the caller is woken with what it may
 * have missed: "work", and "own <node> <seq>…" for the open lane deliveries
 * this node owns (readers skip those they hold).
 *
 * Schema changes are numbered migrations applied at open in one transaction
 * guarded by pg_advisory_xact_lock(LOCK_MIGRATE), so nodes starting together
 * do not race; meta.schema_version records the last one applied.
 */
#ifdef GANCHO_HAVE_POSTGRES /* built without libpq, this file is empty */

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "store/backend.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/utf8.h"
#include "util/uuid.h"

/* Advisory lock keys ("gancho" + a byte): one for migrations, one for inserts. */
#define LOCK_MIGRATE 0x67616e63686f01LL
#define LOCK_INSERTS 0x67616e63686f02LL

/* Type OIDs for binary array parameters (pg_type.h is a server header). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT4 = 23, OID_TEXT = 25 };

/* NOTIFY payloads must stay under 8000 bytes; "own" lists are cut well below,
 * and at NOTE_SEQS seqs (what a reader parses of one). */
#define NOTE_MAX  7000
#define NOTE_SEQS 200

/* How many FIFO lanes one store_claim looks at. */
#define CLAIM_LANES 32

static const char *const migrations[] = {
    /* 1: the initial schema (sqlite.c's, plus ownership for several nodes) */
    "CREATE TABLE companies(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL UNIQUE, event_types TEXT NOT NULL DEFAULT '[]',"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE tokens(hash TEXT PRIMARY KEY, company_seq BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE webhooks(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, status INTEGER NOT NULL, fail_since BIGINT NOT NULL DEFAULT 0,"
    " config TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX webhooks_company ON webhooks(company_seq, seq);"
    "CREATE TABLE events(seq BIGSERIAL PRIMARY KEY, company_seq BIGINT NOT NULL, id TEXT NOT NULL,"
    " idem_key TEXT, event TEXT NOT NULL, date_ms BIGINT NOT NULL, unit TEXT, data BYTEA NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX events_id ON events(company_seq, id);"
    "CREATE UNIQUE INDEX events_idem ON events(company_seq, idem_key) WHERE idem_key IS NOT NULL;"
    "CREATE INDEX events_date ON events(company_seq, date_ms);"
    "CREATE TABLE deliveries(seq BIGSERIAL PRIMARY KEY, event_seq BIGINT NOT NULL,"
    " webhook_seq BIGINT NOT NULL, company_seq BIGINT NOT NULL, status INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,"
    " first_attempt_at BIGINT NOT NULL DEFAULT 0, last_http_status INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT, okey TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " owner TEXT, lane TEXT);"
    "CREATE INDEX deliveries_open ON deliveries(seq) WHERE status = 0;"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_seq, seq);"
    "CREATE INDEX deliveries_company ON deliveries(company_seq, seq);"
    "CREATE INDEX deliveries_unowned ON deliveries(next_at, seq)"
    " WHERE status = 0 AND owner IS NULL;"
    "CREATE INDEX deliveries_owner ON deliveries(owner) WHERE status = 0;"
    "CREATE INDEX deliveries_lane ON deliveries(lane, seq) WHERE status = 0 AND lane IS NOT NULL;"
    "CREATE TABLE attempts(seq BIGSERIAL PRIMARY KEY, delivery_seq BIGINT NOT NULL,"
    " at BIGINT NOT NULL, http_status INTEGER NOT NULL, latency_ms INTEGER NOT NULL,"
    " error TEXT, response BYTEA);"
    "CREATE INDEX attempts_delivery ON attempts(delivery_seq, seq);"
    "CREATE TABLE opevents(seq BIGSERIAL PRIMARY KEY, company_seq BIGINT NOT NULL,"
    " at BIGINT NOT NULL, kind TEXT NOT NULL, webhook_seq BIGINT, message TEXT NOT NULL);"
    "CREATE INDEX opevents_company ON opevents(company_seq, seq);"
    "CREATE TABLE lanes(lane TEXT PRIMARY KEY, owner TEXT NOT NULL);"
    "CREATE INDEX lanes_owner ON lanes(owner);"
    "CREATE TABLE nodes(id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL);",
    /* 2: sources (receiving URLs) and the requests they refused */
    "CREATE TABLE sources(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,"
    " status INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX sources_company ON sources(company_seq, seq);"
    "CREATE TABLE rejections(seq BIGSERIAL PRIMARY KEY, source_seq BIGINT NOT NULL,"
    " at BIGINT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE INDEX rejections_source ON rejections(source_seq, seq);",
    /* 3: routes, and their actions' targets as webhook rows (route_seq) */
    "CREATE TABLE routes(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, source_seq BIGINT, name TEXT NOT NULL,"
    " config TEXT NOT NULL, status INTEGER NOT NULL, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX routes_company ON routes(company_seq, seq);"
    "ALTER TABLE webhooks ADD COLUMN route_seq BIGINT;"
    "CREATE INDEX webhooks_route ON webhooks(route_seq, seq) WHERE route_seq IS NOT NULL;",
    /* 4: a delivery may send a stored request (an inbound action's rendered
     * request) instead of its event's envelope */
    "CREATE TABLE requests(seq BIGSERIAL PRIMARY KEY, method TEXT NOT NULL, url TEXT NOT NULL,"
    " headers TEXT NOT NULL, body BYTEA NOT NULL);"
    "ALTER TABLE deliveries ADD COLUMN request_seq BIGINT;",
    /* 5: receipts and entities (sqlite.c's migration 7) */
    "CREATE TABLE receipts(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, source_seq BIGINT NOT NULL, msg_id TEXT NOT NULL,"
    " event TEXT NOT NULL, date TEXT NOT NULL, date_us BIGINT NOT NULL,"
    " date_ns INTEGER NOT NULL, entity_type TEXT, entity_key TEXT,"
    " kept TEXT NOT NULL DEFAULT '{}', body BYTEA NOT NULL, headers TEXT NOT NULL,"
    " verification TEXT NOT NULL, address TEXT NOT NULL, status INTEGER NOT NULL,"
    " duplicates INTEGER NOT NULL DEFAULT 0, apply_at BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX receipts_msg ON receipts(source_seq, msg_id);"
    "CREATE INDEX receipts_company ON receipts(company_seq, seq);"
    "CREATE INDEX receipts_waiting ON receipts(apply_at, seq) WHERE status = 0;"
    "CREATE INDEX receipts_entity_waiting ON receipts(company_seq, entity_type, entity_key,"
    " date_us, date_ns, seq) WHERE status = 0;"
    "CREATE TABLE entities(company_seq BIGINT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL,"
    " date_us BIGINT NOT NULL, date_ns INTEGER NOT NULL, kept TEXT NOT NULL,"
    " receipt_seq BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " PRIMARY KEY(company_seq, type, key));"
    "ALTER TABLE deliveries ADD COLUMN receipt_seq BIGINT;"
    "CREATE INDEX deliveries_receipt ON deliveries(receipt_seq, seq)"
    " WHERE receipt_seq IS NOT NULL;",
    /* 6: a forward's request sends its receipt's body, stored once (sqlite.c's 8) */
    "ALTER TABLE requests ADD COLUMN body_receipt BIGINT;",
    /* 7: connections (sqlite.c's 9) */
    "CREATE TABLE connections(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
    " config TEXT NOT NULL, status INTEGER NOT NULL, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX connections_company ON connections(company_seq, seq);",
    /* 8: reconciliations and their runs (sqlite.c's 11; a receipt's origin is
     * its verification, as there) */
    "CREATE TABLE reconciliations(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " company_seq BIGINT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,"
    " status INTEGER NOT NULL, next_run_at BIGINT NOT NULL, lease_node TEXT,"
    " lease_until BIGINT NOT NULL DEFAULT 0, pending_run TEXT,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX reconciliations_company ON reconciliations(company_seq, seq);"
    "CREATE INDEX reconciliations_due ON reconciliations(next_run_at, seq) WHERE status = 0;"
    "CREATE TABLE reconciliation_runs(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " reconciliation_seq BIGINT NOT NULL, node TEXT, state INTEGER NOT NULL,"
    " requested_at BIGINT NOT NULL, started_at BIGINT NOT NULL DEFAULT 0,"
    " ended_at BIGINT NOT NULL DEFAULT 0, pages BIGINT NOT NULL DEFAULT 0,"
    " jobs BIGINT NOT NULL DEFAULT 0, seen BIGINT NOT NULL DEFAULT 0,"
    " receipts BIGINT NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]');"
    "CREATE INDEX reconciliation_runs_of ON reconciliation_runs(reconciliation_seq, seq);",
};

#define TASK_COLS                                                                                  \
	"seq, event_seq, webhook_seq, next_at, first_attempt_at, attempts, okey, request_seq"
/* The columns of a receipt, in the order read_receipt reads them. */
#define RECEIPT_COLS                                                                               \
	"seq, id, company_seq, source_seq, msg_id, event, date, date_us, date_ns, entity_type, "   \
	"entity_key, kept, body, headers, verification, address, status, duplicates, apply_at, "   \
	"created_at, updated_at"

enum stmt_id {
	ST_LOCK_INSERTS,
	ST_NODE_LIVE,
	ST_EVENTS_SEEN,
	ST_LANES_INSERT,
	ST_LANES_GET,
	ST_REQUESTS_INSERT,
	ST_INSERT,
	ST_OUTCOMES_UPDATE,
	ST_ATTEMPTS_INSERT,
	ST_WEBHOOK_STREAK,
	ST_WEBHOOK_DEACTIVATE,
	ST_NOTIFY_MANY,
	ST_NOTIFY,
	ST_OPEN_AFTER,
	ST_OPEN_WEBHOOK,
	ST_EVENT_LOAD,
	ST_REQUEST_LOAD,
	ST_CLAIM_LANES,
	ST_LANE_TAKE,
	ST_LANE_MINE,
	ST_LANE_GIVE,
	ST_CLAIM_FREE,
	ST_LOAD_OWNED,
	ST_NODE_BEAT,
	ST_RECEIPTS_PROBE,
	ST_RECEIPTS_INSERT,
	ST_RECEIPTS_DUP,
	ST_RECEIPT_FIND,
	ST_RECEIPT_STATUS,
	ST_RECEIPT_DUE,
	ST_RECEIPT_ENTITY_WAITING,
	ST_ENTITY_GET,
	ST_ENTITY_PUT,
	ST_ENTITIES_GET,
	ST_ENTITIES_PUT,
	ST_COUNT
};

struct stmt {
	const char *sql;
	bool binary;   /* results in binary format (rows carry bytea) */
	bool readonly; /* safe to run again after a reconnect */
};

/* Every parameter carries a cast so the server infers its type at PREPARE. */
static const struct stmt stmts[ST_COUNT] = {
    /* One inserting batch at a time, and is the committing node alive? FOR KEY
     * SHARE: a reaper's DELETE of the node waits for us; its own heartbeat
     * UPDATE does not. */
    [ST_LOCK_INSERTS] = {"SELECT pg_advisory_xact_lock($1::int8), EXISTS (SELECT 1 FROM nodes"
                         " WHERE id = $2::text FOR KEY SHARE)"},
    [ST_NODE_LIVE] = {"SELECT 1 FROM nodes WHERE id = $1::text FOR KEY SHARE"},
    /* Events of the batch stored before (same id or Idempotency-Key), with the
     * first call's id and date. The idem probe runs only for rows that have a
     * key. Under LOCK_INSERTS no other transaction inserts events meanwhile,
     * so this check and a plain INSERT replace ON CONFLICT, which costs more
     * than the probe. */
    [ST_EVENTS_SEEN] = {"SELECT t.i, e.id, e.date_ms FROM unnest($1::int4[], $2::int8[],"
                        " $3::text[], $4::text[]) AS t(i, company_seq, id, idem_key)"
                        " CROSS JOIN LATERAL (SELECT id, date_ms FROM events"
                        " WHERE company_seq = t.company_seq AND id = t.id UNION ALL"
                        " SELECT id, date_ms FROM events WHERE t.idem_key IS NOT NULL"
                        " AND company_seq = t.company_seq AND idem_key = t.idem_key LIMIT 1) e"},
    [ST_LANES_INSERT] = {"INSERT INTO lanes(lane, owner) SELECT l, $2::text"
                         " FROM unnest($1::text[]) AS l ON CONFLICT (lane) DO NOTHING"},
    /* FOR SHARE: nobody re-assigns or deletes these lanes until we commit.
     * The third column: the lane has unowned open deliveries (a claim took
     * only its head), so new ones must queue behind them, unowned too. */
    [ST_LANES_GET] = {"SELECT l.lane, l.owner, EXISTS (SELECT 1 FROM deliveries d"
                      " WHERE d.lane = l.lane AND d.status = 0 AND d.owner IS NULL)"
                      " FROM lanes l WHERE l.lane = ANY($1::text[]) FOR SHARE OF l"},
    /* Events and deliveries in one statement. Each table's seqs are reserved
     * as a block (nextval, then setval to its end: safe under LOCK_INSERTS) and
     * given in input order, so the caller knows every seq from the two bases
     * returned. A delivery names its event by seq (> 0) or, for an event of
     * this statement, by minus its position among the events. */
    /* The batch's stored requests, their seqs reserved as a block like
     * ST_INSERT's (safe under LOCK_INSERTS): the first is base + 1. */
    [ST_REQUESTS_INSERT] =
        {"WITH rq AS (SELECT setval('requests_seq_seq', nextval('requests_seq_seq') + $1::int8"
         " - 1) - $1::int8 AS base), ir AS (INSERT INTO requests(seq, method, url, headers,"
         " body, body_receipt) SELECT rq.base + t.ord, t.method, t.url, t.headers, t.body,"
         " NULLIF(t.body_receipt, 0) FROM rq, unnest($2::text[], $3::text[], $4::text[],"
         " $5::bytea[], $6::int8[]) WITH ORDINALITY AS"
         " t(method, url, headers, body, body_receipt, ord)) SELECT base FROM rq"},
    [ST_INSERT] =
        {"WITH re AS (SELECT CASE WHEN $1::int8 > 0 THEN setval('events_seq_seq',"
         " nextval('events_seq_seq') + $1::int8 - 1) - $1::int8 ELSE 0 END AS base),"
         " rd AS (SELECT CASE WHEN $2::int8 > 0 THEN setval('deliveries_seq_seq',"
         " nextval('deliveries_seq_seq') + $2::int8 - 1) - $2::int8 ELSE 0 END AS base),"
         " ie AS (INSERT INTO events(seq, company_seq, id, idem_key, event, date_ms, unit, data,"
         " created_at) SELECT re.base + t.ord, t.company_seq, t.id, t.idem_key, t.event,"
         " t.date_ms, t.unit, t.data, $3::int8 FROM re, unnest($4::int8[], $5::text[],"
         " $6::text[], $7::text[], $8::int8[], $9::text[], $10::bytea[]) WITH ORDINALITY AS"
         " t(company_seq, id, idem_key, event, date_ms, unit, data, ord)),"
         " idl AS (INSERT INTO deliveries(seq, event_seq, webhook_seq, company_seq, status,"
         " next_at, okey, lane, owner, created_at, updated_at, request_seq, receipt_seq,"
         " last_error) SELECT rd.base + t.ord,"
         " CASE WHEN t.ev >= 0 THEN t.ev ELSE re.base - t.ev END, t.webhook_seq, t.company_seq,"
         " t.status, $3::int8, t.okey, t.lane, t.owner, $3::int8, $3::int8,"
         " NULLIF(t.request_seq, 0), NULLIF(t.receipt_seq, 0), t.last_error FROM re, rd,"
         " unnest($11::int8[], $12::int8[], $13::int8[], $14::int4[], $15::text[], $16::text[],"
         " $17::text[], $18::int8[], $19::int8[], $20::text[]) WITH ORDINALITY AS"
         " t(ev, webhook_seq, company_seq, status, okey, lane, owner, request_seq, receipt_seq,"
         " last_error, ord))"
         " SELECT re.base, rd.base FROM re, rd"},
    /* Only the owner may record a delivery's state: a node that was reaped
     * must not overwrite what the new owner does. Held means nobody's. Only
     * an open delivery takes it: one the API ended meanwhile (its webhook
     * deleted) stays ended; the attempt is still recorded. */
    [ST_OUTCOMES_UPDATE] =
        {"UPDATE deliveries AS d SET status = u.status, attempts = u.attempts,"
         " next_at = u.next_at, first_attempt_at = u.first_attempt_at,"
         " last_http_status = CASE WHEN u.attempted THEN u.http_status ELSE d.last_http_status"
         " END, last_error = CASE WHEN u.attempted THEN u.error ELSE d.last_error END,"
         " owner = CASE WHEN u.status = 1 THEN NULL ELSE d.owner END, updated_at = $2::int8"
         " FROM unnest($3::int8[], $4::int4[], $5::int4[], $6::int8[], $7::int8[], $8::bool[],"
         " $9::int4[], $10::text[]) AS u(seq, status, attempts, next_at, first_attempt_at,"
         " attempted, http_status, error) WHERE d.seq = u.seq AND d.owner = $1::text"
         " AND d.status IN (0, 1)"},
    [ST_ATTEMPTS_INSERT] = {"INSERT INTO attempts(delivery_seq, at, http_status, latency_ms,"
                            " error, response) SELECT delivery_seq, at, http_status, latency_ms,"
                            " error, response FROM unnest($1::int8[], $2::int8[], $3::int4[],"
                            " $4::int4[], $5::text[], $6::bytea[]) WITH ORDINALITY AS"
                            " t(delivery_seq, at, http_status, latency_ms, error, response, ord)"
                            " ORDER BY ord"},
    /* sqlite.c's two updates in one: success ends the streak, then a failure
     * starts one unless one is running. */
    [ST_WEBHOOK_STREAK] = {"UPDATE webhooks SET fail_since = CASE WHEN $3::int8 > 0 THEN"
                           " CASE WHEN $2::bool OR fail_since = 0 THEN $3::int8 ELSE fail_since"
                           " END ELSE 0 END WHERE seq = $1::int8 AND fail_since <>"
                           " CASE WHEN $3::int8 > 0 THEN CASE WHEN $2::bool OR fail_since = 0"
                           " THEN $3::int8 ELSE fail_since END ELSE 0 END"},
    [ST_WEBHOOK_DEACTIVATE] =
        {"WITH d AS (UPDATE webhooks SET status = 1, updated_at = $2::int8 WHERE seq = $1::int8"
         " AND status = 0 AND ($3::bool OR (fail_since > 0 AND fail_since <= $4::int8))"
         " RETURNING seq, company_seq), o AS (INSERT INTO opevents(company_seq, at, kind,"
         " webhook_seq, message) SELECT company_seq, $2::int8, 'webhook.deactivated', seq,"
         " $5::text FROM d RETURNING webhook_seq)"
         " SELECT pg_notify('gancho', 'webhook ' || webhook_seq) FROM o"},
    [ST_NOTIFY_MANY] = {"SELECT pg_notify('gancho', p) FROM unnest($1::text[]) AS p"},
    [ST_NOTIFY] = {"SELECT pg_notify('gancho', $1::text)"},
    [ST_OPEN_AFTER] = {"SELECT " TASK_COLS " FROM deliveries WHERE status = 0 AND seq > $1::int8"
                       " ORDER BY seq LIMIT $2::int4",
                       false, true},
    [ST_OPEN_WEBHOOK] = {"SELECT " TASK_COLS " FROM deliveries WHERE webhook_seq = $1::int8"
                         " AND seq > $2::int8 AND status = 0 ORDER BY seq LIMIT $3::int4",
                         false, true},
    [ST_EVENT_LOAD] = {"SELECT company_seq, id, event, date_ms, unit, data FROM events"
                       " WHERE seq = $1::int8",
                       true, true},
    /* -1 in body_receipt: the body of the delivery's own receipt (a shared request) */
    [ST_REQUEST_LOAD] = {"SELECT q.method, q.url, q.headers, CASE WHEN q.body_receipt IS NULL"
                         " THEN q.body ELSE r.body END, (q.body_receipt = -1)::int4 FROM requests q"
                         " LEFT JOIN receipts r ON r.seq = CASE WHEN q.body_receipt = -1 THEN"
                         " (SELECT receipt_seq FROM deliveries WHERE seq = $2::int8) ELSE"
                         " q.body_receipt END WHERE q.seq = $1::int8",
                         true, true},
    /* Lanes with unowned due work, found through a bounded walk of the
     * unowned-open index. */
    [ST_CLAIM_LANES] = {"SELECT DISTINCT lane FROM (SELECT lane FROM deliveries WHERE status = 0"
                        " AND owner IS NULL AND next_at < $1::int8 ORDER BY next_at, seq"
                        " LIMIT 1000) x WHERE lane IS NOT NULL LIMIT $2::int4"},
    /* Take a lane that is free or whose owner is no live node; either way the
     * row stays locked to the end of the transaction. No row back: another
     * transaction created the lane after our snapshot (try again later). */
    [ST_LANE_TAKE] = {"WITH up AS (INSERT INTO lanes(lane, owner) VALUES($1::text, $2::text)"
                      " ON CONFLICT (lane) DO UPDATE SET owner = EXCLUDED.owner"
                      " WHERE lanes.owner NOT IN (SELECT id FROM nodes) RETURNING owner)"
                      " SELECT owner FROM up UNION ALL SELECT owner FROM lanes"
                      " WHERE lane = $1::text AND NOT EXISTS (SELECT 1 FROM up)"},
    /* The head of the lane, in seq order, as much as the caller has room for;
     * the rest stay unowned and come with later claims, still in order. */
    [ST_LANE_MINE] = {"UPDATE deliveries SET owner = $2::text WHERE seq IN (SELECT seq FROM"
                      " deliveries WHERE lane = $1::text AND status = 0 AND (owner IS NULL OR"
                      " (owner <> $2::text AND NOT EXISTS (SELECT 1 FROM nodes"
                      " WHERE id = deliveries.owner))) ORDER BY seq LIMIT $3::int4)"
                      " RETURNING " TASK_COLS},
    [ST_LANE_GIVE] = {"UPDATE deliveries SET owner = $2::text WHERE lane = $1::text AND status = 0"
                      " AND owner IS NULL RETURNING seq"},
    [ST_CLAIM_FREE] = {"UPDATE deliveries SET owner = $1::text WHERE seq IN (SELECT seq FROM"
                       " deliveries WHERE status = 0 AND owner IS NULL AND lane IS NULL"
                       " AND next_at < $2::int8 ORDER BY next_at, seq LIMIT $3::int4"
                       " FOR UPDATE SKIP LOCKED) RETURNING " TASK_COLS},
    [ST_LOAD_OWNED] = {"SELECT " TASK_COLS " FROM deliveries WHERE seq = ANY($1::int8[])"
                       " AND owner = $2::text AND status = 0 ORDER BY seq",
                       false, true},
    [ST_NODE_BEAT] = {"UPDATE nodes SET heartbeat_at = $2::int8 WHERE id = $1::text RETURNING id"},
    /* Receipts: under LOCK_INSERTS (every batch with receipts takes it), so
     * receipts and entities are decided one batch at a time in the cluster;
     * the unique index on (source_seq, msg_id) is still the last word. A
     * batch's new receipts go in array-shaped (append_receipts): one probe
     * for the senders' ids already stored, which also draws each row's seq;
     * one read of their entities; one insert with the decided statuses;
     * one write of the entities; one count of the repeats. */
    [ST_RECEIPTS_PROBE] = {"SELECT t.ord, r.id, r.status, r.seq, nextval('receipts_seq_seq')"
                           " FROM unnest($1::int8[], $2::text[]) WITH ORDINALITY AS"
                           " t(source_seq, msg_id, ord) LEFT JOIN receipts r ON"
                           " r.source_seq = t.source_seq AND r.msg_id = t.msg_id ORDER BY t.ord"},
    [ST_RECEIPTS_INSERT] =
        {"INSERT INTO receipts(seq, id, company_seq, source_seq, msg_id, event, date, date_us,"
         " date_ns, entity_type, entity_key, kept, body, headers, verification, address, status,"
         " apply_at, created_at, updated_at) SELECT t.*, $19::int8, $19::int8 FROM"
         " unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[],"
         " $7::text[], $8::int8[], $9::int4[], $10::text[], $11::text[], $12::text[],"
         " $13::bytea[], $14::text[], $15::text[], $16::text[], $17::int4[], $18::int8[]) AS t"},
    [ST_RECEIPTS_DUP] = {"UPDATE receipts r SET duplicates = r.duplicates + u.n,"
                         " updated_at = $2::int8 FROM (SELECT seq, count(*) AS n FROM"
                         " unnest($1::int8[]) AS seq GROUP BY seq) u WHERE r.seq = u.seq"},
    [ST_RECEIPT_FIND] = {"SELECT " RECEIPT_COLS " FROM receipts WHERE seq = $1::int8", true},
    [ST_RECEIPT_STATUS] = {"UPDATE receipts SET status = $2::int4, updated_at = $3::int8"
                           " WHERE seq = $1::int8"},
    [ST_RECEIPT_DUE] = {"SELECT company_seq, entity_type, entity_key, date_us, date_ns"
                        " FROM receipts WHERE status = 0 AND apply_at < $1::int8"
                        " ORDER BY apply_at, seq LIMIT $2::int8"},
    [ST_RECEIPT_ENTITY_WAITING] = {"SELECT seq FROM receipts WHERE status = 0"
                                   " AND company_seq = $1::int8 AND entity_type = $2::text"
                                   " AND entity_key = $3::text"
                                   " AND (date_us, date_ns) <= ($4::int8, $5::int4)"
                                   " ORDER BY date_us, date_ns, seq"},
    [ST_ENTITY_GET] = {"SELECT date_us, date_ns, kept FROM entities WHERE company_seq = $1::int8"
                       " AND type = $2::text AND key = $3::text FOR UPDATE"},
    [ST_ENTITY_PUT] = {"INSERT INTO entities(company_seq, type, key, date_us, date_ns, kept,"
                       " receipt_seq, updated_at) VALUES($1::int8, $2::text, $3::text, $4::int8,"
                       " $5::int4, $6::text, $7::int8, $8::int8) ON CONFLICT (company_seq, type,"
                       " key) DO UPDATE SET date_us = excluded.date_us,"
                       " date_ns = excluded.date_ns, kept = excluded.kept,"
                       " receipt_seq = excluded.receipt_seq, updated_at = excluded.updated_at"},
    [ST_ENTITIES_GET] = {"SELECT t.ord, e.date_us, e.date_ns, e.kept FROM unnest($1::int8[],"
                         " $2::text[], $3::text[]) WITH ORDINALITY AS t(company_seq, type, key,"
                         " ord) JOIN entities e ON e.company_seq = t.company_seq"
                         " AND e.type = t.type AND e.key = t.key FOR UPDATE OF e"},
    [ST_ENTITIES_PUT] = {"INSERT INTO entities(company_seq, type, key, date_us, date_ns, kept,"
                         " receipt_seq, updated_at) SELECT t.*, $8::int8 FROM unnest($1::int8[],"
                         " $2::text[], $3::text[], $4::int8[], $5::int4[], $6::text[],"
                         " $7::int8[]) AS t ON CONFLICT (company_seq, type, key) DO UPDATE SET"
                         " date_us = excluded.date_us, date_ns = excluded.date_ns,"
                         " kept = excluded.kept, receipt_seq = excluded.receipt_seq,"
                         " updated_at = excluded.updated_at"},
};

struct pg_store {
	struct store base;
	PGconn *conn;
	bool prepared[ST_COUNT];
	bool in_tx; /* inside BEGIN … COMMIT: no retry after a reset */
	char *url;
	/* Notifications: a connection of their own that only LISTENs, so its
	 * socket is readable exactly when one arrives (on a connection that also
	 * runs queries libpq reads them along with results and the socket stays
	 * quiet). The caller gets epfd, an epoll set of that socket and evfd,
	 * which stays the same fd across reconnects; evfd wakes the caller for
	 * notifications made up here after a reconnect (pending). */
	PGconn *lconn;
	int epfd, evfd, lsock;
	int64_t lretry_at; /* monotonic ms of the next reconnect try */
	char node[128];    /* the node this store works for (last one named) */
	char **pending;
	int npending;
	char sqlstate[6];
	char errmsg[200];
};

#define PG(s) ((struct pg_store *)(s))

static const struct store_ops postgres_ops;

/* ---- parameters ------------------------------------------------------------------ */

#define PMAX 20

struct params {
	int n;
	const char *v[PMAX];
	int len[PMAX];
	int fmt[PMAX];
	char num[PMAX][24];
};

static void p_i64(struct params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void p_bool(struct params *p, bool v)
{
	p->v[p->n] = v ? "t" : "f";
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

/* p_text: NULL becomes SQL NULL. */
static void p_text(struct params *p, const char *v)
{
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

/* An array parameter in binary format (array_recv's layout):
 * ndim, flags, element type, then per dimension its size and lower bound, then
 * per element a length (-1 = NULL) and the bytes, all integers big-endian. */
struct pgarr {
	struct buf b;
	int n;
};

static void put32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};
	buf_append(b, x, 4);
}

static void set32(char *at, uint32_t v)
{
	at[0] = (char)(v >> 24);
	at[1] = (char)(v >> 16);
	at[2] = (char)(v >> 8);
	at[3] = (char)v;
}

static void arr_init(struct pgarr *a, uint32_t oid)
{
	buf_init(&a->b);
	a->n = 0;
	put32(&a->b, 1);
	put32(&a->b, 0);
	put32(&a->b, oid);
	put32(&a->b, 0); /* size, set by arr_param */
	put32(&a->b, 1);
}

static void arr_elem(struct pgarr *a, const void *p, size_t len)
{
	put32(&a->b, p ? (uint32_t)len : 0xffffffffu);
	if (p && len)
		buf_append(&a->b, p, len);
	a->n++;
}

static void arr_i64(struct pgarr *a, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(u >> (56 - 8 * i));
	arr_elem(a, x, 8);
}

static void arr_i32(struct pgarr *a, int32_t v)
{
	unsigned char x[4];
	uint32_t u = (uint32_t)v;
	for (int i = 0; i < 4; i++)
		x[i] = (unsigned char)(u >> (24 - 8 * i));
	arr_elem(a, x, 4);
}

static void arr_bool(struct pgarr *a, bool v)
{
	unsigned char x = v ? 1 : 0;
	arr_elem(a, &x, 1);
}

static void arr_text(struct pgarr *a, const char *s)
{
	arr_elem(a, s, s ? strlen(s) : 0);
}

/* arr_param finishes the array and adds it as the next parameter; false when
 * memory ran out while building it. */
static bool arr_param(struct params *p, struct pgarr *a)
{
	if (a->b.oom || !a->b.data)
		return false;
	if (a->n == 0) {
		set32(a->b.data, 0); /* no dimensions: '{}' */
		a->b.len = 12;
	} else {
		set32(a->b.data + 12, (uint32_t)a->n);
	}
	p->v[p->n] = a->b.data;
	p->len[p->n] = (int)a->b.len;
	p->fmt[p->n++] = 1;
	return true;
}

static void arr_free(struct pgarr *a, int n)
{
	for (int i = 0; i < n; i++)
		buf_free(&a[i].b);
}

/* ---- results ---------------------------------------------------------------------- */

/* col_i64 reads an integer column in either result format. */
static int64_t col_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	const char *v = PQgetvalue(r, row, col);
	if (PQfformat(r, col) == 0)
		return strtoll(v, NULL, 10);
	int len = PQgetlength(r, row, col);
	uint64_t x = 0;
	for (int i = 0; i < len; i++)
		x = x << 8 | (unsigned char)v[i];
	if (len == 2)
		return (int16_t)x;
	if (len == 4)
		return (int32_t)x;
	return (int64_t)x;
}

static void col_copy(const PGresult *r, int row, int col, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.*s", PQgetlength(r, row, col), PQgetvalue(r, row, col));
}

/* col_dup: a malloc'd, NUL-terminated copy of a text or bytea column (NULL
 * stays NULL). Bytea should come in binary format; text format is unescaped. */
static char *col_dup(const PGresult *r, int row, int col, size_t *len)
{
	if (len)
		*len = 0;
	if (PQgetisnull(r, row, col))
		return NULL;
	const char *v = PQgetvalue(r, row, col);
	size_t n = (size_t)PQgetlength(r, row, col);
	unsigned char *raw = NULL;
	if (PQftype(r, col) == OID_BYTEA && PQfformat(r, col) == 0) {
		raw = PQunescapeBytea((const unsigned char *)v, &n);
		if (!raw)
			return NULL;
		v = (const char *)raw;
	}
	char *out = malloc(n + 1);
	if (out) {
		if (n)
			memcpy(out, v, n);
		out[n] = '\0';
		if (len)
			*len = n;
	}
	PQfreemem(raw);
	return out;
}

/* ---- the connection ------------------------------------------------------------------- */

static void note_error(struct pg_store *s, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", st ? st : "");
	const char *m = r ? PQresultErrorMessage(r) : NULL;
	if (!m || !*m)
		m = PQerrorMessage(s->conn);
	/* libpq may quote the part of the URL it could not parse: no password. */
	redact_scrub(m && *m ? m : "unknown error", s->url, s->errmsg, sizeof(s->errmsg));
	/* libpq's messages span lines and quote names; a logfmt value may not. */
	char *o = s->errmsg;
	for (const char *c = s->errmsg; *c; c++) {
		char ch = *c == '"' ? '\'' : (*c == '\n' || *c == '\t') ? ' ' : *c;
		if (ch != ' ' || (o > s->errmsg && o[-1] != ' '))
			*o++ = ch;
	}
	while (o > s->errmsg && o[-1] == ' ')
		o--;
	*o = '\0';
}

static int db_error(struct pg_store *s, struct gerr *err, const char *what)
{
	log_error("store_error", "op=%s err=\"%s\"", what, s->errmsg);
	return gerr_set(err, GERR_IO, 503, "unavailable", "storage error (%s): %s", what,
	                s->errmsg);
}

/* quiet: server NOTICEs ("relation exists, skipping") are not worth a line. */
static void quiet(void *arg, const char *message)
{
	(void)arg, (void)message;
}

/* session: what every (re)connection needs before use. */
static int session(struct pg_store *s)
{
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	memset(s->prepared, 0, sizeof(s->prepared));
	s->in_tx = false;
	if (PQsetClientEncoding(s->conn, "UTF8") != 0)
		return -1;
	/* Statements are prepared once per connection, often while the tables
	 * are still empty; a generic plan made then (a sequential scan joined to
	 * the batch's arrays) would stay cached as the tables grow. Plan each
	 * execution with its real parameters instead: a batch pays ~0.1 ms of
	 * planning, not a scan of every delivery. */
	PGresult *r = PQexec(s->conn, "SET plan_cache_mode = force_custom_plan");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : -1;
}

static int reconnect(struct pg_store *s)
{
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK || session(s)) {
		note_error(s, NULL);
		log_warn("store_reconnect_failed", "err=\"%s\"", s->errmsg);
		return -1;
	}
	log_info("store_reconnected", "backend=%s", "postgres");
	return 0;
}

/* ensure: a usable connection for this call (one PQreset when it was lost). */
static void relisten(struct pg_store *s);

/* remember_node: the node id this store works for, for made-up "own" lists. */
static void remember_node(struct pg_store *s, const char *node)
{
	if (node && strcmp(s->node, node) != 0)
		snprintf(s->node, sizeof(s->node), "%s", node);
}

static int ensure(struct pg_store *s)
{
	if (s->epfd >= 0 && (!s->lconn || PQstatus(s->lconn) != CONNECTION_OK) &&
	    clock_mono_ms() >= s->lretry_at)
		relisten(s);
	/* An idle connection has nothing to read unless the server said goodbye
	 * (a restart, a terminated backend): find out now, before a write is sent
	 * into a dead connection and must fail, not being safe to repeat. */
	struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
	for (int i = 0; i < 4 && PQstatus(s->conn) == CONNECTION_OK && poll(&pfd, 1, 0) > 0; i++)
		PQconsumeInput(s->conn); /* the FATAL message first, then the EOF */
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	return reconnect(s);
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType t = PQresultStatus(r);
	return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
}

/* after_failure: reconnect right away when the failure was the connection's,
 * so that the next call starts clean; true when the statement may be retried. */
static bool after_failure(struct pg_store *s, const PGresult *r, bool readonly)
{
	note_error(s, r);
	if (PQstatus(s->conn) == CONNECTION_OK)
		return false;
	bool was_tx = s->in_tx;
	return reconnect(s) == 0 && readonly && !was_tx;
}

static int prepare(struct pg_store *s, int id)
{
	char name[16];
	snprintf(name, sizeof(name), "g%d", id);
	PGresult *r = PQprepare(s->conn, name, stmts[id].sql, 0, NULL);
	bool ok = result_ok(r);
	if (!ok) {
		note_error(s, r);
		log_error("store_prepare_failed", "stmt=%d err=\"%s\"", id, s->errmsg);
	}
	PQclear(r);
	if (ok)
		s->prepared[id] = true;
	return ok ? 0 : -1;
}

/* run: execute prepared statement id; the result (caller PQclears) or NULL. */
static PGresult *run(struct pg_store *s, int id, const struct params *p)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!s->in_tx && ensure(s))
			return NULL;
		if (!s->prepared[id] && prepare(s, id)) {
			if (after_failure(s, NULL, stmts[id].readonly))
				continue;
			return NULL;
		}
		char name[16];
		snprintf(name, sizeof(name), "g%d", id);
		PGresult *r =
		    PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
		                   p ? p->fmt : NULL, stmts[id].binary ? 1 : 0);
		if (result_ok(r))
			return r;
		bool again = after_failure(s, r, stmts[id].readonly);
		PQclear(r);
		if (!again)
			return NULL;
	}
	return NULL;
}

/* q: a one-off statement (management calls); binary for rows with bytea. */
static PGresult *q(struct pg_store *s, const char *sql, const struct params *p, bool binary,
                   bool readonly)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!s->in_tx && ensure(s))
			return NULL;
		PGresult *r = PQexecParams(s->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
		                           p ? p->len : NULL, p ? p->fmt : NULL, binary ? 1 : 0);
		if (result_ok(r))
			return r;
		bool again = after_failure(s, r, readonly);
		PQclear(r);
		if (!again)
			return NULL;
	}
	return NULL;
}

/* exec_ok: run a statement for its effect only. */
static int exec_ok(PGresult *r)
{
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

static int tx_begin(struct pg_store *s)
{
	if (ensure(s))
		return -1;
	PGresult *r = PQexec(s->conn, "BEGIN");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		after_failure(s, r, false);
	PQclear(r);
	s->in_tx = ok;
	return ok ? 0 : -1;
}

static int tx_commit(struct pg_store *s)
{
	PGresult *r = PQexec(s->conn, "COMMIT");
	/* A COMMIT of a failed transaction "succeeds" as ROLLBACK. */
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (!ok)
		note_error(s, r);
	PQclear(r);
	s->in_tx = false;
	if (!ok && PQstatus(s->conn) != CONNECTION_OK)
		reconnect(s);
	return ok ? 0 : -1;
}

static void tx_rollback(struct pg_store *s)
{
	s->in_tx = false;
	if (PQstatus(s->conn) != CONNECTION_OK) {
		reconnect(s);
		return;
	}
	PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* ---- open, migrate, close ------------------------------------------------------------------ */

static int exec_sql(struct pg_store *s, const char *sql)
{
	PGresult *r = PQexec(s->conn, sql);
	bool ok = result_ok(r);
	if (!ok) {
		note_error(s, r);
		log_error("store_exec_failed", "err=\"%s\"", s->errmsg);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

static int migrate(struct pg_store *s, struct gerr *err)
{
	int nmig = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", LOCK_MIGRATE);
	/* Nodes starting together queue on the lock; the first migrates, the
	 * others then find the schema current. */
	if (exec_sql(s, "BEGIN") || exec_sql(s, sql) ||
	    exec_sql(s, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)"))
		goto fail;
	PGresult *r = PQexec(s->conn, "SELECT value FROM meta WHERE key = 'schema_version'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		note_error(s, r);
		PQclear(r);
		goto fail;
	}
	int version = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	if (version > nmig) {
		exec_sql(s, "ROLLBACK");
		return gerr_set(err, GERR_IO, 500, "store",
		                "database schema version %d is newer than this gancho (%d)",
		                version, nmig);
	}
	for (int v = version; v < nmig; v++) {
		snprintf(sql, sizeof(sql),
		         "INSERT INTO meta(key, value) VALUES('schema_version', '%d')"
		         " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		         v + 1);
		if (exec_sql(s, migrations[v]) || exec_sql(s, sql))
			goto fail;
		log_info("store_migrated", "version=%d", v + 1);
	}
	if (exec_sql(s, "COMMIT"))
		goto fail;
	return 0;
fail:
	exec_sql(s, "ROLLBACK");
	return gerr_set(err, GERR_IO, 503, "unavailable", "cannot migrate the database: %s",
	                s->errmsg);
}

static void pg_close(struct store *st)
{
	struct pg_store *s = PG(st);
	if (!s)
		return;
	PQfinish(s->conn);
	if (s->lconn)
		PQfinish(s->lconn);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->evfd >= 0)
		close(s->evfd);
	for (int i = 0; i < s->npending; i++)
		free(s->pending[i]);
	free(s->pending);
	free(s->url);
	free(s);
}

int postgres_store_open(const char *url, struct store **out, struct gerr *err)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	if (!s)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	s->base.ops = &postgres_ops;
	s->epfd = s->evfd = s->lsock = -1;
	s->url = strdup(url);
	s->conn = PQconnectdb(url);
	if (!s->conn || !s->url) {
		PQfinish(s->conn);
		free(s->url);
		free(s);
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		note_error(s, NULL);
		gerr_set(err, GERR_IO, 503, "unavailable", "cannot connect to PostgreSQL: %s",
		         s->errmsg);
		goto fail;
	}
	if (session(s)) {
		note_error(s, NULL);
		gerr_set(err, GERR_IO, 503, "unavailable", "cannot set up the session: %s",
		         s->errmsg);
		goto fail;
	}
	if (migrate(s, err))
		goto fail;
	*out = &s->base;
	return 0;
fail:
	pg_close(&s->base);
	return GERR_IO;
}

static int pg_ping(struct store *st)
{
	return exec_ok(q(PG(st), "SELECT 1", NULL, false, true)) ? GERR_IO : 0;
}

/* ---- notes: NOTIFY payloads collected during a transaction --------------------------------- */

struct own {
	char *owner; /* a copy: results it came from are gone by the time we send */
	int64_t seq;
};

struct notes {
	struct own *own; /* deliveries given to other nodes */
	int nown, capown;
	bool work; /* unowned due work appeared */
};

static int notes_own(struct notes *n, const char *owner, int64_t seq)
{
	char *copy = strdup(owner);
	if (!copy)
		return -1;
	if (n->nown == n->capown) {
		int cap = n->capown ? n->capown * 2 : 64;
		struct own *o = realloc(n->own, (size_t)cap * sizeof(*o));
		if (!o) {
			free(copy);
			return -1;
		}
		n->own = o;
		n->capown = cap;
	}
	n->own[n->nown].owner = copy;
	n->own[n->nown++].seq = seq;
	return 0;
}

static int own_cmp(const void *a, const void *b)
{
	const struct own *x = a, *y = b;
	int c = strcmp(x->owner, y->owner);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* notes_send: one pg_notify per payload, all in one statement; inside a
 * transaction they are delivered at COMMIT. */
static int notes_send(struct pg_store *s, struct notes *n)
{
	if (!n->nown && !n->work)
		return 0;
	struct pgarr a;
	arr_init(&a, OID_TEXT);
	if (n->work)
		arr_text(&a, "work");
	if (n->nown)
		qsort(n->own, (size_t)n->nown, sizeof(*n->own), own_cmp);
	struct buf one;
	buf_init(&one);
	for (int i = 0, seqs = 0; i < n->nown; i++, seqs++) {
		if (one.len && (strcmp(n->own[i].owner, n->own[i - 1].owner) != 0 ||
		                one.len > NOTE_MAX || seqs == NOTE_SEQS)) {
			arr_elem(&a, one.data, one.len);
			buf_reset(&one);
		}
		if (!one.len) {
			buf_printf(&one, "own %s", n->own[i].owner);
			seqs = 0;
		}
		buf_printf(&one, " %lld", (long long)n->own[i].seq);
	}
	if (one.len)
		arr_elem(&a, one.data, one.len);
	int rc = -1;
	struct params p = {0};
	if (!one.oom && arr_param(&p, &a))
		rc = exec_ok(run(s, ST_NOTIFY_MANY, &p));
	buf_free(&one);
	arr_free(&a, 1);
	return rc;
}

static void notes_free(struct notes *n)
{
	for (int i = 0; i < n->nown; i++)
		free(n->own[i].owner);
	free(n->own);
	memset(n, 0, sizeof(*n));
}

/* ---- the batch commit ------------------------------------------------------------------------ */

/* key_hash: FNV-1a of a company and a key, for the batch's duplicate check. */
static size_t key_hash(int64_t company_seq, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)company_seq;
	h *= 1099511628211ULL;
	for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
		h ^= *c;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* key_find: the event of tab (open addressing, -1 = empty) with this company
 * and id (or idem_key), or -1 with *pos the free slot for it. */
static int key_find(const int *tab, size_t mask, const struct store_event_in *ev, int64_t company,
                    const char *key, bool idem, size_t *pos)
{
	for (size_t h = key_hash(company, key) & mask;; h = (h + 1) & mask) {
		int j = tab[h];
		if (j < 0) {
			*pos = h;
			return -1;
		}
		const char *k = idem ? ev[j].idem_key : ev[j].id;
		if (ev[j].company_seq == company && strcmp(k, key) == 0)
			return j;
	}
}

static void mark_dup(struct store_event_in *e, const char *id, int64_t date_ms)
{
	e->duplicate = true;
	snprintf(e->dup_id, sizeof(e->dup_id), "%s", id);
	e->dup_date_ms = date_ms;
}

/* seen_events marks the duplicates of the batch, as sqlite's one-by-one INSERT
 * OR IGNORE would: an event repeats one stored before, or one earlier in the
 * batch (same id, or same Idempotency-Key); the first is answered for it. */
static int seen_events(struct pg_store *s, struct store_batch *b)
{
	struct store_event_in *ev = b->events;
	int n = b->nevents;
	for (int i = 0; i < n; i++) {
		ev[i].duplicate = false;
		ev[i].seq = 0;
		ev[i].first_delivery = 0;
		if (!ev[i].id || !ev[i].event) {
			snprintf(s->errmsg, sizeof(s->errmsg), "event without id or type");
			return -1;
		}
	}
	struct pgarr a[4];
	static const uint32_t oids[4] = {OID_INT4, OID_INT8, OID_TEXT, OID_TEXT};
	for (int i = 0; i < 4; i++)
		arr_init(&a[i], oids[i]);
	for (int i = 0; i < n; i++) {
		arr_i32(&a[0], i);
		arr_i64(&a[1], ev[i].company_seq);
		arr_text(&a[2], ev[i].id);
		arr_text(&a[3], ev[i].idem_key);
	}
	struct params p = {0};
	PGresult *r = NULL;
	int rc = -1;
	size_t size = 16;
	while (size < 2 * (size_t)n)
		size *= 2;
	int *byid = malloc(size * sizeof(int)), *byidem = malloc(size * sizeof(int));
	if (!byid || !byidem)
		goto out;
	for (int i = 0; i < 4; i++)
		if (!arr_param(&p, &a[i]))
			goto out;
	if (!(r = run(s, ST_EVENTS_SEEN, &p)))
		goto out;
	for (int row = 0; row < PQntuples(r); row++) {
		int64_t i = col_i64(r, row, 0);
		if (i < 0 || i >= n)
			goto out;
		mark_dup(&ev[i], PQgetvalue(r, row, 1), col_i64(r, row, 2));
	}
	memset(byid, 0xff, size * sizeof(int));
	memset(byidem, 0xff, size * sizeof(int));
	for (int i = 0; i < n; i++) {
		struct store_event_in *e = &ev[i];
		if (e->duplicate)
			continue;
		size_t at_id, at_idem = 0;
		int j = key_find(byid, size - 1, ev, e->company_seq, e->id, false, &at_id);
		if (j < 0 && e->idem_key)
			j = key_find(byidem, size - 1, ev, e->company_seq, e->idem_key, true,
			             &at_idem);
		if (j >= 0) {
			mark_dup(e, ev[j].id, ev[j].date_ms);
			continue;
		}
		byid[at_id] = i;
		if (e->idem_key)
			byidem[at_idem] = i;
	}
	rc = 0;
out:
	PQclear(r);
	arr_free(a, 4);
	free(byid);
	free(byidem);
	return rc;
}

/* One delivery to insert: from an event's fan-out or from b->deliveries. */
struct slot {
	struct store_event_in *ev; /* or NULL */
	struct store_delivery_in *dl;
	int w; /* webhook index within ev */
	const char *lane;
	const char *owner;
	bool held;
	bool failed; /* stored failed (fail_error): no owner, no lane, never sent */
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* lane_owners: for the distinct lanes in lanes[0..n) (sorted, deduplicated in
 * place; *n updated), create those that do not exist (owned by node when it is
 * live) and read every owner, locked. owners[i] points into *res, or is NULL
 * when the lane has no owner or has unowned deliveries waiting (new ones then
 * start unowned too, behind them; a claim takes them in order). */
static int lane_owners(struct pg_store *s, const char *node, bool live, const char **lanes, int *n,
                       const char **owners, PGresult **res)
{
	qsort(lanes, (size_t)*n, sizeof(*lanes), str_cmp);
	int k = 0;
	for (int i = 0; i < *n; i++)
		if (k == 0 || strcmp(lanes[i], lanes[k - 1]) != 0)
			lanes[k++] = lanes[i];
	*n = k;
	struct pgarr a;
	int rc = -1;
	for (int tries = 0; tries < 2; tries++) {
		arr_init(&a, OID_TEXT);
		for (int i = 0; i < k; i++)
			arr_text(&a, lanes[i]);
		struct params p = {0};
		if (!arr_param(&p, &a))
			break;
		if (live) {
			p_text(&p, node);
			if (exec_ok(run(s, ST_LANES_INSERT, &p)))
				break;
			p.n = 1;
		}
		PQclear(*res);
		if (!(*res = run(s, ST_LANES_GET, &p)))
			break;
		arr_free(&a, 1);
		for (int i = 0; i < k; i++)
			owners[i] = NULL;
		int found = 0;
		for (int row = 0; row < PQntuples(*res); row++) {
			const char *lane = PQgetvalue(*res, row, 0);
			const char **at = bsearch(&lane, lanes, (size_t)k, sizeof(*lanes), str_cmp);
			if (at) {
				/* Unowned deliveries ahead: queue behind them. */
				bool behind = PQgetvalue(*res, row, 2)[0] == 't';
				owners[at - lanes] = behind ? NULL : PQgetvalue(*res, row, 1);
				found++;
			}
		}
		rc = 0;
		/* A lane can vanish between the two statements (its owner was reaped
		 * and it was not yet locked): once more, and it becomes ours. */
		if (found == k || !live)
			return 0;
	}
	arr_free(&a, 1);
	return rc;
}

/* insert_requests: the stored requests of the batch's new deliveries (those
 * of the batch and those its receipts' routes made), in one statement; each
 * delivery_in gets its request_seq (0 without one). */
static int insert_requests(struct pg_store *s, struct store_batch *b)
{
	int total = b->ndeliveries + b->nrouted, n = 0;
	struct store_delivery_in **dl = calloc((size_t)total + 1, sizeof(*dl));
	if (!dl)
		return -1;
	for (int i = 0; i < total; i++) {
		dl[i] = i < b->ndeliveries ? &b->deliveries[i] : &b->routed[i - b->ndeliveries];
		/* a delivery without a request of its own keeps the one it names */
		if (dl[i]->request)
			dl[i]->request_seq = 0;
		n += dl[i]->request != NULL;
	}
	if (n == 0) {
		free(dl);
		return 0;
	}
	struct pgarr a[5];
	static const uint32_t oids[5] = {OID_TEXT, OID_TEXT, OID_TEXT, OID_BYTEA, OID_INT8};
	for (int i = 0; i < 5; i++)
		arr_init(&a[i], oids[i]);
	int rc = -1;
	PGresult *r = NULL;
	for (int i = 0; i < total; i++) {
		const struct store_request_in *q = dl[i]->request;
		if (!q)
			continue;
		arr_text(&a[0], q->method ? q->method : "");
		arr_text(&a[1], q->url ? q->url : "");
		arr_text(&a[2], q->headers ? q->headers : "{}");
		/* body is NOT NULL: an empty body is zero bytes, not NULL */
		if (q->body_len > (size_t)INT32_MAX)
			goto out;
		bool receipts =
		    q->body_receipt_seq > 0 || q->body_receipt_seq == STORE_BODY_OWN_RECEIPT;
		if (receipts)
			arr_elem(&a[3], "", 0);
		else
			arr_elem(&a[3], q->body ? q->body : "", q->body_len);
		arr_i64(&a[4], receipts ? q->body_receipt_seq : 0);
	}
	struct params p = {0};
	p_i64(&p, n);
	for (int i = 0; i < 5; i++)
		if (!arr_param(&p, &a[i]))
			goto out;
	if (!(r = run(s, ST_REQUESTS_INSERT, &p)) || PQntuples(r) != 1)
		goto out;
	int64_t base = col_i64(r, 0, 0);
	for (int i = 0, k = 0; i < total; i++)
		if (dl[i]->request)
			dl[i]->request_seq = base + ++k;
	rc = 0;
out:
	PQclear(r);
	arr_free(a, 5);
	free(dl);
	return rc;
}

/* insert: the batch's new events and deliveries, with their owners. */
static int insert(struct pg_store *s, struct store_batch *b, bool live, int64_t now,
                  struct notes *notes)
{
	int nev = 0, total = b->ndeliveries + b->nrouted;
	for (int i = 0; i < b->nevents; i++)
		if (!b->events[i].duplicate) {
			nev++;
			total += b->events[i].nwebhooks;
		}
	if (nev == 0 && total == 0)
		return 0;
	struct slot *sl = calloc((size_t)total + 1, sizeof(*sl));
	const char **lanes = calloc((size_t)total + 1, sizeof(*lanes));
	const char **owners = calloc((size_t)total + 1, sizeof(*owners));
	PGresult *lres = NULL, *r = NULL;
	struct pgarr a[17];
	static const uint32_t oids[17] = {OID_INT8, OID_TEXT,  OID_TEXT, OID_TEXT, OID_INT8,
	                                  OID_TEXT, OID_BYTEA, OID_INT8, OID_INT8, OID_INT8,
	                                  OID_INT4, OID_TEXT,  OID_TEXT, OID_TEXT, OID_INT8,
	                                  OID_INT8, OID_TEXT};
	for (int i = 0; i < 17; i++)
		arr_init(&a[i], oids[i]);
	int rc = -1, k = 0, nlanes = 0, ord = 0;
	if (!sl || !lanes || !owners || insert_requests(s, b))
		goto out;
	for (int i = 0; i < b->nevents; i++) {
		struct store_event_in *e = &b->events[i];
		if (e->duplicate)
			continue;
		arr_i64(&a[0], e->company_seq);
		arr_text(&a[1], e->id);
		arr_text(&a[2], e->idem_key);
		arr_text(&a[3], e->event);
		arr_i64(&a[4], e->date_ms);
		arr_text(&a[5], e->unit);
		/* data is NOT NULL: an empty body is zero bytes, not NULL. */
		arr_elem(&a[6], e->data ? e->data : "", e->data ? e->datalen : 0);
		e->seq = -(++ord); /* its position, until the base is known */
		for (int w = 0; w < e->nwebhooks; w++, k++) {
			sl[k].ev = e;
			sl[k].w = w;
			sl[k].held = e->held && e->held[w];
			sl[k].lane = e->lanes ? e->lanes[w] : NULL;
		}
	}
	for (int i = 0; i < b->ndeliveries + b->nrouted; i++, k++) {
		struct store_delivery_in *d =
		    i < b->ndeliveries ? &b->deliveries[i] : &b->routed[i - b->ndeliveries];
		sl[k].dl = d;
		sl[k].failed = d->fail_error != NULL;
		sl[k].lane = sl[k].failed ? NULL : d->lane;
	}
	/* A held delivery waits for its webhook's release, which frees it for
	 * anyone; it needs no lane owner until then. */
	for (k = 0; k < total; k++)
		if (sl[k].lane && !sl[k].held)
			lanes[nlanes++] = sl[k].lane;
	if (nlanes && lane_owners(s, b->node, live, lanes, &nlanes, owners, &lres))
		goto out;
	for (k = 0; k < total; k++) {
		struct slot *x = &sl[k];
		if (x->held || x->failed)
			x->owner = NULL;
		else if (x->lane) {
			const char **at =
			    bsearch(&x->lane, lanes, (size_t)nlanes, sizeof(*lanes), str_cmp);
			x->owner = at ? owners[at - lanes] : NULL;
		} else
			x->owner = live ? b->node : NULL;
		if (!x->held && !x->failed && !x->owner)
			notes->work = true;
		const struct store_event_in *e = x->ev;
		const struct store_delivery_in *d = x->dl;
		arr_i64(&a[7], e ? e->seq : d->event_seq);
		arr_i64(&a[8], e ? e->webhook_seqs[x->w] : d->webhook_seq);
		arr_i64(&a[9], e ? e->company_seq : d->company_seq);
		arr_i32(&a[10], x->failed ? DLV_FAILED : x->held ? DLV_HELD : DLV_PENDING);
		arr_text(&a[11], e ? (e->okeys ? e->okeys[x->w] : NULL) : d->okey);
		arr_text(&a[12], x->lane);
		arr_text(&a[13], x->owner);
		arr_i64(&a[14], e ? 0 : d->request_seq);
		arr_i64(&a[15], e ? 0 : d->receipt_seq);
		arr_text(&a[16], e ? NULL : d->fail_error);
	}
	struct params p = {0};
	p_i64(&p, nev);
	p_i64(&p, total);
	p_i64(&p, now);
	for (int i = 0; i < 17; i++)
		if (!arr_param(&p, &a[i]))
			goto out;
	if (!(r = run(s, ST_INSERT, &p)) || PQntuples(r) != 1)
		goto out;
	int64_t ebase = col_i64(r, 0, 0), dbase = col_i64(r, 0, 1);
	for (int i = 0; i < b->nevents; i++)
		if (!b->events[i].duplicate)
			b->events[i].seq = ebase - b->events[i].seq;
	for (k = 0; k < total; k++) {
		struct slot *x = &sl[k];
		int64_t seq = dbase + k + 1;
		bool mine = x->owner && b->node && strcmp(x->owner, b->node) == 0;
		if (x->ev) {
			if (x->w == 0)
				x->ev->first_delivery = seq;
			if (x->ev->mine)
				x->ev->mine[x->w] = mine;
		} else {
			x->dl->seq = seq;
			x->dl->mine = mine;
		}
		if (x->owner && !mine && notes_own(notes, x->owner, seq))
			goto out;
	}
	rc = 0;
out:
	PQclear(r);
	PQclear(lres);
	arr_free(a, 17);
	free(sl);
	free(lanes);
	free(owners);
	return rc;
}

static int seq_idx_cmp(const void *a, const void *b, void *ctx)
{
	const struct store_outcome *o = ctx;
	int x = *(const int *)a, y = *(const int *)b;
	if (o[x].delivery_seq != o[y].delivery_seq)
		return o[x].delivery_seq < o[y].delivery_seq ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int apply_outcomes(struct pg_store *s, struct store_batch *b, int64_t now)
{
	int n = b->noutcomes;
	int *ix = malloc((size_t)n * sizeof(*ix));
	struct pgarr a[8];
	static const uint32_t oids[8] = {OID_INT8, OID_INT4, OID_INT4, OID_INT8,
	                                 OID_INT8, OID_BOOL, OID_INT4, OID_TEXT};
	for (int i = 0; i < 8; i++)
		arr_init(&a[i], oids[i]);
	int rc = -1;
	if (!ix)
		goto out;
	/* One row per delivery, the batch's last word on it (sqlite applies them
	 * in turn; an UPDATE … FROM would pick one at random), in seq order so
	 * that concurrent batches lock rows in the same order. */
	for (int i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, (size_t)n, sizeof(*ix), seq_idx_cmp, b->outcomes);
	for (int j = 0; j < n; j++) {
		const struct store_outcome *o = &b->outcomes[ix[j]];
		if (j + 1 < n && b->outcomes[ix[j + 1]].delivery_seq == o->delivery_seq)
			continue;
		/* The last attempt of the batch sets last_http_status and
		 * last_error, as sqlite's in-turn updates do. */
		const struct store_outcome *last = NULL;
		for (int t = j; t >= 0 && b->outcomes[ix[t]].delivery_seq == o->delivery_seq; t--)
			if (b->outcomes[ix[t]].at) {
				last = &b->outcomes[ix[t]];
				break;
			}
		arr_i64(&a[0], o->delivery_seq);
		arr_i32(&a[1], o->status);
		arr_i32(&a[2], o->attempts);
		arr_i64(&a[3], o->next_at);
		arr_i64(&a[4], o->first_attempt_at);
		arr_bool(&a[5], last != NULL);
		arr_i32(&a[6], last ? last->http_status : 0);
		arr_text(&a[7], last ? last->error : NULL);
	}
	struct params p = {0};
	p_text(&p, b->node);
	p_i64(&p, now);
	for (int i = 0; i < 8; i++)
		if (!arr_param(&p, &a[i]))
			goto out;
	if (exec_ok(run(s, ST_OUTCOMES_UPDATE, &p)))
		goto out;
	arr_free(a, 8);

	/* Every attempt is history, whoever owns the delivery now. */
	static const uint32_t aoids[6] = {OID_INT8, OID_INT8, OID_INT4,
	                                  OID_INT4, OID_TEXT, OID_BYTEA};
	for (int i = 0; i < 6; i++)
		arr_init(&a[i], aoids[i]);
	int natt = 0;
	for (int i = 0; i < n; i++) {
		const struct store_outcome *o = &b->outcomes[i];
		if (!o->at)
			continue;
		arr_i64(&a[0], o->delivery_seq);
		arr_i64(&a[1], o->at);
		arr_i32(&a[2], o->http_status);
		arr_i32(&a[3], o->latency_ms);
		arr_text(&a[4], o->error);
		arr_elem(&a[5], o->response && o->response_len ? o->response : NULL,
		         o->response_len);
		natt++;
	}
	if (natt) {
		memset(&p, 0, sizeof(p));
		for (int i = 0; i < 6; i++)
			if (!arr_param(&p, &a[i]))
				goto out;
		if (exec_ok(run(s, ST_ATTEMPTS_INSERT, &p)))
			goto out;
	}
	rc = 0;
out:
	arr_free(a, 8);
	free(ix);
	return rc;
}

static int change_cmp(const void *a, const void *b, void *ctx)
{
	const struct store_webhook_change *c = ctx;
	int x = *(const int *)a, y = *(const int *)b;
	if (c[x].webhook_seq != c[y].webhook_seq)
		return c[x].webhook_seq < c[y].webhook_seq ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int apply_change(struct pg_store *s, struct store_webhook_change *c, int64_t now)
{
	c->deactivated = false;
	if (c->succeeded || c->failed_at) {
		struct params p = {0};
		p_i64(&p, c->webhook_seq);
		p_bool(&p, c->succeeded);
		p_i64(&p, c->failed_at);
		if (exec_ok(run(s, ST_WEBHOOK_STREAK, &p)))
			return -1;
	}
	if (!c->deactivate && !(c->failed_at && c->deactivate_before))
		return 0;
	struct params p = {0};
	p_i64(&p, c->webhook_seq);
	p_i64(&p, now);
	p_bool(&p, c->deactivate);
	p_i64(&p, c->deactivate_before);
	p_text(&p, c->reason ? c->reason : "deactivated");
	PGresult *r = run(s, ST_WEBHOOK_DEACTIVATE, &p);
	if (!r)
		return -1;
	/* No row: still succeeding somewhere, or already inactive. */
	c->deactivated = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

static int apply_changes(struct pg_store *s, struct store_batch *b, int64_t now)
{
	int *ix = malloc((size_t)b->nchanges * sizeof(*ix));
	if (!ix)
		return -1;
	/* webhook order, so nodes updating the same webhooks cannot deadlock */
	for (int i = 0; i < b->nchanges; i++)
		ix[i] = i;
	qsort_r(ix, (size_t)b->nchanges, sizeof(*ix), change_cmp, b->changes);
	int rc = 0;
	for (int i = 0; i < b->nchanges && rc == 0; i++)
		rc = apply_change(s, &b->changes[ix[i]], now);
	free(ix);
	return rc;
}

/* ---- receipts ------------------------------------------------------------------------ */

/* read_receipt: row of RECEIPT_COLS (binary format); GERR_NOMEM when a
 * string could not be copied. */
static int read_receipt(const PGresult *r, int row, struct store_receipt *o)
{
	memset(o, 0, sizeof(*o));
	o->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, o->id, sizeof(o->id));
	o->company_seq = col_i64(r, row, 2);
	o->source_seq = col_i64(r, row, 3);
	o->msg_id = col_dup(r, row, 4, NULL);
	o->event = col_dup(r, row, 5, NULL);
	o->date = col_dup(r, row, 6, NULL);
	o->date_us = col_i64(r, row, 7);
	o->date_ns = (int32_t)col_i64(r, row, 8);
	o->entity_type = col_dup(r, row, 9, NULL);
	o->entity_key = col_dup(r, row, 10, NULL);
	o->kept = col_dup(r, row, 11, &o->keptlen);
	o->body = col_dup(r, row, 12, &o->bodylen);
	o->headers = col_dup(r, row, 13, NULL);
	col_copy(r, row, 14, o->verification, sizeof(o->verification));
	col_copy(r, row, 15, o->address, sizeof(o->address));
	o->status = (int)col_i64(r, row, 16);
	o->duplicates = (int)col_i64(r, row, 17);
	o->apply_at = col_i64(r, row, 18);
	o->created_at = col_i64(r, row, 19);
	o->updated_at = col_i64(r, row, 20);
	bool ok = o->msg_id && o->event && o->date && o->kept && o->body && o->headers &&
	          (PQgetisnull(r, row, 9) || o->entity_type) &&
	          (PQgetisnull(r, row, 10) || o->entity_key);
	return ok ? 0 : GERR_NOMEM;
}

/* decide_receipt: as in sqlite.c: r against its entity through the batch's
 * decide callback; writes the entity's advance and r's status. */
static int decide_with(struct pg_store *s, struct store_batch *b, const struct store_receipt *r,
                       int64_t now, store_decide_fn fn, int *status);

static int decide_receipt(struct pg_store *s, struct store_batch *b, const struct store_receipt *r,
                          int64_t now, int *status)
{
	return decide_with(s, b, r, now, b->decide, status);
}

static int read_receipt(const PGresult *r, int row, struct store_receipt *o);

/* replay_receipt: as in sqlite.c: r routed again, nothing written but the
 * deliveries the replay callback adds. */
static int replay_receipt(struct pg_store *s, struct store_batch *b, int64_t seq, int64_t now)
{
	struct params p = {0};
	p_i64(&p, seq);
	PGresult *f = run(s, ST_RECEIPT_FIND, &p);
	if (!f)
		return -1;
	int out = 0;
	if (PQntuples(f) == 1) {
		struct store_receipt r;
		if (read_receipt(f, 0, &r))
			out = -1;
		else if (r.status != RCP_WAITING)
			out = decide_with(s, b, &r, now, b->replay, NULL);
		store_receipt_free(&r);
	}
	PQclear(f);
	return out;
}

static int decide_with(struct pg_store *s, struct store_batch *b, const struct store_receipt *r,
                       int64_t now, store_decide_fn fn, int *status)
{
	struct store_entity cur = {.kept = "{}", .keptlen = 2};
	char *kept = NULL;
	bool has_entity = r->entity_type && r->entity_key;
	struct params p = {0};
	if (has_entity) {
		p_i64(&p, r->company_seq);
		p_text(&p, r->entity_type);
		p_text(&p, r->entity_key);
		PGresult *g = run(s, ST_ENTITY_GET, &p);
		if (!g)
			return -1;
		if (PQntuples(g) == 1) {
			cur.exists = true;
			cur.date_us = col_i64(g, 0, 0);
			cur.date_ns = (int32_t)col_i64(g, 0, 1);
			kept = col_dup(g, 0, 2, &cur.keptlen);
			cur.kept = kept;
		}
		PQclear(g);
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
	if (status)
		*status = v.status;
	if (v.advance && has_entity) {
		char *k = v.kept ? strndup(v.kept, v.keptlen) : NULL;
		memset(&p, 0, sizeof(p));
		p_i64(&p, r->company_seq);
		p_text(&p, r->entity_type);
		p_text(&p, r->entity_key);
		p_i64(&p, r->date_us);
		p_i64(&p, r->date_ns);
		p_text(&p, k ? k : "{}");
		p_i64(&p, r->seq);
		p_i64(&p, now);
		rc = v.kept && !k ? -1 : exec_ok(run(s, ST_ENTITY_PUT, &p));
		free(k);
		if (rc)
			return -1;
	}
	memset(&p, 0, sizeof(p));
	p_i64(&p, r->seq);
	p_i64(&p, v.status);
	p_i64(&p, now);
	return exec_ok(run(s, ST_RECEIPT_STATUS, &p));
}

/* An entity the batch's new receipts are decided against: as stored, then
 * as the receipts before leave it (kept owned). */
struct batch_entity {
	int64_t company_seq;
	const char *type, *key; /* borrowed from the batch */
	bool exists, advanced;
	int64_t date_us;
	int32_t date_ns;
	char *kept;
	size_t keptlen;
	int64_t receipt_seq; /* the latest applied receipt */
};

/* A new receipt of the batch on its way in. */
struct batch_receipt {
	int64_t seq;     /* drawn by the probe (a repeat's is unused) */
	int64_t dup_seq; /* a repeat: the first receipt's row */
	int first;       /* a repeat of an earlier receipt of the batch: its index, else -1 */
	int ent;         /* its entity in the batch's list, -1 without one */
};

static const struct store_receipt_in *sort_rin;

/* by_msg: batch indexes by (source, sender's id), then index. */
static int by_msg(const void *x, const void *y)
{
	const struct store_receipt_in *a = &sort_rin[*(const int *)x],
	                              *b = &sort_rin[*(const int *)y];
	if (a->source_seq != b->source_seq)
		return a->source_seq < b->source_seq ? -1 : 1;
	int c = strcmp(a->msg_id, b->msg_id);
	return c ? c : (*(const int *)x > *(const int *)y) - (*(const int *)x < *(const int *)y);
}

/* by_entity: batch indexes by (company, entity type, key), then index;
 * receipts without an entity first. */
static int by_entity(const void *x, const void *y)
{
	const struct store_receipt_in *a = &sort_rin[*(const int *)x],
	                              *b = &sort_rin[*(const int *)y];
	bool ea = a->entity_type && a->entity_key, eb = b->entity_type && b->entity_key;
	if (ea != eb)
		return ea ? 1 : -1;
	if (ea) {
		if (a->company_seq != b->company_seq)
			return a->company_seq < b->company_seq ? -1 : 1;
		int c = strcmp(a->entity_type, b->entity_type);
		if (!c)
			c = strcmp(a->entity_key, b->entity_key);
		if (c)
			return c;
	}
	return (*(const int *)x > *(const int *)y) - (*(const int *)x < *(const int *)y);
}

/* probe_receipts: the batch's senders' ids already stored (the repeat's
 * answer: the first's id and status) and a seq for each row, in one
 * statement; then the repeats within the batch. */
static int probe_receipts(struct pg_store *s, struct store_batch *b, struct batch_receipt *br,
                          int *ix)
{
	int n = b->nreceipts, rc = -1;
	struct pgarr a[2];
	arr_init(&a[0], OID_INT8);
	arr_init(&a[1], OID_TEXT);
	for (int i = 0; i < n; i++) {
		arr_i64(&a[0], b->receipts[i].source_seq);
		arr_text(&a[1], b->receipts[i].msg_id);
	}
	struct params p = {0};
	PGresult *r = NULL;
	if (!arr_param(&p, &a[0]) || !arr_param(&p, &a[1]))
		goto out;
	if (!(r = run(s, ST_RECEIPTS_PROBE, &p)) || PQntuples(r) != n)
		goto out;
	for (int i = 0; i < n; i++) {
		struct store_receipt_in *in = &b->receipts[i];
		br[i] = (struct batch_receipt){.seq = col_i64(r, i, 4), .first = -1, .ent = -1};
		if (!PQgetisnull(r, i, 3)) {
			in->duplicate = true;
			col_copy(r, i, 1, in->dup_id, sizeof(in->dup_id));
			in->status = (int)col_i64(r, i, 2);
			br[i].dup_seq = col_i64(r, i, 3);
		}
	}
	/* the same sender's id twice in the batch: the later ones repeat the first */
	for (int i = 0; i < n; i++)
		ix[i] = i;
	sort_rin = b->receipts;
	qsort(ix, (size_t)n, sizeof(*ix), by_msg);
	for (int k = 1; k < n; k++) {
		const struct store_receipt_in *x = &b->receipts[ix[k]],
		                              *y = &b->receipts[ix[k - 1]];
		if (x->source_seq == y->source_seq && strcmp(x->msg_id, y->msg_id) == 0 &&
		    !x->duplicate)
			br[ix[k]].first =
			    br[ix[k - 1]].first >= 0 ? br[ix[k - 1]].first : ix[k - 1];
	}
	rc = 0;
out:
	PQclear(r);
	arr_free(a, 2);
	return rc;
}

/* load_entities: the entities of the batch's receipts decided now, each
 * once, in one statement (locked FOR UPDATE); *nents of them in ents. */
static int load_entities(struct pg_store *s, struct store_batch *b, struct batch_receipt *br,
                         int *ix, struct batch_entity *ents, int *nents)
{
	int n = b->nreceipts, ne = 0, rc = -1;
	for (int i = 0; i < n; i++)
		ix[i] = i;
	sort_rin = b->receipts;
	qsort(ix, (size_t)n, sizeof(*ix), by_entity);
	for (int k = 0; k < n; k++) {
		const struct store_receipt_in *in = &b->receipts[ix[k]];
		if (!in->entity_type || !in->entity_key || in->duplicate || br[ix[k]].first >= 0 ||
		    in->apply_at)
			continue;
		struct batch_entity *last = ne ? &ents[ne - 1] : NULL;
		if (!last || last->company_seq != in->company_seq ||
		    strcmp(last->type, in->entity_type) != 0 ||
		    strcmp(last->key, in->entity_key) != 0)
			ents[ne++] = (struct batch_entity){.company_seq = in->company_seq,
			                                   .type = in->entity_type,
			                                   .key = in->entity_key};
		br[ix[k]].ent = ne - 1;
	}
	*nents = ne;
	if (ne == 0)
		return 0;
	struct pgarr a[3];
	arr_init(&a[0], OID_INT8);
	arr_init(&a[1], OID_TEXT);
	arr_init(&a[2], OID_TEXT);
	for (int e = 0; e < ne; e++) {
		arr_i64(&a[0], ents[e].company_seq);
		arr_text(&a[1], ents[e].type);
		arr_text(&a[2], ents[e].key);
	}
	struct params p = {0};
	PGresult *r = NULL;
	if (!arr_param(&p, &a[0]) || !arr_param(&p, &a[1]) || !arr_param(&p, &a[2]))
		goto out;
	if (!(r = run(s, ST_ENTITIES_GET, &p)))
		goto out;
	for (int row = 0; row < PQntuples(r); row++) {
		int64_t e = col_i64(r, row, 0) - 1;
		if (e < 0 || e >= ne)
			goto out;
		struct batch_entity *x = &ents[e];
		x->exists = true;
		x->date_us = col_i64(r, row, 1);
		x->date_ns = (int32_t)col_i64(r, row, 2);
		if (!(x->kept = col_dup(r, row, 3, &x->keptlen)))
			goto out;
	}
	rc = 0;
out:
	PQclear(r);
	arr_free(a, 3);
	return rc;
}

/* decide_new: the batch's new receipts in batch order: a repeat takes its
 * first's answer; one decided now goes through the decide callback against
 * its entity as the receipts before it left it. */
static int decide_new(struct store_batch *b, struct batch_receipt *br, struct batch_entity *ents,
                      int64_t now)
{
	for (int i = 0; i < b->nreceipts; i++) {
		struct store_receipt_in *in = &b->receipts[i];
		if (in->duplicate)
			continue;
		if (br[i].first >= 0) {
			const struct store_receipt_in *f = &b->receipts[br[i].first];
			in->duplicate = true;
			snprintf(in->dup_id, sizeof(in->dup_id), "%s", f->id);
			in->status = f->status;
			br[i].dup_seq = f->seq;
			continue;
		}
		in->seq = br[i].seq;
		in->status = RCP_WAITING;
		if (in->apply_at)
			continue;
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
		struct batch_entity *x = br[i].ent >= 0 ? &ents[br[i].ent] : NULL;
		struct store_entity cur = {.kept = "{}", .keptlen = 2};
		if (x && x->exists)
			cur = (struct store_entity){.exists = true,
			                            .date_us = x->date_us,
			                            .date_ns = x->date_ns,
			                            .kept = x->kept,
			                            .keptlen = x->keptlen};
		struct store_verdict v = {.status = RCP_ROUTED};
		if (!b->decide || b->decide(b->decide_ctx, b, &r, &cur, &v))
			return -1;
		in->status = v.status;
		if (v.advance && x) {
			char *k = strndup(v.kept ? v.kept : "{}", v.kept ? v.keptlen : 2);
			if (!k)
				return -1;
			free(x->kept);
			x->kept = k;
			x->keptlen = v.kept ? v.keptlen : 2;
			x->exists = x->advanced = true;
			x->date_us = in->date_us;
			x->date_ns = in->date_ns;
			x->receipt_seq = in->seq;
		}
	}
	return 0;
}

/* write_receipts: the batch's new receipts with their statuses, the
 * entities they advanced, and the repeats counted on their first rows. */
static int write_receipts(struct pg_store *s, struct store_batch *b, struct batch_receipt *br,
                          struct batch_entity *ents, int nents, int64_t now)
{
	enum { NA = 18 };
	static const uint32_t oids[NA] = {OID_INT8, OID_TEXT, OID_INT8,  OID_INT8, OID_TEXT,
	                                  OID_TEXT, OID_TEXT, OID_INT8,  OID_INT4, OID_TEXT,
	                                  OID_TEXT, OID_TEXT, OID_BYTEA, OID_TEXT, OID_TEXT,
	                                  OID_TEXT, OID_INT4, OID_INT8};
	struct pgarr a[NA];
	for (int i = 0; i < NA; i++)
		arr_init(&a[i], oids[i]);
	int rc = -1, nnew = 0, ndup = 0, nadv = 0;
	for (int i = 0; i < b->nreceipts; i++) {
		const struct store_receipt_in *in = &b->receipts[i];
		if (in->duplicate) {
			ndup++;
			continue;
		}
		if (in->bodylen > (size_t)INT32_MAX)
			goto out;
		nnew++;
		arr_i64(&a[0], in->seq);
		arr_text(&a[1], in->id);
		arr_i64(&a[2], in->company_seq);
		arr_i64(&a[3], in->source_seq);
		arr_text(&a[4], in->msg_id);
		arr_text(&a[5], in->event);
		arr_text(&a[6], in->date);
		arr_i64(&a[7], in->date_us);
		arr_i32(&a[8], in->date_ns);
		arr_text(&a[9], in->entity_type);
		arr_text(&a[10], in->entity_key);
		if (in->kept)
			arr_elem(&a[11], in->kept, in->keptlen);
		else
			arr_text(&a[11], "{}");
		arr_elem(&a[12], in->body ? in->body : "", in->bodylen);
		arr_text(&a[13], in->headers ? in->headers : "{}");
		arr_text(&a[14], in->verification ? in->verification : "none");
		arr_text(&a[15], in->address ? in->address : "");
		arr_i32(&a[16], in->status);
		arr_i64(&a[17], in->apply_at);
	}
	struct params p = {0};
	if (nnew > 0) {
		for (int i = 0; i < NA; i++)
			if (!arr_param(&p, &a[i]))
				goto out;
		p_i64(&p, now);
		if (exec_ok(run(s, ST_RECEIPTS_INSERT, &p)))
			goto out;
	}
	arr_free(a, NA);
	for (int e = 0; e < nents; e++)
		nadv += ents[e].advanced;
	if (nadv > 0) {
		static const uint32_t eo[7] = {OID_INT8, OID_TEXT, OID_TEXT, OID_INT8,
		                               OID_INT4, OID_TEXT, OID_INT8};
		for (int i = 0; i < 7; i++)
			arr_init(&a[i], eo[i]);
		for (int e = 0; e < nents; e++) {
			const struct batch_entity *x = &ents[e];
			if (!x->advanced)
				continue;
			arr_i64(&a[0], x->company_seq);
			arr_text(&a[1], x->type);
			arr_text(&a[2], x->key);
			arr_i64(&a[3], x->date_us);
			arr_i32(&a[4], x->date_ns);
			arr_elem(&a[5], x->kept, x->keptlen);
			arr_i64(&a[6], x->receipt_seq);
		}
		memset(&p, 0, sizeof(p));
		for (int i = 0; i < 7; i++)
			if (!arr_param(&p, &a[i])) {
				arr_free(a, 7);
				return -1;
			}
		p_i64(&p, now);
		rc = exec_ok(run(s, ST_ENTITIES_PUT, &p));
		arr_free(a, 7);
		if (rc)
			return -1;
	}
	if (ndup > 0) {
		arr_init(&a[0], OID_INT8);
		for (int i = 0; i < b->nreceipts; i++)
			if (b->receipts[i].duplicate)
				arr_i64(&a[0], br[i].dup_seq);
		memset(&p, 0, sizeof(p));
		rc = arr_param(&p, &a[0]) ? 0 : -1;
		p_i64(&p, now);
		if (!rc)
			rc = exec_ok(run(s, ST_RECEIPTS_DUP, &p));
		arr_free(a, 1);
		return rc;
	}
	return 0;
out:
	arr_free(a, NA);
	return rc;
}

/* append_receipts: the batch's receipts, array-shaped (see ST_RECEIPTS_PROBE):
 * a repeat of a sender's id is counted on the first receipt and answered
 * with its id and status; a new receipt decided now is decided before its
 * insert, in batch order, and inserted once with its final status; one that
 * waits in a reorder window is inserted waiting. */
static int append_receipts(struct pg_store *s, struct store_batch *b, int64_t now)
{
	int n = b->nreceipts, nents = 0, rc = -1;
	for (int i = 0; i < n; i++) {
		b->receipts[i].duplicate = false;
		b->receipts[i].dup_id[0] = '\0';
	}
	struct batch_receipt *br = calloc((size_t)n, sizeof(*br));
	int *ix = calloc((size_t)n, sizeof(*ix));
	struct batch_entity *ents = calloc((size_t)n, sizeof(*ents));
	if (br && ix && ents && probe_receipts(s, b, br, ix) == 0 &&
	    load_entities(s, b, br, ix, ents, &nents) == 0 && decide_new(b, br, ents, now) == 0)
		rc = write_receipts(s, b, br, ents, nents, now);
	for (int e = 0; e < nents; e++)
		free(ents[e].kept);
	free(ents);
	free(ix);
	free(br);
	return rc;
}

/* apply_due: as in sqlite.c: every entity with a waiting receipt due, and
 * for each every waiting receipt dated up to its newest due one, in date
 * order. */
static int apply_due(struct pg_store *s, struct store_batch *b, int64_t now)
{
	int limit = b->apply_limit > 0 ? b->apply_limit : 256;
	struct params p = {0};
	p_i64(&p, b->apply_due_before);
	p_i64(&p, limit);
	PGresult *due = run(s, ST_RECEIPT_DUE, &p);
	if (!due)
		return -1;
	int n = PQntuples(due), err = 0;
	/* the newest due date per entity: rows of one entity share (0..2) */
	bool *skip = calloc((size_t)n + 1, sizeof(*skip));
	if (!skip) {
		PQclear(due);
		return -1;
	}
	for (int i = 0; i < n && !err; i++) {
		if (skip[i] || PQgetisnull(due, i, 1) || PQgetisnull(due, i, 2))
			continue;
		int64_t company = col_i64(due, i, 0);
		const char *type = PQgetvalue(due, i, 1), *key = PQgetvalue(due, i, 2);
		int64_t us = col_i64(due, i, 3);
		int64_t ns = col_i64(due, i, 4);
		for (int j = i + 1; j < n; j++) {
			if (skip[j] || col_i64(due, j, 0) != company ||
			    strcmp(PQgetvalue(due, j, 1), type) != 0 ||
			    strcmp(PQgetvalue(due, j, 2), key) != 0)
				continue;
			skip[j] = true;
			int64_t jus = col_i64(due, j, 3), jns = col_i64(due, j, 4);
			if (jus > us || (jus == us && jns > ns)) {
				us = jus;
				ns = jns;
			}
		}
		memset(&p, 0, sizeof(p));
		p_i64(&p, company);
		p_text(&p, type);
		p_text(&p, key);
		p_i64(&p, us);
		p_i64(&p, ns);
		PGresult *w = run(s, ST_RECEIPT_ENTITY_WAITING, &p);
		if (!w) {
			err = -1;
			break;
		}
		for (int k = 0; k < PQntuples(w) && !err; k++) {
			memset(&p, 0, sizeof(p));
			p_i64(&p, col_i64(w, k, 0));
			PGresult *f = run(s, ST_RECEIPT_FIND, &p);
			struct store_receipt r;
			if (!f || PQntuples(f) != 1 || read_receipt(f, 0, &r)) {
				if (f && PQntuples(f) == 1)
					store_receipt_free(&r);
				err = -1;
			} else {
				if (decide_receipt(s, b, &r, now, NULL) == 0)
					b->applied++;
				else
					err = -1;
				store_receipt_free(&r);
			}
			PQclear(f);
		}
		PQclear(w);
	}
	free(skip);
	PQclear(due);
	return err;
}

/* append_rejections: as in sqlite.c: the batch's refused requests, then each
 * source trimmed to its newest STORE_REJECTIONS_KEPT. */
static int append_rejections(struct pg_store *s, const struct store_batch *b)
{
	for (int i = 0; i < b->nrejections; i++) {
		const struct store_rejection_in *x = &b->rejections[i];
		const char *a = x->address ? x->address : "", *rs = x->reason ? x->reason : "";
		char abuf[64], rbuf[256];
		snprintf(abuf, sizeof(abuf), "%.*s", (int)utf8_cut(a, strlen(a), sizeof(abuf) - 1),
		         a);
		snprintf(rbuf, sizeof(rbuf), "%.*s",
		         (int)utf8_cut(rs, strlen(rs), sizeof(rbuf) - 1), rs);
		struct params p = {0};
		p_i64(&p, x->source_seq);
		p_i64(&p, x->at);
		p_text(&p, abuf);
		p_text(&p, rbuf);
		if (exec_ok(q(s,
		              "INSERT INTO rejections(source_seq, at, address, reason)"
		              " VALUES($1::int8, $2::int8, $3::text, $4::text)",
		              &p, false, false)))
			return -1;
	}
	for (int i = 0; i < b->nrejections; i++) {
		bool seen = false;
		for (int k = 0; k < i && !seen; k++)
			seen = b->rejections[k].source_seq == b->rejections[i].source_seq;
		if (seen)
			continue;
		struct params d = {0};
		p_i64(&d, b->rejections[i].source_seq);
		p_i64(&d, STORE_REJECTIONS_KEPT);
		if (exec_ok(q(s,
		              "DELETE FROM rejections WHERE source_seq = $1::int8 AND seq <="
		              " (SELECT seq FROM rejections WHERE source_seq = $1::int8"
		              " ORDER BY seq DESC LIMIT 1 OFFSET $2::int8)",
		              &d, false, false)))
			return -1;
	}
	return 0;
}

static int pg_commit(struct store *st, struct store_batch *b, struct gerr *err)
{
	struct pg_store *s = PG(st);
	int64_t now = clock_now_ms();
	struct notes notes = {0};
	if (tx_begin(s))
		return db_error(s, err, "begin");
	b->applied = 0;
	b->nrouted = 0;
	if (b->nevents > 0 || b->ndeliveries > 0 || b->nreceipts > 0 || b->apply_due_before > 0 ||
	    b->nreplays > 0) {
		/* One inserting batch at a time (see the top of this file). A node
		 * that was reaped must not take new work: its deliveries start
		 * unowned instead. Receipts are decided under the same lock, so
		 * an entity's receipts are decided one batch at a time in the
		 * cluster, and the deliveries they make get seqs in that order. */
		struct params p = {0};
		p_i64(&p, LOCK_INSERTS);
		p_text(&p, b->node);
		PGresult *r = run(s, ST_LOCK_INSERTS, &p);
		if (!r)
			goto fail;
		bool live = b->node && PQgetvalue(r, 0, 1)[0] == 't';
		PQclear(r);
		if (b->nreceipts > 0 && append_receipts(s, b, now))
			goto fail;
		if (b->apply_due_before > 0 && apply_due(s, b, now))
			goto fail;
		for (int i = 0; i < b->nreplays; i++)
			if (replay_receipt(s, b, b->replays[i], now))
				goto fail;
		if (b->nevents > 0 && seen_events(s, b))
			goto fail;
		if (insert(s, b, live, now, &notes))
			goto fail;
	}
	if (b->nrejections > 0 && append_rejections(s, b))
		goto fail;
	if (b->noutcomes > 0 && apply_outcomes(s, b, now))
		goto fail;
	if (b->nchanges > 0 && apply_changes(s, b, now))
		goto fail;
	if (notes_send(s, &notes))
		goto fail;
	if (tx_commit(s))
		goto fail_committed;
	notes_free(&notes);
	return 0;
fail:
	tx_rollback(s);
fail_committed:
	notes_free(&notes);
	return db_error(s, err, "commit");
}

/* ---- reads for the engine -----------------------------------------------------------------------
 */

static void read_task(const PGresult *r, int row, struct store_task *t)
{
	t->seq = col_i64(r, row, 0);
	t->event_seq = col_i64(r, row, 1);
	t->webhook_seq = col_i64(r, row, 2);
	t->next_at = col_i64(r, row, 3);
	t->first_attempt_at = col_i64(r, row, 4);
	t->attempts = (int)col_i64(r, row, 5);
	col_copy(r, row, 6, t->okey, sizeof(t->okey));
	t->request_seq = col_i64(r, row, 7); /* NULL reads as 0: the envelope */
}

static int read_tasks(PGresult *r, int limit, struct store_task *out, int *n)
{
	*n = 0;
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++)
		read_task(r, row, &out[k++]);
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_open_after(struct store *st, int64_t after_seq, int limit, struct store_task *out,
                         int *n)
{
	struct params p = {0};
	p_i64(&p, after_seq);
	p_i64(&p, limit);
	return read_tasks(run(PG(st), ST_OPEN_AFTER, &p), limit, out, n);
}

static int pg_open_due(struct store *st, int64_t after_next_at, int64_t after_seq,
                       int64_t due_before, int limit, struct store_task *out, int *n)
{
	/* Several nodes reach due work by claiming; this is the single-node path,
	 * kept equal to sqlite.c for a store used by one node. */
	struct params p = {0};
	p_i64(&p, after_next_at);
	p_i64(&p, after_seq);
	p_i64(&p, due_before);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r = q(PG(st),
	                "SELECT " TASK_COLS " FROM deliveries WHERE status = 0"
	                " AND (next_at, seq) > ($1::int8, $2::int8) AND next_at < $3::int8"
	                " ORDER BY next_at, seq LIMIT $4::int4",
	                &p, false, true);
	return read_tasks(r, limit, out, n);
}

static int pg_open_for_webhook(struct store *st, int64_t webhook_seq, int64_t after_seq, int limit,
                               struct store_task *out, int *n)
{
	struct params p = {0};
	p_i64(&p, webhook_seq);
	p_i64(&p, after_seq);
	p_i64(&p, limit);
	return read_tasks(run(PG(st), ST_OPEN_WEBHOOK, &p), limit, out, n);
}

/* read_event: company_seq, id, event, date_ms, unit, data from column first. */
static void read_event(const PGresult *r, int row, int first, struct store_event *e)
{
	e->company_seq = col_i64(r, row, first);
	e->id = col_dup(r, row, first + 1, NULL);
	e->event = col_dup(r, row, first + 2, NULL);
	e->date_ms = col_i64(r, row, first + 3);
	e->unit = col_dup(r, row, first + 4, NULL);
	e->data = col_dup(r, row, first + 5, &e->datalen);
}

static int pg_event_load(struct store *st, int64_t event_seq, struct store_event *out)
{
	memset(out, 0, sizeof(*out));
	struct params p = {0};
	p_i64(&p, event_seq);
	PGresult *r = run(PG(st), ST_EVENT_LOAD, &p);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		out->seq = event_seq;
		read_event(r, 0, 0, out);
		rc = out->id && out->event && out->data ? 0 : GERR_NOMEM;
	}
	PQclear(r);
	return rc;
}

static int pg_request_load(struct store *st, int64_t seq, int64_t delivery_seq,
                           struct store_request *out)
{
	memset(out, 0, sizeof(*out));
	struct params p = {0};
	p_i64(&p, seq);
	p_i64(&p, delivery_seq);
	PGresult *r = run(PG(st), ST_REQUEST_LOAD, &p);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		out->seq = seq;
		out->method = col_dup(r, 0, 0, NULL);
		out->url = col_dup(r, 0, 1, NULL);
		out->headers = col_dup(r, 0, 2, NULL);
		out->body = col_dup(r, 0, 3, &out->body_len);
		out->own_receipt = col_i64(r, 0, 4) == 1;
		/* NULL body: a shared request whose delivery has no receipt (not found) */
		rc = out->method && out->url && out->headers && out->body ? 0
		     : PQgetisnull(r, 0, 3)                               ? GERR_NOTFOUND
		                                                          : GERR_NOMEM;
		if (rc)
			store_request_free(out);
	}
	PQclear(r);
	return rc;
}

/* ---- several nodes ------------------------------------------------------------------------------
 */

static bool pg_shared(struct store *st)
{
	(void)st;
	return true;
}

static int pg_node_join(struct store *st, const char *node, int64_t now)
{
	remember_node(PG(st), node);
	struct params p = {0};
	p_text(&p, node);
	p_i64(&p, now);
	return exec_ok(q(PG(st),
	                 "INSERT INTO nodes(id, heartbeat_at) VALUES($1::text, $2::int8)"
	                 " ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at",
	                 &p, false, false))
	           ? GERR_IO
	           : 0;
}

static int pg_node_beat(struct store *st, const char *node, int64_t now)
{
	remember_node(PG(st), node);
	struct params p = {0};
	p_text(&p, node);
	p_i64(&p, now);
	PGresult *r = run(PG(st), ST_NODE_BEAT, &p);
	if (!r)
		return GERR_IO;
	int rc = PQntuples(r) > 0 ? 0 : GERR_NOTFOUND;
	PQclear(r);
	return rc;
}

/* drop_nodes: inside a transaction, the nodes in ids (a text[] parameter) lose
 * their lanes and open deliveries; *freed = deliveries freed. The lanes go
 * first: deleting them waits for any commit that holds them (FOR SHARE) and is
 * still assigning deliveries to them, and the UPDATE after it, a new statement,
 * sees those deliveries. */
static int drop_nodes(struct pg_store *s, const struct params *ids, int *freed)
{
	if (exec_ok(q(s, "DELETE FROM lanes WHERE owner = ANY($1::text[])", ids, false, false)))
		return -1;
	PGresult *r = q(s,
	                "UPDATE deliveries SET owner = NULL WHERE owner = ANY($1::text[])"
	                " AND status = 0",
	                ids, false, false);
	if (!r)
		return -1;
	*freed = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

static int pg_node_reap(struct store *st, int64_t dead_before, int *n)
{
	struct pg_store *s = PG(st);
	*n = 0;
	if (tx_begin(s))
		return GERR_IO;
	struct params p = {0};
	struct pgarr a;
	arr_init(&a, OID_TEXT);
	p_i64(&p, dead_before);
	PGresult *r =
	    q(s, "DELETE FROM nodes WHERE heartbeat_at < $1::int8 RETURNING id", &p, false, false);
	if (!r)
		goto fail;
	int dead = PQntuples(r);
	for (int row = 0; row < dead; row++) {
		log_info("node_reaped", "node=%s", PQgetvalue(r, row, 0));
		arr_text(&a, PQgetvalue(r, row, 0));
	}
	PQclear(r);
	if (dead) {
		int freed = 0;
		memset(&p, 0, sizeof(p));
		if (!arr_param(&p, &a) || drop_nodes(s, &p, &freed))
			goto fail;
		struct notes notes = {.work = true};
		if (notes_send(s, &notes))
			goto fail;
	}
	arr_free(&a, 1);
	if (tx_commit(s))
		return GERR_IO;
	*n = dead;
	return 0;
fail:
	arr_free(&a, 1);
	tx_rollback(s);
	return GERR_IO;
}

static int pg_node_leave(struct store *st, const char *node)
{
	struct pg_store *s = PG(st);
	if (tx_begin(s))
		return GERR_IO;
	struct params p = {0};
	struct pgarr a;
	arr_init(&a, OID_TEXT);
	arr_text(&a, node);
	int freed = 0;
	if (!arr_param(&p, &a) ||
	    exec_ok(q(s, "DELETE FROM nodes WHERE id = ANY($1::text[])", &p, false, false)) ||
	    drop_nodes(s, &p, &freed))
		goto fail;
	struct notes notes = {.work = freed > 0};
	if (notes_send(s, &notes))
		goto fail;
	arr_free(&a, 1);
	return tx_commit(s) ? GERR_IO : 0;
fail:
	arr_free(&a, 1);
	tx_rollback(s);
	return GERR_IO;
}

static int task_cmp(const void *a, const void *b)
{
	const struct store_task *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* claim_lane: take (or route) one lane with unowned work; tasks that are ours
 * go to out (at most room of them). */
static int claim_lane(struct pg_store *s, const char *node, const char *lane, struct notes *notes,
                      struct store_task *out, int room, int *k)
{
	struct params p = {0};
	p_text(&p, lane);
	p_text(&p, node);
	PGresult *r = run(s, ST_LANE_TAKE, &p);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0; /* created by someone just now: next time */
	}
	bool mine = strcmp(PQgetvalue(r, 0, 0), node) == 0;
	if (!mine) {
		/* A live node owns the lane: its deliveries are that node's. */
		p.v[1] = PQgetvalue(r, 0, 0);
		PGresult *g = run(s, ST_LANE_GIVE, &p);
		int rc = g ? 0 : -1;
		for (int row = 0; g && row < PQntuples(g) && rc == 0; row++)
			rc = notes_own(notes, p.v[1], col_i64(g, row, 0));
		PQclear(g);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	p_i64(&p, room);
	r = run(s, ST_LANE_MINE, &p);
	if (!r)
		return -1;
	for (int row = 0; row < PQntuples(r) && row < room; row++)
		read_task(r, row, &out[(*k)++]);
	PQclear(r);
	return 0;
}

static int pg_claim(struct store *st, const char *node, int64_t due_before, int limit,
                    struct store_task *out, int *n)
{
	struct pg_store *s = PG(st);
	struct notes notes = {0};
	PGresult *lanes = NULL;
	remember_node(s, node);
	int k = 0;
	*n = 0;
	if (limit <= 0)
		return 0;
	if (tx_begin(s))
		return GERR_IO;
	struct params p = {0};
	p_text(&p, node);
	PGresult *r = run(s, ST_NODE_LIVE, &p);
	if (!r)
		goto fail;
	bool live = PQntuples(r) > 0;
	PQclear(r);
	if (!live) {
		/* Reaped: store_node_beat tells the caller to join again. */
		tx_rollback(s);
		return 0;
	}
	/* FIFO lanes first: each comes whole, so unordered work fills what is left. */
	memset(&p, 0, sizeof(p));
	p_i64(&p, due_before);
	p_i64(&p, CLAIM_LANES);
	if (!(lanes = run(s, ST_CLAIM_LANES, &p)))
		goto fail;
	for (int i = 0; i < PQntuples(lanes) && k < limit; i++)
		if (claim_lane(s, node, PQgetvalue(lanes, i, 0), &notes, out, limit - k, &k))
			goto fail;
	PQclear(lanes);
	lanes = NULL;
	if (k < limit) {
		memset(&p, 0, sizeof(p));
		p_text(&p, node);
		p_i64(&p, due_before);
		p_i64(&p, limit - k);
		if (!(r = run(s, ST_CLAIM_FREE, &p)))
			goto fail;
		for (int row = 0; row < PQntuples(r) && k < limit; row++)
			read_task(r, row, &out[k++]);
		PQclear(r);
	}
	if (notes_send(s, &notes) || tx_commit(s))
		goto fail_committed;
	notes_free(&notes);
	qsort(out, (size_t)k, sizeof(*out), task_cmp);
	*n = k;
	return 0;
fail:
	PQclear(lanes);
	tx_rollback(s);
fail_committed:
	notes_free(&notes);
	log_error("store_error", "op=claim err=\"%s\"", s->errmsg);
	return GERR_IO;
}

static int pg_notify(struct store *st, const char *payload)
{
	struct params p = {0};
	p_text(&p, payload);
	return exec_ok(run(PG(st), ST_NOTIFY, &p)) ? GERR_IO : 0;
}

static int pg_release(struct store *st, const char *node, const int64_t *seqs, int n)
{
	struct pg_store *s = PG(st);
	if (n <= 0)
		return 0;
	struct pgarr a;
	arr_init(&a, OID_INT8);
	for (int i = 0; i < n; i++)
		arr_i64(&a, seqs[i]);
	struct params p = {0};
	p_text(&p, node);
	int rc = GERR_IO;
	if (!arr_param(&p, &a))
		goto out;
	/* A lane left with no delivery of ours is given up too, so that whoever
	 * claims its deliveries next takes the lane with them. (The subquery sees
	 * the rows as they were before this statement, hence the seq filter.) */
	PGresult *r =
	    q(s,
	      "WITH r AS (UPDATE deliveries SET owner = NULL WHERE seq = ANY($2::int8[])"
	      " AND owner = $1::text AND status = 0 RETURNING lane),"
	      " l AS (DELETE FROM lanes WHERE owner = $1::text AND lane IN (SELECT lane FROM r)"
	      " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.lane = lanes.lane"
	      " AND d.status = 0 AND d.owner = $1::text AND d.seq <> ALL($2::int8[])))"
	      " SELECT count(*) FROM r",
	      &p, false, false);
	if (!r)
		goto out;
	int64_t freed = col_i64(r, 0, 0);
	PQclear(r);
	rc = 0;
	if (freed > 0)
		pg_notify(st, "work");
out:
	arr_free(&a, 1);
	return rc;
}

static int pg_load_owned(struct store *st, const char *node, const int64_t *seqs, int nseqs,
                         struct store_task *out, int *n)
{
	remember_node(PG(st), node);
	*n = 0;
	if (nseqs <= 0)
		return 0;
	struct pgarr a;
	arr_init(&a, OID_INT8);
	for (int i = 0; i < nseqs; i++)
		arr_i64(&a, seqs[i]);
	struct params p = {0};
	int rc = GERR_IO;
	if (arr_param(&p, &a)) {
		p_text(&p, node);
		rc = read_tasks(run(PG(st), ST_LOAD_OWNED, &p), nseqs, out, n);
	}
	arr_free(&a, 1);
	return rc;
}

static void pend(struct pg_store *s, const char *payload)
{
	char **p = realloc(s->pending, ((size_t)s->npending + 1) * sizeof(*p));
	if (!p)
		return;
	s->pending = p;
	if ((p[s->npending] = strdup(payload)) != NULL)
		s->npending++;
}

/* missed: what may have been said while the listening connection was down.
 * Unowned work is found by a claim ("work"); deliveries given to this node's
 * lanes are announced again ("own", from the store: a reader ignores those it
 * already holds). */
static void missed(struct pg_store *s)
{
	pend(s, "work");
	if (!s->node[0])
		return;
	const char *v[1] = {s->node};
	PGresult *r =
	    PQexecParams(s->lconn,
	                 "SELECT seq FROM deliveries WHERE owner = $1::text AND status = 0"
	                 " AND lane IS NOT NULL ORDER BY seq LIMIT 10000",
	                 1, NULL, v, NULL, NULL, 0);
	struct buf one;
	buf_init(&one);
	for (int row = 0; PQresultStatus(r) == PGRES_TUPLES_OK && row < PQntuples(r); row++) {
		if (!one.len)
			buf_printf(&one, "own %s", s->node);
		buf_printf(&one, " %s", PQgetvalue(r, row, 0));
		if (row % NOTE_SEQS == NOTE_SEQS - 1 || row == PQntuples(r) - 1) {
			if (!one.oom)
				pend(s, one.data);
			buf_reset(&one);
		}
	}
	buf_free(&one);
	PQclear(r);
}

/* relisten: (re)open the listening connection; on a reconnect, queue what may
 * have been missed and wake the caller. */
static void relisten(struct pg_store *s)
{
	bool again = s->lconn != NULL;
	if (s->lsock >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lsock, NULL);
		s->lsock = -1;
	}
	if (!s->lconn)
		s->lconn = PQconnectdb(s->url);
	else
		PQreset(s->lconn);
	s->lretry_at = clock_mono_ms() + 1000;
	if (!s->lconn || PQstatus(s->lconn) != CONNECTION_OK)
		return;
	PQsetNoticeProcessor(s->lconn, quiet, NULL);
	PGresult *r = PQexec(s->lconn, "LISTEN gancho");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	struct epoll_event ev = {.events = EPOLLIN};
	ev.data.fd = PQsocket(s->lconn);
	if (!ok || epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) {
		PQfinish(s->lconn);
		s->lconn = NULL;
		return;
	}
	s->lsock = ev.data.fd;
	if (again) {
		log_info("store_listening_again", "backend=%s", "postgres");
		missed(s);
	}
	/* Wake the caller: made-up notifications, or real ones that libpq read
	 * along with our own queries here. */
	uint64_t one = 1;
	if (write(s->evfd, &one, sizeof(one)) < 0)
		log_warn("store_wake_failed", "backend=%s", "postgres");
}

static int pg_listen_fd(struct store *st)
{
	struct pg_store *s = PG(st);
	if (s->epfd < 0) {
		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		ev.data.fd = s->evfd;
		if (s->epfd < 0 || s->evfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev)) {
			log_error("store_listen_failed", "err=\"%s\"", "epoll/eventfd");
			if (s->epfd >= 0)
				close(s->epfd);
			if (s->evfd >= 0)
				close(s->evfd);
			s->epfd = s->evfd = -1;
			return -1;
		}
		relisten(s); /* when the server is down, a later call tries again */
	}
	return s->epfd;
}

static int pg_notifications(struct store *st, void (*fn)(void *ctx, const char *payload), void *ctx)
{
	struct pg_store *s = PG(st);
	if (s->epfd < 0)
		return 0;
	uint64_t count;
	while (read(s->evfd, &count, sizeof(count)) > 0)
		;
	int rc = 0;
	bool lost = !s->lconn || s->lsock < 0 || PQstatus(s->lconn) != CONNECTION_OK;
	if (!lost && (!PQconsumeInput(s->lconn) || PQstatus(s->lconn) != CONNECTION_OK)) {
		log_warn("store_listen_lost", "backend=%s", "postgres");
		lost = true;
		s->lretry_at = 0; /* at once: the server may only have dropped us */
	}
	if (lost) {
		if (clock_mono_ms() >= s->lretry_at)
			relisten(s);
		if (s->lsock < 0)
			rc = GERR_IO;
	}
	PGnotify *nt;
	while (s->lconn && (nt = PQnotifies(s->lconn)) != NULL) {
		fn(ctx, nt->extra);
		PQfreemem(nt);
	}
	for (int i = 0; i < s->npending; i++) {
		fn(ctx, s->pending[i]);
		free(s->pending[i]);
	}
	s->npending = 0;
	return rc;
}

/* ---- companies and tokens
 * ------------------------------------------------------------------------ */

#define COMPANY_COLS "seq, id, name, event_types, created_at"

static void read_company(const PGresult *r, int row, struct store_company *c)
{
	c->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, c->id, sizeof(c->id));
	col_copy(r, row, 2, c->name, sizeof(c->name));
	c->event_types = col_dup(r, row, 3, NULL);
	c->created_at = col_i64(r, row, 4);
}

static int pg_company_create(struct store *st, const char *name, const char *event_types,
                             const char *token_hash, struct store_company *out, struct gerr *err)
{
	struct pg_store *s = PG(st);
	memset(out, 0, sizeof(*out));
	uuid_v4(out->id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->created_at = clock_now_ms();
	if (fault_hit("company_token"))
		return gerr_set(err, GERR_IO, 503, "unavailable", "storage error (company_create)");
	struct params p = {0};
	p_text(&p, out->id);
	p_text(&p, name);
	p_text(&p, event_types ? event_types : "[]");
	p_i64(&p, out->created_at);
	p_text(&p, token_hash);
	/* one statement: the company and its first token, or neither */
	PGresult *r = q(s,
	                "WITH c AS (INSERT INTO companies(id, name, event_types, created_at)"
	                " VALUES($1::text, $2::text, $3::text, $4::int8) RETURNING seq)"
	                " INSERT INTO tokens(hash, company_seq, created_at)"
	                " SELECT $5::text, seq, $4::int8 FROM c RETURNING company_seq",
	                &p, false, false);
	if (!r) {
		if (strcmp(s->sqlstate, "23505") == 0) /* unique_violation */
			return gerr_set(err, GERR_CONFLICT, 409, "conflict",
			                "a company named \"%s\" exists", name);
		return db_error(s, err, "company_create");
	}
	out->seq = col_i64(r, 0, 0);
	PQclear(r);
	out->event_types = strdup(event_types ? event_types : "[]");
	return 0;
}

static int pg_company_list(struct store *st, int64_t before_seq, int limit,
                           struct store_company *out, int *n)
{
	struct params p = {0};
	p_i64(&p, before_seq ? before_seq : INT64_MAX);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r = q(PG(st),
	                "SELECT " COMPANY_COLS " FROM companies WHERE seq < $1::int8"
	                " ORDER BY seq DESC LIMIT $2::int4",
	                &p, false, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++)
		read_company(r, row, &out[k++]);
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_company_get(struct store *st, int64_t seq, struct store_company *out)
{
	struct params p = {0};
	p_i64(&p, seq);
	PGresult *r = q(PG(st), "SELECT " COMPANY_COLS " FROM companies WHERE seq = $1::int8", &p,
	                false, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		read_company(r, 0, out);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

static int pg_company_set_event_types(struct store *st, int64_t seq, const char *event_types)
{
	struct params p = {0};
	p_text(&p, event_types);
	p_i64(&p, seq);
	return exec_ok(q(PG(st), "UPDATE companies SET event_types = $1::text WHERE seq = $2::int8",
	                 &p, false, false))
	           ? GERR_IO
	           : 0;
}

static int pg_token_add(struct store *st, int64_t company_seq, const char *token_hash)
{
	struct params p = {0};
	p_text(&p, token_hash);
	p_i64(&p, company_seq);
	p_i64(&p, clock_now_ms());
	return exec_ok(q(PG(st),
	                 "INSERT INTO tokens(hash, company_seq, created_at)"
	                 " VALUES($1::text, $2::int8, $3::int8)",
	                 &p, false, false))
	           ? GERR_IO
	           : 0;
}

static int pg_token_lookup(struct store *st, const char *token_hash, int64_t *company_seq)
{
	struct params p = {0};
	p_text(&p, token_hash);
	PGresult *r =
	    q(PG(st), "SELECT company_seq FROM tokens WHERE hash = $1::text", &p, false, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		*company_seq = col_i64(r, 0, 0);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

static int pg_token_each(struct store *st,
                         void (*fn)(void *ctx, const char *hash, int64_t company_seq), void *ctx)
{
	PGresult *r = q(PG(st), "SELECT hash, company_seq FROM tokens", NULL, false, true);
	if (!r)
		return GERR_IO;
	for (int row = 0; row < PQntuples(r); row++)
		fn(ctx, PQgetvalue(r, row, 0), col_i64(r, row, 1));
	PQclear(r);
	return 0;
}

static int pg_token_list(struct store *st, int64_t company_seq, struct store_token *out, int max,
                         int *n)
{
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, max);
	*n = 0;
	PGresult *r = q(PG(st),
	                "SELECT hash, created_at FROM tokens WHERE company_seq = $1::int8"
	                " ORDER BY created_at, hash LIMIT $2::int4",
	                &p, true, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < max; row++) {
		col_copy(r, row, 0, out[k].hash, sizeof(out[k].hash));
		out[k++].created_at = col_i64(r, row, 1);
	}
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_token_revoke(struct store *st, int64_t company_seq, const char *id, char hash[65],
                           struct gerr *err)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	p_i64(&p, company_seq);
	p_text(&p, id);
	/* One statement; the company's rows are locked first, so two revokes at
	 * once cannot both pass the "not the last token" test. */
	PGresult *r = q(s,
	                "WITH mine AS (SELECT hash FROM tokens WHERE company_seq = $1::int8"
	                " FOR UPDATE)"
	                " DELETE FROM tokens WHERE company_seq = $1::int8"
	                " AND left(hash, 16) = $2::text AND length($2::text) = 16"
	                " AND (SELECT count(*) FROM mine) > 1 RETURNING hash",
	                &p, false, false);
	if (!r)
		return db_error(s, err, "token_revoke");
	int rows = PQntuples(r);
	if (rows > 0)
		snprintf(hash, 65, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (rows > 0) {
		char msg[80];
		snprintf(msg, sizeof(msg), "token %s", hash);
		pg_notify(st, msg);
		return 0;
	}
	r = q(s,
	      "SELECT 1 FROM tokens WHERE company_seq = $1::int8 AND left(hash, 16) = $2::text"
	      " AND length($2::text) = 16",
	      &p, false, true);
	if (!r)
		return db_error(s, err, "token_revoke");
	bool exists = PQntuples(r) > 0;
	PQclear(r);
	return store_token_refusal(exists, id, err);
}

/* ---- a company's rows, a page at a time ------------------------------------------------------
 * Webhooks, routes, sources and connections are listed the same way: a
 * company's live rows newest first, older than a cursor, a page at a time.
 * A kind of row says how big one element is, how a result row becomes one
 * (0, or a negative code with the element freed) and how one is freed; pg_get,
 * pg_one and pg_page do the rest. A new kind adds a reader of that shape, a
 * drop function and a struct pg_kind, and its get/list pass them with their
 * SQL. */

struct pg_kind {
	size_t size;
	int (*read)(const PGresult *r, int row, void *out);
	void (*drop)(void *out);
};

/* pg_one: row 0 of r (a read's result; NULL when it failed: GERR_IO) into
 * out; GERR_NOTFOUND when r has no row. Clears r. */
static int pg_one(PGresult *r, const struct pg_kind *kind, void *out)
{
	if (!r)
		return GERR_IO;
	int rc = PQntuples(r) > 0 ? kind->read(r, 0, out) : GERR_NOTFOUND;
	PQclear(r);
	return rc;
}

/* pg_get: run sql, whose $1 is an id and $2 a company_seq, and read its
 * row into out as pg_one does. */
static int pg_get(struct store *st, const char *sql, const struct pg_kind *kind,
                  int64_t company_seq, const char *id, void *out)
{
	struct params p = {0};
	p_text(&p, id);
	p_i64(&p, company_seq);
	return pg_one(q(PG(st), sql, &p, false, true), kind, out);
}

/* pg_page: run sql, whose $1 is company_seq, $2 the cursor (before_seq, or
 * no bound when 0) and $3 the limit, and read at most limit rows into out,
 * an array of limit elements of kind. On failure nothing is kept (*n = 0). */
static int pg_page(struct store *st, const char *sql, const struct pg_kind *kind,
                   int64_t company_seq, int64_t before_seq, int limit, void *out, int *n)
{
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, before_seq ? before_seq : INT64_MAX);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r = q(PG(st), sql, &p, false, true);
	if (!r)
		return GERR_IO;
	char *at = out;
	int k = 0, rc = 0;
	for (int row = 0; row < PQntuples(r) && k < limit && !rc; row++)
		if (!(rc = kind->read(r, row, at + (size_t)k * kind->size)))
			k++;
	PQclear(r);
	if (rc)
		while (k > 0)
			kind->drop(at + (size_t)--k * kind->size);
	*n = k;
	return rc;
}

/* ---- webhooks
 * ------------------------------------------------------------------------------------ */

#define WEBHOOK_COLS "seq, id, company_seq, status, fail_since, created_at, updated_at, config"

static void read_webhook(const PGresult *r, int row, struct store_webhook *w)
{
	w->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, w->id, sizeof(w->id));
	w->company_seq = col_i64(r, row, 2);
	w->status = (int)col_i64(r, row, 3);
	w->fail_since = col_i64(r, row, 4);
	w->created_at = col_i64(r, row, 5);
	w->updated_at = col_i64(r, row, 6);
	w->config = col_dup(r, row, 7, NULL);
}

static int pg_webhook_insert(struct store *st, struct store_webhook *w, struct gerr *err)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	p_text(&p, w->id);
	p_i64(&p, w->company_seq);
	p_i64(&p, w->status);
	p_text(&p, w->config);
	p_i64(&p, w->created_at);
	p_i64(&p, w->updated_at);
	PGresult *r = q(s,
	                "INSERT INTO webhooks(id, company_seq, status, fail_since, config,"
	                " created_at, updated_at) VALUES($1::text, $2::int8, $3::int4, 0,"
	                " $4::text, $5::int8, $6::int8) RETURNING seq",
	                &p, false, false);
	if (!r)
		return db_error(s, err, "webhook_insert");
	w->seq = col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

static int pg_webhook_update(struct store *st, const struct store_webhook *w)
{
	struct params p = {0};
	p_i64(&p, w->status);
	p_text(&p, w->config);
	p_i64(&p, w->updated_at);
	p_i64(&p, w->seq);
	/* Re-activating a webhook starts its failure streak afresh. */
	return exec_ok(q(PG(st),
	                 "UPDATE webhooks SET status = $1::int4, config = $2::text,"
	                 " updated_at = $3::int8,"
	                 " fail_since = CASE WHEN $1::int4 = 0 THEN 0 ELSE fail_since END"
	                 " WHERE seq = $4::int8",
	                 &p, false, false))
	           ? GERR_IO
	           : 0;
}

static int row_webhook(const PGresult *r, int row, void *out)
{
	read_webhook(r, row, out);
	return 0;
}

static void drop_webhook(void *w)
{
	store_webhook_free(w);
}

static const struct pg_kind webhook_kind = {sizeof(struct store_webhook), row_webhook,
                                            drop_webhook};

static int pg_webhook_by_seq(struct store *st, int64_t seq, struct store_webhook *out)
{
	struct params p = {0};
	p_i64(&p, seq);
	return pg_one(q(PG(st),
	                "SELECT " WEBHOOK_COLS " FROM webhooks WHERE seq = $1::int8"
	                " AND status != 2",
	                &p, false, true),
	              &webhook_kind, out);
}

static int pg_webhook_get(struct store *st, int64_t company_seq, const char *id,
                          struct store_webhook *out)
{
	return pg_get(st,
	              "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = $1::text"
	              " AND ($2::int8 = 0 OR company_seq = $2::int8) AND status != 2"
	              " AND route_seq IS NULL",
	              &webhook_kind, company_seq, id, out);
}

static int pg_webhook_list(struct store *st, int64_t company_seq, int64_t before_seq, int limit,
                           struct store_webhook *out, int *n)
{
	return pg_page(st,
	               "SELECT " WEBHOOK_COLS " FROM webhooks WHERE company_seq = $1::int8"
	               " AND seq < $2::int8 AND status != 2 AND route_seq IS NULL"
	               " ORDER BY seq DESC LIMIT $3::int4",
	               &webhook_kind, company_seq, before_seq, limit, out, n);
}

static int pg_webhook_each(struct store *st, void (*fn)(void *ctx, struct store_webhook *w),
                           void *ctx)
{
	PGresult *r =
	    q(PG(st), "SELECT " WEBHOOK_COLS " FROM webhooks WHERE status != 2 ORDER BY seq", NULL,
	      false, true);
	if (!r)
		return GERR_IO;
	for (int row = 0; row < PQntuples(r); row++) {
		struct store_webhook w;
		read_webhook(r, row, &w);
		fn(ctx, &w);
		store_webhook_free(&w);
	}
	PQclear(r);
	return 0;
}

/* changes: the row count of a finished UPDATE, or GERR_IO. */
static int changes(PGresult *r)
{
	if (!r)
		return GERR_IO;
	int n = atoi(PQcmdTuples(r));
	PQclear(r);
	return n;
}

static int pg_webhook_release_held(struct store *st, int64_t webhook_seq, int64_t now)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	p_i64(&p, now);
	p_i64(&p, webhook_seq);
	if (tx_begin(s))
		return GERR_IO;
	/* Released deliveries belong to nobody: any node may claim them. */
	int n =
	    changes(q(s,
	              "UPDATE deliveries SET status = 0, next_at = $1::int8, updated_at = $1::int8,"
	              " owner = NULL WHERE webhook_seq = $2::int8 AND status = 1",
	              &p, false, false));
	if (n < 0)
		goto fail;
	if (n > 0) {
		/* "webhook" first: a node reloads the webhook (active again) before
		 * it claims the work, or it would hold the deliveries once more.
		 * Notifications of one transaction arrive in order. */
		char note[40];
		snprintf(note, sizeof(note), "webhook %lld", (long long)webhook_seq);
		if (pg_notify(st, note) || pg_notify(st, "work"))
			goto fail;
	}
	return tx_commit(s) ? GERR_IO : n;
fail:
	tx_rollback(s);
	return GERR_IO;
}

static int pg_webhook_fail_open(struct store *st, int64_t webhook_seq, const char *reason,
                                int64_t now)
{
	struct params p = {0};
	p_text(&p, reason);
	p_i64(&p, now);
	p_i64(&p, webhook_seq);
	return changes(q(PG(st),
	                 "UPDATE deliveries SET status = 3, last_error = $1::text,"
	                 " updated_at = $2::int8 WHERE webhook_seq = $3::int8 AND status IN (0, 1)",
	                 &p, false, false));
}

static int pg_delivery_set_aside(struct store *st, int64_t seq, const char *error, const char *note,
                                 int64_t now)
{
	struct params p = {0};
	p_i64(&p, seq);
	p_text(&p, error);
	p_i64(&p, now);
	p_text(&p, note);
	/* One statement, so one transaction: the delivery, its attempt row and
	 * the operator record go together or not at all. */
	PGresult *r =
	    q(PG(st),
	      "WITH d AS (UPDATE deliveries SET status = 3, attempts = attempts + 1,"
	      " last_http_status = 0, last_error = $2::text, updated_at = $3::int8"
	      " WHERE seq = $1::int8 AND status IN (0, 1)"
	      " RETURNING seq, company_seq, webhook_seq),"
	      " a AS (INSERT INTO attempts(delivery_seq, at, http_status, latency_ms, error)"
	      " SELECT seq, $3::int8, 0, 0, $2::text FROM d),"
	      " o AS (INSERT INTO opevents(company_seq, at, kind, webhook_seq, message)"
	      " SELECT company_seq, $3::int8, 'delivery.set_aside', webhook_seq, $4::text"
	      " FROM d) SELECT count(*) FROM d",
	      &p, false, false);
	if (!r)
		return GERR_IO;
	int n = PQntuples(r) == 1 ? (int)col_i64(r, 0, 0) : -1;
	PQclear(r);
	return n < 0 ? GERR_IO : n;
}

/* ---- deliveries, attempts, events, operator records -------------------------------------------
 */

#define DELIVERY_SELECT                                                                            \
	"SELECT d.seq, w.id, COALESCE(e.id, ''), COALESCE(e.event, r.event, ''), d.status,"        \
	" d.attempts, d.next_at, d.last_http_status, d.last_error, d.created_at, d.updated_at,"    \
	" COALESCE(r.id, ''), COALESCE(rt.id, '') FROM deliveries d LEFT JOIN events e ON e.seq "  \
	"= d.event_seq"                                                                            \
	" LEFT JOIN receipts r ON r.seq = d.receipt_seq JOIN webhooks w ON w.seq = d.webhook_seq " \
	"LEFT JOIN routes rt ON rt.seq = w.route_seq "

static void read_delivery(const PGresult *r, int row, struct store_delivery *d)
{
	d->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, d->webhook_id, sizeof(d->webhook_id));
	col_copy(r, row, 2, d->event_id, sizeof(d->event_id));
	col_copy(r, row, 3, d->event, sizeof(d->event));
	d->status = (int)col_i64(r, row, 4);
	d->attempts = (int)col_i64(r, row, 5);
	d->next_at = col_i64(r, row, 6);
	d->last_http_status = (int)col_i64(r, row, 7);
	col_copy(r, row, 8, d->last_error, sizeof(d->last_error));
	d->created_at = col_i64(r, row, 9);
	d->updated_at = col_i64(r, row, 10);
	col_copy(r, row, 11, d->receipt_id, sizeof(d->receipt_id));
	col_copy(r, row, 12, d->route_id, sizeof(d->route_id));
}

static int pg_delivery_list(struct store *st, int64_t company_seq,
                            const struct store_delivery_filter *f, int64_t before_seq, int limit,
                            struct store_delivery *out, int *n)
{
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, before_seq ? before_seq : INT64_MAX);
	p_i64(&p, f->status);
	p_text(&p, f->event);
	p_i64(&p, limit);
	/* With a webhook the (webhook_seq, seq) index drives; else (company_seq, seq). */
	p_i64(&p, f->webhook_seq);
	p_i64(&p, f->receipt_seq);
	const char *sql = DELIVERY_SELECT
	    "WHERE d.company_seq = $1::int8 AND d.seq < $2::int8"
	    " AND ($3::int4 < 0 OR d.status = $3::int4) AND"
	    " ($4::text IS NULL OR COALESCE(e.event, r.event) = $4::text)"
	    " AND ($6::int8 = 0 OR d.webhook_seq = $6::int8)"
	    " AND ($7::int8 = 0 OR d.receipt_seq = $7::int8) ORDER BY d.seq DESC LIMIT $5::int4";
	if (f->receipt_seq)
		sql = DELIVERY_SELECT "WHERE d.receipt_seq = $7::int8 AND d.company_seq = $1::int8 "
		                      "AND d.seq < $2::int8"
		                      " AND ($3::int4 < 0 OR d.status = $3::int4) AND"
		                      " ($4::text IS NULL OR COALESCE(e.event, r.event) = $4::text)"
		                      " AND ($6::int8 = 0 OR d.webhook_seq = $6::int8) ORDER BY "
		                      "d.seq DESC LIMIT $5::int4";
	else if (f->webhook_seq)
		sql = DELIVERY_SELECT
		    "WHERE d.webhook_seq = $6::int8 AND d.company_seq = $1::int8 AND d.seq < "
		    "$2::int8"
		    " AND ($3::int4 < 0 OR d.status = $3::int4) AND"
		    " ($4::text IS NULL OR COALESCE(e.event, r.event) = $4::text)"
		    " AND ($7::int8 = 0 OR true) ORDER BY d.seq DESC LIMIT $5::int4";
	*n = 0;
	PGresult *r = q(PG(st), sql, &p, false, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++)
		read_delivery(r, row, &out[k++]);
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_delivery_get(struct store *st, int64_t company_seq, int64_t seq,
                           struct store_delivery *out)
{
	struct params p = {0};
	p_i64(&p, seq);
	p_i64(&p, company_seq);
	PGresult *r =
	    q(PG(st), DELIVERY_SELECT "WHERE d.seq = $1::int8 AND d.company_seq = $2::int8", &p,
	      false, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		read_delivery(r, 0, out);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

static int pg_delivery_retry(struct store *st, int64_t company_seq, int64_t seq, int64_t now,
                             struct store_task *task, struct gerr *err)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	p_i64(&p, now);
	p_i64(&p, seq);
	p_i64(&p, company_seq);
	/* The delivery belongs to nobody again: any node may claim it. */
	PGresult *r = q(s,
	                "UPDATE deliveries SET status = 0, attempts = 0, first_attempt_at = 0,"
	                " next_at = $1::int8, updated_at = $1::int8, owner = NULL"
	                " WHERE seq = $2::int8 AND company_seq = $3::int8 AND status != 0"
	                " AND webhook_seq IN (SELECT seq FROM webhooks WHERE status = 0)"
	                " RETURNING " TASK_COLS,
	                &p, false, false);
	if (!r)
		return db_error(s, err, "delivery_retry");
	int rows = PQntuples(r);
	if (rows > 0)
		read_task(r, 0, task);
	PQclear(r);
	if (rows > 0) {
		pg_notify(st, "work");
		return 0;
	}
	/* Not retried: say why. */
	struct params p2 = {0};
	p_i64(&p2, seq);
	p_i64(&p2, company_seq);
	r = q(s,
	      "SELECT d.status, coalesce(w.status, 2) FROM deliveries d"
	      " LEFT JOIN webhooks w ON w.seq = d.webhook_seq"
	      " WHERE d.seq = $1::int8 AND d.company_seq = $2::int8",
	      &p2, true, true);
	if (!r)
		return db_error(s, err, "delivery_retry");
	int dstatus = PQntuples(r) ? (int)col_i64(r, 0, 0) : -1;
	int wstatus = PQntuples(r) ? (int)col_i64(r, 0, 1) : -1;
	PQclear(r);
	return store_retry_refusal(seq, dstatus, wstatus, err);
}

/* attempt_rows: the attempts of a query's answer (cleared). */
static int attempt_rows(PGresult *r, int limit, struct store_attempt *out, int *n)
{
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++) {
		struct store_attempt *a = &out[k++];
		a->seq = col_i64(r, row, 0);
		a->at = col_i64(r, row, 1);
		a->http_status = (int)col_i64(r, row, 2);
		a->latency_ms = (int)col_i64(r, row, 3);
		col_copy(r, row, 4, a->error, sizeof(a->error));
		a->response = col_dup(r, row, 5, &a->response_len);
	}
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_attempt_list(struct store *st, int64_t delivery_seq, int64_t after_seq, int limit,
                           struct store_attempt *out, int *n)
{
	struct params p = {0};
	p_i64(&p, delivery_seq);
	p_i64(&p, after_seq);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r =
	    q(PG(st),
	      "SELECT seq, at, http_status, latency_ms, error, response FROM attempts"
	      " WHERE delivery_seq = $1::int8 AND seq > $2::int8 ORDER BY seq LIMIT $3::int4",
	      &p, true, true);
	if (!r)
		return GERR_IO;
	return attempt_rows(r, limit, out, n);
}

static int pg_attempt_latest(struct store *st, int64_t delivery_seq, int limit,
                             struct store_attempt *out, int *n)
{
	struct params p = {0};
	p_i64(&p, delivery_seq);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r = q(PG(st),
	                "SELECT * FROM (SELECT seq, at, http_status, latency_ms, error, response"
	                " FROM attempts WHERE delivery_seq = $1::int8 ORDER BY seq DESC"
	                " LIMIT $2::int4) a ORDER BY seq",
	                &p, true, true);
	if (!r)
		return GERR_IO;
	return attempt_rows(r, limit, out, n);
}

static int pg_event_get(struct store *st, int64_t company_seq, const char *id,
                        struct store_event *out)
{
	memset(out, 0, sizeof(*out));
	struct params p = {0};
	p_i64(&p, company_seq);
	p_text(&p, id);
	PGresult *r = q(PG(st),
	                "SELECT seq, company_seq, id, event, date_ms, unit, data FROM events"
	                " WHERE company_seq = $1::int8 AND id = $2::text",
	                &p, true, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) > 0) {
		out->seq = col_i64(r, 0, 0);
		read_event(r, 0, 1, out);
		rc = 0;
	}
	PQclear(r);
	return rc;
}

static int pg_event_range(struct store *st, int64_t company_seq, int64_t since_ms, int64_t until_ms,
                          int64_t after_seq, int limit, struct store_event *out, int *n)
{
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, since_ms);
	p_i64(&p, until_ms);
	p_i64(&p, after_seq);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r =
	    q(PG(st),
	      "SELECT seq, company_seq, id, event, date_ms, unit, data FROM events"
	      " WHERE company_seq = $1::int8 AND date_ms >= $2::int8 AND date_ms < $3::int8"
	      " AND seq > $4::int8 ORDER BY seq LIMIT $5::int4",
	      &p, true, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].seq = col_i64(r, row, 0);
		read_event(r, row, 1, &out[k]);
		k++;
	}
	PQclear(r);
	*n = k;
	return 0;
}

static int pg_receipt_next_due(struct store *st, int64_t *at)
{
	*at = 0;
	PGresult *r =
	    q(PG(st), "SELECT min(apply_at) FROM receipts WHERE status = 0", NULL, false, true);
	if (!r)
		return GERR_IO;
	if (PQntuples(r) == 1)
		*at = col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* The columns of a receipt in a list: body and headers left empty. */
#define RECEIPT_LIST_COLS                                                                          \
	"seq, id, company_seq, source_seq, msg_id, event, date, date_us, date_ns, entity_type, "   \
	"entity_key, kept, ''::bytea, '{}', verification, address, status, duplicates, apply_at, " \
	"created_at, updated_at"

static int pg_receipt_get(struct store *st, int64_t company_seq, const char *id,
                          struct store_receipt *out)
{
	struct params p = {0};
	p_text(&p, id);
	p_i64(&p, company_seq);
	PGresult *r = q(PG(st),
	                "SELECT " RECEIPT_COLS " FROM receipts WHERE id = $1::text"
	                " AND ($2::int8 = 0 OR company_seq = $2::int8)",
	                &p, true, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) == 1 && (rc = read_receipt(r, 0, out)))
		store_receipt_free(out);
	PQclear(r);
	return rc;
}

static int pg_receipt_list(struct store *st, int64_t company_seq,
                           const struct store_receipt_filter *f, int64_t before_seq, int limit,
                           struct store_receipt *out, int *n)
{
	*n = 0;
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, before_seq ? before_seq : INT64_MAX);
	p_i64(&p, f->source_seq);
	p_text(&p, f->event);
	p_text(&p, f->entity_key);
	p_i64(&p, f->status);
	p_i64(&p, limit);
	p_text(&p, f->origin);
	PGresult *r = q(PG(st),
	                "SELECT " RECEIPT_LIST_COLS " FROM receipts WHERE company_seq = $1::int8"
	                " AND seq < $2::int8 AND ($3::int8 = 0 OR source_seq = $3::int8)"
	                " AND ($4::text IS NULL OR event = $4::text)"
	                " AND ($5::text IS NULL OR entity_key = $5::text)"
	                " AND ($6::int4 < 0 OR status = $6::int4)"
	                " AND ($8::text IS NULL OR (CASE WHEN verification = 'reconciliation'"
	                " THEN 'reconciliation' ELSE 'received' END) = $8::text)"
	                " ORDER BY seq DESC LIMIT $7::int4",
	                &p, true, true);
	if (!r)
		return GERR_IO;
	int k = 0, err = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++) {
		if ((err = read_receipt(r, row, &out[k]))) {
			store_receipt_free(&out[k]);
			break;
		}
		k++;
	}
	PQclear(r);
	if (err)
		while (k > 0)
			store_receipt_free(&out[--k]);
	*n = k;
	return err;
}

static int pg_entity_get(struct store *st, int64_t company_seq, const char *type, const char *key,
                         struct store_entity_row *out)
{
	memset(out, 0, sizeof(*out));
	struct params p = {0};
	p_i64(&p, company_seq);
	p_text(&p, type);
	p_text(&p, key);
	PGresult *r = q(PG(st),
	                "SELECT date_us, date_ns, kept, receipt_seq, updated_at FROM entities"
	                " WHERE company_seq = $1::int8 AND type = $2::text AND key = $3::text",
	                &p, false, true);
	if (!r)
		return GERR_IO;
	int rc = GERR_NOTFOUND;
	if (PQntuples(r) == 1) {
		snprintf(out->type, sizeof(out->type), "%s", type);
		snprintf(out->key, sizeof(out->key), "%s", key);
		out->date_us = col_i64(r, 0, 0);
		out->date_ns = (int32_t)col_i64(r, 0, 1);
		out->kept = col_dup(r, 0, 2, NULL);
		out->receipt_seq = col_i64(r, 0, 3);
		out->updated_at = col_i64(r, 0, 4);
		rc = out->kept ? 0 : GERR_NOMEM;
	}
	PQclear(r);
	return rc;
}

static int pg_opevent_list(struct store *st, int64_t company_seq, int64_t before_seq, int limit,
                           struct store_opevent *out, int *n)
{
	struct params p = {0};
	p_i64(&p, company_seq);
	p_i64(&p, before_seq ? before_seq : INT64_MAX);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r = q(PG(st),
	                "SELECT o.seq, o.at, o.kind, COALESCE(w.id, ''), o.message"
	                " FROM opevents o LEFT JOIN webhooks w ON w.seq = o.webhook_seq"
	                " WHERE o.company_seq = $1::int8 AND o.seq < $2::int8"
	                " ORDER BY o.seq DESC LIMIT $3::int4",
	                &p, false, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++) {
		struct store_opevent *o = &out[k++];
		o->seq = col_i64(r, row, 0);
		o->at = col_i64(r, row, 1);
		col_copy(r, row, 2, o->kind, sizeof(o->kind));
		col_copy(r, row, 3, o->webhook_id, sizeof(o->webhook_id));
		col_copy(r, row, 4, o->message, sizeof(o->message));
	}
	PQclear(r);
	*n = k;
	return 0;
}

/* ---- routes ---------------------------------------------------------------------------------- */

#define ROUTE_COLS                                                                                 \
	"r.seq, r.id, r.company_seq, coalesce(r.source_seq, 0), r.status, r.created_at,"           \
	" r.updated_at, r.config, r.name,"                                                         \
	" (SELECT coalesce(string_agg(w.seq::text, ',' ORDER BY w.seq), '') FROM webhooks w"       \
	" WHERE w.route_seq = r.seq AND w.status != 2)"

/* read_route: a row of ROUTE_COLS (the targets come as "seq,seq,..."). */
static int read_route(const PGresult *res, int row, void *out)
{
	struct store_route *r = out;
	memset(r, 0, sizeof(*r));
	r->seq = col_i64(res, row, 0);
	col_copy(res, row, 1, r->id, sizeof(r->id));
	r->company_seq = col_i64(res, row, 2);
	r->source_seq = col_i64(res, row, 3);
	r->status = (int)col_i64(res, row, 4);
	r->created_at = col_i64(res, row, 5);
	r->updated_at = col_i64(res, row, 6);
	r->config = col_dup(res, row, 7, NULL);
	col_copy(res, row, 8, r->name, sizeof(r->name));
	const char *t = PQgetvalue(res, row, 9);
	while (t && *t && r->ntargets < STORE_ROUTE_TARGETS) {
		char *end;
		r->target_seqs[r->ntargets++] = strtoll(t, &end, 10);
		t = *end == ',' ? end + 1 : NULL;
	}
	return r->config ? 0 : GERR_NOMEM;
}

static int pg_route_write(struct store *st, struct store_route *r, struct store_webhook *targets,
                          int ntargets, struct gerr *err)
{
	struct pg_store *s = PG(st);
	bool insert = r->seq == 0;
	uint64_t inserted = 0; /* targets given seqs by this call */
	if (ntargets > 64)
		return gerr_set(err, GERR_INVALID, 400, "invalid_field", "too many targets");
	if (tx_begin(s))
		return db_error(s, err, "route_write");
	struct params p = {0};
	char src[24];
	snprintf(src, sizeof(src), "%lld", (long long)r->source_seq);
	p_text(&p, r->source_seq ? src : NULL);
	p_text(&p, r->name);
	p_text(&p, r->config);
	p_i64(&p, r->status);
	p_i64(&p, r->updated_at);
	PGresult *res;
	if (insert) {
		p_text(&p, r->id);
		p_i64(&p, r->company_seq);
		p_i64(&p, r->created_at);
		res = q(s,
		        "INSERT INTO routes(source_seq, name, config, status, updated_at, id,"
		        " company_seq, created_at) VALUES($1::int8, $2::text, $3::text, $4::int4,"
		        " $5::int8, $6::text, $7::int8, $8::int8) RETURNING seq",
		        &p, false, false);
		if (!res)
			goto fail;
		r->seq = col_i64(res, 0, 0);
		PQclear(res);
	} else {
		p_i64(&p, r->seq);
		if (exec_ok(q(s,
		              "UPDATE routes SET source_seq = $1::int8, name = $2::text,"
		              " config = $3::text, status = $4::int4, updated_at = $5::int8"
		              " WHERE seq = $6::int8",
		              &p, false, false)))
			goto fail;
	}
	for (int i = 0; i < ntargets; i++) {
		struct store_webhook *w = &targets[i];
		struct params t = {0};
		if (w->seq == 0) {
			if (pg_webhook_insert(st, w, NULL))
				goto fail;
			inserted |= 1ULL << i;
			p_i64(&t, r->seq);
			p_i64(&t, w->seq);
			if (exec_ok(q(
			        s, "UPDATE webhooks SET route_seq = $1::int8 WHERE seq = $2::int8",
			        &t, false, false)))
				goto fail;
		} else {
			if (pg_webhook_update(st, w))
				goto fail;
			if (w->status == WH_DELETED) {
				p_i64(&t, w->updated_at);
				p_i64(&t, w->seq);
				if (exec_ok(q(s,
				              "UPDATE deliveries SET status = 3,"
				              " last_error = 'route action removed', updated_at = "
				              "$1::int8"
				              " WHERE webhook_seq = $2::int8 AND status IN (0, 1)",
				              &t, false, false)))
					goto fail;
			}
		}
		/* other nodes load the target into their registries */
		char note[40];
		snprintf(note, sizeof(note), "webhook %lld", (long long)w->seq);
		if (pg_notify(st, note))
			goto fail;
	}
	if (fault_hit("route_write") || tx_commit(s))
		goto fail;
	return 0;
fail:;
	int rc = db_error(s, err, "route_write");
	if (s->in_tx)
		tx_rollback(s);
	if (insert)
		r->seq = 0;
	for (int i = 0; i < ntargets && i < 64; i++)
		if (inserted & (1ULL << i)) /* rolled back: not stored after all */
			targets[i].seq = 0;
	return rc;
}

static void drop_route(void *r)
{
	store_route_free(r);
}

static const struct pg_kind route_kind = {sizeof(struct store_route), read_route, drop_route};

static int pg_route_get(struct store *st, int64_t company_seq, const char *id,
                        struct store_route *out)
{
	return pg_get(st,
	              "SELECT " ROUTE_COLS " FROM routes r WHERE r.id = $1::text"
	              " AND r.company_seq = $2::int8 AND r.status != 2",
	              &route_kind, company_seq, id, out);
}

static int pg_route_list(struct store *st, int64_t company_seq, int64_t before_seq, int limit,
                         struct store_route *out, int *n)
{
	return pg_page(st,
	               "SELECT " ROUTE_COLS " FROM routes r WHERE r.company_seq = $1::int8"
	               " AND r.seq < $2::int8 AND r.status != 2 ORDER BY r.seq DESC"
	               " LIMIT $3::int4",
	               &route_kind, company_seq, before_seq, limit, out, n);
}

static int pg_route_each(struct store *st, void (*fn)(void *ctx, struct store_route *r), void *ctx)
{
	PGresult *res =
	    q(PG(st), "SELECT " ROUTE_COLS " FROM routes r WHERE r.status != 2 ORDER BY r.seq",
	      NULL, false, true);
	if (!res)
		return GERR_IO;
	int rc = 0;
	for (int row = 0; row < PQntuples(res) && !rc; row++) {
		struct store_route r;
		if ((rc = read_route(res, row, &r)))
			break;
		fn(ctx, &r);
		store_route_free(&r);
	}
	PQclear(res);
	return rc;
}

/* The table: pg_<op> for every operation of STORE_OPS (backend.h). */
/* ---- reconciliations and their runs ------------------------------------------------------- */

#define RECON_COLS "seq, id, company_seq, status, name, config, next_run_at, created_at, updated_at"
#define RUN_COLS                                                                                   \
	"seq, id, reconciliation_seq, state, requested_at, started_at, ended_at, pages, jobs,"     \
	" seen, receipts, errors"

static int read_recon(const PGresult *r, int row, void *o)
{
	struct store_reconciliation *out = o;
	memset(out, 0, sizeof(*out));
	out->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, out->id, sizeof(out->id));
	out->company_seq = col_i64(r, row, 2);
	out->status = (int)col_i64(r, row, 3);
	out->name = col_dup(r, row, 4, NULL);
	out->config = col_dup(r, row, 5, NULL);
	out->next_run_at = col_i64(r, row, 6);
	out->created_at = col_i64(r, row, 7);
	out->updated_at = col_i64(r, row, 8);
	if (out->name && out->config)
		return 0;
	store_reconciliation_free(out);
	return GERR_NOMEM;
}

static int read_run(const PGresult *r, int row, void *o)
{
	struct store_recon_run *out = o;
	memset(out, 0, sizeof(*out));
	out->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, out->id, sizeof(out->id));
	out->reconciliation_seq = col_i64(r, row, 2);
	out->state = (int)col_i64(r, row, 3);
	out->requested_at = col_i64(r, row, 4);
	out->started_at = col_i64(r, row, 5);
	out->ended_at = col_i64(r, row, 6);
	out->pages = col_i64(r, row, 7);
	out->jobs = col_i64(r, row, 8);
	out->seen = col_i64(r, row, 9);
	out->receipts = col_i64(r, row, 10);
	out->errors = col_dup(r, row, 11, NULL);
	return out->errors ? 0 : GERR_NOMEM;
}

static int pg_reconciliation_write(struct store *st, struct store_reconciliation *r,
                                   struct gerr *err)
{
	struct pg_store *s = PG(st);
	bool insert = r->seq == 0, del = !insert && r->status == SRC_DELETED;
	struct params p = {0};
	PGresult *res;
	if (insert) {
		p_text(&p, r->id);
		p_i64(&p, r->company_seq);
		p_text(&p, r->name);
		p_text(&p, r->config);
		p_i64(&p, r->next_run_at);
		p_i64(&p, r->created_at);
		p_i64(&p, r->updated_at);
		res = q(s,
		        "INSERT INTO reconciliations(id, company_seq, name, config, status, "
		        "next_run_at,"
		        " created_at, updated_at) VALUES($1::text, $2::int8, $3::text, $4::text, 0,"
		        " $5::int8, $6::int8, $7::int8) RETURNING seq",
		        &p, false, false);
		if (!res)
			return db_error(s, err, "reconciliation_write");
		r->seq = col_i64(res, 0, 0);
		r->status = SRC_ACTIVE;
		PQclear(res);
		return 0;
	}
	if (del) {
		/* one statement: the row and its waiting run */
		p_i64(&p, r->updated_at);
		p_i64(&p, r->seq);
		res =
		    q(s,
		      "WITH d AS (UPDATE reconciliations SET status = 2, pending_run = NULL,"
		      " updated_at = $1::int8 WHERE seq = $2::int8 AND status != 2 RETURNING seq),"
		      " x AS (UPDATE reconciliation_runs SET state = 3, ended_at = $1::int8,"
		      " errors = '[\"the reconciliation was deleted\"]' WHERE reconciliation_seq IN"
		      " (SELECT seq FROM d) AND state = 0) SELECT count(*) FROM d",
		      &p, false, false);
		if (!res)
			return db_error(s, err, "reconciliation_write");
		int64_t n = col_i64(res, 0, 0);
		PQclear(res);
		return n ? 0 : GERR_NOTFOUND;
	}
	p_text(&p, r->name);
	p_text(&p, r->config);
	p_i64(&p, r->next_run_at);
	p_i64(&p, r->updated_at);
	p_i64(&p, r->seq);
	int n =
	    changes(q(s,
	              "UPDATE reconciliations SET name = $1::text, config = $2::text,"
	              " next_run_at = CASE WHEN $3::int8 > 0 THEN $3::int8 ELSE next_run_at END,"
	              " updated_at = $4::int8 WHERE seq = $5::int8"
	              " AND status != 2",
	              &p, false, false));
	if (n < 0)
		return db_error(s, err, "reconciliation_write");
	return n ? 0 : GERR_NOTFOUND;
}

static int pg_reconciliation_get(struct store *st, int64_t company_seq, const char *id,
                                 struct store_reconciliation *out)
{
	struct params p = {0};
	p_text(&p, id);
	p_i64(&p, company_seq);
	PGresult *r = q(PG(st),
	                "SELECT " RECON_COLS " FROM reconciliations WHERE id = $1::text"
	                " AND company_seq = $2::int8 AND status != 2",
	                &p, false, true);
	if (!r)
		return GERR_IO;
	int rc = PQntuples(r) > 0 ? read_recon(r, 0, out) : GERR_NOTFOUND;
	PQclear(r);
	return rc;
}

static void drop_recon(void *r)
{
	store_reconciliation_free(r);
}

static void drop_run(void *r)
{
	store_recon_run_free(r);
}

static const struct pg_kind recon_kind = {sizeof(struct store_reconciliation), read_recon,
                                          drop_recon};
static const struct pg_kind run_kind = {sizeof(struct store_recon_run), read_run, drop_run};

static int pg_reconciliation_list(struct store *st, int64_t company_seq, int64_t before_seq,
                                  int limit, struct store_reconciliation *out, int *n)
{
	return pg_page(st,
	               "SELECT " RECON_COLS " FROM reconciliations WHERE company_seq = $1::int8"
	               " AND seq < $2::int8 AND status != 2 ORDER BY seq DESC LIMIT $3::int8",
	               &recon_kind, company_seq, before_seq, limit, out, n);
}

static int pg_reconciliation_request(struct store *st, int64_t seq, int64_t now, char run_id[40],
                                     bool *added)
{
	struct pg_store *s = PG(st);
	char mine[40];
	snprintf(mine, sizeof(mine), "%s", run_id);
	*added = false;
	/* A claim may start the waiting run between the UPDATE that found one
	 * and the read of its id: then ask again (a new run is due then). */
	for (int attempt = 0; attempt < 3; attempt++) {
		struct params p = {0};
		p_text(&p, mine);
		p_i64(&p, now);
		p_i64(&p, seq);
		/* the row lock orders two requests: the second sees the first's
		 * pending_run once it commits, and adds nothing */
		PGresult *r =
		    q(s,
		      "WITH u AS (UPDATE reconciliations SET pending_run = $1::text,"
		      " next_run_at = LEAST(next_run_at, $2::int8) WHERE seq = $3::int8"
		      " AND status != 2 AND pending_run IS NULL RETURNING seq),"
		      " i AS (INSERT INTO reconciliation_runs(id, reconciliation_seq, state,"
		      " requested_at) SELECT $1::text, seq, 0, $2::int8 FROM u)"
		      " SELECT count(*) FROM u",
		      &p, false, false);
		if (!r)
			return GERR_IO;
		int64_t n = col_i64(r, 0, 0);
		PQclear(r);
		if (n) {
			snprintf(run_id, 40, "%s", mine);
			*added = true;
			return 0;
		}
		struct params g = {0};
		p_i64(&g, seq);
		r = q(
		    s,
		    "SELECT pending_run FROM reconciliations WHERE seq = $1::int8 AND status != 2",
		    &g, false, true);
		if (!r)
			return GERR_IO;
		int rows = PQntuples(r);
		bool waiting = rows > 0 && !PQgetisnull(r, 0, 0);
		if (waiting)
			col_copy(r, 0, 0, run_id, 40);
		PQclear(r);
		if (!rows)
			return GERR_NOTFOUND;
		if (waiting)
			return 0;
	}
	return GERR_IO;
}

static int pg_reconciliation_claim(struct store *st, const char *node, int64_t now,
                                   int64_t lease_until, const char *new_run_id,
                                   struct store_reconciliation *out, struct store_recon_run *run)
{
	struct pg_store *s = PG(st);
	memset(out, 0, sizeof(*out));
	memset(run, 0, sizeof(*run));
	/* the poll's usual answer, "nothing due", in one read-only round trip */
	struct params d = {0};
	p_i64(&d, now);
	PGresult *due =
	    q(s,
	      "SELECT 1 FROM reconciliations WHERE status = 0 AND next_run_at <= $1::int8"
	      " AND lease_until <= $1::int8 LIMIT 1",
	      &d, false, true);
	if (!due)
		return GERR_IO;
	int ndue = PQntuples(due);
	PQclear(due);
	if (!ndue)
		return GERR_NOTFOUND;
	if (tx_begin(s))
		return GERR_IO;
	struct params p = {0};
	p_text(&p, node);
	p_i64(&p, lease_until);
	p_i64(&p, now);
	/* The conditional UPDATE is the claim: the row is picked under FOR
	 * UPDATE SKIP LOCKED, and the lease condition is checked again on the
	 * row as updated, so of two nodes claiming at once one gets it. */
	PGresult *r =
	    q(s,
	      "UPDATE reconciliations c SET lease_node = $1::text, lease_until = $2::int8,"
	      " pending_run = NULL FROM (SELECT seq, pending_run FROM reconciliations"
	      " WHERE status = 0 AND next_run_at <= $3::int8 AND lease_until <= $3::int8"
	      " ORDER BY next_run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) o"
	      " WHERE c.seq = o.seq AND c.status = 0 AND c.lease_until <= $3::int8"
	      " RETURNING c.seq, o.pending_run",
	      &p, false, false);
	if (!r)
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		tx_rollback(s);
		return GERR_NOTFOUND;
	}
	int64_t seq = col_i64(r, 0, 0);
	char pending[40] = "";
	if (!PQgetisnull(r, 0, 1))
		col_copy(r, 0, 1, pending, sizeof(pending));
	PQclear(r);
	struct params f = {0};
	p_i64(&f, now);
	p_i64(&f, seq);
	/* a run left running: its node's lease ran out before it ended */
	if (exec_ok(q(s,
	              "UPDATE reconciliation_runs SET state = 4, ended_at = $1::int8,"
	              " errors = '[\"the node running it stopped before the run ended\"]'"
	              " WHERE reconciliation_seq = $2::int8 AND state = 1",
	              &f, false, false)))
		goto fail;
	int n = 0;
	if (pending[0]) {
		struct params u = {0};
		p_i64(&u, now);
		p_text(&u, node);
		p_text(&u, pending);
		n = changes(q(s,
		              "UPDATE reconciliation_runs SET state = 1, started_at = $1::int8,"
		              " node = $2::text WHERE id = $3::text AND state = 0",
		              &u, false, false));
		if (n < 0)
			goto fail;
	}
	if (!n) {
		snprintf(pending, sizeof(pending), "%s", new_run_id);
		struct params i = {0};
		p_text(&i, pending);
		p_i64(&i, seq);
		p_text(&i, node);
		p_i64(&i, now);
		if (exec_ok(q(s,
		              "INSERT INTO reconciliation_runs(id, reconciliation_seq, node, state,"
		              " requested_at, started_at) VALUES($1::text, $2::int8, $3::text, 1,"
		              " $4::int8, $4::int8)",
		              &i, false, false)))
			goto fail;
	}
	struct params g = {0};
	p_i64(&g, seq);
	r = q(s, "SELECT " RECON_COLS " FROM reconciliations WHERE seq = $1::int8", &g, false,
	      false);
	int rc = !r ? GERR_IO : PQntuples(r) ? read_recon(r, 0, out) : GERR_IO;
	PQclear(r);
	if (rc)
		goto fail;
	struct params h = {0};
	p_text(&h, pending);
	r = q(s, "SELECT " RUN_COLS " FROM reconciliation_runs WHERE id = $1::text", &h, false,
	      false);
	rc = !r ? GERR_IO : PQntuples(r) ? read_run(r, 0, run) : GERR_IO;
	PQclear(r);
	if (rc || tx_commit(s))
		goto fail;
	return 0;
fail:
	log_error("store_error", "op=reconciliation_claim err=\"%s\"", s->errmsg);
	if (s->in_tx)
		tx_rollback(s);
	store_reconciliation_free(out);
	store_recon_run_free(run);
	return GERR_IO;
}

/* run_params: a run's counters and errors as $1..$6 (seq first). */
static void run_params(struct params *p, const struct store_recon_run *run)
{
	p_i64(p, run->seq);
	p_i64(p, run->pages);
	p_i64(p, run->jobs);
	p_i64(p, run->seen);
	p_i64(p, run->receipts);
	p_text(p, run->errors ? run->errors : "[]");
}

static int pg_reconciliation_progress(struct store *st, const char *node, int64_t seq,
                                      int64_t lease_until, const struct store_recon_run *run)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	run_params(&p, run);
	p_i64(&p, lease_until);
	p_i64(&p, seq);
	p_text(&p, node);
	PGresult *r =
	    q(s,
	      "WITH l AS (UPDATE reconciliations SET lease_until = $7::int8"
	      " WHERE seq = $8::int8 AND lease_node = $9::text AND status = 0 RETURNING seq),"
	      " u AS (UPDATE reconciliation_runs SET pages = $2::int8, jobs = $3::int8,"
	      " seen = $4::int8, receipts = $5::int8, errors = $6::text WHERE seq = $1::int8)"
	      " SELECT count(*) FROM l",
	      &p, false, false);
	if (!r)
		return GERR_IO;
	int64_t held = col_i64(r, 0, 0);
	PQclear(r);
	return held ? 0 : GERR_CONFLICT;
}

static int pg_reconciliation_finish(struct store *st, const char *node, int64_t seq,
                                    const struct store_recon_run *run, int64_t next_run_at,
                                    const char *opevent_kind, const char *opevent_msg)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	run_params(&p, run);
	p_i64(&p, run->state);
	p_i64(&p, run->ended_at);
	p_i64(&p, next_run_at);
	p_i64(&p, seq);
	p_text(&p, node);
	p_text(&p, opevent_kind);
	p_text(&p, opevent_msg ? opevent_msg : "");
	p_i64(&p, STORE_RECON_RUNS_KEPT - 1);
	PGresult *r =
	    q(s,
	      "WITH u AS (UPDATE reconciliation_runs SET pages = $2::int8, jobs = $3::int8,"
	      " seen = $4::int8, receipts = $5::int8, errors = $6::text, state = $7::int4,"
	      " ended_at = $8::int8 WHERE seq = $1::int8),"
	      " l AS (UPDATE reconciliations SET lease_node = NULL, lease_until = 0,"
	      " next_run_at = CASE WHEN pending_run IS NOT NULL THEN $8::int8 ELSE $9::int8"
	      " END WHERE seq = $10::int8 AND lease_node = $11::text),"
	      " o AS (INSERT INTO opevents(company_seq, at, kind, webhook_seq, message)"
	      " SELECT company_seq, $8::int8, $12::text, NULL, $13::text FROM reconciliations"
	      " WHERE seq = $10::int8 AND $12::text IS NOT NULL),"
	      /* the newest STORE_RECON_RUNS_KEPT runs stay */
	      " x AS (DELETE FROM reconciliation_runs WHERE reconciliation_seq = $10::int8 AND"
	      " state >= 2 AND seq < (SELECT seq FROM reconciliation_runs WHERE"
	      " reconciliation_seq = $10::int8 ORDER BY seq DESC LIMIT 1 OFFSET $14::int8))"
	      " SELECT 1",
	      &p, false, false);
	if (!r)
		return GERR_IO;
	PQclear(r);
	return 0;
}

/* a reconciliation's runs, paged as pg_page pages a company's objects */
static int pg_recon_run_list(struct store *st, int64_t seq, int64_t before_seq, int limit,
                             struct store_recon_run *out, int *n)
{
	return pg_page(st,
	               "SELECT " RUN_COLS " FROM reconciliation_runs WHERE reconciliation_seq ="
	               " $1::int8 AND seq < $2::int8 ORDER BY seq DESC LIMIT $3::int8",
	               &run_kind, seq, before_seq, limit, out, n);
}

/* ---- sources and rejections ---------------------------------------------------------------- */

#define SOURCE_COLS "seq, id, company_seq, status, name, config, created_at, updated_at"

/* read_source: row of r into out (a struct store_source); GERR_NOMEM (and
 * nothing kept) when a copy could not be made. */
static int read_source(const PGresult *r, int row, void *out)
{
	struct store_source *src = out;
	src->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, src->id, sizeof(src->id));
	src->company_seq = col_i64(r, row, 2);
	src->status = (int)col_i64(r, row, 3);
	src->name = col_dup(r, row, 4, NULL);
	src->config = col_dup(r, row, 5, NULL);
	src->created_at = col_i64(r, row, 6);
	src->updated_at = col_i64(r, row, 7);
	if (src->name && src->config)
		return 0;
	store_source_free(src);
	return GERR_NOMEM;
}

static void drop_source(void *src)
{
	store_source_free(src);
}

static const struct pg_kind source_kind = {sizeof(struct store_source), read_source, drop_source};

static int pg_source_insert(struct store *st, struct store_source *src, struct gerr *err)
{
	struct pg_store *s = PG(st);
	struct params p = {0};
	p_text(&p, src->id);
	p_i64(&p, src->company_seq);
	p_text(&p, src->name);
	p_text(&p, src->config);
	p_i64(&p, src->created_at);
	p_i64(&p, src->updated_at);
	PGresult *r = q(s,
	                "INSERT INTO sources(id, company_seq, status, name, config, created_at,"
	                " updated_at) VALUES($1::text, $2::int8, 0, $3::text, $4::text, $5::int8,"
	                " $6::int8) RETURNING seq",
	                &p, false, false);
	if (!r)
		return db_error(s, err, "source_insert");
	src->seq = col_i64(r, 0, 0);
	src->status = SRC_ACTIVE;
	PQclear(r);
	return 0;
}

/* one_changed: 0 when an UPDATE changed a row, GERR_NOTFOUND when none. */
static int one_changed(PGresult *r)
{
	int n = changes(r);
	return n < 0 ? n : n > 0 ? 0 : GERR_NOTFOUND;
}

static int pg_source_update(struct store *st, const struct store_source *src)
{
	struct params p = {0};
	p_text(&p, src->name);
	p_text(&p, src->config);
	p_i64(&p, src->updated_at);
	p_i64(&p, src->seq);
	return one_changed(q(PG(st),
	                     "UPDATE sources SET name = $1::text, config = $2::text,"
	                     " updated_at = $3::int8 WHERE seq = $4::int8 AND status != 2",
	                     &p, false, false));
}

static int pg_source_delete(struct store *st, int64_t seq, int64_t now)
{
	struct params p = {0};
	p_i64(&p, now);
	p_i64(&p, seq);
	return one_changed(q(PG(st),
	                     "UPDATE sources SET status = 2, updated_at = $1::int8"
	                     " WHERE seq = $2::int8 AND status != 2",
	                     &p, false, false));
}

static int pg_source_get(struct store *st, int64_t company_seq, const char *id,
                         struct store_source *out)
{
	return pg_get(st,
	              "SELECT " SOURCE_COLS " FROM sources WHERE id = $1::text"
	              " AND company_seq = $2::int8 AND status != 2",
	              &source_kind, company_seq, id, out);
}

static int pg_source_by_seq(struct store *st, int64_t seq, struct store_source *out)
{
	struct params p = {0};
	p_i64(&p, seq);
	return pg_one(q(PG(st),
	                "SELECT " SOURCE_COLS " FROM sources WHERE seq = $1::int8"
	                " AND status != 2",
	                &p, false, true),
	              &source_kind, out);
}

static int pg_source_list(struct store *st, int64_t company_seq, int64_t before_seq, int limit,
                          struct store_source *out, int *n)
{
	return pg_page(st,
	               "SELECT " SOURCE_COLS " FROM sources WHERE company_seq = $1::int8"
	               " AND seq < $2::int8 AND status != 2 ORDER BY seq DESC LIMIT $3::int4",
	               &source_kind, company_seq, before_seq, limit, out, n);
}

static int pg_source_each(struct store *st, void (*fn)(void *ctx, struct store_source *src),
                          void *ctx)
{
	PGresult *r =
	    q(PG(st), "SELECT " SOURCE_COLS " FROM sources WHERE status != 2 ORDER BY seq", NULL,
	      false, true);
	if (!r)
		return GERR_IO;
	int rc = 0;
	for (int row = 0; row < PQntuples(r); row++) {
		struct store_source src;
		if (read_source(r, row, &src)) {
			rc = GERR_NOMEM;
			continue;
		}
		fn(ctx, &src);
		store_source_free(&src);
	}
	PQclear(r);
	return rc;
}

static int pg_rejection_add(struct store *st, int64_t source_seq, int64_t at, const char *address,
                            const char *reason)
{
	struct pg_store *s = PG(st);
	/* one row through the batch's own insert and trim, in its own transaction */
	struct store_rejection_in x = {source_seq, at, address, reason};
	struct store_batch b = {.rejections = &x, .nrejections = 1};
	if (tx_begin(s) || append_rejections(s, &b) || tx_commit(s)) {
		log_error("store_error", "op=rejection_add err=\"%s\"", s->errmsg);
		if (s->in_tx)
			tx_rollback(s);
		return GERR_IO;
	}
	return 0;
}

static int pg_rejection_list(struct store *st, int64_t source_seq, int limit,
                             struct store_rejection *out, int *n)
{
	struct params p = {0};
	p_i64(&p, source_seq);
	p_i64(&p, limit);
	*n = 0;
	PGresult *r =
	    q(PG(st),
	      "SELECT seq, at, address, reason FROM rejections WHERE source_seq = $1::int8"
	      " ORDER BY seq DESC LIMIT $2::int4",
	      &p, false, true);
	if (!r)
		return GERR_IO;
	int k = 0;
	for (int row = 0; row < PQntuples(r) && k < limit; row++, k++) {
		out[k].seq = col_i64(r, row, 0);
		out[k].at = col_i64(r, row, 1);
		col_copy(r, row, 2, out[k].address, sizeof(out[k].address));
		col_copy(r, row, 3, out[k].reason, sizeof(out[k].reason));
	}
	PQclear(r);
	*n = k;
	return 0;
}

/* ---- connections ----------------------------------------------------------------------------- */

#define CONNECTION_COLS "seq, id, company_seq, name, kind, config, status, created_at, updated_at"

/* A target that uses connection $2 of company $1 (store.h): a live webhook
 * row of a route whose config names it. strpos first: only a config that
 * holds the id is read as JSON. */
#define USES_CONNECTION                                                                            \
	"w.company_seq = $1::int8 AND w.route_seq IS NOT NULL AND w.status != 2"                   \
	" AND strpos(w.config, $2::text) > 0"                                                      \
	" AND (CASE WHEN strpos(w.config, $2::text) > 0"                                           \
	" THEN w.config::jsonb ->> 'connectionId' END) = $2::text"

/* read_connection: row of r into out (a struct store_connection);
 * GERR_NOMEM (and nothing kept) when a copy failed. */
static int read_connection(const PGresult *r, int row, void *out)
{
	struct store_connection *c = out;
	memset(c, 0, sizeof(*c));
	c->seq = col_i64(r, row, 0);
	col_copy(r, row, 1, c->id, sizeof(c->id));
	c->company_seq = col_i64(r, row, 2);
	c->name = col_dup(r, row, 3, NULL);
	col_copy(r, row, 4, c->kind, sizeof(c->kind));
	c->config = col_dup(r, row, 5, NULL);
	c->status = (int)col_i64(r, row, 6);
	c->created_at = col_i64(r, row, 7);
	c->updated_at = col_i64(r, row, 8);
	if (c->name && c->config)
		return 0;
	store_connection_free(c);
	return GERR_NOMEM;
}

static void drop_connection(void *c)
{
	store_connection_free(c);
}

static const struct pg_kind connection_kind = {sizeof(struct store_connection), read_connection,
                                               drop_connection};

/* connection_used: fill err (409) when a live route's target uses
 * connection c, or (deleting it) a live reconciliation does, which reads the
 * connection when it runs and so follows any other change; 0 when none
 * does, GERR_IO when the read failed. */
static int connection_used(struct pg_store *s, const struct store_connection *c, bool del,
                           struct gerr *err)
{
	struct params p = {0};
	p_i64(&p, c->company_seq);
	p_text(&p, c->id);
	p_text(&p, del ? "true" : "false");
	PGresult *r =
	    q(s,
	      "(SELECT 'route', r.id, r.name FROM webhooks w JOIN routes r"
	      " ON r.seq = w.route_seq WHERE " USES_CONNECTION " AND r.status != 2"
	      " ORDER BY r.seq LIMIT 1) UNION ALL (SELECT 'reconciliation', id, name"
	      " FROM reconciliations WHERE $3::bool AND company_seq = $1::int8 AND status != 2"
	      " AND strpos(config, $2::text) > 0"
	      " AND (CASE WHEN strpos(config, $2::text) > 0"
	      " THEN config::jsonb ->> 'connectionId' END) = $2::text"
	      " ORDER BY seq LIMIT 1) LIMIT 1",
	      &p, false, false);
	if (!r)
		return db_error(s, err, "connection_used");
	int rc = 0;
	if (PQntuples(r) > 0) {
		char what[16], rid[40], rname[257];
		col_copy(r, 0, 0, what, sizeof(what));
		col_copy(r, 0, 1, rid, sizeof(rid));
		col_copy(r, 0, 2, rname, sizeof(rname));
		rc = store_connection_refusal(c->id, what, rid, rname, err);
	}
	PQclear(r);
	return rc;
}

/* retarget: the new authorization into every target that uses c, each
 * announced to other nodes ("webhook <seq>") when the transaction commits;
 * their seqs in *seqs (malloc'd), *n. 0, GERR_IO or GERR_NOMEM. */
static int retarget(struct pg_store *s, const struct store_connection *c, const char *authorization,
                    int64_t **seqs, int *n)
{
	struct params p = {0};
	p_i64(&p, c->company_seq);
	p_text(&p, c->id);
	p_text(&p, authorization);
	p_i64(&p, c->updated_at);
	PGresult *r = q(s,
	                "WITH u AS (UPDATE webhooks w SET config = jsonb_set(w.config::jsonb,"
	                " '{authorization}', $3::jsonb)::text, updated_at = $4::int8"
	                " WHERE " USES_CONNECTION " RETURNING w.seq)"
	                " SELECT seq, pg_notify('gancho', 'webhook ' || seq) FROM u ORDER BY seq",
	                &p, false, false);
	if (!r)
		return GERR_IO;
	int rows = PQntuples(r), rc = 0;
	if (rows > 0 && !(*seqs = malloc((size_t)rows * sizeof(**seqs))))
		rc = GERR_NOMEM;
	for (int i = 0; !rc && i < rows; i++)
		(*seqs)[(*n)++] = col_i64(r, i, 0);
	PQclear(r);
	return rc;
}

static int pg_connection_write(struct store *st, struct store_connection *c, bool exclusive,
                               const char *authorization, int64_t **retargeted, int *nretargeted,
                               struct gerr *err)
{
	struct pg_store *s = PG(st);
	bool insert = c->seq == 0, del = !insert && c->status == CONN_DELETED;
	int64_t *seqs = NULL;
	int n = 0, rc = 0;
	struct params p = {0};
	if (retargeted)
		*retargeted = NULL;
	if (nretargeted)
		*nretargeted = 0;
	if (tx_begin(s))
		return db_error(s, err, "connection_write");
	if (insert) {
		p_text(&p, c->id);
		p_i64(&p, c->company_seq);
		p_text(&p, c->name);
		p_text(&p, c->kind);
		p_text(&p, c->config);
		p_i64(&p, c->created_at);
		p_i64(&p, c->updated_at);
		PGresult *r =
		    q(s,
		      "INSERT INTO connections(id, company_seq, name, kind, config, status,"
		      " created_at, updated_at) VALUES($1::text, $2::int8, $3::text,"
		      " $4::text, $5::text, 0, $6::int8, $7::int8) RETURNING seq",
		      &p, false, false);
		if (!r)
			goto fail;
		c->seq = col_i64(r, 0, 0);
		c->status = CONN_ACTIVE;
		PQclear(r);
	} else {
		p_i64(&p, c->seq);
		p_i64(&p, c->updated_at);
		if (!del) {
			p_text(&p, c->name);
			p_text(&p, c->config);
		}
		/* the row stays locked to the commit: a writer that reads the
		 * connection FOR SHARE (a route naming it) waits for this change */
		rc = one_changed(
		    q(s,
		      del ? "UPDATE connections SET status = 2, updated_at = $2::int8"
		            " WHERE seq = $1::int8 AND status != 2"
		          : "UPDATE connections SET name = $3::text, config = $4::text,"
		            " updated_at = $2::int8 WHERE seq = $1::int8 AND status != 2",
		      &p, false, false));
		if (rc == GERR_IO)
			goto fail;
		if (rc) { /* GERR_NOTFOUND: nothing to change */
			tx_rollback(s);
			return rc;
		}
		if ((exclusive || del) && (rc = connection_used(s, c, del, err))) {
			if (s->in_tx)
				tx_rollback(s);
			return rc;
		}
		if (!del && authorization &&
		    (rc = retarget(s, c, authorization, &seqs, &n)) == GERR_NOMEM) {
			tx_rollback(s);
			free(seqs);
			return gerr_set(err, GERR_NOMEM, 503, "unavailable", "out of memory");
		}
		if (rc)
			goto fail;
	}
	if (fault_hit("connection_write") || tx_commit(s))
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
	if (s->in_tx)
		tx_rollback(s);
	free(seqs);
	if (insert) {
		c->seq = 0;
		c->status = 0;
	}
	return rc;
}

static int pg_connection_get(struct store *st, int64_t company_seq, const char *id,
                             struct store_connection *out)
{
	return pg_get(st,
	              "SELECT " CONNECTION_COLS " FROM connections WHERE id = $1::text"
	              " AND company_seq = $2::int8 AND status != 2",
	              &connection_kind, company_seq, id, out);
}

static int pg_connection_list(struct store *st, int64_t company_seq, int64_t before_seq, int limit,
                              struct store_connection *out, int *n)
{
	return pg_page(st,
	               "SELECT " CONNECTION_COLS " FROM connections WHERE company_seq = $1::int8"
	               " AND seq < $2::int8 AND status != 2 ORDER BY seq DESC LIMIT $3::int4",
	               &connection_kind, company_seq, before_seq, limit, out, n);
}

#define PG_STORE_OP(ret, op, params, args) .op = pg_##op,
static const struct store_ops postgres_ops = {
    .name = "postgres", .close = pg_close, STORE_OPS(PG_STORE_OP)};
#undef PG_STORE_OP

#endif /* GANCHO_HAVE_POSTGRES */
