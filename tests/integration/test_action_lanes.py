"""Which route actions wait for which: an entity's actions go to a target one at a time, in
order; a receipt without an entity has no order to keep, so its actions go side by side.

A target answers 500 to one receipt (a "blocker") and 200 to the others, and the blocker's
retry is 30 s away. Receipts without an entity sent after the blocker must arrive at once,
not 30 s later behind it; an entity's later receipt must wait for its entity's blocker, and
another entity's must not. Real HTTP to /in/<id>, the dispatcher and a receiver on loopback;
both backends."""

import json
import time
import unittest

import harness as H

SLOW_RETRY = {"schedule": [30], "deadlineSeconds": 3600}


def body(i, app=None, blocker=False, second=0):
    b = {"id": "r%d" % i, "event": "application.moved",
         "date": "2026-11-30T12:00:%02d.000Z" % second,
         "data": {"i": i, "blocker": blocker}}
    if app is not None:
        b["data"]["application"] = {"id": app}
    return b


def blocks(req):
    """500 for a blocker's body, 200 for the rest."""
    return H.respond(500) if json.loads(req.body)["data"]["blocker"] else H.respond(200)


class ActionLanesTest(H.GanchoTestCase):

    def source_and_route(self, entity):
        cfg = {"name": "in", "verification": {"kind": "none"}}
        if entity:
            cfg["entity"] = {"type": "application", "key": "data.application.id"}
        src = self.assertStatus(self.api("POST", "/api/v1/sources", cfg), 201, "source")
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "fwd", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [{"kind": "forward", "url": self.rx.url("/fwd"),
                         "retryPolicy": SLOW_RETRY}]}), 201, "route")
        return src

    def post(self, src, b):
        st, _, raw = self.g.api("POST", "/in/" + src["id"], raw=json.dumps(b))
        self.assertEqual(st, 200, raw)

    def arrived(self):
        return [json.loads(r.body)["data"]["i"] for r in self.rx.requests if r.path == "/fwd"]

    def test_receipts_without_entity_do_not_wait_behind_a_failing_one(self):
        self.rx.set(default=blocks)
        src = self.source_and_route(entity=False)
        self.post(src, body(0, blocker=True))
        self.rx.wait_for(1, path="/fwd", timeout=10)  # the blocker's first attempt: 500
        for i in range(1, 6):
            self.post(src, body(i))
        t0 = time.monotonic()
        H.wait_until(lambda: set(range(1, 6)) <= set(self.arrived()), 10,
                     message="receipts without an entity sent behind a failing one")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(self.arrived().count(0), 1, "the blocker waits for its own retry")

    def test_an_entity_waits_for_its_own_failing_action_only(self):
        self.rx.set(default=blocks)
        src = self.source_and_route(entity=True)
        self.post(src, body(0, app=7, blocker=True, second=1))
        self.rx.wait_for(1, path="/fwd", timeout=10)
        self.post(src, body(1, app=7, second=2))  # behind the blocker, same entity
        self.post(src, body(2, app=8, second=3))  # another entity
        H.wait_until(lambda: 2 in self.arrived(), 10,
                     message="another entity's action, side by side")
        time.sleep(1.5)
        self.assertNotIn(1, self.arrived(), "an entity's actions go one at a time, in order")
        ds = self.assertStatus(self.api("GET", "/api/v1/deliveries?limit=10"), 200,
                               "deliveries")["data"]
        self.assertEqual(sorted(d["status"] for d in ds), ["delivered", "pending", "pending"])


if __name__ == "__main__":
    unittest.main()
