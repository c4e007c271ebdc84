"""core/roots.py: /, home folders and system folders are refused as workspaces and temp roots unless confirmed."""

from __future__ import annotations

import os
import pwd
import threading

import pytest

from mediaclean_gui.core.errors import SafetyRefusal
from mediaclean_gui.core.projects import add_project, list_projects
from mediaclean_gui.core.roots import TEMP_ROOT, WORKSPACE, BroadRoot, broad_roots_allowed, check_root, why_broad
from mediaclean_gui.core.tempclean import plan_temp


def _sentence(path: str, why: str, purpose: str) -> str:
    advice = ("the project's own folder (the generator's workspace)" if purpose == WORKSPACE
              else "the folder your renderer writes its temp folders to")
    return (f"The folder {path} {why}, too broad to be a {purpose} (mediaclean would plan deletions anywhere in "
            f"it): choose {advice}, or confirm that you mean it.")


@pytest.mark.parametrize(
    ("path", "purpose", "why"),
    [
        ("/", WORKSPACE, "is the whole file system"),
        ("/", TEMP_ROOT, "is the whole file system"),
        ("/usr", WORKSPACE, "is a system folder"),
        ("/usr/share", WORKSPACE, "is a system folder"),
        ("/etc", TEMP_ROOT, "is a system folder"),
        ("/proc", WORKSPACE, "is a system folder"),
        ("/lib", WORKSPACE, "is a system folder"),
        ("/home", WORKSPACE, "holds every user's home folder"),
        ("/var", TEMP_ROOT, "is a system folder"),
        ("/tmp", WORKSPACE, "is the shared temporary folder"),
        ("/dev/shm", WORKSPACE, "is the shared temporary folder"),
        ("/dev/pts", WORKSPACE, "is a system folder"),
        ("/run", TEMP_ROOT, "is a system folder"),
        ("/root", WORKSPACE, None),
    ],
)
def test_broad_roots_are_refused(path, purpose, why):
    if not os.path.isdir(path):
        pytest.skip(f"{path} does not exist here")
    if why is None:  # root's home: yours when the tests run as root
        why = "is your home folder" if os.path.realpath(os.path.expanduser("~")) == "/root" else \
            "is the home folder of the user root"
    with pytest.raises(BroadRoot) as err:
        check_root(path, purpose)
    assert str(err.value) == _sentence(path, why, purpose)
    assert isinstance(err.value, SafetyRefusal) and err.value.exit_code == 3
    check_root(path, purpose, allowed=True)
    with broad_roots_allowed():
        check_root(path, purpose)


def test_tmp_is_a_fine_temp_root_and_project_folders_are_fine(tmp_path):
    check_root("/tmp", TEMP_ROOT)
    check_root("/dev/shm", TEMP_ROOT)
    check_root("/dev/shm/render-tmp", WORKSPACE)  # a tmpfs for anyone's files, unlike the rest of /dev
    check_root("/run/media/me/Drive/ocean", WORKSPACE)  # a removable disk, as udisks mounts it
    me = pwd.getpwuid(os.getuid()).pw_name
    assert why_broad(f"/media/{me}", WORKSPACE) == why_broad(f"/run/media/{me}", TEMP_ROOT) == \
        "holds a user's mounted disks"
    check_root(tmp_path, WORKSPACE)
    check_root(tmp_path, TEMP_ROOT)


def test_your_home_and_other_users_homes(tmp_path, monkeypatch):
    home = tmp_path / "me"
    (home / "Videos" / "ocean").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(BroadRoot) as err:
        check_root(home, TEMP_ROOT)
    assert str(err.value) == _sentence(str(home), "is your home folder", TEMP_ROOT)
    (tmp_path / "link-to-home").symlink_to(home)  # followed to where the folder really is
    with pytest.raises(BroadRoot):
        check_root(tmp_path / "link-to-home", WORKSPACE)
    check_root(home / "Videos" / "ocean", WORKSPACE)  # a project inside a home folder is fine
    others = [u for u in pwd.getpwall() if u.pw_dir.startswith("/home/") and os.path.isdir(u.pw_dir)]
    for user in others[:3]:
        with pytest.raises(BroadRoot, match=f"is the home folder of the user {user.pw_name}, too broad"):
            check_root(user.pw_dir, WORKSPACE)


def test_confirmation_is_per_thread_and_ends_with_the_block():
    with broad_roots_allowed():
        seen = []
        thread = threading.Thread(target=lambda: seen.append(_refused("/")))
        thread.start()
        thread.join()
        assert seen == [True]  # another thread (a window's worker) asks for itself
    assert _refused("/")


def _refused(path: str) -> bool:
    try:
        check_root(path, WORKSPACE)
    except BroadRoot:
        return True
    return False


def test_add_project_and_plan_temp_ask_the_same_question(tmp_path, monkeypatch, catalog):
    home = tmp_path / "home"
    (home / ".cache" / "audio" / "p1").mkdir(parents=True)
    (home / "demo_wedding_2019").mkdir()
    (home / "demo_wedding_2019" / "keep.mp4").write_bytes(b"the only copy")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(BroadRoot, match="is your home folder, too broad to be a workspace"):
        add_project(catalog, home, "ai-video-generator", external_id="p1")
    with pytest.raises(BroadRoot, match="is your home folder, too broad to be a temp root"):
        plan_temp(catalog, home, older_than_hours=0)
    assert list_projects(catalog) == []
    assert catalog.conn.execute("SELECT COUNT(*) FROM plans").fetchone()[0] == 0
    with broad_roots_allowed():
        assert len(add_project(catalog, home, "ai-video-generator", external_id="p1")) == 1
    assert (home / "demo_wedding_2019" / "keep.mp4").read_bytes() == b"the only copy"
