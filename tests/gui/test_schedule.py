"""The window's scheduler (issue 5): due jobs run in workers, runs say "schedule", notifications carry the
figures, a missed run is noted and run once; the tray's menu and its total reclaimed."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import humanize
from gui_helpers import import_workspace, on_catalog

from mediaclean_gui.core.catalog import Catalog, utcnow
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.scheduler import Job, Scheduler, add_temp_root
from mediaclean_gui.gui.prefs_dialog import describe_job
from mediaclean_gui.gui.tray import make_tray


def old_temp_folder(root: Path, name: str, sizes: list[int], hours: float = 48) -> list[Path]:
    folder = root / name
    folder.mkdir(parents=True)
    when = time.time() - hours * 3600
    files = []
    for n, size in enumerate(sizes):
        f = folder / f"part-{n}.mp4"
        f.write_bytes(b"v" * size)
        os.utime(f, (when, when))
        files.append(f)
    os.utime(folder, (when, when))
    return files


def test_a_due_temp_sweep_runs_notifies_and_is_in_the_history_as_schedule(tmp_path, catalog_path, qtbot,
                                                                         open_window):
    root = tmp_path / "render-tmp"
    files = old_temp_folder(root, "intro_a1b2", [300_000, 200_000]) + old_temp_folder(root, "trim_x9", [500_000])
    keep = root / "not-a-render-folder"
    keep.mkdir()
    catalog = Catalog(catalog_path)
    add_temp_root(catalog, root)
    catalog.set_pref("schedule_temp_minutes", 60)
    catalog.close()

    window = open_window(catalog_path)
    with qtbot.waitSignal(window.notified, timeout=30000) as note:
        window.schedule.check()  # the timer would do this a few seconds after start
    title, text = note.args
    runs = on_catalog(catalog_path, list_runs)
    assert len(runs) == 1 and runs[0]["started_by"] == "schedule" and runs[0]["kind"] == "temp"
    assert runs[0]["freed_bytes"] == 1_000_000
    assert title == "Scheduled temp sweep"
    assert text == "Deleted 3 files · freed 1.0 MB"  # the window's one sentence for counts, SI units
    assert not any(f.exists() for f in files) and keep.exists()
    # no tray offscreen: the status bar carries it
    assert window.statusBar().currentMessage() == f"{title}: {text}"
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 1, timeout=10000)
    assert window.history.model.index(0, 2).data() == "schedule"
    qtbot.waitUntil(lambda: window.reclaimed == 1_000_000, timeout=10000)
    # ran once: checking again finds nothing due
    with qtbot.waitSignal(window.schedule.idle, timeout=10000) as idle:
        window.schedule.check()
    assert idle.args[0].startswith("Next scheduled job at ")
    assert len(on_catalog(catalog_path, list_runs)) == 1


def test_a_missed_run_is_noted_and_run_once(tmp_path, catalog_path, qtbot, open_window):
    root = tmp_path / "render-tmp"
    root.mkdir()
    catalog = Catalog(catalog_path)
    add_temp_root(catalog, root)
    catalog.set_pref("schedule_temp_minutes", 60)
    five_hours_ago = utcnow() - dt.timedelta(hours=5, minutes=1)
    [first] = Scheduler(catalog, lambda: five_hours_ago).run_due()  # e.g. the last time the window was open
    assert first.job is Job.TEMP and first.missed == 0
    catalog.close()
    files = old_temp_folder(root, "concatenate_77", [100_000, 100_000])

    window = open_window(catalog_path)
    notes = window.notifications
    window.schedule.check()
    qtbot.waitUntil(lambda: any(t == "Scheduled temp sweep" for t, _ in notes), timeout=30000)
    qtbot.waitUntil(lambda: len(notes) == 2, timeout=10000)
    # what ran while the window was closed is told once, when it opens
    assert ("Scheduled runs while the window was closed", "Deleted 0 files · freed 0 Bytes") in notes
    text = next(text for title, text in notes if title == "Scheduled temp sweep")
    lines = text.splitlines()
    runs = on_catalog(catalog_path, list_runs)
    assert len(runs) == 1 and runs[0]["started_by"] == "schedule"
    assert lines[0] == "Deleted 2 files · freed 200.0 kB"
    assert lines[1] == ("Missed 4 scheduled run(s) while the app was closed or the machine slept; ran once now.")
    assert not any(f.exists() for f in files)
    state = on_catalog(catalog_path, lambda catalog: Scheduler(catalog).state(Job.TEMP))
    assert state.missed_count == 4
    assert describe_job(state).endswith("; 4 run(s) missed so far")
    with qtbot.waitSignal(window.schedule.idle, timeout=10000):
        window.schedule.check()  # once, not once per missed interval
    assert len(on_catalog(catalog_path, list_runs)) == 1


def test_auto_cleanup_and_orphan_report_on_the_schedule_with_an_injected_clock(workspace, catalog_path, qtbot,
                                                                               open_window):
    workspace.add_project("p1", "Rendered", scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    workspace.render_final("p1", age=3600)  # rendered after it was registered (F2)
    import_workspace(workspace, catalog_path)
    orphan = workspace.path(".cache/output/p1/old-export.mp4")
    orphan.write_bytes(b"o" * 4000)
    past = time.time() - 3 * 86400
    os.utime(orphan, (past, past))
    catalog = Catalog(catalog_path)
    catalog.set_pref("schedule_auto_minutes", 5)
    catalog.set_pref("schedule_orphans_minutes", 60)
    catalog.close()
    window = open_window(catalog_path)
    window.schedule.stop()  # driven by hand with a clock of our own
    later = utcnow() + dt.timedelta(minutes=1)
    window.schedule.clock = lambda: later
    reports = []
    window.schedule.reportReady.connect(reports.append)
    notes: list[tuple[str, str]] = []
    window.notified.connect(lambda title, text: notes.append((title, text)))
    window.schedule.stopped = False
    task = window.schedule.check()
    assert task is not None
    qtbot.waitUntil(lambda: len(reports) == 2, timeout=30000)
    assert [r.job for r in reports] == [Job.AUTO, Job.ORPHANS]
    runs = on_catalog(catalog_path, list_runs)
    assert len(runs) == 1 and runs[0]["started_by"] == "schedule" and runs[0]["projects"] == ["Rendered"]
    qtbot.waitUntil(lambda: len(notes) == 2, timeout=10000)  # a run's message waits for its figures (a worker)
    told = dict(notes)
    assert told["Auto-cleanup"] == (f"Deleted {runs[0]['deleted_count']} files · freed "
                                    f"{humanize.naturalsize(runs[0]['freed_bytes'])}")
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    assert workspace.path(".cache/output/p1/final.mp4").exists()
    assert told["Scheduled orphan sweep"] == (
        "Found 1 file (4.0 kB) in the projects' output folders that the catalog does not know and that were not "
        "uploaded. Nothing was deleted: open the report to review them.")
    assert orphan.exists()  # report only
    assert window.last_orphan_plan == reports[1].plan_ids[-1]
    with qtbot.waitSignal(window.previewReady, timeout=10000):
        window._tray_message_clicked()  # the tray message opens the report in the preview pane
    assert window.pane.model.summary.plan.kind == "orphans"
    assert window.pane.titleLabel.text() == "Scheduled orphan report"


def test_the_tray_menu_and_the_total_reclaimed_tooltip(tmp_path, catalog_path, qtbot, open_window):
    root = tmp_path / "render-tmp"
    old_temp_folder(root, "persona_1", [1_500_000])
    catalog = Catalog(catalog_path)
    add_temp_root(catalog, root)
    catalog.close()
    window = open_window(catalog_path)
    tray = make_tray(window, force=True)  # the offscreen platform has no system tray
    window.tray = tray
    labels = [a.text() for a in tray.contextMenu().actions()]
    assert labels == ["Show mediaclean", "Preview cleanup", "Run due jobs now", "", "Quit"]
    qtbot.waitUntil(lambda: not window.workers.running("reclaimed"), timeout=10000)
    with qtbot.waitSignal(window.reclaimedChanged, timeout=10000):
        window.refresh_reclaimed()
    assert tray.toolTip() == "mediaclean — 0 Bytes reclaimed in total"

    # "Run due jobs now" with the temp job switched on in between
    with Catalog(catalog_path) as cat:
        cat.set_pref("schedule_temp_minutes", 30)
    with qtbot.waitSignal(window.reclaimedChanged, timeout=30000, check_params_cb=lambda freed: freed > 0) as freed:
        tray.contextMenu().actions()[2].trigger()
    assert freed.args[0] == 1_500_000
    assert tray.toolTip() == "mediaclean — 1.5 MB reclaimed in total"
    assert on_catalog(catalog_path, list_runs)[0]["started_by"] == "schedule"
    tray.hide()


def test_schedule_tab_sets_intervals_and_edits_temp_roots(tmp_path, catalog_path, qtbot):
    from mediaclean_gui.core.scheduler import temp_roots
    from mediaclean_gui.gui.prefs_dialog import PreferencesDialog

    first, second = tmp_path / "render-a", tmp_path / "render-b"
    first.mkdir()
    second.mkdir()
    catalog = Catalog(catalog_path)
    dialog = PreferencesDialog(catalog)
    qtbot.addWidget(dialog)
    assert dialog.widgets["schedule_temp_minutes"].text() == "off"
    assert "Temp sweep: off" in dialog.jobStates.text()
    qtbot.waitUntil(lambda: dialog.tempStatus.text().startswith("No temp root yet"), timeout=5000)
    for folder in (first, second):
        dialog.add_temp_root(str(folder))
        qtbot.waitUntil(lambda f=folder: dialog.tempStatus.text() == f"Added {f}.", timeout=5000)
    qtbot.waitUntil(lambda: dialog.tempRoots.count() == 2, timeout=5000)
    dialog.add_temp_root(str(tmp_path / "missing"))
    qtbot.waitUntil(lambda: "does not exist or is not a folder" in dialog.tempStatus.text(), timeout=5000)
    dialog.tempRoots.setCurrentRow(0)
    dialog.remove_temp_root()
    qtbot.waitUntil(lambda: dialog.tempRoots.count() == 1, timeout=5000)
    assert dialog.tempStatus.text() == f"Removed {first}; its files were not touched."
    assert temp_roots(catalog) == [str(second)] and first.is_dir()

    dialog.widgets["schedule_temp_minutes"].setValue(45)
    dialog.widgets["schedule_sweep_minutes"].setValue(1440)
    assert dialog.changed() == {"schedule_temp_minutes": 45, "schedule_sweep_minutes": 1440}
    dialog.accept()
    assert (catalog.pref("schedule_temp_minutes"), catalog.pref("schedule_sweep_minutes")) == (45, 1440)
    catalog.close()
