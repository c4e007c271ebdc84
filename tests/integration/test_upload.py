"""F3 against the real SeaweedFS on real media: verified uploads, then local deletion only after proof."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.events import CancelToken, Progress
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3 import probe
from mediaclean_gui.core.s3.remote import add_remote, make_client
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3

MB = 1_000_000  # SI, as every size mediaclean shows


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def setup_cli(cli, s3, bucket, ws, *, threshold_mb: int = 5, concurrency: int | None = None) -> None:
    assert cli("project", "add", ws.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3.endpoint_url, "--prefix", "gen",
               "--layout", "mv-backend")[0] == 0
    assert cli("prefs", "multipart_threshold_mb", threshold_mb)[0] == 0
    if concurrency is not None:
        assert cli("prefs", "upload_concurrency", concurrency)[0] == 0


def setup_core(catalog: Catalog, s3, bucket, ws, *, threshold_mb: int = 5, concurrency: int = 4) -> int:
    pid = add_project(catalog, ws.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3.endpoint_url, prefix="gen")
    catalog.set_pref("multipart_threshold_mb", threshold_mb)
    catalog.set_pref("upload_concurrency", concurrency)
    return pid


def stored(s3, bucket: str) -> dict[str, bytes]:
    client = s3.client()
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def expected_key(rel: str) -> str:
    parts = rel.split("/")
    if parts[3] == "jobs":
        return "gen/mv/jobs/" + "/".join(parts[4:])
    return "gen/mv/outputs/" + "/".join(parts[3:])


def uploads_rows(catalog_path) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(catalog_path)
    db.row_factory = sqlite3.Row
    rows = {os.fsdecode(r["path"]): r for r in db.execute("SELECT * FROM uploads")}
    db.close()
    return rows


def test_preview_changes_nothing(cli, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", big=True)
    setup_cli(cli, s3_env, bucket, mv_workspace)
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload")
    assert code == 0
    assert out["dry_run"] is True
    assert out["uploaded"] == [] and out["deleted_local"] == [] and out["failed"] == []
    by_path = {i["path"]: i for i in out["items"]}
    assert set(by_path) == {str(mv_workspace.path(r)) for r in rels}
    video = by_path[str(mv_workspace.path("backend/mv/outputs/jobs/v2/video.mp4"))]
    assert video["key"] == "gen/mv/jobs/v2/video.mp4"
    assert video["delete_local"] is True and video["action"] == "upload_then_delete"
    assert video["size"] == mv_workspace.big.stat().st_size
    assert out["total_line"].startswith("Will upload 6 files · ")
    assert out["total_line"].endswith("· delete 6 local copies once verified · 0 kept")
    assert all(mv_workspace.path(r).exists() for r in rels)
    assert stored(s3_env, bucket) == {}


def test_verified_upload_then_delete_single_and_multipart(cli, s3_env, bucket, mv_workspace, catalog_path, caplog):
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", big=True)
    rels.append("backend/mv/outputs/audio/a.mp3")
    mv_workspace.add(rels[-1], "mp3")
    setup_cli(cli, s3_env, bucket, mv_workspace)
    s3_logger = logging.getLogger("mediaclean.s3")
    s3_logger.addHandler(caplog.handler)  # the CLI's logging setup stops propagation at 'mediaclean'
    caplog.set_level(logging.INFO, logger="mediaclean.s3")
    try:
        code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    finally:
        s3_logger.removeHandler(caplog.handler)
    assert code == 0, out
    assert out["status"] == "complete" and out["dry_run"] is False
    assert out["summary"].startswith("Upload: uploaded 7 files (")
    assert ", 7 verified; deleted 7 local files, freed " in out["summary"]
    # every local copy is gone, and the store holds exactly those bytes under the template keys
    objects = stored(s3_env, bucket)
    for rel in rels:
        assert not mv_workspace.path(rel).exists()
        assert sha(objects[expected_key(rel)]) == mv_workspace.digests[rel]
    assert len(objects) == len(rels)
    uploaded = {u["key"]: u for u in out["uploaded"]}
    assert all(u["verified"] for u in uploaded.values())
    big = uploaded["gen/mv/jobs/v2/video.mp4"]
    assert big["checksum"].startswith("CRC32:")
    assert big["etag"].endswith("-2")  # really a multipart upload (6.5 MB at a 5 MB threshold)
    head = s3_env.client().head_object(Bucket=bucket, Key="gen/mv/jobs/v2/video.mp4", ChecksumMode="ENABLED")
    if s3_env.name == "seaweedfs":  # checks full-object checksums: the accepted upload is the proof
        assert head["ChecksumType"] == "FULL_OBJECT"
        assert big["checksum"] == f"CRC32:{head['ChecksumCRC32']}"
    else:  # moto keeps a composite checksum (without its '-2') it never checked: the ETag is the proof
        assert "ChecksumType" not in head and head["ChecksumCRC32"] != big["checksum"][6:]
        assert "composite checksum matches, and the ETag is the MD5 of the bytes the store holds" in big["proof"]
    assert {d["path"] for d in out["deleted_local"]} == {str(mv_workspace.path(r)) for r in rels}
    assert out["freed_bytes"] == sum(u["size"] for u in out["uploaded"])
    # the catalog records key, ETag, checksum and when it was verified
    rows = uploads_rows(catalog_path)
    for rel in rels:
        row = rows[str(mv_workspace.path(rel))]
        assert row["status"] == "deleted_local"
        assert row["key"] == expected_key(rel)
        assert row["checksum_algorithm"] == "CRC32" and row["checksum"] and row["etag"] and row["verified_at"]
    # the seed's log events, with path and size
    deleted = [r for r in caplog.records if getattr(r, "event", "") == "local_file_deleted"]
    assert {r.fields["file_path"] for r in deleted} == {str(mv_workspace.path(r)) for r in rels}
    assert all(r.fields["size"] > 0 for r in deleted)
    # history: one upload run with every item deleted
    code, hist = cli("history")
    assert hist["runs"][0]["kind"] == "upload" and hist["runs"][0]["deleted_count"] == 7


def test_upload_keeps_local_copy_without_delete_flag(cli, s3_env, bucket, mv_workspace, catalog_path):
    rels = mv_workspace.job("v1")
    setup_cli(cli, s3_env, bucket, mv_workspace)
    code, out = cli("upload", "mv", "--remote", "store", "--yes")
    assert code == 0
    assert out["deleted_local"] == [] and out["freed_bytes"] == 0
    assert len(out["uploaded"]) == 3 and all(u["verified"] for u in out["uploaded"])
    assert all(mv_workspace.path(r).exists() for r in rels)
    with closing(sqlite3.connect(catalog_path)) as db:
        outcomes = [r[0] for r in db.execute("SELECT outcome FROM run_items WHERE run_id = ?", (out["run_id"],))]
    assert outcomes == ["uploaded"] * 3
    assert {r["status"] for r in uploads_rows(catalog_path).values()} == {"verified"}
    # a later run with --delete-after-upload re-proves the stored objects and deletes without uploading again
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0
    assert out["uploaded"] == [] and len(out["deleted_local"]) == 3
    assert not any(mv_workspace.path(r).exists() for r in rels)


def test_read_back_proof_when_the_endpoint_does_not_enforce_checksums(catalog, s3_env, bucket, mv_workspace):
    """Without the probe's proof every object is read back with head_object: full-object and composite."""
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", big=True)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    remote = add_remote(catalog, "other", bucket, endpoint_url=s3_env.endpoint_url + "/", prefix="gen")
    catalog.conn.execute(
        "INSERT INTO endpoint_probes(endpoint, probe, result, probed_at) VALUES (?, ?, ?, ?)",
        (remote.endpoint_id, probe.PROBE, json.dumps({"put_rejects_bad": False, "put_echoes": True,
                                                       "multipart_full_object": False,
                                                       "multipart_rejects_bad": False, "if_none_match": True,
                                                       "detail": "test"}),
         "2999-01-01T00:00:00Z"),
    )
    plan_id = plan_upload(catalog, pid, "other", delete_after_upload=True)
    client = make_client(remote)
    seen: list[str] = []
    client.meta.events.register("before-send.s3.*", lambda request, **kw: seen.append(
        kw.get("event_name", "").rsplit(".", 1)[-1]))
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert result.status == "complete", result.as_json()
    assert seen.count("HeadObject") == len(rels)
    proofs = {u["key"]: u["proof"] for u in result.details["uploaded"]}
    assert "composite checksum matches" in proofs["gen/mv/jobs/v2/video.mp4"]
    assert proofs["gen/mv/jobs/v1/video.mp4"].startswith("head_object: size 14")
    head = s3_env.client().head_object(Bucket=bucket, Key="gen/mv/jobs/v2/video.mp4", ChecksumMode="ENABLED")
    if s3_env.name == "seaweedfs":
        assert head["ChecksumType"] == "COMPOSITE" and head["ChecksumCRC32"].endswith("-2")
    else:  # moto writes the composite checksum without its part count
        assert "-" not in head["ChecksumCRC32"]
    assert not any(mv_workspace.path(r).exists() for r in rels)


@pytest.mark.seaweedfs_only("moto stores the checksum it is sent without checking it, so an accepted PUT proves "
                             "nothing there (every object is read back)")
def test_probe_proof_needs_one_request_per_small_file(catalog, s3_env, bucket, mv_workspace):
    for n in range(10):
        mv_workspace.add(f"backend/mv/outputs/audio/a{n}.mp3", "mp3")
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    remote = add_remote(catalog, "r2", bucket, endpoint_url=s3_env.endpoint_url)
    client = make_client(remote)
    probe.checksum_enforcement(catalog, remote, client)  # cached for the endpoint from now on
    assert probe.cached(catalog, remote).put_is_proof
    plan_id = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert result.status == "complete"
    assert len(result.details["deleted_local"]) == 10
    # HeadBucket + ListMultipartUploads + one PutObject per file, no read-back
    assert result.details["requests"] == 2 + 10
    assert all("this endpoint refuses a wrong checksum" in u["proof"] for u in result.details["uploaded"])


@pytest.mark.parametrize("big", [False, True], ids=["single-part", "multipart"])
def test_file_changing_during_upload_fails_and_is_kept(catalog, s3_env, bucket, mv_workspace, big):
    """The bytes change under the upload (same size, mtime put back): only the checksum can tell."""
    rel = mv_workspace.job("v1", big=big, image=False)[0]
    path = mv_workspace.path(rel)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace, concurrency=1)
    remote = add_remote(catalog, "r2", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    plan_id = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    client = make_client(remote, max_attempts=2)
    original = path.read_bytes()
    st = path.stat()
    tampered = []

    def tamper(params, **kwargs):
        if params.get("Key", "").endswith("v1/video.mp4") and not tampered:
            with open(path, "r+b") as fh:
                fh.seek(len(original) // 2)
                fh.write(bytes(b ^ 0xFF for b in original[len(original) // 2: len(original) // 2 + 64]))
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            tampered.append(params["Key"])

    client.meta.events.register("before-parameter-build.s3.PutObject", tamper)
    client.meta.events.register("before-parameter-build.s3.UploadPart", tamper)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert tampered
    failed = {f["key"]: f["error"] for f in result.failed}
    skipped = {s["key"]: s["reason"] for s in result.skipped}
    assert path.exists() and path.read_bytes() != original  # kept, as it is now
    assert result.status == ("failed" if s3_env.name == "seaweedfs" or big else "complete")
    if s3_env.name == "seaweedfs":  # the store refuses the bytes: nothing is stored
        assert failed["gen/mv/jobs/v1/video.mp4"].startswith(
            "checksum mismatch: the store received other bytes than were hashed")
        assert "gen/mv/jobs/v1/video.mp4" not in stored(s3_env, bucket)
    elif big:  # moto stores them; its composite checksum (of the parts as sent) tells
        assert failed["gen/mv/jobs/v1/video.mp4"].startswith(
            "the store holds different bytes (CRC32 composite checksum differs")
    else:  # moto stores them and echoes our checksum; its ETag (the MD5 it computed) tells
        assert skipped["gen/mv/jobs/v1/video.mp4"].startswith("upload not verified: the store's ETag ")
    assert not mv_workspace.path("backend/mv/outputs/jobs/v1/metadata.json").exists()  # the other file went
    row = catalog.conn.execute("SELECT status, next_attempt_at, last_error FROM uploads WHERE key = ?",
                               ("gen/mv/jobs/v1/video.mp4",)).fetchone()
    assert row["next_attempt_at"]  # tried again after the back-off
    if s3_env.name == "seaweedfs":
        assert row["status"] == "failed" and "checksum mismatch" in row["last_error"]
    else:
        assert row["status"] == ("failed" if big else "unverified")
        assert ("composite checksum differs" if big else "is not the file's MD5") in row["last_error"]
    assert s3_env.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_no_checksum_from_store_means_unverified_and_kept(catalog, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1", image=False)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    remote = add_remote(catalog, "blind", bucket, endpoint_url=s3_env.endpoint_url + "/", prefix="gen")
    catalog.conn.execute("INSERT INTO endpoint_probes(endpoint, probe, result, probed_at) VALUES (?, ?, '{}', ?)",
                         (remote.endpoint_id, probe.PROBE, "2999-01-01T00:00:00Z"))
    client = make_client(remote)

    def blind(parsed, **kwargs):
        """A store that keeps no checksum and whose ETag is no MD5 (as with SSE-KMS): nothing can prove it."""
        for key in [k for k in parsed if k.startswith("Checksum")]:
            parsed.pop(key)
        if "ETag" in parsed:
            parsed["ETag"] = '"' + "f" * 31 + 'e"'

    client.meta.events.register("after-call.s3.HeadObject", blind)
    plan_id = plan_upload(catalog, pid, "blind", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert all(mv_workspace.path(r).exists() for r in rels)
    assert result.details["deleted_local"] == []
    assert [u["verified"] for u in result.details["uploaded"]] == [False, False]
    for reason in {s["reason"] for s in result.skipped}:
        assert reason.startswith("upload not verified: the store's ETag fffffffffffffffffffffffffffffffe is not the "
                             "file's MD5 ")
        assert reason.endswith("and the store does not check checksums, so nothing proves the upload (check the "
                               "object and delete the file yourself, or use a store that checks S3 checksums); the "
                               "local file is kept")
    statuses = {r[0] for r in catalog.conn.execute("SELECT status FROM uploads")}
    assert statuses == {"unverified"}
    assert "2 not verified (kept)" in result.summary_line()


@pytest.mark.seaweedfs_only("moto accepts any credentials")
def test_wrong_secret_key_is_a_clear_error_and_nothing_changes(cli, s3_env, bucket, mv_workspace, monkeypatch,
                                                             catalog_path):
    rels = mv_workspace.job("v1")
    setup_cli(cli, s3_env, bucket, mv_workspace)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "definitely-wrong")
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 2
    assert out["error"] == (f"Upload preview failed: the store rejected the credentials for bucket '{bucket}' "
                            f"(check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile).")
    assert all(mv_workspace.path(r).exists() for r in rels)
    assert stored(s3_env, bucket) == {}
    assert "definitely-wrong" not in catalog_path.read_bytes().decode("latin-1")


def test_missing_bucket_is_a_clear_error(cli, s3_env, mv_workspace):
    rels = mv_workspace.job("v1")
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    cli("remote", "add", "gone", "--bucket", "no-such-bucket-anywhere", "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("upload", "mv", "--remote", "gone", "--delete-after-upload", "--yes")
    assert code == 2
    assert out["error"].startswith(
        f"Upload preview failed: the bucket 'no-such-bucket-anywhere' at {s3_env.endpoint_url} does not exist")
    assert all(mv_workspace.path(r).exists() for r in rels)


def test_settle_time_keeps_files_still_being_written(cli, s3_env, bucket, mv_workspace):
    mv_workspace.job("v1", image=False)
    fresh = mv_workspace.add("backend/mv/outputs/videos/rendering.mp4", age=0)
    setup_cli(cli, s3_env, bucket, mv_workspace)
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0
    assert fresh.exists()
    kept = [k for k in out["kept"] if k["target"] == str(fresh)]
    assert kept and kept[0]["reason"] == "still being written"
    assert "gen/mv/outputs/videos/rendering.mp4" not in stored(s3_env, bucket)


def test_changed_after_hashing_is_uploaded_but_kept(catalog, s3_env, bucket, mv_workspace):
    rel = mv_workspace.job("v1", image=False)[0]
    path = mv_workspace.path(rel)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace, concurrency=1)
    remote = add_remote(catalog, "r2", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    client = make_client(remote)

    def append(**kwargs):
        if kwargs["context"].get("mediaclean_key", "").endswith("video.mp4"):
            with open(path, "ab") as fh:
                fh.write(b"more frames")

    client.meta.events.register("after-call.s3.PutObject", append)
    plan_id = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert path.exists() and path.read_bytes().endswith(b"more frames")
    skipped = {s["key"]: s["reason"] for s in result.skipped}
    assert skipped["gen/mv/jobs/v1/video.mp4"].startswith("changed since it was hashed")
    # the next preview sees the new version: kept back while it settles, then planned again
    again = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    kept = catalog.conn.execute("SELECT reason FROM plan_kept WHERE plan_id = ?", (again,)).fetchall()
    assert [k[0] for k in kept] == ["still being written"]
    catalog.set_pref("settle_seconds", 0)
    again = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    targets = [r[0] for r in catalog.conn.execute("SELECT target FROM plan_items WHERE plan_id = ?", (again,))]
    assert [os.fsdecode(t) for t in targets] == [str(path)]


def test_trash_and_remove_empty_folders(cli, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1") + ["backend/mv/outputs/videos/s1/deep/scene.mp4"]
    mv_workspace.add(rels[-1])
    mv_workspace.add("backend/mv/outputs/audio/keep-me.txt.partial", age=0)  # a fresh file: folder stays
    setup_cli(cli, s3_env, bucket, mv_workspace)
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes", "--trash",
                    "--remove-empty-folders")
    assert code == 0, out
    assert out["mode"] == "trash"
    assert not any(mv_workspace.path(r).exists() for r in rels)
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash", "files")
    assert {"video.mp4", "metadata.json", "reference_image.jpg", "scene.mp4"} <= set(os.listdir(trash))
    outputs = mv_workspace.path("backend/mv/outputs")
    assert not (outputs / "jobs" / "v1").exists()
    assert not (outputs / "videos" / "s1").exists()
    # never the output folders themselves
    assert (outputs / "jobs").is_dir() and (outputs / "videos").is_dir() and (outputs / "audio").is_dir()
    assert sorted(os.path.relpath(f, outputs) for f in out["folders_removed"]) == \
        ["jobs/v1", "videos/s1", "videos/s1/deep"]


def test_a_claimed_artifact_is_not_uploaded_by_a_second_worker(catalog, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1", image=False)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    # another live process (our parent) holds the claim on the video
    video = str(mv_workspace.path(rels[0]))
    catalog.conn.execute(
        "INSERT INTO uploads(remote_id, path, key, size, mtime_ns, status, claimed_by, created_at, updated_at) "
        "VALUES (1, ?, 'gen/mv/jobs/v1/video.mp4', 1, 1, 'uploading', ?, 'x', 'x')",
        (os.fsencode(video), f"{os.getppid()}:1:1"),
    )
    result = execute_upload_plan(catalog, plan_id)
    assert {s["target"]: s["reason"] for s in result.skipped} == {video: "being uploaded by another worker right now"}
    assert os.path.exists(video)
    assert "gen/mv/jobs/v1/video.mp4" not in stored(s3_env, bucket)
    assert not mv_workspace.path(rels[1]).exists()


def test_leftover_multipart_uploads_are_aborted(catalog, s3_env, bucket, mv_workspace):
    rel = mv_workspace.job("v1", big=True, image=False)[0]
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    raw = s3_env.client()
    recorded = raw.create_multipart_upload(Bucket=bucket, Key="gen/mv/jobs/v1/video.mp4")["UploadId"]
    unrecorded = raw.create_multipart_upload(Bucket=bucket, Key="gen/mv/jobs/v1/video.mp4")["UploadId"]
    foreign = raw.create_multipart_upload(Bucket=bucket, Key="gen/somebody-else.bin")["UploadId"]
    catalog.conn.execute(
        "INSERT INTO uploads(remote_id, path, key, size, mtime_ns, status, claimed_by, multipart_upload_id, "
        "created_at, updated_at) VALUES (1, ?, 'gen/mv/jobs/v1/video.mp4', 1, 1, 'uploading', '999999999:1:1', ?, "
        "'x', 'x')",
        (os.fsencode(str(mv_workspace.path(rel))), recorded),
    )
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete", result.as_json()
    left = {u["UploadId"] for u in raw.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
    assert recorded not in left and unrecorded not in left
    assert foreign in left  # not ours: left alone
    raw.abort_multipart_upload(Bucket=bucket, Key="gen/somebody-else.bin", UploadId=foreign)


def test_cancel_aborts_the_multipart_upload(catalog, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1", big=True, image=False)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace, concurrency=1)
    remote = add_remote(catalog, "r2", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    client = make_client(remote)
    token = CancelToken()
    client.meta.events.register("before-parameter-build.s3.UploadPart", lambda **kw: token.cancel())
    plan_id = plan_upload(catalog, pid, "r2", delete_after_upload=True)
    progress = Progress()
    result = execute_upload_plan(catalog, plan_id, client=client, cancel=token, progress=progress)
    assert result.status == "cancelled"
    assert all(mv_workspace.path(r).exists() for r in rels)
    assert s3_env.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert "gen/mv/jobs/v1/video.mp4" not in stored(s3_env, bucket)
    statuses = {r[0] for r in catalog.conn.execute("SELECT status FROM uploads")}
    assert statuses <= {"queued"}
    row = catalog.conn.execute("SELECT status FROM runs WHERE id = ?", (result.run_id,)).fetchone()
    assert row[0] == "cancelled"


def test_progress_counts_bytes_and_files(catalog, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", big=True)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    seen = []
    progress = Progress(callback=lambda p: seen.append((p.done, p.bytes_done)))
    result = execute_upload_plan(catalog, plan_id, progress=progress)
    total = sum(os.path.getsize(mv_workspace.big) if "v2/video" in r else 0 for r in rels)
    assert progress.total == len(rels) and progress.done == len(rels)
    assert progress.bytes_done == progress.bytes_total == result.details["bytes_uploaded"]
    assert progress.bytes_total > total
    assert len({b for _, b in seen}) > 3  # bytes arrive in steps, not at the end only


def test_versioned_bucket_records_the_version_id(catalog, s3_env, bucket, mv_workspace):
    from mediaclean_gui.core.s3.remote import versioning_status

    s3_env.client().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert versioning_status(s3_env.client(), bucket) == "Enabled"
    rels = mv_workspace.job("v1", image=False)
    pid = setup_core(catalog, s3_env, bucket, mv_workspace)
    result = execute_upload_plan(catalog, plan_upload(catalog, pid, "store", delete_after_upload=True))
    assert result.status == "complete"
    rows = {r["key"]: r for r in catalog.conn.execute("SELECT key, version_id, etag, status FROM uploads")}
    for rel in rels:
        row = rows[f"gen/mv/jobs/v1/{rel.rsplit('/', 1)[1]}"]
        assert row["version_id"] and row["status"] == "deleted_local"
        head = s3_env.client().head_object(Bucket=bucket, Key=row["key"], VersionId=row["version_id"])
        assert head["ETag"].strip('"') == row["etag"]


def test_final_outputs_are_uploaded_but_never_deleted(catalog, s3_env, bucket, workspace):
    """ai-video-generator: the final render and its thumbnail have key templates; they are protected roles."""
    from mediaclean_gui.core.importdb import import_generator_db
    from mediaclean_gui.core.projects import list_projects

    workspace.add_project("p1", scenes=1)
    import_generator_db(catalog, workspace.write_db(), workspace.root)
    projects = {p.external_id: p for p in list_projects(catalog)}
    catalog.set_pref("settle_seconds", 0)  # the helper writes the thumbnail just now
    add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    plan_id = plan_upload(catalog, projects["p1"].id, "store", delete_after_upload=True)
    actions = {os.fsdecode(r[0]): r[1] for r in catalog.conn.execute(
        "SELECT target, action FROM plan_items WHERE plan_id = ?", (plan_id,))}
    final, thumb = (str(workspace.path(p)) for p in workspace.projects["p1"]["final"])
    assert actions == {final: "upload", thumb: "upload"}
    result = execute_upload_plan(catalog, plan_id)
    assert result.status == "complete" and result.details["deleted_local"] == []
    assert {u["key"] for u in result.details["uploaded"]} == {"gen/videos/p1/final.mp4",
                                                             "gen/videos/p1/final-thumb.jpg"}
    assert os.path.exists(final) and os.path.exists(thumb)
    objects = stored(s3_env, bucket)
    assert sha(objects["gen/videos/p1/final.mp4"]) == sha(Path(final).read_bytes())
