"""The sending side probed as a hostile receiver or client would: Retry-After values that
overflow or lie, retry floods, proxies from the environment, one company starving another,
and log lines that must name things as the API does."""

import email.utils
import json
import os
import re
import subprocess
import time
import unittest
import uuid

import harness as H


def wait(fn, timeout, message):
    return H.wait_until(fn, timeout, 0.1, message)


class DeliveryAttackBase(H.GanchoTestCase):

    def codes(self, delivery):
        return [a.get("statusCode") for a in self.attempts_of(delivery["id"])]

    def assertAlive(self, g=None):
        g = g or self.g
        self.assertTrue(g.alive(), "gancho died; log tail:\n%s" % g.log_tail())
        self.assertNotIn("runtime error", g.log_tail(400), "UBSan reported undefined behaviour")


class RetryAfterTest(DeliveryAttackBase):

    def test_hostile_retry_after_values_are_bounded_not_fatal(self):
        """Each webhook's receiver answers its first request with 429 (or 503) and one
        Retry-After value, then 200. None may crash gancho; huge values are held to the
        deadline, garbage and negatives are ignored, dates are honoured."""
        cases = {
            # path: (status, Retry-After, (lowest, highest) gap in s, deadline)
            "huge": (429, "9999999999999999", (3.5, 6.0), 4),
            "huge503": (503, "9999999999999999", (3.5, 6.0), 4),
            "longer": (429, "9" * 40, (3.5, 6.0), 4),
            "negative": (429, "-5", (0.9, 2.5), 30),
            "garbage": (429, "soon, maybe", (0.9, 2.5), 30),
            "fraction": (429, "1.5e3", (0.9, 2.5), 30),
            "past": (429, "Sun, 06 Nov 1994 08:49:37 GMT", (0.9, 2.5), 30),
            "date": (429, None, (2.4, 5.0), 30),  # an HTTP-date 4 s ahead
        }
        seen = {}

        def script(i, req):
            name = req.path.rsplit("/", 1)[1]
            if seen.get(name):
                return H.OK
            seen[name] = True
            status, value, _, _ = cases[name]
            if value is None:
                value = email.utils.formatdate(time.time() + 4, usegmt=True)
            return H.respond(status, b"later", {"Retry-After": value})

        self.rx.set(script=script)
        whs = {name: self.create_webhook(path="/ra/" + name,
                                         retryPolicy={"schedule": [1], "deadlineSeconds": c[3]})
               for name, c in cases.items()}
        ev = self.post_event("candidate.hired", {"a": 1})
        for name, wh in whs.items():
            d = self.wait_delivery(wh["id"], ev["id"], "delivered", 15)
            self.assertAlive()
            self.assertEqual(self.codes(d), [cases[name][0], 200], name)
            reqs = self.rx.wait_for(2, 1, path="/ra/" + name)
            gap = reqs[1].mono - reqs[0].mono
            lo, hi = cases[name][2]
            self.assertTrue(lo <= gap <= hi, "Retry-After %r: second try %.2f s after the first, expected "
                                              "%.1f..%.1f s" % (cases[name][1], gap, lo, hi))
        self.assertAlive()

    def test_retry_after_past_the_deadline_gets_one_last_try_at_it(self):
        self.rx.set(default=H.respond(429, b"busy", {"Retry-After": "3600"}))
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 3})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "failed", 15)
        reqs = self.rx.requests
        self.assertEqual(len(reqs), 2, "one try, then one last try at the deadline: %r" % (reqs,))
        gap = reqs[1].mono - reqs[0].mono
        self.assertTrue(2.7 <= gap <= 4.5, "the last try comes at the 3 s deadline, not %.2f s" % gap)
        self.assertEqual(self.codes(d), [429, 429])


class RetryFloodTest(DeliveryAttackBase):

    def test_sub_second_steps_and_unbounded_attempts_are_refused(self):
        bad = [
            {"schedule": [0], "deadlineSeconds": 3},
            {"schedule": [0.5, 10], "deadlineSeconds": 60},
            {"schedule": [10, 0.999], "deadlineSeconds": 60},
            {"exponential": {"initialSeconds": 0.1, "maxSeconds": 10, "deadlineSeconds": 60}},
            # more than 100 000 attempts before the deadline
            {"schedule": [1], "deadlineSeconds": 2592000},
            {"exponential": {"initialSeconds": 1, "maxSeconds": 1, "deadlineSeconds": 2592000}},
        ]
        for pol in bad:
            got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired",
                                                         "postbackUrl": self.rx.url(), "retryPolicy": pol})
            self.assertStatus(got, 400, "retryPolicy %s" % json.dumps(pol), code="invalid_field")
            self.assertIn("retryPolicy", got[1]["error"]["message"])
        for pol in ("acesso", "gupy", {"schedule": [1], "deadlineSeconds": 86400},
                    {"exponential": {"initialSeconds": 1, "maxSeconds": 3600, "deadlineSeconds": 2592000}}):
            self.create_webhook(retryPolicy=pol)
        wh = self.create_webhook()
        got = self.api("PATCH", "/api/v1/webhooks/" + wh["id"], {"retryPolicy": {"schedule": [0],
                                                                                 "deadlineSeconds": 3}})
        self.assertStatus(got, 400, "PATCH to a flooding policy", code="invalid_field")

    def test_a_404_is_retried_at_most_once_a_second(self):
        self.rx.set(default=H.respond(404))
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 3})
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.wait_delivery(wh["id"], ev["id"], "failed", 15)
        n = self.rx.count()
        self.assertTrue(2 <= n <= 4, "attempts at 0, 1, 2, 3 s at most, got %d" % n)
        self.assertEqual(len(self.codes(d)), n)
        gaps = [b.mono - a.mono for a, b in zip(self.rx.requests, self.rx.requests[1:])]
        self.assertTrue(all(g >= 0.95 for g in gaps), "no two tries closer than 1 s: %r" % (gaps,))


class ProxyEnvTest(DeliveryAttackBase):

    def test_proxy_variables_are_ignored(self):
        proxy = self.new_receiver(default=H.OK)
        url = proxy.url("/")
        env = {k: url for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY",
                                "all_proxy")}
        env["NO_PROXY"] = env["no_proxy"] = ""
        g = self.new_gancho(env=env)
        _, tok = g.create_company("PROXY-" + uuid.uuid4().hex[:8])
        self.rx.set(default=H.OK)
        wh = self.create_webhook(g=g, token=tok)
        ev = self.post_event("candidate.hired", {"a": 1}, g=g, token=tok)
        self.rx.wait_ids([ev["id"]], 10)
        wait(lambda: [d for d in self.deliveries(wh["id"], token=tok, g=g) if d["status"] == "delivered"],
             10, "the delivery must be delivered, directly")
        self.assertEqual(proxy.count(), 0, "the proxy from the environment got: %r" % (proxy.requests,))

    def test_cli_ignores_proxy_variables(self):
        """The CLI carries the bearer token: it goes only to --url, never to a proxy
        named in the environment."""
        proxy = self.new_receiver(default=H.respond(200, b'{"items":[]}', {"Content-Type": "application/json"}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_")}
        for k in ("http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"):
            env[k] = proxy.url("/")
        env["NO_PROXY"] = env["no_proxy"] = ""
        env.update(GANCHO_URL=self.g.base, GANCHO_TOKEN=self.token)
        p = subprocess.run([H.gancho_bin(), "webhook", "list", "--json"], env=env, capture_output=True, timeout=30)
        self.assertEqual(proxy.count(), 0, "the token went to the proxy: %r" % (proxy.requests,))
        self.assertEqual(p.returncode, 0, p.stderr[-500:])


class FairShareTest(DeliveryAttackBase):
    """--max-inflight 8: company A's four receivers hang; company B's fast receiver, and
    A's own fast one, must still get their events promptly."""

    gancho_args = ("--max-inflight", "8")
    HANG = 25

    def test_hanging_receivers_of_one_company_do_not_starve_others(self):
        slow = self.new_receiver(default=H.hang(self.HANG))
        fast_a = self.new_receiver(default=H.OK)
        for i in range(4):
            self.create_webhook(rx=slow, path="/slow/%d" % i, concurrency=64, timeoutMs=self.HANG * 1000,
                                retryPolicy={"schedule": [60], "deadlineSeconds": 600})
        ids = [self.post_event("candidate.hired", {"n": n})["id"] for n in range(12)]
        wait(lambda: slow.inflight >= 6, 10, "company A's receivers never filled the slots")
        time.sleep(0.5)
        self.assertLessEqual(slow.inflight, 7, "A alone leaves a reserve: at most 7 of 8 in flight")
        # A's own fast webhook, added while its slow ones hang, gets its share.
        wh_a = self.create_webhook(rx=fast_a, path="/fast-a")
        t0 = time.monotonic()
        more = [self.post_event("candidate.hired", {"m": n})["id"] for n in range(3)]
        fast_a.wait_ids(more, 6)
        self.assertLess(time.monotonic() - t0, 6)
        # Company B, a fast receiver: each event arrives within seconds, not after A's 25 s hangs.
        _, tok_b = self.g.create_company("B-" + uuid.uuid4().hex[:8])
        fast_b = self.new_receiver(default=H.OK)
        self.create_webhook(rx=fast_b, token=tok_b)
        for n in range(5):
            t0 = time.monotonic()
            eid = self.post_event("candidate.hired", {"b": n}, token=tok_b)["id"]
            fast_b.wait_ids([eid], 5)
            self.assertLess(time.monotonic() - t0, 5, "B's event %d waited behind A's hanging receivers" % n)
        self.assertLessEqual(slow.inflight, 7, "A's slow receivers stay within their share")
        self.assertTrue(ids and wh_a)
        self.assertAlive()


class LogNamesTest(DeliveryAttackBase):
    """--deactivate-after 2: a webhook whose every attempt fails is deactivated within
    seconds; the log must name it and its delivery as the API does."""

    gancho_args = ("--deactivate-after", "2")

    def log_lines(self):
        with open(self.g.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def test_log_lines_use_api_ids_and_states(self):
        self.rx.set(default=H.respond(500))
        wh = self.create_webhook(retryPolicy={"schedule": [1], "deadlineSeconds": 60})
        ev = self.post_event("candidate.hired", {"a": 1})
        self.wait_webhook_status(wh["id"], "inactive", 15)
        d = wait(lambda: (lambda x: x if x and x["status"] in ("held", "failed") else None)(
            self.delivery_for(wh["id"], ev["id"])), 5, "the delivery must stop being tried")
        time.sleep(0.5)  # the log line is written with the outcome
        lines = self.log_lines()
        deact = [ln for ln in lines if "msg=webhook_deactivated" in ln]
        self.assertTrue(deact, "no webhook_deactivated line:\n%s" % "\n".join(lines[-30:]))
        self.assertIn("webhook=%s " % wh["id"], deact[-1] + " ", "deactivation names the webhook's API id")
        self.assertEqual([ln for ln in lines if "_seq=" in ln and "webhook" in ln], [],
                         "internal webhook numbers in the log")
        mine = [ln for ln in lines if re.search(r"\bdelivery=%s\b" % re.escape(d["id"]), ln)]
        self.assertTrue(mine, "no log line for delivery %s" % d["id"])
        last = mine[-1]
        self.assertTrue("next=%s" % d["status"] in last or "msg=delivery_%s" % d["status"] in last,
                        "the API shows %s; the last log line of the delivery says: %s" % (d["status"], last))


if __name__ == "__main__":
    unittest.main()
