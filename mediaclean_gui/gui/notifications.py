"""``notificationsView``: automatic runs and other announcements, kept in the window until the user has seen them.

F2 says an automatic cleanup is told "in a way that stays until seen". The runs come
from the catalog (``core.history.unseen_automatic_runs``: auto-cleanup and scheduled
runs, of this window or of another process) and stay listed until the user dismisses
or opens them; then they are marked seen (``mark_runs_seen``), never on a timer. Other
announcements (a scheduled orphan report, a refused auto-cleanup, missed runs) live
here until dismissed. Each entry says what was freed (or moved to the trash) and what
failed, with a link that opens the run in the history (or the report in the preview).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import iso
from .models import local_time, relative_time
from .wording import plain, run_sentence

PANEL_STYLE = ("QFrame#notificationsPanel { background: #eef4fb; border: 1px solid #8fb3de; border-radius: 4px; }"
               "QListWidget#notificationsView { background: transparent; border: none; }")

#: What an automatic run is called, by who started it and the plan's kind.
_RUN_TITLES = {("auto", "clean"): "Auto-cleanup", ("schedule", "clean"): "Scheduled auto-cleanup",
               ("schedule", "temp"): "Scheduled temp sweep", ("schedule", "orphans"): "Scheduled orphan sweep",
               ("schedule", "sweep"): "Scheduled bucket sweep", ("auto", "temp"): "Automatic temp sweep"}


@dataclass
class Announcement:
    """One entry: ``title`` and ``text`` in words; the runs it is about (marked seen when it goes), or a stored
    plan to open; ``when`` UTC ISO-8601; ``problem`` when something failed or was refused."""

    key: str
    title: str
    text: str
    when: str = ""
    run_ids: list[int] = field(default_factory=list)
    plan_id: int | None = None
    problem: bool = False

    @property
    def link(self) -> str:
        if self.run_ids:
            return "Show in history"
        return "Open the report" if self.plan_id is not None else ""


def run_announcement(run: dict[str, Any]) -> Announcement:
    """An automatic run (a ``core.history`` run dict) as an entry: who ran what, on which projects, and the one
    sentence for its counts (``Moved 7 files to the trash (…, nothing freed yet)`` in trash mode)."""
    title = _RUN_TITLES.get((run["started_by"], run["kind"]), f"Automatic {run['kind']} run")
    projects = run.get("projects") or []
    if projects:
        title += " of " + (", ".join(projects[:3]) + (f" and {len(projects) - 3} more" if len(projects) > 3 else ""))
    text = run_sentence(run)
    status = run.get("status")
    problem = bool(run.get("failed_count")) or status in ("failed", "interrupted")
    if status in ("cancelled", "interrupted"):
        text += f" · {status}: the rest was not touched"
    if run.get("failed_count"):
        text += " · the history says what failed and why"
    return Announcement(f"run:{run['id']}", title, text, str(run.get("ended_at") or run.get("started_at") or ""),
                        [int(run["id"])], problem=problem)


class NotificationsPanel(QFrame):
    """The banner of announcements above the projects and the preview; hidden while there is none.

    Signals: ``openRun(run_id)``, ``openPlan(plan_id)`` (an entry's link or **Open**), ``seen(run_ids)``
    (entries dismissed or opened: the window marks those runs seen)."""

    openRun = Signal(int)
    openPlan = Signal(int)
    seen = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationsPanel")
        self.setStyleSheet(PANEL_STYLE)
        self.entries: list[Announcement] = []
        self._notes = itertools.count(1)
        self.title = QLabel("")
        self.title.setObjectName("notificationsTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.view = QListWidget()
        self.view.setObjectName("notificationsView")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setToolTip("Kept until you dismiss it: Enter opens the selected entry, Delete dismisses it")
        self.view.itemActivated.connect(lambda item: self.open(self._entry_of(item)))
        dismiss = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        dismiss.setContext(Qt.ShortcutContext.WidgetShortcut)
        dismiss.activated.connect(lambda: self.dismiss(self._entry_of(self.view.currentItem())))
        self.dismissAllButton = QPushButton("Dismiss all")
        self.dismissAllButton.setObjectName("dismissAllButton")
        self.dismissAllButton.setToolTip("You have seen them: the runs stay in the history")
        self.dismissAllButton.clicked.connect(self.dismiss_all)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.dismissAllButton)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.view)
        self.hide()

    # ------------------------------------------------------------ what is listed
    def set_runs(self, runs: list[dict[str, Any]]) -> list[Announcement]:
        """The unseen automatic runs as the catalog has them now (newest first); returns the entries that are
        new. A run seen elsewhere meanwhile (another window, ``mediaclean history``) leaves the list."""
        wanted = {f"run:{r['id']}": r for r in runs}
        kept = [e for e in self.entries if not e.key.startswith("run:") or e.key in wanted]
        known = {e.key for e in kept}
        new = [run_announcement(r) for key, r in wanted.items() if key not in known]
        self.entries = sorted(new + kept, key=lambda e: e.when, reverse=True)
        self._show()
        return new

    def add_note(self, title: str, text: str, *, plan_id: int | None = None, problem: bool = False,
                 when: str = "") -> Announcement:
        """An announcement that is not a run (kept until dismissed)."""
        entry = Announcement(f"note:{next(self._notes)}", title, plain(text), when or iso(), plan_id=plan_id,
                             problem=problem)
        self.entries.insert(0, entry)
        self._show()
        return entry

    def texts(self) -> list[str]:
        """``title: text`` of every entry, newest first (what a user reads, for tests)."""
        return [f"{e.title}: {e.text}" for e in self.entries]

    # ------------------------------------------------------------ dismiss and open
    def dismiss(self, entry: Announcement | None) -> None:
        if entry is None or entry not in self.entries:
            return
        self.entries.remove(entry)
        self._show()
        if entry.run_ids:
            self.seen.emit(list(entry.run_ids))

    def dismiss_all(self) -> None:
        runs = [i for e in self.entries for i in e.run_ids]
        self.entries = []
        self._show()
        if runs:
            self.seen.emit(runs)

    def open(self, entry: Announcement | None) -> None:
        """The entry's link: the run in the history (it counts as seen and leaves the list), or the report."""
        if entry is None:
            return
        if entry.run_ids:
            self.openRun.emit(entry.run_ids[0])
            self.dismiss(entry)
        elif entry.plan_id is not None:
            self.openPlan.emit(entry.plan_id)
            self.dismiss(entry)

    def _entry_of(self, item: QListWidgetItem | None) -> Announcement | None:
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        return next((e for e in self.entries if e.key == key), None)

    # ------------------------------------------------------------ painting
    def _show(self) -> None:
        current = self._entry_of(self.view.currentItem())
        self.view.clear()
        for entry in self.entries:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, entry.key)
            item.setToolTip(f"{entry.title}\n{entry.text}" + (f"\n{local_time(entry.when)}" if entry.when else ""))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{entry.title}: {entry.text}")
            row = self._row(entry)
            self.view.addItem(item)
            self.view.setItemWidget(item, row)
            if current is not None and entry.key == current.key:
                self.view.setCurrentItem(item)
        n = len(self.entries)
        if n:
            self.title.setText("1 thing to tell you" if n == 1 else f"{n} things to tell you")
            self._fit_rows()
        self.setVisible(bool(n))

    def _fit_rows(self) -> None:
        """Each row as high as its wrapped text at the view's width; the view shows up to three rows."""
        width = max(240, self.view.viewport().width() - 8)
        heights = []
        for r in range(self.view.count()):
            item = self.view.item(r)
            row = self.view.itemWidget(item)
            text = row.findChild(QLabel, "notificationText") if row is not None else None
            button = row.findChild(QToolButton, "dismissButton") if row is not None else None
            room = width - 16 - 24 - (button.sizeHint().width() if button is not None else 0)
            height = max(text.heightForWidth(room) if text is not None else 0,
                         button.sizeHint().height() if button is not None else 0) + 2
            item.setSizeHint(QSize(width, height))
            heights.append(height)
        self.view.setFixedHeight(sum(heights[:3]) + 2 * self.view.frameWidth() + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.entries:
            self._fit_rows()

    def _row(self, entry: Announcement) -> QWidget:
        """``(i) Title · when — what happened — Show in history      [Dismiss]``, wrapped when narrow."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(2, 1, 2, 1)
        layout.setSpacing(6)
        icon = QLabel()
        pixmap = QStyle.StandardPixmap.SP_MessageBoxWarning if entry.problem else \
            QStyle.StandardPixmap.SP_MessageBoxInformation
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        when = f" · {relative_time(entry.when)}" if entry.when else ""
        link = f" — <a href='open'>{entry.link}</a>" if entry.link else ""
        text = QLabel(f"<b>{_html(entry.title)}</b>{_html(when)} — {_html(entry.text)}{link}")
        text.setObjectName("notificationText")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.linkActivated.connect(lambda _href, e=entry: self.open(e))
        close = QToolButton()
        close.setObjectName("dismissButton")
        close.setText("Dismiss")
        close.setToolTip("Seen: take it off this list (it stays in the history)")
        close.clicked.connect(lambda _=False, e=entry: self.dismiss(e))
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        return row


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
