"""Structured log events and the progress / cancel protocol shared by every core function."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

fs_log = logging.getLogger("mediaclean.fs")
s3_log = logging.getLogger("mediaclean.s3")
catalog_log = logging.getLogger("mediaclean.catalog")


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` (a seed's event name, e.g. ``local_file_deleted``) with fields.

    The record's message is ``event {json fields}``; the event name and fields
    are also attached as ``record.event`` and ``record.fields`` for handlers.
    """
    if not logger.isEnabledFor(level):
        return
    text = json.dumps(fields, default=str, ensure_ascii=True, sort_keys=True)
    logger.log(level, "%s %s", event, text, extra={"event": event, "fields": fields})


class Cancelled(Exception):
    """Raised inside a core function when its cancel token was set."""


class CancelToken:
    """A thread-safe flag that core functions check between items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class Progress:
    """Plain progress values a worker can copy to the GUI thread.

    ``done``/``total`` count items; ``bytes_done``/``bytes_total`` are bytes;
    ``current`` is a human-readable name of the item being worked on.
    ``callback`` (optional) is called after each update from the working thread.
    """

    done: int = 0
    total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    current: str = ""
    phase: str = ""
    callback: Callable[["Progress"], None] | None = field(default=None, repr=False)

    def update(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        if self.callback is not None:
            self.callback(self)

    def snapshot(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "total": self.total,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "current": self.current,
            "phase": self.phase,
        }
