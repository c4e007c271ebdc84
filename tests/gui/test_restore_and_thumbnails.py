"""Trash restore from the history view on real files; thumbnails of video items in the plan (issue 5)."""

from __future__ import annotations

import os

from gui_helpers import import_workspace, item_index, preview_selected, select_project

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.thumbnails import app_temp_root


def _run_cleanup(qtbot, window, monkeypatch, name: str):
    select_project(window, name)
    preview_selected(qtbot, window)
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(window.runFinished, timeout=30000) as run:
        window.confirmButton.click()
    return run.args[0]


def _select_newest_run(qtbot, window, runs: int = 1) -> tuple[int, bool]:
    history = window.history
    qtbot.waitUntil(lambda: history.model.rowCount() == runs, timeout=10000)
    with qtbot.waitSignal(history.restoreChecked, timeout=10000) as checked:
        history.historyView.selectRow(0)
    return checked.args[0], checked.args[1]


def test_restore_a_trash_mode_run_from_the_history_view(workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("p1", "Trashy", scenes=2)
    import_workspace(workspace, catalog_path)
    with Catalog(catalog_path) as cat:
        cat.set_pref("delete_mode", "trash")
    audio = workspace.path(".cache/audio/p1/scene-1.mp3")
    segment = workspace.path(".cache/videos/p1/scene-2-seg.mp4")
    before = {p: p.read_bytes() for p in (audio, segment)}
    window = open_window(catalog_path)
    result = _run_cleanup(qtbot, window, monkeypatch, "Trashy")
    assert result.status == "complete" and not audio.exists() and not segment.exists()
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash", "files")
    assert os.listdir(trash), "trash mode moves the files to the user's trash"

    history = window.history
    run_id, possible = _select_newest_run(qtbot, window)
    assert run_id == result.run_id and possible
    assert history.restoreButton.isEnabled()
    files = result.trashed_count  # files only: the emptied assembly folder was removed, not trashed
    assert files == 7 and result.deleted_count == 0 and result.freed_bytes == 0
    assert history.restoreNote.text() == (f"{files} of {files} file(s) of run {run_id} are still in the trash and "
                                          f"can be restored.")
    with qtbot.waitSignal(history.restored, timeout=20000) as restored:
        history.restoreButton.click()
    text, ok = restored.args
    assert ok and text.startswith(f"Restored {files} file(s), ") and text.endswith(f" MB, of run {run_id} from the "
                                                                                  f"trash.")
    assert window.statusBar().currentMessage() == text
    assert {p: p.read_bytes() for p in (audio, segment)} == before
    # the same run again: nothing left in the trash, and the view says so
    qtbot.waitUntil(lambda: "already back in their places" in history.restoreNote.text(), timeout=10000)
    assert history.restoreNote.text().startswith(text)
    assert not history.restoreButton.isEnabled()


def test_a_permanent_run_says_plainly_it_cannot_be_restored(workspace, catalog_path, qtbot, open_window,
                                                           monkeypatch):
    workspace.add_project("p1", "Gone", scenes=1)
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path)
    result = _run_cleanup(qtbot, window, monkeypatch, "Gone")
    run_id, possible = _select_newest_run(qtbot, window)
    assert run_id == result.run_id and not possible
    assert not window.history.restoreButton.isEnabled()
    assert window.history.restoreNote.text() == (
        f"Run {run_id} deleted its files permanently (delete mode 'permanent'); they cannot be restored. Set "
        f"Preferences › Cleanup › “Delete mode” to trash to make future runs restorable.")


def test_selecting_a_video_item_shows_a_thumbnail_and_leaves_no_temp_files(workspace, catalog_path, qtbot,
                                                                          open_window):
    workspace.add_project("p1", "Thumbs", scenes=2)
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path, show=True)
    select_project(window, "Thumbs")
    preview_selected(qtbot, window)
    thumb = window.pane.thumbnail
    assert not thumb.isVisible()

    segment = item_index(window, workspace.path(".cache/videos/p1/scene-1-seg.mp4"))
    with qtbot.waitSignal(thumb.shown, timeout=20000) as shown:
        window.planView.setCurrentIndex(segment)
    assert shown.args[0] == str(workspace.path(".cache/videos/p1/scene-1-seg.mp4"))
    assert thumb.isVisible() and not thumb.image.pixmap().isNull()
    assert thumb.image.pixmap().width() == 240
    assert thumb.caption.text() == "scene-1-seg.mp4"

    # the final output is kept back, but it is a video too
    final = item_index(window, workspace.path(".cache/output/p1/final.mp4"))
    with qtbot.waitSignal(thumb.shown, timeout=20000):
        window.planView.setCurrentIndex(final)

    # an audio file: no thumbnail, and a quick switch cancels the frame being made
    window.planView.setCurrentIndex(item_index(window, workspace.path(".cache/videos/p1/scene-2-seg.mp4")))
    window.planView.setCurrentIndex(item_index(window, workspace.path(".cache/audio/p1/scene-1.mp3")))
    assert not thumb.isVisible() and thumb.task is None
    qtbot.waitUntil(lambda: not window.workers.running("thumbnail"), timeout=20000)
    root = app_temp_root()
    assert root.is_dir() and list(root.iterdir()) == []
