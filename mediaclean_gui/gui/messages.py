"""What the window tells the user: errors as one sentence, notifications of background runs, scheduler reports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from ..core.errors import KnownError
from ..core.events import Cancelled
from .schedule import worth_telling
from .wording import count_noun, plain, run_sentence, size_text, tells_command_line

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


def orphan_words(detail: dict[str, Any]) -> str:
    """A scheduled orphan report in words (it deletes nothing)."""
    count, nbytes = int(detail.get("found_count") or 0), int(detail.get("found_bytes") or 0)
    return (f"Found {count_noun(count, 'file')} ({size_text(nbytes)}) in the projects' output folders that the "
            f"catalog does not know and that were not uploaded. Nothing was deleted: open the report to review them.")


def report_lines(detail: dict[str, Any], runs: dict[int, dict[str, Any]], counts: bool = True) -> list[str]:
    """A scheduled job's report (``JobReport.as_json()`` or a ``schedule_events`` detail) in the window's words:
    each of its runs in the one sentence for counts (``runs``: ``core.history`` run dicts by id; SI sizes,
    "moved to the trash" in trash mode), the orphans it found, then missed runs, notes and errors.
    ``counts`` ``False``: only the lines that are not about counts."""
    lines: list[str] = []
    if counts:
        known = [runs[i] for i in detail.get("run_ids") or [] if i in runs]
        if known:
            lines += [run_sentence(r) for r in known]
        elif detail.get("job") == "orphans":
            lines.append(orphan_words(detail) if detail.get("found_count") else "No orphan files found.")
        else:
            from ..core.run import Counts, counts_sentence

            lines.append(counts_sentence(Counts(deleted=int(detail.get("deleted_count") or 0),
                                                freed_bytes=int(detail.get("freed_bytes") or 0),
                                                trashed=int(detail.get("trashed_count") or 0),
                                                trashed_bytes=int(detail.get("trashed_bytes") or 0))))
    missed = int(detail.get("missed") or 0)
    if missed:
        lines.append(f"Missed {missed} scheduled run(s) while the app was closed or the machine slept; ran once now.")
    # an orphan report's note says "review plan N": the window says it in its own words (orphan_words)
    notes = [] if detail.get("job") == "orphans" else [plain(str(n)) for n in (detail.get("notes") or [])[:5]]
    lines += [n for n in notes if not tells_command_line(n)]
    errors = [plain(str(e)) for e in detail.get("errors") or []]
    if errors:
        lines.append(f"{len(errors)} error(s): " + "; ".join(errors[:3]) + (" …" if len(errors) > 3 else ""))
    return lines


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
        """A scheduled job ended: its runs join the announcements (read from the catalog), the tray (else the
        status bar) says what happened in the window's words; an orphan report or a problem is kept too."""
        detail = report.as_json()
        if report.job.value == "orphans" and report.found_count and report.plan_ids:
            self.last_orphan_plan = report.plan_ids[-1]
        if not worth_telling(report):
            self.say(f"{report.title}: {' '.join(report_lines(detail, {}))}", 8000)
            return
        self._keep_report(report.title, detail)
        if report.run_ids:
            self.host.refresh_announcements(
                then=lambda runs: self.notify(report.title, "\n".join(report_lines(detail, runs))))
            self.host.flow.after_run()
        else:
            self.notify(report.title, "\n".join(report_lines(detail, {})))

    def _keep_report(self, title: str, detail: dict[str, Any]) -> None:
        """What of a report is not a run stays in the announcements: an orphan report, missed runs, errors."""
        notices = self.host.notices
        if detail.get("job") == "orphans" and detail.get("found_count") and detail.get("plan_ids"):
            notices.add_note(title, orphan_words(detail), plan_id=int(detail["plan_ids"][-1]))
        extra = report_lines(detail, {}, counts=False)
        if extra:
            notices.add_note(title, "\n".join(extra), problem=bool(detail.get("errors")))

    def unseen_events(self, events: list[dict[str, Any]]) -> None:
        """Scheduled runs another process made while the window was closed: one message, and each one's news
        in the announcements."""
        told = [e for e in events if e["kind"] in ("run", "error", "missed")]
        if not told:
            return
        for event in told:
            detail = dict(event.get("detail") or {})
            if detail.get("job") == "orphans" and detail.get("found_count") and detail.get("plan_ids"):
                self.last_orphan_plan = int(detail["plan_ids"][-1])
            self._keep_report(str(detail.get("title") or "Scheduled job"), detail)

        def tell(runs: dict[int, dict[str, Any]]) -> None:
            lines = [line for e in told[:5] for line in report_lines(dict(e.get("detail") or {}), runs)
                     or [plain(str(e["summary"]))]]
            if len(told) > 5:
                lines.append(f"… and {len(told) - 5} more")
            self.notify("Scheduled runs while the window was closed", "\n".join(lines))

        self.host.refresh_announcements(then=tell)
        self.host.history.refresh()

    def tray_message_clicked(self) -> None:
        self.host.show_from_tray()
        if self.last_orphan_plan is not None and not self.host.flow.running:
            self.host.flow.show_stored_plan(self.last_orphan_plan, "Scheduled orphan report")
            self.last_orphan_plan = None
