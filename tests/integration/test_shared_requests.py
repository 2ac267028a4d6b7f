"""A forward action's stored request is shared by its deliveries.

A forward sends each receipt's body under the same method, URL and headers, so one request
row, stored by the first commit, serves every later delivery of the action; each delivery
still sends its own receipt's body, byte for byte, and is its own message (Standard
Webhooks' webhook-id names the delivery too). Checked from outside: receipts sent one at a
time (one commit each), each forward answered 500 once so that its retry reads the stored
request back; a replayed receipt is a new message; a restart reads them back too. On SQLite
the requests table is counted: fewer rows than deliveries."""

import json
import sqlite3
import unittest

import harness as H

FAST = {"schedule": [1], "deadlineSeconds": 120}


class SharedRequestsTest(H.GanchoTestCase):

    def test_one_request_row_each_delivery_its_own_body_and_id(self):
        secret = H.new_whsec()
        seen = set()

        def script(index, req):
            mid = req.headers.get("webhook-id")
            if mid in seen:
                return None
            seen.add(mid)
            return H.respond(500)
        self.rx.set(script=script)
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "in", "verification": {"kind": "none"}}), 201, "source")
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "fwd", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [{"kind": "forward", "url": self.rx.url("/fwd"),
                         "authorization": {"kind": "standard", "data": {"secret": secret}},
                         "headers": {"X-Static": "one"}, "retryPolicy": FAST}]}), 201, "route")
        bodies, receipts = [], []
        for i in range(6):
            b = json.dumps({"id": "m%d" % i, "event": "application.moved",
                            "date": "2026-11-30T12:00:00.000Z",
                            "data": {"i": i, "pad": "x" * (50 * i)}}).encode()
            st, js, raw = self.g.api("POST", "/in/" + src["id"], raw=b)
            self.assertEqual(st, 200, raw)
            bodies.append(b)
            receipts.append(js["id"])
            # its first attempt before the next receipt: one commit each
            self.rx.wait_for(i + 1, path="/fwd", timeout=10)
        got = self.rx.wait_for(12, path="/fwd", timeout=20)
        by_id = {}
        for r in got:
            by_id.setdefault(r.headers["webhook-id"], []).append(r)
        self.assertEqual(len(by_id), 6, sorted(by_id))
        for mid, attempts in by_id.items():
            self.assertEqual(len(attempts), 2, mid)
            first, retry = attempts
            self.assertEqual(first.body, retry.body, "the retry sends the same bytes")
            self.assertEqual(retry.headers["X-Static"], "one")
            self.assertTrue(H.standard_valid_signatures(
                secret, mid, int(retry.headers["webhook-timestamp"]), retry.body,
                retry.headers["webhook-signature"]))
        self.assertEqual(sorted(a[0].body for a in by_id.values()), sorted(bodies),
                         "each delivery sends its own receipt's body")

        # a replay is a new message: a new id, the same body
        self.rx.set(script=None)
        self.assertStatus(self.api("POST", "/api/v1/receipts/%s/replay" % receipts[2]), 202,
                          "replay")
        again = self.rx.wait_for(13, path="/fwd", timeout=10)[-1]
        self.assertNotIn(again.headers["webhook-id"], by_id)
        self.assertEqual(again.body, bodies[2])

        # after a restart, a delivery read back from the store sends its own body
        self.rx.set(script=lambda index, req: H.respond(500))
        st, _, raw = self.g.api("POST", "/in/" + src["id"], raw=bodies[4].replace(b'"m4"', b'"m9"'))
        self.assertEqual(st, 200, raw)
        self.rx.wait_for(14, path="/fwd", timeout=10)
        self.g.restart()
        self.rx.set(script=None)
        last = self.rx.wait_for(15, path="/fwd", timeout=20)[-1]
        self.assertEqual(last.body, bodies[4].replace(b'"m4"', b'"m9"'))

        if self.g.db.startswith("sqlite:"):
            db = sqlite3.connect("file:%s?mode=ro" % self.g.db[len("sqlite:"):], uri=True)
            try:
                (requests,) = db.execute("SELECT count(*) FROM requests").fetchone()
                (deliveries,) = db.execute("SELECT count(*) FROM deliveries").fetchone()
            finally:
                db.close()
            self.assertEqual(deliveries, 8)
            self.assertLessEqual(requests, 2, "one request row serves the action's deliveries")


if __name__ == "__main__":
    unittest.main()
