"""Issue 8 part 4: uploads verify on any S3-compatible store (SeaweedFS checks checksums; moto stores whatever it is
sent), the checksum probe leaves nothing behind, and data other clients wrote sweeps and lists correctly."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil

import pytest
from botocore.config import Config
from sweep_data import iso, listing, next_second

from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3 import probe
from mediaclean_gui.core.s3.remote import add_remote, get_remote, make_client
from mediaclean_gui.core.s3.sweep import bucket_usage, plan_sweep
from mediaclean_gui.core.s3.sweep_run import probe_conditional_delete
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3


def plain_client(s3):
    """A client that sends no checksums, as awscli before 2.23 or rclone do."""
    return s3.client(config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                   request_checksum_calculation="when_required",
                                   response_checksum_validation="when_required"))


def everything(client, bucket: str) -> dict[str, list]:
    versions = client.list_object_versions(Bucket=bucket)
    return {"versions": versions.get("Versions", []), "markers": versions.get("DeleteMarkers", []),
            "objects": client.list_objects_v2(Bucket=bucket).get("Contents", []),
            "uploads": client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
@pytest.mark.parametrize("big", [False, True], ids=["single-part", "multipart"])
def test_uploads_are_verified_and_only_then_deleted(catalog, s3_env, bucket, mv_workspace, versioned, big):
    raw = s3_env.client()
    if versioned:
        raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rel = mv_workspace.job("v1", big=big, image=False)[0]
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    catalog.set_pref("multipart_threshold_mb", 5)
    result = execute_upload_plan(catalog, plan_upload(catalog, pid, "store", delete_after_upload=True))
    assert result.status == "complete", result.as_json()
    video = {u["key"]: u for u in result.details["uploaded"]}["gen/mv/jobs/v1/video.mp4"]
    assert video["verified"] is True
    assert not mv_workspace.path(rel).exists()
    stored = raw.get_object(Bucket=bucket, Key="gen/mv/jobs/v1/video.mp4")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == mv_workspace.digests[rel]
    if big:
        assert video["etag"].endswith("-2")
    row = catalog.conn.execute("SELECT status, version_id, proof FROM uploads WHERE key = ?",
                               ("gen/mv/jobs/v1/video.mp4",)).fetchone()
    assert row["status"] == "deleted_local"
    if versioned:
        assert row["version_id"] and row["version_id"] != "null"
        raw.head_object(Bucket=bucket, Key="gen/mv/jobs/v1/video.mp4", VersionId=row["version_id"])
    else:
        assert row["version_id"] is None  # moto answers VersionId "null": no version
    if s3_env.name == "moto":  # moto keeps the checksum it is sent unchecked: the ETag (its own MD5) proves it
        assert row["proof"].startswith("head_object: size ")
        assert row["proof"].endswith("and the ETag is the MD5 of the bytes the store holds (this store does not "
                                     "check checksums itself)")
    else:  # SeaweedFS refuses a wrong checksum: its acceptance of ours is the proof
        assert "this endpoint refuses a wrong checksum" in row["proof"]


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
def test_the_probes_leave_nothing_behind(catalog, s3_env, bucket, versioned):
    raw = s3_env.client()
    if versioned:
        raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    found, complete = probe.probe(make_client(remote), remote)
    assert complete, found
    assert found.if_none_match is True and found.put_echoes is True
    assert found.put_rejects_bad is (s3_env.name == "seaweedfs")  # moto stores a wrong checksum as sent
    assert found.multipart_rejects_bad is (s3_env.name == "seaweedfs")
    assert everything(raw, bucket) == {"versions": [], "markers": [], "objects": [], "uploads": []}
    # the sweep's probe of ETag conditions on DeleteObjects cleans up too (moto adds a delete marker)
    assert probe_conditional_delete(make_client(remote), remote) is (s3_env.name == "seaweedfs")
    assert everything(raw, bucket) == {"versions": [], "markers": [], "objects": [], "uploads": []}


def test_data_other_clients_wrote_sweeps_and_lists_correctly(catalog, s3_env, bucket, big_video, tmp_path,
                                                              mv_workspace):
    from boto3.s3.transfer import TransferConfig

    other = plain_client(s3_env)
    # multipart with boto3's default part size (8 MiB: one part for this 6.5 MB file), and single PUTs
    other.upload_file(str(big_video), bucket, "clips/other/render.mp4",
                      Config=TransferConfig(multipart_threshold=5 * 1024 * 1024))
    other.put_object(Bucket=bucket, Key="uploads/original.mov", Body=b"an original upload")
    other.put_object(Bucket=bucket, Key="gen/mv/jobs/v1/video.mp4", Body=big_video.read_bytes())
    assert other.head_object(Bucket=bucket, Key="clips/other/render.mp4")["ETag"].strip('"').endswith("-1")
    boundary = next_second()
    add_remote(catalog, "whole", bucket, endpoint_url=s3_env.endpoint_url)
    usage = bucket_usage(catalog, "whole", as_of=boundary + dt.timedelta(days=2))
    size = big_video.stat().st_size
    assert usage == {"clips/": {"1–5 days": size}, "uploads/": {"1–5 days": 18}, "gen/": {"1–5 days": size}}
    plan_id = plan_sweep(catalog, "whole", as_of=boundary + dt.timedelta(days=6))
    planned = {r[0].decode() if isinstance(r[0], bytes) else r[0]: r[1] for r in catalog.conn.execute(
        "SELECT target, size FROM plan_items WHERE plan_id = ?", (plan_id,))}
    assert planned == {"clips/other/render.mp4": size, "uploads/original.mov": 18, "gen/mv/jobs/v1/video.mp4": size}

    # a file of ours whose key holds that other client's object: same size, no checksum to compare (its
    # single-part ETag is an MD5, so that proves it); under a multipart ETag nothing could be compared
    dest = mv_workspace.path("backend/mv/outputs/jobs/v1/video.mp4")
    dest.parent.mkdir(parents=True)
    shutil.copyfile(big_video, dest)
    import os
    import time
    os.utime(dest, (time.time() - 3600, time.time() - 3600))
    other.upload_file(str(big_video), bucket, "gen/mv/jobs/v2/video.mp4",
                      Config=TransferConfig(multipart_threshold=5 * 1024 * 1024))
    dest2 = mv_workspace.path("backend/mv/outputs/jobs/v2/video.mp4")
    dest2.parent.mkdir(parents=True)
    shutil.copyfile(big_video, dest2)
    os.utime(dest2, (time.time() - 3600, time.time() - 3600))
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    upload_plan = plan_upload(catalog, pid, "store", delete_after_upload=True)
    kept = {os.fsdecode(r[0]): r[1] for r in catalog.conn.execute(
        "SELECT target, detail FROM plan_kept WHERE plan_id = ?", (upload_plan,))}
    assert kept[str(dest2)].startswith("the store already holds an object of the same size whose bytes cannot be "
                                       "compared with this file (it has no comparable checksum) at "
                                       "gen/mv/jobs/v2/video.mp4")
    result = execute_upload_plan(catalog, upload_plan, client=make_client(get_remote(catalog, "store")))
    assert result.status == "complete", result.as_json()
    assert result.details["uploaded"] == []
    assert [d["key"] for d in result.details["deleted_local"]] == ["gen/mv/jobs/v1/video.mp4"]
    assert not dest.exists() and dest2.exists()
    assert set(listing(s3_env.client(), bucket)) >= {"gen/mv/jobs/v1/video.mp4", "gen/mv/jobs/v2/video.mp4"}
    assert iso(boundary)  # the boundary second is real
