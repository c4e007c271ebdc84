"""Benchmark F3: upload + verify + delete against ``rclone move`` and ``aws s3 mv --recursive`` on SeaweedFS.

Plain script (not collected by pytest)::

    python tests/benchmarks/bench_upload.py [--files 1000] [--file-kb 100] [--big-mb 512] [--skip-big] [--profile]

Starts SeaweedFS exactly like the test fixture (``tests/integration/s3_server.py``),
makes real media with ffmpeg, copies each data set three times, and moves each copy
with one tool into its own bucket, in the same run, in an order that alternates between
rounds. Prints wall times, ratios (ours / theirs: below 1.0 is faster), the medians of the
rounds, the load average, and our request count. Goals (issue 9): no slower than
``rclone move`` for the small files, at most 1.1x for the large file.
``--profile`` adds one round of ours alone under ``python -m cProfile`` (the main thread: awscrt's
native threads and the hashing pool do not show) and prints the top functions.
Everything it makes is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import pstats
import resource
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import machine  # noqa: E402
from s3_server import SeaweedServer  # noqa: E402

MB = 1_000_000  # SI, as every size mediaclean shows


def ffmpeg(args: list[str], out: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], check=True, timeout=600)


def small_media(folder: Path, kb: int) -> list[Path]:
    """A few distinct real mp4 files of about ``kb`` KB (H.264, lossless noise, sized by duration)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / "probe.mp4"
    ffmpeg(["-f", "lavfi", "-i", "color=size=160x120:duration=1:rate=25,noise=alls=60:allf=t+u", "-c:v", "libx264",
            "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"], probe)
    per_second = probe.stat().st_size
    seconds = max(0.08, kb * 1024 / per_second)
    out = []
    for n in range(8):
        path = folder / f"seed-{n}.mp4"
        ffmpeg(["-f", "lavfi", "-i", f"color=size=160x120:duration={seconds:.3f}:rate=25,noise=alls={40 + n}:allf=t+u",
                "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"], path)
        out.append(path)
    probe.unlink()
    return out


def big_media(folder: Path, mb: int) -> Path:
    """One real mp4 of about ``mb`` MB (lossless noise at 1280x720)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / "probe.mp4"
    ffmpeg(["-f", "lavfi", "-i", "color=size=1280x720:duration=0.4:rate=25,noise=alls=100:allf=t+u", "-c:v",
            "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"], probe)
    per_second = probe.stat().st_size / 0.4
    probe.unlink()
    path = folder / "big.mp4"
    ffmpeg(["-f", "lavfi", "-i", f"color=size=1280x720:duration={mb * MB / per_second:.2f}:rate=25,"
            "noise=alls=100:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"],
           path)
    return path


def fill(root: Path, sources: list[Path], count: int) -> int:
    """``count`` files under ``root/backend/mv/outputs/videos/batch-N/`` (copies of ``sources``); total bytes."""
    total = 0
    for n in range(count):
        src = sources[n % len(sources)]
        dest = root / "backend" / "mv" / "outputs" / "videos" / f"batch-{n // 100:02d}" / f"take-{n:05d}.mp4"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        total += dest.stat().st_size
    past = time.time() - 3600
    for path in (root / "backend").rglob("*.mp4"):
        os.utime(path, (past, past))
    return total


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def count_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


CPU: dict[str, float] = {}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str], tool: str = "") -> tuple[float, str]:
    """Run a command; wall seconds and stdout. Its CPU seconds (user + system) go to ``CPU[tool]``."""
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    CPU[tool] = children_cpu() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def run_case(label: str, server: SeaweedServer, work: Path, make: "callable", env: dict[str, str],
             catalog: Path, concurrency: int, reverse: bool = False) -> dict[str, float]:
    """Three identical copies, one per tool, run in the order ours, rclone, aws (``reverse``: the other way
    round, so alternated rounds see the same cache and load conditions); returns wall seconds per tool and our
    request count."""
    roots = {tool: work / f"{label}-{tool}" for tool in ("ours", "rclone", "aws")}
    nbytes = 0
    for root in roots.values():
        nbytes = make(root)
    files = count_files(roots["ours"])
    buckets = {tool: server.new_bucket(f"bench-{tool}") for tool in roots}
    results: dict[str, float] = {}

    subprocess.run(["sync"], check=False)

    def ours() -> None:
        _ours(label, server, roots, buckets, env, catalog, files, results)

    def rclone() -> None:
        _rclone(server, roots, buckets, env, concurrency, results)

    def aws() -> None:
        _aws(server, roots, buckets, env, results)

    for step in ((aws, rclone, ours) if reverse else (ours, rclone, aws)):
        step()
    client = server.client()
    for tool, bucket in buckets.items():
        listed = sum(page.get("KeyCount", 0) for page in
                     client.get_paginator("list_objects_v2").paginate(Bucket=bucket))
        assert listed == files, (tool, listed, files)
    results["files"] = files
    results["bytes"] = nbytes
    for tool in ("ours", "rclone", "aws"):
        results[f"cpu_{tool}"] = CPU[tool]
    return results


def _ours(label: str, server: SeaweedServer, roots: dict[str, Path], buckets: dict[str, str], env: dict[str, str],
          catalog: Path, files: int, results: dict[str, float], profile: Path | None = None) -> None:
    # ours: the CLI, exactly as a user runs it (plan + upload + proof + delete)
    mc = [sys.executable, "-c", "import sys; from mediaclean_gui.cli import main; sys.exit(main())",
          "--catalog", str(catalog), "--json"]
    run = mc if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                                      "mediaclean_gui.cli", *mc[3:]]
    subprocess.run([*mc, "project", "add", str(roots["ours"]), "--profile", "mv-backend", "--name", label],
                   env=env, check=True, capture_output=True)
    subprocess.run([*mc, "remote", "add", f"bench-{label}", "--bucket", buckets["ours"], "--endpoint-url",
                    server.endpoint_url, "--region", server.region], env=env, check=True, capture_output=True)
    weed = server.cpu_seconds()
    seconds, out = timed([*run, "upload", label, "--remote", f"bench-{label}", "--delete-after-upload", "--yes"], env,
                         "ours")
    results["server_cpu_ours"] = server.cpu_seconds() - weed
    payload = json.loads(out)
    assert payload["status"] == "complete", payload
    assert len(payload["deleted_local"]) == files, (len(payload["deleted_local"]), files)
    results["ours"] = seconds
    results["requests"] = payload["requests"]
    results["ours_upload_seconds"] = payload["seconds"]


def _rclone(server: SeaweedServer, roots: dict[str, Path], buckets: dict[str, str], env: dict[str, str],
            concurrency: int, results: dict[str, float]) -> None:
    # rclone move (Debian's rclone), S3 remote configured by environment only
    renv = {k: v for k, v in env.items() if k != "AWS_CA_BUNDLE"}
    renv.update(RCLONE_CONFIG_X_TYPE="s3", RCLONE_CONFIG_X_PROVIDER="SeaweedFS", RCLONE_CONFIG_X_ENV_AUTH="false",
                RCLONE_CONFIG_X_ACCESS_KEY_ID=server.access_key, RCLONE_CONFIG_X_SECRET_ACCESS_KEY=server.secret_key,
                RCLONE_CONFIG_X_ENDPOINT=server.endpoint_url, RCLONE_CONFIG_X_REGION=server.region,
                RCLONE_CONFIG_X_FORCE_PATH_STYLE="true")
    weed = server.cpu_seconds()
    seconds, _ = timed(["rclone", "move", str(roots["rclone"] / "backend"), f"X:{buckets['rclone']}/backend",
                        "--transfers", str(concurrency), "--config", "/dev/null"], renv, "rclone")
    results["server_cpu_rclone"] = server.cpu_seconds() - weed
    assert count_files(roots["rclone"]) == 0
    results["rclone"] = seconds


def _aws(server: SeaweedServer, roots: dict[str, Path], buckets: dict[str, str], env: dict[str, str],
         results: dict[str, float]) -> None:
    # aws s3 mv --recursive (awscli, botocore's transfer manager)
    weed = server.cpu_seconds()
    seconds, _ = timed(["aws", "s3", "mv", "--recursive", "--only-show-errors", "--endpoint-url", server.endpoint_url,
                        str(roots["aws"] / "backend"), f"s3://{buckets['aws']}/backend"], env, "aws")
    results["server_cpu_aws"] = server.cpu_seconds() - weed
    assert count_files(roots["aws"]) == 0
    results["aws"] = seconds


def profile_round(server: SeaweedServer, work: Path, sources: list[Path], count: int, env: dict[str, str],
                  catalog: Path, top: int = 30) -> None:
    """One upload of ours alone under cProfile; prints the top functions by cumulative and by own time."""
    root, stats = work / "profile-ours", Path(os.environ.get("BENCH_PROFILE_OUT", work / "upload.prof"))
    fill(root, sources, count)
    subprocess.run(["sync"], check=False)
    results: dict[str, float] = {}
    _ours("profile", server, {"ours": root}, {"ours": server.new_bucket("bench-profile")}, env, catalog, count,
          results, profile=stats)
    for order in ("cumulative", "tottime"):
        print(f"\n--- cProfile of one upload, top {top} by {order} (wall {results['ours']:.2f} s under the profiler)")
        pstats.Stats(str(stats)).strip_dirs().sort_stats(order).print_stats(top)
    shutil.rmtree(root, ignore_errors=True)


def report(label: str, r: dict[str, float]) -> None:
    mb = r["bytes"] / MB
    print(f"\n== {label}: {int(r['files'])} files, {mb:.1f} MB")
    for tool in ("ours", "rclone", "aws"):
        print(f"  {tool:7s} {r[tool]:8.2f} s   {mb / r[tool]:8.1f} MB/s   client CPU {r['cpu_' + tool]:6.2f} s   "
              f"server CPU {r['server_cpu_' + tool]:6.2f} s")
    print(f"  ratio ours/rclone  {r['ours'] / r['rclone']:.2f}   ours/aws  {r['ours'] / r['aws']:.2f}")
    print(f"  our requests: {int(r['requests'])}  ({r['requests'] / r['files']:.2f} per file; "
          f"includes HeadBucket and ListMultipartUploads)  upload phase {r['ours_upload_seconds']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--file-kb", type=int, default=100)
    parser.add_argument("--big-mb", type=int, default=512)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="one more round of ours alone under cProfile")
    parser.add_argument("--repeat", type=int, default=5, help="alternated rounds of the small-file case (default 5: "
                                                               "the machine may be shared, look at the median)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mediaclean-bench-"))
    server = SeaweedServer(work / "seaweedfs")
    try:
        server.start()
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key,
                   AWS_DEFAULT_REGION=server.region, XDG_DATA_HOME=str(work / "xdg-data"),
                   XDG_STATE_HOME=str(work / "xdg-state"), XDG_CONFIG_HOME=str(work / "xdg-config"))
        env.pop("AWS_PROFILE", None)
        catalog = work / "catalog.sqlite3"
        mc = [sys.executable, "-c", "import sys; from mediaclean_gui.cli import main; sys.exit(main())",
              "--catalog", str(catalog), "--json"]
        subprocess.run([*mc, "prefs", "upload_concurrency", str(args.concurrency)], env=env, check=True,
                       capture_output=True)
        # the endpoint probe runs once per endpoint and is cached: do it before timing (a one-file upload)
        warm = work / "warm"
        fill(warm, small_media(work / "warm-media", 10)[:1], 1)
        subprocess.run([*mc, "project", "add", str(warm), "--profile", "mv-backend", "--name", "warm"], env=env,
                       check=True, capture_output=True)
        subprocess.run([*mc, "remote", "add", "warm", "--bucket", server.new_bucket("warm"), "--endpoint-url",
                        server.endpoint_url], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([*mc, "upload", "warm", "--remote", "warm", "--delete-after-upload", "--yes"], env=env,
                       check=True, capture_output=True)
        print(f"probe + one-file warm-up: {time.perf_counter() - start:.2f} s (once per endpoint); "
              f"{machine.describe()}")

        sources = small_media(work / "small-media", args.file_kb)
        ratios = []
        for n in range(args.repeat):
            small = run_case(f"small{n}", server, work, lambda root: fill(root, sources, args.files), env, catalog,
                             args.concurrency, reverse=n % 2 == 1)
            report(f"{args.files} files of ~{args.file_kb} KB (round {n + 1}, load average {load()})", small)
            ratios.append(small["ours"] / small["rclone"])
            for tool in ("ours", "rclone", "aws"):
                shutil.rmtree(work / f"small{n}-{tool}", ignore_errors=True)
        if args.repeat > 1:
            print(f"\nsmall files, ours/rclone per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
                  f"median {statistics.median(ratios):.2f} (goal <= 1.0)")
        if args.profile:
            profile_round(server, work, sources, args.files, env, catalog)
        if not args.skip_big:
            big = big_media(work / "big-media", args.big_mb)

            def make_big(root: Path) -> int:
                dest = root / "backend" / "mv" / "outputs" / "videos" / "render" / "big.mp4"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(big, dest)
                past = time.time() - 3600
                os.utime(dest, (past, past))
                return dest.stat().st_size

            large = run_case("large", server, work, make_big, env, catalog, args.concurrency)
            big.unlink()
            for tool in ("ours", "rclone", "aws"):
                shutil.rmtree(work / f"large-{tool}", ignore_errors=True)
            report(f"one file of {args.big_mb} MB (load average {load()})", large)
            print("  (goal <= 1.1 against rclone)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
