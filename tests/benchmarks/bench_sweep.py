"""Benchmark: a mediaclean sweep (plan + execute) against ``rclone delete`` and ``aws s3 rm --recursive`` on
identical SeaweedFS buckets in the same run, our request count, the CPU seconds of each tool and of the server, and
the peak RSS of a dry run over a big bucket.

Plain script (not collected by pytest)::

    python tests/benchmarks/bench_sweep.py [--objects 20000] [--repeat 5] [--concurrency 2,4,8] [--with-aws]
                                           [--rss-objects 200000] [--skip-rss]

Goals (issue 9): time <= 0.75x ``rclone delete``'s in the same run; requests = ceil(N/1000) list +
ceil(D/1000) delete + a small constant; the plan frozen and counted before the first delete (invariant 8);
peak RSS <= 150 MB for a dry run over 200,000 objects. Each round fills one bucket per tool (and one per
``--concurrency`` value of ours) and runs them in an order that alternates between rounds; the report gives
the median of the rounds and the machine's load average before and after.

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

import machine  # noqa: E402
from bench_upload import children_cpu  # noqa: E402
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


# The real command line, whole process, as a user runs it; the wrapper only counts the requests every client of
# the sweep sends, times the planning (both reported on stderr) and sets the DeleteObjects requests in flight.
COUNTING_CLI = textwrap.dedent(
    """
    import atexit, json, os, sys, time
    from mediaclean_gui.core.s3 import listing
    counts = {"requests": 0, "plan_seconds": 0.0}
    _client = listing.sweep_client
    def sweep_client(*args, **kwargs):
        client = _client(*args, **kwargs)
        def count(**_):
            counts["requests"] += 1
        client.meta.events.register("before-send.s3", count)
        return client
    listing.sweep_client = sweep_client
    from mediaclean_gui.core.s3 import sweep
    _plan = sweep.plan_sweep
    def plan_sweep(*args, **kwargs):
        started = time.monotonic()
        try:
            return _plan(*args, **kwargs)
        finally:
            counts["plan_seconds"] = time.monotonic() - started
    sweep.plan_sweep = plan_sweep
    _execute = sweep.execute_sweep_plan
    def execute_sweep_plan(*args, **kwargs):
        if os.environ.get("BENCH_SWEEP_CONCURRENCY"):
            kwargs["concurrency"] = int(os.environ["BENCH_SWEEP_CONCURRENCY"])
        return _execute(*args, **kwargs)
    sweep.execute_sweep_plan = execute_sweep_plan
    atexit.register(lambda: print("COUNTS " + json.dumps(counts), file=sys.stderr))
    from mediaclean_gui.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def run_mediaclean(server: SeaweedServer, bucket: str, work: Path, env: dict[str, str],
                   concurrency: int) -> tuple[float, float, int, int, int]:
    """``mediaclean sweep --yes`` (plan + execute) of everything, as a whole process; returns (seconds, planning
    seconds, requests, listed, deleted)."""
    import datetime as dt
    import json

    work.mkdir(parents=True, exist_ok=True)
    mc = [sys.executable, "-c", COUNTING_CLI, "--catalog", str(work / "catalog.sqlite3"), "--json"]
    subprocess.run([*mc, "remote", "add", "bench", "--bucket", bucket, "--endpoint-url", server.endpoint_url,
                    "--region", server.region], env=env, check=True, capture_output=True)
    as_of = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_env = dict(env, BENCH_SWEEP_CONCURRENCY=str(concurrency))
    started = time.monotonic()
    done = subprocess.run([*mc, "sweep", "--remote", "bench", "--as-of", as_of, "--yes", "--confirm-large"],
                          env=run_env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"mediaclean sweep failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    counts = json.loads([line for line in done.stderr.splitlines() if line.startswith("COUNTS ")][-1][7:])
    return seconds, counts["plan_seconds"], counts["requests"], out["total_files_scanned"], out["deleted_count"]


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


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def timing(server: SeaweedServer, work: Path, env: dict[str, str], n: int, concurrencies: list[int], repeat: int,
           with_aws: bool) -> bool:
    import statistics

    tree = work / "tree"
    make_tree(tree, n)
    tools = ["rclone"] + [f"ours@{c}" for c in concurrencies] + (["aws"] if with_aws else [])
    seconds: dict[str, list[float]] = {t: [] for t in tools}
    plans: dict[str, list[float]] = {t: [] for t in tools if t.startswith("ours")}
    cpu: dict[str, list[tuple[float, float]]] = {t: [] for t in tools}  # (client, server) CPU seconds
    requests: dict[str, int] = {}
    print(f"load average before: {load()}; {machine.describe()}", flush=True)
    for round_ in range(repeat):
        order = tools if round_ % 2 == 0 else tools[::-1]
        for tool in order:
            bucket = f"bench-{tool.replace('@', '-')}-{round_}"
            took = fill(server, tree, bucket, env)
            have = count_objects(server, bucket)
            if have != n:
                print(f"  {bucket} holds {have} objects, not {n} (filled in {took:.0f} s)", file=sys.stderr)
                return False
            subprocess.run(["sync"], check=False)
            client_before, server_before = children_cpu(), server.cpu_seconds()
            if tool == "rclone":
                seconds[tool].append(timed(["rclone", "delete", f"bench:{bucket}", "-q"], env))
            elif tool == "aws":
                seconds[tool].append(timed(["aws", "s3", "rm", f"s3://{bucket}", "--recursive", "--only-show-errors",
                                            "--endpoint-url", server.endpoint_url], env))
            else:
                concurrency = int(tool.split("@")[1])
                ours, planned, asked, listed, deleted = run_mediaclean(server, bucket, work / f"{bucket}",
                                                                       env, concurrency)
                seconds[tool].append(ours)
                plans[tool].append(planned)
                ideal = math.ceil(listed / 1000) + math.ceil(deleted / 1000)
                requests[tool] = asked - ideal
                if deleted != n:
                    print(f"  {tool}: deleted {deleted} of {n}", file=sys.stderr)
                    return False
            cpu[tool].append((children_cpu() - client_before, server.cpu_seconds() - server_before))
            left = count_objects(server, bucket)
            if left:
                print(f"  {tool} left {left} objects", file=sys.stderr)
                return False
        print(f"  round {round_ + 1}: " + ", ".join(f"{t} {seconds[t][-1]:.2f} s" for t in tools)
              + f"  (load {load()})", flush=True)
    rclone = statistics.median(seconds["rclone"])
    print(f"\nSweep of {n} objects, plan + execute, everything old enough to go; median of {repeat} alternated "
          f"rounds (load average after: {load()}):")
    def used(tool: str) -> str:
        return (f"client CPU {statistics.median(c for c, _ in cpu[tool]):.2f} s, "
                f"server CPU {statistics.median(s for _, s in cpu[tool]):.2f} s")

    print(f"  rclone delete      {rclone:7.2f} s  ({used('rclone')})")
    if with_aws:
        print(f"  aws s3 rm          {statistics.median(seconds['aws']):7.2f} s")
    for tool in tools:
        if not tool.startswith("ours"):
            continue
        ours = statistics.median(seconds[tool])
        plan = statistics.median(plans[tool])
        print(f"  mediaclean {tool[5:]:>2} in flight {ours:7.2f} s  (plan {plan:.2f} s, execute {ours - plan:.2f} s)  "
              f"ratio vs rclone {ours / rclone:.3f} (goal <= 0.75)  requests: minimum + {requests[tool]}  "
              f"({used(tool)})")
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
    parser.add_argument("--concurrency", default="", help="DeleteObjects requests in flight, e.g. 2,4,8 (default: "
                        "the executor's own)")
    parser.add_argument("--repeat", type=int, default=5, help="alternated rounds (default 5)")
    parser.add_argument("--with-aws", action="store_true", help="also time 'aws s3 rm --recursive'")
    args = parser.parse_args()
    from mediaclean_gui.core.s3.sweep_run import CONCURRENCY

    concurrencies = [int(c) for c in args.concurrency.split(",") if c] or [CONCURRENCY]
    for tool in ("rclone", "weed") + (("aws",) if args.with_aws else ()):
        if shutil.which(tool) is None:
            print(f"'{tool}' is not on PATH", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="mediaclean-bench-sweep-"))
    server = BenchServer(work / "weed")
    (work / "weed").mkdir()
    server.start()
    env = tool_env(server)
    try:
        if not args.skip_timing and not timing(server, work, env, args.objects, concurrencies, args.repeat,
                                                 args.with_aws):
            return 1
        if not args.skip_rss:
            rss(server, work, env, args.rss_objects)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
