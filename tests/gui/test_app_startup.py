"""The window's start-up on a catalog it cannot use: a real modal box with one sentence, exit 2, the file unchanged."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.gui import app as gui_app

PAGE = 4096


def _damaged(path: Path) -> None:
    """A real catalog with data on many pages, then every other page after the first few overwritten."""
    cat = Catalog(path)
    try:
        with cat.transaction() as conn:
            for n in range(1500):
                conn.execute("INSERT INTO preferences(key, value) VALUES (?, ?)", (f"note{n}", '"' + "x" * 200 + '"'))
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        cat.close()
    size = path.stat().st_size
    assert size // PAGE > 20
    with open(path, "r+b") as fh:
        for page in range(3, size // PAGE, 2):
            fh.seek(page * PAGE)
            fh.write(bytes((page * 7 + i) % 256 for i in range(PAGE)))


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices(total) VALUES (99.5)")
    conn.commit()
    conn.close()


def _start(qtbot, argv: list[str]) -> tuple[int, list[tuple[str, str, bool]]]:
    """Run ``mediaclean-gui ARGV``: the real modal box is read and closed from a timer while it is shown."""
    seen: list[tuple[str, str, bool]] = []

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append((box.objectName(), box.text(), box.isModal()))
            box.done(QMessageBox.StandardButton.Close)
        else:
            QTimer.singleShot(20, look)

    QTimer.singleShot(20, look)
    code = gui_app.main(argv)
    return code, seen


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_damaged, "is damaged (database disk image is malformed), so mediaclean stopped before relying on it: "
                   "restore it from a backup"),
        (_foreign, "is a SQLite database of another application (tables invoices), not a mediaclean catalog, so "
                   "mediaclean leaves it alone"),
        (lambda p: p.write_bytes(b"\x00not sqlite" * 500), "is not a SQLite database (file is not a database)"),
    ],
    ids=["garbage pages", "another application's database", "not SQLite"],
)
def test_a_catalog_the_window_cannot_use_is_a_modal_box_and_exit_2(tmp_path, qtbot, make, words):
    path = tmp_path / "catalog.sqlite3"
    make(path)
    before = path.read_bytes()
    code, seen = _start(qtbot, ["--catalog", str(path)])
    assert code == 2
    ((name, text, modal),) = seen
    assert name == "fatalBox" and modal
    assert text.startswith("The ") and words in text and str(path) in text
    assert "--" not in text  # no command-line flags in the window
    assert path.read_bytes() == before


def test_an_unexpected_error_at_start_up_names_the_log_file(tmp_path, qtbot, monkeypatch):
    from mediaclean_gui.gui import main_window

    def broken(self, catalog):  # a bug in the window's construction
        raise RuntimeError("the projects panel could not be built")

    monkeypatch.setattr(main_window.MainWindow, "__init__", broken)
    code, seen = _start(qtbot, ["--catalog", str(tmp_path / "fine.sqlite3")])
    assert code == 2
    ((name, text, _),) = seen
    log_file = Path(os.environ["XDG_STATE_HOME"]) / "mediaclean" / "log" / "mediaclean.log"
    assert text == (f"mediaclean could not start because of an unexpected error (RuntimeError: the projects panel "
                    f"could not be built). Its details are in {log_file}. Please report it.")
    assert "the projects panel could not be built" in log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log_file.read_text(encoding="utf-8")
