"""A thumbnail of the video item selected in the plan, made by ffmpeg in a worker (``core.thumbnails``)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..core.events import Cancelled
from .workers import Task, TaskContext, Workers

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi", ".mpg", ".mpeg", ".ts", ".mts")
WIDTH = 240


def is_video(path: str) -> bool:
    return path.lower().endswith(VIDEO_EXTENSIONS)


class ThumbnailView(QWidget):
    """Shows a frame of one local video. A new request cancels the one before it (ffmpeg is killed
    and its temp folder removed by the core); ``clear()`` cancels too."""

    shown = Signal(str)
    failed = Signal(str, str)

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailPanel")
        self.workers = workers
        self.task: Task | None = None
        self.path: str | None = None
        self.image = QLabel()
        self.image.setObjectName("thumbnailView")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(QSize(WIDTH, WIDTH * 9 // 16))
        self.image.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.image.setStyleSheet("background: #202124; color: #e8eaed; border-radius: 4px;")
        self.caption = QLabel("")
        self.caption.setObjectName("thumbnailCaption")
        self.caption.setWordWrap(True)
        self.caption.setMaximumWidth(WIDTH)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        self.hide()

    def show_video(self, path: str) -> Task | None:
        """Make and show a frame of ``path`` (a local video file), cancelling any earlier request."""
        if path == self.path and self.task is None and self.image.pixmap() is not None \
                and not self.image.pixmap().isNull():
            return None
        self.cancel()
        self.path = path
        self.show()
        self.image.clear()
        self.image.setText("…")
        self.caption.setText(os.path.basename(path))

        def work(ctx: TaskContext) -> bytes:
            if not os.path.isfile(path):
                raise FileNotFoundError(path)
            from ..core.thumbnails import make_thumbnail  # ffmpeg's part loads with the first thumbnail

            return make_thumbnail(path, width=WIDTH, cancel=ctx.cancel)

        task = self.workers.run_task(work, lambda data, error: self._made(task, path, data, error),
                                     name="thumbnail")
        self.task = task
        return task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def clear(self) -> None:
        """Nothing (or no video) is selected: stop and hide."""
        self.cancel()
        self.path = None
        self.image.clear()
        self.hide()

    def _made(self, task: Task, path: str, data: bytes | None, error: BaseException | None) -> None:
        if task is not self.task:
            return  # the selection moved on
        self.task = None
        if error is not None:
            if isinstance(error, Cancelled):
                return
            text = "The file is gone." if isinstance(error, FileNotFoundError) else str(error)
            self.image.setText("No preview")
            self.caption.setText(f"{os.path.basename(path)}: {text}")
            self.failed.emit(path, text)
            return
        pixmap = QPixmap()
        if not data or not pixmap.loadFromData(data):
            self.image.setText("No preview")
            self.failed.emit(path, "ffmpeg wrote an image Qt cannot read")
            return
        self.image.setPixmap(pixmap)
        self.image.setFixedSize(pixmap.size())
        self.shown.emit(path)
