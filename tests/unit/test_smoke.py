"""A first end-to-end check through the CLI on a real workspace."""

from pathlib import Path


def test_import_preview_and_clean(workspace, cli):
    workspace.add_project("p1", "Alpha", caches=[("pexels", "1")])
    workspace.add_project("p2", "Beta", final=False, caches=[("pexels", "1")])
    db = workspace.write_db()
    code, out = cli("project", "import-db", db, "--workspace", workspace.root)
    assert code == 0 and out["imported"] == 2
    code, plan = cli("clean", "Alpha")
    assert code == 0 and plan["dry_run"] is True
    targets = {Path(i["target"]).name for i in plan["items"]}
    assert "scene-1.mp3" in targets and "final.mp4" not in targets
    reasons = {Path(k["target"]).name: k["reason"] for k in plan["skipped"]}
    assert reasons["1.mp4"] == "referenced by another project"
    assert reasons["final.mp4"] == "protected"
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    code, run = cli("clean", "--plan", plan["plan_id"], "--yes")
    assert code == 0, run
    assert run["dry_run"] is False and run["cleanup_status"] == "complete"
    assert not workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    assert not workspace.path(".cache/assembly/p1").exists()
    assert workspace.path(".cache/output/p1/final.mp4").exists()
    assert workspace.path("assets/cache/pexels/1.mp4").exists()
    code, refused = cli("clean", "Beta")
    assert code == 3 and refused["skipped"][0]["reason"] == "final output missing"
