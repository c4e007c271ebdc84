"""The freedesktop Trash: moving a verified entry there by descriptor, and restoring a trash-mode run."""

from __future__ import annotations

import datetime as dt
import enum
import errno
import json
import logging
import os
import shutil
import stat
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from .catalog import Catalog, display_path, iso, parse_iso, utcnow
from .errors import NotFound
from .events import fs_log, log_event
from .plan import fingerprint_of_row

MB = 1_000_000  # SI (SPEC section 4)
LOCAL_KINDS = ("clean", "temp", "orphans")
#: seconds of slack around a run's start and end when matching a ``DeletionDate`` (second precision, local time)
SLACK = 2.0


@dataclass(frozen=True)
class TrashEntry:
    """One file in a trash folder: ``files/<name>`` and its ``info/<name>.trashinfo``."""

    original: str
    deleted_at: dt.datetime  # aware, UTC
    file_path: str
    info_path: str


def xdg_data_home() -> str:
    return os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")


def _mount_point(path: str) -> str:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def trash_folders(paths: list[str]) -> list[tuple[str, str]]:
    """``(trash folder, top dir)`` pairs where files from ``paths`` may have gone (freedesktop
    Trash spec): the home trash ``$XDG_DATA_HOME/Trash`` and, per mount point ``$top``,
    ``$top/.Trash/$uid`` and ``$top/.Trash-$uid``. Relative ``Path=`` values are relative to the top dir."""
    home = xdg_data_home()
    found = [(os.path.join(home, "Trash"), home)]
    uid = str(os.getuid())
    for top in sorted({_mount_point(os.path.dirname(p) or "/") for p in paths}):
        found.append((os.path.join(top, ".Trash", uid), top))
        found.append((os.path.join(top, ".Trash-" + uid), top))
    unique: dict[str, str] = {}
    for folder, top in found:
        unique.setdefault(folder, top)
    return list(unique.items())


def read_trashinfo(info_path: str, top: str) -> tuple[str, dt.datetime] | None:
    """``(original absolute path, deletion time as aware UTC)`` from a ``.trashinfo`` file, or ``None``.

    ``Path=`` is URL-quoted bytes; ``DeletionDate`` is local time without a zone.
    """
    try:
        with open(info_path, "rb") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    path = date = None
    for line in lines:
        if line.startswith(b"Path="):
            path = os.fsdecode(unquote_to_bytes(line[5:].strip()))
        elif line.startswith(b"DeletionDate="):
            date = line[13:].strip().decode("ascii", "replace")
    if path is None or date is None:
        return None
    try:
        when = dt.datetime.fromisoformat(date)
    except ValueError:
        return None
    when = when.astimezone(dt.UTC)  # naive: taken as local time
    if not os.path.isabs(path):
        path = os.path.join(top, path)
    return os.path.normpath(path), when


def _entries(paths: list[str]) -> dict[str, list[TrashEntry]]:
    """Every trash entry whose original path is one of ``paths``, by original path."""
    wanted = set(paths)
    out: dict[str, list[TrashEntry]] = defaultdict(list)
    for folder, top in trash_folders(paths):
        info_dir = os.path.join(folder, "info")
        try:
            names = os.listdir(info_dir)
        except OSError:
            continue
        for name in names:
            if not name.endswith(".trashinfo"):
                continue
            info = os.path.join(info_dir, name)
            parsed = read_trashinfo(info, top)
            if parsed is None or parsed[0] not in wanted:
                continue
            file_path = os.path.join(folder, "files", name[: -len(".trashinfo")])
            if os.path.lexists(file_path):
                out[parsed[0]].append(TrashEntry(parsed[0], parsed[1], file_path, info))
    return out


class TrashUnavailable(Exception):
    """No trash folder on the file system of a root could be used; nothing is moved there."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class TrashBin:
    """A freedesktop.org trash folder on the same file system as a root, opened by descriptor.

    :meth:`move` moves one entry, given by its verified parent folder's descriptor, into the trash
    with ``renameat`` (never through a path, so a folder swapped for a link cannot redirect it;
    invariant 16) after reserving its name with an exclusive ``.trashinfo``. Because the trash is
    on the same file system, a move frees nothing until the trash is emptied.
    The home trash (``$XDG_DATA_HOME/Trash``) is used when it lies on the root's device; else
    ``$topdir/.Trash/$uid`` (a real folder with the sticky bit) or ``$topdir/.Trash-$uid``.
    Raises :class:`TrashUnavailable` when none can be used.
    """

    def __init__(self, root: str, root_dev: int) -> None:
        self.root_dev = root_dev
        self.folder, self.top = self._choose(root, root_dev)
        self.files_fd = self._open_sub("files")
        try:
            self.info_fd = self._open_sub("info")
        except BaseException:
            os.close(self.files_fd)
            raise

    def _choose(self, root: str, root_dev: int) -> tuple[str, str]:
        home = xdg_data_home()
        probe = home
        while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
            probe = os.path.dirname(probe)
        try:
            if os.stat(probe).st_dev == root_dev:
                os.makedirs(os.path.join(home, "Trash"), mode=0o700, exist_ok=True)
                return os.path.join(home, "Trash"), home
        except OSError:
            pass
        top = _mount_point(root)
        uid = str(os.getuid())
        shared = os.path.join(top, ".Trash")
        try:
            st = os.lstat(shared)
            if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and st.st_dev == root_dev:
                mine = os.path.join(shared, uid)
                os.makedirs(mine, mode=0o700, exist_ok=True)
                return mine, top
        except OSError:
            pass
        own = os.path.join(top, ".Trash-" + uid)
        try:
            os.mkdir(own, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise TrashUnavailable(f"no trash folder can be made on this file system ({exc.strerror})") from None
        st = os.lstat(own)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_dev != root_dev:
            raise TrashUnavailable(f"{own} is not a trash folder of yours on this file system")
        return own, top

    def _open_sub(self, name: str) -> int:
        top_fd = os.open(self.folder, _DIR_FLAGS)
        try:
            try:
                os.mkdir(name, 0o700, dir_fd=top_fd)
            except FileExistsError:
                pass
            fd = os.open(name, _DIR_FLAGS, dir_fd=top_fd)
        except OSError as exc:
            raise TrashUnavailable(f"the trash folder {self.folder} cannot be used ({exc.strerror})") from None
        finally:
            os.close(top_fd)
        if os.fstat(fd).st_dev != self.root_dev:
            os.close(fd)
            raise TrashUnavailable(f"the trash folder {self.folder} is on another file system")
        return fd

    def close(self) -> None:
        os.close(self.files_fd)
        os.close(self.info_fd)

    def move(self, parent_fd: int, name: str, original: str) -> str:
        """Move entry ``name`` of folder ``parent_fd`` (whose absolute path is ``original``) to the
        trash; returns the name it got there. Raises ``OSError`` (the entry stays where it was)."""
        base = os.fsencode(name)
        quoted = quote(os.fsencode(original if self.top == xdg_data_home() else os.path.relpath(original, self.top)),
                       safe="/")
        when = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        body = f"[Trash Info]\nPath={quoted}\nDeletionDate={when}\n".encode()
        for n in range(1, 1000):
            candidate = base if n == 1 else base + b".%d" % n
            if n > 50:
                candidate = base[:100] + b"." + uuid.uuid4().hex.encode()
            info = candidate + b".trashinfo"
            try:
                fd = os.open(info, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                             0o600, dir_fd=self.info_fd)
            except FileExistsError:
                continue
            try:
                os.write(fd, body)
            finally:
                os.close(fd)
            try:
                os.lstat(candidate, dir_fd=self.files_fd)
                os.unlink(info, dir_fd=self.info_fd)  # a stray file without its info: take another name
                continue
            except FileNotFoundError:
                pass
            try:
                os.rename(name, candidate, src_dir_fd=parent_fd, dst_dir_fd=self.files_fd)
            except BaseException:
                os.unlink(info, dir_fd=self.info_fd)
                raise
            return os.fsdecode(candidate)
        raise OSError(errno.EEXIST, "no free name in the trash")


class RestoreOutcome(str, enum.Enum):
    RESTORED = "restored"
    CONFLICT = "conflict"          # something else is at the original path: left in the trash
    ALREADY_BACK = "already_back"  # the same file is at its original path again
    MISSING = "missing"            # not in the trash any more (emptied, or restored elsewhere)
    FAILED = "failed"


@dataclass
class RestoreItem:
    target: str
    size: int
    outcome: RestoreOutcome
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"target": display_path(self.target), "size": self.size, "outcome": self.outcome.value,
                "detail": self.detail}


@dataclass
class Restorability:
    """Whether run ``run_id`` can be restored: ``in_trash`` of ``total`` trashed files are still
    in the trash; ``reason`` is a sentence for the user."""

    run_id: int
    possible: bool
    reason: str
    total: int = 0
    in_trash: int = 0
    already_back: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RestoreResult:
    """What :func:`restore_run` did; ``message`` is a sentence for the user."""

    run_id: int
    possible: bool
    message: str
    items: list[RestoreItem] = field(default_factory=list)

    def count(self, outcome: RestoreOutcome) -> int:
        return sum(1 for i in self.items if i.outcome is outcome)

    @property
    def restored_bytes(self) -> int:
        return sum(i.size for i in self.items if i.outcome is RestoreOutcome.RESTORED)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "restorable": self.possible,
            "message": self.message,
            "restored_count": self.count(RestoreOutcome.RESTORED),
            "restored_bytes": self.restored_bytes,
            "restored_size_mb": round(self.restored_bytes / MB, 2),
            "conflicts": [i.as_json() for i in self.items if i.outcome is RestoreOutcome.CONFLICT],
            "missing": [i.as_json() for i in self.items if i.outcome is RestoreOutcome.MISSING],
            "already_back": self.count(RestoreOutcome.ALREADY_BACK),
            "failed": [i.as_json() for i in self.items if i.outcome is RestoreOutcome.FAILED],
            "items": [i.as_json() for i in self.items],
        }


@dataclass
class _Trashed:
    target: str
    size: int
    fingerprint: dict[str, Any]
    entry: TrashEntry | None


def _run_row(catalog: Catalog, run_id: int) -> Any:
    row = catalog.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"No run {run_id}.", cli_hint="'mediaclean history' lists the runs.")
    return row


def _not_trash_reason(row: Any) -> str | None:
    if row["kind"] not in LOCAL_KINDS:
        return f"Run {row['id']} ({row['kind']}) did not move local files to the trash; there is nothing to restore."
    if row["mode"] != "trash":
        return (f"Run {row['id']} deleted its files permanently (delete mode '{row['mode']}'); they cannot be "
                f"restored. Set the preference delete_mode to trash to make future runs restorable.")
    return None


def _trashed(catalog: Catalog, row: Any) -> list[_Trashed]:
    """The run's files that went to the trash, each matched with its trash entry (or ``None``)."""
    items = catalog.conn.execute(
        "SELECT pi.target, pi.size, pi.fingerprint, pi.fp_dev, pi.fp_ino, pi.fp_size, pi.fp_mtime_ns, pi.fp_kind "
        "FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ? "
        "AND ri.outcome IN ('trashed', 'deleted') AND pi.action != 'delete_dir' ORDER BY pi.seq",
        (row["id"],),
    ).fetchall()
    targets = [os.path.normpath(os.fsdecode(r["target"])) for r in items]
    start = parse_iso(row["started_at"]) - dt.timedelta(seconds=SLACK)
    end = (parse_iso(row["ended_at"]) if row["ended_at"] else utcnow()) + dt.timedelta(seconds=SLACK)
    entries = _entries(targets)
    out = []
    for target, r in zip(targets, items, strict=True):
        fp = fingerprint_of_row(r)
        if fp.get("kind") == "link":  # links are removed, not trashed (they hold no data)
            continue
        candidates = [e for e in entries.get(target, []) if start <= e.deleted_at <= end]
        out.append(_Trashed(target, int(r["size"]), fp, _best(candidates, fp)))
    return out


def _best(candidates: list[TrashEntry], fp: dict[str, Any]) -> TrashEntry | None:
    """The entry that is the very file the run trashed: same inode (a rename keeps it), else same size."""
    same_size = []
    for entry in candidates:
        try:
            st = os.lstat(entry.file_path)
        except OSError:
            continue
        if st.st_ino == fp.get("ino") and st.st_dev == fp.get("dev"):
            return entry
        if st.st_size == fp.get("size", st.st_size):
            same_size.append(entry)
    return max(same_size, key=lambda e: e.deleted_at) if same_size else None


def _is_back(item: _Trashed) -> bool:
    try:
        st = os.lstat(item.target)
    except OSError:
        return False
    return st.st_ino == item.fingerprint.get("ino") and st.st_dev == item.fingerprint.get("dev")


def restorable(catalog: Catalog, run_id: int) -> Restorability:
    """Whether run ``run_id``'s trashed files can come back (the history's "Restore").

    Possible when the run was a local run in trash mode and at least one of
    its files is still in the trash: a ``.trashinfo`` whose ``Path=`` is the
    file's original path and whose ``DeletionDate`` lies within the run.
    Raises :class:`NotFound` for an unknown run.
    """
    row = _run_row(catalog, run_id)
    why = _not_trash_reason(row)
    if why:
        return Restorability(run_id, False, why)
    trashed = _trashed(catalog, row)
    if not trashed:
        return Restorability(run_id, False, f"Run {run_id} moved no files to the trash; there is nothing to restore.")
    in_trash = sum(1 for t in trashed if t.entry is not None)
    back = sum(1 for t in trashed if t.entry is None and _is_back(t))
    total = len(trashed)
    if in_trash:
        reason = f"{in_trash} of {total} file(s) of run {run_id} are still in the trash and can be restored."
        return Restorability(run_id, True, reason, total, in_trash, back)
    if back == total:
        reason = f"All {total} file(s) of run {run_id} are already back in their places."
    else:
        reason = (f"None of the {total} file(s) of run {run_id} are in the trash any more (the trash was emptied "
                  f"or they were restored elsewhere); they cannot be restored.")
    return Restorability(run_id, False, reason, total, 0, back)


def restore_run(catalog: Catalog, run_id: int) -> RestoreResult:
    """Move run ``run_id``'s files back from the trash to where they were.

    Never overwrites: a file whose original place is taken again stays in the
    trash (``conflict``). Folders the run removed on the way are recreated.
    Files no longer in the trash are ``missing`` (or ``already_back`` when the
    very same file is in place). The restore is recorded in the catalog
    (``restores``) and logged (``trash_restored``). Returns a result whose
    ``possible`` is ``False``, with a sentence saying why, when nothing can be
    restored. Raises :class:`NotFound` for an unknown run.
    """
    with catalog.writer("restore"):
        check = restorable(catalog, run_id)
        if not check.possible:
            return RestoreResult(run_id, False, check.reason)
        row = _run_row(catalog, run_id)
        result = RestoreResult(run_id, True, "")
        for item in _trashed(catalog, row):
            result.items.append(_restore_one(item))
        restored = result.count(RestoreOutcome.RESTORED)
        parts = [f"Restored {restored} file(s), {result.restored_bytes / MB:.2f} MB, of run {run_id} "
                 f"from the trash."]
        conflicts = result.count(RestoreOutcome.CONFLICT)
        if conflicts:
            parts.append(f"{conflicts} stayed in the trash because another file is at their place now.")
        missing = result.count(RestoreOutcome.MISSING)
        if missing:
            parts.append(f"{missing} are no longer in the trash.")
        failed = result.count(RestoreOutcome.FAILED)
        if failed:
            parts.append(f"{failed} could not be moved back.")
        result.message = " ".join(parts)
        catalog.conn.execute(
            "INSERT INTO restores(run_id, restored_at, restored_count, restored_bytes, conflict_count, "
            "missing_count, failed_count, summary, detail) VALUES (?,?,?,?,?,?,?,?,?)",
            (run_id, iso(), restored, result.restored_bytes, conflicts, missing, failed, result.message,
             json.dumps([i.as_json() for i in result.items])),
        )
        log_event(fs_log, logging.INFO, "trash_restored", run_id=run_id, restored=restored,
                  size=result.restored_bytes, conflicts=conflicts, missing=missing, failed=failed)
        return result


def _restore_one(item: _Trashed) -> RestoreItem:
    if item.entry is None:
        if _is_back(item):
            return RestoreItem(item.target, item.size, RestoreOutcome.ALREADY_BACK, "already back in its place")
        return RestoreItem(item.target, item.size, RestoreOutcome.MISSING, "no longer in the trash")
    if os.path.lexists(item.target):
        return RestoreItem(item.target, item.size, RestoreOutcome.CONFLICT,
                           "another file is at this place now; the trashed copy stays in the trash")
    try:
        os.makedirs(os.path.dirname(item.target), exist_ok=True)
        _move_no_replace(item.entry.file_path, item.target)
    except FileExistsError:
        return RestoreItem(item.target, item.size, RestoreOutcome.CONFLICT,
                           "another file appeared at this place; the trashed copy stays in the trash")
    except OSError as exc:
        log_event(fs_log, logging.WARNING, "trash_restore_failed", path=display_path(item.target),
                  error=exc.strerror or str(exc))
        return RestoreItem(item.target, item.size, RestoreOutcome.FAILED, exc.strerror or str(exc))
    try:
        os.unlink(item.entry.info_path)
    except OSError:
        pass
    return RestoreItem(item.target, item.size, RestoreOutcome.RESTORED, "moved back from the trash")


def _move_no_replace(src: str, dst: str) -> None:
    """Move ``src`` to ``dst`` without ever replacing ``dst`` (``FileExistsError`` if it exists).

    A hard link then an unlink on one file system; an exclusive-create copy across file systems.
    """
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        st = os.lstat(src)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        else:
            with open(src, "rb") as fin, open(dst, "xb") as fout:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
            shutil.copystat(src, dst, follow_symlinks=False)
    os.unlink(src)
