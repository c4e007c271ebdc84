"""THE guarded delete path: every local deletion goes through :class:`GuardedRoot`.

Cleanup items, the local copy after a verified upload, temp and orphan sweeps, permanent and trash
mode alike. Just before acting, for each target: its form is checked (normal, absolute, strictly
below the root: :func:`safety.check_target`); its parent folder is reached by descriptor, one
component at a time with ``O_NOFOLLOW`` and a device check (:class:`safety.DirFds`: a folder swapped
for a link is never followed, a mount is never crossed); the target is ``lstat``-ed through that
descriptor and compared by ``(st_dev, st_ino)`` with every protected artifact of every project
(:class:`safety.Protection`, invariant 11) and with the plan's fingerprint (invariant 4); only then
is it unlinked, removed as an empty folder, or renamed into a trash on the same file system
(:class:`trash.TrashBin`, invariant 16). Nothing here follows a link or removes a folder recursively
except :meth:`GuardedRoot.remove_tree`, which applies the same checks to every entry it meets.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .catalog import display_path
from .events import fs_log, log_event
from .run.model import DeleteMode, ItemOutcome
from .safety import DIR_NOFOLLOW, DirFds, Protection, UnsafePath, check_target
from .trash import TrashBin, TrashUnavailable

#: ``(outcome, detail, freed bytes)`` of one target; ``None`` from :meth:`GuardedRoot.remove` means the
#: mode's default: deleted with its planned size freed, or trashed (nothing freed).
Removal = tuple[ItemOutcome, str, int]

_UNCHECKED: Any = object()


class Located(NamedTuple):
    """A target reached safely: its parent folder's descriptor and its name there."""

    parent_fd: int
    name: str


class Expected(NamedTuple):
    """A target's fingerprint from the plan: device, inode, size (bytes), mtime (ns), kind
    (``file``, ``dir``, ``link``). Folders are compared by device, inode and kind only. (Any tuple of
    these five values will do where one is expected.)"""

    dev: int | None
    ino: int | None
    size: int | None
    mtime_ns: int | None
    kind: str | None

    def matches(self, st: os.stat_result) -> bool:
        return _matches(self, st)


def _matches(expected: tuple[Any, ...], st: os.stat_result) -> bool:
    """``expected`` (dev, ino, size, mtime_ns, kind) is ``st``'s file, unchanged (invariant 4)."""
    dev, ino, size, mtime_ns, kind = expected
    if dev != st.st_dev or ino != st.st_ino:
        return False
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return bool(kind == "dir")
    return bool(kind == ("link" if stat.S_ISLNK(mode) else "file") and size == st.st_size
                and mtime_ns == st.st_mtime_ns)


def _message(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


@dataclass
class TreeResult:
    """What :meth:`GuardedRoot.remove_tree` did: files (and links) removed, bytes of regular files
    removed, and one line per problem (the rest of the tree was still removed where it could be)."""

    files: int = 0
    nbytes: int = 0
    errors: list[str] = field(default_factory=list)


class GuardedRoot:
    """Everything deleted below one root (a workspace, a temp root) goes through one of these.

    ``mode`` is ``permanent`` or ``trash``. :meth:`locate` runs on one thread (it opens and caches
    folder descriptors); :meth:`remove` may run on several threads at once for targets located
    while :meth:`DirFds.hold` is in effect. Close it when done.
    """

    def __init__(self, root: str, protection: Protection, mode: str = DeleteMode.PERMANENT.value) -> None:
        self.root = os.path.normpath(root)
        self.protection = protection
        self.mode = mode
        self.dirs = DirFds(self.root)
        self.root_dev = self.dirs.root_dev
        self.trash: TrashBin | None = None
        self.trash_error = ""
        self._base = self.root.rstrip(os.sep) + os.sep
        self._heads: dict[str, str | None] = {}  # folder path -> why its targets are refused (None: fine)
        self._held: dict[str, int] = {}  # folder path -> its descriptor, while hold() is in effect
        self._holding = False
        if mode == DeleteMode.TRASH.value:
            try:
                self.trash = TrashBin(self.root, self.root_dev)
            except (TrashUnavailable, OSError) as exc:
                self.trash_error = str(exc)

    def close(self) -> None:
        self.dirs.close()
        if self.trash is not None:
            self.trash.close()

    def __enter__(self) -> GuardedRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hold(self) -> None:
        """Until :meth:`release`, descriptors handed out by :meth:`locate` stay open (worker threads use them)
        and siblings reuse their folder's."""
        self.dirs.hold()
        self._holding = True

    def release(self) -> None:
        """End :meth:`hold`: every folder is reached afresh by the next :meth:`locate` (a folder swapped
        between two batches is noticed)."""
        self._holding = False
        self._held.clear()
        self.dirs.release()

    @property
    def default_outcome(self) -> ItemOutcome:
        """What :meth:`remove` returning ``None`` means in this mode."""
        return ItemOutcome.TRASHED if self.mode == DeleteMode.TRASH.value else ItemOutcome.DELETED

    def locate(self, target: str) -> Located | Removal:
        """``(parent folder descriptor, name)`` of ``target``, or the outcome that settles it now
        (refused, not reached safely, already gone). The form check of :func:`safety.check_target` is
        made once per folder, and the name's own parts for each target."""
        head, _, name = target.rpartition("/")
        reason = self._heads.get(head, _UNCHECKED)
        if reason is _UNCHECKED:
            reason = self._heads[head] = check_target(head + "/x", self.root) if head + "/" != self._base \
                else None
        if reason is None and (name in ("", ".", "..") or "\0" in name):
            reason = f"the path {target!r} is not in normal form (it has '.', '..' or empty parts)"
        if reason:
            return ItemOutcome.SKIPPED, f"refused: {reason}", 0
        fd = self._held.get(head)
        if fd is not None:  # a sibling of a target located since hold(): the same verified folder
            return Located(fd, name)
        try:
            found = Located(*self.dirs.parent_of(target))
            if self._holding:
                self._held[head] = found.parent_fd
            return found
        except FileNotFoundError:
            return ItemOutcome.ALREADY_GONE, "already gone", 0
        except UnsafePath as exc:
            return ItemOutcome.SKIPPED, f"not reached safely: {exc}", 0
        except OSError as exc:
            return self._failed(target, exc)

    def remove(self, parent_fd: int, name: str, target: str, expected: tuple[Any, ...] | None, *,
               folder: bool = False) -> Removal | None:
        """Check and remove one located target; never raises for the target's state.

        ``folder`` removes an empty folder (never recursively). ``expected`` is the plan's
        fingerprint (``None``: no fingerprint to compare, the identity checks still apply).
        Returns ``None`` for the mode's default outcome, else the outcome.
        """
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return ItemOutcome.ALREADY_GONE, "already gone", 0
        except OSError as exc:
            return self._failed(target, exc, expected[2] if expected is not None else None)
        mode = st.st_mode
        if (st.st_dev, st.st_ino) in self.protection.files or stat.S_ISDIR(mode) and self.protection.folders \
                or st.st_dev != self.root_dev or expected is not None and not _matches(expected, st):
            refusal = self._refusal(st, expected)
            if refusal:
                return ItemOutcome.SKIPPED, refusal, 0
        try:
            if folder:
                if not stat.S_ISDIR(st.st_mode):
                    return ItemOutcome.SKIPPED, "changed since preview (no longer a folder)", 0
                os.rmdir(name, dir_fd=parent_fd)
                return ItemOutcome.DELETED, "folder removed", 0
            if stat.S_ISDIR(st.st_mode):
                return ItemOutcome.SKIPPED, "changed since preview (now a folder)", 0
            if stat.S_ISLNK(st.st_mode):  # a link holds no data: removed as a link, never followed or trashed
                os.unlink(name, dir_fd=parent_fd)
                return ItemOutcome.DELETED, "symbolic link removed (its target is untouched)", 0
            if self.mode == DeleteMode.TRASH.value:
                if self.trash is None:
                    return ItemOutcome.FAILED, f"not moved to the trash: {self.trash_error}", 0
                self.trash.move(parent_fd, name, target)
                return None
            os.unlink(name, dir_fd=parent_fd)
        except FileNotFoundError:
            return ItemOutcome.ALREADY_GONE, "already gone", 0
        except OSError as exc:
            if folder and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return ItemOutcome.SKIPPED, "folder not empty: it holds files that were not in the plan", 0
            return self._failed(target, exc, 0 if folder else st.st_size)
        if st.st_nlink > 1:
            return ItemOutcome.DELETED, "other hard links to this file remain, so no space was freed", 0
        if fs_log.isEnabledFor(logging.DEBUG):
            log_event(fs_log, logging.DEBUG, "local_file_deleted", file_path=display_path(target), size=st.st_size)
        return None

    def _refusal(self, st: os.stat_result, expected: tuple[Any, ...] | None) -> str:
        why = self.protection.why(st)
        if why:
            return f"protected: {why}"
        if st.st_dev != self.root_dev:
            return "on another file system (a mount point); it is not crossed"
        if expected is not None and not _matches(expected, st):
            return "changed since preview"
        return ""

    def _failed(self, target: str, exc: BaseException, size: int | None = None) -> Removal:
        message = _message(exc)
        log_event(fs_log, logging.WARNING, "failed_to_delete_local_file", file_path=display_path(target),
                  size=size or 0, error=message)
        return ItemOutcome.FAILED, message, 0

    def remove_tree(self, parent_fd: int, name: str, shown: str) -> TreeResult:
        """Remove the folder (or file, or link) ``name`` of ``parent_fd`` and everything in it, entry by
        entry through descriptors, applying :meth:`remove`'s checks to each: protected entries and
        folders holding them stay, links are removed as links, mounts are not entered."""
        result = TreeResult()
        self._tree(parent_fd, name, shown, result)
        return result

    def _tree(self, parent_fd: int, name: str, shown: str, result: TreeResult, retry: bool = True) -> None:
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            result.errors.append(f"{shown}: {_message(exc)}")
            return
        refusal = self._refusal(st, None)
        if refusal:
            result.errors.append(f"{shown}: {refusal}")
            return
        if not stat.S_ISDIR(st.st_mode):
            try:
                os.unlink(name, dir_fd=parent_fd)
            except FileNotFoundError:
                return
            except OSError as exc:
                result.errors.append(f"{shown}: {_message(exc)}")
                return
            result.files += 1
            result.nbytes += st.st_size if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 else 0
            return
        try:
            fd = os.open(name, DIR_NOFOLLOW, dir_fd=parent_fd)
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and retry:  # swapped for a link or a file: look again
                self._tree(parent_fd, name, shown, result, retry=False)
                return
            result.errors.append(f"{shown}: {_message(exc)}")
            return
        try:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
                result.errors.append(f"{shown}: changed while it was being removed")
                return
            with os.scandir(fd) as it:
                names = [entry.name for entry in it]
            for child in names:
                self._tree(fd, child, f"{shown}/{os.fsdecode(child)}", result)
        except OSError as exc:
            result.errors.append(f"{shown}: {_message(exc)}")
        finally:
            os.close(fd)
        try:
            os.rmdir(name, dir_fd=parent_fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if not result.errors:  # "not empty" after a problem inside says nothing new
                result.errors.append(f"{shown}: {_message(exc)}")


def open_root(root: str, protection: Protection, mode: str) -> GuardedRoot | Removal:
    """A :class:`GuardedRoot` for workspace ``root``, or the outcome every item below it gets when the root
    cannot be opened: ``already_gone`` when the folder is gone, ``failed`` (with the reason) otherwise."""
    try:
        return GuardedRoot(root, protection, mode)
    except FileNotFoundError:
        return (ItemOutcome.ALREADY_GONE, "already gone (its workspace folder is gone)", 0)
    except OSError as exc:
        return (ItemOutcome.FAILED, f"the folder {display_path(root)} cannot be opened ({exc.strerror or exc})", 0)
