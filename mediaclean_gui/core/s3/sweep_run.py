"""Run a stored sweep plan exactly: journal first, DeleteObjects in batches with per-key re-checks, record each outcome."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog, from_db_path, iso, parse_iso
from ..errors import ConfigError, NotFound, SafetyRefusal
from ..events import CancelToken, Progress, log_event, s3_log
from ..plan import Action, PlanItem, iter_items, load_plan
from .listing import is_store_error, read_versioning, sweep_client, sweep_message, versioning_notes
from .protections import PageProtections
from .remote import Remote, S3Error, error_code, explain_s3_error, get_remote

MB = 1_000_000  # SI: 1 MB = 1,000,000 bytes, as every size mediaclean shows
BATCH = 1000  # DeleteObjects takes at most 1,000 keys
CONCURRENCY = 2  # DeleteObjects requests in flight at once
KEEP_DETAILS = 200  # failed/skipped entries kept in memory for the result; the catalog has them all
IN_FLIGHT = "in flight"
_RETRY_KEY_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "OperationAborted"}
_KEY_RETRIES = 2


@dataclass
class SweepRunResult:
    """What a sweep run did (seed 004 fields through :meth:`as_json`).

    ``freed_bytes`` counts only what was really removed (invariant 7): on a
    versioned bucket a delete adds a delete marker and frees nothing at once,
    so it stays 0 there and ``hidden_bytes`` says how much went behind markers.
    ``failed``/``skipped`` hold the first entries (``target``, ``error``/``reason``);
    the counts and the catalog's run items hold all of them.
    """

    run_id: int
    plan_id: int
    status: str
    mode: str
    remote: str
    versioning: str
    conditional: bool
    retention_days: int
    total_files_scanned: int
    retained_count: int
    retained_clips: int
    deleted_count: int = 0
    deleted_bytes: int = 0
    freed_bytes: int = 0
    already_gone: int = 0
    failed_count: int = 0
    skipped_count: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def markers(self) -> bool:
        return self.mode == "delete_marker"

    @property
    def deleted_size_mb(self) -> float:
        return round(self.freed_bytes / MB, 2)

    def summary_line(self) -> str:
        """Seed 004: ``Deleted 150 files (1234.56 MB), retained 25 recent clips``."""
        kept = self.retained_count + self.skipped_count
        line = sweep_message(self.deleted_count, self.deleted_bytes, kept, self.retained_clips, dry_run=False,
                        markers=self.markers)
        if self.already_gone:
            line += f"; {self.already_gone} already gone"
        if self.failed_count:
            line += f"; {self.failed_count} failed"
        if self.status == "cancelled":
            line += " (cancelled)"
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "success": self.failed_count == 0 and self.status == "complete",
            "message": self.summary_line(),
            "deleted_count": self.deleted_count,
            "deleted_size_mb": self.deleted_size_mb,
            "retained_count": self.retained_count + self.skipped_count,
            "total_files_scanned": self.total_files_scanned,
            "dry_run": False,
            "deleted_files_sample": self.sample,
            "retention_days": self.retention_days,
            "plan_id": self.plan_id,
            "errors": [{"key": f["target"], "error": f["error"]} for f in self.failed],
            "run_id": self.run_id,
            "status": self.status,
            "mode": self.mode,
            "remote": self.remote,
            "versioning": self.versioning,
            "conditional_deletes": self.conditional,
            "freed_bytes": self.freed_bytes,
            "deleted_bytes": self.deleted_bytes,
            "hidden_bytes": self.deleted_bytes if self.markers else 0,
            "already_gone": self.already_gone,
            "failed_count": self.failed_count,
            "skipped_count": self.skipped_count,
            "failed": self.failed,
            "skipped": self.skipped,
            "notes": self.notes,
        }


# ---------------------------------------------------------------- guards


def limit_reason(prefs: dict[str, Any], count: int, scanned: int, max_delete: int | None) -> str | None:
    """Invariant 8 for sweeps: a sentence when ``count`` objects exceed ``max_delete`` (default: preference
    ``max_delete_count``) or the share ``count / scanned`` exceeds preference ``max_delete_share``."""
    limit = int(prefs["max_delete_count"]) if max_delete is None else int(max_delete)
    share = float(prefs["max_delete_share"])
    source = "--max-delete" if max_delete is not None else "preference max_delete_count"
    if limit and count > limit or max_delete == 0 and count > 0:
        return f"the sweep deletes {count} objects, more than the limit of {limit} ({source})"
    if share < 1.0 and scanned > 0 and count / scanned > share:
        return (f"the sweep deletes {100.0 * count / scanned:.0f}% of the {scanned} objects scanned, more than the "
                f"limit of {100 * share:.0f}% (preference max_delete_share)")
    return None


def _remote_of(catalog: Catalog, params: dict[str, Any]) -> Remote:
    try:
        remote = get_remote(catalog, int(params["remote_id"]))
    except (KeyError, NotFound):
        raise SafetyRefusal(f"The remote '{params.get('remote')}' of this plan is gone; nothing was deleted.") from None
    if (remote.bucket, remote.prefix) != (params.get("bucket"), params.get("prefix")):
        raise SafetyRefusal(
            f"The remote '{remote.name}' now points at bucket '{remote.bucket}' prefix '{remote.prefix}', not the "
            f"bucket '{params.get('bucket')}' prefix '{params.get('prefix')}' this plan was made for; nothing was "
            f"deleted. Preview again."
        )
    return remote


# ---------------------------------------------------------------- store capabilities


def probe_conditional_delete(client: Any, remote: Remote) -> bool:
    """Does the store honour a per-key ``ETag`` condition in ``DeleteObjects``?

    Asks to delete a key that does not exist with an ETag that cannot match:
    a store that evaluates the condition answers ``PreconditionFailed`` or
    ``NoSuchKey`` for it (SeaweedFS 4.48 and AWS do); one that ignores it
    reports it deleted (nothing existed, so nothing is lost; on a versioned
    bucket such a store adds a delete marker for the probe key, which is removed
    again). One request, two on such a versioned bucket.
    """
    key = f"{remote.prefix}.mediaclean-probe-{uuid.uuid4().hex}"
    try:
        resp = client.delete_objects(Bucket=remote.bucket, Delete={
            "Objects": [{"Key": key, "ETag": '"' + "0" * 32 + '"'}], "Quiet": False})
    except Exception as exc:  # noqa: BLE001 — any refusal of the form means "not supported"
        from botocore.exceptions import ClientError, ParamValidationError

        if isinstance(exc, (ClientError, ParamValidationError)) and error_code(exc) not in (
                "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "AccessDenied"):
            return False
        raise
    for gone in resp.get("Deleted", ()) or ():
        marker = gone.get("DeleteMarkerVersionId")
        if marker:  # a store that ignored the condition added a delete marker for the probe key: remove it
            client.delete_object(Bucket=remote.bucket, Key=key, VersionId=marker)
    codes = {e.get("Code") for e in resp.get("Errors", ())}
    return bool(codes & {"PreconditionFailed", "NoSuchKey", "412", "404"})


def _listed_fingerprints(client: Any, remote: Remote, batch: list[PlanItem]) -> dict[str, dict[str, Any]]:
    """The current fingerprints of the batch's keys (the fallback re-check for stores that ignore ETag
    conditions, and the crash reconcile). Keys that are gone are left out.

    Nothing here depends on the order the store lists keys in (invariant 15): the batch's common prefix
    is listed from just before its smallest key until every key was seen or about twice the batch's
    worth of entries went by, and each key still not seen is asked for with ``head_object``.
    """
    from .retention import ListedObject

    wanted = {i.target for i in batch}
    found: dict[str, dict[str, Any]] = {}
    common = os.path.commonprefix(sorted(wanted))
    first = min(wanted, key=lambda k: k.encode("utf-8"))
    budget = 2 * len(wanted) + 1000
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=remote.bucket, Prefix=max(common, remote.prefix, key=len),
                               StartAfter=first[:-1], PaginationConfig={"PageSize": 1000})
    for page in pages:
        for entry in page.get("Contents", ()):
            budget -= 1
            if entry["Key"] in wanted:
                found[entry["Key"]] = ListedObject.from_listing(entry, remote.prefix).fingerprint()
        if len(found) == len(wanted) or budget <= 0:
            break
    for key in wanted - set(found):
        head = _head(client, remote, key)
        if head is not None:
            found[key] = ListedObject.from_listing({"Key": key, "Size": head.get("ContentLength", 0),
                                                   "ETag": head.get("ETag", ""),
                                                   "LastModified": head["LastModified"]},
                                                  remote.prefix).fingerprint()
    return found


def _head(client: Any, remote: Remote, key: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(client.head_object(Bucket=remote.bucket, Key=key))
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _same(expected: dict[str, Any], now: dict[str, Any]) -> bool:
    return all(expected.get(k) == now.get(k) for k in ("etag", "size", "last_modified"))


# ---------------------------------------------------------------- the run


Outcome = tuple[str, str, int]  # (outcome, detail, freed bytes)


def _batches(catalog: Catalog, plan_id: int, size: int) -> Iterator[list[PlanItem]]:
    batch: list[PlanItem] = []
    for item in iter_items(catalog, plan_id, batch=size):
        if not item.selected:
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _BatchDone:
    """What one batch came to: every item's outcome, a request-level failure, the requests sent."""

    outcomes: dict[int, Outcome]
    error: S3Error | None
    requests: int


def _delete_batch(client: Any, remote: Remote, batch: list[PlanItem], conditional: bool,
                  permanent: bool) -> _BatchDone:
    """Delete one batch (on a pool thread: no catalog access here); every item gets an outcome.
    A request-level failure is returned, not raised."""
    outcomes: dict[int, Outcome] = {}
    requests = 0
    send = batch
    try:
        if not conditional:
            current = _listed_fingerprints(client, remote, batch)
            requests += 1
            send = []
            for item in batch:
                assert item.id is not None
                now = current.get(item.target)
                if now is None:
                    outcomes[item.id] = ("already_gone", "already gone: deleted by someone else since the preview", 0)
                elif not _same(item.fingerprint, now):
                    outcomes[item.id] = ("skipped", "changed since preview", 0)
                else:
                    send.append(item)
        by_key = {i.target: i for i in send}
        for attempt in range(_KEY_RETRIES + 1):
            if not by_key:
                break
            objects = [{"Key": k, "ETag": i.fingerprint["etag"]} if conditional and i.fingerprint.get("etag")
                       else {"Key": k} for k, i in by_key.items()]
            resp = client.delete_objects(Bucket=remote.bucket, Delete={"Objects": objects, "Quiet": True})
            requests += 1
            retry: dict[str, PlanItem] = {}
            for err in resp.get("Errors", ()):
                found: PlanItem | None = by_key.pop(str(err.get("Key", "")), None)
                if found is None or found.id is None:
                    continue
                item, item_id = found, found.id
                code = str(err.get("Code", ""))
                if code in ("PreconditionFailed", "412"):
                    outcomes[item_id] = ("skipped", "changed since preview (overwritten: its ETag is no longer "
                                                    f"{item.fingerprint.get('etag')})", 0)
                elif code in ("NoSuchKey", "404"):
                    outcomes[item_id] = ("already_gone", "already gone: deleted by someone else since the preview", 0)
                elif code in _RETRY_KEY_CODES and attempt < _KEY_RETRIES:
                    retry[item.target] = item
                else:
                    message = err.get("Message") or ""
                    outcomes[item_id] = ("failed", f"{code}: {message}".rstrip(": "), 0)
            for item in by_key.values():
                assert item.id is not None
                outcomes[item.id] = ("deleted", "" if permanent else "delete marker added",
                                     item.size if permanent else 0)
            by_key = retry
            if retry:
                time.sleep(0.2 * 2 ** attempt)
    except Exception as exc:  # noqa: BLE001 — a request failure fails the batch's remaining items, not the run
        if not is_store_error(exc):
            raise
        err = explain_s3_error(exc, remote, "Sweep")
        for item in batch:
            assert item.id is not None
            outcomes.setdefault(item.id, ("failed", err.message, 0))
        return _BatchDone(outcomes, err, requests)
    return _BatchDone(outcomes, None, requests)


def execute_sweep_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = "user",
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    max_delete: int | None = None,
    client: Any = None,
    batch_size: int = BATCH,
    concurrency: int = CONCURRENCY,
    **_: Any,
) -> SweepRunResult:
    """Execute the stored sweep plan ``plan_id`` and nothing else (invariant 4).

    The run and every item are written to the catalog before the first delete
    (invariant 6) and updated after each batch. Objects go in ``DeleteObjects``
    batches of at most 1,000 keys with ``Quiet``; every per-key ``Errors`` entry
    of a response is recorded (a 200 response can carry failures). Each key
    carries its previewed ETag as a condition when the store honours it
    (:func:`probe_conditional_delete`), so an object overwritten since the
    preview is not deleted (``skipped``, ``changed since preview``) and one
    deleted by someone else is ``already_gone``; otherwise each batch's key range
    is listed again and compared (ETag, size, LastModified) first. Throttling
    (``SlowDown``) is retried by boto3's standard mode with back-off, and per-key
    ``SlowDown``/``InternalError`` entries twice more. ``concurrency`` requests
    are in flight at once (default 2). Cancel is checked between batches (those
    already sent finish and are recorded). A request that still fails fails its
    batch's items; the run stops early only when the error is not retryable
    (credentials, bucket) or after three failed batches in a row.

    Raises :class:`SafetyRefusal` (nothing deleted) for a plan already run, a
    remote changed since the preview, or more deletions than ``max_delete``
    (default: preference ``max_delete_count``) or preference ``max_delete_share``
    of the objects scanned without ``confirm_large`` (invariant 8);
    :class:`S3Error` when the store cannot be reached before anything was deleted.
    """
    progress = progress or Progress()
    with catalog.writer("sweep"):
        plan = load_plan(catalog, plan_id, with_items=False)
        if plan.kind != "sweep":
            raise ConfigError(f"Plan {plan_id} is a {plan.kind} plan, not a sweep plan.")
        if plan.status == "refused":
            raise SafetyRefusal(f"Plan {plan_id} was refused ({plan.summary}); nothing was deleted.")
        if plan.status == "executed":
            raise SafetyRefusal(f"Plan {plan_id} has already been run; make a new preview to sweep again.")
        remote = _remote_of(catalog, plan.params)
        reconcile_interrupted_sweeps(catalog)
        stats = plan.params.get("stats", {})
        row = catalog.conn.execute("SELECT count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_items "
                                   "WHERE plan_id = ? AND selected = 1", (plan_id,)).fetchone()
        count, nbytes = int(row["n"]), int(row["b"])
        reason = limit_reason(catalog.prefs(), count, int(stats.get("total_files_scanned", 0)), max_delete)
        if reason and not confirm_large:
            raise SafetyRefusal(
                f"Refused: {reason}. Nothing was deleted. Review the plan, then confirm it a second time "
                f"(--confirm-large on the command line) or raise the limit (--max-delete N)."
            )
        client = client or sweep_client(remote)
        versioning = read_versioning(client, remote, "Sweep")
        try:
            conditional = probe_conditional_delete(client, remote) if count else True
        except Exception as exc:  # noqa: BLE001
            raise explain_s3_error(exc, remote, "Sweep") from None
        permanent = versioning == "Unversioned"
        result = SweepRunResult(
            run_id=0, plan_id=plan_id, status="running", mode="permanent" if permanent else "delete_marker",
            remote=remote.name, versioning=versioning, conditional=conditional,
            retention_days=int(plan.params.get("retention_days", 5)),
            total_files_scanned=int(stats.get("total_files_scanned", 0)),
            retained_count=int(stats.get("retained_count", plan.kept_count)) + (plan.item_count - count),
            retained_clips=int(stats.get("retained_clips", 0)),
            notes=versioning_notes(versioning, remote.name), requests=2 if count else 1,
        )
        if versioning == "unknown":
            result.notes.append("The bucket's versioning state could not be read; freed space is not counted "
                                "(a versioned bucket keeps deleted data as noncurrent versions).")
        if not conditional:
            result.notes.append("The store ignores ETag conditions on DeleteObjects; each batch's objects were "
                                "listed again and compared just before deleting them.")
        result.run_id = _start_run(catalog, plan_id, started_by, result.mode)
        as_of = plan.params.get("as_of")
        _run_batches(catalog, client, remote, result, batch_size, conditional, permanent, count, nbytes,
                     progress, cancel, concurrency, parse_iso(as_of) if as_of else None)
        return _finish(catalog, result)


def _run_batches(catalog: Catalog, client: Any, remote: Remote, result: SweepRunResult, batch_size: int,
                 conditional: bool, permanent: bool, count: int, nbytes: int, progress: Progress,
                 cancel: CancelToken | None, concurrency: int, as_of: dt.datetime | None = None) -> None:
    """Send the batches, ``concurrency`` requests in flight at most; outcomes are recorded in plan order by
    this thread (the only one that touches the catalog). Cancel and a fatal error stop new batches; those
    already sent finish and are recorded.

    Just before each batch goes, its keys are looked up in the catalog's protections once more: an object
    that became an only copy since the preview (an upload proved it and deleted the local file), or that
    the user marked protected since, is not deleted (``skipped`` with the reason)."""
    protections = PageProtections(catalog, remote, as_of or dt.datetime.now(dt.timezone.utc))
    progress.update(done=0, total=count, bytes_done=0, bytes_total=nbytes, phase="deleting", current="")
    in_flight: deque[tuple[list[PlanItem], Future[_BatchDone]]] = deque()
    failures_in_row = 0
    stop = ""

    def collect() -> None:
        nonlocal failures_in_row, stop
        batch, future = in_flight.popleft()
        done = future.result()
        result.requests += done.requests
        _record(catalog, result, batch, done.outcomes)
        progress.update(done=progress.done + len(batch), bytes_done=progress.bytes_done + sum(i.size for i in batch),
                        current=batch[-1].target)
        if done.error is None:
            failures_in_row = 0
            return
        failures_in_row += 1
        if not done.error.retryable or failures_in_row >= 3:
            stop = stop or f"not attempted: {done.error.message}"

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="mediaclean-delete") as pool:
        try:
            for batch in _batches(catalog, result.plan_id, max(1, min(batch_size, BATCH))):
                if cancel is not None and cancel.cancelled:
                    result.status = "cancelled"
                    stop = "cancelled before it was reached"
                if stop:
                    break
                batch = _without_protected(catalog, result, protections, remote, batch, progress)
                if not batch:
                    continue
                ids = [i.id for i in batch if i.id is not None]
                with catalog.transaction() as conn:
                    conn.execute("UPDATE run_items SET detail = ? WHERE run_id = ? AND outcome = 'pending' "
                                 "AND plan_item_id BETWEEN ? AND ?", (IN_FLIGHT, result.run_id, min(ids), max(ids)))
                in_flight.append((batch, pool.submit(_delete_batch, client, remote, batch, conditional, permanent)))
                if len(in_flight) >= max(1, concurrency):
                    collect()
            while in_flight:
                collect()
        finally:
            for _, future in in_flight:
                future.cancel()
    if stop:
        _skip_rest(catalog, result, stop)


def _without_protected(catalog: Catalog, result: SweepRunResult, protections: PageProtections, remote: Remote,
                       batch: list[PlanItem], progress: Progress) -> list[PlanItem]:
    """The batch less what the catalog protects now (recorded ``skipped`` here, never sent)."""
    rel = len(remote.prefix)
    marks = protections.lookup([(i.target, i.target[rel:] if i.target.startswith(remote.prefix) else i.target)
                                for i in batch])
    if not marks:
        return batch
    kept = [i for i in batch if i.target in marks]
    _record(catalog, result, kept, {i.id or 0: ("skipped", f"kept: {marks[i.target].detail} (since the preview)", 0)
                                    for i in kept})
    progress.update(done=progress.done + len(kept), bytes_done=progress.bytes_done + sum(i.size for i in kept))
    return [i for i in batch if i.target not in marks]


def _record(catalog: Catalog, result: SweepRunResult, batch: list[PlanItem], outcomes: dict[int, Outcome]) -> None:
    rows = []
    for item in batch:
        assert item.id is not None
        outcome, detail, freed = outcomes[item.id]
        rows.append((outcome, detail, freed, result.run_id, item.id))
        if outcome == "deleted":
            result.deleted_count += 1
            result.deleted_bytes += item.size
            result.freed_bytes += freed
            if len(result.sample) < 10:
                result.sample.append(item.target)
        elif outcome == "already_gone":
            result.already_gone += 1
        elif outcome == "failed":
            result.failed_count += 1
            if len(result.failed) < KEEP_DETAILS:
                result.failed.append({"target": item.target, "key": item.target, "error": detail})
        elif outcome == "skipped":
            result.skipped_count += 1
            if len(result.skipped) < KEEP_DETAILS:
                result.skipped.append({"target": item.target, "reason": detail})
    with catalog.transaction() as conn:
        conn.executemany("UPDATE run_items SET outcome = ?, detail = ?, freed_bytes = ? "
                         "WHERE run_id = ? AND plan_item_id = ?", rows)
    level = logging.WARNING if any(o[0] == "failed" for o in outcomes.values()) else logging.DEBUG
    log_event(s3_log, level, "sweep_batch", run_id=result.run_id, keys=len(batch),
              deleted=sum(1 for o in outcomes.values() if o[0] == "deleted"),
              failed=sum(1 for o in outcomes.values() if o[0] == "failed"))


def _skip_rest(catalog: Catalog, result: SweepRunResult, detail: str) -> None:
    with catalog.transaction() as conn:
        cur = conn.execute("UPDATE run_items SET outcome = 'skipped', detail = ? WHERE run_id = ? "
                           "AND outcome = 'pending'", (detail, result.run_id))
        result.skipped_count += cur.rowcount
    if len(result.skipped) < KEEP_DETAILS:
        result.skipped.append({"target": "(the rest of the plan)", "reason": detail})


def _start_run(catalog: Catalog, plan_id: int, started_by: str, mode: str) -> int:
    with catalog.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO runs(plan_id, kind, started_at, started_by, status, mode, pid) "
            "VALUES (?, 'sweep', ?, ?, 'running', ?, ?)", (plan_id, iso(), started_by, mode, os.getpid()))
        run_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO run_items(run_id, plan_item_id, outcome, detail) SELECT ?, id, "
            "CASE WHEN selected THEN 'pending' ELSE 'skipped' END, "
            "CASE WHEN selected THEN '' ELSE 'excluded by the user' END FROM plan_items WHERE plan_id = ?",
            (run_id, plan_id))
        conn.execute("UPDATE plans SET status = 'executed' WHERE id = ?", (plan_id,))
    return run_id


def _finish(catalog: Catalog, result: SweepRunResult) -> SweepRunResult:
    if result.status != "cancelled":
        result.status = "failed" if result.failed_count else "complete"
    summary = result.summary_line()
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE runs SET ended_at = ?, status = ?, deleted_count = ?, freed_bytes = ?, failed_count = ?, "
            "skipped_count = ?, summary = ? WHERE id = ?",
            (iso(), result.status, result.deleted_count, result.freed_bytes, result.failed_count,
             result.skipped_count, summary, result.run_id))
    log_event(s3_log, logging.INFO, "sweep_finished", run_id=result.run_id, status=result.status, summary=summary,
              requests=result.requests)
    return result


# ---------------------------------------------------------------- after a crash


def reconcile_interrupted_sweeps(catalog: Catalog, client: Any = None) -> list[int]:
    """After a crash (invariant 6): finish every sweep run left ``running``.

    Items of the batch that was in flight are looked up in the bucket: a key no
    longer listed is recorded ``deleted`` (bytes freed only on an unversioned
    bucket), one still listed ``skipped`` (not done); when the store cannot be
    asked they stay ``skipped`` with a note to preview again. Items never reached
    are ``skipped``. Caller holds the writer lock. Returns the reconciled run ids.
    """
    fixed = []
    for run in catalog.conn.execute("SELECT r.id, r.mode, p.params FROM runs r JOIN plans p ON p.id = r.plan_id "
                                    "WHERE r.kind = 'sweep' AND r.status = 'running'").fetchall():
        run_id = run["id"]
        params = json.loads(run["params"])
        rows = catalog.conn.execute(
            "SELECT pi.id, pi.target, pi.size, pi.fingerprint FROM run_items ri JOIN plan_items pi "
            "ON pi.id = ri.plan_item_id WHERE ri.run_id = ? AND ri.outcome = 'pending' AND ri.detail = ? "
            "ORDER BY pi.seq", (run_id, IN_FLIGHT)).fetchall()
        flying = [PlanItem(Action.DELETE_OBJECT, from_db_path(r["target"]), r["size"], "", "",
                           json.loads(r["fingerprint"]), id=r["id"]) for r in rows]
        updates: list[tuple[str, str, int, int, int]] = []
        if flying:
            try:
                remote = _remote_of(catalog, params)
                listed = _listed_fingerprints(client or sweep_client(remote), remote, flying)
            except Exception:  # noqa: BLE001 — the store cannot tell us; say so on each item
                listed = None
            for item in flying:
                assert item.id is not None
                if listed is None:
                    updates.append(("skipped", "unknown: the run was interrupted while deleting it; preview again",
                                    0, run_id, item.id))
                elif item.target in listed:
                    updates.append(("skipped", "not done: the run was interrupted", 0, run_id, item.id))
                else:
                    freed = item.size if run["mode"] == "permanent" else 0
                    updates.append(("deleted", "gone after the run was interrupted", freed, run_id, item.id))
        with catalog.transaction() as conn:
            conn.executemany("UPDATE run_items SET outcome = ?, detail = ?, freed_bytes = ? "
                             "WHERE run_id = ? AND plan_item_id = ?", updates)
            conn.execute("UPDATE run_items SET outcome = 'skipped', detail = 'not done: the run was interrupted' "
                         "WHERE run_id = ? AND outcome = 'pending'", (run_id,))
            totals = conn.execute(
                "SELECT sum(outcome = 'deleted') AS d, ifnull(sum(freed_bytes), 0) AS b, sum(outcome = 'failed') AS f, "
                "sum(outcome = 'skipped') AS s FROM run_items WHERE run_id = ?", (run_id,)).fetchone()
            summary = (f"Interrupted; reconciled: {totals['d'] or 0} objects deleted, "
                       f"{(totals['b'] or 0) / MB:.2f} MB freed")
            conn.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = ?, deleted_count = ?, freed_bytes = ?, "
                "failed_count = ?, skipped_count = ?, summary = ? WHERE id = ?",
                (iso(), totals["d"] or 0, totals["b"] or 0, totals["f"] or 0, totals["s"] or 0, summary, run_id))
        log_event(s3_log, logging.WARNING, "run_reconciled", run_id=run_id, summary=summary)
        fixed.append(run_id)
    return fixed
