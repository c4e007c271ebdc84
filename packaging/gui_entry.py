"""The bundle's ``mediaclean-gui``: the window, as the ``mediaclean-gui`` entry point starts it.

``MEDIACLEAN_BUNDLE_CHECK=SECONDS`` (used by dev/package and tests/packaging) makes a start-up check of
it: when the main window is first shown, one line ``ready: window shown after N.NN s`` goes to stderr,
and the app quits SECONDS later with exit status 0 (the normal ``mediaclean-gui`` exits 2 when start-up
is refused, so a refused start shows too).
"""

from __future__ import annotations

import os
import sys
import time

STARTED = time.monotonic()


def _watch_for_the_window(seconds: float) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 — Qt's name
            if event.type() == QEvent.Type.Show and isinstance(obj, QMainWindow):
                app = QApplication.instance()
                assert app is not None
                app.removeEventFilter(self)
                print(f"ready: window shown after {time.monotonic() - STARTED:.2f} s ({obj.windowTitle()})",
                      file=sys.stderr, flush=True)
                QTimer.singleShot(int(seconds * 1000), app.quit)
            return False

    from mediaclean_gui.gui import ensure_app

    app = ensure_app()
    assert isinstance(app, QApplication)
    watch = Watch(app)
    app.installEventFilter(watch)


def main() -> int:
    check = os.environ.get("MEDIACLEAN_BUNDLE_CHECK")
    if check:
        _watch_for_the_window(float(check))
    from mediaclean_gui.gui.app import main as gui_main

    return gui_main()


if __name__ == "__main__":
    raise SystemExit(main())
