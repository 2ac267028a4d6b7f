"""Webhook and company configuration probed as a hostile client would (issue 11).

- NUL (\\u0000) in any configuration string is refused with 400 naming the field, and
  a refused change leaves the webhook and the company as they were; event data,
  which is opaque, may hold one.
- clientHeaders cannot duplicate or fake the headers gancho writes (Authorization,
  signatures, User-Agent, framing); an empty value is sent, not dropped.
- A webhook cannot subscribe to an event name the company has not declared (422).
- orderingKey means FIFO per key value; malformed keys are refused.
- Unknown or contradictory fields are refused everywhere in the webhook and company bodies.
- The CLI's help says what the server requires.
"""

import json
import subprocess
import time
import unittest
import uuid

import harness as H

NUL = "\u0000"


class NulInConfigTest(H.GanchoTestCase):

    def refused_nul(self, method, path, body, field, token=H._NO_TOKEN):
        got = self.api(method, path, body, token=token)
        js = self.assertStatus(got, 400, "%s %s with a NUL in %s" % (method, path, field), code="invalid_field")
        msg = js["error"]["message"]
        self.assertTrue(msg.startswith(field + ":"), "the message must name %s: %r" % (field, msg))
        self.assertIn("NUL", msg)

    def test_nul_refused_in_every_webhook_string(self):
        url = self.rx.url("/hook")
        cases = [
            ("postbackUrl", {"postbackUrl": url + NUL + "x"}),
            ("action", {"action": "candidate.hired" + NUL + "x"}),
            ("events[1]", {"events": ["candidate.hired", "job.changed" + NUL]}),
            ("techOwnerName", {"techOwnerName": "Ana" + NUL + "Bia"}),
            ("unit", {"unit": "SP" + NUL + "RJ"}),
            ("orderingKey", {"orderingKey": "data.a" + NUL + "b"}),
            ("clientHeaders.X-Api-Key", {"clientHeaders": {"X-Api-Key": "k" + NUL + "\r\nX-Evil: 1"}}),
            ("authorization.data.password",
             {"authorization": {"kind": "basic", "data": {"username": "u", "password": "p" + NUL + "q"}}}),
            # the CR/LF check must not stop at the NUL
            ("authorization.data.prefix",
             {"authorization": {"kind": "apiKey", "data": {"key": "k", "prefix": "B" + NUL + "\r\nX-Evil: 1"}}}),
            ("authorization.data.secret", {"authorization": {"kind": "secret", "data": {"secret": "s" + NUL}}}),
            ("filter.data.x", {"filter": {"data.x": "a" + NUL + "b"}}),
            ("filter.unit.$in[0]", {"filter": {"unit": {"$in": ["S" + NUL]}}}),
            ("retryPolicy", {"retryPolicy": "gupy" + NUL}),
            ("status", {"status": "active" + NUL}),
        ]
        for field, extra in cases:
            body = {"action": "candidate.hired", "postbackUrl": url}
            body.update(extra)
            if "events" in extra:
                del body["action"]
            self.refused_nul("POST", "/api/v1/webhooks", body, field)
        self.assertEqual(self.list_all("/api/v1/webhooks"), [], "nothing was created")

        # A refused PATCH leaves a webhook that can still be read, changed and deleted.
        wh = self.create_webhook(clientHeaders={"X-Api-Key": "abc"})
        path = "/api/v1/webhooks/%s" % wh["id"]
        self.refused_nul("PATCH", path, {"clientHeaders": {"X-Api-Key": "a" + NUL + "b"}},
                         "clientHeaders.X-Api-Key")
        self.refused_nul("PATCH", path, {"techOwnerName": NUL}, "techOwnerName")
        self.assertEqual(self.webhook(wh["id"]).get("clientHeaders"), {"X-Api-Key": "abc"})
        self.assertStatus(self.api("PATCH", path, {"techOwnerName": "Ana"}), 200, "PATCH after the refusal")
        self.post_event("candidate.hired", {"n": 1})
        r = self.rx.wait_for(1)[0]
        self.assertEqual(r.header_list("X-Api-Key"), ["abc"])
        got = self.api("DELETE", path)
        self.assertEqual(got[0], 204, "DELETE after the refusals: %r" % (got[2][:300],))

    def test_webhook_survives_a_restart_after_refused_nul(self):
        g = self.new_gancho()
        _, token = g.create_company()
        wh = self.create_webhook(g=g, token=token, unit="SP")
        path = "/api/v1/webhooks/%s" % wh["id"]
        for body in ({"unit": "SP" + NUL + "x"}, {"clientHeaders": {"X-A": NUL}}):
            got = self.api("PATCH", path, body, token=token, g=g)
            self.assertStatus(got, 400, "PATCH %r" % (body,), code="invalid_field")
        g.restart()
        got = self.api("GET", path, token=token, g=g)
        self.assertEqual(self.assertStatus(got, 200, "GET after the restart").get("unit"), "SP")
        self.post_event("candidate.hired", {"n": 1}, token=token, g=g, unit="SP")
        self.rx.wait_for(1)

    def test_nul_refused_in_company_bodies(self):
        got = self.g.admin("POST", "/api/v1/companies", {"name": "ACME" + NUL + "x"})
        js = self.assertStatus(got, 400, "company name with a NUL", code="invalid_field")
        self.assertTrue(js["error"]["message"].startswith("name:"), js)
        got = self.g.admin("POST", "/api/v1/companies",
                           {"name": "co-" + uuid.uuid4().hex[:8], "eventTypes": ["t.1", "t.2" + NUL]})
        js = self.assertStatus(got, 400, "eventTypes with a NUL at creation", code="invalid_field")
        self.assertTrue(js["error"]["message"].startswith("eventTypes[1]:"), js)

        self.assertStatus(self.api("PATCH", "/api/v1/company", {"eventTypes": ["t.1", "t.2"]}), 200,
                          "declare t.1 and t.2")
        self.refused_nul("PATCH", "/api/v1/company", {"eventTypes": ["t.1", "t.2" + NUL + "x"]}, "eventTypes[1]")
        co = self.assertStatus(self.api("GET", "/api/v1/company"), 200, "GET company")
        self.assertEqual(co.get("eventTypes"), ["t.1", "t.2"], "a refused PATCH must not wipe the declared types")
        self.post_event("t.2", {"n": 1})  # still declared

    def test_nul_in_event_fields_refused_but_data_is_opaque(self):
        for field, value in (("event", "candidate.hired" + NUL), ("id", "ev-1" + NUL + "x"),
                             ("unit", "SP" + NUL)):
            body = {"event": "candidate.hired", "data": {"n": 1}}
            body[field] = value
            got = self.api("POST", "/api/v1/events", body)
            js = self.assertStatus(got, 400, "event with a NUL in %s" % field, code="invalid_field")
            self.assertTrue(js["error"]["message"].startswith(field + ":"), js)
        self.create_webhook()
        ev = self.post_event("candidate.hired", data_raw='{"s":"a\\u0000b"}')
        r = self.rx.wait_for(1)[0]
        self.assertEqual(r.json()["data"], {"s": "a" + NUL + "b"}, "data is delivered as sent")
        self.assertEqual(r.json()["id"], ev["id"])


class ClientHeadersTest(H.GanchoTestCase):

    def test_gancho_headers_cannot_be_set_or_faked(self):
        names = ["Authorization", "authorization", "User-Agent", "Acesso-Signature", "ACESSO-SIGNATURE",
                 "webhook-id", "Webhook-Timestamp", "webhook-signature", "Host", "Content-Length",
                 "Transfer-Encoding", "Connection", "Expect", "Upgrade", "TE", "Trailer", "Keep-Alive",
                 "Proxy-Authorization", "Content-Encoding"]
        for name in names:
            got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired", "postbackUrl": self.rx.url(),
                                                        "clientHeaders": {name: "forged"}})
            js = self.assertStatus(got, 400, "clientHeaders %s" % name, code="invalid_field")
            self.assertIn(name, js["error"]["message"])
        got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired", "postbackUrl": self.rx.url(),
                                                    "clientHeaders": {"X-Key": "a", "x-key": "b"}})
        self.assertStatus(got, 400, "one header name twice, by case", code="invalid_field")
        wh = self.create_webhook(clientHeaders={"X-Key": "a"})
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"clientHeaders": {"Webhook-Signature": "v1,x"}})
        self.assertStatus(got, 400, "PATCH clientHeaders with webhook-signature", code="invalid_field")
        self.assertStatus(self.api("DELETE", "/api/v1/webhooks/%s" % wh["id"]), 204, "DELETE")

        # Content-Type stays allowed (Gupy: clientHeaders replace it); gancho's own
        # headers arrive once each.
        secret = "s3cr3t"
        self.create_webhook(clientHeaders={"Content-Type": "application/vnd.x+json", "X-Api-Key": "k"},
                            authorization={"kind": "secret", "data": {"secret": secret}})
        self.post_event("candidate.hired", {"n": 1})
        r = self.rx.wait_for(1)[0]
        self.assertEqual(r.header_list("Content-Type"), ["application/vnd.x+json"])
        self.assertEqual(r.header_list("Acesso-Signature"), [H.acesso_signature(secret, r.body)])
        self.assertEqual(len(r.header_list("User-Agent")), 1, r.raw_headers)
        self.assertEqual(r.header_list("Authorization"), [], r.raw_headers)

    def test_empty_value_is_sent(self):
        self.create_webhook(clientHeaders={"X-Empty": "", "X-Blank": "  ", "X-Full": "v"})
        self.post_event("candidate.hired", {"n": 1})
        r = self.rx.wait_for(1)[0]
        self.assertEqual(r.header_list("X-Empty"), [""], "an empty value must arrive: %r" % (r.raw_headers,))
        self.assertEqual([v.strip() for v in r.header_list("X-Blank")], [""], r.raw_headers)
        self.assertEqual(r.header_list("X-Full"), ["v"])
        # clientHeaders without Content-Type: none is sent (Gupy's rule), even with empty values
        self.assertEqual(r.header_list("Content-Type"), [], r.raw_headers)
        # an empty Content-Type is sent as given, once
        rx2 = self.new_receiver()
        self.create_webhook(rx=rx2, action="job.changed", clientHeaders={"Content-Type": ""})
        self.post_event("job.changed", {"n": 2})
        r2 = rx2.wait_for(1)[0]
        self.assertEqual(r2.header_list("Content-Type"), [""], r2.raw_headers)


class SubscriptionTest(H.GanchoTestCase):

    def test_undeclared_event_names_are_422(self):
        url = self.rx.url()
        for body in ({"action": "aplication.moved"},
                     {"events": ["candidate.hired", "candidate.hried"]}):
            body["postbackUrl"] = url
            got = self.api("POST", "/api/v1/webhooks", body)
            js = self.assertStatus(got, 422, "subscribe to an undeclared event", code="unknown_event")
            self.assertIn("not a known event", js["error"]["message"])
        self.assertEqual(self.list_all("/api/v1/webhooks"), [], "nothing was created")
        # Built-in Gupy and Acesso names are always known.
        wh = self.create_webhook(events=["application.moved", "position-created", "pre-employee.moved"])
        path = "/api/v1/webhooks/%s" % wh["id"]
        got = self.api("PATCH", path, {"action": "my.custom"})
        self.assertStatus(got, 422, "PATCH to an undeclared event", code="unknown_event")
        self.assertEqual(self.webhook(wh["id"]).get("events"),
                         ["application.moved", "position-created", "pre-employee.moved"], "unchanged")
        # Once declared, it is fine; a PATCH that does not touch events is not re-checked.
        self.assertStatus(self.api("PATCH", "/api/v1/company", {"eventTypes": ["my.custom"]}), 200, "declare")
        self.assertStatus(self.api("PATCH", path, {"action": "my.custom"}), 200, "PATCH to a declared event")
        self.assertStatus(self.api("PATCH", "/api/v1/company", {"eventTypes": []}), 200, "undeclare")
        self.assertStatus(self.api("PATCH", path, {"techOwnerName": "Ana"}), 200, "PATCH of another field")


class OrderingKeyTest(H.GanchoTestCase):

    def test_ordering_key_alone_orders_per_key(self):
        rx = self.new_receiver(default=H.slow(0.8))
        wh = self.create_webhook(rx=rx, orderingKey="data.k", retryPolicy=H.FAST_RETRY)
        ids = [self.post_event("candidate.hired", {"k": "same", "n": i})["id"] for i in range(3)]
        other = self.post_event("candidate.hired", {"k": "other", "n": 9})["id"]
        reqs = rx.wait_for(4, timeout=20)
        same = [r for r in reqs if r.json()["data"]["k"] == "same"]
        self.assertEqual([r.event_id() for r in same], ids, "one key's events go out in order")
        for a, b in zip(same, same[1:]):
            self.assertGreaterEqual(b.mono - a.mono, 0.6,
                                    "events of one key must not overlap (each answer takes 0.8 s): %r" % (reqs,))
        first_other = [r for r in reqs if r.event_id() == other][0]
        self.assertLess(first_other.mono, same[-1].mono, "another key is not held behind this one")
        self.assertEqual(self.webhook(wh["id"]).get("orderingKey"), "data.k")

    def test_malformed_or_contradictory_keys_refused(self):
        url = self.rx.url()
        for key in ("data..x", "", ".data", "data.", "data.x.", "payload.x", "data." + "k" * 200, 5):
            got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired", "postbackUrl": url,
                                                        "orderingKey": key})
            js = self.assertStatus(got, 400, "orderingKey %r" % (key,), code="invalid_field")
            self.assertTrue(js["error"]["message"].startswith("orderingKey:"), js)
        got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired", "postbackUrl": url,
                                                    "orderingKey": "data.k", "ordering": "unordered"})
        self.assertStatus(got, 400, "orderingKey with ordering unordered", code="invalid_field")
        wh = self.create_webhook(orderingKey="data.k")
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"ordering": "unordered"})
        self.assertStatus(got, 400, "PATCH ordering unordered on a keyed webhook", code="invalid_field")
        self.create_webhook(orderingKey="data.application.id", ordering="fifo")


class ConsistentValidationTest(H.GanchoTestCase):

    def test_unknown_and_contradictory_fields_refused(self):
        url = self.rx.url()
        base = {"action": "candidate.hired", "postbackUrl": url}
        cases = [
            ({"unit": ""}, "unit:"),
            ({"rateLimit": {"perSecond": 5, "burst": 10}}, "rateLimit.burst:"),
            ({"authorization": {"kind": "secret", "data": {"secret": "s", "algo": "md5"}}},
             "authorization.data.algo:"),
            ({"authorization": {"kind": "secret", "data": {"secret": "s"}, "scheme": "x"}}, "authorization.scheme:"),
            ({"events": ["job.published"]}, "action:"),
            ({"url": url + "/other"}, "url:"),
            ({"previousSecrets": []}, "previousSecrets:"),
            ({"id": str(uuid.uuid4())}, "id:"),
            ({"colour": "red"}, "colour:"),
        ]
        for extra, prefix in cases:
            body = dict(base)
            body.update(extra)
            got = self.api("POST", "/api/v1/webhooks", body)
            js = self.assertStatus(got, 400, "create with %r" % (extra,))
            self.assertTrue(js["error"]["message"].startswith(prefix), "%r: %r" % (extra, js))
        self.assertEqual(self.list_all("/api/v1/webhooks"), [], "nothing was created")
        # action equal to the first of events is the answer's own shape: accepted.
        wh = self.create_webhook(action="job.published", events=["job.published", "job.changed"])
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"id": str(uuid.uuid4())})
        self.assertStatus(got, 400, "PATCH with another id", code="invalid_field")
        got = self.api("PATCH", "/api/v1/webhooks/%s" % wh["id"], {"id": wh["id"], "unit": "SP"})
        self.assertStatus(got, 200, "PATCH with its own id")
        # the company bodies follow the same rule
        got = self.g.admin("POST", "/api/v1/companies", {"name": "co-" + uuid.uuid4().hex[:8], "plan": "gold"})
        js = self.assertStatus(got, 400, "company with an unknown field", code="invalid_field")
        self.assertTrue(js["error"]["message"].startswith("plan:"), js)
        got = self.api("PATCH", "/api/v1/company", {"name": "other"})
        self.assertStatus(got, 400, "PATCH company name", code="invalid_field")


class CliHelpTest(unittest.TestCase):

    def test_retry_schedule_needs_a_deadline(self):
        p = subprocess.run([H.gancho_bin(), "webhook", "add", "--help"], capture_output=True, timeout=30)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0)
        self.assertIn("--retry schedule:1,5,30:DEADLINE_S", out)
        self.assertNotIn("[:DEADLINE_S]", out)
        self.assertIn("implies --fifo", out)
        env = {"PATH": "/usr/bin:/bin", "GANCHO_URL": "http://127.0.0.1:9", "GANCHO_TOKEN": "gch_x"}
        for bad in (["--retry", "schedule:1,5,30"], ["--rate", "100001"]):
            p = subprocess.run([H.gancho_bin(), "webhook", "add", "--url", "https://x.example",
                                "--event", "candidate.hired"] + bad, capture_output=True, env=env, timeout=30)
            self.assertEqual(p.returncode, 2, "%r: a usage error, not a call: %r" % (bad, p.stderr))


if __name__ == "__main__":
    unittest.main()
