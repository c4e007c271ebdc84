"""Folder totals measured by GNU find in another process (core/folder_totals.py), against the Python walk's
own measure (core/walk.py's tree_size) on real trees: links, a folder swapped for a link or a file, an unreadable
folder, a mount, another find that does not speak -printf, and a find killed under it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediaclean_gui.core.folder_totals import FolderTotals
from mediaclean_gui.core.walk import tree_size

needs_gnu_find = pytest.mark.skipif(
    shutil.which("find") is None
    or b"GNU" not in subprocess.run(["find", "--version"], capture_output=True).stdout,
    reason="needs GNU find")


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    for rel, size in (("a/one.bin", 10), ("a/sub/two.bin", 200), ("a/sub/deep/three.bin", 3000),
                      ("b/four.bin", 40000), ("b/\nodd name\t.bin", 5), ("c/-n.bin", 6)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"s" * 100_000)
    (root / "a" / "sub" / "to-outside").symlink_to(outside, target_is_directory=True)
    (root / "a" / "file-link.bin").symlink_to(outside / "secret.bin")
    os.mkfifo(root / "a" / "fifo")
    return root, outside


def _measure(folders: list[str], dev: int, find: str | None = "") -> tuple[list[list[int]], FolderTotals]:
    slots = [[0, 0] for _ in folders]
    with FolderTotals(find) as totals:
        for path, slot in zip(folders, slots, strict=True):
            totals.add(path, dev, slot)
        totals.finish()
    return slots, totals


@needs_gnu_find
def test_find_counts_what_tree_size_counts(tmp_path):
    root, _ = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    folders = [str(root / "a"), str(root / "b"), str(root / "c") + "/", str(root / "a" / "sub")]
    slots, totals = _measure(folders, dev)
    assert totals.by_find == 4 and totals.by_python == 0  # find measured them all
    assert slots == [list(tree_size(f, dev)) for f in folders]
    assert slots[0] == [3210, 3] and slots[1] == [40005, 2]  # links and the fifo count nothing
    assert totals.files == 3 + 2 + 1 + 2


@needs_gnu_find
def test_a_folder_that_is_a_link_a_file_or_gone_counts_nothing_and_the_others_are_still_right(tmp_path):
    root, outside = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    (root / "to-outside").symlink_to(outside, target_is_directory=True)
    (root / "plain.bin").write_bytes(b"p" * 7)
    for odd in ("to-outside", "plain.bin", "gone"):  # each in the middle of a batch
        folders = [str(root / "a"), str(root / odd), str(root / "b")]
        slots, _ = _measure(folders, dev)
        assert slots == [[3210, 3], [0, 0], [40005, 2]], odd
        assert slots == [list(tree_size(f, dev)) for f in folders]


_MEASURE = """
import json, os, sys
from mediaclean_gui.core.folder_totals import FolderTotals
from mediaclean_gui.core.walk import tree_size
path = sys.argv[1]
dev = os.lstat(path).st_dev
slot = [0, 0]
with FolderTotals() as totals:
    totals.add(path, dev, slot)
    totals.finish()
print(json.dumps({"find": slot, "by_find": totals.by_find, "python": list(tree_size(path, dev))}))
"""


@needs_gnu_find
def test_an_unreadable_folder_below_is_skipped_as_tree_size_skips_it(tmp_path):
    """Measured in a child process; as root, one without the capabilities that let root read any folder, so
    the permission bits hold for it as for a user."""
    root, _ = _tree(tmp_path)
    (root / "a" / "sub").chmod(0)
    as_user = [] if os.geteuid() else ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if as_user and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: every folder is readable")
    try:
        done = subprocess.run([*as_user, sys.executable, "-c", _MEASURE, str(root / "a")],
                              capture_output=True, text=True, timeout=60, check=True)
    finally:
        (root / "a" / "sub").chmod(stat.S_IRWXU)
    got = json.loads(done.stdout)
    assert got == {"find": [10, 1], "by_find": 1, "python": [10, 1]}  # one.bin only: sub could not be read


@needs_gnu_find
def test_a_folder_from_another_device_counts_nothing(tmp_path):
    root, _ = _tree(tmp_path)
    slots, _ = _measure([str(root / "a"), str(root / "b")], os.lstat(root).st_dev + 1)
    assert slots == [[0, 0], [0, 0]]


@needs_gnu_find
def test_another_file_system_below_is_not_entered(tmp_path):
    root, _ = _tree(tmp_path)
    mnt = root / "a" / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here: needs root")
    try:
        (mnt / "elsewhere.bin").write_bytes(b"e" * 500)
        dev = os.lstat(root).st_dev
        slots, totals = _measure([str(root / "a")], dev)
        assert (slots, totals.by_find, totals.by_python) == ([[3210, 3]], 1, 0)
        assert slots == [list(tree_size(str(root / "a"), dev))]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fake_find(tmp_path: Path, body: str) -> str:
    fake = tmp_path / "bin" / "find"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    return str(fake)


@pytest.mark.parametrize("body", [
    'echo "find: unknown primary or operator: -printf" >&2; exit 1',  # a BSD find
    "exit 0",  # says nothing
    r"printf 'x0 1\n999999\n'; kill -9 $$",  # killed half-way
    r"printf 'x0 %s\n1\n2' \"$(stat -c %d .)\"",  # its last line cut short
    r"d=$(stat -c %d .); printf 'x0 %s\n1_0\nx0 %s\n5\n' $d $d",  # a size GNU find never prints
    r"d=$(stat -c %d .); printf 'x0 %s\n-5\nx0 %s\n5\n' $d $d",
    r"d=$(stat -c %d .); printf 'x0 %s\n12x1 5\n34\nx0 %s\n5\n' $d $d",  # a line of another format
    r"d=$(stat -c %d .); printf 'x0 %s\n1\nx0 %s\n5\nx0 %s\n' $d $d $d",  # more folders than it was given
], ids=["bsd", "silent", "killed", "cut-short", "underscore", "negative", "mixed-line", "extra-folder"])
def test_a_find_that_does_not_answer_exactly_leaves_the_measure_to_python(tmp_path, body):
    root, _ = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    folders = [str(root / "a"), str(root / "b")]
    slots, totals = _measure(folders, dev, _fake_find(tmp_path, body))
    assert slots == [[3210, 3], [40005, 2]] and totals.by_python == 2 and totals.by_find == 0


def test_no_find_at_all_measures_in_python(tmp_path):
    root, _ = _tree(tmp_path)
    slots, totals = _measure([str(root / "a")], os.lstat(root).st_dev, None)
    assert slots == [[3210, 3]] and totals.by_python == 1


def test_leaving_early_kills_a_find_still_running(tmp_path):
    root, _ = _tree(tmp_path)
    fake = _fake_find(tmp_path, "exec sleep 60")
    with FolderTotals(fake) as totals:
        totals.add(str(root / "a"), os.lstat(root).st_dev, [0, 0])
        running = totals.running
        assert running is not None and running.proc.poll() is None
    assert running.proc.returncode == -9


@needs_gnu_find
def test_the_output_is_read_the_same_in_pieces_of_any_size(tmp_path, monkeypatch):
    """find's answer is read back while it runs, in chunks that cut lines anywhere: the totals must not depend
    on where the cuts fall."""
    from mediaclean_gui.core import folder_totals

    root, _ = _tree(tmp_path)
    dev = os.lstat(root).st_dev
    folders = [str(root / "a"), str(root / "b"), str(root / "c")]
    expected = [list(tree_size(f, dev)) for f in folders]
    for chunk in (1, 2, 3, 7, 64):
        monkeypatch.setattr(folder_totals, "_CHUNK", chunk)
        slots = [[0, 0] for _ in folders]
        with FolderTotals() as totals:
            totals.queued = [(f, dev, s) for f, s in zip(folders, slots, strict=True)]  # one batch of three
            totals.finish()
        assert (slots, totals.by_find) == (expected, 3), chunk


def test_a_line_written_in_two_pieces_while_the_scan_reads_counts_once(tmp_path):
    """The scan reads what find has written every thousand files: a line it meets half-written is completed
    by the next read, never counted as two numbers or dropped."""
    fake = _fake_find(tmp_path, r'''d=$(stat -c %d "$2")
printf 'x0 %s\n1' "$d"; sleep 0.4; printf '0\n200\n30'; sleep 0.4; printf '00\n'; exec sleep 0.2''')
    root, _ = _tree(tmp_path)
    slot = [0, 0]
    cut_seen = False
    with FolderTotals(fake) as totals:
        totals.add(str(root / "a"), os.lstat(root / "a").st_dev, slot)
        while totals.running is not None:
            running = totals.running
            totals.poll()
            cut_seen = cut_seen or running.output.tail != b""
            time.sleep(0.02)
        totals.finish()
    assert cut_seen  # (a read did meet a line cut in two)
    assert slot == [3210, 3] and (totals.by_find, totals.by_python) == (1, 0)
