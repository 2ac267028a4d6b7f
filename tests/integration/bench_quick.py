"""The benchmark programs build and a tiny run completes with every event delivered.

This is not a benchmark: no timing is asserted. It runs `bench/run --quick --runs 1`
(a few hundred events per row) with the binaries ctest passes in GANCHO_BIN,
BENCH_SINK and BENCH_LOAD, and checks that it exits 0 and that its table has
every row with every event delivered. The real numbers come from running
bench/run by hand (see bench/README.md).

Named bench_quick.py, not test_*.py, so the integration glob in
tests/CMakeLists.txt does not register it a second time; bench/CMakeLists.txt
registers it as the ctest entry bench.quick.
"""

import os
import re
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RUN = os.path.join(ROOT, "bench", "run")


class BenchQuickTest(unittest.TestCase):

    def test_quick_run_delivers_every_event(self):
        for var in ("GANCHO_BIN", "BENCH_SINK", "BENCH_LOAD"):
            path = os.environ.get(var)
            if path:
                self.assertTrue(os.access(path, os.X_OK), "%s=%s is not an executable" % (var, path))
        proc = subprocess.run([RUN, "--quick", "--runs", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=240)
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        detail = "\n--- stdout ---\n%s\n--- stderr (last 4000 chars) ---\n%s" % (out, err[-4000:])
        self.assertEqual(proc.returncode, 0, "bench/run --quick failed" + detail)

        # | row | metric | median | min – max | reference | ratio | bar | result | runs | delivered |
        rows = {}
        for line in out.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 10 or not cells[0].isdigit():
                continue
            m = re.fullmatch(r"(\d+)/(\d+)", cells[9])
            self.assertIsNotNone(m, "delivered column of %r" % line + detail)
            got, want = int(m.group(1)), int(m.group(2))
            self.assertGreater(want, 0, "row %s expected no events: %r" % (cells[0], line) + detail)
            self.assertEqual(got, want, "row %s: not every event delivered: %r" % (cells[0], line) + detail)
            self.assertRegex(cells[2], r"^\*\*[0-9.]+\*\*$", "row %s has no value: %r" % (cells[0], line))
            rows.setdefault(int(cells[0]), []).append(cells[1])
        self.assertEqual(sorted(rows), list(range(1, 15)), "every row is in the table" + detail)
        self.assertIn("machine: nproc", out, "the machine line is printed" + detail)


if __name__ == "__main__":
    unittest.main()
