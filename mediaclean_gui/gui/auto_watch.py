"""F2 in the window: watch final outputs and clean a project once its final output appears and settles.

Only a final output that appears (or changes) while the window is open arms a
project: opening the window on projects that were rendered long ago cleans
nothing by itself (that is what ``mediaclean auto`` and the scheduler are for).
Checks run in the general worker pool; cleanups in the single deleting pool.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.catalog import Catalog
from ..core.errors import KnownError
from ..core.projects import Project, list_projects
from ..core.run import DeleteLimitExceeded
from .plan_flow import result_sentence
from .wording import limit_words, plain
from .workers import TaskContext, Workers

if TYPE_CHECKING:
    from ..core.profiles import Profile

log = logging.getLogger("mediaclean.gui")

Signature = tuple[tuple[str, int, int], ...] | None


def final_signature(catalog: Catalog, project: Project, profiles: dict[str, Profile] | None = None) -> Signature:
    """``((path, mtime_ns, size), …)`` of the project's final outputs, or ``None`` while one is missing.

    ``profiles`` caches the layouts by name across calls: ``get_profile`` reads every profile file each
    time (~1 ms), which a check of 10,000 projects cannot pay each tick."""
    from ..core.profiles import get_profile
    from ..core.readiness import final_outputs

    try:
        profile = profiles.get(project.profile) if profiles is not None else None
        if profile is None:
            profile = get_profile(project.profile)
            if profiles is not None:
                profiles[project.profile] = profile
        finals = final_outputs(catalog, project, profile)
    except KnownError:
        return None
    out = []
    for path in finals:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        out.append((path, st.st_mtime_ns, st.st_size))
    return tuple(out) or None


@dataclass
class _Check:
    signatures: dict[int, Signature]
    eligible: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


class AutoCleanupWatcher(QObject):
    """A QTimer that checks projects with ``core.auto.check_eligibility``.

    ``cleaned(project_name, text)`` is emitted after each automatic run with the window's
    sentence for counts (``Deleted 9 files · freed 90.1 kB``); ``refused(name, text)``
    when the plan could not run (e.g. above the delete limits: auto never confirms those).
    """

    cleaned = Signal(str, str)
    refused = Signal(str, str)
    started = Signal(str)

    def __init__(self, catalog: Catalog, workers: Workers, interval_ms: int = 3000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.workers = workers
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.baseline: dict[int, Signature] = {}
        self.armed: set[int] = set()
        self.cleaning: set[int] = set()
        self._checking = False
        self._stopped = False

    def setInterval(self, ms: int) -> None:
        self.timer.setInterval(ms)

    def start(self) -> None:
        """Take the baseline of every final output, then check on every tick."""
        self._stopped = False
        self.timer.start()
        self.tick()

    def stop(self) -> None:
        self._stopped = True
        self.timer.stop()

    def tick(self) -> None:
        if self._checking or self._stopped:
            return
        self._checking = True
        baseline = dict(self.baseline)
        armed = set(self.armed) - self.cleaning

        def check(ctx: TaskContext) -> _Check:
            from ..core.auto import check_eligibility  # the planners load in the worker, after the first paint

            prefs = self.catalog.prefs()
            now = time.time()
            result = _Check({})
            profiles: dict[str, Profile] = {}
            for n, project in enumerate(list_projects(self.catalog)):
                if n % 500 == 0:
                    ctx.cancel.raise_if_cancelled()
                sig = final_signature(self.catalog, project, profiles)
                result.signatures[project.id] = sig
                result.names[project.id] = project.name
                changed = project.id in baseline and sig is not None and sig != baseline[project.id]
                if project.id in armed or changed:
                    verdict = check_eligibility(self.catalog, project, prefs, now)
                    if verdict.eligible:
                        result.eligible.append(project.id)
            return result

        self.workers.run_task(check, self._checked, name="auto-check")

    def _checked(self, result: _Check | None, error: BaseException | None) -> None:
        self._checking = False
        if error is not None or result is None or self._stopped:
            if error is not None:
                log.warning("auto-cleanup check failed: %s", error, exc_info=error)
            return
        for pid, sig in result.signatures.items():
            if pid not in self.baseline:
                self.baseline[pid] = sig  # first sight: what was there before does not count
            elif sig is not None and sig != self.baseline[pid]:
                self.armed.add(pid)
        for pid in result.eligible:
            if pid not in self.cleaning:
                self._clean(pid, result.names.get(pid, str(pid)), result.signatures.get(pid))

    def _clean(self, project_id: int, name: str, sig: Signature) -> None:
        self.cleaning.add(project_id)
        self.started.emit(name)

        def run(ctx: TaskContext) -> tuple[Any, str | None]:
            from ..core.clean import plan_cleanup
            from ..core.plan import load_plan
            from ..core.runner import execute_any

            plan_id = plan_cleanup(self.catalog, [project_id], cancel=ctx.cancel)
            plan = load_plan(self.catalog, plan_id, with_items=False)
            if plan.status != "ready":
                return None, plan.summary
            return execute_any(self.catalog, plan_id, started_by="auto", progress=ctx.progress,
                               cancel=ctx.cancel), None

        def done(value: tuple[Any, str | None] | None, error: BaseException | None) -> None:
            self.cleaning.discard(project_id)
            self.armed.discard(project_id)
            self.baseline[project_id] = sig
            if error is not None:
                if isinstance(error, DeleteLimitExceeded):  # auto-cleanup never confirms a plan above the limits
                    text = f"Above your safety limit: {limit_words(error.check)}. Preview it and confirm it yourself."
                elif isinstance(error, KnownError):
                    text = plain(str(error))
                else:
                    log.error("auto-cleanup of %s failed", name, exc_info=error)
                    text = f"Unexpected error: {error} (details in the log)"
                self.refused.emit(name, text)
                return
            result, refusal = value if value is not None else (None, "no result")
            if result is None:
                self.refused.emit(name, plain(refusal or "refused"))
                return
            log.info("auto-cleanup of %s: %s", name, result.summary_line())  # the seed's line, in the log
            self.cleaned.emit(name, result_sentence(result))

        self.workers.run_task(run, done, name="auto-clean", destructive=True)
