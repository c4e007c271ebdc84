"""F9: importing a seed 002 generator database, read-only, into the catalog."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.plan import Reason, load_plan
from mediaclean_gui.core.profiles import Role
from mediaclean_gui.core.projects import artifacts_of, list_projects


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_projects_and_artifacts_registered(workspace, catalog):
    workspace.add_project("p1", "Ocean", scenes=2, caches=[("pexels", "11"), ("pixabay", "22")])
    workspace.add_project("p2", "City", scenes=1, final=False, caches=[("pexels", "11")])
    db = workspace.write_db()
    before = _digest(db)

    result = import_generator_db(catalog, db, workspace.root)

    assert result.imported == 2 and len(result.project_ids) == 2 and result.outside_root == []
    projects = {p.external_id: p for p in list_projects(catalog)}
    assert {p.name for p in projects.values()} == {"Ocean", "City"}
    p1 = projects["p1"]
    assert p1.profile == "ai-video-generator" and p1.root == str(workspace.root.resolve())
    roles: dict[Role, set[str]] = {}
    for art in artifacts_of(catalog, p1.id):
        roles.setdefault(art.role, set()).add(str(Path(art.path).relative_to(workspace.root)))
    assert roles == {
        Role.INTERMEDIATE: {".cache/audio/p1/scene-1.mp3", ".cache/audio/p1/scene-2.mp3",
                            ".cache/videos/p1/scene-1-seg.mp4", ".cache/videos/p1/scene-2-seg.mp4"},
        Role.SHARED_CACHE: {"assets/cache/pexels/11.mp4", "assets/cache/pixabay/22.mp4"},
        Role.FINAL: {".cache/output/p1/final.mp4"},
        Role.THUMBNAIL: {".cache/output/p1/final-thumb.jpg"},
    }
    p2_roles = {a.role for a in artifacts_of(catalog, projects["p2"].id)}
    assert Role.FINAL not in p2_roles and Role.SHARED_CACHE in p2_roles
    # read-only: the generator's database is byte-identical and no journal was left
    assert _digest(db) == before
    assert sorted(p.name for p in db.parent.glob("generator.db*")) == ["generator.db"]


def test_extra_tables_and_columns_are_ignored(workspace, catalog):
    workspace.add_project("p1")
    db = workspace.write_db()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE audio_files ADD COLUMN duration REAL")
    conn.execute("ALTER TABLE rendered_videos ADD COLUMN codec TEXT")
    conn.execute("CREATE TABLE scenes(id INTEGER, text TEXT)")
    conn.commit()
    conn.close()
    assert import_generator_db(catalog, db, workspace.root).imported == 1


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DROP TABLE rendered_videos", "has no table 'rendered_videos'"),
        ("DROP TABLE audio_files", "has no table 'audio_files'"),
        ("ALTER TABLE visual_suggestions DROP COLUMN video_id", "table 'visual_suggestions' has no column 'video_id'"),
        ("ALTER TABLE rendered_videos DROP COLUMN thumbnail_path",
         "table 'rendered_videos' has no column 'thumbnail_path'"),
        ("ALTER TABLE projects RENAME COLUMN name TO title", "table 'projects' has no column 'name'"),
    ],
)
def test_missing_table_or_column_is_named(workspace, catalog, sql, message):
    workspace.add_project("p1")
    db = workspace.write_db()
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError) as err:
        import_generator_db(catalog, db, workspace.root)
    assert message in str(err.value) and str(db) in str(err.value)
    assert list_projects(catalog) == []


def test_missing_column_through_the_cli(workspace, cli):
    workspace.add_project("p1")
    db = workspace.write_db()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE audio_files DROP COLUMN file_path")
    conn.commit()
    conn.close()
    code, out = cli("project", "import-db", db, "--workspace", workspace.root)
    assert code == 2
    assert "table 'audio_files' has no column 'file_path'" in out["error"]


def test_not_a_database_and_missing_file(tmp_path, workspace, catalog):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="is not a readable SQLite database"):
        import_generator_db(catalog, junk, workspace.root)
    with pytest.raises(ConfigError, match="does not exist"):
        import_generator_db(catalog, tmp_path / "nope.db", workspace.root)
    with pytest.raises(ConfigError, match="workspace folder .* does not exist"):
        import_generator_db(catalog, junk, tmp_path / "no-workspace")


def test_dotdot_path_outside_is_kept_back_never_deleted(tmp_path, workspace, catalog, cli):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.mp3"
    workspace.media.copy("mp3", secret)
    sneaky = outside / "sneaky.mp3"
    workspace.media.copy("mp3", sneaky)
    workspace.add_project("p1")
    db = workspace.write_db(extra_audio=[("p1", "../outside/secret.mp3"),
                                         ("p1", ".cache/audio/p1/../../../../outside/sneaky.mp3")])

    code, out = cli("project", "import-db", db, "--workspace", workspace.root)
    assert code == 0
    assert sorted(out["outside_root"]) == [str(secret), str(sneaky)]

    code, plan = cli("clean", "p1")
    assert code == 0
    kept = {k["target"]: k for k in plan["skipped"]}
    for path in (secret, sneaky):
        assert kept[str(path)]["reason"] == "outside root"
        assert "points outside the workspace" in kept[str(path)]["detail"]
    assert not {str(secret), str(sneaky)} & {i["target"] for i in plan["items"]}

    code, run = cli("clean", "p1", "--yes")
    assert code == 0 and run["deleted_count"] > 0
    assert secret.exists() and sneaky.exists()
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_absolute_path_inside_the_workspace_works(workspace, catalog):
    workspace.add_project("p1")
    extra = workspace.path("renders/tmp/p1-mix.mp3")
    workspace.media.copy("mp3", extra)
    db = workspace.write_db(extra_audio=[("p1", str(extra))])
    import_generator_db(catalog, db, workspace.root)
    project = list_projects(catalog)[0]
    assert str(extra) in {a.path for a in artifacts_of(catalog, project.id)}
    plan_id = plan_cleanup(catalog, [project.id])
    assert str(extra) in {i.target for i in load_plan(catalog, plan_id).items}
    result = execute_plan(catalog, plan_id)
    assert not result.failed and not extra.exists()
    assert workspace.path(".cache/output/p1/final.mp4").exists()


def test_relative_workspace_argument_and_absolute_reference(workspace, catalog, monkeypatch):
    """The workspace given as a relative path still makes absolute references inside it count as inside."""
    workspace.add_project("p1")
    extra = workspace.path("renders/p1-mix.mp3")
    workspace.media.copy("mp3", extra)
    db = workspace.write_db(extra_audio=[("p1", str(extra))])
    monkeypatch.chdir(workspace.root.parent)
    result = import_generator_db(catalog, db, workspace.root.name)
    assert result.outside_root == []


def test_reimport_updates_never_duplicates(workspace, catalog):
    workspace.add_project("p1", "Ocean")
    workspace.add_project("p2", "City", final=False)
    db = workspace.write_db()
    first = import_generator_db(catalog, db, workspace.root)
    counts = catalog.conn.execute("SELECT count(*) FROM artifacts").fetchone()[0]

    second = import_generator_db(catalog, db, workspace.root)
    assert second.project_ids == first.project_ids
    assert len(list_projects(catalog)) == 2
    assert catalog.conn.execute("SELECT count(*) FROM artifacts").fetchone()[0] == counts

    # the generator renamed a project, rendered p2 and dropped a scene of p1
    workspace.projects["p1"]["name"] = "Ocean (final cut)"
    workspace.projects["p1"]["audio"] = workspace.projects["p1"]["audio"][:1]
    workspace.render_final("p2")
    import_generator_db(catalog, workspace.write_db(), workspace.root)
    projects = {p.external_id: p for p in list_projects(catalog)}
    assert len(projects) == 2 and projects["p1"].name == "Ocean (final cut)"
    assert sorted(p.id for p in projects.values()) == sorted(first.project_ids)
    p1_audio = [a for a in artifacts_of(catalog, projects["p1"].id) if a.path.endswith(".mp3")]
    assert [Path(a.path).name for a in p1_audio] == ["scene-1.mp3"]
    assert Role.FINAL in {a.role for a in artifacts_of(catalog, projects["p2"].id)}


def test_unreferenced_shared_cache_is_kept_back(workspace, catalog, imported):
    workspace.add_project("p1", caches=[("pexels", "1")])
    stray = workspace.media.copy("mp4", workspace.path("assets/cache/pexels/stray.mp4"))
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    kept = {k.target: k for k in plan.kept}
    assert kept[str(stray)].reason is Reason.UNREFERENCED_CACHE
    assert kept[str(stray)].detail == ("no imported project references this provider cache file, "
                                       "so it may still be needed")
    assert workspace.path("assets/cache/pexels/1.mp4").as_posix() in {i.target for i in plan.items}
    execute_plan(catalog, plan.id)
    assert stray.exists()


def test_reference_the_layout_does_not_match_is_still_cleaned(workspace, catalog):
    """The database's word counts even where the profile's patterns do not match (here: a subfolder)."""
    workspace.add_project("p1")
    take = workspace.media.copy("mp3", workspace.path(".cache/audio/p1/takes/scene-1-take2.mp3"))
    unreferenced = workspace.media.copy("mp3", workspace.path(".cache/audio/p1/takes/scene-1-take3.mp3"))
    import_generator_db(catalog, workspace.write_db(extra_audio=[("p1", ".cache/audio/p1/takes/scene-1-take2.mp3")]),
                        workspace.root)
    project = list_projects(catalog)[0]
    plan = load_plan(catalog, plan_cleanup(catalog, [project.id]))
    planned = {i.target: i for i in plan.items}
    assert planned[str(take)].rule == "scene audio listed by the generator"
    assert str(unreferenced) not in planned
    execute_plan(catalog, plan.id)
    assert not take.exists() and unreferenced.exists()


def test_workspace_named_through_a_link(workspace, catalog, tmp_path):
    """The generator knows its workspace by a linked path: absolute references through that path count as inside."""
    workspace.add_project("p1")
    alias = tmp_path / "alias"
    os.symlink(workspace.root, alias)
    extra = workspace.media.copy("mp3", workspace.path("renders/p1-mix.mp3"))
    db = workspace.write_db(extra_audio=[("p1", str(alias / "renders/p1-mix.mp3"))])
    result = import_generator_db(catalog, db, alias)
    assert result.outside_root == []
    project = list_projects(catalog)[0]
    assert project.root == str(workspace.root.resolve())
    execute_plan(catalog, plan_cleanup(catalog, [project.id]))
    assert not extra.exists() and workspace.path(".cache/output/p1/final.mp4").exists()
