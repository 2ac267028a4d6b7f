"""The store's outcome guard (tests/unit/test_store_outcomes.c) on the backend under test:
a delivery the API ended (its webhook deleted) stays failed when the dispatcher's late
outcome arrives, and the attempt is still recorded."""

import unittest

from harness import run_store_unit_test


class StoreOutcomesTest(unittest.TestCase):
    def test_outcomes_on_this_backend(self):
        run_store_unit_test(self, "test_store_outcomes")


if __name__ == "__main__":
    unittest.main()
