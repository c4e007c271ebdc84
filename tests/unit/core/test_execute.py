"""The executor: outcomes, freed bytes, trash mode, journal, cancel, limits, statuses, the summary line."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from mediaclean_gui.core.catalog import parse_iso
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import SafetyRefusal
from mediaclean_gui.core.events import CancelToken, Progress
from mediaclean_gui.core.execute import MB, execute_plan
from mediaclean_gui.core.history import list_runs, run_items
from mediaclean_gui.core.plan import Action, load_plan, set_selected
from mediaclean_gui.core.projects import get_project


def outcomes(catalog, run_id) -> dict[str, tuple[str, str]]:
    """``{target: (outcome, detail)}`` of a run, from the catalog."""
    return {i["target"]: (i["outcome"], i["detail"]) for i in run_items(catalog, run_id)}


def test_every_outcome_is_recorded(workspace, catalog, imported, undeletable, fs_records):
    workspace.add_project("p1", scenes=3, caches=[("pexels", "own")])
    locked = workspace.media.copy("mp4", workspace.path(".cache/assembly/p1/locked/part.mp4"))
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    sizes = {i.target: i.size for i in plan.items}

    gone = workspace.path(".cache/audio/p1/scene-1.mp3")
    gone.unlink()  # someone else removed it
    changed = workspace.path(".cache/audio/p1/scene-2.mp3")
    changed.write_bytes(b"re-rendered" * 10)  # rewritten after the preview: other size and mtime
    excluded = workspace.path(".cache/videos/p1/scene-1-seg.mp4")
    set_selected(catalog, plan.id, [i.id for i in plan.items if i.target == str(excluded)], False)
    undeletable(locked.parent)

    result = execute_plan(catalog, plan.id)

    got = outcomes(catalog, result.run_id)
    assert got[str(gone)] == ("already_gone", "already gone")
    assert got[str(changed)] == ("skipped", "changed since preview")
    assert got[str(excluded)] == ("skipped", "kept by you")
    assert got[str(locked)][0] == "failed"
    assert got[str(locked)][1] in ("Operation not permitted", "Permission denied", "Read-only file system")
    # the read-only folder itself cannot go either (chattr +i: failed; chmod 0o555: not empty)
    assert got[str(locked.parent)][0] in ("failed", "skipped")
    assert got[str(locked.parent.parent)] == ("skipped", "folder not empty: it holds files that were not in the plan")
    deleted = sorted(t for t, (o, _) in got.items() if o == "deleted")
    assert [os.path.relpath(t, workspace.root) for t in deleted] == [
        ".cache/assembly/p1/part-0.mp4", ".cache/assembly/p1/part-1.mp4", ".cache/audio/p1/scene-3.mp3",
        ".cache/videos/p1/scene-2-seg.mp4", ".cache/videos/p1/scene-3-seg.mp4", "assets/cache/pexels/own.mp4",
    ]
    for target in deleted:
        assert not os.path.lexists(target)
    # the rest survive on disk
    for path in (changed, excluded, locked):
        assert path.exists()
    # freed space counts only what was really removed (invariant 7)
    assert result.deleted_count == 6
    assert result.freed_bytes == sum(sizes[t] for t in deleted)
    assert result.already_gone == 1
    assert {"target": str(locked), "error": got[str(locked)][1]} in result.failed
    assert {f["target"] for f in result.failed} <= {str(locked), str(locked.parent)}
    assert result.status == "failed"
    assert get_project(catalog, projects["p1"].id).cleanup_status == "failed"
    run = list_runs(catalog)[0]
    assert (run["status"], run["deleted_count"], run["freed_bytes"], run["failed_count"]) == \
        ("failed", 6, result.freed_bytes, len(result.failed))
    assert run["summary"] == f"Cleanup: Deleted 6 files, freed {result.freed_bytes / MB:.2f} MB"
    failures = {r.fields["file_path"]: r.fields for r in fs_records
                if getattr(r, "event", "") == "failed_to_delete_local_file"}
    assert failures[str(locked)] == {"file_path": str(locked), "size": sizes[str(locked)],
                                     "error": got[str(locked)][1]}
    deleted_events = {r.fields["file_path"] for r in fs_records if getattr(r, "event", "") == "local_file_deleted"}
    assert deleted_events == set(deleted)


def test_summary_line_in_the_fs_log(workspace, catalog, imported, fs_records):
    workspace.add_project("p1")
    projects = imported()
    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    lines = [r.getMessage() for r in fs_records if r.getMessage().startswith("Cleanup:")]
    assert lines == [f"Cleanup: Deleted 7 files, freed {result.freed_bytes / 1e6:.2f} MB"]
    assert lines[0] == result.summary_line()
    assert lines[0].endswith(" MB") and len(lines[0].split("freed ")[1].split(" ")[0].split(".")[1]) == 2


def test_summary_line_per_project(workspace, catalog, imported, fs_records):
    workspace.add_project("p1", scenes=1)
    workspace.add_project("p2", scenes=3)
    projects = imported()
    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id, projects["p2"].id]))
    lines = sorted(r.getMessage() for r in fs_records if r.getMessage().startswith("Cleanup:"))
    assert len(lines) == 2
    assert sorted(int(line.split()[2]) for line in lines) == [5, 9]
    assert result.deleted_count == 14


def test_status_running_then_complete_and_journal_first(workspace, catalog, imported):
    """Invariant 6: the run and all its items are in the catalog (committed) before the first deletion."""
    workspace.add_project("p1")
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    seen = []

    def watch(progress: Progress) -> None:
        if progress.done == 0 and progress.phase == "deleting":
            other = sqlite3.connect(catalog.path)  # another connection: sees only committed rows
            try:
                run = other.execute("SELECT status FROM runs").fetchall()
                items = other.execute("SELECT outcome, count(*) FROM run_items GROUP BY outcome").fetchall()
                status = other.execute("SELECT cleanup_status FROM projects WHERE id = ?",
                                       (projects["p1"].id,)).fetchone()[0]
            finally:
                other.close()
            on_disk = all(os.path.lexists(i.target) for i in plan.items)
            seen.append((run, items, status, on_disk))

    result = execute_plan(catalog, plan.id, progress=Progress(callback=watch))
    assert seen == [([("running",)], [("pending", len(plan.items))], "running", True)]
    project = get_project(catalog, projects["p1"].id)
    assert project.cleanup_status == "complete" and result.project_status == {project.id: "complete"}
    assert project.cleanup_completed_at is not None
    assert abs(parse_iso(project.cleanup_completed_at).timestamp() - os.path.getmtime(catalog.path)) < 120


def test_trash_mode_moves_files_to_the_freedesktop_trash(workspace, catalog, imported, cli):
    workspace.add_project("p1", scenes=1, caches=[])
    audio = workspace.path(".cache/audio/p1/scene-1.mp3")
    content = audio.read_bytes()
    projects = imported()
    trash = Path(os.environ["XDG_DATA_HOME"]) / "Trash"

    code, out = cli("clean", projects["p1"].id, "--yes", "--trash")

    # invariant 16: a move to the trash on the same file system frees nothing, and says so
    assert code == 0 and out["mode"] == "trash" and out["trashed_count"] == 4 and out["deleted_count"] == 0
    assert out["freed_bytes"] == 0 and out["deleted_size_mb"] == 0 and out["trashed_bytes"] > 0
    assert not audio.exists() and not workspace.path(".cache/assembly/p1").exists()
    infos = {}
    for info in (trash / "info").glob("*.trashinfo"):
        text = info.read_text()
        infos[text.split("Path=")[1].splitlines()[0]] = (info, text)
    entry = infos[quote(str(audio))]
    assert entry[1].startswith("[Trash Info]\nPath=") and "DeletionDate=" in entry[1]
    trashed = trash / "files" / entry[0].name[: -len(".trashinfo")]
    assert trashed.read_bytes() == content
    code, history = cli("history")
    assert history["runs"][0]["mode"] == "trash"
    assert history["runs"][0]["summary"] == (
        f"Cleanup: Deleted 0 files, freed 0.00 MB; moved 4 files ({out['trashed_bytes'] / 1e6:.2f} MB) to the trash")


def test_trash_mode_from_the_preference(workspace, catalog, imported):
    workspace.add_project("p1", scenes=1, caches=[])
    projects = imported()
    catalog.set_pref("delete_mode", "trash")
    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert result.mode == "trash" and result.trashed_count == 4 and result.deleted_count == 0
    assert result.freed_bytes == 0
    assert {(i["outcome"], i["detail"]) for i in run_items(catalog, result.run_id) if i["action"] == "delete_file"} \
        == {("trashed", "moved to the trash")}


def test_trash_mode_removes_a_dangling_link_itself(workspace, catalog, imported, tmp_path):
    workspace.add_project("p1", scenes=1, caches=[])
    outside = tmp_path / "outside.mp4"
    workspace.media.copy("mp4", outside)
    link = workspace.path(".cache/assembly/p1/to-outside.mp4")
    dangling = workspace.path(".cache/assembly/p1/dangling.mp4")
    os.symlink(outside, link)
    os.symlink(tmp_path / "no-such-file", dangling)
    projects = imported()
    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]), mode="trash")
    got = outcomes(catalog, result.run_id)
    assert got[str(dangling)][0] == "deleted" and got[str(link)][0] == "deleted"
    assert not os.path.lexists(dangling) and not os.path.lexists(link)
    assert outside.exists()
    assert result.status == "complete"


def test_plan_runs_once(workspace, catalog, imported, cli):
    workspace.add_project("p1")
    projects = imported()
    plan_id = plan_cleanup(catalog, [projects["p1"].id])
    execute_plan(catalog, plan_id)
    with pytest.raises(SafetyRefusal, match=f"Plan {plan_id} has already been run"):
        execute_plan(catalog, plan_id)
    code, out = cli("clean", "--plan", plan_id, "--yes")
    assert code == 3 and "already been run" in out["error"]
    assert len(list_runs(catalog)) == 1


def test_refused_plan_cannot_be_executed(workspace, catalog, imported):
    workspace.add_project("p1", final=False)
    projects = imported()
    plan_id = plan_cleanup(catalog, [projects["p1"].id])
    with pytest.raises(SafetyRefusal, match="was refused"):
        execute_plan(catalog, plan_id)
    assert list_runs(catalog) == []


def test_final_removed_after_the_preview_refuses_the_run(workspace, catalog, imported):
    workspace.add_project("p1")
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    workspace.path(".cache/output/p1/final.mp4").unlink()
    with pytest.raises(SafetyRefusal, match="final output .*final.mp4 is missing now; nothing was deleted"):
        execute_plan(catalog, plan.id)
    assert all(os.path.lexists(i.target) for i in plan.items)
    assert list_runs(catalog) == []


def test_cancel_leaves_every_item_recorded(workspace, catalog, imported):
    workspace.add_project("p1", scenes=4, assembly=4)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    token = CancelToken()

    def after_three(progress: Progress) -> None:
        if progress.done == 3:
            token.cancel()

    result = execute_plan(catalog, plan.id, progress=Progress(callback=after_three), cancel=token, batch=3)

    assert result.status == "cancelled"
    got = outcomes(catalog, result.run_id)
    assert len(got) == len(plan.items)
    assert [o for o, _ in got.values()].count("deleted") == 3
    assert "pending" not in {o for o, _ in got.values()}
    rest = [t for t, (o, d) in got.items() if o == "skipped"]
    assert len(rest) == len(plan.items) - 3
    assert {got[t][1] for t in rest} == {"cancelled before it was reached"}
    assert all(os.path.lexists(t) for t in rest)
    assert get_project(catalog, projects["p1"].id).cleanup_status == "pending"
    assert list_runs(catalog)[0]["status"] == "cancelled"


def test_delete_limits_need_a_second_confirmation(workspace, catalog, imported, cli):
    workspace.add_project("p1")
    projects = imported()
    code, _ = cli("prefs", "max_delete_count", "3")
    assert code == 0
    code, out = cli("clean", projects["p1"].id, "--yes")
    assert code == 3
    assert out["error"].startswith("Refused: the plan deletes 7 files, more than the limit of 3. Nothing was deleted.")
    assert "--confirm-large" in out["error"]
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    plan_id = catalog.conn.execute("SELECT max(id) FROM plans").fetchone()[0]
    code, out = cli("clean", "--plan", plan_id, "--yes", "--confirm-large")
    assert code == 0 and out["deleted_count"] == 7
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_delete_share_limit(workspace, catalog, imported):
    workspace.add_project("p1")
    projects = imported()
    catalog.set_pref("max_delete_share", 0.5)
    plan_id = plan_cleanup(catalog, [projects["p1"].id])
    with pytest.raises(SafetyRefusal, match=r"the plan deletes \d+% of the space scanned, more than the limit of 50%"):
        execute_plan(catalog, plan_id)
    assert execute_plan(catalog, plan_id, confirm_large=True).deleted_count == 7


def test_leaving_items_out_shrinks_the_limit_count(workspace, catalog, imported):
    workspace.add_project("p1")
    projects = imported()
    catalog.set_pref("max_delete_count", 3)
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    files = [i.id for i in plan.items if i.action is Action.DELETE_FILE]
    set_selected(catalog, plan.id, files[3:], False)
    assert load_plan(catalog, plan.id).total_line().startswith("Will delete 3 files")
    result = execute_plan(catalog, plan.id)
    assert result.deleted_count == 3


def test_stored_plan_runs_exactly(workspace, catalog, imported, cli):
    """``--plan ID --yes`` deletes what was previewed and nothing that appeared afterwards (invariant 4)."""
    workspace.add_project("p1")
    projects = imported()
    code, preview = cli("clean", projects["p1"].id)
    assert code == 0 and preview["dry_run"] is True
    newcomer = workspace.media.copy("mp4", workspace.path(".cache/assembly/p1/part-9.mp4"))
    new_audio = workspace.media.copy("mp3", workspace.path(".cache/audio/p1/scene-7.mp3"))

    code, run = cli("clean", "--plan", preview["plan_id"], "--yes")

    assert code == 0 and run["plan_id"] == preview["plan_id"]
    assert newcomer.exists() and new_audio.exists()
    assert run["deleted_count"] == preview["deleted_count"] == 7
    assert {s["target"]: s["reason"] for s in run["skipped"]}[str(newcomer.parent)] == \
        "folder not empty: it holds files that were not in the plan"
    for item in preview["items"]:
        if item["action"] == "delete_file":
            assert not os.path.lexists(item["target"])


def _running_run(catalog, kind: str, target: str) -> int:
    """A run left 'running' by a process that died, with one pending item."""
    import json

    from mediaclean_gui.core.catalog import iso, to_db_path

    with catalog.transaction() as conn:
        plan_id = conn.execute("INSERT INTO plans(kind, created_at, status) VALUES (?, ?, 'executed')",
                               (kind, iso())).lastrowid
        item_id = conn.execute(
            "INSERT INTO plan_items(plan_id, seq, action, target, root, size, role, rule, fingerprint) "
            "VALUES (?, 0, 'delete_file', ?, ?, 5, 'intermediate', 'test', ?)",
            (plan_id, to_db_path(target), to_db_path("/"), json.dumps({}))).lastrowid
        run_id = conn.execute("INSERT INTO runs(plan_id, kind, started_at, started_by, pid) VALUES (?, ?, ?, 'user', 1)",
                              (plan_id, kind, iso())).lastrowid
        conn.execute("INSERT INTO run_items(run_id, plan_item_id) VALUES (?, ?)", (run_id, item_id))
    return run_id


def test_reconcile_on_start_settles_local_runs_only(catalog, tmp_path, cli):
    present = tmp_path / "still-here.mp4"
    present.write_bytes(b"x")
    local = _running_run(catalog, "clean", str(present))
    gone = _running_run(catalog, "clean", str(tmp_path / "gone.mp4"))
    sweep = _running_run(catalog, "sweep", "clips/old.mp4")  # an object key: the sweep reconciles it, not us

    code, history = cli("history")

    assert code == 0
    status = {r["id"]: r["status"] for r in history["runs"]}
    # every kind is reconciled at start-up: the sweep too (its store cannot be asked here)
    assert status == {local: "interrupted", gone: "interrupted", sweep: "interrupted"}
    assert [(i["outcome"], i["detail"]) for i in run_items(catalog, local)] == \
        [("skipped", "not done: the run was interrupted")]
    assert [(i["outcome"], i["freed_bytes"]) for i in run_items(catalog, gone)] == [("deleted", 5)]
    assert [(i["outcome"], i["detail"]) for i in run_items(catalog, sweep)] == \
        [("skipped", "not done: the run was interrupted")]
    assert present.exists()


def test_a_sweep_plan_is_not_run_as_a_local_cleanup(catalog, cli):
    _running_run(catalog, "sweep", "clips/old.mp4")
    plan_id = catalog.conn.execute("SELECT max(id) FROM plans").fetchone()[0]
    catalog.conn.execute("UPDATE plans SET status = 'ready' WHERE id = ?", (plan_id,))
    code, out = cli("clean", "--plan", plan_id, "--yes")
    assert code == 2 and out["error"].startswith(f"Plan {plan_id} is a sweep plan, not a cleanup")
    from mediaclean_gui.core.errors import ConfigError

    with pytest.raises(ConfigError, match="is a sweep plan; it cannot be run here"):
        execute_plan(catalog, plan_id)
    assert catalog.conn.execute("SELECT status FROM plans WHERE id = ?", (plan_id,)).fetchone()[0] == "ready"


def test_a_journal_failure_while_files_are_removed_waits_for_the_pool(workspace, catalog, imported, monkeypatch):
    """The executor settles one batch while the pool removes the next. When that journal write fails, the
    batch in flight is still finished through its own verified folder descriptors before they are closed
    (a descriptor closed under a removing thread would fail it, or worse, be reused for another folder),
    and the next start reconciles the run from the disk."""
    from mediaclean_gui.core import delete as delete_mod
    from mediaclean_gui.core.run import lifecycle
    from mediaclean_gui.core.run.lifecycle import reconcile_on_start

    workspace.add_project("p1", scenes=1, assembly=400)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert len([i for i in plan.items if i.action is Action.DELETE_FILE]) > 400

    real_unlink = os.unlink
    removals: list[tuple[str, object]] = []

    def slow_unlink(*args, **kwargs):
        time.sleep(0.003)  # the pool is still busy with the batch when the journal write fails
        return real_unlink(*args, **kwargs)

    real_remove = delete_mod.GuardedRoot.remove

    def recorded(self, parent_fd, name, target, expected, **kwargs):
        found = real_remove(self, parent_fd, name, target, expected, **kwargs)
        removals.append((target, found))
        return found

    def broken_settle(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(os, "unlink", slow_unlink)
    monkeypatch.setattr(delete_mod.GuardedRoot, "remove", recorded)
    monkeypatch.setattr(lifecycle.Journal, "settle", broken_settle)

    with pytest.raises(sqlite3.OperationalError):
        execute_plan(catalog, plan.id, batch=200, threads=4)

    # the first two batches were acted on, every file through a descriptor that was still open
    assert len(removals) == 400
    assert all(found is None for _, found in removals), {f for _, f in removals if f is not None}
    assert not any(os.path.lexists(t) for t, _ in removals)
    monkeypatch.undo()
    assert reconcile_on_start(catalog) == [list_runs(catalog)[0]["id"]]
    got = outcomes(catalog, list_runs(catalog)[0]["id"])
    assert {got[t] for t, _ in removals} == {("deleted", "gone after the run was interrupted")}
    rest = [t for t, (o, _) in got.items() if t not in {r for r, _ in removals}]
    assert rest and all(got[t][0] == "skipped" and os.path.lexists(t) for t in rest)


def test_each_project_of_one_run_gets_its_own_status_and_counts(workspace, catalog, imported, undeletable,
                                                                 fs_records):
    """One plan for two projects: a file of p2 cannot be removed, so p2's cleanup failed and p1's is complete;
    the run's totals are the sum of both, and each project's summary line counts only its own files."""
    workspace.add_project("p1", scenes=2)
    workspace.add_project("p2", scenes=3)
    locked = workspace.media.copy("mp4", workspace.path(".cache/assembly/p2/locked/part.mp4"))
    projects = imported()
    p1, p2 = projects["p1"].id, projects["p2"].id
    plan = load_plan(catalog, plan_cleanup(catalog, [p1, p2]))
    mine = {pid: [i for i in plan.items if i.project_id == pid and i.action is Action.DELETE_FILE] for pid in (p1, p2)}
    assert mine[p1] and mine[p2]
    undeletable(locked.parent)

    result = execute_plan(catalog, plan.id)

    assert result.project_status == {p1: "complete", p2: "failed"}
    assert get_project(catalog, p1).cleanup_status == "complete"
    assert get_project(catalog, p2).cleanup_status == "failed"
    deleted = {pid: [i for i in mine[pid] if not os.path.lexists(i.target)] for pid in (p1, p2)}
    assert len(deleted[p1]) == len(mine[p1]) and len(deleted[p2]) == len(mine[p2]) - 1
    assert result.by_project[p1].deleted == len(mine[p1]) and result.by_project[p1].failed == 0
    assert result.by_project[p2].deleted == len(mine[p2]) - 1 and result.by_project[p2].failed >= 1
    assert result.deleted_count == len(mine[p1]) + len(mine[p2]) - 1
    for pid in (p1, p2):
        assert result.by_project[pid].freed_bytes == sum(i.size for i in deleted[pid])
    assert result.freed_bytes == result.by_project[p1].freed_bytes + result.by_project[p2].freed_bytes
    lines = [r.getMessage() for r in fs_records if getattr(r, "event", "") == "cleanup_summary"]
    assert f"Cleanup: Deleted {len(mine[p1])} files, freed {result.by_project[p1].freed_bytes / MB:.2f} MB" in lines
    assert f"Cleanup: Deleted {len(mine[p2]) - 1} files, freed {result.by_project[p2].freed_bytes / MB:.2f} MB" \
        in lines


def test_plan_batches_read_the_selected_items_exactly_in_plan_order(catalog):
    """The batch reader (one JSON row per batch) gives back every selected item's values unchanged: OS bytes
    that are not UTF-8, 64-bit inodes and NULL fingerprints, in plan order, never more than a batch."""
    from mediaclean_gui.core.catalog import iso
    from mediaclean_gui.core.run.lifecycle import selected_batches

    root = b"/w/root-\xfe"
    rows = []
    for seq in range(23):
        target = root + b"/scene-%02d-\xff\"\\.mp4" % seq
        fp = (None, None, None, None, None) if seq == 7 else (2**63 - 1 - seq, 2**63 - 2, seq, 10**18 + seq, "file")
        rows.append((seq, target, seq * 1000, int(seq % 5 != 3), *fp))
    with catalog.transaction() as conn:
        plan_id = conn.execute("INSERT INTO plans(kind, created_at, status) VALUES ('clean', ?, 'ready')",
                               (iso(),)).lastrowid
        for seq, target, size, selected, *fp in reversed(rows):  # stored out of order: plan order is seq
            conn.execute(
                "INSERT INTO plan_items(plan_id, seq, action, target, root, size, role, rule, fingerprint, selected, "
                "fp_dev, fp_ino, fp_size, fp_mtime_ns, fp_kind) VALUES (?, ?, 'delete_file', ?, ?, ?, 'cache', "
                "'test', '{}', ?, ?, ?, ?, ?, ?)", (plan_id, seq, target, root, size, selected, *fp))

    batches = list(selected_batches(catalog, plan_id, 4))

    assert [len(b) for b in batches] == [4, 4, 4, 4, 3]  # 19 of 23 selected
    got = [(os.fsencode(i.target), os.fsencode(i.root), i.size, i.dev, i.ino, i.fp_size, i.mtime_ns, i.kind)
           for b in batches for i in b]
    assert got == [(t, root, size, *fp) for _, t, size, selected, *fp in rows if selected]
