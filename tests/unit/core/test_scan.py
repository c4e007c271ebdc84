"""The scan (core/scan.py) against the classification it stands for: every file the scan counts, by role and
project, is what ``Profile.classify`` says of that file, whichever shortcut the scan took (a folder measured
whole by find, the few rules a folder can have, one owner per rule and project)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from mediaclean_gui.core.profiles import Role, get_profile
from mediaclean_gui.core.projects import add_project, list_projects
from mediaclean_gui.core.scan import role_sizes, scan_projects

# a layout where the project id sits in folder names and in file names, a folder pattern covers a folder whose
# files another rule (before it) could also match, a protected rule shadows a later one, and a file lies at the
# root of the workspace
LAYOUT = '''name = "tricky"
final = "out/{project}-final.mp4"
[[artifact]]
pattern = "out/{project}-final.mp4"
role = "final"
[[artifact]]
pattern = "out/{project}-*.mp4"
role = "intermediate"
[[artifact]]
pattern = "work/{project}/keep/cover-{n}.jpg"
role = "thumbnail"
[[artifact]]
pattern = "work/{project}/"
role = "intermediate"
[[artifact]]
pattern = "work/{project}/frames/"
role = "temp"
[[artifact]]
pattern = "render-cache/{project}/"
role = "temp"
[[artifact]]
pattern = "notes-{project}.txt"
role = "source"
'''

FILES = {
    "out/a-final.mp4": 11, "out/a-take1.mp4": 12, "out/a-take2.mp4": 13, "out/b-final.mp4": 14,
    "out/b-cut.mp4": 15, "out/c-orphan.mp4": 16, "out/readme.txt": 17,
    "work/a/keep/cover-1.jpg": 21, "work/a/keep/cover-x.jpg": 22, "work/a/frames/f1.jpg": 23,
    "work/a/frames/deep/f2.jpg": 24, "work/a/tmp.bin": 25, "work/b/frames/f1.jpg": 26, "work/zz/other.bin": 27,
    "render-cache/a/1.exr": 41, "render-cache/a/deep/er/2.exr": 42, "render-cache/b/3.exr": 43,
    "render-cache/4.exr": 44, "notes-a.txt": 31, "notes-b.txt": 32, "notes-.txt": 33, "loose.bin": 34,
}


def _expected(root: Path, profile_name: str, keys: dict[str, int]) -> dict[int, dict[str, tuple[int, int]]]:
    """``{project id: {role: (bytes, files)}}`` by classifying every regular file under ``root`` one by one."""
    profile = get_profile(profile_name)
    out: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found = profile.classify(os.path.relpath(path, root).replace(os.sep, "/"))
            if found is None or found.role is Role.SHARED_CACHE or not os.path.isfile(path) or os.path.islink(path):
                continue
            pid = keys.get(found.fields.get("project", ""))
            if pid is not None:
                out[pid][found.role.value][0] += st.st_size
                out[pid][found.role.value][1] += 1
    return {pid: {role: (b, f) for role, (b, f) in roles.items()} for pid, roles in out.items()}


def test_the_scan_counts_each_file_as_its_classification_says(tmp_path, catalog, monkeypatch):
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    (config / "mediaclean" / "profiles").mkdir(parents=True)
    (config / "mediaclean" / "profiles" / "tricky.toml").write_text(LAYOUT, encoding="utf-8")
    root = tmp_path / "ws"
    for rel, size in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x" * size)
    (root / "work" / "a" / "link.bin").symlink_to(root / "loose.bin")  # never counted
    (root / "render-cache" / "a" / "deep" / "out").symlink_to(root / "out")  # nor followed
    for key in ("a", "b"):
        add_project(catalog, root, "tricky", external_id=key)
    keys = {p.key: p.id for p in list_projects(catalog)}
    assert set(keys) == {"a", "b"}

    result = scan_projects(catalog)

    want = _expected(root, "tricky", keys)
    assert want[keys["a"]]["thumbnail"] == (21, 1)  # the protected rule wins inside the covered folder
    assert want[keys["a"]]["intermediate"] == (12 + 13 + 22 + 23 + 24 + 25, 6)  # frames/ sits under work/a/
    assert want[keys["a"]]["temp"] == (41 + 42, 2) and want[keys["b"]]["temp"] == (43, 1)  # measured whole
    for key, pid in keys.items():
        assert role_sizes(catalog, pid) == want[pid], key
    assert result.files_scanned >= sum(f for roles in want.values() for _, f in roles.values())
