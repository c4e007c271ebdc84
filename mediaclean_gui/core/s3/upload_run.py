"""F3 execution: run a stored upload plan exactly; claim, transfer and prove, and only then delete the local copy.

The lifecycle (guard with the one delete-limit check, the run written before the first action, the journal
in batches, the finish, the reconcile registry) is :mod:`..run.lifecycle`'s; this module only does the items.

A local file goes only when the store has proved it holds the same bytes (invariant 3): the proof is
committed durably before the deletion. Just before that commit the object is recorded as an **only
copy** (:mod:`.protections`), so every sweep and lifecycle rule of every remote on that bucket keeps it,
even if this process is killed right after (F3). The deletion itself goes through the one guarded delete
path (:mod:`.local_copies`). Failures keep the local file and go back to the persistent queue
(:mod:`.queue`) with exponential back-off; a cancelled or crashed multipart upload is aborted on the store.
"""

from __future__ import annotations

import logging
import queue as queue_mod
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog, display_path, iso
from ..events import CancelToken, Progress, log_event, s3_log
from ..plan import Action, Plan, PlanItem, load_plan
from ..protected import gather_protection
from ..run.lifecycle import Exception_, Journal, finish_run, guard, reconcile_interrupted_runs, start_run
from ..run.model import MB, DeleteMode, ItemOutcome, PlanKind, RunResult, StartedBy
from . import queue as uq
from .local_copies import DELETED_DETAIL, TRASHED_DETAIL, Deletion, LocalCopies
from .native_put import NativePut
from .probe import checksum_enforcement
from .protections import forget_only_copy, record_only_copies
from .remote import Remote, check_bucket, error_code, explain_s3_error, get_remote, make_client
from .transfer import Job, Transfer, _is_cancel
from .upload_plan import key_of

#: plan items journalled at once (one range update per batch, plus a row for each item that is not the default)
JOURNAL_BATCH = 256
#: proved files handed to the deleter at once, after one durable commit of their proofs; or fewer once the
#: oldest has waited this long (seconds), or when nothing else is in flight
HAND_OVER = 64
HAND_OVER_WAIT = 0.25
#: after the first event of a drain, further events are gathered for at most this long (seconds), until as many
#: as there are upload threads have arrived: one commit then covers a round of files instead of one or two
#: (the upload threads still hold that many claimed files, so none of them waits for it)
GATHER_WAIT = 0.01
_MISMATCH_CODES = {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidChecksum"}
_STOP_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "AccessDenied", "NoCredentials",
               "ExpiredToken", "InvalidToken", "AllAccessDisabled", "ProfileNotFound"}
_UNREACHABLE = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ProxyConnectionError",
                "ReadTimeoutError"}


def execute_upload_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = StartedBy.USER.value,
    mode: str | None = None,
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    client: Any = None,
    max_attempts: int = 5,
    remove_empty_folders: bool | None = None,
    transfer_client: str = "auto",
    **_: Any,
) -> RunResult:
    """Run the stored upload plan ``plan_id`` exactly (invariant 4); returns the run's
    :class:`~..run.model.RunResult`, with the upload's own fields in ``details``.

    Per item: claim its queue row, re-check the fingerprint, hash the file, upload it with the checksum
    (``PutObject``, or boto3's transfer manager above preference ``multipart_threshold_mb``, on
    ``upload_concurrency`` threads), prove it, record key, ETag, version id, checksum and verification
    time, and — for ``upload_then_delete`` — delete the local copy through the guarded delete path
    (``mode`` ``permanent`` or ``trash``; default the ``delete_mode`` preference). Run items end
    ``deleted`` (freed: the file's size, unless other hard links remain), ``trashed`` (nothing freed),
    ``uploaded`` (the plan kept the local copy), ``already_gone``, ``failed`` (kept, queued for retry
    with back-off) or ``skipped`` (protected, changed, not verified, cancelled, not tried).

    ``details``: ``uploaded`` (``path``, ``key``, ``size``, ``checksum``, ``verified``, ``etag``,
    ``version_id``, ``proof``), ``deleted_local`` (``path``, ``size``, ``key``, ``outcome``),
    ``bytes_uploaded``, ``unverified`` (a count), ``folders_removed``, ``requests``, ``seconds``,
    ``stopped`` (why the run stopped early, or ``""``).

    ``progress.bytes_done``/``bytes_total`` count bytes sent (hashing is not counted), ``done``/``total``
    items, ``current`` the file being sent; ``progress.callback`` is called from worker threads (under a
    lock), so a window must hand the values to its GUI thread. ``client`` replaces the boto3 client made
    from the remote (tests wrap the real one); ``max_attempts`` is the retry budget per request.

    ``transfer_client``: ``auto`` sends single-part bodies up to 8 MiB through awscrt's native S3 client
    when it is installed and the run made its own client (:mod:`.native_put`: the same requests, the same
    proof, a third of the CPU); ``classic`` — and any run given a ``client``, whose event hooks only botocore
    would call — sends everything through botocore. ``details["transfer_client"]`` says which it was.

    Raises, before anything is uploaded or deleted: :class:`S3Error` when the bucket cannot be reached
    with the credentials (one sentence, exit 2); :class:`SafetyRefusal` for a refused or already-run
    plan; :class:`~..run.limits.DeleteLimitExceeded` above the delete limits without ``confirm_large``;
    :class:`ConfigError` for a plan of another kind.
    """
    progress = progress or Progress()
    with catalog.writer(f"upload plan {plan_id}"):
        reconcile_interrupted_runs(catalog)
        guard(catalog, plan_id, (PlanKind.UPLOAD,), confirm_large=confirm_large)
        plan = load_plan(catalog, plan_id)  # with its items: they are handed to the transfer threads
        prefs = catalog.prefs()
        mode = mode or str(prefs["delete_mode"])
        remote = get_remote(catalog, int(plan.params["remote_id"]))
        concurrency = max(1, int(prefs["upload_concurrency"]))
        native: NativePut | None = None
        if client is None:
            # every upload request carries a signed checksum header, so the body need not be hashed twice
            client = make_client(remote, max_attempts=max_attempts, max_pool_connections=concurrency + 4,
                                 sign_payload=False)
            if transfer_client != "classic":
                native = NativePut.for_run(client, remote, concurrency=concurrency, max_attempts=max_attempts)
        copies = LocalCopies(gather_protection(catalog, plan_id), mode)
        remove_empty = bool(prefs["remove_empty_folders"]) if remove_empty_folders is None else remove_empty_folders
        engine = _Engine(catalog, plan, remote, client, mode, prefs, progress, cancel, started_by, remove_empty,
                         copies)
        engine.native = native
        try:
            return engine.run(plan.selected_items())
        finally:
            copies.close()
            if native is not None:
                native.close()


@dataclass
class _Batch:
    """A run of consecutive plan items journalled together: ``first``/``last`` plan item ids, how many
    still wait for an outcome, and the outcomes that are not the run's default."""

    first: int
    last: int
    waiting: int
    exceptions: list[Exception_] = field(default_factory=list)
    defaulted: list[tuple[int, int]] = field(default_factory=list)  # (plan item id, bytes freed) of the rest
    begun: bool = False


class _Engine(Transfer):
    """One upload run (holds the writer lock through :func:`execute_upload_plan`): claims, outcomes, deletions."""

    def __init__(self, catalog: Catalog, plan: Plan, remote: Remote, client: Any, mode: str,
                 prefs: dict[str, Any], progress: Progress, cancel: CancelToken | None, started_by: str,
                 remove_empty: bool, copies: LocalCopies) -> None:
        super().__init__(plan, remote, client, prefs, progress)
        self.catalog = catalog
        self.mode = mode
        self.cancel = cancel
        self.started_by = started_by
        self.remove_empty = remove_empty
        self.copies = copies
        self.stop_reason = ""
        self.cancelled = False
        self.emptied: dict[str, tuple[str, str]] = {}
        self.deleter: Any = None
        self.jobs: dict[int, Job] = {}
        self.uploaded: list[dict[str, Any]] = []
        self.deleted_local: list[dict[str, Any]] = []
        self.bytes_uploaded = 0
        self.unverified = 0
        self.next_attempts: dict[str, str] = {}
        trash = mode == DeleteMode.TRASH.value
        self.default: Deletion = (ItemOutcome.TRASHED if trash else ItemOutcome.DELETED,
                                  TRASHED_DETAIL if trash else DELETED_DETAIL, 0)
        self.batches: list[_Batch] = []
        self.batch_of: dict[int, int] = {}
        self.settled = 0
        self.journal: Journal | None = None
        self.run_id = 0
        self.folders_removed: list[str] = []
        self.proved: list[Job] = []  # proved, waiting for the durable commit that hands them to the deleter
        self.handed_at = time.monotonic()
        self.synchronous: bool | None = None  # the connection's setting as _durable last made it (None: unknown)
        self.transferring = 0  # jobs started whose "done" is not handled yet
        # what one drain proved and deleted, written in one statement each at the end of its commit
        self.verified_rows: list[tuple[int, str, str, str | None, str | None, str]] = []
        self.deleted_ids: list[int] = []

    # -- the run
    def run(self, chosen: list[PlanItem]) -> RunResult:
        started = time.monotonic()
        self._hooks(True)
        try:
            check_bucket(self.client, self.remote, "Upload")
            try:
                self.enforcement = checksum_enforcement(self.catalog, self.remote, self.client)
            except Exception as exc:  # noqa: BLE001 — without a probe every upload is read back
                log_event(s3_log, logging.WARNING, "checksum_probe_failed", error=str(exc))
            self._abort_leftovers(chosen)
            self.run_id = start_run(self.catalog, self.plan, self.started_by, self.mode)
            ids = self._enqueue(chosen)
            self._plan_batches(chosen)
            self.progress.update(done=0, total=len(chosen), bytes_done=0,
                                 bytes_total=sum(i.size for i in chosen), phase="uploading", current="")
            self.journal = Journal(self.catalog, self.run_id)
            try:
                self._loop(chosen, ids)
                self._settle_rest()
                if self.remove_empty:
                    self.folders_removed = self.copies.remove_emptied(self.emptied)
            finally:
                self.journal.close()
        finally:
            self._hooks(False)
            self.synchronous = None  # the journal's close set it back behind our back: say it again
            self._durable(True)
        return self._finish(time.monotonic() - started)

    def _abort_leftovers(self, chosen: list[PlanItem]) -> None:
        """Abort multipart uploads a crash or cancel left behind: recorded ones, and any still open
        on the store for the keys of this plan or of the remote's queue."""
        from botocore.exceptions import BotoCoreError, ClientError

        uq.release_stale_claims(self.catalog)
        uq.settle_verified_gone(self.catalog)
        ours = {key_of(i) for i in chosen} | {r.key for r in uq.list_records(self.catalog, self.remote.id)}
        aborted: set[tuple[str, str]] = set()
        try:
            for rec in uq.leftover_multipart(self.catalog, self.remote.id):
                assert rec.multipart_upload_id is not None
                self._abort(rec.key, rec.multipart_upload_id)
                aborted.add((rec.key, rec.multipart_upload_id))
                uq.record_multipart(self.catalog, rec.id, None)
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.remote.bucket, Prefix=self.remote.prefix):
                for up in page.get("Uploads", []) or []:
                    if up["Key"] in ours and (up["Key"], up["UploadId"]) not in aborted:
                        self._abort(up["Key"], up["UploadId"])
        except (ClientError, BotoCoreError) as exc:
            log_event(s3_log, logging.WARNING, "multipart_cleanup_failed", bucket=self.remote.bucket,
                      error=str(exc))

    def _abort(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.abort_multipart_upload(Bucket=self.remote.bucket, Key=key, UploadId=upload_id)
            log_event(s3_log, logging.INFO, "multipart_upload_aborted", bucket=self.remote.bucket, key=key)
        except ClientError as exc:
            if error_code(exc) not in ("NoSuchUpload", "404"):
                raise

    def _enqueue(self, chosen: list[PlanItem]) -> dict[int, int]:
        with self.catalog.transaction():
            rows = uq.enqueue_many(self.catalog, self.remote.id, [
                (item.project_id, item.target, key_of(item), item.size, int(item.fingerprint.get("mtime_ns", 0)))
                for item in chosen])
        return {item.id or 0: upload_id for item, upload_id in zip(chosen, rows, strict=True)}

    def _plan_batches(self, chosen: list[PlanItem]) -> None:
        for start in range(0, len(chosen), JOURNAL_BATCH):
            part = chosen[start:start + JOURNAL_BATCH]
            index = len(self.batches)
            self.batches.append(_Batch(part[0].id or 0, part[-1].id or 0, len(part)))
            for item in part:
                self.batch_of[item.id or 0] = index

    def _loop(self, chosen: list[PlanItem], ids: dict[int, int]) -> None:
        """The main thread claims, records and decides; files are hashed and uploaded on
        ``upload_concurrency`` pool threads (single-part ``PutObject``) or by s3transfer
        (multipart); local files are deleted on one deleter thread (DESIGN "Workers")."""
        manager = self._transfer_manager()
        # single-part files go straight to PutObject: s3transfer's per-file bookkeeping costs
        # more CPU than the request itself for small files (measured 13.7 vs 7.5 ms per file)
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="mediaclean-upload")
        self.deleter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediaclean-delete")
        # files in transfer (claimed, not yet proved) are held to twice the threads, so every thread
        # always finds the next file; proved files waiting for their durable hand-over and deletion do
        # not hold uploads back (they did: every 16 files the uploads stopped for an fsync), but are
        # bounded too, so memory stays flat
        window = self.concurrency * 2
        outstanding = window + 2 * HAND_OVER
        pending: set[int] = set()
        position = 0
        try:
            while position < len(chosen) or pending:
                if self.cancel is not None and self.cancel.cancelled and not self.cancelled:
                    self.cancelled = True
                    for running in list(self.jobs.values()):
                        if running.future is not None:
                            running.future.cancel()
                while not self.cancelled and not self.stop_reason and position < len(chosen) \
                        and self.transferring < window and len(pending) < outstanding:
                    take = chosen[position:position + min(window - self.transferring, outstanding - len(pending))]
                    position += len(take)
                    for item, record in self._claim(take, ids):
                        if record is None:
                            self._record(item, ItemOutcome.SKIPPED, "being uploaded by another worker right now")
                            continue
                        job = Job(item, record.id, key_of(item), item.size,
                                  int(item.fingerprint.get("mtime_ns", 0)), prior=record,
                                  multipart=item.size >= self.threshold)
                        pending.add(job.upload_id)
                        self.jobs[job.upload_id] = job
                        self.transferring += 1
                        self._start(manager, job)
                if (self.cancelled or self.stop_reason) and position < len(chosen):
                    self._not_tried(chosen[position:], ids)
                    position = len(chosen)
                if pending:
                    self._handle(self._drain(), pending)
        except BaseException:
            self.pool.shutdown(wait=True, cancel_futures=True)
            manager.shutdown(cancel=True)
            self.deleter.shutdown(wait=True)
            for upload_id in pending:  # interrupted: give the rows back to the queue
                uq.release(self.catalog, upload_id, "interrupted")
            raise
        self.pool.shutdown(wait=True)
        manager.shutdown(cancel=self.cancelled)
        self.deleter.shutdown(wait=True)

    def _drain(self) -> list[tuple[str, Any]]:
        """The events that are ready, waiting up to 0.2 s for the first and then up to :data:`GATHER_WAIT`
        for as many as there are upload threads, so one commit covers many files."""
        batch: list[tuple[str, Any]] = []
        try:
            batch.append(self.events.get(timeout=0.2))
            until = time.monotonic() + GATHER_WAIT
            while True:
                try:
                    batch.append(self.events.get_nowait())
                    continue
                except queue_mod.Empty:
                    left = until - time.monotonic()
                    if len(batch) >= self.concurrency or left <= 0:
                        break
                batch.append(self.events.get(timeout=left))
        except queue_mod.Empty:
            pass
        return batch

    def _durable(self, durable: bool) -> None:
        """Whether the next commits wait for the disk (``synchronous=FULL``) or not (``NORMAL``: still
        crash-safe in WAL mode — a killed process loses nothing; a power cut may lose the last
        commits). Only a commit that records proofs before local files are deleted must be durable.
        The pragma is sent only when the setting changes (once per hand-over, not once per drain)."""
        if self.synchronous is not durable:
            self.catalog.conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self.synchronous = durable

    def _claim(self, items: list[PlanItem], ids: dict[int, int]) -> list[tuple[PlanItem, uq.UploadRecord | None]]:
        """Claim the queue rows of some items in one transaction: ``(item, row)``, ``row`` ``None``
        when another worker holds it. The journal notes their batches as in flight first."""
        worker = uq.worker_id(self.run_id)
        self._durable(False)
        assert self.journal is not None
        for item in items:
            batch = self.batches[self.batch_of[item.id or 0]]
            if not batch.begun:
                batch.begun = True
                self.journal.begin(batch.first, batch.last)
        with self.catalog.transaction():
            claimed = uq.claim_many(self.catalog, [ids[item.id or 0] for item in items], worker)
        return [(item, claimed.get(ids[item.id or 0])) for item in items]

    # -- main thread: record outcomes, then hand proved files to the deleter
    def _handle(self, batch: list[tuple[str, Any]], pending: set[int]) -> None:
        """Record one drain of events in one commit (not waiting for the disk); proved files wait in
        :attr:`proved` until :meth:`_hand_over` makes their proofs durable in one commit for many."""
        self._durable(False)
        with self.catalog.transaction():
            self.verified_rows, self.deleted_ids = [], []
            for kind, payload in batch:
                if kind == "mpu":
                    job, multipart_id = payload
                    uq.record_multipart(self.catalog, job.upload_id, multipart_id)
                    continue
                job = payload
                if kind == "done":
                    self.transferring -= 1
                    self.jobs_by_key.pop(job.key, None)
                    if self._settle_upload(job):
                        self.proved.append(job)
                        continue
                else:  # "deleted"
                    self._settle_deletion(job)
                pending.discard(job.upload_id)
                self.jobs.pop(job.upload_id, None)
            uq.mark_verified_many(self.catalog, self.verified_rows)  # before the hand-over below makes them durable
            uq.mark_deleted_local_many(self.catalog, self.deleted_ids, recorded=True)
            self._settle_batches()
        if self.proved and (len(self.proved) >= HAND_OVER or len(self.proved) == len(pending)
                            or time.monotonic() - self.handed_at >= HAND_OVER_WAIT):
            self._hand_over()

    def _hand_over(self) -> None:
        """Make the proofs of :attr:`proved` durable, record each object as an only copy, and hand the files to
        the deleter: one ``synchronous=FULL`` commit (it also makes every earlier commit durable: one WAL)."""
        jobs, self.proved = self.proved, []
        self._durable(True)  # the proofs are on disk before any local file goes (invariant 3)
        with self.catalog.transaction():
            # the object becomes the only copy the moment the file goes: every sweep of every remote on
            # this bucket must know it before the unlink (F3), even if this process is killed right after
            when = iso()
            for job in jobs:
                job.only_copy_at = when
            record_only_copies(self.catalog, [job.upload_id for job in jobs], when)
        self._durable(False)
        self.handed_at = time.monotonic()
        future = self.deleter.submit(self._delete, jobs)
        future.add_done_callback(lambda _f: self._report_deleted(jobs))

    def _delete(self, jobs: list[Job]) -> None:
        """The deleter thread: the guarded delete path for one commit's proved files."""
        for job, deletion in zip(jobs, self.copies.delete([(j.item, j.key) for j in jobs]), strict=True):
            job.deletion = deletion

    def _report_deleted(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.events.put(("deleted", job))

    def _settle_upload(self, job: Job) -> bool:
        """Record the upload's outcome; ``True`` when the local file should now be deleted."""
        item = job.item
        if job.local is not None:
            outcome, detail = job.local
            if outcome == "already_gone":
                uq.release(self.catalog, job.upload_id)
                uq.forget_path(self.catalog, job.upload_id)
                self._record(item, ItemOutcome.ALREADY_GONE, detail)
            elif outcome == "failed":
                next_at = uq.mark_failed(self.catalog, job.upload_id, detail)
                self._fail(item, detail, next_attempt_at=next_at)
            else:
                uq.release(self.catalog, job.upload_id, detail)
                self._record(item, ItemOutcome(outcome), detail)
            return False
        assert job.digest is not None
        if job.clash and job.error is None:
            uq.release(self.catalog, job.upload_id, job.clash)
            self._record(item, ItemOutcome.SKIPPED, job.clash)
            return False
        if job.error is not None:
            exc = job.error
            if _is_cancel(exc):
                uq.release(self.catalog, job.upload_id, "cancelled")
                self._record(item, ItemOutcome.SKIPPED, "cancelled")
                return False
            code = error_code(exc)
            explained = explain_s3_error(exc, self.remote, "Upload")
            if code in _MISMATCH_CODES:
                message = ("checksum mismatch: the store received other bytes than were hashed (did the file change "
                           "during the upload?); the local file is kept")
            else:
                message = explained.message + " The local file is kept."
            if code in _UNREACHABLE or code in _STOP_CODES:
                self.stop_reason = self.stop_reason or explained.message
            next_at = uq.mark_failed(self.catalog, job.upload_id, message)
            self._fail(item, message, next_attempt_at=next_at)
            return False
        verdict = job.verdict
        assert verdict is not None
        etag = (job.response.get("ETag") or job.head.get("ETag") or "").strip('"') or None
        version = job.response.get("VersionId") or job.head.get("VersionId")
        if version == "null":  # an unversioned bucket's answer (moto): there is no version to record
            version = None
        uploaded = {"path": display_path(item.target), "key": job.key, "size": job.size,
                    "checksum": f"{job.digest.algorithm}:{job.digest.value}", "verified": verdict.verified,
                    "etag": etag, "version_id": version, "proof": job.proof}
        if verdict.mismatch:
            message = f"the store holds different bytes ({verdict.detail}); the local file is kept"
            next_at = uq.mark_failed(self.catalog, job.upload_id, message)
            self._fail(item, message, next_attempt_at=next_at)
            return False
        if not job.verify_only:
            self.uploaded.append(uploaded)
            self.bytes_uploaded += job.size
        if not verdict.verified:
            detail = f"upload not verified: {verdict.detail}; the local file is kept"
            uq.mark_unverified(self.catalog, job.upload_id, algorithm=job.digest.algorithm,
                               checksum=job.digest.value, etag=etag, version_id=version, detail=detail)
            self.unverified += 1
            self._record(item, ItemOutcome.SKIPPED, detail)
            return False
        if job.verify_only and job.prior is not None:
            etag, version = etag or job.prior.etag, version or job.prior.version_id
        self.verified_rows.append((job.upload_id, job.digest.algorithm, job.digest.value, etag, version, job.proof))
        if s3_log.isEnabledFor(logging.INFO):
            log_event(s3_log, logging.INFO, "upload_verified", file_path=display_path(item.target), size=job.size,
                      bucket=self.remote.bucket, key=job.key, etag=etag, version_id=version, proof=job.proof)
        if item.action is Action.UPLOAD_THEN_DELETE:
            return True
        self._record(item, ItemOutcome.UPLOADED, f"uploaded and verified ({job.proof}); the local copy is kept")
        return False

    def _settle_deletion(self, job: Job) -> None:
        item = job.item
        outcome, detail, freed = job.deletion or (ItemOutcome.FAILED, "the deletion did not report back", 0)
        if outcome not in (ItemOutcome.DELETED, ItemOutcome.TRASHED) and job.only_copy_at:
            forget_only_copy(self.catalog, job.upload_id, job.only_copy_at)  # the local copy is still there
        if outcome is ItemOutcome.FAILED:
            self._fail(item, detail)
            return
        self._record(item, outcome, detail, freed)
        if outcome in (ItemOutcome.DELETED, ItemOutcome.TRASHED):
            if job.only_copy_at:
                self.deleted_ids.append(job.upload_id)
            else:
                uq.mark_deleted_local(self.catalog, job.upload_id)
            self.deleted_local.append({"path": display_path(item.target), "size": job.size, "key": job.key,
                                       "outcome": outcome.value})
            if self.remove_empty:
                stop = f"{item.root}/{item.group}" if item.group else item.root
                self.emptied[item.target.rpartition("/")[0]] = (item.root, stop)

    # -- the journal
    def _record(self, item: PlanItem, outcome: ItemOutcome, detail: str, freed: int = 0) -> None:
        """Note an item's final outcome (exactly once per item); journalled with its batch."""
        batch = self.batches[self.batch_of[item.id or 0]]
        if (outcome, detail) != self.default[:2] or freed != (0 if outcome is ItemOutcome.TRASHED else item.size):
            batch.exceptions.append((outcome, detail, freed, item.id or 0))
        else:
            batch.defaulted.append((item.id or 0, freed))
        batch.waiting -= 1
        self.progress.update(done=self.progress.progress.done + 1)

    def _fail(self, item: PlanItem, message: str, next_attempt_at: str | None = None) -> None:
        if next_attempt_at:
            self.next_attempts[display_path(item.target)] = next_attempt_at
        self._record(item, ItemOutcome.FAILED, message)

    def _settle_batches(self) -> None:
        """Journal every batch, in plan order, whose items all have their outcome (inside the caller's
        transaction: one commit for the drain)."""
        assert self.journal is not None
        while self.settled < len(self.batches) and self.batches[self.settled].waiting == 0:
            batch = self.batches[self.settled]
            self.journal.settle(batch.first, batch.last, self.default[0], batch.exceptions, self.default[1])
            self.settled += 1

    def _settle_rest(self) -> None:
        """After the loop: batches with items never tried (cancel, a store that stopped answering) settle
        those items as skipped."""
        assert self.journal is not None
        self._settle_batches()
        reason = "cancelled" if self.cancelled else f"not tried: {self.stop_reason}"
        outcome, detail, _ = self.default
        for batch in self.batches[self.settled:]:  # what was done is written item by item, the rest skipped
            done = batch.exceptions + [(outcome, detail, freed, item_id) for item_id, freed in batch.defaulted]
            self.journal.settle(batch.first, batch.last, ItemOutcome.SKIPPED, done, reason)
        self.settled = len(self.batches)
        self.journal.skip_rest(reason)  # nothing should be left; never leave an item pending

    def _not_tried(self, items: list[PlanItem], ids: dict[int, int]) -> None:
        if self.cancelled:
            return  # settled as "cancelled" with their batches
        reason = f"not tried: {self.stop_reason}"
        with self.catalog.transaction() as conn:
            conn.executemany("UPDATE uploads SET last_error = ?, updated_at = ? WHERE id = ? AND status != 'uploading'",
                             [(reason, iso(), ids[item.id or 0]) for item in items])

    # -- the finish
    def _finish(self, seconds: float) -> RunResult:
        result = RunResult(self.run_id, self.plan.id, PlanKind.UPLOAD, mode=self.mode)
        stopped = "cancelled" if self.cancelled else self.stop_reason
        keys = {display_path(i.target): key_of(i) for i in self.plan.items}
        result.details.update({
            "uploaded": self.uploaded, "deleted_local": self.deleted_local, "bytes_uploaded": self.bytes_uploaded,
            "unverified": self.unverified, "folders_removed": self.folders_removed, "requests": self.requests,
            "seconds": round(seconds, 3), "stopped": stopped,
            "transfer_client": "crt" if self.native is not None else "classic",
        })
        finish_run(self.catalog, result, cancelled=self.cancelled, stopped=bool(self.stop_reason),
                   summarize=lambda r: upload_summary(r, self.uploaded, self.bytes_uploaded, self.unverified))
        for entry in result.failed + result.skipped:  # what the command line and the window show with each
            entry["key"] = keys.get(entry["target"], "")
            entry["path"] = entry["target"]
            if entry["target"] in self.next_attempts:
                entry["next_attempt_at"] = self.next_attempts[entry["target"]]
        log_event(s3_log, logging.INFO, "run_finished", run_id=result.run_id, status=result.status.value,
                  summary=result.summary, requests=self.requests)
        return result


def upload_summary(result: RunResult, uploaded: list[dict[str, Any]], nbytes: int, unverified: int) -> str:
    """``Upload: uploaded 12 files (40.00 MB), 12 verified; deleted 12 local files, freed 40.00 MB`` (SI MB);
    a trash run says what it moved, since it freed nothing (invariant 16)."""
    verified = sum(1 for u in uploaded if u["verified"])
    line = f"Upload: uploaded {len(uploaded)} files ({nbytes / MB:.2f} MB), {verified} verified; "
    if result.trashed_count and not result.deleted_count:
        line += f"moved {result.trashed_count} local files ({result.trashed_bytes / MB:.2f} MB) to the trash"
    else:
        line += f"deleted {result.deleted_count} local files, freed {result.freed_bytes / MB:.2f} MB"
        if result.trashed_count:
            line += f"; moved {result.trashed_count} ({result.trashed_bytes / MB:.2f} MB) to the trash"
    if result.failed_count:
        line += f"; {result.failed_count} failed (kept for retry)"
    if unverified:
        line += f"; {unverified} not verified (kept)"
    return line


__all__ = ["JOURNAL_BATCH", "execute_upload_plan", "upload_summary"]
