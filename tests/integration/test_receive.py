"""The receiving endpoint POST /in/{sourceId} driven from outside (issue 12, points 1, 2
and 3 without routes): every verification kind and preset with real signatures made
here (a good one, a bad one, a missing header, a body changed by one byte, an old
timestamp, a rotated secret), each refusal in the source's rejections; allowIps with
and without --trusted-proxy; bad input; another company's source; duplicates (also
sent at once); the per-entity order (stale, reorder window); and what
GET /api/v1/receipts[/{id}] and `gancho receipts` / `gancho receipt` show."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
import unittest
import uuid

import harness as H

WHSEC_OLD = "whsec_" + base64.b64encode(b"old-standard-secret-32-bytes-xx!").decode()
WHSEC_NEW = "whsec_" + base64.b64encode(b"new-standard-secret-32-bytes-yy!").decode()
SAMPLE = "candidate-hired.data.json"


def gupy_body(event="application.moved", date="2026-11-30T12:00:00.000Z", msg_id=None,
              data_raw=None, marker="body-marker"):
    """A Gupy webhook body (companyName, id, event, date, data) as bytes; data is the
    seed's candidate.hired data unless data_raw is given. marker goes in companyName,
    to look for the body's text where it must not be."""
    if data_raw is None:
        data_raw = H.read_data(SAMPLE)
    if isinstance(data_raw, str):
        data_raw = data_raw.encode("utf-8")
    head = {"companyName": marker, "id": msg_id or str(uuid.uuid4()), "event": event,
            "date": date}
    return json.dumps(head)[:-1].encode() + b', "data": ' + data_raw + b"}"


def app_data(app_id, step):
    """The seed's data with another application id and current step."""
    d = json.loads(H.read_data(SAMPLE).decode("utf-8"))
    d["application"]["id"] = app_id
    d["application"]["currentStep"]["name"] = step
    return json.dumps(d, ensure_ascii=False)


# ---- signers: the headers a sender would add, computed here -------------------------

def hmac_sig(secret, hash_name, body, encoding):
    mac = hmac.new(secret.encode(), body, getattr(hashlib, hash_name)).digest()
    return mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()


def std_headers(secret, body, msg_id, ts, prefix="webhook"):
    return {prefix + "-id": msg_id, prefix + "-timestamp": str(ts),
            prefix + "-signature": H.standard_signature(secret, msg_id, ts, body)}


class Kind:
    """One verification to test: its API body, how to sign a request, the header(s)
    that carry the credential, whether the body is signed, and the secret text that
    must never show."""

    def __init__(self, name, ver, sign, cred_headers, signed, secret, kind, timed=False,
                 secrets=None):
        self.name, self.ver, self._sign = name, ver, sign
        self.cred_headers, self.signed, self.secret, self.kind = cred_headers, signed, secret, kind
        self.timed = timed
        self.secrets = secrets or [secret]

    def sign(self, body, secret=None, ts=None, msg_id=None):
        return self._sign(body, secret or self.secrets[-1], ts or int(time.time()),
                          msg_id or "msg_" + uuid.uuid4().hex)


def hmac_kind(hash_name, encoding, prefix):
    ver = {"kind": "hmac", "header": "X-Signature", "hash": hash_name, "encoding": encoding,
           "secrets": ["hmac-old-%s-s3cr3t" % hash_name, "hmac-new-%s-s3cr3t" % hash_name]}
    if prefix:
        ver["prefix"] = prefix
    return Kind("hmac-%s-%s%s" % (hash_name, encoding, "-prefixed" if prefix else ""), ver,
                lambda b, s, ts, mid: {"X-Signature": (prefix or "") + hmac_sig(s, hash_name, b, encoding)},
                ["X-Signature"], True, ver["secrets"][1], "hmac", secrets=ver["secrets"])


KINDS = [
    Kind("none", {"kind": "none"}, lambda b, s, ts, mid: {}, [], False, None, "none"),
    Kind("basic", {"kind": "basic", "username": "gupy", "password": "pw-basic-s3cr3t"},
         lambda b, s, ts, mid: {"Authorization": H.basic_header("gupy", s)},
         ["Authorization"], False, "pw-basic-s3cr3t", "basic"),
    Kind("apiKey-default", {"kind": "apiKey", "key": "key-default-s3cr3t"},
         lambda b, s, ts, mid: {"Authorization": s}, ["Authorization"], False,
         "key-default-s3cr3t", "apiKey"),
    Kind("apiKey-header", {"kind": "apiKey", "header": "X-Api-Key", "key": "key-hdr-s3cr3t",
                           "prefix": "Token"},
         lambda b, s, ts, mid: {"X-Api-Key": "Token " + s}, ["X-Api-Key"], False,
         "key-hdr-s3cr3t", "apiKey"),
] + [hmac_kind(h, e, p) for h, e, p in (
    ("sha1", "hex", None), ("sha1", "base64", "sha1="), ("sha256", "hex", "sha256="),
    ("sha256", "base64", None), ("sha512", "hex", None), ("sha512", "base64", "v1="))] + [
    Kind("standard", {"kind": "standard", "secrets": [WHSEC_OLD, WHSEC_NEW]},
         lambda b, s, ts, mid: std_headers(s, b, mid, ts),
         ["webhook-signature"], True, WHSEC_NEW[6:], "standard", timed=True,
         secrets=[WHSEC_OLD, WHSEC_NEW]),
    Kind("acesso", {"preset": "acesso", "secrets": ["acesso-old-s3cr3t", "acesso-new-s3cr3t"]},
         lambda b, s, ts, mid: {"Acesso-Signature": H.acesso_signature(s, b)},
         ["Acesso-Signature"], True, "acesso-new-s3cr3t", "hmac",
         secrets=["acesso-old-s3cr3t", "acesso-new-s3cr3t"]),
    Kind("github", {"preset": "github", "secrets": ["github-old-s3cr3t", "github-new-s3cr3t"]},
         lambda b, s, ts, mid: {"X-Hub-Signature-256": "sha256=" + hmac_sig(s, "sha256", b, "hex")},
         ["X-Hub-Signature-256"], True, "github-new-s3cr3t", "hmac",
         secrets=["github-old-s3cr3t", "github-new-s3cr3t"]),
    Kind("svix", {"preset": "svix", "secrets": [WHSEC_OLD, WHSEC_NEW]},
         lambda b, s, ts, mid: std_headers(s, b, mid, ts, prefix="svix"),
         ["svix-signature"], True, WHSEC_NEW[6:], "standard", timed=True,
         secrets=[WHSEC_OLD, WHSEC_NEW]),
]
KIND = {k.name: k for k in KINDS}


class ReceiveCase(H.GanchoTestCase):
    """Helpers shared by the classes below."""

    def create_source(self, token=H._NO_TOKEN, **fields):
        body = {"name": "Gupy", "verification": {"kind": "none"}}
        body.update(fields)
        got = self.api("POST", "/api/v1/sources", body, token=token)
        return self.assertStatus(got, 201, "POST /api/v1/sources %s" % json.dumps(body)[:300])

    def send(self, sid, body, headers=None, g=None):
        """POST /in/<sid> without a bearer token; (status, json, raw)."""
        return self.api("POST", "/in/" + sid, raw=body, headers=headers, token=None, g=g)

    def accept(self, sid, body, headers=None, what="", g=None):
        js = self.assertStatus(self.send(sid, body, headers, g=g), 200, "POST /in %s" % what)
        self.assertRegex(js["id"], H.UUID_RE)
        return js

    def refuse(self, sid, body, headers, status, what, code=None):
        return self.assertStatus(self.send(sid, body, headers), status, "POST /in %s" % what,
                                 code=code)

    def receipt(self, rid, token=H._NO_TOKEN):
        got = self.api("GET", "/api/v1/receipts/" + rid, token=token)
        return self.assertStatus(got, 200, "GET /api/v1/receipts/%s" % rid)

    def receipts(self, query="", token=H._NO_TOKEN):
        return self.list_all("/api/v1/receipts" + query, token=token)

    def rejections(self, sid):
        got = self.api("GET", "/api/v1/sources/%s/rejections" % sid)
        return self.assertStatus(got, 200, "rejections of %s" % sid)["data"], got[2]

    def wait_rejections(self, sid, n):
        """The rejections are written by the group commit after the answer: wait for n."""
        return wait_for(lambda: (lambda r: r if len(r[0]) >= n else None)(self.rejections(sid)),
                        "%d rejection(s) for %s" % (n, sid))


def wait_for(fn, what, timeout=10):
    return H.wait_until(fn, timeout, 0.05, "waited for " + what)


class VerificationTest(ReceiveCase):
    """Each kind and preset: good, bad, missing, body changed, old timestamp, rotation."""

    def check_kind(self, k):
        src = self.create_source(verification=k.ver)
        sid = src["id"]
        marker = "marker-" + uuid.uuid4().hex
        # a good signature: 200, and a receipt readable with GET
        body = gupy_body(marker=marker)
        mid = "msg_" + uuid.uuid4().hex
        ans = self.accept(sid, body, k.sign(body, msg_id=mid), k.name)
        r = self.receipt(ans["id"])
        self.assertEqual(r["sourceId"], sid)
        self.assertEqual(r["status"], "routed", "a receipt without entity is applied at once")
        self.assertEqual(r["verification"], k.kind, k.name)
        self.assertEqual(r["address"], "127.0.0.1")
        self.assertEqual(r["event"], "application.moved")
        self.assertEqual(r["date"], "2026-11-30T12:00:00.000Z")
        self.assertEqual(r["duplicates"], 0)
        self.assertIsNone(r["entity"])
        self.assertEqual(r["body"], json.loads(body), "the body as received")
        self.assertEqual(r["deliveries"], [])
        # the sender's id: the body's id, or for standard/svix the signed id header
        self.assertEqual(r["messageId"], mid if k.timed else json.loads(body)["id"])
        for h in k.cred_headers + ["Authorization"]:
            self.assertNotIn(h.lower(), r["headers"], "%s: credential header kept" % k.name)
        if k.secret:
            got = self.api("GET", "/api/v1/receipts/" + ans["id"])
            self.assertNotIn(k.secret.encode(), got[2], "%s: the receipt shows the secret" % k.name)
        self.assertEqual(self.receipt(ans["id"])["headers"].get("content-type"), "application/json")
        refusals = 0
        if k.name != "none":
            # a bad credential or signature
            body2 = gupy_body(marker=marker)
            bad = k.sign(body2, secret=(k.secrets[-1] + "x") if not k.timed else WHSEC_NEW[:-8] + "AAAAAAA=")
            self.refuse(sid, body2, bad, 401, "%s bad" % k.name)
            # the header missing
            good = k.sign(body2)
            missing = {h: v for h, v in good.items() if h not in k.cred_headers}
            self.refuse(sid, body2, missing, 401, "%s missing" % k.name, code="missing_header")
            refusals += 2
            # nothing of the refusals was stored
            self.assertEqual(len(self.receipts("?sourceId=" + sid)), 1)
        if k.signed:
            # the body changed by one byte after signing
            body3 = gupy_body(marker=marker)
            h3 = k.sign(body3)
            changed = body3.replace(b"Developer", b"Developeq")
            self.assertEqual(len(changed), len(body3))
            self.refuse(sid, changed, h3, 401, "%s body changed" % k.name,
                        code="signature_mismatch")
            refusals += 1
        if k.timed:
            body4 = gupy_body(marker=marker)
            for ts in (int(time.time()) - 600, int(time.time()) + 600):
                self.refuse(sid, body4, k.sign(body4, ts=ts), 401, "%s timestamp %d" % (k.name, ts),
                            code="timestamp_out_of_tolerance")
                refusals += 1
        if len(k.secrets) > 1:
            # during a rotation both the old and the new secret pass
            for s in k.secrets:
                b5 = gupy_body(marker=marker)
                self.accept(sid, b5, k.sign(b5, secret=s), "%s rotated secret" % k.name)
        # each refusal in the rejections: reason and address, never a secret or the body
        if refusals:
            rows, raw = self.wait_rejections(sid, refusals)
            self.assertEqual(len(rows), refusals, rows)
            for row in rows:
                self.assertEqual(row["address"], "127.0.0.1")
                self.assertTrue(row["reason"].startswith("401 "), row)
                self.assertRegex(row["at"], H.DATE_RE)
            self.assertNotIn(marker.encode(), raw, "a rejection shows the body")
            self.assertNotIn(b"Developer", raw, "a rejection shows the body")
            for s in k.secrets:
                if s:
                    self.assertNotIn(s.encode(), raw, "a rejection shows a secret")
                    self.assertNotIn(s[6:].encode() if s.startswith("whsec_") else s.encode(), raw)
        else:
            self.assertEqual(self.rejections(sid)[0], [])
        self.assertEqual(len(self.receipts("?sourceId=" + sid)), 1 + (len(k.secrets) if len(k.secrets) > 1 else 0))

    def test_none_basic_and_api_keys(self):
        for name in ("none", "basic", "apiKey-default", "apiKey-header"):
            with self.subTest(kind=name):
                self.check_kind(KIND[name])

    def test_hmac_each_hash_and_encoding(self):
        for k in KINDS:
            if k.name.startswith("hmac-"):
                with self.subTest(kind=k.name):
                    self.check_kind(k)

    def test_standard_webhooks(self):
        self.check_kind(KIND["standard"])

    def test_presets(self):
        for name in ("acesso", "github", "svix"):
            with self.subTest(kind=name):
                self.check_kind(KIND[name])

    def test_standard_id_is_the_signed_id_so_a_resend_is_a_duplicate(self):
        # Standard Webhooks: a resend carries the same webhook-id and a new timestamp
        k = KIND["standard"]
        sid = self.create_source(verification=k.ver)["id"]
        body = gupy_body()
        first = self.accept(sid, body, k.sign(body, msg_id="msg_resent", ts=int(time.time()) - 5))
        again = self.send(sid, body, k.sign(body, msg_id="msg_resent"))
        self.assertEqual(again[0], 200)
        self.assertEqual(again[1], {"id": first["id"], "duplicate": True})
        self.assertEqual(self.receipt(first["id"])["duplicates"], 1)


def post_lines(g, path, header_lines, body):
    """POST body with header_lines ([(name, value)], repeats kept as separate lines)."""
    conn = H.http.client.HTTPConnection("127.0.0.1", g.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        for k, v in header_lines:
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class AllowIpsTest(ReceiveCase):
    """allowIps without --trusted-proxy: X-Forwarded-For is never believed."""

    def test_foreign_address_refused_and_forwarded_for_ignored(self):
        sid = self.create_source(allowIps=["10.0.0.0/8"])["id"]
        body = gupy_body()
        self.refuse(sid, body, None, 403, "from 127.0.0.1", code="forbidden")
        self.refuse(sid, body, {"X-Forwarded-For": "10.1.2.3"}, 403,
                    "X-Forwarded-For without --trusted-proxy", code="forbidden")
        # without a trusted proxy any number of lines is ignored alike
        st, raw = post_lines(self.g, "/in/" + sid, [("X-Forwarded-For", "10.1.2.3")] * 40,
                             gupy_body())
        self.assertEqual(st, 403, raw[:300])
        rows, _ = self.wait_rejections(sid, 3)
        self.assertEqual([r["address"] for r in rows], ["127.0.0.1"] * 3)
        self.assertTrue(all(r["reason"].startswith("403 ") for r in rows), rows)
        self.assertEqual(self.receipts("?sourceId=" + sid), [])
        # a source allowing loopback takes the same request
        sid2 = self.create_source(allowIps=["127.0.0.0/8", "::1/128"])["id"]
        self.accept(sid2, body)


class TrustedProxyTest(ReceiveCase):
    """With --trusted-proxy 127.0.0.1/32 the client is what X-Forwarded-For says."""

    gancho_args = ("--trusted-proxy", "127.0.0.1/32")

    def test_forwarded_client_allowed_and_recorded(self):
        sid = self.create_source(allowIps=["10.0.0.0/8"])["id"]
        ans = self.accept(sid, gupy_body(), {"X-Forwarded-For": "10.1.2.3"}, "through the proxy")
        self.assertEqual(self.receipt(ans["id"])["address"], "10.1.2.3")
        # the proxy itself (no X-Forwarded-For) is not in 10.0.0.0/8
        self.refuse(sid, gupy_body(), None, 403, "the proxy's own address", code="forbidden")
        # a forwarded client outside the list is refused under its own address
        self.refuse(sid, gupy_body(), {"X-Forwarded-For": "203.0.113.9"}, 403, "foreign client")
        # the client is the rightmost address the proxy did not write itself
        ans = self.accept(sid, gupy_body(), {"X-Forwarded-For": "203.0.113.9, 10.9.8.7"})
        self.assertEqual(self.receipt(ans["id"])["address"], "10.9.8.7")
        # what the trusted proxy says must be an address
        self.refuse(sid, gupy_body(), {"X-Forwarded-For": "unknown"}, 400, "not an address",
                    code="invalid_forwarded_for")
        # a proxy that adds its own line after many the client wrote: the
        # client's lines are never taken for the proxy's
        lines = [("X-Forwarded-For", "10.1.2.3")] * 40 + [("X-Forwarded-For", "203.0.113.7")]
        st, raw = post_lines(self.g, "/in/" + sid, lines, gupy_body())
        self.assertEqual(st, 400, raw[:300])
        self.assertIn(b"invalid_forwarded_for", raw)
        rows, _ = self.wait_rejections(sid, 4)
        self.assertEqual(sorted(r["address"] for r in rows),
                         ["127.0.0.1", "127.0.0.1", "127.0.0.1", "203.0.113.9"])
        self.assertEqual(len(self.receipts("?sourceId=" + sid)), 2)


class BadInputTest(ReceiveCase):
    """Each bad request: a clear 4xx, nothing stored, the server still up."""

    def test_bad_bodies(self):
        sid = self.create_source()["id"]
        cases = [
            (b"this is not json", "not JSON"),
            (H.read_data("pre-employee-moved.raw.txt"), "Gupy's non-strict sample"),
            (b'{"event": "application.moved", "date": "2026-11-30T12:00:00Z", "data": {}}', "no id"),
            (b'{"id": "x1", "date": "2026-11-30T12:00:00Z", "data": {}}', "no event"),
            (b'{"id": "x2", "event": "e", "date": "2026-11-30T12:00:00", "data": {}}',
             "date without offset"),
            (b'{"id": "x3", "event": "e", "date": 1764504000, "data": {}}', "date a number"),
            (b'{"id": {"a": 1}, "event": "e", "date": "2026-11-30T12:00:00Z"}', "id an object"),
            (b"", "empty body"),
        ]
        for body, what in cases:
            js = self.refuse(sid, body, None, 400, what, code="invalid_body")
            self.assertTrue(js["error"]["message"], what)
        rows, raw = self.wait_rejections(sid, len(cases))
        self.assertEqual(len(rows), len(cases))
        self.assertTrue(all(r["reason"].startswith("400 invalid_body") for r in rows), rows)
        self.assertNotIn(b"pre-employee", raw, "a rejection shows the body")
        self.assertEqual(self.receipts(), [])
        self.assertTrue(self.g.alive())

    def test_ten_megabytes_refused(self):
        sid = self.create_source()["id"]
        big = gupy_body(data_raw='"' + "x" * (10 * 1024 * 1024) + '"')
        status, _ = self.g.post_raw_streaming("/in/" + sid, [], big)
        self.assertEqual(status, 413)
        self.assertEqual(self.receipts(), [])
        # still serving, and the next normal request passes
        self.accept(sid, gupy_body())
        st, _, _ = self.g.api("GET", "/healthz")
        self.assertEqual(st, 200)

    def test_over_max_body_bytes_refused_and_recorded(self):
        sid = self.create_source(maxBodyBytes=1024)["id"]
        body = gupy_body()
        self.assertGreater(len(body), 1024)
        self.refuse(sid, body, None, 413, "over maxBodyBytes", code="payload_too_large")
        rows, _ = self.wait_rejections(sid, 1)
        self.assertTrue(rows[0]["reason"].startswith("413 "), rows)
        self.assertEqual(self.receipts(), [])

    def test_max_body_bytes_above_the_server_limit(self):
        sid = self.create_source(maxBodyBytes=4 * 1048576)["id"]
        body = gupy_body(data_raw='"' + "x" * (1536 * 1024) + '"')
        self.accept(sid, body, what="a 1.5 MiB body under the source's 4 MiB")
        self.refuse(sid, gupy_body(data_raw='"' + "x" * (5 * 1048576) + '"'), None, 413,
                    "over the source's 4 MiB", code="payload_too_large")
        self.wait_rejections(sid, 1)

    def test_unknown_source_is_404_and_nothing_stored(self):
        sid = self.create_source()["id"]
        for bad, status in ((str(uuid.uuid4()), 404), ("not-a-uuid", 404), ("x" * 300, 404),
                            ("%00", 400)):
            got = self.send(bad, gupy_body())
            self.assertEqual(got[0], status, "POST /in/%s: %r" % (bad[:40], got[2][:200]))
        # a deleted source answers 404 too
        gone = self.create_source()["id"]
        self.assertStatus(self.api("DELETE", "/api/v1/sources/" + gone), 204, "delete")
        self.assertEqual(self.send(gone, gupy_body())[0], 404)
        self.assertEqual(self.receipts(), [])
        self.assertEqual(self.rejections(sid)[0], [])
        self.assertTrue(self.g.alive())

    def test_other_methods_paths_and_a_chunked_body(self):
        sid = self.create_source()["id"]
        # another method says the same whether the source exists or not
        for path in ("/in/" + sid, "/in/" + str(uuid.uuid4())):
            self.assertStatus(self.api("GET", path, token=None), 405, "GET " + path,
                              code="method_not_allowed")
        self.assertStatus(self.send("", gupy_body()), 404, "POST /in/", code="not_found")
        self.assertStatus(self.send(sid + "/x", gupy_body()), 404, "a longer path", code="not_found")
        # a chunked body is received like any other
        body = gupy_body()
        conn = H.http.client.HTTPConnection("127.0.0.1", self.g.port, timeout=30)
        try:
            conn.request("POST", "/in/" + sid, body=iter([body[:10], body[10:]]),
                         headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
            resp = conn.getresponse()
            st, raw = resp.status, resp.read()
        finally:
            conn.close()
        self.assertEqual(st, 200, raw)
        self.assertEqual(self.receipt(json.loads(raw)["id"])["body"], json.loads(body))
        self.assertEqual(self.rejections(sid)[0], [])

    def test_another_companys_source(self):
        # the sender has no token: the source's own verification decides
        _, other = self.g.create_company("Other-" + uuid.uuid4().hex[:8])
        k = KIND["acesso"]
        theirs = self.create_source(token=other, verification=k.ver)["id"]
        body = gupy_body()
        ans = self.accept(theirs, body, k.sign(body), "to the other company's source")
        self.refuse(theirs, body, k.sign(body, secret="wrong"), 401, "wrong secret")
        # it is theirs: readable by them, not found for us
        self.assertEqual(self.receipt(ans["id"], token=other)["sourceId"], theirs)
        got = self.api("GET", "/api/v1/receipts/" + ans["id"])
        self.assertStatus(got, 404, "another company's receipt", code="not_found")
        self.assertEqual(self.receipts(), [])
        self.assertEqual(self.receipts("?sourceId=" + theirs), [])
        self.assertEqual(len(self.receipts(token=other)), 1)
        got = self.api("GET", "/api/v1/sources/%s/rejections" % theirs)
        self.assertStatus(got, 404, "another company's rejections")


class DuplicatesTest(ReceiveCase):

    def test_same_id_twice(self):
        sid = self.create_source()["id"]
        body = gupy_body(msg_id="gupy-dup-1")
        first = self.send(sid, body)
        second = self.send(sid, body)
        self.assertEqual((first[0], second[0]), (200, 200))
        self.assertEqual(first[1], {"id": first[1]["id"]})
        self.assertEqual(second[1], {"id": first[1]["id"], "duplicate": True})
        r = self.receipt(first[1]["id"])
        self.assertEqual(r["duplicates"], 1)
        self.assertEqual(r["messageId"], "gupy-dup-1")
        self.assertEqual(len(self.receipts()), 1)
        # the same sender id at another source is another receipt
        sid2 = self.create_source()["id"]
        other = self.accept(sid2, body)
        self.assertNotEqual(other["id"], first[1]["id"])

    def test_same_id_at_once(self):
        sid = self.create_source()["id"]
        body = gupy_body(msg_id="gupy-dup-concurrent")
        n = 12
        answers = [None] * n
        start = threading.Barrier(n)

        def go(i):
            start.wait()
            answers[i] = self.send(sid, body)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertTrue(all(a and a[0] == 200 for a in answers), answers)
        ids = {a[1]["id"] for a in answers}
        self.assertEqual(len(ids), 1, "one receipt for one sender id: %r" % answers)
        self.assertEqual(sum(1 for a in answers if not a[1].get("duplicate")), 1, answers)
        self.assertEqual(self.receipt(ids.pop())["duplicates"], n - 1)
        self.assertEqual(len(self.receipts()), 1)


class EntityOrderTest(ReceiveCase):
    """The entity's order by the sender's date, without routes."""

    ENTITY = {"type": "application", "key": "data.application.id",
              "keep": {"step": "data.application.currentStep.name", "jobId": "data.job.id"}}

    def test_older_event_after_a_newer_one_is_stale(self):
        sid = self.create_source(entity=self.ENTITY)["id"]
        newer = self.accept(sid, gupy_body("application.moved", "2026-11-30T12:00:05.000-03:00",
                                           data_raw=app_data(4242, "Exame")))
        older = self.accept(sid, gupy_body("application.created", "2026-11-30T14:59:59.999Z",
                                           data_raw=app_data(4242, "Cadastro")))
        rn, ro = self.receipt(newer["id"]), self.receipt(older["id"])
        self.assertEqual(rn["status"], "routed")
        self.assertEqual(ro["status"], "stale")
        for r in (rn, ro):
            self.assertEqual(r["entity"], {"type": "application", "key": "4242",
                                           "kept": {"step": "Exame", "jobId": 19139}})
        # a newer one moves the entity on; an event of the same instant applies too
        later = self.accept(sid, gupy_body("application.moved", "2026-11-30T15:00:06Z",
                                           data_raw=app_data(4242, "Contratação")))
        same = self.accept(sid, gupy_body("application.moved", "2026-11-30T15:00:06.000Z",
                                          data_raw=app_data(4242, "Proposta")))
        self.assertEqual(self.receipt(later["id"])["status"], "routed")
        self.assertEqual(self.receipt(same["id"])["status"], "routed")
        self.assertEqual(self.receipt(older["id"])["entity"]["kept"]["step"], "Proposta")
        # another entity is not touched
        other = self.accept(sid, gupy_body("application.created", "2020-01-01T00:00:00Z",
                                           data_raw=app_data(4243, "Cadastro")))
        self.assertEqual(self.receipt(other["id"])["status"], "routed")
        # the filters
        by_entity = self.receipts("?entity=4242")
        self.assertEqual([r["id"] for r in by_entity],
                         [same["id"], later["id"], older["id"], newer["id"]])
        self.assertEqual([r["id"] for r in self.receipts("?entity=4242&status=stale")], [older["id"]])
        self.assertEqual([r["id"] for r in self.receipts("?event=application.created")],
                         [other["id"], older["id"]])
        self.assertEqual(by_entity[0]["entity"], {"type": "application", "key": "4242"})

    def test_reorder_window_applies_in_date_order(self):
        ent = dict(self.ENTITY, reorderWindowSeconds=1)
        sid = self.create_source(entity=ent)["id"]
        newer = self.accept(sid, gupy_body("application.moved", "2026-11-30T12:00:05Z",
                                           data_raw=app_data(777, "Exame")))
        time.sleep(0.3)
        older_body = gupy_body("application.created", "2026-11-30T12:00:00Z",
                               data_raw=app_data(777, "Cadastro"))
        older = self.accept(sid, older_body)
        # a duplicate while it waits is answered and counted, never applied twice
        self.assertEqual(self.send(sid, older_body)[1], {"id": older["id"], "duplicate": True})

        def settled():
            rs = [self.receipt(x["id"]) for x in (newer, older)]
            return rs if all(r["status"] != "waiting" for r in rs) else None

        rn, ro = wait_for(settled, "the reorder window to close")
        self.assertEqual((rn["status"], ro["status"]), ("routed", "routed"),
                         "inside the window an older event is applied in order, not stale")
        self.assertEqual(rn["entity"]["kept"], {"step": "Exame", "jobId": 19139})
        self.assertEqual((rn["duplicates"], ro["duplicates"]), (0, 1))
        # after the window an older one is stale again
        late = self.accept(sid, gupy_body("application.created", "2026-11-30T11:00:00Z",
                                          data_raw=app_data(777, "Antes")))
        rl = wait_for(lambda: (lambda r: r if r["status"] != "waiting" else None)(
            self.receipt(late["id"])), "the late receipt to be decided")
        self.assertEqual(rl["status"], "stale")
        self.assertEqual(rl["entity"]["kept"]["step"], "Exame")

    def test_waiting_inside_a_long_window(self):
        sid = self.create_source(entity=dict(self.ENTITY, reorderWindowSeconds=60))["id"]
        ans = self.accept(sid, gupy_body(data_raw=app_data(9001, "Exame")))
        r = self.receipt(ans["id"])
        self.assertEqual(r["status"], "waiting")
        self.assertEqual(r["entity"], {"type": "application", "key": "9001", "kept": None},
                         "no receipt of the entity applied yet")
        self.assertEqual([x["id"] for x in self.receipts("?status=waiting")], [ans["id"]])
        self.assertEqual(self.receipts("?status=routed"), [])

    def test_null_entity_key_is_no_entity(self):
        sid = self.create_source(entity=self.ENTITY)["id"]
        newer = self.accept(sid, gupy_body(date="2026-11-30T12:00:00Z", data_raw=app_data(None, "A")))
        older = self.accept(sid, gupy_body(date="2026-11-29T12:00:00Z", data_raw=app_data(None, "B")))
        for x in (newer, older):
            r = self.receipt(x["id"])
            self.assertEqual((r["status"], r["entity"]), ("routed", None))

    def test_long_entity_key_found_by_its_text(self):
        sid = self.create_source(entity=self.ENTITY)["id"]
        key = "candidatura-" + "7" * 120
        ans = self.accept(sid, gupy_body(data_raw=app_data(key, "Exame")))
        r = self.receipt(ans["id"])
        self.assertTrue(r["entity"]["key"].startswith("~"), "a long key is kept hashed: %r" % r["entity"])
        self.assertEqual(r["entity"]["kept"]["step"], "Exame")
        self.assertEqual([x["id"] for x in self.receipts("?entity=" + H.urllib_quote(key))], [ans["id"]])
        self.assertEqual(self.receipts("?entity=" + H.urllib_quote(key[:-1])), [])


class ReceiptsApiTest(ReceiveCase):

    def test_list_filters_and_pages(self):
        a = self.create_source()["id"]
        b = self.create_source()["id"]
        ids = [self.accept(a if i % 2 else b, gupy_body(event="e%d" % (i % 3)))["id"] for i in range(7)]
        everything = self.receipts()
        self.assertEqual([r["id"] for r in everything], ids[::-1], "newest first")
        got = self.api("GET", "/api/v1/receipts?limit=2")
        js = self.assertStatus(got, 200, "page 1")
        self.assertEqual([r["id"] for r in js["data"]], ids[::-1][:2])
        self.assertIsNotNone(js["nextCursor"])
        js2 = self.assertStatus(self.api("GET", "/api/v1/receipts?limit=2&cursor=" + js["nextCursor"]),
                                200, "page 2")
        self.assertEqual([r["id"] for r in js2["data"]], ids[::-1][2:4])
        self.assertEqual([r["id"] for r in self.receipts("?sourceId=" + a)],
                         [i for n, i in enumerate(ids) if n % 2][::-1])
        self.assertEqual([r["id"] for r in self.receipts("?event=e1&sourceId=" + b)],
                         [i for n, i in enumerate(ids) if n % 3 == 1 and n % 2 == 0][::-1])
        self.assertEqual(self.receipts("?sourceId=" + str(uuid.uuid4())), [])
        self.assertEqual(len(self.receipts("?status=routed")), 7)
        self.assertEqual(self.receipts("?status=waiting"), [])
        row = everything[0]
        self.assertEqual(sorted(row), sorted(["id", "sourceId", "event", "messageId", "date",
                                              "receivedAt", "status", "duplicates",
                                              "verification", "address", "origin", "entity"]))
        for q, what in (("?status=done", "status"), ("?limit=0", "limit"), ("?limit=501", "limit"),
                        ("?cursor=abc", "cursor"), ("?event=" + "e" * 200, "event")):
            self.assertStatus(self.api("GET", "/api/v1/receipts" + q), 400, q, code="invalid_field")
        self.assertStatus(self.api("GET", "/api/v1/receipts/" + str(uuid.uuid4())), 404, "unknown",
                          code="not_found")
        self.assertStatus(self.api("GET", "/api/v1/receipts/" + "x" * 100), 404, "long id")
        self.assertStatus(self.api("GET", "/api/v1/receipts", token=None), 401, "no token")

    def test_one_receipt_keeps_the_bytes(self):
        sid = self.create_source(entity={"type": "application", "key": "data.application.id",
                                         "keep": {"big": "data.big"}})["id"]
        data = ('{"application": {"id": 12345678901234567890123, "currentStep": {"name": "Exame"}},'
                ' "big": 123456789012345678901234567890, "z": 1, "a": 2}')
        body = gupy_body(data_raw=data)
        long1, long2 = "X-Trace-" + "a" * 200 + "-One", "X-Trace-" + "a" * 200 + "-Two"
        ans = self.accept(sid, body, {"X-Request-Id": "abc", "Cookie": "session=s3cr3t",
                                      long1: "one", long2: "two"})
        st, _, raw = self.api("GET", "/api/v1/receipts/" + ans["id"])
        self.assertEqual(st, 200)
        self.assertIn(body, raw, "the body comes back byte for byte")
        self.assertIn(b'"kept":{"big":123456789012345678901234567890}', raw)
        self.assertNotIn(b"s3cr3t", raw, "a cookie is a credential")
        r = json.loads(raw)
        self.assertEqual(r["headers"]["x-request-id"], "abc")
        # header names kept whole: two long ones stay two
        self.assertEqual((r["headers"].get(long1.lower()), r["headers"].get(long2.lower())),
                         ("one", "two"))
        self.assertEqual(raw.count(b'"x-trace-'), 2)
        self.assertEqual(r["entity"]["key"], "12345678901234567890123")
        self.assertEqual(list(r), ["id", "sourceId", "event", "messageId", "date", "receivedAt",
                                   "status", "duplicates", "verification", "address", "origin", "entity",
                                   "headers", "body", "deliveries"])

    def test_cli(self):
        sid = self.create_source(entity={"type": "application", "key": "data.application.id",
                                         "keep": {"step": "data.application.currentStep.name"}})["id"]
        ans = self.accept(sid, gupy_body(data_raw=app_data(31337, "Exame")))
        self.accept(self.create_source()["id"], gupy_body())
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANCHO_")}
        env.update(GANCHO_URL=self.g.base, GANCHO_TOKEN=self.token)

        def cli(*args):
            p = subprocess.run([H.gancho_bin()] + list(args), capture_output=True, env=env, timeout=60)
            return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

        for verb in (("receipts", "--help"), ("receipt", "--help")):
            rc, out, err = cli(*verb)
            self.assertEqual(rc, 0, err)
            self.assertIn("usage: gancho " + verb[0], out)
        rc, out, err = cli("receipts")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.strip().splitlines()), 3, out)
        rc, out, err = cli("receipts", "--source", sid, "--entity", "31337", "--status", "routed")
        self.assertEqual(rc, 0, err)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertIn(ans["id"], lines[1])
        self.assertIn("31337", lines[1])
        rc, out, err = cli("receipts", "--status", "bogus")
        self.assertEqual(rc, 2, out + err)
        rc, out, err = cli("receipt", ans["id"])
        self.assertEqual(rc, 0, err)
        self.assertIn(sid, out)
        self.assertIn('{"step":"Exame"}', out)
        rc, out, err = cli("receipt", ans["id"], "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["id"], ans["id"])
        rc, out, err = cli("receipt", str(uuid.uuid4()))
        self.assertEqual(rc, 1)
        self.assertIn("not_found", err)


if __name__ == "__main__":
    unittest.main()
