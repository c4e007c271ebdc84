"""Property test over generated workspaces and database references: safety invariants 1, 2 and 4.

Each example builds a real seed 002 workspace (real media copied from the session pool), a
generator database with awkward references (``..``, absolute paths, other projects' finals and
intermediates), symbolic links to a folder outside the root, a name that is not UTF-8; then
plans, changes the disk behind the plan's back, leaves items out, executes, and checks:

1. no final or thumbnail is deleted, and nothing of a project without its final output;
2. nothing outside the workspace root is deleted, and no link is followed;
4. only previewed, selected, unchanged items are deleted: files added or changed after the plan survive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import GeneratorWorkspace
from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import SafetyRefusal
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.plan import Action, load_plan, set_selected
from mediaclean_gui.core.projects import list_projects

CACHES = ["c0", "c1", "c2", "c3"]
LINKS = ["asm-file", "asm-dir", "scene-9", "cache-link"]
REFS = ["dotdot", "abs-outside", "other-final", "other-thumb", "other-intermediate", "own-final", "abs-inside",
        "sneaky-dotdot"]
MUTATIONS = ["add-asm", "add-audio", "rewrite", "touch", "replace", "remove", "exclude"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    count = draw(st.sampled_from([1, 2, 2, 3, 3]))
    projects = []
    for n in range(count):
        projects.append({
            "key": f"p{n}",
            "final": draw(st.booleans()),
            "scenes": draw(st.integers(0, 3)),
            "assembly": draw(st.integers(0, 3)),
            "nested": draw(st.booleans()),
            "caches": draw(st.lists(st.sampled_from(CACHES), max_size=3, unique=True)),
            # one coin per kind of trouble: dense enough that combinations turn up in a few dozen examples
            "links": [link for link in LINKS if draw(st.booleans())],
            "linked_audio": draw(st.integers(0, 4)) == 0,
            "refs": [ref for ref in REFS if draw(st.booleans())],
            "non_utf8": draw(st.booleans()),
        })
    chosen = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True))
    mutations = draw(st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 10_000)), max_size=5))
    return {"projects": projects, "chosen": chosen, "mutations": mutations}


def snapshot(top: Path) -> dict[bytes, str]:
    """Every entry below ``top`` as OS bytes -> content digest, ``link:<text>`` or ``dir`` (links not followed)."""
    out: dict[bytes, str] = {}
    for folder, dirs, files in os.walk(os.fsencode(top)):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                out[path] = "link:" + os.fsdecode(os.readlink(path))
            elif os.path.isdir(path):
                out[path] = "dir"
            else:
                with open(path, "rb") as fh:
                    out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


def build(base: Path, pool, scenario: dict) -> tuple[GeneratorWorkspace, Path, Path]:
    outside = base / "outside"
    pool.copy("mp4", outside / "video.mp4")
    pool.copy("mp3", outside / "audio.mp3")
    for n in (1, 2, 3, 9):
        pool.copy("mp3", outside / "scenes" / f"scene-{n}.mp3")
    pool.copy("jpg", outside / "dir" / "frame.jpg")
    ws = GeneratorWorkspace(base / "ws", pool)
    root = ws.root
    keys = [p["key"] for p in scenario["projects"]]
    extra: list[tuple[str, str]] = []
    for index, spec in enumerate(scenario["projects"]):
        key = spec["key"]
        other = keys[(index + 1) % len(keys)]
        ws.add_project(key, f"Project {key}", scenes=spec["scenes"], final=spec["final"],
                       caches=[("pexels", c) for c in spec["caches"]], assembly=spec["assembly"])
        asm = root / ".cache" / "assembly" / key
        asm.mkdir(parents=True, exist_ok=True)
        if spec["nested"]:
            pool.copy("jpg", asm / "frames" / "0001.jpg")
        if spec["non_utf8"]:
            with open(os.fsencode(asm) + b"/scene-\xff.mp4", "wb") as fh:
                fh.write(b"not utf-8 named")
        for link in spec["links"]:
            if link == "asm-file":
                os.symlink(outside / "video.mp4", asm / "to-file.mp4")
            elif link == "asm-dir":
                os.symlink(outside / "dir", asm / "to-dir")
            elif link == "scene-9":
                (root / ".cache" / "audio" / key).mkdir(parents=True, exist_ok=True)
                os.symlink(outside / "audio.mp3", root / ".cache" / "audio" / key / "scene-9.mp3")
            elif link == "cache-link" and spec["caches"]:
                cache = root / "assets" / "cache" / "pexels" / f"{spec['caches'][0]}.mp4"
                if cache.exists() and not cache.is_symlink():
                    cache.unlink()
                    os.symlink(outside / "video.mp4", cache)
        if spec["linked_audio"]:
            audio = root / ".cache" / "audio" / key
            if audio.exists():
                shutil.rmtree(audio)
            audio.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(outside / "scenes", audio)
        for ref in spec["refs"]:
            if ref == "dotdot":
                extra.append((key, "../outside/video.mp4"))
            elif ref == "sneaky-dotdot":
                extra.append((key, f".cache/audio/{key}/../../../../outside/scenes/scene-2.mp3"))
            elif ref == "abs-outside":
                extra.append((key, str(outside / "audio.mp3")))
            elif ref == "other-final":
                extra.append((key, f".cache/output/{other}/final.mp4"))
            elif ref == "other-thumb":
                extra.append((key, f".cache/output/{other}/final-thumb.jpg"))
            elif ref == "own-final":
                extra.append((key, f".cache/output/{key}/final.mp4"))
            elif ref == "other-intermediate":
                extra.append((key, f".cache/audio/{other}/../{other}/scene-1.mp3"))
            elif ref == "abs-inside":
                mix = pool.copy("mp3", root / "renders" / f"{key}-mix.mp3")
                extra.append((key, str(mix)))
    db = ws.write_db(base / "generator.db", extra_audio=extra)
    return ws, outside, db


def mutate(scenario: dict, plan, ws: GeneratorWorkspace, catalog: Catalog) -> tuple[set[bytes], set[bytes]]:
    """Change the disk behind the plan's back; returns (paths that must survive, paths we removed)."""
    survivors: set[bytes] = set()
    removed: set[bytes] = set()
    files = [i for i in plan.items if i.action is Action.DELETE_FILE and i.fingerprint.get("kind") == "file"]
    for n, (what, pick) in enumerate(scenario["mutations"]):
        key = scenario["projects"][pick % len(scenario["projects"])]["key"]
        if what == "add-asm":
            folder = ws.root / ".cache" / "assembly" / key
            if folder.is_dir() and not folder.is_symlink():
                survivors.add(os.fsencode(ws.media.copy("mp4", folder / f"late-{n}.mp4")))
        elif what == "add-audio":
            folder = ws.root / ".cache" / "audio" / key
            if folder.is_dir() and not folder.is_symlink():
                survivors.add(os.fsencode(ws.media.copy("mp3", folder / f"scene-{50 + n}.mp3")))
        elif not files:
            continue
        else:
            item = files[pick % len(files)]
            target = os.fsencode(item.target)
            if not os.path.lexists(target) or target in removed:
                continue
            if what == "rewrite":
                with open(target, "ab") as fh:
                    fh.write(b"changed after the preview")
                survivors.add(target)
            elif what == "touch":
                st_ = os.lstat(target)
                os.utime(target, ns=(st_.st_atime_ns, st_.st_mtime_ns + 3_000_000_000))
                survivors.add(target)
            elif what == "replace":
                fresh = target + b".new"
                shutil.copyfile(ws.media.image, fresh)
                os.replace(fresh, target)
                survivors.add(target)
            elif what == "remove":
                os.unlink(target)
                removed.add(target)
                survivors.discard(target)
            elif what == "exclude":
                set_selected(catalog, plan.id, [item.id], False)
                survivors.add(target)
    return survivors, removed


def _project(key: str, final: bool, **changes: object) -> dict:
    spec = {"key": key, "final": final, "scenes": 2, "assembly": 1, "nested": False, "caches": ["c0"], "links": [],
            "linked_audio": False, "refs": [], "non_utf8": False}
    spec.update(changes)
    return spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
# regressions: an unfinished project's intermediate referenced by a finished one; finals referenced as audio
@example(scenario={"projects": [_project("p0", True, refs=["other-intermediate", "other-final", "own-final"]),
                                _project("p1", False)], "chosen": [0], "mutations": []})
@example(scenario={"projects": [_project("p0", True, refs=["other-thumb", "dotdot", "sneaky-dotdot"],
                                         links=["asm-file", "asm-dir", "scene-9", "cache-link"], non_utf8=True),
                                _project("p1", True, linked_audio=True, caches=["c0"])],
                   "chosen": [0, 1], "mutations": [("rewrite", 0), ("exclude", 1), ("add-asm", 0), ("remove", 3)]})
def test_invariants_1_2_4(media_pool, scenario):
    with tempfile.TemporaryDirectory(prefix="mediaclean-prop-") as tmp:
        base = Path(tmp)
        ws, outside, db = build(base, media_pool, scenario)
        catalog = Catalog(base / "catalog.sqlite3")
        try:
            import_generator_db(catalog, db, ws.root)
            ids = {p.external_id: p.id for p in list_projects(catalog)}
            specs = {p["key"]: p for p in scenario["projects"]}
            chosen = [scenario["projects"][i]["key"] for i in scenario["chosen"]]
            root_b = os.fsencode(ws.root)

            plan_id = plan_cleanup(catalog, [ids[k] for k in chosen])
            plan = load_plan(catalog, plan_id)
            survivors, removed_by_us = mutate(scenario, plan, ws, catalog)
            plan = load_plan(catalog, plan_id)
            before = snapshot(base)
            outside_before = snapshot(outside)

            try:
                result = execute_plan(catalog, plan_id, confirm_large=True)
            except SafetyRefusal:
                assert plan.status == "refused" or not any(specs[k]["final"] for k in chosen)
                assert snapshot(base) == before
                return
            after = snapshot(base)
            deleted = set(before) - set(after)

            # invariant 1: finals, thumbnails and every file of a project without its final output survive
            for key, spec in specs.items():
                project_dirs = [os.path.join(root_b, b".cache", sub, os.fsencode(key))
                                for sub in (b"audio", b"videos", b"assembly", b"output")]
                for path in before:
                    under = any(path == d or path.startswith(d + b"/") for d in project_dirs)
                    if under and b"/.cache/output/" in path:
                        assert path in after, f"protected file deleted: {path!r}"
                    if under and not spec["final"]:
                        assert path in after, f"file of unfinished project {key} deleted: {path!r}"
                if not spec["final"]:
                    used = {spec["caches"][i % len(spec["caches"])] for i in range(spec["scenes"])} \
                        if spec["caches"] else set()
                    for cache in used:
                        path = os.path.join(root_b, b"assets/cache/pexels", f"{cache}.mp4".encode())
                        assert path not in deleted, f"cache still needed by {key} deleted: {path!r}"

            # invariant 2: nothing outside the root is deleted and no link was followed
            assert snapshot(outside) == outside_before
            for path in deleted:
                assert path.startswith(root_b + b"/"), f"deleted outside the root: {path!r}"

            # invariant 4: only selected, previewed, unchanged items are deleted
            selected = {os.fsencode(i.target) for i in plan.items if i.selected}
            assert deleted <= selected, sorted(deleted - selected)
            for path in survivors:
                assert path in after, f"changed, new or excluded file deleted: {path!r}"
            assert removed_by_us.isdisjoint(after)

            # every item has an outcome, nothing failed, and the bytes freed are the bytes removed
            pending = catalog.conn.execute("SELECT count(*) FROM run_items WHERE run_id = ? AND outcome = 'pending'",
                                           (result.run_id,)).fetchone()[0]
            assert pending == 0 and result.failed == []
            sizes = {os.fsencode(i.target): i.size for i in plan.items if i.action is Action.DELETE_FILE}
            assert result.freed_bytes == sum(sizes[p] for p in deleted if p in sizes)
        finally:
            catalog.close()
