"""Small dialogs: confirmation boxes, add a project, import a generator database, choose a remote."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import pref_range
from ..core.errors import KnownError
from ..core.profiles import all_profiles
from .messages import error_text
from .workers import Task

ERROR_STYLE = "color: #b3261e;"


def confirmation_box(parent: QWidget | None, title: str, text: str, action: str = "Delete") -> QMessageBox:
    """The "ask once more" box: a warning whose default (and Escape) button is **Cancel**."""
    box = QMessageBox(parent)
    box.setObjectName("confirmationBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    go.setObjectName("confirmGo")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    return box


def fatal_box(text: str) -> QMessageBox:
    """A start-up error the window cannot get past (e.g. a catalog from a newer version)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "mediaclean cannot start", text, QMessageBox.StandardButton.Close)
    box.setObjectName("fatalBox")
    return box


def _folder_row(edit: QLineEdit, parent: QWidget, caption: str, file_filter: str | None = None) -> QWidget:
    row = QWidget(parent)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("Browse…", row)

    def pick() -> None:
        start = edit.text() or os.path.expanduser("~")
        if file_filter is None:
            chosen = QFileDialog.getExistingDirectory(parent, caption, start)
        else:
            chosen = QFileDialog.getOpenFileName(parent, caption, start, file_filter)[0]
        if chosen:
            edit.setText(chosen)

    browse.clicked.connect(pick)
    layout.addWidget(browse)
    return row


@dataclass(frozen=True)
class NewProject:
    root: str
    profile: str
    name: str | None
    external_id: str | None


class SubmitDialog(QDialog):
    """A form whose OK does the work while the dialog stays open: ``submit(dialog)`` checks the fields
    (raising :class:`KnownError` for a missing one) and returns the :class:`Task` doing the work; an
    error of either is shown in the dialog, under the form, and the dialog stays open to fix it."""

    def __init__(self, parent: QWidget | None, submit: Callable[[Any], Task | None] | None) -> None:
        super().__init__(parent)
        self.submit = submit
        #: ``recover(error)`` may answer a failed submit with a new task (e.g. after asking whether a broad
        #: folder is meant); ``None`` shows the error.
        self.recover: Callable[[BaseException], Task | None] | None = None
        self.task: Task | None = None
        self.error = QLabel("")
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def accept(self) -> None:
        if self.submit is None:
            super().accept()
            return
        self.show_error("")
        try:
            task = self.submit(self)
        except KnownError as exc:
            self.show_error(error_text(exc))
            return
        if task is None:
            super().accept()
            return
        self.task = task
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        task.finished.connect(self._done)

    def _done(self, result: object, error: BaseException | None) -> None:
        self.task = None
        again = self.recover(error) if error is not None and self.recover is not None else None
        if again is not None:
            self.task = again
            again.finished.connect(self._done)
            return
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        if error is not None:
            self.show_error(error_text(error))
            return
        super().accept()


class AddProjectDialog(SubmitDialog):
    """A workspace folder and its layout profile (the same as ``mediaclean project add``)."""

    def __init__(self, parent: QWidget | None = None, folder: str = "",
                 submit: Callable[[Any], Task | None] | None = None) -> None:
        super().__init__(parent, submit)
        self.setObjectName("addProjectDialog")
        self.setWindowTitle("Add a project folder")
        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("The workspace folder of a project or of a generator")
        self.profile = QComboBox()
        try:
            profiles = all_profiles()
        except KnownError as exc:
            profiles = {}
            self.profile.setToolTip(str(exc))
        for name, prof in sorted(profiles.items()):
            self.profile.addItem(name, name)
            self.profile.setItemData(self.profile.count() - 1, prof.description, 3)  # ToolTipRole
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional: the folder's name by default")
        self.external_id = QLineEdit()
        self.external_id.setPlaceholderText("optional: the generator's project id")
        form = QFormLayout()
        form.addRow("Folder:", _folder_row(self.folder, self, "Choose the workspace folder"))
        form.addRow("Layout profile:", self.profile)
        form.addRow("Name:", self.name)
        form.addRow("Generator id:", self.external_id)
        hint = QLabel("Every project found in the folder is registered. Nothing is deleted here; "
                      "a scan measures the sizes.")
        _lay_out_form(self, form, hint)
        self.folder.setFocus()

    def value(self) -> NewProject:
        return NewProject(self.folder.text().strip(), str(self.profile.currentData() or ""),
                          self.name.text().strip() or None, self.external_id.text().strip() or None)


def _lay_out_form(dialog: SubmitDialog, form: QFormLayout, hint: QLabel) -> None:
    """A form, a wrapped hint under it, the dialog's error line, OK/Cancel, at a readable width."""
    hint.setWordWrap(True)
    buttons = dialog.buttons
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(hint)
    layout.addWidget(dialog.error)
    layout.addWidget(buttons)
    dialog.resize(560, dialog.sizeHint().height())


class ImportDbDialog(SubmitDialog):
    """A generator database (the seed 002 shape) and its workspace folder (``mediaclean project import-db``)."""

    def __init__(self, parent: QWidget | None = None, db_file: str = "",
                 submit: Callable[[Any], Task | None] | None = None) -> None:
        super().__init__(parent, submit)
        self.setObjectName("importDbDialog")
        self.setWindowTitle("Import generator database")
        self.db_file = QLineEdit(db_file)
        self.db_file.setPlaceholderText("The generator's SQLite database")
        self.workspace = QLineEdit(os.path.dirname(db_file) if db_file else "")
        self.workspace.setPlaceholderText("The folder its paths are relative to")
        self.db_file.textChanged.connect(self._guess_workspace)
        form = QFormLayout()
        form.addRow("Database:", _folder_row(self.db_file, self, "Choose the generator database",
                                             "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)"))
        form.addRow("Workspace:", _folder_row(self.workspace, self, "Choose the workspace folder"))
        hint = QLabel("The database is opened read-only. Its projects are registered with the exact files it "
                      "references; a path outside the workspace is kept back, never deleted.")
        _lay_out_form(self, form, hint)
        self.db_file.setFocus()

    def _guess_workspace(self, text: str) -> None:
        if not self.workspace.text().strip() and text:
            self.workspace.setText(os.path.dirname(text))

    def value(self) -> tuple[str, str]:
        return self.db_file.text().strip(), self.workspace.text().strip()


class RemoteChoiceDialog(QDialog):
    """Pick a remote (and, for uploads, whether local copies go once verified)."""

    def __init__(self, parent: QWidget | None, title: str, remotes: list[str], *, upload: bool,
                 retention_days: int = 5) -> None:
        super().__init__(parent)
        self.setObjectName("remoteChoiceDialog")
        self.setWindowTitle(title)
        self.remote = QComboBox()
        self.remote.addItems(remotes)
        form = QFormLayout()
        form.addRow("Remote:", self.remote)
        self.delete_after = QCheckBox("Delete each local copy once its upload is verified")
        self.retention = QSpinBox()
        low, high = pref_range("retention_days") or (0, 3650)  # what the catalog accepts for the preference
        self.retention.setRange(int(low), int(high))
        self.retention.setValue(retention_days)
        self.retention.setSuffix(" days")
        self.look_ahead = QSpinBox()
        self.look_ahead.setObjectName("sweepLookAhead")
        self.look_ahead.setRange(0, 3650)
        self.look_ahead.setSuffix(" days from now")
        self.look_ahead.setSpecialValueText("now")
        self.look_ahead.setToolTip("Measure ages at a later instant: what would the sweep take next week?")
        if upload:
            form.addRow("", self.delete_after)
        else:
            form.addRow("Keep clips newer than:", self.retention)
            form.addRow("Measure ages as of:", self.look_ahead)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Preview")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Nothing changes until you confirm the preview."))
        layout.addWidget(buttons)
        self.remote.setFocus()


class RenameDialog(SubmitDialog):
    """A project's new name (its files and folder keep theirs)."""

    def __init__(self, parent: QWidget | None, current: str,
                 submit: Callable[[Any], Task | None] | None = None) -> None:
        super().__init__(parent, submit)
        self.setObjectName("renameProjectDialog")
        self.setWindowTitle("Rename project")
        self.name = QLineEdit(current)
        self.name.setObjectName("projectNameEdit")
        self.name.selectAll()
        form = QFormLayout()
        form.addRow("Name:", self.name)
        _lay_out_form(self, form, QLabel("Only the name shown here changes; the folder and its files keep theirs."))
        self.name.setFocus()
