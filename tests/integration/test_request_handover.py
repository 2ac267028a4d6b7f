"""A route action's request, first sent from memory, then retried from the store.

A new action's delivery reaches the dispatcher with its rendered request in memory (made in
the commit that stored it); a retry drops it and reads the stored request back, the way a
delivery read after a restart or claimed from another node does. Both must send the same
request: method, URL, every header but the per-attempt signature headers, the message id
and the body, byte for byte. Each action here answers 500 once, then 200, so every
delivery makes one attempt of each kind; the receiver compares them.
"""

import base64
import json
import unittest
import uuid

import harness as H

FAST = {"schedule": [1], "deadlineSeconds": 120}  # a retry 1 s later
PER_ATTEMPT = {"webhook-timestamp", "webhook-signature", "date"}


def body_bytes(app):
    data = {"application": {"id": app, "currentStep": {"name": "Exame"}},
            "job": {"id": 19139}, "note": "tab\there, quote \" and \\ backslash"}
    head = {"companyName": "ACME", "id": str(uuid.uuid4()), "event": "application.moved",
            "date": "2026-11-30T12:00:00.000Z"}
    return json.dumps(head)[:-1].encode() + b', "data": ' + \
        json.dumps(data, ensure_ascii=False).encode("utf-8") + b"}"


class RequestHandoverTest(H.GanchoTestCase):

    def attempts_match(self, path, n):
        """The n deliveries to path each came twice (500, then 200): both sends equal."""
        got = self.rx.wait_for(2 * n, path=path, timeout=20)
        by_id = {}
        for r in got:
            self.assertIn("webhook-id", r.headers, "signed: the message id names the request")
            by_id.setdefault(r.headers["webhook-id"], []).append(r)
        self.assertEqual(len(by_id), n, [r.headers.get("webhook-id") for r in got])
        for mid, (first, retry) in by_id.items():
            self.assertTrue(mid.startswith("req_"), mid)
            self.assertEqual((first.method, first.path), (retry.method, retry.path))
            self.assertEqual(first.body, retry.body, "the same bytes")

            def kept(r):
                return sorted((k.lower(), v) for k, v in r.raw_headers
                              if k.lower() not in PER_ATTEMPT)
            self.assertEqual(kept(first), kept(retry))
            for r in (first, retry):
                self.assertTrue(H.standard_valid_signatures(
                    self.secret, mid, int(r.headers["webhook-timestamp"]), r.body,
                    r.headers["webhook-signature"]), "signed over the bytes sent")
        return by_id

    def test_first_attempt_from_memory_retry_from_store(self):
        self.secret = H.new_whsec()
        auth = {"kind": "standard", "data": {"secret": self.secret}}
        # every path answers 500 the first time, 200 after
        seen = set()

        def script(index, req):
            key = (req.path, req.headers.get("webhook-id"))
            if key in seen:
                return None
            seen.add(key)
            return H.respond(500)
        self.rx.set(script=script)
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "in", "verification": {"kind": "none"}}), 201, "source")
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "both", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [
                {"kind": "forward", "url": self.rx.url("/fwd"), "authorization": auth,
                 "headers": {"X-Static": "one", "X-Blank": ""}, "retryPolicy": FAST},
                {"kind": "http", "method": "PUT",
                 "url": self.rx.url("/apps/{{body.data.application.id}}"),
                 "headers": {"X-Step": "{{body.data.application.currentStep.name}}"},
                 "body": {"job": "{{body.data.job.id}}", "note": "{{body.data.note}}",
                          "receipt": "{{receipt.id}}"},
                 "authorization": auth, "retryPolicy": FAST},
                {"kind": "http", "method": "DELETE", "url": self.rx.url("/gone"),
                 "authorization": auth, "retryPolicy": FAST}]}), 201, "route")
        bodies = [body_bytes(1000 + i) for i in range(3)]
        for b in bodies:
            st, _, raw = self.g.api("POST", "/in/" + src["id"], raw=b,
                                    headers={"Content-Type": "application/json; charset=utf-8"})
            self.assertEqual(st, 200, raw)
        fwd = self.attempts_match("/fwd", 3)
        self.assertEqual(sorted(r[0].body for r in fwd.values()), sorted(bodies),
                         "a forward sends the received body byte for byte")
        for first, _ in fwd.values():
            self.assertEqual(first.headers["Content-Type"], "application/json; charset=utf-8")
            self.assertEqual(first.headers["X-Static"], "one")
            self.assertEqual(first.headers.get("X-Blank"), "")
        apps = {}
        for i in range(3):
            apps.update(self.attempts_match("/apps/%d" % (1000 + i), 1))
        for first, _ in apps.values():
            self.assertEqual(first.method, "PUT")
            self.assertEqual(first.headers["X-Step"], "Exame")
            self.assertEqual(json.loads(first.body)["job"], 19139)
        gone = self.attempts_match("/gone", 3)
        for first, _ in gone.values():
            self.assertEqual(first.method, "DELETE")
            self.assertEqual(first.body, b"")

        def delivered():
            ds = self.assertStatus(self.api("GET", "/api/v1/deliveries?limit=100"), 200,
                                   "deliveries")["data"]
            return ds if len(ds) == 9 and all(d["status"] == "delivered" for d in ds) else None
        ds = H.wait_until(delivered, 15, message="nine deliveries delivered")
        self.assertTrue(all(d["attempts"] == 2 for d in ds), [d["attempts"] for d in ds])


if __name__ == "__main__":
    unittest.main()
