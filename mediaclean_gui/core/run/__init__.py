"""THE run lifecycle for every kind of run (local cleanup, temp and orphan sweeps, uploads, bucket sweeps):
the vocabulary (:mod:`.model`), the delete limits (:mod:`.limits`) and guard → start → journal → finish →
reconcile (:mod:`.lifecycle`)."""

from .limits import DeleteLimitExceeded, DeleteLimits, LimitCheck, check_limits, require_within_limits
from .model import (
    MB,
    Counts,
    DeleteMode,
    ItemOutcome,
    PlanKind,
    PlanStatus,
    RunResult,
    RunStatus,
    StartedBy,
    counts_sentence,
)

__all__ = [
    "MB", "Counts", "DeleteLimitExceeded", "DeleteLimits", "DeleteMode", "ItemOutcome", "LimitCheck", "PlanKind",
    "PlanStatus", "RunResult", "RunStatus", "StartedBy", "check_limits", "counts_sentence", "require_within_limits",
]
