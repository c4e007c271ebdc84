"""The projects table: filter, 64-bit size sorting, the breakdown picture, the empty state."""

from __future__ import annotations

import sqlite3

from gui_helpers import select_project, table_cell, table_names
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from mediaclean_gui.core.demo import create_demo
from mediaclean_gui.gui import create_main_window
from mediaclean_gui.gui.models import ProjectsModel


def test_filter_shows_matching_rows(tmp_path, qtbot, open_window):
    window = open_window(create_demo(tmp_path / "demo", small=True))
    assert table_names(window) == ["City Timelapse", "Ocean Documentary", "Product Launch", "Recipe Short"]
    qtbot.keyClicks(window.projectFilter, "oCeAn")
    assert table_names(window) == ["Ocean Documentary"]
    window.projectFilter.clear()
    qtbot.keyClicks(window.projectFilter, "c")  # every name with a c
    assert table_names(window) == ["City Timelapse", "Ocean Documentary", "Product Launch", "Recipe Short"]
    qtbot.keyClicks(window.projectFilter, "t")  # "ct": Product Launch only
    assert table_names(window) == ["Product Launch"]
    qtbot.keyClicks(window.projectFilter, "zzz")
    assert table_names(window) == []


def test_sizes_sort_as_64_bit_ints_and_show_in_human_units(tmp_path, qtbot, open_window):
    catalog_path = create_demo(tmp_path / "demo", small=True)
    sizes = {"City Timelapse": 3_000_000_000, "Ocean Documentary": 2**31 - 5, "Product Launch": 10,
             "Recipe Short": 5 * 2**32}
    db = sqlite3.connect(catalog_path)
    for name, size in sizes.items():
        db.execute("UPDATE projects SET total_bytes = ? WHERE name = ?", (size, name))
    db.commit()
    db.close()
    window = open_window(catalog_path)
    window.projectsTable.sortByColumn(ProjectsModel.SIZE, Qt.SortOrder.AscendingOrder)
    assert table_names(window) == ["Product Launch", "Ocean Documentary", "City Timelapse", "Recipe Short"]
    window.projectsTable.sortByColumn(ProjectsModel.SIZE, Qt.SortOrder.DescendingOrder)
    assert table_names(window) == ["Recipe Short", "City Timelapse", "Ocean Documentary", "Product Launch"]
    assert table_cell(window, "City Timelapse", ProjectsModel.SIZE) == "3.0 GB"
    assert table_cell(window, "Recipe Short", ProjectsModel.SIZE) == "21.5 GB"
    assert table_cell(window, "Product Launch", ProjectsModel.SIZE) == "10 Bytes"


def test_columns_say_status_last_cleanup_and_auto(tmp_path, open_window):
    window = open_window(create_demo(tmp_path / "demo", small=True))
    assert window.projects_model.COLUMNS == ("Project", "Size", "Reclaimable", "Status", "Last cleanup",
                                             "Auto-cleanup")
    # imported with its final render already there: auto-cleanup waits for a first confirmed cleanup (F2)
    assert table_cell(window, "Ocean Documentary", ProjectsModel.STATUS) == "awaiting your first review"
    assert table_cell(window, "Ocean Documentary", ProjectsModel.LAST) == "never"
    assert table_cell(window, "Ocean Documentary", ProjectsModel.AUTO) == "on (global)"
    assert table_cell(window, "City Timelapse", ProjectsModel.RECLAIMABLE) == "0 Bytes"
    # not rendered yet: it must not look like the others before a preview refuses it
    assert table_cell(window, "City Timelapse", ProjectsModel.STATUS) == "no final render yet"


def test_selecting_a_project_paints_its_breakdown(tmp_path, qtbot, open_window):
    window = open_window(create_demo(tmp_path / "demo", small=True))
    select_project(window, "Ocean Documentary")
    qtbot.waitUntil(lambda: window.breakdown.title == "Ocean Documentary", timeout=5000)  # read in a worker
    roles = [role for role, _, _ in window.breakdown.segments()]
    assert roles[:2] == ["final", "thumbnail"] and "intermediate" in roles and "shared_cache" in roles
    assert window.breakdown.title == "Ocean Documentary"
    legend = window.breakdown.legend_entries()
    assert any(entry.startswith("Intermediates ") and entry.endswith("kB") for entry in legend), legend
    image = window.breakdown.grab().toImage()
    assert not image.isNull() and image.width() > 100
    select_project(window, "City Timelapse")
    qtbot.waitUntil(lambda: window.breakdown.title == "City Timelapse", timeout=5000)
    assert "final" not in [r for r, _, _ in window.breakdown.segments()]  # not rendered yet


def test_empty_catalog_says_what_to_do_and_adding_a_folder_fills_it(tmp_path, qtbot, open_window, workspace):
    workspace.add_project("p1", "Alpha")
    window = open_window(tmp_path / "empty.sqlite3")
    assert window.tableStack.currentIndex() == 0
    assert window.emptyLabel.text() == "Add a project folder or import a generator database"
    with qtbot.waitSignal(window.projectsRefreshed, timeout=10000):
        window.add_project(str(workspace.root), "ai-video-generator")
    qtbot.waitUntil(lambda: table_names(window) == ["p1"], timeout=10000)
    assert window.tableStack.currentIndex() == 1
    assert table_cell(window, "p1", ProjectsModel.SIZE) != "0 Bytes"  # scanned after adding


def test_until_the_catalog_is_read_the_table_shows_and_not_the_empty_state(tmp_path, qtbot):
    """A user with projects never sees "add a project" flash by while the rows are read: the (empty) table shows
    until then, the empty state only once the catalog is known to be empty."""
    window = create_main_window(tmp_path / "empty.sqlite3")
    qtbot.addWidget(window)
    assert window.tableStack.currentIndex() == 1  # no event has been handled yet: nothing is read
    qtbot.waitUntil(lambda: window.projects_loaded, timeout=10000)
    assert window.tableStack.currentIndex() == 0


def test_import_errors_show_in_the_dialog_which_stays_open(tmp_path, qtbot, open_window, workspace, monkeypatch):
    workspace.add_project("p1", "Alpha")
    workspace.add_project("p2", "Beta", final=False)
    db = workspace.write_db()
    window = open_window(tmp_path / "empty.sqlite3")
    dialogs = []

    def fill(path):
        def run(dialog):  # the user types a path and presses OK (Enter)
            dialogs.append(dialog)
            assert dialog.focusWidget() in (None, dialog.db_file)  # opens on its first field
            dialog.db_file.setText(str(path))
            dialog.workspace.setText(str(workspace.root))
            dialog.show()
            qtbot.keyClick(dialog.db_file, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: dialog.task is None, timeout=10000)
            accepted = dialog.result() == QDialog.DialogCode.Accepted
            dialog.hide()
            return accepted
        return run

    monkeypatch.setattr(window, "run_dialog", fill(tmp_path / "missing.db"))
    window.import_db_dialog()
    dialog = dialogs[-1]
    assert dialog.result() != QDialog.DialogCode.Accepted  # still open: the user can fix the path
    assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()  # to try again
    assert dialog.error.text() == f"The database file {tmp_path / 'missing.db'} does not exist."
    assert window.pane.messageLabel.text() == ""  # not in the preview pane, after the dialog closed
    assert table_names(window) == []

    monkeypatch.setattr(window, "run_dialog", fill(db))
    window.import_db_dialog()
    assert dialogs[-1].result() == QDialog.DialogCode.Accepted and not dialogs[-1].error.isVisibleTo(dialogs[-1])
    qtbot.waitUntil(lambda: table_names(window) == ["Alpha", "Beta"], timeout=10000)
    assert window.statusBar().currentMessage() == "Imported 2 project(s)."
    assert table_cell(window, "Beta", ProjectsModel.RECLAIMABLE) == "0 Bytes"


def test_add_project_errors_show_in_the_dialog(tmp_path, qtbot, open_window, monkeypatch):
    window = open_window(tmp_path / "empty.sqlite3")
    seen = []

    def run(dialog):
        seen.append(dialog)
        dialog.accept()  # OK with no folder chosen
        first = dialog.error.text()
        dialog.folder.setText(str(tmp_path / "no-such-folder"))
        dialog.accept()
        qtbot.waitUntil(lambda: dialog.task is None, timeout=10000)
        seen.append((first, dialog.error.text()))
        return False

    monkeypatch.setattr(window, "run_dialog", run)
    window.acts.add_project.trigger()
    first, second = seen[1]
    assert first == "Choose the workspace folder first."
    assert second and "no-such-folder" in second
    assert window.pane.messageLabel.text() == ""


def test_a_project_chosen_while_the_table_reloads_stays_chosen(tmp_path, qtbot, open_window):
    window = open_window(create_demo(tmp_path / "demo", small=True))
    task = window.refresh_projects()  # e.g. after an automatic run was announced
    select_project(window, "Recipe Short")  # the user clicks meanwhile
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert [p.name for p in window.selected_projects()] == ["Recipe Short"]
