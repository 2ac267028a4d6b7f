"""Crash guard: a delivery that crashes gancho cannot crash it twice.

gancho's test hook GANCHO_FAULT_CRASH_STATUS=599 makes the handling of an answer
with status 599 abort(), as a bug in outcome handling would. The first run dies
on it; the next start (with the hook still set) sets that delivery aside as
failed, with an operator record, and keeps sending everything else.
"""

import os
import signal
import time
import unittest
import uuid

import harness as H

REASON = "gancho crashed while handling this delivery; it was set aside so it cannot crash it again"


class CrashGuardTest(H.GanchoTestCase):
    """Each test starts its own gancho (it crashes on purpose)."""

    @classmethod
    def setUpClass(cls):
        H.gancho_bin()
        cls.gancho = None

    def setUp(self):
        super().setUp()
        self.g = self.new_gancho(env={"GANCHO_FAULT_CRASH_STATUS": "599"})
        self.company_id, self.token = self.g.create_company("ACME-" + uuid.uuid4().hex[:10])

    def test_delivery_that_crashed_is_set_aside_at_restart(self):
        ev_a, ev_b, ev_c = ("evt-%s-%s" % (k, uuid.uuid4().hex[:8]) for k in "abc")
        poisoned = {"on": True}

        def answer(req):
            if req.event_id() == ev_a and poisoned["on"]:
                return H.slow(0.5, status=599)  # late, so B is accepted before the crash
            return H.OK

        rx = self.new_receiver(default=answer)
        wh = self.create_webhook(rx=rx, retryPolicy={"schedule": [1], "deadlineSeconds": 120})
        self.post_event(id=ev_a, data={"k": "a"})
        self.post_event(id=ev_b, data={"k": "b"})

        code = H.wait_exit(self.g, 20)
        self.assertEqual(code, -signal.SIGABRT,
                         "gancho should die of the fault hook's abort(); log tail:\n%s" % self.g.log_tail())
        marker = H.crash_marker_path(self.g)
        self.assertTrue(os.path.exists(marker), "no crash marker at %s after the crash" % marker)
        with open(marker) as f:
            marked = f.read().split()[0]

        # Same database, the fault hook still on: A must not be handled again.
        self.g.start()
        a = self.wait_delivery(wh["id"], ev_a, status="failed", timeout=10)
        self.assertEqual(a["id"], marked, "the marker names another delivery than A's")
        self.assertEqual(a["lastError"], REASON)
        self.assertTrue(any(at.get("error") == REASON for at in self.attempts_of(a["id"])),
                        "no attempt row with the crash guard's reason: %r" % self.attempts_of(a["id"]))
        ops = self.list_all("/api/v1/operator-events")
        mine = [o for o in ops if o.get("kind") == "delivery.set_aside"]
        self.assertEqual(len(mine), 1, "one operator record expected: %r" % ops)
        self.assertEqual(mine[0]["webhookId"], wh["id"])
        self.assertIn("delivery %s" % a["id"], mine[0]["message"])
        self.assertIn("msg=crash_guard delivery=%s " % a["id"], self.g.log_tail(400))
        self.assertFalse(os.path.exists(marker), "the marker must be gone once the store committed")

        self.wait_delivery(wh["id"], ev_b, status="delivered", timeout=15)
        self.post_event(id=ev_c, data={"k": "c"})
        self.wait_delivery(wh["id"], ev_c, status="delivered", timeout=15)
        time.sleep(0.5)
        self.assertTrue(self.g.alive(), "gancho died again; log tail:\n%s" % self.g.log_tail())
        self.assertEqual(len([r for r in rx.requests if r.event_id() == ev_a]), 1,
                         "A must have been sent once, before the crash")

        # A retry by hand stays possible (the receiver is fixed now).
        poisoned["on"] = False
        got = self.api("POST", "/api/v1/deliveries/%s/retry" % a["id"])
        self.assertStatus(got, 202, "POST /api/v1/deliveries/%s/retry" % a["id"])
        self.wait_delivery(wh["id"], ev_a, status="delivered", timeout=15)

    def test_restart_without_marker_changes_nothing(self):
        """No crash, no marker: a clean stop and start sets nothing aside."""
        rx = self.new_receiver()
        wh = self.create_webhook(rx=rx)
        ev = self.post_event(data={"k": 1})["id"]
        self.wait_delivery(wh["id"], ev, status="delivered", timeout=10)
        self.assertEqual(self.g.terminate(), 0)
        self.assertFalse(os.path.exists(H.crash_marker_path(self.g)))
        self.g.start()
        ops = self.list_all("/api/v1/operator-events")
        self.assertEqual([o for o in ops if o.get("kind") == "delivery.set_aside"], [])
        self.assertNotIn("msg=crash_guard", self.g.log_tail(400))


if __name__ == "__main__":
    unittest.main()
