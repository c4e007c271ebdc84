"""Whether a project may be cleaned now (SPEC F1's precondition, invariants 1, 11, 13): its final outputs
exist, are complete videos and have settled. Asked by the planner, the scan (what is reclaimable) and
auto-cleanup."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from .catalog import Catalog
from .finals import FinalCheck, FinalState, check_final
from .plan import Reason
from .profiles import Profile, Role, get_profile
from .projects import Project, artifacts_of
from .safety import bad_placeholder_value


def final_outputs(catalog: Catalog, project: Project, profile: Profile) -> list[str]:
    """Absolute paths of the project's final output(s): imported ``rendered_videos`` rows, else the
    profile's ``final`` template with ``{project}`` bound (nothing when the id cannot be bound safely)."""
    finals = [a.path for a in artifacts_of(catalog, project.id) if a.role is Role.FINAL]
    if finals:
        return finals
    if profile.final is not None and "{project}" in profile.final and bad_placeholder_value(project.key):
        return []
    rel = profile.final_path(project.key)
    return [os.path.join(project.root, rel)] if rel else []


def final_present(path: str) -> bool:
    """The final output exists as a regular file (a link or a folder does not count). Presence only:
    :func:`core.finals.check_final` says whether it is complete."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):  # ValueError: a NUL in a path from a database
        return False


@dataclass(frozen=True)
class Readiness:
    """Whether a project may be cleaned now: ``ready``, else ``reason`` and ``detail`` (a sentence);
    ``finals`` are the checks of its final outputs."""

    ready: bool
    reason: Reason | None = None
    detail: str = ""
    finals: tuple[FinalCheck, ...] = ()

    @property
    def where(self) -> str:
        """The path a refusal is about (the first final output that is not complete)."""
        return next((f.path for f in self.finals if not f.complete), self.finals[0].path if self.finals else "")


def project_readiness(catalog: Catalog, project: Project, settle_seconds: float, *,
                      now: float | None = None) -> Readiness:
    """F1's precondition for one project (invariants 1, 11, 13): its id can be bound into its
    profile's paths, its profile or database names a final output, and every final output is a
    complete video (``ffprobe``) unchanged for ``settle_seconds`` at ``now`` (seconds since the epoch;
    default the clock)."""
    profile = get_profile(project.profile)
    bad = bad_placeholder_value(project.key)
    if bad and (profile.uses_project or (profile.final or "").count("{project}")):
        return Readiness(False, Reason.UNSAFE_NAME, f"the project id of '{project.name}' cannot be used in its "
                                                    f"folders: {bad}; nothing of it is deleted")
    finals = final_outputs(catalog, project, profile)
    if not finals:
        if profile.final is None:
            return Readiness(False, Reason.NO_FINAL_RULE, f"the '{profile.name}' layout has no final output, so "
                                                          f"project cleanup does not apply")
        return Readiness(False, Reason.FINAL_MISSING, f"project '{project.name}' has no final output yet; "
                                                      f"nothing of it is deleted")
    checks = tuple(check_final(catalog, f, settle_seconds, now=now) for f in finals)
    for check in checks:
        if check.state is FinalState.MISSING:
            return Readiness(False, Reason.FINAL_MISSING, f"project '{project.name}' has no final output yet; "
                                                          f"nothing of it is deleted", checks)
    for check in checks:
        if check.state is FinalState.INCOMPLETE:
            return Readiness(False, Reason.FINAL_INCOMPLETE, f"{check.reason}; nothing of project "
                                                             f"'{project.name}' is deleted", checks)
        if check.state is FinalState.SETTLING:
            return Readiness(False, Reason.IN_USE, f"{check.reason}; nothing of project '{project.name}' is "
                                                   f"deleted yet", checks)
    return Readiness(True, finals=checks)


class ReadinessCache:
    """:func:`project_readiness` asked once per project per plan (other projects' readiness decides
    whether a shared file is still needed)."""

    def __init__(self, catalog: Catalog, now: float | None = None) -> None:
        self.catalog = catalog
        self.settle = float(catalog.pref("settle_seconds"))
        self.now = now
        self._seen: dict[int, Readiness] = {}

    def of(self, project: Project) -> Readiness:
        found = self._seen.get(project.id)
        if found is None:
            found = self._seen[project.id] = project_readiness(self.catalog, project, self.settle, now=self.now)
        return found
