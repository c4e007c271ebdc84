"""The scheduler's logic with an injected clock: due jobs, missed runs run once, job reports."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.plan import load_plan
from mediaclean_gui.core.scheduler import Job, Scheduler, add_temp_root, recent_events, temp_roots

T0 = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.timezone.utc)
MIN = dt.timedelta(minutes=1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def quiet(catalog):
    """Every job off, so each test turns on what it looks at."""
    for job in Job:
        catalog.set_pref(job.pref, 0)
    return catalog


def old_temp_folder(root: Path, name: str, sizes: list[int], hours: float = 48) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    when = time.time() - hours * 3600
    for n, size in enumerate(sizes):
        f = folder / f"part-{n}.mp4"
        f.write_bytes(b"v" * size)
        os.utime(f, (when, when))
    os.utime(folder, (when, when))


def test_a_job_never_run_is_due_at_once_and_off_means_never(quiet, clock):
    scheduler = Scheduler(quiet, clock)
    assert scheduler.due_jobs() == []
    assert scheduler.next_wakeup() is None
    quiet.set_pref("schedule_temp_minutes", 60)
    [due] = scheduler.due_jobs()
    assert (due.job, due.due_at, due.missed) == (Job.TEMP, None, 0)
    assert scheduler.next_wakeup() == T0


def test_interval_then_late_then_missed_runs_once(quiet, clock):
    quiet.set_pref("schedule_temp_minutes", 60)
    scheduler = Scheduler(quiet, clock)
    [first] = scheduler.run_due()
    assert first.job is Job.TEMP and first.missed == 0
    assert scheduler.due_jobs() == []
    assert scheduler.next_wakeup() == T0 + 60 * MIN
    assert scheduler.due_jobs(T0 + 59 * MIN) == []
    [on_time] = scheduler.due_jobs(T0 + 60 * MIN)
    assert on_time.missed == 0 and on_time.due_at == T0 + 60 * MIN
    assert scheduler.due_jobs(T0 + 119 * MIN)[0].missed == 0, "late by less than an interval is not missed"

    # The machine slept (or the app was closed) for five hours.
    clock.now = T0 + 5 * 60 * MIN
    [due] = scheduler.due_jobs()
    assert due.missed == 4
    reports = scheduler.run_due()
    assert len(reports) == 1, "a missed job runs once, never once per missed interval"
    report = reports[0]
    assert report.missed == 4
    assert "Missed 4 scheduled run(s) while the app was closed or the machine slept; ran once now." in report.message()
    assert scheduler.run_due() == [] and scheduler.due_jobs() == []

    state = scheduler.state(Job.TEMP)
    assert state.missed_at == clock.now and state.missed_count == 4
    assert state.last_run_at == clock.now and state.next_due_at == clock.now + 60 * MIN
    kinds = [(e["job"], e["kind"]) for e in recent_events(quiet)]
    assert kinds == [("temp", "run"), ("temp", "missed"), ("temp", "run")]
    missed = next(e for e in recent_events(quiet) if e["kind"] == "missed")
    assert missed["summary"] == ("Temp sweep: the run due at 2026-11-21T10:00:00Z did not happen (4 missed; the app "
                                 "was closed or the machine slept); it runs once now.")


def test_a_shorter_interval_applies_at_once(quiet, clock):
    quiet.set_pref("schedule_orphans_minutes", 24 * 60)
    scheduler = Scheduler(quiet, clock)
    scheduler.run_due()
    assert scheduler.due_jobs(T0 + 2 * 60 * MIN) == []
    quiet.set_pref("schedule_orphans_minutes", 60)
    assert [d.job for d in scheduler.due_jobs(T0 + 2 * 60 * MIN)] == [Job.ORPHANS]


def test_two_schedulers_never_run_one_job_twice(quiet, clock, catalog_path):
    quiet.set_pref("schedule_orphans_minutes", 30)
    window = Scheduler(quiet, clock)
    other = Catalog(catalog_path)
    try:
        timer = Scheduler(other, clock)
        assert [d.job for d in window.due_jobs()] == [Job.ORPHANS]
        assert [r.job for r in timer.run_due()] == [Job.ORPHANS]
        assert window._run(Job.ORPHANS, clock.now, None, require_due=True) is None
    finally:
        other.close()
    assert len([e for e in recent_events(quiet) if e["kind"] == "run"]) == 1


def test_scheduled_temp_sweep_deletes_and_reports_the_seed_summary(quiet, clock, tmp_path):
    root = tmp_path / "render-tmp"
    old_temp_folder(root, "concatenate_1", [1024 * 1024, 512 * 1024])
    old_temp_folder(root, "trim_2", [256 * 1024])
    old_temp_folder(root, "intro_3", [10], hours=0.2)
    add_temp_root(quiet, root)
    assert temp_roots(quiet) == [str(root)]
    quiet.set_pref("schedule_temp_minutes", 15)
    clock.now = dt.datetime.now(dt.timezone.utc)
    [report] = Scheduler(quiet, clock).run_due()
    assert report.status == "complete" and report.errors == []
    assert report.summary_line() == "Cleanup: Deleted 3 files, freed 1.84 MB"  # SI: 1,835,008 bytes
    assert report.title == "Scheduled temp sweep"
    assert sorted(p.name for p in root.iterdir()) == ["intro_3"]
    [run_id] = report.run_ids
    row = quiet.conn.execute("SELECT started_by, kind, deleted_count FROM runs WHERE id = ?", (run_id,)).fetchone()
    assert tuple(row) == ("schedule", "temp", 3)
    assert recent_events(quiet)[0]["detail"]["deleted_size_mb"] == 1.84


def test_a_failing_job_is_reported_not_raised(quiet, clock, tmp_path):
    root = tmp_path / "gone-root"
    root.mkdir()
    add_temp_root(quiet, root)
    root.rmdir()
    quiet.set_pref("schedule_temp_minutes", 15)
    [report] = Scheduler(quiet, clock).run_due()
    assert report.status == "failed"
    assert report.errors == [f"{root}: The temp root {root} does not exist or is not a folder."]
    assert "1 error(s): " in report.message()
    assert recent_events(quiet)[0]["kind"] == "error"


def test_scheduled_orphan_sweep_reports_and_never_deletes(quiet, clock, tmp_path):
    from mediaclean_gui.core.projects import add_project

    out = tmp_path / "ws" / "backend" / "mv" / "outputs" / "audio"
    out.mkdir(parents=True)
    stray = out / "tts_1.mp3"
    stray.write_bytes(b"a" * 2048)
    when = time.time() - 100 * 3600
    os.utime(stray, (when, when))
    add_project(quiet, tmp_path / "ws", "mv-backend")
    quiet.set_pref("schedule_orphans_minutes", 60)
    clock.now = dt.datetime.now(dt.timezone.utc)
    [report] = Scheduler(quiet, clock).run_due()
    assert report.status == "report" and report.run_ids == []
    assert stray.exists(), "a scheduled orphan sweep never deletes without a preview"
    [plan_id] = report.plan_ids
    assert report.summary_line() == (f"Orphan sweep: 1 files, 0.00 MB not known to the catalog and not uploaded; "
                                     f"nothing was deleted; review plan {plan_id} to delete them")
    plan = load_plan(quiet, plan_id)
    assert plan.status == "ready" and [i.target for i in plan.items] == [str(stray)]
    assert quiet.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_scheduled_auto_cleanup_is_started_by_schedule(quiet, clock, workspace):
    from mediaclean_gui.core.importdb import import_generator_db

    workspace.add_project("p1", "Alpha", final=False)
    import_generator_db(quiet, workspace.write_db(), workspace.root)
    workspace.render_final("p1", age=3600)  # rendered after it was registered (F2)
    import_generator_db(quiet, workspace.write_db(), workspace.root)
    quiet.set_pref("schedule_auto_minutes", 5)
    clock.now = dt.datetime.now(dt.timezone.utc)
    [report] = Scheduler(quiet, clock).run_due()
    assert report.status == "complete", report.as_json()
    assert report.deleted_count > 0 and report.summary_line().startswith(f"Cleanup: Deleted {report.deleted_count} files")
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    started_by = {r[0] for r in quiet.conn.execute("SELECT started_by FROM runs")}
    assert started_by == {"schedule"}


def test_the_sweep_job_says_when_it_cannot_run(quiet, clock, monkeypatch):
    quiet.set_pref("schedule_sweep_minutes", 60)
    monkeypatch.setitem(sys.modules, "mediaclean_gui.core.s3.sweep", None)  # a build without S3 sweeps
    [report] = Scheduler(quiet, clock).run_due()
    assert report.status == "skipped"
    assert report.notes == ["S3 sweeps are not available in this build; skipped."]


def test_run_job_runs_now_and_resets_the_interval(quiet, clock):
    quiet.set_pref("schedule_orphans_minutes", 60)
    scheduler = Scheduler(quiet, clock)
    scheduler.run_due()
    clock.now = T0 + 10 * MIN
    report = scheduler.run_job(Job.ORPHANS)
    assert report.missed == 0 and report.notes == ["No projects are registered."]
    assert scheduler.state(Job.ORPHANS).next_due_at == T0 + 70 * MIN


def test_cli_schedule_run_due_and_status(cli, tmp_path):
    root = tmp_path / "render-tmp"
    old_temp_folder(root, "demo_1", [100, 200])
    for job in Job:
        cli("prefs", job.pref, "0")
    cli("prefs", "schedule_temp_minutes", "30")
    code, out = cli("schedule", "roots", "--add", root)
    assert code == 0 and out["temp_roots"] == [str(root)]
    code, out = cli("schedule", "run-due", "--yes")
    assert code == 0
    [report] = out["reports"]
    assert report["job"] == "temp" and report["summary"] == "Cleanup: Deleted 2 files, freed 0.00 MB"
    assert report["deleted_count"] == 2 and report["freed_bytes"] == 300
    code, out = cli("schedule", "run-due", "--yes")
    assert code == 0 and out["reports"] == []
    code, status = cli("schedule", "status")
    temp = next(j for j in status["jobs"] if j["job"] == "temp")
    assert temp["last_status"] == "complete" and temp["interval_minutes"] == 30 and temp["next_due_at"]
    code, out = cli("schedule", "run", "bogus")
    assert code == 2
