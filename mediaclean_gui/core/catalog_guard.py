"""What a catalog file must be before mediaclean opens it, and one sentence for each way SQLite fails on it.

A catalog is mediaclean's when its header carries :data:`APPLICATION_ID` (``PRAGMA
application_id``, set when mediaclean creates it), or, for catalogs made before that, when
its ``user_version`` is a known schema and it has mediaclean's tables. Any other SQLite
database is refused and left byte-identical: it is looked at through a read-only
connection only.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import urllib.parse
from pathlib import Path

from .errors import CatalogUnusable, KnownError

APPLICATION_ID = 0x4D434C4E  # "MCLN" in the database header
#: tables every mediaclean catalog has had since schema 1
OUR_TABLES = frozenset({"preferences", "projects", "plans", "runs"})
#: files SQLite keeps beside a database; SQLite refuses them as links, with an unclear message
SIDECARS = ("-wal", "-shm", "-journal")

ANOTHER = "choose another catalog file, or a new file name to start a new catalog"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def read_only(path: Path) -> CatalogUnusable:
    """The sentence for a catalog mediaclean cannot write."""
    where = "is on a read-only file system" if _read_only_fs(path.parent) else "is read-only"
    return CatalogUnusable(
        f"The catalog {path} {where}, so mediaclean cannot record anything in it: make it and its folder "
        f"writable, or {ANOTHER} (nothing was changed).")


def check_path(path: Path, raw: str | None = None, *, create_folder: bool = False) -> None:
    """Refuse a catalog path that cannot be a catalog file, before anything is created.

    ``raw`` is the path as the user typed it (``--catalog``, ``MEDIACLEAN_CATALOG``), when
    there is one: empty, or ending in ``/``, is refused. A folder, a device (``/dev/null``),
    a missing folder (unless ``create_folder``, for the default location), a read-only
    catalog or folder, and a link or folder beside it where SQLite keeps its ``-wal``,
    ``-shm`` and ``-journal`` files raise :class:`CatalogUnusable`.
    """
    if raw is not None and not raw.strip():
        raise CatalogUnusable("The catalog path is empty: give the catalog's file name, e.g. catalog.sqlite3.")
    if raw is not None and raw.endswith("/"):
        raise CatalogUnusable(f"The catalog path {raw} ends with '/', so it names a folder: give the catalog's "
                              f"file name, e.g. {raw}catalog.sqlite3.")
    try:
        st = os.stat(path)  # a link to a catalog file is fine: the user chose it
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise CatalogUnusable(f"The catalog {path} cannot be used: a part of its path is a file, not a folder, so "
                              f"check the path.") from None
    except OSError as exc:
        raise CatalogUnusable(f"The catalog {path} cannot be used ({(exc.strerror or str(exc)).lower()}): "
                              f"{ANOTHER}.") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise CatalogUnusable(f"The catalog {path} is a folder, not a file: give the catalog's file name, e.g. "
                              f"{path / 'catalog.sqlite3'}.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise CatalogUnusable(f"The catalog {path} is {_kind(st.st_mode)}, not a file: {ANOTHER} "
                              f"(nothing was changed).")
    folder = path.parent
    if st is None:
        if not folder.exists() and create_folder:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogUnusable(f"The folder {folder} for the catalog cannot be created "
                                      f"({(exc.strerror or str(exc)).lower()}): {ANOTHER}.") from None
        if not folder.exists():
            raise CatalogUnusable(f"The folder {folder} of the catalog {path} does not exist: create it first, or "
                                  f"check the path.")
        if not folder.is_dir():
            raise CatalogUnusable(f"The catalog {path} cannot be created: {folder} is not a folder.")
    for suffix in SIDECARS:
        side = path.with_name(path.name + suffix)
        try:
            mode = os.lstat(side).st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            raise CatalogUnusable(f"SQLite's file {side} beside the catalog is {_kind(mode)}, which mediaclean "
                                  f"never follows or replaces: remove it and try again (nothing was changed).")
    if (st is not None and not os.access(path, os.R_OK | os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
        raise read_only(path)


def identify(path: Path, latest: int) -> bool:
    """Whether ``path`` is a new (empty or missing) catalog; raise if it is not mediaclean's.

    Reads through a read-only connection only. Raises :class:`CatalogUnusable` for a file
    that is not a SQLite database or is another application's database (its bytes are left
    as they are). A mediaclean catalog of a newer schema passes: the caller refuses it with
    its own sentence.
    """
    if not path.exists() or path.stat().st_size == 0:
        return True
    # with no -wal or -journal beside it the file holds everything and nobody is writing it: 'immutable'
    # reads it without creating the -shm and -wal files that a read-only connection to a WAL database
    # would leave behind; otherwise a plain read-only connection respects the writer's locks
    busy = any(os.path.lexists(path.with_name(path.name + s)) for s in ("-wal", "-journal"))
    uri = "file:" + urllib.parse.quote(os.fsdecode(os.path.abspath(path))) + ("?mode=ro" if busy else "?immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise problem_for(exc, path) or CatalogUnusable(
            f"The catalog {path} cannot be opened ({exc}): {ANOTHER}.") from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")}
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise CatalogUnusable(f"The catalog {path} is not a SQLite database ({exc}): it was left as it is; "
                                  f"{ANOTHER}.") from None
        raise problem_for(exc, path) or CatalogUnusable(
            f"The catalog {path} cannot be read ({exc}): {ANOTHER}.") from None
    finally:
        conn.close()
    if app_id == APPLICATION_ID:
        return False
    if app_id == 0 and not tables and version == 0:
        return True  # an empty SQLite file: a new catalog
    if app_id == 0 and OUR_TABLES <= tables and 1 <= version:
        return False  # a mediaclean catalog from before the application id
    some = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
    has = f"tables {some}" if tables else "no tables"
    raise CatalogUnusable(
        f"The file {path} is a SQLite database of another application ({has}), not a mediaclean catalog, so "
        f"mediaclean leaves it alone: {ANOTHER} (nothing was changed).")


def problem_for(exc: BaseException, path: Path) -> KnownError | None:
    """One sentence for a SQLite or file-system failure on the catalog that is the world's fault.

    A full disk, a read-only file or file system, a damaged file, a busy database, an I/O
    error. Returns ``None`` for anything else (a bug: the caller logs its traceback).
    """
    if isinstance(exc, OSError):
        code = exc.errno
        if code == errno.ENOSPC or code == errno.EDQUOT:
            return _full(Path(os.fsdecode(exc.filename)) if exc.filename else path)
        if code == errno.EROFS:
            return read_only(path)
        if code == errno.EIO:
            return CatalogUnusable(f"Reading or writing on the disk failed (input/output error at "
                                   f"{exc.filename or path}): check the disk, then try again.")
        return None
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL":
        return _full(path)
    if name.startswith("SQLITE_READONLY"):
        return read_only(path)
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return CatalogUnusable(
            f"The catalog {path} is damaged ({exc}), so mediaclean stopped before relying on it: restore it from "
            f"a backup (mediaclean keeps a .bak copy beside it from before each upgrade), or start a new catalog "
            f"under another file name.")
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return CatalogUnusable(f"The catalog {path} is kept busy by another program: wait for it to finish and "
                               f"try again.")
    if name.startswith("SQLITE_IOERR") and _no_space(path):
        return _full(path)  # SQLite reports a full disk as an I/O error when its -shm or -wal cannot grow
    if name.startswith("SQLITE_IOERR"):
        return CatalogUnusable(f"Reading or writing the catalog {path} failed ({exc}): check the disk and that "
                               f"the file is a regular file, then try again.")
    if name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_PERM"):
        return CatalogUnusable(f"The catalog {path} cannot be opened ({exc}): check that it and its folder exist "
                               f"and are writable, or {ANOTHER}.")
    return None


def _no_space(path: Path) -> bool:
    """Whether the file system holding ``path`` has (almost) no room left for an unprivileged writer."""
    try:
        vfs = os.statvfs(path.parent if not path.is_dir() else path)
    except OSError:
        return False
    return vfs.f_bavail * vfs.f_frsize < 64 * 1024


def _full(path: Path) -> CatalogUnusable:
    return CatalogUnusable(
        f"The disk that holds {path} is full, so mediaclean stopped: free some space and run the command again "
        f"(a run it interrupted is settled at the next start).")
