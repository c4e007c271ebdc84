"""The vocabulary of runs: plan kinds, plan and run states, item outcomes, the one result type and the
one sentence that says what a plan will do or a run did."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import humanize

#: SI megabyte (SPEC section 4: 1 MB = 1,000,000 bytes, as ``humanize.naturalsize`` shows them).
MB = 1_000_000
#: failed/skipped entries a result keeps in memory; the catalog's run items hold all of them.
KEEP_DETAILS = 200


class PlanKind(str, enum.Enum):
    """What a plan does; each kind has one executor (``core.run.executors``)."""

    CLEAN = "clean"      # project cleanup after the final render
    TEMP = "temp"        # orphaned render temp folders
    ORPHANS = "orphans"  # files in output folders nothing claims
    UPLOAD = "upload"    # upload, verify, then delete the local copy
    SWEEP = "sweep"      # bucket retention sweep

    @property
    def local(self) -> bool:
        """Items are local paths (every kind but the sweep, whose items are object keys)."""
        return self is not PlanKind.SWEEP

    @property
    def noun(self) -> str:
        return "object" if self is PlanKind.SWEEP else "file"


class PlanStatus(str, enum.Enum):
    BUILDING = "building"
    READY = "ready"
    REFUSED = "refused"
    EXECUTED = "executed"


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class ItemOutcome(str, enum.Enum):
    """How one plan item ended (SPEC section 1)."""

    PENDING = "pending"
    DELETED = "deleted"            # removed for good (bytes freed, unless other hard links remain)
    TRASHED = "trashed"            # moved to a trash on the same file system: nothing freed (invariant 16)
    ALREADY_GONE = "already_gone"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPLOADED = "uploaded"          # uploaded and verified; the plan kept the local copy


class StartedBy(str, enum.Enum):
    USER = "user"
    AUTO = "auto"
    SCHEDULE = "schedule"


class DeleteMode(str, enum.Enum):
    PERMANENT = "permanent"
    TRASH = "trash"
    DELETE_MARKER = "delete_marker"  # a sweep on a versioned bucket: data stays as noncurrent versions


@dataclass
class Counts:
    """What a plan will do or a run did, in numbers. Bytes are bytes; ``noun`` is ``file`` or ``object``."""

    deleted: int = 0
    trashed: int = 0
    already_gone: int = 0
    skipped: int = 0
    failed: int = 0
    freed_bytes: int = 0
    trashed_bytes: int = 0
    noun: str = "file"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def counts_sentence(counts: Counts, *, planned: bool = False, kept: int | None = None) -> str:
    """The one sentence for counts, used by the preview, results, history and run details alike.

    Planned: ``Will delete 152 files · 1.2 GB · 3 kept`` (``Will move 152 files to the trash · …`` in trash
    mode). Done: ``Deleted 150 files · freed 1.2 GB · 2 skipped · 1 failed``; a trash run says ``Moved 150
    files to the trash (1.2 GB, nothing freed yet)``. Sizes in SI units.
    """
    noun = counts.noun
    parts: list[str]
    if planned:
        if counts.trashed and not counts.deleted:
            parts = [f"Will move {_n(counts.trashed, noun)} to the trash", humanize.naturalsize(counts.trashed_bytes)]
        else:
            parts = [f"Will delete {_n(counts.deleted, noun)}", humanize.naturalsize(counts.freed_bytes)]
    else:
        parts = []
        if counts.deleted or not counts.trashed:
            parts.append(f"Deleted {_n(counts.deleted, noun)}")
            parts.append(f"freed {humanize.naturalsize(counts.freed_bytes)}")
        if counts.trashed:
            moved = f"{'moved' if parts else 'Moved'} {_n(counts.trashed, noun)} to the trash"
            parts.append(f"{moved} ({humanize.naturalsize(counts.trashed_bytes)}, nothing freed yet)")
        if counts.already_gone:
            parts.append(f"{counts.already_gone:,} already gone")
    if counts.skipped:
        parts.append(f"{counts.skipped:,} skipped")
    if counts.failed:
        parts.append(f"{counts.failed:,} failed")
    if kept is not None:
        parts.append(f"{kept:,} kept")
    return " · ".join(parts)


@dataclass(frozen=True)
class ProjectShare:
    """One project's part of a run, counted with the run's totals at the finish: ``deleted`` files (folders
    not counted), ``freed_bytes``, ``failed`` items and ``cancelled`` items (left pending or skipped by a
    cancel)."""

    deleted: int = 0
    freed_bytes: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass
class RunResult:
    """What any run did (local cleanup, temp or orphan sweep, upload, bucket sweep).

    ``deleted_count`` counts files (or objects) removed for good and ``freed_bytes`` what that really
    freed (invariant 7); ``trashed_count``/``trashed_bytes`` what was moved to the trash (freed nothing,
    invariant 16). Folders removed are not counted as files. ``failed``/``skipped`` hold the first
    :data:`KEEP_DETAILS` entries (``target`` and ``error``/``reason``); the counts hold all of them.
    ``details`` carries a kind's own JSON fields (an upload's ``uploaded`` list, a sweep's seed 004
    fields); ``summary`` is the line stored with the run and logged.
    """

    run_id: int
    plan_id: int
    kind: PlanKind
    status: RunStatus = RunStatus.RUNNING
    mode: str = DeleteMode.PERMANENT.value
    deleted_count: int = 0
    trashed_count: int = 0
    freed_bytes: int = 0
    trashed_bytes: int = 0
    already_gone: int = 0
    failed_count: int = 0
    skipped_count: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    project_status: dict[int, str] = field(default_factory=dict)
    by_project: dict[int, ProjectShare] = field(default_factory=dict)  # filled by the finish; not in the JSON
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    @property
    def deleted_size_mb(self) -> float:
        """Freed space in SI megabytes, two decimals (the seeds' ``deleted_size_mb``)."""
        return round(self.freed_bytes / MB, 2)

    @property
    def counts(self) -> Counts:
        return Counts(self.deleted_count, self.trashed_count, self.already_gone, self.skipped_count,
                      self.failed_count, self.freed_bytes, self.trashed_bytes, self.kind.noun)

    def sentence(self) -> str:
        """:func:`counts_sentence` of this run."""
        return counts_sentence(self.counts)

    def summary_line(self) -> str:
        return self.summary or self.sentence()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "plan_id": self.plan_id,
            "kind": self.kind.value,
            "status": self.status.value,
            "mode": self.mode,
            "deleted_count": self.deleted_count,
            "deleted_size_mb": self.deleted_size_mb,
            "freed_bytes": self.freed_bytes,
            "trashed_count": self.trashed_count,
            "trashed_bytes": self.trashed_bytes,
            "trashed_size_mb": round(self.trashed_bytes / MB, 2),
            "already_gone": self.already_gone,
            "failed_count": self.failed_count,
            "skipped_count": self.skipped_count,
            "failed": self.failed,
            "skipped": self.skipped,
            "summary": self.summary_line(),
            "sentence": self.sentence(),
            "notes": self.notes,
        }
        out.update(self.details)
        return out
