#!/usr/bin/env python3
"""A fake exam platform, the third party of Gupy's validation flow, for a person walking
through the README and for tests.

It receives the candidates gancho forwards (POST, any path, a JSON body; anything else is
refused and logged) and keeps them. Told to, it posts a result back the way `gancho flow
validation` expects by default: {"id", "event": "exam.result", "date", "applicationId",
"score", "report"}, signed with Acesso-Signature (base64 HMAC-SHA256 of the body) when it was
given a secret, to the results URL it was given.
Control (no auth): GET /_fake/candidates; POST /_fake/results {"applicationId", "score",
"report"?} → {"status": <gancho's answer status>, "answer": <its body>, "sent": <the result>};
and fakebase's log/failures/reset/state.
Run: python3 tests/fakes/fake_exam.py --port 8083 --results-url URL [--secret S]
"""

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakebase import Answer, FakeServer, Refuse, now_iso, serve_forever  # noqa: E402


class FakeExam(FakeServer):
    """results_url: where results go (gancho's /in/{id} of the results source); secret: the
    Acesso-Signature secret (None: unsigned)."""

    name = "fake-exam"

    def __init__(self, results_url=None, secret=None, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.results_url, self.secret = results_url, secret
        self.reset_state()
        self.route("POST", r"/.*", self._candidate)
        self.control("GET", r"/_fake/candidates", lambda req: self.candidates())
        self.control("POST", r"/_fake/results", lambda req: self._result_json(req.control_json()))

    def reset_state(self):
        with self.lock:
            self._candidates = []

    def candidates(self):
        """The candidates received, oldest first: [{path, body, receivedAt}]."""
        with self.lock:
            return copy.deepcopy(self._candidates)

    def state(self):
        return {"resultsUrl": self.results_url, "candidates": self.candidates()}

    def _candidate(self, req):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise Refuse(415, "Content-Type must be application/json, got %r" % ctype)
        body = req.json_object()

        def apply():
            self._candidates.append({"path": req.path, "body": body, "receivedAt": now_iso()})
            return Answer(200, {"received": True})
        return apply

    def post_result(self, application_id, score, report=None):
        """Post one result to results_url; returns (status, answer body, the result sent)."""
        if not self.results_url:
            raise ValueError("no results URL: start the fake with one")
        result = {"id": str(uuid.uuid4()), "event": "exam.result", "date": now_iso(),
                  "applicationId": application_id, "score": score}
        if report is not None:
            result["report"] = report
        raw = json.dumps(result).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            mac = hmac.new(self.secret.encode(), raw, hashlib.sha256).digest()
            headers["Acesso-Signature"] = base64.b64encode(mac).decode()
        rq = urllib.request.Request(self.results_url, data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(rq, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace"), result
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace"), result

    def _result_json(self, d):
        if not isinstance(d, dict) or "applicationId" not in d or "score" not in d:
            raise Refuse(400, "want {\"applicationId\", \"score\", \"report\"?}")
        status, answer, sent = self.post_result(d["applicationId"], d["score"], d.get("report"))
        return {"status": status, "answer": answer, "sent": sent}


def main():
    p = argparse.ArgumentParser(description="A fake exam platform on 127.0.0.1 (see tests/fakes/README.md).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    p.add_argument("--results-url", help="where results go: gancho's /in/<results source id>")
    p.add_argument("--secret", help="the Acesso-Signature secret of the results source")
    a = p.parse_args()
    serve_forever(FakeExam(results_url=a.results_url, secret=a.secret, host=a.host, port=a.port),
                  "fake exam platform")


if __name__ == "__main__":
    main()
