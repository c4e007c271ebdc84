"""F3 under faults, against the real SeaweedFS: server stopped mid-run, injected errors, SIGKILL and restart."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing

import pytest

from mediaclean_gui.core.events import Progress
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3.remote import add_remote, make_client
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def many_files(ws, count: int, kind: str = "mp3") -> list[str]:
    rels = []
    for n in range(count):
        rel = f"backend/mv/outputs/audio/batch-{n // 50}/take-{n:04d}.{kind}"
        ws.add(rel, kind)
        rels.append(rel)
    return rels


def key_of(rel: str) -> str:
    parts = rel.split("/")
    if parts[3] == "jobs":
        return "gen/mv/jobs/" + "/".join(parts[4:])
    return "gen/mv/outputs/" + "/".join(parts[3:])


def check_consistent(db_path, ws, rels, s3, bucket) -> tuple[int, int]:
    """Every local file that is gone was proved on the store; every one still here is queued or done.

    Returns ``(gone, present)``.
    """
    db = sqlite3.connect(db_path)
    rows = {os.fsdecode(p): (status, key) for p, status, key in db.execute("SELECT path, status, key FROM uploads")}
    db.close()
    client = s3.client()
    gone = present = 0
    for rel in rels:
        path = str(ws.path(rel))
        if os.path.exists(path):
            present += 1
            assert rows.get(path, ("queued",))[0] in ("queued", "failed", "uploading", "verified"), rel
        else:
            gone += 1
            status, key = rows[path]
            assert status in ("verified", "deleted_local"), (rel, status)  # never deleted without proof
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert sha(body) == ws.digests[rel], rel
    return gone, present


@pytest.mark.seaweedfs_only("moto keeps its objects in memory: a stopped server loses them")
def test_server_stopped_in_the_middle_of_a_run(catalog, catalog_path, s3_env, bucket, mv_workspace):
    rels = many_files(mv_workspace, 30) + mv_workspace.job("v1", big=True)
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    catalog.set_pref("multipart_threshold_mb", 5)
    catalog.set_pref("upload_concurrency", 2)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    started: list[str] = []

    def stop_after_some(progress: Progress) -> None:
        # ``current`` names each file just before its PUT; the callback runs under the progress lock, which every
        # upload thread takes before its next PUT and after each one, so the store stops when the 9th small file
        # is about to go, with at least 7 of them stored, however fast the uploads run ahead of the deletions
        if "/audio/" in progress.current and progress.current not in started:
            started.append(progress.current)
            if len(started) == 9:
                s3_env.stop()

    # unsigned payloads, as the executor's own client: botocore then leaves the body alone while signing
    client = make_client(remote, max_attempts=2, connect_timeout=2, read_timeout=10, sign_payload=False)
    result = execute_upload_plan(catalog, plan_id, client=client, progress=Progress(callback=stop_after_some))
    assert len(started) >= 9
    assert result.status == "failed"
    assert result.details["stopped"].startswith("Upload failed: cannot reach the store at")
    not_tried = [s for s in result.skipped if s["reason"].startswith("not tried: Upload failed: cannot reach the store")]
    assert not_tried  # once the store is unreachable the rest are not tried, they stay queued
    s3_env.start()
    gone, present = check_consistent(catalog_path, mv_workspace, rels, s3_env, bucket)
    assert gone >= 6 and present >= 1
    statuses = {r[0] for r in catalog.conn.execute("SELECT status FROM uploads WHERE status != 'deleted_local'")}
    assert statuses <= {"queued", "failed"}  # queued for retry, nothing left claimed
    # a later run completes them
    again = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, again)
    assert result.status == "complete", result.as_json()
    gone, present = check_consistent(catalog_path, mv_workspace, rels, s3_env, bucket)
    assert (gone, present) == (len(rels), 0)
    assert s3_env.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def _error_response(request, status: int, code: str):
    from botocore.awsrequest import AWSResponse

    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>injected by the test</Message></Error>").encode()

    class Raw:
        def stream(self, **_):
            yield body

    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, Raw())


def test_injected_faults_are_retried_without_loss(catalog, catalog_path, s3_env, bucket, mv_workspace):
    """500s, SlowDown and connection resets on the first writes: retried by botocore, every file proved."""
    from botocore.exceptions import ConnectionClosedError

    rels = many_files(mv_workspace, 12) + mv_workspace.job("v1", big=True)
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    catalog.set_pref("multipart_threshold_mb", 5)
    catalog.set_pref("upload_concurrency", 3)
    client = make_client(remote, max_attempts=6)
    injected: list[str] = []
    lock = threading.Lock()
    faults = ["500", "SlowDown", "reset"] * 4

    def fault(request, event_name, **kwargs):
        op = event_name.rsplit(".", 1)[-1]
        if op not in ("PutObject", "UploadPart", "CompleteMultipartUpload"):
            return None
        if b"attempt=1;" not in request.headers.get("amz-sdk-request", b"attempt=1;") + b";":
            return None  # one fault per request: its retry goes through
        with lock:
            if len(injected) >= len(faults):
                return None
            kind = faults[len(injected)]
            injected.append(f"{op}:{kind}")
        if kind == "500":
            return _error_response(request, 500, "InternalError")
        if kind == "SlowDown":
            return _error_response(request, 503, "SlowDown")
        raise ConnectionClosedError(endpoint_url=request.url)

    client.meta.events.register("before-send.s3", fault)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert len(injected) == 12
    assert result.status == "complete", result.as_json()
    assert result.failed == []
    gone, present = check_consistent(catalog_path, mv_workspace, rels, s3_env, bucket)
    assert (gone, present) == (len(rels), 0)
    assert result.details["requests"] >= len(rels) + 12


def test_persistent_failure_backs_off_and_keeps_the_file(catalog, catalog_path, s3_env, bucket, mv_workspace):
    rels = mv_workspace.job("v1", image=False)
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    client = make_client(remote, max_attempts=2)
    client.meta.events.register(
        "before-send.s3.PutObject", lambda request, **kw: None if ".mediaclean-probe" in request.url
        else _error_response(request, 500, "InternalError"))
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert result.status == "failed" and len(result.failed) == 2
    assert result.failed[0]["error"] == ("Upload failed: the store is busy or failing (InternalError: injected by the "
                                         "test); it will be retried later. The local file is kept.")
    assert all(mv_workspace.path(r).exists() for r in rels)
    first = {r["key"]: (r["attempts"], r["next_attempt_at"]) for r in catalog.conn.execute("SELECT * FROM uploads")}
    # a scheduled run respects the back-off; a user's run retries now, and the delay doubles
    held = plan_upload(catalog, pid, "store", delete_after_upload=True, respect_backoff=True)
    reasons = [r[0] for r in catalog.conn.execute("SELECT detail FROM plan_kept WHERE plan_id = ?", (held,))]
    assert len(reasons) == 2 and all(r.startswith("failed after 1 attempt(s)") for r in reasons)
    again = plan_upload(catalog, pid, "store", delete_after_upload=True)
    execute_upload_plan(catalog, again, client=client)
    second = {r["key"]: (r["attempts"], r["next_attempt_at"]) for r in catalog.conn.execute("SELECT * FROM uploads")}
    for key, (attempts, _next) in second.items():
        assert attempts == first[key][0] + 1 == 2
    # then the store recovers
    final = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, final)
    assert result.status == "complete"
    assert not any(mv_workspace.path(r).exists() for r in rels)


def test_restart_after_sigkill_during_uploads(cli, catalog_path, s3_env, bucket, mv_workspace, tmp_path):
    rels = many_files(mv_workspace, 400, "jpg") + mv_workspace.job("big", big=True, image=False)
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--prefix", "gen")[0] == 0
    assert cli("prefs", "upload_concurrency", 1)[0] == 0
    assert cli("prefs", "multipart_threshold_mb", 5)[0] == 0
    err = open(tmp_path / "killed.err", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from mediaclean_gui.cli import main; sys.exit(main())", "--catalog", str(catalog_path), "--json", "upload", "mv",
         "--remote", "store", "--delete-after-upload", "--yes"],
        stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ),
    )
    deadline = time.monotonic() + 60
    deleted = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            db = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True, timeout=1)
            deleted = db.execute("SELECT count(*) FROM uploads WHERE status = 'deleted_local'").fetchone()[0]
            db.close()
        except sqlite3.OperationalError:
            deleted = 0
        if deleted >= 20:
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        err.close()
    assert proc.poll() is None, \
        f"the upload finished before it could be killed: {(tmp_path / 'killed.err').read_text()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    err.close()
    gone, present = check_consistent(catalog_path, mv_workspace, rels, s3_env, bucket)
    assert gone >= 20 and present >= 1
    # restart: the interrupted run is reconciled, the queue is picked up, nothing is lost
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0, out
    gone, present = check_consistent(catalog_path, mv_workspace, rels, s3_env, bucket)
    assert (gone, present) == (len(rels), 0)
    with closing(sqlite3.connect(catalog_path)) as db:
        runs = db.execute("SELECT status FROM runs ORDER BY id").fetchall()
        assert [r[0] for r in runs] == ["interrupted", "complete"]
        assert db.execute("SELECT count(*) FROM uploads WHERE status != 'deleted_local'").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM run_items WHERE outcome = 'pending'").fetchone()[0] == 0
    assert s3_env.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
