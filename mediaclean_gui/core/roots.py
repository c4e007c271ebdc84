"""Folders too broad to be a workspace or a temp root: ``/``, home folders, system folders.

A workspace or temp root is where mediaclean plans deletions; ``/`` or a home folder given
by mistake (``project add ~``, ``temp $HOME``) would have it plan them among everything
the user owns. :func:`check_root` refuses such a folder with one sentence unless the user
confirmed it: ``allowed=True``, or inside :func:`broad_roots_allowed` (the command line's
``--allow-broad-root``, the window's "use it anyway" answer).
"""

from __future__ import annotations

import contextvars
import logging
import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import SafetyRefusal

log = logging.getLogger("mediaclean.fs")

WORKSPACE = "workspace"
TEMP_ROOT = "temp root"

#: folders that hold only the system: refused, and so is everything inside them (but see USER_TREES)
SYSTEM_TREES = ("/usr", "/etc", "/boot", "/bin", "/sbin", "/proc", "/sys", "/dev")
#: user-writable places inside the system trees: what is inside them is fine (/dev/shm is a tmpfs)
USER_TREES = ("/dev/shm",)
#: folders that hold many things besides a project: refused themselves (a project inside is fine)
SHARED = {
    "/run": "is a system folder",
    "/run/media": "holds mounted disks",
    "/run/user": "holds every user's runtime folder",
    "/dev/shm": "is the shared temporary folder",
    "/home": "holds every user's home folder",
    "/var": "is a system folder",
    "/opt": "is a system folder",
    "/srv": "is a system folder",
    "/mnt": "holds mounted disks",
    "/media": "holds mounted disks",
    "/tmp": "is the shared temporary folder",
    "/var/tmp": "is the shared temporary folder",
}
#: shared folders that are what a temp root is for (the README's 'mediaclean temp /tmp')
TEMP_OK = frozenset({"/tmp", "/var/tmp", "/dev/shm"})

_confirmed: contextvars.ContextVar[bool] = contextvars.ContextVar("mediaclean_broad_roots_allowed", default=False)


class BroadRoot(SafetyRefusal):
    """A workspace or temp root too broad to plan deletions in, not confirmed (exit 3)."""

    def __init__(self, message: str, path: str, purpose: str) -> None:
        super().__init__(message)
        self.path = path
        self.purpose = purpose

    def confirmed_by(self, how: str) -> BroadRoot:
        """The same refusal saying how to confirm, e.g. ``with --allow-broad-root``."""
        return BroadRoot(self.message.rstrip(".") + f" {how}.", self.path, self.purpose)


@contextmanager
def broad_roots_allowed(allowed: bool = True) -> Iterator[None]:
    """Within the block (this thread or task), :func:`check_root` lets broad roots pass when ``allowed``."""
    token = _confirmed.set(allowed)
    try:
        yield
    finally:
        _confirmed.reset(token)


def _users() -> list[pwd.struct_passwd]:
    try:
        return pwd.getpwall()
    except OSError:
        return []


def _my_home() -> str | None:
    me = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.realpath(me) if me and me != "/" else None


def _homes() -> dict[str, str]:
    """``{real path of a home folder: its user's name}`` for every user, and ``$HOME`` (name ``""``
    when no user has it)."""
    homes: dict[str, str] = {}
    for user in _users():
        if user.pw_dir and user.pw_dir != "/":
            homes.setdefault(os.path.realpath(user.pw_dir), user.pw_name)
    mine = _my_home()
    if mine is not None:
        homes.setdefault(mine, "")
    return homes


def why_broad(path: str | os.PathLike[str], purpose: str) -> str | None:
    """Why ``path`` (followed to its real location) is too broad for ``purpose``, or ``None``."""
    real = os.path.realpath(os.fspath(path))
    if real == "/":
        return "is the whole file system"
    if real in SHARED:
        return None if purpose == TEMP_ROOT and real in TEMP_OK else SHARED[real]
    top = "/" + Path(real).parts[1]
    inside_user_tree = any(real.startswith(tree + "/") for tree in USER_TREES)
    if (top in SYSTEM_TREES or top.startswith("/lib")) and not inside_user_tree:
        return "is a system folder"
    home = _homes().get(real)
    if home is not None:
        return "is your home folder" if real == _my_home() else f"is the home folder of the user {home}"
    parent = os.path.dirname(real)
    if parent in ("/media", "/run/media") and os.path.basename(real) in {u.pw_name for u in _users()}:
        return "holds a user's mounted disks"  # udisks mounts a user's disks in /media/USER or /run/media/USER
    return None


def check_root(path: str | os.PathLike[str], purpose: str, allowed: bool = False) -> None:
    """Refuse a workspace or temp root (``purpose``: :data:`WORKSPACE` or :data:`TEMP_ROOT`) that is
    ``/``, any user's home folder, or a system folder, unless confirmed.

    Links are followed to where the folder really is. A folder inside one of these
    (``~/Videos/ocean``, ``/srv/media``) is fine, except inside the system's own trees
    (``/usr``, ``/etc``, ``/boot``, ``/bin``, ``/sbin``, ``/lib*``, ``/proc``, ``/sys``,
    ``/dev``, ``/run``). ``/tmp`` and ``/var/tmp`` are fine as temp roots.

    Raises :class:`BroadRoot` (a :class:`SafetyRefusal`, exit 3) with the sentence.
    """
    why = why_broad(path, purpose)
    if why is None:
        return
    shown = os.fspath(path)
    if allowed or _confirmed.get():
        log.info("broad_root_confirmed path=%s purpose=%s (%s)", shown, purpose, why)
        return
    advice = ("the project's own folder (the generator's workspace)" if purpose == WORKSPACE
              else "the folder your renderer writes its temp folders to")
    raise BroadRoot(
        f"The folder {shown} {why}, too broad to be a {purpose} (mediaclean would plan deletions anywhere in it): "
        f"choose {advice}, or confirm that you mean it.", shown, purpose)
