"""The preview pane: a plan's title, the grouped plan tree, the total line, Confirm and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.s3.sweep import versioning_notes
from .plan_model import PlanModel, PlanSummary
from .thumbnail import ThumbnailView
from .workers import Workers

EMPTY_TEXT = ("Select a project and press Preview cleanup (Ctrl+P). Nothing is deleted until you confirm "
              "the plan shown here.")


class _MiddleElide(QStyledItemDelegate):
    """Paths lose their middle, not their file name; the other columns elide on the right."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


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

        self.planView = QTreeView()
        self.planView.setObjectName("planView")
        self.planView.setModel(self.model)
        self.planView.setUniformRowHeights(True)
        self.planView.setAlternatingRowColors(True)
        self.planView.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.planView.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._elide = _MiddleElide(self.planView)
        self.planView.setItemDelegateForColumn(0, self._elide)
        header = self.planView.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 290)
        header.resizeSection(1, 75)
        header.resizeSection(2, 120)
        self.planView.setToolTip("Uncheck an item to leave it out of the run; kept-back items say why they stay")

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
        self._update_buttons()

    def show_busy(self, title: str, text: str) -> None:
        self.model.set_summary(None)
        self.titleLabel.setText(title)
        self.summaryLabel.setText(text)
        self.set_message("")
        self.set_notes([])
        self.thumbnail.clear()
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
        versioning = str(plan.params.get("versioning", "")) if plan.kind == "sweep" else ""
        self.set_notes(versioning_notes(versioning, str(plan.params.get("remote", ""))),
                       versioned=versioning in ("Enabled", "Suspended"))
        self.planView.setColumnHidden(2, summary.project_count <= 1)
        # sweep groups are named by prefix and reason ("uploads/ · temporary, older than 24 h"): more room
        self.planView.header().resizeSection(0, 420 if summary.objects else 290)
        for group in self.model.groups:
            if group.count <= (200 if group.info is not None else 50):
                self.planView.expand(self.model.index(group.row, 0))
        self._update_buttons()

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
        self.confirmButton.setEnabled(ready and not self.running and self.model.selected_count() > 0)
        self.cancelButton.setEnabled(self.running)
