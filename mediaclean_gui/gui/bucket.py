"""A bucket's usage by prefix and age as a picture (stacked bars painted with QPainter) and the panel around it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog
from ..core.views import bucket_snapshot
from .breakdown import begin_chart
from .messages import error_text as error_sentence
from .models import relative_time
from .wording import size_text
from .workers import Task, TaskContext, Workers

#: Age bucket -> colour: young objects cool, old ones warm (what a sweep takes first).
AGE_COLOURS: dict[str, str] = {
    "under 1 day": "#43a047",
    "1–5 days": "#1e88e5",
    "5–30 days": "#fb8c00",
    "over 30 days": "#c62828",
}
#: The age buckets of ``core.s3.sweep.AGE_BUCKETS``, youngest first (kept here so the window starts without S3).
AGES = list(AGE_COLOURS)
TOP_LEVEL = "(top level)"

Usage = dict[str, dict[str, int]]


def age_colour(age: str) -> str:
    return AGE_COLOURS.get(age, "#9e9e9e")


class UsageChart(QWidget):
    """``{prefix: {age bucket: bytes}}`` (``core.s3.sweep.bucket_usage``) as one stacked bar per prefix,
    longest first, coloured by age, with a legend; bar lengths are to scale across prefixes."""

    ROW = 22
    LABEL_WIDTH = 150

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.usage: Usage = {}
        self.title = ""
        self.empty_text = "Sweep a bucket, or list one with “List bucket”, to see its usage by prefix and age."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._height())

    def set_usage(self, usage: Usage, title: str = "") -> None:
        self.usage = {p: {a: int(b) for a, b in ages.items() if b > 0} for p, ages in usage.items()}
        self.usage = {p: ages for p, ages in self.usage.items() if ages}
        self.title = title
        self.setMinimumHeight(self._height())
        self.updateGeometry()
        self.setToolTip(self._tooltip())
        self.update()

    def rows(self) -> list[tuple[str, list[tuple[str, int]], int]]:
        """``(prefix label, [(age bucket, bytes)…] in age order, total bytes)``, biggest prefix first."""
        out = []
        for prefix, ages in self.usage.items():
            known = [(a, ages[a]) for a in AGES if a in ages]
            other = [(a, b) for a, b in sorted(ages.items()) if a not in AGES]
            segments = known + other
            out.append((prefix or TOP_LEVEL, segments, sum(b for _, b in segments)))
        out.sort(key=lambda r: (-r[2], r[0]))
        return out

    def total(self) -> int:
        return sum(r[2] for r in self.rows())

    def _tooltip(self) -> str:
        lines = []
        for prefix, segments, total in self.rows():
            parts = ", ".join(f"{a} {size_text(b)}" for a, b in segments)
            lines.append(f"{prefix}: {size_text(total)} ({parts})")
        return "\n".join(lines)

    def _height(self) -> int:
        line = QFontMetrics(self.font()).height()
        rows = max(1, len(self.usage))
        return 8 + line + 6 + line + 10 + rows * self.ROW + 8

    def sizeHint(self) -> QSize:
        return QSize(420, self._height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter, text_colour, muted, fm, x0, width, y = begin_chart(self, self.title or "Bucket usage")
        rows = self.rows()
        grand = sum(r[2] for r in rows)
        if grand:
            painter.setPen(muted)
            painter.drawText(QRectF(x0, y, width, fm.height()), Qt.AlignmentFlag.AlignRight,
                             f"{size_text(grand)} in {len(rows)} prefix{'es' if len(rows) != 1 else ''}")
        y += fm.height() + 6
        # legend: one swatch per age bucket
        x = x0
        for age in AGES:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(age_colour(age)))
            painter.drawRoundedRect(QRectF(x, y + (fm.height() - 11) / 2, 11, 11), 2, 2)
            painter.setPen(text_colour)
            painter.drawText(QRectF(x + 15, y, 200, fm.height()), Qt.AlignmentFlag.AlignLeft, age)
            x += 15 + fm.horizontalAdvance(age) + 18
        y += fm.height() + 10
        if not rows:
            painter.setPen(QPen(muted, 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            box = QRectF(x0, y, width, self.ROW - 4)
            painter.drawRoundedRect(box, 4, 4)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        biggest = max(r[2] for r in rows)
        label_w = min(float(self.LABEL_WIDTH), width * 0.3)
        total_w = float(fm.horizontalAdvance("999.9 MB") + 10)
        bar_x = x0 + label_w + 6
        bar_w = max(10.0, width - label_w - 6 - total_w)
        for prefix, segments, total in rows:
            painter.setPen(text_colour)
            shown = fm.elidedText(prefix, Qt.TextElideMode.ElideMiddle, int(label_w))
            painter.drawText(QRectF(x0, y, label_w, self.ROW - 4),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
            left = bar_x
            length = bar_w * total / biggest
            painter.setPen(Qt.PenStyle.NoPen)
            for age, nbytes in segments:
                w = max(1.5, length * nbytes / total)
                painter.setBrush(QColor(age_colour(age)))
                painter.drawRect(QRectF(left, y + 2, w, self.ROW - 8))
                left += w
            painter.setPen(muted)
            painter.drawText(QRectF(left + 6, y, total_w, self.ROW - 4),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, size_text(total))
            y += self.ROW
        painter.end()


class BucketPanel(QWidget):
    """A remote chooser, **List bucket** (a fresh listing in a worker, with Cancel) and the usage picture.

    ``show_stored(name)`` shows the last snapshot a sweep preview or a listing stored, without
    touching the store.
    """

    loaded = Signal(str)
    errorRaised = Signal(object)
    #: "Add a remote…" was pressed (there is none yet): the window opens Manage remotes.
    manageRequested = Signal()

    def __init__(self, catalog: Catalog, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bucketPanel")
        self.catalog = catalog
        self.workers = workers
        self.task: Task | None = None
        self.remote = QComboBox()
        self.remote.setObjectName("bucketRemote")
        self.remote.setMinimumWidth(140)
        self.refreshButton = QPushButton("List bucket")
        self.refreshButton.setObjectName("listBucketButton")
        self.refreshButton.setToolTip("List every object under the remote's prefix now (reads only)")
        self.stopButton = QPushButton("Stop")
        self.stopButton.setEnabled(False)
        self.addButton = QPushButton("Add a remote…")
        self.addButton.setObjectName("bucketAddRemote")
        self.addButton.setToolTip("Open Manage remotes to add the bucket uploads and sweeps work on")
        self.addButton.clicked.connect(self.manageRequested)
        self.addButton.hide()
        self.caption = QLabel("")
        self.caption.setObjectName("bucketCaption")
        self.caption.setWordWrap(True)
        self.chart = UsageChart()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.chart)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        top = QHBoxLayout()
        top.addWidget(QLabel("Remote:"))
        top.addWidget(self.remote)
        top.addWidget(self.refreshButton)
        top.addWidget(self.stopButton)
        top.addWidget(self.addButton)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.refreshButton.clicked.connect(lambda: self.load(self.remote.currentText(), refresh=True))
        self.stopButton.clicked.connect(self.stop)
        self.remote.activated.connect(lambda _: self.load(self.remote.currentText(), refresh=False))

    def reload_remotes(self, select: str | None = None) -> Task:
        keep = select or self.remote.currentText()

        def work(ctx: TaskContext) -> list[str]:
            from ..core.s3.remote import list_remotes

            return [r.name for r in list_remotes(self.catalog)]

        def done(names: list[str] | None, error: BaseException | None) -> None:
            if error is not None:
                self.errorRaised.emit(error)
                return
            self.remote.clear()
            self.remote.addItems(names or [])
            if keep in (names or []):
                self.remote.setCurrentText(keep)
            self.refreshButton.setEnabled(bool(names))
            self.addButton.setVisible(not names)
            if not names:
                self.caption.setText("No remote yet: add one to see a bucket's usage here.")
            elif self.caption.text().startswith("No remote yet"):
                self.caption.setText("Press List bucket to see its usage by prefix and age.")

        return self.workers.run_task(work, done, name="bucket remotes")

    def show_stored(self, name: str) -> Task:
        return self.load(name, refresh=False)

    def load(self, name: str, refresh: bool) -> Task:
        """Read the usage of remote ``name``: the stored snapshot, or (``refresh``) a fresh listing."""
        if self.task is not None and not self.task.done:
            self.task.cancel()
        if name and self.remote.findText(name) < 0:
            self.remote.addItem(name)
        if name:
            self.remote.setCurrentText(name)
        self.caption.setText(f"Listing {name}…" if refresh else "")
        self.refreshButton.setEnabled(not refresh)
        self.stopButton.setEnabled(refresh)

        def work(ctx: TaskContext) -> tuple[Usage, str]:
            from ..core.s3.remote import get_remote
            from ..core.s3.sweep import bucket_usage

            usage = bucket_usage(self.catalog, name, refresh=refresh, progress=ctx.progress, cancel=ctx.cancel)
            remote = get_remote(self.catalog, name)
            snap = bucket_snapshot(self.catalog, remote.id)
            where = f"s3://{remote.bucket}/{remote.prefix}"
            if not snap.taken_at:
                return usage, f"{where}: not listed yet."
            objects = snap.objects
            return usage, (f"{where}: {objects:,} object{'s' if objects != 1 else ''}, listed "
                           f"{relative_time(snap.taken_at)}; ages as of {snap.as_of}.")

        def progress(snap: dict[str, Any]) -> None:
            self.caption.setText(f"Listing {name}… {int(snap.get('done') or 0):,} objects")

        task = self.workers.run_task(work, lambda value, error: self._loaded(task, name, value, error),
                                     name="bucket usage", on_progress=progress)
        self.task = task
        return task

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _loaded(self, task: Task, name: str, value: tuple[Usage, str] | None, error: BaseException | None) -> None:
        if task is not self.task:
            return
        self.task = None
        self.refreshButton.setEnabled(True)
        self.stopButton.setEnabled(False)
        if error is not None:
            from ..core.events import Cancelled

            self.caption.setText("Listing stopped." if isinstance(error, Cancelled) else error_sentence(error))
            return
        assert value is not None
        usage, caption = value
        self.chart.set_usage(usage, f"Bucket usage — {name}")
        self.caption.setText(caption)
        self.loaded.emit(name)
