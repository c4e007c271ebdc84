"""``mediaclean-gui [--catalog PATH] [--demo]``: start the window (``python -m mediaclean_gui`` too)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import KnownError

log = logging.getLogger("mediaclean.gui")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mediaclean-gui",
        description="The mediaclean window: preview and safely reclaim the space video pipelines leave behind.")
    parser.add_argument("--catalog", metavar="PATH", help="catalog file (default: $MEDIACLEAN_CATALOG or the "
                                                         "user data folder; with --demo, one beside the demo)")
    parser.add_argument("--demo", action="store_true",
                        help="build a fresh demo workspace of real media, import it and open on it")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every item")
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; exit 2 after a modal box for a fatal start-up error."""
    args = parse_args(argv if argv is not None else sys.argv[1:])
    from ..logsetup import setup_logging

    setup_logging(args.verbose)
    from . import ensure_app

    app = ensure_app()
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    try:
        window = _open(args)
    except KnownError as exc:
        from .dialogs import fatal_box

        log.error("start-up refused: %s", exc)
        fatal_box(str(exc)).exec()
        return 2
    from .qtcheck import problem

    trouble = problem()
    if trouble:
        log.error("%s", trouble)
        window.statusBar().showMessage(trouble)
    window.show()
    return int(app.exec())


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..core.catalog import Catalog, default_catalog_path
    from .main_window import MainWindow

    catalog_path = Path(args.catalog) if args.catalog else None
    if args.demo:
        from ..core.demo import create_demo

        catalog_path = create_demo(catalog_path=catalog_path)
        log.info("demo catalog %s", catalog_path)
    window = MainWindow(Catalog(catalog_path or default_catalog_path()))
    if args.demo:
        # let the user preview the demo first: the scheduled jobs (auto-cleanup every few minutes by
        # default) start one auto-cleanup interval later instead of at once
        minutes = int(window.catalog.pref("schedule_auto_minutes")) or 5
        window.schedule.start(delay_ms=minutes * 60_000)
        window.statusBar().showMessage(f"Demo workspace: {catalog_path.parent if catalog_path else ''} — scheduled "
                                       f"jobs start in {minutes} minutes", 15000)
    return window


if __name__ == "__main__":
    raise SystemExit(main())
