"""A preview that no longer matches the catalog or the disk: the check (``core.staleness``) and its notice.

:class:`StaleWatch` asks ``plan_staleness`` in a worker for the plan the pane shows:
when the flow asks (a run of any kind ended, automatic runs were announced, the
window got the focus back) and every :attr:`StaleWatch.INTERVAL_MS` while a plan
that can still be confirmed is shown. :class:`StaleNotice` (``staleNotice``) is the
banner in the preview pane: the reasons in words and a **Refresh preview** button;
while it shows, Confirm is off.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ..core.catalog import Catalog
from ..core.staleness import Staleness, plan_staleness
from .wording import plain
from .workers import Task, Workers

#: Amber, like the pane's other warnings, on a pale background so the banner is seen at once.
NOTICE_STYLE = ("QFrame#staleNotice { background: #fff4ce; border: 1px solid #c19c00; border-radius: 4px; }"
                "QFrame#staleNotice QLabel { color: #4d3b00; }")


def stale_text(reasons: list[str]) -> str:
    """The notice's words: what changed, and that Confirm waits for a fresh preview."""
    said = "; ".join(plain(r) for r in reasons) or "what it shows has changed"
    return (f"This preview is out of date: {said}. Confirm is off until you refresh the preview, so nothing "
            f"runs that you have not seen.")


class StaleNotice(QFrame):
    """``staleNotice``: hidden while the preview matches; :meth:`show_reasons` shows it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staleNotice")
        self.setStyleSheet(NOTICE_STYLE)
        self.label = QLabel("")
        self.label.setObjectName("staleText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refreshButton = QPushButton("Refresh preview")
        self.refreshButton.setObjectName("refreshPreviewButton")
        self.refreshButton.setToolTip("Make this preview again from what is on disk now (a dry run: nothing is "
                                      "deleted); what you left out stays kept")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.refreshButton, 0, Qt.AlignmentFlag.AlignVCenter)
        self.reasons: list[str] = []
        self.hide()

    @property
    def stale(self) -> bool:
        return bool(self.reasons)

    def show_reasons(self, reasons: list[str], can_refresh: bool = True) -> None:
        self.reasons = list(reasons) or ["what it shows has changed"]
        text = stale_text(self.reasons)
        if not can_refresh:
            text += " Make a new preview from the menus."
        self.label.setText(text)
        self.refreshButton.setVisible(can_refresh)
        self.show()

    def clear(self) -> None:
        self.reasons = []
        self.label.setText("")
        self.hide()


class StaleWatch(QObject):
    """Checks the shown plan's staleness in the general pool; ``checked(plan_id, Staleness)`` on the GUI
    thread. ``plan_id()`` answers which plan to check now (``None``: nothing that could be confirmed)."""

    INTERVAL_MS = 30_000
    checked = Signal(int, object)

    def __init__(self, catalog: Catalog, workers: Workers, plan_id: Callable[[], int | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.workers = workers
        self.plan_id = plan_id
        self.task: Task | None = None
        self._again = False
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.check)

    def watch(self, on: bool) -> None:
        """Check every :attr:`INTERVAL_MS` while ``on`` (a plan that can be confirmed is shown)."""
        if on:
            self.timer.setInterval(self.INTERVAL_MS)
            self.timer.start()
        else:
            self.timer.stop()

    def check(self) -> Task | None:
        """Ask now (in a worker); a check asked for while one runs runs once more after it."""
        plan_id = self.plan_id()
        if plan_id is None:
            return None
        if self.task is not None:
            self._again = True
            return self.task

        def done(result: Staleness | None, error: BaseException | None) -> None:
            self.task = None
            if result is not None:
                self.checked.emit(plan_id, result)
            if self._again:
                self._again = False
                self.check()

        self.task = self.workers.run_task(lambda ctx: plan_staleness(self.catalog, plan_id, check_disk=True), done,
                                          name="staleness")
        return self.task

    def stop(self) -> None:
        self.timer.stop()
