"""Honest trash (invariant 16) in the window: a trash run says "moved", frees nothing until Empty trash…, which
says how much it frees and then frees it; the history tells what a restore brought back and what emptying freed."""

from __future__ import annotations

import os
from pathlib import Path

from gui_helpers import import_workspace, on_catalog, preview_selected, select_project

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.gui.wording import size_text


def trash_files_from(root: Path) -> dict[str, int]:
    """``{trash file: size}`` of the session trash's entries whose original path lies under ``root``."""
    trash = Path(os.environ["XDG_DATA_HOME"]) / "Trash"
    out = {}
    for info in (trash / "info").glob("*.trashinfo"):
        if f"Path={root}/".encode() in info.read_bytes():
            entry = trash / "files" / info.name[: -len(".trashinfo")]
            if entry.exists():
                out[str(entry)] = entry.stat().st_size
    return out


def history_result(window, run_id: int) -> str:
    model = window.history.model
    for row, run in enumerate(model.runs):
        if run["id"] == run_id:
            return model.index(row, 5).data()
    raise AssertionError(run_id)


def run_in_trash_mode(qtbot, window, monkeypatch, name: str):
    select_project(window, name)
    preview_selected(qtbot, window)
    asked: list[str] = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or True)
    with qtbot.waitSignal(window.runFinished, timeout=30000) as run:
        window.confirmButton.click()
    return run.args[0], asked


def test_a_trash_run_says_moved_and_empty_trash_frees_it(workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("a", "Restored Later", scenes=2)
    workspace.add_project("b", "Emptied Later", scenes=2)
    import_workspace(workspace, catalog_path)
    with Catalog(catalog_path) as cat:
        cat.set_pref("delete_mode", "trash")
    window = open_window(catalog_path)

    select_project(window, "Restored Later")
    preview_selected(qtbot, window)
    total = window.pane.totalLabel.text()
    assert total.startswith("Will move 7 files to the trash · ") and total.endswith(" · 2 kept")
    qtbot.waitUntil(lambda: "the same after this plan until the trash is emptied" in window.freeSpaceLabel.text(),
                    timeout=10000)
    first, asked = run_in_trash_mode(qtbot, window, monkeypatch, "Restored Later")
    assert "will be moved to the trash: nothing is freed until you empty it" in asked[0]
    assert first.trashed_count == 7 and first.freed_bytes == 0 and first.deleted_count == 0
    moved_a = size_text(first.trashed_bytes)
    assert window.pane.messageLabel.text() == f"Moved 7 files to the trash ({moved_a}, nothing freed yet)"
    second, _ = run_in_trash_mode(qtbot, window, monkeypatch, "Emptied Later")
    moved_b = size_text(second.trashed_bytes)
    in_trash = trash_files_from(workspace.root)
    assert len(in_trash) == 14
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 2, timeout=10000)
    assert history_result(window, first.run_id) == f"Moved 7 files to the trash ({moved_a}, nothing freed yet)"
    assert window.reclaimed == 0

    # a restore: the history says what came back
    window.history.select_run(first.run_id)
    qtbot.waitUntil(lambda: window.history.restoreButton.isEnabled(), timeout=10000)
    with qtbot.waitSignal(window.history.restored, timeout=20000):
        window.history.restoreButton.click()
    assert workspace.path(".cache/audio/a/scene-1.mp3").exists()
    qtbot.waitUntil(lambda: history_result(window, first.run_id) == f"Moved 7 files to the trash ({moved_a}) · 7 "
                                                                     f"restored ({moved_a})", timeout=10000)

    # Empty trash: it says what it frees (only the second run's files are still there), then frees it
    still = trash_files_from(workspace.root)
    assert len(still) == 7 and sum(still.values()) == second.trashed_bytes
    boxes = []

    def answer(box) -> bool:
        boxes.append((box.windowTitle(), box.text(), box.defaultButton().text()))
        return True

    monkeypatch.setattr(window, "ask_confirmation_box", answer)
    with qtbot.waitSignal(window.trashEmptied, timeout=20000) as emptied:
        window.findChild(type(window.acts.empty_trash), "actionEmptyTrash").trigger()
    [(title, text, default)] = boxes
    assert title == "Empty trash" and default == "Cancel"
    assert text == (f"Empty mediaclean's part of the trash?\n\n7 files ({moved_b}) that 1 trash-mode run moved there "
                    f"are deleted for good. This frees {moved_b} on their disks.\n\nThey cannot be restored "
                    f"afterwards. Nothing else in your trash is touched.")
    result = emptied.args[0]
    assert result.files == 7 and result.freed_bytes == second.trashed_bytes and not result.failed
    assert window.statusBar().currentMessage() == f"Emptied 7 files from the trash · freed {moved_b}"
    assert trash_files_from(workspace.root) == {}  # gone from the disk, not only from the catalog
    assert not workspace.path(".cache/audio/b/scene-1.mp3").exists()
    qtbot.waitUntil(lambda: history_result(window, second.run_id) == f"Moved 7 files to the trash ({moved_b}) · "
                                                                      f"trash emptied since: freed {moved_b}",
                    timeout=10000)
    qtbot.waitUntil(lambda: window.reclaimed == second.trashed_bytes, timeout=10000)
    runs = {r["id"]: r for r in on_catalog(catalog_path, list_runs)}
    assert runs[second.run_id]["freed_bytes"] == second.trashed_bytes and runs[first.run_id]["freed_bytes"] == 0

    # again: nothing left to free, and it says so without asking
    boxes.clear()
    window.findChild(type(window.acts.empty_trash), "actionEmptyTrash").trigger()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Nothing that mediaclean moved"),
                    timeout=10000)
    assert boxes == []
