"""The guards of SPEC section 3 in one place: containment, fingerprints, link-safe removal, limits."""

from __future__ import annotations

import os
import stat
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .errors import SafetyRefusal


def fingerprint(st: os.stat_result) -> dict[str, Any]:
    """A file's identity at plan time (SPEC section 1): device, inode, size, mtime (ns), kind."""
    if stat.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat.S_ISLNK(st.st_mode):
        kind = "link"
    else:
        kind = "file"
    fp: dict[str, Any] = {"dev": st.st_dev, "ino": st.st_ino, "kind": kind}
    if kind != "dir":  # a folder's size and mtime change as its contents go
        fp["size"] = st.st_size
        fp["mtime_ns"] = st.st_mtime_ns
    return fp


def fingerprint_matches(expected: dict[str, Any], st: os.stat_result) -> bool:
    """True when ``st`` is the same object, unchanged, as when the plan was made (invariant 4):
    exactly ``fingerprint(st) == expected``, without building the dict (called for every item of a run)."""
    mode = st.st_mode
    kind = "dir" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode) else "file"
    if expected.get("dev") != st.st_dev or expected.get("ino") != st.st_ino or expected.get("kind") != kind:
        return False
    if kind == "dir":
        return len(expected) == 3
    return len(expected) == 5 and expected.get("size") == st.st_size and expected.get("mtime_ns") == st.st_mtime_ns


def is_within(path: str, root: str) -> bool:
    """Lexical containment after normalising ``..``: ``path`` is ``root`` or below it.

    Both must be absolute. Links are not resolved here; the walk and
    :class:`DirFds` never follow them.
    """
    path = os.path.normpath(path)
    root = os.path.normpath(root)
    if path == root:
        return True
    return path.startswith(root.rstrip(os.sep) + os.sep)


class UnsafePath(Exception):
    """Reaching the item would follow a link or cross a mount; the item is skipped."""


class DirFds:
    """Open folders below one root by file descriptor, one component at a time,
    with ``O_NOFOLLOW``: a folder swapped for a link after the preview is never
    followed, and a folder on another device is refused (invariant 2).

    Keeps a small cache of open folders; call :meth:`close` when done.
    """

    _FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

    def __init__(self, root: str, max_open: int = 64) -> None:
        self.root = os.path.normpath(root)
        self.root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        self.root_dev = os.fstat(self.root_fd).st_dev
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._max = max_open
        self._rel_dirs: dict[str, str] = {}  # absolute parent folder -> its relative path (lexical, checked once)

    def close(self) -> None:
        for fd in self._cache.values():
            os.close(fd)
        self._cache.clear()
        os.close(self.root_fd)

    def __enter__(self) -> "DirFds":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def forget(self, rel_dir: str) -> None:
        """Drop cached descriptors of ``rel_dir`` and below (after it was removed)."""
        for key in [k for k in self._cache if k == rel_dir or k.startswith(rel_dir + "/")]:
            os.close(self._cache.pop(key))

    def parent_of(self, path: str) -> tuple[int, str]:
        """``(dir_fd, name)`` for an absolute ``path`` inside the root.

        Raises :class:`UnsafePath` (outside root, a link or a mount on the way),
        ``FileNotFoundError`` when a folder on the way is gone.
        """
        head, name = os.path.split(path)
        rel_dir = self._rel_dirs.get(head)
        if rel_dir is None or not name or name in (".", ".."):
            if not is_within(path, self.root) or os.path.normpath(path) == self.root:
                raise UnsafePath("outside root")
            rel = os.path.relpath(os.path.normpath(path), self.root)
            rel_head, name = os.path.split(rel)
            rel_dir = rel_head.replace(os.sep, "/")
            if os.path.join(head, name) == path:  # already normal: remember the folder for its siblings
                self._rel_dirs[head] = rel_dir
        return self._open_dir(rel_dir), name

    def _open_dir(self, rel_dir: str) -> int:
        if not rel_dir:
            return self.root_fd
        fd = self._cache.get(rel_dir)
        if fd is not None:
            self._cache.move_to_end(rel_dir)
            return fd
        parent_rel, name = rel_dir.rpartition("/")[::2]
        parent_fd = self._open_dir(parent_rel)
        try:
            fd = os.open(name, self._FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno in (40, 20):  # ELOOP: a link; ENOTDIR: not a folder any more
                raise UnsafePath(f"'{rel_dir}' is no longer a folder (a symbolic link or a file)") from None
            raise
        if os.fstat(fd).st_dev != self.root_dev:
            os.close(fd)
            raise UnsafePath(f"'{rel_dir}' is on another file system (mount point)")
        self._cache[rel_dir] = fd
        if len(self._cache) > self._max:
            _, old = self._cache.popitem(last=False)
            os.close(old)
        return fd


@dataclass(frozen=True)
class DeleteLimits:
    """Invariant 8: plans above these need an explicit second confirmation.

    ``max_count`` items; ``max_share`` of ``total_bytes`` (1.0 disables the share check).
    """

    max_count: int
    max_share: float

    @classmethod
    def from_prefs(cls, prefs: dict[str, Any]) -> "DeleteLimits":
        return cls(int(prefs["max_delete_count"]), float(prefs["max_delete_share"]))

    def exceeded(self, count: int, nbytes: int, total_bytes: int) -> str | None:
        """A sentence saying which limit the plan exceeds, or ``None``."""
        if self.max_count and count > self.max_count:
            return f"the plan deletes {count} items, more than the limit of {self.max_count} (preference max_delete_count)"
        if self.max_share < 1.0 and total_bytes > 0 and nbytes / total_bytes > self.max_share:
            share = 100.0 * nbytes / total_bytes
            return (
                f"the plan deletes {share:.0f}% of the bytes scanned, more than the limit of "
                f"{100 * self.max_share:.0f}% (preference max_delete_share)"
            )
        return None


def require_confirmation(reason: str | None, confirmed: bool) -> None:
    """Raise :class:`SafetyRefusal` when a limit is exceeded and not confirmed a second time."""
    if reason and not confirmed:
        raise SafetyRefusal(
            f"Refused: {reason}. Nothing was deleted. Review the plan, then confirm it a second time "
            f"(--confirm-large on the command line) or raise the limit."
        )
