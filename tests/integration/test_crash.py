"""Invariant 6: SIGKILL a ``mediaclean clean --yes`` in the middle of a run; the next start reconciles."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FILES = 3000

# The real command line, with each unlink slowed down a little so the run lasts long enough to be
# killed in the middle (a fault-injection wrapper around the real call, nothing else changes).
SLOW_CLI = """
import os, sys, time
_unlink = os.unlink
def unlink(*args, **kwargs):
    time.sleep(0.002)
    return _unlink(*args, **kwargs)
os.unlink = unlink
from mediaclean_gui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def mediaclean(catalog: Path, *args: str, slow: bool = False) -> list[str]:
    code = SLOW_CLI if slow else "import sys; from mediaclean_gui.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "--catalog", str(catalog), *args]


def run_json(catalog: Path, *args: str) -> tuple[int, dict]:
    done = subprocess.run(mediaclean(catalog, "--json", *args), capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (done.stdout, done.stderr)
    return done.returncode, json.loads(lines[0])


@pytest.mark.slow
def test_sigkill_mid_run_then_the_next_start_reconciles(workspace, tmp_path):
    workspace.add_project("p1", "Ocean", scenes=3, assembly=0)
    assembly = workspace.path(".cache/assembly/p1")
    assembly.mkdir(parents=True)
    for n in range(FILES):
        shutil.copyfile(workspace.media.image, assembly / f"frame-{n:05d}.jpg")
    final = workspace.path(".cache/output/p1/final.mp4")
    thumb = workspace.path(".cache/output/p1/final-thumb.jpg")
    protected = {final: final.read_bytes(), thumb: thumb.read_bytes()}
    catalog = tmp_path / "catalog.sqlite3"
    env = dict(os.environ)
    code, out = run_json(catalog, "project", "import-db", str(workspace.write_db()), "--workspace",
                         str(workspace.root))
    assert code == 0 and out["imported"] == 1

    proc = subprocess.Popen(mediaclean(catalog, "clean", "p1", "--yes", slow=True), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until a good part, but not all, of the run is done
            left = len(os.listdir(assembly))
            if left <= FILES - 700:
                break
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = len(os.listdir(assembly))
    assert 0 < left < FILES, "killed too late to test anything"

    # the killed run is still 'running' in the catalog, and some deletions were never journaled
    import sqlite3

    raw = sqlite3.connect(catalog)
    try:
        assert raw.execute("SELECT status FROM runs").fetchall() == [("running",)]
        pending = [os.fsdecode(t) for (t,) in raw.execute(
            "SELECT pi.target FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
            "WHERE ri.outcome = 'pending'")]
    finally:
        raw.close()
    assert any(not os.path.lexists(t) for t in pending), "every deletion was journaled: nothing to reconcile"

    # the next start of any command reconciles
    code, history = run_json(catalog, "history")
    assert code == 0
    run = history["runs"][0]
    assert run["status"] == "interrupted"
    assert run["summary"].startswith("Interrupted; reconciled: ")

    raw = sqlite3.connect(catalog)
    try:
        rows = raw.execute(
            "SELECT pi.target, pi.action, pi.size, ri.outcome, ri.detail, ri.freed_bytes FROM run_items ri "
            "JOIN plan_items pi ON pi.id = ri.plan_item_id WHERE ri.run_id = ?", (run["id"],)).fetchall()
        status = raw.execute("SELECT cleanup_status FROM projects").fetchone()[0]
    finally:
        raw.close()
    assert rows and {r[3] for r in rows} <= {"deleted", "skipped"}
    for target, action, size, outcome, detail, freed in rows:
        path = os.fsdecode(target)
        if outcome == "deleted":
            assert not os.path.lexists(path), f"recorded deleted but present: {path}"
            assert freed == (0 if action == "delete_dir" else size)
        else:
            assert os.path.lexists(path), f"recorded not done but gone: {path}"
            assert detail == "not done: the run was interrupted"
    deleted_files = [r for r in rows if r[3] == "deleted" and r[1] == "delete_file"]
    assert run["deleted_count"] == len(deleted_files)
    assert run["freed_bytes"] == sum(r[2] for r in deleted_files)
    assert status == "failed"  # part of the cleanup was not done
    for path, content in protected.items():
        assert path.read_bytes() == content

    # a new cleanup finishes the job, and the final render is still there
    code, out = run_json(catalog, "clean", "p1", "--yes")
    assert code == 0 and out["cleanup_status"] == "complete"
    assert not assembly.exists()
    for path, content in protected.items():
        assert path.read_bytes() == content
