"""Does a stored plan still match the catalog and the disk? (The window disables Confirm on a stale preview.)"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .catalog import Catalog
from .delete import Expected


@dataclass(frozen=True)
class Staleness:
    """``stale`` with the ``reasons`` (sentences for the user); ``changed`` of ``checked`` items differ on
    disk from their fingerprint (checked only when asked, and only for local plans)."""

    stale: bool
    reasons: list[str] = field(default_factory=list)
    changed: int = 0
    checked: int = 0


def plan_staleness(catalog: Catalog, plan_id: int, *, check_disk: bool = True, batch: int = 5000) -> Staleness:
    """Whether plan ``plan_id`` no longer describes what Confirm would act on: it was already run; a run
    started since it was made touched its projects or roots (any kind, any starter: an automatic run
    included); or, with ``check_disk``, some of its items are gone or changed on disk (``lstat`` of each,
    ``batch`` at a time — 100,000 items take well under a second on a local disk).

    A stale plan may still be executed safely (every item is re-checked), but what it would do is no
    longer what the preview shows. Unknown plans are stale.
    """
    row = catalog.conn.execute("SELECT kind, status, created_at, params FROM plans WHERE id = ?",
                               (plan_id,)).fetchone()
    if row is None:
        return Staleness(True, ["this preview is gone from the catalog"])
    reasons: list[str] = []
    if row["status"] == "executed":
        reasons.append("this preview has already been run")
    after_run = json.loads(row["params"]).get("after_run")
    since = ("r.id > ?", after_run) if after_run is not None else ("r.started_at >= ?", row["created_at"])
    # a run on the same projects, or (for items of no project: temp sweeps) on the same roots
    touched = catalog.conn.execute(
        f"SELECT r.id, r.started_by, r.kind FROM runs r WHERE r.plan_id != ? AND {since[0]} AND EXISTS ("
        " SELECT 1 FROM plan_items a WHERE a.plan_id = r.plan_id AND (a.project_id IN ("
        "  SELECT DISTINCT project_id FROM plan_items WHERE plan_id = ? AND project_id IS NOT NULL)"
        "  OR a.project_id IS NULL AND a.root IN (SELECT DISTINCT root FROM plan_items WHERE plan_id = ? "
        "  AND project_id IS NULL))) ORDER BY r.id LIMIT 3",
        (plan_id, since[1], plan_id, plan_id)).fetchall()
    for run in touched:
        who = {"auto": "an automatic cleanup", "schedule": "a scheduled run"}.get(run["started_by"], "another run")
        reasons.append(f"{who} (run {run['id']}) has changed these files since this preview was made")
    changed = checked = 0
    if check_disk and row["kind"] != "sweep":
        last = -1
        while True:
            items = catalog.conn.execute(
                "SELECT seq, target, fp_dev, fp_ino, fp_size, fp_mtime_ns, fp_kind FROM plan_items "
                "WHERE plan_id = ? AND seq > ? AND fp_kind IS NOT NULL ORDER BY seq LIMIT ?",
                (plan_id, last, batch)).fetchall()
            if not items:
                break
            for item in items:
                checked += 1
                expected = Expected(item["fp_dev"], item["fp_ino"], item["fp_size"], item["fp_mtime_ns"],
                                    item["fp_kind"])
                try:
                    if not expected.matches(os.lstat(os.fsdecode(item["target"]))):
                        changed += 1
                except OSError:
                    changed += 1
            last = items[-1]["seq"]
        if changed:
            reasons.append(f"{changed:,} of its {checked:,} items changed or went away on disk since it was made")
    return Staleness(bool(reasons), reasons, changed, checked)
