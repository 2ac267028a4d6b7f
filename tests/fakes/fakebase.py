"""What every fake API in tests/fakes shares (Python 3 standard library only).

A FakeServer is a real threaded HTTP/1.1 server on 127.0.0.1. A subclass names its API
routes (method, path regex, handler). The request path then goes like this:

  read the body -> /_fake/ control endpoint?  (never logged, never failed on purpose)
                -> find the route (unknown path 404, wrong method 405)
                -> handler(req) checks headers and body and raises Refuse on a mistake,
                   else returns apply(), a closure that changes the state and gives the answer
                -> a failure injected for this method + path prefix answers instead of apply()
                -> apply() under the state lock.

Every API request lands in the request log with its answer status and, when the fake
refused it, the reason (so a test can assert that no request was refused). Injected
failures are logged with "injected" set and no "refused" reason.

Control endpoints shared by every fake (the subclass adds its own seeding ones):
  GET    /_fake/log[?refused=1]   the request log            DELETE /_fake/log   clear it
  POST   /_fake/failures          inject a failure (below)   GET    /_fake/failures
  DELETE /_fake/failures          forget injected failures   POST   /_fake/reset  everything
  GET    /_fake/state             the fake's whole state
A failure: {"method": "PUT"|"*", "pathPrefix": "/api/v1/jobs/1", "count": N, "answer":
"500"|"429"|"404"|"401"|any "4xx"/"5xx"|"html"|"huge"|"delay"|"drop", "retryAfter": S (429),
"status": 200|502 ("html", "huge"), "delayMs": D}: "delay" waits, then answers normally;
"drop" closes the connection without an answer (a network error for the client).
"""

import copy
import datetime
import http
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MAX_BODY = 1024 * 1024          # larger API request bodies are refused with 413
LOG_BODY_CHARS = 64 * 1024      # the log keeps this much of each body
HUGE_BODY_BYTES = 10 * 1024 * 1024
ANSWER_KINDS = ("html", "huge", "delay", "drop")  # besides an error status "400".."599"

_huge = None


def phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def now_iso():
    """The current UTC time as 2023-05-13T10:24:26.838Z (the seeds' date format)."""
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class Refuse(Exception):
    """A request the fake refuses: status, the reason (logged and sent as the message)."""

    def __init__(self, status, reason, body=None, headers=None):
        super().__init__(reason)
        self.status, self.reason, self.body, self.headers = status, reason, body, headers or {}


class Answer:
    def __init__(self, status, body=None, headers=None, raw=None):
        self.status = status
        self.headers = dict(headers or {})
        if raw is not None:
            self.raw = raw
        else:
            self.raw = json.dumps(body, ensure_ascii=False).encode()
            self.headers.setdefault("Content-Type", "application/json; charset=utf-8")


class Request:
    def __init__(self, method, target, headers, body):
        parts = urlsplit(target)
        self.method, self.path, self.query_string = method, parts.path, parts.query
        self.headers = headers          # http.client.HTTPMessage: case-insensitive
        self.body = body                # bytes

    def header(self, name):
        """The one value of header name, or None; Refuse 400 when it is repeated."""
        values = self.headers.get_all(name) or []
        if len(values) > 1:
            raise Refuse(400, "header %s sent %d times" % (name, len(values)))
        return values[0] if values else None

    def query(self, allowed):
        """The query parameters as a dict; Refuse 400 on an unknown or repeated one."""
        out = {}
        for k, v in parse_qsl(self.query_string, keep_blank_values=True, strict_parsing=False):
            if k not in allowed:
                raise Refuse(400, "unknown query parameter %r (allowed: %s)" % (k, ", ".join(allowed)))
            if k in out:
                raise Refuse(400, "query parameter %r given twice" % k)
            out[k] = v
        return out

    def require_no_body(self):
        if self.body:
            raise Refuse(400, "%s %s takes no body (got %d bytes)" % (self.method, self.path, len(self.body)))

    def control_json(self):
        """A control body: any JSON value (no Content-Type needed, curl -d is fine)."""
        try:
            return json.loads(self.body.decode("utf-8") or "null", object_pairs_hook=_no_repeats,
                              parse_constant=_no_constant)
        except ValueError as e:
            raise Refuse(400, "control body is not valid JSON: %s" % e)

    def json_object(self):
        """The body as a JSON object: Content-Type application/json (charset=utf-8 tolerated),
        valid UTF-8, strict JSON (no NaN, no repeated key), an object. Refuse otherwise."""
        media_type(self.header("Content-Type"), "Content-Type", 415)
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refuse(400, "body is not valid UTF-8")
        try:
            value = json.loads(text, object_pairs_hook=_no_repeats, parse_constant=_no_constant)
        except ValueError as e:
            raise Refuse(400, "body is not valid JSON: %s" % e)
        if not isinstance(value, dict):
            raise Refuse(400, "body must be a JSON object, got %s" % type_name(value))
        return value


def _no_repeats(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("key %r repeated" % k)
        out[k] = v
    return out


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(v), type(v).__name__)


def media_type(value, header, status):
    """Check that a Content-Type header is application/json with at most charset=utf-8."""
    if value is None:
        raise Refuse(status, "%s: application/json is required" % header)
    parts = [p.strip() for p in value.split(";")]
    if parts[0].lower() != "application/json":
        raise Refuse(status, "%s must be application/json, got %r" % (header, value))
    for p in parts[1:]:
        if p.replace(" ", "").lower() not in ("charset=utf-8", 'charset="utf-8"'):
            raise Refuse(status, "%s: only the parameter charset=utf-8 is accepted, got %r" % (header, p))


def require_accept_json(req):
    """The Accept header must name application/json (as the seed's curl examples send it)."""
    value = req.header("Accept")
    types = [p.split(";")[0].strip().lower() for p in (value or "").split(",")]
    if "application/json" not in types:
        raise Refuse(406, "Accept: application/json is required, got %r" % (value,))


def check_fields(body, required, optional=()):
    """Refuse a body with a missing required field or a field not in required + optional."""
    for k in body:
        if k not in required and k not in optional:
            raise Refuse(400, "unknown field %r (allowed: %s)" % (k, ", ".join(list(required) + list(optional))))
    for k in required:
        if k not in body:
            raise Refuse(400, "field %r is required" % k)


def nonempty_string(body, field):
    v = body[field]
    if not isinstance(v, str):
        raise Refuse(400, "field %r must be a string, got %s" % (field, type_name(v)))
    if not v.strip():
        raise Refuse(400, "field %r must not be empty" % field)
    return v


def bounded_int(text, name, lo, hi):
    """A query parameter that must be a decimal integer in lo..hi."""
    if not re.fullmatch(r"[0-9]{1,9}", text or ""):
        raise Refuse(400, "%s must be an integer, got %r" % (name, text))
    n = int(text)
    if n < lo or n > hi:
        raise Refuse(400, "%s must be between %d and %d, got %d" % (name, lo, hi, n))
    return n


class _Failure:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise Refuse(400, "a failure is a JSON object")
        check_fields(spec, ("pathPrefix", "answer"), ("method", "count", "retryAfter", "status", "delayMs"))
        self.method = spec.get("method", "*")
        self.prefix = spec["pathPrefix"]
        self.answer = spec["answer"]
        self.count = spec.get("count", 1)
        self.retry_after = spec.get("retryAfter", 1)
        self.delay_ms = spec.get("delayMs", 1000)
        self.status = spec.get("status", 502 if self.answer == "html" else 200)
        if not isinstance(self.method, str) or not isinstance(self.prefix, str) or not self.prefix.startswith("/"):
            raise Refuse(400, "method must be a string and pathPrefix a path starting with /")
        if not isinstance(self.answer, str) or not (self.answer in ANSWER_KINDS or
                                                    re.fullmatch(r"[45][0-9][0-9]", self.answer)):
            raise Refuse(400, "answer must be an error status \"400\"..\"599\" or one of %s"
                         % ", ".join(ANSWER_KINDS))
        for name, v in (("count", self.count), ("retryAfter", self.retry_after), ("delayMs", self.delay_ms)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 10 ** 7:
                raise Refuse(400, "%s must be an integer in 0..10000000" % name)
        if self.answer in ("html", "huge") and self.status not in (200, 502):
            raise Refuse(400, "status must be 200 or 502")

    def matches(self, req):
        return self.count > 0 and self.method in ("*", req.method) and req.path.startswith(self.prefix)

    def to_json(self):
        return {"method": self.method, "pathPrefix": self.prefix, "answer": self.answer, "count": self.count,
                "retryAfter": self.retry_after, "status": self.status, "delayMs": self.delay_ms}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms wait on keep-alive

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.fake.lock:
            self.server.fake._conns.add(self.connection)

    def finish(self):
        with self.server.fake.lock:
            self.server.fake._conns.discard(self.connection)
        super().finish()

    def _handle(self):
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            return  # a client that goes away is not an error of the fake
        super().handle_error(request, client_address)


class FakeServer:
    """Base of the fakes. Subclasses set `name`, fill `routes` with (method, regex, handler)
    (regex groups become handler arguments), add `control_routes`, and define error_body()."""

    name = "fake"

    def __init__(self, host="127.0.0.1", port=0):
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self.routes = []            # (method, compiled regex, handler(req, *groups) -> apply)
        self.control_routes = []    # (method, compiled regex, handler(req, *groups) -> JSON value)
        self._log = []
        self._failures = []
        self._stopping = threading.Event()
        self._conns = set()         # open client connections, closed by stop()
        self._server = None
        self._thread = None
        for method, rx, fn in ((("GET", r"/_fake/log", self._c_log_get), ("DELETE", r"/_fake/log", self._c_log_clear),
                                ("POST", r"/_fake/failures", self._c_fail_add),
                                ("GET", r"/_fake/failures", lambda req: self.failures()),
                                ("DELETE", r"/_fake/failures", lambda req: self.clear_failures() or {}),
                                ("POST", r"/_fake/reset", lambda req: self.reset() or {}),
                                ("GET", r"/_fake/state", lambda req: self.state()))):
            self.control(method, rx, fn)

    # -- set-up by subclasses
    def route(self, method, regex, handler):
        self.routes.append((method, re.compile(regex), handler))

    def control(self, method, regex, handler):
        self.control_routes.append((method, re.compile(regex), handler))

    def error_body(self, status, message):
        return {"statusCode": status, "error": phrase(status), "message": message}

    def reset_state(self):
        """Subclasses: forget seeded data (called by reset())."""

    def state(self):
        return {}

    # -- life cycle
    def start(self):
        """Listen (port 0: any free port; after stop(), the same port again) and serve in a
        background thread; returns self. The state survives a stop() and start()."""
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="%s-%d" % (self.name, self.port), daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and close every open connection (keep-alive ones too), so a client
        sees the API go away; delayed answers are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None
        with self.lock:
            conns, self._conns = list(self._conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        """The base URL, http://127.0.0.1:PORT (no trailing slash)."""
        return "http://%s:%d" % (self.host, self.port)

    # -- request log
    def log(self, refused=None, method=None, path_prefix=None):
        """Copies of the logged API requests, oldest first; refused=True: only refused ones,
        False: only accepted ones. Entry: {seq, at, method, path, query, headers ([[k, v]]),
        body (text), status, refused (reason or None), injected (answer kind or None)}."""
        with self.lock:
            out = [copy.deepcopy(e) for e in self._log
                   if (refused is None or bool(e["refused"]) == refused)
                   and (method is None or e["method"] == method)
                   and (path_prefix is None or e["path"].startswith(path_prefix))]
        return out

    def refused(self):
        """The refused requests (a test asserts this is [])."""
        return self.log(refused=True)

    def clear_log(self):
        with self.lock:
            self._log = []

    def wait_log(self, count, method=None, path_prefix=None, timeout=10.0):
        """Wait until at least count matching requests were answered; return them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.log(method=method, path_prefix=path_prefix)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("%s: %d request(s) %s %s within %.1f s, wanted %d; last: %r"
                                     % (self.name, len(got), method or "*", path_prefix or "", timeout, count,
                                        self.log()[-5:]))
            time.sleep(0.02)

    # -- failure injection
    def inject(self, answer, path_prefix="/", method="*", count=1, retry_after=1, status=None, delay_ms=1000):
        """The next `count` API requests with this method ("*": any) whose path starts with
        path_prefix get `answer`: an error status ("500", "429", "404", "401", "403", ...), "html",
        "huge", "delay" or "drop" (see the top comment)."""
        spec = {"method": method, "pathPrefix": path_prefix, "answer": str(answer), "count": count,
                "retryAfter": retry_after, "delayMs": delay_ms}
        if status is not None:
            spec["status"] = status
        f = _Failure(spec)
        with self.lock:
            self._failures.append(f)

    def failures(self):
        with self.lock:
            return [f.to_json() for f in self._failures if f.count > 0]

    def clear_failures(self):
        with self.lock:
            self._failures = []

    def reset(self):
        """Forget the state, the log and the injected failures."""
        with self.lock:
            self._log, self._failures = [], []
            self.reset_state()

    def _take_failure(self, req):
        for f in self._failures:
            if f.matches(req):
                f.count -= 1
                return f
        return None

    def _failure_answer(self, f, req):
        if f.answer == "drop":
            return None
        if f.answer == "html":
            return Answer(f.status, raw=b"<!DOCTYPE html><html><head><title>Bad Gateway</title></head>"
                          b"<body><h1>Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>\n",
                          headers={"Content-Type": "text/html; charset=utf-8"})
        if f.answer == "huge":
            global _huge
            if _huge is None:
                pad = HUGE_BODY_BYTES - len(b'{"padding":""}')
                _huge = b'{"padding":"' + b"x" * pad + b'"}'
            return Answer(f.status, raw=_huge, headers={"Content-Type": "application/json"})
        status = int(f.answer)
        headers = {"Retry-After": str(f.retry_after)} if status == 429 else {}
        return Answer(status, self.error_body(status, self.failure_message(status, req)), headers)

    def failure_message(self, status, req):
        """The message of an injected error answer (a subclass may mimic its API's wording)."""
        return "failure injected by the fake"

    # -- serving
    def _serve(self, h):
        target = h.path
        req = Request(h.command, target, h.headers, b"")
        control = req.path.startswith("/_fake/")
        entry = None
        try:
            req.body = self._read_body(h)
            if control:
                answer = self._control(req)
            else:
                entry = {"method": req.method, "path": req.path, "query": req.query_string,
                         "headers": [[k, v] for k, v in h.headers.items()],
                         "body": req.body[:LOG_BODY_CHARS].decode("utf-8", "replace"),
                         "status": None, "refused": None, "injected": None, "at": now_iso()}
                answer = self._api(req, entry)
        except Refuse as r:
            answer = Answer(r.status, r.body if r.body is not None else self.error_body(r.status, r.reason), r.headers)
            if entry is not None:
                entry["refused"] = r.reason
        except Exception as e:  # a bug of the fake: answer 500 and show it in the log
            answer = Answer(500, self.error_body(500, "fake internal error: %r" % e))
            if entry is not None:
                entry["refused"] = "fake internal error: %r" % e
        if entry is not None:
            entry["status"] = answer.status if answer is not None else None
            with self.lock:
                entry["seq"] = len(self._log) + 1
                self._log.append(entry)
        if answer is None:  # "drop": close the connection without an answer
            h.close_connection = True
            return
        self._send(h, answer)

    def _read_body(self, h):
        if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = h.rfile.readline(65537)
                size_text = line.split(b";", 1)[0].strip()
                if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                    h.close_connection = True
                    raise Refuse(400, "bad chunk size line %r" % line[:40])
                size = int(size_text, 16)
                if size == 0:
                    while h.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    h.close_connection = True
                    raise Refuse(413, "body larger than %d bytes" % MAX_BODY)
                chunks.append(h.rfile.read(size))
                h.rfile.readline(3)
        length = h.headers.get("Content-Length") or "0"
        if not re.fullmatch(r"[0-9]{1,12}", length):
            h.close_connection = True
            raise Refuse(400, "bad Content-Length %r" % length)
        n = int(length)
        if n > MAX_BODY:
            h.close_connection = True
            raise Refuse(413, "body of %d bytes is larger than %d" % (n, MAX_BODY))
        return h.rfile.read(n) if n else b""

    def _find(self, routes, req):
        allowed = []
        for method, rx, fn in routes:
            m = rx.fullmatch(req.path)
            if m:
                if method == req.method:
                    return fn, m.groups()
                allowed.append(method)
        if allowed:
            raise Refuse(405, "method %s not allowed on %s (allowed: %s)" % (req.method, req.path, ", ".join(allowed)),
                         headers={"Allow": ", ".join(allowed)})
        raise Refuse(404, "no route %s %s" % (req.method, req.path))

    def _api(self, req, entry):
        fn, groups = self._find(self.routes, req)
        with self.lock:
            apply = fn(req, *groups)
            failure = self._take_failure(req)
            if failure is None:
                return apply()
        entry["injected"] = failure.answer
        if failure.answer != "delay":
            return self._failure_answer(failure, req)
        self._stopping.wait(failure.delay_ms / 1000.0)
        with self.lock:  # then the normal answer, checked again against the state of now
            return fn(req, *groups)()

    def _control(self, req):
        fn, groups = self._find(self.control_routes, req)
        with self.lock:
            try:
                return Answer(200, fn(req, *groups))
            except (ValueError, TypeError, KeyError) as e:  # a seeding mistake: say which
                raise Refuse(400, "control %s %s: %s" % (req.method, req.path, e))

    def _send(self, h, answer):
        h.send_response(answer.status, phrase(answer.status))
        for k, v in answer.headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(answer.raw)))
        if h.close_connection:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(answer.raw)
        h.wfile.flush()

    # -- shared control handlers
    def _c_log_get(self, req):
        q = req.query(("refused",))
        refused = {"1": True, "0": False, None: None}.get(q.get("refused"), "bad")
        if refused == "bad":
            raise Refuse(400, "refused must be 0 or 1")
        return {"requests": self.log(refused=refused)}

    def _c_log_clear(self, req):
        self.clear_log()
        return {}

    def _c_fail_add(self, req):
        f = _Failure(req.control_json())
        self._failures.append(f)
        return f.to_json()


def json_list(value, what):
    """A control body that is one object or a list of objects -> list of objects."""
    items = value if isinstance(value, list) else [value]
    for it in items:
        if not isinstance(it, dict):
            raise Refuse(400, "%s: each item must be a JSON object" % what)
    return items


def serve_forever(fake, banner):
    """Run a fake in the foreground for a person: print its URL, stop on Ctrl-C."""
    fake.start()
    print("%s listening on %s" % (banner, fake.url), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
