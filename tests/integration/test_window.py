"""The in-memory window under pressure.

gancho keeps a bounded window of open deliveries in memory. A receiver that is
down must not let its retries fill that window and starve every other webhook:
deliveries waiting for a distant retry leave memory (their new time committed
first) and come back when due, neither early nor lost.
"""
import time
import unittest

import harness as H


class WindowTest(H.GanchoTestCase):
    gancho_args = ("--window", "100")

    def test_dead_receiver_does_not_starve_other_webhooks(self):
        dead = self.new_receiver(default=H.respond(500))
        self.create_webhook(rx=dead, action="candidate.hired",
                            retryPolicy={"schedule": [30], "deadlineSeconds": 3600})
        for i in range(300):
            self.post_event("candidate.hired", {"i": i})
        H.wait_until(lambda: dead.count() >= 300, 30, 0.1,
                     message="every delivery to the dead receiver must be tried once")
        healthy = self.new_receiver()
        self.create_webhook(rx=healthy, action="job.published")
        ev = self.post_event("job.published", {"job": 1})
        got = healthy.wait_for(1, timeout=10)
        self.assertEqual(got[0].event_id(), ev["id"],
                         "a healthy webhook must be served while 300 retries wait")

    def test_deliveries_let_go_of_come_back_on_time(self):
        first = {}

        def fail_first(index, req):
            eid = req.event_id()
            if eid not in first:
                first[eid] = req.at
                return H.respond(500)
            return H.respond(200)

        rx = self.new_receiver(script=fail_first)
        self.create_webhook(rx=rx, retryPolicy={"schedule": [12], "deadlineSeconds": 600})
        ids = [self.post_event("candidate.hired", {"i": i})["id"] for i in range(300)]
        rx.wait_for(600, timeout=60)
        times = {}
        for r in rx.requests:
            times.setdefault(r.event_id(), []).append(r.at)
        for eid in ids:
            t = times.get(eid, [])
            self.assertEqual(len(t), 2, "event %s: one failure, one success, got %d tries" % (eid, len(t)))
            self.assertGreaterEqual(t[1] - t[0], 11.5,
                                    "event %s was retried after %.1f s, before its 12 s step"
                                    % (eid, t[1] - t[0]))
        time.sleep(0.5)
        self.assertEqual(rx.count(), 600, "no delivery may be sent a third time")

    @unittest.skipUnless(H.backend() == "sqlite",
                         "FIFO lanes are capped in memory on a single node only (see dispatcher.c)")
    def test_fifo_backlog_does_not_starve_other_webhooks(self):
        # A FIFO lane sends one delivery at a time: with its receiver down and
        # a backlog three times the window, it must keep only a part of the
        # window, and give every delivery, in order, once the receiver is back.
        state = {"up": False}

        def down_then_up(index, req):
            return H.respond(200) if state["up"] else H.respond(500)

        fifo = self.new_receiver(script=down_then_up)
        self.create_webhook(rx=fifo, action="candidate.hired", ordering="fifo",
                            retryPolicy={"schedule": [1], "deadlineSeconds": 3600})
        healthy = self.new_receiver()
        self.create_webhook(rx=healthy, action="candidate.hired")
        ids = [self.post_event("candidate.hired", {"i": i})["id"] for i in range(300)]
        got = healthy.wait_for(300, timeout=30)
        self.assertEqual(sorted(r.event_id() for r in got), sorted(ids),
                         "the unordered webhook must get every event while the FIFO head fails")
        self.assertGreaterEqual(fifo.count(), 1, "the FIFO head must have been tried")
        self.assertEqual({r.event_id() for r in fifo.requests}, {ids[0]},
                         "only the FIFO head may be tried while it fails")
        state["up"] = True
        H.wait_until(lambda: len({r.event_id() for r in fifo.requests}) >= 300, 60, 0.1,
                     message="every FIFO delivery must arrive once the receiver is back")
        first_seen = []
        for r in fifo.requests:
            if r.event_id() not in first_seen:
                first_seen.append(r.event_id())
        self.assertEqual(first_seen, ids, "FIFO deliveries must arrive in the order of ingest")
