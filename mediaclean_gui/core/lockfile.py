"""The catalog's writer lock file (invariants 9 and 17): opened without following links, never written.

The lock is ``flock`` on ``<catalog>.lock``. That file is only ever opened, locked and
closed: it is opened with ``O_NOFOLLOW`` and must be a regular file, and mediaclean never
truncates it or writes into it, so a lock path that is a symbolic link or a hard link to
a user's file cannot change that file. Who holds the lock (pid, purpose, since) is kept
in a separate small file, ``<catalog>.lock-holder``, written to a temporary name and
renamed into place (a rename replaces a link, it never writes through one).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

from .errors import CatalogLocked, CatalogUnusable

log = logging.getLogger("mediaclean.catalog")

_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_HOLDER_MAX = 64 * 1024  # bytes read from a holder file at most


def _kind(mode: int) -> str:
    """A file type in words, for sentences about what a path is instead of a file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


class LockFile:
    """The writer lock of one catalog. Not re-entrant: :class:`~.catalog.Catalog` counts depth.

    ``path`` is the lock file (``<catalog>.lock``), ``catalog`` the catalog file it guards
    (only used in sentences).
    """

    def __init__(self, path: Path, catalog: Path) -> None:
        self.path = path
        self.catalog = catalog
        self.holder_path = path.with_name(path.name + "-holder")
        self._fd: int | None = None

    # -- problems, as one sentence each
    def problem(self, exc: OSError | None = None) -> CatalogUnusable:
        """The sentence for a lock path that cannot be used (a link, a folder, unreadable, read-only)."""
        where = f"The catalog's lock file {self.path}"
        try:
            st = os.lstat(self.path)
        except OSError:
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(self.path)
            except OSError:
                target = "?"
            dangling = "" if os.path.exists(self.path) else ", which does not exist"
            return CatalogUnusable(
                f"{where} is a symbolic link (to {target}{dangling}), which mediaclean never follows: remove the "
                f"link and try again (nothing was changed).")
        if st is not None and not stat.S_ISREG(st.st_mode):
            return CatalogUnusable(
                f"{where} is {_kind(st.st_mode)}, not a file: remove or rename it and try again "
                f"(nothing was changed).")
        code = exc.errno if exc is not None else None
        if code == errno.EROFS:
            return CatalogUnusable(
                f"The catalog {self.catalog} is on a read-only file system, so mediaclean cannot change it: "
                f"make it writable, or choose another catalog file (nothing was changed).")
        if code in (errno.EACCES, errno.EPERM):
            return CatalogUnusable(
                f"{where} cannot be opened (permission denied): give your user read and write access to it and "
                f"its folder, or choose another catalog file (nothing was changed).")
        if code == errno.ENOSPC:
            return CatalogUnusable(
                f"The disk that holds the catalog {self.catalog} is full: free some space and try again "
                f"(nothing was changed).")
        reason = exc.strerror if exc is not None and exc.strerror else "it is not a regular file"
        return CatalogUnusable(
            f"{where} cannot be used ({reason.lower()}): remove it and try again, or choose another "
            f"catalog file (nothing was changed).")

    def check(self) -> None:
        """Refuse, before anything is created, a lock path that exists and is not a regular file."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return  # missing (created on first use), or its folder is unusable (the catalog says so)
        if not stat.S_ISREG(st.st_mode):
            raise self.problem()

    def _open(self) -> int:
        """Open (creating if need be) the lock file: never through a link, only a regular file."""
        self.check()  # a link, a folder, a pipe or a device is never opened at all
        try:
            fd = os.open(self.path, _OPEN_FLAGS, 0o644)
        except OSError as exc:
            raise self.problem(exc) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise self.problem()
        return fd

    # -- acquire and release
    def acquire(self, purpose: str, timeout: float) -> None:
        """Take the lock, waiting up to ``timeout`` seconds.

        Raises :class:`CatalogLocked` (exit 3) naming the holder when another process keeps
        it, :class:`CatalogUnusable` (exit 2) when the lock path cannot be used.
        """
        deadline = time.monotonic() + timeout
        while True:
            fd = self._open()
            try:
                got = self._wait(fd, deadline)
            except BaseException:
                os.close(fd)
                raise
            if not got:
                os.close(fd)
                raise self._locked()
            # the name must still be the file we locked (not swapped for another file or a link meanwhile)
            mine = os.fstat(fd)
            try:
                now = os.lstat(self.path)
                same = (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)
            except OSError:
                same = False
            if same:
                break
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise self.problem()
        self._fd = fd
        self._write_holder(purpose)

    @staticmethod
    def _wait(fd: int, deadline: float) -> bool:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)

    def _locked(self) -> CatalogLocked:
        holder = self.holder() or {}
        who = (f"process {holder.get('pid', '?')} ({holder.get('purpose', 'unknown work')}, "
               f"since {holder.get('since', '?')})")
        return CatalogLocked(f"The catalog {self.catalog} is in use by {who}. Wait for it to finish and try again.")

    def release(self) -> None:
        """Forget the holder record (while still holding the lock), then let the lock go."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            try:
                os.unlink(self.holder_path)  # removes a link itself, never its target
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("catalog_lock_holder_not_removed %s (%s)", self.holder_path, exc.strerror)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # -- who holds it
    def _write_holder(self, purpose: str) -> None:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # as catalog.iso(), without the import cycle
        info = json.dumps({"pid": os.getpid(), "purpose": purpose, "since": since}).encode()
        tmp = self.holder_path.with_name(f".{self.holder_path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            try:
                os.unlink(tmp)  # a stale one from a killed process with the same pid
            except FileNotFoundError:
                pass
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, info)
            finally:
                os.close(fd)
            os.replace(tmp, self.holder_path)
        except OSError as exc:
            # the lock itself is held; only "who holds it" will be unknown to a second process
            log.warning("catalog_lock_holder_not_written %s (%s)", self.holder_path, exc.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def holder(self) -> dict[str, Any] | None:
        """What the holder record says (``pid``, ``purpose``, ``since``), or ``None``.

        Falls back to the lock file's own content, where mediaclean 0.1 wrote it. Both are
        read without following links, and only when they are regular files.
        """
        for path in (self.holder_path, self.path):
            value = _read_json(path)
            if value is not None:
                return value
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, _HOLDER_MAX)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
