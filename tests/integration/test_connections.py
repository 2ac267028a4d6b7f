"""Connections (ATS and job board APIs): POST/GET/PATCH/DELETE /api/v1/connections,
the defaults per kind, validation errors naming the field, credentials never answered
(not in GET, not in the list, not in an error) nor logged, another company's connection
not found, and the CLI (gancho connection ...).

That a PATCH of the credentials rewrites the authorization of the route targets using the
connection is tested at the store level (unit.test_store_connections, and on PostgreSQL
it.pg.test_store_connections). Here a forward action's target is made to name the
connection by writing its row (the route actions that make such targets are tested with
them), to see the new credential go out at once from this node and, on PostgreSQL, from
another node sharing the database; and a route that uses the connection holds it (409)."""

import json
import os
import sqlite3
import subprocess
import time
import unittest
import uuid

import harness as H

TOKEN = "gupy-tok-s3cr3t-0123456789"
AUTH = "Basic aHctdXNlcjpody1zM2NyM3Q="
FIELDS = ("id", "name", "kind", "baseUrl", "credential", "createdAt", "updatedAt")
ELLIPSIS = "\u2026"


class ConnectionsTest(H.GanchoTestCase):

    def create(self, api_token=H._NO_TOKEN, g=None, **fields):
        body = {"name": "Gupy", "kind": "gupy", "token": TOKEN}
        body.update(fields)
        got = self.api("POST", "/api/v1/connections", body, token=api_token, g=g)
        return self.assertStatus(got, 201, "POST /api/v1/connections")

    def refused(self, body, field, code="invalid_field", method="POST",
                path="/api/v1/connections", secrets=()):
        st, js, raw = self.api(method, path, body)
        what = "%s %s" % (method, json.dumps(body)[:200])
        self.assertEqual(st, 400, "%s: expected 400, got %d %r" % (what, st, raw[:400]))
        err = js["error"]
        self.assertEqual(err["code"], code, "%s: %r" % (what, err))
        self.assertTrue(err["message"].startswith(field + ":"),
                        "%s: the message names %s: %r" % (what, field, err["message"]))
        for s in secrets:
            self.assertNotIn(s.encode(), raw, "%s: the error quotes the credential" % what)

    def count(self, token=H._NO_TOKEN):
        js = self.assertStatus(self.api("GET", "/api/v1/connections?limit=500", token=token),
                               200, "list")
        return len(js["data"])

    def assertNotLogged(self, *secrets):
        with open(self.g.log_path, "rb") as f:
            log = f.read()
        for s in secrets:
            self.assertNotIn(s.encode(), log, "the log holds a credential")

    # -- create, read, list

    def test_create_defaults_and_answers_without_credentials(self):
        g = self.create()
        self.assertEqual(tuple(g.keys()), FIELDS, "answer fields in order: %r" % (g,))
        self.assertRegex(g["id"], H.UUID_RE)
        self.assertEqual(g["name"], "Gupy")
        self.assertEqual(g["kind"], "gupy")
        self.assertEqual(g["baseUrl"], "https://api.gupy.io")
        self.assertEqual(g["credential"], {"kind": "token", "hint": ELLIPSIS + TOKEN[-4:]})
        self.assertEqual(g["createdAt"], g["updatedAt"])
        h = self.create(name="HelloWork", kind="hellowork", token=None, authorization=AUTH)
        self.assertEqual(h["baseUrl"], "https://ats-partner.hellowork.com")
        self.assertEqual(h["credential"], {"kind": "authorization", "hint": ELLIPSIS + AUTH[-4:]})
        short = self.create(name="Short", token="abcdefghijk")
        self.assertEqual(short["credential"], {"kind": "token", "hint": None},
                         "a credential shorter than 12 gets no hint")
        own = self.create(name="Proxy", baseUrl="https://gupy.example.com/api-proxy/")
        self.assertEqual(own["baseUrl"], "https://gupy.example.com/api-proxy")

        for c in (g, h):
            st, js, raw = self.api("GET", "/api/v1/connections/" + c["id"])
            self.assertEqual(st, 200, raw[:300])
            self.assertEqual(js, c, "GET answers what POST did")
            for s in (TOKEN, AUTH, "aHctdXNlcjpody1zM2NyM3Q"):
                self.assertNotIn(s.encode(), raw, "GET shows the credential")
        st, js, raw = self.api("GET", "/api/v1/connections")
        self.assertEqual(st, 200, raw[:300])
        self.assertEqual([c["id"] for c in js["data"]], [own["id"], short["id"], h["id"], g["id"]],
                         "newest first")
        self.assertEqual(js["data"][3], g)
        for s in (TOKEN, AUTH, "abcdefghijk"):
            self.assertNotIn(s.encode(), raw, "the list shows a credential")
        self.assertNotLogged(TOKEN, AUTH, "abcdefghijk")

    def test_pages(self):
        ids = [self.create(name="c%d" % i)["id"] for i in range(5)]
        seen, cursor = [], None
        for _ in range(5):
            path = "/api/v1/connections?limit=2" + ("&cursor=%s" % cursor if cursor else "")
            js = self.assertStatus(self.api("GET", path), 200, "page")
            self.assertLessEqual(len(js["data"]), 2)
            seen += [c["id"] for c in js["data"]]
            cursor = js["nextCursor"]
            if not cursor:
                break
        self.assertEqual(seen, ids[::-1], "every connection once, newest first")

    # -- refusals

    def test_validation_errors_name_the_field(self):
        base = {"name": "Gupy", "kind": "gupy", "token": TOKEN}

        def body(**kw):
            b = dict(base)
            for k, v in kw.items():
                if v is Ellipsis:
                    b.pop(k, None)
                else:
                    b[k] = v
            return b

        self.refused(body(tokn="x"), "tokn")
        self.refused(body(credential={"kind": "token"}), "credential")
        self.refused(body(createdAt="2020-01-01T00:00:00Z"), "createdAt")
        self.refused(body(id=str(uuid.uuid4())), "id")
        self.refused(body(name=Ellipsis), "name", "missing_field")
        self.refused(body(name=""), "name")
        self.refused(body(name="n" * 201), "name")
        self.refused(body(kind=Ellipsis), "kind", "missing_field")
        self.refused(body(kind="lever"), "kind")
        self.refused(body(kind=["gupy"]), "kind")
        self.refused(body(token=Ellipsis), "token or authorization", "missing_field")
        self.refused(body(authorization=AUTH), "token", secrets=(TOKEN, AUTH))
        for bad in ("", "has space", "line\r\nX-Injected: 1", "caf\u00e9",
                    "x" * 4097, 12345):
            self.refused(body(token=bad), "token", secrets=("X-Injected", "caf"))
        for bad in (" Basic x", "Basic x ", "Basic x\nY: z", {"kind": "basic"}, ""):
            self.refused(body(token=Ellipsis, authorization=bad), "authorization",
                         secrets=("Y: z",))
        for url in ("ftp://api.gupy.io", "not a url", "https://", "https://u:pw@api.gupy.io",
                    "https://api.gupy.io/?x=1", "https://api.gupy.io/#f", 42):
            self.refused(body(baseUrl=url), "baseUrl")
        st, js, raw = self.api("POST", "/api/v1/connections", raw="[]")
        self.assertEqual(st, 400, raw[:300])
        self.assertEqual(self.count(), 0, "nothing refused was stored")
        self.assertNotLogged(TOKEN, AUTH)

    def test_without_dev_base_urls_are_judged_as_webhook_urls(self):
        g2 = self.new_gancho(dev=False)
        _, tok = g2.create_company()
        for url in ("http://api.gupy.io", "https://127.0.0.1", "https://localhost",
                    "https://10.1.2.3", "https://169.254.169.254", "https://[::1]"):
            st, js, raw = g2.api("POST", "/api/v1/connections",
                                 {"name": "G", "kind": "gupy", "token": TOKEN, "baseUrl": url},
                                 token=tok)
            self.assertEqual(st, 400, "%s without --dev: %r" % (url, raw[:300]))
            self.assertTrue(js["error"]["message"].startswith("baseUrl:"), js)
        st, js, raw = g2.api("POST", "/api/v1/connections",
                             {"name": "G", "kind": "gupy", "token": TOKEN}, token=tok)
        self.assertEqual(st, 201, raw[:300])
        # with --dev (the class's gancho), a local fake API is fine
        c = self.create(baseUrl="http://127.0.0.1:%d/" % self.rx.port)
        self.assertEqual(c["baseUrl"], "http://127.0.0.1:%d" % self.rx.port)

    # -- change and delete

    def test_patch(self):
        c = self.create()
        path = "/api/v1/connections/" + c["id"]
        time.sleep(0.01)
        got = self.assertStatus(self.api("PATCH", path, {"name": "Gupy BR"}), 200, "rename")
        self.assertEqual(got["name"], "Gupy BR")
        self.assertEqual(got["credential"], c["credential"], "the credential is kept")
        self.assertEqual(got["createdAt"], c["createdAt"])
        self.assertGreater(got["updatedAt"], c["updatedAt"])
        got = self.assertStatus(self.api("PATCH", path, {"authorization": AUTH}), 200, "auth")
        self.assertEqual(got["credential"], {"kind": "authorization", "hint": ELLIPSIS + AUTH[-4:]})
        got = self.assertStatus(self.api("PATCH", path, {"token": "another-token-0042"}), 200, "tok")
        self.assertEqual(got["credential"], {"kind": "token", "hint": ELLIPSIS + "0042"})
        got = self.assertStatus(self.api("PATCH", path, {"baseUrl": "https://gupy.example.com"}),
                                200, "baseUrl")
        self.assertEqual(got["baseUrl"], "https://gupy.example.com")
        got = self.assertStatus(self.api("PATCH", path, {"baseUrl": None}), 200, "default")
        self.assertEqual(got["baseUrl"], "https://api.gupy.io")
        got = self.assertStatus(self.api("PATCH", path, {"kind": "gupy", "id": c["id"]}), 200, "same")
        # refusals change nothing
        self.refused({"kind": "hellowork"}, "kind", method="PATCH", path=path)
        self.refused({"token": "a-token-1", "authorization": AUTH}, "token", method="PATCH",
                     path=path, secrets=("a-token-1", AUTH))
        self.refused({"token": None}, "token or authorization", "missing_field", method="PATCH",
                     path=path)
        self.refused({"id": str(uuid.uuid4())}, "id", method="PATCH", path=path)
        self.refused({"credential": None}, "credential", method="PATCH", path=path)
        self.refused({"token": "bad token"}, "token", method="PATCH", path=path)
        now = self.assertStatus(self.api("GET", path), 200, "get")
        self.assertEqual(now, got, "refused PATCHes changed nothing")
        self.assertNotLogged(TOKEN, AUTH, "another-token-0042")

    def test_delete(self):
        c = self.create()
        keep = self.create(name="kept")
        path = "/api/v1/connections/" + c["id"]
        st, _, raw = self.api("DELETE", path)
        self.assertEqual(st, 204, raw[:300])
        self.assertStatus(self.api("GET", path), 404, "deleted", "not_found")
        self.assertStatus(self.api("DELETE", path), 404, "deleted twice", "not_found")
        self.assertStatus(self.api("PATCH", path, {"name": "x"}), 404, "patch deleted", "not_found")
        js = self.assertStatus(self.api("GET", "/api/v1/connections"), 200, "list")
        self.assertEqual([x["id"] for x in js["data"]], [keep["id"]])
        self.assertStatus(self.api("GET", "/api/v1/connections/" + str(uuid.uuid4())), 404,
                          "unknown id", "not_found")

    def test_another_companys_connection_is_not_found(self):
        c = self.create()
        _, other = self.g.create_company()
        path = "/api/v1/connections/" + c["id"]
        self.assertStatus(self.api("GET", path, token=other), 404, "GET", "not_found")
        self.assertStatus(self.api("PATCH", path, {"name": "mine", "token": "stolen-token-1234"},
                                   token=other), 404, "PATCH", "not_found")
        self.assertStatus(self.api("DELETE", path, token=other), 404, "DELETE", "not_found")
        self.assertEqual(self.count(token=other), 0, "another company lists none of them")
        now = self.assertStatus(self.api("GET", path), 200, "own GET")
        self.assertEqual(now, c, "another company changed nothing")
        self.assertStatus(self.api("GET", "/api/v1/connections", token=None), 401, "no token")

    # -- the targets that use a connection

    def target_using(self, conn_id, g=None):
        """A source and a route forwarding to self.rx whose target names conn_id, sending
        the old token; returns the source."""
        g = g or self.g
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "Gupy", "verification": {"kind": "none"}}, g=g), 201, "source")
        route = self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "tag Apto", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [{"kind": "forward", "url": self.rx.url("/act"),
                         "authorization": {"kind": "apiKey",
                                           "data": {"key": TOKEN, "prefix": "Bearer"}}}]},
            g=g), 201, "route")
        tid = route["actions"][0]["targetId"]
        if H.backend() == "postgres":
            import pg
            pg.psql(g.db, "UPDATE webhooks SET config = jsonb_set(config::jsonb, '{connectionId}',"
                          " to_jsonb('%s'::text))::text WHERE id = '%s'" % (conn_id, tid))
        else:
            db = sqlite3.connect(g.db_path, timeout=10)
            with db:
                db.execute("UPDATE webhooks SET config = json_set(config, '$.connectionId', ?)"
                           " WHERE id = ?", (conn_id, tid))
            db.close()
        return src, route

    def fire(self, src, n, g=None):
        body = {"id": "evt-%d-%s" % (n, uuid.uuid4().hex[:6]), "event": "application.moved",
                "date": "2019-06-19T10:00:00.000Z", "data": {"n": n}}
        st, js, raw = (g or self.g).api("POST", "/in/" + src["id"], raw=json.dumps(body))
        self.assertEqual(st, 200, "POST /in: %r" % raw[:300])
        reqs = self.rx.wait_for(n, timeout=15)
        return reqs[n - 1].headers.get("Authorization")

    def test_new_credentials_reach_the_targets_at_once(self):
        c = self.create()
        src, route = self.target_using(c["id"])
        self.assertEqual(self.fire(src, 1), "Bearer " + TOKEN)
        path = "/api/v1/connections/" + c["id"]
        new = "gupy-tok-rotated-9876543210"
        self.assertStatus(self.api("PATCH", path, {"token": new}), 200, "new token")
        self.assertEqual(self.fire(src, 2), "Bearer " + new,
                         "the target sends the new token without a restart")
        self.assertStatus(self.api("PATCH", path, {"authorization": AUTH}), 200, "header value")
        self.assertEqual(self.fire(src, 3), AUTH)
        # the route shows the target's authorization by kind only, as ever
        got = self.assertStatus(self.api("GET", "/api/v1/routes/" + route["id"]), 200, "route")
        self.assertNotIn(new, json.dumps(got))
        # a route using it holds the connection: no delete, no new base URL
        st, js, raw = self.api("DELETE", path)
        self.assertEqual(st, 409, raw[:300])
        self.assertIn(route["id"], js["error"]["message"])
        self.assertIn("tag Apto", js["error"]["message"])
        st, js, raw = self.api("PATCH", path, {"baseUrl": "https://gupy.example.com"})
        self.assertEqual(st, 409, raw[:300])
        self.assertTrue(js["error"]["message"].startswith("baseUrl:"), js)
        self.assertEqual(self.assertStatus(self.api("GET", path), 200, "get")["baseUrl"],
                         "https://api.gupy.io", "a refused change changed nothing")
        # once the route is gone, the connection may go
        self.assertEqual(self.api("DELETE", "/api/v1/routes/" + route["id"])[0], 204)
        self.assertEqual(self.api("DELETE", path)[0], 204)
        self.assertNotLogged(TOKEN, AUTH, new)

    def test_new_credentials_reach_another_node(self):
        if H.backend() != "postgres":
            self.skipTest("several nodes share a PostgreSQL database")
        import pg
        db = pg.new_database()
        a = self.new_gancho(db=db)
        b = self.new_gancho(db=db)
        self.g = a
        self.company_id, self.token = a.create_company("ACME-" + uuid.uuid4().hex[:8])
        c = self.create()
        src, _ = self.target_using(c["id"])
        # node b loads the target as it is now (the row was written behind both
        # nodes' backs): restart it
        b.restart()
        H.wait_until(lambda: b.api("POST", "/in/" + src["id"], raw="{}")[0] == 400, 10,
                     message="node b never loaded the source")
        self.assertEqual(self.fire(src, 1, g=b), "Bearer " + TOKEN)
        new = "gupy-tok-rotated-on-a-0001"
        self.assertStatus(self.api("PATCH", "/api/v1/connections/" + c["id"], {"token": new}),
                          200, "PATCH on node a")
        # node b hears of it: what it receives goes out with the new token
        deadline = time.monotonic() + 10
        n, got = 1, None
        while time.monotonic() < deadline:
            n += 1
            got = self.fire(src, n, g=b)
            if got == "Bearer " + new:
                break
            time.sleep(0.2)
        self.assertEqual(got, "Bearer " + new, "node b still sends the old token")

    # -- the command line

    def cli(self, *args, token=None, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_")}
        env["GANCHO_URL"] = self.g.base
        env["GANCHO_TOKEN"] = token or self.token
        p = subprocess.run([H.gancho_bin()] + list(args), capture_output=True, env=env,
                           timeout=60, input=stdin)
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        return p

    def ok(self, *args, stdin=None):
        p = self.cli(*args, stdin=stdin)
        self.assertEqual(p.returncode, 0, "gancho %s: %s %s" % (" ".join(args), p.out, p.err))
        return p

    def test_cli_create_list_get_patch_delete(self):
        p = self.ok("connection", "create", "--name", "Gupy", "--kind", "gupy", "--api-token", "-",
                    stdin=(TOKEN + "\n").encode())
        self.assertIn("id=", p.out)
        cid = p.out.split("id=")[1].split()[0]
        self.assertIn("Gupy: gupy at https://api.gupy.io, token " + ELLIPSIS + TOKEN[-4:], p.out)
        self.assertNotIn(TOKEN, p.out + p.err)
        c = self.assertStatus(self.api("GET", "/api/v1/connections/" + cid), 200, "get")
        self.assertEqual(c["credential"]["hint"], ELLIPSIS + TOKEN[-4:],
                         "the token read from stdin, its newline removed")
        p = self.ok("connection", "create", "--name", "HW", "--kind", "hellowork",
                    "--authorization", AUTH, "--base-url", "https://hw.example.com")
        self.assertNotIn(AUTH, p.out + p.err)
        p = self.ok("connection", "list")
        self.assertIn(cid, p.out)
        self.assertIn("https://hw.example.com", p.out)
        self.assertNotIn(TOKEN, p.out)
        self.assertNotIn(AUTH, p.out)
        p = self.ok("connection", "get", cid)
        self.assertIn("baseUrl", p.out)
        self.assertNotIn(TOKEN, p.out)
        p = self.ok("connection", "patch", cid, "--name", "Gupy BR", "--authorization", AUTH)
        self.assertIn("Gupy BR: gupy at https://api.gupy.io, authorization", p.out)
        self.assertNotIn(AUTH, p.out + p.err)
        p = self.ok("connection", "get", cid, "--json")
        self.assertEqual(json.loads(p.out)["credential"]["kind"], "authorization")
        # usage errors and refusals: exit codes, the credential never echoed
        p = self.cli("connection", "create", "--name", "x", "--kind", "gupy")
        self.assertEqual(p.returncode, 2, p.err)
        p = self.cli("connection", "create", "--name", "x", "--kind", "gupy", "--api-token", "a",
                     "--authorization", "b")
        self.assertEqual(p.returncode, 2, p.err)
        p = self.cli("connection", "patch", cid)
        self.assertEqual(p.returncode, 2, p.err)
        p = self.cli("connection", "create", "--name", "x", "--kind", "gupy", "--api-token",
                     "bad s3cr3t-value")
        self.assertEqual(p.returncode, 1, p.err)
        self.assertIn("token:", p.err)
        self.assertNotIn("s3cr3t-value", p.out + p.err)
        p = self.ok("connection", "--help")
        self.assertIn("create", p.out)
        p = self.ok("connection", "create", "--help")
        self.assertIn("--api-token", p.out)
        self.ok("connection", "delete", cid)
        self.assertEqual(self.cli("connection", "get", cid).returncode, 1)
        self.assertNotLogged(TOKEN, AUTH)


if __name__ == "__main__":
    unittest.main()
