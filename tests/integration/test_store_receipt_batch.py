"""Many receipts in one commit (tests/unit/test_store_receipt_batch.c) on the backend under test.

On SQLite the unit test itself covers it (unit.test_store_receipt_batch); on PostgreSQL
this runs the same program against a fresh database of the throwaway test server: several
entities, receipts without one, repeats of receipts of the same batch, of stored ones and
of waiting ones, decided once each in batch order, written array-shaped."""

import os
import subprocess
import unittest

from harness import backend, gancho_bin


class StoreReceiptBatchTest(unittest.TestCase):
    def test_receipts_on_this_backend(self):
        if backend() != "postgres":
            self.skipTest("SQLite runs as unit.test_store_receipt_batch")
        import pg
        prog = os.path.join(os.path.dirname(gancho_bin()), "tests", "test_store_receipt_batch")
        env = dict(os.environ, GANCHO_TEST_STORE_URL=pg.new_database())
        out = subprocess.run([prog], capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("PASSED", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
