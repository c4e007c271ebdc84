"""The ``mediaclean`` command: argument parsing and output only; the work is in ``core``.

Each command group lives in its own module with ``register(subparsers, common)``;
a command handler takes ``(args, catalog)`` and returns :class:`Outcome`.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.catalog import Catalog, default_catalog_path
from ..core.catalog_guard import problem_for
from ..core.errors import ConfigError, KnownError
from ..core.projects import Project, list_projects, resolve_project
from ..core.roots import BroadRoot, broad_roots_allowed
from ..core.text import printable, printable_lines

log = logging.getLogger("mediaclean.cli")


@dataclass
class Outcome:
    """What a command prints: ``payload`` as JSON with ``--json``, else ``text``; and its exit status."""

    payload: dict[str, Any]
    text: str = ""
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[argparse.Namespace, Catalog], Outcome]


def project_named(catalog: Catalog, text: str) -> Project:
    """The project the user named (id, name or external id), refusing a number that is one project's id
    and another project's name: 'clean 2' must not clean project 2 when the user meant the one called 2."""
    project = resolve_project(catalog, text)
    if text.isdigit() and project.id == int(text):
        for other in list_projects(catalog):
            if other.id != project.id and text in (other.name, other.external_id):
                raise ConfigError(
                    f"'{text}' is both the id of project {project.id} ({printable(project.name)}) and the name of "
                    f"project {other.id}: name project {project.id} by its name, or the other one by its id "
                    f"{other.id}.")
    return project


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"{message} (see '{self.prog} --help')")


#: command -> the module (of this package) that registers it. ``main`` imports only the module of the
#: command asked for, so a command pays only for its own imports (a test keeps this table complete).
COMMAND_MODULES: dict[str, str] = {
    "project": "projects", "scan": "projects", "clean": "clean", "auto": "clean", "prefs": "settings",
    "history": "settings", "remote": "remote", "upload": "upload", "sweep": "sweep", "lifecycle": "sweep",
    "temp": "temp", "orphans": "temp", "restore": "temp", "schedule": "schedule",
}
_MODULE_ORDER = ("projects", "clean", "settings", "remote", "upload", "sweep", "temp", "schedule")


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (the first word that is not an option or ``--catalog``'s value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--catalog":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``command`` (a key of :data:`COMMAND_MODULES`) only that command's."""
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
    import importlib

    names = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else list(_MODULE_ORDER)
    for name in names:
        importlib.import_module(f"{__name__}.{name}").register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mediaclean``; returns the exit status (SPEC section 4).

    Every failure ends in one sentence on stderr (and, with ``--json``, one JSON object
    ``{"success": false, "error": …, "exit_code": …}`` on stdout) and exit 2 or 3; an
    unexpected error (a bug) logs its traceback to the log file and says where. A stdout
    that is closed or full never changes the exit status of a command that succeeded.
    """
    from ..logsetup import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    want_json = "--json" in argv
    try:
        args = build_parser(command_of(argv)).parse_args(argv)
    except ConfigError as exc:
        return _emit_error(exc, want_json)
    except SystemExit as exc:  # --help (printed), or argparse's own exit
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 2
    except OSError as exc:  # --help into a closed or full stdout
        _output_failed(exc)
        return 0
    log_file = setup_logging(getattr(args, "verbose", False))
    want_json = getattr(args, "json", False)
    where = Path(getattr(args, "catalog", None) or default_catalog_path())
    try:
        catalog = Catalog(getattr(args, "catalog", None))
        where = catalog.path
        try:
            if catalog.has_running_runs():  # invariant 6: a run killed mid-way is settled before anything else
                from ..core.run.lifecycle import reconcile_on_start  # (imported only then: start-up time)

                reconcile_on_start(catalog)
            with broad_roots_allowed(getattr(args, "allow_broad_root", False)):
                outcome: Outcome = args.handler(args, catalog)
        finally:
            catalog.close()
    except BroadRoot as exc:
        return _emit_error(exc.confirmed_by("with --allow-broad-root"), want_json)
    except KnownError as exc:
        return _emit_error(exc, want_json)
    except KeyboardInterrupt:
        stopped = KnownError("interrupted; what a run had done so far is recorded ('mediaclean history' shows it).")
        stopped.exit_code = 130  # the shell's convention for Ctrl-C, which scripts test for
        return _emit_error(stopped, want_json)
    except Exception as exc:  # noqa: BLE001 -- the world's fault gets its sentence, a bug its traceback
        known = problem_for(exc, where)
        if known is not None:
            log.info("stopped: %s", known)
            return _emit_error(known, want_json)
        return _emit_error(_bug(exc, args, log_file), want_json)
    if want_json:
        _write_out(_printable(json.dumps(outcome.payload, default=str, ensure_ascii=False, indent=None)) + "\n")
    elif outcome.text:
        _write_out(printable_lines(outcome.text) + "\n")  # control characters escaped even where a name slipped by
    return outcome.exit_code


def _bug(exc: BaseException, args: argparse.Namespace, log_file: Path | None) -> KnownError:
    """Log an unexpected error's traceback to the log file only (not the terminal); the sentence to show."""
    command = " ".join(str(getattr(args, k)) for k in ("command", "project_command", "remote_command",
                                                         "schedule_command") if getattr(args, k, None))
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "unexpected error in 'mediaclean %s'",
                            (command,), (type(exc), exc, exc.__traceback__))
    logged = False
    for handler in logging.getLogger("mediaclean").handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
            logged = True
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if logged and log_file is not None:
        return KnownError(f"an unexpected error stopped the command ({what}); its details are in {log_file}, "
                          f"please report it with that file.")
    return KnownError(f"an unexpected error stopped the command ({what}) and its log file could not be written; "
                      f"please report it with the command you ran.")


def _printable(text: str) -> str:
    """Text safe to print: undecodable bytes of file names (``os.fsdecode`` surrogates) shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _emit_error(exc: KnownError, want_json: bool) -> int:
    from ..core.run.limits import DeleteLimitExceeded

    if isinstance(exc, DeleteLimitExceeded):  # the core words the refusal; the command line names its own flags
        exc = DeleteLimitExceeded(exc.check)
        exc.message += (" To confirm it a second time, run the same command with --confirm-large; to raise the "
                        "limit, mediaclean prefs max_delete_count N (0 = no limit).")
    if exc.cli_hint:
        exc.message = f"{exc.message} {exc.cli_hint}"
    if want_json:
        _write_out(json.dumps({"success": False, "error": _printable(exc.message), "exit_code": exc.exit_code},
                              ensure_ascii=False) + "\n")
    _note(f"mediaclean: {printable(exc.message)}")
    return exc.exit_code


def _write_out(text: str) -> None:
    """Write to stdout; a closed, broken or full stdout is noted on stderr and never raises."""
    try:
        if sys.stdout is None:  # started with stdout closed
            raise BrokenPipeError(errno.EBADF, "stdout is closed")
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        _output_failed(exc)


def _output_failed(exc: BaseException) -> None:
    _silence(sys.stdout)
    reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).lower() or "closed"
    _note(f"mediaclean: the output could not be written ({reason}); the command itself finished "
          f"('mediaclean history' shows what a run did).")


def _note(text: str) -> None:
    try:
        if sys.stderr is None:
            return
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _silence(sys.stderr)


def _silence(stream: Any) -> None:
    """Point a failed standard stream at /dev/null, so the interpreter's final flush cannot fail the exit status."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


if __name__ == "__main__":
    raise SystemExit(main())
