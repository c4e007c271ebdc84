"""``mediaclean schedule status|run-due|run|roots``: the periodic jobs (the systemd timer's entry point).

``run-due`` and ``run`` follow the ``--yes`` rule of every destructive command: without it
they say which jobs are due and what each would do (the plans they would run), and
nothing changes -- not even the jobs' schedule.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..core.catalog import Catalog
from ..core.errors import KnownError, SafetyRefusal
from ..core.orphans import plan_orphans
from ..core.plan import load_plan
from ..core.projects import list_projects
from ..core.roots import TEMP_ROOT, BroadRoot, check_root
from ..core.scheduler import Job, Scheduler, add_temp_root, recent_events, remove_temp_root, temp_roots
from ..core.tempclean import plan_temp
from ..core.text import printable
from . import Outcome, argtypes, fmt
from .clean import auto_preview


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    schedule = sub.add_parser("schedule", parents=[common], help="periodic jobs: status, run what is due, temp roots")
    ssub = schedule.add_subparsers(dest="schedule_command", metavar="ACTION")
    ssub.required = True
    status = ssub.add_parser("status", parents=[common], help="each job's interval, last run and next due time")
    status.add_argument("--events", type=argtypes.count, default=10, metavar="N", help="also show the last N events")
    status.set_defaults(handler=cmd_schedule_status)
    due = ssub.add_parser("run-due", parents=[common],
                          help="run every job that is due (the systemd timer's entry point); without --yes, "
                          "only say what they would do")
    due.add_argument("--yes", action="store_true", help="run the due jobs; without it nothing changes")
    due.set_defaults(handler=cmd_schedule_run_due)
    run = ssub.add_parser("run", parents=[common], help="run one job now, due or not; without --yes, only say "
                          "what it would do")
    run.add_argument("job", choices=[j.value for j in Job], metavar="JOB", help="auto, temp, orphans or sweep")
    run.add_argument("--yes", action="store_true", help="run the job; without it nothing changes")
    run.set_defaults(handler=cmd_schedule_run)
    roots = ssub.add_parser("roots", parents=[common], help="list, add or remove the temp roots the temp job visits")
    roots.add_argument("--add", action="append", default=[], type=argtypes.path, metavar="ROOT",
                       help="a folder the temp job sweeps (not /, a home folder or a system folder)")
    roots.add_argument("--remove", action="append", default=[], type=argtypes.path, metavar="ROOT")
    roots.set_defaults(handler=cmd_schedule_roots)


def _schedule_text(scheduler: Scheduler) -> str:
    rows = []
    for state in scheduler.states():
        rows.append([
            state.job.value,
            f"{state.interval_minutes} min" if state.enabled else "off",
            fmt.ago(state.as_json()["last_run_at"]),
            state.as_json()["next_due_at"] or ("now" if state.enabled else "-"),
            state.last_status or "-",
            state.last_summary[:60],
        ])
    return fmt.table(rows, ["JOB", "EVERY", "LAST RUN", "NEXT DUE (UTC)", "STATUS", "SUMMARY"])


def cmd_schedule_status(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    scheduler = Scheduler(catalog)
    events = recent_events(catalog, args.events)
    text = _schedule_text(scheduler)
    if events:
        text += "\n\nRecent events:\n" + "\n".join(
            f"  {e['at']}  {e['job']:<8} {e['kind']:<6}  {printable(e['summary'])}" for e in events)
    return Outcome({"jobs": [s.as_json() for s in scheduler.states()], "events": events,
                    "temp_roots": temp_roots(catalog)}, text)


# ---------------------------------------------------------------- what a job would do (no --yes)


def _plan_line(catalog: Catalog, plan_id: int) -> dict[str, Any]:
    plan = load_plan(catalog, plan_id, with_items=False)
    return {"plan_id": plan.id, "plan_status": plan.status, "items": plan.item_count, "bytes": plan.total_bytes,
            "kept": plan.kept_count, "summary": plan.summary}


def _would(job: Job, catalog: Catalog, now: dt.datetime) -> list[dict[str, Any]]:
    """The plans ``job`` would run at ``now``, made (and stored, like every dry run) but not run."""
    out: list[dict[str, Any]] = []
    if job is Job.AUTO:
        for entry in auto_preview(catalog, now.timestamp()):
            out.append({"what": entry["project"], **{k: v for k, v in entry.items() if k != "project"}})
    elif job is Job.TEMP:
        for root in temp_roots(catalog):
            try:
                out.append({"what": root, **_plan_line(catalog, plan_temp(catalog, root, now=now))})
            except KnownError as exc:
                out.append({"what": root, "error": exc.message})
    elif job is Job.ORPHANS:
        ids = [p.id for p in list_projects(catalog)]
        if ids:
            out.append({"what": "every project (report only: the orphan job never deletes)",
                        **_plan_line(catalog, plan_orphans(catalog, ids, now=now))})
    elif job is Job.SWEEP:
        from ..core.s3.remote import list_remotes
        from ..core.s3.sweep import plan_sweep

        for name in sorted(r.name for r in list_remotes(catalog)):
            try:
                out.append({"what": f"remote {name}", **_plan_line(catalog, int(plan_sweep(catalog, name, as_of=now)))})
            except KnownError as exc:
                out.append({"what": f"remote {name}", "error": exc.message})
    return out


def _preview_outcome(catalog: Catalog, jobs: list[tuple[Job, int]], now: dt.datetime, command: str,
                     empty: str) -> Outcome:
    due = []
    lines = []
    for job, missed in jobs:
        plans = _would(job, catalog, now)
        due.append({"job": job.value, "title": job.label, "missed": missed, "would": plans})
        lines.append(f"{job.label}:" if plans else f"{job.label}: nothing to do")
        for entry in plans:
            if "error" in entry:
                lines.append(f"  {printable(entry['what'])}: {printable(entry['error'])}")
            elif entry.get("plan_status") not in (None, "ready"):
                lines.append(f"  {printable(entry['what'])}: not run — {printable(entry.get('summary') or '')}")
            else:
                lines.append(f"  {printable(entry['what'])}: plan {entry['plan_id']}, {entry['items']} item(s), "
                             f"{fmt.size(entry['bytes'])}, {entry['kept']} kept")
    text = "\n".join(lines) or empty
    if jobs:
        text += f"\n\nDry run: nothing was deleted and the schedule is unchanged. To run: {command} --yes"
    return Outcome({"dry_run": True, "due": due, "reports": []}, text)


def _reports_outcome(reports: list[Any], empty: str) -> Outcome:
    text = "\n\n".join(f"{r.title}:\n{r.message()}" for r in reports) or empty
    failed = any(r.status == "failed" for r in reports)
    return Outcome({"dry_run": False, "reports": [r.as_json() for r in reports]}, text, 1 if failed else 0)


def cmd_schedule_run_due(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    scheduler = Scheduler(catalog)
    if not args.yes:
        now = scheduler.now()
        jobs = [(d.job, d.missed) for d in scheduler.due_jobs(now)]
        return _preview_outcome(catalog, jobs, now, "mediaclean schedule run-due", "No job is due.")
    return _reports_outcome(scheduler.run_due(), "No job is due.")


def cmd_schedule_run(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    scheduler = Scheduler(catalog)
    if not args.yes:
        return _preview_outcome(catalog, [(Job(args.job), 0)], scheduler.now(), f"mediaclean schedule run {args.job}",
                                "")
    return _reports_outcome([scheduler.run_job(Job(args.job))], "")


def cmd_schedule_roots(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    for root in args.add:
        try:
            check_root(root, TEMP_ROOT)
        except BroadRoot as exc:
            # a scheduled job has no one to confirm it: such a root is only ever swept by hand
            raise SafetyRefusal(exc.message.split(": choose")[0] + ": a scheduled job never sweeps such a folder, "
                                "so choose the folder your renderer writes its temp folders to, or sweep this one by "
                                "hand with 'mediaclean temp ROOT --allow-broad-root'.") from None
    with catalog.writer("schedule roots"):
        added = [add_temp_root(catalog, root) for root in args.add]
        removed = [root for root in args.remove if remove_temp_root(catalog, root)]
    unknown = [root for root in args.remove if root not in removed]
    roots = temp_roots(catalog)
    lines = [f"added: {printable(r)}" for r in added] + [f"removed: {printable(r)}" for r in removed] + \
        [f"not registered: {printable(r)}" for r in unknown]
    lines.append("Temp roots: " + (", ".join(map(printable, roots)) if roots else "none"))
    return Outcome({"temp_roots": roots, "added": added, "removed": removed, "not_registered": unknown},
                   "\n".join(lines))
