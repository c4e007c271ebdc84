"""The window as a creator uses it: keyboard only, remembered layout, free space, the space map, project edits,
and a preview grouped by project with natural and size order."""

from __future__ import annotations

import re
import shutil

import pytest
from gui_helpers import import_workspace, preview_selected, select_project, table_names
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QHeaderView

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.gui import create_main_window
from mediaclean_gui.gui.models import ProjectsModel


@pytest.fixture
def two_projects(workspace, catalog_path):
    workspace.add_project("p1", "Alpha", scenes=12, caches=[("pexels", "11")])
    workspace.add_project("p2", "Beta", scenes=2, caches=[("pexels", "22")])
    big = workspace.path(".cache/audio/p1/scene-5.mp3")
    big.write_bytes(big.read_bytes() + b"\0" * 400_000)  # the largest item of the plan
    import_workspace(workspace, catalog_path)
    return workspace


def _focus(window):
    return QApplication.focusWidget()


def test_keyboard_only_from_the_filter_to_confirm(two_projects, catalog_path, qtbot, open_window, monkeypatch):
    window = open_window(catalog_path, show=True)
    qtbot.waitExposed(window)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Ctrl+F
    assert _focus(window) is window.projectFilter
    QTest.keyClicks(window.projectFilter, "zzz")
    assert window.projects.noMatch.isVisibleTo(window)
    assert window.projects.noMatch.text() == "No project matches “zzz”. Press Escape to show every project."
    QTest.keyClick(window.projectFilter, Qt.Key.Key_Escape)  # clears the filter
    assert window.projectFilter.text() == "" and not window.projects.noMatch.isVisibleTo(window)
    QTest.keyClicks(window.projectFilter, "Alph")
    assert table_names(window) == ["Alpha"]
    QTest.keyClick(window.projectFilter, Qt.Key.Key_Down)  # into the table, on its first row
    assert _focus(window) is window.projectsTable
    assert [p.name for p in window.selected_projects()] == ["Alpha"]
    with qtbot.waitSignal(window.previewReady, timeout=20000):
        QTest.keyClick(window.projectsTable, Qt.Key.Key_Return)  # Enter previews
    QTest.keyClick(window.projectsTable, Qt.Key.Key_Tab)  # Tab leaves the table for the plan
    assert _focus(window) is window.planView
    QTest.keyClick(window.planView, Qt.Key.Key_Down)  # arrows move inside the plan
    assert window.planView.currentIndex().isValid()
    QTest.keyClick(window.planView, Qt.Key.Key_Tab)
    assert _focus(window) is window.confirmButton and window.confirmButton.isEnabled()
    asked = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or False)
    QTest.keyClick(window.confirmButton, Qt.Key.Key_Space)
    assert len(asked) == 1 and asked[0].startswith("Will delete ")
    assert two_projects.path(".cache/audio/p1/scene-1.mp3").exists()  # answered no: nothing deleted


def test_layout_sort_and_widths_are_restored_after_reopening(two_projects, catalog_path, qtbot, window_settings_file):
    window = create_main_window(catalog_path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.projects_loaded, timeout=10000)
    window.resize(780, 700)  # the offscreen screen is 800 × 800: restoring keeps a window on it
    window.splitter.setSizes([300, 480])
    sizes = window.splitter.sizes()
    header = window.projectsTable.horizontalHeader()
    header.setSectionResizeMode(ProjectsModel.SIZE, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(ProjectsModel.SIZE, 131)
    window.projectsTable.sortByColumn(ProjectsModel.SIZE, Qt.SortOrder.AscendingOrder)
    assert table_names(window) == ["Beta", "Alpha"]
    window.close()
    assert window_settings_file.exists()

    again = create_main_window(catalog_path)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.projects_loaded, timeout=10000)
    assert (again.width(), again.height()) == (780, 700)
    assert again.splitter.sizes() == sizes
    restored = again.projectsTable.horizontalHeader()
    assert restored.sectionSize(ProjectsModel.SIZE) == 131
    assert (restored.sortIndicatorSection(), restored.sortIndicatorOrder()) == (ProjectsModel.SIZE,
                                                                                 Qt.SortOrder.AscendingOrder)
    assert table_names(again) == ["Beta", "Alpha"]  # smallest first, as left


def test_free_space_now_and_after_the_plan(two_projects, catalog_path, qtbot, open_window):
    window = open_window(catalog_path)
    label = window.freeSpaceLabel
    qtbot.waitUntil(lambda: "free of" in label.text(), timeout=10000)
    assert re.fullmatch(r"Free space: [\d.]+ [kMGT]?B free of [\d.]+ [kMGT]?B on /\S*", label.text()), label.text()
    usage = shutil.disk_usage(two_projects.root)
    assert f"of {__import__('humanize').naturalsize(usage.total)} on " in label.text()
    select_project(window, "Alpha")
    preview_selected(qtbot, window)
    assert re.search(r" · [\d.]+ [kMGT]?B after this plan$", label.text()), label.text()
    window.pane.model.setData(window.pane.model.index(0, 0), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    window.pane.model.setData(window.pane.model.index(1, 0), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert "after this plan" not in label.text()  # nothing selected: nothing freed


def test_space_map_drill_down_selects_the_project(two_projects, catalog_path, qtbot, open_window):
    window = open_window(catalog_path, show=True)
    window.resize(1280, 900)
    space = window.spaceMap
    qtbot.waitUntil(lambda: len(space.tiles) == 2, timeout=10000)
    assert [t.label for t in space.tiles] == ["Alpha", "Beta"]  # largest first
    assert space.title().startswith("Reclaimable space — all projects · ")
    beta = space.tiles[1]
    qtbot.mouseClick(space, Qt.MouseButton.LeftButton, pos=beta.rect.center().toPoint())
    assert [p.name for p in window.selected_projects()] == ["Beta"]
    assert space.title() == "All projects › Beta (click here to go back)"
    qtbot.waitUntil(lambda: bool(space.tiles) and all(t.role for t in space.tiles), timeout=5000)
    assert {t.label for t in space.tiles} >= {"Intermediates"}
    assert "final" not in [t.role for t in space.tiles]  # protected roles are never reclaimable
    intermediates = next(t for t in space.tiles if t.role == "intermediate")
    qtbot.mouseClick(space, Qt.MouseButton.LeftButton, pos=intermediates.rect.center().toPoint())
    assert space.title() == "All projects › Beta › Intermediates (click here to go back)"
    qtbot.waitUntil(lambda: bool(space.tiles) and all(t.folder for t in space.tiles), timeout=5000)
    folders = {t.folder: t.bytes for t in space.tiles}
    assert set(folders) == {".cache/audio/p2", ".cache/videos/p2", ".cache/assembly/p2"}
    audio = sum(f.stat().st_size for f in two_projects.path(".cache/audio/p2").iterdir())
    assert folders[".cache/audio/p2"] == audio
    qtbot.mouseClick(space, Qt.MouseButton.RightButton, pos=QPoint(40, 60))  # one level up
    assert space.title() == "All projects › Beta (click here to go back)"
    image = space.grab().toImage()
    assert not image.isNull() and image.width() > 100
    qtbot.mouseClick(space, Qt.MouseButton.LeftButton, pos=QPoint(20, 8))  # the title goes back up
    assert [t.label for t in space.tiles] == ["Alpha", "Beta"]


def test_rename_and_remove_a_project_touch_no_file(two_projects, catalog_path, qtbot, open_window, monkeypatch):
    window = open_window(catalog_path)
    select_project(window, "Beta")

    def rename(dialog):
        assert dialog.name.text() == "Beta"
        dialog.name.setText("Beta, final cut")
        dialog.accept()
        qtbot.waitUntil(lambda: dialog.task is None, timeout=5000)
        return dialog.result() == QDialog.DialogCode.Accepted

    monkeypatch.setattr(window, "run_dialog", rename)
    window.findChild(type(window.acts.rename_project), "actionRenameProject").trigger()
    qtbot.waitUntil(lambda: table_names(window) == ["Alpha", "Beta, final cut"], timeout=10000)
    assert [p.name for p in window.selected_projects()] == ["Beta, final cut"]

    asked = []
    monkeypatch.setattr(window, "ask_confirmation_box", lambda box: asked.append(box.text()) or True)
    before = sorted(p.relative_to(two_projects.root) for p in two_projects.root.rglob("*"))
    window.findChild(type(window.acts.remove_project), "actionRemoveProject").trigger()
    qtbot.waitUntil(lambda: table_names(window) == ["Alpha"], timeout=10000)
    assert asked[0].startswith("Remove Beta, final cut from mediaclean?")
    assert "stay exactly where they are" in asked[0]
    assert sorted(p.relative_to(two_projects.root) for p in two_projects.root.rglob("*")) == before
    with Catalog(catalog_path) as cat:
        assert [r[0] for r in cat.conn.execute("SELECT name FROM projects")] == ["Alpha"]


def test_a_plan_of_two_projects_groups_by_project_then_role_in_natural_and_size_order(
        two_projects, catalog_path, qtbot, open_window):
    window = open_window(catalog_path)
    window.projectsTable.selectAll()
    preview_selected(qtbot, window)
    model = window.pane.model
    projects = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert projects == ["Alpha — 28 items, 2 kept", "Beta — 8 items, 2 kept"]
    alpha = model.index(0, 0)
    groups = [model.index(r, 0, alpha).data() for r in range(model.rowCount(alpha))]
    assert groups == ["Intermediates — 27 items", "Shared cache — 1 item", "Kept back — 2 items"]
    intermediates = model.index(0, 0, alpha)
    names = [model.index(r, 0, intermediates).data() for r in range(model.rowCount(intermediates))]
    audio = [n for n in names if n.startswith(".cache/audio/")]
    assert audio == [f".cache/audio/p1/scene-{n}.mp3" for n in range(1, 13)]  # scene-2 before scene-10
    why = model.index(0, 3, intermediates).data()
    assert why and "seed" not in why and "AC-" not in why

    header = window.planView.header()
    with qtbot.waitSignal(model.modelReset, timeout=10000):
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)  # Size, largest first
    window.pane.model.fetch_all()
    alpha = model.index(0, 0)
    intermediates = model.index(0, 0, alpha)
    first = model.index(0, 0, intermediates).data()
    assert first == ".cache/audio/p1/scene-5.mp3"
    assert window.planView.isExpanded(intermediates)  # open groups stay open


def test_usable_at_1024_by_700(two_projects, catalog_path, qtbot, open_window):
    window = open_window(catalog_path, show=True)
    window.resize(1024, 700)
    select_project(window, "Alpha")
    preview_selected(qtbot, window)
    qtbot.wait(50)
    for widget in (window.confirmButton, window.cancelButton, window.freeSpaceLabel, window.pane.totalLabel,
                   window.projectFilter, window.spaceMap):
        assert widget.isVisible(), widget.objectName()
        corner = widget.mapTo(window, widget.rect().bottomRight())
        assert corner.x() <= window.width() and corner.y() <= window.height(), widget.objectName()
    assert window.planView.width() >= 400 and window.projectsTable.height() >= 100
    assert window.pane.totalLabel.text().startswith("Will delete ")


def test_a_schedule_delayed_or_stopped_right_after_opening_stays_so(tmp_path, qtbot):
    """The demo delays the scheduled jobs (auto-cleanup among them) and tools stop them: filling the window
    in after its first paint must not start them again behind the caller's back."""
    window = create_main_window(tmp_path / "c.sqlite3")
    qtbot.addWidget(window)
    window.schedule.start(delay_ms=300_000)
    qtbot.waitUntil(lambda: window.projects_loaded, timeout=10000)
    qtbot.wait(50)
    assert window.schedule.timer.isActive() and window.schedule.timer.remainingTime() > 200_000
    window.schedule.stop()
    qtbot.wait(50)
    assert window.schedule.stopped and not window.schedule.timer.isActive()


@pytest.mark.parametrize("opener,field", [("add_project_dialog", "folder"), ("import_db_dialog", "db_file")])
def test_dialogs_open_with_focus_on_their_first_field(opener, field, tmp_path, qtbot, open_window, monkeypatch):
    window = open_window(tmp_path / "c.sqlite3", show=True)
    seen = {}

    def run(dialog):
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=3000)
        seen["focus"] = dialog.focusWidget()
        seen["field"] = getattr(dialog, field)
        dialog.reject()
        return False

    monkeypatch.setattr(window, "run_dialog", run)
    getattr(window, opener)()
    assert seen["focus"] is seen["field"]


def test_quitting_during_a_run_asks_first(workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("big", "Big", scenes=1)
    parts = workspace.path(".cache/assembly/big/parts")
    parts.mkdir(parents=True)
    for n in range(3000):
        (parts / f"chunk-{n:05d}.ts").write_bytes(b"x" * 256)
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path, show=True)
    select_project(window, "Big")
    preview_selected(qtbot, window, fetch_all=False)
    answers = [True]  # yes to Confirm
    asked = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(title) or answers.pop(0))
    window.confirmButton.click()
    assert window.running
    answers.append(False)  # "Quit anyway?" — no
    window.close()
    assert asked[-1] == "Quit during a run" and window.isVisible()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    window.close()  # no run: no question
    assert asked[-1] == "Quit during a run" and len(asked) == 2 and not window.isVisible()
