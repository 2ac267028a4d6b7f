"""Ordering (fifo, acesso preset, orderingKey), the unordered concurrency bound, rate limits."""

import json
import threading
import time
import unittest

import harness as H


class FifoTest(H.GanchoTestCase):

    def received_ids(self, path=None):
        return [r.event_id() for r in self.rx.requests if path is None or r.path == path]

    def test_fifo_failing_head_blocks_the_rest(self):
        self.rx.set(script=[H.respond(500)] * 3)
        wh = self.create_webhook(ordering="fifo", retryPolicy={"schedule": [1], "deadlineSeconds": 30})
        self.assertEqual(wh.get("ordering"), "fifo")
        ids = [self.post_event("candidate.hired", {"seq": i})["id"] for i in range(6)]
        self.rx.wait_ids(ids, 15)
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 10)
        got = self.received_ids()
        want = [ids[0]] * 4 + ids[1:]
        self.assertEqual(got, want, "fifo: the head is retried (3 failures) and delivered before any other, "
                                    "then the rest in post order, no gaps, no duplicates.\n got: %r\nwant: %r"
                         % (got, want))
        self.assertEqual(self.rx.max_inflight, 1, "fifo: at most one request in flight")

    def test_acesso_preset_retries_every_5s_in_order(self):
        self.rx.set(script=[H.respond(500)])
        wh = self.create_webhook(events=["position-created", "position-applied"], retryPolicy="acesso")
        ids = [self.post_event(ev, {"seq": i})["id"]
               for i, ev in enumerate(["position-created", "position-applied", "position-created"])]
        self.rx.wait_ids(ids, 12)
        got = self.received_ids()
        self.assertEqual(got, [ids[0], ids[0], ids[1], ids[2]],
                         "acesso implies fifo: the failed head first, then the rest in order: %r" % (got,))
        reqs = self.rx.requests
        gap = reqs[1].mono - reqs[0].mono
        self.assertGreaterEqual(gap, 4.9, "acesso retries every 5 s (got %.2f s)" % gap)
        self.assertLess(gap, 7.5, "acesso retries every 5 s (got %.2f s)" % gap)
        self.assertLess(reqs[3].mono - reqs[1].mono, 2.0,
                        "once the head succeeds the waiting ones go out one after the other, without 5 s waits")
        self.assertEqual(self.rx.max_inflight, 1, "one request at a time")
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 5)

    def test_ordering_key_blocks_only_its_key(self):
        block = threading.Event()
        block.set()

        def behaviour(req):
            app = req.json()["data"]["application"]["id"]
            return H.respond(500) if app == 1 and block.is_set() else H.OK

        self.rx.set(default=behaviour)
        wh = self.create_webhook(action="application.moved", ordering="fifo", orderingKey="data.application.id",
                                 retryPolicy={"schedule": [1], "deadlineSeconds": 30})
        plan = [(1, "a1"), (2, "b1"), (1, "a2"), (2, "b2"), (2, "b3")]
        ids = {}
        for app, name in plan:
            ids[name] = self.post_event("application.moved", {"application": {"id": app}, "name": name})["id"]
        self.rx.wait_ids([ids["b1"], ids["b2"], ids["b3"]], 10)
        for n in ("b1", "b2", "b3"):
            self.wait_delivery(wh["id"], ids[n], "delivered", 10)
        seq = self.received_ids()
        self.assertGreaterEqual(seq.count(ids["a1"]), 1, "key 1's head was tried")
        self.assertNotIn(ids["a2"], seq, "key 1 is blocked by its failing head: a2 must wait")
        self.assertEqual([x for x in seq if x in (ids["b1"], ids["b2"], ids["b3"])],
                         [ids["b1"], ids["b2"], ids["b3"]], "key 2 proceeds in order, once each")
        d = self.delivery_for(wh["id"], ids["a2"])
        self.assertEqual(d["status"], "pending", "a2 waits behind a1: %r" % (d,))
        block.clear()
        self.rx.wait_ids([ids["a1"], ids["a2"]], 10)
        self.wait_delivery(wh["id"], ids["a2"], "delivered", 10)
        seq = self.received_ids()
        a = [x for x in seq if x in (ids["a1"], ids["a2"])]
        self.assertEqual(a[-1], ids["a2"], "a2 goes last")
        self.assertEqual(a.count(ids["a2"]), 1, "a2 once")
        self.assertTrue(all(x == ids["a1"] for x in a[:-1]), "every a1 try comes before a2: %r" % (a,))
        self.assertLessEqual(self.rx.max_inflight, 2, "one in flight per key (2 keys)")


    def test_long_keys_that_share_a_prefix_keep_their_own_lanes(self):
        """Key values longer than a lane name's 63 bytes, equal in their first 63, a NUL
        inside or a leading '~', are distinct keys: a failing head of one never holds
        another, live and after a restart (the key is stored with the delivery)."""
        prefix = "k" * 70
        stuck, free = prefix + "-stuck", prefix + "-free"
        block = threading.Event()
        block.set()

        def behaviour(req):
            key = req.json()["data"]["application"]["id"]
            return H.respond(500) if key == stuck and block.is_set() else H.OK

        self.rx.set(default=behaviour)
        wh = self.create_webhook(action="application.moved", ordering="fifo", orderingKey="data.application.id",
                                 retryPolicy={"schedule": [1], "deadlineSeconds": 60})
        a = self.post_event("application.moved", {"application": {"id": stuck}})["id"]
        b = self.post_event("application.moved", {"application": {"id": free}})["id"]
        self.rx.wait_ids([b], 10)
        self.wait_delivery(wh["id"], b, "delivered", 10)
        # The same after a restart: the lanes are rebuilt from the stored keys.
        self.g.restart()
        c = self.post_event("application.moved", {"application": {"id": free}})["id"]
        n1 = self.post_event("application.moved", {"application": {"id": "a\u0000b"}})["id"]
        n2 = self.post_event("application.moved", {"application": {"id": "a"}})["id"]
        self.rx.wait_ids([c, n1, n2], 10)
        for eid in (c, n1, n2):
            self.wait_delivery(wh["id"], eid, "delivered", 10)
        self.assertEqual(self.delivery_for(wh["id"], a)["status"], "pending", "the stuck key is still retried")
        block.clear()
        self.wait_delivery(wh["id"], a, "delivered", 15)


class ConcurrencyTest(H.GanchoTestCase):

    def test_unordered_concurrency_bound(self):
        self.rx.set(default=H.slow(0.3, 200))
        wh = self.create_webhook(concurrency=2, retryPolicy={"schedule": [1], "deadlineSeconds": 30})
        ids = [self.post_event("candidate.hired", {"seq": i})["id"] for i in range(10)]
        self.rx.wait_ids(ids, 15)
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 5)
        self.assertEqual(self.rx.max_inflight, 2, "concurrency 2: at most 2 in flight, and unordered is parallel")
        self.assertEqual(len(self.rx.requests), 10, "each event once")

    def test_rate_limit(self):
        wh = self.create_webhook(rateLimit={"perSecond": 5}, retryPolicy={"schedule": [1], "deadlineSeconds": 30})
        ids = [self.post_event("candidate.hired", {"seq": i})["id"] for i in range(10)]
        self.rx.wait_ids(ids, 15)
        reqs = self.rx.requests
        self.assertEqual(len(reqs), 10, "none dropped, none twice")
        t = sorted(r.mono for r in reqs)
        worst = max(sum(1 for x in t if t0 <= x < t0 + 0.95) for t0 in t)
        self.assertLessEqual(worst, 5, "rateLimit 5/s: at most 5 requests in any 1 s window, saw %d; arrivals at %r"
                             % (worst, [round(x - t[0], 3) for x in t]))
        self.assertGreaterEqual(t[-1] - t[0], 0.95, "10 requests at 5/s take at least 1 s")
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 5)


if __name__ == "__main__":
    unittest.main()
