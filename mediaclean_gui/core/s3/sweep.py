"""F4/F5 bucket retention sweeps: the streaming planner, the seed 004 summary, bucket usage by prefix and age.

The executor lives in :mod:`sweep_run` (re-exported here for the command line); what both need
(client, listing, versioning, the seed 004 sentence) is in :mod:`listing`, the catalog's
protections in :mod:`protections`, so neither imports the other's module back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog, iso, parse_iso, utcnow
from ..errors import ConfigError, NotFound
from ..events import CancelToken, Progress, log_event, s3_log
from ..plan import KeptBack, PlanBuilder, PlanItem, iter_items, load_plan
from ..profiles import get_profile
from .listing import is_store_error, list_objects, read_versioning, sweep_client, sweep_message, versioning_notes
from .pipeline import ClipRef, PipelineLink, open_pipeline
from .protections import PageProtections, protect_keys, unprotect_keys
from .remote import Remote, explain_s3_error, get_remote
from .retention import Facts, ListedObject, RetentionPolicy, decide
from .sweep_run import execute_sweep_plan, reconcile_interrupted_sweeps

MB = 1_000_000  # SI: 1 MB = 1,000,000 bytes, as every size mediaclean shows
SAMPLE_SIZE = 10
PAGE_SIZE = 1000  # keys per list_objects_v2 page (the most S3 returns)
#: Age buckets of the usage picture: (label, upper bound in days).
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under 1 day", 1), ("1–5 days", 5), ("5–30 days", 30), ("over 30 days", float("inf")),
)
MAX_USAGE_PREFIXES = 50
OTHER_PREFIXES = "(other prefixes)"


def _age_bucket(age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    for label, upper in AGE_BUCKETS:
        if days < upper:
            return label
    return AGE_BUCKETS[-1][0]


class UsageCounter:
    """Bytes and objects by top-level prefix and age bucket; at most :data:`MAX_USAGE_PREFIXES` prefixes."""

    def __init__(self, as_of: dt.datetime) -> None:
        self.as_of = as_of
        self.cells: dict[str, dict[str, list[int]]] = {}

    def add(self, obj: ListedObject) -> None:
        prefix = obj.top_prefix
        if prefix not in self.cells and len(self.cells) >= MAX_USAGE_PREFIXES:
            prefix = OTHER_PREFIXES
        cell = self.cells.setdefault(prefix, {}).setdefault(_age_bucket(self.as_of - obj.last_modified), [0, 0])
        cell[0] += 1
        cell[1] += obj.size

    def as_bytes(self) -> dict[str, dict[str, int]]:
        return {p: {b: v[1] for b, v in ages.items()} for p, ages in sorted(self.cells.items())}

    def save(self, catalog: Catalog, remote: Remote) -> None:
        now = iso()
        with catalog.transaction() as conn:
            conn.execute("DELETE FROM bucket_usage WHERE remote_id = ?", (remote.id,))
            conn.executemany(
                "INSERT INTO bucket_usage(remote_id, taken_at, as_of, prefix, age_bucket, objects, bytes) "
                "VALUES (?,?,?,?,?,?,?)",
                [(remote.id, now, iso(self.as_of), p, b, v[0], v[1])
                 for p, ages in self.cells.items() for b, v in ages.items()],
            )


def bucket_usage(
    catalog: Catalog,
    remote_name: str,
    *,
    as_of: dt.datetime | None = None,
    refresh: bool = True,
    client: Any = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, dict[str, int]]:
    """The bucket's usage under the remote's prefix: ``{top-level prefix: {age bucket: bytes}}``.

    Prefixes are ``"clips/"``, ``"uploads/"``…, ``""`` for keys at the top level; age
    buckets are the labels of :data:`AGE_BUCKETS` measured at ``as_of`` (default now).
    With ``refresh`` (default) the bucket is listed (streaming, one request per 1,000
    objects) and the snapshot stored; without it the last stored snapshot (from a
    sweep preview or an earlier listing) is returned, ``{}`` if there is none.
    Raises :class:`S3Error` (one sentence) for store errors, ``Cancelled`` on cancel.
    """
    remote = get_remote(catalog, remote_name)
    if not refresh:
        rows = catalog.conn.execute("SELECT prefix, age_bucket, bytes FROM bucket_usage WHERE remote_id = ? "
                                    "ORDER BY prefix", (remote.id,)).fetchall()
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["prefix"], {})[r["age_bucket"]] = int(r["bytes"])
        return out
    progress = progress or Progress()
    counter = UsageCounter((as_of or utcnow()).astimezone(dt.timezone.utc))
    try:
        client = client or sweep_client(remote)
        for page in list_objects(client, remote):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for obj in page:
                counter.add(obj)
            progress.update(done=progress.done + len(page), phase="listing",
                            current=page[-1].key if page else "")
    except Exception as exc:  # noqa: BLE001 — store errors become one sentence
        if is_store_error(exc):
            raise explain_s3_error(exc, remote, "Usage listing") from None
        raise
    with catalog.writer("bucket usage"):
        counter.save(catalog, remote)
    return counter.as_bytes()


# ---------------------------------------------------------------- the planner


@dataclass
class _Tally:
    """Counters the planner keeps instead of the objects (memory does not grow with the bucket)."""

    scanned: int = 0
    scanned_bytes: int = 0
    delete_count: int = 0
    delete_bytes: int = 0
    f5_count: int = 0
    kept_count: int = 0
    kept_bytes: int = 0
    kept_clips: int = 0
    kept_by_reason: dict[str, int] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)
    only_copies: int = 0


def plan_sweep(
    catalog: Catalog,
    remote_name: str,
    *,
    retention_days: int | None = None,
    as_of: dt.datetime | str | None = None,
    grace_hours: int | None = None,
    client: Any = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Make a sweep plan (kind ``sweep``) of remote ``remote_name`` and return its plan id. Nothing is deleted.

    Lists every object under the remote's prefix with the ``list_objects_v2``
    paginator and applies :func:`retention.decide` to each (seed 004, SPEC F4/F5):
    clips kept for ``retention_days`` (default: preference ``retention_days``, 5),
    completed clips the linked pipeline database records within retention kept,
    objects the catalog marks protected kept, sources of unfinished jobs kept,
    sources of finished jobs deleted (group ``job sources``), other objects
    deleted once older than ``grace_hours`` (preference ``grace_hours``, 24).
    Ages are measured at ``as_of`` (UTC; default now). Items stream into the
    catalog in batches; only counters and a 10-key sample stay in memory.
    Each item's fingerprint is the object's ETag, LastModified and size.

    Raises :class:`NotFound` (no such remote), :class:`ConfigError` (bad values,
    unreadable pipeline database), :class:`S3Error` (credentials, missing
    bucket, unreachable store: one sentence), ``Cancelled`` (the partial plan is
    removed).
    """
    remote = get_remote(catalog, remote_name)
    prefs = catalog.prefs()
    days = int(prefs["retention_days"] if retention_days is None else retention_days)
    hours = int(prefs["grace_hours"] if grace_hours is None else grace_hours)
    if days < 0 or hours < 0:
        raise ConfigError("The retention period and the grace period must not be negative.")
    when = parse_iso(as_of) if isinstance(as_of, str) else (as_of or utcnow())
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    policy = RetentionPolicy(days, hours, when.astimezone(dt.timezone.utc))
    profile = get_profile(remote.layout)
    progress = progress or Progress()

    client = client or sweep_client(remote)
    versioning = read_versioning(client, remote, "Sweep")

    link = open_pipeline(remote.pipeline_db, profile) if remote.pipeline_db else None
    try:
        jobs = link.job_counts() if link is not None else {}
        protected = PageProtections(catalog, remote, policy.as_of)
        params = {"remote": remote.name, "remote_id": remote.id, "bucket": remote.bucket, "prefix": remote.prefix,
                  "endpoint_url": remote.endpoint_url, **policy.as_json(),
                  "pipeline_db": remote.pipeline_db, "versioning": versioning,
                  "upload_retention_days": remote.upload_retention_days}
        with catalog.writer("plan sweep"):
            builder = PlanBuilder(catalog, "sweep", params)
            try:
                tally, usage = _walk(client, remote, policy, profile, builder, link, protected,
                                     progress, cancel)
            except BaseException as exc:
                builder.abandon()
                if is_store_error(exc):
                    raise explain_s3_error(exc, remote, "Sweep") from None
                raise
            stats = {
                "total_files_scanned": tally.scanned, "scanned_bytes": tally.scanned_bytes,
                "deleted_count": tally.delete_count, "deleted_bytes": tally.delete_bytes,
                "f5_count": tally.f5_count, "retained_count": tally.kept_count, "retained_bytes": tally.kept_bytes,
                "retained_clips": tally.kept_clips, "kept_by_reason": tally.kept_by_reason,
                "deleted_files_sample": tally.sample, "jobs": jobs,
                "only_copies_kept": tally.only_copies, "only_copies_released": protected.released,
            }
            builder.preconditions.append({"remote_id": remote.id, "bucket": remote.bucket, "prefix": remote.prefix,
                                          "scope_objects": tally.scanned, "scope_bytes": tally.scanned_bytes})
            params["stats"] = stats
            catalog.conn.execute("UPDATE plans SET params = ? WHERE id = ?", (json.dumps(params), builder.plan_id))
            plan_id = builder.finish("ready", sweep_message(tally.delete_count, tally.delete_bytes, tally.kept_count,
                                                      tally.kept_clips, dry_run=True))
            usage.save(catalog, remote)
    finally:
        if link is not None:
            link.close()
    log_event(s3_log, logging.INFO, "sweep_planned", plan_id=plan_id, remote=remote.name,
              scanned=tally.scanned, delete=tally.delete_count, kept=tally.kept_count)
    return plan_id


def _walk(client: Any, remote: Remote, policy: RetentionPolicy, profile: Any, builder: PlanBuilder,
          link: PipelineLink | None, protected: PageProtections,
          progress: Progress, cancel: CancelToken | None) -> tuple[_Tally, UsageCounter]:
    tally = _Tally()
    usage = UsageCounter(policy.as_of)
    progress.update(done=0, total=0, bytes_done=0, phase="listing", current="")
    for page in list_objects(client, remote):
        if cancel is not None:
            cancel.raise_if_cancelled()
        # every look-up is per page and order-free: a store may list keys in any order (invariant 15)
        marks = protected.lookup([(obj.key, obj.rel) for obj in page])
        rels = [obj.rel for obj in page]
        clips = link.clips_for(rels) if link is not None else {}
        sources = link.sources_for(rels) if link is not None else {}
        for obj in page:
            tally.scanned += 1
            tally.scanned_bytes += obj.size
            usage.add(obj)
            mark = marks.get(obj.key)
            facts = Facts(protected=mark.detail if mark is not None and not mark.only_copy else None,
                          only_copy=mark.detail if mark is not None and mark.only_copy else None,
                          completed_clip=_keeping_clip(clips.get(obj.rel, [])),
                          sources=tuple(sources.get(obj.rel, ())))
            verdict = decide(obj, policy, profile, facts)
            if verdict.delete:
                tally.delete_count += 1
                tally.delete_bytes += obj.size
                tally.f5_count += verdict.f5
                if len(tally.sample) < SAMPLE_SIZE:
                    tally.sample.append(obj.key)
                builder.add_object(obj.key, obj.size, verdict.role, verdict.rule, obj.fingerprint_json(),
                                   remote.bucket, verdict.group)
            else:
                assert verdict.reason is not None
                tally.kept_count += 1
                tally.kept_bytes += obj.size
                if verdict.role == "output":
                    tally.kept_clips += 1
                tally.kept_by_reason[verdict.reason.value] = tally.kept_by_reason.get(verdict.reason.value, 0) + 1
                tally.only_copies += facts.only_copy is not None
                builder.keep(KeptBack(obj.key, verdict.reason, obj.size, verdict.role, verdict.detail,
                                      group=verdict.group))
        progress.update(done=tally.scanned, bytes_done=tally.scanned_bytes,
                        current=page[-1].key if page else progress.current)
    return tally, usage


def _keeping_clip(found: list[ClipRef]) -> ClipRef | None:
    """Of several clip rows for one key, the one that keeps the object longest: one whose date cannot be read
    (invariant 15), else the newest."""
    if not found:
        return None
    unreadable = [c for c in found if c.created_at is None]
    if unreadable:
        return unreadable[0]
    return max(found, key=lambda c: c.created_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc))


# ---------------------------------------------------------------- the seed 004 summary


@dataclass
class SweepSummary:
    """The seed 004 result fields of a sweep plan (dry run) or run, plus ``plan_id`` and ``errors``.

    ``deleted_size_mb`` is MB (SI: 1,000,000 bytes) with two decimals; on a versioned
    bucket a run frees nothing at once (delete markers), so it reports 0 freed
    and says so in ``message``.
    """

    success: bool
    message: str
    deleted_count: int
    deleted_size_mb: float
    retained_count: int
    total_files_scanned: int
    dry_run: bool
    deleted_files_sample: list[str]
    retention_days: int
    plan_id: int
    errors: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = {
            "success": self.success, "message": self.message, "deleted_count": self.deleted_count,
            "deleted_size_mb": self.deleted_size_mb, "retained_count": self.retained_count,
            "total_files_scanned": self.total_files_scanned, "dry_run": self.dry_run,
            "deleted_files_sample": self.deleted_files_sample, "retention_days": self.retention_days,
            "plan_id": self.plan_id, "errors": self.errors,
        }
        out.update(self.extra)
        return out


def plan_stats(catalog: Catalog, plan_id: int) -> dict[str, Any]:
    """The stored counters of a sweep plan (see :func:`plan_sweep`); :class:`NotFound` if it is not one."""
    plan = load_plan(catalog, plan_id, with_items=False)
    if plan.kind != "sweep":
        raise NotFound(f"Plan {plan_id} is a {plan.kind} plan, not a sweep plan.")
    stats: dict[str, Any] = plan.params.get("stats", {})
    return stats


def sweep_summary(catalog: Catalog, plan_id: int) -> SweepSummary:
    """The seed 004 fields for a stored sweep plan as a dry run, for the selected items."""
    plan = load_plan(catalog, plan_id, with_items=False)
    stats = plan_stats(catalog, plan_id)
    row = catalog.conn.execute(
        "SELECT count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_items WHERE plan_id = ? AND selected = 1",
        (plan_id,)).fetchone()
    excluded = plan.item_count - row["n"]
    kept = stats.get("retained_count", plan.kept_count) + excluded
    sample = [i.target for i in _first_selected(catalog, plan_id, SAMPLE_SIZE)]
    return SweepSummary(
        success=True,
        message=sweep_message(row["n"], row["b"], kept, stats.get("retained_clips", 0), dry_run=True),
        deleted_count=row["n"],
        deleted_size_mb=round(row["b"] / MB, 2),
        retained_count=kept,
        total_files_scanned=stats.get("total_files_scanned", 0),
        dry_run=True,
        deleted_files_sample=sample,
        retention_days=int(plan.params.get("retention_days", 5)),
        plan_id=plan_id,
        extra=_extra(plan.params, stats, plan_id, catalog),
    )


def _first_selected(catalog: Catalog, plan_id: int, n: int) -> list[PlanItem]:
    out = []
    for item in iter_items(catalog, plan_id, batch=max(n, 100)):
        if item.selected:
            out.append(item)
            if len(out) >= n:
                break
    return out


def _extra(params: dict[str, Any], stats: dict[str, Any], plan_id: int, catalog: Catalog) -> dict[str, Any]:
    return {
        "remote": params.get("remote"),
        "bucket": params.get("bucket"),
        "prefix": params.get("prefix"),
        "as_of": params.get("as_of"),
        "grace_hours": params.get("grace_hours"),
        "versioning": params.get("versioning"),
        "kept_by_reason": stats.get("kept_by_reason", {}),
        "job_sources_f5": stats.get("f5_count", 0),
        "only_copies_kept": stats.get("only_copies_kept", 0),
        "only_copies_released": stats.get("only_copies_released", 0),
        "groups": plan_groups(catalog, plan_id),
        "notes": versioning_notes(params.get("versioning", ""), str(params.get("remote", ""))),
    }


def plan_groups(catalog: Catalog, plan_id: int) -> dict[str, Any]:
    """The preview's groups: ``{"delete": [{group, count, bytes}], "kept": [{group, reason, count, bytes}]}``."""
    delete = [
        {"group": r["grp"], "count": r["n"], "bytes": r["b"]}
        for r in catalog.conn.execute(
            "SELECT grp, count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_items WHERE plan_id = ? "
            "AND selected = 1 GROUP BY grp ORDER BY grp", (plan_id,))
    ]
    kept = [
        {"group": r["grp"], "reason": r["reason"], "count": r["n"], "bytes": r["b"]}
        for r in catalog.conn.execute(
            "SELECT grp, reason, count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_kept WHERE plan_id = ? "
            "GROUP BY grp, reason ORDER BY grp, reason", (plan_id,))
    ]
    return {"delete": delete, "kept": kept}



__all__ = [
    "AGE_BUCKETS", "SweepSummary", "bucket_usage", "execute_sweep_plan",
    "list_objects", "plan_groups", "plan_stats", "plan_sweep", "protect_keys", "reconcile_interrupted_sweeps",
    "sweep_summary", "unprotect_keys", "versioning_notes",
]
