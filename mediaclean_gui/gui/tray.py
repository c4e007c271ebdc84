"""The tray icon: the total reclaimed in its tooltip, background-run messages, and quick actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu, QStyle, QSystemTrayIcon

from .wording import size_text

if TYPE_CHECKING:
    from .main_window import MainWindow


def tooltip_text(freed: int) -> str:
    return f"mediaclean — {size_text(freed)} reclaimed in total"


def make_tray(window: MainWindow, force: bool = False) -> QSystemTrayIcon | None:
    """The tray icon with its menu (Show, Preview cleanup, Run due jobs now, Quit), or ``None`` where the
    desktop has no system tray (then notifications go to the status bar). ``force`` makes one anyway (tests)."""
    if not force and not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(window.style().standardIcon(QStyle.StandardPixmap.SP_DriveHDIcon), window)
    tray.setObjectName("trayIcon")
    tray.setToolTip("mediaclean")
    menu = QMenu(window)
    menu.setObjectName("trayMenu")
    show = menu.addAction("Show mediaclean")
    show.setObjectName("trayShow")
    show.triggered.connect(window.show_from_tray)
    menu.addAction(window.acts.preview_cleanup)
    run = menu.addAction("Run due jobs now")
    run.setObjectName("trayRunDue")
    run.triggered.connect(window.run_due_jobs_now)
    menu.addSeparator()
    menu.addAction(window.acts.quit)
    tray.setContextMenu(menu)
    tray.activated.connect(lambda reason: window.show_from_tray()
                           if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
    window.tray_menu = menu
    if not force:
        tray.show()
    return tray
