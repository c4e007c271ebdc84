"""Uploads and sweeps through the window's generic preview, against the real SeaweedFS server."""

from __future__ import annotations

import os
import re
import time

import pytest
from gui_helpers import on_catalog, select_project
from PySide6.QtCore import Qt

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.gui.dialogs import RemoteChoiceDialog

pytestmark = pytest.mark.s3


@pytest.fixture
def remote_catalog(s3_env, tmp_path, media_pool, catalog_path):
    """An mv-backend project with two aged outputs and a remote on a fresh bucket; credentials in the env only."""
    server = s3_env
    root = tmp_path / "mv"
    files = [media_pool.copy("mp4", root / "backend/mv/outputs/jobs/v1/video.mp4"),
             root / "backend/mv/outputs/jobs/v1/metadata.json"]
    files[1].write_text('{"video_id": "v1"}')
    past = time.time() - 3600
    for f in files:
        os.utime(f, (past, past))
    bucket = server.new_bucket("gui")
    from mediaclean_gui.core.s3.remote import add_remote

    catalog = Catalog(catalog_path)
    add_project(catalog, root, "mv-backend", name="MV backend")
    add_remote(catalog, "store", bucket=bucket, endpoint_url=server.endpoint_url, region=server.region)
    catalog.close()
    return files, bucket


def test_upload_then_delete_through_the_preview_pane(server, remote_catalog, catalog_path, qtbot, open_window,
                                                     monkeypatch):
    files, bucket = remote_catalog
    window = open_window(catalog_path)
    select_project(window, "MV backend")

    def answer(dialog):
        if isinstance(dialog, RemoteChoiceDialog):
            dialog.delete_after.setChecked(True)
            return True
        return False

    monkeypatch.setattr(window, "run_dialog", answer)
    with qtbot.waitSignal(window.previewReady, timeout=30000):
        window.acts.upload.trigger()
    assert window.pane.titleLabel.text() == "Upload preview — MV backend → store"
    assert window.pane.totalLabel.text().startswith("Will upload 2 files · ")
    window.pane.model.fetch_all()
    video = window.pane.model.find_item(str(files[0]))
    assert video.isValid() and f"s3://{bucket}/mv/jobs/v1/video.mp4" in window.pane.model.data(
        video.siblingAtColumn(3), Qt.ItemDataRole.DisplayRole)

    asked = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or True)
    with qtbot.waitSignal(window.runFinished, timeout=60000) as run:
        window.confirmButton.click()
    assert "only once the store proves it holds the same bytes" in asked[0]
    result = run.args[0]
    assert result.status == "complete", result.as_json()
    assert not files[0].exists() and not files[1].exists()
    head = server.client().head_object(Bucket=bucket, Key="mv/jobs/v1/video.mp4")
    assert head["ContentLength"] > 0
    runs = on_catalog(catalog_path, list_runs)
    assert runs[0]["kind"] == "upload" and runs[0]["status"] == "complete"
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 1, timeout=10000)
    assert window.history.model.index(0, 1).data() == "upload"


def test_sweep_preview_of_a_fresh_bucket_keeps_everything(server, remote_catalog, catalog_path, qtbot,
                                                          open_window, monkeypatch):
    files, bucket = remote_catalog
    client = server.client()
    for n in range(3):
        client.put_object(Bucket=bucket, Key=f"clips/clip-{n}.mp4", Body=files[0].read_bytes())
    window = open_window(catalog_path)
    monkeypatch.setattr(window, "run_dialog", lambda d: isinstance(d, RemoteChoiceDialog))
    with qtbot.waitSignal(window.previewReady, timeout=30000):
        window.acts.sweep.trigger()
    assert window.pane.titleLabel.text() == "Sweep preview — store (clips kept 5 days)"
    summary = window.pane.model.summary
    assert summary.plan.kind == "sweep" and summary.plan.item_count == 0 and summary.plan.kept_count == 3
    assert window.pane.totalLabel.text() == "Will delete 0 objects · 0 Bytes · 3 kept"
    assert "newer than the retention period (3)" in window.pane.model.index(0, 3).data()
    assert not window.confirmButton.isEnabled()


# ---------------------------------------------------------------- uploads: bytes/s, per-file progress, Cancel

RATE = re.compile(r"\d+(\.\d+)? (Bytes|kB|MB|GB)/s")


@pytest.fixture
def many_outputs(s3_env, tmp_path, catalog_path):
    """An mv-backend project with 30 aged 400 kB outputs and a remote on a fresh bucket; one upload at a time."""
    server = s3_env
    root = tmp_path / "mv-many"
    files = []
    past = time.time() - 3600
    for n in range(30):
        f = root / f"backend/mv/outputs/jobs/v{n:02d}/video.mp4"
        f.parent.mkdir(parents=True)
        f.write_bytes(bytes([n]) * 400_000)
        os.utime(f, (past, past))
        files.append(f)
    bucket = server.new_bucket("up")
    from mediaclean_gui.core.s3.remote import add_remote

    catalog = Catalog(catalog_path)
    add_project(catalog, root, "mv-backend", name="Many outputs")
    add_remote(catalog, "store", bucket=bucket, endpoint_url=server.endpoint_url, region=server.region)
    catalog.set_pref("upload_concurrency", 1)
    catalog.close()
    return files, bucket


def _upload_preview(qtbot, window, monkeypatch, delete_after: bool) -> None:
    select_project(window, "Many outputs")

    def answer(dialog):
        if isinstance(dialog, RemoteChoiceDialog):
            dialog.delete_after.setChecked(delete_after)
            return True
        return False

    monkeypatch.setattr(window, "run_dialog", answer)
    with qtbot.waitSignal(window.previewReady, timeout=30000):
        window.acts.upload.trigger()
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": True)


def test_an_upload_run_shows_files_bytes_and_bytes_per_second(many_outputs, catalog_path, qtbot, open_window,
                                                              monkeypatch):
    files, _ = many_outputs
    window = open_window(catalog_path)
    _upload_preview(qtbot, window, monkeypatch, delete_after=False)
    assert window.pane.totalLabel.text() == "Will upload 30 files · 12.0 MB · 0 kept"
    lines: list[str] = []
    bars: list[str] = []
    real = window.pane.set_current

    def record(text: str) -> None:
        lines.append(text)
        if window.pane.runProgress.isVisible():
            bars.append(window.pane.runProgress.format())
        real(text)

    monkeypatch.setattr(window.pane, "set_current", record)
    window.show()
    with qtbot.waitSignal(window.runFinished, timeout=60000) as run:
        window.confirmButton.click()
    assert run.args[0].status == "complete", run.args[0].as_json()
    during = [t for t in lines if t]
    assert during, "the run must report progress"
    with_rate = [t for t in during if RATE.search(t)]
    assert with_rate, during
    # per file and in total: "12/30 files · 4.8 MB of 12.0 MB · 9.1 MB/s · video.mp4"
    assert re.fullmatch(r"\d+/30 files · [\d.]+ (Bytes|kB|MB) of 12\.0 MB · [\d.]+ (Bytes|kB|MB|GB)/s · video\.mp4",
                        with_rate[-1]), with_rate[-1]
    assert any(" of 12.0 MB · " in b and b.endswith("/s") for b in bars), bars
    assert not window.pane.runProgress.isVisible()  # gone once the run ended
    assert all(f.exists() for f in files)  # uploaded, local copies kept (not asked to delete)


def test_cancel_stops_an_upload_between_files(many_outputs, catalog_path, qtbot, open_window, monkeypatch):
    files, bucket = many_outputs
    window = open_window(catalog_path)
    _upload_preview(qtbot, window, monkeypatch, delete_after=True)
    with qtbot.waitSignal(window.runFinished, timeout=60000) as run:
        window.confirmButton.click()
        task = window.active_task
        assert task is not None and task.name == "run" and window.cancelButton.isEnabled()
        task.progress.connect(lambda snap: window.cancelButton.click()
                              if snap["done"] > 0 and window.cancelButton.isEnabled() else None)
    result = run.args[0]
    assert result.status == "cancelled"
    assert "cancelled: the rest was not touched" in window.pane.messageLabel.text()
    deleted = [f for f in files if not f.exists()]
    assert 0 < len(deleted) < len(files), "the cancel must land between the first and the last file"
    listed = {o["Key"] for o in server_objects(window, bucket)}
    for f in deleted:  # a local copy went only once its object was in the bucket
        assert f"mv/jobs/{f.parent.name}/video.mp4" in listed
    runs = on_catalog(catalog_path, list_runs)
    assert runs[0]["status"] == "cancelled" and runs[0]["kind"] == "upload"


def server_objects(window, bucket: str) -> list[dict]:
    from mediaclean_gui.core.s3.remote import get_remote, make_client

    client = make_client(get_remote(window.catalog, "store"))
    return client.list_objects_v2(Bucket=bucket).get("Contents", [])


# ---------------------------------------------------------------- sweeps: groups, usage picture, limits, versions


@pytest.fixture
def swept_bucket(s3_env, catalog_path):
    """A bucket with clips, uploads and audio (one clip protected) and a remote on it."""
    server = s3_env
    bucket = server.new_bucket("sweep")
    client = server.client()
    for n in range(6):
        client.put_object(Bucket=bucket, Key=f"clips/job{n % 2}/clip-{n}.mp4", Body=b"c" * 20_000)
    for n in range(4):
        client.put_object(Bucket=bucket, Key=f"uploads/original-{n}.mov", Body=b"u" * 50_000)
    for n in range(2):
        client.put_object(Bucket=bucket, Key=f"audio/extracted-{n}.mp3", Body=b"a" * 10_000)
    from mediaclean_gui.core.s3.remote import add_remote
    from mediaclean_gui.core.s3.sweep import protect_keys

    catalog = Catalog(catalog_path)
    add_remote(catalog, "store", bucket=bucket, endpoint_url=server.endpoint_url, region=server.region)
    protect_keys(catalog, "store", ["clips/job0/clip-0.mp4"], note="the user's favourite")
    catalog.close()
    return server, bucket


def _sweep_preview(qtbot, window, monkeypatch, days_ahead: int = 10) -> None:
    def answer(dialog):
        if isinstance(dialog, RemoteChoiceDialog):
            dialog.look_ahead.setValue(days_ahead)
            return True
        return False

    monkeypatch.setattr(window, "run_dialog", answer)
    with qtbot.waitSignal(window.previewReady, timeout=30000):
        window.acts.sweep.trigger()


def _group_rows(window) -> list[tuple[str, str, str]]:
    model = window.pane.model
    return [(model.index(r, 0).data(), model.index(r, 1).data(), model.index(r, 3).data() or "")
            for r in range(model.rowCount())]


def test_sweep_preview_groups_by_prefix_and_reason_and_paints_the_bucket(swept_bucket, catalog_path, qtbot,
                                                                         open_window, monkeypatch):
    server, bucket = swept_bucket
    window = open_window(catalog_path, show=True)
    with qtbot.waitSignal(window.bucket.loaded, timeout=30000):
        _sweep_preview(qtbot, window, monkeypatch)
    assert window.pane.titleLabel.text() == ("Sweep preview — store (clips kept 5 days, ages as of 10 days from "
                                             "now)")
    assert _group_rows(window) == [
        ("audio/ · temporary, older than 24 h — 2 items", "20.0 kB", ""),
        ("clips/ · older than 5 days — 5 items", "100.0 kB", ""),
        ("uploads/ · temporary, older than 24 h — 4 items", "200.0 kB", ""),
        ("Kept: clips/ · protected — 1 item", "20.0 kB", "protected (1)"),
    ]
    assert window.pane.totalLabel.text() == "Will delete 11 objects · 320.0 kB · 1 kept"
    window.pane.model.fetch_all()
    kept = window.pane.model.find_item("clips/job0/clip-0.mp4")
    assert window.pane.model.data(kept.siblingAtColumn(3)) == "protected: protected in the catalog: the user's favourite"
    assert not window.pane.notesRow.isVisible()  # not versioned: nothing to warn about

    # the usage picture of the bucket, measured at the preview's instant, in the Bucket dock
    chart = window.bucket.chart
    assert [(p, t) for p, _, t in chart.rows()] == [("uploads/", 200_000), ("clips/", 120_000), ("audio/", 20_000)]
    assert all(segments == [("5–30 days", total)] for _, segments, total in
               [(p, s, t) for p, s, t in chart.rows()])
    assert window.bucket_dock.isVisible() and "12 objects" in window.bucket.caption.text()
    image = chart.grab().toImage()
    orange = 0
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            if image.pixelColor(x, y).name() == "#fb8c00":
                orange += 1
    assert orange > 200, "the 5–30 days bars must be painted"

    # "List bucket" lists it again now: every object is young again
    server.client().put_object(Bucket=bucket, Key="renders/new.mp4", Body=b"r" * 5000)
    with qtbot.waitSignal(window.bucket.loaded, timeout=30000):
        window.bucket.refreshButton.click()
    assert [(p, s) for p, s, _ in chart.rows()] == [
        ("uploads/", [("under 1 day", 200_000)]), ("clips/", [("under 1 day", 120_000)]),
        ("audio/", [("under 1 day", 20_000)]), ("renders/", [("under 1 day", 5_000)])]
    assert "13 objects, listed now" in window.bucket.caption.text()


def test_above_the_max_delete_a_second_confirmation_names_the_limit(swept_bucket, catalog_path, qtbot, open_window,
                                                                   monkeypatch):
    server, bucket = swept_bucket
    with Catalog(catalog_path) as cat:
        cat.set_pref("max_delete_count", 5)
    window = open_window(catalog_path)
    _sweep_preview(qtbot, window, monkeypatch)
    asked: list[tuple[str, str]] = []
    answers = iter([True, False])
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append((title, text)) or next(answers))
    window.confirmButton.click()
    assert len(asked) == 2
    assert "deleted from the bucket for good (it is not versioned)" in asked[0][1]
    assert asked[1][0] == "Above the delete limit"
    assert asked[1][1].startswith("This plan is above your safety limit: the plan deletes 11 objects, more than the "
                                  "limit of 5 (Preferences › Safety › “Ask again above”).")
    assert window.pane.messageLabel.text().startswith("Not run: the plan deletes 11 objects")
    assert len(server.client().list_objects_v2(Bucket=bucket)["Contents"]) == 12  # nothing deleted

    asked.clear()
    answers = iter([True, True])
    with qtbot.waitSignal(window.runFinished, timeout=60000) as run:
        window.confirmButton.click()
    result = run.args[0]
    assert result.status == "complete" and result.deleted_count == 11, result.as_json()
    left = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["clips/job0/clip-0.mp4"]
    assert window.pane.messageLabel.text() == "Deleted 11 objects · freed 320.0 kB"
    qtbot.waitUntil(lambda: window.history.model.rowCount() == 1, timeout=10000)
    assert window.history.model.index(0, 1).data() == "sweep"


def test_versioned_bucket_says_delete_markers_and_offers_expiring_old_versions(s3_env, catalog_path, qtbot,
                                                                             open_window, monkeypatch):
    server = s3_env
    bucket = server.new_bucket("versioned")
    client = server.client()
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        client.put_object(Bucket=bucket, Key=f"uploads/original-{n}.mov", Body=b"u" * 1000)
        client.put_object(Bucket=bucket, Key=f"clips/clip-{n}.mp4", Body=b"c" * 1000)
    from mediaclean_gui.core.s3.remote import add_remote

    on_catalog(catalog_path, add_remote, "versioned", bucket=bucket, endpoint_url=server.endpoint_url,
               region=server.region)
    window = open_window(catalog_path, show=True)
    _sweep_preview(qtbot, window, monkeypatch, days_ahead=2)
    pane = window.pane
    assert pane.notesRow.isVisible() and pane.expireButton.isVisible()
    assert "a delete only adds a delete marker" in pane.notesLabel.text()
    asked: list[str] = []
    monkeypatch.setattr(window, "ask_confirmation", lambda text, title="": asked.append(text) or False)
    window.confirmButton.click()
    assert "each delete only adds a delete marker" in asked[0]

    dialogs = []

    def run_lifecycle(dialog):
        dialogs.append(dialog)
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.loaded, timeout=30000):
            dialog.show()
        monkeypatch.setattr(dialog, "ask", lambda text: True)
        with qtbot.waitSignal(dialog.applied, timeout=30000):
            dialog.applyButton.click()
        return False

    monkeypatch.setattr(window, "run_dialog", run_lifecycle)
    pane.expireButton.click()
    dialog = dialogs[0]
    assert dialog.remote.currentText() == "versioned"
    assert '"NoncurrentVersionExpiration"' in dialog.rulesText.toPlainText()
    assert dialog.cannotList.count() >= 4
    assert any("delete markers" in dialog.notesList.item(i).text() for i in range(dialog.notesList.count()))
    assert dialog.status.text().startswith("Applied: ") and dialog.status.text().endswith("read back unchanged.")
    stored = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert any("NoncurrentVersionExpiration" in r for r in stored)
