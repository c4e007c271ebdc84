"""A worker's catalog connection ends with its task, whether the task succeeds or fails."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.errors import KnownError
from mediaclean_gui.gui.workers import Workers


def test_a_task_leaves_no_connection_open_in_its_worker_thread(catalog_path, qtbot):
    catalog = Catalog(catalog_path)
    host = QWidget()  # the window, in the application: the workers live and die with it
    qtbot.addWidget(host)
    workers = Workers(host)
    seen: list[int] = []

    def count_projects(context) -> int:
        count = int(catalog.conn.execute("SELECT count(*) FROM projects").fetchone()[0])
        seen.append(catalog.open_connections)  # this thread's and the worker's
        return count

    def fails(context) -> None:
        catalog.conn.execute("SELECT 1")
        raise KnownError("The bucket 'clips' does not exist.")

    try:
        assert catalog.open_connections == 1  # this thread's, opened to migrate
        with qtbot.waitSignal(workers.run_task(count_projects, name="count").finished, timeout=10000) as done:
            pass
        assert done.args[0] == 0 and done.args[1] is None
        assert seen == [2]
        assert catalog.open_connections == 1
        with qtbot.waitSignal(workers.run_task(fails, name="fails", destructive=True).finished,
                              timeout=10000) as failed:
            pass
        assert str(failed.args[1]) == "The bucket 'clips' does not exist."
        assert catalog.open_connections == 1
    finally:
        workers.shutdown()
        catalog.close()
    assert catalog.open_connections == 0


def test_nothing_starts_after_shutdown(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    workers = Workers(host)
    ran: list[str] = []
    with qtbot.waitSignal(workers.run_task(lambda ctx: ran.append("before"), name="before").finished, timeout=10000):
        pass
    workers.shutdown()
    late = workers.run_task(lambda ctx: ran.append("after"), name="after")
    # had it been started, waitForDone would return only once it ran: the pools are empty instead
    workers.general.waitForDone(5000)
    workers.deleting.waitForDone(5000)
    assert ran == ["before"]
    assert late.cancel_token.cancelled and not workers.busy
