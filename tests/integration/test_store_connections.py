"""The store's connections (tests/unit/test_store_connections.c) on the backend under test.

On SQLite the unit test itself covers it (unit.test_store_connections); on PostgreSQL
this runs the same program against a fresh database of the throwaway test server, so
both backends answer the same cases: rows within a company only, pages, a change of
credentials rewriting exactly the targets that use the connection, and a delete (or an
exclusive change) refused with 409 naming the route that uses it."""

import os
import subprocess
import unittest

from harness import backend, gancho_bin


class StoreConnectionsTest(unittest.TestCase):
    def test_connections_on_this_backend(self):
        if backend() != "postgres":
            self.skipTest("SQLite runs as unit.test_store_connections")
        import pg
        prog = os.path.join(os.path.dirname(gancho_bin()), "tests", "test_store_connections")
        env = dict(os.environ, GANCHO_TEST_STORE_URL=pg.new_database())
        out = subprocess.run([prog], capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("PASSED", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
