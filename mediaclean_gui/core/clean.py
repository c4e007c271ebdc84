"""F1 planner: project cleanup after the final render (seed 002), as a frozen plan streamed to the catalog."""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .catalog import Catalog, display_path
from .events import CancelToken, Progress
from .keeplist import KEPT_BY_YOU, KeepMatcher, matcher_for
from .plan import Action, KeptBack, PlanBuilder, PlanItem, Reason
from .profiles import ArtifactRule, Classified, Profile, Role, get_profile
from .projects import Project, all_artifacts, artifacts_of, get_project, list_projects
from .readiness import ReadinessCache
from .safety import check_target, fingerprint
from .walk import Entry, walk

DELETABLE = (Role.INTERMEDIATE,)

_UNKNOWN: Any = object()


class _RuleFacts(NamedTuple):
    """What the planner asks of a profile rule for every file it classifies (worked out once per rule)."""

    rule: ArtifactRule
    role: str  # the role's value
    protected: bool  # final or thumbnail: never deleted (invariant 1)
    deletable: bool  # a role project cleanup deletes
    shared: bool  # a provider cache file: deleted only when no project still needs it
    binds_project: bool  # the pattern names ``{project}``: the file belongs to that project only


@dataclass
class _References:
    """What the catalog's artifacts say, by path: who references which shared cache file and which
    intermediate, and what is protected (final, thumbnail) for whom."""

    shared: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    deletable: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    protected: dict[str, str] = field(default_factory=dict)
    by_project: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))  # shared and deletable

    @classmethod
    def load(cls, catalog: Catalog, everyone: dict[int, Project]) -> _References:
        from .protected import protected_paths

        refs = cls()
        refs.protected = protected_paths(catalog, keep_list=False)  # databases, the catalog, literal finals …
        for art in all_artifacts(catalog):
            if art.role is Role.SHARED_CACHE:
                refs.shared[art.path].add(art.project_id)
                refs.by_project[art.project_id].add(art.path)
            elif art.role in DELETABLE:
                refs.deletable[art.path].add(art.project_id)
                refs.by_project[art.project_id].add(art.path)
        return refs


def plan_cleanup(
    catalog: Catalog,
    project_ids: list[int],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    now: float | None = None,
) -> int:
    """Make and store the F1 plan for some projects; returns the plan id.

    Deletes nothing. For each project whose final output is complete (:func:`project_readiness`):
    its intermediates (scene audio, video segments, the assembly folder, by the profile's patterns
    and the imported references) and the shared cache files it references that no other project
    still needs (one whose final output is not complete). Kept back, with reasons: final and
    thumbnail, and whatever any profile used on the same workspace calls final or thumbnail
    (protected roles win, invariant 12); what the keep-list keeps ("kept by you", invariant 14);
    links on the way, mounts, unreadable folders. A project that is not ready gets no items (kept
    back with why); a plan in which no project is ready is stored as ``refused``.

    Items stream into the catalog in walk order (a folder after everything inside it), so memory does
    not grow with the number of files. ``now`` (seconds since the epoch) is when final outputs' settle
    time is measured (default the clock). Raises :class:`NotFound` for an unknown id, ``Cancelled``.
    """
    progress = progress or Progress()
    projects = [get_project(catalog, pid) for pid in project_ids]
    everyone = {p.id: p for p in list_projects(catalog)}
    readiness = ReadinessCache(catalog, now)
    with catalog.writer("plan cleanup"):
        refs = _References.load(catalog, everyone)
        builder = PlanBuilder(catalog, "clean", {"project_ids": [p.id for p in projects]})
        try:
            ready: list[Project] = []
            refused: list[str] = []
            for project in projects:
                verdict = readiness.of(project)
                if not verdict.ready:
                    assert verdict.reason is not None
                    builder.keep(KeptBack(verdict.where or project.root, verdict.reason,
                                          role=Role.FINAL.value if verdict.finals else "", detail=verdict.detail,
                                          project_id=project.id, group="refused"))
                    refused.append(project.name)
                    continue
                ready.append(project)
                for check in verdict.finals:
                    builder.preconditions.append({"path": check.path, "project_id": project.id,
                                                  "what": "final output", "fingerprint": check.fingerprint})
            groups: dict[tuple[str, str], list[Project]] = defaultdict(list)
            for project in ready:
                groups[(project.root, project.profile)].append(project)
            shared_roots = len({root for root, _ in groups}) < len(groups)
            by_root: dict[str, list[Project]] = defaultdict(list)
            for other in everyone.values():
                by_root[other.root].append(other)
            scope = 0
            for n, ((root, profile_name), members) in enumerate(groups.items()):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                progress.update(done=n, total=len(groups), current=display_path(root), phase="planning")
                collector = _GroupCollector(catalog, builder, root, get_profile(profile_name), members, everyone,
                                            by_root[root], readiness, refs, dedup=set() if shared_roots else None,
                                            cancel=cancel)
                collector.collect()
                scope += collector.scope
            builder.preconditions.append({"scope_bytes": scope})
            status = "refused" if refused and not ready else "ready"
            summary = f"{len(ready)} project(s) ready" + (f"; refused: {', '.join(refused)}" if refused else "")
            progress.update(done=len(groups), total=len(groups), phase="planned")
            return builder.finish(status, summary)
        except BaseException:
            builder.abandon()
            raise


def _merged(prefixes: list[str]) -> list[str]:
    out: list[str] = []
    for prefix in sorted(set(prefixes)):
        if any(m == "" or prefix == m or prefix.startswith(m + "/") for m in out):
            continue
        out.append(prefix)
    return out


class _GroupCollector:
    """One walk of one workspace root for the ready projects of one profile on it."""

    def __init__(self, catalog: Catalog, builder: PlanBuilder, root: str, profile: Profile, members: list[Project],
                 everyone: dict[int, Project], same_root: list[Project], readiness: ReadinessCache,
                 refs: _References, dedup: set[str] | None, cancel: CancelToken | None) -> None:
        self.catalog = catalog
        self.builder = builder
        self.root = root
        self.profile = profile
        self.members = members
        self.by_key = {p.key: p for p in members}
        self.member_ids = {p.id for p in members}
        self.everyone = everyone
        self.readiness = readiness
        self.refs = refs
        self.dedup = dedup
        self.cancel = cancel
        self.scope = 0
        self.blocked: set[str] = set()  # folders (relative) that hold something kept: never removed
        # projects of this layout on this root: every one of them owns what a rule without {project} matches
        self.same_root = same_root
        self.root_owners = [p for p in same_root if p.profile == profile.name]
        # other layouts used on the same root: their protected rules win too (invariant 12)
        self.foreign = [get_profile(name) for name in sorted({p.profile for p in same_root
                                                               if p.profile != profile.name})]
        # the keep-lists of the members that have one (an empty list is never asked)
        self.keeping: dict[int, KeepMatcher] = {p.id: m for p in members if (m := matcher_for(catalog, root, p.id))}
        self.member_refs: set[str] = set().union(*(refs.by_project.get(p.id, set()) for p in members))
        self.met: set[str] = set()
        self._facts: dict[int, _RuleFacts] = {}

    # -- the walk
    def collect(self) -> None:
        try:
            root_dev = os.lstat(self.root).st_dev
        except OSError as exc:
            for project in self.members:
                self._keep(self.root, Reason.UNREADABLE, f"the workspace cannot be read ({exc.strerror})", project)
            return
        prefixes = _merged([prefix for p in self.members for prefix in self.profile.walk_prefixes(p.key)])
        covering: dict[str, Classified | None] = {}
        count = 0
        for prefix in prefixes:
            for entry in walk(self.root, prefix, root_dev):
                count += 1
                if self.cancel is not None and count % 2000 == 0:
                    self.cancel.raise_if_cancelled()
                self._entry(entry, prefix, covering)
        for project in self.members:
            for art in artifacts_of(self.catalog, project.id):
                if art.path in self.met or art.role not in (*DELETABLE, Role.SHARED_CACHE):
                    continue
                self._reference(project, art.path, art.role, art.detail, root_dev)

    def _entry(self, entry: Entry, prefix: str, covering: dict[str, Classified | None]) -> None:
        kind = entry.kind
        if kind == "unreadable":
            self._keep(entry.path, Reason.UNREADABLE, entry.error, self.members[0])
            return
        if kind == "link" and (prefix == entry.rel or prefix.startswith(entry.rel + "/")):
            self._keep(entry.path, Reason.SYMLINK, f"the folder {display_path(entry.rel)} is a symbolic link; it is "
                                                   f"not followed", self.members[0])
            return
        found = None
        if kind == "file" or kind == "link":
            folder = entry.rel[: entry.rel.rfind("/")]
            found = covering.get(folder, _UNKNOWN)
            if found is _UNKNOWN:
                found = covering[folder] = self.profile.covering_folder(folder, None) if folder else None
        if found is None:
            found = self.profile.classify(entry.rel, None)
        st = entry.st
        if found is None or st is None:
            return
        if entry.path in self.member_refs:
            self.met.add(entry.path)
        facts = self._facts_of(found.rule)
        owner = self.by_key.get(found.fields.get("project"), _UNKNOWN) if facts.binds_project else None
        if owner is _UNKNOWN:
            return  # another project's file (not in this plan)
        first = owner if owner is not None else self.members[0]
        if kind == "mount":
            self._keep(entry.path, Reason.MOUNT_POINT, "another file system is mounted here; it is not crossed", first)
            return
        if kind == "file" or kind == "link":
            self.scope += st.st_size
        if facts.protected:
            if kind == "file":
                self._keep(entry.path, Reason.PROTECTED, f"{facts.role}: {found.rule.rule}", first,
                           st.st_size, facts.role)
            return
        if facts.deletable:
            if kind == "dir" and found.folder is None:
                return
            if kind not in ("file", "link", "dir"):
                return
            self._deletable(entry, found, owner, facts.role)
        elif facts.shared and kind in ("file", "link"):
            self._shared(entry.path, entry.rel, st, found.rule.rule)

    def _facts_of(self, rule: ArtifactRule) -> _RuleFacts:
        """What the planner asks of a rule for every file it classifies, worked out once per rule."""
        facts = self._facts.get(id(rule))
        if facts is None or facts.rule is not rule:  # the rule object itself is kept: an id is never reused
            role = rule.role
            facts = self._facts[id(rule)] = _RuleFacts(rule, role.value, role.protected, role in DELETABLE,
                                                       role is Role.SHARED_CACHE, "{project}" in rule.pattern)
        return facts

    # -- decisions
    def _guard(self, path: str, rel: str, owner: Project, size: int, role: str, *, walked: bool = True) -> bool:
        """Keep ``path`` back when anything protects it; ``True`` when it may be deleted. A path the walk met is
        in normal form by construction (names from the folder listing below the root); any other is checked."""
        problem = None if walked else check_target(path, self.root)
        if problem:
            self._keep(path, Reason.OUTSIDE_ROOT, f"refused: {problem}", owner, size, role)
            return False
        if path in self.refs.protected:
            self._keep(path, Reason.PROTECTED, self.refs.protected[path], owner, size, role)
            return False
        for other in self.foreign:
            found = other.classify(rel, None)
            if found is None:
                continue
            if found.role.protected:
                self._keep(path, Reason.PROTECTED, f"{found.role.value} in the '{other.name}' layout also used on "
                                                   f"this workspace", owner, size, found.role.value)
                return False
            claimant = self._claimant(other, found)
            if claimant is not None:  # another project's file by its own layout: only its own cleanup decides
                self._keep(path, Reason.REFERENCED, f"it belongs to project '{claimant.name}' (its "
                                                    f"'{other.name}' layout); that project's own cleanup decides",
                           owner, size, role)
                return False
        keeps = self.keeping.get(owner.id)
        why = keeps.why(rel) if keeps is not None else None
        if why:
            self._keep(path, Reason.EXCLUDED, why, owner, size, role, group=KEPT_BY_YOU)
            return False
        return True

    def _claimant(self, layout: Profile, found: Classified) -> Project | None:
        """The registered project on this root that ``layout`` says a path belongs to, if any."""
        if "{project}" in found.rule.pattern:
            key = found.fields.get("project")
            return next((p for p in self.same_root if p.profile == layout.name and p.key == key), None)
        return next((p for p in self.same_root if p.profile == layout.name), None)

    def _needy(self, refs: set[int], me: set[int]) -> str:
        """Projects among ``refs`` (other than ``me``) whose final output is not complete, as ``'A', 'B'``."""
        needing = [self.everyone[o] for o in sorted(refs - me) if o in self.everyone
                   and not self.readiness.of(self.everyone[o]).ready]
        return ", ".join(f"'{p.name}'" for p in needing)

    def _deletable(self, entry: Entry, found: Classified, owner: Project | None, role: str) -> None:
        st = entry.st
        assert st is not None
        folder = entry.kind == "dir"
        if owner is None:  # a rule without {project}: every project of this layout on the root owns it
            owners = {p.id for p in self.root_owners}
            names = self._needy(owners, set())
            if names:
                self._keep(entry.path, Reason.REFERENCED, f"it belongs to every project of this workspace, and "
                                                          f"{names} has no complete final output yet",
                           self.members[0], 0 if folder else st.st_size, role)
                return
            owner = self.members[0]
        if folder:
            if entry.rel in self.blocked or self._guarded_dir(entry, owner):
                return
            self._add(PlanItem(Action.DELETE_DIR, entry.path, 0, role, found.rule.rule, fingerprint(st),
                               self.root, owner.id, role))
            return
        if not self._guard(entry.path, entry.rel, owner, st.st_size, role):
            return
        others = self.refs.deletable.get(entry.path)
        names = self._needy(others, {owner.id}) if others else ""
        if names:  # invariant 1: nothing a project without its final output references is deleted
            self._keep(entry.path, Reason.REFERENCED, f"still needed by {names}, which has no complete final "
                                                      f"output yet", owner, st.st_size, role)
            return
        self._add_file(entry.path, st, role, found.rule.rule, owner)

    def _guarded_dir(self, entry: Entry, owner: Project) -> bool:
        """``True`` when a folder must stay (the keep-list keeps it, or it is not a normal path)."""
        return not self._guard(entry.path, entry.rel, owner, 0, Role.INTERMEDIATE.value)

    def _shared(self, path: str, rel: str, st: os.stat_result, rule: str, walked: bool = True) -> None:
        refs = self.refs.shared.get(path, set())
        mine = sorted(refs & self.member_ids)
        if not mine:
            if not refs:
                self._keep(path, Reason.UNREFERENCED_CACHE, "no imported project references this provider cache "
                                                            "file, so it may still be needed", self.members[0],
                           st.st_size, Role.SHARED_CACHE.value)
            return
        owner = self.everyone[mine[0]]
        names = self._needy(refs, set(mine))
        if names:
            self._keep(path, Reason.REFERENCED, f"still needed by {names}, which has no complete final output yet",
                       owner, st.st_size, Role.SHARED_CACHE.value)
            return
        if self._guard(path, rel, owner, st.st_size, Role.SHARED_CACHE.value, walked=walked):
            self._add_file(path, st, Role.SHARED_CACHE.value, rule, owner)

    def _add_file(self, path: str, st: os.stat_result, role: str, rule: str, owner: Project) -> None:
        size = st.st_size
        if stat.S_ISLNK(st.st_mode):  # a link holds no data: it frees nothing worth counting
            rule += " (a symbolic link: only the link is removed, never its target)"
            size = 0
        if self.dedup is not None:
            if path in self.dedup:
                return
            self.dedup.add(path)
        self.builder.add_path(Action.DELETE_FILE, path, size, role, rule, st, self.root, owner.id, role)

    def _add(self, item: PlanItem) -> None:
        if self.dedup is not None:
            if item.target in self.dedup:
                return
            self.dedup.add(item.target)
        self.builder.add(item)

    def _keep(self, path: str, reason: Reason, detail: str, owner: Project, size: int = 0, role: str = "",
              group: str = "") -> None:
        if self.dedup is not None:
            if path in self.dedup:
                return
            self.dedup.add(path)
        self.builder.keep(KeptBack(path, reason, size, role, detail, owner.id, group or role or reason.value))
        rel = os.path.relpath(path, self.root).replace(os.sep, "/") if path.startswith(self.root + os.sep) else ""
        while "/" in rel:  # a folder holding something kept is never removed
            rel = rel[: rel.rfind("/")]
            if rel in self.blocked:
                break
            self.blocked.add(rel)

    def _reference(self, project: Project, path: str, role: Role, detail: str, root_dev: int) -> None:
        """An imported reference the walk did not meet: check it on its own."""
        if check_target(path, self.root):
            self._keep(path, Reason.OUTSIDE_ROOT, f"{detail or role.value} points outside the workspace "
                                                  f"{display_path(self.root)}", project, 0, role.value)
            return
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        cursor = self.root
        for part in rel.split("/")[:-1]:
            cursor = os.path.join(cursor, part)
            try:
                st = os.lstat(cursor)
            except OSError:
                return  # a folder on the way is gone: nothing to delete
            if stat.S_ISLNK(st.st_mode):
                self._keep(path, Reason.SYMLINK, f"the folder {display_path(os.path.relpath(cursor, self.root))} on "
                                                 f"its way is a symbolic link", project, 0, role.value)
                return
            if st.st_dev != root_dev:
                self._keep(path, Reason.MOUNT_POINT, "it lies on another file system", project, 0, role.value)
                return
        try:
            st = os.lstat(path)
        except OSError:
            return
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            return
        found = self.profile.classify(rel, None)
        if found is not None and found.role.protected:
            self._keep(path, Reason.PROTECTED, f"{found.role.value}: {found.rule.rule}", project, st.st_size,
                       found.role.value)
            return
        rule = detail or f"{role.value} referenced by the generator database"
        if role is Role.SHARED_CACHE:
            self._shared(path, rel, st, rule, walked=False)
            return
        if not self._guard(path, rel, project, st.st_size, role.value, walked=False):
            return
        others = self.refs.deletable.get(path)
        names = self._needy(others, {project.id}) if others else ""
        if names:
            self._keep(path, Reason.REFERENCED, f"still needed by {names}, which has no complete final output yet",
                       project, st.st_size, role.value)
            return
        self._add_file(path, st, role.value, rule, project)

