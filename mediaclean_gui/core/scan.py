"""Scan workspaces: sizes per role per project from one walk per workspace, stored in the catalog."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, iso
from .events import CancelToken, Progress
from .folder_totals import FolderTotals
from .profiles import Classified, Matcher, Role, get_profile
from .projects import Project, all_artifacts, get_project, list_projects
from .readiness import ReadinessCache
from .walk import walk


_UNKNOWN: Any = object()


@dataclass
class ScanResult:
    """``projects`` as stored after the scan; ``seconds`` of wall time."""

    projects: list[Project]
    files_scanned: int
    seconds: float


def scan_projects(
    catalog: Catalog,
    project_ids: list[int] | None = None,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ScanResult:
    """Rescan sizes (bytes, by role) of some projects, or of all.

    Projects sharing a workspace root and profile are scanned in one
    ``os.scandir`` walk of the profile's folders; links are not followed and
    mounts not crossed. A folder that a folder pattern covers is measured whole
    by GNU ``find`` in its own process while the walk goes on
    (:mod:`core.folder_totals`). ``reclaimable_bytes`` is what project cleanup
    would free now: 0 while the final output is missing. Raises ``Cancelled``
    (a ``find`` still running is stopped).
    """
    started = time.monotonic()
    progress = progress or Progress()
    projects = list_projects(catalog) if project_ids is None else [get_project(catalog, i) for i in project_ids]
    groups: dict[tuple[str, str], list[Project]] = defaultdict(list)
    for project in projects:
        groups[(project.root, project.profile)].append(project)

    everyone = {p.id: p for p in list_projects(catalog)}
    shared_refs: dict[str, set[int]] = defaultdict(set)
    for art in all_artifacts(catalog, [Role.SHARED_CACHE]):
        shared_refs[art.path].add(art.project_id)

    sizes: dict[int, dict[str, list[int]]] = {p.id: defaultdict(lambda: [0, 0]) for p in projects}
    reclaim: dict[int, int] = {p.id: 0 for p in projects}
    readiness = ReadinessCache(catalog)
    ready = {p.id for p in everyone.values() if readiness.of(p).ready}
    files = 0
    progress.update(done=0, total=len(groups), phase="scanning")
    with FolderTotals() as totals:  # covered folders are measured on another core while the walk goes on
        files += _walk_groups(groups, sizes, reclaim, shared_refs, ready, totals, progress, cancel)
        files += totals.finish()

    for pid, roles in sizes.items():  # intermediates are what a cleanup frees once the final exists
        if pid in ready:
            reclaim[pid] += roles[Role.INTERMEDIATE.value][0] if Role.INTERMEDIATE.value in roles else 0

    now = iso()
    with catalog.writer("scan"), catalog.transaction() as conn:
        for project in projects:
            roles = sizes[project.id]
            conn.execute("DELETE FROM role_sizes WHERE project_id = ?", (project.id,))
            conn.executemany(
                "INSERT INTO role_sizes(project_id, role, bytes, files) VALUES (?, ?, ?, ?)",
                [(project.id, role, b, f) for role, (b, f) in roles.items()],
            )
            conn.execute(
                "UPDATE projects SET total_bytes = ?, reclaimable_bytes = ?, file_count = ?, scanned_at = ? WHERE id = ?",
                (sum(b for b, _ in roles.values()), reclaim[project.id], sum(f for _, f in roles.values()), now,
                 project.id),
            )
    stored = [get_project(catalog, p.id) for p in projects]
    return ScanResult(stored, files, time.monotonic() - started)


def _walk_groups(groups: dict[tuple[str, str], list[Project]], sizes: dict[int, dict[str, list[int]]],
                 reclaim: dict[int, int], shared_refs: dict[str, set[int]], ready: set[int], totals: FolderTotals,
                 progress: Progress, cancel: CancelToken | None) -> int:
    """Walk every group's folders, adding each file to its project's ``[bytes, files]`` by role; a folder a
    folder pattern covers goes to ``totals`` whole. Returns the files walked (not those in ``totals``)."""
    files = 0
    for n, ((root, profile_name), members) in enumerate(groups.items()):
        profile = get_profile(profile_name)
        by_key = {p.key: p for p in members}
        single = members[0] if not profile.uses_project or len(members) == 1 and members[0].key is None else None
        try:
            root_dev = os.lstat(root).st_dev
        except OSError:
            continue

        def slot_of(found: Classified | None) -> list[int] | None:
            """The ``[bytes, files]`` counter a file of this classification adds to (not shared cache)."""
            if found is None or found.role is Role.SHARED_CACHE:
                return None
            owner = single or by_key.get(found.fields.get("project"))
            return None if owner is None else sizes[owner.id][found.role.value]

        # folder -> the counter of every file below it when a folder pattern covers it, else the rules that
        # can match a file in it (profile.folder_matchers)
        per_folder: dict[str, tuple[list[int] | None, list[Matcher]]] = {}
        # (the rule's id: the profile holds it all along, the project its match names) -> the counter its
        # files add to (None: no member's)
        slots: dict[tuple[int, str | None], list[int] | None] = {}

        def whole(rel_dir: str) -> bool:
            """A folder a folder pattern covers: every file below it counts the same, measured at once."""
            found = profile.covering_folder(rel_dir)
            return found is not None and found.role is not Role.SHARED_CACHE

        for prefix in profile.walk_prefixes(None):
            for entry in walk(root, prefix, root_dev, prune=whole):
                if entry.kind == "pruned":
                    slot = slot_of(profile.covering_folder(entry.rel))
                    if slot is not None:
                        totals.add(entry.path, root_dev, slot)
                    continue
                if entry.kind != "file" or entry.st is None:
                    continue
                files += 1
                if files % 1000 == 0:
                    totals.poll()
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                rel = entry.rel
                folder = rel[: rel.rfind("/")] if "/" in rel else ""
                known = per_folder.get(folder)
                if known is None:
                    covered = slot_of(profile.covering_folder(folder)) if folder else None
                    known = per_folder[folder] = (covered, [] if covered is not None else profile.folder_matchers(folder))
                slot = known[0]
                if slot is None:  # what profile.classify(rel) finds, trying only the rules this folder can have
                    rule = match = None
                    for start, regex, candidate, _ in known[1]:
                        if rel.startswith(start) and (match := regex.fullmatch(rel)) is not None:
                            rule = candidate
                            break
                    if rule is None or match is None:
                        continue
                    if rule.role is Role.SHARED_CACHE:
                        size = entry.st.st_size
                        refs = shared_refs.get(entry.path, ())
                        for pid in refs:
                            if pid in sizes:
                                shared = sizes[pid][Role.SHARED_CACHE.value]
                                shared[0] += size
                                shared[1] += 1
                                if pid in ready and all(o in ready for o in refs):
                                    reclaim[pid] += size
                        continue
                    owner_key = (id(rule), match["project"] if "project" in match.re.groupindex else None)
                    slot = slots.get(owner_key, _UNKNOWN)
                    if slot is _UNKNOWN:
                        owner = single or by_key.get(owner_key[1])
                        slot = slots[owner_key] = None if owner is None else sizes[owner.id][rule.role.value]
                    if slot is None:
                        continue
                slot[0] += entry.st.st_size
                slot[1] += 1
        progress.update(done=n + 1, current=root)
    return files


def role_sizes(catalog: Catalog, project_id: int) -> dict[str, tuple[int, int]]:
    """``{role: (bytes, files)}`` from the last scan of a project."""
    rows = catalog.conn.execute("SELECT role, bytes, files FROM role_sizes WHERE project_id = ?", (project_id,))
    return {r["role"]: (int(r["bytes"]), int(r["files"])) for r in rows}
