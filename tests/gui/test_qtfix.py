"""PySide6 6.12.0 drops a reference to True on every Signal.emit(); the window's emits must not."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from mediaclean_gui.gui.qtfix import LOST_PER_EMIT, emit


class _Source(QObject):
    changed = Signal(object)


def test_emitting_many_signals_keeps_true_alive(qtbot):
    source = _Source()
    received = []
    source.changed.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(5000):
        emit(source.changed, {"done": n})
    assert len(received) == 5000
    assert abs(sys.getrefcount(True) - before) < 50, f"PySide6 loses {LOST_PER_EMIT} reference(s) per emit"
