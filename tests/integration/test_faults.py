"""Failures that only an allocation or a thread start would cause, injected with
GANCHO_FAULTS (src/util/fault.h): accepted work must never be parked silently, and a
failed start must not touch freed memory. Each runs against the real binary, on SQLite
and on PostgreSQL."""

import os
import subprocess
import time
import unittest
import uuid

import json

import harness as H


class LostHandoverTest(H.GanchoTestCase):
    """Every hand-over of new deliveries from the committer to the dispatcher fails from
    the second on: the deliveries are in the store, and must still go out, without a
    restart."""

    gancho_env = {"GANCHO_FAULTS": "handover_alloc:2+"}

    def test_lost_handovers_are_read_back(self):
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 60})
        ids = [self.post_event("candidate.hired", {"n": n})["id"] for n in range(6)]
        self.rx.wait_ids(ids, 20)
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 10)
        self.assertIn("msg=handover_failed", self.g.log_tail(400), "the lost hand-over is logged")
        self.assertTrue(self.g.alive())


class LostApiMessageTest(H.GanchoTestCase):
    """Every message from the API to the dispatcher (a manual retry, a pause, a resume)
    is lost: the dispatcher must read what it missed back from the store."""

    gancho_env = {"GANCHO_FAULTS": "post_alloc:1+"}

    def test_retry_pause_and_resume_still_take_effect(self):
        self.rx.set(default=H.respond(404))
        wh = self.create_webhook(failPermanentlyOn=[404], retryPolicy={"schedule": [1], "deadlineSeconds": 60})
        first = self.post_event("candidate.hired", {"n": 1})["id"]
        d = self.wait_delivery(wh["id"], first, "failed", 10)
        # A manual retry: its message to the dispatcher is lost.
        self.rx.set(default=H.OK)
        got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
        self.assertStatus(got, 202, "retry")
        self.wait_delivery(wh["id"], first, "delivered", 10)
        # A pause: new events are held, not sent.
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"status": "inactive"})
        self.assertStatus(got, 200, "pause")
        held = self.post_event("candidate.hired", {"n": 2})["id"]
        self.wait_delivery(wh["id"], held, "held", 10)
        self.assertNotIn(held, [r.event_id() for r in self.rx.requests], "a paused webhook sends nothing")
        # A resume: the held delivery goes.
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"status": "active"})
        self.assertStatus(got, 200, "resume")
        self.rx.wait_ids([held], 10)
        self.wait_delivery(wh["id"], held, "delivered", 10)
        self.assertIn("msg=dispatcher_message_lost", self.g.log_tail(400))


class UnroutableWebhookTest(H.GanchoTestCase):
    """Linking a webhook into its company's list always fails: it is stored (201) but
    cannot receive events, which must be loud (log, /healthz), and a restart loads it."""

    gancho_env = {"GANCHO_FAULTS": "registry_alloc:1+"}

    def test_a_webhook_that_cannot_be_linked_is_loud_and_loads_after_a_restart(self):
        wh = self.create_webhook()
        status, _, body = self.g.api("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertIn(b"degraded", body, "healthz tells that a webhook is not loaded")
        self.assertIn(wh["id"].encode(), body)
        self.assertIn("msg=webhook_not_loaded webhook=%s" % wh["id"], self.g.log_tail(400))
        # After a restart without the fault it loads and receives.
        self.g.extra_env.pop("GANCHO_FAULTS")
        self.g.restart()
        status, _, body = self.g.api("GET", "/healthz")
        self.assertEqual((status, b"degraded" in body), (200, False), body)
        eid = self.post_event("candidate.hired", {"n": 1})["id"]
        self.rx.wait_ids([eid], 10)


class CompanyTokenTest(H.GanchoTestCase):
    """Storing a new company's first token fails: the answer is an error, and since the
    company and its token are one transaction, nothing was created, so the same call made
    again succeeds (it used to answer 409: the company existed without a token)."""

    gancho_env = {"GANCHO_FAULTS": "company_token:2"}  # the 1st is setUp's company

    def test_a_failed_company_create_can_be_retried(self):
        name = "Retry-" + uuid.uuid4().hex[:8]
        status, _, body = self.g.admin("POST", "/api/v1/companies", {"name": name})
        self.assertEqual(status, 503, body)
        status, _, body = self.g.admin("POST", "/api/v1/companies", {"name": name})
        self.assertEqual(status, 201, "the retry creates the company: %r" % (body,))
        token = json.loads(body)["token"]
        got = self.api("GET", "/api/v1/company", token=token)
        self.assertStatus(got, 200, "the new token works")


class ReplayCommitTest(H.GanchoTestCase):
    """The second page (500 events a page) of a replay fails to commit: the answer counts
    the first page with a cursor past it, and going on replays the rest, each event once."""

    gancho_env = {"GANCHO_FAULTS": "replay_commit:2"}

    def test_a_replay_that_fails_part_way_goes_on_without_duplicates(self):
        ids = [self.post_event("candidate.hired", {"i": i})["id"] for i in range(620)]
        rx = self.new_receiver(default=H.OK)
        wh = self.create_webhook(rx=rx, path="/replayed")
        path = "/api/v1/webhooks/%s/replay" % wh["id"]
        since = "2000-01-01T00:00:00.000Z"
        first = self.assertStatus(self.api("POST", path, {"since": since}), 202, "replay, first call")
        self.assertEqual(first.get("count"), 500, first)
        self.assertIsInstance(first.get("nextCursor"), str, "a partial replay says where to go on")
        second = self.assertStatus(self.api("POST", path, {"since": since, "cursor": first["nextCursor"]}),
                                   202, "replay, second call")
        self.assertEqual(second, {"count": 120})
        rx.wait_ids(ids, 30)
        time.sleep(0.5)
        got = [r.event_id() for r in rx.requests]
        self.assertEqual(sorted(got), sorted(ids), "every event replayed exactly once")


class FailedStartTest(H.GanchoTestCase):
    """The dispatcher thread cannot start: gancho must say so and exit non-zero, with no
    sanitizer report (the committer thread already ran: it must be stopped before the
    engine is freed)."""

    gancho = None

    @classmethod
    def setUpClass(cls):
        H.gancho_bin()

    def setUp(self):
        self._ganchos = []
        self._receivers = []

    def test_dispatcher_thread_failure_exits_cleanly(self):
        g = H.Gancho(env={"GANCHO_FAULTS": "dispatcher_thread"}, start=False)
        self.addCleanup(g.close)
        env = dict(os.environ, GANCHO_FAULTS="dispatcher_thread")
        env.pop("GANCHO_LISTEN", None)
        env.pop("GANCHO_DB", None)
        with open(g.log_path, "ab") as log:
            p = subprocess.run(g.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                               cwd=g.dir, timeout=60)
        with open(g.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, "a failed start exits non-zero")
        self.assertIn("dispatcher thread", text, "the reason is told")
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(marker, text, "no sanitizer report on a failed start")


if __name__ == "__main__":
    unittest.main()
