"""A preview that no longer matches the disk or the catalog is marked stale and cannot be confirmed (issue 11):
the scheduler cleaning the project, a file changed on disk, an automatic run while Confirm's question is open."""

from __future__ import annotations

import datetime as dt
import os

from gui_helpers import import_workspace, on_catalog, preview_selected, select_project

from mediaclean_gui.core.auto import run_auto_cleanup
from mediaclean_gui.core.catalog import Catalog, utcnow
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.gui.stale import StaleWatch


def rendered_after_registration(workspace, catalog_path, pid: str, name: str) -> None:
    """A project registered while its final render was not there yet, then rendered (F2: auto-cleanable)."""
    workspace.add_project(pid, name, scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    workspace.render_final(pid, age=3600)
    import_workspace(workspace, catalog_path)


def test_the_scheduler_cleaning_the_project_turns_its_open_preview_stale(workspace, catalog_path, qtbot,
                                                                        open_window, monkeypatch):
    rendered_after_registration(workspace, catalog_path, "p1", "Rendered")
    with Catalog(catalog_path) as cat:
        cat.set_pref("schedule_auto_minutes", 5)
    window = open_window(catalog_path, show=True)
    window.schedule.stop()  # driven by hand with a clock of our own
    select_project(window, "Rendered")
    plan_id = preview_selected(qtbot, window)
    notice = window.pane.staleNotice
    assert window.confirmButton.isEnabled() and notice.isHidden()
    assert window.pane.totalLabel.text().startswith("Will delete 7 files")

    later = utcnow() + dt.timedelta(minutes=1)
    window.schedule.clock = lambda: later
    window.schedule.stopped = False
    with qtbot.waitSignal(window.schedule.reportReady, timeout=30000):
        window.schedule.check()
    qtbot.waitUntil(lambda: notice.isVisible(), timeout=10000)
    [run] = on_catalog(catalog_path, list_runs)
    assert run["started_by"] == "schedule" and run["deleted_count"] == 7
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    text = notice.label.text()
    assert text.startswith(f"This preview is out of date: a scheduled run (run {run['id']}) has changed these files "
                           f"since this preview was made")
    assert "items changed or went away on disk since it was made" in text
    assert text.endswith("Confirm is off until you refresh the preview, so nothing runs that you have not seen.")
    assert not window.confirmButton.isEnabled()
    asked: list[str] = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or True)
    window.flow.confirm()  # even asked directly, a stale preview does not run
    assert asked == []

    assert notice.refreshButton.isVisible()
    with qtbot.waitSignal(window.previewReady, timeout=20000) as fresh:
        notice.refreshButton.click()
    assert fresh.args[0] != plan_id
    assert notice.isHidden()
    assert window.pane.summaryLabel.text().startswith("Nothing to do")
    assert len(on_catalog(catalog_path, list_runs)) == 1


def test_a_file_changed_on_disk_is_seen_by_the_periodic_check(workspace, catalog_path, qtbot, open_window,
                                                             monkeypatch):
    workspace.add_project("p1", "Edited", scenes=2)
    import_workspace(workspace, catalog_path)
    monkeypatch.setattr(StaleWatch, "INTERVAL_MS", 150)
    window = open_window(catalog_path, show=True)
    select_project(window, "Edited")
    preview_selected(qtbot, window)
    qtbot.wait(400)  # a few periodic checks of an unchanged plan: nothing to say
    assert window.pane.staleNotice.isHidden() and window.confirmButton.isEnabled()

    audio = workspace.path(".cache/audio/p1/scene-1.mp3")
    audio.write_bytes(audio.read_bytes() + b"re-recorded")
    qtbot.waitUntil(lambda: window.pane.staleNotice.isVisible(), timeout=10000)
    assert ("This preview is out of date: 1 of its 8 items changed or went away on disk since it was made."
            in window.pane.staleNotice.label.text())
    assert not window.confirmButton.isEnabled()
    assert os.path.exists(audio)


def test_an_automatic_run_while_the_question_is_open_stops_the_run(workspace, catalog_path, qtbot, open_window,
                                                                   monkeypatch):
    rendered_after_registration(workspace, catalog_path, "p1", "Raced")
    window = open_window(catalog_path, show=True)
    window.auto_watch.stop()
    select_project(window, "Raced")
    preview_selected(qtbot, window)

    def answer_after_an_automatic_run(text: str, title: str = "") -> bool:
        cat = Catalog(catalog_path)  # another process's auto-cleanup, while the user reads the question
        try:
            [ran] = run_auto_cleanup(cat)
        finally:
            cat.close()
        assert ran["deleted_count"] == 7
        return True

    monkeypatch.setattr(window, "ask_confirmation", answer_after_an_automatic_run)
    window.confirmButton.click()
    assert window.pane.messageLabel.text() == ("Not run: the preview went out of date while you were asked. Nothing "
                                               "was deleted.")
    assert window.pane.staleNotice.isVisible() and not window.confirmButton.isEnabled()
    assert "an automatic cleanup (run " in window.pane.staleNotice.label.text()
    assert [r["started_by"] for r in on_catalog(catalog_path, list_runs)] == ["auto"]
    assert window.active_task is None or window.active_task.name != "run"
