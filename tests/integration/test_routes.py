"""Routes and their actions (issue 12, points 4 and 5): create, list, get, patch and
delete a route; bad routes refused with a clear 400; another company's route is not
found; POST /api/v1/routes/test on a Gupy-shaped body answers whether the route
matches and the exact requests its actions would send; an action's target (a webhook
row of its own) is never listed as a webhook and never receives events."""

import json
import os
import subprocess
import tempfile
import time
import unittest

import harness as H

EXAM_URL = "https://exam.example.com/api/applications?job={{body.data.job.id}}"


def gupy_moved(step, job_id=19139, app_id=800123456789):
    """A Gupy application.moved webhook body, as raw JSON text (the key order and the
    big application id are part of what must come through unchanged)."""
    return (
        '{"companyName": "ACME", "id": "8a5f3c2e-1d2b-4c3a-9e8f-7a6b5c4d3e2f",'
        ' "event": "application.moved", "date": "2026-11-30T12:00:00.000Z",'
        ' "data": {"job": {"id": %d, "name": "Analista"},'
        ' "application": {"id": %d, "currentStep": {"name": "%s"}},'
        ' "candidate": {"name": "Ana", "email": "ana@example.com"}}}' % (job_id, app_id, step))


def exam_route(**over):
    body = {
        "name": "exam",
        "events": ["application.moved"],
        "filter": {"body.data.application.currentStep.name": "Exame"},
        "actions": [{
            "kind": "http", "method": "POST", "url": EXAM_URL,
            "headers": {"X-Receipt": "{{receipt.id}}"},
            "authorization": {"kind": "apiKey", "data": {"key": "exam-secret-key", "prefix": "Bearer"}},
            "body": {"jobId": "{{body.data.job.id}}",
                     "applicationId": "{{body.data.application.id}}",
                     "candidate": "{{body.data.candidate.name}} <{{body.data.candidate.email}}>"},
        }],
    }
    body.update(over)
    return body


class RoutesTest(H.GanchoTestCase):

    def create_route(self, body, token=H._NO_TOKEN):
        got = self.api("POST", "/api/v1/routes", body, token=token)
        return self.assertStatus(got, 201, "POST /api/v1/routes %s" % json.dumps(body)[:300])

    def test_crud(self):
        r = self.create_route(exam_route())
        self.assertEqual(set(r), {"id", "name", "sourceId", "events", "filter", "actions", "whenStale",
                                  "createdAt", "updatedAt"})
        self.assertEqual(r["name"], "exam")
        self.assertIsNone(r["sourceId"])
        self.assertEqual(r["whenStale"], "skip", "whenStale defaults to skip")
        self.assertEqual(r["filter"], {"body.data.application.currentStep.name": "Exame"})
        act = r["actions"][0]
        self.assertEqual(act["authorization"], {"kind": "apiKey"}, "secrets are not shown")
        self.assertNotIn("exam-secret-key", json.dumps(r))
        self.assertTrue(act.get("targetId"), "each action names its target")
        target = act["targetId"]

        got = self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 200, "GET one")
        self.assertEqual(got, r)

        # a sourceId must be one of the company's sources
        ghost = "0b7c5e4a-6f1d-4c3a-9e8f-000000000001"
        self.assertStatus(self.api("POST", "/api/v1/routes",
                                   exam_route(name="ghost", sourceId=ghost)), 404,
                          "a source that does not exist", code="not_found")
        src = self.assertStatus(self.api("POST", "/api/v1/sources",
                                         {"name": "Gupy", "verification": {"kind": "none"}}),
                                201, "source")
        r2 = self.create_route(exam_route(name="second", whenStale="fire", sourceId=src["id"]))
        self.assertEqual(r2["whenStale"], "fire")
        self.assertEqual(r2["sourceId"], src["id"])
        page = self.assertStatus(self.api("GET", "/api/v1/routes?limit=1"), 200, "list page 1")
        self.assertEqual([x["id"] for x in page["data"]], [r2["id"]], "newest first")
        self.assertTrue(page["nextCursor"])
        ids = [x["id"] for x in self.list_all("/api/v1/routes")]
        self.assertEqual(ids, [r2["id"], r["id"]])

        # PATCH: only the fields given change; an action keeps its target
        fwd = {"kind": "forward", "url": self.rx.url("/fwd")}
        p = self.assertStatus(self.api("PATCH", "/api/v1/routes/" + r["id"],
                                       {"name": "exam v2", "filter": None,
                                        "actions": [exam_route()["actions"][0], fwd]}), 200, "PATCH")
        self.assertEqual(p["name"], "exam v2")
        self.assertIsNone(p["filter"])
        self.assertEqual(p["events"], ["application.moved"])
        self.assertEqual(p["actions"][0]["targetId"], target, "same action index, same target")
        self.assertTrue(p["actions"][1]["targetId"] and p["actions"][1]["targetId"] != target)
        self.assertEqual(self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 200, "GET"), p)
        # a PATCH that fails changes nothing
        bad = self.api("PATCH", "/api/v1/routes/" + r["id"], {"name": "x", "events": []})
        self.assertStatus(bad, 400, "PATCH with no events", code="invalid_field")
        self.assertEqual(self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 200, "GET"), p)
        bad = self.api("PATCH", "/api/v1/routes/" + r["id"], {"id": r2["id"]})
        self.assertStatus(bad, 400, "PATCH naming another id", code="invalid_field")

        got = self.api("DELETE", "/api/v1/routes/" + r["id"])
        self.assertEqual(got[0], 204, got[2][:300])
        self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 404, "deleted", code="not_found")
        self.assertStatus(self.api("DELETE", "/api/v1/routes/" + r["id"]), 404, "deleted twice",
                          code="not_found")
        self.assertEqual([x["id"] for x in self.list_all("/api/v1/routes")], [r2["id"]])

    def test_bad_routes_refused(self):
        fwd = [{"kind": "forward", "url": self.rx.url("/x")}]
        cases = [
            ({"name": "r", "events": ["e"], "actions": fwd, "filter": {"data.job.id": 1}},
             "data.job.id"),
            ({"name": "r", "events": ["e"], "actions": fwd, "filter": {"body.a": {"$near": 1}}},
             "unknown operator"),
            ({"name": "r", "events": ["e"], "actions": [
                {"kind": "http", "method": "POST", "url": "https://x.example.com/{{body.id"}]},
             "actions[0]: url"),
            ({"name": "r", "events": ["e"], "actions": [
                {"kind": "http", "method": "POST", "url": "https://x.example.com/",
                 "body": {"a": "{{bodyx.id}}"}}]},
             "actions[0]: body"),
            ({"name": "r", "events": ["e"], "actions": [
                {"kind": "forward", "url": self.rx.url("/x"),
                 "authorization": {"kind": "basic", "data": {"username": "u"}}}]},
             "actions[0]: authorization.data.password"),
            ({"name": "r", "events": ["e"], "actions": [{"kind": "forward"}]},
             "actions[0]: url"),
            ({"name": "r", "events": [], "actions": fwd}, "events"),
            ({"name": "r", "events": ["e"], "actions": []}, "actions"),
            ({"name": "r", "events": ["e"], "actions": fwd, "whenStale": "maybe"}, "whenStale"),
            ({"name": "r", "events": ["e"], "actions": fwd, "color": 1}, "color"),
            ({"name": "r", "events": ["e"], "actions": fwd, "sourceId": "../../x"}, "sourceId"),
            ({"events": ["e"], "actions": fwd}, "name"),
        ]
        for body, word in cases:
            got = self.api("POST", "/api/v1/routes", body)
            self.assertStatus(got, 400, "POST %s" % json.dumps(body)[:200],
                              code=("invalid_field", "missing_field"))
            self.assertIn(word, got[1]["error"]["message"], json.dumps(body)[:200])
        self.assertStatus(self.api("POST", "/api/v1/routes", raw=b"{not json"), 400, "not JSON",
                          code="invalid_json")
        self.assertEqual(self.list_all("/api/v1/routes"), [], "nothing stored")
        self.assertTrue(self.g.alive())

    def test_another_companys_route_is_not_found(self):
        r = self.create_route(exam_route())
        _, other = self.g.create_company("OTHER-" + r["id"][:8])
        for method, path, body in (("GET", "/api/v1/routes/" + r["id"], None),
                                   ("PATCH", "/api/v1/routes/" + r["id"], {"name": "mine"}),
                                   ("DELETE", "/api/v1/routes/" + r["id"], None),
                                   ("POST", "/api/v1/routes/test", {"routeId": r["id"], "body": {}})):
            got = self.api(method, path, body, token=other)
            self.assertStatus(got, 404, "%s %s with another company's token" % (method, path),
                              code="not_found")
        self.assertEqual(self.list_all("/api/v1/routes", token=other), [])
        self.assertEqual(self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 200, "GET"), r)

    def dry_run(self, body_raw, route=None, route_id=None, **extra):
        head = {"route": route} if route is not None else {"routeId": route_id}
        head.update(extra)
        raw = json.dumps(head)[:-1].encode() + b', "body": ' + body_raw.encode() + b"}"
        got = self.api("POST", "/api/v1/routes/test", raw=raw)
        return self.assertStatus(got, 200, "POST /api/v1/routes/test")

    def test_dry_run_on_a_gupy_body(self):
        route = exam_route()
        res = self.dry_run(gupy_moved("Exame"), route=route, receipt={"id": "rcpt-1"})
        self.assertTrue(res["matches"], res)
        self.assertEqual(len(res["requests"]), 1)
        rq = res["requests"][0]
        self.assertEqual(rq["method"], "POST")
        self.assertEqual(rq["url"], "https://exam.example.com/api/applications?job=19139")
        self.assertEqual(rq["headers"]["Content-Type"], "application/json")
        self.assertEqual(rq["headers"]["X-Receipt"], "rcpt-1")
        self.assertNotIn("exam-secret-key", json.dumps(res), "the target adds authorization when sending")
        self.assertIn('"jobId":19139', rq["body"], "a number stays a number, as received")
        self.assertIn('"applicationId":800123456789', rq["body"])
        sent = json.loads(rq["body"])
        self.assertEqual(sent, {"jobId": 19139, "applicationId": 800123456789,
                                "candidate": "Ana <ana@example.com>"})
        self.assertIsInstance(sent["jobId"], int)

        # another step: no match (the requests are still shown, to check templates)
        res = self.dry_run(gupy_moved("Triagem"), route=route)
        self.assertFalse(res["matches"])
        # another event
        res = self.dry_run(gupy_moved("Exame"), route=route, event="application.created")
        self.assertFalse(res["matches"])

        # a stored route, by id, and a forward action: the body byte for byte
        fwd = {"kind": "forward", "url": self.rx.url("/fwd")}
        stored = self.create_route(exam_route(actions=[route["actions"][0], fwd]))
        res = self.dry_run(gupy_moved("Exame"), route_id=stored["id"],
                           headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertTrue(res["matches"])
        self.assertEqual(res["requests"][1]["body"], gupy_moved("Exame"))
        self.assertEqual(res["requests"][1]["headers"]["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(res["requests"][1]["url"], self.rx.url("/fwd"))
        time.sleep(0.3)
        self.assertEqual(self.rx.count(), 0, "a dry run sends nothing")

        # a path missing from this body: that action's error, readable
        body = gupy_moved("Exame").replace('"job": {"id": 19139, "name": "Analista"}',
                                           '"job": {"name": "Analista"}')
        res = self.dry_run(body, route=route)
        self.assertTrue(res["matches"])
        self.assertEqual(res["requests"][0]["error"],
                         {"code": "template_missing", "message": "template: body.data.job.id is missing"})

        # the filter can read headers and the entity too
        route2 = exam_route(filter={"$and": [{"headers.X-Gupy-Tenant": "acme"},
                                             {"entity.jobId": {"$gte": 19000}}]})
        res = self.dry_run(gupy_moved("Exame"), route=route2, headers={"x-gupy-tenant": "acme"},
                           entity={"jobId": 19139})
        self.assertTrue(res["matches"])
        res = self.dry_run(gupy_moved("Exame"), route=route2, headers={"x-gupy-tenant": "acme"},
                           entity={"jobId": 1})
        self.assertFalse(res["matches"])

        # bad dry runs
        for body, word in (({"body": {}}, "route or routeId"),
                           ({"route": route}, "body"),
                           ({"route": {"name": "x"}, "body": {}}, "route."),
                           ({"route": route, "body": {}, "headers": {"a": 1}}, "headers.a")):
            got = self.api("POST", "/api/v1/routes/test", body)
            self.assertStatus(got, 400, "dry run %s" % json.dumps(body)[:200],
                              code=("invalid_field", "missing_field"))
            self.assertIn(word, got[1]["error"]["message"])

    def test_targets_are_not_webhooks(self):
        hook = self.create_webhook(path="/hook", action="candidate.hired")
        r = self.create_route({"name": "fwd", "events": ["candidate.hired"],
                               "actions": [{"kind": "forward", "url": self.rx.url("/target")}]})
        target = r["actions"][0]["targetId"]
        listed = [w["id"] for w in self.list_all("/api/v1/webhooks")]
        self.assertEqual(listed, [hook["id"]], "a route's target is not listed as a webhook")
        self.assertStatus(self.api("GET", "/api/v1/webhooks/" + target), 404, "GET a target as a webhook",
                          code="not_found")
        self.assertStatus(self.api("PATCH", "/api/v1/webhooks/" + target, {"unit": "x"}), 404,
                          "PATCH a target as a webhook", code="not_found")
        # an event of the route's own event name reaches the webhook, never the target
        ids = [self.post_event("candidate.hired")["id"] for _ in range(3)]
        self.rx.wait_ids(ids, 15, path="/hook")
        time.sleep(0.5)
        self.assertEqual(self.rx.count("/target"), 0, "events never reach a route's target")
        self.assertEqual({d["webhookId"] for d in self.deliveries()}, {hook["id"]})
        # still true after a restart (the registry is loaded from the store)
        self.g.restart()
        ids = [self.post_event("candidate.hired")["id"]]
        self.rx.wait_ids(ids, 15, path="/hook")
        time.sleep(0.5)
        self.assertEqual(self.rx.count("/target"), 0)
        self.assertEqual(self.assertStatus(self.api("GET", "/api/v1/routes/" + r["id"]), 200, "GET"), r)

    def cli(self, *args, input=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_")}
        env.update(GANCHO_URL=self.g.base, GANCHO_TOKEN=self.token)
        p = subprocess.run([H.gancho_bin()] + list(args), input=input, capture_output=True,
                           env=env, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_cli_route_add_list_test(self):
        for verb in (("route", "--help"), ("route", "add", "--help"), ("route", "list", "--help"),
                     ("route", "test", "--help")):
            code, out, _ = self.cli(*verb)
            self.assertEqual(code, 0, verb)
            self.assertIn("usage: gancho route", out)
        code, out, err = self.cli("route", "add", "--name", "fwd", "--event", "application.moved",
                                  "--filter", '{"body.data.application.currentStep.name": "Exame"}',
                                  "--forward", self.rx.url("/fwd"))
        self.assertEqual(code, 0, err)
        rid = [ln.split("=", 1)[1] for ln in out.splitlines() if ln.startswith("id=")][0]
        self.assertIn("action[0]=forward POST " + self.rx.url("/fwd"), out)
        with tempfile.TemporaryDirectory() as d:
            route_file = os.path.join(d, "route.json")
            with open(route_file, "w") as f:
                json.dump(exam_route(), f)
            code, out, err = self.cli("route", "add", "--file", route_file)
            self.assertEqual(code, 0, err)
            self.assertNotIn("exam-secret-key", out, "credentials are never printed")
            self.assertIn("auth=apiKey", out)
            code, out, err = self.cli("route", "list")
            self.assertEqual(code, 0, err)
            self.assertIn(rid, out)
            self.assertEqual(len(out.strip().splitlines()), 3, out)  # header and two routes
            body_file = os.path.join(d, "body.json")
            with open(body_file, "w") as f:
                f.write(gupy_moved("Exame"))
            code, out, err = self.cli("route", "test", "--file", route_file, "--body", body_file)
            self.assertEqual(code, 0, err + out)
            self.assertIn("matches: yes", out)
            self.assertIn("POST https://exam.example.com/api/applications?job=19139", out)
            self.assertIn('"applicationId":800123456789', out)
            code, out, err = self.cli("route", "test", "--id", rid, "--body", "-",
                                      input=gupy_moved("Triagem").encode())
            self.assertEqual(code, 1, "no match: exit 1")
            self.assertIn("matches: no", out)
            code, out, err = self.cli("route", "test", "--body", body_file)
            self.assertEqual(code, 2, "neither --id nor --file is a usage error")
        time.sleep(0.3)
        self.assertEqual(self.rx.count(), 0, "nothing was sent")


if __name__ == "__main__":
    unittest.main()
