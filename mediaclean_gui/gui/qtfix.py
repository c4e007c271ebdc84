"""Work around a PySide6 6.12.0 bug: every Python ``Signal.emit()`` drops one reference to ``True``.

On Python 3.11, where ``True`` is not immortal, a window that emits a few
thousand signals (progress, results, model changes) then dies with
"Fatal Python error: bool_dealloc". PySide6 6.11.3 does not have the bug.
Every signal this package emits goes through :func:`emit`, which measures the
bug once and gives the reference back only where it is really taken.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_PROBES = 64


class _Probe(QObject):
    fired = Signal()


def _measure() -> int:
    """How many references to ``True`` one ``emit()`` takes away (0 on a good PySide6)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    return lost // _PROBES if lost > 0 and lost % _PROBES == 0 else 0


LOST_PER_EMIT = _measure()
if LOST_PER_EMIT:  # give back what the probe took
    for _ in range(LOST_PER_EMIT * _PROBES):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, keeping ``True``'s reference count right on a buggy PySide6."""
    signal.emit(*args)
    for _ in range(LOST_PER_EMIT):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
