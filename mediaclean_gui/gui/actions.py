"""The window's actions (stable object names, shortcuts, icons), its toolbar and its menus."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle, QToolBar


@dataclass
class Actions:
    add_project: QAction
    import_db: QAction
    rename_project: QAction
    remove_project: QAction
    find: QAction
    scan: QAction
    preview_cleanup: QAction
    upload: QAction
    sweep: QAction
    temp: QAction
    orphans: QAction
    bucket_usage: QAction
    lifecycle: QAction
    manage_remotes: QAction
    run_due: QAction
    put_back: QAction
    keep_matching: QAction
    keep_list: QAction
    empty_trash: QAction
    preferences: QAction
    auto_toggle: QAction
    quit: QAction
    about: QAction


def _action(window: QMainWindow, name: str, text: str, shortcut: str | QKeySequence.StandardKey | None,
            tip: str, icon: QStyle.StandardPixmap | None = None) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({shown})" if shown else tip)
    action.setStatusTip(tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    window.addAction(action)
    return action


def build_actions(window: QMainWindow) -> Actions:
    """Create every action with the object names of SPEC section 5, a toolbar and the menus."""
    sp = QStyle.StandardPixmap
    acts = Actions(
        add_project=_action(window, "actionAddProject", "Add project folder…", "Ctrl+N",
                            "Register a workspace folder (or drop a folder onto the window)", sp.SP_FileDialogNewFolder),
        import_db=_action(window, "actionImportDatabase", "Import generator database…", "Ctrl+I",
                          "Register every project of a generator's SQLite database", sp.SP_DriveHDIcon),
        rename_project=_action(window, "actionRenameProject", "Rename project…", "F2",
                               "Give the selected project another name (its folder and files keep theirs)"),
        remove_project=_action(window, "actionRemoveProject", "Remove project…", None,
                               "Forget the selected projects; their folders and files are not touched (Delete "
                               "in the table)",
                               sp.SP_DialogDiscardButton),
        find=_action(window, "actionFind", "Find project", QKeySequence.StandardKey.Find,
                     "Type in the project filter"),
        scan=_action(window, "actionScan", "Scan", "F5", "Measure the selected projects again (all if none)",
                     sp.SP_BrowserReload),
        preview_cleanup=_action(window, "actionPreviewCleanup", "Preview cleanup", "Ctrl+P",
                                "Make the cleanup plan of the selected projects: nothing is deleted yet",
                                sp.SP_FileDialogContentsView),
        upload=_action(window, "actionUpload", "Upload…", "Ctrl+U",
                       "Upload the selected project's outputs to a remote; local copies go only once verified",
                       sp.SP_ArrowUp),
        sweep=_action(window, "actionSweep", "Sweep bucket…", "Ctrl+Shift+S",
                      "Preview a retention sweep of a remote's bucket", sp.SP_TrashIcon),
        temp=_action(window, "actionTempSweep", "Sweep render temp folder…", "Ctrl+T",
                     "Find orphaned render temp folders older than the threshold", sp.SP_DirIcon),
        orphans=_action(window, "actionOrphans", "Find orphan files", "Ctrl+Shift+O",
                        "Files in the selected projects' output folders that the catalog does not know",
                        sp.SP_FileDialogDetailedView),
        bucket_usage=_action(window, "actionBucketUsage", "Bucket usage…", None,
                             "A picture of a remote's bucket by prefix and age (lists the bucket; deletes nothing)",
                             sp.SP_DriveNetIcon),
        lifecycle=_action(window, "actionLifecycle", "Lifecycle rules…", None,
                          "Export a remote's retention as S3 lifecycle rules, and apply them to the bucket",
                          sp.SP_FileDialogInfoView),
        manage_remotes=_action(window, "actionManageRemotes", "Manage remotes…", None,
                               "Add, edit, test or remove the S3 remotes that uploads and sweeps use",
                               sp.SP_DriveNetIcon),
        run_due=_action(window, "actionRunDueJobs", "Run due jobs now", None,
                        "Run the scheduled jobs that are due (auto-cleanup, temp, orphan and bucket sweeps)",
                        sp.SP_MediaPlay),
        put_back=_action(window, "actionPutBack", "Put back", "Ctrl+B",
                         "Let later plans include the selected items of “Kept by you” again"),
        keep_matching=_action(window, "actionKeepMatching", "Keep files matching…", "Ctrl+K",
                              "Keep every file matching a pattern out of this project's plans, automatic ones too"),
        keep_list=_action(window, "actionKeepList", "Kept by you…", None,
                          "What the selected project's keep-list keeps out of every plan, with Put back"),
        empty_trash=_action(window, "actionEmptyTrash", "Empty trash…", None,
                            "Delete for good what mediaclean's trash-mode runs moved to the trash, and free that space",
                            sp.SP_TrashIcon),
        preferences=_action(window, "actionPreferences", "Preferences…", "Ctrl+,",
                            "Auto-cleanup, delete mode, limits, retention, thresholds and remotes",
                            sp.SP_FileDialogListView),
        auto_toggle=_action(window, "autoCleanupToggle", "Auto-cleanup", None,
                            "Clean a project automatically once its final output has appeared and settled"),
        quit=_action(window, "actionQuit", "Quit", QKeySequence.StandardKey.Quit, "Close mediaclean"),
        about=_action(window, "actionAbout", "About mediaclean", None, "What this program is"),
    )
    acts.auto_toggle.setCheckable(True)

    bar = QToolBar("Main", window)
    bar.setObjectName("mainToolBar")
    bar.setMovable(False)
    from PySide6.QtCore import Qt

    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in (acts.add_project, acts.import_db, acts.scan, acts.preview_cleanup, acts.upload, acts.sweep):
        bar.addAction(a)
    bar.addSeparator()
    bar.addAction(acts.auto_toggle)
    bar.addSeparator()
    bar.addAction(acts.preferences)
    window.addToolBar(bar)

    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    for a in (acts.add_project, acts.import_db):
        file_menu.addAction(a)
    file_menu.addSeparator()
    for a in (acts.rename_project, acts.remove_project):
        file_menu.addAction(a)
    file_menu.addSeparator()
    file_menu.addAction(acts.preferences)
    file_menu.addSeparator()
    file_menu.addAction(acts.quit)
    clean_menu = menu.addMenu("&Clean")
    for a in (acts.find, acts.scan, acts.preview_cleanup):
        clean_menu.addAction(a)
    clean_menu.addSeparator()
    for a in (acts.temp, acts.orphans):
        clean_menu.addAction(a)
    clean_menu.addSeparator()
    for a in (acts.put_back, acts.keep_matching, acts.keep_list):
        clean_menu.addAction(a)
    clean_menu.addSeparator()
    clean_menu.addAction(acts.empty_trash)
    clean_menu.addSeparator()
    clean_menu.addAction(acts.auto_toggle)
    clean_menu.addAction(acts.run_due)
    remote_menu = menu.addMenu("&Remote")
    remote_menu.addAction(acts.upload)
    remote_menu.addAction(acts.sweep)
    remote_menu.addSeparator()
    remote_menu.addAction(acts.bucket_usage)
    remote_menu.addAction(acts.lifecycle)
    remote_menu.addSeparator()
    remote_menu.addAction(acts.manage_remotes)
    window.view_menu = menu.addMenu("&View")  # type: ignore[attr-defined]
    help_menu = menu.addMenu("&Help")
    help_menu.addAction(acts.about)
    return acts
