"""Receipts routed to actions: duplicates and disorder, the reorder window, kill -9 in the
middle of a stream, and a template path missing at run time.

A source with entity {type application, key data.application.id} and a route that forwards
every application.moved to a receiver. Each body carries its event's position n (0..9) in
its entity's history and a date n seconds after a base, so the receiver can tell the order
its actions arrived in. Everything is real: HTTP to /in/<id>, the group commit, the
dispatcher, a receiver on loopback; both backends."""

import concurrent.futures
import json
import random
import time
import unittest

import harness as H

BASE = "2019-06-19T10:00:%02d.000Z"


def moved(entity, n, step=None):
    return {"id": "e%d-%d" % (entity, n), "event": "application.moved",
            "date": BASE % n,
            "data": {"n": n, "application": {"id": entity,
                                             "currentStep": {"name": step or "s%d" % n}},
                     "job": {"id": 1000 + entity}}}


class InboundFlow(H.GanchoTestCase):
    """A source with an application entity, a forwarding route, and helpers."""

    def flow(self, window=0, actions=None):
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "Gupy", "verification": {"kind": "none"},
            "entity": {"type": "application", "key": "data.application.id",
                       "keep": {"step": "data.application.currentStep.name", "n": "data.n"},
                       "reorderWindowSeconds": window}}), 201, "source")
        route = self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "all moves", "sourceId": src["id"], "events": ["application.moved"],
            "actions": actions or [{"kind": "forward", "url": self.rx.url("/act")}]}),
            201, "route")
        return src, route

    def post(self, src, body, g=None):
        st, js, raw = (g or self.g).api("POST", "/in/" + src["id"], raw=json.dumps(body))
        self.assertEqual(st, 200, "POST /in: %r" % raw[:300])
        return js

    def send_all(self, src, bodies, workers=8):
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda b: self.post(src, b), bodies))

    def deliveries(self):
        out, cursor = [], None
        while True:
            path = "/api/v1/deliveries?limit=500" + ("&cursor=" + cursor if cursor else "")
            js = self.assertStatus(self.api("GET", path), 200, "deliveries")
            out += js["data"]
            cursor = js["nextCursor"]
            if not cursor:
                return out

    def settle(self, timeout=30):
        """Wait until every delivery made so far is delivered; return them."""
        deadline = time.monotonic() + timeout
        while True:
            ds = self.deliveries()
            if ds and all(d["status"] == "delivered" for d in ds):
                return ds
            if time.monotonic() > deadline:
                self.fail("deliveries not all delivered: %r" % [d for d in ds
                                                                if d["status"] != "delivered"][:5])
            time.sleep(0.2)

    def per_entity(self, path="/act"):
        got = {}
        for r in self.rx.requests:
            if r.path == path:
                b = r.json()
                got.setdefault(b["data"]["application"]["id"], []).append(b["data"]["n"])
        return got


class InboundOrderTest(InboundFlow):

    def test_duplicates_and_disorder_without_window(self):
        src, _ = self.flow()
        bodies = [moved(e, n) for e in range(20) for n in range(10)] * 2
        random.Random(12).shuffle(bodies)
        answers = self.send_all(src, bodies)
        # each sender id has one receipt: its two answers name the same one
        by_id = {}
        for b, a in zip(bodies, answers):
            by_id.setdefault(b["id"], set()).add(a["id"])
        self.assertTrue(all(len(v) == 1 for v in by_id.values()), "one receipt per id")
        self.assertEqual(sum(1 for a in answers if a.get("duplicate")), 200, "200 duplicates")
        ds = self.settle()
        # every delivery was made by a receipt, once; each reached the receiver once
        self.assertEqual(len({d["receiptId"] for d in ds}), len(ds), "one action per receipt")
        got = self.per_entity()
        self.assertEqual(sum(len(v) for v in got.values()), len(ds))
        self.assertEqual(sorted(got), list(range(20)), "every entity fired")
        for e, ns in got.items():
            # an older receipt after a newer one is stale: actions only ever move forward,
            # and the newest event, never older than anything, always fires, last
            self.assertEqual(ns, sorted(set(ns)), "entity %d in date order, once: %r" % (e, ns))
            self.assertEqual(ns[-1], 9, "entity %d ends at its newest event" % e)

    def test_reorder_window_applies_late_older_receipts_in_order(self):
        src, _ = self.flow(window=2)
        # each entity's events arrive shuffled (and twice) within the window
        groups = []
        rnd = random.Random(7)
        for e in range(20):
            g = [moved(e, n) for n in range(10)] * 2
            rnd.shuffle(g)
            groups.append(g)
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda g: [self.post(src, b) for b in g], groups))
        self.rx.wait_for(200, timeout=30, path="/act")
        ds = self.settle()
        self.assertEqual(len(ds), 200, "one action per event")
        got = self.per_entity()
        for e in range(20):
            self.assertEqual(got.get(e), list(range(10)), "entity %d: every move, in order" % e)

    def test_stale_fires_only_routes_that_ask(self):
        src, _ = self.flow(actions=[{"kind": "forward", "url": self.rx.url("/act")}])
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "stale too", "sourceId": src["id"], "events": ["application.moved"],
            "whenStale": "fire", "actions": [{"kind": "forward", "url": self.rx.url("/stale")}]}),
            201, "route")
        self.post(src, moved(1, 5))
        self.post(src, moved(1, 3))  # older: stale
        self.rx.wait_for(2, path="/stale")
        self.settle()
        self.assertEqual(self.per_entity("/act"), {1: [5]})
        self.assertEqual(self.per_entity("/stale"), {1: [5, 3]})
        # a forward sends the received body byte for byte (stored once, with the receipt)
        sent = [json.dumps(moved(1, 5)).encode(), json.dumps(moved(1, 3)).encode()]
        self.assertEqual([r.body for r in self.rx.requests if r.path == "/stale"], sent)

    def test_http_action_renders_and_a_missing_path_fails_with_the_reason(self):
        src, route = self.flow(actions=[
            {"kind": "http", "method": "POST", "url": self.rx.url("/exam"),
             "headers": {"X-Step": "{{entity.step}}"},
             "body": {"jobId": "{{body.data.job.id}}", "applicationId":
                      "{{body.data.application.id}}", "note": "{{body.data.note}}"}}])
        b = moved(4, 1, step="Exame")
        b["data"]["note"] = "x"
        self.post(src, b)
        r = self.rx.wait_for(1, path="/exam")[0]
        self.assertEqual(r.json(), {"jobId": 1004, "applicationId": 4, "note": "x"})
        self.assertEqual(r.headers.get("X-Step"), "Exame", "the entity's kept step")
        self.post(src, moved(4, 2))  # no data.note
        deadline = time.monotonic() + 10
        while True:
            failed = [d for d in self.deliveries() if d["status"] == "failed"]
            if failed or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(failed), 1, "the delivery of the receipt without data.note")
        self.assertEqual(failed[0]["lastError"], "template: body.data.note is missing")
        time.sleep(0.5)
        self.assertEqual(self.rx.count("/exam"), 1, "a failed render is never sent")


class ReplayTest(InboundFlow):
    """POST /api/v1/receipts/{id}/replay and `gancho receipt replay`: a receipt's routes fire
    again, nothing else changes."""

    def test_replay(self):
        src, _ = self.flow(window=0)
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "stale too", "sourceId": src["id"], "events": ["application.moved"],
            "whenStale": "fire", "actions": [{"kind": "forward", "url": self.rx.url("/stale")}]}),
            201, "route")
        applied = self.post(src, moved(2, 5))["id"]
        stale = self.post(src, moved(2, 3))["id"]
        self.rx.wait_for(1, path="/act")
        self.rx.wait_for(2, path="/stale")
        got = self.assertStatus(self.api("POST", "/api/v1/receipts/%s/replay" % applied), 202,
                                "replay")
        self.assertEqual(got, {"id": applied, "deliveries": 2})
        self.rx.wait_for(2, path="/act")
        # a stale receipt replays only the routes that fire for stale receipts
        got = self.assertStatus(self.api("POST", "/api/v1/receipts/%s/replay" % stale), 202,
                                "replay stale")
        self.assertEqual(got["deliveries"], 1)
        self.rx.wait_for(4, path="/stale")
        self.settle()
        self.assertEqual(self.per_entity("/act"), {2: [5, 5]})
        # the receipt and the entity did not change
        r = self.assertStatus(self.api("GET", "/api/v1/receipts/" + stale), 200, "receipt")
        self.assertEqual(r["status"], "stale")
        self.assertEqual(r["entity"]["kept"]["n"], 5)
        # the CLI
        from test_cli import run_cli, cli_env
        p = run_cli(["receipt", "replay", applied], env=cli_env(self.g.base, self.token))
        out = p.stdout.decode() if isinstance(p.stdout, bytes) else p.stdout
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("2 deliveries", out)
        self.rx.wait_for(3, path="/act")
        # unknown, another company's, and a waiting receipt
        self.assertStatus(self.api("POST", "/api/v1/receipts/nope/replay"), 404, "unknown",
                          code="not_found")
        _, other = self.g.create_company("Other-" + H.uuid.uuid4().hex[:8])
        self.assertStatus(self.api("POST", "/api/v1/receipts/%s/replay" % applied, token=other),
                          404, "another company's", code="not_found")
        wsrc, _ = self.flow(window=60)
        waiting = self.post(wsrc, moved(3, 1))["id"]
        self.assertStatus(self.api("POST", "/api/v1/receipts/%s/replay" % waiting), 409,
                          "waiting", code="conflict")


class InboundBodyLimitTest(H.GanchoTestCase):
    """A source's maxBodyBytes is its URL's limit, whatever the server's --max-body."""

    def test_each_source_its_own_limit(self):
        small = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "small", "verification": {"kind": "none"}, "maxBodyBytes": 2048}), 201, "s")
        big = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "big", "verification": {"kind": "none"}, "maxBodyBytes": 4 << 20}), 201, "b")

        def body(size):
            b = moved(1, 0)
            b["data"]["pad"] = "x" * size
            return json.dumps(b)

        st, js, raw = self.g.api("POST", "/in/" + small["id"], raw=body(3000))
        self.assertEqual(st, 413, raw)
        self.assertEqual(js["error"]["code"], "payload_too_large")
        self.assertEqual(self.g.api("POST", "/in/" + small["id"], raw=body(1000))[0], 200)
        # 2 MiB: over the server's default --max-body (1 MiB), within the source's 4 MiB
        st, js, raw = self.g.api("POST", "/in/" + big["id"], raw=body(2 << 20))
        self.assertEqual(st, 200, raw[:300])
        # the API keeps the server's limit
        st, _, _ = self.g.api("POST", "/api/v1/sources", raw=body(2 << 20), token=self.token)
        self.assertEqual(st, 413)


class InboundCrashTest(H.GanchoTestCase):
    """kill -9 in the middle of a stream: every receipt answered 200 is routed exactly
    once (one delivery per receipt) and delivered at least once after the restart."""

    def test_kill9_mid_stream(self):
        g = self.new_gancho()
        cid, tok = g.create_company("Crash-" + H.uuid.uuid4().hex[:8])
        src = g.api("POST", "/api/v1/sources", {"name": "s", "verification": {"kind": "none"},
                                               "entity": {"type": "application",
                                                          "key": "data.application.id"}},
                    token=tok)[1]
        g.api("POST", "/api/v1/routes", {"name": "r", "sourceId": src["id"],
                                         "events": ["application.moved"],
                                         "actions": [{"kind": "forward",
                                                      "url": self.rx.url("/act")}]}, token=tok)
        answered = []
        stop = time.monotonic() + 20

        def stream(worker):
            i = 0
            while time.monotonic() < stop:
                b = moved(worker * 100000 + i, 0)
                try:
                    st, js, _ = g.api("POST", "/in/" + src["id"], raw=json.dumps(b), timeout=5)
                except OSError:
                    return
                if st == 200:
                    answered.append((b["id"], js["id"]))
                i += 1

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futs = [pool.submit(stream, w) for w in range(4)]
            while len(answered) < 150 and time.monotonic() < stop:
                time.sleep(0.01)
            g.kill9()
            for f in futs:
                f.result()
        self.assertGreaterEqual(len(answered), 150)
        g.start()
        ids = [a[0] for a in answered]
        self.rx.wait_ids(ids, timeout=60, path="/act")
        # one delivery per answered receipt: routed exactly once across the crash
        per_receipt = {}
        cursor = None
        while True:
            js = g.api("GET", "/api/v1/deliveries?limit=500" + ("&cursor=" + cursor if cursor
                                                               else ""), token=tok)[1]
            for d in js["data"]:
                per_receipt[d["receiptId"]] = per_receipt.get(d["receiptId"], 0) + 1
            cursor = js["nextCursor"]
            if not cursor:
                break
        for _, rid in answered:
            self.assertEqual(per_receipt.get(rid), 1, "receipt %s routed once" % rid)


@unittest.skipUnless(H.backend() == "postgres", "several nodes need GANCHO_TEST_BACKEND=postgres")
class InboundClusterTest(H.GanchoTestCase):
    """Two nodes on one database: a sender's requests land on either. Dedup holds across
    nodes, each entity's state and its actions' order hold across nodes, and a route made
    on one node fires for receipts taken by the other."""
    gancho = None

    def test_two_nodes_share_receipts_entities_and_order(self):
        import pg
        db = pg.new_database()
        a = self.new_gancho(db=db)
        b = self.new_gancho(db=db)
        self.g = a
        self.company_id, self.token = a.create_company("ACME-" + H.uuid.uuid4().hex[:8])
        src = self.assertStatus(self.api("POST", "/api/v1/sources", {
            "name": "Gupy", "verification": {"kind": "none"},
            "entity": {"type": "application", "key": "data.application.id"}}), 201, "source")
        self.assertStatus(self.api("POST", "/api/v1/routes", {
            "name": "all", "sourceId": src["id"], "events": ["application.moved"],
            "actions": [{"kind": "forward", "url": self.rx.url("/act")}]}), 201, "route")
        # node b learns of the source and the route by notification
        H.wait_until(lambda: b.api("POST", "/in/" + src["id"], raw="{}")[0] == 400, 10,
                     message="node b never loaded the source")
        time.sleep(0.5)
        bodies = [moved(e, n) for e in range(10) for n in range(10)] * 2
        random.Random(3).shuffle(bodies)
        nodes = [a, b]

        def post(ib):
            i, body = ib
            st, js, raw = nodes[i % 2].api("POST", "/in/" + src["id"], raw=json.dumps(body))
            self.assertEqual(st, 200, raw[:200])
            return js["id"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(post, enumerate(bodies)))
        first = {}
        for body, rid in zip(bodies, ids):
            first.setdefault(body["id"], set()).add(rid)
        self.assertTrue(all(len(v) == 1 for v in first.values()),
                        "one receipt per sender id across the nodes")
        deadline = time.monotonic() + 30
        while True:
            ds = []
            for g in nodes:
                ds = self.assertStatus(self.api("GET", "/api/v1/deliveries?limit=500", g=g), 200,
                                       "deliveries")["data"]
            if ds and all(d["status"] == "delivered" for d in ds):
                break
            self.assertLess(time.monotonic(), deadline, "not all delivered: %r" % ds[:3])
            time.sleep(0.2)
        self.assertEqual(len({d["receiptId"] for d in ds}), len(ds), "one action per receipt")
        got = {}
        for r in self.rx.requests:
            body = r.json()
            got.setdefault(body["data"]["application"]["id"], []).append(body["data"]["n"])
        self.assertEqual(sum(len(v) for v in got.values()), len(ds), "each action sent once")
        for e, ns in got.items():
            self.assertEqual(ns, sorted(set(ns)), "entity %d in date order across nodes" % e)
            self.assertEqual(ns[-1], 9)


if __name__ == "__main__":
    unittest.main()
