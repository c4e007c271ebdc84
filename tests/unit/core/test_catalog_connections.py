"""Every catalog connection is closed when its work ends: close() closes all threads', a thread's at its end.

Python 3.13 warns (``ResourceWarning: unclosed database``) about a connection left to the garbage
collector; these tests look at the real resource instead, the file descriptors this process holds
on the catalog's files, so they fail the same way on every Python.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from mediaclean_gui.core.catalog import Catalog, close_thread_connections, open_catalogs
from mediaclean_gui.core.errors import CatalogLocked, CatalogTooNew


def fds_on(path: Path) -> int:
    """How many file descriptors of this process are open on ``path`` or SQLite's files beside it."""
    names = {str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in names:
                count += 1
        except OSError:
            continue  # the descriptor listdir itself used, closed meanwhile
    return count


def _closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError as exc:
        assert "closed database" in str(exc)
        return True
    return False


class Holder(threading.Thread):
    """A thread that opens its connection to ``catalog`` and runs until told to end."""

    def __init__(self, catalog: Catalog, *, close_at_end: bool = False) -> None:
        super().__init__(daemon=True)
        self.catalog = catalog
        self.close_at_end = close_at_end
        self.ready = threading.Event()
        self.end = threading.Event()
        self.conn: sqlite3.Connection | None = None
        self.still_open = False

    def run(self) -> None:
        self.conn = self.catalog.conn
        self.conn.execute("SELECT count(*) FROM projects").fetchone()
        self.ready.set()
        self.end.wait(30)
        self.still_open = not _closed(self.conn)
        if self.close_at_end:
            close_thread_connections()


def test_close_closes_this_threads_connection_and_those_of_ended_threads(catalog_path):
    cat = Catalog(catalog_path)
    alone = fds_on(catalog_path)
    assert alone >= 1 and cat.open_connections == 1
    holders = [Holder(cat) for _ in range(3)]
    for h in holders:
        h.start()
        assert h.ready.wait(30)
    assert cat.open_connections == 4 and fds_on(catalog_path) > alone
    for h in holders:
        h.end.set()
        h.join(30)
    cat.close()  # the three threads ended without closing theirs
    assert cat.open_connections == 0 and fds_on(catalog_path) == 0
    assert all(h.conn is not None and _closed(h.conn) for h in holders)
    assert cat not in open_catalogs()
    # the catalog can still be used: a new connection for the thread that asks
    assert cat.conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
    cat.close()
    assert fds_on(catalog_path) == 0


def test_close_never_closes_a_connection_under_a_running_thread(catalog_path):
    cat = Catalog(catalog_path)
    worker = Holder(cat, close_at_end=True)
    worker.start()
    assert worker.ready.wait(30)
    cat.close()  # the window closing while a task still runs
    assert cat.open_connections == 1  # the running thread's: it may be inside a query or a transaction
    worker.end.set()
    worker.join(30)
    assert worker.still_open  # it could finish its work on its own connection
    assert cat.open_connections == 0 and fds_on(catalog_path) == 0  # and closed it when its task ended


def test_a_thread_that_ended_does_not_keep_its_connection(catalog_path):
    cat = Catalog(catalog_path)
    try:
        first = Holder(cat)
        first.start()
        assert first.ready.wait(30)
        first.end.set()
        first.join(30)
        assert first.conn is not None and not _closed(first.conn)  # still open: nothing has closed it yet
        assert cat.open_connections == 2
        second = Holder(cat)  # the next connection opened closes the ended thread's
        second.start()
        assert second.ready.wait(30)
        assert _closed(first.conn)
        assert cat.open_connections == 2  # this thread's and the second's
        second.end.set()
        second.join(30)
    finally:
        cat.close()
    assert fds_on(catalog_path) == 0


def test_a_task_closes_its_threads_connections_to_every_catalog(tmp_path):
    one, two = Catalog(tmp_path / "one.sqlite3"), Catalog(tmp_path / "two.sqlite3")
    seen: dict[str, object] = {}

    def task() -> None:
        for cat in (one, two):
            cat.conn.execute("SELECT 1").fetchone()
        seen["during"] = (one.open_connections, two.open_connections)
        close_thread_connections()  # what gui/workers.py does when a task ends
        seen["after"] = (one.open_connections, two.open_connections)
        seen["again"] = one.conn.execute("SELECT count(*) FROM runs").fetchone()[0]  # reopens when used
        one.close_thread_connection()

    try:
        thread = threading.Thread(target=task)
        thread.start()
        thread.join(30)
        assert seen == {"during": (2, 2), "after": (1, 1), "again": 0}
        assert not _closed(one.conn) and not _closed(two.conn)  # this thread's connections stay
    finally:
        one.close()
        two.close()
    assert fds_on(tmp_path / "one.sqlite3") == fds_on(tmp_path / "two.sqlite3") == 0


HOLD_THE_LOCK = """
import sys
from mediaclean_gui.core.catalog import Catalog
with Catalog(sys.argv[1]) as cat, cat.writer("nightly sweep"):
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_catalog_that_fails_to_open_holds_no_connection(catalog_path):
    Catalog(catalog_path).close()
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(catalog_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "holding"
        # now the catalog says it is of an older schema: opening it must migrate, under the held lock
        with Catalog(catalog_path) as cat:
            cat.conn.execute("PRAGMA user_version = 1")
        with pytest.raises(CatalogLocked) as err:
            Catalog(catalog_path, lock_timeout=0.2)
        assert f"is in use by process {other.pid} (nightly sweep" in str(err.value)
        # the traceback keeps the half-made catalog alive: its connection is closed all the same
        assert err.value.__traceback__ is not None
        assert fds_on(catalog_path) == 0 and open_catalogs() == []
    finally:
        other.communicate("\n", timeout=30)
    assert other.returncode == 0


def test_a_catalog_too_new_holds_no_connection(catalog_path):
    with Catalog(catalog_path) as cat:
        cat.conn.execute("PRAGMA user_version = 999")
    with pytest.raises(CatalogTooNew):
        Catalog(catalog_path)
    assert fds_on(catalog_path) == 0 and open_catalogs() == []


def test_a_test_that_leaves_a_catalog_open_fails(tmp_path):
    """The suite's guard (tests/conftest.py) names a catalog a test left open, on every Python."""
    tests = Path(__file__).resolve().parents[2]
    leaky = tmp_path / "test_leaky.py"
    leaky.write_text(textwrap.dedent("""
        from mediaclean_gui.core.catalog import Catalog

        KEPT = []

        def test_keeps_one_open(tmp_path):
            KEPT.append(Catalog(tmp_path / "kept-open.sqlite3"))

        def test_drops_one_open(tmp_path):
            cat = Catalog(tmp_path / "dropped-open.sqlite3")
            cat.conn.execute("SELECT 1")
            del cat

        def test_closes(tmp_path):
            with Catalog(tmp_path / "closed.sqlite3") as cat:
                cat.conn.execute("SELECT 1")
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tests), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest", "--rootdir", str(tmp_path),
         "--basetemp", str(tmp_path / "run"), "-W", "error", str(leaky)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "1 failed, 2 passed, 2 errors" in out
    # kept alive but not closed: the guard names it after the test
    assert "ERROR at teardown of test_keeps_one_open" in out
    assert "catalogs left open (call close(), or use 'with Catalog(...)'): " in out
    assert "kept-open.sqlite3 (1 connection(s))" in out
    # dropped without close(): a ResourceWarning names it, and the suite turns it into a failure; nothing
    # closes its connection behind the test's back, so the guard finds it open too (the warning's traceback
    # keeps the catalog alive until pytest reports it)
    assert "FAILED test_leaky.py::test_drops_one_open" in out
    assert "ERROR test_leaky.py::test_drops_one_open" in out
    assert "dropped-open.sqlite3 dropped with 1 open connection(s); call close()" in out
    assert "/closed.sqlite3" not in out
