"""Emptying mediaclean's part of the trash: what its trash-mode runs moved there, and freeing it for good."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, display_path
from .delete import GuardedRoot, Located
from .events import fs_log, log_event
from .protected import gather_protection
from .run.model import MB, ItemOutcome
from .trash import LOCAL_KINDS, _trashed


@dataclass
class TrashContents:
    """What mediaclean's trash-mode runs left in the trash: ``files`` and ``nbytes`` (what emptying frees),
    per run in ``runs`` (``{run_id: (files, bytes)}``)."""

    files: int = 0
    nbytes: int = 0
    runs: dict[int, tuple[int, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"files": self.files, "bytes": self.nbytes, "size_mb": round(self.nbytes / MB, 2),
                "runs": {str(k): {"files": f, "bytes": b} for k, (f, b) in self.runs.items()}}


@dataclass
class EmptyResult:
    """What :func:`empty_trash` did: files removed from the trash, bytes freed, failures (``target``, ``error``)."""

    files: int = 0
    freed_bytes: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def sentence(self) -> str:
        import humanize

        line = f"Emptied {self.files:,} file{'' if self.files == 1 else 's'} from the trash · freed " \
               f"{humanize.naturalsize(self.freed_bytes)}"
        return line + (f" · {len(self.failed)} could not be removed" if self.failed else "")


def _trash_runs(catalog: Catalog, run_ids: list[int] | None) -> list[Any]:
    marks = ",".join("?" * len(LOCAL_KINDS))
    sql = f"SELECT * FROM runs WHERE mode = 'trash' AND kind IN ({marks})"
    args: list[Any] = list(LOCAL_KINDS)
    if run_ids is not None:
        sql += f" AND id IN ({','.join('?' * len(run_ids))})"
        args += run_ids
    return catalog.conn.execute(sql + " ORDER BY id", args).fetchall()


def trash_contents(catalog: Catalog, run_ids: list[int] | None = None) -> TrashContents:
    """What of mediaclean's trash-mode runs (all, or ``run_ids``) is still in the trash, and how much
    emptying it would free (bytes of the files still there)."""
    out = TrashContents()
    for row in _trash_runs(catalog, run_ids):
        files = nbytes = 0
        for item in _trashed(catalog, row):
            if item.entry is None:
                continue
            try:
                size = os.lstat(item.entry.file_path).st_size
            except OSError:
                continue
            files += 1
            nbytes += size
        if files:
            out.runs[int(row["id"])] = (files, nbytes)
            out.files += files
            out.nbytes += nbytes
    return out


def empty_trash(catalog: Catalog, run_ids: list[int] | None = None) -> EmptyResult:
    """Delete for good what mediaclean's trash-mode runs (all, or ``run_ids``) moved to the trash, and
    only that: each file is matched to its run by original path, deletion time and identity, and goes
    through the guarded delete path (its trash folder as the root); its ``.trashinfo`` goes too. The
    runs' freed bytes grow by what was really freed, and their summaries say the trash was emptied."""
    result = EmptyResult()
    with catalog.writer("empty trash"):
        protection = gather_protection(catalog)
        roots: dict[str, GuardedRoot] = {}
        try:
            for row in _trash_runs(catalog, run_ids):
                files = freed = 0
                for item in _trashed(catalog, row):
                    entry = item.entry
                    if entry is None:
                        continue
                    folder = os.path.dirname(entry.file_path)
                    guarded = roots.get(folder)
                    if guarded is None:
                        guarded = roots[folder] = GuardedRoot(folder, protection)
                    located = guarded.locate(entry.file_path)
                    if not isinstance(located, Located):
                        continue
                    try:
                        size = os.stat(located.name, dir_fd=located.parent_fd, follow_symlinks=False).st_size
                    except OSError:
                        continue
                    removal = guarded.remove(located.parent_fd, located.name, entry.file_path, None)
                    if removal is not None and removal[0] is not ItemOutcome.DELETED:
                        if removal[0] is ItemOutcome.FAILED:
                            result.failed.append({"target": display_path(item.target), "error": removal[1]})
                        continue
                    gained = size if removal is None else removal[2]
                    try:
                        os.unlink(entry.info_path)
                    except OSError:
                        pass
                    files += 1
                    freed += gained
                if files:
                    result.files += files
                    result.freed_bytes += freed
                    catalog.conn.execute(
                        "UPDATE runs SET freed_bytes = freed_bytes + ?, summary = summary || ? WHERE id = ?",
                        (freed, f"; the trash was emptied: {files} files, {freed / MB:.2f} MB freed", row["id"]))
        finally:
            for guarded in roots.values():
                guarded.close()
    log_event(fs_log, logging.INFO, "trash_emptied", files=result.files, size=result.freed_bytes,
              failed=len(result.failed))
    return result
