"""Folders swapped for links between the preview and the run, and during the run, in permanent and trash
mode (issue 10 case 7, invariants 2 and 16): nothing outside the workspace is deleted or reaches the
trash, and the history says what really happened."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.events import Progress
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.history import run_items
from mediaclean_gui.core.plan import load_plan


def trash_files() -> set[bytes]:
    folder = Path(os.environ["XDG_DATA_HOME"]) / "Trash" / "files"
    return set(os.listdir(os.fsencode(folder))) if folder.is_dir() else set()


@pytest.fixture
def victim(tmp_path: Path, media_pool) -> Path:
    """A folder outside the workspace full of the creator's files, named like the workspace's segments."""
    folder = tmp_path / "elsewhere" / "only-copies"
    folder.mkdir(parents=True)
    for n in range(1, 41):
        (folder / f"scene-{n}-seg.mp4").write_bytes(VICTIM + b" %d" % n)
    return folder


VICTIM = b"the creator's only copy of this segment"


def trash_holds_a_victim() -> bool:
    folder = Path(os.environ["XDG_DATA_HOME"]) / "Trash" / "files"
    return folder.is_dir() and any(p.is_file() and p.read_bytes().startswith(VICTIM) for p in folder.iterdir())


def outside_digest(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.iterdir()}


def swap_for_link(folder: Path, target: Path) -> None:
    """Replace ``folder`` with a symbolic link to ``target`` (what a racing process or a user could do)."""
    shutil.rmtree(folder)
    os.symlink(target, folder)


@pytest.mark.parametrize("mode", ["permanent", "trash"])
def test_a_folder_swapped_for_a_link_after_the_preview(workspace, catalog, imported, victim, mode):
    workspace.add_project("p1", scenes=40, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    segments = workspace.path(".cache/videos/p1")
    swap_for_link(segments, victim)
    before, trash_before = outside_digest(victim), trash_files()

    result = execute_plan(catalog, plan.id, mode=mode, batch=7)

    assert outside_digest(victim) == before, "nothing outside the workspace was touched"
    assert not trash_holds_a_victim()
    if mode == "trash":  # the 40 scene audio files and 2 assembly parts went there, nothing else
        assert len(trash_files() - trash_before) == result.trashed_count == 42
    got = {i["target"]: (i["outcome"], i["detail"]) for i in run_items(catalog, result.run_id)}
    for n in range(1, 41):
        outcome, detail = got[str(segments / f"scene-{n}-seg.mp4")]
        assert outcome == "skipped" and detail.startswith("not reached safely:"), (outcome, detail)
    assert result.skipped_count == 40 and result.failed_count == 0
    assert os.path.islink(segments)


@pytest.mark.parametrize("mode", ["permanent", "trash"])
def test_a_folder_swapped_for_a_link_during_the_run(workspace, catalog, imported, victim, mode):
    workspace.add_project("p1", scenes=40, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    segments = workspace.path(".cache/videos/p1")
    seg_ids = {i.id for i in plan.items if i.target.startswith(str(segments) + "/")}
    first_seg = min(n for n, i in enumerate(plan.items) if i.id in seg_ids)
    before, trash_before = outside_digest(victim), trash_files()
    swapped = []

    moved = victim.parent / "moved-away"

    def swap_midway(progress: Progress) -> None:
        # after the batch that reached the first segments, the folder is moved out of the workspace and a
        # link to the victim put in its place
        if not swapped and progress.done > first_seg:
            os.rename(segments, moved)
            os.symlink(victim, segments)
            swapped.append(progress.done)

    result = execute_plan(catalog, plan.id, mode=mode, batch=5, progress=Progress(callback=swap_midway))

    assert swapped, "the swap happened while the run went on"
    assert outside_digest(victim) == before, "nothing outside the workspace was touched"
    added = trash_files() - trash_before
    assert not trash_holds_a_victim()
    got = {i["target"]: i["outcome"] for i in run_items(catalog, result.run_id)}
    done = [t for t in got if t.startswith(str(segments) + "/") and got[t] in ("deleted", "trashed")]
    reached = [t for t in got if t.startswith(str(segments) + "/") and got[t] == "skipped"]
    assert done and reached and len(done) + len(reached) == 40
    # what the history says went is exactly what went from the workspace: the victim's same-named files stayed,
    # and the folder moved out of the workspace was not reached through an old descriptor either
    for target in done:
        assert (victim / os.path.basename(target)).exists()
    assert {p.name for p in moved.iterdir()} == {os.path.basename(t) for t in reached}
    if mode == "trash":
        assert result.trashed_count == len(added) and result.freed_bytes == 0


def test_a_folder_higher_up_swapped_for_a_link(workspace, catalog, imported, tmp_path):
    """A folder further up the chain (``.cache/videos``) replaced by a link to a copy elsewhere: nothing below
    it is reached (each folder below the root is opened without following links); and when the swap takes
    the final render's folder with it, the whole run is refused before anything is deleted."""
    workspace.add_project("p1", scenes=3, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    videos = workspace.path(".cache/videos")
    copy = tmp_path / "copy-of-videos"
    shutil.copytree(videos, copy, symlinks=True)
    shutil.rmtree(videos)
    os.symlink(copy, videos)
    before = {p: p.stat().st_size for p in copy.rglob("*") if p.is_file()}
    result = execute_plan(catalog, plan.id)
    assert {p: p.stat().st_size for p in copy.rglob("*") if p.is_file()} == before
    skipped = {s["target"] for s in result.skipped}
    assert {str(videos / "p1" / f"scene-{n}-seg.mp4") for n in (1, 2, 3)} <= skipped

    from mediaclean_gui.core.errors import SafetyRefusal

    workspace.add_project("p2", scenes=2, caches=[])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p2"].id]))
    cache = workspace.path(".cache")
    moved = tmp_path / "copy-of-cache"
    shutil.copytree(cache, moved, symlinks=True)
    shutil.rmtree(cache)
    os.symlink(moved, cache)
    with pytest.raises(SafetyRefusal, match="changed since the preview; nothing was deleted"):
        execute_plan(catalog, plan.id)
    assert (moved / "audio" / "p2" / "scene-1.mp3").exists()
