"""Detect a PySide6 that loses references to ``None``/``True`` (6.12.0 does) before it crashes the window.

PySide6 6.12.0 drops one reference to ``None`` on every call of a C++ method
returning ``void`` (``label.setText(...)``) and one to ``True`` on every
``Signal.emit()``. On Python 3.11, where those objects are not immortal, the
window dies after a few thousand calls with "Fatal Python error:
none_dealloc" (or ``bool_dealloc``). 6.11.3 is fine; ``pyproject.toml`` excludes 6.12.0.
"""

from __future__ import annotations

import sys

PROBES = 200
KNOWN_GOOD = "6.11.3"


def lost_references() -> tuple[int, int]:
    """``(None, True)`` references lost per call, measured on a throw-away object (0, 0 when healthy)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        fired = Signal()

    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(PROBES):
        probe.setObjectName("probe")
    lost_none = max(0, before - sys.getrefcount(None)) // PROBES
    before = sys.getrefcount(True)
    for _ in range(PROBES):
        probe.fired.emit()
    lost_true = max(0, before - sys.getrefcount(True)) // PROBES
    return lost_none, lost_true


def problem() -> str | None:
    """One sentence when the installed PySide6 has the bug, else ``None``."""
    import PySide6

    lost_none, lost_true = lost_references()
    if not (lost_none or lost_true):
        return None
    return (f"PySide6 {PySide6.__version__} has a reference-counting bug that crashes Python "
            f"{sys.version_info.major}.{sys.version_info.minor} after a few minutes; install another version "
            f"(pip install 'PySide6-Essentials=={KNOWN_GOOD}').")
