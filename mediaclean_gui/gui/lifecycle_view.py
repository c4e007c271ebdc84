"""The lifecycle export view (F8): a remote's retention as S3 lifecycle rules, what rules cannot say, Apply and read back."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.s3.lifecycle import LifecycleExport, apply_lifecycle, lifecycle_export
from .dialogs import confirmation_box
from .remotes import ERROR_COLOUR, OK_COLOUR, error_sentence
from .workers import Task, TaskContext, Workers


def rules_json(rules: list[dict[str, Any]]) -> str:
    """Rules as the JSON a user could paste into ``aws s3api put-bucket-lifecycle-configuration``."""
    return json.dumps({"Rules": rules}, indent=2, default=str, ensure_ascii=False)


class LifecycleDialog(QDialog):
    """Shows ``lifecycle_export`` for a remote; **Apply** merges the rules into the bucket's
    configuration (foreign rules kept), puts it and reads it back (``apply_lifecycle``).

    Nothing is read from the store until :meth:`load` (the dialog calls it when shown).
    """

    loaded = Signal(object)
    applied = Signal(object)

    def __init__(self, catalog: Catalog, workers: Workers, remotes: list[str], remote: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lifecycleDialog")
        self.setWindowTitle("Lifecycle rules")
        self.catalog = catalog
        self.workers = workers
        self.export: LifecycleExport | None = None
        self.task: Task | None = None
        self.remote = QComboBox()
        self.remote.setObjectName("lifecycleRemote")
        self.remote.addItems(remotes)
        if remote:
            self.remote.setCurrentText(remote)
        self.readButton = QPushButton("Read bucket")
        self.readButton.setObjectName("lifecycleReadButton")
        self.readButton.setToolTip("Read the bucket's folders, versioning and current rules (changes nothing)")
        self.applyButton = QPushButton("Apply to bucket…")
        self.applyButton.setObjectName("lifecycleApplyButton")
        self.applyButton.setToolTip("Merge these rules into the bucket's lifecycle configuration, then read it back")
        self.applyButton.setEnabled(False)
        self.status = QLabel("The store can enforce the retention itself with lifecycle rules, for buckets too "
                             "large to sweep from one machine. Read the bucket to see the rules.")
        self.status.setObjectName("lifecycleStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.rulesText = QPlainTextEdit()
        self.rulesText.setObjectName("lifecycleRules")
        self.mergedText = QPlainTextEdit()
        self.mergedText.setObjectName("lifecycleMerged")
        self.existingText = QPlainTextEdit()
        self.existingText.setObjectName("lifecycleExisting")
        for edit in (self.rulesText, self.mergedText, self.existingText):
            edit.setReadOnly(True)
            edit.setFont(mono)
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.cannotList = QListWidget()
        self.cannotList.setObjectName("lifecycleCannot")
        self.cannotList.setWordWrap(True)
        self.notesList = QListWidget()
        self.notesList.setObjectName("lifecycleNotes")
        self.notesList.setWordWrap(True)
        for listing in (self.cannotList, self.notesList):
            listing.setSpacing(4)
            listing.setAlternatingRowColors(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.rulesText, "Our rules")
        self.tabs.addTab(self.cannotList, "What rules cannot express")
        self.tabs.addTab(self.notesList, "Notes")
        self.tabs.addTab(self.existingText, "Bucket's current rules")
        self.tabs.addTab(self.mergedText, "Merged configuration")

        top = QHBoxLayout()
        top.addWidget(QLabel("Remote:"))
        top.addWidget(self.remote, 1)
        top.addWidget(self.readButton)
        top.addWidget(self.applyButton)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close)
        self.readButton.clicked.connect(lambda: self.load())
        self.applyButton.clicked.connect(lambda: self.apply())
        self.remote.activated.connect(lambda _: self.load())
        self.resize(760, 560)

    # hook the tests replace
    def ask(self, text: str) -> bool:
        box = confirmation_box(self, "Apply lifecycle rules", text, "Apply")
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.export is None and self.task is None and self.remote.currentText():
            self.load()

    def load(self) -> Task:
        """``lifecycle_export`` in a worker (reads only)."""
        name = self.remote.currentText()
        self.status.setStyleSheet("")
        self.status.setText(f"Reading the bucket of '{name}'…")
        self.readButton.setEnabled(False)
        self.applyButton.setEnabled(False)

        def work(ctx: TaskContext) -> LifecycleExport:
            return lifecycle_export(self.catalog, name)

        self.task = self.workers.run_task(work, self._loaded, name="lifecycle export")
        return self.task

    def _loaded(self, export: LifecycleExport | None, error: BaseException | None) -> None:
        self.task = None
        self.readButton.setEnabled(True)
        if error is not None:
            self.status.setStyleSheet(ERROR_COLOUR)
            self.status.setText(error_sentence(error))
            return
        assert export is not None
        self.show_export(export)
        self.status.setText(f"{len(export.rules)} rule(s) for bucket '{export.bucket}' (versioning "
                            f"{export.versioning}); {len(export.existing)} rule(s) on the bucket now. Apply merges "
                            f"ours in and keeps the others.")
        self.applyButton.setEnabled(bool(export.rules))
        self.loaded.emit(export)

    def show_export(self, export: LifecycleExport) -> None:
        self.export = export
        data = export.as_json()
        self.rulesText.setPlainText(rules_json(data["rules"]))
        self.existingText.setPlainText(rules_json(data["existing_rules"]) if export.existing
                                       else "The bucket has no lifecycle configuration.")
        self.mergedText.setPlainText(rules_json(data["merged_rules"]))
        self.cannotList.clear()
        self.cannotList.addItems(export.cannot_express)
        self.notesList.clear()
        self.notesList.addItems(export.notes)

    def apply(self) -> Task | None:
        """Ask, then ``apply_lifecycle`` in the single (deleting) pool: it changes what the store will delete."""
        if self.export is None:
            return None
        name = self.remote.currentText()
        text = (f"Merge {len(self.export.rules)} mediaclean rule(s) into the lifecycle configuration of bucket "
                f"'{self.export.bucket}'?\n\nThe store will then expire objects by these rules by itself, about "
                f"once a day. Rules whose ID does not start with 'mediaclean-' are kept as they are.")
        if not self.ask(text):
            self.status.setText("Not applied: the bucket's rules are unchanged.")
            return None
        self.applyButton.setEnabled(False)
        self.readButton.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText("Applying and reading back…")

        def work(ctx: TaskContext) -> LifecycleExport:
            return apply_lifecycle(self.catalog, name)

        self.task = self.workers.run_task(work, self._applied, name="lifecycle apply", destructive=True)
        return self.task

    def _applied(self, export: LifecycleExport | None, error: BaseException | None) -> None:
        self.task = None
        self.readButton.setEnabled(True)
        self.applyButton.setEnabled(True)
        if error is not None:
            self.status.setStyleSheet(ERROR_COLOUR)
            self.status.setText(error_sentence(error))
            return
        assert export is not None
        self.show_export(export)
        self.existingText.setPlainText(rules_json(export.as_json()["read_back"]))
        self.tabs.setCurrentWidget(self.existingText)
        if export.verified:
            self.status.setStyleSheet(OK_COLOUR)
            self.status.setText(f"Applied: {len(export.merged)} rule(s) put on bucket '{export.bucket}' and read "
                                f"back unchanged.")
        else:
            self.status.setStyleSheet(ERROR_COLOUR)
            self.status.setText("Applied, but the rules read back differ: " + " ".join(export.mismatches))
        self.applied.emit(export)
