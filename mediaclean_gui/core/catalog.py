"""The local SQLite catalog: connect, migrate, the writer lock, preferences and small queries."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from .catalog_guard import APPLICATION_ID, check_path, identify, problem_for
from .errors import CatalogTooNew, CatalogUnusable, ConfigError
from .lockfile import LockFile

log = logging.getLogger("mediaclean.catalog")

CATALOG_ENV = "MEDIACLEAN_CATALOG"


def default_catalog_path() -> Path:
    """``$MEDIACLEAN_CATALOG`` or ``platformdirs.user_data_dir("mediaclean")/catalog.sqlite3``."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("mediaclean")) / "catalog.sqlite3"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(ts: dt.datetime | None = None) -> str:
    """ISO-8601 UTC with seconds, e.g. ``2026-11-21T10:42:17Z``."""
    return (ts or utcnow()).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    """Parse ISO-8601; a naive time is taken as UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def to_db_path(path: str | os.PathLike[str]) -> bytes:
    """A path as the OS bytes stored in BLOB columns (non-UTF-8 names survive)."""
    return os.fsencode(os.fspath(path))


def from_db_path(blob: bytes | str) -> str:
    """The inverse of :func:`to_db_path` (surrogate-escaped ``str``)."""
    return os.fsdecode(blob)


def display_path(path: str | bytes) -> str:
    """A path as printable text: undecodable bytes shown as U+FFFD."""
    if isinstance(path, str) and path.isascii():
        return path  # the common case, and the cheap one (called for every item of a run)
    raw = path if isinstance(path, bytes) else os.fsencode(path)
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------- migrations


def _migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every file ``migrations/NNNN_name.sql``, in order."""
    found = []
    for entry in (Path(__file__).parent / "migrations").iterdir():  # files beside this module, in every install
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    return found


def latest_version() -> int:
    return _migrations()[-1][0]


# ---------------------------------------------------------------- defaults

DEFAULT_PREFS: dict[str, Any] = {
    "auto_cleanup_enabled": True,
    "delete_mode": "permanent",
    "settle_seconds": 60,
    "max_delete_count": 10000,
    "max_delete_share": 1.0,
    "retention_days": 5,
    "grace_hours": 24,
    "temp_older_than_hours": 24,
    "orphan_older_than_hours": 24,
    # uploads (F3)
    "multipart_threshold_mb": 64,
    "upload_concurrency": 8,
    "remove_empty_folders": False,
    # scheduler: minutes between periodic jobs while the window is open (0 = off)
    "schedule_auto_minutes": 5,
    "schedule_temp_minutes": 0,
    "schedule_orphans_minutes": 0,
    "schedule_sweep_minutes": 0,
}

_PREF_TYPES: dict[str, type] = {k: type(v) for k, v in DEFAULT_PREFS.items()}
_PREF_CHOICES: dict[str, tuple[str, ...]] = {"delete_mode": ("permanent", "trash")}
_PREF_WANTED: dict[type, str] = {bool: "true or false", int: "a whole number", float: "a number"}
_INT64_MAX = 2**63 - 1
_YEAR_S = 365 * 24 * 3600
#: the range of each numeric preference: within SQLite's integers, and what datetime and Qt's timers can do
_PREF_RANGES: dict[str, tuple[float, float]] = {
    "settle_seconds": (0, _YEAR_S),
    "max_delete_count": (0, _INT64_MAX),
    "max_delete_share": (0.0, 1.0),
    "retention_days": (0, 36_500),
    "grace_hours": (0, 876_000),
    "temp_older_than_hours": (0, 876_000),
    "orphan_older_than_hours": (0, 876_000),
    "multipart_threshold_mb": (0, 5_000_000),  # S3's largest object: 5 TB
    "upload_concurrency": (0, 256),
    "schedule_auto_minutes": (0, 525_600),  # once a year at most
    "schedule_temp_minutes": (0, 525_600),
    "schedule_orphans_minutes": (0, 525_600),
    "schedule_sweep_minutes": (0, 525_600),
}
_DEFAULT_RANGE = {int: (0, _INT64_MAX), float: (0.0, 1.0)}


def _range_text(low: float, high: float) -> str:
    def shown(x: float) -> str:
        return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"

    return f"from {shown(low)} to {shown(high)}"


def coerce_pref(key: str, value: Any) -> Any:
    """Check and convert a preference value (strings from the CLI are parsed).

    Raises :class:`ConfigError` naming the key and what is wrong.
    """
    if key not in _PREF_TYPES:
        known = ", ".join(sorted(_PREF_TYPES))
        raise ConfigError(f"Unknown preference '{key}'. Known preferences: {known}.")
    kind = _PREF_TYPES[key]
    given = value
    lowest, highest = _PREF_RANGES.get(key, _DEFAULT_RANGE.get(kind, (0, 0)))
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    value = True
                elif low in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise ValueError(value)
            elif not isinstance(value, bool) and value not in (0, 1):
                raise ValueError(value)  # a list or a 7 is not a yes or a no
            value = bool(value)
        elif kind is int:
            if isinstance(value, str) and len(value.strip()) > 30:
                raise ValueError(value)  # out of range; no need to build the number
            value = int(value)
            if not lowest <= value <= highest:
                raise ValueError(value)
        elif kind is float:
            value = float(value)
            if not lowest <= value <= highest:  # also refuses nan
                raise ValueError(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        wanted = _PREF_WANTED.get(kind, f"a {kind.__name__} value")
        if kind in (int, float):
            wanted += " " + _range_text(lowest, highest)
        if isinstance(given, str) and len(given) > 40:
            given = given[:40] + "…"
        raise ConfigError(f"Preference '{key}' needs {wanted}, not {given!r}.") from None
    choices = _PREF_CHOICES.get(key)
    if choices and value not in choices:
        raise ConfigError(f"Preference '{key}' must be one of {', '.join(choices)}, not {value!r}.")
    return value


def pref_range(key: str) -> tuple[float, float] | None:
    """``(lowest, highest)`` a numeric preference accepts (for a spin box's range), ``None`` for others."""
    kind = _PREF_TYPES.get(key)
    if kind not in (int, float):
        return None
    return _PREF_RANGES.get(key, _DEFAULT_RANGE[kind])


def register_pref(key: str, default: Any, choices: tuple[str, ...] = ()) -> None:
    """Let another core module add a preference with its default (at import time)."""
    DEFAULT_PREFS.setdefault(key, default)
    _PREF_TYPES.setdefault(key, type(default))
    if choices:
        _PREF_CHOICES[key] = choices


# ---------------------------------------------------------------- the catalog

_process_lock = threading.RLock()
#: every Catalog not yet garbage-collected, for :func:`close_thread_connections` and :func:`open_catalogs`
_catalogs: weakref.WeakSet[Catalog] = weakref.WeakSet()
_catalogs_lock = threading.Lock()


def close_thread_connections() -> None:
    """Close the calling thread's connection to every catalog.

    A worker thread calls it when its task ends (``gui/workers.py``): the thread may end or
    serve another task, and its connections are closed now rather than by the garbage collector.
    """
    with _catalogs_lock:
        catalogs = list(_catalogs)
    for catalog in catalogs:
        catalog.close_thread_connection()


def open_catalogs() -> list[Catalog]:
    """Every catalog that holds an open connection now (in any thread)."""
    with _catalogs_lock:
        catalogs = list(_catalogs)
    return [c for c in catalogs if c.open_connections]


class Catalog:
    """One catalog file. Connections are per thread; writes that change files go
    through :meth:`writer`, which holds the lock file (invariant 9).

    Opening migrates the schema (with a backup copy first) or raises
    :class:`CatalogTooNew` without touching a catalog from a newer version.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, lock_timeout: float = 10.0) -> None:
        env = os.environ.get(CATALOG_ENV) or None
        # the path as the user typed it (--catalog, $MEDIACLEAN_CATALOG): Path() would drop a trailing '/'
        raw = path if isinstance(path, str) else (env if path is None else None)
        self.path = Path(path) if path is not None else default_catalog_path()
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._conns_lock = threading.Lock()
        self._conns: dict[threading.Thread, sqlite3.Connection] = {}  # every open connection, by its thread
        self._lock_depth = 0
        self._lock: LockFile | None = None
        # nothing is created or written before these checks pass
        check_path(self.path, raw, create_folder=path is None and env is None)
        LockFile(self.lock_path, self.path).check()  # invariant 17
        new = identify(self.path, latest_version())  # another application's database is left byte-identical
        with _catalogs_lock:
            _catalogs.add(self)
        try:
            try:
                self.conn.execute("SELECT 1").fetchone()
            except (OSError, sqlite3.Error) as exc:
                raise problem_for(exc, self.path) or CatalogUnusable(
                    f"The catalog {self.path} cannot be opened ({exc}): check that its folder exists and is "
                    f"writable, or choose another catalog file."
                ) from None
            self._check_version_and_migrate(new)
        except BaseException:
            self.close()  # a catalog that failed to open holds no connection (locked, too new, a full disk)
            raise

    # -- connections
    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so that another thread may close a connection whose thread has
        # ended; a connection is used by the thread that opened it alone (found through self._local)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use :meth:`transaction` to group writes).

        Opened on first use in each thread and kept until :meth:`close_thread_connection`
        (a worker's task ended) or :meth:`close`. Opening one also closes the connections of
        threads that have ended, so none is left to the garbage collector.
        """
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = self._connect()
            me = threading.current_thread()
            with self._conns_lock:
                stale = [self._conns.pop(t) for t in [t for t in self._conns if t is not me and _ended(t)]]
                mine = self._conns.get(me)  # a Qt thread reusing an ended one's identity: that one is unused
                if mine is not None:
                    stale.append(mine)
                self._conns[me] = conn
            for old in stale:
                old.close()
            local.conn = conn
        return conn

    def close_thread_connection(self) -> None:
        """Close the calling thread's connection, if it has one (a later use opens a new one)."""
        me = threading.current_thread()
        with self._conns_lock:
            conn = self._conns.pop(me, None)
            self._local.conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close the catalog's connections: this thread's and those of every thread that has ended.

        Thread-safe. A connection is never closed under a thread that may still be using it
        (CPython's sqlite3 can crash then, and a transaction must stay on one connection): a thread
        still running keeps its connection until its task ends and it closes it itself
        (:func:`close_thread_connections`, which ``gui/workers.py`` calls after every task; the
        window waits for its workers before closing the catalog). A later use opens a new one.
        """
        me = threading.current_thread()
        with self._conns_lock:
            conns = [self._conns.pop(t) for t in [t for t in self._conns if t is me or _ended(t)]]
            self._local.conn = None
        for conn in conns:
            conn.close()

    @property
    def open_connections(self) -> int:
        """How many connections are open now, all threads together."""
        with self._conns_lock:
            return len(self._conns)

    def __del__(self, _warn: Any = warnings.warn) -> None:  # _warn: still there at interpreter shutdown
        # a catalog dropped without close() is a leak to fix where it was dropped: a ResourceWarning
        # names it on every Python (3.13's sqlite3 warns only about each connection, and 3.11's not at
        # all); nothing is closed here, the connections are left to the garbage collector as they were
        count = len(getattr(self, "_conns", ()))  # none: __init__ failed before making it
        if count:
            _warn(f"catalog {self.path} dropped with {count} open connection(s); call close()",
                  ResourceWarning, stacklevel=2, source=self)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error); nests as a no-op."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            _rollback(conn)
            raise
        conn.execute("COMMIT")

    # -- schema
    def _check_version_and_migrate(self, new: bool) -> None:
        existed = not new
        conn = self.conn
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise problem_for(exc, self.path) or CatalogUnusable(
                f"The catalog {self.path} is not a SQLite database ({exc}): it was left as it is; choose another "
                f"catalog file, or a new file name to start a new catalog."
            ) from None
        latest = latest_version()
        if version > latest:
            raise CatalogTooNew(
                f"The catalog {self.path} was written by a newer mediaclean (schema {version}; "
                f"this version knows schema {latest} at most). Upgrade mediaclean, or choose another "
                f"catalog file. The file was not changed."
            )
        if version < latest:
            with self.writer("migrate"):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version < latest:
                    if existed:
                        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
                        backup = self.path.with_name(f"{self.path.name}.v{version}-{stamp}.bak")
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        try:
                            _backup_copy(self.path, backup)
                        except FileExistsError:
                            raise CatalogUnusable(
                                f"Something named {backup} is already where the catalog's backup copy goes, so "
                                f"the catalog was not upgraded: move it away and try again (nothing was "
                                f"changed).") from None
                        log.info("catalog_backup %s", backup)
                    self._migrate(conn, version)
        conn.execute("PRAGMA journal_mode = WAL")

    @staticmethod
    def _migrate(conn: sqlite3.Connection, current: int) -> None:
        for version, name, sql in _migrations():
            if version <= current:
                continue
            log.info("catalog_migrate to=%d name=%s", version, name)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version:d}")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")  # marks the file as mediaclean's
            except BaseException:
                _rollback(conn)
                raise
            conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- the writer lock (invariant 9)
    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def writer(self, purpose: str, timeout: float | None = None) -> Iterator[None]:
        """Hold the catalog's writer lock while the block runs (invariants 9 and 17).

        Re-entrant within one process. Another process waits up to ``timeout``
        seconds (default ``lock_timeout``) and then gets :class:`CatalogLocked`
        naming the holder's pid and purpose. A lock path that is a link, a folder
        or unreadable raises :class:`CatalogUnusable`; the lock file is never
        followed, truncated or written (see :mod:`.lockfile`).
        """
        with _process_lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            lock = LockFile(self.lock_path, self.path)
            lock.acquire(purpose, self.lock_timeout if timeout is None else timeout)
            self._lock = lock
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                self._lock = None
                lock.release()

    def lock_holder(self) -> dict[str, Any] | None:
        """What the holder record says about the lock's holder (pid, purpose, since), if anything."""
        return LockFile(self.lock_path, self.path).holder()

    # -- preferences
    def prefs(self) -> dict[str, Any]:
        """Every preference, defaults filled in.

        Raises :class:`ConfigError` when a stored value cannot be read (see :meth:`pref`).
        """
        values = dict(DEFAULT_PREFS)
        for row in self.conn.execute("SELECT key, value FROM preferences"):
            values[row["key"]] = _stored_pref(row["key"], row["value"])
        return values

    def has_running_runs(self) -> bool:
        """A run is recorded ``running``: live in another process, or left so by one that died (invariant 6)."""
        return self.conn.execute("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1").fetchone() is not None

    def pref(self, key: str) -> Any:
        """One preference, or its default.

        A stored value that is not JSON, or not a valid value of the preference (another
        program wrote it), raises :class:`ConfigError` instead of being guessed at: a
        default in its place could mean auto-cleanup back on.
        """
        row = self.conn.execute("SELECT value FROM preferences WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return _stored_pref(key, row["value"])
        if key not in DEFAULT_PREFS:
            coerce_pref(key, None)  # raises the "unknown preference" error
        return DEFAULT_PREFS[key]

    def set_pref(self, key: str, value: Any) -> Any:
        """Store a preference after :func:`coerce_pref`; returns the stored value."""
        value = coerce_pref(key, value)
        self.conn.execute(
            "INSERT INTO preferences(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
        return value


def _ended(thread: threading.Thread) -> bool:
    """Whether a thread has ended. A thread that ``threading`` did not start (a Qt worker thread)
    is alive for ever on Python 3.11, and on 3.13 raises ``RuntimeError`` once it has ended."""
    try:
        return not thread.is_alive()
    except RuntimeError:
        return True


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back after an error, keeping that error: SQLite has already rolled back by itself after
    some (a full disk, SQLITE_FULL), and a ROLLBACK then would raise 'no transaction is active'."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.warning("catalog_rollback_failed %s", exc)


def _stored_pref(key: str, raw: Any) -> Any:
    """A value read from the preferences table, checked as :func:`coerce_pref` checks a new one."""
    try:
        value = json.loads(raw)
        return coerce_pref(key, value) if key in _PREF_TYPES else value
    except (TypeError, ValueError, ConfigError):
        shown = repr(raw if not isinstance(raw, str) or len(raw) <= 40 else raw[:40] + "…")
        raise ConfigError(
            f"The catalog's preference '{key}' holds {shown}, which mediaclean cannot read (another program may "
            f"have written it): set it again, in the window's Preferences or with 'mediaclean prefs {key} VALUE'."
        ) from None


def _backup_copy(source: Path, backup: Path) -> None:
    """Copy the catalog to a new file ``backup``: created exclusively and never through a link, so a
    name planted beforehand (a link to a user's file) fails the migration instead of overwriting it."""
    fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    import shutil  # (here: it imports three compression modules, for every start otherwise)

    with open(fd, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out)
    shutil.copystat(source, backup, follow_symlinks=False)


def _split_sql(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside literals here)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
