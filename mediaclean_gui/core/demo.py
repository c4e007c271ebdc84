"""Build the demo: a generator workspace of real media with its seed 002 database, imported."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .importdb import import_generator_db
from .media import make_audio, make_image, make_video
from .scan import scan_projects


@dataclass(frozen=True)
class DemoProject:
    id: str
    name: str
    scenes: int
    rendered: bool
    caches: tuple[tuple[str, str], ...]  # (provider, video_id)


DEMO_PROJECTS = (
    DemoProject("ocean-doc", "Ocean Documentary", 6, True, (("pexels", "1001"), ("pexels", "1002"))),
    DemoProject("product-launch", "Product Launch", 4, True, (("pexels", "1001"), ("pixabay", "2001"))),
    DemoProject("city-timelapse", "City Timelapse", 3, False, (("pexels", "1002"), ("pixabay", "2002"))),
    DemoProject("recipe-short", "Recipe Short", 2, True, (("pixabay", "2003"),)),
)


def build_demo_workspace(dest: Path, *, small: bool = False) -> tuple[Path, Path]:
    """Write the demo workspace under ``dest``; returns ``(workspace, generator_db)``.

    Four projects in the seed 002 layout with valid mp4, mp3 and jpg files:
    one has no final render yet, two share a provider cache file, and one
    provider cache file is referenced by no project. ``small`` makes tiny
    media (for tests).
    """
    ws = dest / "workspace"
    size = "160x120" if small else "640x360"
    seconds = 1 if small else 4
    base = dest / ".media"
    clips = [make_video(base / f"clip{i}.mp4", seconds + (0 if small else i), size,
                        ("testsrc", "smptebars", "rgbtestsrc")[i % 3]) for i in range(3)]
    tones = [make_audio(base / f"tone{i}.mp3", seconds + i, 330 + 110 * i) for i in range(2)]
    thumb = make_image(base / "thumb.jpg")

    db_path = ws / "generator.db"
    ws.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(
        """
        CREATE TABLE projects(id TEXT PRIMARY KEY, name TEXT, created_at TEXT);
        CREATE TABLE audio_files(id INTEGER PRIMARY KEY, project_id TEXT, scene_number INTEGER, file_path TEXT);
        CREATE TABLE visual_suggestions(id INTEGER PRIMARY KEY, project_id TEXT, scene_number INTEGER,
                                        provider TEXT, video_id TEXT, default_segment_path TEXT);
        CREATE TABLE rendered_videos(id INTEGER PRIMARY KEY, project_id TEXT, file_path TEXT, thumbnail_path TEXT);
        """
    )
    caches: set[tuple[str, str]] = {("pexels", "9999")}
    for n, project in enumerate(DEMO_PROJECTS):
        db.execute("INSERT INTO projects VALUES (?, ?, datetime('now'))", (project.id, project.name))
        for scene in range(1, project.scenes + 1):
            audio = f".cache/audio/{project.id}/scene-{scene}.mp3"
            _copy(tones[scene % 2], ws / audio)
            db.execute("INSERT INTO audio_files(project_id, scene_number, file_path) VALUES (?, ?, ?)",
                       (project.id, scene, audio))
            provider, video_id = project.caches[scene % len(project.caches)]
            segment = f".cache/videos/{project.id}/scene-{scene}-{provider}{video_id}.mp4"
            _copy(clips[scene % 3], ws / segment)
            db.execute(
                "INSERT INTO visual_suggestions(project_id, scene_number, provider, video_id, default_segment_path) "
                "VALUES (?, ?, ?, ?, ?)", (project.id, scene, provider, video_id, segment))
            caches.add((provider, video_id))
        if project.rendered:
            assembly = ws / ".cache" / "assembly" / project.id
            for part in range(3):
                _copy(clips[part], assembly / f"part-{part}.mp4")
            _copy(tones[0], assembly / "mix" / "voiceover.mp3")
            (assembly / "concat.txt").write_text("\n".join(f"file 'part-{p}.mp4'" for p in range(3)) + "\n")
            final = f".cache/output/{project.id}/final.mp4"
            thumbnail = f".cache/output/{project.id}/final-thumb.jpg"
            _copy(clips[n % 3], ws / final)
            _copy(thumb, ws / thumbnail)
            past = time.time() - 3600 * (n + 1)
            os.utime(ws / final, (past, past))
            db.execute("INSERT INTO rendered_videos(project_id, file_path, thumbnail_path) VALUES (?, ?, ?)",
                       (project.id, final, thumbnail))
    for provider, video_id in sorted(caches):
        _copy(clips[int(video_id) % 3], ws / "assets" / "cache" / provider / f"{video_id}.mp4")
    db.commit()
    db.close()
    shutil.rmtree(base, ignore_errors=True)
    return ws, db_path


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def create_demo(dest: Path | None = None, catalog_path: Path | None = None, *, small: bool = False) -> Path:
    """Build a fresh demo workspace, import it into a catalog, scan it; returns the catalog path.

    Without ``dest`` a new temporary folder is used; without ``catalog_path``
    the catalog lives beside the workspace, so the demo never touches the
    user's own catalog.
    """
    dest = Path(tempfile.mkdtemp(prefix="mediaclean-demo-")) if dest is None else dest
    ws, db_path = build_demo_workspace(dest, small=small)
    catalog_path = catalog_path or dest / "catalog.sqlite3"
    catalog = Catalog(catalog_path)
    try:
        result = import_generator_db(catalog, db_path, ws)
        scan_projects(catalog, result.project_ids)
    finally:
        catalog.close()
    return catalog_path
