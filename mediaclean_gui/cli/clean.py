"""``mediaclean clean`` (F1) and ``mediaclean auto`` (F2)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..core.auto import run_auto_cleanup
from ..core.catalog import Catalog
from ..core.clean import plan_cleanup
from ..core.errors import ConfigError
from ..core.execute import MB, RunResult, execute_plan
from ..core.plan import Plan, PlanPage, load_plan, plan_page
from ..core.projects import get_project, list_projects
from ..core.scan import scan_projects
from ..core.text import printable
from . import Outcome, argtypes, fmt, project_named


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    clean = sub.add_parser("clean", parents=[common], help="preview, or with --yes run, a project cleanup")
    clean.add_argument("project", nargs="?", type=argtypes.project, metavar="PROJECT",
                       help="project id, name or external id")
    clean.add_argument("--all", action="store_true", help="every project whose final output exists")
    clean.add_argument("--plan", type=argtypes.record_id, metavar="ID", help="a stored plan (from an earlier dry run)")
    clean.add_argument("--yes", action="store_true", help="delete; without it nothing changes")
    clean.add_argument("--trash", action="store_true", help="move to the trash instead of deleting")
    clean.add_argument("--confirm-large", action="store_true",
                       help="second confirmation for a plan above the delete limits")
    clean.set_defaults(handler=cmd_clean)

    auto = sub.add_parser("auto", parents=[common], help="clean every project whose final output has settled; "
                          "without --yes, only say what it would clean")
    auto.add_argument("--yes", action="store_true", help="clean them; without it nothing changes")
    auto.set_defaults(handler=cmd_auto)


#: items (and kept-back items) a ``--json`` result lists at most; the counts are always whole
ITEMS_PAGE = 1000


def plan_payload(page: PlanPage, result: RunResult | None, status: Any) -> dict[str, Any]:
    """The JSON of ``clean``/``temp``/``orphans``: the plan (its totals and the first :data:`ITEMS_PAGE`
    items and kept-back items, ``items_count``/``kept_count`` and ``items_truncated`` say how many there
    are), and what the run did if there was one."""
    plan = page.plan
    payload: dict[str, Any] = {
        "plan_id": plan.id,
        "plan_status": plan.status,
        "dry_run": result is None,
        "items": [i.as_json() for i in page.items],
        "items_count": page.items_count,
        "kept_count": plan.kept_count,
        "items_truncated": page.truncated,
        "skipped": [k.as_json() for k in page.kept],
        "total_line": page.total_line(),
        "cleanup_status": status,
    }
    if result is None:
        payload.update(deleted_count=page.files, deleted_size_mb=round(page.nbytes / MB, 2), freed_bytes=0,
                       failed=[])
    else:
        payload.update(result.as_json())
        payload["skipped"] = [k.as_json() for k in page.kept] + result.skipped
    return payload


def run_text(result: RunResult) -> str:
    lines = [result.summary_line() + (" (moved to the trash)" if result.mode == "trash" else "")]
    if result.already_gone:
        lines.append(f"{result.already_gone} item(s) were already gone.")
    for skip in result.skipped[:20]:
        lines.append(f"skipped: {printable(skip['target'])} — {printable(skip['reason'])}")
    for fail in result.failed[:20]:
        lines.append(f"FAILED: {printable(fail['target'])} — {printable(fail['error'])}")
    return "\n".join(lines)


def cmd_clean(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    chosen = sum(bool(x) for x in (args.project, args.all, args.plan is not None))
    if chosen != 1:
        raise ConfigError("Name one PROJECT, or --all, or --plan ID (see 'mediaclean clean --help').")
    if args.plan is not None:
        plan_id = args.plan
        kind = load_plan(catalog, plan_id, with_items=False).kind
        if kind != "clean":
            raise ConfigError(f"Plan {plan_id} is a {kind} plan, not a cleanup; run it with the command that made "
                              f"it (mediaclean {kind} --plan {plan_id} --yes).")
    else:
        if args.all:
            ids = [p.id for p in list_projects(catalog)]
        else:
            ids = [project_named(catalog, args.project).id]
        plan_id = plan_cleanup(catalog, ids)
    return run_or_show(args, catalog, plan_id, "mediaclean clean")


def _statuses(catalog: Catalog, plan: Plan) -> Any:
    ids = sorted({p["project_id"] for p in plan.preconditions if "project_id" in p}
                 | {r[0] for r in catalog.conn.execute(
                     "SELECT DISTINCT project_id FROM plan_kept WHERE plan_id = ? AND grp = 'refused' "
                     "AND project_id IS NOT NULL", (plan.id,))})
    statuses = {str(i): get_project(catalog, i).cleanup_status for i in ids}
    return next(iter(statuses.values())) if len(statuses) == 1 else statuses


def run_or_show(args: argparse.Namespace, catalog: Catalog, plan_id: int, command: str) -> Outcome:
    """Show a stored plan (dry run), or run it with ``--yes``; exit 3 for a refused plan. The plan is read
    as a page (totals in SQL, the first items), once before and once after the run: never item by item."""
    plan = load_plan(catalog, plan_id, with_items=False)
    if plan.status == "refused" or not args.yes:
        names = {p.id: p.name for p in list_projects(catalog)}
        page = plan_page(catalog, plan_id, ITEMS_PAGE, plan)
        payload = plan_payload(page, None, _statuses(catalog, plan))
        if plan.status == "refused":
            return Outcome(payload, fmt.plan_text(page, names) + "\n\nRefused: nothing was deleted.", 3)
        hint = f"\n\nDry run: nothing was deleted. To run exactly this plan: {command} --plan {plan.id} --yes"
        return Outcome(payload, fmt.plan_text(page, names) + hint)
    result = execute_plan(catalog, plan.id, mode="trash" if getattr(args, "trash", False) else None,
                          confirm_large=getattr(args, "confirm_large", False))
    touched = sorted(result.project_status)
    if touched:
        scan_projects(catalog, touched)
    status: Any = {str(k): v for k, v in result.project_status.items()}
    if len(status) == 1:
        status = next(iter(status.values()))
    page = plan_page(catalog, plan.id, ITEMS_PAGE)
    return Outcome(plan_payload(page, result, status), run_text(result), 1 if result.failed else 0)


def auto_preview(catalog: Catalog, now: float | None = None) -> list[dict[str, Any]]:
    """What ``auto --yes`` would clean at ``now`` (seconds since the epoch): for each eligible project
    its new plan (a dry run: stored, not run) -- ``project_id``, ``project``, ``plan_id``,
    ``plan_status``, ``items``, ``bytes``, ``kept``, ``summary``, ``total_line``, ``dry_run``."""
    from ..core.auto import check_eligibility
    from ..core.projects import env_allows_auto_cleanup

    if not env_allows_auto_cleanup():
        return []
    now = time.time() if now is None else now
    prefs = catalog.prefs()
    out = []
    for project in list_projects(catalog):
        if not check_eligibility(catalog, project, prefs, now).eligible:
            continue
        plan = load_plan(catalog, plan_cleanup(catalog, [project.id], now=now), with_items=False)
        out.append({"project_id": project.id, "project": project.name, "dry_run": True, "plan_id": plan.id,
                    "plan_status": plan.status, "items": plan.item_count, "bytes": plan.total_bytes,
                    "kept": plan.kept_count, "summary": plan.summary,
                    "total_line": plan_page(catalog, plan.id, 0, plan).total_line()})
    return out


def cmd_auto(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    from ..core.projects import env_allows_auto_cleanup

    if not env_allows_auto_cleanup():
        return Outcome({"runs": [], "enabled": False, "dry_run": not args.yes},
                       "Auto-cleanup is off (AUTO_CLEANUP_ENABLED=false).")
    if not args.yes:
        previews = auto_preview(catalog)
        lines = []
        for entry in previews:
            if entry["plan_status"] == "ready":
                lines.append(f"{printable(entry['project'])}: {entry['total_line']} (plan {entry['plan_id']})")
            else:
                lines.append(f"{printable(entry['project'])}: would not be cleaned — {printable(entry['summary'])}")
        text = "\n".join(lines) or "No project is due for auto-cleanup."
        if previews:
            text += "\n\nDry run: nothing was deleted. To clean them: mediaclean auto --yes"
        return Outcome({"runs": previews, "enabled": True, "dry_run": True}, text)
    runs = run_auto_cleanup(catalog)
    if runs:
        scan_projects(catalog, [r["project_id"] for r in runs])
    lines = []
    for run in runs:
        if "summary" in run:
            lines.append(f"{printable(run['project'])}: {run['summary']}")
        else:
            why = str(run.get("refused") or run.get("error") or "")
            lines.append(f"{printable(run['project'])}: not cleaned — {printable(why)}")
    text = "\n".join(lines) or "No project is due for auto-cleanup."
    failed = any(r.get("failed") or r.get("error") for r in runs)
    return Outcome({"runs": runs, "enabled": True, "dry_run": False}, text, 1 if failed else 0)
