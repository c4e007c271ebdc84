"""``python -m mediaclean_gui.gui.screenshot [--sweep ENDPOINT_URL] OUT.png``: the window on a fresh demo, grabbed.

Without ``--sweep``: a project's cleanup previewed. With it: a bucket on that S3 endpoint
(credentials from the environment, as always) is filled with clips, uploads and audio, and
its sweep is previewed (ages as of 7 days from now) beside the Bucket dock's usage picture.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def _wait(condition: object, ms: int = 15000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)  # type: ignore[operator]
    timer.start()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    timer.stop()


def take_sweep(out: Path, endpoint_url: str) -> Path:
    """Fill a new bucket at ``endpoint_url``, add it as remote ``clips``, preview its sweep, save the window."""
    import uuid

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt

    from ..core.catalog import Catalog
    from ..core.demo import create_demo
    from ..core.s3.remote import add_remote, make_client
    from ..core.s3.sweep import protect_keys
    from . import create_main_window, ensure_app
    from .dialogs import RemoteChoiceDialog

    app = ensure_app()
    catalog_path = create_demo(Path(tempfile.mkdtemp(prefix="mediaclean-shot-")), small=True)
    catalog = Catalog(catalog_path)
    bucket = f"clips-{uuid.uuid4().hex[:8]}"
    remote = add_remote(catalog, "clips", bucket=bucket, endpoint_url=endpoint_url)
    client = make_client(remote)
    client.create_bucket(Bucket=bucket)
    sizes = {"clips": 2_400_000, "uploads": 38_000_000, "audio": 3_100_000, "thumbnails": 90_000}
    for job in range(6):
        for clip in range(4):
            client.put_object(Bucket=bucket, Key=f"clips/job-{job}/clip-{clip}.mp4",
                              Body=b"c" * (sizes["clips"] + 1000 * clip))
        client.put_object(Bucket=bucket, Key=f"uploads/job-{job}/original.mov", Body=b"u" * sizes["uploads"])
        client.put_object(Bucket=bucket, Key=f"audio/job-{job}/extracted.mp3", Body=b"a" * sizes["audio"])
        client.put_object(Bucket=bucket, Key=f"thumbnails/job-{job}.jpg", Body=b"t" * sizes["thumbnails"])
    protect_keys(catalog, "clips", ["clips/job-0/clip-0.mp4", "clips/job-0/clip-1.mp4"], note="kept for the reel")
    catalog.close()

    window = create_main_window(catalog_path)
    window.schedule.stop()
    window.show()
    _wait(lambda: window.projects_model.rowCount() > 0)

    def answer(dialog: object) -> bool:
        if isinstance(dialog, RemoteChoiceDialog):
            dialog.look_ahead.setValue(7)
            return True
        return False

    window.run_dialog = answer  # type: ignore[method-assign]
    loaded: list[str] = []
    window.bucket.loaded.connect(loaded.append)
    window.acts.sweep.trigger()
    _wait(lambda: bool(loaded), 30000)
    window.resizeDocks([window.bucket_dock], [250], Qt.Orientation.Vertical)
    _wait(lambda: False, 400)
    app.processEvents()  # type: ignore[attr-defined]
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    window.close()
    return out


def take(out: Path, project: str = "Ocean Documentary", small: bool = False, size: tuple[int, int] = (1280, 800),
         map_project: str = "") -> Path:
    """Build a demo, open the window at ``size``, select ``project`` (``*``: every project), preview its
    cleanup, save the window as PNG. ``map_project`` drills the space map into that project first."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MEDIACLEAN_GUI_SETTINGS", str(Path(tempfile.mkdtemp(prefix="mediaclean-shot-")) / "w.ini"))
    from PySide6.QtCore import QEventLoop, QTimer

    from ..core.demo import create_demo
    from . import create_main_window, ensure_app
    from .models import RecordRole

    app = ensure_app()
    catalog_path = create_demo(Path(tempfile.mkdtemp(prefix="mediaclean-shot-")), small=small)
    window = create_main_window(catalog_path)
    window.schedule.stop()  # the picture shows the demo as built, not after a scheduled auto-cleanup
    window.resize(*size)
    window.show()

    def wait(condition: object, ms: int = 15000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(20)
        timer.timeout.connect(lambda: loop.quit() if condition() else None)  # type: ignore[operator]
        timer.start()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()

    wait(lambda: window.projects_model.rowCount() > 0)
    proxy = window.projects_proxy
    if project == "*":
        window.projectsTable.selectAll()
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data(RecordRole).name == project:
            window.projectsTable.selectRow(row)
    if map_project:
        tile = next((t for t in window.spaceMap.tiles if t.label == map_project), None)
        if tile is not None:
            window.spaceMap.drill(tile.project_id)
            wait(lambda: bool(window.spaceMap.tiles) and all(t.role for t in window.spaceMap.tiles), 3000)
    plan_ready: list[int] = []
    window.previewReady.connect(plan_ready.append)
    window.preview_cleanup()
    wait(lambda: bool(plan_ready), 120000)
    wait(lambda: False, 300)  # let the views settle
    app.processEvents()  # type: ignore[attr-defined]
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    window.close()
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--sweep"]:
        print(take_sweep(Path(args[2] if len(args) > 2 else "docs/screenshot-sweep.png"), args[1]))
    else:
        # screenshot.py [OUT.png] [WIDTHxHEIGHT] [PROJECT or *] [MAP-PROJECT]
        width, height = (int(v) for v in (args[1] if len(args) > 1 else "1280x800").split("x"))
        print(take(Path(args[0] if args else "docs/screenshot.png"), args[2] if len(args) > 2 else "Ocean Documentary",
                   size=(width, height), map_project=args[3] if len(args) > 3 else ""))
