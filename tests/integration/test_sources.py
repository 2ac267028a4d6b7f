"""Sources (receiving URLs): POST/GET/PATCH/DELETE /api/v1/sources, their
rejections list, company isolation, the CLI (gancho source ...), and a source
changed on one node reloaded on another (PostgreSQL)."""

import json
import os
import sqlite3
import subprocess
import time
import unittest
import uuid

import harness as H

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# Every verification kind and preset, with the secret text that must never
# come back in an answer.
KINDS = [
    ({"kind": "none"}, "none", None, None),
    ({"kind": "basic", "username": "gupy", "password": "pw-basic-s3cr3t"}, "basic", None,
     "pw-basic-s3cr3t"),
    ({"kind": "apiKey", "key": "key-apikey-s3cr3t", "prefix": "Bearer"}, "apiKey", None,
     "key-apikey-s3cr3t"),
    ({"kind": "apiKey", "header": "X-Api-Key", "key": "key-hdr-s3cr3t"}, "apiKey", None,
     "key-hdr-s3cr3t"),
    ({"kind": "hmac", "header": "X-Signature", "hash": "sha1", "encoding": "hex",
      "secret": "hmac-sha1-s3cr3t"}, "hmac", None, "hmac-sha1-s3cr3t"),
    ({"kind": "hmac", "header": "X-Signature", "hash": "sha512", "encoding": "base64",
      "prefix": "sha512=", "secrets": ["hmac-old-s3cr3t", "hmac-new-s3cr3t"]}, "hmac", None,
     "hmac-new-s3cr3t"),
    ({"kind": "standard", "secret": WHSEC, "toleranceSeconds": 120}, "standard", None,
     WHSEC[6:]),
    ({"preset": "acesso", "secret": "acesso-s3cr3t"}, "hmac", "acesso", "acesso-s3cr3t"),
    ({"preset": "github", "secret": "github-s3cr3t"}, "hmac", "github", "github-s3cr3t"),
    ({"preset": "svix", "secrets": [WHSEC]}, "standard", "svix", WHSEC[6:]),
]

FIELDS = ("id", "name", "url", "verification", "allowIps", "idPath", "eventPath", "datePath",
          "maxBodyBytes", "entity", "createdAt", "updatedAt")


def src_body(**fields):
    body = {"name": "Gupy", "verification": {"kind": "none"}}
    body.update(fields)
    return body


class SourcesTest(H.GanchoTestCase):

    def create(self, token=H._NO_TOKEN, g=None, **fields):
        body = src_body(**fields)
        got = self.api("POST", "/api/v1/sources", body, token=token, g=g)
        js = self.assertStatus(got, 201, "POST /api/v1/sources %s" % json.dumps(body)[:300])
        return js

    def source_count(self):
        js = self.assertStatus(self.api("GET", "/api/v1/sources?limit=500"), 200, "list")
        return len(js["data"])

    # -- create and answers

    def test_create_each_kind_and_preset_without_showing_secrets(self):
        for ver, kind, preset, secret in KINDS:
            st, js, raw = self.api("POST", "/api/v1/sources", src_body(verification=ver))
            self.assertEqual(st, 201, "create with %r: %r" % (ver, raw[:400]))
            self.assertEqual(tuple(js.keys()), FIELDS, "answer fields in order: %r" % (js,))
            self.assertRegex(js["id"], H.UUID_RE)
            self.assertEqual(js["url"], "/in/" + js["id"])
            v = js["verification"]
            self.assertEqual(v.get("kind"), kind, "kind of %r: %r" % (ver, v))
            if preset:
                self.assertEqual(v.get("preset"), preset, "preset shown as chosen: %r" % (v,))
            for k in ("secret", "secrets", "password", "key"):
                self.assertNotIn(k, v, "answer shows %s: %r" % (k, v))
            if secret:
                self.assertNotIn(secret.encode(), raw, "the answer holds a secret")
            if kind in ("hmac", "standard"):
                n = len(ver.get("secrets", [ver.get("secret")]))
                self.assertEqual(v.get("secretCount"), n, "secretCount: %r" % (v,))
            # GET and the list answer the same, also without secrets
            st, again, raw2 = self.api("GET", "/api/v1/sources/" + js["id"])
            self.assertEqual(st, 200)
            self.assertEqual(again, js)
            if secret:
                self.assertNotIn(secret.encode(), raw2)
        st, lst, raw = self.api("GET", "/api/v1/sources?limit=500")
        self.assertEqual(st, 200)
        self.assertEqual(len(lst["data"]), len(KINDS))
        for _v, _k, _p, secret in KINDS:
            if secret:
                self.assertNotIn(secret.encode(), raw)

    def test_defaults_and_every_field(self):
        js = self.create()
        self.assertEqual(js["name"], "Gupy")
        self.assertIsNone(js["allowIps"])
        self.assertEqual((js["idPath"], js["eventPath"], js["datePath"]), ("id", "event", "date"))
        self.assertEqual(js["maxBodyBytes"], 1048576)
        self.assertIsNone(js["entity"])
        self.assertEqual(js["createdAt"], js["updatedAt"])
        # standard and svix: the id is the signed message id unless idPath says
        for ver in ({"kind": "standard", "secret": WHSEC}, {"preset": "svix", "secret": WHSEC}):
            self.assertIsNone(self.create(verification=ver)["idPath"])
            self.assertEqual(self.create(verification=ver, idPath="data.id")["idPath"], "data.id")
        full = self.create(
            name="Gupy produção", verification={"preset": "acesso", "secret": "s"},
            allowIps=["gupy", "10.0.0.0/8", "2001:db8::/32"], idPath="body.id",
            eventPath="type", datePath="data.createdAt", maxBodyBytes=2048,
            entity={"type": "application", "key": "data.application.id",
                    "keep": {"jobId": "data.job.id", "step": "data.application.currentStep.name"},
                    "reorderWindowSeconds": 30})
        self.assertEqual(full["name"], "Gupy produção")
        self.assertEqual(full["allowIps"], ["gupy", "10.0.0.0/8", "2001:db8::/32"])
        self.assertEqual((full["idPath"], full["eventPath"], full["datePath"]),
                         ("body.id", "type", "data.createdAt"))
        self.assertEqual(full["maxBodyBytes"], 2048)
        self.assertEqual(full["entity"], {
            "type": "application", "key": "data.application.id",
            "keep": {"jobId": "data.job.id", "step": "data.application.currentStep.name"},
            "reorderWindowSeconds": 30})
        small = self.create(entity={"type": "job", "key": "data.job.id"})
        self.assertEqual(small["entity"], {"type": "job", "key": "data.job.id", "keep": {},
                                           "reorderWindowSeconds": 0})

    def test_every_refusal_is_a_400_and_stores_nothing(self):
        long_path = "a" * 257
        cases = [
            ({"verification": {"kind": "none"}}, "missing_field", "name"),
            (src_body(name=""), "invalid_field", "name"),
            (src_body(name="x" * 201), "invalid_field", "name"),
            (src_body(name=7), "invalid_field", "name"),
            (src_body(name=None), "missing_field", "name"),
            ({"name": "a"}, "missing_field", "verification"),
            (src_body(verification=None), "missing_field", "verification"),
            (src_body(verification="none"), "invalid_field", "verification"),
            (src_body(verification={"kind": "rot13"}), "invalid_field", "verification.kind"),
            (src_body(verification={"preset": "gitlab", "secret": "s"}), "invalid_field",
             "verification.preset"),
            (src_body(verification={"kind": "hmac", "header": "X", "hash": "md5",
                                    "encoding": "hex", "secret": "s"}),
             "invalid_field", "verification.hash"),
            (src_body(verification={"kind": "hmac", "header": "X", "hash": "sha256",
                                    "encoding": "hex"}), "missing_field", "verification.secret"),
            (src_body(verification={"kind": "standard", "secret": "not-whsec"}), "invalid_field",
             "verification.secret"),
            (src_body(verification={"preset": "github", "secret": "s", "colour": 1}),
             "invalid_field", "verification.colour"),
            (src_body(allowIps="10.0.0.1"), "invalid_field", "allowIps"),
            (src_body(allowIps=[]), "invalid_field", "allowIps"),
            (src_body(allowIps=["10.0.0.1/33"]), "invalid_field", "allowIps[0]"),
            (src_body(allowIps=["10.0.0.0/8", "203.0.113.7/24"]), "invalid_field", "allowIps[1]"),
            (src_body(allowIps=["gupy-br"]), "invalid_field", "allowIps[0]"),
            (src_body(idPath=""), "invalid_field", "idPath"),
            (src_body(idPath="a..b"), "invalid_field", "idPath"),
            (src_body(eventPath=5), "invalid_field", "eventPath"),
            (src_body(datePath=".date"), "invalid_field", "datePath"),
            (src_body(datePath=long_path), "invalid_field", "datePath"),
            (src_body(maxBodyBytes=1023), "invalid_field", "maxBodyBytes"),
            (src_body(maxBodyBytes=67108865), "invalid_field", "maxBodyBytes"),
            (src_body(maxBodyBytes="1024"), "invalid_field", "maxBodyBytes"),
            (src_body(maxBodyBytes=1e300), "invalid_field", "maxBodyBytes"),
            (src_body(entity="application"), "invalid_field", "entity"),
            (src_body(entity={"key": "id"}), "missing_field", "entity.type"),
            (src_body(entity={"type": "a"}), "missing_field", "entity.key"),
            (src_body(entity={"type": "a b", "key": "id"}), "invalid_field", "entity.type"),
            (src_body(entity={"type": "a" * 65, "key": "id"}), "invalid_field", "entity.type"),
            (src_body(entity={"type": "a", "key": "id.."}), "invalid_field", "entity.key"),
            (src_body(entity={"type": "a", "key": "id", "keep": {"job.id": "data.x"}}),
             "invalid_field", "entity.keep.job.id"),
            (src_body(entity={"type": "a", "key": "id",
                              "keep": {"k%d" % i: "data.f" for i in range(33)}}),
             "invalid_field", "entity.keep"),
            (src_body(entity={"type": "a", "key": "id", "reorderWindowSeconds": 3601}),
             "invalid_field", "entity.reorderWindowSeconds"),
            (src_body(entity={"type": "a", "key": "id", "reorderWindowSeconds": -1}),
             "invalid_field", "entity.reorderWindowSeconds"),
            (src_body(entity={"type": "a", "key": "id", "order": "date"}), "invalid_field",
             "entity.order"),
            (src_body(colour="red"), "invalid_field", "colour"),
            (src_body(url="/in/mine"), "invalid_field", "url"),
            (src_body(createdAt="2026-01-01T00:00:00.000Z"), "invalid_field", "createdAt"),
            (src_body(id=str(uuid.uuid4())), "invalid_field", "id"),
        ]
        for body, code, field in cases:
            got = self.api("POST", "/api/v1/sources", body)
            js = self.assertStatus(got, 400, "POST %s" % json.dumps(body)[:200], code)
            msg = js["error"]["message"]
            self.assertTrue(msg.startswith(field + ":") or msg.startswith(field),
                            "%s: the message must name %s: %r" % (json.dumps(body)[:120], field, msg))
        # not JSON, not an object, a NUL in a field
        for raw in (b"{", b"[1]", b'{"name":"a\\u0000b","verification":{"kind":"none"}}',
                    b'{"name":"a","verification":{"kind":"basic","username":"u",'
                    b'"password":"p\\u0000"}}'):
            st, js, data = self.api("POST", "/api/v1/sources", raw=raw)
            self.assertEqual(st, 400, "%r: %r" % (raw, data))
            self.assertIn(js["error"]["code"], ("invalid_json", "invalid_field"))
        self.assertEqual(self.source_count(), 0, "a refused body stored nothing")

    # -- pagination

    def test_list_pages_newest_first(self):
        ids = [self.create(name="s%d" % i)["id"] for i in range(7)]
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/sources?limit=3" + ("&cursor=" + cursor if cursor else "")
            js = self.assertStatus(self.api("GET", path), 200, path)
            self.assertLessEqual(len(js["data"]), 3)
            seen += [s["id"] for s in js["data"]]
            pages += 1
            cursor = js["nextCursor"]
            if cursor is None:
                break
            self.assertLess(pages, 5, "pagination does not end")
        self.assertEqual(seen, list(reversed(ids)), "every source once, newest first")
        self.assertEqual(pages, 3)
        for q in ("limit=0", "limit=501", "limit=x", "cursor=-1", "cursor=abc"):
            self.assertStatus(self.api("GET", "/api/v1/sources?" + q), 400, q, "invalid_field")

    # -- PATCH and DELETE

    def test_patch_is_partial_and_validated(self):
        js = self.create(verification={"kind": "hmac", "header": "X-Sig", "hash": "sha256",
                                       "encoding": "hex", "secret": "first-s3cr3t"},
                         allowIps=["gupy"], entity={"type": "application", "key": "data.id",
                                                    "keep": {"jobId": "data.job.id"}})
        sid = js["id"]
        path = "/api/v1/sources/" + sid
        time.sleep(0.01)
        p = self.assertStatus(self.api("PATCH", path, {"name": "Gupy BR"}), 200, "rename")
        self.assertEqual(p["name"], "Gupy BR")
        self.assertEqual(p["verification"], js["verification"], "verification kept")
        self.assertEqual(p["allowIps"], ["gupy"])
        self.assertEqual(p["createdAt"], js["createdAt"])
        self.assertNotEqual(p["updatedAt"], js["updatedAt"])
        # a second secret without repeating the kind: merged, rotation list
        p = self.assertStatus(self.api("PATCH", path, {"verification": {
            "secrets": ["first-s3cr3t", "second-s3cr3t"]}}), 200, "rotate")
        self.assertEqual(p["verification"]["header"], "X-Sig")
        self.assertEqual(p["verification"]["secretCount"], 2)
        # null removes optional fields; entity is replaced whole
        p = self.assertStatus(self.api("PATCH", path, {
            "allowIps": None, "maxBodyBytes": 4096,
            "entity": {"type": "job", "key": "data.job.id"}}), 200, "nulls")
        self.assertIsNone(p["allowIps"])
        self.assertEqual(p["maxBodyBytes"], 4096)
        self.assertEqual(p["entity"], {"type": "job", "key": "data.job.id", "keep": {},
                                       "reorderWindowSeconds": 0})
        # the same id in the body is fine, another is not
        self.assertStatus(self.api("PATCH", path, {"id": sid, "eventPath": "type"}), 200, "id")
        self.assertStatus(self.api("PATCH", path, {"id": str(uuid.uuid4())}), 400, "other id",
                          "invalid_field")
        # refusals change nothing
        before = self.assertStatus(self.api("GET", path), 200, "get")
        for body, code in (({"name": None}, "missing_field"), ({"name": ""}, "invalid_field"),
                           ({"verification": None}, "missing_field"),
                           ({"maxBodyBytes": 10}, "invalid_field"),
                           ({"entity": {"type": "job"}}, "missing_field"),
                           ({"colour": "red"}, "invalid_field")):
            self.assertStatus(self.api("PATCH", path, body), 400, "PATCH %r" % (body,), code)
        self.assertEqual(self.assertStatus(self.api("GET", path), 200, "get"), before)
        # another kind replaces the verification whole
        p = self.assertStatus(self.api("PATCH", path, {"verification": {"kind": "none"}}), 200,
                              "kind none")
        self.assertEqual(p["verification"], {"kind": "none"})

    def test_delete(self):
        keep = self.create(name="keep")
        gone = self.create(name="gone")
        path = "/api/v1/sources/" + gone["id"]
        st, _js, raw = self.api("DELETE", path)
        self.assertEqual(st, 204, raw)
        self.assertEqual(raw, b"")
        for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
            self.assertStatus(self.api(method, path, body), 404, method + " deleted", "not_found")
        self.assertStatus(self.api("GET", path + "/rejections"), 404, "rejections", "not_found")
        lst = self.assertStatus(self.api("GET", "/api/v1/sources"), 200, "list")
        self.assertEqual([s["id"] for s in lst["data"]], [keep["id"]])

    def test_another_company_sees_nothing(self):
        mine = self.create(name="mine")
        _cid, other = self.g.create_company("Other-" + uuid.uuid4().hex[:8])
        path = "/api/v1/sources/" + mine["id"]
        for method, sub, body in (("GET", "", None), ("PATCH", "", {"name": "taken"}),
                                  ("DELETE", "", None), ("GET", "/rejections", None)):
            self.assertStatus(self.api(method, path + sub, body, token=other), 404,
                              "%s %s by another company" % (method, sub), "not_found")
        lst = self.assertStatus(self.api("GET", "/api/v1/sources", token=other), 200, "list")
        self.assertEqual(lst["data"], [])
        self.assertEqual(self.assertStatus(self.api("GET", path), 200, "mine")["name"], "mine")
        # no token, a bad token, the admin token
        self.assertStatus(self.api("GET", "/api/v1/sources", token=None), 401, "no token")
        self.assertStatus(self.api("GET", "/api/v1/sources", token="nope"), 401, "bad token")
        self.assertStatus(self.api("POST", "/api/v1/sources", src_body(),
                                   token=self.g.admin_token), 403, "admin token")
        self.assertStatus(self.api("PUT", "/api/v1/sources"), 405, "PUT")
        self.assertStatus(self.api("GET", "/api/v1/sources/%s/nope" % mine["id"]), 404, "sub")

    # -- rejections

    def sql(self, statement):
        """Run statement on this gancho's database (the rows the receiving path
        writes, made here by hand); returns the rows."""
        if H.backend() == "postgres":
            import pg
            out = pg.psql(self.g.db, statement)
            return [line.split("|") for line in out.splitlines() if line]
        db = sqlite3.connect(self.g.db_path, timeout=10)
        try:
            rows = db.execute(statement).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    def test_rejections_newest_first(self):
        src = self.create()
        path = "/api/v1/sources/%s/rejections" % src["id"]
        self.assertEqual(self.assertStatus(self.api("GET", path), 200, "empty"), {"data": []})
        seq = int(self.sql("SELECT seq FROM sources WHERE id = '%s'" % src["id"])[0][0])
        base = 1764500000000
        for i in range(3):
            self.sql("INSERT INTO rejections(source_seq, at, address, reason) VALUES"
                     " (%d, %d, '203.0.113.%d', 'signature_mismatch: X-Sig does not match %d')"
                     % (seq, base + i * 1000, i, i))
        js = self.assertStatus(self.api("GET", path), 200, "three")
        self.assertEqual([r["address"] for r in js["data"]],
                         ["203.0.113.2", "203.0.113.1", "203.0.113.0"])
        self.assertEqual(js["data"][0], {"at": "2025-11-30T10:53:22.000Z",
                                         "address": "203.0.113.2",
                                         "reason": "signature_mismatch: X-Sig does not match 2"})

    # -- the command line

    def cli(self, *args, token=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_")}
        env["GANCHO_URL"] = self.g.base
        env["GANCHO_TOKEN"] = token or self.token
        p = subprocess.run([H.gancho_bin()] + list(args), capture_output=True, env=env,
                           timeout=60)
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        return p

    def ok(self, *args):
        p = self.cli(*args)
        self.assertEqual(p.returncode, 0, "gancho %s: %s %s" % (" ".join(args), p.out, p.err))
        return p

    def test_cli_add_list_get_delete(self):
        for verb in (("source", "--help"), ("source", "add", "--help"), ("source", "list", "--help"),
                     ("source", "get", "--help"), ("source", "delete", "--help")):
            p = self.ok(*verb)
            self.assertIn("usage: gancho source", p.out)
        p = self.ok("source", "add", "--name", "Gupy", "--preset", "acesso", "--secret",
                    "cli-s3cr3t", "--allow-ip", "gupy", "--allow-ip", "10.0.0.0/8",
                    "--entity", '{"type":"application","key":"data.application.id"}')
        first = p.out.splitlines()[0]
        self.assertTrue(first.startswith("id="), p.out)
        sid = first[3:]
        self.assertRegex(sid, H.UUID_RE)
        self.assertIn("url=/in/" + sid, p.out)
        self.assertNotIn("cli-s3cr3t", p.out)
        js = self.assertStatus(self.api("GET", "/api/v1/sources/" + sid), 200, "get")
        self.assertEqual(js["verification"]["preset"], "acesso")
        self.assertEqual(js["allowIps"], ["gupy", "10.0.0.0/8"])
        self.assertEqual(js["entity"]["type"], "application")
        # rotation: two secrets; the full form; no verification at all
        p = self.ok("source", "add", "--name", "GH", "--preset", "github", "--secret", "a1",
                    "--secret", "b2", "--id-path", "data.id", "--max-body-bytes", "4096")
        gh = p.out.splitlines()[0][3:]
        js = self.assertStatus(self.api("GET", "/api/v1/sources/" + gh), 200, "get")
        self.assertEqual(js["verification"]["secretCount"], 2)
        self.assertEqual((js["idPath"], js["maxBodyBytes"]), ("data.id", 4096))
        self.ok("source", "add", "--name", "Std", "--verification",
                json.dumps({"kind": "standard", "secret": WHSEC}), "--event-path", "type",
                "--date-path", "timestamp")
        self.ok("source", "add", "--name", "Open", "--no-verification")
        # list and get
        p = self.ok("source", "list")
        for name in ("Gupy", "GH", "Std", "Open"):
            self.assertIn(name, p.out)
        self.assertIn(sid, p.out)
        p = self.ok("source", "get", sid)
        self.assertIn("acesso", p.out)
        self.assertIn("/in/" + sid, p.out)
        self.assertNotIn("cli-s3cr3t", p.out)
        p = self.ok("source", "get", sid, "--json")
        self.assertEqual(json.loads(p.out)["id"], sid)
        # usage errors (exit 2) and server refusals (exit 1)
        for args in (("source", "add", "--preset", "acesso", "--secret", "s"),
                     ("source", "add", "--name", "x"),
                     ("source", "add", "--name", "x", "--no-verification", "--preset", "github",
                      "--secret", "s"),
                     ("source", "add", "--name", "x", "--preset", "github"),
                     ("source", "add", "--name", "x", "--verification", "{nope"),
                     ("source", "add", "--name", "x", "--no-verification", "--max-body-bytes",
                      "lots"),
                     ("source", "frobnicate"), ("source", "get"), ("source",)):
            p = self.cli(*args)
            self.assertEqual(p.returncode, 2, "%s: %s %s" % (args, p.out, p.err))
        p = self.cli("source", "add", "--name", "x", "--no-verification", "--allow-ip", "10.0.0.1/33")
        self.assertEqual(p.returncode, 1, p.out + p.err)
        self.assertIn("allowIps", p.err)
        p = self.cli("source", "get", str(uuid.uuid4()))
        self.assertEqual(p.returncode, 1)
        # delete
        p = self.ok("source", "delete", sid)
        self.assertIn("deleted", p.out)
        self.assertStatus(self.api("GET", "/api/v1/sources/" + sid), 404, "deleted")
        self.assertEqual(self.cli("source", "delete", sid).returncode, 1)


@unittest.skipUnless(H.backend() == "postgres", "several nodes need GANCHO_TEST_BACKEND=postgres")
class SourcesClusterTest(H.GanchoTestCase):
    gancho = None  # the test makes its own nodes

    def test_a_change_on_one_node_is_reloaded_on_the_other(self):
        import pg
        db = pg.new_database()
        a = self.new_gancho(db=db)
        b = self.new_gancho(db=db)
        self.g = a
        self.company_id, self.token = a.create_company("ACME-" + uuid.uuid4().hex[:8])

        def reloaded(node, what):
            try:
                with open(node.log_path, encoding="utf-8", errors="replace") as f:
                    return what in f.read()
            except OSError:
                return False

        js = self.assertStatus(self.api("POST", "/api/v1/sources", src_body(), g=a), 201, "create")
        sid = js["id"]
        seq = pg.psql(db, "SELECT seq FROM sources WHERE id = '%s'" % sid).strip()
        H.wait_until(lambda: reloaded(b, "msg=source_reloaded seq=%s source=%s" % (seq, sid)), 10,
                     message="node b never reloaded the new source")
        # changed on a: b's API shows the change, and b's registry took it
        self.assertStatus(self.api("PATCH", "/api/v1/sources/" + sid, {"name": "renamed"}, g=a),
                          200, "patch")
        got = self.assertStatus(self.api("GET", "/api/v1/sources/" + sid, g=b), 200, "get on b")
        self.assertEqual(got["name"], "renamed")

        def count(node, what):
            with open(node.log_path, encoding="utf-8", errors="replace") as f:
                return f.read().count(what)
        H.wait_until(lambda: count(b, "msg=source_reloaded seq=%s source=%s" % (seq, sid)) >= 2,
                     10, message="node b never reloaded the changed source")
        # deleted on b: gone for a too
        self.assertEqual(self.api("DELETE", "/api/v1/sources/" + sid, g=b)[0], 204)
        H.wait_until(lambda: reloaded(a, "msg=source_reloaded seq=%s state=gone" % seq), 10,
                     message="node a never dropped the deleted source")
        self.assertStatus(self.api("GET", "/api/v1/sources/" + sid, g=a), 404, "deleted on b")


if __name__ == "__main__":
    unittest.main()
