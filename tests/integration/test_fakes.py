"""The fake Gupy and HelloWork APIs (tests/fakes) are strict and do what they claim.

Other tests trust the fakes to refuse what the real APIs refuse; these tests fail as soon
as a fake becomes lax: every wrong method, path, header and body is refused with the right
status and logged as refused, state changes only on a right request, lists page, and every
failure injection answers as told. No gancho binary is needed.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import unittest

from harness import DATE_RE, data_path, fakes

FakeGupy, FakeHelloWork = fakes()

TOKEN = "tok-0123456789"
JOB, APP = 123456, 654321
TAGS = "/api/v1/jobs/%d/applications/%d/tags" % (JOB, APP)
COMMENTS = "/api/v1/jobs/%d/applications/%d/comments" % (JOB, APP)
MOVE = "/api/v1/jobs/%d/applications/%d" % (JOB, APP)
WRITE_HEADERS = {"accept": "application/json", "authorization": "Bearer " + TOKEN,
                 "content-type": "application/json"}
GET_HEADERS = {"authorization": "Bearer " + TOKEN}
UNSET = object()


def call(fake, method, path, body=None, headers=None, raw=None):
    """One request on a fresh connection with exactly these headers (http.client adds Host,
    Accept-Encoding: identity and Content-Length). Returns (status, headers, JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, body=data, headers=dict(headers or {}))
        resp = conn.getresponse()
        payload = resp.read()
        try:
            value = json.loads(payload) if "json" in (resp.getheader("Content-Type") or "") else payload
        except ValueError:
            value = payload
        return resp.status, resp, value
    finally:
        conn.close()


def without(headers, name):
    return {k: v for k, v in headers.items() if k != name}


def with_(headers, name, value):
    return dict(without(headers, name), **{name: value})


class FakeCase(unittest.TestCase):
    def tearDown(self):
        self.fake.stop()

    def assertRefused(self, status, method, path, body=None, headers=None, raw=None, what=""):
        """The request gets status with an error message, and the log shows it refused."""
        before = len(self.fake.refused())
        got, resp, value = call(self.fake, method, path, body, headers, raw)
        self.assertEqual(got, status, "%s: %s %s answered %d %r" % (what, method, path, got, value))
        self.assertIsInstance(value, dict, what)
        self.assertEqual(value.get("statusCode"), status, what)
        self.assertTrue(value.get("message"), what)
        refused = self.fake.refused()
        self.assertEqual(len(refused), before + 1, "%s: not logged as refused: %r" % (what, refused[-1:]))
        self.assertEqual(refused[-1]["status"], status, what)
        self.assertTrue(refused[-1]["refused"], what)
        return resp, value

    def assertNoneRefused(self):
        self.assertEqual(self.fake.refused(), [], "the fake refused requests")


class TestFakeGupy(FakeCase):
    def setUp(self):
        self.fake = FakeGupy(token=TOKEN).start()
        self.fake.add_job(id=JOB, name="Dev")
        self.fake.add_job(id=JOB + 1)
        self.fake.add_application(JOB, id=APP, step="Exame", candidate={"id": 33172137, "name": "Maria"})
        self.fake.add_application(JOB + 1, id=APP + 1, step="Exame")

    def test_documented_requests_change_state(self):
        st, _, tag = call(self.fake, "PUT", TAGS, {"name": "Apto"}, WRITE_HEADERS)
        self.assertEqual(st, 200, tag)
        self.assertEqual(set(tag), {"id", "candidateId", "applicationId", "jobId", "name"})
        self.assertEqual((tag["candidateId"], tag["applicationId"], tag["jobId"], tag["name"]),
                         (33172137, APP, JOB, "Apto"))
        st, _, again = call(self.fake, "PUT", TAGS, {"name": "Apto"}, WRITE_HEADERS)
        self.assertEqual((st, again), (200, tag), "the same tag twice is one tag")
        call(self.fake, "PUT", TAGS, {"name": "Inapto"}, WRITE_HEADERS)
        self.assertEqual(self.fake.tags(APP), ["Apto", "Inapto"])

        text = "O candidato realizou os testes técnicos e foi aprovado"
        st, _, c = call(self.fake, "POST", COMMENTS, {"text": text}, WRITE_HEADERS)
        self.assertEqual(st, 200, c)
        self.assertEqual(set(c), {"id", "userId", "hidden", "text", "createdAt", "updatedAt"})
        self.assertIs(c["hidden"], False)
        self.assertEqual(c["text"], text)
        self.assertRegex(c["createdAt"], DATE_RE)
        call(self.fake, "POST", COMMENTS, {"text": "second"}, WRITE_HEADERS)
        self.assertEqual(self.fake.comments(APP), [text, "second"])

        self.assertEqual(self.fake.application(APP)["status"], "inProgress")
        reprove = {"status": "reproved", "disapprovalReason": "test_result_below_cutoff"}
        st, _, a = call(self.fake, "PATCH", MOVE, reprove,
                        with_(WRITE_HEADERS, "content-type", "application/json; charset=utf-8"))
        self.assertEqual(st, 200, a)
        app = self.fake.application(APP)
        self.assertEqual((app["status"], app["disapprovalReason"]), ("reproved", "test_result_below_cutoff"))
        self.assertEqual(self.fake.application(APP + 1)["tags"], [], "another application untouched")
        self.assertNoneRefused()
        self.assertEqual(len(self.fake.log(refused=False)), 6)

    def test_authorization_is_exactly_bearer_token(self):
        for value in (UNSET, "", "Bearer", "bearer " + TOKEN, "Bearer  " + TOKEN, "Bearer wrong", TOKEN,
                      "Token " + TOKEN, "Bearer " + TOKEN + " "):
            h = without(WRITE_HEADERS, "authorization") if value is UNSET else with_(WRITE_HEADERS, "authorization",
                                                                                       value)
            self.assertRefused(401, "PUT", TAGS, {"name": "Apto"}, h, what="authorization %r" % (value,))
            self.assertRefused(401, "GET", "/api/v1/jobs", headers=without(h, "content-type"),
                               what="GET with authorization %r" % (value,))
        self.assertEqual(self.fake.tags(APP), [])

    def test_accept_and_content_type_required_on_writes(self):
        for method, path, body in (("PUT", TAGS, {"name": "Apto"}), ("POST", COMMENTS, {"text": "t"}),
                                   ("PATCH", MOVE, {"status": "reproved", "disapprovalReason": "r"})):
            what = method + " " + path
            self.assertRefused(406, method, path, body, without(WRITE_HEADERS, "accept"), what=what + " no accept")
            self.assertRefused(406, method, path, body, with_(WRITE_HEADERS, "accept", "*/*"), what=what + " */*")
            self.assertRefused(406, method, path, body, with_(WRITE_HEADERS, "accept", "text/html"), what=what)
            self.assertRefused(415, method, path, body, without(WRITE_HEADERS, "content-type"), what=what + " no ct")
            for ct in ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
                       "application/jsonx"):
                self.assertRefused(415, method, path, body, with_(WRITE_HEADERS, "content-type", ct), what=what + ct)
        app = self.fake.application(APP)
        self.assertEqual((app["tags"], app["comments"], app["status"]), ([], [], "inProgress"))

    def test_bodies_of_exactly_the_documented_shape(self):
        bad = [
            (TAGS, b'{"name": "Apto"', "truncated JSON"), (TAGS, b'["Apto"]', "an array"),
            (TAGS, b'{}', "no name"), (TAGS, b'{"name": ""}', "empty name"), (TAGS, b'{"name": 7}', "number"),
            (TAGS, b'{"name": null}', "null"), (TAGS, b'{"name": "A", "color": "red"}', "unknown field"),
            (TAGS, b'{"name": "A", "name": "B"}', "repeated key"), (TAGS, b'{"name": NaN}', "NaN"),
            (TAGS, b'{"name": "\xff"}', "not UTF-8"), (TAGS, b'', "empty body"),
            (COMMENTS, b'{"text": ["a"]}', "text array"), (COMMENTS, b'{"comment": "a"}', "wrong field"),
            (COMMENTS, b'{"text": "a", "hidden": true}', "extra field"),
            (MOVE, b'{"status": "approved", "disapprovalReason": "x"}', "other status"),
            (MOVE, b'{"status": "reproved"}', "no reason"), (MOVE, b'{"disapprovalReason": "x"}', "no status"),
            (MOVE, b'{"status": "reproved", "disapprovalReason": 5}', "reason a number"),
            (MOVE, b'{"status": "reproved", "disapprovalReason": "x", "stepId": 1}', "extra field"),
        ]
        methods = {TAGS: "PUT", COMMENTS: "POST", MOVE: "PATCH"}
        for path, raw, what in bad:
            self.assertRefused(400, methods[path], path, headers=WRITE_HEADERS, raw=raw, what=what)
        app = self.fake.application(APP)
        self.assertEqual((app["tags"], app["comments"], app["status"]), ([], [], "inProgress"))

    def test_methods_paths_and_ids(self):
        resp, _ = self.assertRefused(405, "GET", TAGS, headers=GET_HEADERS)
        self.assertEqual(resp.getheader("Allow"), "PUT")
        self.assertRefused(405, "POST", TAGS, {"name": "A"}, WRITE_HEADERS)
        self.assertRefused(405, "DELETE", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertRefused(405, "POST", "/api/v1/jobs/%d/applications" % JOB, {}, WRITE_HEADERS)
        for path in ("/api/v1/job", "/api/v2/jobs", "/api/v1/jobs/", "/", TAGS + "/1", "/api/v1/jobs/1/tags"):
            self.assertRefused(404, "GET", path, headers=GET_HEADERS, what=path)
        for path in ("/api/v1/jobs/abc/applications/%d/tags" % APP, "/api/v1/jobs/%d/applications/6x/tags" % JOB,
                     "/api/v1/jobs/-1/applications/%d/tags" % APP, "/api/v1/jobs/0/applications/%d/tags" % APP):
            self.assertRefused(400, "PUT", path, {"name": "A"}, WRITE_HEADERS, what=path)
        self.assertRefused(404, "PUT", "/api/v1/jobs/999/applications/%d/tags" % APP, {"name": "A"}, WRITE_HEADERS)
        self.assertRefused(404, "PUT", "/api/v1/jobs/%d/applications/999/tags" % JOB, {"name": "A"}, WRITE_HEADERS)
        self.assertRefused(404, "PUT", "/api/v1/jobs/%d/applications/%d/tags" % (JOB, APP + 1), {"name": "A"},
                           WRITE_HEADERS, what="an application of another job")
        self.assertRefused(404, "GET", "/api/v1/jobs/999/applications", headers=GET_HEADERS)
        self.assertRefused(400, "GET", "/api/v1/jobs", headers=with_(GET_HEADERS, "content-type", "application/json"),
                           raw=b"{}", what="a GET with a body")
        self.assertEqual(self.fake.tags(APP + 1), [])

    def test_lists_page_over_three_pages(self):
        ids = self.fake.bulk_applications(JOB, 24, step="Exame", first_id=700001)
        for i in range(5):
            self.fake.add_application(JOB, step="Triagem")
        path = "/api/v1/jobs/%d/applications?currentStepName=Exame&perPage=10&page=" % JOB
        seen = []
        for page, n in ((1, 10), (2, 10), (3, 5), (4, 0)):
            st, _, body = call(self.fake, "GET", path + str(page), headers=GET_HEADERS)
            self.assertEqual(st, 200, body)
            self.assertEqual(set(body), {"results", "totalResults", "page", "totalPages"})
            self.assertEqual((body["totalResults"], body["page"], body["totalPages"], len(body["results"])),
                             (25, page, 3, n))
            for a in body["results"]:
                self.assertEqual(a["currentStep"]["name"], "Exame")
                self.assertEqual(a["jobId"], JOB)
            seen += [a["id"] for a in body["results"]]
        self.assertEqual(seen, sorted([APP] + ids))
        st, _, body = call(self.fake, "GET", "/api/v1/jobs/%d/applications" % JOB, headers=GET_HEADERS)
        self.assertEqual((body["totalResults"], body["totalPages"], len(body["results"])), (30, 3, 10), "perPage 10")

        self.fake.add_job(status="draft")
        self.fake.add_job(status="closed")
        st, _, body = call(self.fake, "GET", "/api/v1/jobs?status=published&perPage=1&page=2", headers=GET_HEADERS)
        self.assertEqual((body["totalResults"], body["totalPages"], [j["id"] for j in body["results"]]),
                         (2, 2, [JOB + 1]))
        st, _, body = call(self.fake, "GET", "/api/v1/jobs?status=draft", headers=GET_HEADERS)
        self.assertEqual([j["status"] for j in body["results"]], ["draft"])
        self.assertNoneRefused()
        for q in ("perPage=0", "perPage=101", "perPage=ten", "perPage=-1", "perPage=", "page=0", "page=",
                  "page=1.5", "page=1&page=2", "per_page=10", "status=", "currentStepName=Exame", "limit=5"):
            self.assertRefused(400, "GET", "/api/v1/jobs?" + q, headers=GET_HEADERS, what=q)
        self.assertRefused(400, "GET", "/api/v1/jobs/%d/applications?currentStepName=" % JOB, headers=GET_HEADERS)
        self.assertRefused(400, "GET", "/api/v1/jobs/%d/applications?step=Exame" % JOB, headers=GET_HEADERS)

    def test_step_filter_can_be_ignored(self):
        self.fake.add_application(JOB, step="Triagem")
        path = "/api/v1/jobs/%d/applications?currentStepName=Exame" % JOB
        self.assertEqual(call(self.fake, "GET", path, headers=GET_HEADERS)[2]["totalResults"], 1)
        st, _, _ = call(self.fake, "POST", "/_fake/options", {"honourStepFilter": False})
        self.assertEqual(st, 200)
        body = call(self.fake, "GET", path, headers=GET_HEADERS)[2]
        self.assertEqual(sorted(a["currentStep"]["name"] for a in body["results"]), ["Exame", "Triagem"])
        self.fake.set_step_filter(True)
        self.assertEqual(call(self.fake, "GET", path, headers=GET_HEADERS)[2]["totalResults"], 1)

    def test_failure_injection(self):
        f = self.fake
        f.inject("500", MOVE, method="PUT", count=2)  # a prefix of TAGS and COMMENTS
        self.assertEqual(call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)[0], 200, "another path unaffected")
        self.assertEqual(call(f, "POST", COMMENTS, {"text": "x"}, WRITE_HEADERS)[0], 200, "another method unaffected")
        self.assertRefused(400, "PUT", TAGS, {"nome": "Apto"}, WRITE_HEADERS, what="a bad request is refused first")
        for _ in range(2):
            st, _, body = call(f, "PUT", TAGS, {"name": "Apto"}, WRITE_HEADERS)
            self.assertEqual((st, body["statusCode"]), (500, 500))
            self.assertEqual(f.tags(APP), [], "an injected failure changes nothing")
        self.assertEqual(call(f, "PUT", TAGS, {"name": "Apto"}, WRITE_HEADERS)[0], 200)
        self.assertEqual(f.tags(APP), ["Apto"])
        self.assertEqual(f.failures(), [])
        injected = [e for e in f.log() if e["injected"]]
        self.assertEqual([(e["status"], e["injected"], e["refused"]) for e in injected], [(500, "500", None)] * 2)

        f.inject("429", "/api/v1/jobs", retry_after=7)
        st, resp, _ = call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertEqual((st, resp.getheader("Retry-After")), (429, "7"))
        for status in ("404", "401"):
            f.inject(status, "/api/v1/jobs", method="GET")
            self.assertEqual(call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)[0], int(status))
        f.inject("html", "/api/v1/jobs")
        st, resp, body = call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertEqual(st, 502)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/html"))
        self.assertTrue(body.startswith(b"<!DOCTYPE html>"))
        f.inject("html", "/api/v1/jobs", status=200)
        self.assertEqual(call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)[0], 200)
        f.inject("huge", "/api/v1/jobs")
        st, _, body = call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertEqual((st, len(json.dumps(body).encode()) >= 10 * 1024 * 1024), (200, True))
        f.inject("delay", COMMENTS, delay_ms=400)
        t0 = time.monotonic()
        st, _, _ = call(f, "POST", COMMENTS, {"text": "late"}, WRITE_HEADERS)
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.35)
        self.assertEqual(f.comments(APP), ["x", "late"], "a delayed request is then served")
        self.assertEqual(call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)[0], 200, "all injections used up")
        self.assertEqual(len(f.refused()), 1)

        f.inject("503", "/api/v1/jobs")
        self.assertEqual(call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)[0], 503, "any error status")
        f.inject("drop", "/api/v1/jobs")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            call(f, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertEqual((f.log()[-1]["injected"], f.log()[-1]["status"]), ("drop", None))
        self.assertEqual(len(f.refused()), 1)
        for answer in ("200", "302", "600", "hang", 500):
            st, _, _ = call(f, "POST", "/_fake/failures", {"pathPrefix": "/api", "answer": answer})
            self.assertEqual(st, 400, "answer %r" % (answer,))
        self.assertEqual(call(f, "POST", "/_fake/failures", {"pathPrefix": "api", "answer": "500"})[0], 400)
        self.assertEqual(call(f, "POST", "/_fake/failures", {"pathPrefix": "/", "answer": "500", "count": -1})[0], 400)
        self.assertEqual(call(f, "POST", "/_fake/failures", {"pathPrefix": "/", "answer": "500", "x": 1})[0], 400)
        st, _, _ = call(f, "POST", "/_fake/failures", {"pathPrefix": "/api", "answer": "500", "count": 3})
        self.assertEqual(len(call(f, "GET", "/_fake/failures")[2]), 1)
        call(f, "DELETE", "/_fake/failures")
        self.assertEqual(f.failures(), [])

    def test_control_endpoints(self):
        f = self.fake
        st, _, jobs = call(f, "POST", "/_fake/jobs", [{"id": 42, "status": "closed"}, {"name": "Auto"}])
        self.assertEqual((st, jobs[0]["id"], jobs[0]["status"], jobs[1]["status"]), (200, 42, "closed", "published"))
        st, _, apps = call(f, "POST", "/_fake/applications",
                           {"id": 9, "jobId": 42, "currentStep": {"name": "Exame"}, "tags": ["x"], "score": 71.5})
        self.assertEqual((st, apps[0]["tags"], apps[0]["score"]), (200, ["x"], 71.5))
        self.assertEqual(call(f, "POST", "/_fake/applications", {"id": 9, "jobId": 42})[0], 400, "duplicate id")
        self.assertEqual(call(f, "POST", "/_fake/applications", {"jobId": 1})[0], 400, "unknown job")
        st, _, moved = call(f, "POST", "/_fake/applications/9/move", {"name": "Entrevista"})
        self.assertEqual(moved["currentStep"]["name"], "Entrevista")
        st, _, bulk = call(f, "POST", "/_fake/bulk", {"jobId": 42, "count": 3, "step": "Exame"})
        self.assertEqual(len(bulk["ids"]), 3)
        self.assertEqual(call(f, "GET", "/_fake/applications/9")[2]["currentStep"]["name"], "Entrevista")
        state = call(f, "GET", "/_fake/state")[2]
        self.assertEqual((len(state["jobs"]), len(state["applications"])), (4, 6))
        self.assertEqual(f.log(), [], "control requests are not logged")
        call(f, "GET", "/nope")
        self.assertEqual(len(call(f, "GET", "/_fake/log?refused=1")[2]["requests"]), 1)
        call(f, "DELETE", "/_fake/log")
        self.assertEqual(f.log(), [])
        call(f, "POST", "/_fake/reset")
        self.assertEqual(f.state()["jobs"], [])

    def test_bulk_seed_of_ten_thousand(self):
        ids = self.fake.bulk_applications(JOB + 1, 10000, step="Exame")
        self.assertEqual(len(set(ids)), 10000)
        st, _, body = call(self.fake, "GET", "/api/v1/jobs/%d/applications?currentStepName=Exame&perPage=100&page=100"
                           % (JOB + 1), headers=GET_HEADERS)
        self.assertEqual((body["totalResults"], body["totalPages"], len(body["results"])), (10001, 101, 100))

    def test_keep_alive_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        try:
            for name in ("A", "B", "A"):
                conn.request("PUT", TAGS, body=json.dumps({"name": name}), headers=WRITE_HEADERS)
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                resp.read()
        finally:
            conn.close()
        self.assertEqual(self.fake.tags(APP), ["A", "B"])

    def test_stop_closes_connections_and_start_serves_again(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        try:
            conn.request("GET", "/api/v1/jobs", headers=GET_HEADERS)
            conn.getresponse().read()
            port = self.fake.port
            self.fake.stop()
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                conn.request("GET", "/api/v1/jobs", headers=GET_HEADERS)
                conn.getresponse()
            with self.assertRaises(ConnectionError):
                call(self.fake, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        finally:
            conn.close()
        self.fake.start()
        self.assertEqual(self.fake.port, port)
        st, _, body = call(self.fake, "GET", "/api/v1/jobs", headers=GET_HEADERS)
        self.assertEqual((st, body["totalResults"]), (200, 2), "same port, same state")

    def test_run_by_a_person(self):
        proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                              "fakes", "fake_gupy.py"),
                                 "--port", "0", "--token", TOKEN, "--seed", data_path("fake-gupy-seed.json")],
                                stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            self.assertTrue(m, line)

            class Port:
                port = int(m.group(1))
            st, _, body = call(Port, "PUT", TAGS, {"name": "Apto"}, WRITE_HEADERS)
            self.assertEqual((st, body["name"], body["candidateId"]), (200, "Apto", 33172137))
            st, _, body = call(Port, "GET", "/api/v1/jobs?status=published", headers=GET_HEADERS)
            self.assertEqual([j["id"] for j in body["results"]], [JOB])
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


HW_AUTH = "Bearer hw-secret"
HW_HEADERS = {"authorization": HW_AUTH, "content-type": "application/json"}
EXAMPLE_STRING = {"status": "NEW_STATUS", "eventDate": "2023-01-10T09:00:00.000Z",
                  "created": "2023-01-01T09:00:00.000Z", "jobId": "2022-001-developer", "source": "hellowork.com"}
EXAMPLE_OBJECT = dict(EXAMPLE_STRING, source={"sourceTypeId": "DIRECT_SOURCING", "sourceSubTypeId": "ClientId",
                                              "sourceId": "CVCatcherWebsite"})
STATUS = "/v1/applications/A-1/status"
SIXTEEN = ["sending", "sent", "error", "not_found", "seen_by_recruiter", "interview_by_recruiter", "to_finalize",
           "hired", "pool", "offred", "whithdrawn", "outdated", "rejected_and_contacted_by_recruiter", "rejected",
           "rejected_candidate", "unknown"]


class TestFakeHelloWork(FakeCase):
    def setUp(self):
        self.fake = FakeHelloWork(authorization=HW_AUTH, ats_name="acme-ats").start()
        self.fake.add_application("A-1")
        self.own = self.fake.add_application(77, status_api_path="/partner/acme/77/status")

    def test_documented_examples_and_state(self):
        for body in (EXAMPLE_STRING, EXAMPLE_OBJECT, dict(EXAMPLE_STRING, eventDate="2023-01-10T10:00:00+01:00")):
            st, _, answer = call(self.fake, "POST", STATUS, body, HW_HEADERS)
            self.assertEqual((st, answer), (200, {"result": "Status was updated successfully"}))
        no_source = dict(EXAMPLE_STRING, status="hired")
        del no_source["source"]
        self.assertEqual(call(self.fake, "POST", STATUS, no_source, HW_HEADERS)[0], 200)
        pushes = self.fake.pushes("A-1")
        self.assertEqual([p["body"] for p in pushes[:2]], [EXAMPLE_STRING, EXAMPLE_OBJECT])
        self.assertEqual({p["via"] for p in pushes}, {"rebuilt"})
        self.assertEqual(self.fake.statuses("A-1")[-1], "hired")

        self.assertEqual(self.own["statusApiUrl"], self.fake.url + "/partner/acme/77/status")
        self.assertEqual(self.fake.application("A-1")["statusApiUrl"], self.fake.url + STATUS)
        self.assertEqual(call(self.fake, "POST", "/partner/acme/77/status", EXAMPLE_STRING, HW_HEADERS)[0], 200)
        self.assertEqual([p["via"] for p in self.fake.pushes(77)], ["statusApiUrl"])
        self.assertNoneRefused()

    def test_every_documented_status_and_communication_delay(self):
        for s in SIXTEEN:
            self.assertEqual(call(self.fake, "POST", STATUS, dict(EXAMPLE_STRING, status=s), HW_HEADERS)[0], 200, s)
        for delay in ("7 days", 14):
            body = dict(EXAMPLE_STRING, status="rejected_and_contacted_by_recruiter", communicationDelay=delay)
            self.assertEqual(call(self.fake, "POST", STATUS, body, HW_HEADERS)[0], 200)
        self.assertEqual(self.fake.statuses("A-1"), SIXTEEN + ["rejected_and_contacted_by_recruiter"] * 2)
        self.assertEqual(self.fake.pushes("A-1")[-1]["body"]["communicationDelay"], 14)
        self.assertNoneRefused()

    def test_unknown_application_gets_the_documented_404(self):
        _, body = self.assertRefused(404, "POST", "/v1/applications/nope/status", EXAMPLE_STRING, HW_HEADERS)
        self.assertEqual(body, {"statusCode": 404, "error": "Not Found",
                                "message": "Could not find applicationInfo with id nope for ATS acme-ats"})
        self.fake.inject("404", STATUS)
        st, _, body = call(self.fake, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)
        self.assertEqual((st, body["message"]), (404, "Could not find applicationInfo with id A-1 for ATS acme-ats"))
        self.assertEqual(self.fake.pushes("A-1"), [])

    def test_authorization(self):
        for value in (UNSET, "", "Bearer hw-secreT", "bearer hw-secret", "hw-secret"):
            h = without(HW_HEADERS, "authorization") if value is UNSET else with_(HW_HEADERS, "authorization", value)
            self.assertRefused(401, "POST", STATUS, EXAMPLE_STRING, h, what=repr(value))
        open_fake = FakeHelloWork().start()
        try:
            open_fake.add_application("A-1")
            st, _, _ = call(open_fake, "POST", STATUS, EXAMPLE_STRING, {"content-type": "application/json"})
            self.assertEqual(st, 200, "no authorization configured: none needed")
        finally:
            open_fake.stop()
        self.assertEqual(self.fake.pushes("A-1"), [])

    def test_bodies_of_exactly_the_documented_shape(self):
        def changed(**kw):
            b = dict(EXAMPLE_STRING, **kw)
            return {k: v for k, v in b.items() if v is not UNSET}
        bad = {
            "jobId a number": changed(jobId=2022), "jobId empty": changed(jobId=""), "jobId null": changed(jobId=None),
            "no status": changed(status=UNSET), "no eventDate": changed(eventDate=UNSET),
            "no created": changed(created=UNSET), "no jobId": changed(jobId=UNSET),
            "status empty": changed(status=""), "status a number": changed(status=3),
            "date only": changed(eventDate="2023-01-10"), "no zone": changed(eventDate="2023-01-10T09:00:00"),
            "month 13": changed(created="2023-13-01T09:00:00Z"), "space": changed(created="2023-01-01 09:00:00Z"),
            "epoch": changed(eventDate=1673341200), "hour 24": changed(eventDate="2023-01-10T24:00:00Z"),
            "bad offset": changed(eventDate="2023-01-10T09:00:00+25:00"),
            "source null": changed(source=None), "source number": changed(source=5), "source array": changed(source=[]),
            "unknown field": changed(applicationId="A-1"),
            "delay with another status": changed(status="rejected", communicationDelay="7 days"),
            "delay empty": changed(status="rejected_and_contacted_by_recruiter", communicationDelay=""),
            "delay negative": changed(status="rejected_and_contacted_by_recruiter", communicationDelay=-1),
            "body an array": [EXAMPLE_STRING],
        }
        for what, body in bad.items():
            self.assertRefused(400, "POST", STATUS, body, HW_HEADERS, what=what)
        self.assertRefused(400, "POST", STATUS, headers=HW_HEADERS, raw=b'{"status": "sent",', what="bad JSON")
        self.assertRefused(415, "POST", STATUS, EXAMPLE_STRING, without(HW_HEADERS, "content-type"))
        self.assertRefused(415, "POST", STATUS, EXAMPLE_STRING, with_(HW_HEADERS, "content-type", "text/plain"))
        self.assertEqual(self.fake.pushes("A-1"), [])

    def test_methods_and_paths(self):
        resp, _ = self.assertRefused(405, "GET", STATUS, headers=HW_HEADERS)
        self.assertEqual(resp.getheader("Allow"), "POST")
        self.assertRefused(405, "PUT", "/partner/acme/77/status", EXAMPLE_STRING, HW_HEADERS)
        for path in ("/v1/applications/A-1", "/v2/applications/A-1/status", "/v1/applications/A-1/status/x",
                     "/partner/acme/77", "/applications/A-1/status"):
            self.assertRefused(404, "POST", path, EXAMPLE_STRING, HW_HEADERS, what=path)

    def test_failure_injection(self):
        f = self.fake
        f.inject("500", STATUS, method="POST")
        self.assertEqual(call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)[0], 500)
        self.assertEqual(call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)[0], 200)
        self.assertEqual(len(f.pushes("A-1")), 1, "500 then 200: one push kept")
        f.inject("429", "/v1/", retry_after=2)
        st, resp, _ = call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)
        self.assertEqual((st, resp.getheader("Retry-After")), (429, "2"))
        f.inject("401", "/partner/")
        self.assertEqual(call(f, "POST", "/partner/acme/77/status", EXAMPLE_STRING, HW_HEADERS)[0], 401)
        f.inject("403", "/partner/")
        self.assertEqual(call(f, "POST", "/partner/acme/77/status", EXAMPLE_STRING, HW_HEADERS)[0], 403)
        f.inject("drop", STATUS)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)
        f.inject("html", "/v1/", status=200)
        st, resp, body = call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)
        self.assertEqual((st, resp.getheader("Content-Type")[:9]), (200, "text/html"))
        f.inject("huge", "/v1/", status=502)
        st, _, body = call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)
        self.assertEqual(st, 502)
        f.inject("delay", "/v1/", delay_ms=300)
        t0 = time.monotonic()
        self.assertEqual(call(f, "POST", STATUS, EXAMPLE_STRING, HW_HEADERS)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        self.assertEqual(len(f.pushes("A-1")), 2)
        self.assertNoneRefused()

    def test_control_endpoints_and_person_mode(self):
        f = self.fake
        st, _, apps = call(f, "POST", "/_fake/applications", [{"applicationId": "B-2"},
                                                              {"applicationId": "B-3", "statusApiPath": "/s/B-3"}])
        self.assertEqual((st, apps[1]["statusApiUrl"]), (200, f.url + "/s/B-3"))
        self.assertEqual(call(f, "POST", "/_fake/applications", {"applicationId": "B-2"})[0], 400, "duplicate")
        self.assertEqual(call(f, "POST", "/_fake/applications", {"id": "B-9"})[0], 400, "wrong field")
        self.assertEqual(call(f, "POST", "/s/B-3", EXAMPLE_STRING, HW_HEADERS)[0], 200)
        self.assertEqual(len(call(f, "GET", "/_fake/applications/B-3")[2]["pushes"]), 1)
        self.assertEqual(len(call(f, "GET", "/_fake/state")[2]["applications"]), 4)

        proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                              "fakes", "fake_hellowork.py"),
                                 "--port", "0", "--authorization", HW_AUTH, "--seed",
                                 data_path("fake-hellowork-seed.json")], stdout=subprocess.PIPE, text=True)
        try:
            m = re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline())
            self.assertTrue(m)

            class Port:
                port = int(m.group(1))
            path = "/v1/partner/acme/applications/hw-1002/status"
            self.assertEqual(call(Port, "POST", path, EXAMPLE_STRING, HW_HEADERS)[0], 200)
            self.assertEqual(call(Port, "POST", "/v1/applications/hw-1001/status", EXAMPLE_STRING, HW_HEADERS)[0], 200)
            self.assertEqual(call(Port, "POST", "/v1/applications/hw-1003/status", EXAMPLE_STRING, HW_HEADERS)[0], 404)
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
