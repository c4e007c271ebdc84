"""A folder as broad as a home folder becomes a root only after the window asked (core.roots.BroadRoot), and the
preference spin boxes take exactly the range the catalog accepts (core.catalog.pref_range)."""

from __future__ import annotations

import os
import time

from gui_helpers import table_names
from PySide6.QtWidgets import QDialog

from mediaclean_gui.core.catalog import Catalog, pref_range
from mediaclean_gui.gui.prefs_dialog import PreferencesDialog


def test_adding_the_home_folder_asks_first_and_adds_it_only_when_meant(workspace, catalog_path, qtbot, open_window,
                                                                       monkeypatch):
    workspace.add_project("p1", "At Home", scenes=1)
    monkeypatch.setenv("HOME", str(workspace.root))  # the workspace is the user's whole home folder
    window = open_window(catalog_path)
    answers = iter([False, True])
    asked = []

    def ask(box) -> bool:
        asked.append((box.windowTitle(), box.text(), [b.text() for b in box.buttons()], box.defaultButton().text()))
        return next(answers)

    monkeypatch.setattr(window, "ask_confirmation_box", ask)
    dialogs = []

    def submit_twice(dialog) -> bool:
        dialogs.append(dialog)
        dialog.folder.setText(str(workspace.root))
        dialog.accept()  # the first answer is Cancel: nothing is added, the dialog says why
        qtbot.waitUntil(lambda: dialog.task is None, timeout=10000)
        first_error = dialog.error.text()
        dialog.accept()  # again: this time the user means it
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=10000)
        dialogs.append(first_error)
        return True

    monkeypatch.setattr(window, "run_dialog", submit_twice)
    window.add_project_dialog()
    title, text, buttons, default = asked[0]
    assert title == "A very broad folder" and default == "Cancel" and "Add it anyway" in buttons
    assert text.startswith(f"The folder {workspace.root} is your home folder. As a workspace, mediaclean would plan "
                           f"deletions anywhere in it")
    assert text.endswith("Choose the project's own folder instead, or add it anyway?")
    assert dialogs[1].startswith(f"The folder {workspace.root} is your home folder, too broad to be a workspace")
    assert len(asked) == 2
    qtbot.waitUntil(lambda: table_names(window) == ["p1"], timeout=10000)


def test_a_temp_sweep_of_the_home_folder_asks_then_previews(tmp_path, catalog_path, qtbot, open_window, monkeypatch):
    home = tmp_path / "home"
    old = home / "intro_a1"
    old.mkdir(parents=True)
    (old / "part.mp4").write_bytes(b"v" * 1000)
    past = time.time() - 3 * 86400
    os.utime(old / "part.mp4", (past, past))
    os.utime(old, (past, past))
    monkeypatch.setenv("HOME", str(home))
    window = open_window(catalog_path)
    asked = []
    monkeypatch.setattr(window, "ask_confirmation_box", lambda box: asked.append(box.text()) or True)
    from mediaclean_gui.gui import plans

    with qtbot.waitSignal(window.previewReady, timeout=20000):
        plans.start_temp(window, str(home))
    assert len(asked) == 1 and asked[0].startswith(f"The folder {home} is your home folder. As a temp root")
    assert asked[0].endswith("Choose the folder your renderer writes its temp folders to instead, or use it anyway?")
    assert window.pane.totalLabel.text().startswith("Will delete 1 file")
    assert (old / "part.mp4").exists()  # a preview: nothing deleted


def test_a_broad_temp_root_for_the_schedule_is_refused_in_the_dialog(tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    catalog = Catalog(tmp_path / "c.sqlite3")
    dialog = PreferencesDialog(catalog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.tempStatus.text().startswith("No temp root yet"), timeout=5000)
    dialog.add_temp_root(str(tmp_path))
    qtbot.waitUntil(lambda: "too broad for a scheduled temp sweep" in dialog.tempStatus.text(), timeout=5000)
    assert dialog.tempStatus.text() == (f"The folder {tmp_path} is your home folder: too broad for a scheduled temp "
                                        f"sweep, which deletes without asking. Choose the folder your renderer writes "
                                        f"its temp folders to.")
    catalog.close()


def test_spin_boxes_take_the_range_the_catalog_accepts(tmp_path, qtbot):
    catalog = Catalog(tmp_path / "c.sqlite3")
    dialog = PreferencesDialog(catalog)
    qtbot.addWidget(dialog)
    w = dialog.widgets
    assert (w["schedule_auto_minutes"].minimum(), w["schedule_auto_minutes"].maximum()) == (0, 525_600)
    assert w["schedule_auto_minutes"].maximum() == pref_range("schedule_auto_minutes")[1]
    assert (w["retention_days"].minimum(), w["retention_days"].maximum()) == (0, 36_500)
    assert (w["max_delete_share"].minimum(), w["max_delete_share"].maximum()) == (0.0, 100.0)
    assert w["max_delete_count"].maximum() == 2**31 - 1  # the catalog takes more; a QSpinBox holds 32 bits
    assert w["settle_seconds"].maximum() == pref_range("settle_seconds")[1]
    w["schedule_auto_minutes"].setValue(10**9)
    assert w["schedule_auto_minutes"].value() == 525_600
    catalog.close()
