"""Benchmark (issue 5): a 100,000-file render temp root — our scan vs ``du -s``, our temp sweep vs ``rm -r``.

Plain script, not collected by pytest. Run: ``python tests/benchmarks/bench_temp.py [--files N] [--profile]``.
Goals: scan ≤ 1.5 × du, delete ≤ 1.3 × rm (same run, identical copies made with ``cp -a``, warm caches).
"""

from __future__ import annotations

import argparse
import cProfile
import io
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
from mediaclean_gui.core.execute import execute_plan
from mediaclean_gui.core.plan import load_plan
from mediaclean_gui.core.tempclean import plan_temp
from mediaclean_gui.core.walk import walk

PREFIXES = ("concatenate_", "trim_", "intro_", "demo_")


def build(root: Path, files: int, per_folder: int) -> None:
    """``files`` small files in folders of ``per_folder`` (half in a ``parts/`` subfolder), all 3 days old."""
    root.mkdir(parents=True)
    old = time.time() - 72 * 3600
    payload = b"\0" * 512
    made = 0
    n = 0
    while made < files:
        folder = root / f"{PREFIXES[n % len(PREFIXES)]}{n:05d}"
        parts = folder / "parts"
        parts.mkdir(parents=True)
        count = min(per_folder, files - made)
        for i in range(count):
            path = (parts if i % 2 else folder) / f"seg_{i:03d}.mp4"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, payload)
            os.close(fd)
            os.utime(path, (old, old))
        os.utime(parts, (old, old))
        os.utime(folder, (old, old))
        made += count
        n += 1


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu(children: bool) -> float:
    """User + system CPU seconds so far, of this process or of its waited-for children."""
    t = os.times()
    return t.children_user + t.children_system if children else t.user + t.system


def our_scan(root: Path) -> int:
    total = 0
    for entry in walk(str(root)):
        if entry.kind == "file" and entry.st is not None:
            total += entry.st.st_size
    return total


def copy(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--per-folder", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one execute_plan and print the top calls")
    parser.add_argument("--dir", default=None, help="where to build the trees (default: the system temp folder)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mediaclean-bench-temp-", dir=args.dir))
    try:
        master = work / "master"
        t = timed(lambda: build(master, args.files, args.per_folder))
        print(f"built {args.files} files in {len(os.listdir(master))} temp folders in {t:.1f} s ({work})")

        # ---- scan: core.walk.walk vs du -s (warm cache, alternating, best of rounds)
        subprocess.run(["du", "-s", str(master)], check=True, capture_output=True)
        our_scan(master)
        du_times, scan_times = [], []
        for _ in range(args.rounds):
            du_times.append(timed(lambda: subprocess.run(["du", "-s", str(master)], check=True, capture_output=True)))
            scan_times.append(timed(lambda: our_scan(master)))
        du_best, scan_best = min(du_times), min(scan_times)
        print(f"\nscan   du -s: best {du_best:.3f} s (median {statistics.median(du_times):.3f})   "
              f"walk: best {scan_best:.3f} s (median {statistics.median(scan_times):.3f})   "
              f"ratio {scan_best / du_best:.2f}x  (goal <= 1.5x)")

        # ---- delete: plan_temp + execute_plan vs rm -r on identical copies
        rm_times, plan_times, exec_times = [], [], []
        rm_cpu, exec_cpu = [], []
        for n in range(args.rounds):
            a, b = work / f"rm-{n}", work / f"ours-{n}"
            copy(master, a)
            copy(master, b)
            os.sync()
            cat = Catalog(work / f"catalog-{n}.sqlite3")
            order = ("rm", "ours") if n % 2 == 0 else ("ours", "rm")
            for who in order:
                if who == "rm":
                    before = cpu(True)
                    rm_times.append(timed(lambda: subprocess.run(["rm", "-r", str(a)], check=True)))
                    rm_cpu.append(cpu(True) - before)
                    continue
                plan_id = 0

                def plan() -> None:
                    nonlocal plan_id
                    plan_id = plan_temp(cat, b, older_than_hours=24)

                plan_times.append(timed(plan))
                items = load_plan(cat, plan_id, with_items=False).item_count
                if args.profile and n == 0:
                    prof = cProfile.Profile()
                    start = time.perf_counter()
                    prof.enable()
                    result = execute_plan(cat, plan_id, confirm_large=True)
                    prof.disable()
                    exec_times.append(time.perf_counter() - start)
                    out = io.StringIO()
                    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
                    print(out.getvalue())
                else:
                    before = cpu(False)
                    start = time.perf_counter()
                    result = execute_plan(cat, plan_id, confirm_large=True)
                    exec_times.append(time.perf_counter() - start)
                    exec_cpu.append(cpu(False) - before)
                assert result.status == "complete" and result.deleted_count == args.files, result.as_json()
                assert not any(b.iterdir()), "everything was deleted"
            cat.close()
            print(f"  round {n} ({' first, '.join(order)} second): plan {plan_times[-1]:.2f} s ({items} items), "
                  f"execute {exec_times[-1]:.2f} s, rm -r {rm_times[-1]:.2f} s, "
                  f"paired ratio {exec_times[-1] / rm_times[-1]:.2f}x", flush=True)
        rm_best, plan_best, exec_best = min(rm_times), min(plan_times), min(exec_times)
        print(f"\ndelete rm -r: best {rm_best:.3f} s (median {statistics.median(rm_times):.3f})")
        print(f"       plan_temp: best {plan_best:.3f} s   execute_plan: best {exec_best:.3f} s "
              f"(median {statistics.median(exec_times):.3f})")
        paired = sorted(e / r for e, r in zip(exec_times, rm_times))
        print(f"       ratio execute/rm {exec_best / rm_best:.2f}x best/best, {statistics.median(paired):.2f}x median "
              f"of paired rounds  (goal <= 1.3x)   ratio (plan+execute)/rm {(plan_best + exec_best) / rm_best:.2f}x")
        if exec_cpu:
            print(f"       CPU (user+sys) execute_plan {min(exec_cpu):.2f} s vs rm -r {min(rm_cpu):.2f} s: "
                  f"what is left of the wall time is waiting for the disk")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
