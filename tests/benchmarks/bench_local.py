"""Benchmark: our scan against ``du -s`` and our executed cleanup against ``rm -r``, same tree, same run.

    python tests/benchmarks/bench_local.py [--files 10000] [--repeat 5] [--dir DIR] [--profile]

Builds a 10,000-file ai-video-generator workspace (one project: scene audio, video segments and an
assembly folder of frame files, plus the final render and its thumbnail, all copies of real media),
then times, alternating so both see the same cache state:

* scan: ``core.scan.scan_projects`` vs ``du -s`` on the workspace root;
* delete: ``plan_cleanup`` + ``execute_plan`` (also reported separately) vs ``rm -r`` of the
  project's intermediate folders, each on its own identical ``cp -a`` copy made before timing.

Prints medians of wall time and of CPU time (user + system, of this process for ours and of the
child for du/rm: the fairer figure on a busy machine) and their ratios (goals: scan <= 1.5x du,
delete <= 1.3x rm). ``--dir`` chooses where the trees go (default: the system temp folder; a disk,
or /dev/shm to see pure CPU overhead). ``--profile`` prints the top of a cProfile of one scan, plan
and execute. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.clean import plan_cleanup
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.media import make_audio, make_image, make_video
from mediaclean_gui.core.projects import add_project
from mediaclean_gui.core.scan import scan_projects

INTERMEDIATE_DIRS = (".cache/assembly/p1", ".cache/audio/p1", ".cache/videos/p1")


def build_workspace(root: Path, media: Path, files: int) -> int:
    """Write ``files`` intermediate files plus final and thumbnail; returns the file count written."""
    video = make_video(media / "clip.mp4", 0.2, "64x48")
    audio = make_audio(media / "tone.mp3", 0.2)
    image = make_image(media / "frame.jpg", "64x36")
    scenes = files // 10
    for n in range(1, scenes + 1):
        dest = root / ".cache" / "audio" / "p1" / f"scene-{n}.mp3"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(audio, dest)
        dest = root / ".cache" / "videos" / "p1" / f"scene-{n}-seg.mp4"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, dest)
    frames = files - 2 * scenes
    for n in range(frames):
        dest = root / ".cache" / "assembly" / "p1" / f"scene-{n // 200:03d}" / f"frame-{n:05d}.jpg"
        if n % 200 == 0:
            dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, dest)
    out = root / ".cache" / "output" / "p1"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, out / "final.mp4")
    shutil.copyfile(image, out / "final-thumb.jpg")
    return files + 2


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall and CPU seconds of one measured step (CPU of this process, or of the children it waited for)."""

    def __init__(self, children: bool = False) -> None:
        self.who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF

    def __enter__(self) -> "Clock":
        self.wall0, self.cpu0 = time.perf_counter(), _cpu(self.who)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = _cpu(self.who) - self.cpu0


def copy_tree(src: Path, dest: Path) -> None:
    subprocess.run(["cp", "-a", str(src), str(dest)], check=True)
    subprocess.run(["sync"], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where to build the trees (default: the system temp folder)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mediaclean-bench-", dir=args.dir) as tmp:
        base = Path(tmp)
        os.environ.setdefault("XDG_CONFIG_HOME", str(base / "config"))  # no user profiles in the way
        master = base / "master"
        count = build_workspace(master, base / "media", args.files)
        print(f"workspace: {count} files in {master} ({sys.platform}, Python {sys.version.split()[0]})")

        # ---- scan vs du -s
        catalog = Catalog(base / "scan.sqlite3")
        (pid,) = add_project(catalog, master, "ai-video-generator")
        scan_projects(catalog, [pid])  # warm the dentry and inode caches for both
        subprocess.run(["du", "-s", str(master)], check=True, capture_output=True)
        m: dict[str, list[Clock]] = {k: [] for k in ("scan", "du", "plan", "execute", "total", "rm")}
        files_scanned = 0
        for _ in range(args.repeat):
            with Clock(children=True) as du:
                subprocess.run(["du", "-s", str(master)], check=True, capture_output=True)
            with Clock() as ours:
                files_scanned = scan_projects(catalog, [pid]).files_scanned
            m["du"].append(du)
            m["scan"].append(ours)
        catalog.close()

        # ---- delete: plan + execute vs rm -r, each on a fresh identical copy
        deleted = 0
        for n in range(args.repeat):
            mine, theirs = base / f"ours-{n}", base / f"rm-{n}"
            copy_tree(master, mine)
            copy_tree(master, theirs)
            catalog = Catalog(base / f"delete-{n}.sqlite3")
            (pid,) = add_project(catalog, mine, "ai-video-generator")
            targets = [str(theirs / d) for d in INTERMEDIATE_DIRS]
            with Clock(children=True) as rm:
                subprocess.run(["rm", "-r", *targets], check=True)
            with Clock() as total:
                with Clock() as plan:
                    plan_id = plan_cleanup(catalog, [pid])
                with Clock() as execute:
                    result = execute_plan(catalog, plan_id, confirm_large=True)
            for key, clock in (("rm", rm), ("plan", plan), ("execute", execute), ("total", total)):
                m[key].append(clock)
            deleted = result.deleted_count
            assert not result.failed and (mine / ".cache/output/p1/final.mp4").exists()
            assert not any((theirs / d).exists() for d in INTERMEDIATE_DIRS)
            catalog.close()
            shutil.rmtree(mine)
            shutil.rmtree(theirs, ignore_errors=True)

        if args.profile:
            prof_root = base / "profile"
            copy_tree(master, prof_root)
            catalog = Catalog(base / "profile.sqlite3")
            (pid,) = add_project(catalog, prof_root, "ai-video-generator")
            profiler = cProfile.Profile()
            profiler.enable()
            scan_projects(catalog, [pid])
            execute_plan(catalog, plan_cleanup(catalog, [pid]), confirm_large=True)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            catalog.close()

    def med(key: str, what: str) -> float:
        return statistics.median(getattr(c, what) for c in m[key])

    rows = [("scan_projects", "scan", "du -s", "du", 1.5), ("plan + execute", "total", "rm -r", "rm", 1.3),
            ("  execute only", "execute", "rm -r", "rm", 1.3), ("  plan only", "plan", "", "", None)]
    print(f"\nmedians of {args.repeat} runs; scan saw {files_scanned} files, cleanup deleted {deleted} files\n")
    print(f"{'ours':<16}{'wall s':>8}{'cpu s':>8}   {'reference':<9}{'wall s':>8}{'cpu s':>8}"
          f"   {'wall x':>7}{'cpu x':>7}   goal")
    for name, key, ref_name, ref, goal in rows:
        line = f"{name:<16}{med(key, 'wall'):8.3f}{med(key, 'cpu'):8.3f}   {ref_name:<9}"
        if ref:
            wall_x = med(key, "wall") / med(ref, "wall")
            cpu_x = med(key, "cpu") / max(med(ref, "cpu"), 1e-9)
            line += f"{med(ref, 'wall'):8.3f}{med(ref, 'cpu'):8.3f}   {wall_x:7.2f}{cpu_x:7.2f}   <= {goal}" \
                    f" {'met' if wall_x <= goal else 'missed'} (wall)"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
