"""Probe once per endpoint whether the store enforces upload checksums, and cache the answer in the catalog.

A store that refuses a ``PutObject`` (and a ``CompleteMultipartUpload``) whose
``x-amz-checksum-crc32`` does not match the bytes it received proves, by
accepting an upload, that it holds exactly the bytes that were hashed: the
acceptance itself is the proof, so no ``head_object`` round trip is needed
(the issue's "cheapest sound proof"). The probe checks all of this with tiny
objects under ``{prefix}.mediaclean-probe/`` and removes them again:

1. a PUT with a wrong CRC32 must be refused (``BadDigest`` or similar) and leave no object;
2. a PUT with the right CRC32 must succeed and echo that CRC32 in its response;
3. a one-part multipart upload with ``ChecksumType=FULL_OBJECT`` must be refused
   at completion with a wrong full-object CRC32, and
4. accepted with the right one, echoing a full-object (not ``xxx-N``) CRC32.

SeaweedFS 4.48 passes all four (measured). Anything unexpected — including a
network error — yields a result that enforces nothing, so the uploader falls
back to reading every object back with ``head_object``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ..catalog import Catalog, iso, parse_iso, utcnow
from .checksum import digest_bytes
from .remote import Remote, error_code

PROBE = "checksum_enforcement:CRC32"
MAX_AGE_DAYS = 30
_REJECT_CODES = {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidRequest", "InvalidArgument",
                 "InvalidChecksum", "BadRequest", "400"}


@dataclass(frozen=True)
class ChecksumEnforcement:
    """What the endpoint was found to do (see the module docstring)."""

    put_rejects_bad: bool = False
    put_echoes: bool = False
    multipart_full_object: bool = False
    multipart_rejects_bad: bool = False
    detail: str = ""

    @property
    def put_is_proof(self) -> bool:
        """An accepted single-part PUT with our checksum proves the bytes."""
        return self.put_rejects_bad and self.put_echoes

    @property
    def multipart_is_proof(self) -> bool:
        """An accepted full-object multipart completion with our checksum proves the bytes."""
        return self.multipart_full_object and self.multipart_rejects_bad


def cached(catalog: Catalog, remote: Remote) -> ChecksumEnforcement | None:
    """The cached probe result for the remote's endpoint, if fresh (younger than 30 days)."""
    row = catalog.conn.execute("SELECT result, probed_at FROM endpoint_probes WHERE endpoint = ? AND probe = ?",
                               (remote.endpoint_id, PROBE)).fetchone()
    if row is None or (utcnow() - parse_iso(row["probed_at"])).days >= MAX_AGE_DAYS:
        return None
    return ChecksumEnforcement(**json.loads(row["result"]))


def forget(catalog: Catalog, remote: Remote) -> None:
    """Drop the cached probe so the next upload probes again."""
    catalog.conn.execute("DELETE FROM endpoint_probes WHERE endpoint = ? AND probe = ?", (remote.endpoint_id, PROBE))


def checksum_enforcement(catalog: Catalog, remote: Remote, client: Any) -> ChecksumEnforcement:
    """The endpoint's behaviour: from the catalog, or probed now (about eight small requests) and cached.

    A probe cut short by a network or permission error is returned but not cached.
    """
    found = cached(catalog, remote)
    if found is not None:
        return found
    result, complete = probe(client, remote)
    if complete:
        catalog.conn.execute(
            "INSERT INTO endpoint_probes(endpoint, probe, result, probed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(endpoint, probe) DO UPDATE SET result = excluded.result, probed_at = excluded.probed_at",
            (remote.endpoint_id, PROBE, json.dumps(asdict(result)), iso()),
        )
    return result


def _refused(exc: BaseException) -> bool:
    return error_code(exc) in _REJECT_CODES


def probe(client: Any, remote: Remote) -> tuple[ChecksumEnforcement, bool]:
    """Run the four checks against ``remote``'s bucket; ``(result, complete)``."""
    from botocore.exceptions import BotoCoreError, ClientError

    body = b"mediaclean checksum probe " + uuid.uuid4().hex.encode()
    good = digest_bytes(body, "CRC32")
    bad = digest_bytes(body + b"x", "CRC32")
    base = remote.key_for(f".mediaclean-probe/{uuid.uuid4().hex}")
    bucket = remote.bucket
    found: dict[str, Any] = {}
    notes: list[str] = []
    try:
        # 1. wrong checksum on PUT
        try:
            client.put_object(Bucket=bucket, Key=base + "-bad", Body=body, ChecksumCRC32=bad)
            found["put_rejects_bad"] = False
            notes.append("PUT with a wrong CRC32 was accepted")
            client.delete_object(Bucket=bucket, Key=base + "-bad")
        except ClientError as exc:
            if not _refused(exc):
                raise
            found["put_rejects_bad"] = _absent(client, bucket, base + "-bad")
        # 2. right checksum on PUT, echoed
        resp = client.put_object(Bucket=bucket, Key=base + "-good", Body=body, ChecksumCRC32=good)
        found["put_echoes"] = resp.get("ChecksumCRC32") == good
        client.delete_object(Bucket=bucket, Key=base + "-good")
        # 3./4. full-object multipart
        found["multipart_rejects_bad"] = _multipart(client, bucket, base + "-mpu-bad", body, good, bad) is None
        echoed = _multipart(client, bucket, base + "-mpu-good", body, good, good)
        found["multipart_full_object"] = bool(echoed) and echoed == good
        if echoed is not None:
            client.delete_object(Bucket=bucket, Key=base + "-mpu-good")
    except (ClientError, BotoCoreError) as exc:
        notes.append(f"probe cut short: {error_code(exc)}")
        return ChecksumEnforcement(detail="; ".join(notes)), False
    return ChecksumEnforcement(**found, detail="; ".join(notes)), True


def _absent(client: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return error_code(exc) in ("404", "NoSuchKey", "NotFound")
    client.delete_object(Bucket=bucket, Key=key)
    return False


def _multipart(client: Any, bucket: str, key: str, body: bytes, part_crc: str, full_crc: str) -> str | None:
    """A one-part full-object multipart upload completed with ``full_crc``: the echoed CRC32,
    ``""`` when accepted without one, ``None`` when refused (the upload is then aborted)."""
    from botocore.exceptions import ClientError

    try:
        created = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32",
                                                  ChecksumType="FULL_OBJECT")
    except ClientError as exc:
        if _refused(exc):
            return None
        raise
    upload_id = created["UploadId"]
    try:
        part = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=body,
                                  ChecksumCRC32=part_crc)
        done = client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, ChecksumCRC32=full_crc, ChecksumType="FULL_OBJECT",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part_crc}]},
        )
    except ClientError as exc:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError:
            pass
        if _refused(exc):
            return None
        raise
    echoed = done.get("ChecksumCRC32") or ""
    if done.get("ChecksumType") not in (None, "FULL_OBJECT") or "-" in echoed:
        return ""
    return str(echoed)
