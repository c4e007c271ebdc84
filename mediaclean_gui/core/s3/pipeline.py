"""The pipeline database linked to a remote (seed 004 shape, F5): jobs, clips and their object keys, read-only."""

from __future__ import annotations

import datetime as dt
import enum
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..catalog import parse_iso
from ..errors import ConfigError
from ..importdb import check_shape, open_readonly
from ..profiles import Profile

T = TypeVar("T")


@dataclass(frozen=True)
class PipelineNames:
    """Table and column names of a pipeline database (seed 004 defaults).

    A layout profile's ``[pipeline]`` table maps them to another schema, e.g. a
    Django app's ``viral_clips_job`` / ``viral_clips_clippedvideo``.
    """

    jobs_table: str = "jobs"
    job_id: str = "id"
    job_original_key: str = "original_key"
    job_audio_key: str = "audio_key"
    clips_table: str = "clips"
    clip_id: str = "id"
    clip_job_id: str = "job_id"
    clip_key: str = "s3_key"
    clip_status: str = "status"
    clip_created_at: str = "created_at"
    completed_status: str = "completed"

    @classmethod
    def from_profile(cls, profile: Profile) -> "PipelineNames":
        """The names from ``profile.pipeline``; unknown keys are a :class:`ConfigError`."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(profile.pipeline) - known)
        if unknown:
            raise ConfigError(
                f"Profile {profile.source}: [pipeline] has unknown key(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})."
            )
        return cls(**profile.pipeline)

    def required(self) -> dict[str, tuple[str, ...]]:
        """``{table: columns}`` the link needs, for :func:`importdb.check_shape`."""
        return {
            self.jobs_table: (self.job_id, self.job_original_key, self.job_audio_key),
            self.clips_table: (self.clip_id, self.clip_job_id, self.clip_key, self.clip_status, self.clip_created_at),
        }


class JobState(str, enum.Enum):
    """A job's state as its clips tell it (seed 004 stage 4)."""

    FINISHED = "finished"      # at least one clip, every clip completed: F5 deletes its sources
    UNFINISHED = "unfinished"  # some clip not completed: its sources are kept
    NO_CLIPS = "no clips"      # no clip yet: its sources follow the grace period


@dataclass(frozen=True)
class SourceRef:
    """An original upload or extracted audio of a job. ``key`` is relative to the remote's prefix."""

    key: str
    kind: str  # "original" or "audio"
    job_id: str
    state: JobState
    clips_total: int
    clips_completed: int

    def describe(self) -> str:
        """``original of job 42 (3/3 clips completed)``."""
        return f"{self.kind} of job {self.job_id} ({self.clips_completed}/{self.clips_total} clips completed)"


@dataclass(frozen=True)
class ClipRef:
    """A completed clip. ``key`` relative to the remote's prefix; ``created_at`` UTC or ``None`` if unreadable."""

    key: str
    clip_id: str
    job_id: str
    created_at: dt.datetime | None


def parse_created_at(value: object) -> dt.datetime | None:
    """A ``created_at`` value as UTC: ISO-8601 text (``T`` or space, naive = UTC, as Django stores it)
    or a number of seconds since the epoch; ``None`` when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return parse_iso(str(value))
    except ValueError:
        return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_sql(column: str) -> str:
    """A key column as text without a leading slash (the listing's relative keys have none)."""
    return f"ltrim(CAST({column} AS TEXT), '/')"


class PipelineLink:
    """A read-only connection to a pipeline database with the names of its layout.

    Every query streams rows **sorted by object key** (SQLite's BINARY order on
    UTF-8 text is the byte order S3 lists keys in), so a sweep can merge them
    with the bucket listing without holding the database in memory.

    Raises :class:`ConfigError` when the file is missing, not SQLite, or lacks
    a table or column (the message names it).
    """

    def __init__(self, db_file: str | os.PathLike[str], names: PipelineNames | None = None) -> None:
        self.source = os.fspath(db_file)
        self.names = names or PipelineNames()
        self.conn = open_readonly(db_file)
        try:
            check_shape(self.conn, self.names.required(), self.source)
            encoding = self.conn.execute("PRAGMA encoding").fetchone()[0]
        except BaseException:
            self.conn.close()
            raise
        if encoding != "UTF-8":
            self.conn.close()
            raise ConfigError(
                f"The pipeline database {self.source} is stored as {encoding}; mediaclean reads UTF-8 databases "
                f"(the sort order of object keys depends on it)."
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "PipelineLink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _job_states_sql(self) -> str:
        n = self.names
        return (
            f"SELECT {_ident(n.clip_job_id)} AS job_id, count(*) AS total, "
            f"sum(CAST({_ident(n.clip_status)} AS TEXT) = :done) AS completed "
            f"FROM {_ident(n.clips_table)} GROUP BY {_ident(n.clip_job_id)}"
        )

    def iter_sources(self) -> Iterator[SourceRef]:
        """Every job's original and audio key with the job's state, sorted by key (empty keys left out)."""
        n = self.names
        jobs = _ident(n.jobs_table)
        parts = []
        for kind, column in (("original", n.job_original_key), ("audio", n.job_audio_key)):
            parts.append(
                f"SELECT {_key_sql('j.' + _ident(column))} AS key, '{kind}' AS kind, "
                f"CAST(j.{_ident(n.job_id)} AS TEXT) AS job_id, "
                f"ifnull(s.total, 0) AS total, ifnull(s.completed, 0) AS completed "
                f"FROM {jobs} AS j LEFT JOIN states AS s ON s.job_id = j.{_ident(n.job_id)} "
                f"WHERE j.{_ident(column)} IS NOT NULL"
            )
        sql = (
            f"WITH states AS ({self._job_states_sql()}) "
            f"SELECT * FROM ({' UNION ALL '.join(parts)}) WHERE key != '' ORDER BY key, job_id"
        )
        for row in self.conn.execute(sql, {"done": n.completed_status}):
            total, completed = int(row["total"]), int(row["completed"])
            if total == 0:
                state = JobState.NO_CLIPS
            elif completed == total:
                state = JobState.FINISHED
            else:
                state = JobState.UNFINISHED
            yield SourceRef(row["key"], row["kind"], row["job_id"], state, total, completed)

    def iter_completed_clips(self) -> Iterator[ClipRef]:
        """Every clip whose status is the completed status, sorted by key (empty keys left out)."""
        n = self.names
        sql = (
            f"SELECT * FROM (SELECT {_key_sql(_ident(n.clip_key))} AS key, CAST({_ident(n.clip_id)} AS TEXT) AS id, "
            f"CAST({_ident(n.clip_job_id)} AS TEXT) AS job_id, {_ident(n.clip_created_at)} AS created_at "
            f"FROM {_ident(n.clips_table)} WHERE CAST({_ident(n.clip_status)} AS TEXT) = ? "
            f"AND {_ident(n.clip_key)} IS NOT NULL) WHERE key != '' ORDER BY key"
        )
        for row in self.conn.execute(sql, (n.completed_status,)):
            yield ClipRef(row["key"], row["id"], row["job_id"], parse_created_at(row["created_at"]))

    def job_counts(self) -> dict[str, int]:
        """``{"jobs": n, "finished": n, "unfinished": n, "no clips": n}``."""
        n = self.names
        sql = (
            f"WITH states AS ({self._job_states_sql()}) SELECT count(*) AS jobs, "
            f"sum(ifnull(s.total, 0) > 0 AND s.completed = s.total) AS finished, "
            f"sum(ifnull(s.total, 0) > s.completed) AS unfinished, sum(ifnull(s.total, 0) = 0) AS no_clips "
            f"FROM {_ident(n.jobs_table)} AS j LEFT JOIN states AS s ON s.job_id = j.{_ident(n.job_id)}"
        )
        row = self.conn.execute(sql, {"done": n.completed_status}).fetchone()
        return {"jobs": row["jobs"] or 0, "finished": row["finished"] or 0, "unfinished": row["unfinished"] or 0,
                "no clips": row["no_clips"] or 0}


def open_pipeline(db_file: str | os.PathLike[str], profile: Profile) -> PipelineLink:
    """Open ``db_file`` read-only with the names of ``profile``'s ``[pipeline]`` table."""
    try:
        return PipelineLink(db_file, PipelineNames.from_profile(profile))
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"The pipeline database {db_file} cannot be read ({exc}).") from None


class SortedLookup(Generic[T]):
    """Merge-join a stream of ``(key, value)`` sorted by key with ascending look-ups.

    ``get(key)`` returns every value stored under ``key``; keys must be asked
    in ascending order (the order S3 lists them in). Memory stays constant:
    entries before the asked key are dropped as the stream advances. A stream
    that goes backwards raises :class:`ConfigError` rather than silently missing
    entries.
    """

    def __init__(self, pairs: Iterable[tuple[str, T]]) -> None:
        self._it = iter(pairs)
        self._head: tuple[str, T] | None = None
        self._last_key: str | None = None
        self._last_asked: str | None = None
        self._advance()

    def _advance(self) -> None:
        try:
            head = next(self._it)
        except StopIteration:
            self._head = None
            return
        if self._last_key is not None and head[0] < self._last_key:
            raise ConfigError(
                f"The key stream is not sorted ('{head[0]}' after '{self._last_key}'); cannot match it with the "
                f"bucket listing."
            )
        self._last_key = head[0]
        self._head = head

    def get(self, key: str) -> list[T]:
        if self._last_asked is not None and key < self._last_asked:
            raise ValueError(f"look-ups must ascend: {key!r} after {self._last_asked!r}")
        self._last_asked = key
        while self._head is not None and self._head[0] < key:
            self._advance()
        found: list[T] = []
        while self._head is not None and self._head[0] == key:
            found.append(self._head[1])
            self._advance()
        return found


def empty_lookup() -> SortedLookup[T]:
    """A lookup that finds nothing (no pipeline database linked)."""
    return SortedLookup(iter(()))
