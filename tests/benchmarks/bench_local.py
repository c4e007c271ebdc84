"""Benchmark: our scan against ``du -s`` and our executed cleanup against ``rm -r``, same tree, same run.

    python tests/benchmarks/bench_local.py [--files 10000] [--repeat 5] [--profile]

Builds a 10,000-file ai-video-generator workspace (one project: scene audio, video segments and an
assembly folder of frame files, plus the final render and its thumbnail, all copies of real media),
then times, alternating so both see the same cache state:

* scan: ``core.scan.scan_projects`` vs ``du -s`` on the workspace root;
* delete: ``plan_cleanup`` + ``execute_plan`` (also reported separately) vs ``rm -r`` of the
  project's intermediate folders, each on its own identical ``cp -a`` copy made before timing.

Prints medians and ratios (goals: scan <= 1.5x du, delete <= 1.3x rm). Not collected by pytest.
``--profile`` prints the top of a cProfile of one plan + execute.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
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


def timed(func) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def copy_tree(src: Path, dest: Path) -> None:
    subprocess.run(["cp", "-a", str(src), str(dest)], check=True)
    subprocess.run(["sync"], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mediaclean-bench-") as tmp:
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
        ours_scan, du = [], []
        files_scanned = 0
        for _ in range(args.repeat):
            du.append(timed(lambda: subprocess.run(["du", "-s", str(master)], check=True, capture_output=True)))
            start = time.perf_counter()
            files_scanned = scan_projects(catalog, [pid]).files_scanned
            ours_scan.append(time.perf_counter() - start)
        catalog.close()

        # ---- delete: plan + execute vs rm -r, each on a fresh identical copy
        plans, executes, totals, rms = [], [], [], []
        deleted = 0
        for n in range(args.repeat):
            mine, theirs = base / f"ours-{n}", base / f"rm-{n}"
            copy_tree(master, mine)
            copy_tree(master, theirs)
            catalog = Catalog(base / f"delete-{n}.sqlite3")
            (pid,) = add_project(catalog, mine, "ai-video-generator")
            targets = [str(theirs / d) for d in INTERMEDIATE_DIRS]
            rms.append(timed(lambda: subprocess.run(["rm", "-r", *targets], check=True)))
            start = time.perf_counter()
            plan_id = plan_cleanup(catalog, [pid])
            planned = time.perf_counter()
            result = execute_plan(catalog, plan_id, confirm_large=True)
            done = time.perf_counter()
            plans.append(planned - start)
            executes.append(done - planned)
            totals.append(done - start)
            deleted = result.deleted_count
            assert not result.failed and (mine / ".cache/output/p1/final.mp4").exists()
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

    med = statistics.median
    rows = [
        ("scan_projects", med(ours_scan), "du -s", med(du), med(ours_scan) / med(du), 1.5),
        ("plan + execute", med(totals), "rm -r", med(rms), med(totals) / med(rms), 1.3),
        ("  execute only", med(executes), "rm -r", med(rms), med(executes) / med(rms), 1.3),
        ("  plan only", med(plans), "", float("nan"), float("nan"), None),
    ]
    print(f"\nmedians of {args.repeat} runs; scan saw {files_scanned} files, cleanup deleted {deleted} files\n")
    print(f"{'ours':<16}{'s':>9}   {'reference':<8}{'s':>9}   {'ratio':>6}   goal")
    for name, ours, ref_name, ref, ratio, goal in rows:
        ref_text = f"{ref:9.3f}" if ref == ref else " " * 9
        ratio_text = f"{ratio:6.2f}" if ratio == ratio else " " * 6
        goal_text = "" if goal is None else f"<= {goal}  {'met' if ratio <= goal else 'MISSED'}"
        print(f"{name:<16}{ours:9.3f}   {ref_name:<8}{ref_text}   {ratio_text}   {goal_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
