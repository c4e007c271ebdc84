"""``mediaclean sweep`` (F4, F5: bucket retention sweeps) and ``mediaclean lifecycle`` (F8: lifecycle export)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.catalog import Catalog, parse_iso
from ..core.errors import ConfigError, SafetyRefusal
from ..core.plan import load_plan
from ..core.run.limits import DeleteLimitExceeded
from ..core.s3.lifecycle import LifecycleExport, apply_lifecycle, lifecycle_export
from ..core.s3.sweep import execute_sweep_plan, plan_sweep, protect_keys, sweep_summary
from ..core.text import printable
from . import Outcome, argtypes, fmt

PER_GROUP = 5


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    sweep = sub.add_parser(
        "sweep", parents=[common], help="preview, or with --yes run, a retention sweep of a remote's bucket",
        description="List every object under the remote's prefix and plan what goes: clips older than the "
        "retention period, sources of finished jobs, other temporary objects older than the grace period. "
        "Recent clips, completed clips the pipeline database records within retention, protected objects and the "
        "sources of unfinished jobs are kept. Without --yes nothing is deleted.",
    )
    sweep.add_argument("--remote", metavar="NAME", help="the remote (see 'mediaclean remote list')")
    sweep.add_argument("--retention-days", type=argtypes.days, metavar="D",
                       help="keep clips this many days (default: prefs)")
    sweep.add_argument("--grace-hours", type=argtypes.whole_hours, metavar="H",
                       help="keep other objects this many hours (default: prefs)")
    sweep.add_argument("--as-of", type=argtypes.instant, metavar="ISO-8601",
                       help="measure ages at this instant, e.g. 2026-12-01T00:00:00Z ('what would go then')")
    sweep.add_argument("--plan", type=argtypes.record_id, metavar="ID",
                       help="a stored sweep plan (from an earlier dry run)")
    sweep.add_argument("--yes", action="store_true", help="delete; without it nothing changes")
    sweep.add_argument("--max-delete", type=argtypes.count, metavar="N",
                       help="refuse (exit 3) a sweep that deletes more than N objects (default: preference "
                       "max_delete_count; 0 = no limit) unless --confirm-large")
    sweep.add_argument("--confirm-large", action="store_true",
                       help="second confirmation for a sweep above the delete limits")
    sweep.add_argument("--protect", action="append", default=[], metavar="KEY",
                       help="mark an object (key relative to the remote's prefix) protected before planning")
    sweep.add_argument("--scheduled", action="store_true",
                       help="record the run as started by a schedule (systemd timer, cron)")
    sweep.set_defaults(handler=cmd_sweep)

    life = sub.add_parser(
        "lifecycle", parents=[common], help="the S3 Lifecycle rules that enforce the sweep policy in the store",
        description="Show the lifecycle rules for the remote's retention policy and what a rule cannot express. "
        "With --apply, merge them into the bucket's rules (foreign rules are kept, rules whose ID starts with "
        "'mediaclean-' are replaced) and read them back.",
    )
    life.add_argument("--remote", required=True, metavar="NAME")
    life.add_argument("--apply", action="store_true", help="put the merged configuration and read it back")
    life.add_argument("--retention-days", type=argtypes.days, metavar="D")
    life.add_argument("--grace-hours", type=argtypes.whole_hours, metavar="H")
    life.add_argument("--noncurrent-days", type=argtypes.days, default=1, metavar="D",
                      help="on a versioned bucket, expire noncurrent versions after D days (default 1)")
    life.set_defaults(handler=cmd_lifecycle)


# ---------------------------------------------------------------- sweep


def _plan_text(catalog: Catalog, plan_id: int, summary: dict[str, Any]) -> str:
    plan = load_plan(catalog, plan_id, with_items=False)
    where = f"bucket '{summary['bucket']}'" + (f" prefix '{summary['prefix']}'" if summary.get("prefix") else "")
    out = [f"Plan {plan_id} (sweep of remote '{summary['remote']}': {where}; ages as of {summary['as_of']}; "
           f"clips kept {summary['retention_days']} days, other objects {summary['grace_hours']} h)"]
    for group in summary["groups"]["delete"]:
        out.append(f"\n  {group['group']}: {group['count']} object(s), {fmt.size(group['bytes'])}")
        rows = catalog.conn.execute(
            "SELECT target, size FROM plan_items WHERE plan_id = ? AND grp = ? AND selected = 1 ORDER BY seq LIMIT ?",
            (plan_id, group["group"], PER_GROUP)).fetchall()
        for row in rows:
            out.append(f"     {fmt.size(row['size']):>10}  {printable(row['target'])}")
        if group["count"] > len(rows):
            out.append(f"     … and {group['count'] - len(rows)} more")
    if summary["groups"]["kept"]:
        out.append(f"\n  kept: {plan.kept_count}")
        for group in summary["groups"]["kept"]:
            out.append(f"     {group['group']} — {group['reason']}: {group['count']} object(s), "
                       f"{fmt.size(group['bytes'])}")
    for note in summary.get("notes", []):
        out.append(f"\n  Note: {note}")
    out.append("\n" + summary["message"])
    return "\n".join(out)


def _run_text(result: dict[str, Any]) -> str:
    lines = [result["message"]]
    for skip in result["skipped"][:20]:
        lines.append(f"skipped: {skip['target']} — {skip['reason']}")
    for fail in result["failed"][:20]:
        lines.append(f"FAILED: {fail['target']} — {fail['error']}")
    lines += [f"Note: {n}" for n in result.get("notes", [])]
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if (args.remote is None) == (args.plan is None):
        raise ConfigError("Name a remote with --remote NAME, or a stored plan with --plan ID "
                          "(see 'mediaclean sweep --help').")
    if args.as_of is not None:
        try:
            parse_iso(args.as_of)
        except ValueError:
            raise ConfigError(f"--as-of '{args.as_of}' is not an ISO-8601 time such as 2026-12-01T00:00:00Z.") \
                from None
    if args.plan is not None:
        plan_id = args.plan
        if load_plan(catalog, plan_id, with_items=False).kind != "sweep":
            raise ConfigError(f"Plan {plan_id} is not a sweep plan; run it with the command that made it.")
    else:
        if args.protect:
            protect_keys(catalog, args.remote, args.protect)
        plan_id = plan_sweep(catalog, args.remote, retention_days=args.retention_days, as_of=args.as_of,
                             grace_hours=args.grace_hours)
    summary = sweep_summary(catalog, plan_id).as_json()
    text = _plan_text(catalog, plan_id, summary)
    plan = load_plan(catalog, plan_id, with_items=False)
    if not args.yes:
        if plan.status == "executed":
            return Outcome(summary, text + f"\n\nPlan {plan_id} has already been run; preview again to sweep again.")
        return Outcome(summary, text + f"\n\nDry run: nothing was deleted. To run exactly this plan: "
                                       f"mediaclean sweep --plan {plan_id} --yes")
    try:
        result = execute_sweep_plan(catalog, plan_id, started_by="schedule" if args.scheduled else "user",
                                    confirm_large=args.confirm_large, max_delete=args.max_delete)
    except SafetyRefusal as exc:
        message = exc.message
        if isinstance(exc, DeleteLimitExceeded):  # the core words the refusal; the command line names its flags
            message += (" To confirm it a second time, run the same command with --confirm-large; to raise the "
                        "limit, give --max-delete N or set mediaclean prefs max_delete_count N (0 = no limit).")
        summary.update(success=False, error=message, refused=True)
        return Outcome(summary, text + f"\n\n{message}", exc.exit_code)
    payload = result.as_json()
    payload["groups"] = summary["groups"]
    payload["kept_by_reason"] = summary["kept_by_reason"]
    return Outcome(payload, _run_text(payload), 1 if result.failed_count else 0)


# ---------------------------------------------------------------- lifecycle


def _lifecycle_text(export: LifecycleExport) -> str:
    data = export.as_json()
    out = [f"Lifecycle rules for remote '{export.remote}' (bucket '{export.bucket}', versioning {export.versioning}):"]
    for rule in data["rules"]:
        out.append("  " + json.dumps(rule, sort_keys=True))
    if data["foreign_rules_kept"]:
        out.append(f"  (+ {data['foreign_rules_kept']} rule(s) already in the bucket that are not mediaclean's, kept)")
    out.append("\nWhat a lifecycle rule cannot express (the sweep still does it):")
    out += [f"  - {c}" for c in export.cannot_express]
    out += [f"\nNote: {n}" for n in export.notes]
    if export.applied:
        if export.verified:
            out.append(f"\nApplied and read back: {len(export.read_back)} rule(s) in the bucket, ours as put.")
        else:
            out.append("\nApplied, but the rules read back differ:")
            out += [f"  - {m}" for m in export.mismatches]
    else:
        out.append(f"\nNothing was changed. To merge these rules into the bucket: "
                   f"mediaclean lifecycle --remote {export.remote} --apply")
    return "\n".join(out)


def cmd_lifecycle(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    options = {"retention_days": args.retention_days, "grace_hours": args.grace_hours,
               "noncurrent_days": args.noncurrent_days}
    export = apply_lifecycle(catalog, args.remote, **options) if args.apply else \
        lifecycle_export(catalog, args.remote, **options)
    return Outcome(export.as_json(), _lifecycle_text(export), 1 if export.applied and not export.verified else 0)
