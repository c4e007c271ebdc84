"""Projects and their artifacts in the catalog: register, look up, list, statuses, references."""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, display_path, from_db_path, iso, to_db_path
from .errors import ConfigError, NotFound
from .profiles import Role, get_profile
from .roots import WORKSPACE, check_root
from .safety import bad_placeholder_value

AUTO_CLEANUP_ENV = "AUTO_CLEANUP_ENABLED"

log = logging.getLogger("mediaclean.catalog")


class CleanupStatus(str, enum.Enum):
    """``projects.cleanup_status`` (seed 002 AC-010)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    root: str
    profile: str
    external_id: str | None
    auto_cleanup: str
    cleanup_status: str
    cleanup_completed_at: str | None
    total_bytes: int
    reclaimable_bytes: int
    file_count: int
    scanned_at: str | None
    final_at_registration: bool = True
    reviewed_at: str | None = None

    @property
    def awaiting_review(self) -> bool:
        """F2: the final output was already there when the project was registered and the user has not
        confirmed a cleanup of it yet, so auto-cleanup waits (unless switched on for it by hand)."""
        return self.final_at_registration and self.reviewed_at is None and self.auto_cleanup != "on"

    @property
    def key(self) -> str | None:
        """The value of ``{project}`` in the profile's patterns: the external id."""
        return self.external_id

    def as_json(self, auto_effective: bool | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "root": display_path(self.root),
            "profile": self.profile,
            "external_id": self.external_id,
            "total_bytes": self.total_bytes,
            "reclaimable_bytes": self.reclaimable_bytes,
            "file_count": self.file_count,
            "cleanup_status": self.cleanup_status,
            "cleanup_completed_at": self.cleanup_completed_at,
            "auto_cleanup": self.auto_cleanup,
            "scanned_at": self.scanned_at,
            "awaiting_review": self.awaiting_review,
            "reviewed_at": self.reviewed_at,
        }
        if auto_effective is not None:
            out["auto_cleanup_effective"] = auto_effective
        return out


_COLUMNS = (
    "id, name, root, profile, external_id, auto_cleanup, cleanup_status, cleanup_completed_at, "
    "total_bytes, reclaimable_bytes, file_count, scanned_at, final_at_registration, reviewed_at"
)


def _row(row: Any) -> Project:
    values = dict(row)
    values["root"] = from_db_path(values["root"])
    values["final_at_registration"] = bool(values["final_at_registration"])
    return Project(**values)


def normalise_root(root: str | os.PathLike[str]) -> str:
    """The canonical form of a workspace root: absolute, links in the root itself resolved."""
    return os.path.realpath(os.fspath(root))


def add_project(
    catalog: Catalog,
    root: str | os.PathLike[str],
    profile: str,
    *,
    name: str | None = None,
    external_id: str | None = None,
) -> list[int]:
    """Register a workspace folder with a layout profile; returns the project ids.

    When the profile's patterns name ``{project}`` and no ``external_id`` is
    given, every project id found in the workspace is registered (one project
    each). Registering the same root and id again returns the existing id.
    Raises :class:`ConfigError` for a missing folder or unknown profile.
    """
    prof = get_profile(profile)
    real = normalise_root(root)
    if not os.path.isdir(real):
        raise ConfigError(f"The workspace folder {root} does not exist or is not a folder.")
    check_root(real, WORKSPACE)  # not /, a home folder or a system folder, unless confirmed
    ids: list[str | None]
    if external_id is not None and not _is_text(external_id):
        raise ConfigError(f"The project id {display_path(external_id)!r} is not valid UTF-8; rename the folder.")
    bad = bad_placeholder_value(external_id)
    if bad and prof.uses_project:  # invariant 11: the id names folders of the layout
        raise ConfigError(f"The project id cannot be used: {bad}. Give the generator's own project id, the name "
                          f"of the project's folder.")
    if external_id is not None or not prof.uses_project:
        ids = [external_id]
    else:
        found = sorted(discover_project_ids(real, profile))
        # a folder name that is not valid UTF-8 cannot be a project id (the catalog stores ids as text)
        for skipped in (i for i in found if not _is_text(i)):
            log.warning("project_folder_skipped %s: the name is not valid UTF-8", display_path(skipped))
        ids = [i for i in found if _is_text(i) and not bad_placeholder_value(i)]
        if not ids:
            raise ConfigError(
                f"No projects found in {real} for the layout '{profile}'. Give the generator's project id (the "
                f"name of the project's folder), or import the generator's database instead.",
                cli_hint="On the command line: --external-id ID, or 'mediaclean project import-db DBFILE'.")
    result = []
    with catalog.writer("project add"), catalog.transaction() as conn:
        for ext in ids:
            label = name or display_path(os.path.basename(real.rstrip(os.sep)) or real)
            if ext is not None and (name is None or len(ids) > 1):
                label = ext if name is None else f"{name} {ext}"
            pid, created = _upsert(conn, real, profile, label, ext)
            if created:
                note_registration(catalog, pid)
            result.append(pid)
    return result


def note_registration(catalog: Catalog, project_id: int) -> None:
    """F2: record whether the project's final output already exists now, at its registration (then
    auto-cleanup waits for the user's first review) or will appear later (a render that completes
    while mediaclean watches). Call once the project's artifacts are in the catalog."""
    from .readiness import final_outputs, final_present

    project = get_project(catalog, project_id)
    try:
        finals = final_outputs(catalog, project, get_profile(project.profile))
    except ConfigError:
        finals = []
    present = bool(finals) and any(final_present(f) for f in finals)
    catalog.conn.execute("UPDATE projects SET final_at_registration = ? WHERE id = ?", (int(present), project_id))


def _is_text(value: str) -> bool:
    """True when ``value`` holds no undecodable bytes (``os.fsdecode`` surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _upsert(conn: Any, root: str, profile: str, name: str, external_id: str | None) -> tuple[int, bool]:
    row = conn.execute(
        "SELECT id, profile, name FROM projects WHERE root = ? AND ifnull(external_id, '') = ifnull(?, '') "
        "AND (external_id IS NOT NULL OR name = ?)",
        (to_db_path(root), external_id, name),
    ).fetchone()
    if row is not None:
        if row[1] != profile:  # a layout decides what is deletable: it never changes behind the user's back
            raise ConfigError(
                f"The project '{row[2]}' (id {external_id}) is already registered on this folder with the layout "
                f"'{row[1]}'. Remove it first to register it with the layout '{profile}'.")
        conn.execute("UPDATE projects SET name = ? WHERE id = ?", (name, row[0]))
        return int(row[0]), False
    cur = conn.execute(
        "INSERT INTO projects(name, root, profile, external_id, created_at, final_at_registration) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        (name, to_db_path(root), profile, external_id, iso()),
    )
    return int(cur.lastrowid or 0), True


def upsert_project(catalog: Catalog, root: str, profile: str, name: str, external_id: str | None) -> tuple[int, bool]:
    """Insert or update one project (root, external id): ``(id, created)`` (caller holds the writer lock;
    call :func:`note_registration` for a created one once its artifacts are stored)."""
    return _upsert(catalog.conn, normalise_root(root), profile, name, external_id)


def discover_project_ids(root: str, profile: str) -> set[str]:
    """Project ids present in a workspace: the ``{project}`` components of matching folders."""
    prof = get_profile(profile)
    found: set[str] = set()
    for rule in prof.rules:
        if "{project}" not in rule.pattern:
            continue
        head = rule.pattern.split("{project}")[0]
        if "{" in head or "*" in head:
            continue
        if any(os.path.islink(os.path.join(root, *head.split("/")[: n + 1])) for n in range(head.count("/"))):
            continue  # a linked folder on the way is never followed, not even to find project ids
        try:
            with os.scandir(os.path.join(root, head)) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                        found.add(entry.name)
        except OSError:
            continue
    return found


def list_projects(catalog: Catalog) -> list[Project]:
    rows = catalog.conn.execute(f"SELECT {_COLUMNS} FROM projects ORDER BY name COLLATE NOCASE, id")
    return [_row(r) for r in rows]


def get_project(catalog: Catalog, project_id: int) -> Project:
    row = catalog.conn.execute(f"SELECT {_COLUMNS} FROM projects WHERE id = ?", (project_id,)).fetchone()
    if row is None:
        raise NotFound(f"No project with id {project_id}.", cli_hint="'mediaclean project list' shows the projects.")
    return _row(row)


def resolve_project(catalog: Catalog, text: str) -> Project:
    """A project named by the user: its id, its name or its external id.

    Raises :class:`NotFound`, or :class:`ConfigError` when a name is ambiguous.
    """
    text = str(text)
    if text.isdigit():
        row = catalog.conn.execute(f"SELECT {_COLUMNS} FROM projects WHERE id = ?", (int(text),)).fetchone()
        if row is not None:
            return _row(row)
    for column in ("name", "external_id"):
        rows = catalog.conn.execute(f"SELECT {_COLUMNS} FROM projects WHERE {column} = ?", (text,)).fetchall()
        if len(rows) == 1:
            return _row(rows[0])
        if len(rows) > 1:
            ids = ", ".join(str(r["id"]) for r in rows)
            raise ConfigError(f"'{text}' names several projects (ids {ids}); use the id.")
    raise NotFound(f"No project '{text}'.", cli_hint="'mediaclean project list' shows the projects.")


def remove_project(catalog: Catalog, project_id: int) -> None:
    """Forget a project (its files are not touched)."""
    with catalog.writer("project remove"), catalog.transaction() as conn:
        conn.execute("UPDATE plan_items SET project_id = NULL WHERE project_id = ?", (project_id,))
        conn.execute("UPDATE plan_kept SET project_id = NULL WHERE project_id = ?", (project_id,))
        conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))


def set_auto_cleanup(catalog: Catalog, project_id: int, value: str) -> None:
    """Per-project override of F2: ``inherit``, ``on`` or ``off``."""
    if value not in ("inherit", "on", "off"):
        raise ConfigError(f"Auto-cleanup must be inherit, on or off, not {value!r}.")
    get_project(catalog, project_id)
    catalog.conn.execute("UPDATE projects SET auto_cleanup = ? WHERE id = ?", (value, project_id))


def auto_cleanup_effective(catalog: Catalog, project: Project, prefs: dict[str, Any] | None = None) -> bool:
    """F2 (seed 002 AC-009): ``AUTO_CLEANUP_ENABLED=false`` wins; then the project's
    override; then the global preference ``auto_cleanup_enabled`` (default on)."""
    if not env_allows_auto_cleanup():
        return False
    if project.auto_cleanup == "on":
        return True
    if project.auto_cleanup == "off":
        return False
    prefs = prefs if prefs is not None else catalog.prefs()
    return bool(prefs["auto_cleanup_enabled"])


def env_allows_auto_cleanup() -> bool:
    return os.environ.get(AUTO_CLEANUP_ENV, "true").strip().lower() not in ("false", "0", "no", "off")


def set_cleanup_status(catalog: Catalog, project_id: int, status: CleanupStatus, when: str | None = None) -> None:
    """Keep ``cleanup_status`` and ``cleanup_completed_at`` true (seed 002 AC-010)."""
    if status is CleanupStatus.COMPLETE:
        catalog.conn.execute(
            "UPDATE projects SET cleanup_status = ?, cleanup_completed_at = ? WHERE id = ?",
            (status.value, when or iso(), project_id),
        )
    else:
        catalog.conn.execute("UPDATE projects SET cleanup_status = ? WHERE id = ?", (status.value, project_id))


# ---------------------------------------------------------------- artifacts


@dataclass(frozen=True)
class Artifact:
    project_id: int
    path: str
    role: Role
    source: str
    detail: str


def replace_artifacts(catalog: Catalog, project_id: int, source: str, items: Iterable[tuple[str, Role, str]]) -> int:
    """Replace a project's artifacts from ``source`` (e.g. ``import``) with ``(path, role, detail)``."""
    conn = catalog.conn
    conn.execute("DELETE FROM artifacts WHERE project_id = ? AND source = ?", (project_id, source))
    rows = {(to_db_path(p), role.value): detail for p, role, detail in items}
    conn.executemany(
        "INSERT OR IGNORE INTO artifacts(project_id, path, role, source, detail) VALUES (?, ?, ?, ?, ?)",
        [(project_id, p, r, source, d) for (p, r), d in rows.items()],
    )
    return len(rows)


def artifacts_of(catalog: Catalog, project_id: int) -> list[Artifact]:
    rows = catalog.conn.execute(
        "SELECT project_id, path, role, source, detail FROM artifacts WHERE project_id = ? ORDER BY id", (project_id,)
    )
    return [Artifact(r["project_id"], from_db_path(r["path"]), Role(r["role"]), r["source"], r["detail"]) for r in rows]


def all_artifacts(catalog: Catalog, roles: Iterable[Role] | None = None) -> list[Artifact]:
    """Every artifact in the catalog, optionally of some roles only."""
    sql = "SELECT project_id, path, role, source, detail FROM artifacts"
    params: tuple[str, ...] = ()
    if roles is not None:
        values = tuple(r.value for r in roles)
        sql += f" WHERE role IN ({','.join('?' * len(values))})"
        params = values
    rows = catalog.conn.execute(sql, params)
    return [Artifact(r["project_id"], from_db_path(r["path"]), Role(r["role"]), r["source"], r["detail"]) for r in rows]
