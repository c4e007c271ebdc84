"""The preview pane: a plan's title, the grouped plan tree, the total line, Confirm and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.views import PlanSummary
from .plan_model import PlanModel
from .stale import StaleNotice
from .thumbnail import ThumbnailView
from .workers import Workers

EMPTY_TEXT = ("Select a project and press Preview cleanup (Ctrl+P). Nothing is deleted until you confirm "
              "the plan shown here.")
#: What a keyboard focus looks like in the window's views: plainly visible, not a faint dotted line.
FOCUS_STYLE = ("QTreeView:focus, QTableView:focus { border: 2px solid palette(highlight); }"
               "QPushButton:focus { border: 2px solid palette(highlight); border-radius: 3px; padding: 3px 10px; }")


class PreviewPane(QWidget):
    """Shows one stored plan; the window wires :attr:`confirmButton` and :attr:`cancelButton`."""

    def __init__(self, catalog: Catalog, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewPane")
        self.model = PlanModel(catalog, self)
        self.thumbnail = ThumbnailView(workers)

        self.titleLabel = QLabel("Preview")
        self.titleLabel.setObjectName("previewTitle")
        font = self.titleLabel.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.titleLabel.setFont(font)

        self.summaryLabel = QLabel(EMPTY_TEXT)
        self.summaryLabel.setObjectName("previewSummary")
        self.summaryLabel.setWordWrap(True)
        self.staleNotice = StaleNotice()

        self.planView = QTreeView()
        self.planView.setObjectName("planView")
        self.planView.setModel(self.model)
        self.planView.setUniformRowHeights(True)
        self.planView.setAlternatingRowColors(True)
        self.planView.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # a path too long for its column keeps its file name and loses its middle; columns fit their
        # contents (see _fit_columns) and the view scrolls sideways rather than cut a reason short
        self.planView.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.planView.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.planView.setSortingEnabled(True)
        header = self.planView.header()
        header.setStretchLastSection(False)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(PlanModel.ITEM, Qt.SortOrder.AscendingOrder)
        for col in range(len(PlanModel.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(PlanModel.SIZE, 80)
        header.resizeSection(PlanModel.PROJECT, 120)
        self.planView.setToolTip("Uncheck an item to leave it out of the run; kept-back items say why they stay. "
                                 "Click a column title to sort by name or size.")
        self.planView.setStyleSheet(FOCUS_STYLE)
        # pages come in as groups open: fit the columns once they have, not once per page
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_columns)
        self.model.rowsInserted.connect(lambda *_: self._fit_timer.start())

        self.totalLabel = QLabel("")
        self.totalLabel.setObjectName("totalLine")
        bold = self.totalLabel.font()
        bold.setBold(True)
        self.totalLabel.setFont(bold)

        self.messageLabel = QLabel("")
        self.messageLabel.setObjectName("previewMessage")
        self.messageLabel.setWordWrap(True)
        self.messageLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.messageLabel.hide()

        self.currentLabel = QLabel("")
        self.currentLabel.setObjectName("currentItem")
        self.currentLabel.setTextFormat(Qt.TextFormat.PlainText)
        # a new text 20 times a second must not lay the pane out again: fixed height, any width
        self.currentLabel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.currentLabel.setMinimumWidth(1)
        self.currentLabel.hide()

        self.runProgress = QProgressBar()
        self.runProgress.setObjectName("runProgress")
        self.runProgress.setToolTip("Bytes of the run done so far")
        self.runProgress.setTextVisible(True)
        self.runProgress.hide()

        self.notesLabel = QLabel("")
        self.notesLabel.setObjectName("planNotes")
        self.notesLabel.setWordWrap(True)
        self.notesLabel.setStyleSheet("color: #8a6d00;")
        self.notesLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expireButton = QPushButton("Expire noncurrent versions…")
        self.expireButton.setObjectName("expireVersionsButton")
        self.expireButton.setToolTip("Open the lifecycle rules of this remote: a NoncurrentVersionExpiration rule "
                                     "removes the data delete markers hide")
        self.notesRow = QWidget()
        notes_layout = QHBoxLayout(self.notesRow)
        notes_layout.setContentsMargins(0, 0, 0, 0)
        notes_layout.addWidget(self.notesLabel, 1)
        notes_layout.addWidget(self.expireButton, 0, Qt.AlignmentFlag.AlignTop)
        self.notesRow.hide()

        self.confirmButton = QPushButton("Confirm…")
        self.confirmButton.setObjectName("confirmButton")
        self.confirmButton.setToolTip("Run exactly this plan (asks once more first)")
        self.confirmButton.setEnabled(False)
        self.confirmButton.setStyleSheet(FOCUS_STYLE)
        self.confirmButton.setAutoDefault(True)
        self.cancelButton = QPushButton("Cancel")
        self.cancelButton.setObjectName("cancelButton")
        self.cancelButton.setToolTip("Stop after the current item; every item keeps a recorded outcome")
        self.cancelButton.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.totalLabel, 1)
        buttons.addWidget(self.cancelButton)
        buttons.addWidget(self.confirmButton)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.titleLabel)
        layout.addWidget(self.summaryLabel)
        layout.addWidget(self.staleNotice)
        layout.addWidget(self.notesRow)
        middle = QHBoxLayout()
        middle.addWidget(self.planView, 1)
        middle.addWidget(self.thumbnail, 0)
        layout.addLayout(middle, 1)
        layout.addWidget(self.runProgress)
        layout.addWidget(self.currentLabel)
        layout.addWidget(self.messageLabel)
        layout.addLayout(buttons)

        self.model.totalsChanged.connect(self._update_total)
        self.running = False
        self._current_text = ""
        self._bytes_shown = False
        self._bytes_max = -1

    # ------------------------------------------------------------ states
    def show_empty(self, text: str = EMPTY_TEXT) -> None:
        self.model.set_summary(None)
        self.titleLabel.setText("Preview")
        self.summaryLabel.setText(text)
        self.set_message("")
        self.set_current("")
        self.set_notes([])
        self.thumbnail.clear()
        self.staleNotice.clear()
        self._update_buttons()

    def show_busy(self, title: str, text: str) -> None:
        self.model.set_summary(None)
        self.titleLabel.setText(title)
        self.summaryLabel.setText(text)
        self.set_message("")
        self.set_notes([])
        self.thumbnail.clear()
        self.staleNotice.clear()
        self._update_buttons()

    def set_notes(self, notes: list[str], versioned: bool = False) -> None:
        """Plan notes above the tree (e.g. a versioned bucket: deletes only add delete markers)."""
        self.notesLabel.setText("\n".join(notes))
        self.expireButton.setVisible(versioned)
        self.notesRow.setVisible(bool(notes))

    def set_bytes_progress(self, done: int, total: int, text: str = "") -> None:
        """The run's byte progress (uploads, sweeps); ``total`` 0 hides the bar. Only changes reach Qt."""
        if total <= 0:
            if self._bytes_shown:
                self.runProgress.hide()
                self._bytes_shown = False
            return
        scale = max(1, total // 1_000_000_000 + 1)  # QProgressBar holds 32-bit ints
        if self._bytes_max != total // scale:
            self._bytes_max = total // scale
            self.runProgress.setRange(0, self._bytes_max)
        self.runProgress.setValue(min(done, total) // scale)
        self.runProgress.setFormat(text or "%p%")
        if not self._bytes_shown:
            self.runProgress.show()
            self._bytes_shown = True

    def show_plan(self, title: str, summary: PlanSummary) -> None:
        plan = summary.plan
        self.model.set_summary(summary)
        self.titleLabel.setText(title)
        if plan.status == "refused":
            text = f"Refused: {plan.summary}. Nothing will be deleted; the kept-back items say why."
        elif plan.status == "executed":
            text = f"Plan {plan.id} has already been run. Make a new preview to clean again."
        elif not plan.item_count:
            text = f"Nothing to do: {plan.summary or 'no items'}." if plan.kept_count else "Nothing to do."
        else:
            text = (f"Plan {plan.id} ({plan.kind}) — dry run: nothing has been deleted. "
                    f"Uncheck what you want to keep, then Confirm.")
        self.summaryLabel.setText(text)
        self.set_message("")
        self.set_current("")
        self.thumbnail.clear()
        self.staleNotice.clear()
        versioning = str(plan.params.get("versioning", "")) if plan.kind == "sweep" else ""
        notes: list[str] = []
        if plan.kind == "sweep":
            from ..core.s3.sweep import versioning_notes  # the S3 part loads when a sweep is shown

            notes = versioning_notes(versioning, str(plan.params.get("remote", "")))
        self.set_notes(notes, versioned=versioning in ("Enabled", "Suspended"))
        self.planView.setColumnHidden(PlanModel.PROJECT, True)  # the project is the group above each item
        header = self.planView.header()
        header.blockSignals(True)  # the indicator shows the order the summary was read in; no new sort
        header.setSortIndicator(PlanModel.SIZE if summary.sort == "size" else PlanModel.ITEM,
                                Qt.SortOrder.DescendingOrder if summary.descending else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)
        self._expand_small()
        self._fit_columns()
        self._update_buttons()

    def show_sorted(self, summary: PlanSummary) -> None:
        """The same plan in another order: boxes, outcomes and open groups stay as they were."""
        view = self.planView
        opened = {self.model.group_key(g) for g in self.model.groups if view.isExpanded(self.model.group_index(g))}
        sections = {s.project_id for s in self.model.sections if view.isExpanded(self.model.section_index(s))}
        self.model.set_summary(summary, keep_state=True)
        for section in self.model.sections:
            if section.project_id in sections:
                view.expand(self.model.section_index(section))
        for group in self.model.groups:
            if self.model.group_key(group) in opened:
                view.expand(self.model.group_index(group))
        self._fit_columns()
        self._update_buttons()

    def sort_choice(self) -> tuple[str, bool]:
        """``(by, descending)`` the plan view's header asks for: ``name`` or ``size``."""
        header = self.planView.header()
        by = "size" if header.sortIndicatorSection() == PlanModel.SIZE else "name"
        return by, header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder

    def _expand_small(self) -> None:
        """Open what is small enough to read at once: projects (up to 50), and small groups while the rows
        opened stay under a page (each opened group reads its rows on this thread)."""
        for section in self.model.sections[:50]:
            self.planView.expand(self.model.section_index(section))
        budget = 600
        for group in self.model.groups:
            limit = 200 if group.info is not None else 50
            if group.count <= min(limit, budget):
                self.planView.expand(self.model.group_index(group))
                budget -= group.count
            if budget <= 0:
                break

    def _fit_columns(self) -> None:
        """Item and Why as wide as their longest loaded text (groups' titles included), so no path loses
        its project folder and no reason is cut; the user may still drag them. Reads what is loaded only."""
        model, view = self.model, self.planView
        fm = view.fontMetrics()
        indent = view.indentation() * (3 if model.sections else 2) + 48  # tree depth, checkbox and icon
        widest_item, widest_why = 0, 0
        seen: set[str] = set()
        budget = 3000  # rows measured in all: enough to size the columns, cheap whatever the plan's size
        for group in model.groups[:300]:
            index = model.group_index(group)
            widest_item = max(widest_item, fm.horizontalAdvance(str(model.data(index) or "")))
            widest_why = max(widest_why, fm.horizontalAdvance(str(model.data(index.siblingAtColumn(model.WHY)) or "")))
            rows = model.rows_of(group)[:max(0, budget)]
            budget -= len(rows)
            for row in rows:
                widest_item = max(widest_item, fm.horizontalAdvance(model.shown_path(row)))
                why = model.why(row)
                if why not in seen:
                    seen.add(why)
                    widest_why = max(widest_why, fm.horizontalAdvance(why))
        for section in model.sections[:300]:
            widest_item = max(widest_item, fm.horizontalAdvance(str(model.data(model.section_index(section)) or "")))
        header = view.header()
        room = max(300, view.viewport().width())
        header.resizeSection(model.ITEM, min(max(220, widest_item + indent), int(room * 0.55)))
        header.resizeSection(model.WHY, max(160, widest_why + 24))

    def set_stale(self, reasons: list[str] | None, can_refresh: bool = True) -> None:
        """Show (``reasons``) or hide (``None``) the stale notice; Confirm is off while it shows."""
        if reasons is None:
            self.staleNotice.clear()
        else:
            self.staleNotice.show_reasons(reasons, can_refresh)
        self._update_buttons()

    @property
    def stale(self) -> bool:
        return self.staleNotice.stale

    def set_running(self, running: bool) -> None:
        self.running = running
        if running:
            self.model.set_read_only(True)
        self._update_buttons()

    def set_message(self, text: str, error: bool = False) -> None:
        self.messageLabel.setStyleSheet("color: #b3261e;" if error else "")
        self.messageLabel.setText(text)
        self.messageLabel.setVisible(bool(text))

    def set_current(self, text: str) -> None:
        """The line under the plan while something runs ("" hides it, and the byte bar with it)."""
        if text != self._current_text:
            self.currentLabel.setText(text)
            if bool(text) != bool(self._current_text):
                self.currentLabel.setVisible(bool(text))
            self._current_text = text
        if not text:
            self.set_bytes_progress(0, 0)

    def _update_total(self) -> None:
        self.totalLabel.setText(self.model.total_line())
        self._update_buttons()

    def _update_buttons(self) -> None:
        plan = self.model.plan
        ready = plan is not None and plan.status == "ready" and not self.model.read_only
        self.confirmButton.setEnabled(ready and not self.running and not self.staleNotice.stale
                                      and self.model.selected_count() > 0)
        self.cancelButton.setEnabled(self.running)
