"""One ``os.scandir`` walk of a workspace folder that never follows links or crosses mounts."""

from __future__ import annotations

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


def _walk_dir(path: str, rel: str, root_dev: int, prune: Callable[[str], bool] | None = None) -> Iterator[Entry]:
    """Depth-first, a folder's own entries first, then each subfolder's contents followed by the
    subfolder itself. Iterative (an explicit stack): a deep tree costs no chain of generators."""
    stack: list[tuple[str, str, os.stat_result | None]] = [(path, rel, None)]
    while stack:
        path, rel, done = stack.pop()
        if done is not None:  # every entry below this folder has been yielded
            yield Entry("dir", rel, path, done)
            continue
        try:
            it = os.scandir(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            yield Entry("unreadable", rel, path, None, exc.strerror or str(exc))
            continue
        subdirs: list[tuple[str, str, os.stat_result]] = []
        with it:
            for entry in it:
                child_rel = f"{rel}/{entry.name}" if rel else entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    yield Entry("unreadable", child_rel, entry.path, None, exc.strerror or str(exc))
                    continue
                mode = st.st_mode
                if S_ISREG(mode):
                    yield Entry("file", child_rel, entry.path, st)
                elif S_ISDIR(mode):
                    if st.st_dev != root_dev:
                        yield Entry("mount", child_rel, entry.path, st)
                    elif prune is not None and prune(child_rel):
                        yield Entry("pruned", child_rel, entry.path, st)
                    else:
                        subdirs.append((entry.path, child_rel, st))
                elif S_ISLNK(mode):
                    yield Entry("link", child_rel, entry.path, st)
                else:
                    yield Entry("special", child_rel, entry.path, st)
        for sub_path, sub_rel, st in reversed(subdirs):
            stack.append((sub_path, sub_rel, st))
            stack.append((sub_path, sub_rel, None))


def tree_size(path: str, root_dev: int) -> tuple[int, int]:
    """``(bytes, files)`` of the regular files below folder ``path``, in one tight loop: links are not
    followed, other file systems not entered, unreadable folders skipped. For a scan that only needs
    the total of a folder every file of which classifies the same."""
    total = files = 0
    stack = [path]
    while stack:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.stat(follow_symlinks=False).st_dev == root_dev:
                            stack.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if S_ISREG(st.st_mode):
                    total += st.st_size
                    files += 1
    return total, files
