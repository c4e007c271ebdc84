"""Property test: hostile ids, external ids, provider names and profile patterns (invariants 1, 2, 11, 12).

Each example builds a real workspace — a rendered project, a project without its final, a generator
database, a folder of the creator's files outside the root — then registers projects whose values come
from a hostile strategy (``..``, ``.``, ``/``, ``**``, NUL, unicode, very long …) through every door: a
generator database (ids, provider names, video ids), ``--external-id``, and a user profile whose patterns
and ``final`` template are drawn too. It plans a cleanup of every project, executes it, and checks:

1. no final or thumbnail of any project is deleted, and nothing of the project without its final;
2. nothing outside the root is deleted;
11. every planned target is a normal path strictly inside the root, and no project whose id cannot be
    bound into its layout's folders gets an item;
12. whatever any layout used on the workspace calls final or thumbnail survives.

The catalog is shared by the examples (each removes its projects afterwards) and finals are hard links of
one real video, so ffprobe proves it complete once: 2,000 examples fit in CI
(``MEDIACLEAN_PROPERTY_EXAMPLES`` asks for more in a slow run).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.errors import ConfigError, KnownError
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.plan import Reason, load_plan
from mediaclean_gui.core.profiles import Role, get_profile, user_profiles_dir
from mediaclean_gui.core.projects import add_project, list_projects, remove_project
from mediaclean_gui.core.safety import bad_placeholder_value, check_target

EXAMPLES = int(os.environ.get("MEDIACLEAN_PROPERTY_EXAMPLES", "2000"))

HOSTILE = [".", "..", "a/b", "../output/r1", "r1/..", "../..", "/", "", " ", "x\x00y", "ünï-cødé 🎬", "p" * 300,
           "**", "*", "?", "{project}", "-rf", "$HOME", "~", ".hidden", "r1", "r2", "assets", "cache", "\n", "a\\b"]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
PATTERNS = ["**", "*", ".cache/**", ".cache/output/**", ".cache/*/{project}/**", "{project}/**", "**/final.mp4",
            "**/*.jpg", "assets/**", ".cache/output/{project}/", ".cache/{project}/", "*/", "**/", ".cache/output/r1/",
            "generator.db", ".cache/output/*/final-thumb.jpg", "../**", "./**", ".cache/../**", "/abs/**"]
FINALS = [None, ".cache/output/{project}/final.mp4", ".cache/output/r1/final.mp4", ".cache/output/r2/final.mp4",
          "generator.db", "{project}/final.mp4", "../final.mp4"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    return {
        "db_ids": draw(st.lists(values, max_size=3)),
        "providers": draw(st.lists(st.tuples(values, values), max_size=2)),
        "external_ids": draw(st.lists(values, max_size=2)),
        "patterns": draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)),
        "final": draw(st.sampled_from(FINALS)),
        "profile_ids": draw(st.lists(st.one_of(st.none(), values), min_size=1, max_size=2)),
    }


#: memory-backed when the machine has one: these examples test the safety logic, not the disk's fsync
FAST_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="module")
def shared(media_pool):
    """One catalog for every example, and one real video every final is a hard link of."""
    with tempfile.TemporaryDirectory(prefix="mediaclean-hostile-shared-", dir=FAST_TMP) as tmp:
        yield from _shared(Path(tmp), media_pool)


def _shared(base: Path, media_pool):
    final = base / "pool-final.mp4"
    shutil.copyfile(media_pool.video, final)
    past = time.time() - 3600
    os.utime(final, (past, past))
    catalog = Catalog(base / "catalog.sqlite3")
    yield catalog, final, media_pool
    catalog.close()


def digests(top: Path) -> dict[str, str]:
    out = {}
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                with open(path, "rb") as fh:
                    out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


def put(root: Path, rel: str, data: bytes | None = None, link_from: Path | None = None) -> Path | None:
    """Write ``rel`` below ``root`` when it names a place strictly inside it; ``None`` otherwise."""
    try:
        path = Path(os.path.normpath(root / rel))
        if not str(path).startswith(str(root) + os.sep):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path if path.is_file() else None
        if link_from is not None:
            os.link(link_from, path)
        else:
            path.write_bytes(data or b"x")
        return path
    except (OSError, ValueError):
        return None


_counter = itertools.count()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(scenario=scenarios())
# regression: registering the id of an imported, unrendered project again with a catch-all layout whose
# final is another project's render once turned that project into the new layout and deleted all of it
@example(scenario={"db_ids": [], "providers": [], "external_ids": [], "patterns": ["**"],
                   "final": ".cache/output/r1/final.mp4", "profile_ids": ["r2"]})
def test_hostile_values_never_reach_what_a_creator_keeps(shared, scenario):
    catalog, pool_final, pool = shared
    n = next(_counter)
    with tempfile.TemporaryDirectory(prefix="mediaclean-hostile-", dir=FAST_TMP) as tmp:
        base = Path(tmp)
        root = base / "ws"
        outside = base / "outside"
        for rel in ("only-copy.mp4", "ws-sibling/final.mp4", "cache/scene-1.mp3"):
            put(outside, rel, b"the creator's only copy " + rel.encode())
        # the creator's real work: r1 rendered, r2 not yet
        for key in ("r1", "r2"):
            for rel in (f".cache/audio/{key}/scene-1.mp3", f".cache/videos/{key}/scene-1-a.mp4",
                        f".cache/assembly/{key}/part-0.mp4", f"assets/cache/pexels/{key}-own.mp4"):
                put(root, rel, rel.encode())
        put(root, ".cache/output/r1/final.mp4", link_from=pool_final)
        put(root, ".cache/output/r1/final-thumb.jpg", pool.image.read_bytes())
        db = root / "generator.db"
        conn = sqlite3.connect(db)
        conn.executescript(
            "CREATE TABLE projects(id TEXT, name TEXT); CREATE TABLE audio_files(project_id TEXT, file_path TEXT);"
            "CREATE TABLE visual_suggestions(project_id TEXT, provider TEXT, video_id TEXT, "
            "default_segment_path TEXT); CREATE TABLE rendered_videos(project_id TEXT, file_path TEXT, "
            "thumbnail_path TEXT);")
        # (a hostile row named r1 or r2 would merely render r2: the oracle below assumes r2 stays unrendered)
        rows = [("r1", True), ("r2", False)] + [(i, True) for i in scenario["db_ids"] if i not in ("r1", "r2")]
        for pid, rendered in rows:
            conn.execute("INSERT INTO projects VALUES (?, ?)", (pid, f"db {pid!r}"))
            conn.execute("INSERT INTO audio_files VALUES (?, ?)", (pid, f".cache/audio/{pid}/scene-1.mp3"))
            conn.execute("INSERT INTO visual_suggestions VALUES (?, 'pexels', ?, ?)",
                         (pid, f"{pid}-own", f".cache/videos/{pid}/scene-1-a.mp4"))
            if rendered:
                final = f".cache/output/{pid}/final.mp4"
                put(root, final, link_from=pool_final)
                put(root, f".cache/output/{pid}/final-thumb.jpg", b"thumb")
                conn.execute("INSERT INTO rendered_videos VALUES (?, ?, ?)",
                             (pid, final, f".cache/output/{pid}/final-thumb.jpg"))
            put(root, f".cache/audio/{pid}/scene-1.mp3", b"hostile audio")
        for provider, video in scenario["providers"]:
            conn.execute("INSERT INTO visual_suggestions VALUES ('r1', ?, ?, NULL)", (provider, video))
            put(root, f"assets/cache/{provider}/{video}.mp4", b"provider file")
        conn.commit()
        conn.close()

        profile_file = user_profiles_dir() / f"hostile-{n}.toml"
        profile_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f'name = "hostile-{n}"']
        if scenario["final"] is not None:
            lines.append(f'final = "{scenario["final"]}"')
        for pattern in scenario["patterns"]:
            lines += ["[[artifact]]", f'pattern = "{pattern}"', 'role = "intermediate"']
        profile_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            try:
                profile = get_profile(f"hostile-{n}")
            except ConfigError:
                profile_file.unlink()  # refused with a clear error: nothing of it can act
                profile = None
            before = digests(base)
            # every door a value can come in through
            import_generator_db(catalog, db, root)
            for ext in scenario["external_ids"]:
                try:
                    add_project(catalog, root, "ai-video-generator", external_id=ext, name=f"ext {ext!r}")
                except ConfigError as exc:
                    assert bad_placeholder_value(ext) or "not valid UTF-8" in str(exc), (ext, exc)
            if profile is not None:
                for ext in scenario["profile_ids"]:
                    try:
                        add_project(catalog, root, profile.name, external_id=ext, name=f"profile {ext!r}")
                    except ConfigError:
                        pass
            projects = [p for p in list_projects(catalog) if p.root == str(root)]
            _check(catalog, projects, root, base, before)
        finally:
            for project in list_projects(catalog):
                if project.root == str(root):
                    remove_project(catalog, project.id)
            if profile_file.exists():
                profile_file.unlink()


def _check(catalog: Catalog, projects: list, root: Path, base: Path, before: dict[str, str]) -> None:
    plan_id = plan_cleanup(catalog, [p.id for p in projects])
    plan = load_plan(catalog, plan_id)
    bad = {p.id for p in projects
           if bad_placeholder_value(p.external_id) and get_profile(p.profile).uses_project}
    for item in plan.items:
        # invariant 11: a normal path strictly inside the root, never on behalf of an unusable id
        assert check_target(item.target, str(root)) is None, item.target
        assert item.project_id not in bad, (item.target, item.project_id)
    for pid in bad:
        assert any(k.project_id == pid and k.reason is Reason.UNSAFE_NAME for k in plan.kept), pid

    # what must survive: every final and thumbnail any layout on the root names, the unrendered project,
    # the database, and everything outside the root
    layouts = [get_profile(name) for name in sorted({p.profile for p in projects})]
    must_stay = set()
    for path in before:
        rel = os.path.relpath(path, root)
        if not path.startswith(str(root) + os.sep):
            must_stay.add(path)
            continue
        if rel.startswith(tuple(f".cache/{sub}/r2/" for sub in ("audio", "videos", "assembly", "output"))) or \
                rel in ("generator.db", "assets/cache/pexels/r2-own.mp4"):
            must_stay.add(path)
        for layout in layouts:
            found = layout.classify(rel.replace(os.sep, "/"), None)
            if found is not None and found.role in (Role.FINAL, Role.THUMBNAIL):
                must_stay.add(path)
    try:
        execute_plan(catalog, plan_id, confirm_large=True)
    except KnownError:
        pass  # refused (nobody ready): nothing may have changed
    after = digests(base)
    for path in must_stay:
        assert after.get(path) == before[path], f"deleted or changed: {path}"
    for path in set(before) - set(after):
        assert path.startswith(str(root) + os.sep), f"deleted outside the root: {path}"
