"""Durability: kill -9 under load, in-flight deliveries across a crash, SIGTERM."""

import http.client
import json
import sys
import threading
import time
import unittest
import uuid

import harness as H


class DurabilityTest(H.GanchoTestCase):
    """Each test starts its own gancho (they kill it), so no class-level server."""

    @classmethod
    def setUpClass(cls):
        H.gancho_bin()  # fail clearly when GANCHO_BIN is not usable
        cls.gancho = None

    def setUp(self):
        super().setUp()
        self.g = self.new_gancho()
        self.company_name = "ACME-" + uuid.uuid4().hex[:10]
        self.company_id, self.token = self.g.create_company(self.company_name)

    def test_kill9_under_load_loses_nothing_acknowledged(self):
        total, nthreads = 2000, 4
        self.create_webhook(action="candidate.hired", retryPolicy={"schedule": [1], "deadlineSeconds": 120},
                            timeoutMs=5000)
        acked = {}           # event id -> answer
        lock = threading.Lock()
        stop = threading.Event()
        errors = []
        refused_while_up = []

        def post(eid, seq):
            body = json.dumps({"event": "candidate.hired", "id": eid, "data": {"seq": seq}}).encode()
            conn = http.client.HTTPConnection("127.0.0.1", self.g.port, timeout=10)
            try:
                conn.request("POST", "/api/v1/events", body=body,
                             headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, data
            finally:
                conn.close()

        def worker(k):
            for seq in range(k, total, nthreads):
                eid = str(uuid.uuid4())
                while not stop.is_set():
                    try:
                        status, data = post(eid, seq)
                    except (OSError, http.client.HTTPException):
                        time.sleep(0.05)  # gancho is down (killed): try the same id again after the restart
                        continue
                    if status == 202:
                        with lock:
                            acked[eid] = json.loads(data)
                        break
                    if status == 503:
                        time.sleep(0.05)
                        continue
                    with lock:
                        errors.append((status, data[:200]))
                    break

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(nthreads)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        H.wait_until(lambda: len(acked) >= total // 3, 60, 0.01, "events were not being accepted")
        self.g.kill9()
        killed_at = len(acked)
        received_at_kill = len(self.rx.requests)
        self.g.restart()
        for t in threads:
            t.join(90)
        stop.set()
        self.assertEqual(errors, [], "unexpected answers while streaming events")
        self.assertEqual(len(acked), total, "every event must eventually get a 202 (same id retried after the "
                                            "restart); got %d" % len(acked))
        got = self.rx.wait_ids(list(acked), 60)
        dups = sum(len(v) - 1 for v in got.values())
        sys.stderr.write("\n[durability] %d events, %d acknowledged before kill -9, %d received before the kill, "
                         "%d received in all, %d duplicate deliveries, %.1f s\n"
                         % (total, killed_at, received_at_kill, len(self.rx.requests), dups,
                            time.monotonic() - t0))
        for eid, reqs in got.items():
            self.assertEqual(reqs[0].json()["id"], eid)
        unknown = {r.event_id() for r in self.rx.requests} - set(acked)
        self.assertEqual(unknown, set(), "the receiver got events nobody posted")

    def test_in_flight_delivery_is_retried_after_a_crash(self):
        self.rx.set(default=H.hang(60))
        wh = self.create_webhook(action="candidate.hired", retryPolicy={"schedule": [1], "deadlineSeconds": 120})
        ev = self.post_event("candidate.hired", {"in": "flight"})
        self.rx.wait_for(1, 10)  # the request is in flight, the receiver does not answer
        self.g.kill9()
        self.rx.set(default=H.OK)
        self.g.restart()
        reqs = self.rx.wait_for(2, 45)
        self.assertEqual(reqs[1].event_id(), ev["id"], "the in-flight event is sent again after the restart")
        self.wait_delivery(wh["id"], ev["id"], "delivered", 10)

    def test_sigterm_exits_0_and_loses_nothing(self):
        self.rx.set(default=H.slow(0.05, 200))
        wh = self.create_webhook(action="candidate.hired", retryPolicy={"schedule": [1], "deadlineSeconds": 120},
                                 concurrency=2)
        ids = [self.post_event("candidate.hired", {"seq": i})["id"] for i in range(200)]
        rc = self.g.terminate(20)
        self.assertEqual(rc, 0, "SIGTERM must end gancho cleanly with exit code 0")
        before = {r.event_id() for r in self.rx.requests}
        self.g.restart()
        got = self.rx.wait_ids(ids, 60)
        sys.stderr.write("\n[sigterm] %d of %d delivered before SIGTERM, %d duplicates in all\n"
                         % (len(before & set(ids)), len(ids), sum(len(v) - 1 for v in got.values())))
        H.wait_until(lambda: len(self.deliveries(wh["id"], status="delivered")) == len(ids), 20, 0.2,
                     "every delivery must end delivered after the restart")
        rc = self.g.terminate(20)
        self.assertEqual(rc, 0, "second SIGTERM: exit code 0")


if __name__ == "__main__":
    unittest.main()
