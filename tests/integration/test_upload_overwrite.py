"""F3: an upload never overwrites other bytes silently, and an object that already holds the same bytes is the proof
— decided at planning and checked again just before the PUT, on SeaweedFS and on moto, with real media."""

from __future__ import annotations

import hashlib
import json

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.plan import iter_kept, load_plan
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3 import probe
from mediaclean_gui.core.s3.remote import add_remote, make_client
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3

VIDEO_KEY = "gen/mv/jobs/v1/video.mp4"
VIDEO = "backend/mv/outputs/jobs/v1/video.mp4"


def setup(catalog: Catalog, s3, bucket, ws) -> int:
    pid = add_project(catalog, ws.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3.endpoint_url, prefix="gen")
    catalog.set_pref("multipart_threshold_mb", 5)
    return pid


def body_of(s3, bucket: str, key: str) -> bytes:
    return s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def counting(client) -> list[str]:
    seen: list[str] = []
    client.meta.events.register("before-send.s3.*", lambda **kw: seen.append(kw["event_name"].rsplit(".", 1)[-1]))
    return seen


@pytest.mark.parametrize("big", [False, True], ids=["single-part", "multipart"])
def test_other_bytes_at_the_key_keep_both_copies_unless_overwrite(catalog, s3_env, bucket, mv_workspace, big):
    mv_workspace.job("v1", big=big, image=False)
    path = mv_workspace.path(VIDEO)
    theirs = b"a newer render the pipeline uploaded itself"
    s3_env.client().put_object(Bucket=bucket, Key=VIDEO_KEY, Body=theirs)
    pid = setup(catalog, s3_env, bucket, mv_workspace)

    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    kept = {k.target: k for k in iter_kept(catalog, plan_id)}
    assert kept[str(path)].reason.value == "protected"
    assert kept[str(path)].detail.startswith(f"the store already holds other bytes at {VIDEO_KEY}, last modified ")
    assert kept[str(path)].detail.endswith("; both copies are kept (choose to overwrite to replace it)")
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete", result.as_json()
    assert path.exists() and body_of(s3_env, bucket, VIDEO_KEY) == theirs  # both copies kept
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()  # the other file went

    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True, overwrite=True)
    assert "1 overwrite other bytes at their key, as chosen" in load_plan(catalog, plan_id).summary
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete", result.as_json()
    assert not path.exists()
    assert hashlib.sha256(body_of(s3_env, bucket, VIDEO_KEY)).hexdigest() == mv_workspace.digests[VIDEO]


def test_the_same_bytes_at_the_key_are_the_proof_without_a_put(catalog, s3_env, bucket, mv_workspace, cli):
    """Objects another client wrote (plain boto3, no checksums, as awscli or rclone would) with this file's
    bytes: the local copies go without a re-upload."""
    rels = mv_workspace.job("v1")
    raw = s3_env.client()
    for rel in rels:
        key = "gen/mv/jobs/v1/" + rel.rsplit("/", 1)[1]
        raw.put_object(Bucket=bucket, Key=key, Body=mv_workspace.path(rel).read_bytes())
    before = {o["Key"]: o["ETag"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]}
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    assert "3 already stored with the same bytes (proved without uploading again)" in \
        load_plan(catalog, plan_id).summary
    client = make_client(catalog_remote(catalog))
    probe.checksum_enforcement(catalog, catalog_remote(catalog), client)  # once per endpoint, not counted
    seen = counting(client)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert result.status == "complete", result.as_json()
    assert "PutObject" not in seen and "CreateMultipartUpload" not in seen
    assert seen.count("HeadObject") == 3
    assert len(result.details["deleted_local"]) == 3 and result.details["uploaded"] == []
    assert not any(mv_workspace.path(r).exists() for r in rels)
    assert {o["Key"]: o["ETag"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]} == before
    # the objects are now the only copies: a sweep keeps them
    code, out = cli("sweep", "--remote", "store", "--as-of", "2099-01-01T00:00:00Z")
    assert code == 0 and out["deleted_count"] == 0 and out["only_copies_kept"] == 3


@pytest.mark.parametrize("guard", ["if-none-match", "head"])
def test_a_key_written_after_the_preview_is_not_overwritten(catalog, s3_env, bucket, mv_workspace, guard):
    """Between the preview and the run another writer puts other bytes at the key: the executor's last look
    (If-None-Match, or a HEAD where the store would ignore it) keeps both copies."""
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    remote = catalog_remote(catalog)
    client = make_client(remote)
    if guard == "head":  # a store that ignores If-None-Match, as far as the uploader knows
        catalog.conn.execute(
            "INSERT INTO endpoint_probes(endpoint, probe, result, probed_at) VALUES (?, ?, ?, ?)",
            (remote.endpoint_id, probe.PROBE, json.dumps({"put_rejects_bad": True, "put_echoes": True,
                                                          "if_none_match": False}), "2999-01-01T00:00:00Z"))
    probe.checksum_enforcement(catalog, remote, client)  # once per endpoint, not counted
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    theirs = b"written by someone else after the preview"
    s3_env.client().put_object(Bucket=bucket, Key=VIDEO_KEY, Body=theirs)
    seen = counting(client)
    result = execute_upload_plan(catalog, plan_id, client=client)
    skipped = {s["key"]: s["reason"] for s in result.skipped}
    assert skipped[VIDEO_KEY].startswith(f"the store already holds other bytes at {VIDEO_KEY}, last modified ")
    assert path.exists() and body_of(s3_env, bucket, VIDEO_KEY) == theirs
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()
    if guard == "head":
        assert seen.count("PutObject") == 1  # only metadata.json went out
    else:
        assert seen.count("PutObject") == 2  # the video's PUT was refused by the store


def test_versioned_bucket_keeps_the_other_bytes_as_an_older_version(catalog, s3_env, bucket, mv_workspace):
    raw = s3_env.client()
    raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    mv_workspace.job("v1", image=False)
    theirs = b"an earlier render"
    first = raw.put_object(Bucket=bucket, Key=VIDEO_KEY, Body=theirs)["VersionId"]
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    assert ("1 replace other bytes at their key; the bucket is versioned, so the earlier objects stay as older "
            "versions (nothing is lost)") in load_plan(catalog, plan_id).summary
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete", result.as_json()
    assert not mv_workspace.path(VIDEO).exists()
    versions = {v["VersionId"]: v for v in raw.list_object_versions(Bucket=bucket, Prefix=VIDEO_KEY)["Versions"]}
    assert first in versions and len(versions) == 2
    assert raw.get_object(Bucket=bucket, Key=VIDEO_KEY, VersionId=first)["Body"].read() == theirs


def catalog_remote(catalog):
    from mediaclean_gui.core.s3.remote import get_remote

    return get_remote(catalog, "store")


def test_the_command_line_keeps_both_copies_and_overwrites_only_with_the_flag(cli, s3_env, bucket, mv_workspace):
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    theirs = b"the pipeline's own upload"
    s3_env.client().put_object(Bucket=bucket, Key=VIDEO_KEY, Body=theirs)
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url, "--prefix",
               "gen", "--layout", "mv-backend")[0] == 0
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0, out
    (kept,) = [k for k in out["kept"] if k["target"] == str(path)]
    assert kept["detail"].startswith(f"the store already holds other bytes at {VIDEO_KEY}, last modified ")
    assert path.exists() and body_of(s3_env, bucket, VIDEO_KEY) == theirs
    code, preview = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--overwrite")
    (item,) = [i for i in preview["items"] if i["key"] == VIDEO_KEY]
    assert item["existing"]["replace"] is True and item["existing"]["size"] == len(theirs)
    assert body_of(s3_env, bucket, VIDEO_KEY) == theirs  # a preview changes nothing
    code, out = cli("upload", "--plan", preview["plan_id"], "--yes")
    assert code == 0, out
    assert not path.exists()
    assert hashlib.sha256(body_of(s3_env, bucket, VIDEO_KEY)).hexdigest() == mv_workspace.digests[VIDEO]


def test_an_only_copy_is_never_overwritten_even_when_asked(catalog, s3_env, bucket, mv_workspace):
    """A re-render appears where an uploaded (and locally deleted) output was: overwriting the object would
    destroy the only copy of the first render, so even with overwrite both are kept."""
    mv_workspace.job("v1", image=False)
    path = mv_workspace.path(VIDEO)
    pid = setup(catalog, s3_env, bucket, mv_workspace)
    result = execute_upload_plan(catalog, plan_upload(catalog, pid, "store", delete_after_upload=True))
    assert result.status == "complete" and not path.exists()
    first = body_of(s3_env, bucket, VIDEO_KEY)
    rerender = mv_workspace.add(VIDEO, "jpg")  # other bytes at the same path, aged past the settle time
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True, overwrite=True)
    kept = {k.target: k.detail for k in iter_kept(catalog, plan_id)}
    assert kept[str(rerender)].endswith(
        "and that object is only copy: uploaded from project mv, local copy deleted on "
        f"{__import__('datetime').datetime.now(__import__('datetime').timezone.utc):%Y-%m-%d}; it is never "
        "overwritten, so both copies are kept")
    execute_upload_plan(catalog, plan_id)
    assert rerender.exists() and body_of(s3_env, bucket, VIDEO_KEY) == first
