"""F2: auto-cleanup of projects whose final output has appeared and settled (seeds 002, 000)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, parse_iso
from .clean import plan_cleanup
from .errors import KnownError
from .events import CancelToken, fs_log, log_event
from .execute import execute_plan
from .plan import load_plan
from .projects import Project, auto_cleanup_effective, env_allows_auto_cleanup, list_projects
from .readiness import project_readiness


@dataclass(frozen=True)
class Eligibility:
    project: Project
    eligible: bool
    reason: str


def check_eligibility(catalog: Catalog, project: Project, prefs: dict[str, Any], now: float) -> Eligibility:
    """Whether F2 should clean ``project`` now (``now`` in seconds since the epoch, UTC).

    Eligible when auto-cleanup is on for it; its final output appeared after it was registered, or
    the user has confirmed one cleanup of it, or switched auto-cleanup on for it by hand (else it is
    awaiting its first review); every final output is complete and has not changed for
    ``settle_seconds`` (invariant 13); and it has not been cleaned since the final output last changed.
    """
    if not auto_cleanup_effective(catalog, project, prefs):
        return Eligibility(project, False, "auto-cleanup is off")
    if project.awaiting_review:
        return Eligibility(project, False, "awaiting your first review: its final render was already there when "
                                           "it was added, so it is cleaned automatically only after you confirm "
                                           "one cleanup of it")
    if project.cleanup_status == "running":
        return Eligibility(project, False, "a cleanup is running")
    verdict = project_readiness(catalog, project, float(prefs["settle_seconds"]), now=now)
    if not verdict.ready:
        return Eligibility(project, False, verdict.detail)
    newest = max(os.lstat(f.path).st_mtime for f in verdict.finals)
    if project.cleanup_status == "complete" and project.cleanup_completed_at:
        if parse_iso(project.cleanup_completed_at).timestamp() >= newest:
            return Eligibility(project, False, "already cleaned")
    return Eligibility(project, True, "final output complete and settled")


def run_auto_cleanup(catalog: Catalog, *, now: float | None = None, cancel: CancelToken | None = None,
                     started_by: str = "auto") -> list[dict[str, Any]]:
    """Clean every eligible project without a preview; returns one dict per run:
    ``project_id``, ``project``, ``plan_id``, ``run_id``, ``deleted_count``, ``deleted_size_mb``,
    ``failed``, ``cleanup_status``, ``summary`` (or ``refused`` with the reason).

    ``AUTO_CLEANUP_ENABLED=false`` turns it off whatever the catalog says (seed 002 AC-009).
    A failure never raises to the caller (seed 002 AC-008).
    """
    if not env_allows_auto_cleanup():
        return []
    now = time.time() if now is None else now
    prefs = catalog.prefs()
    runs: list[dict[str, Any]] = []
    for project in list_projects(catalog):
        if cancel is not None and cancel.cancelled:
            break
        verdict = check_eligibility(catalog, project, prefs, now)
        if not verdict.eligible:
            continue
        entry: dict[str, Any] = {"project_id": project.id, "project": project.name}
        try:
            plan_id = plan_cleanup(catalog, [project.id], now=now)
            entry["plan_id"] = plan_id
            plan = load_plan(catalog, plan_id, with_items=False)
            if plan.status != "ready":
                entry["refused"] = plan.summary
                runs.append(entry)
                continue
            result = execute_plan(catalog, plan_id, started_by=started_by, cancel=cancel)
            entry.update(
                run_id=result.run_id,
                deleted_count=result.deleted_count,
                deleted_size_mb=result.deleted_size_mb,
                freed_bytes=result.freed_bytes,
                trashed_count=result.trashed_count,
                trashed_bytes=result.trashed_bytes,
                failed=result.failed,
                cleanup_status=result.project_status.get(project.id, project.cleanup_status),
                summary=result.summary_line(),
            )
        except KnownError as exc:
            entry["refused"] = exc.message
        except Exception as exc:  # AC-008: logged, never raised to the caller
            log_event(fs_log, logging.ERROR, "auto_cleanup_failed", project=project.name, error=repr(exc))
            fs_log.exception("auto-cleanup of %s failed", project.name)
            entry["error"] = str(exc)
        runs.append(entry)
    return runs
