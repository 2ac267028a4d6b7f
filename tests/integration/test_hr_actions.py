"""HR route actions (issue 13, points 2 and 3) end to end, against the strict fake Gupy and
HelloWork APIs of tests/fakes: a Gupy-shaped receipt on a source whose entity is keyed by
data.application.id and keeps jobId fires gupy.tag / gupy.comment / gupy.reprove, and the
fake Gupy holds exactly the tag, the comment and the reproval, sent with exactly the
seed's headers and bodies (the fake refuses anything else, and refuses nothing here). A
missing id fails the delivery for good with a readable reason and sends nothing; Gupy's
400 fails it without a retry, a 500 is retried into one delivery, a 429's Retry-After is
waited out, a 410 fails its request but not the action, an HTML error page is retried and a 10 MB answer is read bounded; the dry run
renders the exact request under the connection's base URL, sending nothing. hellowork.status pushes each of the 16 values through a map (one route, one
receipt each), "unknown" for an unmapped status, on the statusApiUrl form and the rebuilt
URL form; a statusApiUrl of another origin is refused; a 404 is recorded as
"not_found: <message>" and not retried; a 500 then a 200 is delivered once; a connection
PATCH changes the Authorization of later requests. Bad routes: a map value outside the
16, another company's connection, a connection of the wrong kind."""

import datetime
import json
import time
import unittest

import harness as H

FakeGupy, FakeHelloWork = H.fakes()

GUPY_TOKEN = "gupy-token-0123456789abcdef"
FAST = {"schedule": [1], "deadlineSeconds": 120}  # retries 1 s apart
JOB = 123456
APP = 654321


def moved(app_id, n=1, step="Exame", job_id=JOB, **extra_app):
    """A Gupy application.moved body (event id unique per application and n)."""
    app = {"id": app_id, "currentStep": {"name": step}}
    app.update(extra_app)
    data = {"application": app}
    if job_id is not None:
        data["job"] = {"id": job_id, "name": "Dev"}
    return {"companyName": "ACME", "id": "ev-%s-%d" % (app_id, n), "event": "application.moved",
            "date": "2026-11-30T09:00:%02d-03:00" % n, "data": data}


def parse_at(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


class HRFlow(H.GanchoTestCase):
    """A source keyed by application, connections to the fakes, and helpers."""

    def source(self, entity=True):
        body = {"name": "Gupy", "verification": {"kind": "none"}}
        if entity:
            body["entity"] = {"type": "application", "key": "data.application.id",
                              "keep": {"jobId": "data.job.id",
                                       "step": "data.application.currentStep.name"}}
        return self.assertStatus(self.api("POST", "/api/v1/sources", body), 201, "source")

    def connection(self, kind, url, token=None, authorization=None, api_token=H._NO_TOKEN):
        body = {"name": kind, "kind": kind, "baseUrl": url}
        if token:
            body["token"] = token
        if authorization:
            body["authorization"] = authorization
        return self.assertStatus(self.api("POST", "/api/v1/connections", body, token=api_token),
                                 201, "connection")

    def route(self, src, actions, **over):
        body = {"name": "hr", "sourceId": src["id"], "events": ["application.moved"],
                "actions": actions}
        body.update(over)
        return self.assertStatus(self.api("POST", "/api/v1/routes", body), 201,
                                 "POST /api/v1/routes %s" % json.dumps(body)[:400])

    def post(self, src, body):
        st, js, raw = self.g.api("POST", "/in/" + src["id"], raw=json.dumps(body))
        self.assertEqual(st, 200, "POST /in: %r" % raw[:300])
        return js

    def of_target(self, target):
        return [d for d in self.deliveries() if d["webhookId"] == target]

    def wait_settled(self, target, n, timeout=20):
        """Wait until target has n deliveries, none of them pending; return them, oldest first."""
        last = {}

        def done():
            ds = self.of_target(target)
            last["ds"] = ds
            if len(ds) >= n and all(d["status"] in ("delivered", "failed") for d in ds):
                return sorted(ds, key=lambda d: int(d["id"]))
            return None
        try:
            return H.wait_until(done, timeout, 0.1)
        except AssertionError:
            self.fail("target %s: %d settled deliveries expected within %s s, got %r"
                      % (target, n, timeout, last.get("ds")))

    def fake(self, cls, **kw):
        f = cls(**kw).start()
        self.addCleanup(f.stop)
        return f


class GupyActionsTest(HRFlow):

    def gupy(self):
        f = self.fake(FakeGupy, token=GUPY_TOKEN)
        f.add_job(id=JOB)
        f.add_application(JOB, id=APP, step="Exame")
        return f

    def test_tag_comment_reprove_exact_requests(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [
            {"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto"},
            {"kind": "gupy.comment", "connectionId": conn["id"],
             "text": "Nota {{body.data.application.score}}: \"aprovado\" / ok"},
            {"kind": "gupy.reprove", "connectionId": conn["id"],
             "disapprovalReason": "test_result_below_cutoff"}])
        self.assertEqual([a["kind"] for a in r["actions"]],
                         ["gupy.tag", "gupy.comment", "gupy.reprove"])
        self.assertNotIn(GUPY_TOKEN, json.dumps(r), "no credential in the route's answer")
        self.post(src, moved(APP, score=87))
        for a in r["actions"]:
            d = self.wait_settled(a["targetId"], 1)[0]
            self.assertEqual((d["status"], d["attempts"], d["lastStatusCode"]),
                             ("delivered", 1, 200), "%s: %r" % (a["kind"], d))
        self.assertEqual(fake.tags(APP), ["Apto"])
        self.assertEqual(fake.comments(APP), ['Nota 87: "aprovado" / ok'])
        app = fake.application(APP)
        self.assertEqual((app["status"], app["disapprovalReason"]),
                         ("reproved", "test_result_below_cutoff"))
        self.assertEqual(fake.refused(), [], "the strict fake refused a request")
        # one request per action; each action is its own target, so the three go side by
        # side (one entity is one at a time per target, not across targets)
        log = sorted(fake.log(), key=lambda e: e["method"])
        self.assertEqual([(e["method"], e["path"], json.loads(e["body"])) for e in log], [
            ("PATCH", "/api/v1/jobs/%d/applications/%d" % (JOB, APP),
             {"status": "reproved", "disapprovalReason": "test_result_below_cutoff"}),
            ("POST", "/api/v1/jobs/%d/applications/%d/comments" % (JOB, APP),
             {"text": 'Nota 87: "aprovado" / ok'}),
            ("PUT", "/api/v1/jobs/%d/applications/%d/tags" % (JOB, APP), {"name": "Apto"})])
        for e in log:
            h = {k.lower(): v for k, v in e["headers"]}
            self.assertEqual(h.get("authorization"), "Bearer " + GUPY_TOKEN)
            self.assertEqual(h.get("accept"), "application/json")
            self.assertEqual(h.get("content-type"), "application/json")
        # the token is in no answer and in no log line
        with open(self.g.log_path, "rb") as f:
            self.assertNotIn(GUPY_TOKEN.encode(), f.read())

    def test_missing_ids_fail_for_good_and_send_nothing(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        # no entity: no application id to default to
        bare = self.source(entity=False)
        r1 = self.route(bare, [{"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto",
                                "jobId": "{{body.data.job.id}}"}])
        self.post(bare, moved(APP))
        d = self.wait_settled(r1["actions"][0]["targetId"], 1)[0]
        self.assertEqual((d["status"], d["attempts"]), ("failed", 0), d)
        self.assertTrue(d["lastError"].startswith("applicationId: missing: the receipt has no "
                                                  "entity key"), d["lastError"])
        # an entity without jobId (the body has no data.job)
        src = self.source()
        r2 = self.route(src, [{"kind": "gupy.comment", "connectionId": conn["id"],
                               "text": "x"}])
        self.post(src, moved(APP, job_id=None))
        d = self.wait_settled(r2["actions"][0]["targetId"], 1)[0]
        self.assertEqual(d["status"], "failed", d)
        self.assertTrue(d["lastError"].startswith("jobId: missing: the entity keeps no jobId"),
                        d["lastError"])
        time.sleep(1.5)
        self.assertEqual(fake.log(), [], "nothing was sent")

    def test_400_fails_without_retry(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [{"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto",
                              "retryPolicy": FAST}])
        fake.inject("400", path_prefix="/api/v1/jobs/", method="PUT", count=5)
        self.post(src, moved(APP))
        d = self.wait_settled(r["actions"][0]["targetId"], 1)[0]
        self.assertEqual((d["status"], d["attempts"], d["lastStatusCode"]), ("failed", 1, 400), d)
        self.assertTrue(d["lastError"].startswith("HTTP 400"), d["lastError"])
        time.sleep(2.5)  # a retry would have come 1 s later
        self.assertEqual(len(fake.log()), 1, "a 400 is not retried")
        self.assertEqual(fake.tags(APP), [])

    def test_500_then_success_delivers_once(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [{"kind": "gupy.comment", "connectionId": conn["id"],
                              "text": "relatório", "retryPolicy": FAST}])
        fake.inject("500", path_prefix="/api/v1/jobs/", method="POST", count=1)
        self.post(src, moved(APP))
        d = self.wait_settled(r["actions"][0]["targetId"], 1)[0]
        self.assertEqual((d["status"], d["attempts"]), ("delivered", 2), d)
        self.assertEqual(fake.comments(APP), ["relatório"], "one comment")
        self.assertEqual([e["status"] for e in fake.log()], [500, 200])
        self.assertEqual(fake.refused(), [])

    def test_429_retry_after_is_honoured(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [{"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto",
                              "retryPolicy": FAST}])
        fake.inject("429", path_prefix="/api/v1/jobs/", method="PUT", count=1, retry_after=3)
        self.post(src, moved(APP))
        d = self.wait_settled(r["actions"][0]["targetId"], 1, timeout=30)[0]
        self.assertEqual((d["status"], d["attempts"]), ("delivered", 2), d)
        log = fake.log()
        self.assertEqual([e["status"] for e in log], [429, 200])
        gap = (parse_at(log[1]["at"]) - parse_at(log[0]["at"])).total_seconds()
        self.assertGreaterEqual(gap, 2.9, "the retry waited for Retry-After: 3 (schedule: 1 s)")
        self.assertEqual(fake.tags(APP), ["Apto"])

    def test_410_fails_one_request_not_the_target(self):
        fake = self.gupy()
        fake.add_application(JOB, id=APP + 1, step="Exame")
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [{"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto",
                              "retryPolicy": FAST}])
        target = r["actions"][0]["targetId"]
        fake.inject("410", path_prefix="/api/v1/jobs/%d/applications/%d/" % (JOB, APP),
                    method="PUT")
        self.post(src, moved(APP))
        d = self.wait_settled(target, 1)[0]
        self.assertEqual((d["status"], d["lastStatusCode"]), ("failed", 410), d)
        # Gupy's 410 is about that application: the action goes on for the others
        self.post(src, moved(APP + 1))
        ds = self.wait_settled(target, 2)
        self.assertEqual(ds[1]["status"], "delivered", ds[1])
        self.assertEqual(fake.tags(APP + 1), ["Apto"])

    def test_html_and_huge_answers(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        src = self.source()
        r = self.route(src, [{"kind": "gupy.tag", "connectionId": conn["id"], "name": "Apto",
                              "retryPolicy": FAST}])
        target = r["actions"][0]["targetId"]
        # an HTML error page from a proxy: retried; then a 10 MB answer: delivered
        fake.inject("html", path_prefix="/api/v1/jobs/", method="PUT", status=502)
        fake.inject("huge", path_prefix="/api/v1/jobs/", method="PUT", status=200)
        self.post(src, moved(APP))
        d = self.wait_settled(target, 1)[0]
        self.assertEqual((d["status"], d["attempts"]), ("delivered", 2), d)
        atts = self.attempts_of(d["id"])
        self.assertEqual([(a["statusCode"], a["error"]) for a in atts],
                         [(502, "HTTP 502"), (200, None)])
        self.assertTrue(self.g.alive())
        self.assertEqual(fake.refused(), [])

    def test_dry_run_renders_under_the_connection(self):
        fake = self.gupy()
        conn = self.connection("gupy", fake.url, token=GUPY_TOKEN)
        route = {"name": "t", "events": ["application.moved"], "actions": [
            {"kind": "gupy.reprove", "connectionId": conn["id"], "disapprovalReason": "nota"}]}
        body = moved(APP)
        js = self.assertStatus(self.api("POST", "/api/v1/routes/test", {
            "route": route, "body": body, "entity": {"jobId": JOB},
            "receipt": {"entityKey": str(APP)}}), 200, "dry run")
        self.assertEqual(js["requests"], [{
            "action": 0, "kind": "gupy.reprove", "method": "PATCH",
            "url": "%s/api/v1/jobs/%d/applications/%d" % (fake.url, JOB, APP),
            "headers": {"accept": "application/json", "content-type": "application/json"},
            "body": '{"status":"reproved","disapprovalReason":"nota"}'}])
        js = self.assertStatus(self.api("POST", "/api/v1/routes/test", {
            "route": route, "body": body}), 200, "dry run without entity")
        self.assertEqual(js["requests"][0]["error"]["code"], "template_missing")
        self.assertEqual(fake.log(), [], "a dry run sends nothing")


HW_AUTH = "Bearer hw-partner-key-0123456789"


def hw_action(conn, **over):
    a = {"kind": "hellowork.status", "connectionId": conn["id"],
         "status": "{{body.data.application.currentStep.name}}",
         "map": {"Step%d" % i: s for i, s in enumerate(STATUSES)},
         "created": "{{body.data.application.createdAt}}",
         "source": "gancho", "retryPolicy": FAST}
    a.update(over)
    return a


STATUSES = ["sending", "sent", "error", "not_found", "seen_by_recruiter", "interview_by_recruiter",
            "to_finalize", "hired", "pool", "offred", "whithdrawn", "outdated",
            "rejected_and_contacted_by_recruiter", "rejected", "rejected_candidate", "unknown"]


def hw_moved(app_id, step, n=1, **extra):
    return moved(app_id, n, step=step, createdAt="2026-11-01T10:00:00+01:00", **extra)


class HelloWorkStatusTest(HRFlow):

    def hellowork(self, authorization=HW_AUTH):
        return self.fake(FakeHelloWork, authorization=authorization, ats_name="gancho")

    def test_every_value_through_a_map_and_unknown(self):
        fake = self.hellowork()
        conn = self.connection("hellowork", fake.url, authorization=HW_AUTH)
        src = self.source()
        r = self.route(src, [hw_action(conn)])
        target = r["actions"][0]["targetId"]
        for i in range(17):
            fake.add_application("hw-%d" % i)
        for i in range(16):
            self.post(src, hw_moved("hw-%d" % i, "Step%d" % i))
        self.post(src, hw_moved("hw-16", "Entrevista com gestor"))  # not in the map
        ds = self.wait_settled(target, 17, timeout=30)
        self.assertEqual({d["status"] for d in ds}, {"delivered"}, ds)
        for i in range(17):
            pushes = fake.pushes("hw-%d" % i)
            self.assertEqual(len(pushes), 1, "hw-%d: %r" % (i, pushes))
            self.assertEqual(pushes[0]["via"], "rebuilt")
            self.assertEqual(pushes[0]["body"], {
                "status": STATUSES[i] if i < 16 else "unknown",
                "eventDate": "2026-11-30T12:00:01.000Z",  # the receipt's date, in UTC
                "created": "2026-11-01T09:00:00.000Z",
                "jobId": str(JOB),                         # a string, though Gupy's is a number
                "source": "gancho"})
        self.assertEqual(fake.refused(), [])
        for e in fake.log():
            h = {k.lower(): v for k, v in e["headers"]}
            self.assertEqual((h.get("authorization"), h.get("content-type"), h.get("accept")),
                             (HW_AUTH, "application/json", "application/json"))

    def test_status_api_url_form_and_another_origin(self):
        fake = self.hellowork()
        conn = self.connection("hellowork", fake.url, authorization=HW_AUTH)
        fake.add_application("hw-s", status_api_path="/partner/push/hw-s")
        src = self.source()
        delay = {"communicationDelay": "{{body.data.application.delay}}"}
        r = self.route(src, [hw_action(conn, statusApiUrl="{{body.data.application.statusApiUrl}}",
                                       **delay)])
        target = r["actions"][0]["targetId"]
        self.post(src, hw_moved("hw-s", "Step12", statusApiUrl=fake.status_api_url("hw-s"),
                                delay=15))
        d = self.wait_settled(target, 1)[0]
        self.assertEqual(d["status"], "delivered", d)
        p = fake.pushes("hw-s")
        self.assertEqual([x["via"] for x in p], ["statusApiUrl"])
        self.assertEqual(p[0]["body"]["status"], "rejected_and_contacted_by_recruiter")
        self.assertEqual(p[0]["body"]["communicationDelay"], 15)
        # a statusApiUrl on another origin (a receiver of the test): never called
        other = self.rx.url("/v1/applications/hw-s/status")
        self.post(src, hw_moved("hw-s", "Step7", n=2, statusApiUrl=other))
        ds = self.wait_settled(target, 2)
        self.assertEqual(ds[1]["status"], "failed", ds[1])
        self.assertIn("is not on the connection's origin", ds[1]["lastError"])
        self.assertEqual(ds[1]["attempts"], 0)
        time.sleep(1)
        self.assertEqual(self.rx.count(), 0, "the connection's credentials went elsewhere")
        self.assertEqual(len(fake.pushes("hw-s")), 1)
        self.assertEqual(fake.refused(), [])

    def test_404_not_found_without_retry(self):
        fake = self.hellowork()
        conn = self.connection("hellowork", fake.url, authorization=HW_AUTH)
        src = self.source()
        r = self.route(src, [hw_action(conn)])
        self.post(src, hw_moved("hw-404", "Step7"))  # the fake does not know it
        d = self.wait_settled(r["actions"][0]["targetId"], 1)[0]
        self.assertEqual((d["status"], d["attempts"], d["lastStatusCode"]), ("failed", 1, 404), d)
        self.assertEqual(d["lastError"],
                         "not_found: Could not find applicationInfo with id hw-404 for ATS gancho")
        time.sleep(2.5)
        self.assertEqual(len(fake.log()), 1, "a 404 is not retried")

    def test_500_then_200_delivered_once(self):
        fake = self.hellowork()
        conn = self.connection("hellowork", fake.url, authorization=HW_AUTH)
        fake.add_application("hw-5")
        src = self.source()
        r = self.route(src, [hw_action(conn)])
        fake.inject("500", path_prefix="/v1/applications/", count=1)
        self.post(src, hw_moved("hw-5", "Step7"))
        d = self.wait_settled(r["actions"][0]["targetId"], 1)[0]
        self.assertEqual((d["status"], d["attempts"]), ("delivered", 2), d)
        self.assertEqual(fake.statuses("hw-5"), ["hired"])
        self.assertEqual([e["status"] for e in fake.log()], [500, 200])

    def test_connection_patch_changes_later_requests(self):
        fake = self.hellowork(authorization=None)  # the fake logs whatever is sent
        conn = self.connection("hellowork", fake.url, authorization="Bearer first-key-000000")
        fake.add_application("hw-p")
        src = self.source()
        r = self.route(src, [hw_action(conn)])
        target = r["actions"][0]["targetId"]
        self.post(src, hw_moved("hw-p", "Step1", n=1))
        self.wait_settled(target, 1)
        self.assertStatus(self.api("PATCH", "/api/v1/connections/" + conn["id"],
                                   {"authorization": "Bearer second-key-11111"}), 200, "PATCH")
        self.post(src, hw_moved("hw-p", "Step7", n=2))
        ds = self.wait_settled(target, 2)
        self.assertEqual([d["status"] for d in ds], ["delivered", "delivered"])
        auths = [{k.lower(): v for k, v in e["headers"]}.get("authorization") for e in fake.log()]
        self.assertEqual(auths, ["Bearer first-key-000000", "Bearer second-key-11111"])
        self.assertEqual(fake.statuses("hw-p"), ["sent", "hired"])


class BadActionsTest(HRFlow):

    def test_refused_routes(self):
        src = self.source()
        hw = self.connection("hellowork", "https://ats-partner.hellowork.com",
                             authorization=HW_AUTH)
        gupy = self.connection("gupy", "https://api.gupy.io", token=GUPY_TOKEN)
        base = {"name": "hr", "sourceId": src["id"], "events": ["application.moved"]}

        bad_map = dict(base, actions=[{"kind": "hellowork.status", "connectionId": hw["id"],
                                       "status": "{{entity.step}}", "created": "{{body.x}}",
                                       "map": {"Exame": "interview", "Contratado": "hired"}}])
        got = self.api("POST", "/api/v1/routes", bad_map)
        js = self.assertStatus(got, 400, "a map value outside the 16", code="invalid_field")
        self.assertTrue(js["error"]["message"].startswith(
            "actions[0]: map.Exame: \"interview\" is not one of HelloWork's 16 statuses"),
            js["error"]["message"])

        # another company's connection is not found, and named
        _, other_token = self.g.create_company()
        theirs = self.connection("gupy", "https://api.gupy.io", token=GUPY_TOKEN,
                                 api_token=other_token)
        tag = dict(base, actions=[{"kind": "forward", "url": self.rx.url("/x")},
                                  {"kind": "gupy.tag", "connectionId": theirs["id"], "name": "A"}])
        js = self.assertStatus(self.api("POST", "/api/v1/routes", tag), 404,
                               "another company's connection", code="not_found")
        self.assertEqual(js["error"]["message"],
                         "actions[1].connectionId: no connection %s among yours" % theirs["id"])

        # a connection of the wrong kind
        wrong = dict(base, actions=[{"kind": "gupy.reprove", "connectionId": hw["id"],
                                     "disapprovalReason": "x"}])
        js = self.assertStatus(self.api("POST", "/api/v1/routes", wrong), 422, "wrong kind")
        self.assertIn("actions[0].connectionId: %s is a hellowork connection" % hw["id"],
                      js["error"]["message"])

        # a PATCH that names another company's connection changes nothing
        ok = self.assertStatus(self.api("POST", "/api/v1/routes", dict(base, actions=[
            {"kind": "gupy.tag", "connectionId": gupy["id"], "name": "Apto"}])), 201, "route")
        got = self.api("PATCH", "/api/v1/routes/" + ok["id"], {"actions": [
            {"kind": "gupy.tag", "connectionId": theirs["id"], "name": "Apto"}]})
        self.assertStatus(got, 404, "PATCH to another company's connection", code="not_found")
        self.assertEqual(self.assertStatus(self.api("GET", "/api/v1/routes/" + ok["id"]), 200,
                                           "GET"), ok)
        self.assertEqual([x["id"] for x in self.list_all("/api/v1/routes")], [ok["id"]])


if __name__ == "__main__":
    unittest.main()
