"""What no local run may remove, gathered from the catalog just before a run acts (invariant 11)."""

from __future__ import annotations

import logging
import os

from .catalog import Catalog, from_db_path
from .errors import ConfigError
from .profiles import Role, get_profile
from .projects import all_artifacts, list_projects
from .safety import Protection, bad_placeholder_value

log = logging.getLogger("mediaclean.fs")


def protected_paths(catalog: Catalog, plan_id: int | None = None, *, keep_list: bool = True) -> dict[str, str]:
    """Every path that must stay, with why: the final outputs and thumbnails of every project (imported
    ones, and those the project's profile names literally), every project's generator database, every
    remote's pipeline database, the catalog's own files, what the keep-list names exactly, and — for
    plan ``plan_id`` — what its planner kept back as protected (e.g. thumbnails found by a wildcard).
    Planners pass ``keep_list=False``: they keep the keep-list's entries back as "kept by you"."""
    paths: dict[str, str] = {}
    projects = {p.id: p for p in list_projects(catalog)}
    for art in all_artifacts(catalog, (Role.FINAL, Role.THUMBNAIL)):
        owner = projects.get(art.project_id)
        paths.setdefault(art.path, f"the {art.role.value} of project '{owner.name if owner else art.project_id}'")
    for project in projects.values():
        try:
            profile = get_profile(project.profile)
        except ConfigError as exc:  # a broken profile protects nothing more, but must not stop the guard
            log.warning("protection_profile_unreadable project=%s error=%s", project.name, exc)
            continue
        usable = bad_placeholder_value(project.key) is None or not profile.uses_project
        for rule in profile.rules:
            if not rule.role.protected or not usable:
                continue
            bound = rule.bind(project.key)
            if not any(ch in bound for ch in "{*?") and not rule.is_folder:
                paths.setdefault(os.path.join(project.root, bound),
                                 f"the {rule.role.value} of project '{project.name}'")
    for (raw,) in catalog.conn.execute("SELECT source_db FROM projects WHERE source_db IS NOT NULL"):
        paths.setdefault(from_db_path(raw), "a generator database")
    for (raw,) in catalog.conn.execute("SELECT pipeline_db FROM remotes WHERE pipeline_db IS NOT NULL"):
        paths.setdefault(from_db_path(raw), "a pipeline database")
    base = str(catalog.path)
    for suffix in ("", "-wal", "-shm", "-journal", ".lock", ".lock-holder"):
        paths.setdefault(base + suffix, "mediaclean's catalog")
    if keep_list:
        for root, rel in catalog.conn.execute("SELECT root, path FROM keep_list WHERE pattern = 0"):
            paths.setdefault(os.path.join(from_db_path(root), from_db_path(rel)), "kept by you")
    if plan_id is not None:
        for target, detail in catalog.conn.execute(
                "SELECT target, detail FROM plan_kept WHERE plan_id = ? AND reason = 'protected'", (plan_id,)):
            paths.setdefault(from_db_path(target), detail or "protected")
    return paths


def gather_protection(catalog: Catalog, plan_id: int | None = None) -> Protection:
    """The identities of :func:`protected_paths` now (``(st_dev, st_ino)``, and the folders holding them)."""
    return Protection.of_paths(protected_paths(catalog, plan_id))
