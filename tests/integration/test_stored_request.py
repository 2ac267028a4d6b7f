"""A delivery's stored request: sent byte for byte instead of the event's envelope.

A delivery whose deliveries.request_seq names a row of `requests` (an inbound action's
rendered request) sends that method, URL, headers and body, plus the signing headers of
its target's auth computed over those body bytes; each retry sends the same bytes; a URL or
header that fails the checks a webhook's config gets fails the delivery for good, with the
reason in its last error.

There is no API that makes such a delivery yet (inbound routes will), so the test writes it
into the database the way the store does (a `requests` row and an open delivery naming it)
while gancho is stopped, and starts gancho again: recovery reads every open delivery back
(SQLite: refill; PostgreSQL: claims), which is the path any delivery takes after a restart.
"""

import json
import sqlite3
import time
import unittest

import harness as H


def q(text):
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class StoredRequestTest(H.GanchoTestCase):

    def db_insert(self, webhook_id, method, url, headers, body):
        """Stop gancho, store a request and an open delivery of webhook_id that sends it
        (for the company's latest event), start gancho again; the delivery's id."""
        g = self.g
        g.terminate()
        now = int(time.time() * 1000)
        hdrs = json.dumps(headers)
        if H.backend() == "postgres":
            import pg
            wseq, cseq = pg.psql(g.db, "SELECT seq, company_seq FROM webhooks WHERE id = %s"
                                 % q(webhook_id)).strip().split("|")
            eseq = pg.psql(g.db, "SELECT max(seq) FROM events WHERE company_seq = %s" % cseq).strip()
            rseq = pg.psql(g.db, "INSERT INTO requests(method, url, headers, body) VALUES(%s, %s, %s,"
                                 " decode(%s, 'hex')) RETURNING seq"
                           % (q(method), q(url), q(hdrs), q(body.hex()))).strip()
            dseq = pg.psql(g.db, "INSERT INTO deliveries(event_seq, webhook_seq, company_seq, status,"
                                 " next_at, created_at, updated_at, request_seq) VALUES(%s, %s, %s, 0,"
                                 " %d, %d, %d, %s) RETURNING seq"
                           % (eseq, wseq, cseq, now, now, now, rseq)).strip()
        else:
            db = sqlite3.connect(g.db_path)
            try:
                wseq, cseq = db.execute("SELECT seq, company_seq FROM webhooks WHERE id = ?",
                                        (webhook_id,)).fetchone()
                eseq = db.execute("SELECT max(seq) FROM events WHERE company_seq = ?", (cseq,)).fetchone()[0]
                rseq = db.execute("INSERT INTO requests(method, url, headers, body) VALUES(?, ?, ?, ?)",
                                  (method, url, hdrs, body)).lastrowid
                dseq = db.execute("INSERT INTO deliveries(event_seq, webhook_seq, company_seq, status,"
                                  " next_at, created_at, updated_at, request_seq)"
                                  " VALUES(?, ?, ?, 0, ?, ?, ?, ?)",
                                  (eseq, wseq, cseq, now, now, now, rseq)).lastrowid
                db.commit()
            finally:
                db.close()
        g.start()
        return str(dseq), str(rseq)

    def target(self, **fields):
        """A webhook (the target) with one delivered event, so the company has an event."""
        wh = self.create_webhook(**fields)
        ev = self.post_event()
        self.rx.wait_for(1, path="/hook")
        self.wait_delivery(wh["id"], ev["id"])
        return wh

    def delivery(self, dseq):
        return self.assertStatus(self.api("GET", "/api/v1/deliveries/" + dseq), 200, "GET delivery")

    def wait_status(self, dseq, status, timeout=15):
        last = {}

        def check():
            last.clear()
            last.update(self.delivery(dseq))
            return last if last.get("status") == status else None
        return H.wait_until(check, timeout=timeout,
                            message="delivery %s never became %s" % (dseq, status))

    def test_sent_byte_for_byte_and_signed(self):
        secret = H.new_whsec()
        wh = self.target(authorization={"kind": "standard", "data": {"secret": secret}})
        body = b'{"jobId": 7, "name": "Jo\xc3\xa3o"}\x00\xff raw'
        dseq, rseq = self.db_insert(wh["id"], "PUT", self.rx.url("/action/7?step=Exame&x=%20"),
                                    {"Content-Type": "application/vnd.exam+json", "X-Trace": "abc 1"},
                                    body)
        req = self.rx.wait_for(1, path="/action/7?step=Exame&x=%20")[0]
        self.assertEqual(req.method, "PUT")
        self.assertEqual(req.body, body, "the stored body, byte for byte")
        self.assertEqual(req.header_list("Content-Type"), ["application/vnd.exam+json"])
        self.assertEqual(req.header_list("X-Trace"), ["abc 1"])
        self.assertEqual(req.header_list("Content-Length"), [str(len(body))])
        # the target's auth, computed over these bytes, with the request as the message
        self.assertEqual(req.headers["webhook-id"], "req_" + rseq)
        self.assertEqual(len(H.standard_valid_signatures(secret, req.headers["webhook-id"],
                                                         req.headers["webhook-timestamp"], body,
                                                         req.headers["webhook-signature"])), 1)
        self.assertFalse(body.startswith(b'{"id"'))
        self.wait_status(dseq, "delivered")
        # nothing else went to the target's own URL
        self.assertEqual(self.rx.count("/hook"), 1)

    def test_retries_send_the_same_bytes(self):
        wh = self.target(authorization={"kind": "secret", "data": {"secret": "s3cret"}},
                         retryPolicy={"schedule": [1], "deadlineSeconds": 20})
        self.rx.set(script=lambda i, r: H.respond(500) if r.path == "/retry" and r.path_index == 0 else None)
        body = b"a=1&b=\xe2\x82\xac"
        dseq, _ = self.db_insert(wh["id"], "POST", self.rx.url("/retry"),
                                 {"Content-Type": "application/x-www-form-urlencoded"}, body)
        reqs = self.rx.wait_for(2, path="/retry", timeout=15)
        for r in reqs:
            self.assertEqual(r.method, "POST")
            self.assertEqual(r.body, body)
            self.assertEqual(r.headers["Acesso-Signature"], H.acesso_signature("s3cret", body))
        d = self.wait_status(dseq, "delivered")
        self.assertEqual([a["statusCode"] for a in d["attempts"]], [500, 200], "oldest first")

    def test_request_without_content_type_gets_none(self):
        wh = self.target()
        dseq, _ = self.db_insert(wh["id"], "DELETE", self.rx.url("/gone/1"), {}, b"")
        req = self.rx.wait_for(1, path="/gone/1")[0]
        self.assertEqual(req.method, "DELETE")
        self.assertEqual(req.body, b"")
        self.assertEqual(req.header_list("Content-Type"), [], "no Content-Type of gancho's or libcurl's")
        self.wait_status(dseq, "delivered")

    def test_refused_url_fails_for_good(self):
        wh = self.target()
        # user-info in the URL: refused by the same check as a webhook's postbackUrl
        url = self.rx.url("/x").replace("http://", "http://user:pw@")
        dseq, _ = self.db_insert(wh["id"], "POST", url, {}, b"{}")
        d = self.wait_status(dseq, "failed")
        self.assertIn("stored request refused: url", d["lastError"] or "")
        self.assertEqual(self.rx.count("/x"), 0, "nothing was sent")
        # the webhook's own deliveries are not affected
        ev = self.post_event()
        self.wait_delivery(wh["id"], ev["id"])

    def test_refused_headers_fail_for_good(self):
        wh = self.target()
        for headers, why in (({"Content-Length": "1"}, "Content-Length"),
                             ({"X-A": "1\r\nX-B: 2"}, "CR or LF")):
            dseq, _ = self.db_insert(wh["id"], "POST", self.rx.url("/h"), headers, b"{}")
            d = self.wait_status(dseq, "failed")
            self.assertIn("stored request refused: headers", d["lastError"] or "")
            self.assertIn(why, d["lastError"])
        dseq, _ = self.db_insert(wh["id"], "GE T", self.rx.url("/h"), {}, b"")
        d = self.wait_status(dseq, "failed")
        self.assertIn("method", d["lastError"] or "")
        self.assertEqual(self.rx.count("/h"), 0, "nothing was sent")


if __name__ == "__main__":
    unittest.main()
