"""What a receiver gets: envelope, bytes, headers, auth/signatures, unit, fan-out, filter, 2xx."""

import base64
import json
import time
import unittest
import uuid

import harness as H

ENVELOPE_KEYS = ["companyName", "id", "event", "date", "data"]


class EnvelopeTest(H.GanchoTestCase):

    def check_envelope(self, req, event, eid, date, data_bytes):
        parts = H.split_envelope(req.body)
        self.assertEqual([k for k, _ in parts], ENVELOPE_KEYS,
                         "envelope keys must be exactly %s in this order; body starts %r"
                         % (ENVELOPE_KEYS, req.body[:200]))
        env = req.json()
        self.assertEqual(env["companyName"], self.company_name, "companyName is the company's name")
        self.assertEqual(env["id"], eid)
        self.assertEqual(env["event"], event)
        self.assertEqual(env["date"], date)
        self.assertRegex(env["date"], H.DATE_RE)
        got = dict(parts)["data"]
        if got != data_bytes:
            i = next((k for k in range(min(len(got), len(data_bytes))) if got[k] != data_bytes[k]),
                     min(len(got), len(data_bytes)))
            self.fail("data must be delivered byte-for-byte: %d bytes sent, %d received, first difference at "
                      "byte %d: sent %r, received %r" % (len(data_bytes), len(got), i,
                                                          data_bytes[max(0, i - 40):i + 40], got[max(0, i - 40):i + 40]))

    def test_candidate_hired_sample_byte_for_byte(self):
        data = H.read_data("candidate-hired.data.json")
        self.assertIn("Contratação".encode("utf-8"), data, "test data must keep its UTF-8 text")
        self.create_webhook(action="candidate.hired")
        js = self.post_event("candidate.hired", data_raw=data, date="2019-06-19T23:48:46.952Z")
        req = self.rx.wait_for(1, 10)[0]
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/hook")
        self.check_envelope(req, "candidate.hired", js["id"], "2019-06-19T23:48:46.952Z", data)

    def test_pre_employee_moved_sample_byte_for_byte(self):
        data = H.read_data("pre-employee-moved.data.json")
        self.create_webhook(action="pre-employee.moved")
        js = self.post_event("pre-employee.moved", data_raw=data)
        req = self.rx.wait_for(1, 10)[0]
        self.check_envelope(req, "pre-employee.moved", js["id"], js["date"], data)
        # GET /api/v1/events/{id} gives the same data back (as JSON).
        ev = self.assertStatus(self.api("GET", "/api/v1/events/%s" % (js["id"],)), 200, "GET event")
        self.assertEqual(ev.get("data"), json.loads(data))

    def test_odd_json_data_kept_exactly(self):
        self.create_webhook(events=["job.changed"])
        samples = [
            b'{ "a" : 1 ,\n\t"b":[1,2 ,3] , "u":"\\u00e9\\n\\"x\\"", "n":1.50E+3, "z":-0.0 }',
            b'[1, "two", {"three": 3}, null]',
            b'"just a string with \\/ and \xc3\xa9"',
            b"null",
            b"true",
            b"{}",
        ]
        posted = {}
        for s in samples:
            posted[self.post_event("job.changed", data_raw=s)["id"]] = s
        got = self.rx.wait_ids(posted, 10)
        for eid, reqs in got.items():
            data = dict(H.split_envelope(reqs[0].body))["data"]
            self.assertEqual(data, posted[eid], "data must be delivered byte-for-byte")

    def test_big_numbers_kept_exactly(self):
        # JSON puts no limit on numbers; "delivered byte-for-byte" must hold beyond int64/double.
        self.create_webhook(events=["job.changed"])
        data = b'{"big": 123456789012345678901234567890, "precise": 0.1000000000000000055511151231257827}'
        ev = self.post_event("job.changed", data_raw=data)
        req = self.rx.wait_ids([ev["id"]], 10)[ev["id"]][0]
        self.assertEqual(dict(H.split_envelope(req.body))["data"], data, "big numbers must pass untouched")


class HeadersTest(H.GanchoTestCase):

    def test_default_headers(self):
        self.create_webhook(action="candidate.hired")
        self.post_event("candidate.hired", {"a": 1})
        req = self.rx.wait_for(1, 10)[0]
        self.assertEqual(req.header_list("Content-Type"), ["application/json;charset=utf-8"],
                         "default Content-Type, exactly once: %r" % (req.raw_headers,))
        self.assertTrue(req.headers.get("User-Agent", "").startswith("gancho/"),
                        "User-Agent must start with gancho/: %r" % (req.headers.get("User-Agent"),))
        self.assertNotIn("Authorization", req.headers, "no auth configured, no Authorization header")
        self.assertNotIn("Acesso-Signature", req.headers)
        self.assertNotIn("webhook-signature", req.headers)
        self.assertEqual(int(req.headers.get("Content-Length", "-1")), len(req.body))

    def test_client_headers_replace_content_type(self):
        self.create_webhook(action="candidate.hired", path="/with-ct",
                            clientHeaders={"Content-Type": "application/vnd.acme+json; v=2", "X-Api-Key": "abc"})
        self.create_webhook(action="candidate.hired", path="/without-ct", clientHeaders={"X-Api-Key": "def"})
        self.post_event("candidate.hired", {"a": 1})
        with_ct = self.rx.wait_for(1, 10, path="/with-ct")[0]
        without_ct = self.rx.wait_for(1, 10, path="/without-ct")[0]
        self.assertEqual(with_ct.header_list("Content-Type"), ["application/vnd.acme+json; v=2"],
                         "clientHeaders' Content-Type is sent exactly instead of the default: %r"
                         % (with_ct.raw_headers,))
        self.assertEqual(with_ct.headers.get("X-Api-Key"), "abc")
        self.assertEqual(without_ct.headers.get("X-Api-Key"), "def")
        self.assertEqual(without_ct.header_list("Content-Type"), [],
                         "with clientHeaders lacking Content-Type, no Content-Type at all is sent (Gupy's rule): %r"
                         % (without_ct.raw_headers,))
        for r in (with_ct, without_ct):
            self.assertTrue(r.headers.get("User-Agent", "").startswith("gancho/"))
            self.assertEqual(r.json()["event"], "candidate.hired", "the body is the same envelope")


class AuthorizationTest(H.GanchoTestCase):

    def test_basic(self):
        self.create_webhook(action="candidate.hired",
                            authorization={"kind": "basic", "data": {"username": "ana", "password": "p@ss:wörd"}})
        self.post_event("candidate.hired", {"a": 1})
        req = self.rx.wait_for(1, 10)[0]
        want = "basic " + base64.b64encode("ana:p@ss:wörd".encode("utf-8")).decode()
        self.assertEqual(req.header_list("Authorization"), [want], "Authorization: basic base64(user:pass)")

    def test_api_key_with_and_without_prefix(self):
        self.create_webhook(action="candidate.hired", path="/prefix",
                            authorization={"kind": "apiKey", "data": {"key": "k-123", "prefix": "Bearer"}})
        self.create_webhook(action="candidate.hired", path="/bare",
                            authorization={"kind": "apiKey", "data": {"key": "k-456"}})
        self.post_event("candidate.hired", {"a": 1})
        p = self.rx.wait_for(1, 10, path="/prefix")[0]
        b = self.rx.wait_for(1, 10, path="/bare")[0]
        self.assertEqual(p.header_list("Authorization"), ["Bearer k-123"], "Authorization: <prefix> <key>")
        self.assertEqual(b.header_list("Authorization"), ["k-456"], "Authorization: <key> without prefix")

    def test_acesso_secret_signature(self):
        secret = "acesso-" + uuid.uuid4().hex
        self.create_webhook(events=["position-created"], authorization={"kind": "secret", "data": {"secret": secret}})
        data = H.read_data("candidate-hired.data.json")
        self.post_event("position-created", data_raw=data)
        self.post_event("position-created", {"b": "çã"})
        for req in self.rx.wait_for(2, 10):
            sig = req.header_list("Acesso-Signature")
            self.assertEqual(len(sig), 1, "one Acesso-Signature header: %r" % (req.raw_headers,))
            self.assertEqual(sig[0], H.acesso_signature(secret, req.body),
                             "Acesso-Signature must be base64(HMAC-SHA256(secret, exact body))")
            self.assertNotEqual(sig[0], H.acesso_signature(secret + "x", req.body))
            self.assertNotIn("Authorization", req.headers)

    def test_standard_webhooks_signature_and_rotation(self):
        old = H.new_whsec()
        wh = self.create_webhook(action="candidate.hired", authorization={"kind": "standard", "data": {"secret": old}})
        e1 = self.post_event("candidate.hired", data_raw=H.read_data("candidate-hired.data.json"))
        req = self.rx.wait_for(1, 10)[0]
        self.check_standard(req, e1["id"])
        sigs = req.headers["webhook-signature"].split()
        self.assertEqual(len(sigs), 1, "one signature before any rotation: %r" % sigs)
        self.assertEqual(len(H.standard_valid_signatures(old, req.headers["webhook-id"],
                                                         req.headers["webhook-timestamp"], req.body,
                                                         req.headers["webhook-signature"])), 1,
                         "the signature must verify under the secret")
        new = H.new_whsec()
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (wh["id"],),
                       {"authorization": {"kind": "standard", "data": {"secret": new}}})
        self.assertStatus(got, 200, "PATCH a new standard secret")
        e2 = self.post_event("candidate.hired", {"after": "rotation"})
        req2 = self.rx.wait_for(2, 10)[1]
        self.check_standard(req2, e2["id"])
        hdr = req2.headers["webhook-signature"]
        self.assertEqual(len(hdr.split()), 2, "during rotation two signatures are sent: %r" % hdr)
        args = (req2.headers["webhook-id"], req2.headers["webhook-timestamp"], req2.body, hdr)
        self.assertEqual(len(H.standard_valid_signatures(new, *args)), 1, "one signature under the new secret")
        self.assertEqual(len(H.standard_valid_signatures(old, *args)), 1, "one signature under the old secret")

    def check_standard(self, req, event_id):
        for h in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            self.assertEqual(len(req.header_list(h)), 1, "exactly one %s header: %r" % (h, req.raw_headers))
        self.assertEqual(req.headers["webhook-id"], event_id, "webhook-id is the event id")
        ts = req.headers["webhook-timestamp"]
        self.assertRegex(ts, r"^\d+$", "webhook-timestamp: unix seconds")
        self.assertLess(abs(int(ts) - time.time()), 300, "webhook-timestamp within 5 minutes of now")
        for s in req.headers["webhook-signature"].split():
            self.assertTrue(s.startswith("v1,"), "each signature is v1,<base64>: %r" % s)
            self.assertEqual(len(base64.b64decode(s[3:])), 32, "a SHA-256 HMAC: %r" % s)


class RoutingTest(H.GanchoTestCase):

    def test_unit_matching(self):
        sp = self.create_webhook(action="position-created", path="/sp", unit="SP")
        rj = self.create_webhook(action="position-created", path="/rj", unit="RJ")
        every = self.create_webhook(action="position-created", path="/all")
        e_sp = self.post_event("position-created", {"u": "SP"}, unit="SP")
        e_rj = self.post_event("position-created", {"u": "RJ"}, unit="RJ")
        e_none = self.post_event("position-created", {"u": None})
        self.rx.wait_ids([e_sp["id"], e_rj["id"], e_none["id"]], 10, path="/all")
        self.rx.wait_ids([e_sp["id"]], 10, path="/sp")
        self.rx.wait_ids([e_rj["id"]], 10, path="/rj")
        # Deliveries are created at ingest (committed before the 202): the lists are final.
        self.assertEqual([d["eventId"] for d in self.deliveries(sp["id"])], [e_sp["id"]], "unit SP gets only SP")
        self.assertEqual([d["eventId"] for d in self.deliveries(rj["id"])], [e_rj["id"]], "unit RJ gets only RJ")
        self.assertEqual(sorted(d["eventId"] for d in self.deliveries(every["id"])),
                         sorted([e_sp["id"], e_rj["id"], e_none["id"]]), "no unit: every unit")
        self.assertEqual([r.event_id() for r in self.rx.requests if r.path == "/sp"], [e_sp["id"]])
        ev = self.assertStatus(self.api("GET", "/api/v1/events/%s" % (e_sp["id"],)), 200, "GET event")
        self.assertEqual(ev.get("unit"), "SP")

    def test_fan_out_to_three_webhooks(self):
        whs = [self.create_webhook(action="candidate.hired", path="/fan%d" % i) for i in range(3)]
        self.create_webhook(action="job.published", path="/other-event")
        ev = self.post_event("candidate.hired", {"fan": "out"})
        for i in range(3):
            reqs = self.rx.wait_for(1, 10, path="/fan%d" % i)
            self.assertEqual(reqs[0].event_id(), ev["id"])
        for wh in whs:
            self.wait_delivery(wh["id"], ev["id"])
        ids = {r.json()["id"] for r in self.rx.requests}
        self.assertEqual(ids, {ev["id"]})
        self.assertEqual(self.rx.count("/other-event"), 0, "a webhook on another event gets nothing")
        dl = self.deliveries()
        self.assertEqual(len(dl), 3, "one delivery per (event, webhook): %r" % (dl,))
        self.assertEqual({d["webhookId"] for d in dl}, {w["id"] for w in whs})

    def test_filter(self):
        f1 = self.create_webhook(action="application.moved", path="/f1",
                                 filter={"data.application.currentStep.name": "Entrevista",
                                         "unit": {"$in": ["SP", "RJ"]}})
        f2 = self.create_webhook(action="application.moved", path="/f2",
                                 filter={"data.application.tags": {"$exists": True},
                                         "data.job.id": {"$ne": 1}})
        f3 = self.create_webhook(action="application.moved", path="/f3",
                                 filter={"data.candidate": {"$exists": False}})

        def moved(step, job, unit=None, tags=True, candidate=False):
            data = {"job": {"id": job}, "application": {"id": 7, "currentStep": {"name": step}}}
            if tags:
                data["application"]["tags"] = ["x"]
            if candidate:
                data["candidate"] = {"name": "John"}
            kw = {"unit": unit} if unit else {}
            return self.post_event("application.moved", data, **kw)["id"]

        a = moved("Entrevista", 1, "SP")                    # f1 yes, f2 no (job 1), f3 yes
        b = moved("Entrevista", 2, "MG")                    # f1 no (unit), f2 yes, f3 yes
        c = moved("Triagem", 2, "SP", candidate=True)       # f1 no (step), f2 yes, f3 no
        d = moved("Entrevista", 3, "RJ", tags=False)        # f1 yes, f2 no (no tags), f3 yes
        e = moved("Entrevista", 3)                          # f1 no (no unit), f2 yes, f3 yes
        expect = {"/f1": [a, d], "/f2": [b, c, e], "/f3": [a, b, d, e]}
        wids = {"/f1": f1["id"], "/f2": f2["id"], "/f3": f3["id"]}
        for path, ids in expect.items():
            self.rx.wait_ids(ids, 10, path=path)
            got = sorted(x["eventId"] for x in self.deliveries(wids[path]))
            self.assertEqual(got, sorted(ids), "filter of %s: deliveries for events %s only" % (path, ids))


class SuccessStatusTest(H.GanchoTestCase):

    def test_2xx_variants_are_success(self):
        def script(i, req):
            code = int(req.path.rsplit("/", 1)[1])
            return H.respond(code, b'{"ok":1}' if code != 204 else b"")

        self.rx.set(script=script)
        whs = {code: self.create_webhook(action="candidate.hired", path="/s/%d" % code,
                                         retryPolicy={"schedule": [1], "deadlineSeconds": 5})
               for code in (200, 201, 202, 204, 299)}
        ev = self.post_event("candidate.hired", {"x": 1})
        for code, wh in whs.items():
            d = self.wait_delivery(wh["id"], ev["id"], "delivered", 10)
            atts = self.attempts_of(d["id"])
            self.assertEqual([a.get("statusCode") for a in atts], [code],
                             "%d is success at the first attempt: %r" % (code, atts))
            self.assertEqual(d.get("lastStatusCode"), code)
        for code in whs:
            self.assertEqual(self.rx.count("/s/%d" % code), 1, "exactly one request for %d" % code)


if __name__ == "__main__":
    unittest.main()
