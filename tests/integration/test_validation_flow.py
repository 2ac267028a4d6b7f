"""Gupy's validation flow end to end, set up by `gancho flow validation` through the real
binary: Gupy-shaped application.moved events (other steps, duplicated, out of order) go to a
source; exactly the candidates moved into the exam step are forwarded to the exam platform (a
receiver here); the platform posts its results to the second source; the fake Gupy API ends
with exactly one Apto or Inapto tag per candidate, the report as a comment, and a reproval only
below the cutoff. Also: --print makes nothing, and a setup that fails part-way leaves nothing."""

import json
import subprocess
import unittest

import harness as H

FakeGupy, _ = H.fakes()
from fake_exam import FakeExam  # noqa: E402  (tests/fakes is on the path now)

GUPY_TOKEN = "gupy-api-token-0123456789"
GUPY_KEY = "the-value-set-in-gupy"
RESULT_SECRET = "exam-platform-secret"
JOB = 123456


def moved(eid, date, app, step, job=JOB):
    return {"companyName": "ACME", "id": eid, "event": "application.moved", "date": date,
            "data": {"job": {"id": job, "name": "Analista"},
                     "application": {"id": app, "currentStep": {"id": 86547, "name": step}},
                     "candidate": {"name": "Pessoa %d" % app}}}


def result(rid, app, score, report, date="2026-11-30T12:00:00.000Z"):
    return {"id": rid, "event": "exam.result", "date": date, "applicationId": app,
            "score": score, "report": report}


class ValidationFlowTest(H.GanchoTestCase):

    def setUp(self):
        super().setUp()
        self.gupy = FakeGupy(token=GUPY_TOKEN).start()
        self.addCleanup(self.gupy.stop)
        self.gupy.add_job(id=JOB, name="Analista")
        # 11 in the exam step, 12 too, 13 moved elsewhere, 14 moved to the exam then on (its
        # moves arrive out of order), 15 in the exam step at the cutoff exactly
        for app in (11, 12, 13, 14, 15):
            self.gupy.add_application(JOB, id=app, step="Triagem")
        self.exam = FakeExam(secret=RESULT_SECRET).start()
        self.addCleanup(self.exam.stop)

    def cli(self, *args):
        env = {"GANCHO_URL": self.g.base, "GANCHO_TOKEN": self.token, "PATH": "/usr/bin:/bin"}
        return subprocess.run([H.gancho_bin(), "flow", "validation"] + list(args), env=env,
                              capture_output=True, text=True, timeout=60)

    def flow_args(self, exam_url=None):
        return ["--name", "Validação", "--step", "Exame",
                "--exam-url", exam_url or self.exam.url + "/candidates", "--cutoff", "7",
                "--gupy-token", GUPY_TOKEN, "--gupy-base-url", self.gupy.url,
                "--gupy-key", GUPY_KEY,
                "--result-preset", "acesso", "--result-secret", RESULT_SECRET]

    def listed(self, what):
        return self.assertStatus(self.api("GET", "/api/v1/" + what), 200, what)["data"]

    def test_candidates_to_exam_and_results_back_to_gupy(self):
        p = self.cli(*self.flow_args(), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        made = json.loads(p.stdout)
        self.assertEqual([m["kind"] for m in made],
                         ["connection", "Gupy source", "route to the exam platform",
                          "results source", "pass route", "fail route", "report route"])
        self.assertNotIn(GUPY_TOKEN, p.stdout)
        self.assertNotIn(RESULT_SECRET, p.stdout)
        gupy_src, res_src = made[1]["object"], made[3]["object"]

        def to_gupy(body, key="Bearer " + GUPY_KEY):
            raw = json.dumps(body)
            return self.g.api("POST", gupy_src["url"], raw=raw, headers={"Authorization": key})

        def to_results(body):
            raw = json.dumps(body).encode()
            return self.g.api("POST", res_src["url"], raw=raw,
                              headers={"Acesso-Signature": H.acesso_signature(RESULT_SECRET, raw)})

        sent = [
            moved("m-11", "2026-11-30T10:00:00.000Z", 11, "Exame"),
            moved("m-12", "2026-11-30T10:01:00.000Z", 12, "Exame"),
            moved("m-11", "2026-11-30T10:00:00.000Z", 11, "Exame"),       # Gupy sends it again
            moved("m-13", "2026-11-30T10:02:00.000Z", 13, "Entrevista"),  # another step
            moved("m-14b", "2026-11-30T10:05:00.000Z", 14, "Entrevista"), # its later move first
            moved("m-14a", "2026-11-30T10:03:00.000Z", 14, "Exame"),      # then the older one
            moved("m-15", "2026-11-30T10:04:00.000Z", 15, "Exame"),
        ]
        for body in sent:
            st, js, raw = to_gupy(body)
            self.assertEqual(st, 200, raw)
        self.assertEqual(to_gupy(moved("m-x", "2026-11-30T10:06:00.000Z", 11, "Exame"),
                                 key="Bearer wrong")[0], 401)

        # exactly 11, 12 and 15, each once, as Gupy sent them
        self.exam.wait_log(3, method="POST")
        H.wait_until(lambda: len(self.listed("receipts?limit=100")) >= 6, 10,
                     message="every receipt committed")
        got = self.exam.candidates()
        self.assertEqual(sorted(c["body"]["data"]["application"]["id"] for c in got), [11, 12, 15])
        self.assertIn(sent[1], [c["body"] for c in got])
        self.assertEqual(self.exam.refused(), [])

        # the exam platform's results (signed by the fake platform); one of them sent twice
        self.exam.results_url = self.g.base + res_src["url"]
        for app, score, report in ((11, 9.5, "Nota 9,5: aprovado nos testes técnicos"),
                                   (15, 7, "Nota 7: no corte")):
            st, answer, _ = self.exam.post_result(app, score, report)
            self.assertEqual(st, 200, answer)
        again = result("r-12", 12, 3, "Nota 3: abaixo do corte")
        for _ in range(2):  # the same result twice (the same id): one effect
            st, js, raw = to_results(again)
            self.assertEqual(st, 200, raw)

        def settled():
            return (self.gupy.tags(11) == ["Apto"] and self.gupy.tags(12) == ["Inapto"]
                    and self.gupy.tags(15) == ["Apto"] and all(
                        len(self.gupy.comments(a)) == 1 for a in (11, 12, 15))
                    and self.gupy.application(12).get("status") == "reproved")
        H.wait_until(settled, 20, message="tags, comments and the reproval in the fake Gupy")
        self.assertEqual(self.gupy.comments(11), ["Nota 9,5: aprovado nos testes técnicos"])
        self.assertEqual(self.gupy.comments(12), ["Nota 3: abaixo do corte"])
        self.assertEqual(self.gupy.application(12).get("disapprovalReason"),
                         "test_result_below_cutoff")
        for app in (11, 15):
            self.assertNotEqual(self.gupy.application(app).get("status"), "reproved")
        for app in (13, 14):
            self.assertEqual(self.gupy.tags(app), [])
            self.assertEqual(self.gupy.comments(app), [])
        self.assertEqual(self.gupy.refused(), [], "every request gancho made was valid")
        # one tag request per candidate, one reproval: nothing sent twice
        self.assertEqual(len(self.gupy.log(method="PUT")), 3)
        self.assertEqual(len(self.gupy.log(method="PATCH")), 1)
        for r in self.gupy.log():
            auth = [v for k, v in r["headers"] if k.lower() == "authorization"]
            self.assertEqual(auth, ["Bearer " + GUPY_TOKEN])

    def test_what_a_person_reads(self):
        p = self.cli(*self.flow_args())
        self.assertEqual(p.returncode, 0, p.stderr)
        sources = {s["name"]: s for s in self.listed("sources")}
        self.assertIn(self.g.base + sources["Validação: Gupy"]["url"], p.stdout)
        self.assertIn(self.g.base + sources["Validação: exam results"]["url"], p.stdout)
        self.assertIn('"clientHeaders": {"Authorization": "Bearer <your --gupy-key>"}', p.stdout)
        for secret in (GUPY_TOKEN, GUPY_KEY, RESULT_SECRET):
            self.assertNotIn(secret, p.stdout + p.stderr)

    def test_print_makes_nothing(self):
        p = self.cli(*self.flow_args(), "--print")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count("POST /api/v1/"), 7)
        for secret in (GUPY_TOKEN, GUPY_KEY, RESULT_SECRET):
            self.assertNotIn(secret, p.stdout)
        self.assertEqual(self.listed("sources"), [])
        self.assertEqual(self.listed("routes"), [])
        self.assertEqual(self.listed("connections"), [])

    def test_a_failed_setup_leaves_nothing(self):
        # the exam URL is refused by the first route, after a connection and a source exist
        p = self.cli(*self.flow_args(exam_url="ftp://exam.example.com/in"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("removed the", p.stderr)
        self.assertEqual(self.listed("sources"), [])
        self.assertEqual(self.listed("routes"), [])
        self.assertEqual(self.listed("connections"), [])

    def test_usage_errors(self):
        p = self.cli("--name", "x")
        self.assertEqual(p.returncode, 2)
        self.assertIn("required", p.stderr)
        p = self.cli(*self.flow_args(), "--cutoff", "NaN")
        self.assertEqual(p.returncode, 2)
        p = self.cli(*self.flow_args(), "--gupy-no-verification")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(self.listed("sources"), [])


if __name__ == "__main__":
    unittest.main()
