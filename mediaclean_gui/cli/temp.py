"""``mediaclean temp`` (F6), ``orphans`` (F7) and ``restore`` (trash round trip)."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.catalog import Catalog
from ..core.errors import ConfigError
from ..core.orphans import plan_orphans
from ..core.plan import load_plan
from ..core.projects import list_projects
from ..core.tempclean import plan_temp
from ..core.text import printable
from ..core.trash import restorable, restore_run
from . import Outcome, argtypes, project_named
from .clean import run_or_show


def _destructive(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than-hours", type=argtypes.hours, metavar="H",
                        help="only what nothing changed in for H hours (default: the preference)")
    parser.add_argument("--plan", type=argtypes.record_id, metavar="ID", help="a stored plan (from an earlier dry run)")
    parser.add_argument("--yes", action="store_true", help="delete; without it nothing changes")
    parser.add_argument("--trash", action="store_true", help="move to the trash instead of deleting")
    parser.add_argument("--confirm-large", action="store_true",
                        help="second confirmation for a plan above the delete limits")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    temp = sub.add_parser("temp", parents=[common],
                          help="preview, or with --yes delete, orphaned render temp folders under ROOT")
    temp.add_argument("root", nargs="?", type=argtypes.path, metavar="ROOT", help="the temp root (e.g. /tmp)")
    _destructive(temp)
    argtypes.allow_broad_root(temp)
    temp.set_defaults(handler=cmd_temp)

    orphans = sub.add_parser("orphans", parents=[common],
                             help="preview, or with --yes delete, files in output folders the catalog does not know")
    orphans.add_argument("project", nargs="?", type=argtypes.project, metavar="PROJECT",
                         help="project id, name or external id")
    orphans.add_argument("--all", action="store_true", help="every project")
    _destructive(orphans)
    orphans.set_defaults(handler=cmd_orphans)

    restore = sub.add_parser("restore", parents=[common], help="move a trash-mode run's files back from the trash")
    restore.add_argument("run_id", type=argtypes.record_id, metavar="RUN_ID")
    restore.add_argument("--check", action="store_true", help="only say whether the run can be restored")
    restore.set_defaults(handler=cmd_restore)


def _stored_plan(args: argparse.Namespace, catalog: Catalog, kind: str, command: str) -> int:
    plan = load_plan(catalog, args.plan, with_items=False)
    if plan.kind != kind:
        raise ConfigError(f"Plan {plan.id} is a {plan.kind} plan, not a {kind} plan; run it with the command "
                          f"that made it (for a cleanup: mediaclean clean --plan {plan.id} --yes).")
    return plan.id


def cmd_temp(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if (args.root is None) == (args.plan is None):
        raise ConfigError("Name one temp ROOT, or --plan ID (see 'mediaclean temp --help').")
    if args.plan is not None:
        plan_id = _stored_plan(args, catalog, "temp", "mediaclean temp")
    else:
        plan_id = plan_temp(catalog, args.root, older_than_hours=args.older_than_hours)
    return run_or_show(args, catalog, plan_id, "mediaclean temp")


def cmd_orphans(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if sum(bool(x) for x in (args.project, args.all, args.plan is not None)) != 1:
        raise ConfigError("Name one PROJECT, or --all, or --plan ID (see 'mediaclean orphans --help').")
    if args.plan is not None:
        plan_id = _stored_plan(args, catalog, "orphans", "mediaclean orphans")
    else:
        ids = [p.id for p in list_projects(catalog)] if args.all else [project_named(catalog, args.project).id]
        plan_id = plan_orphans(catalog, ids, older_than_hours=args.older_than_hours)
    return run_or_show(args, catalog, plan_id, "mediaclean orphans")


def cmd_restore(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if args.check:
        check = restorable(catalog, args.run_id)
        return Outcome({"run_id": args.run_id, "restorable": check.possible, "message": check.reason,
                        **check.as_json()}, check.reason)
    result = restore_run(catalog, args.run_id)
    payload = result.as_json()
    if not result.possible:
        return Outcome(payload, f"Cannot restore: {result.message}", 2)
    lines = [result.message]
    for item in result.items:
        if item.outcome.value in ("conflict", "missing", "failed"):
            lines.append(f"  {item.outcome.value}: {printable(item.target)} — {printable(item.detail)}")
    failed = bool(payload["conflicts"] or payload["failed"])
    return Outcome(payload, "\n".join(lines[:40]), 1 if failed else 0)
