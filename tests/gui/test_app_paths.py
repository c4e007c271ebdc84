"""``mediaclean-gui FOLDER_OR_DATABASE ...`` (the desktop entry's ``Exec=mediaclean-gui %F``)."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QUrl

from mediaclean_gui.gui import app as gui_app
from mediaclean_gui.gui.dialogs import AddProjectDialog, ImportDbDialog


def test_folders_and_databases_on_the_command_line_open_their_dialogs_prefilled(tmp_path, qtbot, monkeypatch):
    folder = tmp_path / "my workspace"
    folder.mkdir()
    db = tmp_path / "gen" / "app.sqlite3"
    db.parent.mkdir()
    sqlite3.connect(db).close()
    video = tmp_path / "final.mp4"
    video.write_bytes(b"not a database")
    made = []
    real = gui_app._open

    def capture(args):
        window = real(args)
        qtbot.addWidget(window)
        made.append(window)
        return window

    monkeypatch.setattr(gui_app, "_open", capture)
    monkeypatch.setattr("PySide6.QtWidgets.QApplication.exec", lambda *a: 0)
    argv = ["--catalog", str(tmp_path / "c.sqlite3"), str(folder), QUrl.fromLocalFile(str(db)).toString(),
            str(video), str(tmp_path / "gone")]
    assert gui_app.main(argv) == 0
    window = made[0]
    seen = []
    monkeypatch.setattr(window, "run_dialog", lambda d: seen.append(d) or False)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert isinstance(seen[0], AddProjectDialog) and seen[0].folder.text() == str(folder)
    assert isinstance(seen[1], ImportDbDialog) and seen[1].db_file.text() == str(db)
    assert seen[1].workspace.text() == str(db.parent)
    message = window.statusBar().currentMessage()
    assert message == (f"Not opened: '{video}' is neither a folder nor a generator database (.db, .sqlite, "
                       f".sqlite3); '{tmp_path / 'gone'}' does not exist.")


def test_a_relative_folder_is_opened_by_its_absolute_path(tmp_path, qtbot, open_window, monkeypatch):
    (tmp_path / "rel").mkdir()
    monkeypatch.chdir(tmp_path)
    window = open_window(tmp_path / "c.sqlite3")
    seen = []
    monkeypatch.setattr(window, "run_dialog", lambda d: seen.append(d) or False)
    assert gui_app.open_paths(window, ["rel"]) == []
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=5000)
    assert seen[0].folder.text() == str(tmp_path / "rel")


def test_the_usage_names_the_paths():
    args = gui_app.parse_args(["--demo", "/a", "b.db"])
    assert args.demo and args.paths == ["/a", "b.db"]
    assert gui_app.parse_args([]).paths == []
