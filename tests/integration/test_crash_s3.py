"""Invariant 6 for S3 runs: SIGKILL a ``mediaclean upload --delete-after-upload --yes`` and a ``mediaclean sweep
--yes`` at a random moment (seeded: ``MEDIACLEAN_CRASH_SEED``; the seed is in every assertion message), on the real
SeaweedFS. After the restart every run is reconciled (interrupted, no item pending), the catalog matches the disk
and the bucket (every item recorded deleted is gone, every item recorded not done is still there), nothing
protected is gone, and a new run finishes the job."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SLOW_FS_PRELUDE
from sweep_data import fast_client, iso, listing, next_second, put_many

pytestmark = [pytest.mark.s3, pytest.mark.slow,
              pytest.mark.seaweedfs_only("the kill and restart are checked against the store that keeps its data")]

# The real command line with a fault-injection wrapper around real calls, so a run lasts long enough to be killed
# in the middle: each local unlink and each DeleteObjects batch is slowed a little, and sweeps go in batches of
# 20 keys (nothing else changes).
SLOW_CLI = SLOW_FS_PRELUDE + """
from mediaclean_gui.core.s3 import sweep, sweep_run
_batch, _execute = sweep_run._delete_batch, sweep_run.execute_sweep_plan
def slow_batch(*args, **kwargs):
    time.sleep(0.2)  # 60 batches, 4 in flight: ~3 s, so the kill lands mid-run even while the test's listing lags
    return _batch(*args, **kwargs)
def small_batches(*args, **kwargs):
    kwargs["batch_size"] = 20
    return _execute(*args, **kwargs)
sweep_run._delete_batch = slow_batch
sweep.execute_sweep_plan = small_batches
from mediaclean_gui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def command(catalog: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", SLOW_CLI, "--catalog", str(catalog), "--json", *args]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def crash_seed() -> int:
    return int(os.environ.get("MEDIACLEAN_CRASH_SEED", time.time_ns() % 10**6))


def kill_when(proc: subprocess.Popen, done, where: str, jitter: float) -> None:
    """Wait until ``done()`` says enough of the run happened, then a seeded extra moment, then SIGKILL."""
    deadline = time.monotonic() + 120
    while not done():
        assert proc.poll() is None, f"the run ended before it could be interrupted {where}"
        assert time.monotonic() < deadline, f"the run did not get far enough {where}"
        time.sleep(0.005)
    time.sleep(jitter)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, where


def rows(catalog: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def restart(cli, where: str) -> dict:
    """The next start of any command reconciles every run a dead process left running."""
    code, history = cli("history")
    assert code == 0, where
    run = history["runs"][0]
    assert run["status"] == "interrupted", (run, where)
    assert run["summary"].startswith("Interrupted; reconciled: "), where
    return run


def test_sigkill_during_an_upload_that_deletes_local_copies(cli, catalog_path, s3_env, bucket, mv_workspace,
                                                            workspace, tmp_path):
    seed = crash_seed()
    rng = random.Random(seed)
    files = 400
    rels = [f"backend/mv/outputs/audio/batch-{n // 50}/take-{n:04d}.jpg" for n in range(files)]
    for rel in rels:
        mv_workspace.add(rel, "jpg")
    rels += mv_workspace.job("big", big=True, image=False)
    # a final render of another project, hard-linked into the outputs: uploaded, never deleted locally
    workspace.add_project("p1", "Ocean", scenes=1)
    final = workspace.path(".cache/output/p1/final.mp4")
    final_bytes = final.read_bytes()
    linked = mv_workspace.path("backend/mv/outputs/videos/render/final-copy.mp4")
    linked.parent.mkdir(parents=True)
    os.link(final, linked)
    kill_after = rng.randint(20, files // 2)
    where = f"(seed {seed}: killed after {kill_after} of {len(rels)} local files were gone)"

    assert cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)[0] == 0
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--prefix", "gen")[0] == 0
    assert cli("prefs", "upload_concurrency", 2)[0] == 0
    assert cli("prefs", "multipart_threshold_mb", 5)[0] == 0
    paths = [str(mv_workspace.path(r)) for r in rels]

    def gone() -> int:
        return sum(not os.path.exists(p) for p in paths)

    err = open(tmp_path / "killed.err", "wb")
    proc = subprocess.Popen(command(catalog_path, "upload", "mv", "--remote", "store", "--delete-after-upload",
                                    "--yes"), stdout=subprocess.DEVNULL, stderr=err)
    try:
        kill_when(proc, lambda: gone() >= kill_after, where, rng.uniform(0, 0.05))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    assert rows(catalog_path, "SELECT status FROM runs") == [("running",)], where
    assert 0 < gone() < len(rels), f"killed too late to test anything {where}"

    run = restart(cli, where)
    items = rows(catalog_path, "SELECT pi.target, ri.outcome, ri.detail, ri.freed_bytes, pi.size FROM run_items ri "
                               "JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ?", (run["id"],))
    uploads = {os.fsdecode(p): (s, k) for p, s, k in rows(catalog_path, "SELECT path, status, key FROM uploads")}
    only = {os.fsdecode(p) for (p,) in rows(catalog_path, "SELECT path FROM only_copies")}
    client = s3_env.client()
    assert items and not [i for i in items if i[1] == "pending"], where
    for target, outcome, detail, freed, size in items:
        path = os.fsdecode(target)
        status, key = uploads[path]
        if outcome == "deleted":  # gone, and the store holds exactly its bytes: the only copy, known as such
            assert not os.path.lexists(path), f"recorded deleted but present: {path} {where}"
            assert freed == size, where
            rel = os.path.relpath(path, mv_workspace.root)
            assert sha(client.get_object(Bucket=bucket, Key=key)["Body"].read()) == mv_workspace.digests[rel], where
            assert status == "deleted_local" and path in only, (path, status, where)
        else:  # still here, and not taken for an only copy
            assert outcome == "skipped", (path, outcome, detail, where)
            assert os.path.exists(path), f"recorded {outcome} ({detail}) but gone: {path} {where}"
            assert path not in only, f"an only copy recorded for a file still here: {path} {where}"
    assert run["deleted_count"] == sum(1 for i in items if i[1] == "deleted"), where
    assert run["freed_bytes"] == sum(i[3] for i in items), where
    assert linked.exists() and final.read_bytes() == final_bytes, where  # nothing protected is gone

    # a new run finishes the job: every output but the protected one is gone, every byte in the store
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0 and out["status"] == "complete", (out, where)
    for rel in rels:
        assert not mv_workspace.path(rel).exists(), (rel, where)
        key = uploads[str(mv_workspace.path(rel))][1]
        assert sha(client.get_object(Bucket=bucket, Key=key)["Body"].read()) == mv_workspace.digests[rel], where
    assert linked.exists() and final.read_bytes() == final_bytes, where
    assert [s for s in out["skipped"] if s["target"] == str(linked)][0]["reason"].startswith("protected: "), where
    assert [r[0] for r in rows(catalog_path, "SELECT status FROM runs ORDER BY id")] == ["interrupted", "complete"]
    assert rows(catalog_path, "SELECT count(*) FROM run_items WHERE outcome = 'pending'") == [(0,)], where
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == [], where


def test_sigkill_during_a_sweep(cli, catalog_path, s3_env, bucket, mv_workspace, tmp_path):
    seed = crash_seed()
    rng = random.Random(seed)
    clips = 1200
    client = fast_client(s3_env)
    # only copies: outputs uploaded and deleted locally, in the same bucket the sweep goes through
    mv_workspace.job("v1")
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "up", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url, "--prefix",
               "gen", "--layout", "mv-backend")[0] == 0
    code, out = cli("upload", "mv", "--remote", "up", "--delete-after-upload", "--yes")
    assert code == 0 and len(out["deleted_local"]) == 3, out
    only_copies = {u["key"] for u in out["uploaded"]}
    put_many(client, bucket, [(f"clips/c{i:05d}.mp4", f"clip {i}".encode()) for i in range(clips)])
    put_many(client, bucket, [(f"clips/keep-{i}.mp4", b"the user's") for i in range(3)])
    boundary = next_second()
    as_of = iso(boundary + dt.timedelta(days=30))
    assert cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)[0] == 0
    protected = only_copies | {f"clips/keep-{i}.mp4" for i in range(3)}
    before = listing(client, bucket)
    assert protected <= set(before)

    kill_after = rng.randint(60, clips // 2)
    where = f"(seed {seed}: killed after {kill_after} of {clips} objects were gone)"
    protect = [a for i in range(3) for a in ("--protect", f"clips/keep-{i}.mp4")]
    err = open(tmp_path / "killed.err", "wb")
    proc = subprocess.Popen(command(catalog_path, "sweep", "--remote", "r", "--as-of", as_of, "--yes",
                                    "--confirm-large", *protect), stdout=subprocess.DEVNULL, stderr=err)
    try:
        kill_when(proc, lambda: len(listing(client, bucket, "clips/")) <= clips + 3 - kill_after, where,
                  rng.uniform(0, 0.05))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()
    assert rows(catalog_path, "SELECT kind, status FROM runs ORDER BY id")[-1] == ("sweep", "running"), where
    left = listing(client, bucket)
    assert len(protected) < len(left) < clips + len(protected), f"killed too late to test anything {where}"

    run = restart(cli, where)
    items = rows(catalog_path, "SELECT pi.target, ri.outcome, ri.detail, ri.freed_bytes, pi.size FROM run_items ri "
                               "JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ?", (run["id"],))
    now = listing(client, bucket)
    assert len(items) == clips and not [i for i in items if i[1] == "pending"], where
    for target, outcome, detail, freed, size in items:
        key = os.fsdecode(target)
        if outcome == "deleted":
            assert key not in now, f"recorded deleted but still in the bucket: {key} {where}"
            assert freed == size, where
        else:
            assert (outcome, detail) == ("skipped", "not done: the run was interrupted"), (key, outcome, detail, where)
            assert key in now, f"recorded not done but gone: {key} {where}"
    assert protected <= set(now), where  # nothing protected is gone
    recorded = {os.fsdecode(i[0]) for i in items if i[1] == "deleted"}
    assert set(before) - set(now) == recorded and run["deleted_count"] == len(recorded), where

    # a new sweep finishes the job, and the protected objects stay
    code, out = cli("sweep", "--remote", "r", "--as-of", as_of, "--yes", "--confirm-large")
    assert code == 0 and out["status"] == "complete", (json.dumps(out)[:2000], where)
    assert set(listing(client, bucket)) == protected, where
