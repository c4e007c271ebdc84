"""F3's local delete goes through the one guarded delete path (invariants 3, 11, 16): real files, real links,
a real store. A proved upload never deletes a protected artifact (by identity: a hard link of a final render is
the final render), never follows a folder swapped for a link, and a move to the trash is reported as moved."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.s3.remote import add_remote, make_client
from mediaclean_gui.core.s3.upload import execute_upload_plan, plan_upload

pytestmark = pytest.mark.s3


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_keys(s3, bucket: str) -> set[str]:
    client = s3.client()
    return {o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


def test_a_hard_link_of_a_final_render_is_uploaded_but_its_local_copy_kept(catalog, s3_env, bucket, mv_workspace,
                                                                           workspace):
    """The mv back end's output folder holds a hard link of another project's final render: the upload is
    proved, but the guarded delete path sees the final render's identity and keeps the file."""
    workspace.add_project("p1", "Ocean", scenes=1)
    import_generator_db(catalog, workspace.write_db(), workspace.root)
    final = workspace.path(".cache/output/p1/final.mp4")
    final_bytes = final.read_bytes()
    rels = mv_workspace.job("v1", image=False)
    linked = mv_workspace.path("backend/mv/outputs/videos/render/final-copy.mp4")
    linked.parent.mkdir(parents=True)
    os.link(final, linked)
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    catalog.set_pref("remove_empty_folders", True)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id)

    assert result.status == "complete", result.as_json()
    kept = {s["target"]: s["reason"] for s in result.skipped}
    assert kept[str(linked)].startswith("protected: the final of project 'Ocean'"), kept
    assert kept[str(linked)].endswith("uploaded and verified, the local file is kept")
    assert final.read_bytes() == final_bytes and linked.exists() and os.stat(linked).st_ino == os.stat(final).st_ino
    assert linked.parent.is_dir()  # the folder holding it stays
    # the upload itself was proved; the other outputs went
    assert "gen/mv/outputs/videos/render/final-copy.mp4" in stored_keys(s3_env, bucket)
    assert not any(mv_workspace.path(r).exists() for r in rels)
    assert result.deleted_count == len(rels)
    row = catalog.conn.execute("SELECT status FROM uploads WHERE key = ?",
                               ("gen/mv/outputs/videos/render/final-copy.mp4",)).fetchone()
    assert row["status"] == "verified"  # not deleted locally ...
    assert catalog.conn.execute("SELECT count(*) FROM only_copies WHERE key = ?",
                                ("gen/mv/outputs/videos/render/final-copy.mp4",)).fetchone()[0] == 0  # ... no only copy
    outcome = catalog.conn.execute(
        "SELECT ri.outcome, ri.freed_bytes FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
        "WHERE ri.run_id = ? AND pi.target = ?", (result.run_id, os.fsencode(str(linked)))).fetchone()
    assert tuple(outcome) == ("skipped", 0)


def test_trash_mode_after_upload_reports_moved_not_freed(cli, s3_env, bucket, mv_workspace, catalog_path):
    """A move to a trash on the same file system frees nothing (invariant 16): the result says moved."""
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", image=False)
    sizes = sum(mv_workspace.path(r).stat().st_size for r in rels)
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--prefix", "gen")[0] == 0
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes", "--trash")
    assert code == 0, out
    assert out["mode"] == "trash"
    assert out["trashed_count"] == len(rels) and out["trashed_bytes"] == sizes
    assert out["deleted_count"] == 0 and out["freed_bytes"] == 0 and out["deleted_size_mb"] == 0
    assert f"moved {len(rels)} local files ({sizes / 1e6:.2f} MB) to the trash" in out["summary"]
    assert "freed" not in out["summary"]
    assert {d["outcome"] for d in out["deleted_local"]} == {"trashed"}
    assert not any(mv_workspace.path(r).exists() for r in rels)
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash")
    infos = os.listdir(os.path.join(trash, "info"))
    for rel in rels:  # each file is in the trash with its original path recorded
        name = os.path.basename(rel)
        assert any(i.startswith(name.rsplit(".", 1)[0]) for i in infos), (name, infos)
    db = sqlite3.connect(catalog_path)
    try:
        outcomes = {r[0] for r in db.execute("SELECT outcome FROM run_items WHERE run_id = ?", (out["run_id"],))}
        run = db.execute("SELECT trashed_count, freed_bytes FROM runs WHERE id = ?", (out["run_id"],)).fetchone()
        only = db.execute("SELECT count(*) FROM only_copies").fetchone()[0]
    finally:
        db.close()
    assert outcomes == {"trashed"} and run == (len(rels), 0)
    assert only == len(rels)  # the store's objects are the copies mediaclean keeps: no sweep deletes them


def test_a_folder_swapped_for_a_link_after_the_upload_is_not_followed(catalog, s3_env, bucket, mv_workspace,
                                                                      tmp_path):
    """Between the proof and the delete, the job folder is moved away and a link to it put in its place:
    nothing is deleted through the link (invariant 2), and the files are still where the link points."""
    rels = mv_workspace.job("v1")
    folder = mv_workspace.path("backend/mv/outputs/jobs/v1")
    elsewhere = tmp_path / "elsewhere"
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    remote = add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url, prefix="gen")
    catalog.set_pref("upload_concurrency", 1)
    client = make_client(remote)
    swapped: list[bool] = []

    def swap(**kwargs):
        if not swapped:  # after the first object is stored, before any local file is deleted
            os.rename(folder, elsewhere)
            os.symlink(elsewhere, folder)
            swapped.append(True)

    client.meta.events.register("after-call.s3.PutObject", swap)
    plan_id = plan_upload(catalog, pid, "store", delete_after_upload=True)
    result = execute_upload_plan(catalog, plan_id, client=client)
    assert swapped
    assert result.deleted_count == 0, result.as_json()
    for rel in rels:
        assert (elsewhere / os.path.basename(rel)).read_bytes() and sha(
            (elsewhere / os.path.basename(rel)).read_bytes()) == mv_workspace.digests[rel]
    reasons = {s["reason"] for s in result.skipped}
    assert reasons and all(r.startswith(("not reached safely", "changed since")) for r in reasons), reasons
    assert os.path.islink(folder)
    assert catalog.conn.execute("SELECT count(*) FROM only_copies").fetchone()[0] == 0


def test_reconcile_keeps_the_only_copy_record_when_another_file_took_the_path(catalog, s3_env, bucket, mv_workspace):
    """A run killed between recording an object as the only copy and settling its deletion: at the next start,
    the record is dropped only when the very file planned (same st_dev/st_ino) is still at its path. Another
    file there (the pipeline wrote a new one) may mean the planned one is gone, so its object stays protected."""
    from mediaclean_gui.core.catalog import iso
    from mediaclean_gui.core.s3.local_copies import reconcile_interrupted_uploads
    from mediaclean_gui.core.s3.protections import record_only_copy

    rels = mv_workspace.job("v1", image=False)
    pid = add_project(catalog, mv_workspace.root, "mv-backend", name="mv")[0]
    add_remote(catalog, "store", bucket, endpoint_url=s3_env.endpoint_url)
    result = execute_upload_plan(catalog, plan_upload(catalog, pid, "store", delete_after_upload=False))
    assert result.status == "complete" and len(rels) >= 2, result.as_json()
    same, replaced = (str(mv_workspace.path(r)) for r in rels[:2])
    # the state a SIGKILL leaves: the run running, its items pending, only-copy records written for both files
    with catalog.transaction() as conn:
        conn.execute("UPDATE runs SET status = 'running' WHERE id = ?", (result.run_id,))
        conn.execute("UPDATE run_items SET outcome = 'pending' WHERE run_id = ?", (result.run_id,))
        for path in (same, replaced):
            upload_id = conn.execute("SELECT id FROM uploads WHERE path = ?", (os.fsencode(path),)).fetchone()[0]
            record_only_copy(catalog, upload_id, iso())
    new = replaced + ".new"
    with open(new, "wb") as f:
        f.write(b"a newer render the pipeline wrote")
    os.replace(new, replaced)

    assert reconcile_interrupted_uploads(catalog) == [result.run_id]
    kept = {os.fsdecode(r[0]) for r in catalog.conn.execute("SELECT path FROM only_copies")}
    assert kept == {replaced}
    outcome = dict(catalog.conn.execute(
        "SELECT pi.target, ri.outcome || ': ' || ri.detail FROM run_items ri JOIN plan_items pi "
        "ON pi.id = ri.plan_item_id WHERE ri.run_id = ?", (result.run_id,)).fetchall())
    assert outcome[os.fsencode(replaced)].startswith("skipped: not done: the run was interrupted, and another file")
    assert outcome[os.fsencode(same)].startswith("uploaded: ")
