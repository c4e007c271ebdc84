"""Invariant 14, the keep-list: what the user left out of a plan, kept back as "kept by you" in every
later plan (automatic ones included) until the user puts it back."""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass

from .catalog import Catalog, display_path, from_db_path, iso, to_db_path

#: The plan group of items the keep-list keeps back (the window shows it as its own group).
KEPT_BY_YOU = "Kept by you"


@dataclass(frozen=True)
class KeepEntry:
    """One remembered choice: ``path`` relative to ``root`` (POSIX), or a glob when ``pattern``.
    ``project_id`` is ``None`` for a temp root's entries."""

    id: int
    project_id: int | None
    root: str
    path: str
    pattern: bool
    note: str
    created_at: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "project_id": self.project_id, "root": display_path(self.root),
                "path": display_path(self.path), "pattern": self.pattern, "note": self.note,
                "created_at": self.created_at}


def _entry(r: sqlite3.Row) -> KeepEntry:
    return KeepEntry(r["id"], r["project_id"], from_db_path(r["root"]), from_db_path(r["path"]), bool(r["pattern"]),
                     r["note"], r["created_at"])


def keep_entries(catalog: Catalog, *, project_id: int | None = None, root: str | None = None) -> list[KeepEntry]:
    """The keep-list of one project (or of one temp root), oldest first; everything when neither is given."""
    sql = "SELECT * FROM keep_list"
    args: list[object] = []
    where = []
    if project_id is not None:
        where.append("project_id = ?")
        args.append(project_id)
    if root is not None:
        where.append("root = ?")
        args.append(to_db_path(root))
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_entry(r) for r in catalog.conn.execute(sql + " ORDER BY id", args)]


def _relative(root: str, path: str) -> str:
    rel = os.path.relpath(path, root) if os.path.isabs(path) else path
    rel = rel.replace(os.sep, "/").strip("/")
    if not rel or rel == "." or rel.startswith("../") or rel == "..":
        raise ValueError(f"{display_path(path)} is not inside {display_path(root)}")
    return rel


def keep(catalog: Catalog, root: str, path: str, *, project_id: int | None = None, pattern: bool = False,
         note: str = "") -> None:
    """Remember ``path`` (absolute, or relative to ``root``; a glob when ``pattern``) as kept by the user.
    Raises ``ValueError`` for a path outside ``root``."""
    rel = path.strip("/") if pattern else _relative(root, path)
    catalog.conn.execute(
        "INSERT OR IGNORE INTO keep_list(project_id, root, path, pattern, note, created_at) VALUES (?,?,?,?,?,?)",
        (project_id, to_db_path(root), to_db_path(rel), int(pattern), note, iso()))


def put_back(catalog: Catalog, root: str, path: str, *, project_id: int | None = None, pattern: bool = False) -> int:
    """Forget a kept path (or glob); returns how many entries went. Later plans may include it again."""
    rel = path.strip("/") if pattern else _relative(root, path)
    cur = catalog.conn.execute(
        "DELETE FROM keep_list WHERE root = ? AND ifnull(project_id, 0) = ifnull(?, 0) AND path = ? AND pattern = ?",
        (to_db_path(root), project_id, to_db_path(rel), int(pattern)))
    return int(cur.rowcount)


def remove_entry(catalog: Catalog, entry_id: int) -> bool:
    """Forget one keep-list entry by id."""
    return bool(catalog.conn.execute("DELETE FROM keep_list WHERE id = ?", (entry_id,)).rowcount)


class KeepMatcher:
    """Answers "is this path kept by the user?" for one root (and project) while a planner walks it.

    Exact entries keep the path and everything below it; patterns are globs (``*`` does not cross
    ``/``, ``**`` does) on the path relative to the root. Cheap when the list is empty.
    """

    def __init__(self, entries: list[KeepEntry]) -> None:
        self.exact = {e.path for e in entries if not e.pattern}
        self.patterns = [(e.path, re.compile(_glob_regex(e.path))) for e in entries if e.pattern]

    def __bool__(self) -> bool:
        return bool(self.exact or self.patterns)

    def why(self, rel: str) -> str | None:
        """The sentence for a kept path, or ``None``."""
        if self.exact:
            probe = rel
            while True:
                if probe in self.exact:
                    return "kept by you: you left it out of an earlier plan" if probe == rel else \
                        f"kept by you: you keep the folder {display_path(probe)}"
                cut = probe.rfind("/")
                if cut < 0:
                    break
                probe = probe[:cut]
        for text, regex in self.patterns:
            if regex.fullmatch(rel):
                return f"kept by you: it matches your keep pattern {display_path(text)}"
        return None


def _glob_regex(pattern: str) -> str:
    """``*`` and ``?`` within one folder name, ``**`` across folders; everything else literal."""
    from .profiles import _glob

    parts = pattern.split("/")
    out = []
    for n, part in enumerate(parts):
        if part == "**":
            out.append(".*" if n == len(parts) - 1 else "(?:.*/)?")
        else:
            out.append(_glob(part) + ("/" if n < len(parts) - 1 else ""))
    return "".join(out)


def matcher_for(catalog: Catalog, root: str, project_id: int | None) -> KeepMatcher:
    """The keep-list of one project (or temp root) as a :class:`KeepMatcher`."""
    if project_id is not None:
        return KeepMatcher(keep_entries(catalog, project_id=project_id))
    return KeepMatcher([e for e in keep_entries(catalog, root=root) if e.project_id is None])


def remember_selection(catalog: Catalog, plan_id: int, item_ids: list[int], selected: bool) -> None:
    """Invariant 14: items the user leaves out of a plan join their project's (or temp root's) keep-list;
    items put back leave it. A sweep's objects left out are marked protected on their remote instead.
    Called by :func:`core.plan.set_selected` and :func:`core.plan.set_group_selected`."""
    kind = catalog.conn.execute("SELECT kind, params FROM plans WHERE id = ?", (plan_id,)).fetchone()
    if kind is None or not item_ids:
        return
    marks = ",".join("?" * len(item_ids))
    rows = catalog.conn.execute(
        f"SELECT target, root, project_id FROM plan_items WHERE plan_id = ? AND id IN ({marks})",
        (plan_id, *item_ids)).fetchall()
    if kind["kind"] == "sweep":
        import json

        remote_id = json.loads(kind["params"]).get("remote_id")
        prefix = json.loads(kind["params"]).get("prefix") or ""
        for r in rows:
            key = from_db_path(r["target"])
            rel = key[len(prefix):] if prefix and key.startswith(prefix) else key
            if selected:
                catalog.conn.execute("DELETE FROM object_protections WHERE remote_id = ? AND key = ? AND note = ?",
                                     (remote_id, rel, KEPT_BY_YOU))
            else:
                catalog.conn.execute("INSERT OR IGNORE INTO object_protections(remote_id, key, note, created_at) "
                                     "VALUES (?,?,?,?)", (remote_id, rel, KEPT_BY_YOU, iso()))
        return
    for r in rows:
        root, target = from_db_path(r["root"]), from_db_path(r["target"])
        try:
            if selected:
                put_back(catalog, root, target, project_id=r["project_id"])
            else:
                keep(catalog, root, target, project_id=r["project_id"])
        except ValueError:
            continue
