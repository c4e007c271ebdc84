"""The scheduler without Qt: which periodic job is due, missed runs, running a job and its report.

The window drives :class:`Scheduler` from a ``QTimer`` (``next_wakeup`` says when), the CLI's
``mediaclean schedule run-due`` (a systemd user timer) calls :meth:`Scheduler.run_due` directly.
State lives in the catalog (``schedule``, ``schedule_events``, ``temp_roots``; migration 0004).
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import humanize

from .catalog import Catalog, display_path, from_db_path, iso, parse_iso, to_db_path, utcnow
from .errors import ConfigError, KnownError
from .events import Cancelled, CancelToken, fs_log, log_event

MB = 1_000_000  # SI (SPEC section 4)
Clock = Callable[[], dt.datetime]


class Job(str, enum.Enum):
    """The periodic jobs. Interval preference: ``schedule_{value}_minutes`` (0 = off)."""

    AUTO = "auto"        # F2 auto-cleanup of settled projects
    TEMP = "temp"        # F6 orphaned render temp folders in the registered temp roots
    ORPHANS = "orphans"  # F7 orphan sweep: report only, never deletes without a preview
    SWEEP = "sweep"      # F4/F5 S3 retention sweeps of every remote

    @property
    def label(self) -> str:
        return _TITLES[self]

    @property
    def pref(self) -> str:
        return f"schedule_{self.value}_minutes"


_TITLES = {Job.AUTO: "Auto-cleanup", Job.TEMP: "Temp sweep", Job.ORPHANS: "Orphan sweep",
           Job.SWEEP: "S3 retention sweep"}
_REPORT_TITLES = {Job.AUTO: "Auto-cleanup", Job.TEMP: "Scheduled temp sweep", Job.ORPHANS: "Scheduled orphan sweep",
                  Job.SWEEP: "Scheduled S3 retention sweep"}


@dataclass(frozen=True)
class JobState:
    """A job's schedule. Times are aware UTC; ``next_due_at`` is ``last_run_at`` + the interval
    (``None``: never run, so due at once; or off)."""

    job: Job
    interval_minutes: int
    last_run_at: dt.datetime | None
    last_status: str
    last_summary: str
    missed_at: dt.datetime | None
    missed_count: int

    @property
    def enabled(self) -> bool:
        return self.interval_minutes > 0

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.interval_minutes)

    @property
    def next_due_at(self) -> dt.datetime | None:
        if not self.enabled or self.last_run_at is None:
            return None
        return self.last_run_at + self.interval

    def missed_runs(self, now: dt.datetime) -> int:
        """How many scheduled runs did not happen by ``now``: 0 while a run is at most one
        interval late, else the whole intervals past the due time (the app was closed or the
        machine slept)."""
        due = self.next_due_at
        if due is None or now <= due + self.interval:
            return 0
        return int((now - due) / self.interval)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": self.job.value, "title": self.job.label, "interval_minutes": self.interval_minutes,
            "enabled": self.enabled, "last_run_at": iso(self.last_run_at) if self.last_run_at else None,
            "next_due_at": iso(self.next_due_at) if self.next_due_at else None, "last_status": self.last_status,
            "last_summary": self.last_summary, "missed_at": iso(self.missed_at) if self.missed_at else None,
            "missed_count": self.missed_count,
        }


@dataclass(frozen=True)
class Due:
    """A job that should run now; ``missed`` scheduled runs did not happen (it still runs once)."""

    job: Job
    due_at: dt.datetime | None
    missed: int


@dataclass
class JobReport:
    """What one run of a job did, for the notification and ``schedule_events``.

    ``status``: ``complete``, ``failed`` (some errors), ``nothing to do``, ``report`` (orphans:
    found, nothing deleted), ``skipped`` (the job cannot run here) or ``cancelled``.
    Bytes in ``freed_bytes``/``found_bytes``.
    """

    job: Job
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    status: str = "running"
    missed: int = 0
    deleted_count: int = 0
    freed_bytes: int = 0
    trashed_count: int = 0
    trashed_bytes: int = 0
    found_count: int = 0
    found_bytes: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_ids: list[int] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _REPORT_TITLES[self.job]

    def summary_line(self) -> str:
        """Seed 002: ``Cleanup: Deleted {count} files, freed {space} MB``; the orphan sweep,
        which deletes nothing, says what it found instead."""
        if self.job is Job.ORPHANS:
            if not self.found_count:
                return "Orphan sweep: no orphaned files found"
            plan = f"; review plan {self.plan_ids[-1]} to delete them" if self.plan_ids else ""
            return (f"Orphan sweep: {self.found_count} files, {self.found_bytes / MB:.2f} MB not known to the "
                    f"catalog and not uploaded; nothing was deleted{plan}")
        line = f"Cleanup: Deleted {self.deleted_count} files, freed {self.freed_bytes / MB:.2f} MB"
        if self.trashed_count:  # invariant 16: moved, not freed
            line += f"; moved {self.trashed_count} files ({self.trashed_bytes / MB:.2f} MB) to the trash"
        return line

    def message(self) -> str:
        """The notification's text: the summary, a missed-run note, notes, and errors."""
        lines = [self.summary_line()]
        if self.missed:
            lines.append(f"Missed {self.missed} scheduled run(s) while the app was closed or the machine slept; "
                         f"ran once now.")
        lines += self.notes[:5]
        if self.errors:
            lines.append(f"{len(self.errors)} error(s): " + "; ".join(self.errors[:3])
                         + (" …" if len(self.errors) > 3 else ""))
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": self.job.value, "title": self.title, "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at) if self.ended_at else None, "status": self.status,
            "missed": self.missed, "deleted_count": self.deleted_count, "freed_bytes": self.freed_bytes,
            "trashed_count": self.trashed_count, "trashed_bytes": self.trashed_bytes,
            "deleted_size_mb": round(self.freed_bytes / MB, 2), "found_count": self.found_count,
            "found_bytes": self.found_bytes, "errors": self.errors, "notes": self.notes,
            "plan_ids": self.plan_ids, "run_ids": self.run_ids, "summary": self.summary_line(),
            "message": self.message(),
        }


# ---------------------------------------------------------------- temp roots


def temp_roots(catalog: Catalog) -> list[str]:
    """The temp roots the scheduled temp sweep visits (table ``temp_roots``)."""
    return [from_db_path(r[0]) for r in catalog.conn.execute("SELECT root FROM temp_roots ORDER BY root")]


def add_temp_root(catalog: Catalog, root: str | os.PathLike[str]) -> str:
    """Register a temp root (stored resolved); :class:`ConfigError` when it is not a folder."""
    real = os.path.realpath(os.fspath(root))
    if not os.path.isdir(real):
        raise ConfigError(f"The temp root {os.fspath(root)} does not exist or is not a folder.")
    catalog.conn.execute("INSERT OR IGNORE INTO temp_roots(root, added_at) VALUES (?, ?)", (to_db_path(real), iso()))
    return real


def remove_temp_root(catalog: Catalog, root: str | os.PathLike[str]) -> bool:
    """Forget a temp root (its files are not touched); ``False`` when it was not registered."""
    candidates = {os.fspath(root), os.path.realpath(os.fspath(root))}
    removed = 0
    for path in candidates:
        removed += catalog.conn.execute("DELETE FROM temp_roots WHERE root = ?", (to_db_path(path),)).rowcount
    return removed > 0


# ---------------------------------------------------------------- the jobs


def _job_auto(catalog: Catalog, now: dt.datetime, cancel: CancelToken | None, report: JobReport) -> None:
    from .auto import run_auto_cleanup
    from .projects import env_allows_auto_cleanup
    from .scan import scan_projects

    if not env_allows_auto_cleanup():
        report.notes.append("Auto-cleanup is off (AUTO_CLEANUP_ENABLED=false).")
        return
    runs = run_auto_cleanup(catalog, now=now.timestamp(), cancel=cancel, started_by="schedule")
    for run in runs:
        if "plan_id" in run:
            report.plan_ids.append(run["plan_id"])
        if "run_id" in run:
            report.run_ids.append(run["run_id"])
            report.deleted_count += run["deleted_count"]
            report.freed_bytes += run["freed_bytes"]
            report.trashed_count += run.get("trashed_count", 0)
            report.trashed_bytes += run.get("trashed_bytes", 0)
        report.errors += [f"{f['target']}: {f['error']}" for f in run.get("failed", [])]
        if "error" in run:
            report.errors.append(f"{run['project']}: {run['error']}")
        if "refused" in run:
            report.notes.append(f"{run['project']}: not cleaned — {run['refused']}")
    if runs:
        scan_projects(catalog, sorted({r["project_id"] for r in runs}))


def _job_temp(catalog: Catalog, now: dt.datetime, cancel: CancelToken | None, report: JobReport) -> None:
    from .execute import execute_plan
    from .plan import load_plan
    from .tempclean import plan_temp

    roots = temp_roots(catalog)
    if not roots:
        report.notes.append("No temp roots are registered yet: nothing to sweep.")
        return
    for root in roots:
        try:
            plan_id = plan_temp(catalog, root, now=now, cancel=cancel)
            report.plan_ids.append(plan_id)
            if load_plan(catalog, plan_id, with_items=False).item_count == 0:
                continue
            result = execute_plan(catalog, plan_id, started_by="schedule", cancel=cancel)
            report.run_ids.append(result.run_id)
            report.deleted_count += result.deleted_count
            report.freed_bytes += result.freed_bytes
            report.trashed_count += result.trashed_count
            report.trashed_bytes += result.trashed_bytes
            report.errors += [f"{f['target']}: {f['error']}" for f in result.failed]
        except KnownError as exc:
            report.errors.append(f"{display_path(root)}: {exc.message}")


def _job_orphans(catalog: Catalog, now: dt.datetime, cancel: CancelToken | None, report: JobReport) -> None:
    """Report only: a plan is made and announced; deleting needs the user's preview and confirm."""
    from .orphans import plan_orphans
    from .plan import load_plan
    from .projects import list_projects

    ids = [p.id for p in list_projects(catalog)]
    if not ids:
        report.notes.append("No projects are registered.")
        return
    plan_id = plan_orphans(catalog, ids, now=now, cancel=cancel)
    plan = load_plan(catalog, plan_id, with_items=False)
    report.found_count = plan.item_count
    report.found_bytes = plan.total_bytes
    if plan.item_count:
        report.plan_ids.append(plan_id)
        report.notes.append(f"Review plan {plan_id} ({humanize.naturalsize(plan.total_bytes)}) before anything is "
                            f"deleted: nothing goes without your preview.")
    else:
        catalog.conn.execute("DELETE FROM plans WHERE id = ?", (plan_id,))


def _job_sweep(catalog: Catalog, now: dt.datetime, cancel: CancelToken | None, report: JobReport) -> None:
    """S3 retention sweeps of every remote, through ``core.s3.sweep`` when this build has it."""
    try:
        sweep = importlib.import_module("mediaclean_gui.core.s3.sweep")
        plan_sweep = getattr(sweep, "plan_sweep")
        getattr(sweep, "execute_sweep_plan")
    except (ImportError, AttributeError):
        report.status = "skipped"
        report.notes.append("S3 sweeps are not available in this build; skipped.")
        return
    from .plan import load_plan
    from .runner import execute_any

    has_remotes = catalog.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'remotes'").fetchone()
    names = [r[0] for r in catalog.conn.execute("SELECT name FROM remotes ORDER BY name")] if has_remotes else []
    if not names:
        report.notes.append("No remotes are registered.")
        return
    for name in names:
        try:
            plan_id = int(plan_sweep(catalog, name, as_of=now, cancel=cancel))
            report.plan_ids.append(plan_id)
            plan = load_plan(catalog, plan_id, with_items=False)
            if plan.status != "ready" or plan.item_count == 0:
                if plan.status != "ready":
                    report.notes.append(f"{name}: {plan.summary or 'nothing to sweep'}")
                continue
            result = execute_any(catalog, plan_id, started_by="schedule", cancel=cancel)
            data = result.as_json()
            report.run_ids.append(result.run_id)
            report.deleted_count += int(data.get("deleted_count", 0))
            freed = data.get("freed_bytes")
            report.freed_bytes += int(freed) if freed is not None else int(float(data.get("deleted_size_mb", 0)) * MB)
            report.errors += [f"{name}: {f.get('target') or f.get('key')}: {f.get('error')}" for f in result.failed]
        except KnownError as exc:
            report.errors.append(f"{name}: {exc.message}")


JobRunner = Callable[[Catalog, dt.datetime, CancelToken | None, JobReport], None]
JOBS: dict[Job, JobRunner] = {Job.AUTO: _job_auto, Job.TEMP: _job_temp, Job.ORPHANS: _job_orphans,
                              Job.SWEEP: _job_sweep}


# ---------------------------------------------------------------- the scheduler


class Scheduler:
    """Which jobs are due and running them, with an injectable clock (aware UTC datetimes).

    A job never run is due at once; afterwards at ``last_run_at`` + its
    interval (preference ``schedule_{job}_minutes``, 0 = off). A run later than
    one whole interval past its due time is a **missed run**: it is recorded
    (``schedule.missed_at``/``missed_count``, a ``missed`` event) and the job
    runs **once** — never dropped, never repeated to catch up. Runs are claimed
    in a transaction, so the window and a systemd timer never run one job twice.
    Runs the jobs start are recorded with ``started_by = "schedule"``.
    """

    def __init__(self, catalog: Catalog, clock: Clock = utcnow) -> None:
        self.catalog = catalog
        self.clock = clock

    def now(self) -> dt.datetime:
        return self.clock().astimezone(dt.timezone.utc)

    def _interval(self, job: Job, prefs: dict[str, Any]) -> int:
        return int(prefs.get(job.pref, 0))

    def state(self, job: Job, prefs: dict[str, Any] | None = None) -> JobState:
        prefs = prefs if prefs is not None else self.catalog.prefs()
        row = self.catalog.conn.execute("SELECT * FROM schedule WHERE job = ?", (job.value,)).fetchone()

        def when(key: str) -> dt.datetime | None:
            return parse_iso(row[key]) if row is not None and row[key] else None

        return JobState(job, self._interval(job, prefs), when("last_run_at"), row["last_status"] if row else "",
                        row["last_summary"] if row else "", when("missed_at"), row["missed_count"] if row else 0)

    def states(self) -> list[JobState]:
        prefs = self.catalog.prefs()
        return [self.state(job, prefs) for job in Job]

    def due_jobs(self, now: dt.datetime | None = None) -> list[Due]:
        """The enabled jobs due at ``now`` (default: the clock), with their missed-run counts."""
        now = now or self.now()
        due = []
        for state in self.states():
            if not state.enabled:
                continue
            at = state.next_due_at
            if at is None or now >= at:
                due.append(Due(state.job, at, state.missed_runs(now)))
        return due

    def next_wakeup(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """When the next job falls due (``now`` if one is due already); ``None`` when all are off."""
        now = now or self.now()
        times = [s.next_due_at or now for s in self.states() if s.enabled]
        return max(now, min(times)) if times else None

    def run_due(self, now: dt.datetime | None = None, cancel: CancelToken | None = None) -> list[JobReport]:
        """Run every job due at ``now``, each once; returns their reports (also stored as events)."""
        now = now or self.now()
        reports = []
        for due in self.due_jobs(now):
            if cancel is not None and cancel.cancelled:
                break
            report = self._run(due.job, now, cancel, require_due=True)
            if report is not None:
                reports.append(report)
        return reports

    def run_job(self, job: Job, now: dt.datetime | None = None, cancel: CancelToken | None = None) -> JobReport:
        """Run ``job`` now whether due or not ("Run now"); its next run is one interval later."""
        report = self._run(job, now or self.now(), cancel, require_due=False)
        assert report is not None
        return report

    def _claim(self, job: Job, now: dt.datetime, require_due: bool) -> int | None:
        """Mark ``job`` as run at ``now`` if it is (still) due; returns its missed-run count,
        or ``None`` when another process ran it meanwhile. Records a missed run."""
        with self.catalog.transaction() as conn:
            state = self.state(job)
            if require_due and (not state.enabled or (state.next_due_at is not None and now < state.next_due_at)):
                return None
            missed = state.missed_runs(now)
            due = state.next_due_at
            conn.execute(
                "INSERT INTO schedule(job, last_run_at, next_due_at, last_status) VALUES (?, ?, ?, 'running') "
                "ON CONFLICT(job) DO UPDATE SET last_run_at = excluded.last_run_at, "
                "next_due_at = excluded.next_due_at, last_status = 'running'",
                (job.value, iso(now), iso(now + state.interval) if state.enabled else None),
            )
            if missed:
                assert due is not None
                text = (f"{job.label}: the run due at {iso(due)} did not happen ({missed} missed; the app was closed "
                        f"or the machine slept); it runs once now.")
                conn.execute("UPDATE schedule SET missed_at = ?, missed_count = missed_count + ? WHERE job = ?",
                             (iso(now), missed, job.value))
                conn.execute("INSERT INTO schedule_events(job, at, kind, summary, detail) VALUES (?, ?, 'missed', ?, ?)",
                             (job.value, iso(now), text, json.dumps({"due_at": iso(due), "missed": missed})))
                log_event(fs_log, logging.WARNING, "schedule_missed_run", job=job.value, due_at=iso(due),
                          missed=missed)
            return missed

    def _run(self, job: Job, now: dt.datetime, cancel: CancelToken | None, *, require_due: bool) -> JobReport | None:
        missed = self._claim(job, now, require_due)
        if missed is None:
            return None
        report = JobReport(job, now, missed=missed)
        try:
            JOBS[job](self.catalog, now, cancel, report)
        except Cancelled:
            report.status = "cancelled"
        except KnownError as exc:
            report.errors.append(exc.message)
        except Exception as exc:  # a job's bug must not stop the scheduler; it keeps its traceback in the log
            fs_log.exception("scheduled %s failed", job.value)
            report.errors.append(f"unexpected error: {exc!r}")
        if report.status == "running":
            if report.errors:
                report.status = "failed"
            elif job is Job.ORPHANS:
                report.status = "report"
            elif report.run_ids:
                report.status = "complete"
            else:
                report.status = "nothing to do"
        report.ended_at = self.now() if self.now() >= now else now
        self._record(report)
        return report

    def _record(self, report: JobReport) -> None:
        kind = "error" if report.status == "failed" else "run"
        with self.catalog.transaction() as conn:
            conn.execute("UPDATE schedule SET last_status = ?, last_summary = ? WHERE job = ?",
                         (report.status, report.summary_line(), report.job.value))
            conn.execute("INSERT INTO schedule_events(job, at, kind, summary, detail) VALUES (?, ?, ?, ?, ?)",
                         (report.job.value, iso(report.started_at), kind, report.summary_line(),
                          json.dumps(report.as_json())))
        log_event(fs_log, logging.INFO, "schedule_job_finished", job=report.job.value, status=report.status,
                  summary=report.summary_line(), errors=len(report.errors), missed=report.missed)


# ---------------------------------------------------------------- events (notifications, history)


def recent_events(catalog: Catalog, limit: int = 50, *, unseen_only: bool = False) -> list[dict[str, Any]]:
    """The scheduler's events, newest first: ``id``, ``job``, ``at`` (UTC ISO-8601), ``kind``
    (``run``, ``missed``, ``error``), ``summary``, ``detail`` (the job report), ``seen``."""
    sql = "SELECT * FROM schedule_events" + (" WHERE seen = 0" if unseen_only else "") + " ORDER BY id DESC LIMIT ?"
    return [
        {"id": r["id"], "job": r["job"], "at": r["at"], "kind": r["kind"], "summary": r["summary"],
         "detail": json.loads(r["detail"]), "seen": bool(r["seen"])}
        for r in catalog.conn.execute(sql, (int(limit),))
    ]


def mark_seen(catalog: Catalog, event_ids: list[int]) -> None:
    """The user has seen these notifications."""
    catalog.conn.executemany("UPDATE schedule_events SET seen = 1 WHERE id = ?", [(i,) for i in event_ids])
