"""Preview → uncheck → confirm → run, on a real workspace; outcomes, history, limits, errors."""

from __future__ import annotations

import logging
import os
import re

import pytest
from gui_helpers import (
    import_workspace,
    item_index,
    on_catalog,
    preview_selected,
    select_project,
    table_cell,
    uncheck,
)
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.plan import load_plan, total_line
from mediaclean_gui.gui.models import HistoryModel, ProjectsModel


@pytest.fixture
def two_projects(workspace, catalog_path):
    workspace.add_project("p1", "Alpha", scenes=3, caches=[("pexels", "11")])
    workspace.add_project("p2", "Beta", scenes=2, caches=[("pexels", "22")])
    import_workspace(workspace, catalog_path)
    return workspace


def test_preview_uncheck_confirm_runs_exactly_the_rest(two_projects, catalog_path, qtbot, open_window, monkeypatch):
    ws = two_projects
    window = open_window(catalog_path)
    select_project(window, "Alpha")
    plan_id = preview_selected(qtbot, window)
    model = window.pane.model
    groups = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert groups == ["Intermediates — 9 items", "Shared cache — 1 item", "Kept back — 2 items"]
    kept = model.index(2, 0)
    reasons = {model.index(r, 0, kept).data(): model.index(r, 3, kept).data() for r in range(model.rowCount(kept))}
    assert reasons[".cache/output/p1/final.mp4"].startswith("protected")
    assert window.pane.totalLabel.text() == on_catalog(catalog_path, load_plan, plan_id).total_line()

    keep = ws.path(".cache/audio/p1/scene-1.mp3")
    uncheck(window, keep)
    plan = on_catalog(catalog_path, load_plan, plan_id)
    for item in plan.items:
        item.selected = item.target != str(keep)
    assert window.pane.totalLabel.text() == total_line(plan.selected_items(), plan.kept_count)
    assert window.pane.totalLabel.text().startswith("Will delete 8 files · ")

    asked = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or True)
    with qtbot.waitSignal(window.runFinished, timeout=20000) as run:
        qtbot.mouseClick(window.confirmButton, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and asked[0].startswith("Will delete 8 files")
    result = run.args[0]
    assert result.status == "complete" and result.deleted_count == 8

    assert keep.exists()
    for rel in (".cache/audio/p1/scene-2.mp3", ".cache/audio/p1/scene-3.mp3", ".cache/videos/p1/scene-1-seg.mp4",
                ".cache/assembly/p1/part-0.mp4", "assets/cache/pexels/11.mp4"):
        assert not ws.path(rel).exists(), rel
    assert not ws.path(".cache/assembly/p1").exists()
    assert ws.path(".cache/output/p1/final.mp4").exists() and ws.path(".cache/output/p1/final-thumb.jpg").exists()
    assert ws.path(".cache/audio/p2/scene-1.mp3").exists()  # Beta was not in the plan

    qtbot.waitUntil(lambda: table_cell(window, "Alpha", ProjectsModel.STATUS) == "complete", timeout=10000)
    assert table_cell(window, "Alpha", ProjectsModel.LAST) != "never"
    assert table_cell(window, "Beta", ProjectsModel.STATUS) == "awaiting your first review"
    message = window.pane.messageLabel.text()
    assert re.fullmatch(r"Deleted 8 files · freed \d+\.\d kB", message), message
    assert window.statusBar().currentMessage() == message

    history = window.history.model
    qtbot.waitUntil(lambda: history.rowCount() == 1, timeout=10000)
    row = [history.index(0, c).data() for c in range(history.columnCount())]
    assert row[1:5] == ["clean", "user", "Alpha", "complete"]
    # the history says it in the same sentence as the result line
    assert row[HistoryModel.COLUMNS.index("Result")] == message
    window.historyView.selectRow(0)
    items = window.history.items_model
    qtbot.waitUntil(lambda: items.rowCount() > 0, timeout=10000)
    outcomes = {items.index(r, 1).data(): items.index(r, 0).data() for r in range(items.rowCount())}
    assert outcomes[str(keep)] == "skipped"
    assert window.history.itemsLabel.text() == message  # and so do the run's details


def test_changed_item_is_skipped_with_an_icon_and_tooltip(two_projects, catalog_path, qtbot, open_window, monkeypatch):
    ws = two_projects
    window = open_window(catalog_path)
    select_project(window, "Alpha")
    preview_selected(qtbot, window)
    changed = ws.path(".cache/audio/p1/scene-2.mp3")
    changed.write_bytes(changed.read_bytes() + b"more")  # changed between preview and confirm
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(window.runFinished, timeout=20000):
        window.confirmButton.click()
    assert changed.exists()
    model = window.pane.model
    index = item_index(window, changed)
    qtbot.waitUntil(lambda: bool(model.outcomes), timeout=10000)
    assert model.data(index, Qt.ItemDataRole.ToolTipRole).endswith("skipped: changed since preview")
    assert model.data(index, Qt.ItemDataRole.DecorationRole) is not None
    assert model.data(index.siblingAtColumn(3)) == "skipped: changed since preview"
    assert "1 skipped" in window.pane.messageLabel.text()
    assert not model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable  # a run plan is read-only


def test_confirmation_default_button_is_cancel(tmp_path, qtbot, open_window, catalog_path, two_projects):
    window = open_window(catalog_path)
    box = window.confirmation_box("Will delete 3 files · 1 kB · 0 kept")
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert box.text() == "Will delete 3 files · 1 kB · 0 kept"
    # pressing Enter takes the default: nothing is confirmed
    shown = []

    def factory(text, title="Confirm", action="Delete"):
        made = type(window).confirmation_box(window, text, title, action)
        shown.append(made)
        QTimer.singleShot(50, lambda: qtbot.keyClick(made, Qt.Key.Key_Return))
        return made

    window.confirmation_box = factory
    assert window.ask_confirmation("Delete?") is False
    assert shown and shown[0].clickedButton() is shown[0].button(QMessageBox.StandardButton.Cancel)


def test_above_the_delete_limit_asks_a_second_time(two_projects, catalog_path, qtbot, open_window, monkeypatch):
    ws = two_projects
    with Catalog(catalog_path) as cat:
        cat.set_pref("max_delete_count", 3)
    window = open_window(catalog_path)
    select_project(window, "Alpha")
    preview_selected(qtbot, window)
    answers = iter([True, False])
    asked = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or next(answers))
    window.confirmButton.click()
    assert len(asked) == 2
    assert "the plan deletes 9 files, more than the limit of 3 (Preferences › Safety › “Ask again above”)" in asked[1]
    assert "max_delete_count" not in asked[1]  # no preference key where a creator reads
    assert window.pane.messageLabel.text().startswith("Not run: the plan deletes 9 files, more than the limit of 3")
    assert ws.path(".cache/audio/p1/scene-1.mp3").exists()
    assert on_catalog(catalog_path, list_runs) == []

    answers = iter([True, True])
    with qtbot.waitSignal(window.runFinished, timeout=20000) as run:
        window.confirmButton.click()
    assert run.args[0].status == "complete"  # confirm_large was passed after the explicit second yes
    assert not ws.path(".cache/audio/p1/scene-1.mp3").exists()


def test_known_and_unexpected_errors_are_one_sentence(catalog_path, two_projects, qtbot, open_window):
    window = open_window(catalog_path)

    def refuse(catalog, progress, cancel):
        raise ConfigError("No remote 'x'. Add one with mediaclean remote add.")

    with qtbot.waitSignal(window.pane.model.modelReset, timeout=10000):
        window.preview(refuse, "Broken preview")
    qtbot.waitUntil(lambda: window.active_task is None, timeout=10000)
    # the core's "Add one with mediaclean …" is not for the window
    assert window.pane.messageLabel.text() == "No remote 'x'."
    assert window.statusBar().currentMessage() == "No remote 'x'."

    def boom(catalog, progress, cancel):
        raise ZeroDivisionError("boom")

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("mediaclean.gui")  # the app may have stopped propagation to the root
    logger.addHandler(handler)
    try:
        window.preview(boom, "Buggy preview")
        qtbot.waitUntil(lambda: window.active_task is None, timeout=10000)
    finally:
        logger.removeHandler(handler)
    assert window.pane.messageLabel.text() == "Unexpected error: boom (details in the log)"
    assert records and records[0].exc_info and records[0].exc_info[0] is ZeroDivisionError


def test_unchecking_a_group_leaves_the_whole_group_out(two_projects, catalog_path, qtbot, open_window,
                                                       monkeypatch):
    ws = two_projects
    window = open_window(catalog_path)
    select_project(window, "Alpha")
    preview_selected(qtbot, window)
    model = window.pane.model
    group = model.index(1, 0)
    assert group.data() == "Shared cache — 1 item"
    assert model.setData(group, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert model.data(group, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.data(model.index(0, 0, group), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert window.pane.totalLabel.text().startswith("Will delete 8 files")
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(window.runFinished, timeout=20000) as run:
        window.confirmButton.click()
    assert run.args[0].deleted_count == 8
    assert ws.path("assets/cache/pexels/11.mp4").exists()
    assert not ws.path(".cache/audio/p1/scene-1.mp3").exists()


def test_per_project_auto_cleanup_override(catalog_path, two_projects, qtbot, open_window):
    window = open_window(catalog_path)
    window.projectsTable.selectRow(0)
    rect = window.projectsTable.visualRect(window.projects_proxy.index(0, 0))
    window._context_menu(rect.center())
    menu = window.context_menu
    labels = [a.text() for a in menu.actions()]
    assert "Preview cleanup" in labels and "Auto-cleanup" in labels
    auto_menu = next(a.menu() for a in menu.actions() if a.text() == "Auto-cleanup")
    choices = {a.objectName(): a for a in auto_menu.actions()}
    assert set(choices) == {"autoCleanup_inherit", "autoCleanup_on", "autoCleanup_off"}
    assert choices["autoCleanup_inherit"].isChecked()
    menu.close()
    choices["autoCleanup_off"].trigger()
    qtbot.waitUntil(lambda: table_cell(window, "Alpha", ProjectsModel.AUTO) == "off", timeout=10000)
    with Catalog(catalog_path) as cat:
        assert cat.conn.execute("SELECT auto_cleanup FROM projects WHERE name = 'Alpha'").fetchone()[0] == "off"
    assert table_cell(window, "Beta", ProjectsModel.AUTO) == "on (global)"
    window.acts.auto_toggle.setChecked(False)
    qtbot.waitUntil(lambda: table_cell(window, "Beta", ProjectsModel.AUTO) == "off (global)", timeout=10000)
    with Catalog(catalog_path) as cat:
        assert cat.pref("auto_cleanup_enabled") is False
    assert window.findChild(type(window.acts.auto_toggle), "autoCleanupToggle").isChecked() is False
    assert os.environ.get("AUTO_CLEANUP_ENABLED") is None
