"""The API probed as a hostile client would: numbers no C type holds, filters over the
envelope (live and in replay), retries of deliveries that cannot go, pagination edges,
unknown tokens and token revocation, and stored configurations that cannot load."""

import json
import os
import sqlite3
import subprocess
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor

import harness as H


class NumbersAndEnvelopeTest(H.GanchoTestCase):

    def test_numbers_no_double_holds_are_routed_not_503(self):
        # A filter and an ordering key make gancho read the event; numbers that
        # overflow a double or an int64 are valid JSON and must be routed.
        rx2 = self.new_receiver()
        rx3 = self.new_receiver()
        self.create_webhook(filter={"data.n": {"$exists": True}})
        self.create_webhook(rx=rx2, ordering="fifo", orderingKey="data.k")
        self.create_webhook(rx=rx3, filter={"data.n": 1})
        raw = '{"n": 1e400, "k": 99999999999999999999, "m": -1e-400}'
        got = self.api("POST", "/api/v1/events", raw=H.event_body("candidate.hired", raw))
        js = self.assertStatus(got, 202, "an event with 1e400 and a 20-digit integer")
        for r in (self.rx, rx2):
            req = r.wait_for(1, 10)[0]
            self.assertIn(b'"data":' + raw.encode(), req.body,
                          "data must be delivered byte for byte")
            self.assertEqual(req.json()["id"], js["id"])
        # data.n is not 1: that webhook gets nothing
        time.sleep(0.5)
        self.assertEqual(rx3.count(), 0, "1e400 must not match a filter on 1")
        # The same body is answered the same without any filter or key.
        other = H.GanchoTestCase.api(self, "POST", "/api/v1/events",
                                     raw=H.event_body("candidate.hired", raw),
                                     token=self.g.create_company("Plain-" + uuid.uuid4().hex[:8])[1])
        self.assertStatus(other, 202, "the same body for a company without filters")

    def test_ordering_keys_of_big_numbers_keep_distinct_lanes(self):
        # 20-digit keys that round to the same double must not share a lane
        # (nor fail): both are delivered, each in its own order.
        self.create_webhook(ordering="fifo", orderingKey="data.k")
        ids = []
        for k in ("99999999999999999999", "99999999999999999998", "1e400"):
            ids.append(self.post_event(data_raw='{"k": %s}' % k)["id"])
        self.rx.wait_ids(ids, 10)

    def test_filter_sees_the_envelope_not_the_request(self):
        # id, date and companyName are in the envelope even when the client
        # omitted them; a filter on them must match.
        wh = self.create_webhook(filter={"companyName": self.company_name,
                                         "id": {"$exists": True},
                                         "date": {"$exists": True}})
        rx2 = self.new_receiver()
        self.create_webhook(rx=rx2, filter={"companyName": "someone else"})
        ev = self.post_event(data={"a": 1})
        self.rx.wait_ids([ev["id"]], 10)
        self.wait_delivery(wh["id"], ev["id"])
        # A filter on the id and date the server chose, also on a given unit.
        rx3 = self.new_receiver()
        self.create_webhook(rx=rx3, filter={"unit": "SP", "data.a": {"$in": [2]}})
        ev2 = self.post_event(data={"a": 2}, unit="SP")
        rx3.wait_ids([ev2["id"]], 10)
        time.sleep(0.3)
        self.assertEqual(rx2.count(), 0, "companyName must be the caller's company")

    def test_replay_matches_exactly_what_ingest_matched(self):
        since = "2000-01-01T00:00:00.000Z"
        evs = [self.post_event(data_raw=d) for d in
               ('{"n": 1}', '{"n": 1e400}', '{"n": 99999999999999999999}', '{"n": "x"}')]
        target = evs[1]
        # Filters on what only the envelope holds: the date and id gancho chose.
        filters = [
            {"date": target["date"], "id": target["id"]},
            {"companyName": self.company_name, "data.n": {"$exists": True}},
            {"data.n": 1},
            {"data.n": {"$in": ["x", 1e20]}},
        ]
        for f in filters:
            rx = self.new_receiver()
            wh = self.create_webhook(rx=rx, filter=f)
            got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {"since": since})
            js = self.assertStatus(got, 202, "replay with filter %s" % json.dumps(f))
            replayed = {r.json()["id"] for r in rx.wait_for(js["count"], 10)} if js["count"] else set()
            time.sleep(0.3)
            self.assertEqual(rx.count(), js["count"])
            expect = {
                0: {target["id"]},
                1: {e["id"] for e in evs},
                2: {evs[0]["id"]},
                3: {evs[2]["id"], evs[3]["id"]},
            }[filters.index(f)]
            self.assertEqual(replayed, expect, "replay with filter %s" % json.dumps(f))

    def test_live_matches_same_as_replay_for_each_filter(self):
        # The same filters, live: each event goes exactly where replay sent it.
        rxs = []
        filters = [{"companyName": self.company_name, "data.n": {"$exists": True}},
                   {"data.n": 1}, {"data.n": {"$in": ["x", 1e20]}}]
        for f in filters:
            rx = self.new_receiver()
            self.create_webhook(rx=rx, filter=f)
            rxs.append(rx)
        evs = [self.post_event(data_raw=d)["id"] for d in
               ('{"n": 1}', '{"n": 1e400}', '{"n": 99999999999999999999}', '{"n": "x"}')]
        expect = [set(evs), {evs[0]}, {evs[2], evs[3]}]
        for rx, want in zip(rxs, expect):
            rx.wait_ids(sorted(want), 10)
        time.sleep(0.3)
        for rx, want in zip(rxs, expect):
            self.assertEqual({r.json()["id"] for r in rx.requests}, want)

    def test_replay_is_bounded_per_call_and_continues_with_a_cursor(self):
        # 2100 events: more than one call scans (2000); the answer says where to go on.
        def post(i):
            got = self.api("POST", "/api/v1/events", {"event": "candidate.hired", "data": {"i": i}})
            return got[0]
        with ThreadPoolExecutor(8) as ex:
            codes = list(ex.map(post, range(2100)))
        self.assertEqual(set(codes), {202})
        wh = self.create_webhook(filter={"data.i": {"$in": [5, 2050]}})
        path = "/api/v1/webhooks/%s/replay" % wh["id"]
        since = "2000-01-01T00:00:00.000Z"
        first = self.assertStatus(self.api("POST", path, {"since": since}), 202, "replay, first call")
        self.assertEqual(first["count"], 1)
        self.assertIsInstance(first.get("nextCursor"), str)
        second = self.assertStatus(self.api("POST", path, {"since": since, "cursor": first["nextCursor"]}),
                                   202, "replay, second call")
        self.assertEqual(second, {"count": 1})
        got = {r.json()["data"]["i"] for r in self.rx.wait_for(2, 10)}
        self.assertEqual(got, {5, 2050})
        self.assertStatus(self.api("POST", path, {"since": since, "cursor": "x"}), 400, "bad cursor",
                          code="invalid_field")
        # the CLI follows the cursor
        env = dict(os.environ)
        env.update({"GANCHO_URL": self.g.base, "GANCHO_TOKEN": self.token})
        p = subprocess.run([H.gancho_bin(), "replay", wh["id"], "--since", since], capture_output=True,
                           env=env, timeout=60, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "count=2")


class RetryAndListsTest(H.GanchoTestCase):

    def failed_delivery(self, **fields):
        self.rx.set(default=H.respond(500))
        wh = self.create_webhook(failPermanentlyOn=[500], **fields)
        ev = self.post_event()
        d = self.wait_delivery(wh["id"], ev["id"], status="failed")
        return wh, ev, d

    def test_retry_of_a_deleted_webhooks_delivery_is_refused(self):
        wh, ev, d = self.failed_delivery()
        self.assertEqual(self.api("DELETE", "/api/v1/webhooks/%s" % wh["id"])[0], 204)
        for _ in range(2):
            got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
            self.assertStatus(got, 409, "retry of a deleted webhook's delivery", code="conflict")
            self.assertIn("deleted", got[1]["error"]["message"])
        after = self.get_delivery(d["id"])
        self.assertNotEqual(after["status"], "pending", "a refused retry must change nothing")

    def test_retry_of_a_paused_webhooks_held_delivery_is_refused_consistently(self):
        wh = self.create_webhook(status="inactive")
        ev = self.post_event()
        d = self.wait_delivery(wh["id"], ev["id"], status="held")
        for what in ("first", "second"):
            got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
            self.assertStatus(got, 409, "%s retry of a held delivery of a paused webhook" % what,
                              code="conflict")
            self.assertIn("paused", got[1]["error"]["message"])
            self.assertEqual(self.get_delivery(d["id"])["status"], "held")
        self.assertEqual(self.rx.count(), 0)
        # resuming sends it
        self.assertStatus(self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"status": "active"}),
                          200, "resume")
        self.wait_delivery(wh["id"], ev["id"])

    def test_delivery_shows_the_latest_100_attempts(self):
        wh, ev, d = self.failed_delivery()
        for i in range(104):
            got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
            self.assertStatus(got, 202, "retry %d" % i)
            self.wait_delivery(wh["id"], ev["id"], status="failed")
        every = self.attempts_of(d["id"])
        self.assertEqual(len(every), 105)
        shown = self.get_delivery(d["id"])["attempts"]
        self.assertEqual([a["id"] for a in shown], [a["id"] for a in every[-100:]],
                         "GET /deliveries/{id} must show the latest 100 attempts, oldest first")

    def test_a_full_last_page_has_no_next_cursor(self):
        for _ in range(3):
            self.create_webhook()
        ids = [self.post_event()["id"] for _ in range(3)]
        self.rx.wait_ids(ids, 10)
        path = "/api/v1/deliveries"
        js = self.assertStatus(self.api("GET", path + "?limit=9"), 200, path)
        self.assertEqual(len(js["data"]), 9)
        self.assertIsNone(js["nextCursor"], "an exactly full last page has no next page")
        js = self.assertStatus(self.api("GET", path + "?limit=4"), 200, path)
        self.assertEqual(len(js["data"]), 4)
        nxt = self.assertStatus(self.api("GET", path + "?limit=5&cursor=" + js["nextCursor"]),
                                200, path)
        self.assertEqual(len(nxt["data"]), 5)
        self.assertIsNone(nxt["nextCursor"])
        self.assertEqual(len({x["id"] for x in js["data"] + nxt["data"]}), 9)
        js = self.assertStatus(self.api("GET", "/api/v1/webhooks?limit=3"), 200, "webhooks")
        self.assertIsNone(js["nextCursor"])
        js = self.assertStatus(self.api("GET", "/api/v1/webhooks?limit=2"), 200, "webhooks")
        self.assertIsNotNone(js["nextCursor"])
        wh, ev, d = self.failed_delivery()
        path = "/api/v1/deliveries/%s/attempts?limit=1" % d["id"]
        self.assertIsNone(self.assertStatus(self.api("GET", path), 200, path)["nextCursor"])
        admin = self.g.admin("GET", "/api/v1/companies?limit=500")
        self.assertEqual(admin[0], 200)


class BrokenConfigTest(H.GanchoTestCase):

    def test_a_stored_config_that_cannot_load_is_loud(self):
        if H.backend() == "postgres":
            self.skipTest("writes the SQLite file directly")
        g = self.new_gancho()
        _cid, tok = g.create_company("Broken-" + uuid.uuid4().hex[:8])
        good = self.create_webhook(token=tok, g=g)
        bad = self.create_webhook(token=tok, g=g, path="/bad")
        worse = self.create_webhook(token=tok, g=g, path="/worse")
        g.terminate()
        db = sqlite3.connect(g.db_path)
        db.execute("UPDATE webhooks SET config = ? WHERE id = ?",
                   ('{"postbackUrl": 5, "action": "candidate.hired"}', bad["id"]))
        db.execute("UPDATE webhooks SET config = ? WHERE id = ?", ("not json", worse["id"]))
        db.commit()
        db.close()
        g.start()
        log = g.log_tail(200)
        for wid in (bad["id"], worse["id"]):
            self.assertRegex(log, r"msg=webhook_not_loaded webhook=%s reason=\"[^\"]+\"" % wid)
        got = g.api("GET", "/healthz")
        self.assertEqual(got[0], 200)
        self.assertEqual(got[1]["status"], "degraded")
        self.assertEqual(got[1]["webhooksNotLoaded"], 2)
        self.assertEqual(set(got[1]["webhookIds"]), {bad["id"], worse["id"]})
        ops = self.list_all("/api/v1/operator-events", token=tok, g=g)
        self.assertEqual({o["webhookId"] for o in ops}, {bad["id"], worse["id"]},
                         "an operator record for each webhook that cannot load: %r" % ops)
        # the good one still works
        ev = self.post_event(token=tok, g=g)
        self.rx.wait_ids([ev["id"]], 10, path="/hook")
        # a broken webhook that is deleted is no longer reported
        self.assertEqual(self.api("DELETE", "/api/v1/webhooks/%s" % bad["id"], token=tok, g=g)[0], 204)
        got = g.api("GET", "/healthz")
        self.assertEqual(got[1].get("webhookIds"), [worse["id"]])


class TokensTest(H.GanchoTestCase):

    def cli(self, *args, token=None):
        env = dict(os.environ)
        env.update({"GANCHO_URL": self.g.base, "GANCHO_TOKEN": token or self.token})
        return subprocess.run([H.gancho_bin()] + list(args), capture_output=True, env=env,
                              timeout=60, text=True)

    def test_unknown_tokens_are_refused_every_time(self):
        for _ in range(3):
            got = self.api("GET", "/api/v1/webhooks", token="gch_" + "0" * 43)
            self.assertStatus(got, 401, "unknown token", code="unauthorized")

    def test_list_and_revoke_tokens(self):
        got = self.api("POST", "/api/v1/tokens", {})
        second = self.assertStatus(got, 201, "POST /api/v1/tokens")
        self.assertRegex(second["id"], r"^[0-9a-f]{16}$")
        listed = self.assertStatus(self.api("GET", "/api/v1/tokens"), 200, "GET /api/v1/tokens")
        self.assertEqual(len(listed["data"]), 2)
        self.assertIn(second["id"], [t["id"] for t in listed["data"]])
        self.assertNotIn(second["token"], json.dumps(listed), "a list never shows a secret")
        for t in listed["data"]:
            self.assertRegex(t["createdAt"], H.DATE_RE)
        # the new token works; another company cannot revoke it
        self.assertStatus(self.api("GET", "/api/v1/webhooks", token=second["token"]), 200, "new token")
        _cid, other = self.g.create_company("Other-" + uuid.uuid4().hex[:8])
        self.assertStatus(self.api("DELETE", "/api/v1/tokens/%s" % second["id"], token=other), 404,
                          "another company's token", code="not_found")
        # revoked: 401 at once, on the next call and after (negative cache too)
        self.assertEqual(self.api("DELETE", "/api/v1/tokens/%s" % second["id"])[0], 204)
        for _ in range(2):
            self.assertStatus(self.api("GET", "/api/v1/webhooks", token=second["token"]), 401,
                              "revoked token", code="unauthorized")
        self.assertStatus(self.api("DELETE", "/api/v1/tokens/%s" % second["id"]), 404,
                          "revoke twice", code="not_found")
        # the last token cannot go
        mine = self.assertStatus(self.api("GET", "/api/v1/tokens"), 200, "list")["data"]
        self.assertEqual(len(mine), 1)
        self.assertStatus(self.api("DELETE", "/api/v1/tokens/%s" % mine[0]["id"]), 409,
                          "revoke the last token", code="conflict")
        self.assertStatus(self.api("GET", "/api/v1/webhooks"), 200, "the last token still works")
        # survives a restart
        self.g.restart()
        self.assertStatus(self.api("GET", "/api/v1/webhooks", token=second["token"]), 401,
                          "revoked token after a restart", code="unauthorized")

    def test_cli_token_list_and_revoke(self):
        made = self.cli("token", "create", "--json")
        self.assertEqual(made.returncode, 0, made.stderr)
        new = json.loads(made.stdout)
        p = self.cli("token", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2, p.stdout)
        self.assertNotIn(new["token"], p.stdout)
        ids = [line.split()[0] for line in lines]
        self.assertIn(new["id"], ids)
        p = self.cli("token", "revoke", new["id"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertStatus(self.api("GET", "/api/v1/webhooks", token=new["token"]), 401,
                          "revoked by the CLI")
        ids.remove(new["id"])
        p = self.cli("token", "revoke", ids[0])
        self.assertNotEqual(p.returncode, 0, "the last token cannot be revoked")
        self.assertIn("last token", p.stderr)


if __name__ == "__main__":
    unittest.main()
