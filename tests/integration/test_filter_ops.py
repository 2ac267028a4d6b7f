"""Filter operators ($gte, $regex, $or, ...): a webhook receives exactly the events its
filter matches, live and in replay, and a bad filter is refused with a clear 400."""

import unittest

import harness as H

FILTER = {"$or": [{"data.score": {"$gte": 70}}, {"data.tag": {"$regex": "^apto$"}}]}

# (data as raw JSON text, matches FILTER)
EVENTS = [
    ('{"score": 90}', True),
    ('{"score": 70}', True),                      # $gte: the bound itself
    ('{"score": 70.0}', True),                    # 70.0 is 70
    ('{"score": 69.99}', False),
    ('{"score": 1e400}', True),                   # no double holds it; still above 70
    ('{"score": 99999999999999999999}', True),    # 20 digits
    ('{"score": -1e400}', False),
    ('{"score": "80"}', False),                   # a string never orders against a number
    ('{"tag": "apto", "score": 10}', True),
    ('{"tag": "apto2"}', False),
    ('{"tag": "APTO"}', False),
    ('{"tag": "\\u0061pto"}', True),              # decoded before matching
    ('{"tag": ["apto"]}', False),                 # not a string
    ('{"other": 1}', False),
]


class FilterOperatorsTest(H.GanchoTestCase):

    def test_or_gte_regex_live_and_replay(self):
        wh = self.create_webhook(path="/filtered", filter=FILTER)
        self.assertEqual(self.webhook(wh["id"]).get("filter"), FILTER, "the filter is shown back as given")
        every = self.create_webhook(path="/all")
        dates = ["2024-01-01T00:00:%02d.000Z" % k for k in range(len(EVENTS))]
        ids, want = [], []
        for (raw, ok), dt in zip(EVENTS, dates):
            eid = self.post_event("candidate.hired", data_raw=raw, date=dt)["id"]
            ids.append(eid)
            if ok:
                want.append(eid)
        self.rx.wait_ids(ids, 15, path="/all")
        self.rx.wait_ids(want, 15, path="/filtered")
        # Deliveries are created at ingest, so this is the whole answer.
        got = sorted(d["eventId"] for d in self.deliveries(wh["id"]))
        self.assertEqual(got, sorted(want), "deliveries of the filtered webhook")
        self.assertEqual(len(self.deliveries(every["id"])), len(ids), "the unfiltered webhook gets all")
        seen = {r.event_id() for r in self.rx.requests if r.path == "/filtered"}
        self.assertEqual(seen, set(want), "received on the filtered webhook")

        got = self.api("POST", "/api/v1/webhooks/%s/replay" % wh["id"], {"since": dates[0]})
        js = self.assertStatus(got, 202, "replay")
        self.assertEqual(js, {"count": len(want)}, "replay picks exactly the matching events")
        H.wait_until(lambda: all(sum(1 for r in self.rx.requests if r.path == "/filtered"
                                     and r.event_id() == e) >= 2 for e in want), 15, 0.05,
                     "the matching events were not replayed")
        got = sorted(d["eventId"] for d in self.deliveries(wh["id"]))
        self.assertEqual(got, sorted(want + want), "replay added one delivery per matching event")

    def test_bad_filters_refused(self):
        bad = [
            ({"data.x": {"$regex": "(a"}}, "$regex"),
            ({"data.x": {"$regex": "(a)\\1"}}, "back-references"),
            ({"data.x": {"$regex": "a" * 257}}, "256 bytes"),
            ({"data.x": {"$regex": "((a{255}){255}){255}"}}, "more than 1000"),
            ({"data.x": {"$gt": True}}, "number or a string"),
            ({"$or": []}, "1 to 32"),
            ({"$or": [{"a": k} for k in range(33)]}, "1 to 32"),
            ({"data.x": {"$not": 1}}, "$not"),
            ({"data.x": {"$where": "1"}}, "unknown operator"),
        ]
        deep = {"data.x": 1}
        for _ in range(16):
            deep = {"$not": deep}
        bad.append((deep, "nested too deep"))
        for f, words in bad:
            got = self.api("POST", "/api/v1/webhooks",
                           {"action": "candidate.hired", "postbackUrl": self.rx.url(), "filter": f})
            self.assertStatus(got, 400, "filter %r" % (f,), code="invalid_field")
            msg = got[1]["error"]["message"] if isinstance(got[1], dict) else ""
            self.assertIn("filter", msg)
            self.assertIn(words, msg, "message for %r" % (f,))
        for alias in ({"data.x": {"$neq": 1}}, {"data.x": {"$exist": True}}, {"data.x": {"$nin": [1]}}):
            got = self.api("POST", "/api/v1/webhooks",
                           {"action": "candidate.hired", "postbackUrl": self.rx.url(), "filter": alias})
            self.assertStatus(got, 201, "filter %r" % (alias,))


if __name__ == "__main__":
    unittest.main()
