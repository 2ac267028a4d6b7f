"""The store's receipt commit (tests/unit/test_store_receipts.c) on the backend under test.

On SQLite the unit test itself covers it (unit.test_store_receipts); on PostgreSQL
this runs the same program against a fresh database of the throwaway test server, so
both backends answer the same cases: duplicates counted and never decided twice, each
receipt decided in the commit against its entity, stale receipts, and receipts that
waited in a reorder window decided in date order."""

import unittest

from harness import run_store_unit_test


class StoreReceiptsTest(unittest.TestCase):
    def test_receipts_on_this_backend(self):
        run_store_unit_test(self, "test_store_receipts")


if __name__ == "__main__":
    unittest.main()
