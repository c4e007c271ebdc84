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
from helpers import SLOW_FS_PRELUDE

FILES = 3000

# The real command line, with each unlink slowed down a little so the run lasts long enough to be
# killed in the middle (a fault-injection wrapper around the real call, nothing else changes).
SLOW_CLI = SLOW_FS_PRELUDE + """
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
@pytest.mark.parametrize("mode", ["permanent", "trash"])
def test_sigkill_mid_run_then_the_next_start_reconciles(workspace, tmp_path, mode):
    """SIGKILL at a random moment (the seed is in every assertion message); in trash mode too."""
    import random

    seed = int(os.environ.get("MEDIACLEAN_CRASH_SEED", time.time_ns() % 10**6))
    kill_after = random.Random(seed).randint(150, FILES - 300)
    where = f"(seed {seed}: killed after {kill_after} of {FILES} files, {mode})"
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

    trash = ["--trash"] if mode == "trash" else []
    proc = subprocess.Popen(mediaclean(catalog, "clean", "p1", "--yes", *trash, slow=True), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until a good part, but not all, of the run is done
            left = len(os.listdir(assembly))
            if left <= FILES - kill_after:
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
    assert 0 < left < FILES, f"killed too late to test anything {where}"

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
    assert pending, f"nothing left to reconcile {where}"

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
    gone_outcome = "trashed" if mode == "trash" else "deleted"
    assert rows and {r[3] for r in rows} <= {gone_outcome, "deleted", "skipped"}, where
    for target, action, size, outcome, detail, freed in rows:
        path = os.fsdecode(target)
        if outcome in ("deleted", "trashed"):
            assert not os.path.lexists(path), f"recorded {outcome} but present: {path} {where}"
            assert freed == (0 if action == "delete_dir" or outcome == "trashed" else size), where
        else:
            assert os.path.lexists(path), f"recorded not done but gone: {path} {where}"
            assert detail == "not done: the run was interrupted", where
    gone_files = [r for r in rows if r[3] == gone_outcome and r[1] == "delete_file"]
    if mode == "trash":  # moved, not freed (invariant 16)
        assert run["trashed_count"] == len(gone_files) and run["freed_bytes"] == 0, where
        assert run["trashed_bytes"] == sum(r[2] for r in gone_files), where
    else:
        assert run["deleted_count"] == len(gone_files), where
        assert run["freed_bytes"] == sum(r[2] for r in gone_files), where
    assert status == "failed"  # part of the cleanup was not done
    for path, content in protected.items():
        assert path.read_bytes() == content

    # a new cleanup finishes the job, and the final render is still there
    code, out = run_json(catalog, "clean", "p1", "--yes")
    assert code == 0 and out["cleanup_status"] == "complete"
    assert not assembly.exists()
    for path, content in protected.items():
        assert path.read_bytes() == content
