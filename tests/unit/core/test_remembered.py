"""What the catalog remembers for the user: the keep-list (invariant 14), stale previews, the trash
(invariant 16: moved, not freed, until emptied), and automatic runs not seen yet."""

from __future__ import annotations

import os

from mediaclean_gui.core.auto import run_auto_cleanup
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.emptytrash import empty_trash, trash_contents
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.history import list_runs, mark_runs_seen, unseen_automatic_runs
from mediaclean_gui.core.keeplist import KEPT_BY_YOU, keep, keep_entries, put_back
from mediaclean_gui.core.plan import Reason, load_plan, set_group_selected, set_selected
from mediaclean_gui.core.staleness import plan_staleness


def test_an_item_left_out_is_kept_by_you_in_every_later_plan_until_put_back(workspace, catalog, imported):
    workspace.add_project("p1", scenes=3, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    audio = str(workspace.path(".cache/audio/p1/scene-2.mp3"))
    set_selected(catalog, plan.id, [i.id for i in plan.items if i.target == audio], False)
    assert [e.path for e in keep_entries(catalog, project_id=projects["p1"].id)] == [".cache/audio/p1/scene-2.mp3"]

    again = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert audio not in {i.target for i in again.items}
    (kept,) = [k for k in again.kept if k.target == audio]
    assert (kept.reason, kept.group) == (Reason.EXCLUDED, KEPT_BY_YOU)
    assert kept.detail == "kept by you: you left it out of an earlier plan"
    execute_plan(catalog, again.id)
    assert os.path.exists(audio) and not workspace.path(".cache/audio/p1/scene-1.mp3").exists()

    put_back(catalog, str(workspace.root), audio, project_id=projects["p1"].id)
    last = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert [i.target for i in last.items if i.target == audio] == [audio]


def test_an_automatic_run_honours_the_keep_list(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2, caches=[], final=False)
    projects = imported()
    workspace.render_final("p1", age=3600)
    imported()
    keep(catalog, str(workspace.root), ".cache/assembly/p1", project_id=projects["p1"].id)  # a whole folder
    runs = run_auto_cleanup(catalog)
    assert [r["project"] for r in runs if "run_id" in r] == ["p1"]
    assert workspace.path(".cache/assembly/p1/part-0.mp4").exists()
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_a_keep_pattern_keeps_every_match(workspace, catalog, imported):
    workspace.add_project("p1", scenes=3, caches=[])
    projects = imported()
    keep(catalog, str(workspace.root), ".cache/**/scene-*.mp3", project_id=projects["p1"].id, pattern=True)
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert not any(i.target.endswith(".mp3") for i in plan.items)
    kept = [k for k in plan.kept if k.group == KEPT_BY_YOU]
    assert len(kept) == 3 and {k.detail for k in kept} == {
        "kept by you: it matches your keep pattern .cache/**/scene-*.mp3"}


def test_leaving_a_group_out_remembers_each_item(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert set_group_selected(catalog, plan.id, "intermediate", False) == len(plan.items)
    assert len(keep_entries(catalog, project_id=projects["p1"].id)) == len(plan.items)
    assert set_group_selected(catalog, plan.id, "intermediate", True) == len(plan.items)
    assert keep_entries(catalog, project_id=projects["p1"].id) == []


def test_a_preview_turns_stale_when_a_run_or_the_disk_changes_its_files(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2, caches=[], final=False)
    workspace.add_project("p2", scenes=2, caches=[])
    projects = imported()
    workspace.render_final("p1", age=3600)  # rendered after registration: auto-cleanup may take it
    imported()
    preview = plan_cleanup(catalog, [projects["p1"].id])
    assert plan_staleness(catalog, preview).stale is False
    other = plan_staleness(catalog, plan_cleanup(catalog, [projects["p2"].id]))
    assert not other.stale and other.checked > 0

    run_auto_cleanup(catalog)
    stale = plan_staleness(catalog, preview)
    assert stale.stale and stale.reasons[0].startswith("an automatic cleanup (run ")
    assert stale.changed == stale.checked  # every item went away on disk too

    fresh = plan_cleanup(catalog, [projects["p2"].id])
    workspace.path(".cache/audio/p2/scene-1.mp3").write_bytes(b"the generator ran again")
    disk = plan_staleness(catalog, fresh)
    assert disk.stale and disk.changed == 1 and "1 of its" in disk.reasons[0]
    execute_plan(catalog, fresh)
    assert "already been run" in plan_staleness(catalog, fresh).reasons[0]


def test_trash_moves_free_nothing_until_the_trash_is_emptied(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2, caches=[])
    projects = imported()
    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]), mode="trash")
    assert result.trashed_count == 6 and result.freed_bytes == 0
    assert result.summary.startswith("Cleanup: Deleted 0 files, freed 0.00 MB; moved 6 files")
    contents = trash_contents(catalog)
    assert (contents.files, contents.nbytes) == (6, result.trashed_bytes)
    assert contents.runs == {result.run_id: (6, result.trashed_bytes)}

    emptied = empty_trash(catalog)
    assert (emptied.files, emptied.freed_bytes, emptied.failed) == (6, result.trashed_bytes, [])
    assert emptied.sentence().startswith("Emptied 6 files from the trash · freed ")
    assert trash_contents(catalog).files == 0
    (run,) = list_runs(catalog)
    assert run["freed_bytes"] == result.trashed_bytes
    assert run["summary"].endswith(f"the trash was emptied: 6 files, {result.trashed_bytes / 1e6:.2f} MB freed")


def test_emptying_the_trash_leaves_what_other_programs_put_there(workspace, catalog, imported):
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash")
    os.makedirs(os.path.join(trash, "files"), exist_ok=True)
    os.makedirs(os.path.join(trash, "info"), exist_ok=True)
    theirs = os.path.join(trash, "files", "holiday.mp4")
    with open(theirs, "wb") as fh:
        fh.write(b"someone else's")
    with open(os.path.join(trash, "info", "holiday.mp4.trashinfo"), "w") as fh:
        fh.write("[Trash Info]\nPath=/home/x/holiday.mp4\nDeletionDate=2026-01-01T00:00:00\n")
    workspace.add_project("p1", scenes=1, caches=[])
    projects = imported()
    execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]), mode="trash")
    empty_trash(catalog)
    with open(theirs, "rb") as fh:
        assert fh.read() == b"someone else's"


def test_automatic_runs_are_announced_until_seen(workspace, catalog, imported):
    workspace.add_project("p1", scenes=1, caches=[], final=False)
    workspace.add_project("p2", scenes=1, caches=[])
    projects = imported()
    workspace.render_final("p1", age=3600)
    imported()
    execute_plan(catalog, plan_cleanup(catalog, [projects["p2"].id]))  # the user's own run: nothing to announce
    run_auto_cleanup(catalog)
    unseen = unseen_automatic_runs(catalog)
    assert [(r["started_by"], r["projects"]) for r in unseen] == [("auto", ["p1"])]
    mark_runs_seen(catalog, [r["id"] for r in unseen])
    assert unseen_automatic_runs(catalog) == []
