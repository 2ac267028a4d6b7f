#!/usr/bin/env python3
"""A fake HelloWork ATS Partner status API for gancho's tests and for a person.

It implements, strictly, HelloWork's "Envoi changements de statut" document:
  POST /v1/applications/{applicationId}/status
  body {status, eventDate, created, jobId, source?} (+ communicationDelay, only with
  status "rejected_and_contacted_by_recruiter"): status a non-empty string, eventDate and
  created ISO-8601 date-times with a zone (2023-01-10T09:00:00.000Z), jobId a string (a
  number is refused), source a string or an object; Content-Type application/json.
  200 {"result": "Status was updated successfully"}; an application it does not know gets
  the documented 404 {"statusCode": 404, "error": "Not Found", "message": "Could not find
  applicationInfo with id {applicationId} for ATS {ats_name}"}.
When built with an authorization value, the Authorization header must be exactly that (401).
Each application also answers at its statusApiUrl: the rebuilt URL above, or a path of its
own given when it is seeded (the "statusApiUrl" an ATS receives with the application).
It keeps, per application, the status pushes it accepted. Control (no auth):
POST /_fake/applications {applicationId, statusApiPath?} (an object or a list), GET
/_fake/applications/{id}, and fakebase's log/failures/reset/state.
Run: python3 tests/fakes/fake_hellowork.py --port 8082 [--authorization 'Bearer X']
"""

import argparse
import copy
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakebase import (Answer, FakeServer, Refuse, check_fields, json_list, nonempty_string,  # noqa: E402
                      now_iso, serve_forever, type_name)

# The 16 values of the document's "Mapping des statuts", spelt as documented.
STATUSES = ("sending", "sent", "error", "not_found", "seen_by_recruiter", "interview_by_recruiter", "to_finalize",
            "hired", "pool", "offred", "whithdrawn", "outdated", "rejected_and_contacted_by_recruiter", "rejected",
            "rejected_candidate", "unknown")
REJECTED_CONTACTED = "rejected_and_contacted_by_recruiter"
DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))")
OK = {"result": "Status was updated successfully"}


def date_time(body, field):
    """Refuse a field that is not an ISO-8601 date-time with a zone and real calendar values."""
    v = body[field]
    if not isinstance(v, str):
        raise Refuse(400, "field %r must be an ISO-8601 date-time string, got %s" % (field, type_name(v)))
    m = DATE_TIME.fullmatch(v)
    try:
        if not m:
            raise ValueError("not YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)")
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        datetime.datetime(y, mo, d, h, mi, s)
        if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
            raise ValueError("bad zone offset")
    except ValueError as e:
        raise Refuse(400, "field %r must be an ISO-8601 date-time with a zone, got %r (%s)" % (field, v, e))
    return v


class FakeHelloWork(FakeServer):
    """The fake HelloWork status API. authorization: the exact Authorization header value it
    requires (None: any or none); ats_name: the ATS name of its 404 message."""

    name = "fake-hellowork"

    def __init__(self, authorization=None, ats_name="gancho", host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.authorization, self.ats_name = authorization, ats_name
        self.reset_state()
        self.route("POST", r"/v1/applications/([^/]+)/status", lambda req, a: self._push(req, a, "rebuilt"))
        self.control("POST", r"/_fake/applications",
                     lambda req: [self._seed_json(d) for d in json_list(req.control_json(), "applications")])
        self.control("GET", r"/_fake/applications/([^/]+)", lambda req, a: self.application(a))

    def reset_state(self):
        with self.lock:
            self.apps = {}          # applicationId -> {"statusApiPath": path or None, "pushes": [...]}
            self.own_paths = {}     # a seeded statusApiPath -> applicationId

    # -- seeding and reading (Python API; the control endpoints call these)
    def add_application(self, application_id, status_api_path=None):
        """Know an application (id: a string or a number, kept as a string); status_api_path:
        a path of this fake that also takes its status pushes. Returns application()."""
        application_id = str(application_id)
        if not re.fullmatch(r"[A-Za-z0-9._~-]{1,200}", application_id):
            raise ValueError("applicationId must be 1..200 URL-safe characters, got %r" % application_id)
        if status_api_path is not None and (not isinstance(status_api_path, str) or
                                            not re.fullmatch(r"/[A-Za-z0-9._~/-]{0,500}", status_api_path) or
                                            status_api_path.startswith("/_fake/")):
            raise ValueError("statusApiPath must be a plain path of this fake, got %r" % (status_api_path,))
        with self.lock:
            if application_id in self.apps:
                raise ValueError("application %s exists" % application_id)
            if status_api_path in self.own_paths:
                raise ValueError("statusApiPath %s is taken" % status_api_path)
            self.apps[application_id] = {"statusApiPath": status_api_path, "pushes": []}
            if status_api_path is not None:
                self.own_paths[status_api_path] = application_id
            return self.application(application_id)

    def status_api_url(self, application_id):
        """The URL the ATS would be given for this application."""
        app = self.apps[str(application_id)]
        return self.url + (app["statusApiPath"] or "/v1/applications/%s/status" % application_id)

    def application(self, application_id):
        """{applicationId, statusApiUrl, pushes: [{body, via ("rebuilt"|"statusApiUrl"), receivedAt}]}."""
        application_id = str(application_id)
        with self.lock:
            if application_id not in self.apps:
                raise ValueError("application %r does not exist" % application_id)
            return {"applicationId": application_id, "statusApiUrl": self.status_api_url(application_id),
                    "pushes": copy.deepcopy(self.apps[application_id]["pushes"])}

    def pushes(self, application_id):
        return self.application(application_id)["pushes"]

    def statuses(self, application_id):
        """The statuses pushed for an application, oldest first."""
        return [p["body"]["status"] for p in self.pushes(application_id)]

    def state(self):
        with self.lock:
            return {"atsName": self.ats_name, "authorizationRequired": self.authorization is not None,
                    "applications": [self.application(a) for a in sorted(self.apps)]}

    def load(self, seed):
        """Seed from {"applications": [{applicationId, statusApiPath?}, ...]} (a --seed file)."""
        for d in seed.get("applications", []):
            self._seed_json(d)

    def _seed_json(self, d):
        check_fields(d, ("applicationId",), ("statusApiPath",))
        return self.add_application(d["applicationId"], d.get("statusApiPath"))

    # -- the API
    def _find(self, routes, req):
        if routes is self.routes:
            with self.lock:
                app_id = self.own_paths.get(req.path)
            if app_id is not None:
                if req.method != "POST":
                    raise Refuse(405, "method %s not allowed on %s (allowed: POST)" % (req.method, req.path),
                                 headers={"Allow": "POST"})
                return (lambda r: self._push(r, app_id, "statusApiUrl")), ()
        return super()._find(routes, req)

    def failure_message(self, status, req):
        if status == 404:
            return self._not_found_message(req.path.split("/")[3] if req.path.startswith("/v1/applications/")
                                           else self.own_paths.get(req.path, "?"))
        return super().failure_message(status, req)

    def _not_found_message(self, application_id):
        return "Could not find applicationInfo with id %s for ATS %s" % (application_id, self.ats_name)

    def _push(self, req, application_id, via):
        if self.authorization is not None:
            value = req.header("Authorization")
            if value != self.authorization:
                raise Refuse(401, "Authorization header %s" % ("missing" if value is None else "is not the right one"))
        body = req.json_object()
        check_fields(body, ("status", "eventDate", "created", "jobId"), ("source", "communicationDelay"))
        status = nonempty_string(body, "status")
        date_time(body, "eventDate")
        date_time(body, "created")
        if not isinstance(body["jobId"], str):
            raise Refuse(400, "field 'jobId' must be a string, got %s" % type_name(body["jobId"]))
        nonempty_string(body, "jobId")
        if "source" in body and not isinstance(body["source"], (str, dict)):
            raise Refuse(400, "field 'source' must be a string or an object, got %s" % type_name(body["source"]))
        if "communicationDelay" in body:
            delay = body["communicationDelay"]
            if status != REJECTED_CONTACTED:
                raise Refuse(400, "field 'communicationDelay' goes only with status %s" % REJECTED_CONTACTED)
            if not ((isinstance(delay, str) and delay.strip()) or
                    (isinstance(delay, int) and not isinstance(delay, bool) and delay >= 0)):
                raise Refuse(400, "field 'communicationDelay' must be a non-empty string or a number >= 0")
        if application_id not in self.apps:
            msg = self._not_found_message(application_id)
            raise Refuse(404, msg, body={"statusCode": 404, "error": "Not Found", "message": msg})
        app = self.apps[application_id]

        def apply():
            app["pushes"].append({"body": body, "via": via, "receivedAt": now_iso()})
            return Answer(200, OK)
        return apply


def main():
    p = argparse.ArgumentParser(description="A fake HelloWork status API on 127.0.0.1 (see tests/fakes/README.md).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    p.add_argument("--authorization", help="the exact Authorization header value required (default: none)")
    p.add_argument("--ats-name", default="gancho", help="the ATS name in its 404 message")
    p.add_argument("--seed", help="a JSON file {\"applications\": [{\"applicationId\": ...}]} to start with")
    a = p.parse_args()
    fake = FakeHelloWork(authorization=a.authorization, ats_name=a.ats_name, host=a.host, port=a.port)
    if a.seed:
        with open(a.seed, encoding="utf-8") as f:
            fake.load(json.load(f))
    serve_forever(fake, "fake HelloWork")


if __name__ == "__main__":
    main()
