"""The projects panel: the filter (Ctrl+F, Escape), the table or its empty state, the "no match" line, the breakdown."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.projects import Project
from ..core.views import ProjectRow
from .breakdown import BreakdownWidget
from .models import AWAITING, ProjectsModel, ProjectsProxy, RecordRole, RowFacts

EMPTY_STATE = "Add a project folder or import a generator database"


class FilterEdit(QLineEdit):
    """The project filter: Escape clears it (and a second Escape hands focus back to the table)."""

    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.text():
                self.clear()
            else:
                self.escaped.emit()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.escaped.emit()  # into the table, on its first row
            event.accept()
            return
        super().keyPressEvent(event)


class ProjectsPanel(QWidget):
    """Everything about choosing projects. ``selectionChanged`` fires when the selected projects change."""

    selectionChanged = Signal()

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectsPanel")
        self.projectFilter = FilterEdit()
        self.projectFilter.setObjectName("projectFilter")
        self.projectFilter.setPlaceholderText("Filter projects by name… (Ctrl+F)")
        self.projectFilter.setClearButtonEnabled(True)
        self.projectFilter.setToolTip("Show only projects whose name contains this text; Escape clears it")

        self.model = ProjectsModel(self)
        self.proxy = ProjectsProxy(self)
        self.proxy.setSourceModel(self.model)
        table = self.projectsTable = QTableView()
        table.setObjectName("projectsTable")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(ProjectsModel.NAME, Qt.SortOrder.AscendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setTabKeyNavigation(False)  # Tab leaves the table for the next pane; arrows move inside
        table.verticalHeader().setVisible(False)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.setWordWrap(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = table.horizontalHeader()
        # the name first and whole; the last column takes what is left, the table scrolls sideways for the rest
        header.setStretchLastSection(True)
        header.setSectionResizeMode(ProjectsModel.NAME, QHeaderView.ResizeMode.Interactive)
        fm = table.fontMetrics()
        header.resizeSection(ProjectsModel.NAME, fm.horizontalAdvance("Ocean Documentary") + 20)
        for col, sample in ((ProjectsModel.SIZE, "999.9 MB"), (ProjectsModel.RECLAIMABLE, "Reclaimable"),
                            (ProjectsModel.LAST, "12 minutes ago"), (ProjectsModel.AUTO, "off (global)")):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, fm.horizontalAdvance(sample) + 24)
        # the status may say "awaiting your first review": its column is wide enough never to cut it
        header.setSectionResizeMode(ProjectsModel.STATUS, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(ProjectsModel.STATUS, table.fontMetrics().horizontalAdvance(AWAITING) + 16)

        self.noMatch = QLabel("")
        self.noMatch.setObjectName("noMatchLabel")
        self.noMatch.setWordWrap(True)
        self.noMatch.hide()

        self.emptyLabel = QLabel(EMPTY_STATE)
        self.tableStack = QStackedWidget()
        self.tableStack.addWidget(self._empty_state(actions))
        self.tableStack.addWidget(table)
        # the table (empty, its header showing) until the catalog has been read, not the empty state: a user with
        # projects never sees "add a project" flash by, and the table's first layout is done before the rows come
        self.tableStack.setCurrentIndex(1)

        self.breakdown = BreakdownWidget()
        # the table, the pictures under it: the user drags the boundaries (remembered with the layout)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("projectsSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tableStack)
        self.splitter.addWidget(self.breakdown)
        self.splitter.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.projectFilter)
        layout.addWidget(self.noMatch)
        layout.addWidget(self.splitter, 1)

        self.projectFilter.textChanged.connect(self._filter)
        self.projectFilter.escaped.connect(self._into_table)
        table.selectionModel().selectionChanged.connect(self._selection_changed)

    def _empty_state(self, actions: list[QAction]) -> QWidget:
        empty = QWidget()
        empty.setObjectName("emptyState")
        layout = QVBoxLayout(empty)
        layout.addStretch(1)
        self.emptyLabel.setObjectName("emptyStateLabel")
        self.emptyLabel.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.emptyLabel.setWordWrap(True)
        font = self.emptyLabel.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.emptyLabel.setFont(font)
        layout.addWidget(self.emptyLabel)
        row = QHBoxLayout()
        row.addStretch(1)
        for action in actions:
            button = QPushButton(action.icon(), action.text())
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        hint = QLabel("You can also drop a folder onto this window.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint)
        layout.addStretch(2)
        return empty

    def add_picture(self, widget: QWidget) -> None:
        """Put ``widget`` between the table and the breakdown (the window's space map)."""
        self.splitter.insertWidget(1, widget)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([260, widget.minimumHeight(), self.breakdown.minimumHeight()])

    # ------------------------------------------------------------ contents
    def set_rows(self, rows: list[ProjectRow], keep: list[int], sorted_as: tuple[int, bool] | None = None,
                 facts: RowFacts | None = None) -> None:
        """Show ``rows`` (already in ``sorted_as`` order when given, with their ``facts`` made by the loader)
        and select the projects ``keep`` again."""
        self.model.set_rows(rows, sorted_as, facts)
        self.tableStack.setCurrentIndex(1 if rows else 0)
        self.select_ids(keep)
        self._update_no_match()

    def select_ids(self, ids: list[int] | set[int]) -> None:
        table = self.projectsTable
        selection = table.selectionModel()
        wanted = set(ids)
        chosen = QItemSelection()
        current: QModelIndex | None = None
        last = self.proxy.columnCount() - 1
        for project_id in wanted:
            row = self.model.row_of(project_id)
            index = self.proxy.mapFromSource(self.model.index(row, 0)) if row is not None else QModelIndex()
            if index.isValid():
                chosen.select(index, index.siblingAtColumn(last))
                if current is None or index.row() < current.row():
                    current = index
        selection.blockSignals(True)
        selection.clearSelection()
        selection.select(chosen, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        if current is not None:
            selection.setCurrentIndex(current, selection.SelectionFlag.NoUpdate)
            table.scrollTo(current)
        selection.blockSignals(False)
        table.viewport().update()
        self.selectionChanged.emit()

    def selected_projects(self) -> list[Project]:
        selection = self.projectsTable.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return [r.data(RecordRole) for r in rows if r.data(RecordRole) is not None]

    # ------------------------------------------------------------ filter
    def focus_filter(self) -> None:
        """Ctrl+F: the filter, its text selected so typing replaces it."""
        self.projectFilter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.projectFilter.selectAll()

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_no_match()

    def _update_no_match(self) -> None:
        text = self.projectFilter.text()
        none = bool(text) and self.model.rowCount() > 0 and self.proxy.rowCount() == 0
        if none:
            self.noMatch.setText(f"No project matches “{text}”. Press Escape to show every project.")
        self.noMatch.setVisible(none)

    def _into_table(self) -> None:
        table = self.projectsTable
        table.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.proxy.rowCount() and not table.selectionModel().hasSelection():
            table.selectRow(0)

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self.selectionChanged.emit()
