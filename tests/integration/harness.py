"""Integration test harness for gancho (Python 3 standard library only).

Real parts only: the real gancho binary (env GANCHO_BIN), a real SQLite file in a
temporary directory, real HTTP receivers on 127.0.0.1.

- Receiver: a programmable HTTP server that records every request.
- Gancho: one gancho process (start, api calls, kill -9, SIGTERM, restart).
- wait_until: poll with a deadline.
- GanchoTestCase: one Gancho per test class, a fresh company and a fresh Receiver
  per test, the gancho log tail printed when a test fails.
"""

import base64
import hashlib
import hmac
import io
import http.client
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.environ.get("GANCHO_TEST_DATA") or os.path.normpath(os.path.join(HERE, "..", "data"))

DATE_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

GUPY_EVENTS = [
    "application.created", "application.completed", "application.moved",
    "application.assigned", "application.pre-hiring-information-filled",
    "candidate.hired", "job.published", "job.status-changed", "job.changed",
    "pre-employee.moved",
]
ACESSO_EVENTS = [
    "position-created", "position-applied", "position-completed",
    "position-archived", "position-declined",
]

# A short retry policy for tests: retry every 0.3 s for 2 s.
FAST_RETRY = {"schedule": [1], "deadlineSeconds": 3}


def data_path(name):
    return os.path.join(DATA_DIR, name)


def read_data(name):
    """Bytes of a file in tests/data (fails clearly when it is absent)."""
    path = data_path(name)
    if not os.path.isfile(path):
        raise AssertionError("test data file %s is missing (GANCHO_TEST_DATA=%s)" % (path, DATA_DIR))
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# polling

def wait_until(fn, timeout=10.0, interval=0.05, message=None):
    """Call fn() until it returns a truthy value; return that value.
    Raise AssertionError (with message and fn's last value) after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except AssertionError:
            raise
        except Exception as e:  # connection errors while a server restarts, etc.
            last_exc = e
        if time.monotonic() >= deadline:
            detail = "last value: %r" % (last,)
            if last_exc is not None:
                detail += "; last exception: %r" % (last_exc,)
            raise AssertionError("%s (waited %.1f s; %s)" % (message or "condition not met", timeout, detail))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# receiver

class CIDict(dict):
    """Case-insensitive header dict: keys stored lower-case; get/[]/in are case-insensitive.
    A repeated header keeps its values joined with ', ' (use Request.header_list for all)."""

    def __init__(self, pairs=()):
        super().__init__()
        for k, v in pairs:
            k = k.lower()
            if k in self:
                super().__setitem__(k, dict.__getitem__(self, k) + ", " + v)
            else:
                super().__setitem__(k, v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


class Request:
    """One request the receiver got."""

    def __init__(self, index, path_index, method, path, raw_headers, body, at, mono, client):
        self.index = index            # 0-based, over all paths
        self.path_index = path_index  # 0-based, among requests to the same path
        self.method = method
        self.path = path
        self.raw_headers = raw_headers  # [(name, value)] as received
        self.headers = CIDict(raw_headers)
        self.body = body                # raw bytes
        self.at = at                    # time.time() when the request (with body) was read
        self.mono = mono                # time.monotonic() at the same moment
        self.client = client            # (host, port) of the connection
        self.response_status = None     # what the receiver answered (None: no answer)

    def header_list(self, name):
        name = name.lower()
        return [v for k, v in self.raw_headers if k.lower() == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def event_id(self):
        try:
            return self.json().get("id")
        except Exception:
            return None

    def __repr__(self):
        return "<Request #%d %s %s %d bytes id=%s -> %s>" % (
            self.index, self.method, self.path, len(self.body), self.event_id(), self.response_status)


class Action:
    def __init__(self, kind, status=200, body=b"", headers=None, seconds=0.0, location=None):
        self.kind = kind
        self.status = status
        self.body = body if isinstance(body, bytes) else str(body).encode("utf-8")
        self.headers = dict(headers or {})
        self.seconds = seconds
        self.location = location

    def __repr__(self):
        return "Action(%s, %s)" % (self.kind, self.status if self.kind != "hang" else self.seconds)


def respond(status=200, body=b"", headers=None):
    """Answer status with body and headers."""
    return Action("respond", status=status, body=body, headers=headers)


def hang(seconds):
    """Read the request, never answer for `seconds` (then close without answering)."""
    return Action("hang", seconds=seconds)


def reset():
    """Read the request, then close the socket with SO_LINGER 0 (TCP RST), no answer."""
    return Action("reset")


def slow(seconds, status=200, body=b"", headers=None):
    """Wait `seconds`, then answer status."""
    return Action("slow", status=status, body=body, headers=headers, seconds=seconds)


def redirect(path="/redirected", status=302):
    """Answer 302 with Location to another path of the same receiver."""
    return Action("redirect", status=status, location=path)


OK = respond(200, b'{"ok":true}', {"Content-Type": "application/json"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gancho-test-receiver"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        rx = self.server.receiver
        body = self._read_body()
        req = rx._record(self.command, self.path, list(self.headers.items()), body, self.client_address)
        rx._enter()
        self._left = False
        try:
            action = rx._action_for(req)
            self._perform(action, req)
        finally:
            self._leave()

    def _leave(self):
        # Called just before the answer is written (so a client that sends its next
        # request as soon as it has the answer is never seen as concurrent), or at the end.
        if not self._left:
            self._left = True
            self.server.receiver._leave()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _send(self, status, body, headers):
        self._leave()
        self.send_response(status)
        has_ct = False
        for k, v in headers.items():
            if k.lower() == "content-length":
                continue
            if k.lower() == "content-type":
                has_ct = True
            self.send_header(k, v)
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            if body and not has_ct:
                self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _perform(self, action, req):
        rx = self.server.receiver
        kind = action.kind
        if kind == "respond":
            req.response_status = action.status
            self._send(action.status, action.body, action.headers)
        elif kind == "slow":
            rx._closing.wait(action.seconds)
            req.response_status = action.status
            self._send(action.status, action.body, action.headers)
        elif kind == "redirect":
            req.response_status = action.status
            self._send(action.status, b"", {"Location": rx.url(action.location)})
        elif kind == "hang":
            req.response_status = None
            rx._closing.wait(action.seconds)
            self.close_connection = True
        elif kind == "reset":
            req.response_status = None
            self.close_connection = True
            self._rst()
        else:
            raise ValueError("unknown receiver action %r" % (kind,))

    def _rst(self):
        conn = self.connection
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # Drop the makefile() references first, so close() really closes the fd (→ RST).
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except Exception:
                pass
        try:
            conn.close()
        except OSError:
            pass
        self.wfile = io.BytesIO()  # handle_one_request() flushes wfile after us


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Peers (gancho) close connections at will (timeouts, kills): not an error here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class Receiver:
    """A recording HTTP receiver on 127.0.0.1 with programmable answers.

    behaviour: default Action (respond(200) when None) or a callable(req) -> Action.
    script: list of Actions for the first requests (by global index), or a callable
            (index, req) -> Action | None (None: use the default).
    """

    def __init__(self, default=None, script=None):
        self.default = default if default is not None else OK
        self.script = script
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._path_counts = {}
        self._inflight = 0
        self.max_inflight = 0
        self._closing = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.receiver = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="receiver-%d" % self.port, daemon=True)
        self._thread.start()

    # -- configuration
    def set(self, default=None, script=None):
        """Change the behaviour (for requests arriving from now on)."""
        with self._lock:
            if default is not None:
                self.default = default
            self.script = script

    def url(self, path="/hook"):
        if path.startswith("http://"):
            return path
        if not path.startswith("/"):
            path = "/" + path
        return "http://127.0.0.1:%d%s" % (self.port, path)

    # -- internals used by the handler
    def _record(self, method, path, raw_headers, body, client):
        with self._cond:
            idx = len(self._requests)
            pidx = self._path_counts.get(path, 0)
            self._path_counts[path] = pidx + 1
            req = Request(idx, pidx, method, path, raw_headers, body, time.time(), time.monotonic(), client)
            self._requests.append(req)
            self._cond.notify_all()
            return req

    def _enter(self):
        with self._lock:
            self._inflight += 1
            self.max_inflight = max(self.max_inflight, self._inflight)

    def _leave(self):
        with self._lock:
            self._inflight -= 1

    def _action_for(self, req):
        with self._lock:
            script, default = self.script, self.default
        action = None
        if script is not None:
            if callable(script):
                action = script(req.index, req)
            elif req.index < len(script):
                action = script[req.index]
        if action is None:
            action = default(req) if callable(default) else default
        return action

    # -- inspection
    @property
    def requests(self):
        """A snapshot (list) of the requests received so far."""
        with self._lock:
            return list(self._requests)

    def count(self, path=None):
        with self._lock:
            return sum(1 for r in self._requests if path is None or r.path == path)

    @property
    def inflight(self):
        with self._lock:
            return self._inflight

    def wait_for(self, count, timeout=10.0, path=None, pred=None):
        """Wait until at least `count` requests (to `path`, matching pred) arrived; return them.
        Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout

        def matching():
            return [r for r in self._requests
                    if (path is None or r.path == path) and (pred is None or pred(r))]

        with self._cond:
            while True:
                got = matching()
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "receiver :%d got %d matching request(s) (path=%s), wanted %d within %.1f s; all: %r"
                        % (self.port, len(got), path, count, timeout, self._requests[-20:]))
                self._cond.wait(min(left, 0.2))

    def wait_ids(self, ids, timeout=10.0, path=None):
        """Wait until every event id in ids was received at least once; return {id: [Request]}."""
        want = set(ids)

        def seen():
            out = {}
            for r in self.requests:
                if path is not None and r.path != path:
                    continue
                eid = r.event_id()
                if eid in want:
                    out.setdefault(eid, []).append(r)
            return out

        deadline = time.monotonic() + timeout
        while True:
            got = seen()
            if len(got) == len(want):
                return got
            if time.monotonic() >= deadline:
                missing = sorted(want - set(got))
                raise AssertionError("receiver :%d did not get %d of %d event(s) within %.1f s; missing e.g. %s"
                                     % (self.port, len(missing), len(want), timeout, missing[:5]))
            with self._cond:
                self._cond.wait(0.1)

    def clear(self):
        """Forget recorded requests and the concurrency maximum."""
        with self._lock:
            self._requests = []
            self._path_counts = {}
            self.max_inflight = self._inflight

    def summary(self, n=20):
        reqs = self.requests
        return "receiver :%d, %d request(s), max in flight %d; last: %r" % (
            self.port, len(reqs), self.max_inflight, reqs[-n:])

    def close(self):
        self._closing.set()
        try:
            self.server.shutdown()
        except Exception:
            pass
        self.server.server_close()
        self._thread.join(5)


# ---------------------------------------------------------------------------
# gancho process

class GanchoNotConfigured(Exception):
    pass


def gancho_bin():
    path = os.environ.get("GANCHO_BIN")
    if not path:
        raise GanchoNotConfigured(
            "GANCHO_BIN is not set: point it at the gancho binary (ctest sets it), e.g. "
            "GANCHO_BIN=/path/to/build/gancho python3 -m unittest -v test_x")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise GanchoNotConfigured("GANCHO_BIN=%s is not an executable file" % path)
    return path


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


_NO_TOKEN = object()


def backend():
    """The store the suite runs against: GANCHO_TEST_BACKEND=sqlite (default) or postgres."""
    return os.environ.get("GANCHO_TEST_BACKEND", "sqlite")


class Gancho:
    """One gancho server process on 127.0.0.1 with a fresh database: a SQLite file in a
    temp dir, or with GANCHO_TEST_BACKEND=postgres a new database on the test cluster.
    Pass db= to share one database between several processes (a cluster)."""

    def __init__(self, args=(), env=None, dev=True, admin_token=None, start=True, ready_timeout=20.0,
                 db=None):
        self.bin = gancho_bin()
        self.args = list(args)
        self.dev = dev
        self.admin_token = admin_token if admin_token is not None else "adm_" + uuid.uuid4().hex
        self.extra_env = dict(env or {})
        self.dir = tempfile.mkdtemp(prefix="gancho-it-")
        self.db_path = os.path.join(self.dir, "gancho.db")
        if db is None:
            if backend() == "postgres":
                import pg
                db = pg.new_database()
            else:
                db = "sqlite:" + self.db_path
        self.db = db
        self.log_path = os.path.join(self.dir, "gancho.log")
        self.port = free_port()
        self.proc = None
        self.ready_timeout = ready_timeout
        self._saved_tail = None
        self.starts = 0
        if start:
            self.start()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def command(self):
        cmd = [self.bin, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", self.db]
        if self.dev:
            cmd.append("--dev")
        return cmd + self.args

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("gancho already running (pid %d)" % self.proc.pid)
        env = dict(os.environ)
        env.pop("GANCHO_LISTEN", None)
        env.pop("GANCHO_DB", None)
        if self.admin_token == "":
            env.pop("GANCHO_ADMIN_TOKEN", None)
        else:
            env["GANCHO_ADMIN_TOKEN"] = self.admin_token
        env.update(self.extra_env)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("\n===== start #%d: %s\n" % (self.starts, " ".join(self.command()))).encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=env, cwd=self.dir)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=None):
        timeout = timeout or self.ready_timeout
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError("gancho exited with code %s before /healthz answered; log tail:\n%s"
                                     % (rc, self.log_tail()))
            try:
                status, _, _ = self.api("GET", "/healthz", timeout=2)
                if status == 200:
                    return
                last = "status %d" % status
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError("gancho not ready within %.0f s (last: %s); log tail:\n%s"
                             % (timeout, last, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- HTTP
    def api(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
        """One HTTP call. body: a JSON-able value; raw: bytes/str sent as is.
        token: a Bearer token (None: no Authorization header).
        Returns (status, parsed JSON or None, raw body bytes)."""
        status, _hdrs, parsed, data = self.api_full(method, path, body, token, headers, raw, timeout)
        return status, parsed, data

    def api_full(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
        h = {}
        payload = None
        if raw is not None:
            payload = raw.encode("utf-8") if isinstance(raw, str) else raw
            h["Content-Type"] = "application/json"
        elif body is not None:
            payload = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        if token is not None and token is not _NO_TOKEN:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = CIDict(resp.getheaders())
            status = resp.status
        finally:
            conn.close()
        parsed = None
        if data:
            try:
                parsed = json.loads(data.decode("utf-8"))
            except ValueError:
                parsed = None
        return status, hdrs, parsed, data

    def post_raw_streaming(self, path, header_lines, body, token=None, timeout=30):
        """POST a (large) body over a raw socket, reading an early answer if the server
        answers before the whole body is sent. Returns (status, raw answer body) or
        raises AssertionError when no HTTP answer could be read."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % self.port,
                    "Content-Type: application/json", "Content-Length: %d" % len(body),
                    "Connection: close"]
            if token:
                head.append("Authorization: Bearer " + token)
            head += list(header_lines)
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            view = memoryview(body)
            sent = 0
            send_error = None
            while sent < len(body):
                r, _, _ = select.select([s], [], [], 0)
                if r:
                    break  # an early answer
                try:
                    sent += s.send(view[sent:sent + 65536])
                except OSError as e:
                    send_error = e
                    break
            buf = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    if b"\r\n\r\n" in buf:
                        hdr, _, rest = buf.partition(b"\r\n\r\n")
                        cl = None
                        for line in hdr.split(b"\r\n")[1:]:
                            k, _, v = line.partition(b":")
                            if k.strip().lower() == b"content-length":
                                cl = int(v.strip())
                        if cl is not None and len(rest) >= cl:
                            break
            except OSError as e:
                if not buf:
                    raise AssertionError("no HTTP answer to a %d-byte body (sent %d bytes, send error %r, "
                                         "recv error %r)" % (len(body), sent, send_error, e))
            if not buf.startswith(b"HTTP/"):
                raise AssertionError("no HTTP answer to a %d-byte body (sent %d bytes, send error %r, got %r)"
                                     % (len(body), sent, send_error, buf[:200]))
            status = int(buf.split(b" ", 2)[1])
            return status, buf.partition(b"\r\n\r\n")[2]
        finally:
            s.close()

    def admin(self, method, path, body=None):
        return self.api(method, path, body=body, token=self.admin_token)

    def create_company(self, name=None, event_types=None):
        """Create a company with the admin API; returns (id, token)."""
        name = name or "co-" + uuid.uuid4().hex[:12]
        body = {"name": name}
        if event_types is not None:
            body["eventTypes"] = event_types
        status, js, raw = self.admin("POST", "/api/v1/companies", body)
        if status != 201 or not isinstance(js, dict) or "token" not in js:
            raise AssertionError("POST /api/v1/companies %r -> %d %r (expected 201 with id and token)"
                                 % (body, status, raw[:500]))
        return js["id"], js["token"]

    # -- process control
    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def terminate(self, timeout=20):
        """SIGTERM and wait; returns the exit code. AssertionError if it does not exit in time."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("gancho did not exit within %d s of SIGTERM; log tail:\n%s"
                                 % (timeout, self.log_tail()))

    def restart(self):
        """Start again on the same db and port (stopping it first with SIGTERM if it runs)."""
        if self.alive():
            self.terminate()
        self.start()
        return self

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 64 * 1024))
                text = f.read().decode("utf-8", "replace")
            return "\n".join(text.splitlines()[-lines:])
        except OSError:
            return self._saved_tail or "(no log)"

    def close(self):
        """Stop the process (SIGTERM, then SIGKILL) and remove the temp dir.

        A gancho that was still running must exit 0 on SIGTERM, and no log of
        this instance may hold a sanitizer report (leaks are reported at exit):
        otherwise AssertionError, so a leak or undefined behaviour fails the test.
        """
        problem = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                code = self.proc.wait(30)
                if code != 0:
                    problem = "gancho exited %s on SIGTERM (expected 0)" % code
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                problem = "gancho did not exit within 30 s of SIGTERM"
        self._saved_tail = self.log_tail(120)
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                i = text.index(marker)
                problem = (problem or "") + "\nsanitizer report in gancho's log:\n" + text[max(0, i - 200):i + 3000]
                break
        if os.environ.get("GANCHO_KEEP_TMP") or problem:
            sys.stderr.write("keeping %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if problem:
            raise AssertionError(problem)


# ---------------------------------------------------------------------------
# signatures and envelopes (receiver-side verification, independent of gancho)

def basic_header(user, password):
    return "basic " + base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


def acesso_signature(secret, body):
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def new_whsec():
    return "whsec_" + base64.b64encode(os.urandom(32)).decode("ascii")


def standard_signature(secret, msg_id, ts, body):
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    signed = msg_id.encode("utf-8") + b"." + str(ts).encode("ascii") + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def standard_valid_signatures(secret, msg_id, ts, body, header):
    """The entries of a webhook-signature header that are valid under secret."""
    want = standard_signature(secret, msg_id, ts, body)
    return [s for s in header.split() if hmac.compare_digest(s, want)]


def split_envelope(body):
    """Split a delivered JSON object into [(key, raw value bytes)] in wire order.
    The raw value bytes are exactly the bytes of the body (no re-serialisation)."""
    text = body.decode("utf-8")
    dec = json.JSONDecoder()
    out = []
    i = 0
    n = len(text)

    def ws(j):
        while j < n and text[j] in " \t\r\n":
            j += 1
        return j

    i = ws(i)
    if i >= n or text[i] != "{":
        raise ValueError("body is not a JSON object: %r" % body[:80])
    i = ws(i + 1)
    if i < n and text[i] == "}":
        return out
    while True:
        key, j = dec.raw_decode(text, i)
        j = ws(j)
        if text[j] != ":":
            raise ValueError("expected ':' at %d" % j)
        j = ws(j + 1)
        _, k = dec.raw_decode(text, j)
        out.append((key, text[j:k].encode("utf-8")))
        k = ws(k)
        if text[k] == ",":
            i = ws(k + 1)
            continue
        if text[k] == "}":
            if ws(k + 1) != n:
                raise ValueError("trailing bytes after the envelope")
            return out
        raise ValueError("expected ',' or '}' at %d" % k)


def event_body(event, data_raw, **fields):
    """A POST /api/v1/events body built by concatenation, so that the data bytes are
    exactly data_raw (bytes or str)."""
    if isinstance(data_raw, str):
        data_raw = data_raw.encode("utf-8")
    head = {"event": event}
    head.update(fields)
    prefix = json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8")  # without the closing brace
    return prefix + b', "data": ' + data_raw + b"}"


# ---------------------------------------------------------------------------
# test case base

class GanchoTestCase(unittest.TestCase):
    """One Gancho per class (started lazily in setUpClass), and per test a fresh
    company (self.token) and a fresh Receiver (self.rx). Prints the gancho log tail
    and the receiver summary when a test fails."""

    gancho_args = ()
    gancho_dev = True
    gancho_env = None  # extra environment for the class's gancho
    gancho = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gancho_bin()  # fail clearly when GANCHO_BIN is not usable
        cls.gancho = Gancho(args=cls.gancho_args, dev=cls.gancho_dev, env=cls.gancho_env)

    @classmethod
    def tearDownClass(cls):
        if cls.gancho is not None:
            cls.gancho.close()
            cls.gancho = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self._ganchos = [self.gancho] if self.gancho is not None else []
        self._receivers = []
        self.rx = self.new_receiver()
        self.g = self.gancho
        if self.g is not None:
            if not self.g.alive():
                self.fail("the class's gancho is not running (exit %s); log tail:\n%s"
                          % (self.g.proc.returncode, self.g.log_tail()))
            self.company_name = "ACME-" + uuid.uuid4().hex[:10]
            self.company_id, self.token = self.g.create_company(self.company_name)

    # -- resources owned by one test
    def new_receiver(self, default=None, script=None):
        rx = Receiver(default=default, script=script)
        self._receivers.append(rx)
        self.addCleanup(rx.close)
        return rx

    def new_gancho(self, args=(), dev=True, **kw):
        g = Gancho(args=args, dev=dev, **kw)
        self._ganchos.append(g)
        self.addCleanup(g.close)
        return g

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            parts = ["\n----- diagnostics for %s -----" % self.id()]
            for g in getattr(self, "_ganchos", []):
                parts.append("gancho :%d (%s) log tail:\n%s" % (g.port, " ".join(g.args), g.log_tail()))
            for rx in getattr(self, "_receivers", []):
                parts.append(rx.summary())
            sys.stderr.write("\n".join(parts) + "\n----- end of diagnostics -----\n")
        return out

    # -- API helpers (company token by default)
    def api(self, method, path, body=None, token=_NO_TOKEN, g=None, headers=None, raw=None):
        g = g or self.g
        if token is _NO_TOKEN:
            token = self.token
        return g.api(method, path, body=body, token=token, headers=headers, raw=raw)

    def assertStatus(self, got, status, what, code=None):
        st, js, raw = got
        self.assertEqual(st, status, "%s: expected HTTP %d, got %d: %r" % (what, status, st, raw[:600]))
        if code is not None:
            self.assertErrorCode(got, code, what)
        return js

    def assertErrorCode(self, got, codes, what):
        st, js, raw = got
        if isinstance(codes, str):
            codes = (codes,)
        ok = (isinstance(js, dict) and isinstance(js.get("error"), dict)
              and js["error"].get("code") in codes and isinstance(js["error"].get("message"), str))
        self.assertTrue(ok, "%s: expected an error body {\"error\": {\"code\": one of %s, \"message\": …}}, got %d %r"
                        % (what, list(codes), st, raw[:600]))

    def create_webhook(self, token=_NO_TOKEN, g=None, path="/hook", rx=None, **fields):
        body = dict(fields)
        if "postbackUrl" not in body and "url" not in body:
            body["postbackUrl"] = (rx or self.rx).url(path)
        if "action" not in body and "events" not in body:
            body["action"] = "candidate.hired"
        got = self.api("POST", "/api/v1/webhooks", body, token=token, g=g)
        js = self.assertStatus(got, 201, "POST /api/v1/webhooks %s" % json.dumps(body)[:300])
        self.assertIsInstance(js, dict)
        self.assertIn("id", js, "webhook answer without id: %r" % (js,))
        return js

    def post_event(self, event="candidate.hired", data=None, token=_NO_TOKEN, g=None, headers=None,
                   data_raw=None, **fields):
        """POST /api/v1/events; asserts 202; returns the answer {id, date}."""
        if data_raw is not None:
            raw = event_body(event, data_raw, **fields)
            got = self.api("POST", "/api/v1/events", raw=raw, token=token, g=g, headers=headers)
        else:
            body = {"event": event, "data": data if data is not None else {"n": 1}}
            body.update(fields)
            got = self.api("POST", "/api/v1/events", body, token=token, g=g, headers=headers)
        js = self.assertStatus(got, 202, "POST /api/v1/events (%s)" % event)
        self.assertTrue(isinstance(js, dict) and "id" in js and "date" in js,
                        "event answer must be {id, date}: %r" % (got[2][:300],))
        return js

    def list_all(self, path, token=_NO_TOKEN, g=None, limit=500):
        """Every item of a paginated list (follows nextCursor)."""
        items = []
        cursor = None
        sep = "&" if "?" in path else "?"
        for _ in range(1000):
            url = "%s%slimit=%d" % (path, sep, limit)
            if cursor:
                url += "&cursor=" + urllib_quote(cursor)
            got = self.api("GET", url, token=token, g=g)
            js = self.assertStatus(got, 200, "GET " + url)
            self.assertTrue(isinstance(js, dict) and isinstance(js.get("data"), list) and "nextCursor" in js,
                            "GET %s: a list must be {data: [...], nextCursor}: %r" % (url, got[2][:300]))
            items.extend(js["data"])
            cursor = js["nextCursor"]
            if not cursor:
                return items
        self.fail("GET %s: pagination did not end" % path)

    def deliveries(self, webhook_id=None, status=None, event=None, token=_NO_TOKEN, g=None):
        q = []
        if webhook_id:
            q.append("webhookId=" + urllib_quote(webhook_id))
        if status:
            q.append("status=" + status)
        if event:
            q.append("event=" + urllib_quote(event))
        return self.list_all("/api/v1/deliveries" + ("?" + "&".join(q) if q else ""), token=token, g=g)

    def delivery_for(self, webhook_id, event_id, g=None):
        for d in self.deliveries(webhook_id, g=g):
            if d.get("eventId") == event_id:
                return d
        return None

    def get_delivery(self, delivery_id, g=None):
        got = self.api("GET", "/api/v1/deliveries/%s" % (delivery_id,), g=g)
        return self.assertStatus(got, 200, "GET /api/v1/deliveries/%s" % (delivery_id,))

    def wait_delivery(self, webhook_id, event_id, status="delivered", timeout=10, g=None):
        """Poll until the delivery (webhook, event) has `status`; returns the full delivery
        (GET /api/v1/deliveries/{id}, with attempts)."""
        last = {}

        def check():
            d = self.delivery_for(webhook_id, event_id, g=g)
            last["d"] = d
            return d if d and d.get("status") == status else None

        try:
            d = wait_until(check, timeout, 0.1)
        except AssertionError:
            self.fail("delivery of event %s to webhook %s did not become %r within %s s; last: %r"
                      % (event_id, webhook_id, status, timeout, last.get("d")))
        return self.get_delivery(d["id"], g=g)

    def attempts_of(self, delivery_id, g=None):
        """The attempts of a delivery, oldest first (GET …/attempts, all pages)."""
        return self.list_all("/api/v1/deliveries/%s/attempts" % delivery_id, g=g)

    def webhook(self, webhook_id, g=None):
        got = self.api("GET", "/api/v1/webhooks/%s" % (webhook_id,), g=g)
        return self.assertStatus(got, 200, "GET /api/v1/webhooks/%s" % (webhook_id,))

    def wait_webhook_status(self, webhook_id, status, timeout=10, g=None):
        return wait_until(lambda: (lambda w: w if w.get("status") == status else None)(self.webhook(webhook_id, g=g)),
                          timeout, 0.1, "webhook %s did not become %r" % (webhook_id, status))

    def assertNothingStored(self, what, g=None, token=_NO_TOKEN):
        """No delivery at all for the company, the receiver got nothing, the server still serves."""
        g = g or self.g
        dl = self.deliveries(token=token, g=g)
        self.assertEqual(dl, [], "%s: expected no delivery to be stored, found %r" % (what, dl[:3]))
        self.assertEqual(self.rx.count(), 0, "%s: the receiver got requests: %r" % (what, self.rx.requests[:3]))
        st, _, raw = g.api("GET", "/healthz")
        self.assertEqual(st, 200, "%s: gancho no longer healthy: %d %r" % (what, st, raw[:200]))
        self.assertTrue(g.alive(), "%s: gancho exited (code %s)" % (what, g.proc.returncode))


def urllib_quote(s):
    from urllib.parse import quote
    return quote(str(s), safe="")


# ---------------------------------------------------------------------------
# crashes on purpose (test_crash_guard.py)

def crash_marker_path(g):
    """Where gancho marks the delivery it crashed on, for g's database (crashguard.h):
    PATH.crashed for sqlite:PATH, else ./gancho.crashed in its working directory."""
    if g.db.startswith("sqlite:"):
        return g.db[len("sqlite:"):] + ".crashed"
    return os.path.join(g.dir, "gancho.crashed")


def wait_exit(g, timeout=20.0):
    """Wait for g's process to end by itself (an expected crash); returns its exit code
    (negative: the signal that ended it). AssertionError if it is still running."""
    try:
        return g.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("gancho still running %.0f s later (expected it to crash); log tail:\n%s"
                             % (timeout, g.log_tail()))


# ---------------------------------------------------------------------------
# the fake ATS / job-board APIs of tests/fakes (FakeGupy, FakeHelloWork)

FAKES_DIR = os.path.normpath(os.path.join(HERE, "..", "fakes"))


def fakes():
    """Import tests/fakes and return (FakeGupy, FakeHelloWork); see tests/fakes/README.md."""
    if FAKES_DIR not in sys.path:
        sys.path.insert(0, FAKES_DIR)
    from fake_gupy import FakeGupy
    from fake_hellowork import FakeHelloWork
    return FakeGupy, FakeHelloWork


# ---------------------------------------------------------------------------
# a store unit test (tests/unit/test_store_*.c) on the PostgreSQL backend

def run_store_unit_test(case, name):
    """Run the unit test program tests/<name> against a fresh database of the throwaway
    PostgreSQL server (GANCHO_TEST_STORE_URL) and make case fail unless every test in it
    passed. On SQLite the case is skipped: ctest runs the program itself as unit.<name>."""
    if backend() != "postgres":
        case.skipTest("SQLite runs as unit.%s" % name)
    import pg
    prog = os.path.join(os.path.dirname(gancho_bin()), "tests", name)
    env = dict(os.environ, GANCHO_TEST_STORE_URL=pg.new_database())
    out = subprocess.run([prog], capture_output=True, text=True, timeout=120, env=env)
    case.assertEqual(out.returncode, 0, out.stdout + out.stderr)
    case.assertIn("PASSED", out.stdout + out.stderr)
