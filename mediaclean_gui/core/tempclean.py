"""F6 temp cleanup (seed 003): ``cleanup_temp_path`` and the planner for orphaned render temp folders."""

from __future__ import annotations

import datetime as dt
import enum
import errno
import logging
import os
import stat
import time
from dataclasses import dataclass, field

import humanize

from .catalog import Catalog, display_path, iso
from .errors import ConfigError
from .events import CancelToken, Progress, fs_log, log_event
from .plan import Action, KeptBack, PlanBuilder, PlanItem, Reason
from .profiles import Role, get_profile
from .delete import GuardedRoot, Located
from .keeplist import KEPT_BY_YOU, matcher_for
from .roots import TEMP_ROOT, check_root
from .run.model import ItemOutcome
from .safety import Protection, fingerprint, is_within
from .walk import Entry, walk

TEMP_PROFILE = "render-temp"


class TempOutcome(str, enum.Enum):
    """What :func:`cleanup_temp_path` did."""

    REMOVED = "removed"
    ALREADY_GONE = "already_gone"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class TempCleanup:
    """The result of one :func:`cleanup_temp_path` call.

    ``kind`` is what was found there (``file``, ``dir``, ``link``, ``other`` or
    ``""`` when nothing was); ``bytes_freed`` counts regular files really removed
    (bytes); ``error`` says why it was refused or what failed.
    """

    path: str
    outcome: TempOutcome
    kind: str = ""
    files_removed: int = 0
    bytes_freed: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        """Nothing is left there: removed now, or it was already gone."""
        return self.outcome in (TempOutcome.REMOVED, TempOutcome.ALREADY_GONE)


@dataclass
class _Tally:
    files: int = 0
    nbytes: int = 0
    errors: list[str] = field(default_factory=list)


def _target_of(path: str | os.PathLike[str], real_root: str) -> str:
    """The absolute path ``path`` names, with ``..`` and the links of its parent chain resolved.

    The last component is not resolved: a link there is the thing to remove.
    A relative ``path`` is taken relative to the root.
    """
    raw = os.fspath(path)
    joined = raw if os.path.isabs(raw) else os.path.join(real_root, raw)
    head, name = os.path.split(joined.rstrip(os.sep) or os.sep)
    if name in ("", ".", ".."):
        return os.path.realpath(joined)
    return os.path.join(os.path.realpath(head), name)


def cleanup_temp_path(path: str | os.PathLike[str], root: str | os.PathLike[str], *,
                      protection: Protection | None = None) -> TempCleanup:
    """Remove the file or folder ``path`` if, and only if, it lies inside ``root`` (F6, seed 003).

    Idempotent: a path that is already gone is ``already_gone``, never an error.
    ``..`` and links in the parent chain are resolved first, and a path that
    ends up outside ``root`` (or is ``root`` itself) is ``refused``. A link at
    ``path`` is removed as a link, never followed. Removal goes through the
    guarded delete path (:meth:`core.delete.GuardedRoot.remove_tree`): folders by
    descriptor one level at a time with ``O_NOFOLLOW``, so a folder swapped for
    a link half-way is not followed, mounts inside are not crossed, and nothing
    ``protection`` names (by identity) is removed. Never raises for the file
    system's state: a permission problem is ``failed`` with the error, after
    removing what could be removed. Logs ``temp_path_removed``,
    ``temp_path_not_found``, ``temp_path_refused`` or ``temp_path_failed`` on
    ``mediaclean.fs``.
    """
    real_root = os.path.realpath(os.fspath(root))
    target = _target_of(path, real_root)
    shown = display_path(target)
    if not is_within(target, real_root) or os.path.normpath(target) == real_root:
        why = "it is the temp root itself" if os.path.normpath(target) == real_root else \
            f"it is outside the temp root {display_path(real_root)}"
        return _refused(shown, why, requested=display_path(os.fspath(path)))
    try:
        guarded = GuardedRoot(real_root, protection or Protection({}, {}))
    except FileNotFoundError:
        return _gone(shown)
    except OSError as exc:
        return _failed(shown, "", _Tally(errors=[_message(exc)]))
    with guarded:
        located = guarded.locate(target)
        if not isinstance(located, Located):
            outcome, detail, _ = located
            if outcome is ItemOutcome.ALREADY_GONE:
                return _gone(shown)
            if outcome is ItemOutcome.SKIPPED:
                return _refused(shown, f"reaching it would follow a link or cross a mount ({detail})")
            return _failed(shown, "", _Tally(errors=[detail]))
        parent_fd, name = located
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return _gone(shown)
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                return _gone(shown)
            return _failed(shown, "", _Tally(errors=[_message(exc)]))
        if stat.S_ISDIR(st.st_mode) and st.st_dev != guarded.root_dev:
            return _refused(shown, "another file system is mounted there; it is not crossed")
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else \
            "file" if stat.S_ISREG(st.st_mode) else "other"
        done = guarded.remove_tree(parent_fd, name, shown)
    tally = _Tally(done.files, done.nbytes, done.errors)
    if tally.errors:
        return _failed(shown, kind, tally)
    if tally.files == 0 and kind != "dir":
        return _gone(shown)
    log_event(fs_log, logging.INFO, "temp_path_removed", path=shown, kind=kind, files=tally.files,
              size=tally.nbytes)
    return TempCleanup(shown, TempOutcome.REMOVED, kind, tally.files, tally.nbytes)


def _message(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _gone(shown: str) -> TempCleanup:
    log_event(fs_log, logging.INFO, "temp_path_not_found", path=shown)
    return TempCleanup(shown, TempOutcome.ALREADY_GONE)


def _refused(shown: str, why: str, requested: str = "") -> TempCleanup:
    log_event(fs_log, logging.WARNING, "temp_path_refused", path=shown, requested=requested or shown, reason=why)
    return TempCleanup(shown, TempOutcome.REFUSED, error=f"Refused: {why}.")


def _failed(shown: str, kind: str, tally: _Tally) -> TempCleanup:
    error = tally.errors[0] + (f" (and {len(tally.errors) - 1} more)" if len(tally.errors) > 1 else "")
    log_event(fs_log, logging.ERROR, "temp_path_failed", path=shown, kind=kind, error=error,
              files_removed=tally.files, size=tally.nbytes)
    return TempCleanup(shown, TempOutcome.FAILED, kind, tally.files, tally.nbytes, error)


# ---------------------------------------------------------------- the F6 planner


def _timestamp(now: dt.datetime | float | None) -> float:
    if now is None:
        return time.time()
    return now.timestamp() if isinstance(now, dt.datetime) else float(now)


def plan_temp(
    catalog: Catalog,
    temp_root: str | os.PathLike[str],
    *,
    older_than_hours: float | None = None,
    now: dt.datetime | float | None = None,
    profile: str = TEMP_PROFILE,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Make and store the plan (kind ``temp``) for orphaned render temp folders; returns the plan id.

    Deletes nothing. Top-level folders of ``temp_root`` that match the profile
    (``intro_*``, ``trim_*``, ``concatenate_*``, … — seed 003) and in which
    nothing changed for ``older_than_hours`` hours (default: the preference
    ``temp_older_than_hours``), measured at ``now`` (UTC; default the clock),
    become items: their files (``delete_file``), then their folders
    deepest-first (``delete_dir``), with the temp root as the items' root, so
    :func:`core.execute.execute_plan` runs it. A folder in which anything
    changed more recently is kept back as ``still being written``; one holding
    a mount point or an unreadable folder is kept back whole. Links are never
    followed (a link inside a folder is removed as a link); top-level entries
    that do not match the profile are ignored.

    Raises :class:`ConfigError` for a missing temp root or a negative
    threshold, :class:`NotFound` for an unknown profile, ``Cancelled``.
    """
    hours = float(catalog.pref("temp_older_than_hours") if older_than_hours is None else older_than_hours)
    if hours < 0:
        raise ConfigError(f"The age threshold must be 0 hours or more, not {hours:g}.")
    root = os.path.realpath(os.fspath(temp_root))
    if not os.path.isdir(root):
        raise ConfigError(f"The temp root {display_path(os.fspath(temp_root))} does not exist or is not a folder.")
    check_root(root, TEMP_ROOT)  # not /, a home folder or a system folder, unless confirmed (/tmp is fine)
    layout = get_profile(profile)
    progress = progress or Progress()
    now_ts = _timestamp(now)
    cutoff = now_ts - hours * 3600
    root_dev = os.lstat(root).st_dev
    params = {"temp_root": root, "older_than_hours": hours, "now": iso(dt.datetime.fromtimestamp(now_ts, dt.timezone.utc)),
              "profile": layout.name}
    with catalog.writer("plan temp"):
        builder = PlanBuilder(catalog, "temp", params)
        try:
            folders: list[tuple[str, str]] = []
            with os.scandir(root) as it:
                for entry in sorted(it, key=lambda e: e.name):
                    found = layout.classify(entry.name, None)
                    if found is None or found.role is not Role.TEMP:
                        continue
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        builder.keep(KeptBack(entry.path, Reason.SYMLINK, 0, Role.TEMP.value,
                                              "a symbolic link named like a temp folder; it is not followed",
                                              group="temp"))
                    elif stat.S_ISDIR(st.st_mode):
                        if st.st_dev != root_dev:
                            builder.keep(KeptBack(entry.path, Reason.MOUNT_POINT, 0, Role.TEMP.value,
                                                  "another file system is mounted here; it is not crossed",
                                                  group="temp"))
                        else:
                            folders.append((entry.name, found.rule.rule))
            planned = in_use = 0
            scope = 0
            keeps = matcher_for(catalog, root, None)
            for n, (name, rule) in enumerate(folders):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                progress.update(done=n, total=len(folders), current=name, phase="planning")
                entries = list(walk(root, name, root_dev))
                size = sum(e.st.st_size for e in entries if e.kind == "file" and e.st is not None)
                scope += size
                folder = os.path.join(root, name)
                problem = next((e for e in entries if e.kind in ("mount", "unreadable") or
                                (e.kind == "link" and e.rel == name)), None)
                if problem is not None:
                    builder.keep(_problem(folder, problem, size))
                    continue
                kept = next((why for e in entries if keeps and (why := keeps.why(e.rel))), None)
                if kept:  # invariant 14: the user left (something in) this folder out of an earlier plan
                    builder.keep(KeptBack(folder, Reason.EXCLUDED, size, Role.TEMP.value, kept, group=KEPT_BY_YOU))
                    continue
                newest = max((e.st.st_mtime for e in entries if e.st is not None), default=now_ts)
                if newest > cutoff:
                    in_use += 1
                    age = humanize.naturaldelta(dt.timedelta(seconds=max(0.0, now_ts - newest)))
                    builder.keep(KeptBack(folder, Reason.IN_USE, size, Role.TEMP.value,
                                          f"something in it changed {age} ago; a temp folder goes only when "
                                          f"nothing in it changed for {hours:g} h", group="temp"))
                    continue
                planned += 1
                _add_folder(builder, root, entries, f"{rule}; unchanged for {hours:g} h")
            builder.preconditions.append({"scope_bytes": scope})
            summary = f"{planned} temp folder(s) unchanged for {hours:g} h in {display_path(root)}"
            if in_use:
                summary += f"; {in_use} still being written"
            progress.update(done=len(folders), total=len(folders), phase="planned")
            return builder.finish("ready", summary)
        except BaseException:
            builder.abandon()
            raise


def _problem(folder: str, entry: Entry, size: int) -> KeptBack:
    if entry.kind == "mount":
        return KeptBack(folder, Reason.MOUNT_POINT, size, Role.TEMP.value,
                        f"{entry.rel} is another file system; it is not crossed, so the folder stays", group="temp")
    if entry.kind == "link":
        return KeptBack(folder, Reason.SYMLINK, 0, Role.TEMP.value,
                        "the folder became a symbolic link; it is not followed", group="temp")
    return KeptBack(folder, Reason.UNREADABLE, size, Role.TEMP.value,
                    f"{entry.rel} cannot be read ({entry.error}), so the folder stays", group="temp")


def _add_folder(builder: PlanBuilder, root: str, entries: list[Entry], rule: str) -> None:
    """Files first (links as links), then folders in the walk's post-order: deepest first."""
    dirs: list[Entry] = []
    for entry in entries:
        if entry.st is None:
            continue
        if entry.kind == "dir":
            dirs.append(entry)
            continue
        text = rule + (" (a symbolic link: only the link is removed, never its target)" if entry.kind == "link" else "")
        builder.add(PlanItem(Action.DELETE_FILE, entry.path, entry.st.st_size if entry.kind == "file" else 0,
                             Role.TEMP.value, text, fingerprint(entry.st), root, None, "temp"))
    for entry in dirs:
        assert entry.st is not None
        builder.add(PlanItem(Action.DELETE_DIR, entry.path, 0, Role.TEMP.value, rule, fingerprint(entry.st), root,
                             None, "temp"))
