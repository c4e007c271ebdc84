"""The main window: projects table, breakdown picture, preview pane, history, and the plan → confirm → run flow."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.errors import KnownError, SafetyRefusal
from ..core.events import Cancelled, CancelToken, Progress
from ..core.run.lifecycle import reconcile_interrupted_runs
from ..core.importdb import import_generator_db
from ..core.plan import set_group_selected, set_selected
from ..core.projects import (
    Project,
    add_project,
    auto_cleanup_effective,
    env_allows_auto_cleanup,
    list_projects,
    set_auto_cleanup,
)
from ..core.runner import execute_any
from ..core.run.limits import check_limits
from ..core.scan import role_sizes, scan_projects
from ..core.scheduler import JobReport
from . import plans
from .actions import build_actions
from .auto_watch import AutoCleanupWatcher
from .breakdown import BreakdownWidget
from .bucket import BucketPanel
from .dialogs import AddProjectDialog, ImportDbDialog, confirmation_box
from .history import HistoryPanel
from .lifecycle_view import LifecycleDialog
from .models import ProjectsModel, ProjectsProxy, RecordRole, size_text
from .plan_model import PlanSummary, load_summary, run_outcomes
from .prefs_dialog import PreferencesDialog
from .preview import PreviewPane
from .progress import RateMeter, progress_line
from .responsive import keep_gui_responsive
from .schedule import ScheduleDriver, worth_telling
from .thumbnail import is_video
from .tray import make_tray, tooltip_text, total_reclaimed
from .workers import Task, TaskContext, Workers

log = logging.getLogger("mediaclean.gui")

EMPTY_STATE = "Add a project folder or import a generator database"
MakePlan = Callable[[Catalog, Progress, CancelToken], int]


class MainWindow(QMainWindow):
    """The mediaclean window on one catalog. Everything slow runs in :class:`Workers`."""

    #: ``(title, text)`` of every notification (auto-cleanup results, …).
    notified = Signal(str, str)
    #: A plan has been loaded into the preview pane (its id).
    previewReady = Signal(int)
    #: A run ended: the executor's result, or the error.
    runFinished = Signal(object)
    #: The projects table was reloaded.
    projectsRefreshed = Signal()
    #: The tray's "total reclaimed" was read again (bytes).
    reclaimedChanged = Signal(int)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.catalog = catalog
        self.workers = Workers(self)
        self.current_plan_id: int | None = None
        self.current_title = ""
        self.active_task: Task | None = None
        self.running = False
        self._run_started = 0.0
        self.rate = RateMeter()
        self._bar_state: dict[str, Any] = {}  # what the status bar's progress shows now (see _on_progress)
        #: ``(title, text)`` of the last 100 notifications, oldest first.
        self.notifications: list[tuple[str, str]] = []
        self.reclaimed = 0
        self.tray_menu: QMenu | None = None
        self.setWindowTitle(f"mediaclean — {catalog.path}")
        self.setAcceptDrops(True)

        self.acts = build_actions(self)
        self._build_central()
        self._build_history()
        self._build_bucket()
        self._build_status()
        self._connect()
        self.tray = self._make_tray()
        self.last_orphan_plan: int | None = None
        if self.tray is not None:
            self.tray.messageClicked.connect(self._tray_message_clicked)

        self.schedule = ScheduleDriver(catalog, self.workers, parent=self)
        self.schedule.reportReady.connect(self._schedule_report)
        self.schedule.idle.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.schedule.unseenEvents.connect(self._unseen_events)

        self.auto_watch = AutoCleanupWatcher(catalog, self.workers, parent=self)
        self.auto_watch.cleaned.connect(lambda name, text: self.notify(f"Auto-cleanup: {name}", text))
        self.auto_watch.refused.connect(lambda name, text: self.notify(f"Auto-cleanup of {name} did not run", text))
        self.auto_watch.cleaned.connect(lambda *_: self._after_background_run())
        self.auto_watch.started.connect(lambda name: self.statusBar().showMessage(f"Auto-cleanup of {name}…", 5000))

        self._clock = QTimer(self)  # keeps "3 minutes ago" true
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self.projects_model.refresh_times)
        self._clock.start()

        self.resize(1280, 800)
        self._sync_auto_toggle()
        self.refresh_projects()
        self.history.refresh()
        self._reconcile_if_needed()
        self.auto_watch.start()
        self.schedule.start()
        keep_gui_responsive()
        self.schedule.unseen()
        self.refresh_reclaimed()

    # ================================================================ layout
    def _build_central(self) -> None:
        self.projectFilter = QLineEdit()
        self.projectFilter.setObjectName("projectFilter")
        self.projectFilter.setPlaceholderText("Filter projects by name…")
        self.projectFilter.setClearButtonEnabled(True)
        self.projectFilter.setToolTip("Show only projects whose name contains this text")

        self.projects_model = ProjectsModel(self)
        self.projects_proxy = ProjectsProxy(self)
        self.projects_proxy.setSourceModel(self.projects_model)
        self.projectsTable = QTableView()
        self.projectsTable.setObjectName("projectsTable")
        self.projectsTable.setModel(self.projects_proxy)
        self.projectsTable.setSortingEnabled(True)
        self.projectsTable.sortByColumn(ProjectsModel.NAME, Qt.SortOrder.AscendingOrder)
        self.projectsTable.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.projectsTable.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.projectsTable.setAlternatingRowColors(True)
        self.projectsTable.verticalHeader().setVisible(False)
        self.projectsTable.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.projectsTable.setWordWrap(False)
        self.projectsTable.verticalHeader().setDefaultSectionSize(self.projectsTable.fontMetrics().height() + 10)
        self.projectsTable.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.projectsTable.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(ProjectsModel.NAME, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(ProjectsModel.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        empty = QWidget()
        empty.setObjectName("emptyState")
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        self.emptyLabel = QLabel(EMPTY_STATE)
        self.emptyLabel.setObjectName("emptyStateLabel")
        self.emptyLabel.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.emptyLabel.setWordWrap(True)
        font = self.emptyLabel.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.emptyLabel.setFont(font)
        empty_layout.addWidget(self.emptyLabel)
        row = QHBoxLayout()
        row.addStretch(1)
        for action in (self.acts.add_project, self.acts.import_db):
            button = QPushButton(action.icon(), action.text())
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        row.addStretch(1)
        empty_layout.addLayout(row)
        hint = QLabel("You can also drop a folder onto this window.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_layout.addWidget(hint)
        empty_layout.addStretch(2)
        self.tableStack = QStackedWidget()
        self.tableStack.addWidget(empty)
        self.tableStack.addWidget(self.projectsTable)

        self.breakdown = BreakdownWidget()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(self.projectFilter)
        left_layout.addWidget(self.tableStack, 1)
        left_layout.addWidget(self.breakdown)

        self.pane = PreviewPane(self.catalog, self.workers)
        self.previewPane = self.pane
        self.planView = self.pane.planView
        self.confirmButton = self.pane.confirmButton
        self.cancelButton = self.pane.cancelButton

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setSizes([650, 630])
        self.setCentralWidget(self.splitter)

    def _build_history(self) -> None:
        self.history = HistoryPanel(self.catalog, self.workers)
        self.historyView = self.history.historyView
        dock = QDockWidget("History", self)
        dock.setObjectName("historyDock")
        dock.setWidget(self.history)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [190], Qt.Orientation.Vertical)
        self.view_menu.addAction(dock.toggleViewAction())  # type: ignore[attr-defined]
        self.history_dock = dock

    def _build_bucket(self) -> None:
        """The "Bucket" dock (tabbed with History): a remote's usage by prefix and age."""
        self.bucket = BucketPanel(self.catalog, self.workers)
        dock = QDockWidget("Bucket", self)
        dock.setObjectName("bucketDock")
        dock.setWidget(self.bucket)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.tabifyDockWidget(self.history_dock, dock)
        self.history_dock.raise_()
        self.view_menu.addAction(dock.toggleViewAction())  # type: ignore[attr-defined]
        self.bucket_dock = dock
        self.bucket.errorRaised.connect(self.show_error)
        self.bucket.reload_remotes()

    def _build_status(self) -> None:
        self.statusProgress = QProgressBar()
        self.statusProgress.setObjectName("statusProgress")
        self.statusProgress.setMaximumWidth(260)
        self.statusProgress.setTextVisible(True)
        self.statusProgress.setValue(0)
        self.statusProgress.setToolTip("Progress of the current scan, plan or run")
        self.statusProgress.hide()
        self.statusBar().addPermanentWidget(self.statusProgress)
        self.statusBar().showMessage("Ready", 3000)

    def _connect(self) -> None:
        a = self.acts
        a.add_project.triggered.connect(self.add_project_dialog)
        a.import_db.triggered.connect(self.import_db_dialog)
        a.scan.triggered.connect(self.scan_selected)
        a.preview_cleanup.triggered.connect(self.preview_cleanup)
        a.upload.triggered.connect(lambda: plans.start_upload(self))
        a.sweep.triggered.connect(lambda: plans.start_sweep(self))
        a.temp.triggered.connect(lambda: plans.start_temp(self))
        a.orphans.triggered.connect(lambda: plans.start_orphans(self))
        a.bucket_usage.triggered.connect(lambda: self.show_bucket_usage(refresh=True))
        a.lifecycle.triggered.connect(lambda: self.open_lifecycle())
        a.run_due.triggered.connect(self.run_due_jobs_now)
        a.preferences.triggered.connect(self.open_preferences)
        a.auto_toggle.toggled.connect(self._auto_toggled)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self._about)
        self.projectFilter.textChanged.connect(self.projects_proxy.setFilterFixedString)
        self.projectsTable.selectionModel().selectionChanged.connect(self._selection_changed)
        self.projectsTable.customContextMenuRequested.connect(self._context_menu)
        self.projectsTable.doubleClicked.connect(lambda _: self.preview_cleanup())
        self.confirmButton.clicked.connect(self.confirm)
        self.cancelButton.clicked.connect(self.cancel)
        self.pane.model.on_toggle = self._store_selection
        self.pane.model.on_group_toggle = self._store_group_selection
        self.pane.expireButton.clicked.connect(self._expire_versions)
        self.planView.selectionModel().currentChanged.connect(self._plan_current_changed)
        self.history.errorRaised.connect(self.show_error)
        self.history.restored.connect(self._restored)

    def _make_tray(self) -> QSystemTrayIcon | None:
        return make_tray(self)

    def show_from_tray(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def refresh_reclaimed(self) -> Task:
        """Read the total reclaimed (sum of ``runs.freed_bytes``) for the tray's tooltip, in a worker."""
        def done(freed: int | None, error: BaseException | None) -> None:
            if error is not None or freed is None:
                return
            self.reclaimed = freed
            if self.tray is not None:
                self.tray.setToolTip(tooltip_text(freed))
            self.reclaimedChanged.emit(freed)

        return self.workers.run_task(lambda ctx: total_reclaimed(self.catalog), done, name="reclaimed")

    # ================================================================ projects
    def refresh_projects(self, select: list[int] | None = None) -> None:
        """Reload the table from the catalog (in a worker); keep or set the selection."""
        keep = select if select is not None else [p.id for p in self.selected_projects()]

        def load(ctx: TaskContext) -> tuple[list[Project], dict[int, bool]]:
            prefs = self.catalog.prefs()
            projects = list_projects(self.catalog)
            return projects, {p.id: auto_cleanup_effective(self.catalog, p, prefs) for p in projects}

        def loaded(value: tuple[list[Project], dict[int, bool]] | None, error: BaseException | None) -> None:
            if error is not None or value is None:
                self.show_error(error)
                return
            projects, auto = value
            self.projects_model.set_projects(projects, auto)
            self.tableStack.setCurrentIndex(1 if projects else 0)
            self._select_ids(keep)
            self._show_breakdown()
            self.projectsRefreshed.emit()

        self.workers.run_task(load, loaded, name="projects")

    def _select_ids(self, ids: list[int]) -> None:
        selection = self.projectsTable.selectionModel()
        selection.clearSelection()
        for row in range(self.projects_proxy.rowCount()):
            index = self.projects_proxy.index(row, 0)
            project = index.data(RecordRole)
            if project is not None and project.id in ids:
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
                self.projectsTable.setCurrentIndex(index)

    def selected_projects(self) -> list[Project]:
        rows = self.projectsTable.selectionModel().selectedRows() if self.projectsTable.selectionModel() else []
        return [r.data(RecordRole) for r in rows if r.data(RecordRole) is not None]

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self._show_breakdown()

    def _show_breakdown(self) -> None:
        chosen = self.selected_projects()
        if not chosen:
            self.breakdown.clear("")
            return
        project = chosen[0]
        sizes = role_sizes(self.catalog, project.id)  # one small indexed query
        caption = f"{size_text(project.total_bytes)} · {size_text(project.reclaimable_bytes)} reclaimable"
        title = project.name if len(chosen) == 1 else f"{project.name} (+{len(chosen) - 1} more selected)"
        self.breakdown.set_breakdown(title, sizes, caption)

    def scan_selected(self) -> None:
        ids = [p.id for p in self.selected_projects()] or None
        self.scan(ids)

    def scan(self, project_ids: list[int] | None = None) -> None:
        """Rescan sizes in a worker, then reload the table."""
        self.statusBar().showMessage("Scanning…")

        def work(ctx: TaskContext) -> Any:
            return scan_projects(self.catalog, project_ids, progress=ctx.progress, cancel=ctx.cancel)

        def done(result: Any, error: BaseException | None) -> None:
            if not self.running:
                self._progress_done()
            if error is not None:
                self.show_error(error)
            else:
                self.statusBar().showMessage(
                    f"Scanned {len(result.projects)} project(s), {result.files_scanned:,} files "
                    f"in {result.seconds:.1f} s", 8000)
            self.refresh_projects()

        self.workers.run_task(work, done, name="scan", on_progress=self._on_progress)

    def add_project(self, root: str, profile: str, name: str | None = None, external_id: str | None = None) -> Task:
        """Register a workspace folder (in a worker), scan it and select it."""
        def work(ctx: TaskContext) -> list[int]:
            ids = add_project(self.catalog, root, profile, name=name, external_id=external_id)
            scan_projects(self.catalog, ids, progress=ctx.progress, cancel=ctx.cancel)
            return ids

        return self.workers.run_task(work, lambda ids, e: self._registered(ids, e, "Added"), name="add project")

    def import_database(self, db_file: str, workspace: str) -> Task:
        """F9 in a worker: ``core.importdb.import_generator_db``, then a scan."""
        def work(ctx: TaskContext) -> list[int]:
            result = import_generator_db(self.catalog, db_file, workspace)
            scan_projects(self.catalog, result.project_ids, progress=ctx.progress, cancel=ctx.cancel)
            return result.project_ids

        return self.workers.run_task(work, lambda ids, e: self._registered(ids, e, "Imported"), name="import")

    def _registered(self, ids: list[int] | None, error: BaseException | None, verb: str) -> None:
        if error is not None:
            self.show_error(error)
            return
        self.statusBar().showMessage(f"{verb} {len(ids or [])} project(s).", 8000)
        self.refresh_projects(select=ids or [])

    def add_project_dialog(self, folder: str = "") -> None:
        dialog = AddProjectDialog(self, folder if isinstance(folder, str) else "")
        if self.run_dialog(dialog):
            value = dialog.value()
            if not value.root:
                self.show_error(KnownError("Choose the workspace folder first."))
                return
            self.add_project(value.root, value.profile, value.name, value.external_id)

    def import_db_dialog(self, db_file: str = "") -> None:
        dialog = ImportDbDialog(self, db_file if isinstance(db_file, str) else "")
        if self.run_dialog(dialog):
            db, workspace = dialog.value()
            if not db or not workspace:
                self.show_error(KnownError("Choose the database file and its workspace folder first."))
                return
            self.import_database(db, workspace)

    def run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; ``True`` when accepted (tests replace this)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def _context_menu(self, pos: QPoint) -> None:
        index = self.projectsTable.indexAt(pos)
        if not index.isValid():
            return
        project = index.data(RecordRole)
        menu = QMenu(self)
        menu.addAction(self.acts.preview_cleanup)
        menu.addAction(self.acts.scan)
        menu.addAction(self.acts.upload)
        auto = menu.addMenu("Auto-cleanup")
        group = QActionGroup(auto)
        for value, label in (("inherit", "Use the global setting"), ("on", "On"), ("off", "Off")):
            act = auto.addAction(label)
            act.setCheckable(True)
            act.setChecked(project.auto_cleanup == value)
            act.setObjectName(f"autoCleanup_{value}")
            group.addAction(act)
            act.triggered.connect(lambda _=False, v=value, pid=project.id: self.set_project_auto(pid, v))
        menu.addSeparator()
        open_folder = menu.addAction("Open workspace folder")
        open_folder.triggered.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(project.root)))
        self.context_menu = menu
        menu.popup(self.projectsTable.viewport().mapToGlobal(pos))

    def set_project_auto(self, project_id: int, value: str) -> None:
        """Per-project auto-cleanup override (inherit / on / off)."""
        def work(ctx: TaskContext) -> None:
            set_auto_cleanup(self.catalog, project_id, value)

        self.workers.run_task(work, lambda _, e: self.show_error(e) if e else self.refresh_projects(),
                              name="auto override")

    def _sync_auto_toggle(self) -> None:
        toggle = self.acts.auto_toggle
        toggle.blockSignals(True)
        toggle.setChecked(bool(self.catalog.pref("auto_cleanup_enabled")))
        toggle.blockSignals(False)
        self._auto_label()
        if not env_allows_auto_cleanup():
            toggle.setEnabled(False)
            toggle.setToolTip("Auto-cleanup is turned off by AUTO_CLEANUP_ENABLED=false in the environment")

    def _auto_label(self) -> None:
        on = self.acts.auto_toggle.isChecked() and env_allows_auto_cleanup()
        self.acts.auto_toggle.setText(f"Auto-cleanup: {'on' if on else 'off'}")

    def _auto_toggled(self, checked: bool) -> None:
        self._auto_label()
        def work(ctx: TaskContext) -> None:
            self.catalog.set_pref("auto_cleanup_enabled", checked)

        self.workers.run_task(work, lambda _, e: self.show_error(e) if e else self.refresh_projects(),
                              name="auto toggle")
        self.statusBar().showMessage(f"Auto-cleanup {'on' if checked else 'off'} (projects may override it)", 5000)

    def open_preferences(self) -> None:
        dialog = PreferencesDialog(self.catalog, self, workers=self.workers)
        accepted = self.run_dialog(dialog)
        self.bucket.reload_remotes()  # remotes are saved as they are edited, whatever the OK
        if accepted:
            self._sync_auto_toggle()
            self.refresh_projects()
            self.schedule.check()  # intervals may have changed

    # ================================================================ remotes: bucket usage, lifecycle
    def show_bucket_usage(self, remote: str | None = None, refresh: bool = False) -> Task | None:
        """Raise the Bucket dock on ``remote`` (default: the one chosen there); ``refresh`` lists the bucket."""
        self.bucket_dock.show()
        self.bucket_dock.raise_()
        name = remote or self.bucket.remote.currentText()
        if not name:
            names = plans.remote_names(self) or []
            if not names:
                plans.need_remote(self, "Bucket usage")
                return None
            name = names[0]
        return self.bucket.load(name, refresh=refresh)

    def open_lifecycle(self, remote: str | None = None) -> LifecycleDialog | None:
        """The lifecycle export view (F8) for a remote."""
        names = plans.remote_names(self) or []
        if not names:
            plans.need_remote(self, "Lifecycle rules")
            return None
        dialog = LifecycleDialog(self.catalog, self.workers, names, remote, self)
        self.lifecycle_dialog = dialog
        self.run_dialog(dialog)
        return dialog

    def _expire_versions(self) -> None:
        plan = self.pane.model.plan
        remote = str(plan.params.get("remote", "")) if plan is not None else ""
        self.open_lifecycle(remote or None)

    # ================================================================ thumbnails
    def _plan_current_changed(self, current: Any, previous: Any) -> None:
        """A video item selected in the plan shows a frame next to it (made in a worker, cancelled on change)."""
        target = self.pane.model.local_target(current)
        if target is not None and is_video(target):
            self.pane.thumbnail.show_video(target)
        else:
            self.pane.thumbnail.clear()

    # ================================================================ preview
    def preview(self, make_plan: MakePlan, title: str) -> Task | None:
        """Run a planner ``make_plan(catalog, progress, cancel) -> plan_id`` in a worker, then show the plan.

        Any plan kind (clean, temp, orphans, upload, sweep) goes through here;
        Confirm then runs it with ``core.runner.execute_any``.
        """
        if self.running:
            self.statusBar().showMessage("A run is in progress; wait for it or cancel it first.", 5000)
            return None
        if self.active_task is not None:
            self.active_task.cancel()
        self.current_plan_id = None
        self.current_title = title
        self.pane.show_busy(title, "Making the plan (a dry run: nothing is deleted)…")

        def work(ctx: TaskContext) -> PlanSummary:
            plan_id = make_plan(self.catalog, ctx.progress, ctx.cancel)
            return load_summary(self.catalog, plan_id)

        task = self.workers.run_task(work, None, name="plan", on_progress=self._on_progress)
        task.finished.connect(lambda summary, error: self._plan_ready(task, title, summary, error))
        self.active_task = task
        self.cancelButton.setEnabled(True)
        return task

    def _plan_ready(self, task: Task, title: str, summary: PlanSummary | None, error: BaseException | None) -> None:
        if self.active_task is not task:
            return  # a newer preview replaced this one
        self.active_task = None
        self._progress_done()
        self.cancelButton.setEnabled(False)
        if error is not None:
            if isinstance(error, Cancelled):
                self.pane.show_empty("Preview cancelled: nothing was planned or deleted.")
                return
            self.pane.show_empty("The plan could not be made.")
            self.show_error(error)
            return
        assert summary is not None
        self.current_plan_id = summary.plan.id
        self.pane.show_plan(title, summary)
        self.statusBar().showMessage(self.pane.model.total_line() or "Plan ready", 8000)
        if summary.plan.kind == "sweep" and summary.plan.params.get("remote"):
            # the sweep listed the bucket: its usage picture is fresh
            self.bucket.show_stored(str(summary.plan.params["remote"]))
            self.bucket_dock.raise_()
        self.previewReady.emit(summary.plan.id)

    def preview_cleanup(self) -> Task | None:
        """F1: ``core.clean.plan_cleanup`` for the selected projects."""
        chosen = self.selected_projects()
        if not chosen:
            self.statusBar().showMessage("Select one or more projects first.", 5000)
            return None
        ids = [p.id for p in chosen]
        names = chosen[0].name if len(chosen) == 1 else f"{len(chosen)} projects"
        from ..core.clean import plan_cleanup

        return self.preview(lambda cat, progress, cancel: plan_cleanup(cat, ids, progress=progress, cancel=cancel),
                            f"Cleanup preview — {names}")

    def _store_selection(self, item_ids: list[int], selected: bool) -> None:
        plan_id = self.current_plan_id
        if plan_id is None:
            return
        # through the deleting pool: a Confirm right after is queued behind it
        self.workers.run_task(lambda ctx: set_selected(self.catalog, plan_id, item_ids, selected),
                              lambda _, e: self.show_error(e) if e else None, name="select", destructive=True)

    def _store_group_selection(self, group: str, selected: bool) -> None:
        plan_id = self.current_plan_id
        if plan_id is None:
            return

        self.workers.run_task(lambda ctx: set_group_selected(self.catalog, plan_id, group, selected),
                              lambda _, e: self.show_error(e) if e else None, name="select", destructive=True)

    # ================================================================ confirm and run
    def confirmation_box(self, text: str, title: str = "Confirm", action: str = "Delete") -> QMessageBox:
        """The box :meth:`ask_confirmation` shows (default button: Cancel)."""
        return confirmation_box(self, title, text, action)

    def ask_confirmation(self, text: str, title: str = "Confirm") -> bool:
        """Ask once more; ``True`` only when the user chose the destructive button."""
        box = self.confirmation_box(text, title)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole

    def confirm(self) -> None:
        """Confirm: ask once more (and again above the delete limits), then run the plan."""
        model = self.pane.model
        summary = model.summary
        if summary is None or self.current_plan_id is None or self.running:
            return
        plan = summary.plan
        files, nbytes, kept = model.totals()
        mode = self.catalog.pref("delete_mode")
        how = "moved to the trash" if mode == "trash" else "deleted permanently"
        if plan.kind == "upload":
            how = "uploaded; local copies go only once the store proves it holds the same bytes"
        elif plan.kind == "sweep":
            how = sweep_words(str(plan.params.get("versioning", "")))
        text = (f"{model.total_line()}.\n\nThe selected items will be {how}. "
                f"Everything kept back stays where it is.\n\nRun plan {plan.id} now?")
        if not self.ask_confirmation(text, title=self.current_title or "Confirm"):
            self.statusBar().showMessage("Not run: nothing was deleted.", 5000)
            return
        check = check_limits(self.catalog, plan.id)  # invariant 8: the same check the executor makes
        reason = check.sentence() if check.exceeded else None
        confirm_large = False
        if reason:
            if not self.ask_confirmation(f"This plan is above your safety limit: {reason}.\n\n"
                                         f"Run it anyway?", title="Above the delete limit"):
                self.pane.set_message(f"Not run: {reason}. Nothing was deleted.")
                return
            confirm_large = True
        self.run_plan(plan.id, confirm_large)

    def run_plan(self, plan_id: int, confirm_large: bool = False) -> Task:
        """Execute a stored plan in the deleting pool with progress and Cancel."""
        self.running = True
        self._run_started = time.monotonic()
        self.rate.reset()
        self.pane.set_running(True)
        self.pane.set_message("Running…")
        self.statusProgress.setRange(0, 0)
        self.statusProgress.show()

        def work(ctx: TaskContext) -> Any:
            return execute_any(self.catalog, plan_id, started_by="user", confirm_large=confirm_large,
                               progress=ctx.progress, cancel=ctx.cancel)

        task = self.workers.run_task(work, None, name="run", destructive=True, on_progress=self._on_progress)
        task.finished.connect(lambda result, error: self._run_finished(plan_id, confirm_large, result, error))
        self.active_task = task
        return task

    def cancel(self) -> None:
        """Cancel the plan being made or the run: it stops between items."""
        if self.active_task is not None:
            self.active_task.cancel()
            self.cancelButton.setEnabled(False)
            self.statusBar().showMessage("Cancelling after the current item…")

    def _run_finished(self, plan_id: int, confirm_large: bool, result: Any, error: BaseException | None) -> None:
        self.active_task = None
        self.running = False
        self._progress_done()
        self.pane.set_running(False)
        if error is not None:
            if isinstance(error, SafetyRefusal) and not confirm_large and "limit" in str(error):
                if self.ask_confirmation(f"{error}\n\nRun it anyway?", title="Above the delete limit"):
                    self.run_plan(plan_id, confirm_large=True)
                    return
            self.pane.model.set_read_only(False)
            self.pane.set_running(False)
            self.show_error(error)
            self.runFinished.emit(error)
            return
        line = result.summary_line()
        failed = len(result.failed)
        extra = []
        if failed:
            extra.append(f"{failed} failed (see the marked items)")
        skipped = len(getattr(result, "skipped", []) or [])
        if skipped:
            extra.append(f"{skipped} skipped")
        if result.status == "cancelled":
            extra.append("cancelled: the rest was not touched")
        text = line + (" · " + " · ".join(extra) if extra else "")
        self.pane.set_message(text, error=bool(failed))
        self.pane.summaryLabel.setText(
            f"Plan {plan_id} was run ({result.status}): each item shows what happened to it; failed and skipped "
            f"items say why. Make a new preview to clean again.")
        self.statusBar().showMessage(text, 15000)
        self._load_outcomes(result.run_id)
        self._after_background_run(plan_id)
        self.runFinished.emit(result)

    def _load_outcomes(self, run_id: int) -> None:
        """Mark each loaded row with its outcome (read in a worker); rows paged in later read their own."""
        ids = self.pane.model.loaded_item_ids()
        self.pane.model.outcome_run = run_id  # pages loaded from now on read their own

        def work(ctx: TaskContext) -> dict[int, tuple[str, str]]:
            return run_outcomes(self.catalog, run_id, ids)

        def done(outcomes: dict[int, tuple[str, str]] | None, error: BaseException | None) -> None:
            if error is not None:
                self.show_error(error)
            elif outcomes is not None:
                self.pane.model.set_outcomes(outcomes, run_id)

        self.workers.run_task(work, done, name="outcomes")

    def _after_background_run(self, plan_id: int | None = None) -> None:
        """After any run: rescan the projects it touched (all for an automatic run), reload table and history."""
        self.history.refresh()
        self.refresh_reclaimed()

        def work(ctx: TaskContext) -> None:
            ids: list[int] | None = None
            if plan_id is not None:
                ids = [r[0] for r in self.catalog.conn.execute(
                    "SELECT DISTINCT project_id FROM plan_items WHERE plan_id = ? AND project_id IS NOT NULL",
                    (plan_id,))]
            if ids != []:
                scan_projects(self.catalog, ids, cancel=ctx.cancel)

        self.workers.run_task(work, lambda _, e: self.show_error(e) if e else self.refresh_projects(),
                              name="rescan")

    # ================================================================ progress, errors, notifications
    def _on_progress(self, snap: dict[str, Any]) -> None:
        """Up to 20 times a second during a scan, plan or run. Each Qt call here may wait for the GIL
        behind a busy worker, so only what changed is sent to Qt (the last values are kept here)."""
        total, done = int(snap.get("total") or 0), int(snap.get("done") or 0)
        bar = self.statusProgress
        shown = self._bar_state
        if not shown.get("visible"):
            bar.show()
        phase = str(snap.get("phase") or "")
        if shown.get("total") != total:
            bar.setRange(0, total) if total > 0 else bar.setRange(0, 0)
        if total > 0:
            bar.setValue(min(done, total))
            if shown.get("phase") != phase or shown.get("total") != total:
                bar.setFormat(f"%v / %m {phase}".strip())
        self._bar_state = {"visible": True, "total": total, "phase": phase}
        summary = self.pane.model.summary
        noun = "objects" if summary is not None and summary.objects else "files"
        if self.running:
            bytes_done, bytes_total = int(snap.get("bytes_done") or 0), int(snap.get("bytes_total") or 0)
            rate = self.rate.add(bytes_done) if bytes_total else None
            self.pane.set_current(progress_line(snap, rate, noun))
            if bytes_total:
                self.pane.set_bytes_progress(bytes_done, bytes_total,
                                             f"{size_text(bytes_done)} of {size_text(bytes_total)}"
                                             + (f" · {size_text(int(rate))}/s" if rate else ""))
        elif snap.get("current"):
            self.pane.set_current(progress_line({**snap, "bytes_total": 0, "bytes_done": 0}, None, "items"))

    def _progress_done(self) -> None:
        self.statusProgress.hide()
        self.statusProgress.setRange(0, 1)
        self.statusProgress.setValue(0)
        self._bar_state = {}
        self.pane.set_current("")

    def show_error(self, error: BaseException | None) -> None:
        """A known error is one sentence; anything else is logged with its traceback."""
        if error is None:
            return
        if isinstance(error, KnownError):
            text = str(error)
        elif isinstance(error, Cancelled):
            text = "Cancelled."
        else:
            log.error("unexpected error: %r", error, exc_info=error)
            text = f"Unexpected error: {error} (details in the log)"
        self.statusBar().showMessage(text, 20000)
        self.pane.set_message(text, error=True)

    # ================================================================ the scheduler
    def _schedule_report(self, report: JobReport) -> None:
        """A scheduled job ended: notify (tray, else status bar) with the seed's summary and any errors."""
        if worth_telling(report):
            self.notify(report.title, report.message())
        else:
            self.statusBar().showMessage(f"{report.title}: {report.summary_line()}", 8000)
        if report.job.value == "orphans" and report.found_count and report.plan_ids:
            self.last_orphan_plan = report.plan_ids[-1]
        if report.run_ids:
            self._after_background_run()

    def _tray_message_clicked(self) -> None:
        self.show_from_tray()
        if self.last_orphan_plan is not None and not self.running:
            self.show_stored_plan(self.last_orphan_plan, "Scheduled orphan report")
            self.last_orphan_plan = None

    def _unseen_events(self, events: list[dict[str, Any]]) -> None:
        runs = [e for e in events if e["kind"] in ("run", "error", "missed")]
        if runs:
            lines = [str(e["summary"]) for e in runs[:5]] + ([f"… and {len(runs) - 5} more"] if len(runs) > 5 else [])
            self.notify("Scheduled runs while the window was closed", "\n".join(lines))
            self.history.refresh()

    def run_due_jobs_now(self) -> Task | None:
        """Run the scheduled jobs that are due now (tray and Clean menu)."""
        task = self.schedule.run_due()
        if task is None:
            self.statusBar().showMessage("Scheduled jobs are running already.", 5000)
        else:
            self.statusBar().showMessage("Running the scheduled jobs that are due…", 5000)
        return task

    def show_stored_plan(self, plan_id: int, title: str) -> Task:
        """Load a stored plan (e.g. a scheduled orphan report) into the preview pane, in a worker."""
        if self.active_task is not None and not self.running:
            self.active_task.cancel()
        self.current_title = title

        def work(ctx: TaskContext) -> PlanSummary:
            return load_summary(self.catalog, plan_id)

        task = self.workers.run_task(work, None, name="plan")
        task.finished.connect(lambda summary, error: self._plan_ready(task, title, summary, error))
        self.active_task = task
        return task

    def _restored(self, text: str, ok: bool) -> None:
        self.statusBar().showMessage(text, 20000)
        if ok:
            self._after_background_run()

    def notify(self, title: str, text: str) -> None:
        """Tell the user something happened in the background: tray message, else the status bar."""
        self.notifications.append((title, text))
        del self.notifications[:-100]
        self.notified.emit(title, text)
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
        else:
            self.statusBar().showMessage(f"{title}: {text}", 20000)

    def _reconcile_if_needed(self) -> None:
        """Finish runs a crashed process left ``running`` (invariant 6), in the deleting pool."""
        if not self.catalog.conn.execute("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1").fetchone():
            return

        def work(ctx: TaskContext) -> list[int]:
            with self.catalog.writer("reconcile"):
                return reconcile_interrupted_runs(self.catalog)

        def done(fixed: list[int] | None, error: BaseException | None) -> None:
            if error is not None:
                self.show_error(error)
            elif fixed:
                self.notify("Interrupted runs reconciled",
                            f"{len(fixed)} run(s) left unfinished by a crash were checked against the disk.")
                self.history.refresh()
                self.refresh_projects()

        self.workers.run_task(work, done, name="reconcile", destructive=True)

    def _about(self) -> None:
        QMessageBox.about(self, "About mediaclean",
                          "mediaclean — preview and safely reclaim the space video pipelines leave behind.\n"
                          f"Catalog: {self.catalog.path}")

    # ================================================================ drag and drop, closing
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        for path in paths[:1]:
            QTimer.singleShot(0, lambda p=path: self.open_dropped(p))

    def open_dropped(self, path: str) -> None:
        """A dropped folder opens "Add project"; a dropped database opens "Import generator database"."""
        if os.path.isdir(path):
            self.add_project_dialog(path)
        elif os.path.isfile(path):
            self.import_db_dialog(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.auto_watch.stop()
        self.schedule.stop()
        self.pane.thumbnail.cancel()
        self._clock.stop()
        self.workers.shutdown()
        if self.tray is not None:
            self.tray.hide()
        self.catalog.close()  # this thread's connection; the workers' went with their threads
        super().closeEvent(event)


def sweep_words(versioning: str) -> str:
    """What Confirm says happens to a sweep's objects, by the bucket's versioning state (SPEC F4)."""
    if versioning in ("Enabled", "Suspended"):
        return ("deleted from the bucket — but the bucket is versioned, so each delete only adds a delete marker: "
                "the data stays stored (and billed) as noncurrent versions until a lifecycle rule expires them "
                "(Remote → Lifecycle rules…)")
    if versioning == "unknown":
        return ("deleted from the bucket (its versioning state could not be read: on a versioned bucket a delete "
                "only adds a delete marker)")
    return "deleted from the bucket for good (it is not versioned)"
