"""Read-only queries the window shows (plan summaries and pages, run outcomes, project facts); no Qt here.

Every function reads the catalog on the calling thread's connection and changes
nothing, except :func:`rename_project`, the window's one-line edit of a name.
Sizes are bytes (Python ints), times UTC ISO-8601 text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, from_db_path
from .errors import ConfigError, NotFound
from .keeplist import KEPT_BY_YOU
from .plan import Action, Plan, load_plan
from .profiles import get_profile
from .projects import Project, list_projects

#: ``(project id or None, group key)`` — one group of a plan's items or kept-back items.
GroupKey = tuple[int | None, str]


@dataclass
class GroupInfo:
    """Counters of one group of plan items: one role (``grp``) of one project (``project_id`` ``None``
    for plans without projects, e.g. sweeps). ``files`` leaves out folder removals, like the core."""

    key: str
    count: int
    files: int
    bytes: int
    sel_count: int
    sel_files: int
    sel_bytes: int
    project_id: int | None = None


@dataclass
class KeptInfo:
    """One node of kept-back items: a sweep group's (by prefix), or one project's: what its keep-list keeps
    back (``key`` :data:`~.keeplist.KEPT_BY_YOU`, the "Kept by you" group) or everything else it keeps back
    (``key`` ``None``). ``reasons`` reads ``newer than the retention period (3); …``."""

    key: str | None
    count: int
    bytes: int
    reasons: str
    project_id: int | None = None


@dataclass
class PlanSummary:
    """What the preview needs to show a plan without loading its items (read in a worker)."""

    plan: Plan
    groups: list[GroupInfo]
    project_names: dict[int, str]
    objects: bool
    kept_reasons: dict[str, int] = field(default_factory=dict)
    project_roots: dict[int, str] = field(default_factory=dict)
    project_count: int = 0
    kept: list[KeptInfo] = field(default_factory=list)
    #: Row ids of each group in display order (:func:`plan_orders`), filled by :func:`load_preview`.
    item_order: dict[GroupKey, list[int]] = field(default_factory=dict)
    kept_order: dict[GroupKey, list[int]] = field(default_factory=dict)
    sort: str = "name"
    descending: bool = False
    #: ``trash`` when Confirm would move this local plan's files to the trash (the ``delete_mode`` preference
    #: when the summary was read), else ``permanent``. Uploads and sweeps are always ``permanent`` here.
    delete_mode: str = "permanent"

    @property
    def upload(self) -> bool:
        return self.plan.kind == "upload"

    @property
    def trash(self) -> bool:
        return self.delete_mode == "trash"


def load_summary(catalog: Catalog, plan_id: int) -> PlanSummary:
    """Plan ``plan_id``'s header, its groups by project then role with counts and bytes, its kept-back
    counts, and the project names and roots. Raises :class:`NotFound` for an unknown plan."""
    plan = load_plan(catalog, plan_id, with_items=False)
    conn = catalog.conn
    rows = conn.execute(
        "SELECT project_id, grp, count(*) AS n, sum(action != 'delete_dir') AS files, ifnull(sum(size), 0) AS bytes, "
        "sum(selected) AS sn, sum(selected AND action != 'delete_dir') AS sfiles, "
        "ifnull(sum(CASE WHEN selected THEN size ELSE 0 END), 0) AS sbytes, min(seq) AS first "
        "FROM plan_items WHERE plan_id = ? GROUP BY project_id, grp ORDER BY first",
        (plan_id,),
    ).fetchall()
    groups = [GroupInfo(r["grp"], r["n"], r["files"] or 0, r["bytes"], r["sn"] or 0, r["sfiles"] or 0, r["sbytes"],
                        r["project_id"]) for r in rows]
    first = conn.execute("SELECT action FROM plan_items WHERE plan_id = ? ORDER BY seq LIMIT 1", (plan_id,)).fetchone()
    names: dict[int, str] = {}
    roots: dict[int, str] = {}
    for r in conn.execute("SELECT id, name, root FROM projects"):
        names[r["id"]] = r["name"]
        roots[r["id"]] = from_db_path(r["root"])
    reasons = {r["reason"]: r["n"] for r in conn.execute(
        "SELECT reason, count(*) AS n FROM plan_kept WHERE plan_id = ? GROUP BY reason ORDER BY n DESC", (plan_id,))}
    objects = plan.kind == "sweep" or (first is not None and first["action"] == Action.DELETE_OBJECT.value)
    count = conn.execute(
        "SELECT count(*) FROM (SELECT project_id FROM plan_items WHERE plan_id = ? AND project_id IS NOT NULL "
        "UNION SELECT project_id FROM plan_kept WHERE plan_id = ? AND project_id IS NOT NULL)",
        (plan_id, plan_id)).fetchone()[0]
    kept: list[KeptInfo] = []
    if plan.kept_count:
        sweep = plan.kind == "sweep"
        # local plans: by project, and what the keep-list keeps back ("Kept by you") is a group of its own;
        # sweeps keep by top-level prefix and reason, like their items
        column, key_sql = ("grp", "grp") if sweep else ("project_id", f"CASE WHEN grp = '{KEPT_BY_YOU}' THEN grp "
                                                                      f"ELSE '' END")
        for row in conn.execute(
                f"SELECT {column} AS k, {key_sql} AS g, count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_kept "
                f"WHERE plan_id = ? GROUP BY {column}, {key_sql} ORDER BY min(id)", (plan_id,)).fetchall():
            why = "; ".join(f"{r['reason']} ({r['n']})" for r in conn.execute(
                f"SELECT reason, count(*) AS n FROM plan_kept WHERE plan_id = ? AND {column} IS ? AND {key_sql} = ? "
                f"GROUP BY reason ORDER BY n DESC", (plan_id, row["k"], row["g"])))
            if sweep:
                kept.append(KeptInfo(str(row["k"]), int(row["n"]), int(row["b"]), why))
            else:
                kept.append(KeptInfo(row["g"] or None, int(row["n"]), int(row["b"]), why, row["k"]))
        if not sweep:
            kept.sort(key=lambda k: k.key != KEPT_BY_YOU)  # in each project, "Kept by you" comes first
    mode = str(catalog.pref("delete_mode")) if plan.kind in ("clean", "temp", "orphans") else "permanent"
    return PlanSummary(plan, groups, names, objects, reasons, roots, int(count), kept, delete_mode=mode)


# ---------------------------------------------------------------- the order of a plan's rows

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """A sort key that puts ``scene-2`` before ``scene-10``: digit runs compare as numbers, the rest
    case-insensitively (``("scene-", 2, ".mp3")``)."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if n % 2 else p for n, p in enumerate(parts))


class Sort:
    """How the preview orders the rows of each group: by name (natural order) or by size."""

    NAME = "name"
    SIZE = "size"


def _natural_text(target: bytes | str) -> str:
    """:func:`natural_key` as one string SQLite compares byte by byte: digit runs zero-padded to 20."""
    text = os.fsdecode(target).casefold() if isinstance(target, bytes) else target.casefold()
    return _DIGITS.sub(lambda m: m.group(1).zfill(20), text)


def plan_orders(catalog: Catalog, plan_id: int, by: str = Sort.NAME,
                descending: bool = False) -> tuple[dict[GroupKey, list[int]], dict[GroupKey, list[int]]]:
    """The row ids of every group of plan ``plan_id`` in display order: ``(items, kept)``, each
    ``{(project id, group): [row id, …]}``. Item groups are keyed by ``(project_id, grp)``; kept-back
    rows by ``(project_id, "")`` for local plans and ``(None, grp)`` for sweeps, like :func:`load_summary`.

    ``by`` is :attr:`Sort.NAME` (natural order of the path, ties by plan order) or :attr:`Sort.SIZE`
    (bytes, ties by name). SQLite sorts (``ORDER BY`` on a natural-order key), so a worker sorting
    100,000 rows never holds the GIL for the whole sort and the window's thread keeps running.
    """
    plan = load_plan(catalog, plan_id, with_items=False)
    conn = catalog.conn
    conn.create_function("mc_natural", 1, _natural_text, deterministic=True)
    way = "DESC" if descending else "ASC"
    order = f"size {way}, mc_natural(target) {way}" if by == Sort.SIZE else f"mc_natural(target) {way}"

    def grouped(sql: str, key_of: Any) -> dict[GroupKey, list[int]]:
        out: dict[GroupKey, list[int]] = {}
        for r in conn.execute(sql, (plan_id,)):
            out.setdefault(key_of(r), []).append(int(r[0]))
        return out

    items = grouped(f"SELECT id, project_id, grp FROM plan_items WHERE plan_id = ? ORDER BY {order}, seq",
                    lambda r: (r[1], r[2]))
    sweep = plan.kind == "sweep"
    kept = grouped(f"SELECT id, project_id, grp FROM plan_kept WHERE plan_id = ? ORDER BY {order}, id",
                   (lambda r: (None, r[2])) if sweep else (lambda r: (r[1], KEPT_BY_YOU if r[2] == KEPT_BY_YOU
                                                                       else "")))
    return items, kept


@dataclass
class ItemRow:
    """One plan item as the preview shows it (no fingerprint: the executor reads its own)."""

    id: int
    action: Action
    target: str
    root: str
    size: int
    role: str
    rule: str
    project_id: int | None
    group: str
    selected: bool


@dataclass(frozen=True)
class KeptRow:
    """One kept-back row as the preview shows it: ``reason`` is the plan's reason text."""

    id: int
    target: str
    size: int
    role: str
    reason: str
    detail: str
    project_id: int | None
    group: str


_ACTIONS = {a.value: a for a in Action}
_ITEM_COLUMNS = "id, action, target, root, size, role, rule, project_id, grp, selected"
_KEPT_COLUMNS = "id, target, size, role, reason, detail, project_id, grp"


def _rows_by_ids(catalog: Catalog, table: str, columns: str, ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in catalog.conn.execute(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", chunk):
            found[int(row[0])] = row
    return found


def load_preview(catalog: Catalog, plan_id: int, by: str = "name", descending: bool = False) -> PlanSummary:
    """:func:`load_summary` with the order of every group's rows (:func:`plan_orders`): all the preview
    reads in a worker before it shows a plan."""
    summary = load_summary(catalog, plan_id)
    summary.item_order, summary.kept_order = plan_orders(catalog, plan_id, by, descending)
    summary.sort, summary.descending = by, descending
    return summary


def items_by_ids(catalog: Catalog, ids: list[int]) -> list[ItemRow]:
    """The plan items with these row ids, in the order given (primary-key lookups, 500 at a time)."""
    found = _rows_by_ids(catalog, "plan_items", _ITEM_COLUMNS, ids)
    roots: dict[bytes, str] = {}
    out = []
    for i in ids:
        r = found.get(i)
        if r is None:
            continue
        root = roots.get(r[3])
        if root is None:
            root = roots[r[3]] = from_db_path(r[3])
        out.append(ItemRow(int(r[0]), _ACTIONS[r[1]], from_db_path(r[2]), root, int(r[4]), str(r[5]), str(r[6]),
                           r[7], str(r[8]), bool(r[9])))
    return out


def kept_by_ids(catalog: Catalog, ids: list[int]) -> list[KeptRow]:
    """The kept-back rows with these row ids, in the order given."""
    found = _rows_by_ids(catalog, "plan_kept", _KEPT_COLUMNS, ids)
    return [KeptRow(int(r[0]), from_db_path(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]), r[6], str(r[7]))
            for r in (found.get(i) for i in ids) if r is not None]


def run_outcomes(catalog: Catalog, run_id: int, item_ids: list[int]) -> dict[int, tuple[str, str]]:
    """``{plan item id: (outcome, detail)}`` of run ``run_id`` for these items (primary-key lookups)."""
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in catalog.conn.execute(
                f"SELECT plan_item_id, outcome, detail FROM run_items WHERE run_id = ? AND plan_item_id IN ({marks})",
                (run_id, *chunk)):
            out[int(r[0])] = (str(r[1]), str(r[2]))
    return out


# ---------------------------------------------------------------- runs and plans


def total_reclaimed(catalog: Catalog) -> int:
    """Bytes freed by every run in the catalog (``runs.freed_bytes``: only what was really removed)."""
    return int(catalog.conn.execute("SELECT ifnull(sum(freed_bytes), 0) FROM runs").fetchone()[0])


def plan_project_ids(catalog: Catalog, plan_id: int) -> list[int]:
    """The projects plan ``plan_id`` has items of."""
    return [int(r[0]) for r in catalog.conn.execute(
        "SELECT DISTINCT project_id FROM plan_items WHERE plan_id = ? AND project_id IS NOT NULL", (plan_id,))]


def has_unfinished_runs(catalog: Catalog) -> bool:
    """Whether a run is still marked ``running`` (a crash left it, or another process runs it)."""
    return catalog.conn.execute("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1").fetchone() is not None


@dataclass(frozen=True)
class BucketSnapshot:
    """When the stored bucket usage of a remote was listed (``None`` when never), with its object count."""

    taken_at: str | None
    as_of: str | None
    objects: int


def bucket_snapshot(catalog: Catalog, remote_id: int) -> BucketSnapshot:
    """The stored usage snapshot's time, age instant and object count for remote ``remote_id``."""
    row = catalog.conn.execute(
        "SELECT max(taken_at), max(as_of), ifnull(sum(objects), 0) FROM bucket_usage WHERE remote_id = ?",
        (remote_id,)).fetchone()
    return BucketSnapshot(row[0], row[1], int(row[2]))


# ---------------------------------------------------------------- projects


@dataclass(frozen=True)
class ProjectRow:
    """A project as the window's table shows it. ``final_missing``: its layout has a final render and the
    last scan found none (so a cleanup would refuse it); ``auto``: auto-cleanup in effect for it;
    ``name_key``: :func:`natural_key` of its name (made here, in the worker, not while the table sorts);
    ``review``: why it awaits its first review (F2, ``core.auto.check_eligibility``'s sentence), ``""``
    when it does not."""

    project: Project
    auto: bool
    final_missing: bool
    name_key: tuple[Any, ...] = ()
    review: str = ""


def review_reason(catalog: Catalog, project: Project, prefs: dict[str, Any], auto: bool) -> str:
    """Why ``project`` waits for the user's first confirmed cleanup before auto-cleanup may touch it (F2), or
    ``""``. Reads no disk: the eligibility check answers before it looks at the final render."""
    if not project.awaiting_review:
        return ""
    if not auto:
        return ("awaiting your first review: its final render was already there when it was added (auto-cleanup "
                "is off for it now anyway)")
    from .auto import check_eligibility

    return check_eligibility(catalog, project, prefs, 0.0).reason


def project_rows(catalog: Catalog) -> list[ProjectRow]:
    """Every project with its table facts, in three queries whatever the number of projects."""
    from .projects import auto_cleanup_effective

    prefs = catalog.prefs()
    projects = list_projects(catalog)
    finals = {int(r[0]): int(r[1]) for r in catalog.conn.execute(
        "SELECT project_id, files FROM role_sizes WHERE role = 'final'")}
    has_final_rule: dict[str, bool] = {}
    out = []
    for p in projects:
        if p.profile not in has_final_rule:
            try:
                has_final_rule[p.profile] = get_profile(p.profile).final is not None
            except NotFound:
                has_final_rule[p.profile] = False
        missing = has_final_rule[p.profile] and p.scanned_at is not None and not finals.get(p.id)
        auto = auto_cleanup_effective(catalog, p, prefs)
        review = review_reason(catalog, p, prefs, auto) if p.awaiting_review else ""
        out.append(ProjectRow(p, auto, missing, natural_key(p.name), review))
    return out


def rename_project(catalog: Catalog, project_id: int, name: str) -> None:
    """Give project ``project_id`` a new display name (its files and folder are not touched).

    Raises :class:`ConfigError` for an empty name and :class:`NotFound` for an unknown project."""
    name = name.strip()
    if not name:
        raise ConfigError("A project needs a name.")
    with catalog.writer("project rename"):
        cur = catalog.conn.execute("UPDATE projects SET name = ? WHERE id = ?", (name, project_id))
    if cur.rowcount == 0:
        raise NotFound(f"No project {project_id}.")


__all__ = [
    "BucketSnapshot", "GroupInfo", "GroupKey", "ItemRow", "KeptInfo", "KeptRow", "PlanSummary", "ProjectRow", "Sort",
    "bucket_snapshot", "has_unfinished_runs", "items_by_ids", "kept_by_ids", "load_preview", "load_summary",
    "natural_key", "plan_orders", "plan_project_ids", "project_rows", "rename_project", "review_reason", "run_outcomes",
    "total_reclaimed",
]
