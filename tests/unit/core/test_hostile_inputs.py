"""Issue 10's local data-loss cases, each with real files and a real generator database: what is still on
disk afterwards. Ids, external ids and profiles from a hostile or merely unusual source must not reach
anything a creator keeps (invariants 1, 2, 11, 12, 13)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.plan import Reason, load_plan
from mediaclean_gui.core.projects import list_projects


def digest_tree(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every regular file under ``root`` (relative path -> sha256), links not followed."""
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path) or rel.startswith(skip):
                continue
            with open(path, "rb") as fh:
                out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


def hostile_db(path: Path, rows: list[tuple[str, str, str | None, str | None]]) -> Path:
    """A seed 002 database whose projects are ``(id, name, final path, thumbnail path)``."""
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE projects(id TEXT, name TEXT); CREATE TABLE audio_files(project_id TEXT, file_path TEXT);"
        "CREATE TABLE visual_suggestions(project_id TEXT, provider TEXT, video_id TEXT, default_segment_path TEXT);"
        "CREATE TABLE rendered_videos(project_id TEXT, file_path TEXT, thumbnail_path TEXT);")
    for pid, name, final, thumb in rows:
        db.execute("INSERT INTO projects VALUES (?, ?)", (pid, name))
        if final:
            db.execute("INSERT INTO rendered_videos VALUES (?, ?, ?)", (pid, final, thumb))
    db.commit()
    db.close()
    return path


@pytest.fixture
def rendered(workspace, catalog, imported):
    """Two real, rendered projects (p1, p2) and one without its final (p3), imported: the creator's work."""
    workspace.add_project("p1", "Ocean", caches=[("pexels", "11")])
    workspace.add_project("p2", "City", caches=[("pexels", "22")])
    workspace.add_project("p3", "Unrendered", final=False, caches=[("pexels", "33")])
    imported()
    return workspace


def protected_files(ws) -> dict[str, str]:
    """The files that must survive any cleanup of a hostile project: finals, thumbnails, the database,
    and everything of the project without its final."""
    return {rel: h for rel, h in digest_tree(ws.root).items()
            if rel.startswith(".cache/output/") or "/p3/" in rel or rel.endswith(("generator.db", "/33.mp4"))}


@pytest.mark.parametrize("pid", ["..", "."])
def test_a_dot_or_dotdot_project_id_in_a_generator_database_deletes_nothing(rendered, catalog, cli, tmp_path, pid):
    """Cases 2 and 3: ``..`` once deleted the whole .cache (every final), ``.`` every assembly folder."""
    ws = rendered
    final = f".cache/output/{pid}/final.mp4"
    ws.media.copy("mp4", ws.path(final))  # the hostile project's "final" exists, so it counts as rendered
    past = __import__("time").time() - 3600
    os.utime(ws.path(final), (past, past))
    before = protected_files(ws)
    before_all = digest_tree(ws.root)
    code, out = cli("project", "import-db", hostile_db(tmp_path / "dots.db", [(pid, "Dots", final, None)]),
                    "--workspace", ws.root)
    assert code == 0

    code, out = cli("clean", "Dots", "--yes")

    assert code == 3, out  # refused: nothing of it is deleted
    (refusal,) = [k for k in out["skipped"] if k["reason"] == "not a usable folder name"]
    assert f"the project id of 'Dots' cannot be used in its folders: '{pid}' is not a usable folder name" in \
        refusal["detail"]
    assert digest_tree(ws.root) == before_all
    assert protected_files(ws) == before


def test_an_external_id_with_a_slash_is_refused_at_registration(rendered, catalog, cli):
    """Case 4: ``--external-id ../output/p1`` once made p1's final and thumbnail an "assembly temp folder"."""
    ws = rendered
    before = digest_tree(ws.root)
    code, out = cli("project", "add", ws.root, "--profile", "ai-video-generator", "--external-id", "../output/p1")
    assert code == 2
    assert out["error"].startswith("The project id cannot be used: '../output/p1' contains '/'")
    assert digest_tree(ws.root) == before


def test_an_external_id_with_a_slash_already_in_the_catalog_is_refused_at_planning(rendered, catalog):
    """The same id written into the catalog by another tool: planning refuses the project, and the run of
    any plan that still names such paths is stopped by the guarded path."""
    ws = rendered
    catalog.conn.execute("INSERT INTO projects(name, root, profile, external_id, created_at) "
                         "VALUES ('Sneaky', ?, 'ai-video-generator', '../output/p1', '2026-01-01T00:00:00Z')",
                         (os.fsencode(str(ws.root)),))
    sneaky = next(p for p in list_projects(catalog) if p.name == "Sneaky")
    before = digest_tree(ws.root)
    plan = load_plan(catalog, plan_cleanup(catalog, [sneaky.id]))
    assert plan.status == "refused" and plan.items == []
    assert [k.reason for k in plan.kept] == [Reason.UNSAFE_NAME]
    assert digest_tree(ws.root) == before


def test_a_user_profile_that_calls_everything_intermediate_keeps_every_protected_file(rendered, catalog, cli,
                                                                                     monkeypatch, tmp_path):
    """Case 5: ``**`` → intermediate with its own ``final =``: the final, the thumbnail, another project's
    final and the generator database once went."""
    ws = rendered
    profiles = Path(os.environ["XDG_CONFIG_HOME"]) / "mediaclean" / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "greedy.toml").write_text(
        'name = "greedy"\nfinal = ".cache/output/p1/final.mp4"\n'
        '[[artifact]]\npattern = "**"\nrole = "intermediate"\nrule = "everything"\n', encoding="utf-8")
    try:
        before = protected_files(ws)
        code, out = cli("project", "add", ws.root, "--profile", "greedy", "--name", "Greedy")
        assert code == 0, out
        code, out = cli("clean", "Greedy", "--yes")
        after = protected_files(ws)
    finally:
        (profiles / "greedy.toml").unlink()
    assert after == before, "finals, thumbnails, the database and the unrendered project all stay"
    # the other projects' own files too: by their own layout they are theirs, and only their cleanup decides
    assert ws.path(".cache/audio/p1/scene-1.mp3").exists() and ws.path(".cache/assembly/p3/part-0.mp4").exists()
    assert ws.path(".cache/output/p1/final.mp4").exists() and ws.path(".cache/output/p2/final-thumb.jpg").exists()
    assert ws.path("generator.db").exists()
    kept = {os.path.relpath(k["target"], ws.root): k["reason"] for k in out["skipped"] if "reason" in k}
    assert kept[".cache/output/p1/final.mp4"] == "protected"
    assert kept[".cache/output/p2/final.mp4"] == "protected"
    assert kept["generator.db"] == "protected"  # already at planning, not only when the run reaches it


def ffmpeg_video(path: Path, seconds: int = 2, faststart: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=duration={seconds}:size=160x120:rate=25", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", *(["-movflags", "+faststart"] if faststart else []), str(path)],
                   check=True, timeout=120)
    return path


@pytest.mark.parametrize("damage", ["truncated", "truncated-faststart", "empty", "not-a-video"])
def test_a_truncated_or_empty_final_refuses_its_project(workspace, catalog, imported, cli, damage):
    """Case 10 (invariant 13): a render that crashed mid-write does not count as a final output."""
    workspace.add_project("p1", "Crashed")
    final = workspace.path(".cache/output/p1/final.mp4")
    ffmpeg_video(final, faststart=damage == "truncated-faststart")
    size = final.stat().st_size
    if damage.startswith("truncated"):
        subprocess.run(["truncate", "-s", str(size * 2 // 3), str(final)], check=True)
    elif damage == "empty":
        subprocess.run(["truncate", "-s", "0", str(final)], check=True)
    else:
        final.write_bytes(b"not a video at all" * 100)
    past = __import__("time").time() - 3600
    os.utime(final, (past, past))
    imported()
    before = digest_tree(workspace.root)

    code, out = cli("clean", "Crashed", "--yes")

    assert code == 3
    refusal = next(k for k in out["skipped"] if k.get("reason") == "final render incomplete or unreadable")
    assert refusal["target"] == str(final)
    assert "nothing of project 'Crashed' is deleted" in refusal["detail"]
    assert digest_tree(workspace.root) == before, "the intermediates (paid API credits) all stay"


def test_a_complete_final_still_counts(workspace, catalog, imported, cli):
    workspace.add_project("p1", "Fine")
    final = ffmpeg_video(workspace.path(".cache/output/p1/final.mp4"), faststart=True)
    past = __import__("time").time() - 3600
    os.utime(final, (past, past))
    imported()
    code, out = cli("clean", "Fine", "--yes")
    assert code == 0 and out["deleted_count"] == 7 and final.exists()


def test_a_final_written_just_now_waits_for_the_settle_time(workspace, catalog, imported, cli):
    workspace.add_project("p1", "Rendering", final_age=5)
    imported()
    code, out = cli("clean", "Rendering", "--yes")
    assert code == 3
    (refusal,) = [k for k in out["skipped"] if k.get("reason") == "still being written"]
    assert "it counts once unchanged for 60 s" in refusal["detail"]
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_a_final_replaced_after_the_preview_refuses_the_run(workspace, catalog, imported):
    workspace.add_project("p1")
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    final = workspace.path(".cache/output/p1/final.mp4")
    final.write_bytes(b"")  # the render crashed again after the preview: same path, other file
    from mediaclean_gui.core.errors import SafetyRefusal

    with pytest.raises(SafetyRefusal, match="changed since the preview; nothing was deleted"):
        execute_plan(catalog, plan.id)
    assert all(os.path.lexists(i.target) for i in plan.items)


def test_a_hard_link_to_a_final_is_never_deleted(workspace, catalog, imported):
    """Protection by identity: a segment that is a hard link of the final render stays, whatever its name."""
    workspace.add_project("p1")
    projects = imported()
    final = workspace.path(".cache/output/p1/final.mp4")
    segment = workspace.path(".cache/videos/p1/scene-1-seg.mp4")
    segment.unlink()
    os.link(final, segment)
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    result = execute_plan(catalog, plan.id)
    assert segment.exists() and final.exists()
    (skip,) = [s for s in result.skipped if s["target"] == str(segment)]
    assert skip["reason"] == "protected: the final of project 'p1'"


def test_a_provider_name_with_a_slash_is_refused_at_import(workspace, catalog):
    from mediaclean_gui.core.importdb import import_generator_db

    workspace.add_project("p1")
    db = workspace.write_db()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO visual_suggestions(project_id, provider, video_id, default_segment_path) "
                 "VALUES ('p1', '../../.cache/output', 'p1/final', NULL)")
    conn.commit()
    conn.close()
    result = import_generator_db(catalog, db, workspace.root)
    assert any("provider '../../.cache/output'" in r for r in result.refused)
    paths = {os.fsdecode(r[0]) for r in catalog.conn.execute("SELECT path FROM artifacts")}
    assert not any(p.endswith("final.mp4.mp4") or "/../" in p for p in paths)
