"""The persistent upload queue in the catalog (``uploads``): enqueue, atomic claims, outcomes, back-off."""

from __future__ import annotations

import datetime as dt
import enum
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog, from_db_path, iso, parse_iso, to_db_path, utcnow

#: first retry after a failure, in seconds; doubles with every failed attempt up to BACKOFF_MAX.
BACKOFF_BASE = 60.0
BACKOFF_MAX = 6 * 3600.0


class UploadStatus(str, enum.Enum):
    """``uploads.status``: queued → uploading → verified → deleted_local; or failed / unverified."""

    QUEUED = "queued"
    UPLOADING = "uploading"
    VERIFIED = "verified"
    FAILED = "failed"
    UNVERIFIED = "unverified"
    DELETED_LOCAL = "deleted_local"


@dataclass(frozen=True)
class UploadRecord:
    """One row of the queue. ``path`` is absolute; ``key`` the full object key; sizes in bytes;
    times ISO-8601 UTC; ``checksum`` base64 as S3 writes it."""

    id: int
    remote_id: int
    project_id: int | None
    path: str
    key: str
    size: int
    mtime_ns: int
    checksum_algorithm: str | None
    checksum: str | None
    etag: str | None
    version_id: str | None
    status: UploadStatus
    attempts: int
    next_attempt_at: str | None
    last_error: str
    proof: str
    claimed_by: str | None
    claimed_at: str | None
    multipart_upload_id: str | None
    verified_at: str | None
    created_at: str
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        from ..catalog import display_path

        return {
            "id": self.id, "path": display_path(self.path), "key": self.key, "size": self.size,
            "status": self.status.value, "checksum": self.checksum, "checksum_algorithm": self.checksum_algorithm,
            "etag": self.etag, "version_id": self.version_id, "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at, "last_error": self.last_error, "proof": self.proof,
            "verified_at": self.verified_at,
        }


def _record(row: Any) -> UploadRecord:
    values = dict(row)
    values["path"] = from_db_path(values["path"])
    values["status"] = UploadStatus(values["status"])
    return UploadRecord(**values)


def worker_id(run_id: int | None = None) -> str:
    """``pid:thread[:run]`` — who holds a claim."""
    base = f"{os.getpid()}:{threading.get_ident()}"
    return f"{base}:{run_id}" if run_id is not None else base


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts: 60 s, 120 s, 240 s … capped at 6 h."""
    return float(min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX))


_ENQUEUE = """
    INSERT INTO uploads(remote_id, project_id, path, key, size, mtime_ns, status, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)
    ON CONFLICT(remote_id, path) DO UPDATE SET
        project_id = excluded.project_id,
        status = CASE
            WHEN uploads.status = 'uploading' THEN uploads.status
            WHEN uploads.key = excluded.key AND uploads.size = excluded.size
                 AND uploads.mtime_ns = excluded.mtime_ns THEN
                 CASE WHEN uploads.status = 'deleted_local' THEN 'verified' ELSE uploads.status END
            ELSE 'queued' END,
        checksum = CASE WHEN uploads.key = excluded.key AND uploads.size = excluded.size
                        AND uploads.mtime_ns = excluded.mtime_ns THEN uploads.checksum ELSE NULL END,
        verified_at = CASE WHEN uploads.key = excluded.key AND uploads.size = excluded.size
                           AND uploads.mtime_ns = excluded.mtime_ns THEN uploads.verified_at ELSE NULL END,
        key = CASE WHEN uploads.status = 'uploading' THEN uploads.key ELSE excluded.key END,
        size = CASE WHEN uploads.status = 'uploading' THEN uploads.size ELSE excluded.size END,
        mtime_ns = CASE WHEN uploads.status = 'uploading' THEN uploads.mtime_ns ELSE excluded.mtime_ns END,
        updated_at = excluded.updated_at
"""
CHUNK = 500  # ids or paths per IN (...) query


def enqueue(
    catalog: Catalog, remote_id: int, project_id: int | None, path: str, key: str, size: int, mtime_ns: int
) -> int:
    """Put a file in the queue (or refresh its row) and return the row id.

    A row that is verified (or already deleted locally) for the same key, size
    and mtime keeps its status; a changed file goes back to ``queued`` with its
    old proof cleared; a row being uploaded right now is left alone.
    """
    now = iso()
    row = catalog.conn.execute(_ENQUEUE + "RETURNING id",
                               (remote_id, project_id, to_db_path(path), key, size, mtime_ns, now, now)).fetchone()
    return int(row[0])


def enqueue_many(catalog: Catalog, remote_id: int,
                 files: Sequence[tuple[int | None, str, str, int, int]]) -> list[int]:
    """:func:`enqueue` for many ``(project_id, path, key, size, mtime_ns)`` at once (one statement for all,
    then one look-up per :data:`CHUNK` paths); the row ids in the order of ``files``."""
    now = iso()
    rows = [(remote_id, project_id, to_db_path(path), key, size, mtime_ns, now, now)
            for project_id, path, key, size, mtime_ns in files]
    catalog.conn.executemany(_ENQUEUE, rows)
    ids: dict[Any, int] = {}
    wanted = [row[2] for row in rows]
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        ids.update(catalog.conn.execute(
            f"SELECT path, id FROM uploads WHERE remote_id = ? AND path IN ({','.join('?' * len(chunk))})",
            (remote_id, *chunk)).fetchall())
    return [ids[path] for path in wanted]


def get_record(catalog: Catalog, upload_id: int) -> UploadRecord:
    row = catalog.conn.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
    if row is None:
        raise KeyError(upload_id)
    return _record(row)


def records_for(catalog: Catalog, remote_id: int, paths: Iterable[str]) -> dict[str, UploadRecord]:
    """Queue rows of ``remote_id`` for these absolute paths (missing paths are left out)."""
    out: dict[str, UploadRecord] = {}
    wanted = [to_db_path(p) for p in paths]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in catalog.conn.execute(
            f"SELECT * FROM uploads WHERE remote_id = ? AND path IN ({marks})", (remote_id, *chunk)
        ):
            rec = _record(row)
            out[rec.path] = rec
    return out


def list_records(catalog: Catalog, remote_id: int | None = None,
                 statuses: Iterable[UploadStatus] | None = None) -> list[UploadRecord]:
    """Queue rows, optionally of one remote and some statuses, oldest first."""
    sql = "SELECT * FROM uploads WHERE 1 = 1"
    args: list[Any] = []
    if remote_id is not None:
        sql += " AND remote_id = ?"
        args.append(remote_id)
    if statuses is not None:
        values = [s.value for s in statuses]
        sql += f" AND status IN ({','.join('?' * len(values))})"
        args += values
    return [_record(r) for r in catalog.conn.execute(sql + " ORDER BY id", args)]


def due(catalog: Catalog, remote_id: int, now: dt.datetime | None = None) -> list[UploadRecord]:
    """Rows waiting to be (re)tried now: ``queued``, or ``failed``/``unverified`` whose back-off has passed."""
    when = now or utcnow()
    return [
        r for r in list_records(catalog, remote_id, (UploadStatus.QUEUED, UploadStatus.FAILED, UploadStatus.UNVERIFIED))
        if r.next_attempt_at is None or parse_iso(r.next_attempt_at) <= when
    ]


def claim(catalog: Catalog, upload_id: int, worker: str) -> bool:
    """Atomically mark a row ``uploading`` for ``worker``; ``False`` if another worker holds it.

    One ``UPDATE … WHERE status != 'uploading'``: of two workers racing for the
    same artifact exactly one gets it (SQLite serialises writers).
    """
    now = iso()
    cur = catalog.conn.execute(
        "UPDATE uploads SET status = 'uploading', claimed_by = ?, claimed_at = ?, attempts = attempts + 1, "
        "updated_at = ? WHERE id = ? AND status != 'uploading'",
        (worker, now, now, upload_id),
    )
    return cur.rowcount == 1


def claim_many(catalog: Catalog, upload_ids: Sequence[int], worker: str) -> dict[int, UploadRecord]:
    """:func:`claim` for many rows, one ``UPDATE … RETURNING`` per :data:`CHUNK`: the rows this worker now
    holds, as they are after the claim, by id; a row another worker holds is not among them."""
    now = iso()
    claimed: dict[int, UploadRecord] = {}
    for start in range(0, len(upload_ids), CHUNK):
        chunk = upload_ids[start:start + CHUNK]
        rows = catalog.conn.execute(
            "UPDATE uploads SET status = 'uploading', claimed_by = ?, claimed_at = ?, attempts = attempts + 1, "
            f"updated_at = ? WHERE id IN ({','.join('?' * len(chunk))}) AND status != 'uploading' RETURNING *",
            (worker, now, now, *chunk)).fetchall()
        for row in rows:
            rec = _record(row)
            claimed[rec.id] = rec
    return claimed


def record_multipart(catalog: Catalog, upload_id: int, multipart_upload_id: str | None) -> None:
    """Remember (or forget, with ``None``) the multipart upload in flight, so a crash can abort it later."""
    catalog.conn.execute("UPDATE uploads SET multipart_upload_id = ?, updated_at = ? WHERE id = ?",
                         (multipart_upload_id, iso(), upload_id))


def mark_verified(catalog: Catalog, upload_id: int, *, algorithm: str, checksum: str, etag: str | None,
                  version_id: str | None, proof: str) -> None:
    mark_verified_many(catalog, [(upload_id, algorithm, checksum, etag, version_id, proof)])


def mark_verified_many(catalog: Catalog, proofs: Sequence[tuple[int, str, str, str | None, str | None, str]]) -> None:
    """Record proved uploads, each ``(upload_id, algorithm, checksum, etag, version_id, proof)``: status
    ``verified``, the claim and any recorded multipart upload cleared."""
    now = iso()
    catalog.conn.executemany(
        "UPDATE uploads SET status = 'verified', checksum_algorithm = ?, checksum = ?, etag = ?, version_id = ?, "
        "proof = ?, verified_at = ?, last_error = '', next_attempt_at = NULL, claimed_by = NULL, claimed_at = NULL, "
        "multipart_upload_id = NULL, updated_at = ? WHERE id = ?",
        [(algorithm, checksum, etag, version_id, proof, now, now, upload_id)
         for upload_id, algorithm, checksum, etag, version_id, proof in proofs],
    )


def mark_unverified(catalog: Catalog, upload_id: int, *, algorithm: str, checksum: str, etag: str | None,
                    version_id: str | None, detail: str, now: dt.datetime | None = None) -> None:
    """The object was written but the store gave no proof: keep the local file; try again after back-off."""
    _mark_retry(catalog, upload_id, "unverified", detail, now, algorithm=algorithm, checksum=checksum, etag=etag,
                version_id=version_id)


def mark_failed(catalog: Catalog, upload_id: int, error: str, now: dt.datetime | None = None) -> str:
    """Record a failure; returns ``next_attempt_at`` (exponential back-off on the attempt count)."""
    return _mark_retry(catalog, upload_id, "failed", error, now)


def _mark_retry(catalog: Catalog, upload_id: int, status: str, error: str, now: dt.datetime | None,
                **proof: Any) -> str:
    row = catalog.conn.execute("SELECT attempts FROM uploads WHERE id = ?", (upload_id,)).fetchone()
    attempts = int(row[0]) if row else 1
    when = (now or utcnow()) + dt.timedelta(seconds=backoff_seconds(attempts))
    next_at = iso(when)
    extra = ""
    args: list[Any] = [status, error, next_at, iso()]
    if proof:
        extra = ", checksum_algorithm = ?, checksum = ?, etag = ?, version_id = ?"
        args += [proof["algorithm"], proof["checksum"], proof["etag"], proof["version_id"]]
    catalog.conn.execute(
        f"UPDATE uploads SET status = ?, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_at = NULL, "
        f"updated_at = ?{extra} WHERE id = ?",
        (*args, upload_id),
    )
    return next_at


def mark_deleted_local(catalog: Catalog, upload_id: int, *, recorded: bool = False) -> None:
    """The local file is gone after a verified upload: the object is now the only copy (F3), and
    ``only_copies`` remembers it for every sweep and lifecycle export of any remote on that bucket
    (``recorded``: the caller already recorded it, just before the deletion)."""
    mark_deleted_local_many(catalog, [upload_id], recorded=recorded)


def mark_deleted_local_many(catalog: Catalog, upload_ids: Sequence[int], *, recorded: bool = False) -> None:
    """:func:`mark_deleted_local` for many rows in one statement."""
    from .protections import record_only_copies

    now = iso()
    catalog.conn.executemany("UPDATE uploads SET status = 'deleted_local', updated_at = ? WHERE id = ?",
                             [(now, upload_id) for upload_id in upload_ids])
    if not recorded:
        record_only_copies(catalog, upload_ids, now)


def release(catalog: Catalog, upload_id: int, note: str = "") -> None:
    """Give a claimed row back to the queue untried (cancel, store unreachable); the attempt is not counted.

    A recorded ``multipart_upload_id`` stays until the upload is aborted (:func:`leftover_multipart`)."""
    catalog.conn.execute(
        "UPDATE uploads SET status = 'queued', attempts = max(attempts - 1, 0), claimed_by = NULL, claimed_at = NULL, "
        "last_error = CASE WHEN ? != '' THEN ? ELSE last_error END, updated_at = ? "
        "WHERE id = ? AND status = 'uploading'",
        (note, note, iso(), upload_id),
    )


def release_stale_claims(catalog: Catalog) -> list[UploadRecord]:
    """Rows left ``uploading`` by a process that is gone (a crash, SIGKILL) or by an earlier
    run of this process go back to ``queued``. Returns them as they were (with any
    ``multipart_upload_id`` the caller should abort on the store).

    Caller holds the writer lock, so no live run of this process owns such a row.
    """
    stale = []
    for rec in list_records(catalog, None, (UploadStatus.UPLOADING,)):
        pid_text = (rec.claimed_by or "0").split(":", 1)[0]
        pid = int(pid_text) if pid_text.isdigit() else 0
        if pid and pid != os.getpid() and _pid_alive(pid):
            continue
        stale.append(rec)
    if stale:
        with catalog.transaction() as conn:
            conn.executemany(
                "UPDATE uploads SET status = 'queued', claimed_by = NULL, claimed_at = NULL, "
                "last_error = 'interrupted: the upload was cut off (crash or kill); it will be tried again', "
                "updated_at = ? WHERE id = ? AND status = 'uploading'",
                [(iso(), rec.id) for rec in stale],
            )
    return stale


def settle_verified_gone(catalog: Catalog) -> int:
    """Rows ``verified`` whose local file is gone become ``deleted_local``.

    A kill between the unlink and the commit of ``deleted_local`` leaves such a
    row; the store holds the proved bytes, so the catalog is brought in line
    with the disk (invariant 6). Returns how many rows changed.
    """
    gone = [rec.id for rec in list_records(catalog, None, (UploadStatus.VERIFIED,))
            if not os.path.lexists(rec.path)]
    if gone:
        from .protections import record_only_copies

        with catalog.transaction() as conn:
            now = iso()
            conn.executemany("UPDATE uploads SET status = 'deleted_local', updated_at = ? WHERE id = ? "
                             "AND status = 'verified'", [(now, upload_id) for upload_id in gone])
            record_only_copies(catalog, gone, now)
    return len(gone)


def queue_counts(catalog: Catalog, remote_id: int | None = None) -> dict[str, int]:
    """How many rows are in each status (every status present, zeros included)."""
    counts = {s.value: 0 for s in UploadStatus}
    sql = "SELECT status, count(*) FROM uploads" + (" WHERE remote_id = ?" if remote_id is not None else "")
    for status, n in catalog.conn.execute(sql + " GROUP BY status", () if remote_id is None else (remote_id,)):
        counts[status] = n
    return counts


def leftover_multipart(catalog: Catalog, remote_id: int) -> list[UploadRecord]:
    """Rows of ``remote_id`` not being uploaded that still name a multipart upload (to abort on the store)."""
    return [_record(r) for r in catalog.conn.execute(
        "SELECT * FROM uploads WHERE remote_id = ? AND multipart_upload_id IS NOT NULL AND status != 'uploading'",
        (remote_id,))]


def forget_path(catalog: Catalog, upload_id: int) -> None:
    """Drop a row whose local file is gone before it was ever verified (nothing left to upload)."""
    catalog.conn.execute("DELETE FROM uploads WHERE id = ? AND status IN ('queued', 'uploading', 'failed', "
                         "'unverified') AND multipart_upload_id IS NULL", (upload_id,))
