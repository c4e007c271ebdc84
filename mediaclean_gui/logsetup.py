"""Logging for the CLI and the window: a line on stderr, a rotating file in the user log folder."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import platformdirs


class LogFile(logging.FileHandler):
    """The rotating log file: ``max_bytes`` per file, ``backup_count`` older files ``NAME.1`` (newest) to
    ``NAME.N``, rolled over as :class:`logging.handlers.RotatingFileHandler` does it, with the rollover
    decided on a running count of the characters written, which is read again from the file every
    :attr:`RESYNC` records (so lines other processes append count too), instead of the standard handler's
    two ``stat`` calls, a ``seek``, a ``tell`` and a second formatting of every record: a run logs an event
    per file from several threads, and each of those system calls let another thread take the GIL. Each
    record is still written and flushed at once (a killed process loses no line). Not derived from the
    standard handler: ``logging.handlers`` imports the socket and pickle modules, a tenth of a light
    command's start-up."""

    RESYNC = 256

    def __init__(self, filename: str | os.PathLike[str], max_bytes: int, backup_count: int) -> None:
        super().__init__(filename, mode="a", encoding="utf-8")  # opened now: a file that cannot be is seen here
        self.maxBytes = max_bytes
        self.backupCount = backup_count
        self._written: int | None = None
        self._since = 0

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 — logging's name
        if self.stream is None:
            self.stream = self._open()
        if self._written is None or self._since >= self.RESYNC:
            st = os.fstat(self.stream.fileno())
            if not stat.S_ISREG(st.st_mode):  # never roll over anything but a regular file (bpo-45401)
                self._written = -(1 << 62)
            else:
                self._written = st.st_size
            self._since = 0
        return 0 < self.maxBytes <= self._written

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.shouldRollover(record):
                self.doRollover()
                self._written = None
                self.shouldRollover(record)
            text = self.format(record) + self.terminator
            assert self.stream is not None
            self.stream.write(text)
            self.flush()
            assert self._written is not None
            self._written += len(text)
            self._since += 1
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 — logging's own rule: a failing handler never stops the program
            self.handleError(record)

    def doRollover(self) -> None:  # noqa: N802 — logging's name
        """``NAME.N-1`` → ``NAME.N`` … ``NAME`` → ``NAME.1`` (the oldest dropped), then a new ``NAME``."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.backupCount > 0:
            for n in range(self.backupCount - 1, 0, -1):
                older = f"{self.baseFilename}.{n}"
                if os.path.exists(older):
                    os.replace(older, f"{self.baseFilename}.{n + 1}")
            if os.path.exists(self.baseFilename):
                os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()


def setup_logging(verbose: bool = False, *, console: bool = True) -> Path | None:
    """Configure the ``mediaclean`` loggers once; returns the log file path (or ``None``)."""
    root = logging.getLogger("mediaclean")
    if getattr(root, "_mediaclean_configured", False):
        return getattr(root, "_mediaclean_file", None)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    if console:
        handler = logging.StreamHandler()
        handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    path: Path | None = None
    try:
        folder = Path(platformdirs.user_log_dir("mediaclean"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "mediaclean.log"
        fh = LogFile(path, 5_000_000, 3)
        fh.setLevel(logging.DEBUG if verbose else logging.INFO)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(fh)
    except OSError:
        path = None
    root._mediaclean_configured = True  # type: ignore[attr-defined]
    root._mediaclean_file = path  # type: ignore[attr-defined]
    return path
