"""The pipeline database linked to a remote (seed 004 shape, F5): jobs, clips and their object keys, read-only."""

from __future__ import annotations

import datetime as dt
import enum
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..importdb import check_shape, open_readonly
from ..profiles import Profile

CHUNK = 500  # keys per IN (...) query


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _shown(value: object) -> str:
    """A stored value as the user reads it in a reason: ``'xyz'``, ``NULL``."""
    return "NULL" if value is None else repr(value) if not isinstance(value, str) else f"'{value}'"


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
    raw_created_at: str = ""  # the value as stored, for the reason shown when it cannot be read


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_created_at(value: object) -> dt.datetime | None:
    """A ``created_at`` value in any form pipelines write, as UTC (SPEC F5), or ``None`` when it cannot be read:

    * ISO-8601 with ``Z`` or an offset (``2026-11-20T10:00:00Z``, ``…+02:00``, ``…+0200``);
    * Django/SQLite text ``YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]``, UTC when it has no offset;
    * epoch seconds as an integer, a float, or either as text (``1795168800``, ``"1795168800.5"``).

    A caller must never treat ``None`` as "old": a date that cannot be read keeps the clip (invariant 15).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return _from_epoch(float(text))
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def _from_epoch(seconds: float) -> dt.datetime | None:
    if seconds != seconds or seconds < 0:  # NaN, or before 1970: not a completion date
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_sql(column: str) -> str:
    """A key column as text without a leading slash (the listing's relative keys have none)."""
    return f"ltrim(CAST({column} AS TEXT), '/')"


class PipelineLink:
    """A read-only connection to a pipeline database with the names of its layout.

    A sweep asks it once per listed page (:meth:`clips_for`, :meth:`sources_for`):
    the completed clips and the job sources are first copied, keyed by object key,
    into TEMP tables with an index on this connection (the database itself is never
    written; SQLite keeps TEMP tables in a temporary file, so memory stays flat),
    then each page is one ``IN (...)`` query. Nothing depends on the order a store
    lists keys in — SeaweedFS lists a folder ``X/…`` before ``X-…``, ``X.…`` and
    ``X …`` (invariant 15).

    Raises :class:`ConfigError` when the file is missing, not SQLite, or lacks
    a table or column (the message names it).
    """

    def __init__(self, db_file: str | os.PathLike[str], names: PipelineNames | None = None) -> None:
        self.source = os.fspath(db_file)
        self.names = names or PipelineNames()
        self.conn = open_readonly(db_file)
        self._indexed = False
        try:
            check_shape(self.conn, self.names.required(), self.source)
        except BaseException:
            self.conn.close()
            raise

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
        """Every job's original and audio key with the job's state, by key (empty keys left out)."""
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
        """Every clip whose status is the completed status, by key (empty keys left out)."""
        n = self.names
        sql = (
            f"SELECT * FROM (SELECT {_key_sql(_ident(n.clip_key))} AS key, CAST({_ident(n.clip_id)} AS TEXT) AS id, "
            f"CAST({_ident(n.clip_job_id)} AS TEXT) AS job_id, {_ident(n.clip_created_at)} AS created_at "
            f"FROM {_ident(n.clips_table)} WHERE CAST({_ident(n.clip_status)} AS TEXT) = ? "
            f"AND {_ident(n.clip_key)} IS NOT NULL) WHERE key != '' ORDER BY key"
        )
        for row in self.conn.execute(sql, (n.completed_status,)):
            yield ClipRef(row["key"], row["id"], row["job_id"], parse_created_at(row["created_at"]),
                          _shown(row["created_at"]))

    def _index(self) -> None:
        """Copy completed clips and job sources, keyed by object key, into indexed TEMP tables (once)."""
        if self._indexed:
            return
        conn = self.conn
        conn.execute("PRAGMA temp_store = FILE")
        conn.execute("CREATE TEMP TABLE mc_clips(key TEXT NOT NULL, id TEXT, job_id TEXT, created_at)")
        conn.execute("CREATE TEMP TABLE mc_sources(key TEXT NOT NULL, kind TEXT, job_id TEXT, total INTEGER, "
                     "completed INTEGER)")
        n = self.names
        conn.execute(
            f"INSERT INTO temp.mc_clips SELECT * FROM (SELECT {_key_sql(_ident(n.clip_key))} AS key, "
            f"CAST({_ident(n.clip_id)} AS TEXT), CAST({_ident(n.clip_job_id)} AS TEXT), {_ident(n.clip_created_at)} "
            f"FROM main.{_ident(n.clips_table)} WHERE CAST({_ident(n.clip_status)} AS TEXT) = ? "
            f"AND {_ident(n.clip_key)} IS NOT NULL) WHERE key != ''", (n.completed_status,))
        parts = []
        for kind, column in (("original", n.job_original_key), ("audio", n.job_audio_key)):
            parts.append(
                f"SELECT {_key_sql('j.' + _ident(column))} AS key, '{kind}' AS kind, "
                f"CAST(j.{_ident(n.job_id)} AS TEXT) AS job_id, ifnull(s.total, 0), ifnull(s.completed, 0) "
                f"FROM main.{_ident(n.jobs_table)} AS j LEFT JOIN states AS s ON s.job_id = j.{_ident(n.job_id)} "
                f"WHERE j.{_ident(column)} IS NOT NULL")
        conn.execute(f"INSERT INTO temp.mc_sources WITH states AS ({self._job_states_sql()}) "
                     f"SELECT * FROM ({' UNION ALL '.join(parts)}) WHERE key != ''", {"done": n.completed_status})
        conn.execute("CREATE INDEX temp.mc_clips_key ON mc_clips(key)")
        conn.execute("CREATE INDEX temp.mc_sources_key ON mc_sources(key)")
        self._indexed = True

    def clips_for(self, keys: Sequence[str]) -> dict[str, list[ClipRef]]:
        """The completed clips recorded for these keys (relative to the remote's prefix), in any order."""
        self._index()
        found: dict[str, list[ClipRef]] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT key, id, job_id, created_at FROM temp.mc_clips "
                                         f"WHERE key IN ({marks}) ORDER BY key, id", chunk):
                found.setdefault(row[0], []).append(
                    ClipRef(row[0], row[1], row[2], parse_created_at(row[3]), _shown(row[3])))
        return found

    def sources_for(self, keys: Sequence[str]) -> dict[str, list[SourceRef]]:
        """The job originals and audio recorded for these keys, with each job's state, in any order."""
        self._index()
        found: dict[str, list[SourceRef]] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT key, kind, job_id, total, completed FROM temp.mc_sources "
                                         f"WHERE key IN ({marks}) ORDER BY key, job_id", chunk):
                total, completed = int(row[3]), int(row[4])
                state = JobState.NO_CLIPS if total == 0 else JobState.FINISHED if completed == total \
                    else JobState.UNFINISHED
                found.setdefault(row[0], []).append(SourceRef(row[0], row[1], row[2], state, total, completed))
        return found

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
