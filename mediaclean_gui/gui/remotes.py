"""Preferences → Remotes: add, edit, remove and test S3 remotes. Credentials are never asked for or stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.errors import KnownError
from ..core.profiles import all_profiles
from ..core.s3.remote import (
    Remote,
    add_remote,
    get_remote,
    list_remotes,
    normalise_prefix,
    remove_remote,
    test_connection,
    update_remote,
)
from .dialogs import _folder_row, confirmation_box
from .workers import Task, TaskContext, Workers

CREDENTIALS_NOTE = (
    "mediaclean never asks for or stores keys. Credentials come from boto3's standard chain: the environment "
    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), the shared files ~/.aws/credentials and ~/.aws/config, or the "
    "AWS profile named here."
)
OK_COLOUR = "color: #2a7a2e;"
ERROR_COLOUR = "color: #b3261e;"


def error_sentence(error: BaseException) -> str:
    """A known error as its one sentence; anything else as a short sentence (the traceback goes to the log)."""
    if isinstance(error, KnownError):
        return str(error)
    return f"Unexpected error: {error} (details in the log)"


def describe(remote: Remote) -> str:
    """Several lines about a remote, for the page's details box (no secrets: there are none)."""
    lines = [f"s3://{remote.bucket}/{remote.prefix}", f"endpoint: {remote.endpoint_url or 'AWS'}"]
    if remote.region:
        lines.append(f"region: {remote.region}")
    chain = f"AWS profile '{remote.aws_profile}'" if remote.aws_profile else "the default chain"
    lines.append(f"credentials: {chain}")
    if remote.pipeline_db:
        lines.append(f"pipeline database: {remote.pipeline_db}")
    lines.append(f"layout: {remote.layout}")
    return "\n".join(lines)


class RemoteDialog(QDialog):
    """The fields of one remote with a **Test connection** button.

    OK saves in a worker (``add_remote`` or ``update_remote``); a refused value is one
    sentence under the form and the dialog stays open.
    """

    saved = Signal(object)
    tested = Signal(str, bool)

    def __init__(self, catalog: Catalog, workers: Workers, remote: Remote | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remoteDialog")
        self.setWindowTitle(f"Edit remote '{remote.name}'" if remote else "Add a remote")
        self.catalog = catalog
        self.workers = workers
        self.original = remote
        self.name = QLineEdit(remote.name if remote else "")
        self.name.setPlaceholderText("a short name, e.g. clips")
        self.bucket = QLineEdit(remote.bucket if remote else "")
        self.bucket.setPlaceholderText("bucket name")
        self.prefix = QLineEdit(remote.prefix if remote else "")
        self.prefix.setPlaceholderText("optional key prefix, e.g. media/")
        self.endpoint = QLineEdit(remote.endpoint_url or "" if remote else "")
        self.endpoint.setPlaceholderText("empty for AWS; e.g. http://127.0.0.1:8333 or https://s3.example.com")
        self.region = QLineEdit(remote.region or "" if remote else "")
        self.region.setPlaceholderText("optional, e.g. us-east-1")
        self.profile = QLineEdit(remote.aws_profile or "" if remote else "")
        self.profile.setPlaceholderText("optional: a profile name from ~/.aws/config")
        self.pipeline = QLineEdit(remote.pipeline_db or "" if remote else "")
        self.pipeline.setPlaceholderText("optional: the pipeline's SQLite database of jobs and clips")
        self.layout_box = QComboBox()
        try:
            names = sorted(all_profiles())
        except KnownError:
            names = ["clips-bucket"]
        self.layout_box.addItems(names)
        self.layout_box.setCurrentText(remote.layout if remote else "clips-bucket")
        for widget, name in ((self.name, "remoteName"), (self.bucket, "remoteBucket"), (self.prefix, "remotePrefix"),
                             (self.endpoint, "remoteEndpoint"), (self.region, "remoteRegion"),
                             (self.profile, "remoteProfile"), (self.pipeline, "remotePipelineDb"),
                             (self.layout_box, "remoteLayout")):
            widget.setObjectName(name)

        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Bucket:", self.bucket)
        form.addRow("Prefix:", self.prefix)
        form.addRow("Endpoint URL:", self.endpoint)
        form.addRow("Region:", self.region)
        form.addRow("AWS profile:", self.profile)
        form.addRow("Pipeline database:", _folder_row(self.pipeline, self, "Choose the pipeline database",
                                                      "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)"))
        form.addRow("Layout:", self.layout_box)

        note = QLabel(CREDENTIALS_NOTE)
        note.setObjectName("credentialsNote")
        note.setWordWrap(True)
        self.testButton = QPushButton("Test connection")
        self.testButton.setObjectName("testConnectionButton")
        self.testButton.setToolTip("Reach the bucket with the current credentials (reads one key, changes nothing)")
        self.testButton.clicked.connect(self.test)
        self.testResult = QLabel("")
        self.testResult.setObjectName("testResult")
        self.testResult.setWordWrap(True)
        self.testResult.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setObjectName("remoteError")
        self.error.setStyleSheet(ERROR_COLOUR)
        self.error.setWordWrap(True)
        # the sentence can take three lines (an endpoint, a bucket name and what to check)
        self.testResult.setMinimumHeight(self.testResult.fontMetrics().lineSpacing() * 3 + 4)
        self.testResult.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        test_row = QHBoxLayout()
        test_row.addWidget(self.testButton, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.testResult, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addLayout(test_row)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(600, self.sizeHint().height())
        self.name.setFocus()
        self.test_task: Task | None = None
        self.save_task: Task | None = None

    def fields(self) -> dict[str, Any]:
        """The form as ``add_remote`` keyword arguments (empty optional fields as ``None``)."""
        return {
            "name": self.name.text().strip(),
            "bucket": self.bucket.text().strip(),
            "prefix": self.prefix.text().strip(),
            "endpoint_url": self.endpoint.text().strip() or None,
            "region": self.region.text().strip() or None,
            "aws_profile": self.profile.text().strip() or None,
            "pipeline_db": self.pipeline.text().strip() or None,
            "layout": self.layout_box.currentText() or "clips-bucket",
        }

    def draft(self) -> Remote:
        """The remote as typed, not saved (what **Test connection** tries)."""
        f = self.fields()
        return Remote(id=self.original.id if self.original else 0, name=f["name"] or "(new remote)",
                      bucket=f["bucket"], prefix=normalise_prefix(f["prefix"]), endpoint_url=f["endpoint_url"],
                      region=f["region"], aws_profile=f["aws_profile"], pipeline_db=f["pipeline_db"],
                      layout=f["layout"], created_at="")

    def test(self) -> Task:
        """``core.s3.remote.test_connection`` on the form's values, in a worker; its one sentence is shown."""
        remote = self.draft()
        self.testButton.setEnabled(False)
        self.testResult.setStyleSheet("")
        self.testResult.setText(f"Connecting to {remote.where}…")

        def work(ctx: TaskContext) -> str:
            if not remote.bucket:
                raise KnownError("Connection test failed: enter the bucket name first.")
            return test_connection(remote)

        self.test_task = self.workers.run_task(work, self._tested, name="test connection")
        return self.test_task

    def _tested(self, text: str | None, error: BaseException | None) -> None:
        self.testButton.setEnabled(True)
        ok = error is None
        sentence = str(text) if ok else error_sentence(error)  # type: ignore[arg-type]
        self.testResult.setStyleSheet(OK_COLOUR if ok else ERROR_COLOUR)
        self.testResult.setText(sentence)
        self.tested.emit(sentence, ok)

    def accept(self) -> None:
        """Save in a worker; close when the catalog took it, else say why and stay open."""
        values = self.fields()
        original = self.original
        self.error.setText("")
        self.buttons.setEnabled(False)

        def work(ctx: TaskContext) -> Remote:
            if original is None:
                name = values.pop("name")
                bucket = values.pop("bucket")
                return add_remote(self.catalog, name, bucket, **values)
            new_name = values.pop("name")
            return update_remote(self.catalog, original.name, new_name=new_name, **values)

        self.save_task = self.workers.run_task(work, self._saved, name="save remote")

    def _saved(self, remote: Remote | None, error: BaseException | None) -> None:
        self.buttons.setEnabled(True)
        if error is not None:
            self.error.setText(error_sentence(error))
            return
        self.saved.emit(remote)
        super().accept()


class RemotesPage(QWidget):
    """The remotes of the catalog with Add, Edit, Remove and Test connection."""

    changed = Signal()

    def __init__(self, catalog: Catalog, workers: Workers | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remotesPage")
        self.catalog = catalog
        self.workers = workers or Workers(self)
        self.remotes: list[Remote] = []
        self.remotesList = QListWidget()
        self.remotesList.setObjectName("remotesList")
        self.details = QLabel("")
        self.details.setObjectName("remoteDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("")
        self.status.setObjectName("remoteStatus")
        self.status.setWordWrap(True)
        self.addButton = QPushButton("Add…")
        self.addButton.setObjectName("addRemoteButton")
        self.editButton = QPushButton("Edit…")
        self.editButton.setObjectName("editRemoteButton")
        self.removeButton = QPushButton("Remove")
        self.removeButton.setObjectName("removeRemoteButton")
        self.removeButton.setToolTip("Forget the remote; nothing in the bucket is touched")
        self.testButton = QPushButton("Test connection")
        self.testButton.setObjectName("testRemoteButton")
        self.addButton.clicked.connect(lambda: self.add())
        self.editButton.clicked.connect(lambda: self.edit())
        self.removeButton.clicked.connect(lambda: self.remove())
        self.testButton.clicked.connect(lambda: self.test())
        self.remotesList.currentRowChanged.connect(self._current_changed)
        buttons = QVBoxLayout()
        for b in (self.addButton, self.editButton, self.removeButton, self.testButton):
            buttons.addWidget(b)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.remotesList, 1)
        top.addLayout(buttons)
        note = QLabel(CREDENTIALS_NOTE)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.status)
        layout.addWidget(note)
        self.reload()

    # hooks the tests replace
    def run_dialog(self, dialog: QDialog) -> bool:
        return dialog.exec() == QDialog.DialogCode.Accepted

    def ask(self, text: str, title: str, action: str) -> bool:
        box = confirmation_box(self, title, text, action)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole

    def reload(self, select: str | None = None) -> Task:
        """Read the remotes (in a worker) and list them."""
        keep = select or self.current_name()

        def work(ctx: TaskContext) -> list[Remote]:
            return list_remotes(self.catalog)

        def done(remotes: list[Remote] | None, error: BaseException | None) -> None:
            if error is not None:
                self.say(error_sentence(error), False)
                return
            self.remotes = remotes or []
            self.remotesList.blockSignals(True)
            self.remotesList.clear()
            for remote in self.remotes:
                item = QListWidgetItem(f"{remote.name} — s3://{remote.bucket}/{remote.prefix}")
                item.setData(Qt.ItemDataRole.UserRole, remote.name)
                item.setToolTip(describe(remote))
                self.remotesList.addItem(item)
            self.remotesList.blockSignals(False)
            names = [r.name for r in self.remotes]
            if names:
                self.remotesList.blockSignals(True)
                self.remotesList.setCurrentRow(names.index(keep) if keep in names else 0)
                self.remotesList.blockSignals(False)
            self._show_current()

        return self.workers.run_task(work, done, name="remotes")

    def current_name(self) -> str | None:
        item = self.remotesList.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def current(self) -> Remote | None:
        name = self.current_name()
        return next((r for r in self.remotes if r.name == name), None)

    def _current_changed(self, row: int) -> None:
        self._show_current()
        self.status.setText("")

    def _show_current(self) -> None:
        remote = self.current()
        for b in (self.editButton, self.removeButton, self.testButton):
            b.setEnabled(remote is not None)
        if remote is None:
            self.details.setText("No remote yet. Add one to upload outputs and sweep buckets.")
        else:
            self.details.setText(describe(remote))

    def say(self, text: str, ok: bool | None = None) -> None:
        self.status.setStyleSheet("" if ok is None else OK_COLOUR if ok else ERROR_COLOUR)
        self.status.setText(text)

    def make_dialog(self, remote: Remote | None = None) -> RemoteDialog:
        return RemoteDialog(self.catalog, self.workers, remote, self)

    def add(self) -> RemoteDialog:
        dialog = self.make_dialog()
        dialog.saved.connect(self._saved)
        self.run_dialog(dialog)
        return dialog

    def edit(self) -> RemoteDialog | None:
        remote = self.current()
        if remote is None:
            return None
        dialog = self.make_dialog(remote)
        dialog.saved.connect(self._saved)
        self.run_dialog(dialog)
        return dialog

    def _saved(self, remote: Remote) -> None:
        self.reload(select=remote.name)
        self.say(f"Saved the remote '{remote.name}'.", True)
        self.changed.emit()

    def remove(self) -> Task | None:
        remote = self.current()
        if remote is None:
            return None
        if not self.ask(f"Forget the remote '{remote.name}' (s3://{remote.bucket}/{remote.prefix})?\n\nNothing in "
                        f"the bucket is touched; its upload records in the catalog go with it.",
                        "Remove remote", "Remove"):
            return None

        def work(ctx: TaskContext) -> Remote:
            return remove_remote(self.catalog, remote.name)

        def done(value: Remote | None, error: BaseException | None) -> None:
            if error is not None:
                self.say(error_sentence(error), False)
                return
            self.reload()
            self.say(f"Removed the remote '{remote.name}'; the bucket was not touched.", True)
            self.changed.emit()

        return self.workers.run_task(work, done, name="remove remote")

    def test(self, on_done: Callable[[str, bool], None] | None = None) -> Task | None:
        """Test the selected remote's connection in a worker; the sentence goes under the list."""
        name = self.current_name()
        if name is None:
            return None
        self.say(f"Testing '{name}'…")
        self.testButton.setEnabled(False)

        def work(ctx: TaskContext) -> str:
            return test_connection(get_remote(self.catalog, name))

        def done(text: str | None, error: BaseException | None) -> None:
            self.testButton.setEnabled(self.current() is not None)
            sentence = str(text) if error is None else error_sentence(error)
            self.say(sentence, error is None)
            if on_done is not None:
                on_done(sentence, error is None)

        return self.workers.run_task(work, done, name="test connection")



class ManageRemotesDialog(QDialog):
    """Remote → Manage remotes…: the remotes page in a dialog of its own (actionManageRemotes); also what
    Upload, Sweep, Bucket usage and Lifecycle rules open when there is no remote yet.
    ``changed`` fires after a remote was added, edited or removed."""

    changed = Signal()

    def __init__(self, catalog: Catalog, workers: Workers, parent: QWidget | None = None, why: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("manageRemotesDialog")
        self.setWindowTitle("Manage remotes")
        self.page = RemotesPage(catalog, workers, self)
        self.page.changed.connect(self.changed)
        self.why = QLabel(why)
        self.why.setObjectName("remotesWhy")
        self.why.setWordWrap(True)
        self.why.setVisible(bool(why))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.why)
        layout.addWidget(self.page, 1)
        layout.addWidget(buttons)
        self.resize(620, 420)
        self.page.addButton.setFocus()

    def remote_names(self) -> list[str]:
        return [r.name for r in self.page.remotes]
