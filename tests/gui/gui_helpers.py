"""Helpers for the window tests (a module of its own: ``from conftest import`` would pick up
whichever ``conftest`` pytest imported last when several test folders run together)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QModelIndex, Qt

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.scan import scan_projects
from mediaclean_gui.gui.main_window import MainWindow
from mediaclean_gui.gui.models import ProjectsModel, RecordRole

T = TypeVar("T")


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


def on_catalog(catalog_path: Path, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``read(catalog, *args, **kwargs)`` on a catalog opened for this one call and closed after it (the
    test's own look at what the window wrote, beside the window's catalog)."""
    with Catalog(catalog_path) as catalog:
        return read(catalog, *args, **kwargs)


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
