"""The committer's round: a job that cannot add its rows to the group commit (fault point
round_alloc, as if out of memory) fails alone. Runs against the real binary, on SQLite and
on PostgreSQL."""

import time
import unittest
import uuid

import harness as H


class FailedFillTest(H.GanchoTestCase):
    """The first event's rows cannot be added: it is answered 503 and nothing of it is
    stored or sent; the same event sent again is stored and delivered once, and the
    committer goes on."""

    gancho_env = {"GANCHO_FAULTS": "round_alloc:1"}

    def test_an_event_whose_rows_cannot_be_added_fails_alone(self):
        wh = self.create_webhook(ordering="fifo")
        eid = "evt-" + uuid.uuid4().hex
        body = {"event": "candidate.hired", "id": eid, "data": {"n": 1}}
        got = self.api("POST", "/api/v1/events", body)
        self.assertStatus(got, 503, "the event whose rows could not be added", code="unavailable")
        self.assertIn("out of memory", got[1]["error"]["message"])
        time.sleep(1)
        self.assertIsNone(self.delivery_for(wh["id"], eid), "a failed job leaves no row")
        self.assertEqual(self.rx.requests, [], "nothing of it is sent")
        again = self.post_event("candidate.hired", {"n": 1}, id=eid)
        self.assertEqual(again["id"], eid)
        other = self.post_event("candidate.hired", {"n": 2})["id"]
        self.rx.wait_ids([eid, other], 10)
        self.wait_delivery(wh["id"], eid, "delivered", 10)
        time.sleep(0.5)
        self.assertEqual([r.event_id() for r in self.rx.requests], [eid, other], "once each, in order")
        self.assertTrue(self.g.alive())


if __name__ == "__main__":
    unittest.main()
