"""Safety invariants of SPEC section 3 on real files: links, mounts, changes after the preview, failures,
names that are not UTF-8 (the catalog, limit and stored-plan invariants are in test_catalog/test_execute)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.history import run_items
from mediaclean_gui.core.plan import Reason, load_plan
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.safety import DirFds, UnsafePath, fingerprint, fingerprint_matches, is_within


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links not followed) with a digest of its content or link text."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                out[os.path.relpath(path, root)] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                out[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            else:
                out[os.path.relpath(path, root)] = "dir"
    return out


@pytest.fixture
def outside(tmp_path: Path, media_pool) -> Path:
    """A folder next to the workspace, full of real media named like intermediates."""
    folder = tmp_path / "outside"
    media_pool.copy("mp4", folder / "video.mp4")
    media_pool.copy("mp3", folder / "audio.mp3")
    for n in (1, 2, 9):
        media_pool.copy("mp3", folder / "scenes" / f"scene-{n}.mp3")
    media_pool.copy("mp4", folder / "dir" / "part-0.mp4")
    media_pool.copy("jpg", folder / "dir" / "deeper" / "frame.jpg")
    return folder


# ---------------------------------------------------------------- invariant 2: links and mounts


def test_links_where_intermediates_live_are_removed_never_followed(workspace, catalog, imported, outside):
    workspace.add_project("p1", caches=[("pexels", "linked")])
    asm = workspace.path(".cache/assembly/p1")
    os.symlink(outside / "video.mp4", asm / "link-to-file.mp4")
    os.symlink(outside / "dir", asm / "link-to-folder")
    os.symlink(outside / "audio.mp3", workspace.path(".cache/audio/p1/scene-9.mp3"))
    cache = workspace.path("assets/cache/pexels/linked.mp4")
    cache.unlink()
    os.symlink(outside / "video.mp4", cache)
    before = snapshot(outside)
    projects = imported()

    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    links = {str(asm / "link-to-file.mp4"), str(asm / "link-to-folder"),
             str(workspace.path(".cache/audio/p1/scene-9.mp3")), str(cache)}
    planned = {i.target: i for i in plan.items}
    for link in links:
        assert planned[link].fingerprint["kind"] == "link"
        assert planned[link].rule.endswith("(a symbolic link: only the link is removed, never its target)")
    assert not any(t.startswith(str(outside)) for t in planned)

    result = execute_plan(catalog, plan.id)

    assert not result.failed
    assert snapshot(outside) == before
    for link in links:
        assert not os.path.lexists(link)
    assert not asm.exists()


@pytest.mark.parametrize("linked", [".cache/audio/p1", ".cache/assembly/p1", ".cache/videos", ".cache"])
def test_a_linked_project_folder_is_never_entered(workspace, catalog, imported, outside, linked):
    workspace.add_project("p1", caches=[("pexels", "own")])
    if linked == ".cache":
        # keep the final reachable through the link so the project is not refused: nothing under .cache goes anyway
        shutil.copytree(workspace.path(".cache"), outside / "cache-copy", symlinks=True)
        shutil.rmtree(workspace.path(".cache"))
        os.symlink(outside / "cache-copy", workspace.path(".cache"))
    else:
        shutil.rmtree(workspace.path(linked))
        os.symlink(outside / "scenes", workspace.path(linked))
    before = snapshot(outside)
    projects = imported()

    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    kept = {k.target: k for k in plan.kept}
    assert kept[str(workspace.path(linked))].reason is Reason.SYMLINK
    assert kept[str(workspace.path(linked))].detail == f"the folder {linked} is a symbolic link; it is not followed"
    for item in plan.items:
        assert not item.target.startswith(str(workspace.path(linked)) + "/"), item.target
        assert item.target != str(workspace.path(linked))
    # the database's references below the link are kept back too
    if linked == ".cache/audio/p1":
        assert kept[str(workspace.path(".cache/audio/p1/scene-1.mp3"))].reason is Reason.SYMLINK

    execute_plan(catalog, plan.id)

    assert snapshot(outside) == before
    assert os.path.islink(workspace.path(linked))
    assert not workspace.path("assets/cache/pexels/own.mp4").exists()


def test_folder_swapped_for_a_link_after_the_preview(workspace, catalog, imported, tmp_path):
    workspace.add_project("p1", scenes=2)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    # between preview and confirm, the audio folder moves out and a link to it takes its place
    moved = tmp_path / "moved-audio"
    shutil.move(workspace.path(".cache/audio/p1"), moved)
    os.symlink(moved, workspace.path(".cache/audio/p1"))
    before = snapshot(moved)

    result = execute_plan(catalog, plan.id)

    got = {i["target"]: (i["outcome"], i["detail"]) for i in run_items(catalog, result.run_id)}
    for n in (1, 2):
        target = str(workspace.path(f".cache/audio/p1/scene-{n}.mp3"))
        assert got[target] == ("skipped", "not reached safely: '.cache/audio/p1' is no longer a folder "
                                          "(a symbolic link or a file)")
    assert snapshot(moved) == before
    assert not workspace.path(".cache/videos/p1/scene-1-seg.mp4").exists()


def test_file_swapped_for_a_link_after_the_preview(workspace, catalog, imported, outside):
    workspace.add_project("p1", scenes=1)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    target = workspace.path(".cache/audio/p1/scene-1.mp3")
    target.unlink()
    os.symlink(outside / "audio.mp3", target)
    before = snapshot(outside)
    result = execute_plan(catalog, plan.id)
    got = {i["target"]: (i["outcome"], i["detail"]) for i in run_items(catalog, result.run_id)}
    assert got[str(target)] == ("skipped", "changed since preview")
    assert os.path.islink(target) and snapshot(outside) == before


@pytest.fixture
def tmpfs(tmp_path: Path):
    """Mount a small tmpfs somewhere below tmp_path (skips when mounting is not allowed here)."""
    mounted: list[Path] = []

    def mount(where: Path) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("no mount command")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_mount_points_are_not_crossed(workspace, catalog, imported, tmpfs):
    workspace.add_project("p1")
    mnt = tmpfs(workspace.path(".cache/assembly/p1/mnt"))
    workspace.media.copy("mp4", mnt / "on-another-fs.mp4")
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    kept = {k.target: k for k in plan.kept}
    assert kept[str(mnt)].reason is Reason.MOUNT_POINT
    assert not any(i.target.startswith(str(mnt)) for i in plan.items)
    result = execute_plan(catalog, plan.id)
    assert (mnt / "on-another-fs.mp4").exists()
    assert not workspace.path(".cache/assembly/p1/part-0.mp4").exists()
    # the folder holding the mount point is not planned for removal at all, and stays
    assert str(workspace.path(".cache/assembly/p1")) not in {i.target for i in plan.items}
    assert workspace.path(".cache/assembly/p1").is_dir() and result.status == "complete"


def test_dirfds_refuses_links_mounts_and_outside(tmp_path):
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_text("x")
    os.symlink(tmp_path, root / "link")
    with DirFds(str(root)) as dirs:
        fd, name = dirs.parent_of(str(root / "a" / "b" / "f"))
        assert name == "f" and os.stat(name, dir_fd=fd).st_size == 1
        with pytest.raises(UnsafePath, match="is no longer a folder"):
            dirs.parent_of(str(root / "link" / "root" / "a"))
        with pytest.raises(UnsafePath, match="outside root"):
            dirs.parent_of(str(tmp_path / "elsewhere"))
        with pytest.raises(UnsafePath, match="outside root"):
            dirs.parent_of(str(root / ".." / "root-sibling"))
        with pytest.raises(UnsafePath, match="outside root"):
            dirs.parent_of(str(root))
        with pytest.raises(FileNotFoundError):
            dirs.parent_of(str(root / "gone" / "f"))


def test_is_within_is_lexical_and_exact():
    assert is_within("/w/a/b", "/w")
    assert is_within("/w", "/w/")
    assert not is_within("/w2/a", "/w")
    assert not is_within("/w/../x", "/w")
    assert is_within("/w/a/../b", "/w")


def test_fingerprint_sees_size_mtime_and_identity(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    fp = fingerprint(os.lstat(path))
    assert fingerprint_matches(fp, os.lstat(path))
    st = os.lstat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert not fingerprint_matches(fp, os.lstat(path))  # same size, newer mtime
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint_matches(fp, os.lstat(path))
    path.unlink()
    path.write_bytes(b"abc")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = os.lstat(path)
    assert fingerprint_matches(fp, again) == (again.st_ino == st.st_ino)  # a new file (new inode) is another file


# ---------------------------------------------------------------- invariant 4: changes after the preview


@pytest.mark.parametrize("change", ["size", "mtime", "replaced"])
def test_file_changed_between_preview_and_confirm_is_skipped(workspace, catalog, imported, change):
    workspace.add_project("p1", scenes=2)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    target = workspace.path(".cache/audio/p1/scene-1.mp3")
    st = target.stat()
    if change == "size":
        target.write_bytes(target.read_bytes() + b"more")
    elif change == "mtime":
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    else:  # an editor's save: a new file renamed over the old one
        fresh = target.with_suffix(".tmp")
        workspace.media.copy("mp4", fresh)
        os.replace(fresh, target)

    result = execute_plan(catalog, plan.id)

    got = {i["target"]: (i["outcome"], i["detail"]) for i in run_items(catalog, result.run_id)}
    assert got[str(target)] == ("skipped", "changed since preview")
    assert target.exists()
    assert {"target": str(target), "reason": "changed since preview"} in result.skipped
    assert not workspace.path(".cache/audio/p1/scene-2.mp3").exists()
    assert result.status == "complete"


def test_file_removed_meanwhile_is_already_gone(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2)
    projects = imported()
    plan = load_plan(catalog, plan_cleanup(catalog, [projects["p1"].id]))
    size = next(i.size for i in plan.items if i.target.endswith("scene-1.mp3"))
    workspace.path(".cache/audio/p1/scene-1.mp3").unlink()
    shutil.rmtree(workspace.path(".cache/assembly/p1"))  # a whole folder of the plan, too
    result = execute_plan(catalog, plan.id)
    outcomes = {os.path.relpath(i["target"], workspace.root): i["outcome"] for i in run_items(catalog, result.run_id)}
    assert outcomes[".cache/audio/p1/scene-1.mp3"] == "already_gone"
    assert outcomes[".cache/assembly/p1/part-0.mp4"] == "already_gone"
    assert outcomes[".cache/assembly/p1"] == "already_gone"
    assert result.already_gone == 4 and result.deleted_count == 4
    assert result.freed_bytes == sum(i.size for i in plan.items) - size - sum(
        i.size for i in plan.items if "/assembly/" in i.target)
    assert result.status == "complete"


# ---------------------------------------------------------------- invariant 5: one failure never stops the run


def test_undeletable_file_fails_and_the_rest_go_on(workspace, catalog, imported, undeletable, cli):
    workspace.add_project("p1", scenes=2)
    stuck = workspace.media.copy("mp3", workspace.path(".cache/audio/p1/locked/scene-1.mp3"))
    # the database points at the file inside the read-only folder
    projects_db = workspace.write_db(extra_audio=[("p1", ".cache/audio/p1/locked/scene-1.mp3")])
    code, _ = cli("project", "import-db", projects_db, "--workspace", workspace.root)
    assert code == 0
    undeletable(stuck.parent)

    code, out = cli("clean", "p1", "--yes")

    assert code == 1
    assert [f["target"] for f in out["failed"]] == [str(stuck)]
    assert out["failed"][0]["error"] in ("Operation not permitted", "Permission denied", "Read-only file system")
    assert out["cleanup_status"] == "failed"
    assert stuck.exists()
    assert out["deleted_count"] == 7
    for rel in (".cache/audio/p1/scene-1.mp3", ".cache/audio/p1/scene-2.mp3", ".cache/videos/p1/scene-1-seg.mp4",
                ".cache/assembly/p1/part-0.mp4", "assets/cache/pexels/p1-own.mp4"):
        assert not workspace.path(rel).exists(), rel
    assert workspace.path(".cache/output/p1/final.mp4").exists()
    code, history = cli("history")
    assert history["runs"][0]["status"] == "failed" and history["runs"][0]["failed_count"] == 1


# ---------------------------------------------------------------- names that are not UTF-8


@pytest.mark.parametrize("mode", ["permanent", "trash"])
def test_non_utf8_file_name(workspace, catalog, imported, cli, mode):
    workspace.add_project("p1", scenes=1)
    raw = os.fsencode(workspace.path(".cache/assembly/p1")) + b"/scene-\xff.mp4"
    with open(raw, "wb") as fh:
        fh.write(workspace.media.video.read_bytes())
    projects = imported()
    shown = str(workspace.path(".cache/assembly/p1")) + "/scene-\ufffd.mp4"

    code, preview = cli("clean", projects["p1"].id)  # planned, and shown with U+FFFD
    assert code == 0
    assert shown in {i["target"] for i in preview["items"]}
    stored = catalog.conn.execute("SELECT target FROM plan_items WHERE plan_id = ? AND target = ?",
                                  (preview["plan_id"], raw)).fetchall()
    assert len(stored) == 1  # the exact bytes are in the catalog

    args = ["--trash"] if mode == "trash" else []
    code, run = cli("clean", "--plan", preview["plan_id"], "--yes", *args)

    assert code == 0, run
    assert not os.path.lexists(raw)
    recorded = {i["target"]: i["outcome"] for i in run_items(catalog, run["run_id"])}
    assert recorded[shown] == ("trashed" if mode == "trash" else "deleted")
    assert run["deleted_count" if mode != "trash" else "trashed_count"] == 6
    if mode == "trash":
        trash = Path(os.environ["XDG_DATA_HOME"]) / "Trash" / "files"
        assert any(name.endswith(b".mp4") and b"\xff" in name for name in os.listdir(os.fsencode(trash)))


def test_non_utf8_name_in_the_text_output(workspace, catalog, imported, capsys):
    from mediaclean_gui.cli import main

    workspace.add_project("p1", scenes=1)
    with open(os.fsencode(workspace.path(".cache/assembly/p1")) + b"/scene-\xfe.mp4", "wb") as fh:
        fh.write(b"data")
    projects = imported()
    assert main(["--catalog", str(catalog.path), "clean", str(projects["p1"].id)]) == 0
    assert "/scene-\ufffd.mp4" in capsys.readouterr().out


def test_non_utf8_project_folder_is_skipped_not_crashed(tmp_path, catalog, media_pool):
    root = tmp_path / "ws"
    media_pool.copy("mp3", root / ".cache" / "audio" / "good" / "scene-1.mp3")
    os.makedirs(os.fsencode(root) + b"/.cache/audio/bad\xff")
    ids = add_project(catalog, root, "ai-video-generator")
    assert len(ids) == 1


def test_fingerprint_matches_is_exactly_equality(tmp_path):
    """The fast comparison agrees with ``fingerprint(st) == expected`` for files, folders and links."""
    (tmp_path / "f").write_bytes(b"abc")
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "f", tmp_path / "l")
    stats = [os.lstat(tmp_path / n) for n in ("f", "d", "l")]
    for st in stats:
        good = fingerprint(st)
        variants = [good, {**good, "extra": 1}, {k: v for k, v in good.items() if k != "ino"},
                    {**good, "ino": good["ino"] + 1}, {**good, "kind": "file"}, {**good, "size": 10**9},
                    {**good, "mtime_ns": 1}, {}]
        for expected in variants:
            for other in stats:
                assert fingerprint_matches(expected, other) == (fingerprint(other) == expected)
