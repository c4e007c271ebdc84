"""The history panel: past runs (``core.history.list_runs``) and, for the selected run, its items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.history import list_runs, run_items
from .models import HistoryModel, RecordRole, RunItemsModel
from .remotes import error_sentence
from .wording import plain, run_sentence
from .workers import Task, TaskContext, Workers

if TYPE_CHECKING:
    from ..core.trash import Restorability, RestoreResult

#: Items shown for one run; the rest are summarised (a sweep can have 100,000+).
MAX_RUN_ITEMS = 5000


class HistoryPanel(QWidget):
    """``historyView`` (runs, newest first) beside the selected run's items, with **Restore from trash**
    for runs in trash mode while ``core.trash.restorable`` says their files are still in the trash."""

    errorRaised = Signal(object)
    #: ``(sentence, restored anything)`` after a restore.
    restored = Signal(str, bool)
    #: The Restore button's state was decided for the selected run (``run id``, ``possible``).
    restoreChecked = Signal(int, bool)

    def __init__(self, catalog: Catalog, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.workers = workers
        self.model = HistoryModel(self)
        self.items_model = RunItemsModel(self)

        self.historyView = QTableView()
        self.historyView.setObjectName("historyView")
        self.historyView.setModel(self.model)
        self.historyView.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.historyView.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.historyView.verticalHeader().setVisible(False)
        self.historyView.setAlternatingRowColors(True)
        self.historyView.setWordWrap(False)
        header = self.historyView.horizontalHeader()
        header.setStretchLastSection(False)
        for col, width in enumerate((110, 55, 80, 150, 80, 0)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            if width:
                header.resizeSection(col, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)  # the result sentence gets the room
        compact = self.historyView.fontMetrics().height() + 8
        self.historyView.verticalHeader().setDefaultSectionSize(compact)
        self.historyView.setToolTip("Past runs; select one to see what happened to each item")
        self.historyView.selectionModel().selectionChanged.connect(self._selected)

        self.runItemsView = QTableView()
        self.runItemsView.setObjectName("runItemsView")
        self.runItemsView.setModel(self.items_model)
        self.runItemsView.verticalHeader().setVisible(False)
        self.runItemsView.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.runItemsView.setWordWrap(False)
        self.runItemsView.verticalHeader().setDefaultSectionSize(compact)
        items_header = self.runItemsView.horizontalHeader()
        items_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.runItemsView.setColumnWidth(0, 90)
        self.runItemsView.setColumnWidth(2, 80)
        self.runItemsView.setColumnWidth(3, 160)
        self.itemsLabel = QLabel("Select a run to see its items.")
        self.restoreButton = QPushButton("Restore from trash")
        self.restoreButton.setObjectName("restoreButton")
        self.restoreButton.setEnabled(False)
        self.restoreButton.setToolTip("Move this run's files back from the trash to where they were (never "
                                      "overwrites a file that took their place)")
        self.restoreButton.clicked.connect(lambda: self.restore())
        self.restoreNote = QLabel("")
        self.restoreNote.setObjectName("restoreNote")
        self.restoreNote.setWordWrap(True)
        self.restoreNote.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_task: Task | None = None
        self.restore_task: Task | None = None
        self.last_restore: tuple[int, str] | None = None
        self.wanted_run: int | None = None  # a run to select once the runs are read (select_run)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.itemsLabel)
        right_layout.addWidget(self.runItemsView)
        restore_row = QHBoxLayout()
        restore_row.addWidget(self.restoreButton)
        restore_row.addWidget(self.restoreNote, 1)
        right_layout.addLayout(restore_row)

        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("historySplitter")
        splitter.addWidget(self.historyView)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def refresh(self) -> None:
        def load(ctx: TaskContext) -> list[dict[str, Any]]:
            return list_runs(self.catalog, limit=200)

        self.workers.run_task(load, self._loaded, name="history")

    def _loaded(self, runs: list[dict[str, Any]] | None, error: BaseException | None) -> None:
        if error is not None:
            self.errorRaised.emit(error)
            return
        selected = self.wanted_run if self.wanted_run is not None else self.selected_run_id()
        self.wanted_run = None
        self.model.set_runs(runs or [])
        if not runs:
            self.itemsLabel.setText("No runs yet: confirmed plans and automatic cleanups are listed here.")
        elif selected is None:
            self.itemsLabel.setText("Select a run to see what happened to each item.")
        if selected is not None:
            for row, run in enumerate(self.model.runs):
                if run["id"] == selected:
                    self.historyView.selectRow(row)

    def select_run(self, run_id: int) -> None:
        """Select run ``run_id`` (the runs are read again first when it is not listed yet) and give the view
        the keyboard."""
        for row, run in enumerate(self.model.runs):
            if run["id"] == run_id:
                self.historyView.selectRow(row)
                self.historyView.setFocus()
                return
        self.wanted_run = run_id
        self.refresh()

    def selected_run_id(self) -> int | None:
        rows = self.historyView.selectionModel().selectedRows()
        if not rows:
            return None
        run = rows[0].data(RecordRole)
        return int(run["id"]) if run else None

    def selected_run(self) -> dict[str, Any] | None:
        rows = self.historyView.selectionModel().selectedRows()
        return rows[0].data(RecordRole) if rows else None

    def _selected(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        run_id = self.selected_run_id()
        self.check_restore()
        if run_id is None:
            self.items_model.set_items([])
            self.itemsLabel.setText("Select a run to see its items.")
            return
        self.itemsLabel.setText("Loading the run's items…")

        def load(ctx: TaskContext) -> list[dict[str, Any]]:
            return run_items(self.catalog, run_id)

        self.workers.run_task(load, lambda items, error: self._items_loaded(run_id, items, error), name="run items")

    def _items_loaded(self, run_id: int, items: list[dict[str, Any]] | None, error: BaseException | None) -> None:
        if error is not None:
            self.errorRaised.emit(error)
            return
        if run_id != self.selected_run_id():
            return
        items = items or []
        shown = sorted(items, key=lambda i: (i["outcome"] not in ("failed", "skipped"), 0))[:MAX_RUN_ITEMS]
        self.items_model.set_items(shown)
        run = self.selected_run()
        text = run_sentence(run) if run is not None else ""
        more = f" (first {MAX_RUN_ITEMS:,} shown, failures first)" if len(items) > MAX_RUN_ITEMS else ""
        self.itemsLabel.setText(f"{text}{more}" if items else "This run has no items.")

    # ------------------------------------------------------------ restore from the trash
    def check_restore(self) -> Task | None:
        """Enable **Restore** for the selected run while its files are in the trash (asked in a worker)."""
        run = self.selected_run()
        self.restoreButton.setEnabled(False)
        if run is None:
            self.restoreNote.setText("")
            return None
        run_id = int(run["id"])
        self.restoreNote.setText("Looking in the trash…" if run.get("mode") == "trash" else "")

        def work(ctx: TaskContext) -> Restorability:
            from ..core.trash import restorable

            return restorable(self.catalog, run_id)

        def done(check: Restorability | None, error: BaseException | None) -> None:
            if run_id != self.selected_run_id():
                return
            if error is not None or check is None:
                self.restoreNote.setText(error_sentence(error) if error else "")
                return
            self.restoreButton.setEnabled(check.possible and self.restore_task is None)
            done_before = self.last_restore[1] + " " if self.last_restore and self.last_restore[0] == run_id else ""
            self.restoreNote.setText(done_before + plain(check.reason))
            self.restoreChecked.emit(run_id, check.possible)

        self.check_task = self.workers.run_task(work, done, name="restorable")
        return self.check_task

    def restore(self) -> Task | None:
        """``core.trash.restore_run`` for the selected run, in the deleting pool; one sentence after."""
        run_id = self.selected_run_id()
        if run_id is None or self.restore_task is not None:
            return None
        self.restoreButton.setEnabled(False)
        self.restoreNote.setText("Restoring this run's files from the trash…")

        def work(ctx: TaskContext) -> RestoreResult:
            from ..core.trash import restore_run

            return restore_run(self.catalog, run_id)

        def done(result: RestoreResult | None, error: BaseException | None) -> None:
            self.restore_task = None
            if error is not None or result is None:
                text = error_sentence(error) if error else "The restore gave no result."
                self.restoreNote.setText(text)
                self.restored.emit(text, False)
                return
            self.last_restore = (run_id, result.message)
            self.restoreNote.setText(result.message)
            self.restored.emit(result.message, result.possible and bool(result.items))

        self.restore_task = self.workers.run_task(work, done, name="restore", destructive=True)
        return self.restore_task
