"""Run a stored local plan exactly: journal first, re-check each fingerprint, delete or trash, record."""

from __future__ import annotations

import errno
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from send2trash import send2trash

from .catalog import Catalog, display_path, iso
from .errors import CatalogLocked, ConfigError, SafetyRefusal
from .events import CancelToken, Progress, fs_log, log_event
from .plan import Action, PlanItem, iter_items, load_plan
from .projects import CleanupStatus, set_cleanup_status
from .safety import DeleteLimits, DirFds, UnsafePath, fingerprint_matches, require_confirmation

MB = 1024 * 1024

#: The plan kinds :func:`execute_plan` runs (``core.runner.EXECUTORS`` sends the others elsewhere).
EXECUTES = ("clean", "temp", "orphans")

#: Runs whose items' targets are local paths, which :func:`reconcile_interrupted_runs` settles against the
#: disk (the local plans :func:`execute_plan` runs, and uploads, whose items end by deleting the local copy).
LOCAL_KINDS = ("clean", "temp", "orphans", "upload")


@dataclass
class RunResult:
    """What a run did. Bytes are what was really removed (invariant 7)."""

    run_id: int
    plan_id: int
    status: str
    mode: str
    deleted_count: int = 0
    freed_bytes: int = 0
    already_gone: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    project_status: dict[int, str] = field(default_factory=dict)

    @property
    def deleted_size_mb(self) -> float:
        return round(self.freed_bytes / MB, 2)

    def summary_line(self) -> str:
        """Seed 002 AC-007: ``Cleanup: Deleted {count} files, freed {space} MB``."""
        return f"Cleanup: Deleted {self.deleted_count} files, freed {self.freed_bytes / MB:.2f} MB"

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "plan_id": self.plan_id,
            "status": self.status,
            "mode": self.mode,
            "deleted_count": self.deleted_count,
            "deleted_size_mb": self.deleted_size_mb,
            "freed_bytes": self.freed_bytes,
            "already_gone": self.already_gone,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def execute_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = "user",
    mode: str | None = None,
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> RunResult:
    """Execute the stored plan ``plan_id`` and nothing else (invariant 4).

    The run and every item are written to the catalog before the first
    deletion (invariant 6). Each item's fingerprint is checked again just before
    it is removed; a changed item is skipped as ``changed since preview``. One
    item's failure is recorded and the run goes on (invariant 5). ``mode`` is
    ``permanent`` or ``trash`` (default: the ``delete_mode`` preference).

    Raises :class:`SafetyRefusal` (nothing deleted) when the plan was refused or
    already run, a final output named in its preconditions is gone, or it
    exceeds the delete limits without ``confirm_large`` (invariant 8);
    :class:`NotFound` for an unknown plan.
    """
    progress = progress or Progress()
    with catalog.writer("clean"):
        reconcile_interrupted_runs(catalog)
        plan = load_plan(catalog, plan_id, with_items=False)  # the kept-back list is not needed here
        plan.items = list(iter_items(catalog, plan_id))
        if plan.kind not in EXECUTES:
            raise ConfigError(f"Plan {plan_id} is a {plan.kind} plan: this executor runs local cleanups only "
                              f"({', '.join(EXECUTES)}); nothing was deleted.")
        if plan.status == "refused":
            raise SafetyRefusal(f"Plan {plan_id} was refused ({plan.summary}); nothing was deleted.")
        if plan.status == "executed":
            raise SafetyRefusal(f"Plan {plan_id} has already been run; make a new preview to clean again.")
        prefs = catalog.prefs()
        mode = mode or prefs["delete_mode"]
        chosen = plan.selected_items()
        scope = next((p["scope_bytes"] for p in plan.preconditions if "scope_bytes" in p), 0)
        reason = DeleteLimits.from_prefs(prefs).exceeded(
            sum(1 for i in chosen if i.action is not Action.DELETE_DIR), sum(i.size for i in chosen), scope)
        require_confirmation(reason, confirm_large)
        for pre in plan.preconditions:
            if "path" in pre and not _is_regular(pre["path"]):
                raise SafetyRefusal(
                    f"Refused: the {pre.get('what', 'required file')} {display_path(pre['path'])} is missing now; "
                    f"nothing was deleted. Preview again."
                )
        run_id = _start_run(catalog, plan.id, plan.kind, plan.items, started_by, mode)
        # Only a project cleanup (F1) moves cleanup_status: an orphan sweep must not mark a project cleaned.
        project_ids = sorted({i.project_id for i in plan.items if i.project_id is not None}
                             | {p["project_id"] for p in plan.preconditions if "project_id" in p}) \
            if plan.kind == "clean" else []
        for pid in project_ids:
            set_cleanup_status(catalog, pid, CleanupStatus.RUNNING)
        result = RunResult(run_id, plan.id, "running", mode)
        journal = RunJournal(catalog, run_id)
        roots: dict[str, DirFds] = {}
        progress.update(done=0, total=len(chosen), bytes_done=0, bytes_total=sum(i.size for i in chosen),
                        phase="deleting")
        cancelled = False
        # The run and its items are on disk (synchronous commit above) before the first deletion. The
        # outcomes that follow need not wait for an fsync each: a process crash loses none of them (WAL),
        # and after a power loss the reconcile of the next start re-reads the disk (invariant 6).
        sync = catalog.conn.execute("PRAGMA synchronous").fetchone()[0]
        catalog.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            for item in chosen:
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    break
                outcome, detail, freed = _do_item(item, roots, mode)
                _tally(result, item, outcome, detail, freed)
                journal.record(item, outcome, detail, freed)
                progress.done += 1
                progress.bytes_done += item.size
                progress.current = display_path(item.target)
                if progress.callback is not None:
                    progress.callback(progress)
        finally:
            for dirs in roots.values():
                dirs.close()
            journal.flush()
            catalog.conn.execute(f"PRAGMA synchronous = {int(sync)}")
        if cancelled:
            done_ids = journal.recorded
            rest = [i for i in chosen if i.id not in done_ids]
            for item in rest:
                journal.record(item, "skipped", "cancelled before it was reached", 0)
                result.skipped.append({"target": display_path(item.target), "reason": "cancelled"})
            journal.flush()
        return _finish_run(catalog, result, plan.kind, project_ids, cancelled)


def _is_regular(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _start_run(catalog: Catalog, plan_id: int, kind: str, items: list[PlanItem], started_by: str, mode: str) -> int:
    with catalog.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO runs(plan_id, kind, started_at, started_by, status, mode, pid) VALUES (?,?,?,?, 'running', ?, ?)",
            (plan_id, kind, iso(), started_by, mode, os.getpid()),
        )
        run_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO run_items(run_id, plan_item_id, outcome, detail) VALUES (?, ?, ?, ?)",
            [(run_id, i.id, "pending" if i.selected else "skipped", "" if i.selected else "excluded by the user")
             for i in items],
        )
        conn.execute("UPDATE plans SET status = 'executed' WHERE id = ?", (plan_id,))
    return run_id


def _do_item(item: PlanItem, roots: dict[str, DirFds], mode: str) -> tuple[str, str, int]:
    """Re-check and remove one item: ``(outcome, detail, freed bytes)``; never raises for the item."""
    path = item.target
    try:
        dirs = roots.get(item.root)
        if dirs is None:
            dirs = roots[item.root] = DirFds(item.root)
        parent_fd, name = dirs.parent_of(path)
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "already_gone", "already gone", 0
    except UnsafePath as exc:
        return "skipped", f"not reached safely: {exc}", 0
    except OSError as exc:
        return _failed(item, exc)
    if not fingerprint_matches(item.fingerprint, st):
        return "skipped", "changed since preview", 0
    try:
        if item.action is Action.DELETE_DIR:
            os.rmdir(name, dir_fd=parent_fd)
            dirs.forget(os.path.relpath(path, item.root).replace(os.sep, "/"))
            return "deleted", "folder removed", 0
        if mode == "trash" and item.fingerprint.get("kind") != "link":
            send2trash(path)
            detail = "moved to the trash"
        elif mode == "trash":  # send2trash follows links (a dangling one looks gone); a link holds no data
            os.unlink(name, dir_fd=parent_fd)
            detail = "symbolic link removed (links are not moved to the trash)"
        else:
            os.unlink(name, dir_fd=parent_fd)
            detail = ""
    except FileNotFoundError:
        return "already_gone", "already gone", 0
    except OSError as exc:
        if item.action is Action.DELETE_DIR and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return "skipped", "folder not empty: it holds files that were not in the plan", 0
        return _failed(item, exc)
    except Exception as exc:  # send2trash raises its own errors; the item fails, the run goes on
        return _failed(item, exc)
    if fs_log.isEnabledFor(logging.DEBUG):
        log_event(fs_log, logging.DEBUG, "local_file_deleted", file_path=display_path(path), size=item.size, mode=mode)
    return "deleted", detail, item.size


def _failed(item: PlanItem, exc: BaseException) -> tuple[str, str, int]:
    message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    log_event(fs_log, logging.WARNING, "failed_to_delete_local_file", file_path=display_path(item.target),
              size=item.size, error=message)
    return "failed", message, 0


def _tally(result: RunResult, item: PlanItem, outcome: str, detail: str, freed: int) -> None:
    if outcome == "deleted":
        if item.action is not Action.DELETE_DIR:
            result.deleted_count += 1
        result.freed_bytes += freed
    elif outcome == "already_gone":
        result.already_gone += 1
    elif outcome == "failed":
        result.failed.append({"target": display_path(item.target), "error": detail})
    elif outcome == "skipped":
        result.skipped.append({"target": display_path(item.target), "reason": detail})


class RunJournal:
    """Batches run-item outcomes into the catalog (every ``batch`` items or 0.5 s).

    Shared by the local, upload and sweep executors: the run and its items are
    written before the first action (invariant 6); this records how each went.
    """

    def __init__(self, catalog: Catalog, run_id: int, batch: int = 500) -> None:
        self.catalog = catalog
        self.run_id = run_id
        self.batch = batch
        self.pending: list[tuple[str, str, int, int, int]] = []
        self.recorded: set[int] = set()
        self.last = time.monotonic()

    def record(self, item: PlanItem, outcome: str, detail: str, freed: int) -> None:
        assert item.id is not None
        self.pending.append((outcome, detail, freed, self.run_id, item.id))
        self.recorded.add(item.id)
        if len(self.pending) >= self.batch or time.monotonic() - self.last > 0.5:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.catalog.transaction() as conn:
                conn.executemany(
                    "UPDATE run_items SET outcome = ?, detail = ?, freed_bytes = ? WHERE run_id = ? AND plan_item_id = ?",
                    self.pending,
                )
            self.pending.clear()
        self.last = time.monotonic()


def _finish_run(catalog: Catalog, result: RunResult, kind: str, project_ids: list[int], cancelled: bool) -> RunResult:
    if cancelled:
        result.status = "cancelled"
    elif result.failed:
        result.status = "failed"
    else:
        result.status = "complete"
    summary = result.summary_line() + (" (moved to the trash)" if result.mode == "trash" else "")
    now = iso()
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE runs SET ended_at = ?, status = ?, deleted_count = ?, freed_bytes = ?, failed_count = ?, "
            "skipped_count = ?, summary = ? WHERE id = ?",
            (now, result.status, result.deleted_count, result.freed_bytes, len(result.failed), len(result.skipped),
             summary, result.run_id),
        )
        for pid in project_ids:
            status = _project_outcome(catalog, result.run_id, pid, cancelled)
            set_cleanup_status(catalog, pid, status, now)
            result.project_status[pid] = status.value
    if kind == "clean":
        for pid in project_ids:
            row = catalog.conn.execute(
                "SELECT count(*) AS n, ifnull(sum(ri.freed_bytes), 0) AS b FROM run_items ri "
                "JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ? AND pi.project_id = ? "
                "AND ri.outcome = 'deleted' AND pi.action != 'delete_dir'",
                (result.run_id, pid),
            ).fetchone()
            fs_log.info("Cleanup: Deleted %d files, freed %.2f MB", row["n"], row["b"] / MB,
                        extra={"event": "cleanup_summary", "fields": {"project_id": pid}})
    log_event(fs_log, logging.INFO, "run_finished", run_id=result.run_id, status=result.status, summary=summary)
    return result


def _project_outcome(catalog: Catalog, run_id: int, project_id: int, cancelled: bool) -> CleanupStatus:
    rows = catalog.conn.execute(
        "SELECT ri.outcome, ri.detail FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
        "WHERE ri.run_id = ? AND pi.project_id = ?",
        (run_id, project_id),
    ).fetchall()
    if any(r["outcome"] == "failed" for r in rows):
        return CleanupStatus.FAILED
    if cancelled and any(r["outcome"] in ("pending", "skipped") and r["detail"].startswith("cancelled") for r in rows):
        return CleanupStatus.PENDING
    return CleanupStatus.COMPLETE


def reconcile_on_start(catalog: Catalog) -> list[int]:
    """At start-up (every ``mediaclean`` command, the window): reconcile the runs a dead process
    left ``running`` (invariant 6), so the catalog matches the disk before anything else reads it.

    Cheap when no run is ``running``. Never waits: when another process holds the
    writer lock its runs may be live, so they are left for the next start. Returns the
    reconciled run ids.
    """
    if catalog.conn.execute(
        f"SELECT 1 FROM runs WHERE status = 'running' AND kind IN ({', '.join('?' * len(LOCAL_KINDS))}) LIMIT 1",
        LOCAL_KINDS,
    ).fetchone() is None:
        return []
    try:
        with catalog.writer("reconcile interrupted runs", timeout=0):
            return reconcile_interrupted_runs(catalog)
    except CatalogLocked:
        return []


def reconcile_interrupted_runs(catalog: Catalog) -> list[int]:
    """After a crash (invariant 6): finish every run left ``running`` by a dead process.

    An item whose target is gone is recorded as ``deleted``; one still present
    as ``skipped`` (not done). Caller must hold the writer lock: runs only
    happen under it, so no live run owns such a row. Returns the reconciled run ids.
    """
    # only the runs of this executor: an interrupted sweep's targets are object keys, not paths
    # (core/s3/sweep_run.py reconciles those against the bucket)
    rows = catalog.conn.execute(
        f"SELECT id, kind FROM runs WHERE status = 'running' AND kind IN ({', '.join('?' * len(LOCAL_KINDS))})",
        LOCAL_KINDS,
    ).fetchall()
    fixed = []
    for run in rows:
        run_id = run["id"]
        pending = catalog.conn.execute(
            "SELECT pi.id, pi.target, pi.size, pi.action FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
            "WHERE ri.run_id = ? AND ri.outcome = 'pending'",
            (run_id,),
        ).fetchall()
        updates = []
        for item in pending:
            gone = not os.path.lexists(os.fsdecode(item["target"]))
            if gone:
                freed = 0 if item["action"] == Action.DELETE_DIR.value else item["size"]
                updates.append(("deleted", "gone after the run was interrupted", freed, run_id, item["id"]))
            else:
                updates.append(("skipped", "not done: the run was interrupted", 0, run_id, item["id"]))
        with catalog.transaction() as conn:
            conn.executemany(
                "UPDATE run_items SET outcome = ?, detail = ?, freed_bytes = ? WHERE run_id = ? AND plan_item_id = ?",
                updates,
            )
            totals = conn.execute(
                "SELECT sum(ri.outcome = 'deleted' AND pi.action != 'delete_dir') AS d, "
                "ifnull(sum(ri.freed_bytes), 0) AS b, sum(ri.outcome = 'failed') AS f, sum(ri.outcome = 'skipped') AS s "
                "FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ?",
                (run_id,),
            ).fetchone()
            summary = f"Interrupted; reconciled: {totals['d'] or 0} files deleted, {(totals['b'] or 0) / MB:.2f} MB freed"
            conn.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = ?, deleted_count = ?, freed_bytes = ?, "
                "failed_count = ?, skipped_count = ?, summary = ? WHERE id = ?",
                (iso(), totals["d"] or 0, totals["b"] or 0, totals["f"] or 0, totals["s"] or 0, summary, run_id),
            )
            for prow in conn.execute(
                "SELECT DISTINCT pi.project_id FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
                "WHERE ri.run_id = ? AND pi.project_id IS NOT NULL", (run_id,)
            ).fetchall() if run["kind"] == "clean" else []:
                not_done = conn.execute(
                    "SELECT count(*) FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ? "
                    "AND pi.project_id = ? AND ri.outcome IN ('skipped', 'failed') AND ri.detail != 'excluded by the user'",
                    (run_id, prow[0]),
                ).fetchone()[0]
                set_cleanup_status(catalog, prow[0], CleanupStatus.FAILED if not_done else CleanupStatus.COMPLETE)
        log_event(fs_log, logging.WARNING, "run_reconciled", run_id=run_id, summary=summary)
        fixed.append(run_id)
    return fixed
