"""PySide6 6.12.0 loses a reference to None per void call and to True per emit: the installed one must not."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel

from mediaclean_gui.gui.qtcheck import lost_references, problem


def test_installed_pyside_keeps_none_and_true_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for n in range(3000):
        label.setText(str(n))
    assert before - sys.getrefcount(None) < 100, problem()
    assert lost_references() == (0, 0), problem()
    assert problem() is None
