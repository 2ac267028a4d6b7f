"""The gancho command line: every verb run as a real process against a real server.

- help and usage: every verb and sub-verb answers --help with exit 0; an unknown
  verb or a bad command line exits 2.
- verify: offline signature checks, against signatures computed here with hmac.
- company create: offline on a fresh database file, then a server on that file
  accepts the token.
- webhooks, send, deliveries, attempts, retry, replay through the CLI, checked
  against the API and a recording receiver (data must arrive byte for byte).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness as H


def cli_env(url=None, token=None, admin_token=None, extra=None):
    """The environment for one CLI run: no GANCHO_* leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_") or k == "GANCHO_BIN"}
    if url is not None:
        env["GANCHO_URL"] = url
    if token is not None:
        env["GANCHO_TOKEN"] = token
    if admin_token is not None:
        env["GANCHO_ADMIN_TOKEN"] = admin_token
    env.update(extra or {})
    return env


def run_cli(args, env=None, input=None, timeout=60, cwd=None):
    """Run gancho with args; returns CompletedProcess with text stdout/stderr
    (input may be bytes or str)."""
    if isinstance(input, str):
        input = input.encode("utf-8")
    p = subprocess.run([H.gancho_bin()] + list(args), input=input, capture_output=True,
                       env=env if env is not None else cli_env(), timeout=timeout, cwd=cwd)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def kv(text):
    """Parse "k=v k2=v2" lines into a dict."""
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, _, v = tok.partition("=")
            out[k] = v
    return out


def explain(p):
    return "exit %d\nstdout: %r\nstderr: %r" % (p.returncode, p.out[:800], p.err[:800])


class CliCase(unittest.TestCase):
    """Helpers shared by the CLI test classes."""

    def assertExit(self, p, code, what):
        self.assertEqual(p.returncode, code, "%s: expected exit %d; %s" % (what, code, explain(p)))
        return p

    def assertApiError(self, p, code, what):
        """Exit 1 with 'error: <code>: <message>' on stderr."""
        self.assertExit(p, 1, what)
        self.assertRegex(p.err, r"(?m)^error: %s: " % re.escape(code),
                         "%s: stderr must say 'error: %s: <message>'; %s" % (what, code, explain(p)))


# ---------------------------------------------------------------------------
# no server needed

class CliUsageTest(CliCase):

    VERBS = [
        (["company", "create"], "company create"),
        (["company"], "company"),
        (["token", "create"], "token create"),
        (["token"], "token"),
        (["webhook"], "webhook"),
        (["webhook", "add"], "webhook add"),
        (["webhook", "list"], "webhook list"),
        (["webhook", "get"], "webhook get"),
        (["webhook", "pause"], "webhook pause"),
        (["webhook", "resume"], "webhook resume"),
        (["webhook", "delete"], "webhook delete"),
        (["send"], "send"),
        (["deliveries"], "deliveries"),
        (["attempts"], "attempts"),
        (["retry"], "retry"),
        (["replay"], "replay"),
        (["verify"], "verify"),
    ]

    def test_help_on_every_verb(self):
        for argv, name in self.VERBS:
            for flag in ("--help", "-h"):
                with self.subTest(verb=name, flag=flag):
                    p = self.assertExit(run_cli(argv + [flag]), 0, "gancho %s %s" % (name, flag))
                    self.assertIn("gancho " + name, p.out, "the help of %s must name it; %s" % (name, explain(p)))
                    self.assertIn("usage", p.out.lower())

    def test_top_level_help_lists_the_verbs(self):
        p = self.assertExit(run_cli(["--help"]), 0, "gancho --help")
        for verb in ("company", "token", "webhook", "send", "deliveries", "attempts", "retry", "replay",
                     "verify"):
            self.assertIn(verb, p.out, "gancho --help must list %s; %s" % (verb, explain(p)))

    def test_unknown_verb_exits_2(self):
        p = self.assertExit(run_cli(["frobnicate"]), 2, "unknown verb")
        self.assertIn("frobnicate", p.err)
        self.assertEqual(p.out, "", "nothing on stdout for a usage error")

    def test_bad_usage_exits_2(self):
        env = cli_env(url="http://127.0.0.1:9", token="gch_x")
        cases = [
            ["webhook", "frob"],
            ["webhook", "add", "--event", "candidate.hired"],             # no --url
            ["webhook", "add", "--url", "https://x.example"],             # no --event
            ["webhook", "add", "--url", "https://x.example", "--event", "a", "--auth", "nope:x"],
            ["webhook", "add", "--url", "https://x.example", "--event", "a", "--retry", "schedule:x"],
            ["webhook", "add", "--url", "https://x.example", "--event", "a", "--timeout-ms", "0"],
            ["webhook", "get"],                                           # no ID
            ["webhook", "get", "a", "b"],                                 # one ID too many
            ["webhook", "list", "--limit", "9999"],
            ["webhook", "list", "--bogus"],
            ["send"],
            ["send", "candidate.hired", "--data", "{not json"],
            ["send", "candidate.hired", "--data", "1, \"id\": \"smuggled\""],
            ["send", "candidate.hired", "--data", "{}", "--data-file", "-"],
            ["send", "candidate.hired", "--data"],                        # option without value
            ["deliveries", "--status", "lost"],
            ["attempts"],
            ["retry"],
            ["replay", "some-id"],                                        # no --since
            ["verify", "--kind", "rot13", "--secret", "s", "--signature", "x"],
            ["verify", "--kind", "secret", "--signature", "x"],           # no secret
            ["verify", "--kind", "standard", "--secret", "whsec_AAAA", "--signature", "v1,x"],  # no id/ts
            ["company", "create"],                                        # no NAME
        ]
        for argv in cases:
            with self.subTest(argv=argv):
                p = self.assertExit(run_cli(argv, env=env, input=b"{}"), 2, "gancho %s" % " ".join(argv))
                self.assertTrue(p.err.strip(), "a usage error must say why on stderr; %s" % explain(p))

    def test_unreachable_server_is_a_failure_not_a_crash(self):
        p = run_cli(["webhook", "list"], env=cli_env(url="http://127.0.0.1:9", token="gch_x"))
        self.assertExit(p, 1, "webhook list against a closed port")
        self.assertTrue(p.err.startswith("error: "), explain(p))

    def test_no_token_is_a_usage_error(self):
        p = run_cli(["deliveries"], env=cli_env(url="http://127.0.0.1:9"))
        self.assertExit(p, 2, "deliveries without any token")
        self.assertIn("GANCHO_TOKEN", p.err)


class CliVerifyTest(CliCase):

    BODY = b'{"companyName":"ACME","id":"e1","event":"position-created","date":"2024-01-01T00:00:00.000Z",' \
           b'"data":{"n": 1,  "s":"\\u00e9 \xc3\xa9"}}'

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gancho-cli-verify-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.body_file = os.path.join(self.dir, "body.json")
        with open(self.body_file, "wb") as f:
            f.write(self.BODY)

    def verify(self, *args, input=None):
        return run_cli(["verify"] + list(args), input=input)

    def test_secret_valid_and_invalid(self):
        secret = "s3cr3t-" + uuid.uuid4().hex
        sig = H.acesso_signature(secret, self.BODY)
        p = self.assertExit(self.verify("--kind", "secret", "--secret", secret, "--signature", sig,
                                        "--body-file", self.body_file), 0, "a good Acesso-Signature")
        self.assertEqual(p.out.strip(), "valid")
        # The body from standard input, the header pasted with a newline.
        p = self.assertExit(self.verify("--kind", "secret", "--secret", secret, "--signature", sig + "\n",
                                        "--body-file", "-", input=self.BODY), 0, "body from stdin")
        self.assertEqual(p.out.strip(), "valid")
        for what, args, body in [
            ("wrong secret", ["--secret", secret + "x", "--signature", sig], self.BODY),
            ("tampered body", ["--secret", secret, "--signature", sig], self.BODY + b" "),
            ("garbage signature", ["--secret", secret, "--signature", "AAAA"], self.BODY),
        ]:
            with self.subTest(what):
                p = self.assertExit(self.verify("--kind", "secret", *args, "--body-file", "-", input=body), 1, what)
                self.assertEqual(p.out.strip(), "invalid")

    def test_secret_sign(self):
        secret = "another secret"
        p = self.assertExit(self.verify("--kind", "secret", "--secret", secret, "--body-file", self.body_file,
                                        "--sign"), 0, "verify --sign")
        self.assertEqual(p.out.strip(), H.acesso_signature(secret, self.BODY))

    def test_secret_from_environment(self):
        secret = "env-secret"
        sig = H.acesso_signature(secret, self.BODY)
        p = run_cli(["verify", "--kind", "secret", "--signature", sig, "--body-file", self.body_file],
                    env=cli_env(extra={"GANCHO_VERIFY_SECRET": secret}))
        self.assertExit(p, 0, "secret from GANCHO_VERIFY_SECRET")
        self.assertEqual(p.out.strip(), "valid")

    def test_standard_valid_and_invalid(self):
        secret = H.new_whsec()
        other = H.new_whsec()
        ts = int(time.time())
        mid = "msg_" + uuid.uuid4().hex
        sig = H.standard_signature(secret, mid, ts, self.BODY)
        good = ["--kind", "standard", "--secret", secret, "--id", mid, "--timestamp", str(ts),
                "--body-file", self.body_file]
        p = self.assertExit(self.verify(*good, "--signature", sig), 0, "a good webhook-signature")
        self.assertEqual(p.out.strip(), "valid")
        # A rotation header: an old signature first, ours second.
        old = H.standard_signature(other, mid, ts, self.BODY)
        p = self.assertExit(self.verify(*good, "--signature", old + " " + sig), 0, "space-separated list")
        self.assertEqual(p.out.strip(), "valid")

        stale = ts - 3600
        stale_sig = H.standard_signature(secret, mid, stale, self.BODY)
        for what, args in [
            ("signature under another secret", good + ["--signature", old]),
            ("another message id", ["--kind", "standard", "--secret", secret, "--id", mid + "x", "--timestamp",
                                    str(ts), "--body-file", self.body_file, "--signature", sig]),
            ("another timestamp", ["--kind", "standard", "--secret", secret, "--id", mid, "--timestamp",
                                   str(ts + 1), "--body-file", self.body_file, "--signature", sig]),
            ("stale timestamp", ["--kind", "standard", "--secret", secret, "--id", mid, "--timestamp",
                                 str(stale), "--body-file", self.body_file, "--signature", stale_sig]),
            ("no v1 prefix", good + ["--signature", sig[3:]]),
        ]:
            with self.subTest(what):
                p = self.assertExit(self.verify(*args), 1, what)
                self.assertEqual(p.out.strip(), "invalid")
        # The same stale message is valid with a wide enough tolerance.
        p = self.assertExit(self.verify("--kind", "standard", "--secret", secret, "--id", mid, "--timestamp",
                                        str(stale), "--body-file", self.body_file, "--signature", stale_sig,
                                        "--tolerance", "7200"), 0, "stale timestamp within --tolerance")
        self.assertEqual(p.out.strip(), "valid")

    def test_standard_sign(self):
        secret = H.new_whsec()
        ts = 1700000000
        p = self.assertExit(self.verify("--kind", "standard", "--secret", secret, "--id", "msg_1", "--timestamp",
                                        str(ts), "--body-file", self.body_file, "--sign"), 0, "standard --sign")
        self.assertEqual(p.out.strip(), H.standard_signature(secret, "msg_1", ts, self.BODY))

    def test_standard_malformed_secret_is_usage(self):
        p = self.verify("--kind", "standard", "--secret", "whsec_***", "--id", "m", "--timestamp", "1",
                        "--signature", "v1,x", "--body-file", self.body_file)
        self.assertExit(p, 2, "a whsec_ secret that is not base64")

    def test_inbound_kinds_check_a_captured_request(self):
        """--verification checks a request to a source as /in/{id} does: every kind."""
        secret = "s3cr3t-" + uuid.uuid4().hex
        whsec = "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode()
        now = str(int(time.time()))
        hexsig = hmac.new(secret.encode(), self.BODY, hashlib.sha256).hexdigest()
        cases = [
            ('{"kind":"none"}', []),
            ('{"kind":"basic","username":"gupy","password":"%s"}' % secret,
             ["Authorization: Basic " + base64.b64encode(("gupy:" + secret).encode()).decode()]),
            ('{"kind":"apiKey","header":"X-Api-Key","key":"%s"}' % secret, ["X-Api-Key: " + secret]),
            ('{"preset":"acesso","secret":"%s"}' % secret,
             ["Acesso-Signature: " + H.acesso_signature(secret, self.BODY)]),
            ('{"preset":"github","secret":"%s"}' % secret, ["X-Hub-Signature-256: sha256=" + hexsig]),
            ('{"kind":"hmac","header":"X-Sig","hash":"sha256","encoding":"hex","secrets":["old","%s"]}'
             % secret, ["X-Sig: " + hexsig]),
            ('{"kind":"standard","secret":"%s"}' % whsec,
             ["webhook-id: msg_1", "webhook-timestamp: " + now, "webhook-signature: "
              + H.standard_signature(whsec, "msg_1", int(now), self.BODY)]),
            ('{"preset":"svix","secret":"%s"}' % whsec,
             ["svix-id: msg_1", "svix-timestamp: " + now, "svix-signature: "
              + H.standard_signature(whsec, "msg_1", int(now), self.BODY)]),
        ]
        for ver, headers in cases:
            with self.subTest(ver):
                args = ["--verification", ver]
                for h in headers:
                    args += ["--header", h]
                p = self.assertExit(self.verify(*args, "--body-file", self.body_file), 0, ver)
                self.assertEqual(p.out.strip(), "valid")
                signs_body = "basic" not in ver and "apiKey" not in ver
                if headers and signs_body:
                    # one byte changed: invalid, with a reason
                    p = self.assertExit(self.verify(*args, "--body-file", "-",
                                                    input=self.BODY + b" "), 1, ver + " tampered")
                    self.assertTrue(p.out.startswith("invalid: "), p.out)
                if headers:
                    # the headers missing: invalid, with a reason
                    p = self.assertExit(self.verify("--verification", ver, "--body-file",
                                                    self.body_file), 1, ver + " no header")
                    self.assertTrue(p.out.startswith("invalid: "), p.out)
                    self.assertNotIn(secret, p.out)
        # bad usage: not JSON, an unknown kind, --header without --verification
        self.assertExit(self.verify("--verification", "{", "--body-file", self.body_file), 2, "json")
        self.assertExit(self.verify("--verification", '{"kind":"rot13"}', "--body-file",
                                    self.body_file), 2, "kind")
        self.assertExit(self.verify("--kind", "secret", "--secret", "s", "--signature", "x",
                                    "--header", "A: b"), 2, "--header alone")


# ---------------------------------------------------------------------------
# offline company creation, then a server on the same database

class CliOfflineCompanyTest(CliCase):

    def test_company_create_offline_then_serve(self):
        g = H.Gancho(start=False)
        self.addCleanup(g.close)
        db = g.db
        on_file = db.startswith("sqlite:")
        if on_file:
            self.assertFalse(os.path.exists(g.db_path), "the database must not exist yet")
        name = "Offline-" + uuid.uuid4().hex[:8]
        p = self.assertExit(run_cli(["company", "create", name, "--db", db]), 0, "company create offline")
        got = kv(p.out)
        self.assertRegex(got.get("id", ""), H.UUID_RE, explain(p))
        self.assertTrue(got.get("token", "").startswith("gch_"), "the token must start with gch_; %s" % explain(p))
        if on_file:
            self.assertTrue(os.path.exists(g.db_path), "company create must have made the database file")

        # The same name again is a conflict, reported the usual way.
        p = run_cli(["company", "create", name, "--db", db])
        self.assertApiError(p, "conflict", "the same company name twice")
        self.assertNotIn("token=", p.out)

        # GANCHO_DB is the default database.
        p = self.assertExit(run_cli(["company", "create", name + "-env"], env=cli_env(extra={"GANCHO_DB": db})),
                            0, "company create with GANCHO_DB")
        token2 = kv(p.out).get("token")

        g.start()
        st, js, raw = g.api("GET", "/api/v1/company", token=got["token"])
        self.assertEqual(st, 200, "the offline token must work on the server: %d %r" % (st, raw[:300]))
        self.assertEqual((js.get("id"), js.get("name")), (got["id"], name), "GET /api/v1/company: %r" % (js,))
        st, js, raw = g.api("GET", "/api/v1/company", token=token2)
        self.assertEqual((st, js and js.get("name")), (200, name + "-env"), raw[:300])

        # And the CLI itself can use it against that server.
        p = self.assertExit(run_cli(["webhook", "list"], env=cli_env(url=g.base, token=got["token"])), 0,
                            "webhook list with the offline token")


# ---------------------------------------------------------------------------
# against a running server

class CliServerTest(H.GanchoTestCase, CliCase):

    def cli(self, *args, input=None, token=None, env_extra=None):
        env = cli_env(url=self.g.base, token=token if token is not None else self.token,
                      admin_token=self.g.admin_token, extra=env_extra)
        return run_cli(list(args), env=env, input=input)

    def ok(self, *args, input=None, token=None):
        p = self.cli(*args, input=input, token=token)
        return self.assertExit(p, 0, "gancho " + " ".join(args))

    def add_webhook(self, *extra, event="candidate.hired", path="/hook"):
        p = self.ok("webhook", "add", "--url", self.rx.url(path), "--event", event, *extra)
        wid = kv(p.out.splitlines()[0]).get("id", "")
        self.assertRegex(wid, H.UUID_RE, "webhook add must print id=<uuid> first; %s" % explain(p))
        return wid, p

    # -- companies and tokens

    def test_company_create_remote_and_token_create(self):
        name = "Remote-" + uuid.uuid4().hex[:8]
        p = self.ok("company", "create", name, "--remote")
        got = kv(p.out)
        self.assertRegex(got.get("id", ""), H.UUID_RE, explain(p))
        self.assertTrue(got.get("token", "").startswith("gch_"), explain(p))
        st, js, _ = self.g.api("GET", "/api/v1/company", token=got["token"])
        self.assertEqual((st, js.get("name")), (200, name))

        # Remote creation is an admin call: a company token is refused.
        p = self.cli("company", "create", "x-" + uuid.uuid4().hex[:8], "--remote", "--token", self.token)
        self.assertApiError(p, "forbidden", "company create --remote with a company token")

        p = self.ok("token", "create")
        token = p.out.strip()
        self.assertTrue(token.startswith("gch_") and token != self.token, explain(p))
        st, js, _ = self.g.api("GET", "/api/v1/company", token=token)
        self.assertEqual((st, js.get("id")), (200, self.company_id), "the new token is for the same company")

    def test_api_errors(self):
        p = self.cli("webhook", "get", str(uuid.uuid4()))
        self.assertApiError(p, "not_found", "webhook get of an unknown id")
        p = self.cli("webhook", "list", token="gch_not_a_token")
        self.assertApiError(p, "unauthorized", "a bad token")
        self.assertNotIn("gch_not_a_token", p.err, "tokens are never printed")
        # --url and --token override the environment.
        env = cli_env(url="http://127.0.0.1:9", token="gch_wrong")
        p = run_cli(["webhook", "list", "--url", self.g.base, "--token", self.token], env=env)
        self.assertExit(p, 0, "--url/--token override GANCHO_URL/GANCHO_TOKEN")

    # -- webhooks

    def test_webhook_lifecycle(self):
        secret = "hush-" + uuid.uuid4().hex
        wid, p = self.add_webhook("--event", "job.published", "--unit", "SP", "--auth", "secret:" + secret,
                                  "--header", "X-Api-Key: key-" + secret, "--retry", "schedule:1,5,30:3600",
                                  "--fifo", "--ordering-key", "data.application.id", "--timeout-ms", "5000",
                                  "--concurrency", "4", "--rate", "10", "--owner-name", "Ana",
                                  "--owner-email", "ana@example.com")
        self.assertNotIn(secret, p.out + p.err, "webhook add must not print the secret")
        self.assertIn("active", p.out.splitlines()[1], "the summary line shows the status; %s" % explain(p))
        w = self.webhook(wid)
        self.assertEqual(w.get("events"), ["candidate.hired", "job.published"], "several --event → events: %r" % w)
        self.assertEqual(w.get("postbackUrl"), self.rx.url("/hook"))
        self.assertEqual(w.get("unit"), "SP")
        self.assertEqual((w.get("authorization") or {}).get("kind"), "secret")
        self.assertEqual(w.get("clientHeaders"), {"X-Api-Key": "key-" + secret})
        self.assertEqual(w.get("retryPolicy"), {"schedule": [1, 5, 30], "deadlineSeconds": 3600})
        self.assertEqual((w.get("ordering"), w.get("orderingKey")), ("fifo", "data.application.id"))
        self.assertEqual((w.get("timeoutMs"), w.get("concurrency")), (5000, 4))
        self.assertEqual(w.get("rateLimit"), {"perSecond": 10})
        self.assertEqual((w.get("techOwnerName"), w.get("techOwnerEmail")), ("Ana", "ana@example.com"))

        # One --event → Gupy's "action".
        wid2, _ = self.add_webhook("--inactive", event="job.changed", path="/two")
        w2 = self.webhook(wid2)
        self.assertEqual((w2.get("action"), w2.get("events"), w2.get("status")),
                         ("job.changed", ["job.changed"], "inactive"))

        # --json prints the server's answer.
        p = self.ok("webhook", "add", "--url", self.rx.url("/three"), "--event", "job.published", "--json")
        js = json.loads(p.out)
        self.assertRegex(js.get("id", ""), H.UUID_RE)
        self.assertEqual(js.get("action"), "job.published")

        # list: a table with every webhook; paging with --all.
        p = self.ok("webhook", "list")
        self.assertTrue(p.out.splitlines()[0].startswith("ID"), "a header row; %s" % explain(p))
        for i in (wid, wid2, js["id"]):
            self.assertIn(i, p.out, "webhook list must show %s; %s" % (i, explain(p)))
        p = self.ok("webhook", "list", "--limit", "1", "--all", "--json")
        listed = json.loads(p.out)
        self.assertEqual(sorted(x["id"] for x in listed["data"]), sorted([wid, wid2, js["id"]]),
                         "--all must follow nextCursor")
        p = self.ok("webhook", "list", "--limit", "1")
        self.assertEqual(len(p.out.strip().splitlines()), 2, "one header and one row; %s" % explain(p))

        # get: readable, without header values or secrets.
        p = self.ok("webhook", "get", wid)
        self.assertIn(wid, p.out)
        self.assertIn("X-Api-Key", p.out, "header names are shown")
        self.assertNotIn(secret, p.out, "neither the secret nor header values are shown; %s" % explain(p))
        js = json.loads(self.ok("webhook", "get", wid, "--json").out)
        self.assertEqual(js.get("id"), wid)

        # pause / resume.
        p = self.ok("webhook", "pause", wid)
        self.assertIn("inactive", p.out)
        self.assertEqual(self.webhook(wid).get("status"), "inactive")
        self.ok("webhook", "resume", wid)
        self.assertEqual(self.webhook(wid).get("status"), "active")

        # delete.
        p = self.ok("webhook", "delete", wid)
        self.assertIn(wid, p.out)
        self.assertStatus(self.api("GET", "/api/v1/webhooks/" + wid), 404, "GET after webhook delete")
        self.assertApiError(self.cli("webhook", "delete", wid), "not_found", "delete twice")
        self.assertNotIn(wid, self.ok("webhook", "list").out)

    def test_webhook_add_refused_by_server(self):
        # The CLI leaves event names to the server, which refuses this one.
        p = self.cli("webhook", "add", "--url", self.rx.url(), "--event", "not a valid event name!")
        self.assertExit(p, 1, "webhook add with an invalid event name")
        self.assertTrue(p.err.startswith("error: "), explain(p))

    # -- send

    DATA = b'{"b": 1,  "a":[1.0, 2e3, -0.5E-7], "u":"\\u00e9 \xc3\xa9 \\"q\\"", "nested":{"z":null,"y":true}}'

    def delivered_data(self, req):
        fields = dict(H.split_envelope(req.body))
        self.assertIn("data", fields, "the envelope must have data: %r" % req.body[:300])
        return fields["data"]

    def test_send_data_file_arrives_byte_for_byte(self):
        self.add_webhook()
        path = os.path.join(self.g.dir, "data-%s.json" % uuid.uuid4().hex[:6])
        with open(path, "wb") as f:
            f.write(self.DATA)
        eid = "evt-" + uuid.uuid4().hex
        p = self.ok("send", "candidate.hired", "--data-file", path, "--id", eid, "--unit", "SP")
        got = kv(p.out)
        self.assertEqual(got.get("id"), eid, explain(p))
        self.assertRegex(got.get("date", ""), H.DATE_RE, explain(p))
        req = self.rx.wait_for(1, timeout=15)[0]
        self.assertEqual(self.delivered_data(req), self.DATA, "data must arrive exactly as in the file")
        self.assertEqual(req.json().get("id"), eid)

        # Standard input, and --data.
        p = self.ok("send", "candidate.hired", "--data-file", "-", input=self.DATA)
        eid2 = kv(p.out).get("id")
        raw = b'[1,  2 ,"tr\\u00eas"]'
        p = self.ok("send", "candidate.hired", "--data", raw.decode())
        eid3 = kv(p.out).get("id")
        reqs = self.rx.wait_ids([eid2, eid3], timeout=15)
        self.assertEqual(self.delivered_data(reqs[eid2][0]), self.DATA, "data from stdin")
        self.assertEqual(self.delivered_data(reqs[eid3][0]), raw, "data from --data")

    def test_send_idempotency_and_json(self):
        self.add_webhook()
        key = "idem-" + uuid.uuid4().hex
        first = self.ok("send", "candidate.hired", "--data", '{"n":1}', "--idempotency-key", key, "--json")
        js = json.loads(first.out)
        again = kv(self.ok("send", "candidate.hired", "--data", '{"n":2}', "--idempotency-key", key).out)
        self.assertEqual((again.get("id"), again.get("date")), (js["id"], js["date"]),
                         "a repeated Idempotency-Key answers the first event")
        p = self.cli("send", "no such event!", "--data", "{}")
        self.assertExit(p, 1, "send of an invalid event name")
        self.assertTrue(p.err.startswith("error: "), explain(p))

    # -- deliveries, attempts, retry, replay

    def test_deliveries_attempts_retry_replay(self):
        wid, _ = self.add_webhook()
        sent = kv(self.ok("send", "candidate.hired", "--data", '{"k":"v"}').out)
        eid = sent["id"]
        d = self.wait_delivery(wid, eid, "delivered", timeout=15)
        did = str(d["id"])

        p = self.ok("deliveries")
        lines = p.out.splitlines()
        self.assertTrue(lines and lines[0].split()[:3] == ["ID", "STATUS", "ATTEMPTS"], explain(p))
        row = [l for l in lines[1:] if l.split() and l.split()[0] == did]
        self.assertEqual(len(row), 1, "deliveries must list %s once; %s" % (did, explain(p)))
        cols = row[0].split()
        for want in ("delivered", "200", "candidate.hired", wid):
            self.assertIn(want, cols, "the delivery row must show %s: %r" % (want, row[0]))
        p = self.ok("deliveries", "--webhook", wid, "--status", "delivered", "--event", "candidate.hired",
                    "--json")
        listed = json.loads(p.out)
        self.assertEqual([str(x["id"]) for x in listed["data"]], [did])
        p = self.ok("deliveries", "--status", "failed")
        self.assertNotIn(did, p.out, "a filter by status must leave the delivered one out")

        p = self.ok("attempts", did)
        rows = p.out.splitlines()[1:]
        self.assertEqual(len(rows), 1, "one attempt; %s" % explain(p))
        self.assertIn("200", rows[0].split())
        js = json.loads(self.ok("attempts", did, "--json").out)
        self.assertEqual([a.get("statusCode") for a in js["data"]], [200])

        p = self.ok("retry", did)
        self.assertEqual(kv(p.out).get("status"), "pending", explain(p))
        reqs = self.rx.wait_for(2, timeout=15)
        self.assertEqual(reqs[1].event_id(), eid, "retry delivers the same event again")

        p = self.ok("replay", wid, "--since", sent["date"])
        self.assertGreaterEqual(int(kv(p.out).get("count", "0")), 1, explain(p))
        self.rx.wait_for(3, timeout=15)

        self.assertApiError(self.cli("attempts", str(uuid.uuid4())), "not_found", "attempts of an unknown delivery")
        self.assertApiError(self.cli("retry", str(uuid.uuid4())), "not_found", "retry of an unknown delivery")

    # -- a real signed delivery, checked with verify

    def test_verify_what_gancho_sent(self):
        secret = "acesso-" + uuid.uuid4().hex
        self.add_webhook("--auth", "secret:" + secret, event="position-created", path="/acesso")
        whsec = H.new_whsec()
        self.add_webhook("--auth", "standard:" + whsec, event="position-created", path="/std")
        self.ok("send", "position-created", "--data", '{"position": {"id": 7}}')
        acesso = self.rx.wait_for(1, timeout=15, path="/acesso")[0]
        std = self.rx.wait_for(1, timeout=15, path="/std")[0]

        p = self.ok("verify", "--kind", "secret", "--secret", secret,
                    "--signature", acesso.headers.get("Acesso-Signature", ""), "--body-file", "-",
                    input=acesso.body)
        self.assertEqual(p.out.strip(), "valid")
        p = self.cli("verify", "--kind", "secret", "--secret", secret + "!",
                     "--signature", acesso.headers.get("Acesso-Signature", ""), "--body-file", "-",
                     input=acesso.body)
        self.assertEqual((p.returncode, p.out.strip()), (1, "invalid"), explain(p))

        args = ["verify", "--kind", "standard", "--secret", whsec, "--id", std.headers.get("webhook-id", ""),
                "--timestamp", std.headers.get("webhook-timestamp", ""),
                "--signature", std.headers.get("webhook-signature", ""), "--body-file", "-"]
        p = self.ok(*args, input=std.body)
        self.assertEqual(p.out.strip(), "valid")
        p = self.cli(*args, input=std.body + b"x")
        self.assertEqual((p.returncode, p.out.strip()), (1, "invalid"), explain(p))


if __name__ == "__main__":
    unittest.main()
