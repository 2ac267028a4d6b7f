"""Retries, timeouts, dead letters, Retry-After, 410, permanent failures, deactivation, pause, replay."""

import time
import unittest
from datetime import datetime, timezone

import harness as H


def parse_date(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


class RetryBase(H.GanchoTestCase):

    def attempts(self, delivery):
        """Attempts of a delivery, oldest first, from …/attempts; cross-checked with the
        attempts embedded in GET /api/v1/deliveries/{id} when that is a list."""
        atts = self.attempts_of(delivery["id"])
        for a in atts:
            for k in ("id", "at", "statusCode", "latencyMs"):
                self.assertIn(k, a, "an attempt must have %s: %r" % (k, a))
            self.assertRegex(a["at"], H.DATE_RE)
        embedded = delivery.get("attempts")
        if isinstance(embedded, list):
            self.assertEqual([a.get("statusCode") for a in embedded], [a.get("statusCode") for a in atts],
                             "GET /deliveries/{id} attempts and GET …/attempts disagree")
        return atts

    def codes(self, delivery):
        return [a.get("statusCode") for a in self.attempts(delivery)]

    def gaps(self, reqs):
        return [b.mono - a.mono for a, b in zip(reqs, reqs[1:])]

    def operator_events(self, g=None):
        return self.list_all("/api/v1/operator-events", g=g)

    def wait_operator_event(self, webhook_id, kind="webhook.deactivated", timeout=10, g=None):
        return wait(lambda: [e for e in self.operator_events(g=g)
                             if e.get("webhookId") == webhook_id and e.get("kind") == kind],
                    timeout, "no operator event %s for webhook %s" % (kind, webhook_id))


def wait(fn, timeout, message):
    return H.wait_until(fn, timeout, 0.1, message)


class RetryTest(RetryBase):

    def test_500_then_200_delivered_with_attempts(self):
        self.rx.set(script=[H.respond(500, b"boom-500"), H.respond(500, b"boom-500"), H.respond(200, b"fine")])
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
        atts = self.attempts(d)
        self.assertEqual([a["statusCode"] for a in atts], [500, 500, 200], "attempts oldest first: %r" % (atts,))
        self.assertEqual(atts[0].get("response"), "boom-500", "attempt response: the answer body excerpt")
        self.assertEqual(atts[2].get("response"), "fine")
        self.assertEqual(d.get("lastStatusCode"), 200)
        reqs = self.rx.wait_for(3, 5)
        self.assertEqual(len({r.event_id() for r in reqs}), 1, "the same event every time")
        self.assertEqual(len({r.body for r in reqs}), 1, "retries send the same body")
        summary = [x for x in self.deliveries(wh["id"]) if x["id"] == d["id"]][0]
        if isinstance(summary.get("attempts"), int):
            self.assertEqual(summary["attempts"], 3, "attempt count in the delivery list")

    def test_schedule_timing_roughly_honoured(self):
        self.rx.set(script=[H.respond(500)] * 3)
        wh = self.create_webhook(retryPolicy={"schedule": [1.0, 1.5], "deadlineSeconds": 20})
        ev = self.post_event("candidate.hired", {"a": 1})
        self.wait_delivery(wh["id"], ev["id"], "delivered", 15)
        gaps = self.gaps(self.rx.wait_for(4, 1))
        steps = [1.0, 1.5, 1.5]  # the last step repeats
        for i, (g, s) in enumerate(zip(gaps, steps)):
            self.assertGreaterEqual(g, s - 0.05, "gap %d must be >= %.1f s, got %.3f (gaps %r)" % (i, s, g, gaps))
            self.assertLess(g, s + 1.5, "gap %d must be about %.1f s, got %.3f (gaps %r)" % (i, s, g, gaps))

    def test_deadline_then_dead_letter_then_manual_retry(self):
        self.rx.set(default=H.respond(500))
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 2.5})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "failed", 10)
        reqs = self.rx.requests
        self.assertGreaterEqual(len(reqs), 3, "retried until the deadline: %r" % (reqs,))
        span = reqs[-1].mono - reqs[0].mono
        self.assertLessEqual(span, 2.5 + 0.5, "no attempt long after the 2.5 s deadline (span %.2f s)" % span)
        n = len(self.attempts(d))
        self.assertEqual(n, len(reqs), "one attempt per request the receiver got")
        self.assertEqual(self.deliveries(wh["id"], status="failed")[0]["id"], d["id"], "status=failed filter")
        # Dead letter: retried by hand.
        self.rx.set(default=H.OK)
        got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
        js = self.assertStatus(got, 202, "retry a failed delivery")
        self.assertEqual(js, {"id": d["id"], "status": "pending"})
        d2 = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
        self.assertEqual(self.codes(d2)[-1], 200)
        self.assertEqual(len(self.attempts(d2)), n + 1, "the manual retry adds one attempt")
        # A delivered delivery may be retried too: it goes out again.
        self.assertStatus(self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"]), 202, "retry a delivered one")
        self.rx.wait_for(n + 2, 10)
        self.wait_delivery(wh["id"], ev["id"], "delivered", 10)

    def test_retry_of_pending_delivery_is_409(self):
        self.rx.set(default=H.respond(500))
        wh = self.create_webhook(retryPolicy={"schedule": [60], "deadlineSeconds": 120})
        ev = self.post_event("candidate.hired", {"a": 1})
        self.rx.wait_for(1, 10)
        d = wait(lambda: (lambda x: x if x and x.get("lastStatusCode") == 500 else None)(
            self.delivery_for(wh["id"], ev["id"])), 10, "first attempt not recorded")
        self.assertEqual(d["status"], "pending", "waiting for its next try: %r" % (d,))
        self.assertTrue(d.get("nextAttemptAt"), "a pending delivery shows nextAttemptAt: %r" % (d,))
        nxt = parse_date(d["nextAttemptAt"])
        self.assertGreater(nxt, time.time() + 30, "next try about 60 s later: %r" % (d,))
        got = self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"])
        self.assertStatus(got, 409, "retry of a pending delivery", code="conflict")
        self.assertStatus(self.api("POST", "/api/v1/deliveries/00000000-0000-4000-8000-000000000000/retry"), 404,
                          "retry of an unknown delivery", code="not_found")


class FailureKindsTest(RetryBase):

    def test_hang_beyond_timeout_then_success(self):
        self.rx.set(script=[H.hang(5)])
        wh = self.create_webhook(timeoutMs=500, retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
        atts = self.attempts(d)
        self.assertEqual([a["statusCode"] for a in atts], [0, 200], "a timeout has statusCode 0: %r" % (atts,))
        err = (atts[0].get("error") or "").lower()
        self.assertTrue("timeout" in err or "timed out" in err, "the first attempt's error says timeout: %r" % err)
        self.assertTrue(400 <= atts[0]["latencyMs"] <= 3000, "timed out after about 500 ms: %r" % (atts[0],))
        reqs = self.rx.wait_for(2, 1)
        self.assertGreaterEqual(reqs[1].mono - reqs[0].mono, 0.5 + 1.0 - 0.05, "timeout then the 1 s step")

    def test_connection_reset_is_retried(self):
        self.rx.set(script=[H.reset(), H.reset()])
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
        atts = self.attempts(d)
        self.assertEqual([a["statusCode"] for a in atts], [0, 0, 200], "resets have statusCode 0: %r" % (atts,))
        self.assertTrue(atts[0].get("error"), "a reset attempt records an error: %r" % (atts[0],))
        self.assertFalse(atts[2].get("error"), "the successful attempt has no error: %r" % (atts[2],))

    def test_slow_but_within_timeout_is_one_success(self):
        self.rx.set(default=H.slow(0.3, 200))
        wh = self.create_webhook(timeoutMs=3000, retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
        atts = self.attempts(d)
        self.assertEqual([a["statusCode"] for a in atts], [200], "one attempt: %r" % (atts,))
        self.assertGreaterEqual(atts[0]["latencyMs"], 250, "latency covers the 0.3 s answer: %r" % (atts[0],))
        self.assertEqual(self.rx.count(), 1)

    def test_redirect_is_a_failure_and_not_followed(self):
        self.rx.set(default=H.redirect("/elsewhere"))
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 1.5})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "failed", 10)
        codes = self.codes(d)
        self.assertTrue(len(codes) >= 2 and set(codes) == {302}, "every attempt is a 302 failure: %r" % (codes,))
        self.assertEqual(self.rx.count("/elsewhere"), 0, "the redirect must never be followed")
        self.assertEqual(self.rx.count("/hook"), len(codes))

    def test_retry_after_on_429_and_503(self):
        def script(i, req):
            if req.path_index == 0:
                code = int(req.path.rsplit("/", 1)[1])
                return H.respond(code, b"later", {"Retry-After": "2"})
            return None

        self.rx.set(script=script)
        pol = {"schedule": [1], "deadlineSeconds": 10}
        whs = {code: self.create_webhook(path="/ra/%d" % code, retryPolicy=pol) for code in (429, 503)}
        ev = self.post_event("candidate.hired", {"a": 1})
        for code, wh in whs.items():
            d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
            self.assertEqual(self.codes(d), [code, 200])
            reqs = self.rx.wait_for(2, 1, path="/ra/%d" % code)
            gap = reqs[1].mono - reqs[0].mono
            self.assertGreaterEqual(gap, 1.95, "Retry-After: 2 on %d: next try not before 2 s (got %.3f s, the "
                                               "schedule step is 1 s)" % (code, gap))
            self.assertLess(gap, 4.0, "Retry-After: 2 must not delay much longer (%.3f s)" % gap)

    def test_fail_permanently_on_404(self):
        self.rx.set(default=H.respond(404, b'{"statusCode":404,"error":"Not Found"}'))
        pol = {"schedule": [1], "deadlineSeconds": 1.5}
        perm = self.create_webhook(path="/perm", retryPolicy=pol, failPermanentlyOn=[404])
        plain = self.create_webhook(path="/plain", retryPolicy=pol)
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(perm["id"], ev["id"], "failed", 10)
        # The plain webhook keeps retrying the 404 until its deadline (the control group).
        d2 = self.wait_delivery(plain["id"], ev["id"], "failed", 10)
        self.assertGreaterEqual(len(self.codes(d2)), 2, "without failPermanentlyOn a 404 is retried")
        self.assertEqual(self.codes(d), [404], "failPermanentlyOn [404]: exactly one attempt")
        self.assertEqual(self.rx.count("/perm"), 1, "the receiver got exactly one request")


class DeactivationTest(RetryBase):

    def test_410_deactivates_and_holds_until_resumed(self):
        self.rx.set(script=[H.respond(410, b"gone")])
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        e1 = self.post_event("candidate.hired", {"n": 1})
        self.rx.wait_for(1, 10)
        self.wait_webhook_status(wh["id"], "inactive", 10)
        ops = self.wait_operator_event(wh["id"])
        self.assertRegex(ops[0].get("at", ""), H.DATE_RE)
        self.assertTrue(ops[0].get("message"), "an operator event has a message: %r" % (ops[0],))
        d1 = self.delivery_for(wh["id"], e1["id"])
        self.assertNotEqual(d1["status"], "delivered", "a 410 is not a success: %r" % (d1,))
        later = [self.post_event("candidate.hired", {"n": n})["id"] for n in (2, 3)]
        for eid in later:
            d = wait(lambda: (lambda x: x if x and x["status"] == "held" else None)(self.delivery_for(wh["id"], eid)),
                     5, "a delivery for a deactivated webhook must be held")
        self.assertEqual(self.rx.count(), 1, "nothing sent while deactivated: %r" % (self.rx.requests,))
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (wh["id"],), {"status": "active"})
        self.assertEqual(self.assertStatus(got, 200, "resume").get("status"), "active")
        self.rx.wait_ids(later, 10)
        for eid in later:
            self.wait_delivery(wh["id"], eid, "delivered", 10)

    def test_pause_holds_and_resume_delivers(self):
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (wh["id"],), {"status": "inactive"})
        self.assertStatus(got, 200, "pause")
        ids = [self.post_event("candidate.hired", {"n": n})["id"] for n in range(3)]
        held = wait(lambda: (lambda l: l if len(l) == 3 else None)(self.deliveries(wh["id"], status="held")),
                    5, "3 held deliveries for a paused webhook")
        self.assertEqual(sorted(d["eventId"] for d in held), sorted(ids))
        self.assertEqual(self.rx.count(), 0, "a paused webhook gets nothing")
        self.assertStatus(self.api("PATCH", "/api/v1/webhooks/%s" % (wh["id"],), {"status": "active"}), 200, "resume")
        self.rx.wait_ids(ids, 10)
        for eid in ids:
            self.wait_delivery(wh["id"], eid, "delivered", 10)

    def test_replay_since(self):
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 10})
        dates = ["2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z"]
        ids = [self.post_event("candidate.hired", {"n": i}, date=dt)["id"] for i, dt in enumerate(dates)]
        self.post_event("job.published", {"other": True}, date=dates[1])  # not this webhook's event
        self.rx.wait_ids(ids, 10)
        got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {"since": dates[1]})
        js = self.assertStatus(got, 202, "replay since %s" % dates[1])
        self.assertEqual(js, {"count": 2}, "events dated >= since that the webhook matches")
        H.wait_until(lambda: sum(1 for r in self.rx.requests if r.event_id() in ids[1:]) >= 4, 10, 0.05,
                     "the replayed events were not received again")
        got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {"since": dates[0], "until": dates[1]})
        self.assertEqual(self.assertStatus(got, 202, "replay [since, until)"), {"count": 1}, "until is exclusive")
        H.wait_until(lambda: sum(1 for r in self.rx.requests if r.event_id() == ids[0]) >= 2, 10, 0.05,
                     "the first event was not replayed")
        dl = self.deliveries(wh["id"])
        self.assertEqual(len(dl), 6, "each replay creates new deliveries (3 + 2 + 1): %r" % (dl,))
        H.wait_until(lambda: all(d["status"] == "delivered" for d in self.deliveries(wh["id"])), 10, 0.1,
                     "replayed deliveries not all delivered")
        counts = {eid: sum(1 for r in self.rx.requests if r.event_id() == eid) for eid in ids}
        self.assertEqual(counts, {ids[0]: 2, ids[1]: 2, ids[2]: 2}, "received counts per event")
        got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {})
        self.assertStatus(got, 400, "replay without since", code="missing_field")
        got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {"since": "last tuesday"})
        self.assertStatus(got, 400, "replay with a bad since", code="invalid_field")


class SevenDayRuleTest(RetryBase):
    """--deactivate-after 2: the "every attempt failed for 7 days" window is 2 s."""

    gancho_args = ("--deactivate-after", "2")

    def test_always_failing_webhook_is_deactivated(self):
        self.rx.set(default=lambda req: H.OK if req.path == "/ok" else H.respond(500))
        pol = {"schedule": [1], "deadlineSeconds": 60}
        bad = self.create_webhook(path="/fail", retryPolicy=pol)
        good = self.create_webhook(path="/ok", retryPolicy=pol)
        ev = self.post_event("candidate.hired", {"a": 1})
        first = self.rx.wait_for(1, 10, path="/fail")[0]
        self.wait_webhook_status(bad["id"], "inactive", 15)
        ops = self.wait_operator_event(bad["id"])
        at = parse_date(ops[0]["at"])
        self.assertGreaterEqual(at, first.at + 2 - 0.3,
                                "deactivated %.2f s after the first failure; the window is 2 s" % (at - first.at))
        self.assertGreaterEqual(self.rx.count("/fail"), 2, "it kept retrying during the window")
        wait(lambda: (lambda x: x if x and x["status"] in ("held", "failed") else None)(
            self.delivery_for(bad["id"], ev["id"])), 5, "the delivery must stop being tried (held or failed)")
        n = self.rx.count("/fail")
        self.wait_delivery(good["id"], ev["id"], "delivered", 5)
        # A webhook that succeeded stays active after the window.
        H.wait_until(lambda: time.time() >= first.at + 3, 5, 0.05)
        self.assertEqual(self.webhook(good["id"]).get("status"), "active", "a succeeding webhook stays active")
        self.assertEqual([o for o in self.operator_events() if o.get("webhookId") == good["id"]], [])
        e2 = self.post_event("candidate.hired", {"a": 2})
        wait(lambda: (lambda x: x if x and x["status"] == "held" else None)(self.delivery_for(bad["id"], e2["id"])),
             5, "a later event for the deactivated webhook must be held")
        self.assertEqual(self.rx.count("/fail"), n, "nothing sent to a deactivated webhook")


if __name__ == "__main__":
    unittest.main()
