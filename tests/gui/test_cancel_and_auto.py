"""Cancel in the middle of a run; F2 auto-cleanup while the window is open; the GUI thread keeps beating."""

from __future__ import annotations

import os

import humanize
from gui_helpers import import_workspace, on_catalog, preview_selected, select_project, table_cell
from PySide6.QtCore import QTimer

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.history import list_runs, run_items
from mediaclean_gui.gui.models import ProjectsModel

PARTS = 5000


def test_cancel_in_the_middle_leaves_every_item_recorded(workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("big", "Big", scenes=2)
    parts = workspace.path(".cache/assembly/big/parts")
    parts.mkdir(parents=True)
    for n in range(PARTS):
        (parts / f"chunk-{n:05d}.ts").write_bytes(b"x" * 512)
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path)
    select_project(window, "Big")
    preview_selected(qtbot, window, fetch_all=False)
    assert window.pane.totalLabel.text().startswith(f"Will delete {PARTS + 7:,} files")
    group = window.pane.model.groups[0]
    assert group.count == PARTS + 8 and len(group.children) == 0  # big groups are paged in on demand
    window.planView.expand(window.pane.model.index(0, 0))
    qtbot.waitUntil(lambda: len(group.children) > 0, timeout=5000)
    assert len(group.children) <= 1000

    beats = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(1))
    heartbeat.start()
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(window.runFinished, timeout=30000) as run:
        window.confirmButton.click()
        task = window.active_task
        assert task is not None and task.name == "run" and window.cancelButton.isEnabled()
        # press Cancel as soon as the first progress update with a finished item reaches the GUI thread
        task.progress.connect(lambda snap: window.cancelButton.click()
                              if snap["done"] > 0 and window.cancelButton.isEnabled() else None)
    heartbeat.stop()
    result = run.args[0]
    assert result.status == "cancelled"
    assert beats, "the GUI thread must keep running its timers during a run"

    catalog = Catalog(catalog_path)
    runs = list_runs(catalog)
    assert runs[0]["status"] == "cancelled"
    items = run_items(catalog, runs[0]["id"])
    outcomes = {i["outcome"] for i in items}
    assert "pending" not in outcomes
    deleted = [i for i in items if i["outcome"] == "deleted"]
    skipped = [i for i in items if i["outcome"] == "skipped"]
    assert deleted and skipped, "the cancel must land in the middle of the run"
    for item in deleted:
        assert not os.path.lexists(item["target"]), item
    for item in skipped:
        assert os.path.lexists(item["target"]), item
        assert item["detail"] in ("cancelled before it was reached", "folder not empty: it holds files that were "
                                  "not in the plan")
    assert workspace.path(".cache/output/big/final.mp4").exists()
    assert "cancelled: the rest was not touched" in window.pane.messageLabel.text()
    qtbot.waitUntil(lambda: table_cell(window, "Big", ProjectsModel.STATUS) == "pending", timeout=10000)
    catalog.close()


def test_auto_cleanup_when_the_final_output_appears_while_open(workspace, catalog_path, qtbot, open_window):
    workspace.add_project("old", "Rendered Long Ago", scenes=2)       # final present before the window opens
    workspace.add_project("new", "Rendering Now", scenes=3, final=False)
    import_workspace(workspace, catalog_path)
    with Catalog(catalog_path) as cat:
        cat.set_pref("settle_seconds", 1)
    window = open_window(catalog_path)
    watcher = window.auto_watch
    watcher.setInterval(100)
    qtbot.waitUntil(lambda: len(watcher.baseline) == 2, timeout=10000)
    qtbot.wait(400)  # several ticks: a final output that was already there does not arm a project
    assert on_catalog(catalog_path, list_runs) == []

    with qtbot.waitSignal(window.notified, timeout=20000) as note:
        workspace.render_final("new", age=0)
    title, text = note.args
    assert title == "Auto-cleanup: Rendering Now"
    runs = on_catalog(catalog_path, list_runs)
    assert len(runs) == 1 and runs[0]["started_by"] == "auto" and runs[0]["projects"] == ["Rendering Now"]
    assert text == f"Deleted {runs[0]['deleted_count']} files · freed {humanize.naturalsize(runs[0]['freed_bytes'])}"
    assert runs[0]["deleted_count"] == 9  # 3 audio, 3 segments, 2 assembly parts, 1 cache file
    assert not workspace.path(".cache/audio/new/scene-1.mp3").exists()
    assert workspace.path(".cache/output/new/final.mp4").exists()
    assert workspace.path(".cache/audio/old/scene-1.mp3").exists()  # never armed
    assert window.statusBar().currentMessage().startswith("Auto-cleanup: Rendering Now: Deleted 9 files · freed ")
    qtbot.waitUntil(lambda: table_cell(window, "Rendering Now", ProjectsModel.STATUS) == "complete", timeout=10000)
    qtbot.wait(400)
    assert len(on_catalog(catalog_path, list_runs)) == 1  # cleaned once, not on every tick


def test_auto_cleanup_respects_the_project_override(workspace, catalog_path, qtbot, open_window):
    workspace.add_project("new", "Rendering Now", scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    catalog = Catalog(catalog_path)
    catalog.set_pref("settle_seconds", 1)
    catalog.conn.execute("UPDATE projects SET auto_cleanup = 'off'")
    window = open_window(catalog_path)
    window.auto_watch.setInterval(100)
    qtbot.waitUntil(lambda: len(window.auto_watch.baseline) == 1, timeout=10000)
    workspace.render_final("new", age=5)
    qtbot.waitUntil(lambda: bool(window.auto_watch.armed), timeout=10000)
    qtbot.wait(500)
    assert list_runs(catalog) == []
    assert workspace.path(".cache/audio/new/scene-1.mp3").exists()
    catalog.close()
