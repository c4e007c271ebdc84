"""The keep-list in the window (invariant 14): what the user leaves out is the plan's "Kept by you" group in
every later plan, survives Confirm and automatic runs, and can be put back; keep by pattern; the keep-list
dialog."""

from __future__ import annotations

import datetime as dt

from gui_helpers import import_workspace, item_index, on_catalog, preview_selected, select_project, uncheck
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from mediaclean_gui.core.catalog import Catalog, utcnow
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.keeplist import keep_entries


def group_titles(window) -> list[str]:
    model = window.pane.model
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def kept_by_you(window) -> dict[str, str]:
    """``{shown path: why}`` of the rows of the plan's "Kept by you" group (empty when there is none)."""
    model = window.pane.model
    [group] = model.kept_by_you_groups() or [None]
    if group is None:
        return {}
    index = model.group_index(group)
    return {model.index(r, 0, index).data(): model.index(r, 3, index).data() for r in range(model.rowCount(index))}


def confirm_and_run(qtbot, window, monkeypatch):
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)
    with qtbot.waitSignal(window.runFinished, timeout=30000) as run:
        window.confirmButton.click()
    return run.args[0]


def test_unticked_is_kept_by_you_survives_confirm_and_an_automatic_run_then_put_back(
        workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("p1", "Mine", scenes=2, final=False)
    import_workspace(workspace, catalog_path)
    workspace.render_final("p1", age=3600)  # rendered after it was registered: auto-cleanable (F2)
    import_workspace(workspace, catalog_path)
    catalog = Catalog(catalog_path)
    catalog.set_pref("schedule_auto_minutes", 5)
    catalog.set_pref("settle_seconds", 0)
    catalog.close()
    window = open_window(catalog_path)
    window.schedule.stop()
    window.auto_watch.stop()
    keep = workspace.path(".cache/audio/p1/scene-1.mp3")
    select_project(window, "Mine")
    preview_selected(qtbot, window)
    uncheck(window, keep)
    qtbot.waitUntil(lambda: not window.workers.running("select"), timeout=5000)

    preview_selected(qtbot, window)  # a new preview: the unticked file is remembered, not ticked again
    assert group_titles(window) == ["Intermediates — 6 items", "Shared cache — 1 item", "Kept by you — 1 item",
                                    "Kept back — 2 items"]
    assert kept_by_you(window) == {".cache/audio/p1/scene-1.mp3": "you left it out of an earlier plan"}
    assert window.pane.totalLabel.text().startswith("Will delete 6 files")
    result = confirm_and_run(qtbot, window, monkeypatch)
    assert result.deleted_count == 6
    assert keep.exists() and not workspace.path(".cache/audio/p1/scene-2.mp3").exists()

    # more work on the project, a new render: the scheduler's automatic cleanup keeps the file too
    workspace.media.copy("mp3", workspace.path(".cache/audio/p1/scene-3.mp3"))
    workspace.render_final("p1", age=0)
    later = utcnow() + dt.timedelta(minutes=1)
    window.schedule.clock = lambda: later
    window.schedule.stopped = False
    with qtbot.waitSignal(window.schedule.reportReady, timeout=30000):
        window.schedule.check()
    runs = on_catalog(catalog_path, list_runs)
    assert [r["started_by"] for r in runs] == ["schedule", "user"]
    assert runs[0]["deleted_count"] == 1
    assert keep.exists() and not workspace.path(".cache/audio/p1/scene-3.mp3").exists()

    # put back: the next preview plans it again
    preview_selected(qtbot, window)
    assert list(kept_by_you(window)) == [".cache/audio/p1/scene-1.mp3"]
    window.planView.setCurrentIndex(item_index(window, keep))
    with qtbot.waitSignal(window.previewReady, timeout=20000):
        window.findChild(type(window.acts.put_back), "actionPutBack").trigger()
    window.pane.model.fetch_all()
    assert kept_by_you(window) == {}
    assert not any(t.startswith("Kept by you") for t in group_titles(window))
    index = item_index(window, keep)
    assert index.parent().data() == "Intermediates — 1 item"
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert window.pane.totalLabel.text().startswith("Will delete 1 file ")
    assert on_catalog(catalog_path, keep_entries) == []
    assert window.pane.messageLabel.text() == ("Put back .cache/audio/p1/scene-1.mp3: the next plans include it "
                                               "again. This preview was made again to show it.")


def test_keep_files_matching_a_pattern_and_the_keep_list_dialog(workspace, catalog_path, qtbot, open_window,
                                                                 monkeypatch):
    workspace.add_project("p1", "Patterned", scenes=3)
    import_workspace(workspace, catalog_path)
    window = open_window(catalog_path)
    select_project(window, "Patterned")
    preview_selected(qtbot, window)
    window.planView.setCurrentIndex(item_index(window, workspace.path(".cache/videos/p1/scene-2-seg.mp4")))
    seen: dict[str, str] = {}

    def fill_in_and_keep(dialog) -> bool:
        assert dialog.objectName() == "keepPatternDialog"
        seen["suggested"] = dialog.pattern.text()
        dialog.pattern.setText("**/*-seg.mp4")
        qtbot.waitUntil(lambda: dialog.matches.text().startswith("Keeps"), timeout=5000)
        seen["matches"] = dialog.matches.text()
        dialog.pattern.setText("../*")
        qtbot.waitUntil(lambda: "cannot leave the project's folder" in dialog.matches.text(), timeout=5000)
        dialog.accept()  # refused in the dialog: it stays open and says why
        seen["error"] = dialog.error.text()
        dialog.pattern.setText("**/*-seg.mp4")
        dialog.accept()
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
        return True

    monkeypatch.setattr(window, "run_dialog", fill_in_and_keep)
    with qtbot.waitSignal(window.previewReady, timeout=20000):
        window.findChild(type(window.acts.keep_matching), "actionKeepMatching").trigger()
    assert seen["suggested"] == ".cache/videos/p1/*.mp4"
    assert seen["matches"].startswith("Keeps 3 items of this preview (")
    assert ".cache/videos/p1/scene-1-seg.mp4" in seen["matches"]
    assert seen["error"] == "A pattern cannot leave the project's folder (no .. in it)."
    window.pane.model.fetch_all()
    assert kept_by_you(window) == {
        f".cache/videos/p1/scene-{n}-seg.mp4": "it matches your keep pattern **/*-seg.mp4" for n in (1, 2, 3)}
    assert window.pane.totalLabel.text().startswith("Will delete 6 files")

    # the keep-list dialog lists it; Put back there forgets it (the preview is made again)
    dialogs = []
    monkeypatch.setattr(window, "run_dialog", lambda dialog: dialogs.append(dialog) or True)
    window.findChild(type(window.acts.keep_list), "actionKeepList").trigger()
    [dialog] = dialogs
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.view.rowCount() == 1, timeout=5000)
    assert dialog.view.item(0, 0).text() == "**/*-seg.mp4"
    assert dialog.view.item(0, 1).text() == "files matching this pattern"
    assert dialog.caption.text().startswith("1 entry: every plan of this project keeps them back")
    with qtbot.waitSignal(window.previewReady, timeout=20000):
        dialog.putBackButton.click()
    qtbot.waitUntil(lambda: dialog.view.rowCount() == 0, timeout=5000)
    assert dialog.caption.text().startswith("Nothing is kept")
    assert kept_by_you(window) == {}
    assert window.pane.totalLabel.text().startswith("Will delete 9 files")
    assert all(workspace.path(f".cache/videos/p1/scene-{n}-seg.mp4").exists() for n in (1, 2, 3))


def test_putting_back_a_pattern_from_one_row_asks_first(workspace, catalog_path, qtbot, open_window, monkeypatch):
    workspace.add_project("p1", "Asked", scenes=2)
    import_workspace(workspace, catalog_path)
    catalog = Catalog(catalog_path)
    from mediaclean_gui.core.keepedit import keep_pattern

    keep_pattern(catalog, "**/*.mp3", project_id=1)
    catalog.close()
    window = open_window(catalog_path)
    select_project(window, "Asked")
    preview_selected(qtbot, window)
    assert len(kept_by_you(window)) == 2
    window.planView.setCurrentIndex(item_index(window, workspace.path(".cache/audio/p1/scene-1.mp3")))
    asked = []

    def no(box) -> bool:
        asked.append(box.text())
        return False

    monkeypatch.setattr(window, "ask_confirmation_box", no)
    window.findChild(type(window.acts.put_back), "actionPutBack").trigger()
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert asked[0].startswith("Put back the pattern **/*.mp3?\n\nIt keeps more than the items you selected")
    qtbot.wait(100)
    assert [e.path for e in on_catalog(catalog_path, keep_entries)] == ["**/*.mp3"]
