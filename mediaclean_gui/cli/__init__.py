"""The ``mediaclean`` command: argument parsing and output only; the work is in ``core``.

Each command group lives in its own module with ``register(subparsers, common)``;
a command handler takes ``(args, catalog)`` and returns :class:`Outcome`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.catalog import Catalog
from ..core.errors import ConfigError, KnownError
from ..core.run.lifecycle import reconcile_on_start

log = logging.getLogger("mediaclean.cli")


@dataclass
class Outcome:
    """What a command prints: ``payload`` as JSON with ``--json``, else ``text``; and its exit status."""

    payload: dict[str, Any]
    text: str = ""
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[argparse.Namespace, Catalog], Outcome]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", metavar="PATH", default=argparse.SUPPRESS,
                        help="catalog file (default: $MEDIACLEAN_CATALOG or the user data folder)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print exactly one JSON object on stdout")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log every item")
    parser = _Parser(
        prog="mediaclean",
        description="Preview and safely reclaim the space video pipelines leave behind. "
        "Destructive commands print the plan and change nothing without --yes.",
        parents=[common],
        epilog="Exit status: 0 done; 1 done with some items failed; 2 usage or configuration error; "
        "3 refused by a safety rule.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    from . import clean, projects, settings

    for module in (projects, clean, settings):
        module.register(sub, common)
    for name in ("remote", "upload", "sweep", "temp"):
        try:
            module = __import__(f"{__name__}.{name}", fromlist=["register"])
        except ModuleNotFoundError:
            continue
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mediaclean``; returns the exit status (SPEC section 4)."""
    from ..logsetup import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    want_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
    except ConfigError as exc:
        return _emit_error(exc, want_json)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    setup_logging(getattr(args, "verbose", False))
    want_json = getattr(args, "json", False)
    try:
        catalog = Catalog(getattr(args, "catalog", None))
        try:
            reconcile_on_start(catalog)  # invariant 6: a run killed mid-way is settled before anything else
            outcome = args.handler(args, catalog)
        finally:
            catalog.close()
    except KnownError as exc:
        return _emit_error(exc, want_json)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    if want_json:
        sys.stdout.write(_printable(json.dumps(outcome.payload, default=str, ensure_ascii=False, indent=None)) + "\n")
    elif outcome.text:
        print(_printable(outcome.text))
    sys.stdout.flush()
    return outcome.exit_code


def _printable(text: str) -> str:
    """Text safe to print: undecodable bytes of file names (``os.fsdecode`` surrogates) shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _emit_error(exc: KnownError, want_json: bool) -> int:
    from ..core.run.limits import DeleteLimitExceeded

    if isinstance(exc, DeleteLimitExceeded):  # the core words the refusal; the command line names its own flags
        exc = DeleteLimitExceeded(exc.check)
        exc.message += (" To confirm it a second time, run the same command with --confirm-large; to raise the "
                        "limit, mediaclean prefs max_delete_count N (0 = no limit).")
    if want_json:
        sys.stdout.write(json.dumps({"success": False, "error": _printable(exc.message), "exit_code": exc.exit_code})
                         + "\n")
    print(f"mediaclean: {_printable(exc.message)}", file=sys.stderr)
    return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
