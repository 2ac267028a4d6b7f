"""The HTTP/1.1 server front over raw sockets: keep-alive, pipelining, chunked bodies,
Expect: 100-continue, the body limit, malformed requests, when a connection closes,
percent-encoding, clients that go away or trickle, many connections at once.

Every complete answer must carry a Content-Length equal to its body and a Date.
Only the transport is under test, so the suite runs on SQLite only (the store
does not matter here).
"""

import json
import re
import select
import socket
import time
import unittest
import uuid

import harness as H

TIMEOUT = 5.0     # a socket read that waits longer than this is a hang
MAX_BODY = 4096   # the server's --max-body in this file (the smallest it accepts is 1024)
DATE_HTTP_RE = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) " \
               r"\d{4} \d{2}:\d{2}:\d{2} GMT$"


class Response:
    """One HTTP answer as read off the wire."""

    def __init__(self, version, status, reason, headers, body, head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in wire order
        self.body = body
        self.head = head        # the raw status line and headers

    def header_list(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def header(self, name):
        vals = self.header_list(name)
        return vals[-1] if vals else None

    def says_close(self):
        return any("close" in [t.strip().lower() for t in v.split(",")] for v in self.header_list("Connection"))

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def __repr__(self):
        return "<%s %d %s; %r>" % (self.version, self.status, self.reason, (self.head + b"\r\n\r\n" + self.body)[:400])


class Conn:
    """One raw TCP connection to gancho. Reads wait at most TIMEOUT seconds: a server that
    hangs fails the test instead of blocking it."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _more(self, what, timeout):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("%s: no complete HTTP answer within %.1f s (the server hangs?); got so far %r"
                                 % (what, timeout, self.buf[:400]))
        except ConnectionResetError:
            raise AssertionError("%s: the server reset the connection before a complete answer; got so far %r"
                                 % (what, self.buf[:400]))
        if not data:
            raise AssertionError("%s: the server closed the connection before a complete answer; got so far %r"
                                 % (what, self.buf[:400]))
        self.buf += data

    def read_response(self, what, timeout=None):
        """Read one whole answer (status line, headers, body framed by Content-Length, or
        chunked, or up to the close when neither); the bytes after it stay buffered."""
        timeout = timeout or self.timeout
        self.sock.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in self.buf:
                self._more(what, timeout)
            head, _, rest = self.buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            m = re.match(rb"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
            if not m:
                raise AssertionError("%s: not an HTTP status line: %r" % (what, lines[0][:200]))
            headers = []
            for line in lines[1:]:
                k, sep, v = line.partition(b":")
                if not sep:
                    raise AssertionError("%s: answer header line without a colon: %r" % (what, line[:200]))
                headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
            r = Response(m.group(1).decode(), int(m.group(2)), (m.group(3) or b"").decode("latin-1"), headers,
                         b"", head)
            if 100 <= r.status < 200 or r.status in (204, 304):
                self.buf = rest
                return r
            self.buf = rest
            te = (r.header("Transfer-Encoding") or "").lower()
            cls = r.header_list("Content-Length")
            if "chunked" in te:
                r.body = self._read_chunked(what, timeout)
            elif cls:
                n = int(cls[0])
                while len(self.buf) < n:
                    self._more(what, timeout)
                r.body, self.buf = self.buf[:n], self.buf[n:]
            else:  # delimited by the close
                while True:
                    try:
                        data = self.sock.recv(65536)
                    except socket.timeout:
                        raise AssertionError("%s: answer without Content-Length, and the server did not close "
                                             "within %.1f s: %r" % (what, timeout, head[:400]))
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        break
                    self.buf += data
                r.body, self.buf = self.buf, b""
            return r
        finally:
            self.sock.settimeout(self.timeout)

    def _read_chunked(self, what, timeout):
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._more(what, timeout)
            line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    while b"\r\n" not in self.buf:
                        self._more(what, timeout)
                    t, _, self.buf = self.buf.partition(b"\r\n")
                    if not t:
                        return body
            while len(self.buf) < size + 2:
                self._more(what, timeout)
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]

    def closed_within(self, timeout, what="connection"):
        """True when the server closes (FIN or RST) within timeout seconds and sends nothing
        more; False when the connection is still open; AssertionError on unexpected bytes."""
        if self.buf:
            raise AssertionError("%s: unexpected bytes after the answer (not framed by its Content-Length?): %r"
                                 % (what, self.buf[:300]))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
            raise AssertionError("%s: unexpected bytes after the answer (not framed by its Content-Length?): %r"
                                 % (what, data[:300]))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def request(method, path, headers=(), body=None, version="HTTP/1.1", host=True):
    """The bytes of one request. A Content-Length is added for a body unless headers
    already frame it (Content-Length or Transfer-Encoding)."""
    lines = ["%s %s %s" % (method, path, version)]
    if host:
        lines.append("Host: 127.0.0.1")
    names = set()
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
        names.add(k.lower())
    if body is not None and not names & {"content-length", "transfer-encoding"}:
        lines.append("Content-Length: %d" % len(body))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


def event_json(eid, data=None):
    return json.dumps({"event": "candidate.hired", "id": eid, "data": data if data is not None else {"n": 1}}
                      ).encode("utf-8")


def chunked(pieces, size_lines=None):
    """Chunked encoding of pieces; size_lines[i] (when given) replaces the chunk-size line
    of piece i (for extensions and upper-case hex). Ends with the trailer-free 0 chunk."""
    out = b""
    for i, p in enumerate(pieces):
        line = size_lines[i] if size_lines and size_lines[i] else "%x" % len(p)
        out += line.encode("ascii") + b"\r\n" + p + b"\r\n"
    return out + b"0\r\n\r\n"


@unittest.skipUnless(H.backend() == "sqlite", "HTTP transport tests run once, on SQLite (the store does not matter)")
class HttpServerTest(H.GanchoTestCase):
    gancho_args = ("--max-body", str(MAX_BODY))

    # -- helpers
    def connect(self):
        c = Conn(self.g.port)
        self.addCleanup(c.close)
        return c

    def auth(self, extra=()):
        return [("Authorization", "Bearer " + self.token)] + list(extra)

    def post_request(self, eid, data=None, extra=()):
        return request("POST", "/api/v1/events", self.auth([("Content-Type", "application/json")] + list(extra)),
                       event_json(eid, data))

    def check_framing(self, r, what):
        """Every complete answer: exactly one Content-Length equal to the body length, and a Date."""
        cls = r.header_list("Content-Length")
        self.assertEqual(len(cls), 1, "%s: the answer must carry exactly one Content-Length header, got %r: %r"
                         % (what, cls, r))
        self.assertTrue(cls[0].isdigit() and int(cls[0]) == len(r.body),
                        "%s: Content-Length %r does not match the %d-byte body: %r" % (what, cls[0], len(r.body), r))
        self.assertIsNone(r.header("Transfer-Encoding"),
                          "%s: the answer must not be chunked (Content-Length only): %r" % (what, r))
        date = r.header("Date")
        self.assertIsNotNone(date, "%s: the answer has no Date header: %r" % (what, r))
        self.assertRegex(date, DATE_HTTP_RE, "%s: Date must be an IMF-fixdate: %r" % (what, r))

    def read(self, c, what, status=None, timeout=None):
        r = c.read_response(what, timeout)
        if status is not None:
            self.assertEqual(r.status, status, "%s: expected HTTP %d, got %r" % (what, status, r))
        self.check_framing(r, what)
        return r

    def assert_event_stored(self, eid, data=None, what="event"):
        st, js, raw = self.api("GET", "/api/v1/events/%s" % eid)
        self.assertEqual(st, 200, "%s: event %s must be stored (GET /api/v1/events/{id}), got %d %r"
                         % (what, eid, st, raw[:300]))
        if data is not None:
            self.assertEqual(js.get("data"), data, "%s: stored data differs: %r" % (what, js))

    def assert_not_stored(self, eid, what):
        st, _, raw = self.api("GET", "/api/v1/events/%s" % eid)
        self.assertEqual(st, 404, "%s: event %s must not be stored, GET answered %d %r" % (what, eid, st, raw[:300]))

    def assert_serving(self, what):
        """A fresh connection still gets GET /healthz → 200: nothing crashed or wedged."""
        self.assertTrue(self.g.alive(), "%s: gancho exited (code %s)" % (what, self.g.proc.returncode))
        c = self.connect()
        c.send(request("GET", "/healthz"))
        self.read(c, "%s, then GET /healthz on a fresh connection" % what, 200)
        c.close()

    def assert_closed(self, c, what, timeout=TIMEOUT):
        self.assertTrue(c.closed_within(timeout, what),
                        "%s: the server must close the connection after the answer (still open after %.1f s)"
                        % (what, timeout))

    def assert_open(self, c, what, wait=0.3):
        self.assertFalse(c.closed_within(wait, what), "%s: the server closed a keep-alive connection" % what)

    def check_rejected(self, raw, allowed, what, must_close=False):
        """Send raw on a fresh connection: an answer in allowed (never 2xx), with proper framing;
        with must_close the server closes after it. Then the server still serves."""
        c = self.connect()
        c.send(raw)
        r = c.read_response(what)
        self.assertIn(r.status, allowed, "%s: expected HTTP %s, got %r" % (what, " or ".join(map(str, allowed)), r))
        self.check_framing(r, what)
        if must_close:
            self.assert_closed(c, "%s (answered %d)" % (what, r.status))
        c.close()
        self.assert_serving(what)
        return r

    # -- 1. keep-alive
    def test_keep_alive_three_requests_on_one_connection(self):
        c = self.connect()
        eid = str(uuid.uuid4())
        c.send(request("GET", "/healthz"))
        r = self.read(c, "keep-alive #1 GET /healthz", 200)
        self.assertFalse(r.says_close(), "keep-alive #1: an HTTP/1.1 answer must not close: %r" % r)
        c.send(self.post_request(eid))
        r = self.read(c, "keep-alive #2 POST /api/v1/events", 202)
        self.assertEqual((r.json() or {}).get("id"), eid, "keep-alive #2: the answer is for another event: %r" % r)
        self.assertFalse(r.says_close(), "keep-alive #2: an HTTP/1.1 answer must not close: %r" % r)
        c.send(request("GET", "/healthz"))
        r = self.read(c, "keep-alive #3 GET /healthz", 200)
        self.assertFalse(r.says_close(), "keep-alive #3: an HTTP/1.1 answer must not close: %r" % r)
        self.assert_open(c, "after three keep-alive requests")
        self.assert_event_stored(eid, {"n": 1}, "keep-alive POST")

    # -- 2. pipelining
    def test_pipelined_posts_in_one_send(self):
        a, b = str(uuid.uuid4()), str(uuid.uuid4())
        c = self.connect()
        c.send(self.post_request(a, {"which": "a"}) + self.post_request(b, {"which": "b"}))
        r1 = self.read(c, "pipelined POST a", 202)
        r2 = self.read(c, "pipelined POST b", 202)
        self.assertEqual([(r1.json() or {}).get("id"), (r2.json() or {}).get("id")], [a, b],
                         "pipelined answers must come in request order: %r, %r" % (r1, r2))
        self.assert_open(c, "after two pipelined requests")
        self.assert_event_stored(a, {"which": "a"}, "pipelined POST a")
        self.assert_event_stored(b, {"which": "b"}, "pipelined POST b")

    def test_pipelined_read_after_write(self):
        # RFC 9112 9.3.2: only safe requests may be processed in parallel; a GET pipelined
        # after a POST must see the POST's effect, and answers keep the request order.
        eid = str(uuid.uuid4())
        c = self.connect()
        c.send(self.post_request(eid, {"x": 1}) + request("GET", "/api/v1/events/" + eid, self.auth())
               + request("GET", "/healthz"))
        r1 = self.read(c, "pipelined POST", 202)
        self.assertEqual((r1.json() or {}).get("id"), eid, "first answer must be the POST's: %r" % r1)
        r2 = self.read(c, "pipelined GET of the event just posted", 200)
        self.assertEqual((r2.json() or {}).get("data"), {"x": 1}, "second answer must be the event: %r" % r2)
        r3 = self.read(c, "pipelined GET /healthz", 200)
        self.assertEqual(r3.json(), {"status": "ok"}, "third answer must be /healthz's: %r" % r3)

    # -- 3. chunked request body
    def test_chunked_request_body(self):
        wh = self.create_webhook(action="candidate.hired")
        eid = str(uuid.uuid4())
        data = b'{ "a" : [1, 2,3],\n "s": "chunked \\r\\n body \xc3\xa9", "pad": "' + b"p" * 40 + b'" }'
        body = H.event_body("candidate.hired", data, id=eid)
        pieces = [body[:5], body[5:31], body[31:32], body[32:]]
        self.assertEqual(len(pieces[1]), 26)
        # upper-case hex on one size line, an extension on another
        wire = chunked(pieces, [None, "1A", "1;x=y", None])
        head = request("POST", "/api/v1/events",
                       self.auth([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
        c = self.connect()
        # split in the middle of a chunk-size line and of a chunk, so the parser sees partial input
        cut = wire.index(b"1;x=y") + 3
        c.send(head + wire[:cut])
        time.sleep(0.05)
        c.send(wire[cut:cut + 20])
        time.sleep(0.05)
        c.send(wire[cut + 20:])
        r = self.read(c, "chunked POST /api/v1/events", 202)
        self.assertEqual((r.json() or {}).get("id"), eid, "chunked POST: answer for another event: %r" % r)
        self.assert_event_stored(eid, json.loads(data), "chunked POST")
        req = self.rx.wait_ids([eid], 10)[eid][0]
        got = dict(H.split_envelope(req.body))["data"]
        self.assertEqual(got, data, "the decoded chunked body must be stored and delivered byte-for-byte")
        self.assertEqual(self.delivery_for(wh["id"], eid)["eventId"], eid)
        self.assert_open(c, "after a chunked request")

    # -- 4. Expect: 100-continue
    def test_expect_100_continue(self):
        eid = str(uuid.uuid4())
        body = event_json(eid, {"expect": True})
        c = self.connect()
        c.send(request("POST", "/api/v1/events",
                       self.auth([("Content-Type", "application/json"), ("Expect", "100-continue"),
                                  ("Content-Length", str(len(body)))])))
        r = c.read_response("Expect: 100-continue, waiting for the interim answer", timeout=2.0)
        self.assertEqual((r.version, r.status), ("HTTP/1.1", 100),
                         "Expect: 100-continue: expected 'HTTP/1.1 100 Continue' before the body, got %r" % r)
        c.send(body)
        r = self.read(c, "Expect: 100-continue, the final answer", 202)
        self.assertEqual((r.json() or {}).get("id"), eid)
        self.assert_event_stored(eid, {"expect": True}, "Expect: 100-continue")

    def test_expect_100_continue_over_the_limit_gets_413_not_100(self):
        c = self.connect()
        c.send(request("POST", "/api/v1/events",
                       self.auth([("Content-Type", "application/json"), ("Expect", "100-continue"),
                                  ("Content-Length", str(MAX_BODY * 4))])))
        r = c.read_response("Expect: 100-continue with a body over --max-body")
        self.assertEqual(r.status, 413, "a body announced over the limit must be refused with 413 instead of "
                                        "100 Continue: %r" % r)
        self.check_framing(r, "413 to Expect: 100-continue")

    # -- 5. body over the limit
    def test_content_length_over_the_limit_413_without_the_body(self):
        c = self.connect()
        c.send(request("POST", "/api/v1/events",
                       self.auth([("Content-Type", "application/json"), ("Content-Length", str(MAX_BODY * 4))])))
        # no body is sent: the answer must come from the headers alone
        r = self.read(c, "Content-Length %d over --max-body %d, body not sent" % (MAX_BODY * 4, MAX_BODY), 413)
        js = r.json()
        self.assertTrue(isinstance(js, dict) and js.get("error", {}).get("code") == "payload_too_large",
                        "413 body must be {error: {code: payload_too_large, ...}}: %r" % r)
        if not r.says_close():
            self.assertTrue(c.closed_within(TIMEOUT, "413 on Content-Length"),
                            "after a 413 whose body is unread, the answer must say Connection: close or the "
                            "server must close the connection: %r" % r)
        self.assert_serving("413 on Content-Length")

    def test_chunked_body_growing_over_the_limit_413(self):
        eid = str(uuid.uuid4())
        c = self.connect()
        c.send(request("POST", "/api/v1/events",
                       self.auth([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])))
        body = b'{"event": "candidate.hired", "id": "%s", "data": "' % eid.encode() + b"x" * (MAX_BODY * 3) + b'"}'
        pieces = [body[i:i + 1000] for i in range(0, len(body), 1000)]
        wire = [b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]
        sent = 0
        for w in wire:
            r, _, _ = select.select([c.sock], [], [], 0.02)
            if r:
                break  # an early answer
            try:
                c.send(w)
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                break
        r = self.read(c, "chunked body of %d bytes over --max-body %d (%d of %d chunks sent)"
                      % (len(body), MAX_BODY, sent, len(wire)), 413)
        js = r.json()
        self.assertTrue(isinstance(js, dict) and js.get("error", {}).get("code") == "payload_too_large",
                        "413 body must be {error: {code: payload_too_large, ...}}: %r" % r)
        c.close()
        self.assert_not_stored(eid, "chunked body over the limit")
        self.assert_serving("413 on a chunked body")

    def test_chunk_size_overflow_refused(self):
        # a chunk size past 2^64 must not wrap around to a small number
        raw = request("POST", "/api/v1/events",
                      self.auth([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
        self.check_rejected(raw + b"1" + b"0" * 16 + b"5\r\n{}\r\n0\r\n\r\n", (400, 413),
                            "chunk size 0x1" + "0" * 16 + "5 (past 2^64)", must_close=True)

    # -- 6. malformed requests
    def test_malformed_request_line_400_and_close(self):
        self.check_rejected(b"HELLO\r\n\r\n", (400,), "request line 'HELLO'", must_close=True)

    def test_header_line_without_colon_400(self):
        self.check_rejected(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n", (400,),
                            "a header line without a colon")

    def test_invalid_content_length_400(self):
        for cl in ("abc", "-1", "+5", "5abc", " 5 5"):
            with self.subTest(content_length=cl):
                raw = request("POST", "/api/v1/events", self.auth([("Content-Length", cl)])) + b"{}{}{}"
                self.check_rejected(raw, (400,), "Content-Length: %r" % cl, must_close=True)

    def test_content_length_too_big_for_64_bits(self):
        raw = request("POST", "/api/v1/events", self.auth([("Content-Length", "9" * 30)]))
        self.check_rejected(raw, (400, 413), "Content-Length: %s (past 2^64)" % ("9" * 30), must_close=True)

    def test_content_length_and_chunked_400(self):
        eid = str(uuid.uuid4())
        wire = chunked([event_json(eid)])
        raw = request("POST", "/api/v1/events",
                      self.auth([("Content-Type", "application/json"), ("Content-Length", str(len(wire))),
                                 ("Transfer-Encoding", "chunked")]), wire)
        self.check_rejected(raw, (400,), "both Content-Length and Transfer-Encoding: chunked", must_close=True)
        self.assert_not_stored(eid, "Content-Length with Transfer-Encoding")

    def test_unknown_transfer_encoding_refused(self):
        eid = str(uuid.uuid4())
        raw = request("POST", "/api/v1/events",
                      self.auth([("Content-Type", "application/json"), ("Transfer-Encoding", "gzip")]),
                      event_json(eid))
        self.check_rejected(raw, (400, 501), "Transfer-Encoding: gzip", must_close=True)
        self.assert_not_stored(eid, "Transfer-Encoding: gzip")

    def test_two_different_content_lengths_400(self):
        eid = str(uuid.uuid4())
        body = event_json(eid)
        raw = request("POST", "/api/v1/events",
                      self.auth([("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                 ("Content-Length", str(len(body) + 1))]), body + b" ")
        self.check_rejected(raw, (400,), "two different Content-Length values", must_close=True)
        self.assert_not_stored(eid, "two Content-Length values")

    def test_http_2_version_refused(self):
        self.check_rejected(request("GET", "/healthz", version="HTTP/2.0"), (400, 505), "request line version HTTP/2.0")

    def test_huge_header_refused(self):
        raw = request("GET", "/healthz", [("X-Huge", "h" * 20000)])
        self.check_rejected(raw, (400, 431), "a 20000-byte header (over 16 KB of headers)")

    # -- 7. still serving after the errors
    def test_serves_after_malformed_requests(self):
        bad = [
            b"HELLO\r\n\r\n",
            b"\x00\xff\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx",
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
            b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"h" * 70000 + b"\r\n\r\n",
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n",            # cut in the headers
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",  # cut in the body
        ]
        for raw in bad:
            c = Conn(self.g.port)
            try:
                c.send(raw)
            except OSError:
                pass
            c.close()  # without reading the answer
        for raw in bad:
            c = Conn(self.g.port)
            try:
                c.send(raw)
                c.sock.shutdown(socket.SHUT_WR)
                c.read_response("malformed %r" % raw[:60], timeout=1.0)
            except (OSError, AssertionError):
                pass
            c.close()
        self.assert_serving("after %d kinds of malformed requests" % len(bad))
        eid = str(uuid.uuid4())
        self.post_event(id=eid)
        self.assert_event_stored(eid, what="POST after malformed requests")

    # -- 8, 9. when the server closes
    def test_http_1_0_without_keep_alive_closes(self):
        c = self.connect()
        c.send(request("GET", "/healthz", version="HTTP/1.0", host=False))
        r = self.read(c, "HTTP/1.0 GET /healthz", 200)
        self.assertEqual(r.json(), {"status": "ok"}, "HTTP/1.0 GET /healthz: %r" % r)
        self.assertIn(r.version, ("HTTP/1.0", "HTTP/1.1"), "answer version: %r" % r)
        self.assert_closed(c, "HTTP/1.0 request without Connection: keep-alive")

    def test_connection_close_closes(self):
        c = self.connect()
        c.send(request("GET", "/healthz", [("Connection", "close")]))
        r = self.read(c, "HTTP/1.1 GET /healthz with Connection: close", 200)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assert_closed(c, "HTTP/1.1 request with Connection: close")

    def test_connection_close_after_post_still_commits(self):
        eid = str(uuid.uuid4())
        c = self.connect()
        c.send(self.post_request(eid, extra=[("Connection", "close")]))
        r = self.read(c, "POST with Connection: close", 202)
        self.assertEqual((r.json() or {}).get("id"), eid)
        self.assert_closed(c, "POST with Connection: close")
        self.assert_event_stored(eid, what="POST with Connection: close")

    # -- 10. percent-encoding
    def test_percent_encoded_query(self):
        self.create_webhook(action="candidate.hired")
        for i in range(3):
            self.post_event(data={"i": i})
        c = self.connect()
        c.send(request("GET", "/api/v1/deliveries?limit=2", self.auth()))
        plain = self.read(c, "GET /api/v1/deliveries?limit=2", 200).json()
        c.send(request("GET", "/api/v1/deliveries?limit=%32", self.auth()))
        enc = self.read(c, "GET /api/v1/deliveries?limit=%32", 200).json()
        self.assertEqual(len(plain["data"]), 2, "limit=2 must give 2 of the 3 deliveries: %r" % plain)
        self.assertEqual([d["id"] for d in enc["data"]], [d["id"] for d in plain["data"]],
                         "limit=%%32 must work as limit=2: %r vs %r" % (enc, plain))
        self.assertIsNotNone(enc["nextCursor"], "limit=%%32: a next page exists: %r" % enc)
        c.send(request("GET", "/api/v1/deliveries?limit=%35%30%31", self.auth()))
        r = self.read(c, "GET /api/v1/deliveries?limit=%35%30%31 (501)", 400)
        self.assertEqual((r.json() or {}).get("error", {}).get("code"), "invalid_field",
                         "limit=501 (percent-encoded) must be refused as invalid_field: %r" % r)

    def test_percent_encoded_unknown_path_404(self):
        c = self.connect()
        c.send(request("GET", "/api/v1/no%2Dsuch%20thing", self.auth()))
        r = self.read(c, "GET /api/v1/no%2Dsuch%20thing", 404)
        self.assertEqual((r.json() or {}).get("error", {}).get("code"), "not_found", "404 body: %r" % r)
        c.send(request("GET", "/api/v1/webhooks/%7Bnope%7D", self.auth()))
        self.read(c, "GET /api/v1/webhooks/%7Bnope%7D", 404)
        for path in ("/api/v1/webhooks/%00abc", "/api/v1/webhooks/%zz", "/api/v1/webhooks/%", "/%2e%2e/%2e%2e/etc"):
            with self.subTest(path=path):
                self.check_rejected(request("GET", path, self.auth()), (400, 404), "GET " + path)

    # -- 11. client goes away
    def test_client_disconnect_before_the_answer_still_commits(self):
        eids = [str(uuid.uuid4()) for _ in range(5)]
        for eid in eids:
            c = Conn(self.g.port)
            c.send(self.post_request(eid, {"gone": eid}))
            c.close()  # before the answer
        for eid in eids:
            H.wait_until(lambda: self.api("GET", "/api/v1/events/%s" % eid)[0] == 200, 5,
                         message="an event whose client left before the answer must still be committed (%s)" % eid)
        # a repeated id answers 202 with the first call's id (nothing new is created)
        got = self.api("POST", "/api/v1/events", raw=event_json(eids[0], {"gone": eids[0]}))
        self.assertEqual((got[0], (got[1] or {}).get("id")), (202, eids[0]), "re-POST of the same id: %r" % (got,))
        self.assert_serving("clients leaving before the answer")

    def test_half_close_after_pipelined_ingest_answers_everything(self):
        # An ingest, then requests behind it, then the client shuts its side: every
        # request already sent is answered, in order, and then the server closes.
        eids = [str(uuid.uuid4()) for _ in range(2)]
        c = self.connect()
        c.send(self.post_request(eids[0], {"k": 1}) + request("GET", "/healthz")
               + self.post_request(eids[1], {"k": 2}))
        c.sock.shutdown(socket.SHUT_WR)
        self.read(c, "ingest before a half-close", 202)
        self.read(c, "GET /healthz pipelined behind the ingest, then a half-close", 200)
        self.read(c, "a second ingest pipelined behind them, then a half-close", 202)
        self.assert_closed(c, "half-closed connection after its answers")
        for i, eid in enumerate(eids):
            self.assert_event_stored(eid, {"k": i + 1}, "pipelined ingest %d before a half-close" % (i + 1))

    def test_client_that_never_reads_is_not_buffered_without_bound(self):
        # Pipelined requests from a client that reads none of its answers: the server
        # stops reading once unsent answers pile up, so what the client manages to send
        # stays bounded (socket buffers and a few dozen KB), and the server keeps serving.
        s = socket.create_connection(("127.0.0.1", self.g.port), timeout=TIMEOUT)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        chunk = request("GET", "/healthz") * 512
        sent, stalled_since = 0, None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sent < 64 * 1024 * 1024:
            try:
                sent += s.send(chunk)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.5:
                    break
                time.sleep(0.01)
        self.assertLess(sent, 16 * 1024 * 1024,
                        "a client that never reads could push %d bytes of requests: the server keeps "
                        "reading while its answers pile up" % sent)
        self.assert_serving("a client that never reads its answers")

    def test_empty_line_before_the_request_line_is_skipped(self):
        c = self.connect()
        c.send(b"\r\n" + request("GET", "/healthz"))
        self.read(c, "GET /healthz after an empty line", 200)
        self.assert_open(c, "after a request preceded by an empty line")

    def test_head_with_bare_lf_lines_refused_at_once(self):
        # Not a 30 s wait for a CRLF CRLF that will never come: 400, then close.
        self.check_rejected(b"GET /healthz HTTP/1.1\nHost: x\n\n", (400,),
                            "a request head with bare LF line ends", must_close=True)

    def test_http_1_1_without_host_or_with_two_refused(self):
        self.check_rejected(request("GET", "/healthz", host=False), (400,), "HTTP/1.1 without Host")
        self.check_rejected(request("GET", "/healthz", [("Host", "other")]), (400,),
                            "HTTP/1.1 with two Host headers")

    # -- 12. many connections
    def test_two_hundred_connections(self):
        conns = []
        try:
            for i in range(200):
                conns.append(Conn(self.g.port, timeout=10))
            eids = {}
            for i, c in enumerate(conns):
                if i % 10 == 0:
                    eids[i] = str(uuid.uuid4())
                    c.send(self.post_request(eids[i], {"i": i}))
                else:
                    c.send(request("GET", "/healthz"))
            bad = []
            for i, c in enumerate(conns):
                r = c.read_response("connection #%d of 200" % i)
                self.check_framing(r, "connection #%d of 200" % i)
                if not 200 <= r.status < 300:
                    bad.append((i, r))
                elif i in eids and (r.json() or {}).get("id") != eids[i]:
                    bad.append((i, r))
            self.assertEqual(bad, [], "every one of 200 connections must get its 2xx answer; wrong: %r" % bad[:5])
        finally:
            for c in conns:
                c.close()
        self.assert_serving("200 connections")

    # -- 13. slow client
    def test_slow_client_one_byte_at_a_time(self):
        eid = str(uuid.uuid4())
        raw = self.post_request(eid, {"slow": 1})
        pause = min(0.005, 1.5 / len(raw))
        c = self.connect()
        t0 = time.monotonic()
        for i in range(len(raw)):
            c.send(raw[i:i + 1])
            time.sleep(pause)
        r = self.read(c, "a %d-byte POST sent one byte at a time over %.1f s" % (len(raw), time.monotonic() - t0), 202)
        self.assertEqual((r.json() or {}).get("id"), eid)
        self.assert_event_stored(eid, {"slow": 1}, "slow client")


if __name__ == "__main__":
    unittest.main()
