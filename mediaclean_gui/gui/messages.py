"""What the window tells the user: errors as one sentence, notifications of background runs, scheduler reports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from ..core.errors import KnownError
from ..core.events import Cancelled
from .schedule import worth_telling
from .wording import plain

if TYPE_CHECKING:
    from ..core.scheduler import JobReport
    from .main_window import MainWindow

log = logging.getLogger("mediaclean.gui")


def error_text(error: BaseException) -> str:
    """A known error as its one sentence; anything else as a short sentence, its traceback in the log."""
    if isinstance(error, KnownError):
        return plain(str(error))
    if isinstance(error, Cancelled):
        return "Cancelled."
    log.error("unexpected error: %r", error, exc_info=error)
    return f"Unexpected error: {error} (details in the log)"


class Messages(QObject):
    """The window's messages. ``notifications`` keeps the last 100 ``(title, text)``, oldest first."""

    #: ``(title, text)`` of every notification (auto-cleanup results, …).
    notified = Signal(str, str)

    def __init__(self, host: MainWindow) -> None:
        super().__init__(host)
        self.host = host
        self.notifications: list[tuple[str, str]] = []
        self.last_orphan_plan: int | None = None

    def say(self, text: str, ms: int = 0) -> None:
        """A line in the status bar (``ms`` 0: until the next one)."""
        self.host.statusBar().showMessage(text, ms)

    def show_error(self, error: BaseException | None) -> None:
        """An error of work the window started (not of a dialog: dialogs show their own)."""
        if error is None:
            return
        text = error_text(error)
        self.say(text, 20000)
        self.host.pane.set_message(text, error=True)

    def notify(self, title: str, text: str) -> None:
        """Tell the user something happened in the background: tray message, else the status bar."""
        self.notifications.append((title, text))
        del self.notifications[:-100]
        self.notified.emit(title, text)
        tray = self.host.tray
        if tray is not None and tray.isVisible():
            tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
        else:
            self.say(f"{title}: {text}", 20000)

    # ------------------------------------------------------------ the scheduler
    def schedule_report(self, report: JobReport) -> None:
        """A scheduled job ended: notify (tray, else status bar) with the summary and any errors."""
        if worth_telling(report):
            self.notify(report.title, plain(report.message()))
        else:
            self.say(f"{report.title}: {plain(report.summary_line())}", 8000)
        if report.job.value == "orphans" and report.found_count and report.plan_ids:
            self.last_orphan_plan = report.plan_ids[-1]
        if report.run_ids:
            self.host.flow.after_run()

    def unseen_events(self, events: list[dict[str, Any]]) -> None:
        runs = [e for e in events if e["kind"] in ("run", "error", "missed")]
        if runs:
            lines = [plain(str(e["summary"])) for e in runs[:5]]
            if len(runs) > 5:
                lines.append(f"… and {len(runs) - 5} more")
            self.notify("Scheduled runs while the window was closed", "\n".join(lines))
            self.host.history.refresh()

    def tray_message_clicked(self) -> None:
        self.host.show_from_tray()
        if self.last_orphan_plan is not None and not self.host.flow.running:
            self.host.flow.show_stored_plan(self.last_orphan_plan, "Scheduled orphan report")
            self.last_orphan_plan = None
