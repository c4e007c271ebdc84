"""``mediaclean upload PROJECT --remote NAME``: F3 — preview, or with ``--yes`` upload, verify, then delete locally."""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

from ..core.catalog import Catalog, display_path
from ..core.errors import ConfigError
from ..core.plan import Action, Plan, load_plan
from ..core.projects import resolve_project
from ..core.run.model import RunResult
from ..core.s3.upload import execute_upload_plan, key_of, plan_upload, upload_total_line
from ..core.s3.upload_plan import existing_at
from . import Outcome, argtypes, fmt


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    up = sub.add_parser(
        "upload", parents=[common], help="upload a project's outputs, verify, then delete the local copies",
        description="Preview the upload of a project's outputs to a remote (nothing changes), or with --yes run it: "
        "each file is hashed, uploaded with its checksum, proved by the store, and only then (with "
        "--delete-after-upload) deleted locally. Failures keep the file and queue it for retry.",
    )
    up.add_argument("project", nargs="?", metavar="PROJECT", help="project id, name or external id")
    up.add_argument("--remote", metavar="NAME", help="the remote to upload to (see 'mediaclean remote list')")
    up.add_argument("--plan", type=argtypes.record_id, metavar="ID",
                    help="run a stored upload plan (from an earlier preview)")
    up.add_argument("--delete-after-upload", action="store_true",
                    help="delete each local file once its upload is verified")
    up.add_argument("--overwrite", action="store_true",
                    help="on an unversioned bucket, replace an object that holds other bytes at a file's key "
                    "(without it both copies are kept and the file is kept back)")
    up.add_argument("--yes", action="store_true", help="upload (and delete); without it nothing changes")
    up.add_argument("--trash", action="store_true", help="move local files to the trash instead of deleting them")
    up.add_argument("--remove-empty-folders", action="store_true", default=None,
                    help="remove folders left empty (never the output folder itself)")
    up.add_argument("--confirm-large", action="store_true",
                    help="second confirmation for a plan above the delete limits")
    up.set_defaults(handler=cmd_upload)


def _items_json(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id, "path": display_path(i.target), "key": key_of(i), "size": i.size, "action": i.action.value,
            "delete_local": i.action is Action.UPLOAD_THEN_DELETE, "role": i.role, "group": i.group,
            "selected": i.selected, "existing": existing_at(plan, key_of(i)) or None,
        }
        for i in plan.items
    ]


def upload_payload(plan: Plan, result: RunResult | None) -> dict[str, Any]:
    """The JSON of ``upload``: the plan, and what the run did if there was one."""
    payload: dict[str, Any] = {
        "plan_id": plan.id,
        "plan_status": plan.status,
        "dry_run": result is None,
        "remote": plan.params.get("remote"),
        "bucket": plan.params.get("bucket"),
        "plan_summary": plan.summary,
        "items": _items_json(plan),
        "kept": [k.as_json() for k in plan.kept],
        "total_line": upload_total_line(plan),
        "uploaded": [],
        "deleted_local": [],
        "failed": [],
        "skipped": [k.as_json() for k in plan.kept],
    }
    if result is not None:
        payload.update(result.as_json())
        payload["skipped"] = [k.as_json() for k in plan.kept] + result.skipped
    return payload


def plan_text(plan: Plan, limit: int = 30) -> str:
    bucket = plan.params.get("bucket", "")
    out = [f"Plan {plan.id} (upload, {plan.status}) — {plan.summary}"]
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in plan.items:
        groups[item.group or item.role].append(item)
    for group, items in groups.items():
        out.append(f"\n  {group}: {len(items)} file(s), {fmt.size(sum(i.size for i in items))}")
        for item in items[:limit]:
            mark = " " if item.selected else "-"
            then = "then delete locally" if item.action is Action.UPLOAD_THEN_DELETE else "keep local copy"
            out.append(f"   {mark} {fmt.size(item.size):>10}  {display_path(item.target)}"
                       f"  ->  s3://{bucket}/{key_of(item)}  ({then})")
        if len(items) > limit:
            out.append(f"     … and {len(items) - limit} more")
    if plan.kept:
        out.append(f"\n  kept back: {len(plan.kept)}")
        for kept in plan.kept[:limit]:
            out.append(f"     {display_path(kept.target)} — {kept.reason.value}: {kept.detail}")
        if len(plan.kept) > limit:
            out.append(f"     … and {len(plan.kept) - limit} more")
    out.append("\n" + upload_total_line(plan))
    return "\n".join(out)


def run_text(result: RunResult) -> str:
    lines = [result.summary_line()]
    details = result.details
    if details.get("folders_removed"):
        lines.append(f"Removed {len(details['folders_removed'])} empty folder(s).")
    if details.get("stopped") and details["stopped"] != "cancelled":
        lines.append(f"Stopped early: {details['stopped']}")
    for skip in result.skipped[:20]:
        lines.append(f"kept: {skip['target']} — {skip['reason']}")
    for fail in result.failed[:20]:
        lines.append(f"FAILED: {fail['target']} — {fail['error']}")
    if result.failed:
        lines.append("Failed files stay where they are and are queued; run the same command again to retry them.")
    return "\n".join(lines)


def cmd_upload(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    if args.plan is not None:
        if args.project or args.remote:
            raise ConfigError("Give either --plan ID, or PROJECT and --remote NAME (see 'mediaclean upload --help').")
        plan_id = args.plan
    else:
        if not args.project or not args.remote:
            raise ConfigError("Name a PROJECT and a --remote (see 'mediaclean upload --help').")
        project = resolve_project(catalog, args.project)
        plan_id = plan_upload(catalog, project.id, args.remote, delete_after_upload=args.delete_after_upload,
                              overwrite=args.overwrite)
    plan = load_plan(catalog, plan_id)
    if plan.kind != "upload":
        raise ConfigError(f"Plan {plan_id} is a {plan.kind} plan; run it with 'mediaclean {plan.kind}'.")
    if not args.yes:
        hint = f"\n\nDry run: nothing was uploaded or deleted. To run exactly this plan: mediaclean upload " \
               f"--plan {plan.id} --yes"
        return Outcome(upload_payload(plan, None), plan_text(plan) + hint)
    result = execute_upload_plan(
        catalog, plan.id, mode="trash" if args.trash else None, confirm_large=args.confirm_large,
        remove_empty_folders=args.remove_empty_folders,
    )
    plan = load_plan(catalog, plan.id)
    stopped = result.details.get("stopped")
    failed = bool(result.failed_count or result.details.get("unverified") or (stopped and stopped != "cancelled"))
    return Outcome(upload_payload(plan, result), run_text(result), 1 if failed else 0)
