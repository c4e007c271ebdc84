"""What the window does to projects: add a folder, import a generator database, scan, rename, remove.

Each dialog does its work while it stays open and shows its own errors (``dialogs.SubmitDialog``);
the table is reloaded and the new or renamed project selected once the work is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import KnownError
from ..core.importdb import import_generator_db
from ..core.projects import add_project, remove_project
from ..core.roots import broad_roots_allowed
from ..core.scan import scan_projects
from ..core.views import rename_project
from .dialogs import AddProjectDialog, ImportDbDialog, RenameDialog
from .workers import Task, TaskContext

if TYPE_CHECKING:
    from .main_window import MainWindow


def _registered(window: MainWindow, verb: str) -> Any:
    def done(ids: list[int] | None, error: BaseException | None) -> None:
        if error is None:
            window.say(f"{verb} {len(ids or [])} project(s).", 8000)
            window.refresh_projects(select=ids or [])

    return done


def add(window: MainWindow, root: str, profile: str, name: str | None = None, external_id: str | None = None,
        allow_broad: bool = False) -> Task:
    """Register a workspace folder (in a worker), scan it and select it; the task's error is the caller's.
    ``allow_broad``: the user confirmed a folder as broad as a home folder (``core.roots``)."""
    def work(ctx: TaskContext) -> list[int]:
        with broad_roots_allowed(allow_broad):
            ids = add_project(window.catalog, root, profile, name=name, external_id=external_id)
        scan_projects(window.catalog, ids, progress=ctx.progress, cancel=ctx.cancel)
        return ids

    return window.workers.run_task(work, _registered(window, "Added"), name="add project")


def import_db(window: MainWindow, db_file: str, workspace: str, allow_broad: bool = False) -> Task:
    """F9 in a worker: ``core.importdb.import_generator_db``, then a scan (``allow_broad`` as for :func:`add`)."""
    def work(ctx: TaskContext) -> list[int]:
        with broad_roots_allowed(allow_broad):
            result = import_generator_db(window.catalog, db_file, workspace)
        scan_projects(window.catalog, result.project_ids, progress=ctx.progress, cancel=ctx.cancel)
        return result.project_ids

    return window.workers.run_task(work, _registered(window, "Imported"), name="import")


def add_dialog(window: MainWindow, folder: str = "") -> AddProjectDialog:
    """Add a project folder: the dialog stays open until the folder is registered, or says why not."""
    def submit(dialog: AddProjectDialog) -> Task:
        value = dialog.value()
        if not value.root:
            raise KnownError("Choose the workspace folder first.")
        return add(window, value.root, value.profile, value.name, value.external_id)

    def recover(error: BaseException) -> Task | None:
        value = dialog.value()
        if window.ask_broad_root(error, "Add it anyway"):
            return add(window, value.root, value.profile, value.name, value.external_id, allow_broad=True)
        return None

    dialog = AddProjectDialog(window, folder if isinstance(folder, str) else "", submit=submit)
    dialog.recover = recover
    window.run_dialog(dialog)
    return dialog


def import_dialog(window: MainWindow, db_file: str = "") -> ImportDbDialog:
    """Import a generator database: the dialog stays open until it is imported, or says why not."""
    def submit(dialog: ImportDbDialog) -> Task:
        db, workspace = dialog.value()
        if not db:
            raise KnownError("Choose the generator's database file first.")
        if not workspace:
            raise KnownError("Choose the workspace folder its paths are relative to.")
        return import_db(window, db, workspace)

    def recover(error: BaseException) -> Task | None:
        db, workspace = dialog.value()
        if window.ask_broad_root(error, "Import it anyway"):
            return import_db(window, db, workspace, allow_broad=True)
        return None

    dialog = ImportDbDialog(window, db_file if isinstance(db_file, str) else "", submit=submit)
    dialog.recover = recover
    window.run_dialog(dialog)
    return dialog


def scan(window: MainWindow, project_ids: list[int] | None = None) -> Task:
    """Rescan sizes in a worker, then reload the table."""
    window.say("Scanning…")

    def work(ctx: TaskContext) -> Any:
        return scan_projects(window.catalog, project_ids, progress=ctx.progress, cancel=ctx.cancel)

    def done(result: Any, error: BaseException | None) -> None:
        if not window.running:
            window.progress_done()
        if error is not None:
            window.show_error(error)
        else:
            window.say(f"Scanned {len(result.projects)} project(s), {result.files_scanned:,} files "
                       f"in {result.seconds:.1f} s", 8000)
        window.refresh_projects()

    return window.workers.run_task(work, done, name="scan", on_progress=window.on_progress)


def rename_selected(window: MainWindow) -> RenameDialog | None:
    """Rename the selected project (the first, when several are selected)."""
    chosen = window.selected_projects()
    if not chosen:
        window.say("Select the project to rename first.", 5000)
        return None
    project = chosen[0]

    def submit(dialog: RenameDialog) -> Task:
        name = dialog.name.text().strip()
        if not name:
            raise KnownError("Type the project's new name.")

        def done(_: object, error: BaseException | None) -> None:
            if error is None:
                window.say(f"Renamed “{project.name}” to “{name}”.", 8000)
                window.refresh_projects(select=[project.id])

        return window.workers.run_task(lambda ctx: rename_project(window.catalog, project.id, name), done,
                                       name="rename project")

    dialog = RenameDialog(window, project.name, submit=submit)
    window.run_dialog(dialog)
    return dialog


def remove_selected(window: MainWindow) -> Task | None:
    """Forget the selected projects after asking (their folders and files stay where they are)."""
    chosen = window.selected_projects()
    if not chosen:
        window.say("Select the projects to remove first.", 5000)
        return None
    if window.running:
        window.say("A run is in progress; remove projects once it has finished.", 5000)
        return None
    names = chosen[0].name if len(chosen) == 1 else f"these {len(chosen)} projects"
    text = (f"Remove {names} from mediaclean?\n\nOnly the catalog forgets them: their folders and every file in "
            f"them stay exactly where they are. You can add them again later.")
    box = window.confirmation_box(text, "Remove project", "Remove")
    if not window.ask_confirmation_box(box):
        return None
    ids = [p.id for p in chosen]

    def work(ctx: TaskContext) -> None:
        for project_id in ids:
            remove_project(window.catalog, project_id)

    def done(_: object, error: BaseException | None) -> None:
        if error is not None:
            window.show_error(error)
            return
        window.say(f"Removed {names} from the catalog; no file was touched.", 8000)
        window.refresh_projects(select=[])

    return window.workers.run_task(work, done, name="remove project")
