"""The window's edits of the keep-list (invariant 14): which entries keep a plan's "Kept by you" rows, putting
them back, and keeping by pattern (with what a pattern would keep of a plan before it is saved)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .catalog import Catalog, display_path, from_db_path
from .errors import ConfigError
from .keeplist import KEPT_BY_YOU, KeepEntry, KeepMatcher, keep, keep_entries, remove_entry


def _relative(root: str, target: str) -> str | None:
    if not root or not target.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return os.path.relpath(target, root).replace(os.sep, "/")


def _roots(catalog: Catalog, plan_id: int) -> tuple[dict[int, str], str]:
    """``({project id: workspace root}, temp root or "")`` of plan ``plan_id``'s kept-back rows."""
    row = catalog.conn.execute("SELECT params FROM plans WHERE id = ?", (plan_id,)).fetchone()
    temp_root = str(json.loads(row["params"]).get("temp_root") or "") if row is not None else ""
    roots = {int(r[0]): from_db_path(r[1]) for r in catalog.conn.execute(
        "SELECT id, root FROM projects WHERE id IN (SELECT DISTINCT project_id FROM plan_kept WHERE plan_id = ?)",
        (plan_id,))}
    return roots, temp_root


def _entries_of(catalog: Catalog, project_id: int | None, root: str) -> list[KeepEntry]:
    if project_id is not None:
        return keep_entries(catalog, project_id=project_id)
    return [e for e in keep_entries(catalog, root=root) if e.project_id is None]


@dataclass(frozen=True)
class KeptBy:
    """A keep-list entry that keeps some rows of a plan; ``exact`` when it names one of those rows itself (not
    a folder above it, not a pattern: forgetting it puts back that row and nothing else)."""

    entry: KeepEntry
    exact: bool


def entries_keeping(catalog: Catalog, plan_id: int, kept_ids: list[int]) -> list[KeptBy]:
    """The keep-list entries that keep these "Kept by you" rows (``plan_kept`` ids) of plan ``plan_id``: the
    row's own path, a folder above it, or a pattern it matches. Oldest first, each once."""
    if not kept_ids:
        return []
    roots, temp_root = _roots(catalog, plan_id)
    found: dict[int, KeptBy] = {}
    cache: dict[int | None, list[KeepEntry]] = {}
    for start in range(0, len(kept_ids), 500):
        chunk = kept_ids[start:start + 500]
        rows = catalog.conn.execute(
            f"SELECT target, project_id FROM plan_kept WHERE plan_id = ? AND grp = ? AND id IN "
            f"({','.join('?' * len(chunk))})", (plan_id, KEPT_BY_YOU, *chunk)).fetchall()
        for r in rows:
            project_id = r["project_id"]
            root = roots.get(project_id, "") if project_id is not None else temp_root
            rel = _relative(root, from_db_path(r["target"]))
            if rel is None:
                continue
            if project_id not in cache:
                cache[project_id] = _entries_of(catalog, project_id, root)
            for entry in cache[project_id]:
                if KeepMatcher([entry]).why(rel) is None:
                    continue
                exact = not entry.pattern and entry.path == rel
                before = found.get(entry.id)
                found[entry.id] = KeptBy(entry, exact or (before is not None and before.exact))
    return sorted(found.values(), key=lambda k: k.entry.id)


def entry_words(entry: KeepEntry) -> str:
    """One keep-list entry as the window names it: ``the pattern **/*.wav`` or ``.cache/audio/p1/scene-1.mp3``."""
    return f"the pattern {display_path(entry.path)}" if entry.pattern else display_path(entry.path)


def clean_pattern(pattern: str) -> str:
    """A keep pattern as stored: relative to the project's folder, ``/`` separated, no ``./`` in front.

    Raises :class:`ConfigError` for an empty pattern, an absolute one, or one with a ``..`` part."""
    text = pattern.strip().replace(os.sep, "/")
    while text.startswith("./"):
        text = text[2:]
    if not text:
        raise ConfigError("Type a pattern, for example *.wav or .cache/audio/**/*.mp3.")
    if text.startswith("/"):
        raise ConfigError("A pattern is relative to the project's folder: leave out the leading /.")
    if ".." in text.split("/"):
        raise ConfigError("A pattern cannot leave the project's folder (no .. in it).")
    return text.rstrip("/")


@dataclass
class PatternMatch:
    """What a keep pattern matches in one plan: ``count`` planned items of ``nbytes`` bytes it would keep back,
    and up to a few of their paths relative to the project's folder (``examples``)."""

    count: int = 0
    nbytes: int = 0
    examples: list[str] = field(default_factory=list)


def pattern_matches(catalog: Catalog, plan_id: int, pattern: str, *, project_id: int | None = None,
                    examples: int = 5) -> PatternMatch:
    """The items of plan ``plan_id`` (of ``project_id``, or of the plan's temp root when ``None``) that the keep
    pattern ``pattern`` would keep back. Raises :class:`ConfigError` for an unusable pattern."""
    matcher = KeepMatcher([KeepEntry(0, project_id, "", clean_pattern(pattern), True, "", "")])
    out = PatternMatch()
    last = -1
    while True:
        rows = catalog.conn.execute(
            "SELECT seq, target, root, size FROM plan_items WHERE plan_id = ? AND project_id IS ? AND seq > ? "
            "ORDER BY seq LIMIT 2000", (plan_id, project_id, last)).fetchall()
        if not rows:
            break
        for r in rows:
            rel = _relative(from_db_path(r["root"]), from_db_path(r["target"]))
            if rel is not None and matcher.why(rel) is not None:
                out.count += 1
                out.nbytes += int(r["size"])
                if len(out.examples) < examples:
                    out.examples.append(display_path(rel))
        last = rows[-1]["seq"]
    return out


def keep_pattern(catalog: Catalog, pattern: str, *, project_id: int | None = None, root: str = "",
                 note: str = "") -> str:
    """Keep everything matching ``pattern`` in project ``project_id`` (or, without one, in the temp root
    ``root``) in every later plan, until put back; returns the pattern as stored. Raises
    :class:`ConfigError` for an unusable pattern or an unknown project."""
    text = clean_pattern(pattern)
    if project_id is not None:
        row = catalog.conn.execute("SELECT root FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise ConfigError("That project is no longer in the catalog.")
        root = from_db_path(row["root"])
    if not root:
        raise ConfigError("A keep pattern needs a project or a temp folder.")
    with catalog.transaction():
        keep(catalog, root, text, project_id=project_id, pattern=True, note=note)
    return text


def forget_entries(catalog: Catalog, entry_ids: list[int]) -> int:
    """Forget these keep-list entries (by id) in one transaction; returns how many went. Later plans may
    include what they kept again."""
    with catalog.transaction():
        return sum(1 for entry_id in entry_ids if remove_entry(catalog, entry_id))

