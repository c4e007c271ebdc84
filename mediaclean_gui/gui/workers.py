"""Background work for the window: the only module that touches QThreadPool (DESIGN "Workers").

Modelled on Picard's ``run_task(func, next_func)``: a core function runs in a
worker thread and its ``result`` or ``error`` comes back on the GUI thread
through a queued signal. Progress comes back the same way, throttled to about
20 updates a second. Everything that deletes goes through one single-thread
pool, so two deletions never race; the general pool runs scans and planners.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from ..core.catalog import close_thread_connections
from ..core.errors import KnownError
from ..core.events import Cancelled, CancelToken, Progress

log = logging.getLogger("mediaclean.gui")

#: Minimum seconds between two progress signals of one task (~20 updates/s).
PROGRESS_INTERVAL = 0.05


@dataclass(frozen=True)
class TaskContext:
    """What a task function receives: a ``Progress`` wired to the GUI and a ``CancelToken``."""

    progress: Progress
    cancel: CancelToken


TaskFunc = Callable[[TaskContext], Any]
NextFunc = Callable[[Any, BaseException | None], object]
ProgressFunc = Callable[[dict[str, Any]], None]


class Task(QObject):
    """One running piece of work. Lives in the GUI thread; its signals arrive there.

    ``finished(result, error)`` fires exactly once (``error`` is the exception or
    ``None``); ``progress(snapshot)`` carries :meth:`Progress.snapshot` dicts.
    """

    finished = Signal(object, object)
    progress = Signal(object)
    _done = Signal(object, object)
    _progress = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.cancel_token = CancelToken()
        self.done = False
        self._last_emit = 0.0
        self._done.connect(self._deliver)
        self._progress.connect(self._relay_progress)

    def cancel(self) -> None:
        """Ask the core function to stop between items (it raises ``Cancelled`` or records the rest)."""
        self.cancel_token.cancel()

    # -- called in the worker thread
    def _on_progress(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.total and progress.done >= progress.total
        if now - self._last_emit < PROGRESS_INTERVAL and not final:
            return
        self._last_emit = now
        try:
            self._progress.emit(progress.snapshot())
        except RuntimeError:  # the window went away meanwhile
            pass

    # -- delivered in the GUI thread
    @Slot(object)
    def _relay_progress(self, snapshot: dict[str, Any]) -> None:
        if not self.done:
            self.progress.emit(snapshot)

    @Slot(object, object)
    def _deliver(self, result: Any, error: BaseException | None) -> None:
        self.done = True
        self.finished.emit(result, error)


class _Runnable(QRunnable):
    def __init__(self, task: Task, func: TaskFunc) -> None:
        super().__init__()
        self.task = task
        self.func = func
        self.setAutoDelete(True)

    def run(self) -> None:
        task = self.task
        context = TaskContext(Progress(callback=task._on_progress), task.cancel_token)
        result: Any = None
        error: BaseException | None = None
        try:
            result = self.func(context)
        except BaseException as exc:  # delivered to the GUI thread, which decides how to show it
            error = exc
            if not isinstance(exc, (KnownError, Cancelled)):  # a bug: its traceback goes to the log, here
                log.exception("task %s failed unexpectedly", task.name)
        finally:
            close_thread_connections()  # this thread's catalog connections end with its task, not at a GC
        try:
            task._done.emit(result, error)
        except RuntimeError:
            log.debug("task %s finished after its window closed", task.name)


class Workers(QObject):
    """The window's two pools: ``general`` (scans, planners, reads) and ``deleting`` (one thread)."""

    def __init__(self, parent: QObject | None = None, general_threads: int = 2) -> None:
        super().__init__(parent)
        self.general = QThreadPool(self)
        self.general.setMaxThreadCount(general_threads)
        self.deleting = QThreadPool(self)
        self.deleting.setMaxThreadCount(1)
        self._tasks: set[Task] = set()
        self._lock = threading.Lock()
        self._shut = False  # after shutdown() nothing new starts: the window and its catalog are gone

    def run_task(
        self,
        func: TaskFunc,
        next_func: NextFunc | None = None,
        *,
        name: str = "task",
        destructive: bool = False,
        on_progress: ProgressFunc | None = None,
    ) -> Task:
        """Run ``func(context)`` in a worker; call ``next_func(result, error)`` on the GUI thread.

        ``destructive`` work (anything that deletes or changes what a run will
        do) goes through the single-thread pool, in the order it was asked for. After :meth:`shutdown`
        the task is returned cancelled and never runs (a timer firing as the window closes).
        """
        task = Task(name, self)
        if self._shut:
            log.debug("task %s not started: the window has closed", name)
            task.cancel()
            return task
        if next_func is not None:
            task.finished.connect(next_func)
        if on_progress is not None:
            task.progress.connect(on_progress)
        task.finished.connect(lambda *_: self._forget(task))
        with self._lock:
            self._tasks.add(task)
        (self.deleting if destructive else self.general).start(_Runnable(task, func))
        return task

    def _forget(self, task: Task) -> None:
        with self._lock:
            self._tasks.discard(task)
        task.deleteLater()

    @property
    def busy(self) -> bool:
        """Any task not yet delivered."""
        with self._lock:
            return bool(self._tasks)

    def running(self, name: str) -> list[Task]:
        with self._lock:
            return [t for t in self._tasks if t.name == name]

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel every task and wait for the threads (window closing)."""
        with self._lock:
            self._shut = True
            tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        self.general.waitForDone(timeout_ms)
        self.deleting.waitForDone(timeout_ms)
