"""The window's one scheduler: a QTimer that drives ``core.scheduler`` (auto, temp, orphans, sweep jobs) in workers.

The core decides what is due, notes missed runs (a job runs once however many
runs were missed) and records runs with ``started_by = "schedule"``. Here the
timer sleeps until the next job falls due (at most :data:`MAX_SLEEP_MS`, so a
changed interval is seen soon), the check runs in the general pool and the jobs
in the single deleting pool, and each report becomes a notification.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.catalog import Catalog, utcnow
from ..core.scheduler import (
    Clock,
    Due,
    Job,
    JobReport,
    Scheduler,
    mark_seen,
    recent_events,
)
from .workers import Task, TaskContext, Workers

log = logging.getLogger("mediaclean.gui")

#: The first check waits this long after the window opens (it loads its tables first).
START_DELAY_MS = 3000
#: The longest the timer sleeps between two checks.
MAX_SLEEP_MS = 60_000
#: The shortest (a job due "now" that another process is running).
MIN_SLEEP_MS = 1000


@dataclass
class _Check:
    due: list[Due]
    wakeup: dt.datetime | None
    now: dt.datetime


def worth_telling(report: JobReport) -> bool:
    """A run that did something, found something, failed, was cancelled or made up for missed runs.

    A job that had nothing to do only updates the status bar (no tray message every few minutes).
    """
    return bool(report.run_ids or report.errors or report.missed or report.found_count
                or report.status in ("failed", "cancelled"))


class ScheduleDriver(QObject):
    """Runs due jobs while the window is open. ``clock`` is injectable (aware UTC datetimes).

    Signals: ``reportReady(JobReport)`` after each job; ``idle(text)`` when a check found
    nothing due (text says when the next job is); ``busyChanged(bool)``; ``unseenEvents(events)``
    (see :meth:`unseen`).
    """

    reportReady = Signal(object)
    idle = Signal(str)
    busyChanged = Signal(bool)
    unseenEvents = Signal(object)

    def __init__(self, catalog: Catalog, workers: Workers, clock: Clock = utcnow,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.workers = workers
        self.clock = clock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.check)
        self.checking: Task | None = None
        self.running: Task | None = None
        self.stopped = True
        self.last_reports: list[JobReport] = []

    def scheduler(self) -> Scheduler:
        return Scheduler(self.catalog, self.clock)

    @property
    def busy(self) -> bool:
        return self.running is not None

    def start(self, delay_ms: int = START_DELAY_MS) -> None:
        self.stopped = False
        self.timer.start(max(0, delay_ms))

    def stop(self) -> None:
        self.stopped = True
        self.timer.stop()
        if self.running is not None:
            self.running.cancel()

    def check(self) -> Task | None:
        """Ask the core (in a worker) which jobs are due; run them, or sleep until the next one."""
        if self.checking is not None or self.running is not None:
            return None

        def work(ctx: TaskContext) -> _Check:
            scheduler = self.scheduler()
            now = scheduler.now()
            return _Check(scheduler.due_jobs(now), scheduler.next_wakeup(now), now)

        self.checking = self.workers.run_task(work, self._checked, name="schedule check")
        return self.checking

    def _checked(self, result: _Check | None, error: BaseException | None) -> None:
        self.checking = None
        if error is not None or result is None:
            log.warning("schedule check failed: %s", error, exc_info=error)
            self._sleep(MAX_SLEEP_MS)
            return
        if result.due and not self.stopped:
            self.run_due()
            return
        if result.wakeup is None:
            self.idle.emit("No scheduled job is on (Preferences → Schedule).")
            self._sleep(MAX_SLEEP_MS)
            return
        wait_ms = int((result.wakeup - result.now).total_seconds() * 1000)
        self.idle.emit(f"Next scheduled job at {result.wakeup.astimezone().strftime('%H:%M')}.")
        self._sleep(wait_ms)

    def _sleep(self, ms: int) -> None:
        if not self.stopped:
            self.timer.start(max(MIN_SLEEP_MS, min(MAX_SLEEP_MS, ms)))

    def run_due(self, job: Job | None = None) -> Task | None:
        """Run the due jobs (or ``job`` now, due or not) in the deleting pool: they delete, and
        a user's run and a scheduled one must never race."""
        if self.running is not None:
            return None
        self.timer.stop()

        def work(ctx: TaskContext) -> list[JobReport]:
            scheduler = self.scheduler()
            reports = [scheduler.run_job(job, cancel=ctx.cancel)] if job is not None \
                else scheduler.run_due(cancel=ctx.cancel)
            # what the window shows now need not be shown again (e.g. by a later start)
            shown = [e["id"] for e in recent_events(self.catalog, 200, unseen_only=True)]
            mark_seen(self.catalog, shown)
            return reports

        self.running = self.workers.run_task(work, self._ran, name="schedule run", destructive=True)
        self.busyChanged.emit(True)
        return self.running

    def _ran(self, reports: list[JobReport] | None, error: BaseException | None) -> None:
        self.running = None
        self.busyChanged.emit(False)
        if error is not None:
            log.error("scheduled jobs failed", exc_info=error)
        self.last_reports = list(reports or [])
        if error is None and not self.last_reports:
            self.idle.emit("No scheduled job was due.")
        for report in self.last_reports:
            self.reportReady.emit(report)
        self._sleep(MIN_SLEEP_MS)

    def unseen(self) -> Task:
        """Scheduled runs another process made while the window was closed (``mediaclean schedule
        run-due`` from a timer) that nobody has seen: ``unseenEvents(list of event dicts)``, then
        they are marked seen."""

        def work(ctx: TaskContext) -> list[dict[str, object]]:
            events = recent_events(self.catalog, 50, unseen_only=True)
            mark_seen(self.catalog, [int(str(e["id"])) for e in events])
            return events

        def done(events: list[dict[str, object]] | None, error: BaseException | None) -> None:
            if error is None and events:
                self.unseenEvents.emit(events)

        return self.workers.run_task(work, done, name="schedule events")
