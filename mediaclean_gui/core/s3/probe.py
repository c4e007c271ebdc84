"""Probe once per endpoint what the store checks on upload, cache the answer in the catalog, and clean up after.

The probe sends exactly the requests the uploader sends — ``ChecksumAlgorithm`` together
with the checksum computed from the bytes — with tiny objects under
``{prefix}.mediaclean-probe/<uuid>``:

1. a PUT with a wrong CRC32 must be refused (``BadDigest`` or similar) and leave no object;
2. a PUT with the right CRC32 must succeed and echo that CRC32;
3. a PUT with ``If-None-Match: *`` onto that object must be refused (``PreconditionFailed``):
   then the uploader can refuse to overwrite other bytes in the same request;
4. a one-part multipart upload with ``ChecksumType=FULL_OBJECT`` must be refused at
   completion with a wrong full-object CRC32, and
5. accepted with the right one, echoing a full-object (not ``xxx-N``) CRC32.

What the answers are good for (:class:`ChecksumEnforcement`): a store that refuses a wrong
checksum computes it from what it received, so its stored checksum read back with
``head_object(ChecksumMode="ENABLED")`` — or its acceptance of a PUT that carried it — proves
the bytes. A store that accepts a wrong one (moto 5 does: it stores the checksum it is sent)
proves nothing with a checksum; the uploader then also compares the ETag with the file's MD5.

Everything the probe wrote is removed again, every version and delete marker included on a
versioned bucket, and any multipart upload it left open is aborted (:func:`remove_probe_objects`).
Measured: SeaweedFS 4.48 passes 1-5; moto 5.2 fails 1 and 4 (no check) and passes 3.
Anything unexpected — a network error too — yields a result that relies on nothing, so the
uploader reads every object back. The cache is per endpoint (a store behaves the same for all
its buckets) and expires after 30 days, or when the probe itself changes (``PROBE``).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ..catalog import Catalog, iso, parse_iso, utcnow
from .checksum import digest_bytes
from .remote import Remote, error_code, versioning_status

PROBE = "checksum_enforcement:CRC32:v2"
MAX_AGE_DAYS = 30
_REJECT_CODES = {"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidRequest", "InvalidArgument",
                 "InvalidChecksum", "BadRequest", "400"}
_PRECONDITION = {"PreconditionFailed", "412"}


@dataclass(frozen=True)
class ChecksumEnforcement:
    """What the endpoint was found to do (see the module docstring)."""

    put_rejects_bad: bool = False
    put_echoes: bool = False
    multipart_full_object: bool = False
    multipart_rejects_bad: bool = False
    if_none_match: bool = False
    detail: str = ""

    @property
    def put_is_proof(self) -> bool:
        """An accepted single-part PUT with our checksum proves the bytes."""
        return self.put_rejects_bad and self.put_echoes

    @property
    def multipart_is_proof(self) -> bool:
        """An accepted full-object multipart completion with our checksum proves the bytes."""
        return self.multipart_full_object and self.multipart_rejects_bad

    def checks(self, multipart: bool) -> bool:
        """Whether the store computes the checksums it keeps (so a read-back checksum is a proof)."""
        return self.multipart_rejects_bad if multipart else self.put_rejects_bad


def cached(catalog: Catalog, remote: Remote) -> ChecksumEnforcement | None:
    """The cached probe result for the remote's endpoint, if fresh (younger than 30 days)."""
    row = catalog.conn.execute("SELECT result, probed_at FROM endpoint_probes WHERE endpoint = ? AND probe = ?",
                               (remote.endpoint_id, PROBE)).fetchone()
    if row is None or (utcnow() - parse_iso(row["probed_at"])).days >= MAX_AGE_DAYS:
        return None
    known = {f.name for f in dataclasses.fields(ChecksumEnforcement)}
    return ChecksumEnforcement(**{k: v for k, v in json.loads(row["result"]).items() if k in known})


def forget(catalog: Catalog, remote: Remote) -> None:
    """Drop the cached probe so the next upload probes again."""
    catalog.conn.execute("DELETE FROM endpoint_probes WHERE endpoint = ? AND probe = ?", (remote.endpoint_id, PROBE))


def checksum_enforcement(catalog: Catalog, remote: Remote, client: Any) -> ChecksumEnforcement:
    """The endpoint's behaviour: from the catalog, or probed now (about ten small requests) and cached.

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
    """Run the five checks against ``remote``'s bucket and remove what they wrote; ``(result, complete)``."""
    from botocore.exceptions import BotoCoreError, ClientError

    body = b"mediaclean checksum probe " + uuid.uuid4().hex.encode()
    good = digest_bytes(body, "CRC32")
    bad = digest_bytes(body + b"x", "CRC32")
    base = remote.key_for(f".mediaclean-probe/{uuid.uuid4().hex}")
    bucket = remote.bucket
    found: dict[str, Any] = {}
    notes: list[str] = []
    try:
        try:
            versioned = versioning_status(client, bucket) != "Unversioned"
        except ClientError:
            versioned = True  # unknown: clean up as if versioned
        try:
            # 1. a wrong checksum on PUT, sent the way the uploader sends it
            try:
                client.put_object(Bucket=bucket, Key=base + "-bad", Body=body, ChecksumAlgorithm="CRC32",
                                  ChecksumCRC32=bad)
                found["put_rejects_bad"] = False
                notes.append("PUT with a wrong CRC32 was accepted")
            except ClientError as exc:
                if not _refused(exc):
                    raise
                found["put_rejects_bad"] = _absent(client, bucket, base + "-bad")
            # 2. the right checksum on PUT, echoed
            resp = client.put_object(Bucket=bucket, Key=base + "-good", Body=body, ChecksumAlgorithm="CRC32",
                                     ChecksumCRC32=good)
            found["put_echoes"] = resp.get("ChecksumCRC32") == good
            # 3. If-None-Match onto an existing object
            try:
                client.put_object(Bucket=bucket, Key=base + "-good", Body=b"overwritten", IfNoneMatch="*")
                found["if_none_match"] = False
                notes.append("PUT with If-None-Match: * replaced an existing object")
            except ClientError as exc:
                if error_code(exc) not in _PRECONDITION:
                    raise
                found["if_none_match"] = True
            # 4./5. full-object multipart
            found["multipart_rejects_bad"] = _multipart(client, bucket, base + "-mpu-bad", body, good, bad) is None
            echoed = _multipart(client, bucket, base + "-mpu-good", body, good, good)
            found["multipart_full_object"] = bool(echoed) and echoed == good
            if not found["multipart_rejects_bad"]:
                notes.append("a multipart upload with a wrong full-object CRC32 was accepted")
        finally:
            remove_probe_objects(client, bucket, base, versioned)
    except (ClientError, BotoCoreError) as exc:
        notes.append(f"probe cut short: {error_code(exc)}")
        return ChecksumEnforcement(detail="; ".join(notes)), False
    return ChecksumEnforcement(**found, detail="; ".join(notes)), True


def remove_probe_objects(client: Any, bucket: str, prefix: str, versioned: bool) -> int:
    """Remove everything under ``prefix`` (the probe's own keys): every object version and delete marker on a
    versioned bucket (a ``VersionId`` of ``"null"`` is the unversioned object itself), the objects on an
    unversioned one, and open multipart uploads. Returns how many objects, versions and markers went.
    botocore errors propagate."""
    from botocore.exceptions import ClientError

    removed = 0
    if versioned:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for entry in list(page.get("Versions", ()) or ()) + list(page.get("DeleteMarkers", ()) or ()):
                version = entry.get("VersionId")
                try:
                    if version and version != "null":
                        client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=version)
                    else:
                        try:
                            client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId="null")
                        except ClientError:
                            client.delete_object(Bucket=bucket, Key=entry["Key"])
                except ClientError as exc:
                    if error_code(exc) not in ("NoSuchKey", "NoSuchVersion", "404"):
                        raise
                removed += 1
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", ()) or ():
            client.delete_object(Bucket=bucket, Key=entry["Key"])
            removed += 1
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []) or []
    for up in uploads:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
        except ClientError as exc:
            if error_code(exc) not in ("NoSuchUpload", "404"):
                raise
    return removed


def _absent(client: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return error_code(exc) in ("404", "NoSuchKey", "NotFound")
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
                                  ChecksumAlgorithm="CRC32", ChecksumCRC32=part_crc)
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
