"""F4/F5 sweeps against the real SeaweedFS: a bucket of ~2,000 objects with a linked pipeline database,
dry runs and runs with ``--as-of``, protected clips, unfinished jobs, job source cleanup, usage by age."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sweep_data import fast_client, iso, listing, next_second, put_many, write_pipeline_db

from mediaclean_gui.core.history import list_runs, run_items
from mediaclean_gui.core.plan import iter_items, iter_kept
from mediaclean_gui.core.s3.remote import add_remote
from mediaclean_gui.core.s3.sweep import bucket_usage, plan_sweep

pytestmark = pytest.mark.s3

PREFIX = "cube/"
DAY = dt.timedelta(days=1)


@dataclass
class World:
    """What the bucket holds and what the pipeline database says, with the expected verdicts."""

    boundary: dt.datetime                               # batch A written before it, batch B after
    objects: dict[str, bytes] = field(default_factory=dict)
    batch: dict[str, str] = field(default_factory=dict)  # key -> "A" | "B"
    kind: dict[str, str] = field(default_factory=dict)   # key -> clip | orphan-clip | source | artifact | keep
    state: dict[str, str] = field(default_factory=dict)  # source key -> finished | unfinished | no clips
    protected_clips: set[str] = field(default_factory=set)


JOBS = 240


def job_state(j: int) -> str:
    return ("finished", "finished", "unfinished", "no clips")[j % 4]


def build_world(client, bucket: str, db_path: Path) -> World:
    """Batch A (jobs 0–119, artifacts 0–99, orphan clips 0–49, one object the user protects), then the
    boundary second, then batch B (jobs 120–239, artifacts 100–199, orphan clips 50–99): 1,681 objects."""
    plan: dict[str, list[tuple[str, bytes, str]]] = {"A": [], "B": []}
    world = World(boundary=dt.datetime.min.replace(tzinfo=dt.timezone.utc))
    jobs, clips = [], []
    clip_rows: list[tuple[int, int, str, str, str | None]] = []
    for j in range(JOBS):
        b = "A" if j < JOBS // 2 else "B"
        original, audio = f"uploads/job-{j:04d}.mp4", f"audio/job-{j:04d}.mp3"
        jobs.append((j, original, audio))
        for key in (original, audio):
            plan[b].append((key, f"{key} source".encode(), "source"))
            world.state[PREFIX + key] = job_state(j)
        if job_state(j) == "no clips":
            continue
        for c in range(5):
            key = f"clips/job-{j:04d}/clip-{c}.mp4"
            plan[b].append((key, f"{key} clip".encode() * 3, "clip"))
            status = "rendering" if job_state(j) == "unfinished" and c == 4 else "completed"
            clip_rows.append((j * 10 + c, j, key, status, None))
            if status == "completed" and j < 20:
                world.protected_clips.add(PREFIX + key)
    for i in range(200):
        plan["A" if i < 100 else "B"].append((f"artifacts/tmp-{i:04d}.json", b"{}" * (i + 1), "artifact"))
    for i in range(100):
        plan["A" if i < 50 else "B"].append((f"clips/orphan-{i:03d}.mp4", b"orphan", "orphan-clip"))
    plan["A"].append(("artifacts/keep-me.json", b"keep", "keep"))

    put_many(client, bucket, [(PREFIX + k, body) for k, body, _ in plan["A"]])
    world.boundary = next_second()
    put_many(client, bucket, [(PREFIX + k, body) for k, body, _ in plan["B"]])
    for b, entries in plan.items():
        for key, body, kind in entries:
            world.objects[PREFIX + key] = body
            world.batch[PREFIX + key] = b
            world.kind[PREFIX + key] = kind
    # completed clips of jobs 0–19 were created (by the database's clock) one day before the sweep's instant
    recent = iso(world.boundary + 4 * DAY)
    long_ago = iso(world.boundary - 30 * DAY)
    for cid, j, key, status, _ in clip_rows:
        clips.append((cid, j, key, status, recent if j < 20 else long_ago))
    write_pipeline_db(db_path, jobs, clips)
    return world


def expected_deletions(world: World, as_of: dt.datetime, retention_days: int = 5, grace_hours: int = 24) -> set[str]:
    """The model of the rules, written independently of the code under test."""
    clip_cut = as_of - dt.timedelta(days=retention_days)
    grace_cut = as_of - dt.timedelta(hours=grace_hours)
    out = set()

    def written_before(key: str, cut: dt.datetime) -> bool:
        """Batch A was written before the boundary, batch B at or (a few seconds) after it."""
        return world.batch[key] == "A" and cut >= world.boundary or cut > world.boundary

    for key, kind in world.kind.items():
        if kind == "keep":
            continue
        if kind in ("clip", "orphan-clip"):
            if key in world.protected_clips and as_of - world.boundary - 4 * DAY < dt.timedelta(days=retention_days):
                continue
            if written_before(key, clip_cut):
                out.add(key)
        elif kind == "source":
            state = world.state[key]
            if state == "finished":
                out.add(key)
            elif state == "no clips" and written_before(key, grace_cut):
                out.add(key)
        elif written_before(key, grace_cut):
            out.add(key)
    return out


@pytest.fixture
def world(s3_env, bucket, catalog, tmp_path):
    client = fast_client(s3_env)
    db = tmp_path / "pipeline.db"
    built = build_world(client, bucket, db)
    add_remote(catalog, "cube", bucket, prefix="cube", endpoint_url=s3_env.endpoint_url, region=s3_env.region,
               pipeline_db=db)
    return built, client


@pytest.mark.slow
def test_dry_run_then_run_with_as_of(world, cli, catalog, bucket):
    data, client = world
    before = listing(client, bucket)
    assert len(before) == len(data.objects) == 1681
    total = len(data.objects)
    code, out = cli("sweep", "--remote", "cube", "--protect", "artifacts/keep-me.json", "--as-of",
                    iso(data.boundary + 5 * DAY))
    assert code == 0, out
    expected = expected_deletions(data, data.boundary + 5 * DAY)
    # sanity of the model: every kind of verdict occurs
    assert 0 < len(expected) < len(data.objects)
    plan_id = out["plan_id"]
    items = list(iter_items(catalog, plan_id))
    assert {i.target for i in items} == expected
    assert out["dry_run"] is True and out["success"] is True
    assert out["deleted_count"] == len(expected)
    assert out["total_files_scanned"] == total
    assert out["retained_count"] == total - len(expected)
    nbytes = sum(len(data.objects[k]) for k in expected)
    assert out["deleted_size_mb"] == round(nbytes / 1_000_000, 2)
    assert out["retention_days"] == 5
    assert out["deleted_files_sample"] == sorted(expected)[:10]
    kept_clips = sum(1 for k in data.objects if k not in expected and data.kind[k] in ("clip", "orphan-clip"))
    assert out["message"] == (f"Would delete {len(expected)} files ({nbytes / 1_000_000:.2f} MB), retained "
                              f"{total - len(expected)} objects ({kept_clips} recent clips)")
    assert out["errors"] == []
    # nothing changed in the bucket
    assert listing(client, bucket) == before

    # every kept object has its reason; protected clips and the user's mark are 'protected'
    kept = {k.target: k for k in iter_kept(catalog, plan_id)}
    assert set(kept) == set(data.objects) - expected
    assert {k for k, v in kept.items() if v.reason.value == "protected"} == data.protected_clips | {
        "cube/artifacts/keep-me.json"}
    assert kept["cube/artifacts/keep-me.json"].detail == "protected in the catalog: marked by the user"
    unfinished = {k for k, s in data.state.items() if s == "unfinished"}
    assert {k for k, v in kept.items() if v.reason.value == "belongs to an unfinished job"} == unfinished
    assert out["kept_by_reason"] == {
        "protected": len(data.protected_clips) + 1,
        "belongs to an unfinished job": len(unfinished),
        "newer than the retention period": total - len(expected) - len(data.protected_clips) - 1 - len(unfinished),
    }
    # F5: the sources of finished jobs are their own group
    f5 = {k for k, s in data.state.items() if s == "finished"}
    assert {i.target for i in items if i.group == "job sources"} == f5
    assert out["job_sources_f5"] == len(f5)
    groups = {g["group"]: g["count"] for g in out["groups"]["delete"]}
    assert groups == {
        "job sources": len(f5),
        "clips/ · older than 5 days": sum(1 for k in expected if data.kind[k] in ("clip", "orphan-clip")),
        "artifacts/ · temporary, older than 24 h": 200,
        "uploads/ · temporary, older than 24 h": JOBS // 4,
        "audio/ · temporary, older than 24 h": JOBS // 4,
    }
    # fingerprints are the listing's ETag, LastModified and size
    first = items[0]
    assert set(first.fingerprint) == {"etag", "last_modified", "size"}
    assert first.fingerprint["etag"] == before[first.target]
    assert first.size == len(data.objects[first.target])

    # the same bucket one day after the boundary: only the grace period has passed for batch A
    code, grace = cli("sweep", "--remote", "cube", "--as-of", iso(data.boundary + DAY))
    assert code == 0
    grace_expected = expected_deletions(data, data.boundary + DAY)
    assert {i.target for i in iter_items(catalog, grace["plan_id"])} == grace_expected
    assert not any(data.kind[k] in ("clip", "orphan-clip") for k in grace_expected)
    assert {k for k in grace_expected if data.kind[k] == "artifact"} == {
        k for k in data.objects if data.kind[k] == "artifact" and data.batch[k] == "A"}

    # run exactly the first plan
    code, ran = cli("sweep", "--plan", plan_id, "--yes", "--scheduled")
    assert code == 0, ran
    assert ran["dry_run"] is False and ran["success"] is True and ran["status"] == "complete"
    assert ran["deleted_count"] == len(expected) and ran["freed_bytes"] == nbytes
    assert ran["message"].startswith(f"Deleted {len(expected)} files ({nbytes / 1_000_000:.2f} MB), retained")
    after = listing(client, bucket)
    assert set(after) == set(data.objects) - expected
    assert data.protected_clips <= set(after) and "cube/artifacts/keep-me.json" in after
    run = list_runs(catalog, 1)[0]
    assert (run["kind"], run["started_by"], run["status"], run["deleted_count"]) == (
        "sweep", "schedule", "complete", len(expected))
    outcomes = {r["outcome"] for r in run_items(catalog, run["id"])}
    assert outcomes == {"deleted"}
    # a stored plan runs once
    code, again = cli("sweep", "--plan", plan_id, "--yes")
    assert code == 3 and "already been run" in again["error"]


def test_bucket_usage_by_prefix_and_age(s3_env, bucket, catalog):
    client = fast_client(s3_env)
    put_many(client, bucket, [("cube/clips/a.mp4", b"a" * 10), ("cube/clips/b.mp4", b"b" * 20),
                              ("cube/uploads/x.mp4", b"x" * 300), ("cube/top.json", b"{}"), ("other/z", b"z")])
    boundary = next_second()
    put_many(client, bucket, [("cube/clips/c.mp4", b"c" * 4000)])
    add_remote(catalog, "cube", bucket, prefix="cube", endpoint_url=s3_env.endpoint_url)
    usage = bucket_usage(catalog, "cube", as_of=boundary + 3 * DAY)
    assert usage == {"": {"1–5 days": 2}, "clips/": {"1–5 days": 4030}, "uploads/": {"1–5 days": 300}}
    assert bucket_usage(catalog, "cube", refresh=False) == usage
    # a sweep preview stores the picture too, measured at its own instant
    plan_sweep(catalog, "cube", as_of=boundary + 40 * DAY)
    assert bucket_usage(catalog, "cube", refresh=False) == {
        "": {"over 30 days": 2}, "clips/": {"over 30 days": 4030}, "uploads/": {"over 30 days": 300}}
    usage = bucket_usage(catalog, "cube", as_of=boundary + 12 * dt.timedelta(hours=1))
    assert usage["clips/"] == {"under 1 day": 4030}


def test_sweep_without_pipeline_database_follows_ages_only(s3_env, bucket, catalog, cli):
    client = fast_client(s3_env)
    put_many(client, bucket, [("clips/a.mp4", b"a"), ("uploads/a.mp4", b"b"), ("audio/a.mp3", b"c")])
    boundary = next_second()
    put_many(client, bucket, [("clips/b.mp4", b"d")])
    cli("remote", "add", "plain", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("sweep", "--remote", "plain", "--as-of", iso(boundary + 5 * DAY))
    assert code == 0
    assert sorted(i.target for i in iter_items(catalog, out["plan_id"])) == ["audio/a.mp3", "clips/a.mp4",
                                                                              "uploads/a.mp4"]
    code, out = cli("sweep", "--remote", "plain", "--retention-days", "10", "--grace-hours", "200",
                    "--as-of", iso(boundary + 5 * DAY))
    assert out["deleted_count"] == 0 and out["retention_days"] == 10
    assert out["message"] == "Would delete 0 files (0.00 MB), retained 4 objects (2 recent clips)"


def test_uploaded_final_outputs_are_protected(s3_env, bucket, catalog, tmp_path):
    """A key the catalog uploaded from a final output (an artifact with role final) is never swept."""
    from mediaclean_gui.core.catalog import iso as now_iso, to_db_path

    client = fast_client(s3_env)
    put_many(client, bucket, [("renders/final.mp4", b"final"), ("renders/other.mp4", b"other")])
    boundary = next_second()
    remote = add_remote(catalog, "r", bucket, endpoint_url=s3_env.endpoint_url)
    final = tmp_path / "ws" / "final.mp4"
    with catalog.transaction() as conn:
        pid = conn.execute("INSERT INTO projects(name, root, profile, created_at) VALUES ('p', ?, "
                           "'ai-video-generator', ?)", (to_db_path(tmp_path / "ws"), now_iso())).lastrowid
        conn.execute("INSERT INTO artifacts(project_id, path, role, source) VALUES (?, ?, 'final', 'import')",
                     (pid, to_db_path(final)))
        conn.execute("INSERT INTO uploads(remote_id, project_id, path, key, size, mtime_ns, status, created_at, "
                     "updated_at) VALUES (?, ?, ?, 'renders/final.mp4', 5, 0, 'deleted_local', ?, ?)",
                     (remote.id, pid, to_db_path(final), now_iso(), now_iso()))
    plan_id = plan_sweep(catalog, "r", as_of=boundary + 10 * DAY)
    assert [i.target for i in iter_items(catalog, plan_id)] == ["renders/other.mp4"]
    (kept,) = iter_kept(catalog, plan_id)
    assert kept.target == "renders/final.mp4" and kept.reason.value == "protected"
    assert kept.detail == f"protected in the catalog: uploaded final output ({final})"


def test_broken_pipeline_database_is_a_clear_error(s3_env, bucket, catalog, cli, tmp_path):
    import sqlite3

    db = tmp_path / "p.db"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE jobs(id INTEGER, original_key TEXT, audio_key TEXT);"
                       "CREATE TABLE clips(id INTEGER, job_id INTEGER, s3_key TEXT, created_at TEXT);")
    conn.close()
    cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url, "--pipeline-db", str(db))
    code, out = cli("sweep", "--remote", "r")
    assert code == 2
    assert out["error"] == f"The database {db}: table 'clips' has no column 'status'."
    # no plan was left behind
    assert catalog.conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
