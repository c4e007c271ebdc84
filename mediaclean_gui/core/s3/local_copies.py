"""F3's local side: deleting the local copy of a proved upload through the one guarded delete path, removing
the folders that left empty, and reconciling an upload run a crash interrupted (the local copy and the queue).

Every local deletion goes through :class:`..delete.GuardedRoot`: the target's form is checked, its folder is
reached without following links or crossing mounts, it is compared by identity with every protected artifact
of every project (a proved file that is — or is a hard link of — a final render, a thumbnail or a database
is kept: invariant 11) and with its plan fingerprint (a file changed since it was hashed is kept: the
uploaded object is the earlier version), and only then unlinked or moved by descriptor to a trash on the
same file system (``trashed``: nothing freed, invariant 16). Deletions are logged with the seed's events
``local_file_deleted`` / ``local_file_not_found`` / ``failed_to_delete_local_file`` (path and size).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ..catalog import Catalog, display_path, from_db_path, to_db_path
from ..delete import GuardedRoot, Located, Removal, open_root
from ..events import log_event, s3_log
from ..plan import PlanItem
from ..run.lifecycle import Exception_, finish_interrupted, record_outcomes
from ..run.model import DeleteMode, ItemOutcome
from ..safety import Protection

#: what happened to one local copy: ``(outcome, detail, freed bytes)``
Deletion = tuple[ItemOutcome, str, int]

DELETED_DETAIL = "deleted after a verified upload"
TRASHED_DETAIL = "moved to the trash after a verified upload"


def expected(item: PlanItem) -> tuple[Any, ...]:
    """The item's plan fingerprint as the guarded delete path compares it (device, inode, size, mtime, kind)."""
    fp = item.fingerprint
    return fp.get("dev"), fp.get("ino"), fp.get("size"), fp.get("mtime_ns"), fp.get("kind")


class LocalCopies:
    """The guarded delete path for one upload run's local copies. Used from one thread at a time (the
    run's deleter thread, then the run's own for the emptied folders); close it when done."""

    def __init__(self, protection: Protection, mode: str) -> None:
        self.protection = protection
        self.mode = mode
        self.roots: dict[str, GuardedRoot | Removal] = {}

    def close(self) -> None:
        for guarded in self.roots.values():
            if isinstance(guarded, GuardedRoot):
                guarded.close()
        self.roots.clear()

    def _guarded(self, root: str) -> GuardedRoot | Removal:
        found = self.roots.get(root)
        if found is None:
            found = self.roots[root] = open_root(root, self.protection, self.mode)
        return found

    def delete(self, items: list[tuple[PlanItem, str]]) -> list[Deletion]:
        """Delete (or trash) the local copies of proved uploads, ``(plan item, object key)`` each; one
        :data:`Deletion` per item, in order. Call only after the proofs are committed (invariant 3). The
        folders reached are held for this call and reached afresh by the next (a folder swapped for a link
        in between is noticed). Never raises for an item's state."""
        held: list[GuardedRoot] = []
        out: list[Deletion] = []
        try:
            for item, key in items:
                try:
                    out.append(self._one(item, key, held))
                except Exception as exc:  # noqa: BLE001 — a bug must not leave the item without an outcome
                    out.append((ItemOutcome.FAILED, f"uploaded and verified, but the local file could not be "
                                                    f"deleted: {exc}", 0))
        finally:
            for guarded in held:
                guarded.release()
        return out

    def _one(self, item: PlanItem, key: str, held: list[GuardedRoot]) -> Deletion:
        guarded = self._guarded(item.root)
        removal: Removal | None
        if isinstance(guarded, GuardedRoot):
            if guarded not in held:
                guarded.hold()
                held.append(guarded)
            located = guarded.locate(item.target)
            if isinstance(located, Located):
                removal = guarded.remove(located.parent_fd, located.name, item.target, expected(item))
                if removal is None:
                    removal = (guarded.default_outcome, "", 0 if guarded.default_outcome is ItemOutcome.TRASHED
                               else item.size)
            else:
                removal = located
        else:
            removal = guarded
        return self._worded(item, key, removal)

    def _worded(self, item: PlanItem, key: str, removal: Removal) -> Deletion:
        """The guarded delete path's answer in an upload's words, logged with the seed's events."""
        outcome, detail, freed = removal
        shown = display_path(item.target)
        if outcome is ItemOutcome.ALREADY_GONE:
            log_event(s3_log, logging.WARNING, "local_file_not_found", file_path=shown, size=item.size)
            return outcome, "uploaded and verified; the local file was already gone", 0
        if outcome is ItemOutcome.FAILED:
            log_event(s3_log, logging.ERROR, "failed_to_delete_local_file", file_path=shown, size=item.size,
                      error=detail)
            return outcome, f"uploaded and verified, but the local file could not be deleted: {detail}", 0
        if outcome is ItemOutcome.SKIPPED:
            if detail == "changed since preview":
                detail = "changed since it was hashed: the uploaded object is the earlier version"
            return outcome, f"{detail}; uploaded and verified, the local file is kept", 0
        log_event(s3_log, logging.INFO, "local_file_deleted", file_path=shown, size=item.size, key=key,
                  mode=self.mode)
        if outcome is ItemOutcome.TRASHED:
            return outcome, TRASHED_DETAIL, 0
        if detail:  # other hard links to the file remain: nothing freed
            return outcome, f"{DELETED_DETAIL}; {detail}", freed
        return outcome, DELETED_DETAIL, freed

    def remove_emptied(self, emptied: dict[str, tuple[str, str]]) -> list[str]:
        """Remove the folders (``folder -> (root, stop folder)``) a run emptied, bottom-up, through the guarded
        delete path (never a folder that holds a protected file, never through a link), stopping below each
        stop folder (an item's output folder: it, its parents and the root are never removed). Returns the
        folders removed."""
        removed: list[str] = []
        by_root: dict[str, dict[str, str]] = {}
        for folder, (root, stop) in emptied.items():
            by_root.setdefault(root, {})[folder] = stop
        for root, folders in by_root.items():
            guarded = self._guarded(root)
            if not isinstance(guarded, GuardedRoot):
                continue
            for folder in sorted(folders, key=lambda p: p.count(os.sep), reverse=True):
                stop = folders[folder]
                current = folder
                while current != stop and current.startswith(stop.rstrip(os.sep) + os.sep):
                    located = guarded.locate(current)
                    if isinstance(located, Located):
                        removal = guarded.remove(located.parent_fd, located.name, current, None, folder=True)
                        outcome = removal[0] if removal is not None else guarded.default_outcome
                    else:
                        outcome = located[0]
                    if outcome is ItemOutcome.ALREADY_GONE:
                        current = os.path.dirname(current)
                        continue
                    if outcome is not ItemOutcome.DELETED:
                        break  # not empty, protected, or not reached safely: it and its parents stay
                    guarded.dirs.forget(os.path.relpath(current, guarded.root).replace(os.sep, "/"))
                    removed.append(display_path(current))
                    log_event(s3_log, logging.INFO, "empty_folder_removed", folder=display_path(current))
                    current = os.path.dirname(current)
        return removed


# ---------------------------------------------------------------- after a crash


def _identity(path: str) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of what is at ``path`` now (a link is not followed), ``None`` when nothing is."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return (-1, -1)  # unreadable: counts as another file, so no only-copy record is dropped
    return st.st_dev, st.st_ino


def reconcile_interrupted_uploads(catalog: Catalog) -> list[int]:
    """Settle every upload run a dead process left ``running`` (registered in
    :data:`..run.lifecycle.RECONCILERS`; caller holds the writer lock). Needs no store: the catalog's
    upload queue holds every proof, committed before any local file went (invariant 3).

    For each item still pending: the planned local file (same ``st_dev``/``st_ino``) still there is
    ``skipped`` (not done) — or ``uploaded``
    when the plan kept local copies and the upload was proved — and an only-copy record this run wrote
    for it just before a deletion that never happened is dropped; a file that is gone after its upload
    was proved is ``deleted`` (``trashed`` in trash mode) and its object stays the only copy; a file gone
    without a proof was not deleted by mediaclean (``already_gone``); another file at the path now is
    ``skipped`` and keeps every only-copy record (the planned file may be gone). Claims of dead workers go back to
    the queue. The run ends ``interrupted``. Returns the run ids.
    """
    from . import queue as uq

    runs = catalog.conn.execute("SELECT r.id, r.mode, r.started_at, p.params FROM runs r "
                                "JOIN plans p ON p.id = r.plan_id WHERE r.kind = 'upload' AND r.status = 'running'"
                                ).fetchall()
    if not runs:
        return []
    uq.release_stale_claims(catalog)
    fixed = []
    for run in runs:
        run_id, started_at = run["id"], run["started_at"]
        remote_id = json.loads(run["params"]).get("remote_id")
        gone_outcome = ItemOutcome.TRASHED if run["mode"] == DeleteMode.TRASH.value else ItemOutcome.DELETED
        last = -1
        while True:
            pending = catalog.conn.execute(
                "SELECT pi.id, pi.target, pi.size, pi.action, pi.fp_dev, pi.fp_ino, u.id AS upload_id, u.status, "
                "u.key, u.verified_at FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
                "LEFT JOIN uploads u ON u.remote_id = ? AND u.path = pi.target "
                "WHERE ri.run_id = ? AND ri.outcome = 'pending' AND ri.plan_item_id > ? ORDER BY ri.plan_item_id "
                "LIMIT 2000",
                (remote_id, run_id, last)).fetchall()
            if not pending:
                break
            updates: list[Exception_] = []
            with catalog.transaction() as conn:
                for item in pending:
                    path = from_db_path(item["target"])
                    proved = item["status"] in ("verified", "deleted_local") and bool(item["verified_at"])
                    here = _identity(path)
                    if here is not None and here != (item["fp_dev"], item["fp_ino"]):
                        # another file took the path: the planned one may be gone, its object the only copy
                        updates.append((ItemOutcome.SKIPPED, "not done: the run was interrupted, and another file "
                                                             "is at this path now", 0, item["id"]))
                    elif here is not None:
                        if item["upload_id"] is not None and item["status"] == "verified":
                            # recorded as the only copy just before a deletion that never happened
                            conn.execute("DELETE FROM only_copies WHERE remote_id = ? AND key = ? AND path = ? "
                                         "AND local_deleted_at >= ?",
                                         (remote_id, item["key"], to_db_path(path), started_at))
                        if proved and item["action"] == "upload" and item["verified_at"] >= started_at:
                            updates.append((ItemOutcome.UPLOADED, "uploaded and verified before the run was "
                                                                  "interrupted; the local copy is kept", 0, item["id"]))
                        else:
                            updates.append((ItemOutcome.SKIPPED, "not done: the run was interrupted", 0, item["id"]))
                    elif proved:
                        freed = item["size"] if gone_outcome is ItemOutcome.DELETED else 0
                        detail = (TRASHED_DETAIL if gone_outcome is ItemOutcome.TRASHED else DELETED_DETAIL) + \
                            " (settled after the run was interrupted)"
                        updates.append((gone_outcome, detail, freed, item["id"]))
                    else:
                        updates.append((ItemOutcome.ALREADY_GONE, "gone after the run was interrupted, before its "
                                                                  "upload was proved (not deleted by mediaclean)", 0,
                                        item["id"]))
                record_outcomes(catalog, run_id, updates)  # the same transaction as the only copies dropped
            last = pending[-1]["id"]
        result = finish_interrupted(catalog, run_id)
        log_event(s3_log, logging.WARNING, "run_reconciled", run_id=run_id, summary=result.summary)
        fixed.append(run_id)
    uq.settle_verified_gone(catalog)  # proved rows whose local file is gone: deleted_local, only copies
    return fixed


__all__ = ["DELETED_DETAIL", "TRASHED_DETAIL", "Deletion", "LocalCopies", "expected",
           "reconcile_interrupted_uploads"]
