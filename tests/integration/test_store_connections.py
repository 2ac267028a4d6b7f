"""The store's connections (tests/unit/test_store_connections.c) on the backend under test.

On SQLite the unit test itself covers it (unit.test_store_connections); on PostgreSQL
this runs the same program against a fresh database of the throwaway test server, so
both backends answer the same cases: rows within a company only, pages, a change of
credentials rewriting exactly the targets that use the connection, and a delete (or an
exclusive change) refused with 409 naming the route that uses it."""

import unittest

from harness import run_store_unit_test


class StoreConnectionsTest(unittest.TestCase):
    def test_connections_on_this_backend(self):
        run_store_unit_test(self, "test_store_connections")


if __name__ == "__main__":
    unittest.main()
