"""F5 and invariant 15 against SeaweedFS and moto: keys listed in any order (SeaweedFS lists a folder before the
names that sort between it and its keys), and clips.created_at in every form pipelines write, an unreadable one
keeping its clip. Objects are written by plain boto3 calls, the way another client (awscli, rclone) would."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sweep_data import iso, listing, next_second

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.plan import iter_items, iter_kept

pytestmark = pytest.mark.s3
DAY = dt.timedelta(days=1)
UTC = dt.timezone.utc

#: ordinary layouts whose keys SeaweedFS does not list in byte order
ODD = ["clips/job42/a.mp4", "clips/job42-v2/b.mp4", "clips/job42.json", "clips/job42 copy.mp4",
       "clips/job42/z/deep.mp4", "clips/job42_x.mp4", "clips/job4/a.mp4", "clips/job420.mp4"]


def pipeline_db(path: Path, jobs: list[tuple], clips: list[tuple]) -> Path:
    """The seed 004 shape; created_at has no declared type, so integers and floats stay what they are."""
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE jobs(id INTEGER PRIMARY KEY, original_key TEXT, audio_key TEXT);"
                       "CREATE TABLE clips(id INTEGER PRIMARY KEY, job_id INTEGER, s3_key TEXT, status TEXT, "
                       "created_at);")
    conn.executemany("INSERT INTO jobs VALUES (?,?,?)", jobs)
    conn.executemany("INSERT INTO clips VALUES (?,?,?,?,?)", clips)
    conn.commit()
    conn.close()
    return path


def plan_of(catalog_path, plan_id: int) -> tuple[set[str], dict[str, str]]:
    cat = Catalog(catalog_path)
    try:
        return ({i.target for i in iter_items(cat, plan_id)},
                {k.target: f"{k.reason.value}: {k.detail}" for k in iter_kept(cat, plan_id)})
    finally:
        cat.close()


def test_listing_order_of_the_store_does_not_matter(cli, s3_env, bucket, tmp_path, catalog_path):
    raw = s3_env.client()
    for key in ODD + ["uploads/job42.mp4", "uploads/job42-v2.mp4", "audio/job42.mp3"]:
        raw.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket, Prefix="clips/")["Contents"]]
    if s3_env.name == "seaweedfs":  # the store really lists out of byte order (what broke the merge-join)
        assert listed != sorted(listed, key=lambda k: k.encode())
    boundary = next_second()
    soon = iso(boundary + 2 * DAY)  # completed two days after the objects were written
    db = pipeline_db(tmp_path / "p.db",
                     [(42, "uploads/job42.mp4", "audio/job42.mp3"), (43, "uploads/job42-v2.mp4", None)],
                     [(1, 42, "clips/job42/a.mp4", "completed", soon),
                      (2, 42, "clips/job42.json", "completed", soon),
                      (3, 42, "/clips/job42 copy.mp4", "completed", soon),
                      (4, 43, "clips/job42-v2/b.mp4", "rendering", soon)])
    assert cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--pipeline-db", str(db))[0] == 0
    code, out = cli("sweep", "--remote", "r", "--as-of", iso(boundary + 6 * DAY))
    assert code == 0, out
    planned, kept = plan_of(catalog_path, out["plan_id"])
    protected = {"clips/job42/a.mp4", "clips/job42.json", "clips/job42 copy.mp4"}
    unfinished = {"uploads/job42-v2.mp4"}
    assert planned == set(ODD) - protected | {"uploads/job42.mp4", "audio/job42.mp3"}
    assert set(kept) == protected | unfinished
    assert all(kept[k].startswith("protected: completed clip ") for k in protected)
    assert kept["uploads/job42-v2.mp4"].startswith("belongs to an unfinished job: original of job 43")
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 0, ran
    assert ran["deleted_count"] == len(planned)
    assert set(listing(raw, bucket)) == protected | unfinished


def test_every_created_at_form_is_read_and_an_unreadable_one_keeps_its_clip(cli, s3_env, bucket, tmp_path,
                                                                              catalog_path):
    raw = s3_env.client()
    forms = {
        "iso-z": lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso-offset": lambda t: t.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat(),
        "django": lambda t: t.strftime("%Y-%m-%d %H:%M:%S"),
        "django-fraction-offset": lambda t: t.strftime("%Y-%m-%d %H:%M:%S.123456+00:00"),
        "epoch-int": lambda t: int(t.timestamp()),
        "epoch-float": lambda t: t.timestamp() + 0.5,
        "epoch-text": lambda t: str(int(t.timestamp())),
        "epoch-float-text": lambda t: f"{t.timestamp():.3f}",
    }
    keys = [f"clips/{name}.mp4" for name in forms] + [f"clips/old-{name}.mp4" for name in forms] + \
        ["clips/xyz.mp4", "clips/null.mp4", "clips/millis.mp4"]
    for key in keys:
        raw.put_object(Bucket=bucket, Key=key, Body=b"a clip " + key.encode())
    boundary = next_second()
    as_of = boundary + 10 * DAY  # every object is ten days old: only the database's dates can keep it
    recent, old = as_of - 2 * DAY, as_of - 30 * DAY
    rows = []
    for n, (name, write) in enumerate(forms.items()):
        rows.append((n, 1, f"clips/{name}.mp4", "completed", write(recent)))
        rows.append((100 + n, 1, f"clips/old-{name}.mp4", "completed", write(old)))
    rows += [(200, 1, "clips/xyz.mp4", "completed", "xyz"), (201, 1, "clips/null.mp4", "completed", None),
             (202, 1, "clips/millis.mp4", "completed", int(recent.timestamp() * 1000))]
    db = pipeline_db(tmp_path / "dates.db", [(1, None, None)], rows)
    assert cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--pipeline-db", str(db))[0] == 0
    code, out = cli("sweep", "--remote", "r", "--as-of", iso(as_of))
    assert code == 0, out
    planned, kept = plan_of(catalog_path, out["plan_id"])
    assert planned == {f"clips/old-{name}.mp4" for name in forms}  # each form read as the old date it is
    for name in forms:
        assert kept[f"clips/{name}.mp4"].startswith("protected: completed clip "), name
    millis = int(recent.timestamp() * 1000)
    assert kept["clips/xyz.mp4"] == "cannot be read: its completion date cannot be read: 'xyz' (completed clip " \
                                    "200 of job 1)"
    assert kept["clips/null.mp4"] == "cannot be read: its completion date cannot be read: NULL (completed clip " \
                                     "201 of job 1)"
    assert kept["clips/millis.mp4"] == f"cannot be read: its completion date cannot be read: {millis} " \
                                       f"(completed clip 202 of job 1)"
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 0 and ran["deleted_count"] == len(forms)
    assert set(listing(raw, bucket)) == set(keys) - planned
