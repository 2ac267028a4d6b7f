#!/usr/bin/env python3
"""A fake Gupy API for gancho's tests and for a person trying the Gupy flows locally.

It implements, strictly, the requests of Gupy's validation-flow document (tags, comments,
reproval) and the two lists its "Parâmetros obrigatórios" use (jobs, a job's applications
filtered by current step), and keeps their state: jobs, applications with their current
step, status, tags and comments. A wrong method, path, header or body is refused with the
status a real API gives (401, 400, 404, 405, 406, 415) and logged with the reason
(fakebase.py: request log, failure injection, control endpoints).

API (every request: Authorization: Bearer <token>; writes also need accept:
application/json and content-type: application/json, as the document's curl examples):
  GET   /api/v1/jobs?status=&page=&perPage=
  GET   /api/v1/jobs/{jobId}/applications?currentStepName=&page=&perPage=
        lists answer {results, totalResults, page, totalPages}; page from 1, perPage 1..100 (10)
  PUT   /api/v1/jobs/{jobId}/applications/{applicationId}/tags      {"name": "Apto"}
        -> {id, candidateId, applicationId, jobId, name}; the same name twice is one tag
  POST  /api/v1/jobs/{jobId}/applications/{applicationId}/comments  {"text": "..."}
        -> {id, userId, hidden, text, createdAt, updatedAt}
  PATCH /api/v1/jobs/{jobId}/applications/{applicationId}
        {"status": "reproved", "disapprovalReason": "..."} -> the application
Control (no auth): POST /_fake/jobs, POST /_fake/applications (an object or a list),
POST /_fake/bulk {jobId, count, step, firstId?}, POST /_fake/applications/{id}/move
{name, id?}, GET /_fake/applications/{id}, POST /_fake/options {honourStepFilter}, and
fakebase's log/failures/reset/state. Run: python3 tests/fakes/fake_gupy.py --port 8081 --token T
"""

import argparse
import copy
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakebase import (Answer, FakeServer, Refuse, bounded_int, check_fields, json_list,  # noqa: E402
                      nonempty_string, now_iso, require_accept_json, serve_forever)

ID = r"([^/]+)"
APP_FIELDS = ("id", "jobId", "candidate", "currentStep", "status", "tags")


def path_id(text, what):
    """Gupy's ids in paths are positive integers."""
    if not re.fullmatch(r"[1-9][0-9]{0,17}", text):
        raise Refuse(400, "%s must be a positive integer, got %r" % (what, text))
    return int(text)


def positive_int(v, what):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError("%s must be a positive integer, got %r" % (what, v))
    return v


def page_of(items, q, show=lambda x: x):
    """The page q asks for of items, each shown by show() (only the page's items are copied)."""
    page = bounded_int(q.get("page", "1"), "page", 1, 10 ** 6)
    per = bounded_int(q.get("perPage", "10"), "perPage", 1, 100)
    total = len(items)
    return {"results": [show(x) for x in items[(page - 1) * per:page * per]], "totalResults": total, "page": page,
            "totalPages": (total + per - 1) // per}


class FakeGupy(FakeServer):
    """The fake Gupy API. token: the Bearer token it accepts; user_id: the userId of comments."""

    name = "fake-gupy"

    def __init__(self, token="test-token", host="127.0.0.1", port=0, user_id=22011):
        super().__init__(host, port)
        self.token, self.user_id = token, user_id
        self.reset_state()
        base = r"/api/v1/jobs/" + ID + r"/applications"
        self.route("GET", r"/api/v1/jobs", self._list_jobs)
        self.route("GET", base, self._list_applications)
        self.route("PATCH", base + "/" + ID, self._reprove)
        self.route("PUT", base + "/" + ID + "/tags", self._tag)
        self.route("POST", base + "/" + ID + "/comments", self._comment)
        self.control("POST", r"/_fake/jobs", lambda req: [self._job_from_json(d) for d in
                                                          json_list(req.control_json(), "jobs")])
        self.control("POST", r"/_fake/applications", lambda req: [self._public(self._app_from_json(d)) for d in
                                                                  json_list(req.control_json(), "applications")])
        self.control("POST", r"/_fake/bulk", self._c_bulk)
        self.control("POST", r"/_fake/applications/" + ID + "/move", self._c_move)
        self.control("GET", r"/_fake/applications/" + ID, lambda req, a: self.application(_int(a)))
        self.control("POST", r"/_fake/options", self._c_options)

    def reset_state(self):
        with self.lock:
            self.jobs = {}              # id -> job
            self.apps = {}              # id -> application (tags/comments as objects)
            self.by_job = {}            # jobId -> [application ids]
            self.honour_step_filter = True
            self._next = {"job": 100001, "app": 500001, "tag": 34486644, "comment": 12307223, "cand": 33172137,
                          "step": 86547}
            self._step_ids = {}

    def _new_id(self, kind, wanted=None):
        n = wanted if wanted is not None else self._next[kind]
        self._next[kind] = max(self._next[kind], n + 1)
        return n

    # -- seeding and reading (Python API; the control endpoints call these)
    def add_job(self, id=None, name=None, status="published", **extra):
        """Add a job {id, name, status, ...extra}; returns a copy."""
        with self.lock:
            if id is not None and positive_int(id, "job id") in self.jobs:
                raise ValueError("job %d exists" % id)
            jid = self._new_id("job", id)
            if not isinstance(status, str) or not status:
                raise ValueError("job status must be a non-empty string")
            job = dict(extra, id=jid, name=name or "Job %d" % jid, status=status)
            self.jobs[jid] = job
            self.by_job[jid] = []
            return copy.deepcopy(job)

    def add_application(self, job_id, id=None, step="Triagem", step_id=None, status="inProgress", candidate=None,
                        tags=(), **extra):
        """Add an application of job job_id in step `step`; returns a copy (tags as names)."""
        with self.lock:
            return self._public(self._add_app(job_id, id, step, step_id, status, candidate, tags, extra))

    def _add_app(self, job_id, id, step, step_id, status, candidate, tags, extra):
        if job_id not in self.jobs:
            raise ValueError("job %r does not exist" % (job_id,))
        if id is not None and positive_int(id, "application id") in self.apps:
            raise ValueError("application %d exists" % id)
        aid = self._new_id("app", id)
        if candidate is None:
            candidate = {"id": self._new_id("cand"), "name": "Candidate", "lastName": str(aid),
                         "email": "candidate%d@example.com" % aid}
        elif not isinstance(candidate, dict) or "id" not in candidate:
            raise ValueError("candidate must be an object with an id")
        app = dict(extra, id=aid, jobId=job_id, candidate=copy.deepcopy(candidate),
                   currentStep=self._step(step, step_id), status=status, tags=[], comments=[],
                   disapprovalReason=None)
        self.apps[aid] = app
        self.by_job[job_id].append(aid)
        for t in tags:
            self._add_tag(app, t)
        return app

    def bulk_applications(self, job_id, count, step="Exame", first_id=None):
        """Add count applications of job job_id in step `step` quickly; returns their ids."""
        with self.lock:
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000000:
                raise ValueError("count must be an integer in 0..1000000")
            ids = []
            for i in range(count):
                app = self._add_app(job_id, None if first_id is None else first_id + i, step, None, "inProgress",
                                    None, (), {})
                ids.append(app["id"])
            return ids

    def move(self, app_id, step, step_id=None):
        """Move an application to the step named `step`."""
        with self.lock:
            self._get_app(app_id)["currentStep"] = self._step(step, step_id)

    def set_step_filter(self, honoured):
        """honoured=False: the applications list ignores currentStepName (as an API might)."""
        with self.lock:
            self.honour_step_filter = bool(honoured)

    def application(self, app_id):
        """A copy of an application with its tag and comment objects and disapprovalReason."""
        with self.lock:
            return copy.deepcopy(self._get_app(app_id))

    def tags(self, app_id):
        return [t["name"] for t in self.application(app_id)["tags"]]

    def comments(self, app_id):
        return [c["text"] for c in self.application(app_id)["comments"]]

    def state(self):
        with self.lock:
            return {"jobs": [copy.deepcopy(self.jobs[j]) for j in sorted(self.jobs)],
                    "applications": [copy.deepcopy(self.apps[a]) for a in sorted(self.apps)],
                    "honourStepFilter": self.honour_step_filter}

    def load(self, seed):
        """Seed from {"jobs": [...], "applications": [...]} (a --seed file, same keys as the control bodies)."""
        with self.lock:
            for d in seed.get("jobs", []):
                self._job_from_json(d)
            for d in seed.get("applications", []):
                self._app_from_json(d)

    # -- internals
    def _step(self, name, step_id):
        if not isinstance(name, str) or not name:
            raise ValueError("a step name must be a non-empty string")
        if step_id is None:
            step_id = self._step_ids.get(name) or self._new_id("step")
        self._step_ids.setdefault(name, step_id)
        return {"id": step_id, "name": name}

    def _get_app(self, app_id):
        if app_id not in self.apps:
            raise ValueError("application %r does not exist" % (app_id,))
        return self.apps[app_id]

    def _add_tag(self, app, name):
        if not isinstance(name, str) or not name:
            raise ValueError("a tag name must be a non-empty string")
        for t in app["tags"]:
            if t["name"] == name:
                return t
        tag = {"id": self._new_id("tag"), "candidateId": app["candidate"]["id"], "applicationId": app["id"],
               "jobId": app["jobId"], "name": name}
        app["tags"].append(tag)
        return tag

    @staticmethod
    def _public(app):
        """An application as the lists show it: tags as names, no comments."""
        out = {k: copy.deepcopy(v) for k, v in app.items() if k != "comments"}
        out["tags"] = [t["name"] for t in app["tags"]]
        if out.get("disapprovalReason") is None:
            out.pop("disapprovalReason", None)
        return out

    def _job_from_json(self, d):
        extra = {k: v for k, v in d.items() if k not in ("id", "name", "status")}
        return self.add_job(d.get("id"), d.get("name"), d.get("status", "published"), **extra)

    def _app_from_json(self, d):
        if "jobId" not in d:
            raise ValueError("an application needs a jobId")
        step = d.get("currentStep") or {}
        if not isinstance(step, dict) or not isinstance(step.get("name", "Triagem"), str):
            raise ValueError("currentStep must be {id?, name}")
        extra = {k: v for k, v in d.items() if k not in APP_FIELDS}
        return self._add_app(d["jobId"], d.get("id"), step.get("name", "Triagem"), step.get("id"),
                             d.get("status", "inProgress"), d.get("candidate"), d.get("tags", ()), extra)

    # -- control handlers
    def _c_bulk(self, req):
        d = req.control_json()
        if not isinstance(d, dict):
            raise Refuse(400, "bulk: a JSON object {jobId, count, step, firstId?}")
        check_fields(d, ("jobId", "count"), ("step", "firstId"))
        return {"ids": self.bulk_applications(d["jobId"], d["count"], d.get("step", "Exame"), d.get("firstId"))}

    def _c_move(self, req, app_id):
        d = req.control_json()
        if not isinstance(d, dict):
            raise Refuse(400, "move: a JSON object {name, id?}")
        check_fields(d, ("name",), ("id",))
        self.move(_int(app_id), d["name"], d.get("id"))
        return self._public(self.apps[_int(app_id)])

    def _c_options(self, req):
        d = req.control_json()
        if not isinstance(d, dict) or not isinstance(d.get("honourStepFilter"), bool) or len(d) != 1:
            raise Refuse(400, 'options: {"honourStepFilter": true|false}')
        self.set_step_filter(d["honourStepFilter"])
        return {"honourStepFilter": self.honour_step_filter}

    # -- API handlers: check, then return the closure that applies the request
    def _auth(self, req, write):
        value = req.header("Authorization")
        if value is None:
            raise Refuse(401, "Authorization header missing: send Authorization: Bearer <token>")
        if value != "Bearer " + self.token:
            raise Refuse(401, "invalid token: Authorization must be exactly 'Bearer <token>'")
        if write:
            require_accept_json(req)
        else:
            req.require_no_body()

    def _job_app(self, job_text, app_text):
        jid, aid = path_id(job_text, "jobId"), path_id(app_text, "applicationId")
        if jid not in self.jobs:
            raise Refuse(404, "job %d not found" % jid)
        app = self.apps.get(aid)
        if app is None or app["jobId"] != jid:
            raise Refuse(404, "application %d not found in job %d" % (aid, jid))
        return app

    def _list_jobs(self, req):
        self._auth(req, False)
        q = req.query(("status", "page", "perPage"))
        if "status" in q and not q["status"]:
            raise Refuse(400, "status must not be empty")
        page_of([], q)  # check page and perPage now

        def apply():
            jobs = [self.jobs[j] for j in sorted(self.jobs)
                    if "status" not in q or self.jobs[j]["status"] == q["status"]]
            return Answer(200, page_of(jobs, q, copy.deepcopy))
        return apply

    def _list_applications(self, req, job_text):
        self._auth(req, False)
        jid = path_id(job_text, "jobId")
        q = req.query(("currentStepName", "page", "perPage"))
        if "currentStepName" in q and not q["currentStepName"]:
            raise Refuse(400, "currentStepName must not be empty")
        page_of([], q)
        if jid not in self.jobs:
            raise Refuse(404, "job %d not found" % jid)

        def apply():
            step = q.get("currentStepName") if self.honour_step_filter else None
            apps = [self.apps[a] for a in sorted(self.by_job[jid])
                    if step is None or self.apps[a]["currentStep"]["name"] == step]
            return Answer(200, page_of(apps, q, self._public))
        return apply

    def _tag(self, req, job_text, app_text):
        self._auth(req, True)
        body = req.json_object()
        check_fields(body, ("name",))
        name = nonempty_string(body, "name")
        app = self._job_app(job_text, app_text)
        return lambda: Answer(200, copy.deepcopy(self._add_tag(app, name)))

    def _comment(self, req, job_text, app_text):
        self._auth(req, True)
        body = req.json_object()
        check_fields(body, ("text",))
        text = nonempty_string(body, "text")
        app = self._job_app(job_text, app_text)

        def apply():
            at = now_iso()
            c = {"id": self._new_id("comment"), "userId": self.user_id, "hidden": False, "text": text,
                 "createdAt": at, "updatedAt": at}
            app["comments"].append(c)
            return Answer(200, copy.deepcopy(c))
        return apply

    def _reprove(self, req, job_text, app_text):
        self._auth(req, True)
        body = req.json_object()
        check_fields(body, ("status", "disapprovalReason"))
        if body["status"] != "reproved":
            raise Refuse(400, "status must be \"reproved\" (the only change this fake implements), got %r"
                         % (body["status"],))
        reason = nonempty_string(body, "disapprovalReason")
        app = self._job_app(job_text, app_text)

        def apply():
            app["status"], app["disapprovalReason"] = "reproved", reason
            return Answer(200, self._public(app))
        return apply


def _int(text):
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise Refuse(400, "an application id is a positive integer, got %r" % text)
    return int(text)


def main():
    p = argparse.ArgumentParser(description="A fake Gupy API on 127.0.0.1 (see tests/fakes/README.md).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    p.add_argument("--token", default="test-token", help="the Bearer token it accepts")
    p.add_argument("--seed", help="a JSON file {\"jobs\": [...], \"applications\": [...]} to start with")
    a = p.parse_args()
    fake = FakeGupy(token=a.token, host=a.host, port=a.port)
    if a.seed:
        with open(a.seed, encoding="utf-8") as f:
            fake.load(json.load(f))
    serve_forever(fake, "fake Gupy (token %s)" % a.token)


if __name__ == "__main__":
    main()
