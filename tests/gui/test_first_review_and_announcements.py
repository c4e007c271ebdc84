"""F2 in the window: a project imported with its final render already there waits for its first review; one
rendered after registration is cleaned automatically, and that is announced in notificationsView until the user
dismisses or opens it (not on a timer, not only while the window stays open)."""

from __future__ import annotations

import datetime as dt

import humanize
from gui_helpers import import_workspace, on_catalog, preview_selected, select_project, table_cell
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton

from mediaclean_gui.core.catalog import Catalog, utcnow
from mediaclean_gui.core.history import list_runs, unseen_automatic_runs
from mediaclean_gui.gui.models import ProjectsModel


def status_tip(window, name: str) -> str:
    proxy = window.projects_proxy
    for r in range(proxy.rowCount()):
        if proxy.index(r, ProjectsModel.NAME).data() == name:
            return proxy.index(r, ProjectsModel.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    raise AssertionError(name)


def run_schedule(qtbot, window, minutes: float) -> None:
    later = utcnow() + dt.timedelta(minutes=minutes)
    window.schedule.clock = lambda: later
    window.schedule.stopped = False
    with qtbot.waitSignal(window.schedule.reportReady, timeout=30000):
        window.schedule.check()
    window.schedule.stop()


def test_first_review_then_automatic_cleanups_announced_until_seen(workspace, catalog_path, qtbot, open_window,
                                                                   monkeypatch):
    workspace.add_project("old", "Imported Finished", scenes=2)      # its final render was there already
    workspace.add_project("new", "Rendered Later", scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    workspace.render_final("new", age=3600)                         # rendered after it was registered
    import_workspace(workspace, catalog_path)
    catalog = Catalog(catalog_path)
    catalog.set_pref("schedule_auto_minutes", 5)
    catalog.set_pref("settle_seconds", 0)
    catalog.close()

    window = open_window(catalog_path, show=True)
    window.schedule.stop()
    window.auto_watch.stop()
    assert table_cell(window, "Imported Finished", ProjectsModel.STATUS) == "awaiting your first review"
    assert status_tip(window, "Imported Finished") == (
        "Awaiting your first review: its final render was already there when it was added, so it is cleaned "
        "automatically only after you confirm one cleanup of it.\nPreview and confirm a cleanup of it, or switch "
        "auto-cleanup on for this project (right-click › Auto-cleanup › On).")
    assert table_cell(window, "Rendered Later", ProjectsModel.STATUS) == "pending"
    assert window.notices.isHidden()

    run_schedule(qtbot, window, 1)
    [run] = on_catalog(catalog_path, list_runs)
    assert run["projects"] == ["Rendered Later"] and run["started_by"] == "schedule"
    assert not workspace.path(".cache/audio/new/scene-1.mp3").exists()
    assert workspace.path(".cache/audio/old/scene-1.mp3").exists()  # waits for its review
    qtbot.waitUntil(lambda: window.notices.isVisible(), timeout=10000)
    sentence = f"Deleted 7 files · freed {humanize.naturalsize(run['freed_bytes'])}"
    assert window.notices.texts() == [f"Scheduled auto-cleanup of Rendered Later: {sentence}"]
    assert window.notificationsView.count() == 1
    assert window.notices.title.text() == "1 thing to tell you"
    row = window.notificationsView.itemWidget(window.notificationsView.item(0))
    shown = row.findChild(QLabel, "notificationText").text()
    assert "Scheduled auto-cleanup of Rendered Later" in shown and sentence in shown and "Show in history" in shown

    # it stays: no timer takes it away, and a window opened later still shows it
    qtbot.wait(300)
    assert window.notices.texts() == [f"Scheduled auto-cleanup of Rendered Later: {sentence}"]
    window.close()
    again = open_window(catalog_path, show=True)
    again.schedule.stop()
    again.auto_watch.stop()
    qtbot.waitUntil(lambda: again.notificationsView.count() == 1, timeout=10000)
    assert again.notices.texts() == [f"Scheduled auto-cleanup of Rendered Later: {sentence}"]

    # the link opens the run in the history; then it counts as seen
    again.notices.open(again.notices.entries[0])
    qtbot.waitUntil(lambda: again.history.selected_run_id() == run["id"], timeout=10000)
    assert again.history_dock.isVisible()
    assert again.notices.isHidden()
    qtbot.waitUntil(lambda: on_catalog(catalog_path, unseen_automatic_runs) == [], timeout=5000)

    # the first review: the user confirms one cleanup of the imported project
    select_project(again, "Imported Finished")
    preview_selected(qtbot, again)
    monkeypatch.setattr(again, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(again.runFinished, timeout=30000):
        again.confirmButton.click()
    qtbot.waitUntil(lambda: table_cell(again, "Imported Finished", ProjectsModel.STATUS) == "complete",
                    timeout=10000)
    assert again.notices.isHidden()  # what the user ran is not announced

    # from now on it is cleaned automatically when a new render lands
    workspace.media.copy("mp3", workspace.path(".cache/audio/old/scene-9.mp3"))
    workspace.render_final("old", age=0)
    run_schedule(qtbot, again, 6)
    newest = on_catalog(catalog_path, list_runs)[0]
    assert newest["projects"] == ["Imported Finished"] and newest["started_by"] == "schedule"
    assert not workspace.path(".cache/audio/old/scene-9.mp3").exists()
    qtbot.waitUntil(lambda: again.notificationsView.count() == 1, timeout=10000)
    assert again.notices.texts()[0].startswith("Scheduled auto-cleanup of Imported Finished: Deleted 1 file · freed ")
    row = again.notificationsView.itemWidget(again.notificationsView.item(0))
    row.findChild(QToolButton, "dismissButton").click()
    assert again.notices.isHidden()
    qtbot.waitUntil(lambda: on_catalog(catalog_path, unseen_automatic_runs) == [], timeout=5000)


def test_the_in_window_watcher_announces_its_cleanup(workspace, catalog_path, qtbot, open_window):
    workspace.add_project("new", "Rendering Now", scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    with Catalog(catalog_path) as cat:
        cat.set_pref("settle_seconds", 1)
    window = open_window(catalog_path, show=True)
    window.auto_watch.setInterval(100)
    qtbot.waitUntil(lambda: len(window.auto_watch.baseline) == 1, timeout=10000)
    workspace.render_final("new", age=0)
    qtbot.waitUntil(lambda: window.notificationsView.count() == 1, timeout=20000)
    [run] = on_catalog(catalog_path, list_runs)
    assert window.notices.texts() == [
        f"Auto-cleanup of Rendering Now: Deleted 7 files · freed {humanize.naturalsize(run['freed_bytes'])}"]
    window.notices.dismiss_all()
    assert window.notices.isHidden()
    qtbot.waitUntil(lambda: on_catalog(catalog_path, unseen_automatic_runs) == [], timeout=5000)
