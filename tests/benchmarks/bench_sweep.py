"""Benchmark: a mediaclean sweep (plan + execute) against ``rclone delete`` and ``aws s3 rm --recursive`` on
identical SeaweedFS buckets in the same run, our request count, and the peak RSS of a dry run over a big bucket.

Plain script (not collected by pytest)::

    python tests/benchmarks/bench_sweep.py [--objects 20000] [--rss-objects 200000] [--skip-rss]

Goals (issue 4): time <= 0.5x rclone's and <= 0.2x aws's; requests = ceil(N/1000) list + ceil(D/1000) delete +
a small constant; peak RSS <= 150 MB for a dry run over 200,000 objects.

Filling buckets is the slow part (SeaweedFS takes a few hundred small PUTs a second on a small machine): every
bucket is filled by ``rclone copy`` of one local tree of tiny files (1-byte bodies, 64 transfers), and the server
runs with ``-filer.saveToFilerLimit=1024`` so such tiny bodies live in the filer entry instead of a volume needle
(the same for all three tools).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from s3_server import SeaweedServer  # noqa: E402


class BenchServer(SeaweedServer):
    def command(self) -> list[str]:
        return super().command() + ["-filer.saveToFilerLimit=1024"]


def tool_env(server: SeaweedServer) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)  # the endpoint is plain http; rclone 1.60 refuses a CA bundle on its transport
    env.update(
        AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key, AWS_DEFAULT_REGION=server.region,
        AWS_EC2_METADATA_DISABLED="true",
        RCLONE_CONFIG_BENCH_TYPE="s3", RCLONE_CONFIG_BENCH_PROVIDER="SeaweedFS",
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=server.access_key, RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=server.secret_key,
        RCLONE_CONFIG_BENCH_ENDPOINT=server.endpoint_url, RCLONE_CONFIG_BENCH_REGION=server.region,
        RCLONE_CONFIG="/dev/null",
    )
    return env


def make_tree(root: Path, count: int) -> None:
    """``count`` 1-byte files: 60% under clips/, 20% uploads/, 20% audio/, 1,000 per folder."""
    for i in range(count):
        top = "clips" if i % 5 < 3 else ("uploads" if i % 5 == 3 else "audio")
        folder = root / top / f"job-{i // 1000:04d}"
        if i % 1000 < 5:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"obj-{i:07d}.bin").write_bytes(b"x")


def fill(server: SeaweedServer, tree: Path, bucket: str, env: dict[str, str]) -> float:
    server.client().create_bucket(Bucket=bucket)
    started = time.monotonic()
    subprocess.run(["rclone", "copy", str(tree), f"bench:{bucket}", "--transfers", "64", "--checkers", "64",
                    "--s3-no-check-bucket", "--no-check-dest", "-q"], env=env, check=True)
    return time.monotonic() - started


def count_objects(server: SeaweedServer, bucket: str) -> int:
    total = 0
    for page in server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        total += len(page.get("Contents", ()))
    return total


def run_mediaclean(server: SeaweedServer, bucket: str, work: Path, env: dict[str, str],
                   concurrency: int) -> tuple[float, float, int, int, int]:
    """Plan and execute a sweep that deletes everything; returns (seconds, planning seconds, requests, listed,
    deleted)."""
    import datetime as dt

    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")})
    from mediaclean_gui.core.catalog import Catalog
    from mediaclean_gui.core.s3.remote import add_remote, make_client
    from mediaclean_gui.core.s3.sweep import execute_sweep_plan, plan_stats, plan_sweep

    catalog = Catalog(work / "catalog.sqlite3")
    remote = add_remote(catalog, "bench", bucket, endpoint_url=server.endpoint_url, region=server.region)
    client = make_client(remote)
    requests = {"n": 0}

    def count(**_: object) -> None:
        requests["n"] += 1

    client.meta.events.register("before-send.s3", count)
    started = time.monotonic()
    plan_id = plan_sweep(catalog, "bench", as_of=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30),
                         client=client)
    planned = time.monotonic() - started
    result = execute_sweep_plan(catalog, plan_id, client=client, confirm_large=True, concurrency=concurrency)
    seconds = time.monotonic() - started
    listed = plan_stats(catalog, plan_id)["total_files_scanned"]
    if result.failed_count:
        print(f"  mediaclean: {result.failed_count} failed, e.g. {result.failed[:2]}")
    catalog.close()
    return seconds, planned, requests["n"], listed, result.deleted_count


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


RSS_PROBE = textwrap.dedent(
    """
    import datetime as dt, json, os, resource, sys
    from mediaclean_gui.core.catalog import Catalog
    from mediaclean_gui.core.s3.remote import add_remote
    from mediaclean_gui.core.s3.sweep import plan_stats, plan_sweep
    work, bucket, endpoint, mode = sys.argv[1:5]
    catalog = Catalog(os.path.join(work, "rss-" + mode + ".sqlite3"))
    add_remote(catalog, "big", bucket, endpoint_url=endpoint, region="us-east-1")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scanned = 0
    if mode == "plan":
        plan_id = plan_sweep(catalog, "big", as_of=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))
        scanned = plan_stats(catalog, plan_id)["total_files_scanned"]
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    print(json.dumps({"base_kb": base, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "hwm_kb": int(status["VmHWM"].split()[0]), "scanned": scanned}))
    """
)


def peak_rss(server: SeaweedServer, bucket: str, work: Path, env: dict[str, str], mode: str) -> dict[str, int]:
    import json

    out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(work), bucket, server.endpoint_url, mode], env=env,
                         check=True, capture_output=True, text=True)
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def timing(server: SeaweedServer, work: Path, env: dict[str, str], n: int, concurrency: int) -> bool:
    tree = work / "tree"
    make_tree(tree, n)
    print(f"Filling three buckets with {n} objects each (rclone copy, 64 transfers)…", flush=True)
    for name in ("bench-rclone", "bench-mediaclean", "bench-aws"):
        seconds = fill(server, tree, name, env)
        have = count_objects(server, name)
        print(f"  {name}: {have} objects in {seconds:.1f} s", flush=True)
        if have != n:
            print(f"  {name} holds {have} objects, not {n}", file=sys.stderr)
            return False
    rclone = timed(["rclone", "delete", "bench:bench-rclone", "-q"], env)
    ours, planned, requests, listed, deleted = run_mediaclean(server, "bench-mediaclean", work, env, concurrency)
    aws = timed(["aws", "s3", "rm", "s3://bench-aws", "--recursive", "--only-show-errors",
                 "--endpoint-url", server.endpoint_url], env)
    left = {b: count_objects(server, b) for b in ("bench-mediaclean", "bench-rclone", "bench-aws")}
    ideal = math.ceil(listed / 1000) + math.ceil(deleted / 1000)
    print(f"\nSweep of {n} objects (plan + execute; everything old enough to go; {concurrency} DeleteObjects "
          f"in flight):")
    print(f"  mediaclean   {ours:7.2f} s   deleted {deleted}, left {left['bench-mediaclean']} "
          f"(plan {planned:.2f} s, execute {ours - planned:.2f} s)")
    print(f"  rclone delete {rclone:6.2f} s   left {left['bench-rclone']}")
    print(f"  aws s3 rm    {aws:7.2f} s   left {left['bench-aws']}")
    print(f"  ratio vs rclone {ours / rclone:.3f}  (goal <= 0.5)")
    print(f"  ratio vs aws    {ours / aws:.3f}  (goal <= 0.2)")
    print(f"  requests {requests} = ceil({listed}/1000) list + ceil({deleted}/1000) delete + "
          f"{requests - ideal} (goal: a small constant)")
    return True


def rss(server: SeaweedServer, work: Path, env: dict[str, str], big: int) -> None:
    big_tree = work / "big-tree"
    print(f"\nFilling a bucket with {big} objects for the RSS dry run…", flush=True)
    make_tree(big_tree, big)
    seconds = fill(server, big_tree, "bench-big", env)
    print(f"  {count_objects(server, 'bench-big')} objects in {seconds:.0f} s", flush=True)
    shutil.rmtree(big_tree, ignore_errors=True)
    idle = peak_rss(server, "bench-big", work, env, "idle")
    plan = peak_rss(server, "bench-big", work, env, "plan")
    print(f"\nPeak RSS of a dry run over {plan['scanned']} objects (in a subprocess):")
    print(f"  imports and catalog only  VmHWM {idle['hwm_kb'] / 1024:6.1f} MB")
    print(f"  dry run                   VmHWM {plan['hwm_kb'] / 1024:6.1f} MB  (goal <= 150 MB)")
    print(f"  (its ru_maxrss says {plan['peak_kb'] / 1024:.1f} MB: on Linux ru_maxrss keeps, across exec, the "
          f"high-water mark of the process that forked it; VmHWM is the probe's own)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=20000, help="objects per timed bucket (default 20000)")
    parser.add_argument("--rss-objects", type=int, default=200000, help="objects for the RSS dry run (200000)")
    parser.add_argument("--skip-rss", action="store_true", help="skip the (slow to fill) RSS bucket")
    parser.add_argument("--skip-timing", action="store_true", help="only the RSS dry run")
    parser.add_argument("--concurrency", type=int, default=2, help="DeleteObjects requests in flight (default 2)")
    args = parser.parse_args()
    for tool in ("rclone", "aws", "weed"):
        if shutil.which(tool) is None:
            print(f"'{tool}' is not on PATH", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="mediaclean-bench-sweep-"))
    server = BenchServer(work / "weed")
    (work / "weed").mkdir()
    server.start()
    env = tool_env(server)
    try:
        if not args.skip_timing and not timing(server, work, env, args.objects, args.concurrency):
            return 1
        if not args.skip_rss:
            rss(server, work, env, args.rss_objects)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
