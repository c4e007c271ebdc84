"""The main window: composes the projects panel, the plan flow (preview pane), messages, history and the bucket."""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QActionGroup, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence, \
    QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.events import CancelToken, Progress
from ..core.projects import Project, env_allows_auto_cleanup, set_auto_cleanup
from ..core.history import mark_runs_seen, unseen_automatic_runs
from ..core.views import PlanSummary, ProjectRow, has_unfinished_runs, project_rows, total_reclaimed
from . import empty_trash, keep_actions, plans, project_actions
from .actions import build_actions
from .auto_watch import AutoCleanupWatcher
from .bucket import BucketPanel
from .dialogs import confirmation_box
from .history import HistoryPanel
from .messages import Messages
from .notifications import NotificationsPanel
from .plan_flow import MakePlan, PlanFlow, sweep_words
from .preview import FOCUS_STYLE, PreviewPane
from .projects_panel import EMPTY_STATE, ProjectsPanel
from .responsive import keep_gui_responsive, resolve_widget_types
from .schedule import ScheduleDriver
from .settings import restore_layout, save_layout
from .models import RowFacts, row_facts, sort_rows
from .space_map import FreeSpaceLabel, SpaceMap, rank_projects
from .thumbnail import is_video
from .tray import make_tray, tooltip_text
from .wording import broad_question, size_text
from .workers import Task, TaskContext, Workers

log = logging.getLogger("mediaclean.gui")
#: One frame at 60 Hz: what waits "until the table has painted" waits this long (a zero timer ran before the paint).
FRAME_MS = 16

__all__ = ["EMPTY_STATE", "MainWindow", "MakePlan", "sweep_words"]


class MainWindow(QMainWindow):
    """The mediaclean window on one catalog. Everything slow runs in :class:`Workers`."""

    #: The projects table was reloaded.
    projectsRefreshed = Signal()
    #: The tray's "total reclaimed" was read again (bytes).
    reclaimedChanged = Signal(int)
    #: Empty trash… ended (its ``core.emptytrash.EmptyResult``).
    trashEmptied = Signal(object)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.catalog = catalog
        self.workers = Workers(self)
        self.reclaimed = 0
        self.tray_menu: QMenu | None = None
        self.context_menu: QMenu | None = None
        self.lifecycle_dialog: QDialog | None = None
        self.keep_dialog: QDialog | None = None  # the last keep-list dialogs opened (tests look at them)
        self.keep_list_dialog: QDialog | None = None
        self.setWindowTitle(f"mediaclean — {catalog.path}")
        self.setAcceptDrops(True)
        self._closing = False
        #: The projects were read once (the window fills in from workers after its first paint).
        self.projects_loaded = False

        self.acts = build_actions(self)
        self.messages = Messages(self)
        self._build_central()
        self.flow = PlanFlow(self, catalog, self.workers, self.pane)
        self._build_docks()
        self._build_status()
        self._connect()
        self.tray = make_tray(self)
        if self.tray is not None:
            self.tray.messageClicked.connect(self.messages.tray_message_clicked)

        self.schedule = ScheduleDriver(catalog, self.workers, parent=self)
        self.schedule.reportReady.connect(self.messages.schedule_report)
        self.schedule.idle.connect(lambda text: self.say(text, 8000))
        self.schedule.unseenEvents.connect(self.messages.unseen_events)

        self.auto_watch = AutoCleanupWatcher(catalog, self.workers, parent=self)
        self.auto_watch.cleaned.connect(lambda name, text: self.notify(f"Auto-cleanup: {name}", text))
        self.auto_watch.refused.connect(self._auto_refused)
        self.auto_watch.cleaned.connect(lambda *_: self.refresh_announcements())
        self.auto_watch.cleaned.connect(lambda *_: self.flow.after_run())
        self.auto_watch.started.connect(lambda name: self.say(f"Auto-cleanup of {name}…", 5000))

        self._clock = QTimer(self)  # keeps "3 minutes ago" true
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self.projects_model.refresh_times)
        self._clock.timeout.connect(lambda: self.refresh_announcements())  # runs of other processes (a timer's
        # run-due) are announced within a minute
        self._clock.start()

        self.resize(1280, 800)
        restore_layout(self, self._splitters(), self._headers())
        header = self.projectsTable.horizontalHeader()  # the restored sort indicator is the sort
        self.projectsTable.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._sync_auto_toggle()
        # the timers start now, so a caller's schedule.stop() or start(delay_ms=…) right after this
        # constructor holds (the demo delays the scheduled jobs); the catalog is read in workers after the
        # first paint and fills the window in (first paint ≤ 300 ms)
        self.auto_watch.start()
        self.schedule.start()
        QTimer.singleShot(0, self._fill_in)

    def _fill_in(self) -> None:
        if self._closing:
            return
        keep_gui_responsive()  # its one full garbage collection (~70 ms) waits until the window has painted
        self.refresh_projects()
        QTimer.singleShot(0, self, lambda: resolve_widget_types(self.projectsTable))  # while the rows are read
        self.history.refresh()
        self._reconcile_if_needed()
        self.refresh_announcements()
        self.schedule.unseen()
        self.refresh_reclaimed()

    # ================================================================ layout
    def _build_central(self) -> None:
        self.projects = ProjectsPanel([self.acts.add_project, self.acts.import_db])
        self.projectFilter = self.projects.projectFilter
        self.projectsTable = self.projects.projectsTable
        self.projects_model = self.projects.model
        self.projects_proxy = self.projects.proxy
        self.tableStack = self.projects.tableStack
        self.emptyLabel = self.projects.emptyLabel
        self.breakdown = self.projects.breakdown

        self.spaceMap = SpaceMap()
        self.projects.add_picture(self.spaceMap)  # under the table, above the breakdown

        self.pane = PreviewPane(self.catalog, self.workers)
        self.previewPane = self.pane
        self.planView = self.pane.planView
        self.confirmButton = self.pane.confirmButton
        self.cancelButton = self.pane.cancelButton

        self.freeSpaceLabel = FreeSpaceLabel(self.workers)
        self.notices = NotificationsPanel()
        self.notificationsView = self.notices.view
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.projects)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setSizes([570, 710])
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(2)
        layout.addWidget(self.freeSpaceLabel)
        layout.addWidget(self.notices)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.projectsTable.setStyleSheet(FOCUS_STYLE)  # the pane with the keyboard is plainly marked
        # Tab order: filter → projects table → plan → Confirm (arrows move inside each view)
        QWidget.setTabOrder(self.projectFilter, self.projectsTable)
        QWidget.setTabOrder(self.projectsTable, self.planView)
        QWidget.setTabOrder(self.planView, self.confirmButton)
        QWidget.setTabOrder(self.confirmButton, self.cancelButton)

    def _build_docks(self) -> None:
        self.history = HistoryPanel(self.catalog, self.workers)
        self.historyView = self.history.historyView
        self.history_dock = self._dock("History", "historyDock", self.history)
        self.resizeDocks([self.history_dock], [150], Qt.Orientation.Vertical)
        self.bucket = BucketPanel(self.catalog, self.workers)
        self.bucket_dock = self._dock("Bucket", "bucketDock", self.bucket)
        self.tabifyDockWidget(self.history_dock, self.bucket_dock)
        self.history_dock.raise_()
        self.bucket.errorRaised.connect(self.show_error)
        self.bucket.manageRequested.connect(lambda: self.manage_remotes())
        self.bucket.reload_remotes()

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())  # type: ignore[attr-defined]
        return dock

    def _build_status(self) -> None:
        self.statusProgress = QProgressBar()
        self.statusProgress.setObjectName("statusProgress")
        self.statusProgress.setMaximumWidth(260)
        self.statusProgress.setTextVisible(True)
        self.statusProgress.setValue(0)
        self.statusProgress.setToolTip("Progress of the current scan, plan or run")
        self.statusProgress.hide()
        self.statusBar().addPermanentWidget(self.statusProgress)
        self._bar_state: dict[str, Any] = {}  # what the status bar's progress shows now (see on_progress)
        self.say("Ready", 3000)

    def _connect(self) -> None:
        a = self.acts
        a.add_project.triggered.connect(lambda: self.add_project_dialog())
        a.import_db.triggered.connect(lambda: self.import_db_dialog())
        a.remove_project.triggered.connect(lambda: project_actions.remove_selected(self))
        a.rename_project.triggered.connect(lambda: project_actions.rename_selected(self))
        a.scan.triggered.connect(self.scan_selected)
        a.preview_cleanup.triggered.connect(self.preview_cleanup)
        a.upload.triggered.connect(lambda: plans.start_upload(self))
        a.sweep.triggered.connect(lambda: plans.start_sweep(self))
        a.temp.triggered.connect(lambda: plans.start_temp(self))
        a.orphans.triggered.connect(lambda: plans.start_orphans(self))
        a.bucket_usage.triggered.connect(lambda: self.show_bucket_usage(refresh=True))
        a.lifecycle.triggered.connect(lambda: self.open_lifecycle())
        a.manage_remotes.triggered.connect(lambda: self.manage_remotes())
        a.run_due.triggered.connect(self.run_due_jobs_now)
        a.put_back.triggered.connect(lambda: keep_actions.put_back(self))
        a.keep_matching.triggered.connect(lambda: keep_actions.keep_matching(self))
        a.keep_list.triggered.connect(lambda: keep_actions.keep_list(self))
        a.empty_trash.triggered.connect(lambda: empty_trash.start(self))
        a.preferences.triggered.connect(self.open_preferences)
        a.auto_toggle.toggled.connect(self._auto_toggled)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self._about)
        a.find.triggered.connect(self.projects.focus_filter)
        self.projects.selectionChanged.connect(self._selection_changed)
        self.projectsTable.customContextMenuRequested.connect(self._context_menu)
        self.projectsTable.doubleClicked.connect(lambda _: self.preview_cleanup())
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.projectsTable)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self.preview_cleanup)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.projectsTable)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(lambda: project_actions.remove_selected(self))
        self.pane.expireButton.clicked.connect(self._expire_versions)
        self.planView.selectionModel().currentChanged.connect(self._plan_current_changed)
        self.planView.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.planView.customContextMenuRequested.connect(self._plan_context_menu)
        self.pane.model.totalsChanged.connect(self._plan_totals_changed)
        self.spaceMap.projectClicked.connect(self._map_clicked)
        self.spaceMap.roleClicked.connect(self._map_role_clicked)
        self.history.errorRaised.connect(self.show_error)
        self.history.restored.connect(self._restored)
        self.notices.seen.connect(self._runs_seen)
        self.notices.openRun.connect(self.open_run_in_history)
        self.notices.openPlan.connect(self._open_report)
        self.messages.notified.connect(self.notified)

    # ================================================================ the flow's and messages' faces
    notified = Signal(str, str)

    @property
    def previewReady(self) -> Any:  # noqa: N802 (Qt naming: a signal)
        return self.flow.previewReady

    @property
    def runFinished(self) -> Any:  # noqa: N802
        return self.flow.runFinished

    @property
    def notifications(self) -> list[tuple[str, str]]:
        return self.messages.notifications

    @property
    def active_task(self) -> Task | None:
        return self.flow.active_task

    @property
    def running(self) -> bool:
        return self.flow.running

    @property
    def current_plan_id(self) -> int | None:
        return self.flow.current_plan_id

    @property
    def last_orphan_plan(self) -> int | None:
        return self.messages.last_orphan_plan

    def _tray_message_clicked(self) -> None:
        self.messages.tray_message_clicked()

    def say(self, text: str, ms: int = 0) -> None:
        self.messages.say(text, ms)

    def show_error(self, error: BaseException | None) -> None:
        self.messages.show_error(error)

    def notify(self, title: str, text: str) -> None:
        self.messages.notify(title, text)

    def preview(self, make_plan: MakePlan, title: str) -> Task | None:
        """Run a planner ``make_plan(catalog, progress, cancel) -> plan_id`` in a worker, then show the plan."""
        return self.flow.preview(make_plan, title)

    def confirm(self) -> None:
        self.flow.confirm()

    def run_plan(self, plan_id: int, confirm_large: bool = False) -> Task:
        return self.flow.run_plan(plan_id, confirm_large)

    def cancel(self) -> None:
        self.flow.cancel()

    def show_stored_plan(self, plan_id: int, title: str) -> Task:
        return self.flow.show_stored_plan(plan_id, title)

    def plan_shown(self, summary: PlanSummary) -> None:
        """A plan reached the pane: the sweep's bucket picture is fresh; the free space "after" follows it."""
        if summary.plan.kind == "sweep" and summary.plan.params.get("remote"):
            self.bucket.show_stored(str(summary.plan.params["remote"]))
            self.bucket_dock.raise_()
        self._plan_totals_changed()

    def _plan_totals_changed(self) -> None:
        summary = self.pane.model.summary
        local = summary is not None and not summary.objects and summary.plan.kind != "upload"
        roots = list(summary.project_roots.get(g.info.project_id, "") for g in self.pane.model.groups
                     if g.info is not None and g.info.project_id is not None) if summary and local else []
        if summary is not None and local and summary.plan.params.get("root"):
            roots.append(str(summary.plan.params["root"]))
        trash = local and summary is not None and summary.trash
        self.freeSpaceLabel.set_plan(self.pane.model.totals()[1] if local else 0, roots, trash)

    def runs_changed(self) -> None:
        """A run ended (ours or a background one): history and the total reclaimed are read again."""
        self.history.refresh()
        self.refresh_reclaimed()

    # ================================================================ confirmation and dialogs (tests replace these)
    def confirmation_box(self, text: str, title: str = "Confirm", action: str = "Delete") -> QMessageBox:
        """The box :meth:`ask_confirmation` shows (default button: Cancel)."""
        return confirmation_box(self, title, text, action)

    def ask_confirmation(self, text: str, title: str = "Confirm") -> bool:
        """Ask once more; ``True`` only when the user chose the destructive button."""
        return self.ask_confirmation_box(self.confirmation_box(text, title))

    def ask_confirmation_box(self, box: QMessageBox) -> bool:
        """Show a :func:`dialogs.confirmation_box`; ``True`` only for its destructive button."""
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole

    def ask_broad_root(self, error: BaseException | None, action: str = "Add it anyway") -> bool:
        """A :class:`~core.roots.BroadRoot` refusal (``/``, a home or system folder as a root): ask whether it
        is meant (default Cancel). ``False`` for any other error, or when the user declines."""
        from ..core.roots import BroadRoot, why_broad

        if not isinstance(error, BroadRoot):
            return False
        why = why_broad(error.path, error.purpose) or "is a very broad folder"
        box = self.confirmation_box(broad_question(error.path, error.purpose, why, action), "A very broad folder",
                                    action)
        return self.ask_confirmation_box(box)

    def run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; ``True`` when accepted (tests replace this)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    # ================================================================ tray, progress
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

    def on_progress(self, snap: dict[str, Any]) -> None:
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
        self.flow.progress_text(snap)

    def progress_busy(self) -> None:
        self.statusProgress.setRange(0, 0)
        self.statusProgress.show()

    def progress_done(self) -> None:
        self.statusProgress.hide()
        self.statusProgress.setRange(0, 1)
        self.statusProgress.setValue(0)
        self._bar_state = {}
        self.pane.set_current("")

    # ================================================================ projects
    def refresh_projects(self, select: list[int] | None = None) -> Task:
        """Reload the table from the catalog (in a worker); keep or set the selection."""
        model = self.projects_model
        order = (model.sort_column, model.sort_order == Qt.SortOrder.DescendingOrder)

        def load(ctx: TaskContext) -> tuple[list[ProjectRow], RowFacts, list[Project], list[str]]:
            # everything that grows with the number of projects is done here, not on the GUI thread
            rows = sort_rows(project_rows(self.catalog), *order)
            ranked = rank_projects([r.project for r in rows])
            return rows, row_facts(rows), ranked, sorted({r.project.root for r in rows})

        def loaded(value: tuple[list[ProjectRow], RowFacts, list[Project], list[str]] | None,
                   error: BaseException | None) -> None:
            if error is not None or value is None:
                self.show_error(error)
                return
            rows, facts, ranked, roots = value
            # the selection as it is now: the user may have chosen a project while the rows were read
            keep = select if select is not None else [p.id for p in self.selected_projects()]
            self.projects.set_rows(rows, keep, sorted_as=order, facts=facts)
            # the map and the free space a frame later: the table paints first and input is handled in between
            # (with 10,000 projects each part holds the GUI thread ~10-25 ms; at once they were the window's
            # longest stall on opening)
            QTimer.singleShot(FRAME_MS, self, lambda: self._projects_shown(rows, ranked, roots))

        return self.workers.run_task(load, loaded, name="projects")

    def _projects_shown(self, rows: list[ProjectRow], ranked: list[Project], roots: list[str]) -> None:
        """The rest of :meth:`refresh_projects` once the table shows the rows: the map, the free space."""
        if self._closing:
            return
        self.spaceMap.set_projects([r.project for r in rows], ranked=ranked)
        self.freeSpaceLabel.set_roots(roots)
        self.projects_loaded = True
        self.projectsRefreshed.emit()

    def selected_projects(self) -> list[Project]:
        return self.projects.selected_projects()

    def _selection_changed(self) -> None:
        chosen = self.selected_projects()
        self.spaceMap.set_selected({p.id for p in chosen})
        if not chosen:
            self.breakdown.clear("")
            return
        project = chosen[0]
        caption = f"{size_text(project.total_bytes)} · {size_text(project.reclaimable_bytes)} reclaimable"
        title = project.name if len(chosen) == 1 else f"{project.name} (+{len(chosen) - 1} more selected)"

        def done(sizes: dict[str, tuple[int, int]] | None, error: BaseException | None) -> None:
            current = self.selected_projects()
            if sizes is not None and current and current[0].id == project.id:
                self.breakdown.set_breakdown(title, sizes, caption)
                self.spaceMap.set_roles(project.id, sizes)

        def work(ctx: TaskContext) -> dict[str, tuple[int, int]]:
            from ..core.scan import role_sizes

            return role_sizes(self.catalog, project.id)

        self.workers.run_task(work, done, name="breakdown")

    def _map_clicked(self, project_id: int) -> None:
        """A project's tile in the space map selects that project in the table."""
        self.projects.select_ids([project_id])

    def _map_role_clicked(self, project_id: int, role: str) -> Task:
        """A role's tile: its folders, measured in a worker (a walk of the project's folders)."""
        def done(folders: list[tuple[str, int, int]] | None, error: BaseException | None) -> None:
            if error is not None:
                self.show_error(error)
            elif folders is not None:
                self.spaceMap.set_folders(project_id, role, folders)

        def work(ctx: TaskContext) -> list[tuple[str, int, int]]:
            from ..core.space import folder_sizes

            return folder_sizes(self.catalog, project_id, role, ctx.cancel)

        return self.workers.run_task(work, done, name="map folders")

    def scan_selected(self) -> None:
        ids = [p.id for p in self.selected_projects()] or None
        self.scan(ids)

    def scan(self, project_ids: list[int] | None = None) -> Task:
        """Rescan sizes in a worker, then reload the table."""
        return project_actions.scan(self, project_ids)

    def add_project(self, root: str, profile: str, name: str | None = None, external_id: str | None = None) -> Task:
        """Register a workspace folder (in a worker), scan it and select it."""
        return project_actions.add(self, root, profile, name, external_id)

    def import_database(self, db_file: str, workspace: str) -> Task:
        """F9 in a worker: ``core.importdb.import_generator_db``, then a scan."""
        return project_actions.import_db(self, db_file, workspace)

    def add_project_dialog(self, folder: str = "") -> QDialog:
        return project_actions.add_dialog(self, folder)

    def import_db_dialog(self, db_file: str = "") -> QDialog:
        return project_actions.import_dialog(self, db_file)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.projectsTable.indexAt(pos)
        if not index.isValid():
            return
        project = index.data(Qt.ItemDataRole.UserRole + 2)
        menu = QMenu(self)
        for action in (self.acts.preview_cleanup, self.acts.scan, self.acts.upload):
            menu.addAction(action)
        auto = menu.addMenu("Auto-cleanup")
        group = QActionGroup(auto)
        for value, label in (("inherit", "Use the global setting"), ("on", "On"), ("off", "Off")):
            act = auto.addAction(label)
            act.setCheckable(True)
            act.setChecked(project.auto_cleanup == value)
            act.setObjectName(f"autoCleanup_{value}")
            group.addAction(act)
            act.triggered.connect(lambda _=False, v=value, pid=project.id: self.set_project_auto(pid, v))
        menu.addAction(self.acts.keep_list)
        menu.addSeparator()
        menu.addAction(self.acts.rename_project)
        menu.addAction(self.acts.remove_project)
        open_folder = menu.addAction("Open workspace folder")
        open_folder.triggered.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(project.root)))
        self.context_menu = menu
        menu.popup(self.projectsTable.viewport().mapToGlobal(pos))

    def set_project_auto(self, project_id: int, value: str) -> Task:
        """Per-project auto-cleanup override (inherit / on / off)."""
        def work(ctx: TaskContext) -> None:
            set_auto_cleanup(self.catalog, project_id, value)

        return self.workers.run_task(work, lambda _, e: self.show_error(e) if e else self.refresh_projects(),
                                     name="auto override")

    def _sync_auto_toggle(self) -> None:
        toggle = self.acts.auto_toggle
        toggle.blockSignals(True)
        toggle.setChecked(bool(self.catalog.pref("auto_cleanup_enabled")))
        toggle.blockSignals(False)
        self._auto_label()
        if not env_allows_auto_cleanup():
            toggle.setEnabled(False)
            toggle.setToolTip("Auto-cleanup is turned off by the environment this window was started in")

    def _auto_label(self) -> None:
        on = self.acts.auto_toggle.isChecked() and env_allows_auto_cleanup()
        self.acts.auto_toggle.setText(f"Auto-cleanup: {'on' if on else 'off'}")

    def _auto_toggled(self, checked: bool) -> None:
        self._auto_label()

        def work(ctx: TaskContext) -> None:
            self.catalog.set_pref("auto_cleanup_enabled", checked)

        self.workers.run_task(work, lambda _, e: self.show_error(e) if e else self.refresh_projects(),
                              name="auto toggle")
        self.say(f"Auto-cleanup {'on' if checked else 'off'} (projects may override it)", 5000)

    def open_preferences(self) -> None:
        from .prefs_dialog import PreferencesDialog  # loads the scheduler and S3 parts when first opened

        dialog = PreferencesDialog(self.catalog, self, workers=self.workers)
        accepted = self.run_dialog(dialog)
        self.bucket.reload_remotes()  # remotes are saved as they are edited, whatever the OK
        if accepted:
            self._sync_auto_toggle()
            self.refresh_projects()
            if self.pane.model.summary is not None:  # the delete mode may have changed: the total line says it
                self.flow.resort(*self.pane.sort_choice())
            self.schedule.check()  # intervals may have changed

    # ================================================================ remotes: manage, bucket usage, lifecycle
    def manage_remotes(self, why: str = "") -> QDialog:
        """Remote → Manage remotes… (``why`` says what needed one); the Bucket panel follows every change."""
        from .remotes import ManageRemotesDialog  # the S3 part of the window loads when first used

        dialog = ManageRemotesDialog(self.catalog, self.workers, self, why)
        dialog.changed.connect(lambda: self.bucket.reload_remotes())
        self.remotes_dialog = dialog
        self.run_dialog(dialog)
        self.bucket.reload_remotes()
        return dialog

    def show_bucket_usage(self, remote: str | None = None, refresh: bool = False) -> Task | None:
        """Raise the Bucket dock on ``remote`` (default: the one chosen there); ``refresh`` lists the bucket."""
        self.bucket_dock.show()
        self.bucket_dock.raise_()
        name = remote or self.bucket.remote.currentText()
        if not name:
            names = plans.remote_names(self) or plans.need_remote(self, "Bucket usage")
            if not names:
                return None
            name = names[0]
        return self.bucket.load(name, refresh=refresh)

    def open_lifecycle(self, remote: str | None = None) -> QDialog | None:
        """The lifecycle export view (F8) for a remote."""
        from .lifecycle_view import LifecycleDialog
        names = plans.remote_names(self) or plans.need_remote(self, "Lifecycle rules")
        if not names:
            return None
        dialog = LifecycleDialog(self.catalog, self.workers, names, remote, self)
        self.lifecycle_dialog = dialog
        self.run_dialog(dialog)
        return dialog

    def _expire_versions(self) -> None:
        plan = self.pane.model.plan
        remote = str(plan.params.get("remote", "")) if plan is not None else ""
        self.open_lifecycle(remote or None)

    # ================================================================ preview
    def _plan_current_changed(self, current: Any, previous: Any) -> None:
        """A video item selected in the plan shows a frame next to it (made in a worker, cancelled on change)."""
        target = self.pane.model.local_target(current)
        if target is not None and is_video(target):
            self.pane.thumbnail.show_video(target)
        else:
            self.pane.thumbnail.clear()

    def _plan_context_menu(self, pos: QPoint) -> None:
        """The plan's context menu: Put back (for "Kept by you" rows), Keep files matching…, the keep-list."""
        index = self.planView.indexAt(pos)
        if index.isValid() and not self.planView.selectionModel().isSelected(index):
            self.planView.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setObjectName("planContextMenu")
        rows = self.planView.selectionModel().selectedRows(0) or ([index] if index.isValid() else [])
        self.acts.put_back.setEnabled(bool(self.pane.model.kept_by_you_rows(rows)))
        menu.addAction(self.acts.put_back)
        menu.addAction(self.acts.keep_matching)
        project_id = self.pane.model.project_at(index)
        if project_id is not None:
            shown = menu.addAction("Everything kept in this project…")
            shown.triggered.connect(lambda: keep_actions.keep_list(self, project_id))
        menu.aboutToHide.connect(lambda: self.acts.put_back.setEnabled(True))
        self.context_menu = menu
        menu.popup(self.planView.viewport().mapToGlobal(pos))

    def preview_cleanup(self) -> Task | None:
        """F1: ``core.clean.plan_cleanup`` for the selected projects."""
        chosen = self.selected_projects()
        if not chosen:
            self.say("Select one or more projects first.", 5000)
            return None
        ids = [p.id for p in chosen]
        names = chosen[0].name if len(chosen) == 1 else f"{len(chosen)} projects"
        from ..core.clean import plan_cleanup

        def make(cat: Catalog, progress: Progress, cancel: CancelToken) -> int:
            return int(plan_cleanup(cat, ids, progress=progress, cancel=cancel))

        return self.preview(make, f"Cleanup preview — {names}")

    # ================================================================ the scheduler, restores, reconcile
    def run_due_jobs_now(self) -> Task | None:
        """Run the scheduled jobs that are due now (tray and Clean menu)."""
        task = self.schedule.run_due()
        self.say("Scheduled jobs are running already." if task is None
                 else "Running the scheduled jobs that are due…", 5000)
        return task

    # ================================================================ announcements (F2: kept until seen)
    def refresh_announcements(self, then: Any = None) -> Task:
        """Read the automatic runs not seen yet (in a worker) into ``notificationsView``; a new one may have
        changed what the shown preview would do. ``then(runs by id)`` is called with them."""
        def done(runs: list[dict[str, Any]] | None, error: BaseException | None) -> None:
            if error is not None or runs is None:
                self.show_error(error)
                return
            if self.notices.set_runs(runs):  # a new automatic run: what the window shows may have changed
                self.flow.check_stale()
                self.history.refresh()
                self.refresh_projects()
            if then is not None:
                then({int(r["id"]): r for r in runs})

        return self.workers.run_task(lambda ctx: unseen_automatic_runs(self.catalog), done, name="announcements")

    def _runs_seen(self, run_ids: list[int]) -> None:
        self.workers.run_task(lambda ctx: mark_runs_seen(self.catalog, run_ids),
                              lambda _, e: self.show_error(e) if e else None, name="seen")

    def open_run_in_history(self, run_id: int) -> None:
        """Raise the History and select run ``run_id`` there (read again first if it is not listed yet)."""
        self.history_dock.show()
        self.history_dock.raise_()
        self.history.select_run(run_id)

    def _open_report(self, plan_id: int) -> None:
        if self.flow.running:
            self.say("A run is in progress; open the report once it has finished.", 6000)
            return
        self.flow.show_stored_plan(plan_id, "Scheduled orphan report")

    def _auto_refused(self, name: str, text: str) -> None:
        title = f"Auto-cleanup of {name} did not run"
        self.notify(title, text)
        self.notices.add_note(title, text, problem=True)

    def _restored(self, text: str, ok: bool) -> None:
        self.say(text, 20000)
        if ok:
            self.flow.after_run()

    def _reconcile_if_needed(self) -> None:
        """Finish runs a crashed process left ``running`` (invariant 6), in the deleting pool."""
        def work(ctx: TaskContext) -> list[int]:
            if not has_unfinished_runs(self.catalog):
                return []
            from ..core.run.lifecycle import reconcile_interrupted_runs  # loaded only when a crash left a run

            with self.catalog.writer("reconcile"):
                return reconcile_interrupted_runs(self.catalog)

        def done(fixed: list[int] | None, error: BaseException | None) -> None:
            if error is not None:
                self.show_error(error)
            elif fixed:
                text = f"{len(fixed)} run(s) left unfinished by a crash were checked against the disk."
                self.notify("Interrupted runs reconciled", text)
                self.notices.add_note("Interrupted runs reconciled", text, problem=True)
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

    def _splitters(self) -> dict[str, QSplitter]:
        return {"main": self.splitter, "projects": self.projects.splitter, "history": self.history.splitter}

    def _headers(self) -> dict[str, Any]:
        return {"projects": self.projectsTable.horizontalHeader(), "plan": self.planView.header(),
                "history": self.historyView.horizontalHeader()}

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() and not self._closing:
            self.flow.check_stale()  # back from another program: the files may have changed meanwhile
            self.refresh_announcements()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.flow.running and not self.ask_confirmation(
                "A run is in progress. Quit anyway? It stops after the current item; every item keeps a recorded "
                "outcome and nothing half-done is left behind.", title="Quit during a run"):
            event.ignore()
            return
        self._closing = True
        save_layout(self, self._splitters(), self._headers())
        self.auto_watch.stop()
        self.schedule.stop()
        self.flow.stale_watch.stop()
        self.pane.thumbnail.cancel()
        self._clock.stop()
        self.freeSpaceLabel.stop()
        self.workers.shutdown()
        if self.tray is not None:
            self.tray.hide()
        self.catalog.close()  # this thread's connection; the workers' went with their threads
        super().closeEvent(event)

