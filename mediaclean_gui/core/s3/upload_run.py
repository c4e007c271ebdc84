"""F3 execution: run a stored upload plan exactly; claim, transfer and prove, and only then delete the local copy.

A local file goes only when the store has proved it holds the same bytes (invariant 3). Just
before the unlink the object is recorded as an **only copy** (:mod:`.protections`), so every
sweep and lifecycle rule of every remote on that bucket keeps it, even if this process is
killed right after (F3). Every local deletion goes through the one guarded delete path
(:class:`..delete.GuardedRoot`): the target's form is checked, its folder is reached without
following links or crossing mounts, it is compared by identity with every protected artifact
of every project (an uploaded file that is, or is a hard link of, a final render, a thumbnail
or a database is never deleted: invariant 11) and with its fingerprint (a file changed since
it was hashed is kept: the uploaded object is the earlier version), and only then unlinked or
moved, by descriptor, to a trash on the same file system (nothing freed: invariant 16). Emptied
folders are removed the same way. Deletions are logged as ``local_file_deleted`` /
``local_file_not_found`` / ``failed_to_delete_local_file`` with path and size (seed 000).

Failures keep the local file and go back to the persistent queue (:mod:`.queue`) with
exponential back-off; a cancelled or crashed multipart upload is aborted on the store.
The run's lifecycle (start, journal, finish, reconcile) is still this module's own; it moves
onto ``core/run/`` with the lead's restructuring.
"""

from __future__ import annotations

import logging
import os
import queue as queue_mod
import time
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog, display_path, iso
from ..delete import GuardedRoot, Located, Removal
from ..errors import ConfigError, SafetyRefusal
from ..events import CancelToken, Progress, log_event, s3_log
from ..execute import RunJournal, reconcile_interrupted_runs
from ..plan import Action, Plan, PlanItem, load_plan
from ..protected import gather_protection
from ..run.model import ItemOutcome
from ..safety import DeleteLimits, Protection, require_confirmation
from . import queue as uq
from .probe import checksum_enforcement
from .protections import forget_only_copy, record_only_copy
from .remote import Remote, check_bucket, error_code, explain_s3_error, get_remote, make_client
from .transfer import Job, Transfer, _is_cancel
from .upload_plan import key_of

MB = 1_000_000  # SI: what every size shown says
_MISMATCH_CODES = {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidChecksum"}
_STOP_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "AccessDenied", "NoCredentials",
               "ExpiredToken", "InvalidToken", "AllAccessDisabled", "ProfileNotFound"}
_UNREACHABLE = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ProxyConnectionError",
                "ReadTimeoutError"}


# ---------------------------------------------------------------- result


@dataclass
class UploadResult:
    """What an upload run did. ``freed_bytes`` counts only local files really removed (invariant 7)."""

    run_id: int
    plan_id: int
    status: str
    mode: str
    uploaded: list[dict[str, Any]] = field(default_factory=list)
    deleted_local: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    already_gone: int = 0
    freed_bytes: int = 0
    trashed_count: int = 0
    trashed_bytes: int = 0
    bytes_uploaded: int = 0
    requests: int = 0
    seconds: float = 0.0
    folders_removed: list[str] = field(default_factory=list)
    stopped: str = ""

    @property
    def deleted_count(self) -> int:
        return len(self.deleted_local) - self.trashed_count

    @property
    def unverified(self) -> list[dict[str, Any]]:
        return [u for u in self.uploaded if not u["verified"]]

    def summary_line(self) -> str:
        """``Upload: uploaded 12 files (40.00 MB), 12 verified; deleted 12 local files, freed 40.00 MB``."""
        verified = sum(1 for u in self.uploaded if u["verified"])
        line = (f"Upload: uploaded {len(self.uploaded)} files ({self.bytes_uploaded / MB:.2f} MB), "
                f"{verified} verified; ")
        if self.trashed_count and not self.deleted_count:
            line += f"moved {self.trashed_count} local files ({self.trashed_bytes / MB:.2f} MB) to the trash"
        else:
            line += f"deleted {self.deleted_count} local files, freed {self.freed_bytes / MB:.2f} MB"
            if self.trashed_count:
                line += f"; moved {self.trashed_count} ({self.trashed_bytes / MB:.2f} MB) to the trash"
        if self.failed:
            line += f"; {len(self.failed)} failed (kept for retry)"
        if self.unverified:
            line += f"; {len(self.unverified)} not verified (kept)"
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "plan_id": self.plan_id,
            "status": self.status,
            "mode": self.mode,
            "uploaded": self.uploaded,
            "deleted_local": self.deleted_local,
            "deleted_count": self.deleted_count,
            "freed_bytes": self.freed_bytes,
            "deleted_size_mb": round(self.freed_bytes / MB, 2),
            "trashed_count": self.trashed_count,
            "trashed_bytes": self.trashed_bytes,
            "bytes_uploaded": self.bytes_uploaded,
            "failed": self.failed,
            "skipped": self.skipped,
            "already_gone": self.already_gone,
            "folders_removed": self.folders_removed,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "summary": self.summary_line(),
        }


# ---------------------------------------------------------------- executor


def execute_upload_plan(
    catalog: Catalog,
    plan_id: int,
    *,
    started_by: str = "user",
    mode: str | None = None,
    confirm_large: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    client: Any = None,
    max_attempts: int = 5,
    remove_empty_folders: bool | None = None,
    **_: Any,
) -> UploadResult:
    """Run the stored upload plan ``plan_id`` exactly (invariant 4).

    Per item: claim its queue row, re-check the fingerprint, hash the file,
    upload it with the checksum (boto3's transfer manager: ``multipart_threshold_mb``
    and ``upload_concurrency`` preferences), prove it (see the module docstring),
    record key, ETag, version id, checksum and verification time, and — for
    ``upload_then_delete`` — re-check the fingerprint and delete (``mode``
    ``permanent`` or ``trash``; default the ``delete_mode`` preference). Run items
    end ``deleted``, ``uploaded`` (local copy kept by the plan), ``already_gone``,
    ``failed`` (kept, queued for retry with back-off) or ``skipped``.

    ``progress.bytes_done``/``bytes_total`` count bytes sent (hashing is not
    counted), ``done``/``total`` items, ``current`` the file being sent;
    ``progress.callback`` is called from worker threads (under a lock), so a
    window must hand the values to its GUI thread (a queued signal). ``client`` replaces the boto3 client made
    from the remote (tests wrap the real one); ``max_attempts`` is botocore's
    retry budget per request.

    Raises :class:`S3Error` before anything is uploaded or deleted when the
    bucket cannot be reached with the credentials (one sentence, exit 2);
    :class:`SafetyRefusal` for a refused or already-run plan or one above the
    delete limits without ``confirm_large``; :class:`ConfigError` for a plan of
    another kind.
    """
    progress = progress or Progress()
    with catalog.writer("upload"):
        reconcile_interrupted_runs(catalog)
        plan = load_plan(catalog, plan_id)
        if plan.kind != "upload":
            raise ConfigError(f"Plan {plan_id} is a {plan.kind} plan, not an upload plan.")
        if plan.status == "refused":
            raise SafetyRefusal(f"Plan {plan_id} was refused ({plan.summary}); nothing was uploaded or deleted.")
        if plan.status == "executed":
            raise SafetyRefusal(f"Plan {plan_id} has already been run; make a new preview to upload again.")
        prefs = catalog.prefs()
        mode = mode or str(prefs["delete_mode"])
        chosen = plan.selected_items()
        deleting = [i for i in chosen if i.action is Action.UPLOAD_THEN_DELETE]
        require_confirmation(DeleteLimits.from_prefs(prefs).exceeded(len(deleting), sum(i.size for i in deleting), 0),
                             confirm_large)
        remote = get_remote(catalog, int(plan.params["remote_id"]))
        concurrency = max(1, int(prefs["upload_concurrency"]))
        if client is None:
            # every upload request carries a signed checksum header, so the body need not be hashed twice
            client = make_client(remote, max_attempts=max_attempts, max_pool_connections=concurrency + 4,
                                 sign_payload=False)
        protection = gather_protection(catalog, plan_id)
        engine = _Engine(catalog, plan, remote, client, mode, prefs, progress, cancel, started_by,
                         bool(prefs["remove_empty_folders"]) if remove_empty_folders is None else remove_empty_folders,
                         protection)
        return engine.run(chosen)


class _Engine(Transfer):
    """One upload run (holds the writer lock through :func:`execute_upload_plan`): claims, outcomes, deletions."""

    def __init__(self, catalog: Catalog, plan: Plan, remote: Remote, client: Any, mode: str,
                 prefs: dict[str, Any], progress: Progress, cancel: CancelToken | None, started_by: str,
                 remove_empty: bool, protection: Protection) -> None:
        super().__init__(plan, remote, client, prefs, progress)
        self.protection = protection
        self.catalog = catalog
        self.mode = mode
        self.cancel = cancel
        self.started_by = started_by
        self.remove_empty = remove_empty
        self.roots: dict[str, GuardedRoot | Removal] = {}  # used on the deleter thread only
        self.stop_reason = ""
        self.cancelled = False
        self.emptied: dict[str, tuple[str, str]] = {}
        self.deleter: Any = None
        self.jobs: dict[int, Job] = {}
        self.result = UploadResult(0, plan.id, "running", mode)

    # -- the run
    def run(self, chosen: list[PlanItem]) -> UploadResult:
        started = time.monotonic()
        self._hooks(True)
        try:
            check_bucket(self.client, self.remote, "Upload")
            try:
                self.enforcement = checksum_enforcement(self.catalog, self.remote, self.client)
            except Exception as exc:  # noqa: BLE001 — without a probe every upload is read back
                log_event(s3_log, logging.WARNING, "checksum_probe_failed", error=str(exc))
            self._abort_leftovers(chosen)
            self.result.run_id = self._start_run()
            ids = self._enqueue(chosen)
            self.progress.update(done=0, total=len(chosen), bytes_done=0,
                                 bytes_total=sum(i.size for i in chosen), phase="uploading", current="")
            self._journal = RunJournal(self.catalog, self.result.run_id, batch=200)
            try:
                self._loop(chosen, ids)
            finally:
                self._journal.flush()
            if self.remove_empty:
                self._remove_empty_folders()
            for guarded in self.roots.values():
                if isinstance(guarded, GuardedRoot):
                    guarded.close()
            self.roots.clear()
        finally:
            self._hooks(False)
            self._durable(True)
        self.result.requests = self.requests
        self.result.seconds = time.monotonic() - started
        return self._finish()

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

    def _start_run(self) -> int:
        with self.catalog.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs(plan_id, kind, started_at, started_by, status, mode, pid) "
                "VALUES (?, 'upload', ?, ?, 'running', ?, ?)",
                (self.plan.id, iso(), self.started_by, self.mode, os.getpid()),
            )
            run_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO run_items(run_id, plan_item_id, outcome, detail) VALUES (?, ?, ?, ?)",
                [(run_id, i.id, "pending" if i.selected else "skipped", "" if i.selected else "excluded by the user")
                 for i in self.plan.items],
            )
            conn.execute("UPDATE plans SET status = 'executed' WHERE id = ?", (self.plan.id,))
        return run_id

    def _enqueue(self, chosen: list[PlanItem]) -> dict[int, int]:
        ids: dict[int, int] = {}
        with self.catalog.transaction():
            for item in chosen:
                assert item.id is not None
                ids[item.id] = uq.enqueue(self.catalog, self.remote.id, item.project_id, item.target, key_of(item),
                                          item.size, int(item.fingerprint.get("mtime_ns", 0)))
        return ids

    def _loop(self, chosen: list[PlanItem], ids: dict[int, int]) -> None:
        """The main thread claims, records and decides; files are hashed and uploaded on
        ``upload_concurrency`` pool threads (single-part ``PutObject``) or by s3transfer
        (multipart); local files are deleted on one deleter thread (DESIGN "Workers")."""
        from concurrent.futures import ThreadPoolExecutor

        manager = self._transfer_manager()
        # single-part files go straight to PutObject: s3transfer's per-file bookkeeping costs
        # more CPU than the request itself for small files (measured 13.7 vs 7.5 ms per file)
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="mediaclean-upload")
        self.deleter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediaclean-delete")
        window = self.concurrency * 2
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
                        and len(pending) < window:
                    take = chosen[position:position + window - len(pending)]
                    position += len(take)
                    for item, record in self._claim(take, ids):
                        if record is None:
                            self._record(item, "skipped", "being uploaded by another worker right now")
                            continue
                        job = Job(item, record.id, key_of(item), item.size,
                                   int(item.fingerprint.get("mtime_ns", 0)), prior=record,
                                   multipart=item.size >= self.threshold)
                        pending.add(job.upload_id)
                        self.jobs[job.upload_id] = job
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
        """Every event that is ready (waiting up to 0.2 s for the first), so one commit covers many files."""
        batch: list[tuple[str, Any]] = []
        try:
            batch.append(self.events.get(timeout=0.2))
            while True:
                batch.append(self.events.get_nowait())
        except queue_mod.Empty:
            pass
        return batch

    def _durable(self, durable: bool) -> None:
        """Whether the next commits wait for the disk (``synchronous=FULL``) or not (``NORMAL``: still
        crash-safe in WAL mode — a killed process loses nothing; a power cut may lose the last
        commits). Only a commit that records proofs before local files are deleted must be durable."""
        self.catalog.conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")

    def _claim(self, items: list[PlanItem], ids: dict[int, int]) -> list[tuple[PlanItem, uq.UploadRecord | None]]:
        """Claim the queue rows of some items in one transaction: ``(item, row)``, ``row`` ``None``
        when another worker holds it."""
        worker = uq.worker_id(self.result.run_id)
        self._durable(False)
        out: list[tuple[PlanItem, uq.UploadRecord | None]] = []
        with self.catalog.transaction():
            for item in items:
                upload_id = ids[item.id or 0]
                out.append((item, uq.get_record(self.catalog, upload_id)
                            if uq.claim(self.catalog, upload_id, worker) else None))
        return out

    # -- main thread: record outcomes, then hand proved files to the deleter
    def _handle(self, batch: list[tuple[str, Any]], pending: set[int]) -> None:
        done = [p for k, p in batch if k == "done"]
        # the proofs are on disk before any local file goes (invariant 3)
        self._durable(any(j.wants_delete for j in done))
        deletions: list[Job] = []
        with self.catalog.transaction():
            for kind, payload in batch:
                if kind == "mpu":
                    job, multipart_id = payload
                    uq.record_multipart(self.catalog, job.upload_id, multipart_id)
                    continue
                job = payload
                if kind == "done":
                    self.jobs_by_key.pop(job.key, None)
                    if self._settle_upload(job):
                        # the object becomes the only copy the moment the file goes: every sweep of
                        # every remote on this bucket must know it before the unlink (F3), even if
                        # this process is killed right after it
                        job.only_copy_at = iso()
                        record_only_copy(self.catalog, job.upload_id, job.only_copy_at)
                        deletions.append(job)
                        continue
                else:  # "deleted"
                    self._settle_deletion(job)
                pending.discard(job.upload_id)
                self.jobs.pop(job.upload_id, None)
            self._journal.flush()
        if deletions:
            future = self.deleter.submit(self._delete_proved, deletions)
            future.add_done_callback(lambda _f, jobs=deletions: self._report_deleted(jobs))

    def _settle_upload(self, job: Job) -> bool:
        """Record the upload's outcome; ``True`` when the local file should now be deleted."""
        item = job.item
        if job.local is not None:
            outcome, detail = job.local
            if outcome == "already_gone":
                uq.release(self.catalog, job.upload_id)
                uq.forget_path(self.catalog, job.upload_id)
                self._record(item, outcome, detail)
            elif outcome == "failed":
                next_at = uq.mark_failed(self.catalog, job.upload_id, detail)
                self._fail(item, detail, next_attempt_at=next_at)
            else:
                uq.release(self.catalog, job.upload_id, detail)
                self._record(item, outcome, detail)
            return False
        assert job.digest is not None
        if job.clash and job.error is None:
            uq.release(self.catalog, job.upload_id, job.clash)
            self._record(item, "skipped", job.clash)
            return False
        if job.error is not None:
            exc = job.error
            if _is_cancel(exc):
                uq.release(self.catalog, job.upload_id, "cancelled")
                self._record(item, "skipped", "cancelled")
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
            self.result.uploaded.append(uploaded)
            self.result.bytes_uploaded += job.size
        if not verdict.verified:
            detail = f"upload not verified: {verdict.detail}; the local file is kept"
            uq.mark_unverified(self.catalog, job.upload_id, algorithm=job.digest.algorithm,
                               checksum=job.digest.value, etag=etag, version_id=version, detail=detail)
            self._record(item, "skipped", detail)
            return False
        if job.verify_only and job.prior is not None:
            etag, version = etag or job.prior.etag, version or job.prior.version_id
        uq.mark_verified(self.catalog, job.upload_id, algorithm=job.digest.algorithm, checksum=job.digest.value,
                         etag=etag, version_id=version, proof=job.proof)
        log_event(s3_log, logging.INFO, "upload_verified", file_path=display_path(item.target), size=job.size,
                  bucket=self.remote.bucket, key=job.key, etag=etag, version_id=version, proof=job.proof)
        if item.action is Action.UPLOAD_THEN_DELETE:
            return True
        self._record(item, "uploaded", f"uploaded and verified ({job.proof}); the local copy is kept")
        return False

    def _report_deleted(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.events.put(("deleted", job))

    def _delete_proved(self, jobs: list[Job]) -> None:
        """Delete (or trash) the proved files of one batch on the deleter thread, through the one guarded
        delete path; sets each ``job.deletion``. Runs only after the commit that marked the uploads
        ``verified`` (invariant 3). The folders reached are held for the batch and reached afresh by the
        next one (a folder swapped for a link in between is noticed)."""
        held: list[GuardedRoot] = []
        try:
            for job in jobs:
                try:
                    job.deletion = self._delete_local(job, held)
                except Exception as exc:  # noqa: BLE001 — a bug must not leave the item without an outcome
                    job.deletion = ("failed", f"uploaded and verified, but the local file could not be deleted: "
                                              f"{exc}", 0)
        finally:
            for guarded in held:
                guarded.release()

    def _guarded(self, root: str) -> GuardedRoot | Removal:
        found = self.roots.get(root)
        if found is None:
            try:
                found = GuardedRoot(root, self.protection, self.mode)
            except FileNotFoundError:
                found = (ItemOutcome.ALREADY_GONE, "already gone (its workspace folder is gone)", 0)
            except OSError as exc:
                found = (ItemOutcome.FAILED, f"the folder {display_path(root)} cannot be opened "
                                             f"({exc.strerror or exc})", 0)
            self.roots[root] = found
        return found

    def _delete_local(self, job: Job, held: list[GuardedRoot]) -> tuple[str, str, int]:
        """``(outcome, detail, freed bytes)`` of deleting one proved file (deleter thread)."""
        item = job.item
        guarded = self._guarded(item.root)
        removal: Removal | None
        if isinstance(guarded, GuardedRoot):
            if guarded not in held:
                guarded.hold()
                held.append(guarded)
            located = guarded.locate(item.target)
            if isinstance(located, Located):
                removal = guarded.remove(located.parent_fd, located.name, item.target, expected(item))
                if removal is None:
                    removal = (guarded.default_outcome, "", 0 if guarded.default_outcome is ItemOutcome.TRASHED
                               else job.size)
            else:
                removal = located
        else:
            removal = guarded
        return self._worded(job, removal)

    def _worded(self, job: Job, removal: Removal) -> tuple[str, str, int]:
        """The guarded delete path's answer in an upload's words, logged with the seed's events."""
        outcome, detail, freed = removal
        shown = display_path(job.item.target)
        if outcome is ItemOutcome.ALREADY_GONE:
            log_event(s3_log, logging.WARNING, "local_file_not_found", file_path=shown, size=job.size)
            return "already_gone", "uploaded and verified; the local file was already gone", 0
        if outcome is ItemOutcome.FAILED:
            log_event(s3_log, logging.ERROR, "failed_to_delete_local_file", file_path=shown, size=job.size,
                      error=detail)
            return "failed", f"uploaded and verified, but the local file could not be deleted: {detail}", 0
        if outcome is ItemOutcome.SKIPPED:
            if detail == "changed since preview":
                detail = "changed since it was hashed: the uploaded object is the earlier version"
            return "skipped", f"{detail}; uploaded and verified, the local file is kept", 0
        log_event(s3_log, logging.INFO, "local_file_deleted", file_path=shown, size=job.size, key=job.key,
                  mode=self.mode)
        if outcome is ItemOutcome.TRASHED:
            return "trashed", "moved to the trash after a verified upload", 0
        if detail:  # other hard links remain: nothing freed
            return "deleted", f"deleted after a verified upload; {detail}", freed
        return "deleted", "deleted after a verified upload", freed

    def _settle_deletion(self, job: Job) -> None:
        item = job.item
        outcome, detail, freed = job.deletion or ("failed", "the deletion did not report back", 0)
        if outcome not in ("deleted", "trashed") and job.only_copy_at:
            forget_only_copy(self.catalog, job.upload_id, job.only_copy_at)  # the local copy is still there
        if outcome == "failed":
            self._fail(item, detail)
            return
        self._record(item, outcome, detail, freed)
        if outcome == "already_gone":
            self.result.already_gone += 1
        elif outcome in ("deleted", "trashed"):
            uq.mark_deleted_local(self.catalog, job.upload_id)
            self.result.deleted_local.append({"path": display_path(item.target), "size": job.size, "key": job.key,
                                              "outcome": outcome})
            if outcome == "trashed":  # moved, not freed (invariant 16)
                self.result.trashed_count += 1
                self.result.trashed_bytes += job.size
            self.result.freed_bytes += freed
            if self.remove_empty:
                stop = os.path.join(item.root, item.group) if item.group else item.root
                self.emptied[os.path.dirname(item.target)] = (item.root, stop)

    def _remove_empty_folders(self) -> None:
        """Remove folders the run emptied, bottom-up, through the guarded delete path (never a folder that
        holds a protected file, never through a link), stopping below each item's output folder (its
        ``group``): that folder, its parents and the workspace root are never removed."""
        by_root: dict[str, dict[str, str]] = {}
        for folder, (root, stop) in self.emptied.items():
            by_root.setdefault(root, {})[folder] = stop
        for root, folders in by_root.items():
            guarded = self._guarded(root)
            if not isinstance(guarded, GuardedRoot):
                continue
            for folder in sorted(folders, key=lambda p: p.count(os.sep), reverse=True):
                stop = folders[folder]
                current = folder
                while current != stop and current.startswith(stop.rstrip(os.sep) + os.sep):
                    located = guarded.locate(current)
                    if isinstance(located, Located):
                        removal = guarded.remove(located.parent_fd, located.name, current, None, folder=True)
                        outcome = removal[0] if removal is not None else guarded.default_outcome
                    else:
                        outcome = located[0]
                    if outcome is ItemOutcome.ALREADY_GONE:
                        current = os.path.dirname(current)
                        continue
                    if outcome is not ItemOutcome.DELETED:
                        break  # not empty, protected, or not reached safely: it and its parents stay
                    guarded.dirs.forget(os.path.relpath(current, guarded.root).replace(os.sep, "/"))
                    self.result.folders_removed.append(display_path(current))
                    log_event(s3_log, logging.INFO, "empty_folder_removed", folder=display_path(current))
                    current = os.path.dirname(current)

    # -- bookkeeping
    def _record(self, item: PlanItem, outcome: str, detail: str, freed: int = 0) -> None:
        """Journal an item's final outcome (exactly once per item)."""
        self._journal.record(item, outcome, detail, freed)
        self.progress.update(done=self.progress.progress.done + 1)
        if outcome == "skipped":
            self.result.skipped.append({"target": display_path(item.target), "key": key_of(item), "reason": detail})

    def _fail(self, item: PlanItem, message: str, next_attempt_at: str | None = None) -> None:
        self._journal.record(item, "failed", message, 0)
        self.progress.update(done=self.progress.progress.done + 1)
        entry = {"target": display_path(item.target), "path": display_path(item.target), "key": key_of(item),
                 "error": message}
        if next_attempt_at:
            entry["next_attempt_at"] = next_attempt_at
        self.result.failed.append(entry)

    def _not_tried(self, items: list[PlanItem], ids: dict[int, int]) -> None:
        reason = "cancelled" if self.cancelled else f"not tried: {self.stop_reason}"
        with self.catalog.transaction():
            for item in items:
                assert item.id is not None
                self._record(item, "skipped", reason)
                if not self.cancelled:
                    self.catalog.conn.execute(
                        "UPDATE uploads SET last_error = ?, updated_at = ? WHERE id = ? AND status != 'uploading'",
                        (reason, iso(), ids[item.id]))

    def _finish(self) -> UploadResult:
        result = self.result
        result.stopped = "cancelled" if self.cancelled else self.stop_reason
        if self.cancelled:
            result.status = "cancelled"
        elif result.failed or self.stop_reason:
            result.status = "failed"
        else:
            result.status = "complete"
        summary = result.summary_line()
        with self.catalog.transaction() as conn:
            conn.execute(
                "UPDATE runs SET ended_at = ?, status = ?, deleted_count = ?, freed_bytes = ?, failed_count = ?, "
                "skipped_count = ?, trashed_count = ?, trashed_bytes = ?, summary = ? WHERE id = ?",
                (iso(), result.status, result.deleted_count, result.freed_bytes, len(result.failed),
                 len(result.skipped), result.trashed_count, result.trashed_bytes, summary, result.run_id),
            )
        log_event(s3_log, logging.INFO, "run_finished", run_id=result.run_id, status=result.status, summary=summary,
                  requests=result.requests)
        return result


def expected(item: PlanItem) -> tuple[Any, ...]:
    """The item's plan fingerprint as the guarded delete path compares it (device, inode, size, mtime, kind)."""
    fp = item.fingerprint
    return (fp.get("dev"), fp.get("ino"), fp.get("size"), fp.get("mtime_ns"), fp.get("kind"))


__all__ = ["UploadResult", "execute_upload_plan"]
