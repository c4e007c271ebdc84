"""F3 through awscrt's native S3 client (core/s3/native_put.py): the same proof as botocore's path, on SeaweedFS
and on moto — a wrong checksum is refused and the file kept, an object written since the preview is never
overwritten, moto's unchecked checksums still need the ETag, a store that cannot be reached stops the run —
and the botocore path when awscrt is missing."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest

from mediaclean_gui.core.events import Progress
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3 import native_put, transfer
from mediaclean_gui.core.s3.native_put import NativePut
from mediaclean_gui.core.s3.remote import add_remote, get_remote, make_client
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3

VIDEO = "backend/mv/outputs/jobs/v1/video.mp4"
VIDEO_KEY = "gen/mv/jobs/v1/video.mp4"


def setup(catalog, s3, bucket, ws) -> int:
    pid = add_project(catalog, ws.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3.endpoint_url, prefix="gen")
    return pid


def body_of(s3, bucket: str, key: str) -> bytes:
    return s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def test_small_files_go_natively_and_are_proved_before_they_are_deleted(catalog, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1") + [mv_workspace.add(f"backend/mv/outputs/audio/take-{n}.mp3", "mp3").relative_to(
        mv_workspace.root).as_posix() for n in range(12)]
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete", result.as_json()
    assert result.details["transfer_client"] == "crt"
    assert result.deleted_count == len(rels)
    for entry in result.details["uploaded"]:
        assert entry["verified"] and entry["etag"], entry
        if s3_env.name == "seaweedfs":  # it refuses a wrong checksum: its acceptance is the proof
            assert entry["proof"].startswith("PutObject accepted CRC32 "), entry
        else:  # moto keeps any checksum it is sent: the object is read back and its ETag must be the MD5
            assert entry["proof"].startswith("head_object: size "), entry
            assert "the ETag is the MD5 of the bytes the store holds" in entry["proof"], entry
    for rel in rels:
        assert not mv_workspace.path(rel).exists()
    by_path = {str(mv_workspace.path(rel)): rel for rel in rels}
    for entry in result.details["uploaded"]:
        digest = hashlib.sha256(body_of(s3_env, bucket, entry["key"])).hexdigest()
        assert digest == mv_workspace.digests[by_path[entry["path"]]], entry
    rows = catalog.conn.execute("SELECT status, checksum FROM uploads").fetchall()
    assert {r["status"] for r in rows} == {"deleted_local"} and all(r["checksum"] for r in rows)


def _rewrite_after_hashing(path):
    """A progress callback that rewrites ``path`` in place (same size) once, on the pool thread just after the
    file was hashed and before its PUT; the list it returns says when it did."""
    changed: list[str] = []

    def rewrite(progress: Progress) -> None:
        if progress.current.endswith("video.mp4") and not changed:
            with open(path, "r+b") as f:
                f.write(b"\0" * 64)
            changed.append(progress.current)

    return rewrite, changed


def test_a_small_file_changed_after_hashing_is_uploaded_as_hashed_and_kept(catalog, s3_env, bucket, mv_workspace):
    """A small file is read once: the bytes hashed are the bytes sent. Rewritten in place (same size) after the
    hashing and before its PUT, the store holds — and proves — the earlier bytes; the local file changed since
    it was hashed, so it stays, and the object is not recorded as its only copy."""
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    before = path.read_bytes()
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    rewrite, changed = _rewrite_after_hashing(path)

    result = execute_upload_plan(catalog, plan_id, progress=Progress(callback=rewrite))
    assert changed and result.details["transfer_client"] == "crt"
    assert path.exists() and path.read_bytes() == b"\0" * 64 + before[64:]
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()  # the other file went
    skipped = {s["key"]: s["reason"] for s in result.skipped}
    assert skipped[VIDEO_KEY] == ("changed since it was hashed: the uploaded object is the earlier version; "
                                  "uploaded and verified, the local file is kept")
    assert body_of(s3_env, bucket, VIDEO_KEY) == before
    assert not catalog.conn.execute("SELECT 1 FROM only_copies WHERE key = ?", (VIDEO_KEY,)).fetchall()


def test_bytes_changed_after_hashing_are_refused_or_unproved_and_the_file_is_kept(catalog, s3_env, bucket,
                                                                                   mv_workspace):
    """A file above what is kept in memory is read again for its PUT. Rewritten in place (same size) after it
    was hashed and before its PUT: SeaweedFS refuses the checksum (BadDigest); moto takes it, but the ETag is
    not the MD5 of what was hashed. Either way the local file stays."""
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    video = path.read_bytes()
    stat = path.stat()
    path.write_bytes(video * (transfer.KEEP_BYTES // len(video) + 2))  # the same real clip, repeated
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as old as the clip: settled
    assert transfer.KEEP_BYTES < path.stat().st_size <= native_put.NATIVE_MAX
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    size = path.stat().st_size
    rewrite, changed = _rewrite_after_hashing(path)

    result = execute_upload_plan(catalog, plan_id, progress=Progress(callback=rewrite))
    assert changed and result.details["transfer_client"] == "crt"
    assert path.exists() and path.stat().st_size == size
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()  # the other file went
    if s3_env.name == "seaweedfs":
        failed = {f["key"]: f["error"] for f in result.failed}
        assert failed[VIDEO_KEY] == ("checksum mismatch: the store received other bytes than were hashed (did the "
                                     "file change during the upload?); the local file is kept")
        assert s3_env.client().list_objects_v2(Bucket=bucket, Prefix=VIDEO_KEY).get("KeyCount") == 0
        status = catalog.conn.execute("SELECT status FROM uploads WHERE key = ?", (VIDEO_KEY,)).fetchone()[0]
        assert status == "failed"  # queued for a retry with back-off
    else:
        skipped = {s["key"]: s["reason"] for s in result.skipped}
        assert skipped[VIDEO_KEY].startswith("upload not verified: the store's ETag "), skipped
        assert skipped[VIDEO_KEY].endswith("; the local file is kept")
    assert not catalog.conn.execute("SELECT 1 FROM only_copies WHERE key = ?", (VIDEO_KEY,)).fetchall()


def test_an_object_written_after_the_preview_is_not_overwritten(catalog, s3_env, bucket, mv_workspace):
    """Both stores honour If-None-Match: the native PUT carries it, the store's 412 keeps both copies."""
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    theirs = b"written by someone else after the preview"
    s3_env.client().put_object(Bucket=bucket, Key=VIDEO_KEY, Body=theirs)
    result = execute_upload_plan(catalog, plan_id)
    assert result.details["transfer_client"] == "crt"
    skipped = {s["key"]: s["reason"] for s in result.skipped}
    assert skipped[VIDEO_KEY].startswith(f"the store already holds other bytes at {VIDEO_KEY}, last modified ")
    assert skipped[VIDEO_KEY].endswith("; both copies are kept")
    assert path.exists() and body_of(s3_env, bucket, VIDEO_KEY) == theirs
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()


def test_native_refusals_and_keys_as_botocore_gives_them(catalog, s3_env, bucket, tmp_path):
    """One ``NativePut`` against the real store: odd keys arrive as written, a wrong checksum is the
    ``BadDigest`` botocore would raise (SeaweedFS; moto stores it), an existing key refuses ``If-None-Match``."""
    from botocore.exceptions import ClientError

    from mediaclean_gui.core.s3.checksum import digest_bytes
    from mediaclean_gui.core.s3.remote import error_code

    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url)
    client = make_client(remote, sign_payload=False)
    native = NativePut(client, remote, concurrency=2, max_attempts=2)
    body = tmp_path / "body"
    body.write_bytes(b"some bytes of a render " * 100)
    good = digest_bytes(body.read_bytes(), "CRC32")
    bad = digest_bytes(body.read_bytes() + b"!", "CRC32")
    try:
        for key in ("renders/a b+c%d/ünïcode~(1).mp4", "plain.mp4"):
            with open(body, "rb") as f:
                resp = native.put(bucket, key, f, body.stat().st_size, algorithm="CRC32", checksum=good,
                                  if_none_match=True)
            assert resp["ChecksumCRC32"] == good and resp["ETag"].strip('"')
            assert body_of(s3_env, bucket, key) == body.read_bytes(), key
        with open(body, "rb") as f, pytest.raises(ClientError) as refused:
            native.put(bucket, "plain.mp4", f, body.stat().st_size, algorithm="CRC32", checksum=good,
                       if_none_match=True)
        assert error_code(refused.value) in ("PreconditionFailed", "412")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        if s3_env.name == "seaweedfs":
            with open(body, "rb") as f, pytest.raises(ClientError) as refused:
                native.put(bucket, "wrong.mp4", f, body.stat().st_size, algorithm="CRC32", checksum=bad,
                           if_none_match=True)
            assert error_code(refused.value) == "BadDigest"
            assert s3_env.client().list_objects_v2(Bucket=bucket, Prefix="wrong.mp4").get("KeyCount") == 0
    finally:
        native.close()


@pytest.mark.seaweedfs_only("one unreachable endpoint is enough")
def test_an_unreachable_store_is_botocores_connection_error(catalog, s3_env, bucket, tmp_path):
    from botocore.exceptions import EndpointConnectionError
    from s3_server import free_ports

    from mediaclean_gui.core.s3.remote import explain_s3_error

    remote = add_remote(catalog, "gone", bucket, endpoint_url=f"http://127.0.0.1:{free_ports(1)[0]}")
    native = NativePut(make_client(remote, max_attempts=1), remote, concurrency=1, max_attempts=1)
    body = tmp_path / "body"
    body.write_bytes(b"x" * 100)
    try:
        with open(body, "rb") as f, pytest.raises(EndpointConnectionError) as caught:
            native.put(bucket, "k", f, 100, algorithm="CRC32", checksum="AAAAAA==", if_none_match=False)
    finally:
        native.close()
    assert explain_s3_error(caught.value, remote).message.startswith(
        f"Upload failed: cannot reach the store at {remote.endpoint_url} (EndpointConnectionError)")


@pytest.mark.seaweedfs_only("the fallback is the same on both stores")
def test_without_awscrt_the_run_goes_through_botocore(catalog, s3_env, bucket, mv_workspace, monkeypatch):
    mv_workspace.job("v1")
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    monkeypatch.setitem(sys.modules, "awscrt.s3", None)  # as if awscrt were not installed: its import fails
    assert not native_put.available()
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete" and result.deleted_count == 3, result.as_json()
    assert result.details["transfer_client"] == "classic"


@pytest.mark.seaweedfs_only("the choice does not depend on the store")
def test_a_proxy_or_a_client_of_the_caller_keeps_the_run_on_botocore(catalog, s3_env, bucket, mv_workspace,
                                                                    monkeypatch):
    """The native client reads no proxy settings, and a caller's client may carry event hooks only botocore calls."""
    mv_workspace.job("v1")
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    client = make_client(get_remote(catalog, "store"))
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert result.deleted_count == 3 and result.details["transfer_client"] == "classic"
    mv_workspace.job("v2")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # never used: the store's address is in NO_PROXY
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id)
    assert result.deleted_count == 3 and result.details["transfer_client"] == "classic", result.as_json()
