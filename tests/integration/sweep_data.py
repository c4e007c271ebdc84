"""Buckets and pipeline databases in the seed 004 shape for the sweep and lifecycle tests (and the benchmark)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

UTC = dt.timezone.utc


def fast_client(server: Any, threads: int = 16) -> Any:
    """A client of the test server with a connection pool big enough for ``threads`` uploads at once."""
    from botocore.config import Config

    return server.client(config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                       retries={"mode": "standard", "max_attempts": 5},
                                       max_pool_connections=threads))


def put_many(client: Any, bucket: str, objects: Iterable[tuple[str, bytes]], threads: int = 16) -> None:
    """Upload ``(key, body)`` pairs with a thread pool (SeaweedFS takes a few hundred small PUTs a second)."""

    def put(pair: tuple[str, bytes]) -> None:
        client.put_object(Bucket=bucket, Key=pair[0], Body=pair[1])

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(put, list(objects)):
            pass


def next_second() -> dt.datetime:
    """Sleep past the next whole second of the clock and return that second (UTC).

    LastModified has one-second resolution: objects written before this call
    are stamped strictly before the returned instant, objects written after it
    at or after it.
    """
    now = time.time()
    boundary = int(now) + 1
    time.sleep(boundary - now + 0.05)
    return dt.datetime.fromtimestamp(boundary, UTC)


def listing(client: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    """``{key: ETag}`` of every object under ``prefix``."""
    out: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.update({o["Key"]: o["ETag"] for o in page.get("Contents", ())})
    return out


def write_pipeline_db(path: Path, jobs: list[tuple[int, str | None, str | None]],
                      clips: list[tuple[int, int, str, str, str]]) -> Path:
    """A seed 004 pipeline database: ``jobs(id, original_key, audio_key)``,
    ``clips(id, job_id, s3_key, status, created_at)`` (plus columns the link must ignore)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE jobs(id INTEGER PRIMARY KEY, original_key TEXT, audio_key TEXT, user_id INTEGER);
        CREATE TABLE clips(id INTEGER PRIMARY KEY, job_id INTEGER REFERENCES jobs(id), s3_key TEXT, status TEXT,
                           created_at TEXT, duration REAL);
        """
    )
    conn.executemany("INSERT INTO jobs(id, original_key, audio_key) VALUES (?,?,?)", jobs)
    conn.executemany("INSERT INTO clips(id, job_id, s3_key, status, created_at) VALUES (?,?,?,?,?)", clips)
    conn.commit()
    conn.close()
    return path


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
