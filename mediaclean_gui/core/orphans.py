"""F7 orphan sweep (seed 000): files in a project's output folders that nothing in the catalog claims."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time

import humanize

from .catalog import Catalog, from_db_path, iso
from .errors import ConfigError
from .events import CancelToken, Progress
from .plan import Action, KeptBack, PlanBuilder, PlanItem, Reason
from .profiles import Profile, Role, get_profile
from .projects import Project, all_artifacts, get_project
from .keeplist import KEPT_BY_YOU, matcher_for
from .safety import bad_placeholder_value, fingerprint
from .walk import walk

#: Roles whose rules name a project's output folders.
OUTPUT_ROLES = (Role.OUTPUT, Role.FINAL, Role.THUMBNAIL)
#: Roles other functions own (F1 shared cache, F4/F5 sources): never offered as orphans.
OTHERS_ROLES = (Role.SHARED_CACHE, Role.SOURCE)
GROUP = "orphans"
RULE = "not known to the catalog and not uploaded"


def output_folders(profile: Profile, project_key: str | None) -> list[str]:
    """The project's output folders (relative, POSIX): the static prefixes of the profile's
    ``output``, ``final`` and ``thumbnail`` rules, nested ones merged. Empty when the layout has none."""
    prefixes = sorted({r.static_prefix(project_key) for r in profile.rules if r.role in OUTPUT_ROLES})
    merged: list[str] = []
    for prefix in prefixes:
        if any(m == "" or prefix == m or prefix.startswith(m + "/") for m in merged):
            continue
        merged.append(prefix)
    return merged


def claimed_paths(catalog: Catalog) -> set[str]:
    """Absolute paths the catalog knows: every artifact, and every upload when the
    ``uploads`` table (F3, migration 0002) exists."""
    claimed = {a.path for a in all_artifacts(catalog)}
    has_uploads = catalog.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads'").fetchone()
    if has_uploads:
        columns = {row[1] for row in catalog.conn.execute("PRAGMA table_info(uploads)")}
        if "path" in columns:
            for row in catalog.conn.execute("SELECT path FROM uploads WHERE path IS NOT NULL"):
                claimed.add(os.path.normpath(from_db_path(row[0])))
    return claimed


def plan_orphans(
    catalog: Catalog,
    project_ids: list[int],
    *,
    older_than_hours: float | None = None,
    now: dt.datetime | float | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Make and store the orphan-sweep plan (kind ``orphans``) for some projects; returns the plan id.

    Deletes nothing. Items (group ``orphans``, ``delete_file``) are the files
    under each project's :func:`output_folders` that no artifact or upload in
    the catalog claims, that the profile does not call ``final`` or
    ``thumbnail`` (those are kept back as protected), and that nothing changed
    for ``older_than_hours`` hours (default: the preference
    ``orphan_older_than_hours``) at ``now`` (UTC; default the clock). Newer
    ones are kept back as too new. Such a file may be a creator's only copy,
    so each item's rule says it is not known to the catalog and not uploaded.
    Links are kept back, never followed; mounts are not crossed.

    Raises :class:`NotFound` for an unknown project, :class:`ConfigError` for
    a negative threshold, ``Cancelled``.
    """
    hours = float(catalog.pref("orphan_older_than_hours") if older_than_hours is None else older_than_hours)
    if hours < 0:
        raise ConfigError(f"The age threshold must be 0 hours or more, not {hours:g}.")
    progress = progress or Progress()
    now_ts = time.time() if now is None else now.timestamp() if isinstance(now, dt.datetime) else float(now)
    cutoff = now_ts - hours * 3600
    projects = [get_project(catalog, pid) for pid in project_ids]
    params = {"project_ids": [p.id for p in projects], "older_than_hours": hours,
              "now": iso(dt.datetime.fromtimestamp(now_ts, dt.timezone.utc))}
    with catalog.writer("plan orphans"):
        claimed = claimed_paths(catalog)
        builder = PlanBuilder(catalog, "orphans", params)
        try:
            seen: set[str] = set()
            counts = {"files": 0, "scope": 0}
            for n, project in enumerate(projects):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                progress.update(done=n, total=len(projects), current=project.name, phase="planning")
                _collect(builder, project, claimed, seen, cutoff, now_ts, hours, counts, cancel)
            builder.preconditions.append({"scope_bytes": counts["scope"]})
            summary = (f"{builder.item_count} orphaned file(s) unchanged for {hours:g} h in "
                       f"{len(projects)} project(s)")
            progress.update(done=len(projects), total=len(projects), phase="planned")
            return builder.finish("ready", summary)
        except BaseException:
            builder.abandon()
            raise


def _collect(builder: PlanBuilder, project: Project, claimed: set[str], seen: set[str], cutoff: float,
             now_ts: float, hours: float, counts: dict[str, int], cancel: CancelToken | None) -> None:
    profile = get_profile(project.profile)
    root = project.root
    try:
        root_dev = os.lstat(root).st_dev
    except OSError as exc:
        builder.keep(KeptBack(root, Reason.UNREADABLE, detail=f"the workspace cannot be read ({exc.strerror})",
                              project_id=project.id, group=GROUP))
        return

    def keep(path: str, reason: Reason, detail: str, size: int = 0, role: str = "", group: str = GROUP) -> None:
        builder.keep(KeptBack(path, reason, size, role, detail, project.id, group))

    bad = bad_placeholder_value(project.key)
    if bad and profile.uses_project:  # invariant 11: the id would name other folders
        keep(root, Reason.UNSAFE_NAME, f"the project id of '{project.name}' cannot be used in its folders: {bad}")
        return
    keeps = matcher_for(builder.catalog, root, project.id)

    for prefix in output_folders(profile, project.key):
        for entry in walk(root, prefix, root_dev):
            if entry.path in seen:
                continue
            seen.add(entry.path)
            counts["files"] += 1
            if cancel is not None and counts["files"] % 1000 == 0:
                cancel.raise_if_cancelled()
            if entry.kind == "unreadable":
                keep(entry.path, Reason.UNREADABLE, entry.error)
                continue
            if entry.kind == "mount":
                keep(entry.path, Reason.MOUNT_POINT, "another file system is mounted here; it is not crossed")
                continue
            if entry.kind not in ("file", "link") or entry.st is None:
                continue
            found = profile.classify(entry.rel, project.key)
            role = found.role if found is not None else Role.OUTPUT
            if role in OTHERS_ROLES or os.path.normpath(entry.path) in claimed:
                continue
            size = entry.st.st_size if entry.kind == "file" else 0
            counts["scope"] += size
            if found is not None and role.protected:
                keep(entry.path, Reason.PROTECTED, f"{role.value}: {found.rule.rule}", size, role.value)
                continue
            if entry.kind == "link" or stat.S_ISLNK(entry.st.st_mode):
                keep(entry.path, Reason.SYMLINK, "a symbolic link in an output folder; it is not followed",
                     0, role.value)
                continue
            why = keeps.why(entry.rel) if keeps else None
            if why:
                keep(entry.path, Reason.EXCLUDED, why, size, role.value, KEPT_BY_YOU)
                continue
            if entry.st.st_mtime > cutoff:
                age = humanize.naturaldelta(dt.timedelta(seconds=max(0.0, now_ts - entry.st.st_mtime)))
                keep(entry.path, Reason.TOO_NEW, f"changed {age} ago; orphans go only after {hours:g} h", size,
                     role.value)
                continue
            builder.add(PlanItem(Action.DELETE_FILE, entry.path, size, role.value,
                                 f"{RULE} (older than {hours:g} h; may be the only copy)",
                                 fingerprint(entry.st), root, project.id, GROUP))

