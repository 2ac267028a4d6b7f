"""The HTTP edge as a hostile client sees it: every answer is valid UTF-8 whatever bytes came
in, an event id may hold an encoded "/", connection time limits cannot be dodged with empty
lines or a slow reader, --listen is checked, the database password never reaches the log, and
a small descriptor limit does not take the API down.

Raw-socket tests reuse test_http's Conn and request(). The time limits are shortened with the
hidden GANCHO_HTTP_*_MS variables so nothing waits a minute.
"""

import json
import os
import resource
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import harness as H
from test_http import Conn, request


def utf8_json(test, raw, what):
    """raw must decode as UTF-8 and parse as JSON; returns the value."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        test.fail("%s: the answer is not valid UTF-8 (%s): %r" % (what, e, raw[:300]))
    try:
        return json.loads(text)
    except ValueError as e:
        test.fail("%s: the answer is not JSON (%s): %r" % (what, e, raw[:300]))


class Utf8AnswersTest(H.GanchoTestCase):
    """Every answer gancho writes is valid UTF-8."""

    def raw_get(self, target, what):
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        c.sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                       + self.token.encode() + b"\r\n\r\n")
        return c.read_response(what)

    def test_path_with_invalid_utf8(self):
        for target in (b"/%ff%fe", b"/api/v1/%ff%fe", b"/api/v1/webhooks/%ff%fe", b"/\xff\xfe",
                       b"/api/v1/events/%c3", b"/api/v1/events/%ed%a0%80"):
            with self.subTest(target=target):
                r = self.raw_get(target, "GET %r" % target)
                # 400 or 404, never a store error: such bytes name nothing
                self.assertIn(r.status, (400, 404), "GET %r: %r" % (target, r))
                js = utf8_json(self, r.body, "GET %r" % target)
                self.assertIsInstance(js.get("error", {}).get("message"), str, "GET %r: %r" % (target, js))

    def test_query_with_invalid_utf8(self):
        for q in ("event=%ff", "event=%c3", "webhookId=%ed%a0%80", "status=%fe"):
            with self.subTest(q=q):
                got = self.api("GET", "/api/v1/deliveries?" + q)
                self.assertStatus(got, 400, "GET /api/v1/deliveries?" + q)
                utf8_json(self, got[2], q)
        got = self.api("GET", "/api/v1/deliveries?event=" + H.urllib_quote("candidat\u00e9.x"))
        self.assertStatus(got, 200, "a UTF-8 query argument")

    def test_idempotency_key_not_utf8(self):
        # stored as text: on PostgreSQL such bytes failed the whole commit (503, "retry")
        body = json.dumps({"event": "candidate.hired", "data": {"a": 1}}).encode()
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        c.send(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.token.encode()
               + b"\r\nContent-Type: application/json\r\nIdempotency-Key: k\xff\xfe\r\nContent-Length: %d\r\n\r\n"
               % len(body) + body)
        r = c.read_response("POST with a non-UTF-8 Idempotency-Key")
        self.assertEqual(r.status, 400, "%r" % r)
        self.assertEqual(utf8_json(self, r.body, "Idempotency-Key")["error"]["code"], "invalid_field")
        self.post_event("candidate.hired", headers={"Idempotency-Key": "k-\u00e7".encode("utf-8").decode("latin-1")})

    def test_unknown_field_message_cut_on_a_character(self):
        # 2-byte characters after 0 or 1 ASCII byte: some byte cut (64 bytes in a retryPolicy
        # message, 256 in any message) lands inside one
        for key in ["\u00e9" * n for n in (31, 32, 33, 120, 127, 128, 200)] + \
                   ["x" + "\u00e9" * n for n in (31, 32, 33, 120, 127, 128, 200)]:
            body = {"postbackUrl": self.rx.url(), "action": "candidate.hired", key: 1}
            st, _, raw = self.api("POST", "/api/v1/webhooks", body)
            self.assertEqual(st, 400, "unknown field of %d chars: %r" % (len(key), raw[:300]))
            js = utf8_json(self, raw, "unknown webhook field of %d characters" % len(key))
            self.assertIn("unknown field", js["error"]["message"])
            self.assertNotIn("\ufffd", js["error"]["message"], "cut inside a character: %r" % js)
            body = {"postbackUrl": self.rx.url(), "action": "candidate.hired",
                    "retryPolicy": {"schedule": [1, 5], "deadlineSeconds": 60, key: 1}}
            st, _, raw = self.api("POST", "/api/v1/webhooks", body)
            self.assertEqual(st, 400, "unknown retryPolicy field of %d chars: %r" % (len(key), raw[:300]))
            js = utf8_json(self, raw, "unknown retryPolicy field of %d characters" % len(key))
            self.assertIn("unknown field", js["error"]["message"])
            self.assertNotIn("\ufffd", js["error"]["message"], "cut inside a character: %r" % js)

    def test_receiver_answer_cut_inside_a_character_is_text(self):
        # 400 euro signs, 3 bytes each: the 1 KiB excerpt ends one byte into the 342nd.
        self.rx.set(default=H.respond(200, ("\u20ac" * 400).encode("utf-8"),
                                      {"Content-Type": "text/plain; charset=utf-8"}))
        wh = self.create_webhook(action="candidate.hired")
        ev = self.post_event("candidate.hired")
        d = self.wait_delivery(wh["id"], ev["id"])
        atts = self.attempts_of(d["id"])
        self.assertEqual(len(atts), 1, "attempts: %r" % atts)
        resp = atts[0].get("response")
        self.assertIsInstance(resp, str)
        self.assertTrue(resp.startswith("\u20ac" * 300) and set(resp) == {"\u20ac"},
                        "a UTF-8 answer cut at 1 KiB must be shown as text, got %r" % (resp[:80],))


class EventIdPathTest(H.GanchoTestCase):
    """The path is split at its slashes before each segment is decoded."""

    def test_event_id_with_a_slash(self):
        for eid in ("a/b", "x/y/z-" + uuid.uuid4().hex[:6], "100%/sure"):
            with self.subTest(eid=eid):
                js = self.post_event("candidate.hired", id=eid)
                self.assertEqual(js["id"], eid)
                path = "/api/v1/events/" + H.urllib_quote(eid)
                ev = self.assertStatus(self.api("GET", path), 200, "GET " + path)
                self.assertEqual(ev.get("id"), eid)
        # the slashes of the path still separate segments
        st, _, raw = self.api("GET", "/api/v1/events/a/b")
        self.assertEqual(st, 404, "GET /api/v1/events/a/b is another route: %r" % raw[:200])

    def test_encoded_nul_or_broken_escape_is_400(self):
        for path in ("/api/v1/events/a%00b", "/api/v1/events/%00", "/api/v1/events/a%2", "/api/v1/events/%zz"):
            with self.subTest(path=path):
                got = self.api("GET", path)
                self.assertStatus(got, 400, "GET " + path)
                utf8_json(self, got[2], "GET " + path)


def _still_open_after(sock, seconds):
    """Read whatever comes for `seconds`; True when the server has not closed by then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return False
        except socket.timeout:
            return True
        except (ConnectionResetError, BrokenPipeError):
            return False
    return True


@unittest.skipUnless(H.backend() == "sqlite", "HTTP transport tests run once, on SQLite (the store does not matter)")
class ConnectionLimitsTest(H.GanchoTestCase):
    """Empty lines count toward the head time limit; an answer has its own write deadline."""

    HEAD_MS = 2000
    WRITE_MS = 2000

    @classmethod
    def setUpClass(cls):
        H.gancho_bin()
        cls.gancho = H.Gancho(env={"GANCHO_HTTP_HEAD_MS": str(cls.HEAD_MS),
                                   "GANCHO_HTTP_WRITE_MS": str(cls.WRITE_MS)})

    def connect(self, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(("127.0.0.1", self.g.port))
        self.addCleanup(s.close)
        return s

    def test_empty_lines_do_not_hold_a_connection(self):
        s = self.connect()
        start = time.monotonic()
        closed_at = None
        # one CRLF every 0.5 s: before, each reset the idle clock and no head clock ran
        while time.monotonic() - start < 8 * self.HEAD_MS / 1000:
            try:
                s.sendall(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic()
                break
            if not _still_open_after(s, 0.5):
                closed_at = time.monotonic()
                break
        self.assertIsNotNone(closed_at, "a client sending only empty lines kept the connection open %.1f s "
                             "(the head limit is %d ms)" % (time.monotonic() - start, self.HEAD_MS))
        self.assertTrue(self.g.alive())

    def test_a_few_empty_lines_before_a_request_are_fine(self):
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        c.send(b"\r\n\r\n" + request("GET", "/healthz"))
        r = c.read_response("GET /healthz after two empty lines")
        self.assertEqual(r.status, 200, "%r" % r)

    def test_many_empty_lines_are_refused(self):
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        c.send(b"\r\n" * 50 + request("GET", "/healthz"))
        r = c.read_response("GET /healthz after 50 empty lines")
        self.assertEqual(r.status, 400, "%r" % r)
        self.assertTrue(c.closed_within(5), "the connection must close after the 400")

    def test_trickle_after_a_refusal_does_not_hold_the_connection(self):
        # After a refused request gancho reads a little longer so the client gets its answer;
        # a byte every 0.5 s must not stretch that (before: until the 120 s request limit).
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        c.send(request("GET", "/healthz", [("Content-Length", "x")]))
        r = c.read_response("a malformed Content-Length")
        self.assertEqual(r.status, 400, "%r" % r)
        start = time.monotonic()
        closed = False
        # gancho half-closes at once (EOF here); a send fails once it has closed for good
        while time.monotonic() - start < 20:
            try:
                c.sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.5)
        self.assertTrue(closed, "a client trickling bytes after a refusal kept the connection %.1f s"
                        % (time.monotonic() - start))

    def test_slow_reader_is_closed(self):
        # A tiny receive window and many pipelined requests whose answers are never read fast:
        # the answers pile up unsent, and a client reading a byte now and then may not keep
        # the connection past the write deadline.
        s = self.connect(rcvbuf=2048)
        one = request("GET", "/healthz")
        # More answers than the kernel's socket buffers can hold, so some wait in gancho.
        c = Conn(self.g.port)
        c.send(one)
        answer_len = len(c.read_response("one /healthz").head) + 4 + len(b'{"status":"ok"}')
        c.close()
        wmem_max = 4 << 20
        try:
            with open("/proc/sys/net/ipv4/tcp_wmem") as f:
                wmem_max = int(f.read().split()[2])
        except (OSError, ValueError, IndexError):
            pass
        n = max(60000, (wmem_max + (3 << 20)) // answer_len)
        payload = one * n

        def send_all():
            try:
                s.sendall(payload)
            except OSError:
                pass
        t = threading.Thread(target=send_all, daemon=True)
        t.start()
        time.sleep(0.5)
        start = time.monotonic()
        got = 0
        closed = False
        s.settimeout(1.0)
        while time.monotonic() - start < 4 * self.WRITE_MS / 1000:
            try:
                b = s.recv(1)
            except socket.timeout:
                continue
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            got += 1
            time.sleep(0.1)
        if not closed:
            # drain at full speed: a server that closed has stopped short of all answers
            s.settimeout(5.0)
            data = b""
            try:
                while True:
                    b = s.recv(1 << 20)
                    if not b:
                        closed = True
                        break
                    data += b
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
            answers = data.count(b"HTTP/1.1 200")
            self.assertTrue(closed and answers < n,
                            "a reader taking a byte every 0.1 s was still served after %.1f s (write limit "
                            "%d ms): %d of %d answers came, closed=%s"
                            % (time.monotonic() - start, self.WRITE_MS, answers, n, closed))
        self.assertTrue(self.g.alive())
        st, _, _ = self.g.api("GET", "/healthz")
        self.assertEqual(st, 200)


class ListenAddressTest(unittest.TestCase):
    """--listen is checked before anything starts: a bad value is a usage error (exit 2)."""

    def run_serve(self, listen):
        d = tempfile.mkdtemp(prefix="gancho-listen-")
        env = dict(os.environ)
        env.pop("GANCHO_LISTEN", None)
        return subprocess.run([H.gancho_bin(), "serve", "--listen", listen, "--db", "sqlite:" + d + "/g.db"],
                              capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)

    def test_bad_listen_values(self):
        for listen in ("127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:0", "127.0.0.1:80a", "127.0.0.1:+80",
                       "127.0.0.1:-1", "127.0.0.1:", "127.0.0.1", ":8080", "::1:8080", "[::1:8080",
                       "[127.0.0.1]:8080", "[zz]:8080", "bad host:8080", "127.0.0.1:0x50"):
            with self.subTest(listen=listen):
                out = self.run_serve(listen)
                self.assertEqual(out.returncode, 2, "--listen %s: exit %d, stderr %r"
                                 % (listen, out.returncode, out.stderr[-400:]))
                self.assertIn("--listen", out.stderr)
                self.assertNotIn("msg=listening", out.stderr, "--listen %s was logged as listening" % listen)

    def test_good_listen_values(self):
        port = H.free_port()
        g = H.Gancho(start=False)
        self.addCleanup(g.close)
        g.port = port
        g.start()
        with open(g.log_path, "rb") as f:
            self.assertIn(("addr=127.0.0.1:%d" % port).encode(), f.read())
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.bind(("::1", 0))
            s6.close()
        except OSError:
            self.skipTest("no IPv6 loopback here")
        g6 = H.Gancho(start=False)
        self.addCleanup(g6.close)
        g6.args = []
        g6.command = lambda: [g6.bin, "serve", "--listen", "[::1]:%d" % g6.port, "--db", g6.db, "--dev"]
        g6.proc = subprocess.Popen(g6.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=dict(os.environ, GANCHO_ADMIN_TOKEN="x"))
        ok = False
        for _ in range(100):
            try:
                socket.create_connection(("::1", g6.port), timeout=1).close()
                ok = True
                break
            except OSError:
                time.sleep(0.1)
        self.assertTrue(ok, "gancho serve --listen [::1]:PORT does not listen there")


class PasswordNotLoggedTest(unittest.TestCase):
    """The database password never reaches a log line or an error message."""

    SECRET = "Sekr3tPw"

    def serve_fails(self, db):
        env = dict(os.environ)
        env.pop("GANCHO_DB", None)
        out = subprocess.run([H.gancho_bin(), "serve", "--listen", "127.0.0.1:%d" % H.free_port(), "--db", db],
                             capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        self.assertNotEqual(out.returncode, 0, "gancho started on %s" % db)
        return out.stdout + out.stderr

    def test_connect_errors_hide_the_password(self):
        port = H.free_port()  # nothing listens there
        for db in ("postgres://gancho:%s@127.0.0.1:%d/g" % (self.SECRET, port),
                   "postgres://gancho:%s%%zz@127.0.0.1:%d/g" % (self.SECRET, port),
                   "postgresql://127.0.0.1:%d/g?user=gancho&password=%s" % (port, self.SECRET),
                   "postgresql://127.0.0.1:%d/g?password=%s%%zz" % (port, self.SECRET)):
            with self.subTest(db=db):
                text = self.serve_fails(db)
                self.assertNotIn(self.SECRET, text, "the password reached the output: %r" % text[-600:])
        out = subprocess.run([H.gancho_bin(), "company", "create", "ACME", "--db",
                              "postgres://gancho:%s%%zz@127.0.0.1:%d/g" % (self.SECRET, port)],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn(self.SECRET, out.stdout + out.stderr)

    def test_cli_server_url_hides_the_password(self):
        port = H.free_port()
        out = subprocess.run([H.gancho_bin(), "deliveries", "--url", "http://u:%s@127.0.0.1:%d" % (self.SECRET, port),
                              "--token", "t"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn(self.SECRET, out.stdout + out.stderr)

    @unittest.skipUnless(H.backend() == "postgres", "needs a PostgreSQL server")
    def test_listening_line_hides_the_password(self):
        import urllib.parse
        import pg
        url = pg.new_database()
        parts = urllib.parse.urlsplit(url)
        user = parts.username or "postgres"
        host = parts.hostname + (":%d" % parts.port if parts.port else "")
        q = parts.query + ("&" if parts.query else "") + "password=" + self.SECRET
        # trust authentication ignores the password; it must still not be logged
        db = urllib.parse.urlunsplit((parts.scheme, "%s:%s@%s" % (user, self.SECRET, host), parts.path, q, ""))
        g = H.Gancho(db=db)
        self.addCleanup(g.close)
        with open(g.log_path, "rb") as f:  # gancho's own lines (the harness logs the command)
            log = "\n".join(l for l in f.read().decode("utf-8", "replace").splitlines() if l.startswith("ts="))
        self.assertIn("msg=listening", log)
        self.assertNotIn(self.SECRET, log)
        self.assertIn("***", log)


class FdLimitTest(H.GanchoTestCase):
    """Under a small descriptor limit, hanging receivers cannot starve the API of descriptors."""

    gancho = None

    @classmethod
    def setUpClass(cls):
        H.gancho_bin()
        cls.gancho = None  # started per test, under the limit

    def test_small_nofile_limit(self):
        limit = 256

        def lower():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        g = H.Gancho(start=False)
        self.addCleanup(g.close)
        orig_popen = subprocess.Popen

        def popen(*a, **kw):
            kw["preexec_fn"] = lower
            return orig_popen(*a, **kw)
        subprocess.Popen = popen
        try:
            g.start()
        finally:
            subprocess.Popen = orig_popen
        self.g = g
        with open(g.log_path, "rb") as f:
            log = f.read().decode()
        self.assertIn("msg=fd_limit nofile=%d" % limit, log)
        _, self.token = g.create_company()
        self.rx.set(default=H.hang(30))
        for i in range(4):
            self.create_webhook(action="candidate.hired", path="/h%d" % i, concurrency=256)
        for i in range(120):
            self.post_event("candidate.hired", data={"i": i})
        # 480 deliveries want a socket each; the API must keep answering meanwhile
        time.sleep(2)
        for _ in range(20):
            st, _, raw = g.api("GET", "/healthz", timeout=10)
            self.assertEqual(st, 200, "healthz under a %d descriptor limit: %r" % (limit, raw[:200]))
            st, _, raw = g.api("GET", "/api/v1/deliveries?limit=5", token=self.token, timeout=10)
            self.assertEqual(st, 200, "%r" % raw[:200])
            time.sleep(0.1)
        self.assertLessEqual(self.rx.inflight, limit, "more requests in flight than descriptors")
        self.assertTrue(g.alive())


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@unittest.skipUnless(H.backend() == "sqlite", "scripts/run is the SQLite quick start")
class ScriptRunTest(unittest.TestCase):
    """scripts/run's company and quick-start part (GANCHO_RUN_BIN skips installing and building),
    run from a copy so the checkout's .gancho-quickstart is left alone."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gancho-run-")
        os.mkdir(os.path.join(self.dir, "scripts"))
        for f in ("run", "deps.sh"):
            with open(os.path.join(REPO, "scripts", f), "rb") as src, \
                    open(os.path.join(self.dir, "scripts", f), "wb") as dst:
                dst.write(src.read())
        os.chmod(os.path.join(self.dir, "scripts", "run"), 0o755)
        self.qs = os.path.join(self.dir, ".gancho-quickstart")

    def run_script(self, args=(), listen=None, expect_start=True):
        """Run scripts/run; returns (banner text, port) once it serves, or (output, None)
        when it exits. The server is stopped at cleanup."""
        env = dict(os.environ, GANCHO_RUN_BIN=H.gancho_bin(), GANCHO_DB="sqlite:./gancho.db",
                   GANCHO_ADMIN_TOKEN="adm_" + uuid.uuid4().hex)
        env.pop("GANCHO_LISTEN", None)
        env.pop("GANCHO_URL", None)
        if listen:
            env["GANCHO_LISTEN"] = listen
        out_path = os.path.join(self.dir, "out-%s.txt" % uuid.uuid4().hex[:6])
        out = open(out_path, "wb")
        self.addCleanup(out.close)
        p = subprocess.Popen([os.path.join(self.dir, "scripts", "run")] + list(args), stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd="/")

        def stop():
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        self.addCleanup(stop)

        def text():
            with open(out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        if not expect_start:
            p.wait(60)
            return text(), p.returncode
        port = int((args[args.index("--listen") + 1] if "--listen" in args else listen).rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.assertIsNone(p.poll(), "scripts/run exited %s:\n%s" % (p.returncode, text()))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.fail("scripts/run did not start serving on %d:\n%s" % (port, text()))
        self.procs = getattr(self, "procs", []) + [p]
        return text(), p

    def banner_token(self, banner):
        for line in banner.splitlines():
            if "export GANCHO_TOKEN=" in line:
                return line.split("GANCHO_TOKEN=", 1)[1].split()[0]
        self.fail("no GANCHO_TOKEN in the banner:\n%s" % banner)

    def api_ok(self, port, token):
        g = H.Gancho(start=False)
        self.addCleanup(g.close)
        g.port = port
        st, _, raw = g.api("GET", "/api/v1/deliveries", token=token)
        return st

    def test_listen_url_and_token(self):
        port = H.free_port()
        banner, p = self.run_script(listen="127.0.0.1:%d" % port)
        self.assertIn("http://127.0.0.1:%d" % port, banner)
        self.assertIn("GANCHO_URL=http://127.0.0.1:%d" % port, banner,
                      "with GANCHO_LISTEN set the printed commands must go there:\n%s" % banner)
        token = self.banner_token(banner)
        self.assertTrue(token.startswith("gch_"), banner)
        self.assertEqual(self.api_ok(port, token), 200)
        p.terminate()
        self.assertEqual(p.wait(30), 0)

        # --listen ADDR on the command line wins, in the banner too; the token is reused
        port2 = H.free_port()
        banner, p = self.run_script(args=["--listen", "127.0.0.1:%d" % port2])
        self.assertIn("starting on http://127.0.0.1:%d" % port2, banner)
        self.assertIn("GANCHO_URL=http://127.0.0.1:%d" % port2, banner)
        self.assertNotIn(":8080", banner)
        self.assertEqual(self.banner_token(banner), token)
        self.assertEqual(self.api_ok(port2, token), 200)
        p.terminate()
        p.wait(30)

    def test_existing_company_without_quickstart_file(self):
        port = H.free_port()
        banner, p = self.run_script(listen="127.0.0.1:%d" % port)
        token = self.banner_token(banner)
        p.terminate()
        p.wait(30)
        os.unlink(self.qs)
        # the company exists in gancho.db but its token is gone: a clear failure, no empty file
        for _ in range(2):
            out, rc = self.run_script(listen="127.0.0.1:%d" % port, expect_start=False)
            self.assertNotEqual(rc, 0, "scripts/run must not start with no token:\n%s" % out)
            self.assertIn("GANCHO_COMPANY", out)
            self.assertFalse(os.path.exists(self.qs), "an empty %s was left behind" % self.qs)
            self.assertNotIn("GANCHO_TOKEN= ", out)
        # another company name works, and gets a token of its own
        os.environ["GANCHO_COMPANY"] = "Other"
        try:
            banner, p = self.run_script(listen="127.0.0.1:%d" % port)
        finally:
            del os.environ["GANCHO_COMPANY"]
        token2 = self.banner_token(banner)
        self.assertNotEqual(token2, token)
        self.assertEqual(self.api_ok(port, token2), 200)
        with open(self.qs) as f:
            self.assertIn("token=" + token2, f.read())


if __name__ == "__main__":
    unittest.main()
