"""F1 planner: project cleanup after the final render (seed 002), as a frozen plan."""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .events import CancelToken, Progress
from .plan import Action, KeptBack, PlanBuilder, PlanItem, Reason
from .profiles import Classified, Profile, Role, get_profile
from .projects import Project, all_artifacts, artifacts_of, get_project, list_projects
from .safety import fingerprint, is_within
from .walk import walk

DELETABLE = (Role.INTERMEDIATE,)

_UNKNOWN: Any = object()


@dataclass
class _Collected:
    items: dict[str, PlanItem] = field(default_factory=dict)
    kept: dict[str, KeptBack] = field(default_factory=dict)
    scope_bytes: int = 0


def final_outputs(catalog: Catalog, project: Project, profile: Profile) -> list[str]:
    """Absolute paths of the project's final output(s): imported ``rendered_videos`` rows,
    else the profile's ``final`` template with ``{project}`` bound."""
    finals = [a.path for a in artifacts_of(catalog, project.id) if a.role is Role.FINAL]
    if finals:
        return finals
    rel = profile.final_path(project.key)
    return [os.path.join(project.root, rel)] if rel else []


def final_present(path: str) -> bool:
    """The final output exists as a regular file (a link or a folder does not count)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def plan_cleanup(
    catalog: Catalog,
    project_ids: list[int],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Make and store the F1 plan for some projects; returns the plan id.

    Deletes nothing. For each project whose final output exists: its
    intermediates (scene audio, video segments, the assembly folder, by the
    profile's patterns and the imported references) and the shared cache files
    it references that no other project still needs (one whose final output
    does not exist yet). Final and thumbnail are
    kept back as protected. A project whose final output is missing gets no
    items (kept back ``final output missing``); a plan in which no project is
    ready is stored as ``refused``. Raises :class:`NotFound` for an unknown id.
    """
    progress = progress or Progress()
    projects = [get_project(catalog, pid) for pid in project_ids]
    everyone = {p.id: p for p in list_projects(catalog)}
    shared_refs: dict[str, set[int]] = defaultdict(set)
    other_refs: dict[str, set[int]] = defaultdict(set)
    protected: dict[str, str] = {}
    for art in all_artifacts(catalog):
        if art.role is Role.SHARED_CACHE:
            shared_refs[art.path].add(art.project_id)
        elif art.role in DELETABLE:
            other_refs[art.path].add(art.project_id)
        elif art.role.protected:
            owner = everyone.get(art.project_id)
            protected[art.path] = f"{art.role.value} of project '{owner.name if owner else art.project_id}'"

    finals_cache: dict[int, bool] = {}

    def has_final(p: Project) -> bool:
        """A project with its final output no longer needs the shared cache it used."""
        if p.id not in finals_cache:
            found = final_outputs(catalog, p, get_profile(p.profile))
            finals_cache[p.id] = bool(found) and all(final_present(f) for f in found)
        return finals_cache[p.id]

    with catalog.writer("plan cleanup"):
        builder = PlanBuilder(catalog, "clean", {"project_ids": [p.id for p in projects]})
        ready: list[Project] = []
        refused: list[str] = []
        for project in projects:
            profile = get_profile(project.profile)
            finals = final_outputs(catalog, project, profile)
            if profile.final is None and not finals:
                builder.keep(KeptBack(project.root, Reason.NO_FINAL_RULE, detail=(
                    f"the '{profile.name}' layout has no final output, so project cleanup does not apply"),
                    project_id=project.id, group="refused"))
                refused.append(project.name)
                continue
            missing = [f for f in finals if not final_present(f)] or ([] if finals else ["(unknown)"])
            if missing:
                builder.keep(KeptBack(missing[0], Reason.FINAL_MISSING, role=Role.FINAL.value, detail=(
                    f"project '{project.name}' has no final output yet; nothing of it is deleted"),
                    project_id=project.id, group="refused"))
                refused.append(project.name)
                continue
            ready.append(project)
            for final in finals:
                builder.preconditions.append({"path": final, "project_id": project.id, "what": "final output"})

        collected = _Collected()
        for n, project in enumerate(ready):
            if cancel is not None:
                cancel.raise_if_cancelled()
            progress.update(done=n, total=len(ready), current=project.name, phase="planning")
            _collect_project(catalog, project, everyone, has_final, shared_refs, other_refs, protected, collected)

        files = sorted((i for i in collected.items.values() if i.action is not Action.DELETE_DIR), key=lambda i: i.target)
        dirs = sorted((i for i in collected.items.values() if i.action is Action.DELETE_DIR),
                      key=lambda i: (-i.target.count(os.sep), i.target))
        for item in files + dirs:
            builder.add(item)
        for kept in sorted(collected.kept.values(), key=lambda k: (k.reason.value, k.target)):
            builder.keep(kept)
        builder.preconditions.append({"scope_bytes": collected.scope_bytes})
        status = "refused" if refused and not ready else "ready"
        summary = f"{len(ready)} project(s) ready" + (f"; refused: {', '.join(refused)}" if refused else "")
        progress.update(done=len(ready), total=len(ready), phase="planned")
        return builder.finish(status, summary)


def _collect_project(
    catalog: Catalog,
    project: Project,
    everyone: dict[int, Project],
    has_final: Callable[[Project], bool],
    shared_refs: dict[str, set[int]],
    other_refs: dict[str, set[int]],
    protected: dict[str, str],
    out: _Collected,
) -> None:
    profile = get_profile(project.profile)
    root = project.root
    key = project.key
    root_dev = os.lstat(root).st_dev

    def keep(path: str, reason: Reason, detail: str, size: int = 0, role: str = "") -> None:
        if path not in out.items:
            out.kept.setdefault(path, KeptBack(path, reason, size, role, detail, project.id, role or reason.value))

    def needed_by(refs: set[int]) -> str:
        """The other projects among ``refs`` that have no final output yet, as ``'A', 'B'``."""
        needing = [everyone[o] for o in sorted(refs - {project.id}) if o in everyone and not has_final(everyone[o])]
        return ", ".join(f"'{p.name}'" for p in needing)

    def add(path: str, st: os.stat_result, role: Role, rule: str, action: Action = Action.DELETE_FILE) -> None:
        if path in protected:
            keep(path, Reason.PROTECTED, protected[path], st.st_size, Role.FINAL.value)
            return
        others = other_refs.get(path)
        names = needed_by(others) if others and action is Action.DELETE_FILE and others != {project.id} else ""
        if names:  # invariant 1: nothing a project without its final output references is deleted
            keep(path, Reason.REFERENCED, f"still needed by {names}, which has no final output yet", st.st_size,
                 role.value)
            return
        if stat.S_ISLNK(st.st_mode):
            rule += " (a symbolic link: only the link is removed, never its target)"
        size = 0 if action is Action.DELETE_DIR else st.st_size
        role_name = role.value
        out.items.setdefault(path, PlanItem(action, path, size, role_name, rule, fingerprint(st), root,
                                            project.id, role_name))
        if out.kept:
            out.kept.pop(path, None)

    def shared(path: str, st: os.stat_result, rule: str) -> None:
        refs = shared_refs.get(path, set())
        if project.id not in refs:
            if not refs:
                keep(path, Reason.UNREFERENCED_CACHE,
                     "no imported project references this provider cache file, so it may still be needed",
                     st.st_size, Role.SHARED_CACHE.value)
            return
        names = needed_by(refs)
        if names:
            keep(path, Reason.REFERENCED, f"still needed by {names}, which has no final output yet",
                 st.st_size, Role.SHARED_CACHE.value)
        else:
            add(path, st, Role.SHARED_CACHE, rule)

    covering: dict[str, Classified | None] = {}  # folder -> how every file below it classifies, if one way
    for prefix in profile.walk_prefixes(key):
        for entry in walk(root, prefix, root_dev):
            kind = entry.kind
            if kind == "unreadable":
                keep(entry.path, Reason.UNREADABLE, entry.error)
                continue
            if kind == "link" and (prefix == entry.rel or prefix.startswith(entry.rel + "/")):
                keep(entry.path, Reason.SYMLINK, f"the folder {entry.rel} is a symbolic link; it is not followed")
                continue
            found = None
            if kind == "file" or kind == "link":
                folder = entry.rel[: entry.rel.rfind("/")]
                found = covering.get(folder, _UNKNOWN)
                if found is _UNKNOWN:
                    found = covering[folder] = profile.covering_folder(folder, key) if folder else None
            if found is None:
                found = profile.classify(entry.rel, key)
            if found is None or entry.st is None:
                continue
            if entry.kind == "mount":
                keep(entry.path, Reason.MOUNT_POINT, "another file system is mounted here; it is not crossed")
                continue
            if entry.kind in ("file", "link"):
                out.scope_bytes += entry.st.st_size
            if found.role.protected:
                if entry.kind == "file":
                    keep(entry.path, Reason.PROTECTED, f"{found.role.value}: {found.rule.rule}", entry.st.st_size,
                         found.role.value)
            elif found.role in DELETABLE:
                if entry.kind in ("file", "link"):
                    add(entry.path, entry.st, found.role, found.rule.rule)
                elif entry.kind == "dir" and found.folder is not None:
                    add(entry.path, entry.st, found.role, found.rule.rule, Action.DELETE_DIR)
            elif found.role is Role.SHARED_CACHE and entry.kind in ("file", "link"):
                shared(entry.path, entry.st, found.rule.rule)

    for art in artifacts_of(catalog, project.id):
        # a reference the walk already decided on is done; one the layout's patterns do not match
        # (wherever it lies) is the database's word and is checked on its own
        if art.path in out.items or art.path in out.kept or art.role not in (*DELETABLE, Role.SHARED_CACHE):
            continue
        _reference(project, art.path, art.role, art.detail, root, root_dev, profile, keep, add, shared)


def _reference(project, path, role, detail, root, root_dev, profile, keep, add, shared) -> None:  # type: ignore[no-untyped-def]
    """An imported reference the walk did not classify: check it on its own."""
    if not is_within(path, root):
        keep(path, Reason.OUTSIDE_ROOT, f"{detail or role.value} points outside the workspace {root}", 0, role.value)
        return
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    cursor = root
    for part in rel.split("/")[:-1]:
        cursor = os.path.join(cursor, part)
        try:
            st = os.lstat(cursor)
        except OSError:
            return  # a folder on the way is gone: nothing to delete
        if stat.S_ISLNK(st.st_mode):
            keep(path, Reason.SYMLINK, f"the folder {os.path.relpath(cursor, root)} on its way is a symbolic link", 0,
                 role.value)
            return
        if st.st_dev != root_dev:
            keep(path, Reason.MOUNT_POINT, "it lies on another file system", 0, role.value)
            return
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return
    found = profile.classify(rel, None)
    if found is not None and found.role.protected:
        keep(path, Reason.PROTECTED, f"{found.role.value}: {found.rule.rule}", st.st_size, found.role.value)
        return
    rule = detail or f"{role.value} referenced by the generator database"
    if role is Role.SHARED_CACHE:
        shared(path, st, rule)
    else:
        add(path, st, role, rule)
