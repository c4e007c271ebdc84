"""``mediaclean prefs`` and ``mediaclean history``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.catalog import Catalog
from ..core.history import list_runs
from . import Outcome, argtypes, fmt


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    prefs = sub.add_parser("prefs", parents=[common], help="read or set a preference")
    prefs.add_argument("key", nargs="?", type=argtypes.name, metavar="KEY")
    prefs.add_argument("value", nargs="?", type=argtypes.value, metavar="VALUE")
    prefs.set_defaults(handler=cmd_prefs)

    history = sub.add_parser("history", parents=[common], help="past runs")
    history.add_argument("--limit", type=argtypes.count, default=20, metavar="N", help="at most N runs, newest first")
    history.set_defaults(handler=cmd_history)


def cmd_prefs(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if args.key is not None and args.value is not None:
        with catalog.writer("prefs"):
            value = catalog.set_pref(args.key, args.value)
        return Outcome({"prefs": {args.key: value}}, f"{args.key} = {json.dumps(value)}")
    if args.key is not None:
        value = catalog.pref(args.key)
        return Outcome({"prefs": {args.key: value}}, f"{args.key} = {json.dumps(value)}")
    prefs = catalog.prefs()
    text = "\n".join(f"{k} = {json.dumps(v)}" for k, v in sorted(prefs.items()))
    return Outcome({"prefs": prefs}, text)


def cmd_history(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    runs = list_runs(catalog, args.limit)
    rows = [
        [str(r["id"]), fmt.ago(r["started_at"]), r["kind"], r["started_by"], r["status"], str(r["deleted_count"]),
         fmt.size(r["freed_bytes"]), str(r["failed_count"]), ", ".join(r["projects"])[:40]]
        for r in runs
    ]
    text = fmt.table(rows, ["RUN", "STARTED", "KIND", "BY", "STATUS", "DELETED", "FREED", "FAILED", "PROJECTS"]) \
        if runs else "No runs yet."
    return Outcome({"runs": runs}, text)
