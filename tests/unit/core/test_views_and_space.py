"""The window's read-only queries (core.views) and the space map's data (core.space), on real catalogs and files."""

from __future__ import annotations

import os
import shutil

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import ConfigError, NotFound
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.scan import scan_projects
from mediaclean_gui.core.space import disk_space, folder_sizes, squarify
from mediaclean_gui.core.views import (
    items_by_ids,
    load_preview,
    natural_key,
    plan_orders,
    project_rows,
    rename_project,
)


@pytest.fixture
def imported(workspace, catalog):
    workspace.add_project("p1", "Alpha", scenes=11, caches=[("pexels", "11")])
    workspace.add_project("p2", "Beta", scenes=2, final=False)
    big = workspace.path(".cache/audio/p1/scene-3.mp3")
    big.write_bytes(big.read_bytes() + b"\0" * 100_000)
    ids = import_generator_db(catalog, workspace.write_db(), workspace.root).project_ids
    scan_projects(catalog, ids)
    return workspace, ids


def test_natural_key_puts_scene_2_before_scene_10():
    names = ["scene-10.mp3", "Scene-2.mp3", "scene-1133.mp3", "scene-11329.mp3", "scene-1.mp3"]
    assert sorted(names, key=natural_key) == ["scene-1.mp3", "Scene-2.mp3", "scene-10.mp3", "scene-1133.mp3",
                                              "scene-11329.mp3"]


def test_squarify_fills_the_rectangle_in_proportion():
    sizes = [6, 6, 4, 3, 2, 2, 1]
    rects = squarify(sizes, (0.0, 0.0, 6.0, 4.0))
    areas = [w * h for _, _, w, h in rects]
    assert areas == pytest.approx([float(s) for s in sizes])
    for x, y, w, h in rects:  # inside, and no slivers (the paper's layout of this example: worst aspect 2.8)
        assert 0 <= x and 0 <= y and x + w <= 6.0 + 1e-9 and y + h <= 4.0 + 1e-9
        assert max(w / h, h / w) < 3.0
    assert squarify([0, 0], (0, 0, 10, 10)) == [(0, 0, 0.0, 0.0), (0, 0, 0.0, 0.0)]


def test_disk_space_is_one_entry_per_file_system(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    disks = disk_space([str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "gone")])
    assert len(disks) == 1
    usage = shutil.disk_usage(tmp_path)
    assert disks[0].total == usage.total and disks[0].roots == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert os.path.ismount(disks[0].mount) and str(tmp_path).startswith(disks[0].mount)


def test_project_rows_say_which_final_render_is_missing(imported, catalog):
    rows = {r.project.name: r for r in project_rows(catalog)}
    assert rows["Alpha"].final_missing is False and rows["Beta"].final_missing is True
    assert rows["Alpha"].auto is True and rows["Alpha"].name_key == natural_key("Alpha")


def test_rename_touches_only_the_name(imported, catalog):
    workspace, ids = imported
    before = sorted(p.name for p in workspace.root.rglob("*"))
    rename_project(catalog, ids[0], "  Alpha, final cut ")
    assert {r.project.name for r in project_rows(catalog)} == {"Alpha, final cut", "Beta"}
    assert sorted(p.name for p in workspace.root.rglob("*")) == before
    with pytest.raises(ConfigError):
        rename_project(catalog, ids[0], "   ")
    with pytest.raises(NotFound):
        rename_project(catalog, 999, "x")


def test_plan_orders_by_natural_name_and_by_size(imported, catalog):
    workspace, ids = imported
    plan_id = plan_cleanup(catalog, [ids[0]])
    items, kept = plan_orders(catalog, plan_id)
    group = items[(ids[0], "intermediate")]
    audio = [i.target for i in items_by_ids(catalog, group) if "/audio/" in i.target]
    assert [os.path.basename(t) for t in audio] == [f"scene-{n}.mp3" for n in range(1, 12)]
    assert (ids[0], "") in kept  # the final and thumbnail, kept back, in the project's kept group
    by_size, _ = plan_orders(catalog, plan_id, "size", descending=True)
    first = items_by_ids(catalog, by_size[(ids[0], "intermediate")][:1])[0]
    assert first.target == str(workspace.path(".cache/audio/p1/scene-3.mp3"))
    summary = load_preview(catalog, plan_id, "size", True)
    assert summary.item_order == by_size and summary.sort == "size" and summary.descending


def test_folder_sizes_of_a_role(imported, catalog):
    workspace, ids = imported
    folders = {f: (b, n) for f, b, n in folder_sizes(catalog, ids[0], "intermediate")}
    audio = workspace.path(".cache/audio/p1")
    assert folders[".cache/audio/p1"] == (sum(f.stat().st_size for f in audio.iterdir()), 11)
    assert set(folders) == {".cache/audio/p1", ".cache/videos/p1", ".cache/assembly/p1"}
    shared = folder_sizes(catalog, ids[0], "shared_cache")
    assert [f for f, _, _ in shared] == ["assets/cache/pexels"]
    assert folder_sizes(catalog, ids[0], "final")[0][2] == 1


def test_views_never_write(imported, catalog):
    """Everything but rename_project only reads: no row of the catalog changes."""
    workspace, ids = imported
    plan_id = plan_cleanup(catalog, [ids[0]])
    before = catalog.conn.total_changes
    load_preview(catalog, plan_id)
    project_rows(catalog)
    folder_sizes(catalog, ids[0], "intermediate")
    assert catalog.conn.total_changes == before
    with Catalog(catalog.path) as other:
        assert other.conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 1
