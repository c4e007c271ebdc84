"""``python -m mediaclean_gui.gui.screenshot OUT.png``: the window on a fresh demo, a project previewed, grabbed."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def take(out: Path, project: str = "Ocean Documentary", small: bool = False) -> Path:
    """Build a demo, open the window, select ``project``, preview its cleanup, save the window as PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from ..core.demo import create_demo
    from . import create_main_window, ensure_app
    from .models import RecordRole

    app = ensure_app()
    catalog_path = create_demo(Path(tempfile.mkdtemp(prefix="mediaclean-shot-")), small=small)
    window = create_main_window(catalog_path)
    window.schedule.stop()  # the picture shows the demo as built, not after a scheduled auto-cleanup
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
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data(RecordRole).name == project:
            window.projectsTable.selectRow(row)
    plan_ready: list[int] = []
    window.previewReady.connect(plan_ready.append)
    window.preview_cleanup()
    wait(lambda: bool(plan_ready))
    wait(lambda: False, 300)  # let the views settle
    app.processEvents()  # type: ignore[attr-defined]
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    window.close()
    return out


if __name__ == "__main__":
    print(take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")))
