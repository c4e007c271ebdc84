"""DESIGN: the core knows nothing of Qt — no module under mediaclean_gui/core imports PySide6."""

import ast
from pathlib import Path

import mediaclean_gui.core

CORE = Path(mediaclean_gui.core.__file__).parent


def qt_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6")]
    return found


def test_core_has_no_qt_import():
    offenders = {str(p.relative_to(CORE)): qt_imports(p) for p in CORE.rglob("*.py") if qt_imports(p)}
    assert offenders == {}


def test_boundary_check_catches_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\n")
    assert qt_imports(bad) == ["PySide6.QtCore"]
