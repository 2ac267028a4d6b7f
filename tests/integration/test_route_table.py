"""The HTTP edge's route table: one rule for a known path with another method
(405 with Allow, before any id is looked up, for every resource), 404 for a
path no route matches, and the caller's token checked before either."""
import unittest

import harness as H


class MethodRuleTest(H.GanchoTestCase):

    def call(self, method, path, token=None):
        tok = self.token if token is None else token
        st, hdrs, _js, raw = self.g.api_full(method, path, None, token=tok)
        allow = hdrs.get("Allow")
        return st, allow, raw

    def assert405(self, method, path, allow, use):
        st, got_allow, raw = self.call(method, path)
        self.assertEqual(st, 405, "%s %s: %r" % (method, path, raw[:200]))
        self.assertEqual(got_allow, allow, "%s %s: Allow" % (method, path))
        self.assertIn(b'"code":"method_not_allowed"', raw)
        self.assertIn(('"message":"use %s"' % use).encode(), raw)

    def test_wrong_method_is_405_whether_or_not_the_id_exists(self):
        wid = self.create_webhook()["id"]
        for ident in (wid, "no-such-webhook"):
            with self.subTest(webhook=ident):
                self.assert405("PUT", "/api/v1/webhooks/" + ident, "GET, PATCH, DELETE",
                               "GET, PATCH or DELETE")
                self.assert405("GET", "/api/v1/webhooks/%s/replay" % ident, "POST", "POST")
        for ident in ("999999", "not-a-number"):
            with self.subTest(delivery=ident):
                self.assert405("POST", "/api/v1/deliveries/" + ident, "GET", "GET")
                self.assert405("DELETE", "/api/v1/deliveries/%s/attempts" % ident, "GET", "GET")
                self.assert405("GET", "/api/v1/deliveries/%s/retry" % ident, "POST", "POST")
        self.assert405("PUT", "/api/v1/events/some-id", "GET", "GET")
        self.assert405("GET", "/api/v1/events", "POST", "POST")
        self.assert405("PUT", "/api/v1/webhooks", "GET, POST", "GET or POST")
        self.assert405("DELETE", "/api/v1/company", "GET, PATCH", "GET or PATCH")
        self.assert405("PATCH", "/api/v1/tokens/abc", "DELETE", "DELETE")
        self.assert405("POST", "/healthz", "GET, HEAD", "GET")

    def test_no_allow_header_outside_405(self):
        for method, path in (("GET", "/healthz"), ("GET", "/api/v1/webhooks"),
                             ("GET", "/api/v1/nope")):
            with self.subTest(path=path):
                st, allow, _ = self.call(method, path)
                self.assertNotEqual(st, 405)
                self.assertIsNone(allow)

    def test_unknown_sub_resource_is_404(self):
        for method in ("GET", "POST"):
            for path in ("/api/v1/deliveries/1/foo", "/api/v1/deliveries/abc/foo",
                         "/api/v1/webhooks/x/foo", "/api/v1/events/a/b", "/api/v1/nope"):
                with self.subTest(method=method, path=path):
                    st, allow, raw = self.call(method, path)
                    self.assertEqual(st, 404, raw[:200])
                    self.assertIn(('"message":"no route %s"' % path).encode(), raw)
                    self.assertIsNone(allow)

    def test_token_checked_before_the_route(self):
        # without a token nothing is said about routes or methods
        for method, path in (("PUT", "/api/v1/webhooks/x"), ("GET", "/api/v1/nope")):
            with self.subTest(path=path):
                st, allow, raw = self.call(method, path, token="")
                self.assertEqual(st, 401, raw[:200])
                self.assertIsNone(allow)
        # the admin token is refused on company routes, known or not
        for method, path in (("PUT", "/api/v1/webhooks/x"), ("GET", "/api/v1/tokens"),
                             ("GET", "/api/v1/nope")):
            with self.subTest(admin=path):
                st, _, raw = self.call(method, path, token=self.g.admin_token)
                self.assertEqual(st, 403, raw[:200])


if __name__ == "__main__":
    unittest.main()
