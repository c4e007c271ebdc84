"""``mediaclean-gui [--catalog PATH] [--demo] [FOLDER_OR_DATABASE ...]``: start the window.

Also ``python -m mediaclean_gui``. The paths are what a desktop hands over (``Exec=mediaclean-gui %F``):
a folder opens "Add project" prefilled with it, a generator database opens "Import generator database"
prefilled.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import KnownError

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger("mediaclean.gui")

DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mediaclean-gui",
        description="The mediaclean window: preview and safely reclaim the space video pipelines leave behind.")
    parser.add_argument("--catalog", metavar="PATH", help="catalog file (default: $MEDIACLEAN_CATALOG or the "
                                                         "user data folder; with --demo, one beside the demo)")
    parser.add_argument("--demo", action="store_true",
                        help="build a fresh demo workspace of real media, import it and open on it")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every item")
    parser.add_argument("paths", nargs="*", metavar="FOLDER_OR_DATABASE",
                        help="a workspace folder to add as a project, or a generator's SQLite database "
                             f"({', '.join(DATABASE_SUFFIXES)}) to import: its dialog opens prefilled")
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; exit 2 after a modal box for a fatal start-up error.

    A catalog that is damaged, read-only, another application's, on a full disk, or
    from a newer version is one sentence in the box; an unexpected error (a bug) keeps
    its traceback in the log file and the box says where.
    """
    args = parse_args(argv if argv is not None else sys.argv[1:])
    from ..logsetup import setup_logging

    log_file = setup_logging(args.verbose)
    from . import ensure_app

    app = ensure_app()
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    try:
        window = _open(args)
    except Exception as exc:  # noqa: BLE001 -- every start-up failure ends in the box, never a bare traceback
        from .dialogs import fatal_box

        fatal_box(_start_up_sentence(exc, args, log_file)).exec()
        return 2
    from .qtcheck import problem

    trouble = problem()
    if trouble:
        log.error("%s", trouble)
        window.statusBar().showMessage(trouble)
    window.show()
    if args.paths:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: open_paths(window, args.paths))
    return int(app.exec())


def open_paths(window: MainWindow, paths: Sequence[str]) -> list[str]:
    """Open the dialog for each path given on the command line, one after the other.

    A folder opens "Add project" prefilled, a file ending in ``.db``, ``.sqlite`` or ``.sqlite3``
    opens "Import generator database" prefilled (``file://`` URLs are read as paths). Anything else
    is named in the status bar; returns those sentences.
    """
    from PySide6.QtCore import QUrl

    refused: list[str] = []
    for raw in paths:
        path = Path(QUrl(raw).toLocalFile() if raw.startswith("file:") else raw).expanduser()
        if path.is_dir() or (path.is_file() and path.suffix.lower() in DATABASE_SUFFIXES):
            window.open_dropped(str(path.absolute()))
        elif not path.exists():
            refused.append(f"{str(path)!r} does not exist")
        else:
            refused.append(f"{str(path)!r} is neither a folder nor a generator database "
                           f"({', '.join(DATABASE_SUFFIXES)})")
    if refused:
        text = "Not opened: " + "; ".join(refused) + "."
        log.warning("%s", text)
        window.statusBar().showMessage(text, 30000)
    return refused


def _start_up_sentence(exc: Exception, args: argparse.Namespace, log_file: Path | None) -> str:
    """The box's text: a known error's sentence, or where an unexpected error's details were logged."""
    from ..core.catalog import default_catalog_path
    from ..core.catalog_guard import problem_for

    known = exc if isinstance(exc, KnownError) else problem_for(exc, Path(args.catalog or default_catalog_path()))
    if known is not None:
        log.error("start-up refused: %s", known)
        return str(known)
    log.exception("unexpected error at start-up")
    where = f"Its details are in {log_file}." if log_file else "Its details could not be written to a log file."
    return (f"mediaclean could not start because of an unexpected error ({type(exc).__name__}: {exc}). {where} "
            f"Please report it.")


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..core.catalog import Catalog
    from .main_window import MainWindow

    # the path as typed (a trailing '/' is refused, not dropped); None: the default, whose folder is created
    catalog_path: str | Path | None = args.catalog or None
    demo_path: Path | None = None
    if args.demo:
        from ..core.demo import create_demo

        catalog_path = demo_path = create_demo(catalog_path=Path(args.catalog) if args.catalog else None)
        log.info("demo catalog %s", demo_path)
    catalog = Catalog(catalog_path)
    try:
        window = MainWindow(catalog)
    except BaseException:
        catalog.close()  # e.g. a damaged page met while loading the projects
        raise
    if args.demo:
        # let the user preview the demo first: the scheduled jobs (auto-cleanup every few minutes by
        # default) start one auto-cleanup interval later instead of at once
        minutes = int(window.catalog.pref("schedule_auto_minutes")) or 5
        window.schedule.start(delay_ms=min(minutes * 60_000, 2**31 - 1))  # a Qt timer holds 32 bits
        window.statusBar().showMessage(f"Demo workspace: {demo_path.parent if demo_path else ''} — scheduled "
                                       f"jobs start in {minutes} minutes", 15000)
    return window


if __name__ == "__main__":
    raise SystemExit(main())
