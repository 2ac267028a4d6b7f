"""The README's worked example, step by step: Gupy-shaped application.moved events received
once, in order, filtered by step ("Exame") and sent to an exam platform (a receiver here) with
jobId and applicationId as numbers; the CLI's verify on the captured request."""

import json
import time
import unittest

import harness as H

KEY = "the-value-you-set-in-gupy"


def moved(eid, date, step, app=2937132, job=19139):
    return {"companyName": "ACME", "id": eid, "event": "application.moved", "date": date,
            "data": {"job": {"id": job}, "application": {"id": app,
                                                          "currentStep": {"id": 86547,
                                                                          "name": step}}}}


class WorkedExampleTest(H.GanchoTestCase):

    def test_gupy_to_exam_platform(self):
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "Gupy",
            "verification": {"kind": "apiKey", "key": KEY},
            "entity": {"type": "application", "key": "data.application.id",
                       "keep": {"jobId": "data.job.id",
                                "step": "data.application.currentStep.name"}}}), 201, "source")
        self.assertEqual(src["url"], "/in/" + src["id"])
        route = self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "exam", "sourceId": src["id"], "events": ["application.moved"],
            "filter": {"entity.step": "Exame"},
            "actions": [{"kind": "http", "method": "POST", "url": self.rx.url("/candidates"),
                         "body": {"jobId": "{{entity.jobId}}",
                                  "applicationId": "{{body.data.application.id}}"}}]}),
            201, "route")

        def send(body, key=KEY):
            return self.g.api("POST", "/in/" + src["id"], raw=json.dumps(body),
                              headers={"Authorization": key})

        # a move into "Exame": one request to the exam platform, numbers kept
        st, js, raw = send(moved("7d3f-1", "2019-06-19T23:48:46.952Z", "Exame"))
        self.assertEqual(st, 200, raw)
        rid = js["id"]
        got = self.rx.wait_for(1, path="/candidates")
        self.assertEqual(got[0].json(), {"jobId": 19139, "applicationId": 2937132})
        # the same request again: the same receipt, nothing sent again
        st, js, raw = send(moved("7d3f-1", "2019-06-19T23:48:46.952Z", "Exame"))
        self.assertEqual((st, js), (200, {"id": rid, "duplicate": True}))
        # a wrong key: refused, listed as a rejection without the key
        st, _, _ = send(moved("7d3f-2", "2019-06-19T23:50:00.000Z", "Exame"), key="nope")
        self.assertEqual(st, 401)
        # (recorded by the next commit, a few milliseconds later)
        def rejections():
            return self.assertStatus(self.api("GET", "/api/v1/sources/%s/rejections" % src["id"]),
                                     200, "rejections")["data"]
        H.wait_until(lambda: len(rejections()) == 1, 10, message="the rejection is listed")
        rj = rejections()
        self.assertNotIn(KEY, json.dumps(rj))
        # a later move into another step: nothing; an older move into "Exame": stale, nothing
        self.assertEqual(send(moved("7d3f-3", "2019-06-20T10:00:00.000Z", "Entrevista"))[0], 200)
        self.assertEqual(send(moved("7d3f-4", "2019-06-18T10:00:00.000Z", "Exame"))[0], 200)
        # another application moved into "Exame" later: sent, in order
        self.assertEqual(send(moved("9a1b-1", "2019-06-21T09:00:00.000Z", "Exame", app=555,
                                    job=19140))[0], 200)
        got = self.rx.wait_for(2, path="/candidates")
        time.sleep(0.5)
        self.assertEqual([r.json() for r in self.rx.requests],
                         [{"jobId": 19139, "applicationId": 2937132},
                          {"jobId": 19140, "applicationId": 555}])
        ds = self.assertStatus(self.api("GET", "/api/v1/deliveries"), 200, "deliveries")["data"]
        self.assertEqual(len(ds), 2)
        self.assertTrue(all(d["status"] == "delivered" and d["receiptId"] for d in ds))
        self.assertEqual({d["routeId"] for d in ds}, {route["id"]}, "the route that made them")
        self.assertEqual({d["eventId"] for d in ds}, {None})


if __name__ == "__main__":
    unittest.main()
