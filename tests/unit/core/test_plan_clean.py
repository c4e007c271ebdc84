"""F1 planner on real ffmpeg-made workspaces: what goes, what is kept back and why."""

from __future__ import annotations

import os
from pathlib import Path

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.plan import Action, Reason, load_plan
from mediaclean_gui.core.projects import add_project, get_project, list_projects


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``root``: relative path -> (size, mtime_ns), links not followed."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return out


def rels(paths, root: Path) -> set[str]:
    return {os.path.relpath(p, root) for p in paths}


def test_plan_is_exactly_intermediates_and_free_shared_cache(workspace, catalog, imported):
    workspace.add_project("p1", "Ocean", scenes=3, caches=[("pexels", "11"), ("pixabay", "22")], assembly=2)
    workspace.add_project("p2", "City", scenes=1, caches=[("pexels", "99")])  # another project: untouched
    projects = imported()
    before = tree(workspace.root)

    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))

    assert plan.status == "ready" and plan.kind == "clean"
    files = [i for i in plan.items if i.action is Action.DELETE_FILE]
    dirs = [i for i in plan.items if i.action is Action.DELETE_DIR]
    assert rels((i.target for i in files), workspace.root) == {
        ".cache/audio/p1/scene-1.mp3", ".cache/audio/p1/scene-2.mp3", ".cache/audio/p1/scene-3.mp3",
        ".cache/videos/p1/scene-1-seg.mp4", ".cache/videos/p1/scene-2-seg.mp4", ".cache/videos/p1/scene-3-seg.mp4",
        ".cache/assembly/p1/part-0.mp4", ".cache/assembly/p1/part-1.mp4",
        "assets/cache/pexels/11.mp4", "assets/cache/pixabay/22.mp4",
    }
    assert rels((i.target for i in dirs), workspace.root) == {".cache/assembly/p1"}
    # folders come after the files they hold
    order = {i.target: n for n, i in enumerate(plan.items)}
    for folder in dirs:
        assert all(order[i.target] < order[folder.target] for i in files if i.target.startswith(folder.target + "/"))
    for item in files:
        assert item.size == os.lstat(item.target).st_size > 0
        assert item.project_id == projects["p1"].id
        assert item.fingerprint["ino"] == os.lstat(item.target).st_ino
    roles = {os.path.relpath(i.target, workspace.root): i.role for i in files}
    assert roles["assets/cache/pexels/11.mp4"] == "shared_cache"
    assert roles[".cache/audio/p1/scene-1.mp3"] == "intermediate"
    assert {i.rule for i in files if "audio" in i.target} == {"scene audio, not needed once the final render exists"}

    kept = {os.path.relpath(k.target, workspace.root): k for k in plan.kept}
    assert kept[".cache/output/p1/final.mp4"].reason is Reason.PROTECTED
    assert kept[".cache/output/p1/final-thumb.jpg"].reason is Reason.PROTECTED
    assert kept[".cache/output/p1/final.mp4"].role == "final"
    assert kept[".cache/output/p1/final-thumb.jpg"].role == "thumbnail"
    assert not any("p2" in k for k in kept)
    assert plan.total_line() == f"Will delete 10 files · {_natural(sum(i.size for i in files))} · 2 kept"
    # a dry run changes nothing
    assert tree(workspace.root) == before


def _natural(n: int) -> str:
    import humanize

    return humanize.naturalsize(n)


def test_cleanup_keeps_final_thumbnail_and_other_projects(workspace, catalog, imported):
    workspace.add_project("p1", caches=[("pexels", "11")])
    workspace.add_project("p2", caches=[("pexels", "22")])
    projects = imported()
    other_before = {k: v for k, v in tree(workspace.root).items() if "p2" in k or "22" in k}

    result = execute_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))

    assert result.status == "complete" and result.deleted_count == 7 and not result.failed
    after = tree(workspace.root)
    left = {k for k in after if "p1" in k or k.endswith("11.mp4")}
    assert left == {".cache/output/p1", ".cache/output/p1/final.mp4", ".cache/output/p1/final-thumb.jpg",
                    ".cache/audio/p1", ".cache/videos/p1"}
    assert {k: v for k, v in after.items() if "p2" in k or "22" in k} == other_before
    assert get_project(catalog, projects["p1"].id).cleanup_status == "complete"
    assert get_project(catalog, projects["p2"].id).cleanup_status == "pending"


def test_project_without_final_is_refused_and_nothing_deleted(workspace, catalog, imported, cli):
    workspace.add_project("p1", "Unrendered", final=False)
    projects = imported()
    before = tree(workspace.root)

    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert plan.status == "refused" and plan.items == []
    assert [(k.reason, k.group) for k in plan.kept] == [(Reason.FINAL_MISSING, "refused")]
    assert plan.kept[0].detail == "project 'Unrendered' has no final output yet; nothing of it is deleted"

    for args in (("clean", "Unrendered"), ("clean", "Unrendered", "--yes"), ("clean", "--plan", plan.id, "--yes")):
        code, out = cli(*args)
        assert code == 3, args
        assert out["skipped"][0]["reason"] == "final output missing"
        assert out["items"] == [] and out["deleted_count"] == 0
    assert tree(workspace.root) == before
    assert get_project(catalog, projects["p1"].id).cleanup_status == "pending"


def test_final_as_a_link_or_folder_does_not_count(workspace, catalog, imported, tmp_path):
    workspace.add_project("p1", final=False)
    real = workspace.media.copy("mp4", tmp_path / "elsewhere.mp4")
    workspace.path(".cache/output/p1").mkdir(parents=True)
    os.symlink(real, workspace.path(".cache/output/p1/final.mp4"))
    projects = imported()
    assert load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id])).status == "refused"


def test_all_mixes_ready_and_refused_projects(workspace, catalog, imported, cli):
    workspace.add_project("p1", "Ready")
    workspace.add_project("p2", "Waiting", final=False)
    projects = imported()
    code, out = cli("clean", "--all")
    assert code == 0
    assert {Path(i["target"]).parts[-2] for i in out["items"] if "/.cache/audio/" in i["target"]} == {"p1"}
    refused = [k for k in out["skipped"] if k["reason"] == "final output missing"]
    assert len(refused) == 1 and "'Waiting'" in refused[0]["detail"]
    assert out["cleanup_status"] == {str(projects["p1"].id): "pending", str(projects["p2"].id): "pending"}


def test_shared_cache_kept_while_another_project_needs_it(workspace, catalog, imported):
    workspace.add_project("p1", "Ocean", caches=[("pexels", "shared"), ("pexels", "own")])
    workspace.add_project("p2", "City", final=False, caches=[("pexels", "shared")])
    shared = workspace.path("assets/cache/pexels/shared.mp4")
    projects = imported()

    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    kept = {k.target: k for k in plan.kept}
    assert kept[str(shared)].reason is Reason.REFERENCED
    assert kept[str(shared)].detail == "still needed by 'City', which has no complete final output yet"
    assert str(workspace.path("assets/cache/pexels/own.mp4")) in {i.target for i in plan.items}
    execute_plan(catalog, plan.id)
    assert shared.exists()
    assert not workspace.path("assets/cache/pexels/own.mp4").exists()

    # once City has its final render, the shared file goes with the next cleanup of either project
    workspace.render_final("p2")
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    assert [i.target for i in plan.items] == [str(shared)]
    result = execute_plan(catalog, plan.id)
    assert result.deleted_count == 1 and not shared.exists()


def test_shared_cache_needed_by_two_projects(workspace, catalog, imported):
    workspace.add_project("p1", "A", caches=[("pexels", "s")])
    workspace.add_project("p2", "B", final=False, caches=[("pexels", "s")])
    workspace.add_project("p3", "C", final=False, caches=[("pexels", "s")])
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    kept = {k.target: k for k in plan.kept}
    assert kept[str(workspace.path("assets/cache/pexels/s.mp4"))].detail == \
        "still needed by 'B', 'C', which has no complete final output yet"


def test_intermediate_referenced_by_an_unfinished_project_is_kept(workspace, catalog):
    """Invariant 1: F1 deletes nothing of a project whose final output is missing, even when another
    project's database rows reference the same file."""
    workspace.add_project("p1", "Done")
    workspace.add_project("p2", "Unfinished", final=False)
    borrowed = ".cache/audio/p2/scene-1.mp3"
    db = workspace.write_db(extra_audio=[("p1", borrowed)])
    import_generator_db(catalog, db, workspace.root)
    ids = {p.external_id: p.id for p in list_projects(catalog)}
    plan = load_plan(catalog, plan_cleanup(catalog, [ids["p1"]]))
    assert str(workspace.path(borrowed)) not in {i.target for i in plan.items}
    kept = {k.target: k for k in plan.kept}
    assert kept[str(workspace.path(borrowed))].reason is Reason.REFERENCED
    execute_plan(catalog, plan.id)
    assert workspace.path(borrowed).exists()


def test_unmatched_files_in_project_folders_are_left_alone(workspace, catalog, imported):
    workspace.add_project("p1")
    notes = workspace.path(".cache/audio/p1/notes.txt")
    notes.write_text("keep me")
    wav = workspace.path(".cache/audio/p1/scene-1.wav")
    wav.write_bytes(b"RIFF")
    other = workspace.path(".cache/output/p1/preview.mp4")
    workspace.media.copy("mp4", other)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    targets = {i.target for i in plan.items}
    assert not {str(notes), str(wav), str(other)} & targets
    execute_plan(catalog, plan.id)
    assert notes.exists() and wav.exists() and other.exists()


def test_assembly_subfolders_are_emptied_then_removed(workspace, catalog, imported):
    workspace.add_project("p1", assembly=1)
    deep = workspace.path(".cache/assembly/p1/scenes/03/frames")
    deep.mkdir(parents=True)
    for n in range(3):
        workspace.media.copy("jpg", deep / f"{n:04d}.jpg")
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    dirs = [os.path.relpath(i.target, workspace.root) for i in plan.items if i.action is Action.DELETE_DIR]
    assert dirs == [".cache/assembly/p1/scenes/03/frames", ".cache/assembly/p1/scenes/03",
                    ".cache/assembly/p1/scenes", ".cache/assembly/p1"]
    result = execute_plan(catalog, plan.id)
    assert not result.failed and not result.skipped
    assert not workspace.path(".cache/assembly/p1").exists()
    assert workspace.path(".cache/assembly").exists()


def test_folder_registered_project_uses_the_layout(workspace, catalog):
    """``project add ROOT --profile ai-video-generator`` finds every project id and plans by pattern alone."""
    workspace.add_project("p1", caches=[("pexels", "11")])
    workspace.add_project("p2", final=False)
    ids = add_project(catalog, workspace.root, "ai-video-generator")
    assert len(ids) == 2
    by_key = {get_project(catalog, i).external_id: i for i in ids}
    plan = load_plan(catalog, plan_cleanup(catalog, [by_key["p1"]]))
    assert plan.status == "ready"
    targets = rels((i.target for i in plan.items), workspace.root)
    assert ".cache/audio/p1/scene-1.mp3" in targets and ".cache/assembly/p1" in targets
    assert not any("p2" in t for t in targets)
    # without a database nobody references the provider cache: kept back, not deleted
    kept = {os.path.relpath(k.target, workspace.root): k.reason for k in plan.kept}
    assert kept["assets/cache/pexels/11.mp4"] is Reason.UNREFERENCED_CACHE
    assert load_plan(catalog, plan_cleanup(catalog, [by_key["p2"]])).status == "refused"


def test_final_inside_an_intermediate_folder_is_kept(tmp_path, catalog, media_pool, monkeypatch):
    """A user layout whose final render lies in the folder it cleans: the folder empties, the final stays."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    (config / "mediaclean" / "profiles").mkdir(parents=True)
    (config / "mediaclean" / "profiles" / "renders.toml").write_text(
        'name = "renders"\nfinal = "renders/{project}/final.mp4"\n'
        '[[artifact]]\npattern = "renders/{project}/"\nrole = "intermediate"\n'
        '[[artifact]]\npattern = "renders/{project}/final.mp4"\nrole = "final"\n'
        '[[artifact]]\npattern = "renders/{project}/thumbs/cover.jpg"\nrole = "thumbnail"\n',
        encoding="utf-8")
    root = tmp_path / "ws"
    final = media_pool.copy("mp4", root / "renders" / "r1" / "final.mp4")
    cover = media_pool.copy("jpg", root / "renders" / "r1" / "thumbs" / "cover.jpg")
    parts = [media_pool.copy("mp4", root / "renders" / "r1" / "parts" / f"{n}.mp4") for n in range(3)]
    parts.append(media_pool.copy("jpg", root / "renders" / "r1" / "thumbs" / "other.jpg"))
    (pid,) = add_project(catalog, root, "renders")
    catalog.set_pref("settle_seconds", 0)  # the final was written just now
    plan = load_plan(catalog, plan_cleanup(catalog, [pid]))
    assert {i.target for i in plan.items if i.action is Action.DELETE_FILE} == {str(p) for p in parts}
    assert {k.target: k.reason for k in plan.kept} == {str(final): Reason.PROTECTED, str(cover): Reason.PROTECTED}
    result = execute_plan(catalog, plan.id)
    assert final.exists() and cover.exists() and not any(p.exists() for p in parts)
    assert result.deleted_count == 4 and not result.failed
