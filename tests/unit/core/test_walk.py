"""The workspace walk (core/walk.py) on real folders, links and descriptors: a folder is entered only through a
descriptor opened without following a link, so one swapped for a link after it was listed lists nothing outside
the workspace, and no descriptor is left open."""

from __future__ import annotations

import os
from pathlib import Path

from mediaclean_gui.core.walk import tree_size, walk


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    for rel in ("a/sub/one.bin", "a/sub/deeper/two.bin", "a/three.bin", "b/four.bin"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "secret.bin").write_bytes(b"s" * 1000)
    (outside / "inner" / "secret2.bin").write_bytes(b"s" * 1000)
    return root, outside


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_folder_swapped_for_a_link_after_it_was_listed_is_not_entered(tmp_path):
    root, outside = _tree(tmp_path)

    def swap(rel: str) -> bool:  # called while "a" is listed, before "a/sub" is entered
        if rel == "a/sub":
            (root / "a" / "sub").rename(tmp_path / "moved-away")
            (root / "a" / "sub").symlink_to(outside, target_is_directory=True)
        return False

    seen = {e.rel: e.kind for e in walk(str(root), prune=swap)}
    assert not [rel for rel in seen if "secret" in rel or "inner" in rel], seen
    assert seen["a/three.bin"] == "file" and seen["b/four.bin"] == "file"
    assert "a/sub/one.bin" not in seen


def test_tree_size_counts_nothing_through_a_link(tmp_path):
    root, outside = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    assert tree_size(str(root / "a"), dev) == (30, 3)
    (root / "c").symlink_to(outside, target_is_directory=True)
    (root / "a" / "sub" / "to-outside").symlink_to(outside, target_is_directory=True)
    assert tree_size(str(root / "c"), dev) == (0, 0)  # the folder measured is itself a link now
    assert tree_size(str(root / "a"), dev) == (30, 3)  # a link below is not followed either
    assert tree_size(str(root / "a") + "/", dev) == (30, 3)


def test_a_workspace_root_that_is_a_link_is_walked_with_the_paths_as_given(tmp_path):
    root, _ = _tree(tmp_path)
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    for given in (str(alias), str(alias) + "/"):
        files = sorted(e.path for e in walk(given) if e.kind == "file")
        assert files == sorted(str(alias / rel) for rel in ("a/sub/one.bin", "a/sub/deeper/two.bin", "a/three.bin",
                                                              "b/four.bin")), files


def test_no_descriptor_is_left_open(tmp_path):
    root, _ = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    before = _open_fds()
    assert len(list(walk(str(root)))) == 8  # 4 files and 4 folders (the root is not yielded)
    assert tree_size(str(root), dev) == (40, 4)
    stopped = walk(str(root))
    next(stopped)
    next(stopped)
    stopped.close()  # a consumer that stops early (a cancelled scan)
    assert _open_fds() == before


def test_a_wide_folder_needs_no_more_descriptors_than_its_depth(tmp_path):
    """600 subfolders under one folder, walked and measured with only 48 descriptors allowed: one open folder
    per level of depth, never one per folder waiting to be entered."""
    import subprocess
    import sys
    import textwrap

    wide = tmp_path / "ws" / "frames"
    for n in range(600):
        (wide / f"scene-{n:03d}").mkdir(parents=True)
        (wide / f"scene-{n:03d}" / "f.bin").write_bytes(b"x" * 3)
    code = textwrap.dedent(f"""
        import os, resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
        from mediaclean_gui.core.walk import tree_size, walk
        root = {str(tmp_path / "ws")!r}
        kinds = [e.kind for e in walk(root)]
        print(kinds.count("file"), kinds.count("dir"), kinds.count("unreadable"),
              *tree_size(os.path.join(root, "frames"), os.lstat(root).st_dev))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["600", "601", "0", "1800", "600"]


def test_a_walk_stopped_at_its_first_entry_leaves_no_descriptor_open(tmp_path):
    root, _ = _tree(tmp_path)
    (root / "top.bin").write_bytes(b"x")  # the first entry comes from the root's own listing
    before = _open_fds()
    for prefix in ("", "a"):
        stopped = walk(str(root), prefix)
        assert next(stopped).kind == "file"
        stopped.close()
        assert _open_fds() == before, prefix
