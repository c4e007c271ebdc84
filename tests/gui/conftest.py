"""Fixtures for the window tests: real catalogs from real workspaces, an offscreen window, helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

from mediaclean_gui.core import catalog as catalog_module
from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.scan import scan_projects
from mediaclean_gui.gui import create_main_window
from mediaclean_gui.gui.main_window import MainWindow
from mediaclean_gui.gui.models import ProjectsModel, RecordRole


@pytest.fixture(autouse=True)
def schedule_off(monkeypatch):
    """Every scheduled job off by default in window tests, as in ``tests/unit/test_scheduler.py``.

    The window's scheduler runs a job never run before as soon as it starts (auto-cleanup every
    5 minutes by default), which would clean the settled test projects under every other test;
    the scheduler's own tests turn on the job they look at.
    """
    for key in [k for k in catalog_module.DEFAULT_PREFS if k.startswith("schedule_")]:
        monkeypatch.setitem(catalog_module.DEFAULT_PREFS, key, 0)


def import_workspace(workspace, catalog_path: Path) -> list[int]:
    """Write the generator database, import it and scan it (what a user does first)."""
    db = workspace.write_db()
    cat = Catalog(catalog_path)
    try:
        ids = import_generator_db(cat, db, workspace.root).project_ids
        scan_projects(cat, ids)
    finally:
        cat.close()
    return ids


@pytest.fixture
def open_window(qtbot):
    """``open_window(catalog_path)`` -> a MainWindow with its projects loaded (closed at the end)."""

    def make(catalog_path: Path, show: bool = False) -> MainWindow:
        window = create_main_window(catalog_path)
        qtbot.addWidget(window)
        if show:
            window.show()
        qtbot.waitUntil(lambda: window.projects_model.rowCount() > 0 or window.tableStack.currentIndex() == 0,
                        timeout=10000)
        qtbot.waitUntil(lambda: not window.workers.running("projects"), timeout=10000)
        return window

    return make


def table_names(window: MainWindow) -> list[str]:
    """The project names as the table shows them, top to bottom."""
    proxy = window.projects_proxy
    return [proxy.index(r, ProjectsModel.NAME).data() for r in range(proxy.rowCount())]


def table_cell(window: MainWindow, name: str, column: int) -> str:
    proxy = window.projects_proxy
    for r in range(proxy.rowCount()):
        if proxy.index(r, ProjectsModel.NAME).data() == name:
            return proxy.index(r, column).data()
    raise AssertionError(f"no row {name!r} in {table_names(window)}")


def select_project(window: MainWindow, name: str) -> None:
    proxy = window.projects_proxy
    for r in range(proxy.rowCount()):
        index = proxy.index(r, ProjectsModel.NAME)
        if index.data(RecordRole).name == name:
            window.projectsTable.selectRow(r)
            return
    raise AssertionError(f"no row {name!r}")


def preview_selected(qtbot, window: MainWindow, fetch_all: bool = True) -> int:
    """Trigger Preview cleanup (Ctrl+P's action) and wait for the plan in the pane."""
    with qtbot.waitSignal(window.previewReady, timeout=20000) as blocker:
        window.findChild(type(window.acts.preview_cleanup), "actionPreviewCleanup").trigger()
    if fetch_all:
        window.pane.model.fetch_all()
    return int(blocker.args[0])


def item_index(window: MainWindow, target: Path) -> QModelIndex:
    index = window.pane.model.find_item(str(target))
    assert index.isValid(), f"{target} is not in the plan"
    return index


def uncheck(window: MainWindow, target: Path) -> None:
    model = window.pane.model
    index = item_index(window, target)
    assert model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)


# ---------------------------------------------------------------- the real SeaweedFS server (S3 tests)

sys.path.insert(0, str(Path(__file__).parent.parent / "integration"))
from s3_server import SeaweedServer


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One ``weed mini`` for every window test that needs S3 (tests/integration has its own)."""
    weed = SeaweedServer(tmp_path_factory.mktemp("weed-gui"))
    weed.start()
    yield weed
    weed.stop()


@pytest.fixture
def s3_env(server, tmp_path, monkeypatch):
    """The server's credentials through boto3's standard chain (environment only); the shared
    files point at an empty file so the developer's own ~/.aws cannot leak in."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for key, value in (("AWS_ACCESS_KEY_ID", server.access_key), ("AWS_SECRET_ACCESS_KEY", server.secret_key),
                       ("AWS_DEFAULT_REGION", server.region), ("AWS_CONFIG_FILE", str(empty)),
                       ("AWS_SHARED_CREDENTIALS_FILE", str(empty)), ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return server
