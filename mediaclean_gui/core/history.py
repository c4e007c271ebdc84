"""Past runs for the history view and ``mediaclean history``."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog, display_path

MB = 1_000_000  # SI (SPEC section 4)


def list_runs(catalog: Catalog, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs first: id, plan_id, kind, started_by, started_at, ended_at (UTC ISO-8601),
    status, mode, deleted_count, freed_bytes, deleted_size_mb, failed_count, skipped_count,
    summary, and the names of the projects the run touched."""
    rows = catalog.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (int(limit),)).fetchall()
    out = []
    for row in rows:
        names = [
            r[0]
            for r in catalog.conn.execute(
                "SELECT DISTINCT p.name FROM plan_items pi JOIN projects p ON p.id = pi.project_id "
                "WHERE pi.plan_id = ? ORDER BY p.name",
                (row["plan_id"],),
            )
        ]
        entry = {k: row[k] for k in row.keys() if k != "pid"}
        entry["deleted_size_mb"] = round(row["freed_bytes"] / MB, 2)
        entry["projects"] = names
        restored = catalog.conn.execute("SELECT ifnull(sum(restored_count), 0), ifnull(sum(restored_bytes), 0) "
                                        "FROM restores WHERE run_id = ?", (row["id"],)).fetchone()
        entry["restored_count"], entry["restored_bytes"] = int(restored[0]), int(restored[1])
        out.append(entry)
    return out


def run_items(catalog: Catalog, run_id: int) -> list[dict[str, Any]]:
    """Every item of a run with its outcome (``deleted``, ``already_gone``, ``failed``, ``skipped``, ``pending``)."""
    rows = catalog.conn.execute(
        "SELECT pi.id, pi.action, pi.target, pi.size, pi.role, pi.project_id, ri.outcome, ri.detail, ri.freed_bytes "
        "FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ? ORDER BY pi.seq",
        (run_id,),
    ).fetchall()
    return [
        {
            "item_id": r["id"],
            "action": r["action"],
            "target": display_path(r["target"]),
            "size": r["size"],
            "role": r["role"],
            "project_id": r["project_id"],
            "outcome": r["outcome"],
            "detail": r["detail"],
            "freed_bytes": r["freed_bytes"],
        }
        for r in rows
    ]
