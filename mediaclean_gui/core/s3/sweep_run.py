"""Run a stored sweep plan exactly, on the one run lifecycle (:mod:`..run.lifecycle`): DeleteObjects in batches
with per-key re-checks and several batches in flight; and the sweep's reconciler after a crash.

The lifecycle (guard with the one delete-limit check, the run written before the first delete, the journal,
the finish, the reconcile registry) is :mod:`..run.lifecycle`'s; this module only does the batches.
"""

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
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..catalog import Catalog, from_db_path, parse_iso
from ..errors import NotFound, SafetyRefusal
from ..events import CancelToken, Progress, log_event, s3_log
from ..run.lifecycle import (
    Exception_,
    Journal,
    finish_interrupted,
    finish_run,
    guard,
    plan_batches,
    reconcile_interrupted_runs,
    record_outcomes,
    start_run,
)
from ..run.model import DeleteMode, ItemOutcome, PlanKind, RunResult, RunStatus, StartedBy
from .listing import is_store_error, read_versioning, sweep_client, sweep_message, versioning_notes
from .protections import PageProtections
from .remote import Remote, S3Error, error_code, explain_s3_error, get_remote

BATCH = 1000  # DeleteObjects takes at most 1,000 keys
#: DeleteObjects requests in flight at once. bench_sweep.py, 20,000 objects on SeaweedFS, 2 CPUs (2026-12-02, 3 rounds):
#: 4 in flight 5.40 s, 8 4.67 s, 16 4.36 s; the store is the bound (its CPU ~5 s either way), more requests in
#: flight let it use both cores. Not 16: on AWS each batch is 1,000 DELETEs against a prefix's rate limit, and a
#: throttled key (SlowDown) costs a retry with back-off.
CONCURRENCY = 8
SAMPLE_SIZE = 10
LEGACY_IN_FLIGHT = "in flight"  # how schema-7 sweeps marked the batch in flight (their runs still reconcile)
_RETRY_KEY_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "OperationAborted"}
_KEY_RETRIES = 2
#: pages a re-check or reconcile lists at most before asking for each key still unseen with head_object
_LIST_PAGES = 20

#: ``(outcome, detail, freed bytes)`` of one object
Outcome = tuple[ItemOutcome, str, int]


class ObjectRow(NamedTuple):
    """One selected sweep item as the executor reads it: plan item id, full object key, size (bytes) and
    the fingerprint from the listing (ETag with its quotes, LastModified as UTC ISO-8601, size)."""

    id: int
    key: str
    size: int
    etag: str | None
    last_modified: str | None
    fp_size: int | None

    def fingerprint(self) -> dict[str, Any]:
        return {"etag": self.etag, "size": self.fp_size, "last_modified": self.last_modified}


_COLUMNS = ("id, hex(target), size, json_extract(fingerprint, '$.etag'), json_extract(fingerprint, '$.last_modified'), "
            "json_extract(fingerprint, '$.size')")


def _row(r: Any) -> ObjectRow:
    """An :class:`ObjectRow` from ``(id, seq, target, size, etag, last_modified, fingerprint size)``."""
    return ObjectRow(r[0], from_db_path(r[2]), r[3], r[4], r[5], r[6])


def object_batches(catalog: Catalog, plan_id: int, size: int) -> Iterator[list[ObjectRow]]:
    """The plan's selected objects in plan order, ``size`` at a time (memory stays flat: :func:`plan_batches`)."""
    for rows in plan_batches(catalog, plan_id, _COLUMNS, size):
        yield [ObjectRow(r[0], from_db_path(bytes.fromhex(r[1])), r[2], r[3], r[4], r[5]) for r in rows]


# ---------------------------------------------------------------- guards


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


def current_fingerprints(client: Any, remote: Remote, batch: list[ObjectRow], *,
                         near: bool = True) -> dict[str, dict[str, Any]]:
    """The current fingerprints of the batch's keys; keys that are gone are left out.

    Nothing here depends on the order the store lists keys in (invariant 15). The batch's common
    prefix is listed — from just before its smallest key with ``near`` (cheap when the keys exist:
    the fallback re-check before a delete), else from its start — until every key was seen or
    :data:`_LIST_PAGES` pages went by. A listing of the whole prefix that ends before that is
    complete, so a key it did not show is gone; otherwise each key still unseen is asked for with
    ``head_object``. Raises the store's errors.
    """
    from .retention import ListedObject

    wanted = {r.key for r in batch}
    found: dict[str, dict[str, Any]] = {}
    common = os.path.commonprefix(sorted(wanted))
    args: dict[str, Any] = {"Bucket": remote.bucket, "Prefix": max(common, remote.prefix, key=len),
                            "PaginationConfig": {"PageSize": 1000, "MaxItems": _LIST_PAGES * 1000}}
    if near:
        first = min(wanted, key=lambda k: k.encode("utf-8"))
        args["StartAfter"] = first[:-1]
    complete = False
    for page in client.get_paginator("list_objects_v2").paginate(**args):
        for entry in page.get("Contents", ()):
            if entry["Key"] in wanted:
                found[entry["Key"]] = ListedObject.from_listing(entry, remote.prefix).fingerprint()
        if len(found) == len(wanted):
            return found
        complete = not page.get("IsTruncated")
    if complete and not near:
        return found
    missing = sorted(wanted - set(found))
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(missing))), thread_name_prefix="mediaclean-head") as pool:
        for key, head in zip(missing, pool.map(lambda k: _head(client, remote, k), missing), strict=True):
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


# ---------------------------------------------------------------- one batch (pool thread)


@dataclass
class _BatchDone:
    """What one batch came to: every item's outcome, a request-level failure, the requests sent."""

    outcomes: dict[int, Outcome]
    error: S3Error | None
    requests: int


def _delete_batch(client: Any, remote: Remote, batch: list[ObjectRow], conditional: bool,
                  permanent: bool) -> _BatchDone:
    """Delete one batch (on a pool thread: no catalog access here); every item gets an outcome.
    A request-level failure is returned, not raised."""
    outcomes: dict[int, Outcome] = {}
    requests = 0
    send = batch
    try:
        if not conditional:
            current = current_fingerprints(client, remote, batch)
            requests += 1
            send = []
            for item in batch:
                now = current.get(item.key)
                if now is None:
                    outcomes[item.id] = (ItemOutcome.ALREADY_GONE,
                                         "already gone: deleted by someone else since the preview", 0)
                elif not _same(item.fingerprint(), now):
                    outcomes[item.id] = (ItemOutcome.SKIPPED, "changed since preview", 0)
                else:
                    send.append(item)
        by_key = {i.key: i for i in send}
        for attempt in range(_KEY_RETRIES + 1):
            if not by_key:
                break
            objects = [{"Key": k, "ETag": i.etag} if conditional and i.etag else {"Key": k}
                       for k, i in by_key.items()]
            resp = client.delete_objects(Bucket=remote.bucket, Delete={"Objects": objects, "Quiet": True})
            requests += 1
            retry: dict[str, ObjectRow] = {}
            for err in resp.get("Errors", ()):
                found = by_key.pop(str(err.get("Key", "")), None)
                if found is None:
                    continue
                code = str(err.get("Code", ""))
                if code in ("PreconditionFailed", "412"):
                    outcomes[found.id] = (ItemOutcome.SKIPPED, "changed since preview (overwritten: its ETag is no "
                                                               f"longer {found.etag})", 0)
                elif code in ("NoSuchKey", "404"):
                    outcomes[found.id] = (ItemOutcome.ALREADY_GONE,
                                          "already gone: deleted by someone else since the preview", 0)
                elif code in _RETRY_KEY_CODES and attempt < _KEY_RETRIES:
                    retry[found.key] = found
                else:
                    message = err.get("Message") or ""
                    outcomes[found.id] = (ItemOutcome.FAILED, f"{code}: {message}".rstrip(": "), 0)
            for item in by_key.values():
                outcomes[item.id] = (ItemOutcome.DELETED, "" if permanent else "delete marker added",
                                     item.size if permanent else 0)
            by_key = retry
            if retry:
                time.sleep(0.2 * 2 ** attempt)
    except Exception as exc:  # noqa: BLE001 — a request failure fails the batch's remaining items, not the run
        if not is_store_error(exc):
            raise
        err = explain_s3_error(exc, remote, "Sweep")
        for item in batch:
            outcomes.setdefault(item.id, (ItemOutcome.FAILED, err.message, 0))
        return _BatchDone(outcomes, err, requests)
    return _BatchDone(outcomes, None, requests)


# ---------------------------------------------------------------- the run


def execute_sweep_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = StartedBy.USER.value,
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    max_delete: int | None = None,
    client: Any = None,
    batch_size: int = BATCH,
    concurrency: int = CONCURRENCY,
    **_: Any,
) -> RunResult:
    """Execute the stored sweep plan ``plan_id`` and nothing else (invariant 4); returns the run's
    :class:`~..run.model.RunResult` with the seed 004 fields in ``details``.

    The run and every item are written to the catalog before the first delete (invariant 6) and
    journalled per batch. Objects go in ``DeleteObjects`` batches of at most 1,000 keys with ``Quiet``;
    every per-key ``Errors`` entry of a response is recorded (a 200 response can carry failures). Each
    key carries its previewed ETag as a condition when the store honours it
    (:func:`probe_conditional_delete`), so an object overwritten since the preview is not deleted
    (``skipped``, ``changed since preview``) and one deleted by someone else is ``already_gone``;
    otherwise each batch's keys are looked up again and compared (ETag, size, LastModified) first.
    Just before each batch goes, its keys are looked up in the catalog's protections once more (an
    object that became an only copy since the preview is kept). Throttling (``SlowDown``) is retried
    by boto3's standard mode with back-off, and per-key ``SlowDown``/``InternalError`` entries twice
    more. ``concurrency`` requests are in flight at once. Cancel is checked between batches (those
    already sent finish and are recorded). A request that still fails fails its batch's items; the
    run stops early only when the error is not retryable (credentials, bucket) or after three failed
    batches in a row. On a versioned bucket a delete adds a delete marker and frees nothing
    (``hidden_bytes`` says how much went behind markers).

    Raises, before anything is deleted: :class:`SafetyRefusal` for a refused plan, one already run or
    a remote changed since the preview; :class:`~..run.limits.DeleteLimitExceeded` above ``max_delete``
    objects (default: preference ``max_delete_count``; 0 means no limit) or preference
    ``max_delete_share`` of the objects scanned without ``confirm_large`` (invariant 8);
    :class:`ConfigError` for a plan of another kind; :class:`S3Error` when the store cannot be reached.
    """
    progress = progress or Progress()
    with catalog.writer(f"sweep plan {plan_id}"):
        reconcile_interrupted_runs(catalog)
        plan = guard(catalog, plan_id, (PlanKind.SWEEP,), confirm_large=confirm_large, max_delete=max_delete)
        remote = _remote_of(catalog, plan.params)
        stats = plan.params.get("stats", {})
        row = catalog.conn.execute("SELECT count(*) AS n, ifnull(sum(size), 0) AS b FROM plan_items "
                                   "WHERE plan_id = ? AND selected = 1", (plan_id,)).fetchone()
        count, nbytes = int(row["n"]), int(row["b"])
        client = client or sweep_client(remote, max_pool_connections=max(10, 2 * concurrency + 2))
        versioning = read_versioning(client, remote, "Sweep")
        try:
            conditional = probe_conditional_delete(client, remote) if count else True
        except Exception as exc:  # noqa: BLE001
            raise explain_s3_error(exc, remote, "Sweep") from None
        permanent = versioning == "Unversioned"
        mode = DeleteMode.PERMANENT if permanent else DeleteMode.DELETE_MARKER
        notes = versioning_notes(versioning, remote.name)
        if versioning == "unknown":
            notes.append("The bucket's versioning state could not be read; freed space is not counted "
                         "(a versioned bucket keeps deleted data as noncurrent versions).")
        if not conditional:
            notes.append("The store ignores ETag conditions on DeleteObjects; each batch's objects were "
                         "looked up again and compared just before deleting them.")
        run_id = start_run(catalog, plan, started_by, mode.value)
        result = RunResult(run_id, plan_id, PlanKind.SWEEP, mode=mode.value, notes=notes)
        sweeper = _Sweeper(catalog, client, remote, result, conditional, permanent, progress, cancel,
                           max(1, min(batch_size, BATCH)), max(1, concurrency))
        sweeper.requests = 2 if count else 1  # versioning, and the probe
        as_of = plan.params.get("as_of")
        progress.update(done=0, total=count, bytes_done=0, bytes_total=nbytes, phase="deleting", current="")
        try:
            cancelled = sweeper.run(parse_iso(as_of) if as_of else dt.datetime.now(dt.timezone.utc))
        finally:
            sweeper.journal.close()
        finish_run(catalog, result, cancelled=cancelled,
                   summarize=lambda r: _summarize(catalog, r, plan.params, stats, plan.item_count - count,
                                                  versioning, conditional, sweeper.requests))
        log_event(s3_log, logging.INFO, "sweep_finished", run_id=run_id, status=result.status.value,
                  summary=result.summary, requests=sweeper.requests)
        return result


class _Sweeper:
    """Sends one run's batches, ``concurrency`` requests in flight at most; outcomes are journalled in plan
    order by this thread (the only one that touches the catalog). Cancel and a fatal error stop new
    batches; those already sent finish and are recorded."""

    def __init__(self, catalog: Catalog, client: Any, remote: Remote, result: RunResult, conditional: bool,
                 permanent: bool, progress: Progress, cancel: CancelToken | None, batch_size: int,
                 concurrency: int) -> None:
        self.catalog = catalog
        self.client = client
        self.remote = remote
        self.result = result
        self.conditional = conditional
        self.permanent = permanent
        self.progress = progress
        self.cancel = cancel
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.journal = Journal(catalog, result.run_id)
        self.default_detail = "" if permanent else "delete marker added"
        self.requests = 0
        self.failures_in_row = 0
        self.stop = ""

    def run(self, as_of: dt.datetime) -> bool:
        """Every batch in plan order; ``True`` when cancelled."""
        protections = PageProtections(self.catalog, self.remote, as_of)
        in_flight: deque[tuple[list[ObjectRow], list[Exception_], Future[_BatchDone]]] = deque()
        cancelled = False
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="mediaclean-delete") as pool:
            try:
                for batch in object_batches(self.catalog, self.result.plan_id, self.batch_size):
                    if self.cancel is not None and self.cancel.cancelled:
                        cancelled = True
                        self.stop = self.stop or "cancelled before it was reached"
                    if self.stop:
                        break
                    kept, send = self._without_protected(protections, batch)
                    if not send:
                        self._settle(batch, kept, None)
                        continue
                    self.journal.begin(batch[0].id, batch[-1].id)  # committed before the request goes
                    in_flight.append((batch, kept, pool.submit(_delete_batch, self.client, self.remote, send,
                                                               self.conditional, self.permanent)))
                    if len(in_flight) >= self.concurrency:
                        self._collect(in_flight.popleft())
                while in_flight:
                    self._collect(in_flight.popleft())
            finally:
                for _, _, future in in_flight:
                    future.cancel()
        if self.stop:
            self.journal.skip_rest(self.stop)
        return cancelled

    def _without_protected(self, protections: PageProtections,
                           batch: list[ObjectRow]) -> tuple[list[Exception_], list[ObjectRow]]:
        """The batch's objects the catalog protects now (as exceptions: never sent) and the rest."""
        rel = len(self.remote.prefix)
        marks = protections.lookup([(i.key, i.key[rel:] if i.key.startswith(self.remote.prefix) else i.key)
                                    for i in batch])
        if not marks:
            return [], batch
        kept = [(ItemOutcome.SKIPPED, f"kept: {marks[i.key].detail} (since the preview)", 0, i.id)
                for i in batch if i.key in marks]
        return kept, [i for i in batch if i.key not in marks]

    def _collect(self, flying: tuple[list[ObjectRow], list[Exception_], Future[_BatchDone]]) -> None:
        batch, kept, future = flying
        done = future.result()
        self.requests += done.requests
        self._settle(batch, kept, done)
        if done.error is None:
            self.failures_in_row = 0
            return
        self.failures_in_row += 1
        if not done.error.retryable or self.failures_in_row >= 3:
            self.stop = self.stop or f"not attempted: {done.error.message}"

    def _settle(self, batch: list[ObjectRow], kept: list[Exception_], done: _BatchDone | None) -> None:
        exceptions = list(kept)
        failed = 0
        if done is not None:
            sizes = {i.id: i.size for i in batch}
            for item_id, (outcome, detail, freed) in done.outcomes.items():
                if outcome is ItemOutcome.DELETED and detail == self.default_detail and \
                        freed == (sizes[item_id] if self.permanent else 0):
                    continue  # the batch's default: one range update settles it
                exceptions.append((outcome, detail, freed, item_id))
                failed += outcome is ItemOutcome.FAILED
        self.journal.settle(batch[0].id, batch[-1].id, ItemOutcome.DELETED, exceptions, self.default_detail,
                            frees=self.permanent)
        progress = self.progress
        progress.update(done=progress.done + len(batch), bytes_done=progress.bytes_done + sum(i.size for i in batch),
                        current=batch[-1].key)
        log_event(s3_log, logging.WARNING if failed else logging.DEBUG, "sweep_batch", run_id=self.result.run_id,
                  keys=len(batch), failed=failed)


def _summarize(catalog: Catalog, result: RunResult, params: dict[str, Any], stats: dict[str, Any], excluded: int,
               versioning: str, conditional: bool, requests: int) -> str:
    """Seed 004's line (``Deleted 150 files (1234.56 MB), retained 25 recent clips``) and the seed's fields
    in ``result.details``; counts and status are already set."""
    deleted = catalog.conn.execute(
        "SELECT ifnull(sum(pi.size), 0) FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
        "WHERE ri.run_id = ? AND ri.outcome = 'deleted'", (result.run_id,)).fetchone()[0]
    sample = [from_db_path(r[0]) for r in catalog.conn.execute(
        "SELECT pi.target FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
        "WHERE ri.run_id = ? AND ri.outcome = 'deleted' ORDER BY pi.seq LIMIT ?", (result.run_id, SAMPLE_SIZE))]
    markers = result.mode == DeleteMode.DELETE_MARKER.value
    kept = int(stats.get("retained_count", 0)) + excluded + result.skipped_count
    line = sweep_message(result.deleted_count, int(deleted), kept, int(stats.get("retained_clips", 0)),
                         dry_run=False, markers=markers)
    if result.already_gone:
        line += f"; {result.already_gone} already gone"
    if result.failed_count:
        line += f"; {result.failed_count} failed"
    if result.status is RunStatus.CANCELLED:
        line += " (cancelled)"
    for entry in result.failed:
        entry["key"] = entry["target"]
    result.details.update({
        "success": result.failed_count == 0 and result.status is RunStatus.COMPLETE,
        "message": line,
        "retained_count": kept,
        "total_files_scanned": int(stats.get("total_files_scanned", 0)),
        "dry_run": False,
        "deleted_files_sample": sample,
        "retention_days": int(params.get("retention_days", 5)),
        "errors": [{"key": f["target"], "error": f["error"]} for f in result.failed],
        "remote": params.get("remote"),
        "versioning": versioning,
        "conditional_deletes": conditional,
        "deleted_bytes": int(deleted),
        "hidden_bytes": int(deleted) if markers else 0,
        "requests": requests,
    })
    return line


# ---------------------------------------------------------------- after a crash

#: how long the reconcile at start-up waits for the store (seconds): it must never hang on one that is gone
RECONCILE_CONNECT_TIMEOUT = 2.0
RECONCILE_READ_TIMEOUT = 5.0


def reconcile_interrupted_sweeps(catalog: Catalog, client: Any = None) -> list[int]:
    """After a crash (invariant 6): finish every sweep run left ``running`` (registered in
    :data:`..run.lifecycle.RECONCILERS`; caller holds the writer lock). Returns the reconciled run ids.

    The items of the batches that were in flight (the run's in-flight span) are looked up in the
    bucket (:func:`current_fingerprints`, with short timeouts and one retry, so an unreachable store
    costs seconds, never a hang): a key that is gone is recorded ``deleted`` (bytes freed only on an
    unversioned bucket), one still there ``skipped`` (not done); when the store cannot be asked they
    stay ``skipped`` with "unknown: … preview again". Items never reached are ``skipped`` (not done).
    The run ends ``interrupted``.
    """
    fixed = []
    for run in catalog.conn.execute(
            "SELECT r.id, r.mode, r.in_flight_from, r.in_flight_to, p.params FROM runs r "
            "JOIN plans p ON p.id = r.plan_id WHERE r.kind = 'sweep' AND r.status = 'running'").fetchall():
        run_id = run["id"]
        rows = catalog.conn.execute(
            "SELECT pi.id, pi.seq, pi.target, pi.size, json_extract(pi.fingerprint, '$.etag'), "
            "json_extract(pi.fingerprint, '$.last_modified'), json_extract(pi.fingerprint, '$.size') "
            "FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ? "
            "AND ri.outcome = 'pending' AND (ri.plan_item_id BETWEEN ? AND ? OR ri.detail = ?) ORDER BY pi.seq",
            (run_id, run["in_flight_from"], run["in_flight_to"], LEGACY_IN_FLIGHT)).fetchall()
        flying = [_row(r) for r in rows]
        updates: list[Exception_] = []
        if flying:
            try:
                remote = _remote_of(catalog, json.loads(run["params"]))
                asker = client or sweep_client(remote, connect_timeout=RECONCILE_CONNECT_TIMEOUT,
                                               read_timeout=RECONCILE_READ_TIMEOUT, max_attempts=2)
                listed: dict[str, dict[str, Any]] | None = current_fingerprints(asker, remote, flying, near=False)
            except Exception as exc:  # noqa: BLE001 — the store cannot tell us; say so on each item
                log_event(s3_log, logging.WARNING, "sweep_reconcile_unreachable", run_id=run_id, error=str(exc))
                listed = None
            for item in flying:
                if listed is None:
                    updates.append((ItemOutcome.SKIPPED, "unknown: the run was interrupted while deleting it; "
                                                         "preview again", 0, item.id))
                elif item.key in listed:
                    updates.append((ItemOutcome.SKIPPED, "not done: the run was interrupted", 0, item.id))
                else:
                    freed = item.size if run["mode"] == DeleteMode.PERMANENT.value else 0
                    updates.append((ItemOutcome.DELETED, "gone after the run was interrupted", freed, item.id))
        record_outcomes(catalog, run_id, updates)
        result = finish_interrupted(catalog, run_id)
        log_event(s3_log, logging.WARNING, "run_reconciled", run_id=run_id, summary=result.summary)
        fixed.append(run_id)
    return fixed


__all__ = ["BATCH", "CONCURRENCY", "current_fingerprints", "execute_sweep_plan", "object_batches",
           "probe_conditional_delete", "reconcile_interrupted_sweeps"]
