"""Logging for the CLI and the window: a line on stderr, a rotating file in the user log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs


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
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        fh.setLevel(logging.DEBUG if verbose else logging.INFO)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(fh)
    except OSError:
        path = None
    root._mediaclean_configured = True  # type: ignore[attr-defined]
    root._mediaclean_file = path  # type: ignore[attr-defined]
    return path
