"""Reconciliation (issue 13, point 4): lost Gupy webhooks recovered from Gupy's lists.

A fake Gupy API (tests/fakes/fake_gupy.py) holds jobs and applications; gancho has a gupy
connection to it, a source whose entity (key data.application.id) keeps the job and the
step, a route forwarding application.moved to a receiver, and a reconciliation of step
"Exame". Some applications' application.moved reached /in/{id} ("seen"), others were lost:
a run must make receipts for the lost ones only, routed like received ones, and a second
run (or a second node) must make none again. Failures of the API (401, 429, HTML, a 10 MB
answer) end or slow a run as documented, and nothing crashes. Both backends; the two-node
case needs PostgreSQL."""

import datetime
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import uuid

import harness as H

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_gupy import FakeGupy  # noqa: E402

TOKEN = "gupy-" + uuid.uuid4().hex


def envelope(job, app, step, when):
    """A Gupy application.moved webhook, as Gupy would have sent it."""
    a = dict(app, currentStep={"id": 1, "name": step})
    return {"companyName": "ACME", "id": str(uuid.uuid4()), "event": "application.moved",
            "date": when, "data": {"job": job, "application": a, "candidate": app.get("candidate")}}


class ReconcileCase(H.GanchoTestCase):
    """A fake Gupy, and the objects a reconciliation needs."""

    def setUp(self):
        super().setUp()
        self.fake = FakeGupy(token=TOKEN)
        self.fake.start()
        self.addCleanup(self.fake.stop)

    def setup_flow(self, g=None, token=TOKEN, page_size=5, steps=("Exame",), rps=50):
        g = g or self.g
        st, conn, raw = g.api("POST", "/api/v1/connections",
                              {"name": "Gupy", "kind": "gupy", "baseUrl": self.fake.url, "token": token},
                              token=self.token)
        self.assertEqual(st, 201, raw)
        st, src, raw = g.api("POST", "/api/v1/sources", {
            "name": "Gupy", "verification": {"kind": "none"},
            "entity": {"type": "application", "key": "data.application.id",
                       "keep": {"jobId": "data.job.id", "step": "data.application.currentStep.name"}}},
            token=self.token)
        self.assertEqual(st, 201, raw)
        st, route, raw = g.api("POST", "/api/v1/routes", {
            "name": "moves", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [{"kind": "forward", "url": self.rx.url("/exam")}]}, token=self.token)
        self.assertEqual(st, 201, raw)
        st, rec, raw = g.api("POST", "/api/v1/reconciliations", {
            "name": "lost moves", "connectionId": conn["id"], "sourceId": src["id"],
            "steps": list(steps), "everySeconds": 3600, "pageSize": page_size,
            "requestsPerSecond": rps}, token=self.token)
        self.assertEqual(st, 201, raw)
        self.conn, self.src, self.rec = conn, src, rec
        return rec

    def start_run(self, g=None):
        st, js, raw = (g or self.g).api("POST", "/api/v1/reconciliations/%s/run" % self.rec["id"],
                                        token=self.token)
        self.assertEqual(st, 202, raw)
        return js["id"]

    def runs(self, g=None):
        st, js, raw = (g or self.g).api("GET", "/api/v1/reconciliations/%s/runs" % self.rec["id"],
                                        token=self.token)
        self.assertEqual(st, 200, raw)
        return js["data"]

    def wait_run(self, run_id, g=None, timeout=60):
        found = {}

        def ended():
            for r in self.runs(g):
                if r["id"] == run_id and r["state"] not in ("queued", "running"):
                    found["run"] = r
                    return True
            return False
        H.wait_until(ended, timeout, 0.1, message="run %s did not end" % run_id)
        return found["run"]

    def run_once(self, g=None):
        return self.wait_run(self.start_run(g), g)

    def forwarded_ids(self):
        return [r.json()["data"]["application"]["id"] for r in self.rx.requests]

    def synthetic_receipts(self):
        st, js, raw = self.api("GET", "/api/v1/receipts?origin=reconciliation&limit=500")
        self.assertEqual(st, 200, raw)
        return js["data"]


class ReconcileTest(ReconcileCase):

    def seed(self, lost=8, seen=5, other=3):
        """A published job whose Exame applications span 3 pages of 5; `seen` of them had
        their move sent to /in; `other` applications are in another step; a closed job's
        applications are not looked at."""
        job = self.fake.add_job(name="Dev")
        closed = self.fake.add_job(name="Old", status="closed")
        exam = [self.fake.add_application(job["id"], step="Exame") for _ in range(lost + seen)]
        for _ in range(other):
            self.fake.add_application(job["id"], step="Triagem")
        self.fake.add_application(closed["id"], step="Exame")
        return job, exam[:seen], exam[seen:]

    def send_seen(self, job, apps):
        for app in apps:
            body = envelope(job, app, "Exame", "2026-01-01T10:00:00.000Z")
            st, _, raw = self.api("POST", "/in/" + self.src["id"], raw=json.dumps(body), token=None)
            self.assertEqual(st, 200, raw)
        self.rx.wait_for(len(apps), 15)

    def test_lost_applications_once_across_two_runs(self):
        self.setup_flow()
        job, seen, lost = self.seed()
        self.send_seen(job, seen)
        run = self.run_once()
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["errors"], [])
        self.assertEqual(run["applicationsSeen"], len(seen) + len(lost))
        self.assertEqual(run["receiptsMade"], len(lost))
        self.assertEqual(run["jobs"], 1)
        self.assertEqual(run["pages"], 1 + 3, "one page of jobs, three of Exame applications")
        self.rx.wait_for(len(seen) + len(lost), 15)
        got = self.forwarded_ids()[len(seen):]
        self.assertEqual(sorted(got), sorted(a["id"] for a in lost), "receipts for the lost ones only")
        # the synthetic receipts are Gupy-shaped and marked
        rec = self.synthetic_receipts()
        self.assertEqual(len(rec), len(lost))
        for r in rec:
            self.assertEqual(r["origin"], "reconciliation")
            self.assertEqual(r["event"], "application.moved")
            self.assertTrue(r["messageId"].startswith(self.rec["id"] + ":%d:" % job["id"]), r)
        st, one, raw = self.api("GET", "/api/v1/receipts/" + rec[0]["id"])
        self.assertEqual(st, 200, raw)
        self.assertEqual(one["headers"].get("x-gancho-origin"), "reconciliation")
        body = one["body"] if isinstance(one["body"], dict) else json.loads(one["body"])
        self.assertEqual(body["data"]["job"]["id"], job["id"])
        self.assertEqual(body["data"]["application"]["currentStep"]["name"], "Exame")
        received = [r for r in self.api("GET", "/api/v1/receipts?origin=received&limit=500")[1]["data"]]
        self.assertEqual(len(received), len(seen))
        self.assertTrue(all(r["origin"] is None for r in received))
        # a second run sees everything as seen: nothing more
        run2 = self.run_once()
        self.assertEqual(run2["state"], "done", run2)
        self.assertEqual(run2["receiptsMade"], 0)
        self.assertEqual(run2["applicationsSeen"], len(seen) + len(lost))
        time.sleep(1.0)
        self.assertEqual(self.rx.count(), len(seen) + len(lost), "nothing forwarded twice")
        self.assertEqual(self.fake.refused(), [], "gancho's requests are exactly Gupy's")
        # a real later move gives a new receipt on the next run
        self.fake.move(lost[0]["id"], "Entrevista")
        self.fake.move(seen[0]["id"], "Entrevista")
        body = envelope(job, seen[0], "Entrevista", "2026-01-02T10:00:00.000Z")
        self.assertEqual(self.api("POST", "/in/" + self.src["id"], raw=json.dumps(body), token=None)[0], 200)
        self.fake.move(seen[0]["id"], "Exame")  # back, and that webhook lost
        run3 = self.run_once()
        self.assertEqual(run3["receiptsMade"], 1, run3)
        self.rx.wait_for(len(seen) + len(lost) + 2, 15)
        self.assertEqual(self.forwarded_ids()[-1], seen[0]["id"])
        headers = self.fake.log(path_prefix="/api/v1/jobs")[0]["headers"]
        names = {k.lower(): v for k, v in headers}
        self.assertEqual(names.get("authorization"), "Bearer " + TOKEN)
        self.assertEqual(names.get("accept"), "application/json")

    def test_step_filter_not_honoured_gancho_checks_the_step(self):
        self.setup_flow(page_size=100)
        self.fake.set_step_filter(False)
        job = self.fake.add_job()
        exam = [self.fake.add_application(job["id"], step="Exame") for _ in range(4)]
        for _ in range(4):
            self.fake.add_application(job["id"], step="Triagem")
        run = self.run_once()
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["applicationsSeen"], 4)
        self.assertEqual(run["receiptsMade"], 4)
        self.rx.wait_for(4, 15)
        time.sleep(0.5)
        self.assertEqual(sorted(self.forwarded_ids()), sorted(a["id"] for a in exam))
        self.assertEqual(self.fake.refused(), [])

    def test_401_stops_the_run_with_a_record(self):
        self.setup_flow(token="wrong-" + uuid.uuid4().hex)
        job = self.fake.add_job()
        self.fake.add_application(job["id"], step="Exame")
        run = self.run_once()
        self.assertEqual(run["state"], "stopped", run)
        self.assertEqual(run["receiptsMade"], 0)
        self.assertTrue(any("401" in e and "credentials" in e for e in run["errors"]), run["errors"])
        st, ev, raw = self.api("GET", "/api/v1/operator-events")
        self.assertEqual(st, 200, raw)
        kinds = [e for e in ev["data"] if e["kind"] == "reconciliation.stopped"]
        self.assertEqual(len(kinds), 1, ev)
        self.assertIn(self.rec["id"], kinds[0]["message"])
        self.assertIn("401", kinds[0]["message"])
        self.assertEqual(len(self.fake.log()), 1, "no request after the 401")
        log = self.g.log_tail(400)
        self.assertIn("reconciliation_stopped", log)
        self.assertNotIn("wrong-", log, "the credential never reaches the log")
        self.assertEqual(self.rx.count(), 0)

    def test_429_with_retry_after_slows_the_run_and_it_completes(self):
        self.setup_flow(page_size=2)
        job = self.fake.add_job()
        apps = [self.fake.add_application(job["id"], step="Exame") for _ in range(5)]
        path = "/api/v1/jobs/%d/applications" % job["id"]
        self.fake.inject("429", path_prefix=path, count=2, retry_after=1)
        run = self.run_once()
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["receiptsMade"], 5)
        self.rx.wait_for(5, 15)
        self.assertEqual(sorted(self.forwarded_ids()), sorted(a["id"] for a in apps))
        log = self.fake.log(path_prefix=path)
        self.assertEqual([e["status"] for e in log[:3]], [429, 429, 200], log)
        for a, b in zip(log, log[1:3]):
            gap = self.when(b) - self.when(a)
            self.assertGreaterEqual(gap, 0.9, "Retry-After: 1 was not honoured (%.3f s)" % gap)
        self.assertEqual(self.fake.refused(), [])

    @staticmethod
    def when(entry):
        at = entry["at"]
        if isinstance(at, (int, float)):
            return float(at)
        return datetime.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()

    def test_html_and_huge_answers_fail_the_run_clearly(self):
        self.setup_flow()
        job = self.fake.add_job()
        self.fake.add_application(job["id"], step="Exame")
        self.fake.inject("html", path_prefix="/api/v1/jobs", status=200)
        run = self.run_once()
        self.assertEqual(run["state"], "failed", run)
        self.assertTrue(any("HTML" in e for e in run["errors"]), run["errors"])
        st, ev, _ = self.api("GET", "/api/v1/operator-events")
        self.assertTrue(any(e["kind"] == "reconciliation.failed" for e in ev["data"]), ev)
        self.fake.inject("huge", path_prefix="/api/v1/jobs/%d/applications" % job["id"])
        run = self.run_once()
        self.assertEqual(run["state"], "failed", run)
        self.assertTrue(any("larger than 8388608 bytes" in e for e in run["errors"]), run["errors"])
        self.assertEqual(self.api("GET", "/healthz", token=None)[0], 200)
        # an HTML error page that keeps coming: retried, then failed
        self.fake.inject("html", path_prefix="/api/v1/jobs", count=10)
        run = self.run_once()
        self.assertEqual(run["state"], "failed", run)
        self.assertTrue(any("HTTP 502" in e for e in run["errors"]), run["errors"])
        self.assertEqual(self.rx.count(), 0)
        # and the API comes back: the next run does the work
        self.fake.clear_failures()
        run = self.run_once()
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["receiptsMade"], 1)

    def test_5xx_is_retried_then_fails_the_run(self):
        self.setup_flow()
        job = self.fake.add_job()
        self.fake.add_application(job["id"], step="Exame")
        self.fake.inject("500", path_prefix="/api/v1/jobs", count=2)
        run = self.run_once()
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["receiptsMade"], 1)
        self.assertEqual([e["status"] for e in self.fake.log()[:3]], [500, 500, 200])
        self.fake.clear_log()
        self.fake.inject("500", path_prefix="/api/v1/jobs", count=10)
        run = self.run_once()
        self.assertEqual(run["state"], "failed", run)
        self.assertTrue(any("HTTP 500, 4 times" in e for e in run["errors"]), run["errors"])
        self.assertEqual(len(self.fake.log()), 4, "three retries, then the run fails")

    def test_bad_input_is_refused(self):
        rec = self.setup_flow()
        base = {"connectionId": self.conn["id"], "sourceId": self.src["id"], "steps": ["Exame"],
                "everySeconds": 3600}
        # a source whose entity does not keep the step
        st, src2, raw = self.api("POST", "/api/v1/sources", {
            "name": "x", "verification": {"kind": "none"},
            "entity": {"type": "application", "key": "data.application.id", "keep": {"jobId": "data.job.id"}}})
        self.assertEqual(st, 201, raw)
        st, js, raw = self.api("POST", "/api/v1/reconciliations", dict(base, sourceId=src2["id"]))
        self.assertEqual(st, 422, raw)
        self.assertIn("data.application.currentStep.name", js["error"]["message"])
        # a source without entity
        st, src3, raw = self.api("POST", "/api/v1/sources", {"name": "y", "verification": {"kind": "none"}})
        st, js, raw = self.api("POST", "/api/v1/reconciliations", dict(base, sourceId=src3["id"]))
        self.assertEqual(st, 422, raw)
        # another company's connection and source are not found
        _, other = self.g.create_company("OTHER-" + uuid.uuid4().hex[:8])
        st, js, raw = self.g.api("POST", "/api/v1/reconciliations", base, token=other)
        self.assertEqual(st, 422, raw)
        self.assertIn("connectionId", js["error"]["message"])
        # a hellowork connection
        st, hw, raw = self.api("POST", "/api/v1/connections", {
            "name": "HW", "kind": "hellowork", "baseUrl": self.fake.url, "authorization": "Basic abcdefghijkl"})
        self.assertEqual(st, 201, raw)
        st, js, raw = self.api("POST", "/api/v1/reconciliations", dict(base, connectionId=hw["id"]))
        self.assertEqual(st, 422, raw)
        self.assertIn("gupy", js["error"]["message"])
        for bad, field in (({"everySeconds": 59}, "everySeconds"), ({"steps": []}, "steps"),
                           ({"pageSize": 101}, "pageSize"), ({"requestsPerSecond": 0}, "requestsPerSecond"),
                           ({"colour": "red"}, "colour")):
            st, js, raw = self.api("POST", "/api/v1/reconciliations", dict(base, **bad))
            self.assertEqual(st, 400, raw)
            self.assertIn(field, js["error"]["message"])
        # get, patch, list, delete
        st, js, raw = self.api("GET", "/api/v1/reconciliations/" + rec["id"])
        self.assertEqual(st, 200, raw)
        self.assertEqual(js["steps"], ["Exame"])
        st, js, raw = self.api("PATCH", "/api/v1/reconciliations/" + rec["id"], {"steps": ["Exame", "Teste"]})
        self.assertEqual(st, 200, raw)
        self.assertEqual(js["steps"], ["Exame", "Teste"])
        st, js, raw = self.api("GET", "/api/v1/reconciliations")
        self.assertEqual([r["id"] for r in js["data"]], [rec["id"]])
        st, js, raw = self.g.api("GET", "/api/v1/reconciliations/" + rec["id"], token=other)
        self.assertEqual(st, 404, raw)
        self.assertEqual(self.api("DELETE", "/api/v1/reconciliations/" + rec["id"])[0], 204)
        self.assertEqual(self.api("GET", "/api/v1/reconciliations/" + rec["id"])[0], 404)
        self.assertEqual(self.api("POST", "/api/v1/reconciliations/%s/run" % rec["id"])[0], 404)

    def test_a_connection_a_reconciliation_uses_is_not_deleted(self):
        rec = self.setup_flow()
        path = "/api/v1/connections/" + self.conn["id"]
        got = self.api("DELETE", path)
        self.assertStatus(got, 409, "delete a used connection", code="conflict")
        self.assertIn("reconciliation " + rec["id"], got[1]["error"]["message"])
        # a reconciliation reads its connection when it runs: a new base URL is no conflict
        self.assertStatus(self.api("PATCH", path, {"baseUrl": self.fake.url + "/"}), 200,
                          "a new base URL")
        self.assertEqual(self.run_once()["state"], "done")
        self.assertIn(self.api("DELETE", "/api/v1/reconciliations/" + rec["id"])[0], (200, 204))
        self.assertIn(self.api("DELETE", path)[0], (200, 204))

    def test_a_sender_cannot_pose_as_a_reconciliation(self):
        self.setup_flow()
        job = self.fake.add_job()
        app = self.fake.add_application(job["id"], step="Exame")
        body = envelope(job, app, "Exame", "2026-01-01T10:00:00.000Z")
        st, js, raw = self.api("POST", "/in/" + self.src["id"], raw=json.dumps(body), token=None,
                               headers={"X-Gancho-Origin": "reconciliation"})
        self.assertEqual(st, 200, raw)
        st, one, raw = self.api("GET", "/api/v1/receipts/" + js["id"])
        self.assertIsNone(one["origin"])
        self.assertNotIn("x-gancho-origin", one["headers"])
        self.assertEqual(self.synthetic_receipts(), [])


    def test_stop_during_a_run_then_it_runs_again(self):
        """SIGTERM while a run waits out a long Retry-After: gancho exits at once, the run is
        "stopped", and after the restart it is due at once and completes."""
        self.g = self.new_gancho()
        self.company_id, self.token = self.g.create_company("ACME-" + uuid.uuid4().hex[:8])
        self.setup_flow()
        job = self.fake.add_job()
        apps = [self.fake.add_application(job["id"], step="Exame") for _ in range(2)]
        self.fake.inject("429", path_prefix="/api/v1/jobs/%d/applications" % job["id"], retry_after=50)
        run_id = self.start_run()
        self.fake.wait_log(2, timeout=20)  # the jobs page, then the 429
        started = time.monotonic()
        self.assertEqual(self.g.terminate(timeout=20), 0)
        self.assertLess(time.monotonic() - started, 15, "the stop waited out the Retry-After")
        self.g.start()
        run = self.wait_run(run_id)
        self.assertEqual(run["state"], "stopped", run)
        self.assertTrue(any("node stopped" in e for e in run["errors"]), run)
        # due again at once: the restarted node runs it without being asked
        def done_run():
            return [r for r in self.runs() if r["state"] == "done"]
        H.wait_until(done_run, 30, 0.2, message="no run after the restart")
        self.assertEqual(done_run()[0]["receiptsMade"], len(apps))
        self.rx.wait_for(len(apps), 15)

    def test_delete_during_a_run_stops_it(self):
        self.setup_flow()
        job = self.fake.add_job()
        self.fake.add_application(job["id"], step="Exame")
        self.fake.inject("429", path_prefix="/api/v1/jobs/%d/applications" % job["id"], retry_after=3)
        run_id = self.start_run()
        self.fake.wait_log(2, timeout=20)
        time.sleep(1.0)  # inside the Retry-After wait: the page comes after the delete
        self.assertEqual(self.api("DELETE", "/api/v1/reconciliations/" + self.rec["id"])[0], 204)
        # the runs stay readable through the store only: look at the operator record
        def stopped():
            st, ev, _ = self.api("GET", "/api/v1/operator-events")
            return [e for e in ev["data"] if e["kind"] == "reconciliation.stopped" and run_id in e["message"]]
        H.wait_until(stopped, 20, 0.2, message="the run did not stop")
        self.assertIn("deleted", stopped()[0]["message"])
        time.sleep(1.0)
        self.assertEqual(self.rx.count(), 0, "no receipt after the delete")

    def test_cli(self):
        self.setup_flow()
        job = self.fake.add_job()
        apps = [self.fake.add_application(job["id"], step="Exame") for _ in range(3)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_") or k == "GANCHO_BIN"}
        env.update(GANCHO_URL=self.g.base, GANCHO_TOKEN=self.token)

        def cli(*args):
            p = subprocess.run([H.gancho_bin()] + list(args), capture_output=True, text=True, env=env,
                               timeout=120)
            self.assertEqual(p.returncode, 0, "gancho %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
            return p.stdout

        out = cli("reconciliation", "create", "--connection", self.conn["id"], "--source", self.src["id"],
                  "--step", "Exame", "--step", "Teste", "--every", "600", "--rate", "20", "--json")
        rec = json.loads(out)
        self.assertEqual(rec["steps"], ["Exame", "Teste"])
        self.assertEqual(rec["requestsPerSecond"], 20)
        self.assertIn(rec["id"], cli("reconciliation", "list"))
        run = json.loads(cli("reconciliation", "run", rec["id"], "--json"))
        runs = json.loads(cli("reconciliation", "runs", rec["id"], "--wait", run["id"], "--json"))
        mine = [r for r in runs["data"] if r["id"] == run["id"]]
        self.assertEqual(mine[0]["state"], "done", runs)
        self.assertEqual(mine[0]["receiptsMade"], len(apps))
        table = cli("reconciliation", "runs", rec["id"])
        self.assertIn("done", table)
        cli("reconciliation", "patch", rec["id"], "--every", "900")
        self.assertIn("900", cli("reconciliation", "get", rec["id"]))
        cli("reconciliation", "delete", rec["id"])
        p = subprocess.run([H.gancho_bin(), "reconciliation", "get", rec["id"]], capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertNotEqual(p.returncode, 0)


@unittest.skipUnless(H.backend() == "postgres", "two nodes need GANCHO_TEST_BACKEND=postgres")
class ReconcileClusterTest(ReconcileCase):
    gancho = None  # the test makes its nodes

    def setUp(self):
        super().setUp()
        import pg
        db = pg.new_database()
        self.nodes = [self.new_gancho(db=db) for _ in range(2)]
        self.g = self.nodes[0]
        self.company_id, self.token = self.g.create_company("ACME-" + uuid.uuid4().hex[:8])

    def test_two_nodes_asked_at_once_make_one_run(self):
        self.setup_flow(page_size=5)
        job = self.fake.add_job()
        apps = [self.fake.add_application(job["id"], step="Exame") for _ in range(12)]
        # the source and routes are announced to the second node
        H.wait_until(lambda: self.nodes[1].api("GET", "/api/v1/sources/" + self.src["id"],
                                               token=self.token)[0] == 200, 10)
        answers = [None, None]

        def ask(i):
            answers[i] = self.nodes[i].api("POST", "/api/v1/reconciliations/%s/run" % self.rec["id"],
                                           token=self.token)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual([a[0] for a in answers], [202, 202], answers)
        ids = {a[1]["id"] for a in answers}
        runs = [self.wait_run(i) for i in ids]
        made = sum(r["receiptsMade"] for r in runs)
        self.assertEqual(made, len(apps), runs)
        self.assertEqual(len(self.runs()), len(ids))
        self.assertEqual(len(ids), 1, "two requests at once are one run: %r" % answers)
        self.rx.wait_for(len(apps), 20)
        # another run on the other node: nothing new
        run = self.run_once(g=self.nodes[1])
        self.assertEqual(run["state"], "done", run)
        self.assertEqual(run["receiptsMade"], 0)
        time.sleep(1.0)
        got = self.forwarded_ids()
        self.assertEqual(sorted(got), sorted(a["id"] for a in apps), "each lost application exactly once")

    def test_store_on_postgres(self):
        """tests/unit/test_store_recon.c against PostgreSQL."""
        import pg
        prog = os.path.join(os.path.dirname(H.gancho_bin()), "tests", "test_store_recon")
        env = dict(os.environ, GANCHO_TEST_STORE_URL=pg.new_database())
        out = subprocess.run([prog], capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("PASSED", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
