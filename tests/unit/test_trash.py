"""Trash mode round trip on real files: runs move files to the freedesktop Trash, restore brings them back."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.tempclean import plan_temp
from mediaclean_gui.core.trash import RestoreOutcome, restorable, restore_run, xdg_data_home


def home_trash() -> Path:
    return Path(xdg_data_home()) / "Trash"


def test_the_trash_is_the_isolated_one():
    assert "mediaclean-tests-home-" in xdg_data_home(), "tests must never touch the real user's trash"


def temp_tree(root: Path) -> dict[str, bytes]:
    files = {
        "concatenate_a/seg 0.mp4": b"first segment",
        "concatenate_a/parts/seg%1.mp4": b"second segment",
        "trim_b/out.mp4": b"trimmed",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    when = time.time() - 72 * 3600
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (when, when))
    return files


def trashed_run(catalog, root: Path) -> int:
    plan_id = plan_temp(catalog, root, older_than_hours=24)
    result = execute_plan(catalog, plan_id, mode="trash")
    assert result.status == "complete" and result.trashed_count == 3 and result.freed_bytes == 0
    return result.run_id


def test_round_trip(catalog, tmp_path):
    root = tmp_path / "render"
    files = temp_tree(root)
    run_id = trashed_run(catalog, root)
    assert sorted(p.name for p in root.iterdir()) == [], "the folders the run emptied are gone too"
    info = [p.read_text() for p in (home_trash() / "info").glob("*.trashinfo")]
    assert any(f"Path={quote(str(root))}/concatenate_a/parts/seg%251.mp4" in text for text in info), \
        "Path= is the URL-quoted original path"

    check = restorable(catalog, run_id)
    assert check.possible and (check.total, check.in_trash) == (3, 3)
    assert check.reason == f"3 of 3 file(s) of run {run_id} are still in the trash and can be restored."

    result = restore_run(catalog, run_id)
    assert result.count(RestoreOutcome.RESTORED) == 3
    assert result.message == f"Restored 3 file(s), 0.00 MB, of run {run_id} from the trash."
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data, rel
    row = catalog.conn.execute("SELECT restored_count, restored_bytes, summary FROM restores WHERE run_id = ?",
                               (run_id,)).fetchone()
    assert (row["restored_count"], row["restored_bytes"]) == (3, sum(len(d) for d in files.values()))

    after = restorable(catalog, run_id)
    assert not after.possible and after.reason == f"All 3 file(s) of run {run_id} are already back in their places."
    again = restore_run(catalog, run_id)
    assert not again.possible and again.items == []


def test_restore_never_overwrites(catalog, tmp_path):
    root = tmp_path / "render"
    temp_tree(root)
    run_id = trashed_run(catalog, root)
    taken = root / "trim_b" / "out.mp4"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"a new render at the same place")
    result = restore_run(catalog, run_id)
    assert result.count(RestoreOutcome.RESTORED) == 2 and result.count(RestoreOutcome.CONFLICT) == 1
    assert taken.read_bytes() == b"a new render at the same place"
    assert "1 stayed in the trash because another file is at their place now." in result.message
    check = restorable(catalog, run_id)
    assert check.possible and check.in_trash == 1, "the conflicting file is still in the trash"


def test_same_name_trashed_by_two_runs_each_gets_its_own_file_back(catalog, tmp_path):
    root = tmp_path / "render"
    target = root / "intro_x" / "frame.png"
    runs = []
    for content in (b"first version", b"second version!"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        when = time.time() - 72 * 3600
        os.utime(target, (when, when))
        os.utime(target.parent, (when, when))
        runs.append(trashed_run_single(catalog, root))
    restore_run(catalog, runs[0])
    assert target.read_bytes() == b"first version"
    assert restorable(catalog, runs[1]).possible
    result = restore_run(catalog, runs[1])
    assert result.count(RestoreOutcome.CONFLICT) == 1 and target.read_bytes() == b"first version"


def trashed_run_single(catalog, root: Path) -> int:
    result = execute_plan(catalog, plan_temp(catalog, root, older_than_hours=24), mode="trash")
    assert result.trashed_count == 1
    return result.run_id


def test_says_when_a_restore_is_not_possible(catalog, tmp_path):
    root = tmp_path / "render"
    temp_tree(root)
    permanent = execute_plan(catalog, plan_temp(catalog, root, older_than_hours=24), mode="permanent")
    check = restorable(catalog, permanent.run_id)
    assert not check.possible
    assert check.reason.startswith(f"Run {permanent.run_id} deleted its files permanently (delete mode 'permanent')")

    temp_tree(root)
    run_id = trashed_run(catalog, root)
    for info in (home_trash() / "info").glob("*.trashinfo"):  # the user empties the trash
        text = info.read_text()
        if f"Path={quote(str(root))}/" in text:
            (home_trash() / "files" / info.name[: -len(".trashinfo")]).unlink()
            info.unlink()
    check = restorable(catalog, run_id)
    assert not check.possible and "are in the trash any more (the trash was emptied" in check.reason
    assert not restore_run(catalog, run_id).possible


def test_cli_restore_of_a_project_cleanup(cli, workspace):
    workspace.add_project("p1", "Alpha")
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, run = cli("clean", "Alpha", "--yes", "--trash")
    assert code == 0 and run["mode"] == "trash" and run["trashed_count"] > 0 and run["deleted_count"] == 0
    audio = workspace.path(".cache/audio/p1/scene-1.mp3")
    assert not audio.exists()
    code, check = cli("restore", run["run_id"], "--check")
    assert code == 0 and check["restorable"] is True
    code, out = cli("restore", run["run_id"])
    assert code == 0 and out["restored_count"] == run["trashed_count"]
    assert audio.exists() and audio.stat().st_size > 0
    assert workspace.path(".cache/assembly/p1/part-0.mp4").exists(), "a removed folder is recreated"
    code, out = cli("restore", run["run_id"])
    assert code == 2 and out["restorable"] is False and "already back" in out["message"]
    code, out = cli("restore", 999)
    assert code == 2 and out["error"] == "No run 999. 'mediaclean history' lists the runs."


@pytest.mark.parametrize("kind", ["upload"])
def test_non_local_runs_are_not_restorable(catalog, kind):
    cur = catalog.conn.execute("INSERT INTO plans(kind, created_at) VALUES (?, '2026-01-01T00:00:00Z')", (kind,))
    run = catalog.conn.execute(
        "INSERT INTO runs(plan_id, kind, started_at, started_by, mode) VALUES (?, ?, '2026-01-01T00:00:00Z', 'user', "
        "'trash')", (cur.lastrowid, kind))
    check = restorable(catalog, run.lastrowid)
    assert not check.possible and "did not move local files to the trash" in check.reason
