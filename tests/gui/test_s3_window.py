"""Uploads and sweeps through the window's generic preview, against the real SeaweedFS server."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from conftest import select_project
from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.gui.dialogs import RemoteChoiceDialog

sys.path.insert(0, str(Path(__file__).parent.parent / "integration"))
from s3_server import SeaweedServer  # noqa: E402

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    weed = SeaweedServer(tmp_path_factory.mktemp("weed-gui"))
    weed.start()
    yield weed
    weed.stop()


@pytest.fixture
def remote_catalog(server, tmp_path, media_pool, monkeypatch, catalog_path):
    """An mv-backend project with two aged outputs and a remote on a fresh bucket; credentials in the env only."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for key, value in (("AWS_ACCESS_KEY_ID", server.access_key), ("AWS_SECRET_ACCESS_KEY", server.secret_key),
                       ("AWS_DEFAULT_REGION", server.region), ("AWS_CONFIG_FILE", str(empty)),
                       ("AWS_SHARED_CREDENTIALS_FILE", str(empty)), ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
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
    runs = list_runs(Catalog(catalog_path))
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
    assert window.pane.totalLabel.text() == "Will delete 0 files · 0 Bytes · 3 kept"
    assert "newer than the retention period (3)" in window.pane.model.index(0, 3).data()
    assert not window.confirmButton.isEnabled()
