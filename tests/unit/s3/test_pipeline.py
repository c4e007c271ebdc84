"""The pipeline database link (seed 004 shape, F5): job states, completed clips, name mapping, clear errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest

from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.profiles import get_profile, parse_profile
from mediaclean_gui.core.s3.pipeline import (
    JobState,
    PipelineLink,
    PipelineNames,
    open_pipeline,
    parse_created_at,
)

SEED_SCHEMA = """
CREATE TABLE jobs(id INTEGER PRIMARY KEY, original_key TEXT, audio_key TEXT, title TEXT);
CREATE TABLE clips(id INTEGER PRIMARY KEY, job_id INTEGER, s3_key TEXT, status TEXT, created_at TEXT, score REAL);
"""


def make_db(path: Path, jobs: list[tuple], clips: list[tuple], schema: str = SEED_SCHEMA) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    if jobs:
        conn.executemany("INSERT INTO jobs(id, original_key, audio_key) VALUES (?,?,?)", jobs)
    if clips:
        conn.executemany("INSERT INTO clips(id, job_id, s3_key, status, created_at) VALUES (?,?,?,?,?)", clips)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def seed_db(tmp_path: Path) -> Path:
    jobs = [
        (1, "uploads/b-job1.mp4", "audio/b-job1.mp3"),   # finished: 2/2 completed
        (2, "uploads/a-job2.mov", "audio/a-job2.mp3"),   # unfinished: 1/2
        (3, "/uploads/c-job3.mp4", None),                # no clips yet; key with a leading slash; no audio
        (4, "", ""),                                     # empty keys are left out
    ]
    clips = [
        (10, 1, "clips/job1-a.mp4", "completed", "2026-11-20T10:00:00Z"),
        (11, 1, "clips/job1-b.mp4", "completed", "2026-11-18 09:30:00.123456"),  # Django's SQLite format
        (20, 2, "clips/job2-a.mp4", "completed", "2026-11-19T08:00:00+01:00"),
        (21, 2, "clips/job2-b.mp4", "rendering", "2026-11-19T08:00:00Z"),
    ]
    return make_db(tmp_path / "pipeline.db", jobs, clips)


def test_sources_come_sorted_with_their_job_state(seed_db: Path):
    with PipelineLink(seed_db) as link:
        sources = list(link.iter_sources())
    assert [(s.key, s.kind, s.job_id, s.state) for s in sources] == [
        ("audio/a-job2.mp3", "audio", "2", JobState.UNFINISHED),
        ("audio/b-job1.mp3", "audio", "1", JobState.FINISHED),
        ("uploads/a-job2.mov", "original", "2", JobState.UNFINISHED),
        ("uploads/b-job1.mp4", "original", "1", JobState.FINISHED),
        ("uploads/c-job3.mp4", "original", "3", JobState.NO_CLIPS),
    ]
    finished = sources[1]
    assert (finished.clips_total, finished.clips_completed) == (2, 2)
    assert sources[0].describe() == "audio of job 2 (1/2 clips completed)"


def test_completed_clips_sorted_with_utc_created_at(seed_db: Path):
    with PipelineLink(seed_db) as link:
        clips = list(link.iter_completed_clips())
        counts = link.job_counts()
    utc = dt.timezone.utc
    assert [(c.key, c.clip_id, c.job_id, c.created_at) for c in clips] == [
        ("clips/job1-a.mp4", "10", "1", dt.datetime(2026, 11, 20, 10, 0, tzinfo=utc)),
        ("clips/job1-b.mp4", "11", "1", dt.datetime(2026, 11, 18, 9, 30, 0, 123456, tzinfo=utc)),
        ("clips/job2-a.mp4", "20", "2", dt.datetime(2026, 11, 19, 7, 0, tzinfo=utc)),
    ]
    assert counts == {"jobs": 4, "finished": 1, "unfinished": 1, "no clips": 2}


def test_the_database_is_opened_read_only(seed_db: Path):
    before = hashlib.sha256(seed_db.read_bytes()).hexdigest()
    with PipelineLink(seed_db) as link:
        list(link.iter_sources())
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            link.conn.execute("DELETE FROM clips")
    assert hashlib.sha256(seed_db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in seed_db.parent.iterdir()) == ["pipeline.db"]


def test_missing_column_and_table_are_named(tmp_path: Path):
    no_status = make_db(tmp_path / "a.db", [], [], schema=SEED_SCHEMA.replace(" status TEXT,", ""))
    with pytest.raises(ConfigError, match="table 'clips' has no column 'status'"):
        PipelineLink(no_status)
    conn = sqlite3.connect(tmp_path / "b.db")
    conn.execute("CREATE TABLE jobs(id INTEGER, original_key TEXT, audio_key TEXT)")
    conn.close()
    with pytest.raises(ConfigError, match="has no table 'clips'"):
        PipelineLink(tmp_path / "b.db")
    with pytest.raises(ConfigError, match="does not exist"):
        PipelineLink(tmp_path / "missing.db")
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a readable SQLite database"):
        PipelineLink(tmp_path / "junk.db")


DJANGO_PROFILE = """
name = "django-clips"
[[artifact]]
pattern = "clips/**"
role = "output"
[[artifact]]
pattern = "**"
role = "source"
[pipeline]
jobs_table = "viral_clips_job"
job_id = "id"
job_original_key = "media_file"
job_audio_key = "audio_file"
clips_table = "viral_clips_clippedvideo"
clip_id = "id"
clip_job_id = "job_id"
clip_key = "video_file"
clip_status = "status"
clip_created_at = "created_at"
completed_status = "done"
"""


def test_layout_profile_maps_a_django_schema(tmp_path: Path):
    import tomllib

    profile = parse_profile(tomllib.loads(DJANGO_PROFILE), "test")
    db = tmp_path / "django.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE viral_clips_job(id CHAR(32) PRIMARY KEY, media_file VARCHAR(100), audio_file VARCHAR(100));
        CREATE TABLE viral_clips_clippedvideo(id INTEGER PRIMARY KEY, job_id CHAR(32), video_file VARCHAR(100),
                                             status VARCHAR(20), created_at DATETIME);
        INSERT INTO viral_clips_job VALUES ('9f1c', 'uploads/talk.mp4', 'audio/talk.mp3');
        INSERT INTO viral_clips_clippedvideo VALUES (1, '9f1c', 'clips/talk-1.mp4', 'done', '2026-11-20 10:00:00');
        INSERT INTO viral_clips_clippedvideo VALUES (2, '9f1c', 'clips/talk-2.mp4', 'done', '2026-11-20 11:00:00');
        """
    )
    conn.commit()
    conn.close()
    with open_pipeline(db, profile) as link:
        assert [(s.key, s.state) for s in link.iter_sources()] == [
            ("audio/talk.mp3", JobState.FINISHED), ("uploads/talk.mp4", JobState.FINISHED)]
        assert [c.key for c in link.iter_completed_clips()] == ["clips/talk-1.mp4", "clips/talk-2.mp4"]
    # the seed names do not fit this database, and the error says which table is missing
    with pytest.raises(ConfigError, match="has no table 'jobs'"):
        open_pipeline(db, get_profile("clips-bucket"))


def test_unknown_pipeline_key_in_a_profile_is_refused():
    import tomllib

    data = tomllib.loads(DJANGO_PROFILE.replace('job_id = "id"', 'job_idd = "id"'))
    with pytest.raises(ConfigError, match=r"\[pipeline\] has unknown key\(s\) job_idd"):
        PipelineNames.from_profile(parse_profile(data, "test"))


def test_clips_bucket_profile_gives_the_seed_names():
    assert PipelineNames.from_profile(get_profile("clips-bucket")) == PipelineNames()


TEN = dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("2026-11-20T10:00:00Z", TEN),
    ("2026-11-20T10:00:00z", TEN),
    ("2026-11-20T12:00:00+02:00", TEN),
    ("2026-11-20T05:00:00-0500", TEN),
    ("2026-11-20 12:00:00+02:00", TEN),
    ("2026-11-20 10:00:00", TEN),                                      # Django/SQLite text, no offset: UTC
    ("2026-11-20 10:00:00.250000", TEN + dt.timedelta(milliseconds=250)),
    ("2026-11-20 11:00:00.5+01:00", TEN + dt.timedelta(milliseconds=500)),
    (1795168800, TEN),                                                 # epoch seconds, integer
    (1795168800.75, TEN + dt.timedelta(milliseconds=750)),             # and float
    ("1795168800", TEN),                                               # and as text
    (" 1795168800.5 ", TEN + dt.timedelta(milliseconds=500)),
    (b"2026-11-20T10:00:00Z", TEN),
    ("yesterday", None),
    ("", None),
    ("2026-13-40 99:00:00", None),
    ("1795168800000000", None),                                        # far beyond any calendar
    (-5, None),
    (float("nan"), None),
    (True, None),
    (None, None),
])
def test_created_at_forms(value, expected):
    assert parse_created_at(value) == expected


def test_page_lookups_do_not_depend_on_the_listing_order(tmp_path: Path):
    """SeaweedFS lists a folder before names that sort between it and its keys; look-ups per page take keys
    in any order, and several rows for one key all come back."""
    keys = ["clips/job42/a.mp4", "clips/job42-v2/b.mp4", "clips/job42.json", "clips/job42 copy.mp4"]
    db = make_db(tmp_path / "o.db", [(42, "uploads/job42.mp4", "audio/job42.mp3")],
                 [(n, 42, k, "completed", "2026-11-20T10:00:00Z") for n, k in enumerate(keys)]
                 + [(9, 42, "clips/job42.json", "completed", "1795168800")])
    seaweed_order = ["clips/job42/a.mp4", "clips/job42 copy.mp4", "clips/job42-v2/b.mp4", "clips/job42.json",
                     "uploads/job42.mp4", "clips/not-in-the-db.mp4"]
    with PipelineLink(db) as link:
        clips = link.clips_for(seaweed_order)
        sources = link.sources_for(list(reversed(seaweed_order)))
    assert set(clips) == set(keys)
    assert [c.clip_id for c in clips["clips/job42.json"]] == ["2", "9"]
    assert {k: [s.kind for s in v] for k, v in sources.items()} == {"uploads/job42.mp4": ["original"]}
    assert sources["uploads/job42.mp4"][0].state is JobState.FINISHED


def test_many_keys_per_page_are_asked_in_chunks(tmp_path: Path):
    keys = [f"clips/c{n:05d}.mp4" for n in range(1500)]
    db = make_db(tmp_path / "m.db", [], [(n, 1, k, "completed", "2026-11-20 10:00:00") for n, k in enumerate(keys)])
    with PipelineLink(db) as link:
        found = link.clips_for(list(reversed(keys)) + ["clips/none.mp4"])
    assert len(found) == 1500 and found[keys[7]][0].created_at == dt.datetime(2026, 11, 20, 10,
                                                                              tzinfo=dt.timezone.utc)


def test_sqlite_key_order_is_the_s3_listing_order(tmp_path: Path):
    """S3 lists keys in UTF-8 byte order; the link relies on SQLite sorting them the same way."""
    keys = ["clips/Zeta.mp4", "clips/alpha.mp4", "clips/é.mp4", "clips/z.mp4", "clips/ü/1.mp4", "clips/日本.mp4",
            "clips/a b.mp4", "clips/a-b.mp4", "clips/a/b.mp4", "clips/\U0001f3ac.mp4", "clips/\uff5e.mp4"]
    db = make_db(tmp_path / "o.db", [], [(n, 1, k, "completed", "2026-11-20T10:00:00Z") for n, k in enumerate(keys)])
    with PipelineLink(db) as link:
        got = [c.key for c in link.iter_completed_clips()]
    assert got == sorted(keys, key=lambda k: k.encode("utf-8"))
