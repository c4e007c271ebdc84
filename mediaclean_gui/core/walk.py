"""One ``os.scandir`` walk of a workspace folder that never follows links or crosses mounts."""

from __future__ import annotations

import errno
import os
import stat
from stat import S_ISDIR, S_ISLNK, S_ISREG
from collections.abc import Callable, Generator, Iterator
from typing import NamedTuple

from .safety import DIR_NOFOLLOW


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


_NOT_ENTERED = (errno.ELOOP, errno.ENOTDIR)  # what opening a folder swapped for a link or a file raises


def _open_sub(parent_fd: int, name: str, root_dev: int) -> int | None:
    """A descriptor of the folder ``name`` in the folder ``parent_fd``, opened without following a link;
    ``None`` when it is on another device (it became a mount since it was listed). Raises ``OSError``
    (``ELOOP``/``ENOTDIR``: it was swapped for a link or a file)."""
    fd = os.open(name, DIR_NOFOLLOW, dir_fd=parent_fd)
    try:
        same = os.fstat(fd).st_dev == root_dev
    except BaseException:
        os.close(fd)
        raise
    if not same:
        os.close(fd)
        return None
    return fd


def _open_start(path: str, root_dev: int, top: bool) -> int | None:
    """The folder a walk starts from: the workspace root itself (``top``) is opened as the guarded delete
    path opens it (a link to it followed, its device not compared), a folder below it without following a
    link. ``None`` when it is on another device. Raises ``OSError``."""
    if top:
        return os.open(path, DIR_NOFOLLOW & ~os.O_NOFOLLOW)
    parent, _, name = path.rstrip("/").rpartition("/")
    parent_fd = os.open(parent or "/", DIR_NOFOLLOW & ~os.O_NOFOLLOW)
    try:
        return _open_sub(parent_fd, name, root_dev)
    finally:
        os.close(parent_fd)


def _list(fd: int, path: str, rel: str, root_dev: int, prune: Callable[[str], bool] | None,
          ) -> Generator[Entry, None, list[tuple[str, str, str, os.stat_result]]]:
    """Yield the entries of the open folder ``fd`` (``lstat``-ed relative to it) except the subfolders to
    enter, which it returns as ``(name, path, rel, stat)``."""
    subdirs: list[tuple[str, str, str, os.stat_result]] = []
    try:
        it = os.scandir(fd)
    except OSError as exc:
        yield Entry("unreadable", rel, path, None, exc.strerror or str(exc))
        return subdirs
    prefix = f"{rel}/" if rel else ""
    base = path if path.endswith("/") else f"{path}/"  # as ``DirEntry.path`` joins them
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
                    subdirs.append((name, base + name, child_rel, st))
            elif S_ISLNK(mode):
                yield Entry("link", prefix + name, base + name, st)
            else:
                yield Entry("special", prefix + name, base + name, st)
    return subdirs


def _walk_dir(path: str, rel: str, root_dev: int, prune: Callable[[str], bool] | None = None) -> Iterator[Entry]:
    """Depth-first, a folder's own entries first, then each subfolder's contents followed by the
    subfolder itself. Each subfolder is opened relative to its parent's descriptor with ``O_NOFOLLOW``
    (a folder swapped for a link, a file or a mount since it was listed is not entered — it is still
    yielded as ``dir``), and entries are ``lstat``-ed relative to their folder's descriptor. Iterative:
    one open folder per level of depth, no chain of generators."""
    try:
        fd = _open_start(path, root_dev, top=not rel)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno not in _NOT_ENTERED:
            yield Entry("unreadable", rel, path, None, exc.strerror or str(exc))
        return
    if fd is None:
        return
    # each open folder is in ``frames`` from the moment it is opened, so the ``finally`` closes it whatever happens
    frames: list[tuple[int, Entry | None, Iterator[tuple[str, str, str, os.stat_result]]]] = [(fd, None, iter(()))]
    try:
        frames[-1] = (fd, None, iter((yield from _list(fd, path, rel, root_dev, prune))))
        while frames:
            parent_fd, itself, pending = frames[-1]
            following = next(pending, None)
            if following is None:  # every entry below this folder has been yielded
                frames.pop()
                os.close(parent_fd)
                if itself is not None:
                    yield itself
                continue
            name, sub_path, sub_rel, st = following
            done = Entry("dir", sub_rel, sub_path, st)
            try:
                sub = _open_sub(parent_fd, name, root_dev)
            except FileNotFoundError:
                sub = None
            except OSError as exc:
                sub = None
                if exc.errno not in _NOT_ENTERED:
                    yield Entry("unreadable", sub_rel, sub_path, None, exc.strerror or str(exc))
            if sub is None:
                yield done
                continue
            frames.append((sub, done, iter(())))
            frames[-1] = (sub, done, iter((yield from _list(sub, sub_path, sub_rel, root_dev, prune))))
    finally:
        for open_fd, _, _ in frames:  # a consumer that stopped early: no descriptor is left open
            os.close(open_fd)


def tree_size(path: str, root_dev: int) -> tuple[int, int]:
    """``(bytes, files)`` of the regular files below folder ``path``, in one tight loop: every folder is
    opened relative to its parent with ``O_NOFOLLOW`` (a link is never followed, not even one swapped in
    for ``path`` or a folder below it; one open folder per level of depth) and its entries ``lstat``-ed
    relative to it, other file systems are not entered, unreadable folders are skipped. For a scan that
    only needs the total of a folder every file of which classifies the same."""
    total = files = 0
    try:
        first = _open_start(path, root_dev, top=False)
        frames = [] if first is None else [(first, os.scandir(first))]
    except OSError:
        return 0, 0
    try:
        while frames:
            fd, it = frames[-1]
            descend = None
            try:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            descend = _open_sub(fd, entry.name, root_dev)
                            if descend is not None:
                                break  # this folder's listing goes on once the subfolder is measured
                            continue
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if S_ISREG(st.st_mode):
                        total += st.st_size
                        files += 1
            except OSError:  # the listing itself failed: skip the rest of this folder
                pass
            if descend is None:
                frames.pop()
                it.close()
                os.close(fd)
                continue
            try:
                frames.append((descend, os.scandir(descend)))
            except OSError:
                os.close(descend)
    finally:
        for fd, it in frames:
            it.close()
            os.close(fd)
    return total, files
