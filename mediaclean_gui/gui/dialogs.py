"""Small dialogs: confirmation boxes, add a project, import a generator database, choose a remote."""

from __future__ import annotations

import os
from dataclasses import dataclass

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

from ..core.errors import KnownError
from ..core.profiles import all_profiles


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


class AddProjectDialog(QDialog):
    """A workspace folder and its layout profile (the same as ``mediaclean project add``)."""

    def __init__(self, parent: QWidget | None = None, folder: str = "") -> None:
        super().__init__(parent)
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

    def value(self) -> NewProject:
        return NewProject(self.folder.text().strip(), str(self.profile.currentData() or ""),
                          self.name.text().strip() or None, self.external_id.text().strip() or None)


def _lay_out_form(dialog: QDialog, form: QFormLayout, hint: QLabel) -> None:
    """A form, a wrapped hint under it, OK/Cancel, at a readable width."""
    hint.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(hint)
    layout.addWidget(buttons)
    dialog.resize(560, dialog.sizeHint().height())


class ImportDbDialog(QDialog):
    """A seed 002 generator database and its workspace folder (``mediaclean project import-db``)."""

    def __init__(self, parent: QWidget | None = None, db_file: str = "") -> None:
        super().__init__(parent)
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

    def _guess_workspace(self, text: str) -> None:
        if not self.workspace.text().strip() and text:
            self.workspace.setText(os.path.dirname(text))

    def value(self) -> tuple[str, str]:
        return self.db_file.text().strip(), self.workspace.text().strip()


class RemoteNeededDialog(QMessageBox):
    """Said when an upload or sweep is asked for but there is no remote (or no S3 support yet)."""

    def __init__(self, parent: QWidget | None, what: str, detail: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("remoteNeededDialog")
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle(what)
        self.setText("Add a remote first")
        self.setInformativeText(
            detail or "Uploads and sweeps work on an S3 remote (bucket, prefix, endpoint). Add one with\n"
                      "  mediaclean remote add NAME --bucket BUCKET [--endpoint-url URL]\n"
                      "or in Preferences → Remotes. Credentials come from the standard AWS chain "
                      "(environment, shared credentials file, profiles); mediaclean never stores them.")
        self.setStandardButtons(QMessageBox.StandardButton.Ok)


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
        self.retention.setRange(0, 3650)
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
