"""The thin Qt layer: the main window, its item models, dialogs and workers (DESIGN "The house")."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main_window import MainWindow


def ensure_app() -> object:
    """The running ``QApplication``, made if there is none yet."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("mediaclean")
        app.setOrganizationName("mediaclean")
        app.setApplicationDisplayName("mediaclean")
    return app


def create_main_window(catalog_path: str | os.PathLike[str]) -> MainWindow:
    """The main window on the catalog at ``catalog_path``, not shown yet (SPEC section 5).

    Raises the catalog's known errors (``CatalogTooNew``, ``CatalogLocked``) as they are.
    """
    ensure_app()
    from ..core.catalog import Catalog
    from .main_window import MainWindow

    return MainWindow(Catalog(catalog_path))


__all__ = ["create_main_window", "ensure_app"]
