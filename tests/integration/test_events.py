"""POST /api/v1/events: ingest, idempotency, event names, bad input, authentication."""

import json
import re
import time
import unittest
import uuid
from datetime import datetime, timezone

import harness as H


def parse_date(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


class EventIngestTest(H.GanchoTestCase):

    def test_ingest_answers_202_with_id_and_date(self):
        wh = self.create_webhook(action="candidate.hired")
        before = time.time()
        got = self.api("POST", "/api/v1/events", {"event": "candidate.hired", "data": {"a": 1}})
        after = time.time()
        js = self.assertStatus(got, 202, "POST /api/v1/events")
        self.assertEqual(set(js), {"id", "date"}, "the answer must be exactly {id, date}: %r" % (js,))
        self.assertRegex(js["id"], H.UUID_RE, "a default event id must be a UUID")
        self.assertRegex(js["date"], H.DATE_RE, "date must be ISO-8601 UTC with milliseconds")
        ts = parse_date(js["date"]).timestamp()
        self.assertTrue(before - 2 <= ts <= after + 2,
                        "default date %s is not 'now' (%.3f..%.3f)" % (js["date"], before, after))
        # The event is readable back.
        ev = self.assertStatus(self.api("GET", "/api/v1/events/%s" % (js["id"],)), 200, "GET /api/v1/events/{id}")
        self.assertEqual(ev.get("id"), js["id"])
        self.assertEqual(ev.get("event"), "candidate.hired")
        self.assertEqual(ev.get("date"), js["date"])
        self.assertEqual(ev.get("data"), {"a": 1})
        # And delivered with the same id and date.
        req = self.rx.wait_for(1, 10)[0]
        env = req.json()
        self.assertEqual((env["id"], env["date"]), (js["id"], js["date"]),
                         "the envelope must carry the id and date answered at ingest")
        self.wait_delivery(wh["id"], js["id"])

    def test_client_given_id_and_date_are_kept(self):
        self.create_webhook(action="candidate.hired")
        eid = str(uuid.uuid4())
        date = "2019-06-19T23:48:46.952Z"
        js = self.post_event("candidate.hired", {"x": 1}, id=eid, date=date)
        self.assertEqual(js, {"id": eid, "date": date}, "client id/date must be answered back unchanged")
        env = self.rx.wait_for(1, 10)[0].json()
        self.assertEqual(env["id"], eid, "delivered id")
        self.assertEqual(env["date"], date, "delivered date")
        ev = self.assertStatus(self.api("GET", "/api/v1/events/%s" % (eid,)), 200, "GET /api/v1/events/{id}")
        self.assertEqual(ev.get("date"), date)

    def test_repeated_id_is_accepted_once(self):
        wh = self.create_webhook(action="candidate.hired")
        eid = str(uuid.uuid4())
        first = self.post_event("candidate.hired", {"v": 1}, id=eid)
        time.sleep(0.01)
        second = self.post_event("candidate.hired", {"v": 2}, id=eid)
        self.assertEqual(second, first, "a repeated id must be answered with the first call's {id, date}")
        self.rx.wait_for(1, 10)
        dl = self.deliveries(wh["id"])
        self.assertEqual(len(dl), 1, "a repeated id must create no second delivery: %r" % (dl,))
        ev = self.assertStatus(self.api("GET", "/api/v1/events/%s" % (eid,)), 200, "GET event")
        self.assertEqual(ev.get("data"), {"v": 1}, "the first event must be kept, not overwritten")
        self.wait_delivery(wh["id"], eid)
        time.sleep(0.5)  # negative check: give a (wrong) second delivery a chance to show up
        self.assertEqual(self.rx.count(), 1, "the receiver must get the event once: %r" % (self.rx.requests,))

    def test_repeated_idempotency_key_is_accepted_once(self):
        wh = self.create_webhook(action="candidate.hired")
        key = "idem-" + uuid.uuid4().hex
        first = self.post_event("candidate.hired", {"v": 1}, headers={"Idempotency-Key": key})
        second = self.post_event("candidate.hired", {"v": 2}, headers={"Idempotency-Key": key})
        self.assertEqual(second, first, "a repeated Idempotency-Key must be answered with the first {id, date}")
        # A different key is a different event.
        third = self.post_event("candidate.hired", {"v": 3}, headers={"Idempotency-Key": key + "-other"})
        self.assertNotEqual(third["id"], first["id"], "a different Idempotency-Key must create a new event")
        self.rx.wait_for(2, 10)
        dl = self.deliveries(wh["id"])
        self.assertEqual(sorted(d["eventId"] for d in dl), sorted([first["id"], third["id"]]),
                         "exactly one delivery per distinct key: %r" % (dl,))
        self.wait_delivery(wh["id"], first["id"])
        self.wait_delivery(wh["id"], third["id"])
        time.sleep(0.5)  # negative check
        ids = [r.event_id() for r in self.rx.requests]
        self.assertEqual(sorted(ids), sorted([first["id"], third["id"]]),
                         "the receiver must get each event once: %r" % (ids,))

    def test_all_builtin_events_accepted_and_delivered(self):
        names = H.GUPY_EVENTS + H.ACESSO_EVENTS
        self.assertEqual(len(names), 15)
        self.create_webhook(events=names)
        posted = {}
        for name in names:
            js = self.post_event(name, {"event": name})
            posted[js["id"]] = name
        got = self.rx.wait_ids(posted, 15)
        for eid, reqs in got.items():
            self.assertEqual(reqs[0].json()["event"], posted[eid], "delivered event name")

    def test_unknown_event_422_then_accepted_after_declaring_it(self):
        got = self.api("POST", "/api/v1/events", {"event": "acme.custom-thing", "data": {}})
        self.assertStatus(got, 422, "an undeclared event name", code="unknown_event")
        self.assertNothingStored("after a 422")
        got = self.api("PATCH", "/api/v1/company", {"eventTypes": ["acme.custom-thing"]})
        co = self.assertStatus(got, 200, "PATCH /api/v1/company")
        self.assertIn("acme.custom-thing", co.get("eventTypes", []), "the company answer must show eventTypes")
        co = self.assertStatus(self.api("GET", "/api/v1/company"), 200, "GET /api/v1/company")
        self.assertIn("acme.custom-thing", co.get("eventTypes", []))
        self.assertEqual(co.get("name"), self.company_name)
        wh = self.create_webhook(action="acme.custom-thing")
        js = self.post_event("acme.custom-thing", {"k": "v"})
        env = self.rx.wait_for(1, 10)[0].json()
        self.assertEqual(env["event"], "acme.custom-thing")
        self.wait_delivery(wh["id"], js["id"])
        # Declared by this company only: another company still gets 422.
        _, other = self.g.create_company()
        got = self.api("POST", "/api/v1/events", {"event": "acme.custom-thing", "data": {}}, token=other)
        self.assertStatus(got, 422, "another company's declared event", code="unknown_event")

    def test_event_name_syntax(self):
        self.create_webhook(action="candidate.hired")
        for name in ["", "has space", "bad/slash", "x" * 129, "ação"]:
            got = self.api("POST", "/api/v1/events", {"event": name, "data": {}})
            st = got[0]
            self.assertIn(st, (400, 422), "event name %r must be refused (400 invalid_field or 422): %d %r"
                          % (name, st, got[2][:300]))
            self.assertErrorCode(got, ("invalid_field", "unknown_event", "missing_field"), "event name %r" % name)
        self.assertNothingStored("invalid event names")


class BadInputTest(H.GanchoTestCase):

    def setUp(self):
        super().setUp()
        self.create_webhook(events=["candidate.hired", "pre-employee.moved"])

    def check_refused(self, what, raw, status, codes):
        got = self.api("POST", "/api/v1/events", raw=raw)
        self.assertStatus(got, status, what)
        self.assertErrorCode(got, codes, what)
        self.assertNothingStored(what)

    def test_malformed_json(self):
        self.check_refused("truncated JSON", b'{"event": "candidate.hired", "data": {', 400, "invalid_json")
        self.check_refused("trailing comma", b'{"event": "candidate.hired", "data": {"a": 1,}}', 400, "invalid_json")
        self.check_refused("single quotes", b"{'event': 'candidate.hired', 'data': {}}", 400, "invalid_json")
        self.check_refused("empty body", b"", 400, ("invalid_json", "missing_field"))
        self.check_refused("garbage after the object", b'{"event": "candidate.hired", "data": {}} x', 400,
                           "invalid_json")
        self.check_refused("invalid UTF-8", b'{"event": "candidate.hired", "data": "\xff\xfe"}', 400,
                           ("invalid_json", "invalid_field"))

    def test_wrong_types(self):
        self.check_refused("event as a number", b'{"event": 42, "data": {}}', 400, "invalid_field")
        self.check_refused("unit as a number", b'{"event": "candidate.hired", "data": {}, "unit": 7}', 400,
                           "invalid_field")
        self.check_refused("id as a number", b'{"event": "candidate.hired", "data": {}, "id": 5}', 400,
                           "invalid_field")
        self.check_refused("date not a date", b'{"event": "candidate.hired", "data": {}, "date": "yesterday"}', 400,
                           "invalid_field")
        self.check_refused("date as a number", b'{"event": "candidate.hired", "data": {}, "date": 1560988126}', 400,
                           "invalid_field")
        self.check_refused("body is an array", b'[{"event": "candidate.hired", "data": {}}]', 400,
                           ("invalid_json", "invalid_field"))

    def test_missing_fields(self):
        self.check_refused("data missing", b'{"event": "candidate.hired"}', 400, "missing_field")
        self.check_refused("event missing", b'{"data": {"a": 1}}', 400, "missing_field")
        self.check_refused("empty object", b"{}", 400, "missing_field")

    def test_ten_megabyte_body_413(self):
        data = b'"' + b"a" * (10 * 1024 * 1024) + b'"'
        body = b'{"event": "candidate.hired", "data": ' + data + b"}"
        status, answer = self.g.post_raw_streaming("/api/v1/events", [], body, token=self.token)
        self.assertEqual(status, 413, "a 10 MB body must be answered 413, got %d %r" % (status, answer[:300]))
        try:
            js = json.loads(answer.decode("utf-8"))
        except ValueError:
            js = None
        self.assertTrue(isinstance(js, dict) and js.get("error", {}).get("code") == "payload_too_large",
                        "413 body must be {error: {code: payload_too_large}}: %r" % (answer[:300],))
        self.assertNothingStored("10 MB body")

    def test_body_under_the_limit_accepted(self):
        data = ('{"blob": "%s"}' % ("é" * 200000)).encode("utf-8")  # ~400 KB, under 1 MiB
        js = self.post_event("candidate.hired", data_raw=data)
        req = self.rx.wait_for(1, 15)[0]
        parts = dict(H.split_envelope(req.body))
        self.assertEqual(parts["data"], data, "a 400 KB data must be delivered byte-for-byte")
        self.assertEqual(req.json()["id"], js["id"])

    def test_raw_pre_employee_sample_is_400(self):
        raw = H.read_data("pre-employee-moved.raw.txt")
        body = H.event_body("pre-employee.moved", raw)
        self.check_refused("the non-strict pre-employee sample as data", body, 400, "invalid_json")
        self.check_refused("the non-strict pre-employee sample as the whole body", raw, 400, "invalid_json")
        # The strict version goes through.
        self.post_event("pre-employee.moved", data_raw=H.read_data("pre-employee-moved.data.json"))
        self.rx.wait_for(1, 10)


class AuthTest(H.GanchoTestCase):

    def setUp(self):
        super().setUp()
        self.create_webhook(action="candidate.hired")

    def test_no_token_and_wrong_token_401(self):
        body = {"event": "candidate.hired", "data": {}}
        cases = [
            ("no Authorization", None, None),
            ("unknown gch_ token", "gch_" + uuid.uuid4().hex, None),
            ("garbage token", "nope", None),
            ("a company token with one character changed", self.token[:-1] + ("A" if self.token[-1] != "A" else "B"),
             None),
            ("Basic scheme", None, {"Authorization": "Basic dXNlcjpwYXNz"}),
            ("Bearer without a token", None, {"Authorization": "Bearer "}),
        ]
        for what, token, headers in cases:
            got = self.api("POST", "/api/v1/events", body, token=token, headers=headers)
            self.assertStatus(got, 401, what, code="unauthorized")
            got = self.api("GET", "/api/v1/webhooks", token=token, headers=headers)
            self.assertStatus(got, 401, what + " (GET /api/v1/webhooks)", code="unauthorized")
        self.assertNothingStored("unauthorized calls")

    def test_admin_token_on_company_call_and_company_token_on_admin_call(self):
        # A company token on an admin call: 403 (documented).
        got = self.api("POST", "/api/v1/companies", {"name": "evil-" + uuid.uuid4().hex[:6]})
        self.assertStatus(got, 403, "company token on POST /api/v1/companies", code="forbidden")
        got = self.api("GET", "/api/v1/companies")
        self.assertStatus(got, 403, "company token on GET /api/v1/companies", code="forbidden")
        # The admin token is not a company token: a company call is refused (401 or 403,
        # API.md does not say which) and stores nothing.
        got = self.api("POST", "/api/v1/events", {"event": "candidate.hired", "data": {}}, token=self.g.admin_token)
        self.assertIn(got[0], (401, 403), "admin token on POST /api/v1/events must be refused: %d %r"
                      % (got[0], got[2][:300]))
        self.assertErrorCode(got, ("unauthorized", "forbidden"), "admin token on a company call")
        self.assertNothingStored("admin token on a company call")
        # The admin token works on admin calls, and the list shows no tokens.
        co = self.assertStatus(self.g.admin("GET", "/api/v1/companies?limit=500"), 200, "admin GET companies")
        names = [c.get("name") for c in co["data"]]
        self.assertIn(self.company_name, names)
        raw = self.g.admin("GET", "/api/v1/companies?limit=500")[2]
        self.assertNotIn(self.token.encode(), raw, "GET /api/v1/companies must not show company tokens")

    def test_company_name_conflict_and_extra_token(self):
        got = self.g.admin("POST", "/api/v1/companies", {"name": self.company_name})
        self.assertStatus(got, 409, "the same company name twice", code="conflict")
        js = self.assertStatus(self.api("POST", "/api/v1/tokens"), 201, "POST /api/v1/tokens")
        tok2 = js.get("token", "")
        self.assertTrue(tok2.startswith("gch_") and tok2 != self.token, "a new gch_ token: %r" % (js,))
        co = self.assertStatus(self.api("GET", "/api/v1/company", token=tok2), 200, "GET company with token 2")
        self.assertEqual(co.get("id"), self.company_id, "the extra token belongs to the same company")
        self.assertTrue(self.token.startswith("gch_"), "company tokens start with gch_: %r" % self.token)

    def test_admin_calls_refused_when_admin_token_unset(self):
        g2 = self.new_gancho(admin_token="")
        for tok in (None, "", "adm_whatever"):
            got = g2.api("POST", "/api/v1/companies", {"name": "x-" + uuid.uuid4().hex[:6]}, token=tok or None)
            self.assertIn(got[0], (401, 403), "admin call without GANCHO_ADMIN_TOKEN (token %r) must be refused: "
                          "%d %r" % (tok, got[0], got[2][:200]))
        st, js, raw = g2.api("GET", "/healthz")
        self.assertEqual(st, 200, raw)
        self.assertEqual(js, {"status": "ok"}, "GET /healthz body")

    def test_unknown_route_and_wrong_method(self):
        got = self.api("GET", "/api/v1/nope")
        self.assertStatus(got, 404, "unknown route", code="not_found")
        got = self.api("PUT", "/api/v1/events", {"event": "candidate.hired", "data": {}})
        self.assertStatus(got, 405, "PUT /api/v1/events", code="method_not_allowed")
        got = self.api("GET", "/api/v1/events/%s" % (uuid.uuid4(),))
        self.assertStatus(got, 404, "unknown event id", code="not_found")
        self.assertNothingStored("unknown route / wrong method")


if __name__ == "__main__":
    unittest.main()
