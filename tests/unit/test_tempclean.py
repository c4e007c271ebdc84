"""F6 (seed 003): cleanup_temp_path edge cases, and orphaned render temp folders through plan → execute."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import pytest

from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.plan import load_plan
from mediaclean_gui.core.tempclean import TempOutcome, cleanup_temp_path, plan_temp

HOUR = 3600.0


class Events(logging.Handler):
    """Collects the structured events of ``mediaclean.fs`` (independent of the CLI's logging setup)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def named(self, event: str) -> list[dict]:
        return [r.fields for r in self.records if getattr(r, "event", None) == event]


@pytest.fixture
def events():
    logger = logging.getLogger("mediaclean.fs")
    handler = Events()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def write(path: Path, data: bytes = b"x" * 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def age(path: Path, hours: float) -> None:
    """Set the mtime of ``path`` and everything in it to ``hours`` ago (contents first, then folders)."""
    when = time.time() - hours * HOUR
    if path.is_dir() and not path.is_symlink():
        for dirpath, dirnames, filenames in os.walk(path, topdown=False):
            for name in filenames + dirnames:
                os.utime(os.path.join(dirpath, name), (when, when), follow_symlinks=False)
    os.utime(path, (when, when), follow_symlinks=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "tmp-root"
    r.mkdir()
    return r


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    o = tmp_path / "outside"
    write(o / "precious.mp4", b"only copy")
    return o


# ---------------------------------------------------------------- cleanup_temp_path


def test_removes_a_folder_and_is_idempotent(root, events):
    folder = root / "concatenate_ab12"
    write(folder / "segment_0.mp4", b"a" * 1000)
    write(folder / "nested" / "list.txt", b"b" * 24)
    first = cleanup_temp_path(folder, root)
    assert first.outcome is TempOutcome.REMOVED and first.kind == "dir"
    assert (first.files_removed, first.bytes_freed) == (2, 1024)
    assert not folder.exists() and root.exists()
    again = cleanup_temp_path(folder, root)
    assert again.outcome is TempOutcome.ALREADY_GONE and again.ok and again.bytes_freed == 0
    assert events.named("temp_path_removed")[0]["files"] == 2
    assert events.named("temp_path_not_found") == [{"path": str(folder)}]


def test_a_file_instead_of_a_folder(root):
    f = write(root / "trim_out.mp4", b"z" * 10)
    done = cleanup_temp_path(f, root)
    assert done.outcome is TempOutcome.REMOVED and done.kind == "file" and done.bytes_freed == 10
    assert not f.exists()


def test_already_gone_never_raises_even_when_its_folder_is_gone(root):
    assert cleanup_temp_path(root / "intro_x" / "deep" / "f.mp4", root).outcome is TempOutcome.ALREADY_GONE
    assert cleanup_temp_path(root / "never_existed", root).outcome is TempOutcome.ALREADY_GONE


def test_refuses_a_path_outside_the_root(root, outside, events):
    done = cleanup_temp_path(outside / "precious.mp4", root)
    assert done.outcome is TempOutcome.REFUSED and not done.ok
    assert "outside the temp root" in done.error
    assert (outside / "precious.mp4").read_bytes() == b"only copy"
    assert events.named("temp_path_refused")[0]["reason"].startswith("it is outside the temp root")


def test_refuses_dotdot_that_leaves_the_root(root, outside):
    (root / "intro_1").mkdir()
    sneaky = f"{root}/intro_1/../../outside"
    done = cleanup_temp_path(sneaky, root)
    assert done.outcome is TempOutcome.REFUSED
    assert (outside / "precious.mp4").exists()
    assert cleanup_temp_path("../outside/precious.mp4", root).outcome is TempOutcome.REFUSED
    assert (outside / "precious.mp4").exists()


def test_dotdot_that_stays_inside_is_resolved(root):
    write(root / "trim_2" / "a.mp4")
    done = cleanup_temp_path(f"{root}/intro_1/../trim_2", root)
    assert done.outcome is TempOutcome.REMOVED and done.path == str(root / "trim_2")
    assert not (root / "trim_2").exists()


def test_refuses_the_root_itself(root):
    write(root / "trim_3" / "a.mp4")
    assert cleanup_temp_path(root, root).outcome is TempOutcome.REFUSED
    assert cleanup_temp_path(f"{root}/trim_3/..", root).error == "Refused: it is the temp root itself."
    assert (root / "trim_3" / "a.mp4").exists()


def test_a_link_pointing_out_is_removed_as_a_link(root, outside):
    link = root / "demo_link"
    link.symlink_to(outside, target_is_directory=True)
    done = cleanup_temp_path(link, root)
    assert done.outcome is TempOutcome.REMOVED and done.kind == "link"
    assert not os.path.lexists(link)
    assert (outside / "precious.mp4").read_bytes() == b"only copy"


def test_a_link_inside_a_folder_is_not_followed(root, outside):
    folder = root / "persona_9"
    write(folder / "frame.png")
    (folder / "escape").symlink_to(outside, target_is_directory=True)
    done = cleanup_temp_path(folder, root)
    assert done.outcome is TempOutcome.REMOVED and done.files_removed == 2
    assert not folder.exists()
    assert (outside / "precious.mp4").read_bytes() == b"only copy"


def test_refuses_a_path_whose_parent_chain_leaves_the_root_via_a_link(root, outside):
    (root / "closing_lnk").symlink_to(outside, target_is_directory=True)
    done = cleanup_temp_path(root / "closing_lnk" / "precious.mp4", root)
    assert done.outcome is TempOutcome.REFUSED and "outside the temp root" in done.error
    assert (outside / "precious.mp4").exists()


def test_permission_denied_is_failed_not_raised(root, events):
    folder = root / "how_it_works_7"
    write(folder / "locked" / "a.mp4", b"a" * 10)
    write(folder / "free.mp4", b"b" * 20)
    locked = folder / "locked"
    # Tests run as root, where mode bits do not stop unlink; an immutable folder does.
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system (needed to deny a deletion to root)")
    try:
        done = cleanup_temp_path(folder, root)
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert done.outcome is TempOutcome.FAILED and not done.ok
    assert "Operation not permitted" in done.error and "locked/a.mp4" in done.error
    assert not (folder / "free.mp4").exists(), "what could be removed was removed"
    assert (locked / "a.mp4").exists()
    assert done.bytes_freed == 20
    assert events.named("temp_path_failed")[0]["path"] == str(folder)
    assert cleanup_temp_path(folder, root).outcome is TempOutcome.REMOVED  # and it finishes once allowed


# ---------------------------------------------------------------- orphaned temp folders (plan_temp)


@pytest.fixture
def render_root(root, outside):
    """A render back end's temp root: folders of several ages, one being written to, one not ours."""
    write(root / "concatenate_old" / "seg_0.mp4", b"a" * 1000)
    write(root / "concatenate_old" / "parts" / "seg_1.mp4", b"b" * 500)
    (root / "concatenate_old" / "parts" / "escape").symlink_to(outside, target_is_directory=True)
    age(root / "concatenate_old", 72)
    write(root / "trim_mid" / "out.mp4", b"c" * 300)
    age(root / "trim_mid", 30)
    write(root / "intro_new" / "frame.png", b"d" * 10)
    age(root / "intro_new", 2)
    write(root / "demo_busy" / "old.mp4", b"e" * 40)
    write(root / "demo_busy" / "growing.mp4", b"f" * 40)
    age(root / "demo_busy", 72)
    age(root / "demo_busy" / "growing.mp4", 0.1)  # still being written
    write(root / "uploads_cache" / "keep.mp4", b"g" * 10)
    age(root / "uploads_cache", 500)
    write(root / "trim_file.mp4", b"h")
    age(root / "trim_file.mp4", 500)
    return root


def test_temp_plan_by_age_and_folders_being_written(catalog, render_root, outside):
    plan = load_plan(catalog, plan_temp(catalog, render_root, older_than_hours=24))
    assert plan.kind == "temp" and plan.status == "ready"
    folders = {Path(i.target).relative_to(render_root).parts[0] for i in plan.items}
    assert folders == {"concatenate_old", "trim_mid"}
    kept = {Path(k.target).name: k for k in plan.kept}
    assert set(kept) == {"intro_new", "demo_busy"}
    assert kept["demo_busy"].reason.value == "still being written"
    assert "changed 6 minutes ago" in kept["demo_busy"].detail
    assert kept["intro_new"].reason.value == "still being written"
    order = [Path(i.target).relative_to(render_root).as_posix() for i in plan.items if
             i.target.startswith(str(render_root / "concatenate_old"))]
    assert order.index("concatenate_old/parts") > order.index("concatenate_old/parts/seg_1.mp4")
    assert order[-1] == "concatenate_old"
    link = next(i for i in plan.items if i.target.endswith("escape"))
    assert "only the link is removed" in link.rule and link.size == 0
    assert plan.total_line() == "Will delete 4 files · 1.8 kB · 2 kept"

    narrower = load_plan(catalog, plan_temp(catalog, render_root, older_than_hours=48))
    assert {Path(i.target).relative_to(render_root).parts[0] for i in narrower.items} == {"concatenate_old"}

    result = execute_plan(catalog, plan.id)
    assert result.status == "complete" and result.deleted_count == 4 and result.freed_bytes == 1800
    assert sorted(p.name for p in render_root.iterdir()) == ["demo_busy", "intro_new", "trim_file.mp4",
                                                            "uploads_cache"]
    assert (outside / "precious.mp4").read_bytes() == b"only copy"


def test_temp_threshold_default_comes_from_preferences(catalog, render_root):
    catalog.set_pref("temp_older_than_hours", 1)
    plan = load_plan(catalog, plan_temp(catalog, render_root))
    assert plan.params["older_than_hours"] == 1
    assert {Path(i.target).relative_to(render_root).parts[0] for i in plan.items} == \
        {"concatenate_old", "trim_mid", "intro_new"}


def test_a_file_written_after_the_preview_is_not_deleted(catalog, render_root):
    plan_id = plan_temp(catalog, render_root, older_than_hours=24)
    late = write(render_root / "trim_mid" / "out.mp4", b"renderer came back")
    result = execute_plan(catalog, plan_id)
    assert late.read_bytes() == b"renderer came back"
    reasons = {Path(s["target"]).name: s["reason"] for s in result.skipped}
    assert reasons["out.mp4"] == "changed since preview"
    assert reasons["trim_mid"].startswith("folder not empty")


def test_cli_temp_dry_run_then_the_stored_plan(cli, render_root):
    code, dry = cli("temp", render_root, "--older-than-hours", "24")
    assert code == 0 and dry["dry_run"] is True
    for key in ("plan_id", "dry_run", "items", "skipped", "deleted_count", "deleted_size_mb", "failed",
                "cleanup_status"):
        assert key in dry
    assert dry["deleted_count"] == 4 and (render_root / "trim_mid").exists()
    assert {s["reason"] for s in dry["skipped"]} == {"still being written"}
    code, run = cli("temp", "--plan", dry["plan_id"], "--yes")
    assert code == 0 and run["dry_run"] is False and run["deleted_count"] == 4 and run["freed_bytes"] == 1800
    assert not (render_root / "trim_mid").exists() and (render_root / "intro_new").exists()
    code, again = cli("temp", "--plan", dry["plan_id"], "--yes")
    assert code == 3 and "already been run" in again["error"]


def test_cli_temp_errors(cli, tmp_path, render_root, workspace):
    code, out = cli("temp", tmp_path / "nope")
    assert code == 2 and out["error"].startswith("The temp root") and "does not exist" in out["error"]
    code, out = cli("temp")
    assert code == 2 and "Name one temp ROOT" in out["error"]
    workspace.add_project("p1")
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, plan = cli("clean", "p1")
    code, out = cli("temp", "--plan", plan["plan_id"], "--yes")
    assert code == 2 and "is a clean plan, not a temp plan" in out["error"]
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_a_top_level_link_named_like_a_temp_folder_is_kept(catalog, root, outside):
    (root / "trim_link").symlink_to(outside, target_is_directory=True)
    os.utime(root / "trim_link", (1, 1), follow_symlinks=False)
    plan = load_plan(catalog, plan_temp(catalog, root, older_than_hours=1))
    assert plan.items == []
    assert [(Path(k.target).name, k.reason.value) for k in plan.kept] == [("trim_link", "symbolic link")]


def test_a_cancelled_plan_leaves_no_plan_behind(catalog, render_root):
    from mediaclean_gui.core.events import Cancelled, CancelToken, Progress

    token = CancelToken()
    seen: list[str] = []

    def on_progress(p: Progress) -> None:
        seen.append(p.current)
        if len(seen) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        plan_temp(catalog, render_root, older_than_hours=24, progress=Progress(callback=on_progress), cancel=token)
    assert seen[:2] == ["concatenate_old", "demo_busy"]
    assert catalog.conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
    assert catalog.conn.execute("SELECT count(*) FROM plan_items").fetchone()[0] == 0


def _threads_seen_while_removing(catalog, temp_root: Path) -> set[str]:
    """Run a temp sweep of 3,000 files under ``temp_root``; the names of the threads alive at each progress
    report (the reports come from the executing thread, between batches)."""
    import threading

    from mediaclean_gui.core.events import Progress

    for n in range(3000):
        write(temp_root / "concatenate_old" / f"seg_{n:05d}.mp4", b"x")
    age(temp_root / "concatenate_old", 72)
    seen: set[str] = set()
    progress = Progress(callback=lambda _p: seen.update(t.name for t in threading.enumerate()))
    result = execute_plan(catalog, plan_temp(catalog, temp_root, older_than_hours=24), progress=progress)
    assert result.deleted_count == 3000 and not (temp_root / "concatenate_old").exists()
    return seen


def test_a_sweep_in_memory_removes_on_its_own_thread_and_one_on_a_disk_on_several(catalog, tmp_path):
    """On a file system in memory (tmpfs) the files are removed by the executing thread alone: nothing waits on a
    disk there, and helper threads would only take turns at the GIL. Elsewhere a small pool removes them."""
    import shutil as sh
    import tempfile

    from mediaclean_gui.core.space import IN_MEMORY, file_system_type

    memory = tmp_path / "render temp"  # a space in the mount point: /proc/self/mountinfo writes it as \040
    memory.mkdir()
    if sh.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(memory)],
                                                   capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no mount command)")
    try:
        assert file_system_type(str(memory)) == "tmpfs"
        assert file_system_type(str(memory / "not there yet" / "x")) == "tmpfs"
        assert not any(name.startswith("mediaclean-delete") for name in _threads_seen_while_removing(catalog, memory))
    finally:
        subprocess.run(["umount", "-l", str(memory)], check=False)
    if not os.path.isdir("/var/tmp") or file_system_type("/var/tmp") in IN_MEMORY:
        pytest.skip("/var/tmp is in memory here: no disk to compare with")
    disk = Path(tempfile.mkdtemp(prefix="mediaclean-test-disk-", dir="/var/tmp"))  # a disk, as FHS keeps it
    try:
        assert any(name.startswith("mediaclean-delete") for name in _threads_seen_while_removing(catalog, disk))
    finally:
        sh.rmtree(disk, ignore_errors=True)
