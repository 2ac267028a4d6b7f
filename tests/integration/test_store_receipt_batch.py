"""Many receipts in one commit (tests/unit/test_store_receipt_batch.c) on the backend under test.

On SQLite the unit test itself covers it (unit.test_store_receipt_batch); on PostgreSQL
this runs the same program against a fresh database of the throwaway test server: several
entities, receipts without one, repeats of receipts of the same batch, of stored ones and
of waiting ones, decided once each in batch order, written array-shaped."""

import unittest

from harness import run_store_unit_test


class StoreReceiptBatchTest(unittest.TestCase):
    def test_receipts_on_this_backend(self):
        run_store_unit_test(self, "test_store_receipt_batch")


if __name__ == "__main__":
    unittest.main()
