"""Test helpers that build real workspaces: real media files, real generator databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from mediaclean_gui.core.media import make_audio, make_image, make_video


@dataclass
class MediaPool:
    """One real file of each kind; workspaces get copies (fast, still valid media)."""

    video: Path
    audio: Path
    image: Path

    @classmethod
    def create(cls, folder: Path) -> "MediaPool":
        return cls(
            make_video(folder / "clip.mp4", 1, "160x120"),
            make_audio(folder / "tone.mp3", 1),
            make_image(folder / "thumb.jpg", "160x90"),
        )

    def copy(self, kind: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile({"mp4": self.video, "mp3": self.audio, "jpg": self.image}[kind], dest)
        return dest


@dataclass
class GeneratorWorkspace:
    """A seed 002 workspace: ``add_project`` writes the files and rows; ``write_db`` the database.

    Paths in the database are relative to the root unless given absolute.
    """

    root: Path
    media: MediaPool
    projects: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def add_project(self, pid: str, name: str | None = None, *, scenes: int = 2, final: bool = True,
                    caches: list[tuple[str, str]] | None = None, assembly: int = 2, final_age: float = 3600) -> dict:
        audio = []
        segments = []
        caches = caches if caches is not None else [("pexels", f"{pid}-own")]
        for n in range(1, scenes + 1):
            a = f".cache/audio/{pid}/scene-{n}.mp3"
            self.media.copy("mp3", self.root / a)
            audio.append(a)
            s = f".cache/videos/{pid}/scene-{n}-seg.mp4"
            self.media.copy("mp4", self.root / s)
            segments.append(s)
        for provider, vid in caches:
            self.media.copy("mp4", self.root / "assets" / "cache" / provider / f"{vid}.mp4")
        for n in range(assembly):
            self.media.copy("mp4", self.root / ".cache" / "assembly" / pid / f"part-{n}.mp4")
        finals = None
        if final:
            finals = self.render_final(pid, age=final_age)
        self.projects[pid] = {"name": name or pid, "audio": audio, "segments": segments, "caches": caches,
                              "final": finals}
        return self.projects[pid]

    def render_final(self, pid: str, age: float = 3600) -> tuple[str, str]:
        f = f".cache/output/{pid}/final.mp4"
        t = f".cache/output/{pid}/final-thumb.jpg"
        self.media.copy("mp4", self.root / f)
        self.media.copy("jpg", self.root / t)
        past = time.time() - age
        os.utime(self.root / f, (past, past))
        if pid in self.projects:
            self.projects[pid]["final"] = (f, t)
        return f, t

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write_db(self, path: Path | None = None, *, extra_audio: list[tuple[str, str]] = ()) -> Path:
        path = path or self.root / "generator.db"
        if path.exists():
            path.unlink()
        db = sqlite3.connect(path)
        db.executescript(
            """
            CREATE TABLE projects(id TEXT PRIMARY KEY, name TEXT, extra_column TEXT);
            CREATE TABLE audio_files(id INTEGER PRIMARY KEY, project_id TEXT, file_path TEXT);
            CREATE TABLE visual_suggestions(id INTEGER PRIMARY KEY, project_id TEXT, provider TEXT, video_id TEXT,
                                            default_segment_path TEXT);
            CREATE TABLE rendered_videos(id INTEGER PRIMARY KEY, project_id TEXT, file_path TEXT, thumbnail_path TEXT);
            CREATE TABLE unrelated(x INTEGER);
            """
        )
        for pid, p in self.projects.items():
            db.execute("INSERT INTO projects(id, name) VALUES (?, ?)", (pid, p["name"]))
            for a in p["audio"]:
                db.execute("INSERT INTO audio_files(project_id, file_path) VALUES (?, ?)", (pid, a))
            for i, s in enumerate(p["segments"]):
                provider, vid = p["caches"][i % len(p["caches"])] if p["caches"] else (None, None)
                db.execute("INSERT INTO visual_suggestions(project_id, provider, video_id, default_segment_path) "
                           "VALUES (?, ?, ?, ?)", (pid, provider, vid, s))
            if p["final"]:
                db.execute("INSERT INTO rendered_videos(project_id, file_path, thumbnail_path) VALUES (?, ?, ?)",
                           (pid, *p["final"]))
        for pid, file_path in extra_audio:
            db.execute("INSERT INTO audio_files(project_id, file_path) VALUES (?, ?)", (pid, file_path))
        db.commit()
        db.close()
        return path


#: Python source put before a real command line started with ``python -c``: each local unlink and rename is
#: slowed by 2 ms (a fault-injection wrapper around the real calls, nothing else changes), so a run lasts long
#: enough to be killed in the middle. The crash tests add their own lines after it.
SLOW_FS_PRELUDE = """
import os, sys, time
_unlink, _rename = os.unlink, os.rename
def unlink(*args, **kwargs):
    time.sleep(0.002)
    return _unlink(*args, **kwargs)
def rename(*args, **kwargs):
    time.sleep(0.002)
    return _rename(*args, **kwargs)
os.unlink, os.rename = unlink, rename
"""
