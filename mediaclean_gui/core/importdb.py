"""F9: import a generator's SQLite database (seed 002 shape), read-only, into the catalog."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .catalog import Catalog, display_path, to_db_path
from .errors import ConfigError
from .profiles import Role
from .projects import note_registration, normalise_root, replace_artifacts, upsert_project
from .roots import WORKSPACE, check_root
from .safety import bad_placeholder_value, is_within

PROFILE = "ai-video-generator"

#: The tables and columns F9 needs; extra ones are ignored.
REQUIRED: dict[str, tuple[str, ...]] = {
    "projects": ("id", "name"),
    "audio_files": ("project_id", "file_path"),
    "visual_suggestions": ("project_id", "provider", "video_id", "default_segment_path"),
    "rendered_videos": ("project_id", "file_path", "thumbnail_path"),
}


@dataclass
class ImportResult:
    imported: int
    project_ids: list[int]
    outside_root: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # references that would name other folders (invariant 11)


def open_readonly(db_file: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a SQLite file read-only (``mode=ro``); :class:`ConfigError` if it is not one.

    The caller closes the connection, in a ``finally`` (on an error here there is none to close).
    """
    path = Path(db_file)
    if not path.is_file():
        raise ConfigError(f"The database file {db_file} does not exist.")
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException as exc:
        conn.close()  # the caller gets no connection to close
        if isinstance(exc, sqlite3.DatabaseError):
            raise ConfigError(f"{db_file} is not a readable SQLite database ({exc}).") from None
        raise
    return conn


def check_shape(conn: sqlite3.Connection, required: dict[str, tuple[str, ...]], source: str) -> None:
    """Raise :class:`ConfigError` naming the first missing table or column."""
    for table, columns in required.items():
        have = {row["name"] for row in conn.execute(f"PRAGMA table_info({_ident(table)})")}
        if not have:
            raise ConfigError(
                f"The database {source} has no table '{table}' (it needs {', '.join(required)}); "
                f"is it the generator's database?"
            )
        for column in columns:
            if column not in have:
                raise ConfigError(f"The database {source}: table '{table}' has no column '{column}'.")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def resolve_reference(workspace: str, value: str, given: str | None = None) -> str:
    """A path from the database: absolute, or relative to the workspace; ``..`` normalised away.

    ``workspace`` is the real root; ``given`` the workspace as the user named it (through a
    symbolic link, say): an absolute path under ``given`` is taken to the same place under the
    real root. No other link is resolved, so a path through a linked folder stays outside.
    """
    path = os.path.normpath(value if os.path.isabs(value) else os.path.join(workspace, value))
    if given and given != workspace and (path == given or path.startswith(given.rstrip(os.sep) + os.sep)):
        path = workspace + path[len(given.rstrip(os.sep)):]
    return path


def import_generator_db(catalog: Catalog, db_file: str | os.PathLike[str], workspace: str | os.PathLike[str]) -> ImportResult:
    """Register every project of a seed 002 generator database with the files it references.

    ``audio_files.file_path`` and ``visual_suggestions.default_segment_path`` are
    intermediates; ``assets/cache/{provider}/{video_id}.mp4`` is the shared cache
    file a visual suggestion references; ``rendered_videos`` gives the final
    and thumbnail. Re-importing updates the same projects. A reference outside
    the workspace is recorded (and later kept back, never deleted). Raises
    :class:`ConfigError` for a missing workspace, file, table or column.
    """
    root = normalise_root(workspace)
    given = os.path.normpath(os.path.abspath(os.fspath(workspace)))
    if not os.path.isdir(root):
        raise ConfigError(f"The workspace folder {workspace} does not exist or is not a folder.")
    check_root(root, WORKSPACE)  # not /, a home folder or a system folder, unless confirmed
    source = str(db_file)
    conn = open_readonly(db_file)
    try:
        check_shape(conn, REQUIRED, source)
        projects = conn.execute("SELECT id, name FROM projects ORDER BY id").fetchall()
        refs: dict[str, list[tuple[str, Role, str]]] = {str(p["id"]): [] for p in projects}
        refused: list[str] = []

        def add(pid: object, value: object, role: Role, detail: str) -> None:
            if value is None or str(pid) not in refs or not str(value).strip():
                return
            if "\0" in str(value):  # no file can have such a name: never a path to act on
                refused.append(f"a path of project {pid!r} holds a NUL character: {str(value)!r}")
                return
            refs[str(pid)].append((resolve_reference(root, str(value), given), role, detail))

        for row in conn.execute("SELECT project_id, file_path FROM audio_files"):
            add(row["project_id"], row["file_path"], Role.INTERMEDIATE, "scene audio listed by the generator")
        for row in conn.execute("SELECT project_id, provider, video_id, default_segment_path FROM visual_suggestions"):
            add(row["project_id"], row["default_segment_path"], Role.INTERMEDIATE,
                "video segment listed by the generator")
            if row["provider"] and row["video_id"]:
                problem = bad_placeholder_value(str(row["provider"])) or bad_placeholder_value(str(row["video_id"]))
                if problem:  # invariant 11: a provider or video id that would name another folder
                    refused.append(f"the provider cache file of project {row['project_id']} "
                                   f"(provider {row['provider']!r}, video {row['video_id']!r}): {problem}")
                    continue
                cache = f"assets/cache/{row['provider']}/{row['video_id']}.mp4"
                add(row["project_id"], cache, Role.SHARED_CACHE,
                    "provider cache file the generator used for this project")
        for row in conn.execute("SELECT project_id, file_path, thumbnail_path FROM rendered_videos"):
            add(row["project_id"], row["file_path"], Role.FINAL, "final render listed by the generator")
            add(row["project_id"], row["thumbnail_path"], Role.THUMBNAIL, "thumbnail listed by the generator")
    finally:
        conn.close()

    ids = []
    outside: list[str] = []
    with catalog.writer("project import-db"), catalog.transaction():
        for row in projects:
            ext = str(row["id"])
            name = str(row["name"]) if row["name"] is not None else ext
            pid, created = upsert_project(catalog, root, PROFILE, name, ext)
            catalog.conn.execute("UPDATE projects SET source_db = ? WHERE id = ?",
                                 (to_db_path(os.path.abspath(source)), pid))
            replace_artifacts(catalog, pid, "import", refs[ext])
            if created:
                note_registration(catalog, pid)
            outside += [display_path(p) for p, _, _ in refs[ext] if not is_within(p, root)]
            ids.append(pid)
    return ImportResult(len(ids), ids, outside, refused)
