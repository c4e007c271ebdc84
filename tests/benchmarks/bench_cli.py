"""Benchmark: the ``mediaclean`` command as whole processes, against ``rm -r`` and ``du -s``, same trees, same run.

    .venv/bin/python tests/benchmarks/bench_cli.py [--files 100000] [--repeat 5] [--dir DIR]
        [--growth 25000,50000,100000,200000] [--million] [--profile] [--keep-caches]
        [--skip-clean] [--skip-scan] [--skip-growth] [--quiet S] [--baseline PROGRAM]

Measures mediaclean as a user meets it: each figure is one ``mediaclean --catalog FILE --json ...``
process (start-up, imports, catalog, work, the JSON on stdout), timed from spawn to exit and reaped with
``os.wait4`` (wall and CPU seconds of the child, never this script's). Its peak RSS is what
``/usr/bin/time -f %M`` reports for it: the program and the children it waited for (``ffprobe`` checking the
final render peaks at ~56 MB); see :func:`spawn` for why ``wait4``'s ``ru_maxrss`` alone is not enough.

* **clean**: ``mediaclean clean p1 --yes --confirm-large`` (plan + execute) of an N-file ai-video-generator
  workspace against ``rm -r`` of its three intermediate folders on an identical ``cp -a`` copy. Before each
  pair both trees are synced to disk (``sync``) and, when this runs as root, the page, dentry and inode caches
  are dropped (``echo 3 > /proc/sys/vm/drop_caches``; not with ``--keep-caches``), then both programs are
  started once on a scratch target so their own code is in memory again; the order alternates from run to run.
* **scan**: ``mediaclean scan p1`` against ``du -s ROOT``, warm cache, the same tree, alternating.
* **growth**: the clean process at each N of ``--growth``: wall time, CPU time and peak RSS, per item.
* **memory at 1,000,000 files** (``--million``, slow): peak RSS of planning (``clean p1``, a dry run) and of
  executing (``clean --plan ID --yes --confirm-large``) a workspace of 1,000,000 empty files (plus a real
  final render and thumbnail): empty files are made fast, and the memory a plan needs does not depend
  on file sizes.
* ``--baseline PROGRAM``: another ``mediaclean`` (a launcher of an earlier commit's checkout) cleans a third
  copy in the same rounds, the order rotating; prints ours / baseline per round and its median.
* ``--profile``: one clean under ``python -m cProfile`` (around the CLI's ``main``), top 25 by cumulative
  and by own time.

The final render is aged by an hour before copying (``cp -a`` keeps the age), as a user's is when they
clean, so the preferences stay at their defaults; ``--confirm-large`` is the second confirmation the
default delete limit (10,000 files) asks for. Each project is registered with
``mediaclean project add ROOT --profile ai-video-generator --external-id p1``; the catalog lives beside
the trees (on ``--dir``'s file system). JSON output goes to a file in /dev/shm (scan's to /dev/null); only
the exit status, ``plan_id`` and ``deleted_count`` are read from it. The children's bytecode is written to a
folder of the run (``PYTHONPYCACHEPREFIX``; ``PYTHONDONTWRITEBYTECODE`` is dropped for them), so every timed
start reads compiled modules, as an installed mediaclean does.

Each timed run also reports the CPU seconds the rest of the machine used meanwhile (``/proc/stat``'s busy time
minus the run's own): a quiet run shows a few hundredths. ``--quiet S`` waits for S idle seconds before each
timed pair, for a machine shared with other jobs. Medians of ``--repeat`` runs (at least 5 is the rule for a
figure that is quoted). The machine's load average is printed before and after. ``--dir`` chooses the file
system (default: a folder under /var/tmp, a disk; a tmpfs such as /dev/shm measures our CPU overhead, and is
judged by the in-memory goal). Not collected by pytest.

Goals (issue 9): clean <= 1.0x ``rm -r`` on disk, <= 3x in memory; scan <= 1.5x ``du -s``; peak RSS of
planning and of executing 1,000,000 files <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import machine  # noqa: E402
from bench_local import INTERMEDIATE_DIRS, build_workspace  # noqa: E402

from mediaclean_gui.core.media import make_image, make_video  # noqa: E402

MB = 1_000_000
PROFILE = "ai-video-generator"
AGE_SECONDS = 3600.0
#: JSON files larger than this are searched for a key instead of parsed (a 1M-item plan is ~250 MB)
PARSE_LIMIT = 64 * MB


@dataclass
class Child:
    """One finished process: wall seconds from spawn to exit, CPU seconds (user + system), peak RSS in bytes."""

    argv: list[str]
    wall: float
    cpu: float
    rss: int
    code: int
    stderr: str
    others: float = 0.0  # CPU seconds the rest of the machine used meanwhile (/proc/stat busy minus ours)


TIME = shutil.which("time", path="/usr/bin:/bin")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_seconds() -> float:
    """CPU seconds every CPU of the machine has been busy since boot (``/proc/stat``: all but idle and iowait);
    0 where there is no ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / TICK


def wait_quiet(seconds: float, share: float = 0.05, timeout: float = 900.0) -> float:
    """Wait (at most ``timeout`` s) until the whole machine has used under ``share`` of one CPU for ``seconds`` in
    a row: other agents' jobs come and go, and a timed pair should start in a lull. Returns the seconds waited."""
    if seconds <= 0:
        return 0.0
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = busy_seconds()
        time.sleep(seconds)
        if busy_seconds() - before < share * seconds:
            break
    return time.perf_counter() - started


def spawn(argv: list[str], stdout: Path | None = None, env: dict[str, str] | None = None) -> Child:
    """Run ``argv`` to its end; stdout to the file ``stdout`` (or /dev/null).

    Wall and CPU time come from ``os.wait4``. The peak RSS comes from ``/usr/bin/time``, which ``argv`` runs
    under: a child's ``ru_maxrss`` also counts the memory of the process that forked it (Linux records the
    pre-``exec`` mm's high-water mark), so reaping the program directly would add this script's RSS to it;
    under ``time`` that pre-``exec`` process is ``time`` itself (~2 MB). Without ``/usr/bin/time``, the
    figure is ``wait4``'s and says so (``rss_exact`` false)."""
    out = open(stdout, "wb") if stdout else open(os.devnull, "wb")
    with out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        command = [TIME, "-f", "%M", "-o", rss.name, *argv] if TIME else argv
        started, busy = time.perf_counter(), busy_seconds()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        busy = busy_seconds() - busy
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        lines = rss.read().split()
    peak = int(lines[-1]) * 1024 if TIME and lines and lines[-1].isdigit() else usage.ru_maxrss * 1024
    cpu = usage.ru_utime + usage.ru_stime
    return Child(argv, wall, cpu, peak, proc.returncode, text, max(0.0, busy - cpu))


def must(child: Child, *codes: int) -> Child:
    if child.code not in (codes or (0,)):
        raise SystemExit(f"{' '.join(child.argv)} exited {child.code}:\n{child.stderr}")
    return child


def json_key(path: Path, key: str) -> object:
    """``key`` of the one JSON object in ``path``: parsed when small, else the first ``"key": number`` found."""
    if path.stat().st_size <= PARSE_LIMIT:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh).get(key)
    pattern = re.compile(rb'"' + key.encode() + rb'":\s*(-?\d+)')
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * MB):
            found = pattern.search(tail + chunk)
            if found:
                return int(found.group(1))
            tail = chunk[-64:]
    return None


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def fs_type(folder: Path) -> str:
    return subprocess.run(["stat", "-f", "-c", "%T", str(folder)], capture_output=True, text=True).stdout.strip()


class Bench:
    """The programs, the environment and the cache handling shared by every section."""

    def __init__(self, base: Path, mediaclean: str, outdir: Path, drop: bool = True) -> None:
        self.base = base
        self.mc = mediaclean
        self.outdir = outdir
        self.env = dict(os.environ)
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                         ("XDG_CACHE_HOME", "cache")):
            self.env[var] = str(base / "home" / sub)  # no user profiles, logs or catalogs in the way
        self.env.pop("MEDIACLEAN_CATALOG", None)
        # an installed mediaclean has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE
        # would compile every module at every start. Bytecode goes to a folder of the run, not the checkout.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        self.scratch = base / "scratch"
        self.scratch.mkdir()
        self.dropped = drop and self._drop_caches()
        self.quiet = 0.0  # seconds of an idle machine to wait for before each timed clean pair (--quiet)

    def cli(self, catalog: Path, *args: str, out: Path | None = None, program: str | None = None) -> Child:
        return spawn([program or self.mc, "--catalog", str(catalog), "--json", *args], out, self.env)

    def out(self, name: str) -> Path:
        return self.outdir / f"{name}.json"

    def register(self, catalog: Path, root: Path, program: str | None = None) -> None:
        must(self.cli(catalog, "project", "add", str(root), "--profile", PROFILE, "--external-id", "p1",
                      program=program))

    @staticmethod
    def _drop_caches() -> bool:
        try:
            with open("/proc/sys/vm/drop_caches", "w") as fh:
                fh.write("3\n")
            return True
        except OSError:
            return False

    def settle(self) -> None:
        """Everything on disk, the caches dropped when we may, then the programs' own code read back in."""
        subprocess.run(["sync"], check=True)
        if self.dropped:
            self._drop_caches()
        dummy = self.scratch / "x"
        dummy.mkdir(exist_ok=True)
        (dummy / "f").write_bytes(b"")
        must(self.cli(self.scratch / "warm.sqlite3", "prefs", "settle_seconds"))
        must(spawn(["du", "-s", str(dummy)]))
        must(spawn(["rm", "-r", str(dummy)]))

    def copy(self, src: Path, dest: Path) -> None:
        must(spawn(["cp", "-a", str(src), str(dest)]))


def build(root: Path, media: Path, files: int) -> int:
    """The workspace of ``files`` intermediate files, its final render aged by an hour; returns files written."""
    media.mkdir(parents=True, exist_ok=True)
    count = build_workspace(root, media, files)
    age_final(root)
    return count


def age_final(root: Path) -> None:
    then = time.time() - AGE_SECONDS
    for name in ("final.mp4", "final-thumb.jpg"):
        os.utime(root / ".cache" / "output" / "p1" / name, (then, then))


def build_empty(root: Path, media: Path, files: int) -> int:
    """``build_workspace``'s layout with empty intermediate files (fast), and a real final render and thumbnail."""
    media.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    scenes = files // 10
    audio, videos = root / ".cache" / "audio" / "p1", root / ".cache" / "videos" / "p1"
    audio.mkdir(parents=True)
    videos.mkdir(parents=True)
    for n in range(1, scenes + 1):
        os.close(os.open(audio / f"scene-{n}.mp3", flags))
        os.close(os.open(videos / f"scene-{n}-seg.mp4", flags))
    folder = root
    for n in range(files - 2 * scenes):
        if n % 200 == 0:
            folder = root / ".cache" / "assembly" / "p1" / f"scene-{n // 200:04d}"
            folder.mkdir(parents=True)
        os.close(os.open(folder / f"frame-{n:07d}.jpg", flags))
    out = root / ".cache" / "output" / "p1"
    out.mkdir(parents=True)
    shutil.copyfile(make_video(media / "clip.mp4", 0.2, "64x48"), out / "final.mp4")
    shutil.copyfile(make_image(media / "frame.jpg", "64x36"), out / "final-thumb.jpg")
    age_final(root)
    return files + 2


def files_left(root: Path) -> int:
    return sum(len(names) for d in INTERMEDIATE_DIRS for _, _, names in os.walk(root / d))


def check_clean(root: Path, files: int, out: Path) -> int:
    deleted = json_key(out, "deleted_count")
    if not (root / ".cache/output/p1/final.mp4").is_file() or not (root / ".cache/output/p1/final-thumb.jpg").is_file():
        raise SystemExit(f"the final render or its thumbnail is gone from {root}")
    left = files_left(root)
    if left or deleted != files:
        raise SystemExit(f"clean of {root}: deleted_count {deleted}, {left} intermediate files left (want {files}, 0)")
    return int(deleted)


def med(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------- sections


def bench_clean(b: Bench, master: Path, files: int, repeat: int, baseline: str | None = None
                ) -> dict[str, list[Child]]:
    """``repeat`` rounds of ``rm -r`` and ours (and the ``baseline`` program, another mediaclean, when given) on
    fresh copies of ``master``, in an order that rotates from round to round."""
    runs: dict[str, list[Child]] = {"ours": [], "rm": [], "base": []}
    for n in range(repeat):
        mine, theirs, catalog = b.base / f"ours-{n}", b.base / f"rm-{n}", b.base / f"clean-{n}.sqlite3"
        other, other_catalog = b.base / f"base-{n}", b.base / f"clean-{n}-base.sqlite3"
        b.copy(master, mine)
        b.copy(master, theirs)
        b.register(catalog, mine)
        if baseline:
            b.copy(master, other)
            b.register(other_catalog, other, baseline)  # its own catalog: an older program refuses a newer schema
        b.settle()
        waited = wait_quiet(b.quiet)
        out = b.out("clean")
        order = ["rm", "ours", "base"] if baseline else ["rm", "ours"]
        for who in order[n % len(order):] + order[:n % len(order)]:
            if who == "rm":
                runs["rm"].append(must(spawn(["rm", "-r", *(str(theirs / d) for d in INTERMEDIATE_DIRS)])))
            elif who == "base":
                runs["base"].append(must(b.cli(other_catalog, "clean", "p1", "--yes", "--confirm-large", out=out,
                                               program=baseline)))
                check_clean(other, files, out)
            else:
                runs["ours"].append(must(b.cli(catalog, "clean", "p1", "--yes", "--confirm-large", out=out)))
                check_clean(mine, files, out)
        if any((theirs / d).exists() for d in INTERMEDIATE_DIRS):
            raise SystemExit(f"rm -r left folders in {theirs}")
        o, r = runs["ours"][-1], runs["rm"][-1]
        versus = f"  baseline {runs['base'][-1].wall:7.3f} s" if baseline else ""
        print(f"  clean run {n + 1}: ours {o.wall:7.3f} s  rm -r {r.wall:7.3f} s{versus}  (others used "
              f"{o.others:.2f} / {r.others:.2f} CPU s meanwhile; {load()}"
              + (f"; waited {waited:.0f} s for a lull" if waited else "") + ")", flush=True)
        out.unlink()
        shutil.rmtree(mine)
        shutil.rmtree(theirs)
        shutil.rmtree(other, ignore_errors=True)
        for extra in [*b.base.glob(f"clean-{n}.sqlite3*"), *b.base.glob(f"clean-{n}-base.sqlite3*")]:
            extra.unlink()
    return runs


def bench_scan(b: Bench, master: Path, repeat: int) -> dict[str, list[Child]]:
    catalog = b.base / "scan.sqlite3"
    b.register(catalog, master)
    must(b.cli(catalog, "scan", "p1"))  # warm: the tree's inodes and the program's code are in memory
    must(spawn(["du", "-s", str(master)]))
    runs: dict[str, list[Child]] = {"ours": [], "du": [], "start": []}
    for n in range(repeat):
        wait_quiet(b.quiet)
        for who in (("du", "ours") if n % 2 == 0 else ("ours", "du")):
            if who == "du":
                runs["du"].append(must(spawn(["du", "-s", str(master)])))
            else:
                runs["ours"].append(must(b.cli(catalog, "scan", "p1")))
        runs["start"].append(must(b.cli(catalog, "prefs", "settle_seconds")))
    return runs


def bench_growth(b: Bench, sizes: list[int], repeat: int, masters: dict[int, Path]) -> list[dict[str, float]]:
    rows = []
    for size in sizes:
        master = masters.get(size)
        if master is None:
            master = b.base / f"growth-{size}"
            build(master, b.base / "media", size)
        walls, cpus, rsss, others = [], [], [], []
        for n in range(repeat):
            tree, catalog = b.base / f"g{size}-{n}", b.base / f"g{size}-{n}.sqlite3"
            b.copy(master, tree)
            b.register(catalog, tree)
            b.settle()
            wait_quiet(b.quiet)
            out = b.out("growth")
            child = must(b.cli(catalog, "clean", "p1", "--yes", "--confirm-large", out=out))
            others.append(child.others)
            check_clean(tree, size, out)
            walls.append(child.wall)
            cpus.append(child.cpu)
            rsss.append(child.rss)
            out.unlink()
            shutil.rmtree(tree)
            for extra in b.base.glob(f"g{size}-{n}.sqlite3*"):
                extra.unlink()
        if size not in masters:
            shutil.rmtree(master)
        row = {"n": size, "wall": med(walls), "cpu": med(cpus), "rss": med(rsss)}
        rows.append(row)
        print(f"  growth {size:,}: {row['wall']:.2f} s, {row['rss'] / MB:.0f} MB  (others used up to "
              f"{max(others):.2f} CPU s meanwhile; {load()})", flush=True)
    return rows


def bench_million(b: Bench, files: int) -> dict[str, Child]:
    root, catalog = b.base / "million", b.base / "million.sqlite3"
    started = time.perf_counter()
    build_empty(root, b.base / "media-million", files)
    print(f"  built {files:,} empty files in {time.perf_counter() - started:.0f} s", flush=True)
    b.register(catalog, root)
    b.settle()
    out = b.out("million")
    plan = must(b.cli(catalog, "clean", "p1", out=out))
    plan_id = json_key(out, "plan_id")
    if not isinstance(plan_id, int):
        raise SystemExit(f"no plan_id in the dry run's output ({out})")
    out.unlink()
    b.settle()
    execute = must(b.cli(catalog, "clean", "--plan", str(plan_id), "--yes", "--confirm-large", out=out))
    check_clean(root, files, out)
    out.unlink()
    shutil.rmtree(root)
    return {"plan": plan, "execute": execute}


def bench_profile(b: Bench, master: Path, top: int = 25) -> Child:
    tree, catalog, stats = b.base / "profile", b.base / "profile.sqlite3", b.base / "clean.prof"
    b.copy(master, tree)
    b.register(catalog, tree)
    b.settle()
    python = str(Path(b.mc).with_name("python"))
    child = must(spawn([python, "-m", "cProfile", "-o", str(stats), "-m", "mediaclean_gui.cli", "--catalog",
                        str(catalog), "--json", "clean", "p1", "--yes", "--confirm-large"], b.out("profile"), b.env))
    b.out("profile").unlink()
    for order in ("cumulative", "tottime"):
        print(f"\n--- cProfile of one clean, top {top} by {order} (wall {child.wall:.2f} s under the profiler)")
        pstats.Stats(str(stats)).strip_dirs().sort_stats(order).print_stats(top)
    shutil.rmtree(tree)
    return child


# ---------------------------------------------------------------- report


def verdict(ratio: float, goal: float) -> str:
    return "met" if ratio <= goal else "missed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="intermediate files of the clean and scan tree")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--dir", default=None, help="where the trees and catalogs go (default: a folder in /var/tmp)")
    parser.add_argument("--growth", default="25000,50000,100000,200000", help="comma-separated file counts")
    parser.add_argument("--growth-repeat", type=int, default=None, help="runs per growth size (default: --repeat)")
    parser.add_argument("--million", action="store_true", help="also measure peak RSS at 1,000,000 files (slow)")
    parser.add_argument("--million-files", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="also profile one clean with cProfile")
    parser.add_argument("--keep-caches", action="store_true",
                        help="only sync before a timed clean, never drop the caches (the trees' inodes stay cached)")
    parser.add_argument("--mediaclean", default=str(Path(sys.executable).with_name("mediaclean")),
                        help="the mediaclean program (default: the one beside this Python)")
    parser.add_argument("--baseline", default=None, metavar="PROGRAM",
                        help="also clean with this mediaclean program (e.g. a checkout of an earlier commit) in the "
                             "same rounds, in rotating order, and print ours / baseline")
    parser.add_argument("--quiet", type=float, default=0.0, metavar="S",
                        help="before each timed clean pair, wait until the machine has been idle for S seconds "
                             "(under 5%% of one CPU; at most 15 minutes)")
    for name in ("clean", "scan", "growth"):
        parser.add_argument(f"--skip-{name}", action="store_true")
    args = parser.parse_args()
    if not os.access(args.mediaclean, os.X_OK):
        parser.error(f"no mediaclean program at {args.mediaclean} (give --mediaclean)")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        parser.error(f"no program at {args.baseline} (--baseline)")
    sizes = [int(s) for s in args.growth.split(",") if s.strip()]

    parent = Path(args.dir) if args.dir else Path("/var/tmp")
    outroot = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    print(f"before: {load()}; {machine.describe()}")
    with tempfile.TemporaryDirectory(prefix="mediaclean-bench-cli-", dir=parent) as tmp, \
            tempfile.TemporaryDirectory(prefix="mediaclean-bench-out-", dir=outroot) as outdir:
        base = Path(tmp)
        kind = fs_type(base)
        in_memory = kind in ("tmpfs", "ramfs")
        b = Bench(base, args.mediaclean, Path(outdir), drop=not args.keep_caches)
        b.quiet = args.quiet
        print(f"trees in {base} ({kind}: {'in memory' if in_memory else 'a disk'}); caches "
              + ("dropped before every timed clean (root)" if b.dropped else
                 "NOT dropped (only synced: --keep-caches, or not root)"))
        masters: dict[int, Path] = {}
        master = base / "master"
        if not (args.skip_clean and args.skip_scan and not args.profile):
            started = time.perf_counter()
            count = build(master, base / "media", args.files)
            masters[args.files] = master
            print(f"workspace: {count:,} files ({args.files:,} intermediate) built in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)

        clean = None if args.skip_clean else bench_clean(b, master, args.files, args.repeat, args.baseline)
        scan = None if args.skip_scan else bench_scan(b, master, args.repeat)
        growth = None if args.skip_growth else bench_growth(b, sizes, args.growth_repeat or args.repeat, masters)
        million = bench_million(b, args.million_files) if args.million else None
        if args.profile:
            bench_profile(b, master)

    where = "in memory" if in_memory else "on disk"
    parts = [f"medians of {args.repeat} runs, {args.files:,} intermediate files"] if clean or scan else []
    parts += [f"{args.million_files:,}-file lines: one run each"] if million else []
    print(f"\nwhole processes, trees {where} ({kind}); " + "; ".join(parts))
    print(f"{'job':<34}{'ours s':>8}{'cpu s':>8}   {'competitor':<11}{'s':>7}{'cpu s':>7}  {'ratio':>6}  goal")
    if clean:
        o, r = clean["ours"], clean["rm"]
        ratio = med([c.wall for c in o]) / med([c.wall for c in r])
        goal = 3.0 if in_memory else 1.0
        print(f"{'clean p1 --yes (plan + execute)':<34}{med([c.wall for c in o]):8.3f}{med([c.cpu for c in o]):8.3f}"
              f"   {'rm -r':<11}{med([c.wall for c in r]):7.3f}{med([c.cpu for c in r]):7.3f}  {ratio:6.2f}"
              f"  <= {goal:g}x {where}: {verdict(ratio, goal)}")
        pairs = ", ".join(f"{a.wall / c.wall:.2f}" for a, c in zip(o, r, strict=True))
        print(f"{'  ratio of each run (ours / rm)':<34}{pairs}")
        if clean["base"]:
            base = clean["base"]
            pairs = ", ".join(f"{a.wall / c.wall:.2f}" for a, c in zip(o, base, strict=True))
            print(f"{'  baseline ' + os.path.basename(args.baseline):<34}{med([c.wall for c in base]):8.3f}"
                  f"{med([c.cpu for c in base]):8.3f}   ours / baseline per run: {pairs}; median "
                  f"{med([a.wall / c.wall for a, c in zip(o, base, strict=True)]):.2f}")
        print(f"{'  clean peak RSS':<34}{med([c.rss for c in o]) / MB:7.0f} MB"
              f"  ({med([c.rss for c in o]) / args.files:,.0f} bytes/item)")
    if scan:
        o, d = scan["ours"], scan["du"]
        ratio = med([c.wall for c in o]) / med([c.wall for c in d])
        print(f"{'scan p1 (warm cache)':<34}{med([c.wall for c in o]):8.3f}{med([c.cpu for c in o]):8.3f}"
              f"   {'du -s':<11}{med([c.wall for c in d]):7.3f}{med([c.cpu for c in d]):7.3f}  {ratio:6.2f}"
              f"  <= 1.5x: {verdict(ratio, 1.5)}")
        s = scan["start"]
        print(f"{'  start-up alone (prefs KEY)':<34}{med([c.wall for c in s]):8.3f}{med([c.cpu for c in s]):8.3f}")
    if million:
        for step, child in million.items():
            label = f"peak RSS, {step} {args.million_files:,} files"
            print(f"{label:<34}{child.rss / MB:7.0f} MB   ({child.wall:.1f} s, {child.cpu:.1f} s CPU)"
                  f"{'':>9}<= 200 MB: {verdict(child.rss / MB, 200)}")
    if growth:
        print(f"\ngrowth of the clean process ({where}; median of {args.growth_repeat or args.repeat} runs each)")
        print(f"{'files':>9}{'wall s':>9}{'µs/item':>9}{'cpu s':>8}{'µs/item':>9}{'peak RSS MB':>13}"
              f"{'bytes/item':>11}{'marginal':>10}")
        prev = None
        for row in growth:
            marginal = "" if prev is None else f"{(row['rss'] - prev['rss']) / (row['n'] - prev['n']):10,.0f}"
            print(f"{row['n']:9,}{row['wall']:9.2f}{row['wall'] / row['n'] * 1e6:9.1f}{row['cpu']:8.2f}"
                  f"{row['cpu'] / row['n'] * 1e6:9.1f}{row['rss'] / MB:13.0f}{row['rss'] / row['n']:11,.0f}{marginal}")
            prev = row
        print("(marginal: bytes of peak RSS per item added since the previous size)")
    print(f"\nafter: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
