"""The window's remembered layout (geometry, docks, splitters, column widths and sorts) in a QSettings file of its own.

The file is ``$MEDIACLEAN_GUI_SETTINGS`` when set (tests point it into their temp
folder, so they never touch the user's), else ``window.ini`` in
``platformdirs.user_config_dir("mediaclean")``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

SETTINGS_ENV = "MEDIACLEAN_GUI_SETTINGS"


def settings_path() -> Path:
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("mediaclean")) / "window.ini"


def window_settings() -> QSettings:
    """The QSettings (INI format) the window reads and writes."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def _bytes(settings: QSettings, key: str) -> QByteArray | None:
    value = settings.value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def save_layout(window: QMainWindow, splitters: dict[str, QSplitter], headers: dict[str, QHeaderView]) -> None:
    """Write the window's geometry and state, each splitter's sizes and each header's widths and sort."""
    settings = window_settings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    for name, splitter in splitters.items():
        settings.setValue(f"splitters/{name}", splitter.saveState())
    for name, header in headers.items():
        settings.setValue(f"headers/{name}", header.saveState())
    settings.sync()


def restore_layout(window: QMainWindow, splitters: dict[str, QSplitter], headers: dict[str, QHeaderView]) -> bool:
    """Read back what :func:`save_layout` wrote; ``False`` when nothing was saved yet (first start)."""
    settings = window_settings()
    geometry = _bytes(settings, "window/geometry")
    if geometry is None:
        return False
    window.restoreGeometry(geometry)
    state = _bytes(settings, "window/state")
    if state is not None:
        window.restoreState(state)
    for name, splitter in splitters.items():
        value = _bytes(settings, f"splitters/{name}")
        if value is not None:
            splitter.restoreState(value)
    for name, header in headers.items():
        value = _bytes(settings, f"headers/{name}")
        if value is not None:
            header.restoreState(value)
    return True
