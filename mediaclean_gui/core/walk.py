"""One ``os.scandir`` walk of a workspace folder that never follows links or crosses mounts."""

from __future__ import annotations

import errno
import os
import stat
from stat import S_ISDIR, S_ISLNK, S_ISREG
from collections.abc import Callable, Iterator
from typing import NamedTuple


class Entry(NamedTuple):
    """One thing the walk met (a named tuple: one is made per file, so it has to be cheap).

    ``kind`` is ``file``, ``dir`` (yielded after everything inside it),
    ``link`` (a symbolic link: never followed), ``mount`` (a folder on another
    device: not entered), ``special`` (socket, fifo, device) or ``unreadable``
    (a folder that could not be listed). ``rel`` is POSIX-style, relative to the root.
    """

    kind: str
    rel: str
    path: str
    st: os.stat_result | None
    error: str = ""


def walk(root: str, prefix: str = "", root_dev: int | None = None,
         prune: Callable[[str], bool] | None = None) -> Iterator[Entry]:
    """Walk ``root/prefix`` depth-first with one ``lstat`` per entry.

    Every folder on the way from ``root`` to ``prefix`` is checked first: if
    one is a symbolic link the walk yields that ``link`` entry and stops there.
    A missing prefix yields nothing. A folder for which ``prune(rel)`` is true is
    yielded as kind ``pruned`` and not entered (the caller measures it whole,
    e.g. with :func:`tree_size`).
    """
    if root_dev is None:
        root_dev = os.lstat(root).st_dev
    start = root
    rel = ""
    for part in [p for p in prefix.split("/") if p]:
        start = os.path.join(start, part)
        rel = f"{rel}/{part}" if rel else part
        try:
            st = os.lstat(start)
        except FileNotFoundError:
            return
        except OSError as exc:
            yield Entry("unreadable", rel, start, None, exc.strerror or str(exc))
            return
        if stat.S_ISLNK(st.st_mode):
            yield Entry("link", rel, start, st)
            return
        if not stat.S_ISDIR(st.st_mode):
            yield Entry("file" if stat.S_ISREG(st.st_mode) else "special", rel, start, st)
            return
        if st.st_dev != root_dev:
            yield Entry("mount", rel, start, st)
            return
    if prune is not None and rel and prune(rel):
        yield Entry("pruned", rel, start, os.lstat(start))
        return
    yield from _walk_dir(start, rel, root_dev, prune)
    if rel:
        try:
            yield Entry("dir", rel, start, os.lstat(start))
        except OSError:
            pass


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _open_dir(path: str, root_dev: int, *, top: bool = False) -> int | None:
    """A descriptor of folder ``path`` opened without following a link (a folder swapped for one since it
    was listed is not entered: ``ELOOP``/``ENOTDIR``), or ``None`` when it is on another device. The
    workspace root itself (``top``) is opened as the guarded delete path opens it: a link to it is
    followed, its device is not compared. Raises ``OSError``."""
    if top:
        return os.open(path, _DIR_FLAGS & ~os.O_NOFOLLOW)
    fd = os.open(path, _DIR_FLAGS)
    if os.fstat(fd).st_dev != root_dev:
        os.close(fd)
        return None
    return fd


def _walk_dir(path: str, rel: str, root_dev: int, prune: Callable[[str], bool] | None = None) -> Iterator[Entry]:
    """Depth-first, a folder's own entries first, then each subfolder's contents followed by the
    subfolder itself. Iterative (an explicit stack): a deep tree costs no chain of generators. Each
    folder is listed through a descriptor opened with ``O_NOFOLLOW`` and its entries ``lstat``-ed
    relative to it (one path component for the kernel to resolve, not the whole path)."""
    stack: list[tuple[str, str, os.stat_result | None]] = [(path, rel, None)]
    while stack:
        path, rel, done = stack.pop()
        if done is not None:  # every entry below this folder has been yielded
            yield Entry("dir", rel, path, done)
            continue
        try:
            fd = _open_dir(path, root_dev, top=not rel)
            if fd is None:
                continue  # became a mount since it was listed: not entered
            try:
                it = os.scandir(fd)
            except BaseException:
                os.close(fd)
                raise
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                continue  # swapped for a link or a file since it was listed: not entered
            yield Entry("unreadable", rel, path, None, exc.strerror or str(exc))
            continue
        subdirs: list[tuple[str, str, os.stat_result]] = []
        prefix = f"{rel}/" if rel else ""
        base = path if path.endswith("/") else f"{path}/"  # as ``DirEntry.path`` joins them
        try:
            with it:
                for entry in it:
                    name = entry.name
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        yield Entry("unreadable", prefix + name, base + name, None, exc.strerror or str(exc))
                        continue
                    mode = st.st_mode
                    if S_ISREG(mode):
                        yield Entry("file", prefix + name, base + name, st)
                    elif S_ISDIR(mode):
                        child_rel = prefix + name
                        if st.st_dev != root_dev:
                            yield Entry("mount", child_rel, base + name, st)
                        elif prune is not None and prune(child_rel):
                            yield Entry("pruned", child_rel, base + name, st)
                        else:
                            subdirs.append((base + name, child_rel, st))
                    elif S_ISLNK(mode):
                        yield Entry("link", prefix + name, base + name, st)
                    else:
                        yield Entry("special", prefix + name, base + name, st)
        finally:
            os.close(fd)
        for sub_path, sub_rel, st in reversed(subdirs):
            stack.append((sub_path, sub_rel, st))
            stack.append((sub_path, sub_rel, None))


def tree_size(path: str, root_dev: int) -> tuple[int, int]:
    """``(bytes, files)`` of the regular files below folder ``path``, in one tight loop: every folder is
    opened with ``O_NOFOLLOW`` (a link is never followed, not even one swapped in for ``path`` or a
    folder below it) and its entries ``lstat``-ed relative to it, other file systems are not entered,
    unreadable folders are skipped. For a scan that only needs the total of a folder every file of
    which classifies the same."""
    total = files = 0
    try:
        first = _open_dir(path, root_dev)
    except OSError:
        return 0, 0
    stack = [first] if first is not None else []
    try:
        while stack:
            fd = stack.pop()
            try:
                with os.scandir(fd) as it:
                    for entry in it:
                        try:
                            if entry.is_dir(follow_symlinks=False):
                                sub = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                                same = False
                                try:
                                    same = os.fstat(sub).st_dev == root_dev
                                finally:
                                    if not same:
                                        os.close(sub)
                                if same:
                                    stack.append(sub)
                                continue
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        if S_ISREG(st.st_mode):
                            total += st.st_size
                            files += 1
            except OSError:
                pass
            finally:
                os.close(fd)
    finally:
        for fd in stack:  # interrupted: no descriptor is left open
            os.close(fd)
    return total, files
