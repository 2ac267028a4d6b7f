"""Schema parity: the SQLite and the PostgreSQL schema describe the same store.

The schema is written twice (the migrations of src/store/sqlite.c and of
src/store/postgres.c). This test lets gancho migrate a fresh database of each
kind, reads back what it made (SQLite: PRAGMA table_info / index_list /
index_info; PostgreSQL: information_schema.columns and pg_index) and checks
that both have the same tables, the same columns per table (names, types by
the small map below, NOT NULL) and the same indexes (column lists, unique,
partial predicate). Every intended difference is listed in INTENDED with its
reason; anything else fails, and so does an INTENDED entry that no longer
holds (the list cannot rot).

It needs both backends in one run, so it runs in the PostgreSQL pass
(it.pg.test_schema) and starts gancho on a SQLite file itself.
"""

import os
import re
import shutil
import sqlite3
import tempfile
import unittest

import harness as H

# SQLite declared type -> the PostgreSQL data_types it may be.
TYPES = {
    "INTEGER": {"bigint", "integer"},
    "TEXT": {"text"},
    "BLOB": {"bytea"},
}

# Intended differences, each with its reason. Keys:
#   ("table", name)                    a table only one backend has
#   ("column", table, name)            a column only one backend has
#   ("notnull", table, name)           NOT NULL differs
#   ("index", table, cols, unique, predicate)   an index only one backend has
CLUSTER = "several nodes share a PostgreSQL store; SQLite is always one node"
INTENDED = {
    "postgres": {
        ("table", "lanes"): CLUSTER + ": the owner of each FIFO lane",
        ("table", "nodes"): CLUSTER + ": node heartbeats",
        ("column", "deliveries", "owner"): CLUSTER + ": the node that may send it",
        ("column", "deliveries", "lane"): CLUSTER + ": its FIFO lane, claimed whole",
        ("index", "deliveries", ("next_at", "seq"), False, "status=0andownerisnull"):
            CLUSTER + ": claims take unowned due work (released work comes back this way)",
        ("index", "deliveries", ("owner",), False, "status=0"): CLUSTER + ": reap and leave",
        ("index", "deliveries", ("lane", "seq"), False, "status=0andlaneisnotnull"):
            CLUSTER + ": a lane's open deliveries in order",
        ("index", "lanes", ("lane",), True, ""): CLUSTER + ": lanes' primary key",
        ("index", "lanes", ("owner",), False, ""): CLUSTER + ": a node's lanes",
        ("index", "nodes", ("id",), True, ""): CLUSTER + ": nodes' primary key",
        ("index", "events", ("company_seq", "id"), True, ""):
            "event ids are unique per company: PostgreSQL keeps the unique index on events; "
            "SQLite moved them to the event_ids table (migration 3, idmap.h)",
        ("index", "receipts", ("source_seq", "msg_id"), True, ""):
            "senders' ids are unique per source: PostgreSQL keeps the unique index on receipts; "
            "SQLite moved them to the receipt_ids table (migration 10, idmap.h)",
    },
    "sqlite": {
        ("table", "event_ids"): "SQLite's event ids, merged in sorted batches (idmap.h) instead of "
                                "a unique index on events that slowed every insert",
        ("index", "event_ids", ("company_seq", "id"), True, ""): "event_ids' primary key",
        ("table", "receipt_ids"): "SQLite's senders' ids of receipts, merged in sorted batches "
                                  "(idmap.h) instead of a unique index on receipts that dirtied "
                                  "a page per receipt",
        ("index", "receipt_ids", ("source_seq", "msg_id"), True, ""): "receipt_ids' primary key",
        ("index", "deliveries", ("next_at", "seq"), False, "status=0"):
            "the single node lets go of deliveries waiting for a distant retry and brings them "
            "back by due time (store_open_due); on PostgreSQL the node releases them and claims "
            "them back over deliveries_unowned",
    },
    "both": {
        # SQLite lets the PRIMARY KEY of a rowid table (other than INTEGER
        # PRIMARY KEY) hold NULL, a documented legacy quirk; gancho never
        # writes NULL there, and rebuilding the tables for it is not worth a
        # migration.
        ("notnull", "tokens", "hash"): "SQLite's nullable TEXT PRIMARY KEY (legacy quirk)",
        ("notnull", "meta", "key"): "SQLite's nullable TEXT PRIMARY KEY (legacy quirk)",
    },
}


def norm_predicate(p):
    """A partial index's predicate, comparable across backends: lower case,
    without parentheses or blanks ("(status = 0)" -> "status=0")."""
    return re.sub(r"[\s()]", "", (p or "").lower())


def sqlite_schema(path):
    """(columns, indexes): columns {table: {name: (type, notnull)}}; indexes
    {(table, cols, unique, predicate)}."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        columns, indexes = {}, set()
        for t in tables:
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
            without_rowid = "WITHOUT ROWID" in sql.upper()
            info = list(db.execute("PRAGMA table_info(%s)" % t))
            pk = [(pkn, name, ctype.upper()) for _c, name, ctype, _nn, _d, pkn in info if pkn]
            # INTEGER PRIMARY KEY is the rowid itself: never NULL, no index of its own
            rowid_alias = len(pk) == 1 and pk[0][2] == "INTEGER" and not without_rowid
            cols = {}
            for _cid, name, ctype, notnull, _dflt, pkn in info:
                # a WITHOUT ROWID table's key is NOT NULL; a rowid table's other
                # PRIMARY KEY columns may hold NULL (SQLite's legacy quirk)
                nn = bool(notnull) or (bool(pkn) and (without_rowid or rowid_alias))
                cols[name] = (ctype.upper(), nn)
            columns[t] = cols
            for _seq, iname, unique, _origin, partial in db.execute("PRAGMA index_list(%s)" % t):
                icols = tuple(r[2] for r in db.execute("PRAGMA index_info(%s)" % iname))
                pred = ""
                if partial:
                    isql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                      (iname,)).fetchone()[0]
                    pred = isql[isql.upper().rindex(" WHERE ") + 7:]
                indexes.add((t, icols, bool(unique), norm_predicate(pred)))
            if rowid_alias:
                # PostgreSQL has a real index for the same key
                indexes.add((t, (pk[0][1],), True, ""))
        return columns, indexes
    finally:
        db.close()


PG_INDEXES = """
SELECT t.relname, ix.indisunique, coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''),
       array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                             ORDER BY k.ord), ',')
FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
"""


def pg_schema(url):
    import pg
    columns, indexes = {}, set()
    out = pg.psql(url, "SELECT table_name, column_name, data_type, is_nullable"
                       " FROM information_schema.columns WHERE table_schema = 'public'")
    for line in out.splitlines():
        if not line:
            continue
        t, c, ctype, nullable = line.split("|")
        columns.setdefault(t, {})[c] = (ctype, nullable == "NO")
    for line in pg.psql(url, PG_INDEXES).splitlines():
        if not line:
            continue
        t, unique, pred, cols = line.split("|")
        indexes.add((t, tuple(cols.split(",")), unique == "t", norm_predicate(pred)))
    return columns, indexes


def differences(sq, pgs):
    """The differences between the two schemas, as INTENDED-style keys mapped
    to the backend that has the thing ("sqlite"/"postgres"), or to "both" for
    a column both have but describe differently."""
    scols, sidx = sq
    pcols, pidx = pgs
    diffs = {}
    for t in set(scols) | set(pcols):
        if t not in pcols:
            diffs[("table", t)] = "sqlite"
            continue
        if t not in scols:
            diffs[("table", t)] = "postgres"
            continue
        for c in set(scols[t]) | set(pcols[t]):
            if c not in pcols[t]:
                diffs[("column", t, c)] = "sqlite"
            elif c not in scols[t]:
                diffs[("column", t, c)] = "postgres"
            else:
                stype, snn = scols[t][c]
                ptype, pnn = pcols[t][c]
                if ptype not in TYPES.get(stype, set()):
                    diffs[("type", t, c, stype, ptype)] = "both"
                if snn != pnn:
                    diffs[("notnull", t, c)] = "both"
    for i in sidx - pidx:
        diffs[("index",) + i] = "sqlite"
    for i in pidx - sidx:
        diffs[("index",) + i] = "postgres"
    return diffs


@unittest.skipUnless(H.backend() == "postgres",
                     "needs both backends: runs in the PostgreSQL pass (it.pg.test_schema)")
class SchemaParity(unittest.TestCase):
    def test_backends_migrate_to_the_same_schema(self):
        import pg
        d = tempfile.mkdtemp(prefix="gancho-schema-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "gancho.db")
        url = pg.new_database()
        for db in ("sqlite:" + path, url):
            g = H.Gancho(db=db)  # migrates at start
            g.close()
        diffs = differences(sqlite_schema(path), pg_schema(url))
        intended = {}
        for side, entries in INTENDED.items():
            for k in entries:
                intended[k] = side
        unexpected = {k: v for k, v in diffs.items() if intended.get(k) != v}
        self.assertEqual(unexpected, {}, "the schemas differ where no reason is listed "
                                         "(fix a migration or add the difference to INTENDED)")
        stale = {k: v for k, v in intended.items() if diffs.get(k) != v}
        self.assertEqual(stale, {}, "INTENDED lists differences that no longer exist")


if __name__ == "__main__":
    unittest.main()
