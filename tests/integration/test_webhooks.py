"""Webhook management: create (Gupy body), list, get, patch, delete, validation, isolation."""

import json
import time
import unittest
import uuid

import harness as H

GUPY_BODY = {
    "action": "application.moved",
    "status": "active",
    "postbackUrl": "https://urldo.agenteintegrador.net",
    "techOwnerName": "Nome Sobrenome",
    "techOwnerEmail": "nome@example.com",
}


class WebhookCrudTest(H.GanchoTestCase):

    def test_create_with_the_gupy_body(self):
        got = self.api("POST", "/api/v1/webhooks", GUPY_BODY)
        js = self.assertStatus(got, 201, "POST /api/v1/webhooks with Gupy's body")
        self.assertRegex(js.get("id", ""), H.UUID_RE, "webhook id must be a UUID: %r" % (js,))
        for k in ("action", "postbackUrl", "status", "techOwnerName", "techOwnerEmail"):
            self.assertEqual(js.get(k), GUPY_BODY[k], "answer field %s: %r" % (k, js))
        self.assertEqual(js.get("events"), ["application.moved"], "the answer always has events too: %r" % (js,))
        again = self.webhook(js["id"])
        for k in ("id", "action", "postbackUrl", "status", "techOwnerName", "techOwnerEmail"):
            self.assertEqual(again.get(k), js.get(k), "GET field %s" % k)
        # Default status is active; clientHeaders are shown back.
        body = dict(GUPY_BODY)
        del body["status"]
        body["clientHeaders"] = {"X-Api-Key": "abc"}
        js2 = self.assertStatus(self.api("POST", "/api/v1/webhooks", body), 201, "create without status")
        self.assertEqual(js2.get("status"), "active", "default status")
        self.assertEqual(js2.get("clientHeaders"), {"X-Api-Key": "abc"}, "clientHeaders shown back")
        self.assertNotEqual(js2["id"], js["id"])

    def test_events_list_form_and_url_alias(self):
        evs = ["position-created", "position-applied", "position-declined"]
        js = self.create_webhook(events=evs, postbackUrl="https://example.com/acesso")
        self.assertEqual(js.get("events"), evs, "events kept in order")
        self.assertEqual(js.get("action"), evs[0], "action is the first of events")
        js2 = self.create_webhook(events=["position-created"], url="https://example.com/alias")
        self.assertEqual(js2.get("postbackUrl"), "https://example.com/alias", "url is an alias of postbackUrl")

    def test_get_patch_delete(self):
        js = self.create_webhook(action="candidate.hired", postbackUrl="https://example.com/a",
                                 techOwnerName="Ana")
        wid = js["id"]
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (wid,),
                       {"postbackUrl": "https://example.com/b", "status": "inactive", "techOwnerName": "Bia",
                        "events": ["job.published", "job.changed"]})
        p = self.assertStatus(got, 200, "PATCH webhook")
        self.assertEqual(p.get("postbackUrl"), "https://example.com/b")
        self.assertEqual(p.get("status"), "inactive")
        self.assertEqual(p.get("techOwnerName"), "Bia")
        self.assertEqual(p.get("events"), ["job.published", "job.changed"])
        self.assertEqual(p.get("action"), "job.published")
        g = self.webhook(wid)
        self.assertEqual((g.get("postbackUrl"), g.get("status"), g.get("techOwnerName")),
                         ("https://example.com/b", "inactive", "Bia"), "GET after PATCH: %r" % (g,))
        # An invalid PATCH changes nothing.
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (wid,), {"postbackUrl": "ftp://example.com", "techOwnerName": "X"})
        self.assertStatus(got, 400, "PATCH with a bad postbackUrl", code="invalid_field")
        g = self.webhook(wid)
        self.assertEqual((g.get("postbackUrl"), g.get("techOwnerName")), ("https://example.com/b", "Bia"),
                         "a refused PATCH must change nothing: %r" % (g,))
        self.assertStatus(self.api("PUT", "/api/v1/webhooks/%s" % (wid,), {"status": "active"}), 405, "PUT webhook",
                          code="method_not_allowed")
        got = self.api("DELETE", "/api/v1/webhooks/%s" % (wid,))
        self.assertEqual(got[0], 204, "DELETE webhook: %d %r" % (got[0], got[2][:200]))
        self.assertStatus(self.api("GET", "/api/v1/webhooks/%s" % (wid,)), 404, "GET after DELETE", code="not_found")
        self.assertStatus(self.api("DELETE", "/api/v1/webhooks/%s" % (wid,)), 404, "DELETE twice", code="not_found")
        self.assertStatus(self.api("PATCH", "/api/v1/webhooks/%s" % (wid,), {"status": "active"}), 404,
                          "PATCH after DELETE", code="not_found")
        self.assertEqual(self.list_all("/api/v1/webhooks"), [], "the list after DELETE")
        self.assertStatus(self.api("GET", "/api/v1/webhooks/%s" % (uuid.uuid4(),)), 404, "unknown id",
                          code="not_found")

    def test_delete_fails_open_deliveries(self):
        wh = self.create_webhook(action="candidate.hired", status="inactive")
        ev = self.post_event("candidate.hired", {"a": 1})
        d = self.delivery_for(wh["id"], ev["id"])
        self.assertIsNotNone(d, "a delivery must exist for the paused webhook")
        self.assertEqual(d["status"], "held", "a paused webhook's delivery is held: %r" % (d,))
        self.assertEqual(self.api("DELETE", "/api/v1/webhooks/%s" % (wh["id"],))[0], 204)
        got = self.api("GET", "/api/v1/deliveries/%s" % (d["id"],))
        dd = self.assertStatus(got, 200, "the delivery of a deleted webhook stays readable")
        self.assertEqual(dd.get("status"), "failed", "open deliveries become failed on DELETE: %r" % (dd,))
        self.assertIn("webhook deleted", dd.get("lastError") or "", "lastError: %r" % (dd,))
        self.assertEqual(self.rx.count(), 0)

    def test_pagination(self):
        ids = []
        for i in range(7):
            time.sleep(0.002)  # distinct creation times, so "newest first" is well defined
            ids.append(self.create_webhook(action="candidate.hired", postbackUrl="https://example.com/%d" % i)["id"])
        pages = []
        cursor = None
        for _ in range(5):
            url = "/api/v1/webhooks?limit=3" + ("&cursor=" + H.urllib_quote(cursor) if cursor else "")
            js = self.assertStatus(self.api("GET", url), 200, "GET " + url)
            self.assertIn("nextCursor", js)
            pages.append([w["id"] for w in js["data"]])
            cursor = js["nextCursor"]
            if cursor is None:
                break
        self.assertEqual([len(p) for p in pages], [3, 3, 1], "7 webhooks by 3: pages %r" % (pages,))
        flat = [i for p in pages for i in p]
        self.assertEqual(len(set(flat)), 7, "no webhook twice across pages: %r" % (pages,))
        self.assertEqual(flat, list(reversed(ids)), "newest first")
        js = self.assertStatus(self.api("GET", "/api/v1/webhooks"), 200, "GET without limit")
        self.assertEqual(len(js["data"]), 7)
        self.assertIsNone(js["nextCursor"], "one page holds all: nextCursor null")
        for bad in ("0", "501", "-1", "abc"):
            got = self.api("GET", "/api/v1/webhooks?limit=" + bad)
            self.assertStatus(got, 400, "limit=%s" % bad, code="invalid_field")


class WebhookValidationTest(H.GanchoTestCase):

    def refused(self, body, what, codes=("invalid_field",), g=None, token=H._NO_TOKEN):
        got = self.api("POST", "/api/v1/webhooks", body, g=g, token=token)
        self.assertStatus(got, 400, what)
        self.assertErrorCode(got, codes, what)

    def assertNoWebhooks(self, what, g=None, token=H._NO_TOKEN):
        lst = self.list_all("/api/v1/webhooks", g=g, token=token)
        self.assertEqual(lst, [], "%s: nothing may be stored, found %r" % (what, lst))

    def base(self, **kw):
        b = {"action": "candidate.hired", "postbackUrl": "https://example.com/hook"}
        b.update(kw)
        return b

    def test_targets_without_dev(self):
        g2 = self.new_gancho(dev=False)
        _, tok = g2.create_company()
        for url in ["http://example.com/hook", "http://127.0.0.1:%d/hook" % self.rx.port,
                    "https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/hook",
                    "https://192.168.0.10/hook", "https://172.16.5.4/hook", "https://169.254.169.254/latest",
                    "https://[::1]/hook", "https://0.0.0.0/hook", "https://[fd00::1]/"]:
            self.refused(self.base(postbackUrl=url), "without --dev: %s" % url, g=g2, token=tok)
        self.assertNoWebhooks("refused targets without --dev", g=g2, token=tok)
        got = g2.api("POST", "/api/v1/webhooks", self.base(postbackUrl="https://example.com/ok"), token=tok)
        self.assertEqual(got[0], 201, "a public https:// target is fine without --dev: %r" % (got[2][:300],))

    def test_bad_urls_even_with_dev(self):
        for url in ["ftp://example.com/x", "not a url", "https://", "https://user:pw@example.com/x",
                    "https://example.com/a b", "", 42]:
            self.refused(self.base(postbackUrl=url), "postbackUrl %r" % (url,))
        self.assertNoWebhooks("bad urls")
        # With --dev, http:// and loopback are accepted.
        self.create_webhook(action="candidate.hired", postbackUrl=self.rx.url())

    def test_missing_fields(self):
        self.refused({"action": "candidate.hired"}, "missing postbackUrl", ("missing_field",))
        self.refused({"postbackUrl": "https://example.com/x"}, "neither action nor events", ("missing_field",))
        self.refused(self.base(action=None), "action null", ("invalid_field", "missing_field"))
        self.refused({"events": [], "postbackUrl": "https://example.com/x"}, "events empty",
                     ("invalid_field", "missing_field"))
        self.refused({"events": "candidate.hired", "postbackUrl": "https://example.com/x"}, "events not a list")
        self.refused({"events": [1], "postbackUrl": "https://example.com/x"}, "events of numbers")
        got = self.api("POST", "/api/v1/webhooks", raw=b'{"action": "candidate.hired", "postbackUrl": ')
        self.assertStatus(got, 400, "malformed JSON", code="invalid_json")
        self.assertNoWebhooks("missing fields")

    def test_client_headers(self):
        bad = [
            ({"X-Evil": "a\r\nX-Injected: 1"}, "CRLF in a value"),
            ({"X-Evil": "a\nb"}, "LF in a value"),
            ({"X-Evil": "a\rb"}, "CR in a value"),
            ({"Bad Header": "x"}, "space in a name"),
            ({"X-Evil\r\nX-Injected": "x"}, "CRLF in a name"),
            ({"": "x"}, "empty name"),
            ({"Content-Length": "5"}, "Content-Length"),
            ({"Transfer-Encoding": "chunked"}, "Transfer-Encoding"),
            ({"Host": "example.org"}, "Host"),
            ({"Connection": "close"}, "Connection"),
            ({"X-Num": 5}, "a number value"),
            (["X-Api-Key", "abc"], "not an object"),
        ]
        for headers, what in bad:
            self.refused(self.base(clientHeaders=headers), "clientHeaders: " + what)
        self.assertNoWebhooks("bad clientHeaders")

    def test_authorization(self):
        bad = [
            {"kind": "oauth", "data": {"token": "x"}},
            {"kind": "basic", "data": {"username": "u"}},
            {"kind": "basic"},
            {"kind": "apiKey", "data": {"prefix": "Bearer"}},
            {"kind": "secret", "data": {}},
            {"kind": "standard", "data": {"secret": "whsec_!!!not-base64!!!"}},
            {"data": {"username": "u", "password": "p"}},
            "basic",
        ]
        for auth in bad:
            self.refused(self.base(authorization=auth), "authorization %s" % json.dumps(auth),
                         ("invalid_field", "missing_field"))
        self.assertNoWebhooks("bad authorization")

    def test_retry_policy_and_other_fields(self):
        bad = [
            ("retryPolicy", "fast"),
            ("retryPolicy", 5),
            ("retryPolicy", {"schedule": [], "deadlineSeconds": 10}),
            ("retryPolicy", {"schedule": [-1], "deadlineSeconds": 10}),
            ("retryPolicy", {"schedule": ["1"], "deadlineSeconds": 10}),
            ("retryPolicy", {"schedule": [1], "deadlineSeconds": 0}),
            ("retryPolicy", {"exponential": {"initialSeconds": 1}}),
            ("retryPolicy", {"exponential": {"initialSeconds": -1, "maxSeconds": 10, "deadlineSeconds": 60}}),
            ("timeoutMs", 0),
            ("timeoutMs", 300001),
            ("timeoutMs", "100"),
            ("concurrency", 0),
            ("concurrency", 257),
            ("ordering", "random"),
            ("status", "paused"),
            ("filter", {"data.x": {"$regex": "(a"}}),
            ("filter", {"data.x": {"$where": "a"}}),
            ("filter", "data.x == 1"),
            ("rateLimit", {"perSecond": 0}),
            ("rateLimit", {"perSecond": "5"}),
            ("failPermanentlyOn", ["404"]),
            ("failPermanentlyOn", 404),
            ("unit", 7),
            ("orderingKey", 5),
        ]
        for field, value in bad:
            self.refused(self.base(**{field: value}), "%s = %s" % (field, json.dumps(value)),
                         ("invalid_field", "missing_field"))
        self.assertNoWebhooks("bad fields")
        good = [("retryPolicy", "gupy"), ("retryPolicy", "acesso"),
                ("retryPolicy", {"schedule": [1.3, 1.5], "deadlineSeconds": 4.5}),
                ("retryPolicy", {"exponential": {"initialSeconds": 1.5, "maxSeconds": 10, "deadlineSeconds": 60}}),
                ("timeoutMs", 1), ("timeoutMs", 300000), ("concurrency", 1), ("concurrency", 256),
                ("ordering", "fifo"), ("orderingKey", "data.application.id"),
                ("filter", {"data.application.currentStep.name": "Entrevista", "unit": {"$in": ["SP", "RJ"]}}),
                ("rateLimit", {"perSecond": 5}), ("failPermanentlyOn", [404, 422]), ("unit", "SP")]
        for field, value in good:
            got = self.api("POST", "/api/v1/webhooks", self.base(**{field: value}))
            js = self.assertStatus(got, 201, "%s = %s must be accepted" % (field, json.dumps(value)))
            if field in ("ordering", "timeoutMs", "concurrency", "unit") or (
                    field == "retryPolicy" and isinstance(value, str)):
                self.assertEqual(js.get(field), value, "%s shown back: %r" % (field, js))


class WebhookIsolationTest(H.GanchoTestCase):

    def test_other_company_cannot_see_patch_delete(self):
        mine = self.create_webhook(action="candidate.hired", techOwnerName="Mine")
        _, other = self.g.create_company()
        theirs = self.create_webhook(action="candidate.hired", token=other, postbackUrl="https://example.com/o")
        wid = mine["id"]
        self.assertStatus(self.api("GET", "/api/v1/webhooks/%s" % (wid,), token=other), 404,
                          "another company's GET", code="not_found")
        self.assertStatus(self.api("PATCH", "/api/v1/webhooks/%s" % (wid,), {"techOwnerName": "Evil"}, token=other), 404,
                          "another company's PATCH", code="not_found")
        self.assertStatus(self.api("DELETE", "/api/v1/webhooks/%s" % (wid,), token=other), 404,
                          "another company's DELETE", code="not_found")
        self.assertStatus(self.api("POST", "/api/v1/webhooks/%s/replay" % wid,
                                   {"since": "2000-01-01T00:00:00.000Z"}, token=other), 404,
                          "another company's replay", code="not_found")
        self.assertEqual(self.webhook(wid).get("techOwnerName"), "Mine", "my webhook untouched")
        mine_list = [w["id"] for w in self.list_all("/api/v1/webhooks")]
        their_list = [w["id"] for w in self.list_all("/api/v1/webhooks", token=other)]
        self.assertEqual(mine_list, [wid], "my list shows only mine")
        self.assertEqual(their_list, [theirs["id"]], "their list shows only theirs")
        # Events and deliveries are isolated too.
        ev = self.post_event("candidate.hired", {"secret": "mine"})
        self.rx.wait_for(1, 10)
        d = self.delivery_for(wid, ev["id"])
        self.assertIsNotNone(d)
        self.assertStatus(self.api("GET", "/api/v1/events/%s" % (ev["id"],), token=other), 404,
                          "another company's event", code="not_found")
        self.assertStatus(self.api("GET", "/api/v1/deliveries/%s" % (d["id"],), token=other), 404,
                          "another company's delivery", code="not_found")
        self.assertStatus(self.api("POST", "/api/v1/deliveries/%s/retry" % d["id"], token=other), 404,
                          "another company's retry", code="not_found")
        self.assertEqual(self.deliveries(token=other), [], "their delivery list must not show mine")
        # Their webhook on the same event name got nothing from my event.
        self.assertEqual(self.deliveries(theirs["id"], token=other), [])

    def test_secrets_never_returned(self):
        secrets = {
            "basic": ({"kind": "basic", "data": {"username": "user-XYZ", "password": "pw-S3CR3T-basic"}},
                      ["pw-S3CR3T-basic"]),
            "apiKey": ({"kind": "apiKey", "data": {"key": "key-S3CR3T-apikey", "prefix": "Bearer"}},
                       ["key-S3CR3T-apikey"]),
            "secret": ({"kind": "secret", "data": {"secret": "S3CR3T-acesso-hmac"}}, ["S3CR3T-acesso-hmac"]),
            "standard": None,
        }
        wh_secret = H.new_whsec()
        secrets["standard"] = ({"kind": "standard", "data": {"secret": wh_secret}},
                               [wh_secret, wh_secret[len("whsec_"):]])
        ids = []
        for kind, (auth, needles) in secrets.items():
            got = self.api("POST", "/api/v1/webhooks", {"action": "candidate.hired",
                                                        "postbackUrl": "https://example.com/" + kind,
                                                        "authorization": auth})
            js = self.assertStatus(got, 201, "create with %s auth" % kind)
            ids.append((js["id"], kind, needles))
            self.assertEqual(js.get("authorization"), {"kind": kind}, "answers show only {kind}: %r" % (js,))
            for n in needles:
                self.assertNotIn(n.encode(), got[2], "POST answer leaks the %s secret" % kind)
        answers = [self.api("GET", "/api/v1/webhooks")[2]]
        for wid, kind, needles in ids:
            answers.append(self.api("GET", "/api/v1/webhooks/%s" % (wid,))[2])
            answers.append(self.api("PATCH", "/api/v1/webhooks/%s" % (wid,), {"techOwnerName": "x"})[2])
        new_secret = H.new_whsec()
        got = self.api("PATCH", "/api/v1/webhooks/%s" % (ids[3][0],),
                       {"authorization": {"kind": "standard", "data": {"secret": new_secret}}})
        self.assertStatus(got, 200, "PATCH a new standard secret")
        answers.append(got[2])
        answers.append(self.api("GET", "/api/v1/webhooks/%s" % (ids[3][0],))[2])
        blob = b"\n".join(answers)
        for wid, kind, needles in ids:
            for n in needles:
                self.assertNotIn(n.encode(), blob, "an answer leaks the %s secret" % kind)
        self.assertNotIn(new_secret.encode(), blob, "an answer leaks the rotated standard secret")
        self.assertNotIn(new_secret[len("whsec_"):].encode(), blob)


if __name__ == "__main__":
    unittest.main()


class ConnectTimeSsrfTest(H.GanchoTestCase):
    """A public-looking name that resolves to a private address is refused when
    gancho connects, not only literal IPs when the webhook is created."""

    @staticmethod
    def loopback_name():
        import socket
        names = [socket.gethostname(), "vm", "runsc", "ip6-localhost", "ip6-loopback"]
        for n in names:
            if not n or n == "localhost" or "." in n and n.endswith((".local", ".localhost", ".internal")):
                continue
            try:
                infos = socket.getaddrinfo(n, 443, proto=socket.IPPROTO_TCP)
            except OSError:
                continue
            addrs = {i[4][0] for i in infos}
            if addrs and all(a.startswith("127.") or a == "::1" for a in addrs):
                return n
        return None

    def test_name_resolving_to_loopback_is_refused_at_connect(self):
        name = self.loopback_name()
        if not name:
            self.skipTest("no host name on this machine resolves only to loopback")
        g2 = self.new_gancho(dev=False)
        _, tok = g2.create_company()
        url = "https://%s:%d/hook" % (name, self.rx.port)
        got = g2.api("POST", "/api/v1/webhooks",
                     {"action": "candidate.hired", "postbackUrl": url,
                      "retryPolicy": {"schedule": [1], "deadlineSeconds": 30}}, token=tok)
        self.assertEqual(got[0], 201, "a name is accepted at creation (%s): %r" % (url, got[2][:300]))
        wid = got[1]["id"]
        ev = self.post_event(token=tok, g=g2)

        def refused():
            for d in self.list_all("/api/v1/deliveries?webhookId=" + wid, token=tok, g=g2):
                if d["eventId"] == ev["id"] and d.get("attempts") and "not allowed" in (d.get("lastError") or ""):
                    return d
            return None

        d = H.wait_until(refused, 10, 0.1, message="the attempt to %s must fail as 'not allowed'" % url)
        self.assertEqual(d["status"], "pending", "a refused address is retried per the policy: %r" % (d,))
        self.assertEqual(self.rx.count(), 0, "nothing may reach the private address: %s" % self.rx.summary())
