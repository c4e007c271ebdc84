"""The guards of SPEC section 3 in one place: containment, fingerprints, link-safe folder access, the identity
of protected artifacts. (The delete limits are in ``core.run.limits``.)"""

from __future__ import annotations

import os
import stat
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


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


#: how a folder below a root is opened: by descriptor, never through a symbolic link, not inherited by children
DIR_NOFOLLOW = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class DirFds:
    """Open folders below one root by file descriptor, one component at a time,
    with ``O_NOFOLLOW``: a folder swapped for a link after the preview is never
    followed, and a folder on another device is refused (invariant 2).

    Keeps a small cache of open folders; call :meth:`close` when done.
    """

    _FLAGS = DIR_NOFOLLOW

    def __init__(self, root: str, max_open: int = 64) -> None:
        self.root = os.path.normpath(root)
        self.root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        self.root_dev = os.fstat(self.root_fd).st_dev
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._max = max_open
        self._holding = False
        self._rel_dirs: dict[str, str] = {}  # absolute parent folder -> its relative path (lexical, checked once)

    def close(self) -> None:
        for fd in self._cache.values():
            os.close(fd)
        self._cache.clear()
        os.close(self.root_fd)

    def __enter__(self) -> DirFds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def open_count(self) -> int:
        """Folders held open now (besides the root)."""
        return len(self._cache)

    def hold(self) -> None:
        """Keep every descriptor handed out open until :meth:`release` (worker threads are using them)."""
        self._holding = True

    def release(self) -> None:
        """End :meth:`hold` and close every cached descriptor: the next batch opens its folders again, so a
        folder swapped for a link (or moved away) between two batches is noticed, never used through an
        old descriptor."""
        self._holding = False
        for fd in self._cache.values():
            os.close(fd)
        self._cache.clear()

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
        if len(self._cache) > self._max and not self._holding:
            _, old = self._cache.popitem(last=False)
            os.close(old)
        return fd


def check_target(target: str, root: str) -> str | None:
    """Why ``target`` may not be acted on under ``root``, or ``None`` (invariant 11).

    ``target`` must be an absolute path in normal form — no ``.``, ``..`` or empty components,
    no trailing slash — strictly below ``root``. Checked at planning and again at execution; this
    is the form of the target only: what it *is* is checked by identity (:class:`Protection`).
    """
    if "\0" in target:
        return "the path holds a NUL character"
    if not os.path.isabs(target) or target.startswith("//") or os.path.normpath(target) != target:
        return f"the path {target!r} is not in normal form (it has '.', '..' or empty parts)"
    base = os.path.normpath(root).rstrip(os.sep) + os.sep
    if not target.startswith(base):
        return "it lies outside the root"
    return None


def bad_placeholder_value(value: str | None) -> str | None:
    """Why ``value`` cannot be bound into a profile placeholder (a project id, external id, provider
    name), or ``None`` (invariant 11): ``/``, NUL, ``.`` and ``..`` would name other folders."""
    if value is None:
        return None
    if value in ("", ".", ".."):
        return f"{value!r} is not a usable folder name" if value else "it is empty"
    if "/" in value or "\0" in value:
        return f"{value!r} contains '/' or a NUL character, so it would name another folder"
    return None


@dataclass(frozen=True)
class Protection:
    """What may never be removed, by identity (invariant 11): ``files`` maps ``(st_dev, st_ino)`` of
    every protected artifact to why it is protected; ``folders`` the identities of every folder that
    holds one (a folder holding a protected file is never removed). Read just before acting."""

    files: dict[tuple[int, int], str]
    folders: dict[tuple[int, int], str]

    @classmethod
    def of_paths(cls, paths: dict[str, str]) -> Protection:
        """The identities of ``paths`` (path -> why) as they are now, and of every folder above each.
        A path that is gone protects nothing; links are not followed."""
        files: dict[tuple[int, int], str] = {}
        folders: dict[tuple[int, int], str] = {}
        seen_dirs: set[str] = set()
        for path, why in paths.items():
            try:
                st = os.lstat(path)
            except (OSError, ValueError):
                continue
            files.setdefault((st.st_dev, st.st_ino), why)
            folder = os.path.dirname(path)
            while folder and folder not in seen_dirs:
                seen_dirs.add(folder)
                try:
                    dst = os.lstat(folder)
                except (OSError, ValueError):
                    break
                folders.setdefault((dst.st_dev, dst.st_ino), f"it holds {why}")
                parent = os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
        return cls(files, folders)

    def why(self, st: os.stat_result) -> str | None:
        """Why the thing ``st`` describes is protected, or ``None``."""
        key = (st.st_dev, st.st_ino)
        found = self.files.get(key)
        if found is None and stat.S_ISDIR(st.st_mode):
            found = self.folders.get(key)
        return found
