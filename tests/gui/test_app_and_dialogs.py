"""Start-up (``mediaclean-gui``), fatal errors, preferences, upload/sweep without a remote, drag and drop."""

from __future__ import annotations

import sqlite3

import pytest
from gui_helpers import import_workspace, on_catalog, table_names
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialog, QMessageBox

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.gui import app as gui_app
from mediaclean_gui.gui.dialogs import (
    AddProjectDialog,
    ImportDbDialog,
    RemoteChoiceDialog,
)
from mediaclean_gui.gui.prefs_dialog import PreferencesDialog
from mediaclean_gui.gui.remotes import ManageRemotesDialog

OBJECT_NAMES = ("projectsTable", "planView", "projectFilter", "previewPane", "confirmButton", "cancelButton",
                "statusProgress", "historyView")
ACTIONS = {"actionAddProject": "Ctrl+N", "actionScan": "F5", "actionPreviewCleanup": "Ctrl+P",
           "actionUpload": "Ctrl+U", "actionSweep": "Ctrl+Shift+S", "actionPreferences": "Ctrl+,"}


def test_stable_object_names_and_shortcuts(tmp_path, open_window):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QWidget

    window = open_window(tmp_path / "c.sqlite3")
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    for name, keys in ACTIONS.items():
        action = window.findChild(QAction, name)
        assert action is not None and action.shortcut().toString() == keys, name
    toggle = window.findChild(QAction, "autoCleanupToggle")
    assert toggle.isCheckable() and toggle.isChecked()  # the default preference is on
    toolbar_actions = window.findChild(QWidget, "mainToolBar").actions()
    assert toggle in toolbar_actions and window.acts.preview_cleanup in toolbar_actions
    assert window.width() == 1280 and window.height() == 800


def test_a_catalog_from_a_newer_version_is_a_modal_box_and_exit_2(tmp_path, qtbot, monkeypatch):
    path = tmp_path / "new.sqlite3"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = path.read_bytes()
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.objectName(), box.text())) or 0)
    assert gui_app.main(["--catalog", str(path)]) == 2
    assert shown and shown[0][0] == "fatalBox"
    assert "written by a newer mediaclean" in shown[0][1] and "The file was not changed." in shown[0][1]
    assert path.read_bytes() == before


def test_demo_flag_builds_a_workspace_and_opens_on_it(tmp_path, qtbot, monkeypatch):
    made = []
    real = gui_app._open

    def capture(args):
        window = real(args)
        qtbot.addWidget(window)
        made.append(window)
        return window

    monkeypatch.setattr(gui_app, "_open", capture)
    monkeypatch.setattr("PySide6.QtWidgets.QApplication.exec", lambda *a: 0)
    from mediaclean_gui.core import demo

    real_demo = demo.create_demo
    monkeypatch.setattr(demo, "create_demo", lambda **kw: real_demo(tmp_path / "demo", small=True, **kw))
    assert gui_app.main(["--demo", "--catalog", str(tmp_path / "demo.sqlite3")]) == 0
    window = made[0]
    qtbot.waitUntil(lambda: window.projects_model.rowCount() == 4, timeout=10000)
    assert "Ocean Documentary" in table_names(window)
    assert window.catalog.path == tmp_path / "demo.sqlite3"


def test_preferences_dialog_reads_and_writes_the_catalog(tmp_path, qtbot):
    catalog = Catalog(tmp_path / "c.sqlite3")
    dialog = PreferencesDialog(catalog)
    qtbot.addWidget(dialog)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs == ["Cleanup", "Safety", "Retention", "Schedule", "Remotes"]
    assert dialog.widgets["settle_seconds"].value() == 60
    dialog.widgets["settle_seconds"].setValue(5)
    dialog.widgets["delete_mode"].setCurrentText("trash")
    dialog.widgets["max_delete_share"].setValue(50)
    dialog.widgets["auto_cleanup_enabled"].setChecked(False)
    dialog.widgets["retention_days"].setValue(9)
    assert dialog.changed() == {"settle_seconds": 5, "delete_mode": "trash", "max_delete_share": 0.5,
                                "auto_cleanup_enabled": False, "retention_days": 9}
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    prefs = catalog.prefs()
    assert (prefs["settle_seconds"], prefs["delete_mode"], prefs["max_delete_share"], prefs["auto_cleanup_enabled"],
            prefs["retention_days"]) == (5, "trash", 0.5, False, 9)
    catalog.close()


def test_upload_without_a_remote_opens_manage_remotes_and_goes_on_once_one_is_added(
        workspace, catalog_path, qtbot, open_window, monkeypatch):
    from mediaclean_gui.core.s3.remote import add_remote

    workspace.add_project("p1", "Alpha")
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path)
    assert window.bucket.caption.text().startswith("No remote yet") and window.bucket.addButton.isVisibleTo(
        window.bucket)
    window.projectsTable.selectRow(0)
    shown = []

    def answer(dialog):
        shown.append(dialog)
        if isinstance(dialog, ManageRemotesDialog):  # the user adds a remote there, then closes it
            on_catalog(catalog_path, add_remote, "clips", bucket="clips-bucket", endpoint_url="http://127.0.0.1:9")
        return False  # and then cancels the upload's own dialog

    monkeypatch.setattr(window, "run_dialog", answer)
    window.acts.upload.trigger()
    assert [type(d) for d in shown] == [ManageRemotesDialog, RemoteChoiceDialog]
    why = shown[0].why.text()
    assert why.startswith("Upload works on an S3 remote") and "--" not in why and "mediaclean remote" not in why
    assert shown[1].remote.currentText() == "clips"
    assert window.pane.model.summary is None  # nothing was planned
    # the Bucket panel follows the remotes: it no longer says there is none
    qtbot.waitUntil(lambda: window.bucket.remote.count() == 1, timeout=5000)
    assert not window.bucket.caption.text().startswith("No remote yet")
    assert not window.bucket.addButton.isVisibleTo(window.bucket)
    shown.clear()
    window.acts.sweep.trigger()  # with a remote, Sweep goes straight to its own dialog
    assert [type(d) for d in shown] == [RemoteChoiceDialog]


def test_manage_remotes_action_opens_the_remotes_dialog(tmp_path, qtbot, open_window, monkeypatch):
    from PySide6.QtGui import QAction

    window = open_window(tmp_path / "c.sqlite3")
    shown = []
    monkeypatch.setattr(window, "run_dialog", lambda d: shown.append(d) or False)
    window.findChild(QAction, "actionManageRemotes").trigger()
    assert [type(d) for d in shown] == [ManageRemotesDialog]
    assert shown[0].page.addButton.text() == "Add…"


@pytest.mark.parametrize("action,module,func,title", [
    ("upload", "s3.upload", "plan_upload", "Upload preview — Alpha → clips"),
    ("sweep", "s3.sweep", "plan_sweep", "Sweep preview — clips (clips kept 5 days)"),
])
def test_with_a_remote_upload_and_sweep_go_through_the_generic_preview(action, module, func, title, workspace,
                                                                       catalog_path, qtbot, open_window, monkeypatch):
    from mediaclean_gui.core.s3.remote import add_remote
    from mediaclean_gui.gui import plans

    if plans.core_function(module, func) is None:
        pytest.skip(f"this build has no {module}.{func} yet")
    workspace.add_project("p1", "Alpha")
    import_workspace(workspace, catalog_path)
    on_catalog(catalog_path, add_remote, "clips", bucket="clips-bucket", endpoint_url="http://127.0.0.1:9")
    window = open_window(catalog_path)
    window.projectsTable.selectRow(0)
    previews = []
    monkeypatch.setattr(window, "preview", lambda make_plan, title: previews.append(title))
    chosen = []
    monkeypatch.setattr(window, "run_dialog", lambda d: chosen.append(d) or isinstance(d, RemoteChoiceDialog))
    getattr(window.acts, action).trigger()
    assert isinstance(chosen[0], RemoteChoiceDialog) and chosen[0].remote.currentText() == "clips"
    assert previews == [title]


def test_dropping_a_folder_opens_add_project_prefilled(tmp_path, qtbot, open_window, monkeypatch):
    folder = tmp_path / "dropped"
    folder.mkdir()
    db = tmp_path / "gen.db"
    sqlite3.connect(db).close()
    window = open_window(tmp_path / "c.sqlite3")
    seen = []
    monkeypatch.setattr(window, "run_dialog", lambda d: seen.append(d) or False)
    for path in (folder, db):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        window.dropEvent(event)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert isinstance(seen[0], AddProjectDialog) and seen[0].folder.text() == str(folder)
    assert isinstance(seen[1], ImportDbDialog) and seen[1].db_file.text() == str(db)
    assert seen[1].workspace.text() == str(tmp_path)
