"""The window's keep-list edits (core.keepedit): which entry keeps a "Kept by you" row, patterns checked and
measured against a plan, and the "Kept by you" group of a plan summary (core.views)."""

from __future__ import annotations

import pytest

from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.keepedit import clean_pattern, entries_keeping, forget_entries, keep_pattern, pattern_matches
from mediaclean_gui.core.keeplist import KEPT_BY_YOU, keep, keep_entries
from mediaclean_gui.core.views import load_summary


def kept_ids(catalog, plan_id: int) -> dict[str, int]:
    return {r["target"].decode().rsplit("/p1/", 1)[-1]: r["id"] for r in catalog.conn.execute(
        "SELECT id, target FROM plan_kept WHERE plan_id = ? AND grp = ?", (plan_id, KEPT_BY_YOU))}


def test_which_entry_keeps_a_row_exact_folder_or_pattern(workspace, catalog, imported):
    workspace.add_project("p1", scenes=2, caches=[])
    pid = imported()["p1"].id
    root = str(workspace.root)
    keep(catalog, root, ".cache/audio/p1/scene-1.mp3", project_id=pid)
    keep(catalog, root, ".cache/assembly/p1", project_id=pid)  # a folder: keeps what is inside
    keep_pattern(catalog, "./.cache/videos/**/*.mp4", project_id=pid)
    plan_id = plan_cleanup(catalog, [pid])
    ids = kept_ids(catalog, plan_id)
    assert sorted(ids) == ["part-0.mp4", "part-1.mp4", "scene-1-seg.mp4", "scene-1.mp3", "scene-2-seg.mp4"]

    [exact] = entries_keeping(catalog, plan_id, [ids["scene-1.mp3"]])
    assert (exact.entry.path, exact.exact) == (".cache/audio/p1/scene-1.mp3", True)
    [folder] = entries_keeping(catalog, plan_id, [ids["part-0.mp4"], ids["part-1.mp4"]])
    assert (folder.entry.path, folder.exact) == (".cache/assembly/p1", False)
    [pattern] = entries_keeping(catalog, plan_id, [ids["scene-2-seg.mp4"]])
    assert (pattern.entry.path, pattern.entry.pattern, pattern.exact) == (".cache/videos/**/*.mp4", True, False)

    summary = load_summary(catalog, plan_id)
    assert [(k.key, k.count) for k in summary.kept] == [(KEPT_BY_YOU, 5), (None, 2)]

    assert forget_entries(catalog, [pattern.entry.id, folder.entry.id]) == 2
    assert [e.path for e in keep_entries(catalog, project_id=pid)] == [".cache/audio/p1/scene-1.mp3"]
    again = plan_cleanup(catalog, [pid])
    assert sorted(kept_ids(catalog, again)) == ["scene-1.mp3"]


def test_a_pattern_is_checked_and_measured_before_it_is_kept(workspace, catalog, imported):
    workspace.add_project("p1", scenes=3, caches=[])
    pid = imported()["p1"].id
    plan_id = plan_cleanup(catalog, [pid])
    match = pattern_matches(catalog, plan_id, "**/scene-*.mp3", project_id=pid, examples=2)
    assert match.count == 3 and match.nbytes > 0
    assert len(match.examples) == 2 and set(match.examples) < {f".cache/audio/p1/scene-{n}.mp3" for n in (1, 2, 3)}
    assert pattern_matches(catalog, plan_id, "*.mp3", project_id=pid).count == 0  # * stays in one folder
    for bad, words in (("", "Type a pattern"), ("/etc/*", "leave out the leading /"),
                       ("a/../../b", "cannot leave the project's folder")):
        with pytest.raises(ConfigError, match=words):
            clean_pattern(bad)
    assert clean_pattern("./.cache/audio/") == ".cache/audio"
    assert keep_entries(catalog) == []  # measuring keeps nothing
