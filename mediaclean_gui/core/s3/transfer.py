"""F3 transfer: hash a file, put it (``PutObject`` or a multipart upload), and prove the store holds its bytes.

The proof rests on what every S3 store implements (issue 8, part 4):

* the checksum (CRC32, :mod:`.checksum`) is computed from the file before the upload and sent
  with ``ChecksumAlgorithm`` (a bare ``x-amz-checksum-crc32`` is ignored by moto); a multipart
  upload sends a full-object checksum where the endpoint's probe saw it checked, else only the
  algorithm (a composite checksum, reproduced locally from the same part size);
* the proof is the store's acceptance of that checksum only where the probe (:mod:`.probe`)
  saw the store refuse a wrong one; otherwise ``head_object(ChecksumMode="ENABLED")`` is read
  back and compared for size and checksum (full-object ``xxx``, composite ``xxx-N`` or composite
  without its ``-N`` as moto writes it); ``VersionId "null"`` is no version;
* where the store keeps the checksum it is sent without checking it (moto), a matching
  checksum proves nothing, so the ETag must also equal the file's MD5 (single part) or
  ``md5(part MD5s)-N`` (multipart), hashed in the same pass; where the store keeps no checksum
  at all, that ETag alone can prove it; otherwise the upload stays ``unverified`` with a
  sentence saying what to do, and the local file is kept.

Just before bytes go out an upload that must not overwrite carries ``If-None-Match: *`` where
the probe saw the store honour it (also on ``CompleteMultipartUpload``, which s3transfer does
not pass), else a ``head_object`` looks first; an object found there is compared: the same
bytes are the proof, other bytes keep both copies.

What SeaweedFS 4.48 (``weed mini``) and moto 5.2 (``moto_server``) do, measured with boto3 1.44:

* SeaweedFS refuses a wrong checksum on ``PutObject`` and ``CompleteMultipartUpload``
  (``BadDigest``), echoes the right one, keeps full-object and composite (``xxx-N``,
  ``ChecksumType: COMPOSITE``) checksums, and honours ``If-None-Match``;
* moto accepts a wrong checksum and stores it as sent, ignores a checksum header without
  ``ChecksumAlgorithm``, writes composite checksums without ``-N`` and without
  ``ChecksumType``, answers ``VersionId "null"`` on unversioned buckets (and 400 to a
  ``head_object`` asking for it), honours ``If-None-Match``, and its ETags are MD5s.

All of this runs on pool and transfer threads and never touches the catalog; the executor
(:mod:`.upload_run`) records what each :class:`Job` came to.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import queue as queue_mod
import stat
import threading
from dataclasses import dataclass, field
from typing import Any

from ..catalog import display_path
from ..events import Progress
from ..plan import Action, Plan, PlanItem
from ..run.model import ItemOutcome
from ..safety import fingerprint_matches
from . import queue as uq
from .checksum import DEFAULT_ALGORITHM, FileDigest, Verdict, compare, digest_fd, digest_small
from .native_put import NATIVE_MAX, NativePut
from .probe import ChecksumEnforcement
from .remote import Remote, error_code
from .upload_plan import existing_at

MIB = 1024 * 1024  # part sizes are binary (S3's 5 MiB minimum part)
MIN_PART = 5 * MIB
PART_SIZE = 8 * MIB
#: a single-part file up to this size (bytes) on the native path is read once: hashed and sent from memory (held
#: from its hashing to the end of its PUT on its upload thread: at most one per thread), instead of read again for
#: the request from the CRT's threads (each read there takes the GIL from another thread)
KEEP_BYTES = MIB
#: a body up to this size goes without ``Expect: 100-continue`` (botocore asks for it for every file body: one
#: more round trip per small file, for nothing — a refusal of so small a body costs less than the wait)
NO_CONTINUE = 8 * MIB


@dataclass
class Job:
    """One file on its way: claimed, hashed, uploaded, proved, deleted.

    ``local`` is set when the file was settled before any upload
    (``(outcome, detail)``: gone, changed, unreadable); ``deletion`` by the
    deleter thread (``(outcome, detail, freed bytes)``).
    """

    item: PlanItem
    upload_id: int
    key: str
    size: int
    mtime_ns: int
    prior: uq.UploadRecord | None = None
    multipart: bool = False
    digest: FileDigest | None = None
    verify_only: bool = False
    local: tuple[str, str] | None = None
    future: Any = None
    future_done: threading.Event = field(default_factory=threading.Event)
    response: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    verdict: Verdict | None = None
    proof: str = ""
    head: dict[str, Any] = field(default_factory=dict)
    deletion: tuple[ItemOutcome, str, int] | None = None
    only_copy_at: str = ""
    guard: str = ""  # how an overwrite is refused just before the upload: "if-none-match", "head" or ""
    clash: str = ""  # set when the store turned out to hold other bytes at the key (both copies kept)
    handed_off: bool = False  # a multipart upload started from a pool thread (after a look at the store)
    body: bytes | None = field(default=None, repr=False)  # a small file's bytes as hashed, until they are sent

    @property
    def wants_delete(self) -> bool:
        """Proved, and the plan asks for the local copy to go."""
        return (self.local is None and self.error is None and self.verdict is not None and self.verdict.verified
                and self.item.action is Action.UPLOAD_THEN_DELETE)


class SharedProgress:
    """Byte progress from the transfer threads, folded into one :class:`Progress` under a lock."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.lock = threading.Lock()

    def add_bytes(self, n: int) -> None:
        with self.lock:
            self.progress.update(bytes_done=self.progress.bytes_done + n)

    def update(self, **changes: Any) -> None:
        with self.lock:
            self.progress.update(**changes)


class Transfer:
    """Hash, upload and prove the files of one run (the transfer half of the upload executor).

    ``events`` receives ``("mpu", (job, upload id))`` when a multipart upload starts and
    ``("done", job)`` once per job when its upload and proof are over; ``progress`` counts bytes
    sent. Requests are counted in ``requests``.
    """

    def __init__(self, plan: Plan, remote: Remote, client: Any, prefs: dict[str, Any], progress: Progress) -> None:
        self.plan = plan
        self.remote = remote
        self.client = client
        self.progress = SharedProgress(progress)
        self.concurrency = max(1, int(prefs["upload_concurrency"]))
        self.threshold = max(MIN_PART, int(prefs["multipart_threshold_mb"]) * MIB)
        # parts of 8 MiB (boto3's default) keep every connection busy on a large file; measured on
        # SeaweedFS, 512 MB: 8 MiB parts 5.6 s, 64 MiB parts 8.6-9.1 s
        self.chunksize = min(PART_SIZE, self.threshold)
        self.events: queue_mod.Queue[tuple[str, Any]] = queue_mod.Queue()
        self.jobs_by_key: dict[str, Job] = {}
        self.requests = 0
        self.count_lock = threading.Lock()
        self.pool: Any = None
        self.enforcement = ChecksumEnforcement()
        #: single-part bodies up to :data:`NATIVE_MAX` go through awscrt when set (:mod:`.native_put`)
        self.native: NativePut | None = None

    # -- hooks on the client
    def _count(self, **_: Any) -> None:
        with self.count_lock:  # called from every transfer thread
            self.requests += 1

    def _before_call(self, params: dict[str, Any], context: dict[str, Any], model: Any = None, **_: Any) -> None:
        key = params.get("Key")
        context["mediaclean_key"] = key
        job = self.jobs_by_key.get(key) if key else None
        if job is not None and job.guard == "if-none-match" and model is not None \
                and model.name == "CompleteMultipartUpload":
            params["IfNoneMatch"] = "*"  # s3transfer does not pass it; the store refuses to replace an object

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
        key = context.get("mediaclean_key")
        job = self.jobs_by_key.get(key) if key else None
        if job is None:
            return
        if model.name == "CreateMultipartUpload" and parsed.get("UploadId"):
            self.events.put(("mpu", (job, parsed["UploadId"])))
        elif model.name in ("PutObject", "CompleteMultipartUpload") and "Error" not in parsed:
            job.response = dict(parsed)

    @staticmethod
    def _no_continue(request: Any, **_: Any) -> None:
        """``before-send`` of a small ``PutObject``: no ``Expect: 100-continue`` (it is not signed)."""
        headers = request.headers
        if "Expect" in headers and int(headers.get("Content-Length") or NO_CONTINUE + 1) <= NO_CONTINUE:
            del headers["Expect"]

    def _hooks(self, register: bool) -> None:
        events = self.client.meta.events
        pairs: list[tuple[str, Any]] = [("before-send.s3.*", self._count), ("before-send.s3.PutObject",
                                                                           self._no_continue)]
        for op in ("PutObject", "CreateMultipartUpload", "CompleteMultipartUpload"):
            pairs += [(f"before-parameter-build.s3.{op}", self._before_call), (f"after-call.s3.{op}", self._after_call)]
        for name, handler in pairs:
            if register:
                events.register(name, handler, unique_id=f"mediaclean-{id(self)}-{name}")
            else:
                events.unregister(name, handler, unique_id=f"mediaclean-{id(self)}-{name}")

    def _transfer_manager(self) -> Any:
        from boto3.s3.transfer import TransferConfig, create_transfer_manager

        config = TransferConfig(multipart_threshold=self.threshold, multipart_chunksize=self.chunksize,
                                max_concurrency=self.concurrency, use_threads=True)
        return create_transfer_manager(self.client, config)

    # -- worker side: hash, upload, prove (pool threads; no catalog access)
    def _start(self, manager: Any, job: Job) -> None:
        if not job.multipart:
            job.future = self.pool.submit(self._small, job)
            job.future.add_done_callback(lambda f, job=job: self._done(job, f))
            return
        fd = self._open_and_hash(job)  # on the main thread: a few large files
        if fd is not None:
            os.close(fd)
        if job.local is not None or job.verify_only or job.guard == "head" or \
                existing_at(self.plan, job.key).get("replace"):
            first = self.pool.submit(self._prove_only, job, manager)
            first.add_done_callback(lambda f, job=job: None if job.handed_off else self._done(job, f))
            return
        self._submit_multipart(manager, job)

    def _done(self, job: Job, future: Any) -> None:
        if future.cancelled() and job.error is None:
            from concurrent.futures import CancelledError

            job.error = CancelledError()
        self.events.put(("done", job))

    def _open_and_hash(self, job: Job) -> int | None:
        """Open the file (never through a final symbolic link), check it is the previewed file,
        hash it; the open descriptor, or ``None`` with ``job.local`` set."""
        item = job.item
        try:
            fd = os.open(item.target, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            job.local = ("already_gone", "the file is gone; nothing to upload")
            return None
        except OSError as exc:
            job.local = ("skipped", "changed since preview (now a symbolic link)") if exc.errno == errno.ELOOP \
                else ("failed", f"cannot be read: {exc.strerror or exc}")
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not fingerprint_matches(item.fingerprint, st):
                job.local = ("skipped", "changed since preview")
            else:
                part_size = None
                # the ETag is the independent proof where the store does not check checksums, and for an
                # object another client already stored (it may carry no checksum at all)
                md5 = not self.enforcement.checks(job.multipart) or bool(existing_at(self.plan, job.key).get("same"))
                if job.multipart and (md5 or not self.enforcement.multipart_full_object):
                    from s3transfer.utils import ChunksizeAdjuster

                    part_size = ChunksizeAdjuster().adjust_chunksize(self.chunksize, st.st_size)
                small = None
                if self.native is not None and not job.multipart and st.st_size <= KEEP_BYTES:
                    small = digest_small(fd, KEEP_BYTES, DEFAULT_ALGORITHM, md5=md5)
                if small is not None:  # one read: these bytes are hashed and sent, the file is not read again
                    job.digest, job.body = small
                else:
                    job.digest = digest_fd(fd, DEFAULT_ALGORITHM, part_size=part_size, md5=md5)
                after = os.fstat(fd)
                if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns) or job.digest.size != st.st_size:
                    job.local = ("skipped", "changed while it was hashed (still being written?)")
        except OSError as exc:
            job.local = ("failed", f"cannot be read: {exc.strerror or exc}")
        if job.local is not None:
            job.body = None
            os.close(fd)
            return None
        assert job.digest is not None
        prior = job.prior
        existing = existing_at(self.plan, job.key)
        job.verify_only = bool(existing.get("same")) or (
            prior is not None and prior.verified_at is not None and prior.checksum == job.digest.value
            and prior.size == st.st_size and prior.mtime_ns == st.st_mtime_ns and prior.key == job.key)
        if not job.verify_only:
            job.guard = "" if existing.get("replace") else ("if-none-match" if self.enforcement.if_none_match
                                                              else "head")
        return fd

    def _before_upload(self, job: Job) -> bool:
        """The last look before bytes go out (pool thread): ``False`` when the upload must not happen.

        An item planned to replace other bytes goes only if the object is still the one previewed;
        one planned onto a free key, on a store that ignores ``If-None-Match``, goes only if the key
        is still free — else the object there is compared: the same bytes are the proof, other bytes
        keep both copies (``job.clash``)."""
        existing = existing_at(self.plan, job.key)
        if not existing.get("replace") and job.guard != "head":
            return True
        head = self._head(job.key)
        if existing.get("replace"):
            if head is not None and str(head.get("ETag", "")).strip('"') != existing.get("etag"):
                job.clash = (f"changed since preview: the object at {job.key} was replaced after the preview "
                             f"(last modified {_when(head)}); nothing was uploaded")
                return False
            return True
        if head is None:
            return True
        self._settle_existing(job, head)
        return False

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return dict(self.client.head_object(Bucket=self.remote.bucket, Key=key, ChecksumMode="ENABLED"))
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _settle_existing(self, job: Job, head: dict[str, Any] | None) -> None:
        """The store already holds an object at the key (found just before, or ``If-None-Match`` refused):
        the same bytes prove the upload without one; other bytes keep both copies."""
        if head is None:
            head = self._head(job.key)
        if head is None:
            job.clash = f"the store refused to write {job.key} although nothing is there now; nothing was uploaded"
            return
        assert job.digest is not None
        verdict = self._verdict(job, head)
        if verdict.verified:
            job.verify_only = True
            job.head = head
            job.verdict = verdict
            job.proof = f"already stored: head_object: size {head.get('ContentLength')} and {verdict.detail}"
            return
        job.clash = (f"the store already holds other bytes at {job.key}, last modified {_when(head)}; both copies "
                     f"are kept")

    def _small(self, job: Job) -> None:
        """Hash, ``PutObject`` with the checksum, prove — for one single-part file (pool thread)."""
        try:
            fd = self._open_and_hash(job)
            if fd is None:
                return
            try:
                self.progress.update(current=display_path(job.item.target))
                if not job.verify_only and self._before_upload(job):
                    assert job.digest is not None
                    extra: dict[str, Any] = {"ChecksumAlgorithm": job.digest.algorithm,
                                             job.digest.header: job.digest.value}
                    if job.guard == "if-none-match":
                        extra["IfNoneMatch"] = "*"
                    try:
                        # the very bytes that were hashed: kept from the hashing, or read again from the same descriptor
                        with io.BytesIO(job.body) if job.body is not None else os.fdopen(fd, "rb",
                                                                                          closefd=False) as body:
                            body.seek(0)
                            if self.native is not None and job.digest.size <= NATIVE_MAX:
                                with self.count_lock:
                                    self.requests += 1
                                job.response = self.native.put(
                                    self.remote.bucket, job.key, body, job.digest.size, algorithm=job.digest.algorithm,
                                    checksum=job.digest.value, if_none_match=job.guard == "if-none-match")
                            else:
                                job.response = self.client.put_object(Bucket=self.remote.bucket, Key=job.key,
                                                                      Body=body, **extra)
                    except Exception as exc:
                        if error_code(exc) not in ("PreconditionFailed", "412"):
                            raise
                        self._settle_existing(job, None)  # someone wrote the key since the preview
                        return
                    self.progress.add_bytes(job.size)
                elif job.clash or job.verdict is not None:
                    return
            finally:
                job.body = None
                os.close(fd)
            self._prove(job)
        except BaseException as exc:  # noqa: BLE001 — every failure stays on the item
            job.error = exc

    def _prove_only(self, job: Job, manager: Any = None) -> None:
        """A multipart item that needs a look at the store first (pool thread): prove an object already
        there, or — after :meth:`_before_upload` said the key may be written — hand it to s3transfer."""
        if job.local is not None:
            return
        try:
            if not job.verify_only:
                if not self._before_upload(job):
                    if not job.clash and job.verdict is None:
                        self._prove(job)
                    return
                if not job.verify_only:
                    job.handed_off = True  # s3transfer's on_done reports it from now on
                    try:
                        self._submit_multipart(manager, job)
                    except BaseException:
                        job.handed_off = False
                        raise
                    return
            self._prove(job)
        except BaseException as exc:  # noqa: BLE001
            job.error = exc

    def _submit_multipart(self, manager: Any, job: Job) -> None:
        assert job.digest is not None
        from s3transfer.subscribers import BaseSubscriber

        shared = self.progress
        finished = self._multipart_done

        class _Subscriber(BaseSubscriber):  # type: ignore[misc]
            def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
                shared.add_bytes(bytes_transferred)

            def on_done(self, future: Any, **kwargs: Any) -> None:
                finished(job)

        if self.enforcement.multipart_full_object:
            # s3transfer adds ChecksumAlgorithm and ChecksumType=FULL_OBJECT to CreateMultipartUpload
            extra = {job.digest.header: job.digest.value}
        else:
            extra = {"ChecksumAlgorithm": job.digest.algorithm}  # composite, compared part by part
        self.jobs_by_key[job.key] = job
        self.progress.update(current=display_path(job.item.target))
        job.future = manager.upload(job.item.target, self.remote.bucket, job.key, extra_args=extra,
                                    subscribers=[_Subscriber()])
        job.future_done.set()

    def _multipart_done(self, job: Job) -> None:
        """s3transfer's ``on_done`` (a transfer thread): collect the outcome, prove, report."""
        try:
            job.future_done.wait(60)  # on_done may run before manager.upload() returned the future
            try:
                job.future.result()
            except Exception as exc:
                if error_code(exc) not in ("PreconditionFailed", "412"):
                    raise
                self._settle_existing(job, None)  # If-None-Match: someone wrote the key meanwhile
                return
            self._prove(job)
        except BaseException as exc:  # noqa: BLE001
            job.error = exc
        finally:
            self.events.put(("done", job))

    def _prove(self, job: Job) -> None:
        """Set ``job.verdict``: the store's checked acceptance (where the probe showed that is sound),
        else a ``head_object`` read-back compared for size and checksum."""
        assert job.digest is not None
        resp = job.response
        if not job.verify_only and resp:
            echoed = resp.get(job.digest.header)
            sound = self.enforcement.multipart_is_proof if job.multipart else self.enforcement.put_is_proof
            if sound and echoed == job.digest.value:
                what = "CompleteMultipartUpload (full-object)" if job.multipart else "PutObject"
                job.verdict = Verdict(True, False, f"{job.digest.algorithm} checked by the store on upload", echoed,
                                      "full_object")
                job.proof = f"{what} accepted {job.digest.algorithm} {echoed}; this endpoint refuses a wrong checksum"
                return
        args: dict[str, Any] = {"Bucket": self.remote.bucket, "Key": job.key, "ChecksumMode": "ENABLED"}
        version = resp.get("VersionId")
        if version and version != "null":  # "null" is an unversioned bucket's object: no version to ask for
            args["VersionId"] = version
        head = self.client.head_object(**args)
        job.head = head
        job.verdict = self._verdict(job, head)
        job.proof = f"head_object: size {head.get('ContentLength')} and {job.verdict.detail}"

    def _verdict(self, job: Job, head: dict[str, Any]) -> Verdict:
        """Size and checksum read back, and — where the store keeps the checksum it is sent without checking
        it (the probe saw it accept a wrong one) — the ETag compared with the file's MD5 as well."""
        assert job.digest is not None
        verdict = compare(job.digest, head)
        if verdict.mismatch or (verdict.verified and self.enforcement.checks(job.multipart)):
            return verdict
        etag = str(head.get("ETag", "")).strip('"')
        mine = job.digest.etag("-" in etag)
        if mine is None or len(etag.split("-")[0]) != 32 or (
                "-" in etag and etag.rsplit("-", 1)[1] != mine.rsplit("-", 1)[1]):
            if verdict.verified:
                return Verdict(False, False, "the store keeps the checksum it is sent without checking it, and its "
                                             "ETag is not an MD5 of the bytes, so nothing proves the upload (use a "
                                             "store that checks S3 checksums, or check the object and delete the "
                                             "file yourself)", verdict.remote_checksum, verdict.kind)
            return verdict
        if etag != mine:
            # other bytes, or a store whose ETags are no MD5 (encryption): either way nothing proves the upload
            return Verdict(False, False, f"the store's ETag {etag} is not the file's MD5 {mine} (other bytes, or a "
                                         f"store whose ETags are not MD5s), and the store does not check checksums, "
                                         f"so nothing proves the upload (check the object and delete the file "
                                         f"yourself, or use a store that checks S3 checksums)")
        if verdict.verified:
            return Verdict(True, False, f"{verdict.detail}, and the ETag is the MD5 of the bytes the store holds "
                                        f"(this store does not check checksums itself)", verdict.remote_checksum,
                           verdict.kind)
        return Verdict(True, False, f"the ETag is the MD5 of the file's bytes (the store keeps no "
                                    f"{job.digest.algorithm} checksum)", None, "etag_md5")


def _when(head: dict[str, Any]) -> str:
    """``2026-12-01 21:03 UTC``: an object's LastModified as a reason shows it."""
    stamp = head.get("LastModified")
    if not isinstance(stamp, dt.datetime):
        return "at an unknown time"
    return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _is_cancel(exc: BaseException) -> bool:
    from concurrent.futures import CancelledError

    from s3transfer.exceptions import CancelledError as TransferCancelled

    return isinstance(exc, (CancelledError, TransferCancelled)) or type(exc).__name__ == "FatalError" and \
        "cancel" in str(exc).lower()
