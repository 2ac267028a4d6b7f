"""PostgreSQL for the integration suite (Python 3 standard library only).

One throwaway server per test process, started with scripts/pg-test on first
use and stopped at exit; or, when env GANCHO_PG_URL names a server, that one
(never stopped here). Each test takes a fresh database from it.

    import pg
    url = pg.new_database()      # postgres://gancho@127.0.0.1:PORT/g_1f2e…
    gancho.start(db=url)

- server(): the server's URL (starting it when needed).
- new_database(): CREATE DATABASE g_<random> on it; its URL.
- psql(url, sql): run SQL (tests that look at or break the database); stdout.
- restart(): stop the server and start it again on the same port (fast shutdown:
  clients see their connections drop, as in a failover).
- stop(): stop the server this process started (also registered with atexit).

With GANCHO_PG_URL, restart() needs GANCHO_PG_DIR, the scripts/pg-test directory
of that server.
"""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PG_TEST = os.environ.get("GANCHO_PG_TEST") or os.path.join(ROOT, "scripts", "pg-test")

_lock = threading.Lock()
_url = None  # the server's URL (database "postgres")
_dir = None  # the directory of the server we started, or None


def _psql_bin():
    found = shutil.which("psql")
    if found:
        return found
    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True):
        return path
    raise RuntimeError("psql not found (install postgresql-client)")


def psql(url, sql):
    """Run sql against url with psql; return its stdout (unaligned, tuples only)."""
    out = subprocess.run([_psql_bin(), url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-c", sql], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s" % out.stderr.strip())
    return out.stdout


def server():
    """The URL of this process's PostgreSQL server, started on first use."""
    global _url, _dir
    with _lock:
        if _url:
            return _url
        env_url = os.environ.get("GANCHO_PG_URL")
        if env_url:
            _url = env_url
            return _url
        d = tempfile.mkdtemp(prefix="gancho-pg-")
        os.chmod(d, 0o755)  # the server may run as another user (root cannot)
        out = subprocess.run([PG_TEST, "start", d], capture_output=True, text=True,
                             timeout=600, stdin=subprocess.DEVNULL)
        lines = out.stdout.strip().splitlines()
        if out.returncode != 0 or not lines:
            shutil.rmtree(d, ignore_errors=True)
            raise RuntimeError("pg-test start failed:\n%s%s" % (out.stdout, out.stderr))
        _dir = d
        _url = lines[-1].strip()
        return _url


def _with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query,
                                    parts.fragment))


def new_database():
    """Create an empty database on the server; return its URL."""
    base = server()
    name = "g_" + uuid.uuid4().hex[:16]
    psql(base, "CREATE DATABASE %s" % name)
    return _with_database(base, name)


def restart():
    """Stop the server and start it again; the URL stays the same."""
    server()
    d = _dir or os.environ.get("GANCHO_PG_DIR")
    if not d:
        raise RuntimeError("cannot restart the GANCHO_PG_URL server without GANCHO_PG_DIR")
    for verb in ("stop", "start"):
        out = subprocess.run([PG_TEST, verb, d], capture_output=True, text=True, timeout=600,
                             stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError("pg-test %s failed:\n%s%s" % (verb, out.stdout, out.stderr))
    lines = out.stdout.strip().splitlines()
    if lines and lines[-1].strip() != _url:
        raise RuntimeError("the server came back at %s, not %s" % (lines[-1].strip(), _url))


def stop():
    """Stop the server this process started (a GANCHO_PG_URL server is left alone)."""
    global _url, _dir
    with _lock:
        d, _dir, _url = _dir, None, None
    if not d:
        return
    try:
        subprocess.run([PG_TEST, "stop", d], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(stop)
