"""The plan flow: preview (a planner in a worker) → the preview pane → Confirm (asked once more) → the run.

One :class:`PlanFlow` per window. It owns the current plan and the task making or
running it; the window gives it the pane, the status bar progress and the
question boxes (``host.ask_confirmation``, which tests replace).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..core.catalog import Catalog
from ..core.events import Cancelled, CancelToken, Progress
from ..core.plan import set_selected
from ..core.run import Counts, DeleteLimitExceeded, counts_sentence
from ..core.views import PlanSummary, load_preview, plan_project_ids, run_outcomes
from .preview import PreviewPane
from .progress import RateMeter, progress_line
from .stale import StaleWatch
from .wording import limit_question, limit_words, size_text, uploaded_sentence
from .workers import Task, TaskContext, Workers

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger("mediaclean.gui")

MakePlan = Callable[[Catalog, Progress, CancelToken], int]


def sweep_words(versioning: str) -> str:
    """What Confirm says happens to a sweep's objects, by the bucket's versioning state (SPEC F4)."""
    if versioning in ("Enabled", "Suspended"):
        return ("deleted from the bucket — but the bucket is versioned, so each delete only adds a delete marker: "
                "the data stays stored (and billed) as noncurrent versions until a lifecycle rule expires them "
                "(Remote → Lifecycle rules…)")
    if versioning == "unknown":
        return ("deleted from the bucket (its versioning state could not be read: on a versioned bucket a delete "
                "only adds a delete marker)")
    return "deleted from the bucket for good (it is not versioned)"


def result_sentence(result: Any, objects: bool = False) -> str:
    """A run result in the window's one sentence for counts: ``RunResult.sentence()`` (the core's
    ``counts_sentence``), after the uploaded files for an upload."""
    if hasattr(result, "sentence"):
        sentence = str(result.sentence())
    else:  # an executor that keeps its own result type (uploads): the same sentence from its numbers
        sentence = counts_sentence(Counts(
            deleted=int(getattr(result, "deleted_count", 0) or 0),
            freed_bytes=int(getattr(result, "freed_bytes", 0) or 0),
            skipped=len(getattr(result, "skipped", []) or []), failed=len(getattr(result, "failed", []) or []),
            noun="object" if objects else "file"))
    uploaded = getattr(result, "uploaded", None)
    if uploaded is None and hasattr(result, "details"):
        uploaded = result.details.get("uploaded")
    if uploaded is not None:
        nbytes = int(getattr(result, "bytes_uploaded", 0) or sum(int(u.get("size", 0)) for u in uploaded))
        return uploaded_sentence(len(uploaded), nbytes, sentence)
    return sentence


def _allowing_broad(make: MakePlan, catalog: Catalog, progress: Progress, cancel: CancelToken) -> int:
    """``make`` with broad roots allowed: the user confirmed the folder (``core.roots.broad_roots_allowed``)."""
    from ..core.roots import broad_roots_allowed

    with broad_roots_allowed():
        return make(catalog, progress, cancel)


class PlanFlow(QObject):
    """Preview, Confirm and the run, for every plan kind (clean, temp, orphans, upload, sweep)."""

    #: A plan has been loaded into the preview pane (its id).
    previewReady = Signal(int)
    #: A run ended: the executor's result, or the error.
    runFinished = Signal(object)
    #: A run touched projects (their ids; ``None``: maybe all): rescan and reload.
    projectsTouched = Signal(object)

    def __init__(self, host: MainWindow, catalog: Catalog, workers: Workers, pane: PreviewPane) -> None:
        super().__init__(host)
        self.host = host
        self.catalog = catalog
        self.workers = workers
        self.pane = pane
        self.current_plan_id: int | None = None
        self.current_title = ""
        self.active_task: Task | None = None
        self.running = False
        self._run_started = 0.0
        self.rate = RateMeter()
        #: How the shown plan was made (``None`` for a stored plan): what Refresh preview runs again.
        self.make_plan: MakePlan | None = None
        self.pane.model.on_toggle = self._store_selection
        self.pane.model.on_sort = self.resort
        pane.confirmButton.clicked.connect(self.confirm)
        pane.cancelButton.clicked.connect(self.cancel)
        pane.staleNotice.refreshButton.clicked.connect(lambda: self.refresh())
        self.stale_watch = StaleWatch(catalog, workers, self.confirmable_plan, self)
        self.stale_watch.checked.connect(self._stale_checked)

    # ------------------------------------------------------------ preview
    def preview(self, make_plan: MakePlan, title: str) -> Task | None:
        """Run a planner ``make_plan(catalog, progress, cancel) -> plan_id`` in a worker, then show the plan."""
        if self.running:
            self.host.say("A run is in progress; wait for it or cancel it first.")
            return None
        if self.active_task is not None:
            self.active_task.cancel()
        self.current_plan_id = None
        self.current_title = title
        self.make_plan = make_plan
        self.stale_watch.watch(False)
        self.pane.show_busy(title, "Making the plan (a dry run: nothing is deleted)…")
        by, descending = self.pane.sort_choice()

        def work(ctx: TaskContext) -> PlanSummary:
            plan_id = make_plan(self.catalog, ctx.progress, ctx.cancel)
            return load_preview(self.catalog, plan_id, by, descending)

        task = self.workers.run_task(work, None, name="plan", on_progress=self.host.on_progress)
        task.finished.connect(lambda summary, error: self._plan_ready(task, title, summary, error))
        self.active_task = task
        self.pane.cancelButton.setEnabled(True)
        return task

    def show_stored_plan(self, plan_id: int, title: str) -> Task:
        """Load a stored plan (e.g. a scheduled orphan report) into the preview pane, in a worker."""
        if self.active_task is not None and not self.running:
            self.active_task.cancel()
        self.current_title = title
        self.make_plan = None
        by, descending = self.pane.sort_choice()
        task = self.workers.run_task(lambda ctx: load_preview(self.catalog, plan_id, by, descending), None, name="plan")
        task.finished.connect(lambda summary, error: self._plan_ready(task, title, summary, error))
        self.active_task = task
        return task

    def _plan_ready(self, task: Task, title: str, summary: PlanSummary | None, error: BaseException | None) -> None:
        if self.active_task is not task:
            return  # a newer preview replaced this one
        self.active_task = None
        self.host.progress_done()
        self.pane.cancelButton.setEnabled(False)
        if error is not None:
            if isinstance(error, Cancelled):
                self.pane.show_empty("Preview cancelled: nothing was planned or deleted.")
                return
            make = self.make_plan
            if make is not None and self.host.ask_broad_root(error, "Use it anyway"):
                self.preview(lambda cat, progress, cancel: _allowing_broad(make, cat, progress, cancel), title)
                return
            self.pane.show_empty("The plan could not be made.")
            self.host.show_error(error)
            return
        assert summary is not None
        self.current_plan_id = summary.plan.id
        self.pane.show_plan(title, summary)
        self.host.say(self.pane.model.total_line() or "Plan ready", 8000)
        self.host.plan_shown(summary)
        confirmable = self.confirmable_plan() is not None
        self.stale_watch.watch(confirmable)
        if confirmable and self.make_plan is None:
            self.stale_watch.check()  # a stored plan may be old already
        self.previewReady.emit(summary.plan.id)

    # ------------------------------------------------------------ staleness
    def confirmable_plan(self) -> int | None:
        """The id of the plan shown while it could still be confirmed (ready, not run here, nothing running)."""
        summary = self.pane.model.summary
        if (summary is None or self.running or summary.plan.status != "ready" or self.pane.model.outcome_run
                is not None or self.current_plan_id != summary.plan.id):
            return None
        return summary.plan.id

    def check_stale(self) -> Task | None:
        """Ask (in a worker) whether the shown plan still matches the catalog and the disk."""
        return self.stale_watch.check()

    def _stale_checked(self, plan_id: int, result: Any) -> None:
        if plan_id != self.confirmable_plan() or not result.stale:
            return  # once stale, a preview stays stale until it is made again
        self.pane.set_stale(list(result.reasons), can_refresh=self.refresher() is not None)
        self.stale_watch.watch(False)
        self.host.say("The preview is out of date: refresh it before you confirm.", 10000)

    def refresher(self) -> MakePlan | None:
        """What makes the shown plan again: the planner it came from, else one from the plan's own
        parameters (``plans.replanner``), ``None`` when there is none."""
        if self.make_plan is not None:
            return self.make_plan
        summary = self.pane.model.summary
        if summary is None:
            return None
        from .plans import replanner

        return replanner(summary.plan)

    def refresh(self, note: str = "") -> Task | None:
        """Make the shown preview again (Refresh preview): a new dry run with the same planner; ``note`` is
        said under the new plan (e.g. what a keep-list edit changed)."""
        make = self.refresher()
        if make is None:
            return None
        task = self.preview(make, self.current_title or "Preview")
        if task is not None and note:
            task.finished.connect(lambda summary, error: self.pane.set_message(note) if summary is not None
                                  and self.pane.model.summary is summary else None)
        return task

    def resort(self, by: str, descending: bool) -> Task | None:
        """Order the shown plan's rows by name or size again (read in a worker; boxes and outcomes stay)."""
        summary = self.pane.model.summary
        if summary is None:
            return None
        plan_id = summary.plan.id

        def done(fresh: PlanSummary | None, error: BaseException | None) -> None:
            current = self.pane.model.summary
            if error is not None:
                self.host.show_error(error)
            elif fresh is not None and current is not None and current.plan.id == plan_id:
                self.pane.show_sorted(fresh)

        return self.workers.run_task(lambda ctx: load_preview(self.catalog, plan_id, by, descending), done,
                                     name="sort plan")

    def _store_selection(self, item_ids: list[int], selected: bool) -> None:
        plan_id = self.current_plan_id
        if plan_id is None:
            return
        # through the deleting pool: a Confirm right after is queued behind it
        self.workers.run_task(lambda ctx: set_selected(self.catalog, plan_id, item_ids, selected),
                              lambda _, e: self.host.show_error(e) if e else None, name="select", destructive=True)

    # ------------------------------------------------------------ confirm and run
    def confirm(self) -> None:
        """Confirm: ask once more (and again above the delete limits), then run the plan."""
        model = self.pane.model
        summary = model.summary
        if summary is None or self.current_plan_id is None or self.running or not self.pane.confirmButton.isEnabled():
            return
        plan = summary.plan

        # the mode the total line names is the mode the run uses (read with the plan, passed to the executor)
        mode = summary.delete_mode
        how = ("moved to the trash: nothing is freed until you empty it (Clean › Empty trash…), and until then "
               "History › Restore from trash puts them back" if summary.trash else "deleted permanently")
        if plan.kind == "upload":
            how = "uploaded; local copies go only once the store proves it holds the same bytes"
        elif plan.kind == "sweep":
            how = sweep_words(str(plan.params.get("versioning", "")))
        text = (f"{model.total_line()}.\n\nThe selected items will be {how}. "
                f"Everything kept back stays where it is.\n\nRun this plan now?")
        if not self.host.ask_confirmation(text, title=self.current_title or "Confirm"):
            self.host.say("Not run: nothing was deleted.", 5000)
            return
        from ..core.staleness import plan_staleness

        # while the question was open an automatic run may have changed these files: the catalog's part of
        # the check (runs and the plan's state, no disk walk) once more, right before the run
        late = plan_staleness(self.catalog, plan.id, check_disk=False)
        if late.stale:
            self.pane.set_stale(list(late.reasons), can_refresh=self.refresher() is not None)
            self.pane.set_message("Not run: the preview went out of date while you were asked. Nothing was deleted.")
            return
        from ..core.run.limits import check_limits

        check = check_limits(self.catalog, plan.id)  # invariant 8: the same check the executor makes
        confirm_large = False
        if check.exceeded:
            if not self.host.ask_confirmation(limit_question(check), title="Above the delete limit"):
                self.pane.set_message(f"Not run: {limit_words(check)}. Nothing was deleted.")
                return
            confirm_large = True
        self.run_plan(plan.id, confirm_large, mode if plan.kind in ("clean", "temp", "orphans") else None)

    def run_plan(self, plan_id: int, confirm_large: bool = False, mode: str | None = None) -> Task:
        """Execute a stored plan in the deleting pool with progress and Cancel; ``mode`` (``permanent`` or
        ``trash``, local plans only) is the one the confirmation named (default: the preference)."""
        self.running = True
        self._run_started = time.monotonic()
        self.rate.reset()
        self.pane.set_running(True)
        self.pane.set_message("Running…")
        self.host.progress_busy()

        def work(ctx: TaskContext) -> Any:
            from ..core.runner import execute_any

            options = {"mode": mode} if mode else {}
            return execute_any(self.catalog, plan_id, started_by="user", confirm_large=confirm_large,
                               progress=ctx.progress, cancel=ctx.cancel, **options)

        task = self.workers.run_task(work, None, name="run", destructive=True, on_progress=self.host.on_progress)
        task.finished.connect(lambda result, error: self._run_finished(plan_id, confirm_large, result, error, mode))
        self.active_task = task
        return task

    def cancel(self) -> None:
        """Cancel the plan being made or the run: it stops between items."""
        if self.active_task is not None:
            self.active_task.cancel()
            self.pane.cancelButton.setEnabled(False)
            self.host.say("Cancelling after the current item…")

    def _run_finished(self, plan_id: int, confirm_large: bool, result: Any, error: BaseException | None,
                      mode: str | None = None) -> None:
        self.active_task = None
        self.running = False
        self.stale_watch.watch(False)
        self.host.progress_done()
        self.pane.set_running(False)
        if error is not None:
            if isinstance(error, DeleteLimitExceeded) and not confirm_large:
                # the executor measured more than Confirm did (e.g. items re-ticked meanwhile): ask in our words
                if self.host.ask_confirmation(limit_question(error.check), title="Above the delete limit"):
                    self.run_plan(plan_id, confirm_large=True, mode=mode)
                    return
                self.pane.model.set_read_only(False)
                self.pane.set_running(False)
                self.pane.set_message(f"Not run: {limit_words(error.check)}. Nothing was deleted.")
                self.stale_watch.watch(self.confirmable_plan() is not None)
                self.runFinished.emit(error)
                return
            self.pane.model.set_read_only(False)
            self.pane.set_running(False)
            self.host.show_error(error)
            self.stale_watch.watch(self.confirmable_plan() is not None)
            self.runFinished.emit(error)
            return
        log.info("%s", result.summary_line())  # the seed's own line stays in the log
        summary = self.pane.model.summary
        text = result_sentence(result, objects=bool(summary and summary.objects))
        if result.status == "cancelled":
            text += " · cancelled: the rest was not touched"
        failed = getattr(result, "failed_count", None) or len(getattr(result, "failed", []) or [])
        self.pane.set_message(text + (" (see the marked items)" if failed else ""), error=bool(failed))
        status = getattr(result.status, "value", result.status)  # an enum's word, not "RunStatus.COMPLETE"
        self.pane.summaryLabel.setText(
            f"This plan was run ({status}): each item shows what happened to it; failed and skipped items say "
            f"why. Make a new preview to clean again.")
        self.host.say(text, 15000)
        self._load_outcomes(result.run_id)
        self.after_run(plan_id)
        self.runFinished.emit(result)

    def _load_outcomes(self, run_id: int) -> None:
        """Mark each loaded row with its outcome (read in a worker); rows paged in later read their own."""
        ids = self.pane.model.loaded_item_ids()
        self.pane.model.outcome_run = run_id  # pages loaded from now on read their own

        def done(outcomes: dict[int, tuple[str, str]] | None, error: BaseException | None) -> None:
            if error is not None:
                self.host.show_error(error)
            elif outcomes is not None:
                self.pane.model.set_outcomes(outcomes, run_id)

        self.workers.run_task(lambda ctx: run_outcomes(self.catalog, run_id, ids), done, name="outcomes")

    def after_run(self, plan_id: int | None = None) -> Task:
        """After any run: rescan the projects it touched (all for an automatic run), then reload them."""
        def work(ctx: TaskContext) -> None:
            from ..core.scan import scan_projects

            ids = plan_project_ids(self.catalog, plan_id) if plan_id is not None else None
            if ids != []:
                scan_projects(self.catalog, ids, cancel=ctx.cancel)

        self.host.runs_changed()
        self.check_stale()  # a run of any kind may have changed what the shown preview would do
        return self.workers.run_task(work, lambda _, e: self.host.show_error(e) if e else self.host.refresh_projects(),
                                     name="rescan")

    # ------------------------------------------------------------ progress
    def progress_text(self, snap: dict[str, Any]) -> None:
        """The pane's line under the plan while a plan is made or run (see ``MainWindow.on_progress``)."""
        summary = self.pane.model.summary
        noun = "objects" if summary is not None and summary.objects else "files"
        if self.running:
            bytes_done, bytes_total = int(snap.get("bytes_done") or 0), int(snap.get("bytes_total") or 0)
            rate = self.rate.add(bytes_done) if bytes_total else None
            self.pane.set_current(progress_line(snap, rate, noun))
            if bytes_total:
                self.pane.set_bytes_progress(bytes_done, bytes_total,
                                             f"{size_text(bytes_done)} of {size_text(bytes_total)}"
                                             + (f" · {size_text(int(rate))}/s" if rate else ""))
        elif snap.get("current"):
            self.pane.set_current(progress_line({**snap, "bytes_total": 0, "bytes_done": 0}, None, "items"))
