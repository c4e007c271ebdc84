"""F7 (seed 000): files in output folders that the catalog does not know, older than a threshold."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from mediaclean_gui.core.catalog import iso, to_db_path
from mediaclean_gui.core.errors import NotFound
from mediaclean_gui.core.orphans import claimed_paths, output_folders, plan_orphans
from mediaclean_gui.core.plan import load_plan
from mediaclean_gui.core.profiles import Role, get_profile
from mediaclean_gui.core.projects import add_project, get_project, replace_artifacts

HOUR = 3600.0


def put(path: Path, data: bytes, hours_old: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    when = time.time() - hours_old * HOUR
    os.utime(path, (when, when))
    return path


def record_upload(catalog, path: Path) -> None:
    """An uploads row for ``path`` (F3's table from migration 0002, or a minimal one if this build lacks it)."""
    conn = catalog.conn
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='uploads'").fetchone():
        conn.execute("CREATE TABLE uploads (id INTEGER PRIMARY KEY, path BLOB NOT NULL)")
    columns = conn.execute("PRAGMA table_info(uploads)").fetchall()
    values: dict[str, object] = {"path": to_db_path(path)}
    if any(c[1] == "remote_id" for c in columns):
        cur = conn.execute("INSERT INTO remotes(name, bucket, created_at) VALUES ('orphans-test', 'clips', ?)",
                           (iso(),))
        values["remote_id"] = cur.lastrowid
    for _, name, kind, notnull, default, pk in columns:
        if name in values or pk or not notnull or default is not None:
            continue
        values[name] = 0 if "INT" in kind.upper() or "REAL" in kind.upper() else ""
    try:
        conn.execute(f"INSERT INTO uploads({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                     tuple(values.values()))
    except sqlite3.IntegrityError as exc:
        pytest.skip(f"cannot add a row to this build's uploads table by hand ({exc})")


@pytest.fixture
def backend(tmp_path, catalog, media_pool):
    """An mv-backend workspace (seed 000): outputs catalogued, uploaded, orphaned old and new."""
    root = tmp_path / "backend-ws"
    out = root / "backend" / "mv" / "outputs"
    files = {
        "catalogued": put(out / "jobs" / "v1" / "video.mp4", media_pool.video.read_bytes(), 72),
        "uploaded": put(out / "videos" / "scene_3.mp4", media_pool.video.read_bytes(), 72),
        "orphan_old": put(out / "audio" / "tts_17.mp3", media_pool.audio.read_bytes(), 72),
        "orphan_job": put(out / "jobs" / "v9" / "metadata.json", b'{"id": "v9"}', 50),
        "orphan_new": put(out / "videos" / "scene_4.mp4", media_pool.video.read_bytes(), 1),
        "elsewhere": put(root / "backend" / "mv" / "inputs" / "upload.mp4", media_pool.video.read_bytes(), 500),
    }
    [pid] = add_project(catalog, root, "mv-backend", name="Backend")
    replace_artifacts(catalog, pid, "user", [(str(files["catalogued"]), Role.OUTPUT, "known output")])
    record_upload(catalog, files["uploaded"])
    return pid, root, files


def test_output_folders_come_from_output_final_and_thumbnail_rules():
    assert output_folders(get_profile("mv-backend"), None) == ["backend/mv/outputs"]
    assert output_folders(get_profile("ai-video-generator"), "p1") == [".cache/output/p1"]
    assert output_folders(get_profile("render-temp"), None) == []


def test_orphans_vs_catalogued_and_uploaded_files(catalog, backend):
    pid, root, files = backend
    assert str(files["catalogued"]) in claimed_paths(catalog)
    assert str(files["uploaded"]) in claimed_paths(catalog)
    plan = load_plan(catalog, plan_orphans(catalog, [pid], older_than_hours=24))
    assert plan.kind == "orphans" and plan.status == "ready"
    targets = {Path(i.target) for i in plan.items}
    assert targets == {files["orphan_old"], files["orphan_job"]}
    for item in plan.items:
        assert item.group == "orphans" and item.project_id == pid and item.action.value == "delete_file"
        assert item.rule.startswith("not known to the catalog and not uploaded")
    kept = {Path(k.target): k for k in plan.kept}
    assert kept[files["orphan_new"]].reason.value == "newer than the retention period"
    assert "orphans go only after 24 h" in kept[files["orphan_new"]].detail
    assert files["catalogued"] not in kept and files["uploaded"] not in kept

    wider = load_plan(catalog, plan_orphans(catalog, [pid], older_than_hours=0.5))
    assert {Path(i.target) for i in wider.items} == {files["orphan_old"], files["orphan_job"], files["orphan_new"]}


def test_final_and_thumbnail_are_never_orphans(catalog, workspace):
    workspace.add_project("p1", "Alpha")
    stray = put(workspace.path(".cache/output/p1/final-v1-old.mp4"), b"an earlier render", 100)
    for rel in (".cache/output/p1/final.mp4", ".cache/output/p1/final-thumb.jpg"):
        when = time.time() - 100 * HOUR
        os.utime(workspace.path(rel), (when, when))
    [pid] = add_project(catalog, workspace.root, "ai-video-generator", external_id="p1")
    plan = load_plan(catalog, plan_orphans(catalog, [pid], older_than_hours=24))
    assert [Path(i.target) for i in plan.items] == [stray]
    protected = {Path(k.target).name: k.reason.value for k in plan.kept}
    assert protected == {"final.mp4": "protected", "final-thumb.jpg": "protected"}
    assert not any(".cache/audio" in i.target for i in plan.items), "intermediates are not output folders"


def test_links_in_output_folders_are_kept_and_not_followed(catalog, backend, tmp_path):
    pid, root, files = backend
    elsewhere = put(tmp_path / "elsewhere" / "mine.mp4", b"not in the workspace", 100)
    link = root / "backend" / "mv" / "outputs" / "audio" / "linked"
    link.symlink_to(elsewhere.parent, target_is_directory=True)
    plan = load_plan(catalog, plan_orphans(catalog, [pid], older_than_hours=24))
    assert {k.reason.value for k in plan.kept if Path(k.target) == link} == {"symbolic link"}
    assert not any(i.target.startswith(str(link)) for i in plan.items)


def test_cli_orphans_preview_then_delete_only_orphans(cli, catalog, backend):
    pid, root, files = backend
    code, dry = cli("orphans", "Backend", "--older-than-hours", "24")
    assert code == 0 and dry["dry_run"] is True and dry["deleted_count"] == 2
    assert all(i["group"] == "orphans" for i in dry["items"])
    assert files["orphan_old"].exists()
    code, run = cli("orphans", "--plan", dry["plan_id"], "--yes")
    assert code == 0 and run["deleted_count"] == 2, run
    assert not files["orphan_old"].exists() and not files["orphan_job"].exists()
    for key in ("catalogued", "uploaded", "orphan_new", "elsewhere"):
        assert files[key].exists(), key
    assert get_project(catalog, pid).cleanup_status == "pending", "an orphan sweep is not a project cleanup"
    code, out = cli("orphans")
    assert code == 2 and "Name one PROJECT" in out["error"]


def test_unknown_project(catalog):
    with pytest.raises(NotFound):
        plan_orphans(catalog, [999])
