"""Past runs for the history view and ``mediaclean history``."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog, display_path

MB = 1_000_000  # SI (SPEC section 4)


def list_runs(catalog: Catalog, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs first: id, plan_id, kind, started_by, started_at, ended_at (UTC ISO-8601),
    status, mode, deleted_count, freed_bytes, deleted_size_mb, failed_count, skipped_count,
    summary, and the names of the projects the run touched."""
    return _runs(catalog, "1", (), limit)


def _runs(catalog: Catalog, where: str, args: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
    rows = catalog.conn.execute(f"SELECT * FROM runs WHERE {where} ORDER BY id DESC LIMIT ?",
                                (*args, int(limit))).fetchall()
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


def unseen_automatic_runs(catalog: Catalog, limit: int = 100) -> list[dict[str, Any]]:
    """Runs started by auto-cleanup or the schedule that the user has not seen yet (newest first), as
    :func:`list_runs` entries: what the window announces until seen (F2)."""
    return _runs(catalog, "started_by IN ('auto', 'schedule') AND seen_at IS NULL AND status != 'running'", (), limit)


def mark_runs_seen(catalog: Catalog, run_ids: list[int]) -> None:
    """The user has seen these runs' announcements."""
    from .catalog import iso

    catalog.conn.executemany("UPDATE runs SET seen_at = ? WHERE id = ? AND seen_at IS NULL",
                             [(iso(), i) for i in run_ids])
