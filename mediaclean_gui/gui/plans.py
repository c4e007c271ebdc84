"""Plug the other planners into the generic preview: uploads, bucket sweeps, temp and orphan sweeps.

Each planner is looked up when its action is used, so the window works with
whatever parts of the core this build has; a missing part is said in a sentence.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from ..core.catalog import utcnow
from .dialogs import RemoteChoiceDialog

if TYPE_CHECKING:
    from .main_window import MainWindow


def core_function(module: str, name: str) -> Callable[..., Any] | None:
    """``mediaclean_gui.core.<module>.<name>``, or ``None`` when this build lacks it."""
    try:
        mod = importlib.import_module(f"mediaclean_gui.core.{module}")
    except ImportError:
        return None
    func = getattr(mod, name, None)
    return func if callable(func) else None


def remote_names(window: MainWindow) -> list[str] | None:
    """The catalog's remotes, or ``None`` when remotes are not supported yet."""
    lister = core_function("s3.remote", "list_remotes")
    if lister is None:
        return None
    try:
        return [r.name for r in lister(window.catalog)]
    except sqlite3.OperationalError:  # a catalog from before remotes existed
        return None


def need_remote(window: MainWindow, what: str) -> list[str]:
    """There is no remote for ``what`` yet: open Manage remotes (with a line saying why); the remotes
    there are once it closes (empty when the user added none)."""
    window.manage_remotes(f"{what} works on an S3 remote (a bucket, an optional prefix, an endpoint). Add one "
                          f"here, then {what.lower()} again — or straight away, once it is saved.")
    return remote_names(window) or []


def start_upload(window: MainWindow) -> None:
    """F3: choose a remote, then preview ``plan_upload`` for the selected project."""
    planner = core_function("s3.upload", "plan_upload")
    if planner is None:
        window.say("Uploads are not available in this build.", 5000)
        return
    chosen = window.selected_projects()
    if len(chosen) != 1:
        window.say("Select one project to upload.", 5000)
        return
    remotes = remote_names(window) or need_remote(window, "Upload")
    if not remotes:
        return
    project = chosen[0]
    dialog = RemoteChoiceDialog(window, "Upload", remotes, upload=True)
    if not window.run_dialog(dialog):
        return
    remote = dialog.remote.currentText()
    delete_after = dialog.delete_after.isChecked()
    window.preview(
        lambda cat, progress, cancel: planner(cat, project.id, remote, delete_after_upload=delete_after,
                                              progress=progress, cancel=cancel),
        f"Upload preview — {project.name} → {remote}",
    )


def start_sweep(window: MainWindow) -> None:
    """F4/F5: choose a remote and a retention, then preview ``plan_sweep``."""
    planner = core_function("s3.sweep", "plan_sweep")
    if planner is None:
        window.say("Bucket sweeps are not available in this build.", 5000)
        return
    remotes = remote_names(window) or need_remote(window, "Sweep")
    if not remotes:
        return
    dialog = RemoteChoiceDialog(window, "Sweep bucket", remotes, upload=False,
                                retention_days=int(window.catalog.pref("retention_days")))
    if not window.run_dialog(dialog):
        return
    remote = dialog.remote.currentText()
    days = dialog.retention.value()
    ahead = dialog.look_ahead.value()
    title = f"Sweep preview — {remote} (clips kept {days} days)"
    as_of = None
    if ahead:
        as_of = utcnow() + dt.timedelta(days=ahead)
        title = f"Sweep preview — {remote} (clips kept {days} days, ages as of {ahead} days from now)"
    window.preview(
        lambda cat, progress, cancel: planner(cat, remote, retention_days=days, as_of=as_of, progress=progress,
                                              cancel=cancel),
        title,
    )


def start_temp(window: MainWindow, folder: str | None = None) -> None:
    """F6: preview the orphaned render temp folders of a temp root."""
    planner = core_function("tempclean", "plan_temp")
    if planner is None:
        window.say("Temp sweeps are not available in this build.", 5000)
        return
    root = folder or QFileDialog.getExistingDirectory(window, "Choose the render temp folder")
    if not root:
        return
    hours = int(window.catalog.pref("temp_older_than_hours"))
    window.preview(
        lambda cat, progress, cancel: planner(cat, root, older_than_hours=hours, progress=progress, cancel=cancel),
        f"Temp sweep preview — {root} (older than {hours} h)",
    )


def start_orphans(window: MainWindow) -> None:
    """F7: preview files in the selected projects' output folders that the catalog does not know."""
    planner = core_function("orphans", "plan_orphans")
    if planner is None:
        window.say("Orphan sweeps are not available in this build.", 5000)
        return
    chosen = window.selected_projects()
    if not chosen:
        window.say("Select one or more projects first.", 5000)
        return
    ids = [p.id for p in chosen]
    hours = int(window.catalog.pref("orphan_older_than_hours"))
    window.preview(
        lambda cat, progress, cancel: planner(cat, ids, older_than_hours=hours, progress=progress, cancel=cancel),
        f"Orphan files preview — older than {hours} h",
    )


def replanner(plan: Any) -> Callable[..., int] | None:
    """A planner that makes a stored local plan (``clean``, ``orphans``, ``temp``) again from its own parameters,
    for **Refresh preview** of a plan the window did not make (a scheduled orphan report); ``None`` for other
    kinds (uploads and sweeps are made again from their dialogs)."""
    params = plan.params
    if plan.kind == "clean" and params.get("project_ids"):
        from ..core.clean import plan_cleanup

        ids = [int(i) for i in params["project_ids"]]
        return lambda cat, progress, cancel: int(plan_cleanup(cat, ids, progress=progress, cancel=cancel))
    if plan.kind == "orphans" and params.get("project_ids"):
        orphans = core_function("orphans", "plan_orphans")
        if orphans is None:
            return None
        ids, hours = [int(i) for i in params["project_ids"]], params.get("older_than_hours")
        return lambda cat, progress, cancel: int(orphans(cat, ids, older_than_hours=hours, progress=progress,
                                                         cancel=cancel))
    if plan.kind == "temp" and params.get("temp_root"):
        temp = core_function("tempclean", "plan_temp")
        if temp is None:
            return None
        root, hours = str(params["temp_root"]), params.get("older_than_hours")
        return lambda cat, progress, cancel: int(temp(cat, root, older_than_hours=hours, progress=progress,
                                                      cancel=cancel))
    return None
