"""Run a stored local plan (cleanup, temp sweep, orphan sweep) exactly, through the one guarded delete path.

The lifecycle (guard, start, journal, finish, reconcile) is :mod:`core.run.lifecycle`'s; this module
only does the items: batches of ~2,000 read from the catalog as plain rows, files removed on a small
pool of threads (``unlinkat`` releases the GIL, and on a disk several removals in flight overlap their
I/O), folders afterwards on this thread, one journal commit per batch.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from .catalog import Catalog, display_path, from_db_path, iso
from .delete import GuardedRoot, Located, Removal, open_root
from .errors import SafetyRefusal
from .events import CancelToken, Progress, fs_log, log_event
from .plan import Plan
from .projects import CleanupStatus, set_cleanup_status
from .protected import gather_protection
from .run.lifecycle import (
    Exception_,
    ItemRow,
    Journal,
    finish_run,
    guard,
    reconcile_interrupted_runs,
    selected_batches,
    start_run,
)
from .run.model import MB, DeleteMode, ItemOutcome, PlanKind, ProjectShare, RunResult, StartedBy
from .safety import Protection
from .space import IN_MEMORY, file_system_type

#: A located item: its guarded root, its parent folder's descriptor, its name there, the plan row.
_Located = tuple[GuardedRoot, int, str, ItemRow]

#: The plan kinds :func:`execute_plan` runs.
LOCAL = (PlanKind.CLEAN, PlanKind.TEMP, PlanKind.ORPHANS)
EXECUTES = tuple(k.value for k in LOCAL)
#: Items read and journalled at once.
BATCH = 2000
#: Threads removing files at once (measured: see tests/benchmarks/README.md), where a plan touches a disk; on a
#: file system in memory one (100,000 files on tmpfs: 3.1-3.3 s on one thread, 3.2-3.5 on two, 3.7-4.3 on four).
THREADS = 4

__all__ = ["BATCH", "EXECUTES", "MB", "RunResult", "THREADS", "execute_plan", "reconcile_interrupted_runs"]


def execute_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = StartedBy.USER.value,
    mode: str | None = None,
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    threads: int | None = None,
    batch: int = 0,
    **_: Any,
) -> RunResult:
    """Execute the stored local plan ``plan_id`` and nothing else (invariant 4).

    The run and every item are in the catalog before the first deletion (invariant 6). Just before
    each item is removed, the guarded delete path checks its form, reaches it without following links
    or crossing mounts, and compares it by identity with every protected artifact and with its
    fingerprint (invariants 2, 4, 11); a changed item is skipped as ``changed since preview``. One
    item's failure is recorded and the run goes on (invariant 5). ``mode`` is ``permanent`` or
    ``trash`` (default: the ``delete_mode`` preference); a move to the trash frees nothing and is
    reported as moved (invariant 16). ``threads`` removes files on that many threads (default
    :data:`THREADS`, or the calling thread alone where every root is in memory); ``batch`` items are
    journalled at once (default :data:`BATCH`).

    Raises :class:`NotFound` (no plan), :class:`ConfigError` (a plan of another kind),
    :class:`SafetyRefusal` (refused, already run, a final output gone or changed since the preview)
    and :class:`~core.run.limits.DeleteLimitExceeded` (above the limits without ``confirm_large``) —
    all before anything is deleted.
    """
    progress = progress or Progress()
    with catalog.writer(f"run plan {plan_id}"):
        reconcile_interrupted_runs(catalog)
        plan = guard(catalog, plan_id, LOCAL, confirm_large=confirm_large)
        mode = mode or str(catalog.pref("delete_mode"))
        _check_finals(plan)
        protection = gather_protection(catalog, plan_id)
        kind = PlanKind(plan.kind)
        run_id = start_run(catalog, plan, started_by, mode)
        roots, planned_projects = _roots_and_projects(catalog, plan_id)
        project_ids = _project_ids(planned_projects, plan) if kind is PlanKind.CLEAN else []
        for pid in project_ids:
            set_cleanup_status(catalog, pid, CleanupStatus.RUNNING)
        result = RunResult(run_id, plan.id, kind, mode=mode)
        total = catalog.conn.execute(
            "SELECT count(*), ifnull(sum(size), 0) FROM plan_items WHERE plan_id = ? AND selected = 1",
            (plan_id,)).fetchone()
        progress.update(done=0, total=int(total[0]), bytes_done=0, bytes_total=int(total[1]), phase="deleting")
        threads = threads or _delete_threads(roots)
        runner = _Runner(catalog, run_id, protection, mode, progress, cancel, threads, batch or BATCH)
        try:
            cancelled = runner.run(plan_id)
        finally:
            runner.close()
        return _finish(catalog, result, project_ids, cancelled, started_by)


def _check_finals(plan: Plan) -> None:
    """The final outputs the plan was made against are still the same complete files (invariants 1, 13)."""
    for pre in plan.preconditions:
        path = pre.get("path")
        if not path:
            continue
        fp = pre.get("fingerprint")
        try:
            st = os.lstat(path)
            same = fp is None or (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == \
                (fp["dev"], fp["ino"], fp["size"], fp["mtime_ns"])
            present = os.path.isfile(path) and not os.path.islink(path)
        except OSError:
            same = present = False
        if not (same and present):
            what = pre.get("what", "required file")
            state = "is missing now" if not present else "changed since the preview"
            raise SafetyRefusal(f"Refused: the {what} {display_path(path)} {state}; nothing was deleted. "
                                f"Preview again.")


def _roots_and_projects(catalog: Catalog, plan_id: int) -> tuple[list[str], set[int]]:
    """The workspace roots and the project ids of a stored plan's items (one pass over them)."""
    roots: set[bytes] = set()
    projects: set[int] = set()
    for root, project_id in catalog.conn.execute(
            "SELECT DISTINCT root, project_id FROM plan_items WHERE plan_id = ?", (plan_id,)):
        roots.add(root)
        if project_id is not None:
            projects.add(int(project_id))
    return [from_db_path(r) for r in sorted(roots)], projects


def _delete_threads(roots: list[str]) -> int:
    """:data:`THREADS`, or one when every root of the plan is on a file system in memory (``tmpfs``, as ``/tmp`` is
    on Debian 13): there nothing waits on a disk, and more threads only take turns at the GIL."""
    return 1 if roots and all(file_system_type(root) in IN_MEMORY for root in roots) else THREADS


def _project_ids(planned: set[int], plan: Plan) -> list[int]:
    """The projects a cleanup plan is about: those of its items and of its preconditions."""
    return sorted(planned | {int(p["project_id"]) for p in plan.preconditions if "project_id" in p})


class _Runner:
    """Removes the selected items of one plan batch by batch (see the module docstring)."""

    def __init__(self, catalog: Catalog, run_id: int, protection: Protection, mode: str, progress: Progress,
                 cancel: CancelToken | None, threads: int, batch: int) -> None:
        self.catalog = catalog
        self.batch = batch
        self.journal = Journal(catalog, run_id)
        self.protection = protection
        self.mode = mode
        self.progress = progress
        self.cancel = cancel
        self.threads = max(1, threads)
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="mediaclean-delete") \
            if self.threads > 1 else None
        self.roots: dict[str, GuardedRoot | Removal] = {}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for guarded in self.roots.values():
            if isinstance(guarded, GuardedRoot):
                guarded.close()
        self.journal.close()

    @property
    def default(self) -> ItemOutcome:
        return ItemOutcome.TRASHED if self.mode == DeleteMode.TRASH.value else ItemOutcome.DELETED

    def _root(self, root: str) -> GuardedRoot | Removal:
        found = self.roots.get(root)
        if found is None:
            found = self.roots[root] = open_root(root, self.protection, self.mode)
        return found

    def run(self, plan_id: int) -> bool:
        """Every batch in plan order; ``True`` when cancelled (the rest stays for :meth:`Journal.skip_rest`).

        Pipelined on this thread's side only: while the pool removes one batch's files, the previous
        batch is settled in the journal and the next one is read from the catalog. The batch being
        removed is begun in the journal before its first removal, and it is the only one whose folder
        descriptors are open (they are released before the next batch is located)."""
        batches = selected_batches(self.catalog, plan_id, self.batch)
        batch = next(batches, None)
        unsettled: tuple[list[ItemRow], list[Exception_]] | None = None
        try:
            while batch is not None:
                if self.cancel is not None and self.cancel.cancelled:
                    break
                self.journal.begin(batch[0].id, batch[-1].id)
                held, exceptions, files, folders = self._locate(batch)
                try:
                    removing = self._submit(files)
                    try:
                        if unsettled is not None:  # the pool works meanwhile
                            previous, unsettled = unsettled, None
                            self._settle(*previous)
                        upcoming = next(batches, None)
                    finally:  # whatever happened here, the pool is done with the batch's descriptors first
                        wait(removing)
                    exceptions += [e for part in removing for e in part.result()]
                    exceptions += self._folders(folders)
                finally:
                    for guarded in held:
                        guarded.release()
                unsettled = batch, exceptions
                self._done(batch)
                batch = upcoming
        finally:  # the last batch; or, when something failed, the batch before it (its outcomes are known)
            if unsettled is not None:
                self._settle(*unsettled)
        if batch is not None:
            self.journal.skip_rest("cancelled before it was reached")
        return bool(self.cancel is not None and self.cancel.cancelled)

    def _settle(self, batch: list[ItemRow], exceptions: list[Exception_]) -> None:
        self.journal.settle(batch[0].id, batch[-1].id, self.default, exceptions,
                            "moved to the trash" if self.default is ItemOutcome.TRASHED else "")

    def _done(self, batch: list[ItemRow]) -> None:
        """Progress: ``batch`` has been acted on (its journal entry follows while the next batch is removed)."""
        self.progress.done += len(batch)
        self.progress.bytes_done += sum(i.size for i in batch)
        self.progress.current = display_path(batch[-1].target)
        if self.progress.callback is not None:
            self.progress.callback(self.progress)

    def _locate(self, batch: list[ItemRow]) -> tuple[list[GuardedRoot], list[Exception_], list[_Located],
                                                     list[_Located]]:
        """Reach every item of ``batch`` (this thread): the roots held, the items settled already (refused,
        gone), the files and the folders to remove."""
        exceptions: list[Exception_] = []
        files: list[_Located] = []
        folders: list[_Located] = []
        held: list[GuardedRoot] = []
        last_root, guarded_or_gone = "", None
        try:
            for item in batch:
                if item.root != last_root:
                    last_root, guarded_or_gone = item.root, self._root(item.root)
                    if isinstance(guarded_or_gone, GuardedRoot) and guarded_or_gone not in held:
                        guarded_or_gone.hold()
                        held.append(guarded_or_gone)
                guarded = guarded_or_gone
                if not isinstance(guarded, GuardedRoot):
                    assert guarded is not None
                    exceptions.append((*guarded, item.id))
                    continue
                located = guarded.locate(item.target)
                if not isinstance(located, Located):
                    exceptions.append((*located, item.id))
                    continue
                (folders if item.action == "delete_dir" else files).append((guarded, *located, item))
        except BaseException:
            for guarded in held:
                guarded.release()
            raise
        return held, exceptions, files, folders

    def _folders(self, folders: list[_Located]) -> list[Exception_]:
        """Remove the batch's folders (after every file of the batch, deepest first: plan order)."""
        out: list[Exception_] = []
        for guarded, fd, name, item in folders:
            removal = guarded.remove(fd, name, item.target, _expected(item), folder=True) or \
                (ItemOutcome.DELETED, "folder removed", 0)
            if removal[0] is ItemOutcome.DELETED:
                guarded.dirs.forget(os.path.relpath(item.target, guarded.root).replace(os.sep, "/"))
            out.append((*removal, item.id))
        return out

    def _submit(self, files: list[_Located]) -> list[Future[list[Exception_]]]:
        """Start removing ``files`` on the pool, in contiguous chunks (one per thread); a few are removed
        here and now. Each future's result is its chunk's exceptions."""
        if self.pool is None or len(files) < 64:
            done: Future[list[Exception_]] = Future()
            done.set_result(self._chunk(files))
            return [done]
        # in inode order, as GNU rm's fts orders big folders: neighbours in the inode table (and, for files
        # written one after another, on the disk) are freed together, each thread in its own stretch of it.
        # 100,000 files synced to ext4 on 4 threads, batches of 2,000 in plan order against the same sorted:
        # medians 10.2 against 8.6 s, sorted faster in 5 of 6 alternated pairs (tests/benchmarks/README.md)
        files.sort(key=_inode)
        size = -(-len(files) // self.threads)
        return [self.pool.submit(self._chunk, files[n:n + size]) for n in range(0, len(files), size)]

    def _chunk(self, files: list[_Located]) -> list[Exception_]:
        """Remove a contiguous run of files (one pool thread); only the exceptions come back."""
        out: list[Exception_] = []
        cancel = self.cancel
        for guarded, fd, name, item in files:
            if cancel is not None and cancel.cancelled:
                out.append((ItemOutcome.SKIPPED, "cancelled before it was reached", 0, item.id))
                continue
            found = guarded.remove(fd, name, item.target, _expected(item))
            if found is not None:
                out.append((*found, item.id))
        return out


def _inode(located: _Located) -> int:
    """The inode number the plan saw for a located file (0 where it has no fingerprint)."""
    return located[3].ino or 0


def _expected(item: ItemRow) -> tuple[Any, ...] | None:
    """The item's fingerprint as :class:`~core.delete.Expected` values (a plain slice of the row)."""
    if item.kind is None:
        return None  # a plan from before fingerprints had columns: never after schema 7's migration
    return item[5:10]


def _finish(catalog: Catalog, result: RunResult, project_ids: list[int], cancelled: bool,
            started_by: str) -> RunResult:
    finish_run(catalog, result, cancelled=cancelled, summarize=_summary)
    now = iso()
    if started_by == StartedBy.USER.value:  # the user watched it: nothing to announce
        catalog.conn.execute("UPDATE runs SET seen_at = ? WHERE id = ?", (now, result.run_id))
    for pid in project_ids:
        share = result.by_project.get(pid, ProjectShare())
        status = CleanupStatus.FAILED if share.failed else CleanupStatus.PENDING if cancelled and share.cancelled \
            else CleanupStatus.COMPLETE
        set_cleanup_status(catalog, pid, status, now)
        result.project_status[pid] = status.value
        if started_by == StartedBy.USER.value:  # F2: the user has reviewed a cleanup of this project
            catalog.conn.execute("UPDATE projects SET reviewed_at = ? WHERE id = ?", (now, pid))
        fs_log.info("Cleanup: Deleted %d files, freed %.2f MB", share.deleted, share.freed_bytes / MB,
                    extra={"event": "cleanup_summary", "fields": {"project_id": pid}})
    log_event(fs_log, logging.INFO, "run_finished", run_id=result.run_id, status=result.status.value,
              summary=result.summary)
    return result


def _summary(result: RunResult) -> str:
    """Seed 002's line, ``Cleanup: Deleted {count} files, freed {space} MB`` (SI MB), for a permanent run;
    a trash run says what it moved, since it freed nothing."""
    if result.kind is not PlanKind.CLEAN:
        return result.sentence()
    line = f"Cleanup: Deleted {result.deleted_count} files, freed {result.freed_bytes / MB:.2f} MB"
    if result.trashed_count:
        line += f"; moved {result.trashed_count} files ({result.trashed_bytes / MB:.2f} MB) to the trash"
    return line

