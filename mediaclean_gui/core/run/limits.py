"""Invariant 8, once for every kind of plan: the delete limits that Confirm and every executor ask."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog
from ..errors import NotFound, SafetyRefusal
from .model import PlanKind


@dataclass(frozen=True)
class DeleteLimits:
    """Plans above these need an explicit second confirmation (invariant 8).

    ``max_count`` items (files or objects); ``max_share`` of what was scanned (bytes for local plans,
    objects for sweeps). **0 means no limit** for the count, and 1.0 no limit for the share — the same
    meaning for every kind of plan, the preferences and ``--max-delete`` alike.
    """

    max_count: int
    max_share: float

    @classmethod
    def from_prefs(cls, prefs: dict[str, Any], max_delete: int | None = None) -> DeleteLimits:
        """From the ``max_delete_count`` and ``max_delete_share`` preferences; ``max_delete`` (``--max-delete``)
        replaces the count when given."""
        count = int(prefs["max_delete_count"]) if max_delete is None else int(max_delete)
        return cls(max(0, count), min(1.0, max(0.0, float(prefs["max_delete_share"]))))


@dataclass(frozen=True)
class LimitCheck:
    """The answer of :func:`check_limits`: what the plan deletes against the limits.

    ``count`` items out of ``scope`` (bytes scanned for local plans, objects scanned for sweeps; 0 when
    unknown); ``measure`` what the share compares (bytes of the selected items, or their count).
    ``exceeded`` is ``"count"``, ``"share"`` or ``""``.
    """

    count: int
    measure: int
    scope: int
    limits: DeleteLimits
    noun: str
    exceeded: str = ""

    @property
    def share(self) -> float:
        return self.measure / self.scope if self.scope else 0.0

    def sentence(self) -> str:
        """What is exceeded, in words (no command-line syntax), e.g. ``the plan deletes 12,000 files,
        more than the limit of 10,000``; empty when nothing is."""
        nouns = f"{self.noun}s"
        if self.exceeded == "count":
            return f"the plan deletes {self.count:,} {nouns}, more than the limit of {self.limits.max_count:,}"
        if self.exceeded == "share":
            what = "of the space scanned" if self.noun == "file" else f"of the {self.scope:,} {nouns} scanned"
            return (f"the plan deletes {100 * self.share:.0f}% {what}, more than the limit of "
                    f"{100 * self.limits.max_share:.0f}%")
        return ""


class DeleteLimitExceeded(SafetyRefusal):
    """A plan above the delete limits was not confirmed a second time; nothing was deleted.

    ``check`` says which limit and by how much, so the window and the command line each word
    what to do in their own terms (no matching of this message).
    """

    def __init__(self, check: LimitCheck) -> None:
        super().__init__(f"Refused: {check.sentence()}. Nothing was deleted. Review the plan, then confirm it "
                         f"a second time or raise the limit.")
        self.check = check


def check_limits(catalog: Catalog, plan_id: int, *, max_delete: int | None = None) -> LimitCheck:
    """Measure stored plan ``plan_id``'s selected items against the delete limits (preferences
    ``max_delete_count``/``max_delete_share``, or ``max_delete`` for the count). Counted in SQL, so a
    plan of a million items costs one query. Raises :class:`NotFound` for an unknown plan."""
    row = catalog.conn.execute("SELECT kind, params, preconditions FROM plans WHERE id = ?", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"No plan {plan_id}. Make a new one with a dry run.")
    kind = PlanKind(row["kind"])
    limits = DeleteLimits.from_prefs(catalog.prefs(), max_delete)
    if kind is PlanKind.SWEEP:
        count = catalog.conn.execute("SELECT count(*) FROM plan_items WHERE plan_id = ? AND selected = 1",
                                     (plan_id,)).fetchone()[0]
        stats = json.loads(row["params"]).get("stats", {})
        measure, scope = int(count), int(stats.get("total_files_scanned", 0))
    else:
        action = "= 'upload_then_delete'" if kind is PlanKind.UPLOAD else "!= 'delete_dir'"
        found = catalog.conn.execute(
            f"SELECT count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_items WHERE plan_id = ? AND selected = 1 "
            f"AND action {action}", (plan_id,)).fetchone()
        count, measure = int(found["n"]), int(found["b"])
        scope = next((int(p["scope_bytes"]) for p in json.loads(row["preconditions"]) if "scope_bytes" in p), 0)
    exceeded = ""
    if limits.max_count and count > limits.max_count:
        exceeded = "count"
    elif limits.max_share < 1.0 and scope > 0 and measure / scope > limits.max_share:
        exceeded = "share"
    return LimitCheck(int(count), measure, scope, limits, kind.noun, exceeded)


def require_within_limits(check: LimitCheck, confirmed: bool) -> None:
    """Raise :class:`DeleteLimitExceeded` when ``check`` exceeds a limit and the plan was not confirmed
    a second time."""
    if check.exceeded and not confirmed:
        raise DeleteLimitExceeded(check)
